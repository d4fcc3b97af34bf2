/*
 * tap_server.c - the TCP engine behind a TAP device, serving HTTP to Linux's own TCP stack.
 *
 * Test-only (tests/interop/test_linux.sh runs it; it is not part of the product). It opens
 * /dev/net/tun as a TAP device, answers ARP for its address, turns the frames it reads into
 * segments with the packet codec (tcpe_wire), feeds them to a tcpe stack, and writes what the
 * stack sends back as frames, to the MAC address it learned from the peer's own frames. One
 * thread, one poll() loop; it is the only place that reads a clock (CLOCK_MONOTONIC, as `now`).
 *
 * The application is a minimal HTTP/1.1 server on port 80, one request per connection
 * ("Connection: close"):
 *   GET /bytes/N    N octets of a deterministic pseudo-random stream (--body N prints them)
 *   POST /sha256    answers the SHA-256 of the request body, in hex (FIPS 180-4, below)
 *   anything else   404
 * A client verifies the transfer end to end against sha256sum, in both directions.
 *
 * Loss is injected on our side, from a seeded generator: --loss-rx P drops that fraction of the
 * TCP frames we read, --loss-tx P of the TCP frames we would write. The server exits on SIGTERM
 * or SIGINT, after --idle S seconds without a frame, or after --max-time S seconds, and then
 * prints its counters: the stack's tcpe_stats, the codec's drops, the injected losses and the
 * HTTP totals, one "tap_server: group key=value ..." line per group.
 *
 * --timestamps turns on the engine's RFC 7323 timestamps (tcpe_params.timestamps); the report's
 * http line then counts, as ts_conns, the connections that negotiated them with the client.
 * SACK (tcpe_params.sack) is on, as the engine's default, unless --no-sack; sack_conns counts the
 * connections that agreed on it (Linux offers it on its SYN by default).
 *
 * usage: tap_server --dev NAME [--ip A.B.C.D] [--port N] [--loss-rx P] [--loss-tx P]
 *                   [--seed N] [--rto-min-ms N] [--idle S] [--max-time S] [--timestamps]
 *                   [--no-sack]
 *        tap_server --body N            (writes the body of GET /bytes/N to stdout)
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "handoff/err.h"
#include "handoff/rng.h"
#include "handoff/tcpe.h"
#include "handoff/tcpe_wire.h"

/* The emulator's TAP opener (a private header of src/emu/, whose library this links). */
#include "emu_net.h"

#define NS_PER_MS    1000000ull
#define NS_PER_S     1000000000ull
#define FRAME_MAX    65536
#define BODY_SEED    0x68616e646f6666ull /* "handoff": the stream GET /bytes/N is a prefix of */
#define CHUNK        16384
#define REQ_MAX      8192
#define NEIGH_MAX    8
#define RX_BATCH     64
#define SHA256_HEX   64
#define BODY_MAX_LEN (1ull << 40)

/* ---- SHA-256 (FIPS 180-4, section 6.2) ---- */

struct sha256 {
    uint32_t h[8];     /* the hash value */
    uint8_t block[64]; /* the message block being filled */
    uint32_t fill;     /* octets in block */
    uint64_t total;    /* octets hashed */
};

/* The first 32 bits of the fractional parts of the cube roots of the first 64 primes (4.2.2). */
static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t rotr(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

static void sha256_init(struct sha256 *s)
{
    /* The first 32 bits of the fractional parts of the square roots of the first 8 primes. */
    static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, h0, sizeof h0);
    s->fill = 0;
    s->total = 0;
}

static void sha256_block(struct sha256 *s, const uint8_t *p)
{
    uint32_t w[64];
    for (int t = 0; t < 16; t++) {
        w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 |
               (uint32_t)p[4 * t + 2] << 8 | p[4 * t + 3];
    }
    for (int t = 16; t < 64; t++) {
        uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3];
    uint32_t e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
    for (int t = 0; t < 64; t++) {
        uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) +
                      sha256_k[t] + w[t];
        uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    s->h[0] += a;
    s->h[1] += b;
    s->h[2] += c;
    s->h[3] += d;
    s->h[4] += e;
    s->h[5] += f;
    s->h[6] += g;
    s->h[7] += h;
}

