/*
 * /api/v1/workspaces: CRUD and member lists within the caller's tenant.
 * Admins and owners see every workspace; others only those they belong to
 * (any other answers 404, like a missing one). Creating one takes a unit of
 * the "workspaces" quota in the same transaction (429 quota_exceeded).
 */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/tenancy_internal.h"
#include "auth/auth.h"
#include "db/db.h"
#include "server/server.h"
#include "core/core.h"

static cJSON *ws_json(const struct workspace_info *w)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "id", w->id);
	cJSON_AddStringToObject(j, "slug", w->slug);
	cJSON_AddStringToObject(j, "name", w->name);
	cJSON_AddStringToObject(j, "description", w->description);
	cJSON_AddBoolToObject(j, "is_default", w->is_default);
	api_add_time(j, "created_at", w->created_at);
	api_add_time(j, "updated_at", w->updated_at);
	return j;
}

static int ws_not_found(struct req *r)
{
	return req_fail(r, ERR_NOT_FOUND, "not_found", NULL, "no such workspace");
}

/* Param 0 as a workspace the caller may see. */
static int ws_visible(struct req *r, struct db *db, struct workspace_info *w)
{
	char id[UUID_STR_LEN];
	int role = ROLE_NONE, rc = 0;
	if (r->auth.tenant_role < ROLE_ADMIN)
		rc = store_workspace_resolve(db, r->auth.tenant_id, r->auth.user_id,
					     r->auth.tenant_role, req_param(r, 0), id, &role, &r->err);
	if (!rc)
		rc = store_workspace_get(db, r->auth.tenant_id, req_param(r, 0), w, &r->err);
	/* An API key sees only the workspace it is bound to, whatever its role. */
	if (!rc && r->auth.kind == AUTH_API_KEY && strcmp(w->id, r->auth.workspace_id))
		rc = ERR_NOT_FOUND;
	return rc == ERR_NOT_FOUND ? ws_not_found(r) : rc;
}

/* Lower-case letters, digits and inner dashes; never shaped like an id. */
static int slug_valid(const char *s)
{
	size_t n = strlen(s), dashes = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '-')
			dashes++;
		else if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			return 0;
	}
	return n >= 1 && n <= TENANCY_SLUG_MAX && s[0] != '-' && s[n - 1] != '-' &&
	       !(n == UUID_STR_LEN - 1 && dashes == 4);
}

/* "Data Science!" -> "data-science"; "workspace" when nothing is left. */
static char *slug_from_name(struct req *r, const char *name)
{
	char *out = arena_alloc(r->arena, TENANCY_SLUG_MAX + 1);
	size_t o = 0;
	int dash = 0;
	for (const char *p = name; *p && o < TENANCY_SLUG_MAX - 8; p++) {
		char c = (*p >= 'A' && *p <= 'Z') ? (char)(*p | 0x20) : *p;
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (dash && o)
				out[o++] = '-';
			out[o++] = c;
			dash = 0;
		} else {
			dash = 1;
		}
	}
	out[o] = '\0';
	return o ? out : arena_strdup(r->arena, "workspace");
}

/* An explicit slug must be free (409 slug_taken at insert); a derived one
 * that is taken gets a random suffix. */
static int ws_slug(struct req *r, struct db *db, const char *name, const char **slug)
{
	struct workspace_info other;
	if (*slug)
		return 0;
	*slug = slug_from_name(r, name);
	int rc = store_workspace_get(db, r->auth.tenant_id, *slug, &other, &r->err);
	if (rc == ERR_NOT_FOUND) {
		err_clear(&r->err);
		return 0;
	}
	unsigned char rnd[3];
	char hex[7];
	random_bytes(rnd, sizeof(rnd));
	hex_encode(rnd, sizeof(rnd), hex);
	*slug = arena_printf(r->arena, "%s-%s", *slug, hex);
	return rc;
}

static int ws_parse(struct req *r, int required, const char **name, const char **slug,
		    const char **description)
{
	static const char *const fields[] = { "name", "slug", "description", NULL };
	int rc;
	*name = *slug = *description = NULL;
	if ((rc = json_only_fields(r->json, fields, &r->err)) ||
	    (rc = tenancy_json_text(r, "name", required ? JSON_REQUIRED : JSON_NULLABLE,
				    TENANCY_NAME_MAX, name)) < 0 ||
	    (rc = json_get_str(r->json, "slug", JSON_NULLABLE, TENANCY_SLUG_MAX, slug,
			       &r->err)) < 0 ||
	    (rc = json_get_str(r->json, "description", JSON_NULLABLE, TENANCY_DESC_MAX,
			       description, &r->err)) < 0)
		return rc;
	if (*slug && !slug_valid(*slug))
		return req_fail(r, ERR_INVALID, "invalid_field", "slug",
				"'slug' takes a-z, 0-9 and inner dashes");
	return 0;
}

