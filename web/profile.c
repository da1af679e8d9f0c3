/*
 * GET /profile: who you are, your password, and your sessions (where you
 * are signed in), each of which you can end. The password change and the
 * session ends are the API's own handlers (web_api_call). Changing the
 * password ends every session, this one included, so it leads back to the
 * sign-in page.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "web/web.h"
#include "auth/auth.h"
#include "server/server.h"
#include "core/core.h"

static void add_time(cJSON *o, const char *key, const cJSON *ms)
{
	char s[40] = "";
	if (cJSON_IsNumber(ms) && ms->valuedouble > 0) {
		time_t t = (time_t)(ms->valuedouble / 1000);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(s, sizeof(s), "%Y-%m-%d %H:%M UTC", &tm);
	}
	cJSON_AddStringToObject(o, key, s);
}

/* A short name for a User-Agent: "Chrome on Linux", or the first 60 bytes. */
static void add_device(cJSON *o, const char *ua, const char *kind)
{
	static const char *const browsers[] = { "Edg/", "Edge", "Firefox/", "Firefox",
						"Chrome/", "Chrome", "Safari/", "Safari",
						"curl/", "curl", "node", "Node.js" };
	static const char *const systems[] = { "Windows", "Windows", "Android", "Android",
					       "iPhone", "iOS", "Mac OS", "macOS",
					       "Linux", "Linux" };
	const char *b = NULL, *sys = NULL;
	char s[96];
	for (size_t i = 0; ua && !b && i < ARRAY_SIZE(browsers); i += 2)
		if (strstr(ua, browsers[i]))
			b = browsers[i + 1];
	for (size_t i = 0; ua && !sys && i < ARRAY_SIZE(systems); i += 2)
		if (strstr(ua, systems[i]))
			sys = systems[i + 1];
	if (b && sys)
		snprintf(s, sizeof(s), "%s on %s", b, sys);
	else if (b)
		snprintf(s, sizeof(s), "%s", b);
	else if (ua && *ua)
		snprintf(s, sizeof(s), "%.60s", ua);
	else
		snprintf(s, sizeof(s), "%s", kind && !strcmp(kind, "browser") ? "A browser" :
									       "An API client");
	cJSON_AddStringToObject(o, "device", s);
}

int web_profile_page(struct req *r)
{
	struct db *db;
	cJSON *ctx, *answer = NULL;
	int rc;
	if ((rc = web_app_begin(r, &db, "profile", &ctx)) || !ctx)
		return rc;
	if ((rc = web_api_call(r, "GET", "/api/v1/auth/sessions", NULL, &answer))) {
		cJSON_Delete(ctx);
		return rc;
	}
	cJSON *list = cJSON_AddArrayToObject(ctx, "sessions");
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(answer, "items")) {
		cJSON *o = cJSON_CreateObject();
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "id")),
			   *ip = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "ip")),
			   *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "kind"));
		cJSON_AddStringToObject(o, "id", id ? id : "");
		cJSON_AddStringToObject(o, "ip", ip ? ip : "");
		cJSON_AddStringToObject(o, "kind", kind ? kind : "");
		add_device(o, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "user_agent")),
			   kind);
		add_time(o, "created", cJSON_GetObjectItemCaseSensitive(it, "created_at"));
		add_time(o, "last_used", cJSON_GetObjectItemCaseSensitive(it, "last_used_at"));
		add_time(o, "expires", cJSON_GetObjectItemCaseSensitive(it, "expires_at"));
		int current = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "current"));
		if (current)
			cJSON_AddTrueToObject(o, "current");
		cJSON_AddStringToObject(o, "row_class", current ? "current" : "");
		cJSON_AddItemToArray(list, o);
	}
	cJSON_Delete(answer);
	rc = web_render(r, 200, "profile", ctx);
	cJSON_Delete(ctx);
	return rc;
}

int web_profile_password(struct req *r)
{
	const char *cur = req_form(r, "current_password"), *next = req_form(r, "new_password"),
		   *again = req_form(r, "confirm_password");
	cJSON *body, *answer = NULL;
	int rc;
	if (r->auth.kind != AUTH_COOKIE)
		return req_redirect(r, 303, "/login");
	if (!next || !again || strcmp(next, again)) {
		web_flash(r, "error", "confirm_password: the two new passwords differ");
		return req_redirect(r, 303, "/profile#password");
	}
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "current_password", cur ? cur : "");
	cJSON_AddStringToObject(body, "new_password", next);
	rc = web_api_call(r, "POST", "/api/v1/auth/password", body, &answer);
	cJSON_Delete(body);
	cJSON_Delete(answer);
	if (!rc) /* every session ended, this one too: sign in with the new password */
		return req_redirect(r, 303, "/login?password=changed");
	return web_form_done(r, rc, "/profile#password", NULL, NULL);
}

int web_profile_session_end(struct req *r)
{
	cJSON *answer = NULL;
	const char *id = req_param(r, 0);
	int current = id && !strcmp(id, r->auth.session_id);
	if (r->auth.kind != AUTH_COOKIE)
		return req_redirect(r, 303, "/login");
	int rc = web_api_call(r, "DELETE", "/api/v1/auth/sessions/{id}", NULL, &answer);
	cJSON_Delete(answer);
	if (!rc && current)
		return req_redirect(r, 303, "/login");
	return web_form_done(r, rc, "/profile#sessions", "The session was ended.", NULL);
}
