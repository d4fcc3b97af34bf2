/*
 * cmd_run.c - `handoff run CONFIG`: one simulation, its metrics as a table and as JSON.
 *
 * The options that set run parameters (--warmup, --measure, --seed, --trace) are applied as the
 * configuration keys they stand for, after CONFIG and its overrides, so a configuration file and
 * the command line are checked by the same code. A run that measured nothing, or completed no
 * request, fails: its all-zero metrics are never printed as a result.
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

#define PROG "handoff run"

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
        "options (a value follows as `--opt N` or `--opt=N`); the first four replace the\n"
        "configuration key named in brackets, whose default is CONFIG's value:\n"
        "  -w, --warmup N       packets on the wire before measuring [run.warmup_packets;\n"
        "                       400000 unless CONFIG sets it]\n"
        "  -m, --measure N      packets on the wire measured, at least 1\n"
        "                       [run.measure_packets; 600000 unless CONFIG sets it]\n"
        "  -s, --seed N         seed of every random stream [run.seed; 1 unless CONFIG sets it]\n"
        "  -t, --trace FILE     replay a trace (World Cup binary, CLF, httperf wsesslog) in\n"
        "                       place of CONFIG's workload [run.trace]; stderr says so and the\n"
        "                       JSON names it. A trace shorter than the run starts over from\n"
        "                       its first connection, with a warning\n"
        "  -j, --json FILE      write the metrics as JSON (with \"config\", \"shorthand\",\n"
        "                       \"trace\": the trace's path or null, \"trace_looped\")\n"
        "      --timeseries FILE  write time, Soft limit, Cnum, NIC receive queue, host and\n"
        "                       NIC busy as CSV every 10 ms of simulated time\n"
        "      --pcap FILE      write every frame on the wire as a pcap capture (payload\n"
        "                       zero-filled, nanosecond timestamps; Wireshark and tshark read it)\n"
        "      --print-config   print every parameter of CONFIG as a configuration file\n"
        "  -q, --quiet          print no table and no progress line (errors, warnings and\n"
        "                       the trace's note still go to stderr)\n"
        "  -h, --help           print this message\n"
        "\n"
        "A progress line is drawn on stderr when it is a terminal.\n"
        "Exit status: 0 success; 1 the run failed, measured nothing or completed no request,\n"
        "or an output could not be written; 2 usage or configuration error.\n");
}

/* The options that stand for configuration keys, applied in the order given (the last of a
 * repeated one wins). */
#define RUN_NSET 4

struct run_opts {
    const char *config, *json, *timeseries, *pcap;
    const char *set_keys[RUN_NSET], *set_values[RUN_NSET];
    int nset, quiet, print_config;
};

static void set_key(struct run_opts *o, const char *key, const char *value)
{
    for (int k = 0; k < o->nset; k++) {
        if (!strcmp(o->set_keys[k], key)) {
            o->set_values[k] = value;
            return;
        }
    }
    o->set_keys[o->nset] = key;
    o->set_values[o->nset++] = value;
}

static void progress(void *ctx, uint64_t packets, uint64_t total)
{
    (void)ctx;
    fprintf(stderr, "\r" PROG ": %llu / %llu packets (%.0f %%)", (unsigned long long)packets,
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
    errno = 0;
    if (json_dump_file(o, path, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(9)) != 0) {
        fprintf(stderr, PROG ": cannot write '%s': %s\n", path,
                errno ? strerror(errno) : "write error");
        return -1;
    }
    return 0;
}

enum { OPT_TIMESERIES = 256, OPT_PCAP, OPT_PRINT_CONFIG };

/* Parses the command line into o. Returns 0, 1 after --help, or 2 after a usage error. */
static int parse_opts(int argc, char **argv, struct run_opts *o)
{
    static const struct option opts[] = {
        {"warmup", required_argument, NULL, 'w'},
        {"measure", required_argument, NULL, 'm'},
        {"seed", required_argument, NULL, 's'},
        {"trace", required_argument, NULL, 't'},
        {"json", required_argument, NULL, 'j'},
        {"timeseries", required_argument, NULL, OPT_TIMESERIES},
        {"pcap", required_argument, NULL, OPT_PCAP},
        {"print-config", no_argument, NULL, OPT_PRINT_CONFIG},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":w:m:s:t:j:qh", opts, NULL)) != -1) {
        switch (ch) {
        case 'w':
            set_key(o, "run.warmup_packets", optarg);
            break;
        case 'm':
            set_key(o, "run.measure_packets", optarg);
            break;
        case 's':
            set_key(o, "run.seed", optarg);
            break;
        case 't':
            set_key(o, "run.trace", optarg);
            break;
        case 'j':
            o->json = optarg;
            break;
        case OPT_TIMESERIES:
            o->timeseries = optarg;
            break;
        case OPT_PCAP:
            o->pcap = optarg;
            break;
        case OPT_PRINT_CONFIG:
            o->print_config = 1;
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'h':
            run_usage(stdout);
            return 1;
        default:
            return cli_opt_error(PROG, ch, argv, opts);
        }
    }
    for (int i = optind; i < argc; i++) {
        if (o->config) {
            fprintf(stderr, PROG ": one CONFIG only ('%s' and '%s')\n", o->config, argv[i]);
            return 2;
        }
        o->config = argv[i];
    }
    if (!o->config) {
        fprintf(stderr, PROG ": missing CONFIG (e.g. W-0-N-N-FCFS-400)\n");
        run_usage(stderr);
        return 2;
    }
    return 0;
}

