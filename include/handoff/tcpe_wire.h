/*
 * tcpe_wire.h - the packet codec of the TCP engine: Ethernet II, ARP, IPv4 and TCP on the wire.
 *
 * The codec turns raw frames into validated struct tcpe_seg values (tcpe_seg.h) and back, so the
 * TCP state machine never sees a raw header. Parsing is the defensive half: it never reads outside
 * [buf, buf + len), never crashes on any input, and drops anything malformed with a named reason
 * that it counts in a caller-owned struct tcpe_wire_stats (truncated headers at every layer, TCP
 * data offsets under 5 or past the segment, overrunning options). Building is the fast half:
 * headers and options are written field by field, checksums in one pass.
 *
 * Layers and entry points, outermost first:
 *   tcpe_wire_eth_parse    an Ethernet frame -> TCP segment or ARP message (the emulator's TAP)
 *   tcpe_wire_ipv4_parse   an IPv4 datagram  -> TCP segment (TUN devices, packetdrill)
 *   tcpe_wire_tcp_parse    a TCP segment and its addresses -> struct tcpe_seg
 * and the builders tcpe_wire_eth_build / tcpe_wire_ipv4_build (header and payload) and their
 * *_hdr variants (headers only, for the simulator, whose payload is virtual).
 *
 * All multi-byte values in the structs below are in host byte order. Nothing here keeps state
 * between calls except what the caller passes in (statistics, the sender's IPv4 identification).
 */
#ifndef HANDOFF_TCPE_WIRE_H
#define HANDOFF_TCPE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "handoff/tcpe_seg.h"

/* Sizes and numbers fixed by the protocols. */
#define TCPE_WIRE_ETH_ALEN       6      /* an Ethernet (MAC) address */
#define TCPE_WIRE_ETH_HLEN       14     /* Ethernet II header: dst, src, ethertype */
#define TCPE_WIRE_ETHERTYPE_IPV4 0x0800 /* RFC 894 */
#define TCPE_WIRE_ETHERTYPE_ARP  0x0806 /* RFC 826 */
#define TCPE_WIRE_ARP_LEN        28     /* ARP for IPv4 over Ethernet, RFC 826 */
#define TCPE_WIRE_ARP_REQUEST    1      /* ARP opcode */
#define TCPE_WIRE_ARP_REPLY      2      /* ARP opcode */
#define TCPE_WIRE_ARP_FRAME_LEN  (TCPE_WIRE_ETH_HLEN + TCPE_WIRE_ARP_LEN) /* 42, unpadded */
#define TCPE_WIRE_IPV4_HLEN      20    /* IPv4 header without options, RFC 791 */
#define TCPE_WIRE_IPV4_MAX_LEN   65535 /* largest IPv4 total length */
#define TCPE_WIRE_IPPROTO_TCP    6
#define TCPE_WIRE_TCP_HLEN       20 /* TCP header without options, RFC 9293 3.1 */
#define TCPE_WIRE_TCP_MAX_HLEN   60 /* data offset 15 */
/* The most header bytes the builders write: Ethernet, IPv4 without options, and TCP with its 40
 * option bytes full (timestamps and three SACK blocks, say). */
#define TCPE_WIRE_BUILD_MAX_HDRS (TCPE_WIRE_ETH_HLEN + TCPE_WIRE_IPV4_HLEN + TCPE_WIRE_TCP_MAX_HLEN)

/* TCP option kinds (RFC 9293 3.1, RFC 7323, RFC 2018). */
#define TCPE_WIRE_OPT_EOL     0
#define TCPE_WIRE_OPT_NOP     1
#define TCPE_WIRE_OPT_MSS     2 /* length 4 */
#define TCPE_WIRE_OPT_WSCALE  3 /* length 3 */
#define TCPE_WIRE_OPT_SACK_OK 4 /* length 2 */
#define TCPE_WIRE_OPT_SACK    5 /* length 2 + 8 per block, 1 to 4 blocks */
#define TCPE_WIRE_OPT_TS      8 /* length 10 */

/* What the engine does with the raw option values: no MSS option means 536, a tiny MSS is raised
 * to 48, a window-scale shift above 14 is used as 14 (see tcpe_wire_peer_mss/_wscale). */
