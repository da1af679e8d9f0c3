/*
 * The permission matrix: role x resource x action, in one table. Every route
 * names a (resource, action) pair and the dispatcher asks rbac_allows().
 * Roles are ordered, so each cell is the least role allowed.
 *
 *   viewer     reads everything in their workspaces
 *   operator   also runs, cancels, retries and approves executions
 *   developer  also creates and edits patterns, agents and experiments
 *   admin      also manages members, invitations, API keys, quotas, SSO, audit
 *   owner      also deletes the tenant and changes its plan
 */
#include <string.h>

#include "auth/auth.h"
#include "core/core.h"

#define V ROLE_VIEWER
#define O ROLE_OPERATOR
#define D ROLE_DEVELOPER
#define A ROLE_ADMIN
#define W ROLE_OWNER
#define X ROLE_NONE

/* columns: (none), read, create, update, delete, run, approve */
static const unsigned char matrix[RES__COUNT][ACT__COUNT] = {
	[RES_TENANT]     = { X, V, X, A, W, X, X },
	[RES_MEMBER]     = { X, V, A, A, A, X, X },
	[RES_INVITATION] = { X, A, A, A, A, X, X },
	[RES_WORKSPACE]  = { X, V, A, A, A, X, X },
	[RES_API_KEY]    = { X, A, A, A, A, X, X },
	[RES_QUOTA]      = { X, V, X, A, X, X, X },
	[RES_AUDIT]      = { X, A, X, X, X, X, X },
	[RES_SSO]        = { X, A, A, A, A, X, X },
	[RES_AGENT]      = { X, V, D, D, D, D, X },
	[RES_PATTERN]    = { X, V, D, D, D, D, X },
	[RES_EXECUTION]  = { X, V, O, X, X, O, O },
	[RES_EXPERIMENT] = { X, V, D, D, D, D, X },
};

static const char *const resource_names[] = { "",       "tenant",  "member",   "invitation",
					      "workspace", "api_key", "quota",  "audit",
					      "sso",    "agent",   "pattern", "execution",
					      "experiment" };
static const char *const action_names[] = { "", "read", "create", "update", "delete", "run",
					    "approve" };

const char *resource_name(int res)
{
	return res > RES_NONE && res < RES__COUNT ? resource_names[res] : "";
}

const char *action_name(int act)
{
	return act > ACT_NONE && act < ACT__COUNT ? action_names[act] : "";
}

int rbac_min_role(int resource, int action)
{
	if (resource <= RES_NONE || resource >= RES__COUNT || action <= ACT_NONE ||
	    action >= ACT__COUNT)
		return ROLE_NONE;
	return matrix[resource][action];
}

int rbac_allows(int role, int resource, int action)
{
	int min = rbac_min_role(resource, action);
	return min != ROLE_NONE && role >= min;
}

int rbac_workspace_scoped(int resource)
{
	return resource == RES_AGENT || resource == RES_PATTERN || resource == RES_EXECUTION ||
	       resource == RES_EXPERIMENT;
}

const char *auth_actor_type(const struct auth_ctx *a)
{
	switch (a->kind) {
	case AUTH_API_KEY: return "api_key";
	case AUTH_TOKEN:
	case AUTH_COOKIE: return "user";
	default: return "anonymous";
	}
}
