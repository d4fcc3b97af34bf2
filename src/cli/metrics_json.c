/*
 * metrics_json.c - a run's metrics as JSON and as a time-series row (see repro.h): one list of
 * keys for `handoff run --json`, the reproduction's per-run files and results.json, and one
 * builder of a run's whole JSON (its provenance, its metrics) for the first two.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "repro.h"

/* Every numeric metric, by name and place in struct sim_metrics. */
#define REAL_FIELDS(X)                                                                             \
    X(requests_per_s)                                                                              \
    X(http_mbps)                                                                                   \
    X(packets_per_s)                                                                               \
    X(nic_packet_share)                                                                            \
    X(connections_per_s)                                                                           \
    X(nic_connection_share)                                                                        \
    X(host_user_pct)                                                                               \
    X(host_os_pct)                                                                                 \
    X(host_net_pct)                                                                                \
    X(host_idle_pct)                                                                               \
    X(nic_idle_pct)                                                                                \
    X(nic_host_pct)                                                                                \
    X(nic_tcp_pct)                                                                                 \
    X(nic_msg_pct)                                                                                 \
    X(host_send_delay_median_us)                                                                   \
    X(host_recv_delay_median_us)                                                                   \
    X(mean_response_ms)                                                                            \
    X(soft_limit_mean)                                                                             \
    X(nic_connections_mean)                                                                        \
    X(measured_s)                                                                                  \
    X(host_misses_per_packet)                                                                      \
    X(fault_detect_ms)                                                                             \
    X(fault_recovery_ms)                                                                           \
    X(handoff_latency_us_p50)                                                                      \
    X(handoff_latency_us_p90)                                                                      \
    X(handoff_latency_us_p99)                                                                      \
    X(handoff_latency_us_max)
#define INT_FIELDS(X)                                                                              \
    X(nic_rx_drops)                                                                                \
    X(retransmits)                                                                                 \
    X(nic_retransmits)                                                                             \
    X(host_ifq_drops)                                                                              \
    X(requests)                                                                                    \
    X(packets)                                                                                     \
    X(events)                                                                                      \
    X(stalled_requests)                                                                            \
    X(nic_faults_detected)                                                                         \
    X(nic_watchdog_resets)                                                                         \
    X(nic_lost_conns)                                                                              \
    X(conns_recovered)                                                                             \
    X(conns_reset)                                                                                 \
    X(wire_dropped)                                                                                \
    X(conns_restored)                                                                              \
    X(conns_uploaded)                                                                              \
    X(conns_shed)                                                                                  \
    X(conns_given_back)                                                                            \
    X(handoffs)

static void set_metrics(json_t *o, const struct sim_metrics *m, double wall_s)
{
#define SET_REAL(k) json_object_set_new(o, #k, json_real(m->k));
#define SET_INT(k)  json_object_set_new(o, #k, json_integer((json_int_t)m->k));
    REAL_FIELDS(SET_REAL)
    INT_FIELDS(SET_INT)
    json_t *qs = json_object();
    for (int q = 0; q < HO_SCHED_NQUEUES; q++) {
        const struct sim_queue_metrics *x = &m->nic_queue[q];
        json_object_set_new(qs, ho_sched_queue_name((enum ho_sched_queue)q),
                            json_pack("{s:f, s:I, s:I, s:I}", "mean_wait_us", x->mean_wait_us,
                                      "taken", (json_int_t)x->taken, "dropped",
                                      (json_int_t)x->dropped, "max_len", (json_int_t)x->max_len));
    }
    json_object_set_new(o, "nic_queues", qs);
    json_object_set_new(o, "wall_seconds", json_real(wall_s));
}

json_t *repro_metrics_json(const char *config, uint64_t seed, const struct sim_metrics *m,
                           double wall_s)
{
    json_t *o = json_object();
    json_object_set_new(o, "config", json_string(config));
    json_object_set_new(o, "seed", json_integer((json_int_t)seed));
    set_metrics(o, m, wall_s);
    return o;
}

json_t *repro_run_json(json_t *prov, const struct sim_metrics *m, double wall_s, bool trace_looped)
{
    json_t *o = json_copy(prov);
    set_metrics(o, m, wall_s);
    json_object_set_new(o, "trace_looped", json_boolean(trace_looped));
    return o;
}

int repro_metrics_check(const struct sim_metrics *m, const struct sim_config *c, char *why,
                        size_t len)
{
    if (m->measured_s <= 0) {
        snprintf(why, len,
                 "nothing was measured: the measured phase (%llu packets, after %llu of warm-up, "
                 "with %u clients) lasted 0 s of simulated time, so there is no rate to report; "
                 "warm up or measure longer (--warmup, --measure)",
                 (unsigned long long)c->measure_packets, (unsigned long long)c->warmup_packets,
                 sim_config_clients(c));
        return -1;
    }
    if (m->requests == 0) {
        snprintf(why, len,
                 "no request completed in the measured phase (%.6f s of simulated time, %llu "
                 "packets after %llu of warm-up), so every rate would be 0; warm up or measure "
                 "longer (--warmup, --measure)",
                 m->measured_s, (unsigned long long)c->measure_packets,
                 (unsigned long long)c->warmup_packets);
        return -1;
    }
    return 0;
}

void repro_metrics_from_json(const json_t *j, struct sim_metrics *m, double *wall_s)
{
    memset(m, 0, sizeof *m);
#define GET_REAL(k) m->k = json_number_value(json_object_get(j, #k));
#define GET_INT(k)  m->k = (uint64_t)json_integer_value(json_object_get(j, #k));
    REAL_FIELDS(GET_REAL)
    INT_FIELDS(GET_INT)
    const json_t *qs = json_object_get(j, "nic_queues");
    for (int q = 0; q < HO_SCHED_NQUEUES; q++) {
        const json_t *x = json_object_get(qs, ho_sched_queue_name((enum ho_sched_queue)q));
        m->nic_queue[q] = (struct sim_queue_metrics){
            .mean_wait_us = json_number_value(json_object_get(x, "mean_wait_us")),
            .taken = (uint64_t)json_integer_value(json_object_get(x, "taken")),
            .dropped = (uint64_t)json_integer_value(json_object_get(x, "dropped")),
            .max_len = (uint32_t)json_integer_value(json_object_get(x, "max_len")),
        };
    }
    *wall_s = json_number_value(json_object_get(j, "wall_seconds"));
}

void repro_write_sample(void *ctx, const struct sim_sample *s)
{
    FILE *f = ctx;
    fprintf(f, "%.3f,%u,%u,%u,%.4f,%.4f,%u\n", s->t_s, s->soft_limit, s->cnum, s->nic_rxq,
            s->host_busy, s->nic_busy, s->requests);
}
