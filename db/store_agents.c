/*
 * Agents of a workspace: create (taking an "agents" quota unit), get, list
 * with filters and a (created_at, id) cursor, update and delete (releasing
 * the unit). Every statement filters on the tenant and the workspace, so an
 * agent elsewhere is indistinguishable from a missing one. Secrets arrive
 * sealed; this file never sees plaintext.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "core/core.h"

#define AGENT_COLS                                                                         \
	"id, workspace_id, name, kind, status, circuit_state, config, capabilities, "     \
	"secrets_enc, expertise, timeout_ms, max_concurrency, created_at, updated_at "

#define AGENT_LIST_HEAD                                                                    \
	"SELECT " AGENT_COLS "FROM agents WHERE tenant_id = ? AND workspace_id = ? "      \
	"AND kind = COALESCE(CAST(? AS TEXT), kind) "                                      \
	"AND status = COALESCE(CAST(? AS TEXT), status) AND (CAST(? AS TEXT) IS NULL OR "
#define AGENT_LIST_TAIL                                                                    \
	") AND (created_at > ? OR (created_at = ? AND id > ?)) ORDER BY created_at, id LIMIT ?"

static const char sql_list_sqlite[] =
	AGENT_LIST_HEAD "EXISTS (SELECT 1 FROM json_each(capabilities) "
			"WHERE value = CAST(? AS TEXT))" AGENT_LIST_TAIL;
static const char sql_list_pg[] =
	AGENT_LIST_HEAD "capabilities::jsonb @> jsonb_build_array(CAST(? AS TEXT))" AGENT_LIST_TAIL;
static const char sql_get[] =
	"SELECT " AGENT_COLS "FROM agents WHERE tenant_id = ? AND workspace_id = ? AND id = ?";
static const char sql_insert[] =
	"INSERT INTO agents (id, tenant_id, workspace_id, name, kind, config, secrets_enc, "
	"capabilities, expertise, timeout_ms, max_concurrency, connect_token_hash, created_by, "
	"created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char sql_update[] =
	"UPDATE agents SET name = ?, capabilities = ?, expertise = ?, timeout_ms = ?, "
	"max_concurrency = ?, config = ?, secrets_enc = ?, updated_at = ? "
	"WHERE tenant_id = ? AND workspace_id = ? AND id = ?";
static const char sql_delete[] =
	"DELETE FROM agents WHERE tenant_id = ? AND workspace_id = ? AND id = ?";

void store_agent_release(struct agent_row *a)
{
	free(a->config);
	free(a->capabilities);
	free(a->secrets_enc);
	a->config = a->capabilities = a->secrets_enc = NULL;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void agent_row(struct db_stmt *st, struct agent_row *a)
{
	memset(a, 0, sizeof(*a));
	db_column_copy(st, 0, a->id, sizeof(a->id));
	db_column_copy(st, 1, a->workspace_id, sizeof(a->workspace_id));
	db_column_copy(st, 2, a->name, sizeof(a->name));
	db_column_copy(st, 3, a->kind, sizeof(a->kind));
	db_column_copy(st, 4, a->status, sizeof(a->status));
	db_column_copy(st, 5, a->circuit_state, sizeof(a->circuit_state));
	a->config = xstrdup(db_column_text(st, 6) ? db_column_text(st, 6) : "{}");
	a->capabilities = xstrdup(db_column_text(st, 7) ? db_column_text(st, 7) : "[]");
	a->secrets_enc = dup_or_null(db_column_text(st, 8));
	a->expertise = db_column_double(st, 9);
	a->timeout_ms = db_column_int64(st, 10);
	a->max_concurrency = db_column_int64(st, 11);
	a->created_at = db_column_int64(st, 12);
	a->updated_at = db_column_int64(st, 13);
}

static int bound(int rc, struct err *e)
{
	return rc < 0 ? err_set(e, rc, NULL, "cannot bind statement parameters") : 0;
}

static int name_taken(int rc, struct err *e)
{
	if (rc != ERR_CONFLICT)
		return rc;
	return err_setc(e, ERR_CONFLICT, "name_taken", "name",
			"an agent with this name exists in the workspace already");
}

int store_agent_create(struct db *db, const char *tenant_id, const struct agent_row *in,
		       const char *connect_token_hash, const char *created_by,
		       struct agent_row *out, struct err *e)
{
	int64_t now = now_ms();
	int rc = store_quota_take(db, tenant_id, "agents", 1, e);
	*out = *in;
	uuid_v7(out->id);
	out->created_at = out->updated_at = now;
	str_copy(out->status, sizeof(out->status), "unknown");
	str_copy(out->circuit_state, sizeof(out->circuit_state), "closed");
	out->config = xstrdup(in->config);
	out->capabilities = xstrdup(in->capabilities);
	out->secrets_enc = dup_or_null(in->secrets_enc);
	if (!rc)
		rc = db_execf(db, e, NULL, sql_insert, "ssssssssdiissii", out->id, tenant_id,
			      in->workspace_id, in->name, in->kind, in->config, in->secrets_enc,
			      in->capabilities, in->expertise, in->timeout_ms, in->max_concurrency,
			      connect_token_hash, created_by, now, now);
	return name_taken(rc, e);
}

int store_agent_get(struct db *db, const char *tenant_id, const char *workspace_id,
		    const char *id, struct agent_row *out, struct err *e)
{
	struct db_stmt *st = NULL;
	int rc = db_prepare(db, sql_get, &st, e);
	memset(out, 0, sizeof(*out));
	if (!rc)
		rc = bound(db_bindf(st, "sss", tenant_id, workspace_id, id), e);
	if (!rc && (rc = db_step(st, e)) == DB_DONE)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "no such agent");
	if (rc == DB_ROW) {
		agent_row(st, out);
		rc = 0;
	}
	db_finalize(st);
	return rc;
}

int store_agent_by_connect_token(struct db *db, const char *token_hash,
				 char tenant_id[UUID_STR_LEN], struct agent_row *out, struct err *e)
{
	static const char sql[] = "SELECT " AGENT_COLS ", tenant_id FROM agents "
				  "WHERE connect_token_hash = ? AND kind = 'ws'";
	struct db_stmt *st = NULL;
	int rc = db_prepare(db, sql, &st, e);
	memset(out, 0, sizeof(*out));
	if (!rc)
		rc = bound(db_bindf(st, "s", token_hash), e);
	if (!rc && (rc = db_step(st, e)) == DB_DONE)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "no such agent");
	if (rc == DB_ROW) {
		agent_row(st, out);
		db_column_copy(st, 14, tenant_id, UUID_STR_LEN);
		rc = 0;
	}
	db_finalize(st);
	return rc;
}

int store_agent_set_capabilities(struct db *db, const char *tenant_id, const char *id,
				 const char *capabilities, struct err *e)
{
	return db_execf(db, e, NULL,
			"UPDATE agents SET capabilities = ?, last_seen_at = ?, updated_at = ? "
			"WHERE tenant_id = ? AND id = ?",
			"siiss", capabilities, now_ms(), now_ms(), tenant_id, id);
}

int store_agents_probe_list(struct db *db, const char *after_id, struct agent_row *items,
			    char (*tenants)[UUID_STR_LEN], int max, int *count, struct err *e)
{
	static const char sql[] = "SELECT " AGENT_COLS ", tenant_id FROM agents "
				  "WHERE kind IN ('http', 'openai') AND status <> 'disabled' "
				  "AND id > ? ORDER BY id LIMIT ?";
	struct db_stmt *st = NULL;
	int rc = db_prepare(db, sql, &st, e);
	*count = 0;
	if (!rc)
		rc = bound(db_bindf(st, "si", after_id ? after_id : "", (int64_t)max), e);
	while (!rc && (rc = db_step(st, e)) == DB_ROW) {
		agent_row(st, &items[*count]);
		db_column_copy(st, 14, tenants[*count], UUID_STR_LEN);
		(*count)++;
		rc = 0;
	}
	if (rc == DB_DONE)
		rc = 0;
	db_finalize(st);
	return rc;
}

int store_agent_set_health(struct db *db, const char *tenant_id, const char *id,
			   const char *status, const char *last_error, struct err *e)
{
	if (!last_error)
		return db_execf(db, e, NULL,
				"UPDATE agents SET status = ?, last_error = NULL, last_seen_at = ? "
				"WHERE tenant_id = ? AND id = ? AND status <> 'disabled'",
				"siss", status, now_ms(), tenant_id, id);
	return db_execf(db, e, NULL,
			"UPDATE agents SET status = ?, last_error = ? "
			"WHERE tenant_id = ? AND id = ? AND status <> 'disabled'",
			"ssss", status, last_error, tenant_id, id);
}

int store_agents_list(struct db *db, const char *tenant_id, const char *workspace_id,
		      const struct agent_filter *f, int64_t after_ms, const char *after_id,
		      struct agent_row *items, int max, int *count, struct err *e)
{
	struct db_stmt *st = NULL;
	const char *sql = db_dialect(db) == DB_POSTGRES ? sql_list_pg : sql_list_sqlite;
	int rc = db_prepare(db, sql, &st, e);
	*count = 0;
	if (!after_id) {
		after_ms = -1;
		after_id = "";
	}
	if (!rc)
		rc = bound(db_bindf(st, "ssssssiisi", tenant_id, workspace_id, f->kind, f->status,
				    f->capability, f->capability, after_ms, after_ms, after_id,
				    (int64_t)max),
			   e);
	while (!rc && *count < max && (rc = db_step(st, e)) == DB_ROW) {
		agent_row(st, &items[(*count)++]);
		rc = 0;
	}
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

int store_agent_update(struct db *db, const char *tenant_id, struct agent_row *a,
		       struct err *e)
{
	int64_t changed = 0;
	a->updated_at = now_ms();
	int rc = db_execf(db, e, &changed, sql_update, "ssdiississs", a->name, a->capabilities,
			  a->expertise, a->timeout_ms, a->max_concurrency, a->config, a->secrets_enc,
			  a->updated_at, tenant_id, a->workspace_id, a->id);
	if (!rc && changed == 0)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "no such agent");
	return name_taken(rc, e);
}

int store_agent_delete(struct db *db, const char *tenant_id, const char *workspace_id,
		       const char *id, struct err *e)
{
	int64_t changed = 0;
	int rc = db_execf(db, e, &changed, sql_delete, "sss", tenant_id, workspace_id, id);
	if (!rc && changed == 0)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "no such agent");
	if (!rc)
		rc = store_quota_release(db, tenant_id, "agents", 1, e);
	return rc;
}
