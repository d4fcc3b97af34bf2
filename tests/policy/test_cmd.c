/*
 * test_cmd.c - the handoff command protocol: round trips of every message, golden byte vectors,
 * every kind of malformed input, and a randomized decoder run over random and mutated buffers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "handoff/cmd.h"
#include "handoff/err.h"
#include "handoff/loadctl.h"
#include "handoff/rng.h"

/* The wire's load-control values are the state machine's own. */
_Static_assert(HO_CMD_LC_MONITOR == (int)HO_LC_MONITOR, "MONITOR");
_Static_assert(HO_CMD_LC_DECREASE == (int)HO_LC_DECREASE, "DECREASE");
_Static_assert(HO_CMD_LC_INCREASE == (int)HO_LC_INCREASE, "INCREASE");
_Static_assert(HO_CMD_LC_COUNT == (int)HO_LC_NSTATES, "state count");

#define NTYPES HO_CMD_TYPE_LAST

/* Two state blobs; their content is opaque to the protocol, only their bytes matter. */
static const uint8_t blob_a[] = "exported TCB, version 1, 37 bytes...";
static const uint8_t blob_b[] =
    "a longer blob: TCB fields, reassembly queue and unsent-data references, "
    "one hundred bytes in all!!!";
_Static_assert(sizeof blob_a == 37 && sizeof blob_b == 100, "blob sizes");

/* A valid message of the given type, every field set to a distinct, non-trivial value. */
static struct ho_cmd sample(int type)
{
    struct ho_cmd c;
    memset(&c, 0, sizeof c);
    c.type = (uint8_t)type;
    c.seq = 0x80000000u + (uint32_t)type;
    switch (type) {
    case HO_CMD_HANDOFF:
        c.handoff.conn_id = 0x11223344;
        c.handoff.tuple = (struct tcpe_tuple){0x0A000001, 0xC0A80102, 8080, 51234};
        c.handoff.sockbuf = (struct ho_cmd_sockbuf){1000, 2000, 3000};
        c.handoff.state = (struct ho_cmd_blob){sizeof blob_a, blob_a};
        break;
    case HO_CMD_HANDOFF_REPLY:
        c.handoff_reply.conn_id = 0x55667788;
        c.handoff_reply.req_seq = 0x99AABBCC;
        c.handoff_reply.status = HO_CMD_REFUSED_NOMEM;
        c.handoff_reply.soft_limit = 777;
        break;
    case HO_CMD_RESTORE_REQUEST:
        c.restore_request.conn_id = 9;
        c.restore_request.reason = HO_CMD_RREQ_ROUTE;
        break;
    case HO_CMD_RESTORE:
        c.restore.conn_id = 0xDEADBEEF;
        c.restore.reason = HO_CMD_RESTORE_OVERLOAD;
        c.restore.sockbuf = (struct ho_cmd_sockbuf){5, 6, 7};
        c.restore.state = (struct ho_cmd_blob){sizeof blob_b, blob_b};
        break;
    case HO_CMD_SOFT_LIMIT:
        c.soft_limit = (struct ho_cmd_soft_limit){900, 4096, 901, HO_CMD_LC_INCREASE};
        break;
    case HO_CMD_SEND:
        c.send = (struct ho_cmd_data){3, 1460, 0x123456789ABCDEF0ull, HO_CMD_SEND_PUSH};
        break;
    case HO_CMD_RECV:
        c.recv = (struct ho_cmd_data){4, 0, 0xFEDCBA9876543210ull, HO_CMD_RECV_FIN};
        break;
    case HO_CMD_RCVD:
        c.rcvd = (struct ho_cmd_rcvd){5, 65536};
        break;
    case HO_CMD_CLOSE:
        c.close = (struct ho_cmd_close){6, HO_CMD_CLOSE_ABORT};
        break;
    case HO_CMD_CLOSED:
        c.closed = (struct ho_cmd_close){7, HO_CMD_CLOSED_TIMEOUT};
        break;
    case HO_CMD_ACKED:
        c.acked.count = 3;
        c.acked.entries[0] = (struct ho_cmd_ack_entry){10, 1448};
        c.acked.entries[1] = (struct ho_cmd_ack_entry){0xFFFFFFFF, 1};
        c.acked.entries[2] = (struct ho_cmd_ack_entry){0, 0xFFFFFFFF};
        break;
    case HO_CMD_FW_UP:
        c.fw_up = (struct ho_cmd_fw_up){2, 4096, 4096};
        break;
    case HO_CMD_INIT:
        c.init = (struct ho_cmd_init){2};
        break;
    default:
        fail_msg("no sample for type %d", type);
    }
    return c;
}

static void assert_blob_eq(const struct ho_cmd_blob *a, const struct ho_cmd_blob *b)
{
    assert_int_equal(a->len, b->len);
    if (a->len > 0) {
        assert_non_null(a->data);
        assert_non_null(b->data);
        assert_memory_equal(a->data, b->data, a->len);
    }
}

static void assert_sockbuf_eq(const struct ho_cmd_sockbuf *a, const struct ho_cmd_sockbuf *b)
{
    assert_int_equal(a->snd_unacked, b->snd_unacked);
    assert_int_equal(a->snd_unsent, b->snd_unsent);
    assert_int_equal(a->rcv_space, b->rcv_space);
}

static void assert_data_eq(const struct ho_cmd_data *a, const struct ho_cmd_data *b)
{
    assert_int_equal(a->conn_id, b->conn_id);
    assert_int_equal(a->len, b->len);
    assert_true(a->addr == b->addr);
    assert_int_equal(a->flags, b->flags);
}

