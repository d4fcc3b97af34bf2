/*
 * tcp_buf.h - a connection's byte buffers: a ring that holds real bytes or only a length.
 *
 * The send buffer holds the octets from SND.UNA on (acknowledged ones leave from the front); the
 * receive buffer holds in-order octets the application has not read. Both grow with their
 * content and give their memory back when they drain, so an idle connection costs no buffer
 * memory; with virtual payload they never allocate at all. Allocation goes through the stack's
 * allocator so tests can make any allocation fail.
 */
#ifndef TCPE_TCP_BUF_H
#define TCPE_TCP_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The stack's allocator: realloc-like, size 0 frees. */
struct tcp_alloc {
    void *(*fn)(void *ctx, void *p, size_t size); /* allocate, resize or free */
    void *ctx;                                    /* passed to fn */
};

struct tcp_buf {
    uint8_t *data; /* ring storage (NULL when empty or virtual) */
    uint32_t cap;  /* octets allocated at data */
    uint32_t head; /* index of the first octet in data */
    uint32_t len;  /* octets held, real or virtual */
};

/* Appends n octets from src, or n virtual octets when src is NULL (the buffer must then never
 * hold real ones). Returns HO_OK or HO_ENOMEM (buffer unchanged). */
int tcp_buf_append(struct tcp_buf *b, const struct tcp_alloc *a, const uint8_t *src, uint32_t n);

/* Copies n octets starting off octets from the front into dst (off + n <= len). */
void tcp_buf_copy(const struct tcp_buf *b, uint32_t off, uint8_t *dst, uint32_t n);

/* Returns a pointer to n contiguous octets starting at off: into the ring when they do not
 * wrap, else copied into scratch (which must hold n). NULL for a virtual buffer. */
const uint8_t *tcp_buf_peek(const struct tcp_buf *b, uint32_t off, uint32_t n, uint8_t *scratch);

/* Removes n octets from the front (n <= len), shrinking the storage as the content drains. */
void tcp_buf_drop(struct tcp_buf *b, const struct tcp_alloc *a, uint32_t n);

/* Frees the storage and empties the buffer. */
void tcp_buf_free(struct tcp_buf *b, const struct tcp_alloc *a);

#endif
