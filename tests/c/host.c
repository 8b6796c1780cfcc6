/*
 * host.c: the C test host of flb-rs. Plays Fluent Bit's part through the
 * C ABI of include/flb_rs.h only, and checks the library's plugins (the
 * example ones and the testkit's) from the outside: ABI and versioning,
 * outputs, filters, inputs, malformed input, panics, small stacks and
 * concurrency, logging.
 *
 * Prints one PASS/FAIL line per test and, last, "N passed, M failed"; exits
 * non-zero when a test failed. Temporary files live in a mkdtemp directory
 * that is removed at the end.
 */

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "flb_rs.h"
#include "mp.h"
#include "th.h"

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define HAVE_VALGRIND 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

/* ------------------------------------------------------------------ */
/* Shared helpers                                                      */
/* ------------------------------------------------------------------ */

static const flb_rs_plugin *g_gen, *g_set, *g_jsonl, *g_count, *g_panic;
static char g_tmpdir[64];
static char **g_tmpfiles;
static size_t g_ntmpfiles;

/* A file name in the temporary directory, removed at the end. */
static const char *tmp_path(const char *name)
{
    size_t n = strlen(g_tmpdir) + strlen(name) + 2;
    char *p = malloc(n);
    char **list = realloc(g_tmpfiles, (g_ntmpfiles + 1) * sizeof(char *));
    if (!p || !list) {
        abort();
    }
    snprintf(p, n, "%s/%s", g_tmpdir, name);
    g_tmpfiles = list;
    g_tmpfiles[g_ntmpfiles++] = p;
    return p;
}

static void tmp_cleanup(void)
{
    for (size_t i = 0; i < g_ntmpfiles; i++) {
        if (unlink(g_tmpfiles[i]) != 0 && errno != ENOENT) {
            fprintf(stderr, "cannot remove %s: %s\n", g_tmpfiles[i], strerror(errno));
        }
        free(g_tmpfiles[i]);
    }
    free(g_tmpfiles);
    g_tmpfiles = NULL;
    g_ntmpfiles = 0;
    if (g_tmpdir[0] && rmdir(g_tmpdir) != 0) {
        fprintf(stderr, "cannot remove %s: %s\n", g_tmpdir, strerror(errno));
    }
}

/* On a hang: remove what can be removed, with async-signal-safe calls. */
static void tmp_cleanup_on_timeout(void)
{
    for (size_t i = 0; i < g_ntmpfiles; i++) {
        unlink(g_tmpfiles[i]);
    }
    rmdir(g_tmpdir);
}

/* The whole file as a NUL-terminated string (NULL when it cannot be read). */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;
    if (!f) {
        return NULL;
    }
    for (;;) {
        if (cap - n < 4096) {
            cap = cap ? 2 * cap : 8192;
            char *p = realloc(buf, cap);
            if (!p) {
                abort();
            }
            buf = p;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) {
            break;
        }
    }
    fclose(f);
    buf[n] = 0;
    if (len) {
        *len = n;
    }
    return buf;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int flush(const flb_rs_plugin *p, flb_rs_instance *rs, const char *tag, const mp_buf *b)
{
    return p->flush(rs, tag, strlen(tag), b->data, b->len);
}

/* Creates an instance that must come up; NULL (and a failed check) when
 * it does not. */
static flb_rs_instance *make(const flb_rs_plugin *p, th_ins *ins)
{
    flb_rs_instance *rs = NULL;
    char err[512] = "";
    int rc = th_create(p, NULL, ins, &rs, err, sizeof(err));
    CHECKF(rc == FLB_RS_OK && rs, "create %s (%s): rc %d: %s", p->name, ins->name, rc, err);
    return rc == FLB_RS_OK ? rs : NULL;
}

/* Creates an instance that must fail; returns the error message (static). */
static const char *make_fails(const flb_rs_plugin *p, th_ins *ins)
{
    static char err[512];
    flb_rs_instance *rs = (flb_rs_instance *)(void *)&err; /* not NULL: create must clear it */
    memset(err, 0, sizeof(err));
    int rc = th_create(p, NULL, ins, &rs, err, sizeof(err));
    CHECKF(rc == FLB_RS_ERROR, "create %s should fail with FLB_RS_ERROR, returned %d", p->name,
           rc);
    CHECKF(rs == NULL, "failed create of %s left *out set", p->name);
    if (rc == FLB_RS_OK && rs) {
        p->destroy(rs);
    }
    return err;
}

static uint64_t rng_state;

