/*
 * httpd.c - the Flash-like web server (see include/handoff/app.h).
 *
 * The server keeps, per socket, where it stands with the request being read and the response
 * being sent. Its steps are queued as system calls or user work, each tagged with the step, the
 * socket and the socket's generation: a socket released while a step was queued (the client
 * closed, the connection was reset) gets a new generation, and the stale step does nothing.
 *
 *   ACCEPT   (event wait + accept) take every waiting connection; read at once what has arrived
 *   READ     (event wait + read)   read what the socket has; a whole request -> PARSE; EOF -> CLOSE
 *   PARSE    (user work)           find what is asked -> RESPOND
 *   RESPOND  (write + sendfile)    queue the header and body, as much as the buffer takes
 *   SENDMORE (event wait + sendfile) queue more when the socket has room again
 *   CLOSE    (close)
 *
 * On real payload the steps are the same; READ keeps the bytes in the connection's request
 * buffer and parses them (ho_http_parse), PARSE's work finds the file (ho_docroot_lookup, through
 * the cache of mapped files that Flash keeps too, filecache.h) and
 * builds the response head, RESPOND and SENDMORE send the head and the mapped file's bytes.
 * When a response is all queued, the next request already buffered (pipelining) is parsed, or
 * the connection is closed if the response said so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filecache.h"
#include "handoff/app.h"
#include "handoff/assert.h"
#include "handoff/err.h"

enum op { OP_ACCEPT, OP_READ, OP_PARSE, OP_RESPOND, OP_SENDMORE, OP_CLOSE };

#define GEN_MASK  0x0fffffffu /* a step's arg: generation (28 bits), op (4), socket (28) */
#define SOCK_MASK 0x0fffffffu

/* The server's state for one socket. */
struct conn {
    bool in_use;
    bool have_req;         /* a request is being read (req is valid) */
    bool closing;          /* the client closed; our close is under way */
    uint32_t gen;          /* bumped when the socket is released */
    uint32_t req_need;     /* request bytes still to read */
    uint32_t reads_queued; /* READ steps queued and not yet run */
    struct ho_app_req req; /* the request being read or parsed */
    uint64_t resp_left;    /* response bytes still to queue */
    uint64_t write_left;   /* of those, bytes written (copied), queued before the file's */
    uint64_t file_queued;  /* of the file, bytes queued so far */
    struct real *real;     /* real payload: the bytes (NULL on virtual payload) */
};

/* The cache of mapped files: how many, how many bytes, how long before an entry is checked
 * against the file system again (a changed file is served changed within that time). */
#define FILES_MAX           4096u
#define FILES_BYTES_MAX     (1ull << 30)
#define FILES_REVALIDATE_NS 1000000000ull

/* The longest response head and error body the server writes. */
#define HEAD_MAX 1024u
/* The request buffer starts this big and doubles up to the head limit. */
#define RBUF_MIN 2048u

/* A connection's bytes on real payload. */
struct real {
    char *rbuf;                 /* request bytes read and not yet consumed */
    uint32_t rlen, rcap;        /* bytes in it, its size */
    uint64_t discard;           /* bytes of a request body still to drop */
    bool eof;                   /* the peer has closed its side */
    bool close_after;           /* close once the response is queued */
    int status;                 /* the refused request's status, or 0 when it parsed */
    struct ho_http_req req;     /* the request parsed */
    char head[HEAD_MAX];        /* the response head, then any error body */
    uint32_t head_len;          /* bytes of it to send */
    const struct fc_file *file; /* the file, held while the response is queued */
    uint64_t last_ns;           /* when a byte was last read or sent */
};

struct ho_app {
    struct ho_app_params p;
    struct ho_app_ops ops;
    void *ctx;
    struct ho_os *os;
    struct conn *conns; /* by socket number */
    uint32_t nconns;
    bool real;        /* real payload (p.docroot) */
    struct fc *files; /* real payload: the cache of mapped files */
    struct ho_app_info info;
};

static uint64_t step_arg(const struct ho_app *a, uint32_t sock, enum op op)
{
    return ((uint64_t)(a->conns[sock].gen & GEN_MASK) << 32) | ((uint64_t)op << 28) | sock;
}

static void step(struct ho_app *a, uint32_t sock, enum op op, unsigned calls, uint64_t copy,
                 uint64_t now)
{
    a->conns[sock].reads_queued += op == OP_READ;
    ho_os_syscall(a->os, calls, copy, step_arg(a, sock, op), now);
}

