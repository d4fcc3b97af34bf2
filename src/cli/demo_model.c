/*
 * demo_model.c - the NIC queueing model behind `handoff demo` (see demo_model.h).
 *
 * Two kinds of event drive it: the next packet exchange arriving from the network (a Poisson
 * stream over all live connections), and the NIC processor finishing its current piece of work.
 * An exchange is one received packet and one packet sent back: for a connection on the host,
 * the received packet crosses the NIC to the host (HOST_RX) and the host's answer crosses it the
 * other way (HOST_TX); for a connection on the NIC, the NIC's TCP processes the received packet
 * (NIC_RX) and then generates the answer itself (NIC_TX). When a connection has made its last
 * exchange it ends and a new one takes its place, so the population stays fixed; the new one is
 * established on the host and the OS's selection policy decides whether to offer it to the NIC,
 * through a HANDOFF command that waits on the NIC's command queue like any other work.
 */
#include "demo_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/cmd.h"
#include "handoff/err.h"
#include "handoff/loadctl.h"
#include "handoff/lookup.h"
#include "handoff/rng.h"
#include "handoff/sched.h"
#include "handoff/select.h"

#define NS_PER_S  1000000000.0
#define HTTP_PORT 80

/* A connection, alive or ended with packets still queued. */
struct conn {
    struct tcpe_tuple tuple; /* from the server's side */
    uint32_t remaining;      /* exchanges left */
    uint32_t queued;         /* its items on the NIC's queues */
    bool ended;              /* made its last exchange */
    bool on_nic;             /* accepted by the NIC and in the lookup table */
    struct ho_sel_conn sel;  /* the OS's selection state */
    uint8_t cmd[128];        /* its encoded HANDOFF command, while queued */
    uint16_t cmd_len;
    uint32_t next_free; /* free-list link */
};

/* A growable array of delays, for medians. */
struct samples {
    float *v;
    size_t n, cap;
};

struct model {
    const struct demo_params *p;
    struct ho_rng rng;
    struct ho_sched *sched;
    struct ho_lookup *lookup; /* NULL without handoff */
    struct ho_lc lc;
    struct ho_sel sel;
    struct conn *conns; /* pool */
    uint32_t pool_size;
    uint32_t free_head;
    uint32_t *live;     /* clients slots -> pool index */
    uint32_t next_port; /* client ports, so tuples are unique */
    uint32_t cmd_seq;
    double ns_per_insn;
    uint64_t now;
    uint64_t measure_from;
    bool busy;
    uint64_t busy_until;
    struct ho_sched_item current;
    uint32_t current_cost;
    uint64_t busy_ns; /* measured busy time */
    uint64_t busy_interval_ns;
    uint64_t nic_pkts, host_pkts, conns_started, conns_accepted;
    struct samples recv_delay, send_delay;
    double soft_sum, cnum_sum, qlen_sum;
    uint64_t nsamples;
};

static int samples_add(struct samples *s, double v)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 4096;
        float *nv = realloc(s->v, cap * sizeof *nv);
        if (!nv) {
            return HO_ENOMEM;
        }
        s->v = nv;
        s->cap = cap;
    }
    s->v[s->n++] = (float)v;
    return HO_OK;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The q-quantile (0..1) of the samples, or 0 if there are none. Sorts them. */
static double samples_quantile(struct samples *s, double q)
{
    if (s->n == 0) {
        return 0;
    }
    qsort(s->v, s->n, sizeof *s->v, cmp_float);
    size_t i = (size_t)(q * (double)(s->n - 1) + 0.5);
    return s->v[i];
}