/* Field by field, so that a field the codec forgets shows up by name. */
static void assert_cmd_eq(const struct ho_cmd *a, const struct ho_cmd *b)
{
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->seq, b->seq);
    switch (a->type) {
    case HO_CMD_HANDOFF:
        assert_int_equal(a->handoff.conn_id, b->handoff.conn_id);
        assert_int_equal(a->handoff.tuple.local_ip, b->handoff.tuple.local_ip);
        assert_int_equal(a->handoff.tuple.remote_ip, b->handoff.tuple.remote_ip);
        assert_int_equal(a->handoff.tuple.local_port, b->handoff.tuple.local_port);
        assert_int_equal(a->handoff.tuple.remote_port, b->handoff.tuple.remote_port);
        assert_sockbuf_eq(&a->handoff.sockbuf, &b->handoff.sockbuf);
        assert_blob_eq(&a->handoff.state, &b->handoff.state);
        break;
    case HO_CMD_HANDOFF_REPLY:
        assert_int_equal(a->handoff_reply.conn_id, b->handoff_reply.conn_id);
        assert_int_equal(a->handoff_reply.req_seq, b->handoff_reply.req_seq);
        assert_int_equal(a->handoff_reply.status, b->handoff_reply.status);
        assert_int_equal(a->handoff_reply.soft_limit, b->handoff_reply.soft_limit);
        break;
    case HO_CMD_RESTORE_REQUEST:
        assert_int_equal(a->restore_request.conn_id, b->restore_request.conn_id);
        assert_int_equal(a->restore_request.reason, b->restore_request.reason);
        break;
    case HO_CMD_RESTORE:
        assert_int_equal(a->restore.conn_id, b->restore.conn_id);
        assert_int_equal(a->restore.reason, b->restore.reason);
        assert_sockbuf_eq(&a->restore.sockbuf, &b->restore.sockbuf);
        assert_blob_eq(&a->restore.state, &b->restore.state);
        break;
    case HO_CMD_SOFT_LIMIT:
        assert_int_equal(a->soft_limit.soft_limit, b->soft_limit.soft_limit);
        assert_int_equal(a->soft_limit.hard_limit, b->soft_limit.hard_limit);
        assert_int_equal(a->soft_limit.cnum, b->soft_limit.cnum);
        assert_int_equal(a->soft_limit.lc_state, b->soft_limit.lc_state);
        break;
    case HO_CMD_SEND:
        assert_data_eq(&a->send, &b->send);
        break;
    case HO_CMD_RECV:
        assert_data_eq(&a->recv, &b->recv);
        break;
    case HO_CMD_RCVD:
        assert_int_equal(a->rcvd.conn_id, b->rcvd.conn_id);
        assert_int_equal(a->rcvd.len, b->rcvd.len);
        break;
    case HO_CMD_CLOSE:
        assert_int_equal(a->close.conn_id, b->close.conn_id);
        assert_int_equal(a->close.how, b->close.how);
        break;
    case HO_CMD_CLOSED:
        assert_int_equal(a->closed.conn_id, b->closed.conn_id);
        assert_int_equal(a->closed.how, b->closed.how);
        break;
    case HO_CMD_ACKED:
        assert_int_equal(a->acked.count, b->acked.count);
        for (unsigned i = 0; i < a->acked.count; i++) {
            assert_int_equal(a->acked.entries[i].conn_id, b->acked.entries[i].conn_id);
            assert_int_equal(a->acked.entries[i].bytes, b->acked.entries[i].bytes);
        }
        break;
    case HO_CMD_FW_UP:
        assert_int_equal(a->fw_up.boot, b->fw_up.boot);
        assert_int_equal(a->fw_up.hard_limit, b->fw_up.hard_limit);
        assert_int_equal(a->fw_up.soft_limit, b->fw_up.soft_limit);
        break;
    case HO_CMD_INIT:
        assert_int_equal(a->init.boot, b->init.boot);
        break;
    default:
        fail_msg("unknown type %d", a->type);
    }
}

/* Encodes c into a heap buffer of exactly its size (so ASan sees any overread). */
static uint8_t *encode_exact(const struct ho_cmd *c, size_t *len)
{
    int n = ho_cmd_size(c);
    assert_true(n >= HO_CMD_HDR_SIZE);
    uint8_t *buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(ho_cmd_encode(c, buf, (size_t)n), n);
    *len = (size_t)n;
    return buf;
}

/* Decodes buf[0..len) from a heap copy of exactly len bytes. */
static int decode_copy(const uint8_t *buf, size_t len, struct ho_cmd *out)
{
    uint8_t *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len) {
        memcpy(copy, buf, len);
    }
    int rc = ho_cmd_decode(copy, len, out);
    free(copy); /* out's blob may point into copy: callers only look at rc */
    return rc;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void roundtrip(const struct ho_cmd *c)
{
    size_t len;
    uint8_t *buf = encode_exact(c, &len);
    struct ho_cmd d;
    assert_int_equal(ho_cmd_decode(buf, len, &d), HO_OK);
    assert_cmd_eq(c, &d);
    /* A blob is borrowed from the buffer, never copied. */
    if (c->type == HO_CMD_HANDOFF && c->handoff.state.len > 0) {
        assert_ptr_equal(d.handoff.state.data, buf + len - c->handoff.state.len);
    }
    if (c->type == HO_CMD_RESTORE && c->restore.state.len > 0) {
        assert_ptr_equal(d.restore.state.data, buf + len - c->restore.state.len);
    }
    uint8_t *again = malloc(len);
    assert_non_null(again);
    assert_int_equal(ho_cmd_encode(&d, again, len), (int)len);
    assert_memory_equal(buf, again, len);
    /* One byte short of room: refused, nothing written. */
    memset(again, 0x5A, len);
    assert_int_equal(ho_cmd_encode(c, again, len - 1), HO_EMSGSIZE);
    for (size_t i = 0; i < len; i++) {
        assert_int_equal(again[i], 0x5A);
    }
    free(again);
    free(buf);
}

