/*
 * test_httpd.c - the Flash-like web server (src/app, include/handoff/app.h) on a real OS side
 * (src/os) with a fake platform.
 *
 * The fake platform is that of tests/os/test_os.c: ops.run appends the work to a FIFO the test
 * runs by hand (network work first, as the host's priorities say), every work ever queued is
 * logged, packets come from malloc with ids, the packets the OS sends go to a client tcpe stack
 * (virtual payload) whose own segments come back through ho_os_rx, and the commands the driver
 * posts are recorded for the test, which plays the NIC's part when handoff is on. ops.request
 * answers from a table of requests keyed by the client's port (the connection's 4-tuple is
 * checked too).
 *
 * The system-call and user costs are chosen so that their sums are unique: each step the server
 * queues is recognized by its category and cycles in the log. Checked: the sequence of steps for
 * one request of each kind (ACCEPT = event + accept, READ = event + read, PARSE = user work of
 * request (+ dynamic), RESPOND = write + header copy + sendfile for a static body, a dynamic body
 * all copied, SENDMORE = event + sendfile when the buffer frees, CLOSE = close when the client
 * closes) and the bytes the client receives; that a step queued before its socket was released
 * does nothing, even once the number is reused; that ho_app_check catches a lost wake-up; and
 * the whole exchange over the bypass protocol, the connection handed off under FCFS and T1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "handoff/app.h"
#include "handoff/cmd.h"
#include "handoff/err.h"
#include "handoff/os.h"
#include "handoff/pkt.h"
#include "handoff/select.h"
#include "handoff/tcpe.h"

/* ---- the fake platform (as in tests/os/test_os.c) --------------------------------------- */

#define SERVER_IP   0x0a000002u /* 10.0.0.2 */
#define CLIENT_IP   0x0a000001u /* 10.0.0.1 */
#define SERVER_PORT 80
#define WORK_NS     1000u /* the fake processor's clock moves this much per work run */
#define MAX_CLIENTS 8
#define MAX_STEPS   200000
#define MS          1000000ull

/* Costs that add up uniquely, so that a work's cycles say which system calls it stands for. */
static const struct ho_os_costs costs = {
    .rx_pkt = 1101,
    .tx_pkt = 1202,
    .timer = 1303,
    .msg_out = 1404,
    .msg_in = 1505,
    .handoff = 20000,
    .sys_event = 1000,
    .sys_accept = 2000,
    .sys_read = 4000,
    .sys_write = 8000,
    .sys_sendfile = 16000,
    .sys_close = 32000,
    .copy_per_kb = 2048, /* two cycles a byte */
    .conn_state_bytes = 1000,
    .pkt_hdr_bytes = 128,
};

static const struct ho_app_costs app_costs = {.request = 70000, .dynamic = 300000};

#define LINE_BYTES 64u
#define TX_RING    64u /* the NIC's send ring */
#define SNDBUF     16384u
#define RCVBUF     65536u
#define DELACK_NS  (40 * MS)

/* ---- the fake platform ------------------------------------------------------------------ */

struct rec_work {
    struct ho_os_work w;
    uint64_t queued_at;
};

struct rec_timer {
    uint64_t when, now;
};

struct rec_msg {
    uint8_t *bytes;
    uint32_t len;
};

struct rec_ev {
    uint32_t sock;
    unsigned events;
};

struct plat {
    struct ho_os *os;
    uint64_t now;
    /* ops.run: the FIFO of work to run, and every work ever queued. */
    struct rec_work *q, *log;
    size_t nq, capq, nlog, caplog;
    /* What ho_os_work_mem said for the last work run. */
    struct ho_os_mem mem[HO_OS_MEM_MAX];
    unsigned nmem;
    /* ops.timer */
    uint64_t timer_when;
    struct rec_timer *timers;
    size_t ntimers, captimers;
    /* Packets: live ones by id. */
    struct ho_pkt **live;
    uint32_t capids, next_id;
    uint64_t allocs, frees;
    struct ho_pkt **wire, **fwd; /* nic_tx (to the client), nic_forward */
    size_t nwire, capwire, nfwd, capfwd;
    uint64_t ntx;
    struct rec_msg *cmds; /* nic_cmd */
    size_t ncmds, capcmds;
    unsigned faults;
    const char *last_fault;
    unsigned nestablished, nhanded_off;
    uint32_t last_established, last_handed_off;
    uint32_t nic_seq; /* the next message number from the "NIC" */
    uint32_t last_rx_id;
    /* The client. */
    struct tcpe_stack *client;
    struct tcpe_conn *cc[MAX_CLIENTS];
    uint64_t crecv[MAX_CLIENTS];
    bool ceof[MAX_CLIENTS];
    int ncc;
    /* The server, and the requests its clients send, by client port. */
    struct ho_app *app;
    struct {
        uint16_t port;
        struct ho_app_req req;
    } reqs[MAX_CLIENTS];
    int nreqs;
    unsigned request_calls;
    /* A stand-in application's records (the server is not told: a lost wake-up). */
    struct rec_ev *evs;
    size_t nevs, capevs;
    uint64_t *dones;
    size_t ndones, capdones;
};

