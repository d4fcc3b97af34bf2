/*
 * test_wire_malformed.c - the packet codec on malformed input, one fault at a time: truncation at
 * every length (reliability case 1), TCP data offsets under 5 and past the segment (case 2),
 * every overrunning option layout (case 3), and the IPv4 and Ethernet header checks. Each frame
 * is parsed from an exact-size heap copy, so AddressSanitizer catches any read past its end, and
 * each drop must come back with the right reason and code and be counted exactly once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "handoff/err.h"
#include "handoff/tcpe_wire.h"
#include "test_wire_ref.h"

#define ETH 14 /* offset of the IPv4 header in a frame */

static const uint8_t payload[64] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!";

/* Builds a frame carrying a segment with every option and len payload bytes; returns its
 * length. */
static size_t build_frame(uint8_t *buf, size_t cap, uint8_t opts, uint32_t len)
{
    struct tcpe_seg seg = {.src_ip = 0xc0000201,
                           .dst_ip = 0xc6336402,
                           .src_port = 40000,
                           .dst_port = 80,
                           .seq = 1000,
                           .ack = 2000,
                           .flags = TCPE_ACK,
                           .wnd = 1000,
                           .opts = opts,
                           .mss = 1460,
                           .wscale = 7,
                           .ts_val = 5,
                           .ts_ecr = 6,
                           .len = len,
                           .data = payload};
    struct tcpe_wire_tx tx;
    tcpe_wire_tx_init(&tx, 99);
    struct tcpe_wire_eth eth = {{2, 0, 0, 0, 0, 2}, {2, 0, 0, 0, 0, 1}, 0};
    int n = tcpe_wire_eth_build(&tx, &eth, &seg, buf, cap);
    HO_ASSERT(n > 0, "build failed: %d", n);
    return (size_t)n;
}

/* Parses frame[0..len) from an exact-size copy and checks the outcome and the counters. */
static void expect_drop(const uint8_t *frame, size_t len, unsigned rx_flags,
                        enum tcpe_wire_drop why)
{
    uint8_t *copy = ref_dup(frame, len);
    struct tcpe_wire_stats st = {0};
    struct tcpe_wire_pkt pkt;
    int ret = tcpe_wire_eth_parse(copy, len, rx_flags, &pkt, &st);
    if (pkt.drop != why || ret != tcpe_wire_drop_code(why)) {
        fail_msg("len %zu: got %d (%s), want %d (%s)", len, ret, tcpe_wire_drop_name(pkt.drop),
                 tcpe_wire_drop_code(why), tcpe_wire_drop_name(why));
    }
    assert_true(ret < 0);
    assert_int_equal(st.drops[why], 1);
    assert_int_equal(tcpe_wire_drops_total(&st), 1);
    assert_int_equal(st.rx_tcp + st.rx_arp, 0);
    free(copy);
}

static void expect_tcp(const uint8_t *frame, size_t len, unsigned rx_flags, struct tcpe_seg *out)
{
    uint8_t *copy = ref_dup(frame, len);
    struct tcpe_wire_stats st = {0};
    struct tcpe_wire_pkt pkt;
    int ret = tcpe_wire_eth_parse(copy, len, rx_flags, &pkt, &st);
    if (ret != TCPE_WIRE_KIND_TCP) {
        fail_msg("len %zu: got %d (%s), want a TCP segment", len, ret,
                 tcpe_wire_drop_name(pkt.drop));
    }
    assert_int_equal(pkt.drop, TCPE_WIRE_DROP_NONE);
    assert_int_equal(st.rx_tcp, 1);
    assert_int_equal(tcpe_wire_drops_total(&st), 0);
    if (out) {
        *out = pkt.seg;
        out->data = NULL; /* the copy is gone */
    }
    free(copy);
}

