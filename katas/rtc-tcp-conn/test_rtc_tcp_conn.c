/* SPDX-License-Identifier: MIT */
/*
 * Tests for rtc-tcp-conn. The same file tests the kata and its solution: do not edit it to make the kata pass.
 *
 * How these tests are built. The kata's bug is a use after free, not a leak: the session's network points
 * at its TCP connection with a raw pointer that nobody clears when the connection is freed, so the session
 * may later read the freed connection. Everything the code DOES is right, though: the packets, the states,
 * the manager's bookkeeping, the end-of-session callback, and every object is freed in the end. So every
 * assertion below is about behaviour that the kata's code gets right too, and `make check DETECTOR=none`
 * is green on it; the memory errors are seen by the detector alone (Valgrind counts them per test, ASan
 * stops the test at the first). Leaks, which the tempting fixes make, fail a test too (KATA_TEST checks
 * every test's heap), and the churn test asserts that the heap is back at its baseline.
 *
 * A use after free must not change what the tests see when no detector runs. The kata's stale reads and
 * writes touch a connection freed earlier in the same run_for() call, with no allocation in between (the
 * loop allocates nothing while it runs, and no assertion runs inside run_for(): Check allocates when it
 * records one), so the freed memory still holds what it held. Keep it so when adding tests: assert after
 * run_for(), never inside it.
 *
 * Error paths: the allocation-failure sweep (make check, once the tests pass) runs each test again with one
 * allocation failing; a failed ck_assert is expected there. What a failing offer or accept must still do (say
 * so, keep nothing) is checked with kata_assert_error_path(), which the sweep counts.
 *
 * The test plays the browsers: it holds one end of each TCP transport, sends STUN, DTLS and RTP, and reads
 * what the server sends back. Time is a variable: run_for() advances it ROUND_MS per round.
 */
#include "kata_test.h"

/* Angle brackets: the headers of the folder being built (kata or solution). */
#include <executor.h>
#include <resource_manager.h>
#include <rtc.h>
#include <transport.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "sptr.h"

#define ROUND_MS RTC_PLAY_INTERVAL_MS /* one round, one RTP packet */
#define STUN_EVERY_MS 1000            /* how often a live browser sends STUN (consent freshness) */
#define MAX_PEERS 16

/* ---- The server, its clock, and what it reported ---- */

struct peer;

struct world {
        msec_t now;
        struct resource_manager *manager;
        struct event_loop *loop;
        struct rtc_server *server;
        unsigned ended[RTC_END_SERVER_STOP + 1]; /* on_session_end() calls, by reason */
        msec_t ended_at;
        char last_ended[RTC_USERNAME_MAX];
        struct peer *peers[MAX_PEERS]; /* polled after every round */
        unsigned n_peers;
};

static msec_t world_clock(void *userdata)
{
        return ((const struct world *) userdata)->now;
}

static void record_session_end(const char *username, enum rtc_session_end why, void *userdata)
{
        struct world *world = userdata;

        world->ended[why]++;
        world->ended_at = world->now;
        snprintf(world->last_ended, sizeof world->last_ended, "%s", username);
}

/* A server with the given configuration. Without a callback or userdata, it gets the callback that records
 * into world; a configuration with userdata and no callback has none. */
static void world_init_with(struct world *world, const struct rtc_config *config)
{
        struct rtc_config recording = *config;

        *world = (struct world){ .now = 1000 };
        if (!recording.on_session_end && !recording.userdata) {
                recording.on_session_end = record_session_end;
                recording.userdata = world;
        }
        world->manager = resource_manager_new();
        ck_assert_ptr_nonnull(world->manager);
        world->loop = event_loop_new(world->manager, world_clock, world);
        ck_assert_ptr_nonnull(world->loop);
        world->server = rtc_server_new(world->loop, world->manager, &recording);
        ck_assert_ptr_nonnull(world->server);
}

static void world_init(struct world *world)
{
        world_init_with(world, &(struct rtc_config){ 0 });
}

/* Stops the server: every cycle still running ends, and the manager frees what it holds. */
static void world_fini(struct world *world)
{
        world->loop = event_loop_free(world->loop);
        world->manager = resource_manager_free(world->manager);
        world->server = rtc_server_free(world->server);
}

/* ---- A browser ---- */

struct peer {
        char username[RTC_USERNAME_MAX];
        struct transport *tcp; /* +1: the browser's end */
        bool keepalive;        /* sends STUN every STUN_EVERY_MS while run_for() runs */
        msec_t last_stun_at;
        unsigned stun_responses, dtls_flights, rtp;
        unsigned rtp_out_of_order; /* RTP packets whose sequence number is not the one after the last */
        uint16_t next_sequence;
        bool server_closed; /* the server closed the connection, and everything it sent was read */
};

static void peer_init(struct world *world, struct peer *peer, unsigned number)
{
        *peer = (struct peer){ 0 };
        /* An ICE username: the server's ufrag, a colon, the browser's. */
        snprintf(peer->username, sizeof peer->username, "s%07u:b%07u", number, number);
        ck_assert_uint_lt(world->n_peers, MAX_PEERS);
        world->peers[world->n_peers++] = peer;
}

static void peer_fini(struct world *world, struct peer *peer)
{
        peer->tcp = sptr_unref(peer->tcp);
        for (unsigned i = 0; i < world->n_peers; i++)
                if (world->peers[i] == peer)
                        world->peers[i] = world->peers[--world->n_peers];
}

/* The objects alive but the manager's zombies (which its next round frees). */
static long live_but_zombies(const struct world *world)
{
        return (long) sptr_live_count() - (long) resource_manager_zombies(world->manager);
}

/*
 * The HTTP API's offer and answer, then the TCP connection to the WebRTC port. When a call fails inside either
 * (the allocation-failure sweep fails each, in turn), it says so and keeps nothing of what it could not make
 * but a zombie that the next round frees; kata_assert_error_path(), because the sweep counts it.
 */
static int peer_connect(struct world *world, struct peer *peer)
{
        bool failed = kata_call_failed();
        long live = live_but_zombies(world);
        int r = rtc_server_create_session(world->server, peer->username);

        if (!failed && kata_call_failed()) {
                kata_assert_error_path(r == -ENOMEM, "rtc_server_create_session() returned %d when out of memory, "
                                       "not -ENOMEM", r);
                kata_assert_error_path(!rtc_session_find(world->manager, peer->username),
                                       "a session that could not start is still found by its username");
                kata_assert_error_path(live_but_zombies(world) == live, "rtc_server_create_session() out of "
                                       "memory left %ld objects alive", live_but_zombies(world) - live);
        }
        if (r < 0)
                return r;
        peer->tcp = transport_new();
        if (!peer->tcp)
                return -ENOMEM;
        failed = kata_call_failed();
        live = live_but_zombies(world);
        r = rtc_server_accept_tcp(world->server, peer->tcp);
        if (!failed && kata_call_failed()) {
                kata_assert_error_path(r == -ENOMEM, "rtc_server_accept_tcp() returned %d when out of memory, "
                                       "not -ENOMEM", r);
                kata_assert_error_path(live_but_zombies(world) == live, "rtc_server_accept_tcp() out of memory "
                                       "left %ld objects alive", live_but_zombies(world) - live);
        }
        return r;
}

