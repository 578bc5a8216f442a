/* SPDX-License-Identifier: MIT */
#include "http_stream.h"

#include <errno.h>
#include <stdlib.h>

struct http_stream {
        struct source *source; /* the stream's source, fetched when mounted */
};

int http_stream_mount(struct source_manager *manager, const char *url, struct http_stream **ret_stream)
{
        struct source *source = source_manager_fetch(manager, url);
        struct http_stream *stream;

        if (!source)
                return -ENOENT;
        stream = calloc(1, sizeof *stream);
        if (!stream) {
                source_unref(source);
                return -ENOMEM;
        }
        stream->source = source;
        *ret_stream = stream;
        return 0;
}

void http_stream_serve(struct http_stream *stream, struct http_response *response)
{
        struct consumer *consumer;

        *response = (struct http_response){ .status = 404 };
        if (source_can_publish(stream->source))
                return;
        if (source_create_consumer(stream->source, &consumer) < 0) {
                response->status = 503;
                return;
        }
        /* A real server would now send the cached frames and then every new one, until the player leaves. */
        response->status = 200;
        response->frames = source_frames(stream->source);
        consumer_free(consumer);
}

struct http_stream *http_stream_free(struct http_stream *stream)
{
        if (!stream)
                return NULL;
        source_unref(stream->source);
        free(stream);
        return NULL;
}
