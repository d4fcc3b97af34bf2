/*
 * rng.c - xoshiro256** with splitmix64 seeding (see include/handoff/rng.h).
 *
 * The algorithms are the public-domain reference designs of Blackman and Vigna
 * ("Scrambled linear pseudorandom number generators", 2018); the constants below are theirs.
 */
#include "handoff/rng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void ho_rng_seed(struct ho_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) {
        r->s[i] = splitmix64(&x);
    }
}

void ho_rng_seed_named(struct ho_rng *r, uint64_t seed, const char *name)
{
    /* FNV-1a of the name, folded into the seed: stable across builds and platforms. */
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *p = name; p && *p; p++) {
        h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
    }
    ho_rng_seed(r, seed ^ h);
}

uint64_t ho_rng_next(struct ho_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t ho_rng_below(struct ho_rng *r, uint64_t bound)
{
    if (bound <= 1) {
        return 0;
    }
    /* Reject the top (2^64 mod bound) values so every residue is equally likely. */
    uint64_t threshold = (0 - bound) % bound;
    for (;;) {
        uint64_t v = ho_rng_next(r);
        if (v >= threshold) {
            return v % bound;
        }
    }
}

double ho_rng_unit(struct ho_rng *r)
{
    return (double)(ho_rng_next(r) >> 11) * 0x1.0p-53;
}
