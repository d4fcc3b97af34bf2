/*
 * test_real_handoff.c - the firmware (src/nic), the OS side (src/os) and the server (src/app) on
 * real payload, wired together as the emulator wires them, but in one thread on a fake clock:
 * connections handed off and restored in the middle of responses, with every byte checked.
 *
 * The rig: a client tcpe stack with real payload; a wire between it and the firmware (frames
 * become packets holding copies of their payload, and the test may drop some of those going to
 * the client); the firmware's work run at once, one piece at a time; a FIFO of what the firmware
 * gives the host (packets, messages, freed send descriptors) and one of what the OS side gives
 * the firmware, as the two PCI rings; the OS side's work run in FIFO order, network first; the
 * DMA of the bypass protocol as plain pointers (SEND's bytes read from the host's send buffer,
 * RECV's bytes placed in a malloc'd host buffer the driver takes and frees). Time moves only
 * when nothing is left to do, to the earliest timer of the three parts.
 *
 * Checked: a file larger than the send buffer, fetched on a connection the OS hands off at its
 * 4th send-buffer enqueue (T4), arrives byte for byte, and so does a second request on the same
 * connection, read and answered on the NIC; the same with segments to the client dropped, so
 * that the NIC's TCP retransmits from the bytes SEND gave it; a connection restored to the host
 * in the middle of its response, which then completes from the host's TCP, and serves another
 * request there; one restored while a request the NIC delivered waits unread in its socket; a
 * connection handed off after another was restored. After each case every packet
 * and buffer is given back (the sanitizers see leaks) and the parts' checks pass.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "handoff/app.h"
#include "handoff/cmd.h"
#include "handoff/docroot.h"
#include "handoff/err.h"
#include "handoff/nic.h"
#include "handoff/os.h"
#include "handoff/tcpe.h"
#include "helpers/tt_fs.h"

#define SERVER_IP 0x0a4d0002u /* 10.77.0.2 */
#define CLIENT_IP 0x0a4d0001u /* 10.77.0.1 */
#define BIG       (300u * 1024 + 123)
#define SNDBUF    32768u
#define MAX_CONNS 4
#define MAX_STEPS 5000000
#define PKT_MAX   2048u

/* A packet and its payload. */
struct rpkt {
    struct ho_pkt pkt;
    uint8_t data[PKT_MAX];
};

enum { E_PKT = 1, E_MSG = 2, E_TX_DONE = 3, E_HOST_TX = 4, E_FORWARD = 5, E_CMD = 6 };

struct entry {
    int kind;
    void *ptr;
    uint32_t len;
};

struct fifo {
    struct entry *e;
    size_t head, len, cap;
};

static void fifo_push(struct fifo *f, struct entry e)
{
    if (f->len == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 64;
        struct entry *n = malloc(cap * sizeof *n);
        assert_non_null(n);
        for (size_t i = 0; i < f->len; i++) {
            n[i] = f->e[(f->head + i) % f->cap];
        }
        free(f->e);
        f->e = n;
        f->head = 0;
        f->cap = cap;
    }
    f->e[(f->head + f->len++) % f->cap] = e;
}

static bool fifo_pop(struct fifo *f, struct entry *out)
{
    if (f->len == 0) {
        return false;
    }
    *out = f->e[f->head];
    f->head = (f->head + 1) % f->cap;
    f->len--;
    return true;
}

struct rig {
    uint64_t now;
    struct ho_docroot *dr; /* the files, beneath root */
    struct ho_nic *nic;
    struct ho_os *os;
    struct ho_app *app;
    struct tcpe_stack *client;
    struct tcpe_conn *cc[MAX_CONNS];
    uint8_t *got[MAX_CONNS];
    size_t ngot[MAX_CONNS];
    int nconns;
    /* The firmware's platform. */
    uint64_t nic_timer[HO_NIC_NTIMERS];
    struct fifo to_host, to_nic;    /* the PCI rings */
    struct fifo to_client, from_cl; /* the wire */
    uint32_t drop_every;            /* drop every n-th packet to the client; 0 = none */
    uint64_t to_client_count, dropped;
    /* The OS side's platform. */
    struct ho_os_work *work;
    size_t nwork, capwork;
    uint64_t os_timer;
    struct rpkt **live; /* every live packet, by id */
    uint32_t nlive_cap, next_id;
    uint64_t allocs, frees;
    uint32_t last_sock; /* the last socket accepted */
};

