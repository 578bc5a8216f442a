/* SPDX-License-Identifier: MIT */
/*
 * Tests for data-consumer-callback. The same file tests the kata and its solution: do not edit it to make the
 * kata pass. Every test checks behaviour; KATA_TEST also fails a test that leaves memory behind.
 *
 * How "exactly once, before the call returns" is checked, so that the kata is red only because of its leak:
 *
 * Every callback here owns heap memory (the once_cb, its adapter, and a probe), which only consuming it
 * frees. mediasoup's DATACONSUMER_SEND callback borrows its request, which the channel deletes as soon as
 * the handler returns: a callback must be consumed before the call that took it returns. So a callback ends
 * in one of these ways:
 *
 *   called once and freed, before the call returned   right: the only ending every test accepts
 *   still live when the call returned                 the kata's bug (dropped), or a fix that consumes it
 *                                                     later: "still held" right after the call, and a
 *                                                     dropped one's blocks are lost (the leak check)
 *   freed without being called                        its caller never hears back: a behaviour failure
 *   called twice                                      once_cb aborts ("completed twice"), or the request
 *                                                     does ("already answered")
 *   called but never freed                            a behaviour failure (answered, yet still alive)
 *
 * "Still held" is checked with kata_assert_released(): under Valgrind and ASan it fails the test as a leak,
 * and with DETECTOR=none it is skipped. Where the kata already ends the callback (the SCTP transport's two
 * outcomes, the handler's type errors), the tests assert exact counts with any detector. Where the kata
 * drops it (the consumer's four refusals, the direct transport), they assert how it must end if it ends,
 * and leave "it did not end" to the "still held" checks. With DETECTOR=none the kata passes every test;
 * under Valgrind or ASan each test that drops a callback fails, and only because the callback is held.
 */
#include "kata_test.h"

/* Angle brackets: the header of the folder being built (kata or solution), never this folder's by accident. */
#include <data_consumer.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Fails with a sentence ("requests accepted: 0, expected 1") rather than with the expression. */
#define assert_count(what, actual, expected)                                                                \
        ck_assert_msg((unsigned long) (actual) == (unsigned long) (expected), "%s: %lu, expected %lu", (what), \
                      (unsigned long) (actual), (unsigned long) (expected))

/* None of the callbacks live before a call may still be live after it: each was consumed before it returned. */
#define assert_callbacks_consumed(before, call)                                                             \
        kata_assert_released(once_cb_live_count(), (before), "callback not consumed before %s returned:", (call))

#define PPID_STRING 51u /* WebRTC String */
#define PPID_BINARY 53u /* WebRTC Binary */

static const uint8_t hello[] = "hello";   /* 6 bytes with its NUL */
static const uint8_t big[64] = { 0x2a }; /* bigger than the consumers' max_message_size below */

/* ---------------------------------------------------------------------------------------------------------
 * Callbacks that count what they were told
 */

struct outcomes {
        unsigned made;
        unsigned calls;
        unsigned queued;        /* (true, false) */
        unsigned buffer_full;   /* (false, true) */
        unsigned not_sent;      /* (false, false) */
        unsigned contradictory; /* (true, true): never right */
        unsigned freed;
};

/* The callback's userdata, on the heap like mediasoup's: a dropped callback leaks it. */
struct probe {
        struct outcomes *outcomes;
};

static void probe_on_queued(void *userdata, bool queued, bool send_buffer_full)
{
        struct outcomes *outcomes = ((struct probe *) userdata)->outcomes;

        outcomes->calls++;
        if (queued && send_buffer_full)
                outcomes->contradictory++;
        else if (queued)
                outcomes->queued++;
        else if (send_buffer_full)
                outcomes->buffer_full++;
        else
                outcomes->not_sent++;
}

static void probe_free(void *userdata)
{
        struct probe *probe = userdata;

        probe->outcomes->freed++;
        free(probe);
}

/* A callback for one send (transfer full). */
static struct once_cb *probe_new(struct outcomes *outcomes)
{
        struct probe *probe = malloc(sizeof *probe);
        struct once_cb *cb;

        ck_assert_ptr_nonnull(probe);
        probe->outcomes = outcomes;
        cb = data_consumer_on_queued_new(probe_on_queued, probe, probe_free);
        ck_assert_ptr_nonnull(cb);
        outcomes->made++;
        return cb;
}

/* Each callback made was called once and then freed, or is still alive (then the leak check reports it). */
static void assert_each_callback_ends_once(const struct outcomes *outcomes)
{
        ck_assert_uint_le(outcomes->freed, outcomes->made);
        ck_assert_msg(outcomes->freed <= outcomes->calls,
                      "%u of %u callbacks were freed without being called: nobody hears what became of the message",
                      outcomes->freed - outcomes->calls, outcomes->made);
        ck_assert_msg(outcomes->calls <= outcomes->freed, "%u of %u callbacks were called but never freed",
                      outcomes->calls - outcomes->freed, outcomes->made);
        ck_assert_msg(outcomes->contradictory == 0, "a callback was told (queued, send buffer full) at once");
}

/* A send the SCTP transport took or refused: the kata already ends these callbacks, so the counts are exact. */
static void assert_ended(const struct outcomes *outcomes, unsigned queued, unsigned buffer_full)
{
        assert_each_callback_ends_once(outcomes);
        assert_count("callbacks called", outcomes->calls, outcomes->made);
        assert_count("callbacks told (true, false), queued", outcomes->queued, queued);
        assert_count("callbacks told (false, true), send buffer full", outcomes->buffer_full, buffer_full);
        assert_count("callbacks told (false, false), not sent", outcomes->not_sent, 0);
}

/* A send the consumer refused: each callback that ended said (false, false). */
static void assert_refused(const struct outcomes *outcomes)
{
        assert_each_callback_ends_once(outcomes);
        ck_assert_msg(outcomes->queued == 0, "a send the consumer refused was reported as queued");
        ck_assert_msg(outcomes->buffer_full == 0, "a send the consumer refused was reported as a full send buffer");
}

