/*
 * The process: configuration, the HTTP front (CivetWeb), the route table and
 * the one dispatcher every request goes through.
 *
 * DESIGN
 * - Every route is declared once in server/routes.c with its method, path
 *   pattern, permission, body kind and handler. The dispatcher does request
 *   ids, path hygiene, body limits, content types, JSON parsing, (later)
 *   authentication and the permission check, then calls the handler, then
 *   renders errors, security headers, metrics and the access log. Handlers
 *   only parse -> authorize -> act -> render.
 * - A struct req lives for one request. Its arena owns everything allocated
 *   for it; cJSON trees and pooled DB connections are released by the
 *   dispatcher through arena_defer()/req_db().
 * - A handler returns 0 after filling the response, or a negative err_code
 *   after filling r->err; the dispatcher renders {error:{code,message,field}}.
 */
#ifndef SERVER_SERVER_H
#define SERVER_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "auth/auth.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/util.h"

struct mg_connection;
struct mg_context;
struct db;
struct db_pool;
struct arena;

/* ---- configuration -------------------------------------------------------- */

struct config {
	char *config_file;
	int port;
	char *bind;
	char *data_dir;
	char *db_url; /* "" means sqlite://<data_dir>/parallax.db */
	char *log_level;
	int threads;
	int request_timeout_ms;
	int keep_alive_timeout_ms;
	int64_t max_body;
	int db_pool_size;
	char *agent_allow;
	char *public_url;
	char *tls_cert;
	char *tls_key;
	int dev;
	char *dev_dir;
	int setup_token_ttl_s;
	char *jwt_secret;
	char *secret_key;
	int rate_limit_rpm;
	int rate_limit_ip_rpm;
	int login_rpm;
	int engine_threads;
	int breaker_failures;
	int64_t breaker_open_ms;
	int breaker_successes;
	int64_t health_interval_ms;
	int workers;      /* 0: this instance only serves; executions run elsewhere */
	int max_inflight;
	int64_t lease_ms;
	int64_t shutdown_grace_ms;
	int sso_allow_http_loopback; /* plain-http identity providers on loopback (tests) */
	int sso_jwks_refetch_s;
	int sso_http_timeout_ms;
};

/* Fill defaults, then the file (--config / PARALLAX_CONFIG), the environment
 * and the flags in argv, in increasing precedence. Unknown flags or keys and
 * out-of-range values fail with a one-line message in e naming the key.
 * *argi is advanced past the flags consumed (stops at the first non-flag). */
int config_load(struct config *cfg, int argc, char **argv, int *argi, struct err *e);
void config_release(struct config *cfg);
/* Checks that need the file system: the data directory is writable. */
int config_check_paths(const struct config *cfg, struct err *e);
/* The effective database URL (caller frees). */
char *config_db_url(const struct config *cfg);
void config_print_help(void);

/* ---- application ---------------------------------------------------------- */

struct engine;
struct oidc;

struct app {
	struct config *cfg;
	struct db_pool *pool;
	struct engine *engine;
	struct worker *worker; /* NULL when --workers 0 */
	struct oidc *oidc;     /* single sign-on's provider cache (auth/oidc.c) */
	struct mg_context *mg;
	int port;        /* actual listening port */
	char base_url[256];
	int64_t started_ms;
	volatile int draining;
};

/* ---- requests --------------------------------------------------------------- */

enum body_kind {
	BODY_NONE = 0, /* a body is ignored */
	BODY_JSON,     /* application/json, parsed with limits into r->json */
	BODY_FORM,     /* application/x-www-form-urlencoded */
	BODY_RAW,      /* read whole, any content type (imports) */
};

#define REQ_MAX_PARAMS 6

struct route;

struct req {
	struct app *app;
	struct mg_connection *conn;
	struct arena *arena;
	const struct route *route;
	const char *method;
	const char *path;  /* decoded, validated */
	const char *query; /* raw query string or NULL */
	const char *params[REQ_MAX_PARAMS];
	int nparams;
	const char *body;
	size_t body_len;
	const char *body_type; /* the body's media type when not the Content-Type header's
				* (web_api_call_raw); read it with req_body_type() */
	cJSON *json; /* BODY_JSON routes: the parsed body (owned by the arena) */
	char request_id[72];
	const char *remote_ip;
	int64_t start_us;
	struct db *db; /* lazily acquired by req_db() */
	struct auth_ctx auth; /* filled by the dispatcher from the credential */
	struct err err;
	/* response */
	int status;
	const char *content_type;
	struct buf headers; /* extra header lines, each ending in \r\n */
	struct buf out;
	const char *out_ref; /* borrowed body (static data) instead of out */
	size_t out_ref_len;
	int close_conn;
	int streamed; /* the handler wrote the response itself (SSE) */
};

