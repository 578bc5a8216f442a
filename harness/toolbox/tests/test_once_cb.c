/* SPDX-License-Identifier: MIT */
/*
 * Tests for once_cb.h, in libuv's style: every callback and destroy call is counted, and the counts are
 * asserted exactly (== 1, not > 0). The state each test watches lives on the test's stack.
 */
#include "toolbox_tests.h"

#include <cleanup.h>
#include <once_cb.h>

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* What the callbacks of one test did, in order. */
struct calls {
        unsigned called;
        unsigned destroyed;
        int result;
        void *userdata_seen_by_fn;
        void *userdata_seen_by_destroy;
        char order[8]; /* 'c' for a call, 'd' for a destroy, in the order they happened */
        unsigned events;
};

static void record_event(struct calls *calls, char event)
{
        if (calls->events + 1 < sizeof calls->order)
                calls->order[calls->events++] = event;
}

static void on_done(void *userdata, int result)
{
        struct calls *calls = userdata;

        calls->called++;
        calls->result = result;
        calls->userdata_seen_by_fn = userdata;
        record_event(calls, 'c');
}

static void on_destroy(void *userdata)
{
        struct calls *calls = userdata;

        calls->destroyed++;
        calls->userdata_seen_by_destroy = userdata;
        record_event(calls, 'd');
}

static struct once_cb *recording_cb_new(struct calls *calls)
{
        struct once_cb *cb = once_cb_new(on_done, calls, on_destroy);

        ck_assert_ptr_nonnull(cb);
        return cb;
}

KATA_TEST(once_cb_complete_calls_once_with_the_result_then_destroys)
{
        unsigned long live_at_start = once_cb_live_count();
        struct calls calls = { 0 };
        struct once_cb *cb = recording_cb_new(&calls);

        ck_assert_uint_eq(once_cb_live_count(), live_at_start + 1);
        ck_assert_uint_eq(calls.called, 0);
        ck_assert_ptr_null(once_cb_complete(cb, 7));
        ck_assert_uint_eq(calls.called, 1);
        ck_assert_int_eq(calls.result, 7);
        ck_assert_uint_eq(calls.destroyed, 1);
        ck_assert_str_eq(calls.order, "cd");
        ck_assert_ptr_eq(calls.userdata_seen_by_fn, &calls);
        ck_assert_ptr_eq(calls.userdata_seen_by_destroy, &calls);
        ck_assert_uint_eq(once_cb_live_count(), live_at_start);
}

KATA_TEST(once_cb_cancel_passes_cancelled)
{
        unsigned long live_at_start = once_cb_live_count();
        struct calls calls = { 0 };

        ck_assert_int_eq(ONCE_CB_CANCELLED, -ECANCELED);
        ck_assert_ptr_null(once_cb_cancel(recording_cb_new(&calls)));
        ck_assert_uint_eq(calls.called, 1);
        ck_assert_int_eq(calls.result, ONCE_CB_CANCELLED);
        ck_assert_uint_eq(calls.destroyed, 1);
        ck_assert_str_eq(calls.order, "cd");
        ck_assert_uint_eq(once_cb_live_count(), live_at_start);
}

/* The result 0 and a negative error pass through unchanged: only the cancel path says ONCE_CB_CANCELLED. */
KATA_TEST(once_cb_passes_any_result_through)
{
        const int results[] = { 0, 1, -1, -EIO, 65535 };

        for (size_t i = 0; i < sizeof results / sizeof results[0]; i++) {
                struct calls calls = { 0 };

                (void) once_cb_complete(recording_cb_new(&calls), results[i]);
                ck_assert_uint_eq(calls.called, 1);
                ck_assert_int_eq(calls.result, results[i]);
                ck_assert_uint_eq(calls.destroyed, 1);
        }
}

/* A userdata on the heap, owned by the callback: destroy frees it (a leak check fails the test if not). */
struct owned {
        struct calls *calls;
        char *payload;
};

