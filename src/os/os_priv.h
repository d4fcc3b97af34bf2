/*
 * os_priv.h - the OS side's state, shared by its three files: os.c (the object, the host TCP
 * stack, packet processing and timers, and the work the platform runs for it), driver.c (the
 * device driver: handoff, the messages to and from the NIC, the bypass protocol) and socket.c
 * (the socket layer the application calls).
 */
#ifndef HANDOFF_OS_PRIV_H
#define HANDOFF_OS_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "handoff/bufpool.h"
#include "handoff/lookup.h"
#include "handoff/os.h"
#include "handoff/select.h"
#include "handoff/tcpe.h"

/* The host's memory map (simulated addresses, for the cache model). */
#define OS_STATE_BASE  0x100000000ull /* connection state, one slot per socket */
#define OS_BUF_BASE    0x010000000ull /* receive buffers (mbufs), a ring */
#define OS_BUF_COUNT   4096u
#define OS_BUF_BYTES   256u
#define OS_LISTEN_SOCK 0u         /* the listening socket: SYNs touch its state */
#define OS_PAGE_BYTES  4096u      /* sendfile appends a file to the socket page by page */
#define OS_TX_RING_MAX (1u << 20) /* the largest send ring the driver takes */

/* Kinds of work, in the top four bits of a work's arg. */
enum os_work_kind {
    OS_W_RX = 1,      /* a received packet's protocol processing (arg: packet id) */
    OS_W_TX = 2,      /* a sent packet's (arg: packet id) */
    OS_W_MSG_IN = 3,  /* a message from the NIC (arg: its buffer) */
    OS_W_MSG_OUT = 4, /* a command to the NIC (arg: its buffer) */
    OS_W_APP = 5,     /* the application's system calls or own work (arg: the application's) */
};
#define OS_W_ARG(kind, v) (((uint64_t)(kind) << 60) | (v))
#define OS_W_KIND(arg)    ((unsigned)((arg) >> 60))
#define OS_W_VAL(arg)     ((arg)&HO_OS_APP_ARG_MAX)

/* Where a socket's connection lives, in the order of its life (the values of enum
 * ho_so_where). */
enum os_where { OS_HOST = 0, OS_OFFERED = 1, OS_ON_NIC = 2, OS_RESTORING = 3 };

/* Bytes in host memory that a socket keeps for its connection on the NIC (real payload). */
struct os_bytes {
    uint8_t *buf;
    uint32_t cap, head, len;
};

/* A socket: the OS's side of one connection. Its number is its slot. */
struct os_sock {
    bool in_use;
    uint8_t where;           /* enum os_where */
    struct tcpe_conn *conn;  /* in the host's TCP (OS_HOST), else NULL */
    struct tcpe_tuple tuple; /* from our side */
    struct ho_sel_conn sel;  /* the selection policy's view of it */
    uint8_t *blob;           /* OS_OFFERED, OS_ON_NIC, OS_RESTORING: the state exported at the
                                handoff, kept until the connection is back or ended: with the
                                counts below it takes the connection back if the NIC is lost */
    uint32_t blob_len;
    uint64_t nic_acked;     /* OS_ON_NIC: bytes reported acknowledged (ACKED) since the handoff */
    uint64_t nic_delivered; /* OS_ON_NIC: bytes delivered (RECV) since the handoff */
    struct ho_pkt **held; /* OS_OFFERED: packets that reached the host meanwhile */
    uint32_t nheld, cap_held;
    uint64_t snd_inflight; /* OS_ON_NIC: bytes given to the NIC, not yet acknowledged */
    uint64_t app_left;     /* bytes the application's last send did not hand over (it will call
                              again for them) */
    uint32_t rx_ready;     /* OS_ON_NIC: received bytes the NIC has delivered, unread */
    bool nic_eof;          /* OS_ON_NIC: the NIC delivered the peer's FIN */
    bool close_pending;    /* closed while on its way to or from the NIC */
    bool close_sent;       /* OS_ON_NIC: closed by the application, CLOSE sent */
    /* Real payload. */
    struct os_bytes snd;  /* OS_ON_NIC: the send socket buffer, a ring the NIC reads by DMA:
                             bytes given in SEND commands and not yet acknowledged */
    uint64_t snd_phantom; /* OS_ON_NIC: of snd_inflight, bytes that went with the state (the
                             NIC has them; they are not in snd) */
    struct os_bytes rcv;  /* received bytes the NIC delivered and the application has not read
                             (read before the host's TCP's after a restore) */
    /* Observability. */
    uint64_t bytes_in, bytes_out; /* read by, and taken from, the application */
    uint32_t moves;               /* handoffs accepted and restores */
    uint64_t since;               /* when it was accepted */
    struct ho_conn_record rec;    /* its life, for ops.conn_done and ho_so_record */
    struct ho_conn_move *move_log; /* rec.moves, owned (kept while ops.conn_done is set) */
    uint32_t cap_move_log;
    bool move_kept;               /* the last offer is rec.moves' last entry */
};

struct ho_os {
    struct ho_os_params p;
    struct ho_os_ops ops;
    void *ctx;
    struct ho_os_app app;
    uint64_t now;    /* the time of the entry point running (the TCP's callbacks have none) */
    unsigned nested; /* work or timers of the OS are running (the application is called back) */

