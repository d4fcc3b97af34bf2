/*
 * clients.c - the client machine: closed-loop HTTP clients over their own TCP stack.
 *
 * The client machine costs nothing (the paper's client "will never be a performance
 * bottleneck"): its TCP stack (tcpe, virtual payload) runs at the instant each packet arrives.
 * Each client pulls a persistent connection from the workload, connects, sends its requests one
 * at a time (the next leaves when the whole response has arrived, after any think time and no
 * earlier than the pacing allows), closes after the last one, and pulls the next connection.
 *
 * Payload is virtual, so a request carries no URL. The server learns what a request asks for
 * the way a real server would learn it from the bytes: from the request itself, which here is
 * the client's current ho_req, found through the connection's 4-tuple
 * (clients_request_bytes / clients_response_bytes).
 */
#include <stdlib.h>
#include <string.h>

#include "handoff/assert.h"
#include "handoff/err.h"
#include "handoff/workload_trace.h"
#include "world_priv.h"

/* Bytes of an HTTP request line and headers (a GET of the era, as browsers sent it). */
#define REQ_HDR_BYTES 300
/* Bytes of an HTTP response status line and headers (Flash's 200 / 304 responses). */
#define RESP_HDR_BYTES 250

static void client_output(void *ctx, const struct tcpe_seg *seg)
{
    struct sim_world *w = ctx;
    struct sim_pkt *p = pkt_new(w, seg);
    HO_ASSERT(p, "out of memory for packets");
    wire_send(w, DIR_TO_SERVER, p, sim_evq_now(w->evq));
}

static void client_timer(void *ctx, uint64_t arg, uint64_t now);

static void client_rearm(struct sim_world *w, uint64_t now)
{
    world_stack_timer(w, w->cli_stack, &w->cli_timer_at, &w->cli_timer_handle, client_timer, now);
}

static void client_timer(void *ctx, uint64_t arg, uint64_t now)
{
    struct sim_world *w = ctx;
    (void)arg;
    w->cli_timer_at = TCPE_NEVER;
    tcpe_stack_timers(w->cli_stack, now);
    client_rearm(w, now);
}

static void client_connect(struct sim_world *w, uint32_t i, uint64_t now);

static void client_send_request(struct sim_world *w, uint32_t i, uint64_t now)
{
    struct client *c = &w->clients[i];
    uint32_t bytes = REQ_HDR_BYTES + c->req.upload;
    int n = tcpe_send(c->conn, NULL, bytes, now);
    HO_ASSERT(n == (int)bytes, "client send buffer cannot take a %u-byte request (%d)", bytes, n);
    c->expected = RESP_HDR_BYTES + c->req.size;
    c->received = 0;
    c->sent_at = now;
    c->moved_at = now;
    c->waiting = true;
    uint64_t gap = (uint64_t)c->req.gap_us * 1000;
    c->next_at = now + gap;
}

static void client_send_event(void *ctx, uint64_t arg, uint64_t now)
{
    struct sim_world *w = ctx;
    if (w->clients[arg].conn && !w->draining) {
        client_send_request(w, (uint32_t)arg, now);
        client_rearm(w, now);
    }
}

/* The connection is ready for the next request: send it now or when pacing allows, or close. */
static void client_next(struct sim_world *w, uint32_t i, uint64_t now, uint64_t think_ns)
{
    struct client *c = &w->clients[i];
    if (w->draining) {
        return; /* the user is gone: the connection stays open and idle */
    }
    if (ho_wl_next_req(w->wl, &c->wc, &c->req) <= 0) {
        tcpe_release(c->conn, now);
        c->conn = NULL;
        client_connect(w, i, now);
        return;
    }
    uint64_t at = now + think_ns;
    if (c->next_at > at) {
        at = c->next_at;
    }
    if (at <= now) {
        client_send_request(w, i, now);
    } else {
        int rc = sim_evq_schedule(w->evq, at, client_send_event, w, i, NULL);
        HO_ASSERT(rc == HO_OK, "cannot schedule a request");
    }
}

static void client_event(void *ctx, struct tcpe_conn *conn, unsigned ev)
{
    struct sim_world *w = ctx;
    uint64_t now = sim_evq_now(w->evq);
    uint32_t i = (uint32_t)(uintptr_t)tcpe_conn_user(conn) - 1;
    struct client *c = &w->clients[i];
    if (c->conn != conn) {
        return; /* an earlier connection of this client, closing on its own */
    }
    if (ev & (TCPE_EV_RESET | TCPE_EV_TIMEDOUT)) {
        world_fail(w, "client %u: connection %s", i, ev & TCPE_EV_RESET ? "reset" : "timed out");
        tcpe_release(conn, now);
        c->conn = NULL;
        return;
    }
    if (ev & TCPE_EV_CONNECTED) {
        client_next(w, i, now, 0);
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
            world_request_done(w, now - c->sent_at, c->req.size, c->received == c->expected);
            client_next(w, i, now, (uint64_t)c->req.think_us * 1000);
        }
    } else if (ev & TCPE_EV_READABLE) {
        tcpe_recv(conn, NULL, UINT32_MAX >> 1, now); /* nothing is expected: count as excess */
        w->bad_responses++;
    }
}