static void owned_done(void *userdata, int result)
{
        struct owned *owned = userdata;

        /* The payload is still there while the callback runs. */
        ck_assert_str_eq(owned->payload, "queued");
        on_done(owned->calls, result);
}

static void owned_destroy(void *userdata)
{
        struct owned *owned = userdata;

        on_destroy(owned->calls);
        free(owned->payload);
        free(owned);
}

KATA_TEST(once_cb_destroy_frees_owned_userdata_after_the_call)
{
        struct calls calls = { 0 };
        struct owned *owned = malloc(sizeof *owned);

        ck_assert_ptr_nonnull(owned);
        *owned = (struct owned){ .calls = &calls, .payload = malloc(7) };
        ck_assert_ptr_nonnull(owned->payload);
        memcpy(owned->payload, "queued", 7);

        (void) once_cb_complete(once_cb_new(owned_done, owned, owned_destroy), 0);
        ck_assert_uint_eq(calls.called, 1);
        ck_assert_uint_eq(calls.destroyed, 1);
        ck_assert_str_eq(calls.order, "cd");
}

KATA_TEST(once_cb_without_destroy_only_calls)
{
        unsigned long live_at_start = once_cb_live_count();
        struct calls calls = { 0 };

        (void) once_cb_complete(once_cb_new(on_done, &calls, NULL), 3);
        ck_assert_uint_eq(calls.called, 1);
        ck_assert_int_eq(calls.result, 3);
        ck_assert_uint_eq(calls.destroyed, 0);
        ck_assert_uint_eq(once_cb_live_count(), live_at_start);
}

KATA_TEST(once_cb_accepts_null)
{
        unsigned long live_at_start = once_cb_live_count();
        struct once_cb *none = NULL;

        ck_assert_ptr_null(once_cb_complete(NULL, 0));
        ck_assert_ptr_null(once_cb_cancel(NULL));
        once_cb_cancelp(&none);
        ck_assert_ptr_null(none);
        {
                _cleanup_once_cb_ struct once_cb *guard = NULL;
                ck_assert_ptr_null(guard);
        }
        ck_assert_uint_eq(once_cb_live_count(), live_at_start);
}

/* ---- the guard: a receiver that owns the callback from its first line, as mediasoup's SendMessage must --- */

/* Where a handed-on callback goes: the transport completes it, as SendSctpMessage does. */
static void transport_send(struct once_cb *cb)
{
        (void) once_cb_complete(cb, 0);
}

/* cb_arg: transfer full. Returns 0 when sent, -1 when it returned early (and the guard cancelled cb). */
static int send_message(bool active, struct once_cb *cb_arg)
{
        _cleanup_once_cb_ struct once_cb *cb = cb_arg;

        if (!active)
                return -1;
        transport_send(TAKE_PTR(cb));
        return 0;
}

KATA_TEST(once_cb_guard_cancels_on_an_early_return)
{
        unsigned long live_at_start = once_cb_live_count();
        struct calls calls = { 0 };

        ck_assert_int_eq(send_message(false, recording_cb_new(&calls)), -1);
        ck_assert_uint_eq(calls.called, 1);
        ck_assert_int_eq(calls.result, ONCE_CB_CANCELLED);
        ck_assert_uint_eq(calls.destroyed, 1);
        ck_assert_uint_eq(once_cb_live_count(), live_at_start);
}

KATA_TEST(once_cb_guard_does_nothing_after_take_ptr)
{
        unsigned long live_at_start = once_cb_live_count();
        struct calls calls = { 0 };

        ck_assert_int_eq(send_message(true, recording_cb_new(&calls)), 0);
        /* Called once, by the transport, with its result: the guard saw NULL. */
        ck_assert_uint_eq(calls.called, 1);
        ck_assert_int_eq(calls.result, 0);
        ck_assert_uint_eq(calls.destroyed, 1);
        ck_assert_str_eq(calls.order, "cd");
        ck_assert_uint_eq(once_cb_live_count(), live_at_start);
}

