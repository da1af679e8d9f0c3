/*
 * GET /executions: the workspace's executions, newest first, filtered by
 * status and pattern, with cursor pagination ("older" follows the last row);
 * GET /executions/{id}: one execution with its node timeline, result or
 * error. Plain GET forms and links: everything works without JavaScript.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "web/web.h"
#include "auth/auth.h"
#include "db/db.h"
#include "server/server.h"
#include "core/core.h"

#define PAGE_SIZE 50

static const char *const statuses[] = { "queued", "running", "waiting_approval", "succeeded",
					"failed", "cancelled", "timed_out" };

/* "2026-11-22 10:41:07 UTC", or "" for 0. */
static void add_when(cJSON *o, const char *key, int64_t ms)
{
	char s[40] = "";
	if (ms) {
		time_t t = (time_t)(ms / 1000);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S UTC", &tm);
	}
	cJSON_AddStringToObject(o, key, s);
}

static void add_duration(cJSON *o, const char *key, int64_t from, int64_t to)
{
	char s[32] = "";
	if (from && to >= from) {
		int64_t ms = to - from;
		if (ms < 1000)
			snprintf(s, sizeof(s), "%lld ms", (long long)ms);
		else if (ms < 120000)
			snprintf(s, sizeof(s), "%.1f s", (double)ms / 1000);
		else
			snprintf(s, sizeof(s), "%.1f min", (double)ms / 60000);
	}
	cJSON_AddStringToObject(o, key, s);
}

static cJSON *row_json(const struct execution_full *x)
{
	cJSON *o = cJSON_CreateObject();
	char conf[16] = "";
	cJSON_AddStringToObject(o, "id", x->id);
	cJSON_AddStringToObject(o, "short_id", x->id + 24); /* the random tail */
	cJSON_AddStringToObject(o, "status", x->status);
	cJSON_AddStringToObject(o, "pattern", x->pattern_name);
	cJSON_AddNumberToObject(o, "version", (double)x->version);
	if (x->has_confidence)
		snprintf(conf, sizeof(conf), "%.2f", x->confidence);
	cJSON_AddStringToObject(o, "confidence", conf);
	add_when(o, "created", x->created_at);
	add_duration(o, "duration", x->started_at, x->finished_at);
	return o;
}

/* A known status, or NULL. */
static const char *status_param(struct req *r)
{
	const char *q = req_query(r, "status");
	for (size_t i = 0; q && i < ARRAY_SIZE(statuses); i++)
		if (!strcmp(q, statuses[i]))
			return statuses[i];
	return NULL;
}

int web_executions_page(struct req *r)
{
	struct execution_filter f = { NULL, NULL, 0, 0 };
	struct pattern_row p;
	struct db *db;
	cJSON *ctx;
	const char *cursor = req_query(r, "cursor"), *pattern = req_query(r, "pattern");
	char before_id[UUID_STR_LEN] = "";
	int64_t before_ms = 0;
	int n = 0, none = 0, rc;
	if ((rc = web_app_begin(r, &db, "executions", &ctx)) || !ctx)
		return rc;
	f.status = status_param(r);
	if (cursor) { /* "<created_at ms>.<id>"; a bad one starts from the newest */
		const char *dot = strchr(cursor, '.');
		char ms[24];
		if (dot && (size_t)(dot - cursor) < sizeof(ms) && strlen(dot + 1) < UUID_STR_LEN) {
			memcpy(ms, cursor, (size_t)(dot - cursor));
			ms[dot - cursor] = '\0';
			if (!str_to_i64(ms, &before_ms))
				str_copy(before_id, sizeof(before_id), dot + 1);
		}
	}
	if (pattern && *pattern && r->auth.workspace_id[0]) {
		rc = store_pattern_get(db, r->auth.tenant_id, r->auth.workspace_id, pattern, &p,
				       &r->err);
		none = rc == ERR_NOT_FOUND;
		if (rc && !none) {
			cJSON_Delete(ctx);
			return rc;
		}
		f.pattern_id = none ? NULL : p.id;
	}
	struct execution_full *items = xcalloc(PAGE_SIZE, sizeof(*items));
	if (!none && r->auth.workspace_id[0])
		rc = store_executions_list(db, r->auth.tenant_id, r->auth.workspace_id, &f,
					   before_ms, before_id[0] ? before_id : NULL, items,
					   PAGE_SIZE, &n, &r->err);
	cJSON *rows = cJSON_AddArrayToObject(ctx, "rows");
	for (int i = 0; !rc && i < n; i++)
		cJSON_AddItemToArray(rows, row_json(&items[i]));
	if (!rc && n == PAGE_SIZE) {
		char c[64];
		snprintf(c, sizeof(c), "%lld.%s", (long long)items[n - 1].created_at,
			 items[n - 1].id);
		cJSON_AddStringToObject(ctx, "next_cursor", c);
	}
	for (int i = 0; i < n; i++)
		execution_full_release(&items[i]);
	free(items);
	if (rc) {
		cJSON_Delete(ctx);
		return rc;
	}
	cJSON *opts = cJSON_AddArrayToObject(ctx, "statuses");
	for (size_t i = 0; i < ARRAY_SIZE(statuses); i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "value", statuses[i]);
		if (f.status == statuses[i])
			cJSON_AddTrueToObject(o, "selected");
		cJSON_AddItemToArray(opts, o);
	}
	cJSON_AddStringToObject(ctx, "pattern", pattern ? pattern : "");
	cJSON_AddStringToObject(ctx, "status", f.status ? f.status : "");
	if (cursor)
		cJSON_AddTrueToObject(ctx, "paged");
	if (f.status || (pattern && *pattern))
		cJSON_AddTrueToObject(ctx, "filtered");
	rc = web_render(r, 200, "executions", ctx);
	cJSON_Delete(ctx);
	return rc;
}

