/*
 * sched.c - the NIC's work queues and its FCFS / host-first scheduler (see
 * include/handoff/sched.h for the contract and the reasons behind the shared receive memory).
 *
 * The firmware's main loop calls ho_sched_enqueue() as work arrives (a classified received
 * frame, a frame or command the host posted, a segment the NIC's TCP produced) and
 * ho_sched_dequeue() whenever its processor is free; load control reads ho_sched_qlen().
 *
 * Each queue is a bounded ring of items, allocated at creation. Choosing the next item is a
 * minimum over the five queue heads of the key (class, arrival sequence number), where the
 * class is 0 for NIC_TX (the rest of the work in progress), and then, under FCFS, 1 for every
 * other queue, under HOST_FIRST, 1 for the host queues and 2 for NIC_RX and CMD. Within a
 * queue items are already in arrival order, so the heads are all that matter: dequeue is O(1)
 * whatever the queue lengths.
 */
#include <stdint.h>
#include <stdlib.h>

#include "handoff/err.h"
#include "handoff/sched.h"

/* A bounded FIFO of items: len items starting at items[head], wrapping at cap. */
struct ho_sched_ring {
    struct ho_sched_item *items; /* cap slots, inside the scheduler's one item allocation */
    uint32_t cap;                /* slots */
    uint32_t head;               /* index of the oldest item */
    uint32_t len;                /* items held */
};

struct ho_sched {
    enum ho_sched_discipline discipline;
    uint32_t rx_capacity; /* shared by the HOST_RX and NIC_RX rings */
    uint64_t next_seq;    /* sequence number of the next accepted item */
    struct ho_sched_ring ring[HO_SCHED_NQUEUES];
    struct ho_sched_counters counters[HO_SCHED_NQUEUES];
    struct ho_sched_item *storage; /* all rings' slots */
};

static const char *const queue_names[HO_SCHED_NQUEUES] = {
    [HO_SCHED_HOST_RX] = "host_rx", [HO_SCHED_HOST_TX] = "host_tx", [HO_SCHED_NIC_RX] = "nic_rx",
    [HO_SCHED_CMD] = "cmd",         [HO_SCHED_NIC_TX] = "nic_tx",
};

static const char *const discipline_names[HO_SCHED_NDISCIPLINES] = {
    [HO_SCHED_FCFS] = "fcfs",
    [HO_SCHED_HOST_FIRST] = "host_first",
};

static int queue_valid(enum ho_sched_queue q)
{
    return (unsigned)q < HO_SCHED_NQUEUES;
}

static int capacity_valid(uint32_t cap)
{
    return cap >= 1 && cap <= HO_SCHED_MAX_CAPACITY;
}

/* ---- rings ------------------------------------------------------------------------------- */

static void ring_push(struct ho_sched_ring *r, const struct ho_sched_item *it)
{
    uint32_t tail = r->head + r->len;
    if (tail >= r->cap) {
        tail -= r->cap;
    }
    r->items[tail] = *it;
    r->len++;
}

static void ring_pop(struct ho_sched_ring *r)
{
    r->head++;
    if (r->head == r->cap) {
        r->head = 0;
    }
    r->len--;
}

static const struct ho_sched_item *ring_front(const struct ho_sched_ring *r)
{
    return r->len ? &r->items[r->head] : NULL;
}

/* ---- scheduling -------------------------------------------------------------------------- */

/* The priority class of queue q under the scheduler's discipline; lower is served first. */
static int class_of(const struct ho_sched *s, enum ho_sched_queue q)
{
    if (q == HO_SCHED_NIC_TX) {
        return 0;
    }
    if (s->discipline == HO_SCHED_HOST_FIRST && !HO_SCHED_QUEUE_IS_HOST(q)) {
        return 2;
    }
    return 1;
}

/* The queue whose head comes next, or -1 if all are empty. */
static int next_queue(const struct ho_sched *s)
{
    int best = -1;
    int best_class = 0;
    uint64_t best_seq = 0;
    for (int q = 0; q < HO_SCHED_NQUEUES; q++) {
        const struct ho_sched_item *head = ring_front(&s->ring[q]);
        if (head == NULL) {
            continue;
        }
        const int c = class_of(s, (enum ho_sched_queue)q);
        if (best < 0 || c < best_class ||
            (c == best_class && HO_SCHED_SEQ_LT(head->seq, best_seq))) {
            best = q;
            best_class = c;
            best_seq = head->seq;
        }
    }
    return best;
}

