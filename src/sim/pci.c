/*
 * pci.c - the interconnect between host and NIC (see pci.h).
 */
#include "pci.h"

void pci_to_host_pkt(struct sim_pci *b, struct ho_pkt *p, uint64_t now)
{
    b->pkts_up++;
    b->host.rx(b->host.ctx, p, now);
}

void pci_to_host_msg(struct sim_pci *b, const uint8_t *msg, uint32_t len, uint64_t now)
{
    b->msgs_up++;
    b->host.msg(b->host.ctx, msg, len, now);
}

void pci_to_host_tx_done(struct sim_pci *b, uint64_t now)
{
    b->host.tx_done(b->host.ctx, now);
}

void pci_to_nic_pkt(struct sim_pci *b, struct ho_pkt *p, uint64_t now)
{
    b->pkts_down++;
    b->nic.tx(b->nic.ctx, p, now);
}

void pci_to_nic_forward(struct sim_pci *b, struct ho_pkt *p, uint64_t now)
{
    b->pkts_down++;
    b->nic.forward(b->nic.ctx, p, now);
}

void pci_to_nic_cmd(struct sim_pci *b, const uint8_t *msg, uint32_t len, uint64_t now)
{
    b->msgs_down++;
    b->nic.cmd(b->nic.ctx, msg, len, now);
}

void pci_to_nic_reset(struct sim_pci *b, uint64_t now)
{
    b->nic.reset(b->nic.ctx, now);
}
