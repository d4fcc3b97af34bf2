/*
 * fuzz_tcpe_state.c - libFuzzer entry point for the TCP engine's state decoder (tcpe_import).
 *
 * Build and run (from the repository root; `make fuzz` does this for every fuzz/fuzz_*.c):
 *   clang -fsanitize=fuzzer,address,undefined -Iinclude -Isrc/tcpe fuzz/fuzz_tcpe_state.c \
 *       src/tcpe/?*.c src/util/?*.c -o fuzz_tcpe_state
 *   ./fuzz_tcpe_state -max_total_time=120 fuzz/corpus/tcpe_state
 * (src/tcpe/?*.c is every .c file of src/tcpe.) The seed corpus holds real exported
 * connections, written by gen_corpus_tcpe_state.c.
 *
 * An input is a big-endian u16 length L, then L bytes given to tcpe_import on a fresh stack,
 * then a script that drives whatever was imported:
 *
 *   mode (1 byte)   bit 0: import at a late time (2^62 ns, every age representable) or an early
 *                   one (1 s, ages clamp); bit 1: harsh stack parameters (two out-of-order
 *                   segments, no delayed ACK, two retransmissions, one challenge ACK a second,
 *                   short timeouts), which an imported connection must live with
 *   ops ...         each an opcode byte and its operands, read until the input ends (missing
 *                   operand bytes read as 0), at most MAX_OPS:
 *     0, 1, 2  a segment from the peer: flags u8, seq - RCV.NXT s16, ack - SND.UNA s16,
 *              window u16, payload length u16 (mod 4096), options u8 (low 5 bits: which;
 *              a TSval of TS.Recent plus the byte as signed, so on either side of PAWS); with
 *              TCPE_OPT_SACK one to four SACK blocks follow: a count u8 (mod 4, plus 1), then
 *              per block its start - SND.UNA s16 and its length s16 (so reversed ones too)
 *     3        time advances by u16 milliseconds; due timers run
 *     4        time jumps to the stack's next wake (if within a day); due timers run
 *     5        the application: u8 selects send (u16 octets), recv (u16), shutdown, release,
 *              abort
 *     6        handoff: export, detach, import into the other stack (whose clock is offset)
 *     7        the segment the peer would send next: SEQ = RCV.NXT, ACK = SND.MAX, ACK flag,
 *              window u16, payload length u16 (mod 4096), FIN if the length's low bit is set,
 *              and with timestamps a TSval at or after TS.Recent
 *
 * Beyond the sanitizers and the engine's own assertions, these must hold, and any violation
 * aborts (a finding):
 *  - the decoder accepts only canonical encodings: a state imported at the late time exports
 *    back byte for byte (the age of the last arrival excepted when it exceeds the clock; a
 *    version 5 encoding, from before the SACK scoreboard, comes back as version 6 with an empty
 *    scoreboard and HighRxt at SND.UNA; a version 4 one, from before SACK, the same and with no
 *    SACK blocks either);
 *  - every connection the engine holds in an exportable state exports to an encoding that
 *    imports again (the handoff op, and the final check before the stacks are destroyed);
 *  - segments the engine emits come from the connection's tuple, and real payload is readable.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/err.h"
#include "handoff/tcpe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_tcpe_state: %s:%d: check failed: %s\n", __FILE__, __LINE__,      \
                    #cond);                                                                        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define MS          1000000ull
#define SEC         1000000000ull
#define DAY         (24ull * 3600 * SEC)
#define LATE        (1ull << 62)
#define EARLY       (1 * SEC)
#define OTHER_SKEW  (7 * SEC) /* the second stack's clock runs this much ahead */
#define MAX_OPS     64
#define MAX_PAYLOAD 4096
#define RCV_AGE_OFF 139 /* offset of "age of last arrival" in the encoding (docs/tcpe.md) */
#define SND_UNA_OFF 27  /* offset of SND.UNA */

/* The script, read byte by byte; past its end every read is 0. */
struct script {
    const uint8_t *p;
    size_t n;
};

static uint8_t get8(struct script *s)
{
    if (s->n == 0) {
        return 0;
    }
    s->n--;
    return *s->p++;
}

static uint16_t get16(struct script *s)
{
    uint16_t hi = get8(s);
    return (uint16_t)(hi << 8 | get8(s));
}

