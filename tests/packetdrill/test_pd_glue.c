/*
 * test_pd_glue.c - the packetdrill shared-object interface (src/packetdrill), driven the way
 * packetdrill drives it but without packetdrill: the test fills the interface table with
 * packetdrill_interface_init, injects IPv4 datagrams built by tcpe_wire through netdev_send,
 * reads what the stack sends through netdev_receive, and makes the socket calls.
 *
 * It checks the clock (a microsecond per look, usleep, timers running at their own times and
 * stamping their datagrams so), the flags, the socket calls and their errno values, the
 * descriptors, blocking in the driver thread (simulated time runs) and in a second thread
 * (which the driver waits for before moving the clock), and teardown. The same sources build
 * libtcpe_packetdrill.so; this links them statically so they run under the sanitizers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "handoff/tcpe.h"
#include "handoff/tcpe_wire.h"
#include "pd_abi.h"
#include "pd_host.h"

#define LOCAL_IP    0xc0a80001u /* 192.168.0.1: the stack under test */
#define REMOTE_IP   0xc0000201u /* 192.0.2.1: the scripted peer */
#define LOCAL_PORT  8080
#define REMOTE_PORT 50000
#define PEER_ISN    1000u

struct pdt {
    struct packetdrill_interface ifc;
    void *u;
    struct tcpe_wire_tx tx;
};

static void pdt_init(struct pdt *t, const char *flags)
{
    memset(t, 0, sizeof *t);
    packetdrill_interface_init(flags, &t->ifc);
    t->u = t->ifc.userdata;
    tcpe_wire_tx_init(&t->tx, 7);
}

static void pdt_free(struct pdt *t)
{
    t->ifc.free(t->u);
}