static void test_roundtrip_every_type(void **state)
{
    (void)state;
    for (int t = 1; t <= NTYPES; t++) {
        struct ho_cmd c = sample(t);
        roundtrip(&c);
    }
}

static void test_roundtrip_edges(void **state)
{
    (void)state;
    struct ho_cmd c = sample(HO_CMD_HANDOFF);
    c.handoff.state = (struct ho_cmd_blob){0, NULL};
    roundtrip(&c);
    assert_int_equal(ho_cmd_size(&c), HO_CMD_HDR_SIZE + 32);

    uint8_t *big = malloc(HO_CMD_BLOB_MAX);
    assert_non_null(big);
    for (size_t i = 0; i < HO_CMD_BLOB_MAX; i++) {
        big[i] = (uint8_t)(i ^ (i >> 8));
    }
    c.handoff.state = (struct ho_cmd_blob){HO_CMD_BLOB_MAX, big};
    assert_int_equal(ho_cmd_size(&c), HO_CMD_MAX_SIZE);
    roundtrip(&c);
    c = sample(HO_CMD_RESTORE);
    c.restore.state = (struct ho_cmd_blob){HO_CMD_BLOB_MAX, big};
    roundtrip(&c);
    c.restore.state = (struct ho_cmd_blob){0, NULL};
    roundtrip(&c);
    free(big);

    c = sample(HO_CMD_ACKED);
    c.acked.count = HO_CMD_ACKED_MAX;
    for (unsigned i = 0; i < HO_CMD_ACKED_MAX; i++) {
        c.acked.entries[i] = (struct ho_cmd_ack_entry){1000 + i * 17, 1 + i * 1448};
    }
    assert_int_equal(ho_cmd_size(&c), HO_CMD_HDR_SIZE + 2 + 8 * HO_CMD_ACKED_MAX);
    roundtrip(&c);
    c.acked.count = 1;
    roundtrip(&c);

    c = sample(HO_CMD_RECV);
    c.recv.len = 0xFFFFFFFF;
    c.recv.flags = 0;
    roundtrip(&c);
    c = sample(HO_CMD_SOFT_LIMIT);
    c.soft_limit = (struct ho_cmd_soft_limit){0, 0, 0, HO_CMD_LC_MONITOR};
    roundtrip(&c);
    c.soft_limit = (struct ho_cmd_soft_limit){4096, 4096, 4096, HO_CMD_LC_DECREASE};
    roundtrip(&c);
    for (int s = 0; s < HO_CMD_STATUS_COUNT; s++) {
        c = sample(HO_CMD_HANDOFF_REPLY);
        c.handoff_reply.status = (uint8_t)s;
        roundtrip(&c);
    }
    for (int h = 0; h < HO_CMD_CLOSED_COUNT; h++) {
        c = sample(HO_CMD_CLOSED);
        c.closed.how = (uint8_t)h;
        c.seq = 0;
        roundtrip(&c);
    }
}

/* Checks that c encodes to exactly want, and that want decodes back to c. */
static void check_golden(const struct ho_cmd *c, const uint8_t *want, size_t want_len)
{
    uint8_t buf[128];
    assert_int_equal(ho_cmd_encode(c, buf, sizeof buf), (int)want_len);
    assert_memory_equal(buf, want, want_len);
    struct ho_cmd d;
    assert_int_equal(ho_cmd_decode(want, want_len, &d), HO_OK);
    assert_cmd_eq(c, &d);
}

static void test_golden_vectors(void **state)
{
    (void)state;
    struct ho_cmd c;

    memset(&c, 0, sizeof c);
    c.type = HO_CMD_SOFT_LIMIT;
    c.seq = 0x01020304;
    c.soft_limit = (struct ho_cmd_soft_limit){1000, 4096, 999, HO_CMD_LC_DECREASE};
    static const uint8_t soft_limit[] = {
        0x01, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x19, 0x01, 0x02, 0x03, 0x04, /* header */
        0x00, 0x00, 0x03, 0xE8, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x03, 0xE7, 0x01,
    };
    check_golden(&c, soft_limit, sizeof soft_limit);

    memset(&c, 0, sizeof c);
    c.type = HO_CMD_SEND;
    c.seq = 7;
    c.send = (struct ho_cmd_data){0xA1B2C3D4, 1448, 0x00007F0012345678ull, HO_CMD_SEND_PUSH};
    static const uint8_t send[] = {
        0x01, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1D, 0x00, 0x00, 0x00, 0x07, /* header */
        0xA1, 0xB2, 0xC3, 0xD4, 0x00, 0x00, 0x05, 0xA8,                         /* conn_id, len */
        0x00, 0x00, 0x7F, 0x00, 0x12, 0x34, 0x56, 0x78, 0x01,                   /* addr, flags */
    };
    check_golden(&c, send, sizeof send);

    memset(&c, 0, sizeof c);
    c.type = HO_CMD_ACKED;
    c.seq = 0xFFFFFFFF;
    c.acked.count = 2;
    c.acked.entries[0] = (struct ho_cmd_ack_entry){5, 1448};
    c.acked.entries[1] = (struct ho_cmd_ack_entry){0x100, 65536};
    static const uint8_t acked[] = {
        0x01, 0x0B, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1E, 0xFF, 0xFF, 0xFF, 0xFF, /* header */
        0x00, 0x02,                                                             /* count */
        0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x05, 0xA8, 0x00, 0x00, 0x01, 0x00,
        0x00, 0x01, 0x00, 0x00,
    };
    check_golden(&c, acked, sizeof acked);

    static const uint8_t state_bytes[] = {0xDE, 0xAD, 0xBE, 0xEF};
    memset(&c, 0, sizeof c);
    c.type = HO_CMD_HANDOFF;
    c.seq = 1;
    c.handoff.conn_id = 42;
    c.handoff.tuple = (struct tcpe_tuple){0x0A000001, 0xC0A80102, 80, 50000};
    c.handoff.sockbuf = (struct ho_cmd_sockbuf){100, 200, 65535};
    c.handoff.state = (struct ho_cmd_blob){sizeof state_bytes, state_bytes};
    static const uint8_t handoff[] = {
        0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x01, /* header */
        0x00, 0x00, 0x00, 0x2A,                                                 /* conn_id */
        0x0A, 0x00, 0x00, 0x01, 0xC0, 0xA8, 0x01, 0x02, 0x00, 0x50, 0xC3, 0x50, /* tuple */
        0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00, 0xC8, 0x00, 0x00, 0xFF, 0xFF, /* sockbuf */
        0x00, 0x00, 0x00, 0x04, 0xDE, 0xAD, 0xBE, 0xEF,                         /* state */
    };
    check_golden(&c, handoff, sizeof handoff);
}

