/*
 * select.h - the operating system's connection-selection policy (paper section 3.3).
 *
 * The OS decides which established connections to offer to the NIC. Each listening port has a
 * policy (or the default one):
 *   HO_SEL_NEVER   never hand off (the paper's "0" NIC connections, or a port kept on the host)
 *   HO_SEL_FCFS    offer the connection once, when it is established
 *   HO_SEL_THRESH  offer it once, at the n-th enqueue to its send socket buffer (the paper's Tn:
 *                  "the operating system attempts a handoff when the n-th enqueue operation
 *                  to the connection's send socket buffer occurs")
 * A connection is considered at exactly one moment: if the advertised Soft limit leaves no room
 * then, or the NIC refuses the handoff, the connection stays on the host for good. This is the
 * paper's framework, which "does not consider connections for handoff if the first handoff
 * attempt for that connection fails".
 *
 * The OS never has more connections on (or on their way to) the NIC than the Soft limit the NIC
 * last advertised: room is counted from the connections accepted or in flight, and a lowered
 * Soft limit stops new offers until enough of them end.
 *
 * The selector holds no per-connection table: each connection embeds a small struct ho_sel_conn
 * that the selector updates. No allocation, no I/O, no clock.
 */
#ifndef HANDOFF_SELECT_H
#define HANDOFF_SELECT_H

#include <stdint.h>

enum ho_sel_kind {
    HO_SEL_NEVER = 0,
    HO_SEL_FCFS = 1,
    HO_SEL_THRESH = 2,
};

struct ho_sel_policy {
    enum ho_sel_kind kind; /* what to do */
    uint32_t threshold;    /* n of Tn (>= 1), for HO_SEL_THRESH */
};

/* Where a connection stands with respect to handoff, in order of its life. */
enum ho_sel_state {
    HO_SEL_HOST = 0,     /* on the host, not yet considered */
    HO_SEL_OFFERED = 1,  /* offered, the NIC's reply not yet back */
    HO_SEL_ON_NIC = 2,   /* accepted by the NIC */
    HO_SEL_PASSED = 3,   /* considered and kept on the host for good (no room or refused) */
    HO_SEL_RETURNED = 4, /* was on the NIC, ended there or restored to the host */
    HO_SEL_NSTATES
};

/* Per-connection selection state, embedded in the OS's connection. Zero-initialise it. */
struct ho_sel_conn {
    uint32_t enqueues; /* enqueues to the send socket buffer so far */
    uint16_t port;     /* local (listening) port, fixed at establishment */
    uint8_t state;     /* enum ho_sel_state */
};

#define HO_SEL_MAX_PORTS 64

struct ho_sel {
    struct ho_sel_policy dflt;        /* policy for ports not listed */
    uint16_t ports[HO_SEL_MAX_PORTS]; /* ports with their own policy */
    struct ho_sel_policy port_policy[HO_SEL_MAX_PORTS];
    uint32_t nports;     /* entries used in ports[] */
    uint32_t soft_limit; /* last Soft limit the NIC advertised */
    uint32_t on_nic;     /* connections offered or accepted, not ended */
    uint64_t offered;    /* handoffs offered */
    uint64_t accepted;   /* handoffs the NIC accepted */
    uint64_t refused;    /* handoffs the NIC refused */
    uint64_t no_room;    /* considered while the Soft limit had no room */
};

/* What the OS should do with a connection now. */
enum ho_sel_verdict {
    HO_SEL_KEEP = 0,  /* leave it where it is */
    HO_SEL_OFFER = 1, /* hand it off now (the selector counted it as in flight) */
};

/*
 * Initialises the selector with a default policy and the NIC's initial Soft limit (its Hard
 * limit, until the NIC advertises otherwise). Returns HO_OK, or HO_EINVAL if the policy is
 * invalid (unknown kind, or HO_SEL_THRESH with threshold 0).
 */
int ho_sel_init(struct ho_sel *s, const struct ho_sel_policy *dflt, uint32_t soft_limit);

/*
 * Gives a listening port its own policy (replacing an earlier one for the same port).
 * Returns HO_OK, HO_EINVAL for an invalid policy, or HO_ENOSPC when HO_SEL_MAX_PORTS ports
 * already have one.
 */
int ho_sel_set_port(struct ho_sel *s, uint16_t port, const struct ho_sel_policy *p);

/* The policy that applies to a port. */
const struct ho_sel_policy *ho_sel_policy_for(const struct ho_sel *s, uint16_t port);

/* The NIC advertised a new Soft limit. */
void ho_sel_advertised(struct ho_sel *s, uint32_t soft_limit);

/*
 * A connection on local port `port` was established: c is initialised and, under FCFS, this
 * is its moment. Returns the verdict.
 */
enum ho_sel_verdict ho_sel_established(struct ho_sel *s, struct ho_sel_conn *c, uint16_t port);

/*
 * The application enqueued data to c's send socket buffer. Under Tn the n-th enqueue is the
 * connection's moment. Returns the verdict.
 */
enum ho_sel_verdict ho_sel_enqueued(struct ho_sel *s, struct ho_sel_conn *c);

/*
 * The NIC answered an offer. Returns HO_OK, or HO_ESTATE if c was not offered.
 */
int ho_sel_reply(struct ho_sel *s, struct ho_sel_conn *c, int accepted);

/*
 * A connection that was on the NIC ended there or was restored to the host: its room is free
 * again. Returns HO_OK, or HO_ESTATE if c was not on the NIC.
 */
int ho_sel_left_nic(struct ho_sel *s, struct ho_sel_conn *c);

/* "host", "offered", "on-nic", "passed", "returned", or "?". */
const char *ho_sel_state_name(enum ho_sel_state st);

/*
 * Parses a policy name as the paper writes it: "FCFS", "Tn" with n >= 1 (e.g. "T20"), or
 * "NEVER" (case-insensitive). Returns HO_OK or HO_EINVAL.
 */
int ho_sel_parse(const char *text, struct ho_sel_policy *out);

/* Writes the paper's name of a policy ("FCFS", "T20", "NEVER") into buf; returns buf. */
const char *ho_sel_format(const struct ho_sel_policy *p, char *buf, unsigned len);

#endif
