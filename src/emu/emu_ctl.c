/*
 * emu_ctl.c - the emulator's control socket: how `handoff emu ls`, `restore`, `reset` and
 * `refuse` reach a running emulator (emu.h).
 *
 * A running emulator listens on the UNIX socket /run/handoff-emu-NAME.sock. A client connects,
 * writes one line (a command) and reads the answer until the emulator closes. The main thread
 * accepts and reads; the command is carried out by the thread that owns what it touches, and
 * the main thread waits for it and writes the answer back. The host thread, which owns the OS
 * side, carries out ls, restore and reclaim at the top of its loop (emu_host.c's emu_host_ctl); the NIC
 * thread, which owns the firmware, carries out reset, refuse and upload (emu_nic.c's emu_nic_ask_*).
 * Commands:
 *   ls                  one line per connection, as ss(8) lists sockets
 *   restore ADDR:PORT   ask the NIC to give back the connection from that peer
 *   reset               reset the NIC's firmware (docs/failures.md)
 *   refuse on|off       the firmware refuses every handoff, or takes them again
 *   upload              the NIC gives every connection back to the host (ho_nic_upload)
 *   reclaim             the host asks for every connection back (ho_os_restore_all)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "emu_priv.h"
#include "handoff/err.h"

#define CTL_LINE_MAX 256

int emu_ctl_path(const char *netns, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "/run/handoff-emu-%s.sock", netns);
    return n > 0 && (size_t)n < cap && (size_t)n < sizeof((struct sockaddr_un *)0)->sun_path
               ? HO_OK
               : HO_EINVAL;
}

int emu_ctl_open(struct emu *e, const char *netns, char *err, size_t errlen)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (emu_ctl_path(netns, sa.sun_path, sizeof sa.sun_path) != HO_OK) {
        snprintf(err, errlen, "netns name %s is too long for a control socket", netns);
        return HO_EINVAL;
    }
    /* The liveness lock is ours, so a socket file of this name is a dead run's. */
    unlink(sa.sun_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 16) != 0) {
        snprintf(err, errlen, "control socket %s: %s", sa.sun_path, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return HO_ESTATE;
    }
    e->ctl_fd = fd;
    snprintf(e->ctl_path, sizeof e->ctl_path, "%s", sa.sun_path);
    return HO_OK;
}

void emu_ctl_close(struct emu *e)
{
    if (e->ctl_fd >= 0) {
        close(e->ctl_fd);
        unlink(e->ctl_path);
        e->ctl_fd = -1;
    }
}

/* Hands line to the host thread and waits for its answer (at most 5 s). */
static char *ask_host(struct emu *e, const char *line)
{
    pthread_mutex_lock(&e->ctl_lock);
    snprintf(e->ctl_cmd, sizeof e->ctl_cmd, "%s", line);
    e->ctl_reply = NULL;
    atomic_store(&e->ctl_pending, 1);
    uint64_t one = 1;
    (void)!write(e->to_host.doorbell, &one, sizeof one);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    while (atomic_load(&e->ctl_pending) && !atomic_load(&e->stop)) {
        if (pthread_cond_timedwait(&e->ctl_done, &e->ctl_lock, &until) == ETIMEDOUT) {
            break;
        }
    }
    char *reply = e->ctl_reply;
    e->ctl_reply = NULL;
    if (atomic_exchange(&e->ctl_pending, 0)) {
        free(reply); /* not answered in time: the host thread is stuck or going down */
        reply = strdup("error: the host thread did not answer\n");
    }
    pthread_mutex_unlock(&e->ctl_lock);
    return reply;
}

/* Whether line is one of the NIC thread's commands: reset, refuse, upload. */
static bool for_nic(const char *line)
{
    return strcmp(line, "reset") == 0 || strcmp(line, "upload") == 0 ||
           (strncmp(line, "refuse", 6) == 0 && (line[6] == 0 || line[6] == ' '));
}

