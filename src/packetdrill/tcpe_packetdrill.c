/*
 * tcpe_packetdrill.c - the TCP engine as a packetdrill shared object: the interface table, the
 * simulated clock and the network device.
 *
 * packetdrill loads libtcpe_packetdrill.so (--so_filename) and calls packetdrill_interface_init
 * once; from then on the script drives one tcpe stack through the table filled in here (see
 * pd_abi.h). The socket calls live in pd_socket.c; this file owns what is around them:
 *
 *  - the clock. Time is a counter of nanoseconds that only packetdrill's usleep and
 *    gettimeofday move (a real clock is read in one place only, to notice that packetdrill has
 *    stopped calling while a blocked call waits: pd_wait_for_driver). usleep(n) moves it n
 *    microseconds; every
 *    gettimeofday moves it one microsecond, because packetdrill spins on gettimeofday for the
 *    last few microseconds before an event and a clock that never moved would spin forever.
 *    Whenever the clock moves, the engine's timers that fall due run at their own times, so a
 *    retransmission stamped 1.000000 s went out at exactly that moment of the script.
 *  - the network device. netdev_send gives us an IPv4 datagram from the scripted peer, which
 *    tcpe_wire_ipv4_parse checks (checksums included) and tcpe_stack_input takes. What the
 *    engine sends is built by tcpe_wire_ipv4_build and queued with its send time until
 *    netdev_receive asks. packetdrill asks only when the script expects a packet, and keeps
 *    asking until it gets one, as a process waiting on a socket would; so when the queue is
 *    empty, netdev_receive lets time run to the engine's next timer, and the next, until
 *    something is sent. A queue that stays empty with no timer left means the engine will never
 *    send what the script expects: that is reported on stderr and answered with an empty
 *    datagram, which fails the script instead of hanging it.
 *  - the flags: --so_flags="key=value,..." sets the stack's parameters (docs/packetdrill.md).
 *  - the lock and the hand-over between packetdrill's two threads (pd_host.h explains them).
 *
 * All state sits in one struct pd_host behind the interface's userdata pointer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "handoff/err.h"
#include "pd_abi.h"
#include "pd_host.h"

#define NS_PER_US 1000ull
#define NS_PER_MS 1000000ull
#define NS_PER_S  1000000000ull

/* How long (real time, ns) the driver thread must leave the interface alone before a blocked
 * call lets simulated time run by itself (pd_wait_for_driver). */
#define PD_DRIVER_IDLE 100000000L

/* netdev_receive gives up when this much simulated time passes without a datagram. */
#define PD_RECEIVE_HORIZON (3600 * NS_PER_S)

/* packetdrill's default address for the stack under test (its --local_ip may differ: then
 * pass the same address as local_ip= in --so_flags). */
#define PD_DEFAULT_LOCAL_IP 0xc0a80001u /* 192.168.0.1 */
#define PD_DEFAULT_PORT     40000       /* first ephemeral port */

/* ---- lock, clock and waiting ---- */

static bool pd_is_driver(const struct pd_host *h)
{
    return pthread_equal(pthread_self(), h->driver) != 0;
}

