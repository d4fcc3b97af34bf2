/*
 * emu_host.c - the emulator's host thread: the OS side's platform on real packets, with the web
 * server on top (emu.h).
 *
 * The OS side hands every piece of its work to its platform (ops.run) with a cost that only the
 * simulator's processor charges. Here the host is the real processor: work waits in two FIFO
 * queues, network work first as the host's priorities say, and runs as soon as the loop reaches
 * it. Packets are numbered while the host holds them (ops.pkt_at maps a number back), from a
 * table of free numbers; a packet that crosses to the NIC gives its number back.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emu_priv.h"
#include "handoff/err.h"

/* A FIFO of work. */
struct workq {
    struct ho_os_work *w;
    uint32_t head, len, cap; /* cap a power of two */
};

struct emu_host {
    struct emu *e;
    struct ho_os *os;
    struct ho_app *app;
    struct workq q[HO_OS_NPRIOS];
    uint64_t timer;
    uint64_t watchdog; /* the driver's watchdog time (ops.watchdog), TCPE_NEVER if none */
    /* Packets the host holds, by number. */
    struct ho_pkt **pkts;
    uint32_t *free_ids;
    uint32_t npkts, nfree;
    /* The wall clock: CLOCK_REALTIME when the thread's clock read mono_at. */
    int64_t wall_at;
    uint64_t mono_at;
    uint64_t handed_off;
    uint64_t restores; /* RESTORE_REQUESTs sent */
    uint64_t work_ns;  /* time spent running the OS side's and the server's work */
    uint64_t next_publish;
};

/* ---- work --------------------------------------------------------------------------------- */

static int workq_push(struct workq *q, const struct ho_os_work *w)
{
    if (q->len == q->cap) {
        uint32_t cap = q->cap ? 2 * q->cap : 1024;
        struct ho_os_work *n = malloc((size_t)cap * sizeof *n);
        if (!n) {
            return HO_ENOMEM;
        }
        for (uint32_t i = 0; i < q->len; i++) {
            n[i] = q->w[(q->head + i) & (q->cap - 1)];
        }
        free(q->w);
        q->w = n;
        q->head = 0;
        q->cap = cap;
    }
    q->w[(q->head + q->len++) & (q->cap - 1)] = *w;
    return HO_OK;
}

static bool workq_pop(struct workq *q, struct ho_os_work *out)
{
    if (q->len == 0) {
        return false;
    }
    *out = q->w[q->head];
    q->head = (q->head + 1) & (q->cap - 1);
    q->len--;
    return true;
}

static void fatal(struct emu_host *h, const char *what)
{
    snprintf(h->e->err, sizeof h->e->err, "host: %s", what);
    atomic_store(&h->e->stop, 1);
}

/* ---- packet numbers ----------------------------------------------------------------------- */

static bool pkt_number(struct emu_host *h, struct ho_pkt *p)
{
    if (h->nfree == 0) {
        uint32_t n = h->npkts ? 2 * h->npkts : 4096;
        struct ho_pkt **t = realloc(h->pkts, (size_t)n * sizeof *t);
        if (!t) {
            return false;
        }
        h->pkts = t;
        uint32_t *f = realloc(h->free_ids, (size_t)n * sizeof *f);
        if (!f) {
            return false;
        }
        h->free_ids = f;
        for (uint32_t i = n; i-- > h->npkts;) {
            h->pkts[i] = NULL;
            h->free_ids[h->nfree++] = i;
        }
        h->npkts = n;
    }
    p->id = h->free_ids[--h->nfree];
    h->pkts[p->id] = p;
    return true;
}

static void pkt_unnumber(struct emu_host *h, struct ho_pkt *p)
{
    h->pkts[p->id] = NULL;
    h->free_ids[h->nfree++] = p->id;
}

/* ---- the OS side's platform --------------------------------------------------------------- */

static void push(struct emu_host *h, uint32_t kind, uint32_t len, void *ptr)
{
    struct emu_entry en = {.kind = kind, .len = len, .ptr = ptr};
    if (emu_bus_push(&h->e->to_nic, &en) != HO_OK) {
        emu_entry_free(&en);
        snprintf(h->e->err, sizeof h->e->err, "host: out of memory for the PCI bus");
        atomic_store(&h->e->stop, 1);
    }
}

static void op_run(void *ctx, const struct ho_os_work *w, uint64_t now)
{
    (void)now;
    struct emu_host *h = ctx;
    if (workq_push(&h->q[w->prio < HO_OS_NPRIOS ? w->prio : HO_OS_PRIO_PROC], w) != HO_OK) {
        fatal(h, "out of memory for work");
    }
}

