/*
 * test_emu_net.c - the emulator's TAP device in a network namespace (src/emu/emu_net.h).
 *
 * Without root, /dev/net/tun, `ip` and `sysctl`, only the checks that touch nothing run (bad
 * configurations, the MAC address); every other case is skipped. With them, each case uses the
 * namespace ho-test-PID, unique to this process, and checks what the system says against what
 * emu_net_up promised: the namespace, the device inside it with the peer's address, up, with its
 * long queue and no IPv6, the lo up, the lock file with our pid, a working TAP fd (the kernel
 * answers an ARP request written to it), a second run refused while the first is live, a stale
 * namespace removed and flagged, a failing setup undone, and everything gone after
 * emu_net_down. Each case's teardown removes whatever its case left, even when it failed.
 */
#define _GNU_SOURCE /* pipe2, environ */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "emu_net.h"
#include "handoff/err.h"

#define OUR_IP    0x0a4d0002u /* 10.77.0.2 */
#define PEER_IP   0x0a4d0001u /* 10.77.0.1 */
#define NETNS_DIR "/var/run/netns"

struct fixture {
    char name[EMU_NET_NAME_MAX + 1]; /* ho-test-PID */
    char lock[64];                   /* its lock file */
    struct emu_net a, b;             /* the links a case builds */
    char err[512];
    char out[4096]; /* what the last command printed */
};

/* Runs PROG ARG... (ending with NULL), stdout and stderr into out. Returns its exit status, or -1
 * if it could not run or did not exit. */
static int run(char *out, size_t outlen, const char *prog, ...)
{
    char args[512];
    char *argv[24];
    int argc = 0;
    size_t used = 0;
    va_list ap;
    va_start(ap, prog);
    for (const char *a = prog; a != NULL && argc < 23; a = va_arg(ap, const char *)) {
        size_t len = strlen(a) + 1;
        assert_true(used + len <= sizeof args);
        argv[argc++] = memcpy(args + used, a, len);
        used += len;
    }
    va_end(ap);
    argv[argc] = NULL;
    int pfd[2];
    assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
    pid_t pid;
    int rc = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    size_t got = 0;
    ssize_t n = 1;
    while (rc == 0 && n != 0) {
        char chunk[512];
        n = read(pfd[0], chunk, sizeof chunk);
        if (n < 0 && errno != EINTR) {
            break;
        }
        size_t keep = n > 0 ? (size_t)n : 0;
        keep = keep < outlen - 1 - got ? keep : outlen - 1 - got;
        memcpy(out + got, chunk, keep);
        got += keep;
    }
    out[got] = '\0';
    close(pfd[0]);
    if (rc != 0) {
        return -1;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Skips the case unless this process can build namespaces and TAP devices. */
static void need_root(struct fixture *f)
{
    if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0 ||
        run(f->out, sizeof f->out, "ip", "-V", NULL) != 0 ||
        run(f->out, sizeof f->out, "sysctl", "-V", NULL) != 0) {
        printf("SKIP: needs root, /dev/net/tun, ip and sysctl\n");
        skip();
    }
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static bool netns_exists(const struct fixture *f)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", NETNS_DIR, f->name);
    return exists(path);
}

static struct emu_net_cfg cfg_of(const struct fixture *f)
{
    return (struct emu_net_cfg){
        .netns = f->name, .ifname = NULL, .our_ip = OUR_IP, .peer_ip = PEER_IP, .prefix = 24};
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL) {
        return -1;
    }
    snprintf(f->name, sizeof f->name, "ho-test-%ld", (long)getpid());
    snprintf(f->lock, sizeof f->lock, "/run/handoff-emu-%s.lock", f->name);
    f->a = EMU_NET_INIT;
    f->b = EMU_NET_INIT;
    *state = f;
    return 0;
}

/* Runs whether the case passed, failed or was skipped: nothing of ho-test-PID survives it. */
static int teardown(void **state)
{
    struct fixture *f = *state;
    emu_net_down(&f->b);
    emu_net_down(&f->a);
    if (netns_exists(f)) {
        run(f->out, sizeof f->out, "ip", "netns", "del", f->name, NULL);
    }
    unlink(f->lock); /* the name carries our pid: no one else's */
    free(f);
    return 0;
}