static uint64_t rng(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

/* The records of a buffer of events, checked to be well-formed. Returns the
 * number of events, or -1. */
static long count_events(const uint8_t *data, size_t len)
{
    mp_reader r;
    mp_event ev;
    long n = 0;
    mp_reader_init(&r, data, len);
    while (r.pos < r.len) {
        if (mp_read_event(&r, &ev)) {
            return -1;
        }
        n++;
    }
    return n;
}

/* ------------------------------------------------------------------ */
/* 1. ABI: version, plugin list, config keys                           */
/* ------------------------------------------------------------------ */

static const flb_rs_config_key *key_named(const flb_rs_plugin *p, const char *name)
{
    for (size_t i = 0; i < p->config_key_count; i++) {
        const flb_rs_config_key *k = flb_rs_plugin_config_key(p, i);
        if (k && strcmp(k->name, name) == 0) {
            return k;
        }
    }
    return NULL;
}

static void check_key(const flb_rs_plugin *p, const char *name, uint32_t type, const char *def,
                      int multiple)
{
    const flb_rs_config_key *k = key_named(p, name);
    CHECKF(k != NULL, "%s has no key %s", p->name, name);
    if (!k) {
        return;
    }
    CHECKF(k->struct_size >= sizeof(flb_rs_config_key), "%s.%s: struct_size %u", p->name, name,
           k->struct_size);
    CHECKF(k->key_type == type, "%s.%s: type %u, expected %u", p->name, name, k->key_type, type);
    CHECKF((k->multiple != 0) == (multiple != 0), "%s.%s: multiple %u", p->name, name,
           k->multiple);
    if (def) {
        CHECKF(k->default_value && strcmp(k->default_value, def) == 0,
               "%s.%s: default %s, expected \"%s\"", p->name, name,
               k->default_value ? k->default_value : "NULL", def);
    } else {
        CHECKF(k->default_value == NULL, "%s.%s: default \"%s\", expected NULL", p->name, name,
               k->default_value);
    }
    CHECKF(k->description && k->description[0] && !strchr(k->description, '\n'),
           "%s.%s: description should be one non-empty line", p->name, name);
}

static void test_abi(void)
{
    static const struct {
        const char *name;
        uint32_t kind;
        size_t keys;
    } expected[] = {
        {"rs_example_gen", FLB_RS_KIND_INPUT, 4},   {"rs_example_set", FLB_RS_KIND_FILTER, 2},
        {"rs_example_jsonl", FLB_RS_KIND_OUTPUT, 4}, {"rs_test_count", FLB_RS_KIND_OUTPUT, 5},
        {"rs_test_panic", FLB_RS_KIND_FILTER, 1},    {"rs_syslog", FLB_RS_KIND_OUTPUT, 46},
        {"rs_redact", FLB_RS_KIND_FILTER, 7},      {"rs_syslog", FLB_RS_KIND_INPUT, 28},
    };
    const size_t nexpected = sizeof(expected) / sizeof(expected[0]);

    CHECK_INT(flb_rs_abi_version(), (FLB_RS_ABI_MAJOR << 16) | FLB_RS_ABI_MINOR);
    const char *v = flb_rs_library_version();
    CHECK(v != NULL && v[0] != 0);
    check_note("library %s, ABI %u.%u", v ? v : "?", flb_rs_abi_version() >> 16,
               flb_rs_abi_version() & 0xffff);

    CHECK_INT(flb_rs_plugin_count(), nexpected);
    for (size_t i = 0; i < flb_rs_plugin_count(); i++) {
        const flb_rs_plugin *p = flb_rs_plugin_get(i);
        CHECKF(p != NULL, "plugin %zu is NULL", i);
        if (!p) {
            continue;
        }
        size_t j = 0;
        /* By name and kind: an input and an output may share a name. */
        while (j < nexpected &&
               (strcmp(expected[j].name, p->name) != 0 || expected[j].kind != p->kind)) {
            j++;
        }
        CHECKF(j < nexpected, "unexpected plugin %s", p->name);
        if (j == nexpected) {
            continue;
        }
        CHECKF(p->kind == expected[j].kind, "%s: kind %u, expected %u", p->name, p->kind,
               expected[j].kind);
        CHECKF(p->config_key_count == expected[j].keys, "%s: %zu keys, expected %zu", p->name,
               p->config_key_count, expected[j].keys);
        CHECKF(p->struct_size >= sizeof(flb_rs_plugin), "%s: struct_size %u", p->name,
               p->struct_size);
        CHECKF(p->event_type == FLB_RS_EVENT_LOGS, "%s: event_type %u", p->name, p->event_type);
        /* Only the redaction filter fails closed: what it cannot filter
         * must be dropped, never passed on. */
        CHECKF(p->flags == (strcmp(p->name, "rs_redact") == 0 ? FLB_RS_PLUGIN_FAIL_CLOSED : 0u),
               "%s: flags %u", p->name, p->flags);
        CHECK(p->description && p->description[0]);
        CHECK(p->create && p->destroy);
        int out = p->kind == FLB_RS_KIND_OUTPUT, flt = p->kind == FLB_RS_KIND_FILTER,
            in = p->kind == FLB_RS_KIND_INPUT;
        CHECKF(!!p->flush == out, "%s: flush callback", p->name);
        CHECKF(!!p->filter == flt, "%s: filter callback", p->name);
        CHECKF(!!p->input_fd == in && !!p->collect == in && !!p->pause == in &&
                   !!p->resume == in,
               "%s: input callbacks", p->name);
        CHECK(flb_rs_plugin_find(p->kind, p->name) == p);
        for (size_t k = 0; k < p->config_key_count; k++) {
            CHECKF(flb_rs_plugin_config_key(p, k) != NULL, "%s key %zu", p->name, k);
        }
        CHECK(flb_rs_plugin_config_key(p, p->config_key_count) == NULL);
    }
    CHECK(flb_rs_plugin_get(flb_rs_plugin_count()) == NULL);
    CHECK(flb_rs_plugin_get((size_t)-1) == NULL);

    /* find: by kind and name */
    CHECK(g_jsonl != NULL && strcmp(g_jsonl->name, "rs_example_jsonl") == 0);
    CHECK(flb_rs_plugin_find(FLB_RS_KIND_INPUT, "rs_example_jsonl") == NULL);
    CHECK(flb_rs_plugin_find(FLB_RS_KIND_FILTER, "rs_example_jsonl") == NULL);
    CHECK(flb_rs_plugin_find(FLB_RS_KIND_OUTPUT, "rs_example") == NULL);
    CHECK(flb_rs_plugin_find(FLB_RS_KIND_OUTPUT, "rs_example_jsonl2") == NULL);
    CHECK(flb_rs_plugin_find(FLB_RS_KIND_OUTPUT, "") == NULL);
    CHECK(flb_rs_plugin_find(FLB_RS_KIND_OUTPUT, NULL) == NULL);
    CHECK(flb_rs_plugin_find(0, "rs_example_jsonl") == NULL);

    /* config keys */
    check_key(g_jsonl, "path", FLB_RS_KEY_STR, NULL, 0);
    check_key(g_jsonl, "time_key", FLB_RS_KEY_STR, "date", 0);
    check_key(g_jsonl, "include_tag", FLB_RS_KEY_BOOL, "on", 0);
    check_key(g_jsonl, "sync", FLB_RS_KEY_BOOL, "off", 0);
    check_key(g_set, "set", FLB_RS_KEY_STR, NULL, 1);
    check_key(g_set, "remove", FLB_RS_KEY_STR, NULL, 1);
    check_key(g_gen, "message", FLB_RS_KEY_STR, "hello from rust", 0);
    check_key(g_gen, "count", FLB_RS_KEY_INT, "0", 0);
    check_key(g_gen, "interval", FLB_RS_KEY_TIME, "1s", 0);
    check_key(g_gen, "batch", FLB_RS_KEY_INT, "1", 0);
    check_key(g_count, "result", FLB_RS_KEY_STR, "ok", 0);
    check_key(g_count, "delay", FLB_RS_KEY_TIME, "0", 0);
    check_key(g_count, "panic_in", FLB_RS_KEY_STR, "", 0);
    check_key(g_count, "decode", FLB_RS_KEY_BOOL, "on", 0);
    check_key(g_panic, "key", FLB_RS_KEY_STR, "panic", 0);
    /* keys come in declaration order */
    const flb_rs_config_key *k0 = flb_rs_plugin_config_key(g_jsonl, 0);
    CHECK(k0 && strcmp(k0->name, "path") == 0);

    /* out of range, NULL, or not a descriptor of this library */
    CHECK(flb_rs_plugin_config_key(g_jsonl, 4) == NULL);
    CHECK(flb_rs_plugin_config_key(g_jsonl, (size_t)-1) == NULL);
    CHECK(flb_rs_plugin_config_key(NULL, 0) == NULL);
    flb_rs_plugin copy = *g_jsonl;
    CHECK(flb_rs_plugin_config_key(&copy, 0) == NULL);

    /* harmless no-ops the header documents */
    flb_rs_buffer_free(NULL, 0);
    g_jsonl->destroy(NULL);
}

/* ------------------------------------------------------------------ */
/* 2. ABI versions: major mismatch, newer minor, older (shorter) table  */
/* ------------------------------------------------------------------ */

static const flb_rs_host_api g_api_major_plus =
    TH_API_INIT(FLB_RS_ABI_MAJOR + 1, FLB_RS_ABI_MINOR, sizeof(flb_rs_host_api));

/* A host from the future: newer minor, a longer table. */
typedef struct {
    flb_rs_host_api api;
    void (*future_callback)(void *);
    void *future_pointer;
    uint64_t future_flags;
} host_api_v1_5;

static void future_callback(void *p)
{
    (void)p;
    abort(); /* the library cannot know this field */
}

static const host_api_v1_5 g_api_newer = {
    TH_API_INIT(FLB_RS_ABI_MAJOR, FLB_RS_ABI_MINOR + 5, sizeof(host_api_v1_5)),
    future_callback,
    (void *)&g_api_newer,
    0xffffffffffffffffULL,
};

/* A host from the past: the table ends after property_at; the fields past
 * struct_size hold traps that count any call. */
static int g_trap_calls;

static int trap_append(void *h, const char *t, size_t tl, const uint8_t *d, size_t l)
{
    (void)h, (void)t, (void)tl, (void)d, (void)l;
    g_trap_calls++;
    return -1;
}

static int trap_append_records(void *h, const char *t, size_t tl, const uint8_t *d, size_t l,
                               size_t n)
{
    (void)h, (void)t, (void)tl, (void)d, (void)l, (void)n;
    g_trap_calls++;
    return -1;
}

static int trap_metric_create(void *h, int k, const char *n, const char *hp, size_t lc,
                              const char *const *ls)
{
    (void)h, (void)k, (void)n, (void)hp, (void)lc, (void)ls;
    g_trap_calls++;
    return -1;
}

static void trap_metric_update(void *h, int id, int op, double v, size_t lc,
                               const char *const *lv)
{
    (void)h, (void)id, (void)op, (void)v, (void)lc, (void)lv;
    g_trap_calls++;
}

static const flb_rs_host_api g_api_older = {
    FLB_RS_ABI_MAJOR,
    FLB_RS_ABI_MINOR,
    (uint32_t)offsetof(flb_rs_host_api, append),
    th_cb_log,
    th_cb_log_level,
    th_cb_property_count,
    th_cb_property_at,
    /* past struct_size: must never be read */
    trap_append,
    trap_metric_create,
    trap_metric_update,
    trap_append_records,
};

/* Tables the library must refuse: too short for even the version fields
 * and the required callbacks, and one without `log`. */
static const flb_rs_host_api g_api_tiny = {
    FLB_RS_ABI_MAJOR,     FLB_RS_ABI_MINOR,  8,            th_cb_log, th_cb_log_level,
    th_cb_property_count, th_cb_property_at, th_cb_append, NULL,      NULL, NULL,
};
static const flb_rs_host_api g_api_no_log = {
    FLB_RS_ABI_MAJOR,     FLB_RS_ABI_MINOR,  sizeof(flb_rs_host_api), NULL, th_cb_log_level,
    th_cb_property_count, th_cb_property_at, th_cb_append,            NULL, NULL, NULL,
};

static void one_record(mp_buf *b, uint32_t sec, const char *key, const char *value)
{
    mp_v2_head(b, sec, 0);
    mp_map(b, 1);
    mp_str(b, key);
    mp_str(b, value);
}

static void test_abi_versions(void)
{
    char err[512], want_host[32], want_lib[32];
    snprintf(want_host, sizeof(want_host), "%d.%d", FLB_RS_ABI_MAJOR + 1, FLB_RS_ABI_MINOR);
    snprintf(want_lib, sizeof(want_lib), "%d.%d", FLB_RS_ABI_MAJOR, FLB_RS_ABI_MINOR);

    /* register: major mismatch */
    memset(err, 0, sizeof(err));
    CHECK_INT(flb_rs_register(&g_api_major_plus, err, sizeof(err)), FLB_RS_ERROR_ABI);
    CHECK_HAS(err, want_host);
    CHECK_HAS(err, want_lib);
    CHECK_INT(flb_rs_register(&g_api_major_plus, NULL, 0), FLB_RS_ERROR_ABI);
    CHECK_INT(flb_rs_register(NULL, err, sizeof(err)), FLB_RS_ERROR);
    /* a short error buffer: cut and NUL-terminated, nothing written past it */
    {
        char small[16];
        memset(small, 'x', sizeof(small));
        CHECK_INT(flb_rs_register(&g_api_major_plus, small, 8), FLB_RS_ERROR_ABI);
        CHECK(memchr(small, 0, 8) == small + 7);
        for (size_t i = 8; i < sizeof(small); i++) {
            CHECKF(small[i] == 'x', "byte %zu past err_len was written", i);
        }
        memset(small, 'x', sizeof(small));
        CHECK_INT(flb_rs_register(&g_api_major_plus, small, 0), FLB_RS_ERROR_ABI);
        CHECK(small[0] == 'x');
    }

    /* create: major mismatch */
    {
        th_ins *ins = th_new("jsonl-major+1", FLB_RS_LOG_INFO);
        flb_rs_instance *rs = (flb_rs_instance *)(void *)err;
        th_prop(ins, "path", tmp_path("abi-major.jsonl"));
        memset(err, 0, sizeof(err));
        CHECK_INT(th_create(g_jsonl, &g_api_major_plus, ins, &rs, err, sizeof(err)),
                  FLB_RS_ERROR_ABI);
        CHECK(rs == NULL);
        CHECK_HAS(err, want_host);
        CHECK_HAS(err, want_lib);
        th_free(ins);
    }

    /* register and create: tables too small or without a required callback */
    CHECK_INT(flb_rs_register(&g_api_tiny, err, sizeof(err)), FLB_RS_ERROR);
    CHECK_INT(flb_rs_register(&g_api_no_log, err, sizeof(err)), FLB_RS_ERROR);
    CHECK_HAS(err, "log");
    {
        th_ins *ins = th_new("count-tiny-table", FLB_RS_LOG_INFO);
        flb_rs_instance *rs = (flb_rs_instance *)(void *)err;
        CHECK_INT(th_create(g_count, &g_api_tiny, ins, &rs, err, sizeof(err)), FLB_RS_ERROR);
        CHECK(rs == NULL);
        rs = (flb_rs_instance *)(void *)err;
        CHECK_INT(th_create(g_count, &g_api_no_log, ins, &rs, err, sizeof(err)), FLB_RS_ERROR);
        CHECK(rs == NULL);
        CHECK_INT(th_create(g_count, &th_api, ins, NULL, err, sizeof(err)), FLB_RS_ERROR);
        th_free(ins);
    }

    /* a newer minor with a longer table is accepted and works */
    {
        CHECK_INT(flb_rs_register(&g_api_newer.api, err, sizeof(err)), FLB_RS_OK);
        th_ins *ins = th_new("count-minor+5", FLB_RS_LOG_INFO);
        flb_rs_instance *rs = NULL;
        int rc = th_create(g_count, &g_api_newer.api, ins, &rs, err, sizeof(err));
        CHECKF(rc == FLB_RS_OK && rs, "create with a newer minor: %d %s", rc, err);
        if (rs) {
            mp_buf b;
            mp_init(&b);
            one_record(&b, 1, "k", "v");
            one_record(&b, 2, "k", "v");
            CHECK_INT(flush(g_count, rs, "newer", &b), FLB_RS_OK);
            g_count->destroy(rs);
            mp_free(&b);
            CHECK(th_metric(ins, "records_total", "newer") == 2.0);
        }
        th_free(ins);
    }

    /* an older table, up to property_at: outputs still work, without
     * metrics; inputs need append and are refused */
    {
        const char *path = tmp_path("abi-older.jsonl");
        th_ins *ins = th_new("jsonl-older-table", FLB_RS_LOG_INFO);
        flb_rs_instance *rs = NULL;
        th_prop(ins, "path", path);
        g_trap_calls = 0;
        int rc = th_create(g_jsonl, &g_api_older, ins, &rs, err, sizeof(err));
        CHECKF(rc == FLB_RS_OK && rs, "create with an older table: %d %s", rc, err);
        if (rs) {
            mp_buf b;
            mp_init(&b);
            one_record(&b, 7, "k", "v");
            CHECK_INT(flush(g_jsonl, rs, "old", &b), FLB_RS_OK);
            g_jsonl->destroy(rs);
            mp_free(&b);
            char *text = slurp(path, NULL);
            CHECK_STR(text, "{\"date\":7.000000000,\"tag\":\"old\",\"k\":\"v\"}\n");
            free(text);
        }
        CHECK_INT(g_trap_calls, 0);
        {
            char msg[256];
            snprintf(msg, sizeof(msg), "writing to %s", path);
            CHECK(th_log_has_exact(ins, FLB_RS_LOG_INFO, msg));
        }
        th_free(ins);

        th_ins *gins = th_new("gen-older-table", FLB_RS_LOG_INFO);
        rs = (flb_rs_instance *)(void *)err;
        th_prop(gins, "count", "1");
        CHECK_INT(th_create(g_gen, &g_api_older, gins, &rs, err, sizeof(err)), FLB_RS_ERROR);
        CHECK(rs == NULL);
        CHECK_HAS(err, "append");
        CHECK_INT(g_trap_calls, 0);
        th_free(gins);
    }
}

/* ------------------------------------------------------------------ */
/* 3. Output rs_example_jsonl: every wire form, exact file text         */
/* ------------------------------------------------------------------ */

static void group_marker(mp_buf *b, uint32_t sec, const char *key, const char *value)
{
    mp_array(b, 2);
    mp_array(b, 2);
    mp_event_time(b, sec, 0);
    mp_map(b, 0);
    if (key) {
        mp_map(b, 1);
        mp_str(b, key);
        mp_str(b, value);
    } else {
        mp_map(b, 0);
    }
}

/* Nine records in every timestamp and framing form, between group
 * markers; the text rs_example_jsonl must make of them follows. */
static void build_mixed_chunk(mp_buf *b)
{
    static const uint8_t deadbeef[] = {0xde, 0xad, 0xbe, 0xef};
    group_marker(b, 0xffffffffu, "resource", "svc");

    /* 1: V2, fixext8 EventTime */
    mp_v2_head(b, 1700000000, 123456789);
    mp_map(b, 2);
    mp_str(b, "msg");
    mp_str(b, "hello");
    mp_str(b, "n");
    mp_uint(b, 42);

    /* 2: legacy [integer seconds, body] */
    mp_array(b, 2);
    mp_uint(b, 1700000001);
    mp_map(b, 2);
    mp_str(b, "level");
    mp_str(b, "info");
    mp_str(b, "neg");
    mp_int(b, -7);

    /* 3: V2 with float seconds and metadata; floats and constants */
    mp_array(b, 2);
    mp_array(b, 2);
    mp_f64(b, 1700000002.25);
    mp_map(b, 1);
    mp_str(b, "m");
    mp_uint(b, 1);
    mp_map(b, 5);
    mp_str(b, "pi");
    mp_f64(b, 3.5);
    mp_str(b, "ok");
    mp_bool(b, 1);
    mp_str(b, "no");
    mp_bool(b, 0);
    mp_str(b, "none");
    mp_nil(b);
    mp_str(b, "neg");
    mp_f64(b, -0.5);

    /* 4: V2, ext8 EventTime; nested map and arrays */
    mp_array(b, 2);
    mp_array(b, 2);
    mp_event_time_ext8(b, 1700000003, 5);
    mp_map(b, 0);
    mp_map(b, 2);
    mp_str(b, "nested");
    mp_map(b, 2);
    mp_str(b, "a");
    mp_array(b, 3);
    mp_uint(b, 1);
    mp_str(b, "two");
    mp_map(b, 1);
    mp_str(b, "b");
    mp_nil(b);
    mp_str(b, "e");
    mp_map(b, 0);
    mp_str(b, "arr");
    mp_array(b, 0);

    /* 5: legacy with float seconds; unicode */
    mp_array(b, 2);
    mp_f64(b, 1700000004.5);
    mp_map(b, 1);
    mp_str(b, "uni");
    mp_str(b, "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xf0\x9f\x98\x80");

    /* 6: quotes, backslash, control characters */
    mp_v2_head(b, 1700000005, 0);
    mp_map(b, 1);
    mp_str(b, "q");
    mp_str(b, "say \"hi\"\n\ttab\\ back\x01 \r");

    /* 7: invalid UTF-8 in a value and in a key */
    mp_v2_head(b, 1700000006, 0);
    mp_map(b, 2);
    mp_str(b, "bad");
    mp_str(b, "a\xff\xfe" "b\xc3");
    mp_str(b, "k\xff");
    mp_uint(b, 1);

    /* 8: map16 body; extreme integers; str8/16/32; bin; ext; integer key;
     * float32 */
    mp_v2_head(b, 1700000007, 0);
    mp_map16(b, 9);
    mp_str(b, "big");
    mp_uint(b, UINT64_MAX);
    mp_str(b, "min");
    mp_int(b, INT64_MIN);
    mp_str8(b, "s8", 2);
    mp_str8(b, "x", 1);
    mp_str16(b, "s16", 3);
    mp_str16(b, "y", 1);
    mp_str32(b, "s32", 3);
    mp_str32(b, "z", 1);
    mp_str(b, "bin");
    mp_bin(b, deadbeef, sizeof(deadbeef));
    mp_str(b, "ext");
    mp_byte(b, 0xd4); /* fixext1, type 5 */
    mp_byte(b, 0x05);
    mp_byte(b, 0xab);
    mp_uint(b, 1);
    mp_str(b, "one");
    mp_str(b, "f32");
    mp_f32(b, 1.25f);

    /* 9: map32 header, empty body; integer seconds in a V2 header */
    mp_array(b, 2);
    mp_array(b, 2);
    mp_byte(b, 0xce);
    mp_be32(b, 1700000008);
    mp_map(b, 0);
    mp_map32(b, 0);

    group_marker(b, 0xfffffffeu, NULL, NULL);
}

static const char *const mixed_chunk_text =
    "{\"date\":1700000000.123456789,\"tag\":\"app.log\",\"msg\":\"hello\",\"n\":42}\n"
    "{\"date\":1700000001.000000000,\"tag\":\"app.log\",\"level\":\"info\",\"neg\":-7}\n"
    "{\"date\":1700000002.250000000,\"tag\":\"app.log\",\"pi\":3.5,\"ok\":true,\"no\":false,"
    "\"none\":null,\"neg\":-0.5}\n"
    "{\"date\":1700000003.000000005,\"tag\":\"app.log\",\"nested\":{\"a\":[1,\"two\",{\"b\":"
    "null}],\"e\":{}},\"arr\":[]}\n"
    "{\"date\":1700000004.500000000,\"tag\":\"app.log\",\"uni\":\"h\xc3\xa9llo w\xc3\xb6rld "
    "\xe2\x9c\x93 \xf0\x9f\x98\x80\"}\n"
    "{\"date\":1700000005.000000000,\"tag\":\"app.log\",\"q\":\"say \\\"hi\\\"\\n\\ttab\\\\ "
    "back\\u0001 \\r\"}\n"
    "{\"date\":1700000006.000000000,\"tag\":\"app.log\",\"bad\":\"a\xef\xbf\xbd\xef\xbf\xbd"
    "b\xef\xbf\xbd\",\"k\xef\xbf\xbd\":1}\n"
    "{\"date\":1700000007.000000000,\"tag\":\"app.log\",\"big\":18446744073709551615,"
    "\"min\":-9223372036854775808,\"s8\":\"x\",\"s16\":\"y\",\"s32\":\"z\",\"bin\":"
    "\"deadbeef\",\"ext\":\"ab\",\"1\":\"one\",\"f32\":1.25}\n"
    "{\"date\":1700000008.000000000,\"tag\":\"app.log\"}\n";

static void test_jsonl_output(void)
{
    mp_buf b;
    mp_init(&b);

    /* the mixed chunk, default keys */
    {
        const char *path = tmp_path("mixed.jsonl");
        th_ins *ins = th_new("jsonl-mixed", FLB_RS_LOG_INFO);
        th_prop(ins, "path", path);
        flb_rs_instance *rs = make(g_jsonl, ins);
        if (rs) {
            build_mixed_chunk(&b);
            CHECK_INT(flush(g_jsonl, rs, "app.log", &b), FLB_RS_OK);
            char *text = slurp(path, NULL);
            CHECK_STR(text, mixed_chunk_text);
            free(text);
            CHECK(th_metric(ins, "records_total", NULL) == 9.0);
            double dropped = th_metric(ins, "dropped_records_total", NULL);
            CHECK(isnan(dropped) || dropped == 0.0);

            /* an empty chunk writes nothing and succeeds */
            CHECK_INT(g_jsonl->flush(rs, "app.log", 7, NULL, 0), FLB_RS_OK);

            /* a record nested deeper than JSON rendering allows is dropped
             * and counted; the records around it are written */
            mp_reset(&b);
            one_record(&b, 10, "before", "1");
            mp_v2_head(&b, 11, 0);
            mp_map(&b, 1);
            mp_str(&b, "deep");
            for (int i = 0; i < 1000; i++) {
                mp_array(&b, 1);
            }
            mp_nil(&b);
            one_record(&b, 12, "after", "1");
            CHECK_INT(flush(g_jsonl, rs, "deep", &b), FLB_RS_OK);
            CHECK(th_metric(ins, "records_total", NULL) == 11.0);
            CHECK(th_metric(ins, "dropped_records_total", NULL) == 1.0);

            /* damage after two good records: they are written, the flush
             * is an error */
            mp_reset(&b);
            one_record(&b, 20, "good", "1");
            one_record(&b, 21, "good", "2");
            mp_array(&b, 2);
            mp_byte(&b, 0xc1);
            CHECK_INT(flush(g_jsonl, rs, "bad", &b), FLB_RS_ERROR);
            CHECK(th_metric(ins, "records_total", NULL) == 13.0);
            CHECK(th_log_count(ins, FLB_RS_LOG_ERROR, "malformed") >= 1);

            g_jsonl->destroy(rs);
            text = slurp(path, NULL);
            size_t base = strlen(mixed_chunk_text);
            CHECK(text && strlen(text) >= base);
            if (text && strlen(text) >= base) {
                CHECK_STR(text + base,
                          "{\"date\":10.000000000,\"tag\":\"deep\",\"before\":\"1\"}\n"
                          "{\"date\":12.000000000,\"tag\":\"deep\",\"after\":\"1\"}\n"
                          "{\"date\":20.000000000,\"tag\":\"bad\",\"good\":\"1\"}\n"
                          "{\"date\":21.000000000,\"tag\":\"bad\",\"good\":\"2\"}\n");
            }
            free(text);
        }
        th_free(ins);
    }

    /* time_key (given twice: the last wins), include_tag off, sync on,
     * keys in any case */
    {
        const char *path = tmp_path("options.jsonl");
        th_ins *ins = th_new("jsonl-options", FLB_RS_LOG_INFO);
        th_prop(ins, "Path", path);
        th_prop(ins, "time_key", "first");
        th_prop(ins, "TIME_KEY", "ts");
        th_prop(ins, "include_tag", "Off");
        th_prop(ins, "sync", "yes");
        flb_rs_instance *rs = make(g_jsonl, ins);
        if (rs) {
            mp_reset(&b);
            mp_v2_head(&b, 1, 1);
            mp_map(&b, 1);
            mp_str(&b, "k");
            mp_str(&b, "v");
            mp_v2_head(&b, 2, 999999999);
            mp_map(&b, 0);
            CHECK_INT(flush(g_jsonl, rs, "ignored", &b), FLB_RS_OK);
            g_jsonl->destroy(rs);
            char *text = slurp(path, NULL);
            CHECK_STR(text, "{\"ts\":1.000000001,\"k\":\"v\"}\n{\"ts\":2.999999999}\n");
            free(text);
            CHECK(th_metric(ins, "records_total", NULL) == 2.0);
        }
        th_free(ins);
    }
    mp_free(&b);
}

/* ------------------------------------------------------------------ */
/* 4. Configuration errors                                             */
/* ------------------------------------------------------------------ */

static void test_config_errors(void)
{
    const char *err;

    {
        th_ins *ins = th_new("jsonl-unknown-key", FLB_RS_LOG_INFO);
        th_prop(ins, "path", tmp_path("cfg-unknown.jsonl"));
        th_prop(ins, "bogus_key", "1");
        err = make_fails(g_jsonl, ins);
        CHECK_HAS(err, "bogus_key");
        CHECK_HAS(err, "rs_example_jsonl");
        CHECK(th_log_count(ins, FLB_RS_LOG_ERROR, "bogus_key") >= 1);
        th_free(ins);
    }
    {
        th_ins *ins = th_new("jsonl-bad-bool", FLB_RS_LOG_INFO);
        th_prop(ins, "path", tmp_path("cfg-bool.jsonl"));
        th_prop(ins, "include_tag", "maybe");
        err = make_fails(g_jsonl, ins);
        CHECK_HAS(err, "include_tag");
        CHECK_HAS(err, "maybe");
        CHECK(th_log_count(ins, FLB_RS_LOG_ERROR, "maybe") >= 1);
        th_free(ins);
    }
    {
        th_ins *ins = th_new("jsonl-no-path", FLB_RS_LOG_INFO);
        th_prop(ins, "time_key", "t");
        err = make_fails(g_jsonl, ins);
        CHECK_HAS(err, "missing");
        CHECK_HAS(err, "'path'");
        CHECK(th_log_count(ins, FLB_RS_LOG_ERROR, "'path'") >= 1);
        th_free(ins);
    }
    {
        th_ins *ins = th_new("jsonl-unwritable", FLB_RS_LOG_INFO);
        th_prop(ins, "path", "/nonexistent-dir-of-flb-rs-tests/x.jsonl");
        err = make_fails(g_jsonl, ins);
        CHECK_HAS(err, "/nonexistent-dir-of-flb-rs-tests/x.jsonl");
        th_free(ins);
    }
    {
        th_ins *ins = th_new("count-bad-result", FLB_RS_LOG_INFO);
        th_prop(ins, "result", "sometimes");
        err = make_fails(g_count, ins);
        CHECK_HAS(err, "sometimes");
        th_free(ins);
    }
    {
        th_ins *ins = th_new("count-bad-delay", FLB_RS_LOG_INFO);
        th_prop(ins, "delay", "soon");
        err = make_fails(g_count, ins);
        CHECK_HAS(err, "delay");
        CHECK_HAS(err, "soon");
        th_free(ins);
    }
    {
        th_ins *ins = th_new("gen-bad-batch", FLB_RS_LOG_INFO);
        th_prop(ins, "batch", "0");
        err = make_fails(g_gen, ins);
        CHECK_HAS(err, "batch");
        th_free(ins);
    }
    {
        th_ins *ins = th_new("gen-bad-count", FLB_RS_LOG_INFO);
        th_prop(ins, "count", "-3");
        err = make_fails(g_gen, ins);
        CHECK_HAS(err, "count");
        CHECK_HAS(err, "-3");
        th_free(ins);
    }
    {
        th_ins *ins = th_new("set-no-value", FLB_RS_LOG_INFO);
        th_prop(ins, "set", "a 1");
        th_prop(ins, "set", "lonely");
        err = make_fails(g_set, ins);
        CHECK_HAS(err, "lonely");
        th_free(ins);
    }
    {
        /* no error buffer at all */
        th_ins *ins = th_new("jsonl-no-err-buffer", FLB_RS_LOG_INFO);
        flb_rs_instance *rs = NULL;
        CHECK_INT(th_create(g_jsonl, NULL, ins, &rs, NULL, 0), FLB_RS_ERROR);
        CHECK(rs == NULL);
        th_free(ins);
    }
    {
        /* a descriptor that is not the library's own */
        th_ins *ins = th_new("copied-descriptor", FLB_RS_LOG_INFO);
        flb_rs_plugin copy = *g_count;
        char buf[256] = "";
        flb_rs_instance *rs = NULL;
        CHECK_INT(th_create(&copy, NULL, ins, &rs, buf, sizeof(buf)), FLB_RS_ERROR);
        CHECK(rs == NULL);
        CHECK(buf[0] != 0);
        th_free(ins);
    }
}

/* ------------------------------------------------------------------ */
/* 5. Filter rs_example_set                                            */
/* ------------------------------------------------------------------ */

/* Runs a filter; checks the ABI's promises about *out; returns the result.
 * The caller frees *out with flb_rs_buffer_free. */
static int run_filter(const flb_rs_plugin *p, flb_rs_instance *rs, const char *tag,
                      const uint8_t *data, size_t len, uint8_t **out, size_t *out_len)
{
    *out = (uint8_t *)(void *)&out; /* must be overwritten */
    *out_len = 12345;
    int rc = p->filter(rs, tag, strlen(tag), data, len, out, out_len);
    if (rc == FLB_RS_FILTER_NOTOUCH) {
        CHECKF(*out == NULL && *out_len == 0, "NOTOUCH must leave out NULL and out_len 0");
        *out = NULL;
        *out_len = 0;
    } else {
        CHECKF(rc == FLB_RS_FILTER_MODIFIED, "filter returned %d", rc);
        CHECKF(*out != NULL && *out != (uint8_t *)(void *)&out, "MODIFIED without a buffer");
        if (rc != FLB_RS_FILTER_MODIFIED || *out == (uint8_t *)(void *)&out) {
            *out = NULL;
            *out_len = 0;
        }
    }
    return rc;
}

/* Record 1 of the filter chunks: already as the filter wants it. */
static void rec_unchanged(mp_buf *b, const char *msg)
{
    mp_v2_head(b, 1700000100, 1);
    mp_map(b, 2);
    mp_str(b, "status");
    mp_str(b, "ok");
    mp_str(b, "msg");
    mp_str(b, msg);
}

/* The record the filter must rewrite, with metadata and an ext8 time. */
static void rec_to_change(mp_buf *b)
{
    mp_array(b, 2);
    mp_array(b, 2);
    mp_event_time_ext8(b, 1700000100, 7);
    mp_map(b, 1);
    mp_str(b, "m");
    mp_str(b, "meta");
    mp_map(b, 5);
    mp_str(b, "secret");
    mp_str(b, "pw");
    mp_str(b, "msg");
    mp_str(b, "two");
    mp_str(b, "status");
    mp_str(b, "bad");
    mp_str(b, "n");
    mp_array(b, 2);
    mp_uint(b, 1);
    mp_uint(b, 2);
    mp_str(b, "neg");
    mp_int(b, -5);
}

/* What rec_to_change must become: same time (now fixext8), metadata kept,
 * "secret" and the old "status" gone, "status" set at the end, map32. */
static void rec_changed(mp_buf *b)
{
    mp_array(b, 2);
    mp_array(b, 2);
    mp_event_time(b, 1700000100, 7);
    mp_map(b, 1);
    mp_str(b, "m");
    mp_str(b, "meta");
    mp_map32(b, 4);
    mp_str(b, "msg");
    mp_str(b, "two");
    mp_str(b, "n");
    mp_array(b, 2);
    mp_uint(b, 1);
    mp_uint(b, 2);
    mp_str(b, "neg");
    mp_int(b, -5);
    mp_str(b, "status");
    mp_str(b, "ok");
}

static void test_set_filter(void)
{
    mp_buf in, want, r1, r3;
    uint8_t *out;
    size_t out_len;
    mp_init(&in);
    mp_init(&want);
    mp_init(&r1);
    mp_init(&r3);

    th_ins *ins = th_new("set-status", FLB_RS_LOG_INFO);
    th_prop(ins, "set", "status ok");
    th_prop(ins, "remove", "secret");
    flb_rs_instance *rs = make(g_set, ins);
    if (!rs) {
        th_free(ins);
        return;
    }
    rec_unchanged(&r1, "one");
    rec_unchanged(&r3, "three");

    /* nothing to change: NOTOUCH */
    mp_raw(&in, r1.data, r1.len);
    mp_raw(&in, r3.data, r3.len);
    CHECK_INT(run_filter(g_set, rs, "t", in.data, in.len, &out, &out_len),
              FLB_RS_FILTER_NOTOUCH);
    flb_rs_buffer_free(out, out_len);
    /* an empty chunk too */
    CHECK_INT(run_filter(g_set, rs, "t", NULL, 0, &out, &out_len), FLB_RS_FILTER_NOTOUCH);

    /* only the middle one of three records changes */
    mp_reset(&in);
    mp_raw(&in, r1.data, r1.len);
    rec_to_change(&in);
    mp_raw(&in, r3.data, r3.len);
    mp_raw(&want, r1.data, r1.len);
    rec_changed(&want);
    mp_raw(&want, r3.data, r3.len);
    CHECK_INT(run_filter(g_set, rs, "t", in.data, in.len, &out, &out_len),
              FLB_RS_FILTER_MODIFIED);
    if (out) {
        CHECK_MEM(out, out_len, want.data, want.len);
        /* and, decoded, what that means */
        mp_reader r;
        mp_event ev;
        mp_item it;
        mp_reader_init(&r, out, out_len);
        CHECK(mp_read_event(&r, &ev) == 0 && ev.len == r1.len &&
              memcmp(out + ev.offset, r1.data, r1.len) == 0);
        CHECK(mp_read_event(&r, &ev) == 0);
        CHECK(ev.v2 && ev.sec == 1700000100 && ev.nsec == 7);
        CHECK(ev.body_len > 0 && ev.body[0] == 0xdf && ev.body_count == 4);
        CHECK(mp_map_get(ev.body, ev.body_len, "secret", &it, NULL, NULL) != 0);
        CHECK(mp_map_get(ev.body, ev.body_len, "status", &it, NULL, NULL) == 0 &&
              it.type == MP_STR && it.n == 2 && memcmp(it.p, "ok", 2) == 0);
        CHECK(mp_map_get(ev.meta, ev.meta_len, "m", &it, NULL, NULL) == 0 &&
              it.type == MP_STR && it.n == 4 && memcmp(it.p, "meta", 4) == 0);
        CHECK(mp_read_event(&r, &ev) == 0 && ev.len == r3.len &&
              memcmp(out + ev.offset, r3.data, r3.len) == 0);
        CHECK(r.pos == out_len);
    }
    flb_rs_buffer_free(out, out_len);
    CHECK(th_metric(ins, "changed_records_total", NULL) == 1.0);

    /* group markers pass through untouched, even with a body the filter
     * would change; only records reach the plugin */
    {
        mp_buf gs, ge;
        mp_init(&gs);
        mp_init(&ge);
        group_marker(&gs, 0xffffffffu, "secret", "group attributes");
        group_marker(&ge, 0xfffffffeu, NULL, NULL);
        mp_reset(&in);
        mp_raw(&in, gs.data, gs.len);
        mp_raw(&in, r1.data, r1.len);
        mp_raw(&in, ge.data, ge.len);
        CHECK_INT(run_filter(g_set, rs, "t", in.data, in.len, &out, &out_len),
                  FLB_RS_FILTER_NOTOUCH);
        flb_rs_buffer_free(out, out_len);

        mp_reset(&in);
        mp_raw(&in, gs.data, gs.len);
        rec_to_change(&in);
        mp_raw(&in, ge.data, ge.len);
        mp_raw(&in, gs.data, gs.len);
        mp_raw(&in, r3.data, r3.len);
        mp_raw(&in, ge.data, ge.len);
        mp_reset(&want);
        mp_raw(&want, gs.data, gs.len);
        rec_changed(&want);
        mp_raw(&want, ge.data, ge.len);
        mp_raw(&want, gs.data, gs.len);
        mp_raw(&want, r3.data, r3.len);
        mp_raw(&want, ge.data, ge.len);
        CHECK_INT(run_filter(g_set, rs, "t", in.data, in.len, &out, &out_len),
                  FLB_RS_FILTER_MODIFIED);
        if (out) {
            CHECK_MEM(out, out_len, want.data, want.len);
        }
        flb_rs_buffer_free(out, out_len);
        mp_free(&gs);
        mp_free(&ge);
    }
    CHECK(th_metric(ins, "changed_records_total", NULL) == 2.0);

    /* a legacy record that changes comes back in the V2 form (what filters
     * return is [[timestamp, metadata], body]); an unchanged legacy record
     * next to it is copied as it was */
    {
        mp_buf legacy;
        mp_init(&legacy);
        mp_array(&legacy, 2);
        mp_uint(&legacy, 1700000200);
        mp_map(&legacy, 1);
        mp_str(&legacy, "status");
        mp_str(&legacy, "ok");
        mp_reset(&in);
        mp_array(&in, 2);
        mp_uint(&in, 1700000201);
        mp_map(&in, 2);
        mp_str(&in, "status");
        mp_str(&in, "bad");
        mp_str(&in, "x");
        mp_uint(&in, 1);
        mp_raw(&in, legacy.data, legacy.len);
        mp_reset(&want);
        mp_v2_head(&want, 1700000201, 0);
        mp_map32(&want, 2);
        mp_str(&want, "x");
        mp_uint(&want, 1);
        mp_str(&want, "status");
        mp_str(&want, "ok");
        mp_raw(&want, legacy.data, legacy.len);
        CHECK_INT(run_filter(g_set, rs, "t", in.data, in.len, &out, &out_len),
                  FLB_RS_FILTER_MODIFIED);
        if (out) {
            CHECK_MEM(out, out_len, want.data, want.len);
        }
        flb_rs_buffer_free(out, out_len);
        mp_free(&legacy);
    }
    CHECK(th_metric(ins, "changed_records_total", NULL) == 3.0);
    g_set->destroy(rs);
    th_free(ins);

    /* remove alone; several keys; a value with spaces; a key set twice */
    ins = th_new("set-remove", FLB_RS_LOG_INFO);
    th_prop(ins, "remove", "secret");
    th_prop(ins, "remove", "token");
    rs = make(g_set, ins);
    if (rs) {
        mp_reset(&in);
        mp_v2_head(&in, 5, 0);
        mp_map(&in, 4);
        mp_str(&in, "a");
        mp_uint(&in, 1);
        mp_str(&in, "secret");
        mp_str(&in, "x");
        mp_str(&in, "b");
        mp_uint(&in, 2);
        mp_str(&in, "token");
        mp_map(&in, 0);
        mp_reset(&want);
        mp_v2_head(&want, 5, 0);
        mp_map32(&want, 2);
        mp_str(&want, "a");
        mp_uint(&want, 1);
        mp_str(&want, "b");
        mp_uint(&want, 2);
        CHECK_INT(run_filter(g_set, rs, "t", in.data, in.len, &out, &out_len),
                  FLB_RS_FILTER_MODIFIED);
        if (out) {
            CHECK_MEM(out, out_len, want.data, want.len);
        }
        flb_rs_buffer_free(out, out_len);
        /* a record without those keys is left alone */
        mp_reset(&in);
        one_record(&in, 6, "a", "1");
        CHECK_INT(run_filter(g_set, rs, "t", in.data, in.len, &out, &out_len),
                  FLB_RS_FILTER_NOTOUCH);
        flb_rs_buffer_free(out, out_len);
        g_set->destroy(rs);
    }
    th_free(ins);

    ins = th_new("set-spaces", FLB_RS_LOG_INFO);
    th_prop(ins, "set", "greeting hello big world");
    th_prop(ins, "set", "env prod");
    rs = make(g_set, ins);
    if (rs) {
        mp_reset(&in);
        one_record(&in, 9, "env", "dev");
        mp_reset(&want);
        mp_v2_head(&want, 9, 0);
        mp_map32(&want, 2);
        mp_str(&want, "greeting");
        mp_str(&want, "hello big world");
        mp_str(&want, "env");
        mp_str(&want, "prod");
        CHECK_INT(run_filter(g_set, rs, "t", in.data, in.len, &out, &out_len),
                  FLB_RS_FILTER_MODIFIED);
        if (out) {
            CHECK_MEM(out, out_len, want.data, want.len);
        }
        flb_rs_buffer_free(out, out_len);
        g_set->destroy(rs);
    }
    th_free(ins);

    mp_free(&in);
    mp_free(&want);
    mp_free(&r1);
    mp_free(&r3);
}

/* ------------------------------------------------------------------ */
/* 6. Input rs_example_gen                                             */
/* ------------------------------------------------------------------ */

/* Waits for the input's fd and collects until `want` records came or
 * `timeout_s` passed. Returns the records collected. */
static long collect_until(const flb_rs_plugin *p, flb_rs_instance *rs, th_ins *ins, long want,
                          double timeout_s)
{
    int fd = p->input_fd(rs);
    long total = 0;
    double deadline = now_s() + timeout_s;
    CHECKF(fd >= 0, "input_fd returned %d", fd);
    if (fd < 0) {
        return 0;
    }
    while (total < want && now_s() < deadline) {
        struct pollfd pfd = {fd, POLLIN, 0};
        int n = poll(&pfd, 1, 1000);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        CHECKF(n >= 0, "poll: %s", strerror(errno));
        if (n < 0) {
            break;
        }
        if (n == 0) {
            continue;
        }
        CHECKF(!(pfd.revents & (POLLERR | POLLNVAL)), "poll revents %#x", pfd.revents);
        int got = th_collect(p, rs, ins);
        CHECKF(got >= 0, "collect returned %d", got);
        if (got < 0) {
            break;
        }
        total += got;
    }
    return total;
}

/* Checks that the appended buffers hold records with seq first..first+n-1
 * in order, with the given message; returns the number of records. */
static long check_gen_records(th_append *list, long first, const char *message)
{
    long seq = first;
    for (th_append *a = list; a; a = a->next) {
        mp_reader r;
        mp_event ev;
        mp_item it;
        CHECK(a->tag == NULL);
        mp_reader_init(&r, a->data, a->len);
        while (r.pos < r.len) {
            if (mp_read_event(&r, &ev)) {
                CHECKF(0, "appended buffer is not well-formed events (at byte %zu)", ev.offset);
                return seq - first;
            }
            CHECK(ev.v2 && ev.meta_len == 1 && ev.meta[0] == 0x80);
            CHECK(ev.sec > 1600000000u);
            CHECK(mp_map_get(ev.body, ev.body_len, "message", &it, NULL, NULL) == 0 &&
                  it.type == MP_STR && it.n == strlen(message) &&
                  memcmp(it.p, message, it.n) == 0);
            int ok = mp_map_get(ev.body, ev.body_len, "seq", &it, NULL, NULL) == 0 &&
                     it.type == MP_UINT && (long)it.u == seq;
            CHECKF(ok, "record %ld: seq %llu", seq, (unsigned long long)it.u);
            if (!ok) {
                return seq - first;
            }
            seq++;
        }
    }
    return seq - first;
}

/* An ABI 1.1 host: its table ends before append_records (a trap past
 * struct_size), so records come through append. */
static void gen_through_a_1_1_host(void)
{
    flb_rs_host_api api = th_api;
    api.abi_minor = 1;
    api.struct_size = (uint32_t)offsetof(flb_rs_host_api, append_records);
    api.append_records = trap_append_records;
    g_trap_calls = 0;
    th_ins *ins = th_new("gen-abi-1.1", FLB_RS_LOG_INFO);
    th_prop(ins, "count", "5");
    th_prop(ins, "interval", "0");
    char err[256];
    flb_rs_instance *rs = NULL;
    int rc = th_create(g_gen, &api, ins, &rs, err, sizeof(err));
    CHECKF(rc == FLB_RS_OK && rs, "create with an ABI 1.1 table: %d %s", rc, err);
    if (rs) {
        CHECK_INT(collect_until(g_gen, rs, ins, 5, 30), 5);
        g_gen->destroy(rs);
    }
    CHECK_INT(g_trap_calls, 0);
    CHECK_INT(ins->append_records_calls, 0);
    th_appends_free(th_take_appends(ins, NULL));
    th_free(ins);
}

static void test_gen_input(void)
{
    gen_through_a_1_1_host();
    /* count=100, interval=0, batch=7: 14 batches of 7 and one of 2 */
    {
        th_ins *ins = th_new("gen-100", FLB_RS_LOG_INFO);
        th_prop(ins, "count", "100");
        th_prop(ins, "interval", "0");
        th_prop(ins, "batch", "7");
        flb_rs_instance *rs = make(g_gen, ins);
        if (rs) {
            CHECK(g_gen->input_fd(rs) == g_gen->input_fd(rs));
            long got = collect_until(g_gen, rs, ins, 100, 30);
            CHECK_INT(got, 100);
            size_t nbatches;
            th_append *list = th_take_appends(ins, &nbatches);
            CHECK_INT(nbatches, 15);
            /* ABI 1.2: every batch came with its record count */
            CHECK_INT(ins->append_records_calls, 15);
            size_t i = 0;
            for (th_append *a = list; a; a = a->next, i++) {
                CHECKF(count_events(a->data, a->len) == (i < 14 ? 7 : 2),
                       "batch %zu holds %ld records", i, count_events(a->data, a->len));
            }
            CHECK_INT(check_gen_records(list, 0, "hello from rust"), 100);
            th_appends_free(list);
            /* nothing more comes */
            CHECK_INT(th_collect(g_gen, rs, ins), 0);
            g_gen->destroy(rs);
            CHECK(th_metric(ins, "records_total", NULL) == 100.0);
            CHECK(th_log_count(ins, FLB_RS_LOG_WARN, "still queued") == 0);
        }
        th_free(ins);
    }

    /* a refused append keeps the records queued; they are offered again */
    {
        th_ins *ins = th_new("gen-refused", FLB_RS_LOG_INFO);
        th_prop(ins, "count", "10");
        th_prop(ins, "interval", "0");
        th_prop(ins, "batch", "10");
        th_prop(ins, "message", "again");
        flb_rs_instance *rs = make(g_gen, ins);
        if (rs) {
            int fd = g_gen->input_fd(rs);
            struct pollfd pfd = {fd, POLLIN, 0};
            CHECK(poll(&pfd, 1, 10000) == 1);
            th_set_refuse_append(ins, 1);
            CHECK_INT(th_collect(g_gen, rs, ins), 0);
            CHECK_INT(th_append_calls(ins), 1);
            /* the instance asks to be collected again */
            pfd.revents = 0;
            CHECK(poll(&pfd, 1, 10000) == 1);
            CHECK_INT(th_collect(g_gen, rs, ins), 0);
            CHECK_INT(th_append_calls(ins), 2);
            th_set_refuse_append(ins, 0);
            /* pause and resume are accepted */
            g_gen->pause(rs);
            g_gen->resume(rs);
            long got = collect_until(g_gen, rs, ins, 10, 30);
            CHECK_INT(got, 10);
            th_append *list = th_take_appends(ins, NULL);
            CHECK_INT(check_gen_records(list, 0, "again"), 10);
            th_appends_free(list);
            g_gen->destroy(rs);
        }
        th_free(ins);
    }

    /* endless and as fast as possible: stop collecting until the plugin
     * blocks on the full queue, then destroy: it must return promptly */
    {
        th_ins *ins = th_new("gen-endless", FLB_RS_LOG_INFO);
        th_prop(ins, "count", "0");
        th_prop(ins, "interval", "0");
        flb_rs_instance *rs = make(g_gen, ins);
        if (rs) {
            long got = collect_until(g_gen, rs, ins, 50, 30);
            CHECKF(got >= 50, "collected %ld records", got);
            th_append *list = th_take_appends(ins, NULL);
            CHECK_INT(check_gen_records(list, 0, "hello from rust"), got);
            th_appends_free(list);
            /* The producer counts each record after it is queued. Once no
             * count arrives for 300 ms, the queue is full and the thread
             * is blocked in emit (an absence cannot be awaited otherwise). */
            uint64_t seen = th_metric_updates(ins);
            double deadline = now_s() + 30;
            for (;;) {
                uint64_t next = th_wait_metric_update(ins, seen, 300);
                if (next == seen || now_s() > deadline) {
                    break;
                }
                seen = next;
            }
            double emitted = th_metric(ins, "records_total", NULL);
            CHECKF(emitted > (double)got, "emitted %.0f, collected %ld", emitted, got);
            check_note("endless input: %.0f records emitted, %ld collected, %.0f queued when "
                       "destroyed",
                       emitted, got, emitted - (double)got);
            double t0 = now_s();
            g_gen->destroy(rs);
            double took = now_s() - t0;
            check_note("destroy of the blocked input took %.1f ms", took * 1e3);
            CHECKF(took < 2.0, "destroy took %.3f s", took);
            CHECK(th_log_count(ins, FLB_RS_LOG_WARN, "still queued") == 1);
        }
        th_free(ins);
    }
}

/* ------------------------------------------------------------------ */
/* 7. Round trip: gen -> set filter -> jsonl output                     */
/* ------------------------------------------------------------------ */

/* What Fluent Bit does inside an input's append: run the filters on the
 * new events, then buffer the result in the chunk an output gets later. */
typedef struct {
    flb_rs_instance *filter;
    mp_buf chunk;  /* filtered events, as the output will get them */
    mp_buf expect; /* the lines rs_example_jsonl must write for them */
    long seq;
    int filter_results[2]; /* NOTOUCH, MODIFIED */
} round_trip;

static void round_trip_on_append(th_ins *ins, const uint8_t *data, size_t len, void *arg)
{
    round_trip *rt = arg;
    uint8_t *out = NULL;
    size_t out_len = 0;
    (void)ins;
    int rc = g_set->filter(rt->filter, "gen.rt", 6, data, len, &out, &out_len);
    if (rc == FLB_RS_FILTER_NOTOUCH || rc == FLB_RS_FILTER_MODIFIED) {
        rt->filter_results[rc]++;
    }
    if (rc != FLB_RS_FILTER_MODIFIED || !out) {
        mp_raw(&rt->chunk, data, len);
        return;
    }
    /* expected lines, from the timestamps the filter kept */
    mp_reader r;
    mp_event ev;
    mp_reader_init(&r, out, out_len);
    while (r.pos < r.len && mp_read_event(&r, &ev) == 0) {
        char line[256];
        int n = snprintf(line, sizeof(line),
                         "{\"date\":%u.%09u,\"tag\":\"gen.rt\",\"message\":\"round "
                         "\\\"trip\\\"\",\"seq\":%ld,\"stage\":\"filtered\"}\n",
                         ev.sec, ev.nsec, rt->seq++);
        mp_raw(&rt->expect, line, (size_t)n);
    }
    mp_raw(&rt->chunk, out, out_len);
    flb_rs_buffer_free(out, out_len);
}

static void test_round_trip(void)
{
    const char *path = tmp_path("roundtrip.jsonl");
    th_ins *gi = th_new("rt-gen", FLB_RS_LOG_INFO);
    th_ins *fi = th_new("rt-set", FLB_RS_LOG_INFO);
    th_ins *oi = th_new("rt-jsonl", FLB_RS_LOG_INFO);
    round_trip rt;
    memset(&rt, 0, sizeof(rt));
    mp_init(&rt.chunk);
    mp_init(&rt.expect);
    th_prop(gi, "count", "20");
    th_prop(gi, "interval", "0");
    th_prop(gi, "batch", "5");
    th_prop(gi, "message", "round \"trip\"");
    th_prop(fi, "set", "stage filtered");
    th_prop(oi, "path", path);
    flb_rs_instance *g = make(g_gen, gi);
    flb_rs_instance *f = make(g_set, fi);
    flb_rs_instance *o = make(g_jsonl, oi);
    if (g && f && o) {
        rt.filter = f;
        th_set_on_append(gi, round_trip_on_append, &rt);
        CHECK_INT(collect_until(g_gen, g, gi, 20, 30), 20);
        th_set_on_append(gi, NULL, NULL);
        CHECK_INT(rt.filter_results[FLB_RS_FILTER_MODIFIED], 4);
        CHECK_INT(rt.filter_results[FLB_RS_FILTER_NOTOUCH], 0);
        CHECK_INT(rt.seq, 20);
        /* the engine flushes the buffered chunk */
        CHECK_INT(g_jsonl->flush(o, "gen.rt", 6, rt.chunk.data, rt.chunk.len), FLB_RS_OK);
        mp_byte(&rt.expect, 0);
        char *text = slurp(path, NULL);
        CHECK_STR(text, (const char *)rt.expect.data);
        free(text);
        CHECK(th_metric(fi, "changed_records_total", NULL) == 20.0);
        CHECK(th_metric(oi, "records_total", NULL) == 20.0);
        /* what the input appended is what the filter saw */
        th_append *list = th_take_appends(gi, NULL);
        CHECK_INT(check_gen_records(list, 0, "round \"trip\""), 20);
        th_appends_free(list);
    }
    if (g) {
        g_gen->destroy(g);
    }
    if (f) {
        g_set->destroy(f);
    }
    if (o) {
        g_jsonl->destroy(o);
    }
    CHECK(th_metric(gi, "records_total", NULL) == 20.0);
    mp_free(&rt.chunk);
    mp_free(&rt.expect);
    th_free(gi);
    th_free(fi);
    th_free(oi);
}

/* ------------------------------------------------------------------ */
/* 8. Malformed input never crashes                                    */
/* ------------------------------------------------------------------ */

typedef struct {
    th_ins *count_ins, *jsonl_ins, *set_ins, *panic_ins;
    flb_rs_instance *count, *jsonl, *set, *panic;
    long calls, errors, oks, modified;
} fuzz_targets;

static void fuzz_one(fuzz_targets *t, const char *what, const uint8_t *data, size_t len)
{
    const flb_rs_plugin *outs[2] = {g_count, g_jsonl};
    flb_rs_instance *outi[2] = {t->count, t->jsonl};
    const flb_rs_plugin *flts[2] = {g_set, g_panic};
    flb_rs_instance *flti[2] = {t->set, t->panic};
    /* a copy of exactly `len` bytes, so that reading past it is caught by
     * ASan and valgrind */
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) {
        abort();
    }
    if (len) {
        memcpy(copy, data, len);
    }
    for (int i = 0; i < 2; i++) {
        int rc = outs[i]->flush(outi[i], "fuzz", 4, copy, len);
        CHECKF(rc == FLB_RS_OK || rc == FLB_RS_ERROR, "%s: flush %s returned %d", what,
               outs[i]->name, rc);
        t->calls++;
        t->oks += rc == FLB_RS_OK;
        t->errors += rc == FLB_RS_ERROR;
    }
    for (int i = 0; i < 2; i++) {
        uint8_t *out = NULL;
        size_t out_len = 0;
        int rc = flts[i]->filter(flti[i], "fuzz", 4, copy, len, &out, &out_len);
        t->calls++;
        if (rc == FLB_RS_FILTER_NOTOUCH) {
            CHECKF(out == NULL && out_len == 0, "%s: %s NOTOUCH with a buffer", what,
                   flts[i]->name);
        } else {
            CHECKF(rc == FLB_RS_FILTER_MODIFIED && out, "%s: filter %s returned %d", what,
                   flts[i]->name, rc);
            t->modified++;
            /* read every byte of it (checked by the sanitizers) */
            unsigned sum = 0;
            for (size_t k = 0; k < out_len; k++) {
                sum += out[k];
            }
            (void)sum;
            flb_rs_buffer_free(out, out_len);
        }
    }
    /* the chunk was only read */
    CHECKF(len == 0 || memcmp(copy, data, len) == 0, "%s: input modified", what);
    free(copy);
}

