/* SPDX-License-Identifier: MIT */
/*
 * The memory-growth demo (make demo): a server whose stream URLs never repeat, as in SRS issue #413. Each
 * stream is published, played (for Live also over HTTP), stopped and unpublished, on the Live, SRT and RTC
 * pools in turn, 10 ms apart, with the 3 s timer running. Every N/50 streams it prints the heap bytes in
 * use above the start (glibc's mallinfo2(), malloc's own headers included) and the resident set size.
 *
 *   demo STREAMS LABEL
 *
 * Output, read by memory-plot.awk:
 *   # LABEL STREAMS streams
 *   streams heap_bytes rss_kb          one line per sample
 *   # done LABEL retained_bytes_per_stream seconds
 */
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* Angle brackets: the headers of the side being built (kata or solution), found through -I. */
#include <http_stream.h>
#include <source.h>
#include <source_manager.h>

#define SAMPLES 50

static usec_t demo_now(void *userdata)
{
        return *(usec_t *) userdata;
}

static long heap_bytes(void)
{
        struct mallinfo2 info = mallinfo2();

        return (long) (info.uordblks + info.hblkhd);
}

/* Resident set size in KiB, from /proc/self/statm; read with plain system calls, so that measuring
 * allocates nothing. */
static long rss_kib(void)
{
        char text[128];
        long size, resident;
        int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof text - 1);

        if (fd >= 0)
                close(fd);
        if (n <= 0)
                return 0;
        text[n] = '\0';
        if (sscanf(text, "%ld %ld", &size, &resident) != 2)
                return 0;
        return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* One stream's whole life. Returns 0, or -1 when something failed. */
static int stream_cycle(struct source_manager *manager, enum source_kind kind, const char *url)
{
        struct source *publisher = NULL, *player = NULL;
        struct consumer *consumer = NULL;
        struct http_stream *http = NULL;
        struct http_response response;
        int r = -1;

        if (source_manager_fetch_or_create(manager, url, &publisher) < 0)
                return -1;
        if (kind == SOURCE_RTC)
                source_set_stream_created(publisher);
        if (source_on_publish(publisher) < 0)
                goto out;
        if (kind == SOURCE_LIVE && http_stream_mount(manager, url, &http) < 0)
                goto out;
        if (source_manager_fetch_or_create(manager, url, &player) < 0 || source_create_consumer(player, &consumer) < 0)
                goto out;
        if (source_on_frame(publisher) < 0 || consumer_frames(consumer) != 1)
                goto out;
        if (http) {
                http_stream_serve(http, &response);
                if (response.status != 200)
                        goto out;
        }
        r = 0;
out:
        consumer_free(consumer);
        source_unref(player);
        http_stream_free(http);
        source_on_unpublish(publisher);
        source_unref(publisher);
        return r;
}

int main(int argc, char **argv)
{
        static const enum source_kind kinds[] = { SOURCE_LIVE, SOURCE_SRT, SOURCE_RTC };
        static const char *const schemes[] = { "rtmp", "srt", "webrtc" };
        struct source_manager *managers[3];
        usec_t now = 1000 * USEC_PER_SEC, next_notify;
        long streams = argc > 1 ? atol(argv[1]) : 100000, every, baseline, retained;
        const char *label = argc > 2 ? argv[2] : "demo";
        struct timespec start, end;
        char url[64];

        if (streams <= 0) {
                fprintf(stderr, "usage: demo STREAMS LABEL\n");
                return 2;
        }
        every = streams / SAMPLES > 0 ? streams / SAMPLES : 1;
        for (int k = 0; k < 3; k++) {
                managers[k] = source_manager_new(kinds[k], &(struct source_clock){ demo_now, &now });
                if (!managers[k])
                        return 1;
        }
        printf("# %s %ld streams\n", label, streams); /* stdout's buffer is allocated here, before the baseline */

        /* Warm-up: one stream of each kind, gone again, so that what is allocated once is in the baseline. */
        for (int k = 0; k < 3; k++)
                stream_cycle(managers[k], kinds[k], "rtmp://localhost/warm/up");
        now += SOURCE_CLEANUP_DELAY;
        for (int k = 0; k < 3; k++)
                source_manager_notify(managers[k]);

        baseline = heap_bytes();
        printf("0 0 %ld\n", rss_kib());
        clock_gettime(CLOCK_MONOTONIC, &start);
        next_notify = now + SOURCE_NOTIFY_INTERVAL;
        for (long i = 1; i <= streams; i++) {
                int k = (int) (i % 3);

                snprintf(url, sizeof url, "%s://localhost/live/stream-%ld", schemes[k], i);
                if (stream_cycle(managers[k], kinds[k], url) < 0) {
                        fprintf(stderr, "%s: stream %s failed\n", label, url);
                        return 1;
                }
                now += 10 * USEC_PER_MSEC;
                if (now >= next_notify) {
                        for (int m = 0; m < 3; m++)
                                source_manager_notify(managers[m]);
                        next_notify += SOURCE_NOTIFY_INTERVAL;
                }
                if (i % every == 0 && i < streams)
                        printf("%ld %ld %ld\n", i, heap_bytes() - baseline, rss_kib());
        }
        /* The last streams' 3 s pass, and the timer runs once more. */
        now += SOURCE_CLEANUP_DELAY;
        for (int k = 0; k < 3; k++)
                source_manager_notify(managers[k]);
        clock_gettime(CLOCK_MONOTONIC, &end);

        retained = heap_bytes() - baseline;
        printf("%ld %ld %ld\n", streams, retained, rss_kib());
        printf("# done %s %.1f %.2f\n", label, (double) retained / (double) streams,
               (double) (end.tv_sec - start.tv_sec) + (double) (end.tv_nsec - start.tv_nsec) / 1e9);

        for (int k = 0; k < 3; k++)
                source_manager_free(managers[k]);
        return 0;
}