#define TCPE_WIRE_MSS_DEFAULT 536 /* no MSS option: RFC 9293 3.7.1 (MUST-15) */
#define TCPE_WIRE_MSS_MIN     48  /* floor for a peer's MSS, as Linux (CVE-2019-11479) */
#define TCPE_WIRE_WSCALE_MAX  14  /* RFC 7323 2.3 */

/* Why a frame was dropped. Ordered by layer; values index tcpe_wire_stats.drops[]. */
enum tcpe_wire_drop {
    TCPE_WIRE_DROP_NONE = 0,     /* not dropped */
    TCPE_WIRE_DROP_ETH_RUNT,     /* frame shorter than the 14-byte Ethernet header */
    TCPE_WIRE_DROP_ETH_TYPE,     /* ethertype neither IPv4 nor ARP (VLAN tags included) */
    TCPE_WIRE_DROP_ARP_RUNT,     /* ARP payload shorter than 28 bytes */
    TCPE_WIRE_DROP_ARP_FORMAT,   /* not Ethernet/IPv4 ARP: htype, ptype, hlen or plen */
    TCPE_WIRE_DROP_ARP_OP,       /* opcode neither request nor reply */
    TCPE_WIRE_DROP_IP_RUNT,      /* fewer than 20 bytes, or fewer than IHL x 4 */
    TCPE_WIRE_DROP_IP_VERSION,   /* version field not 4 */
    TCPE_WIRE_DROP_IP_IHL,       /* IHL under 5 */
    TCPE_WIRE_DROP_IP_TOTLEN,    /* total length under the header length or beyond the frame */
    TCPE_WIRE_DROP_IP_CSUM,      /* header checksum wrong */
    TCPE_WIRE_DROP_IP_FRAGMENT,  /* MF set or fragment offset not 0 (no reassembly) */
    TCPE_WIRE_DROP_IP_PROTO,     /* protocol not TCP */
    TCPE_WIRE_DROP_TCP_RUNT,     /* segment shorter than the 20-byte TCP header */
    TCPE_WIRE_DROP_TCP_DOFF,     /* data offset under 5 or beyond the segment */
    TCPE_WIRE_DROP_TCP_CSUM,     /* TCP checksum wrong */
    TCPE_WIRE_DROP_TCP_OPT_LEN,  /* an option length of 0 or 1 */
    TCPE_WIRE_DROP_TCP_OPT_OVER, /* an option past the data offset, or a kind with no length */
    TCPE_WIRE_DROP_COUNT
};

/* Counters owned by the caller (one per interface, say); the parsers only ever add to them. */
struct tcpe_wire_stats {
    uint64_t rx_tcp;                      /* TCP segments delivered */
    uint64_t rx_arp;                      /* ARP messages delivered */
    uint64_t drops[TCPE_WIRE_DROP_COUNT]; /* frames dropped, by reason; [NONE] stays 0 */
};

/* The Ethernet II header. */
struct tcpe_wire_eth {
    uint8_t dst[TCPE_WIRE_ETH_ALEN];
    uint8_t src[TCPE_WIRE_ETH_ALEN];
    uint16_t type; /* ethertype */
};

/* An ARP message for IPv4 over Ethernet (RFC 826). */
struct tcpe_wire_arp {
    uint16_t op;                     /* TCPE_WIRE_ARP_REQUEST or _REPLY */
    uint8_t sha[TCPE_WIRE_ETH_ALEN]; /* sender hardware address */
    uint32_t spa;                    /* sender protocol (IPv4) address */
    uint8_t tha[TCPE_WIRE_ETH_ALEN]; /* target hardware address (zero in a request) */
    uint32_t tpa;                    /* target protocol address */
};

/* The IPv4 header fields a receiver may want beyond the addresses (which go to the seg). */
struct tcpe_wire_ipv4 {
    uint8_t tos;        /* DSCP and ECN */
    uint8_t ttl;        /* time to live */
    uint8_t proto;      /* protocol (6 once parsed as TCP) */
    uint8_t df;         /* 1 if Don't Fragment was set */
    uint16_t id;        /* identification */
    uint16_t hlen;      /* header length in bytes (IHL x 4, options included) */
    uint16_t total_len; /* total length; bytes past it in the frame were padding */
    uint32_t src;       /* source address */
    uint32_t dst;       /* destination address */
};

