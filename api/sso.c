/*
 * /api/v1/tenants/{t}/sso: the tenant's OpenID Connect provider (SPEC §7,
 * issue 8), admins only. The client secret is write-only: sealed at rest
 * (secret_seal), never returned or logged; a PUT without one keeps the stored
 * secret. Enabling checks the provider's discovery document first, so a
 * typo in the issuer is a 422 on the form, not a failed sign-in later.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api/api.h"
#include "api/tenancy_internal.h"
#include "auth/auth.h"
#include "db/db.h"
#include "server/server.h"
#include "core/core.h"

#define DOMAINS_MAX   50
#define GROUP_MAP_MAX 100
#define SECRET_MAX    512

/* Roles SSO may give: owner is only ever given inside Parallax. */
static const char *const sso_roles[] = { "admin", "developer", "operator", "viewer", NULL };

static int is_sso_role(const char *s)
{
	for (int i = 0; sso_roles[i]; i++)
		if (!strcmp(s, sso_roles[i]))
			return 1;
	return 0;
}

void sso_redirect_uri(const struct app *app, char *out, size_t size)
{
	snprintf(out, size, "%s/sso/callback", app->base_url);
}

static cJSON *sso_json(struct req *r, const struct sso_config *c)
{
	char uri[512];
	cJSON *j = cJSON_CreateObject();
	cJSON_AddBoolToObject(j, "enabled", c->enabled);
	cJSON_AddStringToObject(j, "issuer", c->issuer);
	cJSON_AddStringToObject(j, "client_id", c->client_id);
	cJSON_AddBoolToObject(j, "client_secret_set", c->client_secret_enc[0] != '\0');
	if (c->display_name[0])
		cJSON_AddStringToObject(j, "display_name", c->display_name);
	else
		cJSON_AddNullToObject(j, "display_name");
	cJSON *d = cJSON_Parse(c->allowed_domains);
	cJSON_AddItemToObject(j, "allowed_domains", cJSON_IsArray(d) ? d : cJSON_CreateArray());
	if (!cJSON_IsArray(d))
		cJSON_Delete(d);
	cJSON_AddStringToObject(j, "default_role", c->default_role);
	if (c->group_claim[0])
		cJSON_AddStringToObject(j, "group_claim", c->group_claim);
	else
		cJSON_AddNullToObject(j, "group_claim");
	cJSON *m = cJSON_Parse(c->group_map);
	cJSON_AddItemToObject(j, "group_map", cJSON_IsObject(m) ? m : cJSON_CreateObject());
	if (!cJSON_IsObject(m))
		cJSON_Delete(m);
	cJSON_AddBoolToObject(j, "jit_provisioning", c->jit_provisioning);
	cJSON_AddBoolToObject(j, "sso_required", c->sso_required);
	if (c->break_glass_user_id[0])
		cJSON_AddStringToObject(j, "break_glass_user_id", c->break_glass_user_id);
	else
		cJSON_AddNullToObject(j, "break_glass_user_id");
	sso_redirect_uri(r->app, uri, sizeof(uri));
	cJSON_AddStringToObject(j, "redirect_uri", uri);
	char at[32];
	time_iso(c->updated_at, at, sizeof(at));
	cJSON_AddStringToObject(j, "updated_at", at);
	return j;
}

int api_sso_get(struct req *r)
{
	char slug[TENANCY_SLUG_MAX + 1];
	struct db *db;
	int rc;
	if ((rc = api_tenant_param(r, 0, slug, sizeof(slug))) || (rc = req_db(r, &db)))
		return rc;
	struct sso_config *c = xcalloc(1, sizeof(*c));
	rc = store_sso_get(db, r->auth.tenant_id, c, &r->err);
	if (rc == ERR_NOT_FOUND)
		rc = req_fail(r, ERR_NOT_FOUND, "sso_not_configured", NULL,
			      "single sign-on is not configured");
	if (!rc)
		rc = req_json(r, 200, sso_json(r, c));
	free(c);
	return rc;
}

/* allowed_domains: lower-case host names, as JSON text. */
static int parse_domains(struct req *r, struct sso_config *c)
{
	const cJSON *arr = NULL, *it;
	int rc = json_get_arr(r->json, "allowed_domains", JSON_NULLABLE, DOMAINS_MAX, &arr,
			      &r->err);
	if (rc < 0)
		return rc;
	cJSON *out = cJSON_CreateArray();
	cJSON_ArrayForEach(it, arr) {
		const char *s = cJSON_GetStringValue(it);
		size_t n = s ? strlen(s) : 0;
		int ok = n > 0 && n <= 253 && s[0] != '.' && s[n - 1] != '.' && strchr(s, '.');
		for (size_t i = 0; ok && i < n; i++)
			ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
			     s[i] == '-' || s[i] == '.' || (s[i] >= 'A' && s[i] <= 'Z');
		if (!ok) {
			cJSON_Delete(out);
			return req_fail(r, ERR_UNPROCESSABLE, "invalid_domain", "allowed_domains",
					"'allowed_domains' holds host names such as example.com");
		}
		char low[256];
		for (size_t i = 0; i <= n; i++)
			low[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] | 0x20 : s[i]);
		cJSON_AddItemToArray(out, cJSON_CreateString(low));
	}
	char *text = cJSON_PrintUnformatted(out);
	cJSON_Delete(out);
	if (!text || strlen(text) >= sizeof(c->allowed_domains)) {
		free(text);
		return req_fail(r, ERR_UNPROCESSABLE, "too_long", "allowed_domains",
				"too many allowed domains");
	}
	str_copy(c->allowed_domains, sizeof(c->allowed_domains), text);
	free(text);
	return 0;
}

