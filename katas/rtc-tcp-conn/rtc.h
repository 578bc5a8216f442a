/* SPDX-License-Identifier: MIT */
/*
 * WebRTC over TCP, modelled on SRS's srs_app_rtc_network.cpp and srs_app_rtc_conn.cpp (SRS 6.0.126, the
 * code before PR #4083). A browser plays a stream:
 *
 *   the HTTP API's offer and answer   create the RTC session (SrsRtcConnection), found by its ICE username
 *   the browser connects over TCP      a TCP connection (SrsRtcTcpConn) serves the socket; its first packet,
 *                                      a STUN binding request, names the session, whose TCP network
 *                                      (SrsRtcTcpNetwork) it then serves: one connection per session
 *   STUN binding requests              keep the session alive; each is answered
 *   the DTLS handshake                 establishes the network: the session plays, one RTP packet every
 *                                      20 ms, written through its network to the TCP connection
 *   a DTLS close_notify or fatal alert the browser closed the PeerConnection: the session ends
 *   the TCP connection ends            once the network is established, the session ends too
 *   no STUN for 30 s                   the session times out
 *
 * Sessions and connections each run their cycle under an executor (executor.h); the resource manager
 * (resource_manager.h) holds the sessions and the executors, and frees what is removed at the end of the
 * round.
 *
 * Packets are what RFC 7983 tells apart by their first byte: STUN (0 to 3), DTLS (20 to 63), RTP (128 to
 * 191). Their contents are simplified to what the server looks at.
 *
 * Ownership (GLib's words): "transfer full" hands over a reference, "transfer none" only lends.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "executor.h"
#include "resource_manager.h"
#include "transport.h"

/* SRS's constants and configuration defaults. */
#define RTC_TCP_PACKET_MAX 1500           /* SRS_RTC_TCP_PACKET_MAX: the longest packet a connection reads */
#define RTC_STUN_TIMEOUT_MS (30 * 1000)   /* rtc stun_timeout: a session without STUN for this long ends */
#define RTC_PLAY_INTERVAL_MS 20           /* one audio frame */
#define RTC_USERNAME_MAX RESOURCE_NAME_MAX /* longest ICE username + 1 */

/* First bytes (and the bytes after them) of the packets the server reads and writes. */
#define RTC_STUN_BINDING_REQUEST 0x0001  /* 2 bytes, then the ICE username */
#define RTC_STUN_BINDING_RESPONSE 0x0101 /* 2 bytes, then the ICE username */
#define RTC_DTLS_ALERT 21                /* then the level, then the description */
#define RTC_DTLS_HANDSHAKE 22            /* the client's last flight; the server answers with its own */
#define RTC_DTLS_LEVEL_WARNING 1
#define RTC_DTLS_LEVEL_FATAL 2
#define RTC_DTLS_CLOSE_NOTIFY 0
#define RTC_RTP_VERSION_2 0x80           /* an RTP packet: a 12-byte header, then its payload */
#define RTC_RTP_PACKET_SIZE 172          /* what the session plays: 12 bytes of header, 160 of audio */

/* Why a session ended. */
enum rtc_session_end {
        RTC_END_DTLS_ALERT, /* close_notify (the browser closed the PeerConnection) or a fatal alert */
        RTC_END_TCP_CLOSED, /* its TCP connection ended once the network was established */
        RTC_END_TIMEOUT,    /* no STUN binding request for stun_timeout_ms */
        RTC_END_SERVER_STOP,
};

struct rtc_config {
        msec_t stun_timeout_ms; /* 0: RTC_STUN_TIMEOUT_MS */
        /* Called once when a session's cycle ends, before the manager frees it. May be NULL. */
        void (*on_session_end)(const char *username, enum rtc_session_end why, void *userdata);
        void *userdata;
};

/* The server side (SRS's SrsRtcServer and its TCP listener). */
struct rtc_server;

/* Returns a new server (transfer full: free it with rtc_server_free(), after the loop and the manager),
 * or NULL. loop and manager: transfer none; they must outlive every round the loop runs. config is
 * copied. */
