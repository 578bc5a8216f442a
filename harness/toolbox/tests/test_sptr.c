/* SPDX-License-Identifier: MIT */
/*
 * Tests for sptr.h. Most port SRS's SrsSharedPtr / SrsSharedResource unit tests (trunk/src/utest,
 * TEST(CoreSmartPtr, ...)): each says which one. C has no constructors or destructors, so
 *   - copying a SrsSharedPtr              is sptr_ref() (or sptr_assign() into a variable that holds one);
 *   - reset() and leaving a scope         are sptr_unref() and _cleanup_sptr_;
 *   - moving                              is TAKE_PTR();
 *   - SrsSharedResource                   is a holder struct whose field is assigned with sptr_assign().
 * SRS's API shows no count, so its tests watch objects die through MockWrapper, which increments a counter
 * when built and decrements it when destroyed; mock_wrapper below does the same. The tests here also check
 * sptr_count() and sptr_live_count(), which SRS could not. SRS tests of C++'s own operators (bool
 * conversion, operator* and operator->, ISrsResource's get_id() through a holder) are not ported: in C they
 * would test the language, not sptr.
 */
#include "toolbox_tests.h"

#include <cleanup.h>
#include <sptr.h>

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- fixtures ------------------------------------------------------------------------------------- */

/* SRS's SrsSharedPtr<int>: a shared int. Returns it (transfer full). */
static int *int_new(int value)
{
        int *p = sptr_new_of(int, NULL);

        ck_assert_ptr_nonnull(p);
        *p = value;
        return p;
}

/* SRS's MockWrapper: *live counts the wrappers alive; destroying one decrements it. */
struct mock_wrapper {
        int *live;
};

static void mock_wrapper_destroy(void *object)
{
        struct mock_wrapper *wrapper = object;

        --*wrapper->live;
}

/* Returns a new wrapper (transfer full) and increments *live. */
static struct mock_wrapper *mock_wrapper_new(int *live)
{
        struct mock_wrapper *wrapper = sptr_new_of(struct mock_wrapper, mock_wrapper_destroy);

        ck_assert_ptr_nonnull(wrapper);
        wrapper->live = live;
        ++*live;
        return wrapper;
}

/* SRS's MyNormalObject. */
struct normal_object {
        int id;
};

static struct normal_object *normal_object_new(int id)
{
        struct normal_object *object = sptr_new_of(struct normal_object, NULL);

        ck_assert_ptr_nonnull(object);
        object->id = id;
        return object;
}

/* SRS's MockIntResource, less its id and description (they test the resource, not the pointer). */
struct mock_int_resource {
        int value;
};

static struct mock_int_resource *mock_int_resource_new(int value)
{
        struct mock_int_resource *resource = sptr_new_of(struct mock_int_resource, NULL);

        ck_assert_ptr_nonnull(resource);
        resource->value = value;
        return resource;
}

/* SRS's SrsSharedResource<MockIntResource>: not the resource but a holder of one reference to it. */
struct shared_resource {
        struct mock_int_resource *ptr;
};

/* A heap holder, as SRS's resource manager keeps them; takes resource (transfer full). */
static struct shared_resource *shared_resource_new(struct mock_int_resource *resource)
{
        struct shared_resource *holder = calloc(1, sizeof *holder);

        ck_assert_ptr_nonnull(holder);
        holder->ptr = resource;
        return holder;
}

/* Freeing a heap holder drops its one reference (srs_freep of a SrsSharedResource). Returns NULL. */
static struct shared_resource *shared_resource_free(struct shared_resource *holder)
{
        if (holder) {
                holder->ptr = sptr_unref(holder->ptr);
                free(holder);
        }
        return NULL;
}

/* For holders on the stack: the destructor of a SrsSharedResource at the end of its scope. */
static void shared_resource_clear(struct shared_resource *holder)
{
        holder->ptr = sptr_unref(holder->ptr);
}
#define _cleanup_shared_resource_ _cleanup_(shared_resource_clear)

/* SRS's mock_create_from_ptr() and mock_shared_ptr_move_ctr(): a reference passed in and returned by
 * value. p: transfer full; returns transfer full. */
static void *mock_move_ctr(void *p)
{
        return p;
}

/* SRS's mock_shared_ptr_move_assign(): stores p in a local holder, then returns that. The local's cleanup
 * must see NULL after TAKE_PTR, or the caller gets a freed object. p: transfer full; returns transfer full. */
static void *mock_move_assign(void *p)
{
        _cleanup_sptr_ void *q = NULL;

        q = TAKE_PTR(p);
        return TAKE_PTR(q);
}

/* The same two for a holder passed by value. */
static struct shared_resource mock_resource_move_ctr(struct shared_resource p)
{
        return p;
}

static struct shared_resource mock_resource_move_assign(struct shared_resource p)
{
        _cleanup_shared_resource_ struct shared_resource q = { NULL };

