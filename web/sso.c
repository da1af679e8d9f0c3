/*
 * Single sign-on in the browser (SPEC §7, issue 8): the OpenID Connect
 * authorization code flow with PKCE (S256), a one-time state bound to the
 * browser that started it, and a nonce.
 *
 * GET /sso/start?tenant=SLUG (or ?email=, by its domain) stores the state
 * (with the nonce, the code verifier and a same-origin next=) under the hash
 * of a random binding that only this browser holds, in a cookie scoped to
 * /sso/, and sends the browser to the provider. GET /sso/callback takes the
 * state once (a second use, another browser's state or an expired one is
 * refused), checks the RFC 9207 iss parameter, exchanges the code, verifies
 * the ID token (auth/oidc.c: pinned RS256/ES256, iss, aud, exp, nbf, iat,
 * nonce), and only then looks at the account:
 *
 *   - an account is found by its provider identity (issuer, subject), never
 *     by email alone; a first sign-in may link an existing account with the
 *     same email only when the provider says the email is verified and the
 *     account is already a member of this tenant (users are shared by all
 *     tenants: one tenant's provider never vouches for another's people);
 *   - the email's domain must be one the tenant allows (when it lists any);
 *   - without a membership, just-in-time provisioning (when on) adds one in
 *     the default workspace with the role the groups map to; with one, the
 *     role follows the provider's groups at every sign-in (owners excepted:
 *     owner is only ever given inside Parallax).
 *
 * The session is new (a fresh cookie value), so a planted session cookie is
 * never adopted. Every refusal leaves no session and no membership behind,
 * and is an audit entry in the tenant when the tenant is known.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>
#include <sodium.h>

#include "web/web.h"
#include "api/api.h"
#include "auth/auth.h"
#include "db/db.h"
#include "server/server.h"
#include "core/core.h"

#define BIND_COOKIE "px_sso"
#define STATE_TTL_MS (10 * 60 * 1000)
#define CLOCK_LEEWAY_S 60

/* Roles by rank, for the highest role any of a user's groups maps to. */
static int role_rank(const char *role)
{
	static const char *const order[] = { "viewer", "operator", "developer", "admin", NULL };
	for (int i = 0; order[i]; i++)
		if (role && !strcmp(role, order[i]))
			return i + 1;
	return 0;
}

/* The sign-in page again, with why, and no session. */
static int refuse(struct req *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int refuse(struct req *r, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cJSON *ctx = cJSON_CreateObject();
	cJSON_AddStringToObject(ctx, "body_class", "auth");
	cJSON_AddStringToObject(ctx, "csrf", web_csrf_token(r));
	cJSON_AddStringToObject(ctx, "error", msg);
	cJSON_AddTrueToObject(ctx, "sso_error");
	int rc = web_render(r, status, "login", ctx);
	cJSON_Delete(ctx);
	return rc;
}

/* An audit entry in tenant_id for a sign-in through SSO (the request has no credential). */
static void sso_audit(struct req *r, const char *tenant_id, const char *user_id, int ok,
		      const char *reason)
{
	cJSON *d = cJSON_CreateObject();
	if (reason)
		cJSON_AddStringToObject(d, "reason", reason);
	cJSON_AddStringToObject(d, "method", "sso");
	str_copy(r->auth.tenant_id, sizeof(r->auth.tenant_id), tenant_id);
	if (ok && user_id) {
		str_copy(r->auth.user_id, sizeof(r->auth.user_id), user_id);
		r->auth.kind = AUTH_TOKEN;
	}
	req_audit(r, ok ? "auth.login" : "auth.login_failed", "user", user_id, ok ? "success" :
										    "failure", d);
	memset(&r->auth, 0, sizeof(r->auth));
}

static void bind_cookie(struct req *r, const char *value, int max_age_s)
{
	int tls = mg_get_request_info(r->conn)->is_ssl;
	req_add_header(r, "Set-Cookie",
		       arena_printf(r->arena, BIND_COOKIE "=%s; Path=/sso/; HttpOnly; SameSite=Lax; "
						      "Max-Age=%d%s",
				    value, max_age_s, tls ? "; Secure" : ""));
}

/* Appends key=value (value percent-encoded) to an authorization URL. */
static void query_add(struct buf *b, const char *key, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	buf_addf(b, "%c%s=", strchr(b->p, '?') ? '&' : '?', key);
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '.' || *p == '_' || *p == '~')
			buf_addf(b, "%c", *p);
		else
			buf_addf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
	}
}

