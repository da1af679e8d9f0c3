/*
 * The settings page's single sign-on section: the tenant's provider as the API
 * has it (GET /api/v1/tenants/{t}/sso; the secret only as "set"), the
 * redirect URI to register at the provider, and the form that PUTs a new
 * configuration through the API's own handler (so the checks, the sealing of
 * the secret, the discovery check and the audit entry are the API's).
 */
#include <stdio.h>
#include <string.h>

#include "web/web.h"
#include "web/team_internal.h"
#include "api/api.h"
#include "auth/auth.h"
#include "db/db.h"
#include "server/server.h"
#include "core/core.h"

static void add_role_options(cJSON *ctx, const char *key, const char *current)
{
	static const char *const roles[] = { "viewer", "operator", "developer", "admin", NULL };
	cJSON *list = cJSON_AddArrayToObject(ctx, key);
	for (int i = 0; roles[i]; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "value", roles[i]);
		if (current && !strcmp(current, roles[i]))
			cJSON_AddTrueToObject(o, "selected");
		cJSON_AddItemToArray(list, o);
	}
}

int team_sso_fill(struct req *r, cJSON *ctx)
{
	cJSON *sso = NULL, *members = NULL;
	char uri[512];
	int rc = team_call(r, "GET", "/api/v1/tenants/{t}/sso", NULL, NULL, NULL, NULL, &sso);
	if (rc == ERR_NOT_FOUND) {
		err_clear(&r->err);
		rc = 0;
		sso = NULL;
	}
	if (rc)
		return rc;
	sso_redirect_uri(r->app, uri, sizeof(uri));
	cJSON *view = cJSON_AddObjectToObject(ctx, "sso_form");
	cJSON_AddStringToObject(view, "redirect_uri", uri);
	if (sso) {
		/* the form's text forms of the lists */
		struct buf b;
		const cJSON *it;
		buf_init(&b);
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(sso, "allowed_domains"))
			if (cJSON_IsString(it))
				buf_addf(&b, "%s%s", b.len ? ", " : "", it->valuestring);
		cJSON_AddStringToObject(view, "domains", b.len ? b.p : "");
		buf_truncate(&b, 0);
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(sso, "group_map"))
			if (cJSON_IsString(it))
				buf_addf(&b, "%s = %s\n", it->string, it->valuestring);
		cJSON_AddStringToObject(view, "group_map", b.len ? b.p : "");
		buf_release(&b);
		add_role_options(view, "roles",
				 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sso, "default_role")));
		cJSON_AddItemToObject(ctx, "sso", sso);
	} else {
		add_role_options(view, "roles", "viewer");
	}
	/* the break-glass account: one of the owners */
	if (!team_call(r, "GET", "/api/v1/tenants/{t}/members", NULL, NULL, "limit=100", NULL,
		       &members)) {
		const char *glass = sso ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
						  sso, "break_glass_user_id")) :
					  NULL;
		cJSON *owners = cJSON_AddArrayToObject(view, "owners");
		const cJSON *m;
		cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(members, "items")) {
			const char *role = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "role"));
			const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "user_id"));
			const char *email = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "email"));
			if (!role || strcmp(role, "owner") || !id)
				continue;
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "id", id);
			cJSON_AddStringToObject(o, "email", email ? email : id);
			if (glass && !strcmp(glass, id))
				cJSON_AddTrueToObject(o, "selected");
			cJSON_AddItemToArray(owners, o);
		}
	}
	err_clear(&r->err);
	cJSON_Delete(members);
	return 0;
}

/* "a.com, b.com" (commas, spaces or new lines) -> ["a.com", "b.com"] */
static cJSON *split_list(const char *s)
{
	cJSON *arr = cJSON_CreateArray();
	char item[256];
	size_t n = 0;
	for (const char *p = s ? s : "";; p++) {
		if (!*p || *p == ',' || *p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') {
			item[n] = '\0';
			if (n)
				cJSON_AddItemToArray(arr, cJSON_CreateString(item));
			n = 0;
			if (!*p)
				break;
		} else if (n < sizeof(item) - 1) {
			item[n++] = *p;
		}
	}
	return arr;
}

static void trim(char *s)
{
	size_t n = strlen(s), i = 0;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	memmove(s, s + i, n - i + 1);
}

/* "group = role" lines -> {group: role}; a line without "=" (or ":") is kept whole as
 * a group without a role, which the API refuses by name. */
static cJSON *parse_map(const char *s)
{
	cJSON *map = cJSON_CreateObject();
	char line[600];
	const char *p = s ? s : "";
	while (*p) {
		size_t n = strcspn(p, "\n");
		if (n < sizeof(line)) {
			memcpy(line, p, n);
			line[n] = '\0';
			char *eq = strchr(line, '=');
			if (!eq)
				eq = strrchr(line, ':');
			char *role = eq ? eq + 1 : (char *)"";
			if (eq)
				*eq = '\0';
			trim(line);
			trim(role);
			if (line[0])
				cJSON_AddItemToObject(map, line, cJSON_CreateString(role));
		}
		p += n + (p[n] == '\n');
	}
	return map;
}

static void add_opt_str(cJSON *body, const char *key, const char *v)
{
	if (v && *v)
		cJSON_AddStringToObject(body, key, v);
}

/* POST /settings/sso */
int web_settings_sso(struct req *r)
{
	cJSON *body = cJSON_CreateObject();
	const char *claim = req_form(r, "group_claim"), *glass = req_form(r, "break_glass_user_id");
	cJSON_AddStringToObject(body, "issuer", req_form(r, "issuer") ? req_form(r, "issuer") : "");
	cJSON_AddStringToObject(body, "client_id",
				req_form(r, "client_id") ? req_form(r, "client_id") : "");
	add_opt_str(body, "client_secret", req_form(r, "client_secret")); /* blank: kept */
	add_opt_str(body, "display_name", req_form(r, "display_name"));
	add_opt_str(body, "default_role", req_form(r, "default_role"));
	add_opt_str(body, "group_claim", claim);
	add_opt_str(body, "break_glass_user_id", glass);
	cJSON_AddItemToObject(body, "allowed_domains", split_list(req_form(r, "allowed_domains")));
	cJSON_AddItemToObject(body, "group_map", parse_map(req_form(r, "group_map")));
	cJSON_AddBoolToObject(body, "enabled", req_form(r, "enabled") != NULL);
	cJSON_AddBoolToObject(body, "jit_provisioning", req_form(r, "jit_provisioning") != NULL);
	cJSON_AddBoolToObject(body, "sso_required", req_form(r, "sso_required") != NULL);
	return team_form(r, "PUT", "/api/v1/tenants/{t}/sso", NULL, NULL, body, "/settings#sso",
			 "Single sign-on saved.");
}

/* POST /settings/sso/delete */
int web_settings_sso_delete(struct req *r)
{
	return team_form(r, "DELETE", "/api/v1/tenants/{t}/sso", NULL, NULL, NULL, "/settings#sso",
			 "Single sign-on removed: members sign in with their passwords.");
}
