/*
 * test_http.c - the HTTP/1.x request parser and response formatter (src/app/http.c,
 * include/handoff/http.h), table by table: valid heads and what they say, every refusal with
 * its status, reason and offset, the limits (also while a head is still incomplete), path
 * normalization, keep-alive, the three date formats and bad dates, and the exact bytes of
 * formatted response heads.
 *
 * Every parse runs on a copy of exactly the bytes given, so that AddressSanitizer catches a read
 * past the end. Two properties are checked over whole tables: every proper prefix of a valid head
 * is incomplete (HO_EAGAIN), and every prefix of a refused request is either incomplete or
 * refused the same way (the report does not depend on how much was read).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/err.h"
#include "handoff/http.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Tight limits for the limit tables: every one of them is easy to reach. */
static const struct ho_http_limits tight = {
    .max_line = 32, .max_header_bytes = 128, .max_headers = 3, .max_body = 100};

static struct ho_http_limits defaults(void)
{
    struct ho_http_limits lim;
    ho_http_limits_default(&lim);
    return lim;
}

/*
 * Parses in[0..len) from a heap copy of exactly len bytes. out->method_tok is moved back into
 * in, after checking that it pointed into the copy.
 */
static int parse_exact(const char *in, size_t len, const struct ho_http_limits *lim,
                       struct ho_http_req *out, struct ho_http_error *err)
{
    char *copy = malloc(len > 0 ? len : 1);
    assert_non_null(copy);
    if (len > 0) {
        memcpy(copy, in, len);
    }
    int rc = ho_http_parse(copy, len, lim, out, err);
    if (out->method_tok != NULL) {
        assert_true(out->method_tok >= copy && out->method_tok + out->method_len <= copy + len);
        out->method_tok = in + (out->method_tok - copy);
    }
    free(copy);
    return rc;
}

static bool is_limit_status(int status)
{
    return status == 413 || status == 414 || status == 431;
}

/* ---- valid requests ----------------------------------------------------------------------- */

struct ok_case {
    const char *name;
    const char *in;
    size_t head; /* bytes of the head, 0: all of in */
    enum ho_http_method method;
    const char *path;
    int minor;
    bool keep_alive;
    uint64_t content_length;
    bool has_host;
    size_t len; /* bytes of in, 0: strlen(in) */
};

static const struct ok_case ok_cases[] = {
    {.name = "simple GET",
     .in = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
     .method = HO_HTTP_GET,
     .path = "/",
     .minor = 1,
     .keep_alive = true,
     .has_host = true},
    {.name = "HEAD",
     .in = "HEAD /index.html HTTP/1.1\r\nHost: h\r\n\r\n",
     .method = HO_HTTP_HEAD,
     .path = "/index.html",
     .minor = 1,
     .keep_alive = true,
     .has_host = true},
    {.name = "HTTP/1.0 without Host, closes",
     .in = "GET /a HTTP/1.0\r\n\r\n",
     .method = HO_HTTP_GET,
     .path = "/a",
     .minor = 0,
     .keep_alive = false},
    {.name = "HTTP/1.0 keep-alive",
     .in = "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
     .method = HO_HTTP_GET,
     .path = "/a",
     .minor = 0,
     .keep_alive = true},
    {.name = "HTTP/1.1 close",
     .in = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
     .method = HO_HTTP_GET,
     .path = "/",
     .minor = 1,
     .keep_alive = false,
     .has_host = true},
    {.name = "HTTP/1.9 is read as 1.1",
     .in = "GET / HTTP/1.9\r\nHost: h\r\n\r\n",
     .method = HO_HTTP_GET,
     .path = "/",
     .minor = 1,
     .keep_alive = true,
     .has_host = true},
    {.name = "bare LF line ends",
     .in = "GET /lf HTTP/1.1\nHost: h\n\n",
     .method = HO_HTTP_GET,
     .path = "/lf",
     .minor = 1,
     .keep_alive = true,
     .has_host = true},
    {.name = "mixed line ends",
     .in = "GET /m HTTP/1.1\r\nHost: h\n\r\n",
     .method = HO_HTTP_GET,
     .path = "/m",
     .minor = 1,
     .keep_alive = true,
     .has_host = true},
    {.name = "empty lines before the request line",
     .in = "\r\n\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
     .method = HO_HTTP_GET,
     .path = "/",
     .minor = 1,
     .keep_alive = true,
     .has_host = true},
    {.name = "absolute-form",
     .in = "GET http://example.com/a/b?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n",
     .method = HO_HTTP_GET,
     .path = "/a/b",
     .minor = 1,
     .keep_alive = true,
     .has_host = true},
    {.name = "absolute-form, empty path, scheme in capitals",
     .in = "GET HTTP://Example.COM:8080 HTTP/1.1\r\nHost: Example.COM:8080\r\n\r\n",
     .method = HO_HTTP_GET,
     .path = "/",
     .minor = 1,
     .keep_alive = true,
     .has_host = true},
    {.name = "absolute-form, https, IPv6 literal, query only",
     .in = "GET https://[::1]:443?q HTTP/1.1\r\nHost: [::1]:443\r\n\r\n",
     .method = HO_HTTP_GET,
     .path = "/",
     .minor = 1,
     .keep_alive = true,
     .has_host = true},
    {.name = "query dropped",
     .in = "GET /search?q=a%20b&x=/y?z HTTP/1.1\r\nHost: h\r\n\r\n",
     .method = HO_HTTP_GET,
     .path = "/search",
     .minor = 1,
     .keep_alive = true,
     .has_host = true},
    {.name = "Content-Length, body not read",
     .in = "GET /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
     .head = 47,
     .method = HO_HTTP_GET,
     .path = "/b",
     .minor = 1,
     .keep_alive = true,
     .content_length = 5,
     .has_host = true},
    {.name = "Content-Length list of identical values",
     .in = "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 7 ,7,\t7\r\n\r\n",
     .method = HO_HTTP_GET,
     .path = "/",
     .minor = 1,
     .keep_alive = true,
     .content_length = 7,
     .has_host = true},
    {.name = "Content-Length repeated, same value",
     .in = "GET / HTTP/1.1\r\nContent-Length: 0\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
     .method = HO_HTTP_GET,
     .path = "/",
     .minor = 1,
     .keep_alive = true,
     .has_host = true},
    {.name = "Content-Length at max_body",
     .in = "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1048576\r\n\r\n",
     .method = HO_HTTP_GET,
     .path = "/",
     .minor = 1,
     .keep_alive = true,
     .content_length = 1048576,
     .has_host = true},
    {.name = "names without case, OWS trimmed, other fields ignored",
     .in = "GET / HTTP/1.1\r\nhOsT: \t h \t\r\nX-Empty:\r\nX-Tab: a\tb\r\nAccept: */*\r\n\r\n",
     .method = HO_HTTP_GET,
     .path = "/",
     .minor = 1,
     .keep_alive = true,
     .has_host = true},
    {.name = "obs-text in a field value",
     .in = "GET / HTTP/1.1\r\nHost: h\r\nX-Name: caf\xc3\xa9\r\n\r\n",
     .method = HO_HTTP_GET,
     .path = "/",
     .minor = 1,
     .keep_alive = true,
     .has_host = true},
    {.name = "empty Host",
     .in = "GET / HTTP/1.1\r\nHost:\r\n\r\n",
     .method = HO_HTTP_GET,
     .path = "/",
     .minor = 1,
     .keep_alive = true,
     .has_host = true},
    {.name = "Host percent-encoded",
     .in = "GET / HTTP/1.1\r\nHost: h%41st\r\n\r\n",
     .method = HO_HTTP_GET,
     .path = "/",
     .minor = 1,
     .keep_alive = true,
     .has_host = true},
    {.name = "Host with address and port",
     .in = "GET / HTTP/1.1\r\nHost: 10.0.0.1:80\r\n\r\n",
     .method = HO_HTTP_GET,
     .path = "/",
     .minor = 1,
     .keep_alive = true,
     .has_host = true},
    {.name = "percent-encoded UTF-8 path",
     .in = "GET /caf%C3%A9.html HTTP/1.1\r\nHost: h\r\n\r\n",
     .method = HO_HTTP_GET,
     .path = "/caf\xc3\xa9.html",
     .minor = 1,
     .keep_alive = true,
     .has_host = true},
    {.name = "path with sub-delims, colon and at",
     .in = "GET /a:b@c!$&'()*+,;=d HTTP/1.1\r\nHost: h\r\n\r\n",
     .method = HO_HTTP_GET,
     .path = "/a:b@c!$&'()*+,;=d",
     .minor = 1,
     .keep_alive = true,
     .has_host = true},
    {.name = "bytes after the head are not read",
     .in = "GET / HTTP/1.0\r\n\r\n\x01\x00\r junk",
     .len = 26,
     .head = 18,
     .method = HO_HTTP_GET,
     .path = "/",
     .minor = 0,
     .keep_alive = false},
};