/* The platform of the test running, cleaned up by the teardown if the test fails. */
static struct plat *current;

#define PUSH(arr, n, cap, val)                                                                     \
    do {                                                                                           \
        if ((n) == (cap)) {                                                                        \
            (cap) = (cap) ? 2 * (cap) : 16;                                                        \
            void *grown_ = realloc((arr), (cap) * sizeof *(arr));                                  \
            assert_non_null(grown_);                                                               \
            (arr) = grown_;                                                                        \
        }                                                                                          \
        (arr)[(n)++] = (val);                                                                      \
    } while (0)

static struct ho_pkt *pkt_new(struct plat *pl, const struct tcpe_seg *seg)
{
    struct ho_pkt *p = calloc(1, sizeof *p);
    assert_non_null(p);
    p->seg = *seg;
    p->seg.data = NULL;
    p->frame_bytes = 54 + seg->len;
    p->id = pl->next_id++;
    if (p->id >= pl->capids) {
        uint32_t n = pl->capids ? 2 * pl->capids : 256;
        while (n <= p->id) {
            n *= 2;
        }
        struct ho_pkt **l = realloc(pl->live, n * sizeof *l);
        assert_non_null(l);
        memset(l + pl->capids, 0, (n - pl->capids) * sizeof *l);
        pl->live = l;
        pl->capids = n;
    }
    pl->live[p->id] = p;
    pl->allocs++;
    return p;
}

static void pkt_release(struct plat *pl, struct ho_pkt *p)
{
    assert_true(p->id < pl->capids && pl->live[p->id] == p);
    pl->live[p->id] = NULL;
    pl->frees++;
    free(p);
}

static void op_run(void *ctx, const struct ho_os_work *w, uint64_t now)
{
    struct plat *pl = ctx;
    struct rec_work r = {.w = *w, .queued_at = now};
    PUSH(pl->q, pl->nq, pl->capq, r);
    PUSH(pl->log, pl->nlog, pl->caplog, r);
}

static void op_timer(void *ctx, uint64_t when, uint64_t now)
{
    struct plat *pl = ctx;
    pl->timer_when = when;
    struct rec_timer t = {when, now};
    PUSH(pl->timers, pl->ntimers, pl->captimers, t);
}

static void op_nic_tx(void *ctx, struct ho_pkt *p, uint64_t now)
{
    struct plat *pl = ctx;
    (void)now;
    pl->ntx++;
    PUSH(pl->wire, pl->nwire, pl->capwire, p);
}

static void op_nic_forward(void *ctx, struct ho_pkt *p, uint64_t now)
{
    struct plat *pl = ctx;
    (void)now;
    PUSH(pl->fwd, pl->nfwd, pl->capfwd, p);
}

static void op_nic_cmd(void *ctx, const uint8_t *msg, uint32_t len, uint64_t now)
{
    struct plat *pl = ctx;
    (void)now;
    struct rec_msg m = {.bytes = malloc(len), .len = len};
    assert_non_null(m.bytes);
    memcpy(m.bytes, msg, len);
    PUSH(pl->cmds, pl->ncmds, pl->capcmds, m);
}

static struct ho_pkt *op_pkt_alloc(void *ctx, const struct tcpe_seg *seg)
{
    return pkt_new(ctx, seg);
}

static void op_pkt_free(void *ctx, struct ho_pkt *p)
{
    pkt_release(ctx, p);
}

static struct ho_pkt *op_pkt_at(void *ctx, uint32_t id)
{
    struct plat *pl = ctx;
    assert_true(id < pl->capids && pl->live[id] != NULL);
    return pl->live[id];
}

static void op_fault(void *ctx, const char *what)
{
    struct plat *pl = ctx;
    pl->faults++;
    pl->last_fault = what;
}

static void op_established(void *ctx, uint32_t sock)
{
    struct plat *pl = ctx;
    pl->nestablished++;
    pl->last_established = sock;
}

static void op_handed_off(void *ctx, uint32_t sock)
{
    struct plat *pl = ctx;
    pl->nhanded_off++;
    pl->last_handed_off = sock;
}

static const struct ho_os_ops fake_ops = {
    .run = op_run,
    .timer = op_timer,
    .nic_tx = op_nic_tx,
    .nic_forward = op_nic_forward,
    .nic_cmd = op_nic_cmd,
    .pkt_alloc = op_pkt_alloc,
    .pkt_free = op_pkt_free,
    .pkt_at = op_pkt_at,
    .fault = op_fault,
    .established = op_established,
    .handed_off = op_handed_off,
};

static void app_event(void *ctx, uint32_t sock, unsigned events, uint64_t now)
{
    struct plat *pl = ctx;
    (void)now;
    struct rec_ev e = {sock, events};
    PUSH(pl->evs, pl->nevs, pl->capevs, e);
}

static void app_done(void *ctx, uint64_t arg, uint64_t now)
{
    struct plat *pl = ctx;
    (void)now;
    PUSH(pl->dones, pl->ndones, pl->capdones, arg);
}