static void test_truncated_at_every_length(void **state)
{
    (void)state;
    uint8_t buf[256];
    for (uint32_t plen = 0; plen < 4; plen++) {
        size_t n = build_frame(buf, sizeof buf, 0x0f, plen);
        expect_tcp(buf, n, 0, NULL);
        for (size_t k = 0; k < n; k++) {
            enum tcpe_wire_drop why = k < 14   ? TCPE_WIRE_DROP_ETH_RUNT
                                      : k < 34 ? TCPE_WIRE_DROP_IP_RUNT
                                               : TCPE_WIRE_DROP_IP_TOTLEN;
            expect_drop(buf, k, 0, why);
            /* Hardware checksum verification changes nothing here. */
            expect_drop(buf, k, TCPE_WIRE_RX_CSUM_OK, why);
        }
    }
    /* An empty frame and a NULL buffer. */
    struct tcpe_wire_pkt pkt;
    assert_int_equal(tcpe_wire_eth_parse(NULL, 100, 0, &pkt, NULL), HO_EMSGSIZE);
    assert_int_equal(pkt.drop, TCPE_WIRE_DROP_ETH_RUNT);
    assert_int_equal(tcpe_wire_ipv4_parse(NULL, 100, 0, &pkt, NULL), HO_EMSGSIZE);
    assert_int_equal(pkt.drop, TCPE_WIRE_DROP_IP_RUNT);
    assert_int_equal(tcpe_wire_tcp_parse(1, 2, NULL, 100, 0, &pkt, NULL), HO_EMSGSIZE);
    assert_int_equal(pkt.drop, TCPE_WIRE_DROP_TCP_RUNT);
    assert_int_equal(tcpe_wire_arp_parse(NULL, 100, &pkt, NULL), HO_EMSGSIZE);
    assert_int_equal(pkt.drop, TCPE_WIRE_DROP_ARP_RUNT);
    /* A segment handed straight to the TCP parser that no IPv4 datagram could carry. */
    uint8_t *big = calloc(65516, 1);
    assert_non_null(big);
    big[12] = 5 << 4;
    assert_int_equal(tcpe_wire_tcp_parse(1, 2, big, 65516, TCPE_WIRE_RX_CSUM_OK, &pkt, NULL),
                     HO_EMSGSIZE);
    assert_int_equal(pkt.drop, TCPE_WIRE_DROP_IP_TOTLEN);
    assert_int_equal(tcpe_wire_tcp_parse(1, 2, big, 65515, TCPE_WIRE_RX_CSUM_OK, &pkt, NULL),
                     TCPE_WIRE_KIND_TCP);
    assert_int_equal(pkt.seg.len, 65495);
    free(big);
}

static void test_ip_total_length_shorter_than_tcp_header(void **state)
{
    (void)state;
    uint8_t buf[256];
    size_t n = build_frame(buf, sizeof buf, 0x0f, 10); /* TCP header 40 bytes + 10 */
    /* The IP total length says the segment is k bytes; the frame is longer (padding). */
    for (size_t k = 0; k < 20; k++) {
        uint8_t f[256];
        memcpy(f, buf, n);
        ref_put16(f + ETH + 2, (uint16_t)(20 + k));
        ref_fix_ip(f + ETH);
        expect_drop(f, n, 0, TCPE_WIRE_DROP_TCP_RUNT);
        expect_drop(f, n, TCPE_WIRE_RX_CSUM_OK, TCPE_WIRE_DROP_TCP_RUNT);
    }
    /* 20 up to 39 bytes: the header claims 40. */
    for (size_t k = 20; k < 40; k++) {
        uint8_t f[256];
        memcpy(f, buf, n);
        ref_put16(f + ETH + 2, (uint16_t)(20 + k));
        ref_fix_ip(f + ETH);
        expect_drop(f, n, 0, TCPE_WIRE_DROP_TCP_DOFF);
    }
    /* Total length under the IP header length. */
    for (size_t k = 0; k < 20; k++) {
        uint8_t f[256];
        memcpy(f, buf, n);
        ref_put16(f + ETH + 2, (uint16_t)k);
        ref_fix_ip(f + ETH);
        expect_drop(f, n, 0, TCPE_WIRE_DROP_IP_TOTLEN);
    }
}