static struct conn *conn_get(struct ho_app *a, uint32_t sock)
{
    if (sock >= a->nconns) {
        uint32_t n = a->nconns ? a->nconns : 1024;
        while (n <= sock) {
            n *= 2;
        }
        struct conn *c = realloc(a->conns, (size_t)n * sizeof *c);
        HO_ASSERT(c, "out of memory for %u connections", n);
        memset(c + a->nconns, 0, (size_t)(n - a->nconns) * sizeof *c);
        a->conns = c;
        a->nconns = n;
    }
    return &a->conns[sock];
}

/*
 * Queues as much of the response as the socket takes: the header (or a whole dynamic response) by
 * write(), then a static body by sendfile(). They are two calls, so the header leaves in a
 * segment of its own, as it does from Flash on FreeBSD 4.7 (whose sendfile sends even the
 * headers it is given by a write of their own).
 */
static void response_done(struct ho_app *a, uint32_t sock, uint64_t now);

/* push() on real payload: the same two calls, with their bytes. */
static void push_real(struct ho_app *a, uint32_t sock, uint64_t now)
{
    struct conn *c = &a->conns[sock];
    struct real *r = c->real;
    if (!c->have_req) {
        return; /* a SENDMORE queued behind the one that ended the response */
    }
    if (c->write_left > 0) {
        struct ho_so_src src = {.written = (const uint8_t *)r->head + (r->head_len - c->write_left),
                                .file = r->file ? r->file->bytes : NULL};
        int64_t n = ho_so_send_data(a->os, sock, &src, c->write_left, 0, c->write_left, now);
        r->last_ns = n > 0 ? now : r->last_ns;
        c->write_left -= (uint64_t)n;
        c->resp_left -= (uint64_t)n;
        if (c->write_left > 0) {
            return; /* the buffer is full */
        }
    }
    if (c->resp_left > 0) {
        struct ho_so_src src = {.written = NULL, .file = r->file->bytes};
        int64_t n = ho_so_send_data(a->os, sock, &src, 0, c->file_queued, c->resp_left, now);
        r->last_ns = n > 0 ? now : r->last_ns;
        c->file_queued += (uint64_t)n;
        c->resp_left -= (uint64_t)n;
    }
    if (c->resp_left == 0) {
        response_done(a, sock, now);
    }
}

static void push(struct ho_app *a, uint32_t sock, uint64_t now)
{
    struct conn *c = &a->conns[sock];
    if (a->real) {
        push_real(a, sock, now);
        return;
    }
    if (c->write_left > 0) {
        int64_t n = ho_so_send(a->os, sock, c->write_left, c->file_queued, c->write_left, now);
        c->write_left -= (uint64_t)n;
        c->resp_left -= (uint64_t)n;
        if (c->write_left > 0) {
            return; /* the buffer is full, or the connection is on its way to the NIC */
        }
    }
    if (c->resp_left > 0) {
        int64_t n = ho_so_send(a->os, sock, 0, c->file_queued, c->resp_left, now);
        c->file_queued += (uint64_t)n;
        c->resp_left -= (uint64_t)n;
    }
}

static void accept_all(struct ho_app *a, uint64_t now)
{
    int sock;
    while ((sock = ho_so_accept(a->os, now)) > 0) {
        struct conn *c = conn_get(a, (uint32_t)sock);
        uint32_t gen = c->gen;
        memset(c, 0, sizeof *c);
        c->gen = gen;
        c->in_use = true;
        if (a->real) {
            c->real = calloc(1, sizeof *c->real);
            HO_ASSERT(c->real, "out of memory for a connection");
            c->real->last_ns = now;
        }
        a->info.conns++;
        if (ho_so_readable(a->os, (uint32_t)sock) > 0 || ho_so_eof(a->os, (uint32_t)sock)) {
            /* The request arrived before accept(): its event found no socket to wake. */
            step(a, (uint32_t)sock, OP_READ, HO_SYS_READ, 0, now);
        }
    }
}

/* ---- real payload ------------------------------------------------------------------------- */

static void real_free(struct ho_app *a, struct real *r)
{
    if (r) {
        if (r->file) {
            fc_put(a->files, r->file);
        }
        free(r->rbuf);
        free(r);
    }
}

/* Drops n bytes from the front of the request buffer. */
static void consume(struct real *r, uint32_t n)
{
    memmove(r->rbuf, r->rbuf + n, r->rlen - n);
    r->rlen -= n;
}

