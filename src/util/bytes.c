/*
 * bytes.c - the bounds-checked big-endian writer and reader of include/handoff/bytes.h.
 *
 * Fields are assembled byte by byte with shifts, which is independent of host byte order and of
 * alignment, and which compilers turn into a single load/store plus byte swap.
 */
#include "handoff/bytes.h"

#include <string.h>

#include "handoff/err.h"

void ho_wr_init(struct ho_wr *w, uint8_t *buf, size_t cap)
{
    w->buf = buf;
    w->cap = buf ? cap : 0;
    w->len = 0;
    w->err = HO_OK;
}

/* Reserves n bytes and returns where to put them, or NULL (and records the overflow). */
static uint8_t *wr_reserve(struct ho_wr *w, size_t n)
{
    if (w->err != HO_OK) {
        return NULL;
    }
    if (n > w->cap - w->len) {
        w->err = HO_EMSGSIZE;
        return NULL;
    }
    uint8_t *p = w->buf + w->len;
    w->len += n;
    return p;
}

void ho_wr_u8(struct ho_wr *w, uint8_t v)
{
    uint8_t *p = wr_reserve(w, 1);
    if (p) {
        p[0] = v;
    }
}

void ho_wr_u16(struct ho_wr *w, uint16_t v)
{
    uint8_t *p = wr_reserve(w, 2);
    if (p) {
        p[0] = (uint8_t)(v >> 8);
        p[1] = (uint8_t)v;
    }
}

void ho_wr_u32(struct ho_wr *w, uint32_t v)
{
    uint8_t *p = wr_reserve(w, 4);
    if (p) {
        for (int i = 0; i < 4; i++) {
            p[i] = (uint8_t)(v >> (24 - 8 * i));
        }
    }
}

void ho_wr_u64(struct ho_wr *w, uint64_t v)
{
    uint8_t *p = wr_reserve(w, 8);
    if (p) {
        for (int i = 0; i < 8; i++) {
            p[i] = (uint8_t)(v >> (56 - 8 * i));
        }
    }
}

void ho_wr_bytes(struct ho_wr *w, const void *src, size_t n)
{
    uint8_t *p = wr_reserve(w, n);
    if (p && n > 0) {
        memcpy(p, src, n);
    }
}

int ho_wr_error(const struct ho_wr *w)
{
    return w->err;
}

void ho_rd_init(struct ho_rd *r, const uint8_t *buf, size_t len)
{
    r->buf = buf;
    r->len = buf ? len : 0;
    r->pos = 0;
    r->err = HO_OK;
}

/* Consumes n bytes and returns where they are, or NULL (and records the overrun). */
static const uint8_t *rd_take(struct ho_rd *r, size_t n)
{
    if (r->err != HO_OK) {
        return NULL;
    }
    if (n > r->len - r->pos) {
        r->err = HO_EMSGSIZE;
        return NULL;
    }
    const uint8_t *p = r->buf + r->pos;
    r->pos += n;
    return p;
}

uint8_t ho_rd_u8(struct ho_rd *r)
{
    const uint8_t *p = rd_take(r, 1);
    return p ? p[0] : 0;
}

uint16_t ho_rd_u16(struct ho_rd *r)
{
    const uint8_t *p = rd_take(r, 2);
    return p ? (uint16_t)((p[0] << 8) | p[1]) : 0;
}

uint32_t ho_rd_u32(struct ho_rd *r)
{
    const uint8_t *p = rd_take(r, 4);
    if (!p) {
        return 0;
    }
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

uint64_t ho_rd_u64(struct ho_rd *r)
{
    const uint8_t *p = rd_take(r, 8);
    if (!p) {
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

void ho_rd_bytes(struct ho_rd *r, void *dst, size_t n)
{
    const uint8_t *p = rd_take(r, n);
    if (p && dst && n > 0) {
        memcpy(dst, p, n);
    }
}

size_t ho_rd_left(const struct ho_rd *r)
{
    return r->err == HO_OK ? r->len - r->pos : 0;
}

int ho_rd_error(const struct ho_rd *r)
{
    return r->err;
}
