/*
 * emu_net.h - the emulator's wire: a TAP device in a network namespace of its own, where
 * unmodified Linux clients (curl, wrk, ab) reach the TCP stack that `handoff emu` runs.
 *
 * emu_net_up builds the link, in this order, with `ip` (iproute2) run without a shell:
 *   1. takes the liveness lock /run/handoff-emu-NAME.lock (flock, held until emu_net_down or the
 *      process's death, the file holding the pid);
 *   2. deletes a namespace NAME left over by a run that died without emu_net_down (flagged as
 *      removed_stale, so that the caller can say so);
 *   3. `ip netns add NAME`, turns IPv6 off for devices that enter it (so that no router
 *      solicitation, DAD or MLD frame reaches our stack) and brings its lo up;
 *   4. creates a non-persistent TAP device IF (IFF_TAP | IFF_NO_PI) in the caller's namespace,
 *      moves it into NAME, gives it the peer's address and a long transmit queue, and brings it
 *      up.
 * The kernel's end of the TAP device is the client side (the peer address, e.g. 10.77.0.1/24);
 * our stack owns the other address of the subnet (e.g. 10.77.0.2) and answers ARP for it itself
 * on the TAP fd, with a MAC address of its own (emu_net_our_mac). Clients run inside the
 * namespace: `ip netns exec NAME curl http://10.77.0.2/`.
 *
 * Teardown is emu_net_down. Closing the TAP fd destroys the device (it is not persistent), so a
 * crashed run leaves only its namespace and an unlocked lock file, which the next emu_net_up
 * with the same NAME removes. Whether a namespace NAME was made by an earlier run or by someone
 * else cannot be told apart: any namespace NAME found while the lock is free is deleted as
 * stale, so NAME must be reserved for handoff emu.
 *
 * Needs CAP_NET_ADMIN and CAP_SYS_ADMIN (root, in practice), /dev/net/tun, and iproute2's `ip`
 * and procps's `sysctl` on PATH. Nothing here is kept in globals; two runs with different names
 * may live side by side in one process or in two.
 */
#ifndef HANDOFF_EMU_NET_H
#define HANDOFF_EMU_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EMU_NET_NAME_MAX   32    /* longest namespace name */
#define EMU_NET_IFNAME_MAX 15    /* longest interface name (IFNAMSIZ - 1) */
#define EMU_NET_TXQUEUELEN 10000 /* frames the kernel queues for us on the TAP device */

/* What emu_net_up builds. Addresses are IPv4, in host byte order. */
struct emu_net_cfg {
    const char *netns;  /* namespace name: 1..32 of [A-Za-z0-9_.-], not "." or "..", no
                         * leading '-' */
    const char *ifname; /* TAP device name, same characters, 1..15; NULL: derived from netns,
                         * "ho-NETNS" (names over 12 characters: "ho-" + 4 + a hash) */
    uint32_t our_ip;    /* our stack's address; only checked, never configured */
    uint32_t peer_ip;   /* the kernel's (the clients') address on the TAP device */
    uint8_t prefix;     /* subnet prefix length, 1..31; both addresses are in it, and for
                         * prefixes up to 30 neither is its network or broadcast address */
};

/* A link that emu_net_up built; emu_net_down takes it apart. */
struct emu_net {
    int tap_fd;                          /* the TAP device: non-blocking, close-on-exec;
                                          * read and write frames, never close it; -1: none */
    int lock_fd;                         /* the liveness lock, held; -1: none */
    bool ns_made;                        /* we added the namespace and must delete it */
    bool removed_stale;                  /* emu_net_up deleted a leftover namespace NAME */
    char netns[EMU_NET_NAME_MAX + 1];    /* the namespace's name */
    char ifname[EMU_NET_IFNAME_MAX + 1]; /* the TAP device's name (inside the namespace) */
    char lock_path[64];                  /* /run/handoff-emu-NAME.lock */
};

/* A struct emu_net that holds nothing, for callers that may run emu_net_down before up. */
#define EMU_NET_INIT ((struct emu_net){.tap_fd = -1, .lock_fd = -1})

/*
 * Builds the link that cfg describes (steps above) into *out, which must not hold a live link
 * (it is overwritten). Returns HO_OK; on failure one of the codes below, with a one-line message
 * naming what failed in err (errlen bytes, always terminated; err may be NULL if errlen is 0),
 * having undone everything it did, so that *out holds nothing but still answers emu_net_down:
 *   HO_EINVAL  cfg or out NULL, or a name or address out of range (nothing was touched);
 *   HO_EEXIST  a live run holds NAME ("netns NAME is in use by a running handoff emu (pid N)"),
 *              or an interface named IF already exists in the caller's namespace;
 *   HO_ENOENT  no /dev/net/tun, or `ip` or `sysctl` is not installed;
 *   HO_ENOMEM  out of memory;
 *   HO_ESTATE  anything else: a system call was refused (e.g. not root) or an `ip` command
 *              failed (the message quotes the command and ip's own error).
 * out->removed_stale says whether a leftover namespace was deleted, also on failure.
 * Runs child processes and waits for them (SIGCHLD must not be ignored); not thread-safe for
 * one NAME.
 */
int emu_net_up(const struct emu_net_cfg *cfg, struct emu_net *out, char *err, size_t errlen);

/*
 * Takes the link apart: closes the TAP fd (which destroys the device), deletes the namespace
 * if emu_net_up made it, unlinks the lock file and releases the lock. Safe on anything
 * emu_net_up returned, success or not, on EMU_NET_INIT, and again on a link already down; NULL
 * is allowed. Errors are not reported: a namespace that could not be deleted is removed as
 * stale by the next emu_net_up with its name.
 */
void emu_net_down(struct emu_net *n);

/*
 * Creates a non-persistent TAP device named ifname in the calling thread's network namespace
 * (IFF_TAP | IFF_NO_PI; refused if an interface of that name exists) and returns its fd,
 * non-blocking and close-on-exec, which the caller owns: closing it destroys the device.
 * On failure returns HO_EINVAL (bad name), HO_EEXIST (the name is taken), HO_ENOENT (no
 * /dev/net/tun), HO_ENOMEM or HO_ESTATE (refused, e.g. not root), with a message in err as
 * for emu_net_up.
 */
int emu_net_tap_open(const char *ifname, char *err, size_t errlen);

/*
 * Our stack's MAC address for our_ip: locally administered and unicast, 02:48:4f ("HO")
 * followed by the low 24 bits of the address, so the same address always gets the same MAC
 * (and addresses within a /8 get different ones).
 */
void emu_net_our_mac(uint8_t mac[6], uint32_t our_ip);

#endif
