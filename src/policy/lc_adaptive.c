/*
 * lc_adaptive.c - the load-control policy "A": the Soft limit steered from the NIC's own
 * queueing delay, with no watermarks (docs/policy-engine.md gives the control law and the
 * argument for its constants; docs/policies.md walks through this file as a worked example).
 *
 * The firmware reports each NIC packet it takes off the receive queue with the time it waited
 * there (HO_LC_EV_DEQUEUE). From those reports the policy measures, window by window:
 *   - the NIC's service time per NIC packet, s: the time between two takes while packets were
 *     still waiting, which counts everything the NIC did in between (host packets first, its
 *     own output, commands), so s is what a NIC packet costs the NIC as it runs now;
 *   - the standing delay: the shortest wait in the window. A burst that drains within the
 *     window leaves it small; only a backlog that never drains keeps it high;
 *   - the dry share: the part of the window in which no NIC packet was waiting.
 * The target T is p.target_pkts service times: a share of the receive memory, counted in the
 * time the NIC needs to serve it. A window lasts T from its first packet and holds only packets
 * that arrived after the window before it closed or the last move took effect, so that each
 * decision judges the Soft limit under which its packets queued. At the end of a window:
 *   - standing delay d above T, and not falling since the last window (a falling backlog is
 *     already draining): cut. The Soft limit drops to C x (1 - cut x (d - T) / d), C being the
 *     connections the NIC holds or is about to hold and cut = p.cut_pct / 100, so a decrease
 *     is multiplicative and never more than cut; the machine waits in DECREASE until Cnum is
 *     under the new limit;
 *   - the queue ran dry (some packet waited less than one service time), and the host uses the
 *     room the limit gives: raise by Cnum x dry share x p.raise_pct / 100, at least 1, at most to
 *     Hard limit, an additive step that does not depend on the Soft limit itself; the machine
 *     waits in INCREASE until the host has used the new room (a cut may come first);
 *   - otherwise hold: between an empty queue and the target the NIC is busy and nothing is
 *     at risk, and the Soft limit stays where it is.
 * The room counts as used when Soft limit - Cnum is no more than the handoffs of one window,
 * the ones the host may have sent and the NIC not yet taken. A window with no NIC packet at all
 * while the queue is empty is dry.
 *
 * Until its first window has closed the policy knows nothing of the NIC's speed, and a flood of
 * connections (clients that open theirs at once and keep them) could all be admitted before it
 * judges anything: the brake stops admission at Cnum (in MONITOR) at a handoff that finds more
 * than the target's worth of packets, p.target_pkts, on the receive queue.
 */
#include <string.h>

#include "policy_plugin.h"

/* The policy's state, kept in lc->area. */
struct adaptive {
    uint64_t start;     /* the window began (the last one closed, or a move took effect): only
                           packets that arrived since count */
    uint64_t opened;    /* 1 + time of the first take of such a packet (the window opens), or 0 */
    uint64_t busy;      /* time between consecutive takes with packets left waiting, ns */
    uint64_t last_busy; /* 1 + time of the last take if it left packets waiting, else 0 */
    uint64_t svc;       /* the NIC's service time per NIC packet, ns (0: not measured yet) */
    uint64_t min_wait;  /* 1 + the shortest wait in the window, 0: none yet */
    uint64_t prev_min;  /* the standing delay of the last window closed, ns */
    uint32_t taken;     /* NIC packets taken in the window */
    uint32_t gaps;      /* intervals summed in busy */
    uint32_t handoffs;  /* handoffs admitted in the window */
    uint32_t inflight;  /* handoffs of the last window: room the host may be using already */
};

_Static_assert(sizeof(struct adaptive) <= sizeof(union ho_lc_area), "A's state fits the area");

static struct adaptive load(const union ho_lc_area *mine)
{
    struct adaptive a;
    memcpy(&a, mine->bytes, sizeof a);
    return a;
}

static void store(union ho_lc_area *mine, const struct adaptive *a)
{
    memcpy(mine->bytes, a, sizeof *a);
}

/* Starts a new window at now; what was measured of the NIC (s, the last take) carries over. */
static void restart(struct adaptive *a, uint64_t now)
{
    a->start = now;
    a->opened = a->busy = a->min_wait = 0;
    a->taken = a->gaps = a->handoffs = 0;
}

static void account(struct adaptive *a, const struct ho_lc_input *in)
{
    if (in->ev == HO_LC_EV_HANDOFF) {
        a->handoffs++;
    }
    if (in->ev != HO_LC_EV_DEQUEUE) {
        return;
    }
    uint64_t busy_since = a->last_busy;
    a->last_busy = in->qlen > 0 ? in->now + 1 : 0;
    if (in->wait_ns > in->now || in->now - in->wait_ns < a->start) {
        return; /* it arrived before the last move took effect */
    }
    if (!a->opened) {
        a->opened = in->now + 1;
    }
    a->taken++;
    if (a->min_wait == 0 || in->wait_ns + 1 < a->min_wait) {
        a->min_wait = in->wait_ns + 1;
    }
    if (busy_since && in->now >= busy_since - 1) {
        a->busy += in->now - (busy_since - 1);
        a->gaps++;
    }
}

static bool go(enum ho_lc_state to, uint32_t soft_limit, struct ho_lc_move *move)
{
    *move = (struct ho_lc_move){.to = to, .soft_limit = soft_limit};
    return true;
}

/* Whether the host has used the room the Soft limit gives, the handoffs in flight aside. */
static bool room_used(const struct ho_lc *lc, const struct adaptive *a)
{
    return lc->soft_limit <= lc->cnum + a->inflight;
}

