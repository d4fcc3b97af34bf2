/*
 * pci.h - the local I/O interconnect between the host and the NIC: the two ends it connects and
 * what crosses it. The host's driver sends packets to transmit, received packets it hands back
 * to the NIC's TCP, and command messages; the NIC's firmware sends received host packets,
 * messages, and the news that a send-ring descriptor is free (the Tigon's send consumer index). Each end is a set of entry points the world connects (world.c), so that the host and
 * the NIC know the bus and not each other.
 *
 * The bus itself is not timed: the paper's simulator did not model it either (section 4.1). The
 * cost of a crossing is the work of the driver and the firmware on either side, which each side
 * charges to its own processor. The bus counts what crosses it.
 */
#ifndef HANDOFF_SIM_PCI_H
#define HANDOFF_SIM_PCI_H

#include <stdint.h>

#include "handoff/pkt.h"

typedef void (*pci_pkt_fn)(void *ctx, struct ho_pkt *p, uint64_t now);
typedef void (*pci_msg_fn)(void *ctx, const uint8_t *msg, uint32_t len, uint64_t now);
typedef void (*pci_note_fn)(void *ctx, uint64_t now);

struct sim_pci {
    struct {
        pci_pkt_fn rx;  /* a received host packet, written into host memory */
        pci_msg_fn msg;      /* a message from the firmware */
        pci_note_fn tx_done; /* a send-ring descriptor is free again */
        void *ctx;
    } host;
    struct {
        pci_pkt_fn tx;      /* a packet the host's stack sends */
        pci_pkt_fn forward; /* a received packet the driver hands to the NIC's TCP */
        pci_msg_fn cmd;     /* a command from the driver */
        pci_note_fn reset;  /* the driver pulls the NIC's reset line */
        void *ctx;
    } nic;
    uint64_t pkts_up, pkts_down, msgs_up, msgs_down; /* crossings: up to the host, down to NIC */
};

void pci_to_host_pkt(struct sim_pci *b, struct ho_pkt *p, uint64_t now);
void pci_to_host_msg(struct sim_pci *b, const uint8_t *msg, uint32_t len, uint64_t now);
void pci_to_host_tx_done(struct sim_pci *b, uint64_t now);
void pci_to_nic_pkt(struct sim_pci *b, struct ho_pkt *p, uint64_t now);
void pci_to_nic_forward(struct sim_pci *b, struct ho_pkt *p, uint64_t now);
void pci_to_nic_cmd(struct sim_pci *b, const uint8_t *msg, uint32_t len, uint64_t now);
void pci_to_nic_reset(struct sim_pci *b, uint64_t now);

#endif
