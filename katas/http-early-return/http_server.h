/* SPDX-License-Identifier: MIT */
/*
 * A tiny HTTP server, modelled on Swoole's http_server::listen() (src/wrapper/http.cc): listen() makes a
 * server object first, then parses "host:port", adds a listening port and creates the server's workers.
 * Where it differs from Swoole, README.md says so ("Where this kata differs from the real code").
 *
 * Ownership (GLib's words): "transfer full" means the receiver now owns the object and must free it;
 * "transfer none" means it is only borrowed.
 */
#pragma once

#include <stdint.h>

/* How the server runs its workers; Swoole's Server::Mode. */
enum server_mode {
        SERVER_MODE_BASE = 1,    /* workers accept connections themselves */
        SERVER_MODE_PROCESS = 2, /* a master process dispatches connections to workers */
};

/* More workers than this are lowered to it, as Swoole's create() lowers worker_num (to 1,000 per CPU). */
#define HTTP_SERVER_MAX_WORKERS 256u

/* Swoole's SW_HOST_MAXSIZE (the size of a Unix socket path): a host has at most 107 characters. */
#define HTTP_SERVER_HOST_MAXSIZE 108u

struct http_server_config {
        enum server_mode mode; /* any value is accepted: Swoole's create() gives an unknown one the process
                                * mode's factory; the kata serves every mode alike */
        unsigned worker_num;   /* 0 makes create() fail; more than HTTP_SERVER_MAX_WORKERS is lowered to it */
};

enum http_error {
        HTTP_OK = 0,
        HTTP_ERR_BAD_ADDRESS = -1, /* the address has no ':' between host and port */
        HTTP_ERR_ADD_PORT = -2,    /* the port could not be added: port outside 0..65535, host too long or not
                                    * an IPv4 address, or bind() or listen() failed */
        HTTP_ERR_CREATE = -3,      /* create() failed: no workers, or no memory for their slots */
        HTTP_ERR_NO_MEMORY = -4,
        HTTP_ERR_IO = -5,          /* serving: accept(), read() or write() failed */
};

/* One request, as the handler sees it. */
struct http_request {
        char method[8];
        char path[256];
        unsigned worker_id; /* the worker that serves it */
};

/* What the handler answers; the server sends it. */
struct http_response {
        int status;      /* 200 unless the handler sets another */
        char body[1024]; /* a NUL-terminated string */
};

typedef void (*http_handler_fn)(const struct http_request *request, struct http_response *response,
                                void *userdata);

struct http_server;

/*
 * Listens on addr ("127.0.0.1:8080"; an empty host means loopback, port 0 any free port) and prepares the
 * server's workers. The host is what comes before the first ':'; the port is read as atoi() reads it, as
 * Swoole does: the digits after the ':', up to the first other character, so "127.0.0.1:" and ":http" mean
 * port 0. On success returns HTTP_OK and stores the server in *ret_server (transfer full: free it
 * with http_server_free()). On failure returns a negative http_error and leaves *ret_server untouched.
 * handler and userdata: transfer none; they must outlive the server.
 */
enum http_error http_server_listen(const char *addr, const struct http_server_config *config,
                                   http_handler_fn handler, void *userdata, struct http_server **ret_server);

/* The port the server listens on (useful after asking for port 0). */
uint16_t http_server_port(const struct http_server *server);

/* Accepts one connection, reads one request, calls the handler and sends its response. */
enum http_error http_server_serve_one(struct http_server *server);

/* How many workers the server has (after create() lowered the number asked for, if it did). */
unsigned http_server_worker_num(const struct http_server *server);

/* Requests served so far by worker `worker_id`. */
unsigned long http_server_worker_requests(const struct http_server *server, unsigned worker_id);

/* Closes the listening sockets and frees everything. Accepts NULL. Returns NULL. */
struct http_server *http_server_free(struct http_server *server);

/* One sentence that says what an http_error means. */
const char *http_error_to_string(enum http_error error);
