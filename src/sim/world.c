/*
 * world.c - one simulated run: builds the parts (wire.c, clients.c, nic.c, host.c), runs the
 * event loop through the warm-up and measured phases, collects the paper's metrics and checks
 * conservation at the end (see include/handoff/sim_world.h); on request it then drains the run
 * (the clients stop, outstanding requests must complete) to tell slow requests from lost ones.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/assert.h"
#include "handoff/err.h"
#include "handoff/sim_time.h"
#include "world_priv.h"

void world_fail(struct sim_world *w, const char *fmt, ...)
{
    if (w->failure[0]) {
        return; /* keep the first failure */
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->failure, sizeof w->failure, fmt, ap);
    va_end(ap);
}

uint64_t world_run_timers(struct tcpe_stack *s, uint64_t now)
{
    const struct tcpe_stats *st = tcpe_stack_stats(s);
    uint64_t fired = st->delayed_acks + st->timeouts + st->persist_probes;
    uint32_t conns = tcpe_stack_conn_count(s);
    tcpe_stack_timers(s, now);
    uint32_t after = tcpe_stack_conn_count(s);
    return st->delayed_acks + st->timeouts + st->persist_probes - fired +
           (conns > after ? conns - after : 0);
}

void world_stack_timer(struct sim_world *w, struct tcpe_stack *s, uint64_t *at, uint64_t *handle,
                       sim_event_fn fn, uint64_t now)
{
    uint64_t next = tcpe_stack_next_wake(s);
    if (next == *at) {
        return;
    }
    if (*at != TCPE_NEVER) {
        sim_evq_cancel(w->evq, *handle);
    }
    *at = next;
    if (next != TCPE_NEVER) {
        int rc = sim_evq_schedule(w->evq, next > now ? next : now, fn, w, 0, handle);
        HO_ASSERT(rc == HO_OK, "cannot schedule a TCP timer: %s", ho_strerror(rc));
    }
}

void sim_world_set_pcap(struct sim_world *w, struct sim_pcap *pc)
{
    w->pcap = pc;
}

static uint64_t retransmits(const struct sim_world *w)
{
    return tcpe_stack_stats(w->host_stack)->rexmt_segs + tcpe_stack_stats(w->cli_stack)->rexmt_segs;
}

static void start_measuring(struct sim_world *w, uint64_t now)
{
    w->measuring = true;
    w->measure_start_ns = now;
    sim_cpu_reset_stats(w->host_cpu, now);
    sim_cpu_reset_stats(w->nic_cpu, now);
    ho_sched_reset_counters(w->nic_q);
    w->retrans_base = retransmits(w);
    w->host_busy_prev = w->nic_busy_prev = 0;
    w->host_elapsed_prev = w->nic_elapsed_prev = 0;
}

void world_packet_on_wire(struct sim_world *w, struct sim_pkt *p, uint64_t now)
{
    w->wire_packets++;
    p->measured = w->measuring;
    if (!w->measuring && w->wire_packets > w->cfg.warmup_packets) {
        start_measuring(w, now);
        p->measured = true;
    }
    if (w->measuring && !w->done &&
        w->wire_packets >= w->cfg.warmup_packets + w->cfg.measure_packets) {
        w->done = true;
        w->measure_end_ns = now;
    }
}

static int push_sample(float **v, uint64_t *n, uint64_t *cap, double x)
{
    if (*n == *cap) {
        uint64_t c = *cap ? *cap * 2 : 65536;
        float *nv = realloc(*v, c * sizeof *nv);
        if (!nv) {
            return HO_ENOMEM;
        }
        *v = nv;
        *cap = c;
    }
    (*v)[(*n)++] = (float)x;
    return HO_OK;
}

void world_delay_sample(struct sim_world *w, bool rx, uint64_t ns)
{
    if (!w->measuring || w->done) {
        return;
    }
    int rc = rx ? push_sample(&w->delay_rx, &w->ndelay_rx, &w->cap_delay_rx, (double)ns / 1e3)
                : push_sample(&w->delay_tx, &w->ndelay_tx, &w->cap_delay_tx, (double)ns / 1e3);
    HO_ASSERT(rc == HO_OK, "out of memory for delay samples");
}

void world_request_done(struct sim_world *w, uint64_t response_ns, uint32_t bytes, bool exact)
{
    if (!exact) {
        w->bad_responses++;
    }
    if (!w->measuring || w->done) {
        return;
    }
    w->m_requests++;
    w->m_resp_bytes += bytes;
    w->m_resp_ns += response_ns;
}

