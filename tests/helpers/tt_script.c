/*
 * tt_script.c - the scenario-script runner of tt_script.h.
 *
 * The runner owns one stack whose output callback records each segment with the time it left;
 * '>' lines consume those records in order. Time moves only forward, one stack timer at a time,
 * so every timer fires at its exact deadline and is checked at it.
 */
#include "tt_script.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/err.h"
#include "tt_world.h"

#define MAX_OUT  256
#define MAX_DATA 65536

#define OUR_STREAM  1
#define PEER_STREAM 2

struct tt_out {
    uint64_t at;         /* when it was emitted */
    struct tcpe_seg seg; /* header */
    uint8_t *data;       /* payload copy or NULL */
};

struct tt_script {
    const struct tt_script_cfg *cfg;
    struct tcpe_stack *s;
    struct tcpe_conn *lsn;  /* listener, if any */
    struct tcpe_conn *conn; /* the connection under test */
    uint64_t now;
    struct tt_out out[MAX_OUT]; /* emitted, not yet matched */
    int nout;
    int line;          /* current line, for messages */
    uint64_t sent;     /* octets `send` queued so far */
    uint64_t received; /* octets `recv` took so far */
    uint8_t buf[MAX_DATA];
};

static int fail(struct tt_script *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct tt_script *sc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "script line %d (t=%.6f): ", sc->line, (double)sc->now / 1e9);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return -1;
}

void tt_script_cfg_init(struct tt_script_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    tcpe_params_init(&cfg->params);
    cfg->params.mss = 1000;
    cfg->params.rcvbuf = 65535;
    cfg->our_isn = 1000;
    cfg->peer_isn = 5000;
    cfg->our_ts = 100000;
    cfg->peer_ts = 700000;
}

struct tcpe_stack *tt_script_stack(struct tt_script *sc)
{
    return sc->s;
}

struct tcpe_conn *tt_script_conn(struct tt_script *sc)
{
    return sc->conn;
}

uint64_t tt_script_now(struct tt_script *sc)
{
    return sc->now;
}

static int sc_output(void *ctx, const struct tcpe_seg *seg)
{
    struct tt_script *sc = ctx;
    if (sc->nout == MAX_OUT) {
        return HO_OK; /* reported as a mismatch soon enough */
    }
    struct tt_out *o = &sc->out[sc->nout++];
    o->at = sc->now;
    o->seg = *seg;
    o->data = NULL;
    if (seg->data != NULL && seg->len > 0) {
        o->data = malloc(seg->len);
        memcpy(o->data, seg->data, seg->len);
        o->seg.data = o->data;
    }
    return HO_OK;
}

static uint32_t sc_isn(void *ctx, const struct tcpe_tuple *t, uint64_t now)
{
    (void)t;
    (void)now;
    struct tt_script *sc = ctx;
    return sc->cfg->our_isn;
}

static uint32_t sc_ts_offset(void *ctx, const struct tcpe_tuple *t)
{
    (void)t;
    struct tt_script *sc = ctx;
    return sc->cfg->our_ts;
}

static void out_pop(struct tt_script *sc)
{
    free(sc->out[0].data);
    memmove(&sc->out[0], &sc->out[1], (size_t)(sc->nout - 1) * sizeof sc->out[0]);
    sc->nout--;
}

/* Runs every timer due up to t, each at its own deadline. */
static void advance(struct tt_script *sc, uint64_t t)
{
    for (;;) {
        uint64_t wake = tcpe_stack_next_wake(sc->s);
        if (wake > t) {
            break;
        }
        if (wake > sc->now) {
            sc->now = wake;
        }
        tcpe_stack_timers(sc->s, sc->now);
    }
    if (t > sc->now) {
        sc->now = t;
    }
}

