/*
 * pool.h - the simulator's packet memory: every packet of a run, with virtual payload, in
 * chunks that never move (a part may hold a packet while the TCP engine it calls makes more).
 * A packet's number (ho_pkt.id) is its place in the pool; freed numbers are reused last in,
 * first out.
 */
#ifndef HANDOFF_SIM_POOL_H
#define HANDOFF_SIM_POOL_H

#include <stdint.h>

#include "handoff/pkt.h"

struct sim_pkt {
    struct ho_pkt pkt;  /* first: a struct ho_pkt * is a struct sim_pkt * */
    uint32_t next_free; /* free-list link */
};

struct sim_pool {
    struct sim_pkt **chunks;
    uint32_t n;         /* packets allocated */
    uint32_t free_head; /* first free number, UINT32_MAX if none */
    uint32_t live;      /* packets in use */
};

void pool_init(struct sim_pool *pl);
void pool_fini(struct sim_pool *pl);
/* A new packet holding seg (payload dropped), framed; NULL when memory runs out. */
struct ho_pkt *pool_alloc(struct sim_pool *pl, const struct tcpe_seg *seg);
void pool_free(struct sim_pool *pl, struct ho_pkt *p);
struct ho_pkt *pool_at(const struct sim_pool *pl, uint32_t id);

#endif