int api_workspaces_list(struct req *r)
{
	const char *after;
	struct db *db;
	int limit, n = 0, rc;
	if ((rc = tenancy_page_params(r, &limit, &after)) || (rc = req_db(r, &db)))
		return rc;
	struct workspace_info *items = arena_alloc(r->arena, sizeof(*items) * (size_t)(limit + 1));
	rc = store_workspaces_list(db, r->auth.tenant_id,
				   r->auth.tenant_role >= ROLE_ADMIN ? NULL : r->auth.user_id, after,
				   items, limit + 1, &n, &r->err);
	if (rc)
		return rc;
	cJSON *arr = cJSON_CreateArray();
	for (int i = 0; i < n && i < limit; i++)
		if (r->auth.kind != AUTH_API_KEY || !strcmp(items[i].id, r->auth.workspace_id))
			cJSON_AddItemToArray(arr, ws_json(&items[i]));
	const struct workspace_info *last = n > limit ? &items[limit - 1] : NULL;
	return tenancy_page_render(r, arr, last != NULL, last ? last->created_at : 0,
				   last ? last->id : NULL);
}

int api_workspaces_create(struct req *r)
{
	struct workspace_info in, out;
	const char *name, *slug, *desc;
	struct db *db;
	int rc;
	if (r->auth.kind == AUTH_API_KEY)
		return req_fail(r, ERR_FORBIDDEN, "workspace_forbidden", NULL,
				"an API key is bound to one workspace and cannot create others");
	memset(&in, 0, sizeof(in));
	if ((rc = ws_parse(r, 1, &name, &slug, &desc)) || (rc = tenancy_begin(r, &db)))
		return rc;
	if (!(rc = ws_slug(r, db, name, &slug))) {
		str_copy(in.slug, sizeof(in.slug), slug);
		str_copy(in.name, sizeof(in.name), name);
		str_copy(in.description, sizeof(in.description), desc ? desc : "");
		rc = store_workspace_create(db, r->auth.tenant_id, &in, &out, &r->err);
	}
	if (!rc) {
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "slug", out.slug);
		cJSON_AddStringToObject(d, "name", out.name);
		rc = req_audit(r, "workspace.created", "workspace", out.id, "success", d);
	}
	if ((rc = tenancy_finish(r, db, rc)))
		return rc;
	return req_json(r, 201, ws_json(&out));
}

int api_workspaces_get(struct req *r)
{
	struct workspace_info w;
	struct db *db;
	int rc;
	if ((rc = req_db(r, &db)) || (rc = ws_visible(r, db, &w)))
		return rc;
	return req_json(r, 200, ws_json(&w));
}

int api_workspaces_update(struct req *r)
{
	struct workspace_info w;
	const char *name, *slug, *desc;
	struct db *db;
	int rc;
	if ((rc = ws_parse(r, 0, &name, &slug, &desc)) || (rc = tenancy_begin(r, &db)))
		return rc;
	if (!(rc = ws_visible(r, db, &w)) &&
	    !(rc = store_workspace_update(db, r->auth.tenant_id, w.id, slug, name, desc,
					  &r->err))) {
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "slug", slug ? slug : w.slug);
		cJSON_AddStringToObject(d, "name", name ? name : w.name);
		rc = req_audit(r, "workspace.updated", "workspace", w.id, "success", d);
	}
	if (!rc) {
		char id[UUID_STR_LEN];
		str_copy(id, sizeof(id), w.id);
		rc = store_workspace_get(db, r->auth.tenant_id, id, &w, &r->err);
	}
	if ((rc = tenancy_finish(r, db, rc)))
		return rc;
	return req_json(r, 200, ws_json(&w));
}

