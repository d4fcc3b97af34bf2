/*
 * cmd_demo.c - `handoff demo`: the policy engine on a small queueing model of a NIC.
 *
 * Runs the NIC queueing model of demo_model.c for a list of configurations in the paper's
 * shorthand without the workload and selection fields (NICConnections-Priority-LoadControl),
 * prints a table, and with --out writes a report, JSON results, time series as CSV and a
 * figure of Soft limit, Cnum and Qlen over time drawn by gnuplot.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "demo_model.h"
#include "outdir.h"

static const char *const default_configs[] = {
    "0-N-N", "256-N-N", "1024-N-N", "1024-P-N", "4096-P-N", "4096-P-L",
};
#define NDEFAULT    (sizeof default_configs / sizeof default_configs[0])
#define MAX_CONFIGS 32

struct demo_opts {
    const char *out;
    const char *configs[MAX_CONFIGS];
    size_t nconfigs;
    uint64_t seed;
    double warmup_s, measure_s;
    int quiet;
};

static void demo_usage(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: handoff %s [--out DIR] [--config H-P-L]... [--seed N]\n"
            "                    [--warmup SECONDS] [--measure SECONDS] [--quiet]\n"
            "\n"
            "Drives the real policy engine (lookup layer, scheduler, load control, selection,\n"
            "command codec) with a small open-loop queueing model of a 400-MIPS NIC serving\n"
            "2048 connections, to show the mechanisms of the paper's Table 1 and Figure 6.\n"
            "It does not model the host processor, TCP or the clients' wait for answers, so\n"
            "its numbers are not the paper's and not comparable to them.\n"
            "\n"
            "  --config H-P-L   NIC connection limit H (0 = no handoff), host-first priority\n"
            "                   P or FCFS N, load control L or none N; repeatable\n"
            "                   (default: 0-N-N 256-N-N 1024-N-N 1024-P-N 4096-P-N 4096-P-L)\n"
            "  --out DIR        write DIR/report.md, DIR/results.json, DIR/timeseries/*.csv\n"
            "                   and DIR/figures/*.svg|png\n"
            "  --seed N         seed of the random streams (default 1)\n"
            "  --warmup S       simulated seconds before measuring (default 2)\n"
            "  --measure S      simulated seconds measured (default 4)\n"
            "  --quiet          no progress on stderr\n",
            prog);
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!s || *s == '\0' || *s == '-') {
        return -1;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end != '\0') {
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_seconds(const char *s, double *out)
{
    char *end;
    errno = 0;
    if (!s || *s == '\0') {
        return -1;
    }
    double v = strtod(s, &end);
    if (errno || *end != '\0' || !(v > 0) || v > 1000) {
        return -1;
    }
    *out = v;
    return 0;
}

/* Returns 0 on success, 2 on a usage error (printed), 1 if --help was printed. */
static int parse_demo_opts(int argc, char **argv, struct demo_opts *o, const char *prog)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->warmup_s = 2;
    o->measure_s = 4;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            demo_usage(stdout, prog);
            return 1;
        } else if (!strcmp(a, "--quiet")) {
            o->quiet = 1;
            continue;
        } else if (!v) {
            fprintf(stderr, "handoff %s: unknown option or missing value: '%s'\n", prog, a);
            return 2;
        } else if (!strcmp(a, "--out")) {
            o->out = v;
        } else if (!strcmp(a, "--config")) {
            struct demo_params p;
            if (demo_params_for(&p, v) != 0) {
                fprintf(stderr, "handoff %s: --config '%s': expected H-P-L, e.g. 1024-P-N\n", prog,
                        v);
                return 2;
            }
            if (o->nconfigs == MAX_CONFIGS) {
                fprintf(stderr, "handoff %s: at most %d --config options\n", prog, MAX_CONFIGS);
                return 2;
            }
            o->configs[o->nconfigs++] = v;
        } else if (!strcmp(a, "--seed")) {
            if (parse_u64(v, &o->seed) != 0) {
                fprintf(stderr, "handoff %s: --seed '%s': expected a non-negative integer\n", prog,
                        v);
                return 2;
            }
        } else if (!strcmp(a, "--warmup") || !strcmp(a, "--measure")) {
            double *dst = !strcmp(a, "--warmup") ? &o->warmup_s : &o->measure_s;
            if (parse_seconds(v, dst) != 0) {
                fprintf(stderr, "handoff %s: %s '%s': expected seconds in (0, 1000]\n", prog, a, v);
                return 2;
            }
        } else {
            fprintf(stderr, "handoff %s: unknown option '%s'\n", prog, a);
            return 2;
        }
        i++;
    }
    if (o->nconfigs == 0) {
        for (size_t i = 0; i < NDEFAULT; i++) {
            o->configs[o->nconfigs++] = default_configs[i];
        }
    }
    return 0;
}

