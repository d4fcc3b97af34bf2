/*
 * dist.h - the random distributions the synthetic workloads draw from (private to
 * src/workload). Every draw takes the generator it consumes, so a caller decides which stream
 * (client, connection) pays for it and the results stay reproducible.
 */
#ifndef HO_WORKLOAD_DIST_H
#define HO_WORKLOAD_DIST_H

#include <stdint.h>

#include "handoff/rng.h"

/* A standard normal deviate (Box-Muller; consumes two uniforms). */
double ho_dist_normal(struct ho_rng *r);

/* A lognormal deviate: exp(mu + sigma * N(0,1)). */
double ho_dist_lognormal(struct ho_rng *r, double mu, double sigma);

/* P(Z > z) for a standard normal Z. */
double ho_dist_normal_tail(double z);

/* The standard normal quantile: z with P(Z <= z) = u, for 0 < u < 1. Newton's method on
 * erfc from a start point `guess` (pass 0 when there is none): callers that walk u upwards
 * pass the previous answer and converge in two or three steps. */
double ho_dist_probit(double u, double guess);

/* Mean of min(X, cap) over the quantile slice u in [a, b) of a Pareto(k, alpha) variable X
 * (P(X > x) = (k/x)^alpha for x >= k), alpha > 0, alpha != 1, 0 <= a < b <= 1, cap >= k: the
 * integral of min(k (1-u)^(-1/alpha), cap) du over [a, b), divided by (b - a). */
double ho_dist_pareto_slice_mean(double k, double alpha, double cap, double a, double b);

/* A Zipf-like distribution over ranks 0..n-1 with P(rank i) proportional to 1/(i+1)^s. */
struct ho_zipf {
    uint32_t n;
    double *cdf; /* cdf[i] = P(rank <= i); cdf[n-1] == 1 */
};

/* Builds the table. Returns HO_OK, HO_EINVAL (n == 0, s < 0) or HO_ENOMEM. */
int ho_zipf_init(struct ho_zipf *z, uint32_t n, double s);
void ho_zipf_free(struct ho_zipf *z);
/* Draws a rank in [0, n) (one uniform, binary search). */
uint32_t ho_zipf_draw(const struct ho_zipf *z, struct ho_rng *r);
/* The probability of rank i. */
double ho_zipf_prob(const struct ho_zipf *z, uint32_t i);

#endif
