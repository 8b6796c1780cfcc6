/*
 * flb_rs_shim_filter.c: Fluent Bit's filter plugin callbacks for every Rust
 * filter.
 */

#include <string.h>

#include <fluent-bit/flb_filter_plugin.h>
#include <fluent-bit/flb_mem.h>

#include "flb_rs_shim.h"

static int cb_init(struct flb_filter_instance *ins, struct flb_config *config,
                   void *data)
{
    struct flb_rs_shim_ctx *ctx;

    (void) data;
    ctx = flb_rs_shim_new(FLB_RS_KIND_FILTER, ins, config, ins->p->name,
                          flb_filter_name(ins), ins->log_level,
                          &ins->properties, NULL, ins->cmt);
    if (ctx == NULL) {
        return -1;
    }
    flb_filter_set_context(ins, ctx);
    return 0;
}

/* Drops the whole chunk: Fluent Bit counts it in
 * fluentbit_filter_drop_records_total. */
static int drop_chunk(void **out_buf, size_t *out_bytes)
{
    *out_buf = NULL;
    *out_bytes = 0;
    return FLB_FILTER_MODIFIED;
}

static int cb_filter(const void *data, size_t bytes,
                     const char *tag, int tag_len,
                     void **out_buf, size_t *out_bytes,
                     struct flb_filter_instance *f_ins,
                     struct flb_input_instance *i_ins,
                     void *context, struct flb_config *config)
{
    struct flb_rs_shim_ctx *ctx = context;
    uint8_t *out = NULL;
    size_t out_len = 0;
    void *copy;
    int ret;
    int fail_closed;

    (void) i_ins;
    (void) config;
    fail_closed = (ctx->plugin->flags & FLB_RS_PLUGIN_FAIL_CLOSED) != 0;
    ret = ctx->plugin->filter(ctx->rs, tag, (size_t) tag_len, data, bytes,
                              &out, &out_len);
    if (ret == FLB_RS_FILTER_DROP && fail_closed) {
        return drop_chunk(out_buf, out_bytes);
    }
    if (ret != FLB_RS_FILTER_MODIFIED) {
        return FLB_FILTER_NOTOUCH;
    }
    if (out_len == 0) {
        flb_rs_buffer_free(out, out_len);
        return drop_chunk(out_buf, out_bytes);
    }
    /* Fluent Bit frees the result with flb_free: hand it a copy made with
     * its own allocator, and give the library's buffer back. */
    copy = flb_malloc(out_len);
    if (copy == NULL) {
        flb_errno();
        flb_rs_buffer_free(out, out_len);
        if (fail_closed) {
            flb_plg_error(f_ins, "no memory for the filtered chunk (%zu bytes): "
                          "the chunk is dropped rather than passed on unfiltered",
                          out_len);
            return drop_chunk(out_buf, out_bytes);
        }
        flb_plg_error(f_ins, "no memory for the filtered chunk (%zu bytes): "
                      "the chunk passes unchanged", out_len);
        return FLB_FILTER_NOTOUCH;
    }
    memcpy(copy, out, out_len);
    flb_rs_buffer_free(out, out_len);
    *out_buf = copy;
    *out_bytes = out_len;
    return FLB_FILTER_MODIFIED;
}

void flb_rs_shim_describe_filter(struct flb_filter_plugin *p)
{
    p->description = (char *) flb_rs_shim_description(FLB_RS_KIND_FILTER, p->name);
    p->config_map = flb_rs_shim_config_map(FLB_RS_KIND_FILTER, p->name);
    p->cb_init = cb_init;
    p->cb_filter = cb_filter;
    p->cb_exit = flb_rs_shim_exit;
    p->event_type = FLB_FILTER_LOGS;
}
