/*
 * Authentication and access: passwords, the one-time owner set-up token,
 * (later) tokens, sessions, API keys, the RBAC matrix and quotas.
 *
 * Secrets handled here (passwords, tokens) are never logged and never
 * returned after creation; only their hashes are stored.
 */
#ifndef AUTH_AUTH_H
#define AUTH_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/util.h"

struct db;

/* ---- roles and the permission matrix (auth/rbac.c) ---------------------------- */

/* enum role, role_name() and role_parse() are domain types in db/store.h:
 * roles are stored data; what each role may do is decided here. */

enum resource {
	RES_NONE = 0,
	RES_TENANT,     /* the organization itself, its plan */
	RES_MEMBER,     /* tenant memberships and roles */
	RES_INVITATION,
	RES_WORKSPACE,  /* workspaces and their member lists */
	RES_API_KEY,
	RES_QUOTA,
	RES_AUDIT,
	RES_SSO,
	RES_AGENT,      /* workspace-scoped from here on */
	RES_PATTERN,
	RES_EXECUTION,
	RES_EXPERIMENT,
	RES__COUNT
};

enum action {
	ACT_NONE = 0,
	ACT_READ,
	ACT_CREATE,
	ACT_UPDATE,
	ACT_DELETE,
	ACT_RUN,     /* run, cancel, retry; for agents: test calls */
	ACT_APPROVE,
	ACT__COUNT
};

const char *resource_name(int res);
const char *action_name(int act);
/* The least role that may do action on resource; ROLE_NONE: nobody. */
int rbac_min_role(int resource, int action);
int rbac_allows(int role, int resource, int action);
/* 1 when the resource lives in a workspace (the workspace role applies). */
int rbac_workspace_scoped(int resource);

/* ---- the caller, as the dispatcher authenticated it ----------------------------- */

enum auth_kind { AUTH_NONE = 0, AUTH_TOKEN, AUTH_API_KEY, AUTH_COOKIE };

struct auth_ctx {
	int kind;                         /* enum auth_kind */
	char tenant_id[UUID_STR_LEN];     /* from the credential only, never the request */
	char user_id[UUID_STR_LEN];       /* the person (an API key's creator for keys) */
	char session_id[UUID_STR_LEN];    /* token/cookie: the session family */
	char api_key_id[UUID_STR_LEN];    /* AUTH_API_KEY only */
	char workspace_id[UUID_STR_LEN];  /* effective workspace ("" if none resolved) */
	int tenant_role;                  /* membership role; for keys, the key's role */
	int role;                         /* effective role in workspace_id */
};

/* What the audit log and logs call the actor: "user", "api_key" or "anonymous". */
const char *auth_actor_type(const struct auth_ctx *a);

/* ---- passwords ------------------------------------------------------------ */

#define PASSWORD_MIN_LEN 12
#define PASSWORD_MAX_LEN 1024 /* bytes; never truncated */
#define PASSWORD_HASH_MAX 128

/* Policy check (length, UTF-8, common passwords): ERR_INVALID with field
 * "password" and a message that says what to change. */
int password_check_policy(const char *password, struct err *e);
/* argon2id; out has PASSWORD_HASH_MAX bytes. Concurrency is capped. */
int password_hash(const char *password, char out[PASSWORD_HASH_MAX], struct err *e);
/* 1 if it matches, 0 if not. */
int password_verify(const char *hash, const char *password);

/* ---- JWT (guarded libjwt) ------------------------------------------------------ */

#include <stdint.h>
#include <cjson/cJSON.h>

/* Verify signature and shape with the algorithm pinned ("HS256", "RS256",
 * "ES256"); *claims gets the payload (caller frees). kid headers are refused
 * unless allow_kid. Every failure is ERR_UNAUTHORIZED. */
int jwt_verify_pinned(const char *token, const char *alg, const unsigned char *key,
		      size_t keylen, int allow_kid, cJSON **claims, struct err *e);
/* The kid header after the same shape checks (for JWKS lookups). */
int jwt_header_kid(const char *token, const char *alg, char *kid, size_t kidsz, struct err *e);
/* iss, aud (string or array), exp (required), nbf and iat, with leeway. */
int jwt_check_claims(const cJSON *claims, const char *iss, const char *aud, int64_t now_s,
		     int leeway_s, struct err *e);
/* Sign claims; returns a malloc'd token or NULL. */
char *jwt_sign(const char *alg, const unsigned char *key, size_t keylen, const cJSON *claims);

/* ---- tokens (auth/token.c) ------------------------------------------------------ */

