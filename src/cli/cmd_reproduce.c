/*
 * cmd_reproduce.c - `handoff reproduce`: the paper's section 5 on the simulator, in one command.
 *
 * 1. Lists the runs of every experiment (Table 1, Figures 5 to 8, the response times), each
 *    configuration once, times the number of seeds.
 * 2. Looks at what DIR holds already (scan_outdir): a run's file whose provenance (version,
 *    configuration, seed, run lengths, trace) is this run's is kept with --resume; files that
 *    do not belong to this set of runs (other seeds, configurations, versions or lengths) are
 *    moved into DIR/stale/, never read into the report.
 * 3. Runs the rest in parallel, one child process per run (fork), as many at once as --jobs,
 *    with a progress line on stderr (redrawn in place on a terminal, a plain line every tenth of
 *    the runs otherwise). Each child writes its metrics and provenance to
 *    DIR/runs/CONFIG-sSEED.json (and, for Figure 6, its time series), atomically, so a run is
 *    independent of every other. A child's stderr is a pipe to the parent, which says what
 *    failed and why on one line. SIGINT and SIGTERM (read from a signalfd, so no handler and no
 *    global) stop the children; the parent then reports what was done and names what is
 *    missing, and exits 130.
 * 4. Reads the results back and writes DIR/results.json, the figures (gnuplot, SVG and PNG) and
 *    DIR/report.md (repro_report.c): every table beside the paper's numbers and the difference,
 *    and the checklist of the paper's claims with the band each is judged by.
 *
 * Nothing here is tuned per experiment: every run uses the one cost model of the simulator.
 *
 * `handoff sweep` (cli_sweep) is the same machinery cut into its three steps, for many machines.
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "handoff/sim_config.h"
#include "handoff/sim_world.h"
#include "handoff/workload.h"
#include "handoff/workload_stats.h"
#include "outdir.h"
#include "provenance.h"
#include "repro.h"

#define MAX_RUNS     256
#define MAX_SEEDS    16
#define NAME_MAX_LEN 160 /* a configuration's name, with any overrides */

/* What became of a job (a configuration and a seed). */
enum job_state {
    JOB_TODO,   /* not run (yet) */
    JOB_KEPT,   /* done by an earlier command with the same provenance (--resume) */
    JOB_DONE,   /* run by this command */
    JOB_FAILED, /* run by this command, and failed */
};

struct run {
    char config[NAME_MAX_LEN];
    bool timeseries;                /* Figure 6 wants its time series (first seed only) */
    unsigned char state[MAX_SEEDS]; /* enum job_state of seed s + 1 */
    unsigned nok;                   /* seeds whose results were read back */
    struct sim_metrics m[MAX_SEEDS];
    double wall[MAX_SEEDS];
    json_t *json[MAX_SEEDS]; /* their files, provenance and metrics (owned) */
};

