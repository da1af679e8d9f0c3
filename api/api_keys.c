/*
 * API keys of a tenant: create (the key is shown once, in the 201 answer),
 * list (never the key or its hash) and revoke. A key's role is at most its
 * creator's, and its workspace is one of the caller's tenant; creating and
 * revoking are audited in the same transaction as the change.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "api/api.h"
#include "auth/auth.h"
#include "db/db.h"
#include "server/server.h"
#include "core/core.h"

#define KEYS_LIMIT_DEFAULT 50
#define KEYS_LIMIT_MAX 100
#define DAY_MS (24LL * 3600 * 1000)

static cJSON *key_json(const struct api_key_info *k)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "id", k->id);
	cJSON_AddStringToObject(j, "name", k->name);
	cJSON_AddStringToObject(j, "prefix", k->prefix);
	cJSON_AddStringToObject(j, "role", role_name(k->role));
	cJSON_AddStringToObject(j, "workspace_id", k->workspace_id);
	api_add_time(j, "expires_at", k->expires_at);
	api_add_time(j, "created_at", k->created_at);
	return j;
}

/* Audit details: whitelisted fields only, never the key or its hash. */
static cJSON *key_details(const struct api_key_info *k)
{
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "name", k->name);
	cJSON_AddStringToObject(d, "role", role_name(k->role));
	cJSON_AddStringToObject(d, "prefix", k->prefix);
	cJSON_AddStringToObject(d, "workspace_id", k->workspace_id);
	return d;
}

static int name_valid(struct req *r, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			n = 0;
	if (n == 0)
		return req_fail(r, ERR_INVALID, "invalid_field", "name",
				"'name' must be 1 to %d characters without control characters",
				API_KEY_NAME_MAX);
	return 0;
}

static int create_parse(struct req *r, struct api_key_new *in)
{
	static const char *const fields[] = { "name", "role", "workspace_id", "expires_in_days",
					      NULL };
	static const char *const roles[] = { "viewer", "operator", "developer", "admin",
					     "owner", NULL };
	int64_t days = 0;
	int role = 0, rc;
	memset(in, 0, sizeof(*in));
	if ((rc = json_only_fields(r->json, fields, &r->err)) ||
	    (rc = json_get_str(r->json, "name", JSON_REQUIRED, API_KEY_NAME_MAX, &in->name,
			       &r->err)) < 0 ||
	    (rc = name_valid(r, in->name)) ||
	    (rc = json_get_enum(r->json, "role", JSON_REQUIRED, roles, &role, &r->err)) < 0 ||
	    (rc = json_get_str(r->json, "workspace_id", JSON_NULLABLE, UUID_STR_LEN - 1,
			       &in->workspace_id, &r->err)) < 0 ||
	    (rc = json_get_int(r->json, "expires_in_days", JSON_NULLABLE, 1, 3650, &days,
			       &r->err)) < 0)
		return rc;
	in->role = role_parse(roles[role]);
	in->expires_at = days ? now_ms() + days * DAY_MS : 0;
	return 0;
}

/* The key's role is at most the caller's; a key stays in its own workspace. */
static int create_authorize(struct req *r, struct api_key_new *in)
{
	struct db *db;
	int rc, limit = r->auth.tenant_role ? r->auth.tenant_role : r->auth.role;
	if (in->role > limit)
		return req_fail(r, ERR_FORBIDDEN, "role_too_high", "role",
				"an API key's role cannot be above your own (%s)", role_name(limit));
	if (r->auth.kind == AUTH_API_KEY && in->workspace_id &&
	    strcmp(in->workspace_id, r->auth.workspace_id))
		return req_fail(r, ERR_FORBIDDEN, "workspace_forbidden", "workspace_id",
				"this API key is bound to another workspace");
	if (in->workspace_id)
		return 0;
	if (r->auth.workspace_id[0]) {
		in->workspace_id = r->auth.workspace_id;
		return 0;
	}
	char *ws = arena_alloc(r->arena, UUID_STR_LEN);
	if ((rc = req_db(r, &db)) || (rc = store_default_workspace(db, r->auth.tenant_id, ws,
								   &r->err)))
		return rc;
	in->workspace_id = ws;
	return 0;
}