        q.ptr = TAKE_PTR(p.ptr);
        return (struct shared_resource){ .ptr = TAKE_PTR(q.ptr) };
}

/* ---- SRS Suite A: TEST(CoreSmartPtr, ...) ----------------------------------------------------------- */

/* SRS: SharedPtrTypical. */
KATA_TEST(shared_ptr_typical)
{
        unsigned long live_at_start = sptr_live_count();
        _cleanup_sptr_ int *p = int_new(100);

        ck_assert_ptr_nonnull(p);
        ck_assert_int_eq(*p, 100);
        ck_assert_uint_eq(sptr_count(p), 1);
        {
                /* q = p and q(p): both share p's object; sharing builds nothing. */
                _cleanup_sptr_ int *q = NULL;
                sptr_assign(q, p);
                _cleanup_sptr_ int *r = sptr_ref(p);

                ck_assert_ptr_eq(q, p);
                ck_assert_ptr_eq(r, p);
                ck_assert_int_eq(*q, 100);
                ck_assert_int_eq(*r, 100);
                ck_assert_uint_eq(sptr_count(p), 3);
                ck_assert_uint_eq(sptr_live_count(), live_at_start + 1);
        }
        ck_assert_uint_eq(sptr_count(p), 1);
        ck_assert_int_eq(*p, 100);
        p = sptr_unref(p);
        ck_assert_uint_eq(sptr_live_count(), live_at_start);
}

/* SRS: SharedPtrReset. */
KATA_TEST(shared_ptr_reset)
{
        unsigned long live_at_start = sptr_live_count();
        int *p = int_new(100);
        int *q = sptr_ref(p);

        /* Releasing one holder leaves the other valid. */
        p = sptr_unref(p);
        ck_assert_ptr_null(p);
        ck_assert_ptr_nonnull(q);
        ck_assert_int_eq(*q, 100);
        ck_assert_uint_eq(sptr_count(q), 1);
        q = sptr_unref(q);
        ck_assert_uint_eq(sptr_live_count(), live_at_start);

        /* And the other way round. */
        p = int_new(100);
        q = sptr_ref(p);
        q = sptr_unref(q);
        ck_assert_ptr_null(q);
        ck_assert_int_eq(*p, 100);
        ck_assert_uint_eq(sptr_count(p), 1);
        p = sptr_unref(p);
        ck_assert_uint_eq(sptr_live_count(), live_at_start);
}

/* SRS: SharedPtrContructor (sic): a reference returned by value arrives intact. */
KATA_TEST(shared_ptr_constructor)
{
        unsigned long live_at_start = sptr_live_count();
        _cleanup_sptr_ int *q = mock_move_ctr(int_new(100));

        ck_assert_int_eq(*q, 100);
        ck_assert_uint_eq(sptr_count(q), 1);
        ck_assert_uint_eq(sptr_live_count(), live_at_start + 1);
}

/* SRS: SharedPtrNullptr: NULL is an empty shared pointer that releases, copies and assigns. */
KATA_TEST(shared_ptr_nullptr)
{
        unsigned long live_at_start = sptr_live_count();
        int *p = NULL;
        int *q;

        ck_assert_ptr_null(sptr_unref(p));
        ck_assert_ptr_null(p);
        q = sptr_ref(p);
        ck_assert_ptr_null(q);
        sptr_assign(q, p);
        ck_assert_ptr_null(q);
        ck_assert_uint_eq(sptr_count(p), 0);
        ck_assert_uint_eq(sptr_live_count(), live_at_start);
}

/* SRS: SharedPtrWrapper: copying constructs nothing; the last holder's scope end destroys exactly once. */
KATA_TEST(shared_ptr_wrapper)
{
        int live = 100;

        {
                _cleanup_sptr_ struct mock_wrapper *p = mock_wrapper_new(&live);
                ck_assert_int_eq(live, 101);

                _cleanup_sptr_ struct mock_wrapper *q = sptr_ref(p);
                ck_assert_int_eq(live, 101);
                ck_assert_ptr_eq(q, p);

                _cleanup_sptr_ struct mock_wrapper *r = mock_wrapper_new(&live);
                ck_assert_int_eq(live, 102);

                _cleanup_sptr_ struct mock_wrapper *s = mock_wrapper_new(&live);
                ck_assert_int_eq(live, 103);
                ck_assert_ptr_ne(r, s);
        }
        ck_assert_int_eq(live, 100);

        {
                _cleanup_sptr_ struct mock_wrapper *p = mock_wrapper_new(&live);
                ck_assert_int_eq(live, 101);
        }
        ck_assert_int_eq(live, 100);
}

