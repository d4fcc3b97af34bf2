/*
 * sim_pcap.h - the simulated wire as a pcap file that Wireshark and tshark read.
 *
 * The simulator moves TCP segments as struct tcpe_seg values whose payload is usually virtual
 * (a length, as sendfile moves page references). This writer turns each one into the Ethernet
 * II + IPv4 + TCP frame that would have crossed the wire, with the TCP engine's own header
 * builders (tcpe_wire.h), and appends it to a pcap file with nanosecond timestamps (the
 * simulator's unit of time).
 *
 * The payload of a virtual segment is written as zeros, which is exactly what the codec's
 * checksum assumed when it summed the virtual payload (tcpe_wire_ipv4_build_hdr), so every
 * frame of a full capture verifies: Wireshark's checksum validation and tcpe_wire_eth_parse
 * both accept it. A segment with real bytes (data != NULL) is written with those bytes. Frames
 * are not padded to Ethernet's 60-byte minimum and carry no FCS, as in a host's capture.
 *
 * A capture of a 10 Gb/s run is large (a full 1518-byte frame for most data packets), so a
 * snap length may cut every frame after its first snaplen bytes; the record still carries the
 * frame's true length, so Wireshark shows the real sizes and sequence analysis still works, but
 * it cannot verify the checksums of cut frames. snaplen 0 keeps whole frames.
 *
 * The file's timestamps are simulated time: time 0 is the start of the run, which Wireshark
 * shows as 1970-01-01 00:00:00 UTC. Frames are written in the order given; the simulator gives
 * them in event order, so timestamps do not decrease, but the writer does not insist.
 *
 * Backed by libpcap (pcap_open_dead_with_tstamp_precision and the pcap_dump family). One
 * writer per file; not thread-safe.
 */
#ifndef HANDOFF_SIM_PCAP_H
#define HANDOFF_SIM_PCAP_H

#include <stdint.h>

#include "handoff/tcpe_seg.h"
#include "handoff/tcpe_wire.h"

/* The longest frame a segment can make: an Ethernet header and a 65535-byte IPv4 datagram. */
#define SIM_PCAP_FRAME_MAX (TCPE_WIRE_ETH_HLEN + TCPE_WIRE_IPV4_MAX_LEN)
/* The largest snap length accepted (libpcap's own limit for Ethernet captures). */
#define SIM_PCAP_SNAPLEN_MAX 262144u
/* Timestamps must be below 2^31 s (68 years): a pcap record stores whole seconds in 32 bits,
 * which libpcap reads back as a signed number. */
#define SIM_PCAP_TIME_MAX_NS (UINT64_C(2147483648) * UINT64_C(1000000000))

struct sim_pcap;

struct sim_pcap_params {
    const char *path; /* file to create or truncate; "-" is refused (use /dev/stdout) */
    const char *name; /* the file's name in messages (NULL: path), e.g. the final name of a
                       * capture written to a temporary and renamed when complete */
    uint32_t snaplen; /* bytes kept of each frame, 1..SIM_PCAP_SNAPLEN_MAX; 0 = whole frames */
};

/* An error message naming the file and what went wrong. */
struct sim_pcap_err {
    char msg[512];
};

/*
 * Creates (or truncates) p->path and writes the pcap file header: Ethernet link type,
 * nanosecond timestamps, the snap length (SIM_PCAP_FRAME_MAX when p->snaplen is 0).
 * On success returns 0 and sets *out, which the caller owns (sim_pcap_close()). Errors, with
 * err->msg filled when err is not NULL:
 *   HO_EINVAL  p, p->path or out is NULL, path is empty or "-", or snaplen is out of range;
 *   HO_ENOENT  the file cannot be created (the message names it and gives the system's reason);
 *   HO_ENOMEM  an allocation failed.
 */
int sim_pcap_open(const struct sim_pcap_params *p, struct sim_pcap **out, struct sim_pcap_err *err);

/*
 * Appends the frame of seg, sent at t_ns (simulated ns) from eth->src to eth->dst (eth->type is
 * ignored: IPv4 is written). Headers come from tcpe_wire_eth_build_hdr with TTL 64, Don't
 * Fragment and complete checksums; the IPv4 identification counts up from 0 in the order frames
 * are written. The payload is seg->data's bytes, or zeros when seg->data is NULL. Neither seg nor
 * eth is kept. Returns 0, or (nothing is then recorded, and err->msg says why when err is not
 * NULL):
 *   HO_EINVAL   pc, seg or eth is NULL, or t_ns >= SIM_PCAP_TIME_MAX_NS;
 *   HO_EMSGSIZE the datagram would exceed 65535 bytes;
 *   HO_ENOENT   writing to the file failed (disk full, I/O error); the error persists, every
 *               later write and the close fail too.
 * Data is buffered: a write may succeed and the failure show at a later write or at close.
 */
int sim_pcap_write(struct sim_pcap *pc, uint64_t t_ns, const struct tcpe_seg *seg,
                   const struct tcpe_wire_eth *eth, struct sim_pcap_err *err);

/* Frames recorded so far by sim_pcap_write (those that returned 0). */
uint64_t sim_pcap_count(const struct sim_pcap *pc);

/*
 * Flushes the file to the system, closes it and frees pc (NULL is accepted and returns 0).
 * Returns 0, or HO_ENOENT if a write failed or the final flush failed, with err->msg naming the
 * file; pc is freed either way.
 */
int sim_pcap_close(struct sim_pcap *pc, struct sim_pcap_err *err);

#endif
