/*
 * fuzz_trace.c - libFuzzer entry point for the workload trace readers
 * (include/handoff/workload_trace.h, src/workload/trace*.c): World Cup 98 binary logs, Common
 * and Combined Log Format, httperf --wsesslog session files, and format detection.
 *
 * Build and run (from the repository root; `make fuzz` does this for every fuzz/fuzz_*.c):
 *   clang -fsanitize=fuzzer,address,undefined -Iinclude fuzz/fuzz_trace.c src/workload/?*.c \
 *       src/util/?*.c -lm -o fuzz_trace
 *   ./fuzz_trace -max_total_time=120 fuzz/corpus/trace
 * (src/workload/?*.c is every .c file of src/workload.) The seed corpus, small valid traces
 * of each format, is written by gen_corpus_trace.c.
 *
 * ho_trace_read takes a path, so every input is written to one temporary file, made once
 * (mkstemp in /tmp, no extension: detection goes by content) and removed at exit. An input is
 * four header bytes, then the file's content:
 *   [0] & 3   the format: 0 auto-detection, 1 World Cup, 2 CLF, 3 wsesslog
 *   [1]       max_backstep_s (0: time may never go back)
 *   [2]       max_requests (0: no limit)
 *   [3]       bits 0-4: idle_s (0: the default 15 s); bits 5-7: the default think time of
 *             session files, in quarter seconds
 *
 * Beyond the sanitizers (leaks included), these must hold, and any violation aborts:
 *  - a failure returns a documented code with a message that names the file; a malformed
 *    text file names a line that exists, a malformed binary file a record (and its byte
 *    offset) that exists;
 *  - a trace read has its format (the detected one under auto-detection); at most
 *    max_requests requests; connections that partition the requests in order, each of at
 *    least one request, ordered by start time, within [t_first, t_last]; connections of one
 *    client more than idle_s apart (timed formats); counts of clients, objects and requests of
 *    unknown size that match the requests; no time step back without max_backstep_s; every
 *    request within the ranges its format allows (methods, status codes, sizes, think times,
 *    burst flags, dense ids for the text formats);
 *  - the summary statistics agree with the trace, and a replay workload built on it hands out
 *    its connections and requests in trace order, then starts over (or refuses a trace
 *    without requests or with unknown sizes).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handoff/err.h"
#include "handoff/workload.h"
#include "handoff/workload_stats.h"
#include "handoff/workload_trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_trace: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define HEADER 4

/* Connections above this are checked only in linear time (the pairwise checks are skipped). */
#define PAIRWISE_MAX 4096

/* The temporary file, made on the first input and removed at exit. The fuzzer's entry point
 * has no context argument, so this is the one place this program keeps state. */
static char tmp_path[64];

static void remove_tmp(void)
{
    unlink(tmp_path);
}

static void write_input(const uint8_t *data, size_t size)
{
    if (!tmp_path[0]) {
        snprintf(tmp_path, sizeof tmp_path, "/tmp/fuzz_trace-XXXXXX");
        int fd = mkstemp(tmp_path);
        CHECK(fd >= 0);
        close(fd);
        atexit(remove_tmp);
    }
    FILE *f = fopen(tmp_path, "wb");
    CHECK(f != NULL);
    CHECK(size == 0 || fwrite(data, 1, size, f) == size);
    CHECK(fclose(f) == 0);
}

static int u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Distinct values among v[0..n) (sorts v). */
static uint64_t distinct(uint32_t *v, uint64_t n)
{
    qsort(v, n, sizeof *v, u32_cmp);
    uint64_t d = 0;
    for (uint64_t i = 0; i < n; i++) {
        d += i == 0 || v[i] != v[i - 1];
    }
    return d;
}

/* A failed read: a documented code, and a message naming the file and where. */
static void check_error(int rc, const struct ho_wl_err *err, int format, const uint8_t *content,
                        size_t len)
{
    CHECK(rc == HO_ENOENT || rc == HO_EPROTO || rc == HO_EINVAL || rc == HO_ENOMEM);
    CHECK(memchr(err->msg, '\0', sizeof err->msg) != NULL);
    size_t plen = strlen(tmp_path);
    CHECK(strncmp(err->msg, tmp_path, plen) == 0);
    if (rc != HO_EPROTO) {
        return;
    }
    const char *where = err->msg + plen;
    if (format == HO_TRACE_WC) {
        unsigned long long rec, off;
        CHECK(sscanf(where, ": record %llu (byte offset %llu)", &rec, &off) == 2);
        CHECK(off == rec * HO_WC_RECORD_BYTES && off < len);
    } else {
        unsigned long line;
        CHECK(sscanf(where, ":%lu: ", &line) == 1);
        unsigned long lines = 1;
        for (size_t i = 0; i < len; i++) {
            lines += content[i] == '\n';
        }
        CHECK(line >= 1 && line <= lines);
    }
}

