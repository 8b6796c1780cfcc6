/* th.c: see th.h. */

#include "th.h"
#include "mp.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TH_MAGIC 0x7468696eu /* "thin" */

const flb_rs_host_api th_api =
    TH_API_INIT(FLB_RS_ABI_MAJOR, FLB_RS_ABI_MINOR, sizeof(flb_rs_host_api));

/* ---- global state: logs, violations ---- */

typedef struct th_log {
    unsigned ins_id; /* 0: no instance */
    int level;
    char *msg;
} th_log;

static pthread_mutex_t g_log_mu = PTHREAD_MUTEX_INITIALIZER;
static th_log *g_logs;
static size_t g_nlogs, g_caplogs;
static int g_quiet;
static size_t g_suppressed;
static atomic_size_t g_violations;
static atomic_uint g_next_id = 1;

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "th: out of memory\n");
        abort();
    }
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        fprintf(stderr, "th: out of memory\n");
        abort();
    }
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = xmalloc(n);
    memcpy(p, s, n);
    return p;
}

static char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    if (n) {
        memcpy(p, s, n);
    }
    p[n] = 0;
    return p;
}

static void violation(const char *fmt, ...)
{
    va_list ap;
    atomic_fetch_add(&g_violations, 1);
    fprintf(stderr, "HOST CONTRACT VIOLATION: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

size_t th_violations(void)
{
    return atomic_load(&g_violations);
}

void th_global_free(void)
{
    pthread_mutex_lock(&g_log_mu);
    for (size_t i = 0; i < g_nlogs; i++) {
        free(g_logs[i].msg);
    }
    free(g_logs);
    g_logs = NULL;
    g_nlogs = g_caplogs = 0;
    pthread_mutex_unlock(&g_log_mu);
}

/* The pointer the library gives back must be one of ours, alive. */
static th_ins *checked(void *host_ins, const char *what)
{
    th_ins *ins = host_ins;
    if (!ins) {
        violation("%s: host_ins is NULL", what);
        return NULL;
    }
    if (ins->magic != TH_MAGIC) {
        violation("%s: host_ins %p is not a live instance", what, host_ins);
        return NULL;
    }
    return ins;
}

static int valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t k;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            k = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            k = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            k = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i <= k) {
            return 0;
        }
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80) {
                return 0;
            }
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return 0;
        }
        i += k + 1;
    }
    return 1;
}

static const char *level_name(int level)
{
    switch (level) {
    case FLB_RS_LOG_ERROR:
        return "error";
    case FLB_RS_LOG_WARN:
        return "warn";
    case FLB_RS_LOG_INFO:
        return "info";
    case FLB_RS_LOG_DEBUG:
        return "debug";
    case FLB_RS_LOG_TRACE:
        return "trace";
    default:
        return "?";
    }
}

/* ---- callbacks ---- */

void th_cb_log(void *host_ins, int level, const char *msg, size_t len)
{
    th_ins *ins = NULL;
    if (host_ins) {
        ins = checked(host_ins, "log");
        if (!ins) {
            return;
        }
    }
    if (level < FLB_RS_LOG_ERROR || level > FLB_RS_LOG_TRACE) {
        violation("log: level %d out of range", level);
    }
    if (!msg && len) {
        violation("log: NULL message of %zu bytes", len);
        return;
    }
    if (len && !valid_utf8((const unsigned char *)msg, len)) {
        violation("log: message is not UTF-8");
    }
    if (ins && level > ins->log_level) {
        violation("log: %s message for %s, whose level is %s", level_name(level), ins->name,
                  level_name(ins->log_level));
    }
    pthread_mutex_lock(&g_log_mu);
    if (g_nlogs == g_caplogs) {
        g_caplogs = g_caplogs ? 2 * g_caplogs : 64;
        g_logs = xrealloc(g_logs, g_caplogs * sizeof(*g_logs));
    }
    g_logs[g_nlogs].ins_id = ins ? ins->id : 0;
    g_logs[g_nlogs].level = level;
    g_logs[g_nlogs].msg = xstrndup(msg ? msg : "", len);
    g_nlogs++;
    if (g_quiet) {
        g_suppressed++;
    } else {
        fprintf(stderr, "[flb-rs %-5s] %s: %.*s\n", level_name(level),
                ins ? ins->name : "(no instance)", (int)len, msg ? msg : "");
    }
    pthread_mutex_unlock(&g_log_mu);
}

