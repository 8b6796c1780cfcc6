/*
 * flb_rs_shim_common.c: the host table (logger, properties, metrics) and
 * the helpers every kind of Rust plugin shares.
 */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <fluent-bit/flb_kv.h>
#include <fluent-bit/flb_log.h>
#include <fluent-bit/flb_mem.h>
#include <fluent-bit/flb_thread_storage.h>
#include <fluent-bit/flb_worker.h>
#include <cfl/cfl_time.h>
#include <cmetrics/cmetrics.h>
#include <cmetrics/cmt_counter.h>
#include <cmetrics/cmt_gauge.h>

#include "flb_rs_shim.h"

#define ERRBUF_SIZE 1024

/*
 * flb_log_print hands a line to Fluent Bit's logger (log_file, its level,
 * fluentbit_logger_logs_total) only on a thread with a worker context; on
 * any other thread it writes to stderr. Threads the library starts (an
 * output's flush thread, an input's connection threads) have none: on
 * their first line they get the one Fluent Bit made for its own main
 * thread, which its logger accepts from any thread (a locked queue in 5.x,
 * a pipe written in atomic records in 3.x).
 */
static void attach_logger(struct flb_rs_shim_ctx *ctx)
{
    if (flb_worker_get() == NULL && ctx->config != NULL &&
        ctx->config->log != NULL && ctx->config->log->worker != NULL) {
        FLB_TLS_SET(flb_worker_ctx, ctx->config->log->worker);
    }
}

static void host_log(void *host_ins, int level, const char *msg, size_t len)
{
    struct flb_rs_shim_ctx *ctx = host_ins;

    if (ctx != NULL) {
        attach_logger(ctx);
    }
    if (ctx == NULL) {
        if (flb_log_check(level)) {
            flb_log_print(level, NULL, 0, "[rust] %.*s", (int) len, msg);
        }
        return;
    }
    if (flb_log_check_level(ctx->log_level, level)) {
        flb_log_print(level, NULL, 0, "[%s:%s:%s] %.*s", ctx->kind_name,
                      ctx->plugin->name, ctx->instance_name, (int) len, msg);
    }
}

static int host_log_level(void *host_ins)
{
    struct flb_rs_shim_ctx *ctx = host_ins;

    if (ctx == NULL) {
        /* Library-wide messages: the most verbose level; host_log filters. */
        return FLB_RS_LOG_TRACE;
    }
    return ctx->log_level;
}

static size_t list_size(struct flb_rs_shim_ctx *ctx)
{
    return ctx->properties ? (size_t) mk_list_size(ctx->properties) : 0;
}

static size_t host_property_count(void *host_ins)
{
    struct flb_rs_shim_ctx *ctx = host_ins;

    return list_size(ctx) + (ctx->extra ? ctx->extra->count : 0);
}

static int host_property_at(void *host_ins, size_t index,
                            const char **key, const char **value)
{
    struct flb_rs_shim_ctx *ctx = host_ins;
    struct mk_list *head;
    struct flb_kv *kv;
    size_t i = 0;
    size_t listed = list_size(ctx);

    if (index >= listed) {
        index -= listed;
        if (ctx->extra == NULL || index >= ctx->extra->count) {
            return -1;
        }
        *key = ctx->extra->kv[index][0];
        *value = ctx->extra->kv[index][1];
        return 0;
    }
    mk_list_foreach(head, ctx->properties) {
        if (i++ == index) {
            kv = mk_list_entry(head, struct flb_kv, _head);
            *key = kv->key;
            *value = kv->val;
            return 0;
        }
    }
    return -1;
}

/* Label arrays up to this long (the instance's name and the plugin's
 * labels) are built on the stack: an update runs for every label set of
 * every chunk, and needs no allocation there. */
#define SHIM_STACK_LABELS 8

/* Label keys or values with the instance's name in front, in `stack` when
 * they fit (it holds SHIM_STACK_LABELS), else in memory the caller frees
 * with release_labels. */
static char **with_name(const char *first, size_t count,
                        const char *const *rest, char **stack)
{
    char **all = stack;
    size_t i;

    if (count + 1 > SHIM_STACK_LABELS) {
        all = flb_calloc(count + 1, sizeof(char *));
        if (all == NULL) {
            return NULL;
        }
    }
    all[0] = (char *) first;
    for (i = 0; i < count; i++) {
        all[i + 1] = (char *) rest[i];
    }
    return all;
}

static void release_labels(char **all, char **stack)
{
    if (all != stack) {
        flb_free(all);
    }
}

