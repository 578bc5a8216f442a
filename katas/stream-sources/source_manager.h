/* SPDX-License-Identifier: MIT */
/*
 * The pool of sources of one kind, modelled on SRS's SrsLiveSourceManager, SrsSrtSourceManager and
 * SrsRtcSourceManager: one source per stream URL, made on first use and shared by the stream's publisher,
 * its players and its HTTP streams. A timer calls source_manager_notify() every SOURCE_NOTIFY_INTERVAL.
 */
#pragma once

#include "source.h"

/* How often SRS's timer calls notify: every 3 s since SRS 6.0.130 (#4097). */
#define SOURCE_NOTIFY_INTERVAL (3 * USEC_PER_SEC)

struct source_manager;

/* An empty pool for sources of `kind`, whose times come from clock (copied). NULL when out of memory. */
struct source_manager *source_manager_new(enum source_kind kind, const struct source_clock *clock);

/* Shutdown: frees the pool and every source in it. Every consumer must be freed first. Accepts NULL.
 * Returns NULL. */
struct source_manager *source_manager_free(struct source_manager *manager);

/* The source for url, made if the pool has none, stored in *ret_source (transfer full: let go of it with
 * source_unref()). 0, or -ENOMEM. */
int source_manager_fetch_or_create(struct source_manager *manager, const char *url, struct source **ret_source);

/* The source for url (transfer full: let go of it with source_unref()), or NULL if the pool has none. */
struct source *source_manager_fetch(struct source_manager *manager, const char *url);

/* The timer's work: erases every dead source (source_stream_is_dead()) from the pool. Returns how many it
 * erased. */
unsigned source_manager_notify(struct source_manager *manager);

/* How many sources the pool holds. */
size_t source_manager_size(const struct source_manager *manager);
