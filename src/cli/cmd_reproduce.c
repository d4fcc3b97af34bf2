/*
 * cmd_reproduce.c - `handoff reproduce`: the paper's section 5 on the simulator, in one command.
 *
 * 1. Lists the runs of every experiment (Table 1, Figures 5 to 8, the response times), each
 *    configuration once, times the number of seeds.
 * 2. Runs them in parallel, one child process per run (fork), as many at once as --jobs, with a
 *    progress line on stderr (redrawn in place on a terminal, a plain line every tenth of the
 *    runs otherwise). Each child writes its metrics to DIR/runs/CONFIG-sSEED.json (and,
 *    for Figure 6, its time series), so a run is independent of every other.
 * 3. Reads the results back and writes DIR/results.json, the figures (gnuplot, SVG and PNG) and
 *    DIR/report.md (repro_report.c): every table beside the paper's numbers and the difference,
 *    and the checklist of the paper's claims with the band each is judged by.
 *
 * Nothing here is tuned per experiment: every run uses the one cost model of the simulator.
 *
 * `handoff sweep` (cli_sweep) is the same machinery cut into its three steps, for many machines.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "handoff/sim_config.h"
#include "handoff/sim_world.h"
#include "handoff/workload.h"
#include "handoff/workload_stats.h"
#include "outdir.h"
#include "repro.h"

#define MAX_RUNS     256
#define MAX_SEEDS    16
#define NAME_MAX_LEN 80 /* a configuration's name, with any overrides */

struct run {
    char config[NAME_MAX_LEN];
    bool timeseries; /* Figure 6 wants its time series (first seed only) */
    unsigned nok;    /* seeds that finished */
    struct sim_metrics m[MAX_SEEDS];
    double wall[MAX_SEEDS];
};

struct repro {
    const char *prog; /* the command's name, which messages start with ("handoff sweep run") */
    const char *out;
    unsigned seeds, jobs;
    uint64_t warmup, measure;
    int quiet;
    bool tty;                  /* stderr is a terminal: the progress line redraws itself */
    unsigned last_decile;      /* otherwise a plain line every tenth of the runs */
    unsigned shard_i, shard_n; /* this process runs shard i of n (1 of 1: everything) */
    const char *const *srcs;   /* merge: the directories holding the runs */
    unsigned nsrcs;
    struct run runs[MAX_RUNS];
    unsigned nruns;
    double wall_s;
};

/* ---- the experiments -------------------------------------------------------------------- */

static struct run *want(struct repro *r, const char *config, bool timeseries)
{
    for (unsigned i = 0; i < r->nruns; i++) {
        if (!strcmp(r->runs[i].config, config)) {
            r->runs[i].timeseries |= timeseries;
            return &r->runs[i];
        }
    }
    if (r->nruns == MAX_RUNS) {
        return NULL;
    }
    struct run *x = &r->runs[r->nruns++];
    memset(x, 0, sizeof *x);
    snprintf(x->config, sizeof x->config, "%.*s", NAME_MAX_LEN - 1, config);
    x->timeseries = timeseries;
    return x;
}

static const char *const workloads[4] = {"W", "I", "D", "S"};

/* The configurations of Figure 5 for a workload, in the paper's order. */
static void fig5_configs(const char *wl, char out[5][48])
{
    int s = !strcmp(wl, "S");
    snprintf(out[0], 48, "%s-0-N-N-FCFS-400", wl);
    snprintf(out[1], 48, "%s-%d-N-N-FCFS-400", wl, s ? 2048 : 1024);
    snprintf(out[2], 48, "%s-%d-P-N-FCFS-400", wl, s ? 2048 : 1024);
    snprintf(out[3], 48, "%s-4096-P-N-FCFS-400", wl);
    snprintf(out[4], 48, "%s-4096-P-L-FCFS-400", wl);
}

static const char *const fig7_policies[7] = {"FCFS", "T2", "T4", "T8", "T16", "T20", "T32"};
static const unsigned fig8_mips[3] = {400, 600, 800};