/* ---------------------------------------------------------------------------------------------------------
 * Transports and consumers
 */

struct setup {
        struct transport *transport;
        struct data_consumer *consumer;
};

/* An active consumer on an SCTP transport: connected, its association up. */
static struct setup sctp_setup(size_t send_buffer_size, size_t max_message_size)
{
        struct setup setup = { .transport = sctp_transport_new(send_buffer_size) };

        ck_assert_ptr_nonnull(setup.transport);
        transport_set_connected(setup.transport, true);
        transport_set_sctp_association_connected(setup.transport, true);
        setup.consumer = data_consumer_new(setup.transport, max_message_size);
        ck_assert_ptr_nonnull(setup.consumer);
        ck_assert(data_consumer_is_active(setup.consumer));
        return setup;
}

/* What a direct transport delivered. */
struct deliveries {
        unsigned count;
        uint8_t last[16];
        size_t last_len;
        uint32_t last_ppid;
};

static void record_delivery(void *userdata, const uint8_t *msg, size_t len, uint32_t ppid)
{
        struct deliveries *deliveries = userdata;

        deliveries->count++;
        deliveries->last_len = len;
        deliveries->last_ppid = ppid;
        memcpy(deliveries->last, msg, len < sizeof deliveries->last ? len : sizeof deliveries->last);
}

/* An active consumer on a direct transport (always connected, with no SCTP association). */
static struct setup direct_setup(struct deliveries *deliveries, size_t max_message_size)
{
        struct setup setup = { .transport = direct_transport_new(record_delivery, deliveries) };

        ck_assert_ptr_nonnull(setup.transport);
        setup.consumer = data_consumer_new(setup.transport, max_message_size);
        ck_assert_ptr_nonnull(setup.consumer);
        ck_assert(data_consumer_is_active(setup.consumer));
        return setup;
}

static void setup_free(struct setup *setup)
{
        ck_assert_ptr_null(data_consumer_free(setup->consumer));
        ck_assert_ptr_null(transport_free(setup->transport));
}

/* Sends msg through the consumer with a callback that records into outcomes (NULL: no callback, as the
 * router sends), and checks that the callback was consumed before data_consumer_send_message() returned. */
static void send_to(struct setup *setup, const uint8_t *msg, size_t len, uint32_t ppid, const uint16_t *subchannels,
                    size_t n_subchannels, const uint16_t *required_subchannel, struct outcomes *outcomes)
{
        unsigned long before = once_cb_live_count();

        data_consumer_send_message(setup->consumer, msg, len, ppid, subchannels, n_subchannels, required_subchannel,
                                   outcomes ? probe_new(outcomes) : NULL);
        assert_callbacks_consumed(before, "data_consumer_send_message()");
}

/* "hello", to subchannels, required_subchannel. */
static void send_hello(struct setup *setup, const uint16_t *subchannels, size_t n_subchannels,
                       const uint16_t *required_subchannel, struct outcomes *outcomes)
{
        send_to(setup, hello, sizeof hello, PPID_STRING, subchannels, n_subchannels, required_subchannel, outcomes);
}

/* msg to every subscriber. */
static void send_message(struct setup *setup, const uint8_t *msg, size_t len, uint32_t ppid, struct outcomes *outcomes)
{
        send_to(setup, msg, len, ppid, NULL, 0, NULL, outcomes);
}

/* Nothing was counted and nothing reached the SCTP send buffer. */
static void assert_nothing_sent(const struct setup *setup)
{
        ck_assert_uint_eq(data_consumer_messages_sent(setup->consumer), 0);
        ck_assert_uint_eq(data_consumer_bytes_sent(setup->consumer), 0);
        if (!transport_is_direct(setup->transport))
                ck_assert_uint_eq(transport_sctp_buffered(setup->transport), 0);
}

/* ---------------------------------------------------------------------------------------------------------
 * The four refusals of data_consumer_send_message(). In mediasoup 3.14.1 only the first could drop a
 * callback (DATACONSUMER_SEND sends to no subchannel and checks the size first; the router passes no
 * callback); the tests reach each of them, as any caller with a callback could.
 */

/* Way out 1, reached five ways: the consumer is not active. */
KATA_TEST(send_refused_while_transport_disconnected)
{
        struct outcomes outcomes = { 0 };
        struct setup setup = sctp_setup(1024, 32);

        transport_set_connected(setup.transport, false);
        send_hello(&setup, NULL, 0, NULL, &outcomes);

        assert_refused(&outcomes);
        assert_nothing_sent(&setup);
        setup_free(&setup);
}

KATA_TEST(send_refused_while_sctp_association_down)
{
        struct outcomes outcomes = { 0 };
        struct setup setup = sctp_setup(1024, 32);

        transport_set_sctp_association_connected(setup.transport, false);
        ck_assert(!data_consumer_is_active(setup.consumer));
        send_hello(&setup, NULL, 0, NULL, &outcomes);

        assert_refused(&outcomes);
        assert_nothing_sent(&setup);
        setup_free(&setup);
}

KATA_TEST(send_refused_while_consumer_paused)
{
        struct outcomes outcomes = { 0 };
        struct setup setup = sctp_setup(1024, 32);

        data_consumer_set_paused(setup.consumer, true);
        send_hello(&setup, NULL, 0, NULL, &outcomes);

        assert_refused(&outcomes);
        assert_nothing_sent(&setup);
        setup_free(&setup);
}

KATA_TEST(send_refused_while_data_producer_paused)
{
        struct outcomes outcomes = { 0 };
        struct setup setup = sctp_setup(1024, 32);

        data_consumer_set_data_producer_paused(setup.consumer, true);
        send_hello(&setup, NULL, 0, NULL, &outcomes);

        assert_refused(&outcomes);
        assert_nothing_sent(&setup);
        setup_free(&setup);
}

