/*
 * The patterns pages: GET /patterns (the workspace's patterns with their last
 * run, paged by the API's cursor), GET /patterns/{id} (a pattern's nodes,
 * YAML, versions, recent executions, run form) and the delete form. Reads go
 * through the API's own GET handlers (web_api_call), so a page shows exactly
 * what the API would show this viewer. New patterns (library, import) are in
 * web/pattern_new.c, the run form in web/pattern_run.c and the versions diff
 * in web/pattern_diff.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/web.h"
#include "web/patterns_internal.h"
#include "db/db.h"
#include "engine/engine.h"
#include "server/server.h"
#include "core/core.h"

#define RUNS_SHOWN	10
#define OPTION_TEXT_MAX 90 /* characters of an option's value in the node list */

/* ---- shared by the patterns pages (web/patterns_internal.h) ---- */

int pattern_page_get(struct req *r, const char *pattern, const char *query, cJSON **answer)
{
	const char *saved = r->query;
	r->query = query; /* the API handler reads its own query parameters */
	int rc = web_api_call(r, "GET", pattern, NULL, answer);
	r->query = saved;
	return rc;
}

int pattern_page_version(struct req *r, const char *version, cJSON **answer)
{
	const char *saved = r->params[1];
	int n = r->nparams;
	r->params[1] = version; /* the API route's {version}, after the page's {id} */
	r->nparams = 2;
	int rc = pattern_page_get(r, "/api/v1/patterns/{id}/versions/{version}", NULL, answer);
	r->params[1] = saved;
	r->nparams = n;
	return rc;
}

int pattern_page_missing(struct req *r, cJSON *ctx)
{
	err_clear(&r->err);
	int rc = web_render(r, 404, "pattern_missing", ctx);
	cJSON_Delete(ctx);
	return rc;
}

int pattern_page_begin(struct req *r, cJSON **ctx)
{
	struct db *db;
	cJSON *p = NULL;
	int rc;
	if ((rc = web_app_begin(r, &db, "patterns", ctx)) || !*ctx)
		return rc;
	rc = pattern_page_get(r, "/api/v1/patterns/{id}", NULL, &p);
	if (rc == ERR_NOT_FOUND || (!rc && !p)) {
		rc = pattern_page_missing(r, *ctx);
		*ctx = NULL;
		return rc;
	}
	if (rc) {
		cJSON_Delete(*ctx);
		*ctx = NULL;
		return rc;
	}
	cJSON_AddItemToObject(*ctx, "pattern", p);
	return 0;
}

const char *pattern_page_str(const cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
	return s ? s : "";
}

const char *pattern_page_problem(const cJSON *problem)
{
	const char *path = pattern_page_str(problem, "path");
	const char *msg = pattern_page_str(problem, "message");
	size_t n = strlen(path);
	return n && !strncmp(msg, path, n) && !strncmp(msg + n, ": ", 2) ? msg + n + 2 : msg;
}

int pattern_page_safe_id(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return n >= 1 && n <= 64 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

const cJSON *pattern_page_refusal(const cJSON *answer)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(answer, "error");
	return cJSON_IsObject(e) ? e : NULL;
}

void pattern_page_time(cJSON *o, const char *key, const char *s)
{
	char shown[32] = "", k[48];
	/* "2026-11-22T10:41:07.123Z" -> "2026-11-22 10:41 UTC" */
	if (s && strlen(s) >= 16 && s[10] == 'T')
		snprintf(shown, sizeof(shown), "%.10s %.5s UTC", s, s + 11);
	cJSON_AddStringToObject(o, key, shown);
	snprintf(k, sizeof(k), "%s_iso", key);
	cJSON_AddStringToObject(o, k, shown[0] ? s : "");
}

void pattern_page_duration(char *out, size_t size, int64_t from_ms, int64_t to_ms)
{
	int64_t ms = to_ms - from_ms;
	if (!from_ms || ms < 0)
		str_copy(out, size, "");
	else if (ms < 1000)
		snprintf(out, size, "%lld ms", (long long)ms);
	else if (ms < 120000)
		snprintf(out, size, "%.1f s", (double)ms / 1000);
	else
		snprintf(out, size, "%.1f min", (double)ms / 60000);
}

/* ---- GET /patterns ---- */

/* {id, status, when, confidence, duration, version} of one execution. */
static cJSON *run_json(const struct pattern_run_row *x)
{
	cJSON *o = cJSON_CreateObject();
	char when[40], conf[16] = "", dur[32];
	time_iso(x->created_at, when, sizeof(when));
	cJSON_AddStringToObject(o, "id", x->id);
	cJSON_AddStringToObject(o, "short_id", x->id + 24); /* the random tail */
	cJSON_AddStringToObject(o, "status", x->status);
	cJSON_AddNumberToObject(o, "version", (double)x->version);
	pattern_page_time(o, "when", when);
	if (x->has_confidence)
		snprintf(conf, sizeof(conf), "%.2f", x->confidence);
	cJSON_AddStringToObject(o, "confidence", conf);
	pattern_page_duration(dur, sizeof(dur), x->started_at, x->finished_at);
	cJSON_AddStringToObject(o, "duration", dur);
	return o;
}