struct rtc_server *rtc_server_new(struct event_loop *loop, struct resource_manager *manager,
                                  const struct rtc_config *config);
struct rtc_server *rtc_server_free(struct rtc_server *server);

/* The HTTP API answered an offer: a session for username starts, waiting for STUN. The manager holds it.
 * 0; -EINVAL for an empty or too long username; -EEXIST when a session has it; -ENOMEM. */
int rtc_server_create_session(struct rtc_server *server, const char *username);

/* A browser connected to the WebRTC TCP port: a TCP connection starts serving transport (transfer none:
 * the connection takes a reference of its own). 0, or -ENOMEM. */
int rtc_server_accept_tcp(struct rtc_server *server, struct transport *transport);

enum rtc_network_state {
        RTC_NETWORK_WAITING_STUN, /* SRS's SrsRtcNetworkStateWaitingStun */
        RTC_NETWORK_DTLS,         /* a STUN binding request came: the DTLS handshake may start */
        RTC_NETWORK_ESTABLISHED,  /* the DTLS handshake is done: the session plays */
        RTC_NETWORK_CLOSED,       /* its TCP connection ended */
};

struct rtc_session;

/* The live session of username in manager (transfer none: valid until its cycle ends), or NULL. */
struct rtc_session *rtc_session_find(const struct resource_manager *manager, const char *username);
enum rtc_network_state rtc_session_tcp_state(const struct rtc_session *session);
unsigned long rtc_session_rtp_sent(const struct rtc_session *session);     /* played to the browser */
unsigned long rtc_session_rtp_received(const struct rtc_session *session); /* published by the browser */

/* ---- Between the server, the session, its network and its TCP connection; not for their users. ---- */

struct rtc_server {
        struct event_loop *loop;          /* transfer none */
        struct resource_manager *manager; /* transfer none */
        struct rtc_config config;         /* defaults filled in */
};

struct rtc_tcp_conn;

/* A session's network over TCP (SRS's SrsRtcTcpNetwork), part of the session: the session writes its
 * packets through it, to the TCP connection that owns it. */
struct rtc_tcp_network {
        struct rtc_session *session; /* raw: the network is part of its session */
        /* The TCP connection packets go through: NULL until a connection's handshake claims the network.
         * Raw: the connection frees itself when its cycle ends (SRS: SrsRtcTcpConn* owner_). */
        struct rtc_tcp_conn *owner;
        enum rtc_network_state state;
};

/* rtc_network.c: the network */
void rtc_tcp_network_init(struct rtc_tcp_network *network, struct rtc_session *session);
void rtc_tcp_network_fini(struct rtc_tcp_network *network);
bool rtc_tcp_network_is_established(const struct rtc_tcp_network *network);
/* Moves the state forward; a move backwards is ignored, as in SRS. */
void rtc_tcp_network_set_state(struct rtc_tcp_network *network, enum rtc_network_state state);
/* Writes one packet to the TCP connection that owns the network (there must be one): 0, -EPIPE once the
 * connection's cycle has ended, or what the transport says. */
int rtc_tcp_network_write(struct rtc_tcp_network *network, const void *packet, size_t size);

/* rtc_network.c: the TCP connection. interrupt: the session is going: the connection forgets it, and its
 * cycle ends at its next step. */
void rtc_tcp_conn_interrupt(struct rtc_tcp_conn *conn);

/* rtc_session.c */
struct rtc_tcp_network *rtc_session_tcp(struct rtc_session *session);
/* A STUN binding request came at now: the session is alive. */
void rtc_session_alive(struct rtc_session *session, msec_t now);
/* The DTLS handshake is done: the session plays from now on. */
void rtc_session_on_dtls_done(struct rtc_session *session, msec_t now);
/* The browser published an RTP packet. */
void rtc_session_on_rtp(struct rtc_session *session);
/* The session ends, for why: it leaves the manager (it is no longer found by its username), and its cycle
 * stops at its next step. The first reason sticks; later calls change nothing. */
void rtc_session_expire(struct rtc_session *session, enum rtc_session_end why);