static void sha256_update(struct sha256 *s, const uint8_t *p, size_t n)
{
    s->total += n;
    while (n > 0) {
        size_t k = 64 - s->fill < n ? 64 - s->fill : n;
        memcpy(s->block + s->fill, p, k);
        s->fill += (uint32_t)k;
        p += k;
        n -= k;
        if (s->fill == 64) {
            sha256_block(s, s->block);
            s->fill = 0;
        }
    }
}

/* Pads (5.1.1) and writes the digest as 64 lowercase hex digits and a NUL. */
static void sha256_hex(struct sha256 *s, char out[SHA256_HEX + 1])
{
    uint64_t bits = s->total * 8;
    uint8_t pad[72] = {0x80};
    size_t padlen = (s->fill < 56 ? 56 : 120) - s->fill;
    for (int i = 0; i < 8; i++) {
        pad[padlen + (size_t)i] = (uint8_t)(bits >> (56 - 8 * i));
    }
    uint64_t total = s->total;
    sha256_update(s, pad, padlen + 8);
    s->total = total;
    for (int i = 0; i < 8; i++) {
        snprintf(out + 8 * i, 9, "%08" PRIx32, s->h[i]);
    }
}

/* ---- the body of GET /bytes/N ---- */

/* Fills buf with the next n octets of the stream (a generator seeded with BODY_SEED, eight
 * octets per draw, little-endian, the last draw's extra octets discarded per call). */
static void body_fill(struct ho_rng *r, uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        uint64_t v = ho_rng_next(r);
        for (size_t j = 0; j < 8 && i + j < n; j++) {
            buf[i + j] = (uint8_t)(v >> (8 * j));
        }
    }
}

/* ---- the server ---- */

struct options {
    const char *dev;   /* TAP device name */
    uint32_t ip;       /* our address, host order */
    uint16_t port;     /* HTTP port */
    double loss_rx;    /* fraction of received TCP frames dropped */
    double loss_tx;    /* fraction of TCP frames to send dropped */
    uint32_t burst;    /* frames each send loss takes in a row (1: independent losses) */
    uint64_t seed;     /* seeds the loss generators */
    uint64_t rto_min;  /* the stack's lower bound of the RTO, ns (see main) */
    uint64_t idle;     /* exit after this long without a frame, ns */
    uint64_t max_time; /* exit after this long, ns */
    bool timestamps;   /* RFC 7323 timestamps (tcpe_params.timestamps) */
    bool no_sack;      /* SACK off (tcpe_params.sack) */
};

struct neigh {
    uint32_t ip;
    uint8_t mac[TCPE_WIRE_ETH_ALEN];
};

struct counters {
    uint64_t rx_frames;    /* frames read from the device */
    uint64_t rx_lost;      /* TCP frames dropped by --loss-rx */
    uint64_t rx_not_ours;  /* TCP or ARP for another address */
    uint64_t tx_frames;    /* frames written */
    uint64_t tx_lost;      /* TCP frames dropped by --loss-tx */
    uint64_t tx_errors;    /* failed writes or builds */
    uint64_t tx_no_mac;    /* segments for a peer whose MAC is unknown (an ARP request went) */
    uint64_t arp_replies;  /* ARP replies sent */
    uint64_t conns;        /* connections accepted */
    uint64_t ts_conns;     /* of which with timestamps negotiated */
    uint64_t sack_conns;   /* of which with SACK agreed */
    uint64_t requests;     /* requests parsed */
    uint64_t responses;    /* responses queued completely */
    uint64_t bad_requests; /* requests answered 400/404 */
    uint64_t body_out;     /* GET body octets queued */
    uint64_t body_in;      /* POST body octets received */
    uint64_t resets;       /* connections reset or timed out */
};

struct server {
    struct options opt;
    int fd;                          /* the TAP device */
    uint8_t mac[TCPE_WIRE_ETH_ALEN]; /* our MAC */
    struct neigh neigh[NEIGH_MAX];   /* learned peers */
    unsigned nneigh;
    struct tcpe_stack *stack;
    struct tcpe_conn *listener;
    struct tcpe_wire_tx tx;
    struct tcpe_wire_stats wst;
    struct ho_rng loss_rx, loss_tx;
    uint32_t burst_left; /* frames to send still to drop in the current burst */
    uint64_t now;
    uint64_t last_rx; /* when a frame last arrived */
    uint8_t frame[FRAME_MAX];
    uint8_t out[FRAME_MAX];
    struct http_conn *conns; /* every connection the application holds */
    struct counters n;
};