static void close_conn(struct ho_app *a, uint32_t sock, uint64_t now)
{
    struct conn *c = &a->conns[sock];
    if (!c->closing) {
        c->closing = true;
        step(a, sock, OP_CLOSE, HO_SYS_CLOSE, 0, now);
    }
}

/* With no response under way: drops what is left of a body, then parses the next request
 * buffered, if it is whole, and queues its PARSE; or closes once the peer has and nothing is
 * left to answer. */
static void next_request(struct ho_app *a, uint32_t sock, uint64_t now)
{
    struct conn *c = &a->conns[sock];
    struct real *r = c->real;
    if (r->discard > 0) {
        uint32_t n = r->discard < r->rlen ? (uint32_t)r->discard : r->rlen;
        consume(r, n);
        r->discard -= n;
    }
    if (r->discard > 0 || r->rlen == 0) {
        if (r->eof) {
            close_conn(a, sock, now);
        }
        return;
    }
    struct ho_http_error err;
    int rc = ho_http_parse(r->rbuf, r->rlen, &a->p.limits, &r->req, &err);
    if (rc == HO_EAGAIN) {
        if (r->eof) {
            close_conn(a, sock, now); /* a request cut short: nobody is left to answer */
        }
        return;
    }
    c->have_req = true;
    if (rc > 0) {
        consume(r, (uint32_t)rc);
        r->status = 0;
        r->discard = r->req.content_length;
        uint32_t n = r->discard < r->rlen ? (uint32_t)r->discard : r->rlen;
        consume(r, n);
        r->discard -= n;
    } else {
        /* Where a refused request ends is unknown: answer, then close. */
        r->status = err.status;
        r->rlen = 0;
    }
    ho_os_user(a->os, a->p.costs.request, step_arg(a, sock, OP_PARSE), now);
}

/* READ on real payload: takes what the socket has into the request buffer, which grows up to
 * the head limit (past it the parser answers 431, so a bigger buffer would never be needed). */
static void read_real(struct ho_app *a, uint32_t sock, uint64_t now)
{
    struct conn *c = &a->conns[sock];
    struct real *r = c->real;
    uint32_t limit = a->p.limits.max_header_bytes + 1;
    bool eof = false;
    for (;;) {
        if (r->rlen == r->rcap) {
            if (r->rcap >= limit) {
                break; /* full: the rest waits in the socket */
            }
            uint32_t cap = r->rcap ? 2 * r->rcap : RBUF_MIN;
            cap = cap < limit ? cap : limit;
            char *b = realloc(r->rbuf, cap);
            HO_ASSERT(b, "out of memory for a request");
            r->rbuf = b;
            r->rcap = cap;
        }
        int n = ho_so_recv(a->os, sock, r->rbuf + r->rlen, r->rcap - r->rlen, now, &eof);
        if (n <= 0) {
            break;
        }
        r->rlen += (uint32_t)n;
        r->last_ns = now;
    }
    r->eof |= eof;
    if (!c->have_req && !c->closing) {
        next_request(a, sock, now);
    }
}

/* A short text body for a status that is not a file's. */
static int error_body(char *buf, size_t cap, int status)
{
    return snprintf(buf, cap, "%d %s\n", status, ho_http_reason(status));
}

/* PARSE's work has run: finds the file and builds the response; RESPOND sends it. */
static void respond_real(struct ho_app *a, uint32_t sock, uint64_t now)
{
    struct conn *c = &a->conns[sock];
    struct real *r = c->real;
    int status = r->status;
    bool head_only = status == 0 && r->req.method == HO_HTTP_HEAD;
    const struct fc_file *f = NULL;
    if (status == 0) {
        fc_get(a->files, a->p.docroot, r->req.path, now, &f, &status);
    }
    struct ho_http_resp resp = {.now_s = a->ops.wall_clock(a->ctx, now)};
    uint64_t body = 0;
    if (f) {
        resp.content_length = f->size;
        resp.content_type = f->content_type;
        resp.has_last_modified = f->mtime >= 0 && f->mtime <= HO_HTTP_TIME_MAX;
        resp.last_modified = f->mtime;
        if (r->req.has_ims && resp.has_last_modified && f->mtime <= r->req.ims) {
            status = 304;
        } else if (!head_only && f->size > 0) {
            r->file = f; /* held until the response is queued */
            f = NULL;
            body = r->file->size;
        }
        if (f) {
            fc_put(a->files, f);
        }
    }
    char text[64];
    int text_len = 0;
    if (status != 200 && status != 304) {
        text_len = error_body(text, sizeof text, status);
        resp.content_length = (uint64_t)text_len;
        resp.content_type = "text/plain";
        text_len = head_only ? 0 : text_len;
    }
    /* A request that parsed may keep its connection, unless the server failed (5xx). */
    bool keep = r->status == 0 && r->req.keep_alive && status < 500;
    resp.keep_alive = keep;
    int n = ho_http_format_head(r->head, sizeof r->head - sizeof text, status, &resp);
    HO_ASSERT(n > 0, "response head for status %d: %d", status, n);
    memcpy(r->head + n, text, (size_t)text_len);
    r->head_len = (uint32_t)n + (uint32_t)text_len;
    r->close_after = !keep;
    a->info.requests++;
    a->info.status[status / 100 < 6 ? status / 100 : 5]++;
    a->info.body_bytes += body;
    c->resp_left = r->head_len + body;
    c->write_left = r->head_len;
    c->file_queued = 0;
    unsigned calls = HO_SYS_WRITE | (body ? HO_SYS_SENDFILE : 0);
    step(a, sock, OP_RESPOND, calls, r->head_len, now);
}

