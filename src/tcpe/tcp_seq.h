/*
 * tcp_seq.h - sequence-number arithmetic modulo 2^32 (RFC 9293 3.4).
 *
 * Sequence numbers wrap, so a raw `<` is wrong near 2^32-1. These compare through the signed
 * difference, as FreeBSD's tcp_seq.h does: a is before b when b - a, taken modulo 2^32, is
 * below 2^31. Every sequence comparison in the engine goes through them.
 */
#ifndef TCPE_TCP_SEQ_H
#define TCPE_TCP_SEQ_H

#include <stdint.h>

#define SEQ_DIFF(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)))
#define SEQ_LT(a, b)   (SEQ_DIFF(a, b) < 0)
#define SEQ_LEQ(a, b)  (SEQ_DIFF(a, b) <= 0)
#define SEQ_GT(a, b)   (SEQ_DIFF(a, b) > 0)
#define SEQ_GEQ(a, b)  (SEQ_DIFF(a, b) >= 0)
#define SEQ_MAX(a, b)  (SEQ_GT(a, b) ? (a) : (b))
#define SEQ_MIN(a, b)  (SEQ_LT(a, b) ? (a) : (b))
/* a <= x < b, all modulo 2^32 (b - a must be below 2^31). */
#define SEQ_IN(x, a, b) (SEQ_LEQ(a, x) && SEQ_LT(x, b))

#endif
