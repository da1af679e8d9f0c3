/*
 * Authentication and access: passwords, the one-time owner set-up token,
 * (later) tokens, sessions, API keys, the RBAC matrix and quotas.
 *
 * Secrets handled here (passwords, tokens) are never logged and never
 * returned after creation; only their hashes are stored.
 */
#ifndef AUTH_AUTH_H
#define AUTH_AUTH_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/util.h"

struct db;
struct sockaddr;

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
/* The same when the key set allows several algorithms: algs is NULL-terminated
 * and *which gets the index of the token's one (the pin for jwt_verify_pinned). */
int jwt_header_pick(const char *token, const char *const *algs, int *which, char *kid,
		    size_t kidsz, struct err *e);
/* iss, aud (string or array), exp (required), nbf and iat, with leeway. */
int jwt_check_claims(const cJSON *claims, const char *iss, const char *aud, int64_t now_s,
		     int leeway_s, struct err *e);
/* Sign claims; returns a malloc'd token or NULL. */
char *jwt_sign(const char *alg, const unsigned char *key, size_t keylen, const cJSON *claims);

/* ---- OpenID Connect relying party (auth/oidc*.c) ------------------------------------ */

/*
 * The protocol half of SSO (SPEC §7): discovery, the JWKS cache, ID-token
 * verification, PKCE and the code exchange. It knows nothing of tenants or
 * sessions; the login handlers hold those.
 *
 * Every URL we fetch or send a browser to must be https. Plain http is
 * allowed only when struct oidc_net.allow_http_loopback is set (the
 * sso_allow_http_loopback config, for tests and a local provider) and then
 * only to 127.0.0.1, [::1] or localhost. Tokens, codes, verifiers and client
 * secrets are never logged and never copied into an error message.
 */

#define OIDC_URL_MAX      2048
#define OIDC_KID_MAX      128
#define OIDC_RANDOM_SIZE  44  /* 32 random bytes as base64url (43 chars) + NUL */
#define OIDC_VERIFIER_MAX 129 /* RFC 7636: 43 to 128 characters, + NUL */

enum oidc_alg { OIDC_ALG_NONE = 0, OIDC_RS256, OIDC_ES256 };
const char *oidc_alg_name(int alg); /* "RS256", "ES256"; NULL otherwise */

/* How we reach providers. Read-only once built; shared by all threads. */
struct oidc_net {
	long timeout_ms;          /* whole transfer, connect included */
	size_t max_bytes;         /* largest response body */
	int allow_http_loopback;  /* see above; never on in production */
	/* Optional: refuse a connection before it is made (SSRF policy). With
	 * a hook set, no proxy is used, so the address judged is the peer. */
	int (*addr_allowed)(void *ctx, const struct sockaddr *sa);
	void *addr_ctx;
};
#define OIDC_NET_DEFAULT { 10000, 256 * 1024, 0, NULL, NULL }

/* One HTTP exchange with a provider. form == NULL: GET. */
struct oidc_http_req {
	const char *url;
	const char *form;          /* application/x-www-form-urlencoded body */
	const char *authorization; /* header value ("Basic ..."), or NULL */
};
/* The transport: fills *status and body (bounded) or returns an error. A
 * test injects its own; oidc_http_fetch (libcurl) takes a struct oidc_net. */
typedef int (*oidc_fetch_fn)(void *ctx, const struct oidc_http_req *req, long *status,
			     struct buf *body, struct err *e);
int oidc_http_fetch(void *net, const struct oidc_http_req *req, long *status, struct buf *body,
		    struct err *e);
/* 0 if url may be used (https, or loopback http when allowed): ERR_INVALID
 * "invalid_url" naming field and the reason otherwise. */
int oidc_url_check(const char *url, int allow_http_loopback, const char *field, struct err *e);

/* A provider's discovery document, the parts we use. */
struct oidc_provider {
	char issuer[OIDC_URL_MAX + 1];
	char authorization_endpoint[OIDC_URL_MAX + 1];
	char token_endpoint[OIDC_URL_MAX + 1];
	char jwks_uri[OIDC_URL_MAX + 1];
	int iss_parameter_supported; /* RFC 9207 authorization_response_iss_parameter_supported */
};