/* The link is held and every part of it is in place. */
static void check_live(struct fixture *f, const struct emu_net *n)
{
    assert_true(n->tap_fd >= 0);
    assert_true(n->lock_fd >= 0);
    assert_true(n->ns_made);
    assert_string_equal(n->netns, f->name);
    assert_true(fcntl(n->tap_fd, F_GETFL) & O_NONBLOCK);
    assert_true(fcntl(n->tap_fd, F_GETFD) & FD_CLOEXEC);
    assert_true(netns_exists(f));

    /* The lock file names us. */
    char want[32], got[32] = "";
    snprintf(want, sizeof want, "%ld\n", (long)getpid());
    FILE *lf = fopen(f->lock, "r");
    assert_non_null(lf);
    size_t len = fread(got, 1, sizeof got - 1, lf);
    got[len] = '\0';
    fclose(lf);
    assert_string_equal(got, want);

    /* The device lives in the namespace, not here, with the peer's address, up, a long queue. */
    assert_int_equal(if_nametoindex(n->ifname), 0);
    assert_int_equal(run(f->out, sizeof f->out, "ip", "-n", f->name, "-4", "addr", "show", "dev",
                         n->ifname, NULL),
                     0);
    if (strstr(f->out, "inet 10.77.0.1/24 ") == NULL) {
        fail_msg("no 10.77.0.1/24 on %s: %s", n->ifname, f->out);
    }
    assert_int_equal(
        run(f->out, sizeof f->out, "ip", "-n", f->name, "link", "show", "dev", n->ifname, NULL), 0);
    if (strstr(f->out, ",UP") == NULL || strstr(f->out, " qlen 10000") == NULL) {
        fail_msg("%s is not up with qlen 10000: %s", n->ifname, f->out);
    }
    assert_int_equal(
        run(f->out, sizeof f->out, "ip", "-n", f->name, "link", "show", "dev", "lo", NULL), 0);
    if (strstr(f->out, ",UP") == NULL) {
        fail_msg("lo is not up: %s", f->out);
    }
    if (exists("/proc/sys/net/ipv6")) {
        char key[96];
        snprintf(key, sizeof key, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", n->ifname);
        assert_int_equal(
            run(f->out, sizeof f->out, "ip", "netns", "exec", f->name, "cat", key, NULL), 0);
        assert_string_equal(f->out, "1\n");
    }
}

/* Writes an ARP request "who has 10.77.0.1? tell 10.77.0.2" on the TAP fd and waits up to 2 s for
 * the kernel's reply to our MAC. */
static void check_arp(int fd)
{
    uint8_t mac[6];
    emu_net_our_mac(mac, OUR_IP);
    const uint8_t ours[4] = {10, 77, 0, 2}, peer[4] = {10, 77, 0, 1};
    /* ARP over Ethernet for IPv4 (hardware type 1, protocol 0x0800, lengths 6 and 4), request. */
    const uint8_t arp_head[8] = {0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01};
    uint8_t req[42];
    memset(req, 0, sizeof req);
    memset(req, 0xff, 6); /* to everyone */
    memcpy(req + 6, mac, 6);
    req[12] = 0x08; /* ARP */
    req[13] = 0x06;
    memcpy(req + 14, arp_head, sizeof arp_head);
    memcpy(req + 22, mac, 6);
    memcpy(req + 28, ours, 4);
    memcpy(req + 38, peer, 4); /* the target's hardware address, 32..37, stays zero */
    assert_int_equal(write(fd, req, sizeof req), (ssize_t)sizeof req);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        long ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
        if (ms >= 2000) {
            fail_msg("no ARP reply from the kernel within 2 s");
        }
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, (int)(2000 - ms)) <= 0) {
            continue;
        }
        uint8_t frame[2048];
        ssize_t n = read(fd, frame, sizeof frame);
        if (n >= 42 && frame[12] == 0x08 && frame[13] == 0x06 && frame[21] == 2 &&
            memcmp(frame, mac, 6) == 0 && memcmp(frame + 28, peer, 4) == 0 &&
            memcmp(frame + 32, mac, 6) == 0 && memcmp(frame + 38, ours, 4) == 0) {
            return;
        }
    }
}

