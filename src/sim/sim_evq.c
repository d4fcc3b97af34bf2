/*
 * sim_evq.c - the simulator's event queue (see include/handoff/sim_evq.h). Every simulated
 * component schedules through it; the simulation loop pops from it.
 *
 * Shape, chosen by measurement (bench/bench_sim_core.c): a calendar ring for the next second
 * or so, with an exact heap in front of it and another behind it, in the spirit of calendar
 * and ladder queues.
 *
 * Time is cut into windows of 2^wbits ns. Every event of the current window `win` or earlier
 * sits in the near heap, a 4-ary min-heap ordered by (time, sequence number). Events of the
 * following windows, up to `horizon`, sit unsorted in a ring of buckets, one per window. Events
 * beyond the ring sit in the far heap, ordered like the near one. Every bucketed event is later
 * than every near-heap event, so the near heap's top is the earliest event. When the near heap
 * runs dry, the next non-empty bucket (found through a bitmap) is poured into it and heapified
 * in linear time, the ring advances, and far events that now fall within it move into their
 * buckets. Order is decided by the heaps alone, so the window length affects speed only.
 *
 * Why: a simulation has a few events per microsecond of simulated time but thousands of
 * pending timers spread over the next second. The near heap holds one window's worth of events
 * (a handful), so the cost of an event barely grows with the simulated population; a timer
 * costs an O(1) list insertion and, if cancelled before its window comes, nothing more. Events
 * beyond the ring (long timers such as TIME_WAIT) pay O(log n) in the far heap, and never
 * cost a rescan.
 *
 * - Heap entries are 16 bytes {time, key} with key = sequence number << 24 | slot: ordering by
 *   (time, key) is ordering by (time, sequence) because sequence numbers are unique, and the
 *   pair is compared as one 128-bit number. Heap arrays are offset so that every group of four
 *   siblings fills one 64-byte cache line. Root removal walks the hole down along the smaller
 *   children, chosen without branches (their order is random, so branches would mispredict
 *   half the time), then sifts the former last entry up from the leaf (Floyd's bottom-up
 *   removal).
 * - Event bodies {time, key, fn, ctx, arg, next} live in a slot array with a free stack; the
 *   buckets are singly linked lists threaded through `next`, so filing an event in a bucket
 *   writes only the body it has just written anyway and a 4-byte list head, and nothing
 *   allocates in steady state. A handle is the event's key; it matches its slot only while that
 *   event is pending, which makes stale handles harmless.
 * - Cancellation is lazy: it clears the body's fn, and the event is dropped wherever it is met
 *   next (a heap top, a bucket pour). TCP timers are re-armed on nearly every segment and are
 *   mostly cancelled while still in a bucket. If cancelled events ever outnumber live ones,
 *   everything is purged in one linear pass, so memory stays within twice the live events at
 *   amortised O(1) per cancel.
 */
#include "handoff/sim_evq.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/assert.h"
#include "handoff/err.h"

#define SLOT_BITS     24
#define SLOT_MASK     ((1u << SLOT_BITS) - 1)
#define SEQ_MAX       ((UINT64_C(1) << 40) - 1)
#define DEFAULT_CAP   1024
#define MIN_CAP       16
#define DEFAULT_WBITS 12 /* 4.096 us windows */
#define DEFAULT_NBITS 18 /* 262144 windows: the ring spans 1.07 s */
#define MAX_WBITS     40
#define MAX_NBITS     20
#define PURGE_MIN     64 /* cancelled events tolerated before a purge is considered */
#define LINE_BYTES    64
#define HEAP_OFFSET   3 /* entries before v[0] so that v[4i+1..4i+4] share a cache line */
#define NO_SLOT       UINT32_MAX

__extension__ typedef unsigned __int128 u128;

struct heap_ent {
    uint64_t time; /* when the event is due */
    uint64_t key;  /* sequence number << SLOT_BITS | slot */
};