int th_cb_log_level(void *host_ins)
{
    if (!host_ins) {
        return FLB_RS_LOG_INFO;
    }
    th_ins *ins = checked(host_ins, "log_level");
    return ins ? ins->log_level : FLB_RS_LOG_INFO;
}

size_t th_cb_property_count(void *host_ins)
{
    th_ins *ins = checked(host_ins, "property_count");
    if (!ins) {
        return 0;
    }
    pthread_mutex_lock(&ins->mu);
    if (!ins->in_create) {
        violation("property_count called outside create (%s)", ins->name);
    }
    pthread_mutex_unlock(&ins->mu);
    return ins->nprops;
}

int th_cb_property_at(void *host_ins, size_t index, const char **key, const char **value)
{
    th_ins *ins = checked(host_ins, "property_at");
    if (!ins) {
        return -1;
    }
    pthread_mutex_lock(&ins->mu);
    if (!ins->in_create) {
        violation("property_at called outside create (%s)", ins->name);
    }
    pthread_mutex_unlock(&ins->mu);
    if (!key || !value) {
        violation("property_at: NULL out-pointer");
        return -1;
    }
    if (index >= ins->nprops) {
        return -1;
    }
    *key = ins->keys[index];
    *value = ins->values[index];
    return 0;
}

/* ABI 1.2: append with the record count, which must be the events' own
 * (Fluent Bit takes it as it is). Checked, then appended as `append`. */
int th_cb_append_records(void *host_ins, const char *tag, size_t tag_len, const uint8_t *data,
                         size_t len, size_t records)
{
    mp_reader r;
    mp_event ev;
    size_t n = 0;

    if (data) {
        mp_reader_init(&r, data, len);
        while (r.pos < r.len && mp_read_event(&r, &ev) == 0) {
            n++;
        }
    }
    if (n != records) {
        violation("append_records: %zu records said, %zu in the events", records, n);
    }
    th_ins *ins = checked(host_ins, "append_records");
    if (!ins) {
        return -1;
    }
    pthread_mutex_lock(&ins->mu);
    ins->append_records_calls++;
    pthread_mutex_unlock(&ins->mu);
    return th_cb_append(host_ins, tag, tag_len, data, len);
}

int th_cb_append(void *host_ins, const char *tag, size_t tag_len, const uint8_t *data,
                 size_t len)
{
    th_ins *ins = checked(host_ins, "append");
    if (!ins) {
        return -1;
    }
    if (!data && len) {
        violation("append: NULL data of %zu bytes", len);
        return -1;
    }
    if (!tag && tag_len) {
        violation("append: NULL tag of %zu bytes", tag_len);
        return -1;
    }
    pthread_mutex_lock(&ins->mu);
    if (!ins->in_collect || !pthread_equal(ins->collect_thread, pthread_self())) {
        violation("append called outside collect, or on another thread (%s)", ins->name);
    }
    void (*hook)(th_ins *, const uint8_t *, size_t, void *) = ins->on_append;
    void *hook_arg = ins->on_append_arg;
    pthread_mutex_unlock(&ins->mu);
    if (hook) {
        hook(ins, data, len, hook_arg);
    }
    pthread_mutex_lock(&ins->mu);
    ins->append_calls++;
    if (ins->refuse_append) {
        pthread_mutex_unlock(&ins->mu);
        return -1;
    }
    th_append *a = xmalloc(sizeof(*a));
    a->next = NULL;
    a->tag = tag ? xstrndup(tag, tag_len) : NULL;
    a->data = xmalloc(len);
    if (len) {
        memcpy(a->data, data, len);
    }
    a->len = len;
    *ins->appends_tail = a;
    ins->appends_tail = &a->next;
    ins->nappends++;
    pthread_cond_broadcast(&ins->cond);
    pthread_mutex_unlock(&ins->mu);
    return 0;
}

