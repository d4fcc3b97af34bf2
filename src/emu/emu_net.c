/*
 * emu_net.c - the emulator's TAP device in a network namespace (emu_net.h).
 *
 * The namespace and the addresses are set with iproute2's `ip`, run by posix_spawnp without a
 * shell, its stderr captured for the error message: netlink by hand would be several hundred
 * lines for the few commands run once per run. Only the TAP device is made here directly
 * (/dev/net/tun), because its fd is what the emulator keeps. It is made in the caller's
 * namespace and moved, so that this process never has to enter the namespace.
 *
 * IPv6 is turned off with the namespace's net.ipv6.conf.default.disable_ipv6 before the device
 * moves in: a device registered in a namespace takes that namespace's defaults, so the key need
 * not name the device (sysctl would misread an interface name with a dot in it).
 *
 * The liveness lock is an flock on /run/handoff-emu-NAME.lock. The kernel drops it when its
 * holder dies, so "lock free and namespace present" means a crashed run. The holder unlinks the
 * file before releasing it; a process that opened the old file meanwhile finds, once it has the
 * lock, that the path no longer names its file, and starts again (the usual lock-file dance).
 */
#define _GNU_SOURCE /* pipe2, flock, struct ifreq, environ */

#include "emu_net.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "handoff/err.h"

#define LOCK_DIR     "/run"
#define NETNS_DIR    "/var/run/netns" /* iproute2's NETNS_RUN_DIR, where `ip netns` keeps names */
#define TUN_DEV      "/dev/net/tun"
#define IP_MAX_ARGS  16
#define IP_ARGS_LEN  256 /* the arguments of one ip command, with their terminators */
#define IP_ERR_LEN   256 /* how much of ip's stderr goes into a message */
#define LOCK_RETRIES 8   /* times to chase a lock file its holder unlinked under us */

/* Writes a message into err, if there is room for one, and returns code. */
static int fail(int code, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(int code, char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* The HO_E* class of a failed system call's errno (emu_net.h lists what each means here). */
static int code_of_errno(int e)
{
    switch (e) {
    case EEXIST:
    case EBUSY:
        return HO_EEXIST;
    case ENOENT:
    case ENODEV:
        return HO_ENOENT;
    case ENOMEM:
    case ENOBUFS:
        return HO_ENOMEM;
    default:
        return HO_ESTATE;
    }
}

/* 1..max characters of [A-Za-z0-9_.-], not "." or "..", not starting with '-': safe as a file
 * name, an interface name and an argument of ip. */
static bool name_ok(const char *s, size_t max)
{
    if (s == NULL || s[0] == '\0' || s[0] == '-' || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
        return false;
    }
    size_t i = 0;
    for (; s[i] != '\0'; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-';
        if (!ok || i == max) {
            return false;
        }
    }
    return true;
}

static void ip_format(uint32_t ip, char out[16])
{
    snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xffu, (ip >> 8) & 0xffu, ip & 0xffu);
}

/* Not in 0/8, 127/8 or 224/3 (multicast and reserved). */
static bool unicast(uint32_t ip)
{
    uint32_t a = ip >> 24;
    return a != 0 && a != 127 && a < 224;
}

/* Checks that our_ip and peer_ip are two different usable addresses of one subnet. */
static int addrs_check(const struct emu_net_cfg *cfg, char *err, size_t errlen)
{
    char ours[16], peer[16];
    ip_format(cfg->our_ip, ours);
    ip_format(cfg->peer_ip, peer);
    if (cfg->prefix < 1 || cfg->prefix > 31) {
        return fail(HO_EINVAL, err, errlen, "prefix length /%u is out of range (1 to 31)",
                    cfg->prefix);
    }
    if (!unicast(cfg->our_ip) || !unicast(cfg->peer_ip)) {
        return fail(HO_EINVAL, err, errlen, "%s and %s must both be unicast addresses", ours, peer);
    }
    if (cfg->our_ip == cfg->peer_ip) {
        return fail(HO_EINVAL, err, errlen, "our address and the peer's are both %s", ours);
    }
    uint32_t mask = ~0u << (32 - cfg->prefix);
    if ((cfg->our_ip & mask) != (cfg->peer_ip & mask)) {
        return fail(HO_EINVAL, err, errlen, "%s and %s are not in one /%u subnet", ours, peer,
                    cfg->prefix);
    }
    if (cfg->prefix <= 30) {
        const uint32_t ips[2] = {cfg->our_ip, cfg->peer_ip};
        for (int i = 0; i < 2; i++) {
            uint32_t host = ips[i] & ~mask;
            if (host == 0 || host == ~mask) {
                return fail(HO_EINVAL, err, errlen,
                            "%s is the network or broadcast address of its /%u subnet",
                            i == 0 ? ours : peer, cfg->prefix);
            }
        }
    }
    return HO_OK;
}

/* FNV-1a, 32 bits: tells long namespace names apart in their derived interface names. */
static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s != '\0'; s++) {
        h = (h ^ (uint8_t)*s) * 16777619u;
    }
    return h;
}

