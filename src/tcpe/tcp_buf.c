/*
 * tcp_buf.c - ring buffers that hold real octets or only count virtual ones (see tcp_buf.h).
 *
 * Called by the user calls (tcp_usr.c: send appends, receive drops), by input (in-order data
 * appends, acknowledged data drops) and by output (peek at what to send). Storage is sized to
 * the content: it doubles when full, halves when three quarters empty and is freed when empty,
 * which keeps ten thousand mostly idle connections cheap.
 */
#include "tcp_buf.h"

#include <string.h>

#include "handoff/assert.h"
#include "handoff/err.h"

#define TCP_BUF_MIN_CAP 256u
/* Above this, capacities stop being powers of two (the largest buffer is 2^30 + slack). */
#define TCP_BUF_MAX_CAP (1u << 31)

/* Moves the content into a new allocation of cap octets, linear from index 0. */
static int buf_resize(struct tcp_buf *b, const struct tcp_alloc *a, uint32_t cap)
{
    uint8_t *nd = a->fn(a->ctx, NULL, cap);
    if (nd == NULL) {
        return HO_ENOMEM;
    }
    tcp_buf_copy(b, 0, nd, b->len);
    if (b->data != NULL) {
        a->fn(a->ctx, b->data, 0);
    }
    b->data = nd;
    b->cap = cap;
    b->head = 0;
    return HO_OK;
}

int tcp_buf_append(struct tcp_buf *b, const struct tcp_alloc *a, const uint8_t *src, uint32_t n)
{
    HO_ASSERT(n <= TCP_BUF_MAX_CAP - b->len, "buffer of %u octets cannot take %u more", b->len, n);
    if (src == NULL) {
        HO_ASSERT(b->data == NULL, "virtual octets appended to a real buffer");
        b->len += n;
        return HO_OK;
    }
    if (n == 0) {
        return HO_OK;
    }
    if (b->len + n > b->cap) {
        uint32_t cap = b->cap ? b->cap : TCP_BUF_MIN_CAP;
        while (cap < b->len + n) {
            cap *= 2;
        }
        int err = buf_resize(b, a, cap);
        if (err < 0) {
            return err;
        }
    }
    uint32_t tail = (b->head + b->len) % b->cap;
    uint32_t first = b->cap - tail < n ? b->cap - tail : n;
    memcpy(b->data + tail, src, first);
    memcpy(b->data, src + first, n - first);
    b->len += n;
    return HO_OK;
}

void tcp_buf_copy(const struct tcp_buf *b, uint32_t off, uint8_t *dst, uint32_t n)
{
    HO_ASSERT(off <= b->len && n <= b->len - off, "copy of [%u, +%u) from %u octets", off, n,
              b->len);
    if (n == 0) {
        return;
    }
    HO_ASSERT(b->data != NULL, "copy from a virtual buffer");
    uint32_t start = (b->head + off) % b->cap;
    uint32_t first = b->cap - start < n ? b->cap - start : n;
    memcpy(dst, b->data + start, first);
    memcpy(dst + first, b->data, n - first);
}

const uint8_t *tcp_buf_peek(const struct tcp_buf *b, uint32_t off, uint32_t n, uint8_t *scratch)
{
    if (b->data == NULL || n == 0) {
        return NULL;
    }
    HO_ASSERT(off <= b->len && n <= b->len - off, "peek at [%u, +%u) of %u octets", off, n, b->len);
    uint32_t start = (b->head + off) % b->cap;
    if (start + n <= b->cap) {
        return b->data + start;
    }
    tcp_buf_copy(b, off, scratch, n);
    return scratch;
}

void tcp_buf_drop(struct tcp_buf *b, const struct tcp_alloc *a, uint32_t n)
{
    HO_ASSERT(n <= b->len, "drop of %u from %u octets", n, b->len);
    b->len -= n;
    if (b->data == NULL) {
        return;
    }
    if (b->len == 0) {
        tcp_buf_free(b, a);
        return;
    }
    b->head = (b->head + n) % b->cap;
    /* Halve when three quarters empty; a failed allocation just keeps the larger ring. */
    if (b->cap > TCP_BUF_MIN_CAP && b->len <= b->cap / 4) {
        (void)buf_resize(b, a, b->cap / 2);
    }
}

void tcp_buf_free(struct tcp_buf *b, const struct tcp_alloc *a)
{
    if (b->data != NULL) {
        a->fn(a->ctx, b->data, 0);
    }
    b->data = NULL;
    b->cap = 0;
    b->head = 0;
    b->len = 0;
}
