/*
 * Shared by the members and settings pages: they read and change the tenant
 * only through its API routes (same permission check, validation and audit
 * as over HTTP), show a secret exactly once after the form that created it,
 * and render the API's times and roles for people.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <civetweb.h>

#include "web/web.h"
#include "web/team_internal.h"
#include "auth/auth.h"
#include "db/db.h"
#include "server/server.h"
#include "core/core.h"

#define REVEAL_COOKIE "parallax_reveal"
#define REVEAL_MAX 3000 /* encoded; what is shown (a link, a key, a name) fits well within */

int team_call(struct req *r, const char *method, const char *pattern, const char *p0,
	      const char *p1, const char *query, cJSON *body, cJSON **answer)
{
	const char *params[REQ_MAX_PARAMS], *page_query = r->query;
	int nparams = r->nparams;
	memcpy(params, r->params, sizeof(params));
	r->params[0] = p0 ? p0 : r->auth.tenant_id;
	r->params[1] = p1;
	r->nparams = p1 ? 2 : 1;
	r->query = query;
	int rc = web_api_call(r, method, pattern, body, answer);
	memcpy(r->params, params, sizeof(params));
	r->nparams = nparams;
	r->query = page_query;
	return rc;
}

int team_list(struct req *r, const char *pattern, const char *p0, const char *cursor,
	      cJSON **answer)
{
	char enc[256];
	const char *q = NULL;
	if (cursor && mg_url_encode(cursor, enc, sizeof(enc)) > 0)
		q = arena_printf(r->arena, "cursor=%s", enc);
	int rc = team_call(r, "GET", pattern, p0, NULL, q, NULL, answer);
	if (rc == ERR_INVALID && q) {
		err_clear(&r->err);
		rc = team_call(r, "GET", pattern, p0, NULL, NULL, NULL, answer);
	}
	return rc;
}

int team_form(struct req *r, const char *method, const char *pattern, const char *p0,
	      const char *p1, cJSON *body, const char *to, const char *ok)
{
	cJSON *answer = NULL;
	int rc = 0;
	if (r->auth.kind == AUTH_COOKIE)
		rc = team_call(r, method, pattern, p0, p1, NULL, body, &answer);
	cJSON_Delete(body);
	cJSON_Delete(answer);
	if (r->auth.kind != AUTH_COOKIE)
		return req_redirect(r, 303, "/login");
	return web_form_done(r, rc, to, ok, NULL);
}

static const char *cookie_attrs(struct req *r)
{
	return mg_get_request_info(r->conn)->is_ssl ? "; HttpOnly; SameSite=Strict; Secure" :
						      "; HttpOnly; SameSite=Strict";
}

/* Percent-encode all but unreserved characters: a cookie value may hold no comma, quote,
 * semicolon or space. 0, or -1 when it does not fit. */
static int cookie_encode(const char *s, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (o + 4 > size)
			return -1;
		int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || strchr("-._~", *p);
		if (plain) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
	return 0;
}

void team_reveal_put(struct req *r, const char *path, cJSON *what)
{
	char enc[REVEAL_MAX];
	cJSON_AddStringToObject(what, "for", r->auth.user_id);
	char *json = cJSON_PrintUnformatted(what), *sealed = NULL;
	struct err e;
	cJSON_Delete(what);
	/* sealed with the server's key (auth/secrets.c): the browser keeps only ciphertext, for
	 * two minutes; too long cannot happen with the API's bounds (the page then says it has
	 * nothing) */
	if (json && !secret_seal(json, &sealed, &e) && !cookie_encode(sealed, enc, sizeof(enc)))
		req_add_header(r, "Set-Cookie",
			       arena_printf(r->arena, REVEAL_COOKIE "=%s; Path=%s; Max-Age=120%s",
					    enc, path, cookie_attrs(r)));
	free(sealed);
	secret_free(json);
}

int team_create_shown_once(struct req *r, const char *pattern, cJSON *body,
			   const char *const *keep, size_t nkeep, const char *page,
			   const char *back)
{
	cJSON *answer = NULL;
	int rc = 0;
	if (r->auth.kind == AUTH_COOKIE)
		rc = team_call(r, "POST", pattern, NULL, NULL, NULL, body, &answer);
	cJSON_Delete(body);
	if (r->auth.kind != AUTH_COOKIE)
		return req_redirect(r, 303, "/login");
	if (rc)
		return web_form_done(r, rc, back, NULL, NULL);
	cJSON *shown = cJSON_CreateObject();
	for (size_t i = 0; i < nkeep; i++)
		cJSON_AddStringToObject(shown, keep[i], team_str(answer, keep[i]));
	cJSON_Delete(answer);
	team_reveal_put(r, page, shown);
	return req_redirect(r, 303, page);
}

