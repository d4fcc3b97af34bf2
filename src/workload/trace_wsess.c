/*
 * trace_wsess.c - httperf --wsesslog session files (see workload_trace.h).
 *
 * Called by ho_trace_read(). The syntax is httperf's: '#' in the first column starts a comment,
 * lines holding only blanks end a session (several in a row do not make empty sessions), a
 * line starting with a blank is a burst item sent with the burst opened by the line before it,
 * and a request is "path [key=value ...]" with the keys method=, think= (seconds the client
 * waits after the burst before the next one) and contents= (request body, quoted with ' or "
 * and backslash escapes). httperf has no notion of response size, which the simulator needs,
 * so two keys of ours are accepted: size= (response body bytes) and status= (HTTP code). When
 * size= is absent the size is taken from a SPECweb99 file name (.../classC_F), is 0 for HEAD,
 * and is otherwise unknown. Any other key is an error. Each session becomes one connection.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "handoff/err.h"
#include "intern.h"
#include "lineio.h"
#include "trace_priv.h"

/* A think time is held in microseconds in 32 bits. */
#define WSESS_MAX_THINK_S 4294.0

struct wsess_state {
    struct ho_tb *b;
    struct ho_intern paths;
    uint32_t session;     /* index of the session being read */
    int in_session;       /* a request of this session has been read */
    uint64_t burst_last;  /* index (in b->recs) of the current burst's last request */
    double burst_think_s; /* think time of the current burst */
};

static int wsess_fail(struct ho_wl_err *err, const char *path, unsigned long line, const char *what,
                      const char *arg, size_t arg_len)
{
    if (arg) {
        int shown = arg_len > 60 ? 60 : (int)arg_len;
        snprintf(err->msg, sizeof err->msg, "%s:%lu: %s '%.*s%s'", path, line, what, shown, arg,
                 arg_len > 60 ? "..." : "");
    } else {
        snprintf(err->msg, sizeof err->msg, "%s:%lu: %s", path, line, what);
    }
    return HO_EPROTO;
}

/* A plain decimal number of seconds: digits, an optional fraction and exponent; no sign, no
 * inf or nan, no hexadecimal. */
static int parse_seconds(const char *s, size_t n, double *out)
{
    size_t i = 0, digits = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        i++, digits++;
    }
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            i++, digits++;
        }
    }
    if (digits == 0) {
        return -1;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) {
            i++;
        }
        size_t e0 = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            i++;
        }
        if (i == e0) {
            return -1;
        }
    }
    if (i != n || n > 64) {
        return -1;
    }
    char tmp[65];
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    double v = strtod(tmp, NULL);
    if (!isfinite(v)) {
        return -1;
    }
    *out = v;
    return 0;
}

/* The size of a SPECweb99 file named by the path's last component "classC_F", or
 * HO_REQ_SIZE_UNKNOWN. */
static uint32_t specweb_size(const char *p, size_t n)
{
    const char *slash = p;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '/') {
            slash = p + i + 1;
        }
    }
    size_t rest = n - (size_t)(slash - p);
    if (rest == 8 && !memcmp(slash, "class", 5) && slash[5] >= '0' && slash[5] <= '3' &&
        slash[6] == '_' && slash[7] >= '0' && slash[7] <= '8') {
        return ho_genspec_file_size((unsigned)(slash[5] - '0'), (unsigned)(slash[7] - '0'));
    }
    return HO_REQ_SIZE_UNKNOWN;
}

static int method_of(const char *s, size_t n, enum ho_method *m)
{
    static const char *const others[] = {"PUT", "DELETE", "OPTIONS", "TRACE"};
    if (n == 3 && !memcmp(s, "GET", 3)) {
        *m = HO_METHOD_GET;
    } else if (n == 4 && !memcmp(s, "HEAD", 4)) {
        *m = HO_METHOD_HEAD;
    } else if (n == 4 && !memcmp(s, "POST", 4)) {
        *m = HO_METHOD_POST;
    } else {
        for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
            if (strlen(others[i]) == n && !memcmp(s, others[i], n)) {
                *m = HO_METHOD_OTHER;
                return 0;
            }
        }
        return -1;
    }
    return 0;
}

/* Reads a contents= value at s[*pos]: quoted with ' or " (the quote may also open midway, as
 * httperf allows) with \n \r \t and \x escapes, ending at an unquoted blank or the end of the
 * line. Returns the decoded length, or -1 for an unterminated quote. */
static long contents_value(const char *s, size_t len, size_t *pos)
{
    char quote = 0;
    long n = 0;
    size_t i = *pos;
    for (; i < len; i++) {
        char ch = s[i];
        if (ch == '\\') {
            if (i + 1 >= len) {
                return -1; /* a continuation line, which we do not accept */
            }
            i++;
            n++;
        } else if (quote && ch == quote) {
            quote = 0;
        } else if (!quote && (ch == '"' || ch == '\'')) {
            quote = ch;
        } else if (!quote && (ch == ' ' || ch == '\t')) {
            break;
        } else {
            n++;
        }
    }
    if (quote) {
        return -1;
    }
    *pos = i;
    return n;
}

/* Gives the current burst's think time to its last request. */
static void close_burst(struct wsess_state *st)
{
    if (st->in_session) {
        st->b->recs[st->burst_last].req.think_us = (uint32_t)llround(st->burst_think_s * 1e6);
    }
}

