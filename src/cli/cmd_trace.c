/*
 * cmd_trace.c - `handoff trace`: generate synthetic traces and summarise trace files.
 *
 *   handoff trace gen W|I --out FILE [--seed N] [--clients N] [--requests N]
 *   handoff trace stats FILE [--format wc|clf|wsesslog] [--json] [--allow-backstep S]
 *                            [--max-requests N]
 *
 * Called by main.c's dispatcher. All the work is in the workload library (src/workload); this
 * file parses options (getopt_long, as every subcommand), reports errors the way every
 * subcommand does (exit 2 for a usage error, 1 for a failed run, messages prefixed
 * "handoff trace gen: " or "handoff trace stats: ") and formats the summary as text or JSON.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "outdir.h"
#include "handoff/err.h"
#include "handoff/workload.h"
#include "handoff/workload_stats.h"
#include "handoff/workload_trace.h"

#define GEN_MAX_CLIENTS 10000000u

static void usage_trace(FILE *f)
{
    fprintf(f, "usage: handoff trace gen W|I --out FILE [--seed N] [--clients N] [--requests N]\n"
               "       handoff trace stats FILE [--format wc|clf|wsesslog] [--json]\n"
               "                                [--allow-backstep S] [--max-requests N]\n"
               "\n"
               "  gen    write a synthetic World Cup-like (W) or IBM-like (I) trace in the\n"
               "         World Cup 98 binary format\n"
               "  stats  summarise a trace: requests, clients, connections, sizes, status mix,\n"
               "         requests per connection and the connection-lifetime distribution\n"
               "\n"
               "Run 'handoff trace gen --help' or 'handoff trace stats --help' for details\n"
               "(also 'handoff help trace gen').\n");
}

static void usage_gen(FILE *f)
{
    fprintf(f,
            "usage: handoff trace gen W|I --out FILE [--seed N] [--clients N] [--requests N]\n"
            "\n"
            "Writes a synthetic trace of the paper's W (World Cup-like) or I (IBM-like) workload\n"
            "as World Cup 98 binary records (20 bytes each, big-endian, sorted by time).\n"
            "Connections are dealt to the clients in turn until the request budget is spent;\n"
            "only the final connection is cut short to fit. Timestamps are laid out so that\n"
            "grouping each client's requests by the replayer's 15-second rule gives back\n"
            "exactly the generated persistent connections.\n"
            "The models are described in docs/workloads.md.\n"
            "\n"
            "options (a value follows as `--opt N` or `--opt=N`):\n"
            "  -o, --out FILE      file to write, through a temporary beside it renamed into\n"
            "                      place when complete (a failed write leaves no partial file)\n"
            "  -s, --seed N        generator seed (default 1); the same seed gives the same file\n"
            "  -c, --clients N     clients in the trace, 1..%u (default 2048; fewer appear\n"
            "                      when there are fewer connections than clients)\n"
            "  -n, --requests N    records to write, 1..4294967295 (default 100000)\n"
            "  -h, --help          print this message\n"
            "\n"
            "Exit status: 0 written, 1 the file could not be written, 2 usage error.\n",
            GEN_MAX_CLIENTS);
}

static void usage_stats(FILE *f)
{
    fprintf(f,
            "usage: handoff trace stats FILE [--format wc|clf|wsesslog] [--json]\n"
            "                                [--allow-backstep S] [--max-requests N]\n"
            "\n"
            "Reads a trace and prints: requests, clients, objects, connections (a client's\n"
            "requests within 15 s of its previous one share a persistent connection; each\n"
            "session of a wsesslog file is one connection), response bytes and size\n"
            "percentiles, status and method mix, requests per connection, and the\n"
            "connection-lifetime distribution of the paper's Figure 4: connections ranked by\n"
            "the packets the server sends (per response: the header, then the body in\n"
            "4096-byte pages of 1460-byte segments), with the share of packets and bytes\n"
            "carried by the shortest 50 %% and the longest 10 %%.\n"
            "\n"
            "options (a value follows as `--opt V` or `--opt=V`):\n"
            "  -f, --format F          wc (World Cup 98 binary), clf (Common/Combined Log\n"
            "                          Format) or wsesslog (httperf session file); by default\n"
            "                          detected from the extension (.wc .wc98 .bin / .log .clf /\n"
            "                          .wsesslog .wsess .sess) or else from the content\n"
            "  -j, --json              print the summary as one JSON object\n"
            "  -b, --allow-backstep S  accept records up to S seconds older than the newest one\n"
            "                          seen (default 0: time going backwards is an error)\n"
            "  -n, --max-requests N    read only the first N requests (at least 1)\n"
            "  -h, --help              print this message\n"
            "\n"
            "Exit status: 0 success, 1 the file is unreadable, malformed (the message names\n"
            "the file and the line or record) or holds no request, or the summary could not\n"
            "be written; 2 usage error.\n");
}

static int is_help(const char *a)
{
    return !strcmp(a, "--help") || !strcmp(a, "-h");
}

/* Reports a usage error of `handoff trace SUB`: the message, then 'arg' when there is one.
 * Returns 2. */
