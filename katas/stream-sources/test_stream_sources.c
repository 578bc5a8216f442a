/* SPDX-License-Identifier: MIT */
/*
 * Tests for stream-sources. The same file tests the kata and its solution: do not edit it to make the kata
 * pass. Every test checks behaviour; KATA_TEST also fails a test that leaves memory behind or touches freed
 * memory, and the churn tests fail when the pools keep memory that streams no longer use.
 *
 * Time is a variable (struct fake_clock): tests move it by hand, nothing sleeps.
 */
#include "kata_test.h"

/* Angle brackets: the headers of the folder being built (kata or solution). */
#include <http_stream.h>
#include <source.h>
#include <source_manager.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define START_TIME (1000 * USEC_PER_SEC)
#define JUST_BEFORE(t) ((t) - 1)
#define CHURN_STREAMS 2000

static const enum source_kind all_kinds[] = { SOURCE_LIVE, SOURCE_SRT, SOURCE_RTC };
#define N_KINDS (sizeof all_kinds / sizeof all_kinds[0])

struct fake_clock {
        usec_t now;
};

static usec_t fake_now(void *userdata)
{
        return ((struct fake_clock *) userdata)->now;
}

/*
 * The manager a test is using. A failed assertion leaves the test at once (Check runs the tests in one
 * process), so the fixture's teardown frees what the test could not; without it, the next test's leak
 * check would find this test's pool and blame the wrong test.
 */
static struct source_manager *test_manager;

static void free_leftover_manager(void)
{
        test_manager = source_manager_free(test_manager);
}

static struct source_manager *new_manager(enum source_kind kind, struct fake_clock *clock)
{
        clock->now = START_TIME;
        free_leftover_manager();
        test_manager = source_manager_new(kind, &(struct source_clock){ .now = fake_now, .userdata = clock });
        ck_assert_ptr_nonnull(test_manager);
        return test_manager;
}

static void free_manager(void)
{
        free_leftover_manager();
}

static struct source *fetch_or_create(struct source_manager *manager, const char *url)
{
        struct source *source = NULL;

        ck_assert_int_eq(source_manager_fetch_or_create(manager, url, &source), 0);
        ck_assert_ptr_nonnull(source);
        return source;
}

static struct consumer *create_consumer(struct source *source)
{
        struct consumer *consumer = NULL;

        ck_assert_int_eq(source_create_consumer(source, &consumer), 0);
        ck_assert_ptr_nonnull(consumer);
        return consumer;
}

/* What the death rule says at time t. */
static bool dead_at(struct source *source, struct fake_clock *clock, usec_t t)
{
        clock->now = t;
        return source_stream_is_dead(source);
}

#define ck_assert_alive_at(source, clock, t)                                                                \
        ck_assert_msg(!dead_at((source), (clock), (t)), "%s source %s is dead at %+.6f s, but must live",    \
                      source_kind_to_string(source_kind(source)), source_url(source),                         \
                      (double) ((t) - START_TIME) / USEC_PER_SEC)
#define ck_assert_dead_at(source, clock, t)                                                                 \
        ck_assert_msg(dead_at((source), (clock), (t)), "%s source %s is alive at %+.6f s, but must be dead",   \
                      source_kind_to_string(source_kind(source)), source_url(source),                         \
                      (double) ((t) - START_TIME) / USEC_PER_SEC)

/* ---- the pool ---- */

KATA_TEST(fetch_or_create_shares_one_source_per_url)
{
        struct fake_clock clock;

        for (size_t k = 0; k < N_KINDS; k++) {
                enum source_kind kind = all_kinds[k];
                struct source_manager *manager = new_manager(kind, &clock);
                struct source *publisher = fetch_or_create(manager, "rtmp://localhost/live/a");
                struct source *player = fetch_or_create(manager, "rtmp://localhost/live/a");
                struct source *other = fetch_or_create(manager, "rtmp://localhost/live/b");
                struct source *fetched = source_manager_fetch(manager, "rtmp://localhost/live/a");

                ck_assert_ptr_eq(player, publisher);
                ck_assert_ptr_ne(other, publisher);
                ck_assert_ptr_eq(fetched, publisher);
                ck_assert_ptr_null(source_manager_fetch(manager, "rtmp://localhost/live/c"));
                ck_assert_str_eq(source_url(publisher), "rtmp://localhost/live/a");
                ck_assert_int_eq(source_kind(publisher), kind);
                ck_assert_uint_eq(source_manager_size(manager), 2);

                fetched = source_unref(fetched);
                ck_assert_ptr_null(fetched);
                source_unref(other);
                source_unref(player);
                source_unref(publisher);
                ck_assert_ptr_null(source_unref(NULL));
                free_manager();
        }
}

