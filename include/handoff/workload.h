/*
 * workload.h - what the simulated web clients ask for: requests grouped into persistent
 * connections, pulled one connection at a time by closed-loop clients.
 *
 * A workload is either a synthetic generator (the paper's W, I, D and S, see docs/workloads.md
 * for every parameter and its source) or a trace read from a file (workload_trace.h). Both look
 * the same to the simulator: each of N closed-loop clients, when its previous connection ends,
 * pulls its next connection with ho_wl_next_conn() and then pulls that connection's requests one
 * at a time with ho_wl_next_req(), sending each as soon as the previous response has arrived
 * (the paper's replayer, section 4.2) unless the request carries a think time or a pacing gap.
 *
 * Memory stays bounded for runs of any length: a connection is a small cursor owned by the
 * caller (struct ho_conn), and synthetic requests are generated when pulled, from a generator
 * state stored in the cursor. A synthetic workload holds only its tables (object catalog, Zipf
 * tables) and one generator per client; a trace workload holds the trace, which the caller
 * loaded once and replays in a loop.
 *
 * Determinism: a synthetic client's sequence of connections and requests depends only on the
 * seed, the workload's parameters and the client's index, never on the order in which clients
 * pull. A trace hands out its connections in trace order to whichever client asks next.
 */
#ifndef HANDOFF_WORKLOAD_H
#define HANDOFF_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "handoff/rng.h"

/* The error text a reader or a workload constructor leaves behind: it names the file and the
 * line (or record and byte offset) and says what is wrong. Always NUL-terminated. */
struct ho_wl_err {
    char msg[256];
};

/* HTTP request methods a workload can carry. */
enum ho_method {
    HO_METHOD_GET = 0,
    HO_METHOD_HEAD,
    HO_METHOD_POST,
    HO_METHOD_OTHER, /* any other method a trace names (PUT, DELETE, ...) */
    HO_METHOD_COUNT
};

/* How the server produces a response, so that it can cost each kind differently. Traces and
 * the W and I generators produce only static requests (the paper's replayer requests static
 * content only); SPECweb99 (D) mixes in the four dynamic kinds. */
enum ho_req_kind {
    HO_REQ_STATIC = 0,  /* a file sent with sendfile (zero copy) */
    HO_REQ_DYN_GET,     /* SPECweb99 standard dynamic GET: a file wrapped by a script, copied */
    HO_REQ_DYN_POST,    /* SPECweb99 dynamic POST: the server logs the posted data, then as GET */
    HO_REQ_DYN_AD_GET,  /* SPECweb99 dynamic GET with custom ad rotation (cookie, table lookup) */
    HO_REQ_DYN_CGI_GET, /* SPECweb99 standard dynamic GET run as a CGI process */
    HO_REQ_KIND_COUNT
};

/* ho_req.flags */
enum {
    /* Part of the same burst as the previous request (an httperf --wsesslog burst item): a
     * client may send it without waiting for the previous response. */
    HO_REQ_F_BURST = 0x01,
};

/* ho_req.size when the trace does not say how large the response is (an httperf session file
 * without size=). Such a trace can be summarised but not replayed. */
#define HO_REQ_SIZE_UNKNOWN UINT32_MAX

/* One HTTP request and what its response will be. */
struct ho_req {
    uint32_t object;   /* object (file) id; the same id always has the same size in a workload */
    uint32_t size;     /* response body bytes; 0 when the response has no body (304, HEAD) */
    uint32_t upload;   /* request body bytes (POST data); 0 for GET and HEAD */
    uint32_t think_us; /* idle time after this response arrives before the next request, us */
    uint32_t gap_us;   /* pacing: the client's next request leaves no earlier than this one's
                        * send time plus gap_us (SPECweb99's 400 kb/s per client), us */
    uint16_t status;   /* HTTP status code of the response: 200, 206, 304, 404, ... */
    uint8_t method;    /* enum ho_method */
    uint8_t kind;      /* enum ho_req_kind */
    uint8_t flags;     /* HO_REQ_F_* */
};

/* The workloads of the paper's Table 3, plus replay of a trace file. */
enum ho_wl_type {
    HO_WL_WORLDCUP = 0,   /* W: synthetic, shaped like the 1998 World Cup trace */
    HO_WL_IBM,            /* I: synthetic, shaped like the paper's IBM trace */
    HO_WL_SPECWEB,        /* D: SPECweb99, 70 % static and 30 % dynamic, paced per client */
    HO_WL_SPECWEB_STATIC, /* S: SPECweb99 with static requests only, paced per client */
    HO_WL_TRACE,          /* replay of a trace read with ho_trace_read() */
    HO_WL_TYPE_COUNT
};

struct ho_trace; /* workload_trace.h */