static void check_ok(const struct ok_case *c)
{
    struct ho_http_limits lim = defaults();
    struct ho_http_req req;
    struct ho_http_error err;
    size_t len = c->len ? c->len : strlen(c->in);
    size_t head = c->head ? c->head : len;
    int rc = parse_exact(c->in, len, &lim, &req, &err);
    if (rc != (int)head) {
        fail_msg("%s: rc %d (status %d, %s at %zu), expected %zu", c->name, rc, err.status,
                 err.why ? err.why : "-", err.offset, head);
    }
    assert_int_equal(req.header_bytes, head);
    assert_int_equal(req.method, c->method);
    assert_string_equal(req.path, c->path);
    assert_int_equal(req.path_len, strlen(c->path));
    assert_int_equal(req.minor, c->minor);
    assert_int_equal(req.keep_alive, c->keep_alive);
    assert_true(req.content_length == c->content_length);
    assert_int_equal(req.has_host, c->has_host);
    assert_false(req.has_ims);
    const char *want_tok = c->method == HO_HTTP_GET ? "GET" : "HEAD";
    assert_int_equal(req.method_len, strlen(want_tok));
    assert_memory_equal(req.method_tok, want_tok, req.method_len);
}

static void test_valid_requests(void **state)
{
    (void)state;
    for (size_t k = 0; k < ARRAY_LEN(ok_cases); k++) {
        check_ok(&ok_cases[k]);
    }
}

/* Every proper prefix of a valid head, cut at any byte, asks for more. */
static void test_every_prefix_is_incomplete(void **state)
{
    (void)state;
    struct ho_http_limits lim = defaults();
    for (size_t k = 0; k < ARRAY_LEN(ok_cases); k++) {
        const struct ok_case *c = &ok_cases[k];
        size_t head = c->head ? c->head : strlen(c->in);
        for (size_t n = 0; n < head; n++) {
            struct ho_http_req req;
            struct ho_http_error err;
            int rc = parse_exact(c->in, n, &lim, &req, &err);
            if (rc != HO_EAGAIN) {
                fail_msg("%s: prefix of %zu bytes gave %d (%s)", c->name, n, rc,
                         err.why ? err.why : "-");
            }
        }
    }
}

/* Two requests in one buffer: the first parse takes exactly the first head (and the caller
 * skips its body), the second starts where the first ended. */
static void test_pipelined(void **state)
{
    (void)state;
    static const char two[] = "GET /first HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
                              "GET /second HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
                              "GET /thi";
    struct ho_http_limits lim = defaults();
    struct ho_http_req req;
    struct ho_http_error err;
    size_t len = sizeof two - 1;

    int n = parse_exact(two, len, &lim, &req, &err);
    assert_int_equal(n, 51);
    assert_string_equal(req.path, "/first");
    assert_true(req.content_length == 3);
    assert_true(req.keep_alive);
    size_t at = (size_t)n + (size_t)req.content_length;
    assert_memory_equal(two + at, "GET /second", 11);

    int m = parse_exact(two + at, len - at, &lim, &req, &err);
    assert_int_equal(m, 52);
    assert_string_equal(req.path, "/second");
    assert_false(req.keep_alive);
    at += (size_t)m;

    assert_int_equal(parse_exact(two + at, len - at, &lim, &req, &err), HO_EAGAIN);
}

/* ---- refused requests --------------------------------------------------------------------- */

struct bad_case {
    const char *name;
    const char *in;
    size_t len; /* 0: strlen(in) */
    int status;
    const char *why; /* a substring of err.why */
    long offset;     /* -1: not checked */
};

#define H "Host: h\r\n"

