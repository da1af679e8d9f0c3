/*
 * Browser sign-in: GET/POST /login, POST /logout and the signed-in landing
 * page. A successful sign-in opens a new session (a new cookie value every
 * time, so a planted cookie is never adopted) in an HttpOnly, SameSite=Lax
 * cookie, `__Host-` prefixed and Secure under TLS. Forms carry the CSRF
 * double-submit token; next= only accepts same-origin relative paths.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>

#include "web/web.h"
#include "api/api.h"
#include "auth/auth.h"
#include "db/db.h"
#include "server/server.h"
#include "core/core.h"

int web_safe_next(const char *next)
{
	if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\' || strlen(next) > 512)
		return 0;
	for (const char *p = next; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == '\\' || (unsigned char)*p == 0x7f)
			return 0;
	return 1;
}

/*
 * "Sign in with <provider>" on the sign-in page: for /login?tenant=SLUG, or for the
 * organization whose domain the email of /login?sso_email= has. It is a link, not a form:
 * the page's CSP (form-action 'self') stops a form submission that redirects to another
 * origin, which /sso/start does. An unknown domain is the page's error; 0 or that message.
 */
static const char *sso_button_add(struct req *r, cJSON *ctx)
{
	const char *slug = req_query(r, "tenant"), *email = req_query(r, "sso_email");
	const char *why = NULL;
	struct db *db;
	struct err e;
	int rc = ERR_NOT_FOUND;
	err_clear(&e);
	if (email && !*email)
		email = NULL;
	if ((!slug || !*slug) && !email)
		return NULL;
	if (req_db(r, &db))
		return NULL;
	struct sso_config *c = xcalloc(1, sizeof(*c));
	if (slug && *slug && strlen(slug) <= TENANCY_SLUG_MAX)
		rc = store_sso_by_slug(db, slug, c, &e);
	else if (email && strchr(email, '@') && strlen(email) <= TENANCY_EMAIL_MAX)
		rc = web_sso_by_email(db, email, c, &e);
	if (!rc) {
		cJSON *b = cJSON_AddObjectToObject(ctx, "sso_tenant");
		/* /sso/start finds the organization again by what found it here */
		if (slug && *slug)
			cJSON_AddStringToObject(b, "slug", slug);
		else
			cJSON_AddStringToObject(b, "hint", email);
		if (c->display_name[0]) {
			cJSON_AddStringToObject(b, "label", c->display_name);
		} else {
			/* the issuer's host: https://login.example.com/x -> login.example.com */
			const char *h = strstr(c->issuer, "://");
			h = h ? h + 3 : c->issuer;
			cJSON_AddItemToObject(b, "label", cJSON_CreateString(arena_printf(
				r->arena, "%.*s", (int)strcspn(h, "/?#"), h)));
		}
	} else if (email) {
		cJSON_AddStringToObject(ctx, "sso_email", email);
		why = rc == ERR_CONFLICT ? arena_printf(r->arena, "%s", e.msg) :
					   "Single sign-on is not set up for this email's domain. "
					   "Sign in with your password.";
	}
	free(c);
	return why;
}

static int render_login(struct req *r, int status, const char *notice, const char *error)
{
	const char *next = req_query(r, "next"), *email = req_form(r, "email");
	cJSON *ctx = cJSON_CreateObject();
	if (!next)
		next = req_form(r, "next");
	cJSON_AddStringToObject(ctx, "body_class", "auth");
	cJSON_AddStringToObject(ctx, "csrf", web_csrf_token(r));
	if (web_safe_next(next))
		cJSON_AddStringToObject(ctx, "next", next);
	if (email)
		cJSON_AddStringToObject(ctx, "email", email);
	if (notice)
		cJSON_AddStringToObject(ctx, "notice", notice);
	if (error)
		cJSON_AddStringToObject(ctx, "error", error);
	const char *sso_error = sso_button_add(r, ctx);
	if (sso_error && !error)
		cJSON_AddStringToObject(ctx, "error", sso_error);
	int rc = web_render(r, status, "login", ctx);
	cJSON_Delete(ctx);
	return rc;
}

int web_login_page(struct req *r)
{
	const char *setup = req_query(r, "setup");
	if (r->auth.kind == AUTH_COOKIE)
		return req_redirect(r, 303, "/");
	const char *notice = NULL;
	if (setup)
		notice = "Your organization is ready. Sign in with the owner account.";
	else if (req_query(r, "password"))
		notice = "Your password was changed and every session ended. Sign in with the "
			 "new password.";
	else if (req_query(r, "invited"))
		notice = "Your account is ready. Sign in to start.";
	return render_login(r, 200, notice, NULL);
}

void web_set_session_cookie(struct req *r, const char *value, int64_t max_age_s)
{
	int tls = mg_get_request_info(r->conn)->is_ssl;
	char *c = arena_printf(r->arena, "%s=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%lld%s",
			       session_cookie_name(r), value, (long long)max_age_s,
			       tls ? "; Secure" : "");
	req_add_header(r, "Set-Cookie", c);
}

int web_login_submit(struct req *r)
{
	struct login_request in = { req_form(r, "email"), req_form(r, "password"), NULL,
				    "browser", r->remote_ip, req_header(r, "User-Agent") };
	struct login_result res;
	struct db *db;
	const char *next = req_form(r, "next");
	int rc;
	if ((rc = web_csrf_check(r)) || (rc = api_login_throttle(r)) || (rc = req_db(r, &db)))
		return rc;
	rc = auth_login(db, &in, &res, &r->err);
	api_audit_login(r, &res, rc);
	/* ERR_FORBIDDEN: the organization requires single sign-on; the page offers it */
	if (rc == ERR_UNAUTHORIZED || rc == ERR_RATE_LIMITED || rc == ERR_FORBIDDEN) {
		char msg[ERR_MSG_MAX];
		str_copy(msg, sizeof(msg), r->err.msg);
		login_result_release(&res);
		return render_login(r, err_http_status(rc), NULL, msg);
	}
	if (!rc) {
		web_set_session_cookie(r, res.refresh_token, BROWSER_SESSION_TTL_MS / 1000);
		rc = req_redirect(r, 303, web_safe_next(next) ? next : "/");
	}
	login_result_release(&res);
	return rc;
}

int web_logout(struct req *r)
{
	struct db *db;
	int rc;
	if (r->auth.kind == AUTH_COOKIE && !(rc = req_db(r, &db))) {
		store_session_revoke_family(db, r->auth.tenant_id, r->auth.session_id, "logout",
					    &r->err);
		req_audit(r, "auth.logout", "session", r->auth.session_id, "success", NULL);
	}
	web_set_session_cookie(r, "", 0);
	return req_redirect(r, 303, "/login");
}