static struct rig *current;
static char root[64];
static uint8_t *big;

/* ---- packets ------------------------------------------------------------------------------ */

static struct ho_pkt *pkt_new(struct rig *r, const struct tcpe_seg *seg)
{
    struct rpkt *p = calloc(1, sizeof *p);
    assert_non_null(p);
    assert_true(seg->len <= PKT_MAX);
    p->pkt.seg = *seg;
    p->pkt.seg.data = NULL;
    if (seg->len > 0) {
        assert_non_null(seg->data);
        memcpy(p->data, seg->data, seg->len);
        p->pkt.seg.data = p->data;
    }
    p->pkt.frame_bytes = 54 + seg->len;
    p->pkt.id = r->next_id++;
    if (p->pkt.id >= r->nlive_cap) {
        uint32_t n = r->nlive_cap ? 2 * r->nlive_cap : 1024;
        while (n <= p->pkt.id) {
            n *= 2;
        }
        struct rpkt **l = realloc(r->live, n * sizeof *l);
        assert_non_null(l);
        memset(l + r->nlive_cap, 0, (n - r->nlive_cap) * sizeof *l);
        r->live = l;
        r->nlive_cap = n;
    }
    r->live[p->pkt.id] = p;
    r->allocs++;
    return &p->pkt;
}

static void pkt_free(struct rig *r, struct ho_pkt *p)
{
    assert_true(p->id < r->nlive_cap && &r->live[p->id]->pkt == p);
    r->live[p->id] = NULL;
    r->frees++;
    free(p);
}

/* ---- the firmware's platform -------------------------------------------------------------- */

static void n_wire_tx(void *ctx, struct ho_pkt *p, uint64_t now)
{
    (void)now;
    struct rig *r = ctx;
    r->to_client_count++;
    if (r->drop_every && r->to_client_count % r->drop_every == 0) {
        r->dropped++;
        pkt_free(r, p);
        return;
    }
    fifo_push(&r->to_client, (struct entry){E_PKT, p, 0});
}

static void n_host_rx(void *ctx, struct ho_pkt *p, uint64_t now)
{
    (void)now;
    fifo_push(&((struct rig *)ctx)->to_host, (struct entry){E_PKT, p, 0});
}

static void n_host_msg(void *ctx, const uint8_t *msg, uint32_t len, uint64_t now)
{
    (void)now;
    uint8_t *copy = malloc(len);
    assert_non_null(copy);
    memcpy(copy, msg, len);
    fifo_push(&((struct rig *)ctx)->to_host, (struct entry){E_MSG, copy, len});
}

static void n_ready(void *ctx, uint64_t now)
{
    (void)ctx;
    (void)now;
}

static void n_timer(void *ctx, enum ho_nic_timer which, uint64_t when, uint64_t now)
{
    (void)now;
    ((struct rig *)ctx)->nic_timer[which] = when;
}

static struct ho_pkt *n_pkt_alloc(void *ctx, const struct tcpe_seg *seg)
{
    return pkt_new(ctx, seg);
}

static void n_pkt_free(void *ctx, struct ho_pkt *p)
{
    pkt_free(ctx, p);
}

static void n_fault(void *ctx, const char *what)
{
    (void)ctx;
    (void)what;
}

static void n_host_tx_done(void *ctx, uint64_t now)
{
    (void)now;
    fifo_push(&((struct rig *)ctx)->to_host, (struct entry){E_TX_DONE, NULL, 0});
}

static const uint8_t *n_host_read(void *ctx, uint64_t addr, uint32_t len)
{
    (void)ctx;
    (void)len;
    assert_true(addr != 0);
    return (const uint8_t *)(uintptr_t)addr;
}

static uint64_t n_host_place(void *ctx, const uint8_t *data, uint32_t len)
{
    (void)ctx;
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    memcpy(buf, data, len);
    return (uint64_t)(uintptr_t)buf;
}

