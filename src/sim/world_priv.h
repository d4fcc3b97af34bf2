/*
 * world_priv.h - the state of one simulated run, shared by the files of src/sim/ that model its
 * parts: wire.c (the wire and the packet pool), clients.c (the client machine), nic.c (the
 * NIC's firmware and processor), host.c (the host's processor, TCP stack and web server) and
 * world.c (creation, the run's phases, metrics and conservation checks).
 *
 * A packet travels clients -> wire -> NIC -> host and back; each part hands it to the next by
 * calling that part's entry point (wire_send, nic_rx_arrive, host_rx, ...) at the simulated
 * time the handoff happens, so the files depend on each other only through this header.
 */
#ifndef HANDOFF_SIM_WORLD_PRIV_H
#define HANDOFF_SIM_WORLD_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "handoff/ackagg.h"
#include "handoff/cmd.h"
#include "handoff/loadctl.h"
#include "handoff/lookup.h"
#include "handoff/sched.h"
#include "handoff/select.h"
#include "handoff/sim_cache.h"
#include "handoff/sim_config.h"
#include "handoff/sim_cpu.h"
#include "handoff/sim_evq.h"
#include "handoff/sim_world.h"
#include "handoff/tcpe.h"
#include "handoff/workload.h"

#define SERVER_IP   0x0a000001u /* 10.0.0.1 */
#define SERVER_PORT 80
#define CLIENT_NET  0x0a010000u /* clients are 10.1.x.y */

/* A connection on the NIC. */
struct nic_slot {
    struct tcpe_conn *conn; /* in the NIC's TCP stack */
    struct tcpe_tuple tuple;
    uint32_t host_id; /* the driver's id: the host's server-connection slot */
    uint64_t sent;    /* bytes queued by the driver's SEND commands (and at import) */
    uint64_t acked;   /* of those, acknowledged and reported to the driver */
    bool fin_told;    /* the driver has heard of the peer's FIN */
    uint32_t next_free;
};

/* A packet on the simulated network: headers parsed, payload virtual. */
struct sim_pkt {
    struct tcpe_seg seg;  /* the segment (seg.data is always NULL) */
    uint32_t frame_bytes; /* Ethernet frame length, header to FCS */
    uint32_t conn_slot;   /* host: the server connection's cache slot, or UINT32_MAX */
    uint64_t t_nic;       /* when it entered the NIC (receive) or its send queue */
    uint32_t index;       /* its place in the pool */
    uint32_t next_free;   /* free-list link */
    bool measured;        /* put on the wire during the measured phase */
};

enum { DIR_TO_SERVER = 0, DIR_TO_CLIENT = 1 };
#define PKT_CHUNK 4096u

struct wire_dir {
    uint64_t bits;     /* bits serialized since time 0 (absolute, no drift) */
    uint64_t free_bit; /* the bit count at which the wire is next free */
    uint64_t sent, delivered, in_flight;
};

/* A client: one closed-loop user of the workload. */
struct client {
    struct tcpe_conn *conn; /* its connection, or NULL between connections */
    struct ho_conn wc;      /* the workload's cursor for that connection */
    struct ho_req req;      /* the request in progress */
    uint32_t expected;      /* response bytes (header + body) of the request in progress */
    uint32_t received;      /* response bytes received so far */
    uint64_t sent_at;       /* when the request was sent */
    uint64_t moved_at;      /* when its last response bytes arrived (sent_at before any) */
    uint64_t next_at;       /* pacing: earliest time of the next request */
    uint16_t port;          /* the connection's client port */
    bool waiting;           /* a request is outstanding */
};

/* A server connection on the host: the web server's view and the cache slot of its state. */
enum srv_where { SRV_HOST = 0, SRV_OFFERED = 1, SRV_ON_NIC = 2 };

struct srv_conn {
    bool in_use;             /* the slot holds a connection */
    uint8_t where;           /* enum srv_where */
    struct tcpe_conn *conn;  /* in the host's stack (SRV_HOST), else NULL */
    struct tcpe_tuple tuple; /* its 4-tuple, from the server's side */
    struct ho_sel_conn sel;  /* the selection policy's view of it */
    uint8_t *blob;           /* SRV_OFFERED: the exported state, kept until the NIC answers */
    uint32_t blob_len;
    uint32_t *held; /* SRV_OFFERED: packets that reached the host meanwhile */
    uint32_t nheld, cap_held;
    uint64_t snd_inflight; /* SRV_ON_NIC: bytes given to the NIC, not yet acknowledged */
    uint32_t rx_ready;     /* SRV_ON_NIC: received bytes the NIC has delivered, unread */
    bool nic_eof;          /* SRV_ON_NIC: the NIC delivered the peer's FIN */
    int32_t client;        /* the client whose request is being read or parsed, or -1 */
    uint32_t req_need;     /* request bytes still to read */
    uint64_t resp_left;    /* response bytes still to queue */
    uint64_t write_left;   /* of those, bytes written (copied), queued before the file pages */
    uint64_t file_queued;  /* of the file, bytes queued so far (pages appended) */
    uint32_t gen;          /* bumped when the slot is freed: stale tasks see the change */
    bool closing;          /* the client closed; our close is under way */
    bool close_pending;    /* closed while on its way to the NIC */
    bool counted;          /* established while measuring (counts in the connection share) */
    uint32_t reads_queued; /* OP_READ tasks submitted and not yet run */
};

