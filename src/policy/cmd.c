/*
 * cmd.c - encoder and decoder of the handoff command protocol (include/handoff/cmd.h).
 *
 * Called by the host's driver and by the NIC firmware on both ends of the command ring, in the
 * simulator and in the emulator alike, and by trace printers.
 *
 * One table gives each type its name, direction and body size. One function, cmd_valid(),
 * holds every rule about field values, and both directions apply it: the encoder refuses what
 * the decoder would refuse, which is what makes the encoding canonical. The decoder checks the
 * envelope (version, header, sizes) before reading a field, so that once a body is read its
 * fixed part is known to be present and only the variable lengths remain to be checked.
 */
#include "handoff/cmd.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>

#include "handoff/assert.h"
#include "handoff/bytes.h"
#include "handoff/err.h"

/* Body sizes of the pieces shared between messages. */
#define TUPLE_SIZE     12 /* local_ip, remote_ip, local_port, remote_port */
#define SOCKBUF_SIZE   12 /* snd_unacked, snd_unsent, rcv_space */
#define ACK_ENTRY_SIZE 8

struct type_info {
    const char *name;
    uint8_t dir;      /* enum ho_cmd_dir */
    uint8_t variable; /* body = fixed part + a blob or a list */
    uint16_t fixed;   /* bytes of the body's fixed part (the whole body if not variable) */
};

static const struct type_info type_table[HO_CMD_TYPE_LAST + 1] = {
    [HO_CMD_HANDOFF] = {"HANDOFF", HO_CMD_TO_NIC, 1, 4 + TUPLE_SIZE + SOCKBUF_SIZE + 4},
    [HO_CMD_HANDOFF_REPLY] = {"HANDOFF_REPLY", HO_CMD_TO_HOST, 0, 4 + 4 + 1 + 4},
    [HO_CMD_RESTORE_REQUEST] = {"RESTORE_REQUEST", HO_CMD_TO_NIC, 0, 4 + 1},
    [HO_CMD_RESTORE] = {"RESTORE", HO_CMD_TO_HOST, 1, 4 + 1 + SOCKBUF_SIZE + 4},
    [HO_CMD_SOFT_LIMIT] = {"SOFT_LIMIT", HO_CMD_TO_HOST, 0, 4 + 4 + 4 + 1},
    [HO_CMD_SEND] = {"SEND", HO_CMD_TO_NIC, 0, 4 + 4 + 8 + 1},
    [HO_CMD_RECV] = {"RECV", HO_CMD_TO_HOST, 0, 4 + 4 + 8 + 1},
    [HO_CMD_RCVD] = {"RCVD", HO_CMD_TO_NIC, 0, 4 + 4},
    [HO_CMD_CLOSE] = {"CLOSE", HO_CMD_TO_NIC, 0, 4 + 1},
    [HO_CMD_CLOSED] = {"CLOSED", HO_CMD_TO_HOST, 0, 4 + 1},
    [HO_CMD_ACKED] = {"ACKED", HO_CMD_TO_HOST, 1, 2},
    [HO_CMD_FW_UP] = {"FW_UP", HO_CMD_TO_HOST, 0, 4 + 4 + 4},
    [HO_CMD_INIT] = {"INIT", HO_CMD_TO_NIC, 0, 4},
};

_Static_assert(HO_CMD_MAX_SIZE ==
                   HO_CMD_HDR_SIZE + 4 + TUPLE_SIZE + SOCKBUF_SIZE + 4 + HO_CMD_BLOB_MAX,
               "HO_CMD_MAX_SIZE must be the largest HANDOFF");
_Static_assert(HO_CMD_HDR_SIZE + 2 + HO_CMD_ACKED_MAX * ACK_ENTRY_SIZE <= HO_CMD_MAX_SIZE,
               "the largest ACKED must not exceed HO_CMD_MAX_SIZE");

static const struct type_info *type_info(int type)
{
    if (type < 1 || type > HO_CMD_TYPE_LAST) {
        return NULL;
    }
    return &type_table[type];
}

static bool blob_valid(const struct ho_cmd_blob *b)
{
    return b->len <= HO_CMD_BLOB_MAX && (b->data != NULL || b->len == 0);
}