static void format_seg(const struct tt_script_cfg *cfg, const struct tcpe_seg *g, char *b, size_t n)
{
    uint32_t seq0 = cfg->our_isn;
    uint32_t ack0 = cfg->peer_isn;
    char fl[16];
    int k = 0;
    const char *names = "FSRP.UEC";
    for (int i = 0; i < 8; i++) {
        if (g->flags & (1u << i)) {
            fl[k++] = names[i];
        }
    }
    fl[k] = '\0';
    int w = snprintf(
        b, n, "%s %" PRIu32 ":%" PRIu32 "(%" PRIu32 ") ack %" PRIu32 " win %u mss %u ws %u opts %x",
        k ? fl : "0", g->seq - seq0, g->seq - seq0 + g->len, g->len, g->ack - ack0, g->wnd, g->mss,
        g->wscale, g->opts);
    if ((g->opts & TCPE_OPT_TS) && w > 0 && (size_t)w < n) {
        uint32_t ecr = (g->flags & TCPE_ACK) ? g->ts_ecr - cfg->peer_ts : g->ts_ecr;
        w += snprintf(b + w, n - (size_t)w, " TS val %" PRIu32 " ecr %" PRIu32,
                      g->ts_val - cfg->our_ts, ecr);
    }
    if ((g->opts & TCPE_OPT_SACK) && w > 0 && (size_t)w < n) {
        w += snprintf(b + w, n - (size_t)w, " sack");
        for (unsigned i = 0; i < g->nsack && i < TCPE_SACK_MAX && w > 0 && (size_t)w < n; i++) {
            w += snprintf(b + w, n - (size_t)w, " %" PRIu32 ":%" PRIu32, g->sack[i].start - ack0,
                          g->sack[i].end - ack0);
        }
    }
}

/* ---- parsing a segment line ---- */

struct want {
    uint8_t flags;
    uint32_t seq, end, len, ack;
    bool has_ack, has_win, has_opts;
    uint32_t win;
    uint8_t opts;
    uint16_t mss;
    uint8_t wscale;
    uint32_t ts_val, ts_ecr; /* as written: relative, see tt_script.h */
    uint8_t nsack;           /* SACK blocks, as written: relative, see tt_script.h */
    struct tcpe_sack_block sack[TCPE_SACK_MAX];
};

/* "sack 1001:2001 3001:4001": one to TCPE_SACK_MAX blocks of relative numbers. */
static int parse_sack(struct tt_script *sc, char *o, struct want *w)
{
    char *save = NULL;
    char *tok = strtok_r(o, " ", &save); /* "sack" */
    while ((tok = strtok_r(NULL, " ", &save)) != NULL) {
        long long a, b;
        if (w->nsack == TCPE_SACK_MAX || sscanf(tok, "%lld:%lld", &a, &b) != 2) {
            return fail(sc, "bad SACK block '%s'", tok);
        }
        w->sack[w->nsack].start = (uint32_t)a;
        w->sack[w->nsack].end = (uint32_t)b;
        w->nsack++;
    }
    if (w->nsack == 0) {
        return fail(sc, "a SACK option needs a block");
    }
    w->opts |= TCPE_OPT_SACK;
    return 0;
}

static int parse_flags(const char *tok, uint8_t *flags)
{
    *flags = 0;
    for (const char *p = tok; *p; p++) {
        switch (*p) {
        case 'S':
            *flags |= TCPE_SYN;
            break;
        case 'F':
            *flags |= TCPE_FIN;
            break;
        case 'R':
            *flags |= TCPE_RST;
            break;
        case 'P':
            *flags |= TCPE_PSH;
            break;
        case '.':
            *flags |= TCPE_ACK;
            break;
        case 'U':
            *flags |= TCPE_URG;
            break;
        case 'E':
            *flags |= TCPE_ECE;
            break;
        case 'W':
        case 'C':
            *flags |= TCPE_CWR;
            break;
        case '0':
            break;
        default:
            return -1;
        }
    }
    return 0;
}

