/*
 * The dashboard: server-rendered HTML pages. Everything written into a page
 * goes through html_escape() (or, later, the template renderer, which
 * escapes by default).
 */
#ifndef WEB_WEB_H
#define WEB_WEB_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/err.h"

struct buf;
struct req;
struct config;

/* Compile the templates (embedded, or from <dev_dir>/templates with --dev); a
 * broken one fails naming "templates/<file>:<line>". */
int web_templates_load(const struct config *cfg, struct err *e);
void web_templates_free(void);
struct db;
/* A signed-in page: 0 with *db and *ctx (the app shell's context, nav_<nav> set) for the
 * caller to fill and render, or the response already made (a redirect to /login). */
int web_app_begin(struct req *r, struct db **db, const char *nav, cJSON **ctx);
int web_executions_page(struct req *r);
int web_execution_page(struct req *r);
int web_execution_cancel(struct req *r);
int web_execution_retry(struct req *r);
int web_execution_approve(struct req *r);
/* pages: patterns (web/patterns.c, pattern_new.c, pattern_run.c, pattern_diff.c) */
int web_patterns_page(struct req *r);
int web_patterns_library_page(struct req *r);
int web_pattern_clone(struct req *r);
int web_pattern_import(struct req *r);
int web_pattern_page(struct req *r);
int web_pattern_delete(struct req *r);
int web_pattern_run_page(struct req *r);
int web_pattern_run(struct req *r);
int web_pattern_diff_page(struct req *r);

/* pages: agents (web/agents.c, web/agent_form.c) */
int web_agents_page(struct req *r);
int web_agent_page(struct req *r);
int web_agent_test(struct req *r);
int web_agent_delete(struct req *r);
int web_agent_new_page(struct req *r);
int web_agent_create(struct req *r);
int web_agent_edit_page(struct req *r);
int web_agent_update(struct req *r);
/* Shared by the two files: "Built-in", "HTTP", ... for a kind. */
const char *web_agent_kind_label(const char *kind);
/* An agent's state as the agents page says it (healthy, degraded, down, unknown, disabled),
 * from the API's JSON of it and the engine's figures. */
const char *web_agent_state(struct req *r, const cJSON *agent);
/* "/agents/<param 0>" when it looks like an id, else "/agents" (for redirects). */
const char *web_agent_url(struct req *r);
/* Render the agent a (the API's JSON) on its page with ctx (the shell's, taken; it may
 * hold test or connect_token already) and status. */
int web_agent_render(struct req *r, cJSON *ctx, const cJSON *a, int status);
/* The page's agent (param 0) through the API into *a; when it is none of this
 * workspace's, a 404 page in the shell is made and *a is NULL. ctx is taken unless *a. */
int web_agent_load(struct req *r, cJSON *ctx, cJSON **a);
/* ctx.form: the empty create form, for the list's empty state. */
void web_agent_form_new(struct req *r, cJSON *ctx);

/* pages: members, invitations, settings (web/members.c, web/settings.c) */
int web_members_page(struct req *r);
int web_members_invite(struct req *r);
int web_members_invited_page(struct req *r);
int web_member_role(struct req *r);
int web_member_remove(struct req *r);
int web_invitation_revoke(struct req *r);
int web_workspace_member_role(struct req *r);
int web_settings_page(struct req *r);
int web_settings_tenant(struct req *r);
int web_settings_quotas(struct req *r);
int web_api_key_create(struct req *r);
int web_api_key_created_page(struct req *r);
int web_api_key_revoke(struct req *r);

/* pages: audit log, profile (web/audit.c, web/profile.c) */
int web_audit_page(struct req *r);
int web_profile_page(struct req *r);
int web_profile_password(struct req *r);
int web_profile_session_end(struct req *r);

/* pages: workspaces (web/workspaces.c, web/workspace.c) */
int web_workspace_switch(struct req *r);
int web_workspaces_page(struct req *r);
int web_workspace_create(struct req *r);
int web_workspace_page(struct req *r);
int web_workspace_update(struct req *r);
int web_workspace_delete(struct req *r);
int web_workspace_member_add(struct req *r);
int web_workspace_member_set(struct req *r);
int web_workspace_member_drop(struct req *r);
/* The shell's switcher for web_app_begin: ctx.workspace_choices [{id, name, is_default,
 * current?}] (what the API lists for this user), ctx.current_workspace {id, name} and
 * ctx.switch_next; nothing when the list cannot be read. */