static void test_data_offset(void **state)
{
    (void)state;
    uint8_t buf[256];
    size_t n = build_frame(buf, sizeof buf, 0, 8); /* 20-byte TCP header, 8 bytes payload */
    const size_t doff_at = ETH + 20 + 12;
    for (unsigned doff = 0; doff < 16; doff++) {
        uint8_t f[256];
        memcpy(f, buf, n);
        f[doff_at] = (uint8_t)(doff << 4);
        ref_fix_ip_tcp(f + ETH);
        if (doff < 5) {
            expect_drop(f, n, 0, TCPE_WIRE_DROP_TCP_DOFF); /* case 2: under 5 */
        } else if (doff * 4 > 28) {
            expect_drop(f, n, 0, TCPE_WIRE_DROP_TCP_DOFF); /* case 2: beyond the segment */
            expect_drop(f, n, TCPE_WIRE_RX_CSUM_OK, TCPE_WIRE_DROP_TCP_DOFF);
        } else if (doff == 5) {
            expect_tcp(f, n, 0, NULL);
        } else {
            /* 6 or 7: the payload bytes become options. "01234567" are not valid options
             * ('0' = kind 48 with length '1' = 49, past the data offset). */
            expect_drop(f, n, 0, TCPE_WIRE_DROP_TCP_OPT_OVER);
        }
    }
    /* A data offset that takes the whole segment: no payload. */
    memcpy(buf + ETH + 40, "\x01\x01\x01\x01\x01\x01\x01\x00", 8);
    buf[doff_at] = 7 << 4;
    ref_fix_ip_tcp(buf + ETH);
    struct tcpe_seg seg;
    expect_tcp(buf, n, 0, &seg);
    assert_int_equal(seg.len, 0);
    assert_int_equal(seg.opts, 0);
}

/* Parses a TCP header with the option area opt[0..len) (len a multiple of 4, up to 40). */
static int parse_options(const uint8_t *opt, size_t len, struct tcpe_wire_pkt *pkt,
                         struct tcpe_wire_stats *st)
{
    uint8_t seg[60] = {0};
    seg[12] = (uint8_t)(((20 + len) / 4) << 4);
    seg[13] = TCPE_SYN;
    memcpy(seg + 20, opt, len);
    uint8_t *copy = ref_dup(seg, 20 + len);
    int ret = tcpe_wire_tcp_parse(1, 2, copy, 20 + len, TCPE_WIRE_RX_TCP_CSUM_OK, pkt, st);
    free(copy);
    return ret;
}

/*
 * SACK options (RFC 2018 3) from a hostile or broken peer: blocks are reported raw, whatever
 * their edges say (the engine judges them); a second SACK option is skipped; a SACK option whose
 * length is no whole number of blocks is skipped like an unknown option; one that overruns the
 * header drops the segment.
 */
static void test_sack_option_values(void **state)
{
    (void)state;
    struct tcpe_wire_stats st = {0};
    struct tcpe_wire_pkt pkt;
    /* Four blocks, the most that fit, with edges reversed, empty and at the top of the space. */
    static const uint8_t four[36] = {1,    1,    5,    34,   0,    0, 0,    9,
                                     0,    0,    0,    1,                      /* 9..1: reversed */
                                     0,    0,    0x10, 0,    0,    0, 0x10, 0, /* empty */
                                     0xff, 0xff, 0xff, 0xff, 0,    0, 0,    4, /* across 2^32 */
                                     0x80, 0,    0,    0,    0x80, 0, 0,    1};
    assert_int_equal(parse_options(four, sizeof four, &pkt, &st), TCPE_WIRE_KIND_TCP);
    assert_int_equal(pkt.seg.opts, TCPE_OPT_SACK);
    assert_int_equal(pkt.seg.nsack, 4);
    assert_int_equal(pkt.seg.sack[0].start, 9);
    assert_int_equal(pkt.seg.sack[0].end, 1);
    assert_int_equal(pkt.seg.sack[1].start, 0x1000);
    assert_int_equal(pkt.seg.sack[1].end, 0x1000);
    assert_int_equal(pkt.seg.sack[2].start, 0xffffffffu);
    assert_int_equal(pkt.seg.sack[2].end, 4);
    assert_int_equal(pkt.seg.sack[3].start, 0x80000000u);
    assert_int_equal(pkt.seg.sack[3].end, 0x80000001u);
    /* Two SACK options: the first counts. */
    static const uint8_t two[24] = {5, 10, 0, 0, 0, 1, 0, 0, 0, 2, 5, 10,
                                    0, 0,  0, 3, 0, 0, 0, 4, 1, 1, 1, 1};
    assert_int_equal(parse_options(two, sizeof two, &pkt, &st), TCPE_WIRE_KIND_TCP);
    assert_int_equal(pkt.seg.nsack, 1);
    assert_int_equal(pkt.seg.sack[0].start, 1);
    assert_int_equal(pkt.seg.sack[0].end, 2);
    /* Beside timestamps and a SACK-permitted on the same segment, every option is read. */
    static const uint8_t mixed[24] = {4, 2,  8, 10, 0, 0, 0, 7, 0, 0, 0, 8,
                                      5, 10, 0, 0,  0, 5, 0, 0, 0, 6, 0, 0};
    assert_int_equal(parse_options(mixed, sizeof mixed, &pkt, &st), TCPE_WIRE_KIND_TCP);
    assert_int_equal(pkt.seg.opts, TCPE_OPT_SACK_OK | TCPE_OPT_TS | TCPE_OPT_SACK);
    assert_int_equal(pkt.seg.ts_val, 7);
    assert_int_equal(pkt.seg.nsack, 1);
    assert_int_equal(pkt.seg.sack[0].start, 5);
    /* A length of 255 overruns the 40 option bytes. */
    static const uint8_t over[8] = {1, 1, 5, 255, 0, 0, 0, 1};
    assert_int_equal(parse_options(over, sizeof over, &pkt, &st), HO_EPROTO);
    assert_int_equal(pkt.drop, TCPE_WIRE_DROP_TCP_OPT_OVER);
}

