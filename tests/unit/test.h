/*
 * A minimal unit-test harness: TEST() functions registered in a table,
 * CHECK* macros that record failures with file and line, and a main() that
 * runs every test and prints "N passed, N failed". Exit 77 means skipped
 * (CTest SKIP_RETURN_CODE) and is only for a backend that the run did not
 * provide; the full suite always provides both.
 */
#ifndef TESTS_UNIT_TEST_H
#define TESTS_UNIT_TEST_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int test_failures;
static int test_checks;

#define CHECK(cond)                                                                    \
	do {                                                                           \
		test_checks++;                                                         \
		if (!(cond)) {                                                         \
			test_failures++;                                               \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                \
		}                                                                      \
	} while (0)

#define CHECK_INT(a, b)                                                                   \
	do {                                                                              \
		long long _a = (long long)(a), _b = (long long)(b);                       \
		test_checks++;                                                            \
		if (_a != _b) {                                                           \
			test_failures++;                                                  \
			fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__,  \
				__LINE__, #a, _a, _b);                                    \
		}                                                                         \
	} while (0)

#define CHECK_STR(a, b)                                                                      \
	do {                                                                                 \
		const char *_a = (a), *_b = (b);                                             \
		test_checks++;                                                               \
		if (!_a || !_b || strcmp(_a, _b)) {                                          \
			test_failures++;                                                     \
			fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, \
				__LINE__, #a, _a ? _a : "(null)", _b ? _b : "(null)");       \
		}                                                                            \
	} while (0)

#define CHECK_NEAR(a, b, eps)                                                             \
	do {                                                                              \
		double _a = (a), _b = (b);                                                \
		test_checks++;                                                            \
		if (!(fabs(_a - _b) <= (eps))) {                                          \
			test_failures++;                                                  \
			fprintf(stderr, "%s:%d: %s == %.9g, expected %.9g\n", __FILE__, \
				__LINE__, #a, _a, _b);                                    \
		}                                                                         \
	} while (0)

struct test_case {
	const char *name;
	void (*fn)(void);
};

#define TEST(name) static void name(void)
#define TEST_ENTRY(name) { #name, name }

static inline int test_run_all(const struct test_case *cases, size_t n)
{
	int passed = 0, failed = 0;
	for (size_t i = 0; i < n; i++) {
		int before = test_failures;
		cases[i].fn();
		if (test_failures == before) {
			passed++;
		} else {
			failed++;
			fprintf(stderr, "FAIL %s\n", cases[i].name);
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

#define TEST_MAIN(...)                                                              \
	int main(void)                                                              \
	{                                                                           \
		static const struct test_case cases[] = { __VA_ARGS__ };          \
		return test_run_all(cases, sizeof(cases) / sizeof(cases[0]));       \
	}

#endif
