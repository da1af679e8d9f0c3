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

/* --- membership roles (store_roles.c) ---------------------------------------------- */

/* Ordered least to most: a higher role can do everything a lower one can.
 * What each role may do is auth/'s permission matrix. */
enum role { ROLE_NONE = 0, ROLE_VIEWER, ROLE_OPERATOR, ROLE_DEVELOPER, ROLE_ADMIN, ROLE_OWNER };
const char *role_name(int role); /* "viewer" ... "owner"; "" for ROLE_NONE */
int role_parse(const char *s);   /* ROLE_NONE if unknown or NULL */

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
	int another_tenant; /* 1: an admin creating a further tenant (no first-owner claim) */
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

/* --- users, sessions, throttling (store_auth.c) --------------------------------- */

#include <cjson/cJSON.h>

struct user_row {
	char id[UUID_STR_LEN];
	char email[256];
	char name[256];
	char password_hash[128]; /* "" for SSO-only accounts */
	int disabled;
};
int store_user_by_email(struct db *db, const char *email, struct user_row *out, struct err *e);
int store_user_by_id(struct db *db, const char *user_id, struct user_row *out, struct err *e);
int store_user_set_password(struct db *db, const char *user_id, const char *hash, struct err *e);
int store_user_touch_login(struct db *db, const char *user_id, struct err *e);

struct membership_row {
	char tenant_id[UUID_STR_LEN];
	char tenant_slug[64];
	char tenant_name[256];
	char role[16];
};
/* tenant_id NULL: the user's oldest membership. ERR_NOT_FOUND if none. */
int store_membership_get(struct db *db, const char *user_id, const char *tenant_id,
			 struct membership_row *out, struct err *e);

enum session_status { SESSION_ACTIVE = 1, SESSION_ROTATED, SESSION_REVOKED };
struct session_new {
	const char *tenant_id, *user_id, *token_hash, *kind, *ip, *user_agent;
	int64_t expires_at;
};
struct session_row {
	char id[UUID_STR_LEN], tenant_id[UUID_STR_LEN], user_id[UUID_STR_LEN];
	char family_id[UUID_STR_LEN];
	char kind[16];
	int status;
	int64_t expires_at;
};
int store_session_create(struct db *db, const struct session_new *in, struct session_row *out,
			 struct err *e);
int store_session_by_hash(struct db *db, const char *token_hash, struct session_row *out,
			  struct err *e);
/* Rotation with reuse detection; *reused = 1 when a rotated token came back
 * (the family is then revoked and ERR_UNAUTHORIZED returned). */
int store_session_rotate(struct db *db, const char *old_hash, const char *new_hash,
			 int64_t new_expires, struct session_row *out, int *reused, struct err *e);
int store_session_validate(struct db *db, const char *tenant_id, const char *family_id,
			   const char *user_id, char role[16], struct err *e);
int store_session_revoke_family(struct db *db, const char *tenant_id, const char *family_id,
				const char *reason, struct err *e);
/* All of a user's sessions in tenant_id (NULL: in every tenant). */
int store_sessions_revoke_user(struct db *db, const char *tenant_id, const char *user_id,
			       const char *reason, struct err *e);
/* Active session families of a user, as JSON objects appended to items. */
int store_sessions_list(struct db *db, const char *tenant_id, const char *user_id,
			cJSON *items, struct err *e);

int store_throttle_locked(struct db *db, const char *key, int64_t *locked_until, struct err *e);
int store_throttle_fail(struct db *db, const char *key, int threshold, int64_t window_ms,
			int64_t base_ms, int64_t max_ms, int64_t *locked_until, struct err *e);
int store_throttle_reset(struct db *db, const char *key, struct err *e);

/* --- tenancy: tenants, memberships, workspaces, invitations, quotas ------------ */

/*
 * Roles travel as their names ("viewer" .. "owner") in the row structs below;
 * store_workspace_resolve() speaks auth/'s enum role numbering (0 none,
 * 1 viewer .. 5 owner), which api/workspaces.c checks at compile time.
 */

/*
 * The workspace a request acts in (store_workspaces.c): ws_id_or_slug in
 * tenant_id (NULL: the tenant's default workspace), and the caller's
 * effective role there. Tenant admins and owners get their tenant role in
 * every workspace; others need a workspace_members row and get its role
 * override, else their tenant role. Not found, or not a member, is
 * ERR_NOT_FOUND.
 */
int store_workspace_resolve(struct db *db, const char *tenant_id, const char *user_id,
			    int tenant_role, const char *ws_id_or_slug, char ws_out[UUID_STR_LEN],
			    int *role_out, struct err *e);

#define TENANCY_NAME_MAX 100   /* tenant and workspace names, bytes */
#define TENANCY_SLUG_MAX 63
#define TENANCY_DESC_MAX 1000
#define TENANCY_EMAIL_MAX 254
#define TENANCY_LIST_MAX 100   /* the most rows one list call returns */

/* --- tenants and memberships (store_tenants.c) ---------------------------------- */

