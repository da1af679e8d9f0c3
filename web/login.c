/*
 * Browser sign-in: GET/POST /login, POST /logout and the signed-in landing
 * page. A successful sign-in opens a new session (a new cookie value every
 * time, so a planted cookie is never adopted) in an HttpOnly, SameSite=Lax
 * cookie, `__Host-` prefixed and Secure under TLS. Forms carry the CSRF
 * double-submit token; next= only accepts same-origin relative paths.
 */
#include <stdio.h>
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

void web_page_begin(struct buf *b, const char *title, const char *body_class)
{
	buf_adds(b, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		    "<title>");
	html_escape(b, title);
	buf_adds(b, " · Parallax</title>\n"
		    "<link rel=\"icon\" href=\"/static/img/favicon.svg\" type=\"image/svg+xml\">\n"
		    "<link rel=\"stylesheet\" href=\"/static/css/app.css\">\n"
		    "</head>\n<body class=\"");
	html_escape(b, body_class);
	buf_adds(b, "\">\n");
}

static int render_login(struct req *r, int status, const char *notice, const char *error)
{
	struct buf b = BUF_INIT;
	const char *next = req_query(r, "next");
	if (!next)
		next = req_form(r, "next");
	web_page_begin(&b, "Sign in", "auth");
	buf_adds(&b, "<main class=\"auth-card\">\n<h1>Sign in to Parallax</h1>\n");
	if (notice) {
		buf_adds(&b, "<p class=\"notice\" role=\"status\">");
		html_escape(&b, notice);
		buf_adds(&b, "</p>\n");
	}
	if (error) {
		buf_adds(&b, "<p class=\"error\" role=\"alert\" id=\"form-error\">");
		html_escape(&b, error);
		buf_adds(&b, "</p>\n");
	}
	buf_adds(&b, "<form method=\"post\" action=\"/login\">\n<input type=\"hidden\" name=\"csrf\" "
		     "value=\"");
	html_escape(&b, web_csrf_token(r));
	buf_adds(&b, "\">\n");
	if (web_safe_next(next)) {
		buf_adds(&b, "<input type=\"hidden\" name=\"next\" value=\"");
		html_escape(&b, next);
		buf_adds(&b, "\">\n");
	}
	buf_adds(&b, "<label for=\"email\">Email</label>\n<input id=\"email\" name=\"email\" "
		     "type=\"email\" required autocomplete=\"username\" autofocus");
	if (req_form(r, "email")) {
		buf_adds(&b, " value=\"");
		html_escape(&b, req_form(r, "email"));
		buf_addch(&b, '"');
	}
	buf_adds(&b, ">\n<label for=\"password\">Password</label>\n<input id=\"password\" "
		     "name=\"password\" type=\"password\" required autocomplete=\"current-password\">\n"
		     "<button type=\"submit\">Sign in</button>\n</form>\n</main>\n</body>\n</html>\n");
	req_send(r, status, "text/html; charset=utf-8", b.p, b.len);
	buf_release(&b);
	return 0;
}

int web_login_page(struct req *r)
{
	const char *setup = req_query(r, "setup");
	if (r->auth.kind == AUTH_COOKIE)
		return req_redirect(r, 303, "/");
	return render_login(r, 200,
			    setup ? "Your organization is ready. Sign in with the owner account." :
				    NULL,
			    NULL);
}

static void set_session_cookie(struct req *r, const char *value, int64_t max_age_s)
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
	if (rc == ERR_UNAUTHORIZED || rc == ERR_RATE_LIMITED) {
		char msg[ERR_MSG_MAX];
		str_copy(msg, sizeof(msg), r->err.msg);
		login_result_release(&res);
		return render_login(r, err_http_status(rc), NULL, msg);
	}
	if (!rc) {
		set_session_cookie(r, res.refresh_token, BROWSER_SESSION_TTL_MS / 1000);
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
	set_session_cookie(r, "", 0);
	return req_redirect(r, 303, "/login");
}
