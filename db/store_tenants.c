/*
 * Tenants and their memberships. Every query filters on the caller's tenant,
 * so another tenant's row answers exactly like a missing one. The last owner
 * of a tenant can be neither demoted nor removed; membership changes of one
 * tenant are serialized by store_tenant_lock() so that two concurrent
 * demotions cannot both pass the "another owner remains" check.
 */
#include <stdint.h>
#include <string.h>

#include "db/db.h"
#include "db/tenancy_internal.h"
#include "core/core.h"

/* --- tenants ------------------------------------------------------------------- */

static const char sql_tenant_get[] =
	"SELECT id, slug, name, plan, status, created_at, updated_at FROM tenants "
	"WHERE id = ? AND (id = ? OR slug = ?)";

int store_tenant_get(struct db *db, const char *tenant_id, const char *id_or_slug,
		     struct tenant_info *out, struct err *e)
{
	struct db_stmt *st = NULL;
	int rc = db_prepare(db, sql_tenant_get, &st, e);
	memset(out, 0, sizeof(*out));
	if (!rc)
		rc = tn_bound(db_bindf(st, "sss", tenant_id, id_or_slug, id_or_slug), e);
	if (!rc)
		rc = tn_one_row(db_step(st, e), e, "tenant");
	if (!rc) {
		tn_col(st, 0, out->id, sizeof(out->id));
		tn_col(st, 1, out->slug, sizeof(out->slug));
		tn_col(st, 2, out->name, sizeof(out->name));
		tn_col(st, 3, out->plan, sizeof(out->plan));
		tn_col(st, 4, out->status, sizeof(out->status));
		out->created_at = db_column_int64(st, 5);
		out->updated_at = db_column_int64(st, 6);
	}
	db_finalize(st);
	return rc;
}

/* NO KEY UPDATE: serializes lockers with each other, but not with inserts of
 * rows referencing the tenant (their KEY SHARE lock), which could deadlock
 * against a locker waiting on a row those inserts hold (the usage counter). */
int store_tenant_lock(struct db *db, const char *tenant_id, struct err *e)
{
	int64_t one = 0;
	int rc = db_query_int64(db, e, &one,
				db_dialect(db) == DB_POSTGRES ?
					"SELECT 1 FROM tenants WHERE id = ? FOR NO KEY UPDATE" :
					"SELECT 1 FROM tenants WHERE id = ?",
				"s", tenant_id);
	if (rc == ERR_NOT_FOUND)
		err_set(e, rc, NULL, "no such tenant");
	return rc;
}

int store_tenant_rename(struct db *db, const char *tenant_id, const char *name, struct err *e)
{
	int64_t n = 0;
	int rc = db_execf(db, e, &n, "UPDATE tenants SET name = ?, updated_at = ? WHERE id = ?",
			  "sis", name, now_ms(), tenant_id);
	if (!rc && n != 1)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "no such tenant");
	return rc;
}

int store_tenant_delete(struct db *db, const char *tenant_id, struct err *e)
{
	int64_t n = 0;
	int rc = db_execf(db, e, &n, "DELETE FROM tenants WHERE id = ?", "s", tenant_id);
	if (!rc && n != 1)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "no such tenant");
	return rc;
}

/* --- memberships -------------------------------------------------------------- */

#define MEMBER_COLS "u.id, u.email, u.name, m.role, m.created_at, u.last_login_at "

static const char sql_members_list[] =
	"SELECT " MEMBER_COLS "FROM memberships m JOIN users u ON u.id = m.user_id "
	"WHERE m.tenant_id = ? AND m.user_id > ? ORDER BY m.user_id LIMIT ?";
static const char sql_member_get[] =
	"SELECT " MEMBER_COLS "FROM memberships m JOIN users u ON u.id = m.user_id "
	"WHERE m.tenant_id = ? AND m.user_id = ?";

static void member_row(struct db_stmt *st, struct member_info *m)
{
	tn_col(st, 0, m->user_id, sizeof(m->user_id));
	tn_col(st, 1, m->email, sizeof(m->email));
	tn_col(st, 2, m->name, sizeof(m->name));
	tn_col(st, 3, m->role, sizeof(m->role));
	m->created_at = db_column_int64(st, 4);
	m->last_login_at = db_column_int64(st, 5); /* NULL (never signed in): 0 */
}