struct pd_host *pd_enter(void *userdata)
{
    struct pd_host *h = userdata;
    if (h == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    pthread_mutex_lock(&h->mu);
    if (h->broken) {
        pthread_mutex_unlock(&h->mu);
        errno = EINVAL;
        return NULL;
    }
    if (pd_is_driver(h)) {
        h->driver_inside = true;
    }
    return h;
}

void pd_leave(struct pd_host *h)
{
    if (pd_is_driver(h)) {
        h->driver_inside = false;
    }
    h->gen++;
    pthread_cond_broadcast(&h->changed);
    pthread_mutex_unlock(&h->mu);
}

void pd_call_done(struct pd_host *h)
{
    if (!pd_is_driver(h)) {
        h->waiter = false;
        h->waiter_deadline = TCPE_NEVER;
        h->hold = true;
    }
}

/* In the driver thread: waits until a blocked call has seen every change, and a returned one
 * has read the clock (pd_host.h explains why). */
static void pd_settle(struct pd_host *h)
{
    if (!pd_is_driver(h)) {
        return;
    }
    while (h->hold || (h->waiter && h->waiter_gen != h->gen)) {
        pthread_cond_wait(&h->changed, &h->mu);
    }
}

void pd_advance(struct pd_host *h, uint64_t to)
{
    for (;;) {
        pd_settle(h);
        uint64_t wake = tcpe_stack_next_wake(h->stack);
        if (h->waiter && h->waiter_deadline > h->now && h->waiter_deadline < wake) {
            wake = h->waiter_deadline;
        }
        if (wake > to) {
            break;
        }
        if (wake > h->now) {
            h->now = wake;
        }
        tcpe_stack_timers(h->stack, h->now);
        h->gen++; /* a blocked call looks again at this very moment */
        pthread_cond_broadcast(&h->changed);
    }
    if (to > h->now) {
        h->now = to;
    }
}

/*
 * The blocking-call thread waits for the driver, which moves time and feeds packets and tells
 * it of every change; it tells the driver when it has caught up. But when the call can only end
 * by time passing (a timeout, an engine timer) the driver may have nothing to do before it:
 * packetdrill waits for a blocking call to finish before it starts the next one or ends the
 * script, and would wait forever for a simulated clock. So when the driver has left the
 * interface alone for PD_DRIVER_IDLE of real time, which it never does while it is running a
 * script, the blocked thread lets simulated time run to its own next moment. This is the only
 * place a real clock is read, and it decides only when to stop waiting, never what happens.
 */
static void pd_wait_for_driver(struct pd_host *h, uint64_t deadline)
{
    h->waiter = true;
    h->waiter_gen = h->gen;
    h->waiter_deadline = deadline;
    pthread_cond_broadcast(&h->changed);
    for (;;) {
        uint64_t seen = h->gen;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += PD_DRIVER_IDLE;
        until.tv_sec += until.tv_nsec / (long)NS_PER_S;
        until.tv_nsec %= (long)NS_PER_S;
        int r = pthread_cond_timedwait(&h->changed, &h->mu, &until);
        if (r != ETIMEDOUT || h->gen != seen || h->driver_inside) {
            return;
        }
        uint64_t wake = tcpe_stack_next_wake(h->stack);
        if (deadline < wake) {
            wake = deadline;
        }
        if (wake != TCPE_NEVER) {
            pd_advance(h, wake);
            return;
        }
    }
}

int pd_wait(struct pd_host *h, uint64_t deadline)
{
    if (h->now >= deadline) {
        return -1;
    }
    if (!pd_is_driver(h)) {
        pd_wait_for_driver(h, deadline);
        return 0;
    }
    uint64_t wake = tcpe_stack_next_wake(h->stack);
    if (wake > deadline) {
        wake = deadline;
    }
    if (wake == TCPE_NEVER) {
        return -1;
    }
    pd_advance(h, wake);
    return 0;
}

/* ---- what the engine sends ---- */

/* tcpe_ops.output: frames the segment as an IPv4 datagram and queues it, stamped now. */
static int pd_output(void *ctx, const struct tcpe_seg *seg)
{
    struct pd_host *h = ctx;
    int len = tcpe_wire_ipv4_len(seg);
    if (len < 0 || h->out_len >= PD_OUT_MAX) {
        h->out_dropped++;
        return HO_OK;
    }
    struct pd_pkt *p = malloc(sizeof *p + (size_t)len);
    if (p == NULL) {
        h->out_dropped++;
        return HO_OK;
    }
    int n = tcpe_wire_ipv4_build(&h->tx, seg, p->bytes, (size_t)len);
    if (n < 0) {
        free(p);
        h->out_dropped++;
        return HO_OK;
    }
    p->len = (size_t)n;
    p->when = h->now;
    p->next = NULL;
    if (h->out_tail != NULL) {
        h->out_tail->next = p;
    } else {
        h->out_head = p;
    }
    h->out_tail = p;
    h->out_len++;
    return HO_OK;
}

static struct pd_pkt *pd_out_pop(struct pd_host *h)
{
    struct pd_pkt *p = h->out_head;
    if (p != NULL) {
        h->out_head = p->next;
        if (h->out_head == NULL) {
            h->out_tail = NULL;
        }
        h->out_len--;
    }
    return p;
}

/* ---- the network device and the clock, as the interface sees them ---- */

static int pd_netdev_send(void *u, const void *buf, size_t count)
{
    struct pd_host *h = pd_enter(u);
    if (h == NULL) {
        return -1;
    }
    struct tcpe_wire_pkt pkt;
    if (tcpe_wire_ipv4_parse(buf, count, 0, &pkt, &h->rx_stats) == TCPE_WIRE_KIND_TCP) {
        (void)tcpe_stack_input(h->stack, &pkt.seg, h->now);
    }
    /* Anything else (IPv6, ICMP, a bad checksum) is dropped and counted, as a NIC would. */
    pd_leave(h);
    return 0;
}

static int pd_netdev_receive(void *u, void *buf, size_t *count, long long *time_usecs)
{
    struct pd_host *h = pd_enter(u);
    if (h == NULL) {
        return -1;
    }
    uint64_t horizon = h->now + PD_RECEIVE_HORIZON;
    while (h->out_head == NULL && h->now < horizon) {
        uint64_t wake = tcpe_stack_next_wake(h->stack);
        if (wake == TCPE_NEVER) {
            break;
        }
        pd_advance(h, wake < horizon ? wake : horizon);
    }
    struct pd_pkt *p = pd_out_pop(h);
    if (p == NULL) {
        fprintf(stderr,
                "tcpe_packetdrill: the script expects a packet at %.6f s, but the stack has "
                "nothing to send and no timer running\n",
                (double)h->now / (double)NS_PER_S);
        *count = 0;
        *time_usecs = (long long)(h->now / NS_PER_US);
        pd_leave(h);
        return 0;
    }
    size_t n = p->len < *count ? p->len : *count;
    memcpy(buf, p->bytes, n);
    *count = n;
    *time_usecs = (long long)(p->when / NS_PER_US);
    free(p);
    pd_leave(h);
    return 0;
}

static int pd_usleep(void *u, pd_useconds_t usec)
{
    struct pd_host *h = pd_enter(u);
    if (h == NULL) {
        return -1;
    }
    pd_advance(h, h->now + (uint64_t)usec * NS_PER_US);
    pd_leave(h);
    return 0;
}

static int pd_gettimeofday(void *u, struct timeval *tv, struct timezone *tz)
{
    (void)tz; /* obsolete; packetdrill passes NULL */
    struct pd_host *h = pd_enter(u);
    if (h == NULL) {
        return -1;
    }
    if (!pd_is_driver(h)) {
        h->hold = false; /* the blocking-call thread has timed its call: time may go on */
    }
    pd_advance(h, h->now + NS_PER_US); /* looking at the clock takes a microsecond */
    tv->tv_sec = (time_t)(h->now / NS_PER_S);
    tv->tv_usec = (suseconds_t)((h->now % NS_PER_S) / NS_PER_US);
    pd_leave(h);
    return 0;
}

/* ---- calls the engine has nothing to offer for ---- */

static int pd_unsupported(void)
{
    errno = ENOSYS;
    return -1;
}

static int pd_epoll_create(void *u, int size)
{
    (void)u;
    (void)size;
    return pd_unsupported();
}

static int pd_epoll_ctl(void *u, int epfd, int op, int fd, struct epoll_event *event)
{
    (void)u;
    (void)epfd;
    (void)op;
    (void)fd;
    (void)event;
    return pd_unsupported();
}

static int pd_epoll_wait(void *u, int epfd, struct epoll_event *events, int maxevents, int timeout)
{
    (void)u;
    (void)epfd;
    (void)events;
    (void)maxevents;
    (void)timeout;
    return pd_unsupported();
}

static int pd_pipe(void *u, int pipefd[2])
{
    (void)u;
    (void)pipefd;
    return pd_unsupported();
}

static int pd_splice(void *u, int fd_in, pd_loff_t *off_in, int fd_out, pd_loff_t *off_out,
                     size_t len, unsigned int flags)
{
    (void)u;
    (void)fd_in;
    (void)off_in;
    (void)fd_out;
    (void)off_out;
    (void)len;
    (void)flags;
    return pd_unsupported();
}

/* ---- --so_flags ---- */

enum pd_flag_kind {
    PD_F_U16,  /* a uint16_t field */
    PD_F_U32,  /* a uint32_t field */
    PD_F_U64,  /* a uint64_t field */
    PD_F_MS,   /* a uint64_t nanosecond field, given in milliseconds */
    PD_F_BOOL, /* a bool field, 0 or 1 */
};

/* The stack parameters a flag may set, by name. */
static const struct pd_flag {
    const char *name;
    enum pd_flag_kind kind;
    size_t off; /* in struct tcpe_params */
} pd_flags[] = {
    {"mss", PD_F_U16, offsetof(struct tcpe_params, mss)},
    {"sndbuf", PD_F_U32, offsetof(struct tcpe_params, sndbuf)},
    {"rcvbuf", PD_F_U32, offsetof(struct tcpe_params, rcvbuf)},
    {"nodelay", PD_F_BOOL, offsetof(struct tcpe_params, nodelay)},
    {"timestamps", PD_F_BOOL, offsetof(struct tcpe_params, timestamps)},
    {"sack", PD_F_BOOL, offsetof(struct tcpe_params, sack)},
    {"rto_init_ms", PD_F_MS, offsetof(struct tcpe_params, rto_init)},
    {"rto_min_ms", PD_F_MS, offsetof(struct tcpe_params, rto_min)},
    {"rto_max_ms", PD_F_MS, offsetof(struct tcpe_params, rto_max)},
    {"delack_ms", PD_F_MS, offsetof(struct tcpe_params, delack)},
    {"msl_ms", PD_F_MS, offsetof(struct tcpe_params, msl)},
    {"fin_wait_2_ms", PD_F_MS, offsetof(struct tcpe_params, fin_wait_2_timeout)},
    {"rexmt_limit", PD_F_U32, offsetof(struct tcpe_params, rexmt_limit)},
    {"syn_limit", PD_F_U32, offsetof(struct tcpe_params, syn_limit)},
    {"ooo_max", PD_F_U32, offsetof(struct tcpe_params, ooo_max)},
    {"challenge_ack_limit", PD_F_U32, offsetof(struct tcpe_params, challenge_ack_limit)},
    {"seed", PD_F_U64, offsetof(struct tcpe_params, seed)},
};

/* A whole unsigned number (decimal, or 0x hex) no larger than max. */
static int pd_parse_uint(const char *text, uint64_t max, uint64_t *out)
{
    if (*text < '0' || *text > '9') {
        return HO_EINVAL;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 0);
    if (errno != 0 || *end != '\0' || v > max) {
        return HO_EINVAL;
    }
    *out = v;
    return HO_OK;
}

/* A dotted-quad IPv4 address into host byte order. */
static int pd_parse_ipv4(const char *text, uint32_t *out)
{
    uint32_t ip = 0;
    const char *p = text;
    for (int i = 0; i < 4; i++) {
        if (*p < '0' || *p > '9') {
            return HO_EINVAL;
        }
        unsigned v = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 4) {
            v = v * 10 + (unsigned)(*p++ - '0');
            digits++;
        }
        if (v > 255 || (i < 3 && *p++ != '.')) {
            return HO_EINVAL;
        }
        ip = ip << 8 | v;
    }
    if (*p != '\0') {
        return HO_EINVAL;
    }
    *out = ip;
    return HO_OK;
}

