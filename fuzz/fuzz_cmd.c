/*
 * fuzz_cmd.c - libFuzzer entry point for the handoff command protocol (include/handoff/cmd.h)
 * and the ACK aggregation that builds ACKED messages (include/handoff/ackagg.h).
 *
 * Build and run (from the repository root; `make fuzz` does this for every fuzz/fuzz_*.c):
 *   clang -fsanitize=fuzzer,address,undefined -Iinclude fuzz/fuzz_cmd.c src/policy/?*.c \
 *       src/util/?*.c -o fuzz_cmd
 *   ./fuzz_cmd -max_total_time=120 fuzz/corpus/cmd
 * (src/policy/?*.c is every .c file of src/policy.) The seed corpus, one valid encoding of every
 * message type, is written by gen_corpus_cmd.c.
 *
 * Every input is used twice.
 *
 * As a message: ho_cmd_decode must fail with the code docs/command-protocol.md gives for the
 * first fault in the documented order (version, header size, type and flags, length, body
 * size), or succeed with a message whose every field is in its documented range (blob inside
 * the buffer and last, ACKED entries distinct and non-zero, ...). A decoded message must encode
 * to exactly the input bytes (the encoding is canonical), decode again to the same message,
 * refuse a buffer one byte short without writing to it, and format into any buffer size. A
 * decoded ACKED, fed entry by entry (each twice) to an accumulator, must flush back to the same
 * entries in the same order with the bytes doubled, or the second add refused when the sum
 * passes 32 bits.
 *
 * As fields: the bytes fill a struct ho_cmd of any type (0 and 12 included), field by field,
 * with raw values. ho_cmd_size must accept it exactly when the rules of cmd.h say it is valid
 * (a reference check written here from those rules), and an accepted message must encode,
 * decode to the same fields and encode to the same bytes again.
 *
 * Any violation aborts, which libFuzzer reports as a crash.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/ackagg.h"
#include "handoff/bytes.h"
#include "handoff/cmd.h"
#include "handoff/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_cmd: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Body sizes from docs/command-protocol.md: the fixed part, and whether a blob or a list
 * follows it. Index 0 is unused. */
static const struct {
    uint16_t fixed;
    bool variable;
} body[HO_CMD_TYPE_LAST + 1] = {
    [HO_CMD_HANDOFF] = {32, true},
    [HO_CMD_HANDOFF_REPLY] = {13, false},
    [HO_CMD_RESTORE_REQUEST] = {5, false},
    [HO_CMD_RESTORE] = {21, true},
    [HO_CMD_SOFT_LIMIT] = {13, false},
    [HO_CMD_SEND] = {17, false},
    [HO_CMD_RECV] = {17, false},
    [HO_CMD_RCVD] = {8, false},
    [HO_CMD_CLOSE] = {5, false},
    [HO_CMD_CLOSED] = {5, false},
    [HO_CMD_ACKED] = {2, true},
    [HO_CMD_FW_UP] = {12, false},
    [HO_CMD_INIT] = {4, false},
};

/* Blob bytes for encoder inputs whose blob is longer than the fuzzer's input. */
static const uint8_t zeros[HO_CMD_BLOB_MAX + 1];

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool blob_ok(const struct ho_cmd_blob *b)
{
    return b->len <= HO_CMD_BLOB_MAX && (b->len == 0 || b->data != NULL);
}

