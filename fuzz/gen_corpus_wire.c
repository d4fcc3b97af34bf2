/*
 * gen_corpus_wire.c - writes the seed corpus of fuzz_wire.c: a handful of valid frames, one
 * file each, built with the codec's own builders (checksums correct).
 *
 *   cc -Iinclude fuzz/gen_corpus_wire.c src/tcpe/wire*.c src/util/?*.c -o gen_corpus_wire
 *   ./gen_corpus_wire fuzz/corpus/wire
 *
 * (src/util/?*.c is every .c file of src/util.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/tcpe_wire.h"

static int write_file(const char *dir, const char *name, const uint8_t *buf, int len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || len < 0 || fwrite(buf, 1, (size_t)len, f) != (size_t)len) {
        fprintf(stderr, "gen_corpus_wire: cannot write %s\n", path);
        if (f) {
            fclose(f);
        }
        return 1;
    }
    return fclose(f) != 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_corpus_wire DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    static const uint8_t mac_c[6] = {0x02, 0, 0, 0, 0, 0x01};
    static const uint8_t mac_s[6] = {0x02, 0, 0, 0, 0, 0x02};
    static const uint8_t request[] = "GET /index.html HTTP/1.1\r\nHost: s\r\n\r\n";
    struct tcpe_wire_eth eth;
    memcpy(eth.src, mac_c, 6);
    memcpy(eth.dst, mac_s, 6);
    struct tcpe_wire_tx tx;
    tcpe_wire_tx_init(&tx, 0x1000);
    uint8_t buf[256];
    int err = 0;

    struct tcpe_seg syn = {.src_ip = 0x0a000001,
                           .dst_ip = 0x0a000002,
                           .src_port = 40000,
                           .dst_port = 80,
                           .seq = 0xfffffff0u,
                           .flags = TCPE_SYN,
                           .wnd = 64240,
                           .opts = TCPE_OPT_MSS | TCPE_OPT_WSCALE | TCPE_OPT_SACK_OK | TCPE_OPT_TS,
                           .mss = 1460,
                           .wscale = 7,
                           .ts_val = 1000};
    err |= write_file(dir, "syn", buf, tcpe_wire_eth_build(&tx, &eth, &syn, buf, sizeof buf));

    struct tcpe_seg synack = {.src_ip = 0x0a000002,
                              .dst_ip = 0x0a000001,
                              .src_port = 80,
                              .dst_port = 40000,
                              .seq = 77,
                              .ack = 0xfffffff1u,
                              .flags = TCPE_SYN | TCPE_ACK,
                              .wnd = 65535,
                              .opts = TCPE_OPT_MSS | TCPE_OPT_WSCALE,
                              .mss = 1460,
                              .wscale = 9};
    err |= write_file(dir, "synack", buf, tcpe_wire_eth_build(&tx, &eth, &synack, buf, sizeof buf));

    struct tcpe_seg data = {.src_ip = 0x0a000001,
                            .dst_ip = 0x0a000002,
                            .src_port = 40000,
                            .dst_port = 80,
                            .seq = 0xfffffff1u,
                            .ack = 78,
                            .flags = TCPE_ACK | TCPE_PSH,
                            .wnd = 502,
                            .opts = TCPE_OPT_TS,
                            .ts_val = 1001,
                            .ts_ecr = 5000,
                            .len = sizeof request - 1,
                            .data = request};
    err |= write_file(dir, "data", buf, tcpe_wire_eth_build(&tx, &eth, &data, buf, sizeof buf));

    /* An ACK reporting a D-SACK block and two SACK blocks beside timestamps (RFC 2018, 2883). */
    struct tcpe_seg sack = {.src_ip = 0x0a000002,
                            .dst_ip = 0x0a000001,
                            .src_port = 80,
                            .dst_port = 40000,
                            .seq = 78,
                            .ack = 0xfffffff1u,
                            .flags = TCPE_ACK,
                            .wnd = 65535,
                            .opts = TCPE_OPT_TS | TCPE_OPT_SACK,
                            .ts_val = 5001,
                            .ts_ecr = 1001,
                            .nsack = 3,
                            .sack = {{0xffffff00u, 0xfffffff1u},
                                     {0xfffffff9u, 0x00000400u},
                                     {0x00000800u, 0x00000c00u}}};
    err |= write_file(dir, "sack", buf, tcpe_wire_eth_build(&tx, &eth, &sack, buf, sizeof buf));

    struct tcpe_seg fin = {.src_ip = 0x0a000001,
                           .dst_ip = 0x0a000002,
                           .src_port = 40000,
                           .dst_port = 80,
                           .seq = 0x24,
                           .ack = 9000,
                           .flags = TCPE_FIN | TCPE_ACK,
                           .wnd = 502};
    int n = tcpe_wire_eth_build(&tx, &eth, &fin, buf, sizeof buf);
    memset(buf + n, 0, 60 - (size_t)n); /* padded to Ethernet's minimum, as received */
    err |= write_file(dir, "fin_padded", buf, 60);

    struct tcpe_seg rst = {.src_ip = 0x0a000002,
                           .dst_ip = 0x0a000001,
                           .src_port = 80,
                           .dst_port = 40001,
                           .seq = 0,
                           .ack = 1234,
                           .flags = TCPE_RST | TCPE_ACK};
    err |= write_file(dir, "rst", buf, tcpe_wire_eth_build(&tx, &eth, &rst, buf, sizeof buf));

    err |= write_file(dir, "arp_request", buf,
                      tcpe_wire_arp_build_request(mac_c, 0x0a000001, 0x0a000002, buf, sizeof buf));
    struct tcpe_wire_arp req = {.op = TCPE_WIRE_ARP_REQUEST, .spa = 0x0a000001, .tpa = 0x0a000002};
    memcpy(req.sha, mac_c, 6);
    err |= write_file(dir, "arp_reply", buf,
                      tcpe_wire_arp_build_reply(&req, mac_s, 0x0a000002, buf, sizeof buf));
    return err ? 1 : 0;
}
