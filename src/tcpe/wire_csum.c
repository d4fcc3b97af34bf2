/*
 * wire_csum.c - the Internet checksum (RFC 1071) and its incremental update (RFC 1624).
 *
 * Called by the IPv4 and TCP parsers and builders for every packet, so it is written for speed:
 * the buffer is summed 64 bits at a time in host byte order with an end-around carry, and only
 * the final value is folded to 16 bits and put in network order. Both steps rest on RFC 1071's
 * properties: the one's-complement sum is independent of byte order (byte-swapped inputs give
 * the byte-swapped sum) and can be accumulated in any wider word, because 2^16 - 1 divides
 * 2^64 - 1, and folded at the end. Loads go through memcpy, so any alignment works, and the
 * 0 to 7 trailing bytes are summed from a zero-filled copy, which is RFC 1071's zero padding of
 * an odd final byte.
 */
#include "handoff/tcpe_wire.h"

#include <string.h>

/* a + b in one's-complement arithmetic on 64-bit words (end-around carry). */
static uint64_t add_carry64(uint64_t a, uint64_t b)
{
    uint64_t s = a + b;
    return s + (s < b);
}

static uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* The one's-complement sum of buf as 16-bit words in host byte order, folded to 16 bits. */
static uint16_t sum_host_order(const uint8_t *p, size_t len)
{
    /* Two accumulators let consecutive adds run in parallel. */
    uint64_t a = 0;
    uint64_t b = 0;
    while (len >= 32) {
        a = add_carry64(a, load64(p));
        b = add_carry64(b, load64(p + 8));
        a = add_carry64(a, load64(p + 16));
        b = add_carry64(b, load64(p + 24));
        p += 32;
        len -= 32;
    }
    while (len >= 8) {
        a = add_carry64(a, load64(p));
        p += 8;
        len -= 8;
    }
    if (len > 0) {
        uint8_t tail[8] = {0};
        memcpy(tail, p, len);
        b = add_carry64(b, load64(tail));
    }
    uint64_t s = add_carry64(a, b);
    s = (s & 0xffffffffu) + (s >> 32); /* at most 33 bits */
    s = (s & 0xffffffffu) + (s >> 32); /* at most 32 bits */
    s = (s & 0xffffu) + (s >> 16);     /* at most 17 bits */
    s = (s & 0xffffu) + (s >> 16);     /* 16 bits */
    return (uint16_t)s;
}

/* A 16-bit value summed in host order, read back as the big-endian word it stands for. */
static uint16_t host_sum_to_network(uint16_t s)
{
    uint8_t b[2];
    memcpy(b, &s, sizeof b);
    return (uint16_t)((b[0] << 8) | b[1]);
}

static uint16_t fold32(uint32_t s)
{
    s = (s & 0xffffu) + (s >> 16);
    s = (s & 0xffffu) + (s >> 16);
    return (uint16_t)s;
}

uint16_t tcpe_wire_csum_add(uint16_t sum, const void *buf, size_t len)
{
    if (len == 0) {
        return sum;
    }
    uint16_t s = host_sum_to_network(sum_host_order(buf, len));
    return fold32((uint32_t)sum + s);
}

uint16_t tcpe_wire_csum(const void *buf, size_t len)
{
    return (uint16_t)~tcpe_wire_csum_add(0, buf, len);
}

uint16_t tcpe_wire_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
    uint32_t s = (src >> 16) + (src & 0xffffu) + (dst >> 16) + (dst & 0xffffu);
    s += proto;
    s += len;
    return fold32(s);
}

uint16_t tcpe_wire_csum_update16(uint16_t csum, uint16_t old_word, uint16_t new_word)
{
    uint32_t s = (uint32_t)(uint16_t)~csum + (uint16_t)~old_word + new_word;
    return (uint16_t)~fold32(s);
}

uint16_t tcpe_wire_csum_update32(uint16_t csum, uint32_t old_val, uint32_t new_val)
{
    csum = tcpe_wire_csum_update16(csum, (uint16_t)(old_val >> 16), (uint16_t)(new_val >> 16));
    return tcpe_wire_csum_update16(csum, (uint16_t)old_val, (uint16_t)new_val);
}