static int parse_seg(struct tt_script *sc, char *rest, struct want *w)
{
    memset(w, 0, sizeof *w);
    char *save = NULL;
    char *tok = strtok_r(rest, " \t", &save);
    if (tok == NULL || parse_flags(tok, &w->flags) < 0) {
        return fail(sc, "bad flags");
    }
    tok = strtok_r(NULL, " \t", &save);
    long long seq = 0, end = 0;
    if (tok == NULL || sscanf(tok, "%lld:%lld(%" SCNu32 ")", &seq, &end, &w->len) != 3 ||
        end - seq != (long long)w->len) {
        return fail(sc, "bad sequence range '%s'", tok ? tok : "");
    }
    w->seq = (uint32_t)seq; /* relative numbers may be negative (before the ISN) */
    w->end = (uint32_t)end;
    while ((tok = strtok_r(NULL, " \t", &save)) != NULL) {
        if (strcmp(tok, "ack") == 0 || strcmp(tok, "win") == 0) {
            char *v = strtok_r(NULL, " \t", &save);
            if (v == NULL) {
                return fail(sc, "%s needs a value", tok);
            }
            uint32_t x = (uint32_t)strtoll(v, NULL, 0);
            if (tok[0] == 'a') {
                w->ack = x;
                w->has_ack = true;
            } else {
                w->win = x;
                w->has_win = true;
            }
        } else if (tok[0] == '<') {
            /* The option list may contain no spaces: <mss 1460,wscale 7> is two tokens. */
            char opts[256] = "";
            strncat(opts, tok + 1, sizeof opts - 1);
            while (strchr(opts, '>') == NULL) {
                char *more = strtok_r(NULL, " \t", &save);
                if (more == NULL) {
                    return fail(sc, "unterminated option list");
                }
                strncat(opts, " ", sizeof opts - strlen(opts) - 1);
                strncat(opts, more, sizeof opts - strlen(opts) - 1);
            }
            *strchr(opts, '>') = '\0';
            w->has_opts = true;
            char *osave = NULL;
            for (char *o = strtok_r(opts, ",", &osave); o; o = strtok_r(NULL, ",", &osave)) {
                unsigned v = 0;
                if (sscanf(o, " mss %u", &v) == 1) {
                    w->opts |= TCPE_OPT_MSS;
                    w->mss = (uint16_t)v;
                } else if (sscanf(o, " wscale %u", &v) == 1) {
                    w->opts |= TCPE_OPT_WSCALE;
                    w->wscale = (uint8_t)v;
                } else if (sscanf(o, " TS val %" SCNu32 " ecr %" SCNu32, &w->ts_val, &w->ts_ecr) ==
                           2) {
                    w->opts |= TCPE_OPT_TS;
                } else if (strstr(o, "sackOK") != NULL) {
                    w->opts |= TCPE_OPT_SACK_OK;
                } else if (strncmp(o + strspn(o, " "), "sack ", 5) == 0) {
                    if (parse_sack(sc, o, w) < 0) {
                        return -1;
                    }
                } else if (strstr(o, "nop") == NULL) {
                    return fail(sc, "unknown option '%s'", o);
                }
            }
        } else {
            return fail(sc, "unexpected '%s'", tok);
        }
    }
    return 0;
}

