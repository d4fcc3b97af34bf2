/*
 * loadctl.h - the NIC's load control (paper section 3.2, Figure 3).
 *
 * The NIC keeps the number of connections handed off to it (Cnum) under a Soft limit that a
 * load-control policy moves. The policies are plug-ins of the policy engine, one file each,
 * registered by their letter in the paper's shorthand (src/policy/loadctl.c; docs/policies.md
 * says how to write one):
 *   HO_LC_NONE     "N"  no load control: Soft limit stays at Hard limit, the machine stays in
 *                       MONITOR and only admission against Hard limit is enforced
 *   HO_LC_FIGURE3  "L"  the machine of Figure 3, below
 *   HO_LC_ADAPTIVE "A"  no watermarks: the Soft limit is steered from the time NIC packets wait
 *                       on the receive queue, against a target of a share of the receive memory
 *                       in the NIC's own service time per packet (src/policy/lc_adaptive.c;
 *                       docs/policy-engine.md gives the control law and its argument)
 * The firmware calls the ho_lc_* functions whatever the policy; they apply the event to Cnum,
 * ask the policy for at most one arrow, and take it. Besides the paper's three events, the
 * firmware reports each NIC packet it takes off the receive queue with the time it waited
 * there (ho_lc_dequeue): Figure 3 and N ignore it, A measures its queueing delay from it.
 *
 * Figure 3 moves Soft limit so as to keep the number of received NIC packets waiting on the
 * receive queue (Qlen) between two watermarks, Lowat and Hiwat. Its arrows, in the order they
 * are checked:
 *
 *   from       condition            action                            to
 *   MONITOR    Qlen > Hiwat         Soft limit -= step, advertise     DECREASE
 *   MONITOR    Qlen < Lowat         Soft limit += step, advertise     INCREASE
 *   DECREASE   Cnum < Soft limit    -                                 MONITOR
 *   INCREASE   Qlen > Hiwat         Soft limit -= step, advertise     DECREASE
 *   INCREASE   Cnum >= Soft limit   -                                 MONITOR
 *
 * DECREASE waits for connections to end, INCREASE for new ones to arrive; in INCREASE an
 * overload is checked first, since shedding load matters more than filling the NIC.
 *
 * Figure 3 is evaluated only when a packet arrives at the receive queue, when the host hands
 * a connection off, and when a connection on the NIC ends (a policy is evaluated at every
 * event, the dequeue too, and Figure 3 does not move on a dequeue); each evaluation takes at
 * most one transition (one arrow of the figure). Every change of Soft limit is an advertisement the
 * driver must be told of: the evaluation functions return 1 when that happens. Every
 * transition can be traced through a callback.
 *
 * Choices the paper leaves open, and ours (docs/policy-engine.md gives the reasoning):
 * - Soft limit moves by a fixed step per transition (params.step), never above Hard limit and
 *   never below params.min_soft_limit (>= 1: at 0, "Cnum < Soft limit" could never hold and
 *   DECREASE could never be left).
 * - An arrow whose Soft limit cannot move (already at Hard limit or at the floor) is not taken:
 *   there is nothing to advertise and nothing to wait for.
 *
 * The object is a plain struct so it can be embedded in the firmware's state without
 * allocation; its fields are private to loadctl.c and the plug-ins (read them through the
 * accessors). A zeroed struct is the policy "N" with Hard limit 0.
 */
#ifndef HANDOFF_LOADCTL_H
#define HANDOFF_LOADCTL_H

#include <stdbool.h>
#include <stdint.h>

#include "handoff/cmd.h"

/* The states of Figure 3, in order. */
enum ho_lc_state {
    HO_LC_MONITOR = 0,  /* Qlen between the watermarks, or Soft limit just reached */
    HO_LC_DECREASE = 1, /* overloaded: waiting for connections to end */
    HO_LC_INCREASE = 2, /* underloaded: waiting for new connections */
    HO_LC_NSTATES
};

/* The registered load-control policies: an index into the table of plug-ins. */
enum ho_lc_kind {
    HO_LC_NONE = 0,     /* "N" */
    HO_LC_FIGURE3 = 1,  /* "L" */
    HO_LC_ADAPTIVE = 2, /* "A" */
    HO_LC_NKINDS
};

/* What caused an evaluation. */
enum ho_lc_event {
    HO_LC_EV_PACKET = 0,   /* a packet arrived on the receive queue */
    HO_LC_EV_HANDOFF = 1,  /* the host handed a connection off (accepted) */
    HO_LC_EV_CONN_END = 2, /* a connection on the NIC ended (closed or restored) */
    HO_LC_EV_DEQUEUE = 3,  /* the NIC took a NIC packet off the receive queue to process it */
    HO_LC_NEVENTS
};

/* One transition, as given to the trace callback. */
struct ho_lc_transition {
    uint64_t now;            /* time of the evaluation (caller's clock) */
    enum ho_lc_event event;  /* what caused it */
    enum ho_lc_state from;   /* state before */
    enum ho_lc_state to;     /* state after */
    uint32_t qlen;           /* Qlen seen by the evaluation */
    uint32_t cnum;           /* Cnum after the event was applied */
    uint32_t soft_limit_old; /* Soft limit before */
    uint32_t soft_limit_new; /* Soft limit after (equal to old if unchanged) */
};

typedef void (*ho_lc_trace_fn)(void *ctx, const struct ho_lc_transition *t);

