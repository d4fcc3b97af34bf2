/*
 * test_world.c - whole simulated runs: they finish, pass their conservation checks, report
 * consistent metrics, the same seed gives the same results, and once drained (the clients
 * stop) every request outstanding completes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "handoff/sim_config.h"
#include "handoff/sim_time.h"
#include "handoff/sim_world.h"

static void small_run(const char *shorthand, uint64_t seed, struct sim_metrics *m)
{
    struct sim_config c;
    struct sim_config_err e = {{0}};
    assert_int_equal(sim_config_load(&c, shorthand, &e), 0);
    c.clients = 128;
    c.warmup_packets = 5000;
    c.measure_packets = 20000;
    c.seed = seed;
    struct sim_world *w;
    if (sim_world_create(&c, &w, &e) != 0 || sim_world_run(w, 0, NULL, NULL, NULL, &e) != 0) {
        fail_msg("%s: %s", shorthand, e.msg);
    }
    sim_world_metrics(w, m);
    sim_world_destroy(w);
}

static void test_every_workload_runs(void **state)
{
    (void)state;
    const char *configs[] = {"W-0-N-N-FCFS-400", "I-0-N-N-FCFS-400", "D-0-N-N-FCFS-400",
                             "S-0-N-N-FCFS-400"};
    for (size_t i = 0; i < 4; i++) {
        struct sim_metrics m;
        small_run(configs[i], 1, &m);
        assert_true(m.packets == 20000);
        assert_true(m.requests > 0);
        assert_true(m.measured_s > 0);
        double total = m.host_user_pct + m.host_os_pct + m.host_idle_pct;
        assert_true(total > 99.9 && total < 100.1);
        assert_true(m.host_net_pct <= m.host_os_pct);
        assert_true(m.nic_idle_pct >= 0 && m.nic_idle_pct <= 100);
        assert_true(m.mean_response_ms > 0);
        assert_true(m.host_recv_delay_median_us > 0);
        assert_true(m.stalled_requests == 0);
        /* Packet rate and request rate agree with the packets and requests counted. */
        assert_true(m.packets_per_s * m.measured_s > 19999 &&
                    m.packets_per_s * m.measured_s < 20001);
    }
}

static void test_same_seed_same_results(void **state)
{
    (void)state;
    struct sim_metrics a, b, c;
    small_run("W-0-N-N-FCFS-400", 7, &a);
    small_run("W-0-N-N-FCFS-400", 7, &b);
    small_run("W-0-N-N-FCFS-400", 8, &c);
    assert_memory_equal(&a, &b, sizeof a);
    assert_true(a.requests != c.requests || a.measured_s != c.measured_s);
}

/* More clients than the cache holds connection state for: more DRAM accesses per packet. */
static void test_cache_pressure_grows_with_connections(void **state)
{
    (void)state;
    struct sim_config c;
    struct sim_config_err e = {{0}};
    double misses[2];
    const uint32_t clients[2] = {64, 4096};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(sim_config_load(&c, "W-0-N-N-FCFS-400", &e), 0);
        c.clients = clients[i];
        c.warmup_packets = 30000;
        c.measure_packets = 30000;
        struct sim_world *w;
        assert_int_equal(sim_world_create(&c, &w, &e), 0);
        if (sim_world_run(w, 0, NULL, NULL, NULL, &e) != 0) {
            fail_msg("%s", e.msg);
        }
        struct sim_metrics m;
        sim_world_metrics(w, &m);
        sim_world_destroy(w);
        misses[i] = m.host_misses_per_packet;
    }
    assert_true(misses[1] > misses[0] + 1.0);
}

/*
 * Runs with handoff: connections move to the NIC and back out as they end, the NIC's TCP
 * carries traffic, every run passes the ownership and conservation checks, and the mechanisms
 * of section 3 show: host-first scheduling keeps host packets from waiting behind NIC work, and
 * load control keeps Cnum under a Soft limit below Hard limit.
 */
