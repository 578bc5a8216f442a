/* SPDX-License-Identifier: MIT */
/*
 * The session of one device (SRS's SrsGbSession): holds the device's current SIP and media connections and
 * drives the state machine init → connecting → established every 300 ms.
 */
#include "gb28181.h"

#include <errno.h>
#include <stdio.h>

#include "sptr.h"

struct gb_session {
        struct gb_listener *listener; /* raw: outlives every session */
        struct executor *executor;    /* raw: NULL once the cycle has ended */
        struct gb_sip_conn *sip;      /* +1: the device's current SIP connection */
        struct gb_media_conn *media;  /* +1: its current media connection; NULL until one binds */
        char device_id[GB_DEVICE_ID_MAX];
        uint32_t ssrc;
        enum gb_session_state state;
        msec_t next_drive_at;
        msec_t connecting_since;
        msec_t media_lost_since;
        bool media_lost;
        unsigned nn_timeout; /* connecting timeouts so far; never reset, as in SRS */
        unsigned long packs;
};

static void session_destroy(void *object)
{
        struct gb_session *session = object;

        session->sip = sptr_unref(session->sip);
        session->media = sptr_unref(session->media);
}

/* Back to init: the next drive INVITEs the device again. */
static void reset_to_register(struct gb_session *session)
{
        gb_sip_conn_reset_to_register(session->sip);
        session->state = GB_SESSION_INIT;
}

static int drive_state(struct gb_session *session, msec_t now)
{
        const struct gb_config *config = &session->listener->config;
        bool media_connected = gb_media_conn_is_connected(session->media);

        if (session->state == GB_SESSION_INIT) {
                /* The device has registered: a session is made on REGISTER, and reset_to_register() puts
                 * its SIP connection back to registered. An INVITE that cannot be sent is like one the
                 * device ignores: the connecting timeout retries it. */
                (void) gb_sip_conn_invite(session->sip, session->ssrc);
                /* Its media connection finds the session by this SSRC. Cannot fail: the manager holds the
                 * session already. */
                (void) resource_manager_add_with_fast_id(session->listener->manager, session->ssrc, session);
                session->state = GB_SESSION_CONNECTING;
                session->connecting_since = now;
        } else if (session->state == GB_SESSION_CONNECTING) {
                if (gb_sip_conn_state(session->sip) == GB_SIP_STABLE && media_connected) {
                        session->state = GB_SESSION_ESTABLISHED;
                        session->media_lost = false;
                } else if (now - session->connecting_since > config->connecting_timeout_ms) {
                        if (session->nn_timeout++ > GB_MAX_TIMEOUT)
                                return -ETIMEDOUT;
                        reset_to_register(session);
                }
        } else if (media_connected) { /* established */
                session->media_lost = false;
        } else if (!session->media_lost) {
                session->media_lost = true;
                session->media_lost_since = now;
        } else if (now - session->media_lost_since > config->reinvite_wait_ms) {
                reset_to_register(session);
        }
        return EXECUTOR_RUNNING;
}

static int session_step(void *object, msec_t now)
{
        struct gb_session *session = object;

        if (now < session->next_drive_at)
                return EXECUTOR_RUNNING;
        session->next_drive_at = now + GB_SESSION_DRIVE_INTERVAL_MS;
        if (gb_sip_conn_state(session->sip) == GB_SIP_BYE)
                return EXECUTOR_DONE;
        return drive_state(session, now);
}

static void session_on_done(void *object, int result)
{
        struct gb_session *session = object;
        const struct gb_config *config = &session->listener->config;
        /* Nothing interrupts a session, and its steps fail only on the 5th connecting timeout. */
        enum gb_session_end why = result == -ETIMEDOUT ? GB_END_TIMEOUT : GB_END_BYE;

        session->executor = NULL;
        /* The device is gone: so are its connections (SRS: sip_->interrupt(); media_->interrupt();). */
        gb_sip_conn_interrupt(session->sip);
        gb_media_conn_interrupt(session->media);
        if (config->on_session_end)
                config->on_session_end(session->device_id, why, config->userdata);
}

static const struct executor_handler session_handler = {
        .step = session_step,
        .on_done = session_on_done,
};

int gb_session_start(struct gb_listener *listener, const char *device_id, struct gb_session **ret_session)
{
        _cleanup_sptr_ struct gb_session *session = sptr_new_of(struct gb_session, session_destroy);
        int r;

        if (!session)
                return -ENOMEM;
        session->listener = listener;
        snprintf(session->device_id, sizeof session->device_id, "%s", device_id);
        session->ssrc = ++listener->last_ssrc;
        session->state = GB_SESSION_INIT;
        session->next_drive_at = event_loop_now(listener->loop);
        r = resource_manager_add_with_id(listener->manager, device_id, session);
        if (r < 0)
                return r;
        session->executor = executor_start(listener->loop, session, &session_handler);
        if (!session->executor) {
                resource_manager_remove(listener->manager, session);
                return -ENOMEM;
        }
        *ret_session = session; /* the manager holds it */
        return 0;
}

void gb_session_on_sip_transport(struct gb_session *session, struct gb_sip_conn *sip)
{
        if (session->sip) {
                /* The device came back on a new connection. SRS never ends the old one: it runs, with
                 * its socket, until the server stops. Here it ends now, so that it is freed now. */
                gb_sip_conn_take_over(sip, session->sip);
                gb_sip_conn_interrupt(session->sip);
        }
        sptr_assign(session->sip, sip);
}

void gb_session_on_media_transport(struct gb_session *session, struct gb_media_conn *media)
{
        /* A newer connection replaces it. SRS just drops its reference (the old one runs on until the
         * device closes it); here it ends now, like a replaced SIP connection. */
        gb_media_conn_interrupt(session->media);
        sptr_assign(session->media, media);
}

void gb_session_on_ps_pack(struct gb_session *session, const struct gb_message *pack)
{
        /* SRS demuxes the pack into a live stream here (SrsGbMuxer); counting is enough for the tests. */
        (void) pack;
        session->packs++;
}

struct gb_session *gb_session_find(const struct resource_manager *manager, const char *device_id)
{
        return resource_manager_find_by_id(manager, device_id);
}

enum gb_session_state gb_session_state(const struct gb_session *session)
{
        return session->state;
}

uint32_t gb_session_ssrc(const struct gb_session *session)
{
        return session->ssrc;
}

unsigned long gb_session_packs(const struct gb_session *session)
{
        return session->packs;
}