static int step_in(struct tt_script *sc, char *rest)
{
    struct want w;
    if (parse_seg(sc, rest, &w) < 0) {
        return -1;
    }
    if (w.len > MAX_DATA) {
        return fail(sc, "segment too long");
    }
    struct tcpe_seg g;
    memset(&g, 0, sizeof g);
    g.src_ip = TT_REMOTE_IP;
    g.dst_ip = TT_LOCAL_IP;
    g.src_port = TT_REMOTE_PORT;
    g.dst_port = TT_LOCAL_PORT;
    g.seq = sc->cfg->peer_isn + w.seq;
    g.ack = w.has_ack ? sc->cfg->our_isn + w.ack : 0;
    g.flags = w.flags;
    g.wnd = (uint16_t)(w.has_win ? w.win : 65535);
    g.opts = w.opts;
    g.mss = w.mss;
    g.wscale = w.wscale;
    if (w.opts & TCPE_OPT_TS) {
        g.ts_val = sc->cfg->peer_ts + w.ts_val;
        g.ts_ecr = (w.flags & TCPE_ACK) ? sc->cfg->our_ts + w.ts_ecr : w.ts_ecr;
    }
    g.nsack = w.nsack;
    for (unsigned i = 0; i < w.nsack; i++) {
        g.sack[i].start = sc->cfg->our_isn + w.sack[i].start;
        g.sack[i].end = sc->cfg->our_isn + w.sack[i].end;
    }
    g.len = w.len;
    if (!sc->cfg->params.virtual_payload && w.len > 0) {
        /* Stream offset of relative sequence number s is s - 1 (the SYN takes 0). */
        tt_pattern_fill(PEER_STREAM, (uint64_t)w.seq - 1, sc->buf, w.len);
        g.data = sc->buf;
    }
    (void)tcpe_stack_input(sc->s, &g, sc->now);
    return 0;
}

static int step_out(struct tt_script *sc, char *rest)
{
    struct want w;
    if (parse_seg(sc, rest, &w) < 0) {
        return -1;
    }
    const struct tt_script_cfg *cfg = sc->cfg;
    if (sc->nout == 0) {
        return fail(sc, "expected a segment, none was sent");
    }
    struct tt_out *o = &sc->out[0];
    const struct tcpe_seg *g = &o->seg;
    char got[320];
    format_seg(cfg, g, got, sizeof got);
    if (o->at != sc->now) {
        return fail(sc, "segment [%s] sent at %.6f, expected at this time", got,
                    (double)o->at / 1e9);
    }
    bool ok = g->flags == w.flags && g->seq == cfg->our_isn + w.seq && g->len == w.len;
    if (w.has_ack || (w.flags & TCPE_ACK)) {
        ok = ok && g->ack == cfg->peer_isn + w.ack;
    }
    if (w.has_win) {
        ok = ok && g->wnd == w.win;
    }
    if (w.has_opts) {
        ok = ok && g->opts == w.opts && g->nsack == w.nsack;
        for (unsigned i = 0; ok && i < w.nsack; i++) {
            ok = g->sack[i].start == cfg->peer_isn + w.sack[i].start &&
                 g->sack[i].end == cfg->peer_isn + w.sack[i].end;
        }
        ok = ok && (!(w.opts & TCPE_OPT_MSS) || g->mss == w.mss);
        ok = ok && (!(w.opts & TCPE_OPT_WSCALE) || g->wscale == w.wscale);
        uint32_t ecr = (w.flags & TCPE_ACK) ? cfg->peer_ts + w.ts_ecr : w.ts_ecr;
        ok = ok &&
             (!(w.opts & TCPE_OPT_TS) || (g->ts_val == cfg->our_ts + w.ts_val && g->ts_ecr == ecr));
    }
    if (g->src_ip != TT_LOCAL_IP || g->dst_ip != TT_REMOTE_IP || g->src_port != TT_LOCAL_PORT ||
        g->dst_port != TT_REMOTE_PORT) {
        ok = false;
    }
    if (!ok) {
        return fail(sc, "sent [%s]", got);
    }
    if (g->len > 0 && !cfg->params.virtual_payload) {
        if (g->data == NULL) {
            return fail(sc, "payload missing");
        }
        tt_pattern_fill(OUR_STREAM, (uint64_t)w.seq - 1, sc->buf, g->len);
        if (memcmp(sc->buf, g->data, g->len) != 0) {
            return fail(sc, "payload differs from the stream at offset %" PRIu32, w.seq - 1);
        }
    } else if (g->len > 0 && g->data != NULL) {
        return fail(sc, "virtual payload came with bytes");
    }
    out_pop(sc);
    return 0;
}