int store_members_list(struct db *db, const char *tenant_id, const char *after,
		       struct member_info *items, int max, int *count, struct err *e)
{
	struct db_stmt *st = NULL;
	int rc = db_prepare(db, sql_members_list, &st, e);
	*count = 0;
	if (!rc)
		rc = tn_bound(db_bindf(st, "ssi", tenant_id, after ? after : "", (int64_t)max), e);
	while (!rc && *count < max && (rc = db_step(st, e)) == DB_ROW) {
		member_row(st, &items[(*count)++]);
		rc = 0;
	}
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

int store_member_get(struct db *db, const char *tenant_id, const char *user_id,
		     struct member_info *out, struct err *e)
{
	struct db_stmt *st = NULL;
	int rc = db_prepare(db, sql_member_get, &st, e);
	memset(out, 0, sizeof(*out));
	if (!rc)
		rc = tn_bound(db_bindf(st, "ss", tenant_id, user_id), e);
	if (!rc)
		rc = tn_one_row(db_step(st, e), e, "member");
	if (!rc)
		member_row(st, out);
	db_finalize(st);
	return rc;
}

/* ERR_CONFLICT "last_owner" when user_id is an owner and no other owner remains. */
static int check_not_last_owner(struct db *db, const char *tenant_id, const char *user_id,
				struct err *e)
{
	int64_t others = 0;
	int rc = db_query_int64(db, e, &others,
				"SELECT count(*) FROM memberships WHERE tenant_id = ? "
				"AND role = 'owner' AND user_id <> ?",
				"ss", tenant_id, user_id);
	if (!rc && others == 0)
		rc = err_setc(e, ERR_CONFLICT, "last_owner", "role",
			      "the tenant's last owner cannot be demoted or removed; "
			      "make someone else an owner first");
	return rc;
}

int store_member_set_role(struct db *db, const char *tenant_id, const char *user_id,
			  const char *role, struct err *e)
{
	struct member_info cur;
	int64_t n = 0;
	int rc = store_member_get(db, tenant_id, user_id, &cur, e);
	if (!rc && !strcmp(cur.role, "owner") && strcmp(role, "owner"))
		rc = check_not_last_owner(db, tenant_id, user_id, e);
	if (!rc)
		rc = db_execf(db, e, &n,
			      "UPDATE memberships SET role = ?, updated_at = ? "
			      "WHERE tenant_id = ? AND user_id = ?",
			      "siss", role, now_ms(), tenant_id, user_id);
	if (!rc && n != 1)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "no such member");
	return rc;
}

int store_member_remove(struct db *db, const char *tenant_id, const char *user_id,
			struct err *e)
{
	struct member_info cur;
	int64_t n = 0;
	int rc = store_member_get(db, tenant_id, user_id, &cur, e);
	if (!rc && !strcmp(cur.role, "owner"))
		rc = check_not_last_owner(db, tenant_id, user_id, e);
	/* Release first: a first-time counter starts from the count with the row. */
	if (!rc)
		rc = store_quota_release(db, tenant_id, "members", 1, e);
	/* workspace_members rows go with it (foreign key, ON DELETE CASCADE). */
	if (!rc)
		rc = db_execf(db, e, &n, "DELETE FROM memberships WHERE tenant_id = ? AND user_id = ?",
			      "ss", tenant_id, user_id);
	if (!rc && n != 1)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "no such member");
	return rc;
}

static const char sql_member_insert[] =
	"INSERT INTO memberships (tenant_id, user_id, role, created_at, updated_at) "
	"VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id, user_id) DO NOTHING";
static const char sql_ws_member_add[] =
	"INSERT INTO workspace_members (tenant_id, workspace_id, user_id, role, created_at) "
	"VALUES (?, ?, ?, NULL, ?) ON CONFLICT (workspace_id, user_id) DO NOTHING";

int store_member_add(struct db *db, const char *tenant_id, const char *user_id,
		     const char *role, const char *workspace_id, struct err *e)
{
	struct workspace_info ws;
	int64_t now = now_ms(), n = 0;
	int rc = store_workspace_get(db, tenant_id, workspace_id, &ws, e);
	if (rc == ERR_NOT_FOUND)
		rc = err_set(e, ERR_NOT_FOUND, "workspace_id", "no such workspace");
	/* Take first: a first-time counter starts from the count without the row. */
	if (!rc)
		rc = store_quota_take(db, tenant_id, "members", 1, e);
	if (!rc)
		rc = db_execf(db, e, &n, sql_member_insert, "sssii", tenant_id, user_id, role, now,
			      now);
	if (!rc && n != 1)
		rc = err_setc(e, ERR_CONFLICT, "already_member", NULL,
			      "this account is already a member of the tenant");
	if (!rc)
		rc = db_execf(db, e, NULL, sql_ws_member_add, "sssi", tenant_id, ws.id, user_id,
			      now);
	return rc;
}
