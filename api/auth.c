/*
 * /api/v1/auth: login, refresh (rotating), logout, me, password change and
 * the caller's sessions. Tokens appear only in the response that creates
 * them; the audit log records who and what, never a secret.
 */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "auth/auth.h"
#include "db/db.h"
#include "server/server.h"
#include "core/core.h"

static cJSON *user_json(const struct user_row *u)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "id", u->id);
	cJSON_AddStringToObject(j, "email", u->email);
	cJSON_AddStringToObject(j, "name", u->name);
	return j;
}

static cJSON *tenant_json(const struct membership_row *m)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "id", m->tenant_id);
	cJSON_AddStringToObject(j, "slug", m->tenant_slug);
	cJSON_AddStringToObject(j, "name", m->tenant_name);
	return j;
}

static int token_response(struct req *r, struct login_result *res)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "access_token", res->access_token);
	cJSON_AddStringToObject(j, "refresh_token", res->refresh_token);
	cJSON_AddStringToObject(j, "token_type", "Bearer");
	cJSON_AddNumberToObject(j, "expires_in", res->expires_in);
	cJSON_AddItemToObject(j, "user", user_json(&res->user));
	cJSON *t = tenant_json(&res->membership);
	cJSON_AddStringToObject(t, "role", res->membership.role);
	cJSON_AddItemToObject(j, "tenant", t);
	return req_json(r, 200, j);
}

/* Throttle answers carry Retry-After; the login bucket is per IP. */
int api_login_throttle(struct req *r)
{
	char key[96], after[16];
	snprintf(key, sizeof(key), "login:%s", r->remote_ip);
	int wait = ratelimit_take(key, r->app->cfg->login_rpm);
	if (!wait)
		return 0;
	snprintf(after, sizeof(after), "%d", wait);
	req_add_header(r, "Retry-After", after);
	return req_fail(r, ERR_RATE_LIMITED, "rate_limited", "login_rpm",
			"too many sign-in attempts (limit %d a minute); retry in %d s",
			r->app->cfg->login_rpm, wait);
}

/* Audit a sign-in attempt; the tenant is the user's when known. */
void api_audit_login(struct req *r, const struct login_result *res, int rc)
{
	cJSON *d = cJSON_CreateObject();
	if (rc)
		cJSON_AddStringToObject(d, "reason", err_slug(&r->err));
	/* A failure against a known account goes to that account's tenant, so
	 * its admins see it; the actor stays anonymous. */
	str_copy(r->auth.tenant_id, sizeof(r->auth.tenant_id), res->membership.tenant_id);
	if (!rc) {
		str_copy(r->auth.user_id, sizeof(r->auth.user_id), res->user.id);
		r->auth.kind = AUTH_TOKEN;
	}
	req_audit(r, rc ? "auth.login_failed" : "auth.login", "user",
		  res->user_known ? res->user.id : NULL, rc ? "failure" : "success", d);
	memset(&r->auth, 0, sizeof(r->auth));
}

int api_auth_login(struct req *r)
{
	static const char *const fields[] = { "email", "password", "tenant", NULL };
	struct login_request in = { .kind = "api", .ip = r->remote_ip,
				    .user_agent = req_header(r, "User-Agent") };
	struct login_result res;
	struct db *db;
	int rc;
	if ((rc = json_only_fields(r->json, fields, &r->err)) ||
	    (rc = json_get_str(r->json, "email", JSON_REQUIRED, 254, &in.email, &r->err)) < 0 ||
	    (rc = json_get_str(r->json, "password", JSON_REQUIRED, PASSWORD_MAX_LEN, &in.password,
			       &r->err)) < 0 ||
	    (rc = json_get_str(r->json, "tenant", 0, 64, &in.tenant_id, &r->err)) < 0)
		return rc;
	if ((rc = api_login_throttle(r)) || (rc = req_db(r, &db)))
		return rc;
	rc = auth_login(db, &in, &res, &r->err);
	if (rc == ERR_RATE_LIMITED) {
		char after[24];
		snprintf(after, sizeof(after), "%lld", (long long)res.retry_after_s);
		req_add_header(r, "Retry-After", after);
	}
	api_audit_login(r, &res, rc);
	if (!rc)
		rc = token_response(r, &res);
	login_result_release(&res);
	return rc;
}

