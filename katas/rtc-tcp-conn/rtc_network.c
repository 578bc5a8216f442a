/* SPDX-License-Identifier: MIT */
/*
 * A session's network over TCP (SRS's SrsRtcTcpNetwork) and the TCP connection that serves it (SRS's
 * SrsRtcTcpConn), as in SRS's srs_app_rtc_network.cpp.
 *
 * The connection reads the browser's packets in its own cycle: the first, a STUN binding request, names
 * the session; then STUN, DTLS and RTP go to that session and its network. The session writes its packets
 * through its network, which hands them to the connection's socket.
 */
#include "rtc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sptr.h"

struct rtc_tcp_conn {
        struct rtc_server *server; /* raw: outlives every connection */
        uint8_t *packet;           /* RTC_TCP_PACKET_MAX bytes: the packet being read (SRS's pkt_) */
        /* The session whose network we serve, NULL until the handshake finds it. Raw: the session clears
         * it when it goes (rtc_tcp_conn_interrupt()). */
        struct rtc_session *session;
        struct transport *transport; /* +1: the socket; NULL once the cycle has ended */
        struct executor *executor;   /* raw: NULL once the cycle has ended */
        bool bound;                  /* the handshake found the session */
};

/* ---- The network ---- */

void rtc_tcp_network_init(struct rtc_tcp_network *network, struct rtc_session *session)
{
        *network = (struct rtc_tcp_network){ .session = session, .state = RTC_NETWORK_WAITING_STUN };
}

void rtc_tcp_network_fini(struct rtc_tcp_network *network)
{
        /* The connection is not ours to free: its executor frees it when its cycle ends (SRS's
         * ~SrsRtcTcpNetwork freed its DTLS transport, and nothing else). */
        network->owner = NULL;
}

bool rtc_tcp_network_is_established(const struct rtc_tcp_network *network)
{
        return network->state == RTC_NETWORK_ESTABLISHED;
}

void rtc_tcp_network_set_state(struct rtc_tcp_network *network, enum rtc_network_state state)
{
        if (state > network->state)
                network->state = state;
}

int rtc_tcp_network_write(struct rtc_tcp_network *network, const void *packet, size_t size)
{
        struct rtc_tcp_conn *conn = network->owner;

        /* SRS's SrsRtcTcpNetwork::write, to the connection's socket (sendonly_skt_): closed, and let go
         * of, when the connection's cycle ended. */
        return conn->transport ? transport_server_write(conn->transport, packet, size) : -EPIPE;
}

/* A DTLS record: the client's last handshake flight establishes the network, an alert may end the
 * session. SRS runs a real DTLS handshake here (SrsSecurityTransport); its outcome is what matters. */
static void network_on_dtls(struct rtc_tcp_network *network, const uint8_t *packet, size_t size, msec_t now)
{
        static const uint8_t server_flight[] = { RTC_DTLS_HANDSHAKE, 0x14 /* Finished */ };

        if (packet[0] == RTC_DTLS_ALERT) {
                /* SRS: fatal, or close_notify (CN: the browser closed the PeerConnection). */
                if (size >= 3 && (packet[1] == RTC_DTLS_LEVEL_FATAL || packet[2] == RTC_DTLS_CLOSE_NOTIFY))
                        rtc_session_expire(network->session, RTC_END_DTLS_ALERT);
                return;
        }
        /* A handshake record before STUN, or after the handshake is done (a retransmission): ignored. */
        if (network->state != RTC_NETWORK_DTLS)
                return;
        (void) rtc_tcp_network_write(network, server_flight, sizeof server_flight);
        rtc_tcp_network_set_state(network, RTC_NETWORK_ESTABLISHED);
        rtc_session_on_dtls_done(network->session, now);
}

/* ---- The TCP connection ---- */

static bool is_stun_binding_request(const uint8_t *packet, size_t size)
{
        return size >= 2 && packet[0] == (RTC_STUN_BINDING_REQUEST >> 8) &&
               packet[1] == (RTC_STUN_BINDING_REQUEST & 0xff);
}

/* A STUN binding request: the session is alive; answer it. A lost answer is like a lost packet: the
 * browser asks again. */
static int on_stun(struct rtc_tcp_conn *conn, size_t size, msec_t now)
{
        struct rtc_tcp_network *network = rtc_session_tcp(conn->session);

        rtc_session_alive(conn->session, now);
        conn->packet[0] = RTC_STUN_BINDING_RESPONSE >> 8;
        conn->packet[1] = RTC_STUN_BINDING_RESPONSE & 0xff;
        (void) rtc_tcp_network_write(network, conn->packet, size);
        rtc_tcp_network_set_state(network, RTC_NETWORK_DTLS);
        return 0;
}

