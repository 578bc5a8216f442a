/* SPDX-License-Identifier: MIT */
#include "transport.h"

#include <errno.h>

#include "sptr.h"

#define QUEUE_CAPACITY 32

struct queue {
        struct gb_message messages[QUEUE_CAPACITY];
        unsigned head, length;
};

struct transport {
        struct queue to_server, to_device;
        bool closed_by_device, closed_by_server;
};

struct transport *transport_new(void)
{
        return sptr_new_of(struct transport, NULL);
}

static int push(struct transport *transport, struct queue *queue, const struct gb_message *message)
{
        if (transport->closed_by_device || transport->closed_by_server)
                return -EPIPE;
        if (queue->length == QUEUE_CAPACITY)
                return -ENOBUFS;
        queue->messages[(queue->head + queue->length++) % QUEUE_CAPACITY] = *message;
        return 0;
}

/* What the other end sent before it closed is still delivered, as TCP does. */
static int pop(struct queue *queue, bool other_end_closed, struct gb_message *ret_message)
{
        if (queue->length == 0)
                return other_end_closed ? -EPIPE : -EAGAIN;
        *ret_message = queue->messages[queue->head];
        queue->head = (queue->head + 1) % QUEUE_CAPACITY;
        queue->length--;
        return 0;
}

int transport_device_send(struct transport *transport, const struct gb_message *message)
{
        return push(transport, &transport->to_server, message);
}

int transport_device_receive(struct transport *transport, struct gb_message *ret_message)
{
        return pop(&transport->to_device, transport->closed_by_server, ret_message);
}

void transport_device_close(struct transport *transport)
{
        transport->closed_by_device = true;
}

int transport_server_write(struct transport *transport, const struct gb_message *message)
{
        return push(transport, &transport->to_device, message);
}

int transport_server_read(struct transport *transport, struct gb_message *ret_message)
{
        return pop(&transport->to_server, transport->closed_by_device, ret_message);
}

void transport_server_close(struct transport *transport)
{
        transport->closed_by_server = true;
}

bool transport_closed_by_server(const struct transport *transport)
{
        return transport->closed_by_server;
}