int th_cb_metric_create(void *host_ins, int kind, const char *name, const char *help,
                        size_t label_count, const char *const *labels)
{
    th_ins *ins = checked(host_ins, "metric_create");
    if (!ins) {
        return -1;
    }
    if (kind != FLB_RS_METRIC_COUNTER && kind != FLB_RS_METRIC_GAUGE) {
        violation("metric_create: kind %d", kind);
        return -1;
    }
    if (!name || !help || (label_count && !labels) || label_count > 16) {
        violation("metric_create: bad arguments");
        return -1;
    }
    for (size_t i = 0; i < label_count; i++) {
        if (!labels[i]) {
            violation("metric_create: label %zu is NULL", i);
            return -1;
        }
    }
    pthread_mutex_lock(&ins->mu);
    for (size_t i = 0; i < ins->nmetrics; i++) {
        if (strcmp(ins->metrics[i].name, name) == 0) {
            violation("metric_create: %s declared twice on %s", name, ins->name);
        }
    }
    if (ins->nmetrics == ins->capmetrics) {
        ins->capmetrics = ins->capmetrics ? 2 * ins->capmetrics : 8;
        ins->metrics = xrealloc(ins->metrics, ins->capmetrics * sizeof(*ins->metrics));
    }
    th_metric_def *m = &ins->metrics[ins->nmetrics];
    m->kind = kind;
    m->name = xstrdup(name);
    m->help = xstrdup(help);
    m->nlabels = label_count;
    m->labels = xmalloc(label_count * sizeof(char *));
    for (size_t i = 0; i < label_count; i++) {
        m->labels[i] = xstrdup(labels[i]);
    }
    m->series = NULL;
    int id = (int)ins->nmetrics++;
    pthread_mutex_unlock(&ins->mu);
    return id;
}

static int same_values(const th_series *s, size_t n, const char *const *values)
{
    if (s->nvalues != n) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s->values[i], values[i]) != 0) {
            return 0;
        }
    }
    return 1;
}

void th_cb_metric_update(void *host_ins, int id, int op, double value, size_t label_count,
                         const char *const *label_values)
{
    th_ins *ins = checked(host_ins, "metric_update");
    if (!ins) {
        return;
    }
    if (label_count && !label_values) {
        violation("metric_update: NULL label values");
        return;
    }
    for (size_t i = 0; i < label_count; i++) {
        if (!label_values[i]) {
            violation("metric_update: label value %zu is NULL", i);
            return;
        }
    }
    pthread_mutex_lock(&ins->mu);
    if (id < 0 || (size_t)id >= ins->nmetrics) {
        violation("metric_update: unknown id %d on %s", id, ins->name);
        goto out;
    }
    th_metric_def *m = &ins->metrics[id];
    if (label_count != m->nlabels) {
        violation("metric_update: %s has %zu labels, %zu values given", m->name, m->nlabels,
                  label_count);
        goto out;
    }
    if (op != FLB_RS_METRIC_ADD && op != FLB_RS_METRIC_SET) {
        violation("metric_update: op %d", op);
        goto out;
    }
    if (m->kind == FLB_RS_METRIC_COUNTER && (op == FLB_RS_METRIC_SET || value < 0)) {
        violation("metric_update: counter %s set or decreased", m->name);
    }
    th_series *s = m->series;
    while (s && !same_values(s, label_count, label_values)) {
        s = s->next;
    }
    if (!s) {
        s = xmalloc(sizeof(*s));
        s->nvalues = label_count;
        s->values = xmalloc(label_count * sizeof(char *));
        for (size_t i = 0; i < label_count; i++) {
            s->values[i] = xstrdup(label_values[i]);
        }
        s->value = 0;
        s->max = -INFINITY;
        s->updates = 0;
        s->next = m->series;
        m->series = s;
    }
    s->value = op == FLB_RS_METRIC_SET ? value : s->value + value;
    if (s->value > s->max) {
        s->max = s->value;
    }
    s->updates++;
    ins->metric_updates++;
    pthread_cond_broadcast(&ins->cond);
out:
    pthread_mutex_unlock(&ins->mu);
}

/* ---- instances ---- */