/* The client's segments travel to the OS as received packets. */
static int client_out(void *ctx, const struct tcpe_seg *seg)
{
    struct plat *pl = ctx;
    struct ho_pkt *p = pkt_new(pl, seg);
    pl->last_rx_id = p->id;
    ho_os_rx(pl->os, p, pl->now);
    return HO_OK;
}

/* ops.request: the request of the client at the connection's other end. */
static int app_request(void *ctx, const struct tcpe_tuple *conn, struct ho_app_req *out)
{
    struct plat *pl = ctx;
    pl->request_calls++;
    if (conn->local_ip != SERVER_IP || conn->local_port != SERVER_PORT ||
        conn->remote_ip != CLIENT_IP) {
        return -1;
    }
    for (int i = 0; i < pl->nreqs; i++) {
        if (pl->reqs[i].port == conn->remote_port) {
            *out = pl->reqs[i].req;
            return 0;
        }
    }
    return -1;
}

static const struct ho_app_ops app_ops = {.request = app_request};

static struct ho_os_params os_params(uint32_t nic_conns, struct ho_sel_policy sel)
{
    return (struct ho_os_params){
        .nic_conns = nic_conns,
        .selection = sel,
        .conns = 64,
        .virtual_payload = true,
        .mss = 1460,
        .sndbuf = SNDBUF,
        .rcvbuf = RCVBUF,
        .delack_ns = DELACK_NS,
        .seed = 7,
        .line_bytes = LINE_BYTES,
        .tx_ring = TX_RING,
        .costs = costs,
    };
}

static const struct ho_sel_policy never = {.kind = HO_SEL_NEVER};
static const struct ho_sel_policy fcfs = {.kind = HO_SEL_FCFS};

static void plat_init(struct plat *pl, const struct ho_os_params *op)
{
    memset(pl, 0, sizeof *pl);
    pl->now = 1000 * MS;
    pl->timer_when = TCPE_NEVER;
    pl->next_id = 1;
    struct tcpe_params tp;
    tcpe_params_init(&tp);
    tp.ops.output = client_out;
    tp.ctx = pl;
    tp.virtual_payload = true;
    tp.nodelay = true;
    tp.seed = 99;
    assert_int_equal(tcpe_stack_create(&tp, &pl->client), HO_OK);
    assert_int_equal(ho_os_create(op, &fake_ops, pl, &pl->os), HO_OK);
    struct ho_app_params ap = {
        .ip = SERVER_IP, .port = SERVER_PORT, .backlog = 64, .costs = app_costs};
    assert_int_equal(ho_app_create(&ap, pl->os, &app_ops, pl, &pl->app), HO_OK);
    current = pl;
}

/* Destroys the OS (which gives back what it holds), then frees what the platform still has.
 * Returns whether every packet allocated was freed by someone. */
static bool plat_free(struct plat *pl)
{
    current = NULL;
    ho_app_destroy(pl->app);
    pl->app = NULL;
    ho_os_destroy(pl->os);
    pl->os = NULL;
    tcpe_stack_destroy(pl->client);
    pl->client = NULL;
    for (size_t i = 0; i < pl->nwire; i++) {
        pl->live[pl->wire[i]->id] = NULL;
        free(pl->wire[i]);
        pl->frees++;
    }
    for (size_t i = 0; i < pl->nfwd; i++) {
        pl->live[pl->fwd[i]->id] = NULL;
        free(pl->fwd[i]);
        pl->frees++;
    }
    bool balanced = pl->allocs == pl->frees;
    for (uint32_t i = 0; i < pl->capids; i++) {
        free(pl->live[i]); /* a failed test's leftovers */
    }
    for (size_t i = 0; i < pl->ncmds; i++) {
        free(pl->cmds[i].bytes);
    }
    free(pl->q);
    free(pl->log);
    free(pl->timers);
    free(pl->live);
    free(pl->wire);
    free(pl->fwd);
    free(pl->cmds);
    free(pl->evs);
    free(pl->dones);
    memset(pl, 0, sizeof *pl);
    return balanced;
}

/* Tests use this one platform, which outlives them, so that the teardown can free it after a
 * failure. */
static struct plat *plat_new(const struct ho_os_params *op)
{
    static struct plat storage;
    assert_null(current);
    plat_init(&storage, op);
    return &storage;
}

static void plat_fini(struct plat *pl)
{
    assert_true(plat_free(pl));
}

static int teardown(void **state)
{
    (void)state;
    if (current) {
        plat_free(current);
    }
    return 0;
}

/* Runs queued work number i (0 = the oldest) on the fake processor. */
static struct rec_work run_at(struct plat *pl, size_t i)
{
    assert_true(i < pl->nq);
    struct rec_work r = pl->q[i];
    memmove(&pl->q[i], &pl->q[i + 1], (pl->nq - i - 1) * sizeof *pl->q);
    pl->nq--;
    pl->now += WORK_NS;
    pl->nmem = 0;
    if (r.w.touches) {
        pl->nmem = ho_os_work_mem(pl->os, r.w.arg, pl->mem);
    }
    if (r.w.notify) {
        ho_os_work_done(pl->os, r.w.arg, pl->now);
    }
    return r;
}

