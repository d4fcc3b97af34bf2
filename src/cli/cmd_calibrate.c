/*
 * cmd_calibrate.c - `handoff calibrate`: fits the cost model on the paper's baseline alone.
 *
 * The paper states four facts about W-0-N-N-FCFS-400 (section 5.1, Table 1): about 23,031
 * requests/s, the host processor never idle, 57 % of its cycles in the network stack below the
 * system calls, and the NIC 62 % idle. Three things move to meet them, everything else is a
 * prediction:
 *   - one factor on every cost of the host's network stack (packet receive and transmit, timer
 *     expiries, and the driver's messages and handoff, which are the same kind of code);
 *   - one factor on every system-call and server cost;
 *   - the NIC's cost of a host packet (receive and send alike).
 * The proportions among the costs of one group are the model's first estimates and stay as
 * they are. The host is saturated at the baseline, so a request takes 2e9 / requests/s cycles,
 * of which the stack takes its share; the memory stalls inside the stack's share (the cache
 * model's DRAM accesses) do not scale with the factor, and are taken out before scaling. The NIC
 * spends all its time on host packets at the baseline, so its busy share scales with their cost.
 * A few rounds of run-and-rescale converge.
 *
 * The NIC's own TCP costs then follow from the paper's statement of what its NIC sustains
 * (section 4.1): at 400 MIPS, 1 Gb/s of TCP for one offloaded connection beside 1 Gb/s for a host
 * connection, with 1518-byte frames. That is 82,345 data frames a second each way and an ACK for
 * every second one (41,173): the host connection's 123,518 packets at the fitted host-packet cost,
 * and the offloaded connection's 82,345 transmitted segments and 41,173 received ACKs in what is
 * left of 400 M instructions, split between the two in the proportion of the starting values.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "outdir.h"
#include "provenance.h"
#include "repro.h"
#include "handoff/sim_config.h"
#include "handoff/sim_world.h"

#define PAPER_REQUESTS 23031.0
#define PAPER_STACK    57.0
#define PAPER_NIC_IDLE 62.0

static void usage(FILE *f)
{
    fprintf(
        f, "usage: handoff calibrate [options]\n"
           "\n"
           "Fits the cost model on the baseline W-0-N-N-FCFS-400 alone, to the paper's facts\n"
           "about it: 23,031 requests/s, 57 %% of host cycles in the network stack, the NIC 62 %%\n"
           "idle. It scales the host's network-stack costs by one factor, its system-call and\n"
           "server costs by another, and sets the NIC's cost of a host packet; then it derives\n"
           "the NIC's TCP costs from the paper's statement that a 400-MIPS NIC carries 1 Gb/s\n"
           "of offloaded TCP beside 1 Gb/s of host traffic. It prints each round and the\n"
           "costs it found as a configuration file (docs/cost-model.md).\n"
           "\n"
           "options (a value follows as `--opt V` or `--opt=V`):\n"
           "  -c, --config SPEC  the starting model: a configuration whose costs are the\n"
           "                     first estimates, W without handoff (default W-0-N-N-FCFS-400)\n"
           "  -s, --seeds N      average every round over seeds 1..N, 1..100 (default 1)\n"
           "  -r, --rounds N     rounds at most, 1..100 (default 8)\n"
           "  -w, --warmup N     packets of warm-up (default 400000)\n"
           "  -m, --measure N    packets measured, at least 1 (default 600000)\n"
           "  -o, --out FILE     write the fitted costs there as a configuration file\n"
           "  -h, --help         print this message\n"
           "\n"
           "Exit status: 0 fitted, 1 a run failed, measured nothing, did not converge or the\n"
           "file could not be written, 2 usage or configuration error.\n");
}

struct fit {
    double requests, stack, host_idle, nic_idle, pkts_per_req, misses_per_pkt, delay_rx, delay_tx;
};

/* Runs the baseline with costs k over seeds 1..nseeds; the mean of each metric. */
static int run_baseline(const struct sim_config *base, unsigned nseeds, struct fit *out)
{
    memset(out, 0, sizeof *out);
    for (unsigned s = 1; s <= nseeds; s++) {
        struct sim_config c = *base;
        c.seed = s;
        struct sim_config_err e = {{0}};
        struct sim_world *w = NULL;
        if (sim_world_create(&c, &w, &e) != 0 || sim_world_run(w, 0, NULL, NULL, NULL, &e) != 0) {
            fprintf(stderr, "handoff calibrate: the baseline failed: %s\n", e.msg);
            sim_world_destroy(w);
            return -1;
        }
        struct sim_metrics m;
        sim_world_metrics(w, &m);
        sim_world_destroy(w);
        char why[512];
        if (repro_metrics_check(&m, &c, why, sizeof why) != 0) {
            fprintf(stderr, "handoff calibrate: the baseline, seed %u: %s\n", s, why);
            return -1;
        }
        out->requests += m.requests_per_s / nseeds;
        out->stack += m.host_net_pct / nseeds;
        out->host_idle += m.host_idle_pct / nseeds;
        out->nic_idle += m.nic_idle_pct / nseeds;
        out->pkts_per_req += m.packets_per_s / m.requests_per_s / nseeds;
        out->misses_per_pkt += m.host_misses_per_packet / nseeds;
        out->delay_rx += m.host_recv_delay_median_us / nseeds;
        out->delay_tx += m.host_send_delay_median_us / nseeds;
    }
    return 0;
}

