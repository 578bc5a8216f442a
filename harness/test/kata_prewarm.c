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
 * Kept warm (run-tests, at a terminal): the launcher is started under Valgrind at the end of a run, for the
 * next one, which then waits for neither Valgrind's start-up nor the build's end. KATA_PREWARM_IDLE=SECONDS:
 * with no word within that time, it ends with PREWARM_IDLE (nobody ran again). KATA_PREWARM_ENV=FILE: the
 * environment of the run that claimed it (as env -0 writes it), written before the word; it replaces the one
 * the launcher was started with, which belonged to the run before. The same program, with --keep, is what
 * starts it and stays to hand its exit code to that run (see keep_warm()).
 *
 *   kata_prewarm TESTS.so
 *   kata_prewarm --keep DIR KEY COMMAND...
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Exit codes shared with harness/tools/run-tests (and kata_test.c's 2 for "the run means nothing"); PREWARM_GO
 * is wait_for_build()'s "the build succeeded". */
enum {
        PREWARM_GO = 0,
        PREWARM_CANNOT_LOAD = 2,
        PREWARM_BUILD_FAILED = 3,
        PREWARM_IDLE = 75,
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

static long long now_ms(void)
{
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        return (long long) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* Whether the word came within idle seconds (0: no limit). Signals do not shorten the wait. */
static bool word_came(int fd, unsigned idle)
{
        long long end = now_ms() + (long long) idle * 1000;
        struct pollfd pfd = { .fd = fd, .events = POLLIN };

        if (idle == 0)
                return true;
        for (;;) {
                long long left = end - now_ms();
                int ready = poll(&pfd, 1, left > 0 ? (int) (left < INT_MAX ? left : INT_MAX) : 0);

                if (ready > 0)
                        return true;
                if (ready == 0 || errno != EINTR)
                        return false;
        }
}

/* The build's word: PREWARM_GO, PREWARM_BUILD_FAILED, or PREWARM_IDLE when none came within KATA_PREWARM_IDLE. */
static int wait_for_build(const char *fifo)
{
        const char *idle = getenv("KATA_PREWARM_IDLE");
        char word = 0;
        int fd = open(fifo, O_RDONLY | O_CLOEXEC);

        if (fd < 0) {
                perror(fifo);
                return PREWARM_BUILD_FAILED;
        }
        if (!word_came(fd, idle ? (unsigned) strtoul(idle, NULL, 10) : 0)) {
                close(fd);
                return PREWARM_IDLE;
        }
        if (read(fd, &word, 1) != 1)
                word = 0;
        close(fd);
        return word == 'g' ? PREWARM_GO : PREWARM_BUILD_FAILED;
}

/* The environment of the run that claimed this launcher (NUL-separated NAME=value entries) replaces the one
 * it started with. Both the entries and the array are mapped, not allocated: the heap the tests start from is
 * the same as in a launcher started for the run itself (a failed test prints its baseline). */
static int take_environment(const char *path)
{
        extern char **environ;
        struct stat st;
        char *entries = MAP_FAILED, **array = MAP_FAILED;
        size_t count = 0;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size > 0)
                entries = mmap(NULL, (size_t) st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        if (fd >= 0) {
                close(fd);
                unlink(path); /* read once; it may hold what nobody else should read */
        }
        /* Every entry ends with a NUL, the last one too (a shorter file was cut while written). */
        if (entries == MAP_FAILED || entries[st.st_size - 1] != '\0') {
                fprintf(stderr, "Could not read the environment of the run in %s.\n", path);
                return -1;
        }
        char *end = entries + st.st_size;
        for (char *entry = entries; entry < end; entry += strlen(entry) + 1)
                count++;
        array = mmap(NULL, (count + 1) * sizeof *array, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (array == MAP_FAILED) {
                perror("mmap");
                return -1;
        }
        count = 0;
        for (char *entry = entries; entry < end; entry += strlen(entry) + 1)
                if (strchr(entry, '='))
                        array[count++] = entry;
        array[count] = NULL;
        environ = array;
        return 0;
}

/* Descriptors 3 up to the limit the process has (under Valgrind, its own are beyond it) are closed: those
 * /proc/self/fd lists (trying each number up to the limit, 20,000 here, cost 35 ms under Valgrind). */
static void close_descriptors_from_3(void)
{
        long max = sysconf(_SC_OPEN_MAX);
        int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char buffer[4096];
        ssize_t length;

        if (max <= 0 || max > 65536)
                max = 65536;
        if (dir < 0) {
                for (long fd = 3; fd < max; fd++)
                        close((int) fd);
                return;
        }
        while ((length = getdents64(dir, buffer, sizeof buffer)) > 0)
                for (ssize_t at = 0; at < length;) {
                        const struct dirent64 *entry = (const void *) (buffer + at);
                        long fd = strtol(entry->d_name, NULL, 10);

                        if (fd >= 3 && fd < max && fd != dir && entry->d_name[0] != '.')
                                close((int) fd);
                        at += entry->d_reclen;
                }
        close(dir);
}

/* The keeper closes every descriptor from 3 up, those of make's jobserver among them: a process that keeps
 * them open keeps a 'make -j' from ending. */
static void close_inherited_descriptors(void)
{
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 34)
        if (close_range(3, ~0U, 0) == 0)
                return;
#endif
        close_descriptors_from_3();
}

static int open_in(const char *dir, const char *name, int flags)
{
        char path[PATH_MAX];

        if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int) sizeof path)
                return -1;
        return open(path, flags | O_CLOEXEC, 0644);
}

/* Writes TEXT to DIR/NAME whole, or not at all (written under another name, then renamed). */
static int write_file_in(const char *dir, const char *name, const char *text)
{
        char path[PATH_MAX], temporary[PATH_MAX];
        size_t length = strlen(text);
        int fd;

        if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int) sizeof path ||
            snprintf(temporary, sizeof temporary, "%s.new", path) >= (int) sizeof temporary)
                return -1;
        fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -1;
        if (write(fd, text, length) != (ssize_t) length) {
                close(fd);
                return -1;
        }
        close(fd);
        return rename(temporary, path);
}