/* The paper's experiments, by name; "all" is the whole of section 5. */
static const char *const set_names[] = {"all",  "table1", "fig5",     "fig6",
                                        "fig7", "fig8",   "response", "sensitivity"};
#define NSETS (sizeof set_names / sizeof set_names[0])

static bool in_set(const char *set, const char *name)
{
    return !strcmp(set, "all") || !strcmp(set, name);
}

static int list_runs(struct repro *r, const char *set)
{
    char c[5][48], name[NAME_MAX_LEN];
    if (in_set(set, "table1")) {
        const char *table1[4] = {"W-0-N-N-FCFS-400", "W-256-N-N-FCFS-400", "W-1024-N-N-FCFS-400",
                                 "W-1024-P-N-FCFS-400"};
        for (int i = 0; i < 4; i++) {
            want(r, table1[i], false);
        }
    }
    for (int w = 0; w < 4; w++) {
        fig5_configs(workloads[w], c);
        for (int i = 0; i < 5; i++) {
            bool fig6 = i == 4 && (w == 0 || w == 3);
            if (in_set(set, "fig5") || (fig6 && in_set(set, "fig6"))) {
                want(r, c[i], fig6);
            }
        }
        for (int i = 0; i < 7 && in_set(set, "fig7"); i++) {
            snprintf(name, sizeof name, "%s-256-P-L-%s-400", workloads[w], fig7_policies[i]);
            want(r, name, false);
        }
        for (int i = 0; i < 3 && in_set(set, "fig8"); i++) {
            snprintf(name, sizeof name, "%s-4096-P-L-FCFS-%u", workloads[w], fig8_mips[i]);
            want(r, name, false);
        }
    }
    if (in_set(set, "response")) {
        want(r, "W-0-N-N-FCFS-400", false);
        want(r, "W-1024-N-N-FCFS-400", false);
        for (int i = 0; i < 3; i++) {
            snprintf(name, sizeof name, "W-1024-P-L-FCFS-%u", fig8_mips[i]);
            want(r, name, false);
        }
    }
    for (unsigned s = 0; s < REPRO_NSCALES && in_set(set, "sensitivity"); s++) {
        const char *base;
        for (unsigned i = 0; (base = repro_sensitivity_config(i)) != NULL; i++) {
            repro_scaled_name(name, sizeof name, base, repro_scale_pct(s));
            /* Figure 6's what-if: load control with the NIC's own work at the first scale. */
            want(r, name, s == 0 && !strcmp(base, "W-4096-P-L-FCFS-400"));
        }
    }
    for (size_t i = 0; i < NSETS; i++) {
        if (!strcmp(set, set_names[i])) {
            return 0;
        }
    }
    fprintf(stderr,
            "%s: unknown set '%s' (all, table1, fig5, fig6, fig7, fig8, response, "
            "sensitivity)\n",
            r->prog, set);
    return -1;
}

/* A user's own grid: one configuration (shorthand or file) per line; '#' comments. */
static int list_file(struct repro *r, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: cannot read '%s': %s\n", r->prog, path, strerror(errno));
        return -1;
    }
    char line[512];
    unsigned lineno = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            fprintf(stderr, "%s: %s:%u: line too long\n", r->prog, path, lineno);
            rc = -1;
            break;
        }
        char *hash = strchr(line, '#');
        if (hash) {
            *hash = '\0';
        }
        char *b = line, *e = line + strlen(line);
        while (*b == ' ' || *b == '\t') {
            b++;
        }
        while (e > b && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t')) {
            *--e = '\0';
        }
        if (*b == '\0') {
            continue;
        }
        struct sim_config cfg;
        struct sim_config_err err;
        if (strlen(b) >= NAME_MAX_LEN || sim_config_load(&cfg, b, &err) != 0) {
            fprintf(stderr, "%s: %s:%u: %s\n", r->prog, path, lineno,
                    strlen(b) >= NAME_MAX_LEN ? "configuration name too long" : err.msg);
            rc = -1;
        } else if (!want(r, b, false)) {
            fprintf(stderr, "%s: %s:%u: more than %d configurations\n", r->prog, path, lineno,
                    MAX_RUNS);
            rc = -1;
        }
    }
    if (rc == 0 && ferror(f)) {
        fprintf(stderr, "%s: %s: read error\n", r->prog, path);
        rc = -1;
    }
    fclose(f);
    if (rc == 0 && r->nruns == 0) {
        fprintf(stderr, "%s: %s: no configurations\n", r->prog, path);
        rc = -1;
    }
    return rc;
}