/* The simulated clock in microseconds (one microsecond passes by looking). */
static uint64_t pdt_now(struct pdt *t)
{
    struct timeval tv;
    assert_int_equal(t->ifc.gettimeofday(t->u, &tv, NULL), 0);
    return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

/* Injects a segment from the peer (port REMOTE_PORT) to local port lport. */
static void pdt_inject_to(struct pdt *t, uint16_t lport, uint8_t flags, uint32_t seq, uint32_t ack,
                          uint16_t wnd, const char *data, uint16_t mss)
{
    struct tcpe_seg seg;
    memset(&seg, 0, sizeof seg);
    seg.src_ip = REMOTE_IP;
    seg.dst_ip = LOCAL_IP;
    seg.src_port = REMOTE_PORT;
    seg.dst_port = lport;
    seg.seq = seq;
    seg.ack = ack;
    seg.flags = flags;
    seg.wnd = wnd;
    if (mss != 0) {
        seg.opts = TCPE_OPT_MSS;
        seg.mss = mss;
    }
    seg.len = data != NULL ? (uint32_t)strlen(data) : 0;
    seg.data = (const uint8_t *)data;
    uint8_t buf[1600];
    int n = tcpe_wire_ipv4_build(&t->tx, &seg, buf, sizeof buf);
    assert_true(n > 0);
    assert_int_equal(t->ifc.netdev_send(t->u, buf, (size_t)n), 0);
}

static void pdt_inject(struct pdt *t, uint8_t flags, uint32_t seq, uint32_t ack, const char *data)
{
    pdt_inject_to(t, LOCAL_PORT, flags, seq, ack, 65535, data, 0);
}

struct sniffed {
    struct tcpe_seg seg;
    uint8_t payload[1600];
    uint64_t t_us;
    size_t len; /* 0: nothing came */
};

/* The next datagram the stack sends (time runs to the next timer if none is queued). */
static void pdt_sniff(struct pdt *t, struct sniffed *s)
{
    uint8_t buf[2048];
    size_t count = sizeof buf;
    long long when = -1;
    memset(s, 0, sizeof *s);
    assert_int_equal(t->ifc.netdev_receive(t->u, buf, &count, &when), 0);
    s->len = count;
    s->t_us = (uint64_t)when;
    if (count == 0) {
        return;
    }
    struct tcpe_wire_pkt pkt;
    assert_int_equal(tcpe_wire_ipv4_parse(buf, count, 0, &pkt, NULL), TCPE_WIRE_KIND_TCP);
    s->seg = pkt.seg;
    if (pkt.seg.len > 0) {
        memcpy(s->payload, pkt.seg.data, pkt.seg.len);
    }
    s->seg.data = NULL;
}

/* Expects a datagram with exactly these flags and payload length. */
static void pdt_expect(struct pdt *t, struct sniffed *s, uint8_t flags, uint32_t len)
{
    pdt_sniff(t, s);
    assert_true(s->len > 0);
    assert_int_equal(s->seg.flags, flags);
    assert_int_equal(s->seg.len, len);
}

static int pdt_listener(struct pdt *t)
{
    int fd = t->ifc.socket(t->u, AF_INET, SOCK_STREAM, IPPROTO_TCP);
    assert_true(fd >= 0);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(LOCAL_PORT);
    sin.sin_addr.s_addr = htonl(LOCAL_IP);
    assert_int_equal(t->ifc.bind(t->u, fd, (struct sockaddr *)&sin, sizeof sin), 0);
    assert_int_equal(t->ifc.listen(t->u, fd, 4), 0);
    return fd;
}

/* A passive open up to an accepted socket; *our_isn gets the stack's ISN. */
static int pdt_accepted(struct pdt *t, int lfd, uint32_t *our_isn)
{
    struct sniffed s;
    pdt_inject_to(t, LOCAL_PORT, TCPE_SYN, PEER_ISN, 0, 65535, NULL, 1000);
    pdt_expect(t, &s, TCPE_SYN | TCPE_ACK, 0);
    assert_int_equal(s.seg.ack, PEER_ISN + 1);
    *our_isn = s.seg.seq;
    pdt_inject(t, TCPE_ACK, PEER_ISN + 1, *our_isn + 1, NULL);
    int fd = t->ifc.accept(t->u, lfd, NULL, NULL);
    assert_true(fd >= 0);
    return fd;
}

static struct sockaddr_in pdt_remote(void)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(REMOTE_PORT);
    sin.sin_addr.s_addr = htonl(REMOTE_IP);
    return sin;
}

/* ---- the table, the flags, the clock ---- */

static void test_table_is_complete(void **state)
{
    (void)state;
    struct pdt t;
    pdt_init(&t, NULL);
    assert_non_null(t.u);
    /* Every member is a function pointer after userdata; none may be left NULL. */
    void (*const *fns)(void) = (void (*const *)(void))((const char *)&t.ifc + sizeof(void *));
    size_t n = (sizeof t.ifc - sizeof(void *)) / sizeof(void (*)(void));
    assert_int_equal(n, 32);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(fns[i]);
    }
    assert_int_equal(t.ifc.epoll_create(t.u, 1), -1);
    assert_int_equal(errno, ENOSYS);
    int p[2];
    assert_int_equal(t.ifc.pipe(t.u, p), -1);
    assert_int_equal(errno, ENOSYS);
    pdt_free(&t);
}

static void test_bad_flags_fail_every_call(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "nosuchkey=1", "mss=abc",   "mss=10", "rto_min_ms=-1",      "local_ip=1.2.3",
        "port=80",     "nodelay=2", "sndbuf", "local_ip=1.2.3.256",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct pdt t;
        pdt_init(&t, bad[i]);
        errno = 0;
        assert_int_equal(t.ifc.socket(t.u, AF_INET, SOCK_STREAM, 0), -1);
        assert_int_equal(errno, EINVAL);
        size_t count = 100;
        long long when;
        assert_int_equal(t.ifc.netdev_receive(t.u, NULL, &count, &when), -1);
        pdt_free(&t);
    }
}

