/*
 * pd_host.h - the state behind the packetdrill interface: one TCP engine stack, its simulated
 * clock, the queue of datagrams it sent, and the sockets a script opened on it.
 *
 * Shared by tcpe_packetdrill.c (the interface table, the clock, the network device) and
 * pd_socket.c (the socket calls). Everything lives in one struct pd_host that the interface's
 * userdata pointer carries; nothing is global.
 *
 * Threads: packetdrill makes most calls from its main thread (the driver), which also moves
 * the clock (usleep, gettimeofday) and the network device. A script line with a time range
 * ("0.1...0.2 accept(...)") is a blocking call that packetdrill makes from a second thread
 * while the main thread goes on; that thread then reads the clock to check when the call
 * returned. So every entry point holds the host's mutex, and a call that must block waits on
 * the condition variable in the second thread. In the driver thread nothing else can happen
 * while it waits, so there "blocking" means letting simulated time run to the engine's next
 * timer (see pd_wait).
 *
 * With a real clock the blocked thread would wake within microseconds of the packet that frees
 * it; with a simulated one the driver could move time on by a second before the other thread
 * even runs. So the clock never moves past a moment at which the blocked call might finish
 * until that call has looked again (pd_settle): every change bumps a generation number, the
 * waiter records the generation it has seen, and the driver, before it moves the clock, waits
 * until the waiter is up to date; a call that returns in the second thread holds the clock
 * until that thread has read it (packetdrill reads it first thing after a blocking call).
 */
#ifndef HANDOFF_PD_HOST_H
#define HANDOFF_PD_HOST_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "handoff/tcpe.h"
#include "handoff/tcpe_wire.h"
#include "pd_abi.h"

/* What a socket has become. */
enum pd_sock_kind {
    PD_SOCK_FRESH = 0, /* socket() (and perhaps bind()) so far */
    PD_SOCK_LISTENER,  /* listen() succeeded: conn is the engine's listener */
    PD_SOCK_CONN,      /* connect() or accept(): conn is a connection */
};

struct pd_sock {
    struct pd_sock *next;    /* in pd_host.socks */
    int fd;                  /* the descriptor number the script sees (a reserved real fd) */
    uint64_t id;             /* unique for the host's lifetime (a closed fd number is reused) */
    enum pd_sock_kind kind;  /* what it is */
    bool nonblock;           /* O_NONBLOCK */
    bool nodelay;            /* TCP_NODELAY (applied to conn, inherited by accepted sockets) */
    bool reuseaddr;          /* SO_REUSEADDR, kept for getsockopt */
    bool bound;              /* bind() (or an implicit bind) gave it an address */
    bool explicit_bind;      /* the address came from bind(), not from connect() */
    bool established;        /* the handshake completed (so a RST is a reset, not a refusal) */
    bool connecting;         /* a non-blocking connect() said EINPROGRESS, not yet reported */
    bool rd_shut;            /* shutdown(SHUT_RD) */
    bool wr_shut;            /* shutdown(SHUT_WR): our FIN is queued */
    bool cloexec;            /* FD_CLOEXEC as the script set it (F_SETFD) */
    int err;                 /* pending error (SO_ERROR): ECONNRESET, ETIMEDOUT, ... or 0 */
    uint32_t bind_ip;        /* bound address (0 = any), host byte order */
    uint16_t bind_port;      /* bound port */
    struct tcpe_conn *conn;  /* the engine's listener or connection, NULL while FRESH */
    struct tcpe_conn *stash; /* a listener's connection taken from the engine by poll() */
};

/* One datagram the stack sent, waiting for netdev_receive. */
struct pd_pkt {
    struct pd_pkt *next;
    uint64_t when; /* ns on the simulated clock */
    size_t len;
    uint8_t bytes[]; /* the IPv4 datagram */
};

struct pd_host {
    pthread_mutex_t mu;       /* held by every entry point */
    pthread_cond_t changed;   /* broadcast whenever an entry point leaves */
    pthread_t driver;         /* the thread that called packetdrill_interface_init */
    uint64_t gen;             /* bumped by every change (entry points leaving, timers running) */
    bool waiter;              /* the blocking-call thread is waiting inside a call */
    uint64_t waiter_gen;      /* the generation it has seen */
    uint64_t waiter_deadline; /* when its wait times out (poll), else TCPE_NEVER */
    bool hold;                /* it returned and has not read the clock yet */
    bool driver_inside;       /* the driver thread is inside an entry point */
    bool broken;              /* the flags were bad or the stack could not start */
    struct tcpe_stack *stack;
    uint64_t now;            /* the simulated clock, ns */
    uint32_t local_ip;       /* source address of connect() on unbound sockets */
    uint16_t port_first;     /* ephemeral ports: first of the range */
    uint16_t port_next;      /* ephemeral ports: next to try */
    struct pd_sock *socks;   /* open sockets */
    uint64_t sock_ids;       /* the last pd_sock.id given */
    struct pd_pkt *out_head; /* datagrams sent, oldest first */
    struct pd_pkt *out_tail;
    uint32_t out_len;                /* datagrams in the queue */
    uint64_t out_dropped;            /* datagrams lost because the queue was full */
    struct tcpe_wire_tx tx;          /* our IPv4 sender state */
    struct tcpe_wire_stats rx_stats; /* what the parser dropped */
    uint32_t sndbuf;                 /* the stack's buffer sizes, for SO_SNDBUF / SO_RCVBUF */
    uint32_t rcvbuf;
    uint16_t mss;    /* the MSS we advertise, for TCP_MAXSEG before a connection */
    bool nodelay;    /* the stack-wide Nagle setting, for TCP_NODELAY */
    dev_t null_rdev; /* /dev/null's device number, to recognise reserved descriptors */
};

