/*
 * cmd_run.c - `handoff run CONFIG`: one simulation, its metrics as a table and as JSON.
 *
 * The options that set run parameters (--warmup, --measure, --seed, --trace) are applied as the
 * configuration keys they stand for, after CONFIG and its overrides, so a configuration file and
 * the command line are checked by the same code. A run that measured nothing, or completed no
 * request, fails: its all-zero metrics are never printed as a result.
 *
 * Every output records the run's provenance (provenance.h), and `--from FILE` runs again the run
 * a JSON file records: the same configuration, seed, lengths and trace, whose SHA-256 must still
 * match. Every output file is written atomically (outdir.h).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "outdir.h"
#include "provenance.h"
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
        "       handoff run --from RUN.json [options]\n"
        "\n"
        "Simulates the web server host, the offload NIC, the wire and the clients for one\n"
        "configuration and prints the paper's metrics.\n"
        "\n"
        "CONFIG is the paper's shorthand Workload-NICConnections-Priority-LoadControl-\n"
        "Selection-MIPS (e.g. W-0-N-N-FCFS-400, I-256-P-L-T20-600) or a configuration file\n"
        "(`base = SHORTHAND` plus `key = value` overrides; --print-config lists every key),\n"
        "either followed by ,key=value overrides (W-1024-P-N-FCFS-400,cost.nic_scale_pct=150).\n"
        "--from RUN.json runs again the run a JSON file of `handoff run --json`, `handoff\n"
        "reproduce` or `handoff sweep run` (DIR/runs/*.json) records: its complete\n"
        "configuration, seed, run lengths and trace. It warns if the file was made by another\n"
        "version of handoff, and fails if the trace's SHA-256 no longer matches; its JSON is\n"
        "the file's, wall_seconds apart.\n"
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
        "  -j, --json FILE      write the metrics as JSON, with the run's provenance: \"config\",\n"
        "                       \"shorthand\", \"seed\", \"version\", \"warmup_packets\",\n"
        "                       \"measure_packets\", \"trace\" (its path or null), "
        "\"trace_sha256\",\n"
        "                       \"trace_looped\" and \"configuration\" (every --print-config key)\n"
        "      --from RUN.json  run again the run RUN.json records (above); excludes CONFIG,\n"
        "                       --warmup, --measure, --seed and --trace\n"
        "      --timeseries FILE  write time, Soft limit, Cnum, NIC receive queue, host and\n"
        "                       NIC busy, and requests completed as CSV every 10 ms of\n"
        "                       simulated time, after one\n"
        "                       comment line '# handoff-provenance {JSON}' (pandas: comment='#')\n"
        "      --pcap FILE      write every frame on the wire as a pcap capture (payload\n"
        "                       zero-filled, nanosecond timestamps; Wireshark and tshark read "
        "it).\n"
        "                       Its timestamps are simulated time: 0 (shown as 1970-01-01\n"
        "                       00:00:00 UTC) is simulated time zero, when the run starts and\n"
        "                       its clients open their first connections, warm-up included\n"
        "      --pcap-snaplen N keep the first N bytes of each frame, 1..262144, as tcpdump -s\n"
        "                       (each record keeps the frame's true length); default: whole\n"
        "      --conn-log FILE  write one JSON line per connection the host accepted, when\n"
        "                       it closes (and, at the end, for those still open): when it\n"
        "                       was accepted, offered to the NIC, answered (reply and\n"
        "                       handoff latency), asked back, came back (and why) and\n"
        "                       closed (on the host or the NIC), with every move to the\n"
        "                       NIC and back when there were several, in ms of simulated\n"
        "                       time from time zero, warm-up included; null: never\n"
        "      --print-config   print every parameter of CONFIG as a configuration file\n"
        "  -q, --quiet          print no table and no progress line (errors, warnings and\n"
        "                       the trace's note still go to stderr)\n"
        "  -h, --help           print this message\n"
        "\n"
        "Every output file is written to a temporary beside it and renamed into place when\n"
        "complete: a failed write leaves no partial file.\n"
        "A progress line is drawn on stderr when it is a terminal.\n"
        "Exit status: 0 success; 1 the run failed, measured nothing or completed no request,\n"
        "an output could not be written, or the trace of --from changed; 2 usage or\n"
        "configuration error.\n");
}

/* The options that stand for configuration keys, applied in the order given (the last of a
 * repeated one wins). */