void web_workspace_shell(struct req *r, cJSON *ctx);
/* The browser's pick (the px_ws cookie POST /workspace sets) into out (size >= 37) when it
 * holds an id, else NULL. server/authn.c uses it for cookie-authenticated requests. */
const char *web_workspace_chosen(struct req *r, char *out, size_t size);

/* pages: builder (web/builder.c) */
int web_builder_page(struct req *r);
int web_builder_new_page(struct req *r);


/* ---- forms (web/actions.c) ---- */
/* Call the API route (method, its pattern exactly as in the route table) for this
 * signed-in request, with body (NULL: {}) and the page route's own path params: the
 * same permission check, handler, validation and audit as over HTTP. 0 with *answer
 * (the API's JSON answer, or NULL; caller deletes), or the error in r->err. The page
 * then makes its own response. */
int web_api_call(struct req *r, const char *method, const char *pattern, cJSON *body,
		 cJSON **answer);
/* The same for a route that takes a raw body (an import): text, of media_type, is the
 * body the handler reads. */
int web_api_call_raw(struct req *r, const char *method, const char *pattern, const char *text,
		     const char *media_type, cJSON **answer);
/* A one-shot notice for the next page (kind "ok" or "error"). */
void web_flash(struct req *r, const char *kind, const char *text);
/* The notice, if one was left, as ctx.flash {text, error?}, and cleared. */
void web_flash_take(struct req *r, cJSON *ctx);
/* End a form post: 303 to `to` with the notice ok (may be NULL), or when rc is an
 * error, 303 to back (NULL: to) with the error as the notice. */
int web_form_done(struct req *r, int rc, const char *to, const char *ok, const char *back);
/* ctx.can.<resource>.<action> = true for what the viewer's role allows (RBAC matrix):
 * pages show only the controls the role may use. */
void web_add_perms(struct req *r, cJSON *ctx);

/* An error as a page, for a browser on a page route (the API's errors stay JSON). */
void web_error_page(struct req *r, int status, const char *message);

/* Render template name with ctx and send it as the response. */
int web_render(struct req *r, int status, const char *name, const cJSON *ctx);

/* Escape for HTML text and double-quoted attribute values. */
void html_escape(struct buf *out, const char *s);
/* 1 if the request's Origin (when sent) is this server's own origin. */
int web_same_origin(struct req *r);
/* CSRF double-submit token for forms (sets the cookie when new). */
const char *web_csrf_token(struct req *r);
/* Same origin and matching token, else ERR_FORBIDDEN set on r. */
int web_csrf_check(struct req *r);

/* 1 if next is a same-origin relative path ("/x", never "//x", "/\\x", "https:"). */
int web_safe_next(const char *next);
/* The browser session cookie (HttpOnly, SameSite=Lax, Secure under TLS); "" and 0 clear it. */
void web_set_session_cookie(struct req *r, const char *value, int64_t max_age_s);

/* Single sign-on: to the provider and back (web/sso.c); the settings page's forms
 * (web/settings_sso.c). */
int web_sso_start(struct req *r);
int web_sso_callback(struct req *r);
struct sso_config;
/* The organization whose SSO allows email's domain (store_sso_by_domain's answers). */
int web_sso_by_email(struct db *db, const char *email, struct sso_config *c, struct err *e);
int web_settings_sso(struct req *r);
int web_settings_sso_delete(struct req *r);

/* One bar of a chart: up to three stacked parts, a label under it (NULL: none) and
 * the tooltip title. */
struct chart_bar {
	const char *label;
	char title[320];
	double v[3];
};
/* An SVG bar chart (parts stacked bottom up, each drawn with classes[k]) into b. */
void chart_bars(struct buf *b, const char *label, const struct chart_bar *bars, size_t n,
		int parts, const char *const *classes);

int web_login_page(struct req *r);
int web_login_submit(struct req *r);
int web_logout(struct req *r);
int web_home(struct req *r);

int web_setup_page(struct req *r);
int web_setup_submit(struct req *r);

int web_invite_page(struct req *r);
int web_invite_submit(struct req *r);

#endif
