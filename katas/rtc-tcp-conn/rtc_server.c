/* SPDX-License-Identifier: MIT */
/*
 * The server's configuration (SRS's SrsRtcServer). This file is correct: the kata's bug is elsewhere.
 */
#include "rtc.h"

#include <stdlib.h>

struct rtc_server *rtc_server_new(struct event_loop *loop, struct resource_manager *manager,
                                  const struct rtc_config *config)
{
        struct rtc_server *server = calloc(1, sizeof *server);

        if (!server)
                return NULL;
        server->loop = loop;
        server->manager = manager;
        server->config = *config;
        if (!server->config.stun_timeout_ms)
                server->config.stun_timeout_ms = RTC_STUN_TIMEOUT_MS;
        return server;
}

struct rtc_server *rtc_server_free(struct rtc_server *server)
{
        free(server);
        return NULL;
}