static void test_handoff_runs(void **state)
{
    (void)state;
    struct sim_metrics fcfs, prio, lc;
    struct sim_config c;
    struct sim_config_err e = {{0}};
    const char *names[3] = {"W-4096-N-N-FCFS-400", "W-4096-P-N-FCFS-400", "W-4096-P-L-FCFS-400"};
    struct sim_metrics *out[3] = {&fcfs, &prio, &lc};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sim_config_load(&c, names[i], &e), 0);
        c.clients = 512;
        c.warmup_packets = 20000;
        c.measure_packets = 40000;
        c.hiwat = 64;
        c.lowat = 16;
        struct sim_world *w;
        assert_int_equal(sim_world_create(&c, &w, &e), 0);
        if (sim_world_run(w, 0, NULL, NULL, NULL, &e) != 0) {
            fail_msg("%s: %s", names[i], e.msg);
        }
        sim_world_metrics(w, out[i]);
        sim_world_destroy(w);
        assert_true(out[i]->nic_packet_share > 0.05);
        assert_true(out[i]->nic_connection_share > 0 && out[i]->nic_connection_share <= 1.0);
        assert_true(out[i]->requests > 0);
        if (out[i]->stalled_requests != 0) {
            fail_msg("%s: %llu requests stalled", names[i],
                     (unsigned long long)out[i]->stalled_requests);
        }
    }
    assert_true(fcfs.host_recv_delay_median_us > 5 * prio.host_recv_delay_median_us);
    assert_true(lc.soft_limit_mean < 4096);
    assert_true(lc.nic_connections_mean <= lc.soft_limit_mean + 16);
}

/*
 * Threshold selection hands connections off mid-response, while requests are arriving: packets
 * the NIC classified as host packets before it imported the connection can reach the host
 * after the NIC's reply, and must still reach the connection (forwarded to the NIC), never the
 * host's stack (which would reset it). A reset fails the run.
 */
static void test_handoff_mid_stream_races(void **state)
{
    (void)state;
    const char *names[2] = {"W-256-P-L-T2-400", "S-256-P-L-T2-400"};
    for (int i = 0; i < 2; i++) {
        for (uint64_t seed = 1; seed <= 3; seed++) {
            struct sim_config c;
            struct sim_config_err e = {{0}};
            assert_int_equal(sim_config_load(&c, names[i], &e), 0);
            c.clients = 1024;
            c.warmup_packets = 20000;
            c.measure_packets = 60000;
            c.seed = seed;
            struct sim_world *w;
            assert_int_equal(sim_world_create(&c, &w, &e), 0);
            if (sim_world_run(w, 0, NULL, NULL, NULL, &e) != 0) {
                fail_msg("%s seed %llu: %s", names[i], (unsigned long long)seed, e.msg);
            }
            struct sim_metrics m;
            sim_world_metrics(w, &m);
            sim_world_destroy(w);
            assert_true(m.nic_connection_share > 0.02);
            assert_int_equal(m.stalled_requests, 0);
        }
    }
}

/*
 * The NIC's cycles add up (host packets + its TCP + messages + idle = 100 %), and scaling its own
 * costs (cost.nic_scale_pct) scales what its TCP and messages take per packet, and nothing else.
 */
static void test_nic_cost_accounting(void **state)
{
    (void)state;
    struct sim_metrics m[2];
    const char *specs[2] = {"W-256-N-N-FCFS-400", "W-256-N-N-FCFS-400,cost.nic_scale_pct=200"};
    for (int i = 0; i < 2; i++) {
        small_run(specs[i], 3, &m[i]);
        double sum = m[i].nic_host_pct + m[i].nic_tcp_pct + m[i].nic_msg_pct + m[i].nic_idle_pct;
        assert_true(sum > 99.99 && sum < 100.01);
        assert_true(m[i].nic_tcp_pct > 0 && m[i].nic_msg_pct > 0 && m[i].nic_host_pct > 0);
    }
    /* Per NIC packet, the NIC's own work doubles; per host packet its work is unchanged. */
    double own0 =
        (m[0].nic_tcp_pct + m[0].nic_msg_pct) / (m[0].nic_packet_share * m[0].packets_per_s);
    double own1 =
        (m[1].nic_tcp_pct + m[1].nic_msg_pct) / (m[1].nic_packet_share * m[1].packets_per_s);
    double host0 = m[0].nic_host_pct / ((1 - m[0].nic_packet_share) * m[0].packets_per_s);
    double host1 = m[1].nic_host_pct / ((1 - m[1].nic_packet_share) * m[1].packets_per_s);
    assert_true(own1 / own0 > 1.8 && own1 / own0 < 2.2);
    assert_true(host1 / host0 > 0.95 && host1 / host0 < 1.05);
}

