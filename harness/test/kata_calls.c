/* SPDX-License-Identifier: MIT */
/*
 * The calls of the code under test to the allocators and the descriptor calls, seen by the harness: see
 * kata_calls.h. Every function here is reached only through the renaming that harness/kata.mk applies to the
 * objects of the code under test; each one calls the real function unless the sweep asked it to fail.
 *
 * Nothing here allocates: the tables are static, and records go out with write(2).
 */
#include "kata_calls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

enum {
        MAX_MISUSES = 8,
};

static void forget_test_mappings(void);

static const char *current_test = "";
static long test_thread; /* the thread that runs the test body: only its calls are counted and failed */
static void *stack_top;
static long calls;       /* calls counted in this test: allocations and descriptor makers */
static bool injected;

/* --- call stacks: the frame-pointer chain from the call up to the test body (all built with frame pointers) */

static __attribute__((__noinline__)) void capture(struct kata_stack *stack)
{
        void **frame = __builtin_frame_address(0);

        stack->depth = 0;
        /* frame[0]: the wrapper's frame; its [1]: the return address into the code that made the call. */
        frame = frame[0];
        while (frame && stack->depth < KATA_STACK_DEPTH) {
                void **next = frame[0];

                stack->pcs[stack->depth++] = frame[1];
                if (!stack_top || next <= frame || (void *) next >= stack_top)
                        break;
                frame = next;
        }
}

static uint64_t stack_hash(const struct kata_stack *stack)
{
        /* Relative to this module, so that two runs of the same binary agree whatever the load address. */
        uintptr_t base = (uintptr_t) &capture;
        uint64_t hash = 14695981039346656037ull;

        for (int i = 0; i < stack->depth; i++) {
                hash ^= (uint64_t) ((uintptr_t) stack->pcs[i] - base);
                hash *= 1099511628211ull;
        }
        return hash;
}

/* --- the sweep: discovery and the plan --- */

/*
 * The harness's tables are mapped when first used, and grow as needed: no cap. A table in the static data
 * would be scanned as a root by every leak search of every Valgrind run, however little of it is used (about
 * 2.5 ms a search for 512 KB: a tenth of a red kata's run).
 */
static void *grow_table(void *table, size_t *bytes, size_t at_least)
{
        size_t want = *bytes ? *bytes : 4096;
        void *grown;

        while (want < at_least)
                want *= 2;
        if (want == *bytes)
                return table;
        grown = table ? mremap(table, *bytes, want, MREMAP_MAYMOVE)
                      : mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (grown == MAP_FAILED) {
                fprintf(stderr, "kata_calls: no memory for the harness's tables (%zu bytes): %s\n", want, strerror(errno));
                abort();
        }
        *bytes = want;
        return grown;
}

static int discover_fd = -2; /* -2: not opened yet; -1: not discovering */
static uint64_t *seen;
static size_t seen_count, seen_bytes;
static struct point {
        char test[96];
        long n;
} *plan; /* in the order of the file: a test's points are consecutive */
static size_t plan_bytes;
static int plan_count = -1; /* -1: not read yet; 0: no plan; -2: a plan with no point */
static long fail_at;       /* this test's call to fail, 0 for none */

static void read_plan(void)
{
        const char *path = getenv("KATA_SWEEP_PLAN");
        char line[160];
        FILE *file;

        plan_count = 0;
        if (!path || !*path || !(file = fopen(path, "re")))
                return;
        while (fgets(line, sizeof line, file)) {
                char *tab = strchr(line, '\t');

                if (!tab || (size_t) (tab - line) >= sizeof plan[0].test)
                        continue;
                plan = grow_table(plan, &plan_bytes, ((size_t) plan_count + 1) * sizeof plan[0]);
                memcpy(plan[plan_count].test, line, (size_t) (tab - line));
                plan[plan_count].test[tab - line] = '\0';
                plan[plan_count].n = strtol(tab + 1, NULL, 10);
                plan_count++;
        }
        fclose(file);
        if (plan_count == 0)
                plan_count = -2; /* a plan that names nothing still means "sweeping" */
}