/* ---- calls ---- */

static int need_conn(struct tt_script *sc)
{
    return sc->conn != NULL ? 0 : fail(sc, "no connection");
}

static int state_by_name(const char *name)
{
    for (int i = 0; i < TCPE_NSTATES; i++) {
        if (strcmp(tcpe_state_name(i), name) == 0) {
            return i;
        }
    }
    return -1;
}

struct stat_name {
    const char *name;
    size_t off;
};

static const struct stat_name stat_names[] = {
    {"segs_in", offsetof(struct tcpe_stats, segs_in)},
    {"segs_out", offsetof(struct tcpe_stats, segs_out)},
    {"bytes_in", offsetof(struct tcpe_stats, bytes_in)},
    {"bytes_out", offsetof(struct tcpe_stats, bytes_out)},
    {"bytes_acked", offsetof(struct tcpe_stats, bytes_acked)},
    {"rexmt_segs", offsetof(struct tcpe_stats, rexmt_segs)},
    {"rexmt_bytes", offsetof(struct tcpe_stats, rexmt_bytes)},
    {"timeouts", offsetof(struct tcpe_stats, timeouts)},
    {"fast_rexmts", offsetof(struct tcpe_stats, fast_rexmts)},
    {"dupacks_in", offsetof(struct tcpe_stats, dupacks_in)},
    {"limited_xmits", offsetof(struct tcpe_stats, limited_xmits)},
    {"persist_probes", offsetof(struct tcpe_stats, persist_probes)},
    {"delayed_acks", offsetof(struct tcpe_stats, delayed_acks)},
    {"challenge_acks", offsetof(struct tcpe_stats, challenge_acks)},
    {"challenge_limited", offsetof(struct tcpe_stats, challenge_limited)},
    {"ooo_segs", offsetof(struct tcpe_stats, ooo_segs)},
    {"rsts_out", offsetof(struct tcpe_stats, rsts_out)},
    {"conns_opened", offsetof(struct tcpe_stats, conns_opened)},
    {"conns_reset", offsetof(struct tcpe_stats, conns_reset)},
    {"conns_timedout", offsetof(struct tcpe_stats, conns_timedout)},
};

static int call_stat(struct tt_script *sc, const char *name, uint64_t want)
{
    const struct tcpe_stats *st = tcpe_stack_stats(sc->s);
    for (size_t i = 0; i < sizeof stat_names / sizeof stat_names[0]; i++) {
        if (strcmp(stat_names[i].name, name) == 0) {
            uint64_t v;
            memcpy(&v, (const char *)st + stat_names[i].off, sizeof v);
            return v == want ? 0
                             : fail(sc, "stat %s is %" PRIu64 ", expected %" PRIu64, name, v, want);
        }
    }
    return fail(sc, "unknown stat '%s'", name);
}

static int call_drop(struct tt_script *sc, const char *name, uint64_t want)
{
    const struct tcpe_stats *st = tcpe_stack_stats(sc->s);
    for (int i = 0; i < TCPE_NDROPS; i++) {
        if (strcmp(tcpe_drop_name(i), name) == 0) {
            return st->drops[i] == want ? 0
                                        : fail(sc, "drop %s is %" PRIu64 ", expected %" PRIu64,
                                               name, st->drops[i], want);
        }
    }
    return fail(sc, "unknown drop reason '%s'", name);
}