static int peer_send(struct peer *peer, const void *packet, size_t size)
{
        return peer->tcp ? transport_peer_send(peer->tcp, packet, size) : -ENOTCONN;
}

static int peer_send_stun(struct peer *peer, msec_t now)
{
        uint8_t packet[2 + RTC_USERNAME_MAX] = { RTC_STUN_BINDING_REQUEST >> 8, RTC_STUN_BINDING_REQUEST & 0xff };
        size_t length = strlen(peer->username);

        memcpy(packet + 2, peer->username, length);
        peer->last_stun_at = now;
        return peer_send(peer, packet, 2 + length);
}

static int peer_send_dtls_handshake(struct peer *peer)
{
        static const uint8_t finished[] = { RTC_DTLS_HANDSHAKE, 0x14 };

        return peer_send(peer, finished, sizeof finished);
}

static int peer_send_alert(struct peer *peer, uint8_t level, uint8_t description)
{
        const uint8_t alert[] = { RTC_DTLS_ALERT, level, description };

        return peer_send(peer, alert, sizeof alert);
}

/* The browser closes the PeerConnection: DTLS close_notify (RFC 5246 7.2.1). */
static int peer_send_close_notify(struct peer *peer)
{
        return peer_send_alert(peer, RTC_DTLS_LEVEL_WARNING, RTC_DTLS_CLOSE_NOTIFY);
}

/* The browser closes its TCP connection (if it has one: its connect may have failed). */
static void peer_close(struct peer *peer)
{
        if (peer->tcp)
                transport_peer_close(peer->tcp);
}

/* n RTP packets of the browser's own stream (it publishes too, in a call). */
static int peer_send_rtp(struct peer *peer, unsigned n)
{
        uint8_t packet[RTC_RTP_PACKET_SIZE] = { RTC_RTP_VERSION_2, 111 };
        int r = 0;

        for (unsigned i = 0; i < n && r == 0; i++)
                r = peer_send(peer, packet, sizeof packet);
        return r;
}

/* Reads what the server sent. */
static void peer_poll(struct peer *peer)
{
        uint8_t packet[RTC_TCP_PACKET_MAX];
        ssize_t n;

        while (peer->tcp && (n = transport_peer_receive(peer->tcp, packet, sizeof packet)) > 0) {
                if (n >= 2 && packet[0] == (RTC_STUN_BINDING_RESPONSE >> 8) &&
                    packet[1] == (RTC_STUN_BINDING_RESPONSE & 0xff) &&
                    (size_t) n == 2 + strlen(peer->username) && memcmp(packet + 2, peer->username, n - 2) == 0) {
                        peer->stun_responses++;
                } else if (packet[0] == RTC_DTLS_HANDSHAKE) {
                        peer->dtls_flights++;
                } else if (n == RTC_RTP_PACKET_SIZE && packet[0] == RTC_RTP_VERSION_2) {
                        uint16_t sequence = (uint16_t) (packet[2] << 8 | packet[3]);

                        peer->rtp_out_of_order += sequence != peer->next_sequence;
                        peer->next_sequence = (uint16_t) (sequence + 1);
                        peer->rtp++;
                }
        }
        if (peer->tcp && transport_closed_by_server(peer->tcp) &&
            transport_peer_receive(peer->tcp, packet, sizeof packet) == -EPIPE)
                peer->server_closed = true;
}

/* Runs the server for ms of its time, one round every ROUND_MS; every peer reads its packets after each
 * round, and the peers that keep alive send STUN. No assertion in here (see the top of this file). */
static void run_for(struct world *world, msec_t ms)
{
        for (msec_t elapsed = 0; elapsed < ms; elapsed += ROUND_MS) {
                world->now += ROUND_MS;
                for (unsigned i = 0; i < world->n_peers; i++)
                        if (world->peers[i]->keepalive && world->now - world->peers[i]->last_stun_at >= STUN_EVERY_MS)
                                (void) peer_send_stun(world->peers[i], world->now);
                event_loop_run_once(world->loop);
                for (unsigned i = 0; i < world->n_peers; i++)
                        peer_poll(world->peers[i]);
        }
}

/* Offer and answer, TCP, STUN, DTLS: the session plays. */
static void peer_start_playing(struct world *world, struct peer *peer)
{
        ck_assert_int_eq(peer_connect(world, peer), 0);
        ck_assert_int_eq(peer_send_stun(peer, world->now), 0);
        run_for(world, ROUND_MS);
        ck_assert_uint_eq(peer->stun_responses, 1);
        ck_assert_int_eq(peer_send_dtls_handshake(peer), 0);
        run_for(world, ROUND_MS);
        ck_assert_uint_eq(peer->dtls_flights, 1);
        ck_assert_int_eq(rtc_session_tcp_state(rtc_session_find(world->manager, peer->username)),
                         RTC_NETWORK_ESTABLISHED);
        peer->keepalive = true;
}

/* ---- The transport, the resource manager and the executor ---- */

/* The tests' stand-in for TCP: whole packets, in order, bounded, and what was sent before a close is
 * still delivered. */
KATA_TEST(transport_carries_packets_in_order_until_closed)
{
        _cleanup_sptr_ struct transport *transport = transport_new();
        uint8_t packet[300] = { 0 }, buf[300];
        unsigned sent = 0;

        ck_assert_ptr_nonnull(transport);
        ck_assert_int_eq(transport_server_read(transport, buf, sizeof buf), -EAGAIN);
        ck_assert_int_eq(transport_peer_send(transport, packet, 0), -EMSGSIZE);
        ck_assert_int_eq(transport_peer_send(transport, packet, 65536), -EMSGSIZE);
        for (; transport_peer_send(transport, packet, sizeof packet) == 0; packet[0]++)
                sent++;
        /* 2 bytes of length and 300 of packet, each: 27 fit in 8,192 bytes. */
        ck_assert_uint_eq(sent, TRANSPORT_BUFFER_SIZE / (2 + sizeof packet));
        ck_assert_int_eq(transport_peer_send(transport, packet, sizeof packet), -ENOBUFS);
        ck_assert_int_eq(transport_server_read(transport, buf, sizeof packet - 1), -EMSGSIZE);
        ck_assert_int_eq(transport_server_read(transport, buf, sizeof buf), sizeof packet);
        ck_assert_uint_eq(buf[0], 0);
        /* Room again, and the ring wraps around its end. */
        ck_assert_int_eq(transport_peer_send(transport, packet, sizeof packet), 0);
        ck_assert(!transport_closed_by_peer(transport));
        transport_peer_close(transport);
        ck_assert(transport_closed_by_peer(transport));
        ck_assert_int_eq(transport_peer_send(transport, packet, sizeof packet), -EPIPE);
        ck_assert_int_eq(transport_server_write(transport, packet, sizeof packet), -EPIPE);
        for (unsigned i = 1; i <= sent; i++) {
                ck_assert_int_eq(transport_server_read(transport, buf, sizeof buf), sizeof packet);
                ck_assert_uint_eq(buf[0], i);
        }
        ck_assert_int_eq(transport_server_read(transport, buf, sizeof buf), -EPIPE);

        /* The other way round. */
        transport = sptr_unref(transport);
        transport = transport_new();
        ck_assert_ptr_nonnull(transport);
        ck_assert_int_eq(transport_peer_receive(transport, buf, sizeof buf), -EAGAIN);
        ck_assert_int_eq(transport_server_write(transport, "\x80", 1), 0);
        ck_assert(!transport_closed_by_server(transport));
        transport_server_close(transport);
        ck_assert(transport_closed_by_server(transport));
        ck_assert_int_eq(transport_peer_receive(transport, buf, sizeof buf), 1);
        ck_assert_uint_eq(buf[0], 0x80);
        ck_assert_int_eq(transport_peer_receive(transport, buf, sizeof buf), -EPIPE);
}

