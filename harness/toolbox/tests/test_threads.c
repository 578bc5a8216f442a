/* SPDX-License-Identifier: MIT */
/*
 * What sptr.h and once_cb.h promise about threads: threads that share no object need no lock. Two threads
 * make, share among their own holders and release objects at the same time; the process-wide live counts
 * must come back to where they started, and every object must be destroyed once, by its own thread.
 * `make -C harness/toolbox/tests tsan` runs these under ThreadSanitizer, which reports any data race.
 */
#include "toolbox_tests.h"

#include <once_cb.h>
#include <sptr.h>

#include <pthread.h>
#include <stdalign.h>

#define ROUNDS 20000
#define HOLDERS 4

/* Runs fn(&args[0]) and fn(&args[1]) on two threads at once, and waits for both. The stacks are ours: glibc
 * would cache the stacks it makes, with their thread-local storage, which Valgrind reports as possibly lost. */
static void run_two_threads(void *(*fn)(void *), unsigned long args[2])
{
        static alignas(64) unsigned char stacks[2][1024 * 1024]; /* ThreadSanitizer needs about 900 KB */
        pthread_t threads[2];
        void *results[2];

        for (int i = 0; i < 2; i++) {
                pthread_attr_t attr;

                ck_assert_int_eq(pthread_attr_init(&attr), 0);
                ck_assert_int_eq(pthread_attr_setstack(&attr, stacks[i], sizeof stacks[i]), 0);
                ck_assert_int_eq(pthread_create(&threads[i], &attr, fn, &args[i]), 0);
                ck_assert_int_eq(pthread_attr_destroy(&attr), 0);
        }
        for (int i = 0; i < 2; i++) {
                ck_assert_int_eq(pthread_join(threads[i], &results[i]), 0);
                ck_assert_ptr_null(results[i]);
        }
}

struct counted {
        unsigned long *destroyed; /* the thread's own counter */
};

static void counted_destroy(void *object)
{
        const struct counted *counted = object;

        ++*counted->destroyed;
}

/* One thread's work on its own objects; returns NULL. */
static void *share_own_objects(void *destroyed)
{
        struct counted *holders[HOLDERS];

        for (int round = 0; round < ROUNDS; round++) {
                struct counted *counted = sptr_new_of(struct counted, counted_destroy);

                if (!counted)
                        return destroyed; /* out of memory: the test sees the missing destroys */
                counted->destroyed = destroyed;
                for (int i = 0; i < HOLDERS; i++)
                        holders[i] = sptr_ref(counted);
                counted = sptr_unref(counted);
                for (int i = 0; i < HOLDERS; i++)
                        holders[i] = sptr_unref(holders[i]);
        }
        return NULL;
}

KATA_TEST(sptr_threads_with_their_own_objects_need_no_lock)
{
        unsigned long live_at_start = sptr_live_count();
        unsigned long destroyed[2] = { 0, 0 };

        run_two_threads(share_own_objects, destroyed);
        ck_assert_uint_eq(destroyed[0], ROUNDS);
        ck_assert_uint_eq(destroyed[1], ROUNDS);
        ck_assert_uint_eq(sptr_live_count(), live_at_start);
}

static void count_call(void *userdata, int result)
{
        unsigned long *calls = userdata;

        *calls += result == ONCE_CB_CANCELLED ? 2 : 1;
}

/* One thread's callbacks: each completed or cancelled, alternately. Returns NULL. */
static void *consume_own_callbacks(void *calls)
{
        for (int round = 0; round < ROUNDS; round++) {
                struct once_cb *cb = once_cb_new(count_call, calls, NULL);

                if (!cb)
                        return calls;
                cb = round % 2 ? once_cb_cancel(cb) : once_cb_complete(cb, 0);
        }
        return NULL;
}

KATA_TEST(once_cb_threads_with_their_own_callbacks_need_no_lock)
{
        unsigned long live_at_start = once_cb_live_count();
        unsigned long calls[2] = { 0, 0 };

        run_two_threads(consume_own_callbacks, calls);
        /* Half completed (1 each), half cancelled (2 each). */
        ck_assert_uint_eq(calls[0], ROUNDS / 2 * 3);
        ck_assert_uint_eq(calls[1], ROUNDS / 2 * 3);
        ck_assert_uint_eq(once_cb_live_count(), live_at_start);
}

void register_thread_tests(TCase *tc)
{
        tcase_add_test(tc, sptr_threads_with_their_own_objects_need_no_lock);
        tcase_add_test(tc, once_cb_threads_with_their_own_callbacks_need_no_lock);
}
