/*
 * tcp_stack.c - the stack object: parameters, the demultiplexing table, the timer heap, event
 * delivery and the lifetime of connections.
 *
 * Called by the owner of the stack (tcpe_stack_input, tcpe_stack_timers, ...) and by the other
 * tcp_*.c files. A stack must serve tens of thousands of connections cheaply, so:
 *  - demultiplexing is one hash on the 4-tuple; listeners sit in the same table with the remote
 *    half zero, so a miss costs two more lookups (specific address, then any address);
 *  - connections with a running timer sit in a binary min-heap keyed by their earliest
 *    deadline, updated whenever a timer changes (tcp_timer.c), so "when must I wake next" is the
 *    heap's top and running due timers costs O(log n) per connection touched. The heap has a slot
 *    reserved for every connection, so no timer operation ever allocates;
 *  - events are collected on the connections while the engine works and delivered at the end of
 *    the public call (tcp_leave), when every connection is consistent, so an event callback may
 *    call back into the engine, even to release the connection.
 */
#include <stdlib.h>
#include <string.h>

#include "handoff/assert.h"
#include "handoff/err.h"
#include "tcp_var.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S  1000000000ull

/* ---- parameters and allocation ---- */

void tcpe_params_init(struct tcpe_params *p)
{
    memset(p, 0, sizeof *p);
    p->mss = 1460;
    p->sndbuf = 65536;
    p->rcvbuf = 65536;
    p->rto_init = 1 * NS_PER_S;
    p->rto_min = 1 * NS_PER_S;
    p->rto_max = 60 * NS_PER_S;
    p->delack = 100 * NS_PER_MS;
    p->msl = 30 * NS_PER_S;
    p->fin_wait_2_timeout = 60 * NS_PER_S;
    p->rexmt_limit = 12;
    /* 1 + 2 + 4 + ... + 32 + 60 + 60 = 183 s with the default RTOs: at least the three minutes
     * RFC 9293 3.8.3 asks an unanswered SYN to be retried for (MUST-23). */
    p->syn_limit = 7;
    p->ooo_max = 64;
    p->challenge_ack_limit = 10;
    p->hash_buckets = 1024;
    p->limited_transmit = true;
    p->sack = true;
}

static void *libc_realloc(void *ctx, void *p, size_t size)
{
    (void)ctx;
    if (size == 0) {
        free(p);
        return NULL;
    }
    return realloc(p, size);
}

void *tcp_malloc(struct tcpe_stack *s, size_t size)
{
    return s->alloc.fn(s->alloc.ctx, NULL, size);
}

void tcp_free(struct tcpe_stack *s, void *p)
{
    if (p != NULL) {
        s->alloc.fn(s->alloc.ctx, p, 0);
    }
}

static int params_check(const struct tcpe_params *p)
{
    if (p->ops.output == NULL || p->mss < TCP_MSS_MIN || p->mss > TCP_MSS_MAX) {
        return HO_EINVAL;
    }
    if (p->sndbuf == 0 || p->sndbuf > TCP_BUF_LIMIT || p->rcvbuf == 0 ||
        p->rcvbuf > TCP_BUF_LIMIT) {
        return HO_EINVAL;
    }
    /* Timers must move time forward, or a due timer could rearm at the same instant forever. */
    if (p->rto_min == 0 || p->rto_init < p->rto_min || p->rto_max < p->rto_init ||
        p->rto_max > 3600 * NS_PER_S || p->msl == 0 || p->msl > 3600 * NS_PER_S ||
        p->delack > 10 * NS_PER_S || p->fin_wait_2_timeout > 3600 * NS_PER_S) {
        return HO_EINVAL;
    }
    if (p->rexmt_limit == 0 || p->rexmt_limit > 64 || p->syn_limit == 0 || p->syn_limit > 64 ||
        p->ooo_max > 1024 || p->hash_buckets == 0 || p->hash_buckets > (1u << 24)) {
        return HO_EINVAL;
    }
    return HO_OK;
}

