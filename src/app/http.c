/*
 * http.c - the HTTP/1.x request-head parser and response-head formatter (include/handoff/http.h).
 *
 * Called by the web server on the bytes a socket gave it, each time more have arrived, and
 * by tests and fuzzers; nothing here knows about sockets.
 *
 * The parser reads the head line by line from the start of the buffer. Each line goes through
 * three steps, always in this order, which is what makes a fault's report independent of how
 * many bytes follow it:
 *   1. find_line() finds where the line ends, looking no further than the limit allows;
 *   2. the checks that hold for any prefix of the line (the characters of each part) run over
 *      as much of the line as is there, complete or not;
 *   3. the limits are applied (an incomplete line that already passes one fails now), and only
 *      a complete line gets the checks that need all of it (numbers, dates, the path).
 * A byte of the head at an offset of max_header_bytes or beyond is always a 431 at that offset,
 * unless an earlier byte is at fault.
 *
 * The response side writes through a small bounded writer that counts what it could not write,
 * so one pass both formats and measures. Dates use their own calendar arithmetic (days since
 * the epoch from year, month and day, and back), pure and the same on every platform.
 */
#include "handoff/http.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "handoff/err.h"

/* ---- characters (RFC 9110 section 5.6.2, RFC 3986 section 2) ------------------------------ */

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int hex_value(unsigned char c)
{
    if (is_digit(c)) {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* tchar: the characters of a token (method, field name, Connection option). */
static bool is_tchar(unsigned char c)
{
    return is_digit(c) || is_alpha(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool is_unreserved(unsigned char c)
{
    return is_digit(c) || is_alpha(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static bool is_sub_delim(unsigned char c)
{
    return c != 0 && strchr("!$&'()*+,;=", c) != NULL;
}

/* pchar without its pct-encoded part, whose '%' is checked apart. */
static bool is_pchar(unsigned char c)
{
    return is_unreserved(c) || is_sub_delim(c) || c == ':' || c == '@';
}

/* The characters a request-target may hold in any of its forms: a URI's, less '#' (a request
 * carries no fragment). */
static bool is_target_char(unsigned char c)
{
    return is_pchar(c) || c == '%' || c == '/' || c == '?' || c == '[' || c == ']';
}

static bool is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

static bool is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* field-vchar, SP or HTAB: VCHAR and obs-text (0x80..0xff) are all the bytes but controls. */
static bool is_field_char(unsigned char c)
{
    return c == '\t' || !is_ctl(c);
}

/* s[0..n) equals the lower-case literal lit, ignoring case. */
static bool ieq(const char *s, size_t n, const char *lit)
{
    size_t i = 0;
    for (; i < n && lit[i] != '\0'; i++) {
        if (lower((unsigned char)s[i]) != (unsigned char)lit[i]) {
            return false;
        }
    }
    return i == n && lit[i] == '\0';
}

/* s[i] and s[i+1], both below end, are hex digits: the tail of a pct-encoded octet. */
static bool pct_ok(const char *s, size_t i, size_t end)
{
    return end - i >= 2 && hex_value((unsigned char)s[i]) >= 0 &&
           hex_value((unsigned char)s[i + 1]) >= 0;
}

/*
 * authority = host [ ":" port ] (RFC 3986 section 3.2), with host an IP-literal in brackets or
 * a reg-name (IPv4 addresses are reg-names by their characters). No userinfo: RFC 9110 section
 * 4.2.4 forbids it in http URIs. *host_len is the host's length.
 */
static bool authority_valid(const char *s, size_t n, size_t *host_len)
{
    size_t i = 0;
    if (n > 0 && s[0] == '[') {
        for (i = 1; i < n && s[i] != ']'; i++) {
            unsigned char c = (unsigned char)s[i];
            if (!is_unreserved(c) && !is_sub_delim(c) && c != ':') {
                return false;
            }
        }
        if (i == n || i == 1) {
            return false;
        }
        i++;
    } else {
        for (; i < n && s[i] != ':'; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c == '%') {
                if (!pct_ok(s, i + 1, n)) {
                    return false;
                }
                i += 2;
            } else if (!is_unreserved(c) && !is_sub_delim(c)) {
                return false;
            }
        }
    }
    *host_len = i;
    if (i < n) {
        if (s[i] != ':') {
            return false;
        }
        for (i++; i < n; i++) {
            if (!is_digit((unsigned char)s[i])) {
                return false;
            }
        }
    }
    return true;
}

/* ---- the request parser ------------------------------------------------------------------- */

void ho_http_limits_default(struct ho_http_limits *lim)
{
    lim->max_line = 8192;
    lim->max_header_bytes = 16384;
    lim->max_headers = 100;
    lim->max_body = UINT64_C(1) << 20;
}

/* One call's state: the input, the output, and what the header fields have said so far. */
struct parser {
    const char *buf;
    size_t len;
    size_t max_head; /* lim->max_header_bytes */
    const struct ho_http_limits *lim;
    struct ho_http_req *req;
    struct ho_http_error *err;

    uint32_t fields;        /* field lines seen */
    uint32_t hosts;         /* Host field lines */
    bool has_cl;            /* a Content-Length was seen; its value is req->content_length */
    bool has_te;            /* Transfer-Encoding was seen, first at te_at */
    size_t te_at;           /* offset of the first Transfer-Encoding field line */
    bool conn_close;        /* Connection lists "close" */
    bool conn_keep_alive;   /* Connection lists "keep-alive" */
    uint32_t ims_count;     /* If-Modified-Since field lines */
    size_t ims_at, ims_len; /* the value of the first one */
};

static bool limit_status(int status)
{
    return status == 413 || status == 414 || status == 431;
}

static int fail(struct parser *p, int status, size_t at, const char *why)
{
    p->err->status = status;
    p->err->offset = at;
    p->err->why = why;
    return limit_status(status) ? HO_EMSGSIZE : HO_EPROTO;
}

static int fail_head_size(struct parser *p)
{
    return fail(p, 431, p->max_head, "request head longer than max_header_bytes");
}

enum line_kind {
    LINE_DONE,   /* complete: content [start, end), the next line at next */
    LINE_MORE,   /* the buffer ends first: content so far [start, end) */
    LINE_LONG,   /* more than max bytes of content: [start, end) are the first max */
    LINE_BARE_CR /* a CR at end not followed by LF */
};

struct line {
    enum line_kind kind;
    size_t start, end, next;
};

/*
 * Finds the end of the line that starts at start, looking at no more than max bytes of content
 * and its line end (CRLF, or a bare LF as RFC 9112 section 2.2 allows). A CR as the buffer's
 * last byte may yet be followed by its LF: the line is then incomplete.
 */
static struct line find_line(const struct parser *p, size_t start, size_t max)
{
    struct line l = {LINE_MORE, start, p->len, p->len};
    size_t stop = p->len - start > max ? start + max + 1 : p->len;
    for (size_t i = start; i < stop; i++) {
        if (p->buf[i] == '\n') {
            l.kind = LINE_DONE;
            l.end = i;
            l.next = i + 1;
            return l;
        }
        if (p->buf[i] == '\r') {
            l.end = i;
            if (i + 1 == p->len) {
                l.kind = LINE_MORE;
            } else if (p->buf[i + 1] != '\n') {
                l.kind = LINE_BARE_CR;
            } else {
                l.kind = LINE_DONE;
                l.next = i + 2;
            }
            return l;
        }
    }
    if (stop - start > max) {
        l.kind = LINE_LONG;
        l.end = start + max;
    }
    return l;
}

/*
 * The limits and the line ends of a line whose content passed the prefix checks. Returns 1 for
 * a complete line within the limits, else HO_EAGAIN or an error. long_status and long_why say
 * what a line longer than max is (the caller knows which limit max came from).
 */
static int line_verdict(struct parser *p, const struct line *l, int long_status,
                        const char *long_why)
{
    switch (l->kind) {
    case LINE_DONE:
        return l->next > p->max_head ? fail_head_size(p) : 1;
    case LINE_MORE:
        return p->len > p->max_head ? fail_head_size(p) : HO_EAGAIN;
    case LINE_LONG:
        return fail(p, long_status, l->end, long_why);
    case LINE_BARE_CR:
    default:
        return l->end >= p->max_head ? fail_head_size(p) : fail(p, 400, l->end, "bare CR");
    }
}

/* A line is complete for the checks that need all of it only if it is also within the head's
 * limit: a line end past max_header_bytes is a 431 whatever the line holds, as it would be if
 * the buffer stopped short of that line end. */
static bool line_complete(const struct parser *p, const struct line *l)
{
    return l->kind == LINE_DONE && l->next <= p->max_head;
}

/* Skips the empty lines that may come before the request line (RFC 9112 section 2.2). Returns
 * 1 and *pos at the request line, or HO_EAGAIN or an error. */
static int skip_empty_lines(struct parser *p, size_t *pos)
{
    size_t i = 0;
    while (i < p->len) {
        if (i >= p->max_head) {
            return fail_head_size(p);
        }
        if (p->buf[i] == '\n') {
            i++;
        } else if (p->buf[i] == '\r') {
            if (i + 1 == p->len) {
                return HO_EAGAIN;
            }
            if (p->buf[i + 1] != '\n') {
                return fail(p, 400, i, "bare CR");
            }
            i += 2;
        } else {
            *pos = i;
            return 1;
        }
    }
    return HO_EAGAIN;
}

/* Where the parts of a request line lie. */
struct request_line {
    size_t method_end; /* the method is [line start, method_end) */
    size_t target;     /* the request-target is [target, target_end) */
    size_t target_end;
    size_t version;   /* the HTTP-version starts here */
    bool method_done; /* the method's SP was seen */
};

/*
 * The checks of a request line that hold for any prefix of it: method SP request-target SP
 * HTTP-version, each part's characters, single spaces, the version's shape so far. When the
 * line is complete, also that no part is missing.
 */
static int request_line_chars(struct parser *p, const struct line *l, bool complete,
                              struct request_line *rl)
{
    static const char version_shape[] = "HTTP/#.#"; /* '#': a DIGIT */
    const char *b = p->buf;
    size_t i = l->start, e = l->end;

    memset(rl, 0, sizeof *rl);
    while (i < e && is_tchar((unsigned char)b[i])) {
        i++;
    }
    rl->method_end = i;
    if (i == e) {
        return complete ? fail(p, 400, i, "request line without a request-target") : 0;
    }
    if (b[i] != ' ' || i == l->start) {
        return fail(p, 400, i, "method is not a token");
    }
    rl->method_done = true;
    rl->target = ++i;
    for (; i < e && b[i] != ' '; i++) {
        unsigned char c = (unsigned char)b[i];
        if (!is_target_char(c)) {
            return fail(p, 400, i,
                        c == '\\'   ? "backslash in the request-target"
                        : c == '#'  ? "fragment in the request-target"
                        : is_ctl(c) ? "control character in the request-target"
                                    : "invalid character in the request-target");
        }
    }
    rl->target_end = i;
    if (i == e) {
        return complete ? fail(p, 400, i, "request line without an HTTP-version") : 0;
    }
    if (i == rl->target) {
        return fail(p, 400, i, "empty request-target (two spaces)");
    }
    rl->version = ++i;
    for (size_t k = 0; i < e; k++, i++) {
        if (k == sizeof version_shape - 1) {
            return fail(p, 400, i, "text after the HTTP-version");
        }
        bool ok =
            version_shape[k] == '#' ? is_digit((unsigned char)b[i]) : b[i] == version_shape[k];
        if (!ok) {
            return fail(p, 400, i, "malformed HTTP-version");
        }
    }
    if (complete && e - rl->version != sizeof version_shape - 1) {
        return fail(p, 400, e, "malformed HTTP-version");
    }
    return 0;
}

/*
 * Percent-decodes the path buf[start..end) and normalizes it into req->path: repeated slashes
 * collapse, "." segments go, a ".." segment is refused. A decoded '/' separates segments like a
 * literal one, so the file layer sees exactly the segments that were checked. The raw path is
 * empty or starts with '/'.
 */
static int decode_path(struct parser *p, size_t start, size_t end)
{
    const char *b = p->buf;
    char *out = p->req->path;
    size_t o = 0;           /* bytes written */
    size_t seg = 0;         /* where the current segment's bytes start in out */
    size_t seg_src = start; /* and in the buffer */

    for (size_t i = start; i <= end; i++) {
        size_t at = i;
        unsigned char c = '/';
        if (i < end) {
            c = (unsigned char)b[i];
            if (c == '%') {
                if (!pct_ok(b, i + 1, end)) {
                    return fail(p, 400, at, "bad percent-encoding in the path");
                }
                c = (unsigned char)(hex_value((unsigned char)b[i + 1]) * 16 +
                                    hex_value((unsigned char)b[i + 2]));
                i += 2;
            } else if (!is_pchar(c) && c != '/') {
                return fail(p, 400, at, "invalid character in the path");
            }
        }
        if (c != '/') {
            if (c == 0) {
                return fail(p, 400, at, "NUL in the path");
            }
            if (is_ctl(c)) {
                return fail(p, 400, at, "control character in the path");
            }
            if (c == '\\') {
                return fail(p, 400, at, "backslash in the path");
            }
            if (o + 1 >= HO_HTTP_PATH_MAX) {
                return fail(p, 414, at, "path longer than HO_HTTP_PATH_MAX");
            }
            out[o++] = (char)c;
            continue;
        }
        /* A separator (or the end) closes the current segment. */
        size_t n = o - seg;
        if (o > 0 && n == 2 && out[seg] == '.' && out[seg + 1] == '.') {
            return fail(p, 400, seg_src, "path escapes the document root");
        }
        if (o > 0 && n == 1 && out[seg] == '.') {
            o = seg;
        }
        if (i < end && (o == 0 || out[o - 1] != '/')) {
            if (o + 1 >= HO_HTTP_PATH_MAX) {
                return fail(p, 414, at, "path longer than HO_HTTP_PATH_MAX");
            }
            out[o++] = '/';
        }
        seg = o;
        seg_src = i + 1;
    }
    if (o == 0) {
        out[o++] = '/'; /* an absolute-form target with an empty path */
    }
    out[o] = '\0';
    p->req->path_len = o;
    return 0;
}

/* query = *( pchar / "/" / "?" ), checked and dropped. */
static int check_query(struct parser *p, size_t start, size_t end)
{
    for (size_t i = start; i < end; i++) {
        unsigned char c = (unsigned char)p->buf[i];
        if (c == '%') {
            if (!pct_ok(p->buf, i + 1, end)) {
                return fail(p, 400, i, "bad percent-encoding in the query");
            }
            i += 2;
        } else if (!is_pchar(c) && c != '/' && c != '?') {
            return fail(p, 400, i, "invalid character in the query");
        }
    }
    return 0;
}

/*
 * The request-target of a GET or HEAD (RFC 9112 section 3.2): origin-form, or absolute-form
 * with an http or https scheme, whose path is taken. Fills req->path.
 */
static int parse_target(struct parser *p, size_t s, size_t e)
{
    const char *b = p->buf;
    size_t path = s;
    if (b[s] != '/') {
        if (e - s == 1 && b[s] == '*') {
            return fail(p, 400, s, "asterisk-form request-target in a GET or HEAD request");
        }
        size_t i = s;
        while (i < e && (is_alpha((unsigned char)b[i]) ||
                         (i > s && (is_digit((unsigned char)b[i]) || b[i] == '+' || b[i] == '-' ||
                                    b[i] == '.')))) {
            i++;
        }
        if (i == s || i == e || b[i] != ':') {
            return fail(p, 400, s, "request-target is neither origin-form nor absolute-form");
        }
        bool http = ieq(b + s, i - s, "http") || ieq(b + s, i - s, "https");
        if (e - i < 3 || b[i + 1] != '/' || b[i + 2] != '/') {
            return fail(p, 400, s,
                        http ? "absolute-form request-target without an authority"
                             : "authority-form request-target in a GET or HEAD request");
        }
        if (!http) {
            return fail(p, 400, s, "absolute-form request-target with a scheme other than http");
        }
        size_t auth = i + 3;
        path = auth;
        while (path < e && b[path] != '/' && b[path] != '?') {
            path++;
        }
        size_t host_len = 0;
        if (!authority_valid(b + auth, path - auth, &host_len) || host_len == 0) {
            return fail(p, 400, auth, "invalid authority in an absolute-form request-target");
        }
    }
    size_t query = path;
    while (query < e && b[query] != '?') {
        query++;
    }
    int rc = decode_path(p, path, query);
    if (rc == 0 && query < e) {
        rc = check_query(p, query + 1, e);
    }
    return rc;
}

/*
 * The request line: its prefix checks, its limits, then (complete) the version, the method and
 * the target. Returns 1 and *next at the first field line, or HO_EAGAIN or an error.
 */
static int parse_request_line(struct parser *p, size_t start, size_t *next)
{
    const struct ho_http_limits *lim = p->lim;
    size_t room = p->max_head - start;
    bool line_binds = lim->max_line < room;
    struct line l = find_line(p, start, line_binds ? lim->max_line : room);
    struct request_line rl;
    int rc = request_line_chars(p, &l, line_complete(p, &l), &rl);
    if (rc < 0) {
        return rc;
    }
    if (!line_binds) {
        rc = line_verdict(p, &l, 431, "request head longer than max_header_bytes");
    } else if (rl.method_done) {
        rc = line_verdict(p, &l, 414, "request line longer than max_line");
    } else {
        rc = line_verdict(p, &l, 501, "method longer than the request line allows");
    }
    if (rc != 1) {
        return rc;
    }

    const char *b = p->buf;
    if (b[rl.version + 5] != '1') {
        return fail(p, 505, rl.version + 5, "HTTP major version other than 1");
    }
    struct ho_http_req *req = p->req;
    req->minor = b[rl.version + 7] == '0' ? 0 : 1;
    req->method_tok = b + start;
    req->method_len = rl.method_end - start;
    if (req->method_len == 3 && memcmp(b + start, "GET", 3) == 0) {
        req->method = HO_HTTP_GET;
    } else if (req->method_len == 4 && memcmp(b + start, "HEAD", 4) == 0) {
        req->method = HO_HTTP_HEAD;
    } else {
        req->method = HO_HTTP_OTHER;
        return fail(p, 405, start, "method not allowed (only GET and HEAD are)");
    }
    rc = parse_target(p, rl.target, rl.target_end);
    if (rc < 0) {
        return rc;
    }
    *next = l.next;
    return 1;
}

/* The checks of a field line that hold for any prefix of it. *colon is set once it is seen. */
static int field_line_chars(struct parser *p, const struct line *l, bool complete, size_t *colon)
{
    const char *b = p->buf;
    size_t i = l->start, e = l->end;
    if (i < e && is_ows((unsigned char)b[i])) {
        return fail(p, 400, i,
                    p->fields == 0 ? "whitespace between the request line and the first field"
                                   : "obsolete line folding");
    }
    while (i < e && is_tchar((unsigned char)b[i])) {
        i++;
    }
    if (i == e) {
        return complete ? fail(p, 400, i, "header field without a colon") : 0;
    }
    if (b[i] != ':') {
        return fail(p, 400, i,
                    is_ows((unsigned char)b[i]) ? "space before colon in a header field"
                                                : "invalid character in a field name");
    }
    if (i == l->start) {
        return fail(p, 400, i, "empty field name");
    }
    *colon = i;
    for (i++; i < e; i++) {
        unsigned char c = (unsigned char)b[i];
        if (!is_field_char(c)) {
            return fail(p, 400, i,
                        c == 0 ? "NUL in a field value" : "control character in a field value");
        }
    }
    return 0;
}

/* Content-Length = 1*DIGIT, or a list of identical such values (RFC 9112 section 6.3). */
static int field_content_length(struct parser *p, size_t s, size_t e)
{
    const char *b = p->buf;
    size_t i = s;
    for (;;) {
        size_t at = i;
        uint64_t v = 0;
        for (; i < e && is_digit((unsigned char)b[i]); i++) {
            unsigned d = (unsigned)(b[i] - '0');
            if (v > (UINT64_MAX - d) / 10) {
                return fail(p, 400, at, "Content-Length overflows 64 bits");
            }
            v = v * 10 + d;
        }
        if (i == at) {
            return fail(p, 400, at, "malformed Content-Length");
        }
        if (p->has_cl && v != p->req->content_length) {
            return fail(p, 400, at, "two different Content-Length values");
        }
        if (v > p->lim->max_body) {
            return fail(p, 413, at, "Content-Length above max_body");
        }
        p->has_cl = true;
        p->req->content_length = v;
        while (i < e && is_ows((unsigned char)b[i])) {
            i++;
        }
        if (i == e) {
            return 0;
        }
        if (b[i] != ',') {
            return fail(p, 400, i, "malformed Content-Length");
        }
        for (i++; i < e && is_ows((unsigned char)b[i]); i++) {
        }
    }
}

/* Connection = #connection-option, tokens compared without case (RFC 9110 section 7.6.1);
 * empty list elements are allowed (section 5.6.1). */
static int field_connection(struct parser *p, size_t s, size_t e)
{
    const char *b = p->buf;
    size_t i = s;
    while (i < e) {
        size_t t = i;
        while (i < e && is_tchar((unsigned char)b[i])) {
            i++;
        }
        if (ieq(b + t, i - t, "close")) {
            p->conn_close = true;
        } else if (ieq(b + t, i - t, "keep-alive")) {
            p->conn_keep_alive = true;
        }
        while (i < e && is_ows((unsigned char)b[i])) {
            i++;
        }
        if (i == e) {
            break;
        }
        if (b[i] != ',') {
            return fail(p, 400, i, "malformed Connection");
        }
        for (i++; i < e && is_ows((unsigned char)b[i]); i++) {
        }
    }
    return 0;
}

/* A complete field line within the limits: the fields the server acts on. */
static int field_line(struct parser *p, size_t start, size_t colon, size_t end)
{
    const char *b = p->buf;
    size_t s = colon + 1, e = end;
    while (s < e && is_ows((unsigned char)b[s])) {
        s++;
    }
    while (e > s && is_ows((unsigned char)b[e - 1])) {
        e--;
    }
    const char *name = b + start;
    size_t n = colon - start;
    if (ieq(name, n, "host")) {
        size_t host_len;
        if (++p->hosts > 1) {
            return fail(p, 400, start, "duplicate Host");
        }
        if (!authority_valid(b + s, e - s, &host_len)) {
            return fail(p, 400, s, "invalid Host");
        }
        p->req->has_host = true;
    } else if (ieq(name, n, "content-length")) {
        return field_content_length(p, s, e);
    } else if (ieq(name, n, "transfer-encoding")) {
        if (!p->has_te) {
            p->has_te = true;
            p->te_at = start;
        }
    } else if (ieq(name, n, "connection")) {
        return field_connection(p, s, e);
    } else if (ieq(name, n, "if-modified-since")) {
        if (p->ims_count++ == 0) {
            p->ims_at = s;
            p->ims_len = e - s;
        }
    }
    return 0;
}

/* The rules that need the whole head; at is the offset of the empty line that ends it. */
static int head_done(struct parser *p, size_t at)
{
    struct ho_http_req *req = p->req;
    if (p->has_te && p->has_cl) {
        return fail(p, 400, p->te_at, "Transfer-Encoding with Content-Length");
    }
    if (p->has_te && req->minor == 0) {
        return fail(p, 400, p->te_at, "Transfer-Encoding in an HTTP/1.0 request");
    }
    if (req->minor == 1 && !req->has_host) {
        return fail(p, 400, at, "missing Host in an HTTP/1.1 request");
    }
    if (p->has_te) {
        return fail(p, 501, p->te_at, "Transfer-Encoding is not supported in requests");
    }
    req->keep_alive = req->minor == 1 ? !p->conn_close : p->conn_keep_alive && !p->conn_close;
    /* RFC 9110 section 13.1.3: ignore an invalid or repeated If-Modified-Since. */
    req->has_ims =
        p->ims_count == 1 && ho_http_parse_date(p->buf + p->ims_at, p->ims_len, &req->ims) == HO_OK;
    if (!req->has_ims) {
        req->ims = 0;
    }
    return 0;
}

/*
 * The field lines from pos to the empty line that ends the head. Returns the head's length, or
 * HO_EAGAIN or an error.
 */
static int parse_fields(struct parser *p, size_t pos)
{
    for (;;) {
        if (pos < p->len && pos >= p->max_head) {
            return fail_head_size(p);
        }
        /* The first byte of one field line too many is enough to refuse it. */
        if (pos < p->len && p->buf[pos] != '\r' && p->buf[pos] != '\n' &&
            p->fields == p->lim->max_headers) {
            return fail(p, 431, pos, "more header fields than max_headers");
        }
        struct line l = find_line(p, pos, p->max_head - pos);
        bool last = l.kind == LINE_DONE && l.end == l.start;
        size_t colon = 0;
        int rc = last ? 0 : field_line_chars(p, &l, line_complete(p, &l), &colon);
        if (rc == 0) {
            rc = line_verdict(p, &l, 431, "request head longer than max_header_bytes");
        }
        if (rc != 1) {
            return rc;
        }
        if (last) {
            rc = head_done(p, l.start);
            return rc < 0 ? rc : (int)l.next;
        }
        p->fields++;
        rc = field_line(p, l.start, colon, l.end);
        if (rc < 0) {
            return rc;
        }
        pos = l.next;
    }
}

int ho_http_parse(const char *buf, size_t len, const struct ho_http_limits *lim,
                  struct ho_http_req *out, struct ho_http_error *err)
{
    if ((buf == NULL && len > 0) || lim == NULL || out == NULL || err == NULL ||
        lim->max_header_bytes > INT_MAX) {
        return HO_EINVAL;
    }
    memset(out, 0, sizeof *out);
    memset(err, 0, sizeof *err);
    struct parser p = {.buf = buf,
                       .len = len,
                       .max_head = lim->max_header_bytes,
                       .lim = lim,
                       .req = out,
                       .err = err};

    size_t pos = 0;
    int rc = skip_empty_lines(&p, &pos);
    if (rc == 1) {
        rc = parse_request_line(&p, pos, &pos);
    }
    if (rc == 1) {
        rc = parse_fields(&p, pos);
    }
    if (rc > 0) {
        out->header_bytes = (size_t)rc;
    }
    return rc;
}

/* ---- dates -------------------------------------------------------------------------------- */

static const char *const day_short[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const day_long[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                        "Thursday", "Friday", "Saturday"};
static const char *const month_name[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

#define SECS_PER_DAY 86400
#define YEAR_MIN     1970
#define YEAR_MAX     9999

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return days[m - 1] + (m == 2 && is_leap(y));
}

/* Leap years in 1..y-1 (y >= 1). */
static int64_t leaps_before(int64_t y)
{
    y -= 1;
    return y / 4 - y / 100 + y / 400;
}

/* Days from 1970-01-01 to y-m-d (m 1..12, d 1..31, y >= 1970). */
static int64_t days_from_date(int64_t y, int m, int d)
{
    static const int before_month[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    return 365 * (y - YEAR_MIN) + leaps_before(y) - leaps_before(YEAR_MIN) + before_month[m - 1] +
           (m > 2 && is_leap(y)) + d - 1;
}

/* The weekday of a day since the epoch, 0 = Sunday: 1970-01-01 was a Thursday. */
static int weekday(int64_t days)
{
    return (int)((days + 4) % 7);
}

struct civil {
    int64_t year;
    int month, day, hour, minute, second, wday;
};

/* The calendar date and time of t, 0 <= t <= HO_HTTP_TIME_MAX. */
static struct civil civil_from_time(int64_t t)
{
    struct civil c;
    int64_t days = t / SECS_PER_DAY, secs = t % SECS_PER_DAY;
    c.wday = weekday(days);
    c.hour = (int)(secs / 3600);
    c.minute = (int)(secs / 60 % 60);
    c.second = (int)(secs % 60);
    /* Years are at least 365 days, so this is a lower bound; a few steps up find the year. */
    c.year = YEAR_MIN + days / 366;
    while (days_from_date(c.year + 1, 1, 1) <= days) {
        c.year++;
    }
    int64_t left = days - days_from_date(c.year, 1, 1);
    c.month = 1;
    while (left >= days_in_month(c.year, c.month)) {
        left -= days_in_month(c.year, c.month);
        c.month++;
    }
    c.day = (int)left + 1;
    return c;
}

static void put2(char *s, int v)
{
    s[0] = (char)('0' + v / 10);
    s[1] = (char)('0' + v % 10);
}

int ho_http_format_date(char *buf, size_t cap, int64_t t)
{
    if (buf == NULL || t < 0 || t > HO_HTTP_TIME_MAX) {
        return HO_EINVAL;
    }
    if (cap < HO_HTTP_DATE_LEN + 1) {
        return HO_EMSGSIZE;
    }
    struct civil c = civil_from_time(t);
    /* "Sun, 06 Nov 1994 08:49:37 GMT" */
    memcpy(buf, day_short[c.wday], 3);
    memcpy(buf + 3, ", ", 2);
    put2(buf + 5, c.day);
    buf[7] = ' ';
    memcpy(buf + 8, month_name[c.month - 1], 3);
    buf[11] = ' ';
    put2(buf + 12, (int)(c.year / 100));
    put2(buf + 14, (int)(c.year % 100));
    buf[16] = ' ';
    put2(buf + 17, c.hour);
    buf[19] = ':';
    put2(buf + 20, c.minute);
    buf[22] = ':';
    put2(buf + 23, c.second);
    memcpy(buf + 25, " GMT", 5); /* with the NUL */
    return HO_HTTP_DATE_LEN;
}

/* A cursor over the date being read; each match advances it or fails. */
struct cursor {
    const char *s;
    size_t n, i;
};

static bool take_lit(struct cursor *c, const char *lit)
{
    size_t k = strlen(lit);
    if (c->n - c->i < k || memcmp(c->s + c->i, lit, k) != 0) {
        return false;
    }
    c->i += k;
    return true;
}

/* Exactly width digits. */
static bool take_num(struct cursor *c, size_t width, int *v)
{
    if (c->n - c->i < width) {
        return false;
    }
    *v = 0;
    for (size_t k = 0; k < width; k++) {
        unsigned char d = (unsigned char)c->s[c->i + k];
        if (!is_digit(d)) {
            return false;
        }
        *v = *v * 10 + (d - '0');
    }
    c->i += width;
    return true;
}

/* One of the names of a table (no name is a prefix of another); *idx is its index. */
static bool take_name(struct cursor *c, const char *const *names, int count, int *idx)
{
    for (int k = 0; k < count; k++) {
        if (take_lit(c, names[k])) {
            *idx = k;
            return true;
        }
    }
    return false;
}

/* time-of-day = hour ":" minute ":" second */
static bool take_time(struct cursor *c, struct civil *d)
{
    return take_num(c, 2, &d->hour) && take_lit(c, ":") && take_num(c, 2, &d->minute) &&
           take_lit(c, ":") && take_num(c, 2, &d->second);
}

static bool take_year4(struct cursor *c, struct civil *d)
{
    int y;
    if (!take_num(c, 4, &y)) {
        return false;
    }
    d->year = y;
    return true;
}

/* IMF-fixdate: day-name "," SP day SP month SP year SP time-of-day SP "GMT" */
static bool read_imf_fixdate(struct cursor *c, struct civil *d)
{
    return take_name(c, day_short, 7, &d->wday) && take_lit(c, ", ") && take_num(c, 2, &d->day) &&
           take_lit(c, " ") && take_name(c, month_name, 12, &d->month) && take_lit(c, " ") &&
           take_year4(c, d) && take_lit(c, " ") && take_time(c, d) && take_lit(c, " GMT");
}

/* rfc850-date: day-name-l "," SP day "-" month "-" 2DIGIT SP time-of-day SP "GMT" */
static bool read_rfc850(struct cursor *c, struct civil *d)
{
    int yy;
    if (!(take_name(c, day_long, 7, &d->wday) && take_lit(c, ", ") && take_num(c, 2, &d->day) &&
          take_lit(c, "-") && take_name(c, month_name, 12, &d->month) && take_lit(c, "-") &&
          take_num(c, 2, &yy) && take_lit(c, " ") && take_time(c, d) && take_lit(c, " GMT"))) {
        return false;
    }
    d->year = yy >= 70 ? 1900 + yy : 2000 + yy; /* the window of http.h */
    return true;
}

/* asctime-date: day-name SP month SP ( 2DIGIT / ( SP DIGIT ) ) SP time-of-day SP year */
static bool read_asctime(struct cursor *c, struct civil *d)
{
    if (!(take_name(c, day_short, 7, &d->wday) && take_lit(c, " ") &&
          take_name(c, month_name, 12, &d->month) && take_lit(c, " "))) {
        return false;
    }
    bool day_ok = take_lit(c, " ") ? take_num(c, 1, &d->day) : take_num(c, 2, &d->day);
    return day_ok && take_lit(c, " ") && take_time(c, d) && take_lit(c, " ") && take_year4(c, d);
}

int ho_http_parse_date(const char *s, size_t len, int64_t *out)
{
    if ((s == NULL && len > 0) || out == NULL) {
        return HO_EINVAL;
    }
    bool (*const readers[3])(struct cursor *, struct civil *) = {read_imf_fixdate, read_rfc850,
                                                                 read_asctime};
    for (int k = 0; k < 3; k++) {
        struct cursor c = {s, len, 0};
        struct civil d = {0, 0, 0, 0, 0, 0, 0};
        if (!readers[k](&c, &d) || c.i != len) {
            continue;
        }
        d.month += 1; /* take_name gave the index */
        if (d.year < YEAR_MIN || d.year > YEAR_MAX || d.day < 1 ||
            d.day > days_in_month(d.year, d.month) || d.hour > 23 || d.minute > 59 ||
            d.second > 60) {
            return HO_EPROTO;
        }
        int64_t days = days_from_date(d.year, d.month, d.day);
        if (weekday(days) != d.wday) {
            return HO_EPROTO;
        }
        int64_t t = days * SECS_PER_DAY + d.hour * 3600 + d.minute * 60 + d.second;
        if (t > HO_HTTP_TIME_MAX) {
            return HO_EPROTO; /* 9999-12-31 23:59:60 */
        }
        *out = t;
        return HO_OK;
    }
    return HO_EPROTO;
}

/* ---- responses ---------------------------------------------------------------------------- */

const char *ho_http_reason(int status)
{
    static const struct {
        int status;
        const char *reason;
    } reasons[] = {
        {200, "OK"},
        {304, "Not Modified"},
        {400, "Bad Request"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {408, "Request Timeout"},
        {413, "Content Too Large"},
        {414, "URI Too Long"},
        {431, "Request Header Fields Too Large"},
        {500, "Internal Server Error"},
        {501, "Not Implemented"},
        {503, "Service Unavailable"},
        {505, "HTTP Version Not Supported"},
    };
    for (size_t k = 0; k < sizeof reasons / sizeof reasons[0]; k++) {
        if (reasons[k].status == status) {
            return reasons[k].reason;
        }
    }
    return NULL;
}

/* A bounded writer: writes what fits, counts everything. */
struct writer {
    char *buf;
    size_t cap, len;
};

static void put(struct writer *w, const char *s, size_t n)
{
    if (w->len <= w->cap && n <= w->cap - w->len) {
        memcpy(w->buf + w->len, s, n);
    }
    w->len += n;
}

static void put_str(struct writer *w, const char *s)
{
    put(w, s, strlen(s));
}

static void put_u64(struct writer *w, uint64_t v)
{
    char digits[20];
    size_t n = sizeof digits;
    do {
        digits[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    put(w, digits + n, sizeof digits - n);
}

/* A field line "name: <IMF-fixdate>" for a time already checked to be in range. */
static void put_date_field(struct writer *w, const char *name, int64_t t)
{
    char date[HO_HTTP_DATE_LEN + 1];
    ho_http_format_date(date, sizeof date, t);
    put_str(w, name);
    put(w, date, HO_HTTP_DATE_LEN);
    put_str(w, "\r\n");
}

static bool time_ok(int64_t t)
{
    return t >= 0 && t <= HO_HTTP_TIME_MAX;
}

/* A Content-Type value the caller gave: non-empty, no control character but HTAB. */
static bool field_value_ok(const char *s)
{
    if (*s == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (!is_field_char((unsigned char)*s)) {
            return false;
        }
    }
    return true;
}

int ho_http_format_head(char *buf, size_t cap, int status, const struct ho_http_resp *r)
{
    const char *reason = ho_http_reason(status);
    if (buf == NULL || r == NULL || reason == NULL || status < 200 || status == 204 ||
        !time_ok(r->now_s) || (r->has_last_modified && !time_ok(r->last_modified)) ||
        (r->content_type != NULL && !field_value_ok(r->content_type))) {
        return HO_EINVAL;
    }
    struct writer w = {buf, cap, 0};
    bool not_modified = status == 304;
    put_str(&w, "HTTP/1.1 ");
    put_u64(&w, (uint64_t)status);
    put_str(&w, " ");
    put_str(&w, reason);
    put_str(&w, "\r\n");
    put_date_field(&w, "Date: ", r->now_s);
    put_str(&w, "Server: handoff\r\n");
    if (!not_modified) {
        put_str(&w, "Content-Length: ");
        put_u64(&w, r->content_length);
        put_str(&w, "\r\n");
        if (r->content_type != NULL) {
            put_str(&w, "Content-Type: ");
            put_str(&w, r->content_type);
            put_str(&w, "\r\n");
        }
    }
    if (r->has_last_modified) {
        put_date_field(&w, "Last-Modified: ", r->last_modified);
    }
    if (status == 405) {
        put_str(&w, "Allow: GET, HEAD\r\n");
    }
    put_str(&w, r->keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
    put_str(&w, "\r\n");
    if (w.len >= cap || w.len > INT_MAX) {
        return HO_EMSGSIZE;
    }
    buf[w.len] = '\0';
    return (int)w.len;
}

/* ---- content types ------------------------------------------------------------------------ */

const char *ho_http_content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {"html", "text/html"}, {"htm", "text/html"},      {"txt", "text/plain"},
        {"css", "text/css"},   {"js", "text/javascript"}, {"json", "application/json"},
        {"png", "image/png"},  {"jpg", "image/jpeg"},     {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},  {"svg", "image/svg+xml"},  {"pdf", "application/pdf"},
    };
    const char *fallback = "application/octet-stream";
    if (path == NULL) {
        return fallback;
    }
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    if (dot == NULL) {
        return fallback;
    }
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        if (ieq(dot + 1, strlen(dot + 1), types[k].ext)) {
            return types[k].type;
        }
    }
    return fallback;
}