KATA_TEST(pool_finds_each_of_many_urls)
{
        enum { N = 5000 };
        struct source *sources[N];
        struct fake_clock clock;
        struct source_manager *manager = new_manager(SOURCE_LIVE, &clock);
        char url[64];

        for (int i = 0; i < N; i++) {
                snprintf(url, sizeof url, "rtmp://localhost/app%d/stream", i);
                sources[i] = fetch_or_create(manager, url);
        }
        ck_assert_uint_eq(source_manager_size(manager), N);
        for (int i = N - 1; i >= 0; i--) {
                snprintf(url, sizeof url, "rtmp://localhost/app%d/stream", i);
                struct source *again = source_manager_fetch(manager, url);

                ck_assert_ptr_eq(again, sources[i]);
                ck_assert_str_eq(source_url(again), url);
                source_unref(again);
        }
        for (int i = 0; i < N; i++)
                sources[i] = source_unref(sources[i]);
        free_manager();
}

/* The names that messages and logs print; a value outside the enum (a corrupted kind) still prints. */
KATA_TEST(kind_names)
{
        ck_assert_str_eq(source_kind_to_string(SOURCE_LIVE), "Live");
        ck_assert_str_eq(source_kind_to_string(SOURCE_SRT), "SRT");
        ck_assert_str_eq(source_kind_to_string(SOURCE_RTC), "RTC");
        ck_assert_str_eq(source_kind_to_string((enum source_kind) 42), "unknown");
}

KATA_TEST(free_functions_accept_null)
{
        ck_assert_ptr_null(source_manager_free(NULL));
        ck_assert_ptr_null(consumer_free(NULL));
        ck_assert_ptr_null(http_stream_free(NULL));
        ck_assert_ptr_null(source_unref(NULL));
}

/* ---- publishing and playing ---- */

KATA_TEST(one_publisher_at_a_time)
{
        struct fake_clock clock;

        for (size_t k = 0; k < N_KINDS; k++) {
                enum source_kind kind = all_kinds[k];
                struct source_manager *manager = new_manager(kind, &clock);
                struct source *source = fetch_or_create(manager, "srt://localhost/live/one");

                ck_assert(source_can_publish(source));
                ck_assert_int_eq(source_on_publish(source), 0);
                ck_assert(!source_can_publish(source));
                ck_assert_int_eq(source_on_publish(source), -EBUSY);
                source_on_unpublish(source);
                ck_assert(source_can_publish(source));
                source_on_unpublish(source); /* nobody publishes: nothing happens */
                ck_assert(source_can_publish(source));
                ck_assert_int_eq(source_on_publish(source), 0);
                source_on_unpublish(source);
                source_unref(source);
                free_manager();
        }
}

KATA_TEST(every_frame_reaches_every_consumer)
{
        struct fake_clock clock;

        for (size_t k = 0; k < N_KINDS; k++) {
                enum source_kind kind = all_kinds[k];
                struct source_manager *manager = new_manager(kind, &clock);
                struct source *source = fetch_or_create(manager, "webrtc://localhost/live/frames");
                struct consumer *first = create_consumer(source), *second = create_consumer(source), *late;

                ck_assert_int_eq(source_on_frame(source), -ENOTCONN);
                ck_assert_int_eq(source_on_publish(source), 0);
                for (int i = 0; i < 3; i++)
                        ck_assert_int_eq(source_on_frame(source), 0);
                late = create_consumer(source);
                ck_assert_int_eq(source_on_frame(source), 0);

                ck_assert_uint_eq(source_frames(source), 4);
                ck_assert_uint_eq(consumer_frames(first), 4);
                ck_assert_uint_eq(consumer_frames(second), 4);
                ck_assert_uint_eq(consumer_frames(late), 1);
                ck_assert_uint_eq(source_consumer_count(source), 3);
                second = consumer_free(second);
                ck_assert_ptr_null(second);
                ck_assert_int_eq(source_on_frame(source), 0);
                ck_assert_uint_eq(consumer_frames(first), 5);
                ck_assert_uint_eq(consumer_frames(late), 2);
                ck_assert_uint_eq(source_consumer_count(source), 2);

                /* A new publisher counts its own frames. */
                source_on_unpublish(source);
                ck_assert_int_eq(source_on_publish(source), 0);
                ck_assert_uint_eq(source_frames(source), 0);

                consumer_free(first);
                consumer_free(late);
                ck_assert_uint_eq(source_consumer_count(source), 0);
                source_on_unpublish(source);
                source_unref(source);
                free_manager();
        }
}

/* ---- when a source is dead (source_stream_is_dead) ---- */

