/*
 * OIDC relying party: discovery, the per-issuer JWKS cache and ID-token
 * verification.
 *
 * DESIGN. One struct oidc per process holds, per issuer, the last discovery
 * document and the signing keys as PEM. Invariants:
 *  - the mutex is never held across the network; a JWKS fetch marks its
 *    issuer "fetching", and callers needing keys wait on the condition
 *    variable instead of fetching again;
 *  - an issuer's JWKS is fetched at most once every jwks_refetch_s seconds,
 *    whatever tokens arrive (a forged kid cannot make us hammer the
 *    provider); the first fetch is never delayed;
 *  - keys are copied out under the lock, so a refetch can replace them while
 *    another thread verifies with its copy;
 *  - a key verifies only the algorithm its type implies (RSA: RS256, EC
 *    P-256: ES256), and a token's alg must be one of these two: "none",
 *    HS256 (say, signed with our client secret) and the rest are refused
 *    before any key is looked up.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/oidc_internal.h"
#include "core/core.h"

#define OIDC_ISSUERS_MAX 256 /* cached issuers; the least recently used goes first */
#define JWKS_KEYS_MAX    64
#define SUB_MAX          255 /* OIDC Core §2 */
#define WELL_KNOWN       "/.well-known/openid-configuration"

struct oidc_key {
	char kid[OIDC_KID_MAX];
	int alg;
	char *pem;
};

struct oidc_issuer {
	struct oidc_issuer *next;
	char issuer[OIDC_URL_MAX + 1];
	struct oidc_provider provider;
	int has_provider;
	int64_t provider_at;             /* clock_ms of the discovery */
	char jwks_uri[OIDC_URL_MAX + 1]; /* where keys came from */
	struct oidc_key *keys;
	int n_keys;
	int jwks_tried;                  /* a fetch has been attempted ... */
	int64_t jwks_at;                 /* ... at this clock_ms */
	int fetching;
};

static void keys_free(struct oidc_key *keys, int n)
{
	for (int i = 0; i < n; i++)
		free(keys[i].pem);
	free(keys);
}

static void issuer_free(struct oidc_issuer *it)
{
	keys_free(it->keys, it->n_keys);
	free(it);
}

void oidc_init(struct oidc *o, const struct oidc_opts *opts)
{
	memset(o, 0, sizeof(*o));
	o->opts = *opts;
	if (!o->opts.fetch) {
		o->opts.fetch = oidc_http_fetch;
		o->opts.fetch_ctx = &o->opts.net;
	}
	if (o->opts.jwks_refetch_s <= 0)
		o->opts.jwks_refetch_s = 60;
	if (o->opts.discovery_ttl_s <= 0)
		o->opts.discovery_ttl_s = 3600;
	if (!o->opts.clock_ms)
		o->opts.clock_ms = mono_ms;
	pthread_mutex_init(&o->lock, NULL);
	pthread_cond_init(&o->fetched, NULL);
}

void oidc_release(struct oidc *o)
{
	struct oidc_issuer *it = o->issuers, *next;
	for (; it; it = next) {
		next = it->next;
		issuer_free(it);
	}
	o->issuers = NULL;
	pthread_cond_destroy(&o->fetched);
	pthread_mutex_destroy(&o->lock);
}

/*
 * The cache entry for issuer, moved to the front; created if asked (the
 * least recently used idle entry makes room). Caller holds the lock.
 */
static struct oidc_issuer *issuer_get(struct oidc *o, const char *issuer, int create)
{
	struct oidc_issuer **pp = &o->issuers, **victim = NULL, *it;
	for (; (it = *pp); pp = &it->next) {
		if (!strcmp(it->issuer, issuer)) {
			*pp = it->next;
			it->next = o->issuers;
			o->issuers = it;
			return it;
		}
		if (!it->fetching)
			victim = pp;
	}
	if (!create)
		return NULL;
	if (o->n_issuers >= OIDC_ISSUERS_MAX && victim) {
		it = *victim;
		*victim = it->next;
		issuer_free(it);
		o->n_issuers--;
	}
	it = xcalloc(1, sizeof(*it));
	str_copy(it->issuer, sizeof(it->issuer), issuer);
	it->next = o->issuers;
	o->issuers = it;
	o->n_issuers++;
	return it;
}

int oidc_call(struct oidc *o, const struct oidc_http_req *req, long *status, cJSON **json,
	      struct err *e)
{
	struct buf body = BUF_INIT;
	struct err ignored;
	int ret;
	*json = NULL;
	ret = o->opts.fetch(o->opts.fetch_ctx, req, status, &body, e);
	if (!ret)
		*json = json_parse(body.p, body.len, OIDC_JSON_DEPTH, &ignored);
	sodium_memzero(body.p, body.len);
	buf_release(&body);
	return ret;
}