struct repro {
    const char *prog; /* the command's name, which messages start with ("handoff sweep run") */
    const char *out;
    unsigned seeds, jobs;
    uint64_t warmup, measure;
    int quiet;
    bool resume;               /* keep the runs already done with the same provenance */
    bool warmup_given;         /* merge: --warmup given, to check the runs against */
    bool measure_given;        /* merge: --measure given, likewise */
    int stopped_by;            /* the signal that interrupted the runs, or 0 */
    bool tty;                  /* stderr is a terminal: the progress line redraws itself */
    unsigned last_decile;      /* otherwise a plain line every tenth of the runs */
    unsigned shard_i, shard_n; /* this process runs shard i of n (1 of 1: everything) */
    const char *const *srcs;   /* merge: the directories holding the runs */
    unsigned nsrcs;
    struct run runs[MAX_RUNS];
    unsigned nruns;
    double wall_s;
    const char *version; /* the runs' version, as their files record it */
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
static const char *const set_names[] = {"all",  "table1", "fig5",     "fig6",       "fig7",
                                        "fig8", "response", "sensitivity", "beyond"};
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
    bool ts;
    for (unsigned i = 0; in_set(set, "beyond") && repro_beyond_config(i, name, sizeof name, &ts);
         i++) {
        want(r, name, ts);
    }
    for (size_t i = 0; i < NSETS; i++) {
        if (!strcmp(set, set_names[i])) {
            return 0;
        }
    }
    fprintf(stderr,
            "%s: unknown set '%s' (all, table1, fig5, fig6, fig7, fig8, response, "
            "sensitivity, beyond)\n",
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

static void timeseries_name(char *buf, size_t len, const char *config)
{
    snprintf(buf, len, "timeseries/%s.csv", config);
}

/* What starts a message: the command's name, on a line of its own if the progress line may be
 * on the terminal. */
static void msg_start(const struct repro *r)
{
    fprintf(stderr, "%s%s: ", r->tty && !r->quiet ? "\n" : "", r->prog);
}

/* Job j is run j / seeds with seed j % seeds + 1; a shard i of n takes the jobs j with
 * j % n == i - 1. */
static bool in_shard(const struct repro *r, unsigned j)
{
    return j % r->shard_n == r->shard_i - 1;
}

/* The configuration of the job (x, seed): x's, with the seed and the command's run lengths.
 * Returns 0, or -1 with err filled. */
static int job_config(const struct repro *r, const struct run *x, unsigned seed,
                      struct sim_config *cfg, struct sim_config_err *err)
{
    if (sim_config_load(cfg, x->config, err) != 0) {
        return -1;
    }
    cfg->seed = seed;
    cfg->warmup_packets = r->warmup;
    cfg->measure_packets = r->measure;
    return 0;
}

/* The provenance the job's results have when this program makes them now, or NULL when its
 * configuration does not load or its trace cannot be read (the run says why). */
static json_t *job_prov(const struct repro *r, const struct run *x, unsigned seed)
{
    struct sim_config cfg;
    struct sim_config_err err;
    char sha[PROV_SHA256_HEX], why[1200];
    if (job_config(r, x, seed, &cfg, &err) != 0 ||
        (cfg.trace_file[0] && prov_sha256_file(cfg.trace_file, sha, why, sizeof why) != 0)) {
        return NULL;
    }
    return prov_run(x->config, &cfg, cfg.trace_file[0] ? sha : NULL);
}

/* Whether got (a run's file, or a time series' provenance line) holds every field of want. */
static bool same_prov(json_t *want, const json_t *got)
{
    const char *key;
    json_t *v;
    json_object_foreach(want, key, v)
    {
        if (!json_equal(v, json_object_get(got, key))) {
            return false;
        }
    }
    return true;
}

/*
 * The child: one simulation, its metrics and provenance to DIR/runs/CONFIG-sSEED.json (and its
 * time series). Its stderr is a pipe to the parent: a failure's reason is the last line it
 * writes there. Exit status 0 on success.
 */
static int child_run(const struct repro *r, const struct run *x, unsigned seed)
{
    struct sim_config cfg;
    struct sim_config_err err = {{0}};
    if (job_config(r, x, seed, &cfg, &err) != 0) {
        fprintf(stderr, "%s: %s\n", r->prog, err.msg);
        return 1;
    }
    struct sim_world *w;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (sim_world_create(&cfg, &w, &err) != 0) {
        fprintf(stderr, "%s: %s\n", r->prog, err.msg);
        return 1;
    }
    char sha[PROV_SHA256_HEX], why[1200];
    if (cfg.trace_file[0] && prov_sha256_file(cfg.trace_file, sha, why, sizeof why) != 0) {
        fprintf(stderr, "%s: %s\n", r->prog, why);
        sim_world_destroy(w);
        return 1;
    }
    json_t *prov = prov_run(x->config, &cfg, cfg.trace_file[0] ? sha : NULL);
    struct outfile csv = {0};
    if (x->timeseries && seed == 1) {
        char csv_name[128];
        timeseries_name(csv_name, sizeof csv_name, x->config);
        if (outdir_open(r->prog, &csv, r->out, csv_name) != 0) {
            sim_world_destroy(w);
            json_decref(prov);
            return 1;
        }
        prov_csv_header(csv.f, prov);
        fprintf(csv.f, "time_s,soft_limit,cnum,nic_rxq,host_busy,nic_busy,requests\n");
    }
    int rc =
        sim_world_run(w, REPRO_SAMPLE_NS, csv.f ? repro_write_sample : NULL, NULL, csv.f, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", r->prog, err.msg);
        sim_world_destroy(w);
        outfile_abort(&csv);
        json_decref(prov);
        return 1;
    }
    struct sim_metrics m;
    sim_world_metrics(w, &m);
    uint64_t wraps = sim_world_trace_wraps(w);
    sim_world_destroy(w);
    if (csv.f && outfile_commit(r->prog, &csv) != 0) {
        json_decref(prov);
        return 1;
    }
    /* Unlike `handoff run`, a reproduction keeps such a run: short runs that check the
     * machinery (the tests') would otherwise never finish a report. It is said, though. */
    char short_why[512];
    if (repro_metrics_check(&m, &cfg, short_why, sizeof short_why) != 0) {
        fprintf(stderr, "%s: warning: %s seed %u: %s\n", r->prog, x->config, seed, short_why);
    }
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    json_t *j = repro_run_json(prov, &m, wall, wraps > 0);
    char name[160], path[OUTFILE_PATH_MAX];
    result_name(name, sizeof name, x->config, seed);
    snprintf(path, sizeof path, "%s/%s", r->out, name);
    rc = outfile_write_json(r->prog, path, j, REPRO_JSON_FLAGS);
    json_decref(j);
    json_decref(prov);
    return rc != 0;
}

/* What the runs read back must share: one version and one pair of run lengths. */
struct lengths_ref {
    bool set;
    char version[128];
    long long warmup, measure;
    char path[OUTFILE_PATH_MAX]; /* the first file read, which set them */
};

/* Checks that the run file j (at path) was made by the version and with the run lengths of those
 * read before it (and of --warmup and --measure, if given to merge). Returns 0, or -1 after
 * printing why, naming both files. */
static int check_lengths(const struct repro *r, const json_t *j, const char *path,
                         struct lengths_ref *ref)
{
    const char *version = json_string_value(json_object_get(j, "version"));
    const json_t *jw = json_object_get(j, "warmup_packets");
    const json_t *jm = json_object_get(j, "measure_packets");
    if (!version || !json_is_integer(jw) || !json_is_integer(jm)) {
        fprintf(stderr,
                "%s: %s records no version or run lengths (it was made before handoff recorded "
                "them): run it again\n",
                r->prog, path);
        return -1;
    }
    long long w = json_integer_value(jw), m = json_integer_value(jm);
    if ((r->warmup_given && w != (long long)r->warmup) ||
        (r->measure_given && m != (long long)r->measure)) {
        fprintf(stderr,
                "%s: %s ran %lld packets of warm-up and %lld measured, not the %s %llu given\n",
                r->prog, path, w, m,
                r->warmup_given && w != (long long)r->warmup ? "--warmup" : "--measure",
                (unsigned long long)(r->warmup_given && w != (long long)r->warmup ? r->warmup
                                                                                  : r->measure));
        return -1;
    }
    if (!ref->set) {
        ref->set = true;
        snprintf(ref->version, sizeof ref->version, "%s", version);
        ref->warmup = w;
        ref->measure = m;
        snprintf(ref->path, sizeof ref->path, "%s", path);
        return 0;
    }
    if (strcmp(version, ref->version) != 0 || w != ref->warmup || m != ref->measure) {
        fprintf(stderr,
                "%s: %s was made by handoff %s with %lld packets of warm-up and %lld measured, "
                "%s by handoff %s with %lld and %lld: merge only runs of one version and one "
                "run length\n",
                r->prog, path, version, w, m, ref->path, ref->version, ref->warmup, ref->measure);
        return -1;
    }
    return 0;
}

/* Reads one run's results from the output directory or, when merging, from the first source
 * directory that has them. */
static int load_result(struct repro *r, struct run *x, unsigned seed, struct lengths_ref *ref)
{
    char name[160], path[OUTFILE_PATH_MAX];
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
    if (check_lengths(r, j, path, ref) != 0) {
        json_decref(j);
        return -1;
    }
    repro_metrics_from_json(j, &x->m[x->nok], &x->wall[x->nok]);
    x->json[x->nok++] = j;
    return 0;
}

/* ---- what the output directory holds already -------------------------------------------- */

/* Moves DIR/sub/name into DIR/stale/sub/ (name.1, name.2, ... if taken). Returns 0 or -1. */
static int move_aside(const struct repro *r, const char *sub, const char *name)
{
    char from[OUTFILE_PATH_MAX], dir[OUTFILE_PATH_MAX], to[OUTFILE_PATH_MAX + 16];
    snprintf(from, sizeof from, "%s/%s/%s", r->out, sub, name);
    snprintf(dir, sizeof dir, "%s/stale/%s", r->out, sub);
    if (outdir_make(r->prog, dir) != 0) {
        return -1;
    }
    snprintf(to, sizeof to, "%s/%s", dir, name);
    for (unsigned k = 1; access(to, F_OK) == 0 && k < 100000; k++) {
        snprintf(to, sizeof to, "%s/%s.%u", dir, name, k);
    }
    if (rename(from, to) != 0) {
        fprintf(stderr, "%s: cannot move '%s' to '%s': %s\n", r->prog, from, to, strerror(errno));
        return -1;
    }
    return 0;
}

/* Removes the temporaries in DIR/sub that writers which no longer run left (killed midway). */
static void remove_dead_temporaries(const struct repro *r, const char *sub)
{
    char dir[OUTFILE_PATH_MAX], path[OUTFILE_PATH_MAX + 256];
    snprintf(dir, sizeof dir, "%s/%s", r->out, sub);
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        pid_t pid;
        if (outfile_is_tmp(e->d_name, &pid) && kill(pid, 0) != 0 && errno == ESRCH) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    }
    if (d) {
        closedir(d);
    }
}

/* The job whose file is DIR/sub/name, as run index and seed; false if none of this set's. */
static bool job_of_file(const struct repro *r, const char *sub, const char *name, unsigned *run,
                        unsigned *seed)
{
    char want[256], got[256];
    snprintf(got, sizeof got, "%s/%s", sub, name);
    for (unsigned i = 0; i < r->nruns; i++) {
        for (unsigned s = 1; s <= r->seeds; s++) {
            if (!strcmp(sub, "runs")) {
                result_name(want, sizeof want, r->runs[i].config, s);
            } else if (s == 1 && r->runs[i].timeseries) {
                timeseries_name(want, sizeof want, r->runs[i].config);
            } else {
                continue;
            }
            if (!strcmp(want, got)) {
                *run = i;
                *seed = s;
                return true;
            }
        }
    }
    return false;
}

/* What scan_outdir found. */
struct scan {
    unsigned foreign; /* files of no job of this set: other seeds or configurations */
    unsigned stale;   /* files of a job of this set, with another provenance */
    char example[300];
};

/*
 * Looks at every file of DIR/sub (runs or timeseries): one of a job of this set whose provenance
 * is what this program would record is left in place (and, for a run with --resume, marked
 * kept); any other is moved into DIR/stale/. Returns 0, or -1 when a file could not be moved.
 */
static int scan_sub(struct repro *r, const char *sub, struct scan *sc)
{
    char dir[OUTFILE_PATH_MAX], path[OUTFILE_PATH_MAX + 256];
    snprintf(dir, sizeof dir, "%s/%s", r->out, sub);
    DIR *d = opendir(dir);
    if (!d) {
        return 0;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (e->d_name[0] == '.' || stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            continue; /* ".", "..", temporaries of running writers, directories */
        }
        unsigned i, seed;
        bool ours = job_of_file(r, sub, e->d_name, &i, &seed);
        bool keep = false;
        if (ours) {
            json_t *want = job_prov(r, &r->runs[i], seed);
            json_t *got =
                !strcmp(sub, "runs") ? json_load_file(path, 0, NULL) : prov_csv_read(path);
            keep = !want || (got && same_prov(want, got)); /* !want: the job fails, and says so */
            if (keep && want && r->resume && !strcmp(sub, "runs")) {
                r->runs[i].state[seed - 1] = JOB_KEPT;
            }
            json_decref(want);
            json_decref(got);
        }
        if (keep) {
            continue;
        }
        if (move_aside(r, sub, e->d_name) != 0) {
            rc = -1;
            continue;
        }
        ours ? sc->stale++ : sc->foreign++;
        if (!sc->example[0]) {
            snprintf(sc->example, sizeof sc->example, "%s/%s", sub, e->d_name);
        }
    }
    closedir(d);
    return rc;
}

/*
 * Before running: removes dead writers' temporaries, moves aside what does not belong to this
 * set of runs, and with --resume keeps the runs already done (a Figure 6 run only with its time
 * series). Says on stderr what it moved and how many runs it kept. Returns 0, or -1 after
 * printing why.
 */
static int scan_outdir(struct repro *r)
{
    static const char *const subs[] = {"", "runs", "timeseries", "figures"};
    for (size_t k = 0; k < sizeof subs / sizeof subs[0]; k++) {
        remove_dead_temporaries(r, subs[k]);
    }
    struct scan sc = {0};
    if (scan_sub(r, "runs", &sc) != 0 || scan_sub(r, "timeseries", &sc) != 0) {
        return -1;
    }
    unsigned kept = 0, todo = 0;
    for (unsigned i = 0; i < r->nruns; i++) {
        struct run *x = &r->runs[i];
        char csv[OUTFILE_PATH_MAX + 128];
        timeseries_name(csv + snprintf(csv, sizeof csv, "%s/", r->out), 128, x->config);
        if (x->timeseries && x->state[0] == JOB_KEPT && access(csv, F_OK) != 0) {
            x->state[0] = JOB_TODO; /* its time series is missing or was stale */
        }
        for (unsigned s = 0; s < r->seeds; s++) {
            if (in_shard(r, i * r->seeds + s)) {
                x->state[s] == JOB_KEPT ? kept++ : todo++;
            }
        }
    }
    if (sc.foreign + sc.stale) {
        fprintf(stderr,
                "%s: moved %u file%s that do not belong to these runs into %s/stale/ (%u of other "
                "configurations or seeds, %u made by another version or with another "
                "configuration or run length; e.g. %s)\n",
                r->prog, sc.foreign + sc.stale, sc.foreign + sc.stale == 1 ? "" : "s", r->out,
                sc.foreign, sc.stale, sc.example);
    }
    if (r->resume && !r->quiet) {
        fprintf(stderr,
                "%s: kept %u run%s already done by this version with the same "
                "configuration (--resume); %u to run\n",
                r->prog, kept, kept == 1 ? "" : "s", todo);
    }
    return 0;
}

/* ---- the children ----------------------------------------------------------------------- */

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

static const char *signal_name(int sig)
{
    return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : strsignal(sig);
}

/* A running child. */
struct slot {
    pid_t pid;      /* 0: a free slot */
    unsigned job;   /* which job it runs */
    int fd;         /* the read end of its stderr */
    char msg[2048]; /* the start of what it wrote there */
    size_t len;
};

/* Starts job j in slot sl: a child whose stderr is a pipe to sl->fd. Returns 0, or -1 after
 * printing why. */
static int start_job(struct repro *r, struct slot *slots, struct slot *sl, unsigned j, int sfd,
                     const sigset_t *mask)
{
    int p[2];
    if (pipe(p) != 0) {
        msg_start(r);
        fprintf(stderr, "pipe: %s\n", strerror(errno));
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        msg_start(r);
        fprintf(stderr, "fork: %s\n", strerror(errno));
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        /* The child dies of SIGINT and SIGTERM as a program does; the parent cleans up. */
        sigprocmask(SIG_SETMASK, mask, NULL);
        close(sfd);
        close(p[0]);
        for (unsigned k = 0; k < r->jobs; k++) {
            if (slots[k].pid) {
                close(slots[k].fd);
            }
        }
        dup2(p[1], STDERR_FILENO);
        close(p[1]);
        r->tty = false;
        _exit(child_run(r, &r->runs[j / r->seeds], j % r->seeds + 1));
    }
    close(p[1]);
    *sl = (struct slot){.pid = pid, .job = j, .fd = p[0]};
    return 0;
}

/* Prints each line of text as a message of the command's; the last with lead before it. */
static void relay(const struct repro *r, const char *text, const char *lead)
{
    size_t plen = strlen(r->prog);
    while (*text) {
        size_t n = strcspn(text, "\n");
        const char *line = text;
        if (n > plen + 1 && !strncmp(line, r->prog, plen) && line[plen] == ':') {
            line += plen + 2; /* the child's own "PROG: " */
        }
        bool last = text[n] == '\0' || text[n + 1] == '\0';
        msg_start(r);
        fprintf(stderr, "%s%.*s\n", last && lead ? lead : "", (int)(n - (size_t)(line - text)),
                line);
        text += n + (text[n] != '\0');
    }
}

/* Removes what the child pid of job (x, seed) was writing when it was killed. */
static void remove_job_temporaries(const struct repro *r, const struct run *x, unsigned seed,
                                   pid_t pid)
{
    char name[160], path[OUTFILE_PATH_MAX + 160], tmp[OUTFILE_PATH_MAX + 200];
    for (int k = 0; k < 2; k++) {
        if (k == 0) {
            result_name(name, sizeof name, x->config, seed);
        } else if (x->timeseries && seed == 1) {
            timeseries_name(name, sizeof name, x->config);
        } else {
            break;
        }
        snprintf(path, sizeof path, "%s/%s", r->out, name);
        outfile_tmp_name(tmp, sizeof tmp, path, pid);
        unlink(tmp);
    }
}

/* A child is done: its job's state, and what it said. Returns whether it failed. */
static bool finish_job(struct repro *r, struct slot *sl, int st)
{
    unsigned job = sl->job, seed = job % r->seeds + 1;
    struct run *x = &r->runs[job / r->seeds];
    sl->msg[sl->len] = '\0';
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        x->state[seed - 1] = JOB_DONE;
        relay(r, sl->msg, NULL); /* its warnings */
        return false;
    }
    if (WIFSIGNALED(st)) {
        remove_job_temporaries(r, x, seed, sl->pid);
    }
    if (WIFSIGNALED(st) && (WTERMSIG(st) == SIGINT || WTERMSIG(st) == SIGTERM)) {
        /* Stopped with the others (a terminal's ^C reaches every process of the group): not a
         * failure, a run still to do. */
        if (!r->stopped_by) {
            r->stopped_by = WTERMSIG(st);
        }
        return false;
    }
    char lead[NAME_MAX_LEN + 64];
    snprintf(lead, sizeof lead, "%s seed %u failed: ", x->config, seed);
    x->state[seed - 1] = JOB_FAILED;
    if (sl->len) {
        relay(r, sl->msg, lead);
    } else if (WIFSIGNALED(st)) {
        msg_start(r);
        fprintf(stderr, "%skilled by signal %d (%s)\n", lead, WTERMSIG(st),
                strsignal(WTERMSIG(st)));
    } else {
        msg_start(r);
        fprintf(stderr, "%sexit status %d\n", lead, WEXITSTATUS(st));
    }
    return true;
}

