/*
 * wire.c - the simulated 10 Gb/s full-duplex wire and the pool of packets that cross it.
 *
 * Each direction serializes one frame at a time. Its clock is an absolute count of bits since
 * time 0, converted to nanoseconds only for event times (sim_time.h), so back-to-back frames
 * never drift. A frame occupies the wire for its Ethernet length plus FCS (padded to the 64-byte
 * minimum), preamble and inter-frame gap: 1518-byte frames carry 1460 bytes of payload and take
 * 1230.4 ns each at 10 Gb/s. It arrives one propagation delay after its last bit.
 */
#include <stdlib.h>
#include <string.h>

#include "handoff/assert.h"
#include "handoff/err.h"
#include "handoff/sim_pcap.h"
#include "handoff/sim_time.h"
#include "handoff/tcpe_wire.h"
#include "world_priv.h"

#define ETH_FCS          4
#define ETH_MIN_FRAME    64
#define ETH_PREAMBLE_IFG 20

int wire_init(struct sim_world *w)
{
    /* Packets in flight are bounded by the TCP windows of all connections; grow on demand. */
    w->npkts = 0;
    w->free_pkt = UINT32_MAX;
    w->wire_bps = w->cfg.wire_bps;
    return HO_OK;
}

/* The pool grows by chunks so that packets never move: a part may hold a packet while the
 * TCP engine it calls creates more. */
static int pool_grow(struct sim_world *w)
{
    uint32_t c = w->npkts / PKT_CHUNK;
    struct sim_pkt **chunks = realloc(w->pkt_chunks, (size_t)(c + 1) * sizeof *chunks);
    if (!chunks) {
        return HO_ENOMEM;
    }
    w->pkt_chunks = chunks;
    struct sim_pkt *chunk = malloc(PKT_CHUNK * sizeof *chunk);
    if (!chunk) {
        return HO_ENOMEM;
    }
    chunks[c] = chunk;
    for (uint32_t i = 0; i < PKT_CHUNK; i++) {
        chunk[i].index = w->npkts + i;
        chunk[i].next_free = i + 1 < PKT_CHUNK ? w->npkts + i + 1 : w->free_pkt;
    }
    w->free_pkt = w->npkts;
    w->npkts += PKT_CHUNK;
    return HO_OK;
}

struct sim_pkt *pkt_at(const struct sim_world *w, uint32_t index)
{
    return &w->pkt_chunks[index / PKT_CHUNK][index % PKT_CHUNK];
}

struct sim_pkt *pkt_new(struct sim_world *w, const struct tcpe_seg *seg)
{
    if (w->free_pkt == UINT32_MAX && pool_grow(w) != HO_OK) {
        return NULL;
    }
    struct sim_pkt *p = pkt_at(w, w->free_pkt);
    uint32_t index = p->index;
    w->free_pkt = p->next_free;
    memset(p, 0, sizeof *p);
    p->index = index;
    p->seg = *seg;
    p->seg.data = NULL;
    int len = tcpe_wire_eth_len(seg);
    HO_ASSERT(len > 0, "segment of %u bytes cannot be framed", seg->len);
    p->frame_bytes = (uint32_t)len;
    p->conn_slot = UINT32_MAX;
    w->live_pkts++;
    return p;
}

void pkt_free(struct sim_world *w, struct sim_pkt *p)
{
    p->next_free = w->free_pkt;
    w->free_pkt = p->index;
    w->live_pkts--;
}

void pkt_pool_fini(struct sim_world *w)
{
    for (uint32_t c = 0; c < w->npkts / PKT_CHUNK; c++) {
        free(w->pkt_chunks[c]);
    }
    free(w->pkt_chunks);
}

static void arrive(void *ctx, uint64_t arg, uint64_t now)
{
    struct sim_world *w = ctx;
    int dir = (int)(arg >> 32);
    struct sim_pkt *p = pkt_at(w, (uint32_t)arg);
    w->wire[dir].delivered++;
    w->wire[dir].in_flight--;
    if (dir == DIR_TO_SERVER) {
        nic_rx_arrive(w, p, now);
    } else {
        clients_rx(w, p, now);
    }
}

/* The server's and the client machine's MAC addresses (locally administered). */
static const uint8_t server_mac[TCPE_WIRE_ETH_ALEN] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t client_mac[TCPE_WIRE_ETH_ALEN] = {0x02, 0, 0, 0, 0, 0x02};

static void capture(struct sim_world *w, int dir, const struct sim_pkt *p, uint64_t t)
{
    struct tcpe_wire_eth eth = {.type = 0x0800};
    memcpy(eth.src, dir == DIR_TO_SERVER ? client_mac : server_mac, sizeof eth.src);
    memcpy(eth.dst, dir == DIR_TO_SERVER ? server_mac : client_mac, sizeof eth.dst);
    struct sim_pcap_err err;
    if (sim_pcap_write(w->pcap, t, &p->seg, &eth, &err) != 0) {
        world_fail(w, "%s", err.msg);
        w->pcap = NULL;
    }
}

void wire_send(struct sim_world *w, int dir, struct sim_pkt *p, uint64_t now)
{
    struct wire_dir *d = &w->wire[dir];
    uint32_t frame = p->frame_bytes + ETH_FCS;
    if (frame < ETH_MIN_FRAME) {
        frame = ETH_MIN_FRAME;
    }
    uint64_t bits = (uint64_t)(frame + ETH_PREAMBLE_IFG) * 8;
    uint64_t now_bit = sim_time_to_units(now, w->wire_bps);
    uint64_t start = d->free_bit > now_bit ? d->free_bit : now_bit;
    d->free_bit = start + bits;
    if (w->pcap) {
        capture(w, dir, p, sim_units_to_time(start, w->wire_bps));
    }
    d->sent++;
    d->in_flight++;
    world_packet_on_wire(w, p, now);
    uint64_t at = sim_units_to_time(d->free_bit, w->wire_bps) + w->cfg.wire_delay_ns;
    int rc = sim_evq_schedule(w->evq, at, arrive, w, ((uint64_t)dir << 32) | p->index, NULL);
    HO_ASSERT(rc == HO_OK, "cannot schedule a wire arrival: %s", ho_strerror(rc));
}
