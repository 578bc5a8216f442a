/* SPDX-License-Identifier: MIT */
/*
 * The SIP connection of a device (SRS's SrsGbSipTcpConn): reads REGISTER, the answer to INVITE and BYE,
 * binds the device's session on REGISTER, and keeps the SIP state that the session polls.
 */
#include "gb28181.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sptr.h"

struct gb_sip_conn {
        struct gb_listener *listener; /* raw: outlives every connection */
        struct transport *transport;  /* +1 */
        struct executor *executor;    /* raw: NULL once the cycle has ended */
        struct gb_session *session;   /* +1: the session of the device that registered here */
        enum gb_sip_state state;
        char device_id[GB_DEVICE_ID_MAX];
};

static void sip_conn_destroy(void *object)
{
        struct gb_sip_conn *sip = object;

        sip->session = sptr_unref(sip->session);
        sip->transport = sptr_unref(sip->transport);
}

static int send_to_device(struct gb_sip_conn *sip, enum gb_message_type type, uint32_t ssrc)
{
        struct gb_message message = { .type = type, .ssrc = ssrc };

        memcpy(message.device_id, sip->device_id, sizeof message.device_id);
        return transport_server_write(sip->transport, &message);
}

/* REGISTER: the device's session, found by its id (it may be coming back on a new connection) or new. */
static int bind_session(struct gb_sip_conn *sip)
{
        struct gb_session *session;
        int r;

        if (sip->session)
                return 0; /* a refresh */
        session = gb_session_find(sip->listener->manager, sip->device_id);
        if (!session) {
                r = gb_session_start(sip->listener, sip->device_id, &session);
                if (r < 0)
                        return r;
        }
        gb_session_on_sip_transport(session, sip);
        sip->session = sptr_ref(session);
        return 0;
}

/* A GB28181 device id: exactly GB_DEVICE_ID_MAX - 1 decimal digits, then the NUL that ends them. */
static bool device_id_is_valid(const char id[GB_DEVICE_ID_MAX])
{
        for (size_t i = 0; i < GB_DEVICE_ID_MAX - 1; i++)
                if (id[i] < '0' || id[i] > '9')
                        return false;
        return id[GB_DEVICE_ID_MAX - 1] == '\0';
}

static int on_message(struct gb_sip_conn *sip, const struct gb_message *message)
{
        int r;

        switch (message->type) {
        case GB_MSG_REGISTER:
                /* The id comes from the device: check it before reading it as a string. A malformed one
                 * ends the connection; a session bound to it keeps it, as when the device hangs up. */
                if (!device_id_is_valid(message->device_id))
                        return -EBADMSG;
                if (!sip->device_id[0])
                        snprintf(sip->device_id, sizeof sip->device_id, "%s", message->device_id);
                else if (strcmp(sip->device_id, message->device_id) != 0)
                        return -EPROTO; /* one device per connection */
                if (message->expires == 0) {
                        sip->state = GB_SIP_BYE;
                        return send_to_device(sip, GB_MSG_REGISTER_OK, 0);
                }
                r = bind_session(sip);
                if (r < 0)
                        return r;
                if (sip->state == GB_SIP_INIT)
                        sip->state = GB_SIP_REGISTERED;
                return send_to_device(sip, GB_MSG_REGISTER_OK, 0);
        case GB_MSG_INVITE_OK:
                if (sip->state != GB_SIP_INVITING)
                        return 0;
                sip->state = GB_SIP_STABLE;
                return send_to_device(sip, GB_MSG_ACK, 0);
        case GB_MSG_BYE:
                sip->state = GB_SIP_BYE;
                return send_to_device(sip, GB_MSG_BYE_OK, 0);
        default:
                return 0;
        }
}

static int sip_conn_step(void *object, msec_t now)
{
        struct gb_sip_conn *sip = object;
        struct gb_message message;
        int r;

        (void) now;
        while ((r = transport_server_read(sip->transport, &message)) == 0) {
                r = on_message(sip, &message);
                if (r < 0)
                        return r;
        }
        /* -EPIPE: the device hung up. The session, if any, keeps this object and its last state. */
        return r == -EAGAIN ? EXECUTOR_RUNNING : r;
}

static void sip_conn_on_done(void *object, int result)
{
        struct gb_sip_conn *sip = object;

        (void) result;
        sip->executor = NULL;
        transport_server_close(sip->transport);
}

static const struct executor_handler sip_conn_handler = {
        .step = sip_conn_step,
        .on_done = sip_conn_on_done,
};

int gb_listener_accept_sip(struct gb_listener *listener, struct transport *transport)
{
        _cleanup_sptr_ struct gb_sip_conn *sip = sptr_new_of(struct gb_sip_conn, sip_conn_destroy);
        int r;

        if (!sip)
                return -ENOMEM;
        sip->listener = listener;
        sip->transport = sptr_ref(transport);
        sip->state = GB_SIP_INIT;
        r = resource_manager_add(listener->manager, sip);
        if (r < 0)
                return r;
        sip->executor = executor_start(listener->loop, sip, &sip_conn_handler);
        if (!sip->executor) {
                resource_manager_remove(listener->manager, sip);
                return -ENOMEM;
        }
        return 0;
}

enum gb_sip_state gb_sip_conn_state(const struct gb_sip_conn *sip)
{
        return sip->state;
}

int gb_sip_conn_invite(struct gb_sip_conn *sip, uint32_t ssrc)
{
        sip->state = GB_SIP_INVITING;
        return send_to_device(sip, GB_MSG_INVITE, ssrc);
}

void gb_sip_conn_reset_to_register(struct gb_sip_conn *sip)
{
        sip->state = GB_SIP_REGISTERED;
}

/* The device came back on this connection: carry on from where the previous one was. */
void gb_sip_conn_take_over(struct gb_sip_conn *sip, const struct gb_sip_conn *previous)
{
        sip->state = previous->state;
}

void gb_sip_conn_interrupt(struct gb_sip_conn *sip)
{
        if (sip->executor)
                executor_interrupt(sip->executor);
}