static void fuzz_buf(fuzz_targets *t, const char *what, const mp_buf *b)
{
    fuzz_one(t, what, b->data, b->len);
}

/* A valid chunk of three records with a bit of everything. */
static void fuzz_seed_chunk(mp_buf *b)
{
    group_marker(b, 0xffffffffu, "g", "h");
    mp_v2_head(b, 1700000000, 5);
    mp_map(b, 3);
    mp_str(b, "a");
    mp_str(b, "some text");
    mp_str(b, "n");
    mp_array(b, 3);
    mp_int(b, -1000);
    mp_f64(b, 2.5);
    mp_map(b, 1);
    mp_str(b, "x");
    mp_nil(b);
    mp_str(b, "panic");
    mp_bool(b, 0);
    mp_array(b, 2);
    mp_uint(b, 1700000001);
    mp_map(b, 1);
    mp_str(b, "b");
    mp_bin(b, "\x01\x02\x03", 3);
    group_marker(b, 0xfffffffeu, NULL, NULL);
    mp_v2_head(b, 1700000002, 0);
    mp_map16(b, 1);
    mp_str16(b, "c", 1);
    mp_str32(b, "d", 1);
}

static void test_malformed(void)
{
    fuzz_targets t;
    mp_buf b, seed;
    char what[64];
    memset(&t, 0, sizeof(t));
    mp_init(&b);
    mp_init(&seed);

    t.count_ins = th_new("fuzz-count", FLB_RS_LOG_INFO);
    t.jsonl_ins = th_new("fuzz-jsonl", FLB_RS_LOG_INFO);
    t.set_ins = th_new("fuzz-set", FLB_RS_LOG_INFO);
    t.panic_ins = th_new("fuzz-panic", FLB_RS_LOG_INFO);
    th_prop(t.jsonl_ins, "path", tmp_path("fuzz.jsonl"));
    th_prop(t.set_ins, "set", "a b");
    th_prop(t.set_ins, "remove", "n");
    th_prop(t.panic_ins, "key", "never-present-key");
    t.count = make(g_count, t.count_ins);
    t.jsonl = make(g_jsonl, t.jsonl_ins);
    t.set = make(g_set, t.set_ins);
    t.panic = make(g_panic, t.panic_ins);
    if (!t.count || !t.jsonl || !t.set || !t.panic) {
        goto out;
    }
    th_log_quiet(1);

    /* the seed itself is fine */
    fuzz_seed_chunk(&seed);
    CHECK_INT(count_events(seed.data, seed.len), 5);
    CHECK_INT(flush(g_count, t.count, "fuzz", &seed), FLB_RS_OK);
    CHECK(th_metric(t.count_ins, "records_total", "fuzz") == 3.0);

    /* every truncation of it */
    for (size_t n = 0; n < seed.len; n++) {
        snprintf(what, sizeof(what), "truncated at %zu", n);
        fuzz_one(&t, what, seed.data, n);
    }

    /* the reserved byte 0xc1: alone, after a record, inside a body */
    {
        static const uint8_t c1[] = {0xc1};
        fuzz_one(&t, "0xc1", c1, 1);
        mp_reset(&b);
        one_record(&b, 1, "k", "v");
        mp_byte(&b, 0xc1);
        fuzz_buf(&t, "record + 0xc1", &b);
        mp_reset(&b);
        mp_v2_head(&b, 1, 0);
        mp_map(&b, 1);
        mp_str(&b, "k");
        mp_byte(&b, 0xc1);
        fuzz_buf(&t, "0xc1 as a value", &b);
    }

    /* containers and strings whose headers claim far more than is there */
    {
        static const struct {
            const char *what;
            uint8_t head[5];
        } liars[] = {
            {"array32 of 4e9", {0xdd, 0xee, 0x6b, 0x28, 0x00}},
            {"array32 of 2^32-1", {0xdd, 0xff, 0xff, 0xff, 0xff}},
            {"map32 of 4e9", {0xdf, 0xee, 0x6b, 0x28, 0x00}},
            {"str32 of 4 GB", {0xdb, 0xff, 0xff, 0xff, 0xff}},
            {"bin32 of 4 GB", {0xc6, 0xff, 0xff, 0xff, 0xff}},
            {"ext32 of 4 GB", {0xc9, 0xff, 0xff, 0xff, 0xff}},
        };
        for (size_t i = 0; i < sizeof(liars) / sizeof(liars[0]); i++) {
            /* at the top level, then as a record's value, then as its time */
            mp_reset(&b);
            mp_raw(&b, liars[i].head, 5);
            mp_raw(&b, "abcdefgh", 8);
            fuzz_buf(&t, liars[i].what, &b);
            mp_reset(&b);
            one_record(&b, 1, "ok", "1");
            mp_v2_head(&b, 2, 0);
            mp_map(&b, 1);
            mp_str(&b, "k");
            mp_raw(&b, liars[i].head, 5);
            mp_raw(&b, "abcdefgh", 8);
            fuzz_buf(&t, liars[i].what, &b);
            mp_reset(&b);
            mp_array(&b, 2);
            mp_array(&b, 2);
            mp_raw(&b, liars[i].head, 5);
            mp_map(&b, 0);
            mp_map(&b, 0);
            fuzz_buf(&t, liars[i].what, &b);
        }
    }

    /* 100,000 nested arrays (and maps): alone, unterminated, and as a
     * record's value, where the msgpack is valid */
    {
        mp_reset(&b);
        for (int i = 0; i < 100000; i++) {
            mp_array(&b, 1);
        }
        mp_nil(&b);
        fuzz_buf(&t, "100000 nested arrays", &b);
        fuzz_one(&t, "100000 nested arrays, unterminated", b.data, b.len - 1);
        mp_reset(&b);
        mp_v2_head(&b, 3, 0);
        mp_map(&b, 1);
        mp_str(&b, "deep");
        for (int i = 0; i < 100000; i++) {
            mp_array(&b, 1);
        }
        mp_nil(&b);
        double written = th_metric(t.jsonl_ins, "records_total", NULL);
        fuzz_buf(&t, "record holding 100000 nested arrays", &b);
        CHECK(th_metric(t.jsonl_ins, "records_total", NULL) == written);
        CHECK(th_metric(t.jsonl_ins, "dropped_records_total", NULL) >= 1.0);
        mp_reset(&b);
        for (int i = 0; i < 100000; i++) {
            mp_map(&b, 1);
            mp_nil(&b);
        }
        mp_nil(&b);
        fuzz_buf(&t, "100000 nested maps", &b);
    }

    /* wrong shapes: events that are not [x, map] */
    {
        mp_reset(&b);
        mp_array(&b, 3);
        mp_uint(&b, 1);
        mp_map(&b, 0);
        mp_map(&b, 0);
        fuzz_buf(&t, "array of 3", &b);
        mp_reset(&b);
        mp_array(&b, 2);
        mp_str(&b, "time?");
        mp_map(&b, 0);
        fuzz_buf(&t, "string timestamp", &b);
        mp_reset(&b);
        mp_array(&b, 2);
        mp_array(&b, 2);
        mp_event_time(&b, 1, 2000000000u);
        mp_map(&b, 0);
        mp_map(&b, 0);
        fuzz_buf(&t, "nanoseconds out of range", &b);
        mp_reset(&b);
        mp_array(&b, 2);
        mp_int(&b, -5);
        mp_map(&b, 0);
        fuzz_buf(&t, "negative timestamp", &b);
        mp_reset(&b);
        mp_array(&b, 2);
        mp_f64(&b, NAN);
        mp_map(&b, 0);
        fuzz_buf(&t, "NaN timestamp", &b);
        mp_reset(&b);
        mp_array(&b, 2);
        mp_array(&b, 2);
        mp_event_time(&b, 1, 0);
        mp_array(&b, 0);
        mp_map(&b, 0);
        fuzz_buf(&t, "metadata not a map", &b);
        mp_reset(&b);
        mp_v2_head(&b, 1, 0);
        mp_array(&b, 0);
        fuzz_buf(&t, "body not a map", &b);
    }

    /* random bytes, fixed seed */
    rng_state = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < 300; i++) {
        size_t n = (size_t)(rng() % 200);
        mp_reset(&b);
        for (size_t k = 0; k < n; k++) {
            mp_byte(&b, (uint8_t)rng());
        }
        snprintf(what, sizeof(what), "random bytes #%d", i);
        fuzz_buf(&t, what, &b);
    }
    /* the seed chunk with a few random bytes changed */
    for (int i = 0; i < 300; i++) {
        mp_reset(&b);
        mp_raw(&b, seed.data, seed.len);
        for (int k = 1 + (int)(rng() % 4); k > 0; k--) {
            b.data[rng() % b.len] = (uint8_t)rng();
        }
        snprintf(what, sizeof(what), "mutated chunk #%d", i);
        fuzz_buf(&t, what, &b);
    }

    size_t quiet = th_log_quiet(0);
    check_note("%ld calls: %ld flush OK, %ld flush ERROR, %ld filter MODIFIED; %zu log lines "
               "not printed",
               t.calls, t.oks, t.errors, t.modified, quiet);
    CHECK(t.errors > 0 && t.oks > 0 && t.modified > 0);
    /* the instances still work */
    CHECK_INT(flush(g_count, t.count, "after", &seed), FLB_RS_OK);
    CHECK(th_metric(t.count_ins, "records_total", "after") == 3.0);

