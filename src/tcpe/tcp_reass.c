/*
 * tcp_reass.c - the out-of-order queue: segments that arrived beyond RCV.NXT, kept until the
 * hole before them is filled.
 *
 * Called by tcp_input_data (insert, clip, pull), by export and import, and when a connection
 * closes.
 * The queue is a sorted list of disjoint ranges: a new segment is trimmed against its
 * neighbours, and ranges it covers completely are freed, so overlapping retransmissions never
 * store an octet twice. It is bounded by a number of segments (tcpe_params.ooo_max) and, through
 * the window check in tcp_input, by the receive window; a segment that would exceed the bound is
 * dropped, which only costs the peer a retransmission (CVE-2019-11478 was an unbounded queue).
 *
 * A peer that contradicts itself about where its stream ends is believed the first time, in
 * order or not: insertion cuts data past a queued FIN and ignores a FIN before queued data, and
 * tcp_reass_clip applies the same rule to an in-order segment before it is taken.
 *
 * Entries are disjoint but may touch; tcp_reass_block and tcp_reass_overlap read runs of
 * touching entries as one range, for the SACK and D-SACK blocks of our ACKs (tcp_sack.c).
 */
#include <string.h>

#include "handoff/err.h"
#include "tcp_var.h"

static void ooo_free(struct tcpe_conn *tp, struct tcp_ooo *q)
{
    tcp_free(tp->stack, q);
    tp->ooo_count--;
}

int tcp_reass_insert(struct tcpe_conn *tp, uint32_t seq, uint32_t len, const uint8_t *data,
                     bool fin)
{
    if (len == 0 && !fin) {
        return HO_OK;
    }
    /* Phase 1, read only: where the segment goes and what of it is new. Nothing lies beyond
     * the peer's FIN (import refuses such a queue), so a peer that contradicts itself is
     * believed the first time: data past a queued FIN is cut off or ignored, and a FIN before
     * queued data is ignored. */
    uint32_t end = seq + len;
    struct tcp_ooo **link = &tp->ooo;
    struct tcp_ooo *prev = NULL;
    while (*link != NULL && SEQ_LEQ((*link)->seq + (*link)->len, seq) &&
           !((*link)->seq + (*link)->len == seq && len == 0)) {
        prev = *link;
        link = &(*link)->next;
    }
    struct tcp_ooo *prev_cover = *link;
    if (prev_cover != NULL && SEQ_LEQ(prev_cover->seq, seq)) {
        uint32_t pend = prev_cover->seq + prev_cover->len;
        if (SEQ_GEQ(pend, end)) {
            /* Nothing new; perhaps the FIN, if nothing is queued after it. */
            if (fin && pend == end && prev_cover->next == NULL) {
                prev_cover->fin = true;
            }
            return HO_OK;
        }
        uint32_t cut = pend - seq;
        seq += cut;
        len -= cut;
        if (data != NULL) {
            data += cut;
        }
        link = &prev_cover->next;
        prev = prev_cover;
    }
    /* Successors the segment overlaps: whole ones are replaced, a partial one trims our tail. */
    struct tcp_ooo *next = *link;
    uint32_t replaced = 0;
    while (next != NULL && SEQ_LEQ(next->seq + next->len, end)) {
        if (next->fin) {
            /* The queued FIN ends the segment too (it is the last entry). */
            end = next->seq + next->len;
            len = end - seq;
            fin = true;
        }
        replaced++;
        next = next->next;
    }
    if (next != NULL && SEQ_LT(next->seq, end)) {
        len = next->seq - seq;
        end = next->seq;
        fin = false;
    }
    if (next != NULL) {
        fin = false; /* queued data follows */
    }
    if (len == 0 && !fin) {
        return HO_OK; /* every octet is already queued */
    }
    if (tp->ooo_count - replaced >= tp->stack->p.ooo_max) {
        return HO_ENOSPC;
    }
    if (prev != NULL && prev->fin) {
        return HO_OK; /* all of it lies past the FIN */
    }

    /* Phase 2: allocate, then change the list (a failure leaves it as it was). */
    size_t size = sizeof(struct tcp_ooo) + (data != NULL ? len : 0);
    struct tcp_ooo *q = tcp_malloc(tp->stack, size);
    if (q == NULL) {
        return HO_ENOMEM;
    }
    q->seq = seq;
    q->len = len;
    q->fin = fin;
    if (data != NULL && len > 0) {
        memcpy(q->data, data, len);
    }
    while (*link != next) {
        struct tcp_ooo *dead = *link;
        *link = dead->next;
        ooo_free(tp, dead);
    }
    q->next = next;
    *link = q;
    tp->ooo_count++;
    return HO_OK;
}

