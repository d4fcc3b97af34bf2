/*
 * os.h - the host's operating system side of connection handoff: the host TCP stack, a small
 * socket layer for the application, and the device driver with its handoff API and the bypass
 * protocol (paper section 2, Figure 1), with the OS's connection-selection policy (section 3.3).
 *
 *   application (app.h)
 *        |  ho_so_* calls, readiness events
 *   socket layer   -- where a connection lives is hidden here: the host's TCP, or the NIC
 *        |
 *   host TCP (tcpe)    driver: HANDOFF, SEND, CLOSE out; HANDOFF_REPLY, RECV, ACKED, CLOSED,
 *        |                     SOFT_LIMIT in; packets held while a connection is on its way
 *   ------------------ PCI: packets and command messages (ops) ----------------------------
 *
 * The OS side is one object, built from a parameters struct and driven from outside with the
 * time as an argument. It never reads a clock and never spends time itself: every piece of work
 * it has to do (a packet's protocol processing, a message from the NIC, a system call, the
 * application's own work) goes to its platform through ops.run with its cost in cycles, its
 * category (network stack, system call, user) and its priority, and takes effect when the
 * platform says it has run (ho_os_work_done). A packet's work also names the memory it touches
 * (ho_os_work_mem), so that the simulator's cache model can charge the misses.
 *
 * Listening follows BSD: a listener's backlog (capped at somaxconn) bounds the connections
 * established and waiting to be accepted, and a SYN that arrives while more than that many wait
 * is dropped, so that its client retries after its retransmission timeout.
 *
 * Handoff. The selection policy picks connections to offer to the NIC: when they are accepted,
 * or at the n-th enqueue to their send buffer. The driver exports the connection's state from
 * the host's TCP and sends it in a HANDOFF command; packets that reach the host meanwhile are
 * held. If the NIC accepts, the held packets go to it and the socket switches to the bypass
 * protocol: sends become SEND commands and data arrives in RECV messages, while the socket
 * buffers stay in host memory. If it refuses, the state goes back into the host's TCP.
 */
#ifndef HANDOFF_OS_H
#define HANDOFF_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "handoff/pkt.h"
#include "handoff/select.h"
#include "handoff/tcpe.h"

/* Cycles of the host processor for each kind of work, before memory stalls, and the memory a
 * packet's processing touches (docs/cost-model.md). */
struct ho_os_costs {
    /* Network stack below the system calls. */
    uint32_t rx_pkt;  /* interrupt, driver, IP and TCP input of one packet */
    uint32_t tx_pkt;  /* TCP and IP output and the driver for one packet */
    uint32_t timer;   /* one TCP timer expiry (the packets it sends cost apart) */
    uint32_t msg_out; /* the driver posts one command message to the NIC */
    uint32_t msg_in;  /* the driver takes one message from the NIC (interrupt included) */
    uint32_t handoff; /* export a connection and switch its socket to bypass */
    /* System calls. */
    uint32_t sys_event;    /* the event loop's wait (select/kevent) per ready socket */
    uint32_t sys_accept;   /* accept() */
    uint32_t sys_read;     /* read() */
    uint32_t sys_write;    /* write() (plus the copy below) */
    uint32_t sys_sendfile; /* sendfile() */
    uint32_t sys_close;    /* close() */
    uint32_t copy_per_kb;  /* copying 1 KB between user and kernel memory */
    /* Memory touched per packet. */
    uint32_t conn_state_bytes; /* connection state: TCB, inpcb, socket */
    uint32_t pkt_hdr_bytes;    /* the packet's header buffer (written by DMA, so never cached) */
};

