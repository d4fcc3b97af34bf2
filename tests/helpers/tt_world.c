/*
 * tt_world.c - the in-memory network of tt_world.h.
 *
 * Segments in flight are copied (header and payload) into a min-heap ordered by delivery time
 * and then by the order they were sent, so equal times resolve the same way on every run. The
 * channel's random draws are hashes of (seed, time, side, header, draw number), so a seed fixes
 * the whole run and no connection's draws depend on another's.
 */
#include "tt_world.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

struct tt_pkt {
    uint64_t at;         /* delivery time */
    uint64_t id;         /* send order, breaks ties */
    int to_side;         /* destination side */
    struct tcpe_seg seg; /* header; seg.data points into data[] or is NULL */
    uint8_t data[];      /* payload copy */
};

uint64_t tt_fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

uint8_t tt_pattern(uint64_t id, uint64_t off)
{
    uint64_t x = (id * 0x9e3779b97f4a7c15ULL) ^ (off / 8);
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 32;
    return (uint8_t)(x >> (8 * (off % 8)));
}

void tt_pattern_fill(uint64_t id, uint64_t off, uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        buf[i] = tt_pattern(id, off + i);
    }
}

void tt_world_init(struct tt_world *w, const struct tt_chan_params *cp)
{
    memset(w, 0, sizeof *w);
    w->cp = *cp;
    w->trace = TT_FNV_INIT;
}

void tt_world_fini(struct tt_world *w)
{
    for (size_t i = 0; i < w->qlen; i++) {
        free(w->q[i]);
    }
    free(w->q);
    for (int i = 0; i < w->nep; i++) {
        tcpe_stack_destroy(w->ep[i].s);
    }
    memset(w, 0, sizeof *w);
}

/* ---- the in-flight heap ---- */

static bool pkt_before(const struct tt_pkt *a, const struct tt_pkt *b)
{
    return a->at < b->at || (a->at == b->at && a->id < b->id);
}

static void q_push(struct tt_world *w, struct tt_pkt *p)
{
    if (w->qlen == w->qcap) {
        w->qcap = w->qcap ? 2 * w->qcap : 256;
        w->q = realloc(w->q, w->qcap * sizeof *w->q);
        assert_non_null(w->q);
    }
    size_t i = w->qlen++;
    while (i > 0 && pkt_before(p, w->q[(i - 1) / 2])) {
        w->q[i] = w->q[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    w->q[i] = p;
}

static struct tt_pkt *q_pop(struct tt_world *w)
{
    struct tt_pkt *top = w->q[0];
    struct tt_pkt *last = w->q[--w->qlen];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= w->qlen) {
            break;
        }
        if (c + 1 < w->qlen && pkt_before(w->q[c + 1], w->q[c])) {
            c++;
        }
        if (!pkt_before(w->q[c], last)) {
            break;
        }
        w->q[i] = w->q[c];
        i = c;
    }
    if (w->qlen > 0) {
        w->q[i] = last;
    }
    return top;
}

/* ---- emission ---- */

static void enqueue(struct tt_world *w, int to_side, const struct tcpe_seg *seg, uint64_t at)
{
    size_t n = seg->data != NULL ? seg->len : 0;
    struct tt_pkt *p = malloc(sizeof *p + n);
    assert_non_null(p);
    p->at = at;
    p->id = w->next_id++;
    p->to_side = to_side;
    p->seg = *seg;
    if (seg->data != NULL) {
        memcpy(p->data, seg->data, n);
        p->seg.data = p->data;
    }
    q_push(w, p);
}

/* The channel's randomness for one segment: a stream of draws keyed by the segment. */
struct draws {
    uint64_t key; /* hash of seed, time, side and header */
    uint64_t n;   /* draws taken */
};

static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static double draw_unit(struct draws *d)
{
    return (double)(mix(d->key + 0x9e3779b97f4a7c15ULL * ++d->n) >> 11) / 9007199254740992.0;
}

static uint64_t draw_delay(struct tt_world *w, struct draws *d)
{
    uint64_t t = w->cp.delay;
    if (w->cp.jitter > 0) {
        t += (uint64_t)(draw_unit(d) * (double)w->cp.jitter);
    }
    if (w->cp.reorder > 0 && draw_unit(d) < w->cp.reorder) {
        t += w->cp.reorder_delay;
        w->reordered++;
    }
    return t;
}

