/* SPDX-License-Identifier: MIT */
/*
 * data_consumer_send_message() owns the callback it is given, and has four ways out before it hands the
 * message, and the callback, to the transport, just like mediasoup's DataConsumer::SendMessage() before
 * issue #1382 was fixed.
 */
#include "data_consumer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct data_consumer {
        struct transport *transport; /* transfer none */
        size_t max_message_size;
        uint16_t subchannels[DATA_CONSUMER_MAX_SUBCHANNELS];
        size_t n_subchannels;
        bool paused;
        bool data_producer_paused;
        bool data_producer_closed;
        unsigned long messages_sent;
        unsigned long bytes_sent;
};

/* The adapter from a once_cb's int result to mediasoup's (queued, sctpSendBufferFull). */
struct on_queued {
        data_consumer_on_queued_fn fn;
        void *userdata;
        once_cb_destroy_fn destroy;
};

static void on_queued_call(void *userdata, int result)
{
        struct on_queued *on_queued = userdata;

        on_queued->fn(on_queued->userdata, result == TRANSPORT_SEND_QUEUED, result == TRANSPORT_SEND_BUFFER_FULL);
}

static void on_queued_destroy(void *userdata)
{
        struct on_queued *on_queued = userdata;

        if (on_queued->destroy)
                on_queued->destroy(on_queued->userdata);
        free(on_queued);
}

struct once_cb *data_consumer_on_queued_new(data_consumer_on_queued_fn fn, void *userdata,
                                            once_cb_destroy_fn destroy)
{
        struct on_queued *on_queued = malloc(sizeof *on_queued);
        struct once_cb *cb;

        if (!on_queued)
                return NULL;
        *on_queued = (struct on_queued){ .fn = fn, .userdata = userdata, .destroy = destroy };
        cb = once_cb_new(on_queued_call, on_queued, on_queued_destroy);
        if (!cb)
                free(on_queued);
        return cb;
}

struct data_consumer *data_consumer_new(struct transport *transport, size_t max_message_size)
{
        struct data_consumer *consumer = calloc(1, sizeof *consumer);

        if (!consumer)
                return NULL;
        consumer->transport = transport;
        consumer->max_message_size = max_message_size;
        return consumer;
}

struct data_consumer *data_consumer_free(struct data_consumer *consumer)
{
        free(consumer);
        return NULL;
}

int data_consumer_set_subchannels(struct data_consumer *consumer, const uint16_t *subchannels, size_t n)
{
        if (n > DATA_CONSUMER_MAX_SUBCHANNELS)
                return -EINVAL;
        if (n > 0)
                memcpy(consumer->subchannels, subchannels, n * sizeof *subchannels);
        consumer->n_subchannels = n;
        return 0;
}

void data_consumer_set_paused(struct data_consumer *consumer, bool paused)
{
        consumer->paused = paused;
}

void data_consumer_set_data_producer_paused(struct data_consumer *consumer, bool paused)
{
        consumer->data_producer_paused = paused;
}

void data_consumer_set_data_producer_closed(struct data_consumer *consumer)
{
        consumer->data_producer_closed = true;
}

bool data_consumer_is_active(const struct data_consumer *consumer)
{
        const struct transport *transport = consumer->transport;

        return transport_is_connected(transport) &&
               (transport_is_direct(transport) || transport_sctp_association_connected(transport)) &&
               !consumer->paused && !consumer->data_producer_paused && !consumer->data_producer_closed;
}

unsigned long data_consumer_messages_sent(const struct data_consumer *consumer)
{
        return consumer->messages_sent;
}

unsigned long data_consumer_bytes_sent(const struct data_consumer *consumer)
{
        return consumer->bytes_sent;
}

static bool is_subscribed(const struct data_consumer *consumer, uint16_t subchannel)
{
        for (size_t i = 0; i < consumer->n_subchannels; i++)
                if (consumer->subchannels[i] == subchannel)
                        return true;
        return false;
}

void data_consumer_send_message(struct data_consumer *consumer, const uint8_t *msg, size_t len, uint32_t ppid,
                                const uint16_t *subchannels, size_t n_subchannels,
                                const uint16_t *required_subchannel, struct once_cb *cb)
{
        if (!data_consumer_is_active(consumer))
                return;

        if (required_subchannel && !is_subscribed(consumer, *required_subchannel))
                return;

        if (n_subchannels > 0) {
                bool subscribed = false;

                for (size_t i = 0; i < n_subchannels && !subscribed; i++)
                        subscribed = is_subscribed(consumer, subchannels[i]);
                if (!subscribed)
                        return;
        }

        /* mediasoup warns here: "given message exceeds maxMessageSize value". */
        if (len > consumer->max_message_size)
                return;

        consumer->messages_sent++;
        consumer->bytes_sent += len;
        transport_send_message(consumer->transport, msg, len, ppid, cb);
}

/* The callback's userdata is the request itself, borrowed: the channel frees it once the handler returns. */
static void on_send_request_queued(void *userdata, bool queued, bool send_buffer_full)
{
        struct channel_request *request = userdata;

        if (queued)
                channel_request_accept(request);
        else
                channel_request_error(request, send_buffer_full ? "sctpsendbufferfull" : "message send failed");
}

void data_consumer_handle_send_request(struct data_consumer *consumer, struct channel_request *request,
                                       const uint8_t *data, size_t len, uint32_t ppid)
{
        /* mediasoup throws these before it makes the callback (MS_THROW_TYPE_ERROR); its channel answers them. */
        if (transport_is_direct(consumer->transport)) {
                channel_request_type_error(request, "invalid DataConsumer type");
                return;
        }
        if (len > consumer->max_message_size) {
                char reason[128];

                snprintf(reason, sizeof reason,
                         "given message exceeds maxMessageSize value [maxMessageSize:%zu, len:%zu]",
                         consumer->max_message_size, len);
                channel_request_type_error(request, reason);
                return;
        }

        /* The callback borrows the request (no destroy function): it must be consumed before this returns. */
        struct once_cb *cb = data_consumer_on_queued_new(on_send_request_queued, request, NULL);
        if (!cb) {
                channel_request_error(request, "out of memory");
                return;
        }
        data_consumer_send_message(consumer, data, len, ppid, NULL, 0, NULL, cb);
}
