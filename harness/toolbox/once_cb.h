/* SPDX-License-Identifier: MIT */
/*
 * once_cb.h: a heap callback that must be consumed exactly once, as mediasoup's onQueuedCallback* must be
 * called and deleted by whoever ends a send (issue #1382, PR #1383).
 *
 * Whoever holds a once_cb owns it, and must either complete it (call it with a result) or cancel it (call it
 * with ONCE_CB_CANCELLED); both free it and destroy its userdata. A receiver that takes ownership on entry
 * and may return early guards it, so that every exit consumes it:
 *
 *   void send(..., struct once_cb *cb_arg)                        cb_arg: transfer full
 *   {
 *           _cleanup_once_cb_ struct once_cb *cb = cb_arg;        any early return cancels it
 *           if (!active)
 *                   return;
 *           transport_send(..., TAKE_PTR(cb));                    handed on: the guard now holds NULL
 *   }
 *
 * (TAKE_PTR and _cleanup_ come from cleanup.h, which this header includes.) once_cb_live_count() lets tests
 * assert that none was forgotten.
 *
 * Misuse. In debug builds (no NDEBUG) completing a callback twice aborts with a message, like GTask's
 * "returned twice" check, but only as long as its freed memory has not been reused: the check reads it, so
 * it is best effort. Once a new callback has reused the block, a stale completion calls that new callback
 * with the wrong result, and the harm shows at its owner, not at the stale caller. Valgrind and ASan report
 * the stale call itself (an invalid read, with its stack). Release builds (NDEBUG) check nothing: a second
 * completion calls through freed memory, which crashes at best.
 *
 * Threads. A callback belongs to one thread at a time (whoever holds it); once_cb_live_count() is atomic,
 * so threads may make and consume their own callbacks at the same time.
 */
#pragma once

#include <errno.h>

#include "cleanup.h"

/* The result a cancelled callback receives: -ECANCELED, as libuv reports cancelled requests. */
#define ONCE_CB_CANCELLED (-ECANCELED)

typedef void (*once_cb_fn)(void *userdata, int result);
typedef void (*once_cb_destroy_fn)(void *userdata);

struct once_cb;

/* Makes a callback that calls fn(userdata, result) once, then destroy(userdata) if destroy is not NULL.
 * Returns it (transfer full), or NULL when out of memory. */
struct once_cb *once_cb_new(once_cb_fn fn, void *userdata, once_cb_destroy_fn destroy)
        __attribute__((__warn_unused_result__));

/* Consumes cb (transfer full): calls it with result, destroys its userdata, frees it. Accepts NULL.
 * Returns NULL. */
struct once_cb *once_cb_complete(struct once_cb *cb, int result);

/* once_cb_complete(cb, ONCE_CB_CANCELLED). */
struct once_cb *once_cb_cancel(struct once_cb *cb);

/* For _cleanup_once_cb_: cancels the callback a variable still holds when it goes out of scope. */
void once_cb_cancelp(struct once_cb **cb);
#define _cleanup_once_cb_ _cleanup_(once_cb_cancelp)

/* Callbacks made and not yet consumed, in this process (over all threads). */
unsigned long once_cb_live_count(void);
