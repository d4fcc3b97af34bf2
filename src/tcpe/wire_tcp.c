/*
 * wire_tcp.c - the TCP header and its options: parsing into struct tcpe_seg, and writing.
 *
 * tcpe_wire_tcp_parse is reached from tcpe_wire_ipv4_parse (or called directly with the
 * addresses of the pseudo-header); tcpe_wire_tcp_write_hdr is called by the IPv4 builders, which
 * own the checksum because it spans the payload. Parsing checks in the order that names a fault
 * best: sizes first (nothing can be read before they hold), then the checksum (random damage
 * shows as a checksum error, not as a strange option), then the options.
 *
 * Options are reported raw; the state machine clamps them (tcpe_wire_peer_mss and
 * tcpe_wire_peer_wscale) and ignores those that RFC 7323 and RFC 9293 allow only on a SYN. A
 * known option with another length is skipped, so a malformed timestamps option reads as none:
 * on a connection that negotiated timestamps the engine then drops the segment and counts it
 * (RFC 7323 3.2), and nothing reads the values it did not parse. A SACK option is taken with 1 to
 * 4 whole blocks and its blocks are reported as they came: whether they make sense (an end after
 * the start, within what was sent) is for whoever reads them to judge.
 */
#include "handoff/tcpe_wire.h"

#include <stdbool.h>

#include "handoff/assert.h"
#include "handoff/bytes.h"
#include "handoff/err.h"
#include "wire_internal.h"

/* Option lengths (kind, length and value bytes). */
enum {
    OPT_MSS_LEN = 4,
    OPT_WSCALE_LEN = 3,
    OPT_SACK_OK_LEN = 2,
    OPT_TS_LEN = 10,
    OPT_SACK_BASE = 2,  /* kind and length; each block adds 8 */
    OPT_SACK_BLOCK = 8, /* left and right edge */
    OPT_SPACE = TCPE_WIRE_TCP_MAX_HLEN - TCPE_WIRE_TCP_HLEN, /* 40 */
};

/* Whether olen is the length of a SACK option of 1 to TCPE_SACK_MAX blocks. */
static bool sack_len_ok(uint8_t olen)
{
    return olen > OPT_SACK_BASE && (olen - OPT_SACK_BASE) % OPT_SACK_BLOCK == 0 &&
           (olen - OPT_SACK_BASE) / OPT_SACK_BLOCK <= TCPE_SACK_MAX;
}

/* Largest TCP segment an IPv4 datagram without options can carry. */
#define TCP_MAX_SEG_LEN (TCPE_WIRE_IPV4_MAX_LEN - TCPE_WIRE_IPV4_HLEN)

/*
 * Walks the options area opt[0..len) (RFC 9293 3.1): EOL ends the list (what follows is padding),
 * NOP is one byte, every other kind has a length byte counting kind and length. A known kind is
 * taken only with its own length; with another valid length it is skipped like an unknown
 * option, as Linux does, since its value cannot be trusted but the walk can go on.
 */
static enum tcpe_wire_drop parse_options(const uint8_t *opt, size_t len, struct tcpe_seg *seg)
{
    struct ho_rd r;
    ho_rd_init(&r, opt, len);
    while (ho_rd_left(&r) > 0) {
        uint8_t kind = ho_rd_u8(&r);
        if (kind == TCPE_WIRE_OPT_EOL) {
            break;
        }
        if (kind == TCPE_WIRE_OPT_NOP) {
            continue;
        }
        if (ho_rd_left(&r) == 0) {
            return TCPE_WIRE_DROP_TCP_OPT_OVER; /* a kind in the last byte, no length */
        }
        uint8_t olen = ho_rd_u8(&r);
        if (olen < 2) {
            return TCPE_WIRE_DROP_TCP_OPT_LEN; /* would never advance, or overlap itself */
        }
        size_t body = (size_t)olen - 2;
        if (body > ho_rd_left(&r)) {
            return TCPE_WIRE_DROP_TCP_OPT_OVER;
        }
        if (kind == TCPE_WIRE_OPT_MSS && olen == OPT_MSS_LEN) {
            seg->mss = ho_rd_u16(&r);
            seg->opts |= TCPE_OPT_MSS;
        } else if (kind == TCPE_WIRE_OPT_WSCALE && olen == OPT_WSCALE_LEN) {
            seg->wscale = ho_rd_u8(&r);
            seg->opts |= TCPE_OPT_WSCALE;
        } else if (kind == TCPE_WIRE_OPT_SACK_OK && olen == OPT_SACK_OK_LEN) {
            seg->opts |= TCPE_OPT_SACK_OK;
        } else if (kind == TCPE_WIRE_OPT_SACK && sack_len_ok(olen) &&
                   !(seg->opts & TCPE_OPT_SACK)) {
            /* A second SACK option is skipped: one option says it all (RFC 2018 3). */
            seg->nsack = (uint8_t)((olen - OPT_SACK_BASE) / OPT_SACK_BLOCK);
            for (uint8_t i = 0; i < seg->nsack; i++) {
                seg->sack[i].start = ho_rd_u32(&r);
                seg->sack[i].end = ho_rd_u32(&r);
            }
            seg->opts |= TCPE_OPT_SACK;
        } else if (kind == TCPE_WIRE_OPT_TS && olen == OPT_TS_LEN) {
            seg->ts_val = ho_rd_u32(&r);
            seg->ts_ecr = ho_rd_u32(&r);
            seg->opts |= TCPE_OPT_TS;
        } else {
            ho_rd_bytes(&r, NULL, body);
        }
    }
    return TCPE_WIRE_DROP_NONE;
}

