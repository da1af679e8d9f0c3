/*
 * GET /settings: the organization's settings in sections: its name, quotas
 * with usage bars (editable by admins up to the plan's ceilings), API keys
 * (list, create, revoke) and single sign-on. Each section is rendered only
 * for a role that may read it, and each form only for one that may change
 * it; reads and changes go through the API routes (web/team.c). A new key is
 * shown once, on GET /settings/api-keys/created, and never again.
 */
#include <stdio.h>
#include <string.h>

#include "web/web.h"
#include "web/team_internal.h"
#include "auth/auth.h"
#include "db/db.h"
#include "server/server.h"
#include "core/core.h"

#define CREATED_PAGE "/settings/api-keys/created"

static const struct quota_label {
	const char *key, *label, *period;
} quota_labels[] = {
	{ "members", "Members", "in the organization" },
	{ "workspaces", "Workspaces", "in the organization" },
	{ "agents", "Agents", "registered" },
	{ "patterns", "Patterns", "saved" },
	{ "executions_per_day", "Executions per day", "today (UTC)" },
	{ "concurrent_executions", "Concurrent executions", "queued or running now" },
	{ "tokens_per_month", "Model tokens per month", "this month (UTC)" },
	{ "requests_per_minute", "API requests per minute", "this minute" },
};

/* o[key] = v with thousands separators: "1,000,000". */
static void add_count(cJSON *o, const char *key, double v)
{
	char digits[32], out[48];
	int n = snprintf(digits, sizeof(digits), "%lld", (long long)v), o_len = 0;
	for (int i = 0; i < n; i++) {
		if (i && digits[i - 1] != '-' && (n - i) % 3 == 0)
			out[o_len++] = ',';
		out[o_len++] = digits[i];
	}
	out[o_len] = '\0';
	cJSON_AddStringToObject(o, key, out);
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* One quota: its usage against the limit as a meter (amber from 70 %, red from 90 %). */
static cJSON *quota_row(const struct quota_label *q, const cJSON *answer)
{
	double limit = num(cJSON_GetObjectItemCaseSensitive(answer, "quotas"), q->key);
	double usage = num(cJSON_GetObjectItemCaseSensitive(answer, "usage"), q->key);
	double plan = num(cJSON_GetObjectItemCaseSensitive(answer, "plan"), q->key);
	double max = limit > 0 ? limit : 1;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "key", q->key);
	cJSON_AddStringToObject(o, "label", q->label);
	cJSON_AddStringToObject(o, "period", q->period);
	cJSON_AddNumberToObject(o, "limit", limit);
	cJSON_AddNumberToObject(o, "plan", plan);
	cJSON_AddNumberToObject(o, "max", max);
	cJSON_AddNumberToObject(o, "value", usage < max ? usage : max);
	cJSON_AddNumberToObject(o, "low", max * 0.7);
	cJSON_AddNumberToObject(o, "high", max * 0.9);
	add_count(o, "usage_text", usage);
	add_count(o, "limit_text", limit);
	add_count(o, "plan_text", plan);
	if (usage >= limit)
		cJSON_AddTrueToObject(o, usage > limit ? "over" : "full");
	return o;
}

static int quotas_fill(struct req *r, cJSON *ctx)
{
	cJSON *answer;
	int rc = team_call(r, "GET", "/api/v1/tenants/{t}/quotas", NULL, NULL, NULL, NULL, &answer);
	if (rc)
		return rc;
	cJSON *rows = cJSON_AddArrayToObject(ctx, "quotas");
	cJSON_AddTrueToObject(ctx, "has_quotas");
	for (size_t i = 0; i < ARRAY_SIZE(quota_labels); i++)
		cJSON_AddItemToArray(rows, quota_row(&quota_labels[i], answer));
	cJSON_AddStringToObject(ctx, "plan_name", team_str(answer, "plan_name"));
	cJSON_Delete(answer);
	return 0;
}

/* The workspaces, for the key list's names and the create form's choice. */
static int workspaces_fill(struct req *r, cJSON *ctx)
{
	cJSON *answer, *w;
	int rc = team_call(r, "GET", "/api/v1/workspaces", NULL, NULL, NULL, NULL, &answer);
	if (rc)
		return rc;
	cJSON *list = team_items(answer, ctx, "workspaces");
	cJSON_ArrayForEach(w, list)
		if (!strcmp(team_str(w, "id"), r->auth.workspace_id))
			cJSON_AddTrueToObject(w, "selected");
	return 0;
}

static const char *workspace_name(const cJSON *ctx, const char *id)
{
	const cJSON *w;
	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(ctx, "workspaces"))
		if (!strcmp(team_str(w, "id"), id))
			return team_str(w, "name");
	return id;
}

static int keys_fill(struct req *r, cJSON *ctx)
{
	cJSON *answer, *k;
	int rc = workspaces_fill(r, ctx);
	if (!rc)
		rc = team_list(r, "/api/v1/tenants/{t}/api-keys", NULL, req_query(r, "cursor"),
			       &answer);
	if (rc)
		return rc;
	cJSON *rows = team_items(answer, ctx, "keys");
	cJSON_ArrayForEach(k, rows) {
		int revoked = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(k, "revoked_at"));
		int expired = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(k, "expired"));
		team_add_time(k, "created", "created_at");
		team_add_time(k, "last_used", "last_used_at");
		team_add_time(k, "expires", "expires_at");
		cJSON_AddStringToObject(k, "workspace",
					workspace_name(ctx, team_str(k, "workspace_id")));
		cJSON_AddStringToObject(k, "status", revoked ? "revoked" :
						     expired ? "expired" : "active");
		if (!revoked && !expired)
			cJSON_AddTrueToObject(k, "active");
	}
	cJSON_AddItemToObject(ctx, "key_roles", team_role_options(r->auth.tenant_role, "viewer"));
	return 0;
}

