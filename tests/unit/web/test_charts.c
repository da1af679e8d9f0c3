/*
 * Server-drawn SVG charts (web/charts.c): stacked parts, round y ticks, a
 * title per bar, and every text escaped.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/test.h"
#include "web/web.h"
#include "core/core.h"

static int count(const char *s, const char *needle)
{
	int n = 0;
	for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

TEST(charts_bars_ticks_titles)
{
	static const char *const cls[] = { "ok", "bad", "other" };
	struct chart_bar bars[3] = {
		{ .label = "a", .title = "first: 3", .v = { 2, 1, 0 } },
		{ .label = "b", .title = "second: 0", .v = { 0, 0, 0 } },
		{ .label = "c", .title = "third: 7", .v = { 5, 0, 2 } },
	};
	struct buf b = BUF_INIT;
	chart_bars(&b, "Executions", bars, 3, 3, cls);
	CHECK(strncmp(b.p, "<svg class=\"chart\" viewBox=", 27) == 0);
	CHECK(strstr(b.p, "role=\"img\" aria-label=\"Executions\"") != NULL);
	CHECK_INT(count(b.p, "<title>"), 3);
	CHECK(strstr(b.p, "<title>third: 7</title>") != NULL);
	/* parts drawn only when not zero: 2 + 0 + 2, plus a hit area per bar */
	CHECK_INT(count(b.p, "class=\"ok\""), 2);
	CHECK_INT(count(b.p, "class=\"bad\""), 1);
	CHECK_INT(count(b.p, "class=\"other\""), 1);
	CHECK_INT(count(b.p, "class=\"hit\""), 3);
	/* max 7: ticks 0, 2, 4, 6, 8 */
	CHECK(strstr(b.p, ">8</text>") != NULL && strstr(b.p, ">0</text>") != NULL);
	CHECK(strstr(b.p, "style=") == NULL);
	CHECK(strstr(b.p, "</svg>") == b.p + b.len - 6);
	buf_release(&b);
}

TEST(charts_escape_text)
{
	static const char *const cls[] = { "x" };
	struct chart_bar bars[1] = { { .label = "<b>\"l\"", .title = "</title><script>alert(1)</script>", .v = { 1 } } };
	struct buf b = BUF_INIT;
	chart_bars(&b, "\"><script>", bars, 1, 1, cls);
	CHECK(strstr(b.p, "<script>") == NULL);
	CHECK(strstr(b.p, "&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;") != NULL);
	CHECK(strstr(b.p, "&lt;b&gt;&quot;l&quot;") != NULL);
	CHECK(strstr(b.p, "aria-label=\"&quot;&gt;&lt;script&gt;\"") != NULL);
	buf_release(&b);
}

TEST(charts_all_zero_and_empty)
{
	static const char *const cls[] = { "x" };
	struct chart_bar bars[2] = { { .label = "a", .title = "a" }, { .label = "b", .title = "b" } };
	struct buf b = BUF_INIT;
	chart_bars(&b, "none", bars, 2, 1, cls);
	CHECK(strstr(b.p, "nan") == NULL && strstr(b.p, "inf") == NULL);
	CHECK_INT(count(b.p, "class=\"x\""), 0);
	buf_reset(&b);
	chart_bars(&b, "no bars", NULL, 0, 1, cls);
	CHECK(strstr(b.p, "</svg>") != NULL && strstr(b.p, "nan") == NULL);
	buf_release(&b);
}

TEST_MAIN(TEST_ENTRY(charts_bars_ticks_titles), TEST_ENTRY(charts_escape_text),
	  TEST_ENTRY(charts_all_zero_and_empty))