/* Reads what slot sl's child wrote; at its end (the child exited), reaps it. Returns whether
 * the child is done, and whether it failed in *failed. */
static bool drain(struct repro *r, struct slot *sl, bool *failed)
{
    char buf[4096];
    ssize_t n = read(sl->fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
        return false;
    }
    if (n > 0) {
        size_t room = sizeof sl->msg - 1 - sl->len, k = (size_t)n < room ? (size_t)n : room;
        memcpy(sl->msg + sl->len, buf, k);
        sl->len += k;
        return false;
    }
    close(sl->fd);
    int st = 0;
    while (waitpid(sl->pid, &st, 0) < 0 && errno == EINTR) {
    }
    *failed = finish_job(r, sl, st);
    sl->pid = 0;
    return true;
}

/*
 * Runs every job of the shard not yet done, --jobs at once. SIGINT and SIGTERM, read from a
 * signalfd while they are blocked, stop it: the children are sent SIGTERM and reaped, and
 * r->stopped_by says which signal came. A failed job stops the starting of others. Returns 0,
 * or -1 when a job failed (or the machinery did).
 */
static int run_all(struct repro *r)
{
    unsigned all = r->nruns * r->seeds, total = 0, next = 0, done = 0, running = 0, failed = 0;
    for (unsigned j = 0; j < all; j++) {
        total += in_shard(r, j) && r->runs[j / r->seeds].state[j % r->seeds] == JOB_TODO;
    }
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigprocmask(SIG_BLOCK, &stop, &old);
    int sfd = signalfd(-1, &stop, SFD_CLOEXEC);
    if (sfd < 0) {
        msg_start(r);
        fprintf(stderr, "signalfd: %s\n", strerror(errno));
        sigprocmask(SIG_SETMASK, &old, NULL);
        return -1;
    }
    struct slot slots[64] = {{0}};
    double t0 = now_s();
    while (done < total) {
        while (running < r->jobs && next < all && !failed && !r->stopped_by) {
            unsigned j = next++;
            if (!in_shard(r, j) || r->runs[j / r->seeds].state[j % r->seeds] != JOB_TODO) {
                continue;
            }
            unsigned k = 0;
            while (slots[k].pid != 0) {
                k++;
            }
            if (start_job(r, slots, &slots[k], j, sfd, &old) != 0) {
                failed++;
                break;
            }
            running++;
        }
        if (running == 0) {
            break;
        }
        progress(r, done, running, total, now_s() - t0);
        struct pollfd pf[65];
        unsigned np = 0, which[64];
        for (unsigned k = 0; k < r->jobs; k++) {
            if (slots[k].pid) {
                pf[np] = (struct pollfd){.fd = slots[k].fd, .events = POLLIN};
                which[np++] = k;
            }
        }
        pf[np] = (struct pollfd){.fd = sfd, .events = POLLIN};
        if (poll(pf, np + 1, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            msg_start(r);
            fprintf(stderr, "poll: %s\n", strerror(errno));
            failed++;
            break;
        }
        if (pf[np].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si && !r->stopped_by) {
                r->stopped_by = (int)si.ssi_signo;
            }
        }
        if (r->stopped_by) {
            for (unsigned k = 0; k < r->jobs; k++) {
                if (slots[k].pid) {
                    kill(slots[k].pid, SIGTERM);
                }
            }
        }
        for (unsigned q = 0; q < np; q++) {
            bool bad = false;
            if ((pf[q].revents & (POLLIN | POLLHUP | POLLERR)) &&
                drain(r, &slots[which[q]], &bad)) {
                running--;
                done +=
                    r->runs[slots[which[q]].job / r->seeds].state[slots[which[q]].job % r->seeds] !=
                    JOB_TODO;
                failed += bad;
            }
        }
    }
    progress(r, done, running, total, now_s() - t0);
    if (r->tty && !r->quiet) {
        fprintf(stderr, "\n");
    }
    close(sfd);
    sigprocmask(SIG_SETMASK, &old, NULL);
    r->wall_s = now_s() - t0;
    return failed ? -1 : 0;
}

