/*
 * socket.c - the socket layer the application calls: listen, accept, read, send (write and
 * sendfile in one call), close, and the system calls and user work it queues on the host
 * processor (see include/handoff/os.h).
 *
 * A socket's number is its slot in the OS's table, which also places its connection state in
 * the host's memory map. Where the connection lives is the socket layer's business, not the
 * application's: on the host, calls go to the host's TCP; on the NIC, they go through the
 * driver's bypass protocol; on the way there, reads find nothing (what was received travels with
 * the state), sends wait for the NIC's answer, and a close waits for it too.
 */
#include <stdlib.h>
#include <string.h>

#include "handoff/assert.h"
#include "handoff/err.h"
#include "os_priv.h"

/* ---- socket numbers --------------------------------------------------------------------- */

static uint32_t sock_alloc(struct ho_os *os)
{
    if (os->nfree == 0) {
        uint32_t n = os->nsocks ? os->nsocks * 2 : 1024;
        struct os_sock *s = realloc(os->socks, (size_t)n * sizeof *s);
        uint32_t *f = s ? realloc(os->free_socks, (size_t)n * sizeof *f) : NULL;
        HO_ASSERT(s && f, "out of memory for %u sockets", n);
        os->socks = s;
        os->free_socks = f;
        for (uint32_t i = n; i-- > os->nsocks;) {
            memset(&s[i], 0, sizeof s[i]);
            if (i != OS_LISTEN_SOCK) {
                f[os->nfree++] = i;
            }
        }
        os->nsocks = n;
    }
    return os->free_socks[--os->nfree];
}

void os_rcv_append(struct os_bytes *q, const uint8_t *data, uint32_t n)
{
    if (n == 0) {
        return;
    }
    if (q->head + q->len + n > q->cap) {
        if (q->len > 0) {
            memmove(q->buf, q->buf + q->head, q->len);
        }
        q->head = 0;
        if (q->len + n > q->cap) {
            uint32_t cap = q->cap ? q->cap : 4096;
            while (cap < q->len + n) {
                cap *= 2;
            }
            uint8_t *b = realloc(q->buf, cap);
            HO_ASSERT(b, "out of memory for received bytes");
            q->buf = b;
            q->cap = cap;
        }
    }
    memcpy(q->buf + q->head + q->len, data, n);
    q->len += n;
}

uint32_t os_rcv_take(struct os_bytes *q, uint8_t *dst, uint32_t n)
{
    n = n < q->len ? n : q->len;
    if (n == 0) {
        return 0;
    }
    memcpy(dst, q->buf + q->head, n);
    q->head += n;
    q->len -= n;
    if (q->len == 0) {
        q->head = 0;
    }
    return n;
}

void os_sock_free(struct ho_os *os, uint32_t sock)
{
    struct os_sock *s = &os->socks[sock];
    if (os->ops.conn_done) {
        s->rec.closed = os->now;
        s->rec.bytes_in = s->bytes_in;
        s->rec.bytes_out = s->bytes_out;
        os->ops.conn_done(os->ctx, &s->rec);
    }
    free(s->blob);
    free(s->held);
    free(s->snd.buf);
    free(s->rcv.buf);
    free(s->move_log);
    memset(s, 0, sizeof *s);
    os->free_socks[os->nfree++] = sock;
    os_app_event(os, sock, HO_SO_RELEASED);
}

int os_socks_init(struct ho_os *os)
{
    /* Create the table (the listener's number stays reserved) and give the first number back. */
    uint32_t first = sock_alloc(os);
    os->free_socks[os->nfree++] = first;
    return HO_OK;
}

void os_socks_fini(struct ho_os *os)
{
    for (uint32_t i = 0; i < os->nsocks; i++) {
        struct os_sock *s = &os->socks[i];
        for (uint32_t j = 0; j < s->nheld; j++) {
            os->ops.pkt_free(os->ctx, s->held[j]);
        }
        free(s->blob);
        free(s->held);
        free(s->snd.buf);
        free(s->rcv.buf);
        free(s->move_log);
    }
    free(os->socks);
    free(os->free_socks);
}

static struct os_sock *sock_of(const struct ho_os *os, uint32_t sock)
{
    HO_ASSERT(sock < os->nsocks && os->socks[sock].in_use, "socket %u is not open", sock);
    return &os->socks[sock];
}

/* ---- calls ------------------------------------------------------------------------------ */

