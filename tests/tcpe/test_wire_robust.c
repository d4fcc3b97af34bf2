/*
 * test_wire_robust.c - the packet codec against random damage, as lwIP's fuzz harness does it
 * but reproducibly: a few hundred thousand frames, some pure noise and most valid frames with
 * bits flipped, bytes overwritten, lengths changed, cut short or extended, each parsed from an
 * exact-size heap copy under AddressSanitizer with and without hardware-verified checksums.
 *
 * Whatever comes in, a parse must return cleanly and stay consistent: a drop carries its reason
 * and that reason's code and is counted once; a delivered segment's payload lies inside the
 * frame, and building it again and parsing the result gives the same segment.
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

enum {
    NOISE_FRAMES = 100000,
    MUTATED_FRAMES = 300000,
    POOL = 256,
    MAX_FRAME = TCPE_WIRE_BUILD_MAX_HDRS + POOL + 64,
};

struct fuzz {
    struct ho_rng rng;
    uint8_t pool[POOL];
    struct tcpe_wire_stats st;
    uint64_t parses;
    uint64_t delivered; /* TCP segments that survived their damage */
};

static void assert_same_seg(const struct tcpe_seg *a, const struct tcpe_seg *b)
{
    assert_int_equal(a->src_ip, b->src_ip);
    assert_int_equal(a->dst_ip, b->dst_ip);
    assert_int_equal(a->src_port, b->src_port);
    assert_int_equal(a->dst_port, b->dst_port);
    assert_int_equal(a->seq, b->seq);
    assert_int_equal(a->ack, b->ack);
    assert_int_equal(a->flags, b->flags);
    assert_int_equal(a->wnd, b->wnd);
    assert_int_equal(a->urp, b->urp);
    assert_int_equal(a->opts, b->opts);
    assert_int_equal(a->mss, b->mss);
    assert_int_equal(a->wscale, b->wscale);
    assert_int_equal(a->ts_val, b->ts_val);
    assert_int_equal(a->ts_ecr, b->ts_ecr);
    assert_int_equal(a->len, b->len);
    assert_memory_equal(a->data, b->data, a->len);
}

/* Checks what a parse of buf[0..len) returned; rebuilds and reparses delivered segments. */
static void check_outcome(struct fuzz *fz, int ret, const struct tcpe_wire_pkt *pkt,
                          const uint8_t *buf, size_t len)
{
    fz->parses++;
    if (ret < 0) {
        assert_true(pkt->drop > TCPE_WIRE_DROP_NONE && pkt->drop < TCPE_WIRE_DROP_COUNT);
        assert_int_equal(ret, tcpe_wire_drop_code(pkt->drop));
        return;
    }
    assert_int_equal(pkt->drop, TCPE_WIRE_DROP_NONE);
    if (ret == TCPE_WIRE_KIND_ARP) {
        return;
    }
    assert_int_equal(ret, TCPE_WIRE_KIND_TCP);
    fz->delivered++;
    const struct tcpe_seg *seg = &pkt->seg;
    assert_non_null(seg->data);
    assert_true(seg->data >= buf && seg->data <= buf + len);
    assert_true(seg->len <= (size_t)(buf + len - seg->data));

    struct tcpe_wire_tx tx;
    tcpe_wire_tx_init(&tx, 1);
    uint8_t out[MAX_FRAME];
    int n = tcpe_wire_ipv4_build(&tx, seg, out, sizeof out);
    assert_true(n > 0);
    uint8_t *copy = ref_dup(out, (size_t)n);
    struct tcpe_wire_pkt again;
    assert_int_equal(tcpe_wire_ipv4_parse(copy, (size_t)n, 0, &again, NULL), TCPE_WIRE_KIND_TCP);
    assert_same_seg(seg, &again.seg);
    free(copy);
}

