/*
 * First-run set-up page: GET /setup?token=... shows the form (tenant name,
 * your name, email, password); POST /setup creates the first tenant and
 * owner and redirects to the login page. Once an owner exists, or with a
 * wrong token, both answer 404.
 */
#include <string.h>

#include "web/web.h"
#include "auth/auth.h"
#include "db/db.h"
#include "server/server.h"
#include "core/core.h"

static void field(struct buf *b, const char *name, const char *label, const char *type,
		  const char *value, const char *autocomplete, const char *hint)
{
	buf_addf(b, "<label for=\"%s\">%s</label>\n", name, label);
	buf_addf(b, "<input id=\"%s\" name=\"%s\" type=\"%s\" required autocomplete=\"%s\"", name,
		 name, type, autocomplete);
	if (!strcmp(type, "password"))
		buf_addf(b, " minlength=\"%d\" maxlength=\"%d\"", PASSWORD_MIN_LEN, PASSWORD_MAX_LEN);
	if (value) {
		buf_adds(b, " value=\"");
		html_escape(b, value);
		buf_addch(b, '"');
	}
	if (hint)
		buf_addf(b, " aria-describedby=\"%s-hint\">\n<p class=\"hint\" id=\"%s-hint\">%s</p>\n",
			 name, name, hint);
	else
		buf_adds(b, ">\n");
}

static int render_form(struct req *r, int status, const char *token, const struct err *error)
{
	struct buf b = BUF_INIT;
	buf_adds(&b, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		     "<title>Set up Parallax</title>\n"
		     "<link rel=\"stylesheet\" href=\"/static/css/app.css\">\n</head>\n"
		     "<body class=\"auth\">\n<main class=\"auth-card\">\n"
		     "<h1>Welcome to Parallax</h1>\n"
		     "<p>Create your organization and its owner account. This link works once.</p>\n");
	if (error) {
		buf_adds(&b, "<p class=\"error\" role=\"alert\" id=\"form-error\">");
		html_escape(&b, error->msg);
		buf_adds(&b, "</p>\n");
	}
	buf_adds(&b, "<form method=\"post\" action=\"/setup\">\n"
		     "<input type=\"hidden\" name=\"token\" value=\"");
	html_escape(&b, token);
	buf_adds(&b, "\">\n<input type=\"hidden\" name=\"csrf\" value=\"");
	html_escape(&b, web_csrf_token(r));
	buf_adds(&b, "\">\n");
	field(&b, "tenant_name", "Organization name", "text", req_form(r, "tenant_name"),
	      "organization", NULL);
	field(&b, "name", "Your name", "text", req_form(r, "name"), "name", NULL);
	field(&b, "email", "Email", "email", req_form(r, "email"), "email", NULL);
	field(&b, "password", "Password", "password", NULL, "new-password",
	      "At least 12 characters. Long passphrases are best.");
	buf_adds(&b, "<button type=\"submit\">Create owner account</button>\n</form>\n"
		     "</main>\n</body>\n</html>\n");
	req_send(r, status, "text/html; charset=utf-8", b.p, b.len);
	buf_release(&b);
	return 0;
}

int web_setup_page(struct req *r)
{
	struct db *db;
	const char *token = req_query(r, "token");
	int rc;
	if ((rc = req_db(r, &db)) || (rc = setup_token_check(db, token, &r->err)))
		return rc;
	return render_form(r, 200, token, NULL);
}

int web_setup_submit(struct req *r)
{
	struct setup_request in = {
		req_form(r, "token"), req_form(r, "tenant_name"), req_form(r, "name"),
		req_form(r, "email"), req_form(r, "password"),
	};
	struct setup_result res;
	struct setup_created made;
	struct db *db;
	int rc;
	if ((rc = web_csrf_check(r)) || (rc = req_db(r, &db)))
		return rc;
	rc = setup_owner_create(db, &in, &res, &made, &r->err);
	if (rc == ERR_INVALID)
		return render_form(r, 400, in.token, &r->err);
	if (rc)
		return rc;
	log_kv(LOG_INFO, "setup", "owner account created", "tenant", res.tenant_id, "user",
	       res.user_id, NULL);
	return req_redirect(r, 303, "/login?setup=done");
}