/* A resource that counts its destruction, scripts its cycle, and may remove another resource when it is
 * destroyed. */
struct probe {
        unsigned *destroyed;
        unsigned steps, steps_until_done;
        msec_t last_step_at;
        unsigned done_calls;
        int done_result;
        struct executor *executor;
        struct resource_manager *manager; /* with remove_on_destroy */
        void *remove_on_destroy;
        struct executor *interrupt_on_done;
};

static void probe_destroy(void *object)
{
        struct probe *probe = object;

        (*probe->destroyed)++;
        if (probe->remove_on_destroy)
                resource_manager_remove(probe->manager, probe->remove_on_destroy);
}

static struct probe *probe_new(unsigned *destroyed)
{
        struct probe *probe = sptr_new_of(struct probe, probe_destroy);

        ck_assert_ptr_nonnull(probe);
        probe->destroyed = destroyed;
        return probe;
}

static int probe_step(void *object, msec_t now)
{
        struct probe *probe = object;

        probe->steps++;
        probe->last_step_at = now;
        return probe->steps == probe->steps_until_done ? EXECUTOR_DONE : EXECUTOR_RUNNING;
}

static void probe_on_done(void *object, int result)
{
        struct probe *probe = object;

        probe->done_calls++;
        probe->done_result = result;
        probe->executor = NULL;
        if (probe->interrupt_on_done)
                executor_interrupt(probe->interrupt_on_done);
}

static const struct executor_handler probe_handler = { .step = probe_step, .on_done = probe_on_done };

KATA_TEST(manager_finds_resources_by_name_until_they_are_removed)
{
        unsigned destroyed = 0;
        struct resource_manager *manager = resource_manager_new();
        struct probe *a = probe_new(&destroyed), *b = probe_new(&destroyed);
        _cleanup_sptr_ struct probe *stranger = probe_new(&destroyed);
        char long_name[RESOURCE_NAME_MAX + 1];

        ck_assert_ptr_nonnull(manager);
        ck_assert_int_eq(resource_manager_add_with_name(manager, "alice:1", a), 0);
        ck_assert_int_eq(resource_manager_add(manager, b), 0);
        ck_assert_int_eq(resource_manager_add(manager, b), 0);
        ck_assert_int_eq(resource_manager_add_with_name(manager, "bob:1", b), 0); /* held already: no name */
        ck_assert_int_eq(resource_manager_add_with_name(manager, "alice:1", stranger), -EEXIST);
        ck_assert_int_eq(resource_manager_add_with_name(manager, "", stranger), -EINVAL);
        memset(long_name, 'x', RESOURCE_NAME_MAX);
        long_name[RESOURCE_NAME_MAX] = '\0';
        ck_assert_int_eq(resource_manager_add_with_name(manager, long_name, stranger), -EINVAL);
        long_name[RESOURCE_NAME_MAX - 1] = '\0'; /* the longest name there is */
        ck_assert_int_eq(resource_manager_add_with_name(manager, long_name, stranger), 0);
        ck_assert_uint_eq(resource_manager_size(manager), 3);
        ck_assert_uint_eq(sptr_count(b), 2); /* ours and the manager's, once */
        ck_assert_ptr_eq(resource_manager_find_by_name(manager, "alice:1"), a);
        ck_assert_ptr_eq(resource_manager_find_by_name(manager, long_name), stranger);
        ck_assert_ptr_null(resource_manager_find_by_name(manager, "bob:1"));
        ck_assert_ptr_null(resource_manager_find_by_name(manager, ""));

        /* Removed: no longer found, but not released before the manager's cycle. */
        resource_manager_remove(manager, a);
        resource_manager_remove(manager, a);
        ck_assert_ptr_null(resource_manager_find_by_name(manager, "alice:1"));
        ck_assert_uint_eq(resource_manager_zombies(manager), 1);
        a = sptr_unref(a);
        ck_assert_uint_eq(destroyed, 0);
        resource_manager_dispose(manager);
        ck_assert_uint_eq(destroyed, 1);
        ck_assert_uint_eq(resource_manager_size(manager), 2);
        ck_assert_uint_eq(resource_manager_zombies(manager), 0);
        resource_manager_dispose(manager); /* nothing to do */

        /* The name is free again; removing what the manager does not hold changes nothing. */
        a = probe_new(&destroyed);
        ck_assert_int_eq(resource_manager_add_with_name(manager, "alice:1", a), 0);
        resource_manager_remove(manager, &destroyed);
        ck_assert_uint_eq(resource_manager_zombies(manager), 0);

        a = sptr_unref(a);
        b = sptr_unref(b);
        ck_assert_uint_eq(destroyed, 1);
        manager = resource_manager_free(manager);
        ck_assert_uint_eq(destroyed, 3);
        ck_assert_ptr_null(resource_manager_free(NULL));
}

/* A destroy function that removes another resource: that one waits for the next dispose, and the table
 * stays in order. */
KATA_TEST(manager_releases_zombies_removed_during_dispose_at_the_next_one)
{
        unsigned destroyed = 0;
        struct resource_manager *manager = resource_manager_new();
        struct probe *first = probe_new(&destroyed), *second = probe_new(&destroyed), *third = probe_new(&destroyed);

        ck_assert_ptr_nonnull(manager);
        for (unsigned i = 0; i < 20; i++) { /* past the first capacity of the table */
                struct probe *filler = probe_new(&destroyed);

                ck_assert_int_eq(resource_manager_add(manager, filler), 0);
                filler = sptr_unref(filler);
        }
        ck_assert_int_eq(resource_manager_add(manager, first), 0);
        ck_assert_int_eq(resource_manager_add_with_name(manager, "second", second), 0);
        ck_assert_int_eq(resource_manager_add(manager, third), 0);
        first->manager = manager;
        first->remove_on_destroy = second;
        resource_manager_remove(manager, third);
        resource_manager_remove(manager, first);
        first = sptr_unref(first);
        third = sptr_unref(third);

        resource_manager_dispose(manager);
        ck_assert_uint_eq(destroyed, 2); /* first and third */
        ck_assert_uint_eq(resource_manager_zombies(manager), 1);
        ck_assert_ptr_null(resource_manager_find_by_name(manager, "second"));
        ck_assert_uint_eq(sptr_count(second), 2);
        resource_manager_dispose(manager);
        ck_assert_uint_eq(sptr_count(second), 1);
        ck_assert_uint_eq(resource_manager_size(manager), 20);

        second = sptr_unref(second);
        manager = resource_manager_free(manager);
        ck_assert_uint_eq(destroyed, 23);
}