/* Has the NIC thread carry out reset or refuse on|off, and waits for it (at most 5 s). */
static char *ask_nic(struct emu *e, const char *line)
{
    const char *done;
    char *reply = NULL;
    if (strcmp(line, "upload") == 0) {
        emu_nic_ask_upload(e);
        if (!emu_nic_wait_asked(e, 5000000000u)) {
            return strdup("error: the NIC thread did not answer\n");
        }
        return asprintf(&reply, "the NIC gave %u connections back to the host\n",
                        atomic_load(&e->uploaded_last)) < 0
                   ? NULL
                   : reply;
    }
    if (strcmp(line, "reset") == 0) {
        emu_nic_ask_reset(e);
        done = "the NIC's firmware was reset";
    } else if (strcmp(line, "refuse on") == 0 || strcmp(line, "refuse off") == 0) {
        bool on = strcmp(line, "refuse on") == 0;
        emu_nic_ask_refuse(e, on);
        done = on ? "the NIC refuses every handoff" : "the NIC takes handoffs again";
    } else {
        return asprintf(&reply, "error: refuse wants on or off, not '%s'\n",
                        line + 6 + (line[6] == ' ')) < 0
                   ? NULL
                   : reply;
    }
    if (!emu_nic_wait_asked(e, 5000000000u)) {
        return strdup("error: the NIC thread did not answer\n");
    }
    /* The firmware's boots are numbered from 1, one more after each reset (ho_nic_info). */
    return asprintf(&reply, "%s (boot %u)\n", done, 1 + atomic_load(&e->resets_done)) < 0 ? NULL
                                                                                          : reply;
}

void emu_ctl_serve(struct emu *e)
{
    int c = accept4(e->ctl_fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) {
        return;
    }
    char line[CTL_LINE_MAX];
    size_t len = 0;
    struct pollfd pfd = {.fd = c, .events = POLLIN};
    /* One line, within a second: a client that says nothing is not waited for. */
    while (len < sizeof line - 1 && poll(&pfd, 1, 1000) == 1) {
        ssize_t n = read(c, line + len, sizeof line - 1 - len);
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
        if (memchr(line, '\n', len)) {
            break;
        }
    }
    line[len] = 0;
    line[strcspn(line, "\r\n")] = 0;
    char *reply = !line[0]        ? strdup("error: no command\n")
                  : for_nic(line) ? ask_nic(e, line)
                                  : ask_host(e, line);
    const char *out = reply ? reply : "error: out of memory\n";
    size_t left = strlen(out);
    while (left > 0) {
        ssize_t n = write(c, out, left);
        if (n <= 0) {
            break;
        }
        out += n;
        left -= (size_t)n;
    }
    free(reply);
    close(c);
}

int ho_emu_ctl(const char *netns, const char *cmd, FILE *out, char *err, size_t errlen)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (emu_ctl_path(netns, sa.sun_path, sizeof sa.sun_path) != HO_OK) {
        snprintf(err, errlen, "netns name %s is too long", netns);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        snprintf(err, errlen, "no handoff emu runs with netns %s (%s: %s)", netns, sa.sun_path,
                 strerror(e));
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    size_t len = strlen(cmd);
    if (write(fd, cmd, len) != (ssize_t)len || write(fd, "\n", 1) != 1) {
        snprintf(err, errlen, "writing to %s: %s", sa.sun_path, strerror(errno));
        close(fd);
        return -1;
    }
    char buf[65536];
    ssize_t n;
    bool error = false, first = true;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        if (first && n >= 6 && memcmp(buf, "error:", 6) == 0) {
            error = true;
        }
        first = false;
        fwrite(buf, 1, (size_t)n, error ? stderr : out);
    }
    close(fd);
    if (error) {
        snprintf(err, errlen, "the emulator refused '%s'", cmd);
        return -1;
    }
    return 0;
}
