/*
 * wl.c - the workload object: hands connections to closed-loop clients and requests to
 * connections (see include/handoff/workload.h).
 *
 * Called by the simulator's clients, by `handoff trace gen` and by the statistics. It only
 * dispatches: the synthetic models live in gen_web.c and gen_spec.c, traces in trace*.c.
 * Each client owns a generator seeded from the run's seed and its index; a connection's
 * requests come from a generator seeded by one draw of its client's, so what a client sees
 * does not depend on how the simulator interleaves clients.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "gen.h"
#include "handoff/err.h"
#include "handoff/workload.h"
#include "handoff/workload_trace.h"

struct ho_wl {
    struct ho_wl_params p;
    uint64_t next_seq;         /* seq of the next connection handed out */
    uint64_t trace_next;       /* trace: the next trace connection to hand out */
    uint64_t wraps;            /* trace: times it started over */
    struct ho_rng *client_rng; /* synthetic: one per client */
    struct ho_genweb web;      /* W, I */
    struct ho_genspec spec;    /* D, S */
};

static const char *const type_names[HO_WL_TYPE_COUNT] = {
    [HO_WL_WORLDCUP] = "W",       [HO_WL_IBM] = "I",       [HO_WL_SPECWEB] = "D",
    [HO_WL_SPECWEB_STATIC] = "S", [HO_WL_TRACE] = "trace",
};

const char *ho_wl_type_name(enum ho_wl_type t)
{
    return (unsigned)t < HO_WL_TYPE_COUNT ? type_names[t] : "?";
}

int ho_wl_type_parse(const char *s)
{
    if (!s || !s[0] || s[1]) {
        return HO_EINVAL;
    }
    switch (s[0]) {
    case 'W':
    case 'w':
        return HO_WL_WORLDCUP;
    case 'I':
    case 'i':
        return HO_WL_IBM;
    case 'D':
    case 'd':
        return HO_WL_SPECWEB;
    case 'S':
    case 's':
        return HO_WL_SPECWEB_STATIC;
    default:
        return HO_EINVAL;
    }
}

static const char *const method_names[HO_METHOD_COUNT] = {"GET", "HEAD", "POST", "other"};
static const char *const kind_names[HO_REQ_KIND_COUNT] = {
    [HO_REQ_STATIC] = "static",
    [HO_REQ_DYN_GET] = "dynamic-get",
    [HO_REQ_DYN_POST] = "dynamic-post",
    [HO_REQ_DYN_AD_GET] = "dynamic-ad-get",
    [HO_REQ_DYN_CGI_GET] = "dynamic-cgi-get",
};

const char *ho_method_name(unsigned m)
{
    return m < HO_METHOD_COUNT ? method_names[m] : "?";
}

const char *ho_req_kind_name(unsigned k)
{
    return k < HO_REQ_KIND_COUNT ? kind_names[k] : "?";
}

uint64_t ho_wl_start_delay_us(const struct ho_wl *wl, uint32_t client)
{
    if (client >= wl->p.clients && client - wl->p.clients < wl->p.streams) {
        /* A stream is somewhere in its gap: a uniform share of it. */
        struct ho_rng r;
        ho_rng_seed_named(&r, wl->p.seed + (uint64_t)client * 0x9e3779b97f4a7c15ull, "stream");
        return (uint64_t)(ho_rng_unit(&r) * wl->p.stream_gap_us);
    }
    if (wl->p.type != HO_WL_SPECWEB && wl->p.type != HO_WL_SPECWEB_STATIC) {
        return 0;
    }
    /* A stream of its own, so that the requests the client makes are those it would make
     * without the wait. */
    struct ho_rng r;
    ho_rng_seed_named(&r, wl->p.seed + (uint64_t)client * 0x9e3779b97f4a7c15ull, "start");
    /* The longest gap: the largest file, dynamic, at the paced rate. */
    uint64_t max_size =
        ho_genspec_file_size(HO_SPEC_CLASSES - 1, HO_SPEC_FILES - 1) + HO_SPEC_DYN_WRAP_BYTES;
    double max_gap = (double)max_size * 8e6 / HO_SPEC_RATE_BPS;
    struct ho_req req;
    do { /* a gap drawn in proportion to its length, by rejection */
        ho_genspec_req(&wl->spec, &r, &req);
    } while (ho_rng_unit(&r) * max_gap >= (double)req.gap_us);
    return (uint64_t)(ho_rng_unit(&r) * req.gap_us);
}

uint32_t ho_wl_resp_packets(uint32_t size)
{
    const uint32_t page = 4096, mss = 1460;
    uint32_t tail = size % page;
    return 1 + size / page * ((page + mss - 1) / mss) + (tail + mss - 1) / mss;
}

static void set_err(struct ho_wl_err *err, const char *msg)
{
    if (err) {
        snprintf(err->msg, sizeof err->msg, "%s", msg);
    }
}

static int check_trace(const struct ho_trace *t, struct ho_wl_err *err)
{
    if (!t) {
        set_err(err, "a trace workload needs a trace");
        return HO_EINVAL;
    }
    if (t->nconn == 0) {
        set_err(err, "the trace has no requests to replay");
        return HO_EINVAL;
    }
    if (t->unknown_size > 0) {
        if (err) {
            snprintf(err->msg, sizeof err->msg,
                     "%llu requests of the trace have no response size (give size=BYTES in "
                     "the session file)",
                     (unsigned long long)t->unknown_size);
        }
        return HO_EINVAL;
    }
    return HO_OK;
}

