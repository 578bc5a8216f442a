/* SPDX-License-Identifier: MIT */
/*
 * The worker's end of the control channel, modelled on mediasoup's Channel::ChannelRequest: a request comes
 * in, and exactly one response (accept, or an error with a reason) goes back.
 *
 * The channel owns each request. mediasoup's Channel::ChannelSocket makes it, hands it to the handler
 * (HandleRequest), and deletes it as soon as the handler returns; a handler that throws gets its error sent
 * as the response. So a request is answered while its handler runs, or never. The caller (Node's
 * Channel.request()) keeps every request pending, with no timeout, until its response arrives: a request
 * that is never answered waits until the channel closes.
 *
 * struct channel counts what went back, so that a test can see it.
 */
#pragma once

struct channel {
        unsigned long requests;    /* made by channel_request_new() */
        unsigned long accepted;    /* answered with channel_request_accept() */
        unsigned long errors;      /* answered with channel_request_error(): Node rejects with an Error */
        unsigned long type_errors; /* answered with channel_request_type_error(): Node rejects with a TypeError */
        unsigned long pending;     /* made and not answered: promises Node still awaits */
        unsigned long freed;       /* freed by channel_request_free(), answered or not */
        unsigned long unanswered;  /* freed without an answer: their caller waits until the channel closes */
        char last_error[128];      /* the reason of the last error or type error, "" until there is one */
};

struct channel_request;

/* Makes a request on channel (transfer none: it must outlive the request), as a request from Node arrives.
 * Returns it (transfer full: free it with channel_request_free() once its handler returned), or NULL when
 * out of memory. */
struct channel_request *channel_request_new(struct channel *channel);

/* Answers the request. A request is answered once: a second answer aborts, as mediasoup's
 * "request already replied" assertion does. A type error is what mediasoup sends when a handler throws
 * MediaSoupTypeError (MS_THROW_TYPE_ERROR); an error, what it sends for MediaSoupError or request->Error(). */
void channel_request_accept(struct channel_request *request);
void channel_request_error(struct channel_request *request, const char *reason);
void channel_request_type_error(struct channel_request *request, const char *reason);

/* Frees the request (transfer full); one freed unanswered is counted in channel->unanswered, and stays in
 * channel->pending. Accepts NULL. Returns NULL. */
struct channel_request *channel_request_free(struct channel_request *request);
