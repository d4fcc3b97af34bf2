/*
 * tcp_export.c - the handoff codec: a live connection's complete state as bytes, and back.
 *
 * Called by whoever moves connections (the host driver handing one to the NIC, the NIC
 * restoring one to the host, tests). The encoding is explicit, field by field, big-endian,
 * through include/handoff/bytes.h, and versioned; docs/tcpe.md lists the fields. Times travel as
 * durations relative to the exporter's `now` (a timer's remaining time, a timestamp's age), so
 * the importer, whose clock may differ, rebuilds them against its own `now`; the RFC 7323
 * timestamp clock travels as its reading, which the importer continues.
 *
 * Import trusts nothing: every field is range-checked and the sequence variables, buffers and
 * flags must agree with one another and with the state, so that a malformed or hostile encoding
 * is refused with an error and can never build a connection that later trips an assertion or
 * reads outside a buffer. The connection joins the stack only once all of it has been decoded.
 *
 * Versions: 5 adds SACK (the TF_SACK flag, and after the out-of-order queue the SACK blocks our
 * ACKs report, in their order). 6 adds the sender's half of SACK after those blocks: the
 * scoreboard of what the peer SACKed and HighRxt, so that a connection moved in the middle of
 * RFC 6675 recovery goes on with it. Versions 5 and 4 are still read: a version 5 connection
 * arrives with an empty scoreboard (as if the peer had sent no blocks yet; outside recovery
 * that is what it was, in recovery only the information is missing, which costs at most
 * retransmissions of octets the peer already has), a version 4 one without SACK.
 */
#include <string.h>

#include "handoff/assert.h"
#include "handoff/bytes.h"
#include "handoff/err.h"
#include "tcp_var.h"

#define TCPE_EXPORT_MAGIC   0x54435045u /* "TCPE" */
#define TCPE_EXPORT_VERSION 6u
#define TCPE_EXPORT_V5      5u /* before the SACK scoreboard */
#define TCPE_EXPORT_V4      4u /* before SACK */
#define NSTATS              (sizeof(struct tcpe_stats) / sizeof(uint64_t))
#define NONE                UINT64_MAX
#define MAX_DURATION        (24ull * 3600 * 1000000000ull) /* a day: no timer is longer */
#define MAX_OOO             1024u
#define CHAL_AGE_CAP        2000000000ull       /* 2 s: past the one-second budget window */
#define TS_AGE_CAP          (TCP_PAWS_IDLE + 1) /* TS.Recent older than 24 days: expired */

/* struct tcpe_stats as an array of counters, in declaration order (all are uint64_t). */
static void stats_get(const struct tcpe_stats *st, uint64_t v[NSTATS])
{
    memcpy(v, st, sizeof *st);
}

static void stats_set(struct tcpe_stats *st, const uint64_t v[NSTATS])
{
    memcpy(st, v, sizeof *st);
}

/* A timestamp as its age at now; NONE for "never". */
static uint64_t age_of(uint64_t t, bool valid, uint64_t now)
{
    if (!valid) {
        return NONE;
    }
    return t <= now ? now - t : 0;
}

static uint64_t time_from_age(uint64_t age, uint64_t now)
{
    return age <= now ? now - age : 0;
}

static void put_buf(struct ho_wr *w, const struct tcp_buf *b, bool virt)
{
    ho_wr_u32(w, b->len);
    if (!virt && b->len > 0) {
        /* The ring may wrap: write it as (at most) two runs. */
        uint32_t first = b->cap - b->head < b->len ? b->cap - b->head : b->len;
        ho_wr_bytes(w, b->data + b->head, first);
        ho_wr_bytes(w, b->data, b->len - first);
    }
}

/* The encoding's length: the fixed fields, then the buffers and the queue. Tests check it
 * against what tcpe_export writes. */
#define EXPORT_FIXED 228u

