/*
 * repro.h - what the reproduction's parts share: the metrics' JSON form and their sanity check
 * (also used by `handoff run` and `handoff calibrate`), the time-series writer, and the report
 * writer (repro_report.c).
 */
#ifndef HANDOFF_CLI_REPRO_H
#define HANDOFF_CLI_REPRO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "handoff/sim_world.h"

#define REPRO_MAX_RUNS 256

/* The interval of the Figure 6 time series (DIR/timeseries/CONFIG.csv), simulated ns. */
#define REPRO_SAMPLE_NS 10000000ull

/* How a run's JSON is written (handoff run --json, DIR/runs/CONFIG-sSEED.json). */
#define REPRO_JSON_FLAGS (JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(9))

struct repro_run_view {
    const char *config;          /* shorthand */
    unsigned n;                  /* seeds that ran */
    const struct sim_metrics *m; /* their metrics, n of them */
    json_t *const *prov;         /* their runs' JSON (provenance and metrics), n of them */
};

struct repro_view {
    const char *prog; /* the command's name, which messages start with */
    const char *out;
    unsigned seeds;
    uint64_t warmup, measure; /* the runs' lengths, as their files record them */
    const char *version;      /* the version of handoff that made the runs */
    double wall_s;
    const char *incomplete; /* NULL; or, for a report of an interrupted run, which runs are
                             * missing (Markdown), said at the top of the report */
    struct repro_run_view runs[REPRO_MAX_RUNS];
    unsigned nruns;
};

/*
 * The NIC-cost sensitivity study (set "sensitivity"): the claims' configurations with handoff,
 * rerun with the NIC's own costs scaled by cost.nic_scale_pct.
 */
#define REPRO_NSCALES 2
/* The i-th scale in percent (150, 200). */
unsigned repro_scale_pct(unsigned i);
/* The i-th configuration of the study, or NULL past the end. */
const char *repro_sensitivity_config(unsigned i);

/*
 * "Beyond the paper" (set "beyond"): writes configuration i into buf (len bytes) and sets
 * *timeseries if the report reads its time series. Returns 1, or 0 when there is no
 * configuration i (they are numbered from 0 without gaps).
 */
int repro_beyond_config(unsigned i, char *buf, size_t len, bool *timeseries);
/* The run name of config with the NIC's own costs at pct percent: config itself for 100 % or
 * for a configuration without handoff (the scale changes nothing there). */
void repro_scaled_name(char *buf, size_t len, const char *config, unsigned pct);

/* The metrics of one run as a JSON object with the documented keys (caller owns it): results.json
 * adds each run's provenance (prov_copy). */
json_t *repro_metrics_json(const char *config, uint64_t seed, const struct sim_metrics *m,
                           double wall_s);
/*
 * Whether a finished run of configuration c measured something to report. A run whose measured
 * phase lasted no simulated time, or completed no request, has all-zero metrics that must never
 * pass for a result. Returns 0, or -1 with why filled: what was measured and how to measure more.
 */
int repro_metrics_check(const struct sim_metrics *m, const struct sim_config *c, char *why,
                        size_t len);
/* A run's whole JSON, as `handoff run --json` and DIR/runs/CONFIG-sSEED.json hold it: prov
 * (prov_run), the metrics, wall_seconds and trace_looped. The caller owns it. */
json_t *repro_run_json(json_t *prov, const struct sim_metrics *m, double wall_s, bool trace_looped);
/* The reverse of repro_metrics_json, for the keys present. */
void repro_metrics_from_json(const json_t *j, struct sim_metrics *m, double *wall_s);
/* A sim_sample_fn writing a CSV row to the FILE * given as ctx. */
void repro_write_sample(void *ctx, const struct sim_sample *s);
/* Writes report.md, results.json and the figures. Returns 0, or -1 after printing why. */
int repro_report(const struct repro_view *v);
/* The report of a user's own grid: results.json and a table of every metric of every
 * configuration (no paper to compare with). Returns 0, or -1 after printing why. */
int repro_grid_report(const struct repro_view *v);

#endif
