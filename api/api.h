/*
 * REST handlers, one file per resource. Each handler parses, authorizes,
 * acts through auth/, db/ or engine/, and renders JSON; it never writes SQL.
 */
#ifndef API_API_H
#define API_API_H

struct req;

/* setup.c */
int api_setup_create(struct req *r);

/* ---- patterns.c ---- */
int api_patterns_validate(struct req *r);
int api_node_types(struct req *r);
int api_patterns_create(struct req *r);
int api_patterns_list(struct req *r);
int api_patterns_get(struct req *r);
int api_patterns_delete(struct req *r);
/* library.c: the built-in patterns, read-only, cloned into a workspace. */
int api_library_list(struct req *r);
int api_library_get(struct req *r);
int api_library_clone(struct req *r);
/* pattern_versions.c: versions, export and import. */
int api_pattern_versions_create(struct req *r);
int api_pattern_versions_list(struct req *r);
int api_pattern_versions_get(struct req *r);
int api_patterns_export(struct req *r);
/* api/runs.c */
int api_patterns_run(struct req *r);
int api_pattern_versions_diff(struct req *r);
/* api/executions.c */
int api_executions_create(struct req *r);
int api_executions_list(struct req *r);
int api_executions_get(struct req *r);
int api_executions_cancel(struct req *r);
int api_executions_retry(struct req *r);
int api_executions_approve(struct req *r);
int api_executions_events(struct req *r);
int api_executions_feed(struct req *r);
/* api/schedules.c */
int api_schedules_create(struct req *r);
int api_schedules_list(struct req *r);
int api_schedules_delete(struct req *r);
int api_triggers_create(struct req *r);
int api_triggers_list(struct req *r);
int api_triggers_delete(struct req *r);
int api_hooks_fire(struct req *r);
int api_agents_test(struct req *r);
int api_agents_health(struct req *r);
struct app;
/* The background health prober of http and openai agents (api/runs.c). */
void agents_prober_start(struct app *app);
void agents_prober_stop(void);
int api_patterns_import(struct req *r);

/* ---- auth.c ---- */
int api_auth_login(struct req *r);
int api_auth_refresh(struct req *r);
int api_auth_logout(struct req *r);
int api_auth_me(struct req *r);
int api_auth_password(struct req *r);
int api_auth_sessions_list(struct req *r);
int api_auth_sessions_revoke(struct req *r);
/* Shared with the login page. */
int api_login_throttle(struct req *r);
struct login_result;
void api_audit_login(struct req *r, const struct login_result *res, int rc);

/* ---- tenancy: tenants.c, members.c, invitations.c, workspaces.c, quotas.c ---- */
int api_tenant_get(struct req *r);
int api_tenant_update(struct req *r);
int api_tenant_delete(struct req *r);
int api_members_list(struct req *r);
int api_members_update(struct req *r);
int api_members_delete(struct req *r);
int api_invitations_create(struct req *r);
int api_invitations_list(struct req *r);
int api_invitations_revoke(struct req *r);
int api_invitations_accept(struct req *r);
int api_workspaces_list(struct req *r);
int api_workspaces_create(struct req *r);
int api_workspaces_get(struct req *r);
int api_workspaces_update(struct req *r);
int api_workspaces_delete(struct req *r);
int api_workspace_members_list(struct req *r);
int api_workspace_members_put(struct req *r);
int api_workspace_members_delete(struct req *r);
int api_quotas_get(struct req *r);
int api_quotas_update(struct req *r);

/* Shared with the invitation page (web/invite.c). */
struct invitation_info;
struct tenant_info;
struct invite_accept {
	const char *token, *name, *password;
};
struct invite_accepted {
	char user_id[40], email[256], name[256], role[16];
	char tenant_id[40], tenant_slug[64], tenant_name[128];
};
/* The pending invitation a token names, and its tenant; 404 otherwise. */
int api_invitation_find(struct req *r, const char *token, struct invitation_info *inv,
			struct tenant_info *t);
/* Accept as a new account (name, password): 404 for a dead token, 409
 * account_exists when the email has an account, 400 for a bad name or
 * password; r->err says which. */
int api_invitation_accept_new(struct req *r, const struct invite_accept *in,
			      struct invite_accepted *out);
/* Accept as the signed-in caller, whose email must be the invited one (403). */
int api_invitation_accept_existing(struct req *r, const char *token,
				   struct invite_accepted *out);

/* ---- api_keys.c, audit.c ---- */
int api_keys_create(struct req *r);
int api_keys_list(struct req *r);
int api_keys_revoke(struct req *r);
int api_audit_list(struct req *r);
int api_audit_export(struct req *r);

/* ---- agents.c (+ agent_config.c) ---- */
int api_agents_create(struct req *r);
int api_agents_list(struct req *r);
int api_agents_get(struct req *r);
int api_agents_update(struct req *r);
int api_agents_delete(struct req *r);
/* 1 if an http header of this name carries a credential, and so is sealed as a secret
 * (the dashboard never echoes such a header back into a form). */
int agent_header_secret(const char *name);

/* ---- sso.c: the tenant's OpenID Connect provider ---- */
int api_sso_get(struct req *r);
int api_sso_put(struct req *r);
int api_sso_delete(struct req *r);
struct app;
/* {base_url}/sso/callback: what the provider must list as a redirect URI. */
void sso_redirect_uri(const struct app *app, char *out, size_t size);

/* ---- stats.c: execution statistics for the dashboard ---- */
int api_executions_stats(struct req *r);

/* params.c: parameters shared by tenant-level list handlers. */
#include <stddef.h>
#include <stdint.h>
struct cJSON;
/* Path parameter idx must be the caller's tenant (id or slug), else 404;
 * slug gets the tenant's slug. */
int api_tenant_param(struct req *r, int idx, char *slug, size_t size);
/* ?limit= in 1..max (def when absent), else 400. */
int api_query_limit(struct req *r, int64_t def, int64_t max, int64_t *out);
/* Opaque cursors: base64url of "<ms>:<id>" (arena string); decode is 400 invalid_cursor. */
char *api_cursor_encode(struct req *r, int64_t ms, const char *id);
int api_cursor_decode(struct req *r, const char *s, int64_t *ms, char *id, size_t size);
/* ?name= as epoch ms or RFC 3339: 0 set, 1 absent, <0 (400) invalid. */
int api_query_time(struct req *r, const char *name, int64_t *out);
/* "2025-01-31T10:42:00[.123]Z" or with "+01:00"/"-05:30" as epoch ms; 0 on success. */
int api_parse_time(const char *s, int64_t *ms);
/* RFC 3339 UTC with milliseconds; api_add_time adds null for 0. */
void api_format_time(int64_t ms, char *out, size_t size);
void api_add_time(struct cJSON *obj, const char *key, int64_t ms);

#endif