/* "ho-NETNS" if it fits, else "ho-" + the first 4 characters + 8 hex digits of a hash. */
static void ifname_derive(const char *netns, char out[EMU_NET_IFNAME_MAX + 1])
{
    if (strlen(netns) <= EMU_NET_IFNAME_MAX - 3) {
        snprintf(out, EMU_NET_IFNAME_MAX + 1, "ho-%s", netns);
    } else {
        snprintf(out, EMU_NET_IFNAME_MAX + 1, "ho-%.4s%08x", netns, (unsigned)fnv1a(netns));
    }
}

/*
 * Runs `ip ARG...` (the arguments end with NULL) without a shell, stdin and stdout on /dev/null,
 * stderr captured. Returns HO_OK if ip exits 0; otherwise writes "`ip ARG...` failed: STDERR"
 * into err and returns HO_ENOENT (ip, or the program `ip netns exec` runs, is not installed) or
 * HO_ESTATE.
 */
static int ip_run(char *err, size_t errlen, ...)
{
    char args[IP_ARGS_LEN];
    char *argv[IP_MAX_ARGS + 2];
    char cmd[IP_ARGS_LEN + 8] = "ip"; /* the command, for messages */
    int argc = 0;
    argv[argc++] = strcpy(args, "ip");
    size_t used = sizeof "ip";
    va_list ap;
    va_start(ap, errlen);
    for (const char *a = va_arg(ap, const char *); a != NULL; a = va_arg(ap, const char *)) {
        size_t len = strlen(a) + 1;
        if (argc == IP_MAX_ARGS + 1 || used + len > sizeof args) {
            va_end(ap);
            return fail(HO_EINVAL, err, errlen, "`%s ...`: too many arguments", cmd);
        }
        argv[argc++] = memcpy(args + used, a, len);
        used += len;
        size_t cl = strlen(cmd);
        snprintf(cmd + cl, sizeof cmd - cl, " %s", a);
    }
    va_end(ap);
    argv[argc] = NULL;

    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        int e = errno;
        return fail(code_of_errno(e), err, errlen, "`%s`: pipe: %s", cmd, strerror(e));
    }
    /* ip starts with default signal handling whatever the caller blocked or ignored (the
     * emulator blocks SIGINT and SIGTERM for its signalfd). */
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, dflt;
    sigemptyset(&none);
    sigemptyset(&dflt);
    sigaddset(&dflt, SIGPIPE);
    sigaddset(&dflt, SIGINT);
    sigaddset(&dflt, SIGTERM);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &dflt);
    pid_t pid;
    int rc = posix_spawnp(&pid, "ip", &fa, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (rc != 0) {
        close(pfd[0]);
        return fail(code_of_errno(rc), err, errlen, "cannot run `%s`: %s", cmd, strerror(rc));
    }

    /* Keep the start of what ip says and drain the rest, so that it never blocks on the pipe. */
    char why[IP_ERR_LEN];
    size_t got = 0;
    for (;;) {
        char chunk[512];
        ssize_t n = read(pfd[0], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        size_t keep = sizeof why - 1 - got;
        keep = (size_t)n < keep ? (size_t)n : keep;
        memcpy(why + got, chunk, keep);
        got += keep;
    }
    close(pfd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            int e = errno;
            return fail(HO_ESTATE, err, errlen, "`%s`: waitpid: %s", cmd, strerror(e));
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return HO_OK;
    }
    /* One line: trailing blanks go, newlines become spaces. */
    while (got > 0 && (why[got - 1] == '\n' || why[got - 1] == ' ')) {
        got--;
    }
    why[got] = '\0';
    for (char *nl = strchr(why, '\n'); nl != NULL; nl = strchr(nl, '\n')) {
        *nl = ' ';
    }
    if (WIFSIGNALED(status)) {
        return fail(HO_ESTATE, err, errlen, "`%s` was killed by signal %d", cmd, WTERMSIG(status));
    }
    /* ip netns exec says "exec of "sysctl" failed: No such file or directory" and exits 255. */
    int code = strstr(why, "No such file or directory") != NULL && strstr(why, "exec") != NULL
                   ? HO_ENOENT
                   : HO_ESTATE;
    return fail(code, err, errlen, "`%s` failed (exit %d): %s", cmd, WEXITSTATUS(status),
                got > 0 ? why : "no message");
}

/* The pid a lock file holds, or -1. */
static long lock_holder(int fd)
{
    char buf[24];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) {
        return -1;
    }
    buf[n] = '\0';
    char *end;
    long pid = strtol(buf, &end, 10);
    return end != buf && pid > 0 ? pid : -1;
}