/* What the output callback checks against, and a sink for the payload it reads. */
struct sink {
    struct tcpe_tuple tuple; /* the connection under test, from our side */
    uint64_t segs;           /* segments emitted */
    uint32_t sum;            /* payload octets added up, so ASan sees every one read */
};

static int output(void *ctx, const struct tcpe_seg *seg)
{
    struct sink *k = ctx;
    k->segs++;
    /* Everything the stacks send concerns the connection under test (or answers a segment
     * for it), so it carries that tuple. */
    CHECK(seg->src_ip == k->tuple.local_ip && seg->dst_ip == k->tuple.remote_ip);
    CHECK(seg->src_port == k->tuple.local_port && seg->dst_port == k->tuple.remote_port);
    CHECK(seg->len <= 65495);
    if (seg->data != NULL) {
        for (uint32_t i = 0; i < seg->len; i++) {
            k->sum += seg->data[i];
        }
    }
    return HO_OK;
}

struct world {
    struct tcpe_stack *s[2]; /* the connection lives in s[cur] */
    int cur;
    uint64_t now;            /* the first stack's clock; the second's is now + OTHER_SKEW */
    struct tcpe_conn *c;     /* the application's handle, NULL once released or moved away */
    struct tcpe_tuple tuple; /* its 4-tuple */
    struct tcpe_info last;   /* its last known variables (kept after release) */
    uint8_t payload[MAX_PAYLOAD];
};

static uint64_t clock_of(const struct world *w, int i)
{
    return w->now + (i == 1 ? OTHER_SKEW : 0);
}

/* The connection as the stack holds it now (released connections still live until closed). */
static struct tcpe_conn *live_conn(struct world *w)
{
    return tcpe_stack_lookup(w->s[w->cur], &w->tuple);
}

static void refresh(struct world *w)
{
    struct tcpe_conn *c = live_conn(w);
    if (c != NULL) {
        tcpe_conn_info(c, &w->last);
    }
}

static void run_timers(struct world *w)
{
    for (int i = 0; i < 2; i++) {
        tcpe_stack_timers(w->s[i], clock_of(w, i));
        uint64_t next = tcpe_stack_next_wake(w->s[i]);
        CHECK(next == TCPE_NEVER || next > clock_of(w, i));
    }
}

static void op_segment(struct world *w, struct script *sc, bool next_expected)
{
    struct tcpe_seg g;
    memset(&g, 0, sizeof g);
    g.src_ip = w->tuple.remote_ip;
    g.dst_ip = w->tuple.local_ip;
    g.src_port = w->tuple.remote_port;
    g.dst_port = w->tuple.local_port;
    if (next_expected) {
        g.flags = TCPE_ACK;
        g.seq = w->last.rcv_nxt;
        g.ack = w->last.snd_max;
        g.wnd = get16(sc);
        g.len = get16(sc) % MAX_PAYLOAD;
        if (g.len & 1) {
            g.flags |= TCPE_FIN;
        }
        if (w->last.timestamps) {
            g.opts = TCPE_OPT_TS; /* a TSval that passes PAWS */
            g.ts_val = w->last.ts_recent + (g.len >> 1);
        }
    } else {
        g.flags = get8(sc);
        g.seq = w->last.rcv_nxt + (uint32_t)(int32_t)(int16_t)get16(sc);
        g.ack = w->last.snd_una + (uint32_t)(int32_t)(int16_t)get16(sc);
        g.wnd = get16(sc);
        g.len = get16(sc) % MAX_PAYLOAD;
        uint8_t o = get8(sc);
        g.opts = o & 0x1f;
        g.mss = (uint16_t)(o << 4);
        g.wscale = o >> 4;
        g.ts_val = w->last.ts_recent + (uint32_t)(int32_t)(int8_t)o; /* either side of PAWS */
        g.ts_ecr = (uint32_t)o << 8;
        if (g.opts & TCPE_OPT_SACK) {
            g.nsack = (uint8_t)(1 + get8(sc) % TCPE_SACK_MAX);
            for (unsigned i = 0; i < g.nsack; i++) {
                g.sack[i].start = w->last.snd_una + (uint32_t)(int32_t)(int16_t)get16(sc);
                g.sack[i].end = g.sack[i].start + (uint32_t)(int32_t)(int16_t)get16(sc);
            }
        }
    }
    g.data = w->last.virtual_payload ? NULL : w->payload;
    int err = tcpe_stack_input(w->s[w->cur], &g, clock_of(w, w->cur));
    CHECK(err == HO_OK || err == HO_ENOENT);
}

