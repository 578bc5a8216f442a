/* SPDX-License-Identifier: MIT */
/*
 * The launcher behind 'make check' under Valgrind: it starts before the tests are built, and loads them once
 * they are. Valgrind spends about half a second starting a program (reading libc's debug information), and
 * building the kata after an edit takes a few tenths more; run one after the other, the learner waits for
 * both. harness/tools/run-tests starts this launcher under Valgrind and builds the tests as a shared library
 * at the same time, then writes one byte to the FIFO named by KATA_PREWARM_FIFO: 'g' to go on, anything else
 * (or nothing) when the build failed. Without KATA_PREWARM_FIFO it loads the library at once.
 *
 *   kata_prewarm TESTS.so
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Exit codes shared with harness/tools/run-tests (and kata_test.c's 2 for "the run means nothing"). */
enum {
        PREWARM_CANNOT_LOAD = 2,
        PREWARM_BUILD_FAILED = 3,
};

static int wait_for_build(const char *fifo)
{
        char word = 0;
        int fd = open(fifo, O_RDONLY | O_CLOEXEC);

        if (fd < 0) {
                perror(fifo);
                return -1;
        }
        if (read(fd, &word, 1) != 1)
                word = 0;
        close(fd);
        return word == 'g' ? 0 : -1;
}

int main(int argc, char **argv)
{
        const char *fifo = getenv("KATA_PREWARM_FIFO");
        int (*kata_main)(void);
        void *tests;

        if (argc != 2) {
                fprintf(stderr, "usage: %s TESTS.so\n", argv[0]);
                return PREWARM_CANNOT_LOAD;
        }
        if (fifo && *fifo && wait_for_build(fifo) < 0)
                return PREWARM_BUILD_FAILED;

        tests = dlopen(argv[1], RTLD_NOW);
        if (!tests) {
                fprintf(stderr, "Could not load the tests: %s\n", dlerror());
                return PREWARM_CANNOT_LOAD;
        }
        *(void **) &kata_main = dlsym(tests, "kata_main");
        if (!kata_main) {
                fprintf(stderr, "%s has no kata_main(): it was not built by harness/kata.mk.\n", argv[1]);
                return PREWARM_CANNOT_LOAD;
        }
        /* The library stays loaded: Valgrind's leak search at exit needs its symbols for its stacks. */
        return kata_main();
}
