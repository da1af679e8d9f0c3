/*
 * Installation-level state: the settings key/value table and the first-run
 * set-up that creates the owner's tenant, workspace, user and memberships in
 * one transaction. These run before any tenant exists, so (unlike every other
 * store) they take no tenant id.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "db/db_internal.h"
#include "core/core.h"

#define EMAIL_MAX 320

/* An arbitrary fixed key: concurrent set-ups on PostgreSQL queue behind it. */
#define SETUP_LOCK_SQL "SELECT pg_advisory_xact_lock(7208841330110220)"

const struct tenant_quota_defaults store_default_quotas = {
	.members = 50,
	.workspaces = 20,
	.agents = 200,
	.patterns = 500,
	.executions_per_day = 100000,
	.concurrent_executions = 200,
	.tokens_per_month = 50000000,
	.requests_per_minute = 6000,
};

/* --- settings ----------------------------------------------------------------- */

int store_setting_get(struct db *db, const char *key, char **value_out, struct err *e)
{
	struct db_stmt *st = NULL;
	*value_out = NULL;
	int ret = db_prepare(db, "SELECT value FROM settings WHERE key = ?", &st, e);
	if (ret < 0)
		goto out;
	if ((ret = db_bindf(st, "s", key)) < 0) {
		err_set(e, ret, NULL, "cannot bind the setting key");
		goto out;
	}
	ret = db_step(st, e);
	if (ret == DB_ROW) {
		size_t n;
		const char *v = db_column_textn(st, 0, &n);
		*value_out = v ? xstrndup(v, n) : NULL;
	}
	if (ret >= 0)
		ret = 0;
out:
	db_finalize(st);
	return ret;
}

int store_setting_set(struct db *db, const char *key, const char *value, struct err *e)
{
	return db_execf(db, e, NULL,
			"INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) "
			"ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
			"updated_at = excluded.updated_at",
			"ssi", key, value, now_ms());
}

int store_setting_delete(struct db *db, const char *key, int *deleted, struct err *e)
{
	int64_t n = 0;
	int ret = db_execf(db, e, &n, "DELETE FROM settings WHERE key = ?", "s", key);
	if (deleted)
		*deleted = ret == 0 && n > 0;
	return ret;
}

/* --- first-run set-up --------------------------------------------------------- */

int store_owner_exists(struct db *db, int *exists, struct err *e)
{
	int64_t n = 0;
	int ret = db_query_int64(db, e, &n,
				 "SELECT count(*) FROM memberships WHERE role = 'owner'", "");
	*exists = ret == 0 && n > 0;
	return ret;
}

