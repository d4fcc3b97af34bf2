/*
 * tt_world.h - a deterministic little network for TCP engine tests: stacks on two sides of an
 * in-memory channel that loses, duplicates, reorders and delays segments, all drawn from one
 * seeded generator, on a simulated clock.
 *
 * Each side may hold several stacks (a host and its NIC). A segment for a side goes to the first
 * stack of that side that has a connection with its 4-tuple (as the NIC's lookup layer would),
 * else to the side's first stack (listeners, RSTs). Each stack may run on its own clock, offset
 * from the world's, as two machines do.
 *
 * The channel's decisions for a segment are drawn from a hash of the seed, the time and the
 * segment itself, not from a shared stream, so one connection's fate does not depend on how its
 * segments interleave with other connections' (which lets a run where connections move between
 * stacks be compared with one where they do not). Every emitted segment (time, side, header,
 * options and timestamps) is folded into two hashes: `trace`, in emission order, and
 * `trace_set`, order-independent.
 *
 * Usage: tt_world_init; tt_world_add_stack for each stack (fills p->ops.output, p->ops.event and
 * p->ctx); drive with tt_world_run; tt_world_fini. Not thread-safe; no globals.
 */
#ifndef TT_WORLD_H
#define TT_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "handoff/tcpe.h"

#define TT_MAX_STACKS 4
#define TT_MS         1000000ull
#define TT_SEC        1000000000ull

struct tt_chan_params {
    uint64_t seed;          /* seeds the channel's generator */
    double loss;            /* probability a segment is lost */
    double dup;             /* probability a segment is delivered twice */
    double reorder;         /* probability a segment is held back by reorder_delay */
    uint64_t delay;         /* one-way delay, ns */
    uint64_t jitter;        /* extra delay drawn uniformly from [0, jitter), ns */
    uint64_t reorder_delay; /* extra delay of a held-back segment, ns */
    double corrupt;         /* probability a payload octet is flipped (checks the checkers) */
    uint32_t refuse_every;  /* each stack's interface refuses (HO_ENOSPC) every n-th segment it
                               is given, before the channel sees it; 0 = never */
};

struct tt_world;

/* An application's view of one stack: its events come here. */
typedef void (*tt_event_fn)(void *app, struct tcpe_conn *c, unsigned events);

struct tt_ep {
    struct tt_world *w;     /* the world */
    int side;               /* 0 or 1 */
    struct tcpe_stack *s;   /* the stack */
    uint64_t offset;        /* the stack's clock minus the world's */
    bool per_conn;          /* deliver through tcpe_conn_input when the lookup finds one */
    uint64_t bytes_live;    /* octets the stack has allocated and not freed */
    uint64_t bytes_peak;    /* the most it ever held */
    uint64_t allocs;        /* allocations */
    uint64_t allocs_failed; /* allocations refused (alloc_fail) */
    tt_event_fn event;      /* the application's event handler (may be NULL) */
    void *app;              /* its context */
    uint64_t outputs;       /* segments the stack gave its interface */
    uint64_t refused;       /* of those, refused (tt_chan_params.refuse_every) */
};

struct tt_pkt; /* a segment in flight (tt_world.c) */

struct tt_world {
    uint64_t now;                   /* the simulated clock, ns */
    struct tt_chan_params cp;       /* channel behaviour */
    struct tt_ep ep[TT_MAX_STACKS]; /* the stacks */
    int nep;                        /* stacks added */
    struct tt_pkt **q;              /* in-flight segments, min-heap on (at, id) */
    size_t qlen;                    /* entries in q */
    size_t qcap;                    /* entries allocated */
    uint64_t next_id;               /* id of the next segment queued */
    uint64_t trace;                 /* FNV-1a over every emitted segment, in order */
    uint64_t trace_set;             /* sum of per-segment hashes: order-independent */
    uint64_t emitted;               /* segments emitted */
    uint64_t lost;                  /* segments the channel lost */
    uint64_t duplicated;            /* segments delivered twice */
    uint64_t reordered;             /* segments held back */
    bool drop_all[2];               /* a partition: drop everything sent toward a side */
    void *dump;                     /* a FILE * to log every emitted segment to, or NULL */
    double alloc_fail;              /* probability that a stack's allocation fails */
};

void tt_world_init(struct tt_world *w, const struct tt_chan_params *cp);

/* Frees in-flight segments and destroys every stack. */
void tt_world_fini(struct tt_world *w);

/* Creates a stack on a side from p (its ops.output, ops.event, ops.realloc and ctx are filled
 * in: the stack's memory is counted in its tt_ep, and allocations fail with probability
 * w->alloc_fail) and returns it; fails the test on error. */
struct tcpe_stack *tt_world_add_stack(struct tt_world *w, int side, struct tcpe_params *p,
                                      tt_event_fn event, void *app);

/* Runs a stack on its own clock: world time + offset. */
void tt_world_set_offset(struct tt_world *w, struct tcpe_stack *s, uint64_t offset);

/* A stack's clock now (the `now` to pass to calls on its connections). */
uint64_t tt_world_clock(const struct tt_world *w, const struct tcpe_stack *s);

/* The time of the next thing to happen (a delivery or a timer), or TCPE_NEVER. */
uint64_t tt_world_next(const struct tt_world *w);

/*
 * Advances the clock to the next event at or before limit and processes everything due then
 * (deliveries first, in queue order, then each stack's timers). Returns false if nothing was due
 * by limit (the clock then moves to limit).
 */
bool tt_world_step(struct tt_world *w, uint64_t limit);

/* Steps until done(arg) returns true or the clock would pass limit. Returns done(arg). */
bool tt_world_run(struct tt_world *w, uint64_t limit, bool (*done)(void *arg), void *arg);

/* The endpoint record of a stack. */
struct tt_ep *tt_world_ep(struct tt_world *w, const struct tcpe_stack *s);

/* Which stack a segment for side would be delivered to. */
struct tcpe_stack *tt_world_route(struct tt_world *w, int side, const struct tcpe_seg *seg);

/* 64-bit FNV-1a, for traces and data patterns. */
uint64_t tt_fnv(uint64_t h, const void *p, size_t n);
#define TT_FNV_INIT 0xcbf29ce484222325ULL

/* The byte at offset off of stream id: a pattern senders write and receivers check. */
uint8_t tt_pattern(uint64_t id, uint64_t off);
/* Fills buf with n bytes of stream id from off. */
void tt_pattern_fill(uint64_t id, uint64_t off, uint8_t *buf, size_t n);

#endif