int tcpe_wire_tcp_parse(uint32_t src_ip, uint32_t dst_ip, const uint8_t *buf, size_t len,
                        unsigned rx_flags, struct tcpe_wire_pkt *pkt, struct tcpe_wire_stats *st)
{
    if (!buf) {
        len = 0;
    }
    if (len < TCPE_WIRE_TCP_HLEN) {
        return tcpe_wire_drop(pkt, st, TCPE_WIRE_DROP_TCP_RUNT);
    }
    if (len > TCP_MAX_SEG_LEN) {
        return tcpe_wire_drop(pkt, st, TCPE_WIRE_DROP_IP_TOTLEN); /* no datagram carries it */
    }
    struct tcpe_seg *seg = &pkt->seg;
    *seg = (struct tcpe_seg){0};
    seg->src_ip = src_ip;
    seg->dst_ip = dst_ip;

    struct ho_rd r;
    ho_rd_init(&r, buf, TCPE_WIRE_TCP_HLEN);
    seg->src_port = ho_rd_u16(&r);
    seg->dst_port = ho_rd_u16(&r);
    seg->seq = ho_rd_u32(&r);
    seg->ack = ho_rd_u32(&r);
    size_t hdr_len = (size_t)(ho_rd_u8(&r) >> 4) * 4; /* low bits: reserved, AE */
    seg->flags = ho_rd_u8(&r);
    seg->wnd = ho_rd_u16(&r);
    (void)ho_rd_u16(&r); /* checksum, verified over the whole segment below */
    seg->urp = ho_rd_u16(&r);

    if (hdr_len < TCPE_WIRE_TCP_HLEN || hdr_len > len) {
        return tcpe_wire_drop(pkt, st, TCPE_WIRE_DROP_TCP_DOFF);
    }
    if (!(rx_flags & TCPE_WIRE_RX_TCP_CSUM_OK)) {
        uint16_t sum = tcpe_wire_csum_pseudo(src_ip, dst_ip, TCPE_WIRE_IPPROTO_TCP, (uint16_t)len);
        /* A correct segment, its checksum field included, sums to 0xffff (negative zero). */
        if (tcpe_wire_csum_add(sum, buf, len) != 0xffff) {
            return tcpe_wire_drop(pkt, st, TCPE_WIRE_DROP_TCP_CSUM);
        }
    }
    enum tcpe_wire_drop why =
        parse_options(buf + TCPE_WIRE_TCP_HLEN, hdr_len - TCPE_WIRE_TCP_HLEN, seg);
    if (why != TCPE_WIRE_DROP_NONE) {
        return tcpe_wire_drop(pkt, st, why);
    }
    seg->len = (uint32_t)(len - hdr_len);
    seg->data = buf + hdr_len;
    pkt->drop = TCPE_WIRE_DROP_NONE;
    if (st) {
        st->rx_tcp++;
    }
    return TCPE_WIRE_KIND_TCP;
}

/*
 * The option layout is Linux's (tcp_options_write): MSS; timestamps preceded by SACK-permitted
 * or by two NOPs; SACK-permitted alone behind two NOPs; window scale behind one NOP; SACK blocks
 * behind two NOPs. Every piece is a multiple of 4 bytes, which keeps the 32-bit timestamp and
 * SACK fields aligned (RFC 7323 appendix A) and makes padding unnecessary.
 */
static int fixed_options_len(const struct tcpe_seg *seg)
{
    int len = 0;
    if (seg->opts & TCPE_OPT_MSS) {
        len += 4;
    }
    if (seg->opts & TCPE_OPT_TS) {
        len += 12;
    } else if (seg->opts & TCPE_OPT_SACK_OK) {
        len += 4;
    }
    if (seg->opts & TCPE_OPT_WSCALE) {
        len += 4;
    }
    return len;
}

