/*
 * bench_sim_run.c - the simulator's speed and memory on the paper's model: simulated packets
 * per wall-clock second and peak memory for W-4096-P-L-FCFS-400 with the paper's 2048 clients,
 * and with 10x and 100x as many. Each run is a child process, so each peak is its own.
 *
 * Goals (issue 4): a full 1,000,000-packet run in under 1 s on one core, per-packet cost that
 * does not grow with the number of connections, and under 4 KB of memory per connection.
 * Built and run by `make bench`.
 */
#define _DEFAULT_SOURCE /* wait4 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "handoff/sim_config.h"
#include "handoff/sim_world.h"

static int run_child(uint32_t clients, int fd)
{
    struct sim_config c;
    struct sim_config_err e;
    if (sim_config_load(&c, "W-4096-P-L-FCFS-400", &e) != 0) {
        return 1;
    }
    c.clients = clients;
    struct sim_world *w;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (sim_world_create(&c, &w, &e) != 0 || sim_world_run(w, 0, NULL, NULL, NULL, &e) != 0) {
        fprintf(stderr, "bench_sim_run: %s\n", e.msg);
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    struct sim_metrics m;
    sim_world_metrics(w, &m);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    double line[3] = {wall, (double)m.events, m.requests_per_s};
    if (write(fd, line, sizeof line) != (ssize_t)sizeof line) {
        return 1;
    }
    sim_world_destroy(w);
    return 0;
}

int main(void)
{
    const uint32_t clients[3] = {2048, 20480, 204800};
    const double packets = 1000000; /* the paper's 400,000 + 600,000 */
    printf("simulator, W-4096-P-L-FCFS-400, %.0f packets (warm-up + measured), one core\n",
           packets);
    printf("  %8s %9s %14s %12s %12s %10s %14s\n", "clients", "wall s", "packets/s", "events/s",
           "ns/packet", "peak MB", "bytes/client");
    double base_rss = 0;
    for (int i = 0; i < 3; i++) {
        int p[2];
        if (pipe(p) != 0) {
            return 1;
        }
        pid_t pid = fork();
        if (pid == 0) {
            close(p[0]);
            _exit(run_child(clients[i], p[1]));
        }
        close(p[1]);
        double line[3];
        ssize_t n = read(p[0], line, sizeof line);
        close(p[0]);
        int st;
        struct rusage ru;
        if (wait4(pid, &st, 0, &ru) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 ||
            n != (ssize_t)sizeof line) {
            fprintf(stderr, "bench_sim_run: the run with %u clients failed\n", clients[i]);
            return 1;
        }
        double rss = (double)ru.ru_maxrss * 1024; /* Linux reports KB */
        if (i == 0) {
            base_rss = rss;
        }
        double per_client = i == 0 ? 0 : (rss - base_rss) / (double)(clients[i] - clients[0]);
        char pc[32];
        snprintf(pc, sizeof pc, i == 0 ? "-" : "%.0f", per_client);
        printf("  %8u %9.3f %14.0f %12.0f %12.0f %10.1f %14s\n", clients[i], line[0],
               packets / line[0], line[1] / line[0], 1e9 * line[0] / packets, rss / 1e6, pc);
    }
    printf("  (bytes/client: growth of peak memory per added client over the 2048-client run)\n");
    return 0;
}
