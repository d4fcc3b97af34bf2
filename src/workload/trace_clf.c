/*
 * trace_clf.c - Common and Combined Log Format reader (see workload_trace.h).
 *
 * Called by ho_trace_read(). A line is
 *     host ident user [dd/Mon/yyyy:HH:MM:SS +zzzz] "request" status size ["referer" "agent"]
 * where size may be "-" (no body). Each field is checked strictly and a bad one is an error
 * naming the file, the line and the field; quoted fields may contain \" escapes as Apache
 * writes them. Hosts and URLs become dense ids. The request string is split into method and
 * URL when it has the usual "METHOD URL [PROTOCOL]" shape; otherwise the whole string names the
 * object and the method is "other" (logs record garbage requests too). Blank lines are skipped.
 */
#include <string.h>

#include "handoff/err.h"
#include "intern.h"
#include "lineio.h"
#include "trace_priv.h"

struct clf_cursor {
    const char *s; /* the line */
    size_t len;
    size_t pos;
};

static int at_end(const struct clf_cursor *c)
{
    return c->pos >= c->len;
}

static void skip_spaces(struct clf_cursor *c)
{
    while (!at_end(c) && (c->s[c->pos] == ' ' || c->s[c->pos] == '\t')) {
        c->pos++;
    }
}

/* A run of non-blank characters; returns its length (0 when none). */
static size_t token(struct clf_cursor *c, const char **start)
{
    skip_spaces(c);
    *start = c->s + c->pos;
    size_t begin = c->pos;
    while (!at_end(c) && c->s[c->pos] != ' ' && c->s[c->pos] != '\t') {
        c->pos++;
    }
    return c->pos - begin;
}

/* A double-quoted field with backslash escapes; *start and *n give the raw inside. Returns 0,
 * or -1 when there is no opening quote, -2 when there is no closing quote. */
static int quoted(struct clf_cursor *c, const char **start, size_t *n)
{
    skip_spaces(c);
    if (at_end(c) || c->s[c->pos] != '"') {
        return -1;
    }
    size_t begin = ++c->pos;
    while (!at_end(c) && c->s[c->pos] != '"') {
        c->pos += c->s[c->pos] == '\\' && c->pos + 1 < c->len ? 2 : 1;
    }
    if (at_end(c)) {
        return -2;
    }
    *start = c->s + begin;
    *n = c->pos - begin;
    c->pos++;
    return 0;
}

