/*
 * http.h - a strict HTTP/1.x request-head parser and response-head formatter for the web server
 * (src/app/) when it reads real bytes, as the emulator's will.
 *
 * Written from RFC 9110 (HTTP semantics), RFC 9112 (HTTP/1.1 message syntax) and RFC 3986
 * (percent-encoding). Nothing here allocates, keeps state between calls, does I/O or reads a
 * clock: times are seconds since the epoch passed in, and the request parser is called again
 * from the start of the buffer whenever more bytes have arrived (a head is at most
 * max_header_bytes, so re-reading it costs little and the parser needs no state of its own).
 *
 * The server answers only GET and HEAD for static files, so the parser is strict where the
 * RFCs allow a choice: it refuses what could make two parties read one request differently
 * (bare CR, obsolete line folding, whitespace before a colon, conflicting Content-Length,
 * Transfer-Encoding), refuses request bodies in chunked form, and hands the file layer a path
 * that is decoded, normalized and free of ".." segments. After any error the server is expected
 * to answer with the status given and close the connection: the parser does not say where a
 * bad request ends.
 */
#ifndef HANDOFF_HTTP_H
#define HANDOFF_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HO_HTTP_PATH_MAX 1024 /* bytes of ho_http_req.path, its terminating NUL included */
#define HO_HTTP_DATE_LEN 29   /* an IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT" */
/* The latest time the date functions handle, 9999-12-31 23:59:59 (the earliest is 0, 1970). */
#define HO_HTTP_TIME_MAX INT64_C(253402300799)

/* How much of a request head the parser accepts before it answers 413, 414 or 431. */
struct ho_http_limits {
    uint32_t max_line;         /* request line, in bytes without its line end (414) */
    uint32_t max_header_bytes; /* the whole head: empty lines before the request line, request
                                  line, field lines and the empty line that ends the head, line
                                  ends included (431); at most INT_MAX */
    uint32_t max_headers;      /* field lines (431) */
    uint64_t max_body;         /* largest Content-Length accepted (413) */
};

/* Fills *lim with the defaults: 8192-byte request line, 16384-byte head, 100 field lines,
 * 1 MiB body. */
void ho_http_limits_default(struct ho_http_limits *lim);

enum ho_http_method {
    HO_HTTP_GET = 1,
    HO_HTTP_HEAD = 2,
    HO_HTTP_OTHER = 3, /* any other method token (only ever seen with a 405) */
};

/* A parsed request head. */
struct ho_http_req {
    enum ho_http_method method;
    const char *method_tok;      /* the method token, borrowed from the parsed buffer */
    size_t method_len;           /* its bytes */
    char path[HO_HTTP_PATH_MAX]; /* percent-decoded, normalized path, NUL-terminated; starts
                                    with '/', has no empty, "." or ".." segment (a trailing '/'
                                    is kept), no NUL, control character or backslash */
    size_t path_len;             /* strlen(path) */
    int minor;                   /* HTTP/1.minor: 0 or 1 (1.2 to 1.9 are read as 1.1) */
    bool keep_alive;             /* the connection stays open after the response */
    bool has_ims;                /* If-Modified-Since was present, single and a valid date */
    int64_t ims;                 /* its time, seconds since the epoch */
    uint64_t content_length;     /* the body that follows the head (0 when none is said) */
    bool has_host;               /* a Host field was present */
    size_t header_bytes;         /* bytes of the head: the body starts at buf + header_bytes */
};

/* Why a request was refused. */
struct ho_http_error {
    int status;      /* the status to answer: 400, 405, 413, 414, 431, 501 or 505 */
    size_t offset;   /* where in the buffer the fault was found (always < len) */
    const char *why; /* a short constant description, e.g. "bare CR" */
};

