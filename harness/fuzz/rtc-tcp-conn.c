/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes solutions/rtc-tcp-conn: what browsers control, through the HTTP API (the ICE usernames of new
 * sessions) and over their TCP connections (when they connect and close, and every packet they send). An
 * input is a script, one step a line, over four browser ends of a TCP connection (slots 0 to 3):
 *
 *   n USER           the HTTP API makes a session for USER (the rest of the line, raw)
 *   a I              a browser connects over TCP in slot I (closing the one before)
 *   S I USER         a STUN binding request naming USER       D I   the DTLS handshake's last flight
 *   A I LEVEL DESC   a DTLS alert                             r I   an RTP packet
 *   P I BYTES        any packet: the rest of the line, raw (empty, or anything the server must refuse)
 *   d I              the browser reads what the server sent it
 *   c I              the browser closes slot I
 *   t N              N % 64 rounds of the server, 20 ms each (one packet played)   T MS   time jumps MS
 *                    (at most 10 minutes)
 *
 * The server runs with a STUN timeout of 1 s, so that an input reaches it in a few rounds.
 *
 * Invariants (rtc.h, resource_manager.h, executor.h): create_session() returns 0, -EINVAL exactly for an
 * empty or too long username, -EEXIST exactly when a session has it; a session's end is reported once:
 * never more ends than sessions made, and, once every browser has closed and the server's own cycles have
 * run (at most 1,000 rounds of 300 ms), exactly one end per session made, and none more at the server's
 * stop; by then the manager is empty, nothing runs, and every shared object is freed before the server stops
 * (sptr_live_count() back where it was). A use after free (the bug of this kata) is ASan's to report.
 * Memory: LeakSanitizer.
 */
#include "executor.h"
#include "resource_manager.h"
#include "rtc.h"
#include "transport.h"

#include <errno.h>

#include "fuzz.h"
#include "sptr.h"

#define SLOTS 4
#define ROUND_MS RTC_PLAY_INTERVAL_MS
#define JUMP_CAP_MS (10 * 60 * 1000)
#define DRAIN_ROUNDS 1000
#define LINE_MAX_BYTES 2048

struct world {
        msec_t now;
        struct resource_manager *manager;
        struct event_loop *loop;
        struct rtc_server *server;
        struct transport *peers[SLOTS]; /* +1: the browser's end */
        unsigned long created, ended;
};

static msec_t world_clock(void *userdata)
{
        return ((const struct world *) userdata)->now;
}

static void on_session_end(const char *username, enum rtc_session_end why, void *userdata)
{
        struct world *world = userdata;

        world->ended++;
        FUZZ_CHECK(why <= RTC_END_SERVER_STOP, "a session ended for reason %d", why);
        FUZZ_CHECK(*username && strnlen(username, RTC_USERNAME_MAX) < RTC_USERNAME_MAX,
                   "a session ended with a username that is empty or too long");
        FUZZ_CHECK(world->ended <= world->created, "%lu session ends reported, %lu sessions made", world->ended,
                   world->created);
}

static void round_once(struct world *world, msec_t ms)
{
        world->now += ms;
        event_loop_run_once(world->loop);
        FUZZ_CHECK(resource_manager_zombies(world->manager) == 0, "%zu zombies outlived the round's dispose",
                   resource_manager_zombies(world->manager));
}

static void peer_close(struct world *world, unsigned slot)
{
        if (!world->peers[slot])
                return;
        transport_peer_close(world->peers[slot]);
        world->peers[slot] = sptr_unref(world->peers[slot]);
}

static void peer_send(struct world *world, unsigned slot, const void *packet, size_t size)
{
        int r = transport_peer_send(world->peers[slot], packet, size);

        FUZZ_CHECK(r == 0 || r == -EPIPE || r == -ENOBUFS || r == -EMSGSIZE, "transport_peer_send() returned %d", r);
}

static void peer_read(struct world *world, unsigned slot)
{
        uint8_t packet[RTC_TCP_PACKET_MAX];
        ssize_t n;

        while ((n = transport_peer_receive(world->peers[slot], packet, sizeof packet)) > 0)
                ;
        FUZZ_CHECK(n == -EAGAIN || n == -EPIPE, "the server sent a packet the browser cannot read: %zd", n);
}