/* The rules of cmd.h, written independently of cmd.c's own. */
static bool ref_valid(const struct ho_cmd *c)
{
    switch (c->type) {
    case HO_CMD_HANDOFF:
        return blob_ok(&c->handoff.state);
    case HO_CMD_HANDOFF_REPLY:
        return c->handoff_reply.status < HO_CMD_STATUS_COUNT;
    case HO_CMD_RESTORE_REQUEST:
        return c->restore_request.reason < HO_CMD_RREQ_COUNT;
    case HO_CMD_RESTORE:
        return c->restore.reason < HO_CMD_RESTORE_COUNT && blob_ok(&c->restore.state);
    case HO_CMD_SOFT_LIMIT:
        return c->soft_limit.soft_limit <= c->soft_limit.hard_limit &&
               c->soft_limit.cnum <= c->soft_limit.hard_limit &&
               c->soft_limit.lc_state < HO_CMD_LC_COUNT;
    case HO_CMD_SEND:
        return c->send.len >= 1 && (c->send.flags & ~HO_CMD_SEND_PUSH) == 0;
    case HO_CMD_RECV:
        return (c->recv.len >= 1 || (c->recv.flags & HO_CMD_RECV_FIN)) &&
               (c->recv.flags & ~HO_CMD_RECV_FIN) == 0;
    case HO_CMD_RCVD:
        return c->rcvd.len >= 1;
    case HO_CMD_CLOSE:
        return c->close.how < HO_CMD_CLOSE_COUNT;
    case HO_CMD_CLOSED:
        return c->closed.how < HO_CMD_CLOSED_COUNT;
    case HO_CMD_ACKED:
        if (c->acked.count < 1 || c->acked.count > HO_CMD_ACKED_MAX) {
            return false;
        }
        for (unsigned i = 0; i < c->acked.count; i++) {
            if (c->acked.entries[i].bytes == 0) {
                return false;
            }
            for (unsigned j = i + 1; j < c->acked.count; j++) {
                if (c->acked.entries[i].conn_id == c->acked.entries[j].conn_id) {
                    return false;
                }
            }
        }
        return true;
    case HO_CMD_FW_UP:
        return c->fw_up.boot >= 1 && c->fw_up.soft_limit <= c->fw_up.hard_limit;
    case HO_CMD_INIT:
        return c->init.boot >= 1;
    default:
        return false;
    }
}

/* The encoded size the documentation gives a valid message. */
static size_t ref_size(const struct ho_cmd *c)
{
    size_t n = HO_CMD_HDR_SIZE + body[c->type].fixed;
    if (c->type == HO_CMD_HANDOFF) {
        n += c->handoff.state.len;
    } else if (c->type == HO_CMD_RESTORE) {
        n += c->restore.state.len;
    } else if (c->type == HO_CMD_ACKED) {
        n += (size_t)c->acked.count * 8;
    }
    return n;
}

static bool same_tuple(const struct tcpe_tuple *a, const struct tcpe_tuple *b)
{
    return a->local_ip == b->local_ip && a->remote_ip == b->remote_ip &&
           a->local_port == b->local_port && a->remote_port == b->remote_port;
}

static bool same_sockbuf(const struct ho_cmd_sockbuf *a, const struct ho_cmd_sockbuf *b)
{
    return a->snd_unacked == b->snd_unacked && a->snd_unsent == b->snd_unsent &&
           a->rcv_space == b->rcv_space;
}