static bool acked_valid(const struct ho_cmd_acked *a)
{
    if (a->count < 1 || a->count > HO_CMD_ACKED_MAX) {
        return false;
    }
    /* Quadratic, but over at most HO_CMD_ACKED_MAX entries and without any memory. */
    for (unsigned i = 0; i < a->count; i++) {
        if (a->entries[i].bytes == 0) {
            return false;
        }
        for (unsigned j = 0; j < i; j++) {
            if (a->entries[j].conn_id == a->entries[i].conn_id) {
                return false;
            }
        }
    }
    return true;
}

/* Every rule about field values, for the encoder and the decoder alike. */
static bool cmd_valid(const struct ho_cmd *c)
{
    switch (c->type) {
    case HO_CMD_HANDOFF:
        return blob_valid(&c->handoff.state);
    case HO_CMD_HANDOFF_REPLY:
        return c->handoff_reply.status < HO_CMD_STATUS_COUNT;
    case HO_CMD_RESTORE_REQUEST:
        return c->restore_request.reason < HO_CMD_RREQ_COUNT;
    case HO_CMD_RESTORE:
        return c->restore.reason < HO_CMD_RESTORE_COUNT && blob_valid(&c->restore.state);
    case HO_CMD_SOFT_LIMIT:
        return c->soft_limit.lc_state < HO_CMD_LC_COUNT &&
               c->soft_limit.soft_limit <= c->soft_limit.hard_limit &&
               c->soft_limit.cnum <= c->soft_limit.hard_limit;
    case HO_CMD_SEND:
        return (c->send.flags & ~HO_CMD_SEND_PUSH) == 0 && c->send.len > 0;
    case HO_CMD_RECV:
        return (c->recv.flags & ~HO_CMD_RECV_FIN) == 0 &&
               (c->recv.len > 0 || (c->recv.flags & HO_CMD_RECV_FIN));
    case HO_CMD_RCVD:
        return c->rcvd.len > 0;
    case HO_CMD_CLOSE:
        return c->close.how < HO_CMD_CLOSE_COUNT;
    case HO_CMD_CLOSED:
        return c->closed.how < HO_CMD_CLOSED_COUNT;
    case HO_CMD_ACKED:
        return acked_valid(&c->acked);
    case HO_CMD_FW_UP:
        return c->fw_up.boot >= 1 && c->fw_up.soft_limit <= c->fw_up.hard_limit;
    case HO_CMD_INIT:
        return c->init.boot >= 1;
    default:
        return false;
    }
}

/* Bytes of the variable part of the body. Only for a valid message. */
static size_t variable_size(const struct ho_cmd *c)
{
    switch (c->type) {
    case HO_CMD_HANDOFF:
        return c->handoff.state.len;
    case HO_CMD_RESTORE:
        return c->restore.state.len;
    case HO_CMD_ACKED:
        return (size_t)c->acked.count * ACK_ENTRY_SIZE;
    default:
        return 0;
    }
}

int ho_cmd_size(const struct ho_cmd *cmd)
{
    if (!cmd || !cmd_valid(cmd)) {
        return HO_EINVAL;
    }
    size_t n = HO_CMD_HDR_SIZE + type_info(cmd->type)->fixed + variable_size(cmd);
    HO_ASSERT(n <= HO_CMD_MAX_SIZE, "%s of %zu bytes", ho_cmd_type_name(cmd->type), n);
    return (int)n;
}

static void wr_tuple(struct ho_wr *w, const struct tcpe_tuple *t)
{
    ho_wr_u32(w, t->local_ip);
    ho_wr_u32(w, t->remote_ip);
    ho_wr_u16(w, t->local_port);
    ho_wr_u16(w, t->remote_port);
}

static void wr_sockbuf(struct ho_wr *w, const struct ho_cmd_sockbuf *s)
{
    ho_wr_u32(w, s->snd_unacked);
    ho_wr_u32(w, s->snd_unsent);
    ho_wr_u32(w, s->rcv_space);
}

static void wr_blob(struct ho_wr *w, const struct ho_cmd_blob *b)
{
    ho_wr_u32(w, b->len);
    ho_wr_bytes(w, b->data, b->len);
}