/* The client reads everything that arrived. */
static void client_drain(struct plat *pl)
{
    for (int i = 0; i < pl->ncc; i++) {
        if (!pl->cc[i]) {
            continue;
        }
        int n = tcpe_recv(pl->cc[i], NULL, 1u << 30, pl->now);
        assert_true(n >= 0);
        pl->crecv[i] += (uint64_t)n;
        pl->ceof[i] = tcpe_conn_eof(pl->cc[i]);
    }
}

/* Gives the client the oldest packet on the wire. */
static void deliver_one(struct plat *pl)
{
    struct ho_pkt *p = pl->wire[0];
    memmove(&pl->wire[0], &pl->wire[1], (pl->nwire - 1) * sizeof *pl->wire);
    pl->nwire--;
    ho_os_tx_done(pl->os, pl->now); /* the "NIC" sent it: its send-ring descriptor is free */
    tcpe_stack_input(pl->client, &p->seg, pl->now);
    pkt_release(pl, p);
    client_drain(pl);
}

/* Runs work (network priority first) and the wire until nothing is left to do now. */
static void settle(struct plat *pl)
{
    for (int steps = 0;; steps++) {
        assert_true(steps < MAX_STEPS);
        if (pl->nq > 0) {
            size_t pick = 0;
            for (size_t i = 0; i < pl->nq; i++) {
                if (pl->q[i].w.prio == HO_OS_PRIO_NET) {
                    pick = i;
                    break;
                }
            }
            run_at(pl, pick);
        } else if (pl->nwire > 0) {
            deliver_one(pl);
        } else {
            return;
        }
    }
}

/* Settles, then lets time pass through the timers of both sides up to `until`. */
static void advance(struct plat *pl, uint64_t until)
{
    settle(pl);
    for (int steps = 0;; steps++) {
        assert_true(steps < MAX_STEPS);
        uint64_t c = tcpe_stack_next_wake(pl->client);
        uint64_t next = pl->timer_when < c ? pl->timer_when : c;
        if (next == TCPE_NEVER || next > until) {
            return;
        }
        if (next > pl->now) {
            pl->now = next;
        }
        if (pl->timer_when <= pl->now) {
            pl->timer_when = TCPE_NEVER;
            ho_os_timer(pl->os, pl->now);
        }
        tcpe_stack_timers(pl->client, pl->now);
        settle(pl);
    }
}

static void client_send(struct plat *pl, int i, uint32_t n)
{
    assert_int_equal(tcpe_send(pl->cc[i], NULL, n, pl->now), (int)n);
}

/* Sends a message from the "NIC", numbered in order. */
static int nic_msg(struct plat *pl, struct ho_cmd *c)
{
    c->seq = pl->nic_seq++;
    uint8_t buf[1024];
    int n = ho_cmd_encode(c, buf, sizeof buf);
    assert_true(n > 0);
    return ho_os_msg(pl->os, buf, (uint32_t)n, pl->now);
}

static void cmd_at(const struct plat *pl, size_t i, struct ho_cmd *out)
{
    assert_true(i < pl->ncmds);
    assert_int_equal(ho_cmd_decode(pl->cmds[i].bytes, pl->cmds[i].len, out), HO_OK);
}

static void assert_consistent(const struct plat *pl)
{
    char why[128] = "";
    assert_int_equal(ho_os_check(pl->os, why, sizeof why), 0);
}

/* ---- the server's steps ----------------------------------------------------------------- */

struct step {
    uint8_t cat;
    uint64_t cycles;
};

enum step_kind { S_ACCEPT, S_READ, S_READ_AT_ACCEPT, S_PARSE, S_RESPOND, S_SENDMORE, S_CLOSE };

/* The step the server should queue, for a request of body bytes (dynamic or not). */
static struct step expect(enum step_kind k, bool dynamic, uint64_t body)
{
    uint64_t copied = HO_APP_RESP_HDR_BYTES + (dynamic ? body : 0);
    switch (k) {
    case S_ACCEPT:
        return (struct step){HO_OS_CAT_SYS, costs.sys_event + costs.sys_accept};
    case S_READ:
        return (struct step){HO_OS_CAT_SYS, costs.sys_event + costs.sys_read};
    case S_READ_AT_ACCEPT: /* accept() found the request waiting: read at once, no wait */
        return (struct step){HO_OS_CAT_SYS, costs.sys_read};
    case S_PARSE:
        return (struct step){HO_OS_CAT_USER, app_costs.request + (dynamic ? app_costs.dynamic : 0)};
    case S_RESPOND:
        return (struct step){HO_OS_CAT_SYS, costs.sys_write +
                                                (!dynamic && body ? costs.sys_sendfile : 0) +
                                                copied * costs.copy_per_kb / 1024};
    case S_SENDMORE:
        return (struct step){HO_OS_CAT_SYS, costs.sys_event + costs.sys_sendfile};
    case S_CLOSE:
        return (struct step){HO_OS_CAT_SYS, costs.sys_close};
    }
    return (struct step){0, 0};
}