/* Whether queue q has room for one more item. */
static int has_room(const struct ho_sched *s, enum ho_sched_queue q)
{
    if (HO_SCHED_QUEUE_IS_RX(q)) {
        return ho_sched_rx_len(s) < s->rx_capacity;
    }
    return s->ring[q].len < s->ring[q].cap;
}

/* ---- public API -------------------------------------------------------------------------- */

struct ho_sched *ho_sched_create(const struct ho_sched_params *params)
{
    if (params == NULL || (unsigned)params->discipline >= HO_SCHED_NDISCIPLINES) {
        return NULL;
    }
    /* Each receive ring can hold the whole receive memory; has_room() enforces the sharing. */
    const uint32_t caps[HO_SCHED_NQUEUES] = {
        [HO_SCHED_HOST_RX] = params->rx_capacity,    [HO_SCHED_HOST_TX] = params->host_tx_capacity,
        [HO_SCHED_NIC_RX] = params->rx_capacity,     [HO_SCHED_CMD] = params->cmd_capacity,
        [HO_SCHED_NIC_TX] = params->nic_tx_capacity,
    };
    uint64_t slots = 0;
    for (int q = 0; q < HO_SCHED_NQUEUES; q++) {
        if (!capacity_valid(caps[q])) {
            return NULL;
        }
        slots += caps[q];
    }
    if (slots > SIZE_MAX / sizeof(struct ho_sched_item)) {
        return NULL;
    }
    struct ho_sched *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return NULL;
    }
    s->storage = malloc((size_t)slots * sizeof(struct ho_sched_item));
    if (s->storage == NULL) {
        free(s);
        return NULL;
    }
    s->discipline = params->discipline;
    s->rx_capacity = params->rx_capacity;
    s->next_seq = params->first_seq;
    struct ho_sched_item *next = s->storage;
    for (int q = 0; q < HO_SCHED_NQUEUES; q++) {
        s->ring[q] = (struct ho_sched_ring){.items = next, .cap = caps[q]};
        next += caps[q];
    }
    return s;
}

void ho_sched_destroy(struct ho_sched *s)
{
    if (s != NULL) {
        free(s->storage);
        free(s);
    }
}

int ho_sched_enqueue(struct ho_sched *s, enum ho_sched_queue q, uint64_t handle, uint32_t aux,
                     uint64_t now)
{
    if (s == NULL || !queue_valid(q)) {
        return HO_EINVAL;
    }
    struct ho_sched_counters *c = &s->counters[q];
    if (!has_room(s, q)) {
        c->dropped++;
        return HO_ENOSPC;
    }
    const struct ho_sched_item it = {
        .handle = handle, .enq_ns = now, .seq = s->next_seq++, .aux = aux, .queue = q};
    struct ho_sched_ring *r = &s->ring[q];
    ring_push(r, &it);
    c->enqueued++;
    if (r->len > c->max_len) {
        c->max_len = r->len;
    }
    return HO_OK;
}

int ho_sched_peek(const struct ho_sched *s, struct ho_sched_item *out)
{
    if (s == NULL || out == NULL) {
        return HO_EINVAL;
    }
    const int q = next_queue(s);
    if (q < 0) {
        return HO_EAGAIN;
    }
    /* next_queue() only returns a non-empty queue, whose head is items[head]. */
    *out = s->ring[q].items[s->ring[q].head];
    return HO_OK;
}

int ho_sched_dequeue(struct ho_sched *s, uint64_t now, struct ho_sched_item *out)
{
    if (s == NULL || out == NULL) {
        return HO_EINVAL;
    }
    const int q = next_queue(s);
    if (q < 0) {
        return HO_EAGAIN;
    }
    struct ho_sched_ring *r = &s->ring[q];
    *out = r->items[r->head]; /* non-empty: next_queue() chose it */
    ring_pop(r);
    struct ho_sched_counters *c = &s->counters[q];
    const uint64_t wait = now > out->enq_ns ? now - out->enq_ns : 0;
    c->dequeued++;
    c->wait_ns_total += wait;
    if (wait > c->wait_ns_max) {
        c->wait_ns_max = wait;
    }
    return HO_OK;
}

uint32_t ho_sched_len(const struct ho_sched *s, enum ho_sched_queue q)
{
    return queue_valid(q) ? s->ring[q].len : 0;
}

uint32_t ho_sched_qlen(const struct ho_sched *s)
{
    return s->ring[HO_SCHED_NIC_RX].len;
}

uint32_t ho_sched_rx_len(const struct ho_sched *s)
{
    return s->ring[HO_SCHED_HOST_RX].len + s->ring[HO_SCHED_NIC_RX].len;
}

