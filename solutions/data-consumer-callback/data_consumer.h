/* SPDX-License-Identifier: MIT */
/*
 * A data consumer, modelled on mediasoup's RTC::DataConsumer (worker/src/RTC/DataConsumer.cpp): it sends the
 * messages of a data producer through its transport to one endpoint, and tells whoever asked for a send
 * whether the message was queued.
 *
 * Ownership (GLib's words): "transfer full" means the receiver now owns the object and must free or consume
 * it; "transfer none" means it is only borrowed.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "channel.h"
#include "once_cb.h"
#include "transport.h"

#define DATA_CONSUMER_MAX_SUBCHANNELS 32u

/*
 * mediasoup's onQueuedCallback: told once whether the message was queued and, when it was not, whether that
 * was because the SCTP send buffer was full.
 */
typedef void (*data_consumer_on_queued_fn)(void *userdata, bool queued, bool send_buffer_full);

/*
 * Makes the callback data_consumer_send_message() takes: a once_cb whose result is turned into
 * fn(userdata, queued, send_buffer_full), called once, and then destroy(userdata) if destroy is not NULL:
 *
 *   TRANSPORT_SEND_QUEUED                                    (true, false)
 *   TRANSPORT_SEND_BUFFER_FULL                               (false, true)
 *   anything else, ONCE_CB_CANCELLED included                (false, false)
 *
 * Returns the callback (transfer full: complete or cancel it, or give it to a function that does), or NULL
 * when out of memory; then nothing was called and userdata is still the caller's.
 */
struct once_cb *data_consumer_on_queued_new(data_consumer_on_queued_fn fn, void *userdata,
                                            once_cb_destroy_fn destroy) __attribute__((__warn_unused_result__));

struct data_consumer;

/* Makes a consumer that sends through transport (transfer none: it must outlive the consumer) messages of at
 * most max_message_size bytes. It starts with no subchannel, not paused, its data producer open. Returns it
 * (transfer full), or NULL when out of memory. */
struct data_consumer *data_consumer_new(struct transport *transport, size_t max_message_size);

/* Accepts NULL. Returns NULL. */
struct data_consumer *data_consumer_free(struct data_consumer *consumer);

/* Replaces the subchannels the consumer subscribes to (subchannels: transfer none). Returns 0, or -EINVAL
 * when there are more than DATA_CONSUMER_MAX_SUBCHANNELS. */
int data_consumer_set_subchannels(struct data_consumer *consumer, const uint16_t *subchannels, size_t n);

void data_consumer_set_paused(struct data_consumer *consumer, bool paused);
void data_consumer_set_data_producer_paused(struct data_consumer *consumer, bool paused);
void data_consumer_set_data_producer_closed(struct data_consumer *consumer);

/* Whether the consumer may send: its transport is connected, so is its SCTP association (unless the
 * transport is direct), and neither it nor its data producer is paused, nor the data producer closed. */
bool data_consumer_is_active(const struct data_consumer *consumer);

/* Messages, and their bytes, handed to the transport. As in mediasoup, one the SCTP send buffer then has no
 * room for still counts; one the consumer itself refused does not. */
unsigned long data_consumer_messages_sent(const struct data_consumer *consumer);
unsigned long data_consumer_bytes_sent(const struct data_consumer *consumer);

/*
 * Sends msg (transfer none) with ppid, as mediasoup's DataConsumer::SendMessage(). It is not sent when the
 * consumer is not active; when required_subchannel is not NULL and the consumer does not subscribe to
 * *required_subchannel; when subchannels lists n_subchannels > 0 subchannels and the consumer subscribes to
 * none of them; or when len is greater than the consumer's max_message_size.
 *
 * cb (transfer full, may be NULL: the router's sends ask for no answer) is told the outcome, exactly once,
 * before this returns (what it answers may not outlive the call):
 * (true, false) queued or delivered; (false, true) the SCTP send buffer was full; (false, false) not sent.
 */
void data_consumer_send_message(struct data_consumer *consumer, const uint8_t *msg, size_t len, uint32_t ppid,
                                const uint16_t *subchannels, size_t n_subchannels,
                                const uint16_t *required_subchannel, struct once_cb *cb);

/*
 * The request DATACONSUMER_SEND, as mediasoup's DataConsumer::HandleRequest() handles it. request: transfer
 * none, and valid only during the call: the channel deletes it as soon as this returns, so this answers it
 * before it returns, or never. Like mediasoup's handler, it first refuses (as a type error, without sending)
 *
 *   a consumer that is not an SCTP one (its transport is direct):  "invalid DataConsumer type"
 *   data bigger than the consumer's max_message_size:              "given message exceeds maxMessageSize
 *                                                                   value [maxMessageSize:M, len:L]"
 *
 * then makes a callback that borrows request, and sends data to every subscriber (no subchannels, none
 * required) with it: queued is answered with accept, anything else with the error "sctpsendbufferfull" or
 * "message send failed".
 */
void data_consumer_handle_send_request(struct data_consumer *consumer, struct channel_request *request,
                                       const uint8_t *data, size_t len, uint32_t ppid);