static void op_timer(void *ctx, uint64_t when, uint64_t now)
{
    (void)now;
    struct emu_host *h = ctx;
    h->timer = when;
}

static void op_nic_tx(void *ctx, struct ho_pkt *p, uint64_t now)
{
    (void)now;
    struct emu_host *h = ctx;
    pkt_unnumber(h, p);
    push(h, EMU_E_HOST_TX, 0, p);
}

static void op_nic_forward(void *ctx, struct ho_pkt *p, uint64_t now)
{
    (void)now;
    struct emu_host *h = ctx;
    pkt_unnumber(h, p);
    push(h, EMU_E_FORWARD, 0, p);
}

static void op_nic_cmd(void *ctx, const uint8_t *msg, uint32_t len, uint64_t now)
{
    (void)now;
    struct emu_host *h = ctx;
    uint8_t *copy = malloc(len);
    if (!copy) {
        fatal(h, "out of memory for a command");
        return;
    }
    memcpy(copy, msg, len);
    push(h, EMU_E_CMD, len, copy);
}

static void op_watchdog(void *ctx, uint64_t when, uint64_t now)
{
    (void)now;
    struct emu_host *h = ctx;
    h->watchdog = when;
}

/* The driver pulls the NIC's reset line: the NIC thread resets the firmware at its next turn,
 * a hung one included. */
static void op_nic_reset(void *ctx, uint64_t now)
{
    (void)now;
    struct emu_host *h = ctx;
    emu_nic_ask_reset(h->e);
}

static struct ho_pkt *op_pkt_alloc(void *ctx, const struct tcpe_seg *seg)
{
    struct emu_host *h = ctx;
    struct ho_pkt *p = emu_pkt_new(seg);
    if (p && !pkt_number(h, p)) {
        free(p);
        return NULL;
    }
    return p;
}

static void op_pkt_free(void *ctx, struct ho_pkt *p)
{
    pkt_unnumber(ctx, p);
    free(p);
}

static struct ho_pkt *op_pkt_at(void *ctx, uint32_t id)
{
    struct emu_host *h = ctx;
    return id < h->npkts ? h->pkts[id] : NULL;
}

static void op_fault(void *ctx, const char *what)
{
    (void)ctx;
    (void)what; /* a connection was reset or timed out: the TCP counts it */
}

static void op_handed_off(void *ctx, uint32_t sock)
{
    (void)sock;
    struct emu_host *h = ctx;
    h->handed_off++;
}

/* A time of a record as time since the host thread's start (HO_CONN_NEVER stays). */
static void since_start(const struct emu_host *h, uint64_t *t)
{
    if (*t != HO_CONN_NEVER) {
        *t = *t > h->mono_at ? *t - h->mono_at : 0;
    }
}

/* One line of the connection log, its times from the host thread's start. */
static void log_conn(void *ctx, const struct ho_conn_record *rec)
{
    struct emu_host *h = ctx;
    struct emu *e = h->e;
    if (!e->conn_log || e->conn_log_errno) {
        return;
    }
    struct ho_conn_record r = *rec;
    struct ho_conn_move *moves = NULL;
    if (r.nmoves > 0) {
        moves = malloc(r.nmoves * sizeof *moves);
        if (!moves) {
            e->conn_log_errno = ENOMEM;
            return;
        }
        memcpy(moves, r.moves, r.nmoves * sizeof *moves);
        r.moves = moves;
    }
    since_start(h, &r.accepted);
    since_start(h, &r.offered);
    since_start(h, &r.answered);
    since_start(h, &r.restore_asked);
    since_start(h, &r.back_at);
    since_start(h, &r.closed);
    for (uint32_t i = 0; i < r.nmoves; i++) {
        since_start(h, &moves[i].offered);
        since_start(h, &moves[i].answered);
        since_start(h, &moves[i].restore_asked);
        since_start(h, &moves[i].back_at);
    }
    int n = ho_conn_record_json(&r, NULL, 0);
    char *line = n > 0 ? malloc((size_t)n + 1) : NULL;
    if (!line || ho_conn_record_json(&r, line, (size_t)n + 1) != n ||
        fprintf(e->conn_log, "%s\n", line) < 0) {
        e->conn_log_errno = errno ? errno : EIO;
    }
    free(line);
    free(moves);
}

