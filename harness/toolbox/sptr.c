/* SPDX-License-Identifier: MIT */
#include "sptr.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define SPTR_HAVE_VALGRIND_H 1
#endif
#endif

/* Atomic, so that threads that share no object can make and release objects at the same time. Relaxed: it
 * orders nothing, it only counts. */
static atomic_ulong live_objects;

#ifdef SPTR_TRACK_REFS
static void track_new(void *object, size_t size, const char *file, int line, const char *function);
static void track_release(const void *object);
#else
#define track_new(object, size, file, line, function) ((void) 0)
#define track_release(object) ((void) 0)
#endif

/* The body of sptr_new() and sptr_new_at_(), inlined in both: sptr_new() costs no more than before. */
static inline __attribute__((__always_inline__)) void *new_object(size_t size, sptr_destroy_fn destroy,
                                                                  const char *file, int line, const char *function)
{
        struct sptr_header_ *header;

        (void) file;
        (void) line;
        (void) function;

        if (size > SIZE_MAX - sizeof *header)
                return NULL;
        /* malloc and memset rather than calloc: glibc's calloc does not use the per-thread cache. */
        header = malloc(sizeof *header + size);
        if (!header)
                return NULL;
        memset(header->object, 0, size);
        header->count = 1;
        header->magic = SPTR_ALIVE_;
        header->destroy = destroy;
        atomic_fetch_add_explicit(&live_objects, 1, memory_order_relaxed);
        track_new(header->object, size, file, line, function);
        /* The caller's pointer points just past the header, into the same block, and sptr_unref() frees
         * the block: not a leak, though gcc's analyzer and cppcheck cannot see it. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
#endif
        return header->object; // cppcheck-suppress memleak
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
}

/* Parenthesised: with SPTR_TRACK_REFS, sptr.h makes sptr_new() a macro that names its caller. */
void *(sptr_new)(size_t size, sptr_destroy_fn destroy)
{
        return new_object(size, destroy, NULL, 0, NULL);
}

void *sptr_new_at_(size_t size, sptr_destroy_fn destroy, const char *file, int line, const char *function)
{
        return new_object(size, destroy, file, line, function);
}

#ifndef NDEBUG
/* The quarantine of debug builds: the last QUARANTINE_SIZE released blocks, kept from reuse (each is freed
 * when a later release takes its slot), so that a stale call on one of them still finds SPTR_DEAD_ and
 * aborts at the stale caller. Off where a detector keeps freed memory from reuse itself. */
#define QUARANTINE_SIZE 64
static _Atomic(struct sptr_header_ *) quarantine[QUARANTINE_SIZE];
static atomic_uint quarantine_next;

/* Present when the program is linked with a sanitizer's runtime, even if this file was built without one
 * (the harness's allocation-failure sweep links plain objects with AddressSanitizer's). */
void __sanitizer_print_stack_trace(void) __attribute__((__weak__));

static bool quarantine_wanted(void)
{
        if (__sanitizer_print_stack_trace)
                return false;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
        return false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
        return false;
#endif
#endif
#ifdef SPTR_HAVE_VALGRIND_H
        return !RUNNING_ON_VALGRIND;
#else
        return true;
#endif
}

static void free_later(struct sptr_header_ *header)
{
        unsigned slot;

        if (!quarantine_wanted()) {
                free(header);
                return;
        }
        slot = atomic_fetch_add_explicit(&quarantine_next, 1, memory_order_relaxed) % QUARANTINE_SIZE;
        free(atomic_exchange_explicit(&quarantine[slot], header, memory_order_acq_rel));
}
#else
#define free_later free
#endif

void sptr_release_(void *object)
{
        struct sptr_header_ *header = sptr_header_of_(object);

        if (header->destroy)
                header->destroy(object);
        track_release(object);
        header->magic = SPTR_DEAD_;
        atomic_fetch_sub_explicit(&live_objects, 1, memory_order_relaxed);
        free_later(header);
}

void sptr_misuse_(const void *object, const char *operation, const char *file, int line)
{
        const struct sptr_header_ *header = sptr_header_of_(object);
        char where[256] = "";

        if (file)
                snprintf(where, sizeof where, " at %s:%d", file, line);
        if (header->magic != SPTR_ALIVE_)
                fprintf(stderr, "sptr: %s%s of %p, which is not a live shared object (released already, or never "
                                "made by sptr_new)\n", operation, where, object);
        else if (header->count == 0)
                fprintf(stderr, "sptr: %s%s of %p, whose count is %s\n", operation, where, object,
                        strcmp(operation, "sptr_unref") == 0 ? "already 0" : "0 (it is being destroyed)");
        else
                fprintf(stderr, "sptr: %s%s of %p: its reference count overflows\n", operation, where, object);
        abort();
}

void *sptr_unref_(void *object)
{
        return sptr_unref_at_(object, NULL, 0);
}

unsigned sptr_count(const void *object)
{
        if (!object)
                return 0;
#ifndef NDEBUG
        if (sptr_header_of_(object)->magic != SPTR_ALIVE_)
                sptr_misuse_(object, "sptr_count", NULL, 0);
#endif
        return sptr_header_of_(object)->count;
}

unsigned long sptr_live_count(void)
{
        return atomic_load_explicit(&live_objects, memory_order_relaxed);
}

/* ---- where the references were taken (SPTR_TRACK_REFS) ---------------------------------------------- */

#ifdef SPTR_TRACK_REFS
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* A reference, in a pool; next: the index + 1 of the object's next older reference (0: none). */
struct track_ref {
        struct sptr_track_site site;
        unsigned next;
};

/* A live object, in a pool of stable slots; refs: its newest reference (index + 1); older, newer: the
 * neighbours in the order objects were made (index + 1), newer also links the free slots. */
struct track_object {
        uintptr_t key; /* the address, disguised: a plain one would keep a leaked object reachable */
        size_t size;
        unsigned long id;
        struct sptr_track_site made;
        unsigned refs, older, newer;
};

#define TRACK_MASK ((uintptr_t) 0xa5a5a5a5a5a5a5a5ull)
#define TRACK_TOMBSTONE UINT_MAX

/* Everything lives in memory mapped with raw system calls: the harness renames the toolbox's mmap() and
 * malloc() to its own, which count (and fail, in the allocation-failure sweep) what the code under test
 * takes. syscall() is variadic: every argument is passed as a long, so that none has undefined upper bits. */
static struct {
        atomic_flag lock;
        struct track_object *objects;
        unsigned objects_cap, objects_used, free_objects, newest;
        unsigned *table; /* open addressing: index + 1 of an object slot, 0 empty, TRACK_TOMBSTONE removed */
        unsigned table_cap, table_filled;
        struct track_ref *refs;
        unsigned refs_cap, refs_used, free_refs;
        unsigned long next_id;
} track = { .lock = ATOMIC_FLAG_INIT, .next_id = 1 };

static void track_lock(void)
{
        while (atomic_flag_test_and_set_explicit(&track.lock, memory_order_acquire))
                ;
}

static void track_unlock(void)
{
        atomic_flag_clear_explicit(&track.lock, memory_order_release);
}

/* Grows a raw mapping of *cap elements of size bytes to twice as many (at least minimum); false if not. */
static bool track_grow(void **memory, unsigned *cap, size_t size, unsigned minimum)
{
        unsigned wanted = *cap ? *cap * 2 : minimum;
        long result;

        if (!*memory)
                result = syscall(SYS_mmap, NULL, (size_t) wanted * size, (long) (PROT_READ | PROT_WRITE),
                                 (long) (MAP_PRIVATE | MAP_ANONYMOUS), -1L, 0L);
        else
                result = syscall(SYS_mremap, *memory, (size_t) *cap * size, (size_t) wanted * size,
                                 (long) MREMAP_MAYMOVE);
        if (result == -1)
                return false;
        *memory = (void *) result;
        *cap = wanted;
        return true;
}

static size_t track_hash(uintptr_t key, unsigned cap)
{
        return (size_t) ((key >> 4) * 11400714819323198485ull >> 32) & (cap - 1);
}

/* The table slot that holds key, or the empty slot where it would go. */
static unsigned *track_find(uintptr_t key)
{
        for (size_t i = track_hash(key, track.table_cap);; i = (i + 1) & (track.table_cap - 1)) {
                unsigned at = track.table[i];

                if (at == 0 || (at != TRACK_TOMBSTONE && track.objects[at - 1].key == key))
                        return &track.table[i];
        }
}

static struct track_object *track_object_of(const void *object)
{
        unsigned *slot;

        if (!track.table_cap)
                return NULL;
        slot = track_find((uintptr_t) object ^ TRACK_MASK);
        return *slot ? &track.objects[*slot - 1] : NULL;
}

/* Keeps the table at most half full (tombstones counted), rebuilding it twice as big when needed. */
static bool track_table_room(void)
{
        unsigned *old = track.table, old_cap = track.table_cap;
        unsigned cap = old_cap ? old_cap : 1024;
        long result;

        if (track.table_filled + 1 <= old_cap / 2)
                return true;
        if (track.objects_used + 1 > cap / 4)
                cap *= 2;
        result = syscall(SYS_mmap, NULL, (size_t) cap * sizeof *track.table, (long) (PROT_READ | PROT_WRITE),
                         (long) (MAP_PRIVATE | MAP_ANONYMOUS), -1L, 0L);
        if (result == -1)
                return false;
        track.table = (unsigned *) result;
        track.table_cap = cap;
        track.table_filled = 0;
        for (unsigned i = 0; i < old_cap; i++)
                if (old[i] && old[i] != TRACK_TOMBSTONE) {
                        *track_find(track.objects[old[i] - 1].key) = old[i];
                        track.table_filled++;
                }
        if (old)
                syscall(SYS_munmap, old, (size_t) old_cap * sizeof *old);
        return true;
}

/* Adds a reference record to o (newest first); false when out of memory (the reference goes unrecorded). */
static void track_add_ref(struct track_object *o, struct sptr_track_site site)
{
        unsigned at;

        if (track.free_refs) {
                at = track.free_refs;
                track.free_refs = track.refs[at - 1].next;
        } else {
                if (track.refs_used == track.refs_cap &&
                    !track_grow((void **) &track.refs, &track.refs_cap, sizeof *track.refs, 4096))
                        return;
                at = ++track.refs_used;
        }
        track.refs[at - 1] = (struct track_ref){ .site = site, .next = o->refs };
        o->refs = at;
}

static void track_new(void *object, size_t size, const char *file, int line, const char *function)
{
        struct track_object *o;
        unsigned at;

        track_lock();
        if (!track_table_room())
                goto out;
        if (track.free_objects) {
                at = track.free_objects;
                track.free_objects = track.objects[at - 1].newer;
        } else {
                if (track.objects_used == track.objects_cap &&
                    !track_grow((void **) &track.objects, &track.objects_cap, sizeof *track.objects, 1024))
                        goto out;
                at = ++track.objects_used;
        }
        o = &track.objects[at - 1];
        *o = (struct track_object){
                .key = (uintptr_t) object ^ TRACK_MASK,
                .size = size,
                .id = track.next_id++,
                .made = { "sptr_new", file, function, line },
                .older = track.newest,
        };
        if (track.newest)
                track.objects[track.newest - 1].newer = at;
        track.newest = at;
        *track_find(o->key) = at;
        track.table_filled++;
        track_add_ref(o, o->made);
out:
        track_unlock();
}

void sptr_track_ref_(const void *object, const char *operation, const char *file, int line, const char *function)
{
        struct track_object *o;

        track_lock();
        o = track_object_of(object);
        if (o)
                track_add_ref(o, (struct sptr_track_site){ operation, file, function, line });
        track_unlock();
}

static bool same_file(const char *a, const char *b)
{
        return a && b && strcmp(a, b) == 0;
}

/* Forgets one reference record of object: which one, see sptr.h. */
void sptr_track_unref_(const void *object, const char *file)
{
        struct track_object *o;
        unsigned *link, *chosen = NULL, *made = NULL, *oldest = NULL;

        track_lock();
        o = track_object_of(object);
        for (link = o ? &o->refs : NULL; link && *link; link = &track.refs[*link - 1].next) {
                struct track_ref *r = &track.refs[*link - 1];

                if (!chosen && same_file(r->site.file, file))
                        chosen = link;
                if (strcmp(r->site.operation, "sptr_new") == 0)
                        made = link;
                oldest = link;
        }
        if (!chosen)
                chosen = made ? made : oldest;
        if (chosen) {
                unsigned at = *chosen;

                *chosen = track.refs[at - 1].next;
                track.refs[at - 1].next = track.free_refs;
                track.free_refs = at;
        }
        track_unlock();
}

static void track_release(const void *object)
{
        struct track_object *o;
        unsigned at, *slot;

        track_lock();
        o = track_object_of(object);
        if (!o)
                goto out;
        while (o->refs) {
                unsigned r = o->refs;

                o->refs = track.refs[r - 1].next;
                track.refs[r - 1].next = track.free_refs;
                track.free_refs = r;
        }
        slot = track_find(o->key);
        at = *slot;
        *slot = TRACK_TOMBSTONE;
        if (o->older)
                track.objects[o->older - 1].newer = o->newer;
        if (o->newer)
                track.objects[o->newer - 1].older = o->older;
        if (track.newest == at)
                track.newest = o->older;
        o->key = 0;
        o->newer = track.free_objects;
        track.free_objects = at;
out:
        track_unlock();
}

unsigned long sptr_track_mark(void)
{
        unsigned long mark;

        track_lock();
        mark = track.next_id;
        track_unlock();
        return mark;
}

unsigned long sptr_track_outstanding(unsigned long mark, unsigned limit,
                                     void (*visit)(const struct sptr_track_object *object, unsigned long total,
                                                   void *arg),
                                     void *arg)
{
        unsigned long total = 0, last_listed = 0;
        unsigned at, oldest = 0;

        track_lock();
        /* From the newest back to the first made since mark. */
        for (at = track.newest; at && track.objects[at - 1].id >= mark; at = track.objects[at - 1].older) {
                total++;
                oldest = at;
        }
        for (at = oldest; at && limit; at = track.objects[at - 1].newer, limit--)
                last_listed = track.objects[at - 1].id;
        /* Reading the objects' memory below may read bytes the program never set (padding it copied in):
         * not the program's error, so Valgrind is told not to report it. */
#ifdef SPTR_HAVE_VALGRIND_H
        VALGRIND_DISABLE_ERROR_REPORTING;
#endif
        for (at = oldest; at && track.objects[at - 1].id <= last_listed; at = track.objects[at - 1].newer) {
                const struct track_object *o = &track.objects[at - 1];
                const unsigned char *memory = (const unsigned char *) (o->key ^ TRACK_MASK);
                struct sptr_track_object shown = { .id = o->id, .made = o->made };
                unsigned newest_first[8], n = 0;

                shown.count = sptr_header_of_(memory)->count;
                for (size_t offset = 0; offset + sizeof(void *) <= o->size; offset += sizeof(void *)) {
                        uintptr_t word;
                        const struct track_object *held;

                        memcpy(&word, memory + offset, sizeof word);
                        held = word ? track_object_of((const void *) word) : NULL;
                        if (held && held != o && held->id >= mark && held->id <= last_listed &&
                            shown.hold_count < 8)
                                shown.holds[shown.hold_count++] = held->id;
                }
                for (unsigned r = o->refs; r; r = track.refs[r - 1].next) {
                        if (n == 8)
                                memmove(newest_first, newest_first + 1, --n * sizeof *newest_first);
                        newest_first[n++] = r;
                }
                /* newest_first holds the 8 oldest, newest first: list them oldest first. */
                while (n)
                        shown.refs[shown.ref_count++] = track.refs[newest_first[--n] - 1].site;
                visit(&shown, total, arg);
        }
#ifdef SPTR_HAVE_VALGRIND_H
        VALGRIND_ENABLE_ERROR_REPORTING;
#endif
        track_unlock();
        return total;
}
#else
unsigned long sptr_track_mark(void)
{
        return 0;
}

unsigned long sptr_track_outstanding(unsigned long mark, unsigned limit,
                                     void (*visit)(const struct sptr_track_object *object, unsigned long total,
                                                   void *arg),
                                     void *arg)
{
        (void) mark;
        (void) limit;
        (void) visit;
        (void) arg;
        return 0;
}
#endif
