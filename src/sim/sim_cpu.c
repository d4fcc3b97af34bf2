/*
 * sim_cpu.c - the processor model (see include/handoff/sim_cpu.h). The simulator creates one for
 * the host and one for the NIC and submits every costed piece of work to them.
 *
 * The processor is a small scheduler over the event queue: one FIFO of tasks per priority, at
 * most one running task, and at most one pending completion event (its handle is kept so a
 * preemption can cancel it). Time is kept in cycles: the running task occupies the segment
 * [seg_start, seg_end) of an absolute cycle count since time 0, and the completion event is
 * scheduled at the first nanosecond at which seg_end has elapsed. The next task starts at
 * seg_end, not at that rounded nanosecond, so rounding never accumulates.
 *
 * The cycle "at" time t is floor(t * hz / 10^9), the cycle in progress at t (counted from the
 * last change of clock rate, sim_cpu_set_hz, when there has been one: cycles before it ran at
 * the old rate). A task submitted to
 * an idle processor starts there, which may be up to one cycle before t; in exchange a task
 * submitted in reaction to a completion starts on the very cycle the previous one ended.
 *
 * Cycles are charged to a category when a segment ends (completion or preemption), counting
 * only the part after the last reset; statistics add the running segment's part so far, so a
 * reading at any time is exact.
 */
#include "handoff/sim_cpu.h"

#include <stdlib.h>
#include <string.h>

#include "handoff/assert.h"
#include "handoff/err.h"
#include "handoff/sim_time.h"

#define NO_TASK       UINT32_MAX
#define DEFAULT_TASKS 64

struct task {
    uint64_t remaining;     /* cycles still to run (for the running task: at its segment start) */
    sim_cpu_start_fn start; /* start callback, or NULL */
    sim_cpu_done_fn done;   /* done callback, or NULL */
    void *ctx;              /* callback context */
    uint64_t arg;           /* callback argument */
    uint32_t next;          /* next task in its FIFO or on the free list */
    uint8_t prio;           /* priority, 0 highest */
    uint8_t cat;            /* accounting category */
    uint8_t started;        /* the start callback has run */
};

struct fifo {
    uint32_t head; /* first task, or NO_TASK */
    uint32_t tail; /* last task, or NO_TASK */
};

struct sim_cpu {
    struct sim_evq *q;  /* drives the processor */
    uint64_t hz;        /* cycles per second */
    uint64_t base_ns;   /* the last change of hz (0: none): cycle base_cycle began then */
    uint64_t base_cycle;
    unsigned nprios;    /* priority levels */
    unsigned ncats;     /* accounting categories */
    bool preempt;       /* higher priority suspends the running task */
    struct task *tasks; /* task pool */
    uint32_t cap;       /* tasks allocated */
    uint32_t free_head; /* free list through task.next */
    struct fifo fifo[SIM_CPU_MAX_PRIOS];
    uint32_t queued;        /* tasks waiting in the FIFOs */
    uint64_t queued_cycles; /* their remaining cycles */
    uint32_t running;       /* the running task, or NO_TASK */
    uint64_t seg_start;     /* first cycle of the running segment */
    uint64_t seg_end;       /* cycle at which the running segment ends */
    uint64_t completion;    /* handle of the pending completion event, or 0 */
    uint64_t free_cycle;    /* cycle at which the processor last became free */
    bool in_callback;       /* inside a start or done callback: submissions only queue */
    uint64_t reset_cycle;   /* accounting starts here */
    uint64_t busy[SIM_CPU_MAX_CATS];
    uint64_t done[SIM_CPU_MAX_CATS];
    uint64_t preemptions;
};

static uint64_t cycle_at(const struct sim_cpu *c, uint64_t now)
{
    return c->base_cycle + sim_time_to_units(now - c->base_ns, c->hz);
}

