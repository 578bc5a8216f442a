/* SPDX-License-Identifier: MIT */
#include "executor.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "sptr.h"

struct executor {
        struct event_loop *loop; /* raw: the loop outlives every round it runs */
        void *resource;          /* raw: the manager holds it until this cycle ends */
        const struct executor_handler *handler;
        bool interrupted;
};

struct event_loop {
        struct resource_manager *manager; /* transfer none */
        clock_now_fn now;
        void *userdata;
        struct executor **running; /* +1 each: a running executor stays alive until its cycle ends */
        size_t n_running, capacity;
};

struct event_loop *event_loop_new(struct resource_manager *manager, clock_now_fn now, void *userdata)
{
        struct event_loop *loop = calloc(1, sizeof *loop);

        if (!loop)
                return NULL;
        loop->manager = manager;
        loop->now = now;
        loop->userdata = userdata;
        return loop;
}

struct event_loop *event_loop_free(struct event_loop *loop)
{
        if (!loop)
                return NULL;
        for (size_t i = 0; i < loop->n_running; i++)
                loop->running[i] = sptr_unref(loop->running[i]);
        free(loop->running);
        free(loop);
        return NULL;
}

msec_t event_loop_now(const struct event_loop *loop)
{
        return loop->now(loop->userdata);
}

size_t event_loop_running(const struct event_loop *loop)
{
        return loop->n_running;
}

struct executor *executor_start(struct event_loop *loop, void *resource, const struct executor_handler *handler)
{
        struct executor *executor;

        if (loop->n_running == loop->capacity) {
                size_t capacity = loop->capacity ? 2 * loop->capacity : 8;
                struct executor **running = realloc(loop->running, capacity * sizeof *running);

                if (!running)
                        return NULL;
                loop->running = running;
                loop->capacity = capacity;
        }
        executor = sptr_new_of(struct executor, NULL);
        if (!executor)
                return NULL;
        *executor = (struct executor){ .loop = loop, .resource = resource, .handler = handler };
        if (resource_manager_add(loop->manager, executor) < 0) {
                executor = sptr_unref(executor);
                return NULL;
        }
        /* Our reference from sptr_new_of() goes to the loop; the manager took its own. */
        loop->running[loop->n_running++] = executor;
        return executor;
}

void executor_interrupt(struct executor *executor)
{
        executor->interrupted = true;
}

/* Runs one step; returns true when the cycle has ended and the executor has left the manager. */
static bool executor_step(struct executor *executor, msec_t now)
{
        struct resource_manager *manager = executor->loop->manager;
        int result = executor->interrupted ? -EINTR : executor->handler->step(executor->resource, now);

        if (result == EXECUTOR_RUNNING)
                return false;
        executor->handler->on_done(executor->resource, result);
        /* Both are freed at the manager's next dispose, not here: the caller may still be using them. */
        resource_manager_remove(manager, executor);
        resource_manager_remove(manager, executor->resource);
        return true;
}

void event_loop_run_once(struct event_loop *loop)
{
        size_t n = loop->n_running, kept = 0;
        msec_t now = event_loop_now(loop);

        for (size_t i = 0; i < n; i++) {
                struct executor *executor = loop->running[i];

                if (executor_step(executor, now))
                        loop->running[i] = sptr_unref(executor);
        }
        /* Keep the order; executors started during the round sit after the first n. */
        for (size_t i = 0; i < loop->n_running; i++)
                if (loop->running[i])
                        loop->running[kept++] = loop->running[i];
        loop->n_running = kept;
        resource_manager_dispose(loop->manager);
}