static const struct ho_nic_ops nic_ops = {
    .wire_tx = n_wire_tx,
    .host_rx = n_host_rx,
    .host_msg = n_host_msg,
    .ready = n_ready,
    .timer = n_timer,
    .pkt_alloc = n_pkt_alloc,
    .pkt_free = n_pkt_free,
    .fault = n_fault,
    .host_tx_done = n_host_tx_done,
    .host_read = n_host_read,
    .host_place = n_host_place,
};

/* ---- the OS side's platform --------------------------------------------------------------- */

static void o_run(void *ctx, const struct ho_os_work *w, uint64_t now)
{
    (void)now;
    struct rig *r = ctx;
    if (r->nwork == r->capwork) {
        r->capwork = r->capwork ? 2 * r->capwork : 64;
        r->work = realloc(r->work, r->capwork * sizeof *r->work);
        assert_non_null(r->work);
    }
    r->work[r->nwork++] = *w;
}

static void o_timer(void *ctx, uint64_t when, uint64_t now)
{
    (void)now;
    ((struct rig *)ctx)->os_timer = when;
}

static void o_nic_tx(void *ctx, struct ho_pkt *p, uint64_t now)
{
    (void)now;
    fifo_push(&((struct rig *)ctx)->to_nic, (struct entry){E_HOST_TX, p, 0});
}

static void o_nic_forward(void *ctx, struct ho_pkt *p, uint64_t now)
{
    (void)now;
    fifo_push(&((struct rig *)ctx)->to_nic, (struct entry){E_FORWARD, p, 0});
}

static void o_nic_cmd(void *ctx, const uint8_t *msg, uint32_t len, uint64_t now)
{
    (void)now;
    uint8_t *copy = malloc(len);
    assert_non_null(copy);
    memcpy(copy, msg, len);
    fifo_push(&((struct rig *)ctx)->to_nic, (struct entry){E_CMD, copy, len});
}

static struct ho_pkt *o_pkt_alloc(void *ctx, const struct tcpe_seg *seg)
{
    return pkt_new(ctx, seg);
}

static void o_pkt_free(void *ctx, struct ho_pkt *p)
{
    pkt_free(ctx, p);
}

static struct ho_pkt *o_pkt_at(void *ctx, uint32_t id)
{
    struct rig *r = ctx;
    return id < r->nlive_cap && r->live[id] ? &r->live[id]->pkt : NULL;
}

static void o_established(void *ctx, uint32_t sock)
{
    ((struct rig *)ctx)->last_sock = sock;
}

static void o_host_take(void *ctx, uint64_t addr, uint8_t *dst, uint32_t len)
{
    (void)ctx;
    uint8_t *buf = (uint8_t *)(uintptr_t)addr;
    assert_non_null(buf);
    memcpy(dst, buf, len);
    free(buf);
}

static const struct ho_os_ops os_ops = {
    .run = o_run,
    .timer = o_timer,
    .nic_tx = o_nic_tx,
    .nic_forward = o_nic_forward,
    .nic_cmd = o_nic_cmd,
    .pkt_alloc = o_pkt_alloc,
    .pkt_free = o_pkt_free,
    .pkt_at = o_pkt_at,
    .fault = n_fault,
    .established = o_established,
    .host_take = o_host_take,
};

static int64_t wall_clock(void *ctx, uint64_t now)
{
    (void)ctx;
    return 1700000000 + (int64_t)(now / 1000000000u);
}

/* ---- the client --------------------------------------------------------------------------- */

static int c_output(void *ctx, const struct tcpe_seg *seg)
{
    struct rig *r = ctx;
    fifo_push(&r->from_cl, (struct entry){E_PKT, pkt_new(r, seg), 0});
    return HO_OK;
}

static void client_drain(struct rig *r)
{
    for (int i = 0; i < r->nconns; i++) {
        uint32_t want = r->cc[i] ? tcpe_conn_readable(r->cc[i]) : 0;
        if (want == 0) {
            continue;
        }
        uint8_t *b = realloc(r->got[i], r->ngot[i] + want);
        assert_non_null(b);
        r->got[i] = b;
        int n = tcpe_recv(r->cc[i], b + r->ngot[i], want, r->now);
        assert_true(n >= 0);
        r->ngot[i] += (size_t)n;
    }
}

/* ---- the rig ------------------------------------------------------------------------------ */

