/*
 * tcpe_seg.h - a TCP segment as the TCP engine sees it, apart from any wire encoding.
 *
 * This is the contract between the packet codec (src/tcpe/wire.c: Ethernet, ARP, IPv4 and TCP
 * headers, checksums, option parsing) and the TCP state machine (src/tcpe/tcp_*.c): the codec
 * turns bytes into a validated tcpe_seg and back, and the state machine never sees raw headers.
 *
 * Addresses and ports are in host byte order. The payload is either real bytes (data != NULL,
 * the emulator and the tests) or virtual (data == NULL, the simulator, which moves only lengths
 * as sendfile moves only page references).
 */
#ifndef HANDOFF_TCPE_SEG_H
#define HANDOFF_TCPE_SEG_H

#include <stdint.h>

/* TCP header flags, as in the header's flags byte (RFC 9293 3.1, RFC 3168 for ECE/CWR). */
enum {
    TCPE_FIN = 0x01,
    TCPE_SYN = 0x02,
    TCPE_RST = 0x04,
    TCPE_PSH = 0x08,
    TCPE_ACK = 0x10,
    TCPE_URG = 0x20,
    TCPE_ECE = 0x40,
    TCPE_CWR = 0x80,
};

/* Which options a segment carries (tcpe_seg.opts). */
enum {
    TCPE_OPT_MSS = 0x01,     /* kind 2, RFC 9293 3.7.1 */
    TCPE_OPT_WSCALE = 0x02,  /* kind 3, RFC 7323 2 */
    TCPE_OPT_SACK_OK = 0x04, /* kind 4, RFC 2018 2: SACK permitted (SYNs only) */
    TCPE_OPT_TS = 0x08,      /* kind 8, RFC 7323 3 */
    TCPE_OPT_SACK = 0x10,    /* kind 5, RFC 2018 3: SACK blocks (nsack of them) */
};

/* The most SACK blocks one option holds: 2 + 8n octets within the 40 of option space. With
 * timestamps only 3 fit. */
#define TCPE_SACK_MAX 4

/* One SACK block (RFC 2018 3): the octets [start, end) arrived, in sequence space. */
struct tcpe_sack_block {
    uint32_t start; /* first octet of the block */
    uint32_t end;   /* the octet just past it */
};

/* A connection's addresses: the 4-tuple, named from one endpoint's point of view. */
struct tcpe_tuple {
    uint32_t local_ip;
    uint32_t remote_ip;
    uint16_t local_port;
    uint16_t remote_port;
};

struct tcpe_seg {
    uint32_t src_ip;   /* IPv4 source address */
    uint32_t dst_ip;   /* IPv4 destination address */
    uint16_t src_port; /* TCP source port */
    uint16_t dst_port; /* TCP destination port */
    uint32_t seq;      /* sequence number of the first octet (or of the SYN) */
    uint32_t ack;      /* acknowledgment number, meaningful when TCPE_ACK is set */
    uint8_t flags;     /* TCPE_FIN | TCPE_SYN | ... */
    uint16_t wnd;      /* window field as sent, not yet scaled */
    uint16_t urp;      /* urgent pointer (ignored by the engine) */
    uint8_t opts;      /* TCPE_OPT_* present */
    uint16_t mss;      /* MSS option value, raw (clamping is the state machine's job) */
    uint8_t wscale;    /* window-scale option shift, raw (clamped to 14 by the engine) */
    uint32_t ts_val;   /* timestamp value (RFC 7323) */
    uint32_t ts_ecr;   /* timestamp echo reply */
    uint8_t nsack;     /* SACK blocks in sack[] (with TCPE_OPT_SACK; 1..TCPE_SACK_MAX) */
    struct tcpe_sack_block sack[TCPE_SACK_MAX]; /* as on the wire: first block first, raw */
    uint32_t len;                               /* payload octets (SYN and FIN not counted) */
    const uint8_t *data;                        /* payload bytes, or NULL for virtual payload */
};

#endif