static int host_metric_create(void *host_ins, int kind, const char *name,
                              const char *help, size_t label_count,
                              const char *const *labels)
{
    struct flb_rs_shim_ctx *ctx = host_ins;
    struct flb_rs_shim_metric *grown;
    char *stack[SHIM_STACK_LABELS];
    char **keys;
    void *metric = NULL;
    int id = -1;

    if (ctx->cmt == NULL) {
        return -1;
    }
    keys = with_name("name", label_count, labels, stack);
    if (keys == NULL) {
        return -1;
    }
    pthread_mutex_lock(&ctx->metrics_lock);
    if (kind == FLB_RS_METRIC_COUNTER) {
        metric = cmt_counter_create(ctx->cmt, "fluentbit",
                                    (char *) ctx->plugin->name, (char *) name,
                                    (char *) help, (int) label_count + 1, keys);
    }
    else if (kind == FLB_RS_METRIC_GAUGE) {
        metric = cmt_gauge_create(ctx->cmt, "fluentbit",
                                  (char *) ctx->plugin->name, (char *) name,
                                  (char *) help, (int) label_count + 1, keys);
    }
    if (metric != NULL) {
        grown = flb_realloc(ctx->metrics,
                            (ctx->metric_count + 1) * sizeof(*grown));
        if (grown != NULL) {
            ctx->metrics = grown;
            grown[ctx->metric_count].kind = kind;
            grown[ctx->metric_count].metric = metric;
            grown[ctx->metric_count].label_count = label_count;
            id = (int) ctx->metric_count++;
        }
    }
    pthread_mutex_unlock(&ctx->metrics_lock);
    release_labels(keys, stack);
    return id;
}

static void host_metric_update(void *host_ins, int id, int op, double value,
                               size_t label_count,
                               const char *const *label_values)
{
    struct flb_rs_shim_ctx *ctx = host_ins;
    struct flb_rs_shim_metric *m;
    uint64_t ts = cfl_time_now();
    char *stack[SHIM_STACK_LABELS];
    char **values;

    values = with_name(ctx->instance_name, label_count, label_values, stack);
    if (values == NULL) {
        return;
    }
    /* Rust threads update concurrently; cmetrics' label maps are not
     * thread-safe, so updates of one instance are serialised here. */
    pthread_mutex_lock(&ctx->metrics_lock);
    if (id >= 0 && (size_t) id < ctx->metric_count &&
        ctx->metrics[id].label_count == label_count) {
        m = &ctx->metrics[id];
        if (m->kind == FLB_RS_METRIC_COUNTER) {
            cmt_counter_add(m->metric, ts, value, (int) label_count + 1, values);
        }
        else if (op == FLB_RS_METRIC_SET) {
            cmt_gauge_set(m->metric, ts, value, (int) label_count + 1, values);
        }
        else {
            cmt_gauge_add(m->metric, ts, value, (int) label_count + 1, values);
        }
    }
    pthread_mutex_unlock(&ctx->metrics_lock);
    release_labels(values, stack);
}

/* `append` is kind-specific (inputs only): see flb_rs_shim_input.c. */
int flb_rs_shim_append(void *host_ins, const char *tag, size_t tag_len,
                       const uint8_t *data, size_t len);
int flb_rs_shim_append_records(void *host_ins, const char *tag, size_t tag_len,
                               const uint8_t *data, size_t len, size_t records);

const flb_rs_host_api flb_rs_shim_host_api = {
    .abi_major = FLB_RS_ABI_MAJOR,
    .abi_minor = FLB_RS_ABI_MINOR,
    .struct_size = sizeof(flb_rs_host_api),
    .log = host_log,
    .log_level = host_log_level,
    .property_count = host_property_count,
    .property_at = host_property_at,
    .append = flb_rs_shim_append,
    .metric_create = host_metric_create,
    .metric_update = host_metric_update,
    .append_records = flb_rs_shim_append_records,
};

static int abi_ok(void)
{
    static int checked = 0;
    static int ok = 0;
    char err[ERRBUF_SIZE];

    if (!checked) {
        checked = 1;
        err[0] = '\0';
        ok = flb_rs_register(&flb_rs_shim_host_api, err, sizeof(err)) == FLB_RS_OK;
        if (!ok) {
            flb_error("[rust] %s", err);
        }
    }
    return ok;
}

const flb_rs_plugin *flb_rs_shim_plugin(uint32_t kind, const char *name)
{
    const flb_rs_plugin *p;
    uint32_t lib = flb_rs_abi_version();

    if ((lib >> 16) != FLB_RS_ABI_MAJOR) {
        flb_error("[rust] plugin %s: the Rust plugin library speaks flb-rs ABI "
                  "%u.%u, this Fluent Bit was built for %u.%u",
                  name, (unsigned) (lib >> 16), (unsigned) (lib & 0xffff),
                  (unsigned) FLB_RS_ABI_MAJOR, (unsigned) FLB_RS_ABI_MINOR);
        return NULL;
    }
    p = flb_rs_plugin_find(kind, name);
    if (p == NULL) {
        flb_error("[rust] plugin %s is not in the Rust plugin library "
                  "(was its cargo feature left out?)", name);
    }
    return p;
}

static int map_type(uint32_t t)
{
    switch (t) {
    case FLB_RS_KEY_INT:    return FLB_CONFIG_MAP_INT;
    case FLB_RS_KEY_BOOL:   return FLB_CONFIG_MAP_BOOL;
    case FLB_RS_KEY_DOUBLE: return FLB_CONFIG_MAP_DOUBLE;
    case FLB_RS_KEY_SIZE:   return FLB_CONFIG_MAP_SIZE;
    case FLB_RS_KEY_CLIST:  return FLB_CONFIG_MAP_CLIST;
    case FLB_RS_KEY_SLIST:  return FLB_CONFIG_MAP_SLIST;
    /* Durations accept suffixes (500ms) that Fluent Bit's own TIME type
     * would misread; the Rust side parses them, so show them as strings. */
    case FLB_RS_KEY_TIME:
    default:                return FLB_CONFIG_MAP_STR;
    }
}