static void test_every_truncation_fails(void **state)
{
    (void)state;
    for (int t = 1; t <= NTYPES; t++) {
        struct ho_cmd c = sample(t), d;
        size_t len;
        uint8_t *buf = encode_exact(&c, &len);
        for (size_t n = 0; n < len; n++) {
            /* Cut short: the header's length no longer matches. */
            assert_int_equal(decode_copy(buf, n, &d), HO_EMSGSIZE);
            if (n < HO_CMD_HDR_SIZE) {
                continue;
            }
            /* Cut short with the length field made to agree: the body is now wrong. */
            uint8_t *cut = malloc(n);
            assert_non_null(cut);
            memcpy(cut, buf, n);
            put_u32(cut + 4, (uint32_t)n);
            int rc = ho_cmd_decode(cut, n, &d);
            if (t == HO_CMD_HANDOFF || t == HO_CMD_RESTORE || t == HO_CMD_ACKED) {
                assert_true(rc == HO_EMSGSIZE || rc == HO_EPROTO);
            } else {
                assert_int_equal(rc, HO_EMSGSIZE);
            }
            free(cut);
        }
        free(buf);
    }
}

static void test_bad_version(void **state)
{
    (void)state;
    static const uint8_t versions[] = {0, 2, 0x81, 0xFF};
    for (int t = 1; t <= NTYPES; t++) {
        struct ho_cmd c = sample(t), d;
        size_t len;
        uint8_t *buf = encode_exact(&c, &len);
        for (size_t v = 0; v < sizeof versions; v++) {
            buf[0] = versions[v];
            assert_int_equal(decode_copy(buf, len, &d), HO_EVERSION);
            /* The version is judged before the size: even a lone byte says it. */
            assert_int_equal(decode_copy(buf, 1, &d), HO_EVERSION);
        }
        free(buf);
    }
}

static void test_unknown_type_and_header_flags(void **state)
{
    (void)state;
    static const uint8_t types[] = {0, NTYPES + 1, 0x80, 0xFF};
    for (int t = 1; t <= NTYPES; t++) {
        struct ho_cmd c = sample(t), d;
        size_t len;
        uint8_t *buf = encode_exact(&c, &len);
        for (size_t i = 0; i < sizeof types; i++) {
            buf[1] = types[i];
            assert_int_equal(decode_copy(buf, len, &d), HO_EPROTO);
        }
        buf[1] = (uint8_t)t;
        for (int bit = 0; bit < 16; bit++) {
            buf[2] = (uint8_t)((1u << bit) >> 8);
            buf[3] = (uint8_t)(1u << bit);
            assert_int_equal(decode_copy(buf, len, &d), HO_EPROTO);
        }
        buf[2] = buf[3] = 0;
        assert_int_equal(decode_copy(buf, len, &d), HO_OK);
        free(buf);
    }
    struct ho_cmd c = sample(HO_CMD_SEND);
    c.type = 0;
    assert_int_equal(ho_cmd_size(&c), HO_EINVAL);
    c.type = NTYPES + 1;
    uint8_t buf[64];
    assert_int_equal(ho_cmd_encode(&c, buf, sizeof buf), HO_EINVAL);
}

static void test_trailing_bytes(void **state)
{
    (void)state;
    for (int t = 1; t <= NTYPES; t++) {
        struct ho_cmd c = sample(t), d;
        size_t len;
        uint8_t *buf = encode_exact(&c, &len);
        uint8_t *longer = calloc(1, len + 3);
        assert_non_null(longer);
        memcpy(longer, buf, len);
        for (size_t extra = 1; extra <= 3; extra++) {
            /* Bytes beyond the declared length. */
            put_u32(longer + 4, (uint32_t)len);
            assert_int_equal(decode_copy(longer, len + extra, &d), HO_EMSGSIZE);
            /* Declared too: the body is longer than its type allows. */
            put_u32(longer + 4, (uint32_t)(len + extra));
            int rc = decode_copy(longer, len + extra, &d);
            if (t == HO_CMD_HANDOFF || t == HO_CMD_RESTORE || t == HO_CMD_ACKED) {
                assert_int_equal(rc, HO_EPROTO); /* the blob or list length disagrees */
            } else {
                assert_int_equal(rc, HO_EMSGSIZE);
            }
        }
        /* A declared length longer than the buffer. */
        put_u32(buf + 4, (uint32_t)len + 1);
        assert_int_equal(decode_copy(buf, len, &d), HO_EMSGSIZE);
        put_u32(buf + 4, 0xFFFFFFFF);
        assert_int_equal(decode_copy(buf, len, &d), HO_EMSGSIZE);
        free(longer);
        free(buf);
    }
}

