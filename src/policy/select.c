/*
 * select.c - the OS-side connection-selection policies (see include/handoff/select.h).
 *
 * Called by the host's stack at two moments of a connection's life (establishment, and each
 * enqueue to its send socket buffer) and by the driver when the NIC replies or a connection
 * leaves the NIC. sel_consider() is the single place that decides; sel_set_state() the single
 * place that moves a connection along enum ho_sel_state.
 */
#include "handoff/select.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "handoff/err.h"

static const char *const state_names[HO_SEL_NSTATES] = {
    [HO_SEL_HOST] = "host",     [HO_SEL_OFFERED] = "offered",   [HO_SEL_ON_NIC] = "on-nic",
    [HO_SEL_PASSED] = "passed", [HO_SEL_RETURNED] = "returned",
};

const char *ho_sel_state_name(enum ho_sel_state st)
{
    return (unsigned)st < HO_SEL_NSTATES ? state_names[st] : "?";
}

static int policy_valid(const struct ho_sel_policy *p)
{
    switch (p->kind) {
    case HO_SEL_NEVER:
    case HO_SEL_FCFS:
        return 1;
    case HO_SEL_THRESH:
        return p->threshold >= 1;
    }
    return 0;
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

int ho_sel_set_port(struct ho_sel *s, uint16_t port, const struct ho_sel_policy *p)
{
    if (!policy_valid(p)) {
        return HO_EINVAL;
    }
    for (uint32_t i = 0; i < s->nports; i++) {
        if (s->ports[i] == port) {
            s->port_policy[i] = *p;
            return HO_OK;
        }
    }
    if (s->nports == HO_SEL_MAX_PORTS) {
        return HO_ENOSPC;
    }
    s->ports[s->nports] = port;
    s->port_policy[s->nports] = *p;
    s->nports++;
    return HO_OK;
}

const struct ho_sel_policy *ho_sel_policy_for(const struct ho_sel *s, uint16_t port)
{
    for (uint32_t i = 0; i < s->nports; i++) {
        if (s->ports[i] == port) {
            return &s->port_policy[i];
        }
    }
    return &s->dflt;
}

void ho_sel_advertised(struct ho_sel *s, uint32_t soft_limit)
{
    s->soft_limit = soft_limit;
}

static void sel_set_state(struct ho_sel_conn *c, enum ho_sel_state st)
{
    c->state = (uint8_t)st;
}

/* The connection's one moment has come: offer it if the advertised Soft limit has room. */
static enum ho_sel_verdict sel_consider(struct ho_sel *s, struct ho_sel_conn *c)
{
    if (s->on_nic >= s->soft_limit) {
        s->no_room++;
        sel_set_state(c, HO_SEL_PASSED);
        return HO_SEL_KEEP;
    }
    s->on_nic++;
    s->offered++;
    sel_set_state(c, HO_SEL_OFFERED);
    return HO_SEL_OFFER;
}

enum ho_sel_verdict ho_sel_established(struct ho_sel *s, struct ho_sel_conn *c, uint16_t port)
{
    memset(c, 0, sizeof *c);
    c->port = port;
    const struct ho_sel_policy *p = ho_sel_policy_for(s, port);
    switch (p->kind) {
    case HO_SEL_FCFS:
        return sel_consider(s, c);
    case HO_SEL_NEVER:
        sel_set_state(c, HO_SEL_PASSED);
        return HO_SEL_KEEP;
    case HO_SEL_THRESH:
        break;
    }
    return HO_SEL_KEEP;
}

enum ho_sel_verdict ho_sel_enqueued(struct ho_sel *s, struct ho_sel_conn *c)
{
    if (c->enqueues < UINT32_MAX) {
        c->enqueues++;
    }
    if (c->state != HO_SEL_HOST) {
        return HO_SEL_KEEP;
    }
    const struct ho_sel_policy *p = ho_sel_policy_for(s, c->port);
    if (p->kind == HO_SEL_THRESH && c->enqueues == p->threshold) {
        return sel_consider(s, c);
    }
    return HO_SEL_KEEP;
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
        sel_set_state(c, HO_SEL_PASSED);
    }
    return HO_OK;
}

int ho_sel_left_nic(struct ho_sel *s, struct ho_sel_conn *c)
{
    if (c->state != HO_SEL_ON_NIC) {
        return HO_ESTATE;
    }
    s->on_nic--;
    sel_set_state(c, HO_SEL_RETURNED);
    return HO_OK;
}

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

int ho_sel_parse(const char *text, struct ho_sel_policy *out)
{
    if (!text) {
        return HO_EINVAL;
    }
    if (ascii_ieq(text, "FCFS")) {
        *out = (struct ho_sel_policy){.kind = HO_SEL_FCFS};
        return HO_OK;
    }
    if (ascii_ieq(text, "NEVER")) {
        *out = (struct ho_sel_policy){.kind = HO_SEL_NEVER};
        return HO_OK;
    }
    if ((text[0] == 'T' || text[0] == 't') && isdigit((unsigned char)text[1])) {
        unsigned long n = 0;
        for (const char *p = text + 1; *p; p++) {
            if (!isdigit((unsigned char)*p)) {
                return HO_EINVAL;
            }
            n = n * 10 + (unsigned long)(*p - '0');
            if (n > UINT32_MAX) {
                return HO_EINVAL;
            }
        }
        if (n == 0) {
            return HO_EINVAL;
        }
        *out = (struct ho_sel_policy){.kind = HO_SEL_THRESH, .threshold = (uint32_t)n};
        return HO_OK;
    }
    return HO_EINVAL;
}

const char *ho_sel_format(const struct ho_sel_policy *p, char *buf, unsigned len)
{
    switch (p->kind) {
    case HO_SEL_FCFS:
        snprintf(buf, len, "FCFS");
        break;
    case HO_SEL_THRESH:
        snprintf(buf, len, "T%u", p->threshold);
        break;
    default:
        snprintf(buf, len, "NEVER");
        break;
    }
    return buf;
}