static uint32_t rounded(double x)
{
    x = floor(x + 0.5);
    return x < 0 ? 0 : x > 4e9 ? UINT32_MAX : (uint32_t)x;
}

static uint32_t scaled(uint32_t v, double f)
{
    return rounded((double)v * f);
}

static void scale_net(struct ho_os_costs *k, double f)
{
    k->rx_pkt = scaled(k->rx_pkt, f);
    k->tx_pkt = scaled(k->tx_pkt, f);
    k->timer = scaled(k->timer, f);
    k->msg_out = scaled(k->msg_out, f);
    k->msg_in = scaled(k->msg_in, f);
    k->handoff = scaled(k->handoff, f);
}

static void scale_sys(struct sim_costs *k, double f)
{
    k->os.sys_event = scaled(k->os.sys_event, f);
    k->os.sys_accept = scaled(k->os.sys_accept, f);
    k->os.sys_read = scaled(k->os.sys_read, f);
    k->os.sys_write = scaled(k->os.sys_write, f);
    k->os.sys_sendfile = scaled(k->os.sys_sendfile, f);
    k->os.sys_close = scaled(k->os.sys_close, f);
    k->os.copy_per_kb = scaled(k->os.copy_per_kb, f);
    k->app.request = scaled(k->app.request, f);
    k->app.dynamic = scaled(k->app.dynamic, f);
}

/* The NIC's TCP costs from section 4.1's statement, given the cost of a host packet. */
static void derive_nic_tcp(struct ho_nic_costs *k, uint32_t mips)
{
    const double frame_bits = 1518.0 * 8, gbps = 1e9;
    double data = gbps / frame_bits; /* data frames a second, each way */
    double acks = data / 2;          /* one ACK for every second segment */
    double left = (double)mips * 1e6 - (data + acks) * k->host_rx;
    double per = left / (data * k->tcp_tx + acks * k->tcp_rx); /* one factor on both */
    k->tcp_tx = scaled(k->tcp_tx, per);
    k->tcp_rx = scaled(k->tcp_rx, per);
}

static void print_costs(FILE *f, const struct sim_config *c)
{
    static const char *const keys[] = {
        "cost.host_rx_pkt", "cost.host_tx_pkt",  "cost.host_timer",   "cost.host_msg_out",
        "cost.host_msg_in", "cost.host_handoff", "cost.sys_event",    "cost.sys_accept",
        "cost.sys_read",    "cost.sys_write",    "cost.sys_sendfile", "cost.sys_close",
        "cost.copy_per_kb", "cost.user_request", "cost.user_dynamic", "cost.nic_host_rx",
        "cost.nic_host_tx", "cost.nic_tcp_rx",   "cost.nic_tcp_tx",
    };
    const uint32_t vals[] = {
        c->costs.os.rx_pkt,      c->costs.os.tx_pkt,       c->costs.os.timer,
        c->costs.os.msg_out,     c->costs.os.msg_in,       c->costs.os.handoff,
        c->costs.os.sys_event,   c->costs.os.sys_accept,   c->costs.os.sys_read,
        c->costs.os.sys_write,   c->costs.os.sys_sendfile, c->costs.os.sys_close,
        c->costs.os.copy_per_kb, c->costs.app.request,     c->costs.app.dynamic,
        c->costs.nic.host_rx,    c->costs.nic.host_tx,     c->costs.nic.tcp_rx,
        c->costs.nic.tcp_tx,
    };
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        fprintf(f, "%s = %u\n", keys[i], vals[i]);
    }
}