static void wr_data(struct ho_wr *w, const struct ho_cmd_data *d)
{
    ho_wr_u32(w, d->conn_id);
    ho_wr_u32(w, d->len);
    ho_wr_u64(w, d->addr);
    ho_wr_u8(w, d->flags);
}

static void wr_body(struct ho_wr *w, const struct ho_cmd *c)
{
    switch (c->type) {
    case HO_CMD_HANDOFF:
        ho_wr_u32(w, c->handoff.conn_id);
        wr_tuple(w, &c->handoff.tuple);
        wr_sockbuf(w, &c->handoff.sockbuf);
        wr_blob(w, &c->handoff.state);
        break;
    case HO_CMD_HANDOFF_REPLY:
        ho_wr_u32(w, c->handoff_reply.conn_id);
        ho_wr_u32(w, c->handoff_reply.req_seq);
        ho_wr_u8(w, c->handoff_reply.status);
        ho_wr_u32(w, c->handoff_reply.soft_limit);
        break;
    case HO_CMD_RESTORE_REQUEST:
        ho_wr_u32(w, c->restore_request.conn_id);
        ho_wr_u8(w, c->restore_request.reason);
        break;
    case HO_CMD_RESTORE:
        ho_wr_u32(w, c->restore.conn_id);
        ho_wr_u8(w, c->restore.reason);
        wr_sockbuf(w, &c->restore.sockbuf);
        wr_blob(w, &c->restore.state);
        break;
    case HO_CMD_SOFT_LIMIT:
        ho_wr_u32(w, c->soft_limit.soft_limit);
        ho_wr_u32(w, c->soft_limit.hard_limit);
        ho_wr_u32(w, c->soft_limit.cnum);
        ho_wr_u8(w, c->soft_limit.lc_state);
        break;
    case HO_CMD_SEND:
        wr_data(w, &c->send);
        break;
    case HO_CMD_RECV:
        wr_data(w, &c->recv);
        break;
    case HO_CMD_RCVD:
        ho_wr_u32(w, c->rcvd.conn_id);
        ho_wr_u32(w, c->rcvd.len);
        break;
    case HO_CMD_CLOSE:
        ho_wr_u32(w, c->close.conn_id);
        ho_wr_u8(w, c->close.how);
        break;
    case HO_CMD_CLOSED:
        ho_wr_u32(w, c->closed.conn_id);
        ho_wr_u8(w, c->closed.how);
        break;
    case HO_CMD_ACKED:
        ho_wr_u16(w, c->acked.count);
        for (unsigned i = 0; i < c->acked.count; i++) {
            ho_wr_u32(w, c->acked.entries[i].conn_id);
            ho_wr_u32(w, c->acked.entries[i].bytes);
        }
        break;
    case HO_CMD_FW_UP:
        ho_wr_u32(w, c->fw_up.boot);
        ho_wr_u32(w, c->fw_up.hard_limit);
        ho_wr_u32(w, c->fw_up.soft_limit);
        break;
    case HO_CMD_INIT:
        ho_wr_u32(w, c->init.boot);
        break;
    default:
        HO_ASSERT(0, "type %u passed validation", c->type);
    }
}

int ho_cmd_encode(const struct ho_cmd *cmd, uint8_t *buf, size_t cap)
{
    int size = ho_cmd_size(cmd);
    if (size < 0) {
        return size;
    }
    if (!buf) {
        return HO_EINVAL;
    }
    if ((size_t)size > cap) {
        return HO_EMSGSIZE;
    }
    struct ho_wr w;
    ho_wr_init(&w, buf, (size_t)size);
    ho_wr_u8(&w, HO_CMD_VERSION);
    ho_wr_u8(&w, cmd->type);
    ho_wr_u16(&w, 0); /* flags: none defined in version 1 */
    ho_wr_u32(&w, (uint32_t)size);
    ho_wr_u32(&w, cmd->seq);
    wr_body(&w, cmd);
    HO_ASSERT(ho_wr_error(&w) == HO_OK && w.len == (size_t)size, "%s: wrote %zu of %d bytes",
              ho_cmd_type_name(cmd->type), w.len, size);
    return size;
}

