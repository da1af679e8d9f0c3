/*
 * Team workspaces in the dashboard: the switcher in the app shell, the
 * browser's pick it leaves (the px_ws cookie, which server/authn.c reads for
 * every cookie-authenticated request that names no workspace), the list at
 * GET /workspaces and its create form. Reads and writes go through the API
 * routes (web/team.c), so the switcher offers exactly the workspaces the API
 * would let this user act in, and a forced post is refused as over HTTP.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <civetweb.h>

#include "web/web.h"
#include "web/team_internal.h"
#include "auth/auth.h"
#include "db/db.h"
#include "server/server.h"
#include "core/core.h"

#define WS_COOKIE     "px_ws"
#define WS_COOKIE_AGE "31536000"  /* a year: a pick outlives sessions, like a theme */
#define WS_LIST_QUERY "limit=100" /* the API's most: one call lists a tenant's workspaces */
_Static_assert(TENANCY_LIST_MAX == 100, "WS_LIST_QUERY asks for TENANCY_LIST_MAX rows");

const char *web_workspace_chosen(struct req *r, char *out, size_t size)
{
	const char *h = req_header(r, "Cookie");
	if (!h || size < UUID_STR_LEN || mg_get_cookie(h, WS_COOKIE, out, size) != UUID_STR_LEN - 1)
		return NULL;
	/* only an id's shape reaches the query: a slug or junk in the cookie is no pick */
	for (const char *p = out; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || *p == '-'))
			return NULL;
	return out;
}

static int ws_order(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	int dx = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x, "is_default"));
	int dy = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(y, "is_default"));
	if (dx != dy)
		return dy - dx;
	return strcasecmp(team_str(x, "name"), team_str(y, "name"));
}

/* The API lists workspaces by id, which is creation order at best: people look for a
 * name, so the default one first, then by name. */
static void ws_sort(cJSON *list)
{
	int n = cJSON_GetArraySize(list);
	cJSON **items = n > 0 ? calloc((size_t)n, sizeof(*items)) : NULL;
	if (!items)
		return;
	for (int i = 0; i < n; i++)
		items[i] = cJSON_DetachItemFromArray(list, 0);
	qsort(items, (size_t)n, sizeof(*items), ws_order);
	for (int i = 0; i < n; i++)
		cJSON_AddItemToArray(list, items[i]);
	free(items);
}

/* GET a workspace list route for p0 (NULL: none), up to the API's maximum of 100 rows
 * from cursor (NULL: the start), in *answer. A forged cursor starts from the top. */
static int ws_list(struct req *r, const char *pattern, const char *p0, const char *cursor,
		   cJSON **answer)
{
	char enc[256];
	const char *q = WS_LIST_QUERY;
	if (cursor && mg_url_encode(cursor, enc, sizeof(enc)) > 0)
		q = arena_printf(r->arena, "%s&cursor=%s", q, enc);
	int rc = team_call(r, "GET", pattern, p0, NULL, q, NULL, answer);
	if (rc == ERR_INVALID && cursor) {
		err_clear(&r->err);
		rc = team_call(r, "GET", pattern, p0, NULL, WS_LIST_QUERY, NULL, answer);
	}
	return rc;
}

/* Where the switcher comes back to: the same section ("/patterns/x/versions" ->
 * "/patterns"), since what a page names belongs to the workspace it leaves; a workspace's
 * own page is the organization's and stays. */
static const char *switch_next(struct req *r)
{
	const char *p = r->path, *slash = strchr(p + 1, '/');
	if (!slash || str_has_prefix(p, "/workspaces/"))
		return web_safe_next(p) ? p : "/";
	return arena_printf(r->arena, "%.*s", (int)(slash - p), p);
}

void web_workspace_shell(struct req *r, cJSON *ctx)
{
	cJSON *answer = NULL, *w;
	if (!team_can(ctx, "workspace", "read"))
		return;
	if (ws_list(r, "/api/v1/workspaces", NULL, NULL, &answer)) {
		err_clear(&r->err); /* the page still shows, without the switcher */
		return;
	}
	cJSON *list = cJSON_CreateArray();
	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(answer, "items")) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", team_str(w, "id"));
		cJSON_AddStringToObject(o, "name", team_str(w, "name"));
		cJSON_AddBoolToObject(o, "is_default",
				      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(w, "is_default")));
		if (!strcmp(team_str(w, "id"), r->auth.workspace_id)) {
			cJSON_AddTrueToObject(o, "current");
			cJSON *cur = cJSON_AddObjectToObject(ctx, "current_workspace");
			cJSON_AddStringToObject(cur, "id", team_str(w, "id"));
			cJSON_AddStringToObject(cur, "name", team_str(w, "name"));
		}
		cJSON_AddItemToArray(list, o);
	}
	cJSON_Delete(answer);
	ws_sort(list);
	cJSON_AddItemToObject(ctx, "workspace_choices", list);
	cJSON_AddStringToObject(ctx, "switch_next", switch_next(r));
}

/* The workspace id_or_slug names, if this user may act in it: the same check as the
 * X-Parallax-Workspace header (store_workspace_resolve), whatever the role there. */
