/* SPDX-License-Identifier: MIT */
#include "once_cb.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define ONCE_CB_PENDING 0x0ccb0001u
#define ONCE_CB_CONSUMED 0x0ccbdeadu

struct once_cb {
        uint32_t state; /* ONCE_CB_PENDING until consumed; then the memory is freed */
        once_cb_fn fn;
        void *userdata;
        once_cb_destroy_fn destroy;
};

/* Atomic, so that threads can make and consume their own callbacks at the same time. */
static atomic_ulong live_callbacks;

struct once_cb *once_cb_new(once_cb_fn fn, void *userdata, once_cb_destroy_fn destroy)
{
        struct once_cb *cb = malloc(sizeof *cb);

        if (!cb)
                return NULL;
        *cb = (struct once_cb){ .state = ONCE_CB_PENDING, .fn = fn, .userdata = userdata, .destroy = destroy };
        atomic_fetch_add_explicit(&live_callbacks, 1, memory_order_relaxed);
        return cb;
}

struct once_cb *once_cb_complete(struct once_cb *cb, int result)
{
        if (!cb)
                return NULL;
#ifndef NDEBUG
        if (cb->state != ONCE_CB_PENDING) {
                fprintf(stderr, "once_cb: callback %p completed twice (or never made by once_cb_new)\n", (void *) cb);
                abort();
        }
#endif
        cb->state = ONCE_CB_CONSUMED;
        if (cb->fn)
                cb->fn(cb->userdata, result);
        if (cb->destroy)
                cb->destroy(cb->userdata);
        atomic_fetch_sub_explicit(&live_callbacks, 1, memory_order_relaxed);
        free(cb);
        return NULL;
}

struct once_cb *once_cb_cancel(struct once_cb *cb)
{
        return once_cb_complete(cb, ONCE_CB_CANCELLED);
}

void once_cb_cancelp(struct once_cb **cb)
{
        *cb = once_cb_cancel(*cb);
}

unsigned long once_cb_live_count(void)
{
        return atomic_load_explicit(&live_callbacks, memory_order_relaxed);
}