enum phase {
    PH_REQUEST,   /* reading the request head */
    PH_POST_BODY, /* reading a request body */
    PH_RESPOND,   /* queueing the response */
};

struct http_conn {
    struct server *srv;
    struct http_conn *prev, *next; /* the server's list */
    struct tcpe_conn *c;
    enum phase phase;
    char req[REQ_MAX]; /* the request head so far */
    size_t req_len;
    uint64_t body_left;  /* POST: octets still to read; GET: octets still to generate */
    struct ho_rng body;  /* GET: the stream */
    struct sha256 hash;  /* POST: the body's hash */
    uint8_t pend[CHUNK]; /* output generated but not yet accepted by tcpe_send */
    size_t pend_off, pend_len;
};

static uint64_t clock_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static const uint8_t *neigh_find(const struct server *srv, uint32_t ip)
{
    for (unsigned i = 0; i < srv->nneigh; i++) {
        if (srv->neigh[i].ip == ip) {
            return srv->neigh[i].mac;
        }
    }
    return NULL;
}

/* Remembers (or refreshes) a peer's MAC from a frame it sent. */
static void neigh_learn(struct server *srv, uint32_t ip, const uint8_t mac[TCPE_WIRE_ETH_ALEN])
{
    unsigned i = 0;
    while (i < srv->nneigh && srv->neigh[i].ip != ip) {
        i++;
    }
    if (i == srv->nneigh) {
        if (srv->nneigh < NEIGH_MAX) {
            srv->nneigh++;
        } else {
            i = (unsigned)(ip % NEIGH_MAX); /* full: overwrite one */
        }
    }
    srv->neigh[i].ip = ip;
    memcpy(srv->neigh[i].mac, mac, TCPE_WIRE_ETH_ALEN);
}

static void dev_write(struct server *srv, const uint8_t *buf, int len)
{
    if (len <= 0 || write(srv->fd, buf, (size_t)len) != len) {
        srv->n.tx_errors++;
        return;
    }
    srv->n.tx_frames++;
}

/* tcpe_ops.output: a segment becomes an Ethernet frame to the peer's learned MAC. */
static int on_output(void *ctx, const struct tcpe_seg *seg)
{
    struct server *srv = ctx;
    const uint8_t *mac = neigh_find(srv, seg->dst_ip);
    if (mac == NULL) {
        srv->n.tx_no_mac++;
        dev_write(srv, srv->out,
                  tcpe_wire_arp_build_request(srv->mac, srv->opt.ip, seg->dst_ip, srv->out,
                                              sizeof srv->out));
        return HO_OK;
    }
    /* A loss starts a burst of --loss-burst frames; bursts start at loss_tx / burst, so that the
     * fraction lost stays about loss_tx. */
    if (srv->burst_left > 0 ||
        (srv->opt.loss_tx > 0 && ho_rng_unit(&srv->loss_tx) < srv->opt.loss_tx / srv->opt.burst)) {
        srv->burst_left = srv->burst_left > 0 ? srv->burst_left - 1 : srv->opt.burst - 1;
        srv->n.tx_lost++;
        return HO_OK;
    }
    struct tcpe_wire_eth eth;
    memcpy(eth.dst, mac, TCPE_WIRE_ETH_ALEN);
    memcpy(eth.src, srv->mac, TCPE_WIRE_ETH_ALEN);
    eth.type = TCPE_WIRE_ETHERTYPE_IPV4;
    dev_write(srv, srv->out, tcpe_wire_eth_build(&srv->tx, &eth, seg, srv->out, sizeof srv->out));
    return HO_OK;
}

/* ---- HTTP ---- */

static struct http_conn *http_new(struct server *srv, struct tcpe_conn *c)
{
    struct http_conn *h = calloc(1, sizeof *h);
    if (h == NULL) {
        return NULL;
    }
    h->srv = srv;
    h->c = c;
    h->phase = PH_REQUEST;
    h->next = srv->conns;
    if (srv->conns != NULL) {
        srv->conns->prev = h;
    }
    srv->conns = h;
    tcpe_conn_set_user(c, h);
    return h;
}

