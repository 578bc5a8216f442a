/* SPDX-License-Identifier: MIT */
#include "transport.h"

#include <errno.h>
#include <stdint.h>

#include "sptr.h"

#define FRAME_MAX 65535 /* what a 2-byte length can say */

/* One direction: a ring of bytes holding framed packets, each a big-endian length and then its bytes. */
struct stream {
        uint8_t bytes[TRANSPORT_BUFFER_SIZE];
        size_t head, length;
};

struct transport {
        struct stream to_server, to_peer;
        bool closed_by_peer, closed_by_server;
};

struct transport *transport_new(void)
{
        return sptr_new_of(struct transport, NULL);
}

static void put(struct stream *stream, const uint8_t *data, size_t size)
{
        for (size_t i = 0; i < size; i++)
                stream->bytes[(stream->head + stream->length++) % TRANSPORT_BUFFER_SIZE] = data[i];
}

/* Takes size bytes off the front, into data (NULL: drops them). */
static void take(struct stream *stream, uint8_t *data, size_t size)
{
        for (size_t i = 0; i < size; i++) {
                if (data)
                        data[i] = stream->bytes[stream->head];
                stream->head = (stream->head + 1) % TRANSPORT_BUFFER_SIZE;
                stream->length--;
        }
}

static int push(struct transport *transport, struct stream *stream, const void *packet, size_t size)
{
        const uint8_t length[2] = { (uint8_t) (size >> 8), (uint8_t) size };

        if (transport->closed_by_peer || transport->closed_by_server)
                return -EPIPE;
        if (size == 0 || size > FRAME_MAX)
                return -EMSGSIZE;
        if (TRANSPORT_BUFFER_SIZE - stream->length < sizeof length + size)
                return -ENOBUFS;
        put(stream, length, sizeof length);
        put(stream, packet, size);
        return 0;
}

/* What the other end sent before it closed is still delivered, as TCP does. */
static ssize_t pop(struct stream *stream, bool other_end_closed, void *buf, size_t size)
{
        size_t packet_size;

        if (stream->length == 0)
                return other_end_closed ? -EPIPE : -EAGAIN;
        packet_size = (size_t) stream->bytes[stream->head] << 8 |
                      stream->bytes[(stream->head + 1) % TRANSPORT_BUFFER_SIZE];
        if (packet_size > size)
                return -EMSGSIZE;
        take(stream, NULL, 2); /* the length, read above */
        take(stream, buf, packet_size);
        return (ssize_t) packet_size;
}

int transport_peer_send(struct transport *transport, const void *packet, size_t size)
{
        return push(transport, &transport->to_server, packet, size);
}

ssize_t transport_peer_receive(struct transport *transport, void *buf, size_t size)
{
        return pop(&transport->to_peer, transport->closed_by_server, buf, size);
}

void transport_peer_close(struct transport *transport)
{
        transport->closed_by_peer = true;
}

int transport_server_write(struct transport *transport, const void *packet, size_t size)
{
        return push(transport, &transport->to_peer, packet, size);
}

ssize_t transport_server_read(struct transport *transport, void *buf, size_t size)
{
        return pop(&transport->to_server, transport->closed_by_peer, buf, size);
}

void transport_server_close(struct transport *transport)
{
        transport->closed_by_server = true;
}

bool transport_closed_by_peer(const struct transport *transport)
{
        return transport->closed_by_peer;
}

bool transport_closed_by_server(const struct transport *transport)
{
        return transport->closed_by_server;
}