struct heap {
    struct heap_ent *v; /* entries (points into mem) */
    void *mem;          /* the allocation behind v, cache-line aligned */
    uint32_t len;       /* entries: live and cancelled */
};

struct node {
    uint64_t time;   /* when the event is due */
    uint64_t key;    /* the pending event's key (its handle); 0 when the slot is free */
    sim_event_fn fn; /* handler; NULL once cancelled (the event is still queued somewhere) */
    void *ctx;       /* handler context */
    uint64_t arg;    /* handler argument */
    uint32_t next;   /* next slot in the same bucket, or NO_SLOT */
};

struct sim_evq {
    struct heap near;     /* events of windows <= win */
    struct heap far;      /* events of windows >= horizon */
    struct node *nodes;   /* event bodies, cap slots */
    uint32_t *free_slots; /* stack of free slot numbers */
    uint32_t nfree;       /* entries on the free stack */
    uint32_t cap;         /* slots allocated (each heap has room for all of them) */
    uint32_t max_pending; /* slots allowed */
    uint32_t live;        /* pending events not cancelled */
    uint32_t dead;        /* cancelled events still queued */
    uint32_t wbits;       /* log2 of the window length in ns */
    uint32_t nbuckets;    /* windows in the ring, a power of two */
    uint32_t *buckets;    /* the ring: list head of window w at buckets[w % nbuckets] */
    uint64_t *nonempty;   /* bitmap of non-empty buckets */
    uint32_t bucketed;    /* events in all buckets, cancelled included */
    uint64_t win;         /* the near heap holds every event of windows <= win */
    uint64_t horizon;     /* buckets hold windows win+1 .. horizon-1, the far heap the rest */
    uint64_t next_seq;    /* sequence number of the next event */
    uint64_t now;         /* the clock */
    struct sim_evq_stats st;
};

/* ---- heaps -------------------------------------------------------------------------------- */

/* The (time, key) pair as one 128-bit number, so that ordering is a single wide compare. */
static inline u128 ent_rank(struct heap_ent e)
{
    return (u128)e.time << 64 | e.key;
}

static inline int ent_less(struct heap_ent a, struct heap_ent b)
{
    return ent_rank(a) < ent_rank(b);
}

/* b if h[b] orders before h[a], else a; computed without a branch (the outcome is random). */
static inline uint32_t pick_min(const struct heap_ent *h, uint32_t a, uint32_t b)
{
    uint32_t b_first = ent_rank(h[b]) < ent_rank(h[a]);
    return a ^ ((a ^ b) & (0u - b_first));
}

static inline uint32_t ent_slot(struct heap_ent e)
{
    return (uint32_t)(e.key & SLOT_MASK);
}

/* Moves e up from the hole at i to where the heap order allows. */
static inline void sift_up(struct heap_ent *h, uint32_t i, struct heap_ent e)
{
    while (i > 0) {
        uint32_t parent = (i - 1) >> 2;
        if (!ent_less(e, h[parent])) {
            break;
        }
        h[i] = h[parent];
        i = parent;
    }
    h[i] = e;
}

static inline void heap_push(struct heap *hp, struct heap_ent e)
{
    sift_up(hp->v, hp->len++, e);
}

/* The index of the smallest of the children first..first+count-1 (count 1..4). */
static inline uint32_t min_child(const struct heap_ent *h, uint32_t first, uint32_t count)
{
    uint32_t m = first;
    for (uint32_t c = first + 1; c < first + count; c++) {
        m = pick_min(h, m, c);
    }
    return m;
}

/* Classic sift-down of the entry at i (used to heapify). */
static void sift_down(struct heap_ent *h, uint32_t n, uint32_t i)
{
    struct heap_ent e = h[i];
    for (;;) {
        uint32_t c = 4 * i + 1;
        if (c >= n) {
            break;
        }
        uint32_t m = min_child(h, c, n - c < 4 ? n - c : 4);
        if (!ent_less(h[m], e)) {
            break;
        }
        h[i] = h[m];
        i = m;
    }
    h[i] = e;
}