/* Frees the application's state and gives the connection back to the stack, which finishes
 * sending and closing on its own. */
static void http_done(struct http_conn *h)
{
    struct server *srv = h->srv;
    struct tcpe_conn *c = h->c;
    if (h->prev != NULL) {
        h->prev->next = h->next;
    } else {
        srv->conns = h->next;
    }
    if (h->next != NULL) {
        h->next->prev = h->prev;
    }
    tcpe_conn_set_user(c, NULL);
    free(h);
    tcpe_release(c, srv->now);
}

/* Queues a response head (and, for small answers, its body) as pending output. */
static void http_respond(struct http_conn *h, int status, const char *reason, uint64_t length,
                         const char *small_body)
{
    int n = snprintf((char *)h->pend, sizeof h->pend,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %" PRIu64
                     "\r\nConnection: close\r\n\r\n%s",
                     status, reason, small_body != NULL ? "text/plain" : "application/octet-stream",
                     length, small_body != NULL ? small_body : "");
    h->pend_off = 0;
    h->pend_len = n > 0 && (size_t)n < sizeof h->pend ? (size_t)n : 0;
    h->phase = PH_RESPOND;
    h->srv->n.requests++;
}

static void http_error(struct http_conn *h, int status, const char *reason)
{
    char body[64];
    snprintf(body, sizeof body, "%d %s\n", status, reason);
    h->srv->n.bad_requests++;
    h->body_left = 0;
    http_respond(h, status, reason, strlen(body), body);
}

/* Case-insensitive search for a header's value in the request head; NULL if absent. */
static const char *http_header(const char *head, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p != NULL; p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':') {
            const char *v = p + 3 + n;
            while (*v == ' ' || *v == '\t') {
                v++;
            }
            return v;
        }
    }
    return NULL;
}

/* Hashes POST body octets; when the body is complete, answers with its digest. */
static void http_post_data(struct http_conn *h, const uint8_t *p, size_t n)
{
    if (n > h->body_left) {
        n = (size_t)h->body_left; /* anything after the body is ignored */
    }
    sha256_update(&h->hash, p, n);
    h->body_left -= n;
    h->srv->n.body_in += n;
    if (h->body_left == 0) {
        char hex[SHA256_HEX + 2];
        sha256_hex(&h->hash, hex);
        strcat(hex, "\n");
        http_respond(h, 200, "OK", strlen(hex), hex);
    }
}

/* The request head is complete (req[0..head_len) ends with an empty line). */
static void http_request(struct http_conn *h, size_t head_len)
{
    char method[8], path[256];
    h->req[head_len - 2] = '\0'; /* keep one CRLF so the last header is found */
    if (sscanf(h->req, "%7s %255s HTTP/1.%*c", method, path) != 2) {
        http_error(h, 400, "Bad Request");
        return;
    }
    if (strcmp(method, "GET") == 0 && strncmp(path, "/bytes/", 7) == 0) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(path + 7, &end, 10);
        if (errno != 0 || *end != '\0' || end == path + 7 || n > BODY_MAX_LEN) {
            http_error(h, 400, "Bad Request");
            return;
        }
        ho_rng_seed(&h->body, BODY_SEED);
        h->body_left = n;
        http_respond(h, 200, "OK", n, NULL);
        return;
    }
    if (strcmp(method, "POST") == 0 && strcmp(path, "/sha256") == 0) {
        const char *cl = http_header(h->req, "Content-Length");
        char *end;
        unsigned long long n = cl != NULL ? strtoull(cl, &end, 10) : 0;
        if (cl == NULL || end == cl || n > BODY_MAX_LEN) {
            http_error(h, 411, "Length Required");
            return;
        }
        const char *expect = http_header(h->req, "Expect");
        if (expect != NULL && strncasecmp(expect, "100-continue", 12) == 0) {
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            /* A fresh connection's send buffer always has room for this. */
            (void)tcpe_send(h->c, cont, sizeof cont - 1, h->srv->now);
        }
        sha256_init(&h->hash);
        h->body_left = n;
        h->phase = PH_POST_BODY;
        if (n == 0) {
            http_post_data(h, h->pend, 0); /* an empty body is complete at once */
        }
        return;
    }
    http_error(h, 404, "Not Found");
}