int ho_wl_create(const struct ho_wl_params *p, struct ho_wl **out, struct ho_wl_err *err)
{
    if (!p || !out || p->clients == 0 || (unsigned)p->type >= HO_WL_TYPE_COUNT) {
        set_err(err, "bad workload parameters (clients must be at least 1)");
        return HO_EINVAL;
    }
    if (p->streams > 0 && (p->stream_bytes == 0 || p->stream_gap_us == 0 ||
                           p->streams > UINT32_MAX - p->clients ||
                           p->streams > UINT32_MAX - HO_WL_STREAM_OBJECT)) {
        set_err(err, "bad stream parameters (a segment of at least 1 byte every 1 us or more)");
        return HO_EINVAL;
    }
    if (p->type == HO_WL_TRACE) {
        int rc = check_trace(p->trace, err);
        if (rc != HO_OK) {
            return rc;
        }
    }
    struct ho_wl *wl = calloc(1, sizeof *wl);
    if (!wl) {
        set_err(err, "out of memory");
        return HO_ENOMEM;
    }
    wl->p = *p;
    int rc = HO_OK;
    switch (p->type) {
    case HO_WL_WORLDCUP:
    case HO_WL_IBM:
        rc = ho_genweb_init(&wl->web, p->type, p->seed);
        break;
    case HO_WL_SPECWEB:
    case HO_WL_SPECWEB_STATIC:
        rc = ho_genspec_init(&wl->spec, p->type, p->clients);
        break;
    default:
        break;
    }
    if (rc == HO_OK && p->type != HO_WL_TRACE) {
        wl->client_rng = malloc(sizeof(struct ho_rng) * p->clients);
        if (!wl->client_rng) {
            rc = HO_ENOMEM;
        } else {
            struct ho_rng base;
            char name[32];
            snprintf(name, sizeof name, "clients-%s", type_names[p->type]);
            ho_rng_seed_named(&base, p->seed, name);
            for (uint32_t c = 0; c < p->clients; c++) {
                ho_rng_seed(&wl->client_rng[c], ho_rng_next(&base));
            }
        }
    }
    if (rc != HO_OK) {
        set_err(err, rc == HO_ENOMEM ? "out of memory" : "bad workload parameters");
        ho_wl_destroy(wl);
        return rc;
    }
    *out = wl;
    return HO_OK;
}

void ho_wl_destroy(struct ho_wl *wl)
{
    if (!wl) {
        return;
    }
    switch (wl->p.type) {
    case HO_WL_WORLDCUP:
    case HO_WL_IBM:
        ho_genweb_free(&wl->web);
        break;
    case HO_WL_SPECWEB:
    case HO_WL_SPECWEB_STATIC:
        ho_genspec_free(&wl->spec);
        break;
    default:
        break;
    }
    free(wl->client_rng);
    free(wl);
}

int ho_wl_next_conn(struct ho_wl *wl, uint32_t client, struct ho_conn *conn)
{
    if (client >= wl->p.clients + wl->p.streams) {
        return HO_EINVAL;
    }
    memset(conn, 0, sizeof *conn);
    conn->seq = wl->next_seq++;
    conn->client = client;
    conn->origin = client;
    if (client >= wl->p.clients) {
        conn->nreq = UINT32_MAX; /* a stream's one connection: it does not end */
        return HO_OK;
    }
    if (wl->p.type == HO_WL_TRACE) {
        const struct ho_trace *t = wl->p.trace;
        if (wl->trace_next >= t->nconn) {
            wl->trace_next = 0;
            wl->wraps++;
        }
        const struct ho_trace_conn *tc = &t->conns[wl->trace_next];
        conn->src = wl->trace_next++;
        conn->origin = tc->client;
        conn->nreq = tc->nreq;
        return HO_OK;
    }
    struct ho_rng *r = &wl->client_rng[client];
    if (wl->p.type == HO_WL_WORLDCUP || wl->p.type == HO_WL_IBM) {
        conn->nreq = ho_genweb_conn_len(&wl->web, r);
    } else {
        conn->nreq = ho_genspec_conn_len(&wl->spec, r);
    }
    ho_rng_seed(&conn->rng, ho_rng_next(r));
    return HO_OK;
}

int ho_wl_next_req(const struct ho_wl *wl, struct ho_conn *conn, struct ho_req *req)
{
    if (conn->done >= conn->nreq) {
        return 0;
    }
    if (conn->client >= wl->p.clients) {
        *req = (struct ho_req){
            .object = HO_WL_STREAM_OBJECT + (conn->client - wl->p.clients),
            .size = wl->p.stream_bytes,
            .gap_us = wl->p.stream_gap_us,
            .status = 200,
            .method = HO_METHOD_GET,
            .kind = HO_REQ_STATIC,
        };
        conn->done++;
        return 1;
    }
    switch (wl->p.type) {
    case HO_WL_TRACE: {
        const struct ho_trace *t = wl->p.trace;
        *req = t->reqs[t->conns[conn->src].first + conn->done];
        break;
    }
    case HO_WL_WORLDCUP:
    case HO_WL_IBM:
        ho_genweb_req(&wl->web, &conn->rng, req);
        break;
    default:
        ho_genspec_req(&wl->spec, &conn->rng, req);
        break;
    }
    conn->done++;
    return 1;
}

uint64_t ho_wl_wraps(const struct ho_wl *wl)
{
    return wl->wraps;
}