/* Encodes sample(type), overwrites one byte of the body, and decodes. */
static int decode_with_byte(int type, size_t body_off, uint8_t v)
{
    struct ho_cmd c = sample(type), d;
    size_t len;
    uint8_t *buf = encode_exact(&c, &len);
    assert_true(HO_CMD_HDR_SIZE + body_off < len);
    buf[HO_CMD_HDR_SIZE + body_off] = v;
    int rc = ho_cmd_decode(buf, len, &d);
    free(buf);
    return rc;
}

/* Encodes sample(type), overwrites one 32-bit field of the body, and decodes. */
static int decode_with_u32(int type, size_t body_off, uint32_t v)
{
    struct ho_cmd c = sample(type), d;
    size_t len;
    uint8_t *buf = encode_exact(&c, &len);
    assert_true(HO_CMD_HDR_SIZE + body_off + 4 <= len);
    put_u32(buf + HO_CMD_HDR_SIZE + body_off, v);
    int rc = ho_cmd_decode(buf, len, &d);
    free(buf);
    return rc;
}

static void test_fields_out_of_range(void **state)
{
    (void)state;
    /* Enums one past their last value, and the top value. */
    assert_int_equal(decode_with_byte(HO_CMD_HANDOFF_REPLY, 8, HO_CMD_STATUS_COUNT), HO_EPROTO);
    assert_int_equal(decode_with_byte(HO_CMD_HANDOFF_REPLY, 8, 0xFF), HO_EPROTO);
    assert_int_equal(decode_with_byte(HO_CMD_HANDOFF_REPLY, 8, HO_CMD_STATUS_COUNT - 1), HO_OK);
    assert_int_equal(decode_with_byte(HO_CMD_RESTORE_REQUEST, 4, HO_CMD_RREQ_COUNT), HO_EPROTO);
    assert_int_equal(decode_with_byte(HO_CMD_RESTORE_REQUEST, 4, 0xFF), HO_EPROTO);
    assert_int_equal(decode_with_byte(HO_CMD_RESTORE, 4, HO_CMD_RESTORE_COUNT), HO_EPROTO);
    assert_int_equal(decode_with_byte(HO_CMD_SOFT_LIMIT, 12, HO_CMD_LC_COUNT), HO_EPROTO);
    assert_int_equal(decode_with_byte(HO_CMD_CLOSE, 4, HO_CMD_CLOSE_COUNT), HO_EPROTO);
    assert_int_equal(decode_with_byte(HO_CMD_CLOSED, 4, HO_CMD_CLOSED_COUNT), HO_EPROTO);
    assert_int_equal(decode_with_byte(HO_CMD_CLOSED, 4, HO_CMD_CLOSED_COUNT - 1), HO_OK);
    /* Reserved flag bits of SEND and RECV. */
    for (int bit = 1; bit < 8; bit++) {
        assert_int_equal(decode_with_byte(HO_CMD_SEND, 16, (uint8_t)(1u << bit)), HO_EPROTO);
        assert_int_equal(decode_with_byte(HO_CMD_RECV, 16, (uint8_t)(1u << bit | 1)), HO_EPROTO);
    }
    /* Lengths that must not be zero. */
    assert_int_equal(decode_with_u32(HO_CMD_SEND, 4, 0), HO_EPROTO);
    assert_int_equal(decode_with_byte(HO_CMD_RECV, 16, 0), HO_EPROTO); /* len 0 without FIN */
    assert_int_equal(decode_with_u32(HO_CMD_RCVD, 4, 0), HO_EPROTO);
    /* Soft limit above Hard limit; Cnum above Hard limit. */
    assert_int_equal(decode_with_u32(HO_CMD_SOFT_LIMIT, 0, 4097), HO_EPROTO);
    assert_int_equal(decode_with_u32(HO_CMD_SOFT_LIMIT, 0, 4096), HO_OK);
    assert_int_equal(decode_with_u32(HO_CMD_SOFT_LIMIT, 8, 4097), HO_EPROTO);
    /* ACKED: an entry of zero bytes; a connection twice. */
    assert_int_equal(decode_with_u32(HO_CMD_ACKED, 2 + 8 + 4, 0), HO_EPROTO);
    assert_int_equal(decode_with_u32(HO_CMD_ACKED, 2 + 8, 10), HO_EPROTO);
    assert_int_equal(decode_with_u32(HO_CMD_ACKED, 2 + 16, 10), HO_EPROTO);
    assert_int_equal(decode_with_u32(HO_CMD_ACKED, 2 + 16, 11), HO_OK);
    /* FW_UP and INIT: boot 0 (boots count from 1); FW_UP's Soft limit above its Hard limit. */
    assert_int_equal(decode_with_u32(HO_CMD_FW_UP, 0, 0), HO_EPROTO);
    assert_int_equal(decode_with_u32(HO_CMD_FW_UP, 8, 4097), HO_EPROTO);
    assert_int_equal(decode_with_u32(HO_CMD_FW_UP, 8, 4096), HO_OK);
    assert_int_equal(decode_with_u32(HO_CMD_INIT, 0, 0), HO_EPROTO);
    assert_int_equal(decode_with_u32(HO_CMD_INIT, 0, 1), HO_OK);

    /* The encoder refuses the same values. */
    struct ho_cmd c = sample(HO_CMD_HANDOFF_REPLY);
    c.handoff_reply.status = HO_CMD_STATUS_COUNT;
    assert_int_equal(ho_cmd_size(&c), HO_EINVAL);
    c = sample(HO_CMD_SEND);
    c.send.flags = 0x02;
    assert_int_equal(ho_cmd_size(&c), HO_EINVAL);
    c = sample(HO_CMD_SOFT_LIMIT);
    c.soft_limit.cnum = c.soft_limit.hard_limit + 1;
    assert_int_equal(ho_cmd_size(&c), HO_EINVAL);
    c = sample(HO_CMD_ACKED);
    c.acked.entries[2].conn_id = c.acked.entries[0].conn_id;
    assert_int_equal(ho_cmd_size(&c), HO_EINVAL);
    c.acked.count = 0;
    assert_int_equal(ho_cmd_size(&c), HO_EINVAL);
    c.acked.count = HO_CMD_ACKED_MAX + 1;
    assert_int_equal(ho_cmd_size(&c), HO_EINVAL);
    c = sample(HO_CMD_CLOSED);
    c.closed.how = 0xFF;
    assert_int_equal(ho_cmd_size(&c), HO_EINVAL);
    c = sample(HO_CMD_FW_UP);
    c.fw_up.boot = 0;
    assert_int_equal(ho_cmd_size(&c), HO_EINVAL);
    c = sample(HO_CMD_INIT);
    c.init.boot = 0;
    assert_int_equal(ho_cmd_size(&c), HO_EINVAL);
}