int demo_params_for(struct demo_params *p, const char *config)
{
    unsigned hard;
    char prio, lc;
    int used = 0;
    if (sscanf(config, "%u-%c-%c%n", &hard, &prio, &lc, &used) != 3 || config[used] != '\0' ||
        (prio != 'P' && prio != 'N') || (lc != 'L' && lc != 'N') || hard > 65536) {
        return -1;
    }
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", config);
    p->clients = 2048;
    p->hard_limit = hard;
    p->host_first = prio == 'P';
    p->load_control = lc == 'L' && hard > 0;
    p->nic_mips = 400;
    p->conn_rate = 60;
    p->lifetime_alpha = 1.2;
    p->lifetime_min = 2;
    p->cost_host_pkt = 600;
    p->cost_nic_rx = 3000;
    p->cost_nic_tx = 2000;
    p->cost_cmd = 2000;
    p->cost_probe = 20;
    p->rx_capacity = 2048;
    p->hiwat = 1024;
    p->lowat = 512;
    p->lc_step = 16;
    p->warmup_s = 2;
    p->measure_s = 4;
    p->sample_s = 0.01;
    p->seed = 1;
    return 0;
}

static uint32_t conn_alloc(struct model *m)
{
    uint32_t i = m->free_head;
    if (i == UINT32_MAX) {
        return UINT32_MAX;
    }
    m->free_head = m->conns[i].next_free;
    return i;
}

static void conn_free(struct model *m, uint32_t i)
{
    m->conns[i].next_free = m->free_head;
    m->free_head = i;
}

static uint32_t draw_lifetime(struct model *m)
{
    /* Pareto by inversion; capped so one connection cannot outlive the run many times over. */
    double u = 1.0 - ho_rng_unit(&m->rng);
    double x = m->p->lifetime_min / pow(u, 1.0 / m->p->lifetime_alpha);
    return x > 100000 ? 100000 : (uint32_t)x;
}

static bool measuring(const struct model *m)
{
    return m->now >= m->measure_from;
}

/* The NIC's answer to the host, and what the host learns from it: modelled as immediate. */
static void host_hears_soft_limit(struct model *m, int changed)
{
    if (changed > 0) {
        ho_sel_advertised(&m->sel, ho_lc_soft_limit(&m->lc));
    }
}

/* A connection on the NIC whose last item has been processed or dropped leaves the NIC. */
static void conn_maybe_release(struct model *m, uint32_t i)
{
    struct conn *c = &m->conns[i];
    if (!c->ended || c->queued > 0) {
        return;
    }
    if (c->on_nic) {
        ho_lookup_remove(m->lookup, &c->tuple);
        host_hears_soft_limit(m, ho_lc_conn_end(&m->lc, ho_sched_qlen(m->sched), m->now));
        ho_sel_left_nic(&m->sel, &c->sel);
    } else if (c->sel.state == HO_SEL_OFFERED) {
        return; /* its HANDOFF is still queued; released when the NIC refuses it */
    }
    conn_free(m, i);
}

/* Queues a piece of work for connection conn; aux carries lookup probes spent on it. */
static int enqueue(struct model *m, enum ho_sched_queue q, uint32_t conn, uint32_t aux)
{
    int rc = ho_sched_enqueue(m->sched, q, conn, aux, m->now);
    if (rc == HO_OK) {
        m->conns[conn].queued++;
    }
    return rc;
}

/* A new connection is established on the host; the OS may offer it to the NIC. */
static int conn_start(struct model *m, uint32_t slot)
{
    uint32_t i = conn_alloc(m);
    if (i == UINT32_MAX) {
        return HO_ENOMEM;
    }
    struct conn *c = &m->conns[i];
    uint32_t port = 1024 + m->next_port++ % 60000;
    uint32_t client = m->next_port / 60000;
    *c = (struct conn){
        .tuple = {.local_ip = 0x0a000001,
                  .remote_ip = 0x0a010000 + client,
                  .local_port = HTTP_PORT,
                  .remote_port = (uint16_t)port},
        .remaining = draw_lifetime(m),
    };
    m->live[slot] = i;
    if (measuring(m)) {
        m->conns_started++;
    }
    if (ho_sel_established(&m->sel, &c->sel, HTTP_PORT) != HO_SEL_OFFER) {
        return HO_OK;
    }
    struct ho_cmd cmd = {.type = HO_CMD_HANDOFF, .seq = m->cmd_seq++};
    cmd.handoff.conn_id = i;
    cmd.handoff.tuple = c->tuple;
    int len = ho_cmd_encode(&cmd, c->cmd, sizeof c->cmd);
    if (len < 0) {
        return len;
    }
    c->cmd_len = (uint16_t)len;
    if (enqueue(m, HO_SCHED_CMD, i, 0) != HO_OK) {
        ho_sel_reply(&m->sel, &c->sel, 0); /* the command ring is full: a refusal */
    }
    return HO_OK;
}