/* JSON text pretty-printed for a <pre>, or "" */
static void add_pretty(cJSON *o, const char *key, const char *json)
{
	cJSON *v = json ? cJSON_Parse(json) : NULL;
	char *s = v ? cJSON_Print(v) : NULL;
	cJSON_AddStringToObject(o, key, s ? s : "");
	free(s);
	cJSON_Delete(v);
}

/* While it runs: "3 of 5 nodes finished", from the version's node count (best effort: a
 * pattern deleted meanwhile shows no bar). */
static void add_progress(struct req *r, struct db *db, const struct execution_full *x, cJSON *e,
			 int done)
{
	struct pattern_row p;
	struct pattern_version_row v;
	memset(&v, 0, sizeof(v));
	if (store_pattern_get(db, r->auth.tenant_id, r->auth.workspace_id, x->pattern_id, &p,
			      &r->err) ||
	    store_pattern_version_get(db, r->auth.tenant_id, &p, x->version, &v, &r->err)) {
		err_clear(&r->err);
		return;
	}
	cJSON *def = v.definition ? cJSON_Parse(v.definition) : NULL;
	int total = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(def, "nodes"));
	if (total > 0) {
		cJSON *pr = cJSON_AddObjectToObject(e, "progress");
		cJSON_AddNumberToObject(pr, "done", done < total ? done : total);
		cJSON_AddNumberToObject(pr, "total", total);
	}
	cJSON_Delete(def);
	store_pattern_version_release(&v);
}

/* An agent node's output is its answers, [{output, confidence, ...}]: "0.65", or
 * "0.60 – 0.90" for several. */
static void answers_confidence(const cJSON *answers, char *out, size_t size)
{
	double lo = 2, hi = -1;
	const cJSON *a, *list = cJSON_IsArray(answers) ? answers : NULL;
	cJSON_ArrayForEach(a, list) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(a, "confidence");
		if (!cJSON_IsNumber(c))
			continue;
		lo = c->valuedouble < lo ? c->valuedouble : lo;
		hi = c->valuedouble > hi ? c->valuedouble : hi;
	}
	if (hi < 0)
		out[0] = '\0';
	else if (hi - lo < 0.005)
		snprintf(out, size, "%.2f", hi);
	else
		snprintf(out, size, "%.2f – %.2f", lo, hi);
}

/* A millisecond figure as "840 ms" / "2.4 s". */
static void add_ms(cJSON *o, const char *key, double ms)
{
	char t[32];
	if (ms < 1000)
		snprintf(t, sizeof(t), "%.0f ms", ms);
	else
		snprintf(t, sizeof(t), "%.1f s", ms / 1000);
	cJSON_AddStringToObject(o, key, t);
}

/* The node's type, its duration and its agent calls (agent, attempt, status, latency). */
static void step_details(cJSON *o, const cJSON *s)
{
	const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "type"));
	const cJSON *dur = cJSON_GetObjectItemCaseSensitive(s, "duration_ms"), *c;
	cJSON_AddStringToObject(o, "type", type ? type : "");
	if (cJSON_IsNumber(dur))
		add_ms(o, "duration", dur->valuedouble);
	cJSON *calls = cJSON_AddArrayToObject(o, "calls");
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(s, "calls")) {
		const char *agent = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "agent")),
			   *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "status")),
			   *err = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "error"));
		const cJSON *lat = cJSON_GetObjectItemCaseSensitive(c, "latency_ms"),
			    *att = cJSON_GetObjectItemCaseSensitive(c, "attempt");
		cJSON *k = cJSON_CreateObject();
		cJSON_AddStringToObject(k, "agent", agent ? agent : "");
		cJSON_AddStringToObject(k, "status", st ? st : "");
		cJSON_AddNumberToObject(k, "attempt", cJSON_IsNumber(att) ? att->valuedouble : 1);
		add_ms(k, "latency", cJSON_IsNumber(lat) ? lat->valuedouble : 0);
		if (err)
			cJSON_AddStringToObject(k, "error", err);
		cJSON_AddItemToArray(calls, k);
	}
}