static void rig_init(struct rig *r, uint32_t nic_conns)
{
    memset(r, 0, sizeof *r);
    assert_int_equal(ho_docroot_open(root, &r->dr), HO_OK);
    struct ho_docroot *dr = r->dr;
    r->now = 1000000000ull;
    r->next_id = 1;
    r->os_timer = TCPE_NEVER;
    for (int i = 0; i < HO_NIC_NTIMERS; i++) {
        r->nic_timer[i] = HO_NIC_NEVER;
    }
    struct ho_nic_costs nc = {.scale_pct = 100};
    struct ho_nic_params np = {
        .hard_limit = nic_conns,
        .host_first = true,
        .hiwat = 1024,
        .lowat = 512,
        .lc_step = 16,
        .rx_queue = 4096,
        .tx_ring = 512,
        .virtual_payload = false,
        .mss = 1460,
        .sndbuf = 2 * SNDBUF,
        .rcvbuf = 65536,
        .delack_ns = 40000000,
        .seed = 3,
        .costs = nc,
    };
    assert_int_equal(ho_nic_create(&np, &nic_ops, r, &r->nic), HO_OK);
    struct ho_os_params op = {
        .nic_conns = nic_conns,
        .selection = {.kind = HO_SEL_THRESH, .threshold = 4},
        .conns = 64,
        .virtual_payload = false,
        .mss = 1460,
        .sndbuf = SNDBUF,
        .rcvbuf = 65536,
        .delack_ns = 40000000,
        .tx_ring = 512,
        .seed = 3,
        .line_bytes = 64,
        .costs = {.conn_state_bytes = 1024, .pkt_hdr_bytes = 128},
    };
    assert_int_equal(ho_os_create(&op, &os_ops, r, &r->os), HO_OK);
    struct ho_app_params ap = {
        .ip = SERVER_IP, .port = 80, .backlog = 16, .docroot = dr, .idle_ns = 0};
    ho_http_limits_default(&ap.limits);
    struct ho_app_ops aops = {.wall_clock = wall_clock};
    assert_int_equal(ho_app_create(&ap, r->os, &aops, r, &r->app), HO_OK);
    struct tcpe_params tp;
    tcpe_params_init(&tp);
    tp.ops.output = c_output;
    tp.ctx = r;
    tp.nodelay = true;
    tp.rcvbuf = 65536;
    tp.seed = 11;
    assert_int_equal(tcpe_stack_create(&tp, &r->client), HO_OK);
    current = r;
}

static void free_entry(struct rig *r, const struct entry *e)
{
    if (e->kind == E_MSG || e->kind == E_CMD) {
        free(e->ptr);
    } else if (e->ptr) {
        pkt_free(r, e->ptr);
    }
}

static void fifo_drop(struct rig *r, struct fifo *f)
{
    struct entry e;
    while (fifo_pop(f, &e)) {
        free_entry(r, &e);
    }
    free(f->e);
}

/* Frees everything; returns whether every packet was given back by its holder. */
static bool rig_fini(struct rig *r)
{
    current = NULL;
    ho_app_destroy(r->app);
    ho_docroot_close(r->dr);
    ho_os_destroy(r->os);
    ho_nic_destroy(r->nic);
    tcpe_stack_destroy(r->client);
    fifo_drop(r, &r->to_host);
    fifo_drop(r, &r->to_nic);
    fifo_drop(r, &r->to_client);
    fifo_drop(r, &r->from_cl);
    /* Work the OS queued and never ran names packets: the platform's, freed with the rest. */
    bool balanced = true;
    for (uint32_t i = 0; i < r->nlive_cap; i++) {
        if (r->live[i]) {
            balanced = false;
            free(r->live[i]);
        }
    }
    free(r->live);
    free(r->work);
    for (int i = 0; i < MAX_CONNS; i++) {
        free(r->got[i]);
    }
    return balanced;
}

static int teardown(void **state)
{
    (void)state;
    if (current) {
        rig_fini(current);
    }
    return 0;
}

/* The rig of the test running (one at a time), built with a Hard limit of 16. */
static struct rig *rig_new(void)
{
    static struct rig rr;
    rig_init(&rr, 16);
    return &rr;
}

static void run(struct rig *r, uint64_t until, bool (*stop)(struct rig *r));