/* The next exchange arrives from the network for a random live connection. */
static int exchange_arrives(struct model *m)
{
    uint32_t slot = (uint32_t)ho_rng_below(&m->rng, m->p->clients);
    uint32_t i = m->live[slot];
    struct conn *c = &m->conns[i];

    int hit = m->lookup ? ho_lookup_find(m->lookup, &c->tuple) : HO_ENOENT;
    uint32_t probes = m->lookup ? ho_lookup_last_probes(m->lookup) : 0;
    enum ho_sched_queue q = hit >= 0 ? HO_SCHED_NIC_RX : HO_SCHED_HOST_RX;
    enqueue(m, q, i, probes); /* a full receive queue drops: the scheduler counts it */
    if (m->lookup) {
        host_hears_soft_limit(m, ho_lc_packet(&m->lc, ho_sched_qlen(m->sched), m->now));
    }
    if (q == HO_SCHED_HOST_RX) {
        /* The host answers at once (its processor is not modelled). */
        enqueue(m, HO_SCHED_HOST_TX, i, 0);
    }
    if (--c->remaining == 0) {
        c->ended = true;
        int rc = conn_start(m, slot);
        conn_maybe_release(m, i);
        return rc;
    }
    return HO_OK;
}

static uint32_t work_cost(struct model *m, const struct ho_sched_item *it)
{
    uint32_t lookup = m->p->cost_probe * it->aux;
    switch (it->queue) {
    case HO_SCHED_HOST_RX:
        return m->p->cost_host_pkt + lookup;
    case HO_SCHED_HOST_TX:
        return m->p->cost_host_pkt;
    case HO_SCHED_NIC_RX:
        return m->p->cost_nic_rx + lookup;
    case HO_SCHED_NIC_TX:
        return m->p->cost_nic_tx;
    case HO_SCHED_CMD:
    default:
        return m->p->cost_cmd;
    }
}

/* The NIC takes a HANDOFF command: decode it, admit or refuse, answer the host. */
static void take_command(struct model *m, uint32_t i)
{
    struct conn *c = &m->conns[i];
    struct ho_cmd cmd;
    int rc = ho_cmd_decode(c->cmd, c->cmd_len, &cmd);
    bool ok = rc == HO_OK && cmd.type == HO_CMD_HANDOFF && cmd.handoff.conn_id == i && !c->ended;
    if (ok) {
        int adm = ho_lc_admit(&m->lc, ho_sched_qlen(m->sched), m->now);
        ok = adm >= 0 && ho_lookup_insert(m->lookup, &c->tuple, i) == HO_OK;
        host_hears_soft_limit(m, adm);
        if (adm >= 0 && !ok) {
            host_hears_soft_limit(m, ho_lc_conn_end(&m->lc, ho_sched_qlen(m->sched), m->now));
        }
    }
    ho_sel_reply(&m->sel, &c->sel, ok);
    c->on_nic = ok;
    if (ok && measuring(m)) {
        m->conns_accepted++;
    }
}

static void work_done(struct model *m)
{
    struct ho_sched_item *it = &m->current;
    uint32_t i = (uint32_t)it->handle;
    struct conn *c = &m->conns[i];
    double delay_us = (double)(m->now - it->enq_ns) / 1000.0;
    bool meas = measuring(m) && it->enq_ns >= m->measure_from;
    c->queued--;
    switch (it->queue) {
    case HO_SCHED_HOST_RX:
        if (meas) {
            samples_add(&m->recv_delay, delay_us);
            m->host_pkts++;
        }
        break;
    case HO_SCHED_HOST_TX:
        if (meas) {
            samples_add(&m->send_delay, delay_us);
            m->host_pkts++;
        }
        break;
    case HO_SCHED_NIC_RX:
        if (meas) {
            m->nic_pkts++;
        }
        enqueue(m, HO_SCHED_NIC_TX, i, 0);
        break;
    case HO_SCHED_NIC_TX:
        if (meas) {
            m->nic_pkts++;
        }
        break;
    case HO_SCHED_CMD:
        take_command(m, i);
        break;
    default:
        break;
    }
    conn_maybe_release(m, i);
}

