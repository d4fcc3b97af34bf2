/*
 * cmd_emu.c - `handoff emu`: the firmware and the OS side on real packets (include/handoff/emu.h),
 * serving HTTP from a network namespace of their own to unmodified Linux clients.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "handoff/emu.h"
#include "handoff/sim_config.h"
#include "handoff/workload.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: handoff emu [CONFIG] [options]\n"
            "       handoff emu ls [--netns NAME]\n"
            "       handoff emu restore [--netns NAME] PEER_ADDR:PORT\n"
            "       handoff emu reset [--netns NAME]\n"
            "       handoff emu refuse [--netns NAME] on|off\n"
            "\n"
            "Runs the NIC firmware and the host's OS side with its web server on two threads,\n"
            "on real packets: a TAP device in a network namespace of its own is the wire, and\n"
            "clients in that namespace reach the server at ADDR:80, e.g.\n"
            "  ip netns exec handoff curl http://10.77.0.2/file_set/dir00000/class0_0\n"
            "It prints 'ready http://ADDR:PORT/ netns NAME' when clients may connect and runs\n"
            "until SIGINT or SIGTERM, then removes the namespace and the device. Needs root.\n"
            "\n"
            "CONFIG is the configuration of `handoff run` without the workload: a shorthand\n"
            "NIC_CONNS-PRIORITY-LOADCONTROL-SELECTION-MIPS (default 0-N-N-FCFS-0), or a file,\n"
            "either followed by ,key=value overrides. MIPS 0 runs the NIC unthrottled.\n"
            "The send ring is 4096 descriptors unless the configuration sets nic.tx_ring.\n"

            "\n"
            "options (a value follows as `--opt V` or `--opt=V`):\n"
            "  -n, --netns NAME     the namespace to create (default handoff); a stale one of\n"
            "                       that name, left by a run that crashed, is removed first\n"
            "  -a, --addr A.B.C.D   our address (default 10.77.0.2); the kernel's end of the\n"
            "                       device is .1 of its /24 (.2 if ours is .1)\n"
            "  -p, --port PORT      the server's port (default 80)\n"
            "  -d, --docroot DIR    serve the files under DIR; without it, a SPECweb99-like\n"
            "                       file set is generated for the run and removed after\n"
            "  -f, --files N        the generated set's size, in SPECweb99 connections (default\n"
            "                       1: 25 directories of 36 files, 128 MB)\n"
            "  -s, --stats FILE     write statistics as JSON lines every 100 ms (on a terminal,\n"
            "                       stderr also shows them live, redrawn in place)\n"
            "      --conn-log FILE  write one JSON line per connection the server accepted,\n"
            "                       when it closes (and at exit for those still open), as\n"
            "                       handoff run --conn-log does; times in ms since the start\n"
            "  -w, --pcap FILE      write every frame on the wire, both ways, to FILE (pcap,\n"
            "                       nanosecond timestamps; Wireshark and tshark read it)\n"
            "  -S, --snaplen N      keep the first N bytes of each captured frame (default 0:\n"
            "                       all; 128 keeps every header, as tcpdump -s 128)\n"
            "  -i, --idle-timeout S close a connection that has neither read nor sent a byte\n"
            "                       for S seconds (default 60; 0: never)\n"
            "      --host-cpu N     bind the host thread to processor N (default: any)\n"
            "      --nic-cpu N      bind the NIC thread to processor N (default: any); with\n"
            "                       the clients kept off the host's processor (taskset), the\n"
            "                       host thread's statistics count the host's work alone\n"
            "      --fault-reset-at S   reset the NIC's firmware S seconds after the ready\n"
            "                       line (e.g. 2 or 0.5); the host takes its connections back\n"
            "      --fault-refuse-at S  from S seconds after the ready line, the firmware\n"
            "                       refuses every handoff (docs/failures.md)\n"
            "      --fault-hang-at S    S seconds after the ready line the NIC hangs: it takes\n"
            "                       no frame, command or timer for --fault-hang-for seconds,\n"
            "                       unless the driver's watchdog resets it first (CONFIG's\n"
            "                       os.watchdog_ms, default 5000, FreeBSD ti(4)'s)\n"
            "      --fault-hang-for S   how long the hang lasts (default 10)\n"
            "      --fault-wire-drop-at S   S seconds after the ready line the wire dies:\n"
            "                       every frame, both ways, is lost for --fault-wire-drop-for\n"
            "                       seconds (default 1)\n"
            "  -h, --help           print this message\n"
            "\n"
            "A running emulator takes commands (see handoff emu ls --help): ls, restore,\n"
            "reset (the NIC's firmware, now), refuse on|off (handoffs, from now on), upload\n"
            "(the NIC gives every connection back) and reclaim (the host asks for them).\n"
            "\n"
            "Exit status: 0 stopped by SIGINT or SIGTERM; 1 the set-up or the run failed (not\n"
            "root, a namespace or file that cannot be made); 2 usage or configuration error.\n");
}

enum {
    OPT_HOST_CPU = 256,
    OPT_NIC_CPU,
    OPT_FAULT_RESET,
    OPT_FAULT_REFUSE,
    OPT_FAULT_HANG,
    OPT_FAULT_HANG_FOR,
    OPT_FAULT_WIRE,
    OPT_FAULT_WIRE_FOR,
    OPT_CONN_LOG
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static int parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    uint64_t v;
    if (cli_parse_uint(s, lo, hi, &v) != 0) {
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

/* Seconds as a plain decimal with at most nine places ("2", "0.5", "1.25"), at most a day, in
 * ns. Returns 0 and *out, or -1 leaving *out alone. */
