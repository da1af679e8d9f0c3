/*
 * Users, sessions (refresh-token families) and login throttling.
 *
 * A session is a family of refresh tokens: each refresh rotates the token
 * (the old row becomes 'rotated', a child row is 'active'); presenting a
 * rotated token again means it leaked, and the whole family is revoked.
 * Access tokens name the family, so revoking it (logout, password change,
 * role change, disable, reuse) ends them too.
 */
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "core/core.h"

static int one_row(int rc, struct err *e, const char *what)
{
	if (rc == DB_ROW)
		return 0;
	if (rc == DB_DONE)
		return err_set(e, ERR_NOT_FOUND, NULL, "%s not found", what);
	return rc;
}

/* ---- users ------------------------------------------------------------------ */

static const char sql_user_by_email[] =
	"SELECT id, email, name, password_hash, status FROM users WHERE email = ?";
static const char sql_user_by_id[] =
	"SELECT id, email, name, password_hash, status FROM users WHERE id = ?";

static int user_load(struct db *db, const char *sql, const char *key, struct user_row *out,
		     struct err *e)
{
	struct db_stmt *st = NULL;
	int rc = db_prepare(db, sql, &st, e);
	memset(out, 0, sizeof(*out));
	if (!rc && !(rc = db_bindf(st, "s", key)))
		rc = one_row(db_step(st, e), e, "user");
	if (!rc) {
		db_column_copy(st, 0, out->id, sizeof(out->id));
		db_column_copy(st, 1, out->email, sizeof(out->email));
		db_column_copy(st, 2, out->name, sizeof(out->name));
		db_column_copy(st, 3, out->password_hash, sizeof(out->password_hash));
		out->disabled = !strcmp(db_column_text(st, 4) ? db_column_text(st, 4) : "", "disabled");
	}
	db_finalize(st);
	return rc;
}

int store_user_by_email(struct db *db, const char *email, struct user_row *out, struct err *e)
{
	return user_load(db, sql_user_by_email, email, out, e);
}

int store_user_by_id(struct db *db, const char *user_id, struct user_row *out, struct err *e)
{
	return user_load(db, sql_user_by_id, user_id, out, e);
}

int store_user_set_password(struct db *db, const char *user_id, const char *hash, struct err *e)
{
	int64_t now = now_ms(), n = 0;
	int rc = db_execf(db, e, &n,
			  "UPDATE users SET password_hash = ?, password_changed_at = ?, updated_at = ? "
			  "WHERE id = ?",
			  "siis", hash, now, now, user_id);
	if (!rc && n != 1)
		return err_set(e, ERR_NOT_FOUND, NULL, "user not found");
	return rc;
}

int store_user_touch_login(struct db *db, const char *user_id, struct err *e)
{
	return db_execf(db, e, NULL, "UPDATE users SET last_login_at = ? WHERE id = ?", "is",
			(int64_t)now_ms(), user_id);
}

/* The user's membership: in tenant_id when given, else their oldest one. */
int store_membership_get(struct db *db, const char *user_id, const char *tenant_id,
			 struct membership_row *out, struct err *e)
{
	struct db_stmt *st = NULL;
	const char *sql =
		tenant_id ? "SELECT t.id, t.slug, t.name, m.role FROM memberships m "
			    "JOIN tenants t ON t.id = m.tenant_id "
			    "WHERE m.user_id = ? AND m.tenant_id = ? AND t.status = 'active'" :
			    "SELECT t.id, t.slug, t.name, m.role FROM memberships m "
			    "JOIN tenants t ON t.id = m.tenant_id "
			    "WHERE m.user_id = ? AND t.status = 'active' "
			    "ORDER BY m.created_at, t.id LIMIT 1";
	int rc = db_prepare(db, sql, &st, e);
	memset(out, 0, sizeof(*out));
	if (!rc && !(rc = tenant_id ? db_bindf(st, "ss", user_id, tenant_id) :
				     db_bindf(st, "s", user_id)))
		rc = one_row(db_step(st, e), e, "membership");
	if (!rc) {
		db_column_copy(st, 0, out->tenant_id, sizeof(out->tenant_id));
		db_column_copy(st, 1, out->tenant_slug, sizeof(out->tenant_slug));
		db_column_copy(st, 2, out->tenant_name, sizeof(out->tenant_name));
		char role[32];
		db_column_copy(st, 3, role, sizeof(role));
		str_copy(out->role, sizeof(out->role), role);
	}
	db_finalize(st);
	return rc;
}