/* group_map: {group: role}, roles other than owner. */
static int parse_group_map(struct req *r, struct sso_config *c)
{
	const cJSON *m = NULL, *it;
	int n = 0, rc = json_get_obj(r->json, "group_map", JSON_NULLABLE, &m, &r->err);
	if (rc < 0)
		return rc;
	cJSON_ArrayForEach(it, m) {
		if (++n > GROUP_MAP_MAX || !it->string[0] || strlen(it->string) > 256)
			return req_fail(r, ERR_UNPROCESSABLE, "invalid_group_map", "group_map",
					"'group_map' maps up to %d group names to roles",
					GROUP_MAP_MAX);
		if (!cJSON_IsString(it) || !is_sso_role(it->valuestring))
			return req_fail(r, ERR_UNPROCESSABLE, "invalid_role", "group_map",
					"group '%.100s' maps to admin, developer, operator or viewer",
					it->string);
	}
	char *text = m ? cJSON_PrintUnformatted(m) : strdup("{}");
	if (!text || strlen(text) >= sizeof(c->group_map)) {
		free(text);
		return req_fail(r, ERR_UNPROCESSABLE, "too_long", "group_map", "'group_map' is too long");
	}
	str_copy(c->group_map, sizeof(c->group_map), text);
	free(text);
	return 0;
}

static int sso_parse(struct req *r, struct db *db, struct sso_config *c, const char **secret)
{
	static const char *const fields[] = {
		"enabled", "issuer", "client_id", "client_secret", "display_name",
		"allowed_domains", "default_role", "group_claim", "group_map", "jit_provisioning",
		"sso_required", "break_glass_user_id", NULL,
	};
	const char *issuer, *client_id, *name = NULL, *role = NULL, *claim = NULL, *glass = NULL;
	int rc, enabled = 1, jit = 0, required = 0;
	if ((rc = json_only_fields(r->json, fields, &r->err)) ||
	    (rc = json_get_str(r->json, "issuer", JSON_REQUIRED, SSO_ISSUER_MAX, &issuer,
			       &r->err)) < 0 ||
	    (rc = json_get_str(r->json, "client_id", JSON_REQUIRED, 255, &client_id, &r->err)) < 0 ||
	    (rc = json_get_str(r->json, "client_secret", JSON_NULLABLE, SECRET_MAX, secret,
			       &r->err)) < 0 ||
	    (rc = json_get_str(r->json, "display_name", JSON_NULLABLE, 100, &name, &r->err)) < 0 ||
	    (rc = json_get_str(r->json, "default_role", JSON_NULLABLE, 15, &role, &r->err)) < 0 ||
	    (rc = json_get_str(r->json, "group_claim", JSON_NULLABLE, 127, &claim, &r->err)) < 0 ||
	    (rc = json_get_str(r->json, "break_glass_user_id", JSON_NULLABLE, UUID_STR_LEN - 1,
			       &glass, &r->err)) < 0 ||
	    (rc = json_get_bool(r->json, "enabled", JSON_NULLABLE, &enabled, &r->err)) < 0 ||
	    (rc = json_get_bool(r->json, "jit_provisioning", JSON_NULLABLE, &jit, &r->err)) < 0 ||
	    (rc = json_get_bool(r->json, "sso_required", JSON_NULLABLE, &required, &r->err)) < 0)
		return rc;
	if (oidc_url_check(issuer, r->app->cfg->sso_allow_http_loopback, "issuer", &r->err))
		return req_fail(r, ERR_UNPROCESSABLE, "invalid_url", "issuer", "%s", r->err.msg);
	if (!client_id[0])
		return req_fail(r, ERR_UNPROCESSABLE, "required", "client_id",
				"'client_id' is the client id the provider gave you");
	if (role && !is_sso_role(role))
		return req_fail(r, ERR_UNPROCESSABLE, "invalid_role", "default_role",
				"'default_role' is admin, developer, operator or viewer");
	str_copy(c->tenant_id, sizeof(c->tenant_id), r->auth.tenant_id);
	str_copy(c->issuer, sizeof(c->issuer), issuer);
	str_copy(c->client_id, sizeof(c->client_id), client_id);
	str_copy(c->display_name, sizeof(c->display_name), name ? name : "");
	str_copy(c->default_role, sizeof(c->default_role), role ? role : "viewer");
	str_copy(c->group_claim, sizeof(c->group_claim), claim ? claim : "");
	c->enabled = enabled;
	c->jit_provisioning = jit;
	c->sso_required = required;
	if ((rc = parse_domains(r, c)) || (rc = parse_group_map(r, c)))
		return rc;
	/* the break-glass account: an owner of this tenant, who keeps their password */
	if (required && !glass)
		return req_fail(r, ERR_UNPROCESSABLE, "required", "break_glass_user_id",
				"requiring SSO needs a break-glass owner who may still use a "
				"password");
	if (glass) {
		struct member_info m;
		rc = store_member_get(db, r->auth.tenant_id, glass, &m, &r->err);
		if (rc && rc != ERR_NOT_FOUND)
			return rc;
		if (rc || strcmp(m.role, "owner"))
			return req_fail(r, ERR_UNPROCESSABLE, "not_owner", "break_glass_user_id",
					"the break-glass account must be an owner of this "
					"organization");
		str_copy(c->break_glass_user_id, sizeof(c->break_glass_user_id), glass);
	}
	return 0;
}

