/*
 * What the dashboard's forms do: each one is answered by the API route that
 * does the same thing, called in-process (web_api_call) with the same
 * permission check, validation, audit entry and error as over HTTP, so a
 * page can never allow what the API refuses. A form post without
 * JavaScript gets a 303 back to a page, with a one-shot notice (the flash
 * cookie) saying what happened or what was refused.
 */
#include <stdio.h>
#include <string.h>

#include <civetweb.h>

#include "web/web.h"
#include "auth/auth.h"
#include "server/server.h"
#include "core/core.h"

#define FLASH_COOKIE "parallax_flash"
#define FLASH_MAX 400

static const struct route *route_find(const char *method, const char *pattern)
{
	for (size_t i = 0; i < routes_count; i++)
		if (!strcmp(routes[i].method, method) && !strcmp(routes[i].pattern, pattern))
			return &routes[i];
	return NULL;
}

int web_api_call(struct req *r, const char *method, const char *pattern, cJSON *body,
		 cJSON **answer)
{
	const struct route *rt = route_find(method, pattern), *page = r->route;
	cJSON *saved = r->json, *empty = NULL;
	size_t headers = r->headers.len;
	int rc;
	*answer = NULL;
	if (!rt)
		return req_fail(r, ERR_INTERNAL, NULL, NULL, "no API route %s %s", method, pattern);
	if (rt->body == BODY_JSON && !body)
		body = empty = cJSON_CreateObject();
	r->route = rt;
	r->json = body;
	rc = authorize_route(r, rt);
	if (!rc)
		rc = rt->fn(r);
	r->route = page;
	r->json = saved;
	cJSON_Delete(empty);
	if (!rc && r->out.len)
		*answer = cJSON_ParseWithLength(r->out.p, r->out.len);
	/* the page makes its own response */
	buf_reset(&r->out);
	buf_truncate(&r->headers, headers);
	r->status = 0;
	r->content_type = NULL;
	r->out_ref = NULL;
	r->out_ref_len = 0;
	return rc;
}

int web_api_call_raw(struct req *r, const char *method, const char *pattern, const char *text,
		     const char *media_type, cJSON **answer)
{
	const char *body = r->body, *type = r->body_type;
	size_t len = r->body_len;
	r->body = text;
	r->body_len = strlen(text);
	r->body_type = media_type;
	int rc = web_api_call(r, method, pattern, NULL, answer);
	r->body = body;
	r->body_len = len;
	r->body_type = type;
	return rc;
}

void web_flash(struct req *r, const char *kind, const char *text)
{
	char enc[FLASH_MAX * 3 + 16], msg[FLASH_MAX + 16];
	snprintf(msg, sizeof(msg), "%s:%.*s", kind, FLASH_MAX, text);
	if (mg_url_encode(msg, enc, sizeof(enc)) < 0)
		return;
	req_add_header(r, "Set-Cookie",
		       arena_printf(r->arena, FLASH_COOKIE "=%s; Path=/; Max-Age=60; HttpOnly; "
						   "SameSite=Strict%s",
				    enc, mg_get_request_info(r->conn)->is_ssl ? "; Secure" : ""));
}

void web_flash_take(struct req *r, cJSON *ctx)
{
	const char *header = req_header(r, "Cookie");
	char enc[FLASH_MAX * 3 + 16], msg[FLASH_MAX + 16];
	if (!header || mg_get_cookie(header, FLASH_COOKIE, enc, sizeof(enc)) <= 0)
		return;
	req_add_header(r, "Set-Cookie", FLASH_COOKIE "=; Path=/; Max-Age=0; HttpOnly; "
						     "SameSite=Strict");
	int n = mg_url_decode(enc, (int)strlen(enc), msg, (int)sizeof(msg), 0);
	char *colon = n > 0 ? strchr(msg, ':') : NULL;
	if (!colon || !utf8_valid(msg, (size_t)n))
		return;
	*colon = '\0';
	cJSON *f = cJSON_AddObjectToObject(ctx, "flash");
	cJSON_AddStringToObject(f, "text", colon + 1);
	if (!strcmp(msg, "error"))
		cJSON_AddTrueToObject(f, "error");
}

int web_form_done(struct req *r, int rc, const char *to, const char *ok, const char *back)
{
	if (rc) {
		if (r->err.code == ERR_INTERNAL || !r->err.msg[0])
			web_flash(r, "error", "something went wrong; try again");
		else if (r->err.field[0])
			web_flash(r, "error",
				  arena_printf(r->arena, "%s: %s", r->err.field, r->err.msg));
		else
			web_flash(r, "error", r->err.msg);
		err_clear(&r->err);
		return req_redirect(r, 303, back ? back : to);
	}
	if (ok)
		web_flash(r, "ok", ok);
	return req_redirect(r, 303, to);
}

void web_add_perms(struct req *r, cJSON *ctx)
{
	cJSON *can = cJSON_AddObjectToObject(ctx, "can");
	for (int res = RES_NONE + 1; res < RES__COUNT; res++) {
		int role = rbac_workspace_scoped(res) ? r->auth.role : r->auth.tenant_role;
		cJSON *o = NULL;
		for (int act = ACT_NONE + 1; act < ACT__COUNT; act++) {
			if (!rbac_allows(role, res, act))
				continue;
			if (!o)
				o = cJSON_AddObjectToObject(can, resource_name(res));
			cJSON_AddTrueToObject(o, action_name(act));
		}
	}
}