/* What a parse found. Only the parts of the layers the parse reached are written. */
struct tcpe_wire_pkt {
    enum tcpe_wire_drop drop; /* TCPE_WIRE_DROP_NONE after a success, else the reason */
    struct tcpe_wire_eth eth; /* set by tcpe_wire_eth_parse */
    struct tcpe_wire_arp arp; /* set when the frame is ARP */
    struct tcpe_wire_ipv4 ip; /* set once the IPv4 header passed its checks */
    struct tcpe_seg seg;      /* set when the packet is TCP; seg.data points into the frame */
};

/* What tcpe_wire_eth_parse found (its positive return values). */
enum tcpe_wire_kind {
    TCPE_WIRE_KIND_TCP = 1, /* pkt->seg (and pkt->ip, pkt->eth) are valid */
    TCPE_WIRE_KIND_ARP = 2, /* pkt->arp (and pkt->eth) are valid */
};

/* Receive flags: work the NIC already did. */
enum {
    TCPE_WIRE_RX_IP_CSUM_OK = 0x1,  /* IPv4 header checksum verified in hardware */
    TCPE_WIRE_RX_TCP_CSUM_OK = 0x2, /* TCP checksum verified in hardware */
    TCPE_WIRE_RX_CSUM_OK = 0x3,     /* both */
};

/* Transmit flags (tcpe_wire_tx.flags). */
enum {
    TCPE_WIRE_TX_DF = 0x1, /* set IPv4 Don't Fragment (TCP does path MTU discovery, RFC 1191) */
    /* Leave checksums to hardware, as Linux's CHECKSUM_PARTIAL does: the IPv4 header checksum is
     * written as 0 and the TCP checksum field holds the folded, uncomplemented pseudo-header sum,
     * which the NIC completes over the segment. */
    TCPE_WIRE_TX_CSUM_OFFLOAD = 0x2,
};

/* A sender's IPv4 parameters, and the identification counter the builders advance. */
struct tcpe_wire_tx {
    uint8_t ttl;    /* time to live */
    uint8_t tos;    /* DSCP and ECN */
    uint16_t ip_id; /* identification of the next datagram; each build uses it and adds 1 */
    unsigned flags; /* TCPE_WIRE_TX_* */
};

/* ---- drops and statistics (wire.c) ---- */

/* A short constant name for a drop reason ("tcp_csum"); "unknown" outside the enum. */
const char *tcpe_wire_drop_name(enum tcpe_wire_drop why);
/* The HO_E* code the parsers return for a reason: HO_EMSGSIZE when the frame holds fewer bytes
 * than a header needs or a length field claims (the *_RUNT reasons and IP_TOTLEN), HO_EPROTO for
 * every other malformed or unwanted packet, HO_OK for TCPE_WIRE_DROP_NONE. */
int tcpe_wire_drop_code(enum tcpe_wire_drop why);
/* Sum of all drop counters. */
uint64_t tcpe_wire_drops_total(const struct tcpe_wire_stats *st);

/* Sets a sender's defaults: TTL 64, TOS 0, Don't Fragment, checksums in software, and the first
 * identification to use. */
void tcpe_wire_tx_init(struct tcpe_wire_tx *tx, uint16_t first_id);

/* The MSS to use toward a peer from its SYN: the option's value raised to TCPE_WIRE_MSS_MIN, or
 * TCPE_WIRE_MSS_DEFAULT when the SYN carried no MSS option. */
uint16_t tcpe_wire_peer_mss(const struct tcpe_seg *syn);
/* The peer's window-scale shift from its SYN, clamped to TCPE_WIRE_WSCALE_MAX (RFC 7323 2.3 says
 * to log and use 14); HO_ENOENT if the SYN carried no window-scale option (no scaling). */
int tcpe_wire_peer_wscale(const struct tcpe_seg *syn);

/* ---- checksums (wire_csum.c) ---- */

/* Adds buf[0..len) to a running 16-bit one's-complement sum (RFC 1071) and returns the new sum,
 * folded and not complemented. Bytes are taken as big-endian 16-bit words from buf[0]; an odd
 * final byte is padded with a zero. Any alignment and length. To sum several pieces, every piece
 * but the last must have an even length. Start with sum 0. */
