/*
 * gen_corpus_config.c - writes the seed corpus of fuzz_config.c, one file each: full
 * configuration files as `handoff run --print-config SHORTHAND` writes them (the parser's own
 * sim_config_describe), short hand-written files, shorthands with overrides (which the fuzzer
 * also tries as spec strings), and the malformed cases of tests/sim/test_config.c.
 *
 *   cc -Iinclude fuzz/gen_corpus_config.c src/sim/config.c src/policy/?*.c src/util/?*.c \
 *       -o gen_corpus_config
 *   ./gen_corpus_config fuzz/corpus/config
 *
 * (src/policy/?*.c is every .c file of src/policy.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/sim_config.h"

static int write_file(const char *dir, const char *name, const char *text, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(text, 1, len, f) != len) {
        fprintf(stderr, "gen_corpus_config: cannot write %s\n", path);
        if (f) {
            fclose(f);
        }
        return 1;
    }
    return fclose(f) != 0;
}

/* The --print-config output of a shorthand with overrides. */
static int write_described(const char *dir, const char *name, const char *spec)
{
    struct sim_config c;
    struct sim_config_err e;
    if (sim_config_load(&c, spec, &e) != 0) {
        fprintf(stderr, "gen_corpus_config: %s\n", e.msg);
        return 1;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        return 1;
    }
    sim_config_describe(&c, f);
    fclose(f);
    int err = write_file(dir, name, text, len);
    free(text);
    return err;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_corpus_config DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    int err = 0;
    err |= write_described(dir, "print_w4096", "W-4096-P-L-FCFS-400");
    err |= write_described(dir, "print_i256", "I-256-P-L-T20-600,run.trace=traces/ibm.log");
    err |= write_described(dir, "print_s0", "S-0-N-N-FCFS-800,run.clients=100,run.seed=7");

    /* Short files and spec strings; the name says which. */
    static const struct {
        const char *name, *text;
    } seeds[] = {
        {"file_overrides", "# an experiment\r\n"
                           "nic.hiwat = 900   # tighter\r\n"
                           "\r\n"
                           "base = I-1024-P-N-T4-600\r\n"
                           "run.seed=42\r\n"
                           "nic.load_control = true\r\n"
                           "os.selection = T8"},
        {"file_costs", "base = D-2048-P-L-T16-800\n"
                       "cost.nic_scale_pct = 200\n"
                       "cost.host_rx_pkt = 0\n"
                       "os.selection = NEVER\n"
                       "run.trace =\n"},
        {"spec_shorthand", "W-4096-P-L-FCFS-400"},
        {"spec_overrides", "W-1024-P-N-FCFS-400,nic.hiwat=900, run.seed = 2,cost.nic_tcp_rx=3000"},
        {"spec_last_wins", "W-0-N-N-FCFS-400,nic.lowat=1,nic.hiwat=9,nic.hiwat=10"},
        {"spec_trace", "I-256-P-L-T4-600,run.trace=/data/wc98/day38.bin,os.selection=NEVER"},
        /* tests/sim/test_config.c: malformed shorthands */
        {"bad_short_fields", "W-4096-P-L-FCFS"},
        {"bad_short_never", "W-4096-P-L-NEVER-400"},
        {"bad_short_big", "W-99999999999-P-L-FCFS-400"},
        {"bad_short_dash", "W-4096-P-L-FCFS--400"},
        /* tests/sim/test_config.c: malformed files */
        {"bad_empty", ""},
        {"bad_no_base", "# only a comment\n"},
        {"bad_unknown_key", "base = W-0-N-N-FCFS-400\nnic.hiwatt = 3\n"},
        {"bad_no_equals", "base = W-0-N-N-FCFS-400\nnic.hiwat 3\n"},
        {"bad_no_value", "base = W-0-N-N-FCFS-400\nnic.hiwat =\n"},
        {"bad_negative", "base = W-0-N-N-FCFS-400\nnic.hiwat = -3\n"},
        {"bad_hex", "base = W-0-N-N-FCFS-400\nnic.hiwat = 0x10\n"},
        {"bad_u64", "base = W-0-N-N-FCFS-400\nrun.seed = 99999999999999999999999\n"},
        {"bad_u32", "base = W-0-N-N-FCFS-400\nnic.hiwat = 4294967296\n"},
        {"bad_bool", "base = W-0-N-N-FCFS-400\nnic.load_control = maybe\n"},
        {"bad_twice", "base = W-0-N-N-FCFS-400\n\nnic.hiwat = 5\nnic.hiwat = 6\n"},
        {"bad_base_twice", "base = W-0-N-N-FCFS-400\nbase = W-1-N-N-FCFS-400\n"},
        {"bad_workload", "base = Q-0-N-N-FCFS-400\n"},
        {"bad_lowat", "base = W-0-N-N-FCFS-400\nnic.lowat = 2000\n"},
        {"bad_selection", "base = W-0-N-N-FCFS-400\nos.selection = T0\n"},
        {"bad_ways", "base = W-0-N-N-FCFS-400\nhost.l2_ways = 3\n"},
        /* tests/sim/test_config.c: malformed overrides */
        {"bad_override_novalue", "W-0-N-N-FCFS-400,nic.hiwat"},
        {"bad_override_empty", "W-0-N-N-FCFS-400,"},
        {"bad_override_scale", "W-0-N-N-FCFS-400,cost.nic_scale_pct=0"},
        {"bad_override_lowat", "W-0-N-N-FCFS-400,nic.lowat=2000"},
    };
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        err |= write_file(dir, seeds[i].name, seeds[i].text, strlen(seeds[i].text));
    }
    /* A NUL byte in a file (tests/sim/test_config.c). */
    static const char nul[] = "base = W-0-N-N-FCFS-400\nnic.hi\0wat = 3\n";
    err |= write_file(dir, "bad_nul", nul, sizeof nul - 1);
    return err;
}