static size_t export_size(const struct tcpe_conn *c)
{
    bool virt = (c->t_flags & TF_VIRTUAL) != 0;
    size_t n = EXPORT_FIXED + 4 + 4 + 2 + 1 + 8 * NSTATS;
    if (!virt) {
        n += (size_t)c->snd.len + c->rcv.len;
    }
    for (const struct tcp_ooo *q = c->ooo; q != NULL; q = q->next) {
        n += 9 + (virt ? 0 : q->len);
    }
    return n + 1 + 8u * c->sack_nblks + 1 + 8u * c->sb_n + 4;
}

int tcpe_export(const struct tcpe_conn *c, uint64_t now, uint8_t *buf, size_t cap)
{
    if (!TCPE_CAN_EXPORT(c->state)) {
        return HO_ESTATE;
    }
    size_t size = export_size(c);
    if (size > INT32_MAX) {
        return HO_EMSGSIZE;
    }
    if (buf == NULL && cap == 0) {
        return (int)size;
    }
    bool virt = (c->t_flags & TF_VIRTUAL) != 0;
    struct ho_wr w;
    ho_wr_init(&w, buf, cap);
    ho_wr_u32(&w, TCPE_EXPORT_MAGIC);
    ho_wr_u16(&w, TCPE_EXPORT_VERSION);
    ho_wr_u32(&w, c->tuple.local_ip);
    ho_wr_u32(&w, c->tuple.remote_ip);
    ho_wr_u16(&w, c->tuple.local_port);
    ho_wr_u16(&w, c->tuple.remote_port);
    ho_wr_u8(&w, c->state);
    ho_wr_u32(&w, c->t_flags & TF_EXPORTED);
    /* send sequence space */
    ho_wr_u32(&w, c->iss);
    ho_wr_u32(&w, c->snd_una);
    ho_wr_u32(&w, c->snd_nxt);
    ho_wr_u32(&w, c->snd_max);
    ho_wr_u32(&w, c->snd_wl1);
    ho_wr_u32(&w, c->snd_wl2);
    ho_wr_u32(&w, c->snd_wnd);
    ho_wr_u32(&w, c->max_sndwnd);
    ho_wr_u8(&w, c->snd_wscale);
    ho_wr_u8(&w, c->rcv_wscale);
    ho_wr_u16(&w, c->t_maxseg);
    /* receive sequence space */
    ho_wr_u32(&w, c->irs);
    ho_wr_u32(&w, c->rcv_nxt);
    ho_wr_u32(&w, c->rcv_adv);
    ho_wr_u32(&w, c->last_ack_sent);
    /* congestion control */
    ho_wr_u32(&w, c->snd_cwnd);
    ho_wr_u32(&w, c->snd_ssthresh);
    ho_wr_u32(&w, c->snd_recover);
    ho_wr_u32(&w, c->bytes_acked);
    ho_wr_u32(&w, c->t_dupacks);
    ho_wr_u32(&w, c->snd_limited);
    /* round-trip timing */
    ho_wr_u64(&w, c->t_srtt);
    ho_wr_u64(&w, c->t_rttvar);
    ho_wr_u64(&w, c->t_rto);
    ho_wr_u32(&w, c->t_rtseq);
    ho_wr_u64(&w, age_of(c->t_rtstart, (c->t_flags & TF_RTTIMING) != 0, now));
    ho_wr_u8(&w, c->t_rxtshift);
    ho_wr_u8(&w, c->t_rxtcount);
    ho_wr_u8(&w, c->t_persist_shift);
    ho_wr_u8(&w, c->t_probes);
    ho_wr_u64(&w, age_of(c->t_rcvtime, true, now));
    ho_wr_u64(&w, age_of(c->t_sndtime, c->t_sndtime != 0, now));
    /* The challenge-ACK budget: the peer can observe it, so it moves too. Ages beyond the
     * budget's one-second window all mean the same and are capped. */
    uint64_t chal_age = age_of(c->chal_start, true, now);
    ho_wr_u64(&w, chal_age < CHAL_AGE_CAP ? chal_age : CHAL_AGE_CAP);
    ho_wr_u32(&w, c->chal_count);
    /* Timestamps: the connection's clock as it reads now (in ns, below its period), so the
     * importer continues it whatever its own clock says; TS.Recent; and its age, where all ages
     * past 24 days mean the same (expired) and are capped. Zero without timestamps. */
    if (c->t_flags & TF_TSTAMP) {
        uint64_t ts_age = age_of(c->ts_recent_time, true, now);
        ho_wr_u64(&w, (now % TCP_TS_PERIOD + c->ts_offset) % TCP_TS_PERIOD);
        ho_wr_u32(&w, c->ts_recent);
        ho_wr_u64(&w, ts_age < TS_AGE_CAP ? ts_age : TS_AGE_CAP);
    } else {
        ho_wr_u64(&w, 0);
        ho_wr_u32(&w, 0);
        ho_wr_u64(&w, 0);
    }
    /* timers, as remaining time */
    ho_wr_u8(&w, TCP_NTIMERS);
    for (int i = 0; i < TCP_NTIMERS; i++) {
        uint64_t t = c->t_timer[i];
        ho_wr_u64(&w, t == TCP_TIMER_OFF ? NONE : t > now ? t - now : 0);
    }
    /* buffers */
    ho_wr_u32(&w, c->sndbuf);
    ho_wr_u32(&w, c->rcvbuf);
    put_buf(&w, &c->snd, virt);
    put_buf(&w, &c->rcv, virt);
    ho_wr_u16(&w, (uint16_t)c->ooo_count);
    for (const struct tcp_ooo *q = c->ooo; q != NULL; q = q->next) {
        ho_wr_u32(&w, q->seq);
        ho_wr_u32(&w, q->len);
        ho_wr_u8(&w, q->fin ? 1 : 0);
        if (!virt) {
            ho_wr_bytes(&w, q->data, q->len);
        }
    }
    /* SACK blocks in the order our ACKs report them (a pending D-SACK never outlives the call
     * that found the duplicate, whose ACK reports it, so there is none to move) */
    ho_wr_u8(&w, c->sack_nblks);
    for (uint8_t i = 0; i < c->sack_nblks; i++) {
        ho_wr_u32(&w, c->sack_blks[i].start);
        ho_wr_u32(&w, c->sack_blks[i].end);
    }
    /* the SACK scoreboard, ascending, and HighRxt (SND.UNA outside SACK recovery, where it
     * means nothing) */
    ho_wr_u8(&w, c->sb_n);
    for (uint8_t i = 0; i < c->sb_n; i++) {
        ho_wr_u32(&w, c->sb[i].start);
        ho_wr_u32(&w, c->sb[i].end);
    }
    ho_wr_u32(&w, tcp_sb_recovering(c) ? c->high_rxt : c->snd_una);
    /* counters */
    uint64_t st[NSTATS];
    stats_get(&c->stats, st);
    ho_wr_u8(&w, (uint8_t)NSTATS);
    for (size_t i = 0; i < NSTATS; i++) {
        ho_wr_u64(&w, st[i]);
    }
    int err = ho_wr_error(&w);
    if (err < 0) {
        return err;
    }
    HO_ASSERT(w.len == size, "export wrote %zu octets, expected %zu", w.len, size);
    return (int)w.len;
}