/* GET url: a JSON object with status 200, or ERR_UNAVAILABLE saying what came. */
static int get_json(struct oidc *o, const char *url, const char *what, cJSON **out,
		    struct err *e)
{
	const struct oidc_http_req req = { url, NULL, NULL };
	long status = 0;
	int ret = oidc_call(o, &req, &status, out, e);
	if (ret)
		return ret;
	if (status == 200 && cJSON_IsObject(*out))
		return 0;
	cJSON_Delete(*out);
	*out = NULL;
	if (status != 200)
		return err_setc(e, ERR_UNAVAILABLE, "idp_bad_response", NULL,
				"the provider's %s answered HTTP %ld", what, status);
	return err_setc(e, ERR_UNAVAILABLE, "idp_bad_response", NULL,
			"the provider's %s is not a JSON object", what);
}

/* ---- discovery ----------------------------------------------------------------- */

static int bad_doc(struct err *e, const char *why)
{
	return err_setc(e, ERR_UNAVAILABLE, "idp_bad_discovery", NULL,
			"the provider's discovery document is refused: %s", why);
}

/* A required endpoint: a string that passes the URL policy, copied to out. */
static int doc_url(const cJSON *doc, const char *name, int allow_http, char *out,
		   struct err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);
	if (!cJSON_IsString(v))
		return err_setc(e, ERR_UNAVAILABLE, "idp_bad_discovery", NULL,
				"the provider's discovery document has no %s", name);
	if (oidc_url_check(v->valuestring, allow_http, name, e)) {
		char why[ERR_MSG_MAX];
		str_copy(why, sizeof(why), e->msg); /* e->msg is about to be rewritten */
		return err_setc(e, ERR_UNAVAILABLE, "idp_bad_discovery", NULL,
				"the provider's discovery document is refused: %.200s", why);
	}
	str_copy(out, OIDC_URL_MAX + 1, v->valuestring);
	return 0;
}

/* If the provider lists its ID-token algorithms, one must be ours. */
static int doc_algs(const cJSON *doc, struct err *e)
{
	const cJSON *algs = cJSON_GetObjectItemCaseSensitive(doc,
							     "id_token_signing_alg_values_supported");
	const cJSON *a;
	if (!algs)
		return 0;
	cJSON_ArrayForEach(a, algs) if (cJSON_IsString(a) &&
					(!strcmp(a->valuestring, "RS256") ||
					 !strcmp(a->valuestring, "ES256"))) return 0;
	return bad_doc(e, "it signs ID tokens with neither RS256 nor ES256");
}

static int doc_parse(const cJSON *doc, const char *issuer, int allow_http,
		     struct oidc_provider *p, struct err *e)
{
	const cJSON *iss = cJSON_GetObjectItemCaseSensitive(doc, "issuer");
	int rc;
	memset(p, 0, sizeof(*p));
	/* OIDC Discovery §4.3: exactly the configured issuer, or a mix-up is
	 * one misconfiguration away. */
	if (!cJSON_IsString(iss) || strcmp(iss->valuestring, issuer))
		return bad_doc(e, "its issuer is not the configured one");
	str_copy(p->issuer, sizeof(p->issuer), issuer);
	if ((rc = doc_url(doc, "authorization_endpoint", allow_http, p->authorization_endpoint,
			  e)) ||
	    (rc = doc_url(doc, "token_endpoint", allow_http, p->token_endpoint, e)) ||
	    (rc = doc_url(doc, "jwks_uri", allow_http, p->jwks_uri, e)) || (rc = doc_algs(doc, e)))
		return rc;
	p->iss_parameter_supported = cJSON_IsTrue(
		cJSON_GetObjectItemCaseSensitive(doc, "authorization_response_iss_parameter_supported"));
	return 0;
}

int oidc_discover(struct oidc *o, const char *issuer, struct oidc_provider *out, struct err *e)
{
	int allow_http = o->opts.net.allow_http_loopback, ret;
	struct oidc_issuer *it;
	struct buf url = BUF_INIT;
	cJSON *doc = NULL;
	size_t n;

	pthread_mutex_lock(&o->lock);
	it = issuer_get(o, issuer, 0);
	if (it && it->has_provider &&
	    o->opts.clock_ms() - it->provider_at < o->opts.discovery_ttl_s * 1000LL) {
		*out = it->provider;
		pthread_mutex_unlock(&o->lock);
		return 0;
	}
	pthread_mutex_unlock(&o->lock);

	if ((ret = oidc_url_check(issuer, allow_http, "issuer", e)))
		goto out;
	if (strchr(issuer, '?')) {
		ret = err_setc(e, ERR_INVALID, "invalid_url", "issuer",
			       "issuer: an issuer has no query");
		goto out;
	}
	/* OIDC Discovery §4: a trailing "/" is removed before the suffix. */
	n = strlen(issuer);
	buf_add(&url, issuer, n && issuer[n - 1] == '/' ? n - 1 : n);
	buf_adds(&url, WELL_KNOWN);
	if ((ret = get_json(o, url.p, "discovery document", &doc, e)) ||
	    (ret = doc_parse(doc, issuer, allow_http, out, e)))
		goto out;
	pthread_mutex_lock(&o->lock);
	it = issuer_get(o, issuer, 1);
	it->provider = *out;
	it->has_provider = 1;
	it->provider_at = o->opts.clock_ms();
	pthread_mutex_unlock(&o->lock);
out:
	cJSON_Delete(doc);
	buf_release(&url);
	return ret;
}

