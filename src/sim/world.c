/*
 * world.c - one simulated run (see include/handoff/sim_world.h): builds the parts and connects
 * them, runs the event loop through the warm-up and measured phases, collects the paper's metrics
 * and checks conservation at the end; on request it then drains the run (the clients stop,
 * outstanding requests must complete) to tell slow requests from lost ones.
 *
 *   clients.c  <-> wire.c <->  nic_run.c (src/nic/)  <-> pci.c <->  host_run.c (src/os/, src/app/)
 *
 * Each part knows only the parts on its right-hand side of the call: the wire delivers frames
 * and the bus carries packets and messages to entry points this file connects, so no part calls
 * back into one that calls it. Every part reports to the meter (meter.c); this file alone opens
 * and closes the measured window.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clients.h"
#include "handoff/assert.h"
#include "handoff/err.h"
#include "handoff/sim_time.h"
#include "handoff/sim_world.h"
#include "host_run.h"
#include "meter.h"
#include "nic_run.h"
#include "pci.h"
#include "pool.h"
#include "wire.h"

struct sim_world {
    struct sim_config cfg;
    struct sim_evq *evq;
    struct sim_pool pool;
    struct sim_meter meter;
    struct sim_wire wire;
    struct sim_pci pci;
    struct sim_clients clients;
    struct sim_nic nic;
    struct sim_host host;

    /* The sampler: the time series, and the watch for a run in which nothing moves. */
    struct world_tick {
        uint64_t interval;
        sim_sample_fn sample;
        void *ctx;
        uint64_t last_packets, idle_ticks;
    } tick;

    /* The measured window, and what was counted before it opened. */
    uint64_t measure_start_ns, measure_end_ns;
    uint64_t retrans_base, nic_retrans_base, host_pkts_base, ifq_drops_base, given_back_base;
    double soft_sum, cnum_sum;
    uint64_t nsamples;
    uint64_t host_busy_prev, nic_busy_prev, host_elapsed_prev, nic_elapsed_prev;

    /* Faults (cfg.fault): requests completed in each sampling interval of the run, to time the
     * recovery, and when the NIC was reset. */
    uint32_t *done_per_tick;
    uint64_t nticks, cap_ticks, last_all_requests;
    uint64_t reset_at; /* 0: no reset yet */
    uint64_t hang_at;  /* 0: no hang yet */
};

/* Segments sent again by the NIC's TCP (none without handoff). */
static uint64_t nic_retransmits(const struct sim_world *w)
{
    struct ho_nic_info ni;
    ho_nic_info(w->nic.fw, &ni);
    return ni.tcp ? ni.tcp->rexmt_segs : 0;
}

/* Segments sent again by every TCP in the world: the host's, the NIC's and the clients'. */
static uint64_t retransmits(const struct sim_world *w)
{
    struct ho_os_info oi;
    ho_os_info(w->host.os, &oi);
    return oi.tcp->rexmt_segs + nic_retransmits(w) + clients_retransmits(&w->clients);
}

static void start_measuring(struct sim_world *w, uint64_t now)
{
    w->meter.measuring = true;
    w->measure_start_ns = now;
    sim_cpu_reset_stats(w->host.cpu, now);
    sim_cpu_reset_stats(w->nic.cpu, now);
    ho_nic_reset_counters(w->nic.fw);
    struct ho_os_info oi;
    ho_os_info(w->host.os, &oi);
    w->retrans_base = retransmits(w);
    w->nic_retrans_base = nic_retransmits(w);
    w->host_pkts_base = oi.pkts;
    w->ifq_drops_base = oi.ifq_drops;
    w->given_back_base = oi.given_back;
    w->host_busy_prev = w->nic_busy_prev = 0;
    w->host_elapsed_prev = w->nic_elapsed_prev = 0;
}

