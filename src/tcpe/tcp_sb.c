/*
 * tcp_sb.c - selective acknowledgment, the sender's half: a scoreboard of the octets the peer's
 * SACK blocks report (RFC 2018), and loss recovery by RFC 6675 on top of it.
 *
 * Called by the ACK step (tcp_in.c): tcp_sb_update with the blocks of every acceptable ACK,
 * after its cumulative acknowledgment was taken; tcp_sb_prune when SND.UNA advances;
 * tcp_sb_lost_una and tcp_sb_enter to start recovery. By tcp_output, which hands a connection in
 * SACK recovery to tcp_sb_output (NextSeg while cwnd - pipe >= 1 SMSS). By the retransmission
 * timer and tcpe_conn_resync (tcp_sb_clear), and by import (tcp_sb_valid). Nothing here acts on a
 * connection without TF_SACK: NewReno (tcp_in.c) is then the whole story, unchanged.
 *
 * The scoreboard is a fixed array of at most TCP_SB_MAX (8) ranges, ascending, disjoint and not
 * touching, each non-empty and inside (SND.UNA, SND.MAX]. Its memory is bounded whatever the peer
 * sends: a block that would make a ninth range is merged in, and then the highest range goes.
 * The highest, because forgetting that octets were SACKed is always safe (they count as in
 * flight, or are sent again: the peer's data is kept until it is acknowledged cumulatively,
 * RFC 2018 8), and the lowest ranges are the ones recovery acts on first: they bound the holes
 * at SND.UNA that NextSeg repairs and IsLost judges. Declining the new block instead would keep
 * stale high ranges and lose the recent information about low holes; and eight ranges bound
 * seven holes, more than four-block ACKs (three beside timestamps) usually describe at once, so
 * an honest peer rarely reaches the bound. A hostile peer gains nothing either way: every block
 * is checked against SND.UNA and SND.MAX, and one that lies (SACKs octets it does not have)
 * only delays their retransmission until the timeout, which clears the scoreboard (RFC 6675
 * 5.1: treated as reneging).
 *
 * A hole is a gap between SND.UNA, the ranges and SND.MAX. Every unSACKed octet of one hole has
 * the same ranges above it, so IsLost is a property of the hole, and a monotone one: when a hole
 * is lost, so is every hole below it. SetPipe and NextSeg therefore walk the holes, never octets.
 * The FIN, when sent, is the last sequence number and counts as one octet, as the RFC's
 * sequence-space arithmetic has it.
 *
 * Recovery uses TF_RECOVERY and snd_recover (RecoveryPoint, one past HighData) as NewReno does,
 * and high_rxt (one past HighRxt). cwnd is ssthresh for the whole recovery: no inflation, no
 * deflation, pipe does that work. NextSeg rule 4 (the rescue retransmission, a MAY) is not done:
 * a tail loss with nothing SACKed above it waits for the retransmission timeout, as without it.
 */
#include <string.h>

#include "handoff/assert.h"
#include "tcp_var.h"

bool tcp_sb_recovering(const struct tcpe_conn *tp)
{
    return (tp->t_flags & (TF_SACK | TF_RECOVERY)) == (TF_SACK | TF_RECOVERY);
}

/* ---- the scoreboard ---- */

/* Offsets from SND.UNA order every sequence number the scoreboard holds (all in (SND.UNA,
 * SND.MAX], less than 2^31 apart) as plain integers. */
static uint32_t sb_off(const struct tcpe_conn *tp, uint32_t seq)
{
    return seq - tp->snd_una;
}

void tcp_sb_clear(struct tcpe_conn *tp)
{
    tp->sb_n = 0;
    tp->high_rxt = tp->snd_una;
}

/* SND.UNA advanced: ranges it reached go. One it entered without passing goes whole: the peer
 * acknowledged part of what it had SACKed and not the rest, which only reneging explains. */
void tcp_sb_prune(struct tcpe_conn *tp)
{
    uint8_t n = 0;
    for (uint8_t i = 0; i < tp->sb_n; i++) {
        if (SEQ_GT(tp->sb[i].start, tp->snd_una)) {
            tp->sb[n++] = tp->sb[i];
        }
    }
    tp->sb_n = n;
    if (SEQ_LT(tp->high_rxt, tp->snd_una)) {
        tp->high_rxt = tp->snd_una;
    }
}

