/*
 * pd_socket.c - a BSD socket layer over one tcpe stack, for the packetdrill interface.
 *
 * packetdrill makes the script's system calls through the interface table (pd_abi.h); each
 * one lands here with the host's userdata, takes the host's lock (pd_enter), does its work on
 * the engine at the simulated time h->now, and returns as the system call would: a result, or
 * -1 with errno. The errno values follow Linux, since scripts compare them (EINPROGRESS for a
 * non-blocking connect, EAGAIN for a call that would block, ECONNRESET once after a reset, then
 * end of file, EPIPE for writing after shutdown).
 *
 * Descriptors: each socket holds a real descriptor (of /dev/null), and its number is what the
 * script sees. So the numbers are the ones a kernel would hand out (3, 4, ...), never collide
 * with the tool's own descriptors, and packetdrill's final clean-up, which calls the real
 * close() on every socket the script left open, closes something harmless.
 *
 * Blocking: a socket without O_NONBLOCK blocks as a kernel socket does, by pd_wait: in
 * packetdrill's blocking-call thread it sleeps until the driver thread changes something; in
 * the driver thread it lets simulated time run, since nothing else can happen meanwhile (a
 * blocking connect() that nobody answers retransmits its SYN and times out, as on Linux, only
 * faster). A wait that could never end fails with EAGAIN and a message instead of hanging.
 *
 * Not offered: MSG_PEEK and MSG_OOB, SO_SNDBUF/SO_RCVBUF/SO_LINGER/keep-alive as settings (the
 * buffer sizes are the stack's, set with --so_flags), IPv6, UDP.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handoff/err.h"
#include "pd_host.h"

#define NS_PER_MS 1000000ull

/* Linux's POLLRDHUP (peer closed its half), outside POSIX. */
#ifdef POLLRDHUP
#define PD_POLLRDHUP POLLRDHUP
#else
#define PD_POLLRDHUP 0x2000
#endif

/* The most iovec entries a call takes (Linux's UIO_MAXIOV). */
#define PD_IOV_MAX 1024

/* Returns r, or -1 with errno = -r for a negative r, after dropping the lock. */
static int pd_done(struct pd_host *h, int r)
{
    pd_call_done(h);
    pd_leave(h);
    if (r < 0) {
        errno = -r;
        return -1;
    }
    return r;
}

static ssize_t pd_done_ssize(struct pd_host *h, ssize_t r)
{
    pd_call_done(h);
    pd_leave(h);
    if (r < 0) {
        errno = (int)-r;
        return -1;
    }
    return r;
}

/* The driver thread asked to wait for something nothing can bring: say so, don't hang. */
static int pd_would_hang(const char *call, int fd)
{
    fprintf(stderr,
            "tcpe_packetdrill: %s on blocking fd %d would wait forever (no timer can help); "
            "failing with EAGAIN: use O_NONBLOCK or a blocking time range (t1...t2)\n",
            call, fd);
    return -EAGAIN;
}

/*
 * Blocks (pd_wait) for a call on socket `s`, then finds it again: while the call waited, the
 * other thread may have closed it. Returns the socket, or NULL with *err set (EBADF, or the
 * EAGAIN of a wait that could never end).
 */
static struct pd_sock *pd_block(struct pd_host *h, struct pd_sock *s, const char *call, int *err)
{
    int fd = s->fd;
    uint64_t id = s->id;
    if (pd_wait(h, TCPE_NEVER) < 0) {
        *err = pd_would_hang(call, fd);
        return NULL;
    }
    s = pd_sock_find(h, fd);
    if (s == NULL || s->id != id) {
        *err = -EBADF;
        return NULL;
    }
    return s;
}

/* ---- the socket table ---- */

struct pd_sock *pd_sock_find(struct pd_host *h, int fd)
{
    for (struct pd_sock *s = h->socks; s != NULL; s = s->next) {
        if (s->fd == fd) {
            return s;
        }
    }
    return NULL;
}

/* A new socket holding a fresh descriptor; NULL with *err set on failure. */
static struct pd_sock *pd_sock_new(struct pd_host *h, int *err)
{
    struct pd_sock *s = calloc(1, sizeof *s);
    if (s == NULL) {
        *err = -ENOBUFS;
        return NULL;
    }
    s->fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (s->fd < 0) {
        *err = -errno;
        free(s);
        return NULL;
    }
    s->nodelay = h->nodelay;
    s->id = ++h->sock_ids;
    s->next = h->socks;
    h->socks = s;
    return s;
}

static void pd_sock_unlink(struct pd_host *h, struct pd_sock *s)
{
    struct pd_sock **pp = &h->socks;
    while (*pp != s) {
        pp = &(*pp)->next;
    }
    *pp = s->next;
}

