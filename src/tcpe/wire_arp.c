/*
 * wire_arp.c - ARP for IPv4 over Ethernet (RFC 826): parsing, answering a request for our
 * address, and asking for someone else's.
 *
 * Only the one hardware/protocol pair that exists on our link is accepted; anything else is a
 * counted drop. The emulator's link-layer code owns the neighbour table and decides what to do
 * with a parsed message; this file only speaks the format. Frames are written without padding
 * to Ethernet's 60-byte minimum, as a host stack hands them to its NIC.
 */
#include "handoff/tcpe_wire.h"

#include <string.h>

#include "handoff/bytes.h"
#include "handoff/err.h"
#include "wire_internal.h"

enum {
    ARP_HTYPE_ETHERNET = 1,
    ARP_PLEN_IPV4 = 4,
};

int tcpe_wire_arp_parse(const uint8_t *buf, size_t len, struct tcpe_wire_pkt *pkt,
                        struct tcpe_wire_stats *st)
{
    if (!buf) {
        len = 0;
    }
    if (len < TCPE_WIRE_ARP_LEN) {
        return tcpe_wire_drop(pkt, st, TCPE_WIRE_DROP_ARP_RUNT);
    }
    struct ho_rd r;
    ho_rd_init(&r, buf, TCPE_WIRE_ARP_LEN);
    uint16_t htype = ho_rd_u16(&r);
    uint16_t ptype = ho_rd_u16(&r);
    uint8_t hlen = ho_rd_u8(&r);
    uint8_t plen = ho_rd_u8(&r);
    struct tcpe_wire_arp arp;
    arp.op = ho_rd_u16(&r);
    ho_rd_bytes(&r, arp.sha, TCPE_WIRE_ETH_ALEN);
    arp.spa = ho_rd_u32(&r);
    ho_rd_bytes(&r, arp.tha, TCPE_WIRE_ETH_ALEN);
    arp.tpa = ho_rd_u32(&r);

    if (htype != ARP_HTYPE_ETHERNET || ptype != TCPE_WIRE_ETHERTYPE_IPV4 ||
        hlen != TCPE_WIRE_ETH_ALEN || plen != ARP_PLEN_IPV4) {
        return tcpe_wire_drop(pkt, st, TCPE_WIRE_DROP_ARP_FORMAT);
    }
    if (arp.op != TCPE_WIRE_ARP_REQUEST && arp.op != TCPE_WIRE_ARP_REPLY) {
        return tcpe_wire_drop(pkt, st, TCPE_WIRE_DROP_ARP_OP);
    }
    pkt->arp = arp;
    pkt->drop = TCPE_WIRE_DROP_NONE;
    if (st) {
        st->rx_arp++;
    }
    return TCPE_WIRE_KIND_ARP;
}

/* Writes an Ethernet + ARP frame; the caller has checked cap. */
static void write_arp_frame(const uint8_t eth_dst[TCPE_WIRE_ETH_ALEN],
                            const struct tcpe_wire_arp *arp, uint8_t *buf)
{
    tcpe_wire_eth_write_hdr(eth_dst, arp->sha, TCPE_WIRE_ETHERTYPE_ARP, buf);
    struct ho_wr w;
    ho_wr_init(&w, buf + TCPE_WIRE_ETH_HLEN, TCPE_WIRE_ARP_LEN);
    ho_wr_u16(&w, ARP_HTYPE_ETHERNET);
    ho_wr_u16(&w, TCPE_WIRE_ETHERTYPE_IPV4);
    ho_wr_u8(&w, TCPE_WIRE_ETH_ALEN);
    ho_wr_u8(&w, ARP_PLEN_IPV4);
    ho_wr_u16(&w, arp->op);
    ho_wr_bytes(&w, arp->sha, TCPE_WIRE_ETH_ALEN);
    ho_wr_u32(&w, arp->spa);
    ho_wr_bytes(&w, arp->tha, TCPE_WIRE_ETH_ALEN);
    ho_wr_u32(&w, arp->tpa);
}

int tcpe_wire_arp_build_reply(const struct tcpe_wire_arp *req,
                              const uint8_t our_mac[TCPE_WIRE_ETH_ALEN], uint32_t our_ip,
                              uint8_t *buf, size_t cap)
{
    if (req->op != TCPE_WIRE_ARP_REQUEST) {
        return HO_EINVAL;
    }
    if (req->tpa != our_ip) {
        return HO_ENOENT;
    }
    if (!buf || cap < TCPE_WIRE_ARP_FRAME_LEN) {
        return HO_ENOSPC;
    }
    struct tcpe_wire_arp reply = {.op = TCPE_WIRE_ARP_REPLY, .spa = our_ip, .tpa = req->spa};
    memcpy(reply.sha, our_mac, TCPE_WIRE_ETH_ALEN);
    memcpy(reply.tha, req->sha, TCPE_WIRE_ETH_ALEN);
    write_arp_frame(req->sha, &reply, buf);
    return TCPE_WIRE_ARP_FRAME_LEN;
}

int tcpe_wire_arp_build_request(const uint8_t our_mac[TCPE_WIRE_ETH_ALEN], uint32_t our_ip,
                                uint32_t target_ip, uint8_t *buf, size_t cap)
{
    static const uint8_t broadcast[TCPE_WIRE_ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    if (!buf || cap < TCPE_WIRE_ARP_FRAME_LEN) {
        return HO_ENOSPC;
    }
    /* The target hardware address of a request is unknown and sent as zeros (RFC 826). */
    struct tcpe_wire_arp req = {.op = TCPE_WIRE_ARP_REQUEST, .spa = our_ip, .tpa = target_ip};
    memcpy(req.sha, our_mac, TCPE_WIRE_ETH_ALEN);
    write_arp_frame(broadcast, &req, buf);
    return TCPE_WIRE_ARP_FRAME_LEN;
}