/*
 * kata_prewarm --keep DIR KEY COMMAND...: started in the background by run-tests at the end of a run, in a
 * folder it made with two FIFOs, go and done. In a session of its own, with no descriptor of the run's but
 * these, it starts COMMAND (Valgrind running this launcher) with its output in DIR/check.out and
 * DIR/stderr.out, writes DIR/pids ("COMMAND's pid, its own") and then DIR/key (KEY: what the next run
 * compares), and when COMMAND ends writes its exit code (128 + the signal, if one ended it) to DIR/done,
 * where the run that claimed it reads it. Both FIFOs stay open for reading and writing: COMMAND's open of go
 * returns at once, and the exit code waits in done for its reader.
 */
static volatile sig_atomic_t kept_child;

/* A signal to the keeper ends what it keeps, whose exit code it then hands on as usual. */
static void end_the_kept(int signal_number)
{
        if (kept_child > 0)
                kill((pid_t) kept_child, signal_number);
}

static int keep_warm(const char *dir, const char *key, char **command)
{
        struct sigaction forward = { .sa_handler = end_the_kept };
        char pids[64];
        int done, go, status;
        pid_t child;

        close_inherited_descriptors();
        /* A session of its own: the end of the terminal's session leader (make, run from an editor's
         * task) sends SIGHUP to its process group, which was this one's (run-tests ignored it for us). */
        setsid();
        sigaction(SIGTERM, &forward, NULL);
        done = open_in(dir, "done", O_RDWR);
        go = open_in(dir, "go", O_RDWR);
        if (done < 0 || go < 0)
                return 1;
        child = fork();
        if (child < 0)
                return 1;
        if (child == 0) {
                int out = open_in(dir, "check.out", O_WRONLY | O_CREAT | O_TRUNC);
                int err = open_in(dir, "stderr.out", O_WRONLY | O_CREAT | O_TRUNC);

                if (out < 0 || err < 0 || dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0)
                        _exit(127);
                /* As a run's own launcher has them (run-tests starts it in the background: SIGINT and
                 * SIGQUIT ignored, the rest as they were). */
                signal(SIGHUP, SIG_DFL);
                signal(SIGTERM, SIG_DFL);
                execvp(command[0], command);
                _exit(127);
        }
        kept_child = child;
        snprintf(pids, sizeof pids, "%ld %ld\n", (long) child, (long) getpid());
        if (write_file_in(dir, "pids", pids) == 0) {
                char line[4096];

                snprintf(line, sizeof line, "%s\n", key);
                write_file_in(dir, "key", line); /* last: a run claims only a launcher whose key is there */
        }
        while (waitpid(child, &status, 0) < 0)
                if (errno != EINTR)
                        return 1;
        dprintf(done, "%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        (void) go; /* held open to the end */
        return 0;
}

int main(int argc, char **argv)
{
        const char *fifo = getenv("KATA_PREWARM_FIFO");
        int (*kata_main)(void);
        void *tests;

        if (argc >= 5 && strcmp(argv[1], "--keep") == 0)
                return keep_warm(argv[2], argv[3], argv + 4);
        /* The tests start with the same descriptors however the launcher was started (by its keeper, which
         * closed what it inherited, or by run-tests under make -j, whose jobserver passes two): the number
         * of a descriptor a test leaves open is then the same from one run to the next. */
        close_descriptors_from_3();
        if (argc != 2) {
                fprintf(stderr, "usage: %s TESTS.so\n", argv[0]);
                return PREWARM_CANNOT_LOAD;
        }
        if (fifo && *fifo) {
                const char *environment = getenv("KATA_PREWARM_ENV");
                int word = wait_for_build(fifo);

                if (word != PREWARM_GO)
                        return word;
                if (environment && *environment && take_environment(environment) < 0)
                        return PREWARM_CANNOT_LOAD;
        }
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