static const struct bad_case bad_cases[] = {
    /* the request line */
    {"method not a token", "G(T / HTTP/1.1\r\n" H "\r\n", 0, 400, "method is not a token", 1},
    {"tab after the method", "GET\t/ HTTP/1.1\r\n" H "\r\n", 0, 400, "not a token", 3},
    {"space before the method", " GET / HTTP/1.1\r\n" H "\r\n", 0, 400, "not a token", 0},
    {"two spaces after the method", "GET  / HTTP/1.1\r\n" H "\r\n", 0, 400, "two spaces", 4},
    {"two spaces before the version", "GET /  HTTP/1.1\r\n" H "\r\n", 0, 400,
     "malformed HTTP-version", 6},
    {"space after the version", "GET / HTTP/1.1 \r\n" H "\r\n", 0, 400,
     "text after the HTTP-version", 14},
    {"version in lower case", "GET / http/1.1\r\n" H "\r\n", 0, 400, "malformed HTTP-version", 6},
    {"version without its dot", "GET / HTTP/11\r\n" H "\r\n", 0, 400, "malformed HTTP-version", 12},
    {"version cut short", "GET / HTTP/1\r\n" H "\r\n", 0, 400, "malformed HTTP-version", 12},
    {"version with two minor digits", "GET / HTTP/1.10\r\n" H "\r\n", 0, 400, "text after", 14},
    {"HTTP/0.9 request", "GET /\r\n\r\n", 0, 400, "without an HTTP-version", 5},
    {"method alone", "GET\r\n\r\n", 0, 400, "without a request-target", 3},
    {"space inside the target", "GET /a b HTTP/1.1\r\n" H "\r\n", 0, 400, "malformed HTTP-version",
     7},
    {"HTTP/2.0", "GET / HTTP/2.0\r\n" H "\r\n", 0, 505, "major version", 11},
    {"HTTP/3.0", "GET / HTTP/3.0\r\n", 0, 505, "major version", 11},
    {"HTTP/0.9 as a version", "GET / HTTP/0.9\r\n", 0, 505, "major version", 11},
    {"version checked before the method", "POST / HTTP/2.0\r\n", 0, 505, "major version", 12},
    /* methods */
    {"POST", "POST /form HTTP/1.1\r\n" H "Content-Length: 3\r\n\r\nabc", 0, 405, "not allowed", 0},
    {"PUT, refused at the end of the request line", "PUT /x HTTP/1.1\r\n", 0, 405, "not allowed",
     0},
    {"DELETE", "DELETE /x HTTP/1.1\r\n" H "\r\n", 0, 405, "not allowed", 0},
    {"methods are case-sensitive", "get / HTTP/1.1\r\n" H "\r\n", 0, 405, "not allowed", 0},
    {"OPTIONS with asterisk-form", "OPTIONS * HTTP/1.1\r\n" H "\r\n", 0, 405, "not allowed", 0},
    {"CONNECT with authority-form", "CONNECT example.com:443 HTTP/1.1\r\n", 0, 405, "not allowed",
     0},
    /* request-target */
    {"asterisk-form in a GET", "GET * HTTP/1.1\r\n" H "\r\n", 0, 400, "asterisk-form", 4},
    {"authority-form in a GET", "GET example.com:80 HTTP/1.1\r\n" H "\r\n", 0, 400,
     "authority-form", 4},
    {"relative target", "GET a/b HTTP/1.1\r\n" H "\r\n", 0, 400, "neither origin-form", 4},
    {"absolute-form, other scheme", "GET ftp://h/x HTTP/1.1\r\n" H "\r\n", 0, 400,
     "scheme other than http", 4},
    {"absolute-form without authority", "GET http:/x HTTP/1.1\r\n" H "\r\n", 0, 400,
     "without an authority", 4},
    {"absolute-form with userinfo", "GET http://u@h/x HTTP/1.1\r\n" H "\r\n", 0, 400,
     "invalid authority", 11},
    {"absolute-form with an empty host", "GET http:///x HTTP/1.1\r\n" H "\r\n", 0, 400,
     "invalid authority", 11},
    {"fragment", "GET /a#top HTTP/1.1\r\n" H "\r\n", 0, 400, "fragment", 6},
    {"backslash", "GET /a\\b HTTP/1.1\r\n" H "\r\n", 0, 400, "backslash in the request-target", 6},
    {"control character in the target", "GET /a\x01 HTTP/1.1\r\n" H "\r\n", 0, 400,
     "control character in the request-target", 6},
    {"quote in the target", "GET /a\"b HTTP/1.1\r\n" H "\r\n", 0, 400,
     "invalid character in the request-target", 6},
    {"raw UTF-8 in the target", "GET /caf\xc3\xa9 HTTP/1.1\r\n" H "\r\n", 0, 400,
     "invalid character in the request-target", 8},
    {"bracket in the path", "GET /a[1] HTTP/1.1\r\n" H "\r\n", 0, 400,
     "invalid character in the path", 6},
    {"bad percent-encoding", "GET /a%zz HTTP/1.1\r\n" H "\r\n", 0, 400,
     "bad percent-encoding in the path", 6},
    {"percent-encoding cut by the query", "GET /a%4?x HTTP/1.1\r\n" H "\r\n", 0, 400,
     "bad percent-encoding in the path", 6},
    {"percent at the end", "GET /a% HTTP/1.1\r\n" H "\r\n", 0, 400, "bad percent-encoding", 6},
    {"%00", "GET /a%00b HTTP/1.1\r\n" H "\r\n", 0, 400, "NUL in the path", 6},
    {"decoded control character", "GET /a%1fb HTTP/1.1\r\n" H "\r\n", 0, 400,
     "control character in the path", 6},
    {"decoded DEL", "GET /a%7F HTTP/1.1\r\n" H "\r\n", 0, 400, "control character in the path", 6},
    {"decoded backslash", "GET /a%5cb HTTP/1.1\r\n" H "\r\n", 0, 400, "backslash in the path", 6},
    {"dot-dot", "GET /a/../b HTTP/1.1\r\n" H "\r\n", 0, 400, "path escapes the document root", 7},
    {"dot-dot encoded", "GET /a/%2e%2E/b HTTP/1.1\r\n" H "\r\n", 0, 400, "escapes", 7},
    {"dot-dot then an encoded slash", "GET /a/..%2fb HTTP/1.1\r\n" H "\r\n", 0, 400, "escapes", 7},
    {"dot-dot in an absolute-form", "GET http://h/../x HTTP/1.1\r\n" H "\r\n", 0, 400, "escapes",
     13},
    {"bad percent-encoding in the query", "GET /a?x=%g0 HTTP/1.1\r\n" H "\r\n", 0, 400,
     "bad percent-encoding in the query", 9},
    {"bracket in the query", "GET /a?x[1]=2 HTTP/1.1\r\n" H "\r\n", 0, 400,
     "invalid character in the query", 8},
    /* line ends */
    {"bare CR in the request line", "GET /\r HTTP/1.1\r\n" H "\r\n", 0, 400, "bare CR", 5},
    {"bare CR before the request line", "\rGET / HTTP/1.1\r\n" H "\r\n", 0, 400, "bare CR", 0},
    {"bare CR in a field value", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 0, 400, "bare CR", 23},
    {"CR CR LF", "GET / HTTP/1.1\r\nHost: a\r\r\n\r\n", 0, 400, "bare CR", 23},
    {"bare CR as the last line", "GET / HTTP/1.1\r\n" H "\rX", 0, 400, "bare CR", 25},
    /* field lines */
    {"obsolete line folding", "GET / HTTP/1.1\r\n" H "X-A: a\r\n  b\r\n\r\n", 0, 400,
     "obsolete line folding", 33},
    {"folding with a tab", "GET / HTTP/1.1\r\n" H "X-A: a\r\n\tb\r\n\r\n", 0, 400,
     "obsolete line folding", 33},
    {"whitespace before the first field", "GET / HTTP/1.1\r\n Host: h\r\n\r\n", 0, 400,
     "whitespace between the request line", 16},
    {"space before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 0, 400,
     "space before colon in a header field", 20},
    {"tab before colon", "GET / HTTP/1.1\r\n" H "X-A\t: b\r\n\r\n", 0, 400, "space before colon",
     28},
    {"space inside a field name", "GET / HTTP/1.1\r\n" H "X A: b\r\n\r\n", 0, 400,
     "space before colon", 26},
    {"field without a colon", "GET / HTTP/1.1\r\n" H "X-A\r\n\r\n", 0, 400, "without a colon", 28},
    {"empty field name", "GET / HTTP/1.1\r\n" H ": b\r\n\r\n", 0, 400, "empty field name", 25},
    {"field name not a token", "GET / HTTP/1.1\r\n" H "X(A): b\r\n\r\n", 0, 400,
     "invalid character in a field name", 26},
    {"NUL in a field value", "GET / HTTP/1.1\r\n" H "X-A: a\0b\r\n\r\n", 37, 400,
     "NUL in a field value", 31},
    {"control character in a field value", "GET / HTTP/1.1\r\n" H "X-A: a\x01\r\n\r\n", 0, 400,
     "control character in a field value", 31},
    {"DEL in a field value", "GET / HTTP/1.1\r\n" H "X-A: \x7f\r\n\r\n", 0, 400,
     "control character in a field value", 30},
    /* Host */
    {"missing Host in HTTP/1.1", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 0, 400,
     "missing Host in an HTTP/1.1 request", 29},
    {"duplicate Host", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 0, 400, "duplicate Host",
     25},
    {"Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 0, 400, "invalid Host", 22},
    {"Host with userinfo", "GET / HTTP/1.1\r\nHost: u@h\r\n\r\n", 0, 400, "invalid Host", 22},
    {"Host with a bad port", "GET / HTTP/1.1\r\nHost: h:8x\r\n\r\n", 0, 400, "invalid Host", 22},
    {"Host with an open bracket", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 0, 400, "invalid Host",
     22},
    {"Host with text after the bracket", "GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", 0, 400,
     "invalid Host", 22},
    {"Host with a slash in the IP-literal", "GET / HTTP/1.1\r\nHost: [::/1]\r\n\r\n", 0, 400,
     "invalid Host", 22},
    {"Host with a bad percent-encoding", "GET / HTTP/1.1\r\nHost: h%4\r\n\r\n", 0, 400,
     "invalid Host", 22},
    /* Content-Length and Transfer-Encoding */
    {"Content-Length not a number", "GET / HTTP/1.1\r\n" H "Content-Length: abc\r\n\r\n", 0, 400,
     "malformed Content-Length", 41},
    {"Content-Length negative", "GET / HTTP/1.1\r\n" H "Content-Length: -1\r\n\r\n", 0, 400,
     "malformed Content-Length", 41},
    {"Content-Length with a sign", "GET / HTTP/1.1\r\n" H "Content-Length: +1\r\n\r\n", 0, 400,
     "malformed Content-Length", 41},
    {"Content-Length empty", "GET / HTTP/1.1\r\n" H "Content-Length:\r\n\r\n", 0, 400,
     "malformed Content-Length", 40},
    {"Content-Length two numbers", "GET / HTTP/1.1\r\n" H "Content-Length: 5 5\r\n\r\n", 0, 400,
     "malformed Content-Length", 43},
    {"Content-Length trailing comma", "GET / HTTP/1.1\r\n" H "Content-Length: 5,\r\n\r\n", 0, 400,
     "malformed Content-Length", 43},
    {"Content-Length list of different values",
     "GET / HTTP/1.1\r\n" H "Content-Length: 5, 6\r\n\r\n", 0, 400,
     "two different Content-Length values", 44},
    {"Content-Length lines with different values",
     "GET / HTTP/1.1\r\n" H "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", 0, 400,
     "two different Content-Length values", 60},
    {"Content-Length overflows",
     "GET / HTTP/1.1\r\n" H "Content-Length: 18446744073709551616\r\n"
     "\r\n",
     0, 400, "overflows", 41},
    {"Content-Length at 2^64 - 1",
     "GET / HTTP/1.1\r\n" H "Content-Length: 18446744073709551615\r\n"
     "\r\n",
     0, 413, "above max_body", 41},
    {"Content-Length above max_body", "GET / HTTP/1.1\r\n" H "Content-Length: 1048577\r\n\r\n", 0,
     413, "above max_body", 41},
    {"Transfer-Encoding", "GET / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n", 0, 501,
     "Transfer-Encoding", 25},
    {"Transfer-Encoding with Content-Length",
     "GET / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 0, 400,
     "Transfer-Encoding with Content-Length", 25},
    {"Content-Length then Transfer-Encoding",
     "GET / HTTP/1.1\r\n" H "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 400,
     "Transfer-Encoding with Content-Length", 44},
    {"Transfer-Encoding in HTTP/1.0", "GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 0,
     400, "HTTP/1.0", 16},
    {"Connection not a token list", "GET / HTTP/1.1\r\n" H "Connection: close; x\r\n\r\n", 0, 400,
     "malformed Connection", 42},
};

static void check_bad(const struct bad_case *c, const struct ho_http_limits *lim)
{
    size_t len = c->len ? c->len : strlen(c->in);
    struct ho_http_req req;
    struct ho_http_error err;
    int rc = parse_exact(c->in, len, lim, &req, &err);
    int want = is_limit_status(c->status) ? HO_EMSGSIZE : HO_EPROTO;
    if (rc != want || err.status != c->status || err.why == NULL ||
        strstr(err.why, c->why) == NULL || (c->offset >= 0 && err.offset != (size_t)c->offset)) {
        fail_msg("%s: rc %d status %d why \"%s\" offset %zu; expected status %d \"%s\" at %ld",
                 c->name, rc, err.status, err.why ? err.why : "-", err.offset, c->status, c->why,
                 c->offset);
    }
    assert_true(err.offset < len);
    if (c->status == 405) {
        assert_int_equal(req.method, HO_HTTP_OTHER);
        assert_memory_equal(req.method_tok, c->in, req.method_len);
        assert_int_equal(c->in[req.method_len], ' ');
    }

    /* Every prefix is incomplete or refused in the same way. */
    for (size_t n = 0; n < len; n++) {
        struct ho_http_error e2;
        int r2 = parse_exact(c->in, n, lim, &req, &e2);
        if (r2 == HO_EAGAIN) {
            continue;
        }
        if (r2 != rc || e2.status != err.status || e2.offset != err.offset || e2.why != err.why) {
            fail_msg("%s: prefix of %zu bytes gave %d %d \"%s\" at %zu", c->name, n, r2, e2.status,
                     e2.why ? e2.why : "-", e2.offset);
        }
    }
}

static void test_refused_requests(void **state)
{
    (void)state;
    struct ho_http_limits lim = defaults();
    for (size_t k = 0; k < ARRAY_LEN(bad_cases); k++) {
        check_bad(&bad_cases[k], &lim);
    }
}

/* ---- limits ------------------------------------------------------------------------------- */

/* A buffer of text built at run time: repeated characters and literal pieces. */
struct text {
    char buf[4096];
    size_t len;
};

static void add(struct text *t, const char *s)
{
    size_t n = strlen(s);
    assert_true(t->len + n <= sizeof t->buf);
    memcpy(t->buf + t->len, s, n);
    t->len += n;
}

static void add_n(struct text *t, char c, size_t n)
{
    assert_true(t->len + n <= sizeof t->buf);
    memset(t->buf + t->len, c, n);
    t->len += n;
}

static void expect_status(const struct text *t, const struct ho_http_limits *lim, int status,
                          const char *why, size_t offset)
{
    struct bad_case c = {"limit", t->buf, t->len, status, why, (long)offset};
    check_bad(&c, lim);
}

static void expect_ok(const struct text *t, const struct ho_http_limits *lim)
{
    struct ho_http_req req;
    struct ho_http_error err;
    int rc = parse_exact(t->buf, t->len, lim, &req, &err);
    if (rc != (int)t->len) {
        fail_msg("rc %d (%s at %zu), expected %zu", rc, err.why ? err.why : "-", err.offset,
                 t->len);
    }
}

static void test_limits(void **state)
{
    (void)state;
    struct text t;

    /* Request line of exactly max_line (32) bytes, and one byte more. */
    t.len = 0;
    add(&t, "GET /");
    add_n(&t, 'a', 32 - 14);
    add(&t, " HTTP/1.0\r\n\r\n");
    expect_ok(&t, &tight);
    t.len = 0;
    add(&t, "GET /");
    add_n(&t, 'a', 32 - 13);
    add(&t, " HTTP/1.0\r\n\r\n");
    expect_status(&t, &tight, 414, "request line longer than max_line", 32);

    /* Incomplete and already too long: refused at once. */
    t.len = 0;
    add(&t, "GET /");
    add_n(&t, 'a', 40);
    expect_status(&t, &tight, 414, "max_line", 32);

    /* A method that fills the line. */
    t.len = 0;
    add_n(&t, 'A', 40);
    expect_status(&t, &tight, 501, "method longer", 32);

    /* Three field lines are allowed, the first byte of a fourth is refused. */
    t.len = 0;
    add(&t, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n");
    expect_ok(&t, &tight);
    t.len = 0;
    add(&t, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC");
    expect_status(&t, &tight, 431, "more header fields than max_headers", 37);

    /* The head's bytes: exactly 128, one more (the last LF), and a long incomplete field. */
    t.len = 0;
    add(&t, "GET / HTTP/1.1\r\nHost: h\r\nX: ");
    add_n(&t, 'v', 128 - t.len - 4);
    add(&t, "\r\n\r\n");
    expect_ok(&t, &tight);
    t.len = 0;
    add(&t, "GET / HTTP/1.1\r\nHost: h\r\nX: ");
    add_n(&t, 'v', 128 - t.len - 3);
    add(&t, "\r\n\r\n");
    expect_status(&t, &tight, 431, "request head longer than max_header_bytes", 128);
    t.len = 0;
    add(&t, "GET / HTTP/1.1\r\nHost: h\r\nX: ");
    add_n(&t, 'v', 200);
    expect_status(&t, &tight, 431, "max_header_bytes", 128);

    /* A line whose end passes the limit is a 431, whatever else is wrong with it. */
    t.len = 0;
    add(&t, "GET / HTTP/1.1\r\nHost: h\r\n");
    add_n(&t, 'X', 128 - t.len);
    add(&t, "\r\n\r\n");
    expect_status(&t, &tight, 431, "max_header_bytes", 128);
    t.len = 0;
    add(&t, "GET / HTTP/1.1\r\nA: "); /* no Host, but the head ends past the limit */
    add_n(&t, 'v', 127 - 2 - t.len);
    add(&t, "\r\n\r\n");
    expect_status(&t, &tight, 431, "max_header_bytes", 128);

    /* Empty lines before the request line count toward the head. */
    t.len = 0;
    add_n(&t, '\n', 129);
    expect_status(&t, &tight, 431, "max_header_bytes", 128);

    /* A request line longer than the head may be is a 431 too. */
    struct ho_http_limits narrow = tight;
    narrow.max_line = 1000;
    narrow.max_header_bytes = 20;
    t.len = 0;
    add(&t, "GET /");
    add_n(&t, 'a', 30);
    expect_status(&t, &narrow, 431, "max_header_bytes", 20);

    /* Content-Length at and above max_body (100). */
    t.len = 0;
    add(&t, "GET / HTTP/1.0\r\nContent-Length: 100\r\n\r\n");
    expect_ok(&t, &tight);
    t.len = 0;
    add(&t, "GET / HTTP/1.0\r\nContent-Length: 101\r\n\r\n");
    expect_status(&t, &tight, 413, "above max_body", 32);

    /* A decoded path of 1023 bytes fits the path buffer; 1024 do not. */
    struct ho_http_limits lim = defaults();
    t.len = 0;
    add(&t, "GET /");
    add_n(&t, 'p', HO_HTTP_PATH_MAX - 2);
    add(&t, " HTTP/1.0\r\n\r\n");
    expect_ok(&t, &lim);
    t.len = 0;
    add(&t, "GET /");
    add_n(&t, 'p', HO_HTTP_PATH_MAX - 1);
    add(&t, " HTTP/1.0\r\n\r\n");
    /* The path's 1024th byte, the first 'p' that does not fit, is at 5 + 1022. */
    expect_status(&t, &lim, 414, "path longer than HO_HTTP_PATH_MAX", 5 + HO_HTTP_PATH_MAX - 2);

    /* The same limit met by a slash. */
    t.len = 0;
    add(&t, "GET /");
    add_n(&t, 'p', HO_HTTP_PATH_MAX - 2);
    add(&t, "/x HTTP/1.0\r\n\r\n");
    expect_status(&t, &lim, 414, "path longer than HO_HTTP_PATH_MAX", 5 + HO_HTTP_PATH_MAX - 2);

    /* Long raw paths that normalize short are fine. */
    t.len = 0;
    add(&t, "GET ");
    add_n(&t, '/', 3000);
    add(&t, " HTTP/1.0\r\n\r\n");
    expect_ok(&t, &lim);

    /* max_header_bytes must fit the return value. */
    struct ho_http_limits huge = lim;
    huge.max_header_bytes = (uint32_t)INT32_MAX + 1u;
    struct ho_http_req req;
    struct ho_http_error err;
    assert_int_equal(ho_http_parse("GET", 3, &huge, &req, &err), HO_EINVAL);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    struct ho_http_limits lim = defaults();
    struct ho_http_req req;
    struct ho_http_error err;
    assert_int_equal(ho_http_parse(NULL, 1, &lim, &req, &err), HO_EINVAL);
    assert_int_equal(ho_http_parse("G", 1, NULL, &req, &err), HO_EINVAL);
    assert_int_equal(ho_http_parse("G", 1, &lim, NULL, &err), HO_EINVAL);
    assert_int_equal(ho_http_parse("G", 1, &lim, &req, NULL), HO_EINVAL);
    assert_int_equal(ho_http_parse(NULL, 0, &lim, &req, &err), HO_EAGAIN);
    char date[HO_HTTP_DATE_LEN + 1];
    int64_t t;
    assert_int_equal(ho_http_format_date(NULL, sizeof date, 0), HO_EINVAL);
    assert_int_equal(ho_http_format_date(date, sizeof date, -1), HO_EINVAL);
    assert_int_equal(ho_http_format_date(date, sizeof date, HO_HTTP_TIME_MAX + 1), HO_EINVAL);
    assert_int_equal(ho_http_format_date(date, sizeof date - 1, 0), HO_EMSGSIZE);
    assert_int_equal(ho_http_parse_date(NULL, 1, &t), HO_EINVAL);
    assert_int_equal(ho_http_parse_date("x", 1, NULL), HO_EINVAL);
    assert_int_equal(ho_http_parse_date(NULL, 0, &t), HO_EPROTO);
}

/* ---- paths -------------------------------------------------------------------------------- */

struct path_case {
    const char *target;
    const char *path; /* NULL: refused with a 400 */
    const char *why;
};

static const struct path_case path_cases[] = {
    {"/", "/", NULL},
    {"//", "/", NULL},
    {"/a/./b//c", "/a/b/c", NULL},
    {"/a/b/", "/a/b/", NULL},
    {"/a//", "/a/", NULL},
    {"/a/.", "/a/", NULL},
    {"/./", "/", NULL},
    {"/.", "/", NULL},
    {"/./.././", NULL, "path escapes the document root"},
    {"/%7Euser", "/~user", NULL},
    {"/%7euser/", "/~user/", NULL},
    {"/a%2fb", "/a/b", NULL},
    {"/a%2F%2F.%2Fb", "/a/b", NULL},
    {"/...", "/...", NULL},
    {"/.a/..b/b../.../", "/.a/..b/b../.../", NULL},
    {"/a%20b", "/a b", NULL},
    {"/%41%42%43", "/ABC", NULL},
    {"/a/%2e/b", "/a/b", NULL},
    {"/a?x=../..", "/a", NULL},
    {"/a/%2e%2e/b", NULL, "path escapes the document root"},
    {"/a/%2E%2e/b", NULL, "path escapes the document root"},
    {"/a/.%2e", NULL, "path escapes the document root"},
    {"/a/..%2fb", NULL, "path escapes the document root"},
    {"/a/..%2Fb", NULL, "path escapes the document root"},
    {"/..", NULL, "path escapes the document root"},
    {"/../", NULL, "path escapes the document root"},
    {"/a/..", NULL, "path escapes the document root"},
    {"/a/../b", NULL, "path escapes the document root"},
    {"//..//", NULL, "path escapes the document root"},
    {"/%2e%2e%2f%2e%2e%2fetc%2fpasswd", NULL, "path escapes the document root"},
    {"/a%5c..%5cb", NULL, "backslash in the path"},
    {"/%00", NULL, "NUL in the path"},
    {"/%0d%0a", NULL, "control character in the path"},
};

static void test_path_normalization(void **state)
{
    (void)state;
    struct ho_http_limits lim = defaults();
    for (size_t k = 0; k < ARRAY_LEN(path_cases); k++) {
        const struct path_case *c = &path_cases[k];
        char in[256];
        int n = snprintf(in, sizeof in, "GET %s HTTP/1.0\r\n\r\n", c->target);
        assert_true(n > 0 && (size_t)n < sizeof in);
        struct ho_http_req req;
        struct ho_http_error err;
        int rc = parse_exact(in, (size_t)n, &lim, &req, &err);
        if (c->path != NULL) {
            if (rc != n || strcmp(req.path, c->path) != 0) {
                fail_msg("%s: rc %d path \"%s\" (%s), expected \"%s\"", c->target, rc,
                         rc > 0 ? req.path : "", err.why ? err.why : "-", c->path);
            }
            assert_int_equal(req.path_len, strlen(c->path));
        } else {
            if (rc != HO_EPROTO || err.status != 400 || strstr(err.why, c->why) == NULL) {
                fail_msg("%s: rc %d status %d \"%s\", expected 400 \"%s\"", c->target, rc,
                         err.status, err.why ? err.why : "-", c->why);
            }
        }
    }
}

/* ---- keep-alive --------------------------------------------------------------------------- */

struct keep_alive_case {
    int minor;
    const char *fields; /* field lines, each ending in CRLF */
    bool keep_alive;
};

static const struct keep_alive_case keep_alive_cases[] = {
    {1, "", true},
    {1, "Connection: close\r\n", false},
    {1, "Connection: CLOSE\r\n", false},
    {1, "Connection: keep-alive\r\n", true},
    {1, "Connection: Upgrade, close\r\n", false},
    {1, "Connection: keep-alive\r\nConnection: close\r\n", false},
    {1, "Connection: closed\r\n", true},
    {1, "Connection: , ,close ,\r\n", false},
    {0, "", false},
    {0, "Connection: keep-alive\r\n", true},
    {0, "Connection: Keep-Alive\r\n", true},
    {0, "Connection: te,keep-alive\r\n", true},
    {0, "Connection: keep-alive, close\r\n", false},
    {0, "Connection: close\r\n", false},
    {0, "Connection: keep-alives\r\n", false},
    {0, "Keep-Alive: timeout=5\r\n", false},
};

static void test_keep_alive(void **state)
{
    (void)state;
    struct ho_http_limits lim = defaults();
    for (size_t k = 0; k < ARRAY_LEN(keep_alive_cases); k++) {
        const struct keep_alive_case *c = &keep_alive_cases[k];
        char in[256];
        int n =
            snprintf(in, sizeof in, "GET / HTTP/1.%d\r\nHost: h\r\n%s\r\n", c->minor, c->fields);
        struct ho_http_req req;
        struct ho_http_error err;
        assert_int_equal(parse_exact(in, (size_t)n, &lim, &req, &err), n);
        if (req.keep_alive != c->keep_alive) {
            fail_msg("HTTP/1.%d with \"%s\": keep_alive %d", c->minor, c->fields, req.keep_alive);
        }
    }
}

/* ---- dates -------------------------------------------------------------------------------- */

struct date_case {
    const char *text;
    int64_t t; /* -1: not a valid HTTP-date */
};

static const struct date_case date_cases[] = {
    {"Sun, 06 Nov 1994 08:49:37 GMT", 784111777},
    {"Sunday, 06-Nov-94 08:49:37 GMT", 784111777},
    {"Sun Nov  6 08:49:37 1994", 784111777},
    {"Sun Nov 06 08:49:37 1994", 784111777},
    {"Thu, 01 Jan 1970 00:00:00 GMT", 0},
    {"Thursday, 01-Jan-70 00:00:00 GMT", 0},
    {"Thu Jan  1 00:00:00 1970", 0},
    {"Tue, 29 Feb 2000 00:00:00 GMT", 951782400},
    {"Wed, 01 Mar 2000 00:00:00 GMT", 951868800},
    {"Sun, 28 Feb 2100 00:00:00 GMT", 4107456000},
    {"Mon, 01 Mar 2100 00:00:00 GMT", 4107542400},
    {"Thu, 29 Feb 2024 12:00:00 GMT", 1709208000},
    {"Tue, 19 Jan 2038 03:14:08 GMT", 2147483648},
    {"Fri, 31 Dec 9999 23:59:59 GMT", 253402300799},
    {"Fri Dec 31 23:59:59 9999", 253402300799},
    {"Friday, 31-Dec-99 23:59:59 GMT", 946684799},
    {"Tuesday, 31-Dec-69 23:59:59 GMT", 3155759999},
    {"Wed, 31 Dec 2008 23:59:60 GMT", 1230768000},
    {"Fri, 30 Jun 1972 23:59:59 GMT", 78796799},
    /* invalid */
    {"", -1},
    {"Mon, 06 Nov 1994 08:49:37 GMT", -1},
    {"sun, 06 Nov 1994 08:49:37 GMT", -1},
    {"Sun, 06 nov 1994 08:49:37 GMT", -1},
    {"Sun, 06 Nov 1994 08:49:37 gmt", -1},
    {"Sun, 06 Nov 1994 08:49:37 UTC", -1},
    {"Sun, 6 Nov 1994 08:49:37 GMT", -1},
    {"Sun, 06 Nov 94 08:49:37 GMT", -1},
    {"Sun,06 Nov 1994 08:49:37 GMT", -1},
    {"Sun, 06 Nov 1994 08:49:37 GMT ", -1},
    {" Sun, 06 Nov 1994 08:49:37 GMT", -1},
    {"Sun, 06 Nov 1994 08:49 GMT", -1},
    {"Sun, 06 Nov 1994 24:00:00 GMT", -1},
    {"Sun, 06 Nov 1994 08:60:00 GMT", -1},
    {"Sun, 06 Nov 1994 08:49:61 GMT", -1},
    {"Sun, 00 Nov 1994 08:49:37 GMT", -1},
    {"Mon, 29 Feb 2100 00:00:00 GMT", -1},
    {"Mon, 31 Apr 2000 00:00:00 GMT", -1},
    {"Wed, 31 Dec 1969 23:59:59 GMT", -1},
    {"Fri, 31 Dec 9999 23:59:60 GMT", -1},
    {"Sunday, 06-Nov-1994 08:49:37 GMT", -1},
    {"Sun, 06-Nov-94 08:49:37 GMT", -1},
    {"Sunday, 06 Nov 1994 08:49:37 GMT", -1},
    {"Sun Nov 6 08:49:37 1994", -1},
    {"Sun Nov  6 08:49:37 1994 GMT", -1},
    {"Sun Nov  6 08:49:37 94", -1},
    {"1994-11-06T08:49:37Z", -1},
    {"784111777", -1},
};

static void test_parse_date(void **state)
{
    (void)state;
    for (size_t k = 0; k < ARRAY_LEN(date_cases); k++) {
        const struct date_case *c = &date_cases[k];
        int64_t t = -2;
        char *copy = malloc(strlen(c->text) + 1);
        assert_non_null(copy);
        memcpy(copy, c->text, strlen(c->text));
        int rc = ho_http_parse_date(copy, strlen(c->text), &t);
        free(copy);
        if (c->t < 0 ? rc != HO_EPROTO : rc != HO_OK || t != c->t) {
            fail_msg("\"%s\": rc %d t %lld, expected %lld", c->text, rc, (long long)t,
                     (long long)c->t);
        }
    }
}

/* format_date then parse_date gives back the time, for days spread over the whole range. */
static void test_date_roundtrip(void **state)
{
    (void)state;
    static const int64_t fixed[] = {
        0,          1,          59,         86399,        86400,
        68169599,   68169600,   951782400,  951868800,    4107542400,
        4107456000, 2147483647, 2147483648, 253402214400, HO_HTTP_TIME_MAX};
    char buf[HO_HTTP_DATE_LEN + 1];
    int64_t back;
    for (size_t k = 0; k < ARRAY_LEN(fixed); k++) {
        assert_int_equal(ho_http_format_date(buf, sizeof buf, fixed[k]), HO_HTTP_DATE_LEN);
        assert_int_equal(strlen(buf), HO_HTTP_DATE_LEN);
        assert_int_equal(ho_http_parse_date(buf, HO_HTTP_DATE_LEN, &back), HO_OK);
        assert_true(back == fixed[k]);
    }
    /* Every day's noon from 1970 to 9999, in steps of 1 day and 997 seconds. */
    int64_t count = 0;
    for (int64_t t = 43200; t <= HO_HTTP_TIME_MAX; t += 86400 + 997) {
        assert_int_equal(ho_http_format_date(buf, sizeof buf, t), HO_HTTP_DATE_LEN);
        assert_int_equal(ho_http_parse_date(buf, HO_HTTP_DATE_LEN, &back), HO_OK);
        if (back != t) {
            fail_msg("%lld formats as \"%s\" and reads back as %lld", (long long)t, buf,
                     (long long)back);
        }
        count++;
    }
    assert_true(count > 2890000);

    assert_int_equal(ho_http_format_date(buf, sizeof buf, 951782400), HO_HTTP_DATE_LEN);
    assert_string_equal(buf, "Tue, 29 Feb 2000 00:00:00 GMT");
    assert_int_equal(ho_http_format_date(buf, sizeof buf, HO_HTTP_TIME_MAX), HO_HTTP_DATE_LEN);
    assert_string_equal(buf, "Fri, 31 Dec 9999 23:59:59 GMT");
}

/* If-Modified-Since in a request: every format read, anything invalid or repeated ignored. */
static void test_if_modified_since(void **state)
{
    (void)state;
    static const struct {
        const char *fields;
        bool has_ims;
        int64_t ims;
    } cases[] = {
        {"If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n", true, 784111777},
        {"if-modified-since:Sunday, 06-Nov-94 08:49:37 GMT  \r\n", true, 784111777},
        {"If-Modified-Since: \tSun Nov  6 08:49:37 1994\r\n", true, 784111777},
        {"If-Modified-Since: yesterday\r\n", false, 0},
        {"If-Modified-Since: Mon, 06 Nov 1994 08:49:37 GMT\r\n", false, 0},
        {"If-Modified-Since:\r\n", false, 0},
        {"If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
         "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n",
         false, 0},
    };
    struct ho_http_limits lim = defaults();
    for (size_t k = 0; k < ARRAY_LEN(cases); k++) {
        char in[512];
        int n = snprintf(in, sizeof in, "GET / HTTP/1.1\r\nHost: h\r\n%s\r\n", cases[k].fields);
        struct ho_http_req req;
        struct ho_http_error err;
        assert_int_equal(parse_exact(in, (size_t)n, &lim, &req, &err), n);
        assert_int_equal(req.has_ims, cases[k].has_ims);
        assert_true(req.ims == cases[k].ims);
    }
}

/* ---- responses ---------------------------------------------------------------------------- */

struct head_case {
    int status;
    struct ho_http_resp resp;
    const char *bytes;
};

static const struct head_case head_cases[] = {
    {200,
     {784111777, 1234, "text/html", true, 0, true},
     "HTTP/1.1 200 OK\r\n"
     "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
     "Server: handoff\r\n"
     "Content-Length: 1234\r\n"
     "Content-Type: text/html\r\n"
     "Last-Modified: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
     "Connection: keep-alive\r\n"
     "\r\n"},
    {304,
     {951782400, 1234, "text/html", true, 784111777, true},
     "HTTP/1.1 304 Not Modified\r\n"
     "Date: Tue, 29 Feb 2000 00:00:00 GMT\r\n"
     "Server: handoff\r\n"
     "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
     "Connection: keep-alive\r\n"
     "\r\n"},
    {404,
     {HO_HTTP_TIME_MAX, 9, "text/plain", false, 0, false},
     "HTTP/1.1 404 Not Found\r\n"
     "Date: Fri, 31 Dec 9999 23:59:59 GMT\r\n"
     "Server: handoff\r\n"
     "Content-Length: 9\r\n"
     "Content-Type: text/plain\r\n"
     "Connection: close\r\n"
     "\r\n"},
    {405,
     {0, 0, NULL, false, 0, false},
     "HTTP/1.1 405 Method Not Allowed\r\n"
     "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
     "Server: handoff\r\n"
     "Content-Length: 0\r\n"
     "Allow: GET, HEAD\r\n"
     "Connection: close\r\n"
     "\r\n"},
    {200,
     {1709208000, UINT64_MAX, NULL, false, 0, true},
     "HTTP/1.1 200 OK\r\n"
     "Date: Thu, 29 Feb 2024 12:00:00 GMT\r\n"
     "Server: handoff\r\n"
     "Content-Length: 18446744073709551615\r\n"
     "Connection: keep-alive\r\n"
     "\r\n"},
};

static void test_format_head(void **state)
{
    (void)state;
    for (size_t k = 0; k < ARRAY_LEN(head_cases); k++) {
        const struct head_case *c = &head_cases[k];
        size_t want = strlen(c->bytes);
        char buf[512];
        memset(buf, 0x5a, sizeof buf);
        int n = ho_http_format_head(buf, sizeof buf, c->status, &c->resp);
        assert_int_equal(n, want);
        assert_string_equal(buf, c->bytes);

        /* Exactly enough room, then every smaller buffer: refused, nothing past cap. */
        assert_int_equal(ho_http_format_head(buf, want + 1, c->status, &c->resp), (int)want);
        for (size_t cap = 0; cap <= want; cap++) {
            char *small = malloc(cap > 0 ? cap : 1);
            assert_non_null(small);
            assert_int_equal(ho_http_format_head(small, cap, c->status, &c->resp), HO_EMSGSIZE);
            free(small);
        }
        memset(buf, 0x5a, sizeof buf);
        assert_int_equal(ho_http_format_head(buf, 40, c->status, &c->resp), HO_EMSGSIZE);
        for (size_t i = 40; i < sizeof buf; i++) {
            assert_int_equal((unsigned char)buf[i], 0x5a);
        }
    }
}

static void test_format_head_refuses(void **state)
{
    (void)state;
    char buf[512];
    struct ho_http_resp ok = {0, 0, NULL, false, 0, true};
    assert_true(ho_http_format_head(buf, sizeof buf, 200, &ok) > 0);
    assert_int_equal(ho_http_format_head(NULL, sizeof buf, 200, &ok), HO_EINVAL);
    assert_int_equal(ho_http_format_head(buf, sizeof buf, 200, NULL), HO_EINVAL);
    static const int statuses[] = {0, 100, 199, 204, 299, 600, -200};
    for (size_t k = 0; k < ARRAY_LEN(statuses); k++) {
        assert_int_equal(ho_http_format_head(buf, sizeof buf, statuses[k], &ok), HO_EINVAL);
    }
    struct ho_http_resp r = ok;
    r.now_s = -1;
    assert_int_equal(ho_http_format_head(buf, sizeof buf, 200, &r), HO_EINVAL);
    r = ok;
    r.now_s = HO_HTTP_TIME_MAX + 1;
    assert_int_equal(ho_http_format_head(buf, sizeof buf, 200, &r), HO_EINVAL);
    r = ok;
    r.has_last_modified = true;
    r.last_modified = -5;
    assert_int_equal(ho_http_format_head(buf, sizeof buf, 200, &r), HO_EINVAL);
    r = ok;
    r.last_modified = -5; /* not sent, not checked */
    assert_true(ho_http_format_head(buf, sizeof buf, 200, &r) > 0);
    static const char *const bad_types[] = {"", "text/html\r\nSet-Cookie: x=1", "a\nb", "a\x7f"};
    for (size_t k = 0; k < ARRAY_LEN(bad_types); k++) {
        r = ok;
        r.content_type = bad_types[k];
        assert_int_equal(ho_http_format_head(buf, sizeof buf, 200, &r), HO_EINVAL);
    }
    r = ok;
    r.content_type = "text/html; charset=\"utf-8\"\t";
    assert_true(ho_http_format_head(buf, sizeof buf, 200, &r) > 0);
}

static void test_reasons(void **state)
{
    (void)state;
    static const struct {
        int status;
        const char *reason;
    } cases[] = {
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
    for (size_t k = 0; k < ARRAY_LEN(cases); k++) {
        assert_string_equal(ho_http_reason(cases[k].status), cases[k].reason);
    }
    assert_null(ho_http_reason(0));
    assert_null(ho_http_reason(201));
    assert_null(ho_http_reason(999));
}

static void test_content_type(void **state)
{
    (void)state;
    static const struct {
        const char *path, *type;
    } cases[] = {
        {"/index.html", "text/html"},
        {"/a/b.HTM", "text/html"},
        {"/notes.txt", "text/plain"},
        {"/style.css", "text/css"},
        {"/app.js", "text/javascript"},
        {"/data.json", "application/json"},
        {"/img.png", "image/png"},
        {"/img.JPG", "image/jpeg"},
        {"/img.jpeg", "image/jpeg"},
        {"/anim.gif", "image/gif"},
        {"/logo.svg", "image/svg+xml"},
        {"/paper.pdf", "application/pdf"},
        {"/archive.tar.gz", "application/octet-stream"},
        {"/README", "application/octet-stream"},
        {"/dir.html/file", "application/octet-stream"},
        {"/file.", "application/octet-stream"},
        {"/file.htmlx", "application/octet-stream"},
        {"/", "application/octet-stream"},
        {"/.html", "text/html"},
    };
    for (size_t k = 0; k < ARRAY_LEN(cases); k++) {
        assert_string_equal(ho_http_content_type(cases[k].path), cases[k].type);
    }
    assert_string_equal(ho_http_content_type(NULL), "application/octet-stream");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_requests),
        cmocka_unit_test(test_every_prefix_is_incomplete),
        cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_refused_requests),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_path_normalization),
        cmocka_unit_test(test_keep_alive),
        cmocka_unit_test(test_parse_date),
        cmocka_unit_test(test_date_roundtrip),
        cmocka_unit_test(test_if_modified_since),
        cmocka_unit_test(test_format_head),
        cmocka_unit_test(test_format_head_refuses),
        cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_content_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