/* Every client closes, the connections end, and everything is given back. */
static void rig_done(struct rig *r)
{
    for (int i = 0; i < r->nconns; i++) {
        tcpe_shutdown(r->cc[i], r->now);
    }
    run(r, r->now + 200000000000ull, NULL);
    assert_true(rig_fini(r));
}

/* One piece of anything: the firmware's work, the buses, the OS side's work, the wire. Returns
 * false when nothing is left to do now. */
static bool step(struct rig *r)
{
    struct ho_nic_work w;
    if (ho_nic_begin(r->nic, r->now, &w)) {
        ho_nic_end(r->nic, &w, r->now);
        return true;
    }
    struct entry e;
    if (fifo_pop(&r->to_nic, &e)) {
        if (e.kind == E_HOST_TX) {
            assert_int_equal(ho_nic_host_tx(r->nic, e.ptr, r->now), HO_OK);
        } else if (e.kind == E_FORWARD) {
            ho_nic_forward(r->nic, e.ptr, r->now);
        } else {
            assert_int_equal(ho_nic_cmd(r->nic, e.ptr, e.len, r->now), HO_OK);
            free(e.ptr);
        }
        return true;
    }
    if (fifo_pop(&r->to_host, &e)) {
        if (e.kind == E_PKT) {
            ho_os_rx(r->os, e.ptr, r->now);
        } else if (e.kind == E_MSG) {
            assert_int_equal(ho_os_msg(r->os, e.ptr, e.len, r->now), HO_OK);
            free(e.ptr);
        } else {
            ho_os_tx_done(r->os, r->now);
        }
        return true;
    }
    if (r->nwork > 0) {
        size_t pick = 0;
        for (size_t i = 0; i < r->nwork; i++) {
            if (r->work[i].prio == HO_OS_PRIO_NET) {
                pick = i;
                break;
            }
        }
        struct ho_os_work ow = r->work[pick];
        memmove(&r->work[pick], &r->work[pick + 1], (r->nwork - pick - 1) * sizeof *r->work);
        r->nwork--;
        if (ow.touches) {
            struct ho_os_mem mem[HO_OS_MEM_MAX];
            ho_os_work_mem(r->os, ow.arg, mem);
        }
        if (ow.notify) {
            ho_os_work_done(r->os, ow.arg, r->now);
        }
        return true;
    }
    if (fifo_pop(&r->to_client, &e)) {
        tcpe_stack_input(r->client, &((struct ho_pkt *)e.ptr)->seg, r->now);
        pkt_free(r, e.ptr);
        client_drain(r);
        return true;
    }
    if (fifo_pop(&r->from_cl, &e)) {
        ho_nic_wire_rx(r->nic, e.ptr, r->now);
        return true;
    }
    return false;
}

/* Runs until nothing is left to do, letting time pass through the timers, until `until`, or
 * until stop(r) says so. */
static void run(struct rig *r, uint64_t until, bool (*stop)(struct rig *r))
{
    for (int i = 0; i < MAX_STEPS; i++) {
        if (stop && stop(r)) {
            return;
        }
        if (step(r)) {
            continue;
        }
        uint64_t next = tcpe_stack_next_wake(r->client);
        next = r->os_timer < next ? r->os_timer : next;
        for (int k = 0; k < HO_NIC_NTIMERS; k++) {
            next = r->nic_timer[k] < next ? r->nic_timer[k] : next;
        }
        if (next == TCPE_NEVER || next > until) {
            return;
        }
        r->now = next > r->now ? next : r->now;
        if (r->os_timer <= r->now) {
            r->os_timer = TCPE_NEVER;
            ho_os_timer(r->os, r->now);
        }
        for (int k = 0; k < HO_NIC_NTIMERS; k++) {
            if (r->nic_timer[k] <= r->now) {
                r->nic_timer[k] = HO_NIC_NEVER;
                ho_nic_timer(r->nic, (enum ho_nic_timer)k, r->now);
            }
        }
        tcpe_stack_timers(r->client, r->now);
        client_drain(r);
    }
    fail_msg("the rig did not settle in %d steps", MAX_STEPS);
}

