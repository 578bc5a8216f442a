/* SPDX-License-Identifier: MIT */
/*
 * Tests for cleanup.h: when cleanups run, what TAKE_PTR and TAKE_FD hand over, and the ready-made cleanup
 * functions. SRS's SrsUniquePtr tests map here: a unique pointer in C is a variable with a cleanup.
 */
#include "toolbox_tests.h"

#include <cleanup.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- order ------------------------------------------------------------------------------------------ */

/* Which cleanups ran, in order. */
struct order_log {
        int ran[8];
        unsigned count;
};

struct logged {
        struct order_log *log;
        int id;
};

static void log_id(struct logged *logged)
{
        struct order_log *log = logged->log;

        if (log->count < sizeof log->ran / sizeof log->ran[0])
                log->ran[log->count++] = logged->id;
}

/* A second cleanup function, so that the order is shown to hold across different functions. */
static void log_negated_id(struct logged *logged)
{
        struct order_log *log = logged->log;

        if (log->count < sizeof log->ran / sizeof log->ran[0])
                log->ran[log->count++] = -logged->id;
}

KATA_TEST(cleanup_runs_in_reverse_declaration_order)
{
        struct order_log log = { 0 };

        {
                _cleanup_(log_id) struct logged first = { &log, 1 }, second = { &log, 2 };
                _cleanup_(log_negated_id) struct logged third = { &log, 3 };
                _cleanup_(log_id) struct logged fourth = { &log, 4 };

                ck_assert_uint_eq(log.count, 0);
        }
        ck_assert_uint_eq(log.count, 4);
        ck_assert_int_eq(log.ran[0], 4);
        ck_assert_int_eq(log.ran[1], -3);
        ck_assert_int_eq(log.ran[2], 2);
        ck_assert_int_eq(log.ran[3], 1);
}

/* Returns at exit_point 1, 2 or 3: only the variables declared before that return are cleaned up. */
static int leave_at(int exit_point, struct order_log *log)
{
        _cleanup_(log_id) struct logged a = { log, 1 };
        if (exit_point == 1)
                return 1;

        _cleanup_(log_id) struct logged b = { log, 2 };
        if (exit_point == 2)
                return 2;

        _cleanup_(log_id) struct logged c = { log, 3 };
        return 3;
}

KATA_TEST(cleanup_runs_on_every_exit)
{
        for (int exit_point = 1; exit_point <= 3; exit_point++) {
                struct order_log log = { 0 };

                ck_assert_int_eq(leave_at(exit_point, &log), exit_point);
                ck_assert_uint_eq(log.count, (unsigned) exit_point);
                for (int i = 0; i < exit_point; i++)
                        ck_assert_int_eq(log.ran[i], exit_point - i);
        }
}

/* ---- TAKE_PTR ----------------------------------------------------------------------------------------- */

/* What a cleanup saw when its variable went out of scope. */
struct seen_by_cleanup {
        unsigned runs;
        const void *value;
};

struct watched {
        char *ptr;
        struct seen_by_cleanup *seen;
};

static void watched_clear(struct watched *watched)
{
        watched->seen->runs++;
        watched->seen->value = watched->ptr;
        free(watched->ptr);
}

/* Returns a new string (transfer full), or NULL when out of memory. */
static char *make_greeting(struct seen_by_cleanup *seen)
{
        _cleanup_(watched_clear) struct watched greeting = { .ptr = strdup("hello"), .seen = seen };

        if (!greeting.ptr)
                return NULL;
        return TAKE_PTR(greeting.ptr);
}

KATA_TEST(take_ptr_returns_the_value_and_the_cleanup_sees_null)
{
        struct seen_by_cleanup seen = { .value = "not run" };
        _cleanup_free_ char *greeting = make_greeting(&seen);

        ck_assert_str_eq(greeting, "hello");
        ck_assert_uint_eq(seen.runs, 1);
        ck_assert_ptr_null(seen.value);
}

