/*
 * trace_wc.c - World Cup 98 binary logs: record codec and reader (see workload_trace.h).
 *
 * Called by ho_trace_read() and by the synthetic trace writer (wc_gen.c). The format is the
 * Internet Traffic Archive's: fixed 20-byte records, big-endian ("network order"), sorted by
 * timestamp. Records go through the bounds-checked codec of bytes.h field by field. The status
 * byte's code index follows the status codes of RFC 2068 in order, which is what gives the
 * published anchors 200 = 2, 206 = 8, 304 = 13 and 404 = 19.
 */
#include <errno.h>
#include <string.h>

#include "handoff/bytes.h"
#include "handoff/err.h"
#include "trace_priv.h"

/* RFC 2068's status codes in order; index 37 is "other". */
static const uint16_t wc_status_codes[] = {
    100, 101, 200, 201, 202, 203, 204, 205, 206, 300, 301, 302, 303, 304, 305, 400, 401, 402, 403,
    404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 500, 501, 502, 503, 504, 505,
};
#define WC_STATUS_OTHER 37u
#define WC_METHOD_MAX   8u /* GET HEAD POST PUT DELETE TRACE OPTIONS CONNECT other */

int ho_wc_status_code(unsigned index)
{
    if (index < WC_STATUS_OTHER) {
        return wc_status_codes[index];
    }
    return index == WC_STATUS_OTHER ? 0 : HO_EINVAL;
}

unsigned ho_wc_status_index(unsigned code)
{
    for (unsigned i = 0; i < WC_STATUS_OTHER; i++) {
        if (wc_status_codes[i] == code) {
            return i;
        }
    }
    return WC_STATUS_OTHER;
}

void ho_wc_encode(const struct ho_wc_record *r, uint8_t buf[HO_WC_RECORD_BYTES])
{
    struct ho_wr w;
    ho_wr_init(&w, buf, HO_WC_RECORD_BYTES);
    ho_wr_u32(&w, r->timestamp);
    ho_wr_u32(&w, r->client);
    ho_wr_u32(&w, r->object);
    ho_wr_u32(&w, r->size);
    ho_wr_u8(&w, r->method);
    ho_wr_u8(&w, r->status);
    ho_wr_u8(&w, r->type);
    ho_wr_u8(&w, r->server);
}

void ho_wc_decode(const uint8_t buf[HO_WC_RECORD_BYTES], struct ho_wc_record *r)
{
    struct ho_rd rd;
    ho_rd_init(&rd, buf, HO_WC_RECORD_BYTES);
    r->timestamp = ho_rd_u32(&rd);
    r->client = ho_rd_u32(&rd);
    r->object = ho_rd_u32(&rd);
    r->size = ho_rd_u32(&rd);
    r->method = ho_rd_u8(&rd);
    r->status = ho_rd_u8(&rd);
    r->type = ho_rd_u8(&rd);
    r->server = ho_rd_u8(&rd);
}

static enum ho_method wc_method(uint8_t m)
{
    switch (m) {
    case 0:
        return HO_METHOD_GET;
    case 1:
        return HO_METHOD_HEAD;
    case 2:
        return HO_METHOD_POST;
    default:
        return HO_METHOD_OTHER;
    }
}

/* Names record `index` in messages. */
static void wc_where(char *buf, size_t cap, const char *path, uint64_t index)
{
    snprintf(buf, cap, "%s: record %llu (byte offset %llu)", path, (unsigned long long)index,
             (unsigned long long)index * HO_WC_RECORD_BYTES);
}

/* Checks and converts one record. */
static int wc_to_req(const struct ho_wc_record *r, const char *path, uint64_t index,
                     struct ho_req *req, struct ho_wl_err *err)
{
    char where[200];
    unsigned idx = r->status & 0x3f;
    if (r->method > WC_METHOD_MAX) {
        wc_where(where, sizeof where, path, index);
        snprintf(err->msg, sizeof err->msg, "%s: method %u is not defined (0..%u)", where,
                 r->method, WC_METHOD_MAX);
        return HO_EPROTO;
    }
    if (idx > WC_STATUS_OTHER) {
        wc_where(where, sizeof where, path, index);
        snprintf(err->msg, sizeof err->msg, "%s: status code index %u is not defined (0..%u)",
                 where, idx, WC_STATUS_OTHER);
        return HO_EPROTO;
    }
    *req = (struct ho_req){
        .object = r->object,
        .size = r->size == HO_WC_SIZE_NONE ? 0 : r->size,
        .status = (uint16_t)ho_wc_status_code(idx),
        .method = (uint8_t)wc_method(r->method),
        .kind = HO_REQ_STATIC,
    };
    return HO_OK;
}

int ho_trace_read_wc(struct ho_tb *b, struct ho_wl_err *err)
{
    FILE *f = fopen(b->path, "rb");
    if (!f) {
        snprintf(err->msg, sizeof err->msg, "%s: cannot open: %s", b->path, strerror(errno));
        return HO_ENOENT;
    }
    uint8_t buf[HO_WC_RECORD_BYTES * 512];
    uint64_t index = 0; /* records read so far */
    size_t have = 0;    /* bytes of a partial record carried to the next block */
    int rc = HO_OK;
    for (;;) {
        size_t n = fread(buf + have, 1, sizeof buf - have, f);
        if (n == 0) {
            if (ferror(f)) {
                snprintf(err->msg, sizeof err->msg,
                         "%s: record %llu (byte offset %llu): read error: %s", b->path,
                         (unsigned long long)index, (unsigned long long)index * HO_WC_RECORD_BYTES,
                         strerror(errno));
                rc = HO_ENOENT;
            } else if (have) {
                snprintf(err->msg, sizeof err->msg,
                         "%s: record %llu (byte offset %llu): truncated record: %zu of %d bytes",
                         b->path, (unsigned long long)index,
                         (unsigned long long)index * HO_WC_RECORD_BYTES, have, HO_WC_RECORD_BYTES);
                rc = HO_EPROTO;
            }
            break;
        }
        have += n;
        size_t off = 0;
        for (; have - off >= HO_WC_RECORD_BYTES && !ho_tb_full(b); off += HO_WC_RECORD_BYTES) {
            struct ho_wc_record r;
            struct ho_req req;
            char where[200] = "";
            ho_wc_decode(buf + off, &r);
            rc = wc_to_req(&r, b->path, index, &req, err);
            if (rc == HO_OK) {
                if (b->n > 0 && r.timestamp < b->newest) {
                    wc_where(where, sizeof where, b->path, index);
                }
                rc = ho_tb_check_time(b, r.timestamp, where, err);
            }
            if (rc == HO_OK) {
                rc = ho_tb_add(b, r.timestamp, r.client, &req, err);
            }
            if (rc != HO_OK) {
                break;
            }
            index++;
        }
        if (rc != HO_OK || ho_tb_full(b)) {
            break;
        }
        memmove(buf, buf + off, have - off);
        have -= off;
    }
    fclose(f);
    return rc;
}
