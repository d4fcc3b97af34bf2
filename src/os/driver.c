/*
 * driver.c - the host's device driver for the offload NIC: its handoff API, its end of the
 * command protocol (cmd.h) and the bypass protocol of the sockets whose connections it handed
 * off (paper section 2).
 *
 * Handing a connection off: its state is exported from the host's TCP and sent in a HANDOFF
 * command, and the socket switches to the bypass protocol. Until the NIC answers, packets of the
 * connection that reach the host are held; the NIC may also have classified one as a host packet
 * just before it imported the connection, and such a packet can reach the host after the reply.
 * The driver knows both kinds from its table of bypassed connections: it forwards them to the
 * NIC, or, if the NIC refused, gives them to the host's TCP along with the state.
 *
 * On a bypassed socket the application's sends become SEND commands, bounded by the send buffer
 * (which stays in host memory) less what the NIC has not yet reported acknowledged; received data
 * and the peer's FIN arrive in RECV messages, acknowledgements in ACKED, the end in CLOSED. On
 * real payload the send buffer is a ring of bytes that SENDs point into and ACKED empties, and a
 * RECV points to bytes the NIC placed in a host buffer (ops.host_take).
 *
 * Restoring: ho_os_restore sends RESTORE_REQUEST; the NIC answers with what the connection
 * received (RECV), then RESTORE with its state, which goes back into the host's TCP.
 * Commands cost the host the work of posting them, messages the work of taking them, both in the
 * network stack's category.
 */
#include <stdlib.h>
#include <string.h>

#include "handoff/assert.h"
#include "handoff/cmd.h"
#include "handoff/err.h"
#include "os_priv.h"

/* Numbers and encodes a command; it goes to the NIC once its posting work has run. */
static void post(struct ho_os *os, struct ho_cmd *cmd, uint64_t extra_cycles)
{
    cmd->seq = os->seq_out++;
    int len = ho_cmd_size(cmd);
    HO_ASSERT(len > 0, "command %s cannot be encoded (%d)", ho_cmd_type_name(cmd->type), len);
    uint32_t h;
    uint8_t *buf = ho_bufpool_alloc(&os->msgs, (uint32_t)len, &h);
    HO_ASSERT(buf, "out of memory for commands");
    int rc = ho_cmd_encode(cmd, buf, (size_t)len);
    HO_ASSERT(rc == len, "encoding %s: %d", ho_cmd_type_name(cmd->type), rc);
    os_run(os, HO_OS_PRIO_NET, HO_OS_CAT_NET, os->p.costs.msg_out + extra_cycles, false,
           OS_W_ARG(OS_W_MSG_OUT, h));
}

static void if_ring_up(struct ho_os *os);

void os_msg_out_done(struct ho_os *os, uint32_t handle)
{
    uint32_t len;
    const uint8_t *buf = ho_bufpool_get(&os->msgs, handle, &len);
    os->ops.nic_cmd(os->ctx, buf, len, os->now);
    os->cmds_since_life++;
    os_nic_given(os);
    struct ho_cmd *cmd = ho_bufpool_rec(&os->msgs, handle);
    bool ring_up = os->nic_initializing && buf[1] == HO_CMD_INIT && cmd &&
                   ho_cmd_decode(buf, len, cmd) == HO_OK && cmd->init.boot == os->init_boot;
    ho_bufpool_free(&os->msgs, handle);
    if (ring_up) {
        if_ring_up(os); /* packets posted from now on reach the new boot after its INIT */
    }
}

/* Whether the driver takes messages of this type. */
static bool driver_takes(unsigned type)
{
    return type == HO_CMD_HANDOFF_REPLY || type == HO_CMD_SOFT_LIMIT || type == HO_CMD_RECV ||
           type == HO_CMD_ACKED || type == HO_CMD_CLOSED || type == HO_CMD_RESTORE ||
           type == HO_CMD_FW_UP;
}

int ho_os_msg(struct ho_os *os, const uint8_t *msg, uint32_t len, uint64_t now)
{
    os->now = now;
    os_nic_alive(os);
    /* Decoded once, on arrival, so that what is queued can be carried out. */
    int h = ho_bufpool_put(&os->msgs, msg, len);
    struct ho_cmd *cmd = h >= 0 ? ho_bufpool_rec(&os->msgs, (uint32_t)h) : NULL;
    HO_ASSERT(cmd, "out of memory for messages");
    uint32_t got;
    const uint8_t *copy = ho_bufpool_get(&os->msgs, (uint32_t)h, &got);
    if (ho_cmd_decode(copy, got, cmd) != HO_OK || !driver_takes(cmd->type)) {
        ho_bufpool_free(&os->msgs, (uint32_t)h);
        return HO_EPROTO;
    }
    os_run(os, HO_OS_PRIO_NET, HO_OS_CAT_NET, os->p.costs.msg_in, false,
           OS_W_ARG(OS_W_MSG_IN, (uint32_t)h));
    return HO_OK;
}

