/*
 * wc_gen.c - writes a synthetic W or I workload as a World Cup 98 binary log (`handoff trace
 * gen`), see ho_wc_gen_write() in workload_trace.h.
 *
 * Each trace client replays the connections its ho_wl client would pull, and the timestamps
 * are laid out so that the replayer's 15-second rule recovers exactly those connections:
 * requests of a connection are 0 to 3 s apart, and a client waits at least idle + 1 s (plus an
 * exponential pause) before its next connection. The file must be sorted by time like the
 * real logs, so clients advance through a binary min-heap ordered by (next time, client).
 *
 * Cutting the file at a request budget must not cut every client's connection in progress:
 * that would fill a small trace with truncated connections and flatten its lifetime
 * distribution. So a first pass hands connections to clients round-robin, counting only their
 * lengths, until the budget is reached; each client then writes exactly its share of whole
 * connections, and only the very last connection of the trace is shortened to fit.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/err.h"
#include "handoff/workload_trace.h"

#define GEN_T0             893980800u /* 1998-05-01 00:00:00 GMT */
#define GEN_START_SPREAD_S 60u        /* clients start within the first minute */
#define GEN_INTRA_MAX_S    3u         /* requests of a connection are 0..3 s apart */
#define GEN_PAUSE_MEAN_S   60.0       /* mean extra pause between a client's connections */

struct gen_client {
    struct ho_conn conn;
    uint32_t t;          /* timestamp of its next record */
    uint64_t conns_left; /* connections it has still to start */
    uint32_t limit;      /* requests to write of its current connection */
    int need_conn;       /* its next record starts a new connection */
};

struct gen_heap {
    uint32_t *h; /* client indices */
    uint32_t n;
    const struct gen_client *cl;
};

static int heap_less(const struct gen_heap *hp, uint32_t a, uint32_t b)
{
    const struct gen_client *x = &hp->cl[a], *y = &hp->cl[b];
    return x->t != y->t ? x->t < y->t : a < b;
}

static void heap_sift_down(struct gen_heap *hp, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < hp->n && heap_less(hp, hp->h[l], hp->h[m])) {
            m = l;
        }
        if (r < hp->n && heap_less(hp, hp->h[r], hp->h[m])) {
            m = r;
        }
        if (m == i) {
            return;
        }
        uint32_t t = hp->h[i];
        hp->h[i] = hp->h[m];
        hp->h[m] = t;
        i = m;
    }
}

static void gen_err(struct ho_wl_err *err, const char *name, const char *what)
{
    if (err) {
        snprintf(err->msg, sizeof err->msg, "%s: %s", name, what);
    }
}

/* A failed write, with the cause errno names ("No space left on device"). */
static void write_err(struct ho_wl_err *err, const char *name)
{
    char what[160];
    snprintf(what, sizeof what, "write failed: %s", strerror(errno));
    gen_err(err, name, what);
}

/* How many whole connections the budget holds, and how the last one is cut. */
struct plan {
    uint64_t conns;       /* connections in the trace, handed to clients round-robin */
    uint32_t last_client; /* the client of the final connection */
    uint32_t last_len;    /* requests of the final connection that fit the budget */
};

static int plan_connections(const struct ho_wl_params *wp, uint64_t requests, struct plan *plan,
                            struct ho_wl_err *err)
{
    struct ho_wl *wl;
    int rc = ho_wl_create(wp, &wl, err);
    if (rc != HO_OK) {
        return rc;
    }
    uint64_t total = 0, k = 0;
    struct ho_conn conn = {0};
    while (total < requests) {
        /* Client streams do not depend on the pulling order, so this round-robin pass sees
         * the same connections the writer will. Only lengths are drawn here. */
        uint32_t c = (uint32_t)(k % wp->clients);
        ho_wl_next_conn(wl, c, &conn);
        total += conn.nreq;
        plan->last_client = c;
        k++;
    }
    plan->conns = k;
    plan->last_len = (uint32_t)(conn.nreq - (total - requests));
    ho_wl_destroy(wl);
    return HO_OK;
}

