/*
 * config.c - simulation parameters: defaults, the paper's shorthand, and configuration files
 * (see include/handoff/sim_config.h).
 *
 * Every parameter that a file may set is one row of `keys` below: its name, type, place in
 * struct sim_config, range and meaning. Parsing, range checks, error messages and the
 * self-describing dump (`handoff run --print-config`) all read that one table, so adding a
 * parameter is adding a row.
 */
#include "handoff/sim_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handoff/loadctl.h"

enum key_type { K_U32, K_U64, K_BOOL, K_WORKLOAD, K_SELECTION, K_PATH, K_RESTORE, K_LOADCTL };

struct key {
    const char *name;
    enum key_type type;
    size_t offset;
    uint64_t min, max; /* for K_U32 and K_U64 */
    const char *doc;
};

#define F(field) offsetof(struct sim_config, field)

static const struct key keys[] = {
    {"workload", K_WORKLOAD, F(workload), 0, 0, "W, I, D or S (paper Table 3)"},
    {"nic.connections", K_U32, F(nic_conns), 0, 1u << 20, "NIC Hard limit; 0 = no handoff"},
    {"nic.host_first", K_BOOL, F(host_first), 0, 0, "host-first packet processing (P)"},
    {"nic.load_control", K_LOADCTL, F(load_control), 0, 0,
     "load control: L (the paper's Figure 3, between nic.lowat and nic.hiwat), A (adaptive: "
     "steered from the NIC's own queueing delay, no watermarks) or N (none); true and false, as "
     "older files write it, are L and N"},
    {"nic.restore", K_RESTORE, F(restore), 0, 0,
     "active restoration: when load control lowers the Soft limit, give connections back at once "
     "(none = the paper's passive DECREASE; queued, rate or idle: most packets queued, highest "
     "recent packet rate or longest idle first)"},
    {"os.selection", K_SELECTION, F(selection), 0, 0, "connection selection: FCFS, Tn or Bn"},
    {"nic.mips", K_U32, F(nic_mips), 1, 100000, "NIC instruction rate, millions per second"},
    {"run.clients", K_U32, F(clients), 0, 1u << 20,
     "simultaneous clients; 0 = the workload's default (2048, S: 4096)"},
    {"workload.streams", K_U32, F(streams), 0, 1u << 20,
     "streaming clients besides run.clients, each on a connection that never ends, asking for "
     "a segment every workload.stream_segment_ms (0 = none)"},
    {"workload.stream_kbps", K_U32, F(stream_kbps), 1, 1000000,
     "a stream's bit rate, kb/s: its segment holds stream_kbps x stream_segment_ms bits "
     "(2000: the 960x540 rung of Apple's HLS authoring specification's ladder)"},
    {"workload.stream_segment_ms", K_U32, F(stream_segment_ms), 1, 600000,
     "a stream's segment length, ms (6000: the HLS authoring specification's target duration)"},
    {"run.warmup_packets", K_U64, F(warmup_packets), 0, 1ull << 40,
     "packets on the wire before measuring (paper: 400000)"},
    {"run.measure_packets", K_U64, F(measure_packets), 1, 1ull << 40,
     "packets on the wire measured (paper: 600000)"},
    {"run.seed", K_U64, F(seed), 0, UINT64_MAX, "seed of every random stream"},
    {"run.trace", K_PATH, F(trace_file), 0, 0,
     "trace to replay instead of the synthetic workload (empty = none)"},
    {"nic.hiwat", K_U32, F(hiwat), 1, 1u << 24, "load control L: high watermark on Qlen, packets"},
    {"nic.lowat", K_U32, F(lowat), 0, 1u << 24, "load control L: low watermark on Qlen, packets"},
    {"nic.lc_step", K_U32, F(lc_step), 1, 1u << 20,
     "load control L: connections per Soft-limit move"},
    {"nic.lc_target_pct", K_U32, F(lc_target_pct), 1, 100,
     "load control A: the ceiling on the standing wait of NIC packets (the shortest over a "
     "window), in percent of the time the NIC takes to serve its whole receive memory "
     "(nic.rx_queue packets at its measured service time per NIC packet); 50: the other half "
     "of the memory takes the bursts, which in the runs reach 1.3 times the standing queue "
     "(docs/policy-engine.md)"},
    {"nic.lc_cut_pct", K_U32, F(lc_cut_pct), 1, 100,
     "load control A: a decrease removes this percent of the share of connections the excess "
     "standing wait stands for, (wait - target) / wait; 25: near the target a saturated NIC's "
     "backlog grows 2 to 4 times as fast as its connections (measured with L at 400 MIPS), so "
     "a quarter of the share never overshoots below the target (docs/policy-engine.md)"},
    {"nic.lc_raise_pct", K_U32, F(lc_raise_pct), 1, 100,
     "load control A: when the queue of NIC packets ran dry, an increase adds this percent of "
     "Cnum times the share of the window it was dry; 6, about a quarter of the cut's gain: new "
     "connections load the NIC only once the host has answered their first request, two to five "
     "windows later, and each window decides again (docs/policy-engine.md)"},
    {"nic.rx_queue", K_U32, F(rx_queue_packets), 1, 1u << 24,
     "NIC receive memory, packets (host and NIC packets share it)"},
    {"nic.tx_ring", K_U32, F(tx_ring), 1, 1u << 20,
     "NIC send ring, descriptors of host packets to send; the driver's interface queue holds one "
     "fewer (the Tigon's TI_TX_RING_CNT, and FreeBSD ti(4)'s if_snd)"},
    {"wire.rate_bps", K_U64, F(wire_bps), 1000000, 1000000000000ull,
     "bit rate of each direction of the wire"},
    {"wire.delay_ns", K_U64, F(wire_delay_ns), 0, 1000000000ull, "one-way propagation delay, ns"},
    {"host.hz", K_U64, F(host_hz), 1000000, 100000000000ull, "host processor clock, Hz"},
    {"host.l2_bytes", K_U32, F(l2_bytes), 1024, 1u << 30, "host L2 cache size, bytes"},
    {"host.l2_ways", K_U32, F(l2_ways), 1, 64, "host L2 associativity"},
    {"host.line_bytes", K_U32, F(line_bytes), 16, 4096, "cache line size, bytes"},
    {"host.dram_cycles", K_U32, F(dram_cycles), 1, 100000, "DRAM access latency, host cycles"},
    {"tcp.mss", K_U32, F(mss), 88, 9000, "maximum segment size, bytes"},
    {"tcp.delack_ns", K_U64, F(delack_ns), 1000, 10000000000ull, "delayed-ACK timer, ns"},
    {"tcp.sack", K_BOOL, F(sack), 0, 0,
     "the clients offer SACK (RFC 2018), which the server's stacks then use; FreeBSD 4.7, the "
     "paper's, had none: 0"},
    {"tcp.delack_one_segment", K_BOOL, F(delack_one_segment), 0, 0,
     "delay the ACK of one segment at most, whatever its size (FreeBSD 4.7's DELAY_ACK); 0: "
     "ACK every second full-sized segment (RFC 5681)"},
    {"tcp.rto_init_ns", K_U64, F(rto_init_ns), 1000000, 60000000000ull,
     "initial retransmission timeout, the one a SYN waits, ns (FreeBSD 4.7: 3 s)"},
    {"host.somaxconn", K_U32, F(somaxconn), 1, 1u << 20,
     "most connections waiting to be accepted, whatever backlog the server asks for "
     "(FreeBSD 4.7's kern.ipc.somaxconn)"},
    {"tcp.sndbuf", K_U32, F(sndbuf), 1024, 1u << 30, "send socket buffer, bytes"},
    {"tcp.rcvbuf", K_U32, F(rcvbuf), 1024, 1u << 30, "receive socket buffer, bytes"},
    {"os.watchdog_ms", K_U64, F(watchdog_ms), 0, 1ull << 40,
     "the driver resets a NIC that gives no sign of life for this long while it has work from "
     "the driver, ms (FreeBSD ti(4)'s watchdog: 5000; 0 = none)"},
    {"cost.host_rx_pkt", K_U32, F(costs.os.rx_pkt), 0, 100000000,
     "host cycles: receive one packet (interrupt, driver, IP, TCP input)"},
    {"cost.host_tx_pkt", K_U32, F(costs.os.tx_pkt), 0, 100000000,
     "host cycles: send one packet (TCP, IP output, driver)"},
    {"cost.host_timer", K_U32, F(costs.os.timer), 0, 100000000,
     "host cycles: one TCP timer expiry (its packets cost apart)"},
    {"cost.sys_event", K_U32, F(costs.os.sys_event), 0, 100000000,
     "host cycles: the event loop's wait, per ready socket"},
    {"cost.sys_accept", K_U32, F(costs.os.sys_accept), 0, 100000000, "host cycles: accept()"},
    {"cost.sys_read", K_U32, F(costs.os.sys_read), 0, 100000000,
     "host cycles: read() of a request"},
    {"cost.sys_write", K_U32, F(costs.os.sys_write), 0, 100000000,
     "host cycles: write() of a response header"},
    {"cost.sys_sendfile", K_U32, F(costs.os.sys_sendfile), 0, 100000000, "host cycles: sendfile()"},
    {"cost.sys_close", K_U32, F(costs.os.sys_close), 0, 100000000, "host cycles: close()"},
    {"cost.copy_per_kb", K_U32, F(costs.os.copy_per_kb), 0, 100000000,
     "host cycles: copy 1 KB between user and kernel"},
    {"cost.user_request", K_U32, F(costs.app.request), 0, 100000000,
     "host cycles: the server's work per request"},
    {"cost.user_dynamic", K_U32, F(costs.app.dynamic), 0, 100000000,
     "host cycles: extra server work of a dynamic request"},
    {"cost.conn_state_bytes", K_U32, F(costs.os.conn_state_bytes), 0, 100000000,
     "bytes of connection state touched per host packet"},
    {"cost.pkt_hdr_bytes", K_U32, F(costs.os.pkt_hdr_bytes), 0, 100000000,
     "bytes of packet header buffer touched per host packet"},
    {"cost.nic_host_rx", K_U32, F(costs.nic.host_rx), 0, 100000000,
     "NIC instructions: receive a host packet"},
    {"cost.nic_host_tx", K_U32, F(costs.nic.host_tx), 0, 100000000,
     "NIC instructions: send a host packet"},
    {"cost.nic_lookup_probe", K_U32, F(costs.nic.lookup_probe), 0, 100000000,
     "NIC instructions: one probe of the lookup table"},
    {"cost.nic_tcp_rx", K_U32, F(costs.nic.tcp_rx), 0, 100000000,
     "NIC instructions: TCP input of a NIC packet"},
    {"cost.nic_tcp_tx", K_U32, F(costs.nic.tcp_tx), 0, 100000000,
     "NIC instructions: TCP output of a NIC packet, payload DMA included"},
    {"cost.nic_timer", K_U32, F(costs.nic.timer), 0, 100000000,
     "NIC instructions: one TCP timer expiry (its packets cost apart)"},
    {"cost.nic_cmd", K_U32, F(costs.nic.cmd), 0, 100000000,
     "NIC instructions: take one command message from the driver"},
    {"cost.nic_handoff", K_U32, F(costs.nic.handoff), 0, 100000000,
     "NIC instructions: import a connection (on top of nic_cmd)"},
    {"cost.nic_msg", K_U32, F(costs.nic.msg), 0, 100000000,
     "NIC instructions: post one message to the driver"},
    {"cost.nic_scale_pct", K_U32, F(costs.nic.scale_pct), 1, 10000,
     "percent applied to the NIC's TCP and message costs (what-if; 100 = the model)"},
    {"cost.host_msg_out", K_U32, F(costs.os.msg_out), 0, 100000000,
     "host cycles: the driver posts one command to the NIC"},
    {"cost.host_msg_in", K_U32, F(costs.os.msg_in), 0, 100000000,
     "host cycles: the driver takes one message from the NIC"},
    {"cost.host_handoff", K_U32, F(costs.os.handoff), 0, 100000000,
     "host cycles: export a connection, switch its socket to bypass"},
    {"fault.nic_reset_at_ms", K_U64, F(fault.nic_reset_at_ms), 0, 1ull << 40,
     "the NIC's firmware restarts at this time, ms from the start (0 = never)"},
    {"fault.refuse_at_ms", K_U64, F(fault.refuse_at_ms), 0, 1ull << 40,
     "the NIC refuses every handoff from this time on, ms (0 = never)"},
    {"fault.wire_drop_at_ms", K_U64, F(fault.wire_drop_at_ms), 0, 1ull << 40,
     "every frame on the wire is lost from this time, ms (0 = never)"},
    {"fault.wire_drop_ms", K_U64, F(fault.wire_drop_ms), 0, 1ull << 40, "for this long, ms"},
    {"fault.nic_hang_at_ms", K_U64, F(fault.nic_hang_at_ms), 0, 1ull << 40,
     "the NIC's processor stops at this time, ms (0 = never)"},
    {"fault.nic_hang_ms", K_U64, F(fault.nic_hang_ms), 0, 1ull << 40,
     "for this long, ms (unless the driver's watchdog resets it first)"},
    {"fault.nic_upload_at_ms", K_U64, F(fault.nic_upload_at_ms), 0, 1ull << 40,
     "the NIC gives every connection back to the host unasked at this time, ms, as a Chimney "
     "offload target uploads them (0 = never)"},
    {"fault.host_reclaim_at_ms", K_U64, F(fault.host_reclaim_at_ms), 0, 1ull << 40,
     "the host asks the NIC for every connection back at this time, ms, as before a firmware "
     "update (0 = never)"},
    {"step.nic_mips_at_ms", K_U64, F(step.nic_mips_at_ms), 0, 1ull << 40,
     "the NIC's instruction rate changes to step.nic_mips at this time, ms (0 = never)"},
    {"step.nic_mips", K_U32, F(step.nic_mips), 0, 100000,
     "the NIC's instruction rate after step.nic_mips_at_ms, millions per second"},
};
#define NKEYS (sizeof keys / sizeof keys[0])

