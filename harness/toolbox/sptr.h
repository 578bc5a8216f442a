/* SPDX-License-Identifier: MIT */
/*
 * sptr.h: a shared pointer for C, modelled on the contracts of SRS's SrsSharedPtr (the fix of its source
 * and GB28181 leaks), with one allocation per shared object: a small header sits before the object, as in
 * GLib's GRcBox.
 *
 *   struct source *s = sptr_new_of(struct source, source_destroy);
 *                                         count 1: the caller holds it (transfer full)
 *   struct source *t = sptr_ref(s);       count 2: sharing copies nothing, builds nothing
 *   s = sptr_unref(s);                    count 1: returns NULL; t still holds the object
 *   sptr_assign(pool_slot, t);            slot takes a reference, releases its old object
 *   t = sptr_unref(t);                    ... the last release calls source_destroy() once, then frees the
 *                                         memory
 *
 * Contracts (each has a test in harness/toolbox/tests):
 *   - sptr_ref() shares: it returns its argument and constructs nothing;
 *   - the object is destroyed exactly once, when the last holder releases it;
 *   - assigning over a holder releases the object it held; assigning a holder to itself changes nothing;
 *   - NULL is a valid, empty shared pointer: it can be referenced, released and assigned;
 *   - in debug builds (no NDEBUG) releasing more often than referencing, or touching a released object,
 *     aborts with a message that names the caller's file and line (best effort: see "Misuse" below).
 * Mistakes the compiler catches (harness/toolbox/tests/misuse_warnings.c): free() on a shared object (gcc 11
 * and later: -Wmismatched-dealloc), a dropped sptr_unref() result, sptr_new_of() of another type than the
 * variable's.
 *
 * Threads. One object's count is a plain unsigned, not atomic: all references to one object must be taken
 * and released on one thread at a time (as in SRS, whose coroutines share one OS thread), or under a lock
 * of yours. Objects that threads do not share need nothing: sptr_live_count() is atomic, and nothing else
 * is shared between objects.
 *
 * Misuse. The debug checks read the header of the object they are given. After the last release that
 * memory is freed, so the checks are best effort: a stale sptr_unref() finds the header marked dead only
 * while the block has not been reused. In debug builds sptr keeps the last 64 released blocks from being
 * reused (a quarantine: they are freed later), so that a stale call soon after the release aborts at the
 * stale caller. Under Valgrind and the sanitizers, which keep freed memory from reuse themselves and
 * report the invalid read with its stack, the quarantine is off. Past it, a stale sptr_unref() can land on
 * a new object that reused the block, release that object's reference, and the abort (if any) comes later
 * at an innocent holder. Release builds (NDEBUG) check nothing but overflow of the count.
 *
 * Reference cycles are not collected: ownership goes down (parent holds a counted reference to child),
 * back-pointers go up raw (child holds a plain pointer to parent, which outlives it).
 */
#pragma once

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "cleanup.h"

/* Destroys the object's contents (not its memory) when the last reference goes. May be NULL. */
typedef void (*sptr_destroy_fn)(void *object);

/* ---- private: the header before every shared object, for the inline functions below ---------------- */

#define SPTR_ALIVE_ 0x5350a11eu
#define SPTR_DEAD_ 0x5350deadu

struct sptr_header_ {
        unsigned count;
        uint32_t magic; /* SPTR_ALIVE_ while the object lives, SPTR_DEAD_ from its last release on */
        sptr_destroy_fn destroy;
        /* The object starts here. Aligned like max_align_t (16 bytes on x86-64), which is enough for every
         * fundamental type, not for an over-aligned one (alignas(32) and above): do not share those. */
        max_align_t object[];
};

static inline struct sptr_header_ *sptr_header_of_(const void *object)
{
        return (struct sptr_header_ *) ((uintptr_t) object - offsetof(struct sptr_header_, object));
}