static void client_connect(struct sim_world *w, uint32_t i, uint64_t now)
{
    struct client *c = &w->clients[i];
    if (ho_wl_next_conn(w->wl, i, &c->wc) != HO_OK) {
        world_fail(w, "the workload has no connection for client %u", i);
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
        int rc = tcpe_connect(w->cli_stack, &t, now, &c->conn);
        if (rc == HO_OK) {
            tcpe_conn_set_user(c->conn, (void *)(uintptr_t)(i + 1));
            return;
        }
        HO_ASSERT(rc == HO_EEXIST, "client connect failed: %s", ho_strerror(rc));
    }
    world_fail(w, "client %u: no free port", i);
}

int clients_init(struct sim_world *w, struct sim_config_err *err)
{
    struct ho_wl_err werr = {{0}};
    struct ho_wl_params wp = {.seed = w->cfg.seed, .clients = w->nclients};
    static const enum ho_wl_type types[SIM_WL_COUNT] = {
        [SIM_WL_W] = HO_WL_WORLDCUP,
        [SIM_WL_I] = HO_WL_IBM,
        [SIM_WL_D] = HO_WL_SPECWEB,
        [SIM_WL_S] = HO_WL_SPECWEB_STATIC,
    };
    wp.type = types[w->cfg.workload];
    if (w->cfg.trace_file[0]) {
        struct ho_trace_params tp = {0};
        if (ho_trace_read(w->cfg.trace_file, &tp, &w->trace, &werr) != HO_OK) {
            snprintf(err->msg, sizeof err->msg, "%s", werr.msg);
            return -1;
        }
        wp.type = HO_WL_TRACE;
        wp.trace = w->trace;
    }
    if (ho_wl_create(&wp, &w->wl, &werr) != HO_OK) {
        snprintf(err->msg, sizeof err->msg, "workload: %s", werr.msg);
        return -1;
    }
    struct tcpe_params tp;
    tcpe_params_init(&tp);
    tp.ops.output = client_output;
    tp.ops.event = client_event;
    tp.ctx = w;
    tp.virtual_payload = true;
    tp.mss = (uint16_t)w->cfg.mss;
    tp.sndbuf = w->cfg.sndbuf;
    tp.rcvbuf = w->cfg.rcvbuf;
    tp.delack = w->cfg.delack_ns;
    tp.nodelay = true;
    tp.seed = w->cfg.seed ^ 0xc1;
    tp.hash_buckets = w->nclients * 2;
    if (tcpe_stack_create(&tp, &w->cli_stack) != HO_OK) {
        snprintf(err->msg, sizeof err->msg, "cannot create the clients' TCP stack");
        return -1;
    }
    w->clients = calloc(w->nclients, sizeof *w->clients);
    if (!w->clients) {
        snprintf(err->msg, sizeof err->msg, "out of memory for %u clients", w->nclients);
        return -1;
    }
    w->cli_timer_at = TCPE_NEVER;
    return 0;
}

void clients_start(struct sim_world *w, uint64_t now)
{
    for (uint32_t i = 0; i < w->nclients; i++) {
        client_connect(w, i, now);
    }
    client_rearm(w, now);
}

void clients_rx(struct sim_world *w, struct sim_pkt *p, uint64_t now)
{
    tcpe_stack_input(w->cli_stack, &p->seg, now);
    pkt_free(w, p);
    client_rearm(w, now);
}

int clients_of_tuple(const struct sim_world *w, const struct tcpe_tuple *server_side)
{
    uint32_t i = server_side->remote_ip - CLIENT_NET - 1;
    if (i >= w->nclients || w->clients[i].port != server_side->remote_port ||
        !w->clients[i].waiting) {
        return -1;
    }
    return (int)i;
}

uint32_t clients_request_bytes(const struct sim_world *w, uint32_t i)
{
    return REQ_HDR_BYTES + w->clients[i].req.upload;
}

uint64_t clients_response_bytes(const struct sim_world *w, uint32_t i)
{
    return w->clients[i].expected;
}

const struct ho_req *clients_request(const struct sim_world *w, uint32_t i)
{
    return &w->clients[i].req;
}

uint32_t clients_outstanding(const struct sim_world *w)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < w->nclients; i++) {
        n += w->clients[i].waiting;
    }
    return n;
}

void clients_fini(struct sim_world *w)
{
    tcpe_stack_destroy(w->cli_stack);
    ho_wl_destroy(w->wl);
    ho_trace_free(w->trace);
    free(w->clients);
}
