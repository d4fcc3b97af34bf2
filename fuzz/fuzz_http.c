/*
 * fuzz_http.c - libFuzzer entry point for the HTTP/1.x request parser, the HTTP-date reader and
 * the response-head formatter (include/handoff/http.h, src/app/http.c).
 *
 * Build and run (from the repository root; `make fuzz` does this for every fuzz/fuzz_*.c):
 *   clang -fsanitize=fuzzer,address,undefined -Iinclude fuzz/fuzz_http.c src/app/http.c \
 *       -o fuzz_http
 *   ./fuzz_http -max_total_time=120 fuzz/corpus/http
 * The seed corpus (requests valid and refused, pipelined pairs, dates) is written by
 * gen_corpus_http.c.
 *
 * Every input is parsed as a request head twice, under the default limits and under tight ones,
 * always from a heap copy of exactly the bytes given, so that AddressSanitizer catches a read
 * past the end. Checked:
 *  - the result is HO_EAGAIN, a head length 0 < n <= len, or an error with a status in {400,
 *    405, 413, 414, 431, 501, 505}, a non-empty reason, an offset inside the input, and
 *    HO_EMSGSIZE exactly for 413, 414 and 431 (HO_EPROTO otherwise);
 *  - a head ends with LF, fits max_header_bytes and equals header_bytes; its method is GET or
 *    HEAD, its minor version 0 or 1, its Content-Length within max_body, HTTP/1.1 has a Host;
 *    its path starts with '/', has the length path_len, no empty, "." or ".." segment, no NUL,
 *    control character or backslash; an incomplete input is within max_header_bytes;
 *  - the same bytes parse the same way again; the head alone parses to the same request;
 *  - a shorter prefix of the input is incomplete, or gives the same result (the same head, or
 *    the same error at the same offset for the same reason).
 * The input is also read as an HTTP-date: a date read must be in 1970..9999 and format back to
 * a string that reads as the same time (and to the input itself, for an IMF-fixdate without a
 * leap second). Last, the input's first bytes choose a response (status, times, length, type,
 * connection) whose head must format into a buffer of exactly its size and be refused by any
 * smaller one, with a Date and a Content-Length as ho_http_format_date and the length say.
 *
 * Any violation aborts, which libFuzzer reports as a crash.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/err.h"
#include "handoff/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_http: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);    \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* One parse: its return, the request and the error, with method_tok as an offset. */
struct result {
    int rc;
    struct ho_http_req req;
    struct ho_http_error err;
    size_t method_at; /* method_tok - buffer, when set */
};

/* Parses a heap copy of exactly data[0..len). */
static void parse(const char *data, size_t len, const struct ho_http_limits *lim, struct result *r)
{
    char *copy = malloc(len > 0 ? len : 1);
    CHECK(copy != NULL);
    if (len > 0) {
        memcpy(copy, data, len);
    }
    memset(r, 0, sizeof *r);
    r->rc = ho_http_parse(copy, len, lim, &r->req, &r->err);
    if (r->req.method_tok != NULL) {
        CHECK(r->req.method_tok >= copy && r->req.method_len <= len &&
              (size_t)(r->req.method_tok - copy) <= len - r->req.method_len);
        r->method_at = (size_t)(r->req.method_tok - copy);
        r->req.method_tok = NULL;
    }
    free(copy);
}

static bool same_result(const struct result *a, const struct result *b)
{
    if (a->rc != b->rc) {
        return false;
    }
    if (a->rc == HO_EAGAIN) {
        return true;
    }
    if (a->rc < 0) {
        return a->err.status == b->err.status && a->err.offset == b->err.offset &&
               a->err.why == b->err.why;
    }
    const struct ho_http_req *x = &a->req, *y = &b->req;
    return x->method == y->method && a->method_at == b->method_at &&
           x->method_len == y->method_len && x->path_len == y->path_len &&
           strcmp(x->path, y->path) == 0 && x->minor == y->minor &&
           x->keep_alive == y->keep_alive && x->has_ims == y->has_ims && x->ims == y->ims &&
           x->content_length == y->content_length && x->has_host == y->has_host &&
           x->header_bytes == y->header_bytes;
}

static bool is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

