/*
 * clients.h - the client machine: closed-loop HTTP clients over their own TCP stack.
 *
 * The client machine costs nothing (the paper's client "will never be a performance
 * bottleneck"): its TCP stack (tcpe, virtual payload) runs at the instant each packet arrives.
 * Each client pulls a persistent connection from the workload, connects, sends its requests one
 * at a time (the next leaves when the whole response has arrived, after any think time and no
 * earlier than the pacing allows), closes after the last one, and pulls the next connection.
 */
#ifndef HANDOFF_SIM_CLIENTS_H
#define HANDOFF_SIM_CLIENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "handoff/app.h"
#include "handoff/sim_config.h"
#include "handoff/sim_evq.h"
#include "handoff/tcpe.h"
#include "handoff/workload.h"
#include "meter.h"
#include "pool.h"
#include "wire.h"

#define SERVER_IP   0x0a000001u /* 10.0.0.1 */
#define SERVER_PORT 80
#define CLIENT_NET  0x0a010000u /* clients are 10.1.x.y */

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

struct sim_clients {
    struct tcpe_stack *stack;
    struct ho_wl *wl;
    struct ho_trace *trace;
    struct client *c;
    uint32_t n;
    bool draining; /* sim_world_drain: no new request */
    uint64_t timer_at, timer_handle;
    struct sim_evq *evq;
    struct sim_pool *pool;
    struct sim_wire *wire;
    struct sim_meter *meter;
};

int clients_init(struct sim_clients *cl, const struct sim_config *cfg, uint32_t n,
                 struct sim_config_err *err);
void clients_fini(struct sim_clients *cl);
/* Every client connects. */
void clients_start(struct sim_clients *cl, uint64_t now);
/* A frame arrived at the client machine. */
void clients_rx(struct sim_clients *cl, struct ho_pkt *p, uint64_t now);
/* The request the client at the other end of a server connection is sending (-1: none): the
 * server's way of reading it, since payload is virtual. */
int clients_request(const struct sim_clients *cl, const struct tcpe_tuple *server_side,
                    struct ho_app_req *out);
/* Requests sent and not yet completely answered. */
uint32_t clients_outstanding(const struct sim_clients *cl);
/* Of those, requests that have received nothing since before end - patience. */
uint64_t clients_stalled(const struct sim_clients *cl, uint64_t end, uint64_t patience);
uint64_t clients_retransmits(const struct sim_clients *cl);

#endif
