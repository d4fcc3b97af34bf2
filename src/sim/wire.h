/*
 * wire.h - the simulated full-duplex wire between the client machine and the NIC.
 *
 * Each direction serializes one frame at a time. Its clock is an absolute count of bits since
 * time 0, converted to nanoseconds only for event times (sim_time.h), so back-to-back frames
 * never drift. A frame occupies the wire for its Ethernet length plus FCS (padded to the 64-byte
 * minimum), preamble and inter-frame gap: 1518-byte frames carry 1460 bytes of payload and take
 * 1230.4 ns each at 10 Gb/s. It arrives one propagation delay after its last bit, at the end the
 * world connected (deliver).
 */
#ifndef HANDOFF_SIM_WIRE_H
#define HANDOFF_SIM_WIRE_H

#include <stdint.h>

#include "handoff/pkt.h"
#include "handoff/sim_evq.h"
#include "handoff/sim_pcap.h"
#include "meter.h"

enum { DIR_TO_SERVER = 0, DIR_TO_CLIENT = 1 };

struct wire_dir {
    uint64_t free_bit; /* the bit count at which the wire is next free */
    uint64_t sent, delivered, in_flight, dropped;
};

struct sim_wire {
    struct wire_dir dir[2];
    uint64_t bps, delay_ns;
    uint64_t packets; /* frames put on the wire, both ways, whole run */
    struct sim_evq *evq;
    struct sim_meter *meter;
    struct sim_pcap *pcap; /* the capture, or NULL */
    /* A frame arrived at the end of direction dir. */
    void (*deliver)(void *ctx, int dir, struct ho_pkt *p, uint64_t now);
    /* A frame was put on the wire (wire.packets counts it already). */
    void (*on_wire)(void *ctx, uint64_t now);
    /* A frame the wire lost (fault.wire_drop_*): the world frees it. */
    void (*lost)(void *ctx, struct ho_pkt *p);
    void *ctx;
    uint64_t drop_from, drop_until; /* frames put on the wire in [from, until) are lost */
};

/* Puts p on direction dir at now (it waits for the frames before it); inside the drop window it
 * takes its time on the wire and is lost (wire_dir.dropped counts it). */
void wire_send(struct sim_wire *wr, int dir, struct ho_pkt *p, uint64_t now);

#endif
