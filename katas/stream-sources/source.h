/* SPDX-License-Identifier: MIT */
/*
 * A stream's source, modelled on SRS's SrsLiveSource, SrsSrtSource and SrsRtcSource: one per stream URL,
 * kept in a pool by a source manager (source_manager.h). Publishers push frames into it; players attach
 * consumers to it, and every frame reaches every consumer.
 *
 * Ownership (GLib's words): "transfer full" means the receiver now owns the object and must release it;
 * "transfer none" means it is only borrowed.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t usec_t;
#define USEC_PER_MSEC ((usec_t) 1000)
#define USEC_PER_SEC ((usec_t) 1000000)

/* How long a source with nobody publishing and nobody playing stays in its pool: SRS_SOURCE_CLEANUP, 3 s
 * since SRS 6.0.130 (#4097). */
#define SOURCE_CLEANUP_DELAY (3 * USEC_PER_SEC)

/* Where every time comes from, so that tests can move time by hand instead of sleeping. */
struct source_clock {
        usec_t (*now)(void *userdata);
        void *userdata;
};

enum source_kind {
        SOURCE_LIVE, /* RTMP, HTTP-FLV */
        SOURCE_SRT,
        SOURCE_RTC,  /* WebRTC */
};

struct source;
struct consumer;

/* "Live", "SRT" or "RTC"; "unknown" for a value that is none of the three. */
const char *source_kind_to_string(enum source_kind kind);

/* A new source for url, nobody publishing, no consumers (transfer full), or NULL when out of memory.
 * Only a source manager makes sources. */
struct source *source_new(enum source_kind kind, const char *url, const struct source_clock *clock);

/* Frees the source. Only its source manager calls it, at shutdown; every consumer must be freed first. */
void source_free(struct source *source);

/* Lets go of a source returned by source_manager_fetch_or_create() or source_manager_fetch() (transfer
 * full). Accepts NULL. Returns NULL. */
struct source *source_unref(struct source *source);

const char *source_url(const struct source *source);
enum source_kind source_kind(const struct source *source);

/* A publisher starts: 0, or -EBUSY when somebody already publishes. Frame counting starts again. RTC: the
 * stream is created, if its SDP had not done it already. */
int source_on_publish(struct source *source);
/* The publisher goes. Nothing happens when there is nothing to end: Live and SRT, nobody publishes; RTC, the
 * stream is not created (SRS's RTC publisher calls it when it goes, even if it never started publishing). */
void source_on_unpublish(struct source *source);
/* RTC: the publisher's SDP is done, so the stream exists before its first frame (SRS's is_created_). Live
 * and SRT ignore it: only a publisher counts. */
void source_set_stream_created(struct source *source);
/* True while a new publisher may start: Live and SRT, nobody publishes; RTC, the stream is not created. */
bool source_can_publish(const struct source *source);

/* The publisher sends one frame; every consumer receives it. 0, or -ENOTCONN when nobody publishes. */
int source_on_frame(struct source *source);
/* Frames sent since the current publisher started. */
unsigned long source_frames(const struct source *source);

/* A player starts: a consumer attached to source, stored in *ret_consumer (transfer full: free it with
 * consumer_free() before letting go of the source). 0, or -ENOMEM. */
int source_create_consumer(struct source *source, struct consumer **ret_consumer);
/* The player stops: detaches the consumer from its source and frees it. Accepts NULL. Returns NULL. */
struct consumer *consumer_free(struct consumer *consumer);
/* Frames this consumer has received. */
unsigned long consumer_frames(const struct consumer *consumer);
size_t source_consumer_count(const struct source *source);

/*
 * True when the source may be erased from its pool: nobody publishes (RTC: its stream is not created),
 * nobody plays, and it has been so for at least SOURCE_CLEANUP_DELAY. The wait starts on unpublish, or when
 * the last consumer leaves; a new consumer cancels it. A source that was never published and has no
 * consumer is dead from the start, as in SRS 6.0.130 (its death time starts at 0; SRS later called that a
 * bug, #4449, and since 7.0.127 starts the wait when the source is made).
 */
bool source_stream_is_dead(const struct source *source);

/* How many sources exist in this process: made and not yet freed. For tests. */
unsigned long source_live_count(void);