typedef int (*handler_fn)(struct req *r);

/* A pooled connection for this request, released by the dispatcher. */
int req_db(struct req *r, struct db **out);
const char *req_header(const struct req *r, const char *name);
/* The body's media type: r->body_type, else the Content-Type header ("" if none). */
const char *req_body_type(const struct req *r);
/* Decoded query / form value, or NULL. */
const char *req_query(struct req *r, const char *name);
const char *req_form(struct req *r, const char *name);
const char *req_param(const struct req *r, int i);

void req_add_header(struct req *r, const char *name, const char *value);
/* Render j (freed here) as the response body. */
int req_json(struct req *r, int status, cJSON *j);
int req_send(struct req *r, int status, const char *content_type, const char *body, size_t len);
/* Like req_send, but borrows body, which must outlive the request (static or
 * embedded data): no copy. */
int req_send_ref(struct req *r, int status, const char *content_type, const char *body,
		 size_t len);
int req_redirect(struct req *r, int status, const char *location);
/* Append an audit entry for this request: actor, tenant, ip and request id
 * come from the request; details (may be NULL) is a JSON object without
 * secrets and is freed here. Uses the request's connection (and so its open
 * transaction, if any). Returns 0 or an error code. */
int req_audit(struct req *r, const char *action, const char *resource_type,
	      const char *resource_id, const char *outcome, cJSON *details);

/* Set r->err and return its code, for `return req_fail(...)`. */
int req_fail(struct req *r, int code, const char *slug, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* ---- routes ------------------------------------------------------------------ */

/* What a route requires. PERM_UNSET is 0 so a route that forgets to declare
 * its permission is caught by the route-table test (tests/unit/server). */
enum route_access {
	ACCESS_UNSET = 0,
	ACCESS_PUBLIC,   /* no credential */
	ACCESS_AUTH,     /* any valid credential; the handler narrows further */
	ACCESS_PERM,     /* the permission (resource, action) in the RBAC matrix */
};

struct route {
	const char *method;
	const char *pattern; /* "/api/v1/patterns/{id}/versions" */
	enum route_access access;
	int resource;        /* auth/ resource enum, for ACCESS_PERM */
	int action;          /* auth/ action enum, for ACCESS_PERM */
	enum body_kind body;
	handler_fn fn;
	const char *summary; /* OpenAPI summary */
	const char *tag;     /* OpenAPI tag */
	unsigned flags;      /* ROUTE_* */
};

/* Probe and scrape routes: their access-log line is debug, not info, so
 * liveness probes and Prometheus scrapes do not flood the logs. */
#define ROUTE_QUIET 1u
/* The path names something every tenant shares (the built-in library), not a
 * tenant's object; OpenAPI says so with "x-parallax-shared": true. */
#define ROUTE_SHARED 2u

extern const struct route routes[];
extern const size_t routes_count;

/* Match path against a pattern, filling params (arena strings). 1 on match. */
int route_match(const char *pattern, const char *path, struct req *r);

/* ---- authentication (server/authn.c) ------------------------------------------ */

/* Fill r->auth from the credential, apply rate limits and the route's
 * permission. Runs before the body is read. */
int authenticate_request(struct req *r);
/* The route's permission for the caller in r->auth (the workspace resolved for
 * workspace-scoped resources): 0, or 401/403/404 set on r. */
int authorize_route(struct req *r, const struct route *rt);
/* r->auth.workspace_id and role: X-Parallax-Workspace, else a browser's pick (one it may no
 * longer use is skipped), else the default workspace. 0, or 404 workspace_not_found set on r
 * when the named one (or, with none named, the default one) is not the caller's. */
int resolve_workspace(struct req *r);
/* CSRF for cookie-authenticated writes; runs after the body is read. */
int csrf_request(struct req *r);
const char *session_cookie_name(struct req *r);

/* ---- HTTP server ---------------------------------------------------------------- */

int http_start(struct app *app, struct err *e);
/* /api/v1/agents/connect (server/ws_agents.c). */
void ws_agents_start(struct app *app);
/* /api/v1/executions/{id}/stream (server/ws_stream.c). */
void ws_stream_start(struct app *app);
void http_stop(struct app *app);

/* ---- metrics -------------------------------------------------------------------- */

void metrics_init(void);
void metrics_observe(int route_index, int status, int64_t duration_us);
void metrics_render(struct app *app, struct buf *out);

/* ---- handlers that live in server/ --------------------------------------------- */

int handle_health_live(struct req *r);
int handle_health_ready(struct req *r);
int handle_metrics(struct req *r);
int handle_openapi(struct req *r);
int handle_static(struct req *r);

#endif
