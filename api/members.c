/*
 * /api/v1/tenants/{t}/members: list, change a role, remove. An admin can
 * neither grant a role above their own nor touch someone above them; the
 * last owner stays (409 last_owner). A role change or removal ends all of
 * that user's sessions in the tenant, in the same transaction.
 */
#include <string.h>

#include "api/api.h"
#include "api/tenancy_internal.h"
#include "auth/auth.h"
#include "db/db.h"
#include "server/server.h"
#include "core/core.h"

static cJSON *member_json(const struct member_info *m)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "user_id", m->user_id);
	cJSON_AddStringToObject(j, "email", m->email);
	cJSON_AddStringToObject(j, "name", m->name);
	cJSON_AddStringToObject(j, "role", m->role);
	api_add_time(j, "created_at", m->created_at);
	api_add_time(j, "last_login_at", m->last_login_at);
	return j;
}

int api_members_list(struct req *r)
{
	char slug[TENANCY_SLUG_MAX + 1];
	const char *after;
	struct db *db;
	int limit, n = 0, rc;
	if ((rc = api_tenant_param(r, 0, slug, sizeof(slug))) ||
	    (rc = tenancy_page_params(r, &limit, &after)) || (rc = req_db(r, &db)))
		return rc;
	struct member_info *items = arena_alloc(r->arena, sizeof(*items) * (size_t)(limit + 1));
	if ((rc = store_members_list(db, r->auth.tenant_id, after, items, limit + 1, &n, &r->err)))
		return rc;
	cJSON *arr = cJSON_CreateArray();
	for (int i = 0; i < n && i < limit; i++)
		cJSON_AddItemToArray(arr, member_json(&items[i]));
	const struct member_info *last = n > limit ? &items[limit - 1] : NULL;
	return tenancy_page_render(r, arr, last != NULL, last ? last->created_at : 0,
				   last ? last->user_id : NULL);
}

/*
 * Lock the tenant's memberships, then check against the caller's role as it
 * is now (a concurrent change may have lowered it since the request was
 * authenticated): the target may not rank above it, nor may the new role
 * (grant; ROLE_NONE for a removal). Loads the target into m.
 */
static int target_load(struct req *r, struct db *db, int grant, struct member_info *m)
{
	struct member_info me;
	int rc = store_tenant_lock(db, r->auth.tenant_id, &r->err), mine;
	if (!rc)
		rc = store_member_get(db, r->auth.tenant_id, r->auth.user_id, &me, &r->err);
	if (rc == ERR_NOT_FOUND)
		return req_fail(r, ERR_FORBIDDEN, "forbidden", NULL, "you are no longer a member");
	if (!rc)
		rc = store_member_get(db, r->auth.tenant_id, req_param(r, 1), m, &r->err);
	if (rc == ERR_NOT_FOUND)
		return req_fail(r, ERR_NOT_FOUND, "not_found", NULL, "no such member");
	mine = role_parse(me.role) < r->auth.tenant_role ? role_parse(me.role) : r->auth.tenant_role;
	if (!rc && (role_parse(m->role) > mine || grant > mine))
		rc = req_fail(r, ERR_FORBIDDEN, "role_too_high", NULL,
			      "you cannot change a member above your role, or grant a role above it");
	return rc;
}

static int role_change(struct req *r, struct db *db, int role, struct member_info *m)
{
	int rc = target_load(r, db, role, m);
	if (rc || !strcmp(m->role, role_name(role)))
		return rc;
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "from", m->role);
	cJSON_AddStringToObject(d, "to", role_name(role));
	if ((rc = store_member_set_role(db, r->auth.tenant_id, m->user_id, role_name(role),
					&r->err)) ||
	    (rc = store_sessions_revoke_user(db, r->auth.tenant_id, m->user_id, "role_changed",
					     &r->err))) {
		cJSON_Delete(d);
		return rc;
	}
	str_copy(m->role, sizeof(m->role), role_name(role));
	return req_audit(r, "member.role_changed", "member", m->user_id, "success", d);
}

int api_members_update(struct req *r)
{
	static const char *const fields[] = { "role", NULL };
	char slug[TENANCY_SLUG_MAX + 1];
	struct member_info m;
	struct db *db;
	int role, rc;
	if ((rc = json_only_fields(r->json, fields, &r->err)) ||
	    (rc = tenancy_json_role(r, "role", JSON_REQUIRED, &role)) ||
	    (rc = tenancy_role_cap(r, role, "role")) ||
	    (rc = api_tenant_param(r, 0, slug, sizeof(slug))) || (rc = tenancy_begin(r, &db)))
		return rc;
	if ((rc = tenancy_finish(r, db, role_change(r, db, role, &m))))
		return rc;
	return req_json(r, 200, member_json(&m));
}

int api_members_delete(struct req *r)
{
	char slug[TENANCY_SLUG_MAX + 1];
	struct member_info m;
	struct db *db;
	int rc;
	if ((rc = api_tenant_param(r, 0, slug, sizeof(slug))) || (rc = tenancy_begin(r, &db)))
		return rc;
	if (!(rc = target_load(r, db, ROLE_NONE, &m)) &&
	    !(rc = store_member_remove(db, r->auth.tenant_id, m.user_id, &r->err)) &&
	    !(rc = store_sessions_revoke_user(db, r->auth.tenant_id, m.user_id, "member_removed",
					      &r->err))) {
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "email", m.email);
		cJSON_AddStringToObject(d, "role", m.role);
		rc = req_audit(r, "member.removed", "member", m.user_id, "success", d);
	}
	if ((rc = tenancy_finish(r, db, rc)))
		return rc;
	r->status = 204;
	return 0;
}