struct tenant_info {
	char id[UUID_STR_LEN], slug[TENANCY_SLUG_MAX + 1], name[TENANCY_NAME_MAX + 1];
	char plan[32], status[16];
	int64_t created_at, updated_at;
};

/* The caller's tenant when id_or_slug names it (by id or slug); any other
 * tenant, like a missing one, is ERR_NOT_FOUND. */
int store_tenant_get(struct db *db, const char *tenant_id, const char *id_or_slug,
		     struct tenant_info *out, struct err *e);
/* Serialize membership changes of one tenant inside the caller's write
 * transaction (row lock on PostgreSQL; BEGIN IMMEDIATE already does it on
 * SQLite). ERR_NOT_FOUND if the tenant is gone. */
int store_tenant_lock(struct db *db, const char *tenant_id, struct err *e);
int store_tenant_rename(struct db *db, const char *tenant_id, const char *name, struct err *e);
/* Delete the tenant and, by cascade, everything it owns (not the audit log,
 * and not the users, who are global). */
int store_tenant_delete(struct db *db, const char *tenant_id, struct err *e);

struct member_info {
	char user_id[UUID_STR_LEN], email[TENANCY_EMAIL_MAX + 1], name[256], role[16];
	int64_t created_at, last_login_at; /* last_login_at: 0 when never signed in */
};

/* Members by user id, after the user id `after` (NULL: from the start);
 * fills up to max items and sets *count. */
int store_members_list(struct db *db, const char *tenant_id, const char *after,
		       struct member_info *items, int max, int *count, struct err *e);
int store_member_get(struct db *db, const char *tenant_id, const char *user_id,
		     struct member_info *out, struct err *e);
/*
 * In the caller's write transaction, after store_tenant_lock(). Demoting or
 * removing the tenant's last owner is ERR_CONFLICT with slug "last_owner".
 * Removal also drops the user's workspace memberships and releases one
 * "members" quota unit.
 */
int store_member_set_role(struct db *db, const char *tenant_id, const char *user_id,
			  const char *role, struct err *e);
int store_member_remove(struct db *db, const char *tenant_id, const char *user_id,
			struct err *e);
/* Add a tenant member (taking one "members" quota unit) and put them in
 * workspace_id, or the default workspace when NULL. ERR_CONFLICT (slug
 * "already_member") when they are one; ERR_NOT_FOUND (field workspace_id)
 * when the workspace is not the tenant's. Caller's write transaction. */
int store_member_add(struct db *db, const char *tenant_id, const char *user_id,
		     const char *role, const char *workspace_id, struct err *e);

/* --- workspaces (store_workspaces.c) ---------------------------------------------- */

struct workspace_info {
	char id[UUID_STR_LEN], slug[TENANCY_SLUG_MAX + 1], name[TENANCY_NAME_MAX + 1];
	char description[TENANCY_DESC_MAX + 1];
	int is_default;
	int64_t created_at, updated_at;
};

/* By id; member_id not NULL: only workspaces that user is a member of. */
int store_workspaces_list(struct db *db, const char *tenant_id, const char *member_id,
			  const char *after, struct workspace_info *items, int max, int *count,
			  struct err *e);
/* By id or slug, in the tenant; id_or_slug NULL: the default workspace. */
int store_workspace_get(struct db *db, const char *tenant_id, const char *id_or_slug,
			struct workspace_info *out, struct err *e);
/* Caller's write transaction: takes one "workspaces" quota unit (429
 * quota_exceeded), inserts in->slug/name/description and fills out.
 * A taken slug is ERR_CONFLICT with field "slug". */
int store_workspace_create(struct db *db, const char *tenant_id, const struct workspace_info *in,
			   struct workspace_info *out, struct err *e);
/* NULL fields stay as they are. */
int store_workspace_update(struct db *db, const char *tenant_id, const char *id,
			   const char *slug, const char *name, const char *description,
			   struct err *e);
/* Caller's write transaction: the default workspace is ERR_CONFLICT (slug
 * "default_workspace"); releases one "workspaces" quota unit. */
int store_workspace_delete(struct db *db, const char *tenant_id, const char *id,
			   struct err *e);

struct workspace_member_info {
	char user_id[UUID_STR_LEN], email[TENANCY_EMAIL_MAX + 1], name[256];
	char tenant_role[16], role[16]; /* role: the override, "" when none */
	int64_t created_at;
};

int store_workspace_members_list(struct db *db, const char *tenant_id, const char *ws_id,
				 const char *after, struct workspace_member_info *items, int max,
				 int *count, struct err *e);
/* Insert or update; role NULL clears the override. ERR_NOT_FOUND (field
 * user_id) when the user is not a member of the tenant. *created = 1 when new. */
int store_workspace_member_put(struct db *db, const char *tenant_id, const char *ws_id,
			       const char *user_id, const char *role, int *created,
			       struct err *e);
int store_workspace_member_remove(struct db *db, const char *tenant_id, const char *ws_id,
				  const char *user_id, struct err *e);

