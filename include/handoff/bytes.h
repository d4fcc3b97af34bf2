/*
 * bytes.h - bounds-checked, big-endian byte writer and reader.
 *
 * Everything that crosses a boundary (handoff command messages, exported TCP state, packet
 * headers) is encoded field by field through these, never by copying a struct: the encoding is
 * then independent of the compiler's layout and the host's byte order, and a reader can never
 * run past the end of its input.
 *
 * Both objects are "sticky": after the first overflow every further call does nothing and
 * ho_wr_error()/ho_rd_error() report HO_EMSGSIZE, so a codec can write or read all its fields and
 * check once at the end.
 */
#ifndef HANDOFF_BYTES_H
#define HANDOFF_BYTES_H

#include <stddef.h>
#include <stdint.h>

struct ho_wr {
    uint8_t *buf; /* destination */
    size_t cap;   /* bytes available at buf */
    size_t len;   /* bytes written so far */
    int err;      /* HO_OK, or HO_EMSGSIZE after an overflow */
};

struct ho_rd {
    const uint8_t *buf; /* source */
    size_t len;         /* bytes available at buf */
    size_t pos;         /* next byte to read */
    int err;            /* HO_OK, or HO_EMSGSIZE after a read past the end */
};

/* Starts writing into buf[0..cap). With buf NULL every write fails (capacity 0). */
void ho_wr_init(struct ho_wr *w, uint8_t *buf, size_t cap);
void ho_wr_u8(struct ho_wr *w, uint8_t v);
void ho_wr_u16(struct ho_wr *w, uint16_t v);
void ho_wr_u32(struct ho_wr *w, uint32_t v);
void ho_wr_u64(struct ho_wr *w, uint64_t v);
void ho_wr_bytes(struct ho_wr *w, const void *src, size_t n);
/* Returns HO_OK, or HO_EMSGSIZE if any write did not fit. */
int ho_wr_error(const struct ho_wr *w);

/* Starts reading buf[0..len). */
void ho_rd_init(struct ho_rd *r, const uint8_t *buf, size_t len);
/* Each getter returns 0 once the reader has failed; check ho_rd_error() after the last read. */
uint8_t ho_rd_u8(struct ho_rd *r);
uint16_t ho_rd_u16(struct ho_rd *r);
uint32_t ho_rd_u32(struct ho_rd *r);
uint64_t ho_rd_u64(struct ho_rd *r);
/* Copies n bytes to dst (dst may be NULL to skip them). */
void ho_rd_bytes(struct ho_rd *r, void *dst, size_t n);
/* Bytes not yet read. */
size_t ho_rd_left(const struct ho_rd *r);
/* Returns HO_OK, or HO_EMSGSIZE if any read ran past the end. */
int ho_rd_error(const struct ho_rd *r);

#endif