void pd_sock_free_all(struct pd_host *h)
{
    while (h->socks != NULL) {
        struct pd_sock *s = h->socks;
        h->socks = s->next;
        /* packetdrill may have closed the descriptor itself already (its clean-up); close it
         * only if it still is our /dev/null. */
        struct stat st;
        if (fstat(s->fd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == h->null_rdev) {
            close(s->fd);
        }
        free(s);
    }
}

void pd_sock_event(void *ctx, struct tcpe_conn *c, unsigned events)
{
    (void)ctx;
    struct pd_sock *s = tcpe_conn_user(c);
    if (s == NULL) {
        return; /* a connection nobody has accepted yet */
    }
    if (events & TCPE_EV_CONNECTED) {
        s->established = true;
    }
    if (events & TCPE_EV_RESET) {
        s->err = s->established ? ECONNRESET : ECONNREFUSED;
    }
    if (events & TCPE_EV_TIMEDOUT) {
        s->err = ETIMEDOUT;
    }
}

/* Takes the pending error (SO_ERROR semantics: reported once). */
static int pd_take_err(struct pd_sock *s)
{
    int e = s->err;
    s->err = 0;
    return e;
}

static bool pd_handshaking(const struct pd_sock *s)
{
    int st = tcpe_conn_state(s->conn);
    return st == TCPE_SYN_SENT || st == TCPE_SYN_RECEIVED;
}

/* ---- addresses and ports ---- */

static int pd_sockaddr_in(const struct sockaddr *addr, socklen_t len, uint32_t *ip, uint16_t *port)
{
    struct sockaddr_in sin;
    if (addr == NULL || len < (socklen_t)sizeof sin) {
        return -EINVAL;
    }
    memcpy(&sin, addr, sizeof sin);
    if (sin.sin_family != AF_INET) {
        return -EAFNOSUPPORT;
    }
    *ip = ntohl(sin.sin_addr.s_addr);
    *port = ntohs(sin.sin_port);
    return 0;
}

static void pd_fill_sockaddr(uint32_t ip, uint16_t port, struct sockaddr *addr, socklen_t *addrlen)
{
    if (addr == NULL || addrlen == NULL) {
        return;
    }
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(ip);
    size_t n = *addrlen < (socklen_t)sizeof sin ? (size_t)*addrlen : sizeof sin;
    memcpy(addr, &sin, n);
    *addrlen = (socklen_t)sizeof sin;
}

/* Does another socket hold ip:port in a way that excludes s binding it (Linux's rule: both
 * must have SO_REUSEADDR and neither may listen)? */
static bool pd_addr_in_use(struct pd_host *h, const struct pd_sock *s, uint32_t ip, uint16_t port)
{
    for (const struct pd_sock *o = h->socks; o != NULL; o = o->next) {
        if (o == s || !o->bound || o->bind_port != port) {
            continue;
        }
        if (o->bind_ip != 0 && ip != 0 && o->bind_ip != ip) {
            continue;
        }
        if (!(s->reuseaddr && o->reuseaddr && o->kind != PD_SOCK_LISTENER)) {
            return true;
        }
    }
    return false;
}

/* The next ephemeral port no socket has bound, or 0 when all are taken. */
static uint16_t pd_ephemeral_port(struct pd_host *h, const struct pd_sock *s)
{
    uint32_t range = 65536u - h->port_first;
    for (uint32_t i = 0; i < range; i++) {
        uint16_t port = h->port_next;
        h->port_next = port == 65535 ? h->port_first : (uint16_t)(port + 1);
        if (!pd_addr_in_use(h, s, 0, port)) {
            return port;
        }
    }
    return 0;
}

/* ---- socket, bind, listen, accept, connect ---- */

static int pd_socket_locked(struct pd_host *h, int domain, int type, int protocol)
{
    if (domain != AF_INET) {
        return -EAFNOSUPPORT;
    }
    if ((type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != SOCK_STREAM) {
        return -EPROTONOSUPPORT;
    }
    if (protocol != 0 && protocol != IPPROTO_TCP) {
        return -EPROTONOSUPPORT;
    }
    int err = 0;
    struct pd_sock *s = pd_sock_new(h, &err);
    if (s == NULL) {
        return err;
    }
    s->nonblock = (type & SOCK_NONBLOCK) != 0;
    s->cloexec = (type & SOCK_CLOEXEC) != 0;
    return s->fd;
}

int pd_socket(void *u, int domain, int type, int protocol)
{
    struct pd_host *h = pd_enter(u);
    if (h == NULL) {
        return -1;
    }
    return pd_done(h, pd_socket_locked(h, domain, type, protocol));
}

static int pd_bind_locked(struct pd_host *h, int fd, const struct sockaddr *addr, socklen_t addrlen)
{
    struct pd_sock *s = pd_sock_find(h, fd);
    if (s == NULL) {
        return -EBADF;
    }
    if (s->kind != PD_SOCK_FRESH || s->bound) {
        return -EINVAL;
    }
    uint32_t ip;
    uint16_t port;
    int err = pd_sockaddr_in(addr, addrlen, &ip, &port);
    if (err < 0) {
        return err;
    }
    if (port == 0) {
        port = pd_ephemeral_port(h, s);
        if (port == 0) {
            return -EADDRINUSE;
        }
    } else if (pd_addr_in_use(h, s, ip, port)) {
        return -EADDRINUSE;
    }
    s->bound = true;
    s->explicit_bind = true;
    s->bind_ip = ip;
    s->bind_port = port;
    return 0;
}

int pd_bind(void *u, int fd, const struct sockaddr *addr, socklen_t addrlen)
{
    struct pd_host *h = pd_enter(u);
    if (h == NULL) {
        return -1;
    }
    return pd_done(h, pd_bind_locked(h, fd, addr, addrlen));
}

static int pd_listen_locked(struct pd_host *h, int fd, int backlog)
{
    struct pd_sock *s = pd_sock_find(h, fd);
    if (s == NULL) {
        return -EBADF;
    }
    if (s->kind == PD_SOCK_LISTENER) {
        return 0; /* Linux allows listen() again; the engine's backlog stays as it was */
    }
    if (s->kind != PD_SOCK_FRESH) {
        return -EINVAL;
    }
    if (!s->bound) {
        uint16_t port = pd_ephemeral_port(h, s);
        if (port == 0) {
            return -EADDRINUSE;
        }
        s->bound = true;
        s->bind_port = port;
    }
    /* listen(fd, 0) still takes one connection on Linux; the engine reads 0 as its default. */
    uint32_t n = backlog < 1 ? 1 : backlog > 4096 ? 4096 : (uint32_t)backlog;
    struct tcpe_conn *l;
    int err = tcpe_listen(h->stack, s->bind_ip, s->bind_port, n, &l);
    if (err == HO_EEXIST) {
        return -EADDRINUSE;
    }
    if (err < 0) {
        return -ENOBUFS;
    }
    tcpe_conn_set_user(l, s);
    s->conn = l;
    s->kind = PD_SOCK_LISTENER;
    return 0;
}

int pd_listen(void *u, int fd, int backlog)
{
    struct pd_host *h = pd_enter(u);
    if (h == NULL) {
        return -1;
    }
    return pd_done(h, pd_listen_locked(h, fd, backlog));
}

/* A listener's next established connection: the one poll() already took, else the engine's. */
static struct tcpe_conn *pd_next_child(struct pd_sock *l)
{
    struct tcpe_conn *c = l->stash;
    if (c != NULL) {
        l->stash = NULL;
        return c;
    }
    return tcpe_accept(l->conn);
}

static int pd_accept_locked(struct pd_host *h, int fd, struct sockaddr *addr, socklen_t *addrlen)
{
    struct pd_sock *l = pd_sock_find(h, fd);
    if (l == NULL) {
        return -EBADF;
    }
    if (l->kind != PD_SOCK_LISTENER) {
        return -EINVAL;
    }
    struct tcpe_conn *c;
    int err = 0;
    while ((c = pd_next_child(l)) == NULL) {
        if (l->nonblock) {
            return -EAGAIN;
        }
        l = pd_block(h, l, "accept", &err);
        if (l == NULL) {
            return err;
        }
    }
    struct pd_sock *s = pd_sock_new(h, &err);
    if (s == NULL) {
        l->stash = c; /* keep it for the next accept() */
        return err;
    }
    const struct tcpe_tuple *t = tcpe_conn_tuple(c);
    s->kind = PD_SOCK_CONN;
    s->conn = c;
    s->bound = true;
    s->bind_ip = t->local_ip;
    s->bind_port = t->local_port;
    s->established = true;
    s->nodelay = l->nodelay; /* inherited, as on Linux; O_NONBLOCK is not */
    tcpe_conn_set_nodelay(c, s->nodelay);
    tcpe_conn_set_user(c, s);
    if (tcpe_conn_state(c) == TCPE_CLOSED) {
        s->err = ECONNRESET; /* reset while it waited in the queue */
    }
    pd_fill_sockaddr(t->remote_ip, t->remote_port, addr, addrlen);
    return s->fd;
}

int pd_accept(void *u, int fd, struct sockaddr *addr, socklen_t *addrlen)
{
    struct pd_host *h = pd_enter(u);
    if (h == NULL) {
        return -1;
    }
    return pd_done(h, pd_accept_locked(h, fd, addr, addrlen));
}

/*
 * connect() on a socket that already has a connection, as Linux's inet_stream_connect answers
 * it: during the handshake EALREADY (or wait, if blocking); once it is over, 0 the first time if
 * a non-blocking connect() is still to learn its outcome, else EISCONN. A connection that
 * failed before its outcome was reported (refused, reset, timed out) gives its error (or
 * ECONNABORTED if SO_ERROR took it already) and leaves the socket unconnected, so it may try
 * again.
 */
static int pd_reconnect(struct pd_host *h, struct pd_sock *s)
{
    int err = 0;
    while (pd_handshaking(s)) {
        if (s->nonblock) {
            return -EALREADY;
        }
        s = pd_block(h, s, "connect", &err);
        if (s == NULL) {
            return err;
        }
    }
    if (!s->connecting) {
        return -EISCONN;
    }
    s->connecting = false;
    if (tcpe_conn_state(s->conn) != TCPE_CLOSED) {
        return 0;
    }
    int e = pd_take_err(s);
    tcpe_release(s->conn, h->now);
    s->conn = NULL;
    s->kind = PD_SOCK_FRESH;
    s->established = false;
    if (!s->explicit_bind) {
        s->bound = false;
        s->bind_ip = 0;
        s->bind_port = 0;
    }
    return -(e != 0 ? e : ECONNABORTED);
}

static int pd_connect_locked(struct pd_host *h, int fd, const struct sockaddr *addr,
                             socklen_t addrlen)
{
    struct pd_sock *s = pd_sock_find(h, fd);
    if (s == NULL) {
        return -EBADF;
    }
    uint32_t ip;
    uint16_t port;
    int err = pd_sockaddr_in(addr, addrlen, &ip, &port);
    if (err < 0) {
        return err;
    }
    if (s->kind == PD_SOCK_LISTENER) {
        return -EISCONN;
    }
    if (s->kind == PD_SOCK_CONN) {
        return pd_reconnect(h, s);
    }
    struct tcpe_tuple t = {
        .local_ip = s->bound && s->bind_ip != 0 ? s->bind_ip : h->local_ip,
        .remote_ip = ip,
        .local_port = s->bind_port,
        .remote_port = port,
    };
    struct tcpe_conn *c = NULL;
    if (s->bound) {
        err = tcpe_connect(h->stack, &t, h->now, &c);
    } else {
        /* An ephemeral port whose 4-tuple is free (a TIME_WAIT may still hold one). */
        err = HO_EEXIST;
        for (int tries = 0; tries < 65536 && err == HO_EEXIST; tries++) {
            t.local_port = pd_ephemeral_port(h, s);
            if (t.local_port == 0) {
                break;
            }
            err = tcpe_connect(h->stack, &t, h->now, &c);
        }
    }
    if (err == HO_EEXIST) {
        return -EADDRNOTAVAIL;
    }
    if (err == HO_EINVAL) {
        return -EINVAL;
    }
    if (err < 0) {
        return -ENOBUFS;
    }
    s->kind = PD_SOCK_CONN;
    s->conn = c;
    s->bound = true;
    s->bind_ip = t.local_ip;
    s->bind_port = t.local_port;
    tcpe_conn_set_nodelay(c, s->nodelay);
    tcpe_conn_set_user(c, s);
    s->connecting = true;
    if (s->nonblock) {
        return -EINPROGRESS;
    }
    return pd_reconnect(h, s); /* blocks until the handshake ends */
}

int pd_connect(void *u, int fd, const struct sockaddr *addr, socklen_t addrlen)
{
    struct pd_host *h = pd_enter(u);
    if (h == NULL) {
        return -1;
    }
    return pd_done(h, pd_connect_locked(h, fd, addr, addrlen));
}

/* ---- reading ---- */

/* Total length of an iovec array, or a negative errno. */
static ssize_t pd_iov_total(const struct iovec *iov, int iovcnt)
{
    if (iovcnt < 0 || iovcnt > PD_IOV_MAX) {
        return -EINVAL;
    }
    if (iovcnt > 0 && iov == NULL) {
        return -EFAULT;
    }
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++) {
        if (iov[i].iov_len > (size_t)SSIZE_MAX - total) {
            return -EINVAL;
        }
        total += iov[i].iov_len;
    }
    return (ssize_t)total;
}

/* Copies what is readable into the iovecs. */
static ssize_t pd_take(struct pd_host *h, struct tcpe_conn *c, const struct iovec *iov, int iovcnt)
{
    ssize_t got = 0;
    for (int i = 0; i < iovcnt; i++) {
        uint8_t *p = iov[i].iov_base;
        size_t left = iov[i].iov_len;
        while (left > 0) {
            uint32_t chunk = left > INT32_MAX ? INT32_MAX : (uint32_t)left;
            int n = tcpe_recv(c, p, chunk, h->now);
            if (n <= 0) {
                return got;
            }
            got += n;
            p += n;
            left -= (size_t)n;
        }
    }
    return got;
}

static ssize_t pd_recv_locked(struct pd_host *h, int fd, const struct iovec *iov, int iovcnt,
                              int flags)
{
    struct pd_sock *s = pd_sock_find(h, fd);
    if (s == NULL) {
        return -EBADF;
    }
    if (flags & ~MSG_DONTWAIT) {
        return -EOPNOTSUPP; /* MSG_PEEK, MSG_OOB, MSG_WAITALL: not offered */
    }
    ssize_t total = pd_iov_total(iov, iovcnt);
    if (total < 0) {
        return total;
    }
    if (s->kind != PD_SOCK_CONN) {
        return -ENOTCONN;
    }
    if (total == 0) {
        return 0;
    }
    bool nonblock = s->nonblock || (flags & MSG_DONTWAIT);
    for (;;) {
        if (tcpe_conn_readable(s->conn) > 0) {
            return pd_take(h, s->conn, iov, iovcnt);
        }
        if (s->err != 0) {
            return -pd_take_err(s);
        }
        if (s->rd_shut || tcpe_conn_eof(s->conn) || tcpe_conn_state(s->conn) == TCPE_CLOSED) {
            return 0;
        }
        if (nonblock) {
            return -EAGAIN;
        }
        int err = 0;
        s = pd_block(h, s, "read", &err);
        if (s == NULL) {
            return err;
        }
    }
}

static ssize_t pd_recv_iov(void *u, int fd, const struct iovec *iov, int iovcnt, int flags)
{
    struct pd_host *h = pd_enter(u);
    if (h == NULL) {
        return -1;
    }
    return pd_done_ssize(h, pd_recv_locked(h, fd, iov, iovcnt, flags));
}

ssize_t pd_read(void *u, int fd, void *buf, size_t count)
{
    struct iovec iov = {buf, count};
    return pd_recv_iov(u, fd, &iov, 1, 0);
}

ssize_t pd_readv(void *u, int fd, const struct iovec *iov, int iovcnt)
{
    return pd_recv_iov(u, fd, iov, iovcnt, 0);
}

ssize_t pd_recv(void *u, int fd, void *buf, size_t len, int flags)
{
    struct iovec iov = {buf, len};
    return pd_recv_iov(u, fd, &iov, 1, flags);
}

ssize_t pd_recvfrom(void *u, int fd, void *buf, size_t len, int flags, struct sockaddr *src,
                    socklen_t *addrlen)
{
    (void)src; /* a connected TCP socket leaves the source address alone, as Linux does */
    ssize_t n = pd_recv(u, fd, buf, len, flags);
    if (n >= 0 && addrlen != NULL) {
        *addrlen = 0;
    }
    return n;
}

ssize_t pd_recvmsg(void *u, int fd, struct msghdr *msg, int flags)
{
    if (msg == NULL) {
        errno = EFAULT;
        return -1;
    }
    ssize_t n = pd_recv_iov(u, fd, msg->msg_iov, (int)msg->msg_iovlen, flags);
    if (n >= 0) {
        msg->msg_namelen = 0;
        msg->msg_controllen = 0;
        msg->msg_flags = 0;
    }
    return n;
}

/* ---- writing ---- */

/* Copies up to len octets from the iovecs, starting `skip` octets in, into buf. */
static void pd_gather(const struct iovec *iov, int iovcnt, size_t skip, uint8_t *buf, size_t len)
{
    for (int i = 0; i < iovcnt && len > 0; i++) {
        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        size_t n = iov[i].iov_len - skip;
        n = n < len ? n : len;
        memcpy(buf, (const uint8_t *)iov[i].iov_base + skip, n);
        buf += n;
        len -= n;
        skip = 0;
    }
}

/*
 * Queues as much of the iovecs as the send buffer takes, in one tcpe_send, so that a writev()
 * of small pieces goes out as one segment as it would from a kernel (piece by piece, Nagle's
 * algorithm would hold all but the first). Returns what was queued, or an HO_E* code.
 */
static int pd_send_some(struct pd_host *h, struct pd_sock *s, const struct iovec *iov, int iovcnt,
                        size_t skip, size_t left)
{
    uint32_t room = tcpe_conn_writable(s->conn);
    size_t n = left < room ? left : room;
    if (n == 0) {
        return tcpe_send(s->conn, "", 0, h->now); /* 0, or HO_ESTATE if it cannot send */
    }
    uint8_t *buf = malloc(n);
    if (buf == NULL) {
        return HO_ENOMEM;
    }
    pd_gather(iov, iovcnt, skip, buf, n);
    int r = tcpe_send(s->conn, buf, (uint32_t)n, h->now);
    free(buf);
    return r;
}

static ssize_t pd_send_locked(struct pd_host *h, int fd, const struct iovec *iov, int iovcnt,
                              int flags)
{
    struct pd_sock *s = pd_sock_find(h, fd);
    if (s == NULL) {
        return -EBADF;
    }
    if (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL)) {
        return -EOPNOTSUPP;
    }
    ssize_t total = pd_iov_total(iov, iovcnt);
    if (total < 0) {
        return total;
    }
    if (s->kind != PD_SOCK_CONN) {
        return -EPIPE; /* Linux: a TCP socket that is not connected cannot send */
    }
    if (s->err != 0) {
        return -pd_take_err(s);
    }
    bool nonblock = s->nonblock || (flags & MSG_DONTWAIT);
    size_t sent = 0;
    while (sent < (size_t)total) {
        int n = 0;
        if (!pd_handshaking(s)) {
            n = pd_send_some(h, s, iov, iovcnt, sent, (size_t)total - sent);
            if (n == HO_ESTATE) {
                return sent > 0 ? (ssize_t)sent : -EPIPE;
            }
            if (n < 0) {
                return sent > 0 ? (ssize_t)sent : -ENOMEM;
            }
        }
        if (n > 0) {
            sent += (size_t)n;
            continue;
        }
        /* The handshake is not over, or the send buffer is full. */
        if (nonblock) {
            return sent > 0 ? (ssize_t)sent : -EAGAIN;
        }
        int err = 0;
        s = pd_block(h, s, "write", &err);
        if (s == NULL) {
            return sent > 0 ? (ssize_t)sent : err;
        }
        if (s->err != 0) {
            return sent > 0 ? (ssize_t)sent : -pd_take_err(s);
        }
    }
    return (ssize_t)sent;
}