cJSON *team_reveal_take(struct req *r, const char *path)
{
	const char *header = req_header(r, "Cookie");
	char enc[REVEAL_MAX], json[REVEAL_MAX];
	if (!header || mg_get_cookie(header, REVEAL_COOKIE, enc, sizeof(enc)) <= 0)
		return NULL;
	req_add_header(r, "Set-Cookie",
		       arena_printf(r->arena, REVEAL_COOKIE "=; Path=%s; Max-Age=0%s", path,
				    cookie_attrs(r)));
	int n = mg_url_decode(enc, (int)strlen(enc), json, (int)sizeof(json), 0);
	cJSON *what = NULL;
	char *plain = NULL;
	struct err e;
	if (n > 0 && !secret_open(json, &plain, &e))
		what = cJSON_Parse(plain);
	secret_free(plain);
	/* Someone else signed in on this browser since: not theirs to see. */
	if (!cJSON_IsObject(what) || strcmp(team_str(what, "for"), r->auth.user_id)) {
		cJSON_Delete(what);
		return NULL;
	}
	return what;
}

/* "2026-01-31T10:42:00.123Z" as epoch ms; 0 when it is not that shape. */
static int64_t iso_ms(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000;
}

/* "3 days ago", "in 6 days", "just now". */
static void relative(char *out, size_t size, int64_t ms, int64_t now)
{
	static const struct {
		int64_t s;
		const char *unit;
	} units[] = { { 365 * 86400LL, "year" }, { 30 * 86400LL, "month" }, { 86400, "day" },
		      { 3600, "hour" },		 { 60, "minute" } };
	int64_t d = (ms - now) / 1000, a = d < 0 ? -d : d;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		/* whole units, but days up to two months: "45 days" reads better than "1 month" */
		if (a < units[i].s || (i < 2 && a < 60 * 86400LL))
			continue;
		long long n = (long long)((a + units[i].s / 2) / units[i].s); /* 6.99 days: 7 */
		snprintf(out, size, "%s%lld %s%s%s", d > 0 ? "in " : "", n, units[i].unit,
			 n == 1 ? "" : "s", d > 0 ? "" : " ago");
		return;
	}
	str_copy(out, size, "just now");
}

void team_add_time(cJSON *o, const char *key, const char *from)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, from));
	int64_t ms = s ? iso_ms(s) : 0;
	char k[64], text[48];
	if (!ms)
		return;
	snprintf(text, sizeof(text), "%.10s %.5s UTC", s, s + 11);
	cJSON_AddStringToObject(o, key, text);
	snprintf(k, sizeof(k), "%s_iso", key);
	cJSON_AddStringToObject(o, k, s);
	relative(text, sizeof(text), ms, now_ms());
	snprintf(k, sizeof(k), "%s_rel", key);
	cJSON_AddStringToObject(o, k, text);
}

cJSON *team_role_options(int max_role, const char *selected)
{
	cJSON *a = cJSON_CreateArray();
	for (int role = ROLE_VIEWER; role <= max_role && role <= ROLE_OWNER; role++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "value", role_name(role));
		if (selected && !strcmp(selected, role_name(role)))
			cJSON_AddTrueToObject(o, "selected");
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

cJSON *team_override_options(int max_role, const char *selected)
{
	cJSON *a = team_role_options(max_role < ROLE_DEVELOPER ? max_role : ROLE_DEVELOPER,
				     selected);
	cJSON *none = cJSON_CreateObject();
	cJSON_AddStringToObject(none, "value", "");
	if (!selected || !*selected)
		cJSON_AddTrueToObject(none, "selected");
	cJSON_InsertItemInArray(a, 0, none);
	return a;
}

cJSON *team_override_body(const char *role)
{
	cJSON *body = cJSON_CreateObject();
	if (role && *role)
		cJSON_AddStringToObject(body, "role", role);
	else
		cJSON_AddNullToObject(body, "role");
	return body;
}

const char *team_str(const cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
	return s ? s : "";
}

int team_can(const cJSON *ctx, const char *res, const char *act)
{
	const cJSON *can = cJSON_GetObjectItemCaseSensitive(ctx, "can");
	return cJSON_IsTrue(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(can, res), act));
}

cJSON *team_items(cJSON *answer, cJSON *o, const char *name)
{
	cJSON *items = cJSON_DetachItemFromObjectCaseSensitive(answer, "items");
	const char *next = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(answer,
										  "next_cursor"));
	char key[64];
	if (!cJSON_IsArray(items)) {
		cJSON_Delete(items);
		items = cJSON_CreateArray();
	}
	if (next) {
		snprintf(key, sizeof(key), "%s_next", name);
		cJSON_AddStringToObject(o, key, next);
	}
	cJSON_Delete(answer);
	snprintf(key, sizeof(key), "has_%s", name);
	cJSON_AddBoolToObject(o, key, cJSON_GetArraySize(items) > 0);
	cJSON_AddItemToObject(o, name, items);
	return items;
}
