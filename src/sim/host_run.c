/*
 * host_run.c - the simulated host: the OS side and the server on its processor and cache (see
 * host_run.h).
 */
#include "host_run.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/assert.h"
#include "handoff/err.h"

/* ---- the processor and its cache -------------------------------------------------------- */

/* Memory stall cycles of the work's first run: each line it touches that misses goes to DRAM. */
static uint64_t work_start(void *ctx, uint64_t arg, uint64_t now)
{
    struct sim_host *h = ctx;
    (void)now;
    struct ho_os_mem mem[HO_OS_MEM_MAX];
    unsigned n = ho_os_work_mem(h->os, arg, mem);
    uint64_t cycles = 0;
    for (unsigned i = 0; i < n; i++) {
        uint32_t misses = sim_cache_access(h->l2, mem[i].addr, mem[i].len);
        if (h->meter->measuring) {
            h->meter->host_misses += misses;
        }
        cycles += (uint64_t)misses * h->dram_cycles;
    }
    return cycles;
}

static void work_done(void *ctx, uint64_t arg, uint64_t now)
{
    struct sim_host *h = ctx;
    ho_os_work_done(h->os, arg, now);
}

static void timer_event(void *ctx, uint64_t arg, uint64_t now)
{
    struct sim_host *h = ctx;
    (void)arg;
    h->timer = 0;
    ho_os_timer(h->os, now);
}

/* ---- the OS's ops ----------------------------------------------------------------------- */

static void op_run(void *ctx, const struct ho_os_work *w, uint64_t now)
{
    struct sim_host *h = ctx;
    struct sim_cpu_task t = {
        .prio = w->prio,
        .cat = w->cat,
        .cycles = w->cycles,
        .start = w->touches ? work_start : NULL,
        .done = w->notify ? work_done : NULL,
        .ctx = h,
        .arg = w->arg,
    };
    int rc = sim_cpu_submit(h->cpu, now, &t);
    HO_ASSERT(rc == HO_OK, "host task refused: %s", ho_strerror(rc));
}

/* Replaces the event *ev (0 if none) by one at `when` (none if TCPE_NEVER). */
static void resched(struct sim_host *h, uint64_t *ev, uint64_t when, uint64_t now, sim_event_fn fn)
{
    if (*ev) {
        sim_evq_cancel(h->evq, *ev);
        *ev = 0;
    }
    if (when != TCPE_NEVER) {
        int rc = sim_evq_schedule(h->evq, when > now ? when : now, fn, h, 0, ev);
        HO_ASSERT(rc == HO_OK, "cannot schedule a host timer: %s", ho_strerror(rc));
    }
}

static void op_timer(void *ctx, uint64_t when, uint64_t now)
{
    struct sim_host *h = ctx;
    resched(h, &h->timer, when, now, timer_event);
}

static void watchdog_event(void *ctx, uint64_t arg, uint64_t now)
{
    struct sim_host *h = ctx;
    (void)arg;
    h->watchdog = 0;
    ho_os_watchdog(h->os, now);
}

static void op_watchdog(void *ctx, uint64_t when, uint64_t now)
{
    struct sim_host *h = ctx;
    resched(h, &h->watchdog, when, now, watchdog_event);
}

static void op_nic_reset(void *ctx, uint64_t now)
{
    struct sim_host *h = ctx;
    pci_to_nic_reset(h->pci, now);
}

static void op_nic_tx(void *ctx, struct ho_pkt *p, uint64_t now)
{
    struct sim_host *h = ctx;
    pci_to_nic_pkt(h->pci, p, now);
}

static void op_nic_forward(void *ctx, struct ho_pkt *p, uint64_t now)
{
    struct sim_host *h = ctx;
    pci_to_nic_forward(h->pci, p, now);
}

static void op_nic_cmd(void *ctx, const uint8_t *msg, uint32_t len, uint64_t now)
{
    struct sim_host *h = ctx;
    pci_to_nic_cmd(h->pci, msg, len, now);
}

static struct ho_pkt *op_pkt_alloc(void *ctx, const struct tcpe_seg *seg)
{
    struct sim_host *h = ctx;
    return pool_alloc(h->pool, seg);
}

static void op_pkt_free(void *ctx, struct ho_pkt *p)
{
    struct sim_host *h = ctx;
    pool_free(h->pool, p);
}

static struct ho_pkt *op_pkt_at(void *ctx, uint32_t id)
{
    struct sim_host *h = ctx;
    return pool_at(h->pool, id);
}

static void op_fault(void *ctx, const char *what)
{
    struct sim_host *h = ctx;
    meter_fail(h->meter, "%s", what);
}

