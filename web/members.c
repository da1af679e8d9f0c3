/*
 * GET /members: the organization's members and roles, its pending
 * invitations and who has access to the current workspace (with role
 * overrides); for admins, the forms that change a role, remove a member,
 * invite someone, revoke an invitation and set a workspace override. Every
 * read and change goes through the API routes (web/team.c), so the page can
 * never show or allow more than the API would. POST /members/invite leaves
 * the link for GET /members/invited, which shows it once.
 */
#include <string.h>

#include "web/web.h"
#include "web/team_internal.h"
#include "auth/auth.h"
#include "db/db.h"
#include "server/server.h"
#include "core/core.h"

#define INVITED_PAGE "/members/invited"

/* The avatar's letter: the name's first character (a whole UTF-8 sequence), upper-cased
 * when it is ASCII. */
static void add_initial(cJSON *m)
{
	const char *name = team_str(m, "name");
	char s[8] = "?";
	size_t n = 1;
	if (*name) {
		unsigned char c = (unsigned char)*name;
		n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		n = strnlen(name, n);
		memcpy(s, name, n);
		s[n] = '\0';
		if (c >= 'a' && c <= 'z')
			s[0] = (char)(c - 'a' + 'A');
	}
	cJSON_AddStringToObject(m, "initial", s);
}

static int members_fill(struct req *r, cJSON *ctx)
{
	cJSON *answer, *m;
	int rc = team_list(r, "/api/v1/tenants/{t}/members", NULL, req_query(r, "cursor"), &answer);
	if (rc)
		return rc;
	cJSON *rows = team_items(answer, ctx, "members");
	int manage = team_can(ctx, "member", "update");
	cJSON_ArrayForEach(m, rows) {
		const char *role = team_str(m, "role");
		team_add_time(m, "joined", "created_at");
		team_add_time(m, "last_login", "last_login_at");
		add_initial(m);
		if (!strcmp(team_str(m, "user_id"), r->auth.user_id))
			cJSON_AddTrueToObject(m, "self");
		/* the API refuses anyone above the viewer's own role: no controls for them */
		if (manage && role_parse(role) <= r->auth.tenant_role) {
			cJSON_AddTrueToObject(m, "manageable");
			cJSON_AddItemToObject(m, "roles",
					      team_role_options(r->auth.tenant_role, role));
		}
	}
	return 0;
}

/* The member's name for "invited by", when they are on this page. */
static const char *member_name(const cJSON *ctx, const char *user_id)
{
	const cJSON *m;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(ctx, "members"))
		if (!strcmp(team_str(m, "user_id"), user_id))
			return team_str(m, "name");
	return "";
}

static int invitations_fill(struct req *r, cJSON *ctx)
{
	cJSON *answer, *v;
	int rc = team_list(r, "/api/v1/tenants/{t}/invitations", NULL, req_query(r, "icursor"),
			   &answer);
	if (rc)
		return rc;
	cJSON *rows = team_items(answer, ctx, "invitations");
	cJSON_ArrayForEach(v, rows) {
		team_add_time(v, "invited", "created_at");
		team_add_time(v, "expires", "expires_at");
		cJSON_AddStringToObject(v, "by", member_name(ctx, team_str(v, "created_by")));
	}
	/* the invite form: roles up to the viewer's own, links valid a week unless changed */
	cJSON_AddItemToObject(ctx, "invite_roles",
			      team_role_options(r->auth.tenant_role, "viewer"));
	return 0;
}

static int workspace_fill(struct req *r, cJSON *ctx)
{
	const char *ws = r->auth.workspace_id;
	cJSON *w = NULL, *answer = NULL, *m;
	int rc = team_call(r, "GET", "/api/v1/workspaces/{id}", ws, NULL, NULL, NULL, &w);
	if (!rc)
		rc = team_list(r, "/api/v1/workspaces/{id}/members", ws, req_query(r, "wcursor"),
			       &answer);
	if (rc) {
		cJSON_Delete(w);
		if (rc != ERR_NOT_FOUND)
			return rc;
		err_clear(&r->err); /* deleted since the page began: the rest still shows */
		return 0;
	}
	cJSON *rows = team_items(answer, w, "members");
	int manage = team_can(ctx, "workspace", "update");
	cJSON_ArrayForEach(m, rows) {
		int tr = role_parse(team_str(m, "tenant_role"));
		if (manage && tr < ROLE_ADMIN && tr <= r->auth.tenant_role) {
			cJSON_AddTrueToObject(m, "overridable");
			cJSON_AddItemToObject(m, "overrides",
					      team_override_options(r->auth.tenant_role,
								    team_str(m, "role")));
		}
	}
	cJSON_AddItemToObject(ctx, "workspace", w);
	return 0;
}

