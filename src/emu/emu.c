/*
 * emu.c - the emulator's life: setting up the namespace and the device (emu_net.c), the
 * document root, the PCI rings and the two threads (emu_nic.c, emu_host.c); the statistics the
 * main thread writes while they run, the faults it asks of the NIC thread at the times
 * --fault-reset-at and --fault-refuse-at give, and its lines telling each fault; and taking all
 * of it down again (emu.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <sched.h>
#include <stddef.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "emu_net.h"
#include "emu_priv.h"
#include "handoff/err.h"
#include "handoff/workload.h"

uint64_t emu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- packets -------------------------------------------------------------------------------- */

struct ho_pkt *emu_pkt_new(const struct tcpe_seg *seg)
{
    if (seg->len > EMU_FRAME_MAX) {
        return NULL;
    }
    struct emu_pkt *p = malloc(sizeof *p);
    if (!p) {
        return NULL;
    }
    p->pkt = (struct ho_pkt){.seg = *seg};
    p->pkt.seg.data = NULL;
    if (seg->len > 0 && seg->data) {
        memcpy(p->data, seg->data, seg->len);
        p->pkt.seg.data = p->data;
    }
    int fl = tcpe_wire_eth_len(seg);
    p->pkt.frame_bytes = fl > 0 ? (uint32_t)fl : 0;
    return &p->pkt;
}

/* ---- host receive buffers ----------------------------------------------------------------- */

uint8_t *emu_placed_new(struct emu *e, uint32_t len)
{
    struct emu_placed *b = malloc(sizeof *b + len);
    if (!b) {
        return NULL;
    }
    b->len = len;
    pthread_mutex_lock(&e->placed_lock);
    b->next = e->placed.next;
    b->prev = &e->placed;
    e->placed.next->prev = b;
    e->placed.next = b;
    pthread_mutex_unlock(&e->placed_lock);
    return b->data;
}

void emu_placed_take(struct emu *e, uint8_t *data, uint8_t *dst, uint32_t len)
{
    struct emu_placed *b = (struct emu_placed *)(void *)(data - offsetof(struct emu_placed, data));
    memcpy(dst, b->data, len < b->len ? len : b->len);
    pthread_mutex_lock(&e->placed_lock);
    b->prev->next = b->next;
    b->next->prev = b->prev;
    pthread_mutex_unlock(&e->placed_lock);
    free(b);
}

void emu_placed_free_all(struct emu *e)
{
    while (e->placed.next != &e->placed) {
        struct emu_placed *b = e->placed.next;
        e->placed.next = b->next;
        free(b);
    }
    e->placed.prev = &e->placed;
}

/* ---- the PCI bus -------------------------------------------------------------------------- */

void emu_entry_free(const struct emu_entry *en)
{
    free(en->ptr); /* a packet (its header starts its struct emu_pkt) or a message */
}

static void ring_doorbell(struct emu_bus *b)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load(&b->sleeping)) {
        uint64_t one = 1;
        (void)!write(b->doorbell, &one, sizeof one);
    }
}

uint32_t emu_bus_flush(struct emu_bus *b)
{
    uint32_t moved = 0;
    while (b->over_len > 0 && emu_ring_push(&b->ring, &b->over[b->over_head]) == HO_OK) {
        b->over_head = (b->over_head + 1) % b->over_cap;
        b->over_len--;
        moved++;
    }
    if (moved > 0 || b->bell) {
        b->bell = false;
        ring_doorbell(b); /* one system call at most for everything pushed since the last */
    }
    return b->over_len;
}

int emu_bus_push(struct emu_bus *b, const struct emu_entry *e)
{
    if (!b->bell) {
        b->bell_since = emu_now();
        b->bell_count = 0;
    }
    b->bell_count++;
    if (b->over_len == 0 && emu_ring_push(&b->ring, e) == HO_OK) {
        b->bell = true; /* rung by the next emu_bus_flush */
        return HO_OK;
    }
    if (b->over_len == b->over_cap) {
        uint32_t cap = b->over_cap ? 2 * b->over_cap : 4096;
        struct emu_entry *q = malloc((size_t)cap * sizeof *q);
        if (!q) {
            return HO_ENOMEM;
        }
        for (uint32_t i = 0; i < b->over_len; i++) {
            q[i] = b->over[(b->over_head + i) % b->over_cap];
        }
        free(b->over);
        b->over = q;
        b->over_head = 0;
        b->over_cap = cap;
    }
    b->over[(b->over_head + b->over_len++) % b->over_cap] = *e;
    b->overflows++;
    b->bell = true;
    return HO_OK;
}