static void test_blob_lengths(void **state)
{
    (void)state;
    /* Offset of the blob length in the body, for HANDOFF and RESTORE. */
    const struct {
        int type;
        size_t off;
        uint32_t len;
    } cases[] = {{HO_CMD_HANDOFF, 28, sizeof blob_a}, {HO_CMD_RESTORE, 17, sizeof blob_b}};
    for (size_t i = 0; i < 2; i++) {
        int t = cases[i].type;
        size_t off = cases[i].off;
        uint32_t n = cases[i].len;
        assert_int_equal(decode_with_u32(t, off, n), HO_OK);
        assert_int_equal(decode_with_u32(t, off, n + 1), HO_EPROTO); /* larger than the rest */
        assert_int_equal(decode_with_u32(t, off, n - 1), HO_EPROTO); /* bytes after it */
        assert_int_equal(decode_with_u32(t, off, 0), HO_EPROTO);
        assert_int_equal(decode_with_u32(t, off, 0xFFFFFFFF), HO_EPROTO);
        assert_int_equal(decode_with_u32(t, off, HO_CMD_BLOB_MAX + 1), HO_EPROTO);
    }

    /* A blob one byte over the cap, with every length consistent. */
    size_t len = HO_CMD_MAX_SIZE + 1;
    uint8_t *buf = calloc(1, len);
    assert_non_null(buf);
    struct ho_cmd c = sample(HO_CMD_HANDOFF), d;
    c.handoff.state.len = 0;
    c.handoff.state.data = NULL;
    assert_int_equal(ho_cmd_encode(&c, buf, len), HO_CMD_HDR_SIZE + 32);
    put_u32(buf + 4, (uint32_t)len);
    put_u32(buf + HO_CMD_HDR_SIZE + 28, HO_CMD_BLOB_MAX + 1);
    assert_int_equal(ho_cmd_decode(buf, len, &d), HO_EPROTO);
    /* At the cap it is fine. */
    put_u32(buf + 4, (uint32_t)len - 1);
    put_u32(buf + HO_CMD_HDR_SIZE + 28, HO_CMD_BLOB_MAX);
    assert_int_equal(ho_cmd_decode(buf, len - 1, &d), HO_OK);
    assert_int_equal(d.handoff.state.len, HO_CMD_BLOB_MAX);
    free(buf);

    /* The encoder: over the cap, or data missing. */
    c.handoff.state.len = HO_CMD_BLOB_MAX + 1;
    c.handoff.state.data = blob_a;
    assert_int_equal(ho_cmd_size(&c), HO_EINVAL);
    c.handoff.state.len = 1;
    c.handoff.state.data = NULL;
    assert_int_equal(ho_cmd_size(&c), HO_EINVAL);
}

static void test_acked_count(void **state)
{
    (void)state;
    struct ho_cmd c = sample(HO_CMD_ACKED), d;
    size_t len;
    uint8_t *buf = encode_exact(&c, &len);
    static const uint16_t bad[] = {0, 2, 4, 100, HO_CMD_ACKED_MAX + 1, 0xFFFF};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        buf[HO_CMD_HDR_SIZE] = (uint8_t)(bad[i] >> 8);
        buf[HO_CMD_HDR_SIZE + 1] = (uint8_t)bad[i];
        assert_int_equal(decode_copy(buf, len, &d), HO_EPROTO);
    }
    free(buf);

    /* A count over the cap whose entries are all present. */
    size_t n = HO_CMD_ACKED_MAX + 1;
    len = HO_CMD_HDR_SIZE + 2 + 8 * n;
    buf = calloc(1, len);
    assert_non_null(buf);
    c.acked.count = 1;
    assert_int_equal(ho_cmd_encode(&c, buf, len), HO_CMD_HDR_SIZE + 2 + 8);
    put_u32(buf + 4, (uint32_t)len);
    buf[HO_CMD_HDR_SIZE] = 0;
    buf[HO_CMD_HDR_SIZE + 1] = (uint8_t)n;
    for (size_t i = 0; i < n; i++) {
        put_u32(buf + HO_CMD_HDR_SIZE + 2 + 8 * i, (uint32_t)i);
        put_u32(buf + HO_CMD_HDR_SIZE + 2 + 8 * i + 4, 1);
    }
    assert_int_equal(ho_cmd_decode(buf, len, &d), HO_EPROTO);
    /* The same with one entry fewer is a valid message. */
    buf[HO_CMD_HDR_SIZE + 1] = (uint8_t)(n - 1);
    put_u32(buf + 4, (uint32_t)(len - 8));
    assert_int_equal(ho_cmd_decode(buf, len - 8, &d), HO_OK);
    assert_int_equal(d.acked.count, HO_CMD_ACKED_MAX);
    assert_int_equal(d.acked.entries[HO_CMD_ACKED_MAX - 1].conn_id, HO_CMD_ACKED_MAX - 1);
    free(buf);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    struct ho_cmd c = sample(HO_CMD_RCVD), d;
    uint8_t buf[64];
    assert_int_equal(ho_cmd_size(NULL), HO_EINVAL);
    assert_int_equal(ho_cmd_encode(NULL, buf, sizeof buf), HO_EINVAL);
    assert_int_equal(ho_cmd_encode(&c, NULL, 64), HO_EINVAL);
    int n = ho_cmd_encode(&c, buf, sizeof buf);
    assert_int_equal(n, HO_CMD_HDR_SIZE + 8);
    assert_int_equal(ho_cmd_decode(buf, (size_t)n, NULL), HO_EINVAL);
    assert_int_equal(ho_cmd_decode(NULL, 5, &d), HO_EINVAL);
    assert_int_equal(ho_cmd_decode(NULL, 0, &d), HO_EMSGSIZE);
}

