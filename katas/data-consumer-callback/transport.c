/* SPDX-License-Identifier: MIT */
/*
 * The SCTP transport reports every send to its callback. The direct transport, like mediasoup's
 * DirectTransport::SendMessage() before issue #1382 was fixed, delivers the message and never looks at it.
 */
#include "transport.h"

#include <stdlib.h>
#include <string.h>

enum transport_kind {
        TRANSPORT_SCTP,
        TRANSPORT_DIRECT,
};

struct transport {
        enum transport_kind kind;
        bool connected;

        /* SCTP */
        bool sctp_association_connected;
        uint8_t *send_buffer; /* send_buffer_size bytes, of which send_buffer_used wait for the peer */
        size_t send_buffer_size;
        size_t send_buffer_used;

        /* direct */
        direct_transport_message_fn on_message;
        void *userdata;
};

struct transport *sctp_transport_new(size_t send_buffer_size)
{
        struct transport *transport;

        /* The size is the caller's: the + 1 below must not wrap around to a buffer of 0 bytes. */
        if (send_buffer_size == SIZE_MAX)
                return NULL;
        transport = calloc(1, sizeof *transport);
        if (!transport)
                return NULL;
        /* +1: malloc(0) may return NULL, and a zero-sized buffer is a legal (always full) one. */
        transport->send_buffer = malloc(send_buffer_size + 1);
        if (!transport->send_buffer) {
                free(transport);
                return NULL;
        }
        transport->kind = TRANSPORT_SCTP;
        transport->send_buffer_size = send_buffer_size;
        return transport;
}

struct transport *direct_transport_new(direct_transport_message_fn on_message, void *userdata)
{
        struct transport *transport = calloc(1, sizeof *transport);

        if (!transport)
                return NULL;
        transport->kind = TRANSPORT_DIRECT;
        transport->connected = true;
        transport->on_message = on_message;
        transport->userdata = userdata;
        return transport;
}

struct transport *transport_free(struct transport *transport)
{
        if (!transport)
                return NULL;
        free(transport->send_buffer);
        free(transport);
        return NULL;
}

void transport_set_connected(struct transport *transport, bool connected)
{
        if (transport->kind == TRANSPORT_SCTP)
                transport->connected = connected;
}

bool transport_is_connected(const struct transport *transport)
{
        return transport->connected;
}

bool transport_is_direct(const struct transport *transport)
{
        return transport->kind == TRANSPORT_DIRECT;
}

void transport_set_sctp_association_connected(struct transport *transport, bool connected)
{
        if (transport->kind == TRANSPORT_SCTP)
                transport->sctp_association_connected = connected;
}

bool transport_sctp_association_connected(const struct transport *transport)
{
        return transport->sctp_association_connected;
}

size_t transport_sctp_buffered(const struct transport *transport)
{
        return transport->send_buffer_used;
}

size_t transport_sctp_acknowledge(struct transport *transport)
{
        size_t acknowledged = transport->send_buffer_used;

        transport->send_buffer_used = 0;
        return acknowledged;
}

/* mediasoup's SctpAssociation::SendSctpMessage(): queue the message or say why not, and consume cb either way. */
static void sctp_send_message(struct transport *transport, const uint8_t *msg, size_t len, struct once_cb *cb)
{
        if (len > transport->send_buffer_size - transport->send_buffer_used) {
                once_cb_complete(cb, TRANSPORT_SEND_BUFFER_FULL);
                return;
        }
        if (len > 0)
                memcpy(transport->send_buffer + transport->send_buffer_used, msg, len);
        transport->send_buffer_used += len;
        once_cb_complete(cb, TRANSPORT_SEND_QUEUED);
}

static void direct_send_message(struct transport *transport, const uint8_t *msg, size_t len, uint32_t ppid,
                                struct once_cb *cb)
{
        (void) cb;

        if (transport->on_message)
                transport->on_message(transport->userdata, msg, len, ppid);
}

void transport_send_message(struct transport *transport, const uint8_t *msg, size_t len, uint32_t ppid,
                            struct once_cb *cb)
{
        if (transport->kind == TRANSPORT_DIRECT)
                direct_send_message(transport, msg, len, ppid, cb);
        else
                /* The association sends ppid along with the message; this one only buffers the bytes. */
                sctp_send_message(transport, msg, len, cb);
}
