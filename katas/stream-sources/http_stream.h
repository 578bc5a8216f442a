/* SPDX-License-Identifier: MIT */
/*
 * HTTP streaming (HTTP-FLV) of a Live stream, modelled on SRS's SrsLiveStream: mounted when the stream is
 * published, it answers each player's request by attaching a consumer to the stream's source.
 */
#pragma once

#include "source_manager.h"

struct http_stream;

struct http_response {
        int status;           /* 200 playing, 404 no such stream or nobody publishes, 503 out of memory */
        unsigned long frames; /* 200: frames the publisher has sent so far */
};

/* Mounts url, whose source must be in manager's pool, and stores the stream in *ret_stream (transfer full:
 * free it with http_stream_free()). 0, -ENOENT when the pool has no source for url, or -ENOMEM. manager:
 * transfer none, it must outlive the stream; url: transfer none, lent for the call only. */
int http_stream_mount(struct source_manager *manager, const char *url, struct http_stream **ret_stream);

/* Serves one player's request. */
void http_stream_serve(struct http_stream *stream, struct http_response *response);

/* Unmounts. Accepts NULL. Returns NULL. */
struct http_stream *http_stream_free(struct http_stream *stream);