int ho_wc_gen_write(FILE *f, const char *name, const struct ho_wc_gen_params *p, ho_wc_gen_cb cb,
                    void *ctx, struct ho_wl_err *err)
{
    if (!name) {
        name = "(output)";
    }
    if (!f || !p || p->clients == 0 || p->requests == 0 ||
        (p->type != HO_WL_WORLDCUP && p->type != HO_WL_IBM)) {
        gen_err(err, name, "bad parameters: a W or I workload, at least 1 client and 1 request");
        return HO_EINVAL;
    }
    struct ho_wl_params wp = {.type = p->type, .seed = p->seed, .clients = p->clients};
    struct plan plan;
    int rc = plan_connections(&wp, p->requests, &plan, err);
    if (rc != HO_OK) {
        return rc;
    }
    struct ho_wl *wl;
    rc = ho_wl_create(&wp, &wl, err);
    if (rc != HO_OK) {
        return rc;
    }
    struct gen_client *cl = calloc(p->clients, sizeof *cl);
    struct gen_heap hp = {.h = malloc(sizeof(uint32_t) * p->clients), .n = 0, .cl = cl};
    if (!cl || !hp.h) {
        free(cl);
        free(hp.h);
        ho_wl_destroy(wl);
        gen_err(err, name, "out of memory");
        return HO_ENOMEM;
    }
    struct ho_rng timing;
    ho_rng_seed_named(&timing, p->seed, "wc-gen-timing");
    for (uint32_t c = 0; c < p->clients; c++) {
        cl[c].t = GEN_T0 + (uint32_t)ho_rng_below(&timing, GEN_START_SPREAD_S);
        cl[c].need_conn = 1;
        cl[c].conns_left = plan.conns / p->clients + (c < plan.conns % p->clients);
        if (cl[c].conns_left) {
            hp.h[hp.n++] = c;
        }
    }
    for (uint32_t i = hp.n / 2; i-- > 0;) {
        heap_sift_down(&hp, i);
    }
    uint64_t written = 0;
    while (hp.n > 0 && rc == HO_OK) {
        uint32_t c = hp.h[0];
        struct gen_client *g = &cl[c];
        int new_conn = g->need_conn;
        if (new_conn) {
            rc = ho_wl_next_conn(wl, c, &g->conn);
            g->need_conn = 0;
            g->conns_left--;
            g->limit = g->conn.nreq;
            if (g->conns_left == 0 && c == plan.last_client) {
                g->limit = plan.last_len; /* the trace's final connection */
            }
        }
        struct ho_req req;
        if (rc != HO_OK || !ho_wl_next_req(wl, &g->conn, &req)) {
            gen_err(err, name, "internal error: empty connection");
            rc = HO_EINVAL;
            break;
        }
        struct ho_wc_record r = {
            .timestamp = g->t,
            .client = c,
            .object = req.object,
            .size = req.status == 304 ? HO_WC_SIZE_NONE : req.size,
            .method = 0,
            .status = (uint8_t)((2u << 6) | ho_wc_status_index(req.status)), /* HTTP/1.1 */
        };
        uint8_t buf[HO_WC_RECORD_BYTES];
        ho_wc_encode(&r, buf);
        if (fwrite(buf, 1, sizeof buf, f) != sizeof buf) {
            write_err(err, name);
            rc = HO_ENOENT;
            break;
        }
        written++;
        if (cb && cb(ctx, c, g->t, &req, new_conn)) {
            gen_err(err, name, "stopped by the caller");
            rc = HO_EAGAIN;
            break;
        }
        uint64_t step;
        if (g->conn.done < g->limit) {
            step = ho_rng_below(&timing, GEN_INTRA_MAX_S + 1);
        } else if (g->conns_left > 0) {
            double pause = -GEN_PAUSE_MEAN_S * log(1.0 - ho_rng_unit(&timing));
            step = HO_TRACE_IDLE_S + 1 + (uint64_t)pause;
            g->need_conn = 1;
        } else {
            hp.h[0] = hp.h[--hp.n]; /* this client is done */
            heap_sift_down(&hp, 0);
            continue;
        }
        if ((uint64_t)g->t + step > UINT32_MAX) {
            gen_err(err, name, "timestamps would overflow 32 bits; ask for fewer requests");
            rc = HO_ELIMIT;
            break;
        }
        g->t += (uint32_t)step;
        heap_sift_down(&hp, 0);
    }
    if (rc == HO_OK && written != p->requests) {
        gen_err(err, name, "internal error: the plan and the records disagree");
        rc = HO_EINVAL;
    }
    if (rc == HO_OK && fflush(f) != 0) {
        write_err(err, name);
        rc = HO_ENOENT;
    }
    free(cl);
    free(hp.h);
    ho_wl_destroy(wl);
    return rc;
}
