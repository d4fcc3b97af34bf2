/*
 * ackagg.c - the NIC's ACK accumulator (include/handoff/ackagg.h).
 *
 * The NIC firmware calls ho_ackagg_add() for each ACK that frees host send-buffer data of a
 * handed-off connection, and ho_ackagg_flush() when add, ho_ackagg_due() or its wake-up at
 * ho_ackagg_deadline() say a message is due; the result goes to the host as one ACKED command.
 *
 * The entries live in one array allocated at creation and kept in creation order, which is
 * also the order of the message, so a flush is a copy. Whether a message is due is a pure
 * function of the contents and the time (trigger()), so add and due can never disagree; the
 * largest entry is tracked as entries grow so the byte trigger costs no scan.
 */
#include "handoff/ackagg.h"

#include <stdlib.h>
#include <string.h>

#include "handoff/assert.h"
#include "handoff/err.h"

struct ho_ackagg {
    struct ho_ackagg_params p;
    unsigned count;     /* pending entries */
    uint32_t max_bytes; /* largest pending entry's bytes */
    uint64_t first;     /* when the oldest pending entry was created */
    struct ho_ackagg_stats st;
    struct ho_cmd_ack_entry entries[]; /* p.max_entries of them */
};

void ho_ackagg_params_default(struct ho_ackagg_params *p)
{
    p->max_entries = HO_CMD_ACKED_MAX;
    p->byte_threshold = 16 * 1024;
    p->max_delay = 50 * 1000;
}

int ho_ackagg_create(const struct ho_ackagg_params *p, struct ho_ackagg **out)
{
    if (!p || !out || p->max_entries < 1 || p->max_entries > HO_CMD_ACKED_MAX) {
        return HO_EINVAL;
    }
    struct ho_ackagg *ag = calloc(1, sizeof *ag + p->max_entries * sizeof ag->entries[0]);
    if (!ag) {
        return HO_ENOMEM;
    }
    ag->p = *p;
    *out = ag;
    return HO_OK;
}

void ho_ackagg_destroy(struct ho_ackagg *ag)
{
    free(ag);
}

static int trigger(const struct ho_ackagg *ag, uint64_t now)
{
    if (ag->count == 0) {
        return HO_ACKAGG_HOLD;
    }
    if (ag->count >= ag->p.max_entries) {
        return HO_ACKAGG_FULL;
    }
    if (ag->p.byte_threshold > 0 && ag->max_bytes >= ag->p.byte_threshold) {
        return HO_ACKAGG_BYTES;
    }
    uint64_t deadline = ho_ackagg_deadline(ag);
    if (deadline != UINT64_MAX && now >= deadline) {
        return HO_ACKAGG_DELAY;
    }
    return HO_ACKAGG_HOLD;
}

/* Index of conn_id's entry, or -1. */
static int find(const struct ho_ackagg *ag, uint32_t conn_id)
{
    for (unsigned i = 0; i < ag->count; i++) {
        if (ag->entries[i].conn_id == conn_id) {
            return (int)i;
        }
    }
    return -1;
}

int ho_ackagg_add(struct ho_ackagg *ag, uint32_t conn_id, uint32_t bytes, uint64_t now)
{
    if (bytes == 0) {
        return HO_EINVAL;
    }
    int i = find(ag, conn_id);
    struct ho_cmd_ack_entry *e;
    if (i >= 0) {
        e = &ag->entries[i];
        if (bytes > UINT32_MAX - e->bytes) {
            return HO_ENOSPC;
        }
        e->bytes += bytes;
        ag->st.merged++;
    } else {
        if (ag->count >= ag->p.max_entries) {
            return HO_ENOSPC;
        }
        if (ag->count == 0) {
            ag->first = now;
        }
        e = &ag->entries[ag->count++];
        e->conn_id = conn_id;
        e->bytes = bytes;
    }
    if (e->bytes > ag->max_bytes) {
        ag->max_bytes = e->bytes;
    }
    ag->st.acks++;
    return trigger(ag, now);
}

int ho_ackagg_due(const struct ho_ackagg *ag, uint64_t now)
{
    return trigger(ag, now);
}

uint64_t ho_ackagg_deadline(const struct ho_ackagg *ag)
{
    if (ag->count == 0 || ag->p.max_delay == UINT64_MAX) {
        return UINT64_MAX;
    }
    if (ag->first > UINT64_MAX - ag->p.max_delay) {
        return UINT64_MAX;
    }
    return ag->first + ag->p.max_delay;
}

unsigned ho_ackagg_count(const struct ho_ackagg *ag)
{
    return ag->count;
}

int ho_ackagg_pending(const struct ho_ackagg *ag, uint32_t conn_id, uint32_t *bytes)
{
    int i = find(ag, conn_id);
    if (i < 0) {
        return HO_ENOENT;
    }
    if (bytes) {
        *bytes = ag->entries[i].bytes;
    }
    return HO_OK;
}

int ho_ackagg_flush(struct ho_ackagg *ag, uint32_t seq, struct ho_cmd *out)
{
    if (ag->count == 0) {
        return HO_EAGAIN;
    }
    HO_ASSERT(ag->count <= HO_CMD_ACKED_MAX, "%u entries", ag->count);
    memset(out, 0, sizeof *out);
    out->type = HO_CMD_ACKED;
    out->seq = seq;
    out->acked.count = (uint16_t)ag->count;
    memcpy(out->acked.entries, ag->entries, ag->count * sizeof ag->entries[0]);
    for (unsigned i = 0; i < ag->count; i++) {
        ag->st.bytes += ag->entries[i].bytes;
    }
    ag->st.messages++;
    ag->st.entries += ag->count;
    int n = (int)ag->count;
    ag->count = 0;
    ag->max_bytes = 0;
    ag->first = 0;
    return n;
}

void ho_ackagg_stats(const struct ho_ackagg *ag, struct ho_ackagg_stats *out)
{
    *out = ag->st;
}
