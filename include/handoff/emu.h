/*
 * emu.h - the emulator: the NIC firmware (nic.h) and the host's OS side with its web server
 * (os.h, app.h), the same code the simulator runs, on two threads and real packets.
 *
 *   clients (curl, wrk, ab) in a network namespace
 *        |  kernel TCP
 *   TAP device  ------------------------------------------------ the wire
 *        |
 *   NIC thread:  the firmware, throttled to its instruction rate
 *        |  single-producer single-consumer rings ------------- PCI
 *   host thread: the OS side (host TCP, driver, bypass protocol) and the web server
 *
 * The NIC thread owns the TAP device. It answers ARP for our address (the MAC's business, not
 * the firmware's), gives every TCP frame to the firmware, and runs the firmware's work one piece
 * at a time, each taking as long as its instructions would at the configured rate. The host
 * thread runs the OS side's work as it comes, at the real processor's speed: its costs are only
 * the simulator's. Packets and messages cross between the threads on one ring per direction, so
 * that a message never overtakes a packet sent before it.
 *
 * Time is CLOCK_MONOTONIC in nanoseconds, passed to the firmware and the OS side as `now`.
 */
#ifndef HANDOFF_EMU_H
#define HANDOFF_EMU_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "handoff/app.h"
#include "handoff/nic.h"
#include "handoff/os.h"

#define HO_EMU_NETNS_MAX 32         /* longest namespace name */
#define HO_EMU_NEVER     UINT64_MAX /* a fault that is not injected */

struct ho_emu_params {
    struct ho_nic_params nic; /* the firmware (virtual_payload is set false) */
    struct ho_os_params os;   /* the OS side (virtual_payload is set false) */
    struct ho_app_costs app_costs;
    uint32_t mips;          /* the NIC's instruction rate, millions per second; 0 = unthrottled */
    const char *netns;      /* the namespace to create */
    uint32_t addr;          /* our address (host byte order); the kernel's end is addr's /24 .1,
                               or .2 when addr ends in .1 */
    uint16_t port;          /* the server's port */
    const char *docroot;    /* files to serve; NULL: a SPECweb99-like set generated for the run */
    uint32_t fileset_conns; /* without docroot: the connections the generated set is sized for */
    const char *stats_path; /* JSON lines every stats_ms, or NULL */
    const char *conn_log_path; /* one JSON line per connection (struct ho_conn_record, times in
                                  ms since the host thread started), or NULL */
    const char *pcap_path;  /* every frame on the wire, both ways, as a pcap file, or NULL */
    uint32_t snaplen;       /* bytes of each frame the capture keeps (0: all), as tcpdump -s */
    uint32_t stats_ms;      /* the period of the statistics, ms */
    uint64_t seed;          /* the generated file set's contents */
    uint32_t idle_s;        /* a connection idle this long is closed, seconds; 0 = never */
    const char *label;      /* the configuration's name, for the live view, or NULL */
    FILE *live;             /* a terminal to draw a live view on (like top) every stats_ms, or
                               NULL */
    int host_cpu;           /* the processor the host thread is bound to, or -1: any */
    int nic_cpu;            /* the processor the NIC thread is bound to, or -1: any */
    /* Faults (docs/failures.md), in ns after the ready line, or HO_EMU_NEVER. */
    uint64_t fault_reset_at_ns;  /* the NIC's firmware is reset (ho_nic_reset) */
    uint64_t fault_refuse_at_ns; /* from then on the firmware refuses every handoff */
    uint64_t fault_hang_at_ns;   /* the NIC thread stops taking work for fault_hang_ns (its
                                    frames wait in the device's queue, commands in the rings),
                                    unless the driver's watchdog resets it first */
    uint64_t fault_hang_ns;
    uint64_t fault_wire_drop_at_ns; /* every frame on the wire, both ways, is lost for */
    uint64_t fault_wire_drop_ns;    /* fault_wire_drop_ns */
};

/* Fills p with defaults: no handoff, 0 MIPS, netns "handoff", 10.77.0.2:80, a generated set for
 * 1 connection (25 directories), stats every 100 ms, idle connections closed after 60 s, threads
 * on any processor, no fault. nic and os
 * hold only what the emulator needs; the caller sets the rest (costs, buffers, policies). */
void ho_emu_params_init(struct ho_emu_params *p);

/*
 * Runs the emulator until *stop becomes non-zero (a signal handler sets it): sets up the
 * namespace and the device, the document root, the two threads; prints "ready http://ADDR:PORT/
 * netns NAME" on out when clients may connect, and progress to log; on stop, takes everything
 * down again, the namespace and the device included, and writes a summary to log. Returns 0, or
 * -1 with err filled (what failed and why). Needs root.
 */
int ho_emu_run(const struct ho_emu_params *p, volatile sig_atomic_t *stop, FILE *out, FILE *log,
               char *err, size_t errlen);

/*
 * Sends a command to the emulator running with namespace netns (its control socket,
 * /run/handoff-emu-NETNS.sock) and copies the answer to out: "ls" lists the connections as
 * ss(8) does, "restore ADDR:PORT" asks the NIC to give back the connection from that peer,
 * "reset" resets the NIC's firmware and answers once it has started again, "refuse on" makes
 * the firmware refuse every handoff and "refuse off" take them again (docs/failures.md).
 * Returns 0, or -1 with err filled (no such emulator, or it refused the command, whose reason
 * then went to stderr).
 */
int ho_emu_ctl(const char *netns, const char *cmd, FILE *out, char *err, size_t errlen);

#endif
