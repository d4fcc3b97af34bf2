/*
 * trace.c - reading a trace: format detection, dispatch to the format readers, and the
 * grouping of timed requests into the replayer's persistent connections (see
 * include/handoff/workload_trace.h and trace_priv.h).
 *
 * Called by `handoff trace stats` and by the simulator's --trace. Grouping sorts compact keys
 * (client, time, position) instead of keeping a per-client table while reading, so that
 * tolerated out-of-order records land in their place and the result does not depend on how
 * clients interleave in the file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/err.h"
#include "trace_priv.h"

void ho_trace_params_default(struct ho_trace_params *p)
{
    memset(p, 0, sizeof *p);
    p->format = HO_TRACE_AUTO;
    p->idle_s = HO_TRACE_IDLE_S;
}

const char *ho_trace_format_name(enum ho_trace_format f)
{
    switch (f) {
    case HO_TRACE_AUTO:
        return "auto";
    case HO_TRACE_WC:
        return "wc";
    case HO_TRACE_CLF:
        return "clf";
    case HO_TRACE_WSESSLOG:
        return "wsesslog";
    }
    return "?";
}

int ho_trace_format_parse(const char *s)
{
    if (!s) {
        return HO_EINVAL;
    }
    if (!strcmp(s, "wc")) {
        return HO_TRACE_WC;
    }
    if (!strcmp(s, "clf")) {
        return HO_TRACE_CLF;
    }
    if (!strcmp(s, "wsesslog")) {
        return HO_TRACE_WSESSLOG;
    }
    if (!strcmp(s, "auto")) {
        return HO_TRACE_AUTO;
    }
    return HO_EINVAL;
}

int ho_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
    if (len == 0) {
        return HO_EPROTO;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return HO_EPROTO;
        }
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (max - d) / 10) {
            return HO_ELIMIT;
        }
        v = v * 10 + d;
    }
    *out = v;
    return HO_OK;
}

/* ---- detection ---- */

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static int detect_by_name(const char *path)
{
    static const struct {
        const char *ext;
        enum ho_trace_format f;
    } exts[] = {
        {".wc", HO_TRACE_WC},          {".wc98", HO_TRACE_WC},
        {".bin", HO_TRACE_WC},         {".log", HO_TRACE_CLF},
        {".clf", HO_TRACE_CLF},        {".wsesslog", HO_TRACE_WSESSLOG},
        {".wsess", HO_TRACE_WSESSLOG}, {".sess", HO_TRACE_WSESSLOG},
    };
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        if (ends_with(path, exts[i].ext)) {
            return exts[i].f;
        }
    }
    return HO_TRACE_AUTO;
}

/* Reads the first bytes of the file; fails on gzip, which every format would misread. */
static int read_head(const char *path, unsigned char *buf, size_t cap, size_t *n,
                     struct ho_wl_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err->msg, sizeof err->msg, "%s: cannot open: %s", path, strerror(errno));
        return HO_ENOENT;
    }
    *n = fread(buf, 1, cap, f);
    int bad = ferror(f), read_errno = errno;
    fclose(f);
    if (bad) {
        snprintf(err->msg, sizeof err->msg, "%s: read error: %s", path, strerror(read_errno));
        return HO_ENOENT;
    }
    if (*n >= 2 && buf[0] == 0x1f && buf[1] == 0x8b) {
        snprintf(err->msg, sizeof err->msg,
                 "%s: the file is gzip-compressed; decompress it first (gunzip)", path);
        return HO_EINVAL;
    }
    return HO_OK;
}

static int detect_by_content(const char *path, const unsigned char *buf, size_t n,
                             struct ho_wl_err *err)
{
    if (n == 0) {
        snprintf(err->msg, sizeof err->msg,
                 "%s: empty file: its format cannot be detected (give --format)", path);
        return HO_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = buf[i];
        if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') {
            return HO_TRACE_WC; /* binary */
        }
    }
    /* Text: the first line that is neither blank nor a comment decides. A CLF line has a
     * bracketed time and a quoted request; a session line is a path and key=value pairs. */
    size_t i = 0;
    while (i < n) {
        size_t end = i;
        while (end < n && buf[end] != '\n') {
            end++;
        }
        int blank = 1;
        for (size_t j = i; j < end; j++) {
            if (buf[j] != ' ' && buf[j] != '\t' && buf[j] != '\r') {
                blank = 0;
            }
        }
        if (!blank && buf[i] != '#') {
            const unsigned char *open = memchr(buf + i, '[', end - i);
            const unsigned char *quote = memchr(buf + i, '"', end - i);
            if (open && quote && open < quote) {
                return HO_TRACE_CLF;
            }
            return HO_TRACE_WSESSLOG;
        }
        i = end + 1;
    }
    /* Only comments and blank lines: a session file with no sessions. */
    return HO_TRACE_WSESSLOG;
}

