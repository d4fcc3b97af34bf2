/*
 * provenance.h - what every result of the handoff program records about how it was made: the
 * program's version, the complete configuration (every key `handoff run --print-config` prints,
 * the cost model's included), the seed, the run lengths and the trace with its SHA-256.
 *
 * A run's provenance is a JSON object (prov_run) that goes into its JSON (handoff run --json,
 * DIR/runs/CONFIG-sSEED.json, each element of DIR/results.json) and, as one comment line, at the
 * head of its time series (prov_csv_header). `handoff run --from FILE` rebuilds the run from it
 * (prov_config_from_json), and `handoff reproduce --resume` compares it to tell a finished run
 * from a stale one.
 */
#ifndef HANDOFF_CLI_PROVENANCE_H
#define HANDOFF_CLI_PROVENANCE_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "handoff/sim_config.h"

/* The program's version: `git describe --always --dirty` of its source tree when it was built,
 * or the project's version (0.1.0) when that was not a git checkout. */
const char *prov_version(void);

/* A SHA-256 digest as 64 lowercase hex digits. */
#define PROV_SHA256_HEX 65

/*
 * The SHA-256 of the file at path, into hex. Returns 0, or -1 with why filled
 * ("w.wc: cannot read: No such file or directory").
 */
int prov_sha256_file(const char *path, char hex[PROV_SHA256_HEX], char *why, size_t len);

/*
 * The complete configuration of c as a JSON object of strings: "base" and every key, each with
 * its value as a configuration file writes it (sim_config_describe). The caller owns it.
 */
json_t *prov_config_json(const struct sim_config *c);

/*
 * Rebuilds a configuration from prov_config_json's object: its base, then every key, then the
 * checks of sim_config_load. Returns 0, or -1 with err filled (a missing base, an unknown key,
 * a value out of range).
 */
int prov_config_from_json(json_t *o, struct sim_config *c, struct sim_config_err *err);

/*
 * The provenance of one run of c as a new JSON object: "config" (config_arg, the name that was
 * given: a shorthand or file, with any overrides), "shorthand", "seed", "version",
 * "warmup_packets", "measure_packets", "trace" (the trace's path or null), "trace_sha256" (hex,
 * or null without a trace; trace_sha256 is NULL then) and "configuration" (prov_config_json).
 */
json_t *prov_run(const char *config_arg, const struct sim_config *c, const char *trace_sha256);

/* Copies the keys prov_run sets beside config and seed, and trace_looped, those present in src,
 * into dst (results.json's elements from the runs' files). */
void prov_copy(json_t *dst, const json_t *src);

/* Writes prov as the first line of a CSV file: "# handoff-provenance " and the object as one
 * line of JSON (CSV readers skip it: pandas with comment='#', gnuplot by default). */
void prov_csv_header(FILE *f, const json_t *prov);

/* Reads that line back from the CSV file at path. Returns a new object, or NULL when the file
 * cannot be read or does not start with the line. */
json_t *prov_csv_read(const char *path);

#endif