struct ho_wl_params {
    enum ho_wl_type type;
    uint64_t seed;                /* every synthetic draw derives from it */
    uint32_t clients;             /* closed-loop clients that will pull, >= 1; SPECweb99 also
                                   * sizes its file set from it (section "D and S" of the doc) */
    const struct ho_trace *trace; /* HO_WL_TRACE only: borrowed, must outlive the workload */
    /* Streams mixed in (docs/workloads.md, "Streams"): clients numbered clients .. clients +
     * streams - 1, each on one connection that never ends, asking for a segment of
     * stream_bytes every stream_gap_us (a video player's steady state, as HTTP Live
     * Streaming's). 0 streams: none. */
    uint32_t streams;
    uint32_t stream_bytes; /* >= 1 when streams > 0 */
    uint32_t stream_gap_us; /* >= 1 when streams > 0 */
};

/* The object ids of streams: stream k (client clients + k) asks for object
 * HO_WL_STREAM_OBJECT + k, apart from every generator's and trace's ids. */
#define HO_WL_STREAM_OBJECT 0xF0000000u

/* A connection being consumed: a small value owned by the caller. Copying it makes an
 * independent cursor over the same remaining requests (useful to look ahead). */
struct ho_conn {
    uint64_t seq;    /* 0, 1, 2 ... in the order the workload handed connections out */
    uint32_t client; /* the client that pulled it */
    uint32_t origin; /* the client it came from: a trace's client id, or == client */
    uint32_t nreq;   /* requests on this connection, >= 1 */
    uint32_t done;   /* requests already returned by ho_wl_next_req() */
    /* private to the workload: */
    uint64_t src;      /* trace: index of the trace connection */
    struct ho_rng rng; /* synthetic: the generator of the remaining requests */
};

struct ho_wl;

/* Creates a workload. On success stores it in *out and returns HO_OK. Errors: HO_EINVAL for a
 * bad parameter (clients 0, unknown type, a trace type without a trace, a trace with no
 * requests or with requests of unknown size), HO_ENOMEM. On error err (if not NULL) says why
 * and *out is untouched. */
int ho_wl_create(const struct ho_wl_params *p, struct ho_wl **out, struct ho_wl_err *err);

/* Frees the workload (NULL is fine). Cursors pulled from it become invalid. */
void ho_wl_destroy(struct ho_wl *wl);

/* Hands client `client` its next connection in *conn (overwriting it). Returns HO_OK, or
 * HO_EINVAL if client >= the clients and streams the workload was created for. */
int ho_wl_next_conn(struct ho_wl *wl, uint32_t client, struct ho_conn *conn);

/* Returns 1 and stores the connection's next request in *req, or returns 0 when the
 * connection has no more requests (the client then closes it and pulls a new one). conn must
 * come from ho_wl_next_conn() on the same workload. Never fails otherwise. */
int ho_wl_next_req(const struct ho_wl *wl, struct ho_conn *conn, struct ho_req *req);

/*
 * How long client `client` waits before its first connection, in microseconds, so that paced
 * clients (SPECweb99's, D and S) start in the steady state of their pacing rather than all at
 * once: a paced client is at any moment inside the gap after one of its requests, and a gap is
 * found with a chance that grows with its length, so the wait is a uniform share of a gap drawn
 * in proportion to its length (the residual time of a stationary renewal process). 0 for
 * workloads without pacing. The same client and seed always give the same wait.
 */
uint64_t ho_wl_start_delay_us(const struct ho_wl *wl, uint32_t client);

/* How many times a trace workload has started over from its first connection (0 for a
 * synthetic workload). */
uint64_t ho_wl_wraps(const struct ho_wl *wl);

/* The one-letter name of Table 3 ("W", "I", "D", "S") or "trace". */
const char *ho_wl_type_name(enum ho_wl_type t);

/* Parses "W", "I", "D" or "S" (case-insensitive). Returns the type, or HO_EINVAL. */
int ho_wl_type_parse(const char *s);

/* Short constant names for enum ho_method and enum ho_req_kind ("?" when out of range). */
const char *ho_method_name(unsigned m);
const char *ho_req_kind_name(unsigned k);

/*
 * The packets a server sends for a response of `size` body bytes, the rule used for the
 * connection-lifetime distribution (Figure 4): the segments of the simulated Flash server on
 * FreeBSD 4.7 when its window does not hold data back. The header leaves in a segment of its own
 * (it is written before sendfile is called), then sendfile appends the body a 4096-byte page at a
 * time and TCP sends each page in 1460-byte segments (a 1500-byte MTU less 40 bytes of IP and
 * TCP headers), its tail in a shorter one. A response with no body counts 1.
 */
uint32_t ho_wl_resp_packets(uint32_t size);