/* Floyd's linear-time construction over the heap's entries. */
static void heapify(struct heap *hp)
{
    if (hp->len > 1) {
        for (uint32_t i = (hp->len - 2) / 4 + 1; i-- > 0;) {
            sift_down(hp->v, hp->len, i);
        }
    }
}

/* Removes the root (the heap must not be empty). */
static void heap_remove_top(struct heap *hp)
{
    struct heap_ent *h = hp->v;
    uint32_t n = --hp->len;
    if (n == 0) {
        return;
    }
    struct heap_ent last = h[n];
    uint32_t i = 0;
    for (;;) {
        uint32_t c = 4 * i + 1;
        if (c + 3 < n) {
            /* Four children: the common case, as a branch-free tournament. */
            uint32_t a = pick_min(h, c, c + 1);
            uint32_t b = pick_min(h, c + 2, c + 3);
            uint32_t m = pick_min(h, a, b);
            h[i] = h[m];
            i = m;
        } else {
            if (c < n) {
                /* Fewer than four children: their own children lie past the end. */
                uint32_t m = min_child(h, c, n - c);
                h[i] = h[m];
                i = m;
            }
            break;
        }
    }
    sift_up(h, i, last);
}

/* Resizes a heap's array to cap entries, keeping its contents. */
static int heap_resize(struct heap *hp, uint32_t cap)
{
    size_t bytes = ((size_t)cap + HEAP_OFFSET) * sizeof(struct heap_ent);
    bytes = (bytes + LINE_BYTES - 1) / LINE_BYTES * LINE_BYTES;
    void *mem = aligned_alloc(LINE_BYTES, bytes);
    if (mem == NULL) {
        return HO_ENOMEM;
    }
    struct heap_ent *v = (struct heap_ent *)mem + HEAP_OFFSET;
    if (hp->len > 0) {
        memcpy(v, hp->v, (size_t)hp->len * sizeof *v);
    }
    free(hp->mem);
    hp->mem = mem;
    hp->v = v;
    return HO_OK;
}

/* ---- slots and buckets -------------------------------------------------------------------- */

static bool is_live(const struct sim_evq *q, uint32_t slot)
{
    return q->nodes[slot].fn != NULL;
}

static void free_slot(struct sim_evq *q, uint32_t slot)
{
    q->nodes[slot].key = 0;
    q->nodes[slot].fn = NULL;
    q->free_slots[q->nfree++] = slot;
}

/* Frees the slot of a cancelled event met while moving events around. */
static void drop_dead(struct sim_evq *q, uint32_t slot)
{
    free_slot(q, slot);
    q->dead--;
}

/* Drops cancelled events from the top of a heap; returns whether a live one is left on top. */
static bool heap_settle(struct sim_evq *q, struct heap *hp)
{
    while (hp->len > 0) {
        uint32_t slot = ent_slot(hp->v[0]);
        if (is_live(q, slot)) {
            return true;
        }
        heap_remove_top(hp);
        drop_dead(q, slot);
    }
    return false;
}

/* Keeps the live entries of a heap, frees the cancelled ones, and restores the heap order. */
static void heap_purge(struct sim_evq *q, struct heap *hp)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < hp->len; i++) {
        uint32_t slot = ent_slot(hp->v[i]);
        if (is_live(q, slot)) {
            hp->v[kept++] = hp->v[i];
        } else {
            drop_dead(q, slot);
        }
    }
    hp->len = kept;
    heapify(hp);
}

static uint32_t ring_index(const struct sim_evq *q, uint64_t window)
{
    return (uint32_t)(window & (q->nbuckets - 1));
}

/* Files a slot in the bucket of its window (which must lie in win+1 .. horizon-1). */
static void bucket_file(struct sim_evq *q, uint64_t window, uint32_t slot)
{
    uint32_t i = ring_index(q, window);
    q->nodes[slot].next = q->buckets[i];
    q->buckets[i] = slot;
    q->nonempty[i / 64] |= UINT64_C(1) << (i % 64);
    q->bucketed++;
}

