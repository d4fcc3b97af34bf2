/*
 * clients.c - the client machine (see clients.h).
 *
 * Payload is virtual, so a request carries no URL. The server learns what a request asks for
 * the way a real server would learn it from the bytes: from the request itself, which here is
 * the client's current ho_req, found through the connection's 4-tuple (clients_request).
 */
#include <stdlib.h>
#include <string.h>

#include "handoff/assert.h"
#include "handoff/err.h"
#include "handoff/workload_trace.h"
#include "clients.h"

/* Bytes of an HTTP request line and headers (a GET of the era, as browsers sent it). */
#define REQ_HDR_BYTES 300

static int client_output(void *ctx, const struct tcpe_seg *seg)
{
    struct sim_clients *cl = ctx;
    struct ho_pkt *p = pool_alloc(cl->pool, seg);
    HO_ASSERT(p, "out of memory for packets");
    wire_send(cl->wire, DIR_TO_SERVER, p, sim_evq_now(cl->evq));
    return HO_OK;
}

static void client_timer(void *ctx, uint64_t arg, uint64_t now);

static void client_rearm(struct sim_clients *cl, uint64_t now)
{
    uint64_t next = tcpe_stack_next_wake(cl->stack);
    if (next == cl->timer_at) {
        return;
    }
    if (cl->timer_at != TCPE_NEVER) {
        sim_evq_cancel(cl->evq, cl->timer_handle);
    }
    cl->timer_at = next;
    if (next != TCPE_NEVER) {
        int rc = sim_evq_schedule(cl->evq, next > now ? next : now, client_timer, cl, 0,
                                  &cl->timer_handle);
        HO_ASSERT(rc == HO_OK, "cannot schedule the clients' TCP timer: %s", ho_strerror(rc));
    }
}

static void client_timer(void *ctx, uint64_t arg, uint64_t now)
{
    struct sim_clients *cl = ctx;
    (void)arg;
    cl->timer_at = TCPE_NEVER;
    tcpe_stack_timers(cl->stack, now);
    client_rearm(cl, now);
}

static void client_connect(struct sim_clients *cl, uint32_t i, uint64_t now);

static void client_send_request(struct sim_clients *cl, uint32_t i, uint64_t now)
{
    struct client *c = &cl->c[i];
    uint32_t bytes = REQ_HDR_BYTES + c->req.upload;
    int n = tcpe_send(c->conn, NULL, bytes, now);
    HO_ASSERT(n == (int)bytes, "client send buffer cannot take a %u-byte request (%d)", bytes, n);
    c->expected = HO_APP_RESP_HDR_BYTES + c->req.size;
    c->received = 0;
    c->sent_at = now;
    c->moved_at = now;
    c->waiting = true;
    uint64_t gap = (uint64_t)c->req.gap_us * 1000;
    c->next_at = now + gap;
}

static void client_send_event(void *ctx, uint64_t arg, uint64_t now)
{
    struct sim_clients *cl = ctx;
    if (cl->c[arg].conn && !cl->draining) {
        client_send_request(cl, (uint32_t)arg, now);
        client_rearm(cl, now);
    }
}

/* The connection is ready for the next request: send it now or when pacing allows, or close. */
static void client_next(struct sim_clients *cl, uint32_t i, uint64_t now, uint64_t think_ns)
{
    struct client *c = &cl->c[i];
    if (cl->draining) {
        return; /* the user is gone: the connection stays open and idle */
    }
    if (ho_wl_next_req(cl->wl, &c->wc, &c->req) <= 0) {
        tcpe_release(c->conn, now);
        c->conn = NULL;
        client_connect(cl, i, now);
        return;
    }
    uint64_t at = now + think_ns;
    if (c->next_at > at) {
        at = c->next_at;
    }
    if (at <= now) {
        client_send_request(cl, i, now);
    } else {
        int rc = sim_evq_schedule(cl->evq, at, client_send_event, cl, i, NULL);
        HO_ASSERT(rc == HO_OK, "cannot schedule a request");
    }
}

