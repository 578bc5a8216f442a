/* SPDX-License-Identifier: MIT */
/*
 * http_server_listen() allocates the server first and then has three ways out before it can hand the server
 * to the caller, as Swoole's http_server::listen() did before issue #5416 was fixed. The server is now held
 * by a cleanup variable, so every exit frees it, and the one successful exit steals it (TAKE_PTR) for the
 * caller: the shape of Swoole's fix f4299e7d (std::make_shared). http_server_free() also closes the socket,
 * which Swoole's destructor did only from 2026 (commit 637d6a884): see the kata's README.
 */
#include "http_server.h"

#include "cleanup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define HTTP_SERVER_BUFFER_SIZE 4096
#define HTTP_SERVER_BACKLOG 16

struct listen_port {
        int fd;
        char *host;
        uint16_t port;
        struct listen_port *next;
};

struct worker {
        unsigned id;
        unsigned long requests;
};

struct http_server {
        enum server_mode mode;
        unsigned worker_num;
        struct worker *workers; /* worker_num slots, made by http_server_create() */
        unsigned next_worker;
        struct listen_port *ports;
        char *buffer; /* one request at a time is read into it */
        http_handler_fn handler;
        void *userdata;
};

static struct http_server *http_server_new(enum server_mode mode)
{
        struct http_server *server = calloc(1, sizeof *server);

        if (!server)
                return NULL;
        server->buffer = malloc(HTTP_SERVER_BUFFER_SIZE);
        if (!server->buffer) {
                free(server);
                return NULL;
        }
        server->mode = mode;
        return server;
}

struct http_server *http_server_free(struct http_server *server)
{
        if (!server)
                return NULL;
        while (server->ports) {
                struct listen_port *port = server->ports;

                server->ports = port->next;
                close(port->fd);
                free(port->host);
                free(port);
        }
        free(server->workers);
        free(server->buffer);
        free(server);
        return NULL;
}

/* http_server_freep(): the cleanup function for a `struct http_server *` variable. */
DEFINE_CLEANUP_FUNC(struct http_server *, http_server_free);

/* Opens a listening TCP socket on host:port and adds it to the server (Swoole's Server::add_port(), which only
 * binds; its start() listens). Returns the new port (owned by the server), or NULL with errno set; a failed
 * attempt leaves nothing behind. */
static struct listen_port *http_server_add_port(struct http_server *server, const char *host, int port_number)
{
        struct sockaddr_in address = { .sin_family = AF_INET };
        socklen_t length = sizeof address;
        struct listen_port *port;
        int fd, saved_errno;

        /* Swoole's two checks: "invalid port", and a host longer than SW_HOST_MAXSIZE - 1. */
        if (port_number < 0 || port_number > UINT16_MAX) {
                errno = EINVAL;
                return NULL;
        }
        if (strlen(host) + 1 > HTTP_SERVER_HOST_MAXSIZE) {
                errno = ENAMETOOLONG;
                return NULL;
        }
        /* An empty host means loopback, and a host that is not an IPv4 address is refused: this kata never
         * listens on a public address (Swoole took both as 0.0.0.0). */
        if (inet_pton(AF_INET, *host ? host : "127.0.0.1", &address.sin_addr) != 1) {
                errno = EINVAL;
                return NULL;
        }
        address.sin_port = htons((uint16_t) port_number);

        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return NULL;
        if (bind(fd, (struct sockaddr *) &address, sizeof address) < 0 || listen(fd, HTTP_SERVER_BACKLOG) < 0 ||
            getsockname(fd, (struct sockaddr *) &address, &length) < 0)
                goto fail_close;

        port = calloc(1, sizeof *port);
        if (!port)
                goto fail_close;
        port->host = strdup(host);
        if (!port->host) {
                free(port);
                goto fail_close;
        }
        port->fd = fd;
        port->port = ntohs(address.sin_port);
        port->next = server->ports;
        server->ports = port;
        return port;

fail_close:
        saved_errno = errno;
        close(fd);
        errno = saved_errno;
        return NULL;
}

/* Makes the worker slots (Swoole's Server::create(), which lowers too many workers to its maximum and fails
 * only when it cannot allocate). Returns 0 or -1. */
static int http_server_create(struct http_server *server)
{
        if (server->worker_num > HTTP_SERVER_MAX_WORKERS)
                server->worker_num = HTTP_SERVER_MAX_WORKERS;
        /* The kata's own rule, so that a test can reach this exit without failing an allocation. */
        if (server->worker_num == 0)
                return -1;
        server->workers = calloc(server->worker_num, sizeof *server->workers);
        if (!server->workers)
                return -1;
        for (unsigned i = 0; i < server->worker_num; i++)
                server->workers[i].id = i;
        return 0;
}