    struct tcpe_stack *stack;
    struct tcpe_conn *listener;
    uint16_t listen_port;
    uint64_t tcp_wake; /* the TCP timer time last given to the platform */

    struct os_sock *socks; /* by number */
    uint32_t nsocks;
    uint32_t *free_socks; /* a stack of free numbers */
    uint32_t nfree;

    struct ho_sel sel;          /* the selection policy */
    struct ho_lookup *bypassed; /* tuples of connections offered to or on the NIC */
    struct ho_bufpool msgs;     /* messages in and out, until their work has run */
    uint32_t seq_out, seq_in;   /* message numbers, to the NIC and from it */

    uint64_t pkts, pkts_working, pkts_held;
    uint64_t accepted, closed;

    /* The send side of the interface (driver.c): packets the TCP has sent and the NIC has not,
     * in their output processing, in the interface queue, or on the NIC's send ring. */
    uint32_t tx_pending; /* all of them */
    uint32_t tx_posted;  /* of those, on the send ring */
    uint32_t *ifq;       /* the interface queue, packet ids, a ring of ifq_cap slots */
    uint32_t ifq_head, ifq_len, ifq_cap;
    uint64_t ifq_drops; /* packets refused because the interface queue was full */

    /* The NIC's resets (driver.c): between a FW_UP and the moment its INIT goes to the NIC the
     * send ring is down, and packets wait in the interface queue. */
    bool nic_initializing;
    uint32_t init_boot; /* the boot the INIT to send answers */
    uint64_t nic_resets, conns_recovered, conns_reset;
    uint64_t last_fw_up; /* when the last FW_UP was taken */
    /* The watchdog (params.watchdog_ns): the NIC's last sign of life, the commands posted since,
     * and the time given to ops.watchdog (TCPE_NEVER: none). */
    uint64_t last_life;
    uint64_t cmds_since_life;
    uint64_t wd_when;
    uint64_t watchdog_resets, last_watchdog_reset;
    uint64_t uploaded; /* RESTOREs the NIC sent unasked */
    uint64_t given_back; /* RESTORE_REQUESTs sent because a transfer had ended (ho_sel_drained) */
    uint64_t restored; /* RESTOREs taken */
    uint64_t accepted_at_fw_up, closed_at_fw_up, restored_at_fw_up;
};

/* socket.c: a socket's received bytes (struct os_bytes used as a growing queue). */
void os_rcv_append(struct os_bytes *q, const uint8_t *data, uint32_t n);
uint32_t os_rcv_take(struct os_bytes *q, uint8_t *dst, uint32_t n);

/* os.c */
/* Queues work on the host processor. */
void os_run(struct ho_os *os, unsigned prio, unsigned cat, uint64_t cycles, bool touches,
            uint64_t arg);
/* Tells the platform when the TCP next needs its timers, if that changed. */
void os_rearm(struct ho_os *os);
/* At the end of a socket call: re-arms, unless the call came from inside the OS's own work or
 * timers, which re-arm when they end. */
void os_call_done(struct ho_os *os);
void os_app_event(struct ho_os *os, uint32_t sock, unsigned events);

/* driver.c */
int os_driver_init(struct ho_os *os);
void os_driver_fini(struct ho_os *os);
/* Hands a host connection to the NIC. */
void os_offer(struct ho_os *os, uint32_t sock);
/* Whether a received packet that the host's stack does not hold belongs to a connection offered
 * to or on the NIC; if so the driver has taken it (held or forwarded). */
bool os_bypass_rx(struct ho_os *os, struct ho_pkt *p);
/* Sends up to len bytes of sock, on the NIC, as a SEND command; returns how many. data holds
 * them on real payload (NULL on virtual). */
uint32_t os_nic_send(struct ho_os *os, uint32_t sock, const uint8_t *data, uint64_t len);
void os_nic_close(struct ho_os *os, uint32_t sock);
void os_msg_out_done(struct ho_os *os, uint32_t handle);
/* Whether the interface takes one more packet from the TCP (if so it is counted pending), or
 * refuses it, as ip_output does with ENOBUFS when the interface queue is full. */
bool os_if_admit(struct ho_os *os);
/* A sent packet's output processing has run: it goes on the send ring, or waits in the
 * interface queue for a free descriptor. */
void os_if_start(struct ho_os *os, struct ho_pkt *p);
void os_msg_in_done(struct ho_os *os, uint32_t handle);
/* The NIC gave a sign of life (a message, a received packet, a sent one). */
void os_nic_alive(struct ho_os *os);
/* The driver gave the NIC work (a command, a packet to send): arms the watchdog if it is not. */
void os_nic_given(struct ho_os *os);

/* socket.c */
int os_socks_init(struct ho_os *os);
void os_socks_fini(struct ho_os *os);
/* Frees socket sock, telling the application. */
void os_sock_free(struct ho_os *os, uint32_t sock);
/* Carries out a close that waited for the NIC's answer, or a close on the host. */
void os_sock_close(struct ho_os *os, uint32_t sock);

#endif