KATA_TEST(executor_holds_its_object_until_its_cycle_ends)
{
        unsigned destroyed = 0;
        struct world world = { .now = 5000 };
        struct probe *probe = probe_new(&destroyed);

        world.manager = resource_manager_new();
        ck_assert_ptr_nonnull(world.manager);
        world.loop = event_loop_new(world.manager, world_clock, &world);
        ck_assert_ptr_nonnull(world.loop);
        probe->steps_until_done = 3;
        probe->executor = executor_start(world.loop, probe, &probe_handler);
        ck_assert_ptr_nonnull(probe->executor);
        ck_assert_uint_eq(sptr_count(probe), 2); /* ours and the executor's */
        ck_assert_uint_eq(resource_manager_size(world.manager), 1); /* the executor */
        ck_assert_uint_eq(event_loop_running(world.loop), 1);
        probe = sptr_unref(probe); /* the executor keeps it */
        ck_assert_uint_eq(destroyed, 0);

        run_for(&world, 2 * ROUND_MS);
        ck_assert_uint_eq(destroyed, 0);
        ck_assert_uint_eq(event_loop_running(world.loop), 1);

        /* The third step ends the cycle: on_done once, the executor leaves the manager, which frees it at
         * the end of the round, and with it the probe. */
        run_for(&world, ROUND_MS);
        ck_assert_uint_eq(destroyed, 1);
        ck_assert_uint_eq(resource_manager_size(world.manager), 0);
        ck_assert_uint_eq(event_loop_running(world.loop), 0);

        world.loop = event_loop_free(world.loop);
        world.manager = resource_manager_free(world.manager);
        ck_assert_ptr_null(event_loop_free(NULL));
}

/* Interrupted, a cycle ends at its next step, with -EINTR and without stepping; stopping the loop ends the
 * cycles still running, with -ECANCELED, in the order they started. */
KATA_TEST(interrupted_and_stopped_cycles_end_once)
{
        enum { N = 20 }; /* past the first capacity of the loop's table */
        unsigned destroyed = 0;
        struct world world = { .now = 5000 };
        struct probe *probes[N];

        world.manager = resource_manager_new();
        ck_assert_ptr_nonnull(world.manager);
        world.loop = event_loop_new(world.manager, world_clock, &world);
        ck_assert_ptr_nonnull(world.loop);
        for (unsigned i = 0; i < N; i++) {
                probes[i] = probe_new(&destroyed);
                probes[i]->executor = executor_start(world.loop, probes[i], &probe_handler);
                ck_assert_ptr_nonnull(probes[i]->executor);
        }
        run_for(&world, ROUND_MS);
        ck_assert_uint_eq(probes[0]->steps, 1);
        ck_assert_uint_eq(probes[0]->last_step_at, 5000 + ROUND_MS); /* the injected clock */

        executor_interrupt(probes[0]->executor);
        run_for(&world, ROUND_MS);
        ck_assert_uint_eq(probes[0]->steps, 1);
        ck_assert_uint_eq(probes[0]->done_calls, 1);
        ck_assert_int_eq(probes[0]->done_result, -EINTR);
        ck_assert_ptr_null(probes[0]->executor);
        ck_assert_uint_eq(probes[1]->steps, 2);
        ck_assert_uint_eq(event_loop_running(world.loop), N - 1);

        /* The first to end interrupts the last: both end once, when the loop stops. */
        probes[1]->interrupt_on_done = probes[N - 1]->executor;
        world.loop = event_loop_free(world.loop);
        for (unsigned i = 1; i < N; i++) {
                ck_assert_uint_eq(probes[i]->done_calls, 1);
                ck_assert_int_eq(probes[i]->done_result, -ECANCELED);
                ck_assert_uint_eq(probes[i]->steps, 2);
                probes[i] = sptr_unref(probes[i]);
        }
        probes[0] = sptr_unref(probes[0]);
        ck_assert_uint_eq(destroyed, 1); /* the manager still holds the executors of the others */
        world.manager = resource_manager_free(world.manager);
        ck_assert_uint_eq(destroyed, N);
}

/* ---- A browser's session over TCP ---- */

KATA_TEST(browser_plays_then_closes_the_peer_connection)
{
        struct world world;
        struct peer peer;
        struct rtc_session *session;

        world_init(&world);
        peer_init(&world, &peer, 1);

        ck_assert_int_eq(rtc_server_create_session(world.server, peer.username), 0);
        session = rtc_session_find(world.manager, peer.username);
        ck_assert_ptr_nonnull(session);
        ck_assert_int_eq(rtc_session_tcp_state(session), RTC_NETWORK_WAITING_STUN);
        ck_assert_uint_eq(resource_manager_size(world.manager), 2); /* the session and its executor */
        ck_assert_uint_eq(event_loop_running(world.loop), 1);

        peer.tcp = transport_new();
        ck_assert_ptr_nonnull(peer.tcp);
        ck_assert_int_eq(rtc_server_accept_tcp(world.server, peer.tcp), 0);
        ck_assert_uint_eq(resource_manager_size(world.manager), 3); /* and the connection's executor */
        ck_assert_uint_eq(event_loop_running(world.loop), 2);
        run_for(&world, 5 * ROUND_MS);
        ck_assert_uint_eq(peer.stun_responses, 0);

        /* STUN finds the session by its username and is answered: the DTLS handshake may start. */
        ck_assert_int_eq(peer_send_stun(&peer, world.now), 0);
        run_for(&world, ROUND_MS);
        ck_assert_uint_eq(peer.stun_responses, 1);
        ck_assert_int_eq(rtc_session_tcp_state(session), RTC_NETWORK_DTLS);
        ck_assert_uint_eq(rtc_session_rtp_sent(session), 0);

        ck_assert_int_eq(peer_send_dtls_handshake(&peer), 0);
        run_for(&world, ROUND_MS);
        ck_assert_uint_eq(peer.dtls_flights, 1);
        ck_assert_int_eq(rtc_session_tcp_state(session), RTC_NETWORK_ESTABLISHED);

        /* The session plays one packet a round, in order; the browser publishes too, and keeps alive. */
        peer.keepalive = true;
        ck_assert_int_eq(peer_send_rtp(&peer, 7), 0);
        run_for(&world, 50 * ROUND_MS);
        ck_assert_uint_eq(rtc_session_rtp_sent(session), 50);
        ck_assert_uint_eq(peer.rtp, 50);
        ck_assert_uint_eq(peer.rtp_out_of_order, 0);
        ck_assert_uint_eq(rtc_session_rtp_received(session), 7);
        ck_assert_uint_eq(peer.stun_responses, 2);
        ck_assert_uint_eq(world.ended[RTC_END_DTLS_ALERT], 0);

        /* The browser closes the PeerConnection and keeps its TCP connection open: the session ends at its
         * next round, and ends its connection. */
        ck_assert_int_eq(peer_send_close_notify(&peer), 0);
        run_for(&world, 3 * ROUND_MS);
        ck_assert_uint_eq(world.ended[RTC_END_DTLS_ALERT], 1);
        ck_assert_str_eq(world.last_ended, peer.username);
        ck_assert(peer.server_closed);
        ck_assert_ptr_null(rtc_session_find(world.manager, peer.username));
        ck_assert_uint_eq(resource_manager_size(world.manager), 0);
        ck_assert_uint_eq(event_loop_running(world.loop), 0);
        ck_assert_uint_le(peer.rtp, 52);

        peer_fini(&world, &peer);
        world_fini(&world);
        ck_assert_uint_eq(world.ended[RTC_END_SERVER_STOP], 0);
}

