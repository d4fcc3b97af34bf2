/*
 * bufpool.c - numbered byte buffers that keep their memory when freed (see
 * include/handoff/bufpool.h).
 */
#include "handoff/bufpool.h"

#include <stdlib.h>
#include <string.h>

#include "handoff/assert.h"
#include "handoff/err.h"

#define NO_ENTRY UINT32_MAX
/* The smallest buffer: room for any message but a HANDOFF with a large state, so that a buffer,
 * once allocated, rarely grows. */
#define MIN_CAP 1024u

void ho_bufpool_init(struct ho_bufpool *p, uint32_t rec_size)
{
    memset(p, 0, sizeof *p);
    p->free_head = NO_ENTRY;
    p->rec_size = rec_size;
}

void ho_bufpool_fini(struct ho_bufpool *p)
{
    for (uint32_t i = 0; i < p->n; i++) {
        free(p->e[i].buf);
        free(p->e[i].rec);
    }
    free(p->e);
    ho_bufpool_init(p, p->rec_size);
}

static int grow(struct ho_bufpool *p)
{
    uint32_t n = p->n ? 2 * p->n : 64;
    struct ho_bufpool_entry *e = realloc(p->e, (size_t)n * sizeof *e);
    if (!e) {
        return HO_ENOMEM;
    }
    for (uint32_t i = p->n; i < n; i++) {
        e[i] = (struct ho_bufpool_entry){.next_free = i + 1 < n ? i + 1 : p->free_head};
    }
    p->free_head = p->n;
    p->e = e;
    p->n = n;
    return HO_OK;
}

uint8_t *ho_bufpool_alloc(struct ho_bufpool *p, uint32_t len, uint32_t *handle)
{
    if (p->free_head == NO_ENTRY && grow(p) != HO_OK) {
        return NULL;
    }
    uint32_t h = p->free_head;
    struct ho_bufpool_entry *e = &p->e[h];
    if (!e->buf || e->cap < len) {
        uint32_t cap = len < MIN_CAP ? MIN_CAP : len;
        uint8_t *b = realloc(e->buf, cap);
        if (!b) {
            return NULL;
        }
        e->buf = b;
        e->cap = cap;
    }
    p->free_head = e->next_free;
    e->held = 1;
    e->len = len;
    p->live++;
    *handle = h;
    return e->buf;
}

int ho_bufpool_put(struct ho_bufpool *p, const uint8_t *data, uint32_t len)
{
    uint32_t h;
    uint8_t *b = ho_bufpool_alloc(p, len, &h);
    if (!b) {
        return HO_ENOMEM;
    }
    if (len > 0) {
        memcpy(b, data, len);
    }
    return (int)h;
}

uint8_t *ho_bufpool_get(const struct ho_bufpool *p, uint32_t handle, uint32_t *len)
{
    HO_ASSERT(handle < p->n && p->e[handle].held, "buffer %u is not held", handle);
    *len = p->e[handle].len;
    return p->e[handle].buf;
}

void *ho_bufpool_rec(struct ho_bufpool *p, uint32_t handle)
{
    HO_ASSERT(handle < p->n && p->e[handle].held, "buffer %u is not held", handle);
    struct ho_bufpool_entry *e = &p->e[handle];
    if (!e->rec && p->rec_size) {
        e->rec = malloc(p->rec_size);
    }
    return e->rec;
}

void ho_bufpool_free(struct ho_bufpool *p, uint32_t handle)
{
    HO_ASSERT(handle < p->n && p->e[handle].held, "buffer %u freed twice", handle);
    p->e[handle].held = 0;
    p->e[handle].next_free = p->free_head;
    p->free_head = handle;
    p->live--;
}