/* Unlinks the cancelled events of bucket i; returns how many live ones remain. */
static uint32_t bucket_purge(struct sim_evq *q, uint32_t i)
{
    uint32_t kept = 0;
    uint32_t *link = &q->buckets[i];
    while (*link != NO_SLOT) {
        uint32_t slot = *link;
        if (is_live(q, slot)) {
            kept++;
            link = &q->nodes[slot].next;
        } else {
            *link = q->nodes[slot].next;
            drop_dead(q, slot);
        }
    }
    if (kept == 0) {
        q->nonempty[i / 64] &= ~(UINT64_C(1) << (i % 64));
    }
    return kept;
}

/* Removes every cancelled event from the heaps and the buckets. */
static void purge(struct sim_evq *q)
{
    heap_purge(q, &q->near);
    heap_purge(q, &q->far);
    q->bucketed = 0;
    for (uint32_t w = 0; w < q->nbuckets / 64; w++) {
        for (uint64_t bits = q->nonempty[w]; bits != 0; bits &= bits - 1) {
            q->bucketed += bucket_purge(q, w * 64 + (uint32_t)__builtin_ctzll(bits));
        }
    }
    HO_ASSERT(q->dead == 0, "%u cancelled events not found by the purge", q->dead);
    q->st.compactions++;
}

/* Grows the slot arrays and both heaps to new_cap and puts the new slots on the free stack. */
static int grow(struct sim_evq *q, uint32_t new_cap)
{
    if (heap_resize(&q->near, new_cap) != HO_OK || heap_resize(&q->far, new_cap) != HO_OK) {
        return HO_ENOMEM; /* a heap that did grow is merely larger than it needs to be */
    }
    struct node *nodes = realloc(q->nodes, (size_t)new_cap * sizeof *nodes);
    if (nodes == NULL) {
        return HO_ENOMEM;
    }
    q->nodes = nodes;
    uint32_t *free_slots = realloc(q->free_slots, (size_t)new_cap * sizeof *free_slots);
    if (free_slots == NULL) {
        return HO_ENOMEM;
    }
    q->free_slots = free_slots;
    memset(&q->nodes[q->cap], 0, (size_t)(new_cap - q->cap) * sizeof *q->nodes);
    /* Pushed highest first so the lowest-numbered slots are handed out first. */
    for (uint32_t s = new_cap; s-- > q->cap;) {
        q->free_slots[q->nfree++] = s;
    }
    q->cap = new_cap;
    q->st.capacity = new_cap;
    return HO_OK;
}

/* Makes at least one slot free: grow while allowed, otherwise reclaim cancelled slots. */
static int make_room(struct sim_evq *q)
{
    if (q->cap < q->max_pending) {
        uint64_t want = (uint64_t)q->cap * 2;
        if (want < MIN_CAP) {
            want = MIN_CAP;
        }
        if (want > q->max_pending) {
            want = q->max_pending;
        }
        return grow(q, (uint32_t)want);
    }
    if (q->dead > 0) {
        purge(q);
        return HO_OK;
    }
    return HO_ENOSPC;
}

/* ---- moving time forward ------------------------------------------------------------------ */

static uint64_t window_of(const struct sim_evq *q, uint64_t time)
{
    return time >> q->wbits;
}

/* Extends the ring to win + nbuckets and moves far events that now fall within it. */
static void advance_horizon(struct sim_evq *q)
{
    q->horizon = q->win + q->nbuckets + 1;
    while (heap_settle(q, &q->far) && window_of(q, q->far.v[0].time) < q->horizon) {
        struct heap_ent e = q->far.v[0];
        heap_remove_top(&q->far);
        bucket_file(q, window_of(q, e.time), ent_slot(e));
    }
}