int web_settings_page(struct req *r)
{
	struct db *db;
	cJSON *ctx, *org = NULL;
	int rc;
	if ((rc = web_app_begin(r, &db, "settings", &ctx)) || !ctx)
		return rc;
	rc = team_call(r, "GET", "/api/v1/tenants/{t}", NULL, NULL, NULL, NULL, &org);
	if (!rc) {
		team_add_time(org, "created", "created_at");
		cJSON_AddItemToObject(ctx, "org", org);
	}
	if (!rc && team_can(ctx, "quota", "read"))
		rc = quotas_fill(r, ctx);
	if (!rc && team_can(ctx, "api_key", "read"))
		rc = keys_fill(r, ctx);
	if (!rc && team_can(ctx, "sso", "read"))
		rc = team_sso_fill(r, ctx);
	if (!rc)
		rc = web_render(r, 200, "settings", ctx);
	cJSON_Delete(ctx);
	return rc;
}

/* ---- forms ---- */

int web_settings_tenant(struct req *r)
{
	const char *name = req_form(r, "name");
	cJSON *body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "name", name ? name : "");
	return team_form(r, "PATCH", "/api/v1/tenants/{t}", NULL, NULL, body, "/settings#org",
			 "Organization renamed.");
}

/* The quotas the form changes from now's, as the API's body: the audit entry then says
 * what changed. A value that is no integer goes as it is: the API names it. */
static cJSON *quotas_changed(struct req *r, const cJSON *now)
{
	const cJSON *limits = cJSON_GetObjectItemCaseSensitive(now, "quotas");
	cJSON *body = cJSON_CreateObject();
	for (size_t i = 0; i < ARRAY_SIZE(quota_labels); i++) {
		const char *k = quota_labels[i].key, *v = req_form(r, k);
		int64_t n;
		if (!v || !*v)
			continue;
		if (str_to_i64(v, &n))
			cJSON_AddStringToObject(body, k, v);
		else if ((double)n != num(limits, k))
			cJSON_AddNumberToObject(body, k, (double)n);
	}
	return body;
}

int web_settings_quotas(struct req *r)
{
	cJSON *now = NULL;
	int rc;
	if (r->auth.kind != AUTH_COOKIE)
		return req_redirect(r, 303, "/login");
	if ((rc = team_call(r, "GET", "/api/v1/tenants/{t}/quotas", NULL, NULL, NULL, NULL, &now)))
		return web_form_done(r, rc, "/settings#quotas", NULL, NULL);
	cJSON *body = quotas_changed(r, now);
	cJSON_Delete(now);
	if (!cJSON_GetArraySize(body)) {
		cJSON_Delete(body);
		return web_form_done(r, 0, "/settings#quotas", "Nothing changed.", NULL);
	}
	return team_form(r, "PATCH", "/api/v1/tenants/{t}/quotas", NULL, NULL, body,
			 "/settings#quotas", "Quotas saved.");
}

int web_api_key_create(struct req *r)
{
	static const char *const keep[] = { "key", "name", "prefix", "role", "workspace_id",
					    "expires_at" };
	const char *name = req_form(r, "name"), *role = req_form(r, "role");
	const char *ws = req_form(r, "workspace_id"), *days = req_form(r, "expires_days");
	cJSON *body = cJSON_CreateObject();
	int64_t n;
	cJSON_AddStringToObject(body, "name", name ? name : "");
	cJSON_AddStringToObject(body, "role", role ? role : "");
	if (ws && *ws)
		cJSON_AddStringToObject(body, "workspace_id", ws);
	if (days && !str_to_i64(days, &n))
		cJSON_AddNumberToObject(body, "expires_in_days", (double)n);
	return team_create_shown_once(r, "/api/v1/tenants/{t}/api-keys", body, keep,
				      ARRAY_SIZE(keep), CREATED_PAGE, "/settings#api-keys");
}

/* GET /settings/api-keys/created: the new key, once (see team_reveal_put). */
int web_api_key_created_page(struct req *r)
{
	struct db *db;
	cJSON *ctx, *w = NULL;
	int rc;
	if ((rc = web_app_begin(r, &db, "settings", &ctx)) || !ctx)
		return rc;
	cJSON *key = team_reveal_take(r, CREATED_PAGE);
	if (key) {
		team_add_time(key, "expires", "expires_at");
		/* its workspace by name; gone since (deleted): the id says enough */
		if (!team_call(r, "GET", "/api/v1/workspaces/{id}", team_str(key, "workspace_id"),
			       NULL, NULL, NULL, &w))
			cJSON_AddStringToObject(key, "workspace", team_str(w, "name"));
		err_clear(&r->err);
		cJSON_Delete(w);
		cJSON_AddItemToObject(ctx, "key", key);
	}
	cJSON_AddStringToObject(ctx, "base_url", r->app->base_url);
	rc = web_render(r, 200, "settings_reveal", ctx);
	cJSON_Delete(ctx);
	return rc;
}

int web_api_key_revoke(struct req *r)
{
	return team_form(r, "DELETE", "/api/v1/tenants/{t}/api-keys/{id}", NULL, req_param(r, 0),
			 NULL, "/settings#api-keys",
			 "API key revoked: requests that use it are refused from now on.");
}