struct ho_lc_params {
    uint32_t hard_limit;     /* connections the NIC's memory can hold; >= 1 */
    uint32_t hiwat;          /* Qlen above this means overload; > lowat */
    uint32_t lowat;          /* Qlen below this means underload */
    uint32_t step;           /* connections Soft limit moves per transition; >= 1 */
    uint32_t min_soft_limit; /* floor of Soft limit; 1 <= min_soft_limit <= hard_limit */
    enum ho_lc_kind kind;    /* the policy: HO_LC_FIGURE3 "L", HO_LC_NONE "N", HO_LC_ADAPTIVE "A" */
    uint32_t target_pkts;    /* A: the target standing delay, in the NIC's service times per
                                NIC packet (a share of the receive memory); >= 1 under A */
    uint32_t cut_pct;        /* A: a decrease removes this percent of the share of connections
                                the excess delay stands for; 1..100 under A */
    uint32_t raise_pct;      /* A: an increase adds this percent of Cnum times the share of
                                time the queue was dry; 1..100 under A */
    ho_lc_trace_fn trace;    /* called on every transition; may be NULL */
    void *trace_ctx;         /* passed to trace */
};

/* A policy's own state inside the machine, zeroed at init; what each word means is the policy's
 * business (src/policy/lc_*.c). */
union ho_lc_area {
    uint64_t u64[10];
    uint32_t u32[20];
    unsigned char bytes[80];
};

struct ho_lc {
    struct ho_lc_params p;  /* parameters, fixed at init */
    enum ho_lc_kind kind;   /* the policy, p.kind */
    enum ho_lc_state state; /* current state of Figure 3 */
    uint32_t soft_limit;    /* current maximum number of connections on the NIC */
    uint32_t cnum;          /* connections currently on the NIC */
    uint64_t adverts;       /* Soft-limit advertisements produced */
    uint64_t refused;       /* handoffs refused by admission */
    union ho_lc_area area;  /* the policy's own state */
    uint64_t transitions[HO_LC_NSTATES][HO_LC_NSTATES]; /* taken arrows, [from][to] */
};

/*
 * Fills params with the defaults: the given hard limit, Hiwat 1024 and Lowat 512 (the paper's
 * threshold of 1024 for W-4096-P-L; Lowat is ours), step 16, floor 1, policy L, A's target 1024
 * service times (half a 2048-packet receive memory), cut 25 % and raise 6 %, no trace.
 */
void ho_lc_params_default(struct ho_lc_params *p, uint32_t hard_limit);

/*
 * Initialises lc in MONITOR with Soft limit = Hard limit, Cnum = 0 and the policy's area zeroed,
 * under the policy p->kind.
 * Returns HO_OK, or HO_EINVAL (lc untouched) if a parameter is out of range: hard_limit 0,
 * step 0, lowat >= hiwat, min_soft_limit outside [1, hard_limit], kind not a policy, or, under
 * A, target_pkts 0, or cut_pct or raise_pct outside [1, 100].
 */
int ho_lc_init(struct ho_lc *lc, const struct ho_lc_params *p);

/*
 * A packet arrived on the receive queue, which now holds qlen NIC packets.
 * Returns 1 if Soft limit changed (advertise ho_lc_soft_limit() to the driver), else 0.
 */
int ho_lc_packet(struct ho_lc *lc, uint32_t qlen, uint64_t now);

/*
 * The host offers a connection. Admits it if Cnum < Soft limit (and so < Hard limit): Cnum
 * grows by one and the machine is evaluated. A refused offer changes nothing but a counter
 * (the driver may not yet have heard the latest advertisement).
 * Returns 1 if admitted and Soft limit changed, 0 if admitted and it did not, or HO_ELIMIT if
 * refused.
 */
int ho_lc_admit(struct ho_lc *lc, uint32_t qlen, uint64_t now);

/*
 * A connection on the NIC ended (closed, reset, or restored to the host): Cnum drops by one
 * and the machine is evaluated.
 * Returns 1 if Soft limit changed, 0 if not, or HO_ESTATE (nothing changed) if Cnum is 0.
 */
int ho_lc_conn_end(struct ho_lc *lc, uint32_t qlen, uint64_t now);

/*
 * The NIC took a NIC packet off the receive queue, which now holds qlen NIC packets, after it
 * had waited wait_ns there (the time of the take less the time of the enqueue). Cnum does not
 * change; the policy is evaluated (Figure 3 and N never move on it).
 * Returns 1 if Soft limit changed, else 0.
 */
int ho_lc_dequeue(struct ho_lc *lc, uint32_t qlen, uint64_t wait_ns, uint64_t now);

/*
 * Fills out with the SOFT_LIMIT advertisement of lc's current Soft limit, Hard limit, Cnum and
 * state, numbered seq (the firmware's next message sequence number to the driver). Called after
 * an evaluation returned 1; the result always encodes (Soft limit and Cnum never exceed Hard
 * limit).
 */
void ho_lc_advert(const struct ho_lc *lc, uint32_t seq, struct ho_cmd *out);

enum ho_lc_state ho_lc_state(const struct ho_lc *lc);
uint32_t ho_lc_soft_limit(const struct ho_lc *lc);
uint32_t ho_lc_cnum(const struct ho_lc *lc);

/*
 * The registered policy of a name, as the shorthand writes it ("L", "N", "A"; case-sensitive).
 * Returns its enum ho_lc_kind, or HO_ENOENT if no policy has that name (or name is NULL).
 */
int ho_lc_find(const char *name);

/* The policy lc runs. */
enum ho_lc_kind ho_lc_kind(const struct ho_lc *lc);

/* The table's name of a policy ("L", "N", "A"), or "?" for a value out of range. */
const char *ho_lc_kind_name(enum ho_lc_kind k);

/* "MONITOR", "DECREASE", "INCREASE", or "?" for a value out of range. */
const char *ho_lc_state_name(enum ho_lc_state s);
/* "packet", "handoff", "conn-end", "dequeue", or "?". */
const char *ho_lc_event_name(enum ho_lc_event e);

#endif