void tcpe_detach(struct tcpe_conn *c)
{
    tcp_free_conn(c);
}

/* ---- import ---- */

static int get_buf(struct ho_rd *r, struct tcpe_conn *tp, struct tcp_buf *b, bool virt)
{
    uint32_t len = ho_rd_u32(r);
    if (ho_rd_error(r) < 0 || len > TCP_BUF_LIMIT) {
        return HO_EPROTO;
    }
    if (virt) {
        return tcp_buf_append(b, &tp->stack->alloc, NULL, len);
    }
    if (len > ho_rd_left(r)) {
        return HO_EMSGSIZE;
    }
    int err = tcp_buf_append(b, &tp->stack->alloc, r->buf + r->pos, len);
    ho_rd_bytes(r, NULL, len);
    return err;
}

static int get_ooo(struct ho_rd *r, struct tcpe_conn *tp, bool virt)
{
    uint16_t n = ho_rd_u16(r);
    if (n > MAX_OOO) {
        return HO_EPROTO;
    }
    uint32_t last_end = tp->rcv_nxt;
    struct tcp_ooo **link = &tp->ooo;
    for (uint16_t i = 0; i < n; i++) {
        uint32_t seq = ho_rd_u32(r);
        uint32_t len = ho_rd_u32(r);
        uint8_t fin = ho_rd_u8(r);
        if (ho_rd_error(r) < 0) {
            return HO_EMSGSIZE;
        }
        /* Ascending, disjoint, strictly beyond RCV.NXT, nothing past a FIN, and within a
         * buffer's reach: once the hole fills, the unread data and the segment together fit the
         * largest buffer. */
        if (fin > 1 || (len == 0 && !fin) || SEQ_LEQ(seq, tp->rcv_nxt) || SEQ_LT(seq, last_end) ||
            len > TCP_BUF_LIMIT ||
            (uint64_t)tp->rcv.len + (uint32_t)(seq + len - tp->rcv_nxt) > TCP_BUF_LIMIT) {
            return HO_EPROTO;
        }
        if (!virt && len > ho_rd_left(r)) {
            return HO_EMSGSIZE;
        }
        struct tcp_ooo *q = tcp_malloc(tp->stack, sizeof *q + (virt ? 0 : len));
        if (q == NULL) {
            return HO_ENOMEM;
        }
        q->next = NULL;
        q->seq = seq;
        q->len = len;
        q->fin = fin != 0;
        ho_rd_bytes(r, virt ? NULL : q->data, virt ? 0 : len);
        *link = q;
        link = &q->next;
        tp->ooo_count++;
        last_end = seq + len;
        if (fin && i + 1 < n) {
            return HO_EPROTO;
        }
    }
    return HO_OK;
}

