/*
 * sim_time.c - exact conversions between nanoseconds and units counted at a rate (see
 * include/handoff/sim_time.h). Called by the processor model for task completion times and by
 * anything else that runs at a rate (the wire's bit clock).
 *
 * The products t * rate and units * 10^9 overflow 64 bits after a few seconds of simulated time
 * at GHz rates, so both are formed in 128 bits (a GCC/Clang extension on 64-bit targets, which
 * is what the project builds on) and the quotient is saturated back to 64 bits.
 */
#include "handoff/sim_time.h"

#include "handoff/assert.h"

__extension__ typedef unsigned __int128 u128;

static uint64_t saturate(u128 v)
{
    return v > (u128)UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

uint64_t sim_time_to_units(uint64_t t_ns, uint64_t rate_per_s)
{
    HO_ASSERT(rate_per_s >= 1 && rate_per_s <= SIM_RATE_MAX, "rate %llu out of range",
              (unsigned long long)rate_per_s);
    if (t_ns <= UINT64_MAX / rate_per_s) {
        return t_ns * rate_per_s / SIM_NS_PER_S; /* the common case: no 128-bit division */
    }
    return saturate((u128)t_ns * rate_per_s / SIM_NS_PER_S);
}

uint64_t sim_units_to_time(uint64_t units, uint64_t rate_per_s)
{
    HO_ASSERT(rate_per_s >= 1 && rate_per_s <= SIM_RATE_MAX, "rate %llu out of range",
              (unsigned long long)rate_per_s);
    if (units <= (UINT64_MAX - rate_per_s) / SIM_NS_PER_S) {
        return (units * SIM_NS_PER_S + rate_per_s - 1) / rate_per_s;
    }
    u128 num = (u128)units * SIM_NS_PER_S;
    return saturate((num + rate_per_s - 1) / rate_per_s);
}