/* SRS: SharedPtrAssign: assigning over a holder releases what it held. */
KATA_TEST(shared_ptr_assign)
{
        unsigned long live_at_start = sptr_live_count();

        /* (a) q(NULL); q = p. */
        {
                _cleanup_sptr_ int *p = int_new(100);
                _cleanup_sptr_ int *q = NULL;

                sptr_assign(q, p);
                ck_assert_ptr_eq(q, p);
                ck_assert_uint_eq(sptr_count(p), 2);
        }
        ck_assert_uint_eq(sptr_live_count(), live_at_start);

        /* (b) q(new int(101)); q = p: q's old object goes, p's is shared. */
        {
                _cleanup_sptr_ int *p = int_new(100);
                _cleanup_sptr_ int *q = int_new(101);
                const int *q0 = q;

                ck_assert_uint_eq(sptr_live_count(), live_at_start + 2);
                sptr_assign(q, p);
                ck_assert_ptr_eq(q, p);
                ck_assert_ptr_ne(q0, p);
                ck_assert_int_eq(*q, 100);
                ck_assert_uint_eq(sptr_count(p), 2);
                ck_assert_uint_eq(sptr_live_count(), live_at_start + 1);
        }
        ck_assert_uint_eq(sptr_live_count(), live_at_start);

        /* (c) ptr0 = 100, ptr1 = 200: after q = p, ptr1 is back to 200. */
        int ptr0 = 100, ptr1 = 200;
        {
                _cleanup_sptr_ struct mock_wrapper *p = mock_wrapper_new(&ptr0);
                ck_assert_int_eq(ptr0, 101);
                _cleanup_sptr_ struct mock_wrapper *q = mock_wrapper_new(&ptr1);
                ck_assert_int_eq(ptr1, 201);

                sptr_assign(q, p);
                ck_assert_int_eq(ptr1, 200);
                ck_assert_int_eq(ptr0, 101);
                ck_assert_ptr_eq(q->live, &ptr0);
        }
        ck_assert_int_eq(ptr0, 100);
        ck_assert_int_eq(ptr1, 200);
}

/* SRS: SharedPtrMove. C moves with TAKE_PTR; `q = <temporary>` is: release q, then take the temporary's
 * reference without counting it again. */
KATA_TEST(shared_ptr_move)
{
        unsigned long live_at_start = sptr_live_count();
        int live = 100;

        /* (a) q(new int(101)); q = mock_shared_ptr_move_ctr(p): 101 freed, p still valid. (b) the same
         * through mock_shared_ptr_move_assign. */
        void *(*const passes[])(void *) = { mock_move_ctr, mock_move_assign };
        for (size_t i = 0; i < sizeof passes / sizeof passes[0]; i++) {
                _cleanup_sptr_ int *p = int_new(100);
                _cleanup_sptr_ int *q = int_new(101);

                q = sptr_unref(q);
                q = passes[i](sptr_ref(p));
                ck_assert_ptr_eq(q, p);
                ck_assert_int_eq(*p, 100);
                ck_assert_uint_eq(sptr_count(p), 2);
                ck_assert_uint_eq(sptr_live_count(), live_at_start + 1);
        }
        ck_assert_uint_eq(sptr_live_count(), live_at_start);

        /* (c) and (d): the same with MockWrapper: 101, 102, then back to 101, and to 100 at scope end. */
        for (size_t i = 0; i < sizeof passes / sizeof passes[0]; i++) {
                {
                        _cleanup_sptr_ struct mock_wrapper *p = mock_wrapper_new(&live);
                        ck_assert_int_eq(live, 101);
                        _cleanup_sptr_ struct mock_wrapper *q = mock_wrapper_new(&live);
                        ck_assert_int_eq(live, 102);

                        q = sptr_unref(q);
                        q = passes[i](sptr_ref(p));
                        ck_assert_int_eq(live, 101);
                        ck_assert_int_eq(*q->live, 101);
                        ck_assert_ptr_eq(q, p);
                }
                ck_assert_int_eq(live, 100);
        }

        /* (e) SrsSharedPtr<int> q = mock_shared_ptr_move_assign(p): initialised, not assigned. */
        {
                _cleanup_sptr_ int *p = int_new(100);
                _cleanup_sptr_ int *q = mock_move_assign(sptr_ref(p));

                ck_assert_ptr_eq(q, p);
                ck_assert_uint_eq(sptr_count(p), 2);
        }

        /* (f) p = SrsSharedPtr<int>(new int(100)) over an empty p. */
        {
                _cleanup_sptr_ int *p = NULL;

                p = sptr_unref(p);
                p = int_new(100);
                ck_assert_ptr_nonnull(p);
                ck_assert_int_eq(*p, 100);
        }

        /* And C's own move: TAKE_PTR hands the reference over, counts nothing and empties the source. */
        {
                _cleanup_sptr_ int *p = int_new(100);
                _cleanup_sptr_ int *q = int_new(101);

                q = sptr_unref(q);
                q = TAKE_PTR(p);
                ck_assert_ptr_null(p);
                ck_assert_int_eq(*q, 100);
                ck_assert_uint_eq(sptr_count(q), 1);
                ck_assert_uint_eq(sptr_live_count(), live_at_start + 1);
        }
        ck_assert_uint_eq(sptr_live_count(), live_at_start);
}

