/* SPDX-License-Identifier: MIT */
/*
 * The runner every kata test links with: main(), and the per-test checks behind KATA_TEST(). See kata_test.h
 * for what a test sees; harness/tools/run-tests for how make runs this.
 *
 * Every test leaves records in the results file (KATA_RECORDS_FILE), one line each, tab-separated:
 *
 *   begin   TEST  FILE:LINE                     the body starts
 *   leak    TEST  bytes=N  blocks=N             lost: definitely, indirectly or possibly
 *   held    TEST  bytes=N  blocks=N             still reachable, not freed: kept in a global, a cache, a pool
 *   heldat  TEST  bytes=N  blocks=N  at=STACK   where held bytes were allocated (ASan; Valgrind's come in its XML)
 *   fd      TEST  fd=N  at=STACK                a descriptor the body left open, and where it was opened
 *   map     TEST  bytes=N  at=STACK             a memory mapping (mmap) the body left mapped, and where
 *   misuse  TEST  fd=N  what=TEXT  at=STACK     a close() that went wrong
 *   memerr  TEST  count=N                       Valgrind's count of memory errors in the body
 *   growth  TEST  bytes=N  baseline=N  at=FILE:LINE  what=TEXT   kata_assert_heap_at_baseline() failed
 *   ref     TEST  object=N  of=N  made=FILE:LINE  made_in=FN  count=N  holds=N,...  op=OP  at=FILE:LINE  in=FN
 *                                               an outstanding reference to a shared object (sptr) that the
 *                                               body made and left alive: where it was taken (op: sptr_new,
 *                                               sptr_ref, sptr_assign), and the objects this one holds
 *                                               pointers to; of: how many such objects in all (the first 64
 *                                               are recorded)
 *   released TEST held=N  at=FILE:LINE  what=TEXT                 kata_assert_released() failed
 *   aliveref TEST  (the fields of ref)          at the first failed kata_assert_released() of a test: an
 *                                               outstanding reference to a shared object made since the
 *                                               test's baseline (see below) and alive right after the call
 *   aliveat  TEST  bytes=N  blocks=N  at=STACK  at the same moment, blocks made since the baseline and still
 *                                               alive, grouped by where they were allocated (ASan; Valgrind's
 *                                               come in its XML, between the client messages
 *                                               "kata-alive-begin: TEST" and "kata-alive-end")
 *   alivecap TEST  limit=N                      under Valgrind, no alive search for this test: the run made
 *                                               its first N already (each costs a copy of the process)
 *   assert  TEST  at=FILE:LINE  message=TEXT   a failed assertion of the test (behaviour)
 *   errpath TEST  at=FILE:LINE  message=TEXT   kata_assert_error_path() failed: the sweep counts it
 *   contract TEST                               the sweep failed a call and the test, which accepts any outcome
 *                                               (kata_any_outcome), failed an assertion: counted in the sweep
 *   hang    TEST  seconds=N                     the body ran past its time limit
 *   crash   TEST  signal=N                      the body died of a signal
 *   end     TEST                                the body returned and was measured
 *
 * STACK is a list of MODULE+0xOFFSET return addresses, innermost first, that harness/tools/report turns into
 * file:line. A test whose body fails an assertion has a begin record and no end: Check's log has its message.
 * The records are the verdict; the messages handed to Check only say the same in words.
 *
 * The baseline of the alive records is the body's start, then each heap measurement (kata_heap_snapshot(),
 * kata_assert_heap_at_baseline()): under Valgrind each of those is a leak search, the one that the next
 * search's "added" is counted from, and ASan's records follow the same rule.
 *
 * Environment (set by harness/tools/run-tests):
 *   KATA_DETECTOR      valgrind | asan | none: which detector the run is meant to have. Under "valgrind" the
 *                      binary refuses to pass when it is not running under Valgrind, because every client
 *                      request is then a silent no-op and every leak check would pass vacuously.
 *   KATA_RECORDS_FILE  the results file; KATA_TAP_FILE, KATA_XML_FILE: Check's logs.
 *   KATA_TEST_TIMEOUT  seconds a test may run (default 10): then it is recorded as hung and the run stops.
 *   CK_FORK, CK_RUN_CASE, CK_VERBOSITY, ...: Check's own variables.
 */
#include "kata_test.h"
#include "kata_calls.h"
#include "sptr.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>

/* The sanitizer runtime's interface, weak: the same harness object serves every build, and these are there
 * only when the binary is linked with -fsanitize=address (a full ASan build, or the sweep's). */
int __lsan_do_recoverable_leak_check(void) __attribute__((__weak__));
size_t __sanitizer_get_current_allocated_bytes(void) __attribute__((__weak__));
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *)) __attribute__((__weak__));
size_t __asan_get_alloc_stack(void *addr, void **trace, size_t size, int *thread_id) __attribute__((__weak__));
void __lsan_ignore_object(const void *p) __attribute__((__weak__));

/* The kata's name (harness/test/kata_name.c, compiled for each kata): this file is built once for all katas. */
extern const char kata_name[];

/* Exit codes of the test binary, read by harness/tools/run-tests. */
enum {
        KATA_EXIT_PASSED = 0,
        KATA_EXIT_FAILED = 1,      /* at least one test failed */
        KATA_EXIT_ENVIRONMENT = 2, /* the run could not mean anything: wrong detector, no test selected */
        KATA_EXIT_HUNG = 4,        /* a test ran past KATA_TEST_TIMEOUT (recorded) */
        KATA_EXIT_LOST_OUTSIDE = 5, /* every test passed, but a block was lost outside any test (ASan) */
};

static enum kata_detector detector = KATA_DETECTOR_NONE;
static int records_fd = -1;
static const char *running_test; /* the test whose body runs, for the signal handlers */
static unsigned test_timeout = 10;
/* kata_assert_released() does not stop the test: it goes on, so that the checks at its end show where what
 * is still held was allocated, and it fails there (kata_run_checked). */
static char released_problem[400];
static unsigned long sptr_mark; /* the first shared object made by the running test's body */
/* The first shared object made since the baseline of the alive records (the body's start or its last heap
 * measurement): what a failed kata_assert_released() lists. */