/* The server's steps (system calls and user work) queued since log entry `from`. */
static size_t server_steps(const struct plat *pl, size_t from, struct step *out, size_t max)
{
    size_t n = 0;
    for (size_t i = from; i < pl->nlog; i++) {
        const struct ho_os_work *w = &pl->log[i].w;
        if (w->cat == HO_OS_CAT_NET) {
            continue;
        }
        assert_int_equal(w->prio, HO_OS_PRIO_PROC);
        assert_true(w->notify && !w->touches);
        assert_true(n < max);
        out[n++] = (struct step){w->cat, w->cycles};
    }
    return n;
}

static void assert_step(const struct step *got, struct step want, const char *what, size_t i)
{
    if (got->cat != want.cat || got->cycles != want.cycles) {
        fail_msg("%s: step %zu is (cat %u, %llu cycles), want (cat %u, %llu cycles)", what, i,
                 got->cat, (unsigned long long)got->cycles, want.cat,
                 (unsigned long long)want.cycles);
    }
}

/*
 * Checks a whole exchange: ACCEPT, the reads, PARSE, RESPOND, SENDMOREs (at least one exactly
 * when the response exceeds `room`, the send buffer's room when the server first sent), READ of
 * the client's FIN, CLOSE. With extra_read, one more READ may come before PARSE.
 */
static void assert_exchange(const struct plat *pl, const char *what, const enum step_kind *reads,
                            size_t nreads, bool extra_read, bool dynamic, uint64_t body,
                            uint64_t room)
{
    struct step got[256];
    size_t n = server_steps(pl, 0, got, 256);
    size_t i = 0;
    assert_true(n >= 3 + nreads + 2);
    assert_step(&got[i], expect(S_ACCEPT, dynamic, body), what, i);
    i++;
    for (size_t k = 0; k < nreads; k++, i++) {
        assert_step(&got[i], expect(reads[k], dynamic, body), what, i);
    }
    struct step read = expect(S_READ, dynamic, body);
    if (extra_read && got[i].cat == read.cat && got[i].cycles == read.cycles) {
        i++;
    }
    assert_step(&got[i], expect(S_PARSE, dynamic, body), what, i);
    i++;
    assert_step(&got[i], expect(S_RESPOND, dynamic, body), what, i);
    i++;
    size_t more = 0;
    for (; i < n - 2; i++, more++) {
        assert_step(&got[i], expect(S_SENDMORE, dynamic, body), what, i);
    }
    assert_int_equal(more > 0, HO_APP_RESP_HDR_BYTES + body > room);
    assert_step(&got[i], expect(S_READ, dynamic, body), what, i);
    i++;
    assert_step(&got[i], expect(S_CLOSE, dynamic, body), what, i);
}

static void check_server(const struct plat *pl)
{
    char why[128] = "";
    if (ho_app_check(pl->app, why, sizeof why) != 0) {
        fail_msg("ho_app_check: %s", why);
    }
    assert_consistent(pl);
}

static void add_request(struct plat *pl, uint16_t port, uint32_t len, bool dynamic, uint64_t body)
{
    assert_true(pl->nreqs < MAX_CLIENTS);
    pl->reqs[pl->nreqs].port = port;
    pl->reqs[pl->nreqs].req = (struct ho_app_req){.len = len, .dynamic = dynamic, .body = body};
    pl->nreqs++;
}

/* Starts a client's connection (the SYN is queued, nothing runs). */
static int start_client(struct plat *pl, uint16_t port)
{
    struct tcpe_tuple t = {
        .local_ip = CLIENT_IP, .remote_ip = SERVER_IP, .local_port = port, .remote_port = 80};
    int i = pl->ncc++;
    assert_true(i < MAX_CLIENTS);
    assert_int_equal(tcpe_connect(pl->client, &t, pl->now, &pl->cc[i]), HO_OK);
    return i;
}

/* Runs only the network's work and the wire: the server's steps stay queued. */
static void run_net(struct plat *pl)
{
    for (int steps = 0;; steps++) {
        assert_true(steps < MAX_STEPS);
        size_t pick = pl->nq;
        for (size_t i = 0; i < pl->nq; i++) {
            if (pl->q[i].w.prio == HO_OS_PRIO_NET) {
                pick = i;
                break;
            }
        }
        if (pick < pl->nq) {
            run_at(pl, pick);
        } else if (pl->nwire > 0) {
            deliver_one(pl);
        } else {
            return;
        }
    }
}