/* The window of the first non-empty bucket after win (some bucket must be non-empty). */
static uint64_t next_bucketed_window(const struct sim_evq *q)
{
    uint32_t words = q->nbuckets / 64;
    uint32_t start = ring_index(q, q->win + 1);
    uint32_t w = start / 64;
    uint64_t bits = q->nonempty[w] & (~UINT64_C(0) << (start % 64));
    for (uint32_t n = 0; bits == 0; n++) {
        HO_ASSERT(n <= words, "calendar bitmap empty with %u events bucketed", q->bucketed);
        w = (w + 1) % words;
        bits = q->nonempty[w];
    }
    uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(bits);
    return q->win + 1 + ((i - start) & (q->nbuckets - 1));
}

/* Pours bucket i into the (empty) near heap, dropping cancelled events, and heapifies. */
static void pour(struct sim_evq *q, uint32_t i)
{
    struct heap *hp = &q->near;
    for (uint32_t slot = q->buckets[i]; slot != NO_SLOT;) {
        const struct node *nd = &q->nodes[slot];
        uint32_t next = nd->next;
        if (nd->fn != NULL) {
            hp->v[hp->len].time = nd->time;
            hp->v[hp->len].key = nd->key;
            hp->len++;
        } else {
            drop_dead(q, slot);
        }
        q->bucketed--;
        slot = next;
    }
    q->buckets[i] = NO_SLOT;
    q->nonempty[i / 64] &= ~(UINT64_C(1) << (i % 64));
    heapify(hp);
}

/* Whether a live event is at the near heap's top, after refilling it as needed. */
static bool settle_top(struct sim_evq *q)
{
    while (!heap_settle(q, &q->near)) {
        if (q->bucketed > 0) {
            q->win = next_bucketed_window(q);
            pour(q, ring_index(q, q->win));
        } else if (heap_settle(q, &q->far)) {
            /* Nothing within the ring: jump to the window before the earliest far event. */
            q->win = window_of(q, q->far.v[0].time) - 1;
        } else {
            return false;
        }
        advance_horizon(q);
    }
    return true;
}

/* ---- the interface ------------------------------------------------------------------------ */

int sim_evq_create(const struct sim_evq_params *p, struct sim_evq **out)
{
    struct sim_evq_params d = {0};
    if (p != NULL) {
        d = *p;
    }
    if (d.max_pending > SIM_EVQ_MAX_PENDING || d.window_ns_log2 > MAX_WBITS ||
        d.windows_log2 > MAX_NBITS || (d.windows_log2 != 0 && d.windows_log2 < 6)) {
        return HO_EINVAL;
    }
    uint32_t max_pending = d.max_pending ? d.max_pending : SIM_EVQ_MAX_PENDING;
    if (d.initial_capacity > max_pending) {
        return HO_EINVAL;
    }
    uint32_t initial = d.initial_capacity ? d.initial_capacity : DEFAULT_CAP;
    if (initial > max_pending) {
        initial = max_pending;
    }
    struct sim_evq *q = calloc(1, sizeof *q);
    if (q == NULL) {
        return HO_ENOMEM;
    }
    q->max_pending = max_pending;
    q->next_seq = 1;
    q->wbits = d.window_ns_log2 ? d.window_ns_log2 : DEFAULT_WBITS;
    q->nbuckets = 1u << (d.windows_log2 ? d.windows_log2 : DEFAULT_NBITS);
    q->horizon = q->nbuckets + 1;
    q->buckets = malloc((size_t)q->nbuckets * sizeof *q->buckets);
    q->nonempty = calloc(q->nbuckets / 64, sizeof *q->nonempty);
    if (q->buckets == NULL || q->nonempty == NULL || grow(q, initial) != HO_OK) {
        sim_evq_destroy(q);
        return HO_ENOMEM;
    }
    for (uint32_t i = 0; i < q->nbuckets; i++) {
        q->buckets[i] = NO_SLOT;
    }
    *out = q;
    return HO_OK;
}

