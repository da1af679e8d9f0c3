/*
 * Entity stores: the SQL for each entity, written once for both dialects.
 *
 * Ownership and errors: every function returns 0 or a negative err_code and
 * fills struct err; strings handed out are malloc'd and owned by the caller.
 * Functions on tenant-owned rows take the caller's tenant id and filter on
 * it. The few installation-level functions below (settings, first-run set-up)
 * are the deliberate exceptions: they run before any tenant exists.
 */
#ifndef DB_STORE_H
#define DB_STORE_H

#include "core/err.h"
#include "core/util.h"
#include "db/db.h"

/* --- installation settings (key/value, e.g. the set-up token's hash) -------- */

/* *value_out = malloc'd value, or NULL when the key is absent. */
int store_setting_get(struct db *db, const char *key, char **value_out, struct err *e);
/* Insert or replace. */
int store_setting_set(struct db *db, const char *key, const char *value, struct err *e);
/* Remove (no error when absent); *deleted (may be NULL) = 1 if a row went. */
int store_setting_delete(struct db *db, const char *key, int *deleted, struct err *e);

/* --- first-run set-up ---------------------------------------------------------- */

/* *exists = 1 once any tenant has an owner (the installation is claimed). */
int store_owner_exists(struct db *db, int *exists, struct err *e);

struct setup_owner {
	const char *tenant_name, *tenant_slug, *user_name, *email, *password_hash;
};

struct setup_result {
	char tenant_id[UUID_STR_LEN], user_id[UUID_STR_LEN], workspace_id[UUID_STR_LEN];
};

/*
 * In one write transaction: the tenant, its default workspace, the owner
 * (email lower-cased), the owner membership and workspace membership, the
 * default quotas and an audit entry "setup.owner_created". ERR_CONFLICT if an
 * owner already exists (concurrent callers are serialized) or the email/slug
 * is taken; ERR_INVALID if a field is missing. Nothing is written on error.
 * Must be called outside a transaction.
 */
int store_setup_owner(struct db *db, const struct setup_owner *in, struct setup_result *out,
		      struct err *e);

/* --- audit log (append-only) ---------------------------------------------------- */

struct audit_entry {
	const char *tenant_id;   /* NULL for installation-level events */
	const char *actor_type;  /* "user", "api_key", "system" or "anonymous" */
	const char *actor_id, *actor_label;
	const char *action;      /* dotted: "auth.login", "member.role_changed", ... */
	const char *resource_type, *resource_id;
	const char *ip;
	const char *outcome;     /* "success", "failure" or "denied" */
	const char *request_id;
	const char *details_json; /* a JSON object without secrets; NULL means {} */
};
int store_audit_append(struct db *db, const struct audit_entry *in, struct err *e);

/* The quotas a new tenant gets (also the defaults shown by the API). */
struct tenant_quota_defaults {
	int64_t members, workspaces, agents, patterns, executions_per_day, concurrent_executions,
		tokens_per_month, requests_per_minute;
};
extern const struct tenant_quota_defaults store_default_quotas;

#endif
