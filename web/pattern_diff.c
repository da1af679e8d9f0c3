/*
 * GET /patterns/{id}/versions/diff?from=N&to=M: two versions' YAML side by
 * side. The lines are diffed here (web/line_diff.c); the API's own diff is
 * structural (paths in the document) and is shown as a summary above them.
 * Runs of removed and added lines pair up as changed lines, with the part
 * that differs marked inside them; long unchanged runs fold to CONTEXT lines
 * around each change unless ?all=1. Changes are marked with -/+ and
 * <del>/<ins> and named for screen readers, never by colour alone.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/web.h"
#include "web/patterns_internal.h"
#include "engine/engine.h"
#include "server/server.h"
#include "core/core.h"

#define CONTEXT	      3 /* unchanged lines shown around a change */
#define CHANGES_SHOWN 50

/* ---- rows of the side-by-side table ---- */

static void seg(cJSON *list, const char *s, size_t n, int marked)
{
	if (!n && cJSON_GetArraySize(list))
		return;
	cJSON *o = cJSON_CreateObject();
	char *t = xstrndup(s, n);
	cJSON_AddStringToObject(o, "t", t);
	cJSON_AddBoolToObject(o, "hl", marked);
	cJSON_AddItemToArray(list, o);
	free(t);
}

/* A changed line's two sides: the common start and end plain, the middle marked (cut
 * on UTF-8 character boundaries). */
static void segs_changed(cJSON *left, cJSON *right, const struct diff_line *x,
			 const struct diff_line *y)
{
	size_t pre = 0, suf = 0;
	while (pre < x->n && pre < y->n && x->s[pre] == y->s[pre])
		pre++;
	while (pre > 0 && ((unsigned char)x->s[pre] & 0xC0) == 0x80)
		pre--;
	while (suf < x->n - pre && suf < y->n - pre && x->s[x->n - 1 - suf] == y->s[y->n - 1 - suf])
		suf++;
	while (suf > 0 && ((unsigned char)x->s[x->n - suf] & 0xC0) == 0x80)
		suf--;
	const struct diff_line *side[2] = {x, y};
	cJSON *out[2] = {left, right};
	for (int i = 0; i < 2; i++) {
		seg(out[i], side[i]->s, pre, 0);
		seg(out[i], side[i]->s + pre, side[i]->n - pre - suf, 1);
		seg(out[i], side[i]->s + side[i]->n - suf, suf, 0);
	}
}

/* One row: the old line ai and the new line bi (-1: none on that side). */
static void row(cJSON *rows, const struct diff_line *a, int ai, const struct diff_line *b, int bi)
{
	static const char *const kinds[] = {"same", "del", "ins", "chg"};
	static const char *const lmark[] = {"", "removed", "", "changed from"};
	static const char *const rmark[] = {"", "", "added", "changed to"};
	int kind = ai >= 0 && bi >= 0 ? (diff_same(&a[ai], &b[bi]) ? 0 : 3) : ai >= 0 ? 1 : 2;
	cJSON *o = cJSON_CreateObject(), *l, *r;
	char no[16];
	cJSON_AddStringToObject(o, "kind", kinds[kind]);
	cJSON_AddStringToObject(o, "skip", "");
	snprintf(no, sizeof(no), "%d", ai + 1);
	cJSON_AddStringToObject(o, "l_no", ai >= 0 ? no : "");
	snprintf(no, sizeof(no), "%d", bi + 1);
	cJSON_AddStringToObject(o, "r_no", bi >= 0 ? no : "");
	cJSON_AddStringToObject(o, "l_mark", lmark[kind]);
	cJSON_AddStringToObject(o, "r_mark", rmark[kind]);
	l = cJSON_AddArrayToObject(o, "l");
	r = cJSON_AddArrayToObject(o, "r");
	if (kind == 3)
		segs_changed(l, r, &a[ai], &b[bi]);
	if (kind != 3 && ai >= 0)
		seg(l, a[ai].s, a[ai].n, kind != 0);
	if (kind != 3 && bi >= 0)
		seg(r, b[bi].s, b[bi].n, kind != 0);
	cJSON_AddItemToArray(rows, o);
}

static void skip_row(cJSON *rows, int count)
{
	cJSON *o = cJSON_CreateObject();
	char s[48];
	snprintf(s, sizeof(s), "%d unchanged line%s", count, count == 1 ? "" : "s");
	cJSON_AddStringToObject(o, "skip", s);
	cJSON_AddItemToArray(rows, o);
}

/* rows[] of the edits, added and removed; unchanged runs fold unless all. */
static void add_rows(cJSON *ctx, const struct diff_line *a, const struct diff_line *b,
		     const struct diff_edit *e, int ne, int all)
{
	cJSON *rows = cJSON_AddArrayToObject(ctx, "rows");
	int added = 0, removed = 0;
	for (int i = 0; i < ne;) {
		int j = i;
		if (e[i].op == DIFF_SAME) {
			while (j < ne && e[j].op == DIFF_SAME)
				j++;
			int head = i == 0 ? 0 : CONTEXT, tail = j == ne ? 0 : CONTEXT;
			int fold = !all && j - i > head + tail + 1;
			for (int k = i; k < j; k++) {
				if (fold && k == i + head)
					skip_row(rows, j - i - head - tail);
				if (!fold || k < i + head || k >= j - tail)
					row(rows, a, e[k].a, b, e[k].b);
			}
			i = j;
			continue;
		}
		while (j < ne && e[j].op != DIFF_SAME)
			j++;
		/* the removed and added lines of [i, j), paired in order (they may interleave) */
		for (int d = i, n = i;;) {
			while (d < j && e[d].op != DIFF_DEL)
				d++;
			while (n < j && e[n].op != DIFF_INS)
				n++;
			if (d == j && n == j)
				break;
			removed += d < j;
			added += n < j;
			row(rows, a, d < j ? e[d].a : -1, b, n < j ? e[n].b : -1);
			d += d < j;
			n += n < j;
		}
		i = j;
	}
	cJSON_AddNumberToObject(ctx, "added", added);
	cJSON_AddNumberToObject(ctx, "removed", removed);
}