struct sim_world {
    struct sim_config cfg;
    struct sim_evq *evq;
    uint64_t now_hint;

    /* Packets. */
    struct sim_pkt **pkt_chunks; /* PKT_CHUNK packets each; packets never move */
    uint32_t npkts, free_pkt, live_pkts;
    struct wire_dir wire[2];
    uint64_t wire_bps;
    struct sim_pcap *pcap; /* the wire's capture, or NULL */

    /* Clients. */
    struct tcpe_stack *cli_stack;
    struct ho_wl *wl;
    struct ho_trace *trace;
    struct client *clients;
    uint32_t nclients;
    uint64_t cli_timer_at, cli_timer_handle;
    uint32_t next_port;

    /* NIC. */
    struct sim_cpu *nic_cpu;
    struct ho_sched *nic_q;
    bool nic_busy;
    struct ho_sched_item nic_item; /* the work the NIC's processor is running */
    uint64_t nic_timer_debt;       /* timer-expiry instructions not yet charged to the NIC */
    struct ho_lookup *lookup;      /* NULL without handoff */
    struct ho_lc lc;
    struct ho_ackagg *ackagg;
    bool ack_timer_armed;
    struct tcpe_stack *nic_stack;
    struct nic_slot *nic_slots; /* Hard limit of them */
    uint32_t nic_free;
    uint32_t *nic_of_host; /* host slot -> NIC slot, UINT32_MAX if none */
    uint32_t nnic_of_host;
    uint64_t nic_timer_at, nic_timer_handle;
    uint32_t seq_to_nic_sent, seq_to_nic_got, seq_to_host_sent, seq_to_host_got;
    uint8_t **msgs;     /* messages in flight, by handle; NULL if free (pci.c) */
    uint32_t *msg_next; /* free-list links of msgs */
    uint32_t nmsgs, msg_free, msgs_live;

    /* Host. */
    struct sim_cpu *host_cpu;
    struct sim_cache *l2;
    struct tcpe_stack *host_stack;
    struct tcpe_conn *listener;
    struct srv_conn *srv; /* by slot */
    uint32_t nsrv, free_srv_hint;
    uint32_t *free_slots;
    uint32_t nfree_slots;
    uint64_t host_timer_at, host_timer_handle;
    struct ho_sel sel;          /* the OS's selection policy */
    struct ho_lookup *bypassed; /* tuples of connections offered to or on the NIC */

    /* The sampler: the time series, and the watch for a run in which nothing moves. */
    struct world_tick {
        uint64_t interval;
        sim_sample_fn sample;
        void *ctx;
        uint64_t last_packets, idle_ticks;
    } tick;

    /* Phases and metrics. */
    bool measuring, done;
    bool draining; /* sim_world_drain: clients send no new request */
    uint64_t measure_start_ns, measure_end_ns;
    uint64_t wire_packets; /* packets put on the wire, whole run */
    uint64_t m_requests, m_resp_bytes, m_resp_ns, m_conns, m_conns_nic;
    uint64_t m_host_pkts, m_host_misses, m_nic_pkts;
    float *delay_rx, *delay_tx;
    uint64_t ndelay_rx, ndelay_tx, cap_delay_rx, cap_delay_tx;
    uint64_t retrans_base;
    double soft_sum, cnum_sum;
    uint64_t nsamples;
    uint64_t host_busy_prev, nic_busy_prev, host_elapsed_prev, nic_elapsed_prev;

    /* Conservation: where live packets and messages are. */
    uint64_t pkts_in_host_tasks; /* packets a host task is processing or about to */
    uint64_t pkts_held;          /* packets held for connections on their way to the NIC */
    uint64_t msgs_in_nic_q;      /* messages waiting on the NIC's CMD and NIC_TX queues */
    uint32_t accepts_in_flight;  /* accepting HANDOFF_REPLYs the driver has not yet taken */
    uint32_t closes_in_flight;   /* CLOSED messages the driver has not yet taken */
    uint64_t bad_responses;      /* responses that got more bytes than they should */
    char failure[256];
};