/* A connection counts in the connection share if it was established while measuring. */
static void op_established(void *ctx, uint32_t sock)
{
    struct sim_host *h = ctx;
    if (sock >= h->ncounted) {
        uint32_t n = h->ncounted ? h->ncounted : 1024;
        while (n <= sock) {
            n *= 2;
        }
        uint8_t *c = realloc(h->counted, n);
        HO_ASSERT(c, "out of memory");
        memset(c + h->ncounted, 0, n - h->ncounted);
        h->counted = c;
        h->ncounted = n;
    }
    h->counted[sock] = meter_open(h->meter);
    h->meter->conns += h->counted[sock];
}

static void op_handed_off(void *ctx, uint32_t sock)
{
    struct sim_host *h = ctx;
    struct ho_conn_record r;
    ho_so_record(h->os, sock, &r);
    /* A connection counts once in the share handed off, however often a policy that gives
     * slots back (Bn) hands it off again. */
    h->meter->conns_nic += h->counted[sock] && meter_open(h->meter) && r.handoffs == 1;
    meter_handoff(h->meter, r.answered - r.offered);
}

void host_run_log_conn(struct sim_host *h, const struct ho_conn_record *r)
{
    char small[1024];
    char *line = small;
    int n = ho_conn_record_json(r, line, sizeof small);
    HO_ASSERT(n > 0, "connection record of %d bytes", n);
    if ((size_t)n >= sizeof small) { /* many moves */
        line = malloc((size_t)n + 1);
        HO_ASSERT(line, "out of memory for a connection record of %d bytes", n);
        HO_ASSERT(ho_conn_record_json(r, line, (size_t)n + 1) == n, "connection record");
    }
    if (!h->conn_log_errno && fprintf(h->conn_log, "%s\n", line) < 0) {
        h->conn_log_errno = errno ? errno : EIO;
    }
    if (line != small) {
        free(line);
    }
}

static void op_conn_done(void *ctx, const struct ho_conn_record *r)
{
    struct sim_host *h = ctx;
    if (h->conn_log) {
        host_run_log_conn(h, r);
    }
}

static const struct ho_os_ops os_ops = {
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
    .conn_done = op_conn_done,
    .watchdog = op_watchdog,
    .nic_reset = op_nic_reset,
};

static int app_request(void *ctx, const struct tcpe_tuple *conn, struct ho_app_req *out)
{
    struct sim_host *h = ctx;
    return clients_request(h->clients, conn, out);
}

static const struct ho_app_ops app_ops = {.request = app_request};

/* ---- the bus's end ---------------------------------------------------------------------- */

void host_run_rx(void *ctx, struct ho_pkt *p, uint64_t now)
{
    struct sim_host *h = ctx;
    /* The NIC wrote the frame into a receive buffer: those lines leave the cache. */
    struct ho_os_mem buf = ho_os_rx_buf(h->os, p);
    sim_cache_invalidate(h->l2, buf.addr, buf.len);
    ho_os_rx(h->os, p, now);
}

void host_run_tx_done(void *ctx, uint64_t now)
{
    struct sim_host *h = ctx;
    ho_os_tx_done(h->os, now);
}

void host_run_msg(void *ctx, const uint8_t *msg, uint32_t len, uint64_t now)
{
    struct sim_host *h = ctx;
    int rc = ho_os_msg(h->os, msg, len, now);
    HO_ASSERT(rc == HO_OK, "the driver refused a message: %s", ho_strerror(rc));
}

/* ---- life ------------------------------------------------------------------------------- */

int host_run_init(struct sim_host *h, const struct sim_config *c, uint32_t nclients)
{
    struct sim_cpu_params cp = {
        .hz = c->host_hz,
        .nprios = HO_OS_NPRIOS,
        .ncats = HO_OS_NCATS,
        .preempt = true,
    };
    if (sim_cpu_create(&cp, h->evq, &h->cpu) != HO_OK) {
        return HO_EINVAL;
    }
    struct sim_cache_params lp = {
        .size_bytes = c->l2_bytes,
        .ways = c->l2_ways,
        .line_bytes = c->line_bytes,
        .next_line_prefetch = true,
    };
    if (sim_cache_create(&lp, &h->l2) != HO_OK) {
        return HO_EINVAL;
    }
    h->dram_cycles = c->dram_cycles;
    /* A client's next connection can open while its last one closes: twice the clients. */
    struct ho_os_params op;
    sim_config_os_params(c, 2 * nclients, &op);
    int rc = ho_os_create(&op, &os_ops, h, &h->os);
    if (rc != HO_OK) {
        return rc;
    }
    struct ho_app_params ap = {
        .ip = SERVER_IP,
        .port = SERVER_PORT,
        .backlog = 2 * nclients,
        .costs = c->costs.app,
    };
    return ho_app_create(&ap, h->os, &app_ops, h, &h->app);
}

void host_run_fini(struct sim_host *h)
{
    ho_app_destroy(h->app);
    ho_os_destroy(h->os);
    sim_cache_destroy(h->l2);
    sim_cpu_destroy(h->cpu);
    free(h->counted);
}
