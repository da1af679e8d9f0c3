/*
 * Patterns of a workspace and their immutable versions: create (pattern
 * and version 1 together, taking a "patterns" quota unit), get by id or
 * name, list newest first, add a version (numbered under the pattern row's
 * lock, so concurrent adds never collide), and delete (releasing the unit).
 * Every statement filters on the tenant and the workspace.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "core/core.h"

#define PATTERN_COLS                                                                       \
	"id, workspace_id, name, description, latest_version, created_at, updated_at "
#define VERSION_COLS                                                                       \
	"v.id, v.pattern_id, v.version, v.definition, v.message, v.created_at, v.created_by, " \
	"u.name "
#define VERSION_FROM                                                                       \
	"FROM pattern_versions v JOIN patterns p ON p.tenant_id = v.tenant_id AND "       \
	"p.id = v.pattern_id LEFT JOIN users u ON u.id = v.created_by "                     \
	"WHERE p.tenant_id = ? AND p.workspace_id = ? AND p.id = ? "

static const char sql_insert[] =
	"INSERT INTO patterns (id, tenant_id, workspace_id, name, description, latest_version, "
	"created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?)";
static const char sql_insert_version[] =
	"INSERT INTO pattern_versions (id, tenant_id, pattern_id, version, definition, message, "
	"created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
static const char sql_get[] =
	"SELECT " PATTERN_COLS "FROM patterns WHERE tenant_id = ? AND workspace_id = ? "
	"AND (id = ? OR name = ?)";
static const char sql_list[] =
	"SELECT " PATTERN_COLS "FROM patterns WHERE tenant_id = ? AND workspace_id = ? "
	"AND (updated_at < ? OR (updated_at = ? AND id < ?)) "
	"ORDER BY updated_at DESC, id DESC LIMIT ?";
static const char sql_bump[] =
	"UPDATE patterns SET latest_version = latest_version + 1, updated_at = ? "
	"WHERE tenant_id = ? AND workspace_id = ? AND id = ?";
static const char sql_latest[] =
	"SELECT latest_version FROM patterns WHERE tenant_id = ? AND workspace_id = ? AND id = ?";
static const char sql_version_get[] = "SELECT " VERSION_COLS VERSION_FROM "AND v.version = ?";
static const char sql_versions_list[] =
	"SELECT " VERSION_COLS VERSION_FROM "AND v.version < ? ORDER BY v.version DESC LIMIT ?";
/* ordered by created_at alone, which executions_pattern_idx (tenant_id, pattern_id,
 * created_at) gives as is: with an id tie-break SQLite, before ANALYZE, walks
 * executions_list_idx instead, the whole workspace for a rarely run pattern */
static const char sql_runs[] =
	"SELECT id, status, pattern_version, confidence, created_at, started_at, finished_at "
	"FROM executions WHERE tenant_id = ? AND pattern_id = ? AND workspace_id = ? "
	"ORDER BY created_at DESC LIMIT ?";
static const char sql_delete[] =
	"DELETE FROM patterns WHERE tenant_id = ? AND workspace_id = ? AND id = ?";

void store_pattern_version_release(struct pattern_version_row *v)
{
	free(v->definition);
	v->definition = NULL;
}

static void pattern_row(struct db_stmt *st, struct pattern_row *p)
{
	memset(p, 0, sizeof(*p));
	db_column_copy(st, 0, p->id, sizeof(p->id));
	db_column_copy(st, 1, p->workspace_id, sizeof(p->workspace_id));
	db_column_copy(st, 2, p->name, sizeof(p->name));
	db_column_copy(st, 3, p->description, sizeof(p->description));
	p->latest_version = db_column_int64(st, 4);
	p->created_at = db_column_int64(st, 5);
	p->updated_at = db_column_int64(st, 6);
}

static void version_row(struct db_stmt *st, struct pattern_version_row *v)
{
	memset(v, 0, sizeof(*v));
	db_column_copy(st, 0, v->id, sizeof(v->id));
	db_column_copy(st, 1, v->pattern_id, sizeof(v->pattern_id));
	v->version = db_column_int64(st, 2);
	v->definition = xstrdup(db_column_text(st, 3) ? db_column_text(st, 3) : "{}");
	db_column_copy(st, 4, v->message, sizeof(v->message));
	v->created_at = db_column_int64(st, 5);
	db_column_copy(st, 6, v->created_by, sizeof(v->created_by));
	db_column_copy(st, 7, v->author, sizeof(v->author));
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
			"a pattern with this name exists in the workspace already");
}

int store_pattern_create(struct db *db, const char *tenant_id, const struct pattern_row *in,
			 const char *definition, const char *created_by,
			 struct pattern_row *out, struct err *e)
{
	char vid[UUID_STR_LEN];
	int64_t now = now_ms();
	int rc = store_quota_take(db, tenant_id, "patterns", 1, e);
	*out = *in;
	uuid_v7(out->id);
	uuid_v7(vid);
	out->latest_version = 1;
	out->created_at = out->updated_at = now;
	if (!rc)
		rc = name_taken(db_execf(db, e, NULL, sql_insert, "ssssssii", out->id, tenant_id,
					 in->workspace_id, in->name, in->description, created_by,
					 now, now),
				e);
	if (!rc)
		rc = db_execf(db, e, NULL, sql_insert_version, "sssisssi", vid, tenant_id, out->id,
			      (int64_t)1, definition, "", created_by, now);
	return rc;
}