/* Sends pending output, generating GET body octets as the send buffer takes them. When all of
 * the response is queued, the connection is released: the stack sends the rest and closes.
 * Returns false if h is gone. */
static bool http_pump(struct http_conn *h)
{
    struct server *srv = h->srv;
    while (h->phase == PH_RESPOND) {
        if (h->pend_off == h->pend_len) {
            if (h->body_left == 0) {
                srv->n.responses++;
                http_done(h);
                return false;
            }
            size_t k = h->body_left < CHUNK ? (size_t)h->body_left : CHUNK;
            body_fill(&h->body, h->pend, k);
            h->pend_off = 0;
            h->pend_len = k;
            h->body_left -= k;
            srv->n.body_out += k;
        }
        int r =
            tcpe_send(h->c, h->pend + h->pend_off, (uint32_t)(h->pend_len - h->pend_off), srv->now);
        if (r <= 0) {
            return true; /* full (wait for WRITABLE) or refused (the close event follows) */
        }
        h->pend_off += (size_t)r;
    }
    return true;
}

/* Reads whatever the connection has and advances the request. Returns false if h is gone. */
static bool http_readable(struct http_conn *h)
{
    struct server *srv = h->srv;
    uint8_t buf[CHUNK];
    for (;;) {
        int r = tcpe_recv(h->c, buf, sizeof buf, srv->now);
        if (r <= 0) {
            break;
        }
        size_t n = (size_t)r;
        if (h->phase == PH_REQUEST) {
            size_t room = sizeof h->req - 1 - h->req_len;
            size_t k = n < room ? n : room;
            memcpy(h->req + h->req_len, buf, k);
            h->req_len += k;
            h->req[h->req_len] = '\0';
            char *eoh = strstr(h->req, "\r\n\r\n");
            if (eoh == NULL) {
                if (h->req_len == sizeof h->req - 1) {
                    http_error(h, 431, "Request Header Fields Too Large");
                }
                continue;
            }
            size_t head = (size_t)(eoh - h->req) + 4;
            /* Octets after the head (in req, and any of buf not copied) are body. */
            uint8_t rest[REQ_MAX + CHUNK];
            size_t nrest = h->req_len - head;
            memcpy(rest, h->req + head, nrest);
            memcpy(rest + nrest, buf + k, n - k);
            nrest += n - k;
            http_request(h, head);
            if (h->phase == PH_POST_BODY && nrest > 0) {
                http_post_data(h, rest, nrest);
            }
        } else if (h->phase == PH_POST_BODY) {
            http_post_data(h, buf, n);
        }
        /* Octets after a complete request are read and ignored (one request per connection). */
    }
    if (h->phase == PH_RESPOND) {
        return http_pump(h);
    }
    if (tcpe_conn_eof(h->c)) {
        /* The client closed before completing its request. */
        http_done(h);
        return false;
    }
    return true;
}

/* tcpe_ops.event */
static void on_event(void *ctx, struct tcpe_conn *c, unsigned ev)
{
    struct server *srv = ctx;
    if (c == srv->listener) {
        struct tcpe_conn *a;
        while ((a = tcpe_accept(c)) != NULL) {
            struct http_conn *h = http_new(srv, a);
            if (h == NULL) {
                tcpe_abort(a, srv->now);
                tcpe_release(a, srv->now);
                continue;
            }
            srv->n.conns++;
            struct tcpe_info info;
            tcpe_conn_info(a, &info);
            srv->n.ts_conns += info.timestamps;
            srv->n.sack_conns += info.sack;
            (void)http_readable(h); /* the request may have come before the accept */
        }
        return;
    }
    struct http_conn *h = tcpe_conn_user(c);
    if (h == NULL) {
        return;
    }
    if (ev & (TCPE_EV_RESET | TCPE_EV_TIMEDOUT | TCPE_EV_CLOSED)) {
        if (ev & (TCPE_EV_RESET | TCPE_EV_TIMEDOUT)) {
            srv->n.resets++;
        }
        http_done(h);
        return;
    }
    if ((ev & TCPE_EV_READABLE) && !http_readable(h)) {
        return;
    }
    if (ev & TCPE_EV_WRITABLE) {
        (void)http_pump(h);
    }
}

/* ---- frames in ---- */