static void test_names_and_directions(void **state)
{
    (void)state;
    static const char *const names[] = {
        "HANDOFF", "HANDOFF_REPLY", "RESTORE_REQUEST", "RESTORE", "SOFT_LIMIT", "SEND",
        "RECV",    "RCVD",          "CLOSE",           "CLOSED",  "ACKED",      "FW_UP", "INIT"};
    static const int dirs[] = {HO_CMD_TO_NIC,  HO_CMD_TO_HOST, HO_CMD_TO_NIC,  HO_CMD_TO_HOST,
                               HO_CMD_TO_HOST, HO_CMD_TO_NIC,  HO_CMD_TO_HOST, HO_CMD_TO_NIC,
                               HO_CMD_TO_NIC,  HO_CMD_TO_HOST, HO_CMD_TO_HOST, HO_CMD_TO_HOST,
                               HO_CMD_TO_NIC};
    for (int t = 1; t <= NTYPES; t++) {
        assert_string_equal(ho_cmd_type_name(t), names[t - 1]);
        assert_int_equal(ho_cmd_type_dir(t), dirs[t - 1]);
    }
    /* The body sizes of docs/command-protocol.md, with the samples' blobs and entries. */
    static const int body[] = {32 + 37, 13, 5, 21 + 100, 13, 17, 17, 8, 5, 5, 2 + 3 * 8, 12, 4};
    for (int t = 1; t <= NTYPES; t++) {
        struct ho_cmd c = sample(t);
        assert_int_equal(ho_cmd_size(&c), HO_CMD_HDR_SIZE + body[t - 1]);
    }
    assert_string_equal(ho_cmd_type_name(0), "UNKNOWN");
    assert_string_equal(ho_cmd_type_name(NTYPES + 1), "UNKNOWN");
    assert_string_equal(ho_cmd_type_name(-1), "UNKNOWN");
    assert_int_equal(ho_cmd_type_dir(0), HO_EINVAL);
    assert_string_equal(ho_cmd_status_name(HO_CMD_ACCEPTED), "accepted");
    assert_string_equal(ho_cmd_status_name(HO_CMD_REFUSED_HARD_LIMIT), "hard-limit");
    assert_string_equal(ho_cmd_status_name(HO_CMD_STATUS_COUNT), "?");
    assert_string_equal(ho_cmd_restore_reason_name(HO_CMD_RESTORE_OVERLOAD), "overload");
    assert_string_equal(ho_cmd_restore_reason_name(-1), "?");
}

static void test_format(void **state)
{
    (void)state;
    char line[256];
    struct ho_cmd c = sample(HO_CMD_HANDOFF);
    const char *want = "HANDOFF seq=2147483649 conn=287454020 10.0.0.1:8080-192.168.1.2:51234 "
                       "snd_unacked=1000 snd_unsent=2000 rcv_space=3000 state=37B";
    int n = ho_cmd_format(&c, line, sizeof line);
    assert_string_equal(line, want);
    assert_int_equal(n, (int)strlen(want));
    /* Truncated: still terminated, and the return value is the full length. */
    char small[8];
    assert_int_equal(ho_cmd_format(&c, small, sizeof small), n);
    assert_string_equal(small, "HANDOFF");
    assert_int_equal(ho_cmd_format(&c, NULL, 0), n);

    c = sample(HO_CMD_ACKED);
    ho_cmd_format(&c, line, sizeof line);
    assert_string_equal(line, "ACKED seq=2147483659 count=3 10:1448 4294967295:1 0:4294967295");
    c = sample(HO_CMD_SOFT_LIMIT);
    ho_cmd_format(&c, line, sizeof line);
    assert_string_equal(line, "SOFT_LIMIT seq=2147483653 soft=900 hard=4096 cnum=901 "
                              "state=INCREASE");
    c = sample(HO_CMD_RECV);
    ho_cmd_format(&c, line, sizeof line);
    assert_string_equal(line, "RECV seq=2147483655 conn=4 len=0 addr=0xfedcba9876543210 fin");
    c = sample(HO_CMD_FW_UP);
    ho_cmd_format(&c, line, sizeof line);
    assert_string_equal(line, "FW_UP seq=2147483660 boot=2 hard=4096 soft=4096");
    assert_int_equal(ho_cmd_format(NULL, line, sizeof line), HO_EINVAL);
}