static int parse_fixed(const char *s, size_t n, uint64_t max, int64_t *out)
{
    uint64_t v;
    if (ho_parse_u64(s, n, max, &v) != HO_OK) {
        return -1;
    }
    *out = (int64_t)v;
    return 0;
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian, y >= 1). */
static int64_t days_since_epoch(int64_t y, int m, int64_t d)
{
    static const int before[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    int64_t p = y - 1;
    int64_t days = p * 365 + p / 4 - p / 100 + p / 400; /* 0001-01-01 .. y-01-01 */
    days += before[m - 1] + (m > 2 && is_leap(y)) + (d - 1);
    const int64_t epoch = 1969 * 365 + 1969 / 4 - 1969 / 100 + 1969 / 400;
    return days - epoch;
}

/* Parses "dd/Mon/yyyy:HH:MM:SS +zzzz" into seconds since the Epoch (UTC). Returns NULL or the
 * name of the bad part. */
static const char *parse_time(const char *s, size_t n, int64_t *out)
{
    static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    /* dd/Mon/yyyy:HH:MM:SS +zzzz is exactly 26 characters */
    if (n != 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' ||
        s[20] != ' ' || (s[21] != '+' && s[21] != '-')) {
        return "the time is not dd/Mon/yyyy:HH:MM:SS +zzzz";
    }
    int64_t day, year, hour, min, sec, zh, zm;
    int month = -1;
    for (int i = 0; i < 12; i++) {
        if (!memcmp(s + 3, months[i], 3)) {
            month = i + 1;
        }
    }
    if (month < 0) {
        return "unknown month in the time";
    }
    if (parse_fixed(s, 2, 99, &day) || parse_fixed(s + 7, 4, 9999, &year) ||
        parse_fixed(s + 12, 2, 99, &hour) || parse_fixed(s + 15, 2, 99, &min) ||
        parse_fixed(s + 18, 2, 99, &sec) || parse_fixed(s + 22, 2, 99, &zh) ||
        parse_fixed(s + 24, 2, 99, &zm)) {
        return "a non-digit in the time";
    }
    int64_t dim = mdays[month - 1] + (month == 2 && is_leap(year));
    if (year < 1 || day < 1 || day > dim) {
        return "the day does not exist";
    }
    if (hour > 23 || min > 59 || sec > 60) {
        return "the time of day is out of range";
    }
    if (zh > 14 || zm > 59) {
        return "the time zone offset is out of range";
    }
    int64_t zone = (zh * 3600 + zm * 60) * (s[21] == '-' ? -1 : 1);
    *out = days_since_epoch(year, month, day) * 86400 + hour * 3600 + min * 60 + sec - zone;
    return NULL;
}

static enum ho_method method_of(const char *s, size_t n)
{
    if (n == 3 && !memcmp(s, "GET", 3)) {
        return HO_METHOD_GET;
    }
    if (n == 4 && !memcmp(s, "HEAD", 4)) {
        return HO_METHOD_HEAD;
    }
    if (n == 4 && !memcmp(s, "POST", 4)) {
        return HO_METHOD_POST;
    }
    return HO_METHOD_OTHER;
}

/* Splits "METHOD URL [PROTOCOL]" when the request has that shape. */
static void split_request(const char *s, size_t n, enum ho_method *method, const char **url,
                          size_t *url_len)
{
    const char *sp1 = memchr(s, ' ', n);
    *method = HO_METHOD_OTHER;
    *url = s;
    *url_len = n;
    if (!sp1 || sp1 == s) {
        return;
    }
    const char *u = sp1 + 1;
    size_t rest = n - (size_t)(u - s);
    const char *sp2 = memchr(u, ' ', rest);
    size_t ulen = sp2 ? (size_t)(sp2 - u) : rest;
    if (ulen == 0 || (sp2 && (memchr(sp2 + 1, ' ', n - (size_t)(sp2 + 1 - s)) ||
                              n - (size_t)(sp2 + 1 - s) < 5 || memcmp(sp2 + 1, "HTTP/", 5)))) {
        return;
    }
    for (const char *p = s; p < sp1; p++) {
        if (*p < 'A' || *p > 'Z') {
            return;
        }
    }
    *method = method_of(s, (size_t)(sp1 - s));
    *url = u;
    *url_len = ulen;
}

struct clf_state {
    struct ho_tb *b;
    struct ho_intern hosts, urls;
};

static int clf_fail(struct ho_wl_err *err, const char *path, unsigned long line, const char *what)
{
    snprintf(err->msg, sizeof err->msg, "%s:%lu: %s", path, line, what);
    return HO_EPROTO;
}

static int clf_line(struct clf_state *st, const char *s, size_t len, unsigned long line,
                    struct ho_wl_err *err)
{
    const char *path = st->b->path;
    struct clf_cursor c = {s, len, 0};
    const char *host, *ident, *user, *f;
    size_t nhost = token(&c, &host), nident = token(&c, &ident), nuser = token(&c, &user);
    if (!nhost || !nident || !nuser) {
        return clf_fail(err, path, line, "expected host, ident and user before the time");
    }
    skip_spaces(&c);
    if (at_end(&c) || s[c.pos] != '[') {
        return clf_fail(err, path, line, "expected '[' opening the time");
    }
    const char *ts = s + c.pos + 1;
    const char *close = memchr(ts, ']', len - c.pos - 1);
    if (!close) {
        return clf_fail(err, path, line, "no ']' closing the time");
    }
    int64_t time;
    const char *bad = parse_time(ts, (size_t)(close - ts), &time);
    if (bad) {
        return clf_fail(err, path, line, bad);
    }
    c.pos = (size_t)(close - s) + 1;
    const char *rq;
    size_t nrq;
    int q = quoted(&c, &rq, &nrq);
    if (q) {
        return clf_fail(err, path, line,
                        q == -1 ? "expected the quoted request after the time"
                                : "the quoted request has no closing quote");
    }
    size_t nstatus = token(&c, &f);
    uint64_t status;
    if (nstatus == 0) {
        return clf_fail(err, path, line, "missing status after the request");
    }
    if (nstatus != 3 || ho_parse_u64(f, 3, 999, &status) != HO_OK || status < 100 || status > 599) {
        return clf_fail(err, path, line, "the status is not a 3-digit code from 100 to 599");
    }
    const char *sz;
    size_t nsz = token(&c, &sz);
    uint64_t size = 0;
    if (nsz == 0) {
        return clf_fail(err, path, line, "missing size after the status");
    }
    if (!(nsz == 1 && sz[0] == '-')) {
        if (sz[0] == '-') {
            return clf_fail(err, path, line, "negative size");
        }
        int rc = ho_parse_u64(sz, nsz, UINT32_MAX - 1, &size);
        if (rc == HO_ELIMIT) {
            return clf_fail(err, path, line, "the size does not fit in 32 bits");
        }
        if (rc != HO_OK) {
            return clf_fail(err, path, line, "the size is not a number or '-'");
        }
    }
    /* Combined Log Format: any number of further quoted fields (referer, user agent). */
    for (;;) {
        skip_spaces(&c);
        if (at_end(&c)) {
            break;
        }
        const char *extra;
        size_t nextra;
        if (quoted(&c, &extra, &nextra)) {
            return clf_fail(err, path, line,
                            "unexpected text after the size (only quoted fields may follow)");
        }
    }
    enum ho_method method;
    const char *url;
    size_t nurl;
    split_request(rq, nrq, &method, &url, &nurl);
    int64_t client = ho_intern_id(&st->hosts, host, nhost);
    int64_t object = ho_intern_id(&st->urls, url, nurl);
    if (client < 0 || object < 0) {
        snprintf(err->msg, sizeof err->msg, "%s:%lu: out of memory", path, line);
        return HO_ENOMEM;
    }
    char where[200];
    snprintf(where, sizeof where, "%s:%lu", path, line);
    int rc = ho_tb_check_time(st->b, time, where, err);
    if (rc != HO_OK) {
        return rc;
    }
    struct ho_req req = {
        .object = (uint32_t)object,
        .size = (uint32_t)size,
        .status = (uint16_t)status,
        .method = (uint8_t)method,
        .kind = HO_REQ_STATIC,
    };
    return ho_tb_add(st->b, time, (uint32_t)client, &req, err);
}

int ho_trace_read_clf(struct ho_tb *b, struct ho_wl_err *err)
{
    struct ho_lines lines;
    int rc = ho_lines_open(&lines, b->path, err);
    if (rc != HO_OK) {
        return rc;
    }
    struct clf_state st = {.b = b};
    ho_intern_init(&st.hosts);
    ho_intern_init(&st.urls);
    char *line;
    size_t len;
    while (!ho_tb_full(b) && (rc = ho_lines_next(&lines, &line, &len, err)) == 1) {
        if (strspn(line, " \t") == len) {
            continue; /* blank */
        }
        rc = clf_line(&st, line, len, lines.lineno, err);
        if (rc != HO_OK) {
            break;
        }
    }
    if (rc > 0) {
        rc = HO_OK;
    }
    ho_intern_free(&st.hosts);
    ho_intern_free(&st.urls);
    ho_lines_close(&lines);
    return rc;
}