static const char *const workload_names[SIM_WL_COUNT] = {"W", "I", "D", "S"};

const char *sim_workload_name(enum sim_workload w)
{
    return (unsigned)w < SIM_WL_COUNT ? workload_names[w] : "?";
}

static void fail(struct sim_config_err *err, const char *fmt, ...)
{
    if (!err) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}

/*
 * The cost model's values (docs/cost-model.md has each one's origin): the host's were calibrated
 * on W-0-N-N-FCFS-400 alone, the NIC's TCP costs derived from the paper's statement of what its
 * 400-MIPS NIC sustains (section 4.1). Every run uses them unchanged.
 */
static const struct sim_costs default_costs = {
    .os =
        {
            .rx_pkt = 6715,
            .tx_pkt = 5372,
            .timer = 1335,
            .sys_event = 1837,
            .sys_accept = 6899,
            .sys_read = 3444,
            .sys_write = 4599,
            .sys_sendfile = 5744,
            .sys_close = 5744,
            .copy_per_kb = 1150,
            .conn_state_bytes = 1024,
            .pkt_hdr_bytes = 128,
            .msg_out = 2686,
            .msg_in = 4029,
            .handoff = 13429,
        },
    .app =
        {
            .request = 18378,
            .dynamic = 91988,
        },
    .nic =
        {
            .host_rx = 837,
            .host_tx = 837,
            .lookup_probe = 20,
            .tcp_rx = 2183,
            .tcp_tx = 2511,
            .timer = 400,
            .cmd = 500,
            .handoff = 2000,
            .msg = 500,
            .scale_pct = 100,
        },
};