static bool sweeping(void)
{
        if (plan_count == -1)
                read_plan();
        return plan_count != 0;
}

int kata_calls_points(const char *name)
{
        int count = 0;

        if (!sweeping())
                return -1;
        for (int i = 0; i < plan_count; i++)
                if (strcmp(plan[i].test, name) == 0)
                        count++;
        return count;
}

long kata_calls_begin_test(const char *name, void *top, int point)
{
        bool sweep = sweeping();

        if (discover_fd == -2) {
                const char *path = getenv("KATA_SWEEP_DISCOVER");

                discover_fd = path && *path ? open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644) : -1;
        }
        current_test = name;
        stack_top = top;
        test_thread = syscall(SYS_gettid);
        forget_test_mappings();
        calls = 0;
        injected = false;
        seen_count = 0;
        fail_at = 0;
        for (int i = 0; sweep && i < plan_count; i++)
                if (strcmp(plan[i].test, name) == 0 && point-- == 0) {
                        fail_at = plan[i].n;
                        break;
                }
        return fail_at;
}

void kata_calls_end_test(void)
{
        stack_top = NULL;
        current_test = "";
}

bool kata_calls_injected(void)
{
        return injected;
}

/* Counts the call; true when the sweep wants this one to fail. */
static bool fail_this(const char *call)
{
        /* Outside a test body, or in a thread the test started: another thread's calls come in no fixed
         * order, so they would make the sweep's points differ from run to run. */
        if (!stack_top || syscall(SYS_gettid) != test_thread)
                return false;
        calls++;
        if (discover_fd >= 0) {
                struct kata_stack stack;
                uint64_t hash;
                size_t i;

                capture(&stack);
                hash = stack_hash(&stack);
                for (i = 0; i < seen_count && seen[i] != hash; i++)
                        ;
                if (i == seen_count) {
                        char line[160];
                        int length;

                        seen = grow_table(seen, &seen_bytes, (seen_count + 1) * sizeof seen[0]);
                        seen[seen_count++] = hash;
                        length = snprintf(line, sizeof line, "%s\t%ld\t%s\n", current_test, calls, call);
                        if (length > 0 && (size_t) length < sizeof line && write(discover_fd, line, (size_t) length) < 0)
                                discover_fd = -1;
                }
        }
        if (fail_at != calls)
                return false;
        injected = true;
        return true;
}

/* --- descriptors: who opened what, and closes that go wrong --- */

static struct fd_owner {
        bool owned;
        struct kata_stack at;
} *fds; /* by descriptor */
static size_t fds_bytes;
static struct kata_misuse misuses[MAX_MISUSES];
static int misuse_count;

static bool owned(int fd)
{
        return fd >= 0 && ((size_t) fd + 1) * sizeof *fds <= fds_bytes && fds[fd].owned;
}

static void opened(int fd)
{
        if (fd < 0)
                return;
        fds = grow_table(fds, &fds_bytes, ((size_t) fd + 1) * sizeof *fds);
        fds[fd].owned = true;
        capture(&fds[fd].at);
}

static void misused(const char *what, int fd)
{
        if (misuse_count < MAX_MISUSES) {
                misuses[misuse_count] = (struct kata_misuse){ .what = what, .fd = fd };
                capture(&misuses[misuse_count].at);
        }
        misuse_count++;
}

bool kata_calls_fd_opened_at(int fd, struct kata_stack *at)
{
        if (!owned(fd))
                return false;
        *at = fds[fd].at;
        return true;
}

int kata_calls_take_misuses(struct kata_misuse *out, int max)
{
        int count = misuse_count;

        for (int i = 0; i < count && i < max && i < MAX_MISUSES; i++)
                out[i] = misuses[i];
        misuse_count = 0;
        return count;
}