static int call_info(struct tt_script *sc, const char *field, uint64_t want)
{
    if (need_conn(sc) < 0) {
        return -1;
    }
    struct tcpe_info in;
    tcpe_conn_info(sc->conn, &in);
    struct {
        const char *name;
        uint64_t v;
    } f[] = {
        {"cwnd", in.cwnd},
        {"ssthresh", in.ssthresh},
        {"snd_wnd", in.snd_wnd},
        {"rcv_wnd", in.rcv_wnd},
        {"maxseg", in.maxseg},
        {"snd_wscale", in.snd_wscale},
        {"rcv_wscale", in.rcv_wscale},
        {"rto_ms", in.rto / 1000000},
        {"rxtshift", in.rxtshift},
        {"dupacks", in.dupacks},
        {"in_recovery", in.in_recovery},
        {"ooo", in.ooo_count},
        {"sndbuf", in.sndbuf_len},
        {"rcvbuf", in.rcvbuf_len},
        {"srtt_ms", in.srtt / 1000000},
        {"timestamps", in.timestamps},
        {"sack", in.sack},
        {"sack_ranges", in.sack_ranges},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (strcmp(f[i].name, field) == 0) {
            return f[i].v == want
                       ? 0
                       : fail(sc, "info %s is %" PRIu64 ", expected %" PRIu64, field, f[i].v, want);
        }
    }
    return fail(sc, "unknown info field '%s'", field);
}

/* Moves the connection out of the stack and back in, at the same time: export, detach, import.
 * The connection must then export to the same bytes; the script goes on with the new handle,
 * so anything the encoding forgot shows up in what the connection does next. */
static int call_handoff(struct tt_script *sc)
{
    if (need_conn(sc) < 0) {
        return -1;
    }
    int n = tcpe_export(sc->conn, sc->now, NULL, 0);
    if (n <= 0) {
        return fail(sc, "handoff: export: %s", ho_strerror(n));
    }
    uint8_t *a = malloc((size_t)n);
    uint8_t *b = malloc((size_t)n);
    if (a == NULL || b == NULL || tcpe_export(sc->conn, sc->now, a, (size_t)n) != n) {
        free(a);
        free(b);
        return fail(sc, "handoff: export failed");
    }
    tcpe_detach(sc->conn);
    sc->conn = NULL;
    int err = tcpe_import(sc->s, a, (size_t)n, sc->now, &sc->conn);
    int rc = 0;
    if (err < 0) {
        rc = fail(sc, "handoff: import: %s", ho_strerror(err));
    } else if (tcpe_export(sc->conn, sc->now, b, (size_t)n) != n || memcmp(a, b, (size_t)n) != 0) {
        rc = fail(sc, "handoff: the imported connection exports differently");
    }
    free(a);
    free(b);
    return rc;
}