int api_auth_refresh(struct req *r)
{
	static const char *const fields[] = { "refresh_token", NULL };
	const char *tok;
	char old_hash[65], fresh[OPAQUE_TOKEN_MAX], new_hash[65];
	struct login_result res;
	struct db *db;
	int rc, reused = 0;
	memset(&res, 0, sizeof(res));
	if ((rc = json_only_fields(r->json, fields, &r->err)) ||
	    (rc = json_get_str(r->json, "refresh_token", JSON_REQUIRED, 128, &tok, &r->err)) < 0)
		return rc;
	if (!str_has_prefix(tok, "prt_"))
		return req_fail(r, ERR_UNAUTHORIZED, "invalid_token", NULL, "not a refresh token");
	token_hash(tok, old_hash);
	token_new_opaque("prt_", fresh, sizeof(fresh));
	token_hash(fresh, new_hash);
	if ((rc = req_db(r, &db)))
		return rc;
	rc = store_session_rotate(db, old_hash, new_hash, now_ms() + REFRESH_TOKEN_TTL_MS,
				  &res.session, &reused, &r->err);
	if (reused) {
		str_copy(r->auth.tenant_id, sizeof(r->auth.tenant_id), res.session.tenant_id);
		req_audit(r, "auth.refresh_reused", "session", res.session.family_id, "denied", NULL);
	}
	if (rc || (rc = store_user_by_id(db, res.session.user_id, &res.user, &r->err)) ||
	    (rc = store_membership_get(db, res.user.id, res.session.tenant_id, &res.membership,
				       &r->err)))
		return rc == ERR_NOT_FOUND ? req_fail(r, ERR_UNAUTHORIZED, "invalid_token", NULL,
						      "session ended") :
					     rc;
	if (res.user.disabled)
		return req_fail(r, ERR_UNAUTHORIZED, "invalid_token", NULL, "account disabled");
	str_copy(res.refresh_token, sizeof(res.refresh_token), fresh);
	if (token_issue_access(res.session.tenant_id, res.user.id, res.session.family_id,
			       &res.access_token, &res.expires_in))
		return req_fail(r, ERR_INTERNAL, NULL, NULL, "cannot sign the access token");
	rc = token_response(r, &res);
	login_result_release(&res);
	return rc;
}

static int require_person(struct req *r)
{
	if (r->auth.kind == AUTH_API_KEY || !r->auth.session_id[0])
		return req_fail(r, ERR_FORBIDDEN, "user_only", NULL,
				"this needs a signed-in user, not an API key");
	return 0;
}

int api_auth_logout(struct req *r)
{
	struct db *db;
	int rc;
	if ((rc = require_person(r)) || (rc = req_db(r, &db)) ||
	    (rc = store_session_revoke_family(db, r->auth.tenant_id, r->auth.session_id, "logout",
					      &r->err)))
		return rc;
	req_audit(r, "auth.logout", "session", r->auth.session_id, "success", NULL);
	return req_send(r, 204, NULL, "", 0);
}

int api_auth_me(struct req *r)
{
	struct user_row u;
	struct membership_row m;
	struct db *db;
	int rc;
	if ((rc = req_db(r, &db)) || (rc = store_user_by_id(db, r->auth.user_id, &u, &r->err)) ||
	    (rc = store_membership_get(db, u.id, r->auth.tenant_id, &m, &r->err)))
		return rc;
	cJSON *j = cJSON_CreateObject();
	cJSON_AddItemToObject(j, "user", user_json(&u));
	cJSON_AddItemToObject(j, "tenant", tenant_json(&m));
	cJSON_AddStringToObject(j, "role", role_name(r->auth.tenant_role));
	cJSON_AddStringToObject(j, "credential", auth_actor_type(&r->auth));
	cJSON *ms = cJSON_AddArrayToObject(j, "memberships");
	cJSON *one = cJSON_CreateObject();
	cJSON_AddItemToObject(one, "tenant", tenant_json(&m));
	cJSON_AddStringToObject(one, "role", m.role);
	cJSON_AddItemToArray(ms, one);
	return req_json(r, 200, j);
}

