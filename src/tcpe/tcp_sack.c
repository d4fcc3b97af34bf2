/*
 * tcp_sack.c - selective acknowledgment, the receiver's half (RFC 2018, RFC 2883): which blocks
 * of out-of-order data our ACKs report, and in which order.
 *
 * Called by the input steps (tcp_in.c) when a segment is queued out of order (tcp_sack_arrived),
 * when RCV.NXT advances (tcp_sack_prune) and when octets arrive a second time
 * (tcp_sack_duplicate); and by tcp_output when it sizes and builds a segment (tcp_sack_optlen,
 * tcp_sack_fill). Everything here is a no-op on a connection without TF_SACK.
 *
 * The out-of-order queue (tcp_reass.c) is the truth about what arrived; the TCB keeps the order
 * RFC 2018 section 4 asks for: first the block holding the segment that arrived last, then the
 * blocks reported most recently, so that a block whose ACK was lost is repeated in the next ones.
 * A kept block is a run of the queue as it stood when the block was reported. The queue only
 * grows until RCV.NXT takes its head, so a kept block is either still a whole run, or inside a
 * larger run that a later arrival made the first block (and then the kept one is dropped), or at
 * or below RCV.NXT (and then pruned). Places left free are given to runs not reported lately,
 * lowest first, so that every ACK reports as many distinct blocks as it can (RFC 2018 4).
 *
 * A duplicate (RFC 2883 section 4) is reported once, in a D-SACK block ahead of the others; when
 * it lies above RCV.NXT the run holding it is the next block, because the segment that brought
 * the duplicate is the one that arrived last.
 */
#include <string.h>

#include "tcp_var.h"

static bool sack_overlap(const struct tcpe_sack_block *a, const struct tcpe_sack_block *b)
{
    return SEQ_LT(a->start, b->end) && SEQ_LT(b->start, a->end);
}

/* Fills the places left after kept[0..n) with the queue's other runs, lowest first. */
static uint8_t sack_add_runs(const struct tcpe_conn *tp, struct tcpe_sack_block *kept, uint8_t n)
{
    const struct tcp_ooo *q = tp->ooo;
    while (q != NULL && n < TCP_SACK_BLKS) {
        struct tcpe_sack_block run = {q->seq, q->seq + q->len};
        for (q = q->next; q != NULL && q->seq == run.end; q = q->next) {
            run.end = q->seq + q->len;
        }
        bool reported = run.start == run.end;
        for (uint8_t i = 0; i < n && !reported; i++) {
            reported = sack_overlap(&kept[i], &run);
        }
        if (!reported) {
            kept[n++] = run;
        }
    }
    return n;
}

/* A segment starting at seq was queued out of order (or found already queued): the run that
 * now holds seq goes first, and the kept blocks it swallowed go. */
void tcp_sack_arrived(struct tcpe_conn *tp, uint32_t seq)
{
    struct tcpe_sack_block head;
    if (!(tp->t_flags & TF_SACK) || !tcp_reass_block(tp, seq, &head.start, &head.end)) {
        return; /* nothing of it was queued (the queue was full, or it was a bare FIN) */
    }
    struct tcpe_sack_block kept[TCP_SACK_BLKS];
    uint8_t n = 0;
    kept[n++] = head;
    for (uint8_t i = 0; i < tp->sack_nblks && n < TCP_SACK_BLKS; i++) {
        if (!sack_overlap(&tp->sack_blks[i], &head)) {
            kept[n++] = tp->sack_blks[i];
        }
    }
    n = sack_add_runs(tp, kept, n);
    memcpy(tp->sack_blks, kept, n * sizeof kept[0]);
    tp->sack_nblks = n;
}

/* RCV.NXT advanced: blocks it reached are no longer out of order. */
void tcp_sack_prune(struct tcpe_conn *tp)
{
    if (!(tp->t_flags & TF_SACK)) {
        return; /* no blocks to keep: none are reported */
    }
    uint8_t n = 0;
    for (uint8_t i = 0; i < tp->sack_nblks; i++) {
        struct tcpe_sack_block b = tp->sack_blks[i];
        if (tp->ooo == NULL || SEQ_LEQ(b.end, tp->rcv_nxt)) {
            continue;
        }
        if (SEQ_LT(b.start, tp->rcv_nxt)) {
            b.start = tp->rcv_nxt;
        }
        tp->sack_blks[n++] = b;
    }
    tp->sack_nblks = sack_add_runs(tp, tp->sack_blks, n);
}

/* Octets [start, end) arrived a second time: the next ACK reports them first (RFC 2883 4). The
 * latest duplicate is the one reported: it is the one that triggers the ACK. */
void tcp_sack_duplicate(struct tcpe_conn *tp, uint32_t start, uint32_t end)
{
    if ((tp->t_flags & TF_SACK) && SEQ_LT(start, end)) {
        tp->dsack.start = start;
        tp->dsack.end = end;
        tp->dsack_pending = true;
    }
}

/* Blocks the next ACK carries: the D-SACK block and the kept ones, as many as the option space
 * beside timestamps holds (RFC 2018 3: three with timestamps, else four). */
static uint8_t sack_count(const struct tcpe_conn *tp)
{
    if (!(tp->t_flags & TF_SACK)) {
        return 0;
    }
    uint8_t room = (tp->t_flags & TF_TSTAMP) ? TCPE_SACK_MAX - 1 : TCPE_SACK_MAX;
    uint8_t n = (uint8_t)(tp->sack_nblks + (tp->dsack_pending ? 1 : 0));
    return n < room ? n : room;
}

/* Octets of option the SACK blocks add to the next segment (two NOPs, kind, length, blocks):
 * output takes them from the payload, as it does the timestamps. */
uint32_t tcp_sack_optlen(const struct tcpe_conn *tp)
{
    uint8_t n = sack_count(tp);
    return n > 0 ? 4u + 8u * n : 0;
}

/* Puts the blocks into a segment that carries an ACK (never a SYN), and forgets the D-SACK. */
void tcp_sack_fill(struct tcpe_conn *tp, struct tcpe_seg *seg)
{
    uint8_t n = sack_count(tp);
    if (n == 0 || !(seg->flags & TCPE_ACK) || (seg->flags & TCPE_SYN)) {
        return;
    }
    uint8_t k = 0;
    if (tp->dsack_pending) {
        seg->sack[k++] = tp->dsack;
        tp->dsack_pending = false;
    }
    for (uint8_t i = 0; k < n; i++) {
        seg->sack[k++] = tp->sack_blks[i];
    }
    seg->nsack = k;
    seg->opts |= TCPE_OPT_SACK;
}
