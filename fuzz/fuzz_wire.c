/*
 * fuzz_wire.c - libFuzzer entry point for the packet codec's parsers.
 *
 * Build and run (from the repository root):
 *   clang -fsanitize=fuzzer,address,undefined -Iinclude fuzz/fuzz_wire.c src/tcpe/wire*.c \
 *       src/util/?*.c -o fuzz_wire
 *   ./fuzz_wire -max_total_time=120 fuzz/corpus/wire
 * (src/util/?*.c is every .c file of src/util.) The seed corpus is written by
 * gen_corpus_wire.c.
 *
 * Each input is parsed as an Ethernet frame (once with checksums verified, once as if the NIC
 * had verified them, so that mutations are not all stopped by the checksum), as a bare IPv4
 * datagram and as a bare TCP segment. Beyond the sanitizers' checks, every outcome must be
 * consistent: a drop names a reason and returns that reason's code; a delivered segment's
 * payload lies inside the input, and building the segment again and parsing the result gives
 * back the same segment (of its SACK blocks, the first ones: the builder's layout, with NOPs,
 * may leave room for fewer than a packed input held). Any violation aborts, which libFuzzer
 * reports as a crash.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/tcpe_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_wire: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);    \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* b, built from a and parsed again, holds the first of a's SACK blocks, at least one. */
static int same_sack(const struct tcpe_seg *a, const struct tcpe_seg *b)
{
    if (!(a->opts & TCPE_OPT_SACK)) {
        return !(b->opts & TCPE_OPT_SACK) && b->nsack == 0;
    }
    if (a->nsack < 1 || a->nsack > TCPE_SACK_MAX || b->nsack < 1 || b->nsack > a->nsack) {
        return 0;
    }
    return memcmp(a->sack, b->sack, b->nsack * sizeof a->sack[0]) == 0;
}

static int same_seg(const struct tcpe_seg *a, const struct tcpe_seg *b)
{
    return a->src_ip == b->src_ip && a->dst_ip == b->dst_ip && a->src_port == b->src_port &&
           a->dst_port == b->dst_port && a->seq == b->seq && a->ack == b->ack &&
           a->flags == b->flags && a->wnd == b->wnd && a->urp == b->urp && a->opts == b->opts &&
           same_sack(a, b) && a->mss == b->mss && a->wscale == b->wscale &&
           a->ts_val == b->ts_val && a->ts_ecr == b->ts_ecr && a->len == b->len &&
           (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static void check(int ret, const struct tcpe_wire_pkt *pkt, const uint8_t *buf, size_t len)
{
    if (ret < 0) {
        CHECK(pkt->drop > TCPE_WIRE_DROP_NONE && pkt->drop < TCPE_WIRE_DROP_COUNT);
        CHECK(ret == tcpe_wire_drop_code(pkt->drop));
        return;
    }
    CHECK(pkt->drop == TCPE_WIRE_DROP_NONE);
    CHECK(ret == TCPE_WIRE_KIND_TCP || ret == TCPE_WIRE_KIND_ARP);
    if (ret == TCPE_WIRE_KIND_ARP) {
        CHECK(pkt->arp.op == TCPE_WIRE_ARP_REQUEST || pkt->arp.op == TCPE_WIRE_ARP_REPLY);
        return;
    }
    const struct tcpe_seg *seg = &pkt->seg;
    CHECK(seg->data != NULL && seg->data >= buf && seg->data <= buf + len);
    CHECK(seg->len <= (size_t)(buf + len - seg->data));

    struct tcpe_wire_tx tx;
    tcpe_wire_tx_init(&tx, 1);
    size_t cap = TCPE_WIRE_BUILD_MAX_HDRS + seg->len;
    uint8_t *out = malloc(cap);
    CHECK(out != NULL);
    int n = tcpe_wire_ipv4_build(&tx, seg, out, cap);
    CHECK(n > 0 && (size_t)n <= cap);
    struct tcpe_wire_pkt again;
    CHECK(tcpe_wire_ipv4_parse(out, (size_t)n, 0, &again, NULL) == TCPE_WIRE_KIND_TCP);
    CHECK(same_seg(seg, &again.seg));
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tcpe_wire_stats st = {0};
    struct tcpe_wire_pkt pkt;
    check(tcpe_wire_eth_parse(data, size, 0, &pkt, &st), &pkt, data, size);
    check(tcpe_wire_eth_parse(data, size, TCPE_WIRE_RX_CSUM_OK, &pkt, &st), &pkt, data, size);
    check(tcpe_wire_ipv4_parse(data, size, TCPE_WIRE_RX_CSUM_OK, &pkt, &st), &pkt, data, size);
    check(tcpe_wire_tcp_parse(0x0a000001, 0x0a000002, data, size, TCPE_WIRE_RX_CSUM_OK, &pkt, &st),
          &pkt, data, size);
    CHECK(st.rx_tcp + st.rx_arp + tcpe_wire_drops_total(&st) == 4);
    return 0;
}