static int ep_output(void *ctx, const struct tcpe_seg *seg)
{
    struct tt_ep *ep = ctx;
    struct tt_world *w = ep->w;
    ep->outputs++;
    if (w->cp.refuse_every && ep->outputs % w->cp.refuse_every == 0) {
        ep->refused++;
        return HO_ENOSPC;
    }
    uint32_t f[14] = {(uint32_t)(w->now >> 32),
                      (uint32_t)w->now,
                      (uint32_t)ep->side,
                      seg->seq,
                      seg->ack,
                      seg->flags,
                      seg->wnd,
                      seg->len,
                      seg->opts,
                      seg->mss,
                      seg->wscale,
                      seg->src_port,
                      seg->dst_port,
                      seg->src_ip};
    uint64_t h = tt_fnv(TT_FNV_INIT, f, sizeof f);
    /* The trace covers the timestamps too; the channel's draws below do not depend on them, so
     * a run's losses are the same with timestamps as without. */
    uint32_t ts[2] = {seg->ts_val, seg->ts_ecr};
    uint64_t ht = tt_fnv(h, ts, sizeof ts);
    w->trace = tt_fnv(w->trace, &ht, sizeof ht);
    w->trace_set += mix(ht);
    w->emitted++;
    if (w->dump != NULL) {
        fprintf(w->dump, "%llu side %d %u>%u seq %u ack %u fl %02x wnd %u len %u\n",
                (unsigned long long)w->now, ep->side, seg->src_port, seg->dst_port, seg->seq,
                seg->ack, seg->flags, seg->wnd, seg->len);
    }
    struct draws d = {mix(h ^ mix(w->cp.seed)), 0};
    int to = 1 - ep->side;
    if (w->drop_all[to] || (w->cp.loss > 0 && draw_unit(&d) < w->cp.loss)) {
        w->lost++;
        return HO_OK;
    }
    enqueue(w, to, seg, w->now + draw_delay(w, &d));
    if (w->cp.corrupt > 0 && seg->data != NULL && seg->len > 0 && draw_unit(&d) < w->cp.corrupt) {
        struct tt_pkt *last = NULL;
        for (size_t i = 0; i < w->qlen; i++) {
            if (w->q[i]->id == w->next_id - 1) {
                last = w->q[i];
            }
        }
        if (last != NULL) { /* always found: it was queued just above */
            last->data[(size_t)(draw_unit(&d) * (double)seg->len)] ^= 0x20;
        }
    }
    if (w->cp.dup > 0 && draw_unit(&d) < w->cp.dup) {
        w->duplicated++;
        enqueue(w, to, seg, w->now + draw_delay(w, &d));
    }
    return HO_OK;
}

/* Every stack allocation carries a 16-octet header with its size, so the world can count what
 * each stack holds. */
#define HDR 16

static void *ep_realloc(void *ctx, void *p, size_t size)
{
    struct tt_ep *ep = ctx;
    struct tt_world *w = ep->w;
    size_t old = 0;
    uint8_t *base = NULL;
    if (p != NULL) {
        base = (uint8_t *)p - HDR;
        memcpy(&old, base, sizeof old);
    }
    if (size == 0) {
        ep->bytes_live -= old;
        free(base);
        return NULL;
    }
    if (w->alloc_fail > 0) {
        struct draws d = {mix(w->cp.seed ^ mix(++ep->allocs + 0x51ed)), 0};
        if (draw_unit(&d) < w->alloc_fail) {
            ep->allocs_failed++;
            return NULL;
        }
    } else {
        ep->allocs++;
    }
    uint8_t *n = malloc(size + HDR);
    if (n == NULL) {
        return NULL;
    }
    memcpy(n, &size, sizeof size);
    if (base != NULL) {
        memcpy(n + HDR, base + HDR, old < size ? old : size);
        free(base);
    }
    ep->bytes_live += size - old;
    if (ep->bytes_live > ep->bytes_peak) {
        ep->bytes_peak = ep->bytes_live;
    }
    return n + HDR;
}