/* If the NIC is idle and has work, start the next piece under the scheduler's discipline. */
static void nic_start(struct model *m)
{
    if (m->busy || ho_sched_dequeue(m->sched, m->now, &m->current) != HO_OK) {
        return;
    }
    m->current_cost = work_cost(m, &m->current);
    uint64_t dur = (uint64_t)llround(m->current_cost * m->ns_per_insn);
    m->busy = true;
    m->busy_until = m->now + dur;
}

/* Accounts the NIC's busy time over [from, to). */
static void account_busy(struct model *m, uint64_t from, uint64_t to)
{
    if (!m->busy || to <= from) {
        return;
    }
    uint64_t end = m->busy_until < to ? m->busy_until : to;
    if (end > from) {
        m->busy_interval_ns += end - from;
        if (from >= m->measure_from) {
            m->busy_ns += end - from;
        } else if (end > m->measure_from) {
            m->busy_ns += end - m->measure_from;
        }
    }
}

static int model_init(struct model *m, const struct demo_params *p)
{
    memset(m, 0, sizeof *m);
    m->p = p;
    ho_rng_seed_named(&m->rng, p->seed, p->name);
    m->ns_per_insn = 1000.0 / p->nic_mips;
    struct ho_sched_params sp = {
        .discipline = p->host_first ? HO_SCHED_HOST_FIRST : HO_SCHED_FCFS,
        .rx_capacity = p->rx_capacity,
        .host_tx_capacity = p->rx_capacity,
        .cmd_capacity = p->clients,
        .nic_tx_capacity = p->rx_capacity,
    };
    m->sched = ho_sched_create(&sp);
    if (!m->sched) {
        return HO_EINVAL;
    }
    struct ho_sel_policy pol = {.kind = p->hard_limit ? HO_SEL_FCFS : HO_SEL_NEVER};
    if (p->hard_limit) {
        struct ho_lookup_params lp = {.capacity = p->hard_limit, .hash_seed = p->seed};
        m->lookup = ho_lookup_create(&lp);
        struct ho_lc_params lcp;
        ho_lc_params_default(&lcp, p->hard_limit);
        lcp.hiwat = p->hiwat;
        lcp.lowat = p->lowat;
        lcp.step = p->lc_step;
        lcp.enabled = p->load_control;
        if (!m->lookup || ho_lc_init(&m->lc, &lcp) != HO_OK) {
            return HO_EINVAL;
        }
    }
    if (ho_sel_init(&m->sel, &pol, p->hard_limit) != HO_OK) {
        return HO_EINVAL;
    }
    /* Every connection holds at most one live slot or some queued items. */
    m->pool_size = p->clients + 4 * p->rx_capacity + p->clients;
    m->conns = calloc(m->pool_size, sizeof *m->conns);
    m->live = calloc(p->clients, sizeof *m->live);
    if (!m->conns || !m->live) {
        return HO_ENOMEM;
    }
    for (uint32_t i = 0; i < m->pool_size; i++) {
        m->conns[i].next_free = i + 1 < m->pool_size ? i + 1 : UINT32_MAX;
    }
    m->free_head = 0;
    m->measure_from = (uint64_t)(p->warmup_s * NS_PER_S);
    return HO_OK;
}

static void model_free(struct model *m)
{
    ho_sched_destroy(m->sched);
    ho_lookup_destroy(m->lookup);
    free(m->conns);
    free(m->live);
    free(m->recv_delay.v);
    free(m->send_delay.v);
}

static double exp_gap_ns(struct model *m, double rate_per_s)
{
    double u = 1.0 - ho_rng_unit(&m->rng);
    return -log(u) / rate_per_s * NS_PER_S;
}

