/*
 * policy_plugin.h - the interface a selection or load-control policy is written against
 * (docs/policies.md is the guide, with a worked example).
 *
 * A policy is one C file in src/policy/ (sel_NAME.c or lc_NAME.c) that defines one const struct
 * of the kind below, and one line in its module's table of plug-ins (src/policy/select.c or
 * src/policy/loadctl.c) registers it under its name. The common code of the module keeps
 * everything the policies share and must not get wrong: for selection, the room counted against
 * the Soft limit, the counters, and the rule that a connection is considered once; for load
 * control, Cnum, admission against the Soft limit, the counters, the trace, and the one place
 * where the state and Soft limit change. A plug-in only answers: it allocates nothing, keeps no
 * global state, reads no clock, and writes nothing but the state areas it is handed.
 *
 * The header is private to the policy engine: the OS side and the firmware see only select.h
 * and loadctl.h, and choose a plug-in by its name through the configuration.
 */
#ifndef HANDOFF_POLICY_PLUGIN_H
#define HANDOFF_POLICY_PLUGIN_H

#include <stdbool.h>
#include <stdint.h>

#include "handoff/loadctl.h"
#include "handoff/select.h"

/* ---- connection selection --------------------------------------------------------------- */

/* A plug-in's answer for a connection still on the host and not yet considered. */
enum ho_sel_answer {
    HO_SEL_ANSWER_KEEP = 0,  /* not its moment: ask again at the next event */
    HO_SEL_ANSWER_OFFER = 1, /* its moment: offer it if the Soft limit has room; either way it is
                                not asked again (unless the plug-in sets reoffer and it is back
                                on the host) */
    HO_SEL_ANSWER_PASS = 2,  /* it will never be offered: keep it on the host for good */
    HO_SEL_ANSWER_GIVE_BACK = 3, /* (drained only) ask the NIC for the connection back */
};

/* What a plug-in sees of the selector at every event. */
struct ho_sel_view {
    const struct ho_sel_policy *policy; /* the policy as configured for the port (its n) */
    union ho_sel_area *shared; /* the plug-in's state for this port, across its connections;
                                  zero when the policy is set */
    uint32_t soft_limit;       /* the Soft limit the NIC last advertised */
    uint32_t on_nic;           /* connections offered or on the NIC, not ended */
};

/* An enqueue to a connection's send socket buffer. */
struct ho_sel_enqueue {
    uint32_t appended; /* bytes this enqueue added */
    uint64_t left;     /* bytes the write or sendfile under way had still to enqueue before this
                          enqueue, these included: what the OS knows of the response's rest
                          (0 when the OS does not say) */
};

/*
 * A selection policy. name is what configurations write: the whole name ("FCFS"), or, if
 * takes_n, the letter in front of the parameter ("T" for "T20"). Every hook may be NULL (the
 * event does not concern the policy; a NULL answering hook answers KEEP). In every hook, c is
 * the connection as the selector keeps it (c->enqueues counts this enqueue already) and mine is
 * the plug-in's area of it, zero at establishment.
 *
 * established and enqueued are called only while c is on the host and not yet considered, and
 * answer. replied and left_nic follow c's offer and its end on the NIC, after the selector has
 * moved it and counted the room. advertised follows a new Soft limit, once per configured
 * policy (the default's and each port's), with v->soft_limit already the new one.
 */
struct ho_sel_plugin {
    const char *name;
    bool takes_n;
    enum ho_sel_answer (*established)(const struct ho_sel_view *v, const struct ho_sel_conn *c,
                                      union ho_sel_area *mine);
    enum ho_sel_answer (*enqueued)(const struct ho_sel_view *v, const struct ho_sel_conn *c,
                                   union ho_sel_area *mine, const struct ho_sel_enqueue *e);
    void (*replied)(const struct ho_sel_view *v, const struct ho_sel_conn *c,
                    union ho_sel_area *mine, bool accepted);
    void (*left_nic)(const struct ho_sel_view *v, const struct ho_sel_conn *c,
                     union ho_sel_area *mine);
    void (*advertised)(const struct ho_sel_view *v, uint32_t old_soft_limit);
    /* c is on the NIC with nothing left to send (ho_sel_drained): GIVE_BACK to free its slot,
     * KEEP (or NULL) to leave it there. */
    enum ho_sel_answer (*drained)(const struct ho_sel_view *v, const struct ho_sel_conn *c,
                                  union ho_sel_area *mine);
    /* Connections are considered again after each moment that did not leave them on the NIC:
     * one back from the NIC, one the Soft limit had no room for and one the NIC refused return
     * to the host's pool instead of being passed for good (the paper's policies consider a
     * connection once). */
    bool reoffer;
};

/* The registered selection plug-ins (one file each). */
extern const struct ho_sel_plugin ho_sel_never;  /* sel_never.c */
extern const struct ho_sel_plugin ho_sel_fcfs;   /* sel_fcfs.c */
extern const struct ho_sel_plugin ho_sel_thresh; /* sel_thresh.c */
extern const struct ho_sel_plugin ho_sel_bytes;  /* sel_bytes.c */

/* ---- load control ----------------------------------------------------------------------- */

/* One arrow of the machine: the state to enter and the Soft limit there. */
struct ho_lc_move {
    enum ho_lc_state to;
    uint32_t soft_limit; /* within [lc->p.min_soft_limit, lc->p.hard_limit] */
};

/* What an evaluation is told: the event, already applied to Cnum, and what the firmware saw. */
struct ho_lc_input {
    enum ho_lc_event ev;
    uint32_t qlen;    /* NIC packets on the receive queue (Qlen) */
    uint64_t now;     /* the firmware's clock, ns */
    uint64_t wait_ns; /* HO_LC_EV_DEQUEUE: how long the packet taken waited on the queue; else 0 */
};

/*
 * A load-control policy. name is its letter in the shorthand ("L"). evaluate is called after
 * each event has been applied to Cnum; it reads lc (its state, Soft limit, Cnum and parameters)
 * and in, may update its own state in mine (lc->area, zeroed at init), and returns true with
 * *move filled to take one arrow, or false to stay. The common code then changes the state,
 * counts the arrow, traces it and, if the Soft limit moved, has the firmware advertise it.
 * NULL: the policy never moves.
 */
struct ho_lc_plugin {
    const char *name;
    bool (*evaluate)(const struct ho_lc *lc, union ho_lc_area *mine, const struct ho_lc_input *in,
                     struct ho_lc_move *move);
};

/* The registered load-control plug-ins (one file each). */
extern const struct ho_lc_plugin ho_lc_none;     /* lc_none.c */
extern const struct ho_lc_plugin ho_lc_figure3;  /* lc_figure3.c */
extern const struct ho_lc_plugin ho_lc_adaptive; /* lc_adaptive.c */

#endif
