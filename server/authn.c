/*
 * Authentication and authorization in the dispatcher, before any handler:
 *
 *   credential  Authorization: Bearer <JWT> | Bearer plx_<key> | the
 *               session cookie (browsers)
 *   tenant      from the credential only; never from the request
 *   workspace   X-Parallax-Workspace (id or slug), else for a browser the
 *               switcher's pick (web_workspace_chosen), else the default one
 *   role        membership role, narrowed per workspace; an API key's role
 *               is capped by its creator's current role
 *   permission  rbac_allows(role, route resource, route action)
 *   CSRF        cookie-authenticated writes need same Origin and the token
 *   rate limit  a token bucket per user, key or IP
 *
 * Failures: 401 for a missing or bad credential, 403 for a forbidden action
 * or CSRF, 429 with Retry-After for rate limits.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <civetweb.h>

#include "server/server.h"
#include "db/db.h"
#include "web/web.h"
#include "core/core.h"

const char *session_cookie_name(struct req *r)
{
	return mg_get_request_info(r->conn)->is_ssl ? "__Host-parallax_session" :
						      "parallax_session";
}

static int auth_bearer_jwt(struct req *r, struct db *db, const char *token)
{
	struct access_claims c;
	char role[16];
	int rc;
	if ((rc = token_verify_access(token, &c, &r->err)) ||
	    (rc = store_session_validate(db, c.tenant_id, c.session_id, c.user_id, role, &r->err)))
		return rc;
	r->auth.kind = AUTH_TOKEN;
	str_copy(r->auth.tenant_id, sizeof(r->auth.tenant_id), c.tenant_id);
	str_copy(r->auth.user_id, sizeof(r->auth.user_id), c.user_id);
	str_copy(r->auth.session_id, sizeof(r->auth.session_id), c.session_id);
	r->auth.tenant_role = r->auth.role = role_parse(role);
	return 0;
}

static int auth_api_key(struct req *r, struct db *db, const char *key)
{
	struct api_key_auth k;
	int rc = store_api_key_authenticate(db, key, &k, &r->err);
	if (rc)
		return rc;
	r->auth.kind = AUTH_API_KEY;
	str_copy(r->auth.tenant_id, sizeof(r->auth.tenant_id), k.tenant_id);
	str_copy(r->auth.user_id, sizeof(r->auth.user_id), k.created_by);
	str_copy(r->auth.api_key_id, sizeof(r->auth.api_key_id), k.id);
	str_copy(r->auth.workspace_id, sizeof(r->auth.workspace_id), k.workspace_id);
	r->auth.tenant_role = r->auth.role = k.role;
	return 0;
}

static int auth_cookie(struct req *r, struct db *db, const char *cookie)
{
	struct session_row s;
	char hash[65], role[16];
	int rc;
	token_hash(cookie, hash);
	if ((rc = store_session_by_hash(db, hash, &s, &r->err)) || s.status != SESSION_ACTIVE ||
	    strcmp(s.kind, "browser") || s.expires_at <= now_ms())
		return req_fail(r, ERR_UNAUTHORIZED, "invalid_session", NULL,
				"your session has ended; sign in again");
	if ((rc = store_session_validate(db, s.tenant_id, s.family_id, s.user_id, role, &r->err)))
		return rc;
	r->auth.kind = AUTH_COOKIE;
	str_copy(r->auth.tenant_id, sizeof(r->auth.tenant_id), s.tenant_id);
	str_copy(r->auth.user_id, sizeof(r->auth.user_id), s.user_id);
	str_copy(r->auth.session_id, sizeof(r->auth.session_id), s.family_id);
	r->auth.tenant_role = r->auth.role = role_parse(role);
	return 0;
}

/* Identify the caller, if any credential was sent. 0 with kind AUTH_NONE when
 * there is none; an error when one was sent and is bad. */