out:
    th_log_quiet(0);
    if (t.count) {
        g_count->destroy(t.count);
    }
    if (t.jsonl) {
        g_jsonl->destroy(t.jsonl);
    }
    if (t.set) {
        g_set->destroy(t.set);
    }
    if (t.panic) {
        g_panic->destroy(t.panic);
    }
    th_free(t.count_ins);
    th_free(t.jsonl_ins);
    th_free(t.set_ins);
    th_free(t.panic_ins);
    mp_free(&b);
    mp_free(&seed);
}

/* ------------------------------------------------------------------ */
/* 9. Panics become errors                                             */
/* ------------------------------------------------------------------ */

static void test_panics(void)
{
    mp_buf b;
    mp_init(&b);
    one_record(&b, 1, "k", "v");
    one_record(&b, 2, "k", "v");

    /* in flush: RETRY, logged; the instance lives on and answers again */
    {
        th_ins *ins = th_new("count-panic-flush", FLB_RS_LOG_INFO);
        th_prop(ins, "panic_in", "flush");
        flb_rs_instance *rs = make(g_count, ins);
        if (rs) {
            CHECK_INT(flush(g_count, rs, "p", &b), FLB_RS_RETRY);
            CHECK(th_log_count(ins, FLB_RS_LOG_ERROR, "panic") >= 1);
            size_t logged = th_log_count(ins, FLB_RS_LOG_ERROR, "panic");
            CHECK_INT(flush(g_count, rs, "p", &b), FLB_RS_RETRY);
            CHECK(th_log_count(ins, FLB_RS_LOG_ERROR, "panic") > logged);
            g_count->destroy(rs);
        }
        th_free(ins);
    }

    /* in init: create fails with a message, nothing is left behind */
    {
        th_ins *ins = th_new("count-panic-init", FLB_RS_LOG_INFO);
        th_prop(ins, "panic_in", "init");
        const char *err = make_fails(g_count, ins);
        CHECK_HAS(err, "panic");
        CHECK_HAS(err, "init");
        CHECK(th_log_count(ins, FLB_RS_LOG_ERROR, "panic") >= 1);
        th_free(ins);
    }

    /* in exit: destroy returns normally, the panic is logged */
    {
        th_ins *ins = th_new("count-panic-exit", FLB_RS_LOG_INFO);
        th_prop(ins, "panic_in", "exit");
        flb_rs_instance *rs = make(g_count, ins);
        if (rs) {
            CHECK_INT(flush(g_count, rs, "p", &b), FLB_RS_OK);
            g_count->destroy(rs);
            CHECK(th_log_count(ins, FLB_RS_LOG_ERROR, "panic") >= 1);
            CHECK(th_metric(ins, "records_total", "p") == 2.0);
        }
        th_free(ins);
    }

    /* a panicking filter: NOTOUCH, logged; the instance still filters */
    {
        th_ins *ins = th_new("panic-filter", FLB_RS_LOG_INFO);
        flb_rs_instance *rs = make(g_panic, ins);
        if (rs) {
            uint8_t *out;
            size_t out_len;
            mp_buf p;
            mp_init(&p);
            one_record(&p, 1, "fine", "1");
            one_record(&p, 2, "panic", "now");
            one_record(&p, 3, "fine", "2");
            CHECK_INT(run_filter(g_panic, rs, "t", p.data, p.len, &out, &out_len),
                      FLB_RS_FILTER_NOTOUCH);
            flb_rs_buffer_free(out, out_len);
            CHECK(th_log_count(ins, FLB_RS_LOG_ERROR, "panic") >= 1);
            size_t logged = th_log_count(ins, FLB_RS_LOG_ERROR, NULL);
            CHECK_INT(run_filter(g_panic, rs, "t", b.data, b.len, &out, &out_len),
                      FLB_RS_FILTER_NOTOUCH);
            flb_rs_buffer_free(out, out_len);
            CHECK_INT(th_log_count(ins, FLB_RS_LOG_ERROR, NULL), logged);
            /* and panics again, as often as asked */
            CHECK_INT(run_filter(g_panic, rs, "t", p.data, p.len, &out, &out_len),
                      FLB_RS_FILTER_NOTOUCH);
            flb_rs_buffer_free(out, out_len);
            CHECK(th_log_count(ins, FLB_RS_LOG_ERROR, NULL) > logged);
            g_panic->destroy(rs);
            mp_free(&p);
        }
        th_free(ins);
    }

    /* results other than ok pass through */
    {
        th_ins *ins = th_new("count-retry", FLB_RS_LOG_INFO);
        th_prop(ins, "result", "retry");
        flb_rs_instance *rs = make(g_count, ins);
        if (rs) {
            CHECK_INT(flush(g_count, rs, "r", &b), FLB_RS_RETRY);
            g_count->destroy(rs);
        }
        th_free(ins);
        ins = th_new("count-error", FLB_RS_LOG_INFO);
        th_prop(ins, "result", "error");
        rs = make(g_count, ins);
        if (rs) {
            CHECK_INT(flush(g_count, rs, "e", &b), FLB_RS_ERROR);
            g_count->destroy(rs);
        }
        th_free(ins);
    }
    mp_free(&b);
}