/* Out of line and cold: the last release, and the messages. */
void sptr_release_(void *object);
__attribute__((__noreturn__, __cold__)) void sptr_misuse_(const void *object, const char *operation,
                                                          const char *file, int line);

/* Reference tracking (SPTR_TRACK_REFS, see "Where the references were taken" below): out of line, and only
 * in builds that define it. */
#ifdef SPTR_TRACK_REFS
void sptr_track_ref_(const void *object, const char *operation, const char *file, int line, const char *function);
void sptr_track_unref_(const void *object, const char *file);
#endif

static inline void *sptr_ref_at_(void *object, const char *operation, const char *file, int line,
                                 const char *function)
{
        struct sptr_header_ *header;

        (void) operation;
        (void) function;
        if (!object)
                return NULL;
        header = sptr_header_of_(object);
#ifndef NDEBUG
        /* Count 0 only while destroy() runs: a reference taken then would outlive the memory. */
        if (__builtin_expect(header->magic != SPTR_ALIVE_ || header->count - 1 >= UINT_MAX - 1, 0))
                sptr_misuse_(object, "sptr_ref", file, line);
#else
        if (__builtin_expect(header->count == UINT_MAX, 0))
                sptr_misuse_(object, "sptr_ref", file, line);
#endif
        header->count++;
#ifdef SPTR_TRACK_REFS
        sptr_track_ref_(object, operation, file, line, function);
#endif
        return object;
}

static inline void *sptr_unref_at_(void *object, const char *file, int line)
{
        struct sptr_header_ *header;

        if (!object)
                return NULL;
        header = sptr_header_of_(object);
#ifndef NDEBUG
        if (__builtin_expect(header->magic != SPTR_ALIVE_ || header->count == 0, 0))
                sptr_misuse_(object, "sptr_unref", file, line);
#else
        (void) file;
        (void) line;
#endif
#ifdef SPTR_TRACK_REFS
        sptr_track_unref_(object, file);
#endif
        if (--header->count == 0)
                sptr_release_(object);
        return NULL;
}

/* sptr_unref_at_() out of line, with no location: what sptr_new() names as its deallocator. */
void *sptr_unref_(void *object);

/* gcc 11 and later pair an allocator with its deallocator, so that free() or realloc() on a shared object
 * is a warning (-Wmismatched-dealloc, in -Wall). clang 14 has no such attribute. gcc's -fanalyzer would take
 * the pairing as a plain malloc/free and, unable to follow the count, report leaks and double frees that are
 * not there: define SPTR_NO_DEALLOCATOR when you run it (harness/tools/lint does). */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 && !defined(SPTR_NO_DEALLOCATOR)
#define SPTR_DEALLOCATOR_ __attribute__((__malloc__(sptr_unref_, 1)))
#else
#define SPTR_DEALLOCATOR_
#endif

/* ---- the API --------------------------------------------------------------------------------------- */

/* Allocates a zeroed object of `size` bytes with a count of 1. Returns it (transfer full: release it with
 * sptr_unref(), never free()), or NULL when out of memory. destroy runs exactly once, on the last release.
 * Prefer sptr_new_of(), which takes the type and cannot get the size wrong. */
void *sptr_new(size_t size, sptr_destroy_fn destroy) __attribute__((__warn_unused_result__)) SPTR_DEALLOCATOR_;
/* sptr_new() that names its caller, for reference tracking (in other builds the location is ignored). */
void *sptr_new_at_(size_t size, sptr_destroy_fn destroy, const char *file, int line, const char *function)
        __attribute__((__warn_unused_result__)) SPTR_DEALLOCATOR_;
#ifdef SPTR_TRACK_REFS
#define sptr_new(size, destroy) sptr_new_at_((size), (destroy), __FILE__, __LINE__, __func__)
#endif

/* A new zeroed `type` with a count of 1, as a `type *` (transfer full), or NULL when out of memory:
 *   struct source *source = sptr_new_of(struct source, source_destroy);
 * like GLib's g_rc_box_new(Type). */
