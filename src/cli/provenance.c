/*
 * provenance.c - the version, configuration, run lengths and trace fingerprint every result
 * records (see provenance.h).
 *
 * The configuration is taken from sim_config_describe, the text `--print-config` prints, so it
 * holds exactly the keys a configuration file holds and loads back through sim_config_set: no
 * second list of keys to keep in step with src/sim/config.c.
 */
#include "provenance.h"

#include <errno.h>
#include <nettle/sha2.h>
#include <stdlib.h>
#include <string.h>

#include "handoff_version.h" /* generated at build time (cmake/version.cmake) */

const char *prov_version(void)
{
    return HANDOFF_VERSION;
}

int prov_sha256_file(const char *path, char hex[PROV_SHA256_HEX], char *why, size_t len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, len, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    unsigned char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        sha256_update(&ctx, n, buf);
    }
    int bad = ferror(f);
    int e = errno;
    fclose(f);
    if (bad) {
        snprintf(why, len, "%s: cannot read: %s", path, strerror(e));
        return -1;
    }
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256_digest(&ctx, sizeof digest, digest);
    for (size_t i = 0; i < sizeof digest; i++) {
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    }
    return 0;
}

/* Adds one "key = value  # doc" line of sim_config_describe to o; other lines are skipped. */
static void add_line(json_t *o, const char *line)
{
    const char *eq = strstr(line, " = ");
    if (line[0] == '#' || !eq) {
        return;
    }
    size_t klen = strcspn(line, " ");
    const char *v = eq + 3;
    /* A value never holds '#' (sim_config_set refuses it in a path), so the comment starts at
     * the first one. */
    const char *end = strchr(v, '#');
    if (!end) {
        end = v + strlen(v);
    }
    while (end > v && (end[-1] == ' ' || end[-1] == '\n')) {
        end--;
    }
    char key[64], value[SIM_CONFIG_PATH_MAX];
    snprintf(key, sizeof key, "%.*s", (int)klen, line);
    snprintf(value, sizeof value, "%.*s", (int)(end - v), v);
    json_object_set_new(o, key, json_string(value));
}

json_t *prov_config_json(const struct sim_config *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m) {
        return NULL;
    }
    sim_config_describe(c, m);
    if (fclose(m) != 0) {
        free(text);
        return NULL;
    }
    json_t *o = json_object();
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) {
            *next++ = '\0';
        }
        add_line(o, line);
    }
    free(text);
    return o;
}

int prov_config_from_json(json_t *o, struct sim_config *c, struct sim_config_err *err)
{
    const char *base = json_string_value(json_object_get(o, "base"));
    if (!json_is_object(o) || !base) {
        snprintf(err->msg, sizeof err->msg, "the configuration has no \"base\" shorthand");
        return -1;
    }
    sim_config_defaults(c);
    if (sim_config_shorthand(c, base, err) != 0) {
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        if (!strcmp(key, "base")) {
            continue;
        }
        if (!json_is_string(v)) {
            snprintf(err->msg, sizeof err->msg, "'%s': not a string", key);
            return -1;
        }
        if (sim_config_set(c, key, json_string_value(v), err) != 0) {
            return -1;
        }
    }
    return sim_config_check(c, err);
}

json_t *prov_run(const char *config_arg, const struct sim_config *c, const char *trace_sha256)
{
    char name[64];
    json_t *o = json_object();
    json_object_set_new(o, "config", json_string(config_arg));
    json_object_set_new(o, "shorthand", json_string(sim_config_name(c, name, sizeof name)));
    json_object_set_new(o, "seed", json_integer((json_int_t)c->seed));
    json_object_set_new(o, "version", json_string(prov_version()));
    json_object_set_new(o, "warmup_packets", json_integer((json_int_t)c->warmup_packets));
    json_object_set_new(o, "measure_packets", json_integer((json_int_t)c->measure_packets));
    json_object_set_new(o, "trace", c->trace_file[0] ? json_string(c->trace_file) : json_null());
    json_object_set_new(o, "trace_sha256", trace_sha256 ? json_string(trace_sha256) : json_null());
    json_t *conf = prov_config_json(c);
    json_object_set_new(o, "configuration", conf ? conf : json_null());
    return o;
}

void prov_copy(json_t *dst, const json_t *src)
{
    static const char *const keys[] = {"shorthand",       "version",      "warmup_packets",
                                       "measure_packets", "trace",        "trace_sha256",
                                       "trace_looped",    "configuration"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *v = json_object_get(src, keys[i]);
        if (v) {
            json_object_set(dst, keys[i], v);
        }
    }
}

#define CSV_TAG "# handoff-provenance "

void prov_csv_header(FILE *f, const json_t *prov)
{
    char *line = json_dumps(prov, JSON_COMPACT | JSON_SORT_KEYS);
    fprintf(f, CSV_TAG "%s\n", line ? line : "{}");
    free(line);
}

json_t *prov_csv_read(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        return NULL;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f);
    fclose(f);
    json_t *o = NULL;
    if (n > 0 && !strncmp(line, CSV_TAG, strlen(CSV_TAG))) {
        o = json_loads(line + strlen(CSV_TAG), 0, NULL);
    }
    free(line);
    return o;
}