static unsigned long alive_sptr_mark;
/* kata_any_outcome() was called in this test: under the sweep, its failed assertions count. */
static bool any_outcome;

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

/* --- records --- */

static void record(const char *fmt, ...) __attribute__((__format__(__printf__, 1, 2)));
static void record(const char *fmt, ...)
{
        char line[2048];
        va_list ap;
        int length;

        if (records_fd < 0)
                return;
        va_start(ap, fmt);
        length = vsnprintf(line, sizeof line - 1, fmt, ap);
        va_end(ap);
        if (length < 0)
                return;
        if ((size_t) length > sizeof line - 2)
                length = (int) sizeof line - 2;
        line[length++] = '\n';
        /* One write per record, O_APPEND: forked tests append to the same file without tearing lines. */
        if (write(records_fd, line, (size_t) length) < 0)
                records_fd = -1;
}

/* "MODULE+0xOFFSET,..." for a stack, return addresses made into call sites (minus one). */
static const char *format_stack(void *const *pcs, int depth, char *out, size_t size)
{
        size_t used = 0;

        out[0] = '\0';
        for (int i = 0; i < depth && used + 1 < size; i++) {
                Dl_info info;
                int n;

                if (!pcs[i] || !dladdr(pcs[i], &info) || !info.dli_fname)
                        continue;
                n = snprintf(out + used, size - used, "%s%s+0x%lx", used ? "," : "", info.dli_fname,
                             (unsigned long) ((uintptr_t) pcs[i] - 1 - (uintptr_t) info.dli_fbase));
                if (n < 0 || (size_t) n >= size - used)
                        break;
                used += (size_t) n;
        }
        return out;
}

/* --- shared objects the body made and left alive: where their references were taken (sptr.h) --- */

struct refs_record {
        const char *kind; /* "ref" or "aliveref" */
        const char *test;
};

static void record_object_refs(const struct sptr_track_object *o, unsigned long total, void *arg)
{
        const struct refs_record *r = arg;
        char holds[200] = "";

        for (unsigned i = 0, used = 0; i < o->hold_count && used < sizeof holds; i++)
                used += (unsigned) snprintf(holds + used, sizeof holds - used, "%s%lu", i ? "," : "", o->holds[i]);
        for (unsigned i = 0; i < o->ref_count; i++) {
                const struct sptr_track_site *at = &o->refs[i];

                record("%s\t%s\tobject=%lu\tof=%lu\tmade=%s:%d\tmade_in=%s\tcount=%u\tholds=%s\top=%s\tat=%s:%d"
                       "\tin=%s", r->kind, r->test, o->id, total, o->made.file ? o->made.file : "?", o->made.line,
                       o->made.function ? o->made.function : "?", o->count, holds, at->operation,
                       at->file ? at->file : "?", at->line, at->function ? at->function : "?");
        }
}

static void record_outstanding_refs(const char *name)
{
        sptr_track_outstanding(sptr_mark, 64, record_object_refs, &(struct refs_record){ "ref", name });
}

/* --- descriptors, counted without allocating: getdents64 into a buffer on the stack --- */

enum { MAX_TRACKED_FD = 1024 };
struct fd_set_bits {
        unsigned long bits[MAX_TRACKED_FD / (8 * sizeof(unsigned long))];
        unsigned count;
};

struct linux_dirent64 {
        uint64_t d_ino;
        int64_t d_off;
        unsigned short d_reclen;
        unsigned char d_type;
        char d_name[];
};

static void set_fd(struct fd_set_bits *set, long fd)
{
        set->count++;
        if (fd < MAX_TRACKED_FD)
                set->bits[fd / (8 * sizeof(unsigned long))] |= 1ul << (fd % (8 * sizeof(unsigned long)));
}

static bool has_fd(const struct fd_set_bits *set, long fd)
{
        return fd < MAX_TRACKED_FD && (set->bits[fd / (8 * sizeof(unsigned long))] >> (fd % (8 * sizeof(unsigned long)))) & 1;
}

static void list_open_fds(struct fd_set_bits *set)
{
        long open_max = sysconf(_SC_OPEN_MAX);
        char buffer[4096] __attribute__((__aligned__(8)));
        int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        long n;

        memset(set, 0, sizeof *set);
        if (dir < 0) {
                /* No /proc: probe every descriptor below the limit. */
                for (long fd = 0; fd < open_max; fd++)
                        if (fcntl((int) fd, F_GETFD) != -1)
                                set_fd(set, fd);
                return;
        }
        while ((n = syscall(SYS_getdents64, dir, buffer, sizeof buffer)) > 0) {
                for (long at = 0; at < n;) {
                        struct linux_dirent64 *entry = (struct linux_dirent64 *) (buffer + at);
                        char *end;
                        long fd = strtol(entry->d_name, &end, 10);

                        at += entry->d_reclen;
                        /* Skip ".", "..", the directory's own descriptor, and Valgrind's (above the limit). */
                        if (entry->d_name[0] == '.' || *end != '\0' || fd == dir || fd >= open_max)
                                continue;
                        set_fd(set, fd);
                }
        }
        close(dir);
}

unsigned kata_count_open_fds(void)
{
        struct fd_set_bits set;

        list_open_fds(&set);
        return set.count;
}

/* --- blocks allocated by a test body and still live at its end, under ASan (the allocator's hooks) --- */

enum { LIVE_SLOTS = 1 << 15 };
/* The addresses are kept disguised (xor MASK): a table of plain pointers in a global would make every block
 * it names reachable to LeakSanitizer. Two tables: when the one in use is half full of entries, live or
 * removed (ASan's quarantine gives nearly every allocation a new address, so removed ones pile up: a Check
 * assertion allocates), its live entries move to the other. They are mapped by ASan runs only (1.5 MB): in the
 * static data, every leak search of every Valgrind run would scan them (about 2.5 ms a search for 512 KB). */
static struct live_block {
        uintptr_t key; /* address ^ MASK; 0: empty; TOMBSTONE: removed */
        size_t size;
        unsigned long serial; /* the n-th block allocated in this process */
} *live_tables, *live; /* live_tables: two tables of LIVE_SLOTS; live: the one in use */
#define MASK ((uintptr_t) 0x5a5a5a5a5a5a5a5aull)
#define TOMBSTONE ((uintptr_t) 1)
static bool tracking, tracking_overflowed;
static unsigned live_used;  /* the slots of live that are not empty */
static unsigned live_count; /* the blocks in live: allocated since tracking started, not freed */
/* The serial of the last block allocated, and of the last one before the alive records' baseline. */
static unsigned long live_serial, live_since;