/* The first nanosecond at which cycle has elapsed. */
static uint64_t time_of(const struct sim_cpu *c, uint64_t cycle)
{
    return c->base_ns + sim_units_to_time(cycle - c->base_cycle, c->hz);
}

/* Grows the task pool to `want` tasks (more than it has) and frees the new ones. */
static int pool_grow(struct sim_cpu *c, uint64_t want)
{
    if (want >= NO_TASK) {
        return HO_ENOMEM;
    }
    struct task *t = realloc(c->tasks, (size_t)want * sizeof *t);
    if (t == NULL) {
        return HO_ENOMEM;
    }
    c->tasks = t;
    for (uint32_t i = (uint32_t)want; i-- > c->cap;) {
        t[i].next = c->free_head;
        c->free_head = i;
    }
    c->cap = (uint32_t)want;
    return HO_OK;
}

static void fifo_push_back(struct sim_cpu *c, uint32_t idx)
{
    struct task *t = &c->tasks[idx];
    struct fifo *f = &c->fifo[t->prio];
    t->next = NO_TASK;
    if (f->tail == NO_TASK) {
        f->head = idx;
    } else {
        c->tasks[f->tail].next = idx;
    }
    f->tail = idx;
    c->queued++;
    c->queued_cycles += t->remaining;
}

static void fifo_push_front(struct sim_cpu *c, uint32_t idx)
{
    struct task *t = &c->tasks[idx];
    struct fifo *f = &c->fifo[t->prio];
    t->next = f->head;
    f->head = idx;
    if (f->tail == NO_TASK) {
        f->tail = idx;
    }
    c->queued++;
    c->queued_cycles += t->remaining;
}

/* The highest priority with a queued task, or nprios if none is queued. */
static unsigned top_prio(const struct sim_cpu *c)
{
    unsigned p = 0;
    while (p < c->nprios && c->fifo[p].head == NO_TASK) {
        p++;
    }
    return p;
}

static uint32_t fifo_pop(struct sim_cpu *c, unsigned prio)
{
    struct fifo *f = &c->fifo[prio];
    uint32_t idx = f->head;
    f->head = c->tasks[idx].next;
    if (f->head == NO_TASK) {
        f->tail = NO_TASK;
    }
    c->queued--;
    c->queued_cycles -= c->tasks[idx].remaining;
    return idx;
}

/* Cycles of [from, to) that fall after the last reset. */
static uint64_t after_reset(const struct sim_cpu *c, uint64_t from, uint64_t to)
{
    if (from < c->reset_cycle) {
        from = c->reset_cycle;
    }
    return to > from ? to - from : 0;
}

static void on_complete(void *ctx, uint64_t arg, uint64_t now);

/* Suspends the running task at cycle cn (< seg_end) and requeues it at the head of its FIFO. */
static void preempt_running(struct sim_cpu *c, uint64_t cn)
{
    uint32_t idx = c->running;
    struct task *t = &c->tasks[idx];
    int err = sim_evq_cancel(c->q, c->completion);
    HO_ASSERT(err == HO_OK, "completion event of task %u missing: %d", idx, err);
    c->completion = 0;
    c->busy[t->cat] += after_reset(c, c->seg_start, cn);
    t->remaining = c->seg_end - cn;
    c->free_cycle = cn;
    c->running = NO_TASK;
    c->preemptions++;
    fifo_push_front(c, idx);
}