int ho_so_listen(struct ho_os *os, uint32_t ip, uint16_t port, uint32_t backlog)
{
    if (os->listener) {
        return HO_EEXIST;
    }
    if (os->p.somaxconn && backlog > os->p.somaxconn) {
        backlog = os->p.somaxconn;
    }
    int rc = tcpe_listen(os->stack, ip, port, backlog, &os->listener);
    if (rc != HO_OK) {
        return rc;
    }
    os->listen_port = port;
    return OS_LISTEN_SOCK;
}

int ho_so_accept(struct ho_os *os, uint64_t now)
{
    os->now = now;
    struct tcpe_conn *c = os->listener ? tcpe_accept(os->listener) : NULL;
    if (!c) {
        return HO_EAGAIN;
    }
    uint32_t sock = sock_alloc(os);
    struct os_sock *s = &os->socks[sock];
    s->in_use = true;
    s->where = OS_HOST;
    s->conn = c;
    s->tuple = *tcpe_conn_tuple(c);
    s->since = now;
    s->rec = (struct ho_conn_record){
        .sock = sock,
        .tuple = s->tuple,
        .accepted = now,
        .offered = HO_CONN_NEVER,
        .answered = HO_CONN_NEVER,
        .restore_asked = HO_CONN_NEVER,
        .back_at = HO_CONN_NEVER,
        .closed = HO_CONN_NEVER,
    };
    tcpe_conn_set_user(c, (void *)(uintptr_t)(sock + 1));
    if (os->ops.established) {
        os->ops.established(os->ctx, sock);
    }
    if (ho_sel_established(&os->sel, &s->sel, os->listen_port) == HO_SEL_OFFER) {
        os_offer(os, sock); /* what it has received goes with its state */
    }
    os_call_done(os);
    return (int)sock;
}

uint32_t ho_so_readable(const struct ho_os *os, uint32_t sock)
{
    const struct os_sock *s = sock_of(os, sock);
    switch (s->where) {
    case OS_HOST:
        return s->rcv.len + s->rx_ready + tcpe_conn_readable(s->conn);
    case OS_ON_NIC:
    case OS_RESTORING:
        return s->rx_ready;
    default:
        return 0;
    }
}

bool ho_so_eof(const struct ho_os *os, uint32_t sock)
{
    const struct os_sock *s = sock_of(os, sock);
    switch (s->where) {
    case OS_HOST:
        return s->rcv.len == 0 && s->rx_ready == 0 && tcpe_conn_eof(s->conn);
    case OS_ON_NIC:
    case OS_RESTORING:
        return s->nic_eof;
    default:
        return false;
    }
}

int ho_so_read(struct ho_os *os, uint32_t sock, uint64_t now, bool *eof)
{
    os->now = now;
    struct os_sock *s = sock_of(os, sock);
    int n = 0;
    *eof = false;
    HO_ASSERT(os->p.virtual_payload, "ho_so_read on real payload: use ho_so_recv");
    if (s->where == OS_HOST) {
        /* What the NIC delivered before a restore first, then the host TCP's. */
        n = (int)s->rx_ready + tcpe_recv(s->conn, NULL, UINT32_MAX >> 1, now);
        s->rx_ready = 0;
        *eof = tcpe_conn_eof(s->conn);
    } else if (s->where >= OS_ON_NIC) {
        n = (int)s->rx_ready;
        s->rx_ready = 0;
        *eof = s->nic_eof;
    }
    s->bytes_in += n > 0 ? (uint64_t)n : 0;
    os_call_done(os);
    return n;
}

int ho_so_recv(struct ho_os *os, uint32_t sock, void *buf, uint32_t cap, uint64_t now, bool *eof)
{
    HO_ASSERT(!os->p.virtual_payload && buf, "ho_so_recv needs real payload and a buffer");
    os->now = now;
    struct os_sock *s = sock_of(os, sock);
    cap = cap < INT32_MAX ? cap : INT32_MAX;
    uint32_t n = 0;
    if (s->where == OS_HOST) {
        /* First what the NIC delivered before the connection came back, then the host TCP's. */
        n = os_rcv_take(&s->rcv, buf, cap);
        int m = n < cap ? tcpe_recv(s->conn, (uint8_t *)buf + n, cap - n, now) : 0;
        n += m > 0 ? (uint32_t)m : 0;
        *eof = s->rcv.len == 0 && tcpe_conn_eof(s->conn);
    } else if (s->where >= OS_ON_NIC) {
        n = os_rcv_take(&s->rcv, buf, cap);
        s->rx_ready -= n;
        *eof = s->nic_eof && s->rx_ready == 0;
    }
    s->bytes_in += n;
    os_call_done(os);
    return (int)n;
}