/* ---- JWKS ------------------------------------------------------------------------ */

/* The usable signing keys of a JWKS; keys of other kinds are skipped. */
static int jwks_parse(const cJSON *doc, struct oidc_key **out, int *n_out, struct err *e)
{
	const cJSON *keys = cJSON_GetObjectItemCaseSensitive(doc, "keys"), *jwk;
	struct oidc_key *k = NULL;
	int n = 0, ret = 0;

	if (!cJSON_IsArray(keys) || cJSON_GetArraySize(keys) > JWKS_KEYS_MAX) {
		ret = err_setc(e, ERR_UNAVAILABLE, "idp_bad_jwks", NULL,
			       "the provider's JWKS has no \"keys\" array of at most %d keys",
			       JWKS_KEYS_MAX);
		goto out;
	}
	k = xcalloc(JWKS_KEYS_MAX, sizeof(*k));
	cJSON_ArrayForEach(jwk, keys)
	{
		const cJSON *kid = cJSON_GetObjectItemCaseSensitive(jwk, "kid");
		struct err ke;
		if (kid && (!cJSON_IsString(kid) || strlen(kid->valuestring) >= OIDC_KID_MAX))
			continue;
		if (oidc_jwk_to_pem(jwk, &k[n].pem, &k[n].alg, &ke)) {
			if (ke.code != ERR_UNPROCESSABLE) { /* ours, not the provider's */
				*e = ke;
				ret = ke.code;
				goto out;
			}
			continue;
		}
		str_copy(k[n].kid, sizeof(k[n].kid), kid ? kid->valuestring : "");
		n++;
	}
	if (!n)
		ret = err_setc(e, ERR_UNAVAILABLE, "idp_bad_jwks", NULL,
			       "the provider's JWKS has no RS256 or ES256 signing key");
out:
	if (ret) {
		keys_free(k, n);
		k = NULL;
		n = 0;
	}
	*out = k;
	*n_out = n;
	return ret;
}

static int jwks_fetch(struct oidc *o, const char *uri, struct oidc_key **keys, int *n,
		      struct err *e)
{
	cJSON *doc = NULL;
	int ret = get_json(o, uri, "JWKS", &doc, e);
	*keys = NULL;
	*n = 0;
	if (!ret)
		ret = jwks_parse(doc, keys, n, e);
	cJSON_Delete(doc);
	return ret;
}

/* A token without kid may use the issuer's one key of its algorithm. */
static const struct oidc_key *key_find(const struct oidc_issuer *it, int alg, const char *kid)
{
	const struct oidc_key *only = NULL;
	int count = 0;
	for (int i = 0; i < it->n_keys; i++) {
		if (it->keys[i].alg != alg)
			continue;
		if (*kid && !strcmp(it->keys[i].kid, kid))
			return &it->keys[i];
		only = &it->keys[i];
		count++;
	}
	return !*kid && count == 1 ? only : NULL;
}

/* Fetch the issuer's JWKS with the lock released; it is marked fetching meanwhile. */
static int jwks_refresh(struct oidc *o, struct oidc_issuer *it, struct err *e)
{
	char uri[OIDC_URL_MAX + 1];
	struct oidc_key *keys = NULL;
	int n = 0, ret;
	it->fetching = 1;
	it->jwks_tried = 1;
	it->jwks_at = o->opts.clock_ms();
	o->jwks_fetches++;
	str_copy(uri, sizeof(uri), it->jwks_uri);
	pthread_mutex_unlock(&o->lock);
	ret = jwks_fetch(o, uri, &keys, &n, e);
	pthread_mutex_lock(&o->lock);
	it->fetching = 0; /* never evicted while fetching: it is still ours */
	if (!ret) {
		keys_free(it->keys, it->n_keys);
		it->keys = keys;
		it->n_keys = n;
	}
	pthread_cond_broadcast(&o->fetched);
	return ret;
}

/*
 * A copy of the PEM for (alg, kid) from p's issuer; fetches the JWKS when it
 * has none yet or the kid is unknown, subject to the rate limit.
 */
