/*
 * tcp_resync.c - bringing an old export of a connection up to date (tcpe_conn_resync, tcpe.h).
 *
 * When the holder a connection was exported to is lost without giving it back (a NIC whose
 * firmware crashed), the exporter still has the encoding it sent and has heard, through its own
 * protocol with that holder, how far the connection got: the octets the peer acknowledged, the
 * ones the application appended to the send buffer, the ones delivered to the application, and
 * whether the peer's FIN came. That fixes every sequence number but one: how far the lost holder
 * had sent (SND.NXT and SND.MAX). The resync takes the worst case. Every octet from SND.UNA to the
 * end of the send buffer counts as sent, so that an ACK for any of them is taken, and all of them
 * are sent again from SND.UNA at once, in slow start from one segment, as after a retransmission
 * timeout (RFC 5681 section 3.1: the loss window); the peer discards what it already had and
 * acknowledges the rest. On the receive side the out-of-order queue and its SACK blocks are
 * dropped (RFC 2018 section 8 allows a receiver to discard them: the peer keeps such data until it
 * is acknowledged cumulatively), and an ACK tells the peer RCV.NXT at once.
 */
#include "handoff/err.h"
#include "tcp_seq.h"
#include "tcp_var.h"

int tcpe_conn_resync(struct tcpe_conn *c, const struct tcpe_resync *r, uint64_t now)
{
    bool virt = (c->t_flags & TF_VIRTUAL) != 0;
    if (c->state != TCPE_ESTABLISHED && c->state != TCPE_CLOSE_WAIT) {
        return HO_ESTATE;
    }
    if (c->t_flags & (TF_NEEDFIN | TF_SENTFIN)) {
        return HO_ESTATE; /* shut down before the export: none of this protocol's business */
    }
    /* Of the export's send buffer, what the peer has not acknowledged stays, and the appended
     * octets still unacknowledged follow it. Acknowledged appended octets are not given: once
     * the export's octets are all acknowledged, the appended ones are acknowledged in order. */
    uint32_t old_gone = r->acked < c->snd.len ? (uint32_t)r->acked : c->snd.len;
    uint64_t buffered = (uint64_t)(c->snd.len - old_gone) + r->appended_len;
    if ((virt != (r->appended == NULL) && r->appended_len > 0) || r->acked > TCP_BUF_LIMIT ||
        buffered > c->sndbuf || r->delivered > TCP_BUF_LIMIT ||
        (r->fin_received && c->state == TCPE_CLOSE_WAIT)) {
        return HO_EINVAL;
    }
    /* The only step that can fail comes first, so that a failure changes nothing. */
    if (r->appended_len > 0) {
        int err = tcp_buf_append(&c->snd, &c->stack->alloc, virt ? NULL : r->appended,
                                 (uint32_t)r->appended_len);
        if (err < 0) {
            return err;
        }
    }

    /* The send side: SND.UNA where the peer's ACKs left it, everything after it in flight. */
    tcp_buf_drop(&c->snd, &c->stack->alloc, old_gone);
    c->snd_una += (uint32_t)r->acked;
    c->snd_nxt = c->snd_una;
    c->snd_max = c->snd_una + c->snd.len;
    uint32_t half = c->snd.len / 2;
    c->snd_ssthresh = half > 2u * c->t_maxseg ? half : 2u * c->t_maxseg;
    c->snd_cwnd = c->t_maxseg;
    c->snd_recover = c->snd_max;
    c->bytes_acked = 0;
    c->t_dupacks = 0;
    c->snd_limited = 0;
    c->t_rxtshift = 0;
    c->t_rxtcount = 0;
    c->t_probes = 0;
    c->t_persist_shift = 0;
    c->t_flags &= ~(TF_RECOVERY | TF_PARTIALACK | TF_RTTIMING);
    tcp_sb_clear(c); /* what the peer SACKed then may be long gone: all of it goes again */

    /* The receive side: what was delivered elsewhere leaves the receive buffer (the octets that
     * were unread at the export were delivered first), the rest moves RCV.NXT on. */
    uint32_t unread = c->rcv.len;
    uint32_t dropped = r->delivered < unread ? (uint32_t)r->delivered : unread;
    tcp_buf_drop(&c->rcv, &c->stack->alloc, dropped);
    c->rcv_nxt += (uint32_t)r->delivered - dropped;
    tcp_reass_free(c);
    c->sack_nblks = 0;
    c->dsack_pending = false;
    if (r->fin_received) {
        c->rcv_nxt++;
        c->t_flags |= TF_GOTFIN;
        tcp_set_state(c, TCPE_CLOSE_WAIT, now);
    }
    if (SEQ_LT(c->rcv_adv, c->rcv_nxt)) {
        c->rcv_adv = c->rcv_nxt;
    }
    if (r->shutdown) {
        /* The FIN after the data, which the lost holder may have sent and the peer acknowledged
         * (a peer in TIME_WAIT answers it again): it counts in SND.MAX and goes again. */
        c->t_flags |= TF_NEEDFIN | TF_SENTFIN;
        c->snd_max++;
        c->snd_recover = c->snd_max;
        tcp_set_state(c, c->state == TCPE_ESTABLISHED ? TCPE_FIN_WAIT_1 : TCPE_LAST_ACK, now);
    }

    tcp_timer_stop(c, TCP_T_DELACK);
    tcp_timer_stop(c, TCP_T_PERSIST);
    if (c->snd.len > 0 || r->shutdown) {
        tcp_rexmt_restart(c, now);
    } else {
        tcp_timer_stop(c, TCP_T_REXMT);
    }
    c->t_flags |= TF_ACKNOW;
    tcp_output(c, now);
    tcp_leave(c);
    return HO_OK;
}
