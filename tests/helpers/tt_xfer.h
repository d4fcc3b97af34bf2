/*
 * tt_xfer.h - many two-way transfers between a client stack and a server stack in a tt_world,
 * each byte checked on arrival.
 *
 * A transfer is one connection: the client connects, each side sends its own random number of
 * bytes of a known pattern, shuts down, reads until end of file, and releases the connection
 * when it reports CLOSED. A transfer succeeds when both sides received exactly the other's bytes
 * in order, saw end of file, and closed without a reset or timeout.
 *
 * The server side may consist of two stacks (host and NIC); a hook runs after every world step
 * so a test can move connections between them (tt_xfer_rehome tells the transfer its
 * connection's new handle).
 */
#ifndef TT_XFER_H
#define TT_XFER_H

#include <stdbool.h>
#include <stdint.h>

#include "tt_world.h"

#define TT_CLIENT_IP   0x0a000001u /* 10.0.0.1 */
#define TT_SERVER_IP   0x0a000002u /* 10.0.0.2 */
#define TT_SERVER_PORT 80

/* One direction's end of a transfer. */
struct tt_half {
    struct tt_xfer *x;   /* the transfer */
    struct tcpe_conn *c; /* the connection, NULL before accept and after release */
    uint64_t out_stream; /* pattern id of what this side sends */
    uint64_t in_stream;  /* pattern id of what it receives */
    uint64_t to_send;    /* octets to send */
    uint64_t sent;       /* octets queued so far */
    uint64_t expect;     /* octets the peer will send */
    uint64_t received;   /* octets received and checked so far */
    bool shut;           /* shutdown called */
    bool eof;            /* end of file seen */
    bool closed;         /* CLOSED reported and the handle released */
    bool failed;         /* reset, timeout, or wrong data */
    bool paused;         /* receiving held back (to close the window) */
    bool hold_shutdown;  /* do not shut down yet */
    bool reply;          /* send nothing until the peer's data has all arrived (a server) */
    bool busy;           /* being pumped (events arriving now are deferred) */
    bool again;          /* pump once more when the current pass ends */
    unsigned pending;    /* events deferred while busy */
};

struct tt_xfer {
    int idx;            /* 0 .. n-1; the client port is 10000 + idx */
    struct tt_half cli; /* the client's end */
    struct tt_half srv; /* the server's end */
    bool started;       /* connect called */
};

struct tt_xfers {
    struct tt_world *w;
    struct tcpe_stack *client;
    struct tcpe_stack *server;
    struct tcpe_conn *lsn;
    struct tt_xfer *x;    /* all transfers */
    int n;                /* how many */
    int started;          /* connect called on x[0 .. started) */
    int finished;         /* transfers with both ends closed */
    int failures;         /* halves that failed */
    uint32_t chunk;       /* largest single send / recv */
    uint8_t *buf;         /* chunk octets */
    bool virtual_payload; /* lengths only: data is not checked */
};

/* Sizes: each direction gets a size drawn from a heavy-tailed mix up to max_size. */
void tt_xfers_init(struct tt_xfers *xs, struct tt_world *w, struct tcpe_stack *client,
                   struct tcpe_stack *server, int n, uint64_t seed, uint64_t max_size);
void tt_xfers_fini(struct tt_xfers *xs);

/* The event handler to give tt_world_add_stack for both client and server stacks (app = xs). */
void tt_xfers_event(void *app, struct tcpe_conn *c, unsigned ev);

/* Runs until every transfer is finished (or the clock passes limit), keeping at most
 * concurrency connections open. hook (may be NULL) runs after each world step. Returns true
 * when all finished without failure. */
bool tt_xfers_run(struct tt_xfers *xs, int concurrency, uint64_t limit,
                  void (*hook)(struct tt_xfers *xs, void *arg), void *arg);

/* Moves data in both directions for one half (send what fits, read what is there). */
void tt_xfers_pump(struct tt_xfers *xs, struct tt_half *h);

/* Prints the transfers that failed or did not finish (at most max of them) to stderr. */
void tt_xfers_dump(const struct tt_xfers *xs, int max);

/* Pumps every open half: the application's retry after an allocation failure, which no
 * event announces. */
void tt_xfers_poke(struct tt_xfers *xs);

/* Tells a half its connection has a new handle (after export/import). */
void tt_xfer_rehome(struct tt_xfers *xs, struct tt_half *h, struct tcpe_conn *c);

#endif