/* ---- the commands ----------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: handoff reproduce [--out DIR] [--seeds N] [--jobs N] [--warmup N]\n"
            "                         [--measure N] [--resume] [--quiet]\n"
            "\n"
            "Runs the paper's section 5 on the simulator (Table 1, Figures 4 to 8 and the mean\n"
            "response times), and the claims' configurations again with the NIC's own costs at\n"
            "150 %% and 200 %% (a sensitivity study, reported apart), and a study beyond the\n"
            "paper: size-aware selection, adaptive load control, active restoration after a\n"
            "load step, and today's hardware (reported apart too). Writes DIR/report.md with\n"
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
            "  -r, --resume       keep the runs DIR/runs holds already that this version of\n"
            "                     handoff made with the same configuration, seed, run lengths\n"
            "                     and trace, and run only the others (stderr says how many were\n"
            "                     kept); without it every run is made again\n"
            "  -q, --quiet        no progress or summary on stderr (errors, warnings still)\n"
            "  -h, --help         print this message\n"
            "\n"
            "Every run's JSON and time series record their provenance: the version of handoff,\n"
            "the complete configuration, the seed, the run lengths, the trace and its SHA-256\n"
            "(`handoff run --from DIR/runs/CONFIG-sSEED.json` runs one again). Files in\n"
            "DIR/runs and DIR/timeseries that do not belong to this run (other seeds,\n"
            "configurations, versions or run lengths) are moved into DIR/stale/, with a message;\n"
            "they never reach the report. Every file is written to a temporary beside it and\n"
            "renamed into place when complete.\n"
            "\n"
            "Progress: a line redrawn in place when stderr is a terminal, else a plain line\n"
            "every tenth of the runs. A run that fails is named on stderr with the reason, and\n"
            "no report is written; one that measures nothing or completes no request (too\n"
            "short) is named in a warning, and its metrics are zeros. SIGINT (^C) or SIGTERM\n"
            "stops the runs: the report of those done is written, marked incomplete, stderr\n"
            "names the missing ones, and --resume finishes them later.\n"
            "Exit status: 0 report written, 1 a run or a write failed, 2 usage error, 130\n"
            "interrupted by SIGINT or SIGTERM.\n",
            MAX_SEEDS);
}

static void sweep_usage(FILE *f)
{
    fprintf(
        f,
        "usage: handoff sweep list  [SELECT] [--seeds N] [--shard I/N]\n"
        "       handoff sweep run   [SELECT] [--seeds N] [--shard I/N] [--jobs N]\n"
        "                           [--warmup N] [--measure N] [--resume] [--quiet] --out DIR\n"
        "       handoff sweep merge [SELECT] [--seeds N] [--warmup N] [--measure N]\n"
        "                           [--quiet] --out DIR SRC_DIR...\n"
        "\n"
        "The reproduction as independent jobs, for many machines. `list` prints one job a\n"
        "line (CONFIG SEED); `run` runs shard I of N of them (job j belongs to shard\n"
        "j mod N + 1), writing DIR/runs/CONFIG-sSEED.json; `merge` reads the runs from the\n"
        "SRC_DIRs and writes the report into DIR: the paper's report for --set all, a table\n"
        "of every metric otherwise.\n"
        "\n"
        "SELECT is --set NAME (all, table1, fig5, fig6, fig7, fig8, response, sensitivity,\n"
        "beyond; default all) or -c, --configs FILE (a grid of your own: one configuration\n"
        "a line, a shorthand or a file, either with ,key=value overrides, such as\n"
        "W-1024-P-N-FCFS-400,nic.hiwat=900; '#' starts a comment).\n"
        "\n"
        "options (a value follows as `--opt N` or `--opt=N`):\n"
        "  -o, --out DIR      where `run` writes its runs and `merge` the report (required)\n"
        "  -s, --seeds N      seeds per configuration, 1..%d (default 3)\n"
        "      --shard I/N    list or run only shard I of N (default 1/1: every job)\n"
        "  -j, --jobs N       runs at once, 1..64 (default: the number of processors)\n"
        "  -w, --warmup N     packets before measuring (default 400000); `merge` takes the\n"
        "                     runs' own from their files, and checks them against this if given\n"
        "  -m, --measure N    packets measured, at least 1000 (default 600000); as --warmup\n"
        "  -r, --resume       `run`: keep the runs DIR holds already with the same\n"
        "                     provenance, as `handoff reproduce --resume`\n"
        "  -q, --quiet        no progress or summary on stderr (errors, warnings still)\n"
        "  -h, --help         print this message\n"
        "\n"
        "`run` reports progress, failed runs and runs that measured nothing, moves aside\n"
        "results that do not belong to its runs, and stops on SIGINT or SIGTERM (exit 130,\n"
        "naming the runs missing) as `handoff reproduce` does (see its --help). `merge`\n"
        "refuses runs made by different versions of handoff or with different run lengths,\n"
        "naming the files.\n"
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
#define OPT_RESUME 'r'

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
    case OPT_RESUME:
        return v == V_REPRODUCE || v == V_RUN;
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
        {"resume", no_argument, NULL, OPT_RESUME},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *prog = r->prog;
    bool have_out = false;
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":o:s:j:w:m:qrc:h", opts, NULL)) != -1) {
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
            r->warmup_given = true;
            break;
        case 'm':
            if (parse_count(prog, "--measure", optarg, 1000, 1ull << 32, &r->measure) != 0) {
                return 2;
            }
            r->measure_given = true;
            break;
        case OPT_RESUME:
            r->resume = true;
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
        char name[128], path[OUTFILE_PATH_MAX], dst[OUTFILE_PATH_MAX];
        timeseries_name(name, sizeof name, r->runs[i].config);
        snprintf(dst, sizeof dst, "%s/%s", r->out, name);
        for (unsigned k = 0; k < r->nsrcs; k++) {
            snprintf(path, sizeof path, "%s/%s", r->srcs[k], name);
            FILE *in = strcmp(path, dst) ? fopen(path, "r") : NULL;
            if (!in) {
                continue;
            }
            struct outfile out;
            if (outdir_open(r->prog, &out, r->out, name) == 0) {
                char buf[65536];
                size_t n;
                while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
                    fwrite(buf, 1, n, out.f);
                }
                outfile_commit(r->prog, &out);
            }
            fclose(in);
            break;
        }
    }
}

/* Whether the results of job (x, seed) go into the report: every job when merging or when all
 * ran; only those done when the runs were interrupted. */
