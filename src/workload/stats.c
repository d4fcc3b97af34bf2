/*
 * stats.c - workload summaries and the connection-lifetime distribution of Figure 4 (see
 * include/handoff/workload_stats.h).
 *
 * Called by `handoff trace stats` and by the generator tests. The accumulator keeps every
 * response size and one small record per connection so that medians and the ranking by sent
 * packets are exact; that is 4 bytes a request and 24 a connection, far below what the trace
 * itself holds.
 */
#include <stdlib.h>
#include <string.h>

#include "handoff/err.h"
#include "handoff/workload_stats.h"
#include "handoff/workload_trace.h"

#define MAX_CODE 1000 /* status codes are counted directly below this */

struct conn_rec {
    uint64_t packets;
    uint64_t bytes;
    uint32_t nreq;
};

struct ho_wl_stats_acc {
    struct ho_wl_stats s;
    uint64_t status[MAX_CODE];
    uint32_t *sizes;
    uint64_t nsizes, capsizes;
    struct conn_rec *conns;
    uint64_t nconns, capconns;
    struct conn_rec cur;
};

int ho_wl_stats_acc_create(struct ho_wl_stats_acc **out)
{
    struct ho_wl_stats_acc *a = calloc(1, sizeof *a);
    if (!a) {
        return HO_ENOMEM;
    }
    *out = a;
    return HO_OK;
}

void ho_wl_stats_acc_free(struct ho_wl_stats_acc *a)
{
    if (!a) {
        return;
    }
    free(a->sizes);
    free(a->conns);
    free(a);
}

/* Returns arr with room for element n (doubling *cap as needed), or NULL with arr intact. */
static void *reserve(void *arr, uint64_t *cap, uint64_t n, size_t elem)
{
    if (n < *cap) {
        return arr;
    }
    uint64_t ncap = *cap ? *cap * 2 : 1024;
    void *p = realloc(arr, ncap * elem);
    if (p) {
        *cap = ncap;
    }
    return p;
}

int ho_wl_stats_acc_req(struct ho_wl_stats_acc *a, const struct ho_req *r)
{
    struct ho_wl_stats *s = &a->s;
    s->requests++;
    s->upload_bytes += r->upload;
    a->status[r->status < MAX_CODE ? r->status : 0]++;
    s->method_count[r->method < HO_METHOD_COUNT ? r->method : HO_METHOD_OTHER]++;
    if (r->kind < HO_REQ_KIND_COUNT) {
        s->kind_count[r->kind]++;
    }
    a->cur.nreq++;
    if (r->size == HO_REQ_SIZE_UNKNOWN) {
        s->unknown_size++;
        return HO_OK;
    }
    uint32_t *sizes = reserve(a->sizes, &a->capsizes, a->nsizes, sizeof *a->sizes);
    if (!sizes) {
        return HO_ENOMEM;
    }
    a->sizes = sizes;
    a->sizes[a->nsizes++] = r->size;
    s->sized++;
    s->bytes += r->size;
    uint32_t pk = ho_wl_resp_packets(r->size);
    s->packets += pk;
    a->cur.packets += pk;
    a->cur.bytes += r->size;
    return HO_OK;
}

int ho_wl_stats_acc_end_conn(struct ho_wl_stats_acc *a)
{
    if (a->cur.nreq == 0) {
        return HO_OK;
    }
    struct conn_rec *conns = reserve(a->conns, &a->capconns, a->nconns, sizeof *a->conns);
    if (!conns) {
        return HO_ENOMEM;
    }
    a->conns = conns;
    a->conns[a->nconns++] = a->cur;
    a->s.connections++;
    memset(&a->cur, 0, sizeof a->cur);
    return HO_OK;
}

