/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes solutions/gb-sessions: what GB28181 devices control, the SIP-like messages they send on their
 * connections and when they connect and hang up. An input is a script, one step a line, over four device
 * ends of a connection (slots 0 to 3):
 *
 *   s I   m I        a device connects a SIP (media) connection in slot I (hanging up the one before)
 *   r I N EXPIRES    REGISTER of device N's id (20 digits), with EXPIRES
 *   R I FILL ID      REGISTER as raw bytes: the whole message filled with the byte FILL, then ID (the rest of
 *                    the line, up to GB_DEVICE_ID_MAX bytes, no NUL added) copied over its device id
 *   i I   b I        INVITE 200 OK; BYE
 *   x I TYPE SSRC SIZE   any message type (TYPE: a number, valid or not), with an SSRC and a size
 *   p I SSRC SIZE    a PS pack of SIZE bytes of stream SSRC (0: the last SSRC an INVITE named)
 *   d I              the device reads what the server sent it (an INVITE's SSRC is remembered)
 *   c I              the device hangs up slot I
 *   t N              N % 64 rounds of the server, 100 ms each     T MS   time jumps MS (at most 10 minutes)
 *
 * The server runs with a connecting timeout of 1 s and a re-INVITE wait of 0.5 s, so that an input reaches
 * every timeout in a few rounds.
 *
 * Invariants (gb28181.h, resource_manager.h, executor.h): a session's end is reported with a well-formed
 * device id (20 digits and their NUL), and no more often than devices registered; the manager's zombies
 * are gone after every round (its dispose runs at the end of each); and once every device has hung up,
 * the server's own cycles end every session and connection: within 1,000 rounds of 300 ms the manager is
 * empty, nothing runs, and every shared object (sessions, connections, executors, transports) is freed,
 * before the server stops (sptr_live_count() back where it was). Memory: LeakSanitizer.
 */
#include "executor.h"
#include "gb28181.h"
#include "resource_manager.h"
#include "transport.h"

#include <errno.h>

#include "fuzz.h"
#include "sptr.h"

#define SLOTS 4
#define ROUND_MS 100
#define JUMP_CAP_MS (10 * 60 * 1000)
#define DRAIN_ROUNDS 1000

struct world {
        msec_t now;
        struct resource_manager *manager;
        struct event_loop *loop;
        struct gb_listener *listener;
        struct transport *devices[SLOTS]; /* +1: the device's end */
        uint32_t last_ssrc;
        unsigned long registers, ends;
};

static msec_t world_clock(void *userdata)
{
        return ((const struct world *) userdata)->now;
}

static void on_session_end(const char *device_id, enum gb_session_end why, void *userdata)
{
        struct world *world = userdata;
        size_t length = strnlen(device_id, GB_DEVICE_ID_MAX);

        world->ends++;
        FUZZ_CHECK(why == GB_END_BYE || why == GB_END_TIMEOUT, "a session ended for reason %d", why);
        FUZZ_CHECK(length == GB_DEVICE_ID_MAX - 1 && strspn(device_id, "0123456789") == length,
                   "a session of a malformed device id ended (%zu bytes)", length);
        FUZZ_CHECK(world->ends <= world->registers, "%lu sessions ended, but devices registered only %lu times",
                   world->ends, world->registers);
}

static void round_once(struct world *world, msec_t ms)
{
        world->now += ms;
        event_loop_run_once(world->loop);
        FUZZ_CHECK(resource_manager_zombies(world->manager) == 0, "%zu zombies outlived the round's dispose",
                   resource_manager_zombies(world->manager));
}

static void hang_up(struct world *world, unsigned slot)
{
        if (!world->devices[slot])
                return;
        transport_device_close(world->devices[slot]);
        world->devices[slot] = sptr_unref(world->devices[slot]);
}

static void device_send(struct world *world, unsigned slot, const struct gb_message *message)
{
        int r = transport_device_send(world->devices[slot], message);

        FUZZ_CHECK(r == 0 || r == -EPIPE || r == -ENOBUFS, "transport_device_send() returned %d", r);
        if (r == 0 && message->type == GB_MSG_REGISTER && message->expires != 0)
                world->registers++;
}

static void device_read(struct world *world, unsigned slot)
{
        struct gb_message message;

        while (transport_device_receive(world->devices[slot], &message) == 0)
                if (message.type == GB_MSG_INVITE)
                        world->last_ssrc = message.ssrc;
}

static void step(struct world *world, struct fuzz_line *line)
{
        int op = fuzz_op(line);
        struct gb_message message = { 0 };
        unsigned slot, rounds;
        char id[GB_DEVICE_ID_MAX + 1];
        size_t length;
        uint64_t ms;
        int r;

        if (op == 't') {
                for (rounds = (unsigned) (fuzz_number(line) % 64); rounds > 0; rounds--)
                        round_once(world, ROUND_MS);
                return;
        }
        if (op == 'T') {
                ms = fuzz_number(line);
                round_once(world, ms > JUMP_CAP_MS ? JUMP_CAP_MS : ms);
                return;
        }
        slot = (unsigned) (fuzz_number(line) % SLOTS);
        if (op == 's' || op == 'm') {
                hang_up(world, slot);
                world->devices[slot] = transport_new();
                FUZZ_CHECK(world->devices[slot], "no transport (out of memory?)");
                r = op == 's' ? gb_listener_accept_sip(world->listener, world->devices[slot])
                              : gb_listener_accept_media(world->listener, world->devices[slot]);
                FUZZ_CHECK(r == 0, "accept failed: %d", r);
                return;
        }
        if (!world->devices[slot])
                return;
        switch (op) {
        case 'r':
                message.type = GB_MSG_REGISTER;
                snprintf(message.device_id, sizeof message.device_id, "3402000000132%07u",
                         (unsigned) (fuzz_number(line) % 10000000));
                message.expires = (unsigned) fuzz_number(line);
                device_send(world, slot, &message);
                break;
        case 'R':
                memset(&message, (int) (fuzz_number(line) & 0xff), sizeof message);
                message.type = GB_MSG_REGISTER;
                length = fuzz_rest(line, id, sizeof id);
                memcpy(message.device_id, id, length < GB_DEVICE_ID_MAX ? length : GB_DEVICE_ID_MAX);
                device_send(world, slot, &message);
                break;
        case 'i':
        case 'b':
                message.type = op == 'i' ? GB_MSG_INVITE_OK : GB_MSG_BYE;
                device_send(world, slot, &message);
                break;
        case 'x':
                message.type = (enum gb_message_type) (fuzz_number(line) % 10);
                message.ssrc = (uint32_t) fuzz_number(line);
                message.size = (uint32_t) fuzz_number(line);
                device_send(world, slot, &message);
                break;
        case 'p':
                message.type = GB_MSG_PS_PACK;
                message.ssrc = (uint32_t) fuzz_number(line);
                if (message.ssrc == 0)
                        message.ssrc = world->last_ssrc;
                message.size = (uint32_t) fuzz_number(line);
                device_send(world, slot, &message);
                break;
        case 'd':
                device_read(world, slot);
                break;
        case 'c':
                hang_up(world, slot);
                break;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_input in = fuzz_input(data, size);
        unsigned long shared = sptr_live_count();
        struct world world = { .now = 1000 };
        const struct gb_config config = { .connecting_timeout_ms = 1000, .reinvite_wait_ms = 500,
                                          .on_session_end = on_session_end, .userdata = &world };
        struct fuzz_line line;
        unsigned rounds = 0;

        world.manager = resource_manager_new();
        FUZZ_CHECK(world.manager, "no manager (out of memory?)");
        world.loop = event_loop_new(world.manager, world_clock, &world);
        FUZZ_CHECK(world.loop, "no loop (out of memory?)");
        world.listener = gb_listener_new(world.loop, world.manager, &config);
        FUZZ_CHECK(world.listener, "no listener (out of memory?)");

        while (fuzz_next_line(&in, &line))
                step(&world, &line);

        /* Every device hangs up; the server's own cycles must then end everything. */
        for (unsigned slot = 0; slot < SLOTS; slot++)
                hang_up(&world, slot);
        while (resource_manager_size(world.manager) > 0 && rounds++ < DRAIN_ROUNDS)
                round_once(&world, 300);
        FUZZ_CHECK(resource_manager_size(world.manager) == 0 && event_loop_running(world.loop) == 0,
                   "%zu resources (%zu cycles running) are left %d rounds after every device hung up",
                   resource_manager_size(world.manager), event_loop_running(world.loop), DRAIN_ROUNDS);
        FUZZ_CHECK(sptr_live_count() == shared, "%lu shared objects are held with the manager empty",
                   sptr_live_count() - shared);

        world.loop = event_loop_free(world.loop);
        world.manager = resource_manager_free(world.manager);
        world.listener = gb_listener_free(world.listener);
        return 0;
}