/* SRS: SharedResourceTypical. */
KATA_TEST(shared_resource_typical)
{
        unsigned long live_at_start = sptr_live_count();

        /* (a) a holder on the heap; freeing it drops the last reference. */
        {
                struct shared_resource *p = shared_resource_new(mock_int_resource_new(100));

                ck_assert_ptr_nonnull(p->ptr);
                ck_assert_int_eq(p->ptr->value, 100);
                ck_assert_uint_eq(sptr_live_count(), live_at_start + 1);
                p = shared_resource_free(p);
                ck_assert_ptr_null(p);
                ck_assert_uint_eq(sptr_live_count(), live_at_start);
        }

        /* (b) a holder on the stack. */
        {
                _cleanup_shared_resource_ struct shared_resource p = { mock_int_resource_new(100) };

                ck_assert_int_eq(p.ptr->value, 100);
        }
        ck_assert_uint_eq(sptr_live_count(), live_at_start);

        /* (c) copy-initialised from a temporary. */
        {
                _cleanup_shared_resource_ struct shared_resource p =
                        mock_resource_move_ctr((struct shared_resource){ mock_int_resource_new(100) });

                ck_assert_int_eq(p.ptr->value, 100);
                ck_assert_uint_eq(sptr_count(p.ptr), 1);
        }
        ck_assert_uint_eq(sptr_live_count(), live_at_start);

        /* (d) q = p, (e) q(NULL); q = p, (f) q(new MockIntResource(200)); q = p: all share p's object. */
        for (int start_with_200 = 0; start_with_200 <= 1; start_with_200++) {
                _cleanup_shared_resource_ struct shared_resource p = { mock_int_resource_new(100) };
                _cleanup_shared_resource_ struct shared_resource q = {
                        start_with_200 ? mock_int_resource_new(200) : NULL
                };

                sptr_assign(q.ptr, p.ptr);
                ck_assert_ptr_eq(q.ptr, p.ptr);
                ck_assert_uint_eq(sptr_count(p.ptr), 2);
                /* The 200 is gone: only p's object is alive. */
                ck_assert_uint_eq(sptr_live_count(), live_at_start + 1);

                /* (g) both valid, both 100. */
                ck_assert_int_eq(p.ptr->value, 100);
                ck_assert_int_eq(q.ptr->value, 100);
        }
        ck_assert_uint_eq(sptr_live_count(), live_at_start);
}

/* SRS: SharedResourceMove. */
KATA_TEST(shared_resource_move)
{
        unsigned long live_at_start = sptr_live_count();
        struct shared_resource (*const passes[])(struct shared_resource) = {
                mock_resource_move_ctr,
                mock_resource_move_assign,
        };

        for (size_t i = 0; i < sizeof passes / sizeof passes[0]; i++) {
                _cleanup_shared_resource_ struct shared_resource p = { mock_int_resource_new(100) };
                _cleanup_shared_resource_ struct shared_resource q = { mock_int_resource_new(101) };

                shared_resource_clear(&q);
                q = passes[i]((struct shared_resource){ sptr_ref(p.ptr) });
                ck_assert_int_eq(q.ptr->value, 100);
                ck_assert_ptr_eq(q.ptr, p.ptr);
                ck_assert_uint_eq(sptr_count(p.ptr), 2);
                ck_assert_uint_eq(sptr_live_count(), live_at_start + 1);
        }
        ck_assert_uint_eq(sptr_live_count(), live_at_start);
}

/* ---- SRS Suite B: the newer srs_utest_manual_core.cpp ----------------------------------------------- */

/* SRS: SharedPtrResetMethod. */
KATA_TEST(shared_ptr_reset_method)
{
        unsigned long live_at_start = sptr_live_count();
        int *p = int_new(100);
        struct normal_object *object = normal_object_new(200);

        ck_assert_int_eq(object->id, 200);
        ck_assert_uint_eq(sptr_live_count(), live_at_start + 2);
        p = sptr_unref(p);
        ck_assert_ptr_null(p);
        object = sptr_unref(object);
        ck_assert_ptr_null(object);
        ck_assert_uint_eq(sptr_live_count(), live_at_start);
}

/* SRS: SharedPtrSelfAssignment: p = p changes nothing, even when p holds the only reference. */
KATA_TEST(shared_ptr_self_assignment)
{
        unsigned long live_at_start = sptr_live_count();
        _cleanup_sptr_ int *p = int_new(100);
        const int *before = p;

        sptr_assign(p, p);
        ck_assert_ptr_eq(p, before);
        ck_assert_int_eq(*p, 100);
        ck_assert_uint_eq(sptr_count(p), 1);
        ck_assert_uint_eq(sptr_live_count(), live_at_start + 1);
}

