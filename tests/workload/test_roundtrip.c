/*
 * test_roundtrip.c - `trace gen` end to end in the library: a synthetic W or I workload written
 * as World Cup binary records and read back gives the same connections, client by client,
 * request by request; those connections are the ones the workload hands its clients; the
 * file is byte-for-byte reproducible from the seed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "handoff/err.h"
#include "handoff/workload.h"
#include "handoff/workload_trace.h"
#include "workload/wl_test.h"

static struct wl_tmp tmp;

/* What the writer reported: per record, its client, and whether it opened a connection. */
struct written {
    uint32_t client;
    uint32_t timestamp;
    int new_conn;
    struct ho_req req;
};

struct log {
    struct written *w;
    size_t n, cap;
};

static int collect(void *ctx, uint32_t client, uint32_t timestamp, const struct ho_req *req,
                   int new_conn)
{
    struct log *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 1024;
        l->w = realloc(l->w, l->cap * sizeof *l->w);
    }
    l->w[l->n++] = (struct written){client, timestamp, new_conn, *req};
    return 0;
}

static const char *generate(enum ho_wl_type type, uint64_t seed, uint32_t clients,
                            uint64_t requests, const char *name, struct log *l)
{
    char *path = tmp.path;
    snprintf(path, sizeof tmp.path, "%s/%s", tmp.dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    struct ho_wc_gen_params p = {
        .type = type, .seed = seed, .clients = clients, .requests = requests};
    struct ho_wl_err err;
    assert_int_equal(ho_wc_gen_write(f, path, &p, l ? collect : NULL, l, &err), HO_OK);
    assert_int_equal(fclose(f), 0);
    return path;
}

/* The read-back requests a WC record can carry: a 304 is written without size. */
static void assert_same_req(const struct ho_req *written, const struct ho_req *read)
{
    assert_int_equal(read->object, written->object);
    assert_int_equal(read->size, written->size);
    assert_int_equal(read->status, written->status);
    assert_int_equal(read->method, HO_METHOD_GET);
}

static void roundtrip(enum ho_wl_type type, uint32_t clients, uint64_t requests)
{
    struct log l = {0};
    const char *path = generate(type, 77, clients, requests, "rt.wc", &l);
    assert_int_equal(l.n, requests);
    struct ho_trace *t;
    struct ho_wl_err err;
    struct ho_trace_params p;
    ho_trace_params_default(&p);
    p.format = HO_TRACE_WC; /* no backsteps allowed: the file must be in time order */
    assert_int_equal(ho_trace_read(path, &p, &t, &err), HO_OK);
    assert_int_equal(t->nreq, requests);
    assert_int_equal(t->nclients, clients);

    /* Walk every client: its connections in the trace, in order, against what the writer
     * reported for it, in order. */
    uint64_t conns_written = 0, checked = 0;
    for (size_t i = 0; i < l.n; i++) {
        conns_written += l.w[i].new_conn;
        assert_true(i == 0 || l.w[i].timestamp >= l.w[i - 1].timestamp);
    }
    assert_int_equal(t->nconn, conns_written);
    for (uint32_t c = 0; c < clients; c++) {
        size_t wi = 0; /* next record of client c in the writer's log */
        for (uint64_t k = 0; k < t->nconn; k++) {
            const struct ho_trace_conn *tc = &t->conns[k];
            if (tc->client != c) {
                continue;
            }
            for (uint32_t j = 0; j < tc->nreq; j++) {
                while (l.w[wi].client != c) {
                    wi++;
                }
                assert_int_equal(l.w[wi].new_conn, j == 0);
                if (j == 0) {
                    assert_int_equal(tc->start, l.w[wi].timestamp);
                }
                assert_same_req(&l.w[wi].req, &t->reqs[tc->first + j]);
                wi++;
                checked++;
            }
        }
        /* Nothing of client c is left over. */
        for (; wi < l.n; wi++) {
            assert_true(l.w[wi].client != c);
        }
    }
    assert_int_equal(checked, requests);

    /* And those connections are the ones ho_wl gives the same client, all complete except
     * the trace's final one, which the budget may cut short. */
    int incomplete = 0;
    struct ho_wl *wl;
    struct ho_wl_params wp = {.type = type, .seed = 77, .clients = clients};
    assert_int_equal(ho_wl_create(&wp, &wl, &err), HO_OK);
    for (uint32_t c = 0; c < clients; c++) {
        struct ho_conn conn = {0};
        struct ho_req r;
        for (size_t i = 0; i < l.n; i++) {
            if (l.w[i].client != c) {
                continue;
            }
            if (l.w[i].new_conn) {
                assert_int_equal(conn.done, conn.nreq); /* the previous one was complete */
                assert_int_equal(ho_wl_next_conn(wl, c, &conn), HO_OK);
            }
            assert_int_equal(ho_wl_next_req(wl, &conn, &r), 1);
            assert_true(wl_req_equal(&r, &l.w[i].req));
        }
        incomplete += conn.done < conn.nreq;
    }
    assert_true(incomplete <= 1);
    ho_wl_destroy(wl);
    ho_trace_free(t);
    free(l.w);
}

static void test_worldcup_roundtrip(void **state)
{
    (void)state;
    roundtrip(HO_WL_WORLDCUP, 50, 20000);
}

static void test_ibm_roundtrip(void **state)
{
    (void)state;
    roundtrip(HO_WL_IBM, 7, 5000);
}

static int same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    assert_non_null(fa);
    assert_non_null(fb);
    int same = 1, ca, cb;
    do {
        ca = fgetc(fa);
        cb = fgetc(fb);
        same &= ca == cb;
    } while (ca != EOF && cb != EOF);
    fclose(fa);
    fclose(fb);
    return same;
}