int tcpe_stack_create(const struct tcpe_params *p, struct tcpe_stack **out)
{
    *out = NULL;
    int err = params_check(p);
    if (err < 0) {
        return err;
    }
    struct tcp_alloc alloc = {p->ops.realloc ? p->ops.realloc : libc_realloc, p->ctx};
    struct tcpe_stack *s = alloc.fn(alloc.ctx, NULL, sizeof *s);
    if (s == NULL) {
        return HO_ENOMEM;
    }
    memset(s, 0, sizeof *s);
    s->p = *p;
    s->alloc = alloc;
    uint32_t buckets = 1;
    while (buckets < p->hash_buckets) {
        buckets *= 2;
    }
    s->hash_mask = buckets - 1;
    s->hash = tcp_malloc(s, buckets * sizeof *s->hash);
    s->scratch = tcp_malloc(s, TCP_SCRATCH);
    if (s->hash == NULL || s->scratch == NULL) {
        tcpe_stack_destroy(s);
        return HO_ENOMEM;
    }
    memset(s->hash, 0, buckets * sizeof *s->hash);
    /* The smallest shift that lets the whole receive buffer be offered (RFC 7323 2.3). */
    while (s->rcv_wscale < TCP_MAX_WSCALE && (p->rcvbuf >> s->rcv_wscale) > TCP_MAXWIN) {
        s->rcv_wscale++;
    }
    *out = s;
    return HO_OK;
}

void tcpe_stack_destroy(struct tcpe_stack *s)
{
    if (s == NULL) {
        return;
    }
    while (s->all != NULL) {
        tcp_free_conn(s->all);
    }
    tcp_free(s, s->heap);
    tcp_free(s, s->hash);
    tcp_free(s, s->scratch);
    tcp_free(s, s);
}

const struct tcpe_stats *tcpe_stack_stats(const struct tcpe_stack *s)
{
    return &s->stats;
}

uint32_t tcpe_stack_conn_count(const struct tcpe_stack *s)
{
    return s->nconns;
}

/* ---- keyed hashing: demux buckets and default ISNs ---- */

static uint64_t mix64(uint64_t x)
{
    /* The splitmix64 finalizer: every input bit affects every output bit. */
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t tuple_hash(uint64_t key, const struct tcpe_tuple *t)
{
    uint64_t a = ((uint64_t)t->local_ip << 32) | t->remote_ip;
    uint64_t b = ((uint64_t)t->local_port << 16) | t->remote_port;
    return mix64(mix64(a ^ key) ^ b);
}

/*
 * RFC 6528: ISN = M + F(4-tuple, secret), M a clock ticking every 4 microseconds. F here is a
 * keyed mix rather than a cryptographic hash, which is enough for simulation and testing; a
 * deployment facing the Internet should supply ops.isn with a real PRF.
 */
uint32_t tcp_new_isn(struct tcpe_stack *s, const struct tcpe_tuple *t, uint64_t now)
{
    if (s->p.ops.isn != NULL) {
        return s->p.ops.isn(s->p.ctx, t, now);
    }
    return (uint32_t)(now / 4000) + (uint32_t)tuple_hash(s->p.seed ^ 0x69736e6b6579ULL, t);
}

/* RFC 7323 5.4: a per-connection offset to the timestamp clock, so that TSvals reveal neither
 * the clock nor which connections share a host. Whole milliseconds, so that a connection's
 * TSval ticks when now / 1 ms does. */
static uint64_t tcp_new_ts_offset(struct tcpe_stack *s, const struct tcpe_tuple *t)
{
    uint32_t ms = s->p.ops.ts_offset != NULL
                      ? s->p.ops.ts_offset(s->p.ctx, t)
                      : (uint32_t)tuple_hash(s->p.seed ^ 0x74736f6666736574ULL, t);
    return (uint64_t)ms * TCP_TS_TICK;
}

static bool tuple_eq(const struct tcpe_tuple *a, const struct tcpe_tuple *b)
{
    return a->local_ip == b->local_ip && a->remote_ip == b->remote_ip &&
           a->local_port == b->local_port && a->remote_port == b->remote_port;
}

static struct tcpe_conn **bucket_of(struct tcpe_stack *s, const struct tcpe_tuple *t)
{
    return &s->hash[tuple_hash(s->p.seed, t) & s->hash_mask];
}

struct tcpe_conn *tcp_hash_find(struct tcpe_stack *s, const struct tcpe_tuple *t)
{
    for (struct tcpe_conn *tp = *bucket_of(s, t); tp != NULL; tp = tp->hash_next) {
        if (tuple_eq(&tp->tuple, t)) {
            return tp;
        }
    }
    return NULL;
}

int tcp_hash_insert(struct tcpe_conn *tp)
{
    struct tcpe_stack *s = tp->stack;
    if (tcp_hash_find(s, &tp->tuple) != NULL) {
        return HO_EEXIST;
    }
    struct tcpe_conn **b = bucket_of(s, &tp->tuple);
    tp->hash_next = *b;
    *b = tp;
    tp->in_hash = true;
    return HO_OK;
}

static void hash_remove(struct tcpe_conn *tp)
{
    if (!tp->in_hash) {
        return;
    }
    struct tcpe_conn **pp = bucket_of(tp->stack, &tp->tuple);
    while (*pp != tp) {
        HO_ASSERT(*pp != NULL, "connection marked in_hash is missing from its bucket");
        pp = &(*pp)->hash_next;
    }
    *pp = tp->hash_next;
    tp->hash_next = NULL;
    tp->in_hash = false;
}

struct tcpe_conn *tcpe_stack_lookup(struct tcpe_stack *s, const struct tcpe_tuple *t)
{
    struct tcpe_conn *tp = tcp_hash_find(s, t);
    return tp != NULL && tp->state != TCPE_LISTEN ? tp : NULL;
}

/* ---- the timer heap: (wake, id) min-heap of connections with a running timer ---- */

static bool heap_before(const struct tcpe_conn *a, const struct tcpe_conn *b)
{
    return a->wake < b->wake || (a->wake == b->wake && a->id < b->id);
}

static void heap_place(struct tcpe_stack *s, uint32_t i, struct tcpe_conn *tp)
{
    s->heap[i] = tp;
    tp->heap_idx = i;
}

static void heap_up(struct tcpe_stack *s, uint32_t i)
{
    struct tcpe_conn *tp = s->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!heap_before(tp, s->heap[parent])) {
            break;
        }
        heap_place(s, i, s->heap[parent]);
        i = parent;
    }
    heap_place(s, i, tp);
}

