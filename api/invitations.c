/*
 * Invitations: an admin invites an email with a role (never above their
 * own) and gets a link carrying a one-time token, shown once (only its
 * SHA-256 is stored). Accepting (POST /api/v1/invitations/accept, or the
 * page web/invite.c) creates the account, the membership and the workspace
 * membership in one transaction; an already signed-in user with the invited
 * email just joins. Expired, revoked, used or unknown tokens are 404.
 */
#include <string.h>

#include <sodium.h>

#include "api/api.h"
#include "api/tenancy_internal.h"
#include "auth/auth.h"
#include "db/db.h"
#include "server/server.h"
#include "core/core.h"

#define INVITE_TOKEN_BYTES 32
#define INVITE_TOKEN_LEN 44 /* 43 base64url characters + NUL */

static cJSON *invitation_json(const struct invitation_info *v)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "id", v->id);
	cJSON_AddStringToObject(j, "email", v->email);
	cJSON_AddStringToObject(j, "role", v->role);
	if (v->workspace_id[0])
		cJSON_AddStringToObject(j, "workspace_id", v->workspace_id);
	else
		cJSON_AddNullToObject(j, "workspace_id");
	api_add_time(j, "expires_at", v->expires_at);
	api_add_time(j, "created_at", v->created_at);
	return j;
}

static int create_parse(struct req *r, struct invitation_new *in, int64_t *hours)
{
	static const char *const fields[] = { "email", "role", "workspace_id", "expires_in_hours",
					      NULL };
	int role, rc;
	*hours = 168;
	if ((rc = json_only_fields(r->json, fields, &r->err)) ||
	    (rc = tenancy_json_email(r, "email", &in->email)) ||
	    (rc = tenancy_json_role(r, "role", JSON_REQUIRED, &role)) ||
	    (rc = tenancy_role_cap(r, role, "role")) ||
	    (rc = tenancy_json_text(r, "workspace_id", JSON_NULLABLE, 64, &in->workspace_id)) < 0 ||
	    (rc = json_get_int(r->json, "expires_in_hours", JSON_NULLABLE, 1, 720, hours,
			       &r->err)) < 0)
		return rc;
	in->role = role_name(role);
	/* An API key may invite only into the workspace it is bound to. */
	if (r->auth.kind == AUTH_API_KEY) {
		if (in->workspace_id && strcmp(in->workspace_id, r->auth.workspace_id))
			return req_fail(r, ERR_FORBIDDEN, "workspace_forbidden", "workspace_id",
					"this API key is bound to another workspace");
		in->workspace_id = r->auth.workspace_id;
	}
	return 0;
}

int api_invitations_create(struct req *r)
{
	struct invitation_new in = { 0 };
	struct invitation_info out;
	char slug[TENANCY_SLUG_MAX + 1], token[INVITE_TOKEN_LEN], hash[65];
	int64_t hours;
	struct db *db;
	int rc;
	if ((rc = create_parse(r, &in, &hours)) || (rc = api_tenant_param(r, 0, slug, sizeof(slug))))
		return rc;
	random_token(token, sizeof(token), INVITE_TOKEN_BYTES);
	token_hash(token, hash);
	in.tenant_id = r->auth.tenant_id;
	in.token_hash = hash;
	in.created_by = r->auth.user_id[0] ? r->auth.user_id : NULL;
	in.expires_at = now_ms() + hours * 3600 * 1000;
	if ((rc = tenancy_begin(r, &db)))
		return rc;
	rc = store_invitation_create(db, &in, &out, &r->err);
	if (!rc) {
		cJSON *d = invitation_json(&out);
		cJSON_DeleteItemFromObject(d, "id");
		rc = req_audit(r, "invitation.created", "invitation", out.id, "success", d);
	}
	if ((rc = tenancy_finish(r, db, rc)))
		return rc;
	cJSON *j = invitation_json(&out);
	cJSON_AddStringToObject(j, "link",
				arena_printf(r->arena, "%s/invite?token=%s", r->app->base_url, token));
	sodium_memzero(token, sizeof(token));
	return req_json(r, 201, j);
}

