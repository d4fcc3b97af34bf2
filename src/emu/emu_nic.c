/*
 * emu_nic.c - the emulator's NIC thread: the firmware's platform on real packets (emu.h).
 *
 * The thread owns the TAP device, which is the wire. Each turn of its loop it takes the frames
 * that arrived (ARP for our address is answered here, as a MAC would; TCP frames go to the
 * firmware; anything else is dropped and counted), the entries the host posted on the PCI ring
 * (packets to send, packets handed back, commands), fires the firmware's timers that are due, and
 * runs the firmware's work.
 *
 * The throttle. The firmware's processor runs one piece of work at a time. A piece that costs c
 * instructions at m MIPS takes c * 1000 / m ns: the thread keeps the time at which the emulated
 * processor becomes free (`free_at`) and begins the next piece only then. So that a piece of two
 * microseconds does not need a sleep of two microseconds, the processor may run ahead of the real
 * clock by at most EMU_NIC_SLACK_NS; it sleeps, still watching the device and the ring, when it
 * is further ahead. Over any interval longer than the slack it does no more work than the
 * processor it stands for could, and its queues, which load control watches, fill as that
 * processor's would.
 *
 * Faults. The firmware is this thread's alone, so a reset or a refusal asked for by another
 * thread (the control socket, --fault-*) is a request it reads at the top of each turn and
 * carries out there, between two calls into the firmware. A piece of work begun and not yet
 * ended (the throttle holds it) may be under way: the firmware voids it at its ho_nic_end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "emu_priv.h"
#include "handoff/err.h"

#define EMU_NIC_SLACK_NS 50000u /* how far the emulated processor may run ahead of the clock */
/* Interrupt moderation, as FreeBSD 4's ti(4) sets the Tigon's receive coalescing: an interrupt
 * once 64 descriptors have gathered (ti_rx_max_coal_bds) or the first has waited 200 us
 * (ti_rx_coal_ticks = TI_TICKS_PER_SEC / 5000). The host thread, asleep, is woken the same way. */
#define EMU_NIC_MODERATE_ENTRIES 64u
#define EMU_NIC_MODERATE_NS      200000u

struct emu_nic {
    struct emu *e;
    struct ho_nic *fw;
    uint64_t timers[HO_NIC_NTIMERS];
    struct tcpe_wire_tx tx;      /* the IPv4 identification of the frames it builds */
    struct tcpe_wire_stats wire; /* frames parsed and dropped */
    uint8_t peer_mac[TCPE_WIRE_ETH_ALEN];
    bool have_peer;
    bool busy;            /* a piece of work is under way */
    struct ho_nic_work w; /* that piece */
    uint64_t free_at;     /* when the emulated processor is free */
    struct emu_nic_stats st;
    uint64_t next_publish;
    uint32_t resets; /* resets carried out (emu.resets_done is their copy for other threads) */
    uint64_t hung_until; /* a hang: no frame, entry, timer or work before (0: none) */
    uint64_t dead_until; /* a dead wire: every frame is lost before (0: none) */
    uint64_t now;        /* the time of the turn running (the firmware's ops have none) */
};

/* ---- the wire ----------------------------------------------------------------------------- */