static int step_call(struct tt_script *sc, char *rest)
{
    char *save = NULL;
    char *name = strtok_r(rest, " \t", &save);
    char *a1 = strtok_r(NULL, " \t", &save);
    char *a2 = strtok_r(NULL, " \t", &save);
    uint64_t n1 = a1 ? strtoull(a1, NULL, 0) : 0;
    uint64_t n2 = a2 ? strtoull(a2, NULL, 0) : 0;
    if (name == NULL) {
        return fail(sc, "call what?");
    }
    struct tcpe_tuple t = {TT_LOCAL_IP, TT_REMOTE_IP, TT_LOCAL_PORT, TT_REMOTE_PORT};
    if (strcmp(name, "nop") == 0) {
        return 0;
    } else if (strcmp(name, "listen") == 0) {
        int err = tcpe_listen(sc->s, TT_LOCAL_IP, TT_LOCAL_PORT, (uint32_t)n1, &sc->lsn);
        return err == 0 ? 0 : fail(sc, "listen: %s", ho_strerror(err));
    } else if (strcmp(name, "connect") == 0) {
        int err = tcpe_connect(sc->s, &t, sc->now, &sc->conn);
        return err == 0 ? 0 : fail(sc, "connect: %s", ho_strerror(err));
    } else if (strcmp(name, "accept") == 0) {
        sc->conn = sc->lsn ? tcpe_accept(sc->lsn) : NULL;
        return sc->conn ? 0 : fail(sc, "nothing to accept");
    } else if (strcmp(name, "send") == 0) {
        if (need_conn(sc) < 0 || n1 > MAX_DATA) {
            return -1;
        }
        const uint8_t *p = NULL;
        if (!sc->cfg->params.virtual_payload) {
            tt_pattern_fill(OUR_STREAM, sc->sent, sc->buf, n1);
            p = sc->buf;
        }
        int got = tcpe_send(sc->conn, p, (uint32_t)n1, sc->now);
        if (got != (int)n1) {
            return fail(sc, "send %" PRIu64 " queued %d", n1, got);
        }
        sc->sent += n1;
        return 0;
    } else if (strcmp(name, "recv") == 0) {
        if (need_conn(sc) < 0 || n1 > MAX_DATA) {
            return -1;
        }
        bool virt = sc->cfg->params.virtual_payload;
        int got = tcpe_recv(sc->conn, virt ? NULL : sc->buf, (uint32_t)n1, sc->now);
        if (got != (int)n1) {
            return fail(sc, "recv %" PRIu64 " got %d", n1, got);
        }
        for (uint64_t i = 0; !virt && i < n1; i++) {
            if (sc->buf[i] != tt_pattern(PEER_STREAM, sc->received + i)) {
                return fail(sc, "received octet %" PRIu64 " is wrong", sc->received + i);
            }
        }
        sc->received += n1;
        return 0;
    } else if (strcmp(name, "shutdown") == 0) {
        return need_conn(sc) < 0                       ? -1
               : tcpe_shutdown(sc->conn, sc->now) == 0 ? 0
                                                       : fail(sc, "shutdown failed");
    } else if (strcmp(name, "release") == 0) {
        if (need_conn(sc) < 0) {
            return -1;
        }
        tcpe_release(sc->conn, sc->now);
        sc->conn = NULL;
        return 0;
    } else if (strcmp(name, "abort") == 0) {
        if (need_conn(sc) < 0) {
            return -1;
        }
        tcpe_abort(sc->conn, sc->now);
        return 0;
    } else if (strcmp(name, "handoff") == 0) {
        return call_handoff(sc);
    } else if (strcmp(name, "state") == 0) {
        int want = a1 ? state_by_name(a1) : -1;
        if (want < 0 || need_conn(sc) < 0) {
            return fail(sc, "state: bad name or no connection");
        }
        int got = tcpe_conn_state(sc->conn);
        return got == want ? 0 : fail(sc, "state is %s, expected %s", tcpe_state_name(got), a1);
    } else if (strcmp(name, "eof") == 0) {
        if (need_conn(sc) < 0) {
            return -1;
        }
        return tcpe_conn_eof(sc->conn) == (n1 != 0) ? 0 : fail(sc, "eof is not %" PRIu64, n1);
    } else if (strcmp(name, "wake") == 0) {
        if (need_conn(sc) < 0 || a1 == NULL) {
            return -1;
        }
        uint64_t got = tcpe_conn_next_wake(sc->conn);
        uint64_t want =
            strcmp(a1, "never") == 0 ? TCPE_NEVER : (uint64_t)llround(strtod(a1, NULL) * 1e9);
        return got == want ? 0 : fail(sc, "next wake %.6f, expected %s", (double)got / 1e9, a1);
    } else if (strcmp(name, "conns") == 0 && a1) {
        uint32_t got = tcpe_stack_conn_count(sc->s);
        return got == n1 ? 0 : fail(sc, "%" PRIu32 " connections, expected %" PRIu64, got, n1);
    } else if (strcmp(name, "stat") == 0 && a1 && a2) {
        return call_stat(sc, a1, n2);
    } else if (strcmp(name, "drop") == 0 && a1 && a2) {
        return call_drop(sc, a1, n2);
    } else if (strcmp(name, "info") == 0 && a1 && a2) {
        return call_info(sc, a1, n2);
    }
    if (sc->cfg->call != NULL) {
        char args[256] = "";
        if (a1) {
            snprintf(args, sizeof args, "%s%s%s", a1, a2 ? " " : "", a2 ? a2 : "");
        }
        int r = sc->cfg->call(sc->cfg->arg, sc, name, args);
        if (r <= 0) {
            return r;
        }
    }
    return fail(sc, "unknown call '%s'", name);
}