/* One request, within what its format can give. */
static void check_req(const struct ho_req *q, int format)
{
    CHECK(q->method < HO_METHOD_COUNT);
    CHECK(q->kind == HO_REQ_STATIC);
    CHECK(q->gap_us == 0);
    switch (format) {
    case HO_TRACE_WC: {
        bool known = q->status == 0;
        for (unsigned i = 0; !known && ho_wc_status_code(i) >= 0; i++) {
            known = ho_wc_status_code(i) == q->status;
        }
        CHECK(known);
        CHECK(q->size != HO_REQ_SIZE_UNKNOWN);
        CHECK(q->upload == 0 && q->think_us == 0 && q->flags == 0);
        break;
    }
    case HO_TRACE_CLF:
        CHECK(q->status >= 100 && q->status <= 599);
        CHECK(q->size != HO_REQ_SIZE_UNKNOWN);
        CHECK(q->upload == 0 && q->think_us == 0 && q->flags == 0);
        break;
    case HO_TRACE_WSESSLOG:
        CHECK(q->status >= 100 && q->status <= 599);
        CHECK(q->upload <= HO_TRACE_MAX_LINE);
        CHECK(q->think_us <= 4294u * 1000000u);
        CHECK((q->flags & ~HO_REQ_F_BURST) == 0);
        break;
    default:
        CHECK(0);
    }
}

/* The trace's statistics agree with it. */
static void check_stats(const struct ho_trace *t)
{
    struct ho_wl_stats s;
    CHECK(ho_wl_stats_of_trace(t, &s) == HO_OK);
    CHECK(s.requests == t->nreq && s.connections == t->nconn);
    CHECK(s.unknown_size == t->unknown_size && s.sized + s.unknown_size == t->nreq);
    for (int k = 0; k <= 10; k++) {
        CHECK(s.cdf_packets[k] >= 0 && s.cdf_packets[k] <= 1.0 + 1e-9);
        CHECK(s.cdf_bytes[k] >= 0 && s.cdf_bytes[k] <= 1.0 + 1e-9);
        if (k > 0) {
            CHECK(s.cdf_packets[k] >= s.cdf_packets[k - 1]);
            CHECK(s.cdf_bytes[k] >= s.cdf_bytes[k - 1]);
        }
    }
}

/* Field by field (padding bytes are not compared). */
static bool same_req(const struct ho_req *a, const struct ho_req *b)
{
    return a->object == b->object && a->size == b->size && a->upload == b->upload &&
           a->think_us == b->think_us && a->gap_us == b->gap_us && a->status == b->status &&
           a->method == b->method && a->kind == b->kind && a->flags == b->flags;
}

/* A replay workload hands out the trace's connections in order, then starts over. */
static void check_replay(const struct ho_trace *t)
{
    struct ho_wl_params p = {.type = HO_WL_TRACE, .seed = 1, .clients = 2, .trace = t};
    struct ho_wl *wl = NULL;
    struct ho_wl_err err = {{0}};
    int rc = ho_wl_create(&p, &wl, &err);
    if (t->nreq == 0 || t->unknown_size > 0) {
        CHECK(rc == HO_EINVAL && err.msg[0] != '\0' && wl == NULL);
        return;
    }
    CHECK(rc == HO_OK);
    uint64_t pulls = t->nconn < PAIRWISE_MAX ? t->nconn + 1 : PAIRWISE_MAX;
    for (uint64_t i = 0; i < pulls; i++) {
        struct ho_conn c;
        CHECK(ho_wl_next_conn(wl, (uint32_t)(i % 2), &c) == HO_OK);
        const struct ho_trace_conn *tc = &t->conns[i % t->nconn];
        CHECK(c.nreq == tc->nreq && c.origin == tc->client && c.seq == i);
        struct ho_req q;
        for (uint32_t j = 0; j < tc->nreq; j++) {
            CHECK(ho_wl_next_req(wl, &c, &q) == 1);
            CHECK(same_req(&q, &t->reqs[tc->first + j]));
        }
        CHECK(ho_wl_next_req(wl, &c, &q) == 0);
    }
    CHECK(ho_wl_wraps(wl) == (pulls > t->nconn ? 1u : 0u));
    ho_wl_destroy(wl);
}

