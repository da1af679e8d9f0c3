/*
 * What every signed-in page shares: the session check (signed out: a
 * redirect to /login with the page to come back to), the workspace the page
 * shows (the switcher's pick, else the default one) and the role in it, and
 * the app shell's context (tenant, user, role, CSRF token, the workspace
 * switcher, the current navigation entry).
 */
#include <stdio.h>
#include <string.h>

#include "web/web.h"
#include "auth/auth.h"
#include "db/db.h"
#include "server/server.h"
#include "core/core.h"

int web_app_begin(struct req *r, struct db **db, const char *nav, cJSON **ctx)
{
	struct user_row u;
	struct membership_row m;
	char next[600];
	int rc;
	*ctx = NULL;
	if (r->auth.kind != AUTH_COOKIE) { /* back to this page (not its query) after sign-in */
		if (strlen(r->path) < 200 && web_safe_next(r->path) && strcmp(r->path, "/") &&
		    !strpbrk(r->path, "&?#%+ "))
			snprintf(next, sizeof(next), "/login?next=%s", r->path);
		else
			str_copy(next, sizeof(next), "/login");
		return req_redirect(r, 303, next);
	}
	if ((rc = req_db(r, db)) || (rc = store_user_by_id(*db, r->auth.user_id, &u, &r->err)) ||
	    (rc = store_membership_get(*db, u.id, r->auth.tenant_id, &m, &r->err)))
		return rc;
	/* pages are public routes: the workspace is resolved here as for the API (the
	 * switcher's pick, else the default one); none usable leaves the page to say so */
	if (!r->auth.workspace_id[0] && (rc = resolve_workspace(r))) {
		if (rc != ERR_NOT_FOUND)
			return rc;
		err_clear(&r->err);
	}
	cJSON *c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "body_class", "app");
	cJSON_AddStringToObject(c, "csrf", web_csrf_token(r));
	cJSON_AddStringToObject(c, "tenant", m.tenant_name);
	/* the role that applies on this page: a workspace override (viewer here, developer
	 * elsewhere) shows, with the organization's role beside it */
	cJSON_AddStringToObject(c, "role", role_name(r->auth.role));
	if (r->auth.role != r->auth.tenant_role)
		cJSON_AddStringToObject(c, "org_role", m.role);
	cJSON *user = cJSON_AddObjectToObject(c, "user");
	cJSON_AddStringToObject(user, "name", u.name);
	cJSON_AddStringToObject(user, "email", u.email);
	web_add_perms(r, c);
	web_workspace_shell(r, c);
	web_flash_take(r, c);
	if (nav) {
		char key[40];
		snprintf(key, sizeof(key), "nav_%s", nav);
		cJSON_AddTrueToObject(c, key);
	}
	*ctx = c;
	return 0;
}