/* SRS: SharedPtrMultipleReferences. */
KATA_TEST(shared_ptr_multiple_references)
{
        int live = 100;

        {
                _cleanup_sptr_ struct mock_wrapper *p1 = mock_wrapper_new(&live);
                ck_assert_int_eq(live, 101);

                _cleanup_sptr_ struct mock_wrapper *p2 = NULL;
                sptr_assign(p2, p1);
                _cleanup_sptr_ struct mock_wrapper *p3 = sptr_ref(p1);
                _cleanup_sptr_ struct mock_wrapper *p4 = NULL;
                sptr_assign(p4, p1);

                ck_assert_int_eq(live, 101);
                ck_assert_ptr_eq(p2, p1);
                ck_assert_ptr_eq(p3, p1);
                ck_assert_ptr_eq(p4, p1);
                ck_assert_uint_eq(sptr_count(p1), 4);
        }
        /* All references gone, object destroyed, once. */
        ck_assert_int_eq(live, 100);
}

/* SRS: SharedResourceNullPointer. */
KATA_TEST(shared_resource_null_pointer)
{
        unsigned long live_at_start = sptr_live_count();
        _cleanup_shared_resource_ struct shared_resource p = { NULL };

        ck_assert_ptr_null(p.ptr);
        shared_resource_clear(&p);
        ck_assert_ptr_null(p.ptr);
        ck_assert_uint_eq(sptr_live_count(), live_at_start);
}

/* SRS: SharedResourceSelfAssignment. */
KATA_TEST(shared_resource_self_assignment)
{
        _cleanup_shared_resource_ struct shared_resource p = { mock_int_resource_new(100) };
        const struct mock_int_resource *before = p.ptr;

        sptr_assign(p.ptr, p.ptr);
        ck_assert_ptr_eq(p.ptr, before);
        ck_assert_int_eq(p.ptr->value, 100);
        ck_assert_uint_eq(sptr_count(p.ptr), 1);
}

/* SRS: SharedResourceMultipleReferences: a change through one holder shows through the others. */
KATA_TEST(shared_resource_multiple_references)
{
        _cleanup_shared_resource_ struct shared_resource p1 = { mock_int_resource_new(200) };
        _cleanup_shared_resource_ struct shared_resource p2 = { NULL };
        _cleanup_shared_resource_ struct shared_resource p3 = { sptr_ref(p1.ptr) };

        sptr_assign(p2.ptr, p1.ptr);
        ck_assert_ptr_eq(p2.ptr, p1.ptr);
        ck_assert_ptr_eq(p3.ptr, p1.ptr);
        ck_assert_int_eq(p2.ptr->value, 200);
        ck_assert_int_eq(p3.ptr->value, 200);
        ck_assert_uint_eq(sptr_count(p1.ptr), 3);

        p1.ptr->value = 300;
        ck_assert_int_eq(p2.ptr->value, 300);
        ck_assert_int_eq(p3.ptr->value, 300);
}

/* SRS: SmartPointerEdgeCases (its SrsUniquePtr case is test_cleanup.c's). */
KATA_TEST(smart_pointer_edge_cases)
{
        unsigned long live_at_start = sptr_live_count();

        /* p1(NULL); p2(p1): both empty. */
        {
                _cleanup_sptr_ int *p1 = NULL;
                _cleanup_sptr_ int *p2 = sptr_ref(p1);

                ck_assert_ptr_null(p1);
                ck_assert_ptr_null(p2);
        }

        /* p1(NULL); p2(new int(42)); p2 = p1: both empty, 42 freed. */
        {
                _cleanup_sptr_ int *p1 = NULL;
                _cleanup_sptr_ int *p2 = int_new(42);

                ck_assert_uint_eq(sptr_live_count(), live_at_start + 1);
                sptr_assign(p2, p1);
                ck_assert_ptr_null(p1);
                ck_assert_ptr_null(p2);
                ck_assert_uint_eq(sptr_live_count(), live_at_start);
        }

        /* A holder copied from an empty holder is empty. */
        {
                _cleanup_shared_resource_ struct shared_resource p1 = { NULL };
                _cleanup_shared_resource_ struct shared_resource p2 = { sptr_ref(p1.ptr) };

                ck_assert_ptr_null(p1.ptr);
                ck_assert_ptr_null(p2.ptr);
        }
        ck_assert_uint_eq(sptr_live_count(), live_at_start);
}

/* SRS: SmartPointerMemoryManagement: objects live exactly as long as their last holder's scope (its
 * SrsUniquePtr case is test_cleanup.c's). */
KATA_TEST(smart_pointer_memory_management)
{
        int live = 0;

        {
                _cleanup_sptr_ struct mock_wrapper *p1 = mock_wrapper_new(&live);
                ck_assert_int_eq(live, 1);
                {
                        _cleanup_sptr_ struct mock_wrapper *p2 = NULL;
                        sptr_assign(p2, p1);
                        ck_assert_int_eq(live, 1);

                        _cleanup_sptr_ struct mock_wrapper *p3 = mock_wrapper_new(&live);
                        ck_assert_int_eq(live, 2);
                }
                ck_assert_int_eq(live, 1);
        }
        ck_assert_int_eq(live, 0);
}