/*
 * The refresh (SRS issues #3784, #3864, #3926): the browser reloads the page. It closes the PeerConnection
 * (DTLS close_notify) and its TCP connection at once, while the session is still playing. Nothing changes
 * for the browser: its old connection is closed, the session ends once, and everything is freed.
 */
KATA_TEST(refresh_closes_dtls_and_tcp_while_the_session_plays)
{
        struct world world;
        struct peer peer;
        unsigned long live;

        world_init(&world);
        peer_init(&world, &peer, 2);
        live = sptr_live_count();
        peer_start_playing(&world, &peer);
        run_for(&world, 10 * ROUND_MS);
        ck_assert_uint_eq(peer.rtp, 10);

        ck_assert_int_eq(peer_send_close_notify(&peer), 0);
        peer_close(&peer);
        run_for(&world, 5 * ROUND_MS);

        ck_assert_uint_eq(world.ended[RTC_END_DTLS_ALERT], 1);
        ck_assert_uint_eq(world.ended[RTC_END_TCP_CLOSED], 0);
        ck_assert(transport_closed_by_server(peer.tcp));
        ck_assert_uint_eq(peer.rtp, 10); /* nothing played after the refresh reaches the browser */
        ck_assert_ptr_null(rtc_session_find(world.manager, peer.username));
        ck_assert_uint_eq(resource_manager_size(world.manager), 0);
        ck_assert_uint_eq(event_loop_running(world.loop), 0);
        /* The session, the connection, and their executors are gone: only the browser's transport is left. */
        kata_assert_released(sptr_live_count(), live + 1, "objects five rounds after the refresh");

        peer_fini(&world, &peer);
        world_fini(&world);
}

/* The TCP connection breaks (a network change; the browser's tab is killed) while the session plays: the
 * established network is closed and the session ends with it. */
KATA_TEST(tcp_connection_drops_while_the_session_plays)
{
        struct world world;
        struct peer peer;
        struct rtc_session *session;
        unsigned long live;

        world_init(&world);
        peer_init(&world, &peer, 3);
        live = sptr_live_count();
        peer_start_playing(&world, &peer);
        run_for(&world, 10 * ROUND_MS);
        session = rtc_session_find(world.manager, peer.username);
        ck_assert_uint_eq(rtc_session_rtp_sent(session), 10);

        peer_close(&peer);
        run_for(&world, 5 * ROUND_MS);

        ck_assert_uint_eq(world.ended[RTC_END_TCP_CLOSED], 1);
        ck_assert_uint_eq(peer.rtp, 10);
        ck_assert(transport_closed_by_server(peer.tcp));
        ck_assert_ptr_null(rtc_session_find(world.manager, peer.username));
        ck_assert_uint_eq(resource_manager_size(world.manager), 0);
        kata_assert_released(sptr_live_count(), live + 1, "objects five rounds after the TCP connection dropped");

        peer_fini(&world, &peer);
        world_fini(&world);
}

/* rtc_server_accept_tcp() lends the transport (transfer none): the connection takes a reference of its own,
 * so the caller may let go of its own at once. Here the browser's whole handshake and its hang-up are
 * waiting in the transport before the server reads any of it, and the browser's side has let go. */
KATA_TEST(connection_keeps_the_transport_it_was_lent)
{
        struct world world;
        struct peer peer;
        unsigned long live;

        world_init(&world);
        peer_init(&world, &peer, 20);
        live = sptr_live_count();
        ck_assert_int_eq(peer_connect(&world, &peer), 0);
        ck_assert_int_eq(peer_send_stun(&peer, world.now), 0);
        ck_assert_int_eq(peer_send_dtls_handshake(&peer), 0);
        peer_close(&peer);
        peer.tcp = sptr_unref(peer.tcp);
        run_for(&world, 3 * ROUND_MS);

        /* The connection read it all: the network was established, then closed, and the session ended. */
        ck_assert_uint_eq(world.ended[RTC_END_TCP_CLOSED], 1);
        ck_assert_uint_eq(resource_manager_size(world.manager), 0);
        ck_assert_uint_eq(event_loop_running(world.loop), 0);
        kata_assert_released(sptr_live_count(), live, "objects after the connection and its session ended");

        peer_fini(&world, &peer);
        world_fini(&world);
}

/*
 * The TCP connection breaks during the DTLS handshake. The session does not end with it, since the browser
 * may still reach it another way (SRS: "client might use other UDP network"); with no STUN it times out,
 * and everything is freed then.
 */
KATA_TEST(tcp_connection_drops_before_the_network_is_established)
{
        struct world world;
        struct peer peer;
        struct rtc_session *session;
        msec_t closed_at;

        world_init(&world);
        peer_init(&world, &peer, 4);
        ck_assert_int_eq(peer_connect(&world, &peer), 0);
        ck_assert_int_eq(peer_send_stun(&peer, world.now), 0);
        run_for(&world, ROUND_MS);
        session = rtc_session_find(world.manager, peer.username);
        ck_assert_ptr_nonnull(session);
        ck_assert_int_eq(rtc_session_tcp_state(session), RTC_NETWORK_DTLS);

        peer_close(&peer);
        closed_at = world.now;
        run_for(&world, RTC_STUN_TIMEOUT_MS + 2 * ROUND_MS);

        /* It ended by itself, a STUN timeout after the last STUN: not when its connection dropped. */
        ck_assert_uint_eq(world.ended[RTC_END_TIMEOUT], 1);
        ck_assert_uint_eq(world.ended[RTC_END_TCP_CLOSED], 0);
        ck_assert_uint_gt(world.ended_at - peer.last_stun_at, RTC_STUN_TIMEOUT_MS);
        ck_assert_uint_le(world.ended_at - peer.last_stun_at, RTC_STUN_TIMEOUT_MS + 2 * ROUND_MS);
        ck_assert_uint_gt(world.ended_at, closed_at + RTC_STUN_TIMEOUT_MS - 2 * ROUND_MS);
        ck_assert(transport_closed_by_server(peer.tcp));
        ck_assert_uint_eq(peer.rtp, 0);
        ck_assert_uint_eq(resource_manager_size(world.manager), 0);
        ck_assert_uint_eq(event_loop_running(world.loop), 0);

        peer_fini(&world, &peer);
        world_fini(&world);
}

/* The session ends first: the browser stops sending STUN but keeps its TCP connection open. The session
 * times out, and interrupts its connection, which is still reading: it ends, closes, and is freed. */