struct ho_os_params {
    uint32_t nic_conns;             /* the NIC's Hard limit; 0 = no handoff */
    struct ho_sel_policy selection; /* which connections to offer to the NIC */
    uint32_t conns; /* connections expected at once: sizes the TCP's and the driver's tables */
    bool virtual_payload;    /* packets carry lengths, not bytes (the simulator); on real
                                bytes (the emulator) the bypass protocol's SEND and RECV carry
                                host addresses of the bytes, and with handoff ops.host_take is
                                required */
    uint32_t mss;            /* TCP maximum segment size */
    uint32_t sndbuf;         /* send socket buffer, bytes */
    uint32_t rcvbuf;         /* receive socket buffer, bytes */
    uint64_t delack_ns;      /* delayed-ACK timer */
    bool delack_one_segment; /* tcpe_params.delack_one_segment */
    uint64_t rto_init_ns;    /* initial retransmission timeout (a SYN-ACK's), 0 = tcpe's */
    uint32_t somaxconn;      /* most connections a listener keeps waiting to be accepted, whatever
                                backlog the application asks for (kern.ipc.somaxconn); 0 = no cap */
    uint32_t tx_ring;        /* the NIC's send ring, descriptors (ho_nic_params.tx_ring); the
                                interface queue in front of it holds tx_ring - 1 packets */
    uint64_t seed;           /* seeds the TCP (seed ^ 0x5e) and the driver's table hash (seed) */
    uint32_t line_bytes;     /* cache line: connection state is laid out line-aligned */
    uint64_t watchdog_ns;    /* the driver resets a NIC that has given no sign of life (a message,
                                a received packet, a sent one) for this long while it has work
                                from the driver; 0 = no watchdog (docs/failures.md) */
    struct ho_os_costs costs;
};

/* Priorities of host work: the network preempts processes, as interrupts do. */
enum ho_os_prio { HO_OS_PRIO_NET = 0, HO_OS_PRIO_PROC = 1, HO_OS_NPRIOS };

/* Where host cycles go (the paper's profile: user, kernel, of which the network stack). */
enum ho_os_cat { HO_OS_CAT_USER = 0, HO_OS_CAT_SYS = 1, HO_OS_CAT_NET = 2, HO_OS_NCATS };

/* One piece of host work for ops.run. */
struct ho_os_work {
    uint8_t prio;    /* enum ho_os_prio */
    uint8_t cat;     /* enum ho_os_cat */
    bool touches;    /* call ho_os_work_mem when it first runs */
    bool notify;     /* call ho_os_work_done when it has run */
    uint64_t cycles; /* its cost, memory stalls aside */
    uint64_t arg;    /* the OS's own: give it back unchanged */
};

/* A region of host memory, in the OS's own address map. */
struct ho_os_mem {
    uint64_t addr;
    uint32_t len;
};
#define HO_OS_MEM_MAX 2

/*
 * A connection's life as the OS saw it (handoff run --conn-log; docs/simulator.md). Times are
 * the entry points' times, ns; HO_CONN_NEVER where the event did not happen. Under the paper's
 * policies a connection is offered at most once and comes back from the NIC at most once
 * (restored, or taken back after the NIC was lost), since one that came back is not offered
 * again; a policy that offers connections again (Bn) records the last of each in the record's
 * own fields, and every one in its moves.
 */
#define HO_CONN_NEVER UINT64_MAX

/* Why a connection came back from the NIC. */
enum ho_conn_back {
    HO_CONN_BACK_NONE = 0,      /* it did not */
    HO_CONN_BACK_REQUESTED = 1, /* RESTORE answering the host's RESTORE_REQUEST */
    HO_CONN_BACK_OVERLOAD = 2,  /* RESTORE the NIC sent unasked to shed load */
    HO_CONN_BACK_ERROR = 3,     /* RESTORE the NIC sent unasked: it cannot go on with it */
    HO_CONN_BACK_NIC_LOST = 4,  /* taken back from the state exported at handoff (NIC reset) */
    HO_CONN_NBACKS
};

/* One move of a connection: an offer, its answer and, if it went, its return (times as in the
 * record, HO_CONN_NEVER where the event did not happen). */
struct ho_conn_move {
    uint64_t offered;       /* HANDOFF sent */
    uint64_t answered;      /* HANDOFF_REPLY taken */
    uint64_t restore_asked; /* RESTORE_REQUEST sent */
    uint64_t back_at;       /* it came back (back != NONE) */
    uint8_t reply;          /* enum ho_cmd_handoff_status of the reply (answered only) */
    uint8_t back;           /* enum ho_conn_back */
};

/* The moves a record keeps: the first HO_CONN_MOVES_MAX; the rest are only counted. */
#define HO_CONN_MOVES_MAX 1024

