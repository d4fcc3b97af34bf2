/*
 * lc_figure3.c - the load-control policy "L": the state machine of the paper's Figure 3
 * (section 3.2; include/handoff/loadctl.h draws its arrows, docs/policy-engine.md explains the
 * choices the paper leaves open).
 *
 * figure3_evaluate() is the figure: in the state the machine is in, it checks the arrows in
 * order and names the first that applies, with the Soft limit there. It runs on the paper's
 * three events (a packet arrives, a handoff, a connection ends) and ignores the dequeues the
 * firmware also reports. It only reads the machine; loadctl.c takes the arrow.
 */
#include "policy_plugin.h"

/* Soft limit one step down, not below the floor. */
static uint32_t lowered(const struct ho_lc *lc)
{
    uint32_t floor = lc->p.min_soft_limit;
    return lc->soft_limit - floor > lc->p.step ? lc->soft_limit - lc->p.step : floor;
}

/* Soft limit one step up, not above Hard limit. */
static uint32_t raised(const struct ho_lc *lc)
{
    uint32_t hard = lc->p.hard_limit;
    return hard - lc->soft_limit > lc->p.step ? lc->soft_limit + lc->p.step : hard;
}

static bool go(enum ho_lc_state to, uint32_t soft_limit, struct ho_lc_move *move)
{
    *move = (struct ho_lc_move){.to = to, .soft_limit = soft_limit};
    return true;
}

/* At most one arrow of Figure 3. */
static bool figure3_evaluate(const struct ho_lc *lc, union ho_lc_area *mine,
                             const struct ho_lc_input *in, struct ho_lc_move *move)
{
    (void)mine;
    if (in->ev == HO_LC_EV_DEQUEUE) {
        return false;
    }
    bool over = in->qlen > lc->p.hiwat;
    bool under = in->qlen < lc->p.lowat;
    bool can_lower = lc->soft_limit > lc->p.min_soft_limit;
    bool can_raise = lc->soft_limit < lc->p.hard_limit;

    switch (lc->state) {
    case HO_LC_MONITOR:
        if (over && can_lower) {
            return go(HO_LC_DECREASE, lowered(lc), move);
        }
        if (under && can_raise) {
            return go(HO_LC_INCREASE, raised(lc), move);
        }
        return false;
    case HO_LC_DECREASE:
        if (lc->cnum < lc->soft_limit) {
            return go(HO_LC_MONITOR, lc->soft_limit, move);
        }
        return false;
    case HO_LC_INCREASE:
        if (over && can_lower) {
            return go(HO_LC_DECREASE, lowered(lc), move);
        }
        if (lc->cnum >= lc->soft_limit) {
            return go(HO_LC_MONITOR, lc->soft_limit, move);
        }
        return false;
    case HO_LC_NSTATES:
        break;
    }
    return false;
}

const struct ho_lc_plugin ho_lc_figure3 = {
    .name = "L",
    .evaluate = figure3_evaluate,
};