KATA_TEST(session_timeout_interrupts_the_connection_still_reading)
{
        struct world world;
        struct peer peer;
        unsigned long live;

        world_init(&world);
        peer_init(&world, &peer, 5);
        live = sptr_live_count();
        peer_start_playing(&world, &peer);
        run_for(&world, 10 * STUN_EVERY_MS);
        ck_assert_uint_eq(world.ended[RTC_END_TIMEOUT], 0);

        peer.keepalive = false;
        run_for(&world, RTC_STUN_TIMEOUT_MS + 4 * ROUND_MS);

        ck_assert_uint_eq(world.ended[RTC_END_TIMEOUT], 1);
        ck_assert_uint_gt(world.ended_at - peer.last_stun_at, RTC_STUN_TIMEOUT_MS);
        ck_assert_uint_le(world.ended_at - peer.last_stun_at, RTC_STUN_TIMEOUT_MS + ROUND_MS);
        ck_assert(peer.server_closed);
        ck_assert_uint_eq(peer.rtp_out_of_order, 0);
        ck_assert_int_eq(peer_send_rtp(&peer, 1), -EPIPE);
        ck_assert_uint_eq(resource_manager_size(world.manager), 0);
        ck_assert_uint_eq(event_loop_running(world.loop), 0);
        kata_assert_released(sptr_live_count(), live + 1, "objects after the session timed out");

        peer_fini(&world, &peer);
        world_fini(&world);
}

/* One TCP connection per session (SRS's ERROR_RTC_TCP_UNIQUE): a second one for the same username is
 * refused, and the first one goes on serving the session. */
KATA_TEST(second_tcp_connection_for_a_session_is_refused)
{
        struct world world;
        struct peer peer, intruder;
        struct rtc_session *session;
        unsigned long live;

        world_init(&world);
        peer_init(&world, &peer, 6);
        peer_init(&world, &intruder, 6);
        peer_start_playing(&world, &peer);
        session = rtc_session_find(world.manager, peer.username);
        run_for(&world, 5 * ROUND_MS);

        live = sptr_live_count();
        intruder.tcp = transport_new();
        ck_assert_ptr_nonnull(intruder.tcp);
        ck_assert_int_eq(rtc_server_accept_tcp(world.server, intruder.tcp), 0);
        ck_assert_int_eq(peer_send_stun(&intruder, world.now), 0);
        run_for(&world, 2 * ROUND_MS);
        ck_assert(intruder.server_closed);
        /* Refused and ended: the server holds nothing of it any more (the test holds its end of the socket). */
        kata_assert_released(sptr_live_count(), live + 1, "objects of the refused connection, right after it ended,");
        ck_assert_uint_eq(intruder.stun_responses, 0);
        ck_assert_uint_eq(intruder.rtp, 0);
        ck_assert_ptr_eq(rtc_session_find(world.manager, peer.username), session);
        ck_assert_int_eq(rtc_session_tcp_state(session), RTC_NETWORK_ESTABLISHED);

        /* The first connection still carries the session, both ways. */
        ck_assert_int_eq(peer_send_stun(&peer, world.now), 0);
        ck_assert_int_eq(peer_send_rtp(&peer, 2), 0);
        run_for(&world, 3 * ROUND_MS);
        ck_assert_uint_eq(peer.stun_responses, 2);
        ck_assert_uint_eq(peer.rtp, 10);
        ck_assert_uint_eq(rtc_session_rtp_received(session), 2);
        ck_assert(!peer.server_closed);

        ck_assert_int_eq(peer_send_close_notify(&peer), 0);
        run_for(&world, 3 * ROUND_MS);
        ck_assert_uint_eq(world.ended[RTC_END_DTLS_ALERT], 1);
        ck_assert(peer.server_closed);
        ck_assert_uint_eq(resource_manager_size(world.manager), 0);

        peer_fini(&world, &intruder);
        peer_fini(&world, &peer);
        world_fini(&world);
}

/* A connection whose first packet is not a STUN binding request for a live session, or that sends a
 * packet too long or of no known kind, is closed. The established session it served ends with it. */
KATA_TEST(connections_with_bad_packets_are_closed)
{
        static const uint8_t one_byte[] = { 0x00 }, handshake_early[] = { RTC_DTLS_HANDSHAKE, 1 };
        static const uint8_t rtcp_like[] = { 0x40, 0 }, stun_response[] = { 0x01, 0x01, 'x' };
        uint8_t too_long[RTC_TCP_PACKET_MAX + 1] = { RTC_RTP_VERSION_2 };
        uint8_t stun[2 + RTC_USERNAME_MAX] = { RTC_STUN_BINDING_REQUEST >> 8, RTC_STUN_BINDING_REQUEST & 0xff };
        struct world world;
        struct peer unknown, not_stun, tiny, long_name, oversize, garbage, stray;
        struct peer *established[] = { &oversize, &garbage, &stray };

        world_init(&world);
        peer_init(&world, &unknown, 7);
        peer_init(&world, &not_stun, 8);
        peer_init(&world, &tiny, 9);
        peer_init(&world, &long_name, 10);
        peer_init(&world, &oversize, 11);
        peer_init(&world, &garbage, 12);
        peer_init(&world, &stray, 13);
        for (unsigned i = 0; i < world.n_peers; i++) {
                world.peers[i]->tcp = transport_new();
                ck_assert_ptr_nonnull(world.peers[i]->tcp);
                ck_assert_int_eq(rtc_server_accept_tcp(world.server, world.peers[i]->tcp), 0);
        }
        ck_assert_int_eq(peer_send_stun(&unknown, world.now), 0); /* nobody made its session */
        ck_assert_int_eq(peer_send(&not_stun, handshake_early, sizeof handshake_early), 0);
        ck_assert_int_eq(peer_send(&tiny, one_byte, sizeof one_byte), 0);
        memset(stun + 2, 'n', RTC_USERNAME_MAX); /* one character longer than a username can be */
        ck_assert_int_eq(peer_send(&long_name, stun, sizeof stun), 0);
        for (unsigned i = 0; i < 3; i++) {
                ck_assert_int_eq(rtc_server_create_session(world.server, established[i]->username), 0);
                ck_assert_int_eq(peer_send_stun(established[i], world.now), 0);
                ck_assert_int_eq(peer_send_dtls_handshake(established[i]), 0);
        }
        ck_assert_int_eq(peer_send(&oversize, too_long, sizeof too_long), 0);
        ck_assert_int_eq(peer_send(&garbage, rtcp_like, sizeof rtcp_like), 0);
        ck_assert_int_eq(peer_send(&stray, stun_response, sizeof stun_response), 0);
        run_for(&world, 2 * ROUND_MS);

        for (unsigned i = 0; i < world.n_peers; i++) {
                ck_assert_msg(world.peers[i]->server_closed, "%s was not closed", world.peers[i]->username);
                ck_assert_uint_eq(world.peers[i]->stun_responses, i >= 4 ? 1 : 0);
                ck_assert_uint_eq(world.peers[i]->dtls_flights, i >= 4 ? 1 : 0);
        }
        /* The last three were established: their sessions ended with their connections. */
        ck_assert_uint_eq(world.ended[RTC_END_TCP_CLOSED], 3);
        for (unsigned i = 0; i < 3; i++)
                ck_assert_ptr_null(rtc_session_find(world.manager, established[i]->username));
        ck_assert_uint_eq(resource_manager_size(world.manager), 0);

        world_fini(&world);
        ck_assert_uint_eq(world.ended[RTC_END_SERVER_STOP], 0);
        for (unsigned i = world.n_peers; i > 0; i--)
                peer_fini(&world, world.peers[i - 1]);
}

/* The session plays by the clock, not by the loop's rounds: rounds closer together than the play interval
 * do not play faster. */
