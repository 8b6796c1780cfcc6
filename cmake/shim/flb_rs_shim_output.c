/*
 * flb_rs_shim_output.c: Fluent Bit's output plugin callbacks for every
 * Rust output.
 *
 * cb_flush runs in a coroutine on a stack as small as 24 KiB with no guard
 * page, possibly on several worker threads at once: it only calls the
 * library's flush, which lends the chunk to the instance's own thread and
 * waits until that thread is done with it, using about 2 KiB here.
 */

#include <stdio.h>

#include <fluent-bit/flb_output_plugin.h>
#include <fluent-bit/flb_io.h>

#include "flb_rs_shim.h"

static int cb_init(struct flb_output_instance *ins, struct flb_config *config,
                   void *data)
{
    struct flb_rs_shim_ctx *ctx;
    struct flb_rs_shim_extra extra = {0};
    const flb_rs_plugin *p = flb_rs_plugin_find(FLB_RS_KIND_OUTPUT, ins->p->name);
    char port[16];

    (void) data;
    /* With workers 0 Fluent Bit runs flushes on its engine thread, and a
     * Rust flush waits for its delivery (a connect, a write, a RELP
     * acknowledgement): the whole pipeline would stop for as long. */
    if (ins->tp_workers < 1) {
        flb_plg_error(ins, "workers %d is not supported: a flush on Fluent Bit's "
                      "engine thread would block the whole pipeline while it "
                      "delivers; use workers 1 or more", ins->tp_workers);
        return -1;
    }
    /* Fluent Bit parses these itself for every output and keeps them out
     * of the property list; a Rust plugin that declares them gets them. */
    flb_rs_shim_extra_add(&extra, p, "host", ins->host.name);
    if (ins->host.port > 0) {
        snprintf(port, sizeof(port), "%d", ins->host.port);
        flb_rs_shim_extra_add(&extra, p, "port", port);
    }
    FLB_RS_SHIM_TLS_EXTRAS(&extra, p, ins);
    ctx = flb_rs_shim_new(FLB_RS_KIND_OUTPUT, ins, config, ins->p->name,
                          flb_output_name(ins), ins->log_level,
                          &ins->properties, &extra, ins->cmt);
    if (ctx == NULL) {
        return -1;
    }
    flb_output_set_context(ins, ctx);
    return 0;
}

static void cb_flush(struct flb_event_chunk *chunk,
                     struct flb_output_flush *flush,
                     struct flb_input_instance *i_ins,
                     void *out_context, struct flb_config *config)
{
    struct flb_rs_shim_ctx *ctx = out_context;
    int ret;

    (void) flush;
    (void) i_ins;
    (void) config;
    ret = ctx->plugin->flush(ctx->rs, chunk->tag, flb_sds_len(chunk->tag),
                             chunk->data, chunk->size);
    if (ret == FLB_RS_OK) {
        FLB_OUTPUT_RETURN(FLB_OK);
    }
    else if (ret == FLB_RS_RETRY) {
        FLB_OUTPUT_RETURN(FLB_RETRY);
    }
    FLB_OUTPUT_RETURN(FLB_ERROR);
}

void flb_rs_shim_describe_output(struct flb_output_plugin *p)
{
    p->description = (char *) flb_rs_shim_description(FLB_RS_KIND_OUTPUT, p->name);
    p->config_map = flb_rs_shim_config_map(FLB_RS_KIND_OUTPUT, p->name);
    p->cb_init = cb_init;
    p->cb_flush = cb_flush;
    p->cb_exit = flb_rs_shim_exit;
    p->event_type = FLB_OUTPUT_LOGS;
    /* A delivery that blocks must never stall the engine's event loop. */
    p->workers = 1;
    /* Fluent Bit refuses `tls on` for an output without this flag. */
    if (flb_rs_shim_declares(flb_rs_plugin_find(FLB_RS_KIND_OUTPUT, p->name), "tls")) {
        p->flags |= FLB_IO_OPT_TLS;
    }
}