/* One JWK as a PEM public key (SubjectPublicKeyInfo): RSA (n, e; 2048 to
 * 8192 bits) or EC P-256 (x, y). *pem is malloc'd; *alg is what it verifies.
 * A key of another type, curve or use is ERR_UNPROCESSABLE. */
int oidc_jwk_to_pem(const cJSON *jwk, char **pem, int *alg, struct err *e);

/*
 * The relying party: a per-issuer cache of discovery documents and JWKS,
 * behind one mutex (never held across the network). An unknown kid refetches
 * the issuer's JWKS at most once every jwks_refetch_s seconds; concurrent
 * callers wait for the fetch in flight instead of starting their own.
 */
struct oidc_issuer;
struct oidc_opts {
	struct oidc_net net;     /* its allow_http_loopback governs every URL check */
	oidc_fetch_fn fetch;     /* NULL: oidc_http_fetch over net; a test injects its own */
	void *fetch_ctx;
	int jwks_refetch_s;      /* 0: 60 */
	int discovery_ttl_s;     /* 0: 3600 */
	int64_t (*clock_ms)(void); /* monotonic; NULL: mono_ms (tests move time) */
};
struct oidc {
	struct oidc_opts opts;
	pthread_mutex_t lock;
	pthread_cond_t fetched;      /* a JWKS fetch has finished */
	struct oidc_issuer *issuers; /* most recently used first */
	int n_issuers;
	unsigned long jwks_fetches;  /* attempts, for metrics and tests */
};

void oidc_init(struct oidc *o, const struct oidc_opts *opts);
void oidc_release(struct oidc *o);
/* issuer's discovery document, cached for discovery_ttl_s. Its issuer must
 * equal the configured one exactly, and every endpoint pass oidc_url_check. */
int oidc_discover(struct oidc *o, const char *issuer, struct oidc_provider *out, struct err *e);

/* What an ID token must show. */
struct oidc_expect {
	const struct oidc_provider *provider;
	const char *client_id;
	const char *nonce;  /* the one sent with this login */
	int64_t now_s;      /* wall clock */
	int leeway_s;       /* clock skew allowed on exp, nbf and iat */
};
/* Verify an ID token: RS256 or ES256 only, with the issuer's key for its kid,
 * then iss, aud (and azp when there are several audiences), exp, nbf, iat,
 * sub and nonce. *claims gets the payload. Every refusal is ERR_UNAUTHORIZED;
 * a provider we cannot reach for its keys is ERR_UNAVAILABLE or ERR_TIMEOUT. */
int oidc_verify_id_token(struct oidc *o, const struct oidc_expect *x, const char *id_token,
			 cJSON **claims, struct err *e);

/* RFC 9207 against mix-up: the callback's iss parameter (NULL if absent)
 * must be p's issuer, and present when p says it sends it. */
int oidc_check_iss_param(const struct oidc_provider *p, const char *iss, struct err *e);

/* PKCE (RFC 7636) and the per-login random values. */
void oidc_random(char out[OIDC_RANDOM_SIZE]); /* state, nonce or code_verifier */
/* The S256 challenge for verifier (43 to 128 unreserved characters). */
int oidc_pkce_s256(const char *verifier, char out[OIDC_RANDOM_SIZE], struct err *e);

enum oidc_client_auth { OIDC_AUTH_BASIC = 0, OIDC_AUTH_POST };
struct oidc_code_exchange {
	const struct oidc_provider *provider;
	const char *code, *redirect_uri, *code_verifier;
	const char *client_id, *client_secret;
	int client_auth; /* enum oidc_client_auth */
};
/* POST the code to the token endpoint; *id_token is malloc'd. A refusal by
 * the provider is ERR_UNAUTHORIZED naming its OAuth error code. */
int oidc_exchange_code(struct oidc *o, const struct oidc_code_exchange *x, char **id_token,
		       struct err *e);

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
/* A session for user_id in in->tenant_id, who proved who they are elsewhere (single
 * sign-on): no password, no throttle; the user must be active and a member. */
int auth_open_session(struct db *db, const struct login_request *in, const char *user_id,
		      struct login_result *out, struct err *e);
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