KATA_TEST(source_dies_3s_after_its_publisher_leaves)
{
        struct fake_clock clock;

        for (size_t k = 0; k < N_KINDS; k++) {
                enum source_kind kind = all_kinds[k];
                struct source_manager *manager = new_manager(kind, &clock);
                struct source *source = fetch_or_create(manager, "rtmp://localhost/live/grace");
                usec_t t = START_TIME + 60 * USEC_PER_SEC;

                ck_assert_int_eq(source_on_publish(source), 0);
                ck_assert_alive_at(source, &clock, START_TIME + 3600 * USEC_PER_SEC);
                clock.now = t;
                source_on_unpublish(source);
                ck_assert_alive_at(source, &clock, t);
                ck_assert_alive_at(source, &clock, JUST_BEFORE(t + SOURCE_CLEANUP_DELAY));
                ck_assert_dead_at(source, &clock, t + SOURCE_CLEANUP_DELAY);
                ck_assert_dead_at(source, &clock, t + 3600 * USEC_PER_SEC);
                source_unref(source);
                free_manager();
        }
}

KATA_TEST(consumer_arriving_inside_the_grace_keeps_the_source)
{
        struct fake_clock clock;

        for (size_t k = 0; k < N_KINDS; k++) {
                enum source_kind kind = all_kinds[k];
                struct source_manager *manager = new_manager(kind, &clock);
                struct source *source = fetch_or_create(manager, "rtmp://localhost/live/late-player");
                usec_t t = START_TIME + 10 * USEC_PER_SEC, left;
                struct consumer *consumer;

                ck_assert_int_eq(source_on_publish(source), 0);
                clock.now = t;
                source_on_unpublish(source);
                clock.now = t + 1 * USEC_PER_SEC; /* a player comes inside the 3 s */
                consumer = create_consumer(source);
                ck_assert_alive_at(source, &clock, t + SOURCE_CLEANUP_DELAY);
                ck_assert_alive_at(source, &clock, t + 600 * USEC_PER_SEC);

                /* It leaves much later: the 3 s start again from then. */
                left = t + 600 * USEC_PER_SEC;
                clock.now = left;
                consumer_free(consumer);
                ck_assert_alive_at(source, &clock, JUST_BEFORE(left + SOURCE_CLEANUP_DELAY));
                ck_assert_dead_at(source, &clock, left + SOURCE_CLEANUP_DELAY);
                source_unref(source);
                free_manager();
        }
}

KATA_TEST(last_consumer_leaving_an_unpublished_stream_starts_the_grace)
{
        struct fake_clock clock;

        for (size_t k = 0; k < N_KINDS; k++) {
                enum source_kind kind = all_kinds[k];
                struct source_manager *manager = new_manager(kind, &clock);
                struct source *source = fetch_or_create(manager, "rtmp://localhost/live/players-stay");
                struct consumer *first = create_consumer(source), *second = create_consumer(source);
                usec_t t = START_TIME + 10 * USEC_PER_SEC;

                ck_assert_int_eq(source_on_publish(source), 0);
                clock.now = t;
                source_on_unpublish(source); /* players are still there: no countdown yet */
                ck_assert_alive_at(source, &clock, t + 60 * USEC_PER_SEC);
                consumer_free(first);
                ck_assert_alive_at(source, &clock, t + 120 * USEC_PER_SEC);
                consumer_free(second); /* the last one, at t + 120 s */
                ck_assert_alive_at(source, &clock, JUST_BEFORE(t + 120 * USEC_PER_SEC + SOURCE_CLEANUP_DELAY));
                ck_assert_dead_at(source, &clock, t + 120 * USEC_PER_SEC + SOURCE_CLEANUP_DELAY);
                source_unref(source);
                free_manager();
        }
}

KATA_TEST(consumer_leaving_a_live_stream_starts_no_grace)
{
        struct fake_clock clock;

        for (size_t k = 0; k < N_KINDS; k++) {
                enum source_kind kind = all_kinds[k];
                struct source_manager *manager = new_manager(kind, &clock);
                struct source *source = fetch_or_create(manager, "rtmp://localhost/live/still-publishing");
                struct consumer *consumer = create_consumer(source);
                usec_t unpublished = START_TIME + 100 * USEC_PER_SEC;

                ck_assert_int_eq(source_on_publish(source), 0);
                clock.now = START_TIME + 10 * USEC_PER_SEC;
                consumer_free(consumer); /* the publisher goes on */
                ck_assert_alive_at(source, &clock, START_TIME + 60 * USEC_PER_SEC);
                clock.now = unpublished;
                source_on_unpublish(source);
                ck_assert_alive_at(source, &clock, JUST_BEFORE(unpublished + SOURCE_CLEANUP_DELAY));
                ck_assert_dead_at(source, &clock, unpublished + SOURCE_CLEANUP_DELAY);
                source_unref(source);
                free_manager();
        }
}

/*
 * A new source's death time starts at 0, as in SRS 6.0.130, the version this kata follows: with nobody
 * publishing and nobody playing, it is dead from the start, and the next sweep may erase it. SRS later
 * called that a bug (#4449: "new live source, dead=1"); since 7.0.127 (PR #4576) a new source waits 3 s.
 */