static void on_frame(struct server *srv, const uint8_t *buf, size_t len)
{
    struct tcpe_wire_pkt pkt;
    srv->n.rx_frames++;
    int kind = tcpe_wire_eth_parse(buf, len, 0, &pkt, &srv->wst);
    if (kind == TCPE_WIRE_KIND_ARP) {
        neigh_learn(srv, pkt.arp.spa, pkt.arp.sha);
        if (pkt.arp.op == TCPE_WIRE_ARP_REQUEST) {
            int n = tcpe_wire_arp_build_reply(&pkt.arp, srv->mac, srv->opt.ip, srv->out,
                                              sizeof srv->out);
            if (n > 0) {
                dev_write(srv, srv->out, n);
                srv->n.arp_replies++;
            } else {
                srv->n.rx_not_ours++;
            }
        }
        return;
    }
    if (kind != TCPE_WIRE_KIND_TCP) {
        return; /* counted in wst.drops (IPv6, malformed, ...) */
    }
    if (pkt.seg.dst_ip != srv->opt.ip) {
        srv->n.rx_not_ours++;
        return;
    }
    if (srv->opt.loss_rx > 0 && ho_rng_unit(&srv->loss_rx) < srv->opt.loss_rx) {
        srv->n.rx_lost++;
        return;
    }
    neigh_learn(srv, pkt.seg.src_ip, pkt.eth.src);
    (void)tcpe_stack_input(srv->stack, &pkt.seg, srv->now);
}

/* ---- setup, loop, report ---- */

static void report(const struct server *srv, double seconds)
{
    const struct counters *n = &srv->n;
    printf("tap_server: run seconds=%.3f loss_rx=%g loss_tx=%g seed=%" PRIu64 "\n", seconds,
           srv->opt.loss_rx, srv->opt.loss_tx, srv->opt.seed);
    printf("tap_server: http conns=%" PRIu64 " ts_conns=%" PRIu64 " sack_conns=%" PRIu64
           " requests=%" PRIu64 " responses=%" PRIu64 " bad_requests=%" PRIu64 " body_out=%" PRIu64
           " body_in=%" PRIu64 " resets=%" PRIu64 "\n",
           n->conns, n->ts_conns, n->sack_conns, n->requests, n->responses, n->bad_requests,
           n->body_out, n->body_in, n->resets);
    printf("tap_server: link rx_frames=%" PRIu64 " rx_tcp=%" PRIu64 " rx_arp=%" PRIu64
           " rx_lost=%" PRIu64 " rx_not_ours=%" PRIu64 " tx_frames=%" PRIu64 " tx_lost=%" PRIu64
           " tx_errors=%" PRIu64 " tx_no_mac=%" PRIu64 " arp_replies=%" PRIu64 "\n",
           n->rx_frames, srv->wst.rx_tcp, srv->wst.rx_arp, n->rx_lost, n->rx_not_ours, n->tx_frames,
           n->tx_lost, n->tx_errors, n->tx_no_mac, n->arp_replies);
    printf("tap_server: wire_drops");
    for (int i = 1; i < TCPE_WIRE_DROP_COUNT; i++) {
        if (srv->wst.drops[i] > 0) {
            printf(" %s=%" PRIu64, tcpe_wire_drop_name((enum tcpe_wire_drop)i), srv->wst.drops[i]);
        }
    }
    printf("\n");
    const struct tcpe_stats *st = tcpe_stack_stats(srv->stack);
    printf("tap_server: tcpe segs_in=%" PRIu64 " segs_out=%" PRIu64 " bytes_in=%" PRIu64
           " bytes_out=%" PRIu64 " bytes_acked=%" PRIu64 " rexmt_segs=%" PRIu64
           " rexmt_bytes=%" PRIu64 " timeouts=%" PRIu64 " fast_rexmts=%" PRIu64
           " dupacks_in=%" PRIu64 " persist_probes=%" PRIu64 " delayed_acks=%" PRIu64
           " challenge_acks=%" PRIu64 " ooo_segs=%" PRIu64 " rsts_out=%" PRIu64
           " conns_opened=%" PRIu64 " conns_reset=%" PRIu64 " conns_timedout=%" PRIu64 "\n",
           st->segs_in, st->segs_out, st->bytes_in, st->bytes_out, st->bytes_acked, st->rexmt_segs,
           st->rexmt_bytes, st->timeouts, st->fast_rexmts, st->dupacks_in, st->persist_probes,
           st->delayed_acks, st->challenge_acks, st->ooo_segs, st->rsts_out, st->conns_opened,
           st->conns_reset, st->conns_timedout);
    printf("tap_server: tcpe_drops");
    for (int i = 0; i < TCPE_NDROPS; i++) {
        if (st->drops[i] > 0) {
            printf(" %s=%" PRIu64, tcpe_drop_name(i), st->drops[i]);
        }
    }
    printf("\n");
    fflush(stdout);
}