struct csv_sink {
    FILE *f;
};

static void write_sample(void *ctx, const struct demo_sample *s)
{
    struct csv_sink *sink = ctx;
    if (sink->f) {
        fprintf(sink->f, "%.3f,%u,%u,%u,%.4f\n", s->t_s, s->soft_limit, s->cnum, s->qlen,
                s->nic_busy);
    }
}

static json_t *result_json(const struct demo_params *p, const struct demo_result *r)
{
    return json_pack(
        "{s:s, s:I, s:i, s:b, s:b, s:f, s:f, s:f, s:f, s:f, s:f, s:I, s:I, s:I, "
        "s:f, s:f, s:f, s:f, s:I}",
        "config", p->name, "seed", (json_int_t)p->seed, "hard_limit", (int)p->hard_limit,
        "host_first", p->host_first, "load_control", p->load_control, "nic_idle_pct",
        r->nic_idle_pct, "nic_packet_share", r->nic_packet_share, "host_recv_delay_median_us",
        r->host_recv_delay_med_us, "host_send_delay_median_us", r->host_send_delay_med_us,
        "host_recv_delay_p99_us", r->host_recv_delay_p99_us, "host_send_delay_p99_us",
        r->host_send_delay_p99_us, "nic_rx_drops", (json_int_t)r->rx_drops, "packets",
        (json_int_t)r->packets, "connections", (json_int_t)r->connections, "handed_off_share",
        r->handed_off_share, "soft_limit_mean", r->soft_limit_mean, "nic_connections_mean",
        r->cnum_mean, "qlen_mean", r->qlen_mean, "soft_limit_adverts", (json_int_t)r->adverts);
}

static void print_row(FILE *f, const struct demo_params *p, const struct demo_result *r)
{
    fprintf(f, "| %-9s | %5.1f | %5.1f | %8.1f | %8.1f | %8llu | %6.1f | %6.0f | %6.0f |\n",
            p->name, r->nic_idle_pct, 100 * r->nic_packet_share, r->host_send_delay_med_us,
            r->host_recv_delay_med_us, (unsigned long long)r->rx_drops, 100 * r->handed_off_share,
            r->soft_limit_mean, r->cnum_mean);
}