/*
 * A load step (step.nic_mips_at_ms): a NIC that drops from 400 to 100 MIPS in the first
 * millisecond measures as one that ran at 100 MIPS throughout, not as one at 400.
 */
static void test_nic_rate_step(void **state)
{
    (void)state;
    struct sim_metrics step, slow, fast;
    small_run("W-1024-P-N-FCFS-400,step.nic_mips_at_ms=1,step.nic_mips=100", 4, &step);
    small_run("W-1024-P-N-FCFS-100", 4, &slow);
    small_run("W-1024-P-N-FCFS-400", 4, &fast);
    assert_true(fast.requests_per_s > 1.5 * slow.requests_per_s);
    double r = step.requests_per_s / slow.requests_per_s;
    assert_true(r > 0.95 && r < 1.05);
    assert_true(step.requests_per_s < 0.5 * fast.requests_per_s);
}

/*
 * The NIC's queue record (nic_queues): the bounded queues never hold more than their room, the
 * items taken add up to the NIC's packets, and the disciplines show in the waits: under FCFS a
 * received host packet waits about as long as a received NIC packet (both wait for everything
 * before them); host-first lets it pass, so it waits a small fraction of that.
 */
static void test_nic_queue_record(void **state)
{
    (void)state;
    struct sim_metrics fcfs, hf;
    small_run("W-1024-N-N-FCFS-400,nic.mips=100", 5, &fcfs);
    small_run("W-1024-P-N-FCFS-400,nic.mips=100", 5, &hf);
    const struct sim_metrics *ms[2] = {&fcfs, &hf};
    for (int i = 0; i < 2; i++) {
        const struct sim_queue_metrics *q = ms[i]->nic_queue;
        assert_true(q[HO_SCHED_HOST_RX].max_len + q[HO_SCHED_NIC_RX].max_len <= 2 * 2048);
        assert_true(q[HO_SCHED_HOST_RX].max_len <= 2048 && q[HO_SCHED_NIC_RX].max_len <= 2048);
        assert_true(q[HO_SCHED_HOST_TX].max_len <= 512);
        for (int k = 0; k < HO_SCHED_NQUEUES; k++) {
            assert_true(q[k].taken > 0);
        }
        /* Each NIC packet the meter counts was taken from nic_rx or nic_tx (nic_tx also holds
         * messages to the driver). */
        double nic_pkts = ms[i]->nic_packet_share * (double)ms[i]->packets;
        assert_true((double)(q[HO_SCHED_NIC_RX].taken + q[HO_SCHED_NIC_TX].taken) >= nic_pkts);
    }
    const struct sim_queue_metrics *f = fcfs.nic_queue, *h = hf.nic_queue;
    assert_true(f[HO_SCHED_NIC_RX].mean_wait_us > 100);
    assert_true(f[HO_SCHED_HOST_RX].mean_wait_us > 0.5 * f[HO_SCHED_NIC_RX].mean_wait_us);
    assert_true(h[HO_SCHED_NIC_RX].mean_wait_us > 100);
    assert_true(h[HO_SCHED_HOST_RX].mean_wait_us < 0.1 * h[HO_SCHED_NIC_RX].mean_wait_us);
}

