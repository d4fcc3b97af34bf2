/*
 * workload_stats.h - summary statistics of a workload: request and connection counts, response
 * sizes, status and method mix, requests per connection, and the connection-lifetime
 * distribution the paper plots in Figure 4.
 *
 * An accumulator is fed one request at a time and told where connections end, so the same code
 * summarises a trace (ho_wl_stats_of_trace) and any number of connections pulled from a
 * synthetic workload, which is how the tests check the generators against the paper's shape.
 *
 * Lifetime distribution: connections are ranked by the packets the server sends on them
 * (ho_wl_resp_packets summed over their responses), as in Figure 4, and the curves give the
 * cumulative share of all sent packets and bytes carried by the shortest k % of connections.
 */
#ifndef HANDOFF_WORKLOAD_STATS_H
#define HANDOFF_WORKLOAD_STATS_H

#include <stdint.h>

#include "handoff/workload.h"

struct ho_trace;

/* Distinct status codes counted one by one; the rest are lumped into status_other. */
#define HO_WL_STATS_MAX_STATUS 16

struct ho_wl_stats {
    uint64_t requests;     /* all requests */
    uint64_t connections;  /* connections (persistent connections / sessions) */
    uint64_t sized;        /* requests with a known response size (the rest: unknown_size) */
    uint64_t unknown_size; /* requests with size HO_REQ_SIZE_UNKNOWN, left out of sizes */
    uint64_t bytes;        /* response body bytes of the sized requests */
    uint64_t packets;      /* server packets by ho_wl_resp_packets over the sized requests */
    uint64_t upload_bytes; /* request body bytes */

    double size_mean;     /* bytes per sized request */
    uint32_t size_median; /* nearest-rank percentiles of the sized requests' sizes */
    uint32_t size_p90;
    uint32_t size_p99;
    uint32_t size_max;

    uint16_t status_code[HO_WL_STATS_MAX_STATUS]; /* the first distinct codes seen, ascending */
    uint64_t status_count[HO_WL_STATS_MAX_STATUS];
    unsigned nstatus;      /* entries used in the two arrays above */
    uint64_t status_other; /* requests with a code beyond the first HO_WL_STATS_MAX_STATUS */

    uint64_t method_count[HO_METHOD_COUNT];
    uint64_t kind_count[HO_REQ_KIND_COUNT];

    double reqs_per_conn_mean;
    uint32_t reqs_per_conn_median;
    uint32_t reqs_per_conn_p90;
    uint32_t reqs_per_conn_max;

    /* Figure 4: cdf_*[k] is the share (0..1) of all sent packets / bytes carried by the
     * floor(k * connections / 10) connections that sent the fewest packets, k = 0..10. */
    double cdf_packets[11];
    double cdf_bytes[11];
    double bottom50_packet_share; /* == cdf_packets[5] */
    double bottom50_byte_share;   /* == cdf_bytes[5] */
    double top10_packet_share;    /* == 1 - cdf_packets[9] */
    double top10_byte_share;      /* == 1 - cdf_bytes[9] */
};

struct ho_wl_stats_acc;

/* Creates an empty accumulator. Returns HO_OK or HO_ENOMEM. */
int ho_wl_stats_acc_create(struct ho_wl_stats_acc **out);
/* Frees it (NULL is fine). */
void ho_wl_stats_acc_free(struct ho_wl_stats_acc *a);
/* Adds one request to the current connection. Returns HO_OK or HO_ENOMEM. */
int ho_wl_stats_acc_req(struct ho_wl_stats_acc *a, const struct ho_req *r);
/* Ends the current connection (does nothing if it has no requests). Returns HO_OK/HO_ENOMEM. */
int ho_wl_stats_acc_end_conn(struct ho_wl_stats_acc *a);
/* Ends the current connection and computes the summary into *out. The accumulator may not be
 * used afterwards except to free it. Returns HO_OK or HO_ENOMEM. */
int ho_wl_stats_acc_finish(struct ho_wl_stats_acc *a, struct ho_wl_stats *out);

/* Summarises a whole trace. Returns HO_OK or HO_ENOMEM. */
int ho_wl_stats_of_trace(const struct ho_trace *t, struct ho_wl_stats *out);

/* Summarises `connections` connections pulled round-robin by the workload's clients. Returns
 * HO_OK, HO_ENOMEM, or an error of ho_wl_next_conn. */
int ho_wl_stats_of_workload(struct ho_wl *wl, uint32_t clients, uint64_t connections,
                            struct ho_wl_stats *out);

#endif