/* ---- handing off ------------------------------------------------------------------------ */

/* Starts the record of a move at its offer, if the platform keeps records. */
static void move_begin(struct ho_os *os, struct os_sock *s)
{
    s->move_kept = false;
    if (!os->ops.conn_done) {
        return;
    }
    if (s->rec.nmoves == HO_CONN_MOVES_MAX) {
        s->rec.moves_untold++;
        return;
    }
    if (s->rec.nmoves == s->cap_move_log) {
        uint32_t cap = s->cap_move_log ? 2 * s->cap_move_log : 2;
        struct ho_conn_move *m = realloc(s->move_log, cap * sizeof *m);
        HO_ASSERT(m, "out of memory for a connection's moves");
        s->move_log = m;
        s->cap_move_log = cap;
    }
    s->move_log[s->rec.nmoves++] = (struct ho_conn_move){
        .offered = s->rec.offered,
        .answered = HO_CONN_NEVER,
        .restore_asked = HO_CONN_NEVER,
        .back_at = HO_CONN_NEVER,
    };
    s->rec.moves = s->move_log;
    s->move_kept = true;
}

/* The record of the move under way (the last offer's), or NULL if it is not kept. */
static struct ho_conn_move *move_now(struct os_sock *s)
{
    return s->move_kept ? &s->move_log[s->rec.nmoves - 1] : NULL;
}

/* The connection came back from the NIC, for reason back. */
static void record_back(struct ho_os *os, struct os_sock *s, enum ho_conn_back back)
{
    s->rec.back = (uint8_t)back;
    s->rec.back_at = os->now;
    struct ho_conn_move *m = move_now(s);
    if (m) {
        m->back = (uint8_t)back;
        m->back_at = os->now;
    }
}

void os_offer(struct ho_os *os, uint32_t sock)
{
    struct os_sock *s = &os->socks[sock];
    int len = tcpe_export(s->conn, os->now, NULL, 0);
    HO_ASSERT(len > 0, "connection in state %s cannot be exported",
              tcpe_state_name(tcpe_conn_state(s->conn)));
    s->blob = malloc((size_t)len);
    HO_ASSERT(s->blob, "out of memory");
    HO_ASSERT(tcpe_export(s->conn, os->now, s->blob, (size_t)len) == len, "export");
    s->blob_len = (uint32_t)len;
    s->snd_inflight = tcpe_conn_unacked(s->conn);
    tcpe_detach(s->conn);
    s->conn = NULL;
    s->where = OS_OFFERED;
    /* The record's own fields tell the last offer and what followed it. */
    s->rec.offered = os->now;
    s->rec.answered = s->rec.restore_asked = s->rec.back_at = HO_CONN_NEVER;
    s->rec.reply = 0;
    s->rec.back = HO_CONN_BACK_NONE;
    move_begin(os, s);
    int rc = ho_lookup_insert(os->bypassed, &s->tuple, sock);
    HO_ASSERT(rc == HO_OK, "connection offered twice (%d)", rc);
    struct ho_cmd cmd = {.type = HO_CMD_HANDOFF};
    cmd.handoff.conn_id = sock;
    cmd.handoff.tuple = s->tuple;
    cmd.handoff.sockbuf.snd_unacked = (uint32_t)s->snd_inflight;
    cmd.handoff.sockbuf.rcv_space = os->p.rcvbuf;
    cmd.handoff.state.len = s->blob_len;
    cmd.handoff.state.data = s->blob;
    post(os, &cmd, os->p.costs.handoff);
}

bool os_bypass_rx(struct ho_os *os, struct ho_pkt *p)
{
    if (!os->bypassed || ho_lookup_count(os->bypassed) == 0) {
        return false;
    }
    struct tcpe_tuple key = ho_lookup_key_from_rx(&p->seg);
    int sock = ho_lookup_find(os->bypassed, &key);
    if (sock < 0) {
        return false;
    }
    struct os_sock *s = &os->socks[sock];
    if (s->where >= OS_ON_NIC) {
        /* The NIC classified it as a host packet before it imported the connection, and its
         * reply overtook it; or the connection is on its way back, and the NIC, which holds it
         * until its RESTORE, either takes the packet or hands it back once it has let go. */
        os->ops.nic_forward(os->ctx, p, os->now);
        return true;
    }
    if (s->nheld == s->cap_held) {
        s->cap_held = s->cap_held ? 2 * s->cap_held : 8;
        s->held = realloc(s->held, s->cap_held * sizeof *s->held);
        HO_ASSERT(s->held, "out of memory");
    }
    s->held[s->nheld++] = p;
    os->pkts_held++;
    return true;
}

