/*
 * wire_eth.c - Ethernet II framing (RFC 894): the outermost parse, which dispatches on the
 * ethertype, and the frame builders, which put an Ethernet header in front of the IPv4 ones.
 *
 * The emulator's TAP device hands every frame to tcpe_wire_eth_parse and sends what
 * tcpe_wire_eth_build writes. No VLAN tags are expected on that link, so a tagged frame is an
 * unknown ethertype like any other: counted and dropped, never guessed at.
 */
#include "handoff/tcpe_wire.h"

#include "handoff/bytes.h"
#include "handoff/err.h"
#include "wire_internal.h"

int tcpe_wire_eth_parse(const uint8_t *buf, size_t len, unsigned rx_flags,
                        struct tcpe_wire_pkt *pkt, struct tcpe_wire_stats *st)
{
    if (!buf) {
        len = 0;
    }
    if (len < TCPE_WIRE_ETH_HLEN) {
        return tcpe_wire_drop(pkt, st, TCPE_WIRE_DROP_ETH_RUNT);
    }
    struct ho_rd r;
    ho_rd_init(&r, buf, TCPE_WIRE_ETH_HLEN);
    ho_rd_bytes(&r, pkt->eth.dst, TCPE_WIRE_ETH_ALEN);
    ho_rd_bytes(&r, pkt->eth.src, TCPE_WIRE_ETH_ALEN);
    pkt->eth.type = ho_rd_u16(&r);

    const uint8_t *payload = buf + TCPE_WIRE_ETH_HLEN;
    size_t payload_len = len - TCPE_WIRE_ETH_HLEN;
    switch (pkt->eth.type) {
    case TCPE_WIRE_ETHERTYPE_IPV4:
        return tcpe_wire_ipv4_parse(payload, payload_len, rx_flags, pkt, st);
    case TCPE_WIRE_ETHERTYPE_ARP:
        return tcpe_wire_arp_parse(payload, payload_len, pkt, st);
    default:
        return tcpe_wire_drop(pkt, st, TCPE_WIRE_DROP_ETH_TYPE);
    }
}

void tcpe_wire_eth_write_hdr(const uint8_t dst[TCPE_WIRE_ETH_ALEN],
                             const uint8_t src[TCPE_WIRE_ETH_ALEN], uint16_t type, uint8_t *buf)
{
    struct ho_wr w;
    ho_wr_init(&w, buf, TCPE_WIRE_ETH_HLEN);
    ho_wr_bytes(&w, dst, TCPE_WIRE_ETH_ALEN);
    ho_wr_bytes(&w, src, TCPE_WIRE_ETH_ALEN);
    ho_wr_u16(&w, type);
}

int tcpe_wire_eth_len(const struct tcpe_seg *seg)
{
    int ip_len = tcpe_wire_ipv4_len(seg);
    return ip_len < 0 ? ip_len : TCPE_WIRE_ETH_HLEN + ip_len;
}

int tcpe_wire_eth_build_hdr(struct tcpe_wire_tx *tx, const struct tcpe_wire_eth *eth,
                            const struct tcpe_seg *seg, uint8_t *buf, size_t cap)
{
    int ip_len = tcpe_wire_ipv4_len(seg);
    if (ip_len < 0) {
        return ip_len;
    }
    size_t hdrs = (size_t)TCPE_WIRE_ETH_HLEN + TCPE_WIRE_IPV4_HLEN + tcpe_wire_tcp_hdr_len(seg);
    if (!buf || cap < hdrs) {
        return HO_ENOSPC;
    }
    tcpe_wire_eth_write_hdr(eth->dst, eth->src, TCPE_WIRE_ETHERTYPE_IPV4, buf);
    int n = tcpe_wire_ipv4_build_hdr(tx, seg, buf + TCPE_WIRE_ETH_HLEN, cap - TCPE_WIRE_ETH_HLEN);
    return n < 0 ? n : TCPE_WIRE_ETH_HLEN + n;
}

int tcpe_wire_eth_build(struct tcpe_wire_tx *tx, const struct tcpe_wire_eth *eth,
                        const struct tcpe_seg *seg, uint8_t *buf, size_t cap)
{
    if (!buf || cap < TCPE_WIRE_ETH_HLEN) {
        return HO_ENOSPC;
    }
    int n = tcpe_wire_ipv4_build(tx, seg, buf + TCPE_WIRE_ETH_HLEN, cap - TCPE_WIRE_ETH_HLEN);
    if (n < 0) {
        return n;
    }
    tcpe_wire_eth_write_hdr(eth->dst, eth->src, TCPE_WIRE_ETHERTYPE_IPV4, buf);
    return TCPE_WIRE_ETH_HLEN + n;
}