static void rd_tuple(struct ho_rd *r, struct tcpe_tuple *t)
{
    t->local_ip = ho_rd_u32(r);
    t->remote_ip = ho_rd_u32(r);
    t->local_port = ho_rd_u16(r);
    t->remote_port = ho_rd_u16(r);
}

static void rd_sockbuf(struct ho_rd *r, struct ho_cmd_sockbuf *s)
{
    s->snd_unacked = ho_rd_u32(r);
    s->snd_unsent = ho_rd_u32(r);
    s->rcv_space = ho_rd_u32(r);
}

/* The blob is the last field of its message: its length must account for every byte left. */
static int rd_blob(struct ho_rd *r, struct ho_cmd_blob *b)
{
    uint32_t n = ho_rd_u32(r);
    if (ho_rd_error(r) != HO_OK) {
        return HO_EMSGSIZE;
    }
    if (n > HO_CMD_BLOB_MAX || n != ho_rd_left(r)) {
        return HO_EPROTO;
    }
    b->len = n;
    b->data = n > 0 ? r->buf + r->pos : NULL;
    ho_rd_bytes(r, NULL, n);
    return HO_OK;
}

static void rd_data(struct ho_rd *r, struct ho_cmd_data *d)
{
    d->conn_id = ho_rd_u32(r);
    d->len = ho_rd_u32(r);
    d->addr = ho_rd_u64(r);
    d->flags = ho_rd_u8(r);
}

/* Reads the body of c->type; the envelope checks guarantee the fixed part is present. */
/* Bytes of the union member a message of this type fills (ACKED: its count, the entries being
 * written one by one). */
static size_t member_size(uint8_t type)
{
    switch (type) {
    case HO_CMD_HANDOFF:
        return sizeof(struct ho_cmd_handoff);
    case HO_CMD_HANDOFF_REPLY:
        return sizeof(struct ho_cmd_handoff_reply);
    case HO_CMD_RESTORE_REQUEST:
        return sizeof(struct ho_cmd_restore_request);
    case HO_CMD_RESTORE:
        return sizeof(struct ho_cmd_restore);
    case HO_CMD_SOFT_LIMIT:
        return sizeof(struct ho_cmd_soft_limit);
    case HO_CMD_SEND:
    case HO_CMD_RECV:
        return sizeof(struct ho_cmd_data);
    case HO_CMD_RCVD:
        return sizeof(struct ho_cmd_rcvd);
    case HO_CMD_CLOSE:
    case HO_CMD_CLOSED:
        return sizeof(struct ho_cmd_close);
    case HO_CMD_FW_UP:
        return sizeof(struct ho_cmd_fw_up);
    case HO_CMD_INIT:
        return sizeof(struct ho_cmd_init);
    default:
        return offsetof(struct ho_cmd_acked, entries);
    }
}