/* Gives the processor to the first task of priority prio at time now. */
static void start_task(struct sim_cpu *c, unsigned prio, uint64_t now)
{
    uint32_t idx = fifo_pop(c, prio);
    uint64_t cn = cycle_at(c, now);
    c->running = idx;
    HO_ASSERT(cn >= c->free_cycle, "cycle %llu before the last task's end %llu",
              (unsigned long long)cn, (unsigned long long)c->free_cycle);
    c->seg_start = cn;
    c->seg_end = c->seg_start + c->tasks[idx].remaining;
    if (!c->tasks[idx].started) {
        c->tasks[idx].started = 1;
        if (c->tasks[idx].start != NULL) {
            c->in_callback = true;
            uint64_t extra = c->tasks[idx].start(c->tasks[idx].ctx, c->tasks[idx].arg, now);
            c->in_callback = false;
            /* The pool may have grown inside the callback: index again. */
            c->tasks[idx].remaining += extra;
            c->seg_end += extra;
        }
    }
    uint64_t when = time_of(c, c->seg_end);
    if (when < now) {
        when = now; /* a zero-cycle task started on the cycle in progress */
    }
    int err = sim_evq_schedule(c->q, when, on_complete, c, idx, &c->completion);
    HO_ASSERT(err == HO_OK, "cannot schedule a task completion: %s", ho_strerror(err));
}

/* Runs the scheduling decision at time now: preempt if allowed, start work if idle. */
static void dispatch(struct sim_cpu *c, uint64_t now)
{
    for (;;) {
        unsigned prio = top_prio(c);
        if (prio == c->nprios) {
            return;
        }
        if (c->running != NO_TASK) {
            uint64_t cn = cycle_at(c, now);
            if (!c->preempt || prio >= c->tasks[c->running].prio || cn >= c->seg_end) {
                return;
            }
            preempt_running(c, cn);
        }
        start_task(c, prio, now);
    }
}

static void on_complete(void *ctx, uint64_t arg, uint64_t now)
{
    struct sim_cpu *c = ctx;
    uint32_t idx = (uint32_t)arg;
    HO_ASSERT(idx == c->running, "completion of task %u, but %u is running", idx, c->running);
    struct task t = c->tasks[idx];
    c->busy[t.cat] += after_reset(c, c->seg_start, c->seg_end);
    c->done[t.cat]++;
    c->free_cycle = c->seg_end;
    c->running = NO_TASK;
    c->completion = 0;
    c->tasks[idx].next = c->free_head;
    c->free_head = idx;
    if (t.done != NULL) {
        c->in_callback = true;
        t.done(t.ctx, t.arg, now);
        c->in_callback = false;
    }
    dispatch(c, now);
}

int sim_cpu_create(const struct sim_cpu_params *p, struct sim_evq *q, struct sim_cpu **out)
{
    if (p == NULL || q == NULL || p->hz == 0 || p->hz > SIM_CPU_MAX_HZ || p->nprios == 0 ||
        p->nprios > SIM_CPU_MAX_PRIOS || p->ncats == 0 || p->ncats > SIM_CPU_MAX_CATS) {
        return HO_EINVAL;
    }
    struct sim_cpu *c = calloc(1, sizeof *c);
    if (c == NULL) {
        return HO_ENOMEM;
    }
    c->q = q;
    c->hz = p->hz;
    c->nprios = p->nprios;
    c->ncats = p->ncats;
    c->preempt = p->preempt;
    c->free_head = NO_TASK;
    c->running = NO_TASK;
    for (unsigned i = 0; i < SIM_CPU_MAX_PRIOS; i++) {
        c->fifo[i].head = NO_TASK;
        c->fifo[i].tail = NO_TASK;
    }
    if (pool_grow(c, p->initial_tasks ? p->initial_tasks : DEFAULT_TASKS) != HO_OK) {
        free(c);
        return HO_ENOMEM;
    }
    c->free_cycle = cycle_at(c, sim_evq_now(q));
    c->reset_cycle = c->free_cycle;
    *out = c;
    return HO_OK;
}

void sim_cpu_destroy(struct sim_cpu *c)
{
    if (c == NULL) {
        return;
    }
    if (c->completion != 0) {
        sim_evq_cancel(c->q, c->completion);
    }
    free(c->tasks);
    free(c);
}

