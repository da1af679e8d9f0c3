/*
 * GET/PATCH/DELETE /api/v1/tenants/{t}: the caller's own tenant ({t} is its
 * id or slug; any other answers 404 like a missing one), and the helpers the
 * other tenancy handlers share (api/tenancy_internal.h).
 */
#include <string.h>

#include "api/api.h"
#include "api/tenancy_internal.h"
#include "auth/auth.h"
#include "db/db.h"
#include "server/server.h"
#include "core/core.h"

_Static_assert(ROLE_VIEWER == 1 && ROLE_OPERATOR == 2 && ROLE_DEVELOPER == 3 &&
		       ROLE_ADMIN == 4 && ROLE_OWNER == 5,
	       "db/store.h's role numbering must match enum role");

/* --- shared helpers -------------------------------------------------------------- */

int tenancy_json_text(struct req *r, const char *key, int flags, size_t max, const char **out)
{
	int rc = json_get_str(r->json, key, flags, max, out, &r->err);
	if (rc)
		return rc;
	if (!**out)
		return req_fail(r, ERR_INVALID, "invalid_field", key, "'%s' must not be empty", key);
	for (const char *p = *out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return req_fail(r, ERR_INVALID, "invalid_field", key,
					"'%s' contains control characters", key);
	return 0;
}

int tenancy_json_email(struct req *r, const char *key, const char **out)
{
	const char *s, *at;
	int rc = tenancy_json_text(r, key, JSON_REQUIRED, TENANCY_EMAIL_MAX, &s);
	if (rc)
		return rc;
	at = strchr(s, '@');
	if (!at || at == s || strchr(at + 1, '@') || !strchr(at + 1, '.') || strchr(s, ' ') ||
	    at[1] == '.' || s[strlen(s) - 1] == '.')
		return req_fail(r, ERR_INVALID, "invalid_field", key,
				"'%s' is not an email address", key);
	char *low = arena_strdup(r->arena, s);
	for (char *p = low; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p | 0x20);
	*out = low;
	return 0;
}

int tenancy_json_role(struct req *r, const char *key, int flags, int *role)
{
	static const char *const names[] = { "viewer", "operator", "developer", "admin",
					     "owner", NULL };
	int idx = -1, rc = json_get_enum(r->json, key, flags, names, &idx, &r->err);
	*role = rc == 0 ? idx + 1 : ROLE_NONE;
	if (rc < 0)
		err_setc(&r->err, ERR_INVALID, "invalid_field", key,
			 "'%s' must be one of viewer, operator, developer, admin, owner", key);
	return rc;
}

int tenancy_role_cap(struct req *r, int role, const char *field)
{
	if (role <= r->auth.tenant_role)
		return 0;
	return req_fail(r, ERR_FORBIDDEN, "role_too_high", field,
			"you cannot grant a role above your own (%s)", role_name(r->auth.tenant_role));
}

int tenancy_page_params(struct req *r, int *limit, const char **after)
{
	const char *cursor = req_query(r, "cursor");
	int64_t n = 0, ms = 0;
	char *id = arena_alloc(r->arena, UUID_STR_LEN);
	int rc = api_query_limit(r, TENANCY_PAGE_DEFAULT, TENANCY_LIST_MAX, &n);
	*limit = (int)n;
	*after = NULL;
	if (rc || !cursor)
		return rc;
	if ((rc = api_cursor_decode(r, cursor, &ms, id, UUID_STR_LEN)))
		return rc;
	*after = id;
	return 0;
}

int tenancy_page_render(struct req *r, cJSON *items, int more, int64_t last_ms,
			const char *last_id)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddItemToObject(j, "items", items);
	if (more)
		cJSON_AddStringToObject(j, "next_cursor", api_cursor_encode(r, last_ms, last_id));
	else
		cJSON_AddNullToObject(j, "next_cursor");
	return req_json(r, 200, j);
}

int tenancy_begin(struct req *r, struct db **db)
{
	int rc = req_db(r, db);
	return rc ? rc : db_begin(*db, DB_TX_WRITE, &r->err);
}

int tenancy_finish(struct req *r, struct db *db, int rc)
{
	if (!rc)
		rc = db_commit(db, &r->err);
	else if (!r->err.code)
		err_set(&r->err, rc, NULL, "the change could not be saved");
	db_rollback(db); /* no-op after a commit */
	return rc;
}

