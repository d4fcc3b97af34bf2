/*
 * pool.c - the simulator's packet memory (see pool.h).
 */
#include "pool.h"

#include <stdlib.h>
#include <string.h>

#include "handoff/assert.h"
#include "handoff/err.h"
#include "handoff/tcpe_wire.h"

#define CHUNK 4096u

void pool_init(struct sim_pool *pl)
{
    memset(pl, 0, sizeof *pl);
    pl->free_head = UINT32_MAX;
}

void pool_fini(struct sim_pool *pl)
{
    for (uint32_t c = 0; c < pl->n / CHUNK; c++) {
        free(pl->chunks[c]);
    }
    free(pl->chunks);
}

static int grow(struct sim_pool *pl)
{
    uint32_t c = pl->n / CHUNK;
    struct sim_pkt **chunks = realloc(pl->chunks, (size_t)(c + 1) * sizeof *chunks);
    if (!chunks) {
        return HO_ENOMEM;
    }
    pl->chunks = chunks;
    struct sim_pkt *chunk = malloc(CHUNK * sizeof *chunk);
    if (!chunk) {
        return HO_ENOMEM;
    }
    chunks[c] = chunk;
    for (uint32_t i = 0; i < CHUNK; i++) {
        chunk[i].pkt.id = pl->n + i;
        chunk[i].next_free = i + 1 < CHUNK ? pl->n + i + 1 : pl->free_head;
    }
    pl->free_head = pl->n;
    pl->n += CHUNK;
    return HO_OK;
}

static struct sim_pkt *at(const struct sim_pool *pl, uint32_t id)
{
    return &pl->chunks[id / CHUNK][id % CHUNK];
}

struct ho_pkt *pool_at(const struct sim_pool *pl, uint32_t id)
{
    return &at(pl, id)->pkt;
}

struct ho_pkt *pool_alloc(struct sim_pool *pl, const struct tcpe_seg *seg)
{
    if (pl->free_head == UINT32_MAX && grow(pl) != HO_OK) {
        return NULL;
    }
    struct sim_pkt *sp = at(pl, pl->free_head);
    uint32_t id = sp->pkt.id;
    pl->free_head = sp->next_free;
    memset(sp, 0, sizeof *sp);
    struct ho_pkt *p = &sp->pkt;
    p->id = id;
    p->seg = *seg;
    p->seg.data = NULL;
    int len = tcpe_wire_eth_len(seg);
    HO_ASSERT(len > 0, "segment of %u bytes cannot be framed", seg->len);
    p->frame_bytes = (uint32_t)len;
    p->host_slot = UINT32_MAX;
    pl->live++;
    return p;
}

void pool_free(struct sim_pool *pl, struct ho_pkt *p)
{
    struct sim_pkt *sp = (struct sim_pkt *)p;
    sp->next_free = pl->free_head;
    pl->free_head = p->id;
    pl->live--;
}