static int parse_seconds(const char *s, uint64_t *out)
{
    size_t whole = strspn(s, "0123456789");
    size_t frac = s[whole] == '.' ? strspn(s + whole + 1, "0123456789") : 0;
    size_t len = whole + (s[whole] == '.' ? 1 + frac : 0);
    if ((whole == 0 && frac == 0) || s[len] != 0 || whole > 5 || frac > 9) {
        return -1;
    }
    uint64_t ns = 0;
    for (size_t i = 0; i < whole; i++) {
        ns = ns * 10 + (uint64_t)(s[i] - '0');
    }
    ns *= 1000000000u;
    uint64_t scale = 100000000u;
    for (size_t i = 0; i < frac; i++, scale /= 10) {
        ns += (uint64_t)(s[whole + 1 + i] - '0') * scale;
    }
    if (ns > 86400u * UINT64_C(1000000000)) {
        return -1;
    }
    *out = ns;
    return 0;
}

static int parse_ipv4(const char *s, uint32_t *out)
{
    unsigned a, b, c, d;
    char extra;
    if (sscanf(s, "%u.%u.%u.%u%c", &a, &b, &c, &d, &extra) != 4 || a > 255 || b > 255 || c > 255 ||
        d > 255 || d == 0 || d == 255) {
        return -1;
    }
    *out = (a << 24) | (b << 16) | (c << 8) | d;
    return 0;
}

/* The emulator's send ring, unless the configuration sets nic.tx_ring: the simulator's 512
 * (FreeBSD 4.7's ti(4)) overflows when a thousand clients ask at once, and each connection whose
 * packet the full interface queue refused waits for a retransmission timeout. */
#define EMU_TX_RING 4096u

/* Whether the configuration spec (overrides, or the file it names) sets key. */
static bool mentions(const char *spec, const char *key)
{
    if (strstr(spec, key)) {
        return true;
    }
    char path[1024];
    snprintf(path, sizeof path, "%.*s", (int)strcspn(spec, ","), spec);
    FILE *f = fopen(path, "r");
    if (!f) {
        f = fopen(spec, "r"); /* a file whose name holds a comma */
    }
    bool found = false;
    char line[1024];
    while (f && !found && fgets(line, sizeof line, f)) {
        const char *s = line + strspn(line, " \t");
        found = strncmp(s, key, strlen(key)) == 0;
    }
    if (f) {
        fclose(f);
    }
    return found;
}

/*
 * The configuration: the shorthand takes the simulator's, with W in front for the workload it
 * does not use; a MIPS field of 0 (which the simulator has no use for) means unthrottled.
 */
