/*
 * wire_ipv4.c - IPv4 (RFC 791) under TCP: parsing a datagram down to its segment, and writing
 * the IPv4 and TCP headers of a segment.
 *
 * tcpe_wire_ipv4_parse is the entry point for link layers without Ethernet (TUN devices,
 * packetdrill) and is called by tcpe_wire_eth_parse for ethertype 0x0800. The checks are
 * those of a host that does not reassemble: a fragment is counted and dropped, since TCP with
 * path MTU discovery never needs them. Bytes past the IP total length are link padding (a short
 * frame padded to Ethernet's 60-byte minimum) and are cut off before TCP sees the segment.
 *
 * The builders live here rather than in wire_tcp.c because the TCP checksum needs the IPv4
 * addresses and length, and because each build consumes one IPv4 identification.
 */
#include "handoff/tcpe_wire.h"

#include "handoff/bytes.h"
#include "handoff/err.h"
#include "wire_internal.h"

enum {
    IP_VERSION = 4,
    IP_FLAG_DF = 0x4000,
    IP_FLAG_MF = 0x2000,
    IP_FRAG_OFFSET = 0x1fff,
    IP_CSUM_OFFSET = 10,  /* of the checksum field in the IPv4 header */
    TCP_CSUM_OFFSET = 16, /* of the checksum field in the TCP header */
};

int tcpe_wire_ipv4_parse(const uint8_t *buf, size_t len, unsigned rx_flags,
                         struct tcpe_wire_pkt *pkt, struct tcpe_wire_stats *st)
{
    if (!buf) {
        len = 0;
    }
    if (len < TCPE_WIRE_IPV4_HLEN) {
        return tcpe_wire_drop(pkt, st, TCPE_WIRE_DROP_IP_RUNT);
    }
    struct ho_rd r;
    ho_rd_init(&r, buf, TCPE_WIRE_IPV4_HLEN);
    uint8_t version_ihl = ho_rd_u8(&r);
    struct tcpe_wire_ipv4 ip = {0};
    ip.tos = ho_rd_u8(&r);
    ip.total_len = ho_rd_u16(&r);
    ip.id = ho_rd_u16(&r);
    uint16_t frag = ho_rd_u16(&r);
    ip.ttl = ho_rd_u8(&r);
    ip.proto = ho_rd_u8(&r);
    (void)ho_rd_u16(&r); /* header checksum, verified over the whole header below */
    ip.src = ho_rd_u32(&r);
    ip.dst = ho_rd_u32(&r);
    ip.hlen = (uint16_t)((version_ihl & 0x0f) * 4);
    ip.df = (frag & IP_FLAG_DF) != 0;

    if (version_ihl >> 4 != IP_VERSION) {
        return tcpe_wire_drop(pkt, st, TCPE_WIRE_DROP_IP_VERSION);
    }
    if (ip.hlen < TCPE_WIRE_IPV4_HLEN) {
        return tcpe_wire_drop(pkt, st, TCPE_WIRE_DROP_IP_IHL);
    }
    if (ip.hlen > len) {
        return tcpe_wire_drop(pkt, st, TCPE_WIRE_DROP_IP_RUNT);
    }
    if (ip.total_len < ip.hlen || ip.total_len > len) {
        return tcpe_wire_drop(pkt, st, TCPE_WIRE_DROP_IP_TOTLEN);
    }
    if (!(rx_flags & TCPE_WIRE_RX_IP_CSUM_OK) && tcpe_wire_csum_add(0, buf, ip.hlen) != 0xffff) {
        return tcpe_wire_drop(pkt, st, TCPE_WIRE_DROP_IP_CSUM);
    }
    if ((frag & IP_FLAG_MF) || (frag & IP_FRAG_OFFSET)) {
        return tcpe_wire_drop(pkt, st, TCPE_WIRE_DROP_IP_FRAGMENT);
    }
    if (ip.proto != TCPE_WIRE_IPPROTO_TCP) {
        return tcpe_wire_drop(pkt, st, TCPE_WIRE_DROP_IP_PROTO);
    }
    pkt->ip = ip;
    /* IP options (hlen > 20) are skipped; the segment ends at the total length, not the frame. */
    return tcpe_wire_tcp_parse(ip.src, ip.dst, buf + ip.hlen, (size_t)ip.total_len - ip.hlen,
                               rx_flags, pkt, st);
}

