/*
 * flb_rs_shim.h: the C side of flb-rs inside Fluent Bit.
 *
 * Compiled against the Fluent Bit tree being built, so that Fluent Bit's
 * structs are only ever seen by C compiled with their own headers. It
 * turns Fluent Bit's plugin callbacks into calls of the versioned flb-rs
 * ABI (include/flb_rs.h) and serves the ABI's host table with Fluent Bit's
 * logger, properties, append call and cmetrics.
 *
 * Each plugin kind has its own file (flb_rs_shim_{input,filter,output}.c)
 * because Fluent Bit's per-kind plugin headers cannot be included together.
 */

#ifndef FLB_RS_SHIM_H
#define FLB_RS_SHIM_H

#include <pthread.h>

#include <fluent-bit/flb_config_map.h>
#include <fluent-bit/flb_info.h>
#include <monkey/mk_core/mk_list.h>

#include "flb_rs.h"

struct cmt;
struct flb_config;
struct flb_input_plugin;
struct flb_filter_plugin;
struct flb_output_plugin;

/* One declared metric of an instance. */
struct flb_rs_shim_metric {
    int kind;            /* FLB_RS_METRIC_* */
    void *metric;        /* struct cmt_counter * or struct cmt_gauge * */
    size_t label_count;  /* as declared by the plugin, without "name" */
};

/* Properties Fluent Bit keeps out of an instance's property list (host,
 * port, tls.*: it parses them itself for every output) but a Rust plugin
 * declares; the shim hands them to the plugin after the list. */
#define FLB_RS_SHIM_EXTRA_MAX 16
struct flb_rs_shim_extra {
    const char *kv[FLB_RS_SHIM_EXTRA_MAX][2];
    size_t count;
};

/* Adds key=value to `extra` when `value` is not NULL and `plugin` declares
 * the key. */
void flb_rs_shim_extra_add(struct flb_rs_shim_extra *extra,
                           const flb_rs_plugin *plugin,
                           const char *key, const char *value);

/* True when `plugin` declares the configuration key `key`. */
int flb_rs_shim_declares(const flb_rs_plugin *plugin, const char *key);

/* The tls.* keys Fluent Bit parses itself for inputs and outputs alike,
 * from the fields of the same names in both instance structs. */
#ifdef FLB_HAVE_TLS
#ifdef FLB_RS_HAVE_TLS_MIN_VERSION
#define FLB_RS_SHIM_TLS_MIN_VERSION(extra, p, ins) \
    flb_rs_shim_extra_add(extra, p, "tls.min_version", (ins)->tls_min_version)
#else
#define FLB_RS_SHIM_TLS_MIN_VERSION(extra, p, ins) ((void) 0)
#endif
#define FLB_RS_SHIM_TLS_EXTRAS(extra, p, ins)                                         \
    do {                                                                              \
        flb_rs_shim_extra_add(extra, p, "tls", (ins)->use_tls ? "on" : NULL);         \
        flb_rs_shim_extra_add(extra, p, "tls.verify", (ins)->tls_verify ? NULL : "off"); \
        flb_rs_shim_extra_add(extra, p, "tls.vhost", (ins)->tls_vhost);               \
        flb_rs_shim_extra_add(extra, p, "tls.ca_path", (ins)->tls_ca_path);           \
        flb_rs_shim_extra_add(extra, p, "tls.ca_file", (ins)->tls_ca_file);           \
        flb_rs_shim_extra_add(extra, p, "tls.crt_file", (ins)->tls_crt_file);         \
        flb_rs_shim_extra_add(extra, p, "tls.key_file", (ins)->tls_key_file);         \
        flb_rs_shim_extra_add(extra, p, "tls.key_passwd", (ins)->tls_key_passwd);     \
        flb_rs_shim_extra_add(extra, p, "tls.verify_hostname",                        \
                              (ins)->tls_verify_hostname ? "on" : NULL);              \
        FLB_RS_SHIM_TLS_MIN_VERSION(extra, p, ins);                                   \
    } while (0)
#else
#define FLB_RS_SHIM_TLS_EXTRAS(extra, p, ins) ((void) 0)
#endif

/* What the shim keeps per instance; `host_ins` of every host callback. */
struct flb_rs_shim_ctx {
    const flb_rs_plugin *plugin;
    flb_rs_instance *rs;

    /* The Fluent Bit instance, for logs, properties, metrics. */
    void *ins;
    /* Its configuration: the logger that plugin-owned threads log to. */
    struct flb_config *config;
    const char *kind_name;       /* "input", "filter", "output" */
    const char *instance_name;   /* alias or name.N */
    int log_level;
    struct mk_list *properties;  /* struct flb_kv list */
    const struct flb_rs_shim_extra *extra; /* during create only */
    struct cmt *cmt;

    /* Inputs: the collector watching the library's descriptor. */
    int coll_id;
    /* Inputs: a stop's drain is appending. Fluent Bit may pause the input
     * from inside that append (a buffer limit reached); that pause must not
     * drain again. */
    int draining;

    pthread_mutex_t metrics_lock;
    struct flb_rs_shim_metric *metrics;
    size_t metric_count;
};

/* The host table every instance is created with. */
extern const flb_rs_host_api flb_rs_shim_host_api;

/*
 * Finds the descriptor of a plugin and checks the library's ABI version;
 * logs and returns NULL on any mismatch.
 */
const flb_rs_plugin *flb_rs_shim_plugin(uint32_t kind, const char *name);

/*
 * Builds the Fluent Bit config map of a plugin from its descriptor (static
 * for the life of the process), or NULL when the plugin is missing.
 */
struct flb_config_map *flb_rs_shim_config_map(uint32_t kind, const char *name);

/* The plugin's description, or a fixed text when it is missing. */
const char *flb_rs_shim_description(uint32_t kind, const char *name);

/*
 * Creates the Rust instance for a Fluent Bit instance `ins` of any kind.
 * Returns the ctx (the plugin context to set), or NULL after logging why.
 */
struct flb_rs_shim_ctx *flb_rs_shim_new(uint32_t kind, void *ins,
                                        struct flb_config *config,
                                        const char *plugin_name,
                                        const char *instance_name,
                                        int log_level,
                                        struct mk_list *properties,
                                        const struct flb_rs_shim_extra *extra,
                                        struct cmt *cmt);

/* Destroys the Rust instance (joining its threads) and frees the ctx. */
void flb_rs_shim_free(struct flb_rs_shim_ctx *ctx);

/* cb_exit of every kind. */
int flb_rs_shim_exit(void *data, struct flb_config *config);

/* Plugin callbacks, shared by all Rust plugins of a kind. */
void flb_rs_shim_describe_input(struct flb_input_plugin *p);
void flb_rs_shim_describe_filter(struct flb_filter_plugin *p);
void flb_rs_shim_describe_output(struct flb_output_plugin *p);

#endif
