/* SPDX-License-Identifier: MIT */
/*
 * Sources and their consumers. A consumer keeps a plain pointer to its source: the source keeps the list
 * of its consumers, and a player lets go of its source only after freeing its consumer.
 */
#include "source.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct consumer {
        struct source *source; /* transfer none: the source outlives its consumers */
        struct consumer *prev, *next;
        unsigned long frames;
};

struct source {
        enum source_kind kind;
        char *url;
        struct source_clock clock;
        bool publishing;  /* from source_on_publish() to source_on_unpublish() */
        bool is_created;  /* RTC: the publisher's stream exists, from its SDP (or its publish) to its unpublish */
        usec_t die_at;    /* when the source last became idle; 0 at first, and once a consumer attaches */
        unsigned long frames;
        struct consumer *consumers;
        size_t n_consumers;
};

const char *source_kind_to_string(enum source_kind kind)
{
        switch (kind) {
        case SOURCE_LIVE:
                return "Live";
        case SOURCE_SRT:
                return "SRT";
        case SOURCE_RTC:
                return "RTC";
        }
        return "unknown";
}

static unsigned long live_sources;

unsigned long source_live_count(void)
{
        return live_sources;
}

static usec_t source_now(const struct source *source)
{
        return source->clock.now(source->clock.userdata);
}

/* Whether the stream exists for the purpose of cleanup: somebody publishes, or, for RTC, the publisher's
 * stream was created (its SDP is done) even if no frame came yet. */
static bool source_has_stream(const struct source *source)
{
        if (source->kind == SOURCE_RTC)
                return source->is_created;
        return source->publishing;
}

struct source *source_new(enum source_kind kind, const char *url, const struct source_clock *clock)
{
        struct source *source = calloc(1, sizeof *source);

        if (!source)
                return NULL;
        source->url = strdup(url);
        if (!source->url) {
                free(source);
                return NULL;
        }
        source->kind = kind;
        source->clock = *clock;
        live_sources++;
        return source;
}

void source_free(struct source *source)
{
        if (!source)
                return;
        free(source->url);
        free(source);
        live_sources--;
}

struct source *source_unref(struct source *source)
{
        /* Nothing to do: the pool owns every source for as long as the server runs, and frees them all at
         * shutdown (source_manager_free). Callers only borrow them. */
        (void) source;
        return NULL;
}

const char *source_url(const struct source *source)
{
        return source->url;
}

enum source_kind source_kind(const struct source *source)
{
        return source->kind;
}

int source_on_publish(struct source *source)
{
        if (source->publishing)
                return -EBUSY;
        source->publishing = true;
        source->is_created = true;
        source->frames = 0;
        return 0;
}

void source_on_unpublish(struct source *source)
{
        /* Live and SRT end what source_on_publish() began; RTC ends its created stream, even one whose
         * publisher never started (SRS's RTC publisher unpublishes whenever it goes). */
        if (!source_has_stream(source))
                return;
        source->publishing = false;
        source->is_created = false;
        if (source->n_consumers == 0)
                source->die_at = source_now(source);
}

void source_set_stream_created(struct source *source)
{
        source->is_created = true;
}

bool source_can_publish(const struct source *source)
{
        return !source_has_stream(source);
}

int source_on_frame(struct source *source)
{
        if (!source->publishing)
                return -ENOTCONN;
        source->frames++;
        for (struct consumer *consumer = source->consumers; consumer; consumer = consumer->next)
                consumer->frames++;
        return 0;
}

unsigned long source_frames(const struct source *source)
{
        return source->frames;
}

int source_create_consumer(struct source *source, struct consumer **ret_consumer)
{
        struct consumer *consumer = calloc(1, sizeof *consumer);

        if (!consumer)
                return -ENOMEM;
        consumer->source = source;
        consumer->next = source->consumers;
        if (source->consumers)
                source->consumers->prev = consumer;
        source->consumers = consumer;
        source->n_consumers++;
        source->die_at = 0; /* somebody plays: the source is not idle */
        *ret_consumer = consumer;
        return 0;
}

struct consumer *consumer_free(struct consumer *consumer)
{
        struct source *source;

        if (!consumer)
                return NULL;
        source = consumer->source;
        if (consumer->prev)
                consumer->prev->next = consumer->next;
        else
                source->consumers = consumer->next;
        if (consumer->next)
                consumer->next->prev = consumer->prev;
        /* The last player left a stream nobody publishes: the source is idle from now on. */
        if (--source->n_consumers == 0 && !source_has_stream(source))
                source->die_at = source_now(source);
        free(consumer);
        return NULL;
}

unsigned long consumer_frames(const struct consumer *consumer)
{
        return consumer->frames;
}

size_t source_consumer_count(const struct source *source)
{
        return source->n_consumers;
}

bool source_stream_is_dead(const struct source *source)
{
        if (source_has_stream(source) || source->n_consumers > 0)
                return false;
        return source_now(source) >= source->die_at + SOURCE_CLEANUP_DELAY;
}