static int setup_check(const struct setup_owner *in, char *email, struct err *e)
{
	static const char *const names[] = { "tenant_name", "tenant_slug", "user_name", "email",
					     "password_hash" };
	const char *vals[] = { in->tenant_name, in->tenant_slug, in->user_name, in->email,
			       in->password_hash };
	for (size_t i = 0; i < ARRAY_SIZE(vals); i++)
		if (!vals[i] || !vals[i][0])
			return err_set(e, ERR_INVALID, names[i], "%s is required", names[i]);
	size_t n = strlen(in->email);
	if (n >= EMAIL_MAX)
		return err_set(e, ERR_INVALID, "email", "email is too long");
	for (size_t i = 0; i <= n; i++) {
		char c = in->email[i];
		email[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	return 0;
}

/* Give a unique violation a field and a message the set-up form can show. */
static int setup_conflict(int ret, const char *field, const char *what, struct err *e)
{
	if (ret == ERR_CONFLICT)
		return err_set(e, ERR_CONFLICT, field, "%s is already taken", what);
	return ret;
}

static const char sql_tenant[] =
	"INSERT INTO tenants (id, slug, name, plan, status, created_at, updated_at) "
	"VALUES (?, ?, ?, 'free', 'active', ?, ?)";
static const char sql_quotas[] =
	"INSERT INTO tenant_quotas (tenant_id, members, workspaces, agents, patterns, "
	"executions_per_day, concurrent_executions, tokens_per_month, requests_per_minute, "
	"updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char sql_workspace[] =
	"INSERT INTO workspaces (id, tenant_id, slug, name, is_default, created_at, updated_at) "
	"VALUES (?, ?, 'default', 'Default', 1, ?, ?)";
static const char sql_user[] =
	"INSERT INTO users (id, email, name, password_hash, status, email_verified, created_at, "
	"updated_at, password_changed_at) VALUES (?, ?, ?, ?, 'active', 0, ?, ?, ?)";
static const char sql_membership[] =
	"INSERT INTO memberships (tenant_id, user_id, role, created_at, updated_at) "
	"VALUES (?, ?, 'owner', ?, ?)";
static const char sql_workspace_member[] =
	"INSERT INTO workspace_members (tenant_id, workspace_id, user_id, role, created_at) "
	"VALUES (?, ?, ?, NULL, ?)";
static const char sql_audit[] =
	"INSERT INTO audit_log (id, tenant_id, created_at, actor_type, actor_id, actor_label, "
	"action, resource_type, resource_id, ip, outcome, request_id, details) "
	"VALUES (?, ?, ?, 'user', ?, ?, 'setup.owner_created', 'tenant', ?, NULL, 'success', ?, ?)";

static int setup_insert_tenant(struct db *db, const struct setup_owner *in,
			       const struct setup_result *r, int64_t now, struct err *e)
{
	const struct tenant_quota_defaults *q = &store_default_quotas;
	int ret = db_execf(db, e, NULL, sql_tenant, "sssii", r->tenant_id, in->tenant_slug,
			   in->tenant_name, now, now);
	if (ret < 0)
		return setup_conflict(ret, "tenant_slug", "this tenant slug", e);
	ret = db_execf(db, e, NULL, sql_quotas, "siiiiiiiii", r->tenant_id, q->members,
		       q->workspaces, q->agents, q->patterns, q->executions_per_day,
		       q->concurrent_executions, q->tokens_per_month, q->requests_per_minute, now);
	if (ret < 0)
		return ret;
	return db_execf(db, e, NULL, sql_workspace, "ssii", r->workspace_id, r->tenant_id, now,
			now);
}

static int setup_insert_user(struct db *db, const struct setup_owner *in, const char *email,
			     const struct setup_result *r, int64_t now, struct err *e)
{
	int ret = db_execf(db, e, NULL, sql_user, "ssssiii", r->user_id, email, in->user_name,
			   in->password_hash, now, now, now);
	if (ret < 0)
		return setup_conflict(ret, "email", "this email", e);
	ret = db_execf(db, e, NULL, sql_membership, "ssii", r->tenant_id, r->user_id, now, now);
	if (ret < 0)
		return ret;
	return db_execf(db, e, NULL, sql_workspace_member, "sssi", r->tenant_id, r->workspace_id,
			r->user_id, now);
}

static int setup_insert_audit(struct db *db, const struct setup_owner *in, const char *email,
			      const struct setup_result *r, int64_t now, struct err *e)
{
	char id[UUID_STR_LEN];
	const char *reqid = log_request_id();
	cJSON *details = cJSON_CreateObject();
	cJSON_AddStringToObject(details, "tenant_slug", in->tenant_slug);
	cJSON_AddStringToObject(details, "workspace_id", r->workspace_id);
	char *json = json_print(details);
	uuid_v7(id);
	int ret = db_execf(db, e, NULL, sql_audit, "ssisssss", id, r->tenant_id, now, r->user_id,
			   email, r->tenant_id, reqid[0] ? reqid : NULL, json);
	free(json);
	cJSON_Delete(details);
	return ret;
}

static int setup_claim(struct db *db, struct err *e)
{
	int exists = 0, ret = 0;
	if (db_dialect(db) == DB_POSTGRES)
		ret = db_exec(db, SETUP_LOCK_SQL, e);
	if (ret == 0)
		ret = store_owner_exists(db, &exists, e);
	if (ret == 0 && exists)
		ret = err_setc(e, ERR_CONFLICT, "already_set_up", NULL,
			       "this installation already has an owner");
	return ret;
}

int store_setup_owner(struct db *db, const struct setup_owner *in, struct setup_result *out,
		      struct err *e)
{
	struct setup_result r;
	char email[EMAIL_MAX];
	int64_t now = now_ms();
	int ret = setup_check(in, email, e);
	if (ret < 0)
		return ret;
	uuid_v7(r.tenant_id);
	uuid_v7(r.workspace_id);
	uuid_v7(r.user_id);
	ret = db_begin(db, DB_TX_WRITE, e);
	if (ret < 0)
		return ret;
	ret = in->another_tenant ? 0 : setup_claim(db, e);
	if (ret == 0)
		ret = setup_insert_tenant(db, in, &r, now, e);
	if (ret == 0)
		ret = setup_insert_user(db, in, email, &r, now, e);
	if (ret == 0)
		ret = setup_insert_audit(db, in, email, &r, now, e);
	if (ret == 0)
		ret = db_commit(db, e);
	db_rollback(db); /* no-op after a commit */
	if (ret == 0)
		*out = r;
	return ret;
}
