/*
 * rng.h - a small, seeded, reproducible pseudo-random generator.
 *
 * xoshiro256** (Blackman and Vigna, 2018) seeded through splitmix64, so that any 64-bit seed,
 * including 0, gives a well-mixed state. Each simulated component owns one generator, derived
 * from the run's seed and the component's name, so adding a draw in one component never shifts
 * the numbers another one sees.
 */
#ifndef HANDOFF_RNG_H
#define HANDOFF_RNG_H

#include <stdint.h>

struct ho_rng {
    uint64_t s[4];
};

/* Seeds the generator; the same seed always yields the same sequence. */
void ho_rng_seed(struct ho_rng *r, uint64_t seed);
/* Seeds from a run seed and a component name (e.g. "clients", "channel"). */
void ho_rng_seed_named(struct ho_rng *r, uint64_t seed, const char *name);
/* A uniformly distributed 64-bit value. */
uint64_t ho_rng_next(struct ho_rng *r);
/* Uniform in [0, bound); bound must be > 0. Unbiased (rejection sampling). */
uint64_t ho_rng_below(struct ho_rng *r, uint64_t bound);
/* Uniform double in [0, 1). */
double ho_rng_unit(struct ho_rng *r);

#endif