int api_workspaces_delete(struct req *r)
{
	struct workspace_info w;
	struct db *db;
	int rc;
	if ((rc = tenancy_begin(r, &db)))
		return rc;
	if (!(rc = ws_visible(r, db, &w)) &&
	    !(rc = store_workspace_delete(db, r->auth.tenant_id, w.id, &r->err))) {
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "slug", w.slug);
		rc = req_audit(r, "workspace.deleted", "workspace", w.id, "success", d);
	}
	if ((rc = tenancy_finish(r, db, rc)))
		return rc;
	r->status = 204;
	return 0;
}

/* --- members --------------------------------------------------------------------------- */

static cJSON *ws_member_json(const struct workspace_member_info *m)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "user_id", m->user_id);
	cJSON_AddStringToObject(j, "email", m->email);
	cJSON_AddStringToObject(j, "name", m->name);
	cJSON_AddStringToObject(j, "tenant_role", m->tenant_role);
	if (m->role[0])
		cJSON_AddStringToObject(j, "role", m->role);
	else
		cJSON_AddNullToObject(j, "role");
	/* What applies here: admins and owners keep theirs, else the override. */
	int tr = role_parse(m->tenant_role);
	cJSON_AddStringToObject(j, "effective_role",
				tr >= ROLE_ADMIN || !m->role[0] ? m->tenant_role : m->role);
	api_add_time(j, "created_at", m->created_at);
	return j;
}

int api_workspace_members_list(struct req *r)
{
	struct workspace_info w;
	const char *after;
	struct db *db;
	int limit, n = 0, rc;
	if ((rc = tenancy_page_params(r, &limit, &after)) || (rc = req_db(r, &db)) ||
	    (rc = ws_visible(r, db, &w)))
		return rc;
	struct workspace_member_info *items =
		arena_alloc(r->arena, sizeof(*items) * (size_t)(limit + 1));
	if ((rc = store_workspace_members_list(db, r->auth.tenant_id, w.id, after, items,
					       limit + 1, &n, &r->err)))
		return rc;
	cJSON *arr = cJSON_CreateArray();
	for (int i = 0; i < n && i < limit; i++)
		cJSON_AddItemToArray(arr, ws_member_json(&items[i]));
	const struct workspace_member_info *last = n > limit ? &items[limit - 1] : NULL;
	return tenancy_page_render(r, arr, last != NULL, last ? last->created_at : 0,
				   last ? last->user_id : NULL);
}

int api_workspace_members_put(struct req *r)
{
	static const char *const fields[] = { "role", NULL };
	struct workspace_info w;
	int role = ROLE_NONE, created = 0, rc;
	struct db *db;
	if ((rc = json_only_fields(r->json, fields, &r->err)) ||
	    (rc = tenancy_json_role(r, "role", JSON_NULLABLE, &role)) < 0 ||
	    (rc = tenancy_role_cap(r, role, "role")) || (rc = tenancy_begin(r, &db)))
		return rc;
	const char *role_s = role ? role_name(role) : NULL, *user = req_param(r, 1);
	if (!(rc = ws_visible(r, db, &w)) &&
	    !(rc = store_workspace_member_put(db, r->auth.tenant_id, w.id, user, role_s,
					      &created, &r->err))) {
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "user_id", user);
		if (role_s)
			cJSON_AddStringToObject(d, "role", role_s);
		else
			cJSON_AddNullToObject(d, "role");
		rc = req_audit(r, "workspace.member_set", "workspace", w.id, "success", d);
	}
	if ((rc = tenancy_finish(r, db, rc)))
		return rc;
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "workspace_id", w.id);
	cJSON_AddStringToObject(j, "user_id", user);
	if (role_s)
		cJSON_AddStringToObject(j, "role", role_s);
	else
		cJSON_AddNullToObject(j, "role");
	return req_json(r, created ? 201 : 200, j);
}

int api_workspace_members_delete(struct req *r)
{
	struct workspace_info w;
	const char *user = req_param(r, 1);
	struct db *db;
	int rc;
	if ((rc = tenancy_begin(r, &db)))
		return rc;
	if (!(rc = ws_visible(r, db, &w))) {
		rc = store_workspace_member_remove(db, r->auth.tenant_id, w.id, user, &r->err);
		if (rc == ERR_NOT_FOUND)
			rc = req_fail(r, ERR_NOT_FOUND, "not_found", NULL, "no such workspace member");
	}
	if (!rc) {
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "user_id", user);
		rc = req_audit(r, "workspace.member_removed", "workspace", w.id, "success", d);
	}
	if ((rc = tenancy_finish(r, db, rc)))
		return rc;
	r->status = 204;
	return 0;
}