#define RUN_NSET 4

struct run_opts {
    const char *config, *json, *timeseries, *pcap, *conn_log, *from;
    const char *set_keys[RUN_NSET], *set_values[RUN_NSET];
    int nset, quiet, print_config;
    uint32_t snaplen;  /* --pcap-snaplen; 0 = whole frames */
    json_t *from_json; /* the file --from names, once read (owned) */
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
    printf("  NIC queues            wait us (mean) / most held / dropped\n");
    for (int q = 0; q < HO_SCHED_NQUEUES; q++) {
        const struct sim_queue_metrics *x = &m->nic_queue[q];
        printf("    %-8s            %10.1f / %u / %llu\n", ho_sched_queue_name((enum ho_sched_queue)q),
               x->mean_wait_us, x->max_len, (unsigned long long)x->dropped);
    }
    printf("  measured %.3f s simulated, %llu events, %.2f s wall\n", m->measured_s,
           (unsigned long long)m->events, wall);
}

enum { OPT_TIMESERIES = 256, OPT_PCAP, OPT_PCAP_SNAPLEN, OPT_PRINT_CONFIG, OPT_FROM, OPT_CONN_LOG };

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
        {"pcap-snaplen", required_argument, NULL, OPT_PCAP_SNAPLEN},
        {"conn-log", required_argument, NULL, OPT_CONN_LOG},
        {"from", required_argument, NULL, OPT_FROM},
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
        case OPT_PCAP_SNAPLEN: {
            uint64_t n;
            if (cli_parse_uint(optarg, 1, SIM_PCAP_SNAPLEN_MAX, &n) != 0) {
                fprintf(stderr, PROG ": --pcap-snaplen '%s': expected an integer in [1, %u]\n",
                        optarg, SIM_PCAP_SNAPLEN_MAX);
                return 2;
            }
            o->snaplen = (uint32_t)n;
            break;
        }
        case OPT_CONN_LOG:
            o->conn_log = optarg;
            break;
        case OPT_FROM:
            o->from = optarg;
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
    if (o->snaplen && !o->pcap) {
        fprintf(stderr, PROG ": --pcap-snaplen needs --pcap FILE\n");
        return 2;
    }
    if (o->from) {
        /* The run is the file's: nothing may change it. */
        if (o->config) {
            fprintf(stderr, PROG ": --from runs the file's configuration; unexpected CONFIG '%s'\n",
                    o->config);
            return 2;
        }
        if (o->nset) {
            fprintf(stderr, PROG ": --from runs the file's run; %s cannot change it\n",
                    option_of(o->set_keys[0]));
            return 2;
        }
        return 0;
    }
    if (!o->config) {
        fprintf(stderr, PROG ": missing CONFIG (e.g. W-0-N-N-FCFS-400)\n");
        run_usage(stderr);
        return 2;
    }
    return 0;
}

/*
 * Reads the run the file --from names: its configuration into cfg, its name into o->config, and
 * warns when another version of the program made it. Returns 0, or 2 after printing why.
 */
