/*
 * The audit log: append-only (triggers refuse UPDATE and DELETE), written in
 * the caller's transaction when there is one, so a state change and its
 * audit entry commit together. Callers build details from whitelisted
 * fields; no secret is ever passed here.
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