int sim_cpu_submit(struct sim_cpu *c, uint64_t now, const struct sim_cpu_task *t)
{
    if (now != sim_evq_now(c->q) || t->prio >= c->nprios || t->cat >= c->ncats) {
        return HO_EINVAL;
    }
    if (c->free_head == NO_TASK && pool_grow(c, (uint64_t)c->cap * 2) != HO_OK) {
        return HO_ENOMEM;
    }
    uint32_t idx = c->free_head;
    struct task *k = &c->tasks[idx];
    c->free_head = k->next;
    k->remaining = t->cycles;
    k->start = t->start;
    k->done = t->done;
    k->ctx = t->ctx;
    k->arg = t->arg;
    k->prio = (uint8_t)t->prio;
    k->cat = (uint8_t)t->cat;
    k->started = 0;
    fifo_push_back(c, idx);
    if (!c->in_callback) {
        dispatch(c, now);
    }
    return HO_OK;
}

bool sim_cpu_busy(const struct sim_cpu *c, uint64_t now)
{
    (void)now; /* a running task holds the processor until its completion event has run */
    return c->running != NO_TASK;
}

void sim_cpu_backlog(const struct sim_cpu *c, uint64_t now, struct sim_cpu_backlog *b)
{
    b->cycles = c->queued_cycles;
    b->tasks = c->queued;
    if (c->running != NO_TASK) {
        uint64_t cn = cycle_at(c, now);
        uint64_t from = cn > c->seg_start ? cn : c->seg_start;
        b->cycles += c->seg_end > from ? c->seg_end - from : 0;
        b->tasks++;
    }
}

void sim_cpu_stats(const struct sim_cpu *c, uint64_t now, struct sim_cpu_stats *st)
{
    memset(st, 0, sizeof *st);
    uint64_t cn = cycle_at(c, now);
    st->elapsed_cycles = cn > c->reset_cycle ? cn - c->reset_cycle : 0;
    uint64_t busy = 0;
    for (unsigned i = 0; i < c->ncats; i++) {
        st->busy_cycles[i] = c->busy[i];
        st->tasks_done[i] = c->done[i];
    }
    if (c->running != NO_TASK) {
        uint64_t to = cn < c->seg_end ? cn : c->seg_end;
        st->busy_cycles[c->tasks[c->running].cat] += after_reset(c, c->seg_start, to);
    }
    for (unsigned i = 0; i < c->ncats; i++) {
        busy += st->busy_cycles[i];
    }
    HO_ASSERT(busy <= st->elapsed_cycles, "busy %llu cycles of %llu elapsed",
              (unsigned long long)busy, (unsigned long long)st->elapsed_cycles);
    st->idle_cycles = st->elapsed_cycles - busy;
    st->preemptions = c->preemptions;
}

void sim_cpu_reset_stats(struct sim_cpu *c, uint64_t now)
{
    c->reset_cycle = cycle_at(c, now);
    memset(c->busy, 0, sizeof c->busy);
    memset(c->done, 0, sizeof c->done);
    c->preemptions = 0;
}

uint64_t sim_cpu_hz(const struct sim_cpu *c)
{
    return c->hz;
}

int sim_cpu_set_hz(struct sim_cpu *c, uint64_t hz, uint64_t now)
{
    if (hz == 0 || hz > SIM_CPU_MAX_HZ || now != sim_evq_now(c->q) || now < c->base_ns) {
        return HO_EINVAL;
    }
    uint64_t cn = cycle_at(c, now);
    c->base_ns = now;
    c->base_cycle = cn;
    c->hz = hz;
    if (c->running != NO_TASK && c->seg_end > cn) {
        /* The rest of the running segment runs at the new rate: its completion moves. */
        sim_evq_cancel(c->q, c->completion);
        int err = sim_evq_schedule(c->q, time_of(c, c->seg_end), on_complete, c, c->running,
                                   &c->completion);
        HO_ASSERT(err == HO_OK, "cannot schedule a task completion: %s", ho_strerror(err));
    }
    return HO_OK;
}
