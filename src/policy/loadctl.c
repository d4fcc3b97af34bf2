/*
 * loadctl.c - the load-control state machine of Figure 3 (see include/handoff/loadctl.h).
 *
 * The firmware calls one of three entry points, one per event the paper names (packet arrival,
 * handoff, connection end). Each applies the event to Cnum, then lc_evaluate() picks at most one
 * arrow of the figure, and lc_enter() is the only place that changes the state, so every
 * transition is counted and traced in one place.
 */
#include "handoff/loadctl.h"

#include <string.h>

#include "handoff/err.h"

static const char *const state_names[HO_LC_NSTATES] = {
    [HO_LC_MONITOR] = "MONITOR",
    [HO_LC_DECREASE] = "DECREASE",
    [HO_LC_INCREASE] = "INCREASE",
};

static const char *const event_names[HO_LC_NEVENTS] = {
    [HO_LC_EV_PACKET] = "packet",
    [HO_LC_EV_HANDOFF] = "handoff",
    [HO_LC_EV_CONN_END] = "conn-end",
};

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
    p->enabled = true;
}

int ho_lc_init(struct ho_lc *lc, const struct ho_lc_params *p)
{
    if (p->hard_limit == 0 || p->step == 0 || p->lowat >= p->hiwat || p->min_soft_limit == 0 ||
        p->min_soft_limit > p->hard_limit) {
        return HO_EINVAL;
    }
    memset(lc, 0, sizeof *lc);
    lc->p = *p;
    lc->state = HO_LC_MONITOR;
    lc->soft_limit = p->hard_limit;
    return HO_OK;
}

/* The single place where the state and Soft limit change. Returns 1 if Soft limit changed. */
static int lc_enter(struct ho_lc *lc, enum ho_lc_state to, uint32_t soft_limit, enum ho_lc_event ev,
                    uint32_t qlen, uint64_t now)
{
    struct ho_lc_transition t = {
        .now = now,
        .event = ev,
        .from = lc->state,
        .to = to,
        .qlen = qlen,
        .cnum = lc->cnum,
        .soft_limit_old = lc->soft_limit,
        .soft_limit_new = soft_limit,
    };
    int changed = soft_limit != lc->soft_limit;
    lc->transitions[lc->state][to]++;
    lc->state = to;
    lc->soft_limit = soft_limit;
    if (changed) {
        lc->adverts++;
    }
    if (lc->p.trace) {
        lc->p.trace(lc->p.trace_ctx, &t);
    }
    return changed;
}

static uint32_t lowered(const struct ho_lc *lc)
{
    uint32_t floor = lc->p.min_soft_limit;
    return lc->soft_limit - floor > lc->p.step ? lc->soft_limit - lc->p.step : floor;
}

static uint32_t raised(const struct ho_lc *lc)
{
    uint32_t hard = lc->p.hard_limit;
    return hard - lc->soft_limit > lc->p.step ? lc->soft_limit + lc->p.step : hard;
}

/* Takes at most one arrow of Figure 3. Returns 1 if Soft limit changed. */
static int lc_evaluate(struct ho_lc *lc, enum ho_lc_event ev, uint32_t qlen, uint64_t now)
{
    if (!lc->p.enabled) {
        return 0;
    }
    bool over = qlen > lc->p.hiwat;
    bool under = qlen < lc->p.lowat;
    bool can_lower = lc->soft_limit > lc->p.min_soft_limit;
    bool can_raise = lc->soft_limit < lc->p.hard_limit;

    switch (lc->state) {
    case HO_LC_MONITOR:
        if (over && can_lower) {
            return lc_enter(lc, HO_LC_DECREASE, lowered(lc), ev, qlen, now);
        }
        if (under && can_raise) {
            return lc_enter(lc, HO_LC_INCREASE, raised(lc), ev, qlen, now);
        }
        return 0;
    case HO_LC_DECREASE:
        if (lc->cnum < lc->soft_limit) {
            return lc_enter(lc, HO_LC_MONITOR, lc->soft_limit, ev, qlen, now);
        }
        return 0;
    case HO_LC_INCREASE:
        if (over && can_lower) {
            return lc_enter(lc, HO_LC_DECREASE, lowered(lc), ev, qlen, now);
        }
        if (lc->cnum >= lc->soft_limit) {
            return lc_enter(lc, HO_LC_MONITOR, lc->soft_limit, ev, qlen, now);
        }
        return 0;
    case HO_LC_NSTATES:
        break;
    }
    return 0;
}

int ho_lc_packet(struct ho_lc *lc, uint32_t qlen, uint64_t now)
{
    return lc_evaluate(lc, HO_LC_EV_PACKET, qlen, now);
}

int ho_lc_admit(struct ho_lc *lc, uint32_t qlen, uint64_t now)
{
    if (lc->cnum >= lc->soft_limit) {
        lc->refused++;
        return HO_ELIMIT;
    }
    lc->cnum++;
    return lc_evaluate(lc, HO_LC_EV_HANDOFF, qlen, now);
}

int ho_lc_conn_end(struct ho_lc *lc, uint32_t qlen, uint64_t now)
{
    if (lc->cnum == 0) {
        return HO_ESTATE;
    }
    lc->cnum--;
    return lc_evaluate(lc, HO_LC_EV_CONN_END, qlen, now);
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
