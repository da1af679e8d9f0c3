/*
 * Workspaces and their member lists, always inside the caller's tenant, and
 * the resolution of "which workspace, with which role" that the dispatcher
 * does for every authenticated request. A workspace of another tenant is
 * indistinguishable from a missing one (ERR_NOT_FOUND).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/tenancy_internal.h"
#include "core/core.h"

/* auth/'s enum role numbering: the index is the role (0 = none). */
#define ROLE_ADMIN_RANK 4

/* --- resolution ------------------------------------------------------------------ */

static const char sql_resolve_by_key[] =
	"SELECT w.id, m.user_id, m.role FROM workspaces w "
	"LEFT JOIN workspace_members m ON m.tenant_id = w.tenant_id AND m.workspace_id = w.id "
	"AND m.user_id = ? WHERE w.tenant_id = ? AND (w.id = ? OR w.slug = ?)";
static const char sql_resolve_default[] =
	"SELECT w.id, m.user_id, m.role FROM workspaces w "
	"LEFT JOIN workspace_members m ON m.tenant_id = w.tenant_id AND m.workspace_id = w.id "
	"AND m.user_id = ? WHERE w.tenant_id = ? AND w.is_default = 1";

int store_workspace_resolve(struct db *db, const char *tenant_id, const char *user_id,
			    int tenant_role, const char *ws_id_or_slug, char ws_out[UUID_STR_LEN],
			    int *role_out, struct err *e)
{
	struct db_stmt *st = NULL;
	int ret = db_prepare(db, ws_id_or_slug ? sql_resolve_by_key : sql_resolve_default, &st, e);
	if (ret < 0)
		goto out;
	ret = ws_id_or_slug ? db_bindf(st, "ssss", user_id, tenant_id, ws_id_or_slug,
				       ws_id_or_slug) :
			      db_bindf(st, "ss", user_id, tenant_id);
	if (ret < 0) {
		err_set(e, ret, NULL, "cannot bind the workspace key");
		goto out;
	}
	ret = db_step(st, e);
	if (ret == DB_DONE || (ret == DB_ROW && tenant_role <= 0))
		ret = err_set(e, ERR_NOT_FOUND, NULL, "no such workspace");
	if (ret < 0)
		goto out;
	int override = role_parse(db_column_text(st, 2));
	if (tenant_role < ROLE_ADMIN_RANK && db_column_is_null(st, 1)) {
		ret = err_set(e, ERR_NOT_FOUND, NULL, "no such workspace");
		goto out;
	}
	str_copy(ws_out, UUID_STR_LEN, db_column_text(st, 0));
	*role_out = tenant_role >= ROLE_ADMIN_RANK || !override ? tenant_role : override;
	ret = 0;
out:
	db_finalize(st);
	return ret;
}

/* --- workspaces --------------------------------------------------------------------- */

#define WS_COLS "id, slug, name, description, is_default, created_at, updated_at "

static const char sql_ws_list_all[] =
	"SELECT " WS_COLS "FROM workspaces WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?";
static const char sql_ws_list_member[] =
	"SELECT " WS_COLS "FROM workspaces w WHERE tenant_id = ? AND id > ? AND EXISTS "
	"(SELECT 1 FROM workspace_members m WHERE m.tenant_id = w.tenant_id "
	"AND m.workspace_id = w.id AND m.user_id = ?) ORDER BY id LIMIT ?";
static const char sql_ws_get[] =
	"SELECT " WS_COLS "FROM workspaces WHERE tenant_id = ? AND (id = ? OR slug = ?)";
static const char sql_ws_get_default[] =
	"SELECT " WS_COLS "FROM workspaces WHERE tenant_id = ? AND is_default = 1";