static size_t queued_with(const struct plat *pl, uint64_t cycles)
{
    for (size_t i = 0; i < pl->nq; i++) {
        if (pl->q[i].w.cycles == cycles) {
            return i;
        }
    }
    fail_msg("no work of %llu cycles queued", (unsigned long long)cycles);
    return 0;
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_create(void **state)
{
    (void)state;
    struct ho_os_params op = os_params(0, never);
    struct plat *pl = plat_new(&op);
    struct ho_app_params ap = {.ip = SERVER_IP, .port = SERVER_PORT, .costs = app_costs};
    struct ho_app *a = NULL;
    /* The OS already has the first server listening. */
    assert_int_equal(ho_app_create(&ap, pl->os, &app_ops, pl, &a), HO_EEXIST);
    assert_null(a);
    struct ho_app_ops none = {.request = NULL};
    assert_int_equal(ho_app_create(&ap, pl->os, &none, pl, &a), HO_EINVAL);
    assert_int_equal(ho_app_create(NULL, pl->os, &app_ops, pl, &a), HO_EINVAL);
    assert_int_equal(ho_app_create(&ap, NULL, &app_ops, pl, &a), HO_EINVAL);
    assert_int_equal(ho_app_create(&ap, pl->os, &app_ops, pl, NULL), HO_EINVAL);
    ho_app_destroy(NULL);
    check_server(pl);
    plat_fini(pl);
}

static void test_one_request(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        uint32_t req_len;
        bool dynamic;
        uint64_t body;
        bool split;         /* the request comes in two segments */
        bool before_accept; /* it has arrived before the server accepts */
    } rows[] = {
        {"static file", 300, false, 5000, false, false},
        {"not modified: no body", 200, false, 0, false, false},
        {"dynamic", 400, true, 3000, false, false},
        {"dynamic, no body", 400, true, 0, false, false},
        {"request in two segments", 600, false, 1000, true, false},
        {"static file larger than the send buffer", 300, false, 100000, false, false},
        {"request before accept", 300, false, 2000, false, true},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        struct ho_os_params op = os_params(0, never);
        struct plat *pl = plat_new(&op);
        uint16_t port = (uint16_t)(10000 + r);
        add_request(pl, port, rows[r].req_len, rows[r].dynamic, rows[r].body);
        int c = start_client(pl, port);
        if (rows[r].before_accept) {
            client_send(pl, c, rows[r].req_len); /* goes with the handshake's ACK */
        }
        settle(pl);
        assert_int_equal(pl->nestablished, 1);
        assert_int_equal(pl->last_established, 1);
        check_server(pl);
        if (!rows[r].before_accept) {
            uint32_t first = rows[r].split ? rows[r].req_len / 3 : rows[r].req_len;
            client_send(pl, c, first);
            run_net(pl);
            /* Unread data, and the server has a read queued for it. */
            assert_int_equal(ho_so_readable(pl->os, 1), first);
            check_server(pl);
            settle(pl);
            assert_int_equal(pl->request_calls, 1);
            if (rows[r].split) {
                assert_int_equal(pl->nwire, 0); /* no response to half a request */
                assert_true(pl->crecv[c] == 0);
                client_send(pl, c, rows[r].req_len - first);
            }
        }
        advance(pl, pl->now + 10000 * MS);
        assert_int_equal(pl->request_calls, 1);
        assert_true(pl->crecv[c] == HO_APP_RESP_HDR_BYTES + rows[r].body);
        assert_false(pl->ceof[c]); /* the server leaves the closing to the client */
        check_server(pl);
        assert_int_equal(tcpe_shutdown(pl->cc[c], pl->now), HO_OK);
        advance(pl, pl->now + 10000 * MS);
        assert_true(pl->ceof[c]);
        assert_int_equal(tcpe_conn_state(pl->cc[c]), TCPE_TIME_WAIT);
        struct ho_os_info info;
        ho_os_info(pl->os, &info);
        assert_true(info.tcp->bytes_in == rows[r].req_len);
        assert_true(info.tcp->bytes_acked == HO_APP_RESP_HDR_BYTES + rows[r].body);
        assert_int_equal(pl->faults, 0);
        check_server(pl);
        enum step_kind reads[2] = {S_READ, S_READ};
        size_t nreads = rows[r].split ? 2 : 1;
        if (rows[r].before_accept) {
            reads[0] = S_READ_AT_ACCEPT;
        }
        /* A request that was waiting at accept() is read at once; the TCP's news of it to the
         * new owner, deferred by tcpe_accept to its next call, then wakes the server for one
         * more (empty) READ. Tolerated here, reported as a bug: it charges an extra
         * event + read per such connection. */
        assert_exchange(pl, rows[r].what, reads, nreads, rows[r].before_accept, rows[r].dynamic,
                        rows[r].body, SNDBUF);
        plat_fini(pl);
    }
}

/*
 * A READ queued for a connection that is then reset must do nothing when it runs, even though
 * the socket's number already belongs to the next connection, whose request is waiting.
 */
static void test_stale_step_does_nothing(void **state)
{
    (void)state;
    struct ho_os_params op = os_params(0, never);
    struct plat *pl = plat_new(&op);
    add_request(pl, 11000, 300, false, 1000);
    add_request(pl, 11001, 200, false, 2000);
    int a = start_client(pl, 11000);
    settle(pl);
    assert_int_equal(pl->last_established, 1);
    client_send(pl, a, 300);
    run_net(pl);
    assert_int_equal(pl->nq, 1); /* A's READ */
    assert_true(pl->q[0].w.cycles == expect(S_READ, false, 0).cycles);
    /* A resets: its socket is released under the queued READ. */
    tcpe_abort(pl->cc[a], pl->now);
    tcpe_release(pl->cc[a], pl->now);
    pl->cc[a] = NULL;
    run_net(pl);
    assert_int_equal(pl->faults, 1);
    assert_int_equal(pl->nq, 1);
    /* B connects and is accepted on the same number before A's READ runs. */
    int b = start_client(pl, 11001);
    run_net(pl);
    run_at(pl, queued_with(pl, expect(S_ACCEPT, false, 0).cycles));
    assert_int_equal(pl->nestablished, 2);
    assert_int_equal(pl->last_established, 1);
    client_send(pl, b, 200);
    run_net(pl);
    assert_int_equal(pl->nq, 2); /* A's stale READ, B's READ */
    size_t nlog = pl->nlog;
    run_at(pl, 0);
    assert_int_equal(pl->nlog, nlog); /* nothing queued */
    assert_int_equal(pl->request_calls, 0);
    assert_int_equal(ho_so_readable(pl->os, 1), 200); /* B's request is still there */
    check_server(pl);
    advance(pl, pl->now + 10000 * MS);
    assert_int_equal(pl->request_calls, 1);
    assert_true(pl->crecv[b] == HO_APP_RESP_HDR_BYTES + 2000);
    check_server(pl);
    plat_fini(pl);
}

