/*
 * wire.c - the packet codec's bookkeeping: drop reasons, their names and error codes, the
 * statistics, a sender's defaults and the option-value helpers for the state machine.
 *
 * The parsers (wire_eth.c, wire_arp.c, wire_ipv4.c, wire_tcp.c) call tcpe_wire_drop for every
 * frame they refuse; keeping the reason -> name -> code mapping in one table here means a new
 * reason is one line.
 */
#include "handoff/tcpe_wire.h"

#include "handoff/err.h"
#include "wire_internal.h"

struct drop_info {
    const char *name;
    int code;
};

static const struct drop_info drop_table[TCPE_WIRE_DROP_COUNT] = {
    [TCPE_WIRE_DROP_NONE] = {"none", HO_OK},
    [TCPE_WIRE_DROP_ETH_RUNT] = {"eth_runt", HO_EMSGSIZE},
    [TCPE_WIRE_DROP_ETH_TYPE] = {"eth_type", HO_EPROTO},
    [TCPE_WIRE_DROP_ARP_RUNT] = {"arp_runt", HO_EMSGSIZE},
    [TCPE_WIRE_DROP_ARP_FORMAT] = {"arp_format", HO_EPROTO},
    [TCPE_WIRE_DROP_ARP_OP] = {"arp_op", HO_EPROTO},
    [TCPE_WIRE_DROP_IP_RUNT] = {"ip_runt", HO_EMSGSIZE},
    [TCPE_WIRE_DROP_IP_VERSION] = {"ip_version", HO_EPROTO},
    [TCPE_WIRE_DROP_IP_IHL] = {"ip_ihl", HO_EPROTO},
    [TCPE_WIRE_DROP_IP_TOTLEN] = {"ip_totlen", HO_EMSGSIZE},
    [TCPE_WIRE_DROP_IP_CSUM] = {"ip_csum", HO_EPROTO},
    [TCPE_WIRE_DROP_IP_FRAGMENT] = {"ip_fragment", HO_EPROTO},
    [TCPE_WIRE_DROP_IP_PROTO] = {"ip_not_tcp", HO_EPROTO},
    [TCPE_WIRE_DROP_TCP_RUNT] = {"tcp_runt", HO_EMSGSIZE},
    [TCPE_WIRE_DROP_TCP_DOFF] = {"tcp_doff", HO_EPROTO},
    [TCPE_WIRE_DROP_TCP_CSUM] = {"tcp_csum", HO_EPROTO},
    [TCPE_WIRE_DROP_TCP_OPT_LEN] = {"tcp_opt_len", HO_EPROTO},
    [TCPE_WIRE_DROP_TCP_OPT_OVER] = {"tcp_opt_overrun", HO_EPROTO},
};

const char *tcpe_wire_drop_name(enum tcpe_wire_drop why)
{
    if ((unsigned)why >= TCPE_WIRE_DROP_COUNT) {
        return "unknown";
    }
    return drop_table[why].name;
}

int tcpe_wire_drop_code(enum tcpe_wire_drop why)
{
    if ((unsigned)why >= TCPE_WIRE_DROP_COUNT) {
        return HO_EINVAL;
    }
    return drop_table[why].code;
}

uint64_t tcpe_wire_drops_total(const struct tcpe_wire_stats *st)
{
    uint64_t total = 0;
    for (int i = 0; i < TCPE_WIRE_DROP_COUNT; i++) {
        total += st->drops[i];
    }
    return total;
}

int tcpe_wire_drop(struct tcpe_wire_pkt *pkt, struct tcpe_wire_stats *st, enum tcpe_wire_drop why)
{
    pkt->drop = why;
    if (st) {
        st->drops[why]++;
    }
    return drop_table[why].code;
}

void tcpe_wire_tx_init(struct tcpe_wire_tx *tx, uint16_t first_id)
{
    tx->ttl = 64; /* Linux's net.ipv4.ip_default_ttl, and RFC 1700's recommendation */
    tx->tos = 0;
    tx->ip_id = first_id;
    tx->flags = TCPE_WIRE_TX_DF;
}

uint16_t tcpe_wire_peer_mss(const struct tcpe_seg *syn)
{
    if (!(syn->opts & TCPE_OPT_MSS)) {
        return TCPE_WIRE_MSS_DEFAULT;
    }
    return syn->mss < TCPE_WIRE_MSS_MIN ? TCPE_WIRE_MSS_MIN : syn->mss;
}

int tcpe_wire_peer_wscale(const struct tcpe_seg *syn)
{
    if (!(syn->opts & TCPE_OPT_WSCALE)) {
        return HO_ENOENT;
    }
    return syn->wscale > TCPE_WIRE_WSCALE_MAX ? TCPE_WIRE_WSCALE_MAX : syn->wscale;
}