static int pd_set_param(struct tcpe_params *p, const struct pd_flag *f, const char *value)
{
    uint8_t *field = (uint8_t *)p + f->off;
    uint64_t v;
    switch (f->kind) {
    case PD_F_U16:
        if (pd_parse_uint(value, UINT16_MAX, &v) < 0) {
            return HO_EINVAL;
        }
        *(uint16_t *)(void *)field = (uint16_t)v;
        return HO_OK;
    case PD_F_U32:
        if (pd_parse_uint(value, UINT32_MAX, &v) < 0) {
            return HO_EINVAL;
        }
        *(uint32_t *)(void *)field = (uint32_t)v;
        return HO_OK;
    case PD_F_U64:
        if (pd_parse_uint(value, UINT64_MAX, &v) < 0) {
            return HO_EINVAL;
        }
        *(uint64_t *)(void *)field = v;
        return HO_OK;
    case PD_F_MS:
        if (pd_parse_uint(value, UINT64_MAX / NS_PER_MS, &v) < 0) {
            return HO_EINVAL;
        }
        *(uint64_t *)(void *)field = v * NS_PER_MS;
        return HO_OK;
    case PD_F_BOOL:
        if (pd_parse_uint(value, 1, &v) < 0) {
            return HO_EINVAL;
        }
        *(bool *)(void *)field = v != 0;
        return HO_OK;
    }
    return HO_EINVAL;
}