KATA_TEST(take_ptr_empties_the_variable_and_evaluates_it_once)
{
        char first[] = "first", second[] = "second";
        char *items[2] = { first, second };
        size_t i = 0;
        char *taken = TAKE_PTR(items[i++]);

        ck_assert_ptr_eq(taken, first);
        ck_assert_ptr_null(items[0]);
        ck_assert_ptr_eq(items[1], second);
        ck_assert_uint_eq(i, 1);
}

/* ---- freep, closep, safe_close, TAKE_FD ---------------------------------------------------------------- */

KATA_TEST(freep_frees_and_clears)
{
        char *text = strdup("freed");

        ck_assert_ptr_nonnull(text);
        freep(&text);
        ck_assert_ptr_null(text);
        freep(&text); /* NULL: nothing to do */
        ck_assert_ptr_null(text);
        {
                _cleanup_free_ char *scoped = strdup("freed at the end of the block");
                ck_assert_ptr_nonnull(scoped);
        }
}

static bool fd_is_open(int fd)
{
        return fcntl(fd, F_GETFD) != -1;
}

KATA_TEST(safe_close_closes_and_keeps_errno)
{
        int fds[2];

        ck_assert_int_eq(pipe(fds), 0);

        errno = ENOENT;
        ck_assert_int_eq(safe_close(fds[0]), -1);
        ck_assert_int_eq(errno, ENOENT);
        ck_assert(!fd_is_open(fds[0]));

        /* close() fails on a closed descriptor and sets errno: safe_close() puts the caller's back. */
        errno = ENOENT;
        ck_assert_int_eq(safe_close(fds[0]), -1);
        ck_assert_int_eq(errno, ENOENT);

        errno = ENOENT;
        ck_assert_int_eq(safe_close(-1), -1);
        ck_assert_int_eq(errno, ENOENT);

        fds[1] = safe_close(fds[1]);
        ck_assert_int_eq(fds[1], -1);
}

KATA_TEST(cleanup_close_closes_at_scope_end)
{
        int fds[2];

        ck_assert_int_eq(pipe(fds), 0);
        {
                _cleanup_close_ int reader = fds[0];
                _cleanup_close_ int writer = fds[1];
                _cleanup_close_ int never_opened = -1;

                ck_assert(fd_is_open(reader));
                ck_assert(fd_is_open(writer));
                ck_assert_int_eq(never_opened, -1);
        }
        ck_assert(!fd_is_open(fds[0]));
        ck_assert(!fd_is_open(fds[1]));

        ck_assert_int_eq(pipe(fds), 0);
        int fd = fds[0];
        closep(&fd);
        ck_assert_int_eq(fd, -1);
        ck_assert(!fd_is_open(fds[0]));
        close(fds[1]);
}

KATA_TEST(take_fd_keeps_the_descriptor_open)
{
        int fds[2], kept;

        ck_assert_int_eq(pipe(fds), 0);
        {
                _cleanup_close_ int fd = fds[0];

                kept = TAKE_FD(fd);
                ck_assert_int_eq(fd, -1);
        }
        ck_assert_int_eq(kept, fds[0]);
        ck_assert(fd_is_open(kept));
        close(kept);
        close(fds[1]);
}

/* ---- DEFINE_CLEANUP_FUNC and DEFINE_CLEANUP_FUNC_VOID --------------------------------------------------- */

/* A widget with the systemd destructor convention: widget_free() accepts NULL and returns NULL. *live
 * counts the widgets alive, like SRS's MockWrapper. */
struct widget {
        int *live;
};

static struct widget *widget_new(int *live)
{
        struct widget *widget = malloc(sizeof *widget);

        ck_assert_ptr_nonnull(widget);
        widget->live = live;
        ++*live;
        return widget;
}

static struct widget *widget_free(struct widget *widget)
{
        if (widget) {
                --*widget->live;
                free(widget);
        }
        return NULL;
}
DEFINE_CLEANUP_FUNC(struct widget *, widget_free);

KATA_TEST(define_cleanup_func_frees_and_clears)
{
        int live = 0;

        {
                _cleanup_(widget_freep) struct widget *widget = widget_new(&live);
                ck_assert_int_eq(live, 1);
        }
        ck_assert_int_eq(live, 0);

        struct widget *widget = widget_new(&live);
        widget_freep(&widget);
        ck_assert_ptr_null(widget);
        ck_assert_int_eq(live, 0);
        widget_freep(&widget);
        ck_assert_int_eq(live, 0);
}