th_ins *th_new(const char *name, int log_level)
{
    th_ins *ins = xmalloc(sizeof(*ins));
    pthread_condattr_t ca;
    memset(ins, 0, sizeof(*ins));
    ins->id = atomic_fetch_add(&g_next_id, 1);
    snprintf(ins->name, sizeof(ins->name), "%s", name);
    ins->magic = TH_MAGIC;
    ins->log_level = log_level;
    pthread_mutex_init(&ins->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ins->cond, &ca);
    pthread_condattr_destroy(&ca);
    ins->appends_tail = &ins->appends;
    return ins;
}

void th_free(th_ins *ins)
{
    if (!ins) {
        return;
    }
    for (size_t i = 0; i < ins->nprops; i++) {
        free(ins->keys[i]);
        free(ins->values[i]);
    }
    free(ins->keys);
    free(ins->values);
    th_appends_free(ins->appends);
    for (size_t i = 0; i < ins->nmetrics; i++) {
        th_metric_def *m = &ins->metrics[i];
        free(m->name);
        free(m->help);
        for (size_t j = 0; j < m->nlabels; j++) {
            free(m->labels[j]);
        }
        free(m->labels);
        th_series *s = m->series;
        while (s) {
            th_series *next = s->next;
            for (size_t j = 0; j < s->nvalues; j++) {
                free(s->values[j]);
            }
            free(s->values);
            free(s);
            s = next;
        }
    }
    free(ins->metrics);
    pthread_mutex_destroy(&ins->mu);
    pthread_cond_destroy(&ins->cond);
    ins->magic = 0;
    free(ins);
}

void th_prop(th_ins *ins, const char *key, const char *value)
{
    if (ins->nprops == ins->capprops) {
        ins->capprops = ins->capprops ? 2 * ins->capprops : 8;
        ins->keys = xrealloc(ins->keys, ins->capprops * sizeof(char *));
        ins->values = xrealloc(ins->values, ins->capprops * sizeof(char *));
    }
    ins->keys[ins->nprops] = xstrdup(key);
    ins->values[ins->nprops] = xstrdup(value);
    ins->nprops++;
}

int th_create(const flb_rs_plugin *plugin, const flb_rs_host_api *api, th_ins *ins,
              flb_rs_instance **out, char *err, size_t err_len)
{
    int rc;
    pthread_mutex_lock(&ins->mu);
    ins->in_create = 1;
    pthread_mutex_unlock(&ins->mu);
    rc = plugin->create(plugin, api ? api : &th_api, ins, out, err, err_len);
    pthread_mutex_lock(&ins->mu);
    ins->in_create = 0;
    pthread_mutex_unlock(&ins->mu);
    return rc;
}

int th_collect(const flb_rs_plugin *plugin, flb_rs_instance *rs, th_ins *ins)
{
    int rc;
    pthread_mutex_lock(&ins->mu);
    ins->in_collect = 1;
    ins->collect_thread = pthread_self();
    pthread_mutex_unlock(&ins->mu);
    rc = plugin->collect(rs);
    pthread_mutex_lock(&ins->mu);
    ins->in_collect = 0;
    pthread_mutex_unlock(&ins->mu);
    return rc;
}

th_append *th_take_appends(th_ins *ins, size_t *count)
{
    pthread_mutex_lock(&ins->mu);
    th_append *list = ins->appends;
    if (count) {
        *count = ins->nappends;
    }
    ins->appends = NULL;
    ins->appends_tail = &ins->appends;
    ins->nappends = 0;
    pthread_mutex_unlock(&ins->mu);
    return list;
}

void th_appends_free(th_append *list)
{
    while (list) {
        th_append *next = list->next;
        free(list->tag);
        free(list->data);
        free(list);
        list = next;
    }
}

void th_set_refuse_append(th_ins *ins, int refuse)
{
    pthread_mutex_lock(&ins->mu);
    ins->refuse_append = refuse;
    pthread_mutex_unlock(&ins->mu);
}

void th_set_on_append(th_ins *ins,
                      void (*fn)(th_ins *ins, const uint8_t *data, size_t len, void *arg),
                      void *arg)
{
    pthread_mutex_lock(&ins->mu);
    ins->on_append = fn;
    ins->on_append_arg = arg;
    pthread_mutex_unlock(&ins->mu);
}

