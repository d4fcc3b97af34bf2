/*
 * gen_corpus_tcpe_state.c - writes the seed corpus of fuzz_tcpe_state.c: real connection states
 * exported from two stacks in the middle of transfers, one file each.
 *
 *   cc -Iinclude -Isrc/tcpe fuzz/gen_corpus_tcpe_state.c src/tcpe/?*.c src/util/?*.c \
 *       -o gen_corpus_tcpe_state
 *   ./gen_corpus_tcpe_state fuzz/corpus/tcpe_state
 *
 * (src/tcpe/?*.c is every .c file of src/tcpe.) Two stacks talk through a queue this program
 * holds, on a clock it advances, so it can lose chosen segments: the client is left with
 * unacknowledged data in flight and the server with an out-of-order queue (also with RFC 7323
 * timestamps, and in the middle of limited transmit). Each file is the fuzzer's input format:
 * a big-endian u16 length, the exported state, then a short script (a mode byte and a few
 * operations, see fuzz_tcpe_state.c) that acknowledges, sends and lets timers run, so that the
 * seeds reach past the import from the start. Both stacks use SACK (tcpe's default), so the
 * out-of-order seeds carry SACK blocks, and one client is exported in the middle of RFC 6675
 * recovery, with a scoreboard (its script sends more SACK blocks). The corpus also keeps, as
 * v4_* and v5_*, the seeds this program wrote in export versions 4 (before SACK) and 5 (before
 * the scoreboard), which the decoder still reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/err.h"
#include "handoff/tcpe.h"

#define MS       1000000ull
#define MAXQ     256
#define MAXSEG   2048
#define CLIENT   0x0a000001u
#define SERVER   0x0a000002u
#define CPORT    40000
#define SPORT    80
#define FILE_MAX 65536

/* A segment in the queue, with its own copy of the payload. */
struct qseg {
    struct tcpe_seg seg;
    uint8_t data[MAXSEG];
};

struct net {
    struct tcpe_stack *s[2]; /* client, server */
    struct qseg q[MAXQ];     /* segments sent and not yet delivered */
    int nq;
    uint64_t now;
};

static int output(void *ctx, const struct tcpe_seg *seg)
{
    struct net *n = ctx;
    if (n->nq == MAXQ || seg->len > MAXSEG) {
        fprintf(stderr, "gen_corpus_tcpe_state: queue overflow\n");
        exit(1);
    }
    struct qseg *q = &n->q[n->nq++];
    q->seg = *seg;
    if (seg->data != NULL) {
        memcpy(q->data, seg->data, seg->len);
        q->seg.data = q->data;
    }
    return HO_OK;
}

/* Delivers the queued segments in order, except those whose index bit is set in `lose`
 * (counted over this call only), including what they cause to be sent, until the queue drains
 * or `max` segments have been taken from it. */
static void deliver_some(struct net *n, uint64_t lose, int max)
{
    int idx = 0;
    while (n->nq > 0 && idx < max) {
        struct qseg *q = malloc(sizeof *q);
        if (q == NULL) {
            exit(1);
        }
        *q = n->q[0];
        if (q->seg.data != NULL) {
            q->seg.data = q->data;
        }
        memmove(&n->q[0], &n->q[1], (size_t)(n->nq - 1) * sizeof n->q[0]);
        n->nq--;
        for (int i = 0; i < n->nq; i++) {
            if (n->q[i].seg.data != NULL) {
                n->q[i].seg.data = n->q[i].data;
            }
        }
        bool lost = idx < 64 && ((lose >> idx) & 1);
        idx++;
        n->now += 1 * MS;
        if (!lost) {
            int to = q->seg.dst_ip == SERVER ? 1 : 0;
            (void)tcpe_stack_input(n->s[to], &q->seg, n->now);
        }
        free(q);
    }
}

static void deliver(struct net *n, uint64_t lose)
{
    deliver_some(n, lose, MAXQ * 1000);
}

static int write_seed(const char *dir, const char *name, struct tcpe_conn *c, uint64_t now,
                      const uint8_t *script, size_t script_len)
{
    int len = tcpe_export(c, now, NULL, 0);
    if (len <= 0 || (size_t)len + 2 + script_len > FILE_MAX) {
        fprintf(stderr, "gen_corpus_tcpe_state: cannot export %s (%d, state %s)\n", name, len,
                tcpe_state_name(tcpe_conn_state(c)));
        return 1;
    }
    uint8_t *buf = malloc(2 + (size_t)len + script_len);
    if (buf == NULL) {
        return 1;
    }
    buf[0] = (uint8_t)(len >> 8);
    buf[1] = (uint8_t)len;
    if (tcpe_export(c, now, buf + 2, (size_t)len) != len) {
        free(buf);
        return 1;
    }
    memcpy(buf + 2 + len, script, script_len);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    size_t total = 2 + (size_t)len + script_len;
    int err = f == NULL || fwrite(buf, 1, total, f) != total;
    if (f != NULL && fclose(f) != 0) {
        err = 1;
    }
    if (err) {
        fprintf(stderr, "gen_corpus_tcpe_state: cannot write %s\n", path);
    } else {
        struct tcpe_info in;
        tcpe_conn_info(c, &in);
        printf("%s: %s, %d octets of state, %u unacknowledged, %u unread, %u out of order\n", name,
               tcpe_state_name(in.state), len, in.snd_max - in.snd_una, in.rcvbuf_len,
               in.ooo_count);
    }
    free(buf);
    return err;
}

