/* SPDX-License-Identifier: MIT */
/*
 * The media connection of a device (SRS's SrsGbMediaTcpConn): its first PS pack names the SSRC of the
 * stream, which finds the session that INVITEd it; every pack then goes to that session.
 */
#include "gb28181.h"

#include <errno.h>

#include "sptr.h"

struct gb_media_conn {
        struct gb_listener *listener; /* raw: outlives every connection */
        struct transport *transport;  /* +1 */
        struct executor *executor;    /* raw: NULL once the cycle has ended */
        /* Raw, never released here: set while the session holds this connection, cleared when it lets go
         * (gb_*_forget_session). Used only while this connection's cycle runs, and the session ends that
         * cycle before it can go. */
        struct gb_session *session;
        bool connected;
};

static void media_conn_destroy(void *object)
{
        struct gb_media_conn *media = object;

        media->transport = sptr_unref(media->transport);
}

/* The session that INVITEd this SSRC, if there is one now. */
static void bind_session(struct gb_media_conn *media, uint32_t ssrc)
{
        struct gb_session *session = resource_manager_find_by_fast_id(media->listener->manager, ssrc);

        if (!session)
                return; /* nobody INVITEd this stream (yet) */
        gb_session_on_media_transport(session, media); /* the session takes a reference to us */
        media->session = session;                       /* and we only point back */
        media->connected = true;
}

static int media_conn_step(void *object, msec_t now)
{
        struct gb_media_conn *media = object;
        struct gb_message pack;
        int r;

        (void) now;
        while ((r = transport_server_read(media->transport, &pack)) == 0) {
                if (pack.type != GB_MSG_PS_PACK)
                        return -EPROTO; /* not a media stream */
                if (!media->session)
                        bind_session(media, pack.ssrc);
                /* A pack nobody INVITEd is dropped, and the connection stays open (SRS: "PS: Ignore packet
                 * ... for no session"); the next pack tries again. */
                if (media->session)
                        gb_session_on_ps_pack(media->session, &pack);
        }
        /* -EPIPE: the device hung up. The session, if this connection found one, keeps this object, sees
         * it disconnected, and INVITEs again after the re-invite wait. */
        return r == -EAGAIN ? EXECUTOR_RUNNING : r;
}

static void media_conn_on_done(void *object, int result)
{
        struct gb_media_conn *media = object;

        (void) result;
        media->executor = NULL;
        media->connected = false;
        transport_server_close(media->transport);
}

static const struct executor_handler media_conn_handler = {
        .step = media_conn_step,
        .on_done = media_conn_on_done,
};

int gb_listener_accept_media(struct gb_listener *listener, struct transport *transport)
{
        _cleanup_sptr_ struct gb_media_conn *media = sptr_new_of(struct gb_media_conn, media_conn_destroy);
        int r;

        if (!media)
                return -ENOMEM;
        media->listener = listener;
        media->transport = sptr_ref(transport);
        r = resource_manager_add(listener->manager, media);
        if (r < 0)
                return r;
        media->executor = executor_start(listener->loop, media, &media_conn_handler);
        if (!media->executor) {
                resource_manager_remove(listener->manager, media);
                return -ENOMEM;
        }
        return 0;
}

bool gb_media_conn_is_connected(const struct gb_media_conn *media)
{
        return media && media->connected;
}

void gb_media_conn_interrupt(struct gb_media_conn *media)
{
        if (media && media->executor)
                executor_interrupt(media->executor);
}

void gb_media_conn_forget_session(struct gb_media_conn *media)
{
        if (media)
                media->session = NULL;
}