/* The SACK blocks written: those of seg that fit in the option space left, the first ones. */
static unsigned sack_blocks_written(const struct tcpe_seg *seg)
{
    if (!(seg->opts & TCPE_OPT_SACK)) {
        return 0;
    }
    int room = (OPT_SPACE - fixed_options_len(seg) - 2 - OPT_SACK_BASE) / OPT_SACK_BLOCK;
    unsigned n = seg->nsack < TCPE_SACK_MAX ? seg->nsack : TCPE_SACK_MAX;
    return room <= 0 ? 0 : n < (unsigned)room ? n : (unsigned)room;
}

int tcpe_wire_tcp_hdr_len(const struct tcpe_seg *seg)
{
    unsigned nsack = sack_blocks_written(seg);
    int sack_len = nsack > 0 ? 2 + OPT_SACK_BASE + OPT_SACK_BLOCK * (int)nsack : 0;
    return TCPE_WIRE_TCP_HLEN + fixed_options_len(seg) + sack_len;
}

static void write_options(struct ho_wr *w, const struct tcpe_seg *seg)
{
    if (seg->opts & TCPE_OPT_MSS) {
        ho_wr_u8(w, TCPE_WIRE_OPT_MSS);
        ho_wr_u8(w, OPT_MSS_LEN);
        ho_wr_u16(w, seg->mss);
    }
    if (seg->opts & TCPE_OPT_TS) {
        if (seg->opts & TCPE_OPT_SACK_OK) {
            ho_wr_u8(w, TCPE_WIRE_OPT_SACK_OK);
            ho_wr_u8(w, OPT_SACK_OK_LEN);
        } else {
            ho_wr_u8(w, TCPE_WIRE_OPT_NOP);
            ho_wr_u8(w, TCPE_WIRE_OPT_NOP);
        }
        ho_wr_u8(w, TCPE_WIRE_OPT_TS);
        ho_wr_u8(w, OPT_TS_LEN);
        ho_wr_u32(w, seg->ts_val);
        ho_wr_u32(w, seg->ts_ecr);
    } else if (seg->opts & TCPE_OPT_SACK_OK) {
        ho_wr_u8(w, TCPE_WIRE_OPT_NOP);
        ho_wr_u8(w, TCPE_WIRE_OPT_NOP);
        ho_wr_u8(w, TCPE_WIRE_OPT_SACK_OK);
        ho_wr_u8(w, OPT_SACK_OK_LEN);
    }
    if (seg->opts & TCPE_OPT_WSCALE) {
        ho_wr_u8(w, TCPE_WIRE_OPT_NOP);
        ho_wr_u8(w, TCPE_WIRE_OPT_WSCALE);
        ho_wr_u8(w, OPT_WSCALE_LEN);
        ho_wr_u8(w, seg->wscale);
    }
    unsigned nsack = sack_blocks_written(seg);
    if (nsack > 0) {
        ho_wr_u8(w, TCPE_WIRE_OPT_NOP);
        ho_wr_u8(w, TCPE_WIRE_OPT_NOP);
        ho_wr_u8(w, TCPE_WIRE_OPT_SACK);
        ho_wr_u8(w, (uint8_t)(OPT_SACK_BASE + OPT_SACK_BLOCK * nsack));
        for (unsigned i = 0; i < nsack; i++) {
            ho_wr_u32(w, seg->sack[i].start);
            ho_wr_u32(w, seg->sack[i].end);
        }
    }
}

void tcpe_wire_tcp_write_hdr(const struct tcpe_seg *seg, int hdr_len, uint8_t *buf)
{
    struct ho_wr w;
    ho_wr_init(&w, buf, (size_t)hdr_len);
    ho_wr_u16(&w, seg->src_port);
    ho_wr_u16(&w, seg->dst_port);
    ho_wr_u32(&w, seg->seq);
    ho_wr_u32(&w, seg->ack);
    ho_wr_u8(&w, (uint8_t)((hdr_len / 4) << 4));
    ho_wr_u8(&w, seg->flags);
    ho_wr_u16(&w, seg->wnd);
    ho_wr_u16(&w, 0); /* checksum, filled in by the caller */
    ho_wr_u16(&w, seg->urp);
    write_options(&w, seg);
    HO_ASSERT(ho_wr_error(&w) == HO_OK && w.len == (size_t)hdr_len,
              "TCP header wrote %zu of %d bytes", w.len, hdr_len);
}
