/*
 * tt_xfer.c - the transfer driver of tt_xfer.h.
 *
 * Everything the applications do happens in the engine's event callbacks, which may re-enter
 * the engine; a half that is already being pumped (an event delivered inside its own tcpe_send)
 * only notes that it should pump again, so offsets into the pattern never interleave.
 */
#include "tt_xfer.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "handoff/err.h"
#include "handoff/rng.h"

static uint64_t draw_size(struct ho_rng *r, uint64_t max)
{
    double u = ho_rng_unit(r);
    uint64_t cap = u < 0.5 ? 2000 : u < 0.9 ? 30000 : max;
    if (cap > max) {
        cap = max;
    }
    return ho_rng_below(r, cap + 1);
}

void tt_xfers_init(struct tt_xfers *xs, struct tt_world *w, struct tcpe_stack *client,
                   struct tcpe_stack *server, int n, uint64_t seed, uint64_t max_size)
{
    memset(xs, 0, sizeof *xs);
    xs->w = w;
    xs->client = client;
    xs->server = server;
    xs->n = n;
    xs->chunk = 16384;
    xs->buf = malloc(xs->chunk);
    xs->x = calloc((size_t)n, sizeof *xs->x);
    assert_non_null(xs->buf);
    assert_non_null(xs->x);
    assert_true(n <= 50000);
    struct ho_rng r;
    ho_rng_seed_named(&r, seed, "xfer-sizes");
    for (int i = 0; i < n; i++) {
        struct tt_xfer *x = &xs->x[i];
        x->idx = i;
        x->cli.x = x;
        x->srv.x = x;
        x->cli.out_stream = x->srv.in_stream = 2 * (uint64_t)i;
        x->srv.out_stream = x->cli.in_stream = 2 * (uint64_t)i + 1;
        x->cli.to_send = x->srv.expect = draw_size(&r, max_size);
        x->srv.to_send = x->cli.expect = draw_size(&r, max_size);
    }
    assert_int_equal(tcpe_listen(server, TT_SERVER_IP, TT_SERVER_PORT, 1024, &xs->lsn), 0);
}

void tt_xfers_fini(struct tt_xfers *xs)
{
    free(xs->buf);
    free(xs->x);
    memset(xs, 0, sizeof *xs);
}

static void half_fail(struct tt_xfers *xs, struct tt_half *h)
{
    if (!h->failed) {
        h->failed = true;
        xs->failures++;
    }
}

static void half_done(struct tt_xfers *xs, struct tt_half *h)
{
    if (h->c != NULL) {
        tcpe_release(h->c, tt_world_clock(xs->w, tcpe_conn_stack(h->c)));
        h->c = NULL;
    }
    if (!h->closed) {
        h->closed = true;
        struct tt_xfer *x = h->x;
        if (x->cli.closed && x->srv.closed) {
            xs->finished++;
        }
    }
}

static void pump_once(struct tt_xfers *xs, struct tt_half *h)
{
    struct tcpe_conn *c = h->c;
    uint64_t now = tt_world_clock(xs->w, tcpe_conn_stack(c));
    while (h->sent < h->to_send && !(h->reply && !h->eof)) {
        uint64_t left = h->to_send - h->sent;
        uint32_t n = left < xs->chunk ? (uint32_t)left : xs->chunk;
        const uint8_t *data = NULL;
        if (!xs->virtual_payload) {
            tt_pattern_fill(h->out_stream, h->sent, xs->buf, n);
            data = xs->buf;
        }
        int r = tcpe_send(c, data, n, now);
        if (r <= 0) {
            break;
        }
        h->sent += (uint64_t)r;
    }
    if (h->sent == h->to_send && !h->shut && !h->hold_shutdown && !(h->reply && !h->eof)) {
        if (tcpe_shutdown(c, now) == 0) {
            h->shut = true;
        }
    }
    while (!h->paused) {
        int r = tcpe_recv(c, xs->virtual_payload ? NULL : xs->buf, xs->chunk, now);
        if (r <= 0) {
            break;
        }
        if (!xs->virtual_payload) {
            for (int i = 0; i < r; i++) {
                if (xs->buf[i] != tt_pattern(h->in_stream, h->received + (uint64_t)i)) {
                    half_fail(xs, h);
                    break;
                }
            }
        }
        h->received += (uint64_t)r;
    }
    if (!h->eof && tcpe_conn_eof(c)) {
        h->eof = true;
        if (h->received != h->expect) {
            half_fail(xs, h);
        }
        h->again = h->reply; /* now the reply can go */
    }
}