/* --- invitations (store_invitations.c) -------------------------------------------- */

struct invitation_info {
	char id[UUID_STR_LEN], tenant_id[UUID_STR_LEN], workspace_id[UUID_STR_LEN];
	char email[TENANCY_EMAIL_MAX + 1], role[16], created_by[UUID_STR_LEN];
	int64_t expires_at, created_at;
};

struct invitation_new {
	const char *tenant_id, *workspace_id /* NULL: the default one, at acceptance */;
	const char *email, *role;
	const char *token_hash, *created_by;
	int64_t expires_at;
};

/* ERR_NOT_FOUND (field workspace_id) when the workspace is not the tenant's. */
int store_invitation_create(struct db *db, const struct invitation_new *in,
			    struct invitation_info *out, struct err *e);
/* Pending ones (not accepted, revoked or expired), oldest first, after the
 * id `after` (NULL: from the start). */
int store_invitations_list(struct db *db, const char *tenant_id, const char *after,
			   struct invitation_info *items, int max, int *count, struct err *e);
/* ERR_NOT_FOUND unless pending. */
int store_invitation_revoke(struct db *db, const char *tenant_id, const char *id,
			    struct err *e);
/* The pending invitation with this token hash, in whichever tenant: the
 * token is the credential (like the set-up token). ERR_NOT_FOUND otherwise. */
int store_invitation_by_hash(struct db *db, const char *token_hash, struct invitation_info *out,
			     struct err *e);
/* Mark it accepted by user_id if still pending (ERR_NOT_FOUND otherwise);
 * the conditional update makes a second, racing accept fail. */
int store_invitation_mark_accepted(struct db *db, const char *tenant_id, const char *id,
				   const char *user_id, struct err *e);
/* A new active user (email lower-case, already validated); ERR_CONFLICT
 * (slug "account_exists") when the email has an account. */
int store_user_create_invited(struct db *db, const char *email, const char *name,
			      const char *password_hash, char id_out[UUID_STR_LEN],
			      struct err *e);

/* --- quotas (store_quotas.c) -------------------------------------------------------- */

enum quota_metric {
	QUOTA_MEMBERS,
	QUOTA_WORKSPACES,
	QUOTA_AGENTS,
	QUOTA_PATTERNS,
	QUOTA_EXECUTIONS_PER_DAY,
	QUOTA_CONCURRENT_EXECUTIONS,
	QUOTA_TOKENS_PER_MONTH,
	QUOTA_REQUESTS_PER_MINUTE,
	QUOTA__COUNT
};
/* "members", "workspaces", ... in enum order (the column names). */
extern const char *const store_quota_names[QUOTA__COUNT];

struct quota_report {
	int64_t limit[QUOTA__COUNT]; /* the tenant's quotas */
	int64_t usage[QUOTA__COUNT]; /* now: counts, today, this month, this minute */
	int64_t plan[QUOTA__COUNT];  /* the plan's ceilings */
	char plan_name[32];
};
int store_quotas_get(struct db *db, const char *tenant_id, struct quota_report *out,
		     struct err *e);
/* values[i] < 0 leaves quota i as it is. A value above the plan's ceiling is
 * ERR_UNPROCESSABLE naming the field. */
int store_quotas_set(struct db *db, const char *tenant_id, const int64_t values[QUOTA__COUNT],
		     struct err *e);
/*
 * Atomic check-and-increment inside the caller's write transaction: the
 * usage row for (tenant, metric, current period) grows by amount only if
 * it stays within the tenant's quota; otherwise ERR_RATE_LIMITED with slug
 * "quota_exceeded" and field metric. Counts start from the real row count
 * the first time. metric is one of store_quota_names.
 */
int store_quota_take(struct db *db, const char *tenant_id, const char *metric, int64_t amount,
		     struct err *e);
/* A submission's concurrent_executions and executions_per_day units at once, as
 * store_quota_take does each; run it last before the commit (it holds both counters). */
int store_quota_take_execution(struct db *db, const char *tenant_id, struct err *e);
/* The reverse (never below 0). */
int store_quota_release(struct db *db, const char *tenant_id, const char *metric,
			int64_t amount, struct err *e);

/* --- API keys and audit ------------------------------------------------------------ */

#define API_KEY_PREFIX "plx_"
#define API_KEY_LEN 47        /* "plx_" + 43 base64url characters (32 bytes) */
#define API_KEY_SHOWN_LEN 12  /* the display prefix: "plx_" + 8 characters */
#define API_KEY_NAME_MAX 100

/* What the dispatcher needs from a presented key. role is an enum role
 * (db/store.h enum role): the key's role capped by its creator's current tenant role. */
struct api_key_auth {
	char id[UUID_STR_LEN], tenant_id[UUID_STR_LEN], workspace_id[UUID_STR_LEN],
		created_by[UUID_STR_LEN];
	int role;
};

/*
 * Look a presented key up by its SHA-256. ERR_UNAUTHORIZED (slug
 * "invalid_api_key") when it is malformed, unknown, revoked or expired, or
 * when its creator is no longer an active member of its tenant. Updates
 * last_used_at at most once a minute per key; call outside a transaction.
 */
