/*
 * API keys: "plx_" + 32 random bytes, stored as the SHA-256 of the whole key
 * plus a short display prefix. A key's effective role is its own role capped
 * by its creator's current tenant role, so demoting the creator shrinks the
 * key and removing (or disabling) the creator kills it. Every query on keys
 * of a tenant takes the caller's tenant id.
 */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "db/db.h"
#include "core/core.h"

#define TOUCH_INTERVAL_MS 60000

static const char sql_key_by_hash[] =
	"SELECT k.id, k.tenant_id, k.workspace_id, k.created_by, k.role, k.expires_at, "
	"k.revoked_at, m.role, u.status FROM api_keys k "
	"LEFT JOIN memberships m ON m.tenant_id = k.tenant_id AND m.user_id = k.created_by "
	"LEFT JOIN users u ON u.id = k.created_by "
	"WHERE k.key_hash = ?";
static const char sql_key_touch[] =
	"UPDATE api_keys SET last_used_at = ? WHERE id = ? "
	"AND (last_used_at IS NULL OR last_used_at < ?)";
static const char sql_key_insert[] =
	"INSERT INTO api_keys (id, tenant_id, workspace_id, name, prefix, key_hash, role, "
	"created_by, expires_at, last_used_at, revoked_at, created_at) "
	"VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULLIF(CAST(? AS BIGINT), 0), NULL, NULL, ?)";
#define KEY_COLUMNS                                                                           \
	"SELECT id, workspace_id, created_by, name, prefix, role, expires_at, last_used_at, " \
	"revoked_at, created_at FROM api_keys "
static const char sql_key_list[] = KEY_COLUMNS
	"WHERE tenant_id = ? AND (created_at < ? OR (created_at = ? AND id < ?)) "
	"ORDER BY created_at DESC, id DESC LIMIT ?";
static const char sql_key_get[] = KEY_COLUMNS "WHERE tenant_id = ? AND id = ?";
static const char sql_key_revoke[] =
	"UPDATE api_keys SET revoked_at = ? WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL";

static void key_hash(const char *key, char hex[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)key, strlen(key));
	hex_encode(h, sizeof(h), hex);
}