static void op_app(struct world *w, struct script *sc)
{
    uint8_t a = get8(sc);
    if (w->c == NULL) {
        return;
    }
    uint64_t now = clock_of(w, w->cur);
    bool virt = w->last.virtual_payload;
    switch (a % 5) {
    case 0: {
        uint32_t n = get16(sc) % MAX_PAYLOAD;
        int r = tcpe_send(w->c, virt ? NULL : w->payload, n, now);
        CHECK(r >= 0 ? (uint32_t)r <= n : r == HO_ESTATE || r == HO_ENOMEM);
        break;
    }
    case 1: {
        uint32_t n = get16(sc) % MAX_PAYLOAD;
        uint8_t buf[MAX_PAYLOAD];
        int r = tcpe_recv(w->c, virt ? NULL : buf, n, now);
        CHECK(r >= 0 && (uint32_t)r <= n);
        break;
    }
    case 2: {
        int r = tcpe_shutdown(w->c, now);
        CHECK(r == HO_OK || r == HO_ESTATE);
        break;
    }
    case 3:
        tcpe_release(w->c, now);
        w->c = NULL;
        break;
    default:
        tcpe_abort(w->c, now);
        break;
    }
}

/* Moves the connection to the other stack, as the host and the NIC do. The export of any
 * exportable connection must import. */
static void op_handoff(struct world *w)
{
    if (w->c == NULL || !TCPE_CAN_EXPORT(tcpe_conn_state(w->c))) {
        return;
    }
    uint64_t now = clock_of(w, w->cur);
    int n = tcpe_export(w->c, now, NULL, 0);
    CHECK(n > 0);
    uint8_t *buf = malloc((size_t)n);
    CHECK(buf != NULL);
    CHECK(tcpe_export(w->c, now, buf, (size_t)n) == n);
    /* Whatever events were pending stay behind, as they do in a real handoff. */
    (void)tcpe_conn_poll(w->c);
    tcpe_detach(w->c);
    w->cur ^= 1;
    struct tcpe_conn *c = NULL;
    int err = tcpe_import(w->s[w->cur], buf, (size_t)n, clock_of(w, w->cur), &c);
    if (err != HO_OK) {
        fprintf(stderr, "fuzz_tcpe_state: re-import of an exported state failed: %d\n", err);
        abort();
    }
    free(buf);
    w->c = c;
}