static ssize_t pd_send_iov(void *u, int fd, const struct iovec *iov, int iovcnt, int flags)
{
    struct pd_host *h = pd_enter(u);
    if (h == NULL) {
        return -1;
    }
    return pd_done_ssize(h, pd_send_locked(h, fd, iov, iovcnt, flags));
}

ssize_t pd_write(void *u, int fd, const void *buf, size_t count)
{
    struct iovec iov = {(void *)(uintptr_t)buf, count}; /* iovec has no const member */
    return pd_send_iov(u, fd, &iov, 1, 0);
}

ssize_t pd_writev(void *u, int fd, const struct iovec *iov, int iovcnt)
{
    return pd_send_iov(u, fd, iov, iovcnt, 0);
}

ssize_t pd_send(void *u, int fd, const void *buf, size_t len, int flags)
{
    struct iovec iov = {(void *)(uintptr_t)buf, len};
    return pd_send_iov(u, fd, &iov, 1, flags);
}

ssize_t pd_sendto(void *u, int fd, const void *buf, size_t len, int flags,
                  const struct sockaddr *dst, socklen_t addrlen)
{
    (void)dst; /* ignored on a connected TCP socket, as Linux does */
    (void)addrlen;
    return pd_send(u, fd, buf, len, flags);
}

ssize_t pd_sendmsg(void *u, int fd, const struct msghdr *msg, int flags)
{
    if (msg == NULL) {
        errno = EFAULT;
        return -1;
    }
    return pd_send_iov(u, fd, msg->msg_iov, (int)msg->msg_iovlen, flags);
}

