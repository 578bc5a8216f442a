/* SPDX-License-Identifier: MIT */
/*
 * Tests for gb-sessions. The same file tests the kata and its solution: do not edit it to make the kata pass.
 *
 * How these tests are built. The kata's bug is a reference cycle: once a device has left, its session and
 * its connections hold each other and are never freed, but everything they DO is right: messages, states,
 * the manager's bookkeeping, the end-of-session callback. So every ck_assert below is about behaviour that
 * the leaky code gets right too, and `make check DETECTOR=none` is green on the kata. Whether the objects
 * are freed is checked as held memory, while the server still runs: once a test's devices have left,
 * sptr_live_count() must be back where the test began (kata_assert_released), and the churn test asserts
 * that the heap is back at its baseline. Both are skipped under DETECTOR=none; KATA_TEST also fails a test
 * that leaves memory behind. The connections whose release a test asserts directly (sptr_count() of their
 * transport), the SIP or media connection a device replaced, are freed by the leaky code too: their
 * session let go of them.
 *
 * Freeing too early shows up as a memory error (Valgrind, ASan) or an abort (sptr's checks), and never
 * freeing the manager's zombies as a behaviour failure: they stay counted in the manager. The wrong fixes
 * in wrong-fixes/ each fail some of these tests.
 *
 * Error paths: the allocation-failure sweep (make check, once the tests pass) runs each test again with one
 * allocation failing; a failed ck_assert is expected there. What a failing accept or REGISTER must still do
 * (say so, keep nothing) is checked with kata_assert_error_path(), which the sweep counts.
 *
 * The test plays the devices: it holds one end of each transport, sends SIP messages and PS packs, and
 * reads what the server answers. Time is a variable: run_for() advances it 100 ms per round.
 */
#include "kata_test.h"

/* Angle brackets: the headers of the folder being built (kata or solution). */
#include <executor.h>
#include <gb28181.h>
#include <resource_manager.h>
#include <transport.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "sptr.h"

#define ROUND_MS 100
#define PACK_SIZE 1400 /* about one RTP packet of a PS stream */

/* ---- The server, its clock, and what it reported ---- */

struct world {
        msec_t now;
        struct resource_manager *manager;
        struct event_loop *loop;
        struct gb_listener *listener;
        unsigned ended[GB_END_TIMEOUT + 1]; /* on_session_end() calls, by reason */
        msec_t ended_at;
        unsigned long live_at_start; /* sptr_live_count() when the server started */
};

/*
 * The server a test is running (copies of its pointers: the world itself is on the test's stack). A failed
 * assertion leaves the test at once (Check runs the tests in one process), so the fixture's teardown stops
 * the server the test could not stop; without it, the test's leak report would blame the manager and the
 * loop too.
 */
static struct {
        struct event_loop *loop;
        struct resource_manager *manager;
        struct gb_listener *listener;
} leftover;

static msec_t world_clock(void *userdata)
{
        return ((const struct world *) userdata)->now;
}

static void record_session_end(const char *device_id, enum gb_session_end why, void *userdata)
{
        struct world *world = userdata;

        (void) device_id;
        world->ended[why]++;
        world->ended_at = world->now;
}

/* A server with the default configuration (config NULL) or the one given; the defaults report every
 * session's end to world->ended. */
static void world_init_with(struct world *world, const struct gb_config *config)
{
        const struct gb_config recording = { .on_session_end = record_session_end, .userdata = world };

        *world = (struct world){ .now = 1000, .live_at_start = sptr_live_count() };
        world->manager = leftover.manager = resource_manager_new();
        ck_assert_ptr_nonnull(world->manager);
        world->loop = leftover.loop = event_loop_new(world->manager, world_clock, world);
        ck_assert_ptr_nonnull(world->loop);
        world->listener = leftover.listener = gb_listener_new(world->loop, world->manager,
                                                              config ? config : &recording);
        ck_assert_ptr_nonnull(world->listener);
}

static void world_init(struct world *world)
{
        world_init_with(world, NULL);
}

/* Stops the server: whatever still runs is dropped by the manager. */
static void world_fini(struct world *world)
{
        world->loop = event_loop_free(world->loop);
        world->manager = resource_manager_free(world->manager);
        world->listener = gb_listener_free(world->listener);
        leftover.loop = NULL;
        leftover.manager = NULL;
        leftover.listener = NULL;
}

static void stop_leftover_world(void)
{
        leftover.loop = event_loop_free(leftover.loop);
        leftover.manager = resource_manager_free(leftover.manager);
        leftover.listener = gb_listener_free(leftover.listener);
}

/*
 * Stops the server once the test's devices have left and let go of their ends. Whatever the server made for
 * them (sessions, connections, executors, transports: sptr_live_count() counts them all) must be freed
 * before that, while the server runs: a release that only the stop brings is held memory, and fails the
 * test here (skipped with DETECTOR=none). Objects the stop does not free either are a plain leak: the leak
 * check after the test reports them, with where they were allocated.
 */
static void stop_the_server_at(const char *file, int line, struct world *world, const char *who)
{
        unsigned long held = sptr_live_count();

        world_fini(world);
        if (sptr_live_count() == world->live_at_start)
                kata_assert_released_at(file, line, (long) held, (long) world->live_at_start,
                                        "GB objects of %s, freed only by the server's stop, were", who);
}
#define stop_the_server(world, who) stop_the_server_at(__FILE__, __LINE__, (world), (who))

/* ---- A device ---- */

struct device {
        char id[GB_DEVICE_ID_MAX];
        struct transport *sip;   /* +1: the device's end */
        struct transport *media; /* +1, or NULL */
        uint32_t ssrc;           /* from the last INVITE */
        unsigned register_oks, invites, acks, bye_oks;
        msec_t invited_at[8];
};

static void device_init(struct device *device, unsigned number)
{
        *device = (struct device){ 0 };
        snprintf(device->id, sizeof device->id, "3402000000132%07u", number);
}

static void device_fini(struct device *device)
{
        device->sip = sptr_unref(device->sip);
        device->media = sptr_unref(device->media);
}

/* Reads what the server sent on the device's SIP connection. */
static void device_poll(struct device *device, msec_t now)
{
        struct gb_message message;

        while (device->sip && transport_device_receive(device->sip, &message) == 0) {
                switch (message.type) {
                case GB_MSG_REGISTER_OK:
                        device->register_oks++;
                        break;
                case GB_MSG_INVITE:
                        if (device->invites < sizeof device->invited_at / sizeof device->invited_at[0])
                                device->invited_at[device->invites] = now;
                        device->invites++;
                        device->ssrc = message.ssrc;
                        break;
                case GB_MSG_ACK:
                        device->acks++;
                        break;
                case GB_MSG_BYE_OK:
                        device->bye_oks++;
                        break;
                default:
                        break;
                }
        }
}

/* Runs the server for ms of its time, one round every ROUND_MS; the device (may be NULL) reads its mail
 * after every round. */
static void run_for(struct world *world, struct device *device, msec_t ms)
{
        for (msec_t elapsed = 0; elapsed < ms; elapsed += ROUND_MS) {
                world->now += ROUND_MS;
                event_loop_run_once(world->loop);
                if (device)
                        device_poll(device, world->now);
        }
}

static int device_send_packs(struct device *device, unsigned n);