/* The next append of a send (ho_so_send): the written bytes in one, then the file a page at a
 * time, as FreeBSD 4.7's sendfile appends one page and calls the protocol for each. */
static uint64_t next_append(uint64_t written, uint64_t file_off, uint64_t left)
{
    uint64_t chunk = written > 0 ? written : OS_PAGE_BYTES - file_off % OS_PAGE_BYTES;
    chunk = chunk < left ? chunk : left;
    return chunk < (1u << 30) ? chunk : 1u << 30;
}

/* Appends to the send buffer of a connection on the host's TCP, which sends what it can after
 * each append; see ho_so_send. */
static int64_t host_send(struct ho_os *os, uint32_t sock, const struct ho_so_src *src,
                         uint64_t written, uint64_t file_off, uint64_t len)
{
    struct os_sock *s = &os->socks[sock];
    uint64_t sent = 0;
    const uint8_t *wr = src ? src->written : NULL; /* the next written byte */
    while (sent < len) {
        uint32_t chunk = (uint32_t)next_append(written, file_off, len - sent);
        const uint8_t *data = !src ? NULL : written > 0 ? wr : src->file + file_off;
        int n = tcpe_send(s->conn, data, chunk, os->now);
        if (n <= 0) {
            break;
        }
        sent += (uint32_t)n;
        uint64_t w = (uint64_t)n < written ? (uint64_t)n : written;
        uint64_t f = (uint64_t)n - w;
        /* The appends the threshold policy counts: the written bytes, and each page of the file
         * begun (a page the buffer took only in part counts once). */
        uint64_t appends = (w > 0) + (file_off + f + OS_PAGE_BYTES - 1) / OS_PAGE_BYTES -
                           (file_off + OS_PAGE_BYTES - 1) / OS_PAGE_BYTES;
        written -= w;
        wr = wr ? wr + w : NULL;
        file_off += f;
        /* With each append the selection policy learns its bytes and what the OS knows of the
         * response's rest: the bytes this write or sendfile had still to append before it. */
        uint64_t left = len - sent + (uint64_t)n;
        bool offer = false;
        while (appends-- > 0) {
            offer |= ho_sel_enqueued_bytes(&os->sel, &s->sel, (uint32_t)n, left) == HO_SEL_OFFER;
        }
        if (offer) {
            os_offer(os, sock);
            break;
        }
    }
    return (int64_t)sent;
}

static int64_t so_send(struct ho_os *os, uint32_t sock, const struct ho_so_src *src,
                       uint64_t written, uint64_t file_off, uint64_t len, uint64_t now)
{
    os->now = now;
    struct os_sock *s = sock_of(os, sock);
    int64_t n = 0; /* on its way to the NIC: HO_SO_RESUMED will say when to go on */
    if (s->where == OS_HOST) {
        n = host_send(os, sock, src, written, file_off, len);
    } else if (s->where == OS_ON_NIC) {
        /* Each append is a SEND command, as the bypass protocol turns each protocol send of
         * the socket layer into one. */
        const uint8_t *wr = src ? src->written : NULL; /* the next written byte */
        while ((uint64_t)n < len) {
            uint64_t chunk = next_append(written, file_off, len - (uint64_t)n);
            const uint8_t *data = !src ? NULL : written > 0 ? wr : src->file + file_off;
            uint32_t m = os_nic_send(os, sock, data, chunk);
            uint64_t w = m < written ? m : written;
            written -= w;
            wr = wr ? wr + w : NULL;
            file_off += m - w;
            n += m;
            if (m < chunk) {
                break; /* the send buffer is full */
            }
        }
    }
    s = &os->socks[sock];
    s->bytes_out += n > 0 ? (uint64_t)n : 0;
    s->app_left = n >= 0 && (uint64_t)n <= len ? len - (uint64_t)n : 0;
    os_call_done(os);
    return n;
}

int64_t ho_so_send(struct ho_os *os, uint32_t sock, uint64_t written, uint64_t file_off,
                   uint64_t len, uint64_t now)
{
    HO_ASSERT(os->p.virtual_payload, "ho_so_send on real payload: use ho_so_send_data");
    return so_send(os, sock, NULL, written, file_off, len, now);
}