/* ---- descriptor control ---- */

static int pd_fcntl_locked(struct pd_host *h, int fd, int cmd, int arg)
{
    struct pd_sock *s = pd_sock_find(h, fd);
    if (s == NULL) {
        return -EBADF;
    }
    switch (cmd) {
    case F_GETFL:
        return O_RDWR | (s->nonblock ? O_NONBLOCK : 0);
    case F_SETFL:
        s->nonblock = (arg & O_NONBLOCK) != 0;
        return 0;
    case F_GETFD:
        return s->cloexec ? FD_CLOEXEC : 0;
    case F_SETFD:
        s->cloexec = (arg & FD_CLOEXEC) != 0;
        return 0;
    default:
        return -EINVAL;
    }
}

int pd_fcntl(void *u, int fd, int cmd, ...)
{
    int arg = 0;
    if (cmd == F_SETFL || cmd == F_SETFD) {
        va_list ap;
        va_start(ap, cmd);
        arg = va_arg(ap, int);
        va_end(ap);
    }
    struct pd_host *h = pd_enter(u);
    if (h == NULL) {
        return -1;
    }
    return pd_done(h, pd_fcntl_locked(h, fd, cmd, arg));
}

static int pd_ioctl_locked(struct pd_host *h, int fd, unsigned long request, int *out)
{
    struct pd_sock *s = pd_sock_find(h, fd);
    if (s == NULL) {
        return -EBADF;
    }
    if (out == NULL) {
        return -EFAULT;
    }
    bool conn = s->kind == PD_SOCK_CONN;
    switch (request) {
    case FIONREAD: /* SIOCINQ: octets waiting to be read */
        if (s->kind == PD_SOCK_LISTENER) {
            return -EINVAL;
        }
        *out = conn ? (int)tcpe_conn_readable(s->conn) : 0;
        return 0;
    case TIOCOUTQ: /* SIOCOUTQ: octets sent or queued and not yet acknowledged */
        if (s->kind == PD_SOCK_LISTENER) {
            return -EINVAL;
        }
        *out = conn ? (int)tcpe_conn_unacked(s->conn) : 0;
        return 0;
    default:
        return -ENOTTY;
    }
}

