/*
 * The audit log: append-only (triggers refuse UPDATE and DELETE), written in
 * the caller's transaction when there is one, so a state change and its
 * audit entry commit together. Callers build details from whitelisted
 * fields; no secret is ever passed here.
 * Queries always filter on the caller's tenant.
 */
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "core/core.h"

static const char sql_audit_append[] =
	"INSERT INTO audit_log (id, tenant_id, created_at, actor_type, actor_id, actor_label, "
	"action, resource_type, resource_id, ip, outcome, request_id, details) "
	"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

int store_audit_append(struct db *db, const struct audit_entry *in, struct err *e)
{
	char id[UUID_STR_LEN];
	if (!in->action || !in->outcome || !in->actor_type)
		return err_set(e, ERR_INTERNAL, NULL, "audit entry without action or outcome");
	uuid_v7(id);
	return db_execf(db, e, NULL, sql_audit_append, "ssissssssssss", id, in->tenant_id,
			(int64_t)now_ms(), in->actor_type, in->actor_id, in->actor_label, in->action,
			in->resource_type, in->resource_id, in->ip, in->outcome, in->request_id,
			in->details_json ? in->details_json : "{}");
}

/* "" turns a text filter off; CAST gives PostgreSQL the parameter's type. */
#define TEXT_FILTER(col) " AND (CAST(? AS TEXT) = '' OR " col " = CAST(? AS TEXT))"

static const char sql_audit_list[] =
	"SELECT id, created_at, actor_type, actor_id, actor_label, action, resource_type, "
	"resource_id, ip, outcome, request_id, details FROM audit_log WHERE tenant_id = ?"
	TEXT_FILTER("action")
	" AND (CAST(? AS TEXT) = '' OR substr(action, 1, length(CAST(? AS TEXT))) = "
	"CAST(? AS TEXT))"
	TEXT_FILTER("actor_id") TEXT_FILTER("resource_type") TEXT_FILTER("resource_id")
	TEXT_FILTER("outcome")
	" AND created_at >= ? AND created_at <= ?"
	" AND (created_at < ? OR (created_at = ? AND id < ?))"
	" ORDER BY created_at DESC, id DESC LIMIT ?";

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

static int audit_bind(struct db_stmt *st, const char *tenant_id, const struct audit_filter *f,
		      struct err *e)
{
	const char *action = or_empty(f->action), *prefix = or_empty(f->action_prefix);
	const char *actor = or_empty(f->actor_id), *rtype = or_empty(f->resource_type);
	const char *rid = or_empty(f->resource_id), *outcome = or_empty(f->outcome);
	int64_t before = f->before_id ? f->before_ms : INT64_MAX;
	int ret = db_bindf(st, "s" "ss" "sss" "ss" "ss" "ss" "ss" "ii" "iis" "i", tenant_id,
			   action, action, prefix, prefix, prefix, actor, actor, rtype, rtype, rid,
			   rid, outcome, outcome, f->since, f->until, before, before,
			   or_empty(f->before_id), f->limit);
	return ret < 0 ? err_set(e, ret, NULL, "cannot bind the audit filter") : 0;
}

static void audit_row_read(struct db_stmt *st, struct audit_row *row)
{
	row->id = db_column_text(st, 0);
	row->created_at = db_column_int64(st, 1);
	row->actor_type = db_column_text(st, 2);
	row->actor_id = db_column_text(st, 3);
	row->actor_label = db_column_text(st, 4);
	row->action = db_column_text(st, 5);
	row->resource_type = db_column_text(st, 6);
	row->resource_id = db_column_text(st, 7);
	row->ip = db_column_text(st, 8);
	row->outcome = db_column_text(st, 9);
	row->request_id = db_column_text(st, 10);
	row->details = db_column_text(st, 11);
}

int store_audit_list(struct db *db, const char *tenant_id, const struct audit_filter *f,
		     int (*fn)(void *ctx, const struct audit_row *row), void *ctx, struct err *e)
{
	struct db_stmt *st = NULL;
	struct audit_row row;
	int ret;
	if (!tenant_id || !tenant_id[0])
		return err_set(e, ERR_INTERNAL, NULL, "audit query without a tenant");
	if ((ret = db_prepare(db, sql_audit_list, &st, e)) < 0 ||
	    (ret = audit_bind(st, tenant_id, f, e)) < 0)
		goto out;
	while ((ret = db_step(st, e)) == DB_ROW) {
		audit_row_read(st, &row);
		if ((ret = fn(ctx, &row)) != 0)
			goto out;
	}
out:
	db_finalize(st);
	return ret;
}
