/*
 * sim_time.h - simulated time and drift-free conversion between time and counted units.
 *
 * Simulated time is a uint64_t count of nanoseconds since the start of a run, the unit every
 * engine of the project takes as `now`. 2^64 ns is 584 years, so it never wraps.
 *
 * A nanosecond is coarser than some of the quantities the simulator times: a 600 MIPS
 * instruction lasts 1.666... ns and a bit on a 10 Gb/s wire 0.1 ns, so a 1518-byte frame
 * serializes in 1214.4 ns. Picoseconds would not fix this (600 MHz is not a whole number of
 * picoseconds either). Instead, anything that runs at a rate (a processor counting cycles, a
 * wire counting bits) keeps its own clock as an absolute integer count of units since time 0
 * and converts to nanoseconds only when it needs an event time, with the two functions below.
 * Each such time is then within one nanosecond of the exact instant and the error never
 * accumulates: a million back-to-back 1214.4 ns frames end at exactly 1,214,400,000 ns.
 *
 * Rates are in units per second and must be in 1..SIM_RATE_MAX.
 */
#ifndef HANDOFF_SIM_TIME_H
#define HANDOFF_SIM_TIME_H

#include <stdint.h>

#define SIM_NS_PER_S  1000000000ULL
#define SIM_NS_PER_MS 1000000ULL
#define SIM_NS_PER_US 1000ULL

/* The largest rate the conversions accept: 10^12 units/s (1 THz, 1 Tb/s). */
#define SIM_RATE_MAX 1000000000000ULL

/*
 * Returns how many whole units, counted at rate_per_s from time 0, have elapsed at t_ns:
 * floor(t_ns * rate_per_s / 10^9), computed exactly. rate_per_s must be in 1..SIM_RATE_MAX
 * (checked by assertion). The result saturates at UINT64_MAX.
 */
uint64_t sim_time_to_units(uint64_t t_ns, uint64_t rate_per_s);

/*
 * Returns the first nanosecond at which `units`, counted at rate_per_s from time 0, have all
 * elapsed: ceil(units * 10^9 / rate_per_s), computed exactly. rate_per_s must be in
 * 1..SIM_RATE_MAX (checked by assertion). The result saturates at UINT64_MAX.
 * sim_time_to_units(sim_units_to_time(u, r), r) >= u for every u.
 */
uint64_t sim_units_to_time(uint64_t units, uint64_t rate_per_s);

#endif