/* A connected pair; returns the client's and the accepted server's handles. */
static void open_pair_ts(struct net *n, bool virt, bool ts, struct tcpe_conn **cli,
                         struct tcpe_conn **srv)
{
    memset(n, 0, sizeof *n);
    n->now = 1000 * MS;
    for (int i = 0; i < 2; i++) {
        struct tcpe_params p;
        tcpe_params_init(&p);
        p.ops.output = output;
        p.ctx = n;
        p.virtual_payload = virt;
        p.mss = 1000;
        p.seed = 42 + (uint64_t)i;
        p.timestamps = ts;
        if (tcpe_stack_create(&p, &n->s[i]) != HO_OK) {
            exit(1);
        }
    }
    struct tcpe_conn *l;
    struct tcpe_tuple t = {CLIENT, SERVER, CPORT, SPORT};
    if (tcpe_listen(n->s[1], SERVER, SPORT, 8, &l) != HO_OK ||
        tcpe_connect(n->s[0], &t, n->now, cli) != HO_OK) {
        exit(1);
    }
    deliver(n, 0);
    *srv = tcpe_accept(l);
    if (*srv == NULL || tcpe_conn_state(*cli) != TCPE_ESTABLISHED) {
        fprintf(stderr, "gen_corpus_tcpe_state: handshake failed\n");
        exit(1);
    }
}

static void open_pair(struct net *n, bool virt, struct tcpe_conn **cli, struct tcpe_conn **srv)
{
    open_pair_ts(n, virt, false, cli, srv);
}

static void close_pair(struct net *n)
{
    tcpe_stack_destroy(n->s[0]);
    tcpe_stack_destroy(n->s[1]);
}

static void send_pattern(struct net *n, struct tcpe_conn *c, uint32_t len, bool virt)
{
    uint8_t buf[4096];
    for (size_t i = 0; i < sizeof buf; i++) {
        buf[i] = (uint8_t)(i * 13 + 1);
    }
    while (len > 0) {
        uint32_t k = len < sizeof buf ? len : (uint32_t)sizeof buf;
        int r = tcpe_send(c, virt ? NULL : buf, k, n->now);
        if (r <= 0) {
            fprintf(stderr, "gen_corpus_tcpe_state: send failed (%d)\n", r);
            exit(1);
        }
        len -= (uint32_t)r;
    }
}

/* Scripts (fuzz_tcpe_state.c's format). Mode 1 imports at the late time. */
static const uint8_t ack_all[] = {
    1,                      /* mode: late import */
    7, 0x40, 0x00, 0,    0, /* the expected next segment: window 16384, no data */
    4,                      /* run to the next timer */
    5, 0,    0x01, 0x00,    /* send 256 octets */
    7, 0x40, 0x00, 0x01, 0, /* 256 octets of data in order */
    5, 1,    0x10, 0x00,    /* read up to 4096 */
    6,                      /* hand off to the other stack */
    3, 0x07, 0xd0,          /* 2 s pass */
    4,
};
static const uint8_t odd_segments[] = {
    3, /* mode: late import, harsh parameters */
    0, 0x11, 0x00, 0x10, 0x00, 0x00, 0x10, 0x00, 0x00, 0x40, 0x00, /* ACK+FIN ahead */
    1, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* RST in window */
    2, 0x12, 0xff, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0f, /* SYN+ACK, options */
    4, 4,    4,
};
/* Duplicate ACKs with SACK blocks (two, then one), time, and an ACK of everything. */
static const uint8_t sack_acks[] = {
    0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x10, 0x01, 0x0b, 0xb8, 0x05,
    0xb4, 0x11, 0x94, 0x05, 0xb4, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00,
    0x10, 0x00, 0x17, 0x70, 0x05, 0xb4, 0x03, 0x00, 0x64, 0x07, 0xff, 0xff, 0x00, 0x00,
};

