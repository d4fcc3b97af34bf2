/*
 * hold_conns.c - a test client for the emulator: opens N connections to a server and holds them
 * open at once, each having asked for one file and read its answer.
 *
 * usage: hold_conns ADDR PORT N PATH [SECONDS]
 *
 * Connects N sockets (non-blocking, all at once, so that a SYN the server drops is retried by
 * Linux's own TCP), sends "GET PATH HTTP/1.1" with keep-alive on each once connected, and reads
 * each response head and its Content-Length bytes. When every connection has its answer it prints
 * "held N" and keeps them all open for SECONDS (default 30) or until SIGTERM, then closes them
 * and exits 0. It exits 1, saying why, if a connection fails or is closed, or if not all are
 * answered within 60 s.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
    int fd;
    int state; /* 0 connecting, 1 reading, 2 answered */
    char head[2048];
    size_t head_len;
    long long body_left; /* -1 until the head is complete */
};

static volatile sig_atomic_t stop;
static struct conn *cs; /* reachable until exit, whichever way main returns */

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Takes what arrived on c; returns -1 if the connection failed or closed. */
static int on_read(struct conn *c)
{
    char buf[65536];
    for (;;) {
        ssize_t n = read(c->fd, buf, sizeof buf);
        if (n < 0) {
            return errno == EAGAIN ? 0 : -1;
        }
        if (n == 0) {
            return -1;
        }
        size_t off = 0;
        if (c->body_left < 0) {
            size_t take = (size_t)n < sizeof c->head - 1 - c->head_len
                              ? (size_t)n
                              : sizeof c->head - 1 - c->head_len;
            memcpy(c->head + c->head_len, buf, take);
            c->head_len += take;
            c->head[c->head_len] = 0;
            char *end = strstr(c->head, "\r\n\r\n");
            if (!end) {
                continue;
            }
            const char *cl = strcasestr(c->head, "\r\nContent-Length:");
            if (strncmp(c->head, "HTTP/1.1 200 ", 13) != 0 || !cl) {
                return -1;
            }
            c->body_left = atoll(cl + 17);
            off = take - (c->head_len - (size_t)(end + 4 - c->head));
        }
        c->body_left -= (long long)((size_t)n - off);
        if (c->body_left <= 0) {
            c->state = 2;
            return 0;
        }
    }
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: hold_conns ADDR PORT N PATH [SECONDS]\n");
        return 2;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
        fprintf(stderr, "hold_conns: bad address %s\n", argv[1]);
        return 2;
    }
    int n = atoi(argv[3]);
    double hold = argc > 5 ? atof(argv[5]) : 30;
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (n < 1 || (rlim_t)n + 16 > rl.rlim_cur) {
        fprintf(stderr, "hold_conns: cannot open %d connections (open-file limit %llu)\n", n,
                (unsigned long long)rl.rlim_cur);
        return 2;
    }
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    char req[512];
    int req_len =
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", argv[4], argv[1]);
    cs = calloc((size_t)n, sizeof *cs);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!cs || ep < 0) {
        perror("hold_conns");
        return 1;
    }
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        cs[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        cs[i].body_left = -1;
        if (cs[i].fd < 0 ||
            (connect(cs[i].fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS)) {
            fprintf(stderr, "hold_conns: connection %d: %s\n", i, strerror(errno));
            return 1;
        }
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP,
                                 .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
    }
    int answered = 0;
    struct epoll_event evs[256];
    while (answered < n && !stop) {
        if (now_s() - t0 > 60) {
            fprintf(stderr, "hold_conns: only %d of %d answered in 60 s\n", answered, n);
            return 1;
        }
        int k = epoll_wait(ep, evs, 256, 1000);
        for (int j = 0; j < k; j++) {
            struct conn *c = &cs[evs[j].data.u32];
            if (c->state == 0 && (evs[j].events & EPOLLOUT)) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err) {
                    fprintf(stderr, "hold_conns: connect: %s\n", strerror(err));
                    return 1;
                }
                if (write(c->fd, req, (size_t)req_len) != req_len) {
                    fprintf(stderr, "hold_conns: write: %s\n", strerror(errno));
                    return 1;
                }
                c->state = 1;
                struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data = evs[j].data};
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
            } else if (c->state == 1 && (evs[j].events & (EPOLLIN | EPOLLRDHUP | EPOLLERR))) {
                if (on_read(c) != 0) {
                    fprintf(stderr, "hold_conns: a connection failed or was closed\n");
                    return 1;
                }
                answered += c->state == 2;
            }
        }
    }
    printf("held %d (answered in %.2f s)\n", answered, now_s() - t0);
    fflush(stdout);
    double t1 = now_s();
    while (!stop && now_s() - t1 < hold) {
        usleep(50000);
    }
    for (int i = 0; i < n; i++) {
        close(cs[i].fd);
    }
    free(cs);
    cs = NULL;
    close(ep);
    return 0;
}
