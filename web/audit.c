/*
 * GET /audit: the tenant's audit log, newest first, filtered by action
 * (exact or "auth.*"), outcome, resource type and a time range, with cursor
 * pagination; the same filters export the whole selection as CSV or JSON
 * through the API's export route (a plain GET link: the session cookie
 * authenticates it). The list itself is the API's answer to the same query,
 * so the page shows exactly what the API would, under the same permission.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>

#include "web/web.h"
#include "auth/auth.h"
#include "server/server.h"
#include "core/core.h"

static const char *const outcomes[] = { "success", "failure", "denied" };
static const char *const action_groups[] = { "auth.*",	 "member.*",  "invitation.*", "api_key.*",
					     "pattern.*", "agent.*",   "execution.*",  "quota.*",
					     "tenant.*",  "workspace.*" };

/* Append "&name=<value, percent-encoded>" when value is set. */
static void query_add(struct buf *q, const char *name, const char *value)
{
	char enc[700];
	if (!value || !*value || mg_url_encode(value, enc, sizeof(enc)) < 0)
		return;
	buf_addf(q, "%s%s=%s", q->len ? "&" : "", name, enc);
}

/* "2026-11-22" (a date input) -> "2026-11-22T00:00:00Z", or the end of that day. */
static const char *day_bound(struct req *r, const char *name, int end)
{
	const char *d = req_query(r, name);
	int y, m, day;
	char tail;
	if (!d || !*d)
		return NULL;
	if (strlen(d) != 10 || sscanf(d, "%4d-%2d-%2d%c", &y, &m, &day, &tail) != 3)
		return d; /* not a date: the API names the field */
	return arena_printf(r->arena, "%04d-%02d-%02dT%s", y, m, day,
			    end ? "23:59:59.999Z" : "00:00:00Z");
}

static void add_options(cJSON *ctx, const char *key, const char *const *v, size_t n,
			const char *chosen)
{
	cJSON *a = cJSON_AddArrayToObject(ctx, key);
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "value", v[i]);
		if (chosen && !strcmp(chosen, v[i]))
			cJSON_AddTrueToObject(o, "selected");
		cJSON_AddItemToArray(a, o);
	}
}

/* One API item as a row: time, actor, action, resource, outcome, ip, details text. */
static cJSON *row(const cJSON *it)
{
	cJSON *o = cJSON_CreateObject();
	const cJSON *actor = cJSON_GetObjectItemCaseSensitive(it, "actor"),
		    *res = cJSON_GetObjectItemCaseSensitive(it, "resource"),
		    *details = cJSON_GetObjectItemCaseSensitive(it, "details");
	const char *label = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(actor, "label")),
		   *atype = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(actor, "type")),
		   *rtype = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "type")),
		   *rid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "id"));
#define S(k) cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, k))
	const char *when = S("created_at"), *action = S("action"), *outcome = S("outcome"),
		   *ip = S("ip"), *rqid = S("request_id");
#undef S
	char w[32] = "";
	if (when) { /* "2026-11-22T10:41:07.123Z" -> "2026-11-22 10:41:07" */
		str_copy(w, sizeof(w), when);
		if (strlen(w) >= 19) {
			w[10] = ' ';
			w[19] = '\0';
		}
	}
	cJSON_AddStringToObject(o, "when", w);
	cJSON_AddStringToObject(o, "actor", label ? label : atype ? atype : "");
	cJSON_AddStringToObject(o, "action", action ? action : "");
	cJSON_AddStringToObject(o, "resource_type", rtype ? rtype : "");
	cJSON_AddStringToObject(o, "resource_id", rid ? rid : "");
	cJSON_AddStringToObject(o, "outcome", outcome ? outcome : "");
	cJSON_AddStringToObject(o, "ip", ip ? ip : "");
	cJSON_AddStringToObject(o, "request_id", rqid ? rqid : "");
	if (cJSON_IsObject(details) && details->child) {
		char *s = cJSON_PrintUnformatted(details);
		cJSON_AddStringToObject(o, "details", s ? s : "");
		free(s);
	}
	return o;
}

int web_audit_page(struct req *r)
{
	struct db *db;
	cJSON *ctx, *answer = NULL;
	struct buf q = BUF_INIT;
	const char *action = req_query(r, "action"), *outcome = req_query(r, "outcome"),
		   *rtype = req_query(r, "resource_type"), *since = req_query(r, "since"),
		   *until = req_query(r, "until"), *cursor = req_query(r, "cursor");
	int rc;
	if ((rc = web_app_begin(r, &db, "audit", &ctx)) || !ctx)
		return rc;
	/* the API's query: the page's filters, dates widened to whole days */
	query_add(&q, "action", action);
	query_add(&q, "outcome", outcome);
	query_add(&q, "resource_type", rtype);
	query_add(&q, "since", day_bound(r, "since", 0));
	query_add(&q, "until", day_bound(r, "until", 1));
	int filtered = q.len > 0;
	query_add(&q, "cursor", cursor);
	query_add(&q, "limit", "50");
	const char *page_query = r->query;
	r->query = arena_strdup(r->arena, q.p);
	r->params[0] = r->auth.tenant_id;
	r->nparams = 1;
	rc = web_api_call(r, "GET", "/api/v1/tenants/{t}/audit", NULL, &answer);
	r->query = page_query;
	r->nparams = 0;
	buf_release(&q);
	if (rc == ERR_INVALID) { /* a bad filter: say which, show the form */
		cJSON *f = cJSON_AddObjectToObject(ctx, "filter_error");
		cJSON_AddStringToObject(f, "text", r->err.msg);
		err_clear(&r->err);
		rc = 0;
	}
	if (rc) {
		cJSON_Delete(ctx);
		return rc;
	}
	cJSON *rows = cJSON_AddArrayToObject(ctx, "rows");
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(answer, "items"))
		cJSON_AddItemToArray(rows, row(it));
	const char *next = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(answer, "next_cursor"));
	if (next)
		cJSON_AddStringToObject(ctx, "next_cursor", next);
	cJSON_Delete(answer);
	add_options(ctx, "outcomes", outcomes, ARRAY_SIZE(outcomes), outcome);
	add_options(ctx, "actions", action_groups, ARRAY_SIZE(action_groups), action);
	cJSON_AddStringToObject(ctx, "action", action ? action : "");
	cJSON_AddStringToObject(ctx, "resource_type", rtype ? rtype : "");
	cJSON_AddStringToObject(ctx, "since", since ? since : "");
	cJSON_AddStringToObject(ctx, "until", until ? until : "");
	cJSON_AddStringToObject(ctx, "since_api", day_bound(r, "since", 0) ? day_bound(r, "since", 0) : "");
	cJSON_AddStringToObject(ctx, "until_api", day_bound(r, "until", 1) ? day_bound(r, "until", 1) : "");
	cJSON_AddStringToObject(ctx, "outcome", outcome ? outcome : "");
	cJSON_AddStringToObject(ctx, "tenant_id", r->auth.tenant_id);
	if (cursor)
		cJSON_AddTrueToObject(ctx, "paged");
	if (filtered)
		cJSON_AddTrueToObject(ctx, "filtered");
	rc = web_render(r, 200, "audit", ctx);
	cJSON_Delete(ctx);
	return rc;
}