/* The same, while the device streams one pack a round, as a camera does until the server hangs up on it. */
static void run_streaming(struct world *world, struct device *device, msec_t ms)
{
        for (msec_t elapsed = 0; elapsed < ms; elapsed += ROUND_MS) {
                (void) device_send_packs(device, 1); /* -EPIPE once the server has hung up */
                run_for(world, device, ROUND_MS);
        }
}

static int device_send(struct transport *transport, const struct device *device, enum gb_message_type type,
                       unsigned expires)
{
        struct gb_message message = { .type = type, .expires = expires, .ssrc = device->ssrc };

        if (!transport)
                return -ENOTCONN; /* its connect failed (out of memory) */
        memcpy(message.device_id, device->id, sizeof message.device_id);
        return transport_device_send(transport, &message);
}

/* The objects alive but the manager's zombies (which its next round frees). */
static long live_but_zombies(const struct world *world)
{
        return (long) sptr_live_count() - (long) resource_manager_zombies(world->manager);
}

/*
 * An accept that runs out of memory (the allocation-failure sweep fails each call it makes, in turn) says so
 * and keeps nothing of the connection it could not make, but a zombie that the next round frees: checked
 * when a call failed inside `what`, and counted by the sweep (kata_assert_error_path).
 */
static int accept_checked(struct world *world, struct transport *transport,
                          int (*accept)(struct gb_listener *, struct transport *), const char *what)
{
        bool failed = kata_call_failed();
        long live = live_but_zombies(world);
        int r = accept(world->listener, transport);

        if (failed || !kata_call_failed())
                return r;
        kata_assert_error_path(r == -ENOMEM, "%s returned %d when out of memory, not -ENOMEM", what, r);
        kata_assert_error_path(live_but_zombies(world) == live, "%s out of memory left %ld objects alive",
                               what, live_but_zombies(world) - live);
        return r;
}

static int device_connect_sip(struct world *world, struct device *device)
{
        device->sip = transport_new();
        if (!device->sip)
                return -ENOMEM;
        return accept_checked(world, device->sip, gb_listener_accept_sip, "gb_listener_accept_sip()");
}

static int device_connect_media(struct world *world, struct device *device)
{
        device->media = transport_new();
        if (!device->media)
                return -ENOMEM;
        return accept_checked(world, device->media, gb_listener_accept_media, "gb_listener_accept_media()");
}

/* n PS packs on the device's media connection: 0, or what the first failed send said. */
static int device_send_packs(struct device *device, unsigned n)
{
        struct gb_message pack = { .type = GB_MSG_PS_PACK, .ssrc = device->ssrc, .size = PACK_SIZE };
        int r = device->media ? 0 : -ENOTCONN;

        for (unsigned i = 0; i < n && r == 0; i++)
                r = transport_device_send(device->media, &pack);
        return r;
}

/* The device hangs up its media connection (a network glitch, a camera reboot). */
static void device_lose_media(struct device *device)
{
        transport_device_close(device->media);
        device->media = sptr_unref(device->media);
}

/* REGISTER, wait for the INVITE, answer it, connect the media and stream: the device is established. */
static void device_start_streaming(struct world *world, struct device *device)
{
        bool failed;

        ck_assert_int_eq(device_connect_sip(world, device), 0);
        failed = kata_call_failed();
        ck_assert_int_eq(device_send(device->sip, device, GB_MSG_REGISTER, 3600), 0);
        run_for(world, device, 1000);
        if (!failed && kata_call_failed()) {
                /* Out of memory for the device's session: the REGISTER is refused (the connection ends, the
                 * device registers again later), and nothing of it stays in the server. */
                kata_assert_error_path(device->register_oks == 0 && transport_closed_by_server(device->sip),
                                       "a REGISTER whose session could not be made got %u REGISTER OK and its "
                                       "connection %s", device->register_oks,
                                       transport_closed_by_server(device->sip) ? "ended" : "open");
                kata_assert_error_path(!gb_session_find(world->manager, device->id),
                                       "a session that could not start is still found by its device id");
                kata_assert_error_path(sptr_count(device->sip) == 1,
                                       "the server still holds the refused SIP connection");
        }
        ck_assert_uint_eq(device->register_oks, 1);
        ck_assert_uint_eq(device->invites, 1);

        ck_assert_int_eq(device_send(device->sip, device, GB_MSG_INVITE_OK, 0), 0);
        ck_assert_int_eq(device_connect_media(world, device), 0);
        ck_assert_int_eq(device_send_packs(device, 10), 0);
        run_for(world, device, 1000);
        ck_assert_uint_eq(device->acks, 1);
}

/* ---- The transport, the resource manager and the executor ---- */

/* The tests' stand-in for TCP: in order, bounded, and what was sent before a close is still delivered. */
KATA_TEST(transport_delivers_in_order_until_closed)
{
        _cleanup_sptr_ struct transport *transport = transport_new();
        struct gb_message message = { .type = GB_MSG_PS_PACK };
        unsigned sent = 0;

        ck_assert_ptr_nonnull(transport);
        ck_assert_int_eq(transport_server_read(transport, &message), -EAGAIN);
        for (; transport_device_send(transport, &message) == 0; message.size++)
                sent++;
        ck_assert_uint_gt(sent, 0);
        ck_assert_int_eq(transport_device_send(transport, &message), -ENOBUFS);
        transport_device_close(transport);
        ck_assert_int_eq(transport_device_send(transport, &message), -EPIPE);
        ck_assert_int_eq(transport_server_write(transport, &message), -EPIPE);
        for (unsigned i = 0; i < sent; i++) {
                ck_assert_int_eq(transport_server_read(transport, &message), 0);
                ck_assert_uint_eq(message.size, i);
        }
        ck_assert_int_eq(transport_server_read(transport, &message), -EPIPE);
        ck_assert(!transport_closed_by_server(transport));
        transport_server_close(transport);
        ck_assert(transport_closed_by_server(transport));
        ck_assert_int_eq(transport_device_receive(transport, &message), -EPIPE);
}

/* A resource that counts its destruction and scripts its cycle. */
struct probe {
        unsigned *destroyed;
        unsigned steps, steps_until_done;
        msec_t last_step_at;
        unsigned done_calls;
        int done_result;
        struct executor *executor;
};

static void probe_destroy(void *object)
{
        struct probe *probe = object;

        (*probe->destroyed)++;
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
}

static const struct executor_handler probe_handler = { .step = probe_step, .on_done = probe_on_done };

