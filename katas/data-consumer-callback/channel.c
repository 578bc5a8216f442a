/* SPDX-License-Identifier: MIT */
#include "channel.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

struct channel_request {
        struct channel *channel; /* transfer none */
        unsigned long id;
        bool answered;
};

struct channel_request *channel_request_new(struct channel *channel)
{
        struct channel_request *request = malloc(sizeof *request);

        if (!request)
                return NULL;
        *request = (struct channel_request){ .channel = channel, .id = ++channel->requests };
        channel->pending++;
        return request;
}

/* A second answer is a bug in the worker, not something the caller could handle: stop here. */
static void mark_answered(struct channel_request *request)
{
        if (request->answered) {
                fprintf(stderr, "channel_request: request %lu already answered\n", request->id);
                abort();
        }
        request->answered = true;
        request->channel->pending--;
}

void channel_request_accept(struct channel_request *request)
{
        mark_answered(request);
        request->channel->accepted++;
}

static void set_last_error(struct channel *channel, const char *reason)
{
        snprintf(channel->last_error, sizeof channel->last_error, "%s", reason);
}

void channel_request_error(struct channel_request *request, const char *reason)
{
        mark_answered(request);
        request->channel->errors++;
        set_last_error(request->channel, reason);
}

void channel_request_type_error(struct channel_request *request, const char *reason)
{
        mark_answered(request);
        request->channel->type_errors++;
        set_last_error(request->channel, reason);
}

struct channel_request *channel_request_free(struct channel_request *request)
{
        if (!request)
                return NULL;
        request->channel->freed++;
        if (!request->answered)
                request->channel->unanswered++;
        free(request);
        return NULL;
}
