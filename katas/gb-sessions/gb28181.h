/* SPDX-License-Identifier: MIT */
/*
 * GB28181 sessions, modelled on SRS's srs_app_gb28181.cpp. A GB28181 camera (a "device") talks to the server
 * over two TCP connections: SIP, for REGISTER, INVITE and BYE, and media, which carries its PS stream. A
 * session ties the two together for one device:
 *
 *   REGISTER on a SIP connection     finds the device's session by device id, or creates it
 *   the session drives every 300 ms  INVITEs the device with an SSRC, waits for its media connection
 *   a PS pack on a media connection  finds the session by that SSRC, and streams into it
 *   media lost for more than 5 s     the session INVITEs again
 *   no media 60 s after an INVITE    INVITE again; the 5th such timeout ends the session
 *   BYE, or REGISTER with expires 0  the session ends, and ends its SIP and media connections
 *   REGISTER with a malformed id     ends that SIP connection, unanswered: an id is 20 digits, then NUL
 *
 * Sessions and connections each run their cycle under an executor (executor.h) and live in the resource
 * manager (resource_manager.h), which frees them once their cycle is over.
 *
 * Ownership (GLib's words): "transfer full" hands over a reference, "transfer none" only lends.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "executor.h"
#include "resource_manager.h"
#include "transport.h"

/* SRS's constants (srs_app_gb28181.cpp) and configuration defaults. */
#define GB_SESSION_DRIVE_INTERVAL_MS 300       /* SRS_GB_SESSION_DRIVE_INTERVAL */
#define GB_MAX_TIMEOUT 3                       /* SRS_GB_MAX_TIMEOUT: `nn_timeout++ > 3` fails the 5th timeout */
#define GB_CONNECTING_TIMEOUT_MS (60 * 1000)   /* stream_caster sip timeout */
#define GB_REINVITE_WAIT_MS (5 * 1000)         /* stream_caster sip reinvite */

/* The two ways a session ends. */
enum gb_session_end {
        GB_END_BYE,     /* the device said BYE, or REGISTER with expires 0 */
        GB_END_TIMEOUT, /* the 5th connecting timeout: the device never sent its media */
};

struct gb_config {
        msec_t connecting_timeout_ms; /* 0: GB_CONNECTING_TIMEOUT_MS */
        msec_t reinvite_wait_ms;      /* 0: GB_REINVITE_WAIT_MS */
        /* Called once when a session's cycle ends, before the manager frees it. May be NULL. */
        void (*on_session_end)(const char *device_id, enum gb_session_end why, void *userdata);
        void *userdata;
};

/* The server side: accepts the devices' connections (SRS's SrsGbListener). */
struct gb_listener;

/* Returns a new listener (transfer full: free it with gb_listener_free()), or NULL. loop and manager:
 * transfer none; they must outlive every round the loop runs. config is copied. */
struct gb_listener *gb_listener_new(struct event_loop *loop, struct resource_manager *manager,
                                    const struct gb_config *config);
struct gb_listener *gb_listener_free(struct gb_listener *listener);

/* A device connected: starts a SIP (or media) connection on transport (transfer none: the connection takes
 * a reference of its own). The connection lives in the manager. 0, or -ENOMEM. */
int gb_listener_accept_sip(struct gb_listener *listener, struct transport *transport);
int gb_listener_accept_media(struct gb_listener *listener, struct transport *transport);

enum gb_session_state {
        GB_SESSION_INIT,        /* waiting for the device to register, then INVITEs it */
        GB_SESSION_CONNECTING,  /* INVITEd: waiting for the answer and the media connection */
        GB_SESSION_ESTABLISHED, /* the device streams */
};

struct gb_session;

/* The session of device_id in manager (transfer none: valid until its cycle ends), or NULL. */
struct gb_session *gb_session_find(const struct resource_manager *manager, const char *device_id);
enum gb_session_state gb_session_state(const struct gb_session *session);
uint32_t gb_session_ssrc(const struct gb_session *session);
unsigned long gb_session_packs(const struct gb_session *session); /* PS packs received */

/* ---- Between the listener, the session and its connections; not for the listener's users. ---- */

struct gb_listener {
        struct event_loop *loop;          /* transfer none */
        struct resource_manager *manager; /* transfer none */
        struct gb_config config;          /* defaults filled in */
        uint32_t last_ssrc;
};

enum gb_sip_state {
        GB_SIP_INIT,       /* nothing yet */
        GB_SIP_REGISTERED, /* the device registered */
        GB_SIP_INVITING,   /* INVITE sent, no answer yet */
        GB_SIP_STABLE,     /* the device answered the INVITE: its media may come */
        GB_SIP_BYE,        /* the device left */
};

struct gb_sip_conn;
struct gb_media_conn;

/* gb_session.c. start: creates the session of device_id, adds it to the manager and starts its cycle;
 * *ret_session: transfer none (the manager holds it). 0, or -ENOMEM. */
int gb_session_start(struct gb_listener *listener, const char *device_id, struct gb_session **ret_session);
/* on_*_transport: sip or media (transfer none: the session takes its own reference) becomes the session's
 * current connection; it must not be the current one already. */
void gb_session_on_sip_transport(struct gb_session *session, struct gb_sip_conn *sip);
void gb_session_on_media_transport(struct gb_session *session, struct gb_media_conn *media);
void gb_session_on_ps_pack(struct gb_session *session, const struct gb_message *pack);

/* gb_sip_conn.c */
enum gb_sip_state gb_sip_conn_state(const struct gb_sip_conn *sip);
int gb_sip_conn_invite(struct gb_sip_conn *sip, uint32_t ssrc);
void gb_sip_conn_reset_to_register(struct gb_sip_conn *sip);
void gb_sip_conn_take_over(struct gb_sip_conn *sip, const struct gb_sip_conn *previous);
void gb_sip_conn_interrupt(struct gb_sip_conn *sip);

/* gb_media_conn.c */
bool gb_media_conn_is_connected(const struct gb_media_conn *media);
void gb_media_conn_interrupt(struct gb_media_conn *media);
