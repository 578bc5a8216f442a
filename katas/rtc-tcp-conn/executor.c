/* SPDX-License-Identifier: MIT */
#include "executor.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "sptr.h"

struct executor {
        struct event_loop *loop; /* raw: the loop outlives every cycle it runs */
        void *object;            /* +1, released when the executor is freed */
        const struct executor_handler *handler;
        bool interrupted;
};

struct event_loop {
        struct resource_manager *manager; /* transfer none */
        clock_now_fn now;
        void *userdata;
        struct executor **running; /* raw: the manager holds each until its cycle ends */
        size_t n_running, capacity;
};

static void executor_destroy(void *object)
{
        struct executor *executor = object;

        executor->object = sptr_unref(executor->object);
}

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

msec_t event_loop_now(const struct event_loop *loop)
{
        return loop->now(loop->userdata);
}

size_t event_loop_running(const struct event_loop *loop)
{
        return loop->n_running;
}

struct executor *executor_start(struct event_loop *loop, void *object, const struct executor_handler *handler)
{
        _cleanup_sptr_ struct executor *executor = NULL;

        if (loop->n_running == loop->capacity) {
                size_t capacity = loop->capacity ? 2 * loop->capacity : 16;
                struct executor **running = reallocarray(loop->running, capacity, sizeof *running);

                if (!running)
                        return NULL;
                loop->running = running;
                loop->capacity = capacity;
        }
        executor = sptr_new_of(struct executor, executor_destroy);
        if (!executor)
                return NULL;
        *executor = (struct executor){ .loop = loop, .object = sptr_ref(object), .handler = handler };
        if (resource_manager_add(loop->manager, executor) < 0)
                return NULL;
        loop->running[loop->n_running++] = executor;
        return executor; /* the manager holds it; ours goes at the end of the scope */
}

void executor_interrupt(struct executor *executor)
{
        executor->interrupted = true;
}

/* The cycle is over: tell the object, then leave the manager, which frees us at its next dispose. */
static void executor_end(struct executor *executor, int result)
{
        executor->handler->on_done(executor->object, result);
        resource_manager_remove(executor->loop->manager, executor);
}

void event_loop_run_once(struct event_loop *loop)
{
        size_t n = loop->n_running, kept = 0;
        msec_t now = event_loop_now(loop);

        for (size_t i = 0; i < n; i++) {
                struct executor *executor = loop->running[i];
                int result = executor->interrupted ? -EINTR : executor->handler->step(executor->object, now);

                if (result == EXECUTOR_RUNNING)
                        continue;
                executor_end(executor, result);
                loop->running[i] = NULL;
        }
        /* Keep the order; cycles started during the round sit after the first n. */
        for (size_t i = 0; i < loop->n_running; i++)
                if (loop->running[i])
                        loop->running[kept++] = loop->running[i];
        loop->n_running = kept;
        resource_manager_dispose(loop->manager);
}

struct event_loop *event_loop_free(struct event_loop *loop)
{
        if (!loop)
                return NULL;
        /* An on_done may interrupt other cycles (they end here all the same), never start one. */
        for (size_t i = 0; i < loop->n_running; i++)
                executor_end(loop->running[i], -ECANCELED);
        free(loop->running);
        free(loop);
        return NULL;
}