int store_api_key_authenticate(struct db *db, const char *key, struct api_key_auth *out,
			       struct err *e);

/* A key as listed: never the key or its hash. Times are epoch ms, 0 = none. */
struct api_key_info {
	char id[UUID_STR_LEN], workspace_id[UUID_STR_LEN], created_by[UUID_STR_LEN];
	char name[API_KEY_NAME_MAX + 1];
	char prefix[API_KEY_SHOWN_LEN + 1];
	int role; /* enum role */
	int64_t expires_at, last_used_at, revoked_at, created_at;
};

struct api_key_new {
	const char *tenant_id, *workspace_id, *created_by, *name;
	const char *key;    /* the whole plaintext key; only its hash is stored */
	int role;           /* enum role */
	int64_t expires_at; /* 0 = never */
};

/* Insert a key (in the caller's transaction, if any); out describes it.
 * ERR_NOT_FOUND (field workspace_id) when the workspace is not the tenant's. */
int store_api_key_create(struct db *db, const struct api_key_new *in, struct api_key_info *out,
			 struct err *e);
/* Newest first; after (after_ms, after_id) when after_id is not NULL. Fills
 * up to max items and sets *count. */
int store_api_key_list(struct db *db, const char *tenant_id, int64_t after_ms,
		       const char *after_id, struct api_key_info *items, int max, int *count,
		       struct err *e);
/* Set revoked_at (idempotent). *changed = 1 if it was live; out gets the key.
 * ERR_NOT_FOUND when the id is not one of the tenant's keys. */
int store_api_key_revoke(struct db *db, const char *tenant_id, const char *id,
			 struct api_key_info *out, int *changed, struct err *e);
/* The tenant's default workspace id (ERR_NOT_FOUND if none). */
int store_default_workspace(struct db *db, const char *tenant_id, char out[UUID_STR_LEN],
			    struct err *e);
/* The tenant's slug, when the tenant exists (ERR_NOT_FOUND otherwise). */
int store_tenant_slug(struct db *db, const char *tenant_id, char *slug, size_t size,
		      struct err *e);

/* Audit queries: "" (or NULL) string filters are off. action matches exactly;
 * action_prefix matches the start ("auth." for "auth.*"). Times are epoch ms,
 * inclusive; the cursor continues after (before_ms, before_id), newest first. */
struct audit_filter {
	const char *action, *action_prefix, *actor_id, *resource_type, *resource_id, *outcome;
	int64_t since, until;
	int64_t before_ms;
	const char *before_id;
	int64_t limit;
};

/* One row, borrowed for the duration of the callback (strings may be NULL). */
struct audit_row {
	const char *id;
	int64_t created_at;
	const char *actor_type, *actor_id, *actor_label, *action, *resource_type, *resource_id;
	const char *ip, *outcome, *request_id, *details;
};

/* Calls fn for each matching entry of the tenant, newest first; a non-zero
 * return from fn stops the walk and is returned. */
int store_audit_list(struct db *db, const char *tenant_id, const struct audit_filter *f,
		     int (*fn)(void *ctx, const struct audit_row *row), void *ctx, struct err *e);

/* --- agents (store_agents.c) ------------------------------------------------------ */

#define AGENT_NAME_MAX 64

/* One agent row. config and capabilities are JSON texts (config without
 * secrets); secrets_enc is the sealed secrets object or NULL. The three
 * strings are malloc'd and owned by the row: store_agent_release(). */
struct agent_row {
	char id[UUID_STR_LEN], workspace_id[UUID_STR_LEN];
	char name[AGENT_NAME_MAX + 1], kind[16], status[16], circuit_state[16];
	char *config, *capabilities, *secrets_enc;
	double expertise;
	int64_t timeout_ms, max_concurrency, created_at, updated_at;
};
void store_agent_release(struct agent_row *a);

/* List filters; NULL is off. capability: the agent has it. */
struct agent_filter {
	const char *kind, *capability, *status;
};

/* Caller's write transaction: takes one "agents" quota unit (429
 * quota_exceeded), inserts in (its id and times are set here into out,
 * which takes copies of the strings). A taken (workspace, name) is
 * ERR_CONFLICT, slug "name_taken". connect_token_hash may be NULL. */
int store_agent_create(struct db *db, const char *tenant_id, const struct agent_row *in,
		       const char *connect_token_hash, const char *created_by,
		       struct agent_row *out, struct err *e);
/* ERR_NOT_FOUND unless id is an agent of this tenant and workspace. */
int store_agent_get(struct db *db, const char *tenant_id, const char *workspace_id,
		    const char *id, struct agent_row *out, struct err *e);
/* Oldest first, after (after_ms, after_id) when after_id is not NULL; fills
 * up to max rows (release each). */
int store_agents_list(struct db *db, const char *tenant_id, const char *workspace_id,
		      const struct agent_filter *f, int64_t after_ms, const char *after_id,
		      struct agent_row *items, int max, int *count, struct err *e);
