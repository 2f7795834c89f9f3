/* Load generator for benchmarks/net_cpu.py: keeps N connections busy.
 *
 * Each connection sends a request of REQ bytes and waits for RESP bytes of
 * answer before sending the next; the program runs for SECONDS and prints the
 * number of completed requests. Built with gcc by net_cpu.py at bench time,
 * so the client costs next to no CPU and the server's CPU per request is what
 * the loop under test spends.
 *
 * Other kinds: "udp PORT" keeps CONNS sockets each with one REQ-byte datagram
 * out, waiting for a RESP-byte answer (all are sent again after 50 ms without
 * any answer: loopback may drop under load); "connect PORT" keeps CONNS
 * connections in progress, each connecting, sending REQ bytes, reading RESP
 * bytes and closing with a reset (no TIME_WAIT left behind), and counts them.
 *
 * usage: loadgen (tcp PORT | unix PATH | udp PORT | connect PORT) CONNS REQ RESP SECONDS [http]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct conn {
    int fd;
    size_t sent;
    size_t received;
    int connected;
};

static const char *request;
static size_t req_size, resp_size;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int connect_to(const char *kind, const char *where) {
    int fd;
    if (strcmp(kind, "unix") == 0) {
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        strncpy(addr.sun_path, where, sizeof(addr.sun_path) - 1);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) return -1;
    } else {
        struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(atoi(where))};
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int one = 1;
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) return -1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    return fd;
}

/* Write what is left of the request; 0 when all of it is out. */
static int pump_out(struct conn *c) {
    while (c->sent < req_size) {
        ssize_t n = write(c->fd, request + c->sent, req_size - c->sent);
        if (n < 0) return errno == EAGAIN ? 1 : -1;
        c->sent += (size_t)n;
    }
    return 0;
}

static struct sockaddr_in loopback(const char *port) {
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(atoi(port))};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
}

static long udp_load(const char *port, int conns, double seconds) {
    struct sockaddr_in addr = loopback(port);
    int ep = epoll_create1(0);
    int *fds = calloc((size_t)conns, sizeof(int));
    for (int i = 0; i < conns; i++) {
        fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
        if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&addr, sizeof(addr)) < 0) return -1;
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fds[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
        send(fds[i], request, req_size, 0);
    }
    char *sink = malloc(1 << 16);
    long done = 0;
    double end = now() + seconds;
    struct epoll_event events[256];
    while (now() < end) {
        int n = epoll_wait(ep, events, 256, 50);
        if (n == 0) {
            for (int i = 0; i < conns; i++) send(fds[i], request, req_size, 0);
            continue;
        }
        for (int i = 0; i < n; i++) {
            ssize_t got = recv(events[i].data.fd, sink, 1 << 16, MSG_DONTWAIT);
            if (got < 0) continue;
            if ((size_t)got == resp_size) done++;
            send(events[i].data.fd, request, req_size, 0);
        }
    }
    return done;
}

/* Start a non-blocking connection; its first event is "writable". */
static int start_connect(int ep, struct conn *c, struct sockaddr_in *addr) {
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0) return -1;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (struct sockaddr *)addr, sizeof(*addr)) < 0 && errno != EINPROGRESS) return -1;
    c->sent = c->received = 0;
    c->connected = 0;
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
    return epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static long connect_load(const char *port, int conns, double seconds) {
    struct sockaddr_in addr = loopback(port);
    int ep = epoll_create1(0);
    struct conn *all = calloc((size_t)conns, sizeof(struct conn));
    for (int i = 0; i < conns; i++)
        if (start_connect(ep, &all[i], &addr) < 0) return -1;
    char *sink = malloc(1 << 16);
    long done = 0;
    double end = now() + seconds;
    struct epoll_event events[256];
    struct linger reset = {.l_onoff = 1, .l_linger = 0};
    while (now() < end) {
        int n = epoll_wait(ep, events, 256, 100);
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            if (!c->connected) {
                c->connected = 1;
                struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                if (pump_out(c) < 0) return -1;
                continue;
            }
            ssize_t got = read(c->fd, sink, 1 << 16);
            if (got < 0 && errno == EAGAIN) continue;
            if (got <= 0) return -1;
            c->received += (size_t)got;
            if (c->received < resp_size) continue;
            done++;
            setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
            close(c->fd);
            if (start_connect(ep, c, &addr) < 0) return -1;
        }
    }
    return done;
}

int main(int argc, char **argv) {
    if (argc < 7) {
        fprintf(stderr, "usage: %s (tcp PORT | unix PATH | udp PORT | connect PORT) CONNS REQ RESP SECONDS [http]\n", argv[0]);
        return 2;
    }
    int conns = atoi(argv[3]);
    resp_size = (size_t)atol(argv[5]);
    double seconds = atof(argv[6]);
    if (argc > 7 && strcmp(argv[7], "http") == 0) {
        request = "GET / HTTP/1.1\r\nHost: bench\r\n\r\n";
        req_size = strlen(request);
    } else {
        req_size = (size_t)atol(argv[4]);
        char *buffer = malloc(req_size);
        memset(buffer, 'x', req_size);
        request = buffer;
    }
    if (strcmp(argv[1], "udp") == 0 || strcmp(argv[1], "connect") == 0) {
        long done = strcmp(argv[1], "udp") == 0 ? udp_load(argv[2], conns, seconds)
                                                 : connect_load(argv[2], conns, seconds);
        if (done < 0) { perror(argv[1]); return 1; }
        printf("%ld\n", done);
        return 0;
    }
    int ep = epoll_create1(0);
    struct conn *all = calloc((size_t)conns, sizeof(struct conn));
    for (int i = 0; i < conns; i++) {
        all[i].fd = connect_to(argv[1], argv[2]);
        if (all[i].fd < 0) { perror("connect"); return 1; }
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &all[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, all[i].fd, &ev);
        if (pump_out(&all[i]) < 0) { perror("write"); return 1; }
    }
    char *sink = malloc(1 << 20);
    long done = 0;
    double end = now() + seconds;
    struct epoll_event events[256];
    while (now() < end) {
        int n = epoll_wait(ep, events, 256, 100);
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            ssize_t got = read(c->fd, sink, 1 << 20);
            if (got <= 0) {
                if (got < 0 && errno == EAGAIN) continue;
                fprintf(stderr, "connection closed by the server\n");
                return 1;
            }
            c->received += (size_t)got;
            if (c->received >= resp_size) {
                c->received -= resp_size;
                done++;
                c->sent = 0;
                if (pump_out(c) < 0) { perror("write"); return 1; }
            }
        }
    }
    printf("%ld\n", done);
    return 0;
}