static size_t slot_of(const volatile void *ptr)
{
        return (size_t) (((uintptr_t) ptr >> 4) * 11400714819323198485ull >> 49) & (LIVE_SLOTS - 1);
}

/* The live entries of the table in use, moved to the other one. */
static void compact_live(void)
{
        struct live_block *from = live, *to = live == live_tables ? live_tables + LIVE_SLOTS : live_tables;

        memset(to, 0, LIVE_SLOTS * sizeof *to);
        live_used = 0;
        for (size_t i = 0; i < LIVE_SLOTS; i++) {
                size_t j;

                if (from[i].key == 0 || from[i].key == TOMBSTONE)
                        continue;
                for (j = slot_of((void *) (from[i].key ^ MASK)); to[j].key; j = (j + 1) & (LIVE_SLOTS - 1))
                        ;
                to[j] = from[i];
                live_used++;
        }
        live = to;
}

/* The hooks run in whatever thread allocates (a test may start threads): one at a time in the table. */
static char live_lock;

static void lock_live(void)
{
        while (__atomic_test_and_set(&live_lock, __ATOMIC_ACQUIRE))
                ;
}

static void unlock_live(void)
{
        __atomic_clear(&live_lock, __ATOMIC_RELEASE);
}

static void on_malloc(const volatile void *ptr, size_t size)
{
        if (!tracking || tracking_overflowed || !ptr)
                return;
        lock_live();
        if (live_used >= LIVE_SLOTS / 2) {
                compact_live();
                /* Still more than 3/8 full with live blocks alone: stop, rather than compact at every call. */
                if (live_used >= LIVE_SLOTS / 8 * 3) {
                        tracking_overflowed = true;
                        unlock_live();
                        return;
                }
        }
        for (size_t i = slot_of(ptr);; i = (i + 1) & (LIVE_SLOTS - 1))
                if (live[i].key == 0 || live[i].key == TOMBSTONE) {
                        live_used += live[i].key == 0;
                        live_count++;
                        live[i] = (struct live_block){ (uintptr_t) ptr ^ MASK, size, ++live_serial };
                        break;
                }
        unlock_live();
}

static void on_free(const volatile void *ptr)
{
        if (!tracking || !ptr)
                return;
        lock_live();
        for (size_t i = slot_of(ptr); live[i].key; i = (i + 1) & (LIVE_SLOTS - 1))
                if (live[i].key == ((uintptr_t) ptr ^ MASK)) {
                        live[i].key = TOMBSTONE;
                        live_count--;
                        break;
                }
        unlock_live();
}

/*
 * LeakSanitizer scans the stack from the deepest frame of its search up, and a frame keeps in the slots it
 * has not written (padding, a buffer not filled, a variadic function's register save area) what the calls
 * that returned before left there: a pointer to a block that the code under test lost, left by the very call
 * that lost it, makes that block look reachable (seen on the sweep's assertion path). So a search runs over
 * a cleared stack: the area below this function, and on x86-64 every frame between it and `top` (NULL: none),
 * which the caller must then never return to. Volatile stores, not memset(): ASan would check the range.
 */