/* ------------------------------------------------------------------ */
/* 10. Small stacks and concurrent flushes                             */
/* ------------------------------------------------------------------ */

#define SMALL_STACK_SIZE (24 * 1024)
#define STACK_PATTERN 0xA5

/* A thread on a 24 KiB stack of our own, with a PROT_NONE guard page
 * below it and every byte painted, so that the deepest use can be read
 * after the thread ends. */
typedef struct {
    uint8_t *map; /* guard page + stack */
    size_t map_len;
    uint8_t *stack; /* lowest usable byte */
    size_t size;
    pthread_t thread;
    int started;
} small_thread;

static int small_thread_prepare(small_thread *st)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    memset(st, 0, sizeof(*st));
    st->size = SMALL_STACK_SIZE;
    st->map_len = page + st->size;
    st->map = mmap(NULL, st->map_len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (st->map == MAP_FAILED) {
        CHECKF(0, "mmap: %s", strerror(errno));
        st->map = NULL;
        return -1;
    }
    if (mprotect(st->map, page, PROT_NONE) != 0) {
        CHECKF(0, "mprotect: %s", strerror(errno));
        return -1;
    }
    st->stack = st->map + page;
    memset(st->stack, STACK_PATTERN, st->size);
    return 0;
}

static int small_thread_run(small_thread *st, void *(*fn)(void *), void *arg)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    int rc = pthread_attr_setstack(&attr, st->stack, st->size);
    CHECKF(rc == 0, "pthread_attr_setstack: %s", strerror(rc));
    if (rc == 0) {
        rc = pthread_create(&st->thread, &attr, fn, arg);
        CHECKF(rc == 0, "pthread_create on a small stack: %s", strerror(rc));
    }
    pthread_attr_destroy(&attr);
    st->started = rc == 0;
    return rc == 0 ? 0 : -1;
}

