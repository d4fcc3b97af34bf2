/*
 * select.h - the operating system's connection-selection policy (paper section 3.3).
 *
 * The OS decides which established connections to offer to the NIC. Each listening port has a
 * policy (or the default one). The policies are plug-ins of the policy engine, one file each,
 * found by name in one table (src/policy/select.c; docs/policies.md says how to write one):
 *   HO_SEL_NEVER   "NEVER"  never hand off (the paper's "0" NIC connections, or a port kept on
 *                           the host)
 *   HO_SEL_FCFS    "FCFS"   offer the connection once, when it is established
 *   HO_SEL_THRESH  "Tn"     offer it once, at the n-th enqueue to its send socket buffer (the
 *                           paper's Tn: "the operating system attempts a handoff when the n-th
 *                           enqueue operation to the connection's send socket buffer occurs")
 *   HO_SEL_BYTES   "Bn"     offer it at each enqueue at which the bytes the current response
 *                           still has to send, as far as the OS knows them (the length of the
 *                           write or sendfile under way), reach n KB; give its slot back when
 *                           that transfer has drained and three quarters of the Soft limit are
 *                           taken (ho_sel_drained)
 *
 * A connection is considered at exactly one moment, the one its policy chooses: if the
 * advertised Soft limit leaves no room then, or the NIC refuses the handoff, the connection stays
 * on the host for good. This is the paper's framework, which "does not consider connections for
 * handoff if the first handoff attempt for that connection fails". A policy beyond the paper's
 * may ask for its connections to be considered again (Bn does: a connection without room, refused
 * or back from the NIC returns to the pool). The rule, and the room counted against the Soft
 * limit, are this module's, not the plug-ins': a plug-in only says when a connection's moment
 * has come.
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

/* The registered policies: an index into the table of plug-ins. */
enum ho_sel_kind {
    HO_SEL_NEVER = 0,
    HO_SEL_FCFS = 1,
    HO_SEL_THRESH = 2,
    HO_SEL_BYTES = 3,
    HO_SEL_NKINDS
};

struct ho_sel_policy {
    enum ho_sel_kind kind; /* which plug-in */
    uint32_t threshold;    /* its parameter n, for a plug-in that takes one (>= 1): enqueues for
                              Tn, KB for Bn */
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

/* A plug-in's own state: a few words it uses as it likes, zero when their life begins. */
union ho_sel_area {
    uint64_t u64[2];
    uint32_t u32[4];
};

/* Per-connection selection state, embedded in the OS's connection. Zero-initialise it. */
struct ho_sel_conn {
    uint32_t enqueues;      /* enqueues to the send socket buffer so far */
    uint16_t port;          /* local (listening) port, fixed at establishment */
    uint8_t state;          /* enum ho_sel_state */
    union ho_sel_area area; /* the port's plug-in's, for this connection */
};

#define HO_SEL_MAX_PORTS 64

struct ho_sel {
    struct ho_sel_policy dflt;        /* policy for ports not listed */
    uint16_t ports[HO_SEL_MAX_PORTS]; /* ports with their own policy */
    struct ho_sel_policy port_policy[HO_SEL_MAX_PORTS];
    /* The plug-ins' state for each policy, across its connections: the default's, each port's. */
    union ho_sel_area dflt_area;
    union ho_sel_area port_area[HO_SEL_MAX_PORTS];
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
    HO_SEL_KEEP = 0,      /* leave it where it is */
    HO_SEL_OFFER = 1,     /* hand it off now (the selector counted it as in flight) */
    HO_SEL_GIVE_BACK = 2, /* ask the NIC for it back (ho_os_restore): its slot is better used by
                             another (ho_sel_drained) */
};

/*
 * Initialises the selector with a default policy and the NIC's initial Soft limit (its Hard
 * limit, until the NIC advertises otherwise). Returns HO_OK, or HO_EINVAL if the policy is
 * invalid (unknown kind, or a plug-in that takes a parameter given 0).
 */
int ho_sel_init(struct ho_sel *s, const struct ho_sel_policy *dflt, uint32_t soft_limit);

/*
 * Gives a listening port its own policy (replacing an earlier one for the same port, whose
 * per-port plug-in state is then cleared; connections already established on the port are
 * asked by the new policy from then on, with their own areas as the old one left them).
 * Returns HO_OK, HO_EINVAL for an invalid policy, or HO_ENOSPC when HO_SEL_MAX_PORTS ports
 * already have one.
 */
int ho_sel_set_port(struct ho_sel *s, uint16_t port, const struct ho_sel_policy *p);

/* The policy that applies to a port. */
const struct ho_sel_policy *ho_sel_policy_for(const struct ho_sel *s, uint16_t port);

/* The NIC advertised a new Soft limit; every configured policy's plug-in is told. */
void ho_sel_advertised(struct ho_sel *s, uint32_t soft_limit);

/*
 * A connection on local port `port` was established: c is initialised and the port's plug-in
 * sees the event (under FCFS this is the connection's moment). Returns the verdict.
 */
enum ho_sel_verdict ho_sel_established(struct ho_sel *s, struct ho_sel_conn *c, uint16_t port);

/*
 * The application enqueued `appended` bytes to c's send socket buffer, in a write or sendfile
 * that had `left` bytes still to enqueue before this enqueue (these bytes included): what the OS
 * knows of the current response's remaining bytes. Under Tn the n-th enqueue is the connection's
 * moment, under Bn the first at which `left` reaches n KB. Returns the verdict.
 */
enum ho_sel_verdict ho_sel_enqueued_bytes(struct ho_sel *s, struct ho_sel_conn *c,
                                          uint32_t appended, uint64_t left);

/*
 * ho_sel_enqueued_bytes for a caller that does not know the sizes (0 appended, 0 left): counts
 * the enqueue; a size-aware policy sees nothing left to send and does not offer.
 */
enum ho_sel_verdict ho_sel_enqueued(struct ho_sel *s, struct ho_sel_conn *c);

/*
 * c is on the NIC and has nothing left to send: every byte the application gave it is
 * acknowledged, and the application's last write or sendfile took all it was given. A policy
 * that frees NIC slots when a transfer ends answers HO_SEL_GIVE_BACK; any other, HO_SEL_KEEP
 * (also when c is not on the NIC).
 */
enum ho_sel_verdict ho_sel_drained(struct ho_sel *s, struct ho_sel_conn *c);

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
 * The registered plug-in of a name as the table lists it ("NEVER", "FCFS", "T", "B"; case-
 * insensitive; a plug-in that takes a parameter is named without it). Returns its enum
 * ho_sel_kind, or HO_ENOENT if no plug-in has that name (or name is NULL).
 */
int ho_sel_find(const char *name);

/* The table's name of a kind ("FCFS", "T", ...), or "?" for a kind out of range. */
const char *ho_sel_kind_name(enum ho_sel_kind kind);

/*
 * Parses a policy name as the paper writes it: a plug-in's name ("FCFS", "NEVER"), or, for a
 * plug-in that takes a parameter, its name followed by n >= 1 in decimal ("T20", "B64"); case-
 * insensitive. Returns HO_OK, or HO_EINVAL (out untouched).
 */
int ho_sel_parse(const char *text, struct ho_sel_policy *out);

/*
 * Writes the paper's name of a policy ("FCFS", "T20", "B64", "NEVER") into buf, or "?" for an
 * invalid policy; returns buf. ho_sel_parse reads it back to an equal policy.
 */
const char *ho_sel_format(const struct ho_sel_policy *p, char *buf, unsigned len);

#endif