/* ---- sptr's own contracts, beyond SRS's ------------------------------------------------------------- */

KATA_TEST(sptr_new_zeroes_and_aligns_the_object)
{
        unsigned long live_at_start = sptr_live_count();
        _cleanup_sptr_ unsigned char *bytes = sptr_new(64, NULL);
        size_t zeroes = 0;

        ck_assert_ptr_nonnull(bytes);
        for (size_t i = 0; i < 64; i++)
                zeroes += bytes[i] == 0;
        ck_assert_uint_eq(zeroes, 64);
        ck_assert_uint_eq((uintptr_t) bytes % alignof(max_align_t), 0);
        ck_assert_uint_eq(sptr_count(bytes), 1);
        ck_assert_uint_eq(sptr_live_count(), live_at_start + 1);
}

/* The most aligned fundamental type, and more bytes than a pointer: what sptr_new(sizeof p) would get
 * wrong, and sptr_new_of() cannot. */
struct wide {
        long double most_aligned;
        unsigned char bytes[100];
};

KATA_TEST(sptr_new_of_makes_a_whole_zeroed_aligned_object)
{
        _cleanup_sptr_ struct wide *wide = sptr_new_of(struct wide, NULL);
        size_t zeroes = 0;

        ck_assert_ptr_nonnull(wide);
        ck_assert_uint_eq((uintptr_t) wide % alignof(struct wide), 0);
        ck_assert(wide->most_aligned == 0);
        for (size_t i = 0; i < sizeof wide->bytes; i++)
                zeroes += wide->bytes[i] == 0;
        ck_assert_uint_eq(zeroes, sizeof wide->bytes);
        /* Every byte is the object's: Valgrind and ASan would report a write past the block. */
        memset(wide, 0xff, sizeof *wide);
        ck_assert_uint_eq(sptr_count(wide), 1);
}

KATA_TEST(sptr_new_refuses_an_impossible_size)
{
        unsigned long live_at_start = sptr_live_count();

        ck_assert_ptr_null(sptr_new(SIZE_MAX, mock_wrapper_destroy));
        ck_assert_uint_eq(sptr_live_count(), live_at_start);
}

KATA_TEST(sptr_count_follows_refs_and_unrefs)
{
        int *p = int_new(7);
        int *q = sptr_ref(p);
        int *r = sptr_ref(q);

        ck_assert_ptr_eq(q, p);
        ck_assert_ptr_eq(r, p);
        ck_assert_uint_eq(sptr_count(p), 3);
        ck_assert_ptr_null(sptr_unref(r));
        ck_assert_uint_eq(sptr_count(p), 2);
        ck_assert_ptr_null(sptr_unref(q));
        ck_assert_uint_eq(sptr_count(p), 1);
        ck_assert_int_eq(*p, 7);
        ck_assert_ptr_null(sptr_unref(p));
}

/* What a destroy function saw. */
struct destroy_record {
        unsigned calls;
        const void *object;
        int value; /* read from the object: its memory must still be there */
};

struct recorded {
        struct destroy_record *record;
        int value;
};

static void recorded_destroy(void *object)
{
        struct recorded *recorded = object;

        recorded->record->calls++;
        recorded->record->object = object;
        recorded->record->value = recorded->value;
}

KATA_TEST(sptr_destroy_runs_once_on_the_last_release_before_the_memory_goes)
{
        struct destroy_record record = { 0 };
        struct recorded *object = sptr_new_of(struct recorded, recorded_destroy);
        struct recorded *other;
        const void *address = object;

        ck_assert_ptr_nonnull(object);
        object->record = &record;
        object->value = 42;
        other = sptr_ref(object);

        object = sptr_unref(object);
        ck_assert_uint_eq(record.calls, 0);
        other = sptr_unref(other);
        ck_assert_ptr_null(other);
        ck_assert_uint_eq(record.calls, 1);
        ck_assert_ptr_eq(record.object, address);
        ck_assert_int_eq(record.value, 42);
}

/* Returns a new shared int (transfer full) the way every _new() with early exits should: the local holds
 * it until the end, TAKE_PTR hands it over. */
static int *int_new_checked(int value)
{
        _cleanup_sptr_ int *p = int_new(value);

        if (value < 0)
                return NULL; /* the cleanup releases p */
        return TAKE_PTR(p);
}

KATA_TEST(sptr_cleanup_releases_unless_taken)
{
        unsigned long live_at_start = sptr_live_count();
        _cleanup_sptr_ int *kept = int_new_checked(5);

        ck_assert_ptr_null(int_new_checked(-1));
        ck_assert_uint_eq(sptr_live_count(), live_at_start + 1);
        ck_assert_int_eq(*kept, 5);
        ck_assert_uint_eq(sptr_count(kept), 1);
}

/* ---- misuse: each aborts with a message instead of corrupting memory ---------------------------------- */

