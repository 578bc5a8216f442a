/* SPDX-License-Identifier: MIT */
/*
 * The runner every kata test links with: main(), and the per-test leak, memory-error and descriptor checks
 * behind KATA_TEST(). See kata_test.h for what a test sees; harness/tools/run-tests for how make runs this.
 *
 * Environment (set by harness/tools/run-tests):
 *   KATA_DETECTOR   valgrind | asan | none: which detector the run is meant to have. Under "valgrind" the
 *                   binary refuses to pass when it is not running under Valgrind, because every client
 *                   request is then a silent no-op and every leak check would pass vacuously.
 *   KATA_TAP_FILE   where Check writes its TAP log (one line per test), read by the report tools.
 *   KATA_XML_FILE   where Check writes its XML log, for a workshop's CI.
 *   CK_FORK, CK_RUN_CASE, CK_VERBOSITY, ...: Check's own variables.
 */
#include "kata_test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
/* From the sanitizer runtime; gcc ships no header that declares it. */
size_t __sanitizer_get_current_allocated_bytes(void);
#define KATA_HAVE_ASAN 1
#else
#define KATA_HAVE_ASAN 0
#endif

#ifndef KATA_NAME
#error "KATA_NAME must be defined by the build (harness/kata.mk does it)"
#endif

/* Exit codes of the test binary, read by harness/tools/run-tests. */
enum {
        KATA_EXIT_PASSED = 0,
        KATA_EXIT_FAILED = 1,       /* at least one test failed */
        KATA_EXIT_ENVIRONMENT = 2,  /* the run could not mean anything: wrong detector, no test selected */
};

static enum kata_detector detector = KATA_DETECTOR_NONE;

enum kata_detector kata_detector(void)
{
        return detector;
}

bool kata_can_measure_heap(void)
{
        return detector != KATA_DETECTOR_NONE;
}

const char *kata_format_count(unsigned long n, char *buf, size_t size)
{
        char digits[32];
        int len = snprintf(digits, sizeof digits, "%lu", n);
        size_t out = 0;

        for (int i = 0; i < len && out + 1 < size; i++) {
                if (i > 0 && (len - i) % 3 == 0 && out + 2 < size)
                        buf[out++] = ',';
                buf[out++] = digits[i];
        }
        buf[out] = '\0';
        return buf;
}

static bool fd_is_open(int fd)
{
        return fcntl(fd, F_GETFD) != -1;
}

unsigned kata_count_open_fds(void)
{
        long open_max = sysconf(_SC_OPEN_MAX);
        DIR *dir = opendir("/proc/self/fd");
        unsigned count = 0;

        if (!dir) {
                /* No /proc: probe every descriptor below the limit. */
                for (long fd = 0; fd < open_max; fd++)
                        if (fd_is_open((int) fd))
                                count++;
                return count;
        }

        for (struct dirent *entry; (entry = readdir(dir));) {
                char *end;
                long fd = strtol(entry->d_name, &end, 10);

                if (entry->d_name[0] == '.' || *end != '\0')
                        continue;
                /* Skip the directory's own descriptor, and Valgrind's, which live above the client's limit. */
                if (fd == dirfd(dir) || fd >= open_max)
                        continue;
                count++;
        }
        closedir(dir);
        return count;
}

/* What one measurement saw; the difference between two of them is what a test left behind. */
struct measure {
        unsigned fds;
        unsigned long errors;
        unsigned long leaked, dubious, reachable, suppressed;
        unsigned long leaked_blocks, dubious_blocks, reachable_blocks, suppressed_blocks;
        unsigned long allocated; /* ASan: bytes currently allocated */
};

static void count_leaks(struct measure *m)
{
        VALGRIND_COUNT_LEAKS(m->leaked, m->dubious, m->reachable, m->suppressed);
        VALGRIND_COUNT_LEAK_BLOCKS(m->leaked_blocks, m->dubious_blocks, m->reachable_blocks,
                                   m->suppressed_blocks);
}