KATA_TEST(source_never_published_dies_when_nobody_waits_for_it)
{
        struct fake_clock clock;

        for (size_t k = 0; k < N_KINDS; k++) {
                enum source_kind kind = all_kinds[k];
                struct source_manager *manager = new_manager(kind, &clock);
                struct source *source = fetch_or_create(manager, "rtmp://localhost/live/never");
                struct consumer *waiting;
                usec_t left = START_TIME + 30 * USEC_PER_SEC;

                /* Nothing to wait for: no publisher ever came, nobody plays. */
                ck_assert_dead_at(source, &clock, START_TIME);

                /* A player waiting for the stream to start keeps it, and the 3 s count from when it leaves. */
                clock.now = START_TIME + 1 * USEC_PER_SEC;
                waiting = create_consumer(source);
                ck_assert_alive_at(source, &clock, left);
                consumer_free(waiting);
                ck_assert_alive_at(source, &clock, JUST_BEFORE(left + SOURCE_CLEANUP_DELAY));
                ck_assert_dead_at(source, &clock, left + SOURCE_CLEANUP_DELAY);
                source_unref(source);
                free_manager();
        }
}

KATA_TEST(rtc_stream_lives_from_its_sdp_on_before_any_frame)
{
        struct fake_clock clock;

        for (size_t k = 0; k < N_KINDS; k++) {
                enum source_kind kind = all_kinds[k];
                struct source_manager *manager = new_manager(kind, &clock);
                struct source *source = fetch_or_create(manager, "webrtc://localhost/live/sdp-done");

                /* The publisher's SDP is done; its first frame has not come yet. */
                source_set_stream_created(source);
                if (kind == SOURCE_RTC) {
                        /* SRS: a second publisher is refused from the SDP on (can_publish() is !is_created_). */
                        ck_assert(!source_can_publish(source));
                        ck_assert_alive_at(source, &clock, START_TIME + 3600 * USEC_PER_SEC);
                        /* Publishing and unpublishing ends the created stream. */
                        ck_assert_int_eq(source_on_publish(source), 0);
                        clock.now = START_TIME + 3600 * USEC_PER_SEC;
                        source_on_unpublish(source);
                        ck_assert_alive_at(source, &clock, JUST_BEFORE(clock.now + SOURCE_CLEANUP_DELAY));
                        ck_assert_dead_at(source, &clock, START_TIME + 3600 * USEC_PER_SEC + SOURCE_CLEANUP_DELAY);
                } else {
                        /* Live and SRT only count a publisher. */
                        ck_assert(source_can_publish(source));
                        ck_assert_dead_at(source, &clock, START_TIME + SOURCE_CLEANUP_DELAY);
                }
                source_unref(source);
                free_manager();
        }
}

/*
 * An RTC publisher whose SDP was done but which never started publishing (its DTLS failed, say) goes. SRS's
 * ~SrsRtcPublishStream calls on_unpublish() whatever happened, and RTC's on_unpublish() ends a created
 * stream whether or not it was published: the source starts its 3 s, and is swept after them.
 */
KATA_TEST(rtc_publisher_that_never_started_ends_its_stream_when_it_goes)
{
        struct fake_clock clock;
        struct source_manager *manager = new_manager(SOURCE_RTC, &clock);
        struct source *source = fetch_or_create(manager, "webrtc://localhost/live/dtls-failed");
        usec_t gone = START_TIME + 20 * USEC_PER_SEC;

        source_set_stream_created(source);
        ck_assert_alive_at(source, &clock, JUST_BEFORE(gone));
        clock.now = gone;
        source_on_unpublish(source);
        ck_assert(source_can_publish(source));
        ck_assert_alive_at(source, &clock, JUST_BEFORE(gone + SOURCE_CLEANUP_DELAY));
        ck_assert_dead_at(source, &clock, gone + SOURCE_CLEANUP_DELAY);
        source_unref(source);
        free_manager();
}

/* ---- the sweep (source_manager_notify) ---- */

KATA_TEST(sweep_keeps_every_source_still_in_use)
{
        struct fake_clock clock;

        for (size_t k = 0; k < N_KINDS; k++) {
                enum source_kind kind = all_kinds[k];
                struct source_manager *manager = new_manager(kind, &clock);
                struct source *publishing = fetch_or_create(manager, "rtmp://localhost/live/publishing");
                struct source *played = fetch_or_create(manager, "rtmp://localhost/live/played");
                struct source *recent = fetch_or_create(manager, "rtmp://localhost/live/recent");
                struct consumer *player = create_consumer(played);
                usec_t t = START_TIME + 600 * USEC_PER_SEC;

                ck_assert_int_eq(source_on_publish(publishing), 0);
                ck_assert_int_eq(source_on_publish(played), 0);
                ck_assert_int_eq(source_on_publish(recent), 0);
                clock.now = START_TIME + 10 * USEC_PER_SEC;
                source_on_unpublish(played); /* its player stays */
                clock.now = t;
                source_on_unpublish(recent); /* less than 3 s before the sweep */
                clock.now = JUST_BEFORE(t + SOURCE_CLEANUP_DELAY);

                ck_assert_uint_eq(source_manager_notify(manager), 0);
                ck_assert_uint_eq(source_manager_size(manager), 3);
                struct source *found_played = source_manager_fetch(manager, "rtmp://localhost/live/played");
                struct source *found_publishing = source_manager_fetch(manager, "rtmp://localhost/live/publishing");
                struct source *found_recent = source_manager_fetch(manager, "rtmp://localhost/live/recent");
                ck_assert_msg(found_played == played, "%s: the sweep erased a source whose player was still attached",
                              source_kind_to_string(kind));
                ck_assert_ptr_eq(found_publishing, publishing);
                ck_assert_ptr_eq(found_recent, recent);
                source_unref(found_played);
                source_unref(found_publishing);
                source_unref(found_recent);

                consumer_free(player);
                source_on_unpublish(publishing);
                source_unref(publishing);
                source_unref(played);
                source_unref(recent);
                free_manager();
        }
}