static int key_pem(struct oidc *o, const struct oidc_provider *p, int alg, const char *kid,
		   char **pem, struct err *e)
{
	const struct oidc_key *k;
	struct oidc_issuer *it;
	int64_t since;
	int ret;

	pthread_mutex_lock(&o->lock);
	for (;;) {
		it = issuer_get(o, p->issuer, 1);
		if (!it->fetching && strcmp(it->jwks_uri, p->jwks_uri)) {
			/* New discovery, new key source: the old keys no longer count. */
			keys_free(it->keys, it->n_keys);
			it->keys = NULL;
			it->n_keys = 0;
			it->jwks_tried = 0;
			str_copy(it->jwks_uri, sizeof(it->jwks_uri), p->jwks_uri);
		}
		if ((k = key_find(it, alg, kid))) {
			*pem = xstrdup(k->pem);
			ret = 0;
			break;
		}
		if (it->fetching) {
			pthread_cond_wait(&o->fetched, &o->lock);
			continue;
		}
		since = o->opts.clock_ms() - it->jwks_at;
		if (it->jwks_tried && since < o->opts.jwks_refetch_s * 1000LL) {
			ret = err_setc(e, ERR_UNAUTHORIZED, "invalid_token", NULL,
				       "invalid token: no %s signing key%s%.*s%s of the provider "
				       "matches (its keys were fetched %llds ago)",
				       oidc_alg_name(alg), *kid ? " \"" : "", 64, kid,
				       *kid ? "\"" : "", (long long)(since / 1000));
			break;
		}
		if ((ret = jwks_refresh(o, it, e)))
			break;
	}
	pthread_mutex_unlock(&o->lock);
	return ret;
}

/* ---- ID tokens ------------------------------------------------------------------- */

static int refuse(struct err *e, const char *why)
{
	return err_setc(e, ERR_UNAUTHORIZED, "invalid_token", NULL, "invalid ID token: %s", why);
}

/* What OIDC Core §3.1.3.7 adds to the JWT checks: azp, iat, sub, nonce. */
static int id_claims(const cJSON *c, const struct oidc_expect *x, struct err *e)
{
	const cJSON *aud = cJSON_GetObjectItemCaseSensitive(c, "aud");
	const cJSON *azp = cJSON_GetObjectItemCaseSensitive(c, "azp");
	const cJSON *sub = cJSON_GetObjectItemCaseSensitive(c, "sub");
	const cJSON *nonce = cJSON_GetObjectItemCaseSensitive(c, "nonce");
	size_t n;

	if ((cJSON_IsArray(aud) && cJSON_GetArraySize(aud) > 1 && !azp) ||
	    (azp && (!cJSON_IsString(azp) || strcmp(azp->valuestring, x->client_id))))
		return refuse(e, "azp is not our client id");
	if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(c, "iat")))
		return refuse(e, "no iat");
	if (!cJSON_IsString(sub) || !*sub->valuestring || strlen(sub->valuestring) > SUB_MAX)
		return refuse(e, "no usable sub");
	n = x->nonce ? strlen(x->nonce) : 0;
	if (!n || !cJSON_IsString(nonce) || strlen(nonce->valuestring) != n ||
	    !ct_equal(nonce->valuestring, x->nonce, n))
		return refuse(e, "the nonce is not the one this login sent");
	return 0;
}

int oidc_check_iss_param(const struct oidc_provider *p, const char *iss, struct err *e)
{
	if (iss ? strcmp(iss, p->issuer) != 0 : p->iss_parameter_supported)
		return err_setc(e, ERR_UNAUTHORIZED, "sso_issuer_mismatch", NULL,
				"the authorization response %s",
				iss ? "comes from another issuer" : "lacks the iss parameter");
	return 0;
}

int oidc_verify_id_token(struct oidc *o, const struct oidc_expect *x, const char *id_token,
			 cJSON **claims, struct err *e)
{
	static const char *const algs[] = { "RS256", "ES256", NULL };
	static const int alg_ids[] = { OIDC_RS256, OIDC_ES256 };
	char kid[OIDC_KID_MAX];
	char *pem = NULL;
	cJSON *c = NULL;
	int which = 0, ret;

	*claims = NULL;
	if ((ret = jwt_header_pick(id_token, algs, &which, kid, sizeof(kid), e)) ||
	    (ret = key_pem(o, x->provider, alg_ids[which], kid, &pem, e)) ||
	    (ret = jwt_verify_pinned(id_token, algs[which], (const unsigned char *)pem,
				     strlen(pem), 1, &c, e)) ||
	    (ret = jwt_check_claims(c, x->provider->issuer, x->client_id, x->now_s, x->leeway_s,
				    e)) ||
	    (ret = id_claims(c, x, e)))
		goto out;
	*claims = c;
	c = NULL;
out:
	cJSON_Delete(c);
	free(pem);
	return ret;
}
