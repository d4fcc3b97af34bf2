/*
 * select.c - connection selection: the table of plug-ins and what they share (see
 * include/handoff/select.h; the plug-ins are src/policy/sel_*.c, written against
 * policy_plugin.h).
 *
 * Called by the host's stack at two moments of a connection's life (establishment, and each
 * enqueue to its send socket buffer) and by the driver when the NIC replies, a connection leaves
 * the NIC or a new Soft limit arrives. Each entry point builds the plug-in's view and hands it
 * the event; sel_answer() turns a plug-in's answer into the verdict, with sel_consider() the
 * single place that decides against the Soft limit and sel_set_state() the single place that
 * moves a connection along enum ho_sel_state. The plug-ins never see the room counters except
 * to read them, so a policy cannot break the bound on offers or the considered-once rule.
 */
#include "handoff/select.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "handoff/err.h"
#include "policy_plugin.h"

/* The registered policies, by kind: one line each. */
static const struct ho_sel_plugin *const plugins[HO_SEL_NKINDS] = {
    [HO_SEL_NEVER] = &ho_sel_never,
    [HO_SEL_FCFS] = &ho_sel_fcfs,
    [HO_SEL_THRESH] = &ho_sel_thresh,
    [HO_SEL_BYTES] = &ho_sel_bytes,
};

static const char *const state_names[HO_SEL_NSTATES] = {
    [HO_SEL_HOST] = "host",     [HO_SEL_OFFERED] = "offered",   [HO_SEL_ON_NIC] = "on-nic",
    [HO_SEL_PASSED] = "passed", [HO_SEL_RETURNED] = "returned",
};

const char *ho_sel_state_name(enum ho_sel_state st)
{
    return (unsigned)st < HO_SEL_NSTATES ? state_names[st] : "?";
}

static const struct ho_sel_plugin *plugin_of(const struct ho_sel_policy *p)
{
    return plugins[p->kind];
}

static int policy_valid(const struct ho_sel_policy *p)
{
    return (unsigned)p->kind < HO_SEL_NKINDS && (!plugin_of(p)->takes_n || p->threshold >= 1);
}

int ho_sel_init(struct ho_sel *s, const struct ho_sel_policy *dflt, uint32_t soft_limit)
{
    if (!policy_valid(dflt)) {
        return HO_EINVAL;
    }
    memset(s, 0, sizeof *s);
    s->dflt = *dflt;
    s->soft_limit = soft_limit;
    return HO_OK;
}

/* The index of a port's own policy, or nports if it has none (the default applies). */
static uint32_t port_index(const struct ho_sel *s, uint16_t port)
{
    uint32_t i = 0;
    while (i < s->nports && s->ports[i] != port) {
        i++;
    }
    return i;
}

int ho_sel_set_port(struct ho_sel *s, uint16_t port, const struct ho_sel_policy *p)
{
    if (!policy_valid(p)) {
        return HO_EINVAL;
    }
    uint32_t i = port_index(s, port);
    if (i == HO_SEL_MAX_PORTS) {
        return HO_ENOSPC;
    }
    s->nports += i == s->nports;
    s->ports[i] = port;
    s->port_policy[i] = *p;
    memset(&s->port_area[i], 0, sizeof s->port_area[i]);
    return HO_OK;
}

const struct ho_sel_policy *ho_sel_policy_for(const struct ho_sel *s, uint16_t port)
{
    uint32_t i = port_index(s, port);
    return i < s->nports ? &s->port_policy[i] : &s->dflt;
}

/* What the plug-in of the i-th port policy (i == nports: the default) sees: its policy, its
 * state for the port, and the room. */
static struct ho_sel_view view_at(struct ho_sel *s, uint32_t i)
{
    return (struct ho_sel_view){
        .policy = i < s->nports ? &s->port_policy[i] : &s->dflt,
        .shared = i < s->nports ? &s->port_area[i] : &s->dflt_area,
        .soft_limit = s->soft_limit,
        .on_nic = s->on_nic,
    };
}

static struct ho_sel_view view_for(struct ho_sel *s, uint16_t port)
{
    return view_at(s, port_index(s, port));
}