static void create_session(struct world *world, struct fuzz_line *line)
{
        char username[LINE_MAX_BYTES];
        size_t length;
        bool existed;
        int r;

        fuzz_rest(line, username, sizeof username);
        length = strlen(username);
        existed = length > 0 && length < RTC_USERNAME_MAX && rtc_session_find(world->manager, username);
        r = rtc_server_create_session(world->server, username);
        if (length == 0 || length >= RTC_USERNAME_MAX)
                FUZZ_CHECK(r == -EINVAL, "create_session() of a %zu-byte username returned %d", length, r);
        else if (existed)
                FUZZ_CHECK(r == -EEXIST, "create_session() of a live session's username returned %d", r);
        else
                FUZZ_CHECK(r == 0 && rtc_session_find(world->manager, username),
                           "create_session() of a new username returned %d", r);
        world->created += r == 0;
}

static void step(struct world *world, struct fuzz_line *line)
{
        int op = fuzz_op(line);
        uint8_t packet[LINE_MAX_BYTES + 2] = { 0 };
        unsigned slot, rounds;
        size_t length;
        uint64_t ms;
        int r;

        switch (op) {
        case 'n':
                create_session(world, line);
                return;
        case 't':
                for (rounds = (unsigned) (fuzz_number(line) % 64); rounds > 0; rounds--)
                        round_once(world, ROUND_MS);
                return;
        case 'T':
                ms = fuzz_number(line);
                round_once(world, ms > JUMP_CAP_MS ? JUMP_CAP_MS : ms);
                return;
        }
        slot = (unsigned) (fuzz_number(line) % SLOTS);
        if (op == 'a') {
                peer_close(world, slot);
                world->peers[slot] = transport_new();
                FUZZ_CHECK(world->peers[slot], "no transport (out of memory?)");
                r = rtc_server_accept_tcp(world->server, world->peers[slot]);
                FUZZ_CHECK(r == 0, "accept_tcp() failed: %d", r);
                return;
        }
        if (!world->peers[slot])
                return;
        switch (op) {
        case 'S':
                packet[0] = RTC_STUN_BINDING_REQUEST >> 8;
                packet[1] = RTC_STUN_BINDING_REQUEST & 0xff;
                length = fuzz_rest(line, (char *) packet + 2, sizeof packet - 2);
                peer_send(world, slot, packet, length + 2);
                break;
        case 'D':
                packet[0] = RTC_DTLS_HANDSHAKE;
                packet[1] = 0x14;
                peer_send(world, slot, packet, 2);
                break;
        case 'A':
                packet[0] = RTC_DTLS_ALERT;
                packet[1] = (uint8_t) fuzz_number(line);
                packet[2] = (uint8_t) fuzz_number(line);
                peer_send(world, slot, packet, 3);
                break;
        case 'r':
                packet[0] = RTC_RTP_VERSION_2;
                peer_send(world, slot, packet, RTC_RTP_PACKET_SIZE);
                break;
        case 'P':
                length = fuzz_rest(line, (char *) packet, sizeof packet);
                peer_send(world, slot, packet, length);
                break;
        case 'd':
                peer_read(world, slot);
                break;
        case 'c':
                peer_close(world, slot);
                break;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_input in = fuzz_input(data, size);
        unsigned long shared = sptr_live_count();
        struct world world = { .now = 1000 };
        const struct rtc_config config = { .stun_timeout_ms = 1000, .on_session_end = on_session_end,
                                           .userdata = &world };
        struct fuzz_line line;
        unsigned rounds = 0;

        world.manager = resource_manager_new();
        FUZZ_CHECK(world.manager, "no manager (out of memory?)");
        world.loop = event_loop_new(world.manager, world_clock, &world);
        FUZZ_CHECK(world.loop, "no loop (out of memory?)");
        world.server = rtc_server_new(world.loop, world.manager, &config);
        FUZZ_CHECK(world.server, "no server (out of memory?)");

        while (fuzz_next_line(&in, &line))
                step(&world, &line);

        /* Every browser closes; the server's own cycles must then end everything. */
        for (unsigned slot = 0; slot < SLOTS; slot++)
                peer_close(&world, slot);
        while (resource_manager_size(world.manager) > 0 && rounds++ < DRAIN_ROUNDS)
                round_once(&world, 300);
        FUZZ_CHECK(resource_manager_size(world.manager) == 0 && event_loop_running(world.loop) == 0,
                   "%zu resources (%zu cycles running) are left %d rounds after every browser closed",
                   resource_manager_size(world.manager), event_loop_running(world.loop), DRAIN_ROUNDS);
        FUZZ_CHECK(world.ended == world.created, "%lu sessions made, %lu ends reported", world.created, world.ended);
        FUZZ_CHECK(sptr_live_count() == shared, "%lu shared objects are held with the manager empty",
                   sptr_live_count() - shared);

        world.loop = event_loop_free(world.loop);
        world.manager = resource_manager_free(world.manager);
        world.server = rtc_server_free(world.server);
        FUZZ_CHECK(world.ended == world.created, "the server's stop reported a session's end again");
        return 0;
}