/* ---- running them ----------------------------------------------------------------------- */

static void result_name(char *buf, size_t len, const char *config, unsigned seed)
{
    snprintf(buf, len, "runs/%s-s%u.json", config, seed);
}

/* What starts a message: the command's name, on a line of its own if the progress line may be
 * on the terminal. */
static void msg_start(const struct repro *r)
{
    fprintf(stderr, "%s%s: ", r->tty && !r->quiet ? "\n" : "", r->prog);
}

/* The child: one simulation, its metrics to a JSON file. Exit status 0 on success. */
static int child_run(const struct repro *r, const struct run *x, unsigned seed)
{
    struct sim_config cfg;
    struct sim_config_err err = {{0}};
    if (sim_config_load(&cfg, x->config, &err) != 0) {
        msg_start(r);
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    cfg.seed = seed;
    cfg.warmup_packets = r->warmup;
    cfg.measure_packets = r->measure;
    FILE *csv = NULL;
    char csv_name[128];
    if (x->timeseries && seed == 1) {
        snprintf(csv_name, sizeof csv_name, "timeseries/%s.csv", x->config);
        csv = outdir_open(r->prog, r->out, csv_name);
        if (!csv) {
            return 1;
        }
        fprintf(csv, "time_s,soft_limit,cnum,nic_rxq,host_busy,nic_busy\n");
    }
    struct sim_world *w;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (sim_world_create(&cfg, &w, &err) != 0) {
        msg_start(r);
        fprintf(stderr, "%s: %s\n", x->config, err.msg);
        if (csv) {
            fclose(csv);
        }
        return 1;
    }
    int rc = sim_world_run(w, REPRO_SAMPLE_NS, csv ? repro_write_sample : NULL, NULL, csv, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc != 0) {
        msg_start(r);
        fprintf(stderr, "%s seed %u: %s\n", x->config, seed, err.msg);
        sim_world_destroy(w);
        if (csv) {
            fclose(csv);
        }
        return 1;
    }
    struct sim_metrics m;
    sim_world_metrics(w, &m);
    sim_world_destroy(w);
    if (csv && outdir_close(r->prog, csv, r->out, csv_name) != 0) {
        return 1;
    }
    /* Unlike `handoff run`, a reproduction keeps such a run: short runs that check the
     * machinery (the tests') would otherwise never finish a report. It is said, though. */
    char why[512];
    if (repro_metrics_check(&m, &cfg, why, sizeof why) != 0) {
        msg_start(r);
        fprintf(stderr, "warning: %s seed %u: %s\n", x->config, seed, why);
    }
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    json_t *j = repro_metrics_json(x->config, seed, &m, wall);
    char name[160], path[4096];
    result_name(name, sizeof name, x->config, seed);
    snprintf(path, sizeof path, "%s/%s", r->out, name);
    errno = 0;
    rc = json_dump_file(j, path, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(9));
    json_decref(j);
    if (rc != 0) {
        msg_start(r);
        fprintf(stderr, "cannot write %s: %s\n", path, errno ? strerror(errno) : "write error");
        return 1;
    }
    return 0;
}

/* Reads one run's metrics from the output directory or, when merging, from the first source
 * directory that has them. */
static int load_result(struct repro *r, struct run *x, unsigned seed)
{
    char name[160], path[4096];
    result_name(name, sizeof name, x->config, seed);
    json_t *j = NULL;
    json_error_t e = {0};
    unsigned nsrc = r->nsrcs ? r->nsrcs : 1;
    for (unsigned i = 0; i < nsrc && !j; i++) {
        snprintf(path, sizeof path, "%s/%s", r->nsrcs ? r->srcs[i] : r->out, name);
        j = json_load_file(path, 0, &e);
    }
    if (!j) {
        fprintf(stderr, "%s: %s: %s\n", r->prog, nsrc > 1 ? name : path, e.text);
        return -1;
    }
    repro_metrics_from_json(j, &x->m[x->nok], &x->wall[x->nok]);
    x->nok++;
    json_decref(j);
    return 0;
}

static void progress(struct repro *r, unsigned done, unsigned running, unsigned total,
                     double elapsed)
{
    if (r->quiet) {
        return;
    }
    double eta = done ? elapsed / done * (total - done) : 0;
    if (r->tty) {
        fprintf(stderr, "\r%s: %u/%u runs done, %u running, %.0f s elapsed, about %.0f s left   ",
                r->prog, done, total, running, elapsed, eta);
    } else if (total && done * 10 / total != r->last_decile) {
        r->last_decile = done * 10 / total;
        fprintf(stderr, "%s: %u/%u runs done, %.0f s elapsed, about %.0f s left\n", r->prog, done,
                total, elapsed, eta);
    }
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Job j is run j / seeds with seed j % seeds + 1; a shard i of n takes the jobs j with
 * j % n == i - 1. */
static bool in_shard(const struct repro *r, unsigned j)
{
    return j % r->shard_n == r->shard_i - 1;
}

static int run_all(struct repro *r)
{
    unsigned all = r->nruns * r->seeds, total = 0, next = 0, done = 0, running = 0, failed = 0;
    for (unsigned j = 0; j < all; j++) {
        total += in_shard(r, j);
    }
    pid_t pids[64] = {0};
    unsigned job_of[64];
    double t0 = now_s();
    while (done < total) {
        while (running < r->jobs && next < all && !failed) {
            if (!in_shard(r, next)) {
                next++;
                continue;
            }
            struct run *x = &r->runs[next / r->seeds];
            unsigned seed = next % r->seeds + 1;
            fflush(stderr);
            pid_t pid = fork();
            if (pid < 0) {
                msg_start(r);
                fprintf(stderr, "fork: %s\n", strerror(errno));
                failed++;
                break;
            }
            if (pid == 0) {
                _exit(child_run(r, x, seed));
            }
            unsigned slot = 0;
            while (slot < r->jobs && pids[slot] != 0) {
                slot++;
            }
            pids[slot] = pid;
            job_of[slot] = next++;
            running++;
        }
        if (running == 0) {
            break;
        }
        progress(r, done, running, total, now_s() - t0);
        int st;
        pid_t pid = wait(&st);
        if (pid < 0) {
            msg_start(r);
            fprintf(stderr, "wait: %s\n", strerror(errno));
            return -1;
        }
        for (unsigned s = 0; s < r->jobs; s++) {
            if (pids[s] == pid) {
                pids[s] = 0;
                running--;
                done++;
                unsigned job = job_of[s];
                struct run *x = &r->runs[job / r->seeds];
                if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                    msg_start(r);
                    fprintf(stderr, "%s seed %u failed\n", x->config, job % r->seeds + 1);
                    failed++;
                }
            }
        }
    }
    progress(r, done, running, total, now_s() - t0);
    if (r->tty && !r->quiet) {
        fprintf(stderr, "\n");
    }
    r->wall_s = now_s() - t0;
    return failed ? -1 : 0;
}

/* ---- the commands ----------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: handoff reproduce [--out DIR] [--seeds N] [--jobs N] [--warmup N]\n"
            "                         [--measure N] [--quiet]\n"
            "\n"
            "Runs the paper's section 5 on the simulator (Table 1, Figures 4 to 8 and the mean\n"
            "response times), and the claims' configurations again with the NIC's own costs at\n"
            "150 %% and 200 %% (a sensitivity study, reported apart). Writes DIR/report.md with\n"
            "the paper's numbers beside ours, DIR/results.json, DIR/runs/*.json,\n"
            "DIR/timeseries/*.csv and DIR/figures/*.svg|png.\n"
            "To spread the runs over several machines, see `handoff sweep --help`.\n"
            "\n"
            "options (a value follows as `--opt N` or `--opt=N`):\n"
            "  -o, --out DIR      output directory (default out)\n"
            "  -s, --seeds N      seeds per configuration, 1..%d (default 3); the report shows\n"
            "                     the mean and the spread\n"
            "  -j, --jobs N       runs at once, 1..64 (default: the number of processors)\n"
            "  -w, --warmup N     packets before measuring (default 400000, the paper's)\n"
            "  -m, --measure N    packets measured, at least 1000 (default 600000, the paper's)\n"
            "  -q, --quiet        no progress or summary on stderr (errors, warnings still)\n"
            "  -h, --help         print this message\n"
            "\n"
            "Progress: a line redrawn in place when stderr is a terminal, else a plain line\n"
            "every tenth of the runs. A run that fails is named on stderr, and no report is\n"
            "written; one that measures nothing or completes no request (too short) is named\n"
            "in a warning, and its metrics are zeros.\n"
            "Exit status: 0 report written, 1 a run or a write failed, 2 usage error.\n",
            MAX_SEEDS);
}

static void sweep_usage(FILE *f)
{
    fprintf(f,
            "usage: handoff sweep list  [SELECT] [--seeds N] [--shard I/N]\n"
            "       handoff sweep run   [SELECT] [--seeds N] [--shard I/N] [--jobs N]\n"
            "                           [--warmup N] [--measure N] [--quiet] --out DIR\n"
            "       handoff sweep merge [SELECT] [--seeds N] [--warmup N] [--measure N]\n"
            "                           [--quiet] --out DIR SRC_DIR...\n"
            "\n"
            "The reproduction as independent jobs, for many machines. `list` prints one job a\n"
            "line (CONFIG SEED); `run` runs shard I of N of them (job j belongs to shard\n"
            "j mod N + 1), writing DIR/runs/CONFIG-sSEED.json; `merge` reads the runs from the\n"
            "SRC_DIRs and writes the report into DIR: the paper's report for --set all, a table\n"
            "of every metric otherwise.\n"
            "\n"
            "SELECT is --set NAME (all, table1, fig5, fig6, fig7, fig8, response, sensitivity;\n"
            "default all) or -c, --configs FILE (a grid of your own: one configuration a line,\n"
            "a shorthand or a file, either with ,key=value overrides, such as\n"
            "W-1024-P-N-FCFS-400,nic.hiwat=900; '#' starts a comment).\n"
            "\n"
            "options (a value follows as `--opt N` or `--opt=N`):\n"
            "  -o, --out DIR      where `run` writes its runs and `merge` the report (required)\n"
            "  -s, --seeds N      seeds per configuration, 1..%d (default 3)\n"
            "      --shard I/N    list or run only shard I of N (default 1/1: every job)\n"
            "  -j, --jobs N       runs at once, 1..64 (default: the number of processors)\n"
            "  -w, --warmup N     packets before measuring (default 400000); for `merge`, what\n"
            "                     the grid report states (give the runs' values)\n"
            "  -m, --measure N    packets measured, at least 1000 (default 600000); as --warmup\n"
            "  -q, --quiet        no progress or summary on stderr (errors, warnings still)\n"
            "  -h, --help         print this message\n"
            "\n"
            "`run` reports progress, failed runs and runs that measured nothing as\n"
            "`handoff reproduce` does (see its --help).\n"
            "\n"
            "GNU parallel, 8 shards:   parallel handoff sweep run --shard {}/8 --out out/s{} \\\n"
            "                              ::: 1 2 3 4 5 6 7 8\n"
            "                          handoff sweep merge --out out out/s*\n"
            "Slurm job array:          sbatch --array=1-16 --wrap 'handoff sweep run --jobs 1 \\\n"
            "                              --shard $SLURM_ARRAY_TASK_ID/16 --out "
            "out/s$SLURM_ARRAY_TASK_ID'\n"
            "                          then handoff sweep merge --out out out/s*\n"
            "Exit status: 0 success, 1 a run, a read or a write failed, 2 usage error.\n"
            "(docs/reproduction.md says more.)\n",
            MAX_SEEDS);
}

static int parse_count(const char *prog, const char *opt, const char *v, uint64_t min, uint64_t max,
                       uint64_t *out)
{
    if (cli_parse_uint(v, min, max, out) != 0) {
        fprintf(stderr, "%s: %s '%s': expected an integer in [%llu, %llu]\n", prog, opt, v,
                (unsigned long long)min, (unsigned long long)max);
        return -1;
    }
    return 0;
}

struct opts {
    const char *set, *configs;
    const char *srcs[256];
    unsigned nsrcs;
};

/* The commands that share these options, and which of them each takes. */
enum verb { V_REPRODUCE, V_LIST, V_RUN, V_MERGE };
enum { OPT_SET = 256, OPT_SHARD };

static bool takes(enum verb v, int ch)
{
    switch (ch) {
    case 's':
    case 'q':
    case 'h':
        return true;
    case 'o':
        return v != V_LIST;
    case 'j':
        return v == V_REPRODUCE || v == V_RUN;
    case 'w':
    case 'm':
        return v != V_LIST;
    case OPT_SET:
    case 'c':
        return v != V_REPRODUCE;
    case OPT_SHARD:
        return v == V_LIST || v == V_RUN;
    default:
        return false;
    }
}

/* Parses the options of reproduce and of sweep's verbs into r and o. Returns 0, 1 after --help,
 * or 2 on a usage error (printed). */
static int parse_opts(int argc, char **argv, enum verb verb, struct repro *r, struct opts *o)
{
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},
        {"seeds", required_argument, NULL, 's'},
        {"jobs", required_argument, NULL, 'j'},
        {"warmup", required_argument, NULL, 'w'},
        {"measure", required_argument, NULL, 'm'},
        {"quiet", no_argument, NULL, 'q'},
        {"set", required_argument, NULL, OPT_SET},
        {"configs", required_argument, NULL, 'c'},
        {"shard", required_argument, NULL, OPT_SHARD},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *prog = r->prog;
    bool have_out = false;
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":o:s:j:w:m:qc:h", opts, NULL)) != -1) {
        uint64_t x;
        if (ch == '?' || ch == ':') {
            return cli_opt_error(prog, ch, argv, opts);
        }
        if (!takes(verb, ch)) {
            const struct option *opt = opts;
            while (opt->name && opt->val != ch) {
                opt++;
            }
            fprintf(stderr, "%s: --%s does not apply to this command (see %s --help)\n", prog,
                    opt->name, verb == V_REPRODUCE ? prog : "handoff sweep");
            return 2;
        }
        switch (ch) {
        case 'h':
            verb == V_REPRODUCE ? usage(stdout) : sweep_usage(stdout);
            return 1;
        case 'q':
            r->quiet = 1;
            break;
        case 'o':
            r->out = optarg;
            have_out = true;
            break;
        case 's':
            if (parse_count(prog, "--seeds", optarg, 1, MAX_SEEDS, &x) != 0) {
                return 2;
            }
            r->seeds = (unsigned)x;
            break;
        case 'j':
            if (parse_count(prog, "--jobs", optarg, 1, 64, &x) != 0) {
                return 2;
            }
            r->jobs = (unsigned)x;
            break;
        case 'w':
            if (parse_count(prog, "--warmup", optarg, 0, 1ull << 32, &r->warmup) != 0) {
                return 2;
            }
            break;
        case 'm':
            if (parse_count(prog, "--measure", optarg, 1000, 1ull << 32, &r->measure) != 0) {
                return 2;
            }
            break;
        case OPT_SET:
            o->set = optarg;
            break;
        case 'c':
            o->configs = optarg;
            break;
        case OPT_SHARD: {
            unsigned si, sn;
            int used = 0;
            if (sscanf(optarg, "%u/%u%n", &si, &sn, &used) != 2 || optarg[used] || sn < 1 ||
                si < 1 || si > sn || sn > 100000 || optarg[0] < '0' || optarg[0] > '9') {
                fprintf(stderr, "%s: --shard '%s': expected I/N with 1 <= I <= N\n", prog, optarg);
                return 2;
            }
            r->shard_i = si;
            r->shard_n = sn;
            break;
        }
        default:
            return cli_opt_error(prog, '?', argv, opts);
        }
    }
    for (int i = optind; i < argc; i++) {
        if (verb != V_MERGE) {
            fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[i]);
            return 2;
        }
        if (o->nsrcs == 256) {
            fprintf(stderr, "%s: at most 256 source directories\n", prog);
            return 2;
        }
        o->srcs[o->nsrcs++] = argv[i];
    }
    if (o->set && o->configs) {
        fprintf(stderr, "%s: --set and --configs exclude each other\n", prog);
        return 2;
    }
    if ((verb == V_RUN || verb == V_MERGE) && !have_out) {
        fprintf(stderr, "%s: missing --out DIR (where the %s go)\n", prog,
                verb == V_RUN ? "runs' results" : "report and results");
        return 2;
    }
    if (verb == V_MERGE && o->nsrcs == 0) {
        fprintf(stderr, "%s: no source directories given (SRC_DIR...)\n", prog);
        return 2;
    }
    return 0;
}

