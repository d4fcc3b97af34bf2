/*
 * wire.c - the simulated wire (see wire.h).
 */
#include "wire.h"

#include <string.h>

#include "handoff/assert.h"
#include "handoff/err.h"
#include "handoff/sim_time.h"
#include "handoff/tcpe_wire.h"

#define ETH_FCS          4
#define ETH_MIN_FRAME    64
#define ETH_PREAMBLE_IFG 20

/* The server's and the client machine's MAC addresses (locally administered). */
static const uint8_t server_mac[TCPE_WIRE_ETH_ALEN] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t client_mac[TCPE_WIRE_ETH_ALEN] = {0x02, 0, 0, 0, 0, 0x02};

/* An arrival's argument is the packet's address with the direction in its low bit (packets are
 * aligned). */
static void arrive(void *ctx, uint64_t arg, uint64_t now)
{
    struct sim_wire *wr = ctx;
    int dir = (int)(arg & 1);
    struct ho_pkt *p = (struct ho_pkt *)(uintptr_t)(arg & ~(uint64_t)1);
    wr->dir[dir].delivered++;
    wr->dir[dir].in_flight--;
    wr->deliver(wr->ctx, dir, p, now);
}

static void capture(struct sim_wire *wr, int dir, const struct ho_pkt *p, uint64_t t)
{
    struct tcpe_wire_eth eth = {.type = 0x0800};
    memcpy(eth.src, dir == DIR_TO_SERVER ? client_mac : server_mac, sizeof eth.src);
    memcpy(eth.dst, dir == DIR_TO_SERVER ? server_mac : client_mac, sizeof eth.dst);
    struct sim_pcap_err err;
    if (sim_pcap_write(wr->pcap, t, &p->seg, &eth, &err) != 0) {
        meter_fail(wr->meter, "%s", err.msg);
        wr->pcap = NULL;
    }
}

void wire_send(struct sim_wire *wr, int dir, struct ho_pkt *p, uint64_t now)
{
    struct wire_dir *d = &wr->dir[dir];
    uint32_t frame = p->frame_bytes + ETH_FCS;
    if (frame < ETH_MIN_FRAME) {
        frame = ETH_MIN_FRAME;
    }
    uint64_t bits = (uint64_t)(frame + ETH_PREAMBLE_IFG) * 8;
    uint64_t now_bit = sim_time_to_units(now, wr->bps);
    uint64_t start = d->free_bit > now_bit ? d->free_bit : now_bit;
    d->free_bit = start + bits;
    if (wr->pcap) {
        capture(wr, dir, p, sim_units_to_time(start, wr->bps));
    }
    d->sent++;
    wr->packets++;
    wr->on_wire(wr->ctx, now);
    if (now >= wr->drop_from && now < wr->drop_until) {
        d->dropped++;
        wr->lost(wr->ctx, p);
        return;
    }
    d->in_flight++;
    uint64_t at = sim_units_to_time(d->free_bit, wr->bps) + wr->delay_ns;
    int rc =
        sim_evq_schedule(wr->evq, at, arrive, wr, (uint64_t)(uintptr_t)p | (uint64_t)dir, NULL);
    HO_ASSERT(rc == HO_OK, "cannot schedule a wire arrival: %s", ho_strerror(rc));
}