/* The SACK blocks (version 5): at most TCP_SACK_BLKS, only with TF_SACK, each a non-empty range
 * inside one run of the out-of-order queue (so above RCV.NXT), none overlapping another. */
static int get_sack(struct ho_rd *r, struct tcpe_conn *tp)
{
    uint8_t n = ho_rd_u8(r);
    if (ho_rd_error(r) < 0) {
        return HO_EMSGSIZE;
    }
    if (n > TCP_SACK_BLKS || (n > 0 && !(tp->t_flags & TF_SACK))) {
        return HO_EPROTO;
    }
    for (uint8_t i = 0; i < n; i++) {
        struct tcpe_sack_block b;
        b.start = ho_rd_u32(r); /* two statements: an initializer list's order is unspecified */
        b.end = ho_rd_u32(r);
        if (ho_rd_error(r) < 0) {
            return HO_EMSGSIZE;
        }
        uint32_t start, end;
        if (!SEQ_LT(b.start, b.end) || !tcp_reass_block(tp, b.start, &start, &end) ||
            SEQ_GT(b.end, end)) {
            return HO_EPROTO;
        }
        for (uint8_t j = 0; j < i; j++) {
            if (SEQ_LT(b.start, tp->sack_blks[j].end) && SEQ_LT(tp->sack_blks[j].start, b.end)) {
                return HO_EPROTO;
            }
        }
        tp->sack_blks[i] = b;
    }
    tp->sack_nblks = n;
    return HO_OK;
}

/* The scoreboard (version 6): checked with the rest by consistent(), once SND.UNA and SND.MAX
 * are known to agree with the buffer. */
static int get_scoreboard(struct ho_rd *r, struct tcpe_conn *tp)
{
    uint8_t n = ho_rd_u8(r);
    if (ho_rd_error(r) < 0) {
        return HO_EMSGSIZE;
    }
    if (n > TCP_SB_MAX) {
        return HO_EPROTO;
    }
    for (uint8_t i = 0; i < n; i++) {
        tp->sb[i].start = ho_rd_u32(r); /* two statements: the order of reads matters */
        tp->sb[i].end = ho_rd_u32(r);
    }
    tp->sb_n = n;
    tp->high_rxt = ho_rd_u32(r);
    return ho_rd_error(r) < 0 ? HO_EMSGSIZE : HO_OK;
}