/* ---- The SPECweb99 file set, as files ----
 *
 * The files D and S ask for (docs/workloads.md, section 5), named as SPECweb99 names them, so
 * that the emulator's server can hold on disk the very objects the simulator's clients request:
 * "/file_set/dirNNNNN/classC_F", NNNNN the directory (zero-padded to 5 digits), C the class
 * (0..3), F the file (0..8). A file's index in the set is its object id (ho_req.object, dir x 36
 * + C x 9 + F), so the files of a set are indices 0 .. ho_fileset_count() - 1 and a path never
 * depends on the connection count. Five digits hold directories 0..99999, the set of at most
 * HO_FILESET_MAX_CONNECTIONS connections.
 *
 * The names, sizes and numbering are those of the simulator's generator (src/workload/gen.h):
 * these functions only spell them out. Implemented in src/workload/fileset.c.
 */

#define HO_FILESET_PATH_MAX 28      /* bytes of a file-set path, its NUL included (27 + 1) */
#define HO_FILESET_MAX_DIRS 100000u /* directories 0..99999: five digits */
/* The most connections whose set fits HO_FILESET_MAX_DIRS: int(25 + 0.6557 x 152,472) =
 * 100,000 directories; one more connection makes 100,001. */
#define HO_FILESET_MAX_CONNECTIONS 152472u

/* One file of the set. */
struct ho_fileset_file {
    char path[HO_FILESET_PATH_MAX]; /* "/file_set/dirNNNNN/classC_F", NUL-terminated */
    uint32_t size;                  /* bytes */
    uint32_t object;                /* its object id, equal to its index in the set */
};

/* The number of files in the set for `connections` simultaneous connections (36 for each of
 * int(25 + 0.6557 x connections) directories). Returns it (> 0), or HO_EINVAL if connections
 * is 0 or above HO_FILESET_MAX_CONNECTIONS. */
int ho_fileset_count(uint32_t connections);

/* Fills *out with file `index` of the set for `connections` connections. Returns HO_OK;
 * HO_EINVAL if out is NULL, connections is out of ho_fileset_count's range, or index is not
 * below ho_fileset_count(connections) (nothing is written then). */
int ho_fileset_file(uint32_t connections, uint32_t index, struct ho_fileset_file *out);

/* Writes the path of simulated object `object` (ho_req.object of a D or S workload) and a NUL
 * to buf. Returns the path's length (HO_FILESET_PATH_MAX - 1); HO_EMSGSIZE if cap is below
 * HO_FILESET_PATH_MAX; HO_EINVAL if buf is NULL or the object's directory is not below
 * HO_FILESET_MAX_DIRS. Nothing is written on error. */
int ho_fileset_object_path(uint32_t object, char *buf, size_t cap);

/*
 * The contents of generated files: writes to buf the len bytes starting at `offset` of the file
 * with this path (any string, not only a file-set path) under this seed. The bytes depend only
 * on (path, seed, offset), in every build and on every platform, so a download can be checked
 * without the disk, and any range can be computed without the bytes before it: byte o is byte
 * (o mod 8) (least significant first) of mix(key + (floor(o / 8) + 1) x 0x9E3779B97F4A7C15),
 * where key = mix(fnv1a64(path) ^ mix(seed)) and mix is splitmix64's output function.
 * Returns HO_OK; HO_EINVAL if path is NULL or buf is NULL with len > 0 (nothing written).
 */
int ho_fileset_fill(const char *path, uint64_t seed, uint64_t offset, void *buf, size_t len);

/* Told the bytes written so far and the set's total bytes. */
typedef void (*ho_fileset_progress_cb)(void *ctx, uint64_t done, uint64_t total);

/*
 * Writes the set for `connections` connections under dir, for the emulator's server to serve
 * when it is given no document root (`handoff emu` without --docroot): dir, its missing parents
 * and dir/file_set/dirNNNNN are made as needed (mode 0755, existing directories are used), and
 * every file is created (mode 0644) with O_EXCL | O_NOFOLLOW, so nothing already there is ever
 * overwritten or followed, and filled with ho_fileset_fill(its path, seed, ...).
 *
 * progress (may be NULL) is called with (ctx, bytes written, total bytes) after a file when at
 * least 1 % of the total has been written since its last call, and always once at the end with
 * done == total.
 *
 * Returns HO_OK when every file is complete. On error, err (if not NULL) names the path and the
 * system's reason; files finished before the error stay, the file being written is removed, so
 * the set is incomplete and a retry into the same dir fails with HO_EEXIST until it is removed:
 *  - HO_EINVAL: dir is NULL or empty, or connections is out of ho_fileset_count's range;
 *  - HO_EEXIST: a file of the set exists already (or a symlink in its place), or file_set or a
 *    dirNNNNN is something other than a directory (a file, a symlink);
 *  - HO_ENOSPC: the file system is full (ENOSPC, EDQUOT) or the process is out of descriptors;
 *  - HO_ENOMEM: an allocation failed;
 *  - HO_ENOENT: any other failure to make a directory or write a file (EACCES, EIO, a parent of
 *    dir that is not a directory, ...).
 */
int ho_fileset_generate(const char *dir, uint32_t connections, uint64_t seed,
                        ho_fileset_progress_cb progress, void *ctx, struct ho_wl_err *err);

#endif
