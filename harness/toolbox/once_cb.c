/* SPDX-License-Identifier: MIT */
#include "once_cb.h"

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

static unsigned long live_callbacks;

struct once_cb *once_cb_new(once_cb_fn fn, void *userdata, once_cb_destroy_fn destroy)
{
        struct once_cb *cb = malloc(sizeof *cb);

        if (!cb)
                return NULL;
        *cb = (struct once_cb){ .state = ONCE_CB_PENDING, .fn = fn, .userdata = userdata, .destroy = destroy };
        live_callbacks++;
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
        live_callbacks--;
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
        return live_callbacks;
}