static bool reported(const struct repro *r, const struct run *x, unsigned seed)
{
    return !r->stopped_by || x->state[seed - 1] == JOB_DONE || x->state[seed - 1] == JOB_KEPT;
}

/* Loads the results to report (after run_all, or from the source directories) and reports;
 * incomplete, when not NULL, says at the report's top which runs are missing. */
static int load_and_report(struct repro *r, bool paper_report, const char *incomplete)
{
    gather_timeseries(r);
    struct lengths_ref ref = {0};
    int rc = 0;
    for (unsigned i = 0; i < r->nruns && rc == 0; i++) {
        r->runs[i].nok = 0;
        for (unsigned s = 1; s <= r->seeds && rc == 0; s++) {
            if (reported(r, &r->runs[i], s)) {
                rc = load_result(r, &r->runs[i], s, &ref);
            }
        }
    }
    static struct repro_view view;
    memset(&view, 0, sizeof view);
    view.prog = r->prog;
    view.out = r->out;
    view.seeds = r->seeds;
    /* The lengths and the version are the runs' own, as their files say. */
    view.warmup = ref.set ? (uint64_t)ref.warmup : r->warmup;
    view.measure = ref.set ? (uint64_t)ref.measure : r->measure;
    view.version = ref.set ? ref.version : prov_version();
    view.wall_s = r->wall_s;
    view.incomplete = incomplete;
    for (unsigned i = 0; i < r->nruns; i++) {
        view.runs[i].config = r->runs[i].config;
        view.runs[i].n = r->runs[i].nok;
        view.runs[i].m = r->runs[i].m;
        view.runs[i].prov = r->runs[i].json;
    }
    view.nruns = r->nruns;
    if (rc == 0) {
        rc = paper_report ? repro_report(&view) : repro_grid_report(&view);
    }
    for (unsigned i = 0; i < r->nruns; i++) {
        for (unsigned s = 0; s < r->runs[i].nok; s++) {
            json_decref(r->runs[i].json[s]);
        }
        r->runs[i].nok = 0;
    }
    return rc;
}