/* Everything emu_net_up made is gone, and n holds nothing. */
static void check_gone(struct fixture *f, const struct emu_net *n)
{
    assert_int_equal(n->tap_fd, -1);
    assert_int_equal(n->lock_fd, -1);
    assert_false(n->ns_made);
    assert_false(netns_exists(f));
    assert_false(exists(f->lock));
    assert_int_equal(run(f->out, sizeof f->out, "ip", "netns", "list", NULL), 0);
    if (strstr(f->out, f->name) != NULL) {
        fail_msg("ip netns list still shows %s: %s", f->name, f->out);
    }
}

static void test_up_down(void **state)
{
    struct fixture *f = *state;
    need_root(f);
    struct emu_net_cfg cfg = cfg_of(f);
    int rc = emu_net_up(&cfg, &f->a, f->err, sizeof f->err);
    if (rc != HO_OK) {
        fail_msg("emu_net_up: %d: %s", rc, f->err);
    }
    assert_string_equal(f->err, "");
    assert_false(f->a.removed_stale);
    check_live(f, &f->a);
    check_arp(f->a.tap_fd);
    emu_net_down(&f->a);
    check_gone(f, &f->a);
    assert_int_equal(if_nametoindex(f->a.ifname), 0); /* the device died, not came back here */
    /* Again: nothing is left to do. */
    emu_net_down(&f->a);
    check_gone(f, &f->a);
}

static void test_in_use(void **state)
{
    struct fixture *f = *state;
    need_root(f);
    struct emu_net_cfg cfg = cfg_of(f);
    int rc = emu_net_up(&cfg, &f->a, f->err, sizeof f->err);
    if (rc != HO_OK) {
        fail_msg("emu_net_up: %d: %s", rc, f->err);
    }
    assert_int_equal(emu_net_up(&cfg, &f->b, f->err, sizeof f->err), HO_EEXIST);
    char want[128];
    snprintf(want, sizeof want, "netns %s is in use by a running handoff emu (pid %ld)", f->name,
             (long)getpid());
    assert_string_equal(f->err, want);
    assert_int_equal(f->b.tap_fd, -1);
    assert_int_equal(f->b.lock_fd, -1);
    assert_false(f->b.ns_made);
    assert_false(f->b.removed_stale);
    /* The refused run touched nothing of the live one, and its teardown does not either. */
    emu_net_down(&f->b);
    check_live(f, &f->a);
    emu_net_down(&f->a);
    check_gone(f, &f->a);
}

static void test_stale_removed(void **state)
{
    struct fixture *f = *state;
    need_root(f);
    assert_int_equal(run(f->out, sizeof f->out, "ip", "netns", "add", f->name, NULL), 0);
    assert_true(netns_exists(f));
    struct emu_net_cfg cfg = cfg_of(f);
    int rc = emu_net_up(&cfg, &f->a, f->err, sizeof f->err);
    if (rc != HO_OK) {
        fail_msg("emu_net_up: %d: %s", rc, f->err);
    }
    assert_true(f->a.removed_stale);
    check_live(f, &f->a);
    emu_net_down(&f->a);
    check_gone(f, &f->a);
}

/* A setup that fails after it made the namespace (the device name is taken, by lo) undoes it
 * all, and still says it removed a stale namespace. */
static void test_failure_undone(void **state)
{
    struct fixture *f = *state;
    need_root(f);
    assert_int_equal(run(f->out, sizeof f->out, "ip", "netns", "add", f->name, NULL), 0);
    struct emu_net_cfg cfg = cfg_of(f);
    cfg.ifname = "lo";
    assert_int_equal(emu_net_up(&cfg, &f->a, f->err, sizeof f->err), HO_EEXIST);
    assert_string_equal(f->err,
                        "cannot create TAP device lo: an interface of that name already exists");
    assert_true(f->a.removed_stale);
    check_gone(f, &f->a);
    assert_int_not_equal(if_nametoindex("lo"), 0);
}