uint32_t ho_sched_total_len(const struct ho_sched *s)
{
    uint32_t n = 0;
    for (int q = 0; q < HO_SCHED_NQUEUES; q++) {
        n += s->ring[q].len;
    }
    return n;
}

uint32_t ho_sched_capacity(const struct ho_sched *s, enum ho_sched_queue q)
{
    return queue_valid(q) ? s->ring[q].cap : 0;
}

enum ho_sched_discipline ho_sched_get_discipline(const struct ho_sched *s)
{
    return s->discipline;
}

int ho_sched_get_counters(const struct ho_sched *s, enum ho_sched_queue q,
                          struct ho_sched_counters *out)
{
    if (s == NULL || out == NULL || !queue_valid(q)) {
        return HO_EINVAL;
    }
    *out = s->counters[q];
    return HO_OK;
}

void ho_sched_reset_counters(struct ho_sched *s)
{
    for (int q = 0; q < HO_SCHED_NQUEUES; q++) {
        s->counters[q] = (struct ho_sched_counters){.max_len = s->ring[q].len};
    }
}

int ho_sched_move(struct ho_sched *s, enum ho_sched_queue from, enum ho_sched_queue to,
                  bool (*pick)(void *ctx, const struct ho_sched_item *it), void *ctx)
{
    if (s == NULL || pick == NULL || !queue_valid(from) || !queue_valid(to) || from == to ||
        !HO_SCHED_QUEUE_IS_RX(from) || !HO_SCHED_QUEUE_IS_RX(to)) {
        return HO_EINVAL;
    }
    struct ho_sched_ring *rf = &s->ring[from], *rt = &s->ring[to];
    /* Most calls move nothing: look before rebuilding the rings. */
    uint32_t first = 0, at = rf->head;
    while (first < rf->len && !pick(ctx, &rf->items[at])) {
        first++;
        at = at + 1 == rf->cap ? 0 : at + 1;
    }
    if (first == rf->len) {
        return 0;
    }
    struct ho_sched_item *keep = malloc(((size_t)rf->len + rt->len + 1) * sizeof *keep);
    struct ho_sched_item *moved = malloc(((size_t)rf->len + 1) * sizeof *moved);
    if (keep == NULL || moved == NULL) {
        free(keep);
        free(moved);
        return HO_ENOMEM;
    }
    uint32_t nkeep = 0, nmoved = 0;
    while (rf->len > 0) {
        struct ho_sched_item it = *ring_front(rf);
        ring_pop(rf);
        if (pick(ctx, &it)) {
            it.queue = to;
            moved[nmoved++] = it;
        } else {
            keep[nkeep++] = it;
        }
    }
    for (uint32_t i = 0; i < nkeep; i++) {
        ring_push(rf, &keep[i]);
    }
    /* Merge the moved items into `to` by arrival number: both runs are in order already. */
    uint32_t nto = 0, m = 0;
    while (rt->len > 0 || m < nmoved) {
        const struct ho_sched_item *head = ring_front(rt);
        if (head && (m == nmoved || HO_SCHED_SEQ_LT(head->seq, moved[m].seq))) {
            keep[nto++] = *head;
            ring_pop(rt);
        } else {
            keep[nto++] = moved[m++];
        }
    }
    rt->head = 0;
    for (uint32_t i = 0; i < nto; i++) {
        ring_push(rt, &keep[i]);
    }
    s->counters[from].enqueued -= nmoved;
    s->counters[to].enqueued += nmoved;
    if (rt->len > s->counters[to].max_len) {
        s->counters[to].max_len = rt->len;
    }
    free(keep);
    free(moved);
    return (int)nmoved;
}

void ho_sched_each(const struct ho_sched *s, enum ho_sched_queue q,
                   void (*fn)(void *ctx, const struct ho_sched_item *it), void *ctx)
{
    if (s == NULL || !queue_valid(q)) {
        return;
    }
    const struct ho_sched_ring *r = &s->ring[q];
    for (uint32_t i = 0, at = r->head; i < r->len; i++) {
        fn(ctx, &r->items[at]);
        if (++at == r->cap) {
            at = 0;
        }
    }
}

const char *ho_sched_queue_name(enum ho_sched_queue q)
{
    return queue_valid(q) ? queue_names[q] : "?";
}

const char *ho_sched_discipline_name(enum ho_sched_discipline d)
{
    return (unsigned)d < HO_SCHED_NDISCIPLINES ? discipline_names[d] : "?";
}