/* --pcap: the frame, stamped with the wall clock to the nanosecond. */
static void capture(struct emu_nic *n, const uint8_t *frame, size_t len)
{
    if (!n->e->pcap) {
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint32_t snap = n->e->p.snaplen;
    size_t keep = snap && snap < len ? snap : len;
    struct pcap_pkthdr h = {.caplen = (bpf_u_int32)keep, .len = (bpf_u_int32)len};
    h.ts.tv_sec = ts.tv_sec;
    h.ts.tv_usec = (suseconds_t)ts.tv_nsec; /* nanoseconds: the file says so */
    pcap_dump((u_char *)n->e->pcap, &h, frame);
}

static void wire_write(struct emu_nic *n, const uint8_t *frame, size_t len)
{
    if (n->now < n->dead_until) {
        n->st.wire_lost++; /* the wire is dead: the frame never reaches the device */
        return;
    }
    capture(n, frame, len);
    ssize_t w = write(n->e->tap_fd, frame, len);
    if (w == (ssize_t)len) {
        n->st.tx_frames++;
    } else {
        n->st.wire_drops++; /* the device's queue is full: the wire drops */
    }
}

static void op_wire_tx(void *ctx, struct ho_pkt *p, uint64_t now)
{
    (void)now;
    struct emu_nic *n = ctx;
    if (n->have_peer) {
        uint8_t frame[EMU_FRAME_MAX + 64];
        struct tcpe_wire_eth eth;
        memcpy(eth.dst, n->peer_mac, sizeof eth.dst);
        memcpy(eth.src, n->e->our_mac, sizeof eth.src);
        int len = tcpe_wire_eth_build(&n->tx, &eth, &p->seg, frame, sizeof frame);
        if (len > 0) {
            wire_write(n, frame, (size_t)len);
        } else {
            n->st.wire_drops++;
        }
    } else {
        n->st.wire_drops++; /* nobody has spoken to us yet: no address to send to */
    }
    free(p);
}

/* A frame from the device: ARP is answered, TCP goes to the firmware. */
static void wire_rx(struct emu_nic *n, const uint8_t *buf, size_t len, uint64_t now)
{
    capture(n, buf, len);
    struct tcpe_wire_pkt wp;
    int kind = tcpe_wire_eth_parse(buf, len, 0, &wp, &n->wire);
    if (kind == TCPE_WIRE_KIND_ARP) {
        uint8_t reply[TCPE_WIRE_ARP_FRAME_LEN];
        int r =
            tcpe_wire_arp_build_reply(&wp.arp, n->e->our_mac, n->e->our_ip, reply, sizeof reply);
        if (r > 0) {
            memcpy(n->peer_mac, wp.arp.sha, sizeof n->peer_mac);
            n->have_peer = true;
            wire_write(n, reply, (size_t)r);
            n->st.arp_replies++;
        }
        return;
    }
    if (kind != TCPE_WIRE_KIND_TCP || wp.seg.dst_ip != n->e->our_ip) {
        n->st.wire_drops++;
        return;
    }
    memcpy(n->peer_mac, wp.eth.src, sizeof n->peer_mac);
    n->have_peer = true;
    struct emu_pkt *p = malloc(sizeof *p);
    if (!p) {
        n->st.wire_drops++;
        return;
    }
    p->pkt = (struct ho_pkt){.seg = wp.seg, .frame_bytes = (uint32_t)len};
    if (wp.seg.len > 0) {
        memcpy(p->data, wp.seg.data, wp.seg.len);
        p->pkt.seg.data = p->data;
    } else {
        p->pkt.seg.data = NULL;
    }
    n->st.rx_frames++;
    ho_nic_wire_rx(n->fw, &p->pkt, now);
}

/* ---- the firmware's platform ------------------------------------------------------------- */

static void push(struct emu_nic *n, uint32_t kind, uint32_t len, void *ptr)
{
    struct emu_entry en = {.kind = kind, .len = len, .ptr = ptr};
    if (emu_bus_push(&n->e->to_host, &en) != HO_OK) {
        emu_entry_free(&en);
        snprintf(n->e->err, sizeof n->e->err, "NIC: out of memory for the PCI bus");
        atomic_store(&n->e->stop, 1);
    }
}

static void op_host_rx(void *ctx, struct ho_pkt *p, uint64_t now)
{
    (void)now;
    push(ctx, EMU_E_RX, 0, p);
}

static void op_host_msg(void *ctx, const uint8_t *msg, uint32_t len, uint64_t now)
{
    (void)now;
    struct emu_nic *n = ctx;
    uint8_t *copy = malloc(len);
    if (!copy) {
        snprintf(n->e->err, sizeof n->e->err, "NIC: out of memory for a message");
        atomic_store(&n->e->stop, 1);
        return;
    }
    memcpy(copy, msg, len);
    push(n, EMU_E_MSG, len, copy);
}

static void op_ready(void *ctx, uint64_t now)
{
    (void)ctx;
    (void)now; /* the loop begins work whenever the processor is free */
}

static void op_timer(void *ctx, enum ho_nic_timer which, uint64_t when, uint64_t now)
{
    (void)now;
    struct emu_nic *n = ctx;
    n->timers[which] = when;
}

static struct ho_pkt *op_pkt_alloc(void *ctx, const struct tcpe_seg *seg)
{
    (void)ctx;
    return emu_pkt_new(seg);
}

static void op_pkt_free(void *ctx, struct ho_pkt *p)
{
    (void)ctx;
    free(p); /* the header is the start of its struct emu_pkt */
}

static void op_fault(void *ctx, const char *what)
{
    (void)ctx;
    (void)what; /* a connection on the NIC was reset or timed out: counted by its TCP */
}

static void op_host_tx_done(void *ctx, uint64_t now)
{
    (void)now;
    push(ctx, EMU_E_TX_DONE, 0, NULL);
}

/* The host's memory is the process's: a DMA address is a pointer. */
static const uint8_t *op_host_read(void *ctx, uint64_t addr, uint32_t len)
{
    (void)ctx;
    (void)len;
    return (const uint8_t *)(uintptr_t)addr;
}

/* A host receive buffer for received bytes; the host thread frees it (emu_host.c). */
static uint64_t op_host_place(void *ctx, const uint8_t *data, uint32_t len)
{
    struct emu_nic *n = ctx;
    uint8_t *buf = emu_placed_new(n->e, len);
    if (!buf) {
        snprintf(n->e->err, sizeof n->e->err, "NIC: out of memory for received bytes");
        atomic_store(&n->e->stop, 1);
        return 0;
    }
    memcpy(buf, data, len);
    return (uint64_t)(uintptr_t)buf;
}

static const struct ho_nic_ops nic_ops = {
    .host_read = op_host_read,
    .host_place = op_host_place,
    .wire_tx = op_wire_tx,
    .host_rx = op_host_rx,
    .host_msg = op_host_msg,
    .ready = op_ready,
    .timer = op_timer,
    .pkt_alloc = op_pkt_alloc,
    .pkt_free = op_pkt_free,
    .fault = op_fault,
    .host_tx_done = op_host_tx_done,
};

/* ---- the loop ----------------------------------------------------------------------------- */

/* The entries the host posted. */
static unsigned take_bus(struct emu_nic *n, uint64_t now)
{
    unsigned got = 0;
    struct emu_entry en;
    while (got < EMU_BATCH && emu_ring_pop(&n->e->to_nic.ring, &en) == HO_OK) {
        got++;
        switch (en.kind) {
        case EMU_E_HOST_TX:
            if (ho_nic_host_tx(n->fw, en.ptr, now) != HO_OK) {
                n->st.tx_drops++;
            }
            break;
        case EMU_E_FORWARD:
            ho_nic_forward(n->fw, en.ptr, now);
            break;
        case EMU_E_CMD:
            if (ho_nic_cmd(n->fw, en.ptr, en.len, now) != HO_OK) {
                snprintf(n->e->err, sizeof n->e->err, "NIC: the driver sent a bad command");
                atomic_store(&n->e->stop, 1);
            }
            free(en.ptr);
            break;
        default:
            emu_entry_free(&en);
        }
    }
    return got;
}

static unsigned take_wire(struct emu_nic *n, uint64_t now)
{
    unsigned got = 0;
    uint8_t buf[65536];
    while (got < EMU_BATCH) {
        ssize_t len = read(n->e->tap_fd, buf, sizeof buf);
        if (len <= 0) {
            break;
        }
        got++;
        if (now < n->dead_until) {
            n->st.wire_lost++;
            continue;
        }
        wire_rx(n, buf, (size_t)len, now);
    }
    return got;
}

static void fire_timers(struct emu_nic *n, uint64_t now)
{
    for (int i = 0; i < HO_NIC_NTIMERS; i++) {
        if (n->timers[i] <= now) {
            n->timers[i] = HO_NIC_NEVER;
            ho_nic_timer(n->fw, (enum ho_nic_timer)i, now);
        }
    }
}

static uint64_t cost_ns(const struct emu_nic *n, uint64_t instructions)
{
    uint32_t mips = n->e->p.mips;
    return mips ? instructions * 1000 / mips : 0;
}

/* Runs work while the emulated processor is not too far ahead of the clock. Returns the pieces
 * ended. */
static unsigned run_work(struct emu_nic *n, uint64_t now)
{
    unsigned done = 0;
    while (done < EMU_BATCH) {
        if (!n->busy) {
            if (!ho_nic_begin(n->fw, now, &n->w)) {
                break;
            }
            n->busy = true;
            uint64_t ns = cost_ns(n, n->w.cost + n->w.timer_cost);
            n->free_at = (n->free_at > now ? n->free_at : now) + ns;
            n->st.busy_ns += ns;
        }
        if (n->free_at > now + EMU_NIC_SLACK_NS) {
            break; /* ahead of the clock: wait */
        }
        struct ho_nic_work w = n->w;
        n->busy = false;
        ho_nic_end(n->fw, &w, now);
        done++;
    }
    return done;
}

static void publish(struct emu_nic *n, uint64_t now)
{
    struct ho_nic_info info;
    ho_nic_info(n->fw, &info);
    n->st.conns = info.conns;
    n->st.soft_limit = info.soft_limit;
    n->st.hard_limit = n->e->p.nic.hard_limit;
    n->st.qlen = info.qlen;
    n->st.cnum = info.cnum;
    n->st.rx_drops = info.rx_drops;
    n->st.handoffs = info.accepted;
    n->st.closed = info.closed;
    n->st.shed = info.shed;
    n->st.boot = info.boot;
    n->st.refusing = info.refusing;
    pthread_mutex_lock(&n->e->lock);
    n->e->nic_stats = n->st;
    pthread_mutex_unlock(&n->e->lock);
    n->next_publish = now + 10000000;
}

/* Carries out the resets and the refusal other threads asked for; returns whether it did any. */
static bool take_faults(struct emu_nic *n, uint64_t now)
{
    struct emu *e = n->e;
    bool did = false;
    uint32_t asked = atomic_load(&e->resets_asked);
    while (n->resets != asked) {
        ho_nic_reset(n->fw, now); /* cancels our timers through ops.timer */
        n->hung_until = 0;        /* the reset line ends a hang */
        n->resets++;
        n->st.reset_at = now;
        atomic_store(&e->resets_done, n->resets);
        did = true;
    }
    uint32_t uploads = atomic_load(&e->uploads_asked);
    if (uploads != atomic_load(&e->uploads_done)) {
        atomic_store(&e->uploaded_last, ho_nic_upload(n->fw, now));
        atomic_store(&e->uploads_done, uploads);
        did = true;
    }
    uint64_t dead = atomic_exchange(&e->wire_drop_asked_ns, 0);
    if (dead > 0) {
        n->dead_until = now + dead;
        did = true;
    }
    uint64_t hang = atomic_exchange(&e->hang_asked_ns, 0);
    if (hang > 0) {
        n->hung_until = now + hang;
        n->st.hangs++;
        did = true;
    }
    int refuse = atomic_load(&e->refuse_asked);
    if (refuse != atomic_load(&e->refuse_done)) {
        ho_nic_refuse(n->fw, refuse != 0, now);
        atomic_store(&e->refuse_done, refuse);
        did = true;
    }
    if (did) {
        publish(n, now); /* the main thread tells the fault with the time it happened */
    }
    return did;
}

static void wake_nic(struct emu *e)
{
    uint64_t one = 1;
    (void)!write(e->to_nic.doorbell, &one, sizeof one);
}

void emu_nic_ask_reset(struct emu *e)
{
    atomic_fetch_add(&e->resets_asked, 1);
    wake_nic(e);
}

void emu_nic_ask_upload(struct emu *e)
{
    atomic_fetch_add(&e->uploads_asked, 1);
    wake_nic(e);
}

void emu_nic_ask_wire_drop(struct emu *e, uint64_t ns)
{
    atomic_store(&e->wire_drop_asked_ns, ns ? ns : 1);
    wake_nic(e);
}

void emu_nic_ask_hang(struct emu *e, uint64_t ns)
{
    atomic_store(&e->hang_asked_ns, ns ? ns : 1);
    wake_nic(e);
}

void emu_nic_ask_refuse(struct emu *e, bool refuse)
{
    atomic_store(&e->refuse_asked, refuse ? 1 : 0);
    wake_nic(e);
}

bool emu_nic_wait_asked(struct emu *e, uint64_t timeout_ns)
{
    for (uint64_t until = emu_now() + timeout_ns; !atomic_load(&e->stop);) {
        if (atomic_load(&e->resets_done) == atomic_load(&e->resets_asked) &&
            atomic_load(&e->refuse_done) == atomic_load(&e->refuse_asked) &&
            atomic_load(&e->uploads_done) == atomic_load(&e->uploads_asked)) {
            return true;
        }
        if (emu_now() >= until) {
            break;
        }
        struct timespec ms = {.tv_nsec = 1000000};
        nanosleep(&ms, NULL); /* a command's answer: a millisecond more does not matter */
    }
    return false;
}

/* Sleeps until something arrives or `until`, whichever comes first. */
static void sleep_until(struct emu_nic *n, uint64_t until, uint64_t now)
{
    struct emu_bus *b = &n->e->to_nic;
    if (!emu_bus_may_sleep(b)) {
        return;
    }
    uint64_t wait = until > now ? until - now : 0;
    struct timespec ts = {.tv_sec = (time_t)(wait / 1000000000u),
                          .tv_nsec = (long)(wait % 1000000000u)};
    struct pollfd fds[2] = {{.fd = n->e->tap_fd, .events = POLLIN},
                            {.fd = b->doorbell, .events = POLLIN}};
    ppoll(fds, 2, until == UINT64_MAX ? NULL : &ts, NULL);
    emu_bus_woke(b);
}

void *emu_nic_thread(void *arg)
{
    struct emu_nic *n = arg;
    struct emu *e = n->e;
    while (!atomic_load(&e->stop)) {
        uint64_t now = emu_now();
        n->now = now;
        unsigned got = take_faults(n, now) ? 1 : 0;
        if (now < n->hung_until) {
            /* Hung: nothing is taken up; frames wait in the device's queue (and drop when it is
             * full), entries in the rings. A reset asked for still comes through. */
            if (now >= n->next_publish) {
                publish(n, now);
            }
            uint64_t left = n->hung_until - now;
            struct timespec ts = {.tv_nsec = (long)(left < 1000000u ? left : 1000000u)};
            nanosleep(&ts, NULL);
            continue;
        }
        got += take_wire(n, now);
        got += take_bus(n, now);
        fire_timers(n, now);
        got += run_work(n, now);
        if (now >= n->next_publish) {
            publish(n, now);
        }
        uint64_t bell_due;
        uint32_t waiting = emu_bus_flush_moderated(&e->to_host, now, EMU_NIC_MODERATE_ENTRIES,
                                                   EMU_NIC_MODERATE_NS, &bell_due);
        if (got > 0) {
            continue;
        }
        uint64_t until = n->next_publish < bell_due ? n->next_publish : bell_due;
        for (int i = 0; i < HO_NIC_NTIMERS; i++) {
            until = n->timers[i] < until ? n->timers[i] : until;
        }
        if (n->busy) {
            uint64_t ready = n->free_at - EMU_NIC_SLACK_NS / 2;
            until = ready < until ? ready : until;
        }
        if (waiting > 0 && now + 100000 < until) {
            until = now + 100000; /* the host makes room in the ring without telling */
        }
        sleep_until(n, until, now);
    }
    publish(n, emu_now());
    return NULL;
}

/* ---- life --------------------------------------------------------------------------------- */

int emu_nic_create(struct emu *e, struct emu_nic **out)
{
    struct emu_nic *n = calloc(1, sizeof *n);
    if (!n) {
        return HO_ENOMEM;
    }
    n->e = e;
    for (int i = 0; i < HO_NIC_NTIMERS; i++) {
        n->timers[i] = HO_NIC_NEVER;
    }
    tcpe_wire_tx_init(&n->tx, 1);
    struct ho_nic_params np = e->p.nic;
    np.virtual_payload = false;
    int rc = ho_nic_create(&np, &nic_ops, n, &n->fw);
    if (rc != HO_OK) {
        free(n);
        return rc;
    }
    *out = n;
    return HO_OK;
}

void emu_nic_destroy(struct emu_nic *n)
{
    if (n) {
        if (n->busy) {
            struct ho_nic_work w = n->w;
            ho_nic_end(n->fw, &w, emu_now()); /* so that its packet is given back */
        }
        ho_nic_destroy(n->fw);
        free(n);
    }
}