static int load_config(const char *spec, struct sim_config *c, uint32_t *mips, char *why,
                       size_t len)
{
    char buf[1024];
    const char *comma = strchr(spec, ',');
    size_t head = comma ? (size_t)(comma - spec) : strlen(spec);
    bool shorthand = head > 0 && spec[0] >= '0' && spec[0] <= '9' && access(spec, F_OK) != 0;
    bool unthrottled = false;
    if (shorthand) {
        unthrottled = head >= 2 && spec[head - 1] == '0' && spec[head - 2] == '-';
        snprintf(buf, sizeof buf, "W-%.*s%s%s", (int)(head - (unthrottled ? 1 : 0)), spec,
                 unthrottled ? "400" : "", comma ? comma : "");
    } else {
        snprintf(buf, sizeof buf, "%s", spec);
    }
    struct sim_config_err e = {{0}};
    if (sim_config_load(c, buf, &e) != 0) {
        snprintf(why, len, "%s", e.msg);
        return -1;
    }
    *mips = unthrottled ? 0 : c->nic_mips;
    if (!mentions(spec, "nic.tx_ring")) {
        c->tx_ring = EMU_TX_RING;
    }
    return 0;
}

/* `handoff emu ls`, `restore ADDR:PORT`, `reset`, `refuse on|off`, `upload` and `reclaim`:
 * commands to a running emulator. */
static int control(int argc, char **argv)
{
    const char *what = argv[0];
    static const struct option opts[] = {
        {"netns", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *netns = "handoff";
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":n:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'n':
            netns = optarg;
            break;
        case 'h':
            printf("usage: handoff emu ls [--netns NAME]\n"
                   "       handoff emu restore [--netns NAME] PEER_ADDR:PORT\n"
                   "       handoff emu reset [--netns NAME]\n"
                   "       handoff emu refuse [--netns NAME] on|off\n"
                   "       handoff emu upload [--netns NAME]\n"
                   "       handoff emu reclaim [--netns NAME]\n"
                   "\n"
                   "ls lists the connections of the emulator running with that namespace\n"
                   "(default handoff): where each lives (host, to-nic, nic, to-host), for how\n"
                   "long, the bytes read from it and sent on it, and how often it moved.\n"
                   "restore asks the NIC to give the connection from that peer back to the host.\n"
                   "reset resets the NIC's firmware, as after a crash: it forgets every\n"
                   "connection, and the host takes them back (docs/failures.md); it answers once\n"
                   "the firmware has started again. refuse on makes the firmware refuse every\n"
                   "handoff (new connections stay on the host), refuse off takes them again.\n"
                   "upload makes the NIC give every connection it holds back to the host\n"
                   "unasked, as a Chimney offload target uploads them; reclaim makes the host ask\n"
                   "for every connection back, as before a firmware update.\n"
                   "\n"
                   "options:\n"
                   "  -n, --netns NAME  the namespace the emulator runs with (default handoff)\n"
                   "  -h, --help        print this message\n"
                   "\n"
                   "Exit status: 0 done, 1 no emulator answers or it refused, 2 usage error.\n");
            return 0;
        default: {
            char prog[32];
            snprintf(prog, sizeof prog, "handoff emu %s", what);
            return cli_opt_error(prog, ch, argv, opts);
        }
        }
    }
    char cmd[128];
    if (!strcmp(what, "ls") || !strcmp(what, "reset") || !strcmp(what, "upload") ||
        !strcmp(what, "reclaim")) {
        if (optind != argc) {
            fprintf(stderr, "handoff emu %s: unexpected argument '%s'\n", what, argv[optind]);
            return 2;
        }
        snprintf(cmd, sizeof cmd, "%s", what);
    } else if (!strcmp(what, "refuse")) {
        if (optind + 1 != argc || (strcmp(argv[optind], "on") && strcmp(argv[optind], "off"))) {
            fprintf(stderr, "handoff emu refuse: wants on or off (see --help)\n");
            return 2;
        }
        snprintf(cmd, sizeof cmd, "refuse %s", argv[optind]);
    } else {
        if (optind + 1 != argc || strlen(argv[optind]) > 64) {
            fprintf(stderr, "handoff emu restore: wants one PEER_ADDR:PORT (see --help)\n");
            return 2;
        }
        snprintf(cmd, sizeof cmd, "restore %s", argv[optind]);
    }
    char err[512];
    if (ho_emu_ctl(netns, cmd, stdout, err, sizeof err) != 0) {
        fprintf(stderr, "handoff emu %s: %s\n", what, err);
        return 1;
    }
    return 0;
}

