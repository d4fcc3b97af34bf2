/*
 * bufpool.h - numbered byte buffers, for messages a part holds between receiving or making them
 * and using them.
 *
 * The driver and the firmware each keep the command messages they have taken in or built until
 * their processor gets to them (the queue holds only a number). A message is copied into the
 * pool when it crosses from one side to the other, as a DMA copies it from one memory into the
 * other. A freed buffer keeps its memory for the next message, so a pool in steady state does
 * not touch the allocator. Whatever is still held when the pool is finalised is freed with it.
 * Each buffer may also carry a record of a fixed size beside its bytes (a message decoded once,
 * when it arrives, is kept there until it is used).
 *
 * Not thread-safe: each side owns its pool.
 */
#ifndef HANDOFF_BUFPOOL_H
#define HANDOFF_BUFPOOL_H

#include <stdint.h>

struct ho_bufpool_entry {
    uint8_t *buf;       /* its memory (kept when free) */
    uint32_t len;       /* bytes in use */
    uint32_t cap;       /* bytes allocated */
    uint32_t next_free; /* free-list link, UINT32_MAX at the end */
    uint32_t held;      /* 1 while in use */
    void *rec;          /* its record (kept when free), or NULL until first asked for */
};

/* Zero-initialise, or ho_bufpool_init. */
struct ho_bufpool {
    struct ho_bufpool_entry *e;
    uint32_t n;         /* entries allocated */
    uint32_t free_head; /* first free entry, UINT32_MAX if none */
    uint32_t live;      /* entries in use */
    uint32_t rec_size;  /* bytes of each buffer's record */
};

/* Initialises an empty pool whose buffers carry records of rec_size bytes (0: none). */
void ho_bufpool_init(struct ho_bufpool *p, uint32_t rec_size);

/* Frees every buffer, held or not. The pool may be initialised again. */
void ho_bufpool_fini(struct ho_bufpool *p);

/*
 * Takes a buffer of len bytes (contents undefined) and returns a pointer to them; *handle is its
 * number. Returns NULL if memory runs out (the pool is then unchanged).
 */
uint8_t *ho_bufpool_alloc(struct ho_bufpool *p, uint32_t len, uint32_t *handle);

/* Takes a buffer holding a copy of data[0..len). Returns its number, or HO_ENOMEM. */
int ho_bufpool_put(struct ho_bufpool *p, const uint8_t *data, uint32_t len);

/* The bytes of buffer handle (held), and their number in *len. */
uint8_t *ho_bufpool_get(const struct ho_bufpool *p, uint32_t handle, uint32_t *len);

/* The record of buffer handle (held): rec_size bytes, contents left from its last use. NULL
 * if memory runs out. */
void *ho_bufpool_rec(struct ho_bufpool *p, uint32_t handle);

/* Gives buffer handle back. */
void ho_bufpool_free(struct ho_bufpool *p, uint32_t handle);

#endif