struct ho_conn_record {
    uint32_t sock;           /* the socket's number while it lived (numbers are reused) */
    struct tcpe_tuple tuple; /* from our side */
    uint64_t accepted;       /* accept() returned it to the application */
    uint64_t offered;        /* HANDOFF sent */
    uint64_t answered;       /* HANDOFF_REPLY taken */
    uint8_t reply;           /* enum ho_cmd_handoff_status of that reply (answered only) */
    uint8_t back;            /* enum ho_conn_back */
    bool closed_on_nic;      /* it ended on the NIC (CLOSED), not in the host's TCP */
    uint64_t restore_asked;  /* RESTORE_REQUEST sent */
    uint64_t back_at;        /* it came back (back != NONE) */
    uint64_t closed;         /* its socket was released; HO_CONN_NEVER while it lives */
    uint32_t handoffs;       /* offers the NIC accepted: more than one only under a policy that
                                gives connections back when their transfer ends and offers them
                                again (Bn); offered to back_at are then the last offer's and
                                what followed it, and moves holds every one */
    uint64_t bytes_in;       /* read by the application */
    uint64_t bytes_out;      /* taken from the application */
    /* Every offer in order: kept only while the platform observes records (ops.conn_done set),
     * else NULL and 0. They belong to the OS and stay valid until its next call. */
    const struct ho_conn_move *moves;
    uint32_t nmoves;
    uint32_t moves_untold; /* offers after the first HO_CONN_MOVES_MAX, not in moves */
};

/* "requested", "overload", "error", "nic_lost", or "none". */
const char *ho_conn_back_name(enum ho_conn_back b);

/*
 * Writes r as one line of JSON (no newline) into buf of len bytes: its times in ms since time
 * zero, null for events that did not happen, and the handoff latency (HANDOFF sent to its reply)
 * in us; then its moves, as an array of objects with the same keys. Returns the length the line
 * needs, as snprintf does (a result >= len: truncated; buf may be NULL when len is 0).
 */
int ho_conn_record_json(const struct ho_conn_record *r, char *buf, size_t len);

/*
 * The platform. Every op is required except the observers. Calls come from inside the entry
 * points, with the time the entry point was given.
 */
struct ho_os_ops {
    /* Run w on the host processor (w is copied). */
    void (*run)(void *ctx, const struct ho_os_work *w, uint64_t now);
    /* From now on call ho_os_timer at `when` (at once if not after now) instead of at any time
     * given before; TCPE_NEVER: not at all. */
    void (*timer)(void *ctx, uint64_t when, uint64_t now);
    /* The driver gives the NIC a packet to send; the platform owns p from now on. */
    void (*nic_tx)(void *ctx, struct ho_pkt *p, uint64_t now);
    /* The driver hands the NIC a received packet of a connection now on the NIC. */
    void (*nic_forward)(void *ctx, struct ho_pkt *p, uint64_t now);
    /* The driver posts a command message to the NIC (len bytes, valid during the call). */
    void (*nic_cmd)(void *ctx, const uint8_t *msg, uint32_t len, uint64_t now);
    /* A new packet holding seg (the host's TCP sends it), or NULL when memory is exhausted. */
    struct ho_pkt *(*pkt_alloc)(void *ctx, const struct tcpe_seg *seg);
    /* Gives a consumed packet back. */
    void (*pkt_free)(void *ctx, struct ho_pkt *p);
    /* The packet numbered id (ho_pkt.id), which the OS holds. */
    struct ho_pkt *(*pkt_at)(void *ctx, uint32_t id);
    /* Something the platform should know went wrong (a connection was reset or timed out); the
     * OS goes on. */
    void (*fault)(void *ctx, const char *what);
    /* Observers, may be NULL: a connection was accepted; it was handed to the NIC. */
    void (*established)(void *ctx, uint32_t sock);
    void (*handed_off)(void *ctx, uint32_t sock);
    /* Observer, may be NULL: a socket is being released; r is its life (valid during the
     * call). */
    void (*conn_done)(void *ctx, const struct ho_conn_record *r);
    /* Real payload with handoff only (NULL otherwise): the driver takes len received bytes that
     * the NIC placed at host address addr (ho_nic_ops.host_place) into dst; the buffer is free
     * after. */
    void (*host_take)(void *ctx, uint64_t addr, uint8_t *dst, uint32_t len);
    /* With a watchdog (params.watchdog_ns) only, NULL otherwise: from now on call
     * ho_os_watchdog at `when` instead of at any time given before (TCPE_NEVER: not at all);
     * and reset the NIC, as the driver pulls its reset line (ho_nic_reset): a FW_UP follows. */
    void (*watchdog)(void *ctx, uint64_t when, uint64_t now);
    void (*nic_reset)(void *ctx, uint64_t now);
};