/* What one window measured. */
struct verdict {
    uint64_t standing; /* the shortest wait, ns */
    uint64_t previous; /* the shortest wait of the window before, ns */
    uint32_t dry_ppm;  /* share of the window with no NIC packet waiting, parts per million */
};

/* part / whole in parts per million (part <= whole, whole > 0), without overflow for any time. */
static uint64_t ppm(uint64_t part, uint64_t whole)
{
    uint64_t scale = whole / (UINT64_MAX / 1000000) + 1;
    return part / scale * 1000000 / (whole / scale);
}

/* The Soft limit after a cut for a standing delay d over the target t (d > t). */
static uint32_t cut_to(const struct ho_lc *lc, const struct adaptive *a, uint64_t d, uint64_t t)
{
    uint64_t held = (uint64_t)lc->cnum + a->inflight;
    uint64_t base = held < lc->soft_limit ? held : lc->soft_limit;
    uint64_t cut = (base * lc->p.cut_pct * ppm(d - t, d) + 99999999) / 100000000;
    uint64_t lowered = base - cut;
    return lowered > lc->p.min_soft_limit ? (uint32_t)lowered : lc->p.min_soft_limit;
}

/* The Soft limit after a raise for a dry share of dry_ppm. */
static uint32_t raise_to(const struct ho_lc *lc, uint32_t dry_ppm)
{
    uint64_t step = (uint64_t)lc->cnum * dry_ppm * lc->p.raise_pct / 100000000u;
    uint64_t room = lc->p.hard_limit - lc->soft_limit;
    step = step < 1 ? 1 : step;
    return lc->soft_limit + (uint32_t)(step < room ? step : room);
}

/* The decision at the end of a window (a restarted already): cut, raise or hold. */
static bool decide(const struct ho_lc *lc, const struct adaptive *a, const struct verdict *v,
                   struct ho_lc_move *move)
{
    uint64_t target = (uint64_t)lc->p.target_pkts * a->svc;
    if (v->standing > target && v->standing >= v->previous) {
        uint32_t lowered = cut_to(lc, a, v->standing, target);
        return lowered < lc->soft_limit && go(HO_LC_DECREASE, lowered, move);
    }
    if (v->standing < a->svc && lc->soft_limit < lc->p.hard_limit && lc->state == HO_LC_MONITOR &&
        room_used(lc, a)) {
        return go(HO_LC_INCREASE, raise_to(lc, v->dry_ppm), move);
    }
    return false;
}

/* Closes the window if it has lasted its time; fills v. */
static bool window_closes(const struct ho_lc *lc, const struct adaptive *a,
                          const struct ho_lc_input *in, struct verdict *v)
{
    uint64_t svc = a->gaps ? a->busy / a->gaps : a->svc;
    uint64_t length = (uint64_t)lc->p.target_pkts * svc;
    if (!a->opened) {
        /* No NIC packet since the last move: dry if none is waiting either. */
        if (!svc || in->qlen > 0 || in->now - a->start < length) {
            return false;
        }
        *v = (struct verdict){.standing = 0, .previous = a->prev_min, .dry_ppm = 1000000};
        return true;
    }
    uint64_t span = in->now - (a->opened - 1);
    if (svc ? span < length : a->taken < lc->p.target_pkts) {
        return false;
    }
    uint64_t backlogged = a->busy + (uint64_t)(a->taken - a->gaps) * svc;
    uint64_t dry = span > backlogged ? ppm(span - backlogged, span) : 0;
    *v = (struct verdict){
        .standing = a->min_wait - 1, .previous = a->prev_min, .dry_ppm = (uint32_t)dry};
    return true;
}

static bool adaptive_evaluate(const struct ho_lc *lc, union ho_lc_area *mine,
                              const struct ho_lc_input *in, struct ho_lc_move *move)
{
    struct adaptive a = load(mine);
    account(&a, in);
    bool moved = false;
    struct verdict v;
    if (in->ev == HO_LC_EV_HANDOFF && a.svc == 0 && lc->state != HO_LC_DECREASE &&
        in->qlen > lc->p.target_pkts && lc->cnum < lc->soft_limit) {
        /* The brake: the queue already holds more than the target's worth of packets, and
         * the NIC is still taking connections. No more until a window has judged the load. */
        uint32_t held = lc->cnum > lc->p.min_soft_limit ? lc->cnum : lc->p.min_soft_limit;
        moved = held < lc->soft_limit && go(HO_LC_MONITOR, held, move);
    } else if (lc->state == HO_LC_DECREASE) {
        /* Wait for the decrease to take effect: no decision on a window that mixes it in. */
        if (lc->cnum < lc->soft_limit) {
            restart(&a, in->now);
            moved = go(HO_LC_MONITOR, lc->soft_limit, move);
        }
    } else if (lc->state == HO_LC_INCREASE && room_used(lc, &a)) {
        restart(&a, in->now);
        moved = go(HO_LC_MONITOR, lc->soft_limit, move);
    } else if (window_closes(lc, &a, in, &v)) {
        if (a.gaps) {
            a.svc = a.busy / a.gaps;
        }
        a.inflight = a.handoffs;
        a.prev_min = v.standing;
        restart(&a, in->now);
        moved = a.svc && decide(lc, &a, &v, move);
    }
    store(mine, &a);
    return moved;
}

const struct ho_lc_plugin ho_lc_adaptive = {
    .name = "A",
    .evaluate = adaptive_evaluate,
};
