/*
 * sim_evq.h - the discrete-event queue at the heart of the simulator.
 *
 * Events are ordered by (time, sequence number): the sequence number is assigned at scheduling,
 * so events due at the same nanosecond run in the order they were scheduled and a run is
 * deterministic whatever the queue's internal layout. The queue owns the simulation clock: it
 * advances to each event's time as the event is popped, and refuses events in the past.
 *
 * An event is a callback, a context pointer and a 64-bit argument. Scheduling returns a handle
 * that stays valid until the event runs or is cancelled; a stale handle is recognised and
 * refused, never confused with a newer event, so timers can be cancelled and rescheduled freely.
 *
 * Capacity: at most SIM_EVQ_MAX_PENDING events pending at once (the storage of cancelled events
 * is reclaimed when needed) and 2^40 events over a queue's life (about 10^12; at 10^8 events
 * per second of wall time that is three hours). Memory: about 84 bytes per event slot plus
 * about 1 MB for the default calendar ring. The queue allocates only when it grows past its
 * largest size so far, so a run in steady state does not touch the allocator.
 *
 * Not thread-safe: one queue per simulation, driven by one thread.
 */
#ifndef HANDOFF_SIM_EVQ_H
#define HANDOFF_SIM_EVQ_H

#include <stdint.h>

#define SIM_EVQ_MAX_PENDING ((1u << 24) - 1)

struct sim_evq;

/* An event handler. `now` is the event's time, which is also the queue's clock while it runs. */
typedef void (*sim_event_fn)(void *ctx, uint64_t arg, uint64_t now);

/*
 * Internally the queue sorts only the near future: time is cut into windows of 2^window_ns_log2
 * ns, the current window's events are kept sorted, and the next 2^windows_log2 windows are
 * unsorted buckets (see sim_evq.c). The defaults (4.1 us windows, 2^18 of them: 1.07 s) suit
 * the simulator; they affect speed only, never the order of events.
 */
struct sim_evq_params {
    uint32_t initial_capacity; /* events preallocated; 0 picks a small default */
    uint32_t max_pending;      /* pending events allowed; 0 means SIM_EVQ_MAX_PENDING */
    uint32_t window_ns_log2;   /* 0 for the default (12), else 1..40 */
    uint32_t windows_log2;     /* 0 for the default (18), else 6..20 */
};

/* One popped event. */
struct sim_event {
    uint64_t time;   /* when it was due, in ns */
    uint64_t handle; /* the handle sim_evq_schedule() returned for it */
    sim_event_fn fn; /* its handler */
    void *ctx;       /* the context pointer given at scheduling */
    uint64_t arg;    /* the argument given at scheduling */
};

struct sim_evq_stats {
    uint64_t scheduled;    /* events accepted by sim_evq_schedule() */
    uint64_t cancelled;    /* events cancelled */
    uint64_t popped;       /* live events popped or run */
    uint64_t compactions;  /* times cancelled events were purged in bulk */
    uint32_t pending;      /* live events now */
    uint32_t peak_pending; /* most live events at once */
    uint32_t capacity;     /* event slots allocated now */
};

/*
 * Creates an empty queue with its clock at 0. p may be NULL for defaults. Returns 0 and sets
 * *out; HO_EINVAL if p asks for more than SIM_EVQ_MAX_PENDING, an initial capacity above
 * max_pending, or window sizes out of range; HO_ENOMEM if allocation fails. The caller owns *out
 * (sim_evq_destroy()).
 */
int sim_evq_create(const struct sim_evq_params *p, struct sim_evq **out);

/* Frees the queue and every pending event. Accepts NULL. Handlers are not called. */
void sim_evq_destroy(struct sim_evq *q);

/* The queue's clock: the time of the last event popped (0 before the first). */
uint64_t sim_evq_now(const struct sim_evq *q);

/* How many live (scheduled, not yet run, not cancelled) events are pending. */
uint32_t sim_evq_pending(const struct sim_evq *q);

/*
 * Schedules fn(ctx, arg, when) at time `when`. Events at equal times run in scheduling order.
 * On success returns 0 and, if handle is not NULL, stores a nonzero handle for
 * sim_evq_cancel(). Errors: HO_EINVAL if fn is NULL or when < sim_evq_now(q); HO_ENOSPC if
 * max_pending events are pending or the queue's 2^40 sequence numbers are used up; HO_ENOMEM if
 * growing the queue fails. The queue is unchanged on error.
 */
int sim_evq_schedule(struct sim_evq *q, uint64_t when, sim_event_fn fn, void *ctx, uint64_t arg,
                     uint64_t *handle);

/*
 * Cancels a pending event so it never runs. Returns 0 on success; HO_ENOENT if the handle does
 * not name a pending event (0, already run, already cancelled, or never issued).
 */
int sim_evq_cancel(struct sim_evq *q, uint64_t handle);

/* Stores the time of the earliest live event in *when and returns 0; HO_ENOENT if none. */
int sim_evq_peek_time(struct sim_evq *q, uint64_t *when);

/*
 * Removes the earliest live event, advances the clock to its time and copies it to *ev without
 * running it (for a caller that dispatches itself). Returns 1 if an event was popped, 0 if the
 * queue has no live event.
 */
int sim_evq_pop(struct sim_evq *q, struct sim_event *ev);

/* Pops the earliest live event and runs its handler. Returns 1 if one ran, 0 if none was left. */
int sim_evq_run_next(struct sim_evq *q);

/*
 * Runs events in order while the earliest is due at or before `until`, at most max_events of
 * them (0 means no limit). If it stopped because no event is due by `until`, the clock is then
 * advanced to `until` (so a caller can read counters at a round time); the clock never moves
 * backwards, so an `until` in the past runs nothing. Returns the number of events run. Handlers may
 * schedule and cancel events, including at the current time.
 */
uint64_t sim_evq_run_until(struct sim_evq *q, uint64_t until, uint64_t max_events);

/* Fills *st with the queue's counters. */
void sim_evq_stats(const struct sim_evq *q, struct sim_evq_stats *st);

#endif
