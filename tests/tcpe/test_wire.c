/*
 * test_wire.c - the packet codec on well-formed input: checksums against a naive reference,
 * golden frames laid out by hand as Linux sends them, build -> parse round trips of random
 * segments, header-only building for virtual payload, checksum offload, and ARP.
 * Malformed input is tested in test_wire_malformed.c, random damage in test_wire_robust.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "handoff/err.h"
#include "handoff/rng.h"
#include "handoff/tcpe_wire.h"
#include "test_wire_ref.h"

static const uint8_t mac_a[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t mac_b[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
#define IP_A 0x0a000001u /* 10.0.0.1 */
#define IP_B 0x0a000002u /* 10.0.0.2 */

/*
 * A SYN as Linux sends it (10.0.0.1:54321 -> 10.0.0.2:80, window 64240, mss 1460, sackOK,
 * TS val 2000000 ecr 0, nop, wscale 7), IPv4 id 0x4d2b, DF, TTL 64. The checksums (0xd98e for
 * IPv4, 0x19a2 for TCP) were worked out separately from the bytes and are checked again below
 * by the reference code.
 */
static const uint8_t golden_syn[74] = {
    /* Ethernet: dst, src, type */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
    /* IPv4: ver/ihl, tos, total 60, id, DF, ttl 64, proto 6, csum, src, dst */
    0x45, 0x00, 0x00, 0x3c, 0x4d, 0x2b, 0x40, 0x00, 0x40, 0x06, 0xd9, 0x8e, 0x0a, 0x00, 0x00, 0x01,
    0x0a, 0x00, 0x00, 0x02,
    /* TCP: ports, seq, ack, doff 10, SYN, window, csum, urp */
    0xd4, 0x31, 0x00, 0x50, 0x5c, 0x1f, 0x6a, 0x2b, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0,
    0x19, 0xa2, 0x00, 0x00,
    /* options: MSS 1460; SACK-permitted; TS 2000000 0; NOP; WS 7 */
    0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x1e, 0x84, 0x80, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x03, 0x03, 0x07};

/* A request with an odd-length payload: ACK|PSH, NOP NOP TS, "GET /x HTTP/1.0\r\n\r\n". */
static const uint8_t golden_data[85] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
    /* IPv4: total 71, id 0x4d2c, csum 0xd982 */
    0x45, 0x00, 0x00, 0x47, 0x4d, 0x2c, 0x40, 0x00, 0x40, 0x06, 0xd9, 0x82, 0x0a, 0x00, 0x00, 0x01,
    0x0a, 0x00, 0x00, 0x02,
    /* TCP: seq 0x5c1f6a2c, ack 0x9a0b1c2d, doff 8, ACK|PSH, window 502, csum 0xbce2 */
    0xd4, 0x31, 0x00, 0x50, 0x5c, 0x1f, 0x6a, 0x2c, 0x9a, 0x0b, 0x1c, 0x2d, 0x80, 0x18, 0x01, 0xf6,
    0xbc, 0xe2, 0x00, 0x00,
    /* NOP NOP TS 2000123 3000456 */
    0x01, 0x01, 0x08, 0x0a, 0x00, 0x1e, 0x84, 0xfb, 0x00, 0x2d, 0xc8, 0x88,
    /* payload, 19 bytes */
    'G', 'E', 'T', ' ', '/', 'x', ' ', 'H', 'T', 'T', 'P', '/', '1', '.', '0', '\r', '\n', '\r',
    '\n'};