static void test_option_cases(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        uint8_t len;
        uint8_t bytes[40];
        enum tcpe_wire_drop why;
        uint8_t opts;
    } cases[] = {
        {"empty list", 4, {0, 0, 0, 0}, TCPE_WIRE_DROP_NONE, 0},
        {"NOPs", 4, {1, 1, 1, 1}, TCPE_WIRE_DROP_NONE, 0},
        {"EOL then junk", 8, {2, 4, 1, 0, 0, 0xff, 0x00, 0x02}, TCPE_WIRE_DROP_NONE, TCPE_OPT_MSS},
        {"MSS fills the area", 4, {2, 4, 0x05, 0xb4}, TCPE_WIRE_DROP_NONE, TCPE_OPT_MSS},
        {"unknown kind skipped",
         8,
         {0xfe, 4, 0xaa, 0xbb, 3, 3, 14, 0},
         TCPE_WIRE_DROP_NONE,
         TCPE_OPT_WSCALE},
        {"SACK, one block",
         12,
         {1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2},
         TCPE_WIRE_DROP_NONE,
         TCPE_OPT_SACK},
        {"SACK of no block ignored", 4, {1, 1, 5, 2}, TCPE_WIRE_DROP_NONE, 0},
        {"SACK with half a block ignored", 8, {5, 6, 0, 0, 0, 1, 1, 1}, TCPE_WIRE_DROP_NONE, 0},
        {"SACK with a block and a half ignored",
         16,
         {5, 14, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 1, 1},
         TCPE_WIRE_DROP_NONE,
         0},
        {"SACK block past the end", 8, {1, 1, 5, 10, 0, 0, 0, 1}, TCPE_WIRE_DROP_TCP_OPT_OVER, 0},
        {"MSS with length 3 ignored", 4, {2, 3, 9, 0}, TCPE_WIRE_DROP_NONE, 0},
        {"TS with length 8 ignored", 8, {8, 8, 1, 2, 3, 4, 5, 6}, TCPE_WIRE_DROP_NONE, 0},
        {"SACK-permitted with length 3 ignored", 4, {4, 3, 0, 1}, TCPE_WIRE_DROP_NONE, 0},
        {"unknown kind of length 2", 4, {0x1c, 2, 4, 2}, TCPE_WIRE_DROP_NONE, TCPE_OPT_SACK_OK},
        {"length 0", 4, {2, 0, 0, 0}, TCPE_WIRE_DROP_TCP_OPT_LEN, 0},
        {"length 1", 4, {1, 1, 0x99, 1}, TCPE_WIRE_DROP_TCP_OPT_LEN, 0},
        {"length 0 of unknown kind",
         8,
         {2, 4, 5, 0xb4, 0x20, 0, 1, 1},
         TCPE_WIRE_DROP_TCP_OPT_LEN,
         0},
        {"kind in the last byte", 4, {1, 1, 1, 2}, TCPE_WIRE_DROP_TCP_OPT_OVER, 0},
        {"unknown kind in the last byte", 4, {1, 1, 1, 0x77}, TCPE_WIRE_DROP_TCP_OPT_OVER, 0},
        {"MSS past the end", 4, {1, 2, 4, 5}, TCPE_WIRE_DROP_TCP_OPT_OVER, 0},
        {"TS past the end", 8, {1, 1, 8, 10, 0, 0, 0, 1}, TCPE_WIRE_DROP_TCP_OPT_OVER, 0},
        {"length 255", 4, {0x22, 255, 0, 0}, TCPE_WIRE_DROP_TCP_OPT_OVER, 0},
        {"one byte too long", 4, {0x22, 5, 0, 0}, TCPE_WIRE_DROP_TCP_OPT_OVER, 0},
    };
    struct tcpe_wire_stats st = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tcpe_wire_pkt pkt;
        int ret = parse_options(cases[i].bytes, cases[i].len, &pkt, &st);
        if (pkt.drop != cases[i].why) {
            fail_msg("%s: got %s, want %s", cases[i].what, tcpe_wire_drop_name(pkt.drop),
                     tcpe_wire_drop_name(cases[i].why));
        }
        if (cases[i].why == TCPE_WIRE_DROP_NONE) {
            assert_int_equal(ret, TCPE_WIRE_KIND_TCP);
            assert_int_equal(pkt.seg.opts, cases[i].opts);
        } else {
            assert_int_equal(ret, HO_EPROTO);
        }
    }
    /* The values of the options that were kept. */
    struct tcpe_wire_pkt pkt;
    assert_int_equal(parse_options(cases[4].bytes, 8, &pkt, &st), TCPE_WIRE_KIND_TCP);
    assert_int_equal(pkt.seg.wscale, 14);
    assert_int_equal(parse_options(cases[3].bytes, 4, &pkt, &st), TCPE_WIRE_KIND_TCP);
    assert_int_equal(pkt.seg.mss, 1460);
    assert_int_equal(st.drops[TCPE_WIRE_DROP_TCP_OPT_LEN], 3);
    assert_int_equal(st.drops[TCPE_WIRE_DROP_TCP_OPT_OVER], 7);
    assert_int_equal(st.rx_tcp, 15);
}