static void check_path(const struct ho_http_req *req)
{
    const char *p = req->path;
    CHECK(req->path_len < HO_HTTP_PATH_MAX);
    CHECK(strlen(p) == req->path_len);
    CHECK(p[0] == '/');
    for (size_t i = 0; i < req->path_len; i++) {
        CHECK(!is_ctl((unsigned char)p[i]) && p[i] != '\\');
    }
    /* Segments: every one between two slashes is non-empty and neither "." nor "..". */
    for (size_t i = 0; i < req->path_len;) {
        size_t j = i + 1;
        while (j < req->path_len && p[j] != '/') {
            j++;
        }
        size_t n = j - i - 1; /* the segment after the slash at i */
        bool last = j == req->path_len;
        CHECK(n > 0 || (last && (i == 0 || p[i - 1] != '/')));
        CHECK(!(n == 1 && p[i + 1] == '.'));
        CHECK(!(n == 2 && p[i + 1] == '.' && p[i + 2] == '.'));
        i = j;
    }
    CHECK(strstr(p, "/../") == NULL && strstr(p, "/./") == NULL && strstr(p, "//") == NULL);
}

static void check_result(const struct result *r, const char *data, size_t len,
                         const struct ho_http_limits *lim)
{
    if (r->rc == HO_EAGAIN) {
        CHECK(len <= lim->max_header_bytes); /* past a limit, incomplete input fails at once */
        return;
    }
    if (r->rc < 0) {
        int s = r->err.status;
        CHECK(s == 400 || s == 405 || s == 413 || s == 414 || s == 431 || s == 501 || s == 505);
        CHECK(r->rc == (s == 413 || s == 414 || s == 431 ? HO_EMSGSIZE : HO_EPROTO));
        CHECK(r->err.why != NULL && r->err.why[0] != '\0');
        CHECK(r->err.offset < len);
        if (s == 405) {
            CHECK(r->req.method == HO_HTTP_OTHER && r->req.method_len > 0);
            CHECK(data[r->method_at + r->req.method_len] == ' ');
        }
        return;
    }
    const struct ho_http_req *req = &r->req;
    size_t n = (size_t)r->rc;
    CHECK(n > 0 && n <= len && n <= lim->max_header_bytes);
    CHECK(req->header_bytes == n);
    CHECK(data[n - 1] == '\n');
    CHECK(req->method == HO_HTTP_GET || req->method == HO_HTTP_HEAD);
    CHECK(req->method_len == (req->method == HO_HTTP_GET ? 3u : 4u));
    CHECK(memcmp(data + r->method_at, req->method == HO_HTTP_GET ? "GET " : "HEAD ",
                 req->method_len + 1) == 0);
    CHECK(req->minor == 0 || req->minor == 1);
    CHECK(req->minor == 0 || req->has_host);
    CHECK(req->content_length <= lim->max_body);
    CHECK(req->has_ims || req->ims == 0);
    CHECK(!req->has_ims || (req->ims >= 0 && req->ims <= HO_HTTP_TIME_MAX));
    check_path(req);
    CHECK(ho_http_content_type(req->path) != NULL);
}

static void check_request(const char *data, size_t len, const struct ho_http_limits *lim)
{
    struct result r, again;
    parse(data, len, lim, &r);
    check_result(&r, data, len, lim);

    parse(data, len, lim, &again);
    CHECK(same_result(&r, &again));

    if (r.rc > 0) {
        parse(data, (size_t)r.rc, lim, &again);
        CHECK(same_result(&r, &again));
    }

    /* Shorter prefixes: a few spread over the input, and the bytes just before the end or the
     * fault. */
    size_t cuts[8] = {0, len / 4, len / 2, len - len / 4, len > 0 ? len - 1 : 0};
    size_t ncuts = 5;
    if (r.rc < 0 && r.rc != HO_EAGAIN) {
        cuts[ncuts++] = r.err.offset;
        cuts[ncuts++] = r.err.offset + 1;
    } else if (r.rc > 0) {
        cuts[ncuts++] = (size_t)r.rc - 1;
    }
    for (size_t k = 0; k < ncuts; k++) {
        size_t cut = cuts[k];
        if (cut >= len) {
            continue;
        }
        parse(data, cut, lim, &again);
        if (again.rc == HO_EAGAIN) {
            CHECK(r.rc <= 0 || cut < (size_t)r.rc);
            continue;
        }
        CHECK(same_result(&r, &again));
    }
}

