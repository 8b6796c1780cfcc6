/*
 * flb_rs_shim_input.c: Fluent Bit's input plugin callbacks for every Rust
 * input.
 *
 * The library's threads queue records and make a descriptor readable; a
 * collector event on that descriptor calls `collect`, which appends the
 * records through flb_rs_shim_append on the input's own thread. Pausing
 * the input pauses the collector, so the library's bounded queue fills and
 * its threads stop reading their sources.
 */

#include <poll.h>
#include <time.h>

#include <fluent-bit/flb_engine.h>
#include <fluent-bit/flb_input_plugin.h>
#include <fluent-bit/flb_io.h>

#include "flb_rs_shim.h"

int flb_rs_shim_append(void *host_ins, const char *tag, size_t tag_len,
                       const uint8_t *data, size_t len)
{
    struct flb_rs_shim_ctx *ctx = host_ins;

    if (ctx == NULL || ctx->ins == NULL) {
        return -1;
    }
    return flb_input_log_append(ctx->ins, tag, tag_len, data, len) == 0 ? 0 : -1;
}

/* ABI 1.2: the library says how many records the events hold, so Fluent
 * Bit need not decode them all to count (flb_input_log_append does). */
int flb_rs_shim_append_records(void *host_ins, const char *tag, size_t tag_len,
                               const uint8_t *data, size_t len, size_t records)
{
    struct flb_rs_shim_ctx *ctx = host_ins;

    if (ctx == NULL || ctx->ins == NULL) {
        return -1;
    }
    return flb_input_log_append_records(ctx->ins, records, tag, tag_len, data, len) == 0 ? 0 : -1;
}

static int cb_collect(struct flb_input_instance *ins, struct flb_config *config,
                      void *in_context)
{
    struct flb_rs_shim_ctx *ctx = in_context;

    (void) ins;
    (void) config;
    return ctx->plugin->collect(ctx->rs) < 0 ? -1 : 0;
}

static int cb_init(struct flb_input_instance *ins, struct flb_config *config,
                   void *data)
{
    struct flb_rs_shim_ctx *ctx;
    struct flb_rs_shim_extra extra = {0};
    const flb_rs_plugin *p = flb_rs_plugin_find(FLB_RS_KIND_INPUT, ins->p->name);
    char port[16];
    int fd;

    (void) data;
    /* Fluent Bit parses these itself for every input and keeps them out
     * of the property list; a Rust plugin that declares them gets them. */
    flb_rs_shim_extra_add(&extra, p, "listen", ins->host.listen);
    if (ins->host.port > 0) {
        snprintf(port, sizeof(port), "%d", ins->host.port);
        flb_rs_shim_extra_add(&extra, p, "port", port);
    }
    FLB_RS_SHIM_TLS_EXTRAS(&extra, p, ins);
#ifdef FLB_RS_HAVE_TLS_VERIFY_CLIENT
    flb_rs_shim_extra_add(&extra, p, "tls.verify_client_cert",
                          ins->tls_verify_client ? "on" : NULL);
#endif
    ctx = flb_rs_shim_new(FLB_RS_KIND_INPUT, ins, config, ins->p->name,
                          flb_input_name(ins), ins->log_level,
                          &ins->properties, &extra, ins->cmt);
    if (ctx == NULL) {
        return -1;
    }
#if defined(FLB_HAVE_TLS) && defined(FLB_RS_HAVE_TLS_MIN_VERSION)
    /* Right after init, Fluent Bit applies tls.min_version/max_version to
     * its own TLS context of the input, which is NULL unless `tls on` was
     * given: it crashes (4.0 to 5.1). An input doing TLS itself has got the
     * value above; take it away from Fluent Bit. */
    if (ins->tls == NULL) {
        if (ins->tls_min_version != NULL) {
            flb_sds_destroy(ins->tls_min_version);
            ins->tls_min_version = NULL;
        }
        if (ins->tls_max_version != NULL) {
            flb_sds_destroy(ins->tls_max_version);
            ins->tls_max_version = NULL;
        }
    }
#endif
    flb_input_set_context(ins, ctx);
    fd = ctx->plugin->input_fd(ctx->rs);
    if (fd >= 0) {
        ctx->coll_id = flb_input_set_collector_event(ins, cb_collect, fd, config);
    }
    if (ctx->coll_id < 0) {
        flb_plg_error(ins, "cannot watch the Rust input's descriptor");
        flb_input_set_context(ins, NULL);
        flb_rs_shim_free(ctx);
        return -1;
    }
    return 0;
}