/* One "key=value". Returns HO_OK, or HO_EINVAL after saying what is wrong. */
static int pd_apply_flag(struct pd_host *h, struct tcpe_params *p, const char *key,
                         const char *value)
{
    int err = HO_EINVAL;
    uint64_t v = 0;
    if (strcmp(key, "local_ip") == 0) {
        err = pd_parse_ipv4(value, &h->local_ip);
    } else if (strcmp(key, "port") == 0) {
        err = pd_parse_uint(value, UINT16_MAX, &v);
        if (err == HO_OK && v < 1024) {
            err = HO_EINVAL; /* ephemeral ports stay out of the well-known range */
        }
        if (err == HO_OK) {
            h->port_first = h->port_next = (uint16_t)v;
        }
    } else {
        size_t i = 0;
        while (i < sizeof pd_flags / sizeof pd_flags[0] && strcmp(key, pd_flags[i].name) != 0) {
            i++;
        }
        if (i == sizeof pd_flags / sizeof pd_flags[0]) {
            fprintf(stderr, "tcpe_packetdrill: --so_flags: unknown key '%s'\n", key);
            return HO_EINVAL;
        }
        err = pd_set_param(p, &pd_flags[i], value);
    }
    if (err < 0) {
        fprintf(stderr, "tcpe_packetdrill: --so_flags: bad value '%s' for '%s'\n", value, key);
    }
    return err;
}