struct flb_config_map *flb_rs_shim_config_map(uint32_t kind, const char *name)
{
    const flb_rs_plugin *p = flb_rs_plugin_find(kind, name);
    const flb_rs_config_key *k;
    struct flb_config_map *map;
    size_t i;

    if (p == NULL || (flb_rs_abi_version() >> 16) != FLB_RS_ABI_MAJOR) {
        return NULL;
    }
    /* Lives as long as the process: Fluent Bit keeps pointers to it in
     * every copy of the plugin struct. Zeroed: the last entry ends it. */
    map = calloc(p->config_key_count + 1, sizeof(struct flb_config_map));
    if (map == NULL) {
        return NULL;
    }
    for (i = 0; i < p->config_key_count; i++) {
        k = flb_rs_plugin_config_key(p, i);
        if (k == NULL) {
            break;
        }
        map[i].type = map_type(k->key_type);
        map[i].name = (flb_sds_t) k->name;
        map[i].def_value = (flb_sds_t) k->default_value;
        map[i].flags = k->multiple ? FLB_CONFIG_MAP_MULT : 0;
        map[i].set_property = FLB_FALSE;
        map[i].offset = 0;
        map[i].desc = (flb_sds_t) k->description;
    }
    return map;
}

int flb_rs_shim_declares(const flb_rs_plugin *plugin, const char *key)
{
    const flb_rs_config_key *k;
    size_t i;

    if (plugin == NULL) {
        return 0;
    }
    for (i = 0; i < plugin->config_key_count; i++) {
        k = flb_rs_plugin_config_key(plugin, i);
        if (k != NULL && strcasecmp(k->name, key) == 0) {
            return 1;
        }
    }
    return 0;
}

void flb_rs_shim_extra_add(struct flb_rs_shim_extra *extra,
                           const flb_rs_plugin *plugin,
                           const char *key, const char *value)
{
    if (value == NULL || extra->count == FLB_RS_SHIM_EXTRA_MAX ||
        !flb_rs_shim_declares(plugin, key)) {
        return;
    }
    extra->kv[extra->count][0] = key;
    extra->kv[extra->count][1] = value;
    extra->count++;
}

const char *flb_rs_shim_description(uint32_t kind, const char *name)
{
    const flb_rs_plugin *p = flb_rs_plugin_find(kind, name);

    return p ? p->description : "Rust plugin (missing from the library)";
}

struct flb_rs_shim_ctx *flb_rs_shim_new(uint32_t kind, void *ins,
                                        struct flb_config *config,
                                        const char *plugin_name,
                                        const char *instance_name,
                                        int log_level,
                                        struct mk_list *properties,
                                        const struct flb_rs_shim_extra *extra,
                                        struct cmt *cmt)
{
    static const char *const kind_names[] = {"", "input", "filter", "output"};
    struct flb_rs_shim_ctx *ctx;
    char err[ERRBUF_SIZE];

    if (!abi_ok()) {
        return NULL;
    }
    ctx = flb_calloc(1, sizeof(*ctx));
    if (ctx == NULL) {
        flb_errno();
        return NULL;
    }
    ctx->plugin = flb_rs_shim_plugin(kind, plugin_name);
    if (ctx->plugin == NULL) {
        flb_free(ctx);
        return NULL;
    }
    ctx->ins = ins;
    ctx->config = config;
    ctx->kind_name = kind_names[kind <= FLB_RS_KIND_OUTPUT ? kind : 0];
    ctx->instance_name = instance_name;
    ctx->log_level = log_level;
    ctx->properties = properties;
    ctx->extra = extra;
    ctx->cmt = cmt;
    ctx->coll_id = -1;
    pthread_mutex_init(&ctx->metrics_lock, NULL);
    err[0] = '\0';
    if (ctx->plugin->create(ctx->plugin, &flb_rs_shim_host_api, ctx,
                            &ctx->rs, err, sizeof(err)) != FLB_RS_OK) {
        /* The library logged the reason through host_log already. */
        pthread_mutex_destroy(&ctx->metrics_lock);
        flb_free(ctx);
        return NULL;
    }
    /* Properties are only read during create. */
    ctx->properties = NULL;
    ctx->extra = NULL;
    return ctx;
}

void flb_rs_shim_free(struct flb_rs_shim_ctx *ctx)
{
    if (ctx == NULL) {
        return;
    }
    /* Joins the instance's threads: no callback runs after this. */
    ctx->plugin->destroy(ctx->rs);
    pthread_mutex_destroy(&ctx->metrics_lock);
    flb_free(ctx->metrics);
    flb_free(ctx);
}

int flb_rs_shim_exit(void *data, struct flb_config *config)
{
    (void) config;
    flb_rs_shim_free(data);
    return 0;
}