static void ep_event(void *ctx, struct tcpe_conn *c, unsigned ev)
{
    struct tt_ep *ep = ctx;
    if (ep->event != NULL) {
        ep->event(ep->app, c, ev);
    }
}

struct tcpe_stack *tt_world_add_stack(struct tt_world *w, int side, struct tcpe_params *p,
                                      tt_event_fn event, void *app)
{
    assert_true(w->nep < TT_MAX_STACKS);
    assert_true(side == 0 || side == 1);
    struct tt_ep *ep = &w->ep[w->nep];
    memset(ep, 0, sizeof *ep);
    ep->w = w;
    ep->side = side;
    ep->event = event;
    ep->app = app;
    p->ops.output = ep_output;
    p->ops.event = ep_event;
    p->ops.realloc = ep_realloc;
    p->ctx = ep;
    assert_int_equal(tcpe_stack_create(p, &ep->s), 0);
    w->nep++;
    return ep->s;
}

/* ---- delivery and time ---- */

static int ep_index(const struct tt_world *w, const struct tcpe_stack *s)
{
    for (int i = 0; i < w->nep; i++) {
        if (w->ep[i].s == s) {
            return i;
        }
    }
    fail_msg("stack not in this world");
    return 0;
}

struct tt_ep *tt_world_ep(struct tt_world *w, const struct tcpe_stack *s)
{
    return &w->ep[ep_index(w, s)];
}

void tt_world_set_offset(struct tt_world *w, struct tcpe_stack *s, uint64_t offset)
{
    w->ep[ep_index(w, s)].offset = offset;
}

uint64_t tt_world_clock(const struct tt_world *w, const struct tcpe_stack *s)
{
    return w->now + w->ep[ep_index(w, s)].offset;
}

struct tcpe_stack *tt_world_route(struct tt_world *w, int side, const struct tcpe_seg *seg)
{
    struct tcpe_tuple t = {seg->dst_ip, seg->src_ip, seg->dst_port, seg->src_port};
    struct tcpe_stack *first = NULL;
    for (int i = 0; i < w->nep; i++) {
        if (w->ep[i].side != side) {
            continue;
        }
        if (first == NULL) {
            first = w->ep[i].s;
        }
        if (tcpe_stack_lookup(w->ep[i].s, &t) != NULL) {
            return w->ep[i].s;
        }
    }
    return first;
}

uint64_t tt_world_next(const struct tt_world *w)
{
    uint64_t t = w->qlen > 0 ? w->q[0]->at : TCPE_NEVER;
    for (int i = 0; i < w->nep; i++) {
        uint64_t s = tcpe_stack_next_wake(w->ep[i].s);
        if (s != TCPE_NEVER && s - w->ep[i].offset < t) {
            t = s - w->ep[i].offset;
        }
    }
    return t;
}

bool tt_world_step(struct tt_world *w, uint64_t limit)
{
    uint64_t t = tt_world_next(w);
    if (t > limit) {
        if (limit > w->now) {
            w->now = limit;
        }
        return false;
    }
    if (t > w->now) {
        w->now = t;
    }
    while (w->qlen > 0 && w->q[0]->at <= w->now) {
        struct tt_pkt *p = q_pop(w);
        struct tcpe_stack *s = tt_world_route(w, p->to_side, &p->seg);
        if (s != NULL) {
            struct tcpe_tuple tu = {p->seg.dst_ip, p->seg.src_ip, p->seg.dst_port, p->seg.src_port};
            struct tcpe_conn *c = tt_world_ep(w, s)->per_conn ? tcpe_stack_lookup(s, &tu) : NULL;
            if (c != NULL) {
                (void)tcpe_conn_input(c, &p->seg, tt_world_clock(w, s));
            } else {
                (void)tcpe_stack_input(s, &p->seg, tt_world_clock(w, s));
            }
        }
        free(p);
    }
    for (int i = 0; i < w->nep; i++) {
        tcpe_stack_timers(w->ep[i].s, w->now + w->ep[i].offset);
    }
    return true;
}

bool tt_world_run(struct tt_world *w, uint64_t limit, bool (*done)(void *arg), void *arg)
{
    while (!(done != NULL && done(arg))) {
        if (!tt_world_step(w, limit)) {
            break;
        }
    }
    return done != NULL && done(arg);
}
