/*
 * gen_web.c - the W (World Cup-like) and I (IBM-like) synthetic workloads.
 *
 * Called by wl.c. A connection carries a heavy-tailed number of requests (a discretised
 * lognormal), each for an object drawn uniformly from a fixed catalog whose sizes follow a
 * lognormal body with a Pareto tail. Together they give the shape of the paper's Figure 4:
 * most connections are short and carry little, a few carry most packets.
 *
 * The catalog is stratified rather than sampled: body objects sit at evenly spaced quantiles
 * of the lognormal and tail objects take the exact mean of their slice of the Pareto, so the
 * mean object size is the model's, not a seed's luck, while the seed still decides which id has
 * which size. Popularity is uniform on purpose: with sizes independent of popularity, a Zipf
 * popularity would let the size drawn for the few most popular objects move the mean transfer
 * by a large factor from seed to seed. Parameters and their sources: docs/workloads.md.
 */
#include "gen.h"

#include <math.h>
#include <stdlib.h>

#include "handoff/err.h"

/* W: mean 12 requests per connection with sigma 1.6 (Figure 4: the top 10 % of connections
 * send over 60 % of packets, section 5.2); 19 % 304s; objects of median 1.5 KB and a tail from
 * 20 KB; mean object 4.4 KB, so 3.6 KB per request once the 304s are counted. */
static const struct ho_web_model model_worldcup = {
    .n_mu = 1.1635,
    .n_sigma = 1.6,
    .n_max = 2000,
    .p304 = 0.19,
    .body_mu = 7.3,
    .body_sigma = 1.3,
    .tail_p = 0.015,
    .tail_k = 20000,
    .tail_alpha = 1.3,
    .size_max = 2097152,
    .objects = 20000,
};

/* I: mean 12 requests per connection and 2.5 KB per request (the brief, from the paper's
 * Figure 5); sigma 1.5 keeps Figure 4's bands with margin. No 304s: nothing is known. */
static const struct ho_web_model model_ibm = {
    .n_mu = 1.3176,
    .n_sigma = 1.5,
    .n_max = 2000,
    .p304 = 0.0,
    .body_mu = 6.9,
    .body_sigma = 1.2,
    .tail_p = 0.01,
    .tail_k = 15000,
    .tail_alpha = 1.4,
    .size_max = 2097152,
    .objects = 10000,
};

const struct ho_web_model *ho_genweb_model(enum ho_wl_type type)
{
    switch (type) {
    case HO_WL_WORLDCUP:
        return &model_worldcup;
    case HO_WL_IBM:
        return &model_ibm;
    default:
        return NULL;
    }
}

static uint32_t clamp_size(double v, uint32_t cap)
{
    if (!(v >= 1.0)) {
        return 1;
    }
    if (v >= (double)cap) {
        return cap;
    }
    return (uint32_t)(v + 0.5);
}

int ho_genweb_init(struct ho_genweb *g, enum ho_wl_type type, uint64_t seed)
{
    g->m = ho_genweb_model(type);
    g->size = NULL;
    if (!g->m) {
        return HO_EINVAL;
    }
    const struct ho_web_model *m = g->m;
    uint32_t n = m->objects;
    uint32_t *size = malloc(sizeof(uint32_t) * n);
    if (!size) {
        return HO_ENOMEM;
    }
    uint32_t ntail = (uint32_t)(m->tail_p * n + 0.5);
    uint32_t nbody = n - ntail;
    double z = 0;
    for (uint32_t i = 0; i < nbody; i++) {
        z = ho_dist_probit((i + 0.5) / nbody, z);
        size[i] = clamp_size(exp(m->body_mu + m->body_sigma * z), m->size_max);
    }
    for (uint32_t j = 0; j < ntail; j++) {
        double a = (double)j / ntail, b = (double)(j + 1) / ntail;
        double mean = ho_dist_pareto_slice_mean(m->tail_k, m->tail_alpha, m->size_max, a, b);
        size[nbody + j] = clamp_size(mean, m->size_max);
    }
    /* Fisher-Yates: which id carries which size is the seed's business. */
    struct ho_rng r;
    ho_rng_seed_named(&r, seed, type == HO_WL_WORLDCUP ? "catalog-W" : "catalog-I");
    for (uint32_t i = n - 1; i > 0; i--) {
        uint32_t k = (uint32_t)ho_rng_below(&r, (uint64_t)i + 1);
        uint32_t t = size[i];
        size[i] = size[k];
        size[k] = t;
    }
    g->size = size;
    return HO_OK;
}

void ho_genweb_free(struct ho_genweb *g)
{
    free(g->size);
    g->size = NULL;
}

uint32_t ho_genweb_conn_len(const struct ho_genweb *g, struct ho_rng *r)
{
    const struct ho_web_model *m = g->m;
    double x = ceil(ho_dist_lognormal(r, m->n_mu, m->n_sigma));
    if (!(x >= 1.0)) {
        return 1;
    }
    if (x >= (double)m->n_max) {
        return m->n_max;
    }
    return (uint32_t)x;
}

void ho_genweb_req(const struct ho_genweb *g, struct ho_rng *r, struct ho_req *out)
{
    const struct ho_web_model *m = g->m;
    uint32_t object = (uint32_t)ho_rng_below(r, m->objects);
    int not_modified = ho_rng_unit(r) < m->p304;
    *out = (struct ho_req){
        .object = object,
        .size = not_modified ? 0 : g->size[object],
        .status = not_modified ? 304 : 200,
        .method = HO_METHOD_GET,
        .kind = HO_REQ_STATIC,
    };
}

double ho_genweb_mean_requests(const struct ho_web_model *m)
{
    /* E[N] = sum over n >= 0 of P(N > n); for 1 <= n < n_max, N > n iff the lognormal > n. */
    double e = 1.0;
    for (uint32_t n = 1; n < m->n_max; n++) {
        e += ho_dist_normal_tail((log((double)n) - m->n_mu) / m->n_sigma);
    }
    return e;
}

double ho_genweb_catalog_mean(const struct ho_genweb *g)
{
    double sum = 0;
    for (uint32_t i = 0; i < g->m->objects; i++) {
        sum += g->size[i];
    }
    return sum / g->m->objects;
}