#define ACCESS_TOKEN_TTL_S 900
#define REFRESH_TOKEN_TTL_MS (30LL * 24 * 3600 * 1000)
#define BROWSER_SESSION_TTL_MS (7LL * 24 * 3600 * 1000)
#define OPAQUE_TOKEN_MAX 64

struct access_claims {
	char user_id[UUID_STR_LEN];
	char tenant_id[UUID_STR_LEN];
	char session_id[UUID_STR_LEN];
};

/* Load the HMAC key from secret (config) or <data_dir>/jwt.key (created 0600). */
int auth_keys_init(const char *data_dir, const char *secret, struct err *e);
int token_issue_access(const char *tenant_id, const char *user_id, const char *session_id,
		       char **out, int *expires_in);
/* Every failure is ERR_UNAUTHORIZED: forged, expired, wrong typ/iss/aud. */
int token_verify_access(const char *token, struct access_claims *out, struct err *e);
/* prefix + 32 random bytes (base64url); out has OPAQUE_TOKEN_MAX bytes. */
void token_new_opaque(const char *prefix, char *out, size_t size);
void token_hash(const char *token, char hex[65]); /* SHA-256, lower-case hex */

/* ---- password sign-in (auth/login.c) ---------------------------------------------- */

#include "db/store.h"

struct login_request {
	const char *email, *password;
	const char *tenant_id;  /* NULL: the user's oldest membership */
	const char *kind;       /* "api" (refresh token) or "browser" (cookie session) */
	const char *ip, *user_agent;
};
struct login_result {
	struct user_row user;
	struct membership_row membership;
	struct session_row session;
	char refresh_token[OPAQUE_TOKEN_MAX]; /* or the browser session token */
	char *access_token;
	int expires_in;
	int64_t retry_after_s; /* with ERR_RATE_LIMITED */
	int user_known;        /* for the audit log only, never the response */
};
/* ERR_UNAUTHORIZED (invalid_credentials) or ERR_RATE_LIMITED (locked_out). */
int auth_login(struct db *db, const struct login_request *in, struct login_result *out,
	       struct err *e);
void login_result_release(struct login_result *r);

/* ---- rate limits (auth/ratelimit.c) ----------------------------------------------- */

/* Token bucket per key ("u:<id>", "k:<id>", "ip:<addr>", "login:<addr>"):
 * per_minute tokens a minute, bursting to per_minute/4 (at least 5).
 * Returns 0 if allowed; otherwise the seconds to wait (>= 1). */
int ratelimit_take(const char *key, int per_minute);

/* ---- first-run set-up ------------------------------------------------------- */

#define SETUP_TOKEN_LEN 44

/* When no owner exists: create a new one-time token valid for ttl_s seconds,
 * store its hash, and copy the token to out. *created is 0 when an owner
 * exists already (and no token is made). */
int setup_token_issue(struct db *db, int ttl_s, char out[SETUP_TOKEN_LEN], int *created,
		      struct err *e);
/* 0 if token is the current, unexpired set-up token; ERR_NOT_FOUND otherwise. */
int setup_token_check(struct db *db, const char *token, struct err *e);
int setup_token_consume(struct db *db, struct err *e);

struct setup_result;
struct setup_request {
	const char *token;
	const char *tenant_name;
	const char *user_name;
	const char *email;
	const char *password;
};
/* Validate, check the token, hash the password and create the first tenant,
 * default workspace and owner in one transaction; then retire the token.
 * A wrong token or an existing owner is ERR_NOT_FOUND (the page is gone). */
struct setup_created {
	char slug[64];   /* the tenant's slug */
	char email[256]; /* normalized (lower-case) */
};
int setup_owner_create(struct db *db, const struct setup_request *in, struct setup_result *out,
		       struct setup_created *created, struct err *e);
/* `parallax admin tenant create`: a further tenant and its owner (token unused). */
int tenant_create_with_owner(struct db *db, const struct setup_request *in,
			     struct setup_result *out, struct setup_created *created,
			     struct err *e);

/* ---- secrets at rest (auth/secrets.c) -------------------------------------------- */

/* Load the sealing key from secret_key (config: 32 bytes as hex or base64)
 * or <data_dir>/secret.key (created 0600 on first start). Call once at start. */
int secrets_init(const char *data_dir, const char *secret_key, struct err *e);
/* Seal plain: *sealed_out = malloc'd "v1:" + base64(nonce || box). */
int secret_seal(const char *plain, char **sealed_out, struct err *e);
/* Open a sealed value: *plain_out is malloc'd; release it with secret_free().
 * A tampered value or another key is ERR_INTERNAL. */
int secret_open(const char *sealed, char **plain_out, struct err *e);
/* Wipe and free a plaintext secret (NULL is fine). */
void secret_free(char *s);

#endif
