/* SPDX-License-Identifier: MIT */
/*
 * The launcher behind 'make check' under Valgrind: it starts before the tests are built, and loads them once
 * they are. Valgrind spends about half a second starting a program (reading libc's debug information), and
 * building the kata after an edit takes a few tenths more; run one after the other, the learner waits for
 * both. harness/tools/run-tests starts this launcher under Valgrind and builds the tests as a shared library
 * at the same time, then writes one byte to the FIFO named by KATA_PREWARM_FIFO: 'g' to go on, anything else
 * (or nothing) when the build failed. Without KATA_PREWARM_FIFO it loads the library at once.
 * KATA_RUN_LIMIT=SECONDS: the tests must end within that time once loaded, or the run stops with 124 (as
 * timeout(1) would: a watchdog thread here instead of one more program started before Valgrind).
 *
 *   kata_prewarm TESTS.so
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Exit codes shared with harness/tools/run-tests (and kata_test.c's 2 for "the run means nothing"). */
enum {
        PREWARM_CANNOT_LOAD = 2,
        PREWARM_BUILD_FAILED = 3,
        PREWARM_TIMED_OUT = 124,
};

static unsigned run_limit;

static void *stop_at_the_limit(void *unused)
{
        char message[80];
        int length;

        (void) unused;
        /* sleep() ends early when a signal arrives: sleep again for what is left. */
        for (unsigned left = run_limit; left > 0;)
                left = sleep(left);
        length = snprintf(message, sizeof message, "The tests did not end within %u s: stopped.\n", run_limit);
        if (length > 0 && write(STDERR_FILENO, message, (size_t) length) < 0)
                length = 0;
        _exit(PREWARM_TIMED_OUT);
}

/* The run's time limit, counted from now: a thread that sleeps that long, then ends the process. Its stack
 * is the smallest there is: Valgrind's leak search, after every test, scans a thread's whole stack (8 MB by
 * default made a kata's run 2 s longer; 64 KB, 17 ms). */
static void start_watchdog(void)
{
        const char *limit = getenv("KATA_RUN_LIMIT");
        sigset_t all, before;
        pthread_attr_t attr;
        pthread_t thread;

        run_limit = limit ? (unsigned) strtoul(limit, NULL, 10) : 0;
        if (run_limit == 0 || pthread_attr_init(&attr) != 0)
                return;
        /* The thread blocks every signal (it inherits this mask): a signal the tests send to the process, to
         * interrupt a call of their own, must go to the thread that runs them. */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &before);
        if (pthread_attr_setstacksize(&attr, PTHREAD_STACK_MIN) == 0 &&
            pthread_create(&thread, &attr, stop_at_the_limit, NULL) == 0)
                pthread_detach(thread);
        pthread_sigmask(SIG_SETMASK, &before, NULL);
        pthread_attr_destroy(&attr);
}

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
        start_watchdog();

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