static __attribute__((__noinline__, __no_sanitize_address__)) void clear_stack(char *top)
{
        volatile long area[4096];

        for (size_t i = 0; i < sizeof area / sizeof area[0]; i++)
                area[i] = 0;
#ifdef __x86_64__
        for (volatile long *p = (long *) ((char *) __builtin_frame_address(0) + 2 * sizeof(void *)); top && (char *) p < top; p++)
                *p = 0;
        /* The registers a call may leave as it likes: a pointer the test's calls left in one is a root too. */
        __asm__ volatile("xor %%eax, %%eax\n\txor %%ecx, %%ecx\n\txor %%edx, %%edx\n\txor %%esi, %%esi\n\t"
                         "xor %%edi, %%edi\n\txor %%r8d, %%r8d\n\txor %%r9d, %%r9d\n\txor %%r10d, %%r10d\n\t"
                         "xor %%r11d, %%r11d"
                         : : : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11");
#else
        (void) top;
#endif
}

static __attribute__((__noinline__)) bool lost_blocks_found(void)
{
        clear_stack(NULL);
        return __lsan_do_recoverable_leak_check() != 0;
}

/* After a test's leak check: the blocks it left are known and reported; LeakSanitizer must not report them
 * again for the next test of the same process. */
static void forget_live_blocks(void)
{
        tracking = false;
        for (size_t i = 0; live && __lsan_ignore_object && i < LIVE_SLOTS; i++)
                if (live[i].key != 0 && live[i].key != TOMBSTONE)
                        __lsan_ignore_object((void *) (live[i].key ^ MASK));
}

static void start_tracking(void)
{
        if (!live_tables) {
                live_tables = mmap(NULL, 2 * LIVE_SLOTS * sizeof *live_tables, PROT_READ | PROT_WRITE,
                                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (live_tables == MAP_FAILED) {
                        fprintf(stderr, "%s: no memory for the harness's tables of live blocks: %s\n", kata_name,
                                strerror(errno));
                        abort();
                }
        }
        live = live_tables;
        memset(live, 0, LIVE_SLOTS * sizeof *live);
        live_used = live_count = 0;
        live_since = live_serial;
        tracking_overflowed = false;
        tracking = true;
}

/* The blocks the body allocated after serial `since` and has not freed, grouped by allocation stack, as
 * `kind` records (the first max_groups groups, at most 16): totals in *bytes and *blocks. Stops tracking:
 * the caller starts it again if the body goes on. */
static void record_blocks(const char *kind, const char *name, unsigned long since, int max_groups, unsigned long *bytes,
                          unsigned long *blocks)
{
        enum { GROUPS = 16 };
        struct {
                void *pcs[KATA_STACK_DEPTH];
                int depth;
                unsigned long bytes, blocks;
        } groups[GROUPS];
        int group_count = 0;

        if (max_groups > GROUPS)
                max_groups = GROUPS;
        tracking = false;
        *bytes = *blocks = 0;
        for (size_t i = 0; live && i < LIVE_SLOTS; i++) {
                void *pcs[KATA_STACK_DEPTH] = { 0 };
                int depth = 0, thread, g;

                void *ptr = (void *) (live[i].key ^ MASK);

                if (live[i].key == 0 || live[i].key == TOMBSTONE || live[i].serial <= since)
                        continue;
                *bytes += live[i].size;
                ++*blocks;
                if (__asan_get_alloc_stack)
                        depth = (int) __asan_get_alloc_stack(ptr, pcs, KATA_STACK_DEPTH, &thread);
                for (g = 0; g < group_count; g++)
                        if (groups[g].depth == depth && memcmp(groups[g].pcs, pcs, sizeof pcs) == 0)
                                break;
                if (g == group_count && group_count < max_groups) {
                        memcpy(groups[g].pcs, pcs, sizeof pcs);
                        groups[g].depth = depth;
                        groups[g].bytes = groups[g].blocks = 0;
                        group_count++;
                }
                if (g < group_count) {
                        groups[g].bytes += live[i].size;
                        groups[g].blocks++;
                }
        }
        /* The biggest first. */
        for (int a = 1; a < group_count; a++)
                for (int b = a; b > 0 && groups[b].bytes > groups[b - 1].bytes; b--) {
                        __typeof__(groups[0]) swap = groups[b];

                        groups[b] = groups[b - 1];
                        groups[b - 1] = swap;
                }
        for (int g = 0; g < group_count; g++) {
                char stack[1024];

                record("%s\t%s\tbytes=%lu\tblocks=%lu\tat=%s", kind, name, groups[g].bytes, groups[g].blocks,
                       format_stack(groups[g].pcs, groups[g].depth, stack, sizeof stack));
        }
}

/* What the body left live, grouped by allocation stack (the first few groups recorded). */
static void record_live_blocks(const char *name, unsigned long *bytes, unsigned long *blocks)
{
        record_blocks("heldat", name, 0, 5, bytes, blocks);
}

/* --- what one test left behind --- */

/* What one measurement saw; the difference between two of them is what a test left behind. */
struct measure {
        struct fd_set_bits fds;
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

/* A leak search that prints nothing but is the baseline of the next ADDED search: a full one (a quick
 * search leaves the records of the last full search as the baseline, and a block made again at a place
 * that a previous test also used would then not show as added). */
static void leak_baseline(void)
{
        VALGRIND_MONITOR_COMMAND("leak_check full kinds none");
}

/*
 * The counts of the search that ended the last test, when that test passed: the baseline of the next one,
 * which then needs no search of its own (half of a run's searches; 15 ms of a red kata's run). Between two
 * tests, Check records the last one's result in blocks of its own, kept to the end of the run: Valgrind
 * counts them as suppressed (harness/test/check.supp), not reachable, and the test's measures leave the
 * suppressed kind out. A test that failed may have left something that a fixture's teardown frees between
 * the tests: the next test searches again.
 */
static bool last_search_is_baseline;
static struct measure last_search;

static void measure_before(struct measure *m)
{
        memset(m, 0, sizeof *m);
        switch (detector) {
        case KATA_DETECTOR_VALGRIND: {
                unsigned long errors = VALGRIND_COUNT_ERRORS; /* before any search: a search counts its findings */

                if (last_search_is_baseline) {
                        *m = last_search;
                } else {
                        leak_baseline();
                        count_leaks(m);
                }
                last_search_is_baseline = false;
                m->errors = errors;
                break;
        }
        case KATA_DETECTOR_ASAN:
                m->allocated = __sanitizer_get_current_allocated_bytes();
                start_tracking();
                break;
        case KATA_DETECTOR_NONE:
                break;
        }
        list_open_fds(&m->fds);
}

/* The test's body is over, or about to be left by a failed assertion (Check then ends the test at once). */
static void leave_test(void)
{
        alarm(0);
        kata_calls_end_test();
        running_test = NULL;
}

static void fail_at(const char *file, int line, const char *fmt, ...) __attribute__((__format__(__printf__, 3, 4)));
static void fail_at(const char *file, int line, const char *fmt, ...)
{
        char message[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(message, sizeof message, fmt, ap);
        va_end(ap);
        if (detector == KATA_DETECTOR_ASAN)
                forget_live_blocks();
        leave_test();
        /* Check's own entry point, so that the failure points at the test, not at this file. */
        _ck_assert_failed(file, line, NULL, "%s", message);
}

/* The record of a failed assertion; tabs and newlines in its message become spaces (one record, one line). */
static void record_assert(const char *key, const char *file, int line, char *message)
{
        for (char *c = message; *c; c++)
                if (*c == '\t' || *c == '\n')
                        *c = ' ';
        record("assert\t%s\tat=%s:%d\tmessage=%s", key, file, line, message);
}

/* A failed assertion of the harness's own (kata_assert_aborts): recorded like the test file's, then failed. */
static void fail_assert_at(const char *file, int line, const char *fmt, ...) __attribute__((__format__(__printf__, 3, 4)));
static void fail_assert_at(const char *file, int line, const char *fmt, ...)
{
        char message[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(message, sizeof message, fmt, ap);
        va_end(ap);
        if (running_test)
                record_assert(running_test, file, line, message);
        fail_at(file, line, "%s", message);
}

/* Appends "; text" to a problem summary. */
static void add_problem(char *summary, size_t size, const char *fmt, ...) __attribute__((__format__(__printf__, 3, 4)));
static void add_problem(char *summary, size_t size, const char *fmt, ...)
{
        size_t used = strlen(summary);
        va_list ap;

        if (used && used + 2 < size) {
                memcpy(summary + used, "; ", 3);
                used += 2;
        }
        va_start(ap, fmt);
        vsnprintf(summary + used, size - used, fmt, ap);
        va_end(ap);
}

static void check_memory(const char *name, const struct measure *before, char *summary, size_t size)
{
        char bytes[32], blocks[32];
        struct measure after;

        switch (detector) {
        case KATA_DETECTOR_VALGRIND: {
                unsigned long errors = VALGRIND_COUNT_ERRORS - before->errors;

                /* ADDED prints only the loss records that are new since the baseline: those of this test,
                 * reachable ones included (run-tests asks Valgrind to show every kind). */
                VALGRIND_DO_ADDED_LEAK_CHECK;
                memset(&after, 0, sizeof after);
                count_leaks(&after);
                long lost = (long) (after.leaked + after.dubious) - (long) (before->leaked + before->dubious);
                long lost_blocks = (long) (after.leaked_blocks + after.dubious_blocks) -
                                   (long) (before->leaked_blocks + before->dubious_blocks);
                long total = (long) (after.leaked + after.dubious + after.reachable) -
                             (long) (before->leaked + before->dubious + before->reachable);
                long total_blocks = (long) (after.leaked_blocks + after.dubious_blocks + after.reachable_blocks) -
                                    (long) (before->leaked_blocks + before->dubious_blocks + before->reachable_blocks);

                last_search = after;
                /* The leak search counts its findings as errors: only what came before it is the test's. */
                if (errors) {
                        record("memerr\t%s\tcount=%lu", name, errors);
                        add_problem(summary, size, "%lu memory error%s (invalid read, write or free)", errors,
                                    errors == 1 ? "" : "s");
                }
                if (lost > 0) {
                        record("leak\t%s\tbytes=%ld\tblocks=%ld", name, lost, lost_blocks);
                        add_problem(summary, size, "%s bytes in %s block%s leaked",
                                    kata_format_count((unsigned long) lost, bytes, sizeof bytes),
                                    kata_format_count((unsigned long) lost_blocks, blocks, sizeof blocks),
                                    lost_blocks == 1 ? "" : "s");
                }
                if (total - (lost > 0 ? lost : 0) > 0) {
                        long held = total - (lost > 0 ? lost : 0);
                        long held_blocks = total_blocks - (lost_blocks > 0 ? lost_blocks : 0);

                        record("held\t%s\tbytes=%ld\tblocks=%ld", name, held, held_blocks > 0 ? held_blocks : 0);
                        add_problem(summary, size, "%s bytes still held after the test (reachable, not freed)",
                                    kata_format_count((unsigned long) held, bytes, sizeof bytes));
                }
                if (total > 0)
                        record_outstanding_refs(name);
                break;
        }
        case KATA_DETECTOR_ASAN: {
                unsigned long live_bytes, live_blocks;
                /* A block the body lost is one it allocated and did not free: with none, LeakSanitizer's search
                 * (a few milliseconds, every test) has nothing to find. */
                bool lost = (live_count > 0 || tracking_overflowed) && lost_blocks_found();

                record_live_blocks(name, &live_bytes, &live_blocks);
                if (tracking_overflowed) {
                        size_t now = __sanitizer_get_current_allocated_bytes();

                        live_bytes = now > before->allocated ? now - before->allocated : 0;
                        live_blocks = 0;
                }
                /* LeakSanitizer printed the lost blocks with their stacks (the report counts their bytes);
                 * everything the body allocated and did not free is recorded as held or lost here. */
                if (lost) {
                        record("leak\t%s\tbytes=%lu\tblocks=%lu", name, live_bytes, live_blocks);
                        add_problem(summary, size, "memory leaked (LeakSanitizer's report shows it)");
                } else if (live_bytes) {
                        record("held\t%s\tbytes=%lu\tblocks=%lu", name, live_bytes, live_blocks);
                        add_problem(summary, size, "%s bytes still held after the test (reachable, not freed)",
                                    kata_format_count(live_bytes, bytes, sizeof bytes));
                }
                if (lost || live_bytes)
                        record_outstanding_refs(name);
                forget_live_blocks();
                break;
        }
        case KATA_DETECTOR_NONE:
                break;
        }
}

static void check_descriptors(const char *name, const struct measure *before, char *summary, size_t size)
{
        struct kata_misuse misuses[4];
        int misuse_count = kata_calls_take_misuses(misuses, 4);
        struct fd_set_bits now;
        unsigned left = 0;

        for (int i = 0; i < misuse_count && i < 4; i++) {
                char stack[1024];

                record("misuse\t%s\tfd=%d\twhat=%s\tat=%s", name, misuses[i].fd, misuses[i].what,
                       format_stack(misuses[i].at.pcs, misuses[i].at.depth, stack, sizeof stack));
        }
        if (misuse_count)
                add_problem(summary, size, "%d descriptor misuse%s (%s)", misuse_count, misuse_count == 1 ? "" : "s",
                            misuses[0].what);

        /* DETECTOR=none is behaviour only: descriptors and mappings are leaks like any other. */
        if (detector == KATA_DETECTOR_NONE)
                return;
        {
                struct kata_stack at;
                size_t length, total = 0;
                int cursor = 0, count = 0;
                char stack[1024];

                while (kata_calls_next_mapping(&cursor, &length, &at)) {
                        count++;
                        total += length;
                        record("map\t%s\tbytes=%zu\tat=%s", name, length, format_stack(at.pcs, at.depth, stack, sizeof stack));
                }
                if (count)
                        add_problem(summary, size, "%d memory mapping%s (%zu bytes) left mapped", count,
                                    count == 1 ? "" : "s", total);
        }
        list_open_fds(&now);
        for (long fd = 0; fd < MAX_TRACKED_FD; fd++) {
                struct kata_stack at = { 0 };
                char stack[1024];

                if (!has_fd(&now, fd) || has_fd(&before->fds, fd))
                        continue;
                left++;
                kata_calls_fd_opened_at((int) fd, &at);
                record("fd\t%s\tfd=%ld\tat=%s", name, fd, format_stack(at.pcs, at.depth, stack, sizeof stack));
        }
        if (now.count > before->fds.count + left)
                left = now.count - before->fds.count;
        if (left)
                add_problem(summary, size, "%u file descriptor%s left open", left, left == 1 ? "" : "s");
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
        /* The sweep runs a test once per failure point of its own, and not at all when it has none. */
        int points = kata_calls_points(test->name);
        if (points == 0)
                return;
        _tcase_add_test(tc, test, 0, 0, 0, points > 0 ? points : 1);
}

/* kata_assert_failed() on the sweep's path: what it hands to fail_after_search(), kept out of the stack that
 * fail_after_search() clears. */
static char failed_text[1024];
static struct {
        const char *file, *key;
        int line;
        char *top;
} failed_at;

static __attribute__((__noinline__, __noreturn__)) void fail_after_search(void)
{
        clear_stack(failed_at.top); /* from here on, no frame below the test's is returned to */
        if (lost_blocks_found())
                record("leak\t%s\tbytes=0\tblocks=0", failed_at.key);
        if (detector == KATA_DETECTOR_ASAN)
                forget_live_blocks();
        _ck_assert_failed(failed_at.file, failed_at.line, failed_text, NULL);
}

/*
 * Every failed assertion of a test file comes here first: harness/kata.mk renames the test objects' calls to
 * Check's _ck_assert_failed() to this function. It records the failure (the report reads the record, not
 * Check's text), and when the sweep failed a call on purpose it looks for lost blocks now, while the test's
 * own objects are still on its stack: Check ends a forked test at once, and no leak check would run after.
 */
void kata_assert_failed(const char *file, int line, const char *expr, const char *msg, ...)
        __attribute__((__noreturn__));
void kata_assert_failed(const char *file, int line, const char *expr, const char *msg, ...)
{
        va_list ap;

        va_start(ap, msg);
        if (msg)
                vsnprintf(failed_text, sizeof failed_text, msg, ap);
        else
                snprintf(failed_text, sizeof failed_text, "%s", expr);
        va_end(ap);
        if (running_test) {
                const char *key = running_test;
                bool injected = kata_calls_injected();

                leave_test();
                record_assert(key, file, line, failed_text);
                if (injected && any_outcome)
                        record("contract\t%s", key);
                if (injected && __lsan_do_recoverable_leak_check) {
                        /* Everything below the frame that called us (the test's) is cleared, ours included. */
                        failed_at.file = file;
                        failed_at.line = line;
                        failed_at.key = key;
                        failed_at.top = (char *) __builtin_frame_address(0) + 2 * sizeof(void *);
                        fail_after_search();
                }
                if (detector == KATA_DETECTOR_ASAN)
                        forget_live_blocks();
        }
        _ck_assert_failed(file, line, failed_text, NULL);
}

/*
 * Every assertion of a test file that passes comes here (harness/kata.mk renames Check's _mark_point() in the
 * test objects). Check would write the assertion's place to its message file, to name it should the test
 * crash: a malloc() and a write() per assertion, 30 ms of a red kata's run under Valgrind. The harness names
 * a crashed or hung test itself (its records), so nothing is written.
 */
void kata_mark_point(const char *file, int line);
void kata_mark_point(const char *file, int line)
{
        (void) file;
        (void) line;
}

/* A test that dies or hangs takes the whole run with it: say which test it was, in a record, first. */
static void on_crash(int signal_number)
{
        if (running_test)
                record("crash\t%s\tsignal=%d", running_test, signal_number);
        signal(signal_number, SIG_DFL);
        raise(signal_number);
}

static void on_alarm(int signal_number)
{
        (void) signal_number;
        if (running_test)
                record("hang\t%s\tseconds=%u", running_test, test_timeout);
        _exit(KATA_EXIT_HUNG);
}

static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };

static void default_crash_signals(void)
{
        for (size_t i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++)
                signal(crash_signals[i], SIG_DFL);
}

void kata_run_checked(const char *name, const char *file, int line, void (*body)(void), int iteration)
{
        static char key[128];
        char summary[512] = "";
        struct measure before;
        long failing = kata_calls_begin_test(name, __builtin_frame_address(0), iteration);

        /* In the sweep, a test runs once per failure point: its records are keyed "test@N" (call N fails). */
        if (failing)
                snprintf(key, sizeof key, "%s@%ld", name, failing);
        else
                snprintf(key, sizeof key, "%s", name);
        name = running_test = key;
        *released_problem = '\0';
        any_outcome = false;
        record("begin\t%s\t%s:%d", name, file, line);
        /* A marker in the detector's log, so that the report can tell which records belong to which test. */
        if (detector == KATA_DETECTOR_VALGRIND)
                VALGRIND_PRINTF("kata-test-begin: %s\n", name);
        else if (detector == KATA_DETECTOR_ASAN)
                fprintf(stderr, "kata-test-begin: %s\n", name);
        measure_before(&before);
        sptr_mark = alive_sptr_mark = sptr_track_mark();
        /* Check installs its own SIGALRM handler when the run starts (it kills the process group): take the
         * signal back for each test, so that a hang is recorded before the run ends. */
        signal(SIGALRM, on_alarm);
        alarm(test_timeout);
        body();
        /* What the test's calls left in their dead frames below this one must not hide a lost block. */
        clear_stack(NULL);
        leave_test();
        check_memory(name, &before, summary, sizeof summary);
        check_descriptors(name, &before, summary, sizeof summary);
        if (*released_problem) {
                add_problem(summary, sizeof summary, "%s", released_problem);
                *released_problem = '\0';
        }
        record("end\t%s", name);
        /* A test that passed left the heap as it found it: its last search is the next test's baseline. */
        last_search_is_baseline = detector == KATA_DETECTOR_VALGRIND && !*summary;
        if (*summary)
                fail_at(file, line, "%s: %s", name, summary);
}

/* A heap measurement: the new baseline of the alive records (see the top of this file). */
static void move_alive_baseline(void)
{
        alive_sptr_mark = sptr_track_mark();
        live_since = live_serial;
}

struct kata_heap kata_heap_snapshot(void)
{
        struct measure m = { 0 };

        move_alive_baseline();
        switch (detector) {
        case KATA_DETECTOR_VALGRIND:
                leak_baseline();
                count_leaks(&m);
                return (struct kata_heap){
                        .measured = true,
                        .bytes = m.leaked + m.dubious + m.reachable,
                        .blocks = m.leaked_blocks + m.dubious_blocks + m.reachable_blocks,
                };
        case KATA_DETECTOR_ASAN:
                return (struct kata_heap){ .measured = true, .bytes = __sanitizer_get_current_allocated_bytes() };
        case KATA_DETECTOR_NONE:
                break;
        }
        return (struct kata_heap){ .measured = false };
}

void kata_assert_heap_at_baseline_at(const char *file, int line, const struct kata_heap *before, const char *fmt, ...)
{
        char what[256], held[32], base[32];
        struct kata_heap now;
        va_list ap;

        if (detector == KATA_DETECTOR_VALGRIND) {
                /* The search that measures is also the one that lists, with their stacks, the blocks added
                 * since the snapshot's search: what the report shows when the heap did not come back. */
                struct measure m = { 0 };

                VALGRIND_DO_ADDED_LEAK_CHECK;
                count_leaks(&m);
                now = (struct kata_heap){ .measured = true, .bytes = m.leaked + m.dubious + m.reachable,
                                          .blocks = m.leaked_blocks + m.dubious_blocks + m.reachable_blocks };
                move_alive_baseline();
        } else {
                now = kata_heap_snapshot();
        }
        if (!before->measured || !now.measured)
                return; /* DETECTOR=none: nothing to measure with */
        if (kata_calls_injected())
                return; /* the sweep failed a call: the path changed; the checks at the test's end still judge */
        if (now.bytes <= before->bytes)
                return;

        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        record("growth\t%s\tbytes=%lu\tbaseline=%lu\tat=%s:%d\twhat=%s", running_test ? running_test : "",
               now.bytes - before->bytes, before->bytes, file, line, what);
        /* Under ASan, where the test's still allocated blocks were allocated, grouped by stack. */
        if (detector == KATA_DETECTOR_ASAN && running_test) {
                unsigned long bytes, blocks;

                record_live_blocks(running_test, &bytes, &blocks);
        }
        if (running_test)
                record_outstanding_refs(running_test);
        fail_at(file, line, "%s, the heap is %s bytes above its baseline of %s", what,
                kata_format_count(now.bytes - before->bytes, held, sizeof held),
                kata_format_count(before->bytes, base, sizeof base));
}

void kata_any_outcome(void)
{
        any_outcome = true;
}

/*
 * Under Valgrind, what is alive can only be listed by a leak search, and a search is the baseline that the
 * next one's "added" counts from: one made here would hide, from the checks of the test that come later, every
 * block made before it. So the search runs in a forked child, a copy of the process with the same blocks and
 * the same baseline. Its output goes where the parent's goes, between markers that name the test; once it
 * has written it, the parent kills it (quicker than any exit under Valgrind, and what Valgrind would say of
 * the child's end is not the test's: the report skips it, up to the parent's end marker).
 */
static void search_alive_blocks_in_a_child(const char *name)
{
        pid_t parent = getpid(), pid;
        int done[2];
        char c;

        if (pipe2(done, O_CLOEXEC) < 0)
                return;
        pid = fork();
        if (pid == 0) {
                /* Killed with its parent, should the parent die first (a test's time limit). */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent)
                        _exit(0);
                VALGRIND_PRINTF("kata-alive-begin: %s\n", name);
                VALGRIND_DO_ADDED_LEAK_CHECK;
                VALGRIND_PRINTF("kata-alive-end\n");
                if (write(done[1], "", 1) == 1)
                        for (;;)
                                pause();
                _exit(0);
        }
        close(done[1]);
        if (pid > 0) {
                while (read(done[0], &c, 1) < 0 && errno == EINTR)
                        ;
                kill(pid, SIGKILL);
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                VALGRIND_PRINTF("kata-child-end\n");
        }
        close(done[0]);
}

/* What a failed kata_assert_released() lists: what the body made since the baseline and is alive right after
 * the call, shared objects with their outstanding references, and blocks with where they were allocated. */
static void record_alive(const char *name)
{
        /* A copy of the process under Valgrind costs about 50 ms: a red run makes a few, not one per test. */
        enum { ALIVE_SEARCHES = 3 };
        static int alive_searches;

        sptr_track_outstanding(alive_sptr_mark, 64, record_object_refs, &(struct refs_record){ "aliveref", name });
        switch (detector) {
        case KATA_DETECTOR_VALGRIND:
                if (alive_searches++ < ALIVE_SEARCHES)
                        search_alive_blocks_in_a_child(name);
                else
                        record("alivecap\t%s\tlimit=%d", name, ALIVE_SEARCHES);
                break;
        case KATA_DETECTOR_ASAN: {
                unsigned long bytes, blocks;
                bool was_tracking = tracking;

                record_blocks("aliveat", name, live_since, 16, &bytes, &blocks);
                tracking = was_tracking; /* the body goes on */
                break;
        }
        case KATA_DETECTOR_NONE:
                break;
        }
}

void kata_assert_released_at(const char *file, int line, long now, long before, const char *fmt, ...)
{
        char what[256];
        va_list ap;

        /* Also when the sweep failed a call: a call that fails must still complete or release what it took. */
        if (detector == KATA_DETECTOR_NONE || now <= before)
                return;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        record("released\t%s\theld=%ld\tat=%s:%d\twhat=%s", running_test ? running_test : "", now - before, file,
               line, what);
        /* The report shows a test's first failed check: what was alive then is listed with it. */
        if (!*released_problem) {
                snprintf(released_problem, sizeof released_problem, "%ld %s still held (%ld live, %ld before)",
                         now - before, what, now, before);
                if (running_test)
                        record_alive(running_test);
        }
}

bool kata_call_failed(void)
{
        return kata_calls_injected();
}

void kata_assert_error_path_at(const char *file, int line, bool ok, const char *fmt, ...)
{
        char message[512];
        va_list ap;

        if (ok)
                return;
        va_start(ap, fmt);
        vsnprintf(message, sizeof message, fmt, ap);
        va_end(ap);
        for (char *c = message; *c; c++)
                if (*c == '\t' || *c == '\n')
                        *c = ' ';
        if (running_test)
                record("errpath\t%s\tat=%s:%d\tmessage=%s", running_test, file, line, message);
        fail_at(file, line, "on the error path: %s", message);
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
                fail_assert_at(file, line, "pipe() failed: %s", strerror(errno));
        pid = fork();
        if (pid < 0)
                fail_assert_at(file, line, "fork() failed: %s", strerror(errno));
        if (pid == 0) {
                /* What Valgrind says of this child (its search at exit) is not the test's: the report skips
                 * it, up to the parent's end marker below. */
                if (detector == KATA_DETECTOR_VALGRIND)
                        VALGRIND_PRINTF("kata-child-begin\n");
                /* No core file: with 'ulimit -c unlimited' each aborting child would leave megabytes. */
                setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
                default_crash_signals();
                alarm(0);
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
        if (detector == KATA_DETECTOR_VALGRIND)
                VALGRIND_PRINTF("kata-child-end\n");

        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
                fail_assert_at(file, line, "%s() was expected to abort, but it %s", fn_name,
                        WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "returned");
        if (expected && !strstr(output, expected))
                fail_assert_at(file, line, "%s() aborted, but its message \"%s\" does not contain \"%s\"", fn_name, output,
                        expected);
}

static enum kata_detector detector_from_environment(void)
{
        const char *want = getenv("KATA_DETECTOR");

        if (!want || !*want) {
                /* Run by hand: use whatever this process has. */
                if (RUNNING_ON_VALGRIND)
                        return KATA_DETECTOR_VALGRIND;
                return __lsan_do_recoverable_leak_check ? KATA_DETECTOR_ASAN : KATA_DETECTOR_NONE;
        }
        if (strcmp(want, "valgrind") == 0) {
                if (!RUNNING_ON_VALGRIND) {
                        fprintf(stderr, "%s: KATA_DETECTOR=valgrind, but this binary is not running under "
                                        "Valgrind, so no leak could be seen; run it with 'make check'.\n",
                                kata_name);
                        exit(KATA_EXIT_ENVIRONMENT);
                }
                return KATA_DETECTOR_VALGRIND;
        }
        if (strcmp(want, "asan") == 0) {
                if (!__lsan_do_recoverable_leak_check) {
                        fprintf(stderr, "%s: KATA_DETECTOR=asan, but this binary was built without "
                                        "AddressSanitizer; run 'make check DETECTOR=asan'.\n", kata_name);
                        exit(KATA_EXIT_ENVIRONMENT);
                }
                return KATA_DETECTOR_ASAN;
        }
        if (strcmp(want, "none") == 0)
                return KATA_DETECTOR_NONE;
        fprintf(stderr, "%s: unknown KATA_DETECTOR '%s': use valgrind, asan or none.\n", kata_name, want);
        exit(KATA_EXIT_ENVIRONMENT);
}

static void open_records(void)
{
        const char *path = getenv("KATA_RECORDS_FILE"), *timeout = getenv("KATA_TEST_TIMEOUT");

        if (path && *path)
                records_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (timeout && atoi(timeout) > 0)
                test_timeout = (unsigned) atoi(timeout);
        for (size_t i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++)
                signal(crash_signals[i], on_crash);
        if (detector == KATA_DETECTOR_ASAN)
                __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
}

/*
 * libc keeps some memory from the first call of a function on (stdio buffers, the messages of strerror() and
 * strsignal(), the dynamic linker's symbol lookup): make those first calls here, before any test, so that
 * no test is blamed for bytes that only its position in the run made it allocate.
 */
static void warm_up(void)
{
        char stack[256];
        void *here = (void *) (uintptr_t) &warm_up;

        (void) strerror(ENOENT);
        (void) strsignal(SIGSEGV);
        (void) format_stack(&here, 1, stack, sizeof stack);
        (void) kata_count_open_fds();
        fflush(NULL);
}

/* The tests' main, called by kata_main.c's main() in a test binary, or by the launcher kata_prewarm.c
 * once it has loaded the tests as a shared library. */
int kata_main(void);
int kata_main(void)
{
        Suite *suite = suite_create(kata_name);
        TCase *tc = tcase_create(kata_name);
        const char *tap = getenv("KATA_TAP_FILE"), *xml = getenv("KATA_XML_FILE");
        int run, failed;

        detector = detector_from_environment();
        /*
         * Under Valgrind, no search at exit: it would list every block still allocated, with its stack (the
         * tests' leaks, each reported already, and what libc keeps: a third of the log). The tests' own
         * searches are client requests, which this does not turn off. Set now, not after the tests: a run
         * stopped at its time limit would search at exit while a test forked from it (CK_FORK=yes) still
         * wrote to the same log, and the two would mix in it; and forked tests inherit it.
         */
        if (detector == KATA_DETECTOR_VALGRIND)
                VALGRIND_CLO_CHANGE("--leak-check=no");
        open_records();
        warm_up();
        kata_register(tc);
        suite_add_tcase(suite, tc);

        SRunner *runner = srunner_create(suite);
        if (tap && *tap)
                srunner_set_tap(runner, tap);
        if (xml && *xml)
                srunner_set_xml(runner, xml);

        srunner_run_all(runner, CK_ENV);
        /* What the detector reports after this line belongs to no single test. */
        if (detector == KATA_DETECTOR_VALGRIND)
                VALGRIND_PRINTF("kata-tests-done\n");
        else if (detector == KATA_DETECTOR_ASAN)
                fprintf(stderr, "kata-tests-done\n");
        run = srunner_ntests_run(runner);
        failed = srunner_ntests_failed(runner);
        srunner_free(runner);
        /*
         * A block lost outside any test (in a fixture's teardown, say) fails the run too. Under Valgrind, one
         * search for what was lost since the last test's (there is none at exit: see above); a lost block
         * makes Valgrind exit with 99 (run-tests). Under ASan (no search at exit: LSAN_OPTIONS), one search
         * too; the tests' own blocks are ignored already.
         */
        if (detector == KATA_DETECTOR_VALGRIND) {
                VALGRIND_DO_ADDED_LEAK_CHECK;
        } else if (detector == KATA_DETECTOR_ASAN && lost_blocks_found() && !failed && run > 0) {
                return KATA_EXIT_LOST_OUTSIDE;
        }

        if (run == 0) {
                fprintf(stderr, "%s: no test ran: CK_RUN_CASE, CK_RUN_SUITE or the tags selected nothing "
                                "(the tests are in the case '%s').\n", kata_name, kata_name);
                return KATA_EXIT_ENVIRONMENT;
        }
        return failed ? KATA_EXIT_FAILED : KATA_EXIT_PASSED;
}