void sim_config_defaults(struct sim_config *c)
{
    memset(c, 0, sizeof *c);
    c->workload = SIM_WL_W;
    c->selection.kind = HO_SEL_FCFS;
    c->nic_mips = 400;
    c->warmup_packets = 400000;
    c->measure_packets = 600000;
    c->seed = 1;
    c->hiwat = 1024;
    c->lowat = 512;
    c->lc_step = 16;
    c->lc_target_pct = 50;
    c->lc_cut_pct = 25;
    c->lc_raise_pct = 6;
    c->rx_queue_packets = 2048;
    c->tx_ring = 512;
    c->stream_kbps = 2000;
    c->stream_segment_ms = 6000;
    c->wire_bps = 10000000000ull;
    c->wire_delay_ns = 1000;
    c->host_hz = 2000000000ull;
    c->l2_bytes = 1u << 20;
    c->l2_ways = 16;
    c->line_bytes = 64;
    c->dram_cycles = 195;
    c->mss = 1460;
    c->delack_ns = 100000000ull;
    c->delack_one_segment = true;
    c->rto_init_ns = 3000000000ull;
    c->somaxconn = 128;
    c->sndbuf = 65536;
    c->rcvbuf = 65536;
    c->watchdog_ms = 5000;
    c->costs = default_costs;
}