int web_members_page(struct req *r)
{
	struct db *db;
	cJSON *ctx;
	int rc;
	if ((rc = web_app_begin(r, &db, "members", &ctx)) || !ctx)
		return rc;
	rc = members_fill(r, ctx);
	if (!rc && team_can(ctx, "invitation", "read"))
		rc = invitations_fill(r, ctx);
	if (!rc && r->auth.workspace_id[0])
		rc = workspace_fill(r, ctx);
	if (!rc)
		rc = web_render(r, 200, "members", ctx);
	cJSON_Delete(ctx);
	return rc;
}

/* ---- forms ---- */

int web_members_invite(struct req *r)
{
	static const char *const keep[] = { "link", "email", "role", "expires_at" };
	const char *email = req_form(r, "email"), *role = req_form(r, "role");
	const char *days = req_form(r, "expires_days");
	cJSON *body = cJSON_CreateObject();
	int64_t n;
	cJSON_AddStringToObject(body, "email", email ? email : "");
	cJSON_AddStringToObject(body, "role", role ? role : "");
	if (days && !str_to_i64(days, &n) && n > 0 && n <= 30)
		cJSON_AddNumberToObject(body, "expires_in_hours", (double)(n * 24));
	return team_create_shown_once(r, "/api/v1/tenants/{t}/invitations", body, keep,
				      ARRAY_SIZE(keep), INVITED_PAGE, "/members#invite");
}

/* GET /members/invited: the link, once (see team_reveal_put). */
int web_members_invited_page(struct req *r)
{
	struct db *db;
	cJSON *ctx;
	int rc;
	if ((rc = web_app_begin(r, &db, "members", &ctx)) || !ctx)
		return rc;
	cJSON *inv = team_reveal_take(r, INVITED_PAGE);
	if (inv) {
		team_add_time(inv, "expires", "expires_at");
		cJSON_AddItemToObject(ctx, "invitation", inv);
	}
	cJSON_AddTrueToObject(ctx, "invited_page");
	rc = web_render(r, 200, "settings_reveal", ctx);
	cJSON_Delete(ctx);
	return rc;
}

int web_member_role(struct req *r)
{
	const char *role = req_form(r, "role");
	cJSON *body = cJSON_CreateObject(), *answer = NULL;
	const char *ok = NULL;
	int rc = 0;
	cJSON_AddStringToObject(body, "role", role ? role : "");
	if (r->auth.kind == AUTH_COOKIE)
		rc = team_call(r, "PATCH", "/api/v1/tenants/{t}/members/{user_id}", NULL,
			       req_param(r, 0), NULL, body, &answer);
	cJSON_Delete(body);
	if (r->auth.kind != AUTH_COOKIE)
		return req_redirect(r, 303, "/login");
	if (!rc)
		ok = arena_printf(r->arena, "%s is now %s.", team_str(answer, "name"),
				  team_str(answer, "role"));
	cJSON_Delete(answer);
	return web_form_done(r, rc, "/members", ok, NULL);
}

int web_member_remove(struct req *r)
{
	return team_form(r, "DELETE", "/api/v1/tenants/{t}/members/{user_id}", NULL,
			 req_param(r, 0), NULL, "/members",
			 "Member removed; their sessions have ended.");
}

int web_invitation_revoke(struct req *r)
{
	return team_form(r, "DELETE", "/api/v1/tenants/{t}/invitations/{id}", NULL,
			 req_param(r, 0), NULL, "/members",
			 "Invitation revoked: its link no longer works.");
}

/* POST /members/workspaces/{id}/{user_id}/role: role "" clears the override. */
int web_workspace_member_role(struct req *r)
{
	return team_form(r, "PUT", "/api/v1/workspaces/{id}/members/{user_id}", req_param(r, 0),
			 req_param(r, 1), team_override_body(req_form(r, "role")), "/members#workspace",
			 "Workspace role saved.");
}