/* Socket events for the application (a bit set). */
enum ho_so_event {
    HO_SO_ACCEPT = 1u << 0,   /* the listener has connections to accept */
    HO_SO_READABLE = 1u << 1, /* data, or the peer's FIN, to read */
    HO_SO_WRITABLE = 1u << 2, /* room in the send buffer */
    HO_SO_RESUMED = 1u << 3,  /* a send that handed the connection off may go on (ho_so_send) */
    HO_SO_RELEASED = 1u << 4, /* the socket is gone; its number may come back from accept */
};

/* The application above the socket layer. */
struct ho_os_app {
    /* Events on socket sock (HO_SO_* bits). */
    void (*event)(void *ctx, uint32_t sock, unsigned events, uint64_t now);
    /* Work queued with ho_os_syscall or ho_os_user has run. */
    void (*done)(void *ctx, uint64_t arg, uint64_t now);
    void *ctx;
};

/* System calls, a bit set for ho_os_syscall. */
enum ho_sys {
    HO_SYS_EVENT = 1u << 0,
    HO_SYS_ACCEPT = 1u << 1,
    HO_SYS_READ = 1u << 2,
    HO_SYS_WRITE = 1u << 3,
    HO_SYS_SENDFILE = 1u << 4,
    HO_SYS_CLOSE = 1u << 5,
};

/* The largest argument of ho_os_syscall and ho_os_user. */
#define HO_OS_APP_ARG_MAX ((UINT64_C(1) << 60) - 1)

/* What the OS holds and has done, for the platform's metrics and checks. */
struct ho_os_info {
    uint64_t pkts;                /* packets processed by the network stack (received and sent) */
    uint64_t pkts_working;        /* packets whose work is queued or running */
    uint64_t pkts_held;           /* packets held for connections on their way to the NIC */
    uint32_t on_nic;              /* sockets whose connection is on the NIC */
    uint32_t offered;             /* sockets whose connection is on its way to the NIC */
    uint32_t sel_on_nic;          /* the selection policy's count: offered or on the NIC */
    uint64_t accepted;            /* HANDOFF_REPLYs taken that accepted a connection */
    uint64_t closed;              /* CLOSED messages taken */
    uint64_t ifq_drops;           /* packets the full interface queue refused (ENOBUFS) */
    uint32_t ifq_len;             /* packets in the interface queue, waiting for the send ring */
    uint32_t tx_posted;           /* host packets on the NIC's send ring */
    const struct tcpe_stats *tcp; /* the host TCP's counters */
    uint64_t nic_resets;          /* FW_UPs taken: the NIC's firmware started again */
    uint64_t conns_recovered;     /* connections the NIC held, or was taking, that the host took
                                     back after a reset */
    uint64_t conns_reset;         /* of those, ones the host could not go on with and reset */
    uint64_t last_fw_up;          /* when the last FW_UP was taken (0: never) */
    uint64_t restored;            /* RESTOREs taken */
    uint64_t accepted_at_fw_up, closed_at_fw_up, restored_at_fw_up; /* when it was taken */
    uint64_t watchdog_resets;     /* NICs the watchdog found hung and reset */
    uint64_t last_watchdog_reset; /* when it last did (0: never) */
    uint64_t uploaded;            /* connections the NIC gave back unasked (RESTORE, not answering
                                     a RESTORE_REQUEST) */
    uint64_t given_back;          /* connections asked back because their transfer had ended and
                                     their selection policy frees slots (ho_sel_drained) */
};

struct ho_os;

/*
 * Builds the OS side. ops is copied; ctx is passed to every op. Returns HO_OK and *out,
 * HO_EINVAL if a parameter is out of range, HO_ENOMEM.
 */
int ho_os_create(const struct ho_os_params *p, const struct ho_os_ops *ops, void *ctx,
                 struct ho_os **out);

/* Frees it; packets it holds (held for a connection on its way to the NIC, or waiting in the
 * interface queue) go back through ops.pkt_free. Packets whose work the platform has not yet run
 * are the platform's to reclaim, as it holds that work. NULL is allowed. */
void ho_os_destroy(struct ho_os *os);

