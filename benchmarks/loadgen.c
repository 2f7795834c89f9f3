/* Load generator for benchmarks/net_cpu.py: keeps N connections busy.
 *
 * Each connection sends a request of REQ bytes and waits for RESP bytes of
 * answer before sending the next; the program runs for SECONDS and prints the
 * number of completed requests. Built with gcc by net_cpu.py at bench time,
 * so the client costs next to no CPU and the server's CPU per request is what
 * the loop under test spends.
 *
 * usage: loadgen (tcp PORT | unix PATH) CONNS REQ RESP SECONDS [http]
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

int main(int argc, char **argv) {
    if (argc < 7) {
        fprintf(stderr, "usage: %s (tcp PORT | unix PATH) CONNS REQ RESP SECONDS [http]\n", argv[0]);
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