int tcpe_wire_ipv4_len(const struct tcpe_seg *seg)
{
    uint64_t total = TCPE_WIRE_IPV4_HLEN + (uint64_t)tcpe_wire_tcp_hdr_len(seg) + seg->len;
    if (total > TCPE_WIRE_IPV4_MAX_LEN) {
        return HO_EMSGSIZE;
    }
    return (int)total;
}

static void patch_u16(uint8_t *at, uint16_t v)
{
    struct ho_wr w;
    ho_wr_init(&w, at, 2);
    ho_wr_u16(&w, v);
}

int tcpe_wire_ipv4_build_hdr(struct tcpe_wire_tx *tx, const struct tcpe_seg *seg, uint8_t *buf,
                             size_t cap)
{
    int total = tcpe_wire_ipv4_len(seg);
    if (total < 0) {
        return total;
    }
    int tcp_hlen = tcpe_wire_tcp_hdr_len(seg);
    size_t hdrs = (size_t)TCPE_WIRE_IPV4_HLEN + (size_t)tcp_hlen;
    if (!buf || cap < hdrs) {
        return HO_ENOSPC;
    }
    int offload = (tx->flags & TCPE_WIRE_TX_CSUM_OFFLOAD) != 0;

    struct ho_wr w;
    ho_wr_init(&w, buf, TCPE_WIRE_IPV4_HLEN);
    ho_wr_u8(&w, (IP_VERSION << 4) | (TCPE_WIRE_IPV4_HLEN / 4));
    ho_wr_u8(&w, tx->tos);
    ho_wr_u16(&w, (uint16_t)total);
    ho_wr_u16(&w, tx->ip_id);
    ho_wr_u16(&w, (tx->flags & TCPE_WIRE_TX_DF) ? IP_FLAG_DF : 0);
    ho_wr_u8(&w, tx->ttl);
    ho_wr_u8(&w, TCPE_WIRE_IPPROTO_TCP);
    ho_wr_u16(&w, 0); /* header checksum, below */
    ho_wr_u32(&w, seg->src_ip);
    ho_wr_u32(&w, seg->dst_ip);
    patch_u16(buf + IP_CSUM_OFFSET, offload ? 0 : tcpe_wire_csum(buf, TCPE_WIRE_IPV4_HLEN));

    uint8_t *tcp = buf + TCPE_WIRE_IPV4_HLEN;
    tcpe_wire_tcp_write_hdr(seg, tcp_hlen, tcp);
    uint16_t tcp_len = (uint16_t)(total - TCPE_WIRE_IPV4_HLEN);
    uint16_t sum = tcpe_wire_csum_pseudo(seg->src_ip, seg->dst_ip, TCPE_WIRE_IPPROTO_TCP, tcp_len);
    if (!offload) {
        /* tcp_hlen is a multiple of 4, so the payload continues the 16-bit word sequence;
         * virtual payload stands for zeros, which add nothing. */
        sum = tcpe_wire_csum_add(sum, tcp, (size_t)tcp_hlen);
        if (seg->data) {
            sum = tcpe_wire_csum_add(sum, seg->data, seg->len);
        }
        sum = (uint16_t)~sum;
    }
    patch_u16(tcp + TCP_CSUM_OFFSET, sum);
    tx->ip_id++;
    return (int)hdrs;
}

int tcpe_wire_ipv4_build(struct tcpe_wire_tx *tx, const struct tcpe_seg *seg, uint8_t *buf,
                         size_t cap)
{
    if (seg->len > 0 && !seg->data) {
        return HO_EINVAL;
    }
    int total = tcpe_wire_ipv4_len(seg);
    if (total < 0) {
        return total;
    }
    if (!buf || cap < (size_t)total) {
        return HO_ENOSPC;
    }
    int hdrs = tcpe_wire_ipv4_build_hdr(tx, seg, buf, cap);
    if (hdrs < 0) {
        return hdrs;
    }
    struct ho_wr w;
    ho_wr_init(&w, buf + hdrs, cap - (size_t)hdrs);
    ho_wr_bytes(&w, seg->data, seg->len);
    return total;
}