int api_keys_create(struct req *r)
{
	struct api_key_new in;
	struct api_key_info k;
	char slug[64], key[API_KEY_LEN + 1];
	struct db *db;
	int rc;
	if ((rc = create_parse(r, &in)) || (rc = api_tenant_param(r, 0, slug, sizeof(slug))) ||
	    (rc = create_authorize(r, &in)) || (rc = req_db(r, &db)))
		return rc;
	memcpy(key, API_KEY_PREFIX, sizeof(API_KEY_PREFIX) - 1);
	random_token(key + sizeof(API_KEY_PREFIX) - 1, sizeof(key) - (sizeof(API_KEY_PREFIX) - 1),
		     32);
	in.key = key;
	in.tenant_id = r->auth.tenant_id;
	in.created_by = r->auth.user_id[0] ? r->auth.user_id : NULL;
	if (!(rc = db_begin(db, DB_TX_WRITE, &r->err)) &&
	    !(rc = store_api_key_create(db, &in, &k, &r->err)) &&
	    !(rc = req_audit(r, "api_key.created", "api_key", k.id, "success", key_details(&k))))
		rc = db_commit(db, &r->err);
	db_rollback(db); /* no-op after a commit */
	if (rc == 0) {
		cJSON *j = key_json(&k);
		cJSON_AddStringToObject(j, "key", key);
		req_json(r, 201, j);
	} else if (!r->err.code) {
		req_fail(r, rc, NULL, NULL, "the API key was not created");
	}
	sodium_memzero(key, sizeof(key));
	return rc;
}

static int keys_render(struct req *r, const struct api_key_info *items, int count, int limit)
{
	int64_t now = now_ms();
	cJSON *j = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(j, "items");
	for (int i = 0; i < count && i < limit; i++) {
		cJSON *it = key_json(&items[i]);
		api_add_time(it, "last_used_at", items[i].last_used_at);
		api_add_time(it, "revoked_at", items[i].revoked_at);
		cJSON_AddBoolToObject(it, "expired", items[i].expires_at && items[i].expires_at <= now);
		cJSON_AddItemToArray(arr, it);
	}
	if (count > limit)
		cJSON_AddStringToObject(j, "next_cursor",
					api_cursor_encode(r, items[limit - 1].created_at,
							  items[limit - 1].id));
	else
		cJSON_AddNullToObject(j, "next_cursor");
	return req_json(r, 200, j);
}

int api_keys_list(struct req *r)
{
	const char *cursor = req_query(r, "cursor");
	char slug[64], after_id[UUID_STR_LEN + 64];
	int64_t limit, after_ms = 0;
	int count = 0, rc;
	struct db *db;
	if ((rc = api_tenant_param(r, 0, slug, sizeof(slug))) ||
	    (rc = api_query_limit(r, KEYS_LIMIT_DEFAULT, KEYS_LIMIT_MAX, &limit)) ||
	    (cursor && (rc = api_cursor_decode(r, cursor, &after_ms, after_id, sizeof(after_id)))) ||
	    (rc = req_db(r, &db)))
		return rc;
	/* One more than asked: its presence means there is a next page. */
	struct api_key_info *items = arena_alloc(r->arena, sizeof(*items) * (size_t)(limit + 1));
	if ((rc = store_api_key_list(db, r->auth.tenant_id, after_ms, cursor ? after_id : NULL,
				     items, (int)limit + 1, &count, &r->err)))
		return rc;
	return keys_render(r, items, count, (int)limit);
}

int api_keys_revoke(struct req *r)
{
	const char *id = req_param(r, 1);
	struct api_key_info k;
	char slug[64];
	int changed = 0, rc;
	struct db *db;
	if ((rc = api_tenant_param(r, 0, slug, sizeof(slug))) || (rc = req_db(r, &db)))
		return rc;
	if (!id || strlen(id) >= UUID_STR_LEN)
		return req_fail(r, ERR_NOT_FOUND, "not_found", NULL, "no such API key");
	if (!(rc = db_begin(db, DB_TX_WRITE, &r->err)) &&
	    !(rc = store_api_key_revoke(db, r->auth.tenant_id, id, &k, &changed, &r->err)) &&
	    (!changed ||
	     !(rc = req_audit(r, "api_key.revoked", "api_key", k.id, "success", key_details(&k)))))
		rc = db_commit(db, &r->err);
	db_rollback(db);
	if (rc && !r->err.code)
		req_fail(r, rc, NULL, NULL, "the API key was not revoked");
	return rc;
}