void tcp_reass_clip(const struct tcpe_conn *tp, uint32_t seq, uint32_t *len, bool *fin)
{
    const struct tcp_ooo *last = tp->ooo;
    if (last == NULL) {
        return;
    }
    while (last->next != NULL) {
        last = last->next;
    }
    uint32_t qend = last->seq + last->len;
    if (last->fin && SEQ_GT(seq + *len, qend)) {
        *len = qend - seq; /* the queued FIN said first where the stream ends */
    }
    if (*fin && SEQ_LT(seq + *len, qend)) {
        *fin = false; /* queued data said first that the stream goes on */
    }
}

bool tcp_reass_pull(struct tcpe_conn *tp)
{
    struct tcpe_stack *s = tp->stack;
    while (tp->ooo != NULL && SEQ_LEQ(tp->ooo->seq, tp->rcv_nxt)) {
        struct tcp_ooo *q = tp->ooo;
        uint32_t end = q->seq + q->len;
        if (SEQ_GT(end, tp->rcv_nxt)) {
            uint32_t skip = tp->rcv_nxt - q->seq;
            uint32_t n = q->len - skip;
            const uint8_t *src = (tp->t_flags & TF_VIRTUAL) ? NULL : q->data + skip;
            if (tcp_buf_append(&tp->rcv, &s->alloc, src, n) < 0) {
                tcp_drop_count(s, tp, TCPE_DROP_NOMEM);
                return false; /* keep the rest queued; the next segment retries */
            }
            tp->rcv_nxt = end;
            TCP_STAT_ADD(tp, bytes_in, n);
            tcp_event(tp, TCPE_EV_READABLE);
        }
        bool fin = q->fin && end == tp->rcv_nxt;
        tp->ooo = q->next;
        ooo_free(tp, q);
        if (fin) {
            tcp_reass_free(tp); /* nothing can follow a FIN */
            return true;
        }
    }
    return false;
}

void tcp_reass_free(struct tcpe_conn *tp)
{
    while (tp->ooo != NULL) {
        struct tcp_ooo *q = tp->ooo;
        tp->ooo = q->next;
        ooo_free(tp, q);
    }
}

bool tcp_reass_block(const struct tcpe_conn *tp, uint32_t seq, uint32_t *start, uint32_t *end)
{
    uint32_t run = 0; /* start of the run of touching entries q belongs to */
    bool in_run = false;
    for (const struct tcp_ooo *q = tp->ooo; q != NULL; q = q->next) {
        uint32_t qend = q->seq + q->len;
        if (!in_run || q->seq != *end) {
            run = q->seq;
        }
        in_run = true;
        *end = qend;
        if (q->len > 0 && SEQ_LEQ(q->seq, seq) && SEQ_LT(seq, qend)) {
            for (const struct tcp_ooo *n = q->next; n != NULL && n->seq == *end; n = n->next) {
                *end = n->seq + n->len;
            }
            *start = run;
            return true;
        }
    }
    return false;
}

bool tcp_reass_overlap(const struct tcpe_conn *tp, uint32_t seq, uint32_t end, uint32_t *start,
                       uint32_t *end_dup)
{
    const struct tcp_ooo *q = tp->ooo;
    while (q != NULL && SEQ_LEQ(q->seq + q->len, seq)) {
        q = q->next;
    }
    if (q == NULL || q->len == 0 || !SEQ_LT(q->seq, end)) {
        return false;
    }
    *start = SEQ_MAX(seq, q->seq);
    *end_dup = SEQ_MIN(end, q->seq + q->len);
    /* The run goes on through queued entries that touch, as long as the segment does. */
    for (q = q->next; q != NULL && q->seq == *end_dup && SEQ_LT(*end_dup, end); q = q->next) {
        *end_dup = SEQ_MIN(end, q->seq + q->len);
    }
    return true;
}
