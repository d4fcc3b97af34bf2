/*
 * wire_internal.h - what the files of the packet codec (wire*.c) share and nobody else uses.
 *
 * The codec is split by layer (wire_eth.c, wire_arp.c, wire_ipv4.c, wire_tcp.c) plus the
 * checksum (wire_csum.c) and the bookkeeping (wire.c); each layer hands the bytes it does not
 * understand to the next one down through the public parse functions, and records drops through
 * tcpe_wire_drop so that every dropped frame is counted exactly once, by the layer that refused it.
 */
#ifndef HANDOFF_TCPE_WIRE_INTERNAL_H
#define HANDOFF_TCPE_WIRE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "handoff/tcpe_wire.h"

/* Records a drop: sets pkt->drop, counts it in st (if not NULL) and returns the reason's HO_E*
 * code, so a parser can write `return tcpe_wire_drop(pkt, st, WHY);`. */
int tcpe_wire_drop(struct tcpe_wire_pkt *pkt, struct tcpe_wire_stats *st, enum tcpe_wire_drop why);

/* Writes the TCP header of seg (hdr_len bytes, from tcpe_wire_tcp_hdr_len) at buf with the
 * checksum field set to 0. The caller has checked that hdr_len bytes fit. */
void tcpe_wire_tcp_write_hdr(const struct tcpe_seg *seg, int hdr_len, uint8_t *buf);

/* Writes an Ethernet II header at buf (which has room for 14 bytes). */
void tcpe_wire_eth_write_hdr(const uint8_t dst[TCPE_WIRE_ETH_ALEN],
                             const uint8_t src[TCPE_WIRE_ETH_ALEN], uint16_t type, uint8_t *buf);

#endif