/*
 * Segments the NIC's TCP sends from its timers (retransmissions after drops, delayed ACKs) wake
 * the firmware like any other work: the NIC never sits idle with work queued, and once the
 * clients stop, every request outstanding completes. In the first run a small receive memory
 * drops the clients' packets, so the NIC's connections retransmit on their timers, often while
 * the NIC is otherwise idle; the run samples every 20 us, and each sample checks that the NIC is
 * busy or has nothing queued. The second run ends with NIC connections retransmitting; when the
 * clients stop, nothing else arrives to wake the NIC, and the drain would wait for ever (no
 * packet on the wire for 60 s) if those retransmissions did not wake it.
 */
static void test_nic_timer_output_wakes_the_nic(void **state)
{
    (void)state;
    const struct {
        const char *spec;
        uint64_t sample_ns;
    } runs[2] = {
        {"W-1024-N-N-FCFS-400,run.clients=128,nic.rx_queue=16,run.warmup_packets=2000,"
         "run.measure_packets=100000",
         20000},
        {"S-4096-P-L-T18-73,run.seed=15625533446949976598,run.warmup_packets=2984,"
         "run.measure_packets=24379,run.clients=1721,nic.rx_queue=2500,tcp.rcvbuf=138027,"
         "tcp.delack_ns=441088,wire.rate_bps=7688053515,wire.delay_ns=0",
         0},
    };
    for (int i = 0; i < 2; i++) {
        struct sim_config c;
        struct sim_config_err e = {{0}};
        assert_int_equal(sim_config_load(&c, runs[i].spec, &e), 0);
        struct sim_world *w;
        assert_int_equal(sim_world_create(&c, &w, &e), 0);
        if (sim_world_run(w, runs[i].sample_ns, NULL, NULL, NULL, &e) != 0) {
            sim_world_destroy(w);
            fail_msg("%s: %s", runs[i].spec, e.msg);
        }
        struct sim_metrics m;
        sim_world_metrics(w, &m);
        int left = sim_world_drain(w, 200 * 1000000000ull, &e);
        sim_world_destroy(w);
        if (left != 0) {
            fail_msg("%s: %d requests left after draining: %s", runs[i].spec, left,
                     left < 0 ? e.msg : "");
        }
        if (i == 0) { /* the case it is about: NIC connections, drops, retransmissions */
            assert_true(m.nic_connection_share > 0);
            assert_true(m.nic_rx_drops > 0 && m.nic_retransmits > 0);
        }
    }
}

/*
 * sim_world_drain: only a finished run can be drained; once the clients stop, every request
 * outstanding completes, and the world then holds none.
 */
static void test_drain(void **state)
{
    (void)state;
    struct sim_config c;
    struct sim_config_err e = {{0}};
    assert_int_equal(sim_config_load(&c, "W-256-P-L-T2-400", &e), 0);
    c.clients = 256;
    c.warmup_packets = 5000;
    c.measure_packets = 20000;
    struct sim_world *w;
    assert_int_equal(sim_world_create(&c, &w, &e), 0);
    assert_int_equal(sim_world_drain(w, 1000000000ull, &e), -1);
    assert_true(strstr(e.msg, "finished") != NULL);
    if (sim_world_run(w, 0, NULL, NULL, NULL, &e) != 0) {
        sim_world_destroy(w);
        fail_msg("%s", e.msg);
    }
    /* With 256 closed-loop clients, requests are in progress when the run ends. */
    assert_true(sim_world_outstanding(w) > 0);
    assert_int_equal(sim_world_drain(w, 60 * 1000000000ull, &e), 0);
    assert_int_equal(sim_world_outstanding(w), 0);
    sim_world_destroy(w);
}

/*
 * A request is stalled when it stops moving, not when it is long: a 2 MB response through a
 * 5.6 KB send buffer over a 2.6 ms wire takes about two seconds, far more than 20 mean response
 * times, while its bytes keep arriving. Nothing is lost in this run (no drop, no retransmission),
 * so it must count no stalled request.
 */