static int run(struct server *srv)
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
        return 1;
    }
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    char err[256];
    srv->fd = emu_net_tap_open(srv->opt.dev, err, sizeof err);
    if (srv->fd < 0) {
        fprintf(stderr, "tap_server: %s\n", err);
    }
    if (sfd < 0 || srv->fd < 0) {
        if (sfd >= 0) {
            close(sfd);
        }
        return 1;
    }
    struct tcpe_params p;
    tcpe_params_init(&p);
    p.ops.output = on_output;
    p.ops.event = on_event;
    p.ctx = srv;
    /* Buffers of 256 KiB (window scaling in both directions), and an out-of-order queue that
     * holds a whole receive window of full segments, as a receiver without SACK needs: when one
     * segment is lost, every later one of the window is kept rather than lost as well. */
    p.sndbuf = 256 * 1024;
    p.rcvbuf = 256 * 1024;
    p.ooo_max = 256;
    p.rto_min = srv->opt.rto_min;
    if (p.rto_init < p.rto_min) {
        p.rto_init = p.rto_min;
    }
    p.seed = srv->opt.seed;
    p.timestamps = srv->opt.timestamps;
    p.sack = !srv->opt.no_sack;
    uint64_t start = clock_now();
    srv->now = start;
    srv->last_rx = start;
    int status = 0;
    if (tcpe_stack_create(&p, &srv->stack) != HO_OK ||
        tcpe_listen(srv->stack, srv->opt.ip, srv->opt.port, 128, &srv->listener) != HO_OK) {
        fprintf(stderr, "tap_server: cannot create the stack\n");
        status = 1;
    }
    const char *why = "error";
    while (status == 0) {
        srv->now = clock_now();
        if (srv->now - start >= srv->opt.max_time) {
            why = "max-time";
            break;
        }
        if (srv->now - srv->last_rx >= srv->opt.idle) {
            why = "idle";
            break;
        }
        uint64_t wake = tcpe_stack_next_wake(srv->stack);
        uint64_t wait = 1000 * NS_PER_MS;
        if (wake != TCPE_NEVER) {
            wait = wake > srv->now ? wake - srv->now : 0;
        }
        if (wait > 1000 * NS_PER_MS) {
            wait = 1000 * NS_PER_MS;
        }
        struct pollfd pf[2] = {{srv->fd, POLLIN, 0}, {sfd, POLLIN, 0}};
        int r = poll(pf, 2, (int)((wait + NS_PER_MS - 1) / NS_PER_MS));
        if (r < 0 && errno != EINTR) {
            perror("tap_server: poll");
            status = 1;
            break;
        }
        if (r > 0 && (pf[1].revents & POLLIN)) {
            why = "signal";
            break;
        }
        srv->now = clock_now();
        if (r > 0 && (pf[0].revents & POLLIN)) {
            for (int i = 0; i < RX_BATCH; i++) {
                ssize_t n = read(srv->fd, srv->frame, sizeof srv->frame);
                if (n <= 0) {
                    break;
                }
                srv->last_rx = srv->now;
                on_frame(srv, srv->frame, (size_t)n);
            }
        }
        if (tcpe_stack_next_wake(srv->stack) <= srv->now) {
            tcpe_stack_timers(srv->stack, srv->now);
        }
    }
    fprintf(stderr, "tap_server: exiting (%s)\n", why);
    if (srv->stack != NULL) {
        report(srv, (double)(clock_now() - start) / 1e9);
        /* Connections the application still holds: free their state, then the stack's. */
        while (srv->conns != NULL) {
            struct http_conn *h = srv->conns;
            srv->conns = h->next;
            free(h);
        }
        tcpe_stack_destroy(srv->stack);
    }
    close(srv->fd);
    close(sfd);
    return status;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: tap_server --dev NAME [--ip A.B.C.D] [--port N] [--loss-rx P] [--loss-burst N] "
            "[--loss-tx P] [--seed N] [--rto-min-ms N] [--idle S] [--max-time S] "
            "[--timestamps] [--no-sack]\n"
            "       tap_server --body N\n");
    return 2;
}

