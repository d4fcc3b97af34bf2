/*
 * fuzz_config.c - libFuzzer entry point for the simulation configuration parser
 * (include/handoff/sim_config.h, src/sim/config.c).
 *
 * Build and run (from the repository root; `make fuzz` does this for every fuzz/fuzz_*.c):
 *   clang -fsanitize=fuzzer,address,undefined -Iinclude fuzz/fuzz_config.c src/sim/config.c \
 *       src/policy/?*.c src/util/?*.c -o fuzz_config
 *   ./fuzz_config -max_total_time=120 fuzz/corpus/config
 * (src/policy/?*.c is every .c file of src/policy: the selection policy's parser lives there.)
 * The seed corpus, valid files and the malformed cases of tests/sim/test_config.c, is written
 * by gen_corpus_config.c.
 *
 * sim_config_load takes a path, or a shorthand, either followed by ",key=value" overrides.
 * Each input is loaded three ways:
 *  - as the content of a file: a temporary file made once (mkstemp in /tmp), rewritten for
 *    every input and removed at exit;
 *  - when it is short and has no NUL byte, as the spec string itself (a shorthand with
 *    overrides), unless it names a file that exists (so the fuzzer never opens anything of the
 *    machine's, such as a device that would block);
 *  - under the same conditions, as overrides appended to a valid file: "FILE,INPUT".
 * Whatever the outcome, these must hold, and any violation aborts (a finding):
 *  - success leaves a configuration that sim_config_check accepts, and whose description
 *    (sim_config_describe) loads back from a file to the same configuration, described the
 *    same way;
 *  - failure leaves a non-empty, terminated message, which names the file when a file was
 *    loaded (the input's file, or the valid file the overrides were appended to).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handoff/sim_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_config: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_config: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);  \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Longest input also tried as a spec string (sim_config_load refuses 1024 bytes and more). */
#define SPEC_MAX 1100

/* The temporary files, made on the first input and removed at exit. The fuzzer's entry point
 * has no context argument, so these are the one place this program keeps state. */
struct tmpfiles {
    char input[64]; /* each input, as a file */
    char back[64];  /* a description, loaded back */
    char base[64];  /* a valid file that overrides are appended to */
};
static struct tmpfiles tmp;

static void remove_tmpfiles(void)
{
    unlink(tmp.input);
    unlink(tmp.back);
    unlink(tmp.base);
}

static void make_tmpfile(char *path, size_t cap)
{
    snprintf(path, cap, "/tmp/fuzz_config-XXXXXX");
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
}

static void write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK(size == 0 || fwrite(data, 1, size, f) == size);
    CHECK(fclose(f) == 0);
}

static void init_once(void)
{
    if (tmp.input[0]) {
        return;
    }
    make_tmpfile(tmp.input, sizeof tmp.input);
    make_tmpfile(tmp.back, sizeof tmp.back);
    make_tmpfile(tmp.base, sizeof tmp.base);
    atexit(remove_tmpfiles);
    static const char base[] = "base = I-256-P-L-T4-600\nnic.hiwat = 600\n";
    write_file(tmp.base, base, sizeof base - 1);
}

/* c's description (sim_config_describe), as a malloc'd string. */
static char *describe(const struct sim_config *c, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    CHECK(f != NULL);
    sim_config_describe(c, f);
    CHECK(fclose(f) == 0);
    return text;
}

/* What every successful load must give: a configuration that passes the check and whose
 * description loads back to the same configuration. */
static void check_loaded(const struct sim_config *c, const char *spec)
{
    struct sim_config_err e = {{0}};
    CHECK_MSG(sim_config_check(c, &e) == 0, "spec '%s': %s", spec, e.msg);
    size_t len;
    char *text = describe(c, &len);
    write_file(tmp.back, text, len);
    struct sim_config d;
    memset(&d, 0xa5, sizeof d);
    CHECK_MSG(sim_config_load(&d, tmp.back, &e) == 0, "the description of '%s' does not load: %s",
              spec, e.msg);
    size_t len2;
    char *again = describe(&d, &len2);
    CHECK_MSG(len == len2 && memcmp(text, again, len) == 0,
              "the description of '%s' loads back to another configuration:\n%s\n---\n%s", spec,
              text, again);
    /* The shorthand's fields, the workload and the trace are compared on their own too. */
    CHECK(c->workload == d.workload && c->nic_conns == d.nic_conns &&
          c->host_first == d.host_first && c->load_control == d.load_control &&
          c->selection.kind == d.selection.kind && c->nic_mips == d.nic_mips);
    CHECK(c->selection.kind != HO_SEL_THRESH || c->selection.threshold == d.selection.threshold);
    CHECK(strcmp(c->trace_file, d.trace_file) == 0);
    CHECK(sim_config_clients(c) == sim_config_clients(&d));
    free(again);
    free(text);
}

/* What every failed load must leave: a terminated, non-empty message naming `names` (if
 * not NULL). */
static void check_failed(const struct sim_config_err *e, const char *spec, const char *names)
{
    CHECK(memchr(e->msg, '\0', sizeof e->msg) != NULL);
    CHECK_MSG(e->msg[0] != '\0', "spec '%s': failure without a message", spec);
    if (names) {
        CHECK_MSG(strstr(e->msg, names) != NULL, "'%s' is not named in: %s", names, e->msg);
    }
}

static void load(const char *spec, const char *names)
{
    struct sim_config c;
    struct sim_config_err e;
    memset(&e, 0xa5, sizeof e);
    e.msg[sizeof e.msg - 1] = '\0';
    e.msg[0] = '\0';
    if (sim_config_load(&c, spec, &e) == 0) {
        check_loaded(&c, spec);
    } else {
        check_failed(&e, spec, names);
    }
}

/* True if the spec, or its part before the first comma, names something that exists. */
static bool names_a_file(const char *spec)
{
    if (access(spec, F_OK) == 0) {
        return true;
    }
    char buf[SPEC_MAX + 1];
    snprintf(buf, sizeof buf, "%s", spec);
    char *comma = strchr(buf, ',');
    if (comma) {
        *comma = '\0';
    }
    return access(buf, F_OK) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    write_file(tmp.input, data, size);
    load(tmp.input, tmp.input);

    if (size > SPEC_MAX || memchr(data, '\0', size)) {
        return 0;
    }
    char spec[SPEC_MAX + 1];
    memcpy(spec, data, size);
    spec[size] = '\0';
    if (!names_a_file(spec)) {
        load(spec, NULL);
    }
    char with_base[sizeof tmp.base + SPEC_MAX + 1];
    snprintf(with_base, sizeof with_base, "%s,%s", tmp.base, spec);
    load(with_base, tmp.base);
    return 0;
}