/* Is [start, end) (offsets) inside one range already? */
static bool sb_covered(const struct tcpe_conn *tp, uint32_t start, uint32_t end)
{
    for (uint8_t i = 0; i < tp->sb_n; i++) {
        if (sb_off(tp, tp->sb[i].start) <= start && end <= sb_off(tp, tp->sb[i].end)) {
            return true;
        }
    }
    return false;
}

/* Merges [start, end) (offsets, start < end) into the scoreboard with every range it overlaps
 * or touches; if that leaves TCP_SB_MAX + 1 ranges, the highest goes. */
static void sb_merge(struct tcpe_conn *tp, uint32_t start, uint32_t end)
{
    struct tcpe_sack_block out[TCP_SB_MAX + 1]; /* offsets until copied back */
    uint8_t n = 0;
    bool placed = false;
    for (uint8_t i = 0; i < tp->sb_n; i++) {
        uint32_t s = sb_off(tp, tp->sb[i].start);
        uint32_t e = sb_off(tp, tp->sb[i].end);
        if (e < start) {
            out[n++] = (struct tcpe_sack_block){s, e};
        } else if (s > end) {
            if (!placed) {
                out[n++] = (struct tcpe_sack_block){start, end};
                placed = true;
            }
            out[n++] = (struct tcpe_sack_block){s, e};
        } else {
            start = s < start ? s : start;
            end = e > end ? e : end;
        }
    }
    if (!placed) {
        out[n++] = (struct tcpe_sack_block){start, end};
    }
    if (n > TCP_SB_MAX) {
        n = TCP_SB_MAX;
    }
    for (uint8_t i = 0; i < n; i++) {
        tp->sb[i].start = tp->snd_una + out[i].start;
        tp->sb[i].end = tp->snd_una + out[i].end;
    }
    tp->sb_n = n;
}

/* Could the block be true: non-empty, within (SND.UNA, SND.MAX]? */
static bool sb_block_ok(const struct tcpe_conn *tp, const struct tcpe_sack_block *b)
{
    return SEQ_LT(b->start, b->end) && SEQ_GT(b->start, tp->snd_una) &&
           SEQ_LEQ(b->end, tp->snd_max);
}

/* RFC 2883 4: a non-empty first block reports a duplicate when it lies at or below the
 * cumulative acknowledgment, or inside the second block (which must be one that could be true:
 * two nonsense blocks are no D-SACK). */
static bool sb_is_dsack(const struct tcpe_conn *tp, const struct tcpe_sack_block *blk, uint8_t n,
                        uint32_t ack)
{
    if (!SEQ_LT(blk[0].start, blk[0].end)) {
        return false;
    }
    if (SEQ_LEQ(blk[0].end, ack)) {
        return true;
    }
    return n > 1 && sb_block_ok(tp, &blk[1]) && SEQ_LEQ(blk[1].start, blk[0].start) &&
           SEQ_LEQ(blk[0].end, blk[1].end);
}

/*
 * RFC 6675 Update(): the blocks of an acceptable ACK, whose cumulative acknowledgment (ack) was
 * already taken. A D-SACK block is no news about what arrived and is skipped. A block counts only
 * if it is non-empty and lies within (SND.UNA, SND.MAX]: anything else (wrong, stale, beyond
 * what was sent, spanning half the sequence space) is ignored, and an ACK with nothing but such
 * blocks is as one without any. Returns what the blocks told: a duplicate ACK counts only if it
 * SACKs octets for the first time (RFC 6675 2), or carries no usable SACK information at all.
 */