/* The response is all queued: the next request, or the close the response announced. */
static void response_done(struct ho_app *a, uint32_t sock, uint64_t now)
{
    struct conn *c = &a->conns[sock];
    struct real *r = c->real;
    if (r->file) {
        fc_put(a->files, r->file);
        r->file = NULL;
    }
    c->have_req = false;
    if (r->close_after) {
        close_conn(a, sock, now);
        return;
    }
    next_request(a, sock, now);
    if (!c->have_req && !c->closing && c->reads_queued == 0 && ho_so_readable(a->os, sock) > 0) {
        step(a, sock, OP_READ, HO_SYS_READ, 0, now); /* bytes left in the socket while full */
    }
}

static void read_request(struct ho_app *a, uint32_t sock, uint64_t now)
{
    struct conn *c = &a->conns[sock];
    if (a->real) {
        read_real(a, sock, now);
        return;
    }
    bool eof;
    int n = ho_so_read(a->os, sock, now, &eof);
    if (n > 0 && c->req_need == 0 && !c->have_req) {
        int rc = a->ops.request(a->ctx, ho_so_tuple(a->os, sock), &c->req);
        HO_ASSERT(rc == 0, "request bytes from a client with no request");
        c->have_req = true;
        c->req_need = c->req.len;
    }
    if (n > 0) {
        c->req_need = (uint32_t)n >= c->req_need ? 0 : c->req_need - (uint32_t)n;
        if (c->req_need == 0) {
            uint64_t user = a->p.costs.request + (c->req.dynamic ? a->p.costs.dynamic : 0);
            ho_os_user(a->os, user, step_arg(a, sock, OP_PARSE), now);
        }
    }
    if (eof && !c->closing) {
        c->closing = true;
        step(a, sock, OP_CLOSE, HO_SYS_CLOSE, 0, now);
    }
}

/* The header is written (copied); a static body goes by sendfile, a dynamic one is generated
 * in user space and written too. */
static void respond(struct ho_app *a, uint32_t sock, uint64_t now)
{
    if (a->real) {
        respond_real(a, sock, now);
        return;
    }
    struct conn *c = &a->conns[sock];
    uint64_t resp = HO_APP_RESP_HDR_BYTES + c->req.body;
    uint64_t copied = c->req.dynamic ? resp : resp - c->req.body;
    unsigned calls = HO_SYS_WRITE | (!c->req.dynamic && c->req.body ? HO_SYS_SENDFILE : 0);
    a->info.requests++;
    c->resp_left = resp;
    c->write_left = copied;
    c->file_queued = 0;
    c->have_req = false;
    step(a, sock, OP_RESPOND, calls, copied, now);
}

static void on_done(void *ctx, uint64_t arg, uint64_t now)
{
    struct ho_app *a = ctx;
    uint32_t sock = (uint32_t)(arg & SOCK_MASK);
    enum op op = (enum op)((arg >> 28) & 0xf);
    if (op == OP_ACCEPT) {
        accept_all(a, now);
        return;
    }
    if (sock >= a->nconns || (a->conns[sock].gen & GEN_MASK) != (uint32_t)(arg >> 32) ||
        !a->conns[sock].in_use) {
        return; /* the socket was released before this step ran */
    }
    switch (op) {
    case OP_READ:
        a->conns[sock].reads_queued--;
        read_request(a, sock, now);
        break;
    case OP_PARSE:
        respond(a, sock, now);
        break;
    case OP_RESPOND:
    case OP_SENDMORE:
        push(a, sock, now);
        break;
    case OP_CLOSE:
        ho_so_close(a->os, sock, now);
        break;
    case OP_ACCEPT:
        break;
    }
}