/* Joins the thread; returns the stack's high-water mark in bytes, counted
 * from the top (so it includes glibc's thread descriptor and static TLS,
 * which live at the top of a user-supplied stack), and unmaps it. */
static size_t small_thread_join(small_thread *st)
{
    size_t used = 0;
    if (st->started) {
        pthread_join(st->thread, NULL);
#ifdef HAVE_VALGRIND
        /* memcheck marks stack memory below the stack pointer as
         * inaccessible once the frames are gone; the bytes are still
         * there, and only they are read here */
        VALGRIND_MAKE_MEM_DEFINED(st->stack, st->size);
#endif
#if defined(__SANITIZE_ADDRESS__)
        ASAN_UNPOISON_MEMORY_REGION(st->stack, st->size);
#endif
        size_t i = 0;
        while (i < st->size && st->stack[i] == STACK_PATTERN) {
            i++;
        }
        used = st->size - i;
    }
    if (st->map) {
        munmap(st->map, st->map_len);
    }
    st->map = NULL;
    return used;
}

typedef struct {
    const flb_rs_plugin *plugin;
    flb_rs_instance *rs;
    const char *tag;
    const mp_buf *chunk;
    int iterations;
    int ok, other;
    /* set by run_small_stack_jobs */
    uint8_t *stack_lo;
    uintptr_t top;
    /* measured */
    uintptr_t entry;    /* the thread function's frame: flush's use is below it */
    size_t cold_below;  /* deepest use below `entry` during the first flush */
    size_t warm_below;  /* ... during the later flushes */
} flush_job;