int web_sso_by_email(struct db *db, const char *email, struct sso_config *c, struct err *e)
{
	char domain[256];
	const char *at = strrchr(email, '@');
	size_t i = 0;
	if (!at)
		return err_setc(e, ERR_NOT_FOUND, "not_found", NULL, "no domain in the email");
	for (at++; at[i] && i < sizeof(domain) - 1; i++)
		domain[i] = (char)(at[i] >= 'A' && at[i] <= 'Z' ? at[i] | 0x20 : at[i]);
	domain[i] = '\0';
	return store_sso_by_domain(db, domain, c, e);
}

/* GET /sso/start */
int web_sso_start(struct req *r)
{
	const char *slug = req_query(r, "tenant"), *email = req_query(r, "email");
	const char *next = req_query(r, "next");
	struct sso_config *c = xcalloc(1, sizeof(*c));
	struct oidc_provider *p = xcalloc(1, sizeof(*p));
	struct oidc_state s;
	char binding[OIDC_RANDOM_SIZE], challenge[OIDC_RANDOM_SIZE], uri[512];
	struct db *db;
	struct err e;
	int rc;
	memset(&s, 0, sizeof(s));
	err_clear(&e);
	/* each start stores a state: a flood from one address is cut short */
	int wait_s = ratelimit_take(arena_printf(r->arena, "sso:%s", r->remote_ip),
				    r->app->cfg->login_rpm);
	if (wait_s) {
		req_add_header(r, "Retry-After", arena_printf(r->arena, "%d", wait_s));
		rc = refuse(r, 429, "Too many sign-in attempts from here: try again in %d seconds.",
			    wait_s);
		goto out;
	}
	if ((rc = req_db(r, &db)))
		goto out;
	if (slug && *slug && strlen(slug) <= TENANCY_SLUG_MAX) {
		rc = store_sso_by_slug(db, slug, c, &e);
	} else if (email && strchr(email, '@') && strlen(email) <= TENANCY_EMAIL_MAX) {
		rc = web_sso_by_email(db, email, c, &e);
	} else {
		rc = refuse(r, 400, "Enter your work email, or use your organization's sign-in link.");
		goto out;
	}
	if (rc == ERR_NOT_FOUND || rc == ERR_CONFLICT) {
		rc = refuse(r, rc == ERR_CONFLICT ? 409 : 404, "%s",
			    rc == ERR_CONFLICT ? e.msg :
						 "Single sign-on is not set up for this organization or "
						 "email domain. Sign in with your password.");
		goto out;
	}
	if (rc)
		goto out;
	if (oidc_discover(r->app->oidc, c->issuer, p, &e)) {
		log_kv(LOG_WARN, "sso", "discovery failed", "tenant", c->tenant_id, "error", e.msg,
		       NULL);
		rc = refuse(r, 502, "The identity provider cannot be reached right now. Try again "
				    "in a moment, or sign in with your password.");
		goto out;
	}
	str_copy(s.tenant_id, sizeof(s.tenant_id), c->tenant_id);
	oidc_random(s.state);
	oidc_random(s.nonce);
	oidc_random(s.code_verifier);
	oidc_random(binding);
	token_hash(binding, s.binding_hash);
	if (web_safe_next(next))
		str_copy(s.next, sizeof(s.next), next);
	if ((rc = oidc_pkce_s256(s.code_verifier, challenge, &r->err)) ||
	    (rc = store_oidc_state_put(db, &s, STATE_TTL_MS, &r->err)))
		goto out;
	sso_redirect_uri(r->app, uri, sizeof(uri));
	struct buf url;
	buf_init(&url);
	buf_adds(&url, p->authorization_endpoint);
	query_add(&url, "response_type", "code");
	query_add(&url, "client_id", c->client_id);
	query_add(&url, "redirect_uri", uri);
	query_add(&url, "scope", c->group_claim[0] ? "openid email profile groups" :
						     "openid email profile");
	query_add(&url, "state", s.state);
	query_add(&url, "nonce", s.nonce);
	query_add(&url, "code_challenge", challenge);
	query_add(&url, "code_challenge_method", "S256");
	if (email && *email)
		query_add(&url, "login_hint", email);
	bind_cookie(r, binding, STATE_TTL_MS / 1000);
	rc = req_redirect(r, 303, arena_printf(r->arena, "%s", url.p));
	buf_release(&url);
out:
	sodium_memzero(&s, sizeof(s));
	sodium_memzero(binding, sizeof(binding));
	free(c);
	free(p);
	return rc;
}