static int identify(struct req *r)
{
	const char *authz = req_header(r, "Authorization"), *ch = req_header(r, "Cookie");
	char cookie[OPAQUE_TOKEN_MAX + 8];
	struct db *db;
	int rc, has_cookie = ch && mg_get_cookie(ch, session_cookie_name(r), cookie,
						sizeof(cookie)) > 0;
	if (!authz && !has_cookie)
		return 0;
	if ((rc = req_db(r, &db)))
		return rc;
	if (authz) {
		if (strncasecmp(authz, "Bearer ", 7) || strlen(authz + 7) > 8192)
			return req_fail(r, ERR_UNAUTHORIZED, "invalid_token", NULL,
					"use Authorization: Bearer <token>");
		const char *tok = authz + 7;
		return str_has_prefix(tok, "plx_") ? auth_api_key(r, db, tok) :
						     auth_bearer_jwt(r, db, tok);
	}
	return auth_cookie(r, db, cookie);
}

int resolve_workspace(struct req *r)
{
	const char *want = req_header(r, "X-Parallax-Workspace"), *chosen = NULL;
	char ws[UUID_STR_LEN], pick[UUID_STR_LEN];
	int role = ROLE_NONE, rc;
	struct db *db;
	if ((rc = req_db(r, &db)))
		return rc;
	if (r->auth.kind == AUTH_API_KEY) {
		/* A key is bound to one workspace; naming another is refused. */
		if (!want || !strcmp(want, r->auth.workspace_id))
			return 0;
		rc = store_workspace_resolve(db, r->auth.tenant_id, r->auth.user_id,
					     ROLE_OWNER, want, ws, &role, &r->err);
		if (rc || strcmp(ws, r->auth.workspace_id))
			return req_fail(r, ERR_FORBIDDEN, "workspace_forbidden", NULL,
					"this API key is bound to another workspace");
		return 0;
	}
	/* a browser's pick from the dashboard's switcher, when the request names none */
	if (!want && r->auth.kind == AUTH_COOKIE)
		want = chosen = web_workspace_chosen(r, pick, sizeof(pick));
	rc = store_workspace_resolve(db, r->auth.tenant_id, r->auth.user_id, r->auth.tenant_role,
				     want, ws, &role, &r->err);
	/* the pick was deleted or its access removed since: the default one, not a 404 on
	 * every page until the cookie goes */
	if (rc == ERR_NOT_FOUND && chosen) {
		err_clear(&r->err);
		rc = store_workspace_resolve(db, r->auth.tenant_id, r->auth.user_id,
					     r->auth.tenant_role, NULL, ws, &role, &r->err);
	}
	if (rc == ERR_NOT_FOUND)
		return req_fail(r, ERR_NOT_FOUND, "workspace_not_found", "X-Parallax-Workspace",
				"no such workspace, or you are not a member");
	if (rc)
		return rc;
	str_copy(r->auth.workspace_id, sizeof(r->auth.workspace_id), ws);
	r->auth.role = role;
	return 0;
}

/*
 * The tenant's requests_per_minute quota (admin-editable), cached for 30 s
 * per tenant so the hot path does not query it; the configured
 * rate_limit_rpm is the installation-wide ceiling.
 */
#define RPM_CACHE 256
static struct {
	char tenant[UUID_STR_LEN];
	int rpm;
	int64_t at;
} rpm_cache[RPM_CACHE];
static pthread_mutex_t rpm_mu = PTHREAD_MUTEX_INITIALIZER;