static void test_long_response_is_not_stalled(void **state)
{
    (void)state;
    const char *spec = "W-4096-N-N-FCFS-192,run.seed=11782861648956386626,run.warmup_packets=4295,"
                       "run.measure_packets=18606,run.clients=16,nic.rx_queue=202,"
                       "cost.nic_scale_pct=62,tcp.sndbuf=5674,tcp.rcvbuf=44541,"
                       "tcp.delack_ns=17243389,wire.rate_bps=352421967,wire.delay_ns=2624946";
    struct sim_config c;
    struct sim_config_err e = {{0}};
    assert_int_equal(sim_config_load(&c, spec, &e), 0);
    struct sim_world *w;
    assert_int_equal(sim_world_create(&c, &w, &e), 0);
    if (sim_world_run(w, 0, NULL, NULL, NULL, &e) != 0) {
        sim_world_destroy(w);
        fail_msg("%s", e.msg);
    }
    struct sim_metrics m;
    sim_world_metrics(w, &m);
    sim_world_destroy(w);
    assert_int_equal(m.nic_rx_drops, 0);
    assert_int_equal(m.retransmits, 0);
    assert_true(m.measured_s > 20 * m.mean_response_ms / 1e3 + 0.5); /* long enough to tell */
    assert_int_equal(m.stalled_requests, 0);
}

/*
 * Faults (docs/failures.md), one run each of the paper's W-1024-P-L-FCFS-400 with 800 ms of
 * simulated time before the fault and enough after it. The run's own checks hold (every packet
 * in one place, every response exactly its bytes, no connection owned by both sides or by
 * neither), nothing stalls, and requests per 100 ms are back to 95 % of their rate before the
 * fault within the bound docs/failures.md states: 500 ms (measured: reset 360, refusal 100).
 * A reset is noticed by its FW_UP within microseconds, and every connection the NIC held comes
 * back to the host, none reset.
 */
static void fault_run(const char *spec, struct sim_metrics *m)
{
    struct sim_config c;
    struct sim_config_err e = {{0}};
    assert_int_equal(sim_config_load(&c, spec, &e), 0);
    c.warmup_packets = 20000;
    c.measure_packets = 300000;
    struct sim_world *w;
    assert_int_equal(sim_world_create(&c, &w, &e), 0);
    if (sim_world_run(w, 0, NULL, NULL, NULL, &e) != 0) {
        fail_msg("%s: %s", spec, e.msg);
    }
    sim_world_metrics(w, m);
    int lost = sim_world_drain(w, 200 * SIM_NS_PER_S, &e);
    sim_world_destroy(w);
    if (lost != 0) {
        fail_msg("%s: %d requests never completed (%s)", spec, lost, lost < 0 ? e.msg : "");
    }
}

static void test_fault_nic_reset(void **state)
{
    (void)state;
    struct sim_metrics m;
    fault_run("W-1024-P-L-FCFS-400,fault.nic_reset_at_ms=800", &m);
    assert_int_equal(m.nic_faults_detected, 1);
    assert_true(m.nic_lost_conns > 500); /* the NIC held about a thousand */
    assert_true(m.conns_recovered >= m.nic_lost_conns);
    assert_int_equal(m.conns_reset, 0);
    assert_true(m.fault_detect_ms >= 0 && m.fault_detect_ms < 1);
    assert_true(m.fault_recovery_ms >= 0 && m.fault_recovery_ms <= 500);
    assert_int_equal(m.stalled_requests, 0);
    /* Without handoff a reset costs the packets on the NIC's queues and nothing else. */
    fault_run("W-0-N-N-FCFS-400,fault.nic_reset_at_ms=800", &m);
    assert_int_equal(m.nic_faults_detected, 1);
    assert_int_equal(m.nic_lost_conns, 0);
    assert_int_equal(m.conns_recovered, 0);
    assert_true(m.fault_recovery_ms >= 0 && m.fault_recovery_ms <= 500);
}

static void test_fault_refuse(void **state)
{
    (void)state;
    struct sim_metrics m;
    fault_run("W-1024-P-L-FCFS-400,fault.refuse_at_ms=800", &m);
    assert_int_equal(m.nic_faults_detected, 0);
    assert_int_equal(m.conns_recovered, 0);
    assert_true(m.fault_recovery_ms >= 0 && m.fault_recovery_ms <= 500);
    assert_int_equal(m.stalled_requests, 0);
}

