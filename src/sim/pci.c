/*
 * pci.c - the local I/O interconnect between the host's driver and the NIC's firmware: handoff
 * command messages (src/policy/cmd.c) travel as encoded bytes, exactly as they would over a
 * descriptor ring.
 *
 * Host to NIC: the driver's work is a host task (category NET); the message then waits on the
 * NIC's command queue (CMD) for the firmware. NIC to host: the firmware's work to post a message
 * is NIC transmit work (NIC_TX); the host then takes it in an interrupt-level task. Each
 * direction numbers its messages and the receiver checks that none is lost or reordered, which
 * is one of the run's conservation checks. The interconnect itself is not timed (the paper's
 * simulator did not model it either, section 4.1).
 */
#include <stdlib.h>
#include <string.h>

#include "handoff/assert.h"
#include "handoff/err.h"
#include "world_priv.h"

/*
 * Messages live in a registry so that those still in flight when a run ends are freed with it;
 * a message's handle is its index there.
 */
static uint64_t msg_register(struct sim_world *w, uint8_t *buf)
{
    if (w->msg_free == UINT32_MAX) {
        uint32_t n = w->nmsgs ? 2 * w->nmsgs : 1024;
        uint8_t **m = realloc(w->msgs, (size_t)n * sizeof *m);
        HO_ASSERT(m, "out of memory for messages");
        w->msgs = m;
        uint32_t *next = realloc(w->msg_next, (size_t)n * sizeof *next);
        HO_ASSERT(next, "out of memory for messages");
        w->msg_next = next;
        for (uint32_t i = w->nmsgs; i < n; i++) {
            m[i] = NULL;
            next[i] = i + 1 < n ? i + 1 : UINT32_MAX;
        }
        w->msg_free = w->nmsgs;
        w->nmsgs = n;
    }
    uint32_t h = w->msg_free;
    w->msg_free = w->msg_next[h];
    w->msgs[h] = buf;
    w->msgs_live++;
    return h;
}

static uint64_t msg_encode(struct sim_world *w, struct ho_cmd *cmd)
{
    int len = ho_cmd_size(cmd);
    HO_ASSERT(len > 0, "message of type %s cannot be encoded (%d)", ho_cmd_type_name(cmd->type),
              len);
    uint8_t *buf = malloc((size_t)len + sizeof(uint32_t));
    HO_ASSERT(buf, "out of memory for a message");
    uint32_t n = (uint32_t)len;
    memcpy(buf, &n, sizeof n);
    int rc = ho_cmd_encode(cmd, buf + sizeof n, (size_t)len);
    HO_ASSERT(rc == len, "encoding %s: %d", ho_cmd_type_name(cmd->type), rc);
    return msg_register(w, buf);
}

unsigned pci_msg_type(const struct sim_world *w, uint64_t handle)
{
    return w->msgs[handle][sizeof(uint32_t) + 1]; /* the header's type byte */
}

void pci_msg_free(struct sim_world *w, uint64_t handle)
{
    free(w->msgs[handle]);
    w->msgs[handle] = NULL;
    w->msg_next[handle] = w->msg_free;
    w->msg_free = (uint32_t)handle;
    w->msgs_live--;
}

void pci_fini(struct sim_world *w)
{
    for (uint32_t i = 0; i < w->nmsgs; i++) {
        free(w->msgs[i]); /* NULL for free entries */
    }
    free(w->msgs);
    free(w->msg_next);
}

const uint8_t *pci_msg_decode(struct sim_world *w, uint64_t handle, struct ho_cmd *out,
                              uint32_t *expected_seq)
{
    const uint8_t *buf = w->msgs[handle];
    uint32_t n;
    memcpy(&n, buf, sizeof n);
    int rc = ho_cmd_decode(buf + sizeof n, n, out);
    HO_ASSERT(rc == HO_OK, "a message on the interconnect does not decode: %s", ho_strerror(rc));
    HO_ASSERT(ho_cmd_seq_gap(*expected_seq, out->seq) == 0,
              "message %u arrived where %u was expected", out->seq, *expected_seq);
    (*expected_seq)++;
    return buf;
}

/* ---- host to NIC ------------------------------------------------------------------------ */

static void to_nic_done(void *ctx, uint64_t arg, uint64_t now)
{
    nic_cmd_arrive(ctx, arg, now);
}

void pci_to_nic(struct sim_world *w, struct ho_cmd *cmd, uint64_t extra_cycles, uint64_t now)
{
    cmd->seq = w->seq_to_nic_sent++;
    uint64_t h = msg_encode(w, cmd);
    struct sim_cpu_task t = {
        .prio = PRIO_NET,
        .cat = CAT_NET,
        .cycles = w->cfg.costs.host_msg_out + extra_cycles,
        .done = to_nic_done,
        .ctx = w,
        .arg = h,
    };
    int rc = sim_cpu_submit(w->host_cpu, now, &t);
    HO_ASSERT(rc == HO_OK, "host task refused");
}

/* ---- NIC to host ------------------------------------------------------------------------ */

static void to_host_done(void *ctx, uint64_t arg, uint64_t now)
{
    host_msg_arrive(ctx, arg, now);
}

void pci_host_msg_arrive(struct sim_world *w, uint64_t handle, uint64_t now)
{
    struct sim_cpu_task t = {
        .prio = PRIO_NET,
        .cat = CAT_NET,
        .cycles = w->cfg.costs.host_msg_in,
        .done = to_host_done,
        .ctx = w,
        .arg = handle,
    };
    int rc = sim_cpu_submit(w->host_cpu, now, &t);
    HO_ASSERT(rc == HO_OK, "host task refused");
}

void pci_to_host(struct sim_world *w, struct ho_cmd *cmd, uint64_t now)
{
    cmd->seq = w->seq_to_host_sent++;
    nic_post_msg(w, msg_encode(w, cmd), now);
}