/* The driver takes bytes the NIC placed in a host buffer (emu_nic.c's op_host_place). */
static void op_host_take(void *ctx, uint64_t addr, uint8_t *dst, uint32_t len)
{
    struct emu_host *h = ctx;
    uint8_t *buf = (uint8_t *)(uintptr_t)addr;
    if (buf) {
        emu_placed_take(h->e, buf, dst, len);
    }
}

static const struct ho_os_ops os_ops = {
    .host_take = op_host_take,
    .run = op_run,
    .timer = op_timer,
    .nic_tx = op_nic_tx,
    .nic_forward = op_nic_forward,
    .nic_cmd = op_nic_cmd,
    .pkt_alloc = op_pkt_alloc,
    .pkt_free = op_pkt_free,
    .pkt_at = op_pkt_at,
    .fault = op_fault,
    .handed_off = op_handed_off,
    .conn_done = log_conn,
    .watchdog = op_watchdog,
    .nic_reset = op_nic_reset,
};

static int64_t wall_clock(void *ctx, uint64_t now)
{
    const struct emu_host *h = ctx;
    return h->wall_at + (int64_t)((now - h->mono_at) / 1000000000u);
}

/* ---- the loop ----------------------------------------------------------------------------- */

static unsigned take_bus(struct emu_host *h, uint64_t now)
{
    unsigned got = 0;
    struct emu_entry en;
    while (got < EMU_BATCH && emu_ring_pop(&h->e->to_host.ring, &en) == HO_OK) {
        got++;
        switch (en.kind) {
        case EMU_E_RX:
            if (!pkt_number(h, en.ptr)) {
                free(en.ptr);
                fatal(h, "out of memory for packet numbers");
                break;
            }
            ho_os_rx(h->os, en.ptr, now);
            break;
        case EMU_E_MSG:
            if (ho_os_msg(h->os, en.ptr, en.len, now) != HO_OK) {
                fatal(h, "the NIC sent a message the driver does not take");
            }
            free(en.ptr);
            break;
        case EMU_E_TX_DONE:
            ho_os_tx_done(h->os, now);
            break;
        default:
            emu_entry_free(&en);
        }
    }
    return got;
}

/* Runs queued work, network first; returns how many pieces ran. The clock is read again every
 * 16 pieces, not for each: a read costs some 28 ns here, a piece of work not ten times that, and
 * what the time serves (timestamps, timers of 200 ms and more) does not need it finer. */
static unsigned run_work(struct emu_host *h, uint64_t now)
{
    unsigned done = 0;
    struct ho_os_work w;
    while (done < 4 * EMU_BATCH) {
        if (done > 0 && done % 16 == 0) {
            now = emu_now();
        }
        if (!workq_pop(&h->q[HO_OS_PRIO_NET], &w) && !workq_pop(&h->q[HO_OS_PRIO_PROC], &w)) {
            break;
        }
        done++;
        if (w.touches) {
            struct ho_os_mem mem[HO_OS_MEM_MAX];
            ho_os_work_mem(h->os, w.arg, mem); /* where a packet's processing finds its socket */
        }
        if (w.notify) {
            ho_os_work_done(h->os, w.arg, now);
        }
    }
    return done;
}

static void publish(struct emu_host *h, uint64_t now)
{
    struct ho_os_info oi;
    ho_os_info(h->os, &oi);
    struct ho_app_info ai;
    ho_app_info(h->app, &ai);
    struct timespec cpu;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
    struct emu_host_stats st = {
        .conns_nic = oi.on_nic,
        .conns_offered = oi.offered,
        .conns_host = ai.conns > oi.on_nic + oi.offered ? ai.conns - oi.on_nic - oi.offered : 0,
        .handoffs = oi.accepted,
        .restores = h->restores,
        .requests = ai.requests,
        .body_bytes = ai.body_bytes,
        .cpu_ns = (uint64_t)cpu.tv_sec * 1000000000u + (uint64_t)cpu.tv_nsec,
        .work_ns = h->work_ns,
        .pkts = oi.pkts,
        .ifq_drops = oi.ifq_drops,
        .rexmits = oi.tcp->rexmt_segs,
        .rsts_out = oi.tcp->rsts_out,
        .tcp_conns_reset = oi.tcp->conns_reset,
        .conns_timedout = oi.tcp->conns_timedout,
        .idle_closed = ai.idle_closed,
        .nic_resets = oi.nic_resets,
        .watchdog_resets = oi.watchdog_resets,
        .conns_recovered = oi.conns_recovered,
        .conns_reset = oi.conns_reset,
        .last_fw_up = oi.last_fw_up,
    };
    memcpy(st.status, ai.status, sizeof st.status);
    pthread_mutex_lock(&h->e->lock);
    h->e->host_stats = st;
    pthread_mutex_unlock(&h->e->lock);
    h->next_publish = now + 10000000;
}

