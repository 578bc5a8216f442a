/* SPDX-License-Identifier: MIT */
/*
 * The pool: a hash table from URL to source, with chaining. Lookups stay O(1) however many streams there
 * are, the sweep can unlink entries as it walks, and the table shrinks again as the pool empties.
 */
#include "source_manager.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define POOL_MIN_BUCKETS 8u

struct pool_entry {
        struct pool_entry *next;
        uint64_t hash;
        struct source *source; /* owned by the pool until shutdown */
};

struct source_manager {
        enum source_kind kind;
        struct source_clock clock;
        struct pool_entry **buckets; /* n_buckets chains, a power of two */
        size_t n_buckets;
        size_t n_sources;
};

/* FNV-1a, 64 bits. */
static uint64_t hash_url(const char *url)
{
        uint64_t hash = 0xcbf29ce484222325u;

        for (const unsigned char *c = (const unsigned char *) url; *c; c++)
                hash = (hash ^ *c) * 0x100000001b3u;
        return hash;
}

static struct pool_entry **pool_bucket(const struct source_manager *manager, uint64_t hash)
{
        return &manager->buckets[hash & (manager->n_buckets - 1)];
}

/* Keeps about one entry per bucket: doubles when fuller, halves when a quarter full. When out of memory
 * the table keeps its size: slower, still correct. */
static void pool_fit(struct source_manager *manager)
{
        size_t want = manager->n_buckets;
        struct pool_entry **buckets;

        while (manager->n_sources > want)
                want *= 2;
        while (want > POOL_MIN_BUCKETS && manager->n_sources <= want / 4)
                want /= 2;
        if (want == manager->n_buckets)
                return;
        buckets = calloc(want, sizeof *buckets);
        if (!buckets)
                return;
        for (size_t i = 0; i < manager->n_buckets; i++)
                while (manager->buckets[i]) {
                        struct pool_entry *entry = manager->buckets[i];

                        manager->buckets[i] = entry->next;
                        entry->next = buckets[entry->hash & (want - 1)];
                        buckets[entry->hash & (want - 1)] = entry;
                }
        free(manager->buckets);
        manager->buckets = buckets;
        manager->n_buckets = want;
}

struct source_manager *source_manager_new(enum source_kind kind, const struct source_clock *clock)
{
        struct source_manager *manager = calloc(1, sizeof *manager);

        if (!manager)
                return NULL;
        manager->buckets = calloc(POOL_MIN_BUCKETS, sizeof *manager->buckets);
        if (!manager->buckets) {
                free(manager);
                return NULL;
        }
        manager->n_buckets = POOL_MIN_BUCKETS;
        manager->kind = kind;
        manager->clock = *clock;
        return manager;
}

struct source_manager *source_manager_free(struct source_manager *manager)
{
        if (!manager)
                return NULL;
        for (size_t i = 0; i < manager->n_buckets; i++)
                while (manager->buckets[i]) {
                        struct pool_entry *entry = manager->buckets[i];

                        manager->buckets[i] = entry->next;
                        source_free(entry->source);
                        free(entry);
                }
        free(manager->buckets);
        free(manager);
        return NULL;
}

static struct pool_entry *pool_find(const struct source_manager *manager, const char *url, uint64_t hash)
{
        for (struct pool_entry *entry = *pool_bucket(manager, hash); entry; entry = entry->next)
                if (strcmp(source_url(entry->source), url) == 0)
                        return entry;
        return NULL;
}

int source_manager_fetch_or_create(struct source_manager *manager, const char *url, struct source **ret_source)
{
        uint64_t hash = hash_url(url);
        struct pool_entry *entry = pool_find(manager, url, hash);

        if (!entry) {
                entry = calloc(1, sizeof *entry);
                if (!entry)
                        return -ENOMEM;
                entry->source = source_new(manager->kind, url, &manager->clock);
                if (!entry->source) {
                        free(entry);
                        return -ENOMEM;
                }
                entry->hash = hash;
                entry->next = *pool_bucket(manager, hash);
                *pool_bucket(manager, hash) = entry;
                manager->n_sources++;
                pool_fit(manager);
        }
        *ret_source = entry->source;
        return 0;
}

struct source *source_manager_fetch(struct source_manager *manager, const char *url)
{
        struct pool_entry *entry = pool_find(manager, url, hash_url(url));

        return entry ? entry->source : NULL;
}

unsigned source_manager_notify(struct source_manager *manager)
{
        unsigned erased = 0;

        /* SRT and RTC pools never erased a source. The Live sweep below (written here with the rules of
         * 2024; in 2016 it waited 30 s) freed a source that a publisher still held and crashed the server
         * (#713), so it was switched off, for eight years. */
#if 0
        for (size_t i = 0; i < manager->n_buckets; i++)
                for (struct pool_entry **link = &manager->buckets[i]; *link;) {
                        struct pool_entry *entry = *link;

                        if (!source_stream_is_dead(entry->source)) {
                                link = &entry->next;
                                continue;
                        }
                        *link = entry->next;
                        source_free(entry->source);
                        free(entry);
                        manager->n_sources--;
                        erased++;
                }
        pool_fit(manager);
#endif
        (void) manager;
        return erased;
}

size_t source_manager_size(const struct source_manager *manager)
{
        return manager->n_sources;
}