KATA_TEST(send_refused_after_data_producer_closed)
{
        struct outcomes outcomes = { 0 };
        struct setup setup = sctp_setup(1024, 32);

        data_consumer_set_data_producer_closed(setup.consumer);
        send_hello(&setup, NULL, 0, NULL, &outcomes);

        assert_refused(&outcomes);
        assert_nothing_sent(&setup);
        setup_free(&setup);
}

/* Way out 2: a required subchannel the consumer does not subscribe to. */
KATA_TEST(send_refused_when_required_subchannel_not_subscribed)
{
        struct outcomes outcomes = { 0 };
        struct setup setup = sctp_setup(1024, 32);
        const uint16_t subscribed[] = { 1, 2 };

        ck_assert_int_eq(data_consumer_set_subchannels(setup.consumer, subscribed, 2), 0);
        send_hello(&setup, NULL, 0, &(uint16_t){ 3 }, &outcomes);

        assert_refused(&outcomes);
        assert_nothing_sent(&setup);
        setup_free(&setup);
}

/* Way out 3: subchannels listed, none of them subscribed. */
KATA_TEST(send_refused_when_no_listed_subchannel_subscribed)
{
        struct outcomes outcomes = { 0 };
        struct setup setup = sctp_setup(1024, 32);
        const uint16_t subscribed[] = { 1, 2 };
        const uint16_t listed[] = { 3, 4, 5 };

        ck_assert_int_eq(data_consumer_set_subchannels(setup.consumer, subscribed, 2), 0);
        send_hello(&setup, listed, 3, NULL, &outcomes);

        assert_refused(&outcomes);
        assert_nothing_sent(&setup);
        setup_free(&setup);
}

/* Way out 4: a message bigger than the consumer's max_message_size. */
KATA_TEST(send_refused_when_message_exceeds_max_size)
{
        struct outcomes outcomes = { 0 };
        struct setup setup = sctp_setup(1024, sizeof big - 1);

        send_message(&setup, big, sizeof big, PPID_BINARY, &outcomes);

        assert_refused(&outcomes);
        assert_nothing_sent(&setup);
        setup_free(&setup);
}

KATA_TEST(send_refused_while_paused_then_queued_once_resumed)
{
        struct outcomes refused = { 0 }, queued = { 0 };
        struct setup setup = sctp_setup(1024, 32);

        data_consumer_set_paused(setup.consumer, true);
        send_hello(&setup, NULL, 0, NULL, &refused);
        data_consumer_set_paused(setup.consumer, false);
        send_hello(&setup, NULL, 0, NULL, &queued);

        assert_refused(&refused);
        assert_ended(&queued, 1, 0);
        ck_assert_uint_eq(data_consumer_messages_sent(setup.consumer), 1);
        ck_assert_uint_eq(transport_sctp_buffered(setup.transport), sizeof hello);
        setup_free(&setup);
}

KATA_TEST(many_refused_sends_each_end_once)
{
        struct outcomes outcomes = { 0 };
        struct setup setup = sctp_setup(1024, 32);

        data_consumer_set_data_producer_paused(setup.consumer, true);
        for (int i = 0; i < 100; i++)
                send_hello(&setup, NULL, 0, NULL, &outcomes);

        ck_assert_uint_eq(outcomes.made, 100);
        assert_refused(&outcomes);
        assert_nothing_sent(&setup);
        setup_free(&setup);
}

/* ---------------------------------------------------------------------------------------------------------
 * Sends that go out
 */

KATA_TEST(send_queues_message_on_sctp)
{
        struct outcomes outcomes = { 0 };
        struct setup setup = sctp_setup(1024, 32);

        send_hello(&setup, NULL, 0, NULL, &outcomes);

        assert_ended(&outcomes, 1, 0);
        ck_assert_uint_eq(data_consumer_messages_sent(setup.consumer), 1);
        ck_assert_uint_eq(data_consumer_bytes_sent(setup.consumer), sizeof hello);
        ck_assert_uint_eq(transport_sctp_buffered(setup.transport), sizeof hello);
        setup_free(&setup);
}

KATA_TEST(send_queues_message_of_exactly_max_size)
{
        struct outcomes outcomes = { 0 };
        struct setup setup = sctp_setup(1024, sizeof big);

        send_message(&setup, big, sizeof big, PPID_BINARY, &outcomes);

        assert_ended(&outcomes, 1, 0);
        ck_assert_uint_eq(data_consumer_bytes_sent(setup.consumer), sizeof big);
        setup_free(&setup);
}

KATA_TEST(send_to_subscribed_required_subchannel_is_queued)
{
        struct outcomes outcomes = { 0 };
        struct setup setup = sctp_setup(1024, 32);
        const uint16_t subscribed[] = { 1, 2 };

        ck_assert_int_eq(data_consumer_set_subchannels(setup.consumer, subscribed, 2), 0);
        send_hello(&setup, NULL, 0, &(uint16_t){ 2 }, &outcomes);

        assert_ended(&outcomes, 1, 0);
        ck_assert_uint_eq(data_consumer_messages_sent(setup.consumer), 1);
        setup_free(&setup);
}

KATA_TEST(send_to_subchannels_one_subscribed_is_queued)
{
        struct outcomes outcomes = { 0 };
        struct setup setup = sctp_setup(1024, 32);
        const uint16_t subscribed[] = { 1, 2 };
        const uint16_t listed[] = { 7, 8, 2 };

        ck_assert_int_eq(data_consumer_set_subchannels(setup.consumer, subscribed, 2), 0);
        send_hello(&setup, listed, 3, NULL, &outcomes);

        assert_ended(&outcomes, 1, 0);
        ck_assert_uint_eq(data_consumer_messages_sent(setup.consumer), 1);
        setup_free(&setup);
}