KATA_TEST(manager_finds_resources_until_they_are_removed)
{
        unsigned destroyed = 0;
        struct resource_manager *manager = resource_manager_new();
        struct probe *a = probe_new(&destroyed), *b = probe_new(&destroyed), *c = probe_new(&destroyed);
        _cleanup_sptr_ struct probe *stranger = probe_new(&destroyed);
        char long_id[RESOURCE_ID_MAX + 1];
        bool failed;
        int r;

        ck_assert_ptr_nonnull(manager);
        failed = kata_call_failed();
        r = resource_manager_add_with_fast_id(manager, 340200001, b);
        if (!failed && kata_call_failed())
                kata_assert_error_path(r == -ENOMEM && resource_manager_size(manager) == 0,
                                       "add_with_fast_id() out of memory returned %d and holds %zu resources", r,
                                       resource_manager_size(manager));
        ck_assert_int_eq(r, 0);
        ck_assert_int_eq(resource_manager_add_with_id(manager, "34020000001320000001", a), 0);
        ck_assert_int_eq(resource_manager_add(manager, c), 0);
        ck_assert_int_eq(resource_manager_add(manager, c), 0);
        ck_assert_int_eq(resource_manager_add_with_id(manager, "", c), -EINVAL);
        memset(long_id, '3', RESOURCE_ID_MAX);
        long_id[RESOURCE_ID_MAX] = '\0';
        ck_assert_int_eq(resource_manager_add_with_id(manager, long_id, c), -EINVAL);
        ck_assert_uint_eq(resource_manager_size(manager), 3);
        ck_assert_uint_eq(sptr_count(c), 2); /* ours and the manager's, once */
        ck_assert_ptr_eq(resource_manager_find_by_id(manager, "34020000001320000001"), a);
        ck_assert_ptr_eq(resource_manager_find_by_fast_id(manager, 340200001), b);
        ck_assert_ptr_null(resource_manager_find_by_id(manager, "34020000001320000002"));
        ck_assert_ptr_null(resource_manager_find_by_fast_id(manager, 340200002));

        /* Removing what the manager does not hold changes nothing. */
        resource_manager_remove(manager, stranger);
        ck_assert_uint_eq(resource_manager_zombies(manager), 0);

        /* Removed: no longer found, but not freed before the manager's cycle. */
        resource_manager_remove(manager, a);
        ck_assert_ptr_null(resource_manager_find_by_id(manager, "34020000001320000001"));
        ck_assert_uint_eq(resource_manager_zombies(manager), 1);
        a = sptr_unref(a);
        ck_assert_uint_eq(destroyed, 0);
        resource_manager_dispose(manager);
        ck_assert_uint_eq(destroyed, 1);
        ck_assert_uint_eq(resource_manager_size(manager), 2);
        ck_assert_uint_eq(resource_manager_zombies(manager), 0);

        b = sptr_unref(b);
        c = sptr_unref(c);
        ck_assert_uint_eq(destroyed, 1);
        manager = resource_manager_free(manager);
        ck_assert_uint_eq(destroyed, 3);
        ck_assert_ptr_null(resource_manager_free(NULL));
        ck_assert_ptr_null(event_loop_free(NULL));
}

KATA_TEST(manager_disposes_a_resource_removed_twice_once)
{
        unsigned destroyed = 0;
        struct resource_manager *manager = resource_manager_new();
        _cleanup_sptr_ struct probe *probe = probe_new(&destroyed);

        ck_assert_ptr_nonnull(manager);
        ck_assert_int_eq(resource_manager_add(manager, probe), 0);
        resource_manager_remove(manager, probe);
        resource_manager_remove(manager, probe);
        ck_assert_uint_eq(resource_manager_zombies(manager), 1);
        resource_manager_dispose(manager);
        resource_manager_dispose(manager);
        ck_assert_uint_eq(sptr_count(probe), 1); /* the manager released its reference, once */
        ck_assert_uint_eq(resource_manager_size(manager), 0);
        resource_manager_free(manager);
        ck_assert_uint_eq(destroyed, 0);
}

/* A resource removed after the loop's last round is still the manager's: freeing the manager releases it. */
KATA_TEST(manager_freed_with_zombies_releases_them)
{
        unsigned destroyed = 0;
        struct resource_manager *manager = resource_manager_new();
        struct probe *removed = probe_new(&destroyed), *kept = probe_new(&destroyed);

        ck_assert_ptr_nonnull(manager);
        ck_assert_int_eq(resource_manager_add(manager, removed), 0);
        ck_assert_int_eq(resource_manager_add(manager, kept), 0);
        resource_manager_remove(manager, removed);
        ck_assert_uint_eq(resource_manager_zombies(manager), 1);
        removed = sptr_unref(removed);
        kept = sptr_unref(kept);
        ck_assert_uint_eq(destroyed, 0);
        manager = resource_manager_free(manager);
        ck_assert_msg(destroyed == 2, "%u of 2 resources freed with the manager: a zombie it never disposed of "
                      "must go too", destroyed);
}

KATA_TEST(executor_tells_its_owner_once_and_leaves_the_manager)
{
        unsigned destroyed = 0;
        struct world world = { .now = 5000 };
        struct probe *probe = probe_new(&destroyed);

        world.manager = resource_manager_new();
        ck_assert_ptr_nonnull(world.manager);
        world.loop = event_loop_new(world.manager, world_clock, &world);
        ck_assert_ptr_nonnull(world.loop);
        ck_assert_int_eq(resource_manager_add(world.manager, probe), 0);
        probe->steps_until_done = 3;
        probe->executor = executor_start(world.loop, probe, &probe_handler);
        ck_assert_ptr_nonnull(probe->executor);
        ck_assert_uint_eq(resource_manager_size(world.manager), 2); /* the probe and its executor */
        ck_assert_uint_eq(event_loop_running(world.loop), 1);

        run_for(&world, NULL, 2 * ROUND_MS);
        ck_assert_uint_eq(probe->steps, 2);
        ck_assert_uint_eq(probe->done_calls, 0);

        /* The third step ends the cycle: on_done once, then the probe and its executor leave the manager,
         * which frees them at the end of the same round. The test's own reference keeps the probe. */
        run_for(&world, NULL, 3 * ROUND_MS);
        ck_assert_uint_eq(probe->steps, 3);
        ck_assert_uint_eq(probe->done_calls, 1);
        ck_assert_int_eq(probe->done_result, EXECUTOR_DONE);
        ck_assert_ptr_null(probe->executor);
        ck_assert_uint_eq(resource_manager_size(world.manager), 0);
        ck_assert_uint_eq(resource_manager_zombies(world.manager), 0);
        ck_assert_uint_eq(event_loop_running(world.loop), 0);
        ck_assert_uint_eq(sptr_count(probe), 1);
        ck_assert_uint_eq(destroyed, 0);
        probe = sptr_unref(probe);
        ck_assert_uint_eq(destroyed, 1);

        world.loop = event_loop_free(world.loop);
        world.manager = resource_manager_free(world.manager);
}

/* Eight cycles on one loop, ending in eight different rounds: each is told once, in its own round, and the
 * others run on. */
KATA_TEST(loop_runs_many_cycles_and_ends_each_in_its_round)
{
        enum { N = 8 };
        unsigned destroyed = 0;
        struct world world = { .now = 5000 };
        struct probe *probes[N];

        world.manager = resource_manager_new();
        ck_assert_ptr_nonnull(world.manager);
        world.loop = event_loop_new(world.manager, world_clock, &world);
        ck_assert_ptr_nonnull(world.loop);
        for (unsigned i = 0; i < N; i++) {
                probes[i] = probe_new(&destroyed);
                probes[i]->steps_until_done = N - i; /* the last one started ends first */
                ck_assert_int_eq(resource_manager_add(world.manager, probes[i]), 0);
        }
        for (unsigned i = 0; i < N; i++) {
                probes[i]->executor = executor_start(world.loop, probes[i], &probe_handler);
                ck_assert_ptr_nonnull(probes[i]->executor);
        }
        ck_assert_uint_eq(resource_manager_size(world.manager), 2 * N);

        for (unsigned round = 1; round <= N; round++) {
                run_for(&world, NULL, ROUND_MS);
                ck_assert_uint_eq(event_loop_running(world.loop), N - round);
                ck_assert_uint_eq(resource_manager_size(world.manager), 2 * (N - round));
                for (unsigned i = 0; i < N; i++) {
                        bool over = probes[i]->steps_until_done <= round;

                        ck_assert_uint_eq(probes[i]->steps, over ? probes[i]->steps_until_done : round);
                        ck_assert_uint_eq(probes[i]->done_calls, over ? 1 : 0);
                }
        }
        for (unsigned i = 0; i < N; i++) {
                ck_assert_int_eq(probes[i]->done_result, EXECUTOR_DONE);
                probes[i] = sptr_unref(probes[i]);
        }
        ck_assert_uint_eq(destroyed, N);

        world.loop = event_loop_free(world.loop);
        world.manager = resource_manager_free(world.manager);
}

