/*
 * workload_trace.h - web traces read from files, grouped into the persistent connections the
 * paper's replayer would open, and the World Cup 98 binary writer used by `handoff trace gen`.
 *
 * Three formats are read:
 *   - World Cup 98 binary logs (the Internet Traffic Archive's format): 20-byte big-endian
 *     records { uint32 timestamp, clientID, objectID, size; uint8 method, status, type, server }.
 *   - Common and Combined Log Format: %h %l %u %t "%r" %>s %b ["%{Referer}i" "%{User-agent}i"].
 *   - httperf --wsesslog session files: sessions separated by blank lines, one request a line
 *     ("path [key=value ...]"), indented lines are burst items, '#' in column 1 starts a comment.
 *
 * Timed traces (WC, CLF) become connections by the replayer's rule (paper, section 4.2): a
 * client's requests within `idle_s` (15) seconds of its previous request share one persistent
 * connection. A session file's sessions are its connections. The result is held in memory
 * compactly (one struct ho_req per request); ho_trace_params.max_requests loads a prefix of a
 * file too large to hold.
 *
 * Every reader reports bad input through struct ho_wl_err with the file name and the line (text
 * formats) or the record index and byte offset (binary), and never reads out of bounds, whatever
 * the input: empty files, a missing final newline, CRLF, NUL bytes, lines longer than
 * HO_TRACE_MAX_LINE, negative, overflowing or non-numeric numbers, time going backwards, unknown
 * keys.
 */
#ifndef HANDOFF_WORKLOAD_TRACE_H
#define HANDOFF_WORKLOAD_TRACE_H

#include <stdint.h>
#include <stdio.h>

#include "handoff/workload.h"

/* Longest text line accepted, in bytes (the newline excluded). */
#define HO_TRACE_MAX_LINE 65536

/* Size of one World Cup 98 binary record. */
#define HO_WC_RECORD_BYTES 20

/* The replayer's persistent-connection rule, in seconds (paper, section 4.2). */
#define HO_TRACE_IDLE_S 15

enum ho_trace_format {
    HO_TRACE_AUTO = 0, /* detect from the extension, then from the content */
    HO_TRACE_WC,       /* World Cup 98 binary */
    HO_TRACE_CLF,      /* Common or Combined Log Format */
    HO_TRACE_WSESSLOG, /* httperf --wsesslog */
};

struct ho_trace_params {
    enum ho_trace_format format; /* HO_TRACE_AUTO to detect */
    /* Requests of one client within idle_s seconds of its previous request share a connection;
     * 0 means HO_TRACE_IDLE_S. */
    uint32_t idle_s;
    /* Time going backwards: by default (0) any record older than the newest one seen so far is
     * an error naming its line. A positive value tolerates steps back of up to that many
     * seconds (servers log at completion, so nearby requests can appear out of order); the
     * requests are then ordered by time, stably, before grouping. */
    uint32_t max_backstep_s;
    /* Stop after this many requests (0 = read everything). */
    uint64_t max_requests;
    /* httperf's --wsesslog X: the think time of bursts without think=, in seconds (>= 0). */
    double wsess_default_think_s;
};

/* A trace connection: nreq consecutive entries of ho_trace.reqs. */
struct ho_trace_conn {
    int64_t start;   /* time of its first request, seconds since the Epoch (0 for wsesslog) */
    uint32_t client; /* WC: the trace's clientID; CLF: index of the host in order of first
                      * appearance; wsesslog: the session's index */
    uint32_t first;  /* index of its first request in reqs */
    uint32_t nreq;   /* >= 1 */
};

struct ho_trace {
    enum ho_trace_format format;
    struct ho_req *reqs;         /* all requests, connection after connection */
    uint64_t nreq;               /* < 2^32 */
    struct ho_trace_conn *conns; /* ordered by start time, then by position in the file */
    uint64_t nconn;
    uint64_t nclients;       /* distinct clients */
    uint64_t nobjects;       /* distinct objects (URLs) */
    uint64_t unknown_size;   /* requests whose response size is HO_REQ_SIZE_UNKNOWN */
    int64_t t_first, t_last; /* earliest and latest request time (0, 0 for wsesslog) */
    uint64_t backsteps;      /* records older than an earlier one (only with max_backstep_s) */
};

/* Fills *p with the defaults: auto-detection, 15 s, no backsteps, no limit, no think. */
void ho_trace_params_default(struct ho_trace_params *p);

/* Reads a trace from the file at path. On success stores a new trace in *out (free it with
 * ho_trace_free) and returns HO_OK; an empty file is a valid trace with no requests when its
 * format is given. Errors, each with err->msg naming the file and where:
 *   HO_ENOENT the file cannot be opened or read;
 *   HO_EPROTO malformed content (the message names the line or record and the problem);
 *   HO_EINVAL bad parameters, or the format cannot be detected (empty or compressed file);
 *   HO_ENOMEM. */
