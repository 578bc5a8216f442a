/* SPDX-License-Identifier: MIT */
/*
 * Mistakes that the toolbox turns into compiler warnings, one per CASE, for expect-warnings (make warnings):
 * each case must warn, with the option named in its comment, and CASE 0, the right way, must not warn.
 */
#include <stdlib.h>

#include "cleanup.h"
#include "sptr.h"

struct source {
        int id;
};

struct sink {
        long ids[4];
};

int misuse(int fd);
int misuse(int fd)
{
        struct source *source = sptr_new_of(struct source, NULL);
        char *name = malloc(8);

#if CASE == 0 /* the right way: no warning */
        source = sptr_unref(source);
        free(TAKE_PTR(name));
        return TAKE_FD(fd);
#elif CASE == 1 /* -Wmismatched-dealloc: free() on a shared object (gcc 11 and later) */
        free(source);
#elif CASE == 2 /* -Wunused-result: sptr_unref() whose result is dropped */
        sptr_unref(source);
#elif CASE == 3 /* -Wunused-result: a dropped TAKE_PTR() is a leak (gcc only) */
        TAKE_PTR(name);
#elif CASE == 4 /* -Wunused-result: a dropped TAKE_FD() is a descriptor leak */
        TAKE_FD(fd);
#elif CASE == 5 /* -Wincompatible-pointer-types: sptr_new_of() of another type than the variable's */
        struct sink *sink = sptr_new_of(struct source, NULL);
        sink = sptr_unref(sink);
#endif
        free(name);
        source = sptr_unref(source);
        return fd;
}