int store_pattern_get(struct db *db, const char *tenant_id, const char *workspace_id,
		      const char *id_or_name, struct pattern_row *out, struct err *e)
{
	struct db_stmt *st = NULL;
	int rc = db_prepare(db, sql_get, &st, e);
	memset(out, 0, sizeof(*out));
	if (!rc)
		rc = bound(db_bindf(st, "ssss", tenant_id, workspace_id, id_or_name, id_or_name), e);
	if (!rc && (rc = db_step(st, e)) == DB_DONE)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "no such pattern");
	if (rc == DB_ROW) {
		pattern_row(st, out);
		rc = 0;
	}
	db_finalize(st);
	return rc;
}

int store_patterns_list(struct db *db, const char *tenant_id, const char *workspace_id,
			int64_t before_ms, const char *before_id, struct pattern_row *items,
			int max, int *count, struct err *e)
{
	struct db_stmt *st = NULL;
	int rc = db_prepare(db, sql_list, &st, e);
	*count = 0;
	if (!before_id) {
		before_ms = INT64_MAX;
		before_id = "";
	}
	if (!rc)
		rc = bound(db_bindf(st, "ssiisi", tenant_id, workspace_id, before_ms, before_ms,
				    before_id, (int64_t)max),
			   e);
	while (!rc && *count < max && (rc = db_step(st, e)) == DB_ROW) {
		pattern_row(st, &items[(*count)++]);
		rc = 0;
	}
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

int store_pattern_add_version(struct db *db, const char *tenant_id, const struct pattern_row *p,
			      const char *definition, const char *message,
			      const char *created_by, struct pattern_version_row *out,
			      struct err *e)
{
	int64_t changed = 0, version = 0, now = now_ms();
	/* The UPDATE locks the pattern row: a concurrent add waits, then reads
	 * the number this one took. */
	int rc = db_execf(db, e, &changed, sql_bump, "isss", now, tenant_id, p->workspace_id,
			  p->id);
	memset(out, 0, sizeof(*out));
	if (!rc && changed == 0)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "no such pattern");
	if (!rc)
		rc = db_query_int64(db, e, &version, sql_latest, "sss", tenant_id, p->workspace_id,
				    p->id);
	if (rc)
		return rc;
	uuid_v7(out->id);
	str_copy(out->pattern_id, sizeof(out->pattern_id), p->id);
	str_copy(out->message, sizeof(out->message), message ? message : "");
	str_copy(out->created_by, sizeof(out->created_by), created_by ? created_by : "");
	out->definition = xstrdup(definition);
	out->version = version;
	out->created_at = now;
	if (created_by)
		rc = db_query_text(db, e, out->author, sizeof(out->author),
				   "SELECT name FROM users WHERE id = ?", "s", created_by);
	if (rc == ERR_NOT_FOUND) { /* the account is gone */
		err_clear(e);
		rc = 0;
	}
	if (rc)
		return rc;
	return db_execf(db, e, NULL, sql_insert_version, "sssisssi", out->id, tenant_id, p->id,
			version, definition, out->message, created_by, now);
}

int store_pattern_version_get(struct db *db, const char *tenant_id, const struct pattern_row *p,
			      int64_t version, struct pattern_version_row *out, struct err *e)
{
	struct db_stmt *st = NULL;
	int rc = db_prepare(db, sql_version_get, &st, e);
	memset(out, 0, sizeof(*out));
	if (!rc)
		rc = bound(db_bindf(st, "sssi", tenant_id, p->workspace_id, p->id, version), e);
	if (!rc && (rc = db_step(st, e)) == DB_DONE)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "no such version");
	if (rc == DB_ROW) {
		version_row(st, out);
		rc = 0;
	}
	db_finalize(st);
	return rc;
}

int store_pattern_versions_list(struct db *db, const char *tenant_id,
				const struct pattern_row *p, int64_t before_version,
				struct pattern_version_row *items, int max, int *count,
				struct err *e)
{
	struct db_stmt *st = NULL;
	int rc = db_prepare(db, sql_versions_list, &st, e);
	*count = 0;
	if (before_version <= 0)
		before_version = INT64_MAX;
	if (!rc)
		rc = bound(db_bindf(st, "sssii", tenant_id, p->workspace_id, p->id, before_version,
				    (int64_t)max),
			   e);
	while (!rc && *count < max && (rc = db_step(st, e)) == DB_ROW) {
		version_row(st, &items[(*count)++]);
		rc = 0;
	}
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

int store_pattern_runs(struct db *db, const char *tenant_id, const char *workspace_id,
		       const char *pattern_id, struct pattern_run_row *items, int max, int *count,
		       struct err *e)
{
	struct db_stmt *st = NULL;
	int rc = db_prepare_bindf(db, e, &st, sql_runs, "sssi", tenant_id, pattern_id,
				  workspace_id, (int64_t)max);
	*count = 0;
	while (!rc && *count < max && (rc = db_step(st, e)) == DB_ROW) {
		struct pattern_run_row *x = &items[(*count)++];
		memset(x, 0, sizeof(*x));
		db_column_copy(st, 0, x->id, sizeof(x->id));
		db_column_copy(st, 1, x->status, sizeof(x->status));
		x->version = db_column_int64(st, 2);
		x->has_confidence = !db_column_is_null(st, 3);
		x->confidence = x->has_confidence ? db_column_double(st, 3) : 0;
		x->created_at = db_column_int64(st, 4);
		x->started_at = db_column_int64(st, 5);
		x->finished_at = db_column_int64(st, 6);
		rc = 0;
	}
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

int store_pattern_delete(struct db *db, const char *tenant_id, const struct pattern_row *p,
			 struct err *e)
{
	int64_t changed = 0;
	int rc = db_execf(db, e, &changed, sql_delete, "sss", tenant_id, p->workspace_id, p->id);
	if (!rc && changed == 0)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "no such pattern");
	if (!rc)
		rc = store_quota_release(db, tenant_id, "patterns", 1, e);
	return rc;
}