int ho_trace_read(const char *path, const struct ho_trace_params *p, struct ho_trace **out,
                  struct ho_wl_err *err);

/* Frees a trace (NULL is fine). */
void ho_trace_free(struct ho_trace *t);

/* Decides the format of the file at path from its extension (.wc .wc98 .bin; .log .clf;
 * .wsesslog .wsess .sess) or else from its first bytes. Returns a format, or HO_ENOENT (cannot
 * read) / HO_EINVAL (empty, compressed, or undecidable), with err->msg saying so. */
int ho_trace_detect(const char *path, struct ho_wl_err *err);

/* Names: "wc", "clf", "wsesslog" ("auto" for HO_TRACE_AUTO). */
const char *ho_trace_format_name(enum ho_trace_format f);
/* Parses those names; returns the format or HO_EINVAL. */
int ho_trace_format_parse(const char *s);

/* ---- World Cup 98 binary records ---- */

/* One decoded record. */
struct ho_wc_record {
    uint32_t timestamp; /* seconds since the Epoch, GMT */
    uint32_t client;    /* clientID */
    uint32_t object;    /* objectID */
    uint32_t size;      /* response bytes, HO_WC_SIZE_NONE when the log had none ("-") */
    uint8_t method;     /* 0 GET, 1 HEAD, 2 POST, 3 PUT, 4 DELETE, 5 TRACE, 6 OPTIONS,
                         * 7 CONNECT, 8 other */
    uint8_t status;     /* top 2 bits HTTP version (0 0.9, 1 1.0, 2 1.1, 3 other), low 6 bits
                         * the status code's index (ho_wc_status_code) */
    uint8_t type;       /* file type (HTML, IMAGE, ...): carried, not interpreted */
    uint8_t server;     /* region (top 3 bits) and server: carried, not interpreted */
};

#define HO_WC_SIZE_NONE UINT32_MAX

/* Encodes one record into buf[0..20) through the bounds-checked writer. */
void ho_wc_encode(const struct ho_wc_record *r, uint8_t buf[HO_WC_RECORD_BYTES]);
/* Decodes buf[0..20). */
void ho_wc_decode(const uint8_t buf[HO_WC_RECORD_BYTES], struct ho_wc_record *r);

/* The HTTP status code for a status index (the low 6 bits of the status byte): the status
 * codes of RFC 2068 in order, 0 = 100 ... 2 = 200, 8 = 206, 13 = 304, 19 = 404 ... 36 = 505;
 * index 37 ("other") gives 0. Returns HO_EINVAL for an index above 37. */
int ho_wc_status_code(unsigned index);
/* The index for an HTTP status code, or 37 ("other") for a code outside the table. */
unsigned ho_wc_status_index(unsigned code);

/* ---- Writing a synthetic trace in the World Cup format ---- */

struct ho_wc_gen_params {
    enum ho_wl_type type; /* HO_WL_WORLDCUP or HO_WL_IBM */
    uint64_t seed;
    uint32_t clients;  /* distinct clientIDs in the trace, >= 1 */
    uint64_t requests; /* records to write, >= 1 */
};

/* Called for every record written: the client, its timestamp, the request, and whether it
 * starts a new connection of that client. Returning non-zero stops the writer (HO_EAGAIN). */
typedef int (*ho_wc_gen_cb)(void *ctx, uint32_t client, uint32_t timestamp,
                            const struct ho_req *req, int new_conn);

/* Writes exactly p->requests records of the synthetic workload p->type to f, in timestamp
 * order. Connections are handed to the clients round-robin until the budget is reached; each
 * client's connections are the workload's connections for that client, in order, and all are
 * complete except the trace's final one, shortened to fit (a client that gets no connection
 * does not appear). Requests of one connection are at most 3 s apart and connections of one
 * client more than 15 s apart, so reading the file back with the 15-s rule gives the same
 * connections. Timestamps start at 1998-05-01 00:00:00 GMT; every record is a GET over
 * HTTP/1.1, type 0 and server 0, and a 304 has no size. cb may be NULL; name is used in
 * messages. Returns HO_OK, HO_EINVAL (bad params), HO_ENOMEM, HO_ENOENT (a write failed),
 * HO_ELIMIT (timestamps would pass 2^32 - 1), HO_EAGAIN (cb stopped it); err says which. */
int ho_wc_gen_write(FILE *f, const char *name, const struct ho_wc_gen_params *p, ho_wc_gen_cb cb,
                    void *ctx, struct ho_wl_err *err);

#endif