void ho_sel_advertised(struct ho_sel *s, uint32_t soft_limit)
{
    uint32_t old = s->soft_limit;
    s->soft_limit = soft_limit;
    for (uint32_t i = 0; i <= s->nports; i++) {
        struct ho_sel_view v = view_at(s, i);
        const struct ho_sel_plugin *pl = plugin_of(v.policy);
        if (pl->advertised) {
            pl->advertised(&v, old);
        }
    }
}

static void sel_set_state(struct ho_sel_conn *c, enum ho_sel_state st)
{
    c->state = (uint8_t)st;
}

/* Where a connection goes when its moment did not leave it on the NIC: back to the pool if its
 * policy considers connections again, else passed (or returned) for good. */
static enum ho_sel_state sel_after(const struct ho_sel *s, const struct ho_sel_conn *c,
                                   enum ho_sel_state for_good)
{
    return plugins[ho_sel_policy_for(s, c->port)->kind]->reoffer ? HO_SEL_HOST : for_good;
}

/* The connection's moment has come: offer it if the advertised Soft limit has room. */
static enum ho_sel_verdict sel_consider(struct ho_sel *s, struct ho_sel_conn *c)
{
    if (s->on_nic >= s->soft_limit) {
        s->no_room++;
        sel_set_state(c, sel_after(s, c, HO_SEL_PASSED));
        return HO_SEL_KEEP;
    }
    s->on_nic++;
    s->offered++;
    sel_set_state(c, HO_SEL_OFFERED);
    return HO_SEL_OFFER;
}

/* Acts on a plug-in's answer for a connection on the host, not yet considered. */
static enum ho_sel_verdict sel_answer(struct ho_sel *s, struct ho_sel_conn *c, enum ho_sel_answer a)
{
    switch (a) {
    case HO_SEL_ANSWER_OFFER:
        return sel_consider(s, c);
    case HO_SEL_ANSWER_PASS:
        sel_set_state(c, HO_SEL_PASSED);
        return HO_SEL_KEEP;
    case HO_SEL_ANSWER_GIVE_BACK: /* not an answer for a connection on the host: ignored */
    case HO_SEL_ANSWER_KEEP:
        break;
    }
    return HO_SEL_KEEP;
}

enum ho_sel_verdict ho_sel_established(struct ho_sel *s, struct ho_sel_conn *c, uint16_t port)
{
    memset(c, 0, sizeof *c);
    c->port = port;
    struct ho_sel_view v = view_for(s, port);
    const struct ho_sel_plugin *pl = plugin_of(v.policy);
    if (!pl->established) {
        return HO_SEL_KEEP;
    }
    return sel_answer(s, c, pl->established(&v, c, &c->area));
}

enum ho_sel_verdict ho_sel_enqueued_bytes(struct ho_sel *s, struct ho_sel_conn *c,
                                          uint32_t appended, uint64_t left)
{
    if (c->enqueues < UINT32_MAX) {
        c->enqueues++;
    }
    if (c->state != HO_SEL_HOST) {
        return HO_SEL_KEEP;
    }
    struct ho_sel_view v = view_for(s, c->port);
    const struct ho_sel_plugin *pl = plugin_of(v.policy);
    if (!pl->enqueued) {
        return HO_SEL_KEEP;
    }
    struct ho_sel_enqueue e = {.appended = appended, .left = left};
    return sel_answer(s, c, pl->enqueued(&v, c, &c->area, &e));
}

enum ho_sel_verdict ho_sel_enqueued(struct ho_sel *s, struct ho_sel_conn *c)
{
    return ho_sel_enqueued_bytes(s, c, 0, 0);
}

int ho_sel_reply(struct ho_sel *s, struct ho_sel_conn *c, int accepted)
{
    if (c->state != HO_SEL_OFFERED) {
        return HO_ESTATE;
    }
    if (accepted) {
        s->accepted++;
        sel_set_state(c, HO_SEL_ON_NIC);
    } else {
        s->refused++;
        s->on_nic--;
        sel_set_state(c, sel_after(s, c, HO_SEL_PASSED));
    }
    struct ho_sel_view v = view_for(s, c->port);
    const struct ho_sel_plugin *pl = plugin_of(v.policy);
    if (pl->replied) {
        pl->replied(&v, c, &c->area, accepted != 0);
    }
    return HO_OK;
}