/*
 * After SIGINT or SIGTERM: names the runs of the shard still missing on stderr (the first few)
 * and returns them all as Markdown for the report (caller frees), or NULL if none is missing.
 */
static char *say_missing(const struct repro *r)
{
    char *md = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&md, &len);
    unsigned all = r->nruns * r->seeds, missing = 0, done = 0;
    char names[600] = "";
    size_t used = 0;
    for (unsigned j = 0; j < all; j++) {
        const struct run *x = &r->runs[j / r->seeds];
        unsigned seed = j % r->seeds + 1;
        if (!in_shard(r, j)) {
            continue;
        }
        if (x->state[seed - 1] != JOB_TODO) {
            done++;
            continue;
        }
        if (f) {
            fprintf(f, "%s`%s` seed %u", missing ? ", " : "", x->config, seed);
        }
        if (missing < 5) {
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s seed %u",
                                     missing ? ", " : "", x->config, seed);
        }
        missing++;
    }
    if (f && fclose(f) != 0) {
        md = NULL;
    }
    char more[32] = "";
    if (missing > 5) {
        snprintf(more, sizeof more, " and %u more", missing - 5);
    }
    fprintf(stderr,
            "%s: interrupted by %s: %u of %u runs done, %u missing: %s%s; `--resume` with the "
            "same options runs the missing ones\n",
            r->prog, signal_name(r->stopped_by), done, done + missing, missing,
            missing ? names : "none", more);
    if (!missing) {
        free(md);
        return NULL;
    }
    char *out = NULL;
    if (md) {
        size_t n = strlen(md) + 128;
        out = malloc(n);
        if (out) {
            snprintf(out, n,
                     "%u of its %u runs are missing, and every number below that needs "
                     "them is '-' or nan: %s.",
                     missing, done + missing, md);
        }
        free(md);
    }
    return out;
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
    if (scan_outdir(&r) != 0) {
        return 1;
    }
    if (!r.quiet) {
        fprintf(stderr, "%s: %u configurations x %u seeds, %u at a time, into %s/\n", r.prog,
                r.nruns, r.seeds, r.jobs, r.out);
    }
    int ran = run_all(&r);
    if (r.stopped_by) {
        char *missing = say_missing(&r);
        if (load_and_report(&r, true, missing ? missing : "") == 0) {
            fprintf(stderr, "%s: wrote %s/report.md with the runs done, marked incomplete\n",
                    r.prog, r.out);
        }
        free(missing);
        return 130;
    }
    if (ran != 0) {
        fprintf(stderr, "%s: some runs failed; no report written\n", r.prog);
        return 1;
    }
    if (load_and_report(&r, true, NULL) != 0) {
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
        if (make_dirs(&r) != 0 || scan_outdir(&r) != 0) {
            return 1;
        }
        int ran = run_all(&r);
        if (r.stopped_by) {
            free(say_missing(&r));
            return 130;
        }
        if (ran != 0) {
            fprintf(stderr, "%s: some runs failed\n", r.prog);
            return 1;
        }
        return 0;
    }
    r.srcs = o.srcs;
    r.nsrcs = o.nsrcs;
    if (make_dirs(&r) != 0 || load_and_report(&r, paper_report, NULL) != 0) {
        return 1;
    }
    if (!r.quiet) {
        fprintf(stderr, "%s: wrote %s/report.md from %u runs\n", r.prog, r.out, r.nruns * r.seeds);
    }
    return 0;
}