/* Attaches the application (copied). Events go nowhere before. */
void ho_os_set_app(struct ho_os *os, const struct ho_os_app *app);

/* The platform's side. */

/* A received packet was placed in host memory by the NIC: its protocol processing is queued. */
void ho_os_rx(struct ho_os *os, struct ho_pkt *p, uint64_t now);

/* The NIC has sent a host packet and freed its send-ring descriptor (ho_nic_ops.host_tx_done):
 * the driver posts the next packet waiting in the interface queue, if any. */
void ho_os_tx_done(struct ho_os *os, uint64_t now);

/* The host memory the NIC's DMA writes a received packet into (it leaves the caches). */
struct ho_os_mem ho_os_rx_buf(const struct ho_os *os, const struct ho_pkt *p);

/*
 * A message from the NIC (len bytes, copied): its processing is queued. Returns HO_OK, or
 * HO_EPROTO (nothing is queued) if it does not decode or is not a message the driver takes
 * (HANDOFF_REPLY, SOFT_LIMIT, RECV, ACKED, CLOSED, RESTORE). Its sequence number, and the
 * connection it names, are checked when it is carried out: a gap, or a connection the NIC does not
 * hold, is the firmware's bug, and an assertion names it.
 */
int ho_os_msg(struct ho_os *os, const uint8_t *msg, uint32_t len, uint64_t now);

/* The TCP timers are due (ops.timer). */
void ho_os_timer(struct ho_os *os, uint64_t now);

/* The watchdog's time (ops.watchdog) has come: if the NIC still has work from the driver and has
 * given no sign of life for params.watchdog_ns, the driver resets it (ops.nic_reset). */
void ho_os_watchdog(struct ho_os *os, uint64_t now);

/* Work arg has just got the processor: fills mem with the memory it touches, returns how many
 * regions (at most HO_OS_MEM_MAX). */
unsigned ho_os_work_mem(struct ho_os *os, uint64_t arg, struct ho_os_mem *mem);

/* Work arg has run: carries it out. */
void ho_os_work_done(struct ho_os *os, uint64_t arg, uint64_t now);

void ho_os_info(const struct ho_os *os, struct ho_os_info *info);

/*
 * Checks that every socket's ownership is consistent (the host's TCP holds exactly the
 * connections that live on the host). Returns 0, or -1 with why filled.
 */
int ho_os_check(const struct ho_os *os, char *why, size_t len);

/* The application's side: the socket layer. */

/* Listens on ip:port with a backlog of connections waiting to be accepted (capped at
 * somaxconn); returns the listening socket's number (>= 0), or an HO_E* error. */
int ho_so_listen(struct ho_os *os, uint32_t ip, uint16_t port, uint32_t backlog);

/*
 * Takes an established connection from the listener: returns its socket's number (> 0), or
 * HO_EAGAIN if none waits. The selection policy may offer it to the NIC at once.
 */
int ho_so_accept(struct ho_os *os, uint64_t now);

/* Bytes waiting to be read on sock, and whether the peer has closed (0 and false while the
 * connection is on its way to the NIC: what it had received travels with it). */
uint32_t ho_so_readable(const struct ho_os *os, uint32_t sock);
bool ho_so_eof(const struct ho_os *os, uint32_t sock);

/* Reads everything waiting on sock (payload is not copied: the count is returned); *eof says
 * whether the peer has closed. Virtual payload only. Socket calls may come from the OS's
 * callbacks or from outside them; either way the TCP's timers are re-armed when needed. */
int ho_so_read(struct ho_os *os, uint32_t sock, uint64_t now, bool *eof);

/* The same on real payload: copies up to cap waiting bytes into buf and returns how many (0 when
 * none wait); *eof says whether the peer has closed and every byte has been read. */
int ho_so_recv(struct ho_os *os, uint32_t sock, void *buf, uint32_t cap, uint64_t now, bool *eof);

/*
 * Non-blocking send of len bytes: first `written` bytes copied from the application (a header,
 * or a whole dynamic response), then file bytes from offset file_off on (sendfile). Queues what
 * the send buffer takes and returns that many bytes (0..len). The bytes go in appends, as
 * FreeBSD 4.7 makes them: the written bytes in one, then the file a page at a time; after each
 * append the host's TCP sends what it can, and on a connection on the NIC each append is a SEND
 * command. The appends count for the threshold selection policy. When the policy offers the
 * connection to the NIC, the call stops after that append, the bytes queued so far travel with
 * the connection's state, and until the NIC answers sends queue nothing. The call stays open in
 * the kernel until then and goes on through the HO_SO_RESUMED event: the application calls
 * ho_so_send again from inside it, with no new system call.
 */
