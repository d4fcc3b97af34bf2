/*
 * test_pcap.c - the pcap writer of the simulated wire: a short TCP conversation with virtual and
 * real payload is written, read back with libpcap and checked frame by frame (count, nanosecond
 * timestamps up to the largest a record holds, lengths, every header field, zero-filled
 * payload), with the checksums verified both by the codec's parser and by an independent
 * RFC 1071 sum written here; snap lengths cut frames but keep their true length; the same input
 * gives the same bytes; bad arguments, unwritable paths, oversized segments and a full disk are
 * refused with the file named.
 */
#define _DEFAULT_SOURCE /* libpcap's headers use u_char and u_int (see src/sim/sim_pcap.c) */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <pcap/pcap.h>

#include "handoff/err.h"
#include "handoff/sim_pcap.h"
#include "handoff/tcpe_seg.h"
#include "handoff/tcpe_wire.h"

#define CLIENT_IP   0x0a000002u /* 10.0.0.2 */
#define SERVER_IP   0x0a000001u /* 10.0.0.1 */
#define CLIENT_PORT 40000
#define SERVER_PORT 80

static const struct tcpe_wire_eth to_server = {.dst = {0x02, 0, 0, 0, 0, 0x01},
                                               .src = {0x02, 0, 0, 0, 0, 0x02}};
static const struct tcpe_wire_eth to_client = {.dst = {0x02, 0, 0, 0, 0, 0x02},
                                               .src = {0x02, 0, 0, 0, 0, 0x01}};

static const uint8_t request[] = "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";

/* One frame of the conversation: when, which way, what. */
struct frame {
    uint64_t t_ns;
    const struct tcpe_wire_eth *eth;
    struct tcpe_seg seg;
};

static struct tcpe_seg from_client(uint32_t seq, uint32_t ack, uint8_t flags, uint32_t len)
{
    struct tcpe_seg s = {.src_ip = CLIENT_IP,
                         .dst_ip = SERVER_IP,
                         .src_port = CLIENT_PORT,
                         .dst_port = SERVER_PORT,
                         .seq = seq,
                         .ack = ack,
                         .flags = flags,
                         .wnd = 502,
                         .opts = TCPE_OPT_TS,
                         .ts_val = seq ^ 0x5a5a,
                         .ts_ecr = ack,
                         .len = len};
    return s;
}

static struct tcpe_seg from_server(uint32_t seq, uint32_t ack, uint8_t flags, uint32_t len)
{
    struct tcpe_seg s = from_client(seq, ack, flags, len);
    s.src_ip = SERVER_IP;
    s.dst_ip = CLIENT_IP;
    s.src_port = SERVER_PORT;
    s.dst_port = CLIENT_PORT;
    s.wnd = 65535;
    return s;
}

/* A handshake, a real request, virtual response data (one odd length), a FIN and an ACK at the
 * last nanosecond a pcap record can hold. */
static size_t conversation(struct frame *f)
{
    size_t n = 0;
    f[n] = (struct frame){0, &to_server, from_client(1000, 0, TCPE_SYN, 0)};
    f[n].seg.opts = TCPE_OPT_MSS | TCPE_OPT_WSCALE | TCPE_OPT_SACK_OK | TCPE_OPT_TS;
    f[n].seg.mss = 1460;
    f[n].seg.wscale = 7;
    n++;
    f[n] = (struct frame){1214, &to_client, from_server(7000, 1001, TCPE_SYN | TCPE_ACK, 0)};
    f[n].seg.opts = TCPE_OPT_MSS | TCPE_OPT_WSCALE | TCPE_OPT_SACK_OK | TCPE_OPT_TS;
    f[n].seg.mss = 1460;
    f[n].seg.wscale = 9;
    n++;
    f[n++] = (struct frame){2428, &to_server, from_client(1001, 7001, TCPE_ACK, 0)};
    f[n] = (struct frame){999999999, &to_server,
                          from_client(1001, 7001, TCPE_ACK | TCPE_PSH, sizeof request - 1)};
    f[n].seg.data = request;
    n++;
    f[n++] = (struct frame){1000000000, &to_client,
                            from_server(7001, 1001 + sizeof request - 1, TCPE_ACK, 1448)};
    f[n++] = (struct frame){
        1000001214, &to_client,
        from_server(8449, 1001 + sizeof request - 1, TCPE_ACK | TCPE_PSH | TCPE_FIN, 333)};
    f[n++] = (struct frame){SIM_PCAP_TIME_MAX_NS - 1, &to_server,
                            from_client(1001 + sizeof request - 1, 8783, TCPE_ACK, 0)};
    return n;
}