/* ---- the driver ---- */

static int run_line(struct tt_script *sc, char *line, uint64_t *prev)
{
    char *hash = strchr(line, '#');
    if (hash) {
        *hash = '\0';
    }
    char *p = line + strspn(line, " \t\r");
    if (*p == '\0') {
        return 0;
    }
    bool rel = *p == '+';
    char *end = NULL;
    double secs = strtod(p + (rel ? 1 : 0), &end);
    if (end == p + (rel ? 1 : 0) || !(secs >= 0)) {
        return fail(sc, "bad time");
    }
    uint64_t t = (uint64_t)llround(secs * 1e9) + (rel ? *prev : 0);
    if (t < *prev) {
        return fail(sc, "time goes backwards");
    }
    *prev = t;
    advance(sc, t);
    p = end + strspn(end, " \t");
    if (*p == '>') {
        return step_out(sc, p + 1);
    }
    if (sc->nout > 0) {
        char got[320];
        format_seg(sc->cfg, &sc->out[0].seg, got, sizeof got);
        return fail(sc, "unexpected segment [%s] sent at %.6f", got, (double)sc->out[0].at / 1e9);
    }
    if (*p == '<') {
        return step_in(sc, p + 1);
    }
    if (strncmp(p, "call", 4) == 0) {
        return step_call(sc, p + 4);
    }
    return fail(sc, "expected '<', '>' or 'call'");
}

int tt_script_run(const char *text, const struct tt_script_cfg *cfg)
{
    struct tt_script *sc = calloc(1, sizeof *sc);
    if (sc == NULL) {
        return -1;
    }
    sc->cfg = cfg;
    struct tcpe_params p = cfg->params;
    p.ops.output = sc_output;
    p.ops.event = NULL;
    p.ops.isn = sc_isn;
    p.ops.ts_offset = sc_ts_offset;
    p.ctx = sc;
    int err = tcpe_stack_create(&p, &sc->s);
    if (err < 0) {
        free(sc);
        fprintf(stderr, "script: stack: %s\n", ho_strerror(err));
        return -1;
    }
    char *copy = strdup(text);
    int rc = 0;
    uint64_t prev = 0;
    for (char *line = copy; line != NULL && rc == 0;) {
        char *nl = strchr(line, '\n');
        if (nl) {
            *nl = '\0';
        }
        sc->line++;
        rc = run_line(sc, line, &prev);
        line = nl ? nl + 1 : NULL;
    }
    if (rc == 0 && sc->nout > 0) {
        char got[320];
        format_seg(cfg, &sc->out[0].seg, got, sizeof got);
        rc = fail(sc, "segment [%s] sent at %.6f and never expected", got,
                  (double)sc->out[0].at / 1e9);
    }
    while (sc->nout > 0) {
        out_pop(sc);
    }
    free(copy);
    tcpe_stack_destroy(sc->s);
    free(sc);
    return rc;
}

int tt_script_run_wrapped(const char *text, const struct tt_script_cfg *cfg)
{
    if (tt_script_run(text, cfg) < 0) {
        return -1;
    }
    struct tt_script_cfg w = *cfg;
    w.our_isn = 0u - 2500u;
    w.peer_isn = 0u - 1500u;
    w.our_ts = 0u - 300u;
    w.peer_ts = 0u - 200u;
    if (tt_script_run(text, &w) < 0) {
        fprintf(stderr, "(the failure above is with ISNs and timestamps just below 2^32)\n");
        return -1;
    }
    return 0;
}