static int rd_body(struct ho_rd *r, struct ho_cmd *c)
{
    switch (c->type) {
    case HO_CMD_HANDOFF:
        c->handoff.conn_id = ho_rd_u32(r);
        rd_tuple(r, &c->handoff.tuple);
        rd_sockbuf(r, &c->handoff.sockbuf);
        return rd_blob(r, &c->handoff.state);
    case HO_CMD_HANDOFF_REPLY:
        c->handoff_reply.conn_id = ho_rd_u32(r);
        c->handoff_reply.req_seq = ho_rd_u32(r);
        c->handoff_reply.status = ho_rd_u8(r);
        c->handoff_reply.soft_limit = ho_rd_u32(r);
        return HO_OK;
    case HO_CMD_RESTORE_REQUEST:
        c->restore_request.conn_id = ho_rd_u32(r);
        c->restore_request.reason = ho_rd_u8(r);
        return HO_OK;
    case HO_CMD_RESTORE:
        c->restore.conn_id = ho_rd_u32(r);
        c->restore.reason = ho_rd_u8(r);
        rd_sockbuf(r, &c->restore.sockbuf);
        return rd_blob(r, &c->restore.state);
    case HO_CMD_SOFT_LIMIT:
        c->soft_limit.soft_limit = ho_rd_u32(r);
        c->soft_limit.hard_limit = ho_rd_u32(r);
        c->soft_limit.cnum = ho_rd_u32(r);
        c->soft_limit.lc_state = ho_rd_u8(r);
        return HO_OK;
    case HO_CMD_SEND:
        rd_data(r, &c->send);
        return HO_OK;
    case HO_CMD_RECV:
        rd_data(r, &c->recv);
        return HO_OK;
    case HO_CMD_RCVD:
        c->rcvd.conn_id = ho_rd_u32(r);
        c->rcvd.len = ho_rd_u32(r);
        return HO_OK;
    case HO_CMD_CLOSE:
        c->close.conn_id = ho_rd_u32(r);
        c->close.how = ho_rd_u8(r);
        return HO_OK;
    case HO_CMD_CLOSED:
        c->closed.conn_id = ho_rd_u32(r);
        c->closed.how = ho_rd_u8(r);
        return HO_OK;
    case HO_CMD_ACKED: {
        uint16_t count = ho_rd_u16(r);
        if (count > HO_CMD_ACKED_MAX || (size_t)count * ACK_ENTRY_SIZE != ho_rd_left(r)) {
            return HO_EPROTO;
        }
        c->acked.count = count;
        for (unsigned i = 0; i < count; i++) {
            c->acked.entries[i].conn_id = ho_rd_u32(r);
            c->acked.entries[i].bytes = ho_rd_u32(r);
        }
        return HO_OK;
    }
    case HO_CMD_FW_UP:
        c->fw_up.boot = ho_rd_u32(r);
        c->fw_up.hard_limit = ho_rd_u32(r);
        c->fw_up.soft_limit = ho_rd_u32(r);
        return HO_OK;
    case HO_CMD_INIT:
        c->init.boot = ho_rd_u32(r);
        return HO_OK;
    default:
        HO_ASSERT(0, "type %u passed the envelope checks", c->type);
        return HO_EPROTO;
    }
}

int ho_cmd_decode(const uint8_t *buf, size_t len, struct ho_cmd *out)
{
    if (!out || (!buf && len > 0)) {
        return HO_EINVAL;
    }
    /* The version byte comes first in every version, so it is judged before anything else. */
    if (len > 0 && buf[0] != HO_CMD_VERSION) {
        return HO_EVERSION;
    }
    if (len < HO_CMD_HDR_SIZE) {
        return HO_EMSGSIZE;
    }
    struct ho_rd r;
    ho_rd_init(&r, buf, len);
    (void)ho_rd_u8(&r); /* version, checked above */
    uint8_t type = ho_rd_u8(&r);
    uint16_t flags = ho_rd_u16(&r);
    uint32_t total = ho_rd_u32(&r);
    uint32_t seq = ho_rd_u32(&r);
    const struct type_info *ti = type_info(type);
    if (!ti || flags != 0) {
        return HO_EPROTO;
    }
    if (total != len) {
        return HO_EMSGSIZE;
    }
    size_t body = len - HO_CMD_HDR_SIZE;
    if (ti->variable ? body < ti->fixed : body != ti->fixed) {
        return HO_EMSGSIZE;
    }
    /* Only the header and the type's own member are written (a full struct ho_cmd is over 500
     * bytes, mostly ACKED's entries); the member is cleared first so that padding and unused
     * entries hold no stale bytes. */
    memset(out, 0, offsetof(struct ho_cmd, handoff) + member_size(type));
    out->type = type;
    out->seq = seq;
    int rc = rd_body(&r, out);
    if (rc != HO_OK) {
        return rc;
    }
    HO_ASSERT(ho_rd_error(&r) == HO_OK && ho_rd_left(&r) == 0, "%s: %zu bytes left", ti->name,
              ho_rd_left(&r));
    return cmd_valid(out) ? HO_OK : HO_EPROTO;
}

const char *ho_cmd_type_name(int type)
{
    const struct type_info *ti = type_info(type);
    return ti ? ti->name : "UNKNOWN";
}

int ho_cmd_type_dir(int type)
{
    const struct type_info *ti = type_info(type);
    return ti ? ti->dir : HO_EINVAL;
}

/* names[v] for v in [0, n), "?" otherwise. */
static const char *name_of(const char *const *names, int n, int v)
{
    return v >= 0 && v < n ? names[v] : "?";
}

