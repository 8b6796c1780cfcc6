/* check.c: see check.h. */

#include "check.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "th.h"

static int g_passed, g_failed, g_cur_failures;
static const char *volatile g_cur_name;

void check_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    g_cur_failures++;
    printf("  check failed at %s:%d: ", file, line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

void check_note(const char *fmt, ...)
{
    va_list ap;
    printf("  ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static void print_escaped(const char *s, size_t n)
{
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') {
            printf("\\n");
        } else if (c == '"' || c == '\\') {
            printf("\\%c", c);
        } else if (c < 0x20 || c == 0x7f) {
            printf("\\x%02x", c);
        } else {
            putchar(c);
        }
    }
    putchar('"');
}

void check_str(const char *file, int line, const char *expr, const char *a, const char *b)
{
    if ((!a && !b) || (a && b && strcmp(a, b) == 0)) {
        return;
    }
    g_cur_failures++;
    printf("  check failed at %s:%d: %s\n    got:      ", file, line, expr);
    if (a) {
        print_escaped(a, strlen(a));
    } else {
        printf("(null)");
    }
    printf("\n    expected: ");
    if (b) {
        print_escaped(b, strlen(b));
    } else {
        printf("(null)");
    }
    putchar('\n');
    fflush(stdout);
}

void check_has(const char *file, int line, const char *expr, const char *hay, const char *needle)
{
    if (hay && strstr(hay, needle)) {
        return;
    }
    g_cur_failures++;
    printf("  check failed at %s:%d: %s should contain ", file, line, expr);
    print_escaped(needle, strlen(needle));
    printf("\n    it is: ");
    if (hay) {
        print_escaped(hay, strlen(hay));
    } else {
        printf("(null)");
    }
    putchar('\n');
    fflush(stdout);
}

void check_mem(const char *file, int line, const char *expr, const void *a, size_t alen,
               const void *b, size_t blen)
{
    const unsigned char *x = a, *y = b;
    size_t i = 0;
    if (alen == blen && (alen == 0 || memcmp(a, b, alen) == 0)) {
        return;
    }
    while (i < alen && i < blen && x[i] == y[i]) {
        i++;
    }
    g_cur_failures++;
    printf("  check failed at %s:%d: %s: %zu bytes vs %zu expected, first difference at "
           "byte %zu\n",
           file, line, expr, alen, blen, i);
    size_t from = i > 8 ? i - 8 : 0;
    printf("    got:     ");
    for (size_t k = from; k < alen && k < i + 16; k++) {
        printf(" %02x", x[k]);
    }
    printf("\n    expected:");
    for (size_t k = from; k < blen && k < i + 16; k++) {
        printf(" %02x", y[k]);
    }
    putchar('\n');
    fflush(stdout);
}

static void (*volatile g_on_timeout)(void);

void check_on_timeout(void (*fn)(void))
{
    g_on_timeout = fn;
}

static void on_alarm(int sig)
{
    /* async-signal-safe: write(2) and _exit(2) only */
    const char *name = g_cur_name ? g_cur_name : "?";
    (void)sig;
    if (write(STDOUT_FILENO, "FAIL ", 5) < 0 ||
        write(STDOUT_FILENO, name, strlen(name)) < 0 ||
        write(STDOUT_FILENO, " (timed out: the test hung)\n", 28) < 0) {
        /* nothing more can be done */
    }
    if (g_on_timeout) {
        g_on_timeout();
    }
    /* the summary line, the hung test counted as failed */
    char line[64];
    size_t n = 0;
    int nums[2] = {g_passed, g_failed + 1};
    const char *words[2] = {" passed, ", " failed\n"};
    for (int k = 0; k < 2; k++) {
        char digits[16];
        size_t d = 0;
        unsigned v = (unsigned)nums[k];
        do {
            digits[d++] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        while (d) {
            line[n++] = digits[--d];
        }
        for (const char *w = words[k]; *w; w++) {
            line[n++] = *w;
        }
    }
    if (write(STDOUT_FILENO, line, n) < 0) {
        /* nothing more can be done */
    }
    _exit(3);
}

void run_test(const char *name, void (*fn)(void))
{
    run_test_timeout(name, fn, 0);
}

void run_test_timeout(const char *name, void (*fn)(void), unsigned seconds)
{
    static unsigned timeout;
    if (!timeout) {
        const char *t = getenv("FLB_RS_TEST_TIMEOUT");
        timeout = t && atoi(t) > 0 ? (unsigned)atoi(t) : 300;
        signal(SIGALRM, on_alarm);
    }
    if (!seconds) {
        seconds = timeout;
    }
    size_t violations = th_violations();
    g_cur_name = name;
    g_cur_failures = 0;
    printf("--- %s\n", name);
    fflush(stdout);
    alarm(seconds);
    fn();
    alarm(0);
    if (th_violations() != violations) {
        check_fail(__FILE__, __LINE__, "%zu host contract violation(s) during the test (see stderr)",
                   th_violations() - violations);
    }
    if (g_cur_failures) {
        g_failed++;
        printf("FAIL %s\n", name);
    } else {
        g_passed++;
        printf("PASS %s\n", name);
    }
    fflush(stdout);
    g_cur_name = NULL;
}

int check_summary(void)
{
    printf("%d passed, %d failed\n", g_passed, g_failed);
    fflush(stdout);
    return g_failed ? 1 : 0;
}