/* Do the decoded variables describe a connection the engine could have built? */
static bool consistent(const struct tcpe_conn *tp)
{
    uint32_t f = tp->t_flags;
    bool needfin = (f & TF_NEEDFIN) != 0;
    bool sentfin = (f & TF_SENTFIN) != 0;
    uint32_t fin = sentfin ? 1 : 0;
    switch (tp->state) {
    case TCPE_ESTABLISHED:
    case TCPE_CLOSE_WAIT:
        if (needfin) {
            return false;
        }
        break;
    case TCPE_FIN_WAIT_2:
        if (!sentfin || tp->snd_una != tp->snd_max || tp->snd.len != 0) {
            return false;
        }
        break;
    default: /* FIN_WAIT_1, CLOSING, LAST_ACK */
        if (!needfin) {
            return false;
        }
        break;
    }
    if ((sentfin && !needfin) || (TCPE_HAVE_RCVD_FIN(tp->state) != ((f & TF_GOTFIN) != 0))) {
        return false;
    }
    if (!SEQ_LEQ(tp->snd_una, tp->snd_nxt) || !SEQ_LEQ(tp->snd_nxt, tp->snd_max) ||
        tp->snd_max - tp->snd_una > tp->snd.len + fin) {
        return false;
    }
    /* An unsent FIN cannot be covered by SND.MAX. */
    if (!sentfin && tp->snd_max - tp->snd_una > tp->snd.len) {
        return false;
    }
    /* A sent FIN is the last sequence number: acknowledged only in FIN_WAIT_2 (checked above). */
    if (sentfin && tp->state != TCPE_FIN_WAIT_2 && tp->snd_max - tp->snd_una != tp->snd.len + 1) {
        return false;
    }
    /* With timestamps the segment is 12 octets shorter, and every ACK is timed by its echo. */
    uint32_t ts_len = (f & TF_TSTAMP) ? TCP_TS_OPTLEN : 0;
    if (tp->snd_wscale > TCP_MAX_WSCALE || tp->rcv_wscale > TCP_MAX_WSCALE ||
        tp->t_maxseg < TCP_MSS_MIN - ts_len || tp->t_maxseg > TCP_MSS_MAX - ts_len ||
        ((f & TF_TSTAMP) && (f & TF_RTTIMING))) {
        return false;
    }
    if (tp->snd_wnd > (uint32_t)TCP_MAXWIN << tp->snd_wscale || tp->snd_cwnd == 0 ||
        tp->snd_ssthresh == 0) {
        return false;
    }
    /* Limited transmit sends at most two segments, all still in flight, and only between the
     * first duplicate ACK and fast retransmit. */
    if (tp->snd_limited > 0 &&
        (!(f & TF_LIMITED) || tp->t_dupacks == 0 || (f & TF_RECOVERY) ||
         tp->snd_limited > 2u * tp->t_maxseg || tp->snd_limited > tp->snd_max - tp->snd_una)) {
        return false;
    }
    /* The window offered and the unread data together fit the largest buffer: the engine
     * never offers more than the free space, so the buffer can never outgrow the limit. */
    int32_t adv = SEQ_DIFF(tp->rcv_adv, tp->rcv_nxt);
    if (adv < -1 || (uint64_t)tp->rcv.len + (adv > 0 ? (uint32_t)adv : 0) > TCP_BUF_LIMIT) {
        return false;
    }
    if (tp->sndbuf == 0 || tp->sndbuf > TCP_BUF_LIMIT || tp->rcvbuf == 0 ||
        tp->rcvbuf > TCP_BUF_LIMIT) {
        return false;
    }
    if (tp->t_rto == 0 || tp->t_rto > MAX_DURATION || tp->t_srtt > MAX_DURATION ||
        tp->t_rttvar > MAX_DURATION || tp->t_rxtshift > TCP_MAX_RXTSHIFT ||
        tp->t_rxtcount > tp->t_rxtshift || tp->t_probes > 64 ||
        tp->t_persist_shift > TCP_MAX_BACKOFF) {
        return false;
    }
    if (tcp_timer_on(tp, TCP_T_REXMT) && tcp_timer_on(tp, TCP_T_PERSIST)) {
        return false;
    }
    if (tcp_timer_on(tp, TCP_T_2MSL) && tp->state != TCPE_FIN_WAIT_2) {
        return false;
    }
    return tcp_sb_valid(tp);
}