size_t th_append_calls(th_ins *ins)
{
    pthread_mutex_lock(&ins->mu);
    size_t n = ins->append_calls;
    pthread_mutex_unlock(&ins->mu);
    return n;
}

/* ---- metric queries ---- */

static th_metric_def *find_metric(th_ins *ins, const char *name)
{
    for (size_t i = 0; i < ins->nmetrics; i++) {
        if (strcmp(ins->metrics[i].name, name) == 0) {
            return &ins->metrics[i];
        }
    }
    return NULL;
}

int th_metric_value(th_ins *ins, const char *name, size_t nvalues, const char *const *values,
                    double *value, double *max)
{
    int rc = -1;
    pthread_mutex_lock(&ins->mu);
    th_metric_def *m = find_metric(ins, name);
    for (th_series *s = m ? m->series : NULL; s; s = s->next) {
        if (same_values(s, nvalues, values)) {
            *value = s->value;
            if (max) {
                *max = s->max;
            }
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&ins->mu);
    return rc;
}

double th_metric(th_ins *ins, const char *name, const char *label)
{
    double v;
    const char *values[1] = {label};
    if (th_metric_value(ins, name, label ? 1 : 0, values, &v, NULL)) {
        return NAN;
    }
    return v;
}

int th_metric_declared(th_ins *ins, const char *name, int *kind, size_t *nlabels)
{
    pthread_mutex_lock(&ins->mu);
    th_metric_def *m = find_metric(ins, name);
    if (m) {
        if (kind) {
            *kind = m->kind;
        }
        if (nlabels) {
            *nlabels = m->nlabels;
        }
    }
    pthread_mutex_unlock(&ins->mu);
    return m ? 0 : -1;
}

uint64_t th_metric_updates(th_ins *ins)
{
    pthread_mutex_lock(&ins->mu);
    uint64_t n = ins->metric_updates;
    pthread_mutex_unlock(&ins->mu);
    return n;
}

uint64_t th_wait_metric_update(th_ins *ins, uint64_t seen, int timeout_ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&ins->mu);
    while (ins->metric_updates == seen) {
        if (pthread_cond_timedwait(&ins->cond, &ins->mu, &dl) == ETIMEDOUT) {
            break;
        }
    }
    uint64_t n = ins->metric_updates;
    pthread_mutex_unlock(&ins->mu);
    return n;
}

/* ---- log queries ---- */

size_t th_log_count(const th_ins *ins, int level, const char *substr)
{
    size_t n = 0;
    unsigned id = ins ? ins->id : 0;
    pthread_mutex_lock(&g_log_mu);
    for (size_t i = 0; i < g_nlogs; i++) {
        if (g_logs[i].ins_id == id && (level < 0 || g_logs[i].level == level) &&
            (!substr || strstr(g_logs[i].msg, substr))) {
            n++;
        }
    }
    pthread_mutex_unlock(&g_log_mu);
    return n;
}

size_t th_log_count_above(const th_ins *ins, int level)
{
    size_t n = 0;
    unsigned id = ins ? ins->id : 0;
    pthread_mutex_lock(&g_log_mu);
    for (size_t i = 0; i < g_nlogs; i++) {
        if (g_logs[i].ins_id == id && g_logs[i].level > level) {
            n++;
        }
    }
    pthread_mutex_unlock(&g_log_mu);
    return n;
}

int th_log_has_exact(const th_ins *ins, int level, const char *msg)
{
    int found = 0;
    unsigned id = ins ? ins->id : 0;
    pthread_mutex_lock(&g_log_mu);
    for (size_t i = 0; i < g_nlogs && !found; i++) {
        found = g_logs[i].ins_id == id && g_logs[i].level == level &&
                strcmp(g_logs[i].msg, msg) == 0;
    }
    pthread_mutex_unlock(&g_log_mu);
    return found;
}

size_t th_log_quiet(int quiet)
{
    pthread_mutex_lock(&g_log_mu);
    size_t n = g_suppressed;
    g_quiet = quiet;
    g_suppressed = 0;
    pthread_mutex_unlock(&g_log_mu);
    return n;
}
