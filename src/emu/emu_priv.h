/*
 * emu_priv.h - the emulator's parts and what they share: the packets that cross the PCI rings,
 * the ring entries, the two threads' state, and the statistics each thread publishes for the
 * main thread (emu.c) to write. emu_nic.c is the NIC thread, emu_host.c the host thread.
 */
#ifndef HANDOFF_EMU_PRIV_H
#define HANDOFF_EMU_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "handoff/app.h"
#include "handoff/docroot.h"
#include "handoff/emu.h"
#include "handoff/nic.h"
#include "handoff/os.h"
#include "handoff/tcpe_wire.h"
#include "pci_ring.h"

struct pcap_dumper; /* libpcap's, for --pcap */

#define EMU_FRAME_MAX 1518u      /* the longest Ethernet frame (no FCS) */
#define EMU_RING_CAP  (1u << 16) /* entries of each PCI ring */
#define EMU_BATCH     64u        /* frames or entries taken per turn of a loop */

/* A packet: the header the firmware and the OS side pass, and its payload bytes. */
struct emu_pkt {
    struct ho_pkt pkt;
    uint8_t data[EMU_FRAME_MAX];
};

/* A packet holding a copy of seg and its payload (freed with free()), or NULL when seg's
 * payload does not fit a frame or memory is out. */
struct ho_pkt *emu_pkt_new(const struct tcpe_seg *seg);

/* What a ring entry carries. */
enum emu_entry_kind {
    /* host -> NIC */
    EMU_E_HOST_TX = 1, /* a packet the host's stack sends (ptr: struct emu_pkt) */
    EMU_E_FORWARD = 2, /* a packet the driver hands back (ptr: struct emu_pkt) */
    EMU_E_CMD = 3,     /* a command (ptr: len bytes from malloc) */
    /* NIC -> host */
    EMU_E_RX = 4,      /* a received host packet (ptr: struct emu_pkt) */
    EMU_E_MSG = 5,     /* a message (ptr: len bytes from malloc) */
    EMU_E_TX_DONE = 6, /* a send-ring descriptor is free */
};

struct emu_entry {
    uint32_t kind; /* enum emu_entry_kind */
    uint32_t len;
    void *ptr;
};

/*
 * One direction of the PCI bus: a ring, the doorbell of the thread that consumes it, and the
 * producer's own queue of entries that found the ring full. A producer never waits for the
 * consumer: the two threads push to each other, and two full rings would otherwise hold both
 * for ever. The driver of a real NIC keeps such a software queue in front of its command ring.
 */
struct emu_bus {
    struct emu_ring ring;
    int doorbell;         /* eventfd the consumer sleeps on */
    _Atomic int sleeping; /* the consumer is (about to be) asleep on it */
    /* The producer's alone. */
    struct emu_entry *over; /* entries waiting for room in the ring, a FIFO */
    uint32_t over_head, over_len, over_cap;
    uint64_t overflows;  /* entries that had to wait there */
    bool bell;           /* entries pushed since the doorbell was last considered */
    uint64_t bell_since; /* when the first of them was pushed */
    uint32_t bell_count; /* how many */
};

/* Pushes e (producer side): into the ring if nothing waits before it and there is room, else
 * behind the waiting ones. The doorbell is left for emu_bus_flush. Returns HO_OK, or HO_ENOMEM
 * (e was not taken). */
int emu_bus_push(struct emu_bus *b, const struct emu_entry *e);
/* Producer side, once per turn of its loop and before it sleeps: moves waiting entries into the
 * ring while there is room, and rings the doorbell, once, if anything was pushed and the
 * consumer sleeps (an eventfd write per entry cost the host a system call per command). Returns
 * how many entries still wait. */
uint32_t emu_bus_flush(struct emu_bus *b);
/* The same, moderated as a NIC moderates its interrupts: a sleeping consumer is woken once
 * max_entries have been pushed since the last ring, or once the first of them has waited
 * max_ns; until then *due says when the producer must flush again (else UINT64_MAX). */
