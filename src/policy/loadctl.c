/*
 * loadctl.c - load control: the table of plug-ins and what they share (see
 * include/handoff/loadctl.h; the plug-ins are src/policy/lc_*.c, written against
 * policy_plugin.h).
 *
 * The firmware calls one of four entry points: one per event the paper names (packet arrival,
 * handoff, connection end), and one for each NIC packet it takes off the receive queue, which
 * carries the packet's wait. Each applies the event to Cnum (admission against the Soft limit
 * is here, not in a policy), then lc_evaluate() asks the policy for at most one arrow, and
 * lc_enter() is the only place that changes the state, so every transition is counted and
 * traced in one place whatever the policy.
 */
#include "handoff/loadctl.h"

#include <string.h>

#include "handoff/assert.h"
#include "handoff/err.h"
#include "policy_plugin.h"

/* The registered policies, by kind: one line each. */
static const struct ho_lc_plugin *const plugins[HO_LC_NKINDS] = {
    [HO_LC_NONE] = &ho_lc_none,
    [HO_LC_FIGURE3] = &ho_lc_figure3,
    [HO_LC_ADAPTIVE] = &ho_lc_adaptive,
};

static const char *const state_names[HO_LC_NSTATES] = {
    [HO_LC_MONITOR] = "MONITOR",
    [HO_LC_DECREASE] = "DECREASE",
    [HO_LC_INCREASE] = "INCREASE",
};

static const char *const event_names[HO_LC_NEVENTS] = {
    [HO_LC_EV_PACKET] = "packet",
    [HO_LC_EV_HANDOFF] = "handoff",
    [HO_LC_EV_CONN_END] = "conn-end",
    [HO_LC_EV_DEQUEUE] = "dequeue",
};

int ho_lc_find(const char *name)
{
    for (int k = 0; name && k < HO_LC_NKINDS; k++) {
        if (!strcmp(name, plugins[k]->name)) {
            return k;
        }
    }
    return HO_ENOENT;
}

const char *ho_lc_kind_name(enum ho_lc_kind k)
{
    return (unsigned)k < HO_LC_NKINDS ? plugins[k]->name : "?";
}

enum ho_lc_kind ho_lc_kind(const struct ho_lc *lc)
{
    return lc->kind;
}

const char *ho_lc_state_name(enum ho_lc_state s)
{
    return (unsigned)s < HO_LC_NSTATES ? state_names[s] : "?";
}

const char *ho_lc_event_name(enum ho_lc_event e)
{
    return (unsigned)e < HO_LC_NEVENTS ? event_names[e] : "?";
}

void ho_lc_params_default(struct ho_lc_params *p, uint32_t hard_limit)
{
    memset(p, 0, sizeof *p);
    p->hard_limit = hard_limit;
    p->hiwat = 1024;
    p->lowat = 512;
    p->step = 16;
    p->min_soft_limit = 1;
    p->kind = HO_LC_FIGURE3;
    p->target_pkts = 1024;
    p->cut_pct = 25;
    p->raise_pct = 6;
}

int ho_lc_init(struct ho_lc *lc, const struct ho_lc_params *p)
{
    if (p->hard_limit == 0 || p->step == 0 || p->lowat >= p->hiwat || p->min_soft_limit == 0 ||
        p->min_soft_limit > p->hard_limit || (unsigned)p->kind >= HO_LC_NKINDS) {
        return HO_EINVAL;
    }
    if (p->kind == HO_LC_ADAPTIVE && (p->target_pkts == 0 || p->cut_pct == 0 || p->cut_pct > 100 ||
                                      p->raise_pct == 0 || p->raise_pct > 100)) {
        return HO_EINVAL;
    }
    memset(lc, 0, sizeof *lc);
    lc->p = *p;
    lc->kind = p->kind;
    lc->state = HO_LC_MONITOR;
    lc->soft_limit = p->hard_limit;
    return HO_OK;
}

