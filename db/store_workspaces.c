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
#include "core/core.h"

/* auth/'s enum role numbering: the index is the role (0 = none). */
static const char *const role_names[] = { "", "viewer", "operator", "developer", "admin",
					  "owner" };
#define ROLE_ADMIN_RANK 4

static int role_rank(const char *s)
{
	for (int i = 1; s && i < (int)ARRAY_SIZE(role_names); i++)
		if (!strcmp(s, role_names[i]))
			return i;
	return 0;
}

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
	int override = role_rank(db_column_text(st, 2));
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