#if defined(__SANITIZE_ADDRESS__)
#define PAINT_MARGIN 1024 /* ASan frames are larger */
#else
#define PAINT_MARGIN 256
#endif

/* The lowest byte at or above `lo`, below `limit`, that is not the
 * pattern. Inlined, without calls: it runs below the stack pointer. */
static inline __attribute__((always_inline)) uintptr_t deepest_use(uint8_t *lo, uintptr_t limit)
{
    volatile uint8_t *p = lo;
    while ((uintptr_t)p < limit && *p == STACK_PATTERN) {
        p++;
    }
    return (uintptr_t)p;
}

static inline __attribute__((always_inline)) void repaint(uint8_t *lo, uintptr_t limit)
{
    for (volatile uint8_t *p = lo; (uintptr_t)p < limit; p++) {
        *p = STACK_PATTERN;
    }
}

/* Makes the dead part of this thread's stack readable and writable for
 * the checkers (memcheck marks memory below the stack pointer as
 * inaccessible; ASan may have left redzones of returned frames). */
static inline __attribute__((always_inline)) void expose_below(uint8_t *lo, uintptr_t limit)
{
    (void)lo, (void)limit;
#ifdef HAVE_VALGRIND
    VALGRIND_MAKE_MEM_DEFINED(lo, limit - (uintptr_t)lo);
#endif
#if defined(__SANITIZE_ADDRESS__)
    ASAN_UNPOISON_MEMORY_REGION(lo, limit - (uintptr_t)lo);
#endif
}

static void *flush_job_run(void *arg)
{
    flush_job *j = arg;
    volatile char here = 0;
    uintptr_t limit = (uintptr_t)&here - PAINT_MARGIN;
    j->entry = (uintptr_t)__builtin_frame_address(0);
    for (int i = 0; i < j->iterations; i++) {
        int rc = j->plugin->flush(j->rs, j->tag, strlen(j->tag), j->chunk->data, j->chunk->len);
        if (rc == FLB_RS_OK) {
            j->ok++;
        } else {
            j->other++;
        }
        if (i == 0 && j->stack_lo) {
            /* the first flush on this thread pays for lazy per-thread
             * set-up; measure it, then repaint to measure the others */
            expose_below(j->stack_lo, limit);
            j->cold_below = j->entry - deepest_use(j->stack_lo, limit);
            repaint(j->stack_lo, limit);
        }
    }
    if (j->stack_lo && j->iterations > 1) {
        expose_below(j->stack_lo, limit);
        j->warm_below = j->entry - deepest_use(j->stack_lo, limit);
    }
    return NULL;
}

static size_t g_stack_high_water, g_stack_cold, g_stack_warm;

/* Runs jobs on small stacks at once; returns the largest high-water mark. */
static size_t run_small_stack_jobs(flush_job *jobs, int n)
{
    small_thread st[8];
    size_t worst = 0;
    for (int i = 0; i < n; i++) {
        memset(&st[i], 0, sizeof(st[i]));
        jobs[i].stack_lo = NULL;
        if (small_thread_prepare(&st[i]) == 0) {
            jobs[i].stack_lo = st[i].stack;
            jobs[i].top = (uintptr_t)(st[i].stack + st[i].size);
            small_thread_run(&st[i], flush_job_run, &jobs[i]);
        }
    }
    for (int i = 0; i < n; i++) {
        size_t used = small_thread_join(&st[i]);
        if (used > worst) {
            worst = used;
        }
        if (used > g_stack_high_water) {
            g_stack_high_water = used;
        }
        if (jobs[i].cold_below > g_stack_cold) {
            g_stack_cold = jobs[i].cold_below;
        }
        if (jobs[i].warm_below > g_stack_warm) {
            g_stack_warm = jobs[i].warm_below;
        }
        check_note("%s, %d flush(es) on a %d KiB stack: high-water mark %zu bytes from the "
                   "top; below the thread function's frame: first flush %zu, later flushes "
                   "%zu (%zu above the frame: thread descriptor, static TLS, start-up)",
                   jobs[i].plugin->name, jobs[i].iterations, SMALL_STACK_SIZE / 1024, used,
                   jobs[i].cold_below, jobs[i].warm_below,
                   jobs[i].entry ? (size_t)(jobs[i].top - jobs[i].entry) : 0);
    }
    return worst;
}

typedef struct {
    flb_rs_instance *rs;
    const mp_buf *in;
    const mp_buf *want;
    int iterations;
    int good;
} filter_job;

static void *filter_job_run(void *arg)
{
    filter_job *j = arg;
    for (int i = 0; i < j->iterations; i++) {
        uint8_t *out = NULL;
        size_t out_len = 0;
        int rc = g_set->filter(j->rs, "conc", 4, j->in->data, j->in->len, &out, &out_len);
        if (rc == FLB_RS_FILTER_MODIFIED && out && out_len == j->want->len &&
            memcmp(out, j->want->data, out_len) == 0) {
            j->good++;
        }
        flb_rs_buffer_free(out, out_len);
    }
    return NULL;
}

static void hundred_records(mp_buf *b)
{
    for (int i = 0; i < 100; i++) {
        mp_v2_head(b, 1700000000u + (uint32_t)i, (uint32_t)i);
        mp_map(b, 2);
        mp_str(b, "i");
        mp_uint(b, (uint64_t)i);
        mp_str(b, "text");
        mp_str(b, "a record flushed from a small stack");
    }
}

static void test_small_stacks(void)
{
    mp_buf chunk;
    mp_init(&chunk);
    hundred_records(&chunk);

    /* one flush each, on fresh threads (first use of every lazy
     * thread-local on the Rust side happens here) */
    {
        th_ins *ci = th_new("count-small-stack", FLB_RS_LOG_INFO);
        th_ins *ji = th_new("jsonl-small-stack", FLB_RS_LOG_INFO);
        th_prop(ji, "path", tmp_path("small-stack.jsonl"));
        flb_rs_instance *c = make(g_count, ci);
        flb_rs_instance *j = make(g_jsonl, ji);
        if (c && j) {
            flush_job jobs[2] = {
                {g_count, c, "small", &chunk, 3, 0, 0, NULL, 0, 0, 0, 0},
                {g_jsonl, j, "small", &chunk, 3, 0, 0, NULL, 0, 0, 0, 0},
            };
            size_t w1 = run_small_stack_jobs(jobs, 1);
            size_t w2 = run_small_stack_jobs(jobs + 1, 1);
            size_t worst = w1 > w2 ? w1 : w2;
            CHECK(jobs[0].ok == 3 && jobs[1].ok == 3);
            CHECKF(worst < 16 * 1024, "stack high-water mark %zu bytes", worst);
            CHECK(th_metric(ci, "records_total", "small") == 300.0);
            CHECK(th_metric(ji, "records_total", NULL) == 300.0);
        }
        if (c) {
            g_count->destroy(c);
        }
        if (j) {
            g_jsonl->destroy(j);
        }
        th_free(ci);
        th_free(ji);
    }

    /* four threads, one instance, flushes that take 20 ms: all succeed,
     * every record counted, never two flushes at once */
    {
        th_ins *ins = th_new("count-concurrent", FLB_RS_LOG_INFO);
        th_prop(ins, "delay", "20ms");
        flb_rs_instance *rs = make(g_count, ins);
        if (rs) {
            flush_job jobs[4];
            for (int i = 0; i < 4; i++) {
                flush_job j = {g_count, rs, "conc", &chunk, 25, 0, 0, NULL, 0, 0, 0, 0};
                jobs[i] = j;
            }
            double t0 = now_s();
            size_t worst = run_small_stack_jobs(jobs, 4);
            double took = now_s() - t0;
            for (int i = 0; i < 4; i++) {
                CHECKF(jobs[i].ok == 25 && jobs[i].other == 0, "thread %d: %d OK, %d not", i,
                       jobs[i].ok, jobs[i].other);
            }
            CHECKF(worst < 16 * 1024, "stack high-water mark %zu bytes", worst);
            CHECK(th_metric(ins, "records_total", "conc") == 10000.0);
            CHECK(th_metric(ins, "fields_total", NULL) == 20000.0);
            double in_flight, max_in_flight = NAN;
            int kind = 0;
            CHECK(th_metric_declared(ins, "in_flight", &kind, NULL) == 0 &&
                  kind == FLB_RS_METRIC_GAUGE);
            CHECK(th_metric_value(ins, "in_flight", 0, NULL, &in_flight, &max_in_flight) == 0);
            CHECKF(max_in_flight == 1.0, "in_flight reached %g", max_in_flight);
            CHECKF(in_flight == 0.0, "in_flight ends at %g", in_flight);
            /* serialised: 100 flushes of 20 ms cannot take less than 2 s */
            CHECKF(took >= 1.9, "100 flushes of 20 ms took %.2f s", took);
            check_note("4 threads x 25 flushes took %.2f s; in_flight max %g", took,
                       max_in_flight);
            g_count->destroy(rs);
        }
        th_free(ins);
    }
    /* one filter instance, four threads (ordinary stacks: filters run on
     * the caller's stack and are not meant for coroutines) */
    {
        th_ins *ins = th_new("set-concurrent", FLB_RS_LOG_INFO);
        th_prop(ins, "set", "status ok");
        th_prop(ins, "remove", "secret");
        flb_rs_instance *rs = make(g_set, ins);
        if (rs) {
            mp_buf in, want;
            mp_init(&in);
            mp_init(&want);
            rec_unchanged(&in, "one");
            rec_to_change(&in);
            rec_unchanged(&want, "one");
            rec_changed(&want);
            filter_job jobs[4];
            pthread_t t[4];
            int started[4];
            for (int i = 0; i < 4; i++) {
                filter_job j = {rs, &in, &want, 200, 0};
                jobs[i] = j;
                started[i] = pthread_create(&t[i], NULL, filter_job_run, &jobs[i]) == 0;
                CHECK(started[i]);
            }
            for (int i = 0; i < 4; i++) {
                if (started[i]) {
                    pthread_join(t[i], NULL);
                    CHECKF(jobs[i].good == 200, "thread %d: %d of 200 filtered as expected", i,
                           jobs[i].good);
                }
            }
            CHECK(th_metric(ins, "changed_records_total", NULL) == 800.0);
            g_set->destroy(rs);
            mp_free(&in);
            mp_free(&want);
        }
        th_free(ins);
    }

    check_note("largest stack high-water mark: %zu bytes of %d KiB; flush's own use below the "
               "caller's frame: %zu bytes on a thread's first flush, %zu after",
               g_stack_high_water, SMALL_STACK_SIZE / 1024, g_stack_cold, g_stack_warm);
    /* The ABI promises flush needs about 2 KiB of the caller's stack (the
     * plugin's work runs on the instance's own thread); ASan's redzones
     * about double the C host's share. */
#if defined(__SANITIZE_ADDRESS__)
    const size_t own_limit = 8 * 1024;
#else
    const size_t own_limit = 4 * 1024;
#endif
    CHECKF(g_stack_cold < own_limit && g_stack_warm < own_limit,
           "flush used %zu / %zu bytes of the caller's stack (limit %zu)", g_stack_cold,
           g_stack_warm, own_limit);
    mp_free(&chunk);
}

