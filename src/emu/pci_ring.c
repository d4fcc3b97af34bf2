/*
 * pci_ring.c - single-producer, single-consumer rings for the emulator's PCI bus (pci_ring.h).
 */
#include "pci_ring.h"

#include <stdlib.h>
#include <string.h>

#include "handoff/err.h"

int emu_ring_init(struct emu_ring *r, uint32_t entry_size, uint32_t capacity)
{
    if (r == NULL || entry_size == 0 || entry_size > EMU_RING_MAX_ENTRY || capacity < 2 ||
        capacity > EMU_RING_MAX_CAP || (capacity & (capacity - 1)) != 0) {
        return HO_EINVAL;
    }
    memset(r, 0, sizeof *r);
    r->slots = calloc(capacity, entry_size);
    if (r->slots == NULL) {
        return HO_ENOMEM;
    }
    r->mask = capacity - 1;
    r->entry_size = entry_size;
    atomic_init(&r->tail, 0);
    atomic_init(&r->head, 0);
    return HO_OK;
}

void emu_ring_fini(struct emu_ring *r)
{
    if (r != NULL) {
        free(r->slots);
        r->slots = NULL;
    }
}

int emu_ring_push(struct emu_ring *r, const void *entry)
{
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    if (tail - r->head_seen > r->mask) {
        /* Full as far as the producer knew: see how far the consumer has got. */
        r->head_seen = atomic_load_explicit(&r->head, memory_order_acquire);
        if (tail - r->head_seen > r->mask) {
            return HO_ENOSPC;
        }
    }
    memcpy(r->slots + (size_t)(tail & r->mask) * r->entry_size, entry, r->entry_size);
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
    return HO_OK;
}

int emu_ring_pop(struct emu_ring *r, void *out)
{
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    if (head == r->tail_seen) {
        /* Empty as far as the consumer knew: see what the producer has added. */
        r->tail_seen = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (head == r->tail_seen) {
            return HO_EAGAIN;
        }
    }
    memcpy(out, r->slots + (size_t)(head & r->mask) * r->entry_size, r->entry_size);
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
    return HO_OK;
}

uint32_t emu_ring_len(struct emu_ring *r)
{
    /* head first: it never passes tail, so the difference is never negative; but entries may
     * be popped and pushed between the two loads, and the count then exceeds the capacity. */
    uint32_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    uint32_t n = tail - head;
    return n <= r->mask ? n : r->mask + 1;
}

uint32_t emu_ring_capacity(const struct emu_ring *r)
{
    return r->mask + 1;
}