/* Parses frame[0..len) as Ethernet, as IPv4 and as TCP, with and without checksums. */
static void parse_all_ways(struct fuzz *fz, const uint8_t *frame, size_t len)
{
    uint8_t *copy = ref_dup(frame, len);
    static const unsigned flag_sets[2] = {0, TCPE_WIRE_RX_CSUM_OK};
    for (int i = 0; i < 2; i++) {
        struct tcpe_wire_pkt pkt;
        int ret = tcpe_wire_eth_parse(copy, len, flag_sets[i], &pkt, &fz->st);
        check_outcome(fz, ret, &pkt, copy, len);
    }
    free(copy);
    if (len > TCPE_WIRE_ETH_HLEN) {
        /* The same bytes behind the Ethernet header as a bare datagram and a bare segment. */
        size_t ip_len = len - TCPE_WIRE_ETH_HLEN;
        copy = ref_dup(frame + TCPE_WIRE_ETH_HLEN, ip_len);
        struct tcpe_wire_pkt pkt;
        int ret = tcpe_wire_ipv4_parse(copy, ip_len, TCPE_WIRE_RX_CSUM_OK, &pkt, &fz->st);
        check_outcome(fz, ret, &pkt, copy, ip_len);
        free(copy);
        if (ip_len > 20) {
            copy = ref_dup(frame + 34, ip_len - 20);
            ret = tcpe_wire_tcp_parse(1, 2, copy, ip_len - 20, TCPE_WIRE_RX_CSUM_OK, &pkt, &fz->st);
            check_outcome(fz, ret, &pkt, copy, ip_len - 20);
            free(copy);
        }
    }
}

/* A valid frame to damage: usually a TCP segment, sometimes ARP. Returns its length. */
static size_t valid_frame(struct fuzz *fz, uint8_t *buf)
{
    struct tcpe_wire_eth eth = {{2, 0, 0, 0, 0, 2}, {2, 0, 0, 0, 0, 1}, 0};
    if (ho_rng_below(&fz->rng, 10) == 0) {
        return (size_t)tcpe_wire_arp_build_request(eth.src, 0x0a000001, 0x0a000002, buf, MAX_FRAME);
    }
    struct tcpe_seg seg =
        ref_random_seg(&fz->rng, fz->pool, ho_rng_below(&fz->rng, 4) == 0 ? POOL : 24);
    struct tcpe_wire_tx tx;
    tcpe_wire_tx_init(&tx, (uint16_t)ho_rng_next(&fz->rng));
    int n = tcpe_wire_eth_build(&tx, &eth, &seg, buf, MAX_FRAME);
    assert_true(n > 0);
    return (size_t)n;
}

/* Damages buf[0..*len) (capacity MAX_FRAME) in one random way. */
static void mutate(struct fuzz *fz, uint8_t *buf, size_t *len)
{
    static const uint8_t interesting[] = {0x00, 0x01, 0x02, 0x04, 0x05, 0x0f, 0x10,
                                          0x45, 0x7f, 0x80, 0xf0, 0xfe, 0xff};
    /* Bytes where a change matters most: IHL, total length, fragment, protocol, data offset,
     * and the start of the TCP options. */
    static const size_t hot[] = {14, 16, 17, 20, 21, 23, 46, 54, 55, 56, 57, 58, 59, 60, 61};
    struct ho_rng *r = &fz->rng;
    switch (ho_rng_below(r, 6)) {
    case 0: /* flip a bit */
        if (*len > 0) {
            size_t at = (size_t)ho_rng_below(r, *len);
            buf[at] ^= (uint8_t)(1u << ho_rng_below(r, 8));
        }
        break;
    case 1: /* an interesting value anywhere */
        if (*len > 0) {
            buf[ho_rng_below(r, *len)] = interesting[ho_rng_below(r, sizeof interesting)];
        }
        break;
    case 2: { /* any value in a hot spot */
        size_t at = hot[ho_rng_below(r, sizeof hot / sizeof hot[0])];
        if (at < *len) {
            buf[at] = (uint8_t)ho_rng_next(r);
        }
        break;
    }
    case 3: /* cut short */
        *len = (size_t)ho_rng_below(r, *len + 1);
        break;
    case 4: { /* extend with noise */
        size_t more = (size_t)ho_rng_below(r, 64);
        if (*len + more > MAX_FRAME) {
            more = MAX_FRAME - *len;
        }
        for (size_t i = 0; i < more; i++) {
            buf[*len + i] = (uint8_t)ho_rng_next(r);
        }
        *len += more;
        break;
    }
    default: /* a hot 16-bit field set to a value near a boundary */
        if (*len >= 18) {
            uint16_t v = (uint16_t)(ho_rng_below(r, 2) ? *len - 14 + ho_rng_below(r, 9) - 4
                                                       : ho_rng_next(r));
            ref_put16(buf + 16, v);
        }
        break;
    }
}