static void test_file_is_reproducible(void **state)
{
    (void)state;
    char a[600], b[600], c[600];
    snprintf(a, sizeof a, "%s", generate(HO_WL_WORLDCUP, 5, 30, 3000, "a.wc", NULL));
    snprintf(b, sizeof b, "%s", generate(HO_WL_WORLDCUP, 5, 30, 3000, "b.wc", NULL));
    snprintf(c, sizeof c, "%s", generate(HO_WL_WORLDCUP, 6, 30, 3000, "c.wc", NULL));
    assert_true(same_file(a, b));
    assert_false(same_file(a, c));
    FILE *f = fopen(a, "rb");
    fseek(f, 0, SEEK_END);
    assert_int_equal(ftell(f), 3000 * HO_WC_RECORD_BYTES);
    fclose(f);
}

static int stop_early(void *ctx, uint32_t client, uint32_t timestamp, const struct ho_req *req,
                      int new_conn)
{
    (void)client;
    (void)timestamp;
    (void)req;
    (void)new_conn;
    return ++*(int *)ctx == 10;
}

static void test_bad_parameters_and_stop(void **state)
{
    (void)state;
    struct ho_wl_err err;
    FILE *f = fopen(generate(HO_WL_IBM, 1, 1, 1, "tiny.wc", NULL), "wb");
    struct ho_wc_gen_params p = {.type = HO_WL_SPECWEB, .seed = 1, .clients = 1, .requests = 1};
    assert_int_equal(ho_wc_gen_write(f, "x", &p, NULL, NULL, &err), HO_EINVAL);
    p.type = HO_WL_WORLDCUP;
    p.clients = 0;
    assert_int_equal(ho_wc_gen_write(f, "x", &p, NULL, NULL, &err), HO_EINVAL);
    p.clients = 1;
    p.requests = 0;
    assert_int_equal(ho_wc_gen_write(f, "x", &p, NULL, NULL, &err), HO_EINVAL);
    p.requests = 100;
    int seen = 0;
    assert_int_equal(ho_wc_gen_write(f, "x", &p, stop_early, &seen, &err), HO_EAGAIN);
    assert_int_equal(seen, 10);
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worldcup_roundtrip),
        cmocka_unit_test(test_ibm_roundtrip),
        cmocka_unit_test(test_file_is_reproducible),
        cmocka_unit_test(test_bad_parameters_and_stop),
    };
    wl_tmp_init(&tmp);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    wl_tmp_cleanup(&tmp);
    return rc;
}