/* One subscribed subchannel is enough, wherever it is in the list. */
KATA_TEST(send_to_subchannels_first_one_subscribed_is_queued)
{
        struct outcomes outcomes = { 0 };
        struct setup setup = sctp_setup(1024, 32);
        const uint16_t subscribed[] = { 1, 2 };
        const uint16_t listed[] = { 2, 7, 8 };

        ck_assert_int_eq(data_consumer_set_subchannels(setup.consumer, subscribed, 2), 0);
        send_hello(&setup, listed, 3, NULL, &outcomes);

        assert_ended(&outcomes, 1, 0);
        ck_assert_uint_eq(data_consumer_messages_sent(setup.consumer), 1);
        setup_free(&setup);
}

/* Setting no subchannel unsubscribes from all of them: a send that requires one is refused, others go out. */
KATA_TEST(send_refused_after_subchannels_cleared)
{
        struct outcomes refused = { 0 }, queued = { 0 };
        struct setup setup = sctp_setup(1024, 32);
        const uint16_t subscribed[] = { 1, 2 };

        ck_assert_int_eq(data_consumer_set_subchannels(setup.consumer, subscribed, 2), 0);
        ck_assert_int_eq(data_consumer_set_subchannels(setup.consumer, NULL, 0), 0);
        send_hello(&setup, NULL, 0, &(uint16_t){ 1 }, &refused);
        send_hello(&setup, NULL, 0, NULL, &queued);

        assert_refused(&refused);
        assert_ended(&queued, 1, 0);
        ck_assert_uint_eq(data_consumer_messages_sent(setup.consumer), 1);
        ck_assert_uint_eq(transport_sctp_buffered(setup.transport), sizeof hello);
        setup_free(&setup);
}

/* An empty message (msg may then be NULL) takes no room, so it is queued even by a send buffer of 0 bytes,
 * which has room for nothing else. */
KATA_TEST(send_empty_message_is_queued_by_zero_sized_buffer)
{
        struct outcomes empty = { 0 }, full = { 0 };
        struct setup setup = sctp_setup(0, 32);

        send_message(&setup, NULL, 0, PPID_BINARY, &empty);
        send_hello(&setup, NULL, 0, NULL, &full);

        assert_ended(&empty, 1, 0);
        assert_ended(&full, 0, 1);
        ck_assert_uint_eq(data_consumer_messages_sent(setup.consumer), 2);
        ck_assert_uint_eq(data_consumer_bytes_sent(setup.consumer), sizeof hello);
        ck_assert_uint_eq(transport_sctp_buffered(setup.transport), 0);
        setup_free(&setup);
}

KATA_TEST(send_reports_full_send_buffer_until_peer_acknowledges)
{
        struct outcomes first = { 0 }, second = { 0 }, third = { 0 };
        struct setup setup = sctp_setup(10, 32); /* room for one hello, not two */

        send_hello(&setup, NULL, 0, NULL, &first);
        send_hello(&setup, NULL, 0, NULL, &second);
        assert_ended(&first, 1, 0);
        assert_ended(&second, 0, 1);
        ck_assert_uint_eq(transport_sctp_buffered(setup.transport), sizeof hello);

        ck_assert_uint_eq(transport_sctp_acknowledge(setup.transport), sizeof hello);
        send_hello(&setup, NULL, 0, NULL, &third);
        assert_ended(&third, 1, 0);

        /* As in mediasoup, the consumer counts what it handed to the transport, refused by the buffer or not. */
        ck_assert_uint_eq(data_consumer_messages_sent(setup.consumer), 3);
        ck_assert_uint_eq(data_consumer_bytes_sent(setup.consumer), 3 * sizeof hello);
        setup_free(&setup);
}

/* The router's sends ask for no answer. */
KATA_TEST(send_without_callback_queues_message)
{
        struct setup setup = sctp_setup(1024, 32);

        send_hello(&setup, NULL, 0, NULL, NULL);

        ck_assert_uint_eq(data_consumer_messages_sent(setup.consumer), 1);
        ck_assert_uint_eq(transport_sctp_buffered(setup.transport), sizeof hello);
        setup_free(&setup);
}

KATA_TEST(send_without_callback_refused_quietly)
{
        struct setup setup = sctp_setup(1024, 32);

        data_consumer_set_paused(setup.consumer, true);
        send_hello(&setup, NULL, 0, NULL, NULL);
        send_message(&setup, big, sizeof big, PPID_BINARY, NULL);

        assert_nothing_sent(&setup);
        setup_free(&setup);
}

/* ---------------------------------------------------------------------------------------------------------
 * The direct transport. In 3.14.1 nothing gave it a callback (DATACONSUMER_SEND refuses direct consumers), so
 * its drop was latent; PR #1383 made it report (true, false) after delivering.
 */

KATA_TEST(direct_consumer_delivers_without_sctp_association)
{
        struct deliveries deliveries = { 0 };
        struct outcomes outcomes = { 0 };
        struct setup setup = direct_setup(&deliveries, 32);

        ck_assert(!transport_sctp_association_connected(setup.transport));
        send_hello(&setup, NULL, 0, NULL, &outcomes);

        ck_assert_uint_eq(deliveries.count, 1);
        ck_assert_uint_eq(deliveries.last_len, sizeof hello);
        ck_assert_uint_eq(deliveries.last_ppid, PPID_STRING);
        ck_assert_mem_eq(deliveries.last, hello, sizeof hello);
        /* Delivered: if the callback ended, it said so. */
        assert_each_callback_ends_once(&outcomes);
        ck_assert_msg(outcomes.not_sent == 0 && outcomes.buffer_full == 0,
                      "the direct transport delivered the message, but its callback was told it was not queued");
        ck_assert_uint_eq(data_consumer_messages_sent(setup.consumer), 1);
        ck_assert_uint_eq(data_consumer_bytes_sent(setup.consumer), sizeof hello);
        setup_free(&setup);
}

KATA_TEST(direct_send_without_callback_delivers)
{
        struct deliveries deliveries = { 0 };
        struct setup setup = direct_setup(&deliveries, 32);

        send_hello(&setup, NULL, 0, NULL, NULL);

        ck_assert_uint_eq(deliveries.count, 1);
        ck_assert_uint_eq(data_consumer_messages_sent(setup.consumer), 1);
        setup_free(&setup);
}

