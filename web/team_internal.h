/*
 * What the members, settings and workspaces pages (web/members.c,
 * web/settings.c, web/workspaces.c, web/workspace.c) share, and nothing else
 * includes: calling the tenant's own API routes, the one-time reveal of a
 * secret after a form post, times and role choices for templates.
 */
#ifndef WEB_TEAM_INTERNAL_H
#define WEB_TEAM_INTERNAL_H

#include <cjson/cJSON.h>

struct req;

/*
 * web_api_call() for an API route (method and pattern as in the route table)
 * with the path parameters p0 and p1 (NULL: none) in place of the page's:
 * p0 NULL is the signed-in user's tenant, for /api/v1/tenants/{t}/... routes.
 * query is the query string the API handler sees (NULL: none), so a page's
 * own ?cursor= reaches only the list it pages. 0 with *answer (caller
 * deletes), or the error in r->err.
 */
int team_call(struct req *r, const char *method, const char *pattern, const char *p0,
	      const char *p1, const char *query, cJSON *body, cJSON **answer);

/* GET a list route (p0 as for team_call) from cursor (NULL: the start). A stale or forged
 * cursor, which the API refuses, starts from the top instead of failing the page. */
int team_list(struct req *r, const char *pattern, const char *p0, const char *cursor,
	      cJSON **answer);

/* A form post answered by that route (body is freed here), then a 303 to `to` with the
 * notice ok, or back to `to` with the API's refusal. Not signed in: to /login. */
int team_form(struct req *r, const char *method, const char *pattern, const char *p0,
	      const char *p1, cJSON *body, const char *to, const char *ok);

/*
 * A secret shown once (an invitation link, a new API key): the form post
 * leaves it in a short-lived HttpOnly cookie scoped to exactly `path`, the
 * page it redirects to; that page takes it (the cookie is cleared in the same
 * response) and shows it. A reload, or any later page, has nothing to show.
 * The object (freed here) is what the page renders; it is bound to the user.
 */
void team_reveal_put(struct req *r, const char *path, cJSON *what);
/* A form that creates something with a secret: POST pattern (a tenant route) with body
 * (freed here); the answer's string fields keep[0..nkeep) are left for `page` to show
 * once, and the browser goes there. A refusal goes back to `back` with the API's words. */
int team_create_shown_once(struct req *r, const char *pattern, cJSON *body,
			   const char *const *keep, size_t nkeep, const char *page,
			   const char *back);
/* The object left for this user on this page, or NULL; the caller deletes it. */
cJSON *team_reveal_take(struct req *r, const char *path);

/* o.key = "2026-01-31 10:42 UTC", o.key_iso = the RFC 3339 time (for <time datetime>)
 * and o.key_rel = "3 days ago" / "in 6 days", from the API's RFC 3339 value o.from (null
 * or missing: nothing is added, so {{^key}} can say "never"). */
void team_add_time(cJSON *o, const char *key, const char *from);

/* The roles up to max_role (enum role), least first, as [{value, selected?}]. */
cJSON *team_role_options(int max_role, const char *selected);

/* A workspace role override's choices: "" (none: the organization role applies) first, then
 * the roles up to max_role and at most developer, since admins and owners keep their own role
 * in every workspace and no workspace-scoped action needs more. */
cJSON *team_override_options(int max_role, const char *selected);

/* The body that sets a workspace member's override: {role}, or {role: null} for "" or NULL. */
cJSON *team_override_body(const char *role);

/* A string field of an API answer, "" when absent. */
const char *team_str(const cJSON *o, const char *key);
/* 1 when ctx.can.<res>.<act> (web_add_perms) is set: the viewer's role allows it. */
int team_can(const cJSON *ctx, const char *res, const char *act);
/* Move the "items" of a list answer (then deleted) into o[name], an array even when the
 * answer had none, with o[has_<name>] saying whether it holds any and o[<name>_next] its
 * next_cursor, if there is one. Returns the array (owned by o). Templates test has_<name>,
 * never <name>.0: a section on an item makes it a scope, and the rows would read keys
 * they lack from the first row. */
cJSON *team_items(cJSON *answer, cJSON *o, const char *name);

/* ctx.sso (the API's view of the tenant's provider, when there is one) and ctx.sso_form
 * (the redirect URI, role and owner choices, the lists as text) for the settings page. */
int team_sso_fill(struct req *r, cJSON *ctx);

#endif