static void test_csum_rfc1071_example(void **state)
{
    (void)state;
    /* RFC 1071 section 3: these bytes sum to 0xddf2, whatever the byte order of the host. */
    const uint8_t b[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    assert_int_equal(tcpe_wire_csum_add(0, b, 8), 0xddf2);
    assert_int_equal(tcpe_wire_csum(b, 8), 0x220d);
    /* An odd final byte is the high half of a word padded with zero. */
    assert_int_equal(tcpe_wire_csum_add(0, b, 7), ref_sum(0, b, 7));
    assert_int_equal(tcpe_wire_csum_add(0, b, 1), 0x0000);
    assert_int_equal(tcpe_wire_csum_add(0, b + 2, 1), 0xf200);
    assert_int_equal(tcpe_wire_csum_add(0x1234, b, 0), 0x1234);
    /* Negative zero stays negative zero. */
    const uint8_t ones[4] = {0xff, 0xff, 0xff, 0xff};
    assert_int_equal(tcpe_wire_csum_add(0, ones, 4), 0xffff);
}

static void test_csum_matches_reference(void **state)
{
    (void)state;
    enum { MAXLEN = 3000, ROUNDS = 20000 };
    uint8_t *pool = malloc(MAXLEN + 64);
    assert_non_null(pool);
    struct ho_rng rng;
    ho_rng_seed_named(&rng, 1, "csum");
    for (int i = 0; i < ROUNDS; i++) {
        size_t off = (size_t)ho_rng_below(&rng, 64);
        /* Mostly short buffers, where the tail code matters, some long ones. */
        size_t len = (size_t)(i % 4 ? ho_rng_below(&rng, 80) : ho_rng_below(&rng, MAXLEN + 1));
        int style = (int)ho_rng_below(&rng, 3);
        for (size_t k = 0; k < len; k++) {
            uint8_t v = (uint8_t)ho_rng_next(&rng);
            pool[off + k] = style == 0 ? v : style == 1 ? 0xff : (uint8_t)(v | 0xf0);
        }
        uint16_t start = (uint16_t)ho_rng_next(&rng);
        uint8_t *copy = ref_dup(pool + off, len); /* exact size: no read past the end */
        uint16_t got = tcpe_wire_csum_add(start, copy, len);
        uint16_t want = ref_sum(start, pool + off, len);
        if (got != want) {
            fail_msg("len %zu off %zu start %04x: got %04x want %04x", len, off, start, got, want);
        }
        /* Split at an even point: the running sum continues. */
        size_t cut = (size_t)ho_rng_below(&rng, len / 2 + 1) * 2;
        uint16_t chained =
            tcpe_wire_csum_add(tcpe_wire_csum_add(start, copy, cut), copy + cut, len - cut);
        assert_int_equal(chained, want);
        free(copy);
    }
    free(pool);
}

static void test_csum_pseudo_and_incremental(void **state)
{
    (void)state;
    const uint8_t pseudo[12] = {192, 168, 1, 7, 10, 0, 0, 99, 0, 6, 0x05, 0xdc};
    assert_int_equal(tcpe_wire_csum_pseudo(0xc0a80107u, 0x0a000063u, 6, 1500),
                     ref_sum(0, pseudo, 12));

    /* RFC 1624 section 4: HC 0xdd2f, m 0x5555 -> m' 0x3285 gives HC' 0x0000 by eqn. 3. */
    assert_int_equal(tcpe_wire_csum_update16(0xdd2f, 0x5555, 0x3285), 0x0000);

    struct ho_rng rng;
    ho_rng_seed_named(&rng, 2, "incremental");
    for (int i = 0; i < 5000; i++) {
        uint8_t buf[40];
        for (size_t k = 0; k < sizeof buf; k++) {
            buf[k] = (uint8_t)ho_rng_next(&rng);
        }
        uint16_t csum = tcpe_wire_csum(buf, sizeof buf);
        size_t at = (size_t)ho_rng_below(&rng, 10) * 4;
        uint32_t old = ((uint32_t)ref_get16(buf + at) << 16) | ref_get16(buf + at + 2);
        uint32_t neu = (uint32_t)ho_rng_next(&rng);
        ref_put16(buf + at, (uint16_t)(neu >> 16));
        ref_put16(buf + at + 2, (uint16_t)neu);
        uint16_t upd = tcpe_wire_csum_update32(csum, old, neu);
        uint16_t full = tcpe_wire_csum(buf, sizeof buf);
        /* Equal, except that eqn. 3 may give the other zero where the recomputation gives one. */
        if (upd != full) {
            assert_true((upd == 0 && full == 0xffff) || (upd == 0xffff && full == 0));
        }
    }
}

static void test_golden_checksums_are_right(void **state)
{
    (void)state;
    /* The checksums written into the golden frames agree with the reference code. */
    assert_int_equal(ref_get16(golden_syn + 24), ref_ip_csum(golden_syn + 14));
    assert_int_equal(ref_get16(golden_syn + 50), ref_tcp_csum(golden_syn + 14));
    assert_int_equal(ref_get16(golden_data + 24), ref_ip_csum(golden_data + 14));
    assert_int_equal(ref_get16(golden_data + 50), ref_tcp_csum(golden_data + 14));
}

static void test_golden_syn(void **state)
{
    (void)state;
    uint8_t *frame = ref_dup(golden_syn, sizeof golden_syn);
    struct tcpe_wire_stats st = {0};
    struct tcpe_wire_pkt pkt;
    assert_int_equal(tcpe_wire_eth_parse(frame, sizeof golden_syn, 0, &pkt, &st),
                     TCPE_WIRE_KIND_TCP);
    assert_int_equal(pkt.drop, TCPE_WIRE_DROP_NONE);
    assert_memory_equal(pkt.eth.dst, mac_b, 6);
    assert_memory_equal(pkt.eth.src, mac_a, 6);
    assert_int_equal(pkt.eth.type, 0x0800);
    assert_int_equal(pkt.ip.id, 0x4d2b);
    assert_int_equal(pkt.ip.ttl, 64);
    assert_int_equal(pkt.ip.df, 1);
    assert_int_equal(pkt.ip.hlen, 20);
    assert_int_equal(pkt.ip.total_len, 60);
    const struct tcpe_seg *s = &pkt.seg;
    assert_int_equal(s->src_ip, IP_A);
    assert_int_equal(s->dst_ip, IP_B);
    assert_int_equal(s->src_port, 54321);
    assert_int_equal(s->dst_port, 80);
    assert_int_equal(s->seq, 0x5c1f6a2b);
    assert_int_equal(s->ack, 0);
    assert_int_equal(s->flags, TCPE_SYN);
    assert_int_equal(s->wnd, 64240);
    assert_int_equal(s->urp, 0);
    assert_int_equal(s->opts, TCPE_OPT_MSS | TCPE_OPT_WSCALE | TCPE_OPT_SACK_OK | TCPE_OPT_TS);
    assert_int_equal(s->mss, 1460);
    assert_int_equal(s->wscale, 7);
    assert_int_equal(s->ts_val, 2000000);
    assert_int_equal(s->ts_ecr, 0);
    assert_int_equal(s->len, 0);
    assert_int_equal(st.rx_tcp, 1);
    assert_int_equal(tcpe_wire_drops_total(&st), 0);

    /* The builder lays the same segment out byte for byte as Linux does. */
    struct tcpe_wire_tx tx;
    tcpe_wire_tx_init(&tx, 0x4d2b);
    struct tcpe_wire_eth eth;
    memcpy(eth.dst, mac_b, 6);
    memcpy(eth.src, mac_a, 6);
    uint8_t out[128];
    assert_int_equal(tcpe_wire_eth_len(s), sizeof golden_syn);
    assert_int_equal(tcpe_wire_eth_build(&tx, &eth, s, out, sizeof out), sizeof golden_syn);
    assert_memory_equal(out, golden_syn, sizeof golden_syn);
    assert_int_equal(tx.ip_id, 0x4d2c);
    free(frame);
}

static void test_golden_data_odd_length(void **state)
{
    (void)state;
    uint8_t *frame = ref_dup(golden_data, sizeof golden_data);
    struct tcpe_wire_pkt pkt;
    assert_int_equal(tcpe_wire_eth_parse(frame, sizeof golden_data, 0, &pkt, NULL),
                     TCPE_WIRE_KIND_TCP);
    const struct tcpe_seg *s = &pkt.seg;
    assert_int_equal(s->flags, TCPE_ACK | TCPE_PSH);
    assert_int_equal(s->ack, 0x9a0b1c2d);
    assert_int_equal(s->wnd, 502);
    assert_int_equal(s->opts, TCPE_OPT_TS);
    assert_int_equal(s->ts_val, 2000123);
    assert_int_equal(s->ts_ecr, 3000456);
    assert_int_equal(s->len, 19);
    assert_ptr_equal(s->data, frame + 66);
    assert_memory_equal(s->data, "GET /x HTTP/1.0\r\n\r\n", 19);

    struct tcpe_wire_tx tx;
    tcpe_wire_tx_init(&tx, 0x4d2c);
    struct tcpe_wire_eth eth;
    memcpy(eth.dst, mac_b, 6);
    memcpy(eth.src, mac_a, 6);
    uint8_t out[128];
    assert_int_equal(tcpe_wire_eth_build(&tx, &eth, s, out, sizeof out), sizeof golden_data);
    assert_memory_equal(out, golden_data, sizeof golden_data);

    /* One bit flipped in the payload is caught by the TCP checksum, not before. */
    frame[80] ^= 0x04;
    struct tcpe_wire_stats st = {0};
    assert_int_equal(tcpe_wire_eth_parse(frame, sizeof golden_data, 0, &pkt, &st), HO_EPROTO);
    assert_int_equal(pkt.drop, TCPE_WIRE_DROP_TCP_CSUM);
    assert_int_equal(st.drops[TCPE_WIRE_DROP_TCP_CSUM], 1);
    /* ... unless the NIC says it checked. */
    assert_int_equal(
        tcpe_wire_eth_parse(frame, sizeof golden_data, TCPE_WIRE_RX_TCP_CSUM_OK, &pkt, &st),
        TCPE_WIRE_KIND_TCP);
    free(frame);
}

/* Field-by-field equality of what was built and what was parsed back. */
static void assert_seg_equal(const struct tcpe_seg *want, const struct tcpe_seg *got)
{
    assert_int_equal(got->src_ip, want->src_ip);
    assert_int_equal(got->dst_ip, want->dst_ip);
    assert_int_equal(got->src_port, want->src_port);
    assert_int_equal(got->dst_port, want->dst_port);
    assert_int_equal(got->seq, want->seq);
    assert_int_equal(got->ack, want->ack);
    assert_int_equal(got->flags, want->flags);
    assert_int_equal(got->wnd, want->wnd);
    assert_int_equal(got->urp, want->urp);
    assert_int_equal(got->opts, want->opts);
    assert_int_equal(got->mss, want->mss);
    assert_int_equal(got->wscale, want->wscale);
    assert_int_equal(got->ts_val, want->ts_val);
    assert_int_equal(got->ts_ecr, want->ts_ecr);
    assert_int_equal(got->len, want->len);
}

static void test_roundtrip_random(void **state)
{
    (void)state;
    enum { POOL = 1600, ROUNDS = 3000 };
    uint8_t *pool = malloc(POOL);
    uint8_t *buf = malloc(TCPE_WIRE_BUILD_MAX_HDRS + POOL);
    uint8_t *hdr = malloc(TCPE_WIRE_BUILD_MAX_HDRS + POOL);
    assert_non_null(pool);
    assert_non_null(buf);
    assert_non_null(hdr);
    struct ho_rng rng;
    ho_rng_seed_named(&rng, 3, "roundtrip");
    for (size_t i = 0; i < POOL; i++) {
        pool[i] = (uint8_t)ho_rng_next(&rng);
    }
    struct tcpe_wire_stats st = {0};
    for (int i = 0; i < ROUNDS; i++) {
        struct tcpe_seg seg = ref_random_seg(&rng, pool, POOL - 1);
        struct tcpe_wire_tx tx;
        tcpe_wire_tx_init(&tx, (uint16_t)ho_rng_next(&rng));
        tx.ttl = (uint8_t)ho_rng_next(&rng);
        tx.tos = (uint8_t)ho_rng_next(&rng);
        if (ho_rng_below(&rng, 2)) {
            tx.flags = 0; /* DF clear */
        }
        struct tcpe_wire_eth eth;
        for (int k = 0; k < 6; k++) {
            eth.dst[k] = (uint8_t)ho_rng_next(&rng);
            eth.src[k] = (uint8_t)ho_rng_next(&rng);
        }
        uint16_t id = tx.ip_id;
        int n = tcpe_wire_eth_build(&tx, &eth, &seg, buf, TCPE_WIRE_BUILD_MAX_HDRS + POOL);
        assert_int_equal(n, tcpe_wire_eth_len(&seg));
        assert_int_equal(tx.ip_id, (uint16_t)(id + 1));
        /* The built checksums are the reference's. */
        assert_int_equal(ref_get16(buf + 24), ref_ip_csum(buf + 14));
        assert_int_equal(ref_get16(buf + 14 + 20 + 16), ref_tcp_csum(buf + 14));

        uint8_t *frame = ref_dup(buf, (size_t)n);
        struct tcpe_wire_pkt pkt;
        assert_int_equal(tcpe_wire_eth_parse(frame, (size_t)n, 0, &pkt, &st), TCPE_WIRE_KIND_TCP);
        assert_seg_equal(&seg, &pkt.seg);
        assert_memory_equal(pkt.eth.dst, eth.dst, 6);
        assert_memory_equal(pkt.eth.src, eth.src, 6);
        assert_int_equal(pkt.ip.id, id);
        assert_int_equal(pkt.ip.ttl, tx.ttl);
        assert_int_equal(pkt.ip.tos, tx.tos);
        assert_int_equal(pkt.ip.df, tx.flags & TCPE_WIRE_TX_DF ? 1 : 0);
        assert_ptr_equal(pkt.seg.data, frame + n - seg.len);
        assert_memory_equal(pkt.seg.data, seg.data, seg.len);
        free(frame);

        /* The headers alone are the same bytes as the front of the full frame. */
        tx.ip_id = id;
        int h = tcpe_wire_eth_build_hdr(&tx, &eth, &seg, hdr, TCPE_WIRE_BUILD_MAX_HDRS);
        assert_int_equal(h, n - (int)seg.len);
        assert_memory_equal(hdr, buf, (size_t)h);

        /* Virtual payload: the checksum stands for zeros, so headers + zeros verify. */
        struct tcpe_seg virt = seg;
        virt.data = NULL;
        tx.ip_id = id;
        assert_int_equal(tcpe_wire_eth_build_hdr(&tx, &eth, &virt, hdr, TCPE_WIRE_BUILD_MAX_HDRS),
                         h);
        memset(hdr + h, 0, seg.len);
        frame = ref_dup(hdr, (size_t)n);
        assert_int_equal(tcpe_wire_eth_parse(frame, (size_t)n, 0, &pkt, &st), TCPE_WIRE_KIND_TCP);
        assert_seg_equal(&seg, &pkt.seg);
        free(frame);

        /* Without Ethernet. */
        tx.ip_id = id;
        int m = tcpe_wire_ipv4_build(&tx, &seg, buf, TCPE_WIRE_BUILD_MAX_HDRS + POOL);
        assert_int_equal(m, n - TCPE_WIRE_ETH_HLEN);
        assert_int_equal(m, tcpe_wire_ipv4_len(&seg));
        frame = ref_dup(buf, (size_t)m);
        assert_int_equal(tcpe_wire_ipv4_parse(frame, (size_t)m, 0, &pkt, &st), TCPE_WIRE_KIND_TCP);
        assert_seg_equal(&seg, &pkt.seg);
        free(frame);
    }
    assert_int_equal(st.rx_tcp, 3 * ROUNDS);
    assert_int_equal(tcpe_wire_drops_total(&st), 0);
    free(pool);
    free(buf);
    free(hdr);
}

static void test_build_errors(void **state)
{
    (void)state;
    uint8_t payload[8] = {0};
    struct tcpe_seg seg = {.src_ip = IP_A, .dst_ip = IP_B, .flags = TCPE_ACK, .len = 8};
    seg.data = payload;
    struct tcpe_wire_tx tx;
    tcpe_wire_tx_init(&tx, 7);
    struct tcpe_wire_eth eth = {{0}, {0}, 0};
    uint8_t buf[128];

    /* Too small a buffer: nothing written, no identification used. */
    memset(buf, 0xee, sizeof buf);
    assert_int_equal(tcpe_wire_eth_build(&tx, &eth, &seg, buf, 14 + 20 + 20 + 7), HO_ENOSPC);
    assert_int_equal(tcpe_wire_ipv4_build(&tx, &seg, buf, 47), HO_ENOSPC);
    assert_int_equal(tcpe_wire_ipv4_build_hdr(&tx, &seg, buf, 39), HO_ENOSPC);
    assert_int_equal(tcpe_wire_eth_build_hdr(&tx, &eth, &seg, buf, 53), HO_ENOSPC);
    assert_int_equal(tcpe_wire_eth_build(&tx, &eth, &seg, NULL, 0), HO_ENOSPC);
    assert_int_equal(buf[0], 0xee);
    assert_int_equal(tx.ip_id, 7);
    assert_int_equal(tcpe_wire_eth_build(&tx, &eth, &seg, buf, 14 + 20 + 20 + 8), 62);
    assert_int_equal(tx.ip_id, 8);

    /* Real payload promised but missing. */
    seg.data = NULL;
    assert_int_equal(tcpe_wire_ipv4_build(&tx, &seg, buf, sizeof buf), HO_EINVAL);
    assert_int_equal(tcpe_wire_eth_build(&tx, &eth, &seg, buf, sizeof buf), HO_EINVAL);

    /* Larger than an IPv4 datagram: the largest fitting payload works, one more does not. */
    seg.opts = TCPE_OPT_TS;
    seg.len = 65535 - 20 - 32;
    assert_int_equal(tcpe_wire_ipv4_len(&seg), 65535);
    assert_int_equal(tcpe_wire_ipv4_build_hdr(&tx, &seg, buf, sizeof buf), 52);
    seg.len++;
    assert_int_equal(tcpe_wire_ipv4_len(&seg), HO_EMSGSIZE);
    assert_int_equal(tcpe_wire_eth_len(&seg), HO_EMSGSIZE);
    assert_int_equal(tcpe_wire_ipv4_build_hdr(&tx, &seg, buf, sizeof buf), HO_EMSGSIZE);
    assert_int_equal(tcpe_wire_eth_build_hdr(&tx, &eth, &seg, buf, sizeof buf), HO_EMSGSIZE);
    seg.len = UINT32_MAX;
    assert_int_equal(tcpe_wire_ipv4_len(&seg), HO_EMSGSIZE);
}

static void test_option_layouts(void **state)
{
    (void)state;
    /* Every subset of options gets Linux's layout and a 4-byte-aligned header. */
    static const struct {
        uint8_t opts;
        uint8_t len;
        uint8_t bytes[20];
    } cases[] = {
        {0, 0, {0}},
        {TCPE_OPT_MSS, 4, {2, 4, 0x05, 0xb4}},
        {TCPE_OPT_WSCALE, 4, {1, 3, 3, 9}},
        {TCPE_OPT_SACK_OK, 4, {1, 1, 4, 2}},
        {TCPE_OPT_TS, 12, {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}},
        {TCPE_OPT_MSS | TCPE_OPT_SACK_OK | TCPE_OPT_WSCALE,
         12,
         {2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 9}},
        {TCPE_OPT_SACK_OK | TCPE_OPT_TS, 12, {4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}},
        {TCPE_OPT_MSS | TCPE_OPT_TS | TCPE_OPT_WSCALE, 20, {2, 4, 0x05, 0xb4, 1, 1, 8, 10, 0, 0,
                                                            0, 1, 0,    0,    0, 2, 1, 3,  3, 9}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tcpe_seg seg = {
            .opts = cases[i].opts, .mss = 1460, .wscale = 9, .ts_val = 1, .ts_ecr = 2};
        struct tcpe_wire_tx tx;
        tcpe_wire_tx_init(&tx, 0);
        uint8_t buf[64];
        assert_int_equal(tcpe_wire_tcp_hdr_len(&seg), 20 + cases[i].len);
        assert_int_equal(tcpe_wire_ipv4_build(&tx, &seg, buf, sizeof buf), 40 + cases[i].len);
        assert_int_equal(buf[20 + 12] >> 4, (20 + cases[i].len) / 4);
        assert_memory_equal(buf + 40, cases[i].bytes, cases[i].len);
    }
}

/*
 * SACK blocks (RFC 2018 3) behind two NOPs, after every other option, and round-tripped by the
 * parser. Blocks that do not fit in the 40 option bytes beside the others are left out, the
 * last ones first: four fit alone, three beside timestamps, two beside MSS and timestamps (and
 * beside a SYN's MSS, SACK-permitted, timestamps and window scale).
 */
static void test_sack_blocks_layout(void **state)
{
    (void)state;
    static const struct {
        uint8_t opts;
        uint8_t nsack;
        uint8_t written;
        uint8_t other_len; /* option bytes before the SACK option */
    } cases[] = {
        {0, 1, 1, 0},
        {0, 4, 4, 0},
        {TCPE_OPT_TS, 1, 1, 12},
        {TCPE_OPT_TS, 3, 3, 12},
        {TCPE_OPT_TS, 4, 3, 12},
        {TCPE_OPT_MSS | TCPE_OPT_TS, 4, 2, 16},
        {TCPE_OPT_MSS | TCPE_OPT_SACK_OK | TCPE_OPT_TS | TCPE_OPT_WSCALE, 4, 2, 20},
        {0, 0, 0, 0}, /* the flag without blocks writes nothing */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tcpe_seg seg = {.src_ip = IP_A,
                               .dst_ip = IP_B,
                               .src_port = 1,
                               .dst_port = 2,
                               .flags = TCPE_ACK,
                               .opts = (uint8_t)(cases[i].opts | TCPE_OPT_SACK),
                               .mss = 1460,
                               .wscale = 9,
                               .ts_val = 1,
                               .ts_ecr = 2,
                               .nsack = cases[i].nsack};
        for (uint32_t b = 0; b < TCPE_SACK_MAX; b++) {
            seg.sack[b].start = 0xfffff000u + 0x1000u * b; /* across 2^32 */
            seg.sack[b].end = seg.sack[b].start + 0x800u;
        }
        uint8_t sack_len = cases[i].written ? (uint8_t)(4 + 8 * cases[i].written) : 0;
        int hlen = 20 + cases[i].other_len + sack_len;
        assert_int_equal(tcpe_wire_tcp_hdr_len(&seg), hlen);
        struct tcpe_wire_tx tx;
        tcpe_wire_tx_init(&tx, 0);
        uint8_t buf[TCPE_WIRE_BUILD_MAX_HDRS];
        assert_int_equal(tcpe_wire_ipv4_build(&tx, &seg, buf, sizeof buf), 20 + hlen);
        const uint8_t *o = buf + 40 + cases[i].other_len;
        if (cases[i].written > 0) {
            assert_int_equal(o[0], TCPE_WIRE_OPT_NOP);
            assert_int_equal(o[1], TCPE_WIRE_OPT_NOP);
            assert_int_equal(o[2], TCPE_WIRE_OPT_SACK);
            assert_int_equal(o[3], 2 + 8 * cases[i].written);
        }
        struct tcpe_wire_pkt pkt;
        assert_int_equal(tcpe_wire_ipv4_parse(buf, (size_t)(20 + hlen), 0, &pkt, NULL),
                         TCPE_WIRE_KIND_TCP);
        assert_int_equal(pkt.seg.nsack, cases[i].written);
        assert_int_equal((pkt.seg.opts & TCPE_OPT_SACK) != 0, cases[i].written > 0);
        assert_int_equal(pkt.seg.opts & ~TCPE_OPT_SACK, cases[i].opts);
        for (uint32_t b = 0; b < cases[i].written; b++) {
            assert_int_equal(pkt.seg.sack[b].start, seg.sack[b].start);
            assert_int_equal(pkt.seg.sack[b].end, seg.sack[b].end);
        }
    }
}

static void test_csum_offload(void **state)
{
    (void)state;
    uint8_t payload[5] = {1, 2, 3, 4, 5};
    struct tcpe_seg seg = {.src_ip = IP_A,
                           .dst_ip = IP_B,
                           .src_port = 1,
                           .dst_port = 2,
                           .flags = TCPE_ACK,
                           .len = 5,
                           .data = payload};
    struct tcpe_wire_tx tx;
    tcpe_wire_tx_init(&tx, 1);
    tx.flags |= TCPE_WIRE_TX_CSUM_OFFLOAD;
    uint8_t buf[64];
    int n = tcpe_wire_ipv4_build(&tx, &seg, buf, sizeof buf);
    assert_int_equal(n, 45);
    assert_int_equal(ref_get16(buf + 10), 0);
    /* The TCP field holds the uncomplemented pseudo-header sum for the NIC to finish. */
    uint8_t pseudo[12] = {10, 0, 0, 1, 10, 0, 0, 2, 0, 6, 0, 25};
    assert_int_equal(ref_get16(buf + 36), ref_sum(0, pseudo, 12));

    struct tcpe_wire_pkt pkt;
    struct tcpe_wire_stats st = {0};
    uint8_t *frame = ref_dup(buf, (size_t)n);
    assert_int_equal(tcpe_wire_ipv4_parse(frame, (size_t)n, 0, &pkt, &st), HO_EPROTO);
    assert_int_equal(pkt.drop, TCPE_WIRE_DROP_IP_CSUM);
    assert_int_equal(tcpe_wire_ipv4_parse(frame, (size_t)n, TCPE_WIRE_RX_IP_CSUM_OK, &pkt, &st),
                     HO_EPROTO);
    assert_int_equal(pkt.drop, TCPE_WIRE_DROP_TCP_CSUM);
    assert_int_equal(tcpe_wire_ipv4_parse(frame, (size_t)n, TCPE_WIRE_RX_CSUM_OK, &pkt, &st),
                     TCPE_WIRE_KIND_TCP);
    assert_int_equal(pkt.seg.len, 5);
    /* What the NIC does: sum the segment, seeded field included, complement, store; it also
     * fills in the IPv4 header checksum. */
    ref_put16(frame + 36, (uint16_t)~ref_sum(0, frame + 20, 25));
    ref_fix_ip(frame);
    assert_int_equal(ref_get16(frame + 36), ref_tcp_csum(frame));
    assert_int_equal(tcpe_wire_ipv4_parse(frame, (size_t)n, 0, &pkt, &st), TCPE_WIRE_KIND_TCP);
    free(frame);
}

static void test_arp_request_reply(void **state)
{
    (void)state;
    uint8_t buf[64];
    struct tcpe_wire_stats st = {0};
    struct tcpe_wire_pkt pkt;

    /* A asks who has B. */
    assert_int_equal(tcpe_wire_arp_build_request(mac_a, IP_A, IP_B, buf, sizeof buf), 42);
    const uint8_t want_req[42] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00,
                                  0x01, 0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
                                  0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x01, 0x00,
                                  0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x02};
    assert_memory_equal(buf, want_req, 42);
    uint8_t *frame = ref_dup(buf, 42);
    assert_int_equal(tcpe_wire_eth_parse(frame, 42, 0, &pkt, &st), TCPE_WIRE_KIND_ARP);
    free(frame);
    assert_int_equal(pkt.arp.op, TCPE_WIRE_ARP_REQUEST);
    assert_memory_equal(pkt.arp.sha, mac_a, 6);
    assert_int_equal(pkt.arp.spa, IP_A);
    assert_int_equal(pkt.arp.tpa, IP_B);
    struct tcpe_wire_arp req = pkt.arp;

    /* B answers; anyone else stays quiet. */
    assert_int_equal(tcpe_wire_arp_build_reply(&req, mac_a, IP_A, buf, sizeof buf), HO_ENOENT);
    assert_int_equal(tcpe_wire_arp_build_reply(&req, mac_b, IP_B, buf, 41), HO_ENOSPC);
    assert_int_equal(tcpe_wire_arp_build_reply(&req, mac_b, IP_B, buf, sizeof buf), 42);
    const uint8_t want_reply[42] = {
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x06,
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
        0x0a, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x01};
    assert_memory_equal(buf, want_reply, 42);

    /* The reply, padded to Ethernet's minimum as it arrives from a real NIC, parses. */
    memset(buf + 42, 0x5a, 18);
    frame = ref_dup(buf, 60);
    assert_int_equal(tcpe_wire_eth_parse(frame, 60, 0, &pkt, &st), TCPE_WIRE_KIND_ARP);
    free(frame);
    assert_int_equal(pkt.arp.op, TCPE_WIRE_ARP_REPLY);
    assert_memory_equal(pkt.arp.sha, mac_b, 6);
    assert_memory_equal(pkt.arp.tha, mac_a, 6);
    assert_int_equal(pkt.arp.spa, IP_B);
    assert_int_equal(pkt.arp.tpa, IP_A);
    assert_int_equal(tcpe_wire_arp_build_reply(&pkt.arp, mac_a, IP_A, buf, sizeof buf), HO_EINVAL);
    assert_int_equal(st.rx_arp, 2);

    /* Malformed ARP: short, wrong hardware/protocol, unknown opcode. */
    assert_int_equal(tcpe_wire_arp_build_request(mac_a, IP_A, IP_B, buf, sizeof buf), 42);
    for (size_t n = 14; n < 42; n++) {
        frame = ref_dup(buf, n);
        assert_int_equal(tcpe_wire_eth_parse(frame, n, 0, &pkt, &st), HO_EMSGSIZE);
        assert_int_equal(pkt.drop, TCPE_WIRE_DROP_ARP_RUNT);
        free(frame);
    }
    static const struct {
        size_t at;
        uint8_t val;
        enum tcpe_wire_drop why;
    } bad[] = {
        {15, 6, TCPE_WIRE_DROP_ARP_FORMAT},    /* htype 6 (IEEE 802) */
        {16, 0x86, TCPE_WIRE_DROP_ARP_FORMAT}, /* ptype 0x86dd */
        {18, 8, TCPE_WIRE_DROP_ARP_FORMAT},    /* hlen 8 */
        {19, 16, TCPE_WIRE_DROP_ARP_FORMAT},   /* plen 16 */
        {21, 3, TCPE_WIRE_DROP_ARP_OP},        /* RARP request */
        {21, 0, TCPE_WIRE_DROP_ARP_OP},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        frame = ref_dup(buf, 42);
        frame[bad[i].at] = bad[i].val;
        assert_int_equal(tcpe_wire_eth_parse(frame, 42, 0, &pkt, &st), HO_EPROTO);
        assert_int_equal(pkt.drop, bad[i].why);
        free(frame);
    }
    assert_int_equal(st.drops[TCPE_WIRE_DROP_ARP_RUNT], 28);
    assert_int_equal(st.drops[TCPE_WIRE_DROP_ARP_FORMAT], 4);
    assert_int_equal(st.drops[TCPE_WIRE_DROP_ARP_OP], 2);
    assert_int_equal(st.rx_arp, 2);
}

static void test_peer_option_helpers(void **state)
{
    (void)state;
    struct tcpe_seg syn = {0};
    assert_int_equal(tcpe_wire_peer_mss(&syn), 536);
    assert_int_equal(tcpe_wire_peer_wscale(&syn), HO_ENOENT);
    syn.opts = TCPE_OPT_MSS | TCPE_OPT_WSCALE;
    syn.mss = 0;
    syn.wscale = 0;
    assert_int_equal(tcpe_wire_peer_mss(&syn), 48);
    assert_int_equal(tcpe_wire_peer_wscale(&syn), 0);
    syn.mss = 47;
    syn.wscale = 14;
    assert_int_equal(tcpe_wire_peer_mss(&syn), 48);
    assert_int_equal(tcpe_wire_peer_wscale(&syn), 14);
    syn.mss = 1460;
    syn.wscale = 15;
    assert_int_equal(tcpe_wire_peer_mss(&syn), 1460);
    assert_int_equal(tcpe_wire_peer_wscale(&syn), 14);
    syn.wscale = 255;
    assert_int_equal(tcpe_wire_peer_wscale(&syn), 14);
}

static void test_drop_names_and_codes(void **state)
{
    (void)state;
    assert_string_equal(tcpe_wire_drop_name(TCPE_WIRE_DROP_NONE), "none");
    assert_string_equal(tcpe_wire_drop_name(TCPE_WIRE_DROP_TCP_CSUM), "tcp_csum");
    assert_string_equal(tcpe_wire_drop_name(TCPE_WIRE_DROP_COUNT), "unknown");
    assert_int_equal(tcpe_wire_drop_code(TCPE_WIRE_DROP_NONE), HO_OK);
    for (int i = 1; i < TCPE_WIRE_DROP_COUNT; i++) {
        const char *name = tcpe_wire_drop_name((enum tcpe_wire_drop)i);
        assert_non_null(name);
        assert_string_not_equal(name, "unknown");
        for (int j = 0; j < i; j++) {
            assert_string_not_equal(name, tcpe_wire_drop_name((enum tcpe_wire_drop)j));
        }
        int code = tcpe_wire_drop_code((enum tcpe_wire_drop)i);
        assert_true(code == HO_EMSGSIZE || code == HO_EPROTO);
    }
    assert_int_equal(tcpe_wire_drop_code(TCPE_WIRE_DROP_IP_TOTLEN), HO_EMSGSIZE);
    assert_int_equal(tcpe_wire_drop_code(TCPE_WIRE_DROP_TCP_DOFF), HO_EPROTO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csum_rfc1071_example),
        cmocka_unit_test(test_csum_matches_reference),
        cmocka_unit_test(test_csum_pseudo_and_incremental),
        cmocka_unit_test(test_golden_checksums_are_right),
        cmocka_unit_test(test_golden_syn),
        cmocka_unit_test(test_golden_data_odd_length),
        cmocka_unit_test(test_roundtrip_random),
        cmocka_unit_test(test_build_errors),
        cmocka_unit_test(test_option_layouts),
        cmocka_unit_test(test_sack_blocks_layout),
        cmocka_unit_test(test_csum_offload),
        cmocka_unit_test(test_arp_request_reply),
        cmocka_unit_test(test_peer_option_helpers),
        cmocka_unit_test(test_drop_names_and_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