KATA_TEST(direct_transport_has_no_sctp_association)
{
        struct deliveries deliveries = { 0 };
        struct setup setup = direct_setup(&deliveries, 32);

        transport_set_sctp_association_connected(setup.transport, true);
        ck_assert(!transport_sctp_association_connected(setup.transport));
        ck_assert(transport_is_direct(setup.transport));
        ck_assert(data_consumer_is_active(setup.consumer));
        setup_free(&setup);
}

/* Nobody listens to the transport's messages, but whoever sent one still hears it was delivered. */
KATA_TEST(direct_send_without_listener_reports_delivery)
{
        struct outcomes outcomes = { 0 };
        struct setup setup = { .transport = direct_transport_new(NULL, NULL) };

        ck_assert_ptr_nonnull(setup.transport);
        setup.consumer = data_consumer_new(setup.transport, 32);
        ck_assert_ptr_nonnull(setup.consumer);
        send_hello(&setup, NULL, 0, NULL, &outcomes);

        assert_each_callback_ends_once(&outcomes);
        ck_assert_msg(outcomes.not_sent == 0 && outcomes.buffer_full == 0,
                      "the direct transport delivered the message, but its callback was told it was not queued");
        ck_assert_uint_eq(data_consumer_messages_sent(setup.consumer), 1);
        setup_free(&setup);
}

/* mediasoup's DirectTransport::IsConnected() always returns true. */
KATA_TEST(direct_transport_is_always_connected)
{
        struct deliveries deliveries = { 0 };
        struct setup setup = direct_setup(&deliveries, 32);

        transport_set_connected(setup.transport, false);
        ck_assert(transport_is_connected(setup.transport));
        ck_assert(data_consumer_is_active(setup.consumer));
        setup_free(&setup);
}

KATA_TEST(direct_send_refused_while_paused)
{
        struct deliveries deliveries = { 0 };
        struct outcomes outcomes = { 0 };
        struct setup setup = direct_setup(&deliveries, 32);

        data_consumer_set_paused(setup.consumer, true);
        send_hello(&setup, NULL, 0, NULL, &outcomes);

        assert_count("messages delivered", deliveries.count, 0);
        assert_refused(&outcomes);
        assert_nothing_sent(&setup);
        setup_free(&setup);
}

/* ---------------------------------------------------------------------------------------------------------
 * DATACONSUMER_SEND: the request the Node side waits for
 */

/* The request's error or type error was `expected`. */
static void assert_reason(const struct channel *channel, const char *expected)
{
        ck_assert_msg(strcmp(channel->last_error, expected) == 0, "the request's error was \"%s\", expected \"%s\"",
                      channel->last_error, expected);
}

/* A request the consumer refused: not accepted, no type error, and, if answered, with "message send failed".
 * (That it was answered at all, send_request() checks as a request still held.) */
static void assert_request_refused(const struct channel *channel)
{
        ck_assert_msg(channel->accepted == 0, "a request the consumer refused was accepted");
        ck_assert_msg(channel->type_errors == 0, "a request the consumer refused got a type error, \"%s\"",
                      channel->last_error);
        if (channel->errors > 0)
                assert_reason(channel, "message send failed");
}

/*
 * What mediasoup's channel does with a request from Node: makes it, hands it to the handler, and deletes it
 * as soon as the handler returns. Then checks that the handler consumed its callback and answered the request
 * before it returned: later, nobody could (the request is gone), and Node awaits the answer until the
 * channel closes.
 */
static void send_request(struct setup *setup, struct channel *channel, const uint8_t *data, size_t len)
{
        unsigned long callbacks = once_cb_live_count(), pending = channel->pending;
        struct channel_request *request = channel_request_new(channel);

        ck_assert_ptr_nonnull(request);
        data_consumer_handle_send_request(setup->consumer, request, data, len, PPID_BINARY);
        ck_assert_ptr_null(channel_request_free(request));
        assert_callbacks_consumed(callbacks, "the DATACONSUMER_SEND handler");
        kata_assert_released(channel->pending, pending,
                             "request left without an answer (Node awaits it until the channel closes):");
}

KATA_TEST(request_accepted_when_queued)
{
        struct channel channel = { 0 };
        struct setup setup = sctp_setup(1024, 32);

        send_request(&setup, &channel, hello, sizeof hello);

        assert_count("requests accepted", channel.accepted, 1);
        assert_count("requests answered with an error", channel.errors + channel.type_errors, 0);
        assert_count("requests still waiting for their answer", channel.pending, 0);
        assert_count("bytes in the SCTP send buffer", transport_sctp_buffered(setup.transport), sizeof hello);
        setup_free(&setup);
}

KATA_TEST(request_answers_sctpsendbufferfull)
{
        struct channel channel = { 0 };
        struct setup setup = sctp_setup(4, 32);

        send_request(&setup, &channel, hello, sizeof hello);

        assert_count("requests accepted", channel.accepted, 0);
        assert_count("requests answered with an error", channel.errors, 1);
        assert_reason(&channel, "sctpsendbufferfull");
        assert_count("requests still waiting for their answer", channel.pending, 0);
        setup_free(&setup);
}

/* The symptom of issue #1382: the request never got a response. In 3.14.1 it took an inactive consumer. */
KATA_TEST(request_answered_while_consumer_paused)
{
        struct channel channel = { 0 };
        struct setup setup = sctp_setup(1024, 32);

        data_consumer_set_paused(setup.consumer, true);
        send_request(&setup, &channel, hello, sizeof hello);

        assert_request_refused(&channel);
        assert_nothing_sent(&setup);
        setup_free(&setup);
}

KATA_TEST(request_answered_while_sctp_association_down)
{
        struct channel channel = { 0 };
        struct setup setup = sctp_setup(1024, 32);

        transport_set_sctp_association_connected(setup.transport, false);
        send_request(&setup, &channel, hello, sizeof hello);

        assert_request_refused(&channel);
        assert_nothing_sent(&setup);
        setup_free(&setup);
}