int cli_emu(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "ls") || !strcmp(argv[1], "restore") ||
                     !strcmp(argv[1], "reset") || !strcmp(argv[1], "refuse") ||
                     !strcmp(argv[1], "upload") || !strcmp(argv[1], "reclaim"))) {
        return control(argc - 1, argv + 1);
    }
    static const struct option opts[] = {
        {"netns", required_argument, NULL, 'n'},
        {"addr", required_argument, NULL, 'a'},
        {"port", required_argument, NULL, 'p'},
        {"docroot", required_argument, NULL, 'd'},
        {"files", required_argument, NULL, 'f'},
        {"stats", required_argument, NULL, 's'},
        {"conn-log", required_argument, NULL, OPT_CONN_LOG},
        {"idle-timeout", required_argument, NULL, 'i'},
        {"pcap", required_argument, NULL, 'w'},
        {"snaplen", required_argument, NULL, 'S'},
        {"host-cpu", required_argument, NULL, OPT_HOST_CPU},
        {"nic-cpu", required_argument, NULL, OPT_NIC_CPU},
        {"fault-reset-at", required_argument, NULL, OPT_FAULT_RESET},
        {"fault-refuse-at", required_argument, NULL, OPT_FAULT_REFUSE},
        {"fault-hang-at", required_argument, NULL, OPT_FAULT_HANG},
        {"fault-hang-for", required_argument, NULL, OPT_FAULT_HANG_FOR},
        {"fault-wire-drop-at", required_argument, NULL, OPT_FAULT_WIRE},
        {"fault-wire-drop-for", required_argument, NULL, OPT_FAULT_WIRE_FOR},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct ho_emu_params p;
    ho_emu_params_init(&p);
    optind = 1;
    opterr = 0;
    int ch;
    uint32_t v;
    while ((ch = getopt_long(argc, argv, ":n:a:p:d:f:s:i:w:S:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'n':
            p.netns = optarg;
            break;
        case 'a':
            if (parse_ipv4(optarg, &p.addr) != 0) {
                fprintf(stderr, "handoff emu: --addr wants a host address A.B.C.D, not '%s'\n",
                        optarg);
                return 2;
            }
            break;
        case 'p':
            if (parse_u32(optarg, 1, 65535, &v) != 0) {
                fprintf(stderr, "handoff emu: --port wants a number from 1 to 65535, not '%s'\n",
                        optarg);
                return 2;
            }
            p.port = (uint16_t)v;
            break;
        case 'd':
            p.docroot = optarg;
            break;
        case 'f':
            if (parse_u32(optarg, 1, HO_FILESET_MAX_CONNECTIONS, &v) != 0) {
                fprintf(stderr, "handoff emu: --files wants a number from 1 to %u, not '%s'\n",
                        HO_FILESET_MAX_CONNECTIONS, optarg);
                return 2;
            }
            p.fileset_conns = v;
            break;
        case 's':
            p.stats_path = optarg;
            break;
        case OPT_CONN_LOG:
            p.conn_log_path = optarg;
            break;
        case 'w':
            p.pcap_path = optarg;
            break;
        case 'S':
            if (parse_u32(optarg, 0, 65535, &v) != 0 || (v > 0 && v < 54)) {
                fprintf(stderr,
                        "handoff emu: --snaplen wants 0 (whole frames) or 54 to 65535 bytes, "
                        "not '%s'\n",
                        optarg);
                return 2;
            }
            p.snaplen = v;
            break;
        case OPT_HOST_CPU:
        case OPT_NIC_CPU:
            if (parse_u32(optarg, 0, 1023, &v) != 0) {
                fprintf(stderr, "handoff emu: --%s wants a processor number, not '%s'\n",
                        ch == OPT_HOST_CPU ? "host-cpu" : "nic-cpu", optarg);
                return 2;
            }
            *(ch == OPT_HOST_CPU ? &p.host_cpu : &p.nic_cpu) = (int)v;
            break;
        case OPT_FAULT_HANG:
        case OPT_FAULT_HANG_FOR:
        case OPT_FAULT_WIRE:
        case OPT_FAULT_WIRE_FOR: {
            static const struct {
                int opt;
                const char *name;
                bool length; /* a duration, more than 0 */
            } faults[] = {{OPT_FAULT_HANG, "fault-hang-at", false},
                          {OPT_FAULT_HANG_FOR, "fault-hang-for", true},
                          {OPT_FAULT_WIRE, "fault-wire-drop-at", false},
                          {OPT_FAULT_WIRE_FOR, "fault-wire-drop-for", true}};
            uint64_t *dst[] = {&p.fault_hang_at_ns, &p.fault_hang_ns, &p.fault_wire_drop_at_ns,
                               &p.fault_wire_drop_ns};
            size_t k = 0;
            while (faults[k].opt != ch) {
                k++;
            }
            if (parse_seconds(optarg, dst[k]) != 0 || (faults[k].length && *dst[k] == 0)) {
                fprintf(stderr,
                        "handoff emu: --%s wants seconds, from %s to 86400 with at most 9 "
                        "decimals (e.g. 2 or 0.5), not '%s'\n",
                        faults[k].name, faults[k].length ? "more than 0" : "0", optarg);
                return 2;
            }
            break;
        }
        case OPT_FAULT_RESET:
        case OPT_FAULT_REFUSE:
            if (parse_seconds(optarg, ch == OPT_FAULT_RESET ? &p.fault_reset_at_ns
                                                            : &p.fault_refuse_at_ns) != 0) {
                fprintf(stderr,
                        "handoff emu: --%s wants seconds after the ready line, from 0 to 86400 "
                        "with at most 9 decimals (e.g. 2 or 0.5), not '%s'\n",
                        ch == OPT_FAULT_RESET ? "fault-reset-at" : "fault-refuse-at", optarg);
                return 2;
            }
            break;
        case 'i':
            if (parse_u32(optarg, 0, 86400, &v) != 0) {
                fprintf(stderr,
                        "handoff emu: --idle-timeout wants seconds from 0 to 86400, not '%s'\n",
                        optarg);
                return 2;
            }
            p.idle_s = v;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            return cli_opt_error("handoff emu", ch, argv, opts);
        }
    }
    const char *spec = "0-N-N-FCFS-0";
    if (optind < argc) {
        spec = argv[optind++];
    }
    if (optind < argc) {
        fprintf(stderr, "handoff emu: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    struct sim_config c;
    char why[600];
    if (load_config(spec, &c, &p.mips, why, sizeof why) != 0) {
        fprintf(stderr, "handoff emu: %s\n", why);
        return 2;
    }
    sim_config_nic_params(&c, &p.nic);
    sim_config_os_params(&c, 1u << 16, &p.os);
    p.os.somaxconn = 0; /* Linux's listen queue, not FreeBSD 4.7's 128: wrk opens thousands */
    p.app_costs = c.costs.app;
    p.label = spec;
    const char *term = getenv("TERM");
    if (isatty(STDERR_FILENO) && term && strcmp(term, "dumb") != 0) {
        p.live = stderr; /* a view like top's, redrawn in place */
    }
    p.seed = c.seed;
    if (geteuid() != 0) {
        fprintf(stderr, "handoff emu: needs root (it creates a network namespace and a TAP "
                        "device)\n");
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    char err[512] = "";
    if (ho_emu_run(&p, &stop_flag, stdout, stderr, err, sizeof err) != 0) {
        fprintf(stderr, "handoff emu: %s\n", err);
        return 1;
    }
    return 0;
}
