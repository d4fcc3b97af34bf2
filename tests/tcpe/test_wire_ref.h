/*
 * test_wire_ref.h - straightforward reference code for the packet-codec tests: a byte-by-byte
 * Internet checksum, checksum fix-ups for hand-edited frames, and exact-size heap copies so that
 * AddressSanitizer sees any read past a frame's end.
 *
 * The reference checksum is deliberately the slow textbook loop of RFC 1071 section 4.1, sharing
 * nothing with the word-at-a-time code it checks.
 */
#ifndef TEST_WIRE_REF_H
#define TEST_WIRE_REF_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/assert.h"
#include "handoff/rng.h"
#include "handoff/tcpe_wire.h"

/* The one's-complement sum of p[0..n) as big-endian words, added to s, folded to 16 bits. */
static inline uint16_t ref_sum(uint32_t s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        s += (uint32_t)((p[i] << 8) | p[i + 1]);
        while (s >> 16) {
            s = (s & 0xffff) + (s >> 16);
        }
    }
    if (n & 1) {
        s += (uint32_t)p[n - 1] << 8;
    }
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return (uint16_t)s;
}

static inline uint16_t ref_get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline void ref_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* The TCP checksum of the IPv4 datagram at ip (header length and total length from its
 * header), computed from the pseudo-header bytes as RFC 9293 3.1 lays them out. */
static inline uint16_t ref_tcp_csum(const uint8_t *ip)
{
    size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
    size_t total = ref_get16(ip + 2);
    size_t tcp_len = total - ihl;
    uint8_t pseudo[12];
    memcpy(pseudo, ip + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = ip[9];
    ref_put16(pseudo + 10, (uint16_t)tcp_len);
    uint8_t *copy = malloc(tcp_len + 1);
    HO_ASSERT(copy != NULL, "out of memory");
    memcpy(copy, ip + ihl, tcp_len);
    if (tcp_len >= 18) {
        copy[16] = 0; /* the checksum field itself counts as zero */
        copy[17] = 0;
    }
    uint16_t s = ref_sum(ref_sum(0, pseudo, sizeof pseudo), copy, tcp_len);
    free(copy);
    return (uint16_t)~s;
}

/* The IPv4 header checksum of the header at ip, computed with its checksum field as zero. */
static inline uint16_t ref_ip_csum(const uint8_t *ip)
{
    size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
    uint8_t hdr[60];
    memcpy(hdr, ip, ihl);
    hdr[10] = 0;
    hdr[11] = 0;
    return (uint16_t)~ref_sum(0, hdr, ihl);
}

/* Rewrites the IPv4 header checksum of the datagram at ip. */
static inline void ref_fix_ip(uint8_t *ip)
{
    ref_put16(ip + 10, ref_ip_csum(ip));
}

/* Rewrites both checksums of the IPv4/TCP datagram at ip (whose total length must be right). */
static inline void ref_fix_ip_tcp(uint8_t *ip)
{
    size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
    ref_put16(ip + ihl + 16, ref_tcp_csum(ip));
    ref_fix_ip(ip);
}

/* A heap copy of exactly n bytes (ASan flags any access past it, even for n = 0, where the
 * copy may also be NULL); free() it. */
static inline uint8_t *ref_dup(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n);
    HO_ASSERT(d != NULL || n == 0, "out of memory");
    if (d) {
        memcpy(d, p, n);
    }
    return d;
}

/* A random segment: addresses, ports, flags, options and a payload of 0..max_len bytes of real
 * data taken from pool (which must hold max_len bytes). */
static inline struct tcpe_seg ref_random_seg(struct ho_rng *rng, const uint8_t *pool,
                                             uint32_t max_len)
{
    struct tcpe_seg s = {0};
    s.src_ip = (uint32_t)ho_rng_next(rng);
    s.dst_ip = (uint32_t)ho_rng_next(rng);
    s.src_port = (uint16_t)ho_rng_next(rng);
    s.dst_port = (uint16_t)ho_rng_next(rng);
    s.seq = (uint32_t)ho_rng_next(rng);
    s.ack = (uint32_t)ho_rng_next(rng);
    s.flags = (uint8_t)ho_rng_next(rng);
    s.wnd = (uint16_t)ho_rng_next(rng);
    s.urp = (uint16_t)ho_rng_next(rng);
    s.opts = (uint8_t)(ho_rng_next(rng) & 0x0f);
    if (s.opts & TCPE_OPT_MSS) {
        s.mss = (uint16_t)ho_rng_next(rng);
    }
    if (s.opts & TCPE_OPT_WSCALE) {
        s.wscale = (uint8_t)ho_rng_next(rng);
    }
    if (s.opts & TCPE_OPT_TS) {
        s.ts_val = (uint32_t)ho_rng_next(rng);
        s.ts_ecr = (uint32_t)ho_rng_next(rng);
    }
    s.len = (uint32_t)ho_rng_below(rng, (uint64_t)max_len + 1);
    s.data = pool + ho_rng_below(rng, (uint64_t)max_len - s.len + 1);
    return s;
}

#endif