static char *tmp_path(void)
{
    char *path = malloc(64);
    assert_non_null(path);
    snprintf(path, 64, "/tmp/handoff-test-pcap-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    return path;
}

static struct sim_pcap *open_ok(const char *path, uint32_t snaplen)
{
    struct sim_pcap_params p = {.path = path, .snaplen = snaplen};
    struct sim_pcap *pc = NULL;
    struct sim_pcap_err e = {{0}};
    if (sim_pcap_open(&p, &pc, &e) != HO_OK) {
        fail_msg("open %s: %s", path, e.msg);
    }
    return pc;
}

static void write_all(const char *path, uint32_t snaplen, const struct frame *f, size_t n)
{
    struct sim_pcap *pc = open_ok(path, snaplen);
    struct sim_pcap_err e = {{0}};
    for (size_t i = 0; i < n; i++) {
        if (sim_pcap_write(pc, f[i].t_ns, &f[i].seg, f[i].eth, &e) != HO_OK) {
            fail_msg("frame %zu: %s", i, e.msg);
        }
    }
    assert_int_equal(sim_pcap_count(pc), n);
    assert_int_equal(sim_pcap_close(pc, &e), HO_OK);
}

static pcap_t *open_read(const char *path)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *r = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (!r) {
        fail_msg("libpcap cannot read %s: %s", path, errbuf);
    }
    assert_int_equal(pcap_datalink(r), DLT_EN10MB);
    return r;
}

/* RFC 1071, the plain way, independent of the codec: the complement of the folded sum. */
static uint32_t sum16(uint32_t sum, const uint8_t *b, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2) {
        sum += (uint32_t)(b[i] << 8 | b[i + 1]);
    }
    if (len & 1) {
        sum += (uint32_t)b[len - 1] << 8;
    }
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

/* Checks the IPv4 header and TCP checksums of a whole frame (both must come out 0). */
static void check_checksums_independently(const uint8_t *fr, size_t len)
{
    const uint8_t *ip = fr + TCPE_WIRE_ETH_HLEN;
    size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
    size_t total = (size_t)(ip[2] << 8 | ip[3]);
    assert_int_equal(TCPE_WIRE_ETH_HLEN + total, len);
    assert_int_equal(fold(sum16(0, ip, ihl)), 0);
    uint32_t pseudo = sum16(0, ip + 12, 8) + TCPE_WIRE_IPPROTO_TCP + (uint32_t)(total - ihl);
    assert_int_equal(fold(sum16(pseudo, ip + ihl, total - ihl)), 0);
}

static void check_frame(const struct pcap_pkthdr *h, const uint8_t *data, const struct frame *f,
                        uint16_t ip_id)
{
    assert_int_equal(h->ts.tv_sec, f->t_ns / 1000000000u);
    assert_int_equal(h->ts.tv_usec, f->t_ns % 1000000000u);
    int want_len = tcpe_wire_eth_len(&f->seg);
    assert_true(want_len > 0);
    assert_int_equal(h->len, (uint32_t)want_len);
    assert_int_equal(h->caplen, h->len);

    struct tcpe_wire_pkt pkt;
    struct tcpe_wire_stats st = {0};
    assert_int_equal(tcpe_wire_eth_parse(data, h->caplen, 0, &pkt, &st), TCPE_WIRE_KIND_TCP);
    check_checksums_independently(data, h->caplen);
    assert_memory_equal(pkt.eth.src, f->eth->src, TCPE_WIRE_ETH_ALEN);
    assert_memory_equal(pkt.eth.dst, f->eth->dst, TCPE_WIRE_ETH_ALEN);
    assert_int_equal(pkt.ip.ttl, 64);
    assert_int_equal(pkt.ip.df, 1);
    assert_int_equal(pkt.ip.id, ip_id);
    const struct tcpe_seg *got = &pkt.seg, *want = &f->seg;
    assert_int_equal(got->src_ip, want->src_ip);
    assert_int_equal(got->dst_ip, want->dst_ip);
    assert_int_equal(got->src_port, want->src_port);
    assert_int_equal(got->dst_port, want->dst_port);
    assert_int_equal(got->seq, want->seq);
    assert_int_equal(got->ack, want->ack);
    assert_int_equal(got->flags, want->flags);
    assert_int_equal(got->wnd, want->wnd);
    assert_int_equal(got->opts, want->opts);
    if (want->opts & TCPE_OPT_TS) {
        assert_int_equal(got->ts_val, want->ts_val);
        assert_int_equal(got->ts_ecr, want->ts_ecr);
    }
    if (want->opts & TCPE_OPT_MSS) {
        assert_int_equal(got->mss, want->mss);
    }
    if (want->opts & TCPE_OPT_WSCALE) {
        assert_int_equal(got->wscale, want->wscale);
    }
    assert_int_equal(got->len, want->len);
    for (uint32_t i = 0; i < got->len; i++) {
        uint8_t expect = want->data ? want->data[i] : 0;
        if (got->data[i] != expect) {
            fail_msg("payload byte %u is %u, expected %u", i, got->data[i], expect);
        }
    }
}

