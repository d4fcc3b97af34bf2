/*
 * meter.c - the run's counters and its first failure (see meter.h).
 */
#include "meter.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "handoff/assert.h"
#include "handoff/err.h"

void meter_fini(struct sim_meter *m)
{
    free(m->delay_rx);
    free(m->delay_tx);
    free(m->handoff_lat);
}

void meter_fail(struct sim_meter *m, const char *fmt, ...)
{
    if (m->failure[0]) {
        return; /* keep the first failure */
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->failure, sizeof m->failure, fmt, ap);
    va_end(ap);
}

static int push_sample(float **v, uint64_t *n, uint64_t *cap, double x)
{
    if (*n == *cap) {
        uint64_t c = *cap ? *cap * 2 : 65536;
        float *nv = realloc(*v, c * sizeof *nv);
        if (!nv) {
            return HO_ENOMEM;
        }
        *v = nv;
        *cap = c;
    }
    (*v)[(*n)++] = (float)x;
    return HO_OK;
}

void meter_delay(struct sim_meter *m, bool rx, uint64_t ns)
{
    if (!meter_open(m)) {
        return;
    }
    int rc = rx ? push_sample(&m->delay_rx, &m->ndelay_rx, &m->cap_delay_rx, (double)ns / 1e3)
                : push_sample(&m->delay_tx, &m->ndelay_tx, &m->cap_delay_tx, (double)ns / 1e3);
    HO_ASSERT(rc == HO_OK, "out of memory for delay samples");
}

void meter_handoff(struct sim_meter *m, uint64_t ns)
{
    if (!meter_open(m)) {
        return;
    }
    int rc = push_sample(&m->handoff_lat, &m->nhandoff_lat, &m->cap_handoff_lat, (double)ns / 1e3);
    HO_ASSERT(rc == HO_OK, "out of memory for handoff latencies");
}

void meter_request(struct sim_meter *m, uint64_t response_ns, uint32_t bytes, bool exact)
{
    if (!exact) {
        m->bad_responses++;
    }
    m->all_requests++;
    if (!meter_open(m)) {
        return;
    }
    m->requests++;
    m->resp_bytes += bytes;
    m->resp_ns += response_ns;
}