/*
 * Parses the request head at the start of buf[0..len). Reads nothing outside buf[0..len) and
 * borrows buf only for out->method_tok. lim, out and err must not be NULL (buf may be NULL when
 * len is 0).
 *
 * Returns:
 *  - n > 0: a complete head of n bytes (empty lines before the request line, the request line,
 *    the field lines and the empty line that ends the head); *out is filled and
 *    out->header_bytes == n. Bytes after the head (a body of out->content_length bytes, then
 *    maybe a pipelined request) are not looked at.
 *  - HO_EAGAIN: the head is incomplete and within the limits so far; call again from the start
 *    with more bytes.
 *  - HO_EMSGSIZE: a limit is exceeded (err->status 413, 414 or 431). Incomplete input fails as
 *    soon as it exceeds a limit.
 *  - HO_EPROTO: the request is refused for any other reason (err->status 400, 405, 501 or 505).
 *  - HO_EINVAL: a NULL argument, or lim->max_header_bytes > INT_MAX; nothing is written.
 * On HO_EMSGSIZE and HO_EPROTO, *err is filled; on a 405, out->method, method_tok, method_len
 * and minor are filled too (out is otherwise unspecified after an error).
 *
 * Faults are reported in the order of the bytes, so that a longer buffer with the same start
 * never gives a different error. What is refused:
 *  400  any departure from RFC 9112's syntax: method not a token, not exactly one SP between
 *       the parts of the request line, HTTP-version not "HTTP/" DIGIT "." DIGIT, bare CR, a
 *       field line starting with whitespace (obsolete line folding), field name not a token or
 *       whitespace before the colon, a control character in a field value; a request-target
 *       neither origin-form nor an http/https absolute-form in a GET or HEAD; a bad or %00
 *       percent-encoding; a control character or backslash in the decoded path; any ".."
 *       segment (after decoding, so "%2e%2e" and "..%2f" are caught too); a Host field
 *       repeated or malformed, or missing in HTTP/1.1; a Content-Length not 1*DIGIT (or a list
 *       of identical ones), overflowing 64 bits, or two different values; Transfer-Encoding
 *       with Content-Length or in HTTP/1.0.
 *  405  a well-formed request line whose method is not GET or HEAD (decided at the end of the
 *       request line, before the header fields are read).
 *  413  Content-Length above lim->max_body.
 *  414  request line longer than lim->max_line once the method has ended, or a decoded path
 *       longer than HO_HTTP_PATH_MAX - 1.
 *  431  a head longer than lim->max_header_bytes or more than lim->max_headers field lines.
 *  501  Transfer-Encoding (request bodies are not accepted in chunked or any coded form), or a
 *       method that alone fills lim->max_line (RFC 9112 section 3).
 *  505  an HTTP major version other than 1.
 *
 * Accepted and normalized: a bare LF as a line end; empty lines before the request line; an
 * absolute-form target (only its path is kept); the query, dropped after its syntax is checked;
 * repeated slashes collapsed and "." segments removed ("%2F" decodes to a separator like '/').
 * keep_alive is HTTP/1.1's default unless Connection lists "close", and for HTTP/1.0 only when
 * Connection lists "keep-alive" and not "close". An If-Modified-Since that is not a valid
 * HTTP-date (or is repeated) is ignored, as RFC 9110 section 13.1.3 says.
 */
int ho_http_parse(const char *buf, size_t len, const struct ho_http_limits *lim,
                  struct ho_http_req *out, struct ho_http_error *err);

/* What a response head says besides its status. */
struct ho_http_resp {
    int64_t now_s;            /* Date, seconds since the epoch (0..HO_HTTP_TIME_MAX) */
    uint64_t content_length;  /* the body's bytes (for a HEAD, those a GET would get) */
    const char *content_type; /* Content-Type, or NULL for none; printable ASCII, SP, HTAB */
    bool has_last_modified;   /* send Last-Modified */
    int64_t last_modified;    /* its time (0..HO_HTTP_TIME_MAX) */
    bool keep_alive;          /* Connection: keep-alive, else Connection: close */
};

/*
 * Writes a response head to buf: "HTTP/1.1 <status> <reason>", Date, Server: handoff,
 * Content-Length, Content-Type (if given), Last-Modified (if asked), Allow: GET, HEAD (for a
 * 405), Connection, and the empty line, every line ended by CRLF, then a NUL. A 304 has no
 * Content-Length or Content-Type (RFC 9110 sections 8.6 and 15.4.5): r->content_length and
 * r->content_type are then ignored.
 *
 * Returns the head's length n (n < cap, the NUL not counted); HO_EMSGSIZE if cap is too small
 * (nothing is written past buf[cap - 1], the contents are unspecified); HO_EINVAL if buf or r is
 * NULL, status has no reason phrase in ho_http_reason or is below 200 or 204 (which have no
 * Content-Length), a time is out of range, or content_type is empty or holds a control
 * character.
 */
int ho_http_format_head(char *buf, size_t cap, int status, const struct ho_http_resp *r);

/* The reason phrase of a status the server sends (RFC 9110 section 15), or NULL for any other:
 * 200, 304, 400, 403, 404, 405, 408, 413, 414, 431, 500, 501, 503, 505. */
const char *ho_http_reason(int status);

/*
 * Writes t (0..HO_HTTP_TIME_MAX, seconds since the epoch) as an IMF-fixdate and a NUL.
 * Returns HO_HTTP_DATE_LEN; HO_EMSGSIZE if cap < HO_HTTP_DATE_LEN + 1 (nothing written);
 * HO_EINVAL if buf is NULL or t is out of range.
 */
int ho_http_format_date(char *buf, size_t cap, int64_t t);

/*
 * Reads s[0..len), which must be exactly one HTTP-date (RFC 9110 section 5.6.7) in any of its
 * three formats: IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), the obsolete RFC 850 form
 * ("Sunday, 06-Nov-94 08:49:37 GMT") or asctime ("Sun Nov  6 08:49:37 1994"). Names are case-
 * sensitive, the day name must be the date's weekday, and second 60 (a leap second) is read as
 * the next second. The two-digit year of RFC 850 is read as 1970..2069: the RFC's rule (more
 * than 50 years ahead means the century before) needs the current time, which this pure
 * function does not have; while the current year is in the 2020s, the window agrees with that
 * rule for every year from 1980 to 2069.
 *
 * Returns HO_OK and *out; HO_EPROTO if s is not such a date or its year is outside 1970..9999;
 * HO_EINVAL if s (with len > 0) or out is NULL.
 */
int ho_http_parse_date(const char *s, size_t len, int64_t *out);

/*
 * The Content-Type of a file, from the extension of the path's last segment, case-insensitive:
 * html, htm, txt, css, js, json, png, jpg, jpeg, gif, svg, pdf; "application/octet-stream" for
 * any other, none, or a NULL path. The string is constant.
 */
const char *ho_http_content_type(const char *path);

#endif