static void client_event(void *ctx, struct tcpe_conn *conn, unsigned ev)
{
    struct sim_clients *cl = ctx;
    uint64_t now = sim_evq_now(cl->evq);
    uint32_t i = (uint32_t)(uintptr_t)tcpe_conn_user(conn) - 1;
    struct client *c = &cl->c[i];
    if (c->conn != conn) {
        return; /* an earlier connection of this client, closing on its own */
    }
    if (ev & (TCPE_EV_RESET | TCPE_EV_TIMEDOUT)) {
        meter_fail(cl->meter, "client %u: connection %s", i,
                   ev & TCPE_EV_RESET ? "reset" : "timed out");
        tcpe_release(conn, now);
        c->conn = NULL;
        return;
    }
    if (ev & TCPE_EV_CONNECTED) {
        client_next(cl, i, now, 0);
        return;
    }
    if ((ev & TCPE_EV_READABLE) && c->waiting) {
        int n = tcpe_recv(conn, NULL, UINT32_MAX >> 1, now);
        if (n > 0) {
            c->received += (uint32_t)n;
            c->moved_at = now;
        }
        if (c->received >= c->expected) {
            c->waiting = false;
            meter_request(cl->meter, now - c->sent_at, c->req.size, c->received == c->expected);
            client_next(cl, i, now, (uint64_t)c->req.think_us * 1000);
        }
    } else if (ev & TCPE_EV_READABLE) {
        tcpe_recv(conn, NULL, UINT32_MAX >> 1, now); /* nothing is expected: count as excess */
        cl->meter->bad_responses++;
    }
}

static void client_connect(struct sim_clients *cl, uint32_t i, uint64_t now)
{
    struct client *c = &cl->c[i];
    if (ho_wl_next_conn(cl->wl, i, &c->wc) != HO_OK) {
        meter_fail(cl->meter, "the workload has no connection for client %u", i);
        return;
    }
    struct tcpe_tuple t = {
        .local_ip = CLIENT_NET + i + 1,
        .remote_ip = SERVER_IP,
        .remote_port = SERVER_PORT,
    };
    for (int tries = 0; tries < 64; tries++) {
        c->port = (uint16_t)(c->port >= 65535 || c->port < 1024 ? 1024 : c->port + 1);
        t.local_port = c->port;
        int rc = tcpe_connect(cl->stack, &t, now, &c->conn);
        if (rc == HO_OK) {
            tcpe_conn_set_user(c->conn, (void *)(uintptr_t)(i + 1));
            return;
        }
        HO_ASSERT(rc == HO_EEXIST, "client connect failed: %s", ho_strerror(rc));
    }
    meter_fail(cl->meter, "client %u: no free port", i);
}