/* ---- whole frames ------------------------------------------------------------------------ */

static void test_conversation_reads_back(void **state)
{
    (void)state;
    struct frame f[8];
    size_t n = conversation(f);
    char *path = tmp_path();
    write_all(path, 0, f, n);

    /* A nanosecond pcap file, whatever reads it: the magic of the nanosecond format. */
    FILE *raw = fopen(path, "rb");
    assert_non_null(raw);
    uint32_t magic = 0;
    assert_int_equal(fread(&magic, sizeof magic, 1, raw), 1);
    fclose(raw);
    assert_int_equal(magic, 0xa1b23c4du);

    pcap_t *r = open_read(path);
    assert_int_equal(pcap_snapshot(r), SIM_PCAP_FRAME_MAX);
    assert_int_equal(pcap_get_tstamp_precision(r), PCAP_TSTAMP_PRECISION_NANO);
    struct pcap_pkthdr *h;
    const u_char *data;
    size_t i = 0;
    int rc;
    while ((rc = pcap_next_ex(r, &h, &data)) == 1) {
        assert_true(i < n);
        check_frame(h, data, &f[i], (uint16_t)i);
        i++;
    }
    assert_int_equal(rc, PCAP_ERROR_BREAK); /* a clean end of file, not a damaged record */
    assert_int_equal(i, n);
    pcap_close(r);
    unlink(path);
    free(path);
}

static void test_largest_datagram_is_written_whole(void **state)
{
    (void)state;
    struct frame f = {5, &to_client, from_server(1, 2, TCPE_ACK, 0)};
    f.seg.opts = 0;
    f.seg.len = TCPE_WIRE_IPV4_MAX_LEN - TCPE_WIRE_IPV4_HLEN - TCPE_WIRE_TCP_HLEN;
    assert_int_equal(tcpe_wire_eth_len(&f.seg), SIM_PCAP_FRAME_MAX);
    char *path = tmp_path();
    write_all(path, 0, &f, 1);
    pcap_t *r = open_read(path);
    struct pcap_pkthdr *h;
    const u_char *data;
    assert_int_equal(pcap_next_ex(r, &h, &data), 1);
    check_frame(h, data, &f, 0);
    assert_int_equal(pcap_next_ex(r, &h, &data), PCAP_ERROR_BREAK);
    pcap_close(r);
    unlink(path);
    free(path);
}

static void test_same_input_same_bytes(void **state)
{
    (void)state;
    struct frame f[8];
    size_t n = conversation(f);
    char *a = tmp_path(), *b = tmp_path();
    write_all(a, 0, f, n);
    write_all(b, 0, f, n);
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    assert_non_null(fa);
    assert_non_null(fb);
    size_t total = 0;
    int ca, cb;
    do {
        ca = fgetc(fa);
        cb = fgetc(fb);
        assert_int_equal(ca, cb);
        total++;
    } while (ca != EOF);
    fclose(fa);
    fclose(fb);
    /* File header 24 bytes, 16 per record, and the frames. */
    size_t frames = 0;
    for (size_t i = 0; i < n; i++) {
        frames += (size_t)tcpe_wire_eth_len(&f[i].seg);
    }
    assert_int_equal(total - 1, 24 + 16 * n + frames);
    unlink(a);
    unlink(b);
    free(a);
    free(b);
}