/* ------------------------------------------------------------------ */
/* 11. Logs and levels                                                 */
/* ------------------------------------------------------------------ */

static void test_log_levels(void)
{
    const char *path = tmp_path("levels.jsonl");
    char msg[256];
    snprintf(msg, sizeof(msg), "writing to %s", path);

    th_ins *info = th_new("jsonl-info", FLB_RS_LOG_INFO);
    th_prop(info, "path", path);
    flb_rs_instance *rs = make(g_jsonl, info);
    if (rs) {
        g_jsonl->destroy(rs);
    }
    CHECK(th_log_has_exact(info, FLB_RS_LOG_INFO, msg));
    CHECK_INT(th_log_count_above(info, FLB_RS_LOG_INFO), 0);
    th_free(info);

    th_ins *error = th_new("jsonl-error", FLB_RS_LOG_ERROR);
    th_prop(error, "path", path);
    rs = make(g_jsonl, error);
    if (rs) {
        g_jsonl->destroy(rs);
    }
    CHECK_INT(th_log_count(error, FLB_RS_LOG_INFO, NULL), 0);
    CHECK_INT(th_log_count_above(error, FLB_RS_LOG_ERROR), 0);
    th_free(error);

    /* error messages still reach an instance at ERROR, not one that is OFF */
    th_ins *err_on = th_new("jsonl-error-missing-path", FLB_RS_LOG_ERROR);
    make_fails(g_jsonl, err_on);
    CHECK(th_log_count(err_on, FLB_RS_LOG_ERROR, "'path'") >= 1);
    th_free(err_on);
    th_ins *off = th_new("jsonl-off-missing-path", FLB_RS_LOG_OFF);
    make_fails(g_jsonl, off);
    CHECK_INT(th_log_count(off, -1, NULL), 0);
    th_free(off);

    /* a debug message from an input's own thread: recorded at DEBUG under
     * its instance, not at INFO */
    th_ins *dbg = th_new("gen-debug", FLB_RS_LOG_DEBUG);
    th_ins *inf = th_new("gen-info", FLB_RS_LOG_INFO);
    th_prop(dbg, "count", "3");
    th_prop(dbg, "interval", "0");
    th_prop(inf, "count", "3");
    th_prop(inf, "interval", "0");
    flb_rs_instance *d = make(g_gen, dbg);
    flb_rs_instance *i = make(g_gen, inf);
    if (d && i) {
        CHECK_INT(collect_until(g_gen, d, dbg, 3, 30), 3);
        CHECK_INT(collect_until(g_gen, i, inf, 3, 30), 3);
    }
    if (d) {
        g_gen->destroy(d);
    }
    if (i) {
        g_gen->destroy(i);
    }
    CHECK(th_log_has_exact(dbg, FLB_RS_LOG_DEBUG, "emitted all 3 records"));
    CHECK_INT(th_log_count(inf, FLB_RS_LOG_DEBUG, NULL), 0);
    th_appends_free(th_take_appends(dbg, NULL));
    th_appends_free(th_take_appends(inf, NULL));
    th_free(dbg);
    th_free(inf);
}

/* ------------------------------------------------------------------ */
/* 12. NULL where a pointer is required: the call's error value         */
/* ------------------------------------------------------------------ */

static void test_null_arguments(void)
{
    char err[256];
    flb_rs_instance *rs = NULL;
    uint8_t *out = NULL;
    size_t out_len = 0;
    static const uint8_t empty_map_event[] = {0x92, 0x01, 0x80};

    CHECK_INT(g_count->flush(NULL, "t", 1, empty_map_event, 3), FLB_RS_ERROR);
    CHECK_INT(g_set->filter(NULL, "t", 1, empty_map_event, 3, &out, &out_len),
              FLB_RS_FILTER_NOTOUCH);
    CHECK(out == NULL && out_len == 0);
    CHECK_INT(g_gen->input_fd(NULL), -1);
    CHECK_INT(g_gen->collect(NULL), -1);
    g_gen->pause(NULL);
    g_gen->resume(NULL);
    CHECK_INT(g_count->create(NULL, &th_api, NULL, &rs, err, sizeof(err)), FLB_RS_ERROR);
    CHECK(rs == NULL);
    CHECK_INT(g_count->create(g_count, NULL, NULL, &rs, err, sizeof(err)), FLB_RS_ERROR);
    CHECK(rs == NULL);

    th_ins *ins = th_new("set-null-out", FLB_RS_LOG_INFO);
    th_prop(ins, "set", "a b");
    rs = make(g_set, ins);
    if (rs) {
        /* the record would change, but there is nowhere to put it */
        CHECK_INT(g_set->filter(rs, "t", 1, empty_map_event, 3, NULL, &out_len),
                  FLB_RS_FILTER_NOTOUCH);
        CHECK_INT(g_set->filter(rs, "t", 1, empty_map_event, 3, &out, NULL),
                  FLB_RS_FILTER_NOTOUCH);
        /* a NULL tag of length 0 is an empty tag */
        CHECK_INT(run_filter(g_set, rs, "", empty_map_event, 3, &out, &out_len),
                  FLB_RS_FILTER_MODIFIED);
        flb_rs_buffer_free(out, out_len);
        g_set->destroy(rs);
    }
    th_free(ins);
}

/* ------------------------------------------------------------------ */
/* 13. pause from inside append                                        */
/* ------------------------------------------------------------------ */

/* Fluent Bit pauses a (non-threaded) input from inside its append when the
 * input goes over mem_buf_limit or the storage limit:
 * flb_input_chunk_append_raw -> flb_input_chunk_protect -> flb_input_pause
 * -> cb_pause, synchronously. pause must not wait for anything collect
 * holds (it once did: the input's lock; the test ran into the watchdog). */
typedef struct {
    flb_rs_instance *rs;
    int pauses;
} pause_in_append;

static void pause_on_append(th_ins *ins, const uint8_t *data, size_t len, void *arg)
{
    pause_in_append *pa = arg;
    (void)ins, (void)data, (void)len;
    if (pa->pauses++ == 0) {
        g_gen->pause(pa->rs);
    }
}

static void test_pause_inside_append(void)
{
    th_ins *ins = th_new("gen-pause-in-append", FLB_RS_LOG_INFO);
    th_prop(ins, "count", "10");
    th_prop(ins, "interval", "0");
    th_prop(ins, "batch", "5");
    flb_rs_instance *rs = make(g_gen, ins);
    if (rs) {
        pause_in_append pa = {rs, 0};
        th_set_on_append(ins, pause_on_append, &pa);
        long got = collect_until(g_gen, rs, ins, 5, 10);
        CHECK(got >= 5);
        th_set_on_append(ins, NULL, NULL);
        g_gen->resume(rs);
        got += collect_until(g_gen, rs, ins, 10 - got, 10);
        CHECK_INT(got, 10);
        th_appends_free(th_take_appends(ins, NULL));
        g_gen->destroy(rs);
    }
    th_free(ins);
}

/* ------------------------------------------------------------------ */
/* 14. Threads that outlive their instance                             */
/* ------------------------------------------------------------------ */

/* A plugin thread nobody joins (started in init, also when init then
 * fails) goes on logging and counting after destroy. Once destroy (or the
 * failed create) has returned, the host may free its instance: no callback
 * may reach it any more. The instance is marked dead, not freed, so that a
 * late callback is counted as a breach (under ASan it would also be a
 * use-after-free). */
static void test_leaked_threads(void)
{
    const char *modes[] = {"on", "then_fail"};
    for (size_t m = 0; m < 2; m++) {
        th_ins *ins = th_new("count-leak", FLB_RS_LOG_INFO);
        th_prop(ins, "leak_thread", modes[m]);
        size_t before = th_violations();
        th_log_quiet(1);
        if (m == 0) {
            flb_rs_instance *rs = make(g_count, ins);
            if (rs) {
                /* The leaked thread runs: some of its updates came in. */
                uint64_t seen = 0;
                for (int i = 0; i < 50 && !(th_metric(ins, "leaked_total", NULL) >= 3); i++) {
                    seen = th_wait_metric_update(ins, seen, 100);
                }
                CHECK(th_metric(ins, "leaked_total", NULL) >= 3);
                g_count->destroy(rs);
            }
        }
        else {
            const char *err = make_fails(g_count, ins);
            CHECKF(strstr(err, "after starting a thread") != NULL, "error: %s", err);
        }
        ins->magic = 0;
        usleep(100 * 1000);
        CHECK_INT(th_violations(), before);
        /* Let the leaked thread run out (about 300 ms in all): a thread
         * still running at exit holds memory valgrind reports. */
        usleep(400 * 1000);
        CHECK_INT(th_violations(), before);
        th_log_quiet(0);
        th_free(ins);
    }
}

/* ------------------------------------------------------------------ */

int main(void)
{
    char err[512] = "";
    setvbuf(stdout, NULL, _IOLBF, 0);

    snprintf(g_tmpdir, sizeof(g_tmpdir), "/tmp/flb-rs-test.XXXXXX");
    if (!mkdtemp(g_tmpdir)) {
        fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
        return 2;
    }
    check_on_timeout(tmp_cleanup_on_timeout);
    int rc = flb_rs_register(&th_api, err, sizeof(err));
    if (rc != FLB_RS_OK) {
        printf("FAIL register: %d %s\n", rc, err);
        tmp_cleanup();
        return 2;
    }
    g_gen = flb_rs_plugin_find(FLB_RS_KIND_INPUT, "rs_example_gen");
    g_set = flb_rs_plugin_find(FLB_RS_KIND_FILTER, "rs_example_set");
    g_jsonl = flb_rs_plugin_find(FLB_RS_KIND_OUTPUT, "rs_example_jsonl");
    g_count = flb_rs_plugin_find(FLB_RS_KIND_OUTPUT, "rs_test_count");
    g_panic = flb_rs_plugin_find(FLB_RS_KIND_FILTER, "rs_test_panic");
    if (!g_gen || !g_set || !g_jsonl || !g_count || !g_panic) {
        printf("FAIL plugins: the library lacks a plugin (built without --features testkit?)\n");
        tmp_cleanup();
        return 2;
    }

    run_test("1 abi", test_abi);
    run_test("2 abi-versions", test_abi_versions);
    run_test("3 jsonl-output", test_jsonl_output);
    run_test("4 config-errors", test_config_errors);
    run_test("5 set-filter", test_set_filter);
    run_test("6 gen-input", test_gen_input);
    run_test("7 round-trip", test_round_trip);
    run_test("8 malformed-input", test_malformed);
    run_test("9 panics", test_panics);
    run_test("10 small-stacks", test_small_stacks);
    run_test("11 log-levels", test_log_levels);
    run_test("12 null-arguments", test_null_arguments);
    run_test_timeout("13 pause-inside-append", test_pause_inside_append, 20);
    run_test_timeout("14 leaked-threads", test_leaked_threads, 20);

    tmp_cleanup();
    th_global_free();
    return check_summary();
}