void *emu_host_thread(void *arg)
{
    struct emu_host *h = arg;
    struct emu *e = h->e;
    struct emu_bus *b = &e->to_host;
    while (!atomic_load(&e->stop)) {
        uint64_t now = emu_now();
        if (atomic_load(&e->ctl_pending)) {
            emu_host_ctl(h, now);
        }
        unsigned got = take_bus(h, now);
        bool fired = h->timer <= now;
        if (fired) {
            h->timer = TCPE_NEVER;
    h->watchdog = TCPE_NEVER;
            ho_os_timer(h->os, now);
        }
        if (h->watchdog <= now) {
            h->watchdog = TCPE_NEVER;
            ho_os_watchdog(h->os, now);
        }
        got += run_work(h, now);
        if (got > 0 || fired) {
            uint64_t end = emu_now();
            h->work_ns += end - now; /* the OS side and the server ran */
            now = end;
        }
        if (now >= h->next_publish) {
            ho_app_tick(h->app, now);
            publish(h, now);
        }
        uint32_t waiting = emu_bus_flush(&e->to_nic);
        if (got > 0 || h->q[0].len > 0 || h->q[1].len > 0 || !emu_bus_may_sleep(b)) {
            continue;
        }
        uint64_t until = h->timer < h->next_publish ? h->timer : h->next_publish;
        until = h->watchdog < until ? h->watchdog : until;
        if (waiting > 0 && now + 100000 < until) {
            until = now + 100000; /* the NIC makes room in the ring without telling */
        }
        uint64_t wait = until > now ? until - now : 0;
        struct timespec ts = {.tv_sec = (time_t)(wait / 1000000000u),
                              .tv_nsec = (long)(wait % 1000000000u)};
        struct pollfd fd = {.fd = b->doorbell, .events = POLLIN};
        ppoll(&fd, 1, &ts, NULL);
        emu_bus_woke(b);
    }
    publish(h, emu_now());
    return NULL;
}

/* ---- the control socket's commands -------------------------------------------------------- */

static const char *where_name(uint8_t where)
{
    static const char *const names[] = {"host", "to-nic", "nic", "to-host"};
    return where < 4 ? names[where] : "?";
}

static void fmt_addr(char *buf, size_t cap, uint32_t ip, uint16_t port)
{
    snprintf(buf, cap, "%u.%u.%u.%u:%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff,
             port);
}

/* ls: one line per connection. */
static char *ctl_ls(struct emu_host *h, uint64_t now)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        return NULL;
    }
    fprintf(f, "%-8s %9s %12s %12s %5s  %-21s %-21s\n", "Where", "Age", "Bytes-in", "Bytes-out",
            "Moves", "Local Address:Port", "Peer Address:Port");
    uint32_t n = ho_so_count(h->os);
    for (uint32_t i = 0; i < n; i++) {
        struct ho_so_info si;
        if (ho_so_info(h->os, i, &si) != HO_OK) {
            continue;
        }
        char local[24], peer[24], age[16];
        fmt_addr(local, sizeof local, si.tuple.local_ip, si.tuple.local_port);
        fmt_addr(peer, sizeof peer, si.tuple.remote_ip, si.tuple.remote_port);
        snprintf(age, sizeof age, "%.1fs", now > si.since ? (double)(now - si.since) / 1e9 : 0.0);
        fprintf(f, "%-8s %9s %12llu %12llu %5u  %-21s %-21s\n", where_name(si.where), age,
                (unsigned long long)si.bytes_in, (unsigned long long)si.bytes_out, si.moves, local,
                peer);
    }
    fclose(f);
    return buf;
}