/* What the ID token says of the person. */
struct person {
	const char *sub, *email, *name;
	int email_verified;
	char email_low[TENANCY_EMAIL_MAX + 1];
};

static void person_read(const cJSON *claims, struct person *who)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(claims, "email_verified");
	who->sub = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(claims, "sub"));
	who->email = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(claims, "email"));
	who->name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(claims, "name"));
	/* some providers send the string "true" */
	who->email_verified = cJSON_IsTrue(v) || (cJSON_IsString(v) && !strcmp(v->valuestring, "true"));
	who->email_low[0] = '\0';
	if (who->email && strlen(who->email) <= TENANCY_EMAIL_MAX && strchr(who->email, '@')) {
		size_t i = 0;
		for (; who->email[i]; i++)
			who->email_low[i] = (char)(who->email[i] >= 'A' && who->email[i] <= 'Z' ?
							   who->email[i] | 0x20 :
							   who->email[i]);
		who->email_low[i] = '\0';
	}
}

/* The role the person's groups map to: the highest of them, else the default role. */
static const char *mapped_role(const struct sso_config *c, const cJSON *claims)
{
	const char *best = NULL;
	if (!c->group_claim[0])
		return c->default_role;
	cJSON *map = cJSON_Parse(c->group_map);
	const cJSON *groups = cJSON_GetObjectItemCaseSensitive(claims, c->group_claim), *g;
	static const char *const roles[] = { "viewer", "operator", "developer", "admin" };
	if (cJSON_IsString(groups)) {
		const cJSON *to = cJSON_GetObjectItemCaseSensitive(map, groups->valuestring);
		if (cJSON_IsString(to) && role_rank(to->valuestring))
			best = roles[role_rank(to->valuestring) - 1];
	}
	const cJSON *list = cJSON_IsArray(groups) ? groups : NULL;
	cJSON_ArrayForEach(g, list) {
		const cJSON *to = cJSON_IsString(g) ?
					  cJSON_GetObjectItemCaseSensitive(map, g->valuestring) :
					  NULL;
		if (cJSON_IsString(to) && role_rank(to->valuestring) > role_rank(best))
			best = roles[role_rank(to->valuestring) - 1];
	}
	cJSON_Delete(map);
	return best ? best : c->default_role;
}

/*
 * The account and membership for a verified person, in one write transaction: linked by
 * (issuer, subject); a first sign-in links a same-email account only when the email is
 * verified, or creates one when provisioning is on. Refusals set *why (shown) and *slug.
 */