int pd_ioctl(void *u, int fd, unsigned long request, ...)
{
    va_list ap;
    va_start(ap, request);
    int *out = va_arg(ap, int *); /* packetdrill always passes an int to fill */
    va_end(ap);
    struct pd_host *h = pd_enter(u);
    if (h == NULL) {
        return -1;
    }
    return pd_done(h, pd_ioctl_locked(h, fd, request, out));
}

static int pd_close_locked(struct pd_host *h, int fd)
{
    struct pd_sock *s = pd_sock_find(h, fd);
    if (s == NULL) {
        return -EBADF;
    }
    pd_sock_unlink(h, s);
    if (s->stash != NULL) {
        /* Taken from the engine's queue by poll(): reset it, as closing a listener resets
         * every connection still waiting to be accepted. */
        tcpe_abort(s->stash, h->now);
        tcpe_release(s->stash, h->now);
    }
    if (s->conn != NULL) {
        tcpe_release(s->conn, h->now); /* FIN after the queued data; RST if data is unread */
    }
    close(s->fd);
    free(s);
    return 0;
}

int pd_close(void *u, int fd)
{
    struct pd_host *h = pd_enter(u);
    if (h == NULL) {
        return -1;
    }
    return pd_done(h, pd_close_locked(h, fd));
}