static void unref_after_last_release(void *unused)
{
        (void) unused;
        misuse_child_setup();
        int *p = int_new(1);
        int *stale = p;

        p = sptr_unref(p);
        stale = sptr_unref(stale); /* this line: the message names it */
}

/* The header's magic, changed to a dead value before the free, is what tells a released object (its count
 * alone could still read 0 in freed memory): the message says so, and names the caller's line. */
KATA_TEST(misuse_unref_after_last_release_aborts)
{
        kata_assert_aborts(unref_after_last_release, NULL, use_after_free_says("which is not a live shared object"));
        kata_assert_aborts(unref_after_last_release, NULL,
                           use_after_free_says("sptr_unref at harness/toolbox/tests/test_sptr.c:"));
}

/* The stale caller of the test below: the abort must name this function's line. */
static const int stale_release_line = __LINE__ + 3;
static int *stale_release(int *p)
{
        return sptr_unref(p);
}

/* The stale release comes after a new object was made, which malloc() would give the freed block (glibc
 * does, at once): the stale call would release the new object, and the abort would come later, at its
 * innocent holder. The debug build's quarantine keeps the block from reuse, so that the abort is at the
 * stale caller. */
static void unref_after_last_release_and_a_new_object(void *unused)
{
        (void) unused;
        misuse_child_setup();
        int *p = int_new(1);
        int *stale = p;

        p = sptr_unref(p);
        p = int_new(2);
        stale = stale_release(stale);
        p = sptr_unref(p); /* the innocent holder */
}

KATA_TEST(misuse_stale_unref_after_a_new_object_aborts_at_the_stale_caller)
{
        char expected[128];

        snprintf(expected, sizeof expected, "sptr_unref at harness/toolbox/tests/test_sptr.c:%d of ",
                 stale_release_line);
        kata_assert_aborts(unref_after_last_release_and_a_new_object, NULL, use_after_free_says(expected));
}

static void ref_after_last_release(void *unused)
{
        (void) unused;
        misuse_child_setup();
        int *p = int_new(1);
        int *stale = p;

        p = sptr_unref(p);
        (void) sptr_ref(stale);
}

KATA_TEST(misuse_ref_after_last_release_aborts)
{
        kata_assert_aborts(ref_after_last_release, NULL, use_after_free_says("which is not a live shared object"));
}

static void ref_of_a_pointer_not_from_sptr_new(void *unused)
{
        max_align_t storage[8] = { 0 };

        (void) unused;
        misuse_child_setup();
        /* The header sptr would look for lies inside storage: zeroes, not its magic. */
        (void) sptr_ref((void *) &storage[4]);
}

KATA_TEST(misuse_ref_of_a_pointer_not_from_sptr_new_aborts)
{
        kata_assert_aborts(ref_of_a_pointer_not_from_sptr_new, NULL, "never made by sptr_new");
}

/* A destroy function that releases its object once more: an unref too many, caught while the memory is
 * still there (so under every detector). */
static void destroy_that_unrefs(void *object)
{
        object = sptr_unref(object);
}

static void unref_too_many_inside_destroy(void *unused)
{
        void *object = sptr_new(8, destroy_that_unrefs);

        (void) unused;
        misuse_child_setup();
        object = sptr_unref(object);
}

KATA_TEST(misuse_unref_inside_destroy_aborts)
{
        kata_assert_aborts(unref_too_many_inside_destroy, NULL, "whose count is already 0");
}

/* A destroy function that takes a new reference: the object would be freed under its new holder. */
static void destroy_that_refs(void *object)
{
        (void) sptr_ref(object);
}

static void ref_inside_destroy(void *unused)
{
        void *object = sptr_new(8, destroy_that_refs);

        (void) unused;
        misuse_child_setup();
        object = sptr_unref(object);
}

KATA_TEST(misuse_ref_inside_destroy_aborts)
{
        kata_assert_aborts(ref_inside_destroy, NULL, "whose count is 0");
}

/* ---- where the references were taken (SPTR_TRACK_REFS, which kata builds define) -------------------- */

struct node {
        struct node *other; /* counted */
};

static void node_destroy(void *object)
{
        struct node *node = object;

        node->other = sptr_unref(node->other);
}

struct seen {
        struct sptr_track_object objects[4];
        unsigned count;
        unsigned long total;
};

static void collect(const struct sptr_track_object *object, unsigned long total, void *arg)
{
        struct seen *seen = arg;

        if (seen->count < 4)
                seen->objects[seen->count++] = *object;
        seen->total = total;
}

/* Two objects that hold each other: each is listed with where it was made, the lines of its references
 * still outstanding (a temporary released in this file is forgotten), and the other as an object it holds.
 * Once the cycle is broken and both are released, nothing is listed. */
