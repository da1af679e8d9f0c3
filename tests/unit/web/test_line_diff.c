/*
 * The versions page's line diff (web/line_diff.c): every script turns the old
 * text into the new one, keeps both texts' order, and is as short as a
 * longest-common-subsequence says it can be; past DIFF_MAX_EDITS the middle
 * counts as replaced, still a valid script.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/test.h"
#include "web/patterns_internal.h"
#include "core/core.h"

/* 1 when e[0..ne) walks a and b in order, each line once, SAME only on equal lines. */
static int script_valid(const struct diff_line *a, int n, const struct diff_line *b, int m,
			const struct diff_edit *e, int ne)
{
	int x = 0, y = 0;
	for (int i = 0; i < ne; i++) {
		if (e[i].op != DIFF_INS && e[i].a != x++)
			return 0;
		if (e[i].op != DIFF_DEL && e[i].b != y++)
			return 0;
		if (e[i].op == DIFF_SAME && !diff_same(&a[e[i].a], &b[e[i].b]))
			return 0;
	}
	return x == n && y == m;
}

static int changes(const struct diff_edit *e, int ne)
{
	int c = 0;
	for (int i = 0; i < ne; i++)
		c += e[i].op != DIFF_SAME;
	return c;
}

/* n + m - 2 LCS: the fewest lines any script removes and adds. */
static int fewest(const struct diff_line *a, int n, const struct diff_line *b, int m)
{
	int *t = calloc((size_t)(n + 1) * (size_t)(m + 1), sizeof(int));
	for (int i = n - 1; i >= 0; i--)
		for (int j = m - 1; j >= 0; j--)
			t[i * (m + 1) + j] =
			    diff_same(&a[i], &b[j])
				? 1 + t[(i + 1) * (m + 1) + j + 1]
				: (t[(i + 1) * (m + 1) + j] > t[i * (m + 1) + j + 1]
				       ? t[(i + 1) * (m + 1) + j]
				       : t[i * (m + 1) + j + 1]);
	int lcs = t[0];
	free(t);
	return n + m - 2 * lcs;
}

/* Diff two texts; checks the script; its count of changed lines. */
static int diff_texts(const char *ta, const char *tb, int check_minimal)
{
	int n, m;
	struct diff_line *a = diff_split(ta, &n), *b = diff_split(tb, &m);
	struct diff_edit *e = NULL;
	int ne = diff_lines(a, n, b, m, &e);
	int c = changes(e, ne);
	CHECK(script_valid(a, n, b, m, e, ne));
	if (check_minimal)
		CHECK_INT(c, fewest(a, n, b, m));
	free(e);
	free(a);
	free(b);
	return c;
}

TEST(line_diff_small_cases)
{
	CHECK_INT(diff_texts("", "", 1), 0);
	CHECK_INT(diff_texts("", "a\n", 1), 1);
	CHECK_INT(diff_texts("a\nb\n", "", 1), 2);
	CHECK_INT(diff_texts("a\nb\nc\n", "a\nb\nc\n", 1), 0);
	CHECK_INT(diff_texts("a\nb\nc", "a\nb\nc\n", 1), 0); /* a last line without '\n' */
	CHECK_INT(diff_texts("a\nb\nc\n", "a\nx\nb\nc\n", 1), 1);
	CHECK_INT(diff_texts("a\nb\nc\n", "a\nc\n", 1), 1);
	CHECK_INT(diff_texts("a\nb\nc\n", "a\nB\nc\n", 1), 2);
	CHECK_INT(diff_texts("\n\n\n", "\n\n", 1), 1); /* empty lines are lines */
	CHECK_INT(diff_texts("a\nb\na\nb\n", "b\na\nb\na\n", 1), 2);
}

TEST(line_diff_one_change_in_a_long_text)
{
	struct buf x = BUF_INIT, y = BUF_INIT;
	for (int i = 0; i < 5000; i++) {
		buf_addf(&x, "  line: %d\n", i);
		buf_addf(&y, "  line: %d\n", i == 2500 ? -1 : i);
	}
	int n, m;
	struct diff_line *a = diff_split(x.p, &n), *b = diff_split(y.p, &m);
	struct diff_edit *e = NULL;
	int ne = diff_lines(a, n, b, m, &e);
	CHECK_INT(n, 5000);
	CHECK_INT(ne, 5001);
	CHECK(script_valid(a, n, b, m, e, ne));
	CHECK_INT(changes(e, ne), 2);
	CHECK(e[2500].op == DIFF_DEL && e[2500].a == 2500);
	CHECK(e[2501].op == DIFF_INS && e[2501].b == 2500);
	free(e);
	free(a);
	free(b);
	buf_release(&x);
	buf_release(&y);
}

/* Random texts over a few distinct lines (so there is much to match): always a valid
 * script, always the shortest one. */
TEST(line_diff_random_texts_are_shortest)
{
	static const char *const words[] = {"a", "b", "c", "- id: in", "  type: agent"};
	unsigned seed = 12345;
	for (int round = 0; round < 400; round++) {
		struct buf x = BUF_INIT, y = BUF_INIT;
		seed = seed * 1103515245u + 12345u;
		int n = (int)(seed >> 16) % 40, m = (int)(seed >> 8) % 40;
		for (int i = 0; i < n + m; i++) {
			seed = seed * 1103515245u + 12345u;
			buf_addf(i < n ? &x : &y, "%s\n", words[(seed >> 16) % ARRAY_SIZE(words)]);
		}
		diff_texts(x.p, y.p, 1);
		buf_release(&x);
		buf_release(&y);
	}
}

/* Past DIFF_MAX_EDITS the middle is replaced whole: still a valid script, in bounded
 * time and memory. */
TEST(line_diff_past_the_bound)
{
	struct buf x = BUF_INIT, y = BUF_INIT;
	for (int i = 0; i < 3 * DIFF_MAX_EDITS; i++) {
		buf_addf(&x, "old %d\n", i);
		buf_addf(&y, "new %d\n", i);
	}
	buf_adds(&x, "same end\n");
	buf_adds(&y, "same end\n");
	CHECK_INT(diff_texts(x.p, y.p, 0), 6 * DIFF_MAX_EDITS);
	buf_release(&x);
	buf_release(&y);
}

TEST_MAIN(TEST_ENTRY(line_diff_small_cases), TEST_ENTRY(line_diff_one_change_in_a_long_text),
	  TEST_ENTRY(line_diff_random_texts_are_shortest), TEST_ENTRY(line_diff_past_the_bound))