/* ---- sessions ---------------------------------------------------------------- */

int store_session_create(struct db *db, const struct session_new *in, struct session_row *out,
			 struct err *e)
{
	int64_t now = now_ms();
	memset(out, 0, sizeof(*out));
	uuid_v7(out->id);
	str_copy(out->family_id, sizeof(out->family_id), out->id);
	str_copy(out->tenant_id, sizeof(out->tenant_id), in->tenant_id);
	str_copy(out->user_id, sizeof(out->user_id), in->user_id);
	out->expires_at = in->expires_at;
	return db_execf(db, e, NULL,
			"INSERT INTO sessions (id, tenant_id, user_id, family_id, token_hash, "
			"parent_id, status, kind, ip, user_agent, created_at, last_used_at, "
			"expires_at) VALUES (?, ?, ?, ?, ?, NULL, 'active', ?, ?, ?, ?, ?, ?)",
			"ssssssssiii", out->id, in->tenant_id, in->user_id, out->family_id,
			in->token_hash, in->kind, in->ip, in->user_agent, now, now, in->expires_at);
}

static const char sql_session_by_hash[] =
	"SELECT id, tenant_id, user_id, family_id, status, expires_at, kind "
	"FROM sessions WHERE token_hash = ?";

int store_session_by_hash(struct db *db, const char *token_hash, struct session_row *out,
			  struct err *e)
{
	struct db_stmt *st = NULL;
	int rc = db_prepare(db, sql_session_by_hash, &st, e);
	memset(out, 0, sizeof(*out));
	if (!rc && !(rc = db_bindf(st, "s", token_hash)))
		rc = one_row(db_step(st, e), e, "session");
	if (!rc) {
		char status[16];
		db_column_copy(st, 0, out->id, sizeof(out->id));
		db_column_copy(st, 1, out->tenant_id, sizeof(out->tenant_id));
		db_column_copy(st, 2, out->user_id, sizeof(out->user_id));
		db_column_copy(st, 3, out->family_id, sizeof(out->family_id));
		db_column_copy(st, 4, status, sizeof(status));
		out->expires_at = db_column_int64(st, 5);
		db_column_copy(st, 6, out->kind, sizeof(out->kind));
		out->status = !strcmp(status, "active")	 ? SESSION_ACTIVE :
			      !strcmp(status, "rotated") ? SESSION_ROTATED :
							   SESSION_REVOKED;
	}
	db_finalize(st);
	return rc;
}

int store_session_revoke_family(struct db *db, const char *tenant_id, const char *family_id,
				const char *reason, struct err *e)
{
	return db_execf(db, e, NULL,
			"UPDATE sessions SET status = 'revoked', revoked_at = ?, revoke_reason = ? "
			"WHERE tenant_id = ? AND family_id = ? AND status <> 'revoked'",
			"isss", (int64_t)now_ms(), reason, tenant_id, family_id);
}

int store_sessions_revoke_user(struct db *db, const char *tenant_id, const char *user_id,
			       const char *reason, struct err *e)
{
	if (!tenant_id)
		return db_execf(db, e, NULL,
				"UPDATE sessions SET status = 'revoked', revoked_at = ?, "
				"revoke_reason = ? WHERE user_id = ? AND status <> 'revoked'",
				"iss", (int64_t)now_ms(), reason, user_id);
	return db_execf(db, e, NULL,
			"UPDATE sessions SET status = 'revoked', revoked_at = ?, revoke_reason = ? "
			"WHERE tenant_id = ? AND user_id = ? AND status <> 'revoked'",
			"isss", (int64_t)now_ms(), reason, tenant_id, user_id);
}

