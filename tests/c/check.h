/*
 * check.h: the test host's minimal test framework.
 *
 * A test is a function run by run_test(); CHECK* macros record failures of
 * the running test (printing where and why) without stopping it. Each test
 * ends with one "PASS name" or "FAIL name" line on stdout.
 */

#ifndef FLB_RS_TEST_CHECK_H
#define FLB_RS_TEST_CHECK_H

#include <stddef.h>

void check_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prints a note for the running test (indented, on stdout). */
void check_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define CHECK(cond)                                          \
    do {                                                     \
        if (!(cond)) {                                       \
            check_fail(__FILE__, __LINE__, "%s", #cond);     \
        }                                                    \
    } while (0)

#define CHECKF(cond, ...)                                    \
    do {                                                     \
        if (!(cond)) {                                       \
            check_fail(__FILE__, __LINE__, __VA_ARGS__);     \
        }                                                    \
    } while (0)

#define CHECK_INT(a, b)                                                                \
    do {                                                                               \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                \
        if (check_a_ != check_b_) {                                                    \
            check_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, check_a_, \
                       check_b_);                                                      \
        }                                                                              \
    } while (0)

/* Compares strings; NULL is printed as (null) and equals only NULL. */
#define CHECK_STR(a, b) check_str(__FILE__, __LINE__, #a, (a), (b))
/* Checks that `hay` (may be NULL) contains `needle`. */
#define CHECK_HAS(hay, needle) check_has(__FILE__, __LINE__, #hay, (hay), (needle))
/* Compares byte strings, showing the first difference. */
#define CHECK_MEM(a, alen, b, blen) check_mem(__FILE__, __LINE__, #a, (a), (alen), (b), (blen))

void check_str(const char *file, int line, const char *expr, const char *a, const char *b);
void check_has(const char *file, int line, const char *expr, const char *hay, const char *needle);
void check_mem(const char *file, int line, const char *expr, const void *a, size_t alen,
               const void *b, size_t blen);

/* Runs one test: prints PASS/FAIL with its name and counts it. Each test
 * has a watchdog (FLB_RS_TEST_TIMEOUT seconds, default 300): a test that
 * hangs ends the program with a FAIL line. */
void run_test(const char *name, void (*fn)(void));
/* The same with a watchdog of its own, in seconds. */
void run_test_timeout(const char *name, void (*fn)(void), unsigned seconds);
/* Called (async-signal-safe code only) when a hung test ends the program. */
void check_on_timeout(void (*fn)(void));
/* Prints the "N passed, M failed" line; returns the exit status. */
int check_summary(void);

#endif /* FLB_RS_TEST_CHECK_H */
