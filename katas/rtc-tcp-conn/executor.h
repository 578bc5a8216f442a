/* SPDX-License-Identifier: MIT */
/*
 * A deterministic event loop, and the executor that runs one object's cycle on it, modelled on SRS's
 * SrsExecutorCoroutine as PR #4083 uses it for a WebRTC TCP connection. SRS runs each cycle in a
 * coroutine; here a cycle is a step function that the loop calls once per round and that never blocks.
 * Time comes from an injected clock, so that a test can run a minute of a session in microseconds.
 *
 * Ownership, as in SRS: the executor holds a counted reference to the object it runs (SRS hands it an
 * SrsSharedResource wrapper), and the resource manager holds the executor. When the cycle ends (its step
 * returns, or it was interrupted) the executor tells the object once (on_done), then removes itself from
 * the manager, which frees it at the end of the round; freeing the executor releases its reference to the
 * object. Nobody frees a running object: its cycle ends first.
 *
 * This file is correct: the kata's bug is elsewhere.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "resource_manager.h"

typedef uint64_t msec_t;
typedef msec_t (*clock_now_fn)(void *userdata);

enum {
        EXECUTOR_RUNNING = 0, /* step again next round */
        EXECUTOR_DONE = 1,    /* the cycle ended normally; a negative errno ends it with that error */
};

struct executor_handler {
        /* One step of the object's cycle, at time now: EXECUTOR_RUNNING, EXECUTOR_DONE or -errno. */
        int (*step)(void *object, msec_t now);
        /* The cycle is over. result is what step returned; -EINTR after executor_interrupt(); -ECANCELED
         * when the loop was freed with the cycle still running. Called exactly once; the executor must not
         * be used after it (forget any pointer to it here). */
        void (*on_done)(void *object, int result);
};

struct event_loop;
struct executor;

/* Returns a new loop (transfer full: free it with event_loop_free()), or NULL. manager and the clock:
 * transfer none; the manager must outlive the loop. */
struct event_loop *event_loop_new(struct resource_manager *manager, clock_now_fn now, void *userdata);

/* Stops the loop: ends every cycle still running, in the order they started (on_done with -ECANCELED,
 * the executors leave the manager), then frees the loop. The manager frees what was removed at its next
 * dispose, or when it is freed. Accepts NULL. Returns NULL. */
struct event_loop *event_loop_free(struct event_loop *loop);

/* The injected clock's time. */
msec_t event_loop_now(const struct event_loop *loop);

/* One round: steps every cycle that was running when the round began, once, in the order they started;
 * then runs the manager's dispose, which frees what the round removed. */
void event_loop_run_once(struct event_loop *loop);

/* How many cycles are running. */
size_t event_loop_running(const struct event_loop *loop);

/*
 * Starts running object's cycle: from the next round on, handler->step(object, now) is called once a
 * round until the cycle ends. object: the executor takes a reference of its own (transfer none), released
 * when the executor is freed. Returns the executor (transfer none: the manager holds it; valid until
 * on_done returns), or NULL when out of memory.
 */
struct executor *executor_start(struct event_loop *loop, void *object, const struct executor_handler *handler);

/* Ends the cycle at its next step, with -EINTR, instead of stepping it (SRS's coroutine interrupt). */
void executor_interrupt(struct executor *executor);