/* Write name, capabilities, expertise, timeout_ms, max_concurrency, config
 * and secrets_enc of a (by id); updated_at is set in a. ERR_CONFLICT as in
 * create; ERR_NOT_FOUND when gone. */
int store_agent_update(struct db *db, const char *tenant_id, struct agent_row *a,
		       struct err *e);
/* The ws agent whose connect token hashes to token_hash, in any tenant (its
 * tenant in tenant_id); ERR_NOT_FOUND. */
int store_agent_by_connect_token(struct db *db, const char *token_hash,
				 char tenant_id[UUID_STR_LEN], struct agent_row *out, struct err *e);
/* A connected ws agent's hello: its capabilities (JSON array text) and last_seen_at. */
int store_agent_set_capabilities(struct db *db, const char *tenant_id, const char *id,
				 const char *capabilities, struct err *e);
/* The health prober's list, across tenants: http and openai agents not
 * disabled, by id after after_id ("" first), up to max (release each). */
int store_agents_probe_list(struct db *db, const char *after_id, struct agent_row *items,
			    char (*tenants)[UUID_STR_LEN], int max, int *count, struct err *e);
/* A probe's verdict: status healthy|unhealthy; last_error NULL on success
 * (then last_seen_at = now). Disabled agents are left alone. */
int store_agent_set_health(struct db *db, const char *tenant_id, const char *id,
			   const char *status, const char *last_error, struct err *e);
/* Caller's write transaction: deletes and releases one "agents" unit. */
int store_agent_delete(struct db *db, const char *tenant_id, const char *workspace_id,
		       const char *id, struct err *e);

/* --- patterns (store_patterns.c) ----------------------------------------------------- */

#define PATTERN_ROW_NAME_MAX 64 /* as the engine's PATTERN_NAME_MAX */
#define PATTERN_DESC_MAX 1000
#define PATTERN_MSG_MAX 500

struct pattern_row {
	char id[UUID_STR_LEN], workspace_id[UUID_STR_LEN];
	char name[PATTERN_ROW_NAME_MAX + 1], description[PATTERN_DESC_MAX + 1];
	int64_t latest_version, created_at, updated_at;
};

/* One immutable version; definition is heap (release it). created_by is the user who
 * saved it ("" when unknown) and author that user's name ("" when the account is gone). */
struct pattern_version_row {
	char id[UUID_STR_LEN], pattern_id[UUID_STR_LEN], created_by[UUID_STR_LEN];
	char message[PATTERN_MSG_MAX + 1], author[256];
	char *definition;
	int64_t version, created_at;
};
void store_pattern_version_release(struct pattern_version_row *v);

/* Caller's write transaction: takes one "patterns" quota unit (429
 * quota_exceeded), inserts the pattern of in (workspace_id, name,
 * description) and its version 1 holding definition; out gets the row.
 * A taken (workspace, name) is ERR_CONFLICT, slug "name_taken". */
int store_pattern_create(struct db *db, const char *tenant_id, const struct pattern_row *in,
			 const char *definition, const char *created_by,
			 struct pattern_row *out, struct err *e);
/* ERR_NOT_FOUND unless id_or_name names a pattern of this tenant and workspace. */
int store_pattern_get(struct db *db, const char *tenant_id, const char *workspace_id,
		      const char *id_or_name, struct pattern_row *out, struct err *e);
/* Newest first (updated_at, id), before (before_ms, before_id) when before_id
 * is not NULL; fills up to max rows. */
int store_patterns_list(struct db *db, const char *tenant_id, const char *workspace_id,
			int64_t before_ms, const char *before_id, struct pattern_row *items,
			int max, int *count, struct err *e);
/* Caller's write transaction: version = latest + 1, taken under the pattern
 * row's lock; out gets the new version. ERR_NOT_FOUND when p is gone. */
int store_pattern_add_version(struct db *db, const char *tenant_id, const struct pattern_row *p,
			      const char *definition, const char *message,
			      const char *created_by, struct pattern_version_row *out,
			      struct err *e);
/* Version of pattern p (already of the caller's workspace); ERR_NOT_FOUND. */
int store_pattern_version_get(struct db *db, const char *tenant_id, const struct pattern_row *p,
			      int64_t version, struct pattern_version_row *out, struct err *e);
/* Newest first, below before_version when > 0; fills up to max rows (release each). */
int store_pattern_versions_list(struct db *db, const char *tenant_id,
				const struct pattern_row *p, int64_t before_version,
				struct pattern_version_row *items, int max, int *count,
				struct err *e);
/* One execution of a pattern, as a list of its recent runs shows it. */
struct pattern_run_row {
	char id[UUID_STR_LEN], status[24];
	int64_t version, created_at, started_at, finished_at;
	double confidence;
	int has_confidence;
};
/* The newest executions of pattern_id (of this tenant and workspace), newest first, up to
 * max: a seek on the (tenant, pattern, created_at) index however many other executions
 * the workspace holds. */