KATA_TEST(interrupted_executor_ends_without_another_step)
{
        unsigned destroyed = 0;
        struct world world = { .now = 5000 };
        _cleanup_sptr_ struct probe *probe = probe_new(&destroyed);

        world.manager = resource_manager_new();
        ck_assert_ptr_nonnull(world.manager);
        world.loop = event_loop_new(world.manager, world_clock, &world);
        ck_assert_ptr_nonnull(world.loop);
        ck_assert_int_eq(resource_manager_add(world.manager, probe), 0);
        probe->executor = executor_start(world.loop, probe, &probe_handler);
        ck_assert_ptr_nonnull(probe->executor);

        run_for(&world, NULL, ROUND_MS);
        ck_assert_uint_eq(probe->steps, 1);
        ck_assert_uint_eq(probe->last_step_at, 5100); /* the injected clock */
        executor_interrupt(probe->executor);
        run_for(&world, NULL, 3 * ROUND_MS);
        ck_assert_uint_eq(probe->steps, 1);
        ck_assert_uint_eq(probe->done_calls, 1);
        ck_assert_int_eq(probe->done_result, -EINTR);
        ck_assert_ptr_null(probe->executor);
        ck_assert_uint_eq(resource_manager_size(world.manager), 0);
        ck_assert_uint_eq(sptr_count(probe), 1); /* only ours is left */

        world.loop = event_loop_free(world.loop);
        world.manager = resource_manager_free(world.manager);
        ck_assert_uint_eq(destroyed, 0);
}

/* ---- A device's life ---- */

KATA_TEST(device_registers_streams_and_says_bye)
{
        struct world world;
        struct device device;
        struct gb_session *session;

        world_init(&world);
        device_init(&device, 1);

        ck_assert_int_eq(device_connect_sip(&world, &device), 0);
        ck_assert_int_eq(device_send(device.sip, &device, GB_MSG_REGISTER, 3600), 0);
        run_for(&world, &device, ROUND_MS);
        ck_assert_uint_eq(device.register_oks, 1);
        session = gb_session_find(world.manager, device.id);
        ck_assert_ptr_nonnull(session);

        /* The session INVITEs the device at its first drive, with the SSRC it is then found by. */
        run_for(&world, &device, GB_SESSION_DRIVE_INTERVAL_MS);
        ck_assert_uint_eq(device.invites, 1);
        ck_assert_uint_eq(device.ssrc, gb_session_ssrc(session));
        ck_assert_int_eq(gb_session_state(session), GB_SESSION_CONNECTING);
        ck_assert_ptr_eq(resource_manager_find_by_fast_id(world.manager, device.ssrc), session);

        ck_assert_int_eq(device_send(device.sip, &device, GB_MSG_INVITE_OK, 0), 0);
        ck_assert_int_eq(device_connect_media(&world, &device), 0);
        ck_assert_int_eq(device_send_packs(&device, 10), 0);
        run_for(&world, &device, 1000);
        ck_assert_uint_eq(device.acks, 1);
        ck_assert_int_eq(gb_session_state(session), GB_SESSION_ESTABLISHED);
        ck_assert_uint_eq(gb_session_packs(session), 10);
        /* The session, its SIP and its media connection, and the executor of each. */
        ck_assert_uint_eq(resource_manager_size(world.manager), 6);
        ck_assert_uint_eq(event_loop_running(world.loop), 3);

        /* A refresh, as a device sends before its registration expires: same session, no new INVITE. A
         * retransmitted 200 OK and a message the server does not expect change nothing either. */
        ck_assert_int_eq(device_send(device.sip, &device, GB_MSG_REGISTER, 3600), 0);
        ck_assert_int_eq(device_send(device.sip, &device, GB_MSG_INVITE_OK, 0), 0);
        ck_assert_int_eq(device_send(device.sip, &device, GB_MSG_BYE_OK, 0), 0);
        run_for(&world, &device, 1000);
        ck_assert_uint_eq(device.register_oks, 2);
        ck_assert_uint_eq(device.acks, 1);
        ck_assert_ptr_eq(gb_session_find(world.manager, device.id), session);
        ck_assert_int_eq(gb_session_state(session), GB_SESSION_ESTABLISHED);
        ck_assert_uint_eq(device.invites, 1);

        ck_assert_int_eq(device_send(device.sip, &device, GB_MSG_BYE, 0), 0);
        run_streaming(&world, &device, 1000);
        ck_assert_uint_eq(device.bye_oks, 1);
        ck_assert_uint_eq(world.ended[GB_END_BYE], 1);
        ck_assert_uint_eq(world.ended[GB_END_TIMEOUT], 0);
        /* The session ended its connections, and the manager let go of all six. */
        ck_assert(transport_closed_by_server(device.sip));
        ck_assert(transport_closed_by_server(device.media));
        ck_assert_int_eq(device_send_packs(&device, 1), -EPIPE);
        ck_assert_ptr_null(gb_session_find(world.manager, device.id));
        ck_assert_ptr_null(resource_manager_find_by_fast_id(world.manager, device.ssrc));
        ck_assert_uint_eq(resource_manager_size(world.manager), 0);
        ck_assert_uint_eq(resource_manager_zombies(world.manager), 0);
        ck_assert_uint_eq(event_loop_running(world.loop), 0);

        device_fini(&device);
        stop_the_server(&world, "a device that said BYE");
}

/* A camera that said BYE and registers again later (a reboot) gets a new session, INVITEd with a new SSRC:
 * the one it had is gone, and nothing may still lead to it. */
KATA_TEST(device_that_left_registers_again_and_gets_a_new_session)
{
        struct world world;
        struct device device;
        struct gb_session *session;
        uint32_t first_ssrc;

        world_init(&world);
        device_init(&device, 11);
        device_start_streaming(&world, &device);
        first_ssrc = device.ssrc;
        ck_assert_int_eq(device_send(device.sip, &device, GB_MSG_BYE, 0), 0);
        run_streaming(&world, &device, 1000);
        ck_assert_uint_eq(world.ended[GB_END_BYE], 1);
        ck_assert_uint_eq(resource_manager_size(world.manager), 0);
        device_fini(&device);

        device.register_oks = device.invites = device.acks = 0;
        device_start_streaming(&world, &device);
        session = gb_session_find(world.manager, device.id);
        ck_assert_ptr_nonnull(session);
        ck_assert_uint_ne(device.ssrc, first_ssrc);
        ck_assert_uint_eq(gb_session_ssrc(session), device.ssrc);
        ck_assert_int_eq(gb_session_state(session), GB_SESSION_ESTABLISHED);

        ck_assert_int_eq(device_send(device.sip, &device, GB_MSG_BYE, 0), 0);
        run_streaming(&world, &device, 1000);
        ck_assert_uint_eq(world.ended[GB_END_BYE], 2);
        device_fini(&device);
        stop_the_server(&world, "a device that left, came back and left again");
}