/* restore ADDR:PORT: the connection from that peer comes back from the NIC. */
static char *ctl_restore(struct emu_host *h, const char *arg, uint64_t now)
{
    unsigned a, b, c, d, port;
    char extra;
    char *reply = NULL;
    if (sscanf(arg, "%u.%u.%u.%u:%u%c", &a, &b, &c, &d, &port, &extra) != 5 || a > 255 || b > 255 ||
        c > 255 || d > 255 || port > 65535) {
        return asprintf(&reply, "error: restore wants the peer as A.B.C.D:PORT, not '%s'\n", arg) <
                       0
                   ? NULL
                   : reply;
    }
    uint32_t ip = (a << 24) | (b << 16) | (c << 8) | d;
    uint32_t n = ho_so_count(h->os);
    for (uint32_t i = 0; i < n; i++) {
        struct ho_so_info si;
        if (ho_so_info(h->os, i, &si) != HO_OK || si.tuple.remote_ip != ip ||
            si.tuple.remote_port != port) {
            continue;
        }
        int rc = ho_os_restore(h->os, i, now);
        if (rc == HO_OK) {
            h->restores++;
        }
        int k = rc == HO_OK ? asprintf(&reply, "restoring %s: RESTORE_REQUEST sent\n", arg)
                            : asprintf(&reply, "error: %s is not on the NIC (it is %s)\n", arg,
                                       where_name(si.where));
        return k < 0 ? NULL : reply;
    }
    return asprintf(&reply, "error: no connection from %s\n", arg) < 0 ? NULL : reply;
}

void emu_host_ctl(struct emu_host *h, uint64_t now)
{
    struct emu *e = h->e;
    pthread_mutex_lock(&e->ctl_lock);
    if (atomic_load(&e->ctl_pending)) {
        char *reply = NULL;
        if (strcmp(e->ctl_cmd, "ls") == 0) {
            reply = ctl_ls(h, now);
        } else if (strncmp(e->ctl_cmd, "restore ", 8) == 0) {
            reply = ctl_restore(h, e->ctl_cmd + 8, now);
        } else if (strcmp(e->ctl_cmd, "reclaim") == 0) {
            uint32_t asked = ho_os_restore_all(h->os, now);
            h->restores += asked;
            if (asprintf(&reply, "asked the NIC for %u connections back\n", asked) < 0) {
                reply = NULL;
            }
        } else if (asprintf(&reply,
                            "error: unknown command '%s' (ls, restore ADDR:PORT, reset, "
                            "refuse on|off, upload, reclaim)\n",
                            e->ctl_cmd) < 0) {
            reply = NULL;
        }
        e->ctl_reply = reply;
        atomic_store(&e->ctl_pending, 0);
        pthread_cond_signal(&e->ctl_done);
    }
    pthread_mutex_unlock(&e->ctl_lock);
}

/* ---- life --------------------------------------------------------------------------------- */

int emu_host_create(struct emu *e, struct emu_host **out)
{
    struct emu_host *h = calloc(1, sizeof *h);
    if (!h) {
        return HO_ENOMEM;
    }
    h->e = e;
    h->timer = TCPE_NEVER;
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    h->wall_at = (int64_t)rt.tv_sec;
    h->mono_at = emu_now();
    struct ho_os_params op = e->p.os;
    op.virtual_payload = false;
    int rc = ho_os_create(&op, &os_ops, h, &h->os);
    if (rc != HO_OK) {
        free(h);
        return rc;
    }
    struct ho_app_params ap = {
        .ip = e->our_ip,
        .port = e->p.port,
        .backlog = op.somaxconn ? op.somaxconn : 4096,
        .costs = e->p.app_costs,
        .docroot = e->docroot,
        .idle_ns = (uint64_t)e->p.idle_s * 1000000000u,
    };
    ho_http_limits_default(&ap.limits);
    struct ho_app_ops aops = {.wall_clock = wall_clock};
    rc = ho_app_create(&ap, h->os, &aops, h, &h->app);
    if (rc != HO_OK) {
        ho_os_destroy(h->os);
        free(h);
        return rc;
    }
    *out = h;
    return HO_OK;
}

void emu_host_destroy(struct emu_host *h)
{
    if (!h) {
        return;
    }
    /* The connections still open end the log; the server's own closes at exit do not. */
    ho_os_each_record(h->os, log_conn, h);
    if (h->e->conn_log && !h->e->conn_log_errno && fflush(h->e->conn_log) != 0) {
        h->e->conn_log_errno = errno;
    }
    h->e->conn_log = NULL; /* the run's caller closes the file */
    ho_app_destroy(h->app);
    ho_os_destroy(h->os);
    /* Work still queued names packets the OS gave to it: those are the platform's to free. */
    for (int i = 0; i < HO_OS_NPRIOS; i++) {
        free(h->q[i].w);
    }
    for (uint32_t i = 0; i < h->npkts; i++) {
        free(h->pkts[i]);
    }
    free(h->pkts);
    free(h->free_ids);
    free(h);
}