/*
 * Reliability case 3 exhaustively: in every option area size, an option of every kind class
 * (EOL/NOP aside) at every position, with every length byte from 0 to 255. NOPs fill the bytes
 * before it; the bytes after it are NOPs too. The expected outcome follows from RFC 9293 3.1
 * alone: a kind in the last byte has no length; a length under 2 is illegal; one that runs past
 * the area overruns; anything else is a well-formed option.
 */
static void test_every_option_layout(void **state)
{
    (void)state;
    static const uint8_t kinds[] = {2, 3, 4, 5, 8, 30, 254};
    struct tcpe_wire_stats st = {0};
    uint64_t parses = 0;
    for (size_t area = 4; area <= 40; area += 4) {
        for (size_t pos = 0; pos < area; pos++) {
            for (size_t ki = 0; ki < sizeof kinds; ki++) {
                for (unsigned olen = 0; olen < 256; olen++) {
                    uint8_t opt[40];
                    memset(opt, TCPE_WIRE_OPT_NOP, sizeof opt);
                    opt[pos] = kinds[ki];
                    if (pos + 1 < area) {
                        opt[pos + 1] = (uint8_t)olen;
                    } else if (olen > 0) {
                        break; /* no length byte: one case is enough */
                    }
                    enum tcpe_wire_drop want = pos + 1 >= area     ? TCPE_WIRE_DROP_TCP_OPT_OVER
                                               : olen < 2          ? TCPE_WIRE_DROP_TCP_OPT_LEN
                                               : pos + olen > area ? TCPE_WIRE_DROP_TCP_OPT_OVER
                                                                   : TCPE_WIRE_DROP_NONE;
                    struct tcpe_wire_pkt pkt;
                    int ret = parse_options(opt, area, &pkt, &st);
                    parses++;
                    if (pkt.drop != want) {
                        fail_msg("area %zu pos %zu kind %u len %u: got %s, want %s", area, pos,
                                 kinds[ki], olen, tcpe_wire_drop_name(pkt.drop),
                                 tcpe_wire_drop_name(want));
                    }
                    assert_int_equal(ret,
                                     want == TCPE_WIRE_DROP_NONE ? TCPE_WIRE_KIND_TCP : HO_EPROTO);
                }
            }
        }
    }
    assert_int_equal(parses, 210 * 7 * 256 + 10 * 7); /* every combination was tried */
    assert_int_equal(st.rx_tcp + tcpe_wire_drops_total(&st), parses);
    assert_true(st.drops[TCPE_WIRE_DROP_TCP_OPT_LEN] > 0);
    assert_true(st.drops[TCPE_WIRE_DROP_TCP_OPT_OVER] > 0);
    assert_true(st.rx_tcp > 0);
}