KATA_TEST(sptr_tracking_names_the_lines_of_outstanding_references)
{
        unsigned long mark = sptr_track_mark();
        struct seen seen = { .count = 0 };
        int made_a = __LINE__ + 1;
        struct node *a = sptr_new_of(struct node, node_destroy);
        int made_b = __LINE__ + 1;
        struct node *b = sptr_new_of(struct node, node_destroy);
        struct node *temporary;

        ck_assert_uint_ne(mark, 0); /* 0: this build does not track */
        ck_assert_ptr_nonnull(a);
        ck_assert_ptr_nonnull(b);
        int referenced = __LINE__ + 1;
        a->other = sptr_ref(b);
        int assigned = __LINE__ + 1;
        sptr_assign(b->other, a);
        temporary = sptr_ref(a);
        temporary = sptr_unref(temporary);

        ck_assert_uint_eq(sptr_track_outstanding(mark, 4, collect, &seen), 2);
        ck_assert_uint_eq(seen.count, 2);
        ck_assert_uint_eq(seen.total, 2);
        /* a: made here, then assigned into b; it holds b. */
        ck_assert_int_eq(seen.objects[0].made.line, made_a);
        ck_assert_str_eq(seen.objects[0].made.file, __FILE__);
        ck_assert_str_eq(seen.objects[0].made.function, __func__);
        ck_assert_uint_eq(seen.objects[0].count, 2);
        ck_assert_uint_eq(seen.objects[0].ref_count, 2);
        ck_assert_str_eq(seen.objects[0].refs[0].operation, "sptr_new");
        ck_assert_str_eq(seen.objects[0].refs[1].operation, "sptr_assign");
        ck_assert_int_eq(seen.objects[0].refs[1].line, assigned);
        ck_assert_uint_eq(seen.objects[0].hold_count, 1);
        ck_assert_uint_eq(seen.objects[0].holds[0], seen.objects[1].id);
        /* b: made here, then referenced by a; it holds a. */
        ck_assert_int_eq(seen.objects[1].made.line, made_b);
        ck_assert_uint_eq(seen.objects[1].ref_count, 2);
        ck_assert_str_eq(seen.objects[1].refs[1].operation, "sptr_ref");
        ck_assert_int_eq(seen.objects[1].refs[1].line, referenced);
        ck_assert_uint_eq(seen.objects[1].hold_count, 1);
        ck_assert_uint_eq(seen.objects[1].holds[0], seen.objects[0].id);

        b->other = sptr_unref(b->other); /* break the cycle */
        a = sptr_unref(a);               /* frees a, which releases b once */
        b = sptr_unref(b);
        seen.count = 0;
        ck_assert_uint_eq(sptr_track_outstanding(mark, 4, collect, &seen), 0);
        ck_assert_uint_eq(seen.count, 0);
}

void register_sptr_tests(TCase *tc)
{
        /* SRS Suite A */
        tcase_add_test(tc, shared_ptr_typical);
        tcase_add_test(tc, shared_ptr_reset);
        tcase_add_test(tc, shared_ptr_constructor);
        tcase_add_test(tc, shared_ptr_nullptr);
        tcase_add_test(tc, shared_ptr_wrapper);
        tcase_add_test(tc, shared_ptr_assign);
        tcase_add_test(tc, shared_ptr_move);
        tcase_add_test(tc, shared_resource_typical);
        tcase_add_test(tc, shared_resource_move);
        /* SRS Suite B */
        tcase_add_test(tc, shared_ptr_reset_method);
        tcase_add_test(tc, shared_ptr_self_assignment);
        tcase_add_test(tc, shared_ptr_multiple_references);
        tcase_add_test(tc, shared_resource_null_pointer);
        tcase_add_test(tc, shared_resource_self_assignment);
        tcase_add_test(tc, shared_resource_multiple_references);
        tcase_add_test(tc, smart_pointer_edge_cases);
        tcase_add_test(tc, smart_pointer_memory_management);
        /* sptr's own */
        tcase_add_test(tc, sptr_new_zeroes_and_aligns_the_object);
        tcase_add_test(tc, sptr_new_of_makes_a_whole_zeroed_aligned_object);
        tcase_add_test(tc, sptr_new_refuses_an_impossible_size);
        tcase_add_test(tc, sptr_count_follows_refs_and_unrefs);
        tcase_add_test(tc, sptr_destroy_runs_once_on_the_last_release_before_the_memory_goes);
        tcase_add_test(tc, sptr_cleanup_releases_unless_taken);
        tcase_add_test(tc, misuse_unref_after_last_release_aborts);
        tcase_add_test(tc, misuse_stale_unref_after_a_new_object_aborts_at_the_stale_caller);
        tcase_add_test(tc, misuse_ref_after_last_release_aborts);
        tcase_add_test(tc, misuse_ref_of_a_pointer_not_from_sptr_new_aborts);
        tcase_add_test(tc, misuse_unref_inside_destroy_aborts);
        tcase_add_test(tc, misuse_ref_inside_destroy_aborts);
        tcase_add_test(tc, sptr_tracking_names_the_lines_of_outstanding_references);
}