/*
 * Rotate: in one write transaction, the presented token's row must be
 * active and unexpired; it becomes 'rotated' and a child row carries the new
 * hash. A rotated token presented again revokes its family (reuse).
 */
int store_session_rotate(struct db *db, const char *old_hash, const char *new_hash,
			 int64_t new_expires, struct session_row *out, int *reused, struct err *e)
{
	struct session_row cur;
	int64_t now = now_ms(), n = 0;
	char id[UUID_STR_LEN];
	int rc = db_begin(db, DB_TX_WRITE, e);
	*reused = 0;
	if (rc)
		return rc;
	if ((rc = store_session_by_hash(db, old_hash, &cur, e)))
		goto out;
	if (cur.status == SESSION_ROTATED) {
		*reused = 1;
		rc = store_session_revoke_family(db, cur.tenant_id, cur.family_id, "refresh_reused", e);
		if (!rc && !(rc = db_commit(db, e)))
			*out = cur;
		return rc ? rc : err_setc(e, ERR_UNAUTHORIZED, "refresh_reused", NULL,
					  "refresh token reused: the session was revoked");
	}
	if (cur.status != SESSION_ACTIVE || cur.expires_at <= now) {
		rc = err_setc(e, ERR_UNAUTHORIZED, "invalid_token", NULL, "session expired or revoked");
		goto out;
	}
	rc = db_execf(db, e, &n,
		      "UPDATE sessions SET status = 'rotated', last_used_at = ? "
		      "WHERE id = ? AND status = 'active'",
		      "is", now, cur.id);
	if (!rc && n != 1)
		rc = err_set(e, ERR_CONFLICT, NULL, "session changed concurrently");
	uuid_v7(id);
	if (!rc)
		rc = db_execf(db, e, NULL,
			      "INSERT INTO sessions (id, tenant_id, user_id, family_id, token_hash, "
			      "parent_id, status, kind, ip, user_agent, created_at, last_used_at, "
			      "expires_at) SELECT ?, tenant_id, user_id, family_id, ?, id, 'active', "
			      "kind, ip, user_agent, ?, ?, ? FROM sessions WHERE id = ?",
			      "ssiiis", id, new_hash, now, now, new_expires, cur.id);
	if (!rc && !(rc = db_commit(db, e))) {
		*out = cur;
		str_copy(out->id, sizeof(out->id), id);
		out->expires_at = new_expires;
		return 0;
	}
out:
	db_rollback(db);
	return rc;
}

/* Per-request check: the family has an active token, the user is active,
 * and their membership role now. */
int store_session_validate(struct db *db, const char *tenant_id, const char *family_id,
			   const char *user_id, char role[16], struct err *e)
{
	struct db_stmt *st = NULL;
	int rc = db_prepare(db,
			    "SELECT m.role FROM sessions s "
			    "JOIN users u ON u.id = s.user_id AND u.status = 'active' "
			    "JOIN memberships m ON m.tenant_id = s.tenant_id AND m.user_id = s.user_id "
			    "WHERE s.tenant_id = ? AND s.family_id = ? AND s.user_id = ? "
			    "AND s.status = 'active' AND s.expires_at > ? LIMIT 1",
			    &st, e);
	if (!rc && !(rc = db_bindf(st, "sssi", tenant_id, family_id, user_id, (int64_t)now_ms())))
		rc = db_step(st, e);
	if (rc == DB_ROW) {
		db_column_copy(st, 0, role, 16);
		rc = 0;
	} else if (rc == DB_DONE) {
		rc = err_setc(e, ERR_UNAUTHORIZED, "invalid_token", NULL, "session ended");
	}
	db_finalize(st);
	return rc;
}