int store_pattern_runs(struct db *db, const char *tenant_id, const char *workspace_id,
		       const char *pattern_id, struct pattern_run_row *items, int max, int *count,
		       struct err *e);
/* Caller's write transaction: deletes (versions cascade) and releases one
 * "patterns" unit. */
int store_pattern_delete(struct db *db, const char *tenant_id, const struct pattern_row *p,
			 struct err *e);

/* --- executions (store_executions.c) ------------------------------------------------- */

struct execution_row {
	const char *id, *tenant_id, *workspace_id, *pattern_id;
	int64_t version;
	const char *input;                /* JSON text */
	const char *actor_type, *actor_id; /* "user" | "api_key", its id */
	int64_t timeout_ms;
};
/* Insert x as running (started now). */
int store_execution_start(struct db *db, const struct execution_row *x, struct err *e);

/* One finished node of an execution: its checkpoint. Strings may be NULL. */
struct step_row {
	const char *node_id, *status, *output, *error, *port;
	const char *node_type, *calls; /* calls: JSON text, or NULL */
	double confidence;
	int confidence_set;
	int64_t started_at, finished_at;
};
int store_step_put(struct db *db, const char *tenant_id, const char *execution_id,
		   const struct step_row *s, struct err *e);
/* A step as the engine reports it ({node_id, status, output, confidence?, error?, port?,
 * started_at, finished_at} with RFC 3339 times), stored as store_step_put does. */
int store_step_put_json(struct db *db, const char *tenant_id, const char *execution_id,
			const cJSON *step, struct err *e);
/* [{node_id, type?, status, output, confidence, error, port?, calls?, started_at,
 * finished_at}] in order. */
int store_steps_json(struct db *db, const char *tenant_id, const char *execution_id,
		     cJSON **out, struct err *e);
/* Events as the engine reports them ({seq, type, node?, data, at}), those after after_seq
 * (already written), a few per statement; a seq stored twice keeps the first. */
int store_events_put(struct db *db, const char *tenant_id, const char *execution_id,
		     const cJSON *events, int64_t after_seq, struct err *e);
int store_events_json(struct db *db, const char *tenant_id, const char *execution_id,
		      int64_t after_seq, int max, cJSON **out, struct err *e);
int store_events_last_seq(struct db *db, const char *tenant_id, const char *execution_id,
			  int64_t *seq, struct err *e);

struct execution_end {
	const char *status, *result, *error; /* result/error: JSON text or NULL */
	double confidence;
	int confidence_set;
	int64_t tokens_in, tokens_out;
};
int store_execution_finish(struct db *db, const char *tenant_id, const char *id,
			   const struct execution_end *x, struct err *e);

/* An execution as the API shows it (release with execution_full_release). */
struct execution_full {
	char id[UUID_STR_LEN], tenant_id[UUID_STR_LEN], workspace_id[UUID_STR_LEN];
	char pattern_id[UUID_STR_LEN], pattern_name[PATTERN_ROW_NAME_MAX + 1], status[24];
	char idempotency_key[256], request_hash[72];
	int64_t version;
	char *input, *result, *error, *webhook_url; /* JSON text (webhook: a URL) or NULL */
	char *webhook_secret_enc;                   /* sealed, or NULL */
	double confidence;
	int has_confidence, cancel_requested;
	int64_t created_at, started_at, finished_at, tokens_in, tokens_out;
	int64_t priority, attempts, max_attempts, timeout_ms, deadline_at;
};
void execution_full_release(struct execution_full *x);
/* workspace_id NULL: any workspace of the tenant (workers). */
int store_execution_get_full(struct db *db, const char *tenant_id, const char *workspace_id,
			     const char *id, struct execution_full *out, struct err *e);

struct execution_filter {
	const char *status, *pattern_id; /* NULL: any */
	int64_t since, until;            /* created_at range; until 0: no bound */
};
/* Newest first, before (before_ms, before_id) when before_id is set. */
int store_executions_list(struct db *db, const char *tenant_id, const char *workspace_id,
			  const struct execution_filter *f, int64_t before_ms, const char *before_id,
			  struct execution_full *items, int max, int *count, struct err *e);

struct execution_submit {
	const char *tenant_id, *workspace_id, *pattern_id;
	int64_t version;
	const char *input, *actor_type, *actor_id;
	const char *idempotency_key, *request_hash, *webhook_url; /* NULL allowed */
	const char *webhook_secret_enc;                           /* sealed; NULL allowed */
	int priority, max_attempts;
	int64_t timeout_ms;
};
/* Caller's write transaction: the idempotency check (a replay is ERR_CONFLICT
 * "idempotency_replay" with *existing filled; another body under the key is
 * ERR_UNPROCESSABLE "idempotency_mismatch"), the quotas (concurrent and per
 * day: 429), then the execution (queued) and its job. */
int store_execution_submit(struct db *db, const struct execution_submit *in,
			   struct execution_full *existing, char id_out[UUID_STR_LEN],
			   struct err *e);