/* Pumps h and acts on ev, and on anything that arrives meanwhile. */
static void handle(struct tt_xfers *xs, struct tt_half *h, unsigned ev)
{
    if (h->c == NULL || h->closed) {
        return;
    }
    if (h->busy) {
        h->pending |= ev;
        h->again = true;
        return;
    }
    h->busy = true;
    do {
        h->again = false;
        ev |= h->pending;
        h->pending = 0;
        if (ev & (TCPE_EV_RESET | TCPE_EV_TIMEDOUT)) {
            half_fail(xs, h);
            half_done(xs, h);
            break;
        }
        if (ev & TCPE_EV_CLOSED) {
            h->paused = false; /* last chance to read what is buffered */
        }
        pump_once(xs, h);
        if (ev & TCPE_EV_CLOSED) {
            if (!h->eof || h->received != h->expect || h->sent != h->to_send) {
                half_fail(xs, h);
            }
            half_done(xs, h);
            break;
        }
        ev = 0;
    } while (h->again);
    h->busy = false;
}

void tt_xfers_pump(struct tt_xfers *xs, struct tt_half *h)
{
    handle(xs, h, 0);
}

void tt_xfer_rehome(struct tt_xfers *xs, struct tt_half *h, struct tcpe_conn *c)
{
    (void)xs;
    h->c = c;
    tcpe_conn_set_user(c, h);
}

void tt_xfers_event(void *app, struct tcpe_conn *c, unsigned ev)
{
    struct tt_xfers *xs = app;
    if (c == xs->lsn) {
        struct tcpe_conn *n;
        while ((n = tcpe_accept(xs->lsn)) != NULL) {
            int idx = (int)tcpe_conn_tuple(n)->remote_port - 10000;
            assert_true(idx >= 0 && idx < xs->started);
            struct tt_half *h = &xs->x[idx].srv;
            assert_null(h->c);
            h->c = n;
            tcpe_conn_set_user(n, h);
            tt_xfers_pump(xs, h);
        }
        return;
    }
    struct tt_half *h = tcpe_conn_user(c);
    if (h != NULL && h->c == c) {
        handle(xs, h, ev);
    }
}

/* Opens a transfer's connection; false if the stack could not (out of memory: retry later). */
static bool start(struct tt_xfers *xs, struct tt_xfer *x)
{
    struct tcpe_tuple t = {TT_CLIENT_IP, TT_SERVER_IP, (uint16_t)(10000 + x->idx), TT_SERVER_PORT};
    struct tcpe_conn *c = NULL;
    int err = tcpe_connect(xs->client, &t, tt_world_clock(xs->w, xs->client), &c);
    if (err == HO_ENOMEM) {
        return false;
    }
    assert_int_equal(err, 0);
    x->started = true;
    x->cli.c = c;
    tcpe_conn_set_user(c, &x->cli);
    tt_xfers_pump(xs, &x->cli);
    return true;
}

void tt_xfers_poke(struct tt_xfers *xs)
{
    for (int i = 0; i < xs->started; i++) {
        tt_xfers_pump(xs, &xs->x[i].cli);
        tt_xfers_pump(xs, &xs->x[i].srv);
    }
}

bool tt_xfers_run(struct tt_xfers *xs, int concurrency, uint64_t limit,
                  void (*hook)(struct tt_xfers *xs, void *arg), void *arg)
{
    while (xs->finished < xs->n) {
        while (xs->started < xs->n && xs->started - xs->finished < concurrency) {
            if (!start(xs, &xs->x[xs->started])) {
                break;
            }
            xs->started++;
        }
        if (!tt_world_step(xs->w, limit)) {
            break;
        }
        if (hook != NULL) {
            hook(xs, arg);
        }
    }
    return xs->finished == xs->n && xs->failures == 0;
}

static void dump_half(const char *name, const struct tt_half *h)
{
    fprintf(stderr, " %s sent %llu/%llu got %llu/%llu%s%s%s%s state %s", name,
            (unsigned long long)h->sent, (unsigned long long)h->to_send,
            (unsigned long long)h->received, (unsigned long long)h->expect, h->eof ? " eof" : "",
            h->shut ? " shut" : "", h->closed ? " closed" : "", h->failed ? " FAILED" : "",
            h->c ? tcpe_state_name(tcpe_conn_state(h->c)) : "-");
}

void tt_xfers_dump(const struct tt_xfers *xs, int max)
{
    for (int i = 0; i < xs->started && max > 0; i++) {
        const struct tt_xfer *x = &xs->x[i];
        if (x->cli.failed || x->srv.failed || !(x->cli.closed && x->srv.closed)) {
            fprintf(stderr, "xfer %d:", i);
            dump_half("cli", &x->cli);
            dump_half("| srv", &x->srv);
            fputc('\n', stderr);
            max--;
        }
    }
}