const char *ho_cmd_status_name(int status)
{
    static const char *const names[HO_CMD_STATUS_COUNT] = {
        [HO_CMD_ACCEPTED] = "accepted",
        [HO_CMD_REFUSED_SOFT_LIMIT] = "soft-limit",
        [HO_CMD_REFUSED_HARD_LIMIT] = "hard-limit",
        [HO_CMD_REFUSED_NOMEM] = "no-memory",
        [HO_CMD_REFUSED_BAD_VERSION] = "bad-version",
        [HO_CMD_REFUSED_BAD_STATE] = "bad-state",
    };
    return name_of(names, HO_CMD_STATUS_COUNT, status);
}

const char *ho_cmd_restore_reason_name(int reason)
{
    static const char *const names[HO_CMD_RESTORE_COUNT] = {
        [HO_CMD_RESTORE_REQUESTED] = "requested",
        [HO_CMD_RESTORE_OVERLOAD] = "overload",
        [HO_CMD_RESTORE_ERROR] = "error",
    };
    return name_of(names, HO_CMD_RESTORE_COUNT, reason);
}

static const char *rreq_reason_name(int reason)
{
    static const char *const names[HO_CMD_RREQ_COUNT] = {
        [HO_CMD_RREQ_RECLAIM] = "reclaim",
        [HO_CMD_RREQ_ROUTE] = "route",
        [HO_CMD_RREQ_DETACH] = "detach",
    };
    return name_of(names, HO_CMD_RREQ_COUNT, reason);
}

static const char *lc_state_name(int state)
{
    static const char *const names[HO_CMD_LC_COUNT] = {
        [HO_CMD_LC_MONITOR] = "MONITOR",
        [HO_CMD_LC_DECREASE] = "DECREASE",
        [HO_CMD_LC_INCREASE] = "INCREASE",
    };
    return name_of(names, HO_CMD_LC_COUNT, state);
}

static const char *close_how_name(int how)
{
    static const char *const names[HO_CMD_CLOSE_COUNT] = {
        [HO_CMD_CLOSE_SHUT_WR] = "shut-wr",
        [HO_CMD_CLOSE_CLOSE] = "close",
        [HO_CMD_CLOSE_ABORT] = "abort",
    };
    return name_of(names, HO_CMD_CLOSE_COUNT, how);
}

static const char *closed_how_name(int how)
{
    static const char *const names[HO_CMD_CLOSED_COUNT] = {
        [HO_CMD_CLOSED_NORMAL] = "normal",
        [HO_CMD_CLOSED_RESET] = "reset",
        [HO_CMD_CLOSED_TIMEOUT] = "timeout",
        [HO_CMD_CLOSED_ABORTED] = "aborted",
    };
    return name_of(names, HO_CMD_CLOSED_COUNT, how);
}

/* snprintf into buf at *used, keeping *used the length the whole line needs. */
__attribute__((format(printf, 4, 5))) static void put(char *buf, size_t cap, size_t *used,
                                                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *at = *used < cap ? buf + *used : NULL;
    size_t room = *used < cap ? cap - *used : 0;
    int n = vsnprintf(at, room, fmt, ap);
    va_end(ap);
    if (n > 0) {
        *used += (size_t)n;
    }
}

static void put_tuple(char *buf, size_t cap, size_t *used, const struct tcpe_tuple *t)
{
    put(buf, cap, used, " %u.%u.%u.%u:%u-%u.%u.%u.%u:%u", t->local_ip >> 24,
        (t->local_ip >> 16) & 0xff, (t->local_ip >> 8) & 0xff, t->local_ip & 0xff, t->local_port,
        t->remote_ip >> 24, (t->remote_ip >> 16) & 0xff, (t->remote_ip >> 8) & 0xff,
        t->remote_ip & 0xff, t->remote_port);
}

static void put_sockbuf(char *buf, size_t cap, size_t *used, const struct ho_cmd_sockbuf *s)
{
    put(buf, cap, used, " snd_unacked=%u snd_unsent=%u rcv_space=%u", s->snd_unacked, s->snd_unsent,
        s->rcv_space);
}