/* The option a configuration key was set by, for messages. */
static const char *option_of(const char *key)
{
    static const char *const map[][2] = {{"run.warmup_packets", "--warmup"},
                                         {"run.measure_packets", "--measure"},
                                         {"run.seed", "--seed"},
                                         {"run.trace", "--trace"}};
    for (size_t k = 0; k < sizeof map / sizeof map[0]; k++) {
        if (!strcmp(map[k][0], key)) {
            return map[k][1];
        }
    }
    return key;
}

/* Loads CONFIG and applies the options to it. Returns 0, or 2 after printing why. */
static int load_config(const struct run_opts *o, struct sim_config *cfg)
{
    struct sim_config_err err = {{0}};
    if (sim_config_load(cfg, o->config, &err) != 0) {
        fprintf(stderr, PROG ": %s\n", err.msg);
        return 2;
    }
    for (int k = 0; k < o->nset; k++) {
        if (sim_config_set(cfg, o->set_keys[k], o->set_values[k], &err) != 0) {
            fprintf(stderr, PROG ": %s: %s\n", option_of(o->set_keys[k]), err.msg);
            return 2;
        }
    }
    if (sim_config_check(cfg, &err) != 0) {
        fprintf(stderr, PROG ": %s\n", err.msg);
        return 2;
    }
    return 0;
}

int cli_run(int argc, char **argv)
{
    struct run_opts o = {0};
    int rc = parse_opts(argc, argv, &o);
    if (rc != 0) {
        return rc == 1 ? 0 : rc;
    }
    struct sim_config cfg;
    if (load_config(&o, &cfg) != 0) {
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
            fprintf(stderr, PROG ": cannot write '%s': %s\n", o.timeseries, strerror(errno));
            return 1;
        }
        fprintf(csv, "time_s,soft_limit,cnum,nic_rxq,host_busy,nic_busy\n");
    }
    struct sim_config_err err = {{0}};
    struct sim_world *w;
    if (sim_world_create(&cfg, &w, &err) != 0) {
        fprintf(stderr, PROG ": %s: %s\n", name, err.msg);
        if (csv) {
            fclose(csv);
        }
        return 1;
    }
    const char *trace = cfg.trace_file[0] ? cfg.trace_file : NULL;
    if (trace) {
        /* The shorthand's first field still reads W, I, D or S: say what the run replays. */
        fprintf(stderr, PROG ": the requests come from the trace %s, not from workload %s of %s\n",
                trace, sim_workload_name(cfg.workload), name);
    }
    struct sim_pcap *pc = NULL;
    if (o.pcap) {
        struct sim_pcap_params pp = {.path = o.pcap};
        struct sim_pcap_err perr;
        if (sim_pcap_open(&pp, &pc, &perr) != 0) {
            fprintf(stderr, PROG ": %s\n", perr.msg);
            sim_world_destroy(w);
            if (csv) {
                fclose(csv);
            }
            return 1;
        }
        sim_world_set_pcap(w, pc);
    }
    bool show_progress = !o.quiet && cli_stderr_is_tty();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = sim_world_run(w, 10000000, csv ? repro_write_sample : NULL,
                       show_progress ? progress : NULL, csv, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (show_progress) {
        fprintf(stderr, "\r\033[K");
    }
    int status = 0;
    struct sim_pcap_err perr;
    if (pc && sim_pcap_close(pc, &perr) != 0) {
        fprintf(stderr, PROG ": %s\n", perr.msg);
        status = 1;
    }
    if (csv) {
        int bad = ferror(csv);
        errno = 0;
        if (fclose(csv) != 0 || bad) {
            fprintf(stderr, PROG ": error writing '%s': %s\n", o.timeseries,
                    errno ? strerror(errno) : "write error");
            status = 1;
        }
    }
    if (rc != 0) {
        fprintf(stderr, PROG ": %s: %s\n", name, err.msg);
        sim_world_destroy(w);
        return 1;
    }
    struct sim_metrics m;
    sim_world_metrics(w, &m);
    uint64_t wraps = sim_world_trace_wraps(w);
    sim_world_destroy(w);
    char why[512];
    if (repro_metrics_check(&m, &cfg, why, sizeof why) != 0) {
        fprintf(stderr, PROG ": %s: %s\n", name, why);
        return 1;
    }
    if (wraps) {
        fprintf(stderr,
                PROG
                ": warning: the trace %s ran out of connections and started over %llu "
                "time%s: its requests repeat (measure fewer packets, or give a longer trace)\n",
                trace, (unsigned long long)wraps, wraps == 1 ? "" : "s");
    }
    if (!o.quiet) {
        print_table(title, &m, wall);
    }
    if (o.json) {
        /* "config" is what reproduces the run (the argument as given, overrides and all, as in
         * the reproduction's files); "shorthand" names its six paper parameters, and "trace"
         * the trace that replaced the workload of the first. */
        json_t *j = repro_metrics_json(o.config, cfg.seed, &m, wall);
        json_object_set_new(j, "shorthand", json_string(name));
        json_object_set_new(j, "trace", trace ? json_string(trace) : json_null());
        json_object_set_new(j, "trace_looped", json_boolean(wraps > 0));
        status |= write_json(o.json, j) != 0;
        json_decref(j);
    }
    return status;
}