uint32_t sim_config_clients(const struct sim_config *c)
{
    if (c->clients) {
        return c->clients;
    }
    return c->workload == SIM_WL_S ? 4096 : 2048;
}

/* Parses a whole decimal number in [min, max]; no sign, no spaces, no suffix. */
static int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!isdigit((unsigned char)s[0])) {
        return -1;
    }
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno == ERANGE || *end != '\0' || v < min || v > max) {
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_workload(const char *s, enum sim_workload *out)
{
    for (int w = 0; w < SIM_WL_COUNT; w++) {
        if (!strcmp(s, workload_names[w])) {
            *out = (enum sim_workload)w;
            return 0;
        }
    }
    return -1;
}

int sim_config_shorthand(struct sim_config *c, const char *text, struct sim_config_err *err)
{
    /* Split into exactly six fields on '-'. */
    char buf[128];
    if (strlen(text) >= sizeof buf) {
        fail(err, "'%.40s...': not a configuration shorthand (too long)", text);
        return -1;
    }
    strcpy(buf, text);
    char *field[6];
    int n = 0;
    for (char *p = buf; n < 7; p++) {
        if (n < 6) {
            field[n] = p;
        }
        n++;
        p = strchr(p, '-');
        if (!p) {
            break;
        }
        *p = '\0';
    }
    if (n != 6) {
        fail(err,
             "'%s': a shorthand has six fields separated by '-', Workload-NICConnections-"
             "Priority-LoadControl-Selection-MIPS (e.g. W-4096-P-L-FCFS-400); %s",
             text,
             n < 6 ? "this has fewer"
                   : "this has more (a parameter such as Tn's or Bn's n takes no sign)");
        return -1;
    }
    struct sim_config t = *c;
    uint64_t v;
    if (parse_workload(field[0], &t.workload) != 0) {
        fail(err, "'%s': unknown workload '%s' (W, I, D or S)", text, field[0]);
        return -1;
    }
    if (parse_uint(field[1], 0, 1u << 20, &v) != 0) {
        fail(err, "'%s': NIC connections '%s' is not an integer in [0, %u]", text, field[1],
             1u << 20);
        return -1;
    }
    t.nic_conns = (uint32_t)v;
    if (strcmp(field[2], "P") && strcmp(field[2], "N")) {
        fail(err, "'%s': packet priority '%s' must be P or N", text, field[2]);
        return -1;
    }
    t.host_first = field[2][0] == 'P';
    int lc = ho_lc_find(field[3]);
    if (lc < 0) {
        fail(err, "'%s': load control '%s' must be L, A or N", text, field[3]);
        return -1;
    }
    t.load_control = (uint8_t)lc;
    if (ho_sel_parse(field[4], &t.selection) != 0 || t.selection.kind == HO_SEL_NEVER) {
        fail(err, "'%s': selection policy '%s' must be FCFS, Tn or Bn with n >= 1", text,
             field[4]);
        return -1;
    }
    if (parse_uint(field[5], 1, 100000, &v) != 0) {
        fail(err, "'%s': NIC MIPS '%s' is not an integer in [1, 100000]", text, field[5]);
        return -1;
    }
    t.nic_mips = (uint32_t)v;
    *c = t;
    return 0;
}

const char *sim_config_name(const struct sim_config *c, char *buf, size_t len)
{
    char sel[16];
    snprintf(buf, len, "%s-%u-%c-%s-%s-%u", sim_workload_name(c->workload), c->nic_conns,
             c->host_first ? 'P' : 'N', ho_lc_kind_name((enum ho_lc_kind)c->load_control),
             ho_sel_format(&c->selection, sel, sizeof sel), c->nic_mips);
    return buf;
}

static const struct key *find_key(const char *name)
{
    for (size_t i = 0; i < NKEYS; i++) {
        if (!strcmp(keys[i].name, name)) {
            return &keys[i];
        }
    }
    return NULL;
}

/*
 * Whether a text value survives being written as "key = value" and read back: no control
 * character (a line break would end the line), no '#' (it would start a comment), no blank at
 * either end (trimmed on reading). sim_config_describe's output must load back unchanged.
 */
static bool fits_a_line(const char *s)
{
    size_t n = strlen(s);
    if (n > 0 && (s[0] == ' ' || s[n - 1] == ' ')) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f || ch == '#') {
            return false;
        }
    }
    return true;
}

