/*
 * flush_bench: what one output flush of a 1,000-record chunk costs across
 * the flb-rs C ABI, from the caller's side.
 *
 * It plays the host for the `rs_test_count` output (from the testkit build)
 * and times `flush` calls with a realistic chunk (Kubernetes-style records,
 * ~330 bytes each): once with decode=off, which measures the boundary alone
 * (copy of the chunk, hand-off to the instance's thread, wake-up, reply),
 * once with decode=on, which adds reading every field of every record.
 * Prints the median of several rounds, per flush and per record.
 *
 * Usage: flush_bench [rounds] [flushes-per-round]
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flb_rs.h"
#include "mp.h"

#define RECORDS 1000

struct props {
    const char *kv[4][2];
    size_t n;
};

static void host_log(void *h, int level, const char *msg, size_t len)
{
    (void) h;
    if (level <= FLB_RS_LOG_ERROR) {
        fprintf(stderr, "[bench] %.*s\n", (int) len, msg);
    }
}

static int host_level(void *h)
{
    (void) h;
    return FLB_RS_LOG_ERROR;
}

static size_t prop_count(void *h)
{
    return ((struct props *) h)->n;
}

static int prop_at(void *h, size_t i, const char **k, const char **v)
{
    struct props *p = h;
    if (i >= p->n) {
        return -1;
    }
    *k = p->kv[i][0];
    *v = p->kv[i][1];
    return 0;
}

static const flb_rs_host_api api = {
    .abi_major = FLB_RS_ABI_MAJOR,
    .abi_minor = FLB_RS_ABI_MINOR,
    .struct_size = sizeof(flb_rs_host_api),
    .log = host_log,
    .log_level = host_level,
    .property_count = prop_count,
    .property_at = prop_at,
};

static void build_chunk(mp_buf *b)
{
    char line[160];
    for (uint32_t i = 0; i < RECORDS; i++) {
        mp_array(b, 2);
        mp_array(b, 2);
        mp_event_time(b, 1700000000 + i, 123456789);
        mp_map(b, 0);
        mp_map(b, 5);
        snprintf(line, sizeof(line),
                 "2026-11-24T23:00:00.%06u GET /api/v1/items?page=%u 200 "
                 "1532 bytes in 12ms from 10.1.2.3 user-agent=curl/8.5", i, i);
        mp_str(b, "log");
        mp_str(b, line);
        mp_str(b, "stream");
        mp_str(b, "stdout");
        mp_str(b, "level");
        mp_str(b, "info");
        mp_str(b, "seq");
        mp_uint(b, i);
        mp_str(b, "kubernetes");
        mp_map(b, 3);
        mp_str(b, "pod_name");
        mp_str(b, "web-7d9c5b6f4d-x2k8p");
        mp_str(b, "namespace_name");
        mp_str(b, "production");
        mp_str(b, "container_name");
        mp_str(b, "nginx");
    }
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

static int run(const char *decode, int rounds, int per_round, const mp_buf *chunk)
{
    const flb_rs_plugin *p = flb_rs_plugin_find(FLB_RS_KIND_OUTPUT, "rs_test_count");
    struct props props = {{{"decode", decode}}, 1};
    flb_rs_instance *ins = NULL;
    char err[256];
    double *us = calloc((size_t) rounds, sizeof(double));

    if (!p || !us || p->create(p, &api, &props, &ins, err, sizeof(err)) != FLB_RS_OK) {
        fprintf(stderr, "cannot create rs_test_count (built without --features testkit?) %s\n",
                p ? err : "");
        free(us);
        return 1;
    }
    /* Warm-up: thread start, first allocations. */
    for (int i = 0; i < 50; i++) {
        p->flush(ins, "bench", 5, chunk->data, chunk->len);
    }
    for (int r = 0; r < rounds; r++) {
        double t0 = now_us();
        for (int i = 0; i < per_round; i++) {
            if (p->flush(ins, "bench", 5, chunk->data, chunk->len) != FLB_RS_OK) {
                fprintf(stderr, "flush failed\n");
                return 1;
            }
        }
        us[r] = (now_us() - t0) / per_round;
    }
    qsort(us, (size_t) rounds, sizeof(double), cmp_double);
    printf("decode=%-3s  per flush: median %8.1f us (min %8.1f, max %8.1f)   per record: %6.1f ns\n",
           decode, us[rounds / 2], us[0], us[rounds - 1], us[rounds / 2] * 1000.0 / RECORDS);
    p->destroy(ins);
    free(us);
    return 0;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 15;
    int per_round = argc > 2 ? atoi(argv[2]) : 200;
    char err[256];
    mp_buf chunk;

    if (rounds < 1 || per_round < 1) {
        fprintf(stderr, "usage: flush_bench [rounds] [flushes-per-round]\n");
        return 2;
    }
    if (flb_rs_register(&api, err, sizeof(err)) != FLB_RS_OK) {
        fprintf(stderr, "register: %s\n", err);
        return 1;
    }
    mp_init(&chunk);
    build_chunk(&chunk);
    printf("chunk: %d records, %zu bytes; %d rounds of %d flushes\n",
           RECORDS, chunk.len, rounds, per_round);
    if (run("off", rounds, per_round, &chunk) || run("on", rounds, per_round, &chunk)) {
        mp_free(&chunk);
        return 1;
    }
    mp_free(&chunk);
    return 0;
}