/* ho_app_check: a socket with unread data and no read queued is a lost wake-up. */
static void test_check_catches_lost_wakeup(void **state)
{
    (void)state;
    struct ho_os_params op = os_params(0, never);
    struct plat *pl = plat_new(&op);
    add_request(pl, 12000, 300, false, 100);
    add_request(pl, 12001, 300, false, 100);
    int x = start_client(pl, 12000);
    int y = start_client(pl, 12001);
    settle(pl);
    assert_int_equal(pl->nestablished, 2);
    check_server(pl);
    /* X's request arrives: unread, but a read is queued. */
    client_send(pl, x, 300);
    run_net(pl);
    assert_true(ho_so_readable(pl->os, pl->last_established) +
                    ho_so_readable(pl->os, 3 - pl->last_established) ==
                300);
    check_server(pl);
    advance(pl, pl->now + 1000 * MS);
    assert_true(pl->crecv[x] == HO_APP_RESP_HDR_BYTES + 100);
    check_server(pl);
    /* The server stops hearing events: Y's request is never read. */
    struct ho_os_app deaf = {.event = app_event, .done = app_done, .ctx = pl};
    ho_os_set_app(pl->os, &deaf);
    client_send(pl, y, 300);
    settle(pl);
    assert_int_equal(pl->nevs, 1);
    uint32_t ysock = pl->evs[0].sock;
    assert_true(pl->evs[0].events & HO_SO_READABLE);
    assert_int_equal(ho_so_readable(pl->os, ysock), 300);
    char why[128] = "";
    assert_int_equal(ho_app_check(pl->app, why, sizeof why), -1);
    char want[32];
    snprintf(want, sizeof want, "socket %u", ysock);
    assert_non_null(strstr(why, want));
    plat_fini(pl);
}

/* ---- the server over the bypass protocol ------------------------------------------------ */

/* The NIC's answer to the HANDOFF of sock (the last command). */
static void nic_accept(struct plat *pl, uint32_t sock)
{
    struct ho_cmd cmd;
    cmd_at(pl, pl->ncmds - 1, &cmd);
    assert_int_equal(cmd.type, HO_CMD_HANDOFF);
    assert_int_equal(cmd.handoff.conn_id, sock);
    struct ho_cmd reply = {.type = HO_CMD_HANDOFF_REPLY};
    reply.handoff_reply.conn_id = sock;
    reply.handoff_reply.req_seq = cmd.seq;
    reply.handoff_reply.status = HO_CMD_ACCEPTED;
    reply.handoff_reply.soft_limit = 4;
    assert_int_equal(nic_msg(pl, &reply), HO_OK);
    settle(pl);
}

static void nic_recv(struct plat *pl, uint32_t sock, uint32_t len, bool fin)
{
    struct ho_cmd m = {.type = HO_CMD_RECV};
    m.recv.conn_id = sock;
    m.recv.len = len;
    m.recv.flags = fin ? HO_CMD_RECV_FIN : 0;
    assert_int_equal(nic_msg(pl, &m), HO_OK);
    settle(pl);
}

/* Plays the NIC sending what the server gives it: acknowledges everything in flight until
 * nothing more comes. Returns the bytes of the SEND commands from command `from` on. */
static uint64_t nic_serve(struct plat *pl, uint32_t sock, uint64_t inflight, size_t from)
{
    uint64_t sent = 0;
    for (int rounds = 0; rounds < 1000; rounds++) {
        for (; from < pl->ncmds; from++) {
            struct ho_cmd cmd;
            cmd_at(pl, from, &cmd);
            assert_int_equal(cmd.type, HO_CMD_SEND);
            assert_int_equal(cmd.send.conn_id, sock);
            sent += cmd.send.len;
            inflight += cmd.send.len;
        }
        assert_true(inflight <= SNDBUF);
        if (inflight == 0) {
            return sent;
        }
        struct ho_cmd m = {.type = HO_CMD_ACKED};
        m.acked.count = 1;
        m.acked.entries[0].conn_id = sock;
        m.acked.entries[0].bytes = (uint32_t)inflight;
        assert_int_equal(nic_msg(pl, &m), HO_OK);
        inflight = 0;
        settle(pl);
        check_server(pl);
    }
    fail_msg("the server never finished sending");
    return sent;
}

