/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes solutions/http-early-return: what a caller and a peer control. An input is
 *
 *   line 1     the address given to http_server_listen(), raw ("127.0.0.1:0", ":http", "[::1]:80", ...)
 *   line 2     worker_num and mode, two numbers ("4 2")
 *   the rest   the bytes a client sends before it shuts its side down: the request
 *
 * An address whose port is 1 to 65535 is not listened on (this machine's ports are not the fuzzer's to
 * take): the input ends there. Every other address is, and when listen() succeeds on loopback (an empty
 * host, 127.0.0.0/8 or 0.0.0.0; any other address that binds is only freed), a client connects, sends the request (up to the end of its head, "\r\n\r\n", and at most 4,095 bytes: the server
 * reads one request head into a 4,096-byte buffer, and bytes it never reads would make its close() reset
 * the connection, losing the answer), and the server serves it.
 *
 * Invariants (http_server.h): a failed listen() returns an http_error and leaves *ret_server untouched; the
 * request is answered exactly once, with one well-formed response whose Content-Length is its body's; the
 * handler runs at most once, on the worker the request says, and exactly when the status is not 400; the
 * worker's count goes up by one; and after http_server_free() every descriptor opened is closed (memory:
 * LeakSanitizer).
 */
#include "http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "fuzz.h"

#define REQUEST_MAX 4095

struct handled {
        unsigned calls;
        unsigned worker_id;
};

/* Answers 404 for a path that starts with "/missing", else 200 with the path as the body. */
static void handler(const struct http_request *request, struct http_response *response, void *userdata)
{
        struct handled *handled = userdata;

        handled->calls++;
        handled->worker_id = request->worker_id;
        FUZZ_CHECK(memchr(request->method, '\0', sizeof request->method) &&
                           memchr(request->path, '\0', sizeof request->path),
                   "the handler got a method or path without its NUL");
        if (strncmp(request->path, "/missing", 8) == 0)
                response->status = 404;
        else
                snprintf(response->body, sizeof response->body, "%s", request->path);
}

/* The port listen() will read from addr, as it reads it: atoi() of what follows the first ':'. */
static int port_of(const char *addr)
{
        const char *colon = strchr(addr, ':');

        return colon ? atoi(colon + 1) : -1;
}

/* A client connected to the server that listens on addr at port, or -1 when addr is not on loopback. */
static int client_connect(const char *addr, uint16_t port)
{
        struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons(port) };
        struct timeval timeout = { .tv_sec = 5 };
        char host[HTTP_SERVER_HOST_MAXSIZE + 1];
        size_t length = (size_t) (strchr(addr, ':') - addr);
        int fd;

        snprintf(host, sizeof host, "%.*s", (int) length, addr);
        /* The server listens on host (empty: loopback). A client reaches loopback (127.0.0.0/8) and 0.0.0.0
         * through loopback; any other address that bound (multicast, this machine's own) is not served. */
        if (!*host || strcmp(host, "0.0.0.0") == 0)
                address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        else if (inet_pton(AF_INET, host, &address.sin_addr) != 1 || (ntohl(address.sin_addr.s_addr) >> 24) != 127)
                return -1;
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        FUZZ_CHECK(fd >= 0, "the client's socket() failed: %s", strerror(errno));
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        FUZZ_CHECK(connect(fd, (struct sockaddr *) &address, sizeof address) == 0,
                   "the client could not connect to the port listen() returned: %s", strerror(errno));
        return fd;
}

/* Reads everything the server sends until it closes; returns the length. */
static size_t client_read_all(int fd, char *buf, size_t size)
{
        size_t used = 0;
        ssize_t n;

        while (used + 1 < size && (n = read(fd, buf + used, size - 1 - used)) != 0) {
                FUZZ_CHECK(n > 0 || errno == EINTR, "the client's read() failed: %s", strerror(errno));
                if (n > 0)
                        used += (size_t) n;
        }
        buf[used] = '\0';
        return used;
}