int tcpe_import(struct tcpe_stack *s, const uint8_t *buf, size_t len, uint64_t now,
                struct tcpe_conn **out)
{
    *out = NULL;
    struct ho_rd r;
    ho_rd_init(&r, buf, len);
    if (ho_rd_u32(&r) != TCPE_EXPORT_MAGIC) {
        return ho_rd_error(&r) < 0 ? HO_EMSGSIZE : HO_EPROTO;
    }
    uint16_t version = ho_rd_u16(&r);
    if (ho_rd_error(&r) < 0) {
        return HO_EMSGSIZE;
    }
    if (version != TCPE_EXPORT_VERSION && version != TCPE_EXPORT_V5 && version != TCPE_EXPORT_V4) {
        return HO_EVERSION;
    }
    uint32_t exported = version == TCPE_EXPORT_V4 ? TF_EXPORTED & ~(uint32_t)TF_SACK : TF_EXPORTED;
    struct tcpe_tuple t;
    t.local_ip = ho_rd_u32(&r);
    t.remote_ip = ho_rd_u32(&r);
    t.local_port = ho_rd_u16(&r);
    t.remote_port = ho_rd_u16(&r);
    uint8_t state = ho_rd_u8(&r);
    uint32_t flags = ho_rd_u32(&r);
    if (ho_rd_error(&r) < 0) {
        return HO_EMSGSIZE;
    }
    if (!TCPE_CAN_EXPORT(state) || (flags & ~exported) != 0 || t.local_port == 0 ||
        t.remote_port == 0) {
        return HO_EPROTO;
    }
    if (tcp_hash_find(s, &t) != NULL) {
        return HO_EEXIST;
    }
    struct tcpe_conn *tp = tcp_conn_new(s, &t);
    if (tp == NULL) {
        return HO_ENOMEM;
    }
    tp->state = state; /* arrives in its state: there is no transition to trace */
    tp->t_flags = flags;
    bool virt = (flags & TF_VIRTUAL) != 0;