static int load_from(struct run_opts *o, struct sim_config *cfg)
{
    json_error_t je;
    o->from_json = json_load_file(o->from, 0, &je);
    if (!o->from_json) {
        fprintf(stderr, PROG ": --from %s: %s\n", o->from, je.text);
        return 2;
    }
    json_t *conf = json_object_get(o->from_json, "configuration");
    o->config = json_string_value(json_object_get(o->from_json, "config"));
    if (!json_is_object(conf) || !o->config) {
        fprintf(stderr,
                PROG ": --from %s: no \"config\" and \"configuration\" (a run's JSON written "
                     "before handoff recorded its configuration cannot be rerun)\n",
                o->from);
        return 2;
    }
    struct sim_config_err err = {{0}};
    if (prov_config_from_json(conf, cfg, &err) != 0) {
        fprintf(stderr, PROG ": --from %s: %s\n", o->from, err.msg);
        return 2;
    }
    const char *version = json_string_value(json_object_get(o->from_json, "version"));
    if (!version || strcmp(version, prov_version()) != 0) {
        fprintf(stderr,
                PROG ": warning: %s was made by handoff %s, this is handoff %s: the results may "
                     "differ\n",
                o->from, version ? version : "(unknown version)", prov_version());
    }
    return 0;
}

/* Loads CONFIG (or the file of --from) and applies the options to it. Returns 0, or 2 after
 * printing why. */