/* ---- the page ---- */

/* The YAML of version v (its number as text) of the page's pattern, or NULL. */
static char *version_yaml(struct req *r, const char *v)
{
	cJSON *answer = NULL;
	char *json, *yaml = NULL;
	if (pattern_page_version(r, v, &answer) || !answer) {
		cJSON_Delete(answer);
		err_clear(&r->err);
		return NULL;
	}
	json = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(answer, "definition"));
	if (!json || pattern_json_to_yaml(json, strlen(json), &yaml, &r->err))
		err_clear(&r->err);
	free(json);
	cJSON_Delete(answer);
	return yaml;
}

/* The choices of both selects, and the API's structural changes between them. */
static int add_choices(struct req *r, cJSON *ctx, int64_t from, int64_t to)
{
	cJSON *answer = NULL, *list = cJSON_AddArrayToObject(ctx, "choices");
	char q[64];
	const cJSON *v;
	int rc = pattern_page_get(r, "/api/v1/patterns/{id}/versions", "limit=100", &answer);
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(answer, "items"))
	{
		int64_t n =
		    (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(v, "version"));
		const char *msg = pattern_page_str(v, "message");
		cJSON *o = cJSON_CreateObject();
		char label[96];
		snprintf(label, sizeof(label), "v%lld%s%.60s", (long long)n, *msg ? " · " : "",
			 msg);
		cJSON_AddNumberToObject(o, "v", (double)n);
		cJSON_AddStringToObject(o, "label", label);
		cJSON_AddBoolToObject(o, "is_from", n == from);
		cJSON_AddBoolToObject(o, "is_to", n == to);
		cJSON_AddItemToArray(list, o);
	}
	cJSON_Delete(answer);
	answer = NULL;
	snprintf(q, sizeof(q), "from=%lld&to=%lld", (long long)from, (long long)to);
	if (!rc && !pattern_page_get(r, "/api/v1/patterns/{id}/versions/diff", q, &answer)) {
		cJSON *changes = cJSON_AddArrayToObject(ctx, "changes");
		int n = 0;
		cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(answer, "changes"))
		{
			if (n++ == CHANGES_SHOWN) {
				cJSON_AddTrueToObject(ctx, "more_changes");
				break;
			}
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "op", pattern_page_str(v, "op"));
			cJSON_AddStringToObject(o, "path", pattern_page_str(v, "path"));
			cJSON_AddItemToArray(changes, o);
		}
	}
	err_clear(&r->err);
	cJSON_Delete(answer);
	return rc;
}

/* ?name=N as a version number, else dflt. */
static int64_t version_query(struct req *r, const char *name, int64_t dflt)
{
	const char *s = req_query(r, name);
	int64_t v;
	return s && !str_to_i64(s, &v) && v >= 1 ? v : dflt;
}

int web_pattern_diff_page(struct req *r)
{
	cJSON *ctx;
	char fs[24], ts[24];
	int rc, status = 200;
	if ((rc = pattern_page_begin(r, &ctx)) || !ctx)
		return rc;
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(ctx, "pattern");
	int64_t latest =
	    (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(p, "latest_version"));
	int64_t to = version_query(r, "to", latest);
	int64_t from = version_query(r, "from", to > 1 ? to - 1 : 1);
	int all = req_query(r, "all") != NULL;
	snprintf(fs, sizeof(fs), "%lld", (long long)from);
	snprintf(ts, sizeof(ts), "%lld", (long long)to);
	cJSON_AddNumberToObject(ctx, "from", (double)from);
	cJSON_AddNumberToObject(ctx, "to", (double)to);
	if (all)
		cJSON_AddTrueToObject(ctx, "all");
	char *ya = version_yaml(r, fs), *yb = ya ? version_yaml(r, ts) : NULL;
	if (ya && yb) {
		struct diff_edit *e = NULL;
		int na, nb;
		struct diff_line *a = diff_split(ya, &na), *b = diff_split(yb, &nb);
		int ne = diff_lines(a, na, b, nb, &e);
		add_rows(ctx, a, b, e, ne, all);
		if (from == to)
			cJSON_AddTrueToObject(ctx, "identical");
		free(e);
		free(a);
		free(b);
	} else {
		status = 404;
		cJSON_AddStringToObject(ctx, "missing", ya ? ts : fs);
	}
	free(ya);
	free(yb);
	if (!(rc = add_choices(r, ctx, from, to)))
		rc = web_render(r, status, "pattern_diff", ctx);
	cJSON_Delete(ctx);
	return rc;
}