/* Gives the packets held for socket sock to the host's TCP. They are taken off the socket
 * first: the TCP's events reach the application, which may open or close sockets (moving the
 * table) meanwhile. */
static void feed_held(struct ho_os *os, uint32_t sock)
{
    struct os_sock *s = &os->socks[sock];
    struct ho_pkt **held = s->held;
    uint32_t nheld = s->nheld;
    s->held = NULL;
    s->nheld = s->cap_held = 0;
    os->pkts_held -= nheld;
    for (uint32_t i = 0; i < nheld; i++) {
        tcpe_stack_input(os->stack, &held[i]->seg, os->now);
        os->ops.pkt_free(os->ctx, held[i]);
    }
    free(held);
}

/* Socket s's connection is back in the host's TCP as c: the socket leaves the bypass protocol
 * (its shadow state and send ring go; the bytes the NIC delivered and the application has not
 * read stay in s->rcv, read before the TCP's). Returns whether the application closed it
 * meanwhile. */
static bool sock_back(struct ho_os *os, uint32_t sock, struct tcpe_conn *c)
{
    struct os_sock *s = &os->socks[sock];
    tcpe_conn_set_user(c, (void *)(uintptr_t)(sock + 1));
    ho_lookup_remove(os->bypassed, &s->tuple);
    s->conn = c;
    s->where = OS_HOST;
    s->moves++;
    free(s->blob);
    s->blob = NULL;
    s->snd_inflight = s->snd_phantom = 0;
    free(s->snd.buf);
    s->snd = (struct os_bytes){0};
    if (!os->p.virtual_payload) {
        s->rx_ready = 0; /* the delivered bytes wait in s->rcv */
    }                    /* on virtual payload rx_ready still counts them, read before the TCP's */
    s->nic_eof = false;
    bool closed = s->close_pending || s->close_sent;
    s->close_pending = s->close_sent = false;
    return closed;
}

/* Tells the application its connection is back (from RESTORE or a recovery): readable if
 * anything is, then closed on the host if it had closed it, else resumed and writable. */
static void tell_back(struct ho_os *os, uint32_t sock, struct tcpe_conn *c, bool closed)
{
    struct os_sock *s = &os->socks[sock];
    if (!s->in_use || s->conn != c) {
        return; /* closed by the application meanwhile */
    }
    if (s->rcv.len > 0 || s->rx_ready > 0 || tcpe_conn_readable(c) > 0 || tcpe_conn_eof(c)) {
        os_app_event(os, sock, HO_SO_READABLE);
    }
    if (closed) {
        os_sock_close(os, sock);
    } else if (os->socks[sock].in_use && os->socks[sock].conn == c) {
        os_app_event(os, sock, HO_SO_RESUMED | HO_SO_WRITABLE);
    }
}

static void handoff_answered(struct ho_os *os, const struct ho_cmd_handoff_reply *r)
{
    uint32_t sock = r->conn_id;
    HO_ASSERT(sock < os->nsocks && os->socks[sock].in_use && os->socks[sock].where == OS_OFFERED,
              "reply for connection %u not offered", sock);
    struct os_sock *s = &os->socks[sock];
    bool accepted = r->status == HO_CMD_ACCEPTED;
    s->rec.answered = os->now;
    s->rec.reply = (uint8_t)r->status;
    struct ho_conn_move *m = move_now(s);
    if (m) {
        m->answered = os->now;
        m->reply = (uint8_t)r->status;
    }
    s->rec.handoffs += r->status == HO_CMD_ACCEPTED;
    if (!accepted) {
        ho_lookup_remove(os->bypassed, &s->tuple);
    }
    ho_sel_reply(&os->sel, &s->sel, accepted);
    ho_sel_advertised(&os->sel, r->soft_limit);
    bool close_pending = s->close_pending;
    bool readable = false;
    if (accepted) {
        os->accepted++;
        s->where = OS_ON_NIC;
        s->moves++;
        /* What was unacknowledged at the handoff went with the state: of the bytes in flight,
         * those are acknowledged first. */
        s->snd_phantom = s->snd_inflight;
        if (!os->p.virtual_payload) {
            /* The send socket buffer the NIC reads by DMA. */
            s->snd.cap = os->p.sndbuf;
            s->snd.head = s->snd.len = 0;
            s->snd.buf = malloc(s->snd.cap);
            HO_ASSERT(s->snd.buf, "out of memory for a send buffer");
        }
        if (os->ops.handed_off) {
            os->ops.handed_off(os->ctx, sock);
        }
        for (uint32_t i = 0; i < s->nheld; i++) {
            os->ops.nic_forward(os->ctx, s->held[i], os->now);
        }
        os->pkts_held -= s->nheld;
        s->nheld = 0;
        s->nic_acked = s->nic_delivered = 0; /* the blob stays: the NIC may be lost */
    } else {
        struct tcpe_conn *c;
        int rc = tcpe_import(os->stack, s->blob, s->blob_len, os->now, &c);
        HO_ASSERT(rc == HO_OK, "a refused connection cannot come back: %s", ho_strerror(rc));
        tcpe_conn_set_user(c, (void *)(uintptr_t)(sock + 1));
        s->conn = c;
        s->where = OS_HOST;
        free(s->blob);
        s->blob = NULL;
        /* The held packets go to the host's TCP; the socket is looked up again after. */
        feed_held(os, sock);
        s = &os->socks[sock];
        if (!s->in_use || s->conn != c) {
            return; /* closed by the application meanwhile */
        }
        /* Data that came back inside the state raises no event of the TCP's. */
        readable = tcpe_conn_readable(c) > 0 || tcpe_conn_eof(c);
    }
    /* From here on the application is called: s is not used again. */
    if (readable) {
        os_app_event(os, sock, HO_SO_READABLE);
    }
    if (close_pending) {
        os_sock_close(os, sock);
    } else {
        os_app_event(os, sock, HO_SO_RESUMED);
    }
}