/* ---- snap length --------------------------------------------------------------------------- */

static void test_snaplen_cuts_frames_but_keeps_their_length(void **state)
{
    (void)state;
    struct frame f[8];
    size_t n = conversation(f);
    char *whole = tmp_path(), *cut = tmp_path(), *tiny = tmp_path();
    write_all(whole, 0, f, n);
    write_all(cut, 100, f, n);
    write_all(tiny, 20, f, n);

    pcap_t *rw = open_read(whole), *rc = open_read(cut), *rt = open_read(tiny);
    assert_int_equal(pcap_snapshot(rc), 100);
    assert_int_equal(pcap_snapshot(rt), 20);
    struct pcap_pkthdr *hw, *hc, *ht;
    const u_char *dw, *dc, *dt;
    size_t cut_frames = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(pcap_next_ex(rw, &hw, &dw), 1);
        assert_int_equal(pcap_next_ex(rc, &hc, &dc), 1);
        assert_int_equal(pcap_next_ex(rt, &ht, &dt), 1);
        /* Same time and true length; only the kept bytes differ, and they are a prefix. */
        assert_int_equal(hc->len, hw->len);
        assert_int_equal(ht->len, hw->len);
        assert_int_equal(hc->ts.tv_sec, hw->ts.tv_sec);
        assert_int_equal(hc->ts.tv_usec, hw->ts.tv_usec);
        assert_int_equal(hc->caplen, hw->len < 100 ? hw->len : 100);
        assert_int_equal(ht->caplen, 20);
        assert_memory_equal(dc, dw, hc->caplen);
        assert_memory_equal(dt, dw, 20);
        struct tcpe_wire_pkt pkt;
        int parsed = tcpe_wire_eth_parse(dc, hc->caplen, 0, &pkt, NULL);
        if (hc->caplen < hc->len) {
            /* The IPv4 total length runs past the kept bytes. */
            assert_int_equal(parsed, HO_EMSGSIZE);
            assert_int_equal(pkt.drop, TCPE_WIRE_DROP_IP_TOTLEN);
            cut_frames++;
        } else {
            assert_int_equal(parsed, TCPE_WIRE_KIND_TCP);
        }
    }
    assert_int_equal(cut_frames, 3); /* the 37-byte request, the 1448- and 333-byte segments */
    assert_int_equal(pcap_next_ex(rc, &hc, &dc), PCAP_ERROR_BREAK);
    pcap_close(rw);
    pcap_close(rc);
    pcap_close(rt);
    unlink(whole);
    unlink(cut);
    unlink(tiny);
    free(whole);
    free(cut);
    free(tiny);
}

/* ---- refusals ------------------------------------------------------------------------------- */

static void test_open_refuses_bad_arguments(void **state)
{
    (void)state;
    struct sim_pcap *pc = NULL;
    struct sim_pcap_err e = {{0}};
    struct sim_pcap_params p = {.path = NULL};
    assert_int_equal(sim_pcap_open(&p, &pc, &e), HO_EINVAL);
    assert_int_equal(sim_pcap_open(NULL, &pc, &e), HO_EINVAL);
    p.path = "";
    assert_int_equal(sim_pcap_open(&p, &pc, &e), HO_EINVAL);
    p.path = "-";
    assert_int_equal(sim_pcap_open(&p, &pc, NULL), HO_EINVAL);
    p.path = "/tmp/handoff-test-pcap-never-created";
    p.snaplen = SIM_PCAP_SNAPLEN_MAX + 1;
    assert_int_equal(sim_pcap_open(&p, &pc, &e), HO_EINVAL);
    assert_non_null(strstr(e.msg, p.path));
    assert_int_equal(access(p.path, F_OK), -1);
    assert_int_equal(sim_pcap_open(&p, NULL, &e), HO_EINVAL);
    assert_null(pc);

    p.path = "/nonexistent-handoff-dir/wire.pcap";
    p.snaplen = 0;
    e.msg[0] = '\0';
    assert_int_equal(sim_pcap_open(&p, &pc, &e), HO_ENOENT);
    assert_non_null(strstr(e.msg, p.path));
    assert_null(pc);

    assert_int_equal(sim_pcap_close(NULL, &e), HO_OK);
    assert_int_equal(sim_pcap_count(NULL), 0);
}