static void heap_down(struct tcpe_stack *s, uint32_t i)
{
    struct tcpe_conn *tp = s->heap[i];
    for (;;) {
        uint32_t child = 2 * i + 1;
        if (child >= s->heap_len) {
            break;
        }
        if (child + 1 < s->heap_len && heap_before(s->heap[child + 1], s->heap[child])) {
            child++;
        }
        if (!heap_before(s->heap[child], tp)) {
            break;
        }
        heap_place(s, i, s->heap[child]);
        i = child;
    }
    heap_place(s, i, tp);
}

static void heap_remove(struct tcpe_conn *tp)
{
    struct tcpe_stack *s = tp->stack;
    uint32_t i = tp->heap_idx;
    if (i == UINT32_MAX) {
        return;
    }
    tp->heap_idx = UINT32_MAX;
    struct tcpe_conn *last = s->heap[--s->heap_len];
    if (last != tp) {
        heap_place(s, i, last);
        heap_up(s, i);
        heap_down(s, last->heap_idx);
    }
}

/* Called by tcp_timer.c whenever a timer changes: keeps tp's heap key its earliest deadline. */
void tcp_heap_update(struct tcpe_conn *tp)
{
    struct tcpe_stack *s = tp->stack;
    uint64_t wake = tcp_earliest_timer(tp);
    if (wake == TCP_TIMER_OFF) {
        heap_remove(tp);
        return;
    }
    if (tp->heap_idx == UINT32_MAX) {
        HO_ASSERT(s->heap_len < s->heap_cap, "heap slot not reserved (%u of %u)", s->heap_len,
                  s->heap_cap);
        tp->wake = wake;
        heap_place(s, s->heap_len++, tp);
        heap_up(s, tp->heap_idx);
    } else if (wake != tp->wake) {
        tp->wake = wake;
        heap_up(s, tp->heap_idx);
        heap_down(s, tp->heap_idx);
    }
}

uint64_t tcpe_stack_next_wake(const struct tcpe_stack *s)
{
    return s->heap_len > 0 ? s->heap[0]->wake : TCPE_NEVER;
}

uint64_t tcpe_conn_next_wake(const struct tcpe_conn *c)
{
    return tcp_earliest_timer(c);
}

