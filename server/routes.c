/*
 * The route table: every HTTP route, its permission, body kind and handler,
 * declared once. The dispatcher, the OpenAPI document and the route-walking
 * tests all read this table.
 */
#include <string.h>

#include "server/server.h"
#include "api/api.h"
#include "web/web.h"
#include "core/core.h"

#define PUBLIC ACCESS_PUBLIC, 0, 0
#define AUTHED ACCESS_AUTH, 0, 0
#define PERM(res, act) ACCESS_PERM, res, act

const struct route routes[] = {
	{ "GET", "/health/live", PUBLIC, BODY_NONE, handle_health_live,
	  "Liveness: the process answers", "operations", ROUTE_QUIET },
	{ "GET", "/health/ready", PUBLIC, BODY_NONE, handle_health_ready,
	  "Readiness: database reachable and migrated", "operations", ROUTE_QUIET },
	{ "GET", "/metrics", PUBLIC, BODY_NONE, handle_metrics,
	  "Prometheus metrics", "operations", ROUTE_QUIET },
	{ "GET", "/api/v1/openapi.json", PUBLIC, BODY_NONE, handle_openapi,
	  "This API's OpenAPI document", "operations", 0 },
	{ "GET", "/static/*", PUBLIC, BODY_NONE, handle_static,
	  "Embedded static assets (CSS, JavaScript, images)", "assets", 0 },
	{ "POST", "/api/v1/setup", PUBLIC, BODY_JSON, api_setup_create,
	  "Create the first tenant and owner with the one-time set-up token", "setup", 0 },
	{ "GET", "/setup", PUBLIC, BODY_NONE, web_setup_page,
	  "First-run set-up form", "setup", 0 },
	{ "POST", "/setup", PUBLIC, BODY_FORM, web_setup_submit,
	  "First-run set-up form submission", "setup", 0 },

	/* ---- patterns (api/patterns.c) ---- */
	{ "POST", "/api/v1/patterns/validate", PERM(RES_PATTERN, ACT_READ), BODY_JSON,
	  api_patterns_validate, "Validate a pattern document: every problem with node id and path",
	  "patterns", 0 },
	{ "GET", "/api/v1/node-types", AUTHED, BODY_NONE, api_node_types,
	  "Node types with descriptions, option schemas and ports (the builder's palette)",
	  "patterns", 0 },
	{ "POST", "/api/v1/patterns/import", PERM(RES_PATTERN, ACT_CREATE), BODY_RAW,
	  api_patterns_import,
	  "Import a YAML or JSON document: a new pattern, or a new version of the named one",
	  "patterns", 0 },
	{ "POST", "/api/v1/patterns", PERM(RES_PATTERN, ACT_CREATE), BODY_JSON,
	  api_patterns_create, "Create a pattern with its version 1", "patterns", 0 },
	{ "GET", "/api/v1/patterns", PERM(RES_PATTERN, ACT_READ), BODY_NONE, api_patterns_list,
	  "List the workspace's patterns, newest first", "patterns", 0 },
	{ "GET", "/api/v1/patterns/library", PERM(RES_PATTERN, ACT_READ), BODY_NONE,
	  api_library_list, "The built-in patterns, with their definitions", "patterns", 0 },
	{ "GET", "/api/v1/patterns/library/{name}", PERM(RES_PATTERN, ACT_READ), BODY_NONE,
	  api_library_get, "One built-in pattern with its definition", "patterns", ROUTE_SHARED },
	{ "POST", "/api/v1/patterns/library/{name}/clone", PERM(RES_PATTERN, ACT_CREATE),
	  BODY_JSON, api_library_clone,
	  "Copy a built-in pattern into the workspace as a new pattern ({name?})", "patterns",
	  ROUTE_SHARED },
	{ "GET", "/api/v1/patterns/{id}", PERM(RES_PATTERN, ACT_READ), BODY_NONE,
	  api_patterns_get, "Get a pattern (by id or name) with its latest definition",
	  "patterns", 0 },
	{ "DELETE", "/api/v1/patterns/{id}", PERM(RES_PATTERN, ACT_DELETE), BODY_NONE,
	  api_patterns_delete, "Delete a pattern and its versions", "patterns", 0 },
	{ "POST", "/api/v1/patterns/{id}/versions", PERM(RES_PATTERN, ACT_UPDATE), BODY_JSON,
	  api_pattern_versions_create, "Add a version ({definition, message?})", "patterns", 0 },
	{ "GET", "/api/v1/patterns/{id}/versions", PERM(RES_PATTERN, ACT_READ), BODY_NONE,
	  api_pattern_versions_list, "List a pattern's versions, newest first", "patterns", 0 },
	{ "GET", "/api/v1/patterns/{id}/versions/diff", PERM(RES_PATTERN, ACT_READ), BODY_NONE,
	  api_pattern_versions_diff,
	  "Changes between two versions (?from=N&to=M, to defaults to the latest)", "patterns",
	  0 },
	{ "GET", "/api/v1/patterns/{id}/versions/{version}", PERM(RES_PATTERN, ACT_READ),
	  BODY_NONE, api_pattern_versions_get, "Get one version with its definition",
	  "patterns", 0 },
	{ "POST", "/api/v1/patterns/{id}/run", PERM(RES_PATTERN, ACT_RUN), BODY_JSON,
	  api_patterns_run,
	  "Run a pattern now and wait ({input, version?, timeout_ms?}): the execution with every step",
	  "patterns", 0 },
	{ "GET", "/api/v1/patterns/{id}/export", PERM(RES_PATTERN, ACT_READ), BODY_NONE,
	  api_patterns_export, "Export the latest definition (?format=json|yaml)", "patterns",
	  0 },

	/* ---- auth: login, tokens, sessions (api/auth.c, web/login.c) ---- */
	{ "POST", "/api/v1/auth/login", PUBLIC, BODY_JSON, api_auth_login,
	  "Sign in with email and password: access and refresh tokens", "auth", 0 },
	{ "POST", "/api/v1/auth/refresh", PUBLIC, BODY_JSON, api_auth_refresh,
	  "Rotate a refresh token for new tokens", "auth", 0 },
	{ "POST", "/api/v1/auth/logout", AUTHED, BODY_NONE, api_auth_logout,
	  "End this session (its access and refresh tokens)", "auth", 0 },
	{ "GET", "/api/v1/auth/me", AUTHED, BODY_NONE, api_auth_me,
	  "The caller: user, tenant, role and memberships", "auth", 0 },
	{ "POST", "/api/v1/auth/password", AUTHED, BODY_JSON, api_auth_password,
	  "Change the password; ends every session", "auth", 0 },
	{ "GET", "/api/v1/auth/sessions", AUTHED, BODY_NONE, api_auth_sessions_list,
	  "The caller's active sessions", "auth", 0 },
	{ "DELETE", "/api/v1/auth/sessions/{id}", AUTHED, BODY_NONE, api_auth_sessions_revoke,
	  "End one of the caller's sessions", "auth", 0 },
	{ "GET", "/login", PUBLIC, BODY_NONE, web_login_page, "Sign-in page", "pages", 0 },
	{ "POST", "/login", PUBLIC, BODY_FORM, web_login_submit, "Sign in (form)", "pages", 0 },
	{ "POST", "/logout", PUBLIC, BODY_FORM, web_logout, "Sign out (form)", "pages", 0 },
	{ "GET", "/sso/start", PUBLIC, BODY_NONE, web_sso_start,
	  "Single sign-on: to the tenant's provider (?tenant=SLUG or ?email=, &next=)", "pages",
	  0 },
	{ "GET", "/sso/callback", PUBLIC, BODY_NONE, web_sso_callback,
	  "Single sign-on: back from the provider (code, state, iss)", "pages", 0 },
	{ "GET", "/", PUBLIC, BODY_NONE, web_home, "Overview (signed in)", "pages", 0 },
	{ "GET", "/executions", PUBLIC, BODY_NONE, web_executions_page,
	  "Executions page (signed in)", "pages", 0 },
	{ "GET", "/executions/{id}", PUBLIC, BODY_NONE, web_execution_page,
	  "Execution page (signed in)", "pages", 0 },
	{ "POST", "/executions/{id}/cancel", PUBLIC, BODY_FORM, web_execution_cancel,
	  "Cancel an execution (form)", "pages", 0 },
	{ "POST", "/executions/{id}/retry", PUBLIC, BODY_FORM, web_execution_retry,
	  "Retry an execution (form)", "pages", 0 },
	{ "POST", "/executions/{id}/approve", PUBLIC, BODY_FORM, web_execution_approve,
	  "Decide a waiting approval (form)", "pages", 0 },

	/* ---- pages: patterns (web/patterns.c) ---- */
	/* before /patterns/{id}: "library" and "import" are reserved pattern names */
	{ "GET", "/patterns", PUBLIC, BODY_NONE, web_patterns_page, "Patterns page (signed in)",
	  "pages", 0 },
	{ "GET", "/patterns/library", PUBLIC, BODY_NONE, web_patterns_library_page,
	  "New pattern page: the built-in library and import (signed in)", "pages", 0 },
	{ "POST", "/patterns/library/{name}/clone", PUBLIC, BODY_FORM, web_pattern_clone,
	  "Clone a built-in pattern (form)", "pages", 0 },
	{ "POST", "/patterns/import", PUBLIC, BODY_FORM, web_pattern_import,
	  "Import a YAML or JSON pattern (form)", "pages", 0 },
	{ "GET", "/patterns/{id}", PUBLIC, BODY_NONE, web_pattern_page,
	  "Pattern page (signed in)", "pages", 0 },
	{ "POST", "/patterns/{id}/delete", PUBLIC, BODY_FORM, web_pattern_delete,
	  "Delete a pattern (form)", "pages", 0 },
	{ "GET", "/patterns/{id}/run", PUBLIC, BODY_NONE, web_pattern_run_page,
	  "Run form of a pattern (signed in)", "pages", 0 },
	{ "POST", "/patterns/{id}/run", PUBLIC, BODY_FORM, web_pattern_run,
	  "Submit an execution from the run form (form)", "pages", 0 },
	{ "GET", "/patterns/{id}/versions/diff", PUBLIC, BODY_NONE, web_pattern_diff_page,
	  "Two versions of a pattern side by side (signed in)", "pages", 0 },

	/* ---- pages: builder (web/builder.c) ---- */
	{ "GET", "/patterns/builder/new", PUBLIC, BODY_NONE, web_builder_new_page,
	  "Pattern builder: a new pattern on an empty canvas (signed in)", "pages", 0 },
	{ "GET", "/patterns/{id}/builder", PUBLIC, BODY_NONE, web_builder_page,
	  "Pattern builder: a pattern's latest version on the canvas (signed in)", "pages", 0 },

	/* ---- pages: agents (web/agents.c, web/agent_form.c) ---- */
	{ "GET", "/agents", PUBLIC, BODY_NONE, web_agents_page, "Agents page (signed in)", "pages",
	  0 },
	{ "POST", "/agents", PUBLIC, BODY_FORM, web_agent_create, "Register an agent (form)",
	  "pages", 0 },
	{ "GET", "/agents/new", PUBLIC, BODY_NONE, web_agent_new_page,
	  "Agent registration form (signed in)", "pages", 0 },
	{ "GET", "/agents/{id}", PUBLIC, BODY_NONE, web_agent_page, "Agent page (signed in)",
	  "pages", 0 },
	{ "GET", "/agents/{id}/edit", PUBLIC, BODY_NONE, web_agent_edit_page,
	  "Agent edit form (signed in)", "pages", 0 },
	{ "POST", "/agents/{id}/edit", PUBLIC, BODY_FORM, web_agent_update,
	  "Change an agent (form)", "pages", 0 },
	{ "POST", "/agents/{id}/test", PUBLIC, BODY_FORM, web_agent_test,
	  "Call an agent once and show its answer (form)", "pages", 0 },
	{ "POST", "/agents/{id}/delete", PUBLIC, BODY_FORM, web_agent_delete,
	  "Delete an agent (form)", "pages", 0 },

	/* ---- pages: members, invitations, settings (web/members.c, web/settings.c) ---- */
	{ "GET", "/members", PUBLIC, BODY_NONE, web_members_page,
	  "Members, invitations and workspace access page (signed in)", "pages", 0 },
	{ "POST", "/members/invite", PUBLIC, BODY_FORM, web_members_invite,
	  "Invite someone (form); the link is shown once on /members/invited", "pages", 0 },
	{ "GET", "/members/invited", PUBLIC, BODY_NONE, web_members_invited_page,
	  "A new invitation's link, shown once (signed in)", "pages", 0 },
	{ "POST", "/members/{user_id}/role", PUBLIC, BODY_FORM, web_member_role,
	  "Change a member's role (form)", "pages", 0 },
	{ "POST", "/members/{user_id}/remove", PUBLIC, BODY_FORM, web_member_remove,
	  "Remove a member (form)", "pages", 0 },
	{ "POST", "/members/invitations/{id}/revoke", PUBLIC, BODY_FORM, web_invitation_revoke,
	  "Revoke a pending invitation (form)", "pages", 0 },
	{ "POST", "/members/workspaces/{id}/{user_id}/role", PUBLIC, BODY_FORM,
	  web_workspace_member_role, "Set or clear a workspace role override (form)", "pages", 0 },
	{ "GET", "/settings", PUBLIC, BODY_NONE, web_settings_page,
	  "Organization settings page: name, quotas, API keys, SSO (signed in)", "pages", 0 },
	{ "POST", "/settings/tenant", PUBLIC, BODY_FORM, web_settings_tenant,
	  "Rename the organization (form)", "pages", 0 },
	{ "POST", "/settings/sso", PUBLIC, BODY_FORM, web_settings_sso,
	  "Configure single sign-on (form)", "pages", 0 },
	{ "POST", "/settings/sso/delete", PUBLIC, BODY_FORM, web_settings_sso_delete,
	  "Remove single sign-on (form)", "pages", 0 },
	{ "POST", "/settings/quotas", PUBLIC, BODY_FORM, web_settings_quotas,
	  "Set quotas within the plan (form)", "pages", 0 },
	{ "POST", "/settings/api-keys", PUBLIC, BODY_FORM, web_api_key_create,
	  "Create an API key (form); the key is shown once on /settings/api-keys/created",
	  "pages", 0 },
	{ "GET", "/settings/api-keys/created", PUBLIC, BODY_NONE, web_api_key_created_page,
	  "A new API key, shown once (signed in)", "pages", 0 },
	{ "POST", "/settings/api-keys/{id}/revoke", PUBLIC, BODY_FORM, web_api_key_revoke,
	  "Revoke an API key (form)", "pages", 0 },

	/* ---- pages: workspaces (web/workspaces.c, web/workspace.c) ---- */
	{ "POST", "/workspace", PUBLIC, BODY_FORM, web_workspace_switch,
	  "Switch this browser's workspace (form: workspace, next); the pick is the px_ws cookie",
	  "pages", 0 },
	{ "GET", "/workspaces", PUBLIC, BODY_NONE, web_workspaces_page,
	  "Workspaces page: the list and, for admins, the create form (signed in)", "pages", 0 },
	{ "POST", "/workspaces", PUBLIC, BODY_FORM, web_workspace_create,
	  "Create a workspace (form)", "pages", 0 },
	{ "GET", "/workspaces/{id}", PUBLIC, BODY_NONE, web_workspace_page,
	  "A workspace's page: its members and role overrides (signed in)", "pages", 0 },
	{ "POST", "/workspaces/{id}/edit", PUBLIC, BODY_FORM, web_workspace_update,
	  "Rename a workspace or change its slug or description (form)", "pages", 0 },
	{ "POST", "/workspaces/{id}/delete", PUBLIC, BODY_FORM, web_workspace_delete,
	  "Delete a workspace (form)", "pages", 0 },
	{ "POST", "/workspaces/{id}/members", PUBLIC, BODY_FORM, web_workspace_member_add,
	  "Add a member of the organization to a workspace (form)", "pages", 0 },
	{ "POST", "/workspaces/{id}/members/{user_id}/role", PUBLIC, BODY_FORM,
	  web_workspace_member_set, "Set or clear a workspace role override (form)", "pages", 0 },
	{ "POST", "/workspaces/{id}/members/{user_id}/remove", PUBLIC, BODY_FORM,
	  web_workspace_member_drop, "Remove someone from a workspace (form)", "pages", 0 },

	/* ---- pages: audit log, profile (web/audit.c, web/profile.c) ---- */
	{ "GET", "/audit", PUBLIC, BODY_NONE, web_audit_page,
	  "Audit log page with filters and exports (signed in)", "pages", 0 },
	{ "GET", "/profile", PUBLIC, BODY_NONE, web_profile_page,
	  "Profile page: password and sessions (signed in)", "pages", 0 },
	{ "POST", "/profile/password", PUBLIC, BODY_FORM, web_profile_password,
	  "Change the password (form); ends every session", "pages", 0 },
	{ "POST", "/profile/sessions/{id}/end", PUBLIC, BODY_FORM, web_profile_session_end,
	  "End one of your sessions (form)", "pages", 0 },

	/* ---- tenancy: tenants, members, invitations, workspaces, quotas ---- */
	{ "GET", "/api/v1/tenants/{t}", PERM(RES_TENANT, ACT_READ), BODY_NONE, api_tenant_get,
	  "The caller's tenant", "tenants", 0 },
	{ "PATCH", "/api/v1/tenants/{t}", PERM(RES_TENANT, ACT_UPDATE), BODY_JSON,
	  api_tenant_update, "Rename the tenant", "tenants", 0 },
	{ "DELETE", "/api/v1/tenants/{t}", PERM(RES_TENANT, ACT_DELETE), BODY_JSON,
	  api_tenant_delete, "Delete the tenant and all it owns ({confirm: slug})", "tenants", 0 },
	{ "GET", "/api/v1/tenants/{t}/members", PERM(RES_MEMBER, ACT_READ), BODY_NONE,
	  api_members_list, "List the tenant's members", "members", 0 },
	{ "PATCH", "/api/v1/tenants/{t}/members/{user_id}", PERM(RES_MEMBER, ACT_UPDATE),
	  BODY_JSON, api_members_update, "Change a member's role", "members", 0 },
	{ "DELETE", "/api/v1/tenants/{t}/members/{user_id}", PERM(RES_MEMBER, ACT_DELETE),
	  BODY_NONE, api_members_delete, "Remove a member", "members", 0 },
	{ "POST", "/api/v1/tenants/{t}/invitations", PERM(RES_INVITATION, ACT_CREATE), BODY_JSON,
	  api_invitations_create, "Invite someone by email (the link is shown once)",
	  "invitations", 0 },
	{ "GET", "/api/v1/tenants/{t}/invitations", PERM(RES_INVITATION, ACT_READ), BODY_NONE,
	  api_invitations_list, "List pending invitations", "invitations", 0 },
	{ "DELETE", "/api/v1/tenants/{t}/invitations/{id}", PERM(RES_INVITATION, ACT_DELETE),
	  BODY_NONE, api_invitations_revoke, "Revoke a pending invitation", "invitations", 0 },
	{ "POST", "/api/v1/invitations/accept", PUBLIC, BODY_JSON, api_invitations_accept,
	  "Accept an invitation (new account, or signed in with the invited email)",
	  "invitations", 0 },
	{ "GET", "/api/v1/tenants/{t}/quotas", PERM(RES_QUOTA, ACT_READ), BODY_NONE,
	  api_quotas_get, "Quotas, usage and the plan's ceilings", "quotas", 0 },
	{ "PATCH", "/api/v1/tenants/{t}/quotas", PERM(RES_QUOTA, ACT_UPDATE), BODY_JSON,
	  api_quotas_update, "Set quotas within the plan's ceilings", "quotas", 0 },
	{ "GET", "/api/v1/tenants/{t}/sso", PERM(RES_SSO, ACT_READ), BODY_NONE, api_sso_get,
	  "The tenant's OpenID Connect provider (the client secret is never returned)", "sso",
	  0 },
	{ "PUT", "/api/v1/tenants/{t}/sso", PERM(RES_SSO, ACT_UPDATE), BODY_JSON, api_sso_put,
	  "Configure single sign-on ({issuer, client_id, client_secret?, display_name?, "
	  "allowed_domains?, default_role?, group_claim?, group_map?, jit_provisioning?, "
	  "sso_required?, break_glass_user_id?, enabled?})", "sso", 0 },
	{ "DELETE", "/api/v1/tenants/{t}/sso", PERM(RES_SSO, ACT_DELETE), BODY_NONE,
	  api_sso_delete, "Remove single sign-on", "sso", 0 },
	{ "GET", "/api/v1/workspaces", PERM(RES_WORKSPACE, ACT_READ), BODY_NONE,
	  api_workspaces_list, "List workspaces", "workspaces", 0 },
	{ "POST", "/api/v1/workspaces", PERM(RES_WORKSPACE, ACT_CREATE), BODY_JSON,
	  api_workspaces_create, "Create a workspace", "workspaces", 0 },
	{ "GET", "/api/v1/workspaces/{id}", PERM(RES_WORKSPACE, ACT_READ), BODY_NONE,
	  api_workspaces_get, "Get a workspace", "workspaces", 0 },
	{ "PATCH", "/api/v1/workspaces/{id}", PERM(RES_WORKSPACE, ACT_UPDATE), BODY_JSON,
	  api_workspaces_update, "Update a workspace", "workspaces", 0 },
	{ "DELETE", "/api/v1/workspaces/{id}", PERM(RES_WORKSPACE, ACT_DELETE), BODY_NONE,
	  api_workspaces_delete, "Delete a workspace (not the default one)", "workspaces", 0 },
	{ "GET", "/api/v1/workspaces/{id}/members", PERM(RES_WORKSPACE, ACT_READ), BODY_NONE,
	  api_workspace_members_list, "List a workspace's members", "workspaces", 0 },
	{ "PUT", "/api/v1/workspaces/{id}/members/{user_id}", PERM(RES_WORKSPACE, ACT_UPDATE),
	  BODY_JSON, api_workspace_members_put, "Add a member or set their role override",
	  "workspaces", 0 },
	{ "DELETE", "/api/v1/workspaces/{id}/members/{user_id}", PERM(RES_WORKSPACE, ACT_UPDATE),
	  BODY_NONE, api_workspace_members_delete, "Remove a workspace member", "workspaces", 0 },
	{ "GET", "/invite", PUBLIC, BODY_NONE, web_invite_page, "Invitation page", "pages", 0 },
	{ "POST", "/invite", PUBLIC, BODY_FORM, web_invite_submit, "Accept an invitation (form)",
	  "pages", 0 },

	/* ---- API keys and the audit log ---- */
	{ "POST", "/api/v1/tenants/{t}/api-keys", PERM(RES_API_KEY, ACT_CREATE), BODY_JSON,
	  api_keys_create, "Create an API key (shown once)", "api-keys", 0 },
	{ "GET", "/api/v1/tenants/{t}/api-keys", PERM(RES_API_KEY, ACT_READ), BODY_NONE,
	  api_keys_list, "List API keys (never the key itself)", "api-keys", 0 },
	{ "DELETE", "/api/v1/tenants/{t}/api-keys/{id}", PERM(RES_API_KEY, ACT_DELETE), BODY_NONE,
	  api_keys_revoke, "Revoke an API key", "api-keys", 0 },
	{ "GET", "/api/v1/tenants/{t}/audit", PERM(RES_AUDIT, ACT_READ), BODY_NONE,
	  api_audit_list, "Audit log entries, filtered, newest first", "audit", 0 },
	{ "GET", "/api/v1/tenants/{t}/audit/export", PERM(RES_AUDIT, ACT_READ), BODY_NONE,
	  api_audit_export, "Export the audit log as CSV or JSON", "audit", 0 },

	/* ---- executions (api/executions.c) ---- */
	{ "POST", "/api/v1/executions", PERM(RES_EXECUTION, ACT_CREATE), BODY_JSON,
	  api_executions_create,
	  "Submit an execution ({pattern, version?, input, idempotency_key?, priority?, "
	  "timeout_ms?, webhook?}; Idempotency-Key header; ?wait=N)", "executions", 0 },
	{ "GET", "/api/v1/executions", PERM(RES_EXECUTION, ACT_READ), BODY_NONE,
	  api_executions_list,
	  "List executions, newest first (status, pattern, since, until, limit, cursor)",
	  "executions", 0 },
	{ "GET", "/api/v1/executions/stats", PERM(RES_EXECUTION, ACT_READ), BODY_NONE,
	  api_executions_stats,
	  "Statistics of the workspace's executions (since, until: default the last 7 days; "
	  "pattern): summary, by hour and day, latency percentiles, confidence histogram",
	  "executions", 0 },
	{ "GET", "/api/v1/executions/feed", PERM(RES_EXECUTION, ACT_READ), BODY_NONE,
	  api_executions_feed,
	  "A version of the workspace's newest executions ({version}); with ?follow=1, "
	  "server-sent 'changed' events whenever one is submitted or changes status",
	  "executions", 0 },
	{ "GET", "/api/v1/executions/{id}", PERM(RES_EXECUTION, ACT_READ), BODY_NONE,
	  api_executions_get, "Get an execution with its steps", "executions", 0 },
	{ "POST", "/api/v1/executions/{id}/cancel", PERM(RES_EXECUTION, ACT_RUN), BODY_NONE,
	  api_executions_cancel, "Cancel an execution (in-flight agent calls stop)", "executions",
	  0 },
	{ "POST", "/api/v1/executions/{id}/retry", PERM(RES_EXECUTION, ACT_RUN), BODY_NONE,
	  api_executions_retry, "Run a failed, cancelled or timed-out execution again",
	  "executions", 0 },
	{ "POST", "/api/v1/executions/{id}/approve", PERM(RES_EXECUTION, ACT_APPROVE), BODY_JSON,
	  api_executions_approve, "Decide a waiting approval ({decision: approve|reject})",
	  "executions", 0 },
	{ "GET", "/api/v1/executions/{id}/events", PERM(RES_EXECUTION, ACT_READ), BODY_NONE,
	  api_executions_events,
	  "The execution's events (?after=seq); ?follow=1 streams them as SSE (Last-Event-ID)",
	  "executions", 0 },

	/* ---- schedules and triggers (api/schedules.c) ---- */
	{ "POST", "/api/v1/schedules", PERM(RES_PATTERN, ACT_CREATE), BODY_JSON,
	  api_schedules_create, "Create a schedule ({name, pattern, cron (UTC), input?, enabled?})",
	  "executions", 0 },
	{ "GET", "/api/v1/schedules", PERM(RES_PATTERN, ACT_READ), BODY_NONE, api_schedules_list,
	  "List the workspace's schedules", "executions", 0 },
	{ "DELETE", "/api/v1/schedules/{id}", PERM(RES_PATTERN, ACT_DELETE), BODY_NONE,
	  api_schedules_delete, "Delete a schedule", "executions", 0 },
	{ "POST", "/api/v1/triggers", PERM(RES_PATTERN, ACT_CREATE), BODY_JSON,
	  api_triggers_create,
	  "Create an inbound trigger ({name, pattern, secret}): its URL starts the pattern",
	  "executions", 0 },
	{ "GET", "/api/v1/triggers", PERM(RES_PATTERN, ACT_READ), BODY_NONE, api_triggers_list,
	  "List the workspace's triggers (secrets show as {set: true})", "executions", 0 },
	{ "DELETE", "/api/v1/triggers/{id}", PERM(RES_PATTERN, ACT_DELETE), BODY_NONE,
	  api_triggers_delete, "Delete a trigger", "executions", 0 },
	{ "POST", "/api/v1/hooks/{id}", PUBLIC, BODY_RAW, api_hooks_fire,
	  "Fire a trigger: a JSON body signed X-Parallax-Signature: sha256=<HMAC> starts its pattern",
	  "executions", 0 },

	/* ---- agents (api/agents.c) ---- */
	{ "POST", "/api/v1/agents", PERM(RES_AGENT, ACT_CREATE), BODY_JSON, api_agents_create,
	  "Register an agent (a ws agent's connect_token is shown once)", "agents", 0 },
	{ "GET", "/api/v1/agents", PERM(RES_AGENT, ACT_READ), BODY_NONE, api_agents_list,
	  "List the workspace's agents (filters: kind, capability, status)", "agents", 0 },
	{ "GET", "/api/v1/agents/{id}", PERM(RES_AGENT, ACT_READ), BODY_NONE, api_agents_get,
	  "Get an agent (secrets show as {set: true})", "agents", 0 },
	{ "PATCH", "/api/v1/agents/{id}", PERM(RES_AGENT, ACT_UPDATE), BODY_JSON,
	  api_agents_update, "Update an agent; config is merged, null removes a key", "agents", 0 },
	{ "DELETE", "/api/v1/agents/{id}", PERM(RES_AGENT, ACT_DELETE), BODY_NONE,
	  api_agents_delete, "Delete an agent", "agents", 0 },
	{ "POST", "/api/v1/agents/{id}/test", PERM(RES_AGENT, ACT_RUN), BODY_JSON, api_agents_test,
	  "Call the agent once ({task?, data?}): value, confidence, latency", "agents", 0 },
	{ "GET", "/api/v1/agents/{id}/health", PERM(RES_AGENT, ACT_READ), BODY_NONE,
	  api_agents_health, "Probe the agent now (?probe=0: no probe) and report its circuit",
	  "agents", 0 },
};

const size_t routes_count = sizeof(routes) / sizeof(routes[0]);

/*
 * Match a decoded path against "/a/{x}/b". A "{name}" segment matches one
 * non-empty segment; a final "*" matches the rest (possibly empty). The
 * captured values point into the arena.
 */
int route_match(const char *pattern, const char *path, struct req *r)
{
	const char *p = pattern, *s = path;
	while (*p) {
		if (p[0] == '*' && p[1] == '\0') {
			if (r->nparams < REQ_MAX_PARAMS)
				r->params[r->nparams++] = arena_strdup(r->arena, s);
			return 1;
		}
		if (*p == '{') {
			const char *pe = strchr(p, '}');
			size_t n = strcspn(s, "/");
			if (!pe || n == 0 || r->nparams >= REQ_MAX_PARAMS)
				return 0;
			r->params[r->nparams++] = arena_strndup(r->arena, s, n);
			p = pe + 1;
			s += n;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	return *s == '\0';
}