bool world_conn_established(struct sim_world *w)
{
    if (w->measuring && !w->done) {
        w->m_conns++;
        return true;
    }
    return false;
}

void world_conn_handed_off(struct sim_world *w)
{
    if (w->measuring && !w->done) {
        w->m_conns_nic++;
    }
}

void world_nic_packet(struct sim_world *w)
{
    if (w->measuring && !w->done) {
        w->m_nic_pkts++;
    }
}

int sim_world_create(const struct sim_config *c, struct sim_world **out, struct sim_config_err *err)
{
    if (sim_config_check(c, err) != 0) {
        return -1;
    }
    struct sim_world *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err->msg, sizeof err->msg, "out of memory");
        return -1;
    }
    w->cfg = *c;
    w->msg_free = UINT32_MAX;
    w->nclients = sim_config_clients(c);
    struct sim_evq_params ep = {.initial_capacity = 8 * w->nclients};
    if (sim_evq_create(&ep, &w->evq) != HO_OK || wire_init(w) != HO_OK || nic_init(w) != HO_OK ||
        host_init(w) != HO_OK) {
        snprintf(err->msg, sizeof err->msg, "cannot build the simulated machines");
        sim_world_destroy(w);
        return -1;
    }
    if (clients_init(w, err) != 0) {
        sim_world_destroy(w);
        return -1;
    }
    *out = w;
    return 0;
}

void sim_world_destroy(struct sim_world *w)
{
    if (!w) {
        return;
    }
    if (w->cli_stack || w->wl) {
        clients_fini(w);
    }
    host_fini(w);
    nic_fini(w);
    pkt_pool_fini(w);
    pci_fini(w);
    sim_evq_destroy(w->evq);
    free(w->delay_rx);
    free(w->delay_tx);
    free(w);
}

static double busy_since(const struct sim_cpu_stats *st, uint64_t *busy_prev,
                         uint64_t *elapsed_prev)
{
    uint64_t busy = st->elapsed_cycles - st->idle_cycles;
    uint64_t db = busy - *busy_prev, de = st->elapsed_cycles - *elapsed_prev;
    *busy_prev = busy;
    *elapsed_prev = st->elapsed_cycles;
    return de ? (double)db / (double)de : 0;
}

static void tick(void *ctx, uint64_t arg, uint64_t now)
{
    struct sim_world *w = ctx;
    struct world_tick *t = &w->tick;
    (void)arg;
    struct sim_cpu_stats hs, ns;
    sim_cpu_stats(w->host_cpu, now, &hs);
    sim_cpu_stats(w->nic_cpu, now, &ns);
    struct sim_sample s = {
        .t_s = (double)now / 1e9,
        .nic_rxq = ho_sched_qlen(w->nic_q),
        .soft_limit = w->lookup ? ho_lc_soft_limit(&w->lc) : 0,
        .cnum = w->lookup ? ho_lc_cnum(&w->lc) : 0,
        .host_busy = busy_since(&hs, &w->host_busy_prev, &w->host_elapsed_prev),
        .nic_busy = busy_since(&ns, &w->nic_busy_prev, &w->nic_elapsed_prev),
    };
    if (w->measuring && !w->done) {
        w->soft_sum += s.soft_limit;
        w->cnum_sum += s.cnum;
        w->nsamples++;
    }
    if (t->sample) {
        t->sample(t->ctx, &s);
    }
    /* The NIC's firmware never sleeps with work queued: whatever queues work wakes it. */
    if (!w->nic_busy && ho_sched_total_len(w->nic_q) > 0) {
        struct ho_sched_item head;
        ho_sched_peek(w->nic_q, &head);
        world_fail(
            w, "the NIC is idle at t = %.6f s with %u items queued, the next on %s since %.6f s",
            s.t_s, ho_sched_total_len(w->nic_q), ho_sched_queue_name(head.queue),
            (double)head.enq_ns / 1e9);
    }
    /* A run in which nothing crosses the wire for 60 simulated seconds cannot finish. */
    t->idle_ticks = w->wire_packets == t->last_packets ? t->idle_ticks + 1 : 0;
    t->last_packets = w->wire_packets;
    if (t->idle_ticks * t->interval > 60 * SIM_NS_PER_S) {
        world_fail(w, "no packet crossed the wire for 60 simulated seconds at t = %.3f s", s.t_s);
    }
    int rc = sim_evq_schedule(w->evq, now + t->interval, tick, w, 0, NULL);
    HO_ASSERT(rc == HO_OK, "cannot schedule the sampler");
}

