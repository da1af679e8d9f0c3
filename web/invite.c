/*
 * The invitation page: GET /invite?token=... shows who invited whom into
 * which organization and asks a new person for a name and password; someone
 * who already has an account signs in first (the sign-in page brings them
 * back here) and joins with one click. POST /invite accepts (CSRF
 * double-submit). A dead link (expired, revoked, used or unknown) is 404.
 */
#include <string.h>

#include "web/web.h"
#include "api/api.h"
#include "auth/auth.h"
#include "db/db.h"
#include "server/server.h"
#include "core/core.h"

/* What the page shows: decided from the invitation and the caller. */
enum invite_view { VIEW_NEW_ACCOUNT, VIEW_SIGN_IN, VIEW_JOIN, VIEW_OTHER_USER };

static void para(struct buf *b, const char *cls, const char *role, const char *text)
{
	buf_addf(b, "<p class=\"%s\" role=\"%s\">", cls, role);
	html_escape(b, text);
	buf_adds(b, "</p>\n");
}

static void form_begin(struct buf *b, struct req *r, const char *token)
{
	buf_adds(b, "<form method=\"post\" action=\"/invite\">\n"
		    "<input type=\"hidden\" name=\"csrf\" value=\"");
	html_escape(b, web_csrf_token(r));
	buf_adds(b, "\">\n<input type=\"hidden\" name=\"token\" value=\"");
	html_escape(b, token);
	buf_adds(b, "\">\n");
}

static void new_account_form(struct buf *b, struct req *r, const char *token)
{
	const char *name = req_form(r, "name");
	form_begin(b, r, token);
	buf_adds(b, "<label for=\"name\">Your name</label>\n<input id=\"name\" name=\"name\" "
		    "type=\"text\" required maxlength=\"100\" autocomplete=\"name\"");
	if (name) {
		buf_adds(b, " value=\"");
		html_escape(b, name);
		buf_addch(b, '"');
	}
	buf_addf(b, ">\n<label for=\"password\">Password</label>\n<input id=\"password\" "
		    "name=\"password\" type=\"password\" required minlength=\"%d\" maxlength=\"%d\" "
		    "autocomplete=\"new-password\" aria-describedby=\"password-hint\">\n"
		    "<p class=\"hint\" id=\"password-hint\">At least %d characters. Long passphrases "
		    "are best.</p>\n<button type=\"submit\">Create account and join</button>\n"
		    "</form>\n",
		 PASSWORD_MIN_LEN, PASSWORD_MAX_LEN, PASSWORD_MIN_LEN);
}

static void view_body(struct buf *b, struct req *r, const char *token, enum invite_view v)
{
	switch (v) {
	case VIEW_NEW_ACCOUNT:
		new_account_form(b, r, token);
		break;
	case VIEW_SIGN_IN:
		para(b, "notice", "status", "You already have an account with this email. "
					    "Sign in to accept the invitation.");
		buf_adds(b, "<p><a class=\"button\" id=\"sign-in\" href=\"/login?next=%2Finvite%3Ftoken%3D");
		html_escape(b, token);
		buf_adds(b, "\">Sign in</a></p>\n");
		break;
	case VIEW_JOIN:
		form_begin(b, r, token);
		buf_adds(b, "<button type=\"submit\">Join</button>\n</form>\n");
		break;
	case VIEW_OTHER_USER:
		para(b, "error", "alert", "You are signed in with another email address. Sign out, "
					  "then open this link again.");
		break;
	}
}