/*
 * A sweep erases every dead source, and a source nobody else holds is freed by that very sweep: not at the
 * next one, not at shutdown. What it leaves counts as held.
 */
KATA_TEST(sweep_frees_every_dead_source_at_once)
{
        struct fake_clock clock;

        for (size_t k = 0; k < N_KINDS; k++) {
                enum source_kind kind = all_kinds[k];
                struct source_manager *manager = new_manager(kind, &clock);
                unsigned long live_before = source_live_count();
                struct source *ended = fetch_or_create(manager, "rtmp://localhost/live/ended");
                struct source *never = fetch_or_create(manager, "rtmp://localhost/live/never-published");
                struct source *publishing = fetch_or_create(manager, "rtmp://localhost/live/publishing");
                struct source *recent = fetch_or_create(manager, "rtmp://localhost/live/recent");
                usec_t t = START_TIME + 60 * USEC_PER_SEC;
                unsigned erased;
                size_t held;

                ck_assert_int_eq(source_on_publish(ended), 0);
                ck_assert_int_eq(source_on_publish(publishing), 0);
                ck_assert_int_eq(source_on_publish(recent), 0);
                clock.now = START_TIME + 10 * USEC_PER_SEC;
                source_on_unpublish(ended);
                clock.now = t;
                source_on_unpublish(recent);
                /* Only the publisher still holds its source. */
                ended = source_unref(ended);
                never = source_unref(never);
                recent = source_unref(recent);
                ck_assert_uint_eq(source_manager_size(manager), 4);

                clock.now = JUST_BEFORE(t + SOURCE_CLEANUP_DELAY);
                erased = source_manager_notify(manager);
                ck_assert_uint_eq(erased + source_manager_size(manager), 4); /* it counts what it erased */
                kata_assert_released(source_manager_size(manager), 2, "%s sources the sweep (source_manager_notify()) should have erased",
                                     source_kind_to_string(kind));
                kata_assert_released(source_live_count(), live_before + 2, "%s sources, right after the sweep (source_manager_notify()),",
                                     source_kind_to_string(kind));

                clock.now = t + SOURCE_CLEANUP_DELAY; /* now the recent one is dead too */
                held = source_manager_size(manager);
                erased = source_manager_notify(manager);
                ck_assert_uint_eq(erased + source_manager_size(manager), held);
                kata_assert_released(source_live_count(), live_before + 1,
                                     "%s sources, right after the second sweep (source_manager_notify()),", source_kind_to_string(kind));

                source_on_unpublish(publishing);
                source_unref(publishing);
                free_manager();
        }
}

/* Many streams can end between two ticks (a server restarting its encoders, a flash crowd leaving): one
 * sweep erases every dead source, however many there are, and frees those nobody else holds. */
KATA_TEST(one_sweep_erases_thousands_of_dead_sources)
{
        enum { N = 3000 };
        struct fake_clock clock;
        struct source_manager *manager = new_manager(SOURCE_SRT, &clock);
        unsigned long live_before = source_live_count();
        unsigned erased;
        char url[64];

        for (int i = 0; i < N; i++) {
                snprintf(url, sizeof url, "srt://localhost/flash/%d", i);
                struct source *source = fetch_or_create(manager, url);

                ck_assert_int_eq(source_on_publish(source), 0);
                source_on_unpublish(source);
                source_unref(source);
        }
        ck_assert_uint_eq(source_manager_size(manager), N);

        clock.now += SOURCE_CLEANUP_DELAY;
        erased = source_manager_notify(manager);
        ck_assert_uint_eq(erased + source_manager_size(manager), N);
        kata_assert_released(source_manager_size(manager), 0, "SRT sources one sweep (source_manager_notify()) should have erased");
        kata_assert_released(source_live_count(), live_before, "SRT sources, right after one sweep (source_manager_notify()) of %d dead,", N);
        free_manager();
}