int store_sessions_list(struct db *db, const char *tenant_id, const char *user_id,
			cJSON *items, struct err *e)
{
	struct db_stmt *st = NULL;
	int rc = db_prepare(db,
			    "SELECT family_id, kind, ip, user_agent, MIN(created_at), MAX(last_used_at), "
			    "MAX(expires_at) FROM sessions WHERE tenant_id = ? AND user_id = ? "
			    "AND status = 'active' AND expires_at > ? GROUP BY family_id, kind, ip, "
			    "user_agent ORDER BY MIN(created_at) DESC LIMIT 200",
			    &st, e);
	if (!rc)
		rc = db_bindf(st, "ssi", tenant_id, user_id, (int64_t)now_ms());
	while (!rc && (rc = db_step(st, e)) == DB_ROW) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", db_column_text(st, 0));
		cJSON_AddStringToObject(o, "kind", db_column_text(st, 1));
		cJSON_AddStringToObject(o, "ip", db_column_text(st, 2) ? db_column_text(st, 2) : "");
		cJSON_AddStringToObject(o, "user_agent",
					db_column_text(st, 3) ? db_column_text(st, 3) : "");
		cJSON_AddNumberToObject(o, "created_at", (double)db_column_int64(st, 4));
		cJSON_AddNumberToObject(o, "last_used_at", (double)db_column_int64(st, 5));
		cJSON_AddNumberToObject(o, "expires_at", (double)db_column_int64(st, 6));
		cJSON_AddItemToArray(items, o);
		rc = 0;
	}
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

/* ---- throttling ----------------------------------------------------------------- */

int store_throttle_locked(struct db *db, const char *key, int64_t *locked_until, struct err *e)
{
	int64_t v = 0;
	int rc = db_query_int64(db, e, &v, "SELECT locked_until FROM auth_throttle WHERE key = ?",
				"s", key);
	*locked_until = rc == 0 ? v : 0;
	return rc == ERR_NOT_FOUND ? 0 : rc;
}

/*
 * Count a failure in a sliding window; from `threshold` failures on, lock for
 * base_ms doubling with each further failure, capped at max_ms. Returns the
 * new lock expiry (0 when not locked) in *locked_until.
 */
int store_throttle_fail(struct db *db, const char *key, int threshold, int64_t window_ms,
			int64_t base_ms, int64_t max_ms, int64_t *locked_until, struct err *e)
{
	int64_t now = now_ms(), failures = 0;
	int rc = db_execf(db, e, NULL,
			  "INSERT INTO auth_throttle (key, failures, window_start, locked_until, "
			  "updated_at) VALUES (?, 1, ?, 0, ?) ON CONFLICT (key) DO UPDATE SET "
			  "failures = CASE WHEN auth_throttle.window_start < ? THEN 1 "
			  "ELSE auth_throttle.failures + 1 END, "
			  "window_start = CASE WHEN auth_throttle.window_start < ? THEN ? "
			  "ELSE auth_throttle.window_start END, updated_at = ?",
			  "siiiiii", key, now, now, now - window_ms, now - window_ms, now, now);
	if (!rc)
		rc = db_query_int64(db, e, &failures,
				    "SELECT failures FROM auth_throttle WHERE key = ?", "s", key);
	*locked_until = 0;
	if (rc || failures < threshold)
		return rc;
	int64_t lock = base_ms;
	for (int64_t i = threshold; i < failures && lock < max_ms; i++)
		lock *= 2;
	*locked_until = now + (lock < max_ms ? lock : max_ms);
	return db_execf(db, e, NULL, "UPDATE auth_throttle SET locked_until = ? WHERE key = ?",
			"is", *locked_until, key);
}

int store_throttle_reset(struct db *db, const char *key, struct err *e)
{
	return db_execf(db, e, NULL, "DELETE FROM auth_throttle WHERE key = ?", "s", key);
}