KATA_TEST(lost_media_is_reinvited_after_the_wait)
{
        struct world world;
        struct device device;
        struct gb_session *session;
        msec_t lost_at;

        world_init(&world);
        device_init(&device, 2);
        device_start_streaming(&world, &device);
        session = gb_session_find(world.manager, device.id);
        ck_assert_ptr_nonnull(session);
        ck_assert_int_eq(gb_session_state(session), GB_SESSION_ESTABLISHED);

        /* The media connection drops: its cycle ends and the manager lets go of it, but the session still
         * holds it, and waits GB_REINVITE_WAIT_MS for the device to come back by itself. */
        device_lose_media(&device);
        lost_at = world.now;
        run_for(&world, &device, GB_REINVITE_WAIT_MS);
        ck_assert_uint_eq(resource_manager_size(world.manager), 4);
        ck_assert_uint_eq(event_loop_running(world.loop), 2);
        ck_assert_uint_eq(device.invites, 1);

        run_for(&world, &device, 1000);
        ck_assert_uint_eq(device.invites, 2);
        ck_assert_uint_gt(device.invited_at[1] - lost_at, GB_REINVITE_WAIT_MS);
        /* Seen at the next drive, reset at the first drive past the wait, INVITEd at the drive after. */
        ck_assert_uint_le(device.invited_at[1] - lost_at, GB_REINVITE_WAIT_MS + 3 * GB_SESSION_DRIVE_INTERVAL_MS);
        ck_assert_int_eq(gb_session_state(session), GB_SESSION_CONNECTING);
        ck_assert_uint_eq(device.ssrc, gb_session_ssrc(session));

        /* The device answers and streams again, on a new media connection. */
        ck_assert_int_eq(device_send(device.sip, &device, GB_MSG_INVITE_OK, 0), 0);
        ck_assert_int_eq(device_connect_media(&world, &device), 0);
        ck_assert_int_eq(device_send_packs(&device, 5), 0);
        run_for(&world, &device, 1000);
        ck_assert_uint_eq(device.acks, 2);
        ck_assert_int_eq(gb_session_state(session), GB_SESSION_ESTABLISHED);
        ck_assert_uint_eq(gb_session_packs(session), 15);
        ck_assert_uint_eq(resource_manager_size(world.manager), 6);

        ck_assert_int_eq(device_send(device.sip, &device, GB_MSG_BYE, 0), 0);
        run_streaming(&world, &device, 1000);
        ck_assert_uint_eq(device.bye_oks, 1);
        ck_assert_uint_eq(world.ended[GB_END_BYE], 1);
        ck_assert(transport_closed_by_server(device.sip));
        ck_assert(transport_closed_by_server(device.media));
        ck_assert_int_eq(device_send_packs(&device, 1), -EPIPE);
        ck_assert_uint_eq(resource_manager_size(world.manager), 0);
        ck_assert_uint_eq(event_loop_running(world.loop), 0);

        device_fini(&device);
        stop_the_server(&world, "a device that lost its media, came back and said BYE");
}

KATA_TEST(register_with_expires_zero_ends_the_session)
{
        struct world world;
        struct device device;

        world_init(&world);
        device_init(&device, 3);
        device_start_streaming(&world, &device);

        ck_assert_int_eq(device_send(device.sip, &device, GB_MSG_REGISTER, 0), 0);
        run_streaming(&world, &device, 1000);
        ck_assert_uint_eq(device.register_oks, 2);
        ck_assert_uint_eq(world.ended[GB_END_BYE], 1);
        ck_assert(transport_closed_by_server(device.sip));
        ck_assert(transport_closed_by_server(device.media));
        ck_assert_ptr_null(gb_session_find(world.manager, device.id));
        ck_assert_uint_eq(resource_manager_size(world.manager), 0);

        device_fini(&device);
        stop_the_server(&world, "a device that unregistered");
}

/*
 * The device comes back on a new SIP connection while its old one is still open (its NAT mapping changed, or
 * it restarted its SIP stack). The session is found by device id and reused as it is: still established,
 * no new INVITE. The kata ends the replaced connection at once, so that it is freed now; SRS never ends it:
 * it runs, with its socket, until the server stops (a difference the README lists).
 */
KATA_TEST(reconnecting_device_keeps_its_session_and_frees_the_old_connection)
{
        struct world world;
        struct device device;
        struct gb_session *session;
        _cleanup_sptr_ struct transport *old_sip = NULL;

        world_init(&world);
        device_init(&device, 4);
        device_start_streaming(&world, &device);
        session = gb_session_find(world.manager, device.id);
        ck_assert_ptr_nonnull(session);

        old_sip = TAKE_PTR(device.sip);
        device.register_oks = device.invites = 0;
        ck_assert_int_eq(device_connect_sip(&world, &device), 0);
        ck_assert_int_eq(device_send(device.sip, &device, GB_MSG_REGISTER, 3600), 0);
        run_for(&world, &device, 1000);

        ck_assert_uint_eq(device.register_oks, 1);
        ck_assert_ptr_eq(gb_session_find(world.manager, device.id), session);
        ck_assert_int_eq(gb_session_state(session), GB_SESSION_ESTABLISHED);
        ck_assert_uint_eq(device.invites, 0);
        /* The old connection was ended, and freed: it released its end of the transport. */
        ck_assert(transport_closed_by_server(old_sip));
        ck_assert_uint_eq(sptr_count(old_sip), 1);
        ck_assert_uint_eq(resource_manager_size(world.manager), 6);

        ck_assert_int_eq(device_send_packs(&device, 3), 0);
        run_for(&world, &device, 1000);
        ck_assert_uint_eq(gb_session_packs(session), 13);

        ck_assert_int_eq(device_send(device.sip, &device, GB_MSG_BYE, 0), 0);
        run_streaming(&world, &device, 1000);
        ck_assert_uint_eq(device.bye_oks, 1);
        ck_assert_uint_eq(world.ended[GB_END_BYE], 1);
        ck_assert(transport_closed_by_server(device.media));
        ck_assert_uint_eq(resource_manager_size(world.manager), 0);

        device_fini(&device);
        old_sip = sptr_unref(old_sip);
        stop_the_server(&world, "a device that came back on a second SIP connection and said BYE");
}

/* A session that ends ends its media connection too, even one that sends nothing more: an idle connection
 * left running would be held by the manager for as long as the device keeps its end open. */
KATA_TEST(ending_session_ends_its_idle_media_connection)
{
        struct world world;
        struct device device;

        world_init(&world);
        device_init(&device, 41);
        device_start_streaming(&world, &device);

        ck_assert_int_eq(device_send(device.sip, &device, GB_MSG_BYE, 0), 0);
        run_for(&world, &device, 1000); /* the camera stops streaming, and keeps its media connection open */
        ck_assert_uint_eq(world.ended[GB_END_BYE], 1);
        ck_assert_msg(transport_closed_by_server(device.media),
                      "the session ended, but its media connection still runs");
        ck_assert_uint_eq(resource_manager_size(world.manager), 0);
        ck_assert_uint_eq(event_loop_running(world.loop), 0);

        device_fini(&device);
        world_fini(&world);
}

/* A device that opens a new media connection for the same stream replaces the old one: the session ends the
 * old one at once, even if the old one stays open and idle. */