/* Shape check before any lookup: "plx_" and exactly 43 base64url characters. */
static int key_well_formed(const char *key)
{
	size_t plen = sizeof(API_KEY_PREFIX) - 1;
	if (!key || strlen(key) != API_KEY_LEN || strncmp(key, API_KEY_PREFIX, plen) != 0)
		return 0;
	for (const char *p = key + plen; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return 0;
	return 1;
}

static int refuse(struct err *e)
{
	return err_setc(e, ERR_UNAUTHORIZED, "invalid_api_key", NULL,
			"the API key is invalid, expired or revoked");
}

static int64_t col_time(struct db_stmt *st, int col)
{
	return db_column_is_null(st, col) ? 0 : db_column_int64(st, col);
}

/* Fill out from a sql_key_by_hash row; ERR_UNAUTHORIZED if the key is dead. */
static int key_auth_row(struct db_stmt *st, int64_t now, struct api_key_auth *out,
			struct err *e)
{
	int64_t expires = col_time(st, 5);
	const char *status = db_column_text(st, 8);
	int key_role = role_parse(db_column_text(st, 4));
	int member_role = role_parse(db_column_text(st, 7));
	if (!db_column_is_null(st, 6) || (expires && expires <= now) || key_role == ROLE_NONE ||
	    member_role == ROLE_NONE || !status || strcmp(status, "active") != 0)
		return refuse(e);
	db_column_copy(st, 0, out->id, sizeof(out->id));
	db_column_copy(st, 1, out->tenant_id, sizeof(out->tenant_id));
	db_column_copy(st, 2, out->workspace_id, sizeof(out->workspace_id));
	db_column_copy(st, 3, out->created_by, sizeof(out->created_by));
	out->role = key_role < member_role ? key_role : member_role;
	return 0;
}

int store_api_key_authenticate(struct db *db, const char *key, struct api_key_auth *out,
			       struct err *e)
{
	struct db_stmt *st = NULL;
	struct err touch_err;
	char hash[65];
	int64_t now = now_ms();
	int ret;
	memset(out, 0, sizeof(*out));
	if (!key_well_formed(key))
		return refuse(e);
	key_hash(key, hash);
	if ((ret = db_prepare(db, sql_key_by_hash, &st, e)) < 0)
		goto out;
	if ((ret = db_bindf(st, "s", hash)) < 0) {
		err_set(e, ret, NULL, "cannot bind the key hash");
		goto out;
	}
	ret = db_step(st, e);
	if (ret == DB_DONE)
		ret = refuse(e);
	else if (ret == DB_ROW)
		ret = key_auth_row(st, now, out, e);
	db_finalize(st);
	st = NULL;
	/* Best effort: a busy database must not turn a valid key away. */
	if (ret == 0 && db_execf(db, &touch_err, NULL, sql_key_touch, "isi", now, out->id,
				 now - TOUCH_INTERVAL_MS) < 0)
		log_kv(LOG_DEBUG, "api_keys", "last_used_at not updated", "detail", touch_err.msg,
		       NULL);
out:
	db_finalize(st);
	if (ret < 0)
		memset(out, 0, sizeof(*out));
	return ret;
}

/* Read a KEY_COLUMNS row. */
static void key_info_row(struct db_stmt *st, struct api_key_info *k)
{
	memset(k, 0, sizeof(*k));
	db_column_copy(st, 0, k->id, sizeof(k->id));
	db_column_copy(st, 1, k->workspace_id, sizeof(k->workspace_id));
	db_column_copy(st, 2, k->created_by, sizeof(k->created_by));
	db_column_copy(st, 3, k->name, sizeof(k->name));
	db_column_copy(st, 4, k->prefix, sizeof(k->prefix));
	k->role = role_parse(db_column_text(st, 5));
	k->expires_at = col_time(st, 6);
	k->last_used_at = col_time(st, 7);
	k->revoked_at = col_time(st, 8);
	k->created_at = col_time(st, 9);
}

int store_default_workspace(struct db *db, const char *tenant_id, char out[UUID_STR_LEN],
			    struct err *e)
{
	int ret = db_query_text(db, e, out, UUID_STR_LEN,
				"SELECT id FROM workspaces WHERE tenant_id = ? AND is_default = 1", "s",
				tenant_id);
	if (ret == ERR_NOT_FOUND)
		return err_set(e, ERR_NOT_FOUND, NULL, "the tenant has no default workspace");
	return ret;
}

int store_tenant_slug(struct db *db, const char *tenant_id, char *slug, size_t size,
		      struct err *e)
{
	int ret = db_query_text(db, e, slug, size, "SELECT slug FROM tenants WHERE id = ?", "s",
				tenant_id);
	if (ret == ERR_NOT_FOUND)
		return err_set(e, ERR_NOT_FOUND, NULL, "no such tenant");
	return ret;
}

int store_api_key_create(struct db *db, const struct api_key_new *in, struct api_key_info *out,
			 struct err *e)
{
	char hash[65];
	int64_t n = 0, now = now_ms();
	int ret = db_query_int64(db, e, &n,
				 "SELECT count(*) FROM workspaces WHERE tenant_id = ? AND id = ?",
				 "ss", in->tenant_id, in->workspace_id);
	if (ret < 0)
		return ret;
	if (n == 0)
		return err_set(e, ERR_NOT_FOUND, "workspace_id", "no such workspace");
	memset(out, 0, sizeof(*out));
	uuid_v7(out->id);
	str_copy(out->workspace_id, sizeof(out->workspace_id), in->workspace_id);
	str_copy(out->created_by, sizeof(out->created_by), in->created_by ? in->created_by : "");
	str_copy(out->name, sizeof(out->name), in->name);
	str_copy(out->prefix, sizeof(out->prefix), in->key);
	out->role = in->role;
	out->expires_at = in->expires_at;
	out->created_at = now;
	key_hash(in->key, hash);
	ret = db_execf(db, e, NULL, sql_key_insert, "ssssssssii", out->id, in->tenant_id,
		       in->workspace_id, in->name, out->prefix, hash, role_name(in->role),
		       in->created_by, in->expires_at, now);
	sodium_memzero(hash, sizeof(hash));
	return ret;
}

int store_api_key_list(struct db *db, const char *tenant_id, int64_t after_ms,
		       const char *after_id, struct api_key_info *items, int max, int *count,
		       struct err *e)
{
	struct db_stmt *st = NULL;
	int ret;
	*count = 0;
	if (!after_id) {
		after_ms = INT64_MAX;
		after_id = "";
	}
	if ((ret = db_prepare(db, sql_key_list, &st, e)) < 0)
		goto out;
	if ((ret = db_bindf(st, "siisi", tenant_id, after_ms, after_ms, after_id,
			    (int64_t)max)) < 0) {
		err_set(e, ret, NULL, "cannot bind the key list");
		goto out;
	}
	while (*count < max && (ret = db_step(st, e)) == DB_ROW)
		key_info_row(st, &items[(*count)++]);
	if (ret > 0)
		ret = 0;
out:
	db_finalize(st);
	return ret;
}

static int key_get(struct db *db, const char *tenant_id, const char *id, struct api_key_info *out,
		   struct err *e)
{
	struct db_stmt *st = NULL;
	int ret = db_prepare(db, sql_key_get, &st, e);
	if (ret < 0)
		goto out;
	if ((ret = db_bindf(st, "ss", tenant_id, id)) < 0) {
		err_set(e, ret, NULL, "cannot bind the key id");
		goto out;
	}
	ret = db_step(st, e);
	if (ret == DB_ROW) {
		key_info_row(st, out);
		ret = 0;
	} else if (ret == DB_DONE) {
		ret = err_set(e, ERR_NOT_FOUND, NULL, "no such API key");
	}
out:
	db_finalize(st);
	return ret;
}

int store_api_key_revoke(struct db *db, const char *tenant_id, const char *id,
			 struct api_key_info *out, int *changed, struct err *e)
{
	int64_t n = 0, now = now_ms();
	*changed = 0;
	int ret = key_get(db, tenant_id, id, out, e);
	if (ret < 0)
		return ret;
	ret = db_execf(db, e, &n, sql_key_revoke, "iss", now, tenant_id, id);
	if (ret == 0 && n > 0) {
		*changed = 1;
		out->revoked_at = now;
	}
	return ret;
}
