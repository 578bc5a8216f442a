/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes solutions/stream-sources: what players and publishers control (stream URLs, and when they come and
 * go) and the sweep's timing. An input is a script, one step a line, over three pools (one per kind: 0 Live,
 * 1 SRT, 2 RTC), eight held sources (slots), sixteen consumers and four HTTP streams:
 *
 *   f KIND URL   fetch_or_create(URL) in pool KIND % 3, held in the next free slot (URL: the rest of the line)
 *   u SLOT       SLOT leaves: its consumers stop, it unpublishes if it published, and lets go of its source
 *   p SLOT  U SLOT  e SLOT   publish; unpublish; RTC's stream created (its SDP)
 *   F SLOT       the publisher sends a frame
 *   c SLOT       a player starts: a consumer of SLOT's source        C I   consumer I stops
 *   m URL        an HTTP stream mounted on the Live pool             h I   it serves a player   H I   unmounted
 *   t MS         time passes (at most 10 minutes a step)             n KIND   the sweep of one pool
 *
 * Invariants (source.h, source_manager.h, http_stream.h): a fetch finds the source just made, with its URL
 * and kind; publish returns 0 or -EBUSY (Live and SRT: 0 exactly when source_can_publish() said so); a frame
 * reaches every consumer of its source, once, and no other; the sweep's count matches the pool's size; a
 * served HTTP player gets 200, 404 or 503. At the end of the input everyone leaves (HTTP streams, then
 * every slot as u does), lets SOURCE_CLEANUP_DELAY pass and sweeps: then every
 * pool must be empty and every source freed, before the pools are (source_live_count() and sptr_live_count()
 * back where they were: a pool that keeps a dead source is the leak this kata is about). Memory:
 * LeakSanitizer.
 */
#include "http_stream.h"
#include "source_manager.h"

#include <errno.h>

#include "fuzz.h"
#include "sptr.h"

#define SLOTS 8
#define CONSUMERS 16
#define STREAMS 4
#define URL_MAX 512
#define STEP_CAP (10 * 60 * USEC_PER_SEC)

static usec_t now = 1;

static usec_t clock_now(void *userdata)
{
        (void) userdata;
        return now;
}

struct world {
        struct source_manager *pools[3];
        struct source *slots[SLOTS]; /* +1 each */
        bool publishes[SLOTS];       /* the slot published (or created an RTC stream) and has not unpublished */
        struct consumer *consumers[CONSUMERS];
        unsigned consumer_slot[CONSUMERS];
        struct http_stream *streams[STREAMS];
};

static void consumer_stop(struct world *world, unsigned i)
{
        struct source *source = world->slots[world->consumer_slot[i]];
        size_t before = source_consumer_count(source);

        world->consumers[i] = consumer_free(world->consumers[i]);
        FUZZ_CHECK(source_consumer_count(source) == before - 1, "a consumer stopped, its source still counts %zu of %zu",
                   source_consumer_count(source), before);
}

/* The publisher goes: every slot of its source stops publishing. */
static void unpublish(struct world *world, struct source *source)
{
        source_on_unpublish(source);
        for (unsigned slot = 0; slot < SLOTS; slot++)
                if (world->slots[slot] == source)
                        world->publishes[slot] = false;
}

/* A publisher or player leaves: it stops publishing and playing first, as SRS's do. */
static void slot_release(struct world *world, unsigned slot)
{
        for (unsigned i = 0; i < CONSUMERS; i++)
                if (world->consumers[i] && world->consumer_slot[i] == slot)
                        consumer_stop(world, i);
        if (world->publishes[slot])
                unpublish(world, world->slots[slot]);
        world->slots[slot] = source_unref(world->slots[slot]);
}

static void fetch(struct world *world, enum source_kind kind, const char *url)
{
        struct source *source = NULL, *again;
        unsigned slot = 0;
        int r;

        while (slot < SLOTS && world->slots[slot])
                slot++;
        if (slot == SLOTS)
                return;
        r = source_manager_fetch_or_create(world->pools[kind], url, &source);
        FUZZ_CHECK(r == 0 && source, "fetch_or_create(\"%s\") failed: %d", url, r);
        FUZZ_CHECK(strcmp(source_url(source), url) == 0 && source_kind(source) == kind,
                   "fetch_or_create(\"%s\") gave the source of \"%s\", kind %d", url, source_url(source),
                   source_kind(source));
        again = source_manager_fetch(world->pools[kind], url);
        FUZZ_CHECK(again == source, "the pool does not find the source it just made for \"%s\"", url);
        source_unref(again);
        world->slots[slot] = source;
}

static void frame(struct world *world, struct source *source)
{
        unsigned long before[CONSUMERS] = { 0 };
        int r;

        for (unsigned i = 0; i < CONSUMERS; i++)
                if (world->consumers[i])
                        before[i] = consumer_frames(world->consumers[i]);
        r = source_on_frame(source);
        FUZZ_CHECK(r == 0 || r == -ENOTCONN, "on_frame() returned %d", r);
        for (unsigned i = 0; i < CONSUMERS; i++) {
                bool reached;

                if (!world->consumers[i])
                        continue;
                reached = r == 0 && world->slots[world->consumer_slot[i]] == source;
                FUZZ_CHECK(consumer_frames(world->consumers[i]) == before[i] + reached,
                           "consumer %u has %lu frames, expected %lu", i, consumer_frames(world->consumers[i]),
                           before[i] + reached);
        }
}