static void end_session(struct wsess_state *st)
{
    if (st->in_session) {
        /* After the session's last burst there is nothing to wait for. */
        st->b->recs[st->burst_last].req.think_us = 0;
        st->session++;
        st->in_session = 0;
    }
}

static int wsess_line(struct wsess_state *st, const char *s, size_t len, unsigned long line,
                      struct ho_wl_err *err)
{
    const char *path = st->b->path;
    int burst_item = s[0] == ' ' || s[0] == '\t';
    size_t i = strspn(s, " \t");
    size_t p0 = i;
    while (i < len && s[i] != ' ' && s[i] != '\t') {
        i++;
    }
    const char *uri = s + p0;
    size_t nuri = i - p0;
    struct ho_req req = {
        .size = HO_REQ_SIZE_UNKNOWN, .status = 200, .method = HO_METHOD_GET, .kind = HO_REQ_STATIC};
    int have_size = 0;
    double think = -1;
    while (i < len) {
        i += strspn(s + i, " \t");
        if (i >= len) {
            break;
        }
        size_t k0 = i;
        while (i < len && s[i] != '=' && s[i] != ' ' && s[i] != '\t') {
            i++;
        }
        const char *key = s + k0;
        size_t nkey = i - k0;
        if (i >= len || s[i] != '=') {
            return wsess_fail(err, path, line, "expected key=value, found", key, nkey);
        }
        i++;
        if (nkey == 8 && !memcmp(key, "contents", 8)) {
            long n = contents_value(s, len, &i);
            if (n < 0) {
                return wsess_fail(err, path, line,
                                  "unterminated quote or trailing backslash in contents= "
                                  "(continuation lines are not supported)",
                                  NULL, 0);
            }
            req.upload = (uint32_t)n;
            continue;
        }
        size_t v0 = i;
        while (i < len && s[i] != ' ' && s[i] != '\t') {
            i++;
        }
        const char *val = s + v0;
        size_t nval = i - v0;
        if (nkey == 6 && !memcmp(key, "method", 6)) {
            enum ho_method m;
            if (method_of(val, nval, &m)) {
                return wsess_fail(err, path, line, "unknown method", val, nval);
            }
            req.method = (uint8_t)m;
        } else if (nkey == 5 && !memcmp(key, "think", 5)) {
            if (parse_seconds(val, nval, &think)) {
                return wsess_fail(err, path, line,
                                  "think= needs a non-negative number of seconds, not", val, nval);
            }
            if (think > WSESS_MAX_THINK_S) {
                return wsess_fail(err, path, line, "think time above 4294 s:", val, nval);
            }
        } else if (nkey == 4 && !memcmp(key, "size", 4)) {
            uint64_t v;
            int rc = ho_parse_u64(val, nval, UINT32_MAX - 1, &v);
            if (rc != HO_OK) {
                return wsess_fail(err, path, line,
                                  rc == HO_ELIMIT ? "size= does not fit in 32 bits:"
                                                  : "size= needs a number of bytes, not",
                                  val, nval);
            }
            req.size = (uint32_t)v;
            have_size = 1;
        } else if (nkey == 6 && !memcmp(key, "status", 6)) {
            uint64_t v;
            if (ho_parse_u64(val, nval, 999, &v) != HO_OK || v < 100 || v > 599) {
                return wsess_fail(err, path, line, "status= needs a code from 100 to 599, not", val,
                                  nval);
            }
            req.status = (uint16_t)v;
        } else {
            return wsess_fail(err, path, line,
                              "unknown key (known: method, think, contents, size, status):", key,
                              nkey);
        }
    }
    if (!have_size) {
        req.size = req.method == HO_METHOD_HEAD ? 0 : specweb_size(uri, nuri);
    }
    int64_t object = ho_intern_id(&st->paths, uri, nuri);
    if (object < 0) {
        snprintf(err->msg, sizeof err->msg, "%s:%lu: out of memory", path, line);
        return HO_ENOMEM;
    }
    req.object = (uint32_t)object;
    if (!st->in_session || !burst_item) {
        close_burst(st);
        st->burst_think_s = st->b->p.wsess_default_think_s;
    } else {
        req.flags |= HO_REQ_F_BURST;
    }
    if (think >= 0) {
        st->burst_think_s = think; /* httperf: think= sets the think time of its burst */
    }
    int rc = ho_tb_add(st->b, 0, st->session, &req, err);
    if (rc != HO_OK) {
        return rc;
    }
    st->in_session = 1;
    st->burst_last = st->b->n - 1;
    return HO_OK;
}

int ho_trace_read_wsess(struct ho_tb *b, struct ho_wl_err *err)
{
    struct ho_lines lines;
    int rc = ho_lines_open(&lines, b->path, err);
    if (rc != HO_OK) {
        return rc;
    }
    struct wsess_state st = {.b = b};
    ho_intern_init(&st.paths);
    char *line;
    size_t len;
    while (!ho_tb_full(b) && (rc = ho_lines_next(&lines, &line, &len, err)) == 1) {
        if (line[0] == '#') {
            continue;
        }
        if (strspn(line, " \t") == len) {
            end_session(&st);
            continue;
        }
        rc = wsess_line(&st, line, len, lines.lineno, err);
        if (rc != HO_OK) {
            break;
        }
    }
    if (rc >= 0) {
        close_burst(&st);
        end_session(&st);
        rc = HO_OK;
    }
    ho_intern_free(&st.paths);
    ho_lines_close(&lines);
    return rc;
}