uint32_t emu_bus_flush_moderated(struct emu_bus *b, uint64_t now, uint32_t max_entries,
                                 uint64_t max_ns, uint64_t *due);
/* Before sleeping on the doorbell: returns false (do not sleep) if entries arrived meanwhile. */
bool emu_bus_may_sleep(struct emu_bus *b);
/* After waking: empties the doorbell. */
void emu_bus_woke(struct emu_bus *b);

/* What each thread publishes, under the lock, about every 10 ms. */
struct emu_nic_stats {
    uint64_t hangs;       /* hangs begun (fault_hang_*) */
    uint64_t wire_lost;   /* frames a dead wire lost (fault_wire_drop_*), both ways */
    uint32_t conns, soft_limit, hard_limit, qlen, cnum;
    uint64_t rx_frames, tx_frames, rx_drops, tx_drops, wire_drops, arp_replies;
    uint64_t handoffs, closed;
    uint64_t shed;     /* connections given back by active restoration (nic.restore) */
    uint64_t busy_ns;  /* the emulated processor's time spent on work */
    uint32_t boot;     /* the firmware's boot: 1, and one more after each reset */
    bool refusing;     /* it refuses every handoff */
    uint64_t reset_at; /* when it was last reset (0: never) */
};

struct emu_host_stats {
    uint64_t watchdog_resets; /* hung NICs the driver's watchdog reset */
    uint32_t conns_host, conns_nic, conns_offered;
    uint64_t handoffs, restores;
    uint64_t requests, status[6], body_bytes;
    uint64_t cpu_ns;  /* the host thread's processor time */
    uint64_t work_ns; /* of its time, that spent running the OS side and the server (its loop's
                         polling and waiting aside) */
    uint64_t pkts;
    uint64_t ifq_drops; /* packets the full interface queue refused */
    uint64_t rexmits;   /* segments the host's TCP retransmitted */
    uint64_t rsts_out, tcp_conns_reset, conns_timedout, idle_closed;
    uint64_t nic_resets;      /* FW_UPs the driver took */
    uint64_t conns_recovered; /* connections it took back from the NIC after a reset */
    uint64_t conns_reset;     /* of those, ones it could not go on with and reset */
    uint64_t last_fw_up;      /* when it took the last FW_UP (0: never) */
};

/* A host receive buffer the NIC placed received bytes in (RECV): listed until the host thread
 * takes it, so that those whose RECV was still on its way when the emulator stops are freed. */
struct emu_placed {
    struct emu_placed *prev, *next;
    uint32_t len;
    uint8_t data[];
};