/* ---- the bypass protocol ---------------------------------------------------------------- */

static void post_send(struct ho_os *os, uint32_t sock, uint64_t addr, uint32_t len)
{
    struct ho_cmd cmd = {.type = HO_CMD_SEND};
    cmd.send.conn_id = sock;
    cmd.send.len = len;
    cmd.send.addr = addr;
    cmd.send.flags = HO_CMD_SEND_PUSH;
    post(os, &cmd, 0);
}

uint32_t os_nic_send(struct ho_os *os, uint32_t sock, const uint8_t *data, uint64_t len)
{
    struct os_sock *s = &os->socks[sock];
    uint64_t room = os->p.sndbuf > s->snd_inflight ? os->p.sndbuf - s->snd_inflight : 0;
    uint32_t n = (uint32_t)(len < room ? len : room);
    if (n == 0) {
        return 0;
    }
    s->snd_inflight += n;
    if (os->p.virtual_payload) {
        post_send(os, sock, sock, n);
        return n;
    }
    /* The bytes go into the ring, where they stay until acknowledged; a run that wraps is two
     * SENDs. The ring holds sndbuf bytes, and snd_inflight bounds what it holds. */
    struct os_bytes *q = &s->snd;
    uint32_t done = 0;
    while (done < n) {
        uint32_t tail = (q->head + q->len) % q->cap;
        uint32_t run = q->cap - tail < n - done ? q->cap - tail : n - done;
        memcpy(q->buf + tail, data + done, run);
        q->len += run;
        post_send(os, sock, (uint64_t)(uintptr_t)(q->buf + tail), run);
        done += run;
    }
    return n;
}

/* The NIC reports bytes acknowledged: they leave the send buffer. */
static void snd_acked(struct os_sock *s, uint32_t bytes)
{
    uint32_t phantom = s->snd_phantom < bytes ? (uint32_t)s->snd_phantom : bytes;
    s->snd_phantom -= phantom;
    bytes -= phantom;
    if (s->snd.buf) {
        HO_ASSERT(bytes <= s->snd.len, "ACKED beyond the send buffer");
        s->snd.head = (s->snd.head + bytes) % s->snd.cap;
        s->snd.len -= bytes;
    }
}

/* Asks the NIC for connection sock back (RESTORE_REQUEST); it is on the NIC, not closed there. */
static void restore_request(struct ho_os *os, uint32_t sock)
{
    struct os_sock *s = &os->socks[sock];
    s->where = OS_RESTORING;
    s->rec.restore_asked = os->now;
    struct ho_conn_move *m = move_now(s);
    if (m) {
        m->restore_asked = os->now;
    }
    struct ho_cmd cmd = {.type = HO_CMD_RESTORE_REQUEST};
    cmd.restore_request.conn_id = sock;
    cmd.restore_request.reason = HO_CMD_RREQ_RECLAIM;
    post(os, &cmd, 0);
}

int ho_os_restore(struct ho_os *os, uint32_t sock, uint64_t now)
{
    os->now = now;
    if (sock >= os->nsocks || !os->socks[sock].in_use) {
        return HO_ENOENT;
    }
    struct os_sock *s = &os->socks[sock];
    if (s->where != OS_ON_NIC || s->close_sent) {
        return HO_ESTATE; /* not on the NIC, or closed there already: nothing to take back */
    }
    restore_request(os, sock);
    os_call_done(os);
    return HO_OK;
}