/* The checks every run ends with. */
static void check_conservation(struct sim_world *w)
{
    for (int d = 0; d < 2; d++) {
        const struct wire_dir *x = &w->wire[d];
        if (x->sent != x->delivered + x->in_flight) {
            world_fail(w, "wire direction %d: %llu sent, %llu delivered, %llu in flight", d,
                       (unsigned long long)x->sent, (unsigned long long)x->delivered,
                       (unsigned long long)x->in_flight);
        }
    }
    if (w->bad_responses) {
        world_fail(w, "%llu responses did not carry exactly their bytes",
                   (unsigned long long)w->bad_responses);
    }
    /* Every live packet is in exactly one place; every message sent was taken or is queued. */
    uint64_t running_pkt = w->nic_busy && !nic_item_is_msg(&w->nic_item);
    uint64_t nic_q_pkts = ho_sched_total_len(w->nic_q) - w->msgs_in_nic_q;
    uint64_t placed = w->wire[0].in_flight + w->wire[1].in_flight + nic_q_pkts + running_pkt +
                      w->pkts_in_host_tasks + w->pkts_held;
    if (w->live_pkts != placed) {
        world_fail(w,
                   "%u packets alive, but %llu on the wire, in NIC queues, on the NIC's "
                   "processor, in host tasks or held",
                   w->live_pkts, (unsigned long long)placed);
    }
    host_check(w);
    /* No connection is owned by both host and NIC, or by neither. */
    if (w->lookup) {
        uint32_t on_nic = 0, offered = 0;
        for (uint32_t i = 0; i < w->nsrv; i++) {
            const struct srv_conn *s = &w->srv[i];
            if (!s->in_use) {
                continue;
            }
            on_nic += s->where == SRV_ON_NIC;
            offered += s->where == SRV_OFFERED;
            if ((s->where == SRV_HOST) != (s->conn != NULL)) {
                world_fail(w, "server connection %u: host ownership inconsistent", i);
            }
        }
        /* The NIC's count differs from the host's only by the messages in flight. */
        uint32_t nic_view = on_nic + w->accepts_in_flight - w->closes_in_flight;
        if (nic_view != ho_lc_cnum(&w->lc) || nic_view != ho_lookup_count(w->lookup) ||
            w->sel.on_nic != on_nic + offered) {
            world_fail(w,
                       "ownership: %u connections on the NIC by the host's count (%u accepts "
                       "and %u closes in flight), Cnum %u, %u in the lookup table, %u offered "
                       "or on the NIC by the driver",
                       on_nic, w->accepts_in_flight, w->closes_in_flight, ho_lc_cnum(&w->lc),
                       ho_lookup_count(w->lookup), w->sel.on_nic);
        }
    }
}

int sim_world_run(struct sim_world *w, uint64_t sample_ns, sim_sample_fn sample,
                  sim_progress_fn progress, void *ctx, struct sim_config_err *err)
{
    w->tick = (struct world_tick){
        .interval = sample_ns ? sample_ns : 10 * SIM_NS_PER_MS,
        .sample = sample,
        .ctx = ctx,
    };
    clients_start(w, 0);
    sim_evq_schedule(w->evq, w->tick.interval, tick, w, 0, NULL);
    uint64_t total = w->cfg.warmup_packets + w->cfg.measure_packets;
    uint64_t n = 0;
    while (!w->done && !w->failure[0]) {
        if (sim_evq_run_next(w->evq) != 1) {
            world_fail(w, "the simulation ran out of events");
            break;
        }
        if (progress && (++n & 0xfffff) == 0) {
            progress(ctx, w->wire_packets, total);
        }
    }
    if (!w->failure[0]) {
        check_conservation(w);
    }
    if (w->failure[0]) {
        snprintf(err->msg, sizeof err->msg, "%s", w->failure);
        return -1;
    }
    return 0;
}