int store_execution_running(struct db *db, const char *tenant_id, const char *id,
			    int64_t attempts, int64_t deadline_at, struct err *e);
/* The end of a run (or its parking in waiting_approval); a terminal status frees
 * the concurrent unit once. Terminal executions are never changed again. */
int store_execution_settle(struct db *db, const char *tenant_id, const char *id,
			   const struct execution_end *x, struct err *e);

/* The payload of the job that wakes an execution parked on a timed approval at its deadline
 * (docs/engine.md). It runs the execution only if it is still parked. */
#define JOB_APPROVAL_WAKE "{\"wake\":\"approval\"}"
/* Enqueue that job for run_at, unless a queued job of the execution runs by then. */
int store_execution_wake_at(struct db *db, const char *tenant_id, const char *id, int64_t run_at,
			    struct err *e);
/* Take a parked execution out of waiting_approval (to queued), as a decision does: *won is 0
 * when it was not parked (decided, cancelled) or another caller took it first. */
int store_execution_unpark(struct db *db, const char *tenant_id, const char *id, int *won,
			   struct err *e);

/* --- the job queue (queue.c) ------------------------------------------------------------- */

/* A claimed job: the claimant holds it while fence is current. */
struct job {
	char id[UUID_STR_LEN], tenant_id[UUID_STR_LEN], kind[32], ref[64];
	char *payload; /* may be NULL */
	int64_t fence, attempts, max_attempts, priority;
};
void job_release(struct job *j);

struct job_new {
	const char *tenant_id, *kind, *ref, *payload, *dedupe_key; /* NULL allowed but kind */
	int priority, max_attempts;                                 /* <= 0: 3 attempts */
	int64_t run_at;                                             /* 0: now */
};
/* Caller's transaction (so a job is written with what it is about). */
int queue_enqueue(struct db *db, const struct job_new *j, char id_out[UUID_STR_LEN],
		  struct err *e);
/* Claim up to max due jobs (queued and due, or running with an expired lease) for
 * lease_ms; each claim increments fence and attempts. Caller's write transaction. */
int queue_claim(struct db *db, const char *worker, int64_t lease_ms, int max, struct job *out,
		int *count, struct err *e);
/* Fenced writes: ERR_CONFLICT "lease_lost" once another claim took the job. */
int queue_renew(struct db *db, const struct job *j, int64_t lease_ms, struct err *e);
int queue_check(struct db *db, const struct job *j, struct err *e);
/* ok: done; else dead (a poison job, or given up). */
int queue_finish(struct db *db, const struct job *j, int ok, const char *error, struct err *e);
/* Back to queued, due at run_at. */
int queue_retry(struct db *db, const struct job *j, int64_t run_at, const char *error,
		struct err *e);
int queue_depth(struct db *db, int64_t *queued, int64_t *running, struct err *e);
/* PostgreSQL: refresh the statistics of the queue's tables (nothing on SQLite). */
int queue_analyze(struct db *db, struct err *e);

/* --- execution statistics (store_stats.c) ------------------------------------------------ */

enum exec_status {
	EXEC_QUEUED, EXEC_RUNNING, EXEC_WAITING_APPROVAL, EXEC_SUCCEEDED, EXEC_FAILED,
	EXEC_CANCELLED, EXEC_TIMED_OUT, EXEC_STATUS__COUNT
};
extern const char *const store_execution_status_names[EXEC_STATUS__COUNT];

#define EXEC_STATS_HOUR_MS     3600000LL
#define EXEC_STATS_DAY_MS      86400000LL
#define EXEC_STATS_CONF_BUCKETS 10

struct exec_stats_filter {
	const char *pattern_id; /* NULL: every pattern */
	int64_t since, until;   /* created_at in [since, until) */
};
struct exec_stats_bucket {
	int64_t start_ms; /* the bucket's first millisecond (UTC hour or day) */
	int64_t total, succeeded, failed;
};
struct exec_stats_series {
	struct exec_stats_bucket *items; /* malloc'd, oldest first, non-empty buckets only */
	size_t count;
};
struct exec_stats {
	int64_t total, by_status[EXEC_STATUS__COUNT];
	int64_t confidence_count; /* executions with a confidence */
	double confidence_sum;
	int64_t confidence_hist[EXEC_STATS_CONF_BUCKETS]; /* [0, 0.1) ... [0.9, 1.0] */
	struct exec_stats_series by_hour, by_day;
	struct { /* finished_at - started_at of terminal executions, ms (nearest rank) */
		int64_t count, p50, p90, p95, p99, max;
	} latency;
};
/* The executions of one workspace created in f's window, read by one statement (one
 * snapshot); release with exec_stats_release (also safe after an error). */
int store_execution_stats(struct db *db, const char *tenant_id, const char *workspace_id,
			  const struct exec_stats_filter *f, struct exec_stats *out,
			  struct err *e);
void exec_stats_release(struct exec_stats *s);

/* --- schedules and triggers (store_schedules.c) ------------------------------------------ */

