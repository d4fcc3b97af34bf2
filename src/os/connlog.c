/*
 * connlog.c - a connection's life as one line of JSON (struct ho_conn_record, include/handoff/
 * os.h): the format of `handoff run --conn-log`. Pure formatting: no I/O, no allocation.
 */
#include <stdio.h>

#include "handoff/cmd.h"
#include "handoff/os.h"

const char *ho_conn_back_name(enum ho_conn_back b)
{
    static const char *const names[HO_CONN_NBACKS] = {
        [HO_CONN_BACK_NONE] = "none",         [HO_CONN_BACK_REQUESTED] = "requested",
        [HO_CONN_BACK_OVERLOAD] = "overload", [HO_CONN_BACK_ERROR] = "error",
        [HO_CONN_BACK_NIC_LOST] = "nic_lost",
    };
    return (unsigned)b < HO_CONN_NBACKS ? names[b] : "?";
}

/* Appends to buf[*at..len) as snprintf would, keeping the length the whole line needs. */
#define PUT(...)                                                                                   \
    do {                                                                                           \
        size_t room_ = *at < len ? len - *at : 0;                                                  \
        int n_ = snprintf(room_ ? buf + *at : NULL, room_, __VA_ARGS__);                           \
        *at += n_ > 0 ? (size_t)n_ : 0;                                                            \
    } while (0)

/* ,"key":ms with a time in ns as ms, or null. */
static void put_time(char *buf, size_t len, size_t *at, const char *key, uint64_t ns)
{
    if (ns == HO_CONN_NEVER) {
        PUT(",\"%s\":null", key);
    } else {
        PUT(",\"%s\":%.6f", key, (double)ns / 1e6);
    }
}

static void put_addr(char *buf, size_t len, size_t *at, const char *key, uint32_t ip,
                     uint16_t port)
{
    PUT(",\"%s\":\"%u.%u.%u.%u:%u\"", key, ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255,
        port);
}

/* The keys of one move, each after a comma: offered_ms, answered_ms, reply,
 * handoff_latency_us, restore_asked_ms, back, back_ms. */
static void put_move(char *buf, size_t len, size_t *at, const struct ho_conn_move *m)
{
    put_time(buf, len, at, "offered_ms", m->offered);
    put_time(buf, len, at, "answered_ms", m->answered);
    if (m->answered == HO_CONN_NEVER) {
        PUT(",\"reply\":null,\"handoff_latency_us\":null");
    } else {
        PUT(",\"reply\":\"%s\",\"handoff_latency_us\":%.3f", ho_cmd_status_name(m->reply),
            (double)(m->answered - m->offered) / 1e3);
    }
    put_time(buf, len, at, "restore_asked_ms", m->restore_asked);
    PUT(",\"back\":\"%s\"", ho_conn_back_name((enum ho_conn_back)m->back));
    put_time(buf, len, at, "back_ms", m->back_at);
}

int ho_conn_record_json(const struct ho_conn_record *r, char *buf, size_t len)
{
    size_t at0 = 0, *at = &at0;
    if (len > 0) {
        buf[0] = '\0';
    }
    PUT("{\"sock\":%u", r->sock);
    put_addr(buf, len, at, "local", r->tuple.local_ip, r->tuple.local_port);
    put_addr(buf, len, at, "remote", r->tuple.remote_ip, r->tuple.remote_port);
    put_time(buf, len, at, "accepted_ms", r->accepted);
    const struct ho_conn_move last = {
        .offered = r->offered,
        .answered = r->answered,
        .restore_asked = r->restore_asked,
        .back_at = r->back_at,
        .reply = r->reply,
        .back = r->back,
    };
    put_move(buf, len, at, &last);
    put_time(buf, len, at, "closed_ms", r->closed);
    if (r->closed == HO_CONN_NEVER) {
        PUT(",\"closed_on\":null");
    } else {
        PUT(",\"closed_on\":\"%s\"", r->closed_on_nic ? "nic" : "host");
    }
    PUT(",\"handoffs\":%u,\"bytes_in\":%llu,\"bytes_out\":%llu", r->handoffs,
        (unsigned long long)r->bytes_in, (unsigned long long)r->bytes_out);
    PUT(",\"moves\":[");
    for (uint32_t i = 0; r->moves && i < r->nmoves; i++) {
        PUT("%s{\"move\":%u", i ? "," : "", i + 1);
        put_move(buf, len, at, &r->moves[i]);
        PUT("}");
    }
    PUT("],\"moves_untold\":%u}", r->moves_untold);
    return (int)*at;
}