/* --- memory mappings: mmap() is memory too (Swoole's shared memory is mapped), and no detector counts it --- */

static struct mapping {
        void *address; /* NULL: free slot */
        size_t length;
        bool this_test;
        struct kata_stack at;
} *mappings;
static size_t mappings_bytes;
#define MAPPING_SLOTS (mappings_bytes / sizeof *mappings)

bool kata_calls_next_mapping(int *cursor, size_t *length, struct kata_stack *at)
{
        for (; (size_t) *cursor < MAPPING_SLOTS; ++*cursor)
                if (mappings[*cursor].address && mappings[*cursor].this_test) {
                        *length = mappings[*cursor].length;
                        *at = mappings[*cursor].at;
                        ++*cursor;
                        return true;
                }
        return false;
}

static void forget_test_mappings(void)
{
        for (size_t i = 0; i < MAPPING_SLOTS; i++)
                mappings[i].this_test = false;
}

void *kata_call_mmap(void *address, size_t length, int protection, int flags, int fd, off_t offset);
int kata_call_munmap(void *address, size_t length);

void *kata_call_mmap(void *address, size_t length, int protection, int flags, int fd, off_t offset)
{
        void *mapped;

        if (fail_this("mmap"))
                return errno = ENOMEM, MAP_FAILED;
        mapped = mmap(address, length, protection, flags, fd, offset);
        if (mapped != MAP_FAILED) {
                size_t i = 0;

                while (i < MAPPING_SLOTS && mappings[i].address)
                        i++;
                if (i == MAPPING_SLOTS)
                        mappings = grow_table(mappings, &mappings_bytes, (i + 1) * sizeof *mappings);
                mappings[i].address = mapped;
                mappings[i].length = length;
                mappings[i].this_test = stack_top != NULL;
                capture(&mappings[i].at);
        }
        return mapped;
}

int kata_call_munmap(void *address, size_t length)
{
        for (size_t i = 0; i < MAPPING_SLOTS; i++)
                if (mappings[i].address == address) {
                        mappings[i].address = NULL;
                        break;
                }
        return munmap(address, length);
}

/* The declarations keep -Wmissing-prototypes quiet, should anyone turn it on. */
void *kata_call_malloc(size_t size);
void *kata_call_calloc(size_t count, size_t size);
void *kata_call_realloc(void *old, size_t size);
void *kata_call_reallocarray(void *old, size_t count, size_t size);
char *kata_call_strdup(const char *text);
char *kata_call_strndup(const char *text, size_t max);
int kata_call_asprintf(char **ret_text, const char *format, ...) __attribute__((__format__(__printf__, 2, 3)));
int kata_call_vasprintf(char **ret_text, const char *format, va_list ap) __attribute__((__format__(__printf__, 2, 0)));
int kata_call_socket(int domain, int type, int protocol);
int kata_call_socketpair(int domain, int type, int protocol, int fds_out[2]);
int kata_call_accept(int fd, struct sockaddr *address, socklen_t *length);
int kata_call_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);
int kata_call_pipe(int fds_out[2]);
int kata_call_pipe2(int fds_out[2], int flags);
int kata_call_open(const char *path, int flags, ...);
int kata_call_dup(int fd);
FILE *kata_call_fopen(const char *path, const char *mode);
int kata_call_close(int fd);
int kata_call_fclose(FILE *file);

void *kata_call_malloc(size_t size)
{
        if (fail_this("malloc"))
                return errno = ENOMEM, NULL;
        return malloc(size);
}

void *kata_call_calloc(size_t count, size_t size)
{
        if (fail_this("calloc"))
                return errno = ENOMEM, NULL;
        return calloc(count, size);
}

void *kata_call_realloc(void *old, size_t size)
{
        if (fail_this("realloc"))
                return errno = ENOMEM, NULL;
        return realloc(old, size);
}