enum tcp_sb_news tcp_sb_update(struct tcpe_conn *tp, const struct tcpe_sack_block *blk, uint8_t n,
                               uint32_t ack)
{
    if (!(tp->t_flags & TF_SACK) || n == 0) {
        return TCP_SB_NOINFO;
    }
    enum tcp_sb_news news = TCP_SB_NOINFO;
    uint8_t first = 0;
    if (sb_is_dsack(tp, blk, n, ack)) {
        news = TCP_SB_OLD;
        first = 1;
    }
    for (uint8_t i = first; i < n; i++) {
        if (!sb_block_ok(tp, &blk[i])) {
            continue;
        }
        uint32_t start = sb_off(tp, blk[i].start);
        uint32_t end = sb_off(tp, blk[i].end);
        if (sb_covered(tp, start, end)) {
            news = news == TCP_SB_NEW ? TCP_SB_NEW : TCP_SB_OLD;
        } else {
            news = TCP_SB_NEW;
            sb_merge(tp, start, end);
        }
    }
    return news;
}

/* Does the encoding's scoreboard (import) fit the connection? At most TCP_SB_MAX ranges, none
 * without SACK, each non-empty inside (SND.UNA, SND.MAX], ascending with a gap between; and
 * HighRxt within [SND.UNA, SND.MAX], at SND.UNA outside SACK recovery. */
bool tcp_sb_valid(const struct tcpe_conn *tp)
{
    if (tp->sb_n > TCP_SB_MAX || (tp->sb_n > 0 && !(tp->t_flags & TF_SACK))) {
        return false;
    }
    uint32_t flight = tp->snd_max - tp->snd_una;
    uint32_t last = 0;
    for (uint8_t i = 0; i < tp->sb_n; i++) {
        uint32_t s = sb_off(tp, tp->sb[i].start);
        uint32_t e = sb_off(tp, tp->sb[i].end);
        if (s <= last || e <= s || e > flight) {
            return false;
        }
        last = e;
    }
    if (!tcp_sb_recovering(tp)) {
        return tp->high_rxt == tp->snd_una;
    }
    return sb_off(tp, tp->high_rxt) <= flight;
}

/* ---- holes, IsLost, SetPipe ---- */

/* Hole i (0 .. sb_n) as offsets: below range i, or above the last one. */
static void sb_hole(const struct tcpe_conn *tp, uint8_t i, uint32_t *start, uint32_t *end)
{
    *start = i == 0 ? 0 : sb_off(tp, tp->sb[i - 1].end);
    *end = i < tp->sb_n ? sb_off(tp, tp->sb[i].start) : tp->snd_max - tp->snd_una;
}

/* RFC 6675 IsLost() for the octets of hole i: DupThresh discontiguous SACKed ranges above them,
 * or more than (DupThresh - 1) * SMSS SACKed octets. */
static bool sb_hole_lost(const struct tcpe_conn *tp, uint8_t i)
{
    if (tp->sb_n - i >= (int)TCP_DUPTHRESH) {
        return true;
    }
    uint64_t sacked = 0;
    for (uint8_t j = i; j < tp->sb_n; j++) {
        sacked += tp->sb[j].end - tp->sb[j].start;
    }
    return sacked > (uint64_t)(TCP_DUPTHRESH - 1) * tp->t_maxseg;
}

/* IsLost(SND.UNA): SND.UNA is always in hole 0. */
bool tcp_sb_lost_una(const struct tcpe_conn *tp)
{
    return (tp->t_flags & TF_SACK) && tp->sb_n > 0 && sb_hole_lost(tp, 0);
}

/* RFC 6675 SetPipe(): every unSACKed octet not yet deemed lost is in flight, and so is every
 * retransmission of this recovery (octets below HighRxt) once more. */
uint32_t tcp_sb_pipe(const struct tcpe_conn *tp)
{
    uint32_t rxt = sb_off(tp, tp->high_rxt);
    uint64_t pipe = 0;
    for (uint8_t i = 0; i <= tp->sb_n; i++) {
        uint32_t start, end;
        sb_hole(tp, i, &start, &end);
        if (!sb_hole_lost(tp, i)) {
            pipe += end - start;
        }
        if (start < rxt) {
            pipe += (rxt < end ? rxt : end) - start;
        }
    }
    return pipe < UINT32_MAX ? (uint32_t)pipe : UINT32_MAX;
}

/* ---- NextSeg and sending ---- */