/* The whole emulator. */
struct emu {
    struct ho_emu_params p;
    _Atomic int stop;
    struct emu_bus to_nic, to_host;
    pthread_mutex_t lock; /* the statistics below */
    struct emu_nic_stats nic_stats;
    struct emu_host_stats host_stats;
    /* The wire. */
    int tap_fd;
    struct pcap_dumper *pcap; /* every frame in and out, written by the NIC thread, or NULL */
    FILE *conn_log;           /* the connection log, written by the host thread, or NULL (and
                                 NULL again once emu_host_destroy has ended it) */
    int conn_log_errno;       /* its first failed write's errno, 0 if none */
    uint8_t our_mac[TCPE_WIRE_ETH_ALEN];
    uint32_t our_ip, peer_ip;
    /* The firmware's side (emu_nic.c) and the host's (emu_host.c). */
    struct emu_nic *nic;
    struct emu_host *host;
    const struct ho_docroot *docroot;
    pthread_mutex_t placed_lock; /* the host receive buffers placed and not yet taken */
    struct emu_placed placed;    /* their list's head */
    char err[256];               /* a thread's fatal error */
    FILE *tty;                   /* the live view's terminal, or NULL */
    int tty_lines;               /* lines of the view drawn last */
    /* The control socket (emu_ctl.c): the main thread hands a command to the host thread. */
    int ctl_fd;
    char ctl_path[108];
    pthread_mutex_t ctl_lock;
    pthread_cond_t ctl_done;
    _Atomic int ctl_pending; /* ctl_cmd waits for the host thread */
    char ctl_cmd[256];
    char *ctl_reply; /* the host thread's answer (malloc'd), under ctl_lock */
    /* Faults (docs/failures.md): asked for by other threads (the control socket's reset and
     * refuse, --fault-reset-at and --fault-refuse-at), carried out by the NIC thread between two
     * pieces of its work, as the firmware is its alone (emu_nic_ask_reset). */
    _Atomic uint32_t resets_asked; /* resets asked for since the start */
    _Atomic uint32_t resets_done;  /* of those, carried out */
    _Atomic int refuse_asked;      /* the firmware is to refuse every handoff (1) or not (0) */
    _Atomic int refuse_done;       /* what it does */
    _Atomic uint64_t hang_asked_ns; /* a hang of this long asked for (0: none pending) */
    _Atomic uint64_t wire_drop_asked_ns; /* a dead wire for this long asked for (0: none) */
    _Atomic uint32_t uploads_asked; /* uploads (ho_nic_upload) asked for since the start */
    _Atomic uint32_t uploads_done;  /* of those, carried out */
    _Atomic uint32_t uploaded_last; /* connections the last one gave back */
};

uint64_t emu_now(void);

int emu_nic_create(struct emu *e, struct emu_nic **out);
void emu_nic_destroy(struct emu_nic *n);
void *emu_nic_thread(void *arg); /* arg: struct emu_nic */
/* Any thread: asks the NIC thread to reset the firmware (ho_nic_reset), or to make it refuse
 * handoffs or take them again (ho_nic_refuse), at the next turn of its loop. */
void emu_nic_ask_reset(struct emu *e);
void emu_nic_ask_refuse(struct emu *e, bool refuse);
/* Any thread: asks the NIC thread to hang for ns: it takes no frame, entry or timer until then,
 * or until a reset, which ends the hang. */
void emu_nic_ask_hang(struct emu *e, uint64_t ns);
/* Any thread: asks the NIC thread to lose every frame, both ways, for ns. */
void emu_nic_ask_wire_drop(struct emu *e, uint64_t ns);
/* Any thread: asks the NIC thread to give every connection back to the host (ho_nic_upload). */
void emu_nic_ask_upload(struct emu *e);
/* Waits until the NIC thread has carried out everything asked of it, at most timeout_ns; returns
 * whether it has. */
bool emu_nic_wait_asked(struct emu *e, uint64_t timeout_ns);

int emu_host_create(struct emu *e, struct emu_host **out);
void emu_host_destroy(struct emu_host *h);
void *emu_host_thread(void *arg); /* arg: struct emu_host */

/* emu_ctl.c */
int emu_ctl_path(const char *netns, char *buf, size_t cap);
int emu_ctl_open(struct emu *e, const char *netns, char *err, size_t errlen);
void emu_ctl_close(struct emu *e);
/* Main thread: takes one client of the control socket, has its command carried out, answers. */
void emu_ctl_serve(struct emu *e);
/* Host thread: carries out the pending command (emu_host.c). */
void emu_host_ctl(struct emu_host *h, uint64_t now);

/* A host receive buffer of len bytes, listed (NIC thread); taken, unlisted and freed (host
 * thread); every one still listed freed (at teardown). */
uint8_t *emu_placed_new(struct emu *e, uint32_t len);
void emu_placed_take(struct emu *e, uint8_t *data, uint8_t *dst, uint32_t len);
void emu_placed_free_all(struct emu *e);

/* Frees what an entry owns (at teardown, for entries left on a ring). */
void emu_entry_free(const struct emu_entry *en);

#endif