/* A frame went on the wire: the phases of the run are counted in frames. */
static void on_wire(void *ctx, uint64_t now)
{
    struct sim_world *w = ctx;
    uint64_t n = w->wire.packets;
    if (!w->meter.measuring && n > w->cfg.warmup_packets) {
        start_measuring(w, now);
    }
    if (w->meter.measuring && !w->meter.done &&
        n >= w->cfg.warmup_packets + w->cfg.measure_packets) {
        w->meter.done = true;
        w->measure_end_ns = now;
    }
}

static void deliver(void *ctx, int dir, struct ho_pkt *p, uint64_t now)
{
    struct sim_world *w = ctx;
    if (dir == DIR_TO_SERVER) {
        nic_run_wire_rx(&w->nic, p, now);
    } else {
        clients_rx(&w->clients, p, now);
    }
}

static void lost(void *ctx, struct ho_pkt *p)
{
    struct sim_world *w = ctx;
    pool_free(&w->pool, p);
}

/* ---- faults (docs/failures.md) ------------------------------------------------------------ */

enum {
    FAULT_NIC_RESET = 1,
    FAULT_REFUSE = 2,
    FAULT_NIC_HANG = 3,
    FAULT_NIC_UPLOAD = 4,
    FAULT_HOST_RECLAIM = 5,
    STEP_NIC_MIPS = 6
};

static void fault_event(void *ctx, uint64_t which, uint64_t now)
{
    struct sim_world *w = ctx;
    switch (which) {
    case FAULT_NIC_RESET:
        w->reset_at = now;
        ho_nic_reset(w->nic.fw, now);
        break;
    case FAULT_REFUSE:
        ho_nic_refuse(w->nic.fw, true, now);
        break;
    case FAULT_NIC_UPLOAD:
        (void)ho_nic_upload(w->nic.fw, now);
        break;
    case FAULT_HOST_RECLAIM:
        (void)ho_os_restore_all(w->host.os, now);
        break;
    case STEP_NIC_MIPS: {
        int rc = sim_cpu_set_hz(w->nic.cpu, (uint64_t)w->cfg.step.nic_mips * 1000000, now);
        HO_ASSERT(rc == HO_OK, "cannot change the NIC's rate: %s", ho_strerror(rc));
        break;
    }
    case FAULT_NIC_HANG:
        w->hang_at = now;
        nic_run_hang(&w->nic, now + w->cfg.fault.nic_hang_ms * SIM_NS_PER_MS, now);
        break;
    default:
        HO_ASSERT(0, "fault %llu", (unsigned long long)which);
    }
}

static void schedule_faults(struct sim_world *w)
{
    const struct sim_faults *f = &w->cfg.fault;
    const struct {
        uint64_t at_ms;
        uint64_t which;
    } events[] = {{f->nic_reset_at_ms, FAULT_NIC_RESET},
                  {f->refuse_at_ms, FAULT_REFUSE},
                  {f->nic_upload_at_ms, FAULT_NIC_UPLOAD},
                  {f->host_reclaim_at_ms, FAULT_HOST_RECLAIM},
                  {f->nic_hang_at_ms, FAULT_NIC_HANG},
                  {w->cfg.step.nic_mips_at_ms, STEP_NIC_MIPS}};
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
        if (events[i].at_ms) {
            int rc = sim_evq_schedule(w->evq, events[i].at_ms * SIM_NS_PER_MS, fault_event, w,
                                      events[i].which, NULL);
            HO_ASSERT(rc == HO_OK, "cannot schedule a fault: %s", ho_strerror(rc));
        }
    }
    if (f->wire_drop_at_ms) {
        w->wire.drop_from = f->wire_drop_at_ms * SIM_NS_PER_MS;
        w->wire.drop_until = w->wire.drop_from + f->wire_drop_ms * SIM_NS_PER_MS;
    }
}

/* The time from a fault at `at` until the requests completed per 100 ms are back to 95 % of
 * their mean over the 500 ms before it, ms; -1 if they never are (or there is no time before
 * it to compare with). */
