/* SPDX-License-Identifier: MIT */
/*
 * The two transports a data consumer sends through, modelled on mediasoup's:
 *
 *   SCTP    (WebRtcTransport and friends, through RTC::SctpAssociation): a message is queued in a send buffer
 *           of bounded size until the peer acknowledges it; when it does not fit, the send fails and says
 *           the buffer was full.
 *   direct  (RTC::DirectTransport): no network; the message is handed to the application at once, as the
 *           notification DATACONSUMER_MESSAGE.
 *
 * Every send takes a callback (a once_cb, see harness/toolbox/once_cb.h) and completes it with one of the
 * results below, or with anything negative when the message was not sent.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "once_cb.h"

#define TRANSPORT_SEND_QUEUED 0                /* queued (SCTP) or delivered (direct) */
#define TRANSPORT_SEND_BUFFER_FULL (-ENOBUFS) /* SCTP: the send buffer had no room for the message */

/* What a direct transport calls for each message it delivers (its DATACONSUMER_MESSAGE notification).
 * msg: transfer none, valid during the call only. */
typedef void (*direct_transport_message_fn)(void *userdata, const uint8_t *msg, size_t len, uint32_t ppid);

struct transport;

/* Makes an SCTP transport whose send buffer holds send_buffer_size bytes; it starts disconnected, with no
 * SCTP association. Returns it (transfer full), or NULL when out of memory or when send_buffer_size is
 * SIZE_MAX (too big to make). */
struct transport *sctp_transport_new(size_t send_buffer_size);

/* Makes a direct transport that calls on_message(userdata, ...) for each message (NULL: nobody listens).
 * It is always connected, as mediasoup's DirectTransport::IsConnected() always returns true.
 * userdata: transfer none. Returns it (transfer full), or NULL when out of memory. */
struct transport *direct_transport_new(direct_transport_message_fn on_message, void *userdata);

/* Frees the transport with its send buffer, sent or not. Accepts NULL. Returns NULL. */
struct transport *transport_free(struct transport *transport);

/* An SCTP transport's connection (ICE and DTLS, in mediasoup) comes and goes; a direct one ignores this. */
void transport_set_connected(struct transport *transport, bool connected);
bool transport_is_connected(const struct transport *transport);
bool transport_is_direct(const struct transport *transport);

/* SCTP only: whether the SCTP association with the peer is up (a direct transport has none: false). */
void transport_set_sctp_association_connected(struct transport *transport, bool connected);
bool transport_sctp_association_connected(const struct transport *transport);

/* SCTP only: the bytes waiting in the send buffer, and the peer acknowledging all of them (returns how many
 * it took). */
size_t transport_sctp_buffered(const struct transport *transport);
size_t transport_sctp_acknowledge(struct transport *transport);

/*
 * Sends one message (msg: transfer none) and reports the outcome to cb (transfer full, may be NULL: nobody
 * asked) before it returns. The caller has already checked that the transport can send.
 */
void transport_send_message(struct transport *transport, const uint8_t *msg, size_t len, uint32_t ppid,
                            struct once_cb *cb);
