/* SPDX-License-Identifier: MIT */
/*
 * An in-memory stand-in for one TCP connection between a browser (the peer) and the server's WebRTC port.
 * WebRTC over TCP frames every packet (STUN, DTLS, RTP) with a 2-byte length, as RFC 4571 says; the
 * transport stores them so, in one byte buffer each way, and always hands out whole packets. No sockets:
 * every test is deterministic and runs in microseconds.
 *
 * A transport is a shared object (harness/toolbox/sptr.h): the peer and the server's connection each hold
 * a reference, and the last release frees it.
 *
 * This file is correct: the kata's bug is elsewhere.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define TRANSPORT_BUFFER_SIZE 8192 /* bytes queued each way, lengths included */

struct transport;

/* Returns a new open transport with a count of 1 (transfer full: release it with sptr_unref()), or NULL. */
struct transport *transport_new(void);

/*
 * The peer's end.
 * send: 0; -EPIPE once either end has closed; -ENOBUFS when the packet does not fit; -EMSGSIZE for an
 * empty packet or one longer than 65535 bytes.
 * receive: the packet's size, copied to buf; -EAGAIN when nothing is queued; -EPIPE when the server has
 * closed and nothing is left; -EMSGSIZE when the next packet is longer than size (it stays queued).
 */
int transport_peer_send(struct transport *transport, const void *packet, size_t size);
ssize_t transport_peer_receive(struct transport *transport, void *buf, size_t size);
void transport_peer_close(struct transport *transport);

/* The server's end, the same way round. */
int transport_server_write(struct transport *transport, const void *packet, size_t size);
ssize_t transport_server_read(struct transport *transport, void *buf, size_t size);
void transport_server_close(struct transport *transport);

bool transport_closed_by_peer(const struct transport *transport);
bool transport_closed_by_server(const struct transport *transport);