int ho_cmd_format(const struct ho_cmd *cmd, char *buf, size_t cap)
{
    if (!cmd || (!buf && cap > 0)) {
        return HO_EINVAL;
    }
    if (cap > 0) {
        buf[0] = '\0';
    }
    size_t used = 0;
    const struct ho_cmd *c = cmd;
    put(buf, cap, &used, "%s seq=%u", ho_cmd_type_name(c->type), c->seq);
    switch (c->type) {
    case HO_CMD_HANDOFF:
        put(buf, cap, &used, " conn=%u", c->handoff.conn_id);
        put_tuple(buf, cap, &used, &c->handoff.tuple);
        put_sockbuf(buf, cap, &used, &c->handoff.sockbuf);
        put(buf, cap, &used, " state=%uB", c->handoff.state.len);
        break;
    case HO_CMD_HANDOFF_REPLY:
        put(buf, cap, &used, " conn=%u req_seq=%u status=%s soft_limit=%u",
            c->handoff_reply.conn_id, c->handoff_reply.req_seq,
            ho_cmd_status_name(c->handoff_reply.status), c->handoff_reply.soft_limit);
        break;
    case HO_CMD_RESTORE_REQUEST:
        put(buf, cap, &used, " conn=%u reason=%s", c->restore_request.conn_id,
            rreq_reason_name(c->restore_request.reason));
        break;
    case HO_CMD_RESTORE:
        put(buf, cap, &used, " conn=%u reason=%s", c->restore.conn_id,
            ho_cmd_restore_reason_name(c->restore.reason));
        put_sockbuf(buf, cap, &used, &c->restore.sockbuf);
        put(buf, cap, &used, " state=%uB", c->restore.state.len);
        break;
    case HO_CMD_SOFT_LIMIT:
        put(buf, cap, &used, " soft=%u hard=%u cnum=%u state=%s", c->soft_limit.soft_limit,
            c->soft_limit.hard_limit, c->soft_limit.cnum, lc_state_name(c->soft_limit.lc_state));
        break;
    case HO_CMD_SEND:
    case HO_CMD_RECV: {
        const struct ho_cmd_data *d = c->type == HO_CMD_SEND ? &c->send : &c->recv;
        const char *flag = c->type == HO_CMD_SEND ? "push" : "fin";
        put(buf, cap, &used, " conn=%u len=%u addr=0x%llx%s%s", d->conn_id, d->len,
            (unsigned long long)d->addr, (d->flags & 1) ? " " : "", (d->flags & 1) ? flag : "");
        break;
    }
    case HO_CMD_RCVD:
        put(buf, cap, &used, " conn=%u len=%u", c->rcvd.conn_id, c->rcvd.len);
        break;
    case HO_CMD_CLOSE:
        put(buf, cap, &used, " conn=%u how=%s", c->close.conn_id, close_how_name(c->close.how));
        break;
    case HO_CMD_CLOSED:
        put(buf, cap, &used, " conn=%u how=%s", c->closed.conn_id, closed_how_name(c->closed.how));
        break;
    case HO_CMD_ACKED: {
        unsigned n = c->acked.count <= HO_CMD_ACKED_MAX ? c->acked.count : HO_CMD_ACKED_MAX;
        put(buf, cap, &used, " count=%u", c->acked.count);
        for (unsigned i = 0; i < n; i++) {
            put(buf, cap, &used, " %u:%u", c->acked.entries[i].conn_id, c->acked.entries[i].bytes);
        }
        break;
    }
    case HO_CMD_FW_UP:
        put(buf, cap, &used, " boot=%u hard=%u soft=%u", c->fw_up.boot, c->fw_up.hard_limit,
            c->fw_up.soft_limit);
        break;
    case HO_CMD_INIT:
        put(buf, cap, &used, " boot=%u", c->init.boot);
        break;
    default:
        break;
    }
    HO_ASSERT(used < INT_MAX, "%zu", used);
    return (int)used;
}

int ho_cmd_seq_gap(uint32_t expected, uint32_t got)
{
    uint32_t ahead = got - expected; /* modulo 2^32 */
    if (ahead >= UINT32_C(0x80000000)) {
        return HO_EPROTO;
    }
    return (int)ahead;
}