static void repro_defaults(struct repro *r, const char *prog)
{
    memset(r, 0, sizeof *r);
    r->prog = prog;
    r->out = "out";
    r->seeds = 3;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    r->jobs = ncpu > 0 && ncpu < 64 ? (unsigned)ncpu : 2;
    r->warmup = 400000;
    r->measure = 600000;
    r->shard_i = r->shard_n = 1;
    r->tty = cli_stderr_is_tty();
}

static int make_dirs(const struct repro *r)
{
    char runs_dir[4096], ts_dir[4096];
    snprintf(runs_dir, sizeof runs_dir, "%s/runs", r->out);
    snprintf(ts_dir, sizeof ts_dir, "%s/timeseries", r->out);
    return outdir_make(r->prog, r->out) != 0 || outdir_make(r->prog, runs_dir) != 0 ||
                   outdir_make(r->prog, ts_dir) != 0
               ? -1
               : 0;
}

/* Merging: brings the Figure 6 time series from the source directory that has them. */
static void gather_timeseries(const struct repro *r)
{
    for (unsigned i = 0; i < r->nruns; i++) {
        if (!r->runs[i].timeseries) {
            continue;
        }
        char name[128], path[4096], dst[4096];
        snprintf(name, sizeof name, "timeseries/%s.csv", r->runs[i].config);
        snprintf(dst, sizeof dst, "%s/%s", r->out, name);
        for (unsigned k = 0; k < r->nsrcs; k++) {
            snprintf(path, sizeof path, "%s/%s", r->srcs[k], name);
            FILE *in = strcmp(path, dst) ? fopen(path, "r") : NULL;
            if (!in) {
                continue;
            }
            FILE *out = outdir_open(r->prog, r->out, name);
            char buf[65536];
            size_t n;
            while (out && (n = fread(buf, 1, sizeof buf, in)) > 0) {
                fwrite(buf, 1, n, out);
            }
            fclose(in);
            if (out) {
                outdir_close(r->prog, out, r->out, name);
            }
            break;
        }
    }
}