struct schedule_row {
	char id[UUID_STR_LEN], tenant_id[UUID_STR_LEN], workspace_id[UUID_STR_LEN];
	char pattern_id[UUID_STR_LEN], name[65], cron[128];
	char *input; /* JSON text (release) */
	int enabled;
	int64_t next_run_at, last_run_at, created_at;
};
void schedule_row_release(struct schedule_row *s);
/* ERR_CONFLICT "name_taken" when the workspace has one of that name. */
int store_schedule_create(struct db *db, const struct schedule_row *in, const char *created_by,
			  char id_out[UUID_STR_LEN], struct err *e);
int store_schedules_list(struct db *db, const char *tenant_id, const char *workspace_id,
			 struct schedule_row *items, int max, int *count, struct err *e);
int store_schedule_delete(struct db *db, const char *tenant_id, const char *workspace_id,
			  const char *id, struct err *e);
/* Maintenance, every tenant: enabled schedules due at now. */
int store_schedules_due(struct db *db, int64_t now, struct schedule_row *items, int max,
			int *count, struct err *e);
/* Move s to next if nobody did since it was read (*won = 1): one run per tick. */
int store_schedule_advance(struct db *db, const struct schedule_row *s, int64_t next,
			   int *won, struct err *e);

struct trigger_row {
	char id[UUID_STR_LEN], tenant_id[UUID_STR_LEN], workspace_id[UUID_STR_LEN];
	char pattern_id[UUID_STR_LEN], name[65];
	char *secret_enc; /* sealed; only store_trigger_get fills it */
	int enabled;
	int64_t created_at;
};
void trigger_row_release(struct trigger_row *t);
int store_trigger_create(struct db *db, const struct trigger_row *in, const char *created_by,
			 char id_out[UUID_STR_LEN], struct err *e);
/* By id alone (the public hook names it; its signature is the credential). */
int store_trigger_get(struct db *db, const char *id, struct trigger_row *out, struct err *e);
int store_triggers_list(struct db *db, const char *tenant_id, const char *workspace_id,
			struct trigger_row *items, int max, int *count, struct err *e);
int store_trigger_delete(struct db *db, const char *tenant_id, const char *workspace_id,
			 const char *id, struct err *e);

/* --- single sign-on (store_sso.c) ------------------------------------------------- */

#define SSO_ISSUER_MAX 2048
struct sso_config {
	char tenant_id[UUID_STR_LEN];
	char issuer[SSO_ISSUER_MAX + 1];
	char client_id[256];
	char client_secret_enc[1024]; /* secret_seal()ed; "" when none */
	char allowed_domains[4096];   /* JSON array of lower-case domains */
	char default_role[16];
	char group_claim[128];        /* "" when groups are not read */
	char group_map[8192];         /* JSON object: group -> role */
	int jit_provisioning, sso_required, enabled;
	char break_glass_user_id[UUID_STR_LEN];
	char display_name[128];
	int64_t created_at, updated_at;
};
int store_sso_get(struct db *db, const char *tenant_id, struct sso_config *out, struct err *e);
/* The enabled configuration of the tenant with that slug, or of the one tenant whose
 * allowed domains hold domain (ERR_CONFLICT "ambiguous_domain" when several do). */
int store_sso_by_slug(struct db *db, const char *tenant_slug, struct sso_config *out,
		      struct err *e);
int store_sso_by_domain(struct db *db, const char *domain, struct sso_config *out,
			struct err *e);
int sso_domain_allowed(const char *domains_json, const char *domain);
/* Insert or replace the tenant's configuration (in->tenant_id). */
int store_sso_put(struct db *db, const struct sso_config *in, struct err *e);
int store_sso_delete(struct db *db, const char *tenant_id, struct err *e);

struct oidc_state {
	char state[64], tenant_id[UUID_STR_LEN], nonce[64], code_verifier[130];
	char binding_hash[65]; /* SHA-256 hex of the browser's binding cookie */
	char next[520];        /* "" when none */
};
int store_oidc_state_put(struct db *db, const struct oidc_state *s, int64_t ttl_ms,
			 struct err *e);
/* Marks state used (once, before it expires), then checks the browser binding: every
 * refusal is ERR_UNAUTHORIZED "invalid_state". */
int store_oidc_state_take(struct db *db, const char *state, const char *binding_hash,
			  struct oidc_state *out, struct err *e);

/* The user a provider's (issuer, subject) is linked to; ERR_NOT_FOUND if none. */
int store_identity_user(struct db *db, const char *issuer, const char *subject,
			char user_id[UUID_STR_LEN], struct err *e);
/* Link (or refresh the link's email and last login). */
int store_identity_link(struct db *db, const char *user_id, const char *issuer,
			const char *subject, const char *email, int email_verified, struct err *e);
/* A user without a password (signs in through SSO); ERR_CONFLICT if the email is taken. */
int store_user_create_sso(struct db *db, const char *email, const char *name,
			  char id_out[UUID_STR_LEN], struct err *e);

#endif