static int u32_cmp(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

static int conn_cmp(const void *x, const void *y)
{
    const struct conn_rec *a = x, *b = y;
    if (a->packets != b->packets) {
        return a->packets < b->packets ? -1 : 1;
    }
    return (a->bytes > b->bytes) - (a->bytes < b->bytes);
}

/* Nearest-rank percentile of sorted v[0..n): the ceil(p n)-th smallest. */
static uint32_t nearest_rank(const uint32_t *v, uint64_t n, double p)
{
    if (n == 0) {
        return 0;
    }
    uint64_t rank = (uint64_t)(p * (double)n);
    if ((double)rank < p * (double)n) {
        rank++;
    }
    if (rank == 0) {
        rank = 1;
    }
    return v[(rank > n ? n : rank) - 1];
}

int ho_wl_stats_acc_finish(struct ho_wl_stats_acc *a, struct ho_wl_stats *out)
{
    if (ho_wl_stats_acc_end_conn(a) != HO_OK) {
        return HO_ENOMEM;
    }
    struct ho_wl_stats *s = &a->s;
    uint64_t n = a->nsizes, nc = a->nconns;
    uint32_t *nreq = malloc(sizeof *nreq * (nc ? nc : 1));
    if (!nreq) {
        return HO_ENOMEM;
    }
    if (n) {
        qsort(a->sizes, n, sizeof *a->sizes, u32_cmp);
    }
    s->size_mean = n ? (double)s->bytes / (double)n : 0;
    s->size_median = nearest_rank(a->sizes, n, 0.5);
    s->size_p90 = nearest_rank(a->sizes, n, 0.9);
    s->size_p99 = nearest_rank(a->sizes, n, 0.99);
    s->size_max = n ? a->sizes[n - 1] : 0;

    s->nstatus = 0;
    for (unsigned code = 0; code < MAX_CODE; code++) {
        if (!a->status[code]) {
            continue;
        }
        if (s->nstatus < HO_WL_STATS_MAX_STATUS) {
            s->status_code[s->nstatus] = (uint16_t)code;
            s->status_count[s->nstatus++] = a->status[code];
        } else {
            s->status_other += a->status[code];
        }
    }

    for (uint64_t i = 0; i < nc; i++) {
        nreq[i] = a->conns[i].nreq;
    }
    if (nc) {
        qsort(nreq, nc, sizeof *nreq, u32_cmp);
        qsort(a->conns, nc, sizeof *a->conns, conn_cmp);
    }
    s->reqs_per_conn_mean = nc ? (double)s->requests / (double)nc : 0;
    s->reqs_per_conn_median = nearest_rank(nreq, nc, 0.5);
    s->reqs_per_conn_p90 = nearest_rank(nreq, nc, 0.9);
    s->reqs_per_conn_max = nc ? nreq[nc - 1] : 0;
    free(nreq);

    uint64_t cum_p = 0, cum_b = 0, done = 0;
    for (int k = 0; k <= 10; k++) {
        uint64_t upto = nc * (uint64_t)k / 10;
        for (; done < upto; done++) {
            cum_p += a->conns[done].packets;
            cum_b += a->conns[done].bytes;
        }
        s->cdf_packets[k] = s->packets ? (double)cum_p / (double)s->packets : 0;
        s->cdf_bytes[k] = s->bytes ? (double)cum_b / (double)s->bytes : 0;
    }
    s->bottom50_packet_share = s->cdf_packets[5];
    s->bottom50_byte_share = s->cdf_bytes[5];
    s->top10_packet_share = s->packets ? 1.0 - s->cdf_packets[9] : 0;
    s->top10_byte_share = s->bytes ? 1.0 - s->cdf_bytes[9] : 0;
    *out = *s;
    return HO_OK;
}

int ho_wl_stats_of_trace(const struct ho_trace *t, struct ho_wl_stats *out)
{
    struct ho_wl_stats_acc *a;
    if (ho_wl_stats_acc_create(&a) != HO_OK) {
        return HO_ENOMEM;
    }
    int rc = HO_OK;
    for (uint64_t c = 0; c < t->nconn && rc == HO_OK; c++) {
        const struct ho_trace_conn *tc = &t->conns[c];
        for (uint32_t i = 0; i < tc->nreq && rc == HO_OK; i++) {
            rc = ho_wl_stats_acc_req(a, &t->reqs[tc->first + i]);
        }
        if (rc == HO_OK) {
            rc = ho_wl_stats_acc_end_conn(a);
        }
    }
    if (rc == HO_OK) {
        rc = ho_wl_stats_acc_finish(a, out);
    }
    ho_wl_stats_acc_free(a);
    return rc;
}

int ho_wl_stats_of_workload(struct ho_wl *wl, uint32_t clients, uint64_t connections,
                            struct ho_wl_stats *out)
{
    struct ho_wl_stats_acc *a;
    if (clients == 0) {
        return HO_EINVAL;
    }
    if (ho_wl_stats_acc_create(&a) != HO_OK) {
        return HO_ENOMEM;
    }
    int rc = HO_OK;
    for (uint64_t c = 0; c < connections && rc == HO_OK; c++) {
        struct ho_conn conn;
        struct ho_req req;
        rc = ho_wl_next_conn(wl, (uint32_t)(c % clients), &conn);
        while (rc == HO_OK && ho_wl_next_req(wl, &conn, &req)) {
            rc = ho_wl_stats_acc_req(a, &req);
        }
        if (rc == HO_OK) {
            rc = ho_wl_stats_acc_end_conn(a);
        }
    }
    if (rc == HO_OK) {
        rc = ho_wl_stats_acc_finish(a, out);
    }
    ho_wl_stats_acc_free(a);
    return rc;
}
