/*
 * Invitations: an admin invites an email address into the tenant with a
 * role; the link carries a random token of which only the hash is stored.
 * An invitation is pending until it is accepted, revoked or expires, and is
 * accepted at most once (a conditional update, so racing accepts cannot
 * both win). Looking an invitation up by its token hash is the one query
 * here without a tenant: the token itself is the credential.
 */
#include <stdint.h>
#include <string.h>

#include "db/db.h"
#include "db/tenancy_internal.h"
#include "core/core.h"

#define INV_COLS "id, tenant_id, workspace_id, email, role, created_by, expires_at, created_at "
#define PENDING "accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?"

static void inv_row(struct db_stmt *st, struct invitation_info *v)
{
	tn_col(st, 0, v->id, sizeof(v->id));
	tn_col(st, 1, v->tenant_id, sizeof(v->tenant_id));
	tn_col(st, 2, v->workspace_id, sizeof(v->workspace_id));
	tn_col(st, 3, v->email, sizeof(v->email));
	tn_col(st, 4, v->role, sizeof(v->role));
	tn_col(st, 5, v->created_by, sizeof(v->created_by));
	v->expires_at = db_column_int64(st, 6);
	v->created_at = db_column_int64(st, 7);
}

static const char sql_inv_insert[] =
	"INSERT INTO invitations (id, tenant_id, workspace_id, email, role, token_hash, "
	"expires_at, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char sql_is_member[] =
	"SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id "
	"WHERE m.tenant_id = ? AND u.email = ?";

int store_invitation_create(struct db *db, const struct invitation_new *in,
			    struct invitation_info *out, struct err *e)
{
	struct workspace_info ws;
	int64_t n = 0;
	int rc = 0;
	memset(out, 0, sizeof(*out));
	if (in->workspace_id && (rc = store_workspace_get(db, in->tenant_id, in->workspace_id,
							  &ws, e)) == ERR_NOT_FOUND)
		rc = err_set(e, ERR_NOT_FOUND, "workspace_id", "no such workspace");
	if (!rc)
		rc = db_query_int64(db, e, &n, sql_is_member, "ss", in->tenant_id, in->email);
	if (!rc && n > 0)
		rc = err_setc(e, ERR_CONFLICT, "already_member", "email",
			      "this email already belongs to a member of the tenant");
	if (rc)
		return rc;
	uuid_v7(out->id);
	str_copy(out->tenant_id, sizeof(out->tenant_id), in->tenant_id);
	str_copy(out->workspace_id, sizeof(out->workspace_id), in->workspace_id ? ws.id : "");
	str_copy(out->email, sizeof(out->email), in->email);
	str_copy(out->role, sizeof(out->role), in->role);
	str_copy(out->created_by, sizeof(out->created_by), in->created_by ? in->created_by : "");
	out->expires_at = in->expires_at;
	out->created_at = now_ms();
	return db_execf(db, e, NULL, sql_inv_insert, "ssssssisi", out->id, in->tenant_id,
			in->workspace_id ? ws.id : NULL, in->email, in->role, in->token_hash,
			in->expires_at, in->created_by, out->created_at);
}

static const char sql_inv_list[] =
	"SELECT " INV_COLS "FROM invitations WHERE tenant_id = ? AND " PENDING
	" AND id > ? ORDER BY id LIMIT ?";

int store_invitations_list(struct db *db, const char *tenant_id, const char *after,
			   struct invitation_info *items, int max, int *count, struct err *e)
{
	struct db_stmt *st = NULL;
	int rc = db_prepare(db, sql_inv_list, &st, e);
	*count = 0;
	if (!rc)
		rc = tn_bound(db_bindf(st, "sisi", tenant_id, now_ms(), after ? after : "",
				       (int64_t)max),
			      e);
	while (!rc && *count < max && (rc = db_step(st, e)) == DB_ROW) {
		inv_row(st, &items[(*count)++]);
		rc = 0;
	}
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

int store_invitation_revoke(struct db *db, const char *tenant_id, const char *id,
			    struct err *e)
{
	int64_t n = 0;
	int rc = db_execf(db, e, &n,
			  "UPDATE invitations SET revoked_at = ? WHERE tenant_id = ? AND id = ? "
			  "AND accepted_at IS NULL AND revoked_at IS NULL",
			  "iss", now_ms(), tenant_id, id);
	if (!rc && n != 1)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "no such pending invitation");
	return rc;
}

int store_invitation_by_hash(struct db *db, const char *token_hash, struct invitation_info *out,
			     struct err *e)
{
	struct db_stmt *st = NULL;
	int rc = db_prepare(db, "SELECT " INV_COLS "FROM invitations WHERE token_hash = ? AND "
			    PENDING, &st, e);
	memset(out, 0, sizeof(*out));
	if (!rc)
		rc = tn_bound(db_bindf(st, "si", token_hash, now_ms()), e);
	if (!rc)
		rc = tn_one_row(db_step(st, e), e, "invitation");
	if (!rc)
		inv_row(st, out);
	db_finalize(st);
	return rc;
}

int store_invitation_mark_accepted(struct db *db, const char *tenant_id, const char *id,
				   const char *user_id, struct err *e)
{
	int64_t n = 0, now = now_ms();
	int rc = db_execf(db, e, &n,
			  "UPDATE invitations SET accepted_at = ?, accepted_by = ? "
			  "WHERE tenant_id = ? AND id = ? AND " PENDING,
			  "isssi", now, user_id, tenant_id, id, now);
	if (!rc && n != 1)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "no such invitation");
	return rc;
}

static const char sql_user_insert[] =
	"INSERT INTO users (id, email, name, password_hash, status, email_verified, created_at, "
	"updated_at, password_changed_at) VALUES (?, ?, ?, ?, 'active', 0, ?, ?, ?) "
	"ON CONFLICT (email) DO NOTHING";

int store_user_create_invited(struct db *db, const char *email, const char *name,
			      const char *password_hash, char id_out[UUID_STR_LEN],
			      struct err *e)
{
	int64_t n = 0, now = now_ms();
	uuid_v7(id_out);
	int rc = db_execf(db, e, &n, sql_user_insert, "ssssiii", id_out, email, name,
			  password_hash, now, now, now);
	if (!rc && n != 1)
		rc = err_setc(e, ERR_CONFLICT, "account_exists", "email",
			      "an account with this email exists; sign in to accept the invitation");
	return rc;
}