uint32_t emu_bus_flush_moderated(struct emu_bus *b, uint64_t now, uint32_t max_entries,
                                 uint64_t max_ns, uint64_t *due)
{
    *due = UINT64_MAX;
    if (b->bell && atomic_load(&b->sleeping) && b->over_len == 0 && b->bell_count < max_entries &&
        now < b->bell_since + max_ns) {
        *due = b->bell_since + max_ns; /* let the batch gather */
        return 0;
    }
    return emu_bus_flush(b);
}

bool emu_bus_may_sleep(struct emu_bus *b)
{
    atomic_store(&b->sleeping, 1);
    atomic_thread_fence(memory_order_seq_cst);
    if (emu_ring_len(&b->ring) > 0) {
        atomic_store(&b->sleeping, 0);
        return false;
    }
    return true;
}

void emu_bus_woke(struct emu_bus *b)
{
    atomic_store(&b->sleeping, 0);
    uint64_t v;
    (void)!read(b->doorbell, &v, sizeof v);
}

static int bus_init(struct emu_bus *b)
{
    b->doorbell = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (b->doorbell < 0) {
        return HO_ENOSPC;
    }
    return emu_ring_init(&b->ring, sizeof(struct emu_entry), EMU_RING_CAP);
}

static void bus_fini(struct emu_bus *b)
{
    struct emu_entry en;
    while (emu_ring_pop(&b->ring, &en) == HO_OK) {
        emu_entry_free(&en);
    }
    for (; b->over_len > 0; b->over_len--) {
        emu_entry_free(&b->over[b->over_head]);
        b->over_head = (b->over_head + 1) % b->over_cap;
    }
    free(b->over);
    emu_ring_fini(&b->ring);
    if (b->doorbell >= 0) {
        close(b->doorbell);
    }
}

/* ---- the generated document root ---------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    return (type == FTW_DP ? rmdir(path) : unlink(path)) == 0 ? 0 : -1;
}

static void rm_tree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

struct gen_progress {
    FILE *log;
    int last_pct;
};

static void gen_progress(void *ctx, uint64_t done, uint64_t total)
{
    struct gen_progress *g = ctx;
    int pct = total ? (int)(done * 100 / total) : 100;
    if (g->log && (pct >= g->last_pct + 10 || done == total)) {
        fprintf(g->log, "handoff emu: file set %d %% (%llu of %llu bytes)\n", pct,
                (unsigned long long)done, (unsigned long long)total);
        g->last_pct = pct;
    }
}

/* ---- parameters --------------------------------------------------------------------------- */

void ho_emu_params_init(struct ho_emu_params *p)
{
    memset(p, 0, sizeof *p);
    p->netns = "handoff";
    p->addr = 0x0a4d0002u; /* 10.77.0.2 */
    p->port = 80;
    p->fileset_conns = 1;
    p->stats_ms = 100;
    p->seed = 1;
    p->idle_s = 60;
    p->host_cpu = p->nic_cpu = -1;
    p->fault_reset_at_ns = p->fault_refuse_at_ns = p->fault_hang_at_ns = HO_EMU_NEVER;
    p->fault_wire_drop_at_ns = HO_EMU_NEVER;
    p->fault_hang_ns = 10000000000u;     /* 10 s */
    p->fault_wire_drop_ns = 1000000000u; /* 1 s */
}

/* Whether cpu is -1 (any) or a processor this process may run on. */
static bool cpu_usable(int cpu)
{
    cpu_set_t set;
    return cpu == -1 || (cpu >= 0 && cpu < CPU_SETSIZE &&
                         sched_getaffinity(0, sizeof set, &set) == 0 && CPU_ISSET(cpu, &set));
}