static void test_ethernet_padding_trimmed(void **state)
{
    (void)state;
    uint8_t buf[128];
    for (uint32_t plen = 0; plen < 6; plen++) {
        /* A bare ACK is 54 bytes; a NIC pads it to 60 with whatever it likes. */
        size_t n = build_frame(buf, sizeof buf, 0, plen);
        assert_true(n < 60);
        memset(buf + n, 0xa5, 60 - n);
        struct tcpe_seg seg;
        expect_tcp(buf, 60, 0, &seg);
        assert_int_equal(seg.len, plen);
        /* Padding that is not a whole 60-byte frame's worth is trimmed just the same. */
        expect_tcp(buf, n + 1, 0, &seg);
        assert_int_equal(seg.len, plen);
    }
    /* The payload pointer ends at the IP total length, not at the frame's end. */
    size_t n = build_frame(buf, sizeof buf, TCPE_OPT_TS, 3);
    memset(buf + n, 0xa5, 20);
    struct tcpe_wire_pkt pkt;
    assert_int_equal(tcpe_wire_eth_parse(buf, n + 20, 0, &pkt, NULL), TCPE_WIRE_KIND_TCP);
    assert_int_equal(pkt.ip.total_len, n - ETH);
    assert_ptr_equal(pkt.seg.data + pkt.seg.len, buf + n);
}

static void test_fragments_dropped(void **state)
{
    (void)state;
    uint8_t buf[128];
    size_t n = build_frame(buf, sizeof buf, 0, 16);
    static const uint16_t frag[] = {0x2000, 0x0001, 0x2001, 0x1fff, 0x6000, 0x3fff, 0x00b9};
    for (size_t i = 0; i < sizeof frag / sizeof frag[0]; i++) {
        uint8_t f[128];
        memcpy(f, buf, n);
        ref_put16(f + ETH + 6, frag[i]);
        ref_fix_ip(f + ETH);
        expect_drop(f, n, 0, TCPE_WIRE_DROP_IP_FRAGMENT);
    }
    /* DF alone, nothing, or the reserved bit: a whole datagram. */
    static const uint16_t whole[] = {0x4000, 0x0000, 0x8000};
    for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++) {
        uint8_t f[128];
        memcpy(f, buf, n);
        ref_put16(f + ETH + 6, whole[i]);
        ref_fix_ip(f + ETH);
        expect_tcp(f, n, 0, NULL);
    }
}

static void test_ip_header_checks(void **state)
{
    (void)state;
    uint8_t buf[128];
    size_t n = build_frame(buf, sizeof buf, TCPE_OPT_MSS, 5);
    uint8_t f[128];

    for (unsigned v = 0; v < 16; v++) {
        if (v == 4) {
            continue;
        }
        memcpy(f, buf, n);
        f[ETH] = (uint8_t)((v << 4) | 5);
        ref_fix_ip(f + ETH);
        expect_drop(f, n, 0, TCPE_WIRE_DROP_IP_VERSION);
    }
    for (unsigned ihl = 0; ihl < 5; ihl++) {
        memcpy(f, buf, n);
        f[ETH] = (uint8_t)(0x40 | ihl);
        expect_drop(f, n, TCPE_WIRE_RX_CSUM_OK, TCPE_WIRE_DROP_IP_IHL);
    }
    /* An IHL that runs past a short frame. */
    memcpy(f, buf, n);
    f[ETH] = 0x4f; /* 60-byte header */
    expect_drop(f, ETH + 59, TCPE_WIRE_RX_CSUM_OK, TCPE_WIRE_DROP_IP_RUNT);
    /* Bad header checksum, in every bit of the header: caught, unless the NIC checked it. */
    for (size_t bit = 0; bit < 160; bit++) {
        memcpy(f, buf, n);
        f[ETH + bit / 8] ^= (uint8_t)(1u << (bit % 8));
        size_t byte = bit / 8;
        if (byte == 0 || byte == 2 || byte == 3 || byte == 6 || byte == 7 || byte == 9) {
            continue; /* version/IHL, total length, fragment, protocol: other checks first */
        }
        expect_drop(f, n, 0, TCPE_WIRE_DROP_IP_CSUM);
        if (byte == 1 || byte == 4 || byte == 5 || byte == 8 || byte == 10 || byte == 11) {
            expect_tcp(f, n, TCPE_WIRE_RX_IP_CSUM_OK, NULL); /* tos, id, ttl, checksum */
        }
    }
    /* Not TCP. */
    static const uint8_t protos[] = {1, 17, 41, 0, 255};
    for (size_t i = 0; i < sizeof protos; i++) {
        memcpy(f, buf, n);
        f[ETH + 9] = protos[i];
        ref_fix_ip(f + ETH);
        expect_drop(f, n, 0, TCPE_WIRE_DROP_IP_PROTO);
    }
}