/* One full warm-up cycle on another URL, so that whatever is allocated once is in the heap's baseline. */
static void warm_up(struct source_manager *manager, struct fake_clock *clock)
{
        struct source *source = fetch_or_create(manager, "rtmp://localhost/warm/up");
        struct consumer *consumer = create_consumer(source);

        ck_assert_int_eq(source_on_publish(source), 0);
        ck_assert_int_eq(source_on_frame(source), 0);
        consumer_free(consumer);
        source_on_unpublish(source);
        source_unref(source);
        clock->now += SOURCE_CLEANUP_DELAY;
        source_manager_notify(manager);
}

/* Issue #713: a publisher fetched its source, and before it could publish the sweep freed the source. */
KATA_TEST(publisher_holding_its_source_keeps_it_alive_across_a_sweep)
{
        struct fake_clock clock;

        for (size_t k = 0; k < N_KINDS; k++) {
                enum source_kind kind = all_kinds[k];
                struct source_manager *manager = new_manager(kind, &clock);
                struct source *publisher;
                struct kata_heap before;
                unsigned long live_before;

                warm_up(manager, &clock);
                before = kata_heap_snapshot();
                live_before = source_live_count();
                publisher = fetch_or_create(manager, "rtmp://localhost/live/slow-publisher");

                /* The publisher is still handshaking when the timer sweeps: its source is dead by the rule
                 * (never published, nobody plays), and the pool may drop it. The publisher's must stay. */
                clock.now += 10 * USEC_PER_SEC;
                source_manager_notify(manager);
                ck_assert_str_eq(source_url(publisher), "rtmp://localhost/live/slow-publisher");
                ck_assert_int_eq(source_on_publish(publisher), 0);
                ck_assert_int_eq(source_on_frame(publisher), 0);
                ck_assert_uint_eq(source_frames(publisher), 1);
                source_on_unpublish(publisher);

                /* The sweep took the source out of the pool: the publisher's release is the last one, and
                 * frees it at once. */
                publisher = source_unref(publisher);
                kata_assert_released(source_live_count(), live_before,
                                     "%s sources, right after the publisher let go (source_unref()) of a swept source,",
                                     source_kind_to_string(kind));

                /* And after the next sweep nothing of the source is left. */
                clock.now += SOURCE_CLEANUP_DELAY;
                source_manager_notify(manager);
                kata_assert_heap_at_baseline(&before, "after the %s publisher let go of its source",
                                             source_kind_to_string(kind));
                free_manager();
        }
}

/* SRS #4089: HTTP streaming fetches the stream's source for each request instead of keeping one. */
KATA_TEST(http_stream_serves_the_source_the_pool_has_now)
{
        struct fake_clock clock;
        struct source_manager *manager = new_manager(SOURCE_LIVE, &clock);
        const char *url = "rtmp://localhost/live/flv";
        struct http_stream *stream = NULL;
        struct http_response response;
        struct source *publisher;
        unsigned long live_before = source_live_count();

        ck_assert_int_eq(http_stream_mount(manager, url, &stream), -ENOENT);
        ck_assert_ptr_null(stream);

        publisher = fetch_or_create(manager, url);
        ck_assert_int_eq(source_on_publish(publisher), 0);
        ck_assert_int_eq(http_stream_mount(manager, url, &stream), 0);
        ck_assert_ptr_nonnull(stream);
        ck_assert_int_eq(source_on_frame(publisher), 0);
        ck_assert_int_eq(source_on_frame(publisher), 0);
        http_stream_serve(stream, &response);
        ck_assert_int_eq(response.status, 200);
        ck_assert_uint_eq(response.frames, 2);
        ck_assert_uint_eq(source_consumer_count(publisher), 0); /* the request's consumer is gone */

        /* The publisher leaves; the stream stays mounted, and the sweep may drop the source. */
        source_on_unpublish(publisher);
        publisher = source_unref(publisher);
        http_stream_serve(stream, &response);
        ck_assert_int_eq(response.status, 404);
        clock.now += SOURCE_CLEANUP_DELAY;
        source_manager_notify(manager);
        /* Each request let go of the source when it ended: the mounted stream holds none. */
        kata_assert_released(source_live_count(), live_before,
                             "sources, right after the sweep (source_manager_notify()), with the HTTP stream still mounted,");
        http_stream_serve(stream, &response);
        ck_assert_int_eq(response.status, 404);

        /* A publisher comes back to the same URL: players must get its frames. */
        publisher = fetch_or_create(manager, url);
        ck_assert_int_eq(source_on_publish(publisher), 0);
        ck_assert_int_eq(source_on_frame(publisher), 0);
        http_stream_serve(stream, &response);
        ck_assert_msg(response.status == 200 && response.frames == 1,
                      "the republished stream %s answered %d with %lu frames, not 200 with 1: the HTTP stream "
                      "plays a source that is no longer the pool's", url, response.status, response.frames);

        source_on_unpublish(publisher);
        source_unref(publisher);
        http_stream_free(stream);
        free_manager();
}