int64_t ho_so_send(struct ho_os *os, uint32_t sock, uint64_t written, uint64_t file_off,
                   uint64_t len, uint64_t now);

/* Where the bytes of a send on real payload come from. */
struct ho_so_src {
    const uint8_t *written; /* the `written` bytes of the call, in order */
    const uint8_t *file;    /* the file's bytes from its offset 0 (a mapping of it); the call
                               reads [file_off, file_off + len - written) */
};

/* ho_so_send on real payload: the same appends, each holding its bytes from src. The bytes are
 * copied into the socket's send buffer, so src need live only during the call. */
int64_t ho_so_send_data(struct ho_os *os, uint32_t sock, const struct ho_so_src *src,
                        uint64_t written, uint64_t file_off, uint64_t len, uint64_t now);

/* The connection's 4-tuple, from our side. */
const struct tcpe_tuple *ho_so_tuple(const struct ho_os *os, uint32_t sock);

/* The life so far of the connection of open socket sock (its closed time HO_CONN_NEVER) into
 * *out. */
void ho_so_record(const struct ho_os *os, uint32_t sock, struct ho_conn_record *out);

/* Calls fn with the record of every open connection, in socket order (for a log's end). */
void ho_os_each_record(const struct ho_os *os,
                       void (*fn)(void *ctx, const struct ho_conn_record *r), void *ctx);

/* Where a socket's connection lives. */
enum ho_so_where {
    HO_SO_HOST = 0,      /* in the host's TCP */
    HO_SO_OFFERED = 1,   /* on its way to the NIC */
    HO_SO_NIC = 2,       /* on the NIC */
    HO_SO_RESTORING = 3, /* on its way back from the NIC */
};

/* A socket, for listings (`handoff emu ls`). */
struct ho_so_info {
    uint8_t where;           /* enum ho_so_where */
    struct tcpe_tuple tuple; /* from our side */
    uint64_t bytes_in;       /* bytes the application has read */
    uint64_t bytes_out;      /* bytes the application has sent */
    uint32_t moves;          /* handoffs accepted and restores */
    uint64_t since;          /* when it was accepted (the time given to ho_so_accept) */
};

/* Fills *out for socket sock if it is open: HO_OK, else HO_ENOENT. Sockets are numbered from 0
 * to below ho_so_count(). */
int ho_so_info(const struct ho_os *os, uint32_t sock, struct ho_so_info *out);
uint32_t ho_so_count(const struct ho_os *os);

/*
 * Asks the NIC to give sock's connection back (RESTORE_REQUEST). Until the RESTORE arrives the
 * socket reads what was delivered and sends nothing (a send goes on at HO_SO_RESUMED); then it
 * lives in the host's TCP again. Returns HO_OK, or HO_ESTATE if the connection is not on the
 * NIC (on the host, or on its way) or the application has closed it, HO_ENOENT if sock is not
 * open.
 */
int ho_os_restore(struct ho_os *os, uint32_t sock, uint64_t now);

/* Asks the NIC for every connection it holds (RESTORE_REQUEST each, reason RECLAIM), as before a
 * firmware update; the ones the application has closed finish there. Returns how many were
 * asked for. */
uint32_t ho_os_restore_all(struct ho_os *os, uint64_t now);

/* Closes sock. The socket is released (HO_SO_RELEASED) at once on the host, or when the NIC
 * says the connection has ended there. */
void ho_so_close(struct ho_os *os, uint32_t sock, uint64_t now);

/*
 * Queues system calls of the application (the bits of calls, and copy_bytes copied between
 * user and kernel memory) on the host processor; app.done(arg) is called when they have run.
 * arg <= HO_OS_APP_ARG_MAX.
 */
void ho_os_syscall(struct ho_os *os, unsigned calls, uint64_t copy_bytes, uint64_t arg,
                   uint64_t now);

/* Queues cycles of the application's own work; app.done(arg) when it has run. */
void ho_os_user(struct ho_os *os, uint64_t cycles, uint64_t arg, uint64_t now);

#endif