int sim_config_set(struct sim_config *c, const char *key, const char *value,
                   struct sim_config_err *err)
{
    const struct key *k = find_key(key);
    if (!k) {
        fail(err, "unknown key '%s' (handoff run --print-config lists them)", key);
        return -1;
    }
    char *field = (char *)c + k->offset;
    uint64_t v;
    switch (k->type) {
    case K_U32:
    case K_U64:
        if (parse_uint(value, k->min, k->max, &v) != 0) {
            fail(err, "'%s': expected an integer in [%llu, %llu], got '%s'", key,
                 (unsigned long long)k->min, (unsigned long long)k->max, value);
            return -1;
        }
        if (k->type == K_U32) {
            uint32_t v32 = (uint32_t)v;
            memcpy(field, &v32, sizeof v32);
        } else {
            memcpy(field, &v, sizeof v);
        }
        return 0;
    case K_BOOL: {
        bool b;
        if (!strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "1")) {
            b = true;
        } else if (!strcmp(value, "false") || !strcmp(value, "no") || !strcmp(value, "0")) {
            b = false;
        } else {
            fail(err, "'%s': expected true or false, got '%s'", key, value);
            return -1;
        }
        memcpy(field, &b, sizeof b);
        return 0;
    }
    case K_WORKLOAD:
        if (parse_workload(value, &c->workload) != 0) {
            fail(err, "'%s': expected W, I, D or S, got '%s'", key, value);
            return -1;
        }
        return 0;
    case K_RESTORE: {
        enum ho_nic_restore r;
        if (ho_nic_restore_parse(value, &r) != HO_OK) {
            fail(err, "'%s': expected none, queued, rate or idle, got '%s'", key, value);
            return -1;
        }
        c->restore = (uint8_t)r;
        return 0;
    }
    case K_LOADCTL: {
        int lc = ho_lc_find(value);
        if (!strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "1")) {
            lc = HO_LC_FIGURE3;
        } else if (!strcmp(value, "false") || !strcmp(value, "no") || !strcmp(value, "0")) {
            lc = HO_LC_NONE;
        }
        if (lc < 0) {
            fail(err, "'%s': expected L, A or N (or true for L, false for N), got '%s'", key,
                 value);
            return -1;
        }
        c->load_control = (uint8_t)lc;
        return 0;
    }
    case K_SELECTION:
        if (ho_sel_parse(value, &c->selection) != 0) {
            fail(err, "'%s': expected FCFS, NEVER, Tn or Bn with n >= 1, got '%s'", key, value);
            return -1;
        }
        return 0;
    case K_PATH:
        if (strlen(value) >= SIM_CONFIG_PATH_MAX) {
            fail(err, "'%s': path longer than %d bytes", key, SIM_CONFIG_PATH_MAX - 1);
            return -1;
        }
        if (!fits_a_line(value)) {
            fail(err,
                 "'%s': a path with a control character, a '#' or blanks at either end cannot "
                 "be written in a configuration file",
                 key);
            return -1;
        }
        strcpy(field, value);
        return 0;
    }
    return -1;
}