static int usage_error(const char *sub, const char *msg, const char *arg)
{
    const char *sp = sub ? " " : "", *name = sub ? sub : "";
    fprintf(stderr, "handoff trace%s%s: %s", sp, name, msg);
    if (arg) {
        fprintf(stderr, " '%s'", arg);
    }
    fprintf(stderr, " (see handoff trace%s%s --help)\n", sp, name);
    return 2;
}

/* A numeric option's value: 0, or 2 after reporting a value outside [lo, hi]. */
static int num_value(const char *sub, const char *name, const char *v, uint64_t lo, uint64_t hi,
                     uint64_t *out)
{
    if (cli_parse_uint(v, lo, hi, out) != 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s needs a whole number from %" PRIu64 " to %" PRIu64 ", not",
                 name, lo, hi);
        return usage_error(sub, msg, v);
    }
    return 0;
}

static int cmd_gen(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},     {"seed", required_argument, NULL, 's'},
        {"clients", required_argument, NULL, 'c'}, {"requests", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    const char *out = NULL;
    int type = -1;
    uint64_t seed = 1, clients = 2048, requests = 100000;
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":o:s:c:n:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'o':
            if (!*optarg) {
                return usage_error("gen", "--out needs a file name", NULL);
            }
            out = optarg;
            break;
        case 's':
            if (num_value("gen", "--seed", optarg, 0, UINT64_MAX, &seed)) {
                return 2;
            }
            break;
        case 'c':
            if (num_value("gen", "--clients", optarg, 1, GEN_MAX_CLIENTS, &clients)) {
                return 2;
            }
            break;
        case 'n':
            if (num_value("gen", "--requests", optarg, 1, UINT32_MAX, &requests)) {
                return 2;
            }
            break;
        case 'h':
            usage_gen(stdout);
            return 0;
        default:
            return cli_opt_error("handoff trace gen", ch, argv, opts);
        }
    }
    for (int i = optind; i < argc; i++) {
        if (type >= 0) {
            return usage_error("gen", "unexpected argument", argv[i]);
        }
        type = ho_wl_type_parse(argv[i]);
        if (type != HO_WL_WORLDCUP && type != HO_WL_IBM) {
            return usage_error("gen",
                               "the workload must be W or I (SPECweb99's D and S are "
                               "generated inside the simulator: their request kinds and "
                               "pacing do not fit the World Cup format), not",
                               argv[i]);
        }
    }
    if (type < 0) {
        return usage_error("gen", "missing the workload (W or I)", NULL);
    }
    if (!out) {
        return usage_error("gen", "missing --out FILE", NULL);
    }
    struct outfile f;
    if (outfile_open("handoff trace gen", &f, out) != 0) {
        return 1;
    }
    struct ho_wc_gen_params p = {.type = (enum ho_wl_type)type,
                                 .seed = seed,
                                 .clients = (uint32_t)clients,
                                 .requests = requests};
    struct ho_wl_err err = {{0}};
    int rc = ho_wc_gen_write(f.f, out, &p, NULL, NULL, &err);
    if (rc != HO_OK) {
        outfile_abort(&f);
    } else if (outfile_commit("handoff trace gen", &f) != 0) {
        return 1;
    }
    if (rc != HO_OK) {
        fprintf(stderr, "handoff trace gen: %s\n", err.msg);
        return 1;
    }
    return 0;
}