/* Every documented property of a trace read from content[0..len) as `format`. */
static void check_trace(const struct ho_trace *t, int format, const struct ho_trace_params *p,
                        size_t len)
{
    CHECK((int)t->format == format);
    CHECK(t->nreq < UINT64_C(1) << 32);
    if (p->max_requests) {
        CHECK(t->nreq <= p->max_requests);
    }
    if (format == HO_TRACE_WC && !p->max_requests) {
        CHECK(t->nreq * HO_WC_RECORD_BYTES == len);
    }
    if (!p->max_backstep_s) {
        CHECK(t->backsteps == 0);
    }
    CHECK(t->nconn <= t->nreq && (t->nconn == 0) == (t->nreq == 0));
    if (t->nreq == 0) {
        CHECK(t->nclients == 0 && t->nobjects == 0 && t->unknown_size == 0);
        return;
    }
    CHECK(t->t_first <= t->t_last);
    if (format == HO_TRACE_WSESSLOG) {
        CHECK(t->t_first == 0 && t->t_last == 0);
    }

    /* The connections partition the requests in order and are ordered by start. */
    uint64_t next = 0;
    uint32_t *clients = malloc(sizeof *clients * t->nconn);
    CHECK(clients != NULL);
    for (uint64_t i = 0; i < t->nconn; i++) {
        const struct ho_trace_conn *c = &t->conns[i];
        CHECK(c->nreq >= 1 && c->first == next);
        next += c->nreq;
        CHECK(c->start >= t->t_first && c->start <= t->t_last);
        if (i > 0) {
            CHECK(c->start >= t->conns[i - 1].start);
        }
        if (format == HO_TRACE_WSESSLOG) {
            /* Sessions are connections, in file order, the session's index as client. */
            CHECK(c->client == i);
            CHECK((t->reqs[c->first].flags & HO_REQ_F_BURST) == 0);
            CHECK(t->reqs[c->first + c->nreq - 1].think_us == 0);
        }
        clients[i] = c->client;
    }
    CHECK(next == t->nreq);
    CHECK(distinct(clients, t->nconn) == t->nclients);
    free(clients);

    /* A client's connections are more than idle_s apart (timed formats). */
    if (format != HO_TRACE_WSESSLOG && t->nconn <= PAIRWISE_MAX) {
        for (uint64_t i = 0; i < t->nconn; i++) {
            for (uint64_t j = i + 1; j < t->nconn; j++) {
                if (t->conns[i].client == t->conns[j].client) {
                    CHECK(t->conns[j].start - t->conns[i].start > (int64_t)p->idle_s);
                }
            }
        }
    }

    /* Requests: ranges, unknown sizes, distinct and (text formats) dense object ids. */
    uint64_t unknown = 0;
    uint32_t *objects = malloc(sizeof *objects * t->nreq);
    CHECK(objects != NULL);
    for (uint64_t i = 0; i < t->nreq; i++) {
        const struct ho_req *q = &t->reqs[i];
        check_req(q, format);
        unknown += q->size == HO_REQ_SIZE_UNKNOWN;
        if (format != HO_TRACE_WC) {
            CHECK(q->object < t->nobjects);
        }
        objects[i] = q->object;
    }
    CHECK(unknown == t->unknown_size);
    CHECK(distinct(objects, t->nreq) == t->nobjects);
    free(objects);
    if (format == HO_TRACE_CLF) {
        CHECK(t->nclients >= 1);
        for (uint64_t i = 0; i < t->nconn; i++) {
            CHECK(t->conns[i].client < t->nclients); /* hosts get dense ids */
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t h[HEADER] = {0};
    memcpy(h, data, size < HEADER ? size : HEADER);
    const uint8_t *content = size > HEADER ? data + HEADER : data;
    size_t len = size > HEADER ? size - HEADER : 0;
    write_input(content, len);

    struct ho_trace_params p;
    ho_trace_params_default(&p);
    p.format = (enum ho_trace_format)(h[0] & 3);
    p.max_backstep_s = h[1];
    p.max_requests = h[2];
    p.idle_s = h[3] & 0x1f ? h[3] & 0x1f : HO_TRACE_IDLE_S;
    p.wsess_default_think_s = (h[3] >> 5) * 0.25;

    int format = p.format;
    struct ho_wl_err err;
    memset(&err, 0xa5, sizeof err);
    if (format == HO_TRACE_AUTO) {
        format = ho_trace_detect(tmp_path, &err);
        if (format < 0) {
            check_error(format, &err, format, content, len);
        }
    }
    struct ho_trace *t = NULL;
    memset(&err, 0xa5, sizeof err);
    int rc = ho_trace_read(tmp_path, &p, &t, &err);
    if (rc != HO_OK) {
        check_error(rc, &err, format, content, len);
        CHECK(t == NULL); /* nothing stored, nothing to free */
        return 0;
    }
    CHECK(format > 0 && t != NULL);
    check_trace(t, format, &p, len);
    check_stats(t);
    check_replay(t);
    ho_trace_free(t);
    return 0;
}