enum http_error http_server_listen(const char *addr, const struct http_server_config *config,
                                   http_handler_fn handler, void *userdata, struct http_server **ret_server)
{
        _cleanup_(http_server_freep) struct http_server *server = http_server_new(config->mode);
        if (!server)
                return HTTP_ERR_NO_MEMORY;

        const char *colon = strchr(addr, ':');
        if (!colon)
                return HTTP_ERR_BAD_ADDRESS;

        char host[HTTP_SERVER_HOST_MAXSIZE + 1];
        size_t host_length = (size_t) (colon - addr);
        if (host_length > HTTP_SERVER_HOST_MAXSIZE)
                host_length = HTTP_SERVER_HOST_MAXSIZE; /* still too long: add_port() refuses it */
        memcpy(host, addr, host_length);
        host[host_length] = '\0';

        struct listen_port *port = http_server_add_port(server, host, atoi(colon + 1));
        if (!port)
                return HTTP_ERR_ADD_PORT;

        server->worker_num = config->worker_num;
        server->handler = handler;
        server->userdata = userdata;
        if (http_server_create(server) < 0)
                return HTTP_ERR_CREATE;

        /* Ownership passes to the caller; the cleanup now sees NULL. */
        *ret_server = TAKE_PTR(server);
        return HTTP_OK;
}

uint16_t http_server_port(const struct http_server *server)
{
        return server->ports->port; /* a server that listen() returned always has its port */
}

unsigned http_server_worker_num(const struct http_server *server)
{
        return server->worker_num;
}

unsigned long http_server_worker_requests(const struct http_server *server, unsigned worker_id)
{
        return worker_id < server->worker_num ? server->workers[worker_id].requests : 0;
}

/* Reads until the end of the request head (an empty line), the buffer is full, or the peer stops. */
static ssize_t read_request_head(int fd, char *buffer, size_t size)
{
        size_t used = 0;

        while (used + 1 < size) {
                ssize_t n = read(fd, buffer + used, size - 1 - used);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -1;
                if (n == 0)
                        break;
                used += (size_t) n;
                buffer[used] = '\0';
                if (strstr(buffer, "\r\n\r\n"))
                        break;
        }
        buffer[used] = '\0';
        return (ssize_t) used;
}

static bool write_all(int fd, const char *data, size_t length)
{
        while (length > 0) {
                /* MSG_NOSIGNAL: a client that has gone away must not kill the server with SIGPIPE. */
                ssize_t n = send(fd, data, length, MSG_NOSIGNAL);

                /* A response of a few hundred bytes never fills the socket's buffer, so send() never waits
                 * and no test can interrupt it: excluded from coverage. */
                if (n < 0 && errno == EINTR) /* LCOV_EXCL_BR_LINE */
                        continue;            /* LCOV_EXCL_LINE */
                if (n <= 0)
                        return false;
                data += n;
                length -= (size_t) n;
        }
        return true;
}

/* Reads "METHOD PATH HTTP/1.x" into request; false when the request line is not that. */
static bool parse_request_line(const char *line, struct http_request *request)
{
        const char *path, *space = strchr(line, ' ');
        size_t method_length, path_length;

        if (!space)
                return false;
        method_length = (size_t) (space - line);
        path = space + 1;
        space = strchr(path, ' ');
        if (!space)
                return false;
        path_length = (size_t) (space - path);
        if (method_length == 0 || method_length >= sizeof request->method || path_length == 0 ||
            path_length >= sizeof request->path || strncmp(space + 1, "HTTP/1.", 7) != 0)
                return false;
        memcpy(request->method, line, method_length);
        request->method[method_length] = '\0';
        memcpy(request->path, path, path_length);
        request->path[path_length] = '\0';
        return true;
}

static const char *reason_phrase(int status)
{
        switch (status) {
        case 200: return "OK";
        case 400: return "Bad Request";
        case 404: return "Not Found";
        case 500: return "Internal Server Error";
        default: return "Unknown";
        }
}

enum http_error http_server_serve_one(struct http_server *server)
{
        struct http_request request = { .worker_id = server->next_worker };
        struct http_response response = { .status = 200 };
        struct timeval timeout = { .tv_sec = 5 };
        char message[256 + sizeof response.body];
        enum http_error result = HTTP_ERR_IO;
        int fd, length;

        fd = accept(server->ports->fd, NULL, NULL);
        if (fd < 0)
                return HTTP_ERR_IO;
        /* A client that never sends must not hang the server (or the test). */
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);

        if (read_request_head(fd, server->buffer, HTTP_SERVER_BUFFER_SIZE) < 0)
                goto out_close;
        if (!parse_request_line(server->buffer, &request))
                response.status = 400;
        else
                server->handler(&request, &response, server->userdata);

        length = snprintf(message, sizeof message, "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                          response.status, reason_phrase(response.status), strlen(response.body), response.body);
        if (!write_all(fd, message, (size_t) length))
                goto out_close;

        server->workers[server->next_worker].requests++;
        server->next_worker = (server->next_worker + 1) % server->worker_num;
        result = HTTP_OK;
out_close:
        close(fd);
        return result;
}

const char *http_error_to_string(enum http_error error)
{
        switch (error) {
        case HTTP_OK: return "success";
        case HTTP_ERR_BAD_ADDRESS: return "the address has no ':' between host and port";
        case HTTP_ERR_ADD_PORT: return "the port could not be added (bad host or port, or bind() or listen() failed)";
        case HTTP_ERR_CREATE: return "the server could not be created (no workers, or out of memory)";
        case HTTP_ERR_NO_MEMORY: return "out of memory";
        case HTTP_ERR_IO: return "accept(), read() or write() failed";
        }
        return "unknown error";
}