/* rows[] from the API's list, each with its last execution (run, or false). */
static int list_rows(struct req *r, struct db *db, const cJSON *items, cJSON *rows)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, items)
	{
		struct pattern_run_row last;
		int n = 0, rc;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToArray(rows, o);
		cJSON_AddStringToObject(o, "id", pattern_page_str(it, "id"));
		cJSON_AddStringToObject(o, "name", pattern_page_str(it, "name"));
		cJSON_AddStringToObject(o, "description", pattern_page_str(it, "description"));
		cJSON_AddItemToObject(
		    o, "version",
		    cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(it, "latest_version"), 1));
		pattern_page_time(o, "updated", pattern_page_str(it, "updated_at"));
		if ((rc = store_pattern_runs(db, r->auth.tenant_id, r->auth.workspace_id,
					     pattern_page_str(it, "id"), &last, 1, &n, &r->err)))
			return rc;
		if (n)
			cJSON_AddItemToObject(o, "run", run_json(&last));
		else
			cJSON_AddFalseToObject(o, "run");
	}
	return 0;
}

int web_patterns_page(struct req *r)
{
	struct db *db;
	cJSON *ctx, *answer = NULL;
	int rc;
	if ((rc = web_app_begin(r, &db, "patterns", &ctx)) || !ctx)
		return rc;
	/* the page's own query (cursor, limit) is the list's */
	rc = pattern_page_get(r, "/api/v1/patterns", r->query, &answer);
	if (rc == ERR_INVALID && req_query(r, "cursor")) { /* a stale or forged cursor */
		cJSON_Delete(ctx);
		err_clear(&r->err);
		return req_redirect(r, 303, "/patterns");
	}
	if (rc == ERR_NOT_FOUND) { /* no workspace yet: the empty state says so */
		err_clear(&r->err);
		cJSON_AddTrueToObject(ctx, "no_workspace");
		rc = 0;
	}
	cJSON *rows = cJSON_AddArrayToObject(ctx, "rows");
	if (!rc && answer)
		rc = list_rows(r, db, cJSON_GetObjectItemCaseSensitive(answer, "items"), rows);
	const char *next =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(answer, "next_cursor"));
	if (next)
		cJSON_AddStringToObject(ctx, "next_cursor", next);
	if (req_query(r, "cursor"))
		cJSON_AddTrueToObject(ctx, "paged");
	cJSON_Delete(answer);
	if (!rc)
		rc = web_render(r, 200, "patterns", ctx);
	cJSON_Delete(ctx);
	return rc;
}

/* ---- GET /patterns/{id} ---- */

/* Text of v for a table cell: strings on one line, the rest as compact JSON, cut at
 * OPTION_TEXT_MAX characters (on a UTF-8 boundary) with an ellipsis. */
static char *short_text(const cJSON *v)
{
	char *s = cJSON_IsString(v) ? xstrdup(v->valuestring) : cJSON_PrintUnformatted(v);
	size_t n = 0, chars = 0;
	for (char *p = s; *p; p++)
		if (*p == '\n' || *p == '\t' || *p == '\r')
			*p = ' ';
	while (s[n] && chars < OPTION_TEXT_MAX) {
		n++;
		while (((unsigned char)s[n] & 0xC0) == 0x80)
			n++;
		chars++;
	}
	if (!s[n])
		return s;
	char *cut = xmalloc(n + 4);
	memcpy(cut, s, n);
	memcpy(cut + n, "…", 4); /* 3 bytes and the NUL */
	free(s);
	return cut;
}

/* Append "a, b" for a string or a list of strings (anything else adds nothing). */
static void join(struct buf *b, const cJSON *v)
{
	const cJSON *it;
	int first = 1;
	if (cJSON_IsString(v))
		buf_adds(b, v->valuestring);
	cJSON_ArrayForEach(it, (cJSON_IsArray(v) ? v : NULL))
	{
		if (!cJSON_IsString(it))
			continue;
		buf_addf(b, "%s%s", first ? "" : ", ", it->valuestring);
		first = 0;
	}
}

/* The agent selection of a node in words: "capabilities code-analysis · min 3". */
static void add_selection(cJSON *o, const cJSON *select)
{
	static const char *const keys[] = {"capabilities", "ids", "min", "max", "strategy"};
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(select, keys[i]);
		if (!v)
			continue;
		buf_addf(&b, "%s%s ", b.len ? " · " : "", keys[i]);
		if (cJSON_IsArray(v)) {
			join(&b, v);
		} else {
			char *t = short_text(v);
			buf_adds(&b, t);
			free(t);
		}
	}
	cJSON_AddStringToObject(o, "agents", b.p);
	buf_release(&b);
}

