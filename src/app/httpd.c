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
 */
#include <stdlib.h>
#include <string.h>

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
};

struct ho_app {
    struct ho_app_params p;
    struct ho_app_ops ops;
    void *ctx;
    struct ho_os *os;
    struct conn *conns; /* by socket number */
    uint32_t nconns;
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
static void push(struct ho_app *a, uint32_t sock, uint64_t now)
{
    struct conn *c = &a->conns[sock];
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
        if (ho_so_readable(a->os, (uint32_t)sock) > 0 || ho_so_eof(a->os, (uint32_t)sock)) {
            /* The request arrived before accept(): its event found no socket to wake. */
            step(a, (uint32_t)sock, OP_READ, HO_SYS_READ, 0, now);
        }
    }
}

static void read_request(struct ho_app *a, uint32_t sock, uint64_t now)
{
    struct conn *c = &a->conns[sock];
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
    struct conn *c = &a->conns[sock];
    uint64_t resp = HO_APP_RESP_HDR_BYTES + c->req.body;
    uint64_t copied = c->req.dynamic ? resp : resp - c->req.body;
    unsigned calls = HO_SYS_WRITE | (!c->req.dynamic && c->req.body ? HO_SYS_SENDFILE : 0);
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
    if (!p || !os || !ops || !ops->request || !out) {
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
    int rc = ho_so_listen(os, p->ip, p->port, p->backlog);
    if (rc < 0) {
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
        free(a->conns);
        free(a);
    }
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
