/* SPDX-License-Identifier: MIT */
/*
 * The worker's end of the control channel, modelled on mediasoup's Channel::ChannelRequest: a request comes
 * in, and exactly one response (accept, or an error with a reason) goes back. The caller (node/src/Channel.ts)
 * keeps every request pending, with no timeout, until its response arrives: a request that is never answered
 * waits until the channel closes.
 *
 * struct channel counts what went back, so that a test can see it.
 */
#pragma once

struct channel {
        unsigned long requests;   /* made by channel_request_new() */
        unsigned long accepted;   /* answered with channel_request_accept() */
        unsigned long errors;     /* answered with channel_request_error() */
        unsigned long freed;      /* freed by channel_request_free(), answered or not */
        unsigned long unanswered; /* freed without an answer: their caller waits forever */
        char last_error[64];      /* the reason of the last error, "" until there is one */
};

struct channel_request;

/* Makes a request on channel (transfer none: it must outlive the request). Returns it (transfer full: free it
 * with channel_request_free()), or NULL when out of memory. */
struct channel_request *channel_request_new(struct channel *channel);

/* Answers the request. A request is answered once: a second answer aborts, as mediasoup's
 * "request already replied" assertion does. */
void channel_request_accept(struct channel_request *request);
void channel_request_error(struct channel_request *request, const char *reason);

/* Frees the request (transfer full); one freed unanswered is counted in channel->unanswered. Accepts NULL.
 * Returns NULL. */
struct channel_request *channel_request_free(struct channel_request *request);