/* Loads every run's results (after run_all, or from the source directories) and reports. */
static int load_and_report(struct repro *r, bool paper_report)
{
    gather_timeseries(r);
    for (unsigned i = 0; i < r->nruns; i++) {
        r->runs[i].nok = 0;
        for (unsigned s = 1; s <= r->seeds; s++) {
            if (load_result(r, &r->runs[i], s) != 0) {
                return -1;
            }
        }
    }
    static struct repro_view view;
    memset(&view, 0, sizeof view);
    view.prog = r->prog;
    view.out = r->out;
    view.seeds = r->seeds;
    view.warmup = r->warmup;
    view.measure = r->measure;
    view.wall_s = r->wall_s;
    for (unsigned i = 0; i < r->nruns; i++) {
        view.runs[i].config = r->runs[i].config;
        view.runs[i].n = r->runs[i].nok;
        view.runs[i].m = r->runs[i].m;
    }
    view.nruns = r->nruns;
    return paper_report ? repro_report(&view) : repro_grid_report(&view);
}

int cli_reproduce(int argc, char **argv)
{
    static struct repro r;
    struct opts o = {0};
    repro_defaults(&r, "handoff reproduce");
    int rc = parse_opts(argc, argv, V_REPRODUCE, &r, &o);
    if (rc) {
        return rc == 1 ? 0 : 2;
    }
    if (make_dirs(&r) != 0) {
        return 1;
    }
    list_runs(&r, "all");
    if (!r.quiet) {
        fprintf(stderr, "%s: %u configurations x %u seeds, %u at a time, into %s/\n", r.prog,
                r.nruns, r.seeds, r.jobs, r.out);
    }
    if (run_all(&r) != 0) {
        fprintf(stderr, "%s: some runs failed; no report written\n", r.prog);
        return 1;
    }
    if (load_and_report(&r, true) != 0) {
        return 1;
    }
    if (!r.quiet) {
        fprintf(stderr, "%s: wrote %s/report.md (%.0f s)\n", r.prog, r.out, r.wall_s);
    }
    return 0;
}

