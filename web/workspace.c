/*
 * GET /workspaces/{id}: one workspace, who works in it and with which role
 * (a workspace role overrides the organization role below admin), and for
 * admins the forms that add a member of the organization, change or clear
 * an override, remove someone, rename and delete the workspace. Each form is
 * answered by the API's own route (web/team.c), so this page can never allow
 * what the API refuses: a forced post by a viewer is a 403 notice.
 */
#include <string.h>

#include "web/web.h"
#include "web/team_internal.h"
#include "auth/auth.h"
#include "db/db.h"
#include "server/server.h"
#include "core/core.h"

#define WS_MEMBERS "/api/v1/workspaces/{id}/members/{user_id}"

/* "/workspaces/<param 0>" and a fragment, for the forms' redirects. */
static const char *page_url(struct req *r, const char *fragment)
{
	return arena_printf(r->arena, "/workspaces/%s%s", req_param(r, 0), fragment);
}

static int has_member(const cJSON *members, const char *user_id)
{
	const cJSON *m;
	cJSON_ArrayForEach(m, members)
		if (!strcmp(team_str(m, "user_id"), user_id))
			return 1;
	return 0;
}

/* ctx.candidates: the organization's members below admin (admins and owners work in every
 * workspace already) who are not in this one, for the add form. */
static int candidates_fill(struct req *r, cJSON *ctx, const cJSON *members)
{
	cJSON *answer = NULL, *m, *next;
	int rc = team_call(r, "GET", "/api/v1/tenants/{t}/members", NULL, NULL, "limit=100", NULL,
			   &answer);
	if (rc)
		return rc;
	cJSON *all = cJSON_GetObjectItemCaseSensitive(answer, "items");
	cJSON *list = cJSON_AddArrayToObject(ctx, "candidates");
	for (m = all ? all->child : NULL; m; m = next) {
		next = m->next;
		if (role_parse(team_str(m, "role")) < ROLE_ADMIN &&
		    !has_member(members, team_str(m, "user_id")))
			cJSON_AddItemToArray(list, cJSON_DetachItemViaPointer(all, m));
	}
	cJSON_Delete(answer);
	cJSON_AddBoolToObject(ctx, "has_candidates", cJSON_GetArraySize(list) > 0);
	cJSON_AddItemToObject(ctx, "add_roles", team_override_options(r->auth.tenant_role, ""));
	return 0;
}

static int members_fill(struct req *r, cJSON *ctx)
{
	const char *id = req_param(r, 0);
	cJSON *answer = NULL, *m;
	int rc = team_list(r, "/api/v1/workspaces/{id}/members", id, req_query(r, "cursor"),
			   &answer);
	if (rc)
		return rc;
	cJSON *rows = team_items(answer, ctx, "members");
	int manage = team_can(ctx, "workspace", "update");
	cJSON_ArrayForEach(m, rows) {
		int tr = role_parse(team_str(m, "tenant_role"));
		if (!strcmp(team_str(m, "user_id"), r->auth.user_id))
			cJSON_AddTrueToObject(m, "self");
		if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(m, "role")) && tr < ROLE_ADMIN)
			cJSON_AddTrueToObject(m, "overridden");
		/* the API refuses an override above the viewer's own role: no control then */
		if (manage && tr < ROLE_ADMIN && tr <= r->auth.tenant_role) {
			cJSON_AddTrueToObject(m, "overridable");
			cJSON_AddItemToObject(m, "overrides",
					      team_override_options(r->auth.tenant_role,
								    team_str(m, "role")));
		}
	}
	return manage ? candidates_fill(r, ctx, rows) : 0;
}

int web_workspace_page(struct req *r)
{
	const char *id = req_param(r, 0);
	cJSON *ctx, *w = NULL;
	struct db *db;
	int rc;
	if ((rc = web_app_begin(r, &db, "workspaces", &ctx)) || !ctx)
		return rc;
	rc = team_call(r, "GET", "/api/v1/workspaces/{id}", id, NULL, NULL, NULL, &w);
	if (rc == ERR_NOT_FOUND) { /* missing, another tenant's, or not one of the viewer's */
		err_clear(&r->err);
		cJSON_AddTrueToObject(ctx, "missing");
		rc = web_render(r, 404, "workspace", ctx);
		cJSON_Delete(ctx);
		return rc;
	}
	if (!rc) {
		team_add_time(w, "created", "created_at");
		if (!strcmp(team_str(w, "id"), r->auth.workspace_id))
			cJSON_AddTrueToObject(w, "current");
		cJSON_AddItemToObject(ctx, "ws", w);
		cJSON_AddNumberToObject(ctx, "slug_max", TENANCY_SLUG_MAX);
		rc = members_fill(r, ctx);
	} else {
		cJSON_Delete(w);
	}
	if (!rc)
		rc = web_render(r, 200, "workspace", ctx);
	cJSON_Delete(ctx);
	return rc;
}

/* ---- forms ---- */

/* POST /workspaces/{id}/members {user_id, role}: add a member of the organization. */
int web_workspace_member_add(struct req *r)
{
	const char *user = req_form(r, "user_id");
	if (r->auth.kind == AUTH_COOKIE && (!user || !*user)) {
		err_set(&r->err, ERR_INVALID, NULL, "choose who to add");
		return web_form_done(r, ERR_INVALID, page_url(r, "#add"), NULL, NULL);
	}
	return team_form(r, "PUT", WS_MEMBERS, req_param(r, 0), user,
			 team_override_body(req_form(r, "role")), page_url(r, "#members"),
			 "Added to the workspace.");
}

/* POST /workspaces/{id}/members/{user_id}/role {role}: "" clears the override. */
int web_workspace_member_set(struct req *r)
{
	return team_form(r, "PUT", WS_MEMBERS, req_param(r, 0), req_param(r, 1),
			 team_override_body(req_form(r, "role")), page_url(r, "#members"),
			 "Workspace role saved.");
}

/* POST /workspaces/{id}/members/{user_id}/remove */
int web_workspace_member_drop(struct req *r)
{
	return team_form(r, "DELETE", WS_MEMBERS, req_param(r, 0), req_param(r, 1), NULL,
			 page_url(r, "#members"), "Removed from the workspace.");
}

/* POST /workspaces/{id}/edit {name, slug, description}: an empty slug keeps the one it has. */
int web_workspace_update(struct req *r)
{
	const char *name = req_form(r, "name"), *slug = req_form(r, "slug");
	const char *desc = req_form(r, "description");
	cJSON *body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "name", name ? name : "");
	if (slug && *slug)
		cJSON_AddStringToObject(body, "slug", slug);
	cJSON_AddStringToObject(body, "description", desc ? desc : "");
	return team_form(r, "PATCH", "/api/v1/workspaces/{id}", req_param(r, 0), NULL, body,
			 page_url(r, "#settings"), "Workspace saved.");
}

/* POST /workspaces/{id}/delete: the default workspace is refused by the API (409). */
int web_workspace_delete(struct req *r)
{
	cJSON *answer = NULL;
	int rc = 0;
	if (r->auth.kind == AUTH_COOKIE)
		rc = team_call(r, "DELETE", "/api/v1/workspaces/{id}", req_param(r, 0), NULL, NULL,
			       NULL, &answer);
	cJSON_Delete(answer);
	if (r->auth.kind != AUTH_COOKIE)
		return req_redirect(r, 303, "/login");
	return web_form_done(r, rc, "/workspaces", "Workspace deleted, with everything in it.",
			     page_url(r, "#delete"));
}