static void on_event(void *ctx, uint32_t sock, unsigned ev, uint64_t now)
{
    struct ho_app *a = ctx;
    if (ev & HO_SO_ACCEPT) {
        ho_os_syscall(a->os, HO_SYS_EVENT | HO_SYS_ACCEPT, 0, (uint64_t)OP_ACCEPT << 28, now);
        return;
    }
    struct conn *c = conn_get(a, sock);
    if (ev & HO_SO_RELEASED) {
        a->info.conns -= c->in_use;
        real_free(a, c->real);
        uint32_t gen = c->gen + 1;
        memset(c, 0, sizeof *c);
        c->gen = gen;
        return;
    }
    /* A read already queued takes everything waiting when it runs, as select() would report
     * the socket only once before that read: another one would find nothing. */
    if ((ev & HO_SO_READABLE) && c->reads_queued == 0) {
        step(a, sock, OP_READ, HO_SYS_EVENT | HO_SYS_READ, 0, now);
    }
    if ((ev & HO_SO_WRITABLE) && c->resp_left > 0) {
        step(a, sock, OP_SENDMORE, HO_SYS_EVENT | HO_SYS_SENDFILE, 0, now);
    }
    if ((ev & HO_SO_RESUMED) && c->resp_left > 0) {
        push(a, sock, now); /* the call that handed the connection off goes on */
    }
}

int ho_app_create(const struct ho_app_params *p, struct ho_os *os, const struct ho_app_ops *ops,
                  void *ctx, struct ho_app **out)
{
    if (!p || !os || !ops || !out || (p->docroot ? !ops->wall_clock : !ops->request) ||
        (p->docroot &&
         (p->limits.max_header_bytes == 0 || p->limits.max_header_bytes > INT32_MAX / 2))) {
        return HO_EINVAL;
    }
    struct ho_app *a = calloc(1, sizeof *a);
    if (!a) {
        return HO_ENOMEM;
    }
    a->p = *p;
    a->ops = *ops;
    a->ctx = ctx;
    a->os = os;
    a->real = p->docroot != NULL;
    if (a->real) {
        a->files = fc_create(FILES_MAX, FILES_BYTES_MAX, FILES_REVALIDATE_NS);
        if (!a->files) {
            free(a);
            return HO_ENOMEM;
        }
    }
    int rc = ho_so_listen(os, p->ip, p->port, p->backlog);
    if (rc < 0) {
        fc_destroy(a->files);
        free(a);
        return rc;
    }
    struct ho_os_app up = {.event = on_event, .done = on_done, .ctx = a};
    ho_os_set_app(os, &up);
    *out = a;
    return HO_OK;
}

void ho_app_destroy(struct ho_app *a)
{
    if (a) {
        for (uint32_t i = 0; i < a->nconns; i++) {
            real_free(a, a->conns[i].real);
        }
        fc_destroy(a->files);
        free(a->conns);
        free(a);
    }
}

void ho_app_info(const struct ho_app *a, struct ho_app_info *info)
{
    *info = a->info;
}

uint32_t ho_app_tick(struct ho_app *a, uint64_t now)
{
    uint32_t closed = 0;
    if (!a->real || a->p.idle_ns == 0) {
        return 0;
    }
    for (uint32_t i = 0; i < a->nconns; i++) {
        struct conn *c = &a->conns[i];
        if (c->in_use && !c->closing && c->real && now >= c->real->last_ns &&
            now - c->real->last_ns >= a->p.idle_ns) {
            /* Closed at once, not by a queued step: the socket may have nothing to wake it. */
            c->closing = true;
            a->info.idle_closed++;
            closed++;
            ho_so_close(a->os, i, now);
        }
    }
    return closed;
}

int ho_app_check(const struct ho_app *a, char *why, size_t len)
{
    for (uint32_t i = 0; i < a->nconns; i++) {
        const struct conn *c = &a->conns[i];
        if (c->in_use && c->reads_queued == 0 && ho_so_readable(a->os, i) > 0) {
            snprintf(why, len, "socket %u has unread data and no read pending", i);
            return -1;
        }
    }
    return 0;
}