int sim_world_drain(struct sim_world *w, uint64_t max_ns, struct sim_config_err *err)
{
    if (!w->done || w->failure[0]) {
        snprintf(err->msg, sizeof err->msg, "only a run that finished can be drained");
        return -1;
    }
    w->draining = true;
    w->tick.sample = NULL; /* the caller's sampler was for the run */
    uint64_t deadline = sim_evq_now(w->evq) + max_ns;
    uint32_t left = clients_outstanding(w);
    for (uint64_t n = 1; left > 0 && !w->failure[0] && sim_evq_now(w->evq) < deadline; n++) {
        if (sim_evq_run_next(w->evq) != 1) {
            world_fail(w, "the simulation ran out of events");
            break;
        }
        if ((n & 1023) == 0) {
            left = clients_outstanding(w); /* a scan of the clients, so not after every event */
        }
    }
    if (!w->failure[0]) {
        check_conservation(w);
    }
    if (w->failure[0]) {
        snprintf(err->msg, sizeof err->msg, "while draining: %s", w->failure);
        return -1;
    }
    return (int)clients_outstanding(w);
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static double median(float *v, uint64_t n)
{
    if (n == 0) {
        return 0;
    }
    qsort(v, n, sizeof *v, cmp_float);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

void sim_world_metrics(const struct sim_world *w, struct sim_metrics *m)
{
    memset(m, 0, sizeof *m);
    uint64_t end = w->done ? w->measure_end_ns : sim_evq_now(w->evq);
    double secs = (double)(end - w->measure_start_ns) / 1e9;
    m->measured_s = secs;
    if (secs <= 0) {
        return;
    }
    m->requests = w->m_requests;
    m->packets = w->cfg.measure_packets;
    m->requests_per_s = (double)w->m_requests / secs;
    m->http_mbps = (double)w->m_resp_bytes * 8 / secs / 1e6;
    m->packets_per_s = (double)m->packets / secs;
    m->connections_per_s = (double)w->m_conns / secs;
    m->nic_connection_share = w->m_conns ? (double)w->m_conns_nic / (double)w->m_conns : 0;
    m->nic_packet_share = (double)w->m_nic_pkts / (double)m->packets;
    struct sim_cpu_stats hs, ns;
    sim_cpu_stats(w->host_cpu, end, &hs);
    sim_cpu_stats(w->nic_cpu, end, &ns);
    double he = (double)hs.elapsed_cycles, ne = (double)ns.elapsed_cycles;
    if (he > 0) {
        m->host_user_pct = 100.0 * (double)hs.busy_cycles[CAT_USER] / he;
        m->host_net_pct = 100.0 * (double)hs.busy_cycles[CAT_NET] / he;
        m->host_os_pct = 100.0 * (double)(hs.busy_cycles[CAT_OS] + hs.busy_cycles[CAT_NET]) / he;
        m->host_idle_pct = 100.0 * (double)hs.idle_cycles / he;
    }
    if (ne > 0) {
        m->nic_idle_pct = 100.0 * (double)ns.idle_cycles / ne;
        m->nic_host_pct = 100.0 * (double)ns.busy_cycles[NIC_CAT_HOST] / ne;
        m->nic_tcp_pct = 100.0 * (double)ns.busy_cycles[NIC_CAT_TCP] / ne;
        m->nic_msg_pct = 100.0 * (double)ns.busy_cycles[NIC_CAT_MSG] / ne;
    }
    /* Medians sort the sample arrays in place; their order carries no information. */
    struct sim_world *mw = (struct sim_world *)(uintptr_t)w;
    m->host_recv_delay_median_us = median(mw->delay_rx, w->ndelay_rx);
    m->host_send_delay_median_us = median(mw->delay_tx, w->ndelay_tx);
    m->mean_response_ms = w->m_requests ? (double)w->m_resp_ns / (double)w->m_requests / 1e6 : 0;
    struct ho_sched_counters hc, nc;
    ho_sched_get_counters(w->nic_q, HO_SCHED_HOST_RX, &hc);
    ho_sched_get_counters(w->nic_q, HO_SCHED_NIC_RX, &nc);
    m->nic_rx_drops = hc.dropped + nc.dropped;
    m->retransmits = retransmits(w) - w->retrans_base;
    m->soft_limit_mean = w->nsamples ? w->soft_sum / (double)w->nsamples : 0;
    m->nic_connections_mean = w->nsamples ? w->cnum_sum / (double)w->nsamples : 0;
    struct sim_evq_stats es;
    sim_evq_stats(w->evq, &es);
    m->events = es.popped;
    /* Stalled: outstanding, and no response byte for far longer than requests take on average
     * (and over a second). A large response that is still arriving is slow, not stalled. */
    uint64_t patience = (uint64_t)(20 * m->mean_response_ms * 1e6);
    patience = patience > SIM_NS_PER_S ? patience : SIM_NS_PER_S;
    for (uint32_t i = 0; i < w->nclients; i++) {
        const struct client *c = &w->clients[i];
        m->stalled_requests += c->conn && c->waiting && end > c->moved_at + patience;
    }
    m->host_misses_per_packet =
        w->m_host_pkts ? (double)w->m_host_misses / (double)w->m_host_pkts : 0;
}