KATA_TEST(once_cb_live_count_returns_to_its_start)
{
        unsigned long live_at_start = once_cb_live_count();
        struct calls completed = { 0 }, cancelled = { 0 }, guarded = { 0 };
        struct once_cb *a = recording_cb_new(&completed);
        struct once_cb *b = recording_cb_new(&cancelled);

        {
                _cleanup_once_cb_ struct once_cb *c = recording_cb_new(&guarded);
                ck_assert_uint_eq(once_cb_live_count(), live_at_start + 3);
        }
        ck_assert_uint_eq(once_cb_live_count(), live_at_start + 2);
        a = once_cb_complete(a, 1);
        ck_assert_uint_eq(once_cb_live_count(), live_at_start + 1);
        b = once_cb_cancel(b);
        ck_assert_uint_eq(once_cb_live_count(), live_at_start);

        ck_assert_uint_eq(completed.called + cancelled.called + guarded.called, 3);
        ck_assert_uint_eq(completed.destroyed + cancelled.destroyed + guarded.destroyed, 3);
        ck_assert_int_eq(completed.result, 1);
        ck_assert_int_eq(cancelled.result, ONCE_CB_CANCELLED);
        ck_assert_int_eq(guarded.result, ONCE_CB_CANCELLED);
}

/* ---- misuse ------------------------------------------------------------------------------------------- */

static void complete_twice(void *unused)
{
        struct calls calls = { 0 };
        struct once_cb *cb;

        (void) unused;
        misuse_child_setup();
        cb = recording_cb_new(&calls);
        (void) once_cb_complete(cb, 0);
        (void) once_cb_complete(cb, 0);
}

KATA_TEST(misuse_once_cb_completed_twice_aborts)
{
        kata_assert_aborts(complete_twice, NULL, use_after_free_says("completed twice"));
}

/* A callback that completes itself again from inside its own call: caught while its memory is still there,
 * so under every detector. */
struct reentrant {
        struct once_cb *self;
};

static void complete_self_again(void *userdata, int result)
{
        struct reentrant *reentrant = userdata;

        (void) once_cb_complete(reentrant->self, result);
}

static void complete_from_inside_the_callback(void *unused)
{
        struct reentrant reentrant;

        (void) unused;
        misuse_child_setup();
        reentrant.self = once_cb_new(complete_self_again, &reentrant, NULL);
        (void) once_cb_complete(reentrant.self, 0);
}

KATA_TEST(misuse_once_cb_completed_from_its_own_callback_aborts)
{
        kata_assert_aborts(complete_from_inside_the_callback, NULL, "completed twice");
}

static void complete_a_pointer_not_from_once_cb_new(void *unused)
{
        max_align_t storage[4] = { 0 };

        (void) unused;
        misuse_child_setup();
        (void) once_cb_complete((struct once_cb *) storage, 0);
}

KATA_TEST(misuse_once_cb_not_from_once_cb_new_aborts)
{
        kata_assert_aborts(complete_a_pointer_not_from_once_cb_new, NULL, "never made by once_cb_new");
}

void register_once_cb_tests(TCase *tc)
{
        tcase_add_test(tc, once_cb_complete_calls_once_with_the_result_then_destroys);
        tcase_add_test(tc, once_cb_cancel_passes_cancelled);
        tcase_add_test(tc, once_cb_passes_any_result_through);
        tcase_add_test(tc, once_cb_destroy_frees_owned_userdata_after_the_call);
        tcase_add_test(tc, once_cb_without_destroy_only_calls);
        tcase_add_test(tc, once_cb_accepts_null);
        tcase_add_test(tc, once_cb_guard_cancels_on_an_early_return);
        tcase_add_test(tc, once_cb_guard_does_nothing_after_take_ptr);
        tcase_add_test(tc, once_cb_live_count_returns_to_its_start);
        tcase_add_test(tc, misuse_once_cb_completed_twice_aborts);
        tcase_add_test(tc, misuse_once_cb_completed_from_its_own_callback_aborts);
        tcase_add_test(tc, misuse_once_cb_not_from_once_cb_new_aborts);
}