/* SRS: UniquePtrNormal: the object lives exactly as long as its one holder's scope. */
KATA_TEST(unique_ptr_normal)
{
        int live = 100;

        {
                _cleanup_free_ int *p = malloc(sizeof *p);
                ck_assert_ptr_nonnull(p);
                *p = 100;
                ck_assert_int_eq(*p, 100);
        }
        {
                _cleanup_(widget_freep) struct widget *p = widget_new(&live);
                ck_assert_int_eq(live, 101);
        }
        ck_assert_int_eq(live, 100);
}

/* SRS: UniquePtrArray: an array freed with its scope. */
KATA_TEST(unique_ptr_array)
{
        _cleanup_free_ int *array = calloc(10, sizeof *array);
        int sum = 0;

        ck_assert_ptr_nonnull(array);
        for (int i = 0; i < 10; i++)
                array[i] = i;
        for (int i = 0; i < 10; i++)
                sum += array[i];
        ck_assert_int_eq(sum, 45);
}

/* A gadget whose destructor returns nothing and, like fclose(), must not be given NULL. */
struct gadget {
        unsigned *destroyed;
};

static void gadget_destroy(struct gadget *gadget)
{
        ck_assert_ptr_nonnull(gadget);
        ++*gadget->destroyed;
        free(gadget);
}
DEFINE_CLEANUP_FUNC_VOID(struct gadget *, gadget_destroy);
DEFINE_CLEANUP_FUNC_VOID(FILE *, fclose);

/* SRS's SrsUniquePtr custom deleter tests (DeleterExample, DeleterMalloc, ...) map here. */
KATA_TEST(define_cleanup_func_void_destroys_clears_and_skips_null)
{
        unsigned destroyed = 0;
        struct gadget *gadget;

        {
                _cleanup_(gadget_destroyp) struct gadget *scoped = malloc(sizeof *scoped);
                ck_assert_ptr_nonnull(scoped);
                scoped->destroyed = &destroyed;
        }
        ck_assert_uint_eq(destroyed, 1);

        gadget = malloc(sizeof *gadget);
        ck_assert_ptr_nonnull(gadget);
        gadget->destroyed = &destroyed;
        gadget_destroyp(&gadget);
        ck_assert_ptr_null(gadget);
        ck_assert_uint_eq(destroyed, 2);

        /* NULL never reaches gadget_destroy(), which would fail its assertion. */
        gadget_destroyp(&gadget);
        {
                _cleanup_(gadget_destroyp) struct gadget *none = NULL;
        }
        ck_assert_uint_eq(destroyed, 2);
}

KATA_TEST(define_cleanup_func_void_fits_fclose)
{
        int fds[2];

        ck_assert_int_eq(pipe(fds), 0);
        {
                _cleanup_(fclosep) FILE *reader = fdopen(fds[0], "r");
                ck_assert_ptr_nonnull(reader);
        }
        ck_assert(!fd_is_open(fds[0]));
        close(fds[1]);
}

void register_cleanup_tests(TCase *tc)
{
        tcase_add_test(tc, cleanup_runs_in_reverse_declaration_order);
        tcase_add_test(tc, cleanup_runs_on_every_exit);
        tcase_add_test(tc, take_ptr_returns_the_value_and_the_cleanup_sees_null);
        tcase_add_test(tc, take_ptr_empties_the_variable_and_evaluates_it_once);
        tcase_add_test(tc, freep_frees_and_clears);
        tcase_add_test(tc, safe_close_closes_and_keeps_errno);
        tcase_add_test(tc, cleanup_close_closes_at_scope_end);
        tcase_add_test(tc, take_fd_keeps_the_descriptor_open);
        tcase_add_test(tc, define_cleanup_func_frees_and_clears);
        tcase_add_test(tc, unique_ptr_normal);
        tcase_add_test(tc, unique_ptr_array);
        tcase_add_test(tc, define_cleanup_func_void_destroys_clears_and_skips_null);
        tcase_add_test(tc, define_cleanup_func_void_fits_fclose);
}
