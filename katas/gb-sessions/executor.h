/* SPDX-License-Identifier: MIT */
/*
 * A deterministic event loop and the executor that runs one resource's cycle on it, modelled on SRS's
 * SrsExecutorCoroutine (PR #4080). SRS runs each connection and session in a coroutine; here a cycle is a
 * step function that the loop calls once per round and that never blocks. Time comes from an injected
 * clock, so that a test can run five minutes of a device's life in a few milliseconds.
 *
 * When a cycle ends (its step returns, or it was interrupted), the executor tells its owner once
 * (on_done), then removes itself and its resource from the resource manager, which frees them later, at its
 * dispose. That is how every connection and session here ends its life: nobody frees them directly.
 *
 * This file is correct: the kata's leak is elsewhere.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "resource_manager.h"

typedef uint64_t msec_t;
typedef msec_t (*clock_now_fn)(void *userdata);

enum {
        EXECUTOR_RUNNING = 0, /* step again next round */
        EXECUTOR_DONE = 1,    /* the cycle ended normally; a negative errno ends it with an error */
};

struct executor_handler {
        /* One step of the resource's cycle, at time now: EXECUTOR_RUNNING, EXECUTOR_DONE or -errno. */
        int (*step)(void *resource, msec_t now);
        /* The cycle is over; result is what step returned, or -EINTR after executor_interrupt(). Called
         * exactly once. The executor is gone after it: forget any pointer to it here. */
        void (*on_done)(void *resource, int result);
};

struct event_loop;
struct executor;

/* Returns a new loop (transfer full: free it with event_loop_free()), or NULL. manager and the clock:
 * transfer none; the manager must stay valid while the loop runs. */
struct event_loop *event_loop_new(struct resource_manager *manager, clock_now_fn now, void *userdata);

/* Forgets the running executors (the manager still holds them and their resources). Returns NULL. */
struct event_loop *event_loop_free(struct event_loop *loop);

/* The injected clock's time. */
msec_t event_loop_now(const struct event_loop *loop);

/* One round: steps every executor that was running when the round began, once, then runs the manager's
 * cycle, which frees what the round removed. */
void event_loop_run_once(struct event_loop *loop);

/* How many executors are running. */
size_t event_loop_running(const struct event_loop *loop);

/*
 * Starts running resource's cycle: from the next round on, handler->step(resource, now) is called once a
 * round until the cycle ends. resource: transfer none; the caller must have added it to the manager, which
 * keeps it alive until the cycle ends. Returns the executor (transfer none: the manager and the loop own
 * it; valid until on_done returns), or NULL when out of memory.
 */
struct executor *executor_start(struct event_loop *loop, void *resource, const struct executor_handler *handler);

/* Ends the cycle at its next step, with -EINTR, instead of stepping it (SRS's coroutine interrupt). */
void executor_interrupt(struct executor *executor);