int cli_calibrate(int argc, char **argv)
{
    const char *spec = "W-0-N-N-FCFS-400", *out = NULL;
    unsigned long seeds = 1, rounds = 8;
    const char *warmup = NULL, *measure = NULL;
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},  {"seeds", required_argument, NULL, 's'},
        {"rounds", required_argument, NULL, 'r'},  {"warmup", required_argument, NULL, 'w'},
        {"measure", required_argument, NULL, 'm'}, {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":c:s:r:w:m:o:h", opts, NULL)) != -1) {
        uint64_t v;
        switch (ch) {
        case 'c':
            spec = optarg;
            break;
        case 's':
        case 'r':
            if (cli_parse_uint(optarg, 1, 100, &v) != 0) {
                fprintf(stderr, "handoff calibrate: --%s wants a number from 1 to 100, not '%s'\n",
                        ch == 's' ? "seeds" : "rounds", optarg);
                return 2;
            }
            *(ch == 's' ? &seeds : &rounds) = (unsigned long)v;
            break;
        case 'w':
            warmup = optarg;
            break;
        case 'm':
            measure = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            return cli_opt_error("handoff calibrate", ch, argv, opts);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "handoff calibrate: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    struct sim_config c;
    struct sim_config_err e = {{0}};
    const char *bad = NULL; /* the option at fault */
    if (sim_config_load(&c, spec, &e) != 0) {
        bad = "--config";
    } else if (warmup && sim_config_set(&c, "run.warmup_packets", warmup, &e) != 0) {
        bad = "--warmup";
    } else if (measure && sim_config_set(&c, "run.measure_packets", measure, &e) != 0) {
        bad = "--measure";
    } else if (sim_config_check(&c, &e) != 0) {
        bad = "--config";
    }
    if (bad) {
        fprintf(stderr, "handoff calibrate: %s: %s\n", bad, e.msg);
        return 2;
    }
    if (c.nic_conns != 0 || c.workload != SIM_WL_W) {
        fprintf(stderr,
                "handoff calibrate: the model is calibrated on W without handoff, and "
                "'%s' is not that\n",
                spec);
        return 2;
    }
    const struct sim_costs start = c.costs;
    const double target_cycles = (double)c.host_hz / PAPER_REQUESTS;
    printf("handoff calibrate: %s, %lu seed(s), to %.0f requests/s, %.0f %% in the stack, "
           "NIC %.0f %% idle\n",
           spec, seeds, PAPER_REQUESTS, PAPER_STACK, PAPER_NIC_IDLE);
    printf("  %5s %10s %7s %9s %9s %8s %9s %9s\n", "round", "requests/s", "stack %", "host idle",
           "NIC idle", "pkts/req", "net x", "sys x");
    double fnet = 1, fsys = 1, nic = start.nic.host_rx;
    struct fit f;
    int converged = 0;
    for (unsigned long r = 1; r <= rounds + 1 && !converged; r++) {
        if (run_baseline(&c, (unsigned)seeds, &f) != 0) {
            return 1;
        }
        printf("  %5lu %10.0f %7.2f %9.2f %9.2f %8.3f %9.4f %9.4f\n", r, f.requests, f.stack,
               f.host_idle, f.nic_idle, f.pkts_per_req, fnet, fsys);
        fflush(stdout);
        converged = fabs(f.requests / PAPER_REQUESTS - 1) < 0.002 &&
                    fabs(f.stack - PAPER_STACK) < 0.2 && fabs(f.nic_idle - PAPER_NIC_IDLE) < 0.2;
        if (converged || r > rounds) {
            break;
        }
        /* Per request: the stack's cycles (with their memory stalls) and the rest. */
        double used = (double)c.host_hz * (1 - f.host_idle / 100) / f.requests;
        double net = used * f.stack / (100 - f.host_idle);
        double stalls = f.misses_per_pkt * c.dram_cycles * f.pkts_per_req;
        double want_net = target_cycles * PAPER_STACK / 100;
        double gnet = (want_net - stalls) / (net - stalls);
        double gsys = (target_cycles - want_net) / (used - net);
        fnet *= gnet;
        fsys *= gsys;
        c.costs = start;
        scale_net(&c.costs.os, fnet);
        scale_sys(&c.costs, fsys);
        /* The NIC's packets will come at the target rate: its busy share follows its cost. */
        nic *= (100 - PAPER_NIC_IDLE) / (100 - f.nic_idle) * f.requests / PAPER_REQUESTS;
        c.costs.nic.host_rx = c.costs.nic.host_tx = rounded(nic);
    }
    if (!converged) {
        fprintf(stderr, "handoff calibrate: no convergence in %lu rounds\n", rounds);
        return 1;
    }
    derive_nic_tcp(&c.costs.nic, 400);
    printf("\nfitted (net x %.4f, sys x %.4f of the starting costs); host-packet delay across "
           "the NIC %.1f us send, %.1f us receive (the paper: 2 and 2)\n\n",
           fnet, fsys, f.delay_tx, f.delay_rx);
    print_costs(stdout, &c);
    if (out) {
        struct outfile o;
        if (outfile_open("handoff calibrate", &o, out) != 0) {
            return 1;
        }
        fprintf(o.f,
                "# handoff calibrate --config %s --seeds %lu (handoff %s)\n"
                "base = W-0-N-N-FCFS-400\n",
                spec, seeds, prov_version());
        print_costs(o.f, &c);
        if (outfile_commit("handoff calibrate", &o) != 0) {
            return 1;
        }
    }
    return 0;
}