/* The most datagrams kept for netdev_receive; more are dropped and counted. */
#define PD_OUT_MAX 4096

/* Takes the host's lock; NULL (errno set) if userdata is unusable. */
struct pd_host *pd_enter(void *userdata);
/* Wakes blocked callers and drops the lock. */
void pd_leave(struct pd_host *h);
/* Called by a socket call about to return (before pd_leave): in the blocking-call thread, it
 * stops waiting and holds the clock until that thread reads it. */
void pd_call_done(struct pd_host *h);

/* Moves the clock forward to `to` (never back), running every engine timer due on the way at
 * its own time, so datagrams they send carry the right timestamps. In the driver thread it
 * stops at each such moment (and at a blocked poll's deadline) until the blocked call, if any,
 * has looked again. */
void pd_advance(struct pd_host *h, uint64_t to);

/*
 * Waits, with the lock held, for something to change, but not past `deadline` (TCPE_NEVER for
 * none). In packetdrill's second thread it sleeps until another entry point leaves. In the
 * driver thread it advances the clock to the engine's next timer (or the deadline, if sooner).
 * Returns 0 when the caller should look again, -1 when nothing can ever change: the driver
 * thread waiting with no timer running and no deadline (the caller then fails with EAGAIN and
 * a message, rather than hang as a real kernel would).
 */
int pd_wait(struct pd_host *h, uint64_t deadline);

/* The socket with descriptor fd, or NULL. */
struct pd_sock *pd_sock_find(struct pd_host *h, int fd);
/* Frees every socket (releasing their connections) at teardown. */
void pd_sock_free_all(struct pd_host *h);
/* The engine's event callback (tcpe_ops.event): records resets and timeouts on sockets. */
void pd_sock_event(void *ctx, struct tcpe_conn *c, unsigned events);

/* The socket calls of the interface (pd_socket.c), in the table's order. */
int pd_socket(void *u, int domain, int type, int protocol);
int pd_bind(void *u, int fd, const struct sockaddr *addr, socklen_t addrlen);
int pd_listen(void *u, int fd, int backlog);
int pd_accept(void *u, int fd, struct sockaddr *addr, socklen_t *addrlen);
int pd_connect(void *u, int fd, const struct sockaddr *addr, socklen_t addrlen);
ssize_t pd_read(void *u, int fd, void *buf, size_t count);
ssize_t pd_readv(void *u, int fd, const struct iovec *iov, int iovcnt);
ssize_t pd_recv(void *u, int fd, void *buf, size_t len, int flags);
ssize_t pd_recvfrom(void *u, int fd, void *buf, size_t len, int flags, struct sockaddr *src,
                    socklen_t *addrlen);
ssize_t pd_recvmsg(void *u, int fd, struct msghdr *msg, int flags);
ssize_t pd_write(void *u, int fd, const void *buf, size_t count);
ssize_t pd_writev(void *u, int fd, const struct iovec *iov, int iovcnt);
ssize_t pd_send(void *u, int fd, const void *buf, size_t len, int flags);
ssize_t pd_sendto(void *u, int fd, const void *buf, size_t len, int flags,
                  const struct sockaddr *dst, socklen_t addrlen);
ssize_t pd_sendmsg(void *u, int fd, const struct msghdr *msg, int flags);
int pd_fcntl(void *u, int fd, int cmd, ...);
int pd_ioctl(void *u, int fd, unsigned long request, ...);
int pd_close(void *u, int fd);
int pd_shutdown(void *u, int fd, int how);
int pd_getsockopt(void *u, int fd, int level, int optname, void *optval, socklen_t *optlen);
int pd_setsockopt(void *u, int fd, int level, int optname, const void *optval, socklen_t optlen);
int pd_poll(void *u, struct pollfd *fds, nfds_t nfds, int timeout);

#endif