int tenancy_audit_in(struct req *r, const char *tenant_id, const char *user_id,
		     const char *label, const char *action, const char *resource_type,
		     const char *resource_id, cJSON *details)
{
	struct db *db;
	char *json = details ? json_print(details) : NULL;
	int rc = req_db(r, &db);
	if (!rc) {
		struct audit_entry a = {
			.tenant_id = tenant_id, .actor_type = "user", .actor_id = user_id,
			.actor_label = label, .action = action, .resource_type = resource_type,
			.resource_id = resource_id, .ip = r->remote_ip, .outcome = "success",
			.request_id = r->request_id, .details_json = json,
		};
		rc = store_audit_append(db, &a, &r->err);
	}
	cJSON_free(json);
	cJSON_Delete(details);
	return rc;
}

cJSON *tenancy_tenant_json(const struct tenant_info *t)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "id", t->id);
	cJSON_AddStringToObject(j, "slug", t->slug);
	cJSON_AddStringToObject(j, "name", t->name);
	cJSON_AddStringToObject(j, "plan", t->plan);
	cJSON_AddStringToObject(j, "status", t->status);
	api_add_time(j, "created_at", t->created_at);
	api_add_time(j, "updated_at", t->updated_at);
	return j;
}

/* --- the tenant ------------------------------------------------------------------- */

/* {t} (param 0) as the caller's tenant; another tenant is a plain 404. */
static int tenant_load(struct req *r, struct db *db, struct tenant_info *t)
{
	int rc = store_tenant_get(db, r->auth.tenant_id, req_param(r, 0), t, &r->err);
	if (rc == ERR_NOT_FOUND)
		return req_fail(r, ERR_NOT_FOUND, "not_found", NULL, "no such tenant");
	return rc;
}

int api_tenant_get(struct req *r)
{
	struct tenant_info t;
	struct db *db;
	int rc;
	if ((rc = req_db(r, &db)) || (rc = tenant_load(r, db, &t)))
		return rc;
	return req_json(r, 200, tenancy_tenant_json(&t));
}

int api_tenant_update(struct req *r)
{
	static const char *const fields[] = { "name", NULL };
	struct tenant_info t;
	const char *name;
	struct db *db;
	int rc;
	if ((rc = json_only_fields(r->json, fields, &r->err)) ||
	    (rc = tenancy_json_text(r, "name", JSON_REQUIRED, TENANCY_NAME_MAX, &name)) ||
	    (rc = tenancy_begin(r, &db)))
		return rc;
	if (!(rc = tenant_load(r, db, &t)) &&
	    !(rc = store_tenant_rename(db, t.id, name, &r->err))) {
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "from", t.name);
		cJSON_AddStringToObject(d, "name", name);
		rc = req_audit(r, "tenant.updated", "tenant", t.id, "success", d);
	}
	if (!rc)
		rc = store_tenant_get(db, r->auth.tenant_id, r->auth.tenant_id, &t, &r->err);
	if ((rc = tenancy_finish(r, db, rc)))
		return rc;
	return req_json(r, 200, tenancy_tenant_json(&t));
}

int api_tenant_delete(struct req *r)
{
	static const char *const fields[] = { "confirm", NULL };
	struct tenant_info t;
	const char *confirm;
	struct db *db;
	int rc;
	if ((rc = json_only_fields(r->json, fields, &r->err)) ||
	    (rc = json_get_str(r->json, "confirm", JSON_REQUIRED, TENANCY_SLUG_MAX, &confirm,
			       &r->err)) ||
	    (rc = tenancy_begin(r, &db)))
		return rc;
	rc = tenant_load(r, db, &t);
	if (!rc && strcmp(confirm, t.slug))
		rc = req_fail(r, ERR_UNPROCESSABLE, "confirmation_mismatch", "confirm",
			      "'confirm' must be the tenant's slug");
	if (!rc) {
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "slug", t.slug);
		cJSON_AddStringToObject(d, "name", t.name);
		rc = req_audit(r, "tenant.deleted", "tenant", t.id, "success", d);
	}
	if (!rc)
		rc = store_tenant_delete(db, t.id, &r->err);
	if ((rc = tenancy_finish(r, db, rc)))
		return rc;
	log_kv(LOG_INFO, "tenancy", "tenant deleted", "tenant", t.id, NULL);
	r->status = 204;
	return 0;
}