int clients_init(struct sim_clients *cl, const struct sim_config *cfg, uint32_t n,
                 struct sim_config_err *err)
{
    cl->n = n;
    struct ho_wl_err werr = {{0}};
    /* The streams (workload.streams) are the last clients. */
    struct ho_wl_params wp = {
        .seed = cfg->seed,
        .clients = cl->n - cfg->streams,
        .streams = cfg->streams,
        .stream_bytes = (uint32_t)((uint64_t)cfg->stream_kbps * cfg->stream_segment_ms / 8),
        .stream_gap_us = cfg->stream_segment_ms * 1000,
    };
    static const enum ho_wl_type types[SIM_WL_COUNT] = {
        [SIM_WL_W] = HO_WL_WORLDCUP,
        [SIM_WL_I] = HO_WL_IBM,
        [SIM_WL_D] = HO_WL_SPECWEB,
        [SIM_WL_S] = HO_WL_SPECWEB_STATIC,
    };
    wp.type = types[cfg->workload];
    if (cfg->trace_file[0]) {
        struct ho_trace_params tp = {0};
        if (ho_trace_read(cfg->trace_file, &tp, &cl->trace, &werr) != HO_OK) {
            snprintf(err->msg, sizeof err->msg, "%s", werr.msg);
            return -1;
        }
        wp.type = HO_WL_TRACE;
        wp.trace = cl->trace;
    }
    if (ho_wl_create(&wp, &cl->wl, &werr) != HO_OK) {
        /* A trace that was read but cannot be replayed (no requests, no sizes): name it. */
        snprintf(err->msg, sizeof err->msg, "%.250s: %.250s",
                 cl->trace ? cfg->trace_file : "workload", werr.msg);
        return -1;
    }
    struct tcpe_params tp;
    tcpe_params_init(&tp);
    tp.ops.output = client_output;
    tp.ops.event = client_event;
    tp.ctx = cl;
    tp.virtual_payload = true;
    tp.mss = (uint16_t)cfg->mss;
    tp.sndbuf = cfg->sndbuf;
    tp.rcvbuf = cfg->rcvbuf;
    tp.delack = cfg->delack_ns;
    tp.delack_one_segment = cfg->delack_one_segment;
    tp.rto_init = cfg->rto_init_ns;
    tp.nodelay = true;
    tp.sack = cfg->sack; /* FreeBSD 4.7 had no SACK: off unless tcp.sack asks (the server's
                            stacks offer it, and it is agreed only if the client does too) */
    tp.seed = cfg->seed ^ 0xc1;
    tp.hash_buckets = cl->n * 2;
    if (tcpe_stack_create(&tp, &cl->stack) != HO_OK) {
        snprintf(err->msg, sizeof err->msg, "cannot create the clients' TCP stack");
        return -1;
    }
    cl->c = calloc(cl->n, sizeof *cl->c);
    if (!cl->c) {
        snprintf(err->msg, sizeof err->msg, "out of memory for %u clients", cl->n);
        return -1;
    }
    cl->timer_at = TCPE_NEVER;
    return 0;
}

static void client_start_event(void *ctx, uint64_t arg, uint64_t now)
{
    struct sim_clients *cl = ctx;
    client_connect(cl, (uint32_t)arg, now);
    client_rearm(cl, now);
}

/* Clients start at once, or, when the workload paces them, each at its own point of the
 * steady state (ho_wl_start_delay_us), as a SPECweb99 run measures them after its ramp-up. */
void clients_start(struct sim_clients *cl, uint64_t now)
{
    for (uint32_t i = 0; i < cl->n; i++) {
        uint64_t wait = ho_wl_start_delay_us(cl->wl, i) * 1000;
        if (wait == 0) {
            client_connect(cl, i, now);
            continue;
        }
        int rc = sim_evq_schedule(cl->evq, now + wait, client_start_event, cl, i, NULL);
        HO_ASSERT(rc == HO_OK, "cannot schedule a client's start: %s", ho_strerror(rc));
    }
    client_rearm(cl, now);
}

void clients_rx(struct sim_clients *cl, struct ho_pkt *p, uint64_t now)
{
    tcpe_stack_input(cl->stack, &p->seg, now);
    pool_free(cl->pool, p);
    client_rearm(cl, now);
}

int clients_request(const struct sim_clients *cl, const struct tcpe_tuple *server_side,
                    struct ho_app_req *out)
{
    uint32_t i = server_side->remote_ip - CLIENT_NET - 1;
    if (i >= cl->n || cl->c[i].port != server_side->remote_port || !cl->c[i].waiting) {
        return -1;
    }
    const struct ho_req *r = &cl->c[i].req;
    out->len = REQ_HDR_BYTES + r->upload;
    out->dynamic = r->kind != HO_REQ_STATIC;
    out->body = r->size;
    return 0;
}

uint32_t clients_outstanding(const struct sim_clients *cl)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < cl->n; i++) {
        n += cl->c[i].waiting;
    }
    return n;
}

uint64_t clients_stalled(const struct sim_clients *cl, uint64_t end, uint64_t patience)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < cl->n; i++) {
        const struct client *c = &cl->c[i];
        n += c->conn && c->waiting && end > c->moved_at + patience;
    }
    return n;
}

uint64_t clients_retransmits(const struct sim_clients *cl)
{
    return tcpe_stack_stats(cl->stack)->rexmt_segs;
}

void clients_fini(struct sim_clients *cl)
{
    tcpe_stack_destroy(cl->stack);
    ho_wl_destroy(cl->wl);
    ho_trace_free(cl->trace);
    free(cl->c);
}