static void take_sample(struct model *m, uint64_t interval_ns, demo_sample_fn fn, void *ctx)
{
    struct demo_sample s = {
        .t_s = (double)m->now / NS_PER_S,
        .soft_limit = m->lookup ? ho_lc_soft_limit(&m->lc) : 0,
        .cnum = m->lookup ? ho_lc_cnum(&m->lc) : 0,
        .qlen = ho_sched_qlen(m->sched),
        .nic_busy = (double)m->busy_interval_ns / (double)interval_ns,
    };
    m->busy_interval_ns = 0;
    if (measuring(m)) {
        m->soft_sum += s.soft_limit;
        m->cnum_sum += s.cnum;
        m->qlen_sum += s.qlen;
        m->nsamples++;
    }
    if (fn) {
        fn(ctx, &s);
    }
}

int demo_run(const struct demo_params *p, struct demo_result *r, demo_sample_fn sample, void *ctx)
{
    struct model m;
    int rc = model_init(&m, p);
    for (uint32_t s = 0; rc == HO_OK && s < p->clients; s++) {
        rc = conn_start(&m, s);
    }
    const double rate = p->clients * p->conn_rate;
    const uint64_t end = m.measure_from + (uint64_t)(p->measure_s * NS_PER_S);
    const uint64_t interval = (uint64_t)(p->sample_s * NS_PER_S);
    uint64_t next_arrival = (uint64_t)exp_gap_ns(&m, rate);
    uint64_t next_sample = interval;

    bool counters_reset = false;
    while (rc == HO_OK && m.now < end) {
        if (!counters_reset && measuring(&m)) {
            ho_sched_reset_counters(m.sched); /* drops count from the end of warm-up */
            counters_reset = true;
        }
        uint64_t t = next_arrival;
        if (m.busy && m.busy_until < t) {
            t = m.busy_until;
        }
        if (next_sample < t) {
            t = next_sample;
        }
        account_busy(&m, m.now, t);
        m.now = t;
        if (m.busy && m.busy_until == t) {
            m.busy = false;
            work_done(&m);
        } else if (t == next_sample) {
            take_sample(&m, interval, sample, ctx);
            next_sample += interval;
        } else {
            rc = exchange_arrives(&m);
            next_arrival = t + (uint64_t)exp_gap_ns(&m, rate) + 1;
        }
        nic_start(&m);
    }

    if (rc == HO_OK) {
        memset(r, 0, sizeof *r);
        double measured_ns = p->measure_s * NS_PER_S;
        r->nic_idle_pct = 100.0 * (1.0 - (double)m.busy_ns / measured_ns);
        r->packets = m.nic_pkts + m.host_pkts;
        r->nic_packet_share = r->packets ? (double)m.nic_pkts / (double)r->packets : 0;
        r->host_recv_delay_med_us = samples_quantile(&m.recv_delay, 0.5);
        r->host_send_delay_med_us = samples_quantile(&m.send_delay, 0.5);
        r->host_recv_delay_p99_us = samples_quantile(&m.recv_delay, 0.99);
        r->host_send_delay_p99_us = samples_quantile(&m.send_delay, 0.99);
        struct ho_sched_counters hc, nc;
        ho_sched_get_counters(m.sched, HO_SCHED_HOST_RX, &hc);
        ho_sched_get_counters(m.sched, HO_SCHED_NIC_RX, &nc);
        r->rx_drops = hc.dropped + nc.dropped;
        r->connections = m.conns_started;
        r->handed_off_share =
            m.conns_started ? (double)m.conns_accepted / (double)m.conns_started : 0;
        if (m.nsamples) {
            r->soft_limit_mean = m.soft_sum / (double)m.nsamples;
            r->cnum_mean = m.cnum_sum / (double)m.nsamples;
            r->qlen_mean = m.qlen_sum / (double)m.nsamples;
        }
        r->adverts = m.lookup ? m.lc.adverts : 0;
    }
    model_free(&m);
    return rc;
}