int ho_trace_detect(const char *path, struct ho_wl_err *err)
{
    unsigned char buf[4096];
    size_t n;
    int rc = read_head(path, buf, sizeof buf, &n, err);
    if (rc != HO_OK) {
        return rc;
    }
    int f = detect_by_name(path);
    if (f != HO_TRACE_AUTO) {
        return f;
    }
    return detect_by_content(path, buf, n, err);
}

/* ---- reading ---- */

int ho_trace_read(const char *path, const struct ho_trace_params *p, struct ho_trace **out,
                  struct ho_wl_err *err)
{
    struct ho_wl_err scratch;
    if (!err) {
        err = &scratch;
    }
    err->msg[0] = '\0';
    struct ho_trace_params params;
    if (p) {
        params = *p;
    } else {
        ho_trace_params_default(&params);
    }
    if (params.idle_s == 0) {
        params.idle_s = HO_TRACE_IDLE_S;
    }
    if (!path || !out || !(params.wsess_default_think_s >= 0) ||
        params.wsess_default_think_s > 4294.0) {
        snprintf(err->msg, sizeof err->msg, "%s: bad trace parameters", path ? path : "(null)");
        return HO_EINVAL;
    }
    int format = params.format;
    if (format == HO_TRACE_AUTO) {
        format = ho_trace_detect(path, err);
        if (format < 0) {
            return format;
        }
    } else {
        unsigned char buf[2];
        size_t n;
        int rc = read_head(path, buf, sizeof buf, &n, err);
        if (rc != HO_OK) {
            return rc;
        }
    }
    struct ho_tb b;
    ho_tb_init(&b, path, &params, (enum ho_trace_format)format);
    int rc;
    switch (format) {
    case HO_TRACE_WC:
        rc = ho_trace_read_wc(&b, err);
        break;
    case HO_TRACE_CLF:
        rc = ho_trace_read_clf(&b, err);
        break;
    case HO_TRACE_WSESSLOG:
        rc = ho_trace_read_wsess(&b, err);
        break;
    default:
        snprintf(err->msg, sizeof err->msg, "%s: unknown trace format", path);
        rc = HO_EINVAL;
        break;
    }
    if (rc == HO_OK) {
        rc = ho_tb_finish(&b, out, err);
    }
    ho_tb_free(&b);
    return rc;
}

void ho_trace_free(struct ho_trace *t)
{
    if (!t) {
        return;
    }
    free(t->reqs);
    free(t->conns);
    free(t);
}

/* ---- the builder ---- */

void ho_tb_init(struct ho_tb *b, const char *path, const struct ho_trace_params *p,
                enum ho_trace_format format)
{
    memset(b, 0, sizeof *b);
    b->path = path;
    b->p = *p;
    b->format = format;
    b->newest = INT64_MIN;
}

void ho_tb_free(struct ho_tb *b)
{
    free(b->recs);
    b->recs = NULL;
}

int ho_tb_full(const struct ho_tb *b)
{
    return b->p.max_requests && b->n >= b->p.max_requests;
}

int ho_tb_check_time(struct ho_tb *b, int64_t time, const char *where, struct ho_wl_err *err)
{
    if (b->n == 0 || time >= b->newest) {
        b->newest = time;
        return HO_OK;
    }
    /* Both are parsed from at most 14 digits, so the difference cannot overflow. */
    int64_t back = b->newest - time;
    if ((uint64_t)back > b->p.max_backstep_s) {
        snprintf(err->msg, sizeof err->msg,
                 "%s: time goes backwards by %lld s (from %lld to %lld); the records must be "
                 "in time order%s",
                 where, (long long)back, (long long)b->newest, (long long)time,
                 b->p.max_backstep_s ? " within the allowed backstep" : "");
        return HO_EPROTO;
    }
    b->backsteps++;
    return HO_OK;
}

int ho_tb_add(struct ho_tb *b, int64_t time, uint32_t client, const struct ho_req *req,
              struct ho_wl_err *err)
{
    if (b->n >= UINT32_MAX) {
        snprintf(err->msg, sizeof err->msg, "%s: more than %u requests", b->path, UINT32_MAX);
        return HO_ENOSPC;
    }
    if (b->n == b->cap) {
        uint64_t ncap = b->cap ? b->cap * 2 : 4096;
        struct ho_tb_rec *nr = realloc(b->recs, ncap * sizeof *nr);
        if (!nr) {
            snprintf(err->msg, sizeof err->msg, "%s: out of memory after %llu requests", b->path,
                     (unsigned long long)b->n);
            return HO_ENOMEM;
        }
        b->recs = nr;
        b->cap = ncap;
    }
    b->recs[b->n++] = (struct ho_tb_rec){.time = time, .client = client, .req = *req};
    return HO_OK;
}