static void ws_row(struct db_stmt *st, struct workspace_info *w)
{
	tn_col(st, 0, w->id, sizeof(w->id));
	tn_col(st, 1, w->slug, sizeof(w->slug));
	tn_col(st, 2, w->name, sizeof(w->name));
	tn_col(st, 3, w->description, sizeof(w->description));
	w->is_default = db_column_int64(st, 4) != 0;
	w->created_at = db_column_int64(st, 5);
	w->updated_at = db_column_int64(st, 6);
}

int store_workspaces_list(struct db *db, const char *tenant_id, const char *member_id,
			  const char *after, struct workspace_info *items, int max, int *count,
			  struct err *e)
{
	struct db_stmt *st = NULL;
	int rc = db_prepare(db, member_id ? sql_ws_list_member : sql_ws_list_all, &st, e);
	*count = 0;
	after = after ? after : "";
	if (!rc)
		rc = tn_bound(member_id ? db_bindf(st, "sssi", tenant_id, after, member_id,
						   (int64_t)max) :
					  db_bindf(st, "ssi", tenant_id, after, (int64_t)max),
			      e);
	while (!rc && *count < max && (rc = db_step(st, e)) == DB_ROW) {
		ws_row(st, &items[(*count)++]);
		rc = 0;
	}
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

int store_workspace_get(struct db *db, const char *tenant_id, const char *id_or_slug,
			struct workspace_info *out, struct err *e)
{
	struct db_stmt *st = NULL;
	int rc = db_prepare(db, id_or_slug ? sql_ws_get : sql_ws_get_default, &st, e);
	memset(out, 0, sizeof(*out));
	if (!rc)
		rc = tn_bound(id_or_slug ? db_bindf(st, "sss", tenant_id, id_or_slug, id_or_slug) :
					   db_bindf(st, "s", tenant_id),
			      e);
	if (!rc)
		rc = tn_one_row(db_step(st, e), e, "workspace");
	if (!rc)
		ws_row(st, out);
	db_finalize(st);
	return rc;
}

static const char sql_ws_insert[] =
	"INSERT INTO workspaces (id, tenant_id, slug, name, description, is_default, created_at, "
	"updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)";

int store_workspace_create(struct db *db, const char *tenant_id, const struct workspace_info *in,
			   struct workspace_info *out, struct err *e)
{
	int64_t now = now_ms();
	int rc = store_quota_take(db, tenant_id, "workspaces", 1, e);
	*out = *in;
	uuid_v7(out->id);
	out->is_default = 0;
	out->created_at = out->updated_at = now;
	if (!rc)
		rc = db_execf(db, e, NULL, sql_ws_insert, "sssssii", out->id, tenant_id, in->slug,
			      in->name, in->description, now, now);
	if (rc == ERR_CONFLICT)
		rc = err_setc(e, ERR_CONFLICT, "slug_taken", "slug",
			      "a workspace with this slug exists already");
	return rc;
}

int store_workspace_update(struct db *db, const char *tenant_id, const char *id,
			   const char *slug, const char *name, const char *description,
			   struct err *e)
{
	int64_t n = 0;
	int rc = db_execf(db, e, &n,
			  "UPDATE workspaces SET slug = COALESCE(?, slug), name = COALESCE(?, name), "
			  "description = COALESCE(?, description), updated_at = ? "
			  "WHERE tenant_id = ? AND id = ?",
			  "sssiss", slug, name, description, now_ms(), tenant_id, id);
	if (rc == ERR_CONFLICT)
		return err_setc(e, ERR_CONFLICT, "slug_taken", "slug",
				"a workspace with this slug exists already");
	if (!rc && n != 1)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "no such workspace");
	return rc;
}