static int connect_client(struct rig *r, uint16_t port)
{
    struct tcpe_tuple t = {
        .local_ip = CLIENT_IP, .remote_ip = SERVER_IP, .local_port = port, .remote_port = 80};
    int i = r->nconns++;
    assert_true(i < MAX_CONNS);
    assert_int_equal(tcpe_connect(r->client, &t, r->now, &r->cc[i]), HO_OK);
    run(r, r->now + 1000000000ull, NULL);
    assert_int_equal(tcpe_conn_state(r->cc[i]), TCPE_ESTABLISHED);
    return i;
}

static void ask(struct rig *r, int i, const char *path)
{
    char req[256];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
    assert_int_equal(tcpe_send(r->cc[i], req, (uint32_t)n, r->now), n);
}

/* The response at got[i] + *off: its body must be want[0..len). */
static void check_response(struct rig *r, int i, size_t *off, const uint8_t *want, size_t len)
{
    const char *buf = (const char *)r->got[i] + *off;
    size_t have = r->ngot[i] - *off;
    assert_true(have > 12);
    assert_memory_equal(buf, "HTTP/1.1 200", 12);
    const char *end = NULL;
    for (size_t k = 0; k + 4 <= have; k++) {
        if (memcmp(buf + k, "\r\n\r\n", 4) == 0) {
            end = buf + k + 4;
            break;
        }
    }
    assert_non_null(end);
    size_t head = (size_t)(end - buf);
    assert_int_equal(have - head >= len, true);
    assert_memory_equal(end, want, len);
    *off += head + len;
}

static size_t got_at_least;
static int got_conn;

static bool got_enough(struct rig *r)
{
    return r->ngot[got_conn] >= got_at_least;
}