#define sptr_new_of(type, destroy) ((type *) sptr_new(sizeof(type), (destroy)))

/* Takes one more reference to object and returns it (the new reference: transfer full). NULL gives NULL. */
#define sptr_ref(object) ((__typeof__(object)) sptr_ref_at_((object), "sptr_ref", __FILE__, __LINE__, __func__))

/* Releases one reference (transfer full); on the last, destroys and frees the object. Accepts NULL.
 * Returns NULL (a void *, so that no cast hides it from clang), and the result must be used:
 * `p = sptr_unref(p);` leaves no dangling pointer. */
#define sptr_unref(object) must_use_(sptr_unref_at_((object), __FILE__, __LINE__))

/* holder = object, for a variable or field that holds a reference: takes a reference to object first,
 * then releases what holder held, so that assigning a holder to itself is harmless. */
#define sptr_assign(holder, object)                                                                         \
        __extension__({                                                                                     \
                __typeof__(holder) *sptr_holder_ = &(holder);                                               \
                __typeof__(holder) sptr_new_value_ =                                                        \
                        sptr_ref_at_((object), "sptr_assign", __FILE__, __LINE__, __func__);                \
                __typeof__(holder) sptr_old_value_ = *sptr_holder_;                                         \
                *sptr_holder_ = sptr_new_value_;                                                            \
                (void) sptr_unref_at_(sptr_old_value_, __FILE__, __LINE__);                                \
        })

/* For _cleanup_(sptr_unrefp): releases the reference a variable holds when it goes out of scope. */
static inline void sptr_unrefp(void *holder)
{
        void **object = holder;

        *object = sptr_unref_at_(*object, NULL, 0);
}
#define _cleanup_sptr_ _cleanup_(sptr_unrefp)

/* How many references object has (0 for NULL). For tests and assertions, not for deciding ownership. */
unsigned sptr_count(const void *object);

/* How many shared objects are alive in this process, over all threads. Tests assert it returns to where it
 * was. */
unsigned long sptr_live_count(void);

/*
 * Where the references were taken (SPTR_TRACK_REFS; harness/kata.mk defines it in every kata build). Each
 * sptr_new(), sptr_ref() and sptr_assign() records its file, line and function; each release forgets one
 * record of the object it releases. A reference has no name, so which record a release forgets is a guess:
 * the newest one taken in the same file as the release (a field released where it was set, a temporary),
 * else the one sptr_new() made (a reference handed over by whoever made the object), else the oldest. What
 * is left of a leaked object is where its outstanding references were most likely taken.
 *
 * The records live outside the heap (memory mapped by the toolbox itself, so that neither the detectors
 * nor the harness count them) and hold object addresses disguised, so that they keep nothing reachable.
 * Builds without SPTR_TRACK_REFS have the same functions, which find nothing.
 */
struct sptr_track_site {
        const char *operation; /* "sptr_new", "sptr_ref" or "sptr_assign" */
        const char *file, *function;
        int line;
};

struct sptr_track_object {
        unsigned long id;             /* the n-th object made in this process */
        struct sptr_track_site made;  /* where sptr_new() made it */
        unsigned count;
        unsigned long holds[8];       /* ids of the other listed objects whose address its memory holds */
        unsigned hold_count;          /* how many of holds[] are set */
        struct sptr_track_site refs[8]; /* its outstanding references, oldest first (the first 8) */
        unsigned ref_count;           /* how many refs[] are set */
};

/* The id the next object will get: objects made from now on have ids at least this. 0 when not tracking. */
unsigned long sptr_track_mark(void);

/* Calls visit(object, total, arg) for each object made since mark that is still alive, oldest first, at most
 * limit of them (total: how many there are in all); returns total. visit must not call sptr: the records
 * are locked while it runs. */
unsigned long sptr_track_outstanding(unsigned long mark, unsigned limit,
                                     void (*visit)(const struct sptr_track_object *object, unsigned long total,
                                                   void *arg),
                                     void *arg);