static void step(struct world *world, struct fuzz_line *line)
{
        int op = fuzz_op(line);
        char url[URL_MAX];
        unsigned i = 0, erased;
        struct source *source = NULL;
        struct http_response response;
        size_t before;
        bool could;
        int r;

        if (op == 'f') {
                enum source_kind kind = (enum source_kind) (fuzz_number(line) % 3);

                fuzz_rest(line, url, sizeof url);
                fetch(world, kind, url);
                return;
        }
        if (op == 'm') {
                while (i < STREAMS && world->streams[i])
                        i++;
                fuzz_rest(line, url, sizeof url);
                if (i == STREAMS)
                        return;
                r = http_stream_mount(world->pools[SOURCE_LIVE], url, &world->streams[i]);
                FUZZ_CHECK((r == 0) == (world->streams[i] != NULL) && (r == 0 || r == -ENOENT),
                           "mount(\"%s\") returned %d", url, r);
                return;
        }
        if (op == 't') {
                uint64_t ms = fuzz_number(line);

                now += ms > STEP_CAP / USEC_PER_MSEC ? STEP_CAP : ms * USEC_PER_MSEC;
                return;
        }
        if (op == 'n') {
                struct source_manager *pool = world->pools[fuzz_number(line) % 3];

                before = source_manager_size(pool);
                erased = source_manager_notify(pool);
                FUZZ_CHECK(source_manager_size(pool) == before - erased, "the sweep erased %u of %zu, %zu are left",
                           erased, before, source_manager_size(pool));
                return;
        }
        i = (unsigned) fuzz_number(line);
        switch (op) {
        case 'C':
                if (i < CONSUMERS && world->consumers[i])
                        consumer_stop(world, i);
                return;
        case 'h':
                if (i < STREAMS && world->streams[i]) {
                        http_stream_serve(world->streams[i], &response);
                        FUZZ_CHECK(response.status == 200 || response.status == 404 || response.status == 503,
                                   "an HTTP player got %d", response.status);
                }
                return;
        case 'H':
                if (i < STREAMS)
                        world->streams[i] = http_stream_free(world->streams[i]);
                return;
        }
        if (i >= SLOTS || !(source = world->slots[i]))
                return;
        switch (op) {
        case 'u':
                slot_release(world, i);
                break;
        case 'p':
                could = source_can_publish(source);
                r = source_on_publish(source);
                FUZZ_CHECK(r == 0 || r == -EBUSY, "on_publish() returned %d", r);
                FUZZ_CHECK(source_kind(source) == SOURCE_RTC || (r == 0) == could,
                           "can_publish() said %d, on_publish() returned %d", could, r);
                world->publishes[i] = world->publishes[i] || r == 0;
                break;
        case 'U':
                unpublish(world, source);
                break;
        case 'e':
                source_set_stream_created(source);
                world->publishes[i] = world->publishes[i] || source_kind(source) == SOURCE_RTC;
                break;
        case 'F':
                frame(world, source);
                break;
        case 'c':
                for (unsigned c = 0; c < CONSUMERS; c++) {
                        if (world->consumers[c])
                                continue;
                        before = source_consumer_count(source);
                        r = source_create_consumer(source, &world->consumers[c]);
                        FUZZ_CHECK(r == 0 && world->consumers[c] && source_consumer_count(source) == before + 1,
                                   "a player could not start: %d", r);
                        world->consumer_slot[c] = i;
                        break;
                }
                break;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_input in = fuzz_input(data, size);
        const struct source_clock clock = { .now = clock_now };
        unsigned long sources = source_live_count(), shared = sptr_live_count();
        struct world world = { 0 };
        struct fuzz_line line;

        for (unsigned kind = 0; kind < 3; kind++) {
                world.pools[kind] = source_manager_new((enum source_kind) kind, &clock);
                FUZZ_CHECK(world.pools[kind], "no pool (out of memory?)");
        }
        while (fuzz_next_line(&in, &line))
                step(&world, &line);

        /* Everyone leaves: players, HTTP streams, publishers; then the harness lets go of its sources. */
        for (unsigned i = 0; i < STREAMS; i++)
                world.streams[i] = http_stream_free(world.streams[i]);
        for (unsigned slot = 0; slot < SLOTS; slot++)
                slot_release(&world, slot);
        now += SOURCE_CLEANUP_DELAY + USEC_PER_SEC;
        for (unsigned kind = 0; kind < 3; kind++) {
                source_manager_notify(world.pools[kind]);
                FUZZ_CHECK(source_manager_size(world.pools[kind]) == 0,
                           "%zu %s sources are still in their pool when nobody publishes or plays, after the sweep",
                           source_manager_size(world.pools[kind]), source_kind_to_string((enum source_kind) kind));
        }
        FUZZ_CHECK(source_live_count() == sources && sptr_live_count() == shared,
                   "%lu sources (%lu shared objects) outlive the sweep, with nobody holding them",
                   source_live_count() - sources, sptr_live_count() - shared);
        for (unsigned kind = 0; kind < 3; kind++)
                world.pools[kind] = source_manager_free(world.pools[kind]);
        return 0;
}