/* The URL is lent for the call only (SRS's SrsLiveStream copies the request it is mounted with): a caller may
 * reuse its buffer at once, here for the next stream's mount, and each stream still serves its own. */
KATA_TEST(http_stream_mount_copies_the_url_it_is_lent)
{
        struct fake_clock clock;
        struct source_manager *manager = new_manager(SOURCE_LIVE, &clock);
        struct source *first = fetch_or_create(manager, "rtmp://localhost/live/first");
        struct source *second = fetch_or_create(manager, "rtmp://localhost/live/second");
        struct http_stream *first_stream = NULL, *second_stream = NULL;
        struct http_response response;
        char url[64];

        ck_assert_int_eq(source_on_publish(first), 0);
        ck_assert_int_eq(source_on_publish(second), 0);
        ck_assert_int_eq(source_on_frame(first), 0);
        for (int i = 0; i < 2; i++)
                ck_assert_int_eq(source_on_frame(second), 0);
        snprintf(url, sizeof url, "%s", "rtmp://localhost/live/first");
        ck_assert_int_eq(http_stream_mount(manager, url, &first_stream), 0);
        snprintf(url, sizeof url, "%s", "rtmp://localhost/live/second");
        ck_assert_int_eq(http_stream_mount(manager, url, &second_stream), 0);
        memset(url, 0, sizeof url);

        http_stream_serve(first_stream, &response);
        ck_assert_msg(response.status == 200 && response.frames == 1,
                      "the first stream answered %d with %lu frames, not 200 with 1: it serves whatever its "
                      "caller's buffer names now", response.status, response.frames);
        http_stream_serve(second_stream, &response);
        ck_assert_int_eq(response.status, 200);
        ck_assert_uint_eq(response.frames, 2);

        http_stream_free(second_stream);
        http_stream_free(first_stream);
        source_on_unpublish(second);
        source_on_unpublish(first);
        source_unref(second);
        source_unref(first);
        free_manager();
}

/* Whatever fails inside a mount (the allocation-failure sweep fails each call in turn), its result is true: 0
 * with a stream that serves, or an error and the caller's variable left alone. Nothing is asserted between
 * the call and the use of its result: under the sweep a failed assertion is expected, so a 0 without a
 * stream must show as what it is to a caller, a crash. */
KATA_TEST(http_stream_mount_result_is_true_whatever_fails)
{
        struct fake_clock clock;
        struct source_manager *manager = new_manager(SOURCE_LIVE, &clock);
        const char *url = "rtmp://localhost/live/mounted";
        struct source *publisher = fetch_or_create(manager, url);
        struct http_stream *stream = NULL;
        struct http_response response = { 0 };
        int r;

        ck_assert_int_eq(source_on_publish(publisher), 0);
        kata_any_outcome(); /* from here on, a failed assertion is a mount that lied, sweep or not */
        r = http_stream_mount(manager, url, &stream);
        if (r == 0) {
                http_stream_serve(stream, &response);
                stream = http_stream_free(stream);
        }
        source_on_unpublish(publisher);
        source_unref(publisher);
        free_manager();
        if (r == 0)
                ck_assert_msg(response.status == 200 || response.status == 503,
                              "the stream mounted with 0 answered %d, not 200 (or 503, out of memory while serving)",
                              response.status);
        else
                ck_assert_msg(r == -ENOMEM && !stream, "http_stream_mount() returned %d and set the stream to %p", r,
                              (void *) stream);
}

/* ---- churn: many streams come and go, and the pools must give their memory back ---- */

/* One stream's life: a publisher and a player come and go (and, for Live, an HTTP player). True when all
 * went as it should. Asserts nothing, so that nothing but the code under test allocates while churning. */
static bool stream_cycle(struct source_manager *manager, enum source_kind kind, const char *url)
{
        struct source *publisher = NULL, *player = NULL;
        struct consumer *consumer = NULL;
        struct http_stream *http = NULL;
        struct http_response response = { 0 };
        bool ok;

        if (source_manager_fetch_or_create(manager, url, &publisher) < 0)
                return false;
        if (kind == SOURCE_RTC)
                source_set_stream_created(publisher);
        ok = source_on_publish(publisher) == 0;
        if (kind == SOURCE_LIVE)
                ok = http_stream_mount(manager, url, &http) == 0 && ok;
        if (source_manager_fetch_or_create(manager, url, &player) == 0) {
                ok = player == publisher && ok;
                ok = source_create_consumer(player, &consumer) == 0 && ok;
        } else
                ok = false;
        ok = source_on_frame(publisher) == 0 && ok;
        ok = (!consumer || consumer_frames(consumer) == 1) && ok;
        if (http) {
                http_stream_serve(http, &response);
                ok = response.status == 200 && response.frames == 1 && ok;
        }

        consumer_free(consumer);
        source_unref(player);
        http_stream_free(http);
        source_on_unpublish(publisher);
        source_unref(publisher);
        return ok;
}

