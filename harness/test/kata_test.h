/* SPDX-License-Identifier: MIT */
/*
 * kata_test.h: what every kata test includes.
 *
 * A kata test is a Check test written with KATA_TEST() instead of START_TEST(). The body runs in a function
 * of its own, between two measurements taken by the detector the run uses (make check DETECTOR=...):
 *
 *   valgrind  memcheck client requests: lost and still-held bytes and blocks, and memory errors, per test;
 *   asan      LeakSanitizer and the allocator's own count of what the body left allocated;
 *   none      no leak checking: behaviour only.
 *
 * With valgrind and asan, open file descriptors are counted before and after the body too; with every
 * detector, a close() by the code under test of a descriptor that is not open, or that it did not open,
 * fails the test. A test fails when its body leaves memory (lost or still held) or descriptors behind, and
 * the message names the test and everything it left:
 *
 *   listen_rejects_address_without_port: 4,152 bytes in 2 blocks leaked
 *
 * The verdict itself travels as records (see harness/test/kata_test.c), which harness/tools/report reads.
 *
 * The test file ends with kata_register(), which adds its tests to the one TCase the runner makes.
 */
#pragma once

#include <check.h>
#include <stdbool.h>
#include <stddef.h>

/* Defines a Check test named `name` whose body is checked for leaks. Use it like START_TEST, without
 * END_TEST:
 *
 *   KATA_TEST(listen_accepts_loopback_port_zero)
 *   {
 *           ...
 *   }
 */
