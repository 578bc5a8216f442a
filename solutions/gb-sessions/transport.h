/* SPDX-License-Identifier: MIT */
/*
 * An in-memory stand-in for one TCP connection between a GB28181 device and the server: two message queues
 * and who closed what. The test plays the device at one end; a SIP or media connection reads and writes the
 * other. No sockets: every test is deterministic and runs in microseconds.
 *
 * A transport is a shared object (harness/toolbox/sptr.h): the device and the server's connection each hold
 * a reference, and the last release frees it.
 *
 * This file is correct: the kata's leak is elsewhere.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define GB_DEVICE_ID_MAX 21 /* a GB28181 device id is 20 digits */

enum gb_message_type {
        GB_MSG_REGISTER,    /* device → server: device_id, expires (0: unregister) */
        GB_MSG_REGISTER_OK, /* server → device */
        GB_MSG_INVITE,      /* server → device: send your stream with this ssrc */
        GB_MSG_INVITE_OK,   /* device → server: 200 OK to the INVITE */
        GB_MSG_ACK,         /* server → device */
        GB_MSG_BYE,         /* device → server: the device leaves */
        GB_MSG_BYE_OK,      /* server → device */
        GB_MSG_PS_PACK,     /* device → server, on the media connection: size bytes of the stream ssrc */
};

/* One SIP message, or one PS pack of media; the fields a message does not use are 0. */
struct gb_message {
        enum gb_message_type type;
        char device_id[GB_DEVICE_ID_MAX];
        unsigned expires;
        uint32_t ssrc;
        uint32_t size;
};

struct transport;

/* Returns a new open transport with a count of 1 (transfer full: release it with sptr_unref()), or NULL. */
struct transport *transport_new(void);

/* The device's end. send: 0, -EPIPE once either end has closed, -ENOBUFS when the queue is full.
 * receive: 0, -EAGAIN when nothing is queued, -EPIPE when the server has closed and nothing is left. */
int transport_device_send(struct transport *transport, const struct gb_message *message);
int transport_device_receive(struct transport *transport, struct gb_message *ret_message);
void transport_device_close(struct transport *transport);

/* The server's end, the same way round. */
int transport_server_write(struct transport *transport, const struct gb_message *message);
int transport_server_read(struct transport *transport, struct gb_message *ret_message);
void transport_server_close(struct transport *transport);

bool transport_closed_by_server(const struct transport *transport);
