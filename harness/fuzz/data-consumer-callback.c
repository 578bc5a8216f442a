/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes solutions/data-consumer-callback: what a caller (the router, Node's requests) controls. An input
 * is a script, one step a line:
 *
 *   t SIZE MAX        a new SCTP transport with a SIZE-byte send buffer, and a consumer of messages up to
 *                     MAX bytes (frees the ones before)
 *   d MAX             a new direct transport, and its consumer
 *   c 0|1  a 0|1      the transport's connection; its SCTP association
 *   p 0|1  P 0|1  x   the consumer paused; its data producer paused; its data producer closed
 *   s N...            the consumer's subchannels (more than DATA_CONSUMER_MAX_SUBCHANNELS are refused)
 *   m LEN PPID REQ N...   send_message() of LEN bytes with a callback; REQ: 0 none, else subchannel REQ - 1
 *                         is required; N...: the message's subchannels
 *   M LEN PPID REQ N...   the same with no callback (the router's sends)
 *   r LEN PPID        a DATACONSUMER_SEND request of LEN bytes, handled and then freed, as the channel does
 *   k                 the peer acknowledges everything in the send buffer
 *
 * A SIZE above 1 MiB, but SIZE_MAX, is lowered to 1 MiB (a bigger buffer only makes malloc() fail, which
 * libFuzzer would report as running out of memory); LEN is at most 64 KiB.
 *
 * The harness keeps its own model of what each send must do (data_consumer.h, transport.h) and checks, right
 * after every call: the callback was called exactly once, with the outcome the model expects, and destroyed
 * (once_cb_live_count() back where it was); a request was answered exactly once before the handler returned,
 * the way the model expects; the counts of messages and bytes sent, and the bytes buffered. At the end of
 * the input no callback is alive and no request pending (memory: LeakSanitizer). sctp_transport_new(SIZE_MAX)
 * must return NULL (issue #16: SIZE_MAX + 1 wrapped around to a 0-byte buffer that the first send overran).
 */
#include "data_consumer.h"

#include "fuzz.h"

#define SIZE_CAP ((size_t) 1 << 20)
#define LEN_CAP ((size_t) 64 * 1024)

enum outcome {
        NOT_SENT,
        QUEUED,
        BUFFER_FULL,
};

struct heard {
        unsigned calls, destroys;
        bool queued, send_buffer_full;
};

static void on_queued(void *userdata, bool queued, bool send_buffer_full)
{
        struct heard *heard = userdata;

        heard->calls++;
        heard->queued = queued;
        heard->send_buffer_full = send_buffer_full;
}

static void on_destroy(void *userdata)
{
        ((struct heard *) userdata)->destroys++;
}

/* The harness's model of the transport and the consumer. */
struct model {
        struct transport *transport;
        struct data_consumer *consumer;
        bool direct, connected, association, paused, producer_paused, producer_closed;
        size_t size, used, max_message_size;
        uint16_t subchannels[DATA_CONSUMER_MAX_SUBCHANNELS];
        size_t n_subchannels;
        unsigned long messages, bytes;
};

/* sctp_transport_new(SIZE_MAX) made a transport during this input. */
static bool made_size_max;

static void model_free(struct model *model)
{
        model->consumer = data_consumer_free(model->consumer);
        model->transport = transport_free(model->transport);
}

static bool model_subscribed(const struct model *model, uint16_t subchannel)
{
        for (size_t i = 0; i < model->n_subchannels; i++)
                if (model->subchannels[i] == subchannel)
                        return true;
        return false;
}

/* What data_consumer_send_message() must do, and its effect on the model's counts. */
static enum outcome model_send(struct model *model, size_t len, const uint16_t *subchannels, size_t n,
                               const uint16_t *required)
{
        bool subscribed = n == 0;

        for (size_t i = 0; i < n; i++)
                subscribed = subscribed || model_subscribed(model, subchannels[i]);
        if (!model->connected || (!model->direct && !model->association) || model->paused ||
            model->producer_paused || model->producer_closed || (required && !model_subscribed(model, *required)) ||
            !subscribed || len > model->max_message_size)
                return NOT_SENT;
        model->messages++;
        model->bytes += len;
        if (model->direct)
                return QUEUED;
        if (len > model->size - model->used)
                return BUFFER_FULL;
        model->used += len;
        return QUEUED;
}

static void check_counts(const struct model *model)
{
        FUZZ_CHECK(data_consumer_messages_sent(model->consumer) == model->messages &&
                           data_consumer_bytes_sent(model->consumer) == model->bytes,
                   "the consumer counts %lu messages, %lu bytes sent; the model %lu, %lu",
                   data_consumer_messages_sent(model->consumer), data_consumer_bytes_sent(model->consumer),
                   model->messages, model->bytes);
        FUZZ_CHECK(model->direct || transport_sctp_buffered(model->transport) == model->used,
                   "%zu bytes buffered, the model says %zu", transport_sctp_buffered(model->transport), model->used);
}

static void make(struct model *model, bool direct, size_t size, size_t max_message_size)
{
        model_free(model);
        *model = (struct model){ .direct = direct, .connected = direct, .size = size,
                                 .max_message_size = max_message_size };
        if (direct)
                model->transport = direct_transport_new(NULL, NULL);
        else
                model->transport = sctp_transport_new(size);
        /* Made anyway, it is used as any other (a send then overruns it, for ASan to see), and the input
         * fails at its end. */
        if (size == SIZE_MAX && !model->transport)
                return;
        if (size == SIZE_MAX)
                made_size_max = true;
        FUZZ_CHECK(model->transport, "no transport (out of memory?)");
        model->consumer = data_consumer_new(model->transport, max_message_size);
        FUZZ_CHECK(model->consumer, "no consumer (out of memory?)");
}

static size_t read_subchannels(struct fuzz_line *line, uint16_t *subchannels, size_t max)
{
        size_t n = 0;

        while (n < max && fuzz_more(line))
                subchannels[n++] = (uint16_t) fuzz_number(line);
        return n;
}

static void send_step(struct model *model, struct fuzz_line *line, bool with_callback)
{
        size_t len = (size_t) fuzz_number(line);
        uint32_t ppid = (uint32_t) fuzz_number(line);
        uint64_t req = fuzz_number(line);
        uint16_t required = (uint16_t) (req - 1), subchannels[DATA_CONSUMER_MAX_SUBCHANNELS + 8];
        size_t n = read_subchannels(line, subchannels, sizeof subchannels / sizeof subchannels[0]);
        unsigned long live = once_cb_live_count();
        struct heard heard = { 0 };
        struct once_cb *cb = NULL;
        enum outcome expected;
        uint8_t *msg;

        if (len > LEN_CAP)
                len = LEN_CAP;
        msg = malloc(len ? len : 1); /* exactly len bytes: a read past them is an ASan error */
        FUZZ_CHECK(msg, "out of memory");
        memset(msg, 0x5a, len);
        if (with_callback) {
                cb = data_consumer_on_queued_new(on_queued, &heard, on_destroy);
                FUZZ_CHECK(cb, "no callback (out of memory?)");
        }
        expected = model_send(model, len, subchannels, n, req ? &required : NULL);
        data_consumer_send_message(model->consumer, msg, len, ppid, subchannels, n, req ? &required : NULL,
                                   TAKE_PTR(cb));
        free(msg);
        FUZZ_CHECK(once_cb_live_count() == live, "send_message() returned with %lu callbacks still alive",
                   once_cb_live_count() - live);
        if (with_callback) {
                FUZZ_CHECK(heard.calls == 1 && heard.destroys == 1,
                           "send_message() called its callback %u times and destroyed it %u times before it "
                           "returned (once each)", heard.calls, heard.destroys);
                FUZZ_CHECK(heard.queued == (expected == QUEUED) && heard.send_buffer_full == (expected == BUFFER_FULL),
                           "the callback heard (%d, %d); the model expects outcome %d", heard.queued,
                           heard.send_buffer_full, expected);
        }
        check_counts(model);
}

static void request_step(struct model *model, struct fuzz_line *line)
{
        size_t len = (size_t) fuzz_number(line);
        uint32_t ppid = (uint32_t) fuzz_number(line);
        struct channel channel = { 0 };
        struct channel_request *request;
        unsigned long live = once_cb_live_count();
        enum outcome expected = NOT_SENT;
        bool type_error;
        uint8_t *data;

        if (len > LEN_CAP)
                len = LEN_CAP;
        type_error = model->direct || len > model->max_message_size;
        data = malloc(len ? len : 1);
        FUZZ_CHECK(data, "out of memory");
        memset(data, 0xa5, len);
        if (!type_error)
                expected = model_send(model, len, NULL, 0, NULL);
        request = channel_request_new(&channel);
        FUZZ_CHECK(request, "no request (out of memory?)");
        data_consumer_handle_send_request(model->consumer, request, data, len, ppid);
        free(data);
        FUZZ_CHECK(channel.pending == 0, "the request was not answered before the handler returned");
        FUZZ_CHECK(channel.accepted + channel.errors + channel.type_errors == 1, "the request got %lu answers",
                   channel.accepted + channel.errors + channel.type_errors);
        request = channel_request_free(request);
        FUZZ_CHECK(channel.freed == 1 && channel.unanswered == 0, "the request was freed unanswered");
        FUZZ_CHECK(once_cb_live_count() == live, "the handler returned with %lu callbacks still alive",
                   once_cb_live_count() - live);
        if (type_error)
                FUZZ_CHECK(channel.type_errors == 1, "a request the handler must refuse got: %s",
                           channel.accepted ? "accepted" : channel.last_error);
        else if (expected == QUEUED)
                FUZZ_CHECK(channel.accepted == 1, "a queued message's request got the error \"%s\"",
                           channel.last_error);
        else
                FUZZ_CHECK(channel.errors == 1 && strcmp(channel.last_error, expected == BUFFER_FULL
                                                                                     ? "sctpsendbufferfull"
                                                                                     : "message send failed") == 0,
                           "the request got \"%s\" where the model expects outcome %d",
                           channel.accepted ? "accepted" : channel.last_error, expected);
        check_counts(model);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_input in = fuzz_input(data, size);
        unsigned long live = once_cb_live_count();
        struct model model = { 0 };
        struct fuzz_line line;

        made_size_max = false;
        while (fuzz_next_line(&in, &line)) {
                int op = fuzz_op(&line);
                uint16_t subchannels[DATA_CONSUMER_MAX_SUBCHANNELS + 8];
                size_t n, buffer;
                bool on;

                if (op == 't') {
                        buffer = (size_t) fuzz_number(&line);
                        if (buffer > SIZE_CAP && buffer != SIZE_MAX)
                                buffer = SIZE_CAP;
                        make(&model, false, buffer, (size_t) fuzz_number(&line));
                        continue;
                }
                if (op == 'd') {
                        make(&model, true, 0, (size_t) fuzz_number(&line));
                        continue;
                }
                if (!model.consumer)
                        continue;
                switch (op) {
                case 'c':
                        on = fuzz_number(&line) != 0;
                        transport_set_connected(model.transport, on);
                        model.connected = model.direct || on;
                        break;
                case 'a':
                        on = fuzz_number(&line) != 0;
                        transport_set_sctp_association_connected(model.transport, on);
                        model.association = !model.direct && on;
                        break;
                case 'p':
                        model.paused = fuzz_number(&line) != 0;
                        data_consumer_set_paused(model.consumer, model.paused);
                        break;
                case 'P':
                        model.producer_paused = fuzz_number(&line) != 0;
                        data_consumer_set_data_producer_paused(model.consumer, model.producer_paused);
                        break;
                case 'x':
                        data_consumer_set_data_producer_closed(model.consumer);
                        model.producer_closed = true;
                        break;
                case 's':
                        n = read_subchannels(&line, subchannels, sizeof subchannels / sizeof subchannels[0]);
                        if (n > DATA_CONSUMER_MAX_SUBCHANNELS) {
                                FUZZ_CHECK(data_consumer_set_subchannels(model.consumer, subchannels, n) == -EINVAL,
                                           "%zu subchannels were not refused", n);
                                break;
                        }
                        FUZZ_CHECK(data_consumer_set_subchannels(model.consumer, subchannels, n) == 0,
                                   "%zu subchannels were refused", n);
                        memcpy(model.subchannels, subchannels, n * sizeof *subchannels);
                        model.n_subchannels = n;
                        break;
                case 'm':
                case 'M':
                        send_step(&model, &line, op == 'm');
                        break;
                case 'r':
                        request_step(&model, &line);
                        break;
                case 'k':
                        if (!model.direct) {
                                FUZZ_CHECK(transport_sctp_acknowledge(model.transport) == model.used,
                                           "acknowledge() took other than the %zu bytes buffered", model.used);
                                model.used = 0;
                        }
                        break;
                default:
                        continue;
                }
                FUZZ_CHECK(data_consumer_is_active(model.consumer) ==
                                   (model.connected && (model.direct || model.association) && !model.paused &&
                                    !model.producer_paused && !model.producer_closed),
                           "is_active() disagrees with the model");
        }
        model_free(&model);
        FUZZ_CHECK(!made_size_max, "sctp_transport_new(SIZE_MAX) made a transport: its buffer size + 1 wrapped "
                                   "around to 0 bytes");
        FUZZ_CHECK(once_cb_live_count() == live, "%lu callbacks alive at the end", once_cb_live_count() - live);
        return 0;
}