int api_invitations_list(struct req *r)
{
	char slug[TENANCY_SLUG_MAX + 1];
	const char *after;
	struct db *db;
	int limit, n = 0, rc;
	if ((rc = api_tenant_param(r, 0, slug, sizeof(slug))) ||
	    (rc = tenancy_page_params(r, &limit, &after)) || (rc = req_db(r, &db)))
		return rc;
	struct invitation_info *items = arena_alloc(r->arena, sizeof(*items) * (size_t)(limit + 1));
	if ((rc = store_invitations_list(db, r->auth.tenant_id, after, items, limit + 1, &n,
					 &r->err)))
		return rc;
	cJSON *arr = cJSON_CreateArray();
	for (int i = 0; i < n && i < limit; i++) {
		cJSON *j = invitation_json(&items[i]);
		cJSON_AddStringToObject(j, "created_by", items[i].created_by);
		cJSON_AddItemToArray(arr, j);
	}
	const struct invitation_info *last = n > limit ? &items[limit - 1] : NULL;
	return tenancy_page_render(r, arr, last != NULL, last ? last->created_at : 0,
				   last ? last->id : NULL);
}

int api_invitations_revoke(struct req *r)
{
	char slug[TENANCY_SLUG_MAX + 1];
	struct db *db;
	int rc;
	if ((rc = api_tenant_param(r, 0, slug, sizeof(slug))) || (rc = tenancy_begin(r, &db)))
		return rc;
	rc = store_invitation_revoke(db, r->auth.tenant_id, req_param(r, 1), &r->err);
	if (rc == ERR_NOT_FOUND)
		rc = req_fail(r, ERR_NOT_FOUND, "not_found", NULL, "no such pending invitation");
	if (!rc)
		rc = req_audit(r, "invitation.revoked", "invitation", req_param(r, 1), "success",
			       NULL);
	if ((rc = tenancy_finish(r, db, rc)))
		return rc;
	r->status = 204;
	return 0;
}

/* --- acceptance ------------------------------------------------------------------------ */

int api_invitation_find(struct req *r, const char *token, struct invitation_info *inv,
			struct tenant_info *t)
{
	char hash[65];
	struct db *db;
	int rc;
	if (!token || strlen(token) != INVITE_TOKEN_LEN - 1)
		return req_fail(r, ERR_NOT_FOUND, "not_found", NULL,
				"this invitation does not exist, expired or was used");
	token_hash(token, hash);
	if ((rc = req_db(r, &db)))
		return rc;
	rc = store_invitation_by_hash(db, hash, inv, &r->err);
	if (!rc)
		rc = store_tenant_get(db, inv->tenant_id, inv->tenant_id, t, &r->err);
	if (rc == ERR_NOT_FOUND)
		return req_fail(r, ERR_NOT_FOUND, "not_found", NULL,
				"this invitation does not exist, expired or was used");
	return rc;
}

/* Inside the write transaction: mark it used, then join. */
static int accept_join(struct req *r, struct db *db, const struct invitation_info *inv,
		       const char *user_id, const char *email, int new_account)
{
	int rc = store_invitation_mark_accepted(db, inv->tenant_id, inv->id, user_id, &r->err);
	if (rc == ERR_NOT_FOUND)
		return req_fail(r, ERR_NOT_FOUND, "not_found", NULL,
				"this invitation does not exist, expired or was used");
	if (!rc)
		rc = store_member_add(db, inv->tenant_id, user_id, inv->role,
				      inv->workspace_id[0] ? inv->workspace_id : NULL, &r->err);
	if (rc)
		return rc;
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "email", email);
	cJSON_AddStringToObject(d, "role", inv->role);
	cJSON_AddBoolToObject(d, "new_account", new_account);
	return tenancy_audit_in(r, inv->tenant_id, user_id, email, "invitation.accepted",
				"invitation", inv->id, d);
}

static int new_account_check(struct req *r, const struct invitation_info *inv,
			     const struct invite_accept *in)
{
	struct user_row u;
	struct db *db;
	size_t n = in->name ? strlen(in->name) : 0;
	int rc = req_db(r, &db);
	if (!rc && !(rc = store_user_by_email(db, inv->email, &u, &r->err)))
		return req_fail(r, ERR_CONFLICT, "account_exists", "email",
				"an account with this email exists; sign in to accept");
	if (rc != ERR_NOT_FOUND)
		return rc;
	err_clear(&r->err);
	if (!n || n > 100 || !utf8_valid(in->name, n))
		return req_fail(r, ERR_INVALID, n ? "invalid_field" : "missing_field", "name",
				"'name' is required (at most 100 bytes)");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)in->name[i] < 0x20)
			return req_fail(r, ERR_INVALID, "invalid_field", "name",
					"'name' contains control characters");
	return password_check_policy(in->password ? in->password : "", &r->err);
}