static void test_random_noise(void **state)
{
    (void)state;
    struct fuzz *fz = calloc(1, sizeof *fz);
    assert_non_null(fz);
    ho_rng_seed_named(&fz->rng, 7, "noise");
    uint8_t frame[MAX_FRAME];
    for (int i = 0; i < NOISE_FRAMES; i++) {
        size_t len = (size_t)ho_rng_below(&fz->rng, 160);
        for (size_t k = 0; k < len; k++) {
            frame[k] = (uint8_t)ho_rng_next(&fz->rng);
        }
        /* Half of them get far enough to exercise IPv4 and TCP. */
        if (len >= 15 && ho_rng_below(&fz->rng, 2)) {
            ref_put16(frame + 12, TCPE_WIRE_ETHERTYPE_IPV4);
            frame[14] = (uint8_t)(0x40 | (frame[14] & 0x0f));
        }
        parse_all_ways(fz, frame, len);
    }
    assert_int_equal(fz->st.rx_tcp + fz->st.rx_arp + tcpe_wire_drops_total(&fz->st), fz->parses);
    free(fz);
}

static void test_mutated_frames(void **state)
{
    (void)state;
    struct fuzz *fz = calloc(1, sizeof *fz);
    assert_non_null(fz);
    ho_rng_seed_named(&fz->rng, 8, "mutate");
    for (size_t i = 0; i < POOL; i++) {
        fz->pool[i] = (uint8_t)ho_rng_next(&fz->rng);
    }
    uint8_t frame[MAX_FRAME];
    for (int i = 0; i < MUTATED_FRAMES; i++) {
        size_t len = valid_frame(fz, frame);
        int rounds = 1 + (int)ho_rng_below(&fz->rng, 4);
        for (int k = 0; k < rounds; k++) {
            mutate(fz, frame, &len);
        }
        parse_all_ways(fz, frame, len);
    }
    assert_int_equal(fz->st.rx_tcp + fz->st.rx_arp + tcpe_wire_drops_total(&fz->st), fz->parses);
    /* The damage reached every layer: drops at each level, and survivors. */
    static const enum tcpe_wire_drop must_see[] = {
        TCPE_WIRE_DROP_ETH_RUNT,    TCPE_WIRE_DROP_ETH_TYPE,     TCPE_WIRE_DROP_IP_RUNT,
        TCPE_WIRE_DROP_IP_VERSION,  TCPE_WIRE_DROP_IP_IHL,       TCPE_WIRE_DROP_IP_TOTLEN,
        TCPE_WIRE_DROP_IP_CSUM,     TCPE_WIRE_DROP_IP_FRAGMENT,  TCPE_WIRE_DROP_IP_PROTO,
        TCPE_WIRE_DROP_TCP_RUNT,    TCPE_WIRE_DROP_TCP_DOFF,     TCPE_WIRE_DROP_TCP_CSUM,
        TCPE_WIRE_DROP_TCP_OPT_LEN, TCPE_WIRE_DROP_TCP_OPT_OVER, TCPE_WIRE_DROP_ARP_RUNT,
    };
    for (size_t i = 0; i < sizeof must_see / sizeof must_see[0]; i++) {
        if (fz->st.drops[must_see[i]] == 0) {
            fail_msg("no frame was dropped for %s", tcpe_wire_drop_name(must_see[i]));
        }
    }
    assert_true(fz->delivered > 1000);
    print_message("%llu parses of %d damaged frames, %llu segments delivered\n",
                  (unsigned long long)fz->parses, MUTATED_FRAMES,
                  (unsigned long long)fz->delivered);
    for (int i = 1; i < TCPE_WIRE_DROP_COUNT; i++) {
        print_message("  %-16s %llu\n", tcpe_wire_drop_name((enum tcpe_wire_drop)i),
                      (unsigned long long)fz->st.drops[i]);
    }
    free(fz);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_noise),
        cmocka_unit_test(test_mutated_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