int ho_sel_left_nic(struct ho_sel *s, struct ho_sel_conn *c)
{
    if (c->state != HO_SEL_ON_NIC) {
        return HO_ESTATE;
    }
    s->on_nic--;
    sel_set_state(c, sel_after(s, c, HO_SEL_RETURNED));
    struct ho_sel_view v = view_for(s, c->port);
    const struct ho_sel_plugin *pl = plugin_of(v.policy);
    if (pl->left_nic) {
        pl->left_nic(&v, c, &c->area);
    }
    return HO_OK;
}

enum ho_sel_verdict ho_sel_drained(struct ho_sel *s, struct ho_sel_conn *c)
{
    if (c->state != HO_SEL_ON_NIC) {
        return HO_SEL_KEEP;
    }
    struct ho_sel_view v = view_for(s, c->port);
    const struct ho_sel_plugin *pl = plugin_of(v.policy);
    if (!pl->drained) {
        return HO_SEL_KEEP;
    }
    return pl->drained(&v, c, &c->area) == HO_SEL_ANSWER_GIVE_BACK ? HO_SEL_GIVE_BACK
                                                                     : HO_SEL_KEEP;
}

/* ---- names ------------------------------------------------------------------------------ */

/* Case-insensitive equality of ASCII strings, independent of the locale. */
static int ascii_ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) {
            return 0;
        }
    }
    return *a == *b;
}

/* Whether text begins with prefix, ignoring ASCII case; returns what follows it, or NULL. */
static const char *ascii_iprefix(const char *text, const char *prefix)
{
    for (; *prefix; text++, prefix++) {
        if (tolower((unsigned char)*text) != tolower((unsigned char)*prefix)) {
            return NULL;
        }
    }
    return text;
}

int ho_sel_find(const char *name)
{
    for (int k = 0; name && k < HO_SEL_NKINDS; k++) {
        if (ascii_ieq(name, plugins[k]->name)) {
            return k;
        }
    }
    return HO_ENOENT;
}

const char *ho_sel_kind_name(enum ho_sel_kind kind)
{
    return (unsigned)kind < HO_SEL_NKINDS ? plugins[kind]->name : "?";
}

/* Reads a parameter n >= 1 that fills the rest of the text. Returns HO_OK or HO_EINVAL. */
static int parse_n(const char *text, uint32_t *n)
{
    unsigned long v = 0;
    if (!isdigit((unsigned char)*text)) {
        return HO_EINVAL;
    }
    for (const char *p = text; *p; p++) {
        if (!isdigit((unsigned char)*p)) {
            return HO_EINVAL;
        }
        v = v * 10 + (unsigned long)(*p - '0');
        if (v > UINT32_MAX) {
            return HO_EINVAL;
        }
    }
    if (v == 0) {
        return HO_EINVAL;
    }
    *n = (uint32_t)v;
    return HO_OK;
}

int ho_sel_parse(const char *text, struct ho_sel_policy *out)
{
    if (!text) {
        return HO_EINVAL;
    }
    for (int k = 0; k < HO_SEL_NKINDS; k++) {
        const struct ho_sel_plugin *pl = plugins[k];
        if (!pl->takes_n && ascii_ieq(text, pl->name)) {
            *out = (struct ho_sel_policy){.kind = (enum ho_sel_kind)k};
            return HO_OK;
        }
        const char *rest = pl->takes_n ? ascii_iprefix(text, pl->name) : NULL;
        uint32_t n;
        if (rest && parse_n(rest, &n) == HO_OK) {
            *out = (struct ho_sel_policy){.kind = (enum ho_sel_kind)k, .threshold = n};
            return HO_OK;
        }
    }
    return HO_EINVAL;
}

const char *ho_sel_format(const struct ho_sel_policy *p, char *buf, unsigned len)
{
    if (!policy_valid(p)) {
        snprintf(buf, len, "?");
    } else if (plugin_of(p)->takes_n) {
        snprintf(buf, len, "%s%u", plugin_of(p)->name, p->threshold);
    } else {
        snprintf(buf, len, "%s", plugin_of(p)->name);
    }
    return buf;
}