int api_sso_put(struct req *r)
{
	char slug[TENANCY_SLUG_MAX + 1];
	const char *secret = NULL;
	struct db *db = NULL;
	struct sso_config *c = xcalloc(1, sizeof(*c)), *old = xcalloc(1, sizeof(*old));
	int rc, had;
	if ((rc = api_tenant_param(r, 0, slug, sizeof(slug))) || (rc = req_db(r, &db)) ||
	    (rc = sso_parse(r, db, c, &secret)))
		goto out;
	rc = store_sso_get(db, r->auth.tenant_id, old, &r->err);
	if (rc && rc != ERR_NOT_FOUND)
		goto out;
	had = !rc;
	rc = 0;
	if (secret && secret[0]) {
		char *sealed = NULL;
		if ((rc = secret_seal(secret, &sealed, &r->err)))
			goto out;
		if (strlen(sealed) >= sizeof(c->client_secret_enc))
			rc = req_fail(r, ERR_UNPROCESSABLE, "too_long", "client_secret",
				      "'client_secret' is too long");
		else
			str_copy(c->client_secret_enc, sizeof(c->client_secret_enc), sealed);
		free(sealed);
		if (rc)
			goto out;
	} else if (had && !strcmp(old->issuer, c->issuer) && !strcmp(old->client_id, c->client_id)) {
		/* the same client: its stored secret stays */
		str_copy(c->client_secret_enc, sizeof(c->client_secret_enc), old->client_secret_enc);
	}
	if (!c->client_secret_enc[0]) {
		rc = req_fail(r, ERR_UNPROCESSABLE, "required", "client_secret",
			      "'client_secret' is the secret the provider gave this client");
		goto out;
	}
	/* reach the provider before turning sign-in over to it */
	if (c->enabled) {
		struct oidc_provider p;
		struct err e;
		err_clear(&e);
		if (oidc_discover(r->app->oidc, c->issuer, &p, &e)) {
			rc = req_fail(r, ERR_UNPROCESSABLE, "discovery_failed", "issuer",
				      "the provider's discovery document could not be used: %s",
				      e.msg);
			goto out;
		}
	}
	if ((rc = tenancy_begin(r, &db)))
		goto out;
	rc = store_sso_put(db, c, &r->err);
	if (!rc) {
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "issuer", c->issuer);
		cJSON_AddStringToObject(d, "client_id", c->client_id);
		cJSON_AddBoolToObject(d, "enabled", c->enabled);
		cJSON_AddBoolToObject(d, "sso_required", c->sso_required);
		cJSON_AddBoolToObject(d, "jit_provisioning", c->jit_provisioning);
		cJSON_AddBoolToObject(d, "secret_changed", secret && secret[0]);
		rc = req_audit(r, had ? "sso.updated" : "sso.created", "tenant", r->auth.tenant_id,
			       "success", d);
	}
	if (!(rc = tenancy_finish(r, db, rc)) &&
	    !(rc = store_sso_get(db, r->auth.tenant_id, c, &r->err)))
		rc = req_json(r, had ? 200 : 201, sso_json(r, c));
out:
	sodium_memzero(c, sizeof(*c));
	sodium_memzero(old, sizeof(*old));
	free(c);
	free(old);
	return rc;
}

int api_sso_delete(struct req *r)
{
	char slug[TENANCY_SLUG_MAX + 1];
	struct db *db = NULL;
	int rc;
	if ((rc = api_tenant_param(r, 0, slug, sizeof(slug))) || (rc = tenancy_begin(r, &db)))
		return rc;
	rc = store_sso_delete(db, r->auth.tenant_id, &r->err);
	if (rc == ERR_NOT_FOUND)
		rc = req_fail(r, ERR_NOT_FOUND, "sso_not_configured", NULL,
			      "single sign-on is not configured");
	if (!rc)
		rc = req_audit(r, "sso.deleted", "tenant", r->auth.tenant_id, "success", NULL);
	if ((rc = tenancy_finish(r, db, rc)))
		return rc;
	r->status = 204;
	return 0;
}