static void measure_before(struct measure *m)
{
        *m = (struct measure){ .fds = kata_count_open_fds() };
        switch (detector) {
        case KATA_DETECTOR_VALGRIND:
                m->errors = VALGRIND_COUNT_ERRORS;
                VALGRIND_DO_QUICK_LEAK_CHECK; /* the baseline: prints nothing */
                count_leaks(m);
                break;
        case KATA_DETECTOR_ASAN:
#if KATA_HAVE_ASAN
                m->allocated = __sanitizer_get_current_allocated_bytes();
#endif
                break;
        case KATA_DETECTOR_NONE:
                break;
        }
}

static void fail_at(const char *file, int line, const char *fmt, ...) __attribute__((__format__(__printf__, 3, 4)));
static void fail_at(const char *file, int line, const char *fmt, ...)
{
        char message[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(message, sizeof message, fmt, ap);
        va_end(ap);
        /* Check's own entry point, so that the failure points at the test, not at this file. */
        _ck_assert_failed(file, line, NULL, "%s", message);
}

static void check_after(const char *name, const char *file, int line, const struct measure *before)
{
        char bytes[32], blocks[32];
        struct measure after = { .fds = kata_count_open_fds() };

        switch (detector) {
        case KATA_DETECTOR_VALGRIND: {
                after.errors = VALGRIND_COUNT_ERRORS;
                /* Memory errors first: a use after free is worse news than a leak, and the leak search
                 * below counts as errors too. */
                if (after.errors > before->errors)
                        fail_at(file, line, "%s: %lu memory error%s (invalid read, write or free)", name,
                                after.errors - before->errors, after.errors - before->errors == 1 ? "" : "s");

                /* ADDED prints only the loss records that are new since the baseline: those of this test. */
                VALGRIND_DO_ADDED_LEAK_CHECK;
                count_leaks(&after);
                unsigned long lost = after.leaked + after.dubious, lost_before = before->leaked + before->dubious;
                unsigned long lost_blocks = after.leaked_blocks + after.dubious_blocks;
                unsigned long lost_blocks_before = before->leaked_blocks + before->dubious_blocks;
                if (lost > lost_before)
                        fail_at(file, line, "%s: %s bytes in %s block%s leaked", name,
                                kata_format_count(lost - lost_before, bytes, sizeof bytes),
                                kata_format_count(lost_blocks - lost_blocks_before, blocks, sizeof blocks),
                                lost_blocks - lost_blocks_before == 1 ? "" : "s");
                break;
        }
        case KATA_DETECTOR_ASAN:
#if KATA_HAVE_ASAN
                after.allocated = __sanitizer_get_current_allocated_bytes();
                if (__lsan_do_recoverable_leak_check())
                        fail_at(file, line, "%s: %s bytes leaked", name,
                                kata_format_count(after.allocated > before->allocated ?
                                                  after.allocated - before->allocated : 0, bytes, sizeof bytes));
#endif
                break;
        case KATA_DETECTOR_NONE:
                break;
        }

        /* DETECTOR=none is behaviour only: descriptors are a leak like any other. */
        if (detector != KATA_DETECTOR_NONE && after.fds > before->fds)
                fail_at(file, line, "%s: %u file descriptor%s left open", name, after.fds - before->fds,
                        after.fds - before->fds == 1 ? "" : "s");
}

void kata_add_test(TCase *tc, const TTest *test)
{
        const char *selected = getenv("KATA_TESTS");

        if (selected && *selected) {
                size_t length = strlen(test->name);
                const char *at = selected;

                /* Is the name one of the comma-separated names? */
                while ((at = strstr(at, test->name)) &&
                       !((at == selected || at[-1] == ',') && (at[length] == ',' || at[length] == '\0')))
                        at += length;
                if (!at)
                        return;
        }
        _tcase_add_test(tc, test, 0, 0, 0, 1);
}

/* Allocation-failure injection (harness/test/kata_oom.c) restarts its count for each test; absent from
 * ordinary builds. */
void kata_oom_begin_test(const char *name) __attribute__((__weak__));

void kata_run_checked(const char *name, const char *file, int line, void (*body)(void))
{
        struct measure before;

        if (kata_oom_begin_test)
                kata_oom_begin_test(name);

        /* A marker in the detector's log, so that the report can tell which records belong to which test. */
        if (detector == KATA_DETECTOR_VALGRIND)
                VALGRIND_PRINTF("kata-test-begin: %s\n", name);
        else if (detector == KATA_DETECTOR_ASAN)
                fprintf(stderr, "kata-test-begin: %s\n", name);
        measure_before(&before);
        body();
        check_after(name, file, line, &before);
}

struct kata_heap kata_heap_snapshot(void)
{
        struct measure m = { 0 };

        switch (detector) {
        case KATA_DETECTOR_VALGRIND:
                VALGRIND_DO_QUICK_LEAK_CHECK;
                count_leaks(&m);
                return (struct kata_heap){
                        .measured = true,
                        .bytes = m.leaked + m.dubious + m.reachable,
                        .blocks = m.leaked_blocks + m.dubious_blocks + m.reachable_blocks,
                };
        case KATA_DETECTOR_ASAN:
#if KATA_HAVE_ASAN
                return (struct kata_heap){ .measured = true, .bytes = __sanitizer_get_current_allocated_bytes() };
#endif
        case KATA_DETECTOR_NONE:
                break;
        }
        return (struct kata_heap){ .measured = false };
}

void kata_assert_heap_at_baseline_at(const char *file, int line, const struct kata_heap *before, const char *fmt, ...)
{
        char what[256], held[32], base[32];
        struct kata_heap now = kata_heap_snapshot();
        va_list ap;

        if (!before->measured || !now.measured)
                return; /* DETECTOR=none: nothing to measure with */
        if (now.bytes <= before->bytes)
                return;

        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        fail_at(file, line, "%s, the heap is %s bytes above its baseline of %s", what,
                kata_format_count(now.bytes - before->bytes, held, sizeof held),
                kata_format_count(before->bytes, base, sizeof base));
}

void kata_assert_released_at(const char *file, int line, long now, long before, const char *fmt, ...)
{
        char what[256];
        va_list ap;

        if (detector == KATA_DETECTOR_NONE || now <= before)
                return;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        fail_at(file, line, "%ld %s still held (%ld live, %ld before)", now - before, what, now, before);
}

#ifdef KATA_COVERAGE
/* In a coverage build, an aborting child writes its counters first, so that the path to an abort counts as
 * reached (gcov writes them only at a normal exit). */
void __gcov_dump(void);
static void dump_coverage_then_abort(int signal_number)
{
        __gcov_dump();
        signal(signal_number, SIG_DFL);
        raise(signal_number);
}
#endif

void kata_assert_aborts_at(const char *file, int line, const char *fn_name, void (*fn)(void *), void *arg,
                           const char *expected)
{
        char output[4096] = "";
        size_t used = 0;
        int pipefd[2], status;
        pid_t pid;

        fflush(NULL);
        if (pipe(pipefd) < 0)
                fail_at(file, line, "pipe() failed: %s", strerror(errno));
        pid = fork();
        if (pid < 0)
                fail_at(file, line, "fork() failed: %s", strerror(errno));
        if (pid == 0) {
                /* No core file: with 'ulimit -c unlimited' each aborting child would leave megabytes. */
                setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
#ifdef KATA_COVERAGE
                signal(SIGABRT, dump_coverage_then_abort);
#endif
                dup2(pipefd[1], STDERR_FILENO);
                close(pipefd[0]);
                close(pipefd[1]);
                fn(arg);
                _exit(0);
        }
        close(pipefd[1]);
        for (ssize_t n; used + 1 < sizeof output && (n = read(pipefd[0], output + used, sizeof output - 1 - used)) > 0;)
                used += (size_t) n;
        output[used] = '\0';
        close(pipefd[0]);
        waitpid(pid, &status, 0);

        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
                fail_at(file, line, "%s() was expected to abort, but it %s", fn_name,
                        WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "returned");
        if (expected && !strstr(output, expected))
                fail_at(file, line, "%s() aborted, but its message \"%s\" does not contain \"%s\"", fn_name, output,
                        expected);
}

static enum kata_detector detector_from_environment(void)
{
        const char *want = getenv("KATA_DETECTOR");

        if (!want || !*want) {
                /* Run by hand: use whatever this process has. */
                if (RUNNING_ON_VALGRIND)
                        return KATA_DETECTOR_VALGRIND;
                return KATA_HAVE_ASAN ? KATA_DETECTOR_ASAN : KATA_DETECTOR_NONE;
        }
        if (strcmp(want, "valgrind") == 0) {
                if (!RUNNING_ON_VALGRIND) {
                        fprintf(stderr, "%s: KATA_DETECTOR=valgrind, but this binary is not running under "
                                        "Valgrind, so no leak could be seen; run it with 'make check'.\n",
                                KATA_NAME);
                        exit(KATA_EXIT_ENVIRONMENT);
                }
                return KATA_DETECTOR_VALGRIND;
        }
        if (strcmp(want, "asan") == 0) {
                if (!KATA_HAVE_ASAN) {
                        fprintf(stderr, "%s: KATA_DETECTOR=asan, but this binary was built without "
                                        "AddressSanitizer; run 'make check DETECTOR=asan'.\n", KATA_NAME);
                        exit(KATA_EXIT_ENVIRONMENT);
                }
                return KATA_DETECTOR_ASAN;
        }
        if (strcmp(want, "none") == 0)
                return KATA_DETECTOR_NONE;
        fprintf(stderr, "%s: unknown KATA_DETECTOR '%s': use valgrind, asan or none.\n", KATA_NAME, want);
        exit(KATA_EXIT_ENVIRONMENT);
}

/* The tests' main, called by kata_main.c's main() in a test binary, or by the launcher kata_prewarm.c
 * once it has loaded the tests as a shared library. */
int kata_main(void);
int kata_main(void)
{
        Suite *suite = suite_create(KATA_NAME);
        TCase *tc = tcase_create(KATA_NAME);
        const char *tap = getenv("KATA_TAP_FILE"), *xml = getenv("KATA_XML_FILE");
        int run, failed;

        detector = detector_from_environment();
        kata_register(tc);
        suite_add_tcase(suite, tc);

        SRunner *runner = srunner_create(suite);
        if (tap && *tap)
                srunner_set_tap(runner, tap);
        if (xml && *xml)
                srunner_set_xml(runner, xml);
        /* LeakSanitizer has no baseline to subtract: only a fresh child per test keeps one test's leak from
         * being blamed on the next. */
        if (detector == KATA_DETECTOR_ASAN)
                srunner_set_fork_status(runner, CK_FORK);

        srunner_run_all(runner, CK_ENV);
        /* What Valgrind reports after this line (its search at exit) belongs to no single test. */
        if (detector == KATA_DETECTOR_VALGRIND)
                VALGRIND_PRINTF("kata-tests-done\n");
        run = srunner_ntests_run(runner);
        failed = srunner_ntests_failed(runner);
        srunner_free(runner);

        if (run == 0) {
                fprintf(stderr, "%s: no test ran: CK_RUN_CASE, CK_RUN_SUITE or the tags selected nothing "
                                "(the tests are in the case '%s').\n", KATA_NAME, KATA_NAME);
                return KATA_EXIT_ENVIRONMENT;
        }
        return failed ? KATA_EXIT_FAILED : KATA_EXIT_PASSED;
}
