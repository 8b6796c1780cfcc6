/*
 * th.h: the test host's side of the flb-rs ABI, playing Fluent Bit's part.
 *
 * One `th_ins` stands for one Fluent Bit plugin instance: its properties,
 * its log level, what an input appended, and its metrics. A pointer to it
 * is the `host_ins` the library hands back to every callback. Logs of all
 * instances go to one mutex-protected list (and to stderr).
 *
 * The callbacks also check the ABI's rules from the host's side (property
 * callbacks only during `create`, `append` only inside `collect` on the
 * thread that called it, metric ids and label counts as declared); a
 * breach is counted in th_violations() and printed.
 */

#ifndef FLB_RS_TEST_TH_H
#define FLB_RS_TEST_TH_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "flb_rs.h"

/* One combination of label values of a metric. */
typedef struct th_series {
    struct th_series *next;
    char **values;
    size_t nvalues;
    double value;
    double max;     /* highest value after any update */
    size_t updates;
} th_series;

typedef struct th_metric {
    int kind;
    char *name;
    char *help;
    char **labels;
    size_t nlabels;
    th_series *series;
} th_metric_def;

/* One buffer an input appended. */
typedef struct th_append {
    struct th_append *next;
    char *tag; /* NUL-terminated copy; NULL when the library passed NULL */
    uint8_t *data;
    size_t len;
} th_append;

typedef struct th_ins {
    uint32_t magic; /* set while the instance is alive */
    unsigned id;
    char name[48];
    int log_level;

    char **keys;
    char **values;
    size_t nprops;
    size_t capprops;

    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cond; /* signalled on every metric update and append */
    int in_create;
    int in_collect;
    pthread_t collect_thread;
    int refuse_append; /* append returns -1 while set */
    /* Called by append with the events, before they are stored, without
     * the instance's lock: what Fluent Bit does inside its append (run
     * filters, pause the input when a buffer limit is hit). */
    void (*on_append)(struct th_ins *ins, const uint8_t *data, size_t len, void *arg);
    void *on_append_arg;
    size_t append_calls;
    th_append *appends;
    th_append **appends_tail;
    size_t nappends;
    th_metric_def *metrics;
    size_t nmetrics;
    size_t capmetrics;
    uint64_t metric_updates;
    uint64_t append_records_calls; /* appends that came with their count (ABI 1.2) */
} th_ins;

/* The callbacks, for tables the tests build themselves. */
void th_cb_log(void *host_ins, int level, const char *msg, size_t len);
int th_cb_log_level(void *host_ins);
size_t th_cb_property_count(void *host_ins);
int th_cb_property_at(void *host_ins, size_t index, const char **key, const char **value);
int th_cb_append(void *host_ins, const char *tag, size_t tag_len, const uint8_t *data,
                 size_t len);
int th_cb_append_records(void *host_ins, const char *tag, size_t tag_len, const uint8_t *data,
                         size_t len, size_t records);
int th_cb_metric_create(void *host_ins, int kind, const char *name, const char *help,
                        size_t label_count, const char *const *labels);
void th_cb_metric_update(void *host_ins, int id, int op, double value, size_t label_count,
                         const char *const *label_values);

/* A complete host table of the given version and size. */
#define TH_API_INIT(major, minor, size)                                                       \
    {                                                                                         \
        (major), (minor), (uint32_t)(size), th_cb_log, th_cb_log_level, th_cb_property_count, \
            th_cb_property_at, th_cb_append, th_cb_metric_create, th_cb_metric_update,        \
            th_cb_append_records                                                              \
    }

/* The table this host normally uses: this header's version, full size. */
extern const flb_rs_host_api th_api;

void th_global_free(void);

/* Instances of the host (heap-allocated; free after the library's
 * instance is destroyed). */
th_ins *th_new(const char *name, int log_level);
void th_free(th_ins *ins);
void th_prop(th_ins *ins, const char *key, const char *value);

/* `plugin->create` with `api` (th_api when NULL), marking the call so that
 * the property callbacks know they are allowed. */
int th_create(const flb_rs_plugin *plugin, const flb_rs_host_api *api, th_ins *ins,
              flb_rs_instance **out, char *err, size_t err_len);
/* `plugin->collect`, marking the call so that append knows it is allowed. */
int th_collect(const flb_rs_plugin *plugin, flb_rs_instance *rs, th_ins *ins);

/* Detaches and returns what the instance appended so far. */
th_append *th_take_appends(th_ins *ins, size_t *count);
void th_appends_free(th_append *list);
void th_set_refuse_append(th_ins *ins, int refuse);
void th_set_on_append(th_ins *ins,
                      void (*fn)(th_ins *ins, const uint8_t *data, size_t len, void *arg),
                      void *arg);
size_t th_append_calls(th_ins *ins);

/* Metrics. th_metric_value finds the series of `name` with the given label
 * values; returns 0 and sets *value (and *max when not NULL), or -1. */
int th_metric_value(th_ins *ins, const char *name, size_t nvalues, const char *const *values,
                    double *value, double *max);
/* Shorthand for a metric with no labels (or one label when `label` is not
 * NULL); NaN when there is no such series. */
double th_metric(th_ins *ins, const char *name, const char *label);
int th_metric_declared(th_ins *ins, const char *name, int *kind, size_t *nlabels);
/* Total updates so far (to wait for the next one). */
uint64_t th_metric_updates(th_ins *ins);
/* Waits until the instance's update count passes `seen` or `timeout_ms`
 * elapses; returns the new count. */
uint64_t th_wait_metric_update(th_ins *ins, uint64_t seen, int timeout_ms);

/* Logs. `ins` NULL means messages that belong to no instance; level < 0
 * matches every level; `substr` NULL matches every message. */
size_t th_log_count(const th_ins *ins, int level, const char *substr);
/* Count of messages of `ins` at a level more verbose than `level`. */
size_t th_log_count_above(const th_ins *ins, int level);
/* Whether any message of `ins` equals `msg` exactly at `level`. */
int th_log_has_exact(const th_ins *ins, int level, const char *msg);
/* Suppresses printing to stderr (messages are still recorded); returns the
 * number of lines suppressed since the last call that turned it on. */
size_t th_log_quiet(int quiet);

/* Breaches of the ABI's rules seen by the callbacks. */
size_t th_violations(void);

#endif /* FLB_RS_TEST_TH_H */