KATA_TEST(new_media_connection_ends_the_old_one)
{
        struct world world;
        struct device device;
        struct gb_session *session;
        _cleanup_sptr_ struct transport *old_media = NULL;

        world_init(&world);
        device_init(&device, 42);
        device_start_streaming(&world, &device);
        session = gb_session_find(world.manager, device.id);
        ck_assert_ptr_nonnull(session);

        old_media = TAKE_PTR(device.media);
        ck_assert_int_eq(device_connect_media(&world, &device), 0);
        ck_assert_int_eq(device_send_packs(&device, 3), 0);
        run_for(&world, &device, 1000);
        ck_assert_uint_eq(gb_session_packs(session), 13);
        ck_assert_msg(transport_closed_by_server(old_media),
                      "a newer media connection took over, but the old one still runs");
        ck_assert_uint_eq(sptr_count(old_media), 1); /* the old connection was freed: only our end is left */
        ck_assert_uint_eq(resource_manager_size(world.manager), 6);

        ck_assert_int_eq(device_send(device.sip, &device, GB_MSG_BYE, 0), 0);
        run_streaming(&world, &device, 1000);
        ck_assert_uint_eq(resource_manager_size(world.manager), 0);

        device_fini(&device);
        world_fini(&world);
}

/*
 * The device hangs up its SIP connection (its TCP connection broke) and registers again on a new one. The
 * old connection's cycle ended when the device hung up, so the manager let go of it; the session kept it,
 * with its state, until the new one took over, and then let go of it too.
 */
KATA_TEST(device_that_hung_up_comes_back_on_a_new_connection)
{
        struct world world;
        struct device device;
        struct gb_session *session;
        _cleanup_sptr_ struct transport *old_sip = NULL;

        world_init(&world);
        device_init(&device, 7);
        device_start_streaming(&world, &device);
        session = gb_session_find(world.manager, device.id);
        ck_assert_ptr_nonnull(session);

        transport_device_close(device.sip);
        ck_assert_int_eq(device_send(device.sip, &device, GB_MSG_BYE, 0), -EPIPE);
        run_for(&world, &device, 1000);
        ck_assert(transport_closed_by_server(device.sip));
        ck_assert_uint_eq(resource_manager_size(world.manager), 4); /* the session, its media, 2 executors */
        ck_assert_msg(sptr_count(device.sip) == 2, "the session no longer holds the SIP connection: its count is %u, "
                      "expected 2 (the test's reference and the session's)", sptr_count(device.sip));
        ck_assert_int_eq(device_send_packs(&device, 2), 0);
        run_for(&world, &device, 1000);
        ck_assert_int_eq(gb_session_state(session), GB_SESSION_ESTABLISHED);
        ck_assert_uint_eq(gb_session_packs(session), 12);

        old_sip = TAKE_PTR(device.sip);
        device.register_oks = 0;
        ck_assert_int_eq(device_connect_sip(&world, &device), 0);
        ck_assert_int_eq(device_send(device.sip, &device, GB_MSG_REGISTER, 3600), 0);
        run_for(&world, &device, 1000);
        ck_assert_uint_eq(device.register_oks, 1);
        ck_assert_ptr_eq(gb_session_find(world.manager, device.id), session);
        ck_assert_int_eq(gb_session_state(session), GB_SESSION_ESTABLISHED);
        ck_assert_uint_eq(device.invites, 1);
        ck_assert_uint_eq(sptr_count(old_sip), 1); /* the old connection is freed */
        ck_assert_uint_eq(resource_manager_size(world.manager), 6);

        ck_assert_int_eq(device_send(device.sip, &device, GB_MSG_BYE, 0), 0);
        run_streaming(&world, &device, 1000);
        ck_assert_uint_eq(world.ended[GB_END_BYE], 1);
        ck_assert_uint_eq(resource_manager_size(world.manager), 0);

        device_fini(&device);
        old_sip = sptr_unref(old_sip);
        stop_the_server(&world, "a device that hung up, came back and said BYE");
}

/* One SIP connection, one device: a REGISTER for another device ends the connection. */
KATA_TEST(sip_connection_serves_one_device)
{
        struct world world;
        struct device device, other;

        world_init(&world);
        device_init(&device, 8);
        device_init(&other, 9);
        ck_assert_int_eq(device_connect_sip(&world, &device), 0);
        ck_assert_int_eq(device_send(device.sip, &device, GB_MSG_REGISTER, 3600), 0);
        ck_assert_int_eq(device_send(device.sip, &other, GB_MSG_REGISTER, 3600), 0);
        run_for(&world, &device, 1000);

        ck_assert_uint_eq(device.register_oks, 1);
        ck_assert(transport_closed_by_server(device.sip));
        ck_assert_ptr_nonnull(gb_session_find(world.manager, device.id));
        ck_assert_ptr_null(gb_session_find(world.manager, other.id));

        /* The session lives on without a SIP connection, and its INVITEs fail, until its timeouts end it. */
        run_for(&world, &device, 6 * 61 * 1000);
        ck_assert_uint_eq(world.ended[GB_END_TIMEOUT], 1);
        ck_assert_uint_eq(resource_manager_size(world.manager), 0);

        device_fini(&device);
        stop_the_server(&world, "a session that timed out without its SIP connection");
}

/* Sends a REGISTER whose device id field holds id as it is, terminated or not. */
static int device_send_register_with_id(struct transport *transport, const char id[GB_DEVICE_ID_MAX])
{
        struct gb_message message = { .type = GB_MSG_REGISTER, .expires = 3600 };

        memcpy(message.device_id, id, sizeof message.device_id);
        return transport_device_send(transport, &message);
}

/* Connects a SIP connection that sends message, runs a round, and checks that the server refused it: the
 * connection is ended with no answer, and no session was made. */
static void assert_register_refused(struct world *world, const struct gb_message *message)
{
        _cleanup_sptr_ struct transport *transport = transport_new();
        struct gb_message reply;

        ck_assert_ptr_nonnull(transport);
        ck_assert_int_eq(gb_listener_accept_sip(world->listener, transport), 0);
        ck_assert_int_eq(transport_device_send(transport, message), 0);
        run_for(world, NULL, ROUND_MS);
        ck_assert(transport_closed_by_server(transport));
        ck_assert_int_eq(transport_device_receive(transport, &reply), -EPIPE); /* no REGISTER_OK */
        ck_assert_uint_eq(resource_manager_size(world->manager), 0);
}

/*
 * The device id comes from the device: a hostile or broken one can send anything. A GB28181 device id is 20
 * digits, and the field holds them and their terminating NUL; a REGISTER whose id is anything else is
 * refused. The first one fills the whole message with digits, so its id has no NUL: code that reads it as a
 * string runs off the end of the message.
 */