static int pd_shutdown_locked(struct pd_host *h, int fd, int how)
{
    struct pd_sock *s = pd_sock_find(h, fd);
    if (s == NULL) {
        return -EBADF;
    }
    if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) {
        return -EINVAL;
    }
    if (s->kind != PD_SOCK_CONN) {
        return -ENOTCONN;
    }
    if (how != SHUT_WR) {
        s->rd_shut = true;
    }
    if (how != SHUT_RD) {
        if (tcpe_shutdown(s->conn, h->now) < 0) {
            return -ENOTCONN;
        }
        s->wr_shut = true;
    }
    return 0;
}

int pd_shutdown(void *u, int fd, int how)
{
    struct pd_host *h = pd_enter(u);
    if (h == NULL) {
        return -1;
    }
    return pd_done(h, pd_shutdown_locked(h, fd, how));
}

/* ---- socket options ---- */

static int pd_getsockopt_locked(struct pd_host *h, int fd, int level, int optname, void *optval,
                                socklen_t *optlen)
{
    struct pd_sock *s = pd_sock_find(h, fd);
    if (s == NULL) {
        return -EBADF;
    }
    if (optval == NULL || optlen == NULL) {
        return -EFAULT;
    }
    int v;
    if (level == SOL_SOCKET && optname == SO_ERROR) {
        v = pd_take_err(s);
    } else if (level == SOL_SOCKET && optname == SO_TYPE) {
        v = SOCK_STREAM;
    } else if (level == SOL_SOCKET && optname == SO_REUSEADDR) {
        v = s->reuseaddr;
    } else if (level == SOL_SOCKET && optname == SO_ACCEPTCONN) {
        v = s->kind == PD_SOCK_LISTENER;
    } else if (level == SOL_SOCKET && optname == SO_SNDBUF) {
        v = (int)h->sndbuf;
    } else if (level == SOL_SOCKET && optname == SO_RCVBUF) {
        v = (int)h->rcvbuf;
    } else if (level == IPPROTO_TCP && optname == TCP_NODELAY) {
        v = s->nodelay;
    } else if (level == IPPROTO_TCP && optname == TCP_MAXSEG) {
        v = h->mss;
        if (s->kind == PD_SOCK_CONN) {
            struct tcpe_info info;
            tcpe_conn_info(s->conn, &info);
            v = info.maxseg;
        }
    } else {
        return -ENOPROTOOPT;
    }
    if (*optlen < (socklen_t)sizeof v) {
        return -EINVAL;
    }
    memcpy(optval, &v, sizeof v);
    *optlen = (socklen_t)sizeof v;
    return 0;
}