int store_workspace_delete(struct db *db, const char *tenant_id, const char *id,
			   struct err *e)
{
	static const char *const recount[] = { "agents", "patterns", "concurrent_executions" };
	struct workspace_info ws;
	int64_t n = 0;
	int rc = store_workspace_get(db, tenant_id, id, &ws, e);
	if (!rc && ws.is_default)
		rc = err_setc(e, ERR_CONFLICT, "default_workspace", NULL,
			      "the default workspace cannot be deleted");
	/* Release first: a first-time counter starts from the count with the row. */
	if (!rc)
		rc = store_quota_release(db, tenant_id, "workspaces", 1, e);
	if (!rc)
		rc = db_execf(db, e, &n, "DELETE FROM workspaces WHERE tenant_id = ? AND id = ?",
			      "ss", tenant_id, ws.id);
	if (!rc && n != 1)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "no such workspace");
	/* Its agents, patterns and executions went by cascade: recount them. */
	for (size_t i = 0; !rc && i < ARRAY_SIZE(recount); i++)
		rc = tn_quota_recount(db, tenant_id, recount[i], e);
	return rc;
}

/* --- workspace members ---------------------------------------------------------------- */

static const char sql_wsm_list[] =
	"SELECT u.id, u.email, u.name, m.role, wm.role, wm.created_at FROM workspace_members wm "
	"JOIN memberships m ON m.tenant_id = wm.tenant_id AND m.user_id = wm.user_id "
	"JOIN users u ON u.id = wm.user_id "
	"WHERE wm.tenant_id = ? AND wm.workspace_id = ? AND wm.user_id > ? "
	"ORDER BY wm.user_id LIMIT ?";

int store_workspace_members_list(struct db *db, const char *tenant_id, const char *ws_id,
				 const char *after, struct workspace_member_info *items, int max,
				 int *count, struct err *e)
{
	struct db_stmt *st = NULL;
	int rc = db_prepare(db, sql_wsm_list, &st, e);
	*count = 0;
	if (!rc)
		rc = tn_bound(db_bindf(st, "sssi", tenant_id, ws_id, after ? after : "",
				       (int64_t)max),
			      e);
	while (!rc && *count < max && (rc = db_step(st, e)) == DB_ROW) {
		struct workspace_member_info *m = &items[(*count)++];
		tn_col(st, 0, m->user_id, sizeof(m->user_id));
		tn_col(st, 1, m->email, sizeof(m->email));
		tn_col(st, 2, m->name, sizeof(m->name));
		tn_col(st, 3, m->tenant_role, sizeof(m->tenant_role));
		tn_col(st, 4, m->role, sizeof(m->role));
		m->created_at = db_column_int64(st, 5);
		rc = 0;
	}
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

static const char sql_wsm_upsert[] =
	"INSERT INTO workspace_members (tenant_id, workspace_id, user_id, role, created_at) "
	"VALUES (?, ?, ?, ?, ?) ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = "
	"excluded.role";

int store_workspace_member_put(struct db *db, const char *tenant_id, const char *ws_id,
			       const char *user_id, const char *role, int *created,
			       struct err *e)
{
	int64_t n = 0;
	int rc = db_query_int64(db, e, &n,
				"SELECT count(*) FROM memberships WHERE tenant_id = ? AND user_id = ?",
				"ss", tenant_id, user_id);
	if (!rc && n == 0)
		rc = err_set(e, ERR_NOT_FOUND, "user_id", "no such member of this tenant");
	if (!rc)
		rc = db_query_int64(db, e, &n,
				    "SELECT count(*) FROM workspace_members WHERE tenant_id = ? "
				    "AND workspace_id = ? AND user_id = ?",
				    "sss", tenant_id, ws_id, user_id);
	*created = !rc && n == 0;
	if (!rc)
		rc = db_execf(db, e, NULL, sql_wsm_upsert, "ssssi", tenant_id, ws_id, user_id, role,
			      now_ms());
	return rc;
}

int store_workspace_member_remove(struct db *db, const char *tenant_id, const char *ws_id,
				  const char *user_id, struct err *e)
{
	int64_t n = 0;
	int rc = db_execf(db, e, &n,
			  "DELETE FROM workspace_members WHERE tenant_id = ? AND workspace_id = ? "
			  "AND user_id = ?",
			  "sss", tenant_id, ws_id, user_id);
	if (!rc && n != 1)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "no such workspace member");
	return rc;
}