int api_auth_password(struct req *r)
{
	static const char *const fields[] = { "current_password", "new_password", NULL };
	const char *cur, *next;
	char hash[PASSWORD_HASH_MAX];
	struct user_row u;
	struct db *db;
	int rc;
	if ((rc = require_person(r)) || (rc = json_only_fields(r->json, fields, &r->err)) ||
	    (rc = json_get_str(r->json, "current_password", JSON_REQUIRED, PASSWORD_MAX_LEN, &cur,
			       &r->err)) < 0 ||
	    (rc = json_get_str(r->json, "new_password", JSON_REQUIRED, 0, &next, &r->err)) < 0)
		return rc;
	if ((rc = password_check_policy(next, &r->err))) {
		str_copy(r->err.field, sizeof(r->err.field), "new_password");
		return rc;
	}
	if ((rc = req_db(r, &db)) || (rc = store_user_by_id(db, r->auth.user_id, &u, &r->err)))
		return rc;
	if (!password_verify(u.password_hash, cur))
		return req_fail(r, ERR_FORBIDDEN, "invalid_credentials", "current_password",
				"the current password is not right");
	if ((rc = password_hash(next, hash, &r->err)) || (rc = db_begin(db, DB_TX_WRITE, &r->err)))
		return rc;
	if ((rc = store_user_set_password(db, u.id, hash, &r->err)) ||
	    (rc = store_sessions_revoke_user(db, NULL, u.id, "password_changed", &r->err)) ||
	    (rc = req_audit(r, "auth.password_changed", "user", u.id, "success", NULL)) ||
	    (rc = db_commit(db, &r->err))) {
		db_rollback(db);
		return rc;
	}
	return req_send(r, 204, NULL, "", 0);
}

int api_auth_sessions_list(struct req *r)
{
	struct db *db;
	int rc;
	if ((rc = require_person(r)) || (rc = req_db(r, &db)))
		return rc;
	cJSON *j = cJSON_CreateObject();
	cJSON *items = cJSON_AddArrayToObject(j, "items");
	if ((rc = store_sessions_list(db, r->auth.tenant_id, r->auth.user_id, items, &r->err))) {
		cJSON_Delete(j);
		return rc;
	}
	cJSON *it;
	cJSON_ArrayForEach(it, items)
	{
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
		cJSON_AddBoolToObject(it, "current",
				      cJSON_IsString(id) && !strcmp(id->valuestring, r->auth.session_id));
	}
	cJSON_AddNullToObject(j, "next_cursor");
	return req_json(r, 200, j);
}

int api_auth_sessions_revoke(struct req *r)
{
	const char *id = req_param(r, 0);
	struct db *db;
	int64_t n = 0;
	int rc;
	if ((rc = require_person(r)) || (rc = req_db(r, &db)))
		return rc;
	rc = db_execf(db, &r->err, &n,
		      "UPDATE sessions SET status = 'revoked', revoked_at = ?, revoke_reason = 'user' "
		      "WHERE tenant_id = ? AND user_id = ? AND family_id = ? AND status <> 'revoked'",
		      "isss", (int64_t)now_ms(), r->auth.tenant_id, r->auth.user_id, id);
	if (rc)
		return rc;
	if (!n)
		return req_fail(r, ERR_NOT_FOUND, NULL, NULL, "no such session");
	req_audit(r, "auth.session_revoked", "session", id, "success", NULL);
	return req_send(r, 204, NULL, "", 0);
}