/* Blobs are equal by content: a decoded blob points into its own buffer. */
static bool same_blob(const struct ho_cmd_blob *a, const struct ho_cmd_blob *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static bool same_data(const struct ho_cmd_data *a, const struct ho_cmd_data *b)
{
    return a->conn_id == b->conn_id && a->len == b->len && a->addr == b->addr &&
           a->flags == b->flags;
}

/* Field-by-field equality of two valid messages (padding and unused members ignored). */
static bool same_cmd(const struct ho_cmd *a, const struct ho_cmd *b)
{
    if (a->type != b->type || a->seq != b->seq) {
        return false;
    }
    switch (a->type) {
    case HO_CMD_HANDOFF:
        return a->handoff.conn_id == b->handoff.conn_id &&
               same_tuple(&a->handoff.tuple, &b->handoff.tuple) &&
               same_sockbuf(&a->handoff.sockbuf, &b->handoff.sockbuf) &&
               same_blob(&a->handoff.state, &b->handoff.state);
    case HO_CMD_HANDOFF_REPLY:
        return a->handoff_reply.conn_id == b->handoff_reply.conn_id &&
               a->handoff_reply.req_seq == b->handoff_reply.req_seq &&
               a->handoff_reply.status == b->handoff_reply.status &&
               a->handoff_reply.soft_limit == b->handoff_reply.soft_limit;
    case HO_CMD_RESTORE_REQUEST:
        return a->restore_request.conn_id == b->restore_request.conn_id &&
               a->restore_request.reason == b->restore_request.reason;
    case HO_CMD_RESTORE:
        return a->restore.conn_id == b->restore.conn_id && a->restore.reason == b->restore.reason &&
               same_sockbuf(&a->restore.sockbuf, &b->restore.sockbuf) &&
               same_blob(&a->restore.state, &b->restore.state);
    case HO_CMD_SOFT_LIMIT:
        return a->soft_limit.soft_limit == b->soft_limit.soft_limit &&
               a->soft_limit.hard_limit == b->soft_limit.hard_limit &&
               a->soft_limit.cnum == b->soft_limit.cnum &&
               a->soft_limit.lc_state == b->soft_limit.lc_state;
    case HO_CMD_SEND:
        return same_data(&a->send, &b->send);
    case HO_CMD_RECV:
        return same_data(&a->recv, &b->recv);
    case HO_CMD_RCVD:
        return a->rcvd.conn_id == b->rcvd.conn_id && a->rcvd.len == b->rcvd.len;
    case HO_CMD_CLOSE:
        return a->close.conn_id == b->close.conn_id && a->close.how == b->close.how;
    case HO_CMD_CLOSED:
        return a->closed.conn_id == b->closed.conn_id && a->closed.how == b->closed.how;
    case HO_CMD_ACKED:
        if (a->acked.count != b->acked.count) {
            return false;
        }
        for (unsigned i = 0; i < a->acked.count; i++) {
            if (a->acked.entries[i].conn_id != b->acked.entries[i].conn_id ||
                a->acked.entries[i].bytes != b->acked.entries[i].bytes) {
                return false;
            }
        }
        return true;
    case HO_CMD_FW_UP:
        return a->fw_up.boot == b->fw_up.boot && a->fw_up.hard_limit == b->fw_up.hard_limit &&
               a->fw_up.soft_limit == b->fw_up.soft_limit;
    case HO_CMD_INIT:
        return a->init.boot == b->init.boot;
    default:
        return false;
    }
}

/* A decoded blob lies inside the decoded buffer, as its last bytes. */
static void check_decoded_blob(const struct ho_cmd_blob *b, const uint8_t *buf, size_t len)
{
    CHECK(b->len <= HO_CMD_BLOB_MAX);
    if (b->len == 0) {
        CHECK(b->data == NULL);
    } else {
        CHECK(b->data == buf + len - b->len);
    }
}

/* Every documented invariant of a message ho_cmd_decode accepted from buf[0..len). */
static void check_decoded(const struct ho_cmd *c, const uint8_t *buf, size_t len)
{
    CHECK(c->type >= 1 && c->type <= HO_CMD_TYPE_LAST);
    CHECK(ho_cmd_type_dir(c->type) == HO_CMD_TO_NIC || ho_cmd_type_dir(c->type) == HO_CMD_TO_HOST);
    CHECK(strcmp(ho_cmd_type_name(c->type), "UNKNOWN") != 0);
    CHECK(c->seq == be32(buf + 8));
    CHECK(ref_valid(c));
    CHECK(ref_size(c) == len);
    switch (c->type) {
    case HO_CMD_HANDOFF:
        check_decoded_blob(&c->handoff.state, buf, len);
        break;
    case HO_CMD_HANDOFF_REPLY:
        CHECK(strcmp(ho_cmd_status_name(c->handoff_reply.status), "?") != 0);
        break;
    case HO_CMD_RESTORE:
        CHECK(strcmp(ho_cmd_restore_reason_name(c->restore.reason), "?") != 0);
        check_decoded_blob(&c->restore.state, buf, len);
        break;
    default:
        break;
    }
}

/* The trace line: the same length for every buffer size, truncated but terminated. */
static void check_format(const struct ho_cmd *c)
{
    int n = ho_cmd_format(c, NULL, 0);
    CHECK(n > 0);
    char *full = malloc((size_t)n + 1);
    CHECK(full != NULL);
    CHECK(ho_cmd_format(c, full, (size_t)n + 1) == n);
    CHECK(strlen(full) == (size_t)n);
    size_t cap = (size_t)n / 2 + 1;
    char *part = malloc(cap);
    CHECK(part != NULL);
    CHECK(ho_cmd_format(c, part, cap) == n);
    CHECK(strlen(part) == cap - 1 && memcmp(part, full, cap - 1) == 0);
    free(part);
    free(full);
}

/*
 * An ACKED's entries, each added twice to an accumulator that never triggers on bytes or delay,
 * flush back in order with each count doubled, or kept single when doubling passes 32 bits
 * (the second add is then refused and changes nothing).
 */
static void check_ackagg(const struct ho_cmd *c)
{
    struct ho_ackagg_params p = {
        .max_entries = c->acked.count, .byte_threshold = 0, .max_delay = UINT64_MAX};
    struct ho_ackagg *ag;
    CHECK(ho_ackagg_create(&p, &ag) == HO_OK);
    for (unsigned i = 0; i < c->acked.count; i++) {
        const struct ho_cmd_ack_entry *e = &c->acked.entries[i];
        int want = i + 1 == c->acked.count ? HO_ACKAGG_FULL : HO_ACKAGG_HOLD;
        CHECK(ho_ackagg_add(ag, e->conn_id, e->bytes, i) == want);
        int rc = ho_ackagg_add(ag, e->conn_id, e->bytes, i);
        CHECK(rc == (e->bytes > UINT32_MAX - e->bytes ? HO_ENOSPC : want));
        CHECK(ho_ackagg_count(ag) == i + 1);
    }
    CHECK(ho_ackagg_deadline(ag) == UINT64_MAX);
    struct ho_cmd out;
    CHECK(ho_ackagg_flush(ag, c->seq + 1, &out) == c->acked.count);
    CHECK(ho_ackagg_count(ag) == 0 && ho_ackagg_flush(ag, 0, &out) == HO_EAGAIN);
    CHECK(out.type == HO_CMD_ACKED && out.seq == c->seq + 1 && out.acked.count == c->acked.count);
    uint64_t total = 0;
    for (unsigned i = 0; i < c->acked.count; i++) {
        uint32_t b = c->acked.entries[i].bytes;
        uint32_t want = b > UINT32_MAX - b ? b : 2 * b;
        CHECK(out.acked.entries[i].conn_id == c->acked.entries[i].conn_id);
        CHECK(out.acked.entries[i].bytes == want);
        total += want;
    }
    struct ho_ackagg_stats st;
    ho_ackagg_stats(ag, &st);
    CHECK(st.messages == 1 && st.entries == c->acked.count && st.bytes == total);
    CHECK(ho_cmd_size(&out) == (int)ref_size(&out));
    ho_ackagg_destroy(ag);
}

/* The input as an encoded message. */
static void check_decode(const uint8_t *data, size_t size)
{
    struct ho_cmd c;
    int rc = ho_cmd_decode(data, size, &c);
    /* The faults of the envelope, in the order cmd.h gives. */
    if (size > 0 && data[0] != HO_CMD_VERSION) {
        CHECK(rc == HO_EVERSION);
        return;
    }
    if (size < HO_CMD_HDR_SIZE) {
        CHECK(rc == HO_EMSGSIZE);
        return;
    }
    uint8_t type = data[1];
    if (type < 1 || type > HO_CMD_TYPE_LAST || data[2] != 0 || data[3] != 0) {
        CHECK(rc == HO_EPROTO);
        return;
    }
    size_t blen = size - HO_CMD_HDR_SIZE;
    if (be32(data + 4) != size ||
        (body[type].variable ? blen < body[type].fixed : blen != body[type].fixed)) {
        CHECK(rc == HO_EMSGSIZE);
        return;
    }
    if (rc != HO_OK) {
        CHECK(rc == HO_EPROTO);
        return;
    }
    check_decoded(&c, data, size);

    /* Canonical: the message encodes to exactly the input. */
    CHECK(ho_cmd_size(&c) == (int)size);
    uint8_t *out = malloc(size + 1);
    CHECK(out != NULL);
    CHECK(ho_cmd_encode(&c, out, size) == (int)size);
    CHECK(memcmp(out, data, size) == 0);
    struct ho_cmd again;
    CHECK(ho_cmd_decode(out, size, &again) == HO_OK);
    CHECK(same_cmd(&c, &again));

    /* One byte short: refused, nothing written. One byte more or less: not a message. */
    memset(out, 0xa5, size + 1);
    CHECK(ho_cmd_encode(&c, out, size - 1) == HO_EMSGSIZE);
    for (size_t i = 0; i < size + 1; i++) {
        CHECK(out[i] == 0xa5);
    }
    CHECK(ho_cmd_decode(data, size - 1, &again) != HO_OK);
    memcpy(out, data, size);
    CHECK(ho_cmd_decode(out, size + 1, &again) != HO_OK);
    free(out);

    check_format(&c);
    if (c.type == HO_CMD_ACKED) {
        check_ackagg(&c);
    }
}

/* A blob of the requested length: bytes of the input if enough are left, else zeros, or NULL
 * (refused unless empty) when the flag says so. */
static void fill_blob(struct ho_rd *r, struct ho_cmd_blob *b)
{
    uint8_t flag = ho_rd_u8(r);
    b->len = ho_rd_u32(r) % (HO_CMD_BLOB_MAX + 2);
    if (flag & 1) {
        b->data = NULL;
    } else if (b->len <= ho_rd_left(r)) {
        b->data = r->buf + r->pos;
    } else {
        b->data = zeros;
    }
}

static void fill_sockbuf(struct ho_rd *r, struct ho_cmd_sockbuf *s)
{
    s->snd_unacked = ho_rd_u32(r);
    s->snd_unsent = ho_rd_u32(r);
    s->rcv_space = ho_rd_u32(r);
}

static void fill_data(struct ho_rd *r, struct ho_cmd_data *d)
{
    d->conn_id = ho_rd_u32(r);
    d->len = ho_rd_u8(r) < 16 ? 0 : ho_rd_u32(r); /* zero lengths often */
    d->addr = ho_rd_u64(r);
    d->flags = ho_rd_u8(r);
}

/* Small field values often, so that both sides of every range are reached. */
static uint8_t small(struct ho_rd *r)
{
    uint8_t v = ho_rd_u8(r);
    return v < 0xf0 ? v % 8 : v;
}

/* The input as the fields of a message to encode. Reads past the end give zeros. */
static void check_encode(const uint8_t *data, size_t size)
{
    struct ho_rd r;
    ho_rd_init(&r, data, size);
    struct ho_cmd c;
    memset(&c, 0, sizeof c);
    c.type = ho_rd_u8(&r) % (HO_CMD_TYPE_LAST + 2);
    c.seq = ho_rd_u32(&r);
    switch (c.type) {
    case HO_CMD_HANDOFF:
        c.handoff.conn_id = ho_rd_u32(&r);
        c.handoff.tuple.local_ip = ho_rd_u32(&r);
        c.handoff.tuple.remote_ip = ho_rd_u32(&r);
        c.handoff.tuple.local_port = ho_rd_u16(&r);
        c.handoff.tuple.remote_port = ho_rd_u16(&r);
        fill_sockbuf(&r, &c.handoff.sockbuf);
        fill_blob(&r, &c.handoff.state);
        break;
    case HO_CMD_HANDOFF_REPLY:
        c.handoff_reply.conn_id = ho_rd_u32(&r);
        c.handoff_reply.req_seq = ho_rd_u32(&r);
        c.handoff_reply.status = small(&r);
        c.handoff_reply.soft_limit = ho_rd_u32(&r);
        break;
    case HO_CMD_RESTORE_REQUEST:
        c.restore_request.conn_id = ho_rd_u32(&r);
        c.restore_request.reason = small(&r);
        break;
    case HO_CMD_RESTORE:
        c.restore.conn_id = ho_rd_u32(&r);
        c.restore.reason = small(&r);
        fill_sockbuf(&r, &c.restore.sockbuf);
        fill_blob(&r, &c.restore.state);
        break;
    case HO_CMD_SOFT_LIMIT:
        c.soft_limit.soft_limit = ho_rd_u8(&r);
        c.soft_limit.hard_limit = ho_rd_u8(&r);
        c.soft_limit.cnum = ho_rd_u8(&r);
        c.soft_limit.lc_state = small(&r);
        break;
    case HO_CMD_SEND:
        fill_data(&r, &c.send);
        break;
    case HO_CMD_RECV:
        fill_data(&r, &c.recv);
        break;
    case HO_CMD_RCVD:
        c.rcvd.conn_id = ho_rd_u32(&r);
        c.rcvd.len = ho_rd_u8(&r) < 16 ? 0 : ho_rd_u32(&r);
        break;
    case HO_CMD_CLOSE:
        c.close.conn_id = ho_rd_u32(&r);
        c.close.how = small(&r);
        break;
    case HO_CMD_CLOSED:
        c.closed.conn_id = ho_rd_u32(&r);
        c.closed.how = small(&r);
        break;
    case HO_CMD_ACKED:
        /* Counts up to 70 (past the limit), connection ids of one byte (so that some repeat). */
        c.acked.count = ho_rd_u8(&r) % 71;
        for (unsigned i = 0; i < c.acked.count && i < HO_CMD_ACKED_MAX; i++) {
            c.acked.entries[i].conn_id = ho_rd_u8(&r);
            c.acked.entries[i].bytes = ho_rd_u8(&r) < 8 ? 0 : ho_rd_u32(&r);
        }
        break;
    case HO_CMD_FW_UP:
        /* Small numbers, so that boots of 0 and Soft limits over Hard limit both come up. */
        c.fw_up.boot = ho_rd_u8(&r) % 4;
        c.fw_up.hard_limit = ho_rd_u8(&r);
        c.fw_up.soft_limit = ho_rd_u8(&r);
        break;
    case HO_CMD_INIT:
        c.init.boot = ho_rd_u8(&r) % 4;
        break;
    default:
        break; /* type 0 or HO_CMD_TYPE_LAST + 1: unknown */
    }

    int n = ho_cmd_size(&c);
    bool valid = ref_valid(&c);
    CHECK(valid == (n >= 0));
    if (!valid) {
        CHECK(n == HO_EINVAL);
        uint8_t probe[HO_CMD_HDR_SIZE];
        CHECK(ho_cmd_encode(&c, probe, sizeof probe) == HO_EINVAL);
        return;
    }
    CHECK((size_t)n == ref_size(&c));
    uint8_t *buf = malloc((size_t)n);
    CHECK(buf != NULL);
    CHECK(ho_cmd_encode(&c, buf, (size_t)n) == n);
    struct ho_cmd d;
    CHECK(ho_cmd_decode(buf, (size_t)n, &d) == HO_OK);
    CHECK(same_cmd(&c, &d));
    check_decoded(&d, buf, (size_t)n);
    uint8_t *again = malloc((size_t)n);
    CHECK(again != NULL);
    CHECK(ho_cmd_encode(&d, again, (size_t)n) == n);
    CHECK(memcmp(buf, again, (size_t)n) == 0);
    free(again);
    free(buf);
}

/* Sequence gaps: the wraparound-safe distance, or a refusal for anything behind. */
static void check_seq_gap(const uint8_t *data, size_t size)
{
    if (size < 8) {
        return;
    }
    uint32_t expected = be32(data), got = be32(data + 4);
    uint32_t ahead = got - expected;
    int gap = ho_cmd_seq_gap(expected, got);
    if (ahead < UINT32_C(0x80000000)) {
        CHECK(gap == (int)ahead);
    } else {
        CHECK(gap == HO_EPROTO);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_decode(data, size);
    check_encode(data, size);
    check_seq_gap(data, size);
    return 0;
}
