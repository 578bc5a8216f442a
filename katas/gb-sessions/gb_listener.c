/* SPDX-License-Identifier: MIT */
#include "gb28181.h"

#include <stdlib.h>

/* GB28181 SSRCs are ten decimal digits: 0 for a live stream, then the realm of the device ids (3402000000:
 * Hefei, the ids the tests use), then a stream number. */
#define GB_SSRC_BASE 340200000u

struct gb_listener *gb_listener_new(struct event_loop *loop, struct resource_manager *manager,
                                    const struct gb_config *config)
{
        struct gb_listener *listener = calloc(1, sizeof *listener);

        if (!listener)
                return NULL;
        listener->loop = loop;
        listener->manager = manager;
        listener->config = *config;
        if (!listener->config.connecting_timeout_ms)
                listener->config.connecting_timeout_ms = GB_CONNECTING_TIMEOUT_MS;
        if (!listener->config.reinvite_wait_ms)
                listener->config.reinvite_wait_ms = GB_REINVITE_WAIT_MS;
        listener->last_ssrc = GB_SSRC_BASE;
        return listener;
}

struct gb_listener *gb_listener_free(struct gb_listener *listener)
{
        free(listener);
        return NULL;
}