/* Checks the one response the client received to its one request. */
static void check_response(const char *response, size_t length, const struct handled *handled)
{
        const char *head_end = strstr(response, "\r\n\r\n"), *header;
        int status = 0, consumed = 0;
        size_t content_length;

        FUZZ_CHECK(length > 0, "the request got no answer");
        FUZZ_CHECK(sscanf(response, "HTTP/1.1 %3d %*[^\r]\r\n%n", &status, &consumed) == 1 && consumed > 0,
                   "the answer does not start with a status line: %.40s", response);
        FUZZ_CHECK(head_end, "the answer's head has no end (\\r\\n\\r\\n)");
        header = strstr(response, "\r\nContent-Length: ");
        FUZZ_CHECK(header && header < head_end && sscanf(header, "\r\nContent-Length: %zu", &content_length) == 1,
                   "the answer has no Content-Length");
        FUZZ_CHECK(content_length == length - (size_t) (head_end + 4 - response),
                   "Content-Length says %zu bytes, the body has %zu: one request got more (or less) than one answer",
                   content_length, length - (size_t) (head_end + 4 - response));
        FUZZ_CHECK(handled->calls <= 1, "the handler ran %u times for one request", handled->calls);
        FUZZ_CHECK((status == 400) == (handled->calls == 0),
                   "status %d, but the handler ran %u times (400 exactly when it does not run)", status,
                   handled->calls);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static char sentinel;
        struct http_server *const untouched = (struct http_server *) &sentinel;
        struct fuzz_input in = fuzz_input(data, size);
        struct http_server_config config = { 0 };
        struct http_server *server = untouched;
        struct handled handled = { 0 };
        struct fuzz_line line;
        char addr[512], response[2048];
        const char *request, *head_end;
        size_t request_length;
        unsigned long before = 0, after = 0;
        enum http_error r;
        int descriptors, client;

        if (!fuzz_next_line(&in, &line))
                return 0;
        fuzz_rest(&line, addr, sizeof addr);
        if (port_of(addr) >= 1 && port_of(addr) <= 65535)
                return 0;
        if (fuzz_next_line(&in, &line)) {
                config.worker_num = (unsigned) fuzz_number(&line);
                config.mode = (enum server_mode) (fuzz_number(&line) % 4);
        }
        request = (const char *) in.p;
        request_length = (size_t) (in.end - in.p);
        head_end = memmem(request, request_length, "\r\n\r\n", 4);
        if (head_end)
                request_length = (size_t) (head_end + 4 - request);
        if (request_length > REQUEST_MAX)
                request_length = REQUEST_MAX;

        descriptors = fuzz_open_descriptors();
        r = http_server_listen(addr, &config, handler, &handled, &server);
        if (r != HTTP_OK) {
                FUZZ_CHECK(r >= HTTP_ERR_IO && r < 0, "listen() returned %d, which is no http_error", r);
                FUZZ_CHECK(server == untouched, "a failed listen() (%d) changed *ret_server", r);
                FUZZ_CHECK(fuzz_open_descriptors() == descriptors, "a failed listen() (%d) left a descriptor open", r);
                return 0;
        }
        FUZZ_CHECK(server != untouched && server, "listen() succeeded without a server");
        FUZZ_CHECK(http_server_worker_num(server) >= 1 && http_server_worker_num(server) <= HTTP_SERVER_MAX_WORKERS,
                   "the server has %u workers", http_server_worker_num(server));
        for (unsigned i = 0; i < http_server_worker_num(server); i++)
                before += http_server_worker_requests(server, i);

        client = client_connect(addr, http_server_port(server));
        if (client < 0) {
                FUZZ_CHECK(http_server_free(server) == NULL, "http_server_free() did not return NULL");
                FUZZ_CHECK(fuzz_open_descriptors() == descriptors,
                           "after http_server_free(), %d descriptors are still open",
                           fuzz_open_descriptors() - descriptors);
                return 0;
        }
        if (request_length > 0)
                FUZZ_CHECK(send(client, request, request_length, MSG_NOSIGNAL) == (ssize_t) request_length,
                           "the client could not send its %zu bytes", request_length);
        FUZZ_CHECK(shutdown(client, SHUT_WR) == 0, "the client's shutdown() failed");
        r = http_server_serve_one(server);
        FUZZ_CHECK(r == HTTP_OK, "serve_one() failed (%s) on a request it read whole", http_error_to_string(r));
        check_response(response, client_read_all(client, response, sizeof response), &handled);
        close(client);

        for (unsigned i = 0; i < http_server_worker_num(server); i++)
                after += http_server_worker_requests(server, i);
        FUZZ_CHECK(after == before + 1, "one request served, but the workers counted %lu", after - before);
        FUZZ_CHECK(handled.calls == 0 || handled.worker_id < http_server_worker_num(server),
                   "the handler ran on worker %u of %u", handled.worker_id, http_server_worker_num(server));

        FUZZ_CHECK(http_server_free(server) == NULL, "http_server_free() did not return NULL");
        FUZZ_CHECK(fuzz_open_descriptors() == descriptors, "after http_server_free(), %d descriptors are still open",
                   fuzz_open_descriptors() - descriptors);
        return 0;
}
