/* SPDX-License-Identifier: MIT */
#include "http_stream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

DEFINE_CLEANUP_FUNC(struct source *, source_unref);

struct http_stream {
        struct source_manager *manager; /* transfer none: it outlives the stream */
        char *url; /* not the source: a mounted stream must not keep a source alive, nor play a stale one */
};

int http_stream_mount(struct source_manager *manager, const char *url, struct http_stream **ret_stream)
{
        _cleanup_(source_unrefp) struct source *source = source_manager_fetch(manager, url);
        struct http_stream *stream;

        if (!source)
                return -ENOENT;
        stream = calloc(1, sizeof *stream);
        if (!stream)
                return -ENOMEM;
        stream->url = strdup(url);
        if (!stream->url) {
                free(stream);
                return -ENOMEM;
        }
        stream->manager = manager;
        *ret_stream = stream;
        return 0;
}

void http_stream_serve(struct http_stream *stream, struct http_response *response)
{
        /* The source the pool has now, held for this request only (SRS #4089). */
        _cleanup_(source_unrefp) struct source *source = source_manager_fetch(stream->manager, stream->url);
        struct consumer *consumer;

        *response = (struct http_response){ .status = 404 };
        if (!source || source_can_publish(source))
                return;
        if (source_create_consumer(source, &consumer) < 0) {
                response->status = 503;
                return;
        }
        /* A real server would now send the cached frames and then every new one, until the player leaves. */
        response->status = 200;
        response->frames = source_frames(source);
        consumer_free(consumer);
}

struct http_stream *http_stream_free(struct http_stream *stream)
{
        if (!stream)
                return NULL;
        free(stream->url);
        free(stream);
        return NULL;
}
