/*
 * Helpers shared by the tenancy stores (store_tenants.c, store_workspaces.c,
 * store_invitations.c, store_quotas.c) and nothing else.
 */
#ifndef DB_TENANCY_INTERNAL_H
#define DB_TENANCY_INTERNAL_H

#include <stddef.h>

#include "db/db.h"
#include "core/err.h"
#include "core/util.h"

/* Column col as text into dst ("" for NULL). */
static inline void tn_col(struct db_stmt *st, int col, char *dst, size_t size)
{
	const char *v = db_column_text(st, col);
	str_copy(dst, size, v ? v : "");
}

/* A db_step() result that must be one row: ERR_NOT_FOUND ("no such <what>") if none. */
static inline int tn_one_row(int rc, struct err *e, const char *what)
{
	if (rc == DB_ROW)
		return 0;
	if (rc == DB_DONE)
		return err_set(e, ERR_NOT_FOUND, NULL, "no such %s", what);
	return rc;
}

/* A bind failure as an error (db_bindf returns a code but fills no struct err). */
static inline int tn_bound(int rc, struct err *e)
{
	return rc < 0 ? err_set(e, rc, NULL, "cannot bind statement parameters") : 0;
}

/* Reset a count metric's usage row (period "") to the real row count, if the
 * row exists (store_quotas.c); after a cascade removed rows. */
int tn_quota_recount(struct db *db, const char *tenant_id, const char *metric, struct err *e);

#endif