/* Refused before anything is touched, with a message; needs no privilege. */
static void test_bad_config(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *netns, *ifname;
        uint32_t ours, peer;
        uint8_t prefix;
        const char *says;
    } rows[] = {
        {"", NULL, OUR_IP, PEER_IP, 24, "netns name '' is invalid"},
        {".", NULL, OUR_IP, PEER_IP, 24, "netns name '.' is invalid"},
        {"..", NULL, OUR_IP, PEER_IP, 24, "netns name '..' is invalid"},
        {"-x", NULL, OUR_IP, PEER_IP, 24, "netns name '-x' is invalid"},
        {"a/b", NULL, OUR_IP, PEER_IP, 24, "netns name 'a/b' is invalid"},
        {"a b", NULL, OUR_IP, PEER_IP, 24, "netns name 'a b' is invalid"},
        {"../etc", NULL, OUR_IP, PEER_IP, 24, "netns name '../etc' is invalid"},
        {"abcdefghijklmnopqrstuvwxyz0123456", NULL, OUR_IP, PEER_IP, 24, "is invalid: 1 to 32"},
        {NULL, "0123456789abcdef", OUR_IP, PEER_IP, 24,
         "interface name '0123456789abcdef' is invalid: 1 to 15"},
        {NULL, "a:b", OUR_IP, PEER_IP, 24, "interface name 'a:b' is invalid"},
        {NULL, "", OUR_IP, PEER_IP, 24, "interface name '' is invalid"},
        {NULL, NULL, OUR_IP, OUR_IP, 24, "our address and the peer's are both 10.77.0.2"},
        {NULL, NULL, OUR_IP, 0x0a4e0001u, 24, "10.77.0.2 and 10.78.0.1 are not in one /24"},
        {NULL, NULL, OUR_IP, PEER_IP, 0, "prefix length /0 is out of range"},
        {NULL, NULL, OUR_IP, PEER_IP, 32, "prefix length /32 is out of range"},
        {NULL, NULL, 0x0a4d00ffu, PEER_IP, 24, "10.77.0.255 is the network or broadcast"},
        {NULL, NULL, OUR_IP, 0x0a4d0000u, 24, "10.77.0.0 is the network or broadcast"},
        {NULL, NULL, 0x7f000002u, 0x7f000001u, 24, "must both be unicast"},
        {NULL, NULL, 0xe0000002u, 0xe0000001u, 24, "must both be unicast"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct emu_net_cfg cfg = cfg_of(f);
        if (rows[i].netns != NULL) {
            cfg.netns = rows[i].netns;
        }
        cfg.ifname = rows[i].ifname;
        cfg.our_ip = rows[i].ours;
        cfg.peer_ip = rows[i].peer;
        cfg.prefix = rows[i].prefix;
        struct emu_net n;
        memset(&n, 0x5a, sizeof n);
        int rc = emu_net_up(&cfg, &n, f->err, sizeof f->err);
        if (rc != HO_EINVAL || strstr(f->err, rows[i].says) == NULL) {
            fail_msg("row %zu: %d '%s', want HO_EINVAL '...%s...'", i, rc, f->err, rows[i].says);
        }
        assert_int_equal(n.tap_fd, -1);
        assert_int_equal(n.lock_fd, -1);
        assert_false(n.ns_made);
        emu_net_down(&n);
    }
    assert_false(exists(f->lock));
    assert_false(netns_exists(f));
    struct emu_net_cfg cfg = cfg_of(f);
    cfg.netns = NULL;
    assert_int_equal(emu_net_up(&cfg, &f->a, f->err, sizeof f->err), HO_EINVAL);
    assert_int_equal(emu_net_up(NULL, &f->a, f->err, sizeof f->err), HO_EINVAL);
    assert_int_equal(emu_net_up(&cfg, NULL, NULL, 0), HO_EINVAL);
    emu_net_down(NULL);
    assert_int_equal(emu_net_tap_open("", f->err, sizeof f->err), HO_EINVAL);
    assert_int_equal(emu_net_tap_open("0123456789abcdef", f->err, sizeof f->err), HO_EINVAL);
    assert_int_equal(emu_net_tap_open(NULL, NULL, 0), HO_EINVAL);
}

static void test_our_mac(void **state)
{
    (void)state;
    uint8_t mac[6];
    emu_net_our_mac(mac, OUR_IP);
    const uint8_t want[6] = {0x02, 0x48, 0x4f, 0x4d, 0x00, 0x02};
    assert_memory_equal(mac, want, 6);
    assert_int_equal(mac[0] & 0x01, 0); /* unicast */
    assert_int_equal(mac[0] & 0x02, 2); /* locally administered */
    uint8_t other[6];
    emu_net_our_mac(other, PEER_IP);
    assert_memory_not_equal(mac, other, 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
        cmocka_unit_test(test_our_mac),
        cmocka_unit_test_setup_teardown(test_up_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_removed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_undone, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