/* A hung NIC (its processor stops): the driver's watchdog notices it within os.watchdog_ms and
 * resets it, and every connection comes back as after a crash. A hang shorter than the watchdog
 * is ridden out: the NIC resumes, TCP retransmits what its full receive memory dropped. */
static void test_fault_nic_hang(void **state)
{
    (void)state;
    struct sim_metrics m;
    fault_run("W-1024-P-L-FCFS-400,fault.nic_hang_at_ms=800,fault.nic_hang_ms=2000,"
              "os.watchdog_ms=100",
              &m);
    assert_int_equal(m.nic_watchdog_resets, 1);
    assert_int_equal(m.nic_faults_detected, 1);
    assert_true(m.fault_detect_ms > 0 && m.fault_detect_ms <= 100);
    assert_true(m.nic_lost_conns > 500);
    assert_true(m.conns_recovered >= m.nic_lost_conns);
    assert_int_equal(m.conns_reset, 0);
    assert_true(m.fault_recovery_ms >= 0 && m.fault_recovery_ms <= 500);
    assert_int_equal(m.stalled_requests, 0);
    fault_run("W-1024-P-L-FCFS-400,fault.nic_hang_at_ms=800,fault.nic_hang_ms=30,"
              "os.watchdog_ms=100",
              &m);
    assert_int_equal(m.nic_watchdog_resets, 0);
    assert_int_equal(m.nic_faults_detected, 0);
    assert_true(m.nic_rx_drops > 0);
    assert_true(m.fault_recovery_ms >= 0 && m.fault_recovery_ms <= 500);
}

/* Chimney-like: the NIC gives every connection back unasked, or the host asks for all of them
 * (as before a firmware update); every one comes back and the run's checks hold. */
static void test_fault_upload_and_reclaim(void **state)
{
    (void)state;
    struct sim_metrics m;
    fault_run("W-1024-P-L-FCFS-400,fault.nic_upload_at_ms=800", &m);
    assert_true(m.conns_uploaded > 500);
    assert_int_equal(m.conns_restored, m.conns_uploaded);
    assert_int_equal(m.nic_faults_detected, 0);
    assert_true(m.fault_recovery_ms >= 0 && m.fault_recovery_ms <= 500);
    assert_int_equal(m.stalled_requests, 0);
    fault_run("W-1024-P-L-FCFS-400,fault.host_reclaim_at_ms=800", &m);
    assert_true(m.conns_restored > 500);
    assert_int_equal(m.conns_uploaded, 0);
    assert_true(m.fault_recovery_ms >= 0 && m.fault_recovery_ms <= 500);
    assert_int_equal(m.stalled_requests, 0);
}

static void test_fault_wire_drop(void **state)
{
    (void)state;
    struct sim_metrics m;
    /* 5 ms of a dead wire: TCP recovers every connection by retransmission (the drain checks
     * every request completes). */
    fault_run("W-1024-P-L-FCFS-400,fault.wire_drop_at_ms=800,fault.wire_drop_ms=5", &m);
    assert_true(m.wire_dropped > 500); /* some 224,000 frames a second cross */
    assert_true(m.retransmits > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fault_nic_reset),
        cmocka_unit_test(test_fault_refuse),
        cmocka_unit_test(test_fault_nic_hang),
        cmocka_unit_test(test_fault_upload_and_reclaim),
        cmocka_unit_test(test_fault_wire_drop),
        cmocka_unit_test(test_every_workload_runs),
        cmocka_unit_test(test_same_seed_same_results),
        cmocka_unit_test(test_cache_pressure_grows_with_connections),
        cmocka_unit_test(test_handoff_runs),
        cmocka_unit_test(test_nic_cost_accounting),
        cmocka_unit_test(test_nic_queue_record),
        cmocka_unit_test(test_nic_rate_step),
        cmocka_unit_test(test_handoff_mid_stream_races),
        cmocka_unit_test(test_nic_timer_output_wakes_the_nic),
        cmocka_unit_test(test_long_response_is_not_stalled),
        cmocka_unit_test(test_drain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