static void churn(enum source_kind kind, const char *scheme)
{
        struct fake_clock clock;
        struct source_manager *manager = new_manager(kind, &clock);
        struct kata_heap before;
        usec_t next_notify;
        int failed = 0;
        char url[64];

        warm_up(manager, &clock);
        before = kata_heap_snapshot();
        next_notify = clock.now + SOURCE_NOTIFY_INTERVAL;
        for (int i = 0; i < CHURN_STREAMS; i++) {
                snprintf(url, sizeof url, "%s://localhost/live/stream-%d", scheme, i);
                if (!stream_cycle(manager, kind, url))
                        failed++;
                clock.now += 10 * USEC_PER_MSEC;
                if (clock.now >= next_notify) {
                        source_manager_notify(manager);
                        next_notify += SOURCE_NOTIFY_INTERVAL;
                }
        }
        clock.now += SOURCE_CLEANUP_DELAY;
        source_manager_notify(manager);

        kata_assert_heap_at_baseline(&before, "after %s %s streams", "2,000", source_kind_to_string(kind));
        ck_assert_msg(failed == 0, "%d of %d %s stream cycles went wrong", failed, CHURN_STREAMS,
                      source_kind_to_string(kind));
        free_manager();
}

KATA_TEST(live_pool_gives_back_the_memory_of_2000_streams)
{
        churn(SOURCE_LIVE, "rtmp");
}

KATA_TEST(srt_pool_gives_back_the_memory_of_2000_streams)
{
        churn(SOURCE_SRT, "srt");
}

KATA_TEST(rtc_pool_gives_back_the_memory_of_2000_streams)
{
        churn(SOURCE_RTC, "webrtc");
}

KATA_TEST(shutdown_frees_every_source)
{
        struct fake_clock clock;
        char url[64];

        for (size_t k = 0; k < N_KINDS; k++) {
                enum source_kind kind = all_kinds[k];
                struct source_manager *manager = new_manager(kind, &clock);
                unsigned long live_before = source_live_count();

                for (int i = 0; i < 100; i++) {
                        snprintf(url, sizeof url, "rtmp://localhost/live/%d", i);
                        struct source *source = fetch_or_create(manager, url);

                        if (i % 2)
                                ck_assert_int_eq(source_on_publish(source), 0);
                        source_unref(source);
                }
                ck_assert_uint_eq(source_manager_size(manager), 100);
                ck_assert_uint_eq(source_live_count(), live_before + 100);
                free_manager();
                kata_assert_released(source_live_count(), live_before, "%s sources, right after shutdown (source_manager_free()),",
                                     source_kind_to_string(kind));
        }
}

void kata_register(TCase *tc)
{
        /* Frees the pool of a test that failed half way (see test_manager). */
        tcase_add_checked_fixture(tc, NULL, free_leftover_manager);

        tcase_add_test(tc, fetch_or_create_shares_one_source_per_url);
        tcase_add_test(tc, pool_finds_each_of_many_urls);
        tcase_add_test(tc, kind_names);
        tcase_add_test(tc, free_functions_accept_null);
        tcase_add_test(tc, one_publisher_at_a_time);
        tcase_add_test(tc, every_frame_reaches_every_consumer);
        /* The death rule of each kind, with its 3 s of grace. */
        tcase_add_test(tc, source_dies_3s_after_its_publisher_leaves);
        tcase_add_test(tc, consumer_arriving_inside_the_grace_keeps_the_source);
        tcase_add_test(tc, last_consumer_leaving_an_unpublished_stream_starts_the_grace);
        tcase_add_test(tc, consumer_leaving_a_live_stream_starts_no_grace);
        tcase_add_test(tc, source_never_published_dies_when_nobody_waits_for_it);
        tcase_add_test(tc, rtc_stream_lives_from_its_sdp_on_before_any_frame);
        tcase_add_test(tc, rtc_publisher_that_never_started_ends_its_stream_when_it_goes);
        /* The sweep, and the holders it must not hurt. */
        tcase_add_test(tc, sweep_keeps_every_source_still_in_use);
        tcase_add_test(tc, sweep_frees_every_dead_source_at_once);
        tcase_add_test(tc, one_sweep_erases_thousands_of_dead_sources);
        tcase_add_test(tc, publisher_holding_its_source_keeps_it_alive_across_a_sweep);
        tcase_add_test(tc, http_stream_serves_the_source_the_pool_has_now);
        tcase_add_test(tc, http_stream_mount_result_is_true_whatever_fails);
        tcase_add_test(tc, http_stream_mount_copies_the_url_it_is_lent);
        /* The leak: growth while running. */
        tcase_add_test(tc, live_pool_gives_back_the_memory_of_2000_streams);
        tcase_add_test(tc, srt_pool_gives_back_the_memory_of_2000_streams);
        tcase_add_test(tc, rtc_pool_gives_back_the_memory_of_2000_streams);
        tcase_add_test(tc, shutdown_frees_every_source);
}