static void print_header(FILE *f)
{
    fprintf(f, "| config    | NIC idle %% | NIC pkt %% | host send delay us | host recv delay us "
               "| rx drops | conns handed off %% | Soft limit | Cnum |\n");
    fprintf(f, "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
}

static int write_report(const struct demo_opts *o, const struct demo_params *ps,
                        const struct demo_result *rs, size_t n, double wall_s,
                        const char *figure_note)
{
    FILE *f = outdir_open(o->out, "report.md");
    if (!f) {
        return -1;
    }
    fprintf(f, "# handoff: policy-engine demo\n\n");
    fprintf(f,
            "**This is not the reproduction of the paper's evaluation** (that is `handoff\n"
            "reproduce`). This report comes from `handoff demo`: the\n"
            "real policy-engine modules (lookup layer, queues and scheduler, load control,\n"
            "connection selection, command codec) driven by a small open-loop queueing model of\n"
            "the NIC. It shows the *mechanisms* behind the paper's Table 1 and Figure 6; its\n"
            "numbers are not comparable to the paper's.\n\n");
    fprintf(f, "## The model\n\n");
    fprintf(f,
            "- %u connections, each exchanging a request and an answer %.0f times a second as a\n"
            "  Poisson stream, for a Pareto(%.1f, %.0f) number of exchanges, then replaced by a\n"
            "  new connection (FCFS selection: offered to the NIC at establishment if the\n"
            "  advertised Soft limit has room).\n"
            "- A %.0f-MIPS NIC processor: %u instructions to move a host packet, %u and %u for\n"
            "  the TCP receive and transmit processing of a NIC packet, %u per handoff command,\n"
            "  %u per lookup probe. Receive memory of %u packets shared by both receive queues.\n"
            "- Load control: Hiwat %u, Lowat %u, step %u.\n"
            "- Not modelled: the host processor, TCP flow and congestion control, the wire, and\n"
            "  clients that wait for answers (traffic is open-loop, so an overloaded NIC drops\n"
            "  instead of slowing its clients down).\n"
            "- Warm-up %.1f s, measured %.1f s of simulated time, seed %llu.\n\n",
            ps[0].clients, ps[0].conn_rate, ps[0].lifetime_alpha, ps[0].lifetime_min,
            ps[0].nic_mips, ps[0].cost_host_pkt, ps[0].cost_nic_rx, ps[0].cost_nic_tx,
            ps[0].cost_cmd, ps[0].cost_probe, ps[0].rx_capacity, ps[0].hiwat, ps[0].lowat,
            ps[0].lc_step, ps[0].warmup_s, ps[0].measure_s, (unsigned long long)ps[0].seed);
    fprintf(f, "## Results\n\n");
    print_header(f);
    for (size_t i = 0; i < n; i++) {
        print_row(f, &ps[i], &rs[i]);
    }
    fprintf(f,
            "\nDelays are medians of the time a host packet spends crossing the NIC (queueing\n"
            "and processing). Soft limit and Cnum are time averages.\n\n"
            "What to look for: with FCFS scheduling, handing off enough connections to\n"
            "saturate the NIC makes host packets wait behind NIC work (the paper's Table 1,\n"
            "row 3); host-first scheduling keeps their delay near the no-handoff value (row 4);\n"
            "with more connections than the NIC can serve, only load control keeps the receive\n"
            "queue below Hiwat and avoids drops (Figure 6).\n\n");
    fprintf(f, "## Figure: load control over time\n\n%s\n\n", figure_note);
    fprintf(f, "Time series: `timeseries/demo-<config>.csv` (time_s, soft_limit, cnum, qlen, "
               "nic_busy).\n\n");
    fprintf(f, "Wall time: %.1f s.\n", wall_s);
    return outdir_close(f, o->out, "report.md");
}

static int run_demo(int argc, char **argv, const char *prog)
{
    struct demo_opts o;
    int rc = parse_demo_opts(argc, argv, &o, prog);
    if (rc) {
        return rc == 1 ? 0 : 2;
    }
    if (o.out && outdir_make(o.out) != 0) {
        return 1;
    }
    struct demo_params ps[MAX_CONFIGS];
    struct demo_result rs[MAX_CONFIGS];
    json_t *runs = json_array();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const char *lc_config = NULL;

    if (!o.quiet) {
        print_header(stdout);
    }
    for (size_t i = 0; i < o.nconfigs; i++) {
        demo_params_for(&ps[i], o.configs[i]);
        ps[i].seed = o.seed;
        ps[i].warmup_s = o.warmup_s;
        ps[i].measure_s = o.measure_s;
        if (!o.quiet) {
            fprintf(stderr, "handoff %s: [%zu/%zu] running %s...\n", prog, i + 1, o.nconfigs,
                    ps[i].name);
        }
        struct csv_sink sink = {0};
        char csv_name[96];
        snprintf(csv_name, sizeof csv_name, "timeseries/demo-%.31s.csv", ps[i].name);
        if (o.out) {
            sink.f = outdir_open(o.out, csv_name);
            if (!sink.f) {
                json_decref(runs);
                return 1;
            }
            fprintf(sink.f, "time_s,soft_limit,cnum,qlen,nic_busy\n");
        }
        int err = demo_run(&ps[i], &rs[i], write_sample, &sink);
        if (sink.f && outdir_close(sink.f, o.out, csv_name) != 0) {
            err = -1;
        }
        if (err != 0) {
            fprintf(stderr, "handoff %s: %s: the model could not run (error %d)\n", prog,
                    ps[i].name, err);
            json_decref(runs);
            return 1;
        }
        json_array_append_new(runs, result_json(&ps[i], &rs[i]));
        if (ps[i].load_control && !lc_config) {
            lc_config = ps[i].name;
        }
        print_row(stdout, &ps[i], &rs[i]);
        fflush(stdout);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

    int status = 0;
    if (o.out) {
        char note[512];
        if (lc_config) {
            outdir_plot_timeseries(o.out, lc_config, note, sizeof note);
        } else {
            snprintf(note, sizeof note, "No configuration with load control was run.");
        }
        char *text = json_dumps(runs, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
        FILE *jf = text ? outdir_open(o.out, "results.json") : NULL;
        if (!jf) {
            status = 1;
        } else {
            fprintf(jf, "%s\n", text);
            status |= outdir_close(jf, o.out, "results.json") != 0;
        }
        free(text);
        status |= write_report(&o, ps, rs, o.nconfigs, wall, note) != 0;
        if (!o.quiet && !status) {
            fprintf(stderr, "handoff %s: wrote %s/report.md (%.1f s)\n", prog, o.out, wall);
        }
    }
    json_decref(runs);
    return status;
}

int cli_demo(int argc, char **argv)
{
    return run_demo(argc, argv, "demo");
}
