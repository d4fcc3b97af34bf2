/*
 * test_httpd_real.c - the web server (src/app/httpd.c) on real payload: real request bytes,
 * parsed, answered from a document root of real files, over the OS side's host TCP with a fake
 * platform (tests/helpers/tt_host.h, whose client is a tcpe stack that sends and receives bytes).
 *
 * Checked, table-driven: a file fetched byte for byte (small, empty, larger than the send
 * buffer, a directory's index.html); keep-alive (two requests on one connection) and pipelining
 * (two in one segment); HEAD; 304 for If-Modified-Since; a request body dropped; HTTP/1.0
 * closing after its response; and the refusals: each bad request gets its status and a short
 * text body, then the connection is closed; every path out of the root is refused. After each
 * case the connection is gone from the server and every packet was given back (and the
 * sanitizers see every buffer and mapping freed).
 */
#define _GNU_SOURCE /* memmem */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "handoff/app.h"
#include "handoff/docroot.h"
#include "handoff/err.h"
#include "handoff/http.h"
#include "handoff/os.h"
#include "handoff/tcpe.h"
#include "helpers/tt_fs.h"
#include "helpers/tt_host.h"

#define SNDBUF   16384u
#define BIG      (300u * 1024 + 17)  /* larger than the send buffer: several SENDMORE steps */
#define WALL     INT64_C(1700000000) /* the wall clock the server is given */
#define FILE_AGE INT64_C(1600000000) /* every file's modification time */

static const struct ho_os_costs costs = {
    .rx_pkt = 1000,
    .tx_pkt = 1000,
    .timer = 1000,
    .msg_out = 1000,
    .msg_in = 1000,
    .handoff = 1000,
    .sys_event = 1000,
    .sys_accept = 1000,
    .sys_read = 1000,
    .sys_write = 1000,
    .sys_sendfile = 1000,
    .sys_close = 1000,
    .copy_per_kb = 1000,
    .conn_state_bytes = 1000,
    .pkt_hdr_bytes = 128,
};

static struct fixture {
    char root[64];
    uint8_t *big;
    struct ho_docroot *dr;
    struct tt_host host;
    struct ho_app *app;
    bool up;
} fx;

static int64_t wall_clock(void *ctx, uint64_t now)
{
    (void)ctx;
    (void)now;
    return WALL;
}

static void write_file(const char *rel, const void *bytes, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", fx.root, rel);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bytes, len), (ssize_t)len);
    struct timespec ts[2] = {{.tv_sec = FILE_AGE}, {.tv_sec = FILE_AGE}};
    assert_int_equal(futimens(fd, ts), 0);
    close(fd);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(fx.root, sizeof fx.root, "/tmp/handoff-httpd-real.XXXXXX");
    if (!mkdtemp(fx.root)) {
        return -1;
    }
    char sub[128];
    snprintf(sub, sizeof sub, "%s/sub", fx.root);
    if (mkdir(sub, 0755) != 0) {
        return -1;
    }
    fx.big = malloc(BIG);
    if (!fx.big) {
        return -1;
    }
    uint32_t x = 12345;
    for (uint32_t i = 0; i < BIG; i++) {
        x = x * 1103515245u + 12345u;
        fx.big[i] = (uint8_t)(x >> 16);
    }
    write_file("a.txt", "hello, handoff\n", 15);
    write_file("empty", "", 0);
    write_file("big.bin", fx.big, BIG);
    write_file("sub/index.html", "<p>sub</p>\n", 11);
    char outside[160];
    snprintf(outside, sizeof outside, "%s-secret", fx.root);
    int fd = open(outside, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
        close(fd);
    }
    char link[160];
    snprintf(link, sizeof link, "%s/escape", fx.root);
    if (symlink(outside, link) != 0) {
        return -1;
    }
    return ho_docroot_open(fx.root, &fx.dr) == HO_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    ho_docroot_close(fx.dr);
    char outside[160];
    snprintf(outside, sizeof outside, "%s-secret", fx.root);
    unlink(outside);
    tt_remove_tree(fx.root);
    free(fx.big);
    return 0;
}