int web_execution_page(struct req *r)
{
	struct execution_full x;
	struct db *db;
	cJSON *ctx, *steps = NULL;
	const char *id = req_param(r, 0);
	int rc;
	if ((rc = web_app_begin(r, &db, "executions", &ctx)) || !ctx)
		return rc;
	memset(&x, 0, sizeof(x));
	rc = !r->auth.workspace_id[0] || !id || strlen(id) >= UUID_STR_LEN
		     ? ERR_NOT_FOUND
		     : store_execution_get_full(db, r->auth.tenant_id, r->auth.workspace_id, id, &x,
						&r->err);
	if (rc == ERR_NOT_FOUND) {
		cJSON_Delete(ctx);
		return req_fail(r, ERR_NOT_FOUND, "not_found", NULL, "no such execution");
	}
	if (!rc)
		rc = store_steps_json(db, r->auth.tenant_id, x.id, &steps, &r->err);
	if (rc) {
		execution_full_release(&x);
		cJSON_Delete(ctx);
		return rc;
	}
	cJSON *e = row_json(&x);
	add_when(e, "started", x.started_at);
	add_when(e, "finished", x.finished_at);
	cJSON_AddNumberToObject(e, "attempts", (double)x.attempts);
	int terminal = !strcmp(x.status, "succeeded") || !strcmp(x.status, "failed") ||
		       !strcmp(x.status, "cancelled") || !strcmp(x.status, "timed_out");
	cJSON_AddStringToObject(e, "terminal", terminal ? "true" : "false");
	if (!terminal)
		cJSON_AddTrueToObject(e, "cancellable");
	if (terminal && strcmp(x.status, "succeeded"))
		cJSON_AddTrueToObject(e, "retryable");
	if (!strcmp(x.status, "waiting_approval"))
		cJSON_AddTrueToObject(e, "waiting");
	add_pretty(e, "input", x.input);
	add_pretty(e, "result", x.result);
	add_pretty(e, "error", x.error);
	cJSON_AddItemToObject(ctx, "execution", e);
	cJSON *list = cJSON_AddArrayToObject(ctx, "steps");
	const cJSON *s;
	cJSON_ArrayForEach(s, steps) {
		cJSON *o = cJSON_CreateObject();
		const cJSON *conf = cJSON_GetObjectItemCaseSensitive(s, "confidence");
		char c[32] = "";
		char *out = cJSON_Print(cJSON_GetObjectItemCaseSensitive(s, "output"));
		const char *node = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "node_id"));
		const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "status"));
		const char *err = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "error"));
		cJSON_AddStringToObject(o, "node", node ? node : "");
		cJSON_AddStringToObject(o, "status", st ? st : "");
		if (cJSON_IsNumber(conf))
			snprintf(c, sizeof(c), "%.2f", conf->valuedouble);
		else /* an agent node: its answers' own confidences */
			answers_confidence(cJSON_GetObjectItemCaseSensitive(s, "output"), c, sizeof(c));
		cJSON_AddStringToObject(o, "confidence", c);
		cJSON_AddStringToObject(o, "output", out && strcmp(out, "null") ? out : "");
		cJSON_AddStringToObject(o, "error", err ? err : "");
		step_details(o, s);
		cJSON_AddItemToArray(list, o);
		free(out);
	}
	if (!terminal)
		add_progress(r, db, &x, e, cJSON_GetArraySize(steps));
	cJSON_Delete(steps);
	execution_full_release(&x);
	rc = web_render(r, 200, "execution", ctx);
	cJSON_Delete(ctx);
	return rc;
}

/* POST /executions/{id}/cancel | retry | approve (decision=approve|reject, comment):
 * the API's own handlers, then back to the execution's page. */
static int execution_action(struct req *r, const char *api, cJSON *body, const char *ok)
{
	cJSON *answer = NULL;
	const char *id = req_param(r, 0);
	char to[96];
	if (r->auth.kind != AUTH_COOKIE)
		return req_redirect(r, 303, "/login");
	snprintf(to, sizeof(to), "/executions/%.40s", id && strlen(id) < UUID_STR_LEN ? id : "");
	int rc = web_api_call(r, "POST", api, body, &answer);
	cJSON_Delete(answer);
	return web_form_done(r, rc, to, ok, NULL);
}

int web_execution_cancel(struct req *r)
{
	return execution_action(r, "/api/v1/executions/{id}/cancel", NULL,
				"Cancelled: in-flight agent calls were stopped.");
}

int web_execution_retry(struct req *r)
{
	return execution_action(r, "/api/v1/executions/{id}/retry", NULL,
				"Queued again: the execution runs from its last checkpoint.");
}

int web_execution_approve(struct req *r)
{
	const char *d = req_form(r, "decision"), *comment = req_form(r, "comment");
	cJSON *body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "decision", d ? d : "");
	if (comment && *comment)
		cJSON_AddStringToObject(body, "comment", comment);
	int rc = execution_action(r, "/api/v1/executions/{id}/approve", body,
				  d && !strcmp(d, "reject") ? "Rejected." : "Approved.");
	cJSON_Delete(body);
	return rc;
}