/* After an ACKED: a connection on the NIC with nothing left to send, whose selection policy
 * frees slots when transfers end (ho_sel_drained), is asked back. */
static void maybe_give_back(struct ho_os *os, uint32_t sock)
{
    struct os_sock *s = &os->socks[sock];
    if (s->where == OS_ON_NIC && s->snd_inflight == 0 && s->app_left == 0 && !s->close_sent &&
        !s->close_pending && ho_sel_drained(&os->sel, &s->sel) == HO_SEL_GIVE_BACK) {
        os->given_back++;
        restore_request(os, sock);
    }
}

uint32_t ho_os_restore_all(struct ho_os *os, uint64_t now)
{
    os->now = now;
    uint32_t asked = 0;
    for (uint32_t i = 0; i < os->nsocks; i++) {
        struct os_sock *s = &os->socks[i];
        if (s->in_use && s->where == OS_ON_NIC && !s->close_sent) {
            int rc = ho_os_restore(os, i, now);
            HO_ASSERT(rc == HO_OK, "restoring connection %u: %s", i, ho_strerror(rc));
            asked++;
        }
    }
    return asked;
}

/* RESTORE: the connection's state goes back into the host's TCP. What the NIC delivered and
 * the application has not read stays in the socket, read before the TCP's. */
static void restored(struct ho_os *os, const struct ho_cmd_restore *r)
{
    uint32_t sock = r->conn_id;
    HO_ASSERT(sock < os->nsocks && os->socks[sock].in_use &&
                  (os->socks[sock].where == OS_ON_NIC || os->socks[sock].where == OS_RESTORING),
              "RESTORE for connection %u, not on the NIC", sock);
    struct os_sock *s = &os->socks[sock];
    struct tcpe_conn *c;
    int rc = tcpe_import(os->stack, r->state.data, r->state.len, os->now, &c);
    HO_ASSERT(rc == HO_OK, "a restored connection cannot come back: %s", ho_strerror(rc));
    ho_sel_left_nic(&os->sel, &s->sel);
    /* Given back unasked, the connection left the NIC while SENDs may still have been on their
     * way to it (the NIC drops them as late): their bytes, the newest in the send buffer, are
     * what the host has given and the state does not hold. ACKED came before the RESTORE. */
    uint64_t missing =
        s->snd_inflight > r->sockbuf.snd_unacked ? s->snd_inflight - r->sockbuf.snd_unacked : 0;
    uint8_t *tail = NULL;
    if (missing > 0 && !os->p.virtual_payload) {
        HO_ASSERT(missing <= s->snd.len, "%llu bytes missing of %u held",
                  (unsigned long long)missing, s->snd.len);
        tail = malloc(missing);
        HO_ASSERT(tail, "out of memory");
        for (uint32_t i = 0; i < missing; i++) {
            tail[i] = s->snd.buf[(s->snd.head + s->snd.len - missing + i) % s->snd.cap];
        }
    }
    bool closed = sock_back(os, sock, c);
    if (missing > 0) {
        rc = tcpe_send(c, tail, (uint32_t)missing, os->now);
        HO_ASSERT(rc == (int)missing, "the restored connection took %d of %llu bytes", rc,
                  (unsigned long long)missing);
    }
    free(tail);
    os->restored++;
    if (r->reason != HO_CMD_RESTORE_REQUESTED) {
        os->uploaded++;
    }
    record_back(os, s,
                r->reason == HO_CMD_RESTORE_REQUESTED  ? HO_CONN_BACK_REQUESTED
                : r->reason == HO_CMD_RESTORE_OVERLOAD ? HO_CONN_BACK_OVERLOAD
                                                       : HO_CONN_BACK_ERROR);
    tell_back(os, sock, c, closed);
}

void os_nic_close(struct ho_os *os, uint32_t sock)
{
    os->socks[sock].close_sent = true;
    struct ho_cmd cmd = {.type = HO_CMD_CLOSE};
    cmd.close.conn_id = sock;
    cmd.close.how = HO_CMD_CLOSE_CLOSE;
    post(os, &cmd, 0); /* the socket is released when the NIC says CLOSED */
}

/* ---- the NIC's resets ------------------------------------------------------------------- */

/*
 * Takes back a connection the NIC held, or was taking, when its firmware restarted: the state
 * exported at the handoff, brought up to date with what the bypass protocol said since (bytes
 * acknowledged and delivered, the peer's FIN) and the unacknowledged bytes the send socket buffer
 * still holds (tcpe_conn_resync). The firmware sends no ACK before the RECV of the bytes it
 * covers, so the host has every byte the peer saw acknowledged. A connection on its way to the
 * NIC goes back as if refused. One that cannot be taken back is reset.
 */