static void server_up(void)
{
    struct ho_sel_policy never = {.kind = HO_SEL_NEVER};
    struct ho_os_params op = tt_host_os_params(0, never, &costs, SNDBUF);
    op.virtual_payload = false;
    tt_host_init(&fx.host, &op);
    struct ho_app_params ap = {.ip = TT_HOST_SERVER_IP,
                               .port = TT_HOST_SERVER_PORT,
                               .backlog = 16,
                               .docroot = fx.dr,
                               .idle_ns = 10 * 1000000000ull};
    ho_http_limits_default(&ap.limits);
    struct ho_app_ops ops = {.wall_clock = wall_clock};
    assert_int_equal(ho_app_create(&ap, fx.host.os, &ops, NULL, &fx.app), HO_OK);
    fx.up = true;
}

/* Stops the server; returns whether every packet was given back. */
static bool server_down(void)
{
    fx.up = false;
    ho_app_destroy(fx.app);
    fx.app = NULL;
    return tt_host_free(&fx.host);
}

static int teardown(void **state)
{
    (void)state;
    if (fx.up) {
        server_down();
    }
    return 0;
}

/* Lets the exchange run for a while of simulated time. */
static void run(void)
{
    tt_host_advance(&fx.host, fx.host.now + 50000000ull);
}

/* One response parsed from the bytes a client received, starting at *off. */
struct resp {
    int status;
    uint64_t content_length;
    bool has_length;
    bool close;
    const uint8_t *body;
    size_t body_len;
};

static bool next_response(int ci, size_t *off, bool head_only, struct resp *out)
{
    const char *buf = (const char *)fx.host.cbytes[ci] + *off;
    size_t len = (size_t)fx.host.crecv[ci] - *off;
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (!end) {
        return false;
    }
    memset(out, 0, sizeof *out);
    assert_int_equal(sscanf(buf, "HTTP/1.1 %d ", &out->status), 1);
    size_t head = (size_t)(end - buf) + 4;
    const char *cl = memmem(buf, head, "\r\nContent-Length: ", 18);
    if (cl) {
        out->has_length = true;
        out->content_length = strtoull(cl + 18, NULL, 10);
    }
    out->close = memmem(buf, head, "\r\nConnection: close\r\n", 21) != NULL;
    out->body = (const uint8_t *)buf + head;
    out->body_len = head_only || out->status == 304 ? 0 : (size_t)out->content_length;
    assert_true(head + out->body_len <= len);
    *off += head + out->body_len;
    return true;
}

/* Connects a client, sends req, lets it run; returns the client's index. */
static int ask(uint16_t port, const char *req)
{
    int ci = tt_host_connect(&fx.host, port);
    tt_host_client_send_bytes(&fx.host, ci, req, (uint32_t)strlen(req));
    run();
    return ci;
}

static void assert_gone(void)
{
    struct ho_app_info info;
    ho_app_info(fx.app, &info);
    assert_int_equal(info.conns, 0);
}

/* ---- files ---------------------------------------------------------------------------- */

static void test_files_byte_for_byte(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        const void *bytes;
        size_t len;
        const char *type;
    } rows[] = {
        {"/a.txt", "hello, handoff\n", 15, "text/plain"},
        {"/empty", "", 0, "application/octet-stream"},
        {"/sub/", "<p>sub</p>\n", 11, "text/html"},
        {"/sub", "<p>sub</p>\n", 11, "text/html"},
        {"/big.bin", NULL, BIG, "application/octet-stream"},
        {"/%61.txt", "hello, handoff\n", 15, "text/plain"},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        server_up();
        char req[256];
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                 rows[r].path);
        int ci = ask((uint16_t)(40000 + r), req);
        size_t off = 0;
        struct resp rs;
        assert_true(next_response(ci, &off, false, &rs));
        assert_int_equal(rs.status, 200);
        assert_int_equal(rs.content_length, rows[r].len);
        assert_true(rs.close);
        const void *want = rows[r].bytes ? rows[r].bytes : fx.big;
        if (rows[r].len) {
            assert_memory_equal(rs.body, want, rows[r].len);
        }
        const char *buf = (const char *)fx.host.cbytes[ci];
        char ct[96];
        snprintf(ct, sizeof ct, "\r\nContent-Type: %s", rows[r].type);
        assert_non_null(memmem(buf, off, ct, strlen(ct)));
        assert_non_null(memmem(buf, off, "\r\nLast-Modified: Sun, 13 Sep 2020 12:26:40 GMT", 46));
        assert_non_null(memmem(buf, off, "\r\nDate: Tue, 14 Nov 2023 22:13:20 GMT", 37));
        assert_int_equal(off, fx.host.crecv[ci]); /* nothing more */
        assert_true(fx.host.ceof[ci]);            /* and the server closed */
        assert_gone();
        assert_true(server_down());
    }
}