/* nodes[]: {id, type, from, agents, options: [{key, value}]} of a definition. */
static void add_nodes(cJSON *ctx, const cJSON *definition)
{
	static const char *const shown[] = {"id", "type", "from", "select", "ui"};
	cJSON *list = cJSON_AddArrayToObject(ctx, "nodes");
	const cJSON *n;
	cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(definition, "nodes"))
	{
		cJSON *o = cJSON_CreateObject(), *opts = cJSON_AddArrayToObject(o, "options");
		const cJSON *k;
		cJSON_AddItemToArray(list, o);
		cJSON_AddStringToObject(o, "id", pattern_page_str(n, "id"));
		cJSON_AddStringToObject(o, "type", pattern_page_str(n, "type"));
		struct buf from = BUF_INIT;
		join(&from, cJSON_GetObjectItemCaseSensitive(n, "from"));
		cJSON_AddStringToObject(o, "from", from.p);
		buf_release(&from);
		add_selection(o, cJSON_GetObjectItemCaseSensitive(n, "select"));
		cJSON_ArrayForEach(k, n)
		{
			size_t i = 0;
			while (i < ARRAY_SIZE(shown) && strcmp(k->string, shown[i]))
				i++;
			if (i < ARRAY_SIZE(shown))
				continue;
			cJSON *opt = cJSON_CreateObject();
			char *t = short_text(k);
			cJSON_AddStringToObject(opt, "key", k->string);
			cJSON_AddStringToObject(opt, "value", t);
			cJSON_AddItemToArray(opts, opt);
			free(t);
		}
	}
}

/* versions[] {version, message, author, when, previous} and the YAML of the latest. */
static int add_versions(struct req *r, cJSON *ctx, const cJSON *definition)
{
	cJSON *answer = NULL, *list = cJSON_AddArrayToObject(ctx, "versions");
	char *json = cJSON_PrintUnformatted(definition), *yaml = NULL;
	const cJSON *v;
	int rc = pattern_json_to_yaml(json, strlen(json), &yaml, &r->err);
	free(json);
	cJSON_AddStringToObject(ctx, "yaml", yaml ? yaml : "");
	free(yaml);
	if (rc ||
	    (rc = pattern_page_get(r, "/api/v1/patterns/{id}/versions", "limit=100", &answer)))
		return rc;
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(answer, "items"))
	{
		cJSON *o = cJSON_CreateObject();
		const cJSON *by = cJSON_GetObjectItemCaseSensitive(v, "created_by");
		double n = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(v, "version"));
		cJSON_AddNumberToObject(o, "version", n);
		cJSON_AddNumberToObject(o, "previous", n - 1); /* 0 (falsy) for version 1 */
		cJSON_AddStringToObject(o, "message", pattern_page_str(v, "message"));
		cJSON_AddStringToObject(o, "author", pattern_page_str(by, "name"));
		pattern_page_time(o, "when", pattern_page_str(v, "created_at"));
		cJSON_AddItemToArray(list, o);
	}
	if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(answer, "next_cursor")))
		cJSON_AddTrueToObject(ctx, "more_versions");
	cJSON_Delete(answer);
	return 0;
}

static int add_runs(struct req *r, cJSON *ctx, const char *pattern_id)
{
	struct pattern_run_row items[RUNS_SHOWN];
	struct db *db;
	int n = 0, rc;
	cJSON *list = cJSON_AddArrayToObject(ctx, "runs");
	if ((rc = req_db(r, &db)) ||
	    (rc = store_pattern_runs(db, r->auth.tenant_id, r->auth.workspace_id, pattern_id, items,
				     RUNS_SHOWN, &n, &r->err)))
		return rc;
	for (int i = 0; i < n; i++)
		cJSON_AddItemToArray(list, run_json(&items[i]));
	return 0;
}

int web_pattern_page(struct req *r)
{
	cJSON *ctx;
	int rc;
	if ((rc = pattern_page_begin(r, &ctx)) || !ctx)
		return rc;
	cJSON *p = cJSON_GetObjectItemCaseSensitive(ctx, "pattern");
	const cJSON *def = cJSON_GetObjectItemCaseSensitive(p, "definition");
	pattern_page_time(p, "updated", pattern_page_str(p, "updated_at"));
	pattern_page_time(p, "created", pattern_page_str(p, "created_at"));
	add_nodes(ctx, def);
	cJSON_AddNumberToObject(p, "node_count",
				cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ctx, "nodes")));
	if (!(rc = add_versions(r, ctx, def)) &&
	    !(rc = add_runs(r, ctx, pattern_page_str(p, "id")))) {
		pattern_run_form(r, ctx);
		rc = web_render(r, 200, "pattern", ctx);
	}
	cJSON_Delete(ctx);
	return rc;
}

/* POST /patterns/{id}/delete: the API's DELETE, then the list. */
int web_pattern_delete(struct req *r)
{
	cJSON *answer = NULL;
	const char *id = req_param(r, 0);
	char back[120];
	if (r->auth.kind != AUTH_COOKIE)
		return req_redirect(r, 303, "/login");
	snprintf(back, sizeof(back), "/patterns%s%.64s", pattern_page_safe_id(id) ? "/" : "",
		 pattern_page_safe_id(id) ? id : "");
	int rc = web_api_call(r, "DELETE", "/api/v1/patterns/{id}", NULL, &answer);
	cJSON_Delete(answer);
	return web_form_done(r, rc, "/patterns",
			     "Deleted the pattern, its versions and its executions.", back);
}