/* At shutdown: how long the library's threads may go on handing over what
 * their sockets already hold, and how quiet they must be to be done. */
#define FLB_RS_SHIM_DRAIN_MAX_MS   1000
#define FLB_RS_SHIM_DRAIN_QUIET_MS 100

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Appends what the library's threads take in until they have been quiet
 * for FLB_RS_SHIM_DRAIN_QUIET_MS (waiting on the queue's descriptor, not
 * sleeping), at most FLB_RS_SHIM_DRAIN_MAX_MS. */
static void drain(struct flb_rs_shim_ctx *ctx)
{
    struct flb_input_instance *ins = ctx->ins;
    long long deadline = now_ms() + FLB_RS_SHIM_DRAIN_MAX_MS;
    struct pollfd pfd;
    int appended = 0;
    int idle_wakeups = 0;
    int n;

    pfd.fd = ctx->plugin->input_fd(ctx->rs);
    pfd.events = POLLIN;
    ctx->draining = 1;
    while (pfd.fd >= 0 && now_ms() < deadline) {
        n = ctx->plugin->collect(ctx->rs);
        if (n > 0) {
            appended += n;
            idle_wakeups = 0;
            /* At its buffer limit Fluent Bit refuses further appends: the
             * rest stays in the library's queue. */
            if (flb_input_buf_paused(ins) == FLB_TRUE) {
                break;
            }
            continue;
        }
        /* Woken with nothing to append: a wake-up for a batch already
         * taken, or Fluent Bit refusing the append. Not a reason to spin
         * until the deadline. */
        if (idle_wakeups == 3) {
            break;
        }
        pfd.revents = 0;
        if (poll(&pfd, 1, FLB_RS_SHIM_DRAIN_QUIET_MS) <= 0) {
            break;
        }
        idle_wakeups++;
    }
    ctx->draining = 0;
    if (appended > 0) {
        flb_plg_info(ins, "%d record(s) taken in before the stop appended", appended);
#ifndef FLB_RS_ENGINE_FLUSHES_PENDING_AT_STOP
        /* Fluent Bit 3.x only waits for running tasks at a stop: make tasks
         * of what was just appended now, or it goes with its chunks. (On the
         * engine's thread only, where the flush timer would do the same, and
         * not in the final teardown, when outputs are going.) */
        if (ins->config->is_running && !flb_input_is_threaded(ins)) {
            flb_engine_flush(ins->config, NULL);
        }
#endif
    }
}

static void cb_pause(void *data, struct flb_config *config)
{
    struct flb_rs_shim_ctx *ctx = data;

    flb_input_collector_pause(ctx->coll_id, ctx->ins);
    /* Shutting down or reloading: Fluent Bit flushes what is in its chunks
     * during the grace period, so what the library's threads have taken in,
     * or their sockets already hold, is appended first instead of being lost
     * at exit. Not:
     * - in the final teardown (flb_engine_shutdown pauses every input again
     *   with is_running off): those chunks are freed unflushed, and an
     *   append would confirm records (a RELP "200 OK") nobody delivers;
     * - from inside the drain's own append (Fluent Bit pauses an input that
     *   reaches its buffer limit there): draining again would deadlock on
     *   the library's queue, which that append holds.
     * A pause for a buffer limit stops the library's threads at once. */
    if (config->is_shutting_down && config->is_running && !ctx->draining) {
        drain(ctx);
    }
    ctx->plugin->pause(ctx->rs);
}

static void cb_resume(void *data, struct flb_config *config)
{
    struct flb_rs_shim_ctx *ctx = data;

    (void) config;
    ctx->plugin->resume(ctx->rs);
    flb_input_collector_resume(ctx->coll_id, ctx->ins);
}

void flb_rs_shim_describe_input(struct flb_input_plugin *p)
{
    p->description = (char *) flb_rs_shim_description(FLB_RS_KIND_INPUT, p->name);
    p->config_map = flb_rs_shim_config_map(FLB_RS_KIND_INPUT, p->name);
    p->cb_init = cb_init;
    p->cb_collect = NULL;
    p->cb_pause = cb_pause;
    p->cb_resume = cb_resume;
    p->cb_exit = flb_rs_shim_exit;
    /* Fluent Bit refuses `tls on` for an input without this flag. */
    if (flb_rs_shim_declares(flb_rs_plugin_find(FLB_RS_KIND_INPUT, p->name), "tls")) {
        p->flags |= FLB_IO_OPT_TLS;
    }
}