/* Keep-alive, pipelining, HEAD, 304, a body dropped: several requests on one connection. */
static void test_one_connection_many_requests(void **state)
{
    (void)state;
    server_up();
    int ci = ask(41000, "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    size_t off = 0;
    struct resp rs;
    assert_true(next_response(ci, &off, false, &rs));
    assert_int_equal(rs.status, 200);
    assert_false(rs.close);
    assert_false(fx.host.ceof[ci]);
    /* Two pipelined in one send, the first with a body to drop; then HEAD; then a 304. */
    const char *pipe = "GET /sub/ HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
                       "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n";
    tt_host_client_send_bytes(&fx.host, ci, pipe, (uint32_t)strlen(pipe));
    run();
    assert_true(next_response(ci, &off, false, &rs));
    assert_int_equal(rs.status, 200);
    assert_memory_equal(rs.body, "<p>sub</p>\n", 11);
    assert_true(next_response(ci, &off, false, &rs));
    assert_int_equal(rs.status, 200);
    assert_memory_equal(rs.body, "hello, handoff\n", 15);
    const char *head = "HEAD /big.bin HTTP/1.1\r\nHost: t\r\n\r\n";
    tt_host_client_send_bytes(&fx.host, ci, head, (uint32_t)strlen(head));
    run();
    assert_true(next_response(ci, &off, true, &rs));
    assert_int_equal(rs.status, 200);
    assert_int_equal(rs.content_length, BIG);
    assert_int_equal(off, fx.host.crecv[ci]); /* no body */
    const char *ims =
        "GET /a.txt HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: Sun, 13 Sep 2020 12:26:40 GMT\r\n\r\n"
        "GET /a.txt HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: Sun, 13 Sep 2020 12:26:39 GMT\r\n"
        "Connection: close\r\n\r\n";
    tt_host_client_send_bytes(&fx.host, ci, ims, (uint32_t)strlen(ims));
    run();
    assert_true(next_response(ci, &off, false, &rs));
    assert_int_equal(rs.status, 304);
    assert_false(rs.has_length);
    assert_true(next_response(ci, &off, false, &rs));
    assert_int_equal(rs.status, 200); /* modified a second after the date given */
    assert_true(rs.close);
    assert_int_equal(off, fx.host.crecv[ci]);
    assert_true(fx.host.ceof[ci]);
    struct ho_app_info info;
    ho_app_info(fx.app, &info);
    assert_int_equal(info.requests, 6);
    assert_int_equal(info.status[2], 5);
    assert_int_equal(info.status[3], 1);
    assert_int_equal(info.conns, 0);
    assert_true(server_down());
}

/* HTTP/1.0: closed after the response unless it asks for keep-alive. */
static void test_http10(void **state)
{
    (void)state;
    server_up();
    int ci = ask(42000, "GET /a.txt HTTP/1.0\r\n\r\n");
    size_t off = 0;
    struct resp rs;
    assert_true(next_response(ci, &off, false, &rs));
    assert_int_equal(rs.status, 200);
    assert_true(rs.close);
    assert_true(fx.host.ceof[ci]);
    int cj = ask(42001, "GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    off = 0;
    assert_true(next_response(cj, &off, false, &rs));
    assert_false(rs.close);
    assert_false(fx.host.ceof[cj]);
    assert_true(server_down());
}

/* Each bad request: its status, a text body naming it, and the connection closed (a refused
 * request's end is unknown) or kept (a 404 or 403 of a well-formed request). */
static void test_bad_requests(void **state)
{
    (void)state;
    static const struct {
        const char *req;
        int status;
        bool closes;
    } rows[] = {
        {"GET /nope HTTP/1.1\r\nHost: t\r\n\r\n", 404, false},
        {"GET /escape HTTP/1.1\r\nHost: t\r\n\r\n", 404, false},
        {"GET /../etc/passwd HTTP/1.1\r\nHost: t\r\n\r\n", 400, true},
        {"GET /%2e%2e/etc/passwd HTTP/1.1\r\nHost: t\r\n\r\n", 400, true},
        {"GET /sub/..%2f..%2fetc HTTP/1.1\r\nHost: t\r\n\r\n", 400, true},
        {"POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nx", 405, true},
        {"GET /a.txt HTTP/1.1\r\n\r\n", 400, true},
        {"GET /a.txt HTTP/2.0\r\nHost: t\r\n\r\n", 505, true},
        {"GET /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999\r\n\r\n", 413, true},
        {"GET /a.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n", 501, true},
        {"GET /a.txt HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n", 400, true},
        {"\x01\x02\x03 garbage\r\n\r\n", 400, true},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        server_up();
        int ci = ask((uint16_t)(43000 + r), rows[r].req);
        size_t off = 0;
        struct resp rs;
        assert_true(next_response(ci, &off, false, &rs));
        assert_int_equal(rs.status, rows[r].status);
        char text[64];
        int n =
            snprintf(text, sizeof text, "%d %s\n", rows[r].status, ho_http_reason(rows[r].status));
        assert_int_equal(rs.body_len, (size_t)n);
        assert_memory_equal(rs.body, text, (size_t)n);
        assert_int_equal(rs.close, rows[r].closes);
        assert_int_equal(fx.host.ceof[ci], rows[r].closes);
        if (!rows[r].closes) {
            tcpe_shutdown(fx.host.cc[ci], fx.host.now);
            run();
        }
        assert_gone();
        assert_true(server_down());
    }
}

/* A head over the limit: 431 once the buffer holds more than the limit, and a close. */
static void test_head_too_large(void **state)
{
    (void)state;
    server_up();
    int ci = tt_host_connect(&fx.host, 44000);
    const char *start = "GET /a.txt HTTP/1.1\r\nHost: t\r\n";
    tt_host_client_send_bytes(&fx.host, ci, start, (uint32_t)strlen(start));
    char line[1000];
    memset(line, 'a', sizeof line);
    memcpy(line, "X-Pad: ", 7);
    line[sizeof line - 2] = '\r';
    line[sizeof line - 1] = '\n';
    /* Fields until the server answers: past the 16 KB head limit. */
    for (int i = 0; i < 40 && fx.host.crecv[ci] == 0; i++) {
        tt_host_client_send_bytes(&fx.host, ci, line, sizeof line);
        run();
    }
    size_t off = 0;
    struct resp rs;
    assert_true(next_response(ci, &off, false, &rs));
    assert_int_equal(rs.status, 431);
    assert_true(rs.close);
    run();
    assert_gone();
    assert_true(server_down());
}

/* The client goes away in the middle of a large response: the server frees the connection. */
static void test_client_gone_mid_response(void **state)
{
    (void)state;
    server_up();
    int ci = tt_host_connect(&fx.host, 45000);
    const char *req = "GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n";
    tt_host_client_send_bytes(&fx.host, ci, req, (uint32_t)strlen(req));
    /* Work and wire one step at a time, until part of the response has arrived. */
    for (int i = 0; i < 100000 && fx.host.crecv[ci] < 20000; i++) {
        if (fx.host.nq > 0) {
            tt_host_run_at(&fx.host, 0);
        } else {
            assert_true(fx.host.nwire > 0);
            tt_host_deliver_one(&fx.host);
        }
    }
    assert_true(fx.host.crecv[ci] >= 20000 && fx.host.crecv[ci] < BIG);
    tcpe_abort(fx.host.cc[ci], fx.host.now);
    run();
    assert_gone();
    assert_true(server_down());
}

/* ho_app_tick closes a connection idle for idle_ns, and only then. */
static void test_idle_timeout(void **state)
{
    (void)state;
    server_up();
    int ci = tt_host_connect(&fx.host, 46000);
    run();
    struct ho_app_info info;
    ho_app_info(fx.app, &info);
    assert_int_equal(info.conns, 1);
    uint64_t idle = 10 * 1000000000ull;
    assert_int_equal(ho_app_tick(fx.app, fx.host.now - 1), 0); /* a clock read before */
    assert_int_equal(ho_app_tick(fx.app, fx.host.now + idle / 2), 0);
    assert_int_equal(ho_app_tick(fx.app, fx.host.now + idle), 1);
    run();
    assert_gone();
    assert_true(fx.host.ceof[ci]);
    ho_app_info(fx.app, &info);
    assert_int_equal(info.idle_closed, 1);
    assert_true(server_down());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_files_byte_for_byte, teardown),
        cmocka_unit_test_teardown(test_one_connection_many_requests, teardown),
        cmocka_unit_test_teardown(test_http10, teardown),
        cmocka_unit_test_teardown(test_bad_requests, teardown),
        cmocka_unit_test_teardown(test_head_too_large, teardown),
        cmocka_unit_test_teardown(test_client_gone_mid_response, teardown),
        cmocka_unit_test_teardown(test_idle_timeout, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