/* The first packet: a STUN binding request whose username names the session (SRS's handshake()). */
static int handshake(struct rtc_tcp_conn *conn, size_t size, msec_t now)
{
        char username[RTC_USERNAME_MAX];
        struct rtc_tcp_network *network;
        struct rtc_session *session;

        if (!is_stun_binding_request(conn->packet, size) || size - 2 >= sizeof username)
                return -EPROTO;
        memcpy(username, conn->packet + 2, size - 2);
        username[size - 2] = '\0';
        session = rtc_session_find(conn->server->manager, username);
        if (!session)
                return -ENOENT; /* SRS: "no session" */
        network = rtc_session_tcp(session);
        /* One TCP connection per session: the first one claims the network. */
        if (!network->owner) {
                network->owner = conn;
                conn->session = session;
        }
        if (network->owner != conn)
                return -EBUSY; /* SRS: ERROR_RTC_TCP_UNIQUE, "only support one network" */
        conn->bound = true;
        return on_stun(conn, size, now);
}

static int on_packet(struct rtc_tcp_conn *conn, size_t size, msec_t now)
{
        const uint8_t *packet = conn->packet;

        /* The session is gone and we are interrupted: drop what is left (SRS: "Session is destroyed,
         * ignore TCP packet"). */
        if (!conn->session)
                return 0;
        if (is_stun_binding_request(packet, size))
                return on_stun(conn, size, now);
        if (packet[0] >= 20 && packet[0] <= 63) {
                network_on_dtls(rtc_session_tcp(conn->session), packet, size, now);
                return 0;
        }
        if ((packet[0] & 0xc0) == RTC_RTP_VERSION_2) {
                rtc_session_on_rtp(conn->session);
                return 0;
        }
        return -EPROTO; /* SRS: "unknown packet" */
}

static int tcp_conn_step(void *object, msec_t now)
{
        struct rtc_tcp_conn *conn = object;
        ssize_t n;
        int r;

        while ((n = transport_server_read(conn->transport, conn->packet, RTC_TCP_PACKET_MAX)) > 0) {
                r = conn->bound ? on_packet(conn, (size_t) n, now) : handshake(conn, (size_t) n, now);
                if (r < 0)
                        return r;
        }
        /* -EPIPE: the browser closed the connection; -EMSGSIZE: a packet longer than we read. */
        return n == -EAGAIN ? EXECUTOR_RUNNING : (int) n;
}

static void tcp_conn_on_done(void *object, int result)
{
        struct rtc_tcp_conn *conn = object;
        struct rtc_tcp_network *network;

        conn->executor = NULL;
        transport_server_close(conn->transport);
        conn->transport = sptr_unref(conn->transport);
        /* No session, or the server is stopping: then the session ends by itself. */
        if (!conn->session || result == -ECANCELED)
                return;
        /* Only an established network ends its session: before that, the browser may still try another
         * way (SRS: "client might use other UDP network"). */
        network = rtc_session_tcp(conn->session);
        if (rtc_tcp_network_is_established(network)) {
                rtc_tcp_network_set_state(network, RTC_NETWORK_CLOSED);
                rtc_session_expire(conn->session, RTC_END_TCP_CLOSED);
        }
}

static const struct executor_handler tcp_conn_handler = {
        .step = tcp_conn_step,
        .on_done = tcp_conn_on_done,
};

static void tcp_conn_destroy(void *object)
{
        struct rtc_tcp_conn *conn = object;

        free(conn->packet);
        conn->transport = sptr_unref(conn->transport);
}

int rtc_server_accept_tcp(struct rtc_server *server, struct transport *transport)
{
        _cleanup_sptr_ struct rtc_tcp_conn *conn = sptr_new_of(struct rtc_tcp_conn, tcp_conn_destroy);

        if (!conn)
                return -ENOMEM;
        conn->server = server;
        conn->transport = sptr_ref(transport);
        conn->packet = malloc(RTC_TCP_PACKET_MAX);
        if (!conn->packet)
                return -ENOMEM;
        conn->executor = executor_start(server->loop, conn, &tcp_conn_handler);
        if (!conn->executor)
                return -ENOMEM;
        return 0; /* its executor holds it */
}

void rtc_tcp_conn_interrupt(struct rtc_tcp_conn *conn)
{
        conn->session = NULL;
        if (conn->executor)
                executor_interrupt(conn->executor);
}