/* Writes s as a JSON string. */
static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            fprintf(f, "\\%c", *p);
        } else if (*p < 0x20) {
            fprintf(f, "\\u%04x", *p);
        } else {
            fputc(*p, f);
        }
    }
    fputc('"', f);
}

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void print_json(FILE *f, const char *path, const struct ho_trace *t,
                       const struct ho_wl_stats *s)
{
    fprintf(f, "{\"file\": ");
    json_string(f, path);
    fprintf(f,
            ", \"format\": \"%s\", \"requests\": %" PRIu64 ", \"clients\": %" PRIu64
            ", \"objects\": %" PRIu64 ", \"connections\": %" PRIu64 ", \"duration_s\": %lld"
            ", \"backsteps\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"unknown_size\": %" PRIu64
            ", \"upload_bytes\": %" PRIu64,
            ho_trace_format_name(t->format), s->requests, t->nclients, t->nobjects, s->connections,
            (long long)(t->t_last - t->t_first), t->backsteps, s->bytes, s->unknown_size,
            s->upload_bytes);
    fprintf(f,
            ", \"size\": {\"mean\": %.1f, \"median\": %u, \"p90\": %u, \"p99\": %u, \"max\": %u}",
            s->size_mean, s->size_median, s->size_p90, s->size_p99, s->size_max);
    fprintf(f, ", \"status\": {");
    for (unsigned i = 0; i < s->nstatus; i++) {
        fprintf(f, "%s\"%u\": %" PRIu64, i ? ", " : "", s->status_code[i], s->status_count[i]);
    }
    if (s->status_other) {
        fprintf(f, "%s\"more\": %" PRIu64, s->nstatus ? ", " : "", s->status_other);
    }
    fprintf(f, "}, \"methods\": {");
    for (unsigned m = 0; m < HO_METHOD_COUNT; m++) {
        fprintf(f, "%s\"%s\": %" PRIu64, m ? ", " : "", ho_method_name(m), s->method_count[m]);
    }
    fprintf(f,
            "}, \"requests_per_connection\": {\"mean\": %.3f, \"median\": %u, \"p90\": %u, "
            "\"max\": %u}",
            s->reqs_per_conn_mean, s->reqs_per_conn_median, s->reqs_per_conn_p90,
            s->reqs_per_conn_max);
    fprintf(f,
            ", \"lifetime\": {\"packet_rule\": \"1 + 3 per 4096-byte page + ceil(rest/1460) per "
            "response\", \"packets\": "
            "%" PRIu64 ", \"bottom50_packet_share\": %.4f, \"bottom50_byte_share\": %.4f, "
            "\"top10_packet_share\": %.4f, \"top10_byte_share\": %.4f, \"cdf\": [",
            s->packets, s->bottom50_packet_share, s->bottom50_byte_share, s->top10_packet_share,
            s->top10_byte_share);
    for (int k = 0; k <= 10; k++) {
        fprintf(f, "%s{\"connections\": %.1f, \"packets\": %.4f, \"bytes\": %.4f}", k ? ", " : "",
                k / 10.0, s->cdf_packets[k], s->cdf_bytes[k]);
    }
    fprintf(f, "]}}\n");
}

static void print_text(FILE *f, const char *path, const struct ho_trace *t,
                       const struct ho_wl_stats *s)
{
    fprintf(f, "file                 %s (%s)\n", path, ho_trace_format_name(t->format));
    fprintf(f, "requests             %" PRIu64 "\n", s->requests);
    fprintf(f, "clients              %" PRIu64 "\n", t->nclients);
    fprintf(f, "objects              %" PRIu64 "\n", t->nobjects);
    fprintf(f, "connections          %" PRIu64 "\n", s->connections);
    if (t->format != HO_TRACE_WSESSLOG) {
        fprintf(f, "duration             %lld s\n", (long long)(t->t_last - t->t_first));
    }
    if (t->backsteps) {
        fprintf(f, "out-of-order records %" PRIu64 " (tolerated by --allow-backstep)\n",
                t->backsteps);
    }
    fprintf(f, "response bytes       %" PRIu64 "\n", s->bytes);
    if (s->unknown_size) {
        fprintf(f, "unknown sizes        %" PRIu64 " requests (left out of sizes and packets)\n",
                s->unknown_size);
    }
    if (s->upload_bytes) {
        fprintf(f, "request body bytes   %" PRIu64 "\n", s->upload_bytes);
    }
    fprintf(f, "response size        mean %.1f, median %u, p90 %u, p99 %u, max %u bytes\n",
            s->size_mean, s->size_median, s->size_p90, s->size_p99, s->size_max);
    fprintf(f, "status              ");
    for (unsigned i = 0; i < s->nstatus; i++) {
        if (s->status_code[i]) {
            fprintf(f, " %u %.1f%%", s->status_code[i], pct(s->status_count[i], s->requests));
        } else {
            fprintf(f, " other %.1f%%", pct(s->status_count[i], s->requests));
        }
    }
    if (s->status_other) {
        fprintf(f, " more %.1f%%", pct(s->status_other, s->requests));
    }
    fprintf(f, "\nmethods             ");
    for (unsigned m = 0; m < HO_METHOD_COUNT; m++) {
        if (s->method_count[m]) {
            fprintf(f, " %s %.1f%%", ho_method_name(m), pct(s->method_count[m], s->requests));
        }
    }
    fprintf(f, "\nrequests/connection  mean %.2f, median %u, p90 %u, max %u\n",
            s->reqs_per_conn_mean, s->reqs_per_conn_median, s->reqs_per_conn_p90,
            s->reqs_per_conn_max);
    fprintf(f,
            "connection lifetimes (ranked by packets sent, 1 + 3 per 4096-byte page + "
            "ceil(rest/1460) per response; "
            "%" PRIu64 " packets)\n",
            s->packets);
    fprintf(f, "  shortest 50%% of connections send %5.1f%% of packets, %5.1f%% of bytes\n",
            100 * s->bottom50_packet_share, 100 * s->bottom50_byte_share);
    fprintf(f, "  longest  10%% of connections send %5.1f%% of packets, %5.1f%% of bytes\n",
            100 * s->top10_packet_share, 100 * s->top10_byte_share);
    fprintf(f, "  cumulative share by connection rank:\n    rank   packets   bytes\n");
    for (int k = 1; k <= 10; k++) {
        fprintf(f, "    %3d%%   %6.1f%%  %6.1f%%\n", 10 * k, 100 * s->cdf_packets[k],
                100 * s->cdf_bytes[k]);
    }
}