static void recover(struct ho_os *os, uint32_t sock)
{
    struct os_sock *s = &os->socks[sock];
    bool offered = s->where == OS_OFFERED;
    /* Closed by the application meanwhile: the FIN follows the data (and may have gone from the
     * NIC already; a peer in TIME_WAIT answers it, with no reset on either side). */
    struct tcpe_resync rs = {.shutdown = s->close_pending || s->close_sent};
    uint8_t *app = NULL;
    if (!offered) {
        rs.acked = s->nic_acked;
        rs.delivered = s->nic_delivered;
        rs.fin_received = s->nic_eof;
        rs.appended_len = s->snd_inflight - s->snd_phantom;
        if (!os->p.virtual_payload && rs.appended_len > 0) {
            /* The ring's bytes, in order: what SENDs appended and the peer has not acknowledged. */
            app = malloc(rs.appended_len);
            HO_ASSERT(app && s->snd.len == rs.appended_len, "send buffer of %u bytes for %llu",
                      s->snd.len, (unsigned long long)rs.appended_len);
            uint32_t first = s->snd.cap - s->snd.head < s->snd.len ? s->snd.cap - s->snd.head
                                                                  : s->snd.len;
            memcpy(app, s->snd.buf + s->snd.head, first);
            memcpy(app + first, s->snd.buf, s->snd.len - first);
            rs.appended = app;
        }
    }
    struct tcpe_conn *c = NULL;
    int rc = tcpe_import(os->stack, s->blob, s->blob_len, os->now, &c);
    HO_ASSERT(rc == HO_OK, "the state exported at handoff cannot come back: %s", ho_strerror(rc));
    if (offered) {
        ho_sel_reply(&os->sel, &s->sel, false);
    } else {
        ho_sel_left_nic(&os->sel, &s->sel);
    }
    bool closed = sock_back(os, sock, c);
    os->conns_recovered++;
    record_back(os, s, HO_CONN_BACK_NIC_LOST);
    rc = tcpe_conn_resync(c, &rs, os->now);
    free(app);
    if (rc != HO_OK) {
        os->conns_reset++;
        tcpe_abort(c, os->now); /* the peer hears a RST; the application, the reset */
    }
    feed_held(os, sock); /* from here on the application may be called */
    tell_back(os, sock, c, closed);
}

/*
 * FW_UP: the firmware restarted, and everything it held is gone. The send ring starts again
 * empty (packets wait in the interface queue until the INIT has gone), load control starts from
 * the Soft limit advertised, INIT answers, first of the new numbering, and every connection the
 * NIC held or was taking comes back.
 */
static void fw_up(struct ho_os *os, const struct ho_cmd_fw_up *u)
{
    os->nic_resets++;
    os->last_fw_up = os->now;
    os->accepted_at_fw_up = os->accepted;
    os->closed_at_fw_up = os->closed;
    os->restored_at_fw_up = os->restored;
    os->tx_pending -= os->tx_posted;
    os->tx_posted = 0;
    os->nic_initializing = true;
    os->init_boot = u->boot;
    ho_sel_advertised(&os->sel, u->soft_limit);
    /* INIT first: whatever the application does as its connections come back (a send that
     * offers one to the NIC again) is numbered after it. */
    os->seq_out = 0;
    struct ho_cmd init = {.type = HO_CMD_INIT};
    init.init.boot = u->boot;
    post(os, &init, 0);
    uint32_t n = os->nsocks;
    uint32_t *take = malloc((size_t)(n ? n : 1) * sizeof *take);
    HO_ASSERT(take, "out of memory");
    uint32_t ntake = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (os->socks[i].in_use && os->socks[i].where != OS_HOST) {
            take[ntake++] = i;
        }
    }
    for (uint32_t i = 0; i < ntake; i++) {
        if (os->socks[take[i]].in_use && os->socks[take[i]].where != OS_HOST) {
            recover(os, take[i]);
        }
    }
    free(take);
}

/* The socket a message from the NIC names, which must be on the NIC. */
static struct os_sock *nic_sock(struct ho_os *os, uint32_t sock, const char *what)
{
    HO_ASSERT(sock < os->nsocks && os->socks[sock].in_use &&
                  (os->socks[sock].where == OS_ON_NIC || os->socks[sock].where == OS_RESTORING),
              "%s for connection %u, not on the NIC", what, sock);
    return &os->socks[sock];
}