/* Takes the liveness lock of n->netns into n->lock_fd and writes our pid into it. */
static int lock_take(struct emu_net *n, char *err, size_t errlen)
{
    if (mkdir(LOCK_DIR, 0755) < 0 && errno != EEXIST) {
        int e = errno;
        return fail(code_of_errno(e), err, errlen, "cannot create %s: %s", LOCK_DIR, strerror(e));
    }
    for (int tries = 0; tries < LOCK_RETRIES; tries++) {
        int fd = open(n->lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) {
            int e = errno;
            return fail(code_of_errno(e), err, errlen, "cannot open %s: %s", n->lock_path,
                        strerror(e));
        }
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
            int e = errno;
            long holder = e == EWOULDBLOCK ? lock_holder(fd) : -1;
            close(fd);
            if (e != EWOULDBLOCK) {
                return fail(code_of_errno(e), err, errlen, "cannot lock %s: %s", n->lock_path,
                            strerror(e));
            }
            if (holder < 0) {
                return fail(HO_EEXIST, err, errlen,
                            "netns %s is in use by a running handoff emu (pid unknown)", n->netns);
            }
            return fail(HO_EEXIST, err, errlen,
                        "netns %s is in use by a running handoff emu (pid %ld)", n->netns, holder);
        }
        struct stat held, named;
        if (fstat(fd, &held) == 0 && stat(n->lock_path, &named) == 0 &&
            held.st_dev == named.st_dev && held.st_ino == named.st_ino) {
            char pid[24];
            int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
            if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
                int e = errno;
                unlink(n->lock_path);
                close(fd);
                return fail(code_of_errno(e), err, errlen, "cannot write %s: %s", n->lock_path,
                            strerror(e));
            }
            n->lock_fd = fd;
            return HO_OK;
        }
        close(fd); /* its holder unlinked it as we opened it: take the file now there */
    }
    return fail(HO_ESTATE, err, errlen, "cannot lock %s: it keeps being replaced", n->lock_path);
}