static int write_body(const char *arg)
{
    char *end;
    unsigned long long n = strtoull(arg, &end, 10);
    if (*end != '\0' || end == arg || n > BODY_MAX_LEN) {
        return usage();
    }
    struct ho_rng r;
    ho_rng_seed(&r, BODY_SEED);
    uint8_t buf[CHUNK];
    while (n > 0) {
        size_t k = n < CHUNK ? (size_t)n : CHUNK;
        body_fill(&r, buf, k);
        if (fwrite(buf, 1, k, stdout) != k) {
            return 1;
        }
        n -= k;
    }
    return fflush(stdout) != 0;
}

int main(int argc, char **argv)
{
    struct server *srv = calloc(1, sizeof *srv);
    if (srv == NULL) {
        return 1;
    }
    struct options *o = &srv->opt;
    o->ip = 0x0ac80002; /* 10.200.0.2 */
    o->port = 80;
    o->burst = 1;
    o->seed = 1;
    /* RFC 6298's 1 s floor is the engine's default; Linux's 200 ms (TCP_RTO_MIN) matches the
     * peer, so a timeout costs both sides the same and the lossy test stays short. */
    o->rto_min = 200 * NS_PER_MS;
    o->idle = 30 * NS_PER_S;
    o->max_time = 170 * NS_PER_S;
    int ret = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--timestamps") == 0) {
            o->timestamps = true;
            continue;
        }
        if (strcmp(a, "--no-sack") == 0) {
            o->no_sack = true;
            continue;
        }
        if (v == NULL) {
            ret = usage();
            break;
        }
        i++;
        struct in_addr in;
        if (strcmp(a, "--body") == 0) {
            ret = write_body(v);
            free(srv);
            return ret;
        } else if (strcmp(a, "--dev") == 0) {
            o->dev = v;
        } else if (strcmp(a, "--ip") == 0 && inet_pton(AF_INET, v, &in) == 1) {
            o->ip = ntohl(in.s_addr);
        } else if (strcmp(a, "--port") == 0) {
            o->port = (uint16_t)strtoul(v, NULL, 10);
        } else if (strcmp(a, "--loss-rx") == 0) {
            o->loss_rx = strtod(v, NULL);
        } else if (strcmp(a, "--loss-tx") == 0) {
            o->loss_tx = strtod(v, NULL);
        } else if (strcmp(a, "--loss-burst") == 0) {
            o->burst = (uint32_t)strtoul(v, NULL, 10);
        } else if (strcmp(a, "--seed") == 0) {
            o->seed = strtoull(v, NULL, 10);
        } else if (strcmp(a, "--rto-min-ms") == 0) {
            o->rto_min = strtoull(v, NULL, 10) * NS_PER_MS;
        } else if (strcmp(a, "--idle") == 0) {
            o->idle = strtoull(v, NULL, 10) * NS_PER_S;
        } else if (strcmp(a, "--max-time") == 0) {
            o->max_time = strtoull(v, NULL, 10) * NS_PER_S;
        } else {
            ret = usage();
            break;
        }
    }
    if (ret == 0 &&
        (o->dev == NULL || o->port == 0 || o->burst == 0 || o->burst > 64 || o->loss_rx < 0 ||
         o->loss_rx >= 1 || o->loss_tx < 0 || o->loss_tx >= 1 || o->rto_min == 0)) {
        ret = usage();
    }
    if (ret == 0) {
        /* A locally administered MAC derived from the address: 02:00:a.b.c.d */
        srv->mac[0] = 0x02;
        for (int i = 0; i < 4; i++) {
            srv->mac[2 + i] = (uint8_t)(o->ip >> (24 - 8 * i));
        }
        tcpe_wire_tx_init(&srv->tx, (uint16_t)o->seed);
        ho_rng_seed_named(&srv->loss_rx, o->seed, "loss-rx");
        ho_rng_seed_named(&srv->loss_tx, o->seed, "loss-tx");
        ret = run(srv);
    }
    free(srv);
    return ret;
}