void os_msg_in_done(struct ho_os *os, uint32_t handle)
{
    const struct ho_cmd *cmd = ho_bufpool_rec(&os->msgs, handle); /* decoded on arrival */
    if (cmd->type == HO_CMD_FW_UP) {
        /* A new boot numbers its messages from 0. */
        os->seq_in = cmd->seq + 1;
        fw_up(os, &cmd->fw_up);
        ho_bufpool_free(&os->msgs, handle);
        os_rearm(os);
        return;
    }
    HO_ASSERT(ho_cmd_seq_gap(os->seq_in, cmd->seq) == 0, "message %u arrived where %u was expected",
              cmd->seq, os->seq_in);
    os->seq_in++;
    struct os_sock *s;
    switch (cmd->type) {
    case HO_CMD_HANDOFF_REPLY:
        handoff_answered(os, &cmd->handoff_reply);
        break;
    case HO_CMD_SOFT_LIMIT:
        ho_sel_advertised(&os->sel, cmd->soft_limit.soft_limit);
        break;
    case HO_CMD_RECV:
        s = nic_sock(os, cmd->recv.conn_id, "RECV");
        if (!os->p.virtual_payload && cmd->recv.len > 0) {
            uint8_t *dst = malloc(cmd->recv.len);
            HO_ASSERT(dst, "out of memory for received bytes");
            os->ops.host_take(os->ctx, cmd->recv.addr, dst, cmd->recv.len);
            os_rcv_append(&s->rcv, dst, cmd->recv.len);
            free(dst);
        }
        s->rx_ready += cmd->recv.len;
        s->nic_delivered += cmd->recv.len;
        s->nic_eof |= (cmd->recv.flags & HO_CMD_RECV_FIN) != 0;
        os_app_event(os, cmd->recv.conn_id, HO_SO_READABLE);
        break;
    case HO_CMD_ACKED:
        for (unsigned i = 0; i < cmd->acked.count; i++) {
            s = nic_sock(os, cmd->acked.entries[i].conn_id, "ACKED");
            HO_ASSERT(s->snd_inflight >= cmd->acked.entries[i].bytes, "ACKED more than sent");
            s->snd_inflight -= cmd->acked.entries[i].bytes;
            s->nic_acked += cmd->acked.entries[i].bytes;
            snd_acked(s, cmd->acked.entries[i].bytes);
            os_app_event(os, cmd->acked.entries[i].conn_id, HO_SO_WRITABLE);
            maybe_give_back(os, cmd->acked.entries[i].conn_id);
        }
        break;
    case HO_CMD_RESTORE:
        restored(os, &cmd->restore);
        break;
    case HO_CMD_CLOSED:
        s = nic_sock(os, cmd->closed.conn_id, "CLOSED");
        s->rec.closed_on_nic = true;
        ho_sel_left_nic(&os->sel, &s->sel);
        ho_lookup_remove(os->bypassed, &s->tuple);
        os->closed++;
        os_sock_free(os, cmd->closed.conn_id);
        break;
    default:
        HO_ASSERT(0, "%s was queued, but the driver does not take it", ho_cmd_type_name(cmd->type));
    }
    ho_bufpool_free(&os->msgs, handle);
    os_rearm(os);
}

/* ---- life ------------------------------------------------------------------------------- */

/* ---- the send ring -------------------------------------------------------------------- */

/*
 * As FreeBSD's ti(4) drives the Tigon: the send ring has tx_ring descriptors (TI_TX_RING_CNT,
 * 512), and the interface queue in front of it (if_snd) holds tx_ring - 1 packets (its
 * ifq_maxlen). ip_output refuses a packet with ENOBUFS when if_snd is full. A packet counts
 * against the two from the moment the TCP sends it: in FreeBSD it is queued within that call,
 * and here its output processing, which the model charges after, stands in line before it.
 */
bool os_if_admit(struct ho_os *os)
{
    if (os->tx_pending >= 2 * os->p.tx_ring - 1) {
        os->ifq_drops++;
        return false;
    }
    os->tx_pending++;
    return true;
}

static void if_post(struct ho_os *os, struct ho_pkt *p)
{
    os->tx_posted++;
    os->ops.nic_tx(os->ctx, p, os->now);
    os_nic_given(os);
}

void os_if_start(struct ho_os *os, struct ho_pkt *p)
{
    if (!os->nic_initializing && os->tx_posted < os->p.tx_ring) {
        if_post(os, p);
        return;
    }
    HO_ASSERT(os->ifq_len < os->ifq_cap, "interface queue overrun");
    os->ifq[(os->ifq_head + os->ifq_len++) % os->ifq_cap] = p->id;
}

/* The INIT has gone to the NIC: the send ring is up again, and the interface queue drains into
 * it. */