KATA_TEST(request_answered_while_transport_disconnected)
{
        struct channel channel = { 0 };
        struct setup setup = sctp_setup(1024, 32);

        transport_set_connected(setup.transport, false);
        send_request(&setup, &channel, hello, sizeof hello);

        assert_request_refused(&channel);
        assert_nothing_sent(&setup);
        setup_free(&setup);
}

/* mediasoup's handler refuses it before it makes a callback: MS_THROW_TYPE_ERROR, answered by the channel. */
KATA_TEST(request_too_big_is_a_type_error)
{
        struct channel channel = { 0 };
        struct setup setup = sctp_setup(1024, 32);

        send_request(&setup, &channel, big, sizeof big);

        assert_count("requests answered with a type error", channel.type_errors, 1);
        assert_reason(&channel, "given message exceeds maxMessageSize value [maxMessageSize:32, len:64]");
        assert_count("requests still waiting for their answer", channel.pending, 0);
        assert_nothing_sent(&setup);
        setup_free(&setup);
}

/* DATACONSUMER_SEND is for SCTP data consumers only: a direct one gets a type error, and nothing is sent. */
KATA_TEST(request_on_direct_consumer_is_a_type_error)
{
        struct deliveries deliveries = { 0 };
        struct channel channel = { 0 };
        struct setup setup = direct_setup(&deliveries, 32);

        send_request(&setup, &channel, hello, sizeof hello);

        assert_count("requests answered with a type error", channel.type_errors, 1);
        assert_reason(&channel, "invalid DataConsumer type");
        assert_count("messages delivered", deliveries.count, 0);
        assert_nothing_sent(&setup);
        setup_free(&setup);
}

/* Whatever fails while the handler runs (the allocation-failure sweep fails each call in turn, the callback's
 * included), a request whose message was not sent is never accepted: its answer is "message send failed", or
 * "out of memory" when its callback could not be made. (That it gets one at all, the "still held" check of the
 * pending requests says; a second answer aborts.) */
KATA_TEST(request_not_sent_is_never_accepted_whatever_fails)
{
        struct channel channel = { 0 };
        struct setup setup = sctp_setup(1024, 32);
        unsigned long pending = channel.pending;
        struct channel_request *request;

        data_consumer_set_paused(setup.consumer, true);
        request = channel_request_new(&channel);
        ck_assert_ptr_nonnull(request);
        kata_any_outcome();
        data_consumer_handle_send_request(setup.consumer, request, hello, sizeof hello, PPID_BINARY);
        ck_assert_ptr_null(channel_request_free(request));
        kata_assert_released(channel.pending, pending,
                             "request left without an answer (Node awaits it until the channel closes):");

        ck_assert_msg(channel.accepted == 0, "a request whose message was not sent was accepted");
        ck_assert_msg(channel.type_errors == 0, "a request to a paused consumer got a type error, \"%s\"",
                      channel.last_error);
        if (channel.errors == 1)
                ck_assert_msg(strcmp(channel.last_error, "message send failed") == 0 ||
                                      strcmp(channel.last_error, "out of memory") == 0,
                              "the request's error was \"%s\", expected \"message send failed\" or \"out of memory\"",
                              channel.last_error);
        assert_nothing_sent(&setup);
        setup_free(&setup);
}

KATA_TEST(many_requests_while_paused_each_end_once)
{
        struct channel channel = { 0 };
        struct setup setup = sctp_setup(1024, 32);

        data_consumer_set_data_producer_paused(setup.consumer, true);
        for (int i = 0; i < 50; i++)
                send_request(&setup, &channel, hello, sizeof hello);

        assert_count("requests made", channel.requests, 50);
        assert_request_refused(&channel);
        setup_free(&setup);
}

/* ---------------------------------------------------------------------------------------------------------
 * The pieces around it
 */

KATA_TEST(on_queued_adapter_maps_each_result)
{
        struct outcomes queued = { 0 }, full = { 0 }, cancelled = { 0 }, failed = { 0 };

        ck_assert_ptr_null(once_cb_complete(probe_new(&queued), TRANSPORT_SEND_QUEUED));
        ck_assert_ptr_null(once_cb_complete(probe_new(&full), TRANSPORT_SEND_BUFFER_FULL));
        ck_assert_ptr_null(once_cb_cancel(probe_new(&cancelled)));
        ck_assert_ptr_null(once_cb_complete(probe_new(&failed), -EIO));

        assert_ended(&queued, 1, 0);
        assert_ended(&full, 0, 1);
        assert_count("cancelled callbacks told (false, false)", cancelled.not_sent, 1);
        assert_count("cancelled callbacks freed", cancelled.freed, 1);
        assert_count("failed callbacks told (false, false)", failed.not_sent, 1);
        assert_count("failed callbacks freed", failed.freed, 1);
}

/* destroy may be NULL: the userdata (here on the stack) is then the caller's, before and after. */
KATA_TEST(on_queued_adapter_without_destroy)
{
        struct outcomes outcomes = { 0 };
        struct probe probe = { .outcomes = &outcomes };
        struct once_cb *cb = data_consumer_on_queued_new(probe_on_queued, &probe, NULL);

        ck_assert_ptr_nonnull(cb);
        ck_assert_ptr_null(once_cb_complete(cb, TRANSPORT_SEND_QUEUED));

        ck_assert_uint_eq(outcomes.calls, 1);
        ck_assert_uint_eq(outcomes.queued, 1);
        ck_assert_uint_eq(outcomes.freed, 0);
        ck_assert_ptr_eq(probe.outcomes, &outcomes);
}

/* What the request tests rely on: the channel counts each kind of answer, and a request freed without one
 * stays pending, as the Node side keeps awaiting it. */
