/*
 * Single sign-on's rows (SPEC §7, issue 8): a tenant's OIDC configuration,
 * the one-time login states (state, nonce, PKCE verifier, bound to the
 * browser that started the login), and the identities that link a provider's
 * (issuer, subject) to a user. A configuration is read by tenant id only; a
 * state is taken once, by its value and the hash of its browser binding.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "db/db.h"
#include "db/store.h"
#include "db/tenancy_internal.h"
#include "core/core.h"

#define SSO_COLS                                                                              \
	"SELECT tenant_id, issuer, client_id, client_secret_enc, allowed_domains, default_role, " \
	"group_claim, group_map, jit_provisioning, sso_required, break_glass_user_id, enabled, " \
	"display_name, created_at, updated_at FROM sso_configs "

static void sso_row(struct db_stmt *st, struct sso_config *o)
{
	tn_col(st, 0, o->tenant_id, sizeof(o->tenant_id));
	tn_col(st, 1, o->issuer, sizeof(o->issuer));
	tn_col(st, 2, o->client_id, sizeof(o->client_id));
	tn_col(st, 3, o->client_secret_enc, sizeof(o->client_secret_enc));
	tn_col(st, 4, o->allowed_domains, sizeof(o->allowed_domains));
	tn_col(st, 5, o->default_role, sizeof(o->default_role));
	tn_col(st, 6, o->group_claim, sizeof(o->group_claim));
	tn_col(st, 7, o->group_map, sizeof(o->group_map));
	o->jit_provisioning = db_column_int64(st, 8) != 0;
	o->sso_required = db_column_int64(st, 9) != 0;
	tn_col(st, 10, o->break_glass_user_id, sizeof(o->break_glass_user_id));
	o->enabled = db_column_int64(st, 11) != 0;
	tn_col(st, 12, o->display_name, sizeof(o->display_name));
	o->created_at = db_column_int64(st, 13);
	o->updated_at = db_column_int64(st, 14);
}

static int sso_one(struct db *db, const char *sql, const char *arg, struct sso_config *out,
		   struct err *e)
{
	struct db_stmt *st = NULL;
	memset(out, 0, sizeof(*out));
	int rc = db_prepare_bindf(db, e, &st, sql, "s", arg);
	if (!rc)
		rc = tn_one_row(db_step(st, e), e, "single sign-on configuration");
	if (!rc)
		sso_row(st, out);
	db_finalize(st);
	return rc;
}

int store_sso_get(struct db *db, const char *tenant_id, struct sso_config *out, struct err *e)
{
	return sso_one(db, SSO_COLS "WHERE tenant_id = ?", tenant_id, out, e);
}

int store_sso_by_slug(struct db *db, const char *tenant_slug, struct sso_config *out,
		      struct err *e)
{
	return sso_one(db,
		       SSO_COLS "WHERE enabled = 1 AND tenant_id = "
				"(SELECT id FROM tenants WHERE slug = ?)",
		       tenant_slug, out, e);
}

/* 1 if domain (lower case) is in the JSON list of allowed domains. */
int sso_domain_allowed(const char *domains_json, const char *domain)
{
	cJSON *list = cJSON_Parse(domains_json ? domains_json : "[]");
	const cJSON *d;
	int yes = 0;
	cJSON_ArrayForEach(d, list) {
		if (cJSON_IsString(d) && !strcasecmp(d->valuestring, domain)) {
			yes = 1;
			break;
		}
	}
	cJSON_Delete(list);
	return yes;
}

int store_sso_by_domain(struct db *db, const char *domain, struct sso_config *out,
			struct err *e)
{
	struct db_stmt *st = NULL;
	int found = 0, rc;
	memset(out, 0, sizeof(*out));
	/* few rows (one per tenant that uses SSO), and the domains are JSON: matched here */
	rc = db_prepare(db, SSO_COLS "WHERE enabled = 1 ORDER BY tenant_id", &st, e);
	while (!rc && (rc = db_step(st, e)) == DB_ROW) {
		rc = 0;
		const char *domains = db_column_text(st, 4);
		if (!sso_domain_allowed(domains, domain))
			continue;
		if (found++) {
			/* two organizations claim the domain: the user names theirs */
			rc = err_setc(e, ERR_CONFLICT, "ambiguous_domain", "email",
				      "several organizations sign in with this email domain; "
				      "use your organization's sign-in link");
			break;
		}
		sso_row(st, out);
	}
	if (rc == DB_DONE)
		rc = 0;
	db_finalize(st);
	if (!rc && !found)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "no single sign-on for this email domain");
	return rc;
}

int store_sso_put(struct db *db, const struct sso_config *in, struct err *e)
{
	int64_t now = now_ms();
	return db_execf(
		db, e, NULL,
		"INSERT INTO sso_configs (tenant_id, issuer, client_id, client_secret_enc, "
		"allowed_domains, default_role, group_claim, group_map, jit_provisioning, "
		"sso_required, break_glass_user_id, enabled, display_name, created_at, updated_at) "
		"VALUES (?, ?, ?, ?, ?, ?, NULLIF(?, ''), ?, ?, ?, NULLIF(?, ''), ?, NULLIF(?, ''), "
		"?, ?) ON CONFLICT (tenant_id) DO UPDATE SET issuer = excluded.issuer, "
		"client_id = excluded.client_id, client_secret_enc = excluded.client_secret_enc, "
		"allowed_domains = excluded.allowed_domains, default_role = excluded.default_role, "
		"group_claim = excluded.group_claim, group_map = excluded.group_map, "
		"jit_provisioning = excluded.jit_provisioning, sso_required = excluded.sso_required, "
		"break_glass_user_id = excluded.break_glass_user_id, enabled = excluded.enabled, "
		"display_name = excluded.display_name, updated_at = excluded.updated_at",
		"ssssssssiisisii", in->tenant_id, in->issuer, in->client_id,
		in->client_secret_enc[0] ? in->client_secret_enc : NULL, in->allowed_domains,
		in->default_role, in->group_claim, in->group_map, (int64_t)in->jit_provisioning,
		(int64_t)in->sso_required, in->break_glass_user_id, (int64_t)in->enabled,
		in->display_name, now, now);
}