static void accepted_fill(struct invite_accepted *out, const struct invitation_info *inv,
			  const struct tenant_info *t, const char *user_id, const char *name)
{
	str_copy(out->user_id, sizeof(out->user_id), user_id);
	str_copy(out->email, sizeof(out->email), inv->email);
	str_copy(out->name, sizeof(out->name), name);
	str_copy(out->role, sizeof(out->role), inv->role);
	str_copy(out->tenant_id, sizeof(out->tenant_id), t->id);
	str_copy(out->tenant_slug, sizeof(out->tenant_slug), t->slug);
	str_copy(out->tenant_name, sizeof(out->tenant_name), t->name);
}

int api_invitation_accept_new(struct req *r, const struct invite_accept *in,
			      struct invite_accepted *out)
{
	struct invitation_info inv;
	struct tenant_info t;
	char hash[PASSWORD_HASH_MAX], user_id[UUID_STR_LEN];
	struct db *db;
	int rc;
	if ((rc = api_invitation_find(r, in->token, &inv, &t)) ||
	    (rc = new_account_check(r, &inv, in)) ||
	    (rc = password_hash(in->password, hash, &r->err)))
		return rc;
	if (!(rc = tenancy_begin(r, &db))) {
		rc = store_user_create_invited(db, inv.email, in->name, hash, user_id, &r->err);
		if (!rc)
			rc = accept_join(r, db, &inv, user_id, inv.email, 1);
		rc = tenancy_finish(r, db, rc);
	}
	sodium_memzero(hash, sizeof(hash));
	if (!rc)
		accepted_fill(out, &inv, &t, user_id, in->name);
	return rc;
}

/* A signed-in user whose email is the invited one joins the tenant. */
int api_invitation_accept_existing(struct req *r, const char *token,
				   struct invite_accepted *out)
{
	struct invitation_info inv;
	struct tenant_info t;
	struct user_row u;
	struct db *db;
	int rc;
	if (r->auth.kind == AUTH_API_KEY)
		return req_fail(r, ERR_FORBIDDEN, "forbidden", NULL,
				"an API key cannot accept invitations");
	if ((rc = api_invitation_find(r, token, &inv, &t)) || (rc = req_db(r, &db)) ||
	    (rc = store_user_by_id(db, r->auth.user_id, &u, &r->err)))
		return rc;
	if (strcmp(u.email, inv.email))
		return req_fail(r, ERR_FORBIDDEN, "invitation_email_mismatch", NULL,
				"this invitation is for another email address");
	if ((rc = tenancy_begin(r, &db)) ||
	    (rc = tenancy_finish(r, db, accept_join(r, db, &inv, u.id, u.email, 0))))
		return rc;
	accepted_fill(out, &inv, &t, u.id, u.name);
	return 0;
}

int api_invitations_accept(struct req *r)
{
	static const char *const fields[] = { "token", "name", "password", NULL };
	struct invite_accept in = { 0 };
	struct invite_accepted out;
	int rc;
	if ((rc = json_only_fields(r->json, fields, &r->err)) ||
	    (rc = json_get_str(r->json, "token", JSON_REQUIRED, 128, &in.token, &r->err)) ||
	    (rc = json_get_str(r->json, "name", JSON_NULLABLE, 0, &in.name, &r->err)) < 0 ||
	    (rc = json_get_str(r->json, "password", JSON_NULLABLE, 0, &in.password, &r->err)) < 0)
		return rc;
	if (r->auth.kind != AUTH_NONE && !in.password)
		rc = api_invitation_accept_existing(r, in.token, &out);
	else
		rc = api_invitation_accept_new(r, &in, &out);
	if (rc)
		return rc;
	cJSON *j = cJSON_CreateObject(), *u = cJSON_AddObjectToObject(j, "user");
	cJSON_AddStringToObject(u, "id", out.user_id);
	cJSON_AddStringToObject(u, "email", out.email);
	cJSON_AddStringToObject(u, "name", out.name);
	cJSON *t = cJSON_AddObjectToObject(j, "tenant");
	cJSON_AddStringToObject(t, "id", out.tenant_id);
	cJSON_AddStringToObject(t, "slug", out.tenant_slug);
	cJSON_AddStringToObject(t, "name", out.tenant_name);
	cJSON_AddStringToObject(j, "role", out.role);
	return req_json(r, 201, j);
}