/* Handed off at accept (FCFS): the request comes in RECV messages, the response goes out in
 * SEND commands, the close in CLOSE. */
static void test_request_on_nic_fcfs(void **state)
{
    (void)state;
    static const struct {
        uint32_t req_len;
        bool dynamic;
        uint64_t body;
    } rows[] = {{300, false, 5000}, {300, true, 2000}, {300, false, 60000}, {300, false, 0}};
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        struct ho_os_params op = os_params(4, fcfs);
        struct plat *pl = plat_new(&op);
        uint16_t port = (uint16_t)(13000 + r);
        add_request(pl, port, rows[r].req_len, rows[r].dynamic, rows[r].body);
        int c = start_client(pl, port);
        settle(pl);
        assert_int_equal(pl->ncmds, 1); /* HANDOFF at accept */
        client_send(pl, c, rows[r].req_len);
        settle(pl);
        struct ho_os_info info;
        ho_os_info(pl->os, &info);
        assert_true(info.pkts_held == 1);
        check_server(pl);
        nic_accept(pl, 1);
        assert_int_equal(pl->nfwd, 1);
        /* The NIC delivers the request in two parts. */
        nic_recv(pl, 1, 100, false);
        assert_int_equal(pl->request_calls, 1);
        assert_int_equal(pl->ncmds, 1); /* no response to part of a request */
        nic_recv(pl, 1, rows[r].req_len - 100, false);
        uint64_t sent = nic_serve(pl, 1, 0, 1);
        assert_true(sent == HO_APP_RESP_HDR_BYTES + rows[r].body);
        /* The client closes: the NIC delivers the FIN, the server closes. */
        size_t ncmds = pl->ncmds;
        nic_recv(pl, 1, 0, true);
        assert_int_equal(pl->ncmds, ncmds + 1);
        struct ho_cmd cmd;
        cmd_at(pl, ncmds, &cmd);
        assert_int_equal(cmd.type, HO_CMD_CLOSE);
        assert_int_equal(cmd.close.conn_id, 1);
        struct ho_cmd closed = {.type = HO_CMD_CLOSED};
        closed.closed.conn_id = 1;
        assert_int_equal(nic_msg(pl, &closed), HO_OK);
        settle(pl);
        ho_os_info(pl->os, &info);
        assert_true(info.on_nic == 0 && info.closed == 1);
        check_server(pl);
        static const enum step_kind reads[] = {S_READ, S_READ};
        assert_exchange(pl, "FCFS", reads, 2, false, rows[r].dynamic, rows[r].body, SNDBUF);
        plat_fini(pl);
    }
}

/* T1: handed off by the response's first append. The response then goes on after RESUMED,
 * through SEND commands, as the NIC acknowledges what travelled with the state. */
static void test_request_handed_off_by_response(void **state)
{
    (void)state;
    struct ho_sel_policy t1 = {.kind = HO_SEL_THRESH, .threshold = 1};
    struct ho_os_params op = os_params(4, t1);
    struct plat *pl = plat_new(&op);
    const uint64_t body = 50000;
    add_request(pl, 14000, 300, false, body);
    int c = start_client(pl, 14000);
    settle(pl);
    assert_int_equal(pl->ncmds, 0);
    client_send(pl, c, 300);
    settle(pl);
    assert_int_equal(pl->ncmds, 1);
    struct ho_cmd cmd;
    cmd_at(pl, 0, &cmd);
    assert_int_equal(cmd.type, HO_CMD_HANDOFF);
    uint64_t with_state = cmd.handoff.sockbuf.snd_unacked;
    /* T1 offers at the first append, the header's write: the header travels with the state. */
    assert_true(with_state == HO_APP_RESP_HDR_BYTES);
    size_t nlog = pl->nlog;
    nic_accept(pl, 1);
    /* RESUMED: the send goes on within the same system call (nothing new queued but the
     * driver's), and the buffer is full of what travelled with the state. */
    struct step got[8];
    assert_int_equal(server_steps(pl, nlog, got, 8), 0);
    uint64_t sent = nic_serve(pl, 1, with_state, 1);
    assert_true(with_state + sent == HO_APP_RESP_HDR_BYTES + body);
    size_t ncmds = pl->ncmds;
    nic_recv(pl, 1, 0, true);
    cmd_at(pl, ncmds, &cmd);
    assert_int_equal(cmd.type, HO_CMD_CLOSE);
    struct ho_cmd closed = {.type = HO_CMD_CLOSED};
    closed.closed.conn_id = 1;
    assert_int_equal(nic_msg(pl, &closed), HO_OK);
    settle(pl);
    check_server(pl);
    static const enum step_kind reads[] = {S_READ};
    assert_exchange(pl, "T1", reads, 1, false, false, body, SNDBUF);
    plat_fini(pl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_create, teardown),
        cmocka_unit_test_teardown(test_one_request, teardown),
        cmocka_unit_test_teardown(test_stale_step_does_nothing, teardown),
        cmocka_unit_test_teardown(test_check_catches_lost_wakeup, teardown),
        cmocka_unit_test_teardown(test_request_on_nic_fcfs, teardown),
        cmocka_unit_test_teardown(test_request_handed_off_by_response, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