uint64_t tcpe_stack_timers(struct tcpe_stack *s, uint64_t now)
{
    const struct tcpe_stats *st = &s->stats;
    uint64_t fired = st->delayed_acks + st->timeouts + st->persist_probes;
    uint32_t conns = s->nconns;
    while (s->heap_len > 0 && s->heap[0]->wake <= now) {
        struct tcpe_conn *tp = s->heap[0];
        tcp_run_timers(tp, now);
        HO_ASSERT(tp->heap_idx == UINT32_MAX || tp->wake > now,
                  "connection %llu still due at %llu after its timers ran",
                  (unsigned long long)tp->id, (unsigned long long)now);
        tcp_leave(tp);
    }
    return st->delayed_acks + st->timeouts + st->persist_probes - fired +
           (conns > s->nconns ? conns - s->nconns : 0);
}

void tcpe_conn_timers(struct tcpe_conn *c, uint64_t now)
{
    if (tcp_earliest_timer(c) <= now) {
        tcp_run_timers(c, now);
    }
    tcp_leave(c);
}

/* ---- connection lifetime ---- */

struct tcpe_conn *tcp_conn_new(struct tcpe_stack *s, const struct tcpe_tuple *t)
{
    /* Reserve this connection's heap slot now, so timers never allocate. */
    if (s->heap_cap <= s->nconns) {
        uint32_t cap = s->heap_cap ? 2 * s->heap_cap : 64;
        struct tcpe_conn **heap = s->alloc.fn(s->alloc.ctx, s->heap, cap * sizeof *heap);
        if (heap == NULL) {
            return NULL;
        }
        s->heap = heap;
        s->heap_cap = cap;
    }
    struct tcpe_conn *tp = tcp_malloc(s, sizeof *tp);
    if (tp == NULL) {
        return NULL;
    }
    memset(tp, 0, sizeof *tp);
    tp->stack = s;
    tp->tuple = *t;
    tp->state = TCPE_CLOSED;
    tp->heap_idx = UINT32_MAX;
    tp->id = s->next_id++;
    for (int i = 0; i < TCP_NTIMERS; i++) {
        tp->t_timer[i] = TCP_TIMER_OFF;
    }
    tp->t_flags = (s->p.virtual_payload ? TF_VIRTUAL : 0) | (s->p.nodelay ? TF_NODELAY : 0) |
                  (s->p.limited_transmit ? TF_LIMITED : 0) | (s->p.timestamps ? TF_TSTAMP : 0) |
                  (s->p.sack ? TF_SACK : 0);
    if (s->p.timestamps) {
        tp->ts_offset = tcp_new_ts_offset(s, t);
    }
    tp->sndbuf = s->p.sndbuf;
    tp->rcvbuf = s->p.rcvbuf;
    tp->rcv_wscale = s->rcv_wscale;
    tp->t_maxseg = (uint16_t)(s->p.mss < TCP_MSS_DEFAULT ? s->p.mss : TCP_MSS_DEFAULT);
    tp->t_rto = s->p.rto_init;
    tp->snd_ssthresh = TCP_BUF_LIMIT;
    tp->all_next = s->all;
    if (s->all != NULL) {
        s->all->all_prev = tp;
    }
    s->all = tp;
    s->nconns++;
    return tp;
}

static void ev_list_remove(struct tcpe_conn *tp)
{
    struct tcpe_stack *s = tp->stack;
    if (!tp->ev_queued) {
        return;
    }
    struct tcpe_conn *prev = NULL;
    for (struct tcpe_conn *it = s->ev_head; it != tp; prev = it, it = it->ev_next) {
        HO_ASSERT(it != NULL, "queued connection missing from the event list");
    }
    if (prev == NULL) {
        s->ev_head = tp->ev_next;
    } else {
        prev->ev_next = tp->ev_next;
    }
    if (s->ev_tail == tp) {
        s->ev_tail = prev;
    }
    tp->ev_next = NULL;
    tp->ev_queued = false;
}

/* Unlinks tp from everything in its stack and frees it and its buffers. Sends nothing. */
void tcp_free_conn(struct tcpe_conn *tp)
{
    struct tcpe_stack *s = tp->stack;
    if (tp->state == TCPE_LISTEN) {
        /* Orphan the children; whoever frees them later finds no listener. */
        for (struct tcpe_conn *c = s->all; c != NULL; c = c->all_next) {
            if (c->listener == tp) {
                c->listener = NULL;
                c->acc_next = NULL;
            }
        }
    }
    tcp_listener_unlink(tp);
    hash_remove(tp);
    heap_remove(tp);
    ev_list_remove(tp);
    if (tp->all_prev != NULL) {
        tp->all_prev->all_next = tp->all_next;
    } else {
        s->all = tp->all_next;
    }
    if (tp->all_next != NULL) {
        tp->all_next->all_prev = tp->all_prev;
    }
    s->nconns--;
    tcp_buf_free(&tp->snd, &s->alloc);
    tcp_buf_free(&tp->rcv, &s->alloc);
    tcp_reass_free(tp);
    tcp_free(s, tp);
}