static int tenant_rpm(struct req *r, int ceiling)
{
	unsigned h = 0;
	int64_t now = mono_ms(), v = 0;
	struct db *db;
	struct err e;
	for (const char *p = r->auth.tenant_id; *p; p++)
		h = h * 31 + (unsigned char)*p;
	h %= RPM_CACHE;
	pthread_mutex_lock(&rpm_mu);
	if (!strcmp(rpm_cache[h].tenant, r->auth.tenant_id) && now - rpm_cache[h].at < 30000) {
		int rpm = rpm_cache[h].rpm;
		pthread_mutex_unlock(&rpm_mu);
		return rpm;
	}
	pthread_mutex_unlock(&rpm_mu);
	if (req_db(r, &db) || db_query_int64(db, &e, &v,
					     "SELECT requests_per_minute FROM tenant_quotas "
					     "WHERE tenant_id = ?", "s", r->auth.tenant_id))
		return ceiling;
	int rpm = v > 0 && v < ceiling ? (int)v : ceiling;
	pthread_mutex_lock(&rpm_mu);
	str_copy(rpm_cache[h].tenant, sizeof(rpm_cache[h].tenant), r->auth.tenant_id);
	rpm_cache[h].rpm = rpm;
	rpm_cache[h].at = now;
	pthread_mutex_unlock(&rpm_mu);
	return rpm;
}

static int rate_limit(struct req *r)
{
	char key[96];
	int rpm = r->app->cfg->rate_limit_rpm, wait;
	if (r->route && (r->route->flags & ROUTE_QUIET))
		return 0;
	if (r->auth.kind == AUTH_NONE) {
		snprintf(key, sizeof(key), "ip:%s", r->remote_ip);
		rpm = r->app->cfg->rate_limit_ip_rpm;
	} else {
		snprintf(key, sizeof(key), "%s:%s", r->auth.kind == AUTH_API_KEY ? "k" : "u",
			 r->auth.kind == AUTH_API_KEY ? r->auth.api_key_id : r->auth.user_id);
		if (rpm > 0)
			rpm = tenant_rpm(r, rpm);
	}
	if (rpm <= 0)
		return 0; /* off */
	if (!(wait = ratelimit_take(key, rpm)))
		return 0;
	char after[16];
	snprintf(after, sizeof(after), "%d", wait);
	req_add_header(r, "Retry-After", after);
	return req_fail(r, ERR_RATE_LIMITED, "rate_limited",
			r->auth.kind == AUTH_NONE ? "rate_limit_ip_rpm" : "requests_per_minute",
			"too many requests (limit %d a minute); retry in %d s", rpm, wait);
}

static int is_write(const char *method)
{
	return strcmp(method, "GET") && strcmp(method, "HEAD") && strcmp(method, "OPTIONS");
}

/* After the body is read: cookie-authenticated writes need the CSRF token
 * (form field or X-CSRF-Token header) and a same-origin Origin. */
int csrf_request(struct req *r)
{
	if (r->auth.kind != AUTH_COOKIE || !is_write(r->method))
		return 0;
	return web_csrf_check(r);
}

int authenticate_request(struct req *r)
{
	const struct route *rt = r->route;
	int rc = identify(r);
	if (rc && rt->access == ACCESS_PUBLIC) {
		/* A stale credential on a public route (login, set-up) is ignored. */
		memset(&r->auth, 0, sizeof(r->auth));
		err_clear(&r->err);
		rc = 0;
	}
	if (rc || (rc = rate_limit(r)))
		return rc;
	if (rt->access == ACCESS_PUBLIC)
		return 0;
	return authorize_route(r, rt);
}

int authorize_route(struct req *r, const struct route *rt)
{
	int rc;
	if (rt->access == ACCESS_PUBLIC)
		return 0;
	if (r->auth.kind == AUTH_NONE)
		return req_fail(r, ERR_UNAUTHORIZED, "unauthenticated", NULL,
				"sign in or send Authorization: Bearer <token>");
	if (rt->access == ACCESS_AUTH)
		return 0;
	int scoped = rbac_workspace_scoped(rt->resource);
	if ((scoped || req_header(r, "X-Parallax-Workspace")) && (rc = resolve_workspace(r)))
		return rc;
	if (!rbac_allows(scoped ? r->auth.role : r->auth.tenant_role, rt->resource, rt->action))
		return req_fail(r, ERR_FORBIDDEN, "forbidden", NULL,
				"your role may not %s %s", action_name(rt->action),
				resource_name(rt->resource));
	return 0;
}
