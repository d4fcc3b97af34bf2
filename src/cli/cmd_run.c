/*
 * cmd_run.c - `handoff run CONFIG`: one simulation, its metrics as a table and as JSON.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "repro.h"
#include "handoff/sim_config.h"
#include "handoff/sim_pcap.h"
#include "handoff/sim_world.h"

static void run_usage(FILE *f)
{
    fprintf(
        f,
        "usage: handoff run CONFIG [options]\n"
        "\n"
        "Simulates the web server host, the offload NIC, the wire and the clients for one\n"
        "configuration and prints the paper's metrics.\n"
        "\n"
        "CONFIG is the paper's shorthand Workload-NICConnections-Priority-LoadControl-\n"
        "Selection-MIPS (e.g. W-0-N-N-FCFS-400, I-256-P-L-T20-600) or a configuration file\n"
        "(`base = SHORTHAND` plus `key = value` overrides; --print-config lists every key),\n"
        "either followed by ,key=value overrides (W-1024-P-N-FCFS-400,cost.nic_scale_pct=150).\n"
        "\n"
        "options:\n"
        "  --warmup N         packets on the wire before measuring (default 400000)\n"
        "  --measure N        packets on the wire measured (default 600000)\n"
        "  --seed N           seed of every random stream (default 1)\n"
        "  --trace FILE       replay a trace (World Cup binary, CLF, httperf wsesslog)\n"
        "  --json FILE        write the metrics as JSON\n"
        "  --timeseries FILE  write time, Soft limit, Cnum, NIC receive queue, host and\n"
        "                     NIC busy as CSV every 10 ms of simulated time\n"
        "  --pcap FILE        write every frame on the wire as a pcap capture (payload\n"
        "                     zero-filled, nanosecond timestamps; Wireshark and tshark read it)\n"
        "  --print-config     print every parameter of CONFIG as a configuration file\n"
        "  --quiet            print nothing but errors\n");
}

struct run_opts {
    const char *config, *json, *timeseries, *pcap;
    const char *set_keys[8], *set_values[8];
    int nset, quiet, print_config;
};

static void progress(void *ctx, uint64_t packets, uint64_t total)
{
    (void)ctx;
    fprintf(stderr, "\rhandoff run: %llu / %llu packets (%.0f %%)", (unsigned long long)packets,
            (unsigned long long)total, total ? 100.0 * (double)packets / (double)total : 0);
}

static void print_table(const char *name, const struct sim_metrics *m, double wall)
{
    printf("%s\n", name);
    printf("  requests/s            %10.0f\n", m->requests_per_s);
    printf("  HTTP content Mb/s     %10.1f\n", m->http_mbps);
    printf("  packets/s             %10.0f  (NIC share %.0f %%)\n", m->packets_per_s,
           100 * m->nic_packet_share);
    printf("  connections/s         %10.0f  (handed off %.0f %%)\n", m->connections_per_s,
           100 * m->nic_connection_share);
    printf("  host user/OS/idle %%    %5.1f / %5.1f / %5.1f  (network stack %.1f %%)\n",
           m->host_user_pct, m->host_os_pct, m->host_idle_pct, m->host_net_pct);
    printf("  NIC idle %%            %10.1f  (host packets %.1f, TCP %.1f, messages %.1f)\n",
           m->nic_idle_pct, m->nic_host_pct, m->nic_tcp_pct, m->nic_msg_pct);
    printf("  host packet delay us  %10.1f send, %.1f receive (medians)\n",
           m->host_send_delay_median_us, m->host_recv_delay_median_us);
    printf("  mean response ms      %10.2f\n", m->mean_response_ms);
    printf("  NIC rx drops          %10llu   retransmits %llu (NIC %llu)\n",
           (unsigned long long)m->nic_rx_drops, (unsigned long long)m->retransmits,
           (unsigned long long)m->nic_retransmits);
    printf("  host send drops       %10llu   (interface queue full)\n",
           (unsigned long long)m->host_ifq_drops);
    printf("  DRAM accesses/packet  %10.1f\n", m->host_misses_per_packet);
    printf("  measured %.3f s simulated, %llu events, %.2f s wall\n", m->measured_s,
           (unsigned long long)m->events, wall);
}

static int write_json(const char *path, json_t *o)
{
    if (json_dump_file(o, path, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(9)) != 0) {
        fprintf(stderr, "handoff run: cannot write '%s': %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

int cli_run(int argc, char **argv)
{
    struct run_opts o = {0};
    static const struct {
        const char *opt, *key;
    } map[] = {{"--warmup", "run.warmup_packets"},
               {"--measure", "run.measure_packets"},
               {"--seed", "run.seed"},
               {"--trace", "run.trace"}};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            run_usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--quiet")) {
            o.quiet = 1;
            continue;
        }
        if (!strcmp(a, "--print-config")) {
            o.print_config = 1;
            continue;
        }
        if (a[0] != '-') {
            if (o.config) {
                fprintf(stderr, "handoff run: one CONFIG only ('%s' and '%s')\n", o.config, a);
                return 2;
            }
            o.config = a;
            continue;
        }
        if (!v) {
            fprintf(stderr, "handoff run: unknown option or missing value: '%s'\n", a);
            return 2;
        }
        int known = 0;
        for (size_t k = 0; k < sizeof map / sizeof map[0]; k++) {
            if (!strcmp(a, map[k].opt)) {
                o.set_keys[o.nset] = map[k].key;
                o.set_values[o.nset++] = v;
                known = 1;
            }
        }
        if (!strcmp(a, "--json")) {
            o.json = v;
        } else if (!strcmp(a, "--pcap")) {
            o.pcap = v;
        } else if (!strcmp(a, "--timeseries")) {
            o.timeseries = v;
        } else if (!known) {
            fprintf(stderr, "handoff run: unknown option '%s'\n", a);
            return 2;
        }
        i++;
    }
    if (!o.config) {
        fprintf(stderr, "handoff run: missing CONFIG (e.g. W-0-N-N-FCFS-400)\n");
        run_usage(stderr);
        return 2;
    }
    struct sim_config cfg;
    struct sim_config_err err = {{0}};
    if (sim_config_load(&cfg, o.config, &err) != 0) {
        fprintf(stderr, "handoff run: %s\n", err.msg);
        return 2;
    }
    for (int k = 0; k < o.nset; k++) {
        if (sim_config_set(&cfg, o.set_keys[k], o.set_values[k], &err) != 0) {
            fprintf(stderr, "handoff run: %s\n", err.msg);
            return 2;
        }
    }
    if (sim_config_check(&cfg, &err) != 0) {
        fprintf(stderr, "handoff run: %s\n", err.msg);
        return 2;
    }
    if (o.print_config) {
        sim_config_describe(&cfg, stdout);
        return 0;
    }
    char name[64], title[1200];
    sim_config_name(&cfg, name, sizeof name);
    if (strcmp(name, o.config) != 0) {
        snprintf(title, sizeof title, "%s (%s)", name, o.config);
    } else {
        snprintf(title, sizeof title, "%s", name);
    }

    FILE *csv = NULL;
    if (o.timeseries) {
        csv = fopen(o.timeseries, "w");
        if (!csv) {
            fprintf(stderr, "handoff run: cannot write '%s': %s\n", o.timeseries, strerror(errno));
            return 1;
        }
        fprintf(csv, "time_s,soft_limit,cnum,nic_rxq,host_busy,nic_busy\n");
    }
    struct sim_world *w;
    if (sim_world_create(&cfg, &w, &err) != 0) {
        fprintf(stderr, "handoff run: %s: %s\n", name, err.msg);
        if (csv) {
            fclose(csv);
        }
        return 1;
    }
    struct sim_pcap *pc = NULL;
    if (o.pcap) {
        struct sim_pcap_params pp = {.path = o.pcap};
        struct sim_pcap_err perr;
        if (sim_pcap_open(&pp, &pc, &perr) != 0) {
            fprintf(stderr, "handoff run: %s\n", perr.msg);
            sim_world_destroy(w);
            if (csv) {
                fclose(csv);
            }
            return 1;
        }
        sim_world_set_pcap(w, pc);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = sim_world_run(w, 10000000, csv ? repro_write_sample : NULL, o.quiet ? NULL : progress,
                           csv, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (!o.quiet) {
        fprintf(stderr, "\r\033[K");
    }
    int status = 0;
    struct sim_pcap_err perr;
    if (pc && sim_pcap_close(pc, &perr) != 0) {
        fprintf(stderr, "handoff run: %s\n", perr.msg);
        status = 1;
    }
    if (csv && fclose(csv) != 0) {
        fprintf(stderr, "handoff run: error writing '%s'\n", o.timeseries);
        status = 1;
    }
    if (rc != 0) {
        fprintf(stderr, "handoff run: %s: %s\n", name, err.msg);
        sim_world_destroy(w);
        return 1;
    }
    struct sim_metrics m;
    sim_world_metrics(w, &m);
    sim_world_destroy(w);
    if (!o.quiet) {
        print_table(title, &m, wall);
    }
    if (o.json) {
        /* "config" is what reproduces the run (the argument as given, overrides and all, as in
         * the reproduction's files); "shorthand" names its six paper parameters. */
        json_t *j = repro_metrics_json(o.config, cfg.seed, &m, wall);
        json_object_set_new(j, "shorthand", json_string(name));
        status |= write_json(o.json, j) != 0;
        json_decref(j);
    }
    return status;
}