static double recovery_ms(const struct sim_world *w, uint64_t at)
{
    uint64_t iv = w->tick.interval;
    uint64_t k = at / iv; /* the interval the fault falls in */
    uint64_t before = 500 * SIM_NS_PER_MS / iv, window = 100 * SIM_NS_PER_MS / iv;
    if (k < before || window == 0 || before == 0) {
        return -1;
    }
    double pre = 0;
    for (uint64_t i = k - before; i < k; i++) {
        pre += w->done_per_tick[i];
    }
    pre /= (double)before;
    double sum = 0;
    for (uint64_t i = k; i < w->nticks; i++) {
        sum += w->done_per_tick[i];
        if (i >= k + window) {
            sum -= w->done_per_tick[i - window];
        }
        if (i + 1 >= k + window && sum / (double)window >= 0.95 * pre) {
            return (double)((i + 1) * iv - at) / 1e6;
        }
    }
    return -1;
}

void sim_world_set_pcap(struct sim_world *w, struct sim_pcap *pc)
{
    w->wire.pcap = pc;
}

void sim_world_set_conn_log(struct sim_world *w, FILE *f)
{
    w->host.conn_log = f;
}

static void log_open_conn(void *ctx, const struct ho_conn_record *r)
{
    host_run_log_conn(ctx, r);
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
    uint32_t nclients = sim_config_clients(c) + c->streams;
    pool_init(&w->pool);
    struct sim_evq_params ep = {.initial_capacity = 8 * nclients};
    if (sim_evq_create(&ep, &w->evq) != HO_OK) {
        snprintf(err->msg, sizeof err->msg, "cannot build the simulated machines");
        free(w);
        return -1;
    }
    w->wire = (struct sim_wire){
        .bps = c->wire_bps,
        .delay_ns = c->wire_delay_ns,
        .evq = w->evq,
        .meter = &w->meter,
        .deliver = deliver,
        .on_wire = on_wire,
        .lost = lost,
        .ctx = w,
    };
    w->clients =
        (struct sim_clients){.evq = w->evq, .pool = &w->pool, .wire = &w->wire, .meter = &w->meter};
    w->nic = (struct sim_nic){
        .evq = w->evq, .pool = &w->pool, .wire = &w->wire, .pci = &w->pci, .meter = &w->meter};
    w->host = (struct sim_host){.evq = w->evq,
                                .pool = &w->pool,
                                .pci = &w->pci,
                                .meter = &w->meter,
                                .clients = &w->clients};
    w->pci.host.rx = host_run_rx;
    w->pci.host.msg = host_run_msg;
    w->pci.host.tx_done = host_run_tx_done;
    w->pci.host.ctx = &w->host;
    w->pci.nic.tx = nic_run_tx;
    w->pci.nic.forward = nic_run_forward;
    w->pci.nic.cmd = nic_run_cmd;
    w->pci.nic.reset = nic_run_reset;
    w->pci.nic.ctx = &w->nic;
    if (nic_run_init(&w->nic, c) != HO_OK || host_run_init(&w->host, c, nclients) != HO_OK) {
        snprintf(err->msg, sizeof err->msg, "cannot build the simulated machines");
        sim_world_destroy(w);
        return -1;
    }
    if (clients_init(&w->clients, c, nclients, err) != 0) {
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
    clients_fini(&w->clients);
    host_run_fini(&w->host);
    nic_run_fini(&w->nic);
    pool_fini(&w->pool);
    sim_evq_destroy(w->evq);
    meter_fini(&w->meter);
    free(w->done_per_tick);
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
    sim_cpu_stats(w->host.cpu, now, &hs);
    sim_cpu_stats(w->nic.cpu, now, &ns);
    struct ho_nic_info ni;
    ho_nic_info(w->nic.fw, &ni);
    struct sim_sample s = {
        .t_s = (double)now / 1e9,
        .nic_rxq = ni.qlen,
        .soft_limit = ni.soft_limit,
        .cnum = ni.cnum,
        .host_busy = busy_since(&hs, &w->host_busy_prev, &w->host_elapsed_prev),
        .nic_busy = busy_since(&ns, &w->nic_busy_prev, &w->nic_elapsed_prev),
        .requests = (uint32_t)(w->meter.all_requests - w->last_all_requests),
    };
    if (meter_open(&w->meter)) {
        w->soft_sum += s.soft_limit;
        w->cnum_sum += s.cnum;
        w->nsamples++;
    }
    if (t->sample) {
        t->sample(t->ctx, &s);
    }
    if (w->nticks == w->cap_ticks) {
        uint64_t cap = w->cap_ticks ? 2 * w->cap_ticks : 1024;
        uint32_t *d = realloc(w->done_per_tick, cap * sizeof *d);
        HO_ASSERT(d, "out of memory for the sampler");
        w->done_per_tick = d;
        w->cap_ticks = cap;
    }
    w->done_per_tick[w->nticks++] = (uint32_t)(w->meter.all_requests - w->last_all_requests);
    w->last_all_requests = w->meter.all_requests;
    /* The NIC's firmware never sleeps with work queued: whatever queues work wakes it. */
    if (!w->nic.busy && ni.queued > 0 && now > w->nic.hung_until) { /* its end may be due now */
        struct ho_sched_item head;
        ho_nic_peek(w->nic.fw, &head);
        meter_fail(&w->meter,
                   "the NIC is idle at t = %.6f s with %u items queued, the next on %s since "
                   "%.6f s",
                   s.t_s, ni.queued, ho_sched_queue_name(head.queue), (double)head.enq_ns / 1e9);
    }
    /* A run in which nothing crosses the wire for 60 simulated seconds cannot finish. */
    t->idle_ticks = w->wire.packets == t->last_packets ? t->idle_ticks + 1 : 0;
    t->last_packets = w->wire.packets;
    if (t->idle_ticks * t->interval > 60 * SIM_NS_PER_S) {
        meter_fail(&w->meter, "no packet crossed the wire for 60 simulated seconds at t = %.3f s",
                   s.t_s);
    }
    int rc = sim_evq_schedule(w->evq, now + t->interval, tick, w, 0, NULL);
    HO_ASSERT(rc == HO_OK, "cannot schedule the sampler");
}

/* The checks every run ends with. */
static void check_conservation(struct sim_world *w)
{
    struct sim_meter *m = &w->meter;
    for (int d = 0; d < 2; d++) {
        const struct wire_dir *x = &w->wire.dir[d];
        if (x->sent != x->delivered + x->in_flight + x->dropped) {
            meter_fail(m, "wire direction %d: %llu sent, %llu delivered, %llu in flight, %llu lost",
                       d, (unsigned long long)x->sent, (unsigned long long)x->delivered,
                       (unsigned long long)x->in_flight, (unsigned long long)x->dropped);
        }
    }
    if (m->bad_responses) {
        meter_fail(m, "%llu responses did not carry exactly their bytes",
                   (unsigned long long)m->bad_responses);
    }
    /* Every live packet is in exactly one place. */
    struct ho_nic_info ni;
    struct ho_os_info oi;
    ho_nic_info(w->nic.fw, &ni);
    ho_os_info(w->host.os, &oi);
    uint64_t running_pkt = w->nic.busy && w->nic.work.pkt;
    uint64_t placed = w->wire.dir[0].in_flight + w->wire.dir[1].in_flight + ni.queued_pkts +
                      running_pkt + oi.pkts_working + oi.pkts_held + oi.ifq_len;
    if (w->pool.live != placed) {
        meter_fail(m,
                   "%u packets alive, but %llu on the wire, in NIC queues, on the NIC's "
                   "processor, in host work, held or in the interface queue",
                   w->pool.live, (unsigned long long)placed);
    }
    if (ni.tx_ring_drops) {
        meter_fail(m, "the driver overran the NIC's send ring: %llu packets dropped",
                   (unsigned long long)ni.tx_ring_drops);
    }
    char why[200];
    if (ho_app_check(w->host.app, why, sizeof why) != 0 ||
        ho_os_check(w->host.os, why, sizeof why) != 0) {
        meter_fail(m, "%s", why);
    }
    /* No connection is owned by both host and NIC, or by neither: the NIC's count differs from
     * the host's only by the messages in flight. */
    if (w->cfg.nic_conns) {
        /* After a reset only what the new boot accepted and closed counts: the host took back
         * every connection of the boots before at its FW_UP, and the replies and CLOSEDs the
         * reset lost never arrive (the run does not end inside a recovery). */
        uint64_t accepts_in_flight =
            (ni.accepted - ni.accepted_at_reset) - (oi.accepted - oi.accepted_at_fw_up);
        uint64_t closes_in_flight =
            (ni.closed - ni.closed_at_reset) - (oi.closed - oi.closed_at_fw_up);
        uint64_t restores_in_flight =
            (ni.restored - ni.restored_at_reset) - (oi.restored - oi.restored_at_fw_up);
        uint64_t nic_view = oi.on_nic + accepts_in_flight - closes_in_flight - restores_in_flight;
        if (nic_view != ni.cnum || nic_view != ni.conns ||
            oi.sel_on_nic != oi.on_nic + oi.offered) {
            meter_fail(m,
                       "ownership: %u connections on the NIC by the host's count (%llu accepts "
                       "and %llu closes in flight), Cnum %u, %u in the lookup table, %u offered "
                       "or on the NIC by the driver",
                       oi.on_nic, (unsigned long long)accepts_in_flight,
                       (unsigned long long)closes_in_flight, ni.cnum, ni.conns, oi.sel_on_nic);
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
    clients_start(&w->clients, 0);
    sim_evq_schedule(w->evq, w->tick.interval, tick, w, 0, NULL);
    schedule_faults(w);
    uint64_t total = w->cfg.warmup_packets + w->cfg.measure_packets;
    uint64_t n = 0;
    while (!w->meter.done && !w->meter.failure[0]) {
        if (sim_evq_run_next(w->evq) != 1) {
            meter_fail(&w->meter, "the simulation ran out of events");
            break;
        }
        if (progress && (++n & 0xfffff) == 0) {
            progress(ctx, w->wire.packets, total);
        }
    }
    if (!w->meter.failure[0]) {
        check_conservation(w);
    }
    if (w->host.conn_log) {
        /* The connections still open end the log; what happens after (a drain) is not in it. */
        ho_os_each_record(w->host.os, log_open_conn, &w->host);
        if (w->host.conn_log_errno) {
            meter_fail(&w->meter, "cannot write the connection log: %s",
                       strerror(w->host.conn_log_errno));
        }
        w->host.conn_log = NULL;
    }
    if (w->meter.failure[0]) {
        snprintf(err->msg, sizeof err->msg, "%s", w->meter.failure);
        return -1;
    }
    return 0;
}

int sim_world_drain(struct sim_world *w, uint64_t max_ns, struct sim_config_err *err)
{
    if (!w->meter.done || w->meter.failure[0]) {
        snprintf(err->msg, sizeof err->msg, "only a run that finished can be drained");
        return -1;
    }
    w->clients.draining = true;
    w->tick.sample = NULL; /* the caller's sampler was for the run */
    uint64_t deadline = sim_evq_now(w->evq) + max_ns;
    uint32_t left = clients_outstanding(&w->clients);
    for (uint64_t n = 1; left > 0 && !w->meter.failure[0] && sim_evq_now(w->evq) < deadline; n++) {
        if (sim_evq_run_next(w->evq) != 1) {
            meter_fail(&w->meter, "the simulation ran out of events");
            break;
        }
        if ((n & 1023) == 0) {
            left = clients_outstanding(&w->clients); /* a scan of the clients: not every event */
        }
    }
    if (!w->meter.failure[0]) {
        check_conservation(w);
    }
    if (w->meter.failure[0]) {
        snprintf(err->msg, sizeof err->msg, "while draining: %s", w->meter.failure);
        return -1;
    }
    return (int)clients_outstanding(&w->clients);
}

uint32_t sim_world_outstanding(const struct sim_world *w)
{
    return clients_outstanding(&w->clients);
}

uint64_t sim_world_trace_wraps(const struct sim_world *w)
{
    return w->clients.trace ? ho_wl_wraps(w->clients.wl) : 0;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The p-th percentile (0 < p < 100) of v sorted ascending, by the nearest-rank method; 0 if
 * empty. */
static double percentile_sorted(const float *v, uint64_t n, double p)
{
    if (n == 0) {
        return 0;
    }
    uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)n);
    return v[rank > 0 ? rank - 1 : 0];
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
    const struct sim_meter *mt = &w->meter;
    uint64_t end = mt->done ? w->measure_end_ns : sim_evq_now(w->evq);
    double secs = (double)(end - w->measure_start_ns) / 1e9;
    m->measured_s = secs;
    if (secs <= 0) {
        return;
    }
    m->requests = mt->requests;
    m->packets = w->cfg.measure_packets;
    m->requests_per_s = (double)mt->requests / secs;
    m->http_mbps = (double)mt->resp_bytes * 8 / secs / 1e6;
    m->packets_per_s = (double)m->packets / secs;
    m->connections_per_s = (double)mt->conns / secs;
    m->nic_connection_share = mt->conns ? (double)mt->conns_nic / (double)mt->conns : 0;
    m->nic_packet_share = (double)mt->nic_pkts / (double)m->packets;
    struct sim_cpu_stats hs, ns;
    sim_cpu_stats(w->host.cpu, end, &hs);
    sim_cpu_stats(w->nic.cpu, end, &ns);
    double he = (double)hs.elapsed_cycles, ne = (double)ns.elapsed_cycles;
    if (he > 0) {
        m->host_user_pct = 100.0 * (double)hs.busy_cycles[HO_OS_CAT_USER] / he;
        m->host_net_pct = 100.0 * (double)hs.busy_cycles[HO_OS_CAT_NET] / he;
        m->host_os_pct =
            100.0 * (double)(hs.busy_cycles[HO_OS_CAT_SYS] + hs.busy_cycles[HO_OS_CAT_NET]) / he;
        m->host_idle_pct = 100.0 * (double)hs.idle_cycles / he;
    }
    if (ne > 0) {
        m->nic_idle_pct = 100.0 * (double)ns.idle_cycles / ne;
        m->nic_host_pct = 100.0 * (double)ns.busy_cycles[HO_NIC_CAT_HOST] / ne;
        m->nic_tcp_pct = 100.0 * (double)ns.busy_cycles[HO_NIC_CAT_TCP] / ne;
        m->nic_msg_pct = 100.0 * (double)ns.busy_cycles[HO_NIC_CAT_MSG] / ne;
    }
    /* Medians sort the sample arrays in place; their order carries no information. */
    struct sim_meter *mm = (struct sim_meter *)(uintptr_t)mt;
    m->host_recv_delay_median_us = median(mm->delay_rx, mt->ndelay_rx);
    m->host_send_delay_median_us = median(mm->delay_tx, mt->ndelay_tx);
    m->handoffs = mt->nhandoff_lat;
    if (mt->nhandoff_lat > 0) {
        qsort(mm->handoff_lat, mt->nhandoff_lat, sizeof *mm->handoff_lat, cmp_float);
        m->handoff_latency_us_p50 = percentile_sorted(mm->handoff_lat, mt->nhandoff_lat, 50);
        m->handoff_latency_us_p90 = percentile_sorted(mm->handoff_lat, mt->nhandoff_lat, 90);
        m->handoff_latency_us_p99 = percentile_sorted(mm->handoff_lat, mt->nhandoff_lat, 99);
        m->handoff_latency_us_max = mm->handoff_lat[mt->nhandoff_lat - 1];
    }
    m->mean_response_ms = mt->requests ? (double)mt->resp_ns / (double)mt->requests / 1e6 : 0;
    struct ho_nic_info ni;
    ho_nic_info(w->nic.fw, &ni);
    m->nic_rx_drops = ni.rx_drops;
    for (int q = 0; q < HO_SCHED_NQUEUES; q++) {
        const struct ho_sched_counters *c = &ni.queue[q];
        m->nic_queue[q] = (struct sim_queue_metrics){
            .mean_wait_us = c->dequeued ? (double)c->wait_ns_total / (double)c->dequeued / 1e3 : 0,
            .taken = c->dequeued,
            .dropped = c->dropped,
            .max_len = c->max_len,
        };
    }
    m->retransmits = retransmits(w) - w->retrans_base;
    m->nic_retransmits = nic_retransmits(w) - w->nic_retrans_base;
    struct ho_os_info oi;
    ho_os_info(w->host.os, &oi);
    m->host_ifq_drops = oi.ifq_drops - w->ifq_drops_base;
    m->soft_limit_mean = w->nsamples ? w->soft_sum / (double)w->nsamples : 0;
    m->nic_connections_mean = w->nsamples ? w->cnum_sum / (double)w->nsamples : 0;
    struct sim_evq_stats es;
    sim_evq_stats(w->evq, &es);
    m->events = es.popped;
    /* Stalled: outstanding, and no response byte for far longer than requests take on average
     * (and over a second). A large response that is still arriving is slow, not stalled. */
    uint64_t patience = (uint64_t)(20 * m->mean_response_ms * 1e6);
    patience = patience > SIM_NS_PER_S ? patience : SIM_NS_PER_S;
    m->stalled_requests = clients_stalled(&w->clients, end, patience);
    m->nic_faults_detected = oi.nic_resets;
    m->conns_recovered = oi.conns_recovered;
    m->conns_reset = oi.conns_reset;
    m->nic_lost_conns = ni.lost_conns;
    m->wire_dropped = w->wire.dir[0].dropped + w->wire.dir[1].dropped;
    /* A reset is detected by its FW_UP, a hang by the watchdog that resets the NIC. */
    m->fault_detect_ms = w->reset_at && oi.last_fw_up >= w->reset_at
                             ? (double)(oi.last_fw_up - w->reset_at) / 1e6
                         : w->hang_at && oi.last_watchdog_reset >= w->hang_at
                             ? (double)(oi.last_watchdog_reset - w->hang_at) / 1e6
                             : -1;
    m->nic_watchdog_resets = oi.watchdog_resets;
    m->conns_uploaded = oi.uploaded;
    m->conns_shed = ni.shed;
    m->conns_given_back = oi.given_back - w->given_back_base;
    m->conns_restored = oi.restored;
    const struct sim_faults *f = &w->cfg.fault;
    /* The fault the recovery is timed from: the first configured, in this order. */
    uint64_t fault_at = w->reset_at             ? w->reset_at
                        : w->hang_at            ? w->hang_at
                        : f->nic_upload_at_ms   ? f->nic_upload_at_ms * SIM_NS_PER_MS
                        : f->host_reclaim_at_ms ? f->host_reclaim_at_ms * SIM_NS_PER_MS
                        : f->refuse_at_ms       ? f->refuse_at_ms * SIM_NS_PER_MS
                        : f->wire_drop_at_ms    ? f->wire_drop_at_ms * SIM_NS_PER_MS
                                                : 0;
    m->fault_recovery_ms = fault_at ? recovery_ms(w, fault_at) : -1;
    uint64_t host_pkts = oi.pkts - w->host_pkts_base;
    m->host_misses_per_packet = host_pkts ? (double)mt->host_misses / (double)host_pkts : 0;
}