static void assert_checks(struct rig *r)
{
    char why[160] = "";
    assert_int_equal(ho_os_check(r->os, why, sizeof why), 0);
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_handoff_mid_response(void **state)
{
    (void)state;
    static const uint32_t drops[] = {0, 37};
    for (size_t d = 0; d < sizeof drops / sizeof drops[0]; d++) {
        struct rig *r = rig_new();
        r->drop_every = drops[d];
        int c = connect_client(r, 40000);
        ask(r, c, "/big");
        run(r, r->now + 60000000000ull, NULL);
        size_t off = 0;
        check_response(r, c, &off, big, BIG);
        struct ho_nic_info ni;
        ho_nic_info(r->nic, &ni);
        assert_int_equal(ni.accepted, 1); /* handed off at the 4th enqueue, mid-response */
        struct ho_so_info si;
        assert_int_equal(ho_so_info(r->os, r->last_sock, &si), HO_OK);
        assert_int_equal(si.where, HO_SO_NIC);
        /* A second request, read and answered on the NIC: RECV's bytes, SEND's bytes. */
        ask(r, c, "/small");
        run(r, r->now + 60000000000ull, NULL);
        check_response(r, c, &off, (const uint8_t *)"small file\n", 11);
        assert_int_equal(off, r->ngot[c]);
        if (drops[d]) {
            assert_true(r->dropped > 0);
            assert_non_null(ni.tcp);
            ho_nic_info(r->nic, &ni);
            assert_true(ni.tcp->rexmt_segs > 0); /* resent from the bytes SEND gave it */
        }
        assert_checks(r);
        tcpe_shutdown(r->cc[c], r->now);
        run(r, r->now + 200000000000ull, NULL);
        ho_nic_info(r->nic, &ni);
        assert_int_equal(ni.conns, 0);
        rig_done(r);
    }
}

static void test_restore_mid_response(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    int c = connect_client(r, 41000);
    ask(r, c, "/big");
    got_conn = c;
    got_at_least = BIG / 3;
    run(r, r->now + 60000000000ull, got_enough);
    assert_true(r->ngot[c] >= BIG / 3 && r->ngot[c] < BIG);
    uint32_t sock = r->last_sock;
    struct ho_so_info si;
    assert_int_equal(ho_so_info(r->os, sock, &si), HO_OK);
    assert_int_equal(si.where, HO_SO_NIC);
    assert_int_equal(ho_os_restore(r->os, sock, r->now), HO_OK);
    assert_int_equal(ho_os_restore(r->os, sock, r->now), HO_ESTATE);
    run(r, r->now + 60000000000ull, NULL);
    size_t off = 0;
    check_response(r, c, &off, big, BIG);
    assert_int_equal(ho_so_info(r->os, sock, &si), HO_OK);
    assert_int_equal(si.where, HO_SO_HOST);
    assert_int_equal(si.moves, 2);
    struct ho_nic_info ni;
    ho_nic_info(r->nic, &ni);
    assert_int_equal(ni.restored, 1);
    assert_int_equal(ni.conns, 0);
    /* The next request is served by the host's TCP. */
    ask(r, c, "/small");
    run(r, r->now + 60000000000ull, NULL);
    check_response(r, c, &off, (const uint8_t *)"small file\n", 11);
    assert_int_equal(off, r->ngot[c]);
    assert_checks(r);
    rig_done(r);
}

/* Restored while the peer's request is in flight, then handed off again on a new connection
 * from the same client: the NIC's memory of the restored tuple does not get in the way. */
static void test_restore_then_more(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    int c = connect_client(r, 42000);
    ask(r, c, "/big");
    run(r, r->now + 60000000000ull, NULL);
    uint32_t sock = r->last_sock;
    assert_int_equal(ho_os_restore(r->os, sock, r->now), HO_OK);
    ask(r, c, "/big"); /* on its way while the connection moves */
    run(r, r->now + 60000000000ull, NULL);
    size_t off = 0;
    check_response(r, c, &off, big, BIG);
    check_response(r, c, &off, big, BIG);
    int c2 = connect_client(r, 42001);
    ask(r, c2, "/big");
    run(r, r->now + 60000000000ull, NULL);
    size_t off2 = 0;
    check_response(r, c2, &off2, big, BIG);
    struct ho_nic_info ni;
    ho_nic_info(r->nic, &ni);
    assert_int_equal(ni.accepted, 2);
    assert_int_equal(ni.restored, 1);
    assert_checks(r);
    rig_done(r);
}

static uint32_t watched;

static bool has_unread(struct rig *r)
{
    return ho_so_readable(r->os, watched) > 0;
}

/* Restored while a request the NIC delivered (RECV) waits unread in the socket: the server reads
 * it from there, then from the host's TCP. */
static void test_restore_with_unread(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    int c = connect_client(r, 43000);
    ask(r, c, "/big");
    run(r, r->now + 60000000000ull, NULL);
    size_t off = 0;
    check_response(r, c, &off, big, BIG);
    watched = r->last_sock;
    struct ho_so_info si;
    assert_int_equal(ho_so_info(r->os, watched, &si), HO_OK);
    assert_int_equal(si.where, HO_SO_NIC);
    ask(r, c, "/small");
    run(r, r->now + 60000000000ull, has_unread);
    assert_true(ho_so_readable(r->os, watched) > 0); /* delivered, not yet read */
    assert_int_equal(ho_os_restore(r->os, watched, r->now), HO_OK);
    run(r, r->now + 60000000000ull, NULL);
    check_response(r, c, &off, (const uint8_t *)"small file\n", 11);
    assert_int_equal(off, r->ngot[c]);
    assert_int_equal(ho_so_info(r->os, watched, &si), HO_OK);
    assert_int_equal(si.where, HO_SO_HOST);
    assert_checks(r);
    rig_done(r);
}

static void write_file(const char *name, const void *bytes, size_t len)
{
    char path[160];
    snprintf(path, sizeof path, "%s/%s", root, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bytes, len), (ssize_t)len);
    close(fd);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/handoff-real-handoff.XXXXXX");
    if (!mkdtemp(root)) {
        return -1;
    }
    big = malloc(BIG);
    if (!big) {
        return -1;
    }
    uint32_t x = 99;
    for (uint32_t i = 0; i < BIG; i++) {
        x = x * 1664525u + 1013904223u;
        big[i] = (uint8_t)(x >> 24);
    }
    write_file("big", big, BIG);
    write_file("small", "small file\n", 11);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    tt_remove_tree(root);
    free(big);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_handoff_mid_response, teardown),
        cmocka_unit_test_teardown(test_restore_mid_response, teardown),
        cmocka_unit_test_teardown(test_restore_then_more, teardown),
        cmocka_unit_test_teardown(test_restore_with_unread, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
