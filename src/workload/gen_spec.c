/*
 * gen_spec.c - the SPECweb99 workloads: D (70 % static, 30 % dynamic) and S (static only).
 *
 * Called by wl.c. The file set, the class mix, the Zipf choices and the dynamic mix follow the
 * SPECweb99 design as the project brief states it; what the brief leaves open (keep-alive
 * lengths, dynamic response and POST sizes, how pacing is expressed) is decided here and
 * documented in docs/workloads.md.
 *
 * Pacing: SPECweb99 holds each client at or below 400 kb/s. A request carries gap_us, the time
 * its response needs at 400 kb/s; the client's next request (on this connection or its next
 * one) leaves no earlier than this request's send time plus gap_us, so a client never averages
 * more than 400 kb/s of response bodies, and a slow server simply makes the gap moot.
 */
#include "gen.h"

#include <stdlib.h>

#include "handoff/err.h"

const double ho_spec_class_prob[HO_SPEC_CLASSES] = {0.35, 0.50, 0.14, 0.01};
const uint32_t ho_spec_class_base[HO_SPEC_CLASSES] = {1024, 10240, 102400, 1024000};
/* Popularity rank r (0 = most popular) is file ho_spec_rank_to_file[r]. */
const uint8_t ho_spec_rank_to_file[HO_SPEC_FILES] = {4, 3, 5, 2, 6, 1, 7, 8, 0};
const double ho_spec_kind_share[HO_REQ_KIND_COUNT] = {
    [HO_REQ_STATIC] = 0.70,      [HO_REQ_DYN_GET] = 0.1245,     [HO_REQ_DYN_POST] = 0.048,
    [HO_REQ_DYN_AD_GET] = 0.126, [HO_REQ_DYN_CGI_GET] = 0.0015,
};

uint32_t ho_genspec_dirs(uint32_t connections)
{
    return (uint32_t)(25.0 + 0.6557 * (double)connections);
}

uint32_t ho_genspec_file_size(unsigned cls, unsigned file)
{
    if (cls >= HO_SPEC_CLASSES || file >= HO_SPEC_FILES) {
        return 0;
    }
    return ho_spec_class_base[cls] * (file + 1) / 10;
}

uint32_t ho_genspec_object(uint32_t dir, unsigned cls, unsigned file)
{
    return dir * HO_SPEC_DIR_FILES + cls * HO_SPEC_FILES + file;
}

int ho_genspec_init(struct ho_genspec *g, enum ho_wl_type type, uint32_t clients)
{
    g->dirs = 0;
    g->dir.cdf = NULL;
    g->file.cdf = NULL;
    if (type != HO_WL_SPECWEB && type != HO_WL_SPECWEB_STATIC) {
        return HO_EINVAL;
    }
    g->dynamic = type == HO_WL_SPECWEB;
    g->dirs = ho_genspec_dirs(clients);
    /* Object ids must fit 32 bits: dirs x 36 < 2^32. */
    if (clients == 0 || g->dirs > UINT32_MAX / HO_SPEC_DIR_FILES) {
        return HO_EINVAL;
    }
    /* Keep-alive connections average (KA_MIN + KA_MAX) / 2 = 10 requests, the others carry one;
     * for them to carry KA_REQ_SHARE of requests a share p of connections is keep-alive with
     * 10p / (10p + 1 - p) = 0.7, that is p = 0.7 / 3.7. */
    double ka_mean = (HO_SPEC_KA_MIN + HO_SPEC_KA_MAX) / 2.0;
    double s = HO_SPEC_KA_REQ_SHARE;
    g->p_keepalive = s / (ka_mean * (1.0 - s) + s);
    int rc = ho_zipf_init(&g->dir, g->dirs, 1.0);
    if (rc == HO_OK) {
        rc = ho_zipf_init(&g->file, HO_SPEC_FILES, 1.0);
    }
    if (rc != HO_OK) {
        ho_genspec_free(g);
    }
    return rc;
}

void ho_genspec_free(struct ho_genspec *g)
{
    ho_zipf_free(&g->dir);
    ho_zipf_free(&g->file);
}

uint32_t ho_genspec_conn_len(const struct ho_genspec *g, struct ho_rng *r)
{
    if (ho_rng_unit(r) < g->p_keepalive) {
        return HO_SPEC_KA_MIN + (uint32_t)ho_rng_below(r, HO_SPEC_KA_MAX - HO_SPEC_KA_MIN + 1);
    }
    return 1;
}

static enum ho_req_kind draw_kind(struct ho_rng *r)
{
    double u = ho_rng_unit(r);
    for (int k = 0; k < HO_REQ_KIND_COUNT - 1; k++) {
        if (u < ho_spec_kind_share[k]) {
            return (enum ho_req_kind)k;
        }
        u -= ho_spec_kind_share[k];
    }
    return (enum ho_req_kind)(HO_REQ_KIND_COUNT - 1);
}

static unsigned draw_class(struct ho_rng *r)
{
    double u = ho_rng_unit(r);
    for (unsigned c = 0; c < HO_SPEC_CLASSES - 1; c++) {
        if (u < ho_spec_class_prob[c]) {
            return c;
        }
        u -= ho_spec_class_prob[c];
    }
    return HO_SPEC_CLASSES - 1;
}

void ho_genspec_req(const struct ho_genspec *g, struct ho_rng *r, struct ho_req *out)
{
    enum ho_req_kind kind = g->dynamic ? draw_kind(r) : HO_REQ_STATIC;
    uint32_t dir = ho_zipf_draw(&g->dir, r);
    unsigned cls = draw_class(r);
    unsigned file = ho_spec_rank_to_file[ho_zipf_draw(&g->file, r)];
    uint32_t size = ho_genspec_file_size(cls, file);
    if (kind != HO_REQ_STATIC) {
        size += HO_SPEC_DYN_WRAP_BYTES;
    }
    /* Bits at 400 kb/s, in microseconds: size x 8 x 10^6 / 400000 = size x 20. */
    uint64_t gap = (uint64_t)size * 8u * 1000000u / HO_SPEC_RATE_BPS;
    *out = (struct ho_req){
        .object = ho_genspec_object(dir, cls, file),
        .size = size,
        .upload = kind == HO_REQ_DYN_POST ? HO_SPEC_POST_BYTES : 0,
        .gap_us = (uint32_t)gap,
        .status = 200,
        .method = kind == HO_REQ_DYN_POST ? HO_METHOD_POST : HO_METHOD_GET,
        .kind = (uint8_t)kind,
    };
}