static void if_ring_up(struct ho_os *os)
{
    os->nic_initializing = false;
    while (os->ifq_len > 0 && os->tx_posted < os->p.tx_ring) {
        uint32_t id = os->ifq[os->ifq_head];
        os->ifq_head = (os->ifq_head + 1) % os->ifq_cap;
        os->ifq_len--;
        if_post(os, os->ops.pkt_at(os->ctx, id));
    }
}

void ho_os_tx_done(struct ho_os *os, uint64_t now)
{
    os->now = now;
    os_nic_alive(os);
    HO_ASSERT(os->tx_posted > 0 && os->tx_pending > 0, "send-ring descriptor freed twice");
    os->tx_posted--;
    os->tx_pending--;
    if (os->ifq_len > 0) {
        uint32_t id = os->ifq[os->ifq_head];
        os->ifq_head = (os->ifq_head + 1) % os->ifq_cap;
        os->ifq_len--;
        if_post(os, os->ops.pkt_at(os->ctx, id));
    }
}

/* ---- the watchdog ----------------------------------------------------------------------- */

/*
 * As FreeBSD's ti(4) watches its Tigon (if_timer, 5 s, reset by every transmit completion;
 * ti_watchdog resets the NIC when it runs out), but on every sign of life the NIC gives, not
 * transmit completions alone: a message, a received packet, a sent one. While the driver has
 * given the NIC work (a packet on the send ring, a command since its last sign of life) and no
 * sign comes for params.watchdog_ns, the NIC is hung, and the driver resets it; its FW_UP then
 * brings every connection back (fw_up). An idle NIC with nothing to do is not watched: it cannot
 * be told from a hung one, and has nothing to lose.
 */
static bool nic_owes(const struct ho_os *os)
{
    return os->tx_posted > 0 || os->cmds_since_life > 0;
}

static void wd_arm(struct ho_os *os, uint64_t when)
{
    if (when != os->wd_when) {
        os->wd_when = when;
        os->ops.watchdog(os->ctx, when, os->now);
    }
}

void os_nic_alive(struct ho_os *os)
{
    os->last_life = os->now;
    os->cmds_since_life = 0;
}

void os_nic_given(struct ho_os *os)
{
    if (os->p.watchdog_ns && os->wd_when == TCPE_NEVER) {
        wd_arm(os, os->now + os->p.watchdog_ns);
    }
}

void ho_os_watchdog(struct ho_os *os, uint64_t now)
{
    os->now = now;
    os->wd_when = TCPE_NEVER; /* the platform's watchdog has fired */
    if (!os->p.watchdog_ns || !nic_owes(os)) {
        return;
    }
    if (now - os->last_life < os->p.watchdog_ns) {
        wd_arm(os, os->last_life + os->p.watchdog_ns);
        return;
    }
    os->watchdog_resets++;
    os->last_watchdog_reset = now;
    os_nic_alive(os); /* the reset starts a new wait: for its FW_UP */
    os->ops.nic_reset(os->ctx, now);
    wd_arm(os, now + os->p.watchdog_ns);
}

/* ---- life ------------------------------------------------------------------------------- */

int os_driver_init(struct ho_os *os)
{
    os->wd_when = TCPE_NEVER;
    if (os->p.watchdog_ns && (!os->ops.watchdog || !os->ops.nic_reset)) {
        return HO_EINVAL;
    }
    /* if_snd holds tx_ring - 1 packets; twice tx_ring slots also hold, while the ring is down
     * after a reset, every packet that was on it or on its way (os_if_admit's bound). */
    os->ifq_cap = 2 * os->p.tx_ring;
    os->ifq = calloc(os->ifq_cap, sizeof *os->ifq);
    if (!os->ifq) {
        return HO_ENOMEM;
    }
    struct ho_sel_policy never = {.kind = HO_SEL_NEVER};
    if (ho_sel_init(&os->sel, os->p.nic_conns ? &os->p.selection : &never, os->p.nic_conns) !=
        HO_OK) {
        return HO_EINVAL;
    }
    if (os->p.nic_conns) {
        /* Every connection may be bypassed, with room to spare for probing. */
        struct ho_lookup_params lp = {.capacity = 2 * os->p.conns, .hash_seed = os->p.seed};
        os->bypassed = ho_lookup_create(&lp);
        if (!os->bypassed) {
            return HO_ENOMEM;
        }
    }
    return HO_OK;
}

void os_driver_fini(struct ho_os *os)
{
    for (; os->ifq && os->ifq_len > 0; os->ifq_len--) {
        os->ops.pkt_free(os->ctx, os->ops.pkt_at(os->ctx, os->ifq[os->ifq_head]));
        os->ifq_head = (os->ifq_head + 1) % os->ifq_cap;
    }
    free(os->ifq);
    ho_lookup_destroy(os->bypassed);
    ho_bufpool_fini(&os->msgs);
}