KATA_TEST(session_plays_one_packet_per_interval)
{
        struct world world;
        struct peer peer;
        struct rtc_session *session;

        world_init(&world);
        peer_init(&world, &peer, 14);
        peer_start_playing(&world, &peer);
        session = rtc_session_find(world.manager, peer.username);
        for (unsigned i = 0; i < 8; i++) {
                world.now += RTC_PLAY_INTERVAL_MS / 4;
                event_loop_run_once(world.loop);
        }
        ck_assert_uint_eq(rtc_session_rtp_sent(session), 2); /* at 0 and 20 ms */
        run_for(&world, 10 * ROUND_MS);
        ck_assert_uint_eq(rtc_session_rtp_sent(session), 12);

        world_fini(&world);
        ck_assert_uint_eq(world.ended[RTC_END_SERVER_STOP], 1);
        peer_fini(&world, &peer);
}

/* What DTLS may bring besides the handshake: a retransmitted flight, warnings, a fatal alert. */
KATA_TEST(only_close_notify_and_fatal_alerts_end_a_session)
{
        struct world world;
        struct peer peer;

        world_init(&world);
        peer_init(&world, &peer, 15);
        peer_start_playing(&world, &peer);

        ck_assert_int_eq(peer_send_dtls_handshake(&peer), 0);                /* retransmitted */
        ck_assert_int_eq(peer_send_alert(&peer, RTC_DTLS_LEVEL_WARNING, 90), 0); /* user_canceled */
        ck_assert_int_eq(peer_send(&peer, (const uint8_t[]){ RTC_DTLS_ALERT, RTC_DTLS_LEVEL_FATAL }, 2), 0);
        run_for(&world, 3 * ROUND_MS);
        ck_assert_uint_eq(peer.dtls_flights, 1);
        ck_assert_uint_eq(world.ended[RTC_END_DTLS_ALERT], 0);
        ck_assert_uint_eq(peer.rtp, 3);

        ck_assert_int_eq(peer_send_alert(&peer, RTC_DTLS_LEVEL_FATAL, 40), 0); /* handshake_failure */
        run_for(&world, 3 * ROUND_MS);
        ck_assert_uint_eq(world.ended[RTC_END_DTLS_ALERT], 1);
        ck_assert(peer.server_closed);
        ck_assert_uint_eq(resource_manager_size(world.manager), 0);

        peer_fini(&world, &peer);
        world_fini(&world);
}

/* Sessions are found by their ICE username, which must be new; once a session has ended, its username
 * may serve again. */
KATA_TEST(sessions_are_named_by_their_username)
{
        char long_name[RTC_USERNAME_MAX + 1];
        struct world world;
        struct peer peer;

        world_init(&world);
        peer_init(&world, &peer, 16);
        memset(long_name, 'u', RTC_USERNAME_MAX);
        long_name[RTC_USERNAME_MAX] = '\0';
        ck_assert_int_eq(rtc_server_create_session(world.server, ""), -EINVAL);
        ck_assert_int_eq(rtc_server_create_session(world.server, long_name), -EINVAL);
        ck_assert_uint_eq(resource_manager_size(world.manager), 0);
        peer_start_playing(&world, &peer);
        ck_assert_int_eq(rtc_server_create_session(world.server, peer.username), -EEXIST);

        ck_assert_int_eq(peer_send_close_notify(&peer), 0);
        run_for(&world, 3 * ROUND_MS);
        ck_assert_uint_eq(world.ended[RTC_END_DTLS_ALERT], 1);
        peer_fini(&world, &peer);

        peer_init(&world, &peer, 16);
        peer_start_playing(&world, &peer);
        run_for(&world, 4 * ROUND_MS);
        ck_assert_uint_eq(peer.rtp, 4);
        ck_assert_uint_eq(peer.next_sequence, 4); /* a new session: its own sequence numbers */

        world_fini(&world);
        ck_assert_uint_eq(world.ended[RTC_END_SERVER_STOP], 1);
        peer_fini(&world, &peer);
}

/* rtc_server_create_session() lends the username for the call (transfer none): the session keeps a copy,
 * and its end reports the name it was given, whatever the caller's buffer holds by then. */
KATA_TEST(session_keeps_its_own_copy_of_the_username)
{
        char username[RTC_USERNAME_MAX] = "s0000021:b0000021";
        struct world world;

        world_init(&world);
        ck_assert_int_eq(rtc_server_create_session(world.server, username), 0);
        memset(username, 'x', sizeof username - 1); /* the caller reuses its buffer */
        ck_assert_ptr_nonnull(rtc_session_find(world.manager, "s0000021:b0000021"));

        world_fini(&world);
        ck_assert_uint_eq(world.ended[RTC_END_SERVER_STOP], 1);
        ck_assert_str_eq(world.last_ended, "s0000021:b0000021");
}

/* The configured STUN timeout replaces the default, and a server may have no end-of-session callback. */
KATA_TEST(configured_stun_timeout_replaces_the_default)
{
        const struct rtc_config quick = { .stun_timeout_ms = 2000 };
        static int nobody;
        const struct rtc_config silent = { .stun_timeout_ms = 1000, .userdata = &nobody };
        struct world world;
        struct peer peer;

        world_init_with(&world, &quick);
        peer_init(&world, &peer, 17);
        ck_assert_int_eq(peer_connect(&world, &peer), 0);
        ck_assert_int_eq(peer_send_stun(&peer, world.now), 0);
        run_for(&world, 2000);
        ck_assert_uint_eq(world.ended[RTC_END_TIMEOUT], 0);
        run_for(&world, 2 * ROUND_MS);
        ck_assert_uint_eq(world.ended[RTC_END_TIMEOUT], 1);
        ck_assert_uint_gt(world.ended_at - peer.last_stun_at, quick.stun_timeout_ms);
        run_for(&world, ROUND_MS);
        ck_assert(peer.server_closed);
        peer_fini(&world, &peer);
        world_fini(&world);

        world_init_with(&world, &silent);
        ck_assert_int_eq(rtc_server_create_session(world.server, "quiet:1"), 0);
        run_for(&world, 1100);
        ck_assert_ptr_null(rtc_session_find(world.manager, "quiet:1"));
        ck_assert_uint_eq(resource_manager_size(world.manager), 0);
        ck_assert_uint_eq(world.ended[RTC_END_TIMEOUT], 0); /* nobody was told */
        world_fini(&world);
}

/* Stopping the server ends every session and connection still running, whichever started first, and
 * frees them. */