static void test_flags_set_the_stack(void **state)
{
    (void)state;
    struct pdt t;
    pdt_init(&t, "mss=1000, local_ip=10.1.2.3,port=5000 nodelay=1\trto_init_ms=2000");
    int fd = t.ifc.socket(t.u, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    int v = 0;
    socklen_t len = sizeof v;
    assert_int_equal(t.ifc.getsockopt(t.u, fd, IPPROTO_TCP, TCP_MAXSEG, &v, &len), 0);
    assert_int_equal(v, 1000);
    assert_int_equal(t.ifc.getsockopt(t.u, fd, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
    assert_int_equal(v, 1);
    struct sockaddr_in sin = pdt_remote();
    uint64_t t0 = pdt_now(&t);
    assert_int_equal(t.ifc.connect(t.u, fd, (struct sockaddr *)&sin, sizeof sin), -1);
    assert_int_equal(errno, EINPROGRESS);
    struct sniffed s;
    pdt_expect(&t, &s, TCPE_SYN, 0);
    assert_int_equal(s.seg.src_ip, 0x0a010203u);
    assert_int_equal(s.seg.src_port, 5000);
    assert_int_equal(s.seg.mss, 1000);
    assert_int_equal(s.t_us, t0);
    pdt_expect(&t, &s, TCPE_SYN, 0); /* resent after rto_init */
    assert_int_equal(s.t_us, t0 + 2000000);
    pdt_free(&t);
}

static void test_clock(void **state)
{
    (void)state;
    struct pdt t;
    pdt_init(&t, NULL);
    uint64_t a = pdt_now(&t);
    uint64_t b = pdt_now(&t);
    assert_int_equal(b, a + 1); /* a look costs a microsecond, so a spinning caller moves on */
    assert_int_equal(t.ifc.usleep(t.u, 250000), 0);
    assert_int_equal(pdt_now(&t), b + 250000 + 1);
    /* With nothing to send and no timer, netdev_receive answers an empty datagram. */
    struct sniffed s;
    pdt_sniff(&t, &s);
    assert_int_equal(s.len, 0);
    pdt_free(&t);
}

/* ---- opens, data, timers ---- */

static void test_passive_open_and_data(void **state)
{
    (void)state;
    struct pdt t;
    pdt_init(&t, NULL);
    int lfd = pdt_listener(&t);
    assert_int_equal(t.ifc.fcntl(t.u, lfd, F_SETFL, O_RDWR | O_NONBLOCK), 0);
    assert_int_equal(t.ifc.fcntl(t.u, lfd, F_GETFL), O_RDWR | O_NONBLOCK);
    assert_int_equal(t.ifc.accept(t.u, lfd, NULL, NULL), -1);
    assert_int_equal(errno, EAGAIN);

    struct sniffed s;
    pdt_inject_to(&t, LOCAL_PORT, TCPE_SYN, PEER_ISN, 0, 65535, NULL, 1000);
    uint64_t t_syn = pdt_now(&t);
    pdt_expect(&t, &s, TCPE_SYN | TCPE_ACK, 0);
    assert_int_equal(s.t_us, t_syn - 1); /* stamped when it left, before our look */
    assert_int_equal(s.seg.src_ip, LOCAL_IP);
    assert_int_equal(s.seg.dst_ip, REMOTE_IP);
    assert_int_equal(s.seg.ack, PEER_ISN + 1);
    assert_true(s.seg.opts & TCPE_OPT_MSS);
    assert_int_equal(s.seg.mss, 1460);
    uint32_t isn = s.seg.seq;

    struct pollfd pfd = {.fd = lfd, .events = POLLIN};
    assert_int_equal(t.ifc.poll(t.u, &pfd, 1, 0), 0);
    pdt_inject(&t, TCPE_ACK, PEER_ISN + 1, isn + 1, NULL);
    assert_int_equal(t.ifc.poll(t.u, &pfd, 1, 0), 1);
    assert_int_equal(pfd.revents, POLLIN);
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    int fd = t.ifc.accept(t.u, lfd, (struct sockaddr *)&peer, &plen);
    assert_true(fd >= 0 && fd != lfd);
    assert_int_equal(plen, sizeof peer);
    assert_int_equal(ntohl(peer.sin_addr.s_addr), REMOTE_IP);
    assert_int_equal(ntohs(peer.sin_port), REMOTE_PORT);
    assert_int_equal(t.ifc.fcntl(t.u, fd, F_GETFL), O_RDWR); /* O_NONBLOCK is not inherited */

    pdt_inject(&t, TCPE_ACK | TCPE_PSH, PEER_ISN + 1, isn + 1, "hello");
    uint64_t t_data = pdt_now(&t);
    int avail = -1;
    assert_int_equal(t.ifc.ioctl(t.u, fd, FIONREAD, &avail), 0);
    assert_int_equal(avail, 5);
    char buf[16] = {0};
    assert_int_equal(t.ifc.read(t.u, fd, buf, sizeof buf), 5);
    assert_string_equal(buf, "hello");
    /* The ACK comes from the delayed-ACK timer, 100 ms after the data, to the microsecond. */
    pdt_expect(&t, &s, TCPE_ACK, 0);
    assert_int_equal(s.seg.ack, PEER_ISN + 6);
    assert_int_equal(s.t_us, t_data - 1 + 100000);

    char part1[] = "wor", part2[] = "ld";
    struct iovec iov[2] = {{part1, 3}, {part2, 2}};
    assert_int_equal(t.ifc.writev(t.u, fd, iov, 2), 5);
    pdt_expect(&t, &s, TCPE_ACK | TCPE_PSH, 5);
    assert_memory_equal(s.payload, "world", 5);
    assert_int_equal(s.seg.seq, isn + 1);
    int unacked = -1;
    assert_int_equal(t.ifc.ioctl(t.u, fd, TIOCOUTQ, &unacked), 0);
    assert_int_equal(unacked, 5);
    /* Unacknowledged: resent 1 s later (RFC 6298), stamped exactly so. */
    uint64_t t_sent = s.t_us;
    pdt_expect(&t, &s, TCPE_ACK | TCPE_PSH, 5);
    assert_int_equal(s.t_us, t_sent + 1000000);
    pdt_inject(&t, TCPE_ACK, PEER_ISN + 6, isn + 6, NULL);
    assert_int_equal(t.ifc.ioctl(t.u, fd, TIOCOUTQ, &unacked), 0);
    assert_int_equal(unacked, 0);

    assert_int_equal(t.ifc.close(t.u, fd), 0);
    pdt_expect(&t, &s, TCPE_ACK | TCPE_FIN, 0);
    assert_int_equal(t.ifc.close(t.u, lfd), 0);
    pdt_free(&t);
}

static void test_peer_close_and_shutdown(void **state)
{
    (void)state;
    struct pdt t;
    pdt_init(&t, NULL);
    int lfd = pdt_listener(&t);
    uint32_t isn;
    int fd = pdt_accepted(&t, lfd, &isn);
    struct sniffed s;
    pdt_inject(&t, TCPE_ACK | TCPE_FIN, PEER_ISN + 1, isn + 1, NULL);
    pdt_expect(&t, &s, TCPE_ACK, 0); /* a FIN is acknowledged at once */
    assert_int_equal(s.seg.ack, PEER_ISN + 2);
    struct pollfd pfd = {.fd = fd, .events = POLLIN | POLLOUT};
    assert_int_equal(t.ifc.poll(t.u, &pfd, 1, 0), 1);
    assert_int_equal(pfd.revents, POLLIN | POLLOUT);
    char buf[8];
    assert_int_equal(t.ifc.recv(t.u, fd, buf, sizeof buf, 0), 0);
    assert_int_equal(t.ifc.shutdown(t.u, fd, SHUT_WR), 0);
    pdt_expect(&t, &s, TCPE_ACK | TCPE_FIN, 0);
    assert_int_equal(t.ifc.write(t.u, fd, "x", 1), -1);
    assert_int_equal(errno, EPIPE);
    pfd.events = POLLIN;
    assert_int_equal(t.ifc.poll(t.u, &pfd, 1, 0), 1);
    assert_int_equal(pfd.revents, POLLIN | POLLHUP);
    pdt_inject(&t, TCPE_ACK, PEER_ISN + 2, isn + 2, NULL);
    assert_int_equal(t.ifc.close(t.u, fd), 0);
    assert_int_equal(t.ifc.close(t.u, lfd), 0);
    pdt_free(&t);
}

static void test_reset_is_reported_once(void **state)
{
    (void)state;
    struct pdt t;
    pdt_init(&t, NULL);
    int lfd = pdt_listener(&t);
    uint32_t isn;
    int fd = pdt_accepted(&t, lfd, &isn);
    pdt_inject(&t, TCPE_RST | TCPE_ACK, PEER_ISN + 1, isn + 1, NULL);
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    assert_int_equal(t.ifc.poll(t.u, &pfd, 1, 0), 1);
    assert_int_equal(pfd.revents, POLLIN | POLLERR | POLLHUP);
    char buf[8];
    assert_int_equal(t.ifc.read(t.u, fd, buf, sizeof buf), -1);
    assert_int_equal(errno, ECONNRESET);
    assert_int_equal(t.ifc.read(t.u, fd, buf, sizeof buf), 0);
    int v = -1;
    socklen_t len = sizeof v;
    assert_int_equal(t.ifc.getsockopt(t.u, fd, SOL_SOCKET, SO_ERROR, &v, &len), 0);
    assert_int_equal(v, 0);
    assert_int_equal(t.ifc.write(t.u, fd, "x", 1), -1);
    assert_int_equal(errno, EPIPE);
    assert_int_equal(t.ifc.close(t.u, fd), 0);
    /* Nothing was sent for the reset connection. */
    struct sniffed s;
    pdt_sniff(&t, &s);
    assert_int_equal(s.len, 0);
    pdt_free(&t);
}

static void test_refused_then_reconnect(void **state)
{
    (void)state;
    struct pdt t;
    pdt_init(&t, "port=6000");
    int fd = t.ifc.socket(t.u, AF_INET, SOCK_STREAM, 0);
    assert_int_equal(t.ifc.fcntl(t.u, fd, F_SETFL, O_NONBLOCK), 0);
    struct sockaddr_in sin = pdt_remote();
    assert_int_equal(t.ifc.connect(t.u, fd, (struct sockaddr *)&sin, sizeof sin), -1);
    assert_int_equal(errno, EINPROGRESS);
    assert_int_equal(t.ifc.connect(t.u, fd, (struct sockaddr *)&sin, sizeof sin), -1);
    assert_int_equal(errno, EALREADY);
    struct sniffed s;
    pdt_expect(&t, &s, TCPE_SYN, 0);
    assert_int_equal(s.seg.src_port, 6000);
    pdt_inject_to(&t, 6000, TCPE_RST | TCPE_ACK, 0, s.seg.seq + 1, 0, NULL, 0);
    struct pollfd pfd = {.fd = fd, .events = POLLOUT};
    assert_int_equal(t.ifc.poll(t.u, &pfd, 1, 0), 1);
    assert_int_equal(pfd.revents, POLLOUT | POLLERR | POLLHUP);
    /* connect() reports the refusal and leaves the socket unconnected: it may try again. */
    assert_int_equal(t.ifc.connect(t.u, fd, (struct sockaddr *)&sin, sizeof sin), -1);
    assert_int_equal(errno, ECONNREFUSED);
    assert_int_equal(t.ifc.connect(t.u, fd, (struct sockaddr *)&sin, sizeof sin), -1);
    assert_int_equal(errno, EINPROGRESS);
    pdt_expect(&t, &s, TCPE_SYN, 0);
    assert_int_equal(s.seg.src_port, 6001);
    pdt_inject_to(&t, 6001, TCPE_SYN | TCPE_ACK, PEER_ISN, s.seg.seq + 1, 65535, NULL, 1000);
    pdt_expect(&t, &s, TCPE_ACK, 0);
    assert_int_equal(t.ifc.connect(t.u, fd, (struct sockaddr *)&sin, sizeof sin), 0);
    assert_int_equal(t.ifc.connect(t.u, fd, (struct sockaddr *)&sin, sizeof sin), -1);
    assert_int_equal(errno, EISCONN);
    assert_int_equal(t.ifc.close(t.u, fd), 0);
    pdt_free(&t);
}

/* ---- blocking ---- */

/* In the driver thread a blocking connect lets simulated time run: the SYN is resent after 1
 * and 2 more seconds, and at the third expiry the attempt gives up (syn_limit 2). */
static void test_driver_blocking_connect_times_out(void **state)
{
    (void)state;
    struct pdt t;
    pdt_init(&t, "syn_limit=2");
    int fd = t.ifc.socket(t.u, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = pdt_remote();
    uint64_t t0 = pdt_now(&t);
    assert_int_equal(t.ifc.connect(t.u, fd, (struct sockaddr *)&sin, sizeof sin), -1);
    assert_int_equal(errno, ETIMEDOUT);
    assert_int_equal(pdt_now(&t), t0 + 7000000 + 1);
    struct sniffed s;
    uint64_t expect[3] = {t0, t0 + 1000000, t0 + 3000000};
    for (int i = 0; i < 3; i++) {
        pdt_expect(&t, &s, TCPE_SYN, 0);
        assert_int_equal(s.t_us, expect[i]);
    }
    pdt_sniff(&t, &s);
    assert_int_equal(s.len, 0); /* no RST for a connection never synchronized */
    pdt_free(&t);
}

/* A blocking read in the driver thread with no timer to wait for would hang a kernel; here it
 * fails with EAGAIN. */
static void test_driver_blocking_read_fails(void **state)
{
    (void)state;
    struct pdt t;
    pdt_init(&t, NULL);
    int lfd = pdt_listener(&t);
    uint32_t isn;
    int fd = pdt_accepted(&t, lfd, &isn);
    char buf[8];
    assert_int_equal(t.ifc.read(t.u, fd, buf, sizeof buf), -1);
    assert_int_equal(errno, EAGAIN);
    pdt_free(&t); /* sockets still open: teardown closes them */
}

struct blocked {
    struct pdt *t;
    int fd;
    int result;
    int err;
    uint64_t end_us; /* the clock when the call returned, read as packetdrill reads it */
};

static void *accept_thread(void *arg)
{
    struct blocked *b = arg;
    b->result = b->t->ifc.accept(b->t->u, b->fd, NULL, NULL);
    b->err = errno;
    b->end_us = pdt_now(b->t);
    return NULL;
}

static void *poll_thread(void *arg)
{
    struct blocked *b = arg;
    struct pollfd pfd = {.fd = b->fd, .events = POLLIN};
    b->result = b->t->ifc.poll(b->t->u, &pfd, 1, 500);
    b->err = errno;
    b->end_us = pdt_now(b->t);
    return NULL;
}

/* Waits (real time) until the second thread is blocked inside the interface. */
static void wait_until_blocked(struct pdt *t)
{
    struct pd_host *h = t->u;
    for (;;) {
        pthread_mutex_lock(&h->mu);
        bool waiting = h->waiter;
        pthread_mutex_unlock(&h->mu);
        if (waiting) {
            return;
        }
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
}

/* A blocking accept in a second thread returns at the moment the handshake completes, even
 * though the driver at once asks for a datagram that lets time run 100 ms further. */
static void test_second_thread_accept(void **state)
{
    (void)state;
    struct pdt t;
    pdt_init(&t, NULL);
    int lfd = pdt_listener(&t);
    struct blocked b = {.t = &t, .fd = lfd};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, accept_thread, &b), 0);
    wait_until_blocked(&t);
    struct sniffed s;
    pdt_inject_to(&t, LOCAL_PORT, TCPE_SYN, PEER_ISN, 0, 65535, NULL, 1000);
    pdt_expect(&t, &s, TCPE_SYN | TCPE_ACK, 0);
    assert_int_equal(t.ifc.usleep(t.u, 100000), 0);
    uint64_t t_in = pdt_now(&t);
    pdt_inject(&t, TCPE_ACK | TCPE_PSH, PEER_ISN + 1, s.seg.seq + 1, "abc");
    pdt_expect(&t, &s, TCPE_ACK, 0); /* the delayed ACK, 100 ms on */
    assert_int_equal(s.t_us, t_in + 100000);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_true(b.result >= 0);
    /* It returned, and read the clock, before the driver moved the clock on. */
    assert_int_equal(b.end_us, t_in + 1);
    pdt_free(&t);
}

/* A poll with a timeout in the second thread, while the driver only waits for it (as
 * packetdrill does before its next blocking call): the clock runs to the timeout by itself. */
static void test_second_thread_poll_timeout(void **state)
{
    (void)state;
    struct pdt t;
    pdt_init(&t, NULL);
    int lfd = pdt_listener(&t);
    uint64_t t0 = pdt_now(&t);
    struct blocked b = {.t = &t, .fd = lfd};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, poll_thread, &b), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(b.result, 0);
    assert_int_equal(b.end_us, t0 + 500000 + 1); /* the thread's own look adds one */
    pdt_free(&t);
}

/* ---- errors and descriptors ---- */

static void test_errors(void **state)
{
    (void)state;
    struct pdt t;
    pdt_init(&t, NULL);
    assert_int_equal(t.ifc.socket(t.u, AF_INET6, SOCK_STREAM, 0), -1);
    assert_int_equal(errno, EAFNOSUPPORT);
    assert_int_equal(t.ifc.socket(t.u, AF_INET, SOCK_DGRAM, 0), -1);
    assert_int_equal(errno, EPROTONOSUPPORT);
    assert_int_equal(t.ifc.socket(t.u, AF_INET, SOCK_STREAM, IPPROTO_UDP), -1);
    assert_int_equal(errno, EPROTONOSUPPORT);
    char buf[4];
    assert_int_equal(t.ifc.read(t.u, 12345, buf, 1), -1);
    assert_int_equal(errno, EBADF);
    assert_int_equal(t.ifc.close(t.u, 12345), -1);
    assert_int_equal(errno, EBADF);

    int fd = t.ifc.socket(t.u, AF_INET, SOCK_STREAM, 0);
    assert_int_equal(t.ifc.read(t.u, fd, buf, 1), -1);
    assert_int_equal(errno, ENOTCONN);
    assert_int_equal(t.ifc.write(t.u, fd, "x", 1), -1);
    assert_int_equal(errno, EPIPE);
    assert_int_equal(t.ifc.shutdown(t.u, fd, SHUT_WR), -1);
    assert_int_equal(errno, ENOTCONN);
    assert_int_equal(t.ifc.accept(t.u, fd, NULL, NULL), -1);
    assert_int_equal(errno, EINVAL);
    struct pollfd pfd[2] = {{.fd = fd, .events = POLLIN | POLLOUT}, {.fd = 999, .events = 0}};
    assert_int_equal(t.ifc.poll(t.u, pfd, 2, 0), 2);
    assert_int_equal(pfd[0].revents, POLLOUT | POLLHUP);
    assert_int_equal(pfd[1].revents, POLLNVAL);

    int v = 1;
    assert_int_equal(t.ifc.setsockopt(t.u, fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v), -1);
    assert_int_equal(errno, ENOPROTOOPT);
    assert_int_equal(t.ifc.setsockopt(t.u, fd, SOL_SOCKET, SO_REUSEADDR, &v, 2), -1);
    assert_int_equal(errno, EINVAL);
    socklen_t len = sizeof v;
    assert_int_equal(t.ifc.getsockopt(t.u, fd, SOL_SOCKET, SO_LINGER, &v, &len), -1);
    assert_int_equal(errno, ENOPROTOOPT);
    assert_int_equal(t.ifc.getsockopt(t.u, fd, SOL_SOCKET, SO_RCVBUF, &v, &len), 0);
    assert_int_equal(v, 65536);
    assert_int_equal(t.ifc.fcntl(t.u, fd, F_DUPFD, 0), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(t.ifc.ioctl(t.u, fd, FIONBIO, &v), -1);
    assert_int_equal(errno, ENOTTY);
    assert_int_equal(t.ifc.recv(t.u, fd, buf, 1, MSG_PEEK), -1);
    assert_int_equal(errno, EOPNOTSUPP);

    /* Binding: once per socket, and an address in use only with SO_REUSEADDR on both. */
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(LOCAL_PORT);
    assert_int_equal(t.ifc.bind(t.u, fd, (struct sockaddr *)&sin, sizeof sin), 0);
    assert_int_equal(t.ifc.bind(t.u, fd, (struct sockaddr *)&sin, sizeof sin), -1);
    assert_int_equal(errno, EINVAL);
    int fd2 = t.ifc.socket(t.u, AF_INET, SOCK_STREAM, 0);
    assert_int_equal(t.ifc.bind(t.u, fd2, (struct sockaddr *)&sin, sizeof sin), -1);
    assert_int_equal(errno, EADDRINUSE);
    sin.sin_family = AF_INET6;
    assert_int_equal(t.ifc.bind(t.u, fd2, (struct sockaddr *)&sin, sizeof sin), -1);
    assert_int_equal(errno, EAFNOSUPPORT);
    assert_int_equal(t.ifc.listen(t.u, fd, 1), 0);
    assert_int_equal(t.ifc.listen(t.u, fd, 1), 0);
    sin = pdt_remote();
    assert_int_equal(t.ifc.connect(t.u, fd, (struct sockaddr *)&sin, sizeof sin), -1);
    assert_int_equal(errno, EISCONN);
    pdt_free(&t);
}

static void test_descriptors_are_real(void **state)
{
    (void)state;
    struct pdt t;
    pdt_init(&t, NULL);
    int a = t.ifc.socket(t.u, AF_INET, SOCK_STREAM, 0);
    int b = t.ifc.socket(t.u, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(a > 2 && b > 2 && a != b);
    assert_true(fcntl(a, F_GETFD) >= 0); /* held open in this process */
    assert_int_equal(t.ifc.fcntl(t.u, a, F_GETFD), 0);
    assert_int_equal(t.ifc.fcntl(t.u, b, F_GETFD), FD_CLOEXEC);
    assert_int_equal(t.ifc.close(t.u, a), 0);
    assert_int_equal(fcntl(a, F_GETFD), -1);
    assert_int_equal(errno, EBADF);
    /* packetdrill closes left-over descriptors itself before the teardown: that is safe. */
    assert_int_equal(close(b), 0);
    int c = t.ifc.socket(t.u, AF_INET, SOCK_STREAM, 0);
    assert_true(c >= 0);
    pdt_free(&t);
    assert_int_equal(fcntl(c, F_GETFD), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_is_complete),
        cmocka_unit_test(test_bad_flags_fail_every_call),
        cmocka_unit_test(test_flags_set_the_stack),
        cmocka_unit_test(test_clock),
        cmocka_unit_test(test_passive_open_and_data),
        cmocka_unit_test(test_peer_close_and_shutdown),
        cmocka_unit_test(test_reset_is_reported_once),
        cmocka_unit_test(test_refused_then_reconnect),
        cmocka_unit_test(test_driver_blocking_connect_times_out),
        cmocka_unit_test(test_driver_blocking_read_fails),
        cmocka_unit_test(test_second_thread_accept),
        cmocka_unit_test(test_second_thread_poll_timeout),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_descriptors_are_real),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
