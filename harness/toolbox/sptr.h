/* SPDX-License-Identifier: MIT */
/*
 * sptr.h: a shared pointer for C, modelled on the contracts of SRS's SrsSharedPtr (the fix of its source
 * and GB28181 leaks), with one allocation per shared object: a small header sits before the object, as in
 * GLib's GRcBox. The count is a plain unsigned (single-threaded, like SRS's coroutines).
 *
 *   struct source *s = sptr_new(sizeof *s, source_destroy);  count 1: the caller holds it (transfer full)
 *   struct source *t = sptr_ref(s);                          count 2: sharing copies nothing, builds nothing
 *   s = sptr_unref(s);                                       count 1: returns NULL; t still holds the object
 *   sptr_assign(pool_slot, t);                               slot takes a reference, releases its old object
 *   t = sptr_unref(t);                                       ... the last release calls source_destroy()
 *                                                            once, then frees the memory
 *
 * Contracts (each has a test in harness/toolbox/tests):
 *   - sptr_ref() shares: it returns its argument and constructs nothing;
 *   - the object is destroyed exactly once, when the last holder releases it;
 *   - assigning over a holder releases the object it held; assigning a holder to itself changes nothing;
 *   - NULL is a valid, empty shared pointer: it can be referenced, released and assigned;
 *   - in debug builds (no NDEBUG) releasing more often than referencing, or touching a released object,
 *     aborts with a message instead of corrupting memory.
 *
 * Reference cycles are not collected: ownership goes down (parent holds a counted reference to child),
 * back-pointers go up raw (child holds a plain pointer to parent, which outlives it).
 */
#pragma once

#include <stddef.h>

/* Destroys the object's contents (not its memory) when the last reference goes. May be NULL. */
typedef void (*sptr_destroy_fn)(void *object);

/* Allocates a zeroed object of `size` bytes with a count of 1. Returns it (transfer full), or NULL when
 * out of memory. destroy runs exactly once, on the last release. */
void *sptr_new(size_t size, sptr_destroy_fn destroy) __attribute__((__warn_unused_result__));

/* Takes one more reference to object and returns it (the new reference: transfer full). NULL gives NULL. */
void *sptr_ref_(void *object);
#define sptr_ref(object) ((__typeof__(object)) sptr_ref_(object))

/* Releases one reference (transfer full); on the last, destroys and frees the object. Accepts NULL.
 * Returns NULL, so that `p = sptr_unref(p);` leaves no dangling pointer. */
void *sptr_unref_(void *object);
#define sptr_unref(object) ((__typeof__(object)) sptr_unref_(object))

/* holder = object, for a variable or field that holds a reference: takes a reference to object first,
 * then releases what holder held, so that assigning a holder to itself is harmless. */
#define sptr_assign(holder, object)                                                                         \
        __extension__({                                                                                     \
                __typeof__(holder) *sptr_holder_ = &(holder);                                               \
                __typeof__(holder) sptr_new_value_ = sptr_ref(object);                                      \
                __typeof__(holder) sptr_old_value_ = *sptr_holder_;                                         \
                *sptr_holder_ = sptr_new_value_;                                                            \
                (void) sptr_unref(sptr_old_value_);                                                         \
        })

/* For _cleanup_(sptr_unrefp): releases the reference a variable holds when it goes out of scope. */
void sptr_unrefp(void *holder);
#define _cleanup_sptr_ __attribute__((__cleanup__(sptr_unrefp), __unused__))

/* How many references object has (0 for NULL). For tests and assertions, not for deciding ownership. */
unsigned sptr_count(const void *object);

/* How many shared objects are alive in this process. Tests assert it returns to where it was. */
unsigned long sptr_live_count(void);