int64_t ho_so_send_data(struct ho_os *os, uint32_t sock, const struct ho_so_src *src,
                        uint64_t written, uint64_t file_off, uint64_t len, uint64_t now)
{
    HO_ASSERT(!os->p.virtual_payload && src && (src->written || written == 0) &&
                  (src->file || written == len),
              "ho_so_send_data needs real payload and the bytes of the send");
    return so_send(os, sock, src, written, file_off, len, now);
}

const struct tcpe_tuple *ho_so_tuple(const struct ho_os *os, uint32_t sock)
{
    return &sock_of(os, sock)->tuple;
}

void ho_so_record(const struct ho_os *os, uint32_t sock, struct ho_conn_record *out)
{
    const struct os_sock *s = sock_of(os, sock);
    *out = s->rec;
    out->bytes_in = s->bytes_in;
    out->bytes_out = s->bytes_out;
}

void ho_os_each_record(const struct ho_os *os,
                       void (*fn)(void *ctx, const struct ho_conn_record *r), void *ctx)
{
    for (uint32_t i = 0; i < os->nsocks; i++) {
        const struct os_sock *s = &os->socks[i];
        if (s->in_use && s->rec.closed == HO_CONN_NEVER) { /* accepted, not released */
            struct ho_conn_record r = s->rec;
            r.bytes_in = s->bytes_in;
            r.bytes_out = s->bytes_out;
            fn(ctx, &r);
        }
    }
}

uint32_t ho_so_count(const struct ho_os *os)
{
    return os->nsocks;
}

int ho_so_info(const struct ho_os *os, uint32_t sock, struct ho_so_info *out)
{
    if (sock >= os->nsocks || !os->socks[sock].in_use) {
        return HO_ENOENT;
    }
    const struct os_sock *s = &os->socks[sock];
    *out = (struct ho_so_info){.where = s->where,
                               .tuple = s->tuple,
                               .bytes_in = s->bytes_in,
                               .bytes_out = s->bytes_out,
                               .moves = s->moves,
                               .since = s->since};
    return HO_OK;
}

void os_sock_close(struct ho_os *os, uint32_t sock)
{
    struct os_sock *s = &os->socks[sock];
    switch (s->where) {
    case OS_HOST:
        tcpe_release(s->conn, os->now);
        os_sock_free(os, sock);
        break;
    case OS_ON_NIC:
        os_nic_close(os, sock);
        break;
    default:
        s->close_pending = true; /* closed once the NIC has answered the handoff */
    }
}

void ho_so_close(struct ho_os *os, uint32_t sock, uint64_t now)
{
    os->now = now;
    sock_of(os, sock);
    os_sock_close(os, sock);
    os_call_done(os);
}

/* ---- the application's work ------------------------------------------------------------- */

void ho_os_syscall(struct ho_os *os, unsigned calls, uint64_t copy_bytes, uint64_t arg,
                   uint64_t now)
{
    HO_ASSERT(arg <= HO_OS_APP_ARG_MAX, "application argument %llu too large",
              (unsigned long long)arg);
    os->now = now;
    const struct ho_os_costs *k = &os->p.costs;
    uint64_t cycles =
        (calls & HO_SYS_EVENT ? k->sys_event : 0) + (calls & HO_SYS_ACCEPT ? k->sys_accept : 0) +
        (calls & HO_SYS_READ ? k->sys_read : 0) + (calls & HO_SYS_WRITE ? k->sys_write : 0) +
        (calls & HO_SYS_SENDFILE ? k->sys_sendfile : 0) +
        (calls & HO_SYS_CLOSE ? k->sys_close : 0) + copy_bytes * k->copy_per_kb / 1024;
    os_run(os, HO_OS_PRIO_PROC, HO_OS_CAT_SYS, cycles, false, OS_W_ARG(OS_W_APP, arg));
}

void ho_os_user(struct ho_os *os, uint64_t cycles, uint64_t arg, uint64_t now)
{
    HO_ASSERT(arg <= HO_OS_APP_ARG_MAX, "application argument %llu too large",
              (unsigned long long)arg);
    os->now = now;
    os_run(os, HO_OS_PRIO_PROC, HO_OS_CAT_USER, cycles, false, OS_W_ARG(OS_W_APP, arg));
}