int store_sso_delete(struct db *db, const char *tenant_id, struct err *e)
{
	int64_t n = 0;
	int rc = db_execf(db, e, &n, "DELETE FROM sso_configs WHERE tenant_id = ?", "s",
			  tenant_id);
	if (!rc && n != 1)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "no single sign-on configuration");
	return rc;
}

/* ---- login states ----------------------------------------------------------------- */

int store_oidc_state_put(struct db *db, const struct oidc_state *s, int64_t ttl_ms,
			 struct err *e)
{
	int64_t now = now_ms();
	/* states nobody came back for: gone a day after they expired */
	int rc = db_execf(db, e, NULL, "DELETE FROM oidc_states WHERE expires_at < ?", "i",
			  now - 86400000LL);
	if (!rc)
		rc = db_execf(db, e, NULL,
			      "INSERT INTO oidc_states (state, tenant_id, nonce, code_verifier, "
			      "browser_binding_hash, next, created_at, expires_at, used_at) "
			      "VALUES (?, ?, ?, ?, ?, NULLIF(?, ''), ?, ?, NULL)",
			      "ssssssii", s->state, s->tenant_id, s->nonce, s->code_verifier,
			      s->binding_hash, s->next, now, now + ttl_ms);
	return rc;
}

int store_oidc_state_take(struct db *db, const char *state, const char *binding_hash,
			  struct oidc_state *out, struct err *e)
{
	struct db_stmt *st = NULL;
	int64_t n = 0, now = now_ms();
	memset(out, 0, sizeof(*out));
	/* used up first, whatever comes next: a state is good for one try */
	int rc = db_execf(db, e, &n,
			  "UPDATE oidc_states SET used_at = ? WHERE state = ? AND used_at IS NULL "
			  "AND expires_at > ?",
			  "isi", now, state, now);
	if (!rc && n != 1)
		return err_setc(e, ERR_UNAUTHORIZED, "invalid_state", "state",
				"this sign-in link has expired or was already used; start again");
	if (!rc)
		rc = db_prepare_bindf(db, e, &st,
				      "SELECT state, tenant_id, nonce, code_verifier, "
				      "browser_binding_hash, next FROM oidc_states WHERE state = ?",
				      "s", state);
	if (!rc)
		rc = tn_one_row(db_step(st, e), e, "sign-in state");
	if (!rc) {
		tn_col(st, 0, out->state, sizeof(out->state));
		tn_col(st, 1, out->tenant_id, sizeof(out->tenant_id));
		tn_col(st, 2, out->nonce, sizeof(out->nonce));
		tn_col(st, 3, out->code_verifier, sizeof(out->code_verifier));
		tn_col(st, 4, out->binding_hash, sizeof(out->binding_hash));
		tn_col(st, 5, out->next, sizeof(out->next));
	}
	db_finalize(st);
	if (!rc && (strlen(binding_hash) != strlen(out->binding_hash) ||
		    sodium_memcmp(binding_hash, out->binding_hash, strlen(binding_hash)) != 0)) {
		/* another browser's state: the login began elsewhere (login CSRF, a stolen link) */
		sodium_memzero(out, sizeof(*out));
		rc = err_setc(e, ERR_UNAUTHORIZED, "invalid_state", "state",
			      "this sign-in did not start in this browser; start again");
	}
	return rc;
}

/* ---- identities ------------------------------------------------------------------- */

int store_identity_user(struct db *db, const char *issuer, const char *subject,
			char user_id[UUID_STR_LEN], struct err *e)
{
	return db_query_text(db, e, user_id, UUID_STR_LEN,
			     "SELECT user_id FROM user_identities WHERE issuer = ? AND subject = ?",
			     "ss", issuer, subject);
}

int store_identity_link(struct db *db, const char *user_id, const char *issuer,
			const char *subject, const char *email, int email_verified, struct err *e)
{
	char id[UUID_STR_LEN];
	int64_t now = now_ms();
	uuid_v7(id);
	return db_execf(db, e, NULL,
			"INSERT INTO user_identities (id, user_id, issuer, subject, email, "
			"email_verified, created_at, last_login_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
			"ON CONFLICT (issuer, subject) DO UPDATE SET email = excluded.email, "
			"email_verified = excluded.email_verified, "
			"last_login_at = excluded.last_login_at",
			"sssssiii", id, user_id, issuer, subject, email, (int64_t)email_verified,
			now, now);
}

int store_user_create_sso(struct db *db, const char *email, const char *name,
			  char id_out[UUID_STR_LEN], struct err *e)
{
	int64_t n = 0, now = now_ms();
	uuid_v7(id_out);
	int rc = db_execf(db, e, &n,
			  "INSERT INTO users (id, email, name, password_hash, status, "
			  "email_verified, created_at, updated_at, password_changed_at) "
			  "VALUES (?, ?, ?, NULL, 'active', 1, ?, ?, NULL) "
			  "ON CONFLICT (email) DO NOTHING",
			  "sssii", id_out, email, name, now, now);
	if (!rc && n != 1)
		rc = err_setc(e, ERR_CONFLICT, "account_exists", "email",
			      "an account with this email exists");
	return rc;
}