#define KATA_TEST(name)                                                                                    \
        static void name##_body(void) __attribute__((__noinline__));                                      \
        START_TEST(name)                                                                                    \
        {                                                                                                   \
                kata_run_checked(#name, __FILE__, __LINE__, name##_body, _i);                               \
        }                                                                                                   \
        END_TEST                                                                                            \
        static void name##_body(void)

/* Provided by the test file: add every test to tc (tcase_add_test). */
void kata_register(TCase *tc);

/* tcase_add_test() goes through the harness, so that a run can select tests by name:
 * make check KATA_TESTS=listen_rejects_port_in_use,free_accepts_null */
#undef tcase_add_test
#define tcase_add_test(tc, test) kata_add_test((tc), (test))
void kata_add_test(TCase *tc, const TTest *test);

/* Runs body between the leak and descriptor measurements; fails the test with file:line of its KATA_TEST.
 * iteration: Check's loop index (the allocation-failure sweep runs a test once per failure point). */
void kata_run_checked(const char *name, const char *file, int line, void (*body)(void), int iteration);

/* Which detector this run measures with. */
enum kata_detector {
        KATA_DETECTOR_NONE,
        KATA_DETECTOR_VALGRIND,
        KATA_DETECTOR_ASAN,
};
enum kata_detector kata_detector(void);

/* True when this run can measure the heap (Valgrind or ASan); false with DETECTOR=none. */
bool kata_can_measure_heap(void);

/*
 * "Heap back to baseline", for katas whose leak is growth while running rather than a lost block: warm up,
 * take a baseline, churn, then assert that the heap the program still holds (reachable or not) is back where
 * it was. Under DETECTOR=none the assertion is skipped (there is nothing to measure with), so never make a
 * behaviour test depend on it.
 *
 *   struct kata_heap before = kata_heap_snapshot();
 *   ... 2,000 stream cycles ...
 *   kata_assert_heap_at_baseline(&before, "after %d streams", 2000);
 *
 * fails with "after 2000 streams, the heap is 1,312,000 bytes above its baseline of 9,516".
 */
struct kata_heap {
        bool measured;
        unsigned long bytes;  /* every byte the program still holds: reachable, possibly or definitely lost */
        unsigned long blocks; /* 0 when the detector cannot count blocks (ASan) */
};
struct kata_heap kata_heap_snapshot(void);
#define kata_assert_heap_at_baseline(before, ...)                                                          \
        kata_assert_heap_at_baseline_at(__FILE__, __LINE__, (before), __VA_ARGS__)
void kata_assert_heap_at_baseline_at(const char *file, int line, const struct kata_heap *before, const char *fmt,
                                     ...) __attribute__((__format__(__printf__, 4, 5)));

/*
 * "Released right after the call", for live counts the code under test keeps (callbacks not yet completed,
 * sources in a pool, sessions alive): a resource the call should have released by the time it returned is
 * held, whatever happens to it later. Fails as a leak ("still held") under Valgrind and ASan; skipped with
 * DETECTOR=none, because a dropped resource is the leak the kata teaches, not a behaviour. The test goes on
 * to its end, whose checks then show where the blocks still held or lost were allocated.
 *
 *   long before = once_cb_live_count();
 *   data_consumer_send(consumer, request);
 *   kata_assert_released(once_cb_live_count(), before, "callbacks right after data_consumer_send()");
 *
 * fails with "1 callbacks right after data_consumer_send() still held (2 live, 1 before)". With the first check
 * of a test that fails, the report lists what the body had made (since its start, or its last heap snapshot)
 * and was still alive right after the call: shared objects (sptr.h) with the lines that took their references
 * still outstanding, and blocks with where they were allocated; unless the test's end already shows where
 * (a leak, held bytes, a memory error). Under Valgrind the list comes from a leak search in a forked copy of
 * the process, so that the test's own later checks are not disturbed.
 */
#define kata_assert_released(now, before, ...)                                                             \
        kata_assert_released_at(__FILE__, __LINE__, (long) (now), (long) (before), __VA_ARGS__)
void kata_assert_released_at(const char *file, int line, long now, long before, const char *fmt, ...)
        __attribute__((__format__(__printf__, 5, 6)));

/*
 * What a call must still do when an allocation or a descriptor call inside it fails. The allocation-failure
 * sweep runs each test again once per such call of the code under test, with that call failing, and excuses
 * a failed ck_assert there (a test that wanted success got an error). It does not excuse this one: use it for
 * what the error path itself must get right (report the error, keep nothing). kata_call_failed() is true once
 * the sweep has failed a call in this test (never outside the sweep).
 *
 *   bool failed = kata_call_failed();
 *   r = gb_listener_accept_sip(listener, transport);
 *   if (!failed && kata_call_failed())
 *           kata_assert_error_path(r == -ENOMEM, "gb_listener_accept_sip() out of memory returned %d", r);
 *
 * fails with "on the error path: gb_listener_accept_sip() out of memory returned 0".
 */
bool kata_call_failed(void);
#define kata_assert_error_path(cond, ...) kata_assert_error_path_at(__FILE__, __LINE__, !!(cond), __VA_ARGS__)
void kata_assert_error_path_at(const char *file, int line, bool ok, const char *fmt, ...)
        __attribute__((__format__(__printf__, 4, 5)));

/*
 * "Whatever it returns", for a test that accepts every outcome of the code under test and asserts only what
 * must hold on each (an error leaves the caller's variable alone, a success hands over a working object).
 * Under the allocation-failure sweep a failed assertion is normally expected (a test that wanted success got
 * an error) and is not counted; once a test has called kata_any_outcome(), its failed assertions count there
 * too, as an error path that broke the contract:
 *
 *   kata_any_outcome();
 *   error = http_server_listen(addr, config, NULL, NULL, &server);
 *   if (error != HTTP_OK)
 *           ck_assert_msg(server == untouched, "a failed listen() wrote the caller's server pointer");
 */
void kata_any_outcome(void);

/* Open file descriptors of this process (Valgrind's own excluded). */
unsigned kata_count_open_fds(void);

/*
 * Runs fn(arg) in a forked child with stderr captured and asserts that it aborts (SIGABRT) and that its
 * stderr contains `expected` (NULL: anything). For misuse tests: double unref, a callback completed twice.
 */
#define kata_assert_aborts(fn, arg, expected) kata_assert_aborts_at(__FILE__, __LINE__, #fn, (fn), (arg), (expected))
void kata_assert_aborts_at(const char *file, int line, const char *fn_name, void (*fn)(void *), void *arg,
                           const char *expected);

/* "4,152": n with thousands separators, in buf (at least 32 bytes). */
const char *kata_format_count(unsigned long n, char *buf, size_t size);