void *kata_call_reallocarray(void *old, size_t count, size_t size)
{
        if (fail_this("reallocarray"))
                return errno = ENOMEM, NULL;
        return reallocarray(old, count, size);
}

char *kata_call_strdup(const char *text)
{
        if (fail_this("strdup"))
                return errno = ENOMEM, NULL;
        return strdup(text);
}

char *kata_call_strndup(const char *text, size_t max)
{
        if (fail_this("strndup"))
                return errno = ENOMEM, NULL;
        return strndup(text, max);
}

/* asprintf() and vasprintf() allocate too: the sweep fails them like the others (-1, ENOMEM). */
int kata_call_vasprintf(char **ret_text, const char *format, va_list ap)
{
        if (fail_this("vasprintf"))
                return errno = ENOMEM, -1;
        return vasprintf(ret_text, format, ap);
}

int kata_call_asprintf(char **ret_text, const char *format, ...)
{
        va_list ap;
        int length;

        if (fail_this("asprintf"))
                return errno = ENOMEM, -1;
        va_start(ap, format);
        length = vasprintf(ret_text, format, ap);
        va_end(ap);
        return length;
}

static int opened_fd(int fd)
{
        opened(fd);
        return fd;
}

int kata_call_socket(int domain, int type, int protocol)
{
        if (fail_this("socket"))
                return errno = EMFILE, -1;
        return opened_fd(socket(domain, type, protocol));
}

int kata_call_socketpair(int domain, int type, int protocol, int fds_out[2])
{
        int result;

        if (fail_this("socketpair"))
                return errno = EMFILE, -1;
        result = socketpair(domain, type, protocol, fds_out);
        if (result == 0) {
                opened(fds_out[0]);
                opened(fds_out[1]);
        }
        return result;
}

int kata_call_accept(int fd, struct sockaddr *address, socklen_t *length)
{
        if (fail_this("accept"))
                return errno = EMFILE, -1;
        return opened_fd(accept(fd, address, length));
}

int kata_call_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags)
{
        if (fail_this("accept4"))
                return errno = EMFILE, -1;
        return opened_fd(accept4(fd, address, length, flags));
}

int kata_call_pipe(int fds_out[2])
{
        return kata_call_pipe2(fds_out, 0);
}

int kata_call_pipe2(int fds_out[2], int flags)
{
        int result;

        if (fail_this("pipe"))
                return errno = EMFILE, -1;
        result = pipe2(fds_out, flags);
        if (result == 0) {
                opened(fds_out[0]);
                opened(fds_out[1]);
        }
        return result;
}

int kata_call_open(const char *path, int flags, ...)
{
        mode_t mode = 0;

        if (flags & (O_CREAT | O_TMPFILE)) {
                va_list ap;

                va_start(ap, flags);
                mode = (mode_t) va_arg(ap, int);
                va_end(ap);
        }
        if (fail_this("open"))
                return errno = EMFILE, -1;
        return opened_fd(open(path, flags, mode));
}

int kata_call_dup(int fd)
{
        if (fail_this("dup"))
                return errno = EMFILE, -1;
        return opened_fd(dup(fd));
}

FILE *kata_call_fopen(const char *path, const char *mode)
{
        FILE *file;

        if (fail_this("fopen"))
                return errno = EMFILE, NULL;
        file = fopen(path, mode);
        if (file)
                opened(fileno(file));
        return file;
}

/* Before the real close: was fd open, and did the code under test open it? */
static void check_close(int fd)
{
        if (fcntl(fd, F_GETFD) == -1)
                misused("closed a descriptor that was not open (closed twice?)", fd);
        else if (!owned(fd))
                misused("closed a descriptor that it did not open", fd);
        if (owned(fd))
                fds[fd].owned = false;
}

int kata_call_close(int fd)
{
        check_close(fd);
        return close(fd);
}

int kata_call_fclose(FILE *file)
{
        if (file)
                check_close(fileno(file));
        return fclose(file);
}
