/*
 * dist.c - random distributions for the synthetic workloads (see dist.h).
 *
 * Called by the W/I and SPECweb99 generators. Everything is built on ho_rng_unit() so that a
 * seed fixes every draw; the closed forms (normal tail, Pareto slice means) let the generators
 * build catalogs whose means are exact rather than sampled.
 */
#include "dist.h"

#include <math.h>
#include <stdlib.h>

#include "handoff/err.h"

/* Strict C11 does not promise M_PI and M_SQRT2. */
#define DIST_PI    3.14159265358979323846
#define DIST_SQRT2 1.41421356237309504880

double ho_dist_normal(struct ho_rng *r)
{
    /* Box-Muller; 1 - unit lies in (0, 1], so the logarithm is finite. */
    double u1 = 1.0 - ho_rng_unit(r);
    double u2 = ho_rng_unit(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * DIST_PI * u2);
}

double ho_dist_lognormal(struct ho_rng *r, double mu, double sigma)
{
    return exp(mu + sigma * ho_dist_normal(r));
}

double ho_dist_normal_tail(double z)
{
    return 0.5 * erfc(z / DIST_SQRT2);
}

double ho_dist_probit(double u, double guess)
{
    /* Safeguarded Newton: the bracket [lo, hi] always holds the root, and a step that would
     * leave it bisects instead, so far-off guesses and flat tails cannot diverge. */
    double lo = -40.0, hi = 40.0;
    double x = guess;
    if (!(x > lo && x < hi)) {
        x = 0.0;
    }
    for (int i = 0; i < 200; i++) {
        double f = (1.0 - ho_dist_normal_tail(x)) - u;
        if (f < 0) {
            lo = x;
        } else {
            hi = x;
        }
        double pdf = exp(-0.5 * x * x) / sqrt(2.0 * DIST_PI);
        double next = pdf > 0 ? x - f / pdf : (lo + hi) / 2;
        if (!(next > lo && next < hi)) {
            next = (lo + hi) / 2;
        }
        if (fabs(next - x) < 1e-13 || hi - lo < 1e-13) {
            return next;
        }
        x = next;
    }
    return x;
}

/* The integral of k (1-u)^(-1/alpha) du from a to b (both below the cap's quantile). */
static double pareto_quantile_integral(double k, double alpha, double a, double b)
{
    double e = (alpha - 1.0) / alpha;
    return k * alpha / (alpha - 1.0) * (pow(1.0 - a, e) - pow(1.0 - b, e));
}

double ho_dist_pareto_slice_mean(double k, double alpha, double cap, double a, double b)
{
    double ucap = 1.0 - pow(k / cap, alpha); /* above this quantile the value is capped */
    double sum = 0;
    if (a < ucap) {
        double end = b < ucap ? b : ucap;
        sum += pareto_quantile_integral(k, alpha, a, end);
    }
    if (b > ucap) {
        double start = a > ucap ? a : ucap;
        sum += cap * (b - start);
    }
    return sum / (b - a);
}

int ho_zipf_init(struct ho_zipf *z, uint32_t n, double s)
{
    z->n = 0;
    z->cdf = NULL;
    if (n == 0 || !(s >= 0)) {
        return HO_EINVAL;
    }
    double *cdf = malloc(sizeof(double) * n);
    if (!cdf) {
        return HO_ENOMEM;
    }
    double sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        sum += pow((double)i + 1.0, -s);
        cdf[i] = sum;
    }
    for (uint32_t i = 0; i < n; i++) {
        cdf[i] /= sum;
    }
    cdf[n - 1] = 1.0;
    z->n = n;
    z->cdf = cdf;
    return HO_OK;
}

void ho_zipf_free(struct ho_zipf *z)
{
    free(z->cdf);
    z->cdf = NULL;
    z->n = 0;
}

uint32_t ho_zipf_draw(const struct ho_zipf *z, struct ho_rng *r)
{
    double u = ho_rng_unit(r);
    /* The smallest i with cdf[i] > u; u < 1 == cdf[n-1], so it exists. */
    uint32_t lo = 0, hi = z->n - 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (z->cdf[mid] > u) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return lo;
}

double ho_zipf_prob(const struct ho_zipf *z, uint32_t i)
{
    if (i >= z->n) {
        return 0;
    }
    return i == 0 ? z->cdf[0] : z->cdf[i] - z->cdf[i - 1];
}