static void test_write_refusals_record_nothing(void **state)
{
    (void)state;
    char *path = tmp_path();
    struct sim_pcap *pc = open_ok(path, 0);
    struct sim_pcap_err e = {{0}};
    struct frame ok = {10, &to_server, from_client(1, 2, TCPE_ACK, 0)};

    struct tcpe_seg big = ok.seg;
    big.opts = 0;
    big.len = TCPE_WIRE_IPV4_MAX_LEN - TCPE_WIRE_IPV4_HLEN - TCPE_WIRE_TCP_HLEN + 1;
    assert_int_equal(sim_pcap_write(pc, 5, &big, &to_server, &e), HO_EMSGSIZE);
    assert_non_null(strstr(e.msg, path));
    e.msg[0] = '\0';
    assert_int_equal(sim_pcap_write(pc, SIM_PCAP_TIME_MAX_NS, &ok.seg, &to_server, &e), HO_EINVAL);
    assert_non_null(strstr(e.msg, path));
    assert_int_equal(sim_pcap_write(pc, 5, NULL, &to_server, &e), HO_EINVAL);
    assert_int_equal(sim_pcap_write(pc, 5, &ok.seg, NULL, &e), HO_EINVAL);
    assert_int_equal(sim_pcap_write(NULL, 5, &ok.seg, &to_server, &e), HO_EINVAL);
    assert_int_equal(sim_pcap_count(pc), 0);

    /* The one good frame is the only one in the file, and it took the first identification. */
    assert_int_equal(sim_pcap_write(pc, ok.t_ns, &ok.seg, ok.eth, &e), HO_OK);
    assert_int_equal(sim_pcap_count(pc), 1);
    assert_int_equal(sim_pcap_close(pc, &e), HO_OK);
    pcap_t *r = open_read(path);
    struct pcap_pkthdr *h;
    const u_char *data;
    assert_int_equal(pcap_next_ex(r, &h, &data), 1);
    check_frame(h, data, &ok, 0);
    assert_int_equal(pcap_next_ex(r, &h, &data), PCAP_ERROR_BREAK);
    pcap_close(r);
    unlink(path);
    free(path);
}

/* /dev/full accepts open() and fails every write with ENOSPC: a full disk on demand. */
static void test_full_disk_is_reported(void **state)
{
    (void)state;
    if (access("/dev/full", W_OK) != 0) {
        skip();
    }
    struct sim_pcap_err e = {{0}};
    struct frame ack = {10, &to_server, from_client(1, 2, TCPE_ACK, 0)};

    /* A small frame sits in stdio's buffer: the failure shows at close. */
    struct sim_pcap *pc = open_ok("/dev/full", 0);
    assert_int_equal(sim_pcap_write(pc, ack.t_ns, &ack.seg, ack.eth, &e), HO_OK);
    assert_int_equal(sim_pcap_close(pc, &e), HO_ENOENT);
    assert_non_null(strstr(e.msg, "/dev/full"));

    /* A frame larger than the buffer is written through at once: the write itself fails, and
     * so does every later one. */
    struct tcpe_seg big = ack.seg;
    big.len = 60000;
    pc = open_ok("/dev/full", 0);
    e.msg[0] = '\0';
    assert_int_equal(sim_pcap_write(pc, 20, &big, &to_server, &e), HO_ENOENT);
    assert_non_null(strstr(e.msg, "/dev/full"));
    assert_int_equal(sim_pcap_write(pc, 30, &ack.seg, ack.eth, &e), HO_ENOENT);
    assert_int_equal(sim_pcap_count(pc), 0);
    assert_int_equal(sim_pcap_close(pc, &e), HO_ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conversation_reads_back),
        cmocka_unit_test(test_largest_datagram_is_written_whole),
        cmocka_unit_test(test_same_input_same_bytes),
        cmocka_unit_test(test_snaplen_cuts_frames_but_keeps_their_length),
        cmocka_unit_test(test_open_refuses_bad_arguments),
        cmocka_unit_test(test_write_refusals_record_nothing),
        cmocka_unit_test(test_full_disk_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
