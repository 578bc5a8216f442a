/* SPDX-License-Identifier: MIT */
/*
 * The RTC session of one browser (SRS's SrsRtcConnection): plays a stream through its TCP network, is kept
 * alive by STUN, and ends on a DTLS alert, when its TCP connection ends, or when STUN stops.
 */
#include "rtc.h"

#include <errno.h>
#include <string.h>

#include "sptr.h"

struct rtc_session {
        struct rtc_server *server;  /* raw: outlives every session */
        struct executor *executor;  /* raw: NULL once the cycle has ended */
        struct rtc_tcp_network tcp; /* SRS's SrsRtcNetworks::tcp_ */
        char username[RTC_USERNAME_MAX];
        msec_t last_stun_at;
        msec_t next_play_at;
        uint16_t sequence;
        unsigned long rtp_sent, rtp_received;
        bool expired;
        enum rtc_session_end why;
};

static void session_destroy(void *object)
{
        struct rtc_session *session = object;

        rtc_tcp_network_fini(&session->tcp);
}

/* SRS's play coroutine (SrsRtcPlayStream::cycle): one RTP packet every RTC_PLAY_INTERVAL_MS once the
 * network is established. A packet the network cannot take is dropped, as SRS drops it. */
static void play(struct rtc_session *session, msec_t now)
{
        uint8_t packet[RTC_RTP_PACKET_SIZE] = { RTC_RTP_VERSION_2, 111 /* Opus */ };

        if (!rtc_tcp_network_is_established(&session->tcp) || now < session->next_play_at)
                return;
        session->next_play_at = now + RTC_PLAY_INTERVAL_MS;
        packet[2] = (uint8_t) (session->sequence >> 8);
        packet[3] = (uint8_t) session->sequence++;
        if (rtc_tcp_network_write(&session->tcp, packet, sizeof packet) == 0)
                session->rtp_sent++;
}

static int session_step(void *object, msec_t now)
{
        struct rtc_session *session = object;

        /* The play sends what is due, then the session looks whether it has ended: in SRS the play
         * coroutine runs until the session is freed. */
        play(session, now);
        if (session->expired)
                return EXECUTOR_DONE;
        if (now - session->last_stun_at > session->server->config.stun_timeout_ms) {
                rtc_session_expire(session, RTC_END_TIMEOUT);
                return EXECUTOR_DONE;
        }
        return EXECUTOR_RUNNING;
}

static void session_on_done(void *object, int result)
{
        struct rtc_session *session = object;
        const struct rtc_config *config = &session->server->config;

        session->executor = NULL;
        /* Only its expiry ends a session's cycle, or the server stopping. */
        if (result == -ECANCELED)
                rtc_session_expire(session, RTC_END_SERVER_STOP);
        if (config->on_session_end)
                config->on_session_end(session->username, session->why, config->userdata);
}

static const struct executor_handler session_handler = {
        .step = session_step,
        .on_done = session_on_done,
};

int rtc_server_create_session(struct rtc_server *server, const char *username)
{
        _cleanup_sptr_ struct rtc_session *session = sptr_new_of(struct rtc_session, session_destroy);
        int r;

        if (!session)
                return -ENOMEM;
        session->server = server;
        rtc_tcp_network_init(&session->tcp, session);
        session->last_stun_at = event_loop_now(server->loop);
        r = resource_manager_add_with_name(server->manager, username, session);
        if (r < 0)
                return r;
        strcpy(session->username, username); /* it fits: the manager took it */
        session->executor = executor_start(server->loop, session, &session_handler);
        if (!session->executor) {
                resource_manager_remove(server->manager, session);
                return -ENOMEM;
        }
        return 0; /* the manager and the executor hold it */
}

void rtc_session_expire(struct rtc_session *session, enum rtc_session_end why)
{
        if (session->expired)
                return;
        session->expired = true;
        session->why = why;
        /* No longer found by its username; its executor keeps it until its cycle ends (SRS:
         * SrsRtcConnection::expire() removes it from _srs_rtc_manager). */
        resource_manager_remove(session->server->manager, session);
        /* Before we go, our TCP connection must forget us (SRS: removing the session made the manager call
         * SrsRtcTcpConn::on_before_dispose(), which cleared its session_ and interrupted it). */
        if (session->tcp.owner)
                rtc_tcp_conn_interrupt(session->tcp.owner);
}

struct rtc_tcp_network *rtc_session_tcp(struct rtc_session *session)
{
        return &session->tcp;
}

void rtc_session_alive(struct rtc_session *session, msec_t now)
{
        session->last_stun_at = now;
}

void rtc_session_on_dtls_done(struct rtc_session *session, msec_t now)
{
        session->next_play_at = now;
}

void rtc_session_on_rtp(struct rtc_session *session)
{
        session->rtp_received++;
}

struct rtc_session *rtc_session_find(const struct resource_manager *manager, const char *username)
{
        return resource_manager_find_by_name(manager, username);
}

enum rtc_network_state rtc_session_tcp_state(const struct rtc_session *session)
{
        return session->tcp.state;
}

unsigned long rtc_session_rtp_sent(const struct rtc_session *session)
{
        return session->rtp_sent;
}

unsigned long rtc_session_rtp_received(const struct rtc_session *session)
{
        return session->rtp_received;
}