KATA_TEST(channel_counts_answers_and_requests_freed_unanswered)
{
        struct channel channel = { 0 };
        struct channel_request *accepted = channel_request_new(&channel);
        struct channel_request *failed = channel_request_new(&channel);
        struct channel_request *refused = channel_request_new(&channel);
        struct channel_request *forgotten = channel_request_new(&channel);

        ck_assert_ptr_nonnull(accepted);
        ck_assert_ptr_nonnull(failed);
        ck_assert_ptr_nonnull(refused);
        ck_assert_ptr_nonnull(forgotten);
        assert_count("requests pending before any answer", channel.pending, 4);
        channel_request_accept(accepted);
        channel_request_error(failed, "message send failed");
        channel_request_type_error(refused, "invalid DataConsumer type");
        ck_assert_ptr_null(channel_request_free(accepted));
        ck_assert_ptr_null(channel_request_free(failed));
        ck_assert_ptr_null(channel_request_free(refused));
        ck_assert_ptr_null(channel_request_free(forgotten));

        assert_count("requests made", channel.requests, 4);
        assert_count("requests accepted", channel.accepted, 1);
        assert_count("requests answered with an error", channel.errors, 1);
        assert_count("requests answered with a type error", channel.type_errors, 1);
        assert_reason(&channel, "invalid DataConsumer type");
        assert_count("requests freed", channel.freed, 4);
        assert_count("requests freed without an answer", channel.unanswered, 1);
        assert_count("requests still pending", channel.pending, 1);
}

static void answer_twice(void *arg)
{
        struct channel_request *request = arg;

        channel_request_accept(request);
        channel_request_error(request, "message send failed");
}

KATA_TEST(request_answered_twice_aborts)
{
        struct channel channel = { 0 };
        /* Made here, not in the child, so that a failed allocation fails this test rather than crash the child. */
        struct channel_request *request = channel_request_new(&channel);

        ck_assert_ptr_nonnull(request);
        kata_assert_aborts(answer_twice, request, "already answered");
        /* Both answers happened in the child process: in this one the request was never answered. */
        ck_assert_ptr_null(channel_request_free(request));
        assert_count("requests freed without an answer", channel.unanswered, 1);
}

KATA_TEST(consumer_is_active_only_when_everything_is_up)
{
        struct setup setup = sctp_setup(1024, 32);

        data_consumer_set_data_producer_paused(setup.consumer, true);
        ck_assert(!data_consumer_is_active(setup.consumer));
        data_consumer_set_data_producer_paused(setup.consumer, false);
        ck_assert(data_consumer_is_active(setup.consumer));
        data_consumer_set_paused(setup.consumer, true);
        ck_assert(!data_consumer_is_active(setup.consumer));
        data_consumer_set_paused(setup.consumer, false);
        data_consumer_set_data_producer_closed(setup.consumer);
        ck_assert(!data_consumer_is_active(setup.consumer));
        setup_free(&setup);
}

KATA_TEST(set_subchannels_rejects_too_many)
{
        struct setup setup = sctp_setup(1024, 32);
        uint16_t many[DATA_CONSUMER_MAX_SUBCHANNELS + 1] = { 0 };

        ck_assert_int_eq(data_consumer_set_subchannels(setup.consumer, many, DATA_CONSUMER_MAX_SUBCHANNELS + 1),
                         -EINVAL);
        ck_assert_int_eq(data_consumer_set_subchannels(setup.consumer, many, DATA_CONSUMER_MAX_SUBCHANNELS), 0);
        setup_free(&setup);
}

/* The send buffer's size is the caller's: one too big to make gives NULL, as the header says, not a buffer
 * whose size wrapped around to 0 bytes and that the first send writes past. */
KATA_TEST(sctp_transport_refuses_a_send_buffer_too_big_to_make)
{
        struct transport *transport = sctp_transport_new(SIZE_MAX);
        bool made = transport != NULL;

        ck_assert_ptr_null(transport_free(transport));
        ck_assert_msg(!made, "sctp_transport_new(SIZE_MAX) made a transport: its buffer size overflowed");
}

KATA_TEST(free_functions_accept_null)
{
        ck_assert_ptr_null(data_consumer_free(NULL));
        ck_assert_ptr_null(transport_free(NULL));
        ck_assert_ptr_null(channel_request_free(NULL));
}

/* ---------------------------------------------------------------------------------------------------------
 * More than one callback alive, the order of what a sender is told, and a callback that cannot be made
 */

/* Callbacks may be made before their sends and be alive together: each tells its own owner, as each of
 * mediasoup's onQueuedCallback objects holds its own capture. */
KATA_TEST(send_callbacks_alive_at_once_tell_their_own_owners)
{
        struct outcomes first = { 0 }, second = { 0 };
        struct setup setup = sctp_setup(1024, 32);
        unsigned long before = once_cb_live_count();
        struct once_cb *for_first = probe_new(&first), *for_second = probe_new(&second);

        data_consumer_send_message(setup.consumer, hello, sizeof hello, PPID_STRING, NULL, 0, NULL, for_second);
        data_consumer_set_paused(setup.consumer, true);
        data_consumer_send_message(setup.consumer, hello, sizeof hello, PPID_STRING, NULL, 0, NULL, for_first);
        assert_callbacks_consumed(before, "data_consumer_send_message()");

        assert_ended(&second, 1, 0);
        assert_refused(&first);
        setup_free(&setup);
}

/* What a callback saw when it was told. */
struct told {
        const struct deliveries *deliveries;
        const struct data_consumer *consumer;
        unsigned calls;
        bool queued;
        unsigned delivered;    /* messages the direct transport had delivered by then */
        unsigned long counted; /* messages the consumer had counted by then */
};

static void note_when_told(void *userdata, bool queued, bool send_buffer_full)
{
        struct told *told = userdata;

        (void) send_buffer_full;
        told->calls++;
        told->queued = queued;
        told->delivered = told->deliveries->count;
        told->counted = data_consumer_messages_sent(told->consumer);
}

/* mediasoup's consumer counts the message before it hands it on, and its DirectTransport::SendMessage() emits
 * DATACONSUMER_MESSAGE before it tells the callback: a sender told "queued" finds the message delivered. */