static void test_ip_options_skipped(void **state)
{
    (void)state;
    uint8_t buf[160];
    size_t n = build_frame(buf, sizeof buf, TCPE_OPT_MSS | TCPE_OPT_TS, 9);
    for (size_t extra = 4; extra <= 40; extra += 4) {
        /* Insert `extra` bytes of IP options (NOPs, EOL) after the 20-byte IPv4 header. */
        uint8_t f[160];
        memcpy(f, buf, ETH + 20);
        memset(f + ETH + 20, 1, extra);
        f[ETH + 20 + extra - 1] = 0;
        memcpy(f + ETH + 20 + extra, buf + ETH + 20, n - ETH - 20);
        f[ETH] = (uint8_t)(0x40 | ((20 + extra) / 4));
        ref_put16(f + ETH + 2, (uint16_t)(n - ETH + extra));
        ref_fix_ip(f + ETH);
        assert_int_equal(ref_get16(f + ETH + 20 + extra + 16), ref_tcp_csum(f + ETH));
        struct tcpe_seg seg;
        expect_tcp(f, n + extra, 0, &seg);
        assert_int_equal(seg.len, 9);
        assert_int_equal(seg.mss, 1460);
        assert_int_equal(seg.opts, TCPE_OPT_MSS | TCPE_OPT_TS);
        assert_int_equal(seg.src_port, 40000);
    }
}

static void test_tcp_checksum_catches_every_bit(void **state)
{
    (void)state;
    uint8_t buf[128];
    size_t n = build_frame(buf, sizeof buf, 0x0f, 13);
    /* One's-complement sums detect every single-bit error: flip each bit of the segment. */
    for (size_t bit = 0; bit < (n - ETH - 20) * 8; bit++) {
        uint8_t f[128];
        memcpy(f, buf, n);
        size_t byte = ETH + 20 + bit / 8;
        f[byte] ^= (uint8_t)(1u << (bit % 8));
        if (byte == ETH + 20 + 12 && (bit % 8) >= 4) {
            continue; /* the data offset: checked before the checksum */
        }
        expect_drop(f, n, 0, TCPE_WIRE_DROP_TCP_CSUM);
    }
    /* And the pseudo-header's addresses are covered too. */
    uint8_t f[128];
    memcpy(f, buf, n);
    f[ETH + 15] ^= 0x10;
    ref_fix_ip(f + ETH);
    expect_drop(f, n, 0, TCPE_WIRE_DROP_TCP_CSUM);
}

static void test_unknown_ethertypes(void **state)
{
    (void)state;
    uint8_t buf[128];
    size_t n = build_frame(buf, sizeof buf, 0, 0);
    static const uint16_t types[] = {0x86dd, 0x8100, 0x88a8, 0x0000, 0x05dc, 0x0801, 0xffff};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        ref_put16(buf + 12, types[i]);
        expect_drop(buf, n, 0, TCPE_WIRE_DROP_ETH_TYPE);
        expect_drop(buf, 14, 0, TCPE_WIRE_DROP_ETH_TYPE);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncated_at_every_length),
        cmocka_unit_test(test_ip_total_length_shorter_than_tcp_header),
        cmocka_unit_test(test_data_offset),
        cmocka_unit_test(test_option_cases),
        cmocka_unit_test(test_sack_option_values),
        cmocka_unit_test(test_every_option_layout),
        cmocka_unit_test(test_ethernet_padding_trimmed),
        cmocka_unit_test(test_fragments_dropped),
        cmocka_unit_test(test_ip_header_checks),
        cmocka_unit_test(test_ip_options_skipped),
        cmocka_unit_test(test_tcp_checksum_catches_every_bit),
        cmocka_unit_test(test_unknown_ethertypes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