KATA_TEST(stopping_the_server_ends_live_sessions_once)
{
        struct world world;
        struct peer playing, early;
        unsigned long live;

        world_init(&world);
        peer_init(&world, &playing, 18);
        peer_init(&world, &early, 19);
        live = sptr_live_count();
        peer_start_playing(&world, &playing);
        /* This browser's TCP connection comes before its session exists: it starts first. */
        early.tcp = transport_new();
        ck_assert_ptr_nonnull(early.tcp);
        ck_assert_int_eq(rtc_server_accept_tcp(world.server, early.tcp), 0);
        ck_assert_int_eq(rtc_server_create_session(world.server, early.username), 0);
        ck_assert_int_eq(peer_send_stun(&early, world.now), 0);
        ck_assert_int_eq(peer_send_dtls_handshake(&early), 0);
        early.keepalive = true;
        run_for(&world, 5 * ROUND_MS);
        ck_assert_uint_eq(early.rtp, 5);
        ck_assert_uint_eq(resource_manager_size(world.manager), 6);
        ck_assert_uint_eq(event_loop_running(world.loop), 4);

        world_fini(&world);
        ck_assert_uint_eq(world.ended[RTC_END_SERVER_STOP], 2);
        ck_assert_uint_eq(world.ended[RTC_END_TCP_CLOSED] + world.ended[RTC_END_DTLS_ALERT], 0);
        ck_assert(transport_closed_by_server(playing.tcp));
        ck_assert(transport_closed_by_server(early.tcp));
        kata_assert_released(sptr_live_count(), live + 2, "objects after the server stopped");
        peer_fini(&world, &early);
        peer_fini(&world, &playing);
}

/* ---- Churn ---- */

/* The five ways a browser leaves, each through its own order of events. */
enum leaving {
        LEAVE_REFRESH,         /* close_notify and TCP close at once, while the session plays */
        LEAVE_TCP_DROP,        /* TCP close while the session plays */
        LEAVE_CLOSE_NOTIFY,    /* close_notify, TCP kept open: the session ends first */
        LEAVE_SILENT,          /* no more STUN, TCP kept open: the session times out first */
        LEAVE_DROP_BEFORE_DTLS, /* TCP close during the DTLS handshake: the session times out later */
        LEAVINGS,
};

/* A batch of browsers: all connect, then all leave, each its own way; no assertion in between (they would
 * allocate between the heap measurements, and inside the kata's use-after-free windows). Returns false when
 * something went wrong. */
static bool batch_comes_and_goes(struct world *world, unsigned first, unsigned n)
{
        struct peer peers[MAX_PEERS];
        unsigned ended_before = 0, ended_after = 0;
        bool ok = true;

        for (unsigned why = 0; why <= RTC_END_SERVER_STOP; why++)
                ended_before += world->ended[why];
        for (unsigned i = 0; i < n; i++) {
                peer_init(world, &peers[i], first + i);
                ok = ok && peer_connect(world, &peers[i]) == 0 && peer_send_stun(&peers[i], world->now) == 0;
        }
        run_for(world, ROUND_MS);
        for (unsigned i = 0; i < n; i++)
                if ((first + i) % LEAVINGS != LEAVE_DROP_BEFORE_DTLS) {
                        ok = ok && peer_send_dtls_handshake(&peers[i]) == 0;
                        peers[i].keepalive = true;
                }
        run_for(world, 4 * ROUND_MS); /* the handshake, then 3 packets played */
        for (unsigned i = 0; i < n; i++) {
                switch ((first + i) % LEAVINGS) {
                case LEAVE_REFRESH:
                        ok = ok && peers[i].rtp == 3 && peer_send_close_notify(&peers[i]) == 0;
                        peer_close(&peers[i]);
                        break;
                case LEAVE_TCP_DROP:
                        ok = ok && peers[i].rtp == 3;
                        peer_close(&peers[i]);
                        break;
                case LEAVE_CLOSE_NOTIFY:
                        ok = ok && peers[i].rtp == 3 && peer_send_close_notify(&peers[i]) == 0;
                        break;
                case LEAVE_SILENT:
                        ok = ok && peers[i].rtp == 3;
                        peers[i].keepalive = false;
                        break;
                default:
                        ok = ok && peers[i].rtp == 0 && peers[i].stun_responses == 1;
                        peer_close(&peers[i]);
                        break;
                }
        }
        run_for(world, world->server->config.stun_timeout_ms + 4 * ROUND_MS);
        for (unsigned why = 0; why <= RTC_END_SERVER_STOP; why++)
                ended_after += world->ended[why];
        ok = ok && ended_after == ended_before + n && resource_manager_size(world->manager) == 0 &&
             event_loop_running(world->loop) == 0;
        for (unsigned i = 0; i < n; i++) {
                ok = ok && peers[i].server_closed && peers[i].rtp_out_of_order == 0;
                peer_fini(world, &peers[i]);
        }
        return ok;
}

KATA_TEST(churn_of_1000_connections_in_every_order_returns_the_heap_to_its_baseline)
{
        const unsigned connections = 1000, batch = 10;
        const struct rtc_config config = { .stun_timeout_ms = 200 };
        struct world world;
        struct kata_heap before;
        unsigned failed = 0;

        world_init_with(&world, &config);
        /* Warm up: the manager's and the loop's tables reach their working size. */
        failed += !batch_comes_and_goes(&world, 0, batch);
        before = kata_heap_snapshot();
        for (unsigned first = batch; first < batch + connections; first += batch)
                failed += !batch_comes_and_goes(&world, first, batch);
        kata_assert_heap_at_baseline(&before, "after %u connections came and went", connections);

        ck_assert_uint_eq(failed, 0);
        /* Each way of leaving, (1000 + 10) / 5 times: refresh and close_notify end with the DTLS alert, a
         * silent browser and a drop before DTLS with the timeout. */
        ck_assert_uint_eq(world.ended[RTC_END_DTLS_ALERT], 2 * (connections + batch) / LEAVINGS);
        ck_assert_uint_eq(world.ended[RTC_END_TCP_CLOSED], (connections + batch) / LEAVINGS);
        ck_assert_uint_eq(world.ended[RTC_END_TIMEOUT], 2 * (connections + batch) / LEAVINGS);
        world_fini(&world);
        ck_assert_uint_eq(world.ended[RTC_END_SERVER_STOP], 0);
}

void kata_register(TCase *tc)
{
        tcase_add_test(tc, transport_carries_packets_in_order_until_closed);
        tcase_add_test(tc, manager_finds_resources_by_name_until_they_are_removed);
        tcase_add_test(tc, manager_releases_zombies_removed_during_dispose_at_the_next_one);
        tcase_add_test(tc, executor_holds_its_object_until_its_cycle_ends);
        tcase_add_test(tc, interrupted_and_stopped_cycles_end_once);
        tcase_add_test(tc, browser_plays_then_closes_the_peer_connection);
        tcase_add_test(tc, refresh_closes_dtls_and_tcp_while_the_session_plays);
        tcase_add_test(tc, tcp_connection_drops_while_the_session_plays);
        tcase_add_test(tc, connection_keeps_the_transport_it_was_lent);
        tcase_add_test(tc, tcp_connection_drops_before_the_network_is_established);
        tcase_add_test(tc, session_timeout_interrupts_the_connection_still_reading);
        tcase_add_test(tc, second_tcp_connection_for_a_session_is_refused);
        tcase_add_test(tc, connections_with_bad_packets_are_closed);
        tcase_add_test(tc, session_plays_one_packet_per_interval);
        tcase_add_test(tc, only_close_notify_and_fatal_alerts_end_a_session);
        tcase_add_test(tc, sessions_are_named_by_their_username);
        tcase_add_test(tc, session_keeps_its_own_copy_of_the_username);
        tcase_add_test(tc, configured_stun_timeout_replaces_the_default);
        tcase_add_test(tc, stopping_the_server_ends_live_sessions_once);
        tcase_add_test(tc, churn_of_1000_connections_in_every_order_returns_the_heap_to_its_baseline);
}
