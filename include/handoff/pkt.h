/*
 * pkt.h - a packet as the firmware, the OS side and their platforms pass it to each other: the
 * packet buffer's header, in the manner of a BSD mbuf's packet header.
 *
 * A packet is owned by exactly one part at a time. Whoever creates one (the platform's wire, the
 * firmware's or the OS's TCP through its platform's pkt_alloc op) passes it on by calling the
 * next part's entry point, and whoever consumes it gives it back through pkt_free. Besides the
 * segment, the header carries one annotation for each side that needs to remember something
 * while the packet waits with it, as mbufs carry theirs.
 *
 * Memory for packets is the platform's: the simulator keeps a pool of them with virtual payload
 * (seg.data is NULL), the emulator real frames.
 */
#ifndef HANDOFF_PKT_H
#define HANDOFF_PKT_H

#include <stdint.h>

#include "handoff/tcpe_seg.h"

struct ho_pkt {
    struct tcpe_seg seg;  /* the segment: headers parsed; payload in seg.data, or NULL if virtual */
    uint32_t frame_bytes; /* Ethernet frame length, header to payload end (no FCS) */
    uint32_t id;          /* the platform's number for it, unique among live packets */
    uint64_t t_nic;       /* firmware: when it entered a NIC queue */
    uint32_t host_slot;   /* OS side: the connection-state slot its processing touches */
};

#endif