KATA_TEST(register_with_a_malformed_device_id_is_refused)
{
        static const char *const malformed[] = {
                "",                     /* empty */
                "3402000000132000001",  /* 19 digits */
                "340200000013200000x1", /* not a digit */
        };
        struct world world;
        struct device device;
        struct gb_message unterminated;
        struct gb_session *session;
        char id[GB_DEVICE_ID_MAX];

        world_init(&world);
        memset(&unterminated, '3', sizeof unterminated);
        unterminated.type = GB_MSG_REGISTER;
        assert_register_refused(&world, &unterminated);
        for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
                struct gb_message message = { .type = GB_MSG_REGISTER, .expires = 3600 };

                snprintf(message.device_id, sizeof message.device_id, "%s", malformed[i]);
                assert_register_refused(&world, &message);
        }

        /* A registered device sends one: its SIP connection ends, as if the device had hung up, and its
         * session streams on until the device comes back on a new connection and leaves. */
        device_init(&device, 11);
        device_start_streaming(&world, &device);
        session = gb_session_find(world.manager, device.id);
        ck_assert_ptr_nonnull(session);
        memset(id, '3', sizeof id);
        ck_assert_int_eq(device_send_register_with_id(device.sip, id), 0);
        ck_assert_int_eq(device_send_packs(&device, 2), 0);
        run_for(&world, &device, 1000);
        ck_assert(transport_closed_by_server(device.sip));
        ck_assert_uint_eq(device.register_oks, 1);
        ck_assert_ptr_eq(gb_session_find(world.manager, device.id), session);
        ck_assert_int_eq(gb_session_state(session), GB_SESSION_ESTABLISHED);
        ck_assert_uint_eq(gb_session_packs(session), 12);

        device.sip = sptr_unref(device.sip);
        device.register_oks = 0;
        ck_assert_int_eq(device_connect_sip(&world, &device), 0);
        ck_assert_int_eq(device_send(device.sip, &device, GB_MSG_REGISTER, 3600), 0);
        ck_assert_int_eq(device_send(device.sip, &device, GB_MSG_BYE, 0), 0);
        run_streaming(&world, &device, 1000);
        ck_assert_uint_eq(device.register_oks, 1);
        ck_assert_uint_eq(device.bye_oks, 1);
        ck_assert_uint_eq(world.ended[GB_END_BYE], 1);
        ck_assert_uint_eq(resource_manager_size(world.manager), 0);

        device_fini(&device);
        world_fini(&world);
}

/* The listener's configuration replaces the defaults, and a NULL callback is allowed. */
KATA_TEST(configured_waits_replace_the_defaults)
{
        const struct gb_config config = { .connecting_timeout_ms = 10 * 1000, .reinvite_wait_ms = 2 * 1000 };
        const msec_t slack = 3 * GB_SESSION_DRIVE_INTERVAL_MS;
        struct world world;
        struct device device;
        msec_t lost_at;

        world_init_with(&world, &config);
        device_init(&device, 10);
        ck_assert_int_eq(device_connect_sip(&world, &device), 0);
        ck_assert_int_eq(device_send(device.sip, &device, GB_MSG_REGISTER, 3600), 0);
        run_for(&world, &device, 11 * 1000);
        ck_assert_uint_eq(device.invites, 2);
        ck_assert_uint_gt(device.invited_at[1] - device.invited_at[0], config.connecting_timeout_ms);
        ck_assert_uint_le(device.invited_at[1] - device.invited_at[0], config.connecting_timeout_ms + slack);

        ck_assert_int_eq(device_send(device.sip, &device, GB_MSG_INVITE_OK, 0), 0);
        ck_assert_int_eq(device_connect_media(&world, &device), 0);
        ck_assert_int_eq(device_send_packs(&device, 1), 0);
        run_for(&world, &device, 1000);
        ck_assert_int_eq(gb_session_state(gb_session_find(world.manager, device.id)), GB_SESSION_ESTABLISHED);

        device_lose_media(&device);
        lost_at = world.now;
        run_for(&world, &device, 3000);
        ck_assert_uint_eq(device.invites, 3);
        ck_assert_uint_gt(device.invited_at[2] - lost_at, config.reinvite_wait_ms);
        ck_assert_uint_le(device.invited_at[2] - lost_at, config.reinvite_wait_ms + slack);

        ck_assert_int_eq(device_send(device.sip, &device, GB_MSG_BYE, 0), 0);
        run_for(&world, &device, 1000);
        ck_assert_uint_eq(device.bye_oks, 1);
        ck_assert_uint_eq(resource_manager_size(world.manager), 0);

        device_fini(&device);
        stop_the_server(&world, "a device that said BYE");
}

/*
 * The device registers but its media never comes. Each INVITE waits the connecting timeout (60 s); the
 * session then goes back to init and INVITEs again. SRS's `nn_timeout_++ > SRS_GB_MAX_TIMEOUT` fails the
 * 5th timeout: five INVITEs, then the end.
 */
KATA_TEST(repeated_connecting_timeouts_end_the_session)
{
        const msec_t timeout = GB_CONNECTING_TIMEOUT_MS, slack = 2 * GB_SESSION_DRIVE_INTERVAL_MS;
        struct world world;
        struct device device;

        world_init(&world);
        device_init(&device, 5);
        ck_assert_int_eq(device_connect_sip(&world, &device), 0);
        ck_assert_int_eq(device_send(device.sip, &device, GB_MSG_REGISTER, 3600), 0);
        for (unsigned minute = 0; minute < 6 && world.ended[GB_END_TIMEOUT] == 0; minute++)
                run_for(&world, &device, 60 * 1000);

        ck_assert_uint_eq(world.ended[GB_END_TIMEOUT], 1);
        ck_assert_uint_eq(world.ended[GB_END_BYE], 0);
        ck_assert_uint_eq(device.invites, GB_MAX_TIMEOUT + 2);
        for (unsigned i = 1; i < device.invites; i++) {
                ck_assert_uint_gt(device.invited_at[i] - device.invited_at[i - 1], timeout);
                ck_assert_uint_le(device.invited_at[i] - device.invited_at[i - 1], timeout + slack);
        }
        ck_assert_uint_gt(world.ended_at - device.invited_at[device.invites - 1], timeout);
        ck_assert_uint_le(world.ended_at - device.invited_at[device.invites - 1], timeout + slack);
        ck_assert(transport_closed_by_server(device.sip));
        ck_assert_uint_eq(resource_manager_size(world.manager), 0);

        device_fini(&device);
        stop_the_server(&world, "a session that timed out");
}

/*
 * A PS pack whose SSRC nobody INVITEd is dropped, and its connection stays open: SRS logs "PS: Ignore packet
 * ... for no session" and reads on, trying each pack until one names a session. A media connection that
 * does not carry media at all is ended.
 */
KATA_TEST(media_for_an_unknown_stream_is_dropped)
{
        struct world world;
        struct device device;

        _cleanup_sptr_ struct transport *garbage = NULL;

        world_init(&world);
        device_init(&device, 6);
        device.ssrc = 340299999;
        ck_assert_int_eq(device_connect_media(&world, &device), 0);
        ck_assert_int_eq(device_send_packs(&device, 1), 0);
        /* And a media connection that does not carry media. */
        garbage = transport_new();
        ck_assert_ptr_nonnull(garbage);
        ck_assert_int_eq(gb_listener_accept_media(world.listener, garbage), 0);
        ck_assert_int_eq(device_send(garbage, &device, GB_MSG_REGISTER, 3600), 0);
        run_for(&world, NULL, ROUND_MS);

        ck_assert(!transport_closed_by_server(device.media));
        ck_assert(transport_closed_by_server(garbage));
        ck_assert_ptr_null(gb_session_find(world.manager, device.id));
        ck_assert_ptr_null(resource_manager_find_by_fast_id(world.manager, device.ssrc));
        ck_assert_uint_eq(resource_manager_size(world.manager), 2); /* the media connection, its executor */

        /* More packs for nobody: dropped too. Then the device hangs up, and the connection ends. */
        ck_assert_int_eq(device_send_packs(&device, 3), 0);
        run_for(&world, NULL, ROUND_MS);
        ck_assert(!transport_closed_by_server(device.media));
        transport_device_close(device.media);
        run_for(&world, NULL, ROUND_MS);
        ck_assert(transport_closed_by_server(device.media));
        ck_assert_uint_eq(resource_manager_size(world.manager), 0);
        ck_assert_uint_eq(sptr_count(device.media), 1);

        device_fini(&device);
        garbage = sptr_unref(garbage);
        stop_the_server(&world, "media connections nobody INVITEd");
}