/* Flags are key=value pairs separated by commas or white space. */
static int pd_parse_flags(struct pd_host *h, struct tcpe_params *p, const char *flags)
{
    if (flags == NULL) {
        return HO_OK;
    }
    char *copy = strdup(flags);
    if (copy == NULL) {
        return HO_ENOMEM;
    }
    int err = HO_OK;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ", \t\n", &save); tok != NULL && err == HO_OK;
         tok = strtok_r(NULL, ", \t\n", &save)) {
        char *eq = strchr(tok, '=');
        if (eq == NULL) {
            fprintf(stderr, "tcpe_packetdrill: --so_flags: '%s' is not key=value\n", tok);
            err = HO_EINVAL;
            break;
        }
        *eq = '\0';
        err = pd_apply_flag(h, p, tok, eq + 1);
    }
    free(copy);
    return err;
}

/* ---- life cycle ---- */

static void pd_free(void *u)
{
    struct pd_host *h = u;
    if (h == NULL) {
        return;
    }
    /* The stack goes first and silently (nothing is sent: packetdrill has stopped listening);
     * the sockets then only give back their descriptors. */
    tcpe_stack_destroy(h->stack);
    h->stack = NULL;
    pd_sock_free_all(h);
    struct pd_pkt *p;
    while ((p = pd_out_pop(h)) != NULL) {
        free(p);
    }
    pthread_cond_destroy(&h->changed);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

static int pd_start(struct pd_host *h, const char *flags)
{
    struct stat st;
    if (stat("/dev/null", &st) != 0) {
        fprintf(stderr, "tcpe_packetdrill: cannot stat /dev/null: %s\n", strerror(errno));
        return HO_EINVAL;
    }
    h->null_rdev = st.st_rdev;
    struct tcpe_params p;
    tcpe_params_init(&p);
    p.ops.output = pd_output;
    p.ops.event = pd_sock_event;
    p.ctx = h;
    int err = pd_parse_flags(h, &p, flags);
    if (err < 0) {
        return err;
    }
    err = tcpe_stack_create(&p, &h->stack);
    if (err < 0) {
        fprintf(stderr, "tcpe_packetdrill: cannot create the stack: %s (check --so_flags)\n",
                ho_strerror(err));
        return err;
    }
    h->sndbuf = p.sndbuf;
    h->rcvbuf = p.rcvbuf;
    h->mss = p.mss;
    h->nodelay = p.nodelay;
    return HO_OK;
}

__attribute__((visibility("default"))) void
packetdrill_interface_init(const char *flags, struct packetdrill_interface *ifc)
{
    memset(ifc, 0, sizeof *ifc);
    ifc->free = pd_free;
    ifc->socket = pd_socket;
    ifc->bind = pd_bind;
    ifc->listen = pd_listen;
    ifc->accept = pd_accept;
    ifc->connect = pd_connect;
    ifc->read = pd_read;
    ifc->readv = pd_readv;
    ifc->recv = pd_recv;
    ifc->recvfrom = pd_recvfrom;
    ifc->recvmsg = pd_recvmsg;
    ifc->write = pd_write;
    ifc->writev = pd_writev;
    ifc->send = pd_send;
    ifc->sendto = pd_sendto;
    ifc->sendmsg = pd_sendmsg;
    ifc->fcntl = pd_fcntl;
    ifc->ioctl = pd_ioctl;
    ifc->close = pd_close;
    ifc->shutdown = pd_shutdown;
    ifc->getsockopt = pd_getsockopt;
    ifc->setsockopt = pd_setsockopt;
    ifc->poll = pd_poll;
    ifc->netdev_send = pd_netdev_send;
    ifc->netdev_receive = pd_netdev_receive;
    ifc->usleep = pd_usleep;
    ifc->gettimeofday = pd_gettimeofday;
    ifc->epoll_create = pd_epoll_create;
    ifc->epoll_ctl = pd_epoll_ctl;
    ifc->epoll_wait = pd_epoll_wait;
    ifc->pipe = pd_pipe;
    ifc->splice = pd_splice;

    struct pd_host *h = calloc(1, sizeof *h);
    if (h == NULL) {
        fprintf(stderr, "tcpe_packetdrill: out of memory\n");
        return; /* userdata NULL: every call fails with ENOMEM */
    }
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->changed, NULL);
    h->driver = pthread_self();
    h->waiter_deadline = TCPE_NEVER;
    h->local_ip = PD_DEFAULT_LOCAL_IP;
    h->port_first = h->port_next = PD_DEFAULT_PORT;
    tcpe_wire_tx_init(&h->tx, 1);
    if (pd_start(h, flags) < 0) {
        h->broken = true; /* every call fails with EINVAL; the message is on stderr */
    }
    ifc->userdata = h;
}