static void test_seq_gap(void **state)
{
    (void)state;
    assert_int_equal(ho_cmd_seq_gap(5, 5), 0);
    assert_int_equal(ho_cmd_seq_gap(5, 8), 3);
    assert_int_equal(ho_cmd_seq_gap(0xFFFFFFFF, 0xFFFFFFFF), 0);
    assert_int_equal(ho_cmd_seq_gap(0xFFFFFFFF, 1), 2); /* across the wrap */
    assert_int_equal(ho_cmd_seq_gap(5, 4), HO_EPROTO);  /* a duplicate or a reordering */
    assert_int_equal(ho_cmd_seq_gap(1, 0xFFFFFFFF), HO_EPROTO);
    assert_int_equal(ho_cmd_seq_gap(0, 0x7FFFFFFF), 0x7FFFFFFF);
    assert_int_equal(ho_cmd_seq_gap(0, 0x80000000), HO_EPROTO);
}

/* Decodes buf[0..len) from an exact-size heap copy; on success it must re-encode to the same
 * bytes. Counts the outcome. */
static void fuzz_one(const uint8_t *buf, size_t len, unsigned long counts[4])
{
    uint8_t *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len) {
        memcpy(copy, buf, len);
    }
    struct ho_cmd d;
    int rc = ho_cmd_decode(copy, len, &d);
    switch (rc) {
    case HO_OK: {
        assert_int_equal(ho_cmd_size(&d), (int)len);
        uint8_t *again = malloc(len);
        assert_non_null(again);
        assert_int_equal(ho_cmd_encode(&d, again, len), (int)len);
        assert_memory_equal(again, copy, len);
        free(again);
        counts[0]++;
        break;
    }
    case HO_EVERSION:
        counts[1]++;
        break;
    case HO_EMSGSIZE:
        counts[2]++;
        break;
    case HO_EPROTO:
        counts[3]++;
        break;
    default:
        fail_msg("decode returned %d", rc);
    }
    free(copy);
}

static void test_fuzz_random_and_mutated(void **state)
{
    (void)state;
    struct ho_rng rng;
    ho_rng_seed_named(&rng, 20240601, "cmd-fuzz");
    enum { ROUNDS = 300000, CAP = 512 };
    uint8_t valid[NTYPES + 1][CAP];
    size_t valid_len[NTYPES + 1];
    for (int t = 1; t <= NTYPES; t++) {
        struct ho_cmd c = sample(t);
        int n = ho_cmd_encode(&c, valid[t], CAP);
        assert_true(n > 0);
        valid_len[t] = (size_t)n;
    }
    unsigned long counts[4] = {0};
    uint8_t buf[CAP + 8];
    for (unsigned long i = 0; i < ROUNDS; i++) {
        size_t len;
        unsigned kind = (unsigned)ho_rng_below(&rng, 8);
        if (kind == 0) {
            /* Random bytes. */
            len = (size_t)ho_rng_below(&rng, 64);
            for (size_t k = 0; k < len; k++) {
                buf[k] = (uint8_t)ho_rng_next(&rng);
            }
        } else if (kind == 1) {
            /* Random body behind a plausible header. */
            len = HO_CMD_HDR_SIZE + (size_t)ho_rng_below(&rng, 48);
            for (size_t k = 0; k < len; k++) {
                buf[k] = (uint8_t)ho_rng_next(&rng);
            }
            buf[0] = HO_CMD_VERSION;
            buf[1] = (uint8_t)ho_rng_below(&rng, NTYPES + 2);
            buf[2] = buf[3] = 0;
            put_u32(buf + 4, (uint32_t)len);
        } else {
            /* A valid message with a few bits flipped, sometimes cut or extended. */
            int t = 1 + (int)ho_rng_below(&rng, NTYPES);
            len = valid_len[t];
            memcpy(buf, valid[t], len);
            unsigned flips = 1 + (unsigned)ho_rng_below(&rng, kind == 2 ? 8 : 3);
            for (unsigned f = 0; f < flips; f++) {
                size_t bit = (size_t)ho_rng_below(&rng, len * 8);
                buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            }
            if (kind == 3) {
                size_t cut = (size_t)ho_rng_below(&rng, len);
                len = cut;
                if (len >= 8 && ho_rng_below(&rng, 2)) {
                    put_u32(buf + 4, (uint32_t)len);
                }
            } else if (kind == 4) {
                size_t extra = 1 + (size_t)ho_rng_below(&rng, 8);
                for (size_t k = 0; k < extra; k++) {
                    buf[len + k] = (uint8_t)ho_rng_next(&rng);
                }
                len += extra;
                if (ho_rng_below(&rng, 2)) {
                    put_u32(buf + 4, (uint32_t)len);
                }
            }
        }
        fuzz_one(buf, len, counts);
    }
    print_message("fuzz: %lu decoded and re-encoded, %lu bad version, %lu bad size, %lu bad "
                  "field\n",
                  counts[0], counts[1], counts[2], counts[3]);
    /* Every outcome was reached often: the mutations exercised the whole decoder. */
    for (int k = 0; k < 4; k++) {
        assert_true(counts[k] > ROUNDS / 100);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_every_type),
        cmocka_unit_test(test_roundtrip_edges),
        cmocka_unit_test(test_golden_vectors),
        cmocka_unit_test(test_every_truncation_fails),
        cmocka_unit_test(test_bad_version),
        cmocka_unit_test(test_unknown_type_and_header_flags),
        cmocka_unit_test(test_trailing_bytes),
        cmocka_unit_test(test_fields_out_of_range),
        cmocka_unit_test(test_blob_lengths),
        cmocka_unit_test(test_acked_count),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_names_and_directions),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_seq_gap),
        cmocka_unit_test(test_fuzz_random_and_mutated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