static int ws_usable(struct req *r, const char *id_or_slug, struct workspace_info *w)
{
	char id[UUID_STR_LEN];
	int role = ROLE_NONE, rc;
	struct db *db;
	if ((rc = req_db(r, &db)))
		return rc;
	rc = !id_or_slug || !*id_or_slug || strlen(id_or_slug) > TENANCY_SLUG_MAX ?
		     ERR_NOT_FOUND :
		     store_workspace_resolve(db, r->auth.tenant_id, r->auth.user_id,
					     r->auth.tenant_role, id_or_slug, id, &role, &r->err);
	if (!rc)
		rc = store_workspace_get(db, r->auth.tenant_id, id, w, &r->err);
	if (rc == ERR_NOT_FOUND) { /* one message for missing, another tenant's and not a member */
		err_clear(&r->err);
		err_set(&r->err, ERR_NOT_FOUND, NULL,
			"no such workspace, or you are not a member of it");
	}
	return rc;
}

/* POST /workspace {workspace, next}: a usable workspace is kept as this browser's pick, and
 * it goes back to next (a same-origin path, else "/"); a refusal changes no cookie. */
int web_workspace_switch(struct req *r)
{
	const char *next = req_form(r, "next"), *ok = NULL;
	struct workspace_info w;
	int rc;
	if (r->auth.kind != AUTH_COOKIE)
		return req_redirect(r, 303, "/login");
	if (!web_safe_next(next))
		next = "/";
	if ((rc = ws_usable(r, req_form(r, "workspace"), &w)) && rc != ERR_NOT_FOUND)
		return rc;
	if (!rc) {
		req_add_header(r, "Set-Cookie",
			       arena_printf(r->arena,
					    WS_COOKIE "=%s; Path=/; Max-Age=" WS_COOKIE_AGE
						      "; HttpOnly; SameSite=Lax%s",
					    w.id,
					    mg_get_request_info(r->conn)->is_ssl ? "; Secure" : ""));
		ok = arena_printf(r->arena, "Now in the workspace %s.", w.name);
	}
	return web_form_done(r, rc, next, ok, NULL);
}

/* ---- GET /workspaces ---- */

/* Members of each listed workspace: "100+" past what one call returns. */
static void add_member_counts(struct req *r, cJSON *rows)
{
	cJSON *w, *answer;
	cJSON_ArrayForEach(w, rows) {
		if (ws_list(r, "/api/v1/workspaces/{id}/members", team_str(w, "id"), NULL,
			    &answer)) {
			err_clear(&r->err); /* deleted meanwhile: no count */
			continue;
		}
		int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(answer, "items"));
		int more = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(answer, "next_cursor"));
		cJSON_AddStringToObject(w, "members",
					arena_printf(r->arena, "%d%s", n, more ? "+" : ""));
		cJSON_AddStringToObject(w, "members_label",
					n == 1 && !more ? "member" : "members");
		cJSON_Delete(answer);
	}
}

int web_workspaces_page(struct req *r)
{
	cJSON *ctx, *answer, *w;
	struct db *db;
	int rc;
	if ((rc = web_app_begin(r, &db, "workspaces", &ctx)) || !ctx)
		return rc;
	if ((rc = ws_list(r, "/api/v1/workspaces", NULL, req_query(r, "cursor"), &answer))) {
		cJSON_Delete(ctx);
		return rc;
	}
	cJSON *rows = team_items(answer, ctx, "workspaces");
	ws_sort(rows);
	cJSON_ArrayForEach(w, rows) {
		team_add_time(w, "created", "created_at");
		if (!strcmp(team_str(w, "id"), r->auth.workspace_id))
			cJSON_AddTrueToObject(w, "current");
	}
	add_member_counts(r, rows);
	cJSON_AddNumberToObject(ctx, "slug_max", TENANCY_SLUG_MAX);
	rc = web_render(r, 200, "workspaces", ctx);
	cJSON_Delete(ctx);
	return rc;
}

/* POST /workspaces {name, slug?, description?}: to the new workspace's page, to add people. */
int web_workspace_create(struct req *r)
{
	const char *name = req_form(r, "name"), *slug = req_form(r, "slug");
	const char *desc = req_form(r, "description"), *to = "/workspaces", *ok = NULL;
	cJSON *body = cJSON_CreateObject(), *answer = NULL;
	int rc = 0;
	cJSON_AddStringToObject(body, "name", name ? name : "");
	if (slug && *slug)
		cJSON_AddStringToObject(body, "slug", slug);
	if (desc && *desc)
		cJSON_AddStringToObject(body, "description", desc);
	if (r->auth.kind == AUTH_COOKIE)
		rc = team_call(r, "POST", "/api/v1/workspaces", NULL, NULL, NULL, body, &answer);
	cJSON_Delete(body);
	if (r->auth.kind != AUTH_COOKIE)
		return req_redirect(r, 303, "/login");
	if (!rc) {
		to = arena_printf(r->arena, "/workspaces/%s", team_str(answer, "id"));
		ok = arena_printf(r->arena, "Workspace %s created. Add the people who work in it.",
				  team_str(answer, "name"));
	}
	cJSON_Delete(answer);
	return web_form_done(r, rc, to, ok, "/workspaces#new");
}