static bool netns_exists(const char *name)
{
    char path[sizeof NETNS_DIR + EMU_NET_NAME_MAX + 1];
    snprintf(path, sizeof path, "%s/%s", NETNS_DIR, name);
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Steps 2 to 4 of emu_net_up, once the lock is held. */
static int build(const struct emu_net_cfg *cfg, struct emu_net *n, char *err, size_t errlen)
{
    int rc;
    if (netns_exists(n->netns)) {
        rc = ip_run(err, errlen, "netns", "del", n->netns, NULL);
        if (rc != HO_OK) {
            return rc;
        }
        n->removed_stale = true;
    }
    rc = ip_run(err, errlen, "netns", "add", n->netns, NULL);
    if (rc != HO_OK) {
        return rc;
    }
    n->ns_made = true;
    /* A kernel without IPv6 has no such key, and nothing to turn off. */
    if (access("/proc/sys/net/ipv6", F_OK) == 0) {
        rc = ip_run(err, errlen, "netns", "exec", n->netns, "sysctl", "-qw",
                    "net.ipv6.conf.default.disable_ipv6=1", NULL);
        if (rc != HO_OK) {
            return rc;
        }
    }
    rc = ip_run(err, errlen, "-n", n->netns, "link", "set", "dev", "lo", "up", NULL);
    if (rc != HO_OK) {
        return rc;
    }
    rc = emu_net_tap_open(n->ifname, err, errlen);
    if (rc < 0) {
        return rc;
    }
    n->tap_fd = rc;
    rc = ip_run(err, errlen, "link", "set", "dev", n->ifname, "netns", n->netns, NULL);
    if (rc != HO_OK) {
        return rc;
    }
    char peer[16], addr[24], qlen[16];
    ip_format(cfg->peer_ip, peer);
    snprintf(addr, sizeof addr, "%s/%u", peer, cfg->prefix);
    snprintf(qlen, sizeof qlen, "%d", EMU_NET_TXQUEUELEN);
    rc = ip_run(err, errlen, "-n", n->netns, "addr", "add", addr, "dev", n->ifname, NULL);
    if (rc != HO_OK) {
        return rc;
    }
    return ip_run(err, errlen, "-n", n->netns, "link", "set", "dev", n->ifname, "txqueuelen", qlen,
                  "up", NULL);
}

int emu_net_up(const struct emu_net_cfg *cfg, struct emu_net *out, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0) {
        err[0] = '\0';
    }
    if (out == NULL) {
        return fail(HO_EINVAL, err, errlen, "emu_net_up: out is NULL");
    }
    *out = EMU_NET_INIT;
    if (cfg == NULL) {
        return fail(HO_EINVAL, err, errlen, "emu_net_up: cfg is NULL");
    }
    if (!name_ok(cfg->netns, EMU_NET_NAME_MAX)) {
        return fail(HO_EINVAL, err, errlen,
                    "netns name '%s' is invalid: 1 to %d characters of A-Z a-z 0-9 _ . -, "
                    "not starting with '-', not '.' or '..'",
                    cfg->netns != NULL ? cfg->netns : "(null)", EMU_NET_NAME_MAX);
    }
    if (cfg->ifname != NULL && !name_ok(cfg->ifname, EMU_NET_IFNAME_MAX)) {
        return fail(HO_EINVAL, err, errlen,
                    "interface name '%s' is invalid: 1 to %d characters of A-Z a-z 0-9 _ . -, "
                    "not starting with '-', not '.' or '..'",
                    cfg->ifname, EMU_NET_IFNAME_MAX);
    }
    int rc = addrs_check(cfg, err, errlen);
    if (rc != HO_OK) {
        return rc;
    }
    snprintf(out->netns, sizeof out->netns, "%s", cfg->netns);
    if (cfg->ifname != NULL) {
        snprintf(out->ifname, sizeof out->ifname, "%s", cfg->ifname);
    } else {
        ifname_derive(cfg->netns, out->ifname);
    }
    snprintf(out->lock_path, sizeof out->lock_path, "%s/handoff-emu-%s.lock", LOCK_DIR, cfg->netns);

    rc = lock_take(out, err, errlen);
    if (rc == HO_OK) {
        rc = build(cfg, out, err, errlen);
    }
    if (rc != HO_OK) {
        emu_net_down(out);
    }
    return rc;
}

void emu_net_down(struct emu_net *n)
{
    if (n == NULL) {
        return;
    }
    if (n->tap_fd >= 0) {
        close(n->tap_fd);
        n->tap_fd = -1;
    }
    if (n->ns_made) {
        (void)ip_run(NULL, 0, "netns", "del", n->netns, NULL);
        n->ns_made = false;
    }
    if (n->lock_fd >= 0) {
        /* Unlinked while still held: see the head comment. */
        unlink(n->lock_path);
        close(n->lock_fd);
        n->lock_fd = -1;
    }
}

int emu_net_tap_open(const char *ifname, char *err, size_t errlen)
{
    if (!name_ok(ifname, EMU_NET_IFNAME_MAX)) {
        return fail(HO_EINVAL, err, errlen, "interface name '%s' is invalid",
                    ifname != NULL ? ifname : "(null)");
    }
    int fd = open(TUN_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return fail(code_of_errno(e), err, errlen, "cannot open %s: %s", TUN_DEV, strerror(e));
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    /* IFF_TUN_EXCL: never attach to an existing device, which may be someone's persistent one.
     * The flags are a short and IFF_TUN_EXCL is its sign bit, hence the cast. */
    ifr.ifr_flags = (short)(IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL);
    memcpy(ifr.ifr_name, ifname, strlen(ifname) + 1);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        close(fd);
        if (e == EBUSY) {
            return fail(HO_EEXIST, err, errlen,
                        "cannot create TAP device %s: an interface of that name already exists",
                        ifname);
        }
        return fail(code_of_errno(e), err, errlen, "cannot create TAP device %s: %s", ifname,
                    strerror(e));
    }
    return fd;
}

void emu_net_our_mac(uint8_t mac[6], uint32_t our_ip)
{
    mac[0] = 0x02; /* locally administered, unicast */
    mac[1] = 0x48; /* 'H' */
    mac[2] = 0x4f; /* 'O' */
    mac[3] = (uint8_t)(our_ip >> 16);
    mac[4] = (uint8_t)(our_ip >> 8);
    mac[5] = (uint8_t)our_ip;
}