void sim_evq_destroy(struct sim_evq *q)
{
    if (q == NULL) {
        return;
    }
    free(q->buckets);
    free(q->nonempty);
    free(q->near.mem);
    free(q->far.mem);
    free(q->nodes);
    free(q->free_slots);
    free(q);
}

uint64_t sim_evq_now(const struct sim_evq *q)
{
    return q->now;
}

uint32_t sim_evq_pending(const struct sim_evq *q)
{
    return q->live;
}

int sim_evq_schedule(struct sim_evq *q, uint64_t when, sim_event_fn fn, void *ctx, uint64_t arg,
                     uint64_t *handle)
{
    if (fn == NULL || when < q->now) {
        return HO_EINVAL;
    }
    if (q->next_seq > SEQ_MAX) {
        return HO_ENOSPC;
    }
    if (q->nfree == 0) {
        int err = make_room(q);
        if (err < 0) {
            return err;
        }
    }
    uint32_t slot = q->free_slots[--q->nfree];
    uint64_t key = q->next_seq++ << SLOT_BITS | slot;
    struct node *n = &q->nodes[slot];
    n->time = when;
    n->key = key;
    n->fn = fn;
    n->ctx = ctx;
    n->arg = arg;
    uint64_t window = window_of(q, when);
    if (window <= q->win) {
        heap_push(&q->near, (struct heap_ent){when, key});
    } else if (window < q->horizon) {
        bucket_file(q, window, slot);
    } else {
        heap_push(&q->far, (struct heap_ent){when, key});
    }
    q->live++;
    q->st.scheduled++;
    if (q->live > q->st.peak_pending) {
        q->st.peak_pending = q->live;
    }
    if (handle != NULL) {
        *handle = key;
    }
    return HO_OK;
}

int sim_evq_cancel(struct sim_evq *q, uint64_t handle)
{
    uint32_t slot = (uint32_t)(handle & SLOT_MASK);
    if (handle == 0 || slot >= q->cap) {
        return HO_ENOENT;
    }
    struct node *n = &q->nodes[slot];
    if (n->key != handle || n->fn == NULL) {
        return HO_ENOENT;
    }
    n->fn = NULL;
    q->live--;
    q->dead++;
    q->st.cancelled++;
    if (q->dead >= PURGE_MIN && q->dead > q->live) {
        purge(q);
    }
    return HO_OK;
}

int sim_evq_peek_time(struct sim_evq *q, uint64_t *when)
{
    if (!settle_top(q)) {
        return HO_ENOENT;
    }
    *when = q->near.v[0].time;
    return HO_OK;
}

int sim_evq_pop(struct sim_evq *q, struct sim_event *ev)
{
    if (!settle_top(q)) {
        return 0;
    }
    struct heap_ent top = q->near.v[0];
    uint32_t slot = ent_slot(top);
    const struct node *n = &q->nodes[slot];
    ev->time = top.time;
    ev->handle = top.key;
    ev->fn = n->fn;
    ev->ctx = n->ctx;
    ev->arg = n->arg;
    heap_remove_top(&q->near);
    free_slot(q, slot);
    q->live--;
    q->now = top.time;
    q->st.popped++;
    return 1;
}

int sim_evq_run_next(struct sim_evq *q)
{
    struct sim_event ev;
    if (!sim_evq_pop(q, &ev)) {
        return 0;
    }
    ev.fn(ev.ctx, ev.arg, ev.time);
    return 1;
}

uint64_t sim_evq_run_until(struct sim_evq *q, uint64_t until, uint64_t max_events)
{
    uint64_t ran = 0;
    for (;;) {
        if (max_events != 0 && ran == max_events) {
            return ran;
        }
        if (!settle_top(q) || q->near.v[0].time > until) {
            break;
        }
        sim_evq_run_next(q);
        ran++;
    }
    if (until > q->now) {
        q->now = until;
    }
    return ran;
}

void sim_evq_stats(const struct sim_evq *q, struct sim_evq_stats *st)
{
    *st = q->st;
    st->pending = q->live;
}