/* Binds a thread to one processor, unless cpu is -1. */
static int bind_thread(pthread_t th, int cpu)
{
    if (cpu < 0) {
        return 0;
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(th, sizeof set, &set);
}

/* ---- statistics --------------------------------------------------------------------------- */

/* On a terminal, a view in the manner of top(1), redrawn in place (stderr). */
static void live_view(struct emu *e, double t, double dt_ns, const struct emu_nic_stats *ns,
                      const struct emu_nic_stats *ln, const struct emu_host_stats *hs,
                      const struct emu_host_stats *lh, double nic_busy, double host_busy)
{
    double per_s = dt_ns > 0 ? 1e9 / dt_ns : 0;
    FILE *f = e->tty;
    if (e->tty_lines > 0) {
        fprintf(f, "\033[%dA\033[J", e->tty_lines); /* back to the view's first line */
    }
    fprintf(f,
            "handoff emu %s   netns %s   up %.1f s\n"
            "  connections  host %u   NIC %u   Soft limit %u of %u   handoffs %llu   restores "
            "%llu\n"
            "  requests     %llu   %.0f/s   %.1f Mb/s of bodies\n"
            "  wire         in %.0f frames/s   out %.0f frames/s   dropped %llu\n"
            "  NIC          busy %5.1f %%   Qlen %u   receive-memory drops %llu\n"
            "  host         busy %5.1f %%   interface-queue drops %llu   retransmits %llu\n",
            e->p.label ? e->p.label : "", e->p.netns, t, hs->conns_host, hs->conns_nic,
            ns->soft_limit, ns->hard_limit, (unsigned long long)hs->handoffs,
            (unsigned long long)hs->restores, (unsigned long long)hs->requests,
            (double)(hs->requests - lh->requests) * per_s,
            (double)(hs->body_bytes - lh->body_bytes) * 8 * per_s / 1e6,
            (double)(ns->rx_frames - ln->rx_frames) * per_s,
            (double)(ns->tx_frames - ln->tx_frames) * per_s, (unsigned long long)ns->wire_drops,
            nic_busy, ns->qlen, (unsigned long long)ns->rx_drops, host_busy,
            (unsigned long long)hs->ifq_drops, (unsigned long long)hs->rexmits);
    e->tty_lines = 6;
    if (ns->boot > 1 || hs->nic_resets > 0 || ns->refusing) {
        fprintf(f,
                "  faults       NIC resets %u   FW_UPs taken %llu   connections taken back %llu, "
                "reset %llu%s\n",
                ns->boot - 1, (unsigned long long)hs->nic_resets,
                (unsigned long long)hs->conns_recovered, (unsigned long long)hs->conns_reset,
                ns->refusing ? "   refusing handoffs" : "");
        e->tty_lines++;
    }
    fflush(f);
}

static void write_stats(struct emu *e, FILE *f, uint64_t t0, uint64_t now, uint64_t *last_t,
                        struct emu_nic_stats *last_nic, struct emu_host_stats *last_host)
{
    pthread_mutex_lock(&e->lock);
    struct emu_nic_stats ns = e->nic_stats;
    struct emu_host_stats hs = e->host_stats;
    pthread_mutex_unlock(&e->lock);
    double dt = (double)(now - *last_t);
    double nic_busy = dt > 0 ? 100.0 * (double)(ns.busy_ns - last_nic->busy_ns) / dt : 0;
    double host_busy = dt > 0 ? 100.0 * (double)(hs.cpu_ns - last_host->cpu_ns) / dt : 0;
    double host_work = dt > 0 ? 100.0 * (double)(hs.work_ns - last_host->work_ns) / dt : 0;
    if (f) {
        fprintf(f,
                "{\"t\":%.3f,\"conns_host\":%u,\"conns_nic\":%u,\"handoffs\":%llu,"
                "\"restores\":%llu,\"soft_limit\":%u,\"hard_limit\":%u,\"qlen\":%u,"
                "\"nic_rx_drops\":%llu,\"requests\":%llu,\"nic_busy_pct\":%.1f,"
                "\"host_busy_pct\":%.1f,\"host_work_pct\":%.1f,\"wire_rx\":%llu,\"wire_tx\":%llu,"
                "\"wire_drops\":%llu,\"host_ifq_drops\":%llu,\"host_rexmits\":%llu,"
                "\"nic_boot\":%u,\"nic_resets\":%llu,\"conns_recovered\":%llu,"
                "\"conns_reset\":%llu,\"nic_hangs\":%llu,\"watchdog_resets\":%llu,"
                "\"wire_lost\":%llu,\"shed\":%llu}\n",
                (double)(now - t0) / 1e9, hs.conns_host, hs.conns_nic,
                (unsigned long long)hs.handoffs, (unsigned long long)hs.restores, ns.soft_limit,
                ns.hard_limit, ns.qlen, (unsigned long long)ns.rx_drops,
                (unsigned long long)hs.requests, nic_busy, host_busy, host_work,
                (unsigned long long)ns.rx_frames, (unsigned long long)ns.tx_frames,
                (unsigned long long)ns.wire_drops, (unsigned long long)hs.ifq_drops,
                (unsigned long long)hs.rexmits, ns.boot, (unsigned long long)hs.nic_resets,
                (unsigned long long)hs.conns_recovered, (unsigned long long)hs.conns_reset,
                (unsigned long long)ns.hangs, (unsigned long long)hs.watchdog_resets,
                (unsigned long long)ns.wire_lost, (unsigned long long)ns.shed);
        fflush(f);
    }
    if (e->tty) {
        live_view(e, (double)(now - t0) / 1e9, dt, &ns, last_nic, &hs, last_host, nic_busy,
                  host_busy);
    }
    *last_t = now;
    *last_nic = ns;
    *last_host = hs;
}

/* One line on log for each reset the host has taken and each change of the refusal since the
 * last call (told: what was told last), with when it happened and how long the host took to see
 * it. */
static void tell_faults(struct emu *e, FILE *log, uint64_t t0, const struct emu_nic_stats *ns,
                        const struct emu_host_stats *hs, struct emu_nic_stats *told_nic,
                        struct emu_host_stats *told_host)
{
    if (!log) {
        return;
    }
    if (hs->nic_resets != told_host->nic_resets && ns->reset_at && hs->last_fw_up >= ns->reset_at) {
        fprintf(log,
                "handoff emu: %.3f s: the NIC's firmware was reset (boot %u); the host took its "
                "FW_UP %.3f ms after; connections taken back %llu, of them reset %llu\n",
                (double)(ns->reset_at - t0) / 1e9, ns->boot,
                (double)(hs->last_fw_up - ns->reset_at) / 1e6,
                (unsigned long long)(hs->conns_recovered - told_host->conns_recovered),
                (unsigned long long)(hs->conns_reset - told_host->conns_reset));
        *told_host = *hs;
        e->tty_lines = 0; /* the live view is drawn again below the line */
    }
    if (ns->refusing != told_nic->refusing) {
        fprintf(log, "handoff emu: %.3f s: the NIC %s\n", (double)(emu_now() - t0) / 1e9,
                ns->refusing ? "refuses every handoff" : "takes handoffs again");
        told_nic->refusing = ns->refusing;
        e->tty_lines = 0;
    }
}

/* When a fault given in ns after t0 is due (HO_EMU_NEVER: never). */
static uint64_t fault_due(uint64_t t0, uint64_t after_ns)
{
    return after_ns == HO_EMU_NEVER ? HO_EMU_NEVER : t0 + after_ns;
}

/* ---- the run ------------------------------------------------------------------------------ */

int ho_emu_run(const struct ho_emu_params *p, volatile sig_atomic_t *stop, FILE *out, FILE *log,
               char *err, size_t errlen)
{
    struct emu *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    e->p = *p;
    e->tap_fd = -1;
    e->to_nic.doorbell = e->to_host.doorbell = -1;
    e->ctl_fd = -1;
    pthread_mutex_init(&e->lock, NULL);
    pthread_mutex_init(&e->ctl_lock, NULL);
    pthread_mutex_init(&e->placed_lock, NULL);
    e->placed.next = e->placed.prev = &e->placed;
    pthread_cond_init(&e->ctl_done, NULL);
    struct emu_net net = EMU_NET_INIT;
    bool net_up = false;
    char gen_dir[64] = "";
    struct ho_docroot *dr = NULL;
    pthread_t nic_th, host_th;
    bool nic_started = false, host_started = false;
    FILE *stats = NULL, *conn_log = NULL;
    pcap_t *pc = NULL; /* declared before the first goto out, as every variable out uses */
    int ret = -1;

    if (!cpu_usable(p->host_cpu) || !cpu_usable(p->nic_cpu)) {
        snprintf(err, errlen, "processor %d is not one this process may run on (0-%ld)",
                 cpu_usable(p->host_cpu) ? p->nic_cpu : p->host_cpu,
                 sysconf(_SC_NPROCESSORS_ONLN) - 1);
        goto out;
    }
    e->our_ip = p->addr;
    e->peer_ip = (p->addr & 0xffu) == 1 ? (p->addr & ~0xffu) | 2 : (p->addr & ~0xffu) | 1;
    emu_net_our_mac(e->our_mac, e->our_ip);

    if (p->stats_path) {
        stats = fopen(p->stats_path, "w");
        if (!stats) {
            snprintf(err, errlen, "--stats %s: %s", p->stats_path, strerror(errno));
            goto out;
        }
    }

    if (p->conn_log_path) {
        conn_log = fopen(p->conn_log_path, "w");
        if (!conn_log) {
            snprintf(err, errlen, "--conn-log %s: %s", p->conn_log_path, strerror(errno));
            goto out;
        }
        e->conn_log = conn_log;
    }

    if (p->pcap_path) {
        pc = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, p->snaplen ? (int)p->snaplen : 65535,
                                                  PCAP_TSTAMP_PRECISION_NANO);
        e->pcap = pc ? (struct pcap_dumper *)pcap_dump_open(pc, p->pcap_path) : NULL;
        if (!e->pcap) {
            snprintf(err, errlen, "--pcap %s: %s", p->pcap_path,
                     pc ? pcap_geterr(pc) : "out of memory");
            if (pc) {
                pcap_close(pc);
                pc = NULL;
            }
            goto out;
        }
    }

    /* The wire first: a bad name or a live run of it is told before anything is written. */
    struct emu_net_cfg nc = {
        .netns = p->netns, .our_ip = e->our_ip, .peer_ip = e->peer_ip, .prefix = 24};
    if (emu_net_up(&nc, &net, err, errlen) != HO_OK) {
        goto out;
    }
    net_up = true;
    if (net.removed_stale && log) {
        fprintf(log, "handoff emu: removed the stale netns %s of an earlier run\n", p->netns);
    }
    /* The files. */
    const char *root = p->docroot;
    if (!root) {
        snprintf(gen_dir, sizeof gen_dir, "/tmp/handoff-emu-files.XXXXXX");
        if (!mkdtemp(gen_dir)) {
            snprintf(err, errlen, "making a directory for the file set: %s", strerror(errno));
            gen_dir[0] = 0;
            goto out;
        }
        struct ho_wl_err werr = {{0}};
        struct gen_progress g = {.log = log, .last_pct = -100};
        if (ho_fileset_generate(gen_dir, p->fileset_conns, p->seed, gen_progress, &g, &werr) !=
            HO_OK) {
            snprintf(err, errlen, "generating the file set: %s", werr.msg);
            goto out;
        }
        root = gen_dir;
    }
    int rc = ho_docroot_open(root, &dr);
    if (rc != HO_OK) {
        snprintf(err, errlen, "--docroot %s: %s", root,
                 rc == HO_ENOENT ? "not a directory that can be opened" : ho_strerror(rc));
        goto out;
    }
    e->docroot = dr;
    if (log) {
        fprintf(log, "handoff emu: serving the files under %s\n", root);
    }

    e->tap_fd = net.tap_fd;
    if (emu_ctl_open(e, net.netns, err, errlen) != HO_OK) {
        goto out;
    }

    /* The bus, the firmware, the OS side. */
    if (bus_init(&e->to_nic) != HO_OK || bus_init(&e->to_host) != HO_OK) {
        snprintf(err, errlen, "setting up the PCI rings: out of memory or descriptors");
        goto out;
    }
    rc = emu_nic_create(e, &e->nic);
    if (rc != HO_OK) {
        snprintf(err, errlen, "the NIC firmware refused its parameters: %s", ho_strerror(rc));
        goto out;
    }
    rc = emu_host_create(e, &e->host);
    if (rc != HO_OK) {
        snprintf(err, errlen, "the OS side refused its parameters: %s", ho_strerror(rc));
        goto out;
    }
    if (pthread_create(&nic_th, NULL, emu_nic_thread, e->nic) != 0) {
        snprintf(err, errlen, "starting the NIC thread failed");
        goto out;
    }
    nic_started = true;
    pthread_setname_np(nic_th, "handoff-nic"); /* top -H and perf name the two worlds' halves */
    if ((rc = bind_thread(nic_th, p->nic_cpu)) != 0) {
        snprintf(err, errlen, "binding the NIC thread to processor %d: %s", p->nic_cpu,
                 strerror(rc));
        goto out;
    }
    if (pthread_create(&host_th, NULL, emu_host_thread, e->host) != 0) {
        snprintf(err, errlen, "starting the host thread failed");
        goto out;
    }
    host_started = true;
    pthread_setname_np(host_th, "handoff-host");
    if ((rc = bind_thread(host_th, p->host_cpu)) != 0) {
        snprintf(err, errlen, "binding the host thread to processor %d: %s", p->host_cpu,
                 strerror(rc));
        goto out;
    }

    char ip[16];
    snprintf(ip, sizeof ip, "%u.%u.%u.%u", e->our_ip >> 24, (e->our_ip >> 16) & 0xff,
             (e->our_ip >> 8) & 0xff, e->our_ip & 0xff);
    fprintf(out, "ready http://%s:%u/ netns %s\n", ip, p->port, net.netns);
    fflush(out);

    e->tty = p->live;
    uint64_t t0 = emu_now(), last_t = t0;
    struct emu_nic_stats last_nic = {0};
    struct emu_host_stats last_host = {0};
    uint64_t period = (uint64_t)(p->stats_ms ? p->stats_ms : 100) * 1000000u;
    uint64_t next = t0 + period;
    struct emu_nic_stats told_nic = {0};
    struct emu_host_stats told_host = {0};
    uint64_t reset_due = fault_due(t0, p->fault_reset_at_ns);
    uint64_t refuse_due = fault_due(t0, p->fault_refuse_at_ns);
    uint64_t hang_due = fault_due(t0, p->fault_hang_at_ns);
    uint64_t wire_due = fault_due(t0, p->fault_wire_drop_at_ns);
    while (!*stop && !atomic_load(&e->stop)) {
        uint64_t now = emu_now();
        if (now >= reset_due) {
            emu_nic_ask_reset(e);
            reset_due = HO_EMU_NEVER;
        }
        if (now >= refuse_due) {
            emu_nic_ask_refuse(e, true);
            refuse_due = HO_EMU_NEVER;
        }
        if (now >= hang_due) {
            emu_nic_ask_hang(e, p->fault_hang_ns);
            hang_due = HO_EMU_NEVER;
        }
        if (now >= wire_due) {
            emu_nic_ask_wire_drop(e, p->fault_wire_drop_ns);
            wire_due = HO_EMU_NEVER;
        }
        if (now >= next) {
            write_stats(e, stats, t0, now, &last_t, &last_nic, &last_host);
            tell_faults(e, log, t0, &last_nic, &last_host, &told_nic, &told_host);
            next += period;
            if (next <= now) {
                next = now + period;
            }
        }
        uint64_t due = next < reset_due ? next : reset_due;
        due = due < refuse_due ? due : refuse_due;
        due = due < hang_due ? due : hang_due;
        due = due < wire_due ? due : wire_due;
        uint64_t wait = due > now ? due - now : 0;
        wait = wait < 20000000u ? wait : 20000000u; /* notice a stop within 20 ms */
        struct pollfd pfd = {.fd = e->ctl_fd, .events = POLLIN};
        if (poll(&pfd, 1, (int)(wait / 1000000u) + 1) == 1) {
            emu_ctl_serve(e);
        }
    }
    if (e->err[0]) {
        snprintf(err, errlen, "%s", e->err);
    } else {
        ret = 0;
    }

out:
    atomic_store(&e->stop, 1);
    if (e->to_nic.doorbell >= 0) {
        uint64_t one = 1;
        (void)!write(e->to_nic.doorbell, &one, sizeof one);
    }
    if (e->to_host.doorbell >= 0) {
        uint64_t one = 1;
        (void)!write(e->to_host.doorbell, &one, sizeof one);
    }
    if (nic_started) {
        pthread_join(nic_th, NULL);
    }
    if (host_started) {
        pthread_join(host_th, NULL);
    }
    if (log && host_started) {
        struct emu_host_stats hs = e->host_stats;
        struct emu_nic_stats ns = e->nic_stats;
        fprintf(log,
                "handoff emu: %llu requests (%llu 2xx, %llu 3xx, %llu 4xx, %llu 5xx), "
                "%llu body bytes; wire %llu frames in, %llu out, %llu dropped; %llu handoffs\n",
                (unsigned long long)hs.requests, (unsigned long long)hs.status[2],
                (unsigned long long)hs.status[3], (unsigned long long)hs.status[4],
                (unsigned long long)hs.status[5], (unsigned long long)hs.body_bytes,
                (unsigned long long)ns.rx_frames, (unsigned long long)ns.tx_frames,
                (unsigned long long)ns.wire_drops, (unsigned long long)hs.handoffs);
        fprintf(log,
                "handoff emu: host TCP: %llu retransmitted, %llu resets sent, %llu reset by the "
                "peer, %llu timed out; %llu refused by the full interface queue; %llu closed "
                "idle; NIC receive memory dropped %llu\n",
                (unsigned long long)hs.rexmits, (unsigned long long)hs.rsts_out,
                (unsigned long long)hs.tcp_conns_reset, (unsigned long long)hs.conns_timedout,
                (unsigned long long)hs.ifq_drops, (unsigned long long)hs.idle_closed,
                (unsigned long long)ns.rx_drops);
        if (ns.boot > 1 || hs.nic_resets > 0) {
            fprintf(log,
                    "handoff emu: NIC firmware reset %u times; the host took %llu FW_UPs; "
                    "connections taken back %llu, of them reset %llu\n",
                    ns.boot - 1, (unsigned long long)hs.nic_resets,
                    (unsigned long long)hs.conns_recovered, (unsigned long long)hs.conns_reset);
        }
    }
    emu_ctl_close(e);
    emu_host_destroy(e->host);
    emu_nic_destroy(e->nic);
    bus_fini(&e->to_nic);
    bus_fini(&e->to_host);
    emu_placed_free_all(e); /* those whose RECV never reached the driver */
    if (net_up) {
        emu_net_down(&net);
    }
    ho_docroot_close(dr);
    if (gen_dir[0]) {
        rm_tree(gen_dir);
    }
    if (e->pcap) {
        pcap_dump_close((pcap_dumper_t *)e->pcap);
    }
    if (pc) {
        pcap_close(pc);
    }
    if (stats) {
        if (fclose(stats) != 0 && ret == 0) {
            snprintf(err, errlen, "--stats %s: %s", p->stats_path, strerror(errno));
            ret = -1;
        }
    }
    if (conn_log) {
        int ce = e->conn_log_errno;
        if (fclose(conn_log) != 0 && !ce) {
            ce = errno;
        }
        if (ce && ret == 0) {
            snprintf(err, errlen, "--conn-log %s: %s", p->conn_log_path, strerror(ce));
            ret = -1;
        }
    }
    pthread_mutex_destroy(&e->lock);
    pthread_mutex_destroy(&e->ctl_lock);
    pthread_mutex_destroy(&e->placed_lock);
    pthread_cond_destroy(&e->ctl_done);
    free(e->ctl_reply);
    free(e);
    return ret;
}
