/*
 * sim_cpu.h - a simulated processor that runs costed tasks by priority.
 *
 * The simulator has two of these: the host's 2 GHz x86 (one instruction per cycle plus memory
 * stalls, which the cost model folds into each task's cycle count) and the NIC's firmware
 * processor at 400, 600 or 800 MIPS (one instruction per cycle). Work arrives as tasks, each
 * with a cost in cycles, a priority and an accounting category; the processor runs one task at a
 * time, highest priority first (0 is the highest) and first come, first served within a
 * priority, and charges every cycle to the category of the task that used it or to idle.
 *
 * Scheduling is non-preemptive by default: a task, once started, runs to completion, and a more
 * urgent task waits at most one task's length. This matches the NIC firmware, an event loop,
 * and is accurate for the host as long as tasks are short (one packet's or one system call's
 * work). With `preempt` set, a task submitted at a higher priority than the running one
 * suspends it at once (as a hardware interrupt suspends the application); the suspended task
 * goes back to the head of its priority's queue and later resumes with its remaining cycles.
 *
 * The processor keeps its clock as an absolute cycle count (see sim_time.h), so back-to-back
 * tasks never accumulate rounding error whatever the clock rate, and busy/idle accounting is
 * exact to the cycle. It drives itself through the event queue: submitting a task to an idle
 * processor schedules its completion, and each completion starts the next task.
 *
 * Callbacks: a task may have a start callback, called when the task first gets the processor,
 * that returns extra cycles to add to its cost (so work whose cost depends on the state at that
 * moment, such as cache contents, can be costed then), and a done callback, called when its
 * last cycle has run. Both may submit tasks to any processor; from inside a callback a
 * submission only queues, and the processor picks the next task by priority once the callback
 * returns.
 */
#ifndef HANDOFF_SIM_CPU_H
#define HANDOFF_SIM_CPU_H

#include <stdbool.h>
#include <stdint.h>

#include "handoff/sim_evq.h"

#define SIM_CPU_MAX_PRIOS 4
#define SIM_CPU_MAX_CATS  8
#define SIM_CPU_MAX_HZ    10000000000ULL /* 10 GHz */

struct sim_cpu;

/* Called when a task first gets the processor; returns cycles to add to the task's cost. */
typedef uint64_t (*sim_cpu_start_fn)(void *ctx, uint64_t arg, uint64_t now);
/* Called when a task has run its last cycle. */
typedef void (*sim_cpu_done_fn)(void *ctx, uint64_t arg, uint64_t now);

struct sim_cpu_params {
    uint64_t hz;            /* cycles per second, 1..SIM_CPU_MAX_HZ */
    unsigned nprios;        /* priority levels, 1..SIM_CPU_MAX_PRIOS; 0 is the highest */
    unsigned ncats;         /* accounting categories, 1..SIM_CPU_MAX_CATS */
    bool preempt;           /* a higher-priority submission suspends the running task */
    uint32_t initial_tasks; /* task slots preallocated; 0 picks a small default */
};

struct sim_cpu_task {
    unsigned prio;          /* 0..nprios-1, 0 runs first */
    unsigned cat;           /* 0..ncats-1, the category its cycles are charged to */
    uint64_t cycles;        /* cost known at submission (may be 0) */
    sim_cpu_start_fn start; /* optional: adds cycles when the task first runs */
    sim_cpu_done_fn done;   /* optional: completion callback */
    void *ctx;              /* passed to both callbacks */
    uint64_t arg;           /* passed to both callbacks */
};

struct sim_cpu_stats {
    uint64_t elapsed_cycles;                /* cycles since creation or the last reset */
    uint64_t busy_cycles[SIM_CPU_MAX_CATS]; /* of those, cycles run in each category */
    uint64_t idle_cycles;                   /* elapsed minus every category's busy cycles */
    uint64_t tasks_done[SIM_CPU_MAX_CATS];  /* tasks completed in each category */
    uint64_t preemptions;                   /* tasks suspended by a higher priority */
};

struct sim_cpu_backlog {
    uint64_t cycles; /* cycles of work not yet run: the running task's rest plus queued costs */
    uint32_t tasks;  /* tasks not yet completed, the running one included */
};

/*
 * Creates an idle processor driven by q (which must outlive it), with accounting starting at
 * q's current time. Returns 0 and sets *out; HO_EINVAL if a parameter is out of range;
 * HO_ENOMEM if allocation fails. The caller owns *out (sim_cpu_destroy()).
 */
int sim_cpu_create(const struct sim_cpu_params *p, struct sim_evq *q, struct sim_cpu **out);

/*
 * Frees the processor. Accepts NULL. A pending completion event is cancelled; queued tasks
 * are dropped without callbacks.
 */
void sim_cpu_destroy(struct sim_cpu *c);

/*
 * Submits a task at time now, which must be the event queue's current time. The task is copied.
 * If the processor is idle (and not inside one of its own callbacks) the task starts at once;
 * its start callback, if any, runs before this returns. Returns 0; HO_EINVAL if now is not the
 * queue's time or prio/cat is out of range; HO_ENOMEM if the task pool cannot grow (the task is
 * then not queued). A completion event the event queue refuses (queue full or out of memory)
 * is an assertion failure: the simulated time line could not continue.
 */
int sim_cpu_submit(struct sim_cpu *c, uint64_t now, const struct sim_cpu_task *t);

/* Whether a task is running at time now. */
bool sim_cpu_busy(const struct sim_cpu *c, uint64_t now);

/*
 * Fills *b with the work outstanding at time now. Cycles that start callbacks of not-yet-started
 * tasks will add are unknown and not counted.
 */
void sim_cpu_backlog(const struct sim_cpu *c, uint64_t now, struct sim_cpu_backlog *b);

/* Fills *st with the accounting from the last reset up to time now (exact to the cycle). */
void sim_cpu_stats(const struct sim_cpu *c, uint64_t now, struct sim_cpu_stats *st);

/*
 * Restarts the accounting at time now (the end of a warm-up): only cycles after now count from
 * here on, including the rest of a task that is running across the reset.
 */
void sim_cpu_reset_stats(struct sim_cpu *c, uint64_t now);

/*
 * Changes the clock rate at time now (the event queue's current time): every cycle from now on
 * runs at hz, the rest of the running task's included, whose completion moves accordingly.
 * Cycle counts (statistics, backlog) go on from where they were. Returns 0, or HO_EINVAL if hz
 * is out of range or now is not the queue's time.
 */
int sim_cpu_set_hz(struct sim_cpu *c, uint64_t hz, uint64_t now);

/* The processor's clock rate in cycles per second. */
uint64_t sim_cpu_hz(const struct sim_cpu *c);

#endif