static int account_for(struct req *r, struct db *db, const struct sso_config *c,
		       const char *issuer, const struct person *who, const char *role,
		       char user_id[UUID_STR_LEN], const char **why, const char **slug)
{
	struct user_row u;
	struct member_info m;
	int rc = db_begin(db, DB_TX_WRITE, &r->err);
	if (!rc)
		rc = store_tenant_lock(db, c->tenant_id, &r->err);
	if (!rc)
		rc = store_identity_user(db, issuer, who->sub, user_id, &r->err);
	if (rc == ERR_NOT_FOUND) {
		rc = 0;
		err_clear(&r->err);
		if (!who->email_low[0]) {
			*why = "The identity provider did not share your email address.";
			*slug = "no_email";
		} else if (!(rc = store_user_by_email(db, who->email_low, &u, &r->err))) {
			if (!who->email_verified) {
				/* anyone can claim an unverified address at some providers */
				*why = "An account with this email exists, and the identity provider "
				       "has not verified that the email is yours. Sign in with your "
				       "password.";
				*slug = "email_unverified";
			} else {
				/* only an account of this organization: a tenant's provider vouches
				 * for its own people, never for another organization's */
				int mrc = store_member_get(db, c->tenant_id, u.id, &m, &r->err);
				if (mrc == ERR_NOT_FOUND) {
					err_clear(&r->err);
					*why = "An account with this email exists outside this "
					       "organization: ask an admin to invite it, then sign in "
					       "again.";
					*slug = "account_elsewhere";
				} else if (mrc) {
					rc = mrc;
				} else {
					str_copy(user_id, UUID_STR_LEN, u.id);
				}
			}
		} else if (rc == ERR_NOT_FOUND) {
			rc = 0;
			err_clear(&r->err);
			if (!c->jit_provisioning) {
				*why = "You have no account in this organization yet: ask an admin to "
				       "invite you.";
				*slug = "not_provisioned";
			} else {
				rc = store_user_create_sso(db, who->email_low,
							   who->name && *who->name ? who->name :
										     who->email_low,
							   user_id, &r->err);
			}
		}
		if (!rc && !*why)
			rc = store_identity_link(db, user_id, issuer, who->sub, who->email_low,
						 who->email_verified, &r->err);
	} else if (!rc) {
		rc = store_identity_link(db, user_id, issuer, who->sub, who->email_low,
					 who->email_verified, &r->err);
	}
	if (!rc && !*why) {
		rc = store_member_get(db, c->tenant_id, user_id, &m, &r->err);
		if (rc == ERR_NOT_FOUND) {
			rc = 0;
			err_clear(&r->err);
			if (!c->jit_provisioning) {
				*why = "You are not a member of this organization: ask an admin to "
				       "invite you.";
				*slug = "not_member";
			} else {
				rc = store_member_add(db, c->tenant_id, user_id, role, NULL, &r->err);
			}
		} else if (!rc && c->group_claim[0] && strcmp(m.role, "owner") &&
			   strcmp(m.role, role)) {
			/* the provider's groups decide, at every sign-in */
			rc = store_member_set_role(db, c->tenant_id, user_id, role, &r->err);
		}
	}
	if (!rc && !*why)
		rc = db_commit(db, &r->err);
	db_rollback(db); /* a refusal writes nothing (no-op after a commit) */
	return rc;
}

