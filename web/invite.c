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

static const char *const view_keys[] = { "new_account", "sign_in", "join", "other_user" };

static int render(struct req *r, int status, const struct invitation_info *inv,
		  const struct tenant_info *t, enum invite_view v, const char *error)
{
	const char *token = req_form(r, "token") ? req_form(r, "token") : req_query(r, "token");
	const char *name = req_form(r, "name");
	cJSON *ctx = cJSON_CreateObject();
	cJSON_AddStringToObject(ctx, "body_class", "auth");
	cJSON_AddStringToObject(ctx, "csrf", web_csrf_token(r));
	cJSON_AddStringToObject(ctx, "token", token ? token : "");
	if (!inv) {
		cJSON_AddTrueToObject(ctx, "gone");
	} else {
		cJSON_AddStringToObject(ctx, "tenant", t->name);
		cJSON_AddStringToObject(ctx, "role", inv->role);
		cJSON_AddStringToObject(ctx, "email", inv->email);
		cJSON_AddTrueToObject(ctx, view_keys[v]);
		/* back here after signing in: the whole path, token included */
		cJSON_AddStringToObject(ctx, "next",
					arena_printf(r->arena, "/invite?token=%s", token ? token : ""));
	}
	if (error)
		cJSON_AddStringToObject(ctx, "error", error);
	if (name)
		cJSON_AddStringToObject(ctx, "name", name);
	cJSON_AddNumberToObject(ctx, "min_len", PASSWORD_MIN_LEN);
	cJSON_AddNumberToObject(ctx, "max_len", PASSWORD_MAX_LEN);
	int rc = web_render(r, status, "invite", ctx);
	cJSON_Delete(ctx);
	return rc;
}

/* A dead link (expired, revoked, used or unknown) is 404. */
static int render_gone(struct req *r)
{
	return render(r, 404, NULL, NULL, VIEW_NEW_ACCOUNT, NULL);
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