/* The input as an HTTP-date. */
static void check_date(const char *data, size_t len)
{
    char *copy = malloc(len > 0 ? len : 1);
    CHECK(copy != NULL);
    if (len > 0) {
        memcpy(copy, data, len);
    }
    int64_t t = -1;
    int rc = ho_http_parse_date(copy, len, &t);
    free(copy);
    CHECK(rc == HO_OK || rc == HO_EPROTO);
    if (rc != HO_OK) {
        return;
    }
    CHECK(t >= 0 && t <= HO_HTTP_TIME_MAX);
    char buf[HO_HTTP_DATE_LEN + 1];
    CHECK(ho_http_format_date(buf, sizeof buf, t) == HO_HTTP_DATE_LEN);
    int64_t back = -1;
    CHECK(ho_http_parse_date(buf, HO_HTTP_DATE_LEN, &back) == HO_OK && back == t);
    bool imf = len == HO_HTTP_DATE_LEN && data[3] == ',';
    bool leap_second = len >= 25 && data[23] == '6' && data[24] == '0';
    if (imf && !leap_second) {
        CHECK(memcmp(buf, data, HO_HTTP_DATE_LEN) == 0);
    }
}

static uint64_t take(const uint8_t **p, size_t *left, size_t n)
{
    uint64_t v = 0;
    for (size_t k = 0; k < n; k++) {
        v = v << 8 | (*left > 0 ? **p : 0);
        if (*left > 0) {
            (*p)++;
            (*left)--;
        }
    }
    return v;
}

/* A response chosen by the input's first bytes. */
static void check_response(const uint8_t *data, size_t size)
{
    static const int statuses[] = {200, 304, 400, 403, 404, 405, 408, 413,
                                   414, 431, 500, 501, 503, 505, 204, 299};
    static const char *const types[] = {NULL, "text/html", "application/octet-stream",
                                        "image/svg+xml", "text/plain; charset=utf-8"};
    const uint8_t *p = data;
    size_t left = size;
    int status = statuses[take(&p, &left, 1) % (sizeof statuses / sizeof statuses[0])];
    uint64_t flags = take(&p, &left, 1);
    struct ho_http_resp r = {
        .now_s = (int64_t)(take(&p, &left, 5) % (uint64_t)(HO_HTTP_TIME_MAX + 2)),
        .content_length = take(&p, &left, flags & 1 ? 8 : 2),
        .content_type = types[(flags >> 1) % (sizeof types / sizeof types[0])],
        .has_last_modified = (flags & 0x10) != 0,
        .last_modified = (int64_t)(take(&p, &left, 5) % (uint64_t)(HO_HTTP_TIME_MAX + 2)),
        .keep_alive = (flags & 0x20) != 0,
    };
    char big[1024];
    int n = ho_http_format_head(big, sizeof big, status, &r);
    bool valid = ho_http_reason(status) != NULL && status != 204 && r.now_s <= HO_HTTP_TIME_MAX &&
                 (!r.has_last_modified || r.last_modified <= HO_HTTP_TIME_MAX);
    if (!valid) {
        CHECK(n == HO_EINVAL);
        return;
    }
    CHECK(n > 0 && (size_t)n < sizeof big && strlen(big) == (size_t)n);
    CHECK(memcmp(big + n - 4, "\r\n\r\n", 4) == 0);
    char date[HO_HTTP_DATE_LEN + 1];
    CHECK(ho_http_format_date(date, sizeof date, r.now_s) == HO_HTTP_DATE_LEN);
    char line[64];
    snprintf(line, sizeof line, "\r\nDate: %s\r\n", date);
    CHECK(strstr(big, line) != NULL);
    if (status != 304) {
        snprintf(line, sizeof line, "\r\nContent-Length: %llu\r\n",
                 (unsigned long long)r.content_length);
        CHECK(strstr(big, line) != NULL);
    } else {
        CHECK(strstr(big, "Content-Length") == NULL && strstr(big, "Content-Type") == NULL);
    }
    CHECK((strstr(big, "\r\nAllow: GET, HEAD\r\n") != NULL) == (status == 405));

    char *exact = malloc((size_t)n + 1);
    CHECK(exact != NULL);
    CHECK(ho_http_format_head(exact, (size_t)n + 1, status, &r) == n);
    CHECK(memcmp(exact, big, (size_t)n + 1) == 0);
    free(exact);
    size_t cap = (size_t)(take(&p, &left, 2) % (size_t)(n + 1)); /* 0..n: one byte short or more */
    char *small = malloc(cap > 0 ? cap : 1);
    CHECK(small != NULL);
    CHECK(ho_http_format_head(small, cap, status, &r) == HO_EMSGSIZE);
    free(small);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct ho_http_limits lim;
    ho_http_limits_default(&lim);
    check_request(text, size, &lim);
    const struct ho_http_limits tight = {
        .max_line = 40, .max_header_bytes = 160, .max_headers = 4, .max_body = 1000};
    check_request(text, size, &tight);
    check_date(text, size);
    check_response(data, size);
    return 0;
}