int cli_sweep(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "handoff sweep: missing the action (list, run or merge)\n");
        sweep_usage(stderr);
        return 2;
    }
    const char *verb_name = argv[1];
    if (!strcmp(verb_name, "--help") || !strcmp(verb_name, "-h") || !strcmp(verb_name, "help")) {
        sweep_usage(stdout);
        return 0;
    }
    static const struct {
        const char *name, *prog;
        enum verb verb;
    } verbs[] = {{"list", "handoff sweep list", V_LIST},
                 {"run", "handoff sweep run", V_RUN},
                 {"merge", "handoff sweep merge", V_MERGE}};
    size_t k = 0;
    while (k < sizeof verbs / sizeof verbs[0] && strcmp(verb_name, verbs[k].name)) {
        k++;
    }
    if (k == sizeof verbs / sizeof verbs[0]) {
        fprintf(stderr, "handoff sweep: unknown action '%s' (list, run or merge)\n", verb_name);
        return 2;
    }
    enum verb verb = verbs[k].verb;
    static struct repro r;
    struct opts o = {0};
    repro_defaults(&r, verbs[k].prog);
    int rc = parse_opts(argc - 1, argv + 1, verb, &r, &o);
    if (rc) {
        return rc == 1 ? 0 : 2;
    }
    if (o.configs ? list_file(&r, o.configs) : list_runs(&r, o.set ? o.set : "all")) {
        return 2;
    }
    bool paper_report = !o.configs && (!o.set || !strcmp(o.set, "all"));
    if (verb == V_LIST) {
        for (unsigned j = 0; j < r.nruns * r.seeds; j++) {
            if (in_shard(&r, j)) {
                printf("%s %u\n", r.runs[j / r.seeds].config, j % r.seeds + 1);
            }
        }
        return 0;
    }
    if (verb == V_RUN) {
        if (make_dirs(&r) != 0) {
            return 1;
        }
        if (run_all(&r) != 0) {
            fprintf(stderr, "%s: some runs failed\n", r.prog);
            return 1;
        }
        return 0;
    }
    r.srcs = o.srcs;
    r.nsrcs = o.nsrcs;
    if (make_dirs(&r) != 0 || load_and_report(&r, paper_report) != 0) {
        return 1;
    }
    if (!r.quiet) {
        fprintf(stderr, "%s: wrote %s/report.md from %u runs\n", r.prog, r.out, r.nruns * r.seeds);
    }
    return 0;
}