/* Host CPU categories and priorities. */
enum { CAT_USER = 0, CAT_OS = 1, CAT_NET = 2, HOST_NCATS = 3 };
enum { PRIO_NET = 0, PRIO_APP = 1 };
/* Where the NIC's instructions go: host packets, its own TCP (packets and timers), and the
 * messages it exchanges with the driver. */
enum { NIC_CAT_HOST = 0, NIC_CAT_TCP = 1, NIC_CAT_MSG = 2, NIC_NCATS = 3 };

/* wire.c */
int wire_init(struct sim_world *w);
struct sim_pkt *pkt_new(struct sim_world *w, const struct tcpe_seg *seg);
void pkt_free(struct sim_world *w, struct sim_pkt *p);
struct sim_pkt *pkt_at(const struct sim_world *w, uint32_t index);
void pkt_pool_fini(struct sim_world *w);
void wire_send(struct sim_world *w, int dir, struct sim_pkt *p, uint64_t now);

/* clients.c */
int clients_init(struct sim_world *w, struct sim_config_err *err);
void clients_start(struct sim_world *w, uint64_t now);
void clients_rx(struct sim_world *w, struct sim_pkt *p, uint64_t now);
void clients_fini(struct sim_world *w);
uint32_t clients_request_bytes(const struct sim_world *w, uint32_t client);
uint64_t clients_response_bytes(const struct sim_world *w, uint32_t client);
/* The client at the other end of a server connection with a request outstanding, or -1. */
int clients_of_tuple(const struct sim_world *w, const struct tcpe_tuple *server_side);
const struct ho_req *clients_request(const struct sim_world *w, uint32_t client);
/* Requests sent and not yet completely answered. */
uint32_t clients_outstanding(const struct sim_world *w);

/* nic.c */
int nic_init(struct sim_world *w);
void nic_rx_arrive(struct sim_world *w, struct sim_pkt *p, uint64_t now);
void nic_host_tx(struct sim_world *w, struct sim_pkt *p, uint64_t now);
void nic_fini(struct sim_world *w);
void nic_forward(struct sim_world *w, struct sim_pkt *p, uint64_t now);
bool nic_item_is_msg(const struct ho_sched_item *it);
void nic_cmd_arrive(struct sim_world *w, uint64_t handle, uint64_t now);
void nic_post_msg(struct sim_world *w, uint64_t handle, uint64_t now);
void world_nic_of_host_set(struct sim_world *w, uint32_t host_id, uint32_t nic_slot);

/* pci.c */
void pci_to_nic(struct sim_world *w, struct ho_cmd *cmd, uint64_t extra_cycles, uint64_t now);
void pci_to_host(struct sim_world *w, struct ho_cmd *cmd, uint64_t now);
void pci_host_msg_arrive(struct sim_world *w, uint64_t handle, uint64_t now);
/* Decodes a message and checks its sequence number; the decoded blob points into the message,
 * valid until pci_msg_free. */
const uint8_t *pci_msg_decode(struct sim_world *w, uint64_t handle, struct ho_cmd *out,
                              uint32_t *expected_seq);
unsigned pci_msg_type(const struct sim_world *w, uint64_t handle);
void pci_msg_free(struct sim_world *w, uint64_t handle);
void pci_fini(struct sim_world *w);

/* host.c */
int host_init(struct sim_world *w);
void host_rx(struct sim_world *w, struct sim_pkt *p, uint64_t now);
void host_fini(struct sim_world *w);
void host_msg_arrive(struct sim_world *w, uint64_t handle, uint64_t now);
/* End-of-run checks of the server (world_fail on a broken one). Returns 0 or -1. */
int host_check(struct sim_world *w);

/* world.c */
void world_packet_on_wire(struct sim_world *w, struct sim_pkt *p, uint64_t now);
void world_delay_sample(struct sim_world *w, bool rx, uint64_t ns);
void world_request_done(struct sim_world *w, uint64_t response_ns, uint32_t bytes, bool exact);
/* Counts a connection; returns whether it was established while measuring. */
bool world_conn_established(struct sim_world *w);
void world_conn_handed_off(struct sim_world *w);
void world_nic_packet(struct sim_world *w);
void world_fail(struct sim_world *w, const char *fmt, ...);
/* Runs the stack's due timers at now; returns how many timer expiries that was (delayed ACKs,
 * retransmission and persist timeouts, and connections that 2MSL ended), for the cost model. */
uint64_t world_run_timers(struct tcpe_stack *s, uint64_t now);
void world_stack_timer(struct sim_world *w, struct tcpe_stack *s, uint64_t *at, uint64_t *handle,
                       sim_event_fn fn, uint64_t now);

#endif