static int render(struct req *r, int status, const struct invitation_info *inv,
		  const struct tenant_info *t, enum invite_view v, const char *error)
{
	struct buf b = BUF_INIT;
	web_page_begin(&b, "Invitation", "auth");
	buf_adds(&b, "<main class=\"auth-card\">\n<h1>Join ");
	html_escape(&b, t->name);
	buf_adds(&b, "</h1>\n<p>You are invited as <strong id=\"invite-role\">");
	html_escape(&b, inv->role);
	buf_adds(&b, "</strong> with the email <strong id=\"invite-email\">");
	html_escape(&b, inv->email);
	buf_adds(&b, "</strong>.</p>\n");
	if (error) {
		buf_adds(&b, "<p class=\"error\" role=\"alert\" id=\"form-error\">");
		html_escape(&b, error);
		buf_adds(&b, "</p>\n");
	}
	view_body(&b, r, req_form(r, "token") ? req_form(r, "token") : req_query(r, "token"), v);
	buf_adds(&b, "</main>\n</body>\n</html>\n");
	req_send(r, status, "text/html; charset=utf-8", b.p, b.len);
	buf_release(&b);
	return 0;
}

static int render_gone(struct req *r)
{
	struct buf b = BUF_INIT;
	web_page_begin(&b, "Invitation", "auth");
	buf_adds(&b, "<main class=\"auth-card\">\n<h1>This invitation is not valid</h1>\n"
		     "<p>It may have expired, been revoked or been used already. Ask the person "
		     "who invited you for a new link.</p>\n</main>\n</body>\n</html>\n");
	req_send(r, 404, "text/html; charset=utf-8", b.p, b.len);
	buf_release(&b);
	return 0;
}

/* Which view fits: signed in (same email or not), known email, or new. */
static int choose_view(struct req *r, const struct invitation_info *inv, enum invite_view *v)
{
	struct user_row u;
	struct db *db;
	int rc = req_db(r, &db);
	if (rc)
		return rc;
	if (r->auth.kind == AUTH_COOKIE || r->auth.kind == AUTH_TOKEN) {
		rc = store_user_by_id(db, r->auth.user_id, &u, &r->err);
		*v = !rc && !strcmp(u.email, inv->email) ? VIEW_JOIN : VIEW_OTHER_USER;
		return rc;
	}
	rc = store_user_by_email(db, inv->email, &u, &r->err);
	*v = rc == 0 ? VIEW_SIGN_IN : VIEW_NEW_ACCOUNT;
	if (rc == ERR_NOT_FOUND)
		err_clear(&r->err);
	return rc == ERR_NOT_FOUND ? 0 : rc;
}

int web_invite_page(struct req *r)
{
	struct invitation_info inv;
	struct tenant_info t;
	enum invite_view v;
	int rc = api_invitation_find(r, req_query(r, "token"), &inv, &t);
	if (rc == ERR_NOT_FOUND)
		return render_gone(r);
	if (rc || (rc = choose_view(r, &inv, &v)))
		return rc;
	return render(r, 200, &inv, &t, v, NULL);
}

int web_invite_submit(struct req *r)
{
	struct invite_accept in = { req_form(r, "token"), req_form(r, "name"),
				    req_form(r, "password") };
	struct invite_accepted out;
	struct invitation_info inv;
	struct tenant_info t;
	enum invite_view v;
	int rc;
	if ((rc = web_csrf_check(r)))
		return rc;
	if ((rc = api_invitation_find(r, in.token, &inv, &t)) || (rc = choose_view(r, &inv, &v)))
		return rc == ERR_NOT_FOUND ? render_gone(r) : rc;
	if (v == VIEW_JOIN)
		rc = api_invitation_accept_existing(r, in.token, &out);
	else if (v == VIEW_NEW_ACCOUNT)
		rc = api_invitation_accept_new(r, &in, &out);
	else
		return render(r, v == VIEW_SIGN_IN ? 409 : 403, &inv, &t, v, NULL);
	if (rc == ERR_NOT_FOUND)
		return render_gone(r);
	if (rc == ERR_INVALID || rc == ERR_CONFLICT) {
		char msg[ERR_MSG_MAX];
		str_copy(msg, sizeof(msg), r->err.msg);
		return render(r, err_http_status(rc), &inv, &t, v, msg);
	}
	if (rc)
		return rc;
	return req_redirect(r, 303, v == VIEW_JOIN ? "/" : "/login?invited=1");
}