int pd_getsockopt(void *u, int fd, int level, int optname, void *optval, socklen_t *optlen)
{
    struct pd_host *h = pd_enter(u);
    if (h == NULL) {
        return -1;
    }
    return pd_done(h, pd_getsockopt_locked(h, fd, level, optname, optval, optlen));
}

static int pd_setsockopt_locked(struct pd_host *h, int fd, int level, int optname,
                                const void *optval, socklen_t optlen)
{
    struct pd_sock *s = pd_sock_find(h, fd);
    if (s == NULL) {
        return -EBADF;
    }
    int v;
    if (optval == NULL || optlen < (socklen_t)sizeof v) {
        return -EINVAL;
    }
    memcpy(&v, optval, sizeof v);
    if (level == SOL_SOCKET && optname == SO_REUSEADDR) {
        s->reuseaddr = v != 0;
    } else if (level == IPPROTO_TCP && optname == TCP_NODELAY) {
        s->nodelay = v != 0;
        if (s->kind == PD_SOCK_CONN) {
            tcpe_conn_set_nodelay(s->conn, s->nodelay);
        }
    } else {
        return -ENOPROTOOPT;
    }
    return 0;
}

int pd_setsockopt(void *u, int fd, int level, int optname, const void *optval, socklen_t optlen)
{
    struct pd_host *h = pd_enter(u);
    if (h == NULL) {
        return -1;
    }
    return pd_done(h, pd_setsockopt_locked(h, fd, level, optname, optval, optlen));
}