static int load_config(struct run_opts *o, struct sim_config *cfg)
{
    if (o->from) {
        return load_from(o, cfg);
    }
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

/*
 * Checks the trace a run replays against what --from recorded, and fills sha with its SHA-256.
 * Returns 0, or 1 after printing why.
 */
static int fingerprint_trace(const struct run_opts *o, const char *trace, char *sha)
{
    char why[1200];
    if (prov_sha256_file(trace, sha, why, sizeof why) != 0) {
        fprintf(stderr, PROG ": %s\n", why);
        return 1;
    }
    if (!o->from) {
        return 0;
    }
    const char *want = json_string_value(json_object_get(o->from_json, "trace_sha256"));
    if (!want || strcmp(want, sha) != 0) {
        fprintf(stderr,
                PROG ": the trace %s is not the one %s replayed: its SHA-256 is %s, the run's "
                     "was %s\n",
                trace, o->from, sha, want ? want : "not recorded");
        return 1;
    }
    return 0;
}

/* The files a run writes besides its JSON. */
struct run_outputs {
    struct outfile csv, pcap, conns;
    struct sim_pcap *pc;
};

/* Opens the time series, the capture and the connection log o asks for. Returns 0, or 1 after
 * printing why. */
static int open_outputs(const struct run_opts *o, const json_t *prov, struct sim_world *w,
                        struct run_outputs *out)
{
    if (o->timeseries) {
        if (outfile_open(PROG, &out->csv, o->timeseries) != 0) {
            return 1;
        }
        prov_csv_header(out->csv.f, prov);
        fprintf(out->csv.f, "time_s,soft_limit,cnum,nic_rxq,host_busy,nic_busy,requests\n");
    }
    if (o->conn_log) {
        if (outfile_open(PROG, &out->conns, o->conn_log) != 0) {
            return 1;
        }
        sim_world_set_conn_log(w, out->conns.f);
    }
    if (o->pcap) {
        if (outfile_reserve(PROG, &out->pcap, o->pcap) != 0) {
            return 1;
        }
        struct sim_pcap_params pp = {
            .path = outfile_name(&out->pcap), .name = o->pcap, .snaplen = o->snaplen};
        struct sim_pcap_err perr;
        if (sim_pcap_open(&pp, &out->pc, &perr) != 0) {
            fprintf(stderr, PROG ": %s\n", perr.msg);
            return 1;
        }
        sim_world_set_pcap(w, out->pc);
    }
    return 0;
}

/* Closes the capture, the time series and the connection log: into place if the run reached its
 * end (keep), else removed. Returns 0, or 1 after printing why a file could not be written. */
static int close_outputs(bool keep, struct run_outputs *out)
{
    int status = 0;
    struct sim_pcap_err perr;
    if (out->pc && sim_pcap_close(out->pc, &perr) != 0) {
        fprintf(stderr, PROG ": %s\n", perr.msg);
        outfile_abort(&out->pcap);
        status = 1;
    }
    struct outfile *files[3] = {&out->pcap, &out->csv, &out->conns};
    for (int i = 0; i < 3; i++) {
        if (!files[i]->f && !files[i]->tmp[0]) {
            continue; /* not asked for, or already abandoned */
        }
        if (!keep) {
            outfile_abort(files[i]);
        } else if (outfile_commit(PROG, files[i]) != 0) {
            status = 1;
        }
    }
    return status;
}

static int run_one(struct run_opts *o)
{
    struct sim_config cfg;
    if (load_config(o, &cfg) != 0) {
        return 2;
    }
    if (o->print_config) {
        sim_config_describe(&cfg, stdout);
        return 0;
    }
    char name[64], title[1200];
    sim_config_name(&cfg, name, sizeof name);
    if (strcmp(name, o->config) != 0) {
        snprintf(title, sizeof title, "%s (%s)", name, o->config);
    } else {
        snprintf(title, sizeof title, "%s", name);
    }

    struct sim_config_err err = {{0}};
    struct sim_world *w;
    if (sim_world_create(&cfg, &w, &err) != 0) {
        fprintf(stderr, PROG ": %s: %s\n", name, err.msg);
        return 1;
    }
    const char *trace = cfg.trace_file[0] ? cfg.trace_file : NULL;
    char sha[PROV_SHA256_HEX];
    if (trace) {
        /* The shorthand's first field still reads W, I, D or S: say what the run replays. */
        fprintf(stderr, PROG ": the requests come from the trace %s, not from workload %s of %s\n",
                trace, sim_workload_name(cfg.workload), name);
        if (fingerprint_trace(o, trace, sha) != 0) {
            sim_world_destroy(w);
            return 1;
        }
    }
    json_t *prov = prov_run(o->config, &cfg, trace ? sha : NULL);
    struct run_outputs out = {0};
    if (open_outputs(o, prov, w, &out) != 0) {
        close_outputs(false, &out);
        sim_world_destroy(w);
        json_decref(prov);
        return 1;
    }
    bool show_progress = !o->quiet && cli_stderr_is_tty();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = sim_world_run(w, REPRO_SAMPLE_NS, out.csv.f ? repro_write_sample : NULL,
                           show_progress ? progress : NULL, out.csv.f, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (show_progress) {
        fprintf(stderr, "\r\033[K");
    }
    int status = close_outputs(rc == 0, &out);
    if (rc != 0) {
        fprintf(stderr, PROG ": %s: %s\n", name, err.msg);
        sim_world_destroy(w);
        json_decref(prov);
        return 1;
    }
    struct sim_metrics m;
    sim_world_metrics(w, &m);
    uint64_t wraps = sim_world_trace_wraps(w);
    sim_world_destroy(w);
    char why[512];
    if (repro_metrics_check(&m, &cfg, why, sizeof why) != 0) {
        fprintf(stderr, PROG ": %s: %s\n", name, why);
        json_decref(prov);
        return 1;
    }
    if (wraps) {
        fprintf(stderr,
                PROG
                ": warning: the trace %s ran out of connections and started over %llu "
                "time%s: its requests repeat (measure fewer packets, or give a longer trace)\n",
                trace, (unsigned long long)wraps, wraps == 1 ? "" : "s");
    }
    if (!o->quiet) {
        print_table(title, &m, wall);
    }
    if (o->json) {
        /* "config" is what reproduces the run (the argument as given, overrides and all, as in
         * the reproduction's files); "shorthand" names its six paper parameters, "trace" the
         * trace that replaced the workload of the first, and "configuration" every parameter. */
        json_t *j = repro_run_json(prov, &m, wall, wraps > 0);
        status |= outfile_write_json(PROG, o->json, j, REPRO_JSON_FLAGS) != 0;
        json_decref(j);
    }
    json_decref(prov);
    return status;
}

int cli_run(int argc, char **argv)
{
    struct run_opts o = {0};
    int rc = parse_opts(argc, argv, &o);
    if (rc != 0) {
        return rc == 1 ? 0 : rc;
    }
    rc = run_one(&o);
    json_decref(o.from_json);
    return rc;
}