uint16_t tcpe_wire_csum_add(uint16_t sum, const void *buf, size_t len);
/* The Internet checksum of buf[0..len): the complement of tcpe_wire_csum_add(0, buf, len). */
uint16_t tcpe_wire_csum(const void *buf, size_t len);
/* The one's-complement sum (not complemented) of the TCP/UDP pseudo-header (RFC 9293 3.1):
 * source, destination, zero, protocol and the transport length (header + data). */
uint16_t tcpe_wire_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);
/* Updates a checksum field when one 16-bit word it covers changes from old_word to new_word,
 * without resumming (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')). */
uint16_t tcpe_wire_csum_update16(uint16_t csum, uint16_t old_word, uint16_t new_word);
/* The same for a 32-bit field (an address, a sequence number) at an even offset. */
uint16_t tcpe_wire_csum_update32(uint16_t csum, uint32_t old_val, uint32_t new_val);

/* ---- parsing ---- */

/* Parses an Ethernet II frame buf[0..len): an IPv4 TCP segment (as tcpe_wire_ipv4_parse, on the
 * bytes after the Ethernet header) or an ARP message (bytes after the 28 ARP bytes are padding).
 * rx_flags: TCPE_WIRE_RX_*. st may be NULL (nothing counted). pkt->seg.data, if set, points into
 * buf, which must outlive its use.
 * Returns TCPE_WIRE_KIND_TCP or TCPE_WIRE_KIND_ARP; on a drop, tcpe_wire_drop_code(pkt->drop)
 * (HO_EMSGSIZE or HO_EPROTO), with pkt->drop the reason and st->drops[pkt->drop] incremented.
 * Unknown ethertypes are drops (TCPE_WIRE_DROP_ETH_TYPE). */
int tcpe_wire_eth_parse(const uint8_t *buf, size_t len, unsigned rx_flags,
                        struct tcpe_wire_pkt *pkt, struct tcpe_wire_stats *st);

/* Parses an IPv4 datagram buf[0..len) that must carry a whole TCP segment. Checks: version 4,
 * IHL >= 5 and within buf, total length >= IHL x 4 and <= len (bytes past the total length are
 * link-layer padding and are ignored), the header checksum (unless TCPE_WIRE_RX_IP_CSUM_OK), no
 * fragment (MF clear, offset 0), protocol 6; IP options are skipped. Then the segment is parsed
 * as by tcpe_wire_tcp_parse. Fills pkt->ip and pkt->seg.
 * Returns TCPE_WIRE_KIND_TCP, or a drop as for tcpe_wire_eth_parse. */
int tcpe_wire_ipv4_parse(const uint8_t *buf, size_t len, unsigned rx_flags,
                         struct tcpe_wire_pkt *pkt, struct tcpe_wire_stats *st);

/* Parses a TCP segment buf[0..len) (header, options, payload) sent from src_ip to dst_ip.
 * Checks: at least 20 bytes, data offset >= 5 and within the segment, the checksum over the
 * pseudo-header and segment (unless TCPE_WIRE_RX_TCP_CSUM_OK), and the options: EOL ends them,
 * NOP is skipped, MSS/WS/SACK-permitted/timestamps are recorded raw in pkt->seg, any other option
 * with a valid length is skipped (RFC 9293 MUST-6), as is a known kind with a length other than
 * its own (as Linux does); a length of 0 or 1 (TCP_OPT_LEN), or an option running past the data
 * offset or a kind in the last byte with no room for a length (TCP_OPT_OVER), drops the segment
 * (RFC 9293 MUST-7 asks for illegal lengths to be handled, suggesting a reset; a codec
 * cannot reset, so it drops and counts). Fills pkt->seg only.
 * Returns TCPE_WIRE_KIND_TCP, or a drop as for tcpe_wire_eth_parse. */
int tcpe_wire_tcp_parse(uint32_t src_ip, uint32_t dst_ip, const uint8_t *buf, size_t len,
                        unsigned rx_flags, struct tcpe_wire_pkt *pkt, struct tcpe_wire_stats *st);

/* Parses an ARP payload buf[0..len) (bytes after the first 28 are padding). Fills pkt->arp.
 * Returns TCPE_WIRE_KIND_ARP, or a drop (ARP_RUNT, ARP_FORMAT, ARP_OP). */