enum sb_rule {
    SB_NONE = 0,
    SB_LOST = 1,   /* rule 1: a lost hole above HighRxt */
    SB_NEW = 2,    /* rule 2: data never sent */
    SB_UNSURE = 3, /* rule 3: a hole above HighRxt that is not (yet) deemed lost */
};

/* Is there data never sent (or an unsent FIN) that the peer's window takes? */
static bool sb_new_data(const struct tcpe_conn *tp)
{
    uint32_t sent = tp->snd_max - tp->snd_una;
    bool unsent = tp->snd.len > sent || ((tp->t_flags & TF_NEEDFIN) && !(tp->t_flags & TF_SENTFIN));
    return unsent && tp->snd_wnd > sent;
}

/* RFC 6675 NextSeg() without rule 4: what to send next, as [*seq, *seq + *limit). The lowest
 * unSACKed octet at or above HighRxt and below the highest SACKed octet is a rule-1 candidate
 * when its hole is lost, a rule-3 one otherwise; since lost holes lie below the others, the
 * first such hole decides for all. */
static enum sb_rule sb_next_seg(const struct tcpe_conn *tp, uint32_t *seq, uint32_t *limit)
{
    uint32_t rxt = sb_off(tp, tp->high_rxt);
    bool found = false;
    bool lost = false;
    uint32_t start = 0, end = 0;
    for (uint8_t i = 0; i < tp->sb_n && !found; i++) {
        sb_hole(tp, i, &start, &end);
        if (end > rxt) {
            found = true;
            lost = sb_hole_lost(tp, i);
            start = start > rxt ? start : rxt;
        }
    }
    if (found && lost) {
        *seq = tp->snd_una + start;
        *limit = end - start;
        return SB_LOST;
    }
    if (sb_new_data(tp)) {
        *seq = tp->snd_max;
        *limit = tp->t_maxseg;
        return SB_NEW;
    }
    if (found) {
        *seq = tp->snd_una + start;
        *limit = end - start;
        return SB_UNSURE;
    }
    return SB_NONE;
}

/*
 * RFC 6675 step (C): while cwnd - pipe >= 1 SMSS, send what NextSeg names, one segment at a
 * time, raising HighRxt over what was retransmitted (C.2) and pipe by what was sent (C.4);
 * then an ACK or a FIN still owed. Output refuses a segment, or Nagle holds new data back: stop.
 */
void tcp_sb_output(struct tcpe_conn *tp, uint64_t now)
{
    HO_ASSERT(tcp_sb_recovering(tp), "SACK output outside SACK recovery");
    uint64_t pipe = tcp_sb_pipe(tp);
    tp->snd_nxt = tp->snd_max;
    while (pipe + tp->t_maxseg <= tp->snd_cwnd && tp->state != TCPE_CLOSED) {
        uint32_t seq, limit;
        enum sb_rule rule = sb_next_seg(tp, &seq, &limit);
        if (rule == SB_NONE) {
            break;
        }
        uint32_t sent = tcp_output_at(tp, seq, limit, now);
        if (sent == 0) {
            break;
        }
        if (rule != SB_NEW && SEQ_GT(seq + sent, tp->high_rxt)) {
            tp->high_rxt = seq + sent;
        }
        pipe += sent;
    }
    (void)tcp_output_at(tp, tp->snd_max, 0, now);
}

/*
 * RFC 6675 steps (4.1)-(4.4), once the caller has set RecoveryPoint and ssthresh: cwnd becomes
 * ssthresh, and the segment at SND.UNA goes at once, whatever pipe says, up to the first SACKed
 * range; HighRxt is its end. Step (C) follows in the output that ends the ACK's processing.
 */
void tcp_sb_enter(struct tcpe_conn *tp, uint64_t now)
{
    tp->snd_cwnd = tp->snd_ssthresh;
    tp->high_rxt = tp->snd_una;
    tp->snd_nxt = tp->snd_max;
    uint32_t start, end;
    sb_hole(tp, 0, &start, &end);
    uint32_t sent = tcp_output_at(tp, tp->snd_una, end, now);
    tp->high_rxt = tp->snd_una + sent;
}