    tp->iss = ho_rd_u32(&r);
    tp->snd_una = ho_rd_u32(&r);
    tp->snd_nxt = ho_rd_u32(&r);
    tp->snd_max = ho_rd_u32(&r);
    tp->snd_wl1 = ho_rd_u32(&r);
    tp->snd_wl2 = ho_rd_u32(&r);
    tp->snd_wnd = ho_rd_u32(&r);
    tp->max_sndwnd = ho_rd_u32(&r);
    tp->snd_wscale = ho_rd_u8(&r);
    tp->rcv_wscale = ho_rd_u8(&r);
    tp->t_maxseg = ho_rd_u16(&r);
    tp->irs = ho_rd_u32(&r);
    tp->rcv_nxt = ho_rd_u32(&r);
    tp->rcv_adv = ho_rd_u32(&r);
    tp->last_ack_sent = ho_rd_u32(&r);
    tp->snd_cwnd = ho_rd_u32(&r);
    tp->snd_ssthresh = ho_rd_u32(&r);
    tp->snd_recover = ho_rd_u32(&r);
    tp->bytes_acked = ho_rd_u32(&r);
    tp->t_dupacks = ho_rd_u32(&r);
    tp->snd_limited = ho_rd_u32(&r);
    tp->t_srtt = ho_rd_u64(&r);
    tp->t_rttvar = ho_rd_u64(&r);
    tp->t_rto = ho_rd_u64(&r);
    tp->t_rtseq = ho_rd_u32(&r);
    uint64_t rtt_age = ho_rd_u64(&r);
    tp->t_rxtshift = ho_rd_u8(&r);
    tp->t_rxtcount = ho_rd_u8(&r);
    tp->t_persist_shift = ho_rd_u8(&r);
    tp->t_probes = ho_rd_u8(&r);
    uint64_t rcv_age = ho_rd_u64(&r);
    uint64_t snd_age = ho_rd_u64(&r);
    uint64_t chal_age = ho_rd_u64(&r);
    tp->chal_count = ho_rd_u32(&r);
    uint64_t ts_clock = ho_rd_u64(&r);
    tp->ts_recent = ho_rd_u32(&r);
    uint64_t ts_age = ho_rd_u64(&r);
    uint8_t ntimers = ho_rd_u8(&r);
    int err = HO_OK;
    if (ho_rd_error(&r) < 0) {
        err = HO_EMSGSIZE;
        goto fail;
    }
    if (ntimers != TCP_NTIMERS || ((flags & TF_RTTIMING) != 0) != (rtt_age != NONE) ||
        (rtt_age != NONE && rtt_age > MAX_DURATION) || rcv_age == NONE ||
        (snd_age != NONE && snd_age > MAX_DURATION) || chal_age > CHAL_AGE_CAP) {
        err = HO_EPROTO;
        goto fail;
    }
    bool ts = (flags & TF_TSTAMP) != 0;
    if (ts ? ts_clock >= TCP_TS_PERIOD || ts_age > TS_AGE_CAP
           : ts_clock != 0 || tp->ts_recent != 0 || ts_age != 0) {
        err = HO_EPROTO;
        goto fail;
    }
    uint64_t remaining[TCP_NTIMERS];
    for (int i = 0; i < TCP_NTIMERS; i++) {
        remaining[i] = ho_rd_u64(&r);
        if (remaining[i] != NONE && remaining[i] > MAX_DURATION) {
            err = HO_EPROTO;
            goto fail;
        }
    }
    tp->sndbuf = ho_rd_u32(&r);
    tp->rcvbuf = ho_rd_u32(&r);
    if ((err = get_buf(&r, tp, &tp->snd, virt)) < 0 ||
        (err = get_buf(&r, tp, &tp->rcv, virt)) < 0 || (err = get_ooo(&r, tp, virt)) < 0 ||
        (version != TCPE_EXPORT_V4 && (err = get_sack(&r, tp)) < 0) ||
        (version == TCPE_EXPORT_VERSION && (err = get_scoreboard(&r, tp)) < 0)) {
        goto fail;
    }
    uint8_t nstats = ho_rd_u8(&r);
    if (nstats != NSTATS) {
        err = ho_rd_error(&r) < 0 ? HO_EMSGSIZE : HO_EPROTO;
        goto fail;
    }
    uint64_t st[NSTATS];
    for (size_t i = 0; i < NSTATS; i++) {
        st[i] = ho_rd_u64(&r);
    }
    if (ho_rd_error(&r) < 0) {
        err = HO_EMSGSIZE;
        goto fail;
    }
    if (ho_rd_left(&r) != 0) {
        err = HO_EPROTO;
        goto fail;
    }
    stats_set(&tp->stats, st);
    if (version != TCPE_EXPORT_VERSION) {
        tp->high_rxt = tp->snd_una; /* and an empty scoreboard */
    }

    /* Times against the importer's clock (timers are set only once the TCB is accepted). */
    tp->t_rtstart = rtt_age != NONE ? time_from_age(rtt_age, now) : 0;
    tp->t_rcvtime = time_from_age(rcv_age, now);
    tp->t_sndtime = snd_age != NONE ? time_from_age(snd_age, now) : 0;
    tp->chal_start = time_from_age(chal_age, now);
    if (ts) {
        tp->ts_offset = (ts_clock + TCP_TS_PERIOD - now % TCP_TS_PERIOD) % TCP_TS_PERIOD;
        tp->ts_recent_time = time_from_age(ts_age, now);
    } else {
        tp->ts_offset = 0;
        tp->ts_recent_time = 0;
    }
    for (int i = 0; i < TCP_NTIMERS; i++) {
        tp->t_timer[i] = remaining[i] == NONE ? TCP_TIMER_OFF : now + remaining[i];
    }
    if (!consistent(tp)) {
        for (int i = 0; i < TCP_NTIMERS; i++) {
            tp->t_timer[i] = TCP_TIMER_OFF;
        }
        err = HO_EPROTO;
        goto fail;
    }
    tcp_heap_update(tp);
    (void)tcp_hash_insert(tp); /* cannot fail: looked up above, nothing added since */
    *out = tp;
    return HO_OK;

fail:
    tcp_free_conn(tp);
    return err;
}