int tcpe_wire_arp_parse(const uint8_t *buf, size_t len, struct tcpe_wire_pkt *pkt,
                        struct tcpe_wire_stats *st);

/* ---- building ---- */

/* Length in bytes of the TCP header seg would be written with: 20 plus the options flagged in
 * seg->opts, padded to a multiple of 4 (at most 60). Of seg's SACK blocks (TCPE_OPT_SACK) the
 * first ones that fit in the 40 option bytes beside the other options are written, the rest
 * left out. */
int tcpe_wire_tcp_hdr_len(const struct tcpe_seg *seg);
/* IPv4 total length of seg as built (20 + TCP header + seg->len), or HO_EMSGSIZE if over 65535. */
int tcpe_wire_ipv4_len(const struct tcpe_seg *seg);
/* Ethernet frame length of seg as built (14 + tcpe_wire_ipv4_len), or HO_EMSGSIZE. No padding
 * to the 60-byte Ethernet minimum is added: like a host stack, the builder leaves that to the
 * NIC, and the TAP device and pcap files take short frames. */
int tcpe_wire_eth_len(const struct tcpe_seg *seg);

/* Writes the IPv4 and TCP headers of seg (IPv4 without options; TCP options as flagged in
 * seg->opts: MSS, SACK-permitted, timestamps, window scale, in the layout Linux uses, each
 * 4-byte aligned) into buf[0..cap), but not the payload. The IPv4 total length and both
 * checksums cover the whole datagram: the TCP checksum sums seg->data when it is not NULL and
 * treats virtual payload (data == NULL) as seg->len zero bytes, so a capture that pads the
 * payload with zeros verifies. Uses tx->ttl, tos and flags and takes tx->ip_id (then adds 1).
 * Returns the header length written (40 to 60), HO_EMSGSIZE if the datagram would exceed 65535
 * bytes, HO_ENOSPC if cap is too small (nothing is then written and ip_id is unchanged). */
int tcpe_wire_ipv4_build_hdr(struct tcpe_wire_tx *tx, const struct tcpe_seg *seg, uint8_t *buf,
                             size_t cap);
/* As tcpe_wire_ipv4_build_hdr, then copies the seg->len payload bytes after the headers.
 * Returns the datagram length; HO_EINVAL if seg->len > 0 and seg->data is NULL, HO_EMSGSIZE,
 * HO_ENOSPC as above. */
int tcpe_wire_ipv4_build(struct tcpe_wire_tx *tx, const struct tcpe_seg *seg, uint8_t *buf,
                         size_t cap);
/* As tcpe_wire_ipv4_build_hdr, behind an Ethernet header with eth->dst and eth->src (eth->type is
 * ignored: IPv4 is written). Returns the header length written (54 to 74) or an error as above. */
int tcpe_wire_eth_build_hdr(struct tcpe_wire_tx *tx, const struct tcpe_wire_eth *eth,
                            const struct tcpe_seg *seg, uint8_t *buf, size_t cap);
/* As tcpe_wire_ipv4_build, behind an Ethernet header. Returns the frame length or an error as
 * for tcpe_wire_ipv4_build. */
int tcpe_wire_eth_build(struct tcpe_wire_tx *tx, const struct tcpe_wire_eth *eth,
                        const struct tcpe_seg *seg, uint8_t *buf, size_t cap);

/* Writes an Ethernet ARP reply to req, a request for our_ip, from our_mac: to req->sha, telling
 * it our_ip is at our_mac. Returns TCPE_WIRE_ARP_FRAME_LEN; HO_EINVAL if req is not a request,
 * HO_ENOENT if it asks for another address (no reply is due), HO_ENOSPC if cap < 42. */
int tcpe_wire_arp_build_reply(const struct tcpe_wire_arp *req,
                              const uint8_t our_mac[TCPE_WIRE_ETH_ALEN], uint32_t our_ip,
                              uint8_t *buf, size_t cap);
/* Writes a broadcast Ethernet ARP request from our_mac/our_ip asking for target_ip.
 * Returns TCPE_WIRE_ARP_FRAME_LEN, or HO_ENOSPC if cap < 42. */
int tcpe_wire_arp_build_request(const uint8_t our_mac[TCPE_WIRE_ETH_ALEN], uint32_t our_ip,
                                uint32_t target_ip, uint8_t *buf, size_t cap);

#endif