/* GET /sso/callback */
int web_sso_callback(struct req *r)
{
	const char *code = req_query(r, "code"), *state = req_query(r, "state");
	const char *iss = req_query(r, "iss"), *error = req_query(r, "error");
	const char *cookies = mg_get_header(r->conn, "Cookie");
	const char *why = NULL, *slug = NULL;
	char binding[OIDC_RANDOM_SIZE + 8] = "", hash[65], uri[512], user_id[UUID_STR_LEN] = "";
	struct sso_config *c = xcalloc(1, sizeof(*c));
	struct oidc_provider *p = xcalloc(1, sizeof(*p));
	struct oidc_state s;
	struct login_result res;
	char *secret = NULL, *id_token = NULL;
	cJSON *claims = NULL;
	struct db *db;
	struct err e;
	int rc;
	memset(&s, 0, sizeof(s));
	memset(&res, 0, sizeof(res));
	err_clear(&e);
	bind_cookie(r, "", 0); /* one try per start, whatever happens */
	if (!state || !*state || strlen(state) >= sizeof(s.state)) {
		rc = refuse(r, 400, "This sign-in has no state: start again from the sign-in page.");
		goto out;
	}
	if (!cookies || mg_get_cookie(cookies, BIND_COOKIE, binding, sizeof(binding)) <= 0) {
		rc = refuse(r, 400, "This sign-in did not start in this browser: start again from "
				    "the sign-in page.");
		goto out;
	}
	if ((rc = req_db(r, &db)))
		goto out;
	token_hash(binding, hash);
	if (store_oidc_state_take(db, state, hash, &s, &e)) {
		rc = refuse(r, e.code == ERR_UNAUTHORIZED ? 400 : 500, "%s",
			    e.code == ERR_UNAUTHORIZED ? "This sign-in has expired, was already "
							  "used, or did not start in this browser: "
							  "start again." :
							  "The sign-in could not be checked.");
		goto out;
	}
	if ((rc = store_sso_get(db, s.tenant_id, c, &e)) || !c->enabled) {
		rc = refuse(r, 400, "Single sign-on is no longer set up for this organization.");
		goto out;
	}
	if (error) {
		why = "The identity provider did not sign you in.";
		slug = "provider_error";
		log_kv(LOG_INFO, "sso", "provider refused", "tenant", c->tenant_id, "error",
		       strlen(error) < 64 ? error : "(long)", NULL);
		goto refused;
	}
	if (!code || !*code || strlen(code) > 4096) {
		rc = refuse(r, 400, "The identity provider sent no code: start again.");
		goto out;
	}
	if (oidc_discover(r->app->oidc, c->issuer, p, &e)) {
		why = "The identity provider cannot be reached right now.";
		slug = "discovery_failed";
		goto refused;
	}
	/* RFC 9207: the answer must come from the provider this login went to (mix-up) */
	if (oidc_check_iss_param(p, iss, &e)) {
		why = "The sign-in came back from another identity provider.";
		slug = "issuer_mismatch";
		goto refused;
	}
	if (secret_open(c->client_secret_enc, &secret, &e)) {
		why = "Single sign-on is not configured completely: tell an admin.";
		slug = "no_secret";
		goto refused;
	}
	sso_redirect_uri(r->app, uri, sizeof(uri));
	struct oidc_code_exchange x = { .provider = p, .code = code, .redirect_uri = uri,
					.code_verifier = s.code_verifier, .client_id = c->client_id,
					.client_secret = secret, .client_auth = OIDC_AUTH_BASIC };
	rc = oidc_exchange_code(r->app->oidc, &x, &id_token, &e);
	sodium_memzero(secret, strlen(secret));
	if (rc) {
		why = "The identity provider did not accept the sign-in.";
		slug = "code_refused";
		goto refused;
	}
	struct oidc_expect ex = { .provider = p, .client_id = c->client_id, .nonce = s.nonce,
				  .now_s = now_ms() / 1000, .leeway_s = CLOCK_LEEWAY_S };
	if (oidc_verify_id_token(r->app->oidc, &ex, id_token, &claims, &e)) {
		why = "The identity provider's answer could not be verified.";
		slug = "invalid_id_token";
		goto refused;
	}
	struct person who;
	person_read(claims, &who);
	const char *at = who.email_low[0] ? strrchr(who.email_low, '@') + 1 : NULL;
	if (strcmp(c->allowed_domains, "[]") && (!at || !sso_domain_allowed(c->allowed_domains, at))) {
		why = "Your email's domain is not one this organization signs in with.";
		slug = "domain_not_allowed";
		goto refused;
	}
	rc = account_for(r, db, c, p->issuer, &who, mapped_role(c, claims), user_id, &why, &slug);
	if (rc) {
		why = "Your account could not be set up.";
		slug = err_slug(&r->err);
		log_kv(LOG_WARN, "sso", "account", "tenant", c->tenant_id, "error", r->err.msg, NULL);
		goto refused;
	}
	if (why)
		goto refused;
	struct login_request in = { .tenant_id = c->tenant_id, .kind = "browser",
				    .ip = r->remote_ip, .user_agent = req_header(r, "User-Agent") };
	if ((rc = auth_open_session(db, &in, user_id, &res, &r->err))) {
		why = "This account cannot sign in.";
		slug = err_slug(&r->err);
		goto refused;
	}
	sso_audit(r, c->tenant_id, user_id, 1, NULL);
	web_set_session_cookie(r, res.refresh_token, BROWSER_SESSION_TTL_MS / 1000);
	rc = req_redirect(r, 303, s.next[0] ? arena_printf(r->arena, "%s", s.next) : "/");
	goto out;
refused:
	if (e.msg[0])
		log_kv(LOG_INFO, "sso", "sign-in refused", "tenant", c->tenant_id, "reason", slug,
		       "detail", e.msg, NULL);
	sso_audit(r, c->tenant_id, user_id[0] ? user_id : NULL, 0, slug);
	rc = refuse(r, 401, "%s", why);
out:
	login_result_release(&res);
	if (id_token) {
		sodium_memzero(id_token, strlen(id_token));
		free(id_token);
	}
	free(secret);
	cJSON_Delete(claims);
	sodium_memzero(&s, sizeof(s));
	free(c);
	free(p);
	return rc;
}