int sim_config_check(const struct sim_config *c, struct sim_config_err *err)
{
    if (c->lowat >= c->hiwat) {
        fail(err, "nic.lowat (%u) must be below nic.hiwat (%u)", c->lowat, c->hiwat);
        return -1;
    }
    if (c->load_control == HO_LC_ADAPTIVE &&
        (uint64_t)c->rx_queue_packets * c->lc_target_pct / 100 == 0) {
        fail(err,
             "nic.lc_target_pct (%u) of nic.rx_queue (%u) comes to no packet: load control A "
             "needs a target of at least one",
             c->lc_target_pct, c->rx_queue_packets);
        return -1;
    }
    if (c->load_control == HO_LC_FIGURE3 && c->hiwat >= c->rx_queue_packets) {
        fail(err,
             "nic.hiwat (%u) must be below nic.rx_queue (%u): load control must act "
             "before the queue drops",
             c->hiwat, c->rx_queue_packets);
        return -1;
    }
    if (c->l2_bytes % (c->l2_ways * c->line_bytes) != 0 ||
        (c->line_bytes & (c->line_bytes - 1)) != 0) {
        fail(err,
             "host.l2_bytes (%u) must be a multiple of host.l2_ways x host.line_bytes "
             "(%u x %u), with a power-of-two line",
             c->l2_bytes, c->l2_ways, c->line_bytes);
        return -1;
    }
    if ((c->fault.nic_hang_at_ms == 0) != (c->fault.nic_hang_ms == 0)) {
        fail(err, "fault.nic_hang_at_ms (%llu) and fault.nic_hang_ms (%llu) go together: both or "
                  "neither",
             (unsigned long long)c->fault.nic_hang_at_ms, (unsigned long long)c->fault.nic_hang_ms);
        return -1;
    }
    if ((uint64_t)c->stream_kbps * c->stream_segment_ms / 8 > UINT32_MAX) {
        fail(err,
             "a stream's segment, workload.stream_kbps x workload.stream_segment_ms (%u kb/s x "
             "%u ms), must be under 4 GB",
             c->stream_kbps, c->stream_segment_ms);
        return -1;
    }
    if ((c->step.nic_mips_at_ms == 0) != (c->step.nic_mips == 0)) {
        fail(err, "step.nic_mips_at_ms (%llu) and step.nic_mips (%u) go together: both or "
                  "neither",
             (unsigned long long)c->step.nic_mips_at_ms, c->step.nic_mips);
        return -1;
    }
    if ((c->fault.wire_drop_at_ms == 0) != (c->fault.wire_drop_ms == 0)) {
        fail(err, "fault.wire_drop_at_ms (%llu) and fault.wire_drop_ms (%llu) go together: both "
                  "or neither",
             (unsigned long long)c->fault.wire_drop_at_ms,
             (unsigned long long)c->fault.wire_drop_ms);
        return -1;
    }
    if (c->mss + 40 + 18 > 9018) {
        fail(err, "tcp.mss (%u) too large for an Ethernet frame", c->mss);
        return -1;
    }
    return 0;
}

/* Strips leading and trailing blanks in place; returns the start. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) {
        s[--n] = '\0';
    }
    return s;
}

#define LINE_MAX_BYTES 4096

/* One "key = value" of a file, kept until the base is applied. */
struct pending {
    char key[64];
    char value[LINE_MAX_BYTES];
    unsigned line;
};