/* Unlinks tp from the demux table (used when it reaches CLOSED). */
void tcp_hash_remove(struct tcpe_conn *tp)
{
    hash_remove(tp);
}

/* ---- events ---- */

void tcp_event(struct tcpe_conn *tp, unsigned ev)
{
    struct tcpe_stack *s = tp->stack;
    tp->ev |= ev;
    if (s->p.ops.event == NULL || tp->ev_queued) {
        return;
    }
    tp->ev_queued = true;
    tp->ev_next = NULL;
    if (s->ev_tail != NULL) {
        s->ev_tail->ev_next = tp;
    } else {
        s->ev_head = tp;
    }
    s->ev_tail = tp;
}

void tcp_drop_count(struct tcpe_stack *s, struct tcpe_conn *tp, enum tcpe_drop why)
{
    s->stats.drops[why]++;
    if (tp != NULL) {
        tp->stats.drops[why]++;
    }
}

/* Delivers pending events. A callback may re-enter the engine, which delivers in turn; each
 * connection is taken off the list before its callback runs, so it may even be freed. */
void tcp_leave_stack(struct tcpe_stack *s)
{
    while (s->ev_head != NULL) {
        struct tcpe_conn *tp = s->ev_head;
        s->ev_head = tp->ev_next;
        if (s->ev_head == NULL) {
            s->ev_tail = NULL;
        }
        tp->ev_next = NULL;
        tp->ev_queued = false;
        unsigned ev = tp->ev;
        tp->ev = 0;
        /* A connection nobody holds (unaccepted, released) has no one to tell. */
        if (ev != 0 && !(tp->t_flags & TF_RELEASED)) {
            s->p.ops.event(s->p.ctx, tp, ev);
        }
    }
}

/* The end of every public call on a connection: free it if it is closed and nobody holds it,
 * then deliver events. tp must not be used afterwards. */
void tcp_leave(struct tcpe_conn *tp)
{
    struct tcpe_stack *s = tp->stack;
    if (tp->state == TCPE_CLOSED && (tp->t_flags & TF_RELEASED)) {
        tcp_free_conn(tp);
    }
    tcp_leave_stack(s);
}

/* ---- input entry points ---- */

int tcpe_stack_input(struct tcpe_stack *s, const struct tcpe_seg *seg, uint64_t now)
{
    if (seg == NULL) {
        return HO_EINVAL;
    }
    struct tcpe_tuple t = {seg->dst_ip, seg->src_ip, seg->dst_port, seg->src_port};
    struct tcpe_conn *tp = tcp_hash_find(s, &t);
    if (tp == NULL) {
        struct tcpe_tuple lt = {seg->dst_ip, 0, seg->dst_port, 0};
        tp = tcp_hash_find(s, &lt);
        if (tp == NULL) {
            lt.local_ip = 0;
            tp = tcp_hash_find(s, &lt);
        }
    }
    if (tp == NULL) {
        s->stats.segs_in++;
        tcp_drop_count(s, NULL, TCPE_DROP_NO_CONN);
        tcp_input_no_conn(s, seg);
        tcp_leave_stack(s);
        return HO_ENOENT;
    }
    return tcpe_conn_input(tp, seg, now);
}

int tcpe_conn_input(struct tcpe_conn *c, const struct tcpe_seg *seg, uint64_t now)
{
    if (seg == NULL) {
        return HO_EINVAL;
    }
    int ret = HO_OK;
    if (seg->len > 0 && seg->data == NULL && !(c->t_flags & TF_VIRTUAL)) {
        /* Virtual payload cannot fill a real buffer. */
        TCP_STAT_INC(c, segs_in);
        tcp_drop_count(c->stack, c, TCPE_DROP_MALFORMED);
        ret = HO_EINVAL;
    } else {
        tcp_input(c, seg, now);
    }
    tcp_leave(c);
    return ret;
}
