/*
 * pci_ring.h - the emulator's PCI bus: single-producer, single-consumer rings of fixed-size
 * entries in memory the host thread and the NIC thread share.
 *
 * One ring carries one direction: the host thread produces on the rings to the NIC (packets to
 * send, received packets handed back, commands) and consumes the rings from it (received
 * packets, messages, freed send descriptors); the NIC thread the reverse. There is no lock. The
 * producer alone writes the tail and the consumer alone the head; each publishes its index with
 * a release store after touching the entries and reads the other's with an acquire load, so an
 * entry is written before it can be seen and read before its slot can be reused. Each side also
 * keeps its own copy of the other's index and loads the shared one only when that copy says the
 * ring is full (or empty), so that in the common case a push or a pop touches no cache line the
 * other thread writes. Indices run freely modulo 2^32; the ring holds tail - head entries.
 */
#ifndef HANDOFF_EMU_PCI_RING_H
#define HANDOFF_EMU_PCI_RING_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#define EMU_RING_LINE      64u        /* a cache line: the two sides' indices live apart */
#define EMU_RING_MAX_ENTRY 4096u      /* largest entry, bytes */
#define EMU_RING_MAX_CAP   (1u << 24) /* most entries a ring holds */

struct emu_ring {
    /* The producer's line. */
    alignas(EMU_RING_LINE) _Atomic uint32_t tail; /* next entry to write */
    uint32_t head_seen;                           /* the producer's copy of head */
    /* The consumer's line. */
    alignas(EMU_RING_LINE) _Atomic uint32_t head; /* next entry to read */
    uint32_t tail_seen;                           /* the consumer's copy of tail */
    /* Read-only after emu_ring_init. */
    alignas(EMU_RING_LINE) uint8_t *slots;
    uint32_t mask;       /* capacity - 1 */
    uint32_t entry_size; /* bytes per entry */
};

/*
 * Builds an empty ring of `capacity` entries of `entry_size` bytes. capacity must be a power of
 * two from 2 to EMU_RING_MAX_CAP, entry_size from 1 to EMU_RING_MAX_ENTRY. Returns HO_OK,
 * HO_EINVAL (r NULL or a size out of range) or HO_ENOMEM. Not thread-safe: call it before either
 * thread uses the ring.
 */
int emu_ring_init(struct emu_ring *r, uint32_t entry_size, uint32_t capacity);

/* Frees the ring's entries; both threads must be done with it. NULL is allowed. */
void emu_ring_fini(struct emu_ring *r);

/* Producer only: copies entry_size bytes from entry into the ring. Returns HO_OK, or
 * HO_ENOSPC if the ring is full (nothing is written). */
int emu_ring_push(struct emu_ring *r, const void *entry);

/* Consumer only: copies the oldest entry into out and removes it. Returns HO_OK, or HO_EAGAIN
 * if the ring is empty (out is untouched). */
int emu_ring_pop(struct emu_ring *r, void *out);

/* Entries in the ring now, as either side may see it (the other may change it at once). */
uint32_t emu_ring_len(struct emu_ring *r);

/* The most entries the ring holds. */
uint32_t emu_ring_capacity(const struct emu_ring *r);

#endif