static int load_file(struct sim_config *c, const char *path, FILE *f, struct sim_config_err *err)
{
    enum { MAX_LINES = 256 };
    static const size_t pend_size = sizeof(struct pending) * MAX_LINES;
    struct pending *pend = malloc(pend_size);
    if (!pend) {
        fail(err, "%s: out of memory", path);
        return -1;
    }
    size_t npend = 0;
    char base[128] = "";
    unsigned base_line = 0;
    char line[LINE_MAX_BYTES + 2];
    unsigned lineno = 0;
    int rc = -1;

    for (;;) {
        size_t n = 0;
        int ch;
        bool too_long = false, nul = false;
        while ((ch = fgetc(f)) != EOF && ch != '\n') {
            if (ch == '\0') {
                nul = true;
            }
            if (n < LINE_MAX_BYTES) {
                line[n++] = (char)ch;
            } else {
                too_long = true;
            }
        }
        if (ch == EOF && n == 0 && !too_long) {
            break;
        }
        line[n] = '\0';
        lineno++;
        if (nul) {
            fail(err, "%s:%u: NUL byte in a text file", path, lineno);
            goto out;
        }
        if (too_long) {
            fail(err, "%s:%u: line longer than %d bytes", path, lineno, LINE_MAX_BYTES);
            goto out;
        }
        char *hash = strchr(line, '#');
        if (hash) {
            *hash = '\0';
        }
        char *s = trim(line);
        if (*s == '\0') {
            if (ch == EOF) {
                break;
            }
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            fail(err, "%s:%u: expected 'key = value', got '%.60s'", path, lineno, s);
            goto out;
        }
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        const struct key *k = find_key(key);
        if (*key == '\0' || (*value == '\0' && !(k && k->type == K_PATH))) {
            fail(err, "%s:%u: expected 'key = value' with both parts", path, lineno);
            goto out;
        }
        if (!strcmp(key, "base")) {
            if (base_line) {
                fail(err, "%s:%u: 'base' given twice (first on line %u)", path, lineno, base_line);
                goto out;
            }
            if (strlen(value) >= sizeof base) {
                fail(err, "%s:%u: 'base' is not a shorthand", path, lineno);
                goto out;
            }
            strcpy(base, value);
            base_line = lineno;
        } else {
            if (!k) {
                fail(err, "%s:%u: unknown key '%.60s' (handoff run --print-config lists them)",
                     path, lineno, key);
                goto out;
            }
            for (size_t i = 0; i < npend; i++) {
                if (!strcmp(pend[i].key, key)) {
                    fail(err, "%s:%u: '%s' given twice (first on line %u)", path, lineno, key,
                         pend[i].line);
                    goto out;
                }
            }
            if (npend == MAX_LINES) {
                fail(err, "%s:%u: more than %d settings", path, lineno, MAX_LINES);
                goto out;
            }
            snprintf(pend[npend].key, sizeof pend[npend].key, "%s", key);
            snprintf(pend[npend].value, sizeof pend[npend].value, "%s", value);
            pend[npend].line = lineno;
            npend++;
        }
        if (ch == EOF) {
            break;
        }
    }
    if (ferror(f)) {
        fail(err, "%s: read error", path);
        goto out;
    }
    if (!base_line) {
        fail(err, "%s: no 'base = SHORTHAND' line (e.g. base = W-4096-P-L-FCFS-400)", path);
        goto out;
    }
    sim_config_defaults(c);
    struct sim_config_err e;
    if (sim_config_shorthand(c, base, &e) != 0) {
        fail(err, "%s:%u: %s", path, base_line, e.msg);
        goto out;
    }
    for (size_t i = 0; i < npend; i++) {
        if (sim_config_set(c, pend[i].key, pend[i].value, &e) != 0) {
            fail(err, "%s:%u: %s", path, pend[i].line, e.msg);
            goto out;
        }
    }
    if (sim_config_check(c, &e) != 0) {
        fail(err, "%s: %s", path, e.msg);
        goto out;
    }
    rc = 0;
out:
    free(pend);
    return rc;
}

/* True if text looks like a shorthand rather than a path: dashes, no slash, no dot. */
static bool looks_like_shorthand(const char *text)
{
    return strchr(text, '-') && !strchr(text, '/') && !strchr(text, '.');
}

/* A shorthand or a file, without overrides. */
static int load_base(struct sim_config *c, const char *spec, struct sim_config_err *err)
{
    if (looks_like_shorthand(spec) && access(spec, F_OK) != 0) {
        struct sim_config t;
        sim_config_defaults(&t);
        if (sim_config_shorthand(&t, spec, err) != 0 || sim_config_check(&t, err) != 0) {
            return -1;
        }
        *c = t;
        return 0;
    }
    FILE *f = fopen(spec, "r");
    if (!f) {
        fail(err,
             "'%s': neither a configuration shorthand (e.g. W-4096-P-L-FCFS-400) nor a "
             "readable file: %s",
             spec, strerror(errno));
        return -1;
    }
    struct sim_config t;
    int rc = load_file(&t, spec, f, err);
    fclose(f);
    if (rc == 0) {
        *c = t;
    }
    return rc;
}

int sim_config_load(struct sim_config *c, const char *spec, struct sim_config_err *err)
{
    const char *comma = strchr(spec, ',');
    if (!comma || access(spec, F_OK) == 0) {
        return load_base(c, spec, err);
    }
    char buf[1024];
    if (strlen(spec) >= sizeof buf) {
        fail(err, "'%.40s...': configuration too long", spec);
        return -1;
    }
    strcpy(buf, spec);
    buf[comma - spec] = '\0';
    struct sim_config t;
    if (load_base(&t, buf, err) != 0) {
        return -1;
    }
    for (char *item = buf + (comma - spec) + 1; item;) {
        char *next = strchr(item, ',');
        if (next) {
            *next++ = '\0';
        }
        char *eq = strchr(item, '=');
        if (!eq) {
            fail(err, "'%s': override '%s' is not key=value", spec, item);
            return -1;
        }
        *eq = '\0';
        struct sim_config_err e;
        if (sim_config_set(&t, trim(item), trim(eq + 1), &e) != 0) {
            fail(err, "'%s': %s", spec, e.msg);
            return -1;
        }
        item = next;
    }
    struct sim_config_err e;
    if (sim_config_check(&t, &e) != 0) {
        fail(err, "'%s': %s", spec, e.msg);
        return -1;
    }
    *c = t;
    return 0;
}