KATA_TEST(direct_send_tells_queued_after_delivering)
{
        struct deliveries deliveries = { 0 };
        struct setup setup = direct_setup(&deliveries, 32);
        struct told told = { .deliveries = &deliveries, .consumer = setup.consumer };
        unsigned long before = once_cb_live_count();
        struct once_cb *cb = data_consumer_on_queued_new(note_when_told, &told, NULL);

        ck_assert_ptr_nonnull(cb);
        data_consumer_send_message(setup.consumer, hello, sizeof hello, PPID_STRING, NULL, 0, NULL, cb);
        assert_callbacks_consumed(before, "data_consumer_send_message()");

        assert_count("messages delivered", deliveries.count, 1);
        /* Not told at all is "still held", above. */
        if (told.calls > 0) {
                assert_count("callbacks called", told.calls, 1);
                ck_assert_msg(told.queued, "the direct transport delivered the message, but its callback was told "
                                           "it was not queued");
                ck_assert_msg(told.delivered == 1, "the callback was told \"queued\" before the message was delivered");
                assert_count("messages the consumer had counted when its callback was told", told.counted, 1);
        }
        setup_free(&setup);
}

/* When data_consumer_on_queued_new() cannot make the callback, nothing was called and the userdata is still
 * the caller's, to free. Here the callback is made; the allocation-failure sweep that follows a green
 * make check fails each allocation in turn, and then this test frees its probe itself. */
KATA_TEST(on_queued_new_out_of_memory_leaves_userdata_to_the_caller)
{
        struct outcomes outcomes = { 0 };
        struct probe *probe = malloc(sizeof *probe);
        struct once_cb *cb;

        ck_assert_ptr_nonnull(probe);
        probe->outcomes = &outcomes;
        kata_any_outcome(); /* both outcomes are asserted below: under the sweep too */
        cb = data_consumer_on_queued_new(probe_on_queued, probe, probe_free);
        if (!cb) {
                free(probe);
                assert_count("callbacks called or freed by a failed data_consumer_on_queued_new()",
                             outcomes.calls + outcomes.freed, 0);
                return;
        }
        ck_assert_ptr_null(once_cb_cancel(cb));
        assert_count("cancelled callbacks told (false, false)", outcomes.not_sent, 1);
        assert_count("cancelled callbacks freed", outcomes.freed, 1);
}

void kata_register(TCase *tc)
{
        /* The four refusals, the first reached five ways. */
        tcase_add_test(tc, send_refused_while_transport_disconnected);
        tcase_add_test(tc, send_refused_while_sctp_association_down);
        tcase_add_test(tc, send_refused_while_consumer_paused);
        tcase_add_test(tc, send_refused_while_data_producer_paused);
        tcase_add_test(tc, send_refused_after_data_producer_closed);
        tcase_add_test(tc, send_refused_when_required_subchannel_not_subscribed);
        tcase_add_test(tc, send_refused_when_no_listed_subchannel_subscribed);
        tcase_add_test(tc, send_refused_when_message_exceeds_max_size);
        tcase_add_test(tc, send_refused_while_paused_then_queued_once_resumed);
        tcase_add_test(tc, many_refused_sends_each_end_once);
        /* The sends that already worked must keep working. */
        tcase_add_test(tc, send_queues_message_on_sctp);
        tcase_add_test(tc, send_queues_message_of_exactly_max_size);
        tcase_add_test(tc, send_to_subscribed_required_subchannel_is_queued);
        tcase_add_test(tc, send_to_subchannels_one_subscribed_is_queued);
        tcase_add_test(tc, send_to_subchannels_first_one_subscribed_is_queued);
        tcase_add_test(tc, send_refused_after_subchannels_cleared);
        tcase_add_test(tc, send_empty_message_is_queued_by_zero_sized_buffer);
        tcase_add_test(tc, send_reports_full_send_buffer_until_peer_acknowledges);
        tcase_add_test(tc, send_without_callback_queues_message);
        tcase_add_test(tc, send_without_callback_refused_quietly);
        tcase_add_test(tc, send_callbacks_alive_at_once_tell_their_own_owners);
        /* The direct transport. */
        tcase_add_test(tc, direct_consumer_delivers_without_sctp_association);
        tcase_add_test(tc, direct_send_without_callback_delivers);
        tcase_add_test(tc, direct_transport_has_no_sctp_association);
        tcase_add_test(tc, direct_send_without_listener_reports_delivery);
        tcase_add_test(tc, direct_transport_is_always_connected);
        tcase_add_test(tc, direct_send_refused_while_paused);
        tcase_add_test(tc, direct_send_tells_queued_after_delivering);
        /* DATACONSUMER_SEND. */
        tcase_add_test(tc, request_accepted_when_queued);
        tcase_add_test(tc, request_answers_sctpsendbufferfull);
        tcase_add_test(tc, request_answered_while_consumer_paused);
        tcase_add_test(tc, request_answered_while_sctp_association_down);
        tcase_add_test(tc, request_answered_while_transport_disconnected);
        tcase_add_test(tc, request_too_big_is_a_type_error);
        tcase_add_test(tc, request_on_direct_consumer_is_a_type_error);
        tcase_add_test(tc, many_requests_while_paused_each_end_once);
        tcase_add_test(tc, request_not_sent_is_never_accepted_whatever_fails);
        /* The pieces around it. */
        tcase_add_test(tc, on_queued_adapter_maps_each_result);
        tcase_add_test(tc, on_queued_adapter_without_destroy);
        tcase_add_test(tc, on_queued_new_out_of_memory_leaves_userdata_to_the_caller);
        tcase_add_test(tc, channel_counts_answers_and_requests_freed_unanswered);
        tcase_add_test(tc, request_answered_twice_aborts);
        tcase_add_test(tc, consumer_is_active_only_when_everything_is_up);
        tcase_add_test(tc, set_subchannels_rejects_too_many);
        tcase_add_test(tc, sctp_transport_refuses_a_send_buffer_too_big_to_make);
        tcase_add_test(tc, free_functions_accept_null);
}