static int cmd_stats(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"json", no_argument, NULL, 'j'},
        {"allow-backstep", required_argument, NULL, 'b'},
        {"max-requests", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    int json = 0;
    struct ho_trace_params p;
    ho_trace_params_default(&p);
    optind = 1;
    opterr = 0;
    int ch;
    uint64_t num;
    while ((ch = getopt_long(argc, argv, ":f:jb:n:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'f': {
            int f = ho_trace_format_parse(optarg);
            if (f < 0 || f == HO_TRACE_AUTO) {
                return usage_error("stats", "--format needs wc, clf or wsesslog, not", optarg);
            }
            p.format = (enum ho_trace_format)f;
            break;
        }
        case 'j':
            json = 1;
            break;
        case 'b':
            if (num_value("stats", "--allow-backstep", optarg, 0, UINT32_MAX, &num)) {
                return 2;
            }
            p.max_backstep_s = (uint32_t)num;
            break;
        case 'n':
            if (num_value("stats", "--max-requests", optarg, 1, UINT32_MAX, &num)) {
                return 2;
            }
            p.max_requests = num;
            break;
        case 'h':
            usage_stats(stdout);
            return 0;
        default:
            return cli_opt_error("handoff trace stats", ch, argv, opts);
        }
    }
    for (int i = optind; i < argc; i++) {
        if (path) {
            return usage_error("stats", "one trace at a time; unexpected argument", argv[i]);
        }
        path = argv[i];
    }
    if (!path) {
        return usage_error("stats", "missing the trace FILE", NULL);
    }
    struct ho_trace *t;
    struct ho_wl_err err = {{0}};
    int rc = ho_trace_read(path, &p, &t, &err);
    if (rc != HO_OK) {
        fprintf(stderr, "handoff trace stats: %s\n", err.msg);
        return 1;
    }
    if (t->nreq == 0) {
        fprintf(stderr, "handoff trace stats: %s: no requests in the trace (%s format)\n", path,
                ho_trace_format_name(t->format));
        ho_trace_free(t);
        return 1;
    }
    struct ho_wl_stats s;
    rc = ho_wl_stats_of_trace(t, &s);
    if (rc != HO_OK) {
        fprintf(stderr, "handoff trace stats: %s: %s\n", path, ho_strerror(rc));
        ho_trace_free(t);
        return 1;
    }
    if (json) {
        print_json(stdout, path, t, &s);
    } else {
        print_text(stdout, path, t, &s);
    }
    ho_trace_free(t);
    return 0; /* main.c checks that the summary reached stdout */
}

int cli_trace(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "handoff trace: missing the subcommand (gen or stats)\n");
        usage_trace(stderr);
        return 2;
    }
    const char *sub = argv[1];
    if (is_help(sub) || !strcmp(sub, "help")) {
        usage_trace(stdout);
        return 0;
    }
    if (!strcmp(sub, "gen")) {
        return cmd_gen(argc - 1, argv + 1);
    }
    if (!strcmp(sub, "stats")) {
        return cmd_stats(argc - 1, argv + 1);
    }
    return usage_error(NULL, "unknown subcommand (gen or stats):", sub);
}