static const uint8_t closing[] = {
    0,                   /* mode: early import */
    5, 2,                /* shutdown */
    7, 0x10, 0x00, 0, 1, /* one octet and a FIN */
    4, 5,    3,          /* run timers; release */
    4, 4,
};

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_corpus_tcpe_state DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    struct net *n = malloc(sizeof *n);
    if (n == NULL) {
        return 1;
    }
    struct tcpe_conn *cli, *srv;
    int err = 0;

    /* ESTABLISHED, client with data in flight; the server lost a segment in the middle and holds
     * the rest out of order, with unread data in front. */
    open_pair(n, false, &cli, &srv);
    send_pattern(n, cli, 6000, false);
    deliver_some(n, 0x4, 4); /* the third segment of the flight is lost, the fourth arrives */
    send_pattern(n, cli, 3000, false);
    err |= write_seed(dir, "established_client_unacked", cli, n->now, ack_all, sizeof ack_all);
    err |=
        write_seed(dir, "established_server_ooo", srv, n->now, odd_segments, sizeof odd_segments);
    err |= write_seed(dir, "established_server_ooo_early", srv, n->now, closing, sizeof closing);
    deliver(n, 0);

    /* CLOSE_WAIT: the client shut down after its data; the server has read part of it. */
    n->now += 300 * MS;
    tcpe_stack_timers(n->s[0], n->now); /* the retransmission fills the hole */
    deliver(n, 0);
    uint8_t sink[4096];
    (void)tcpe_recv(srv, sink, sizeof sink, n->now);
    tcpe_shutdown(cli, n->now);
    deliver(n, 0);
    err |= write_seed(dir, "close_wait_server", srv, n->now, ack_all, sizeof ack_all);

    /* FIN_WAIT_2: the client's FIN is acknowledged; the server still sends. */
    send_pattern(n, srv, 2500, false);
    deliver(n, 0x2);
    err |= write_seed(dir, "fin_wait_2_client", cli, n->now, closing, sizeof closing);

    /* LAST_ACK: the server closes too and its FIN is lost. */
    n->now += 2000 * MS;
    tcpe_stack_timers(n->s[1], n->now);
    deliver(n, 0);
    tcpe_shutdown(srv, n->now);
    tcpe_stack_timers(n->s[1], n->now);
    n->nq = 0; /* the FIN (and anything else in flight) is lost */
    err |= write_seed(dir, "last_ack_server", srv, n->now, ack_all, sizeof ack_all);
    close_pair(n);

    /* Limited transmit: the client's first segment is lost and the duplicate ACKs for the
     * others start to come back; exported after the first or second, with the new segments
     * limited transmit sent still unacknowledged. */
    open_pair(n, false, &cli, &srv);
    send_pattern(n, cli, 12000, false);
    deliver_some(n, 0x1, 1);
    bool limited = false;
    for (int i = 0; i < 40 && n->nq > 0 && !limited; i++) {
        deliver_some(n, 0, 1);
        struct tcpe_info in;
        tcpe_conn_info(cli, &in);
        limited = in.dupacks > 0 && in.dupacks < 3 && in.stats.limited_xmits > 0;
    }
    if (!limited) {
        fprintf(stderr, "gen_corpus_tcpe_state: no limited transmit\n");
        err = 1;
    } else {
        err |= write_seed(dir, "established_client_limited", cli, n->now, ack_all, sizeof ack_all);
    }
    close_pair(n);

    /* SACK recovery (RFC 6675): the first and third segments of the client's flight are lost,
     * and the duplicate ACKs, with SACK blocks, come back one by one until recovery starts. */
    open_pair(n, false, &cli, &srv);
    send_pattern(n, cli, 40000, false);
    deliver(n, 0);
    (void)tcpe_recv(srv, sink, sizeof sink, n->now);
    deliver(n, 0); /* the window update */
    send_pattern(n, cli, 9000, false);
    deliver_some(n, 0x5, 3);
    bool recovering = false;
    for (int i = 0; i < 40 && n->nq > 0 && !recovering; i++) {
        deliver_some(n, 0, 1);
        struct tcpe_info in;
        tcpe_conn_info(cli, &in);
        recovering = in.in_recovery && in.sack_ranges > 0;
    }
    if (!recovering) {
        fprintf(stderr, "gen_corpus_tcpe_state: no SACK recovery\n");
        err = 1;
    } else {
        err |= write_seed(dir, "established_client_sack_recovery", cli, n->now, sack_acks,
                          sizeof sack_acks);
    }
    close_pair(n);

    /* Timestamps (RFC 7323): the same losses as the first pair, so the client has data in
     * flight and the server a hole, both with TS.Recent and their own timestamp clocks. */
    open_pair_ts(n, false, true, &cli, &srv);
    send_pattern(n, cli, 6000, false);
    deliver_some(n, 0x4, 4);
    send_pattern(n, cli, 3000, false);
    err |= write_seed(dir, "established_client_ts", cli, n->now, ack_all, sizeof ack_all);
    err |= write_seed(dir, "established_server_ts_ooo", srv, n->now, odd_segments,
                      sizeof odd_segments);
    close_pair(n);

    /* Virtual payload: FIN_WAIT_1 with data in flight, and the peer, which lost the first
     * segment of the flight and queues the rest, the FIN included, out of order. */
    open_pair(n, true, &cli, &srv);
    send_pattern(n, cli, 20000, true);
    deliver(n, 0);
    send_pattern(n, cli, 5000, true);
    tcpe_shutdown(cli, n->now);
    err |= write_seed(dir, "fin_wait_1_virtual", cli, n->now, ack_all, sizeof ack_all);
    deliver_some(n, 0x1, 6);
    err |= write_seed(dir, "established_virtual_ooo_fin", srv, n->now, odd_segments,
                      sizeof odd_segments);
    close_pair(n);

    free(n);
    return err;
}