/* The single place where the state and Soft limit change. Returns 1 if Soft limit changed. */
static int lc_enter(struct ho_lc *lc, const struct ho_lc_move *m, enum ho_lc_event ev,
                    uint32_t qlen, uint64_t now)
{
    struct ho_lc_transition t = {
        .now = now,
        .event = ev,
        .from = lc->state,
        .to = m->to,
        .qlen = qlen,
        .cnum = lc->cnum,
        .soft_limit_old = lc->soft_limit,
        .soft_limit_new = m->soft_limit,
    };
    int changed = m->soft_limit != lc->soft_limit;
    lc->transitions[lc->state][m->to]++;
    lc->state = m->to;
    lc->soft_limit = m->soft_limit;
    if (changed) {
        lc->adverts++;
    }
    if (lc->p.trace) {
        lc->p.trace(lc->p.trace_ctx, &t);
    }
    return changed;
}

/* Asks lc's policy for at most one arrow and takes it. Returns 1 if Soft limit changed. */
static int lc_evaluate(struct ho_lc *lc, enum ho_lc_event ev, uint32_t qlen, uint64_t now,
                       uint64_t wait_ns)
{
    const struct ho_lc_plugin *pl = plugins[lc->kind];
    const struct ho_lc_input in = {.ev = ev, .qlen = qlen, .now = now, .wait_ns = wait_ns};
    struct ho_lc_move m;
    if (!pl->evaluate || !pl->evaluate(lc, &lc->area, &in, &m)) {
        return 0;
    }
    HO_ASSERT((unsigned)m.to < HO_LC_NSTATES && m.soft_limit >= lc->p.min_soft_limit &&
                  m.soft_limit <= lc->p.hard_limit,
              "load-control policy %s moved to state %d, Soft limit %u (limits %u..%u)", pl->name,
              (int)m.to, m.soft_limit, lc->p.min_soft_limit, lc->p.hard_limit);
    return lc_enter(lc, &m, ev, qlen, now);
}

int ho_lc_packet(struct ho_lc *lc, uint32_t qlen, uint64_t now)
{
    return lc_evaluate(lc, HO_LC_EV_PACKET, qlen, now, 0);
}

int ho_lc_dequeue(struct ho_lc *lc, uint32_t qlen, uint64_t wait_ns, uint64_t now)
{
    return lc_evaluate(lc, HO_LC_EV_DEQUEUE, qlen, now, wait_ns);
}

int ho_lc_admit(struct ho_lc *lc, uint32_t qlen, uint64_t now)
{
    if (lc->cnum >= lc->soft_limit) {
        lc->refused++;
        return HO_ELIMIT;
    }
    lc->cnum++;
    return lc_evaluate(lc, HO_LC_EV_HANDOFF, qlen, now, 0);
}

int ho_lc_conn_end(struct ho_lc *lc, uint32_t qlen, uint64_t now)
{
    if (lc->cnum == 0) {
        return HO_ESTATE;
    }
    lc->cnum--;
    return lc_evaluate(lc, HO_LC_EV_CONN_END, qlen, now, 0);
}

void ho_lc_advert(const struct ho_lc *lc, uint32_t seq, struct ho_cmd *out)
{
    memset(out, 0, sizeof *out);
    out->type = HO_CMD_SOFT_LIMIT;
    out->seq = seq;
    out->soft_limit.soft_limit = lc->soft_limit;
    out->soft_limit.hard_limit = lc->p.hard_limit;
    /* Cnum can exceed Hard limit only through a caller bug; the message must stay valid. */
    out->soft_limit.cnum = lc->cnum < lc->p.hard_limit ? lc->cnum : lc->p.hard_limit;
    out->soft_limit.lc_state = (uint8_t)lc->state;
}

enum ho_lc_state ho_lc_state(const struct ho_lc *lc)
{
    return lc->state;
}

uint32_t ho_lc_soft_limit(const struct ho_lc *lc)
{
    return lc->soft_limit;
}

uint32_t ho_lc_cnum(const struct ho_lc *lc)
{
    return lc->cnum;
}
