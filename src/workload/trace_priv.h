/*
 * trace_priv.h - what the format readers share (private to src/workload): a builder that
 * collects timed requests, enforces the time-order rule, and turns them into the connections
 * of struct ho_trace.
 *
 * A reader parses its format and calls ho_tb_add() for each request; ho_tb_finish() groups
 * them: per client in time order (file order among equal times), a new connection whenever the
 * gap to the client's previous request exceeds idle_s, connections ordered by their first
 * request's time and then by that request's place in the file.
 */
#ifndef HO_WORKLOAD_TRACE_PRIV_H
#define HO_WORKLOAD_TRACE_PRIV_H

#include <stdint.h>

#include "handoff/workload_trace.h"

struct ho_tb_rec {
    int64_t time;    /* seconds */
    uint32_t client; /* any 32-bit id */
    struct ho_req req;
};

struct ho_tb {
    const char *path;         /* for messages; borrowed */
    struct ho_trace_params p; /* with idle_s already defaulted */
    enum ho_trace_format format;
    struct ho_tb_rec *recs;
    uint64_t n, cap;
    int64_t newest; /* latest time added so far */
    uint64_t backsteps;
};

/* Starts a builder. */
void ho_tb_init(struct ho_tb *b, const char *path, const struct ho_trace_params *p,
                enum ho_trace_format format);
void ho_tb_free(struct ho_tb *b);

/* Whether the reader should stop: max_requests reached. */
int ho_tb_full(const struct ho_tb *b);

/* Checks the time rule for a request at `time`: returns HO_OK, or HO_EPROTO with err->msg
 * "<where>: time goes backwards ..." (where is the reader's "file:line" or "file: record ...
 * (byte offset ...)"). */
int ho_tb_check_time(struct ho_tb *b, int64_t time, const char *where, struct ho_wl_err *err);

/* Adds a request (after ho_tb_check_time). Returns HO_OK, or HO_ENOMEM / HO_ENOSPC (more than
 * 2^32 - 1 requests) with err filled. */
int ho_tb_add(struct ho_tb *b, int64_t time, uint32_t client, const struct ho_req *req,
              struct ho_wl_err *err);

/* Groups the requests into a new trace in *out. Returns HO_OK or HO_ENOMEM. */
int ho_tb_finish(struct ho_tb *b, struct ho_trace **out, struct ho_wl_err *err);

/* The readers, each filling b (trace_wc.c, trace_clf.c, trace_wsess.c). */
int ho_trace_read_wc(struct ho_tb *b, struct ho_wl_err *err);
int ho_trace_read_clf(struct ho_tb *b, struct ho_wl_err *err);
int ho_trace_read_wsess(struct ho_tb *b, struct ho_wl_err *err);

/* Strict unsigned decimal: s[0..len) all digits, value <= max. Returns HO_OK, HO_EPROTO (not a
 * number, or a sign) or HO_ELIMIT (too large). */
int ho_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out);

#endif
