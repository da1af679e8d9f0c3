/*
 * Shared by the patterns pages only (web/patterns.c, web/pattern_run.c,
 * web/pattern_diff.c): reading through the API's own GET handlers (so a page
 * sees exactly what the API would show the viewer), the pattern a page's
 * path names, and the page when it names none.
 */
#ifndef WEB_PATTERNS_INTERNAL_H
#define WEB_PATTERNS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct req;

/* GET the API route pattern with query (NULL: none) in place of the page's own query
 * string; otherwise as web_api_call (*answer: the JSON answer, caller deletes). */
int pattern_page_get(struct req *r, const char *pattern, const char *query, cJSON **answer);
/* GET /api/v1/patterns/{id}/versions/{version} for the page's {id}. */
int pattern_page_version(struct req *r, const char *version, cJSON **answer);
/* A signed-in page about the pattern the path's {id} names: 0 with *ctx (the shell's,
 * ctx.pattern set to the API's answer, definition included) for the caller to fill and
 * render; or the response already made (the sign-in redirect, the not-found page) with
 * *ctx NULL. */
int pattern_page_begin(struct req *r, cJSON **ctx);
/* Render the "no such pattern" page with ctx (deleted here). */
int pattern_page_missing(struct req *r, cJSON *ctx);
/* Some API handlers answer a refusal themselves (a 422 with every problem) and return
 * 0: that answer's error object, else NULL. */
const cJSON *pattern_page_refusal(const cJSON *answer);
/* o[key] = "2026-11-22 10:41 UTC" from the API's RFC 3339 time iso (and o[key_iso] the
 * original, for <time datetime>); "" for anything else. */
void pattern_page_time(cJSON *o, const char *key, const char *iso);
/* o[key] when it is a string, else "". */
const char *pattern_page_str(const cJSON *o, const char *key);
/* A problem's message ({node_id, path, message}) without the path it starts with (the
 * page shows the path, or the field, beside it). */
const char *pattern_page_problem(const cJSON *problem);
/* 1 for a pattern id or name: safe as is in a path or a Location. */
int pattern_page_safe_id(const char *s);
/* "42 ms", "1.3 s", "2.1 min", or "" unless 0 < from <= to. */
void pattern_page_duration(char *out, size_t size, int64_t from_ms, int64_t to_ms);

/* ---- a line diff (web/line_diff.c) ---- */

#define DIFF_MAX_EDITS 1000 /* past this many, the changed middle counts as replaced */

/* One line of a text: it points into the text, without its '\n'. */
struct diff_line {
	const char *s;
	size_t n;
	uint32_t h;
};
enum diff_op { DIFF_SAME, DIFF_DEL, DIFF_INS };
/* a: the old line (DIFF_SAME, DIFF_DEL), b: the new line (DIFF_SAME, DIFF_INS); else -1. */
struct diff_edit {
	enum diff_op op;
	int a, b;
};
/* The lines of text (malloc'd; free it), *count of them. */
struct diff_line *diff_split(const char *text, int *count);
int diff_same(const struct diff_line *x, const struct diff_line *y);
/* A shortest edit script from a[0..n) to b[0..m), in order of both texts (*out is
 * malloc'd; free it): how many edits. */
int diff_lines(const struct diff_line *a, int n, const struct diff_line *b, int m,
	       struct diff_edit **out);

/* The run form (web/pattern_run.c): ctx.run for the pattern's latest definition, with
 * its defaults, for the viewer allowed to submit executions. */
void pattern_run_form(struct req *r, cJSON *ctx);

#endif