static void describe_value(const struct sim_config *c, const struct key *k, FILE *out)
{
    const char *field = (const char *)c + k->offset;
    char sel[16];
    switch (k->type) {
    case K_U32: {
        uint32_t v;
        memcpy(&v, field, sizeof v);
        fprintf(out, "%u", v);
        break;
    }
    case K_U64: {
        uint64_t v;
        memcpy(&v, field, sizeof v);
        fprintf(out, "%llu", (unsigned long long)v);
        break;
    }
    case K_BOOL: {
        bool b;
        memcpy(&b, field, sizeof b);
        fputs(b ? "true" : "false", out);
        break;
    }
    case K_WORKLOAD:
        fputs(sim_workload_name(c->workload), out);
        break;
    case K_SELECTION:
        fputs(ho_sel_format(&c->selection, sel, sizeof sel), out);
        break;
    case K_RESTORE:
        fputs(ho_nic_restore_name((enum ho_nic_restore)c->restore), out);
        break;
    case K_LOADCTL:
        fputs(ho_lc_kind_name((enum ho_lc_kind)c->load_control), out);
        break;
    case K_PATH:
        fputs(field, out);
        break;
    }
}

void sim_config_describe(const struct sim_config *c, FILE *out)
{
    char name[64];
    fprintf(out, "# handoff simulation parameters; load with: handoff run FILE\n");
    /* A shorthand names every selection policy but NEVER. NEVER, which only the os.selection
     * key sets, is written as FCFS in the base and set by that key below, so that the output
     * always loads back. */
    struct sim_config named = *c;
    if (named.selection.kind == HO_SEL_NEVER) {
        named.selection = (struct ho_sel_policy){.kind = HO_SEL_FCFS};
    }
    fprintf(out, "base = %s\n", sim_config_name(&named, name, sizeof name));
    for (size_t i = 0; i < NKEYS; i++) {
        const struct key *k = &keys[i];
        fprintf(out, "%-22s = ", k->name);
        describe_value(c, k, out);
        if (k->type == K_U32 || k->type == K_U64) {
            fprintf(out, "  # %s [%llu..%llu]\n", k->doc, (unsigned long long)k->min,
                    (unsigned long long)k->max);
        } else {
            fprintf(out, "  # %s\n", k->doc);
        }
    }
}

void sim_config_nic_params(const struct sim_config *c, struct ho_nic_params *p)
{
    *p = (struct ho_nic_params){
        .hard_limit = c->nic_conns,
        .host_first = c->host_first,
        .load_control = c->load_control,
        .hiwat = c->hiwat,
        .lowat = c->lowat,
        .lc_step = c->lc_step,
        .lc_target_pct = c->lc_target_pct,
        .lc_cut_pct = c->lc_cut_pct,
        .lc_raise_pct = c->lc_raise_pct,
        .rx_queue = c->rx_queue_packets,
        .tx_ring = c->tx_ring,
        .virtual_payload = true,
        .mss = c->mss,
        /* The socket buffers live in host memory; the NIC's TCP only needs room for what the
         * driver lets be outstanding, which the host's send buffer bounds. */
        .sndbuf = 2 * c->sndbuf,
        .rcvbuf = c->rcvbuf,
        .delack_ns = c->delack_ns,
        .delack_one_segment = c->delack_one_segment,
        .rto_init_ns = c->rto_init_ns,
        .seed = c->seed,
        .restore = c->restore,
        .costs = c->costs.nic,
    };
}

void sim_config_os_params(const struct sim_config *c, uint32_t conns, struct ho_os_params *p)
{
    *p = (struct ho_os_params){
        .nic_conns = c->nic_conns,
        .selection = c->selection,
        .conns = conns,
        .virtual_payload = true,
        .mss = c->mss,
        .sndbuf = c->sndbuf,
        .rcvbuf = c->rcvbuf,
        .delack_ns = c->delack_ns,
        .delack_one_segment = c->delack_one_segment,
        .rto_init_ns = c->rto_init_ns,
        .somaxconn = c->somaxconn,
        .tx_ring = c->tx_ring,
        .seed = c->seed,
        .line_bytes = c->line_bytes,
        .watchdog_ns = c->watchdog_ms * 1000000u,
        .costs = c->costs.os,
    };
}