struct tb_key {
    int64_t time;
    uint32_t client;
    uint32_t pos; /* index in recs: file order */
};

static int key_cmp(const void *a, const void *b)
{
    const struct tb_key *x = a, *y = b;
    if (x->client != y->client) {
        return x->client < y->client ? -1 : 1;
    }
    if (x->time != y->time) {
        return x->time < y->time ? -1 : 1;
    }
    return (x->pos > y->pos) - (x->pos < y->pos);
}

struct tb_conn {
    int64_t start;
    uint32_t firstpos; /* file position of its first request */
    uint32_t client;
    uint32_t key; /* index of its first key */
    uint32_t n;
};

static int conn_cmp(const void *a, const void *b)
{
    const struct tb_conn *x = a, *y = b;
    if (x->start != y->start) {
        return x->start < y->start ? -1 : 1;
    }
    return (x->firstpos > y->firstpos) - (x->firstpos < y->firstpos);
}

static int u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int ho_tb_finish(struct ho_tb *b, struct ho_trace **out, struct ho_wl_err *err)
{
    uint64_t n = b->n;
    struct ho_trace *t = calloc(1, sizeof *t);
    struct tb_key *keys = malloc(sizeof *keys * (n ? n : 1));
    struct tb_conn *conns = malloc(sizeof *conns * (n ? n : 1));
    uint32_t *objs = malloc(sizeof *objs * (n ? n : 1));
    if (t) {
        t->reqs = malloc(sizeof *t->reqs * (n ? n : 1));
    }
    if (!t || !keys || !conns || !objs || !t->reqs) {
        free(keys);
        free(conns);
        free(objs);
        ho_trace_free(t);
        snprintf(err->msg, sizeof err->msg, "%s: out of memory", b->path);
        return HO_ENOMEM;
    }
    t->format = b->format;
    t->nreq = n;
    t->backsteps = b->backsteps;
    for (uint64_t i = 0; i < n; i++) {
        keys[i] = (struct tb_key){
            .time = b->recs[i].time, .client = b->recs[i].client, .pos = (uint32_t)i};
        objs[i] = b->recs[i].req.object;
        if (b->recs[i].req.size == HO_REQ_SIZE_UNKNOWN) {
            t->unknown_size++;
        }
        if (i == 0 || b->recs[i].time < t->t_first) {
            t->t_first = b->recs[i].time;
        }
        if (i == 0 || b->recs[i].time > t->t_last) {
            t->t_last = b->recs[i].time;
        }
    }
    qsort(keys, n, sizeof *keys, key_cmp);
    uint64_t nconn = 0;
    for (uint64_t i = 0; i < n; i++) {
        const struct tb_key *k = &keys[i];
        int same = i > 0 && keys[i - 1].client == k->client &&
                   k->time - keys[i - 1].time <= (int64_t)b->p.idle_s;
        if (i == 0 || keys[i - 1].client != k->client) {
            t->nclients++;
        }
        if (same) {
            conns[nconn - 1].n++;
        } else {
            conns[nconn++] = (struct tb_conn){.start = k->time,
                                              .firstpos = k->pos,
                                              .client = k->client,
                                              .key = (uint32_t)i,
                                              .n = 1};
        }
    }
    qsort(conns, nconn, sizeof *conns, conn_cmp);
    qsort(objs, n, sizeof *objs, u32_cmp);
    for (uint64_t i = 0; i < n; i++) {
        t->nobjects += i == 0 || objs[i] != objs[i - 1];
    }
    free(objs);
    t->conns = malloc(sizeof *t->conns * (nconn ? nconn : 1));
    if (!t->conns) {
        free(keys);
        free(conns);
        ho_trace_free(t);
        snprintf(err->msg, sizeof err->msg, "%s: out of memory", b->path);
        return HO_ENOMEM;
    }
    uint32_t next = 0;
    for (uint64_t c = 0; c < nconn; c++) {
        const struct tb_conn *tc = &conns[c];
        t->conns[c] = (struct ho_trace_conn){
            .start = tc->start, .client = tc->client, .first = next, .nreq = tc->n};
        for (uint32_t j = 0; j < tc->n; j++) {
            t->reqs[next++] = b->recs[keys[tc->key + j].pos].req;
        }
    }
    t->nconn = nconn;
    free(keys);
    free(conns);
    *out = t;
    return HO_OK;
}