/* ---- poll ---- */

/* What poll() reports for one socket, as Linux's tcp_poll would. */
static short pd_revents(struct pd_sock *s)
{
    short ev = 0;
    switch (s->kind) {
    case PD_SOCK_FRESH:
        return POLLOUT | POLLHUP; /* an unconnected TCP socket, on Linux */
    case PD_SOCK_LISTENER:
        if (s->stash == NULL) {
            s->stash = tcpe_accept(s->conn); /* to know, take it: accept() gets it next */
        }
        return s->stash != NULL ? POLLIN : 0;
    case PD_SOCK_CONN:
        break;
    }
    int st = tcpe_conn_state(s->conn);
    bool closed = st == TCPE_CLOSED;
    bool got_fin = TCPE_HAVE_RCVD_FIN(st) && !closed;
    if (s->err != 0) {
        ev |= POLLERR;
    }
    if (closed || (got_fin && s->wr_shut)) {
        ev |= POLLHUP;
    }
    if (closed || got_fin || s->rd_shut) {
        ev |= POLLIN | PD_POLLRDHUP;
    }
    if (tcpe_conn_readable(s->conn) > 0) {
        ev |= POLLIN;
    }
    if (closed || s->wr_shut || (!pd_handshaking(s) && tcpe_conn_writable(s->conn) > 0)) {
        ev |= POLLOUT; /* after shutdown too: a write would not block (it fails at once) */
    }
    return ev;
}

static int pd_poll_locked(struct pd_host *h, struct pollfd *fds, nfds_t nfds, int timeout)
{
    if (nfds > 0 && fds == NULL) {
        return -EFAULT;
    }
    uint64_t deadline = timeout < 0 ? TCPE_NEVER : h->now + (uint64_t)timeout * NS_PER_MS;
    for (;;) {
        int ready = 0;
        for (nfds_t i = 0; i < nfds; i++) {
            fds[i].revents = 0;
            if (fds[i].fd < 0) {
                continue;
            }
            struct pd_sock *s = pd_sock_find(h, fds[i].fd);
            short ev = s == NULL ? POLLNVAL : pd_revents(s);
            fds[i].revents = (short)(ev & (fds[i].events | POLLERR | POLLHUP | POLLNVAL));
            if (fds[i].revents != 0) {
                ready++;
            }
        }
        if (ready > 0 || timeout == 0) {
            return ready;
        }
        if (pd_wait(h, deadline) < 0) {
            if (deadline == TCPE_NEVER) {
                return pd_would_hang("poll", nfds > 0 ? fds[0].fd : -1);
            }
            return 0; /* timed out */
        }
    }
}

int pd_poll(void *u, struct pollfd *fds, nfds_t nfds, int timeout)
{
    struct pd_host *h = pd_enter(u);
    if (h == NULL) {
        return -1;
    }
    return pd_done(h, pd_poll_locked(h, fds, nfds, timeout));
}
