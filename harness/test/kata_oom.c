/* SPDX-License-Identifier: MIT */
/*
 * Allocation-failure injection, in the manner of SQLite's out-of-memory tests: with KATA_OOM_FAIL_AT=N, the
 * Nth allocation (or descriptor) that the code under test asks for in each test fails, as it would when
 * memory or descriptors run out. Linked only into the "oom" build, whose objects for the code under test
 * and the toolbox have their calls to malloc() and friends renamed to the functions below (objcopy
 * --redefine-sym, see harness/kata.mk): the test file's own allocations, Check's and libc's never fail.
 *
 * Each injected failure says so on stderr ("kata-oom-injected: <test> <call> #N"), which is how
 * harness/tools/oom-sweep knows which tests still reach N and when to stop.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

void kata_oom_begin_test(const char *name);

static long fail_at = -1; /* -1: not read yet; 0: no injection */
static long calls;
static const char *current_test = "(no test)";

void kata_oom_begin_test(const char *name)
{
        const char *setting = getenv("KATA_OOM_FAIL_AT");

        fail_at = setting ? strtol(setting, NULL, 10) : 0;
        calls = 0;
        current_test = name;
}

static bool inject(const char *call, int error)
{
        if (fail_at <= 0 || ++calls != fail_at)
                return false;
        fprintf(stderr, "kata-oom-injected: %s %s #%ld\n", current_test, call, fail_at);
        errno = error;
        return true;
}

/* The declarations keep -Wmissing-prototypes quiet, should anyone turn it on. */
void *kata_oom_malloc(size_t size);
void *kata_oom_calloc(size_t count, size_t size);
void *kata_oom_realloc(void *old, size_t size);
void *kata_oom_reallocarray(void *old, size_t count, size_t size);
char *kata_oom_strdup(const char *text);
char *kata_oom_strndup(const char *text, size_t max);
int kata_oom_socket(int domain, int type, int protocol);
int kata_oom_accept(int fd, struct sockaddr *address, socklen_t *length);
int kata_oom_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);
int kata_oom_pipe(int fds[2]);
int kata_oom_pipe2(int fds[2], int flags);
int kata_oom_open(const char *path, int flags, ...);
FILE *kata_oom_fopen(const char *path, const char *mode);

void *kata_oom_malloc(size_t size)
{
        return inject("malloc", ENOMEM) ? NULL : malloc(size);
}

void *kata_oom_calloc(size_t count, size_t size)
{
        return inject("calloc", ENOMEM) ? NULL : calloc(count, size);
}

void *kata_oom_realloc(void *old, size_t size)
{
        return inject("realloc", ENOMEM) ? NULL : realloc(old, size);
}

void *kata_oom_reallocarray(void *old, size_t count, size_t size)
{
        return inject("reallocarray", ENOMEM) ? NULL : reallocarray(old, count, size);
}

char *kata_oom_strdup(const char *text)
{
        return inject("strdup", ENOMEM) ? NULL : strdup(text);
}

char *kata_oom_strndup(const char *text, size_t max)
{
        return inject("strndup", ENOMEM) ? NULL : strndup(text, max);
}

int kata_oom_socket(int domain, int type, int protocol)
{
        return inject("socket", EMFILE) ? -1 : socket(domain, type, protocol);
}

int kata_oom_accept(int fd, struct sockaddr *address, socklen_t *length)
{
        return inject("accept", EMFILE) ? -1 : accept(fd, address, length);
}

int kata_oom_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags)
{
        return inject("accept4", EMFILE) ? -1 : accept4(fd, address, length, flags);
}

int kata_oom_pipe(int fds[2])
{
        return inject("pipe", EMFILE) ? -1 : pipe(fds);
}

int kata_oom_pipe2(int fds[2], int flags)
{
        return inject("pipe2", EMFILE) ? -1 : pipe2(fds, flags);
}

int kata_oom_open(const char *path, int flags, ...)
{
        mode_t mode = 0;

        if (flags & (O_CREAT | O_TMPFILE)) {
                va_list ap;

                va_start(ap, flags);
                mode = (mode_t) va_arg(ap, int);
                va_end(ap);
        }
        return inject("open", EMFILE) ? -1 : open(path, flags, mode);
}

FILE *kata_oom_fopen(const char *path, const char *mode)
{
        return inject("fopen", EMFILE) ? NULL : fopen(path, mode);
}