/* The decoder must accept only what the encoder writes: the import re-exports identically. */
static void check_canonical(struct tcpe_conn *c, const uint8_t *v, size_t v_len, uint64_t now)
{
    /* What version 6 says of a connection read from an older encoding is the same bytes with
     * the version changed and, ahead of the counters, what the older one lacked: version 5 an
     * empty scoreboard and HighRxt = SND.UNA, version 4 also an empty list of SACK blocks. */
    const size_t counters = 1 + sizeof(struct tcpe_stats);
    uint8_t *upgraded = NULL;
    const uint8_t *state = v;
    size_t len = v_len;
    if (v_len > SND_UNA_OFF + 4 + counters && v[4] == 0 && (v[5] == 4 || v[5] == 5)) {
        uint8_t added[6] = {
            0, 0, v[SND_UNA_OFF], v[SND_UNA_OFF + 1], v[SND_UNA_OFF + 2], v[SND_UNA_OFF + 3]};
        size_t skip = v[5] == 4 ? 0 : 1; /* version 5 has the SACK block list already */
        len = v_len + sizeof added - skip;
        upgraded = malloc(len);
        CHECK(upgraded != NULL);
        memcpy(upgraded, v, v_len - counters);
        upgraded[5] = 6;
        memcpy(upgraded + v_len - counters, added + skip, sizeof added - skip);
        memcpy(upgraded + len - counters, v + v_len - counters, counters);
        state = upgraded;
    }
    int n = tcpe_export(c, now, NULL, 0);
    CHECK(n > 0 && (size_t)n == len);
    uint8_t *again = malloc(len);
    CHECK(again != NULL);
    CHECK(tcpe_export(c, now, again, len) == n);
    CHECK(len > RCV_AGE_OFF + 8);
    uint64_t rcv_age = 0;
    for (int i = 0; i < 8; i++) {
        rcv_age = rcv_age << 8 | state[RCV_AGE_OFF + i];
    }
    if (rcv_age > now) {
        /* An arrival before the importer's clock began cannot be represented: it clamps. */
        memcpy(again + RCV_AGE_OFF, state + RCV_AGE_OFF, 8);
    }
    CHECK(memcmp(again, state, len) == 0);
    free(again);
    free(upgraded);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    size_t len = (size_t)data[0] << 8 | data[1];
    if (len > size - 2) {
        len = size - 2;
    }
    const uint8_t *state = data + 2;
    struct script sc = {state + len, size - 2 - len};
    uint8_t mode = get8(&sc);

    struct world w;
    memset(&w, 0, sizeof w);
    for (size_t i = 0; i < sizeof w.payload; i++) {
        w.payload[i] = (uint8_t)(i * 7 + 3);
    }
    struct sink sink;
    memset(&sink, 0, sizeof sink);
    struct tcpe_params p;
    tcpe_params_init(&p);
    p.ops.output = output;
    p.ctx = &sink;
    p.hash_buckets = 16;
    if (mode & 2) {
        p.ooo_max = 2;
        p.delack = 0;
        p.rexmt_limit = 2;
        p.challenge_ack_limit = 1;
        p.rto_min = 10 * MS;
        p.rto_init = 10 * MS;
        p.rto_max = 100 * MS;
        p.msl = 10 * MS;
        p.fin_wait_2_timeout = 10 * MS;
    }
    CHECK(tcpe_stack_create(&p, &w.s[0]) == HO_OK);
    CHECK(tcpe_stack_create(&p, &w.s[1]) == HO_OK);
    w.now = (mode & 1) ? LATE : EARLY;

    int err = tcpe_import(w.s[0], state, len, w.now, &w.c);
    if (err != HO_OK) {
        CHECK(w.c == NULL && tcpe_stack_conn_count(w.s[0]) == 0);
        CHECK(err == HO_EPROTO || err == HO_EMSGSIZE || err == HO_EVERSION);
        tcpe_stack_destroy(w.s[0]);
        tcpe_stack_destroy(w.s[1]);
        return 0;
    }
    CHECK(w.c != NULL && tcpe_stack_conn_count(w.s[0]) == 1);
    if (mode & 1) {
        check_canonical(w.c, state, len, w.now);
    }
    w.tuple = *tcpe_conn_tuple(w.c);
    sink.tuple = w.tuple;
    tcpe_conn_info(w.c, &w.last);
    CHECK(TCPE_CAN_EXPORT(w.last.state));
    /* The same 4-tuple cannot be imported twice into one stack. */
    struct tcpe_conn *dup = NULL;
    CHECK(tcpe_import(w.s[0], state, len, w.now, &dup) == HO_EEXIST && dup == NULL);

    for (int i = 0; i < MAX_OPS && sc.n > 0; i++) {
        uint8_t op = get8(&sc);
        switch (op & 7) {
        case 0:
        case 1:
        case 2:
            op_segment(&w, &sc, false);
            break;
        case 3:
            w.now += get16(&sc) * MS;
            run_timers(&w);
            break;
        case 4: {
            uint64_t next = tcpe_stack_next_wake(w.s[w.cur]);
            uint64_t now = clock_of(&w, w.cur);
            if (next != TCPE_NEVER && next > now && next - now <= DAY) {
                w.now += next - now;
            }
            run_timers(&w);
            break;
        }
        case 5:
            op_app(&w, &sc);
            break;
        case 6:
            op_handoff(&w);
            break;
        default:
            op_segment(&w, &sc, true);
            break;
        }
        if (w.c != NULL) {
            (void)tcpe_conn_poll(w.c);
        }
        refresh(&w);
    }
    /* Whatever state the connection reached, if it can move it must. */
    op_handoff(&w);
    /* Let every timer run out: the connection ends or waits for a peer that never speaks. */
    for (int i = 0; i < 40; i++) {
        uint64_t next = tcpe_stack_next_wake(w.s[w.cur]);
        uint64_t now = clock_of(&w, w.cur);
        if (next == TCPE_NEVER || (next > now && next - now > DAY)) {
            break;
        }
        w.now += next > now ? next - now : 0;
        run_timers(&w);
    }
    if (w.c != NULL) {
        tcpe_release(w.c, clock_of(&w, w.cur));
    }
    tcpe_stack_destroy(w.s[0]);
    tcpe_stack_destroy(w.s[1]);
    return 0;
}