/*
 * The device opens a new media connection while its old one is still open (a camera that reconnected
 * before the server noticed). The session streams from the new one and ends the old one, which is freed.
 * SRS drops its reference to the old one and lets it run until the device closes it (a difference the
 * README lists).
 */
KATA_TEST(new_media_connection_replaces_the_open_one)
{
        struct world world;
        struct device device;
        struct gb_session *session;
        _cleanup_sptr_ struct transport *old_media = NULL;
        struct gb_message pack = { .type = GB_MSG_PS_PACK };

        world_init(&world);
        device_init(&device, 13);
        device_start_streaming(&world, &device);
        session = gb_session_find(world.manager, device.id);
        ck_assert_ptr_nonnull(session);

        old_media = TAKE_PTR(device.media);
        ck_assert_int_eq(device_connect_media(&world, &device), 0);
        ck_assert_int_eq(device_send_packs(&device, 4), 0);
        run_for(&world, &device, 1000);

        ck_assert_int_eq(gb_session_state(session), GB_SESSION_ESTABLISHED);
        ck_assert_uint_eq(gb_session_packs(session), 14);
        ck_assert_uint_eq(device.invites, 1);
        /* The old connection was ended, and freed: it released its end of the transport. */
        ck_assert(transport_closed_by_server(old_media));
        ck_assert_uint_eq(sptr_count(old_media), 1);
        pack.ssrc = device.ssrc;
        ck_assert_int_eq(transport_device_send(old_media, &pack), -EPIPE);
        ck_assert_uint_eq(resource_manager_size(world.manager), 6);

        ck_assert_int_eq(device_send(device.sip, &device, GB_MSG_BYE, 0), 0);
        run_streaming(&world, &device, 1000);
        ck_assert_uint_eq(world.ended[GB_END_BYE], 1);
        ck_assert(transport_closed_by_server(device.media));
        ck_assert_uint_eq(resource_manager_size(world.manager), 0);

        device_fini(&device);
        old_media = sptr_unref(old_media);
        stop_the_server(&world, "a device that replaced its media connection and said BYE");
}

KATA_TEST(stopping_the_server_frees_live_sessions)
{
        struct world world;
        struct device devices[3];

        world_init(&world);
        for (unsigned i = 0; i < 3; i++) {
                device_init(&devices[i], 10 + i);
                device_start_streaming(&world, &devices[i]);
                ck_assert_int_eq(gb_session_state(gb_session_find(world.manager, devices[i].id)),
                                 GB_SESSION_ESTABLISHED);
        }
        ck_assert_uint_eq(resource_manager_size(world.manager), 18);

        /* No session ends by itself: the manager drops them all. */
        world_fini(&world);
        ck_assert_uint_eq(world.ended[GB_END_BYE] + world.ended[GB_END_TIMEOUT], 0);
        for (unsigned i = 0; i < 3; i++)
                device_fini(&devices[i]);
}

/* One device's whole life, without assertions (they would allocate between the heap measurements):
 * returns false when something went wrong. */
static bool device_comes_and_goes(struct world *world, unsigned number)
{
        struct device device;
        unsigned ended = world->ended[GB_END_BYE];
        bool ok;

        device_init(&device, number);
        ok = device_connect_sip(world, &device) == 0 &&
             device_send(device.sip, &device, GB_MSG_REGISTER, 3600) == 0;
        run_for(world, &device, 4 * ROUND_MS);
        ok = ok && device.invites == 1 && device_send(device.sip, &device, GB_MSG_INVITE_OK, 0) == 0 &&
             device_connect_media(world, &device) == 0 && device_send_packs(&device, 3) == 0;
        run_for(world, &device, 4 * ROUND_MS);
        ok = ok && device_send(device.sip, &device, GB_MSG_BYE, 0) == 0;
        run_streaming(world, &device, 6 * ROUND_MS);
        ok = ok && device.bye_oks == 1 && world->ended[GB_END_BYE] == ended + 1 &&
             resource_manager_size(world->manager) == 0;
        device_fini(&device);
        return ok;
}

KATA_TEST(churn_of_1000_devices_returns_the_heap_to_its_baseline)
{
        const unsigned devices = 1000;
        struct world world;
        struct kata_heap before;
        unsigned failed = 0;

        world_init(&world);
        /* Warm up: the manager's and the loop's arrays reach their working size. */
        for (unsigned i = 0; i < 10; i++)
                failed += !device_comes_and_goes(&world, i);
        before = kata_heap_snapshot();
        for (unsigned i = 0; i < devices; i++)
                failed += !device_comes_and_goes(&world, 100 + i);
        kata_assert_heap_at_baseline(&before, "after %u devices came and went", devices);

        ck_assert_uint_eq(failed, 0);
        ck_assert_uint_eq(world.ended[GB_END_BYE], devices + 10);
        ck_assert_uint_eq(resource_manager_size(world.manager), 0);
        world_fini(&world);
}

void kata_register(TCase *tc)
{
        /* Stops the server of a test that failed half way (see leftover). */
        tcase_add_checked_fixture(tc, NULL, stop_leftover_world);

        tcase_add_test(tc, transport_delivers_in_order_until_closed);
        tcase_add_test(tc, manager_finds_resources_until_they_are_removed);
        tcase_add_test(tc, manager_disposes_a_resource_removed_twice_once);
        tcase_add_test(tc, manager_freed_with_zombies_releases_them);
        tcase_add_test(tc, executor_tells_its_owner_once_and_leaves_the_manager);
        tcase_add_test(tc, loop_runs_many_cycles_and_ends_each_in_its_round);
        tcase_add_test(tc, interrupted_executor_ends_without_another_step);
        tcase_add_test(tc, device_registers_streams_and_says_bye);
        tcase_add_test(tc, device_that_left_registers_again_and_gets_a_new_session);
        tcase_add_test(tc, lost_media_is_reinvited_after_the_wait);
        tcase_add_test(tc, register_with_expires_zero_ends_the_session);
        tcase_add_test(tc, reconnecting_device_keeps_its_session_and_frees_the_old_connection);
        tcase_add_test(tc, device_that_hung_up_comes_back_on_a_new_connection);
        tcase_add_test(tc, ending_session_ends_its_idle_media_connection);
        tcase_add_test(tc, new_media_connection_ends_the_old_one);
        tcase_add_test(tc, sip_connection_serves_one_device);
        tcase_add_test(tc, register_with_a_malformed_device_id_is_refused);
        tcase_add_test(tc, configured_waits_replace_the_defaults);
        tcase_add_test(tc, repeated_connecting_timeouts_end_the_session);
        tcase_add_test(tc, media_for_an_unknown_stream_is_dropped);
        tcase_add_test(tc, new_media_connection_replaces_the_open_one);
        tcase_add_test(tc, stopping_the_server_frees_live_sessions);
        tcase_add_test(tc, churn_of_1000_devices_returns_the_heap_to_its_baseline);
}
