/*
 * sim_pcap.c - the pcap writer of the simulated wire (see include/handoff/sim_pcap.h), called by
 * the wire model for every frame it puts on the link when a run asks for --pcap.
 *
 * Every frame goes through one path: the TCP engine's header builder writes Ethernet, IPv4 and
 * TCP headers (with checksums over the payload, real or virtual-as-zeros) into a buffer the
 * writer owns, the payload is copied or zero-filled only as far as the snap length keeps it, and
 * libpcap appends the record. The buffer is allocated once at open, large enough for the
 * longest frame the snap length keeps, so writing never allocates.
 *
 * libpcap's pcap_dump() returns nothing and writes through stdio, so a failed write shows only
 * as the FILE's error flag: the writer checks it after every record, and flushes and checks
 * again at close, so a full disk is reported rather than leaving a silently short capture.
 */
/* libpcap's headers use the BSD types u_char and u_int, which glibc declares only with
 * _DEFAULT_SOURCE on top of the project's _POSIX_C_SOURCE. */
#define _DEFAULT_SOURCE

#include "handoff/sim_pcap.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/err.h"

struct sim_pcap {
    pcap_t *dead;          /* libpcap handle with the link type and timestamp precision */
    pcap_dumper_t *dumper; /* the open file */
    struct tcpe_wire_tx tx;
    uint32_t snaplen; /* bytes kept of each frame (SIM_PCAP_FRAME_MAX for whole frames) */
    uint64_t count;   /* frames recorded */
    uint8_t *frame;   /* room for the kept part of the longest frame, and at least the headers */
    size_t frame_cap;
    char path[]; /* the file's name in messages */
};

static int fail(struct sim_pcap_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct sim_pcap_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

static void release(struct sim_pcap *pc)
{
    if (pc->dumper) {
        pcap_dump_close(pc->dumper);
    }
    if (pc->dead) {
        pcap_close(pc->dead);
    }
    free(pc->frame);
    free(pc);
}

int sim_pcap_open(const struct sim_pcap_params *p, struct sim_pcap **out, struct sim_pcap_err *err)
{
    if (!p || !p->path || !out) {
        return fail(err, HO_EINVAL, "pcap: no file given");
    }
    if (p->path[0] == '\0' || strcmp(p->path, "-") == 0) {
        /* libpcap takes "-" as standard output and would close it with the capture. */
        return fail(err, HO_EINVAL, "pcap: '%s' is not a file name (use /dev/stdout to pipe)",
                    p->path);
    }
    if (p->snaplen > SIM_PCAP_SNAPLEN_MAX) {
        return fail(err, HO_EINVAL, "%s: snap length %u is above %u", p->path, p->snaplen,
                    SIM_PCAP_SNAPLEN_MAX);
    }
    const char *name = p->name ? p->name : p->path;
    size_t name_len = strlen(name);
    struct sim_pcap *pc = calloc(1, sizeof *pc + name_len + 1);
    if (!pc) {
        return fail(err, HO_ENOMEM, "%s: out of memory", name);
    }
    memcpy(pc->path, name, name_len + 1);
    pc->snaplen = p->snaplen == 0 ? SIM_PCAP_FRAME_MAX : p->snaplen;
    size_t kept = pc->snaplen < SIM_PCAP_FRAME_MAX ? pc->snaplen : SIM_PCAP_FRAME_MAX;
    pc->frame_cap = kept > TCPE_WIRE_BUILD_MAX_HDRS ? kept : TCPE_WIRE_BUILD_MAX_HDRS;
    pc->frame = malloc(pc->frame_cap);
    pc->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, (int)pc->snaplen,
                                                    PCAP_TSTAMP_PRECISION_NANO);
    if (!pc->frame || !pc->dead) {
        release(pc);
        return fail(err, HO_ENOMEM, "%s: out of memory", name);
    }
    pc->dumper = pcap_dump_open(pc->dead, p->path);
    if (!pc->dumper) {
        int code =
            fail(err, HO_ENOENT, "%s: cannot create the capture: %s", name, pcap_geterr(pc->dead));
        release(pc);
        return code;
    }
    tcpe_wire_tx_init(&pc->tx, 0);
    *out = pc;
    return HO_OK;
}

/* e is the errno of the failed write, or 0 when it is no longer known (a failure that an
 * earlier record's write left in the FILE's error flag). */
static int write_failed(const struct sim_pcap *pc, int e, struct sim_pcap_err *err)
{
    return fail(err, HO_ENOENT, "%s: writing the capture failed: %s", pc->path,
                e ? strerror(e) : "disk full or I/O error");
}

int sim_pcap_write(struct sim_pcap *pc, uint64_t t_ns, const struct tcpe_seg *seg,
                   const struct tcpe_wire_eth *eth, struct sim_pcap_err *err)
{
    if (!pc || !seg || !eth) {
        return fail(err, HO_EINVAL, "pcap: no capture, segment or addresses given");
    }
    if (t_ns >= SIM_PCAP_TIME_MAX_NS) {
        return fail(err, HO_EINVAL, "%s: time %llu ns is past what a pcap record holds (2^31 s)",
                    pc->path, (unsigned long long)t_ns);
    }
    if (ferror(pcap_dump_file(pc->dumper))) {
        return write_failed(pc, 0, err);
    }
    int frame_len = tcpe_wire_eth_len(seg);
    if (frame_len < 0) {
        return fail(err, frame_len,
                    "%s: a segment of %u payload bytes does not fit an IPv4 datagram", pc->path,
                    (unsigned)seg->len);
    }
    int hdrs = tcpe_wire_eth_build_hdr(&pc->tx, eth, seg, pc->frame, pc->frame_cap);
    if (hdrs < 0) {
        /* The size was checked above and the buffer always holds the headers. */
        return fail(err, hdrs, "%s: cannot build the frame's headers: %s", pc->path,
                    ho_strerror(hdrs));
    }
    uint32_t caplen = (uint32_t)frame_len < pc->snaplen ? (uint32_t)frame_len : pc->snaplen;
    if (caplen > (uint32_t)hdrs) {
        size_t n = caplen - (uint32_t)hdrs;
        if (seg->data) {
            memcpy(pc->frame + hdrs, seg->data, n);
        } else {
            memset(pc->frame + hdrs, 0, n);
        }
    }
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof h);
    /* With nanosecond precision the microseconds field carries nanoseconds. */
    h.ts.tv_sec = (time_t)(t_ns / 1000000000u);
    h.ts.tv_usec = (suseconds_t)(t_ns % 1000000000u);
    h.caplen = caplen;
    h.len = (uint32_t)frame_len;
    errno = 0;
    pcap_dump((u_char *)pc->dumper, &h, pc->frame);
    if (ferror(pcap_dump_file(pc->dumper))) {
        return write_failed(pc, errno, err);
    }
    pc->count++;
    return HO_OK;
}

uint64_t sim_pcap_count(const struct sim_pcap *pc)
{
    return pc ? pc->count : 0;
}

int sim_pcap_close(struct sim_pcap *pc, struct sim_pcap_err *err)
{
    if (!pc) {
        return HO_OK;
    }
    int rc = HO_OK;
    errno = 0;
    if (pcap_dump_flush(pc->dumper) != 0 || ferror(pcap_dump_file(pc->dumper))) {
        rc = write_failed(pc, errno, err);
    }
    release(pc);
    return rc;
}
