/*
 * A guarded wrapper around libjwt 1.10, which on its own accepts forged
 * tokens (alg confusion, "none" with a NULL key, no exp check). Before libjwt
 * sees a token we check its shape and header ourselves: three base64url
 * parts, a bounded size, the one pinned algorithm, and none of the headers
 * that point at other keys (jku, x5u, x5c, jwk, crit; kid only when the
 * caller resolves keys itself). After decoding we compare jwt_get_alg() with
 * the pin, then check every time claim with typed JSON, never trusting
 * libjwt's integer getters (which turn a string "exp" into 0).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>
#include <sodium.h>

#include "auth/auth.h"
#include "core/core.h"

#define JWT_MAX_LEN 8192
#define JWT_MAX_TIME 32503680000LL /* year 3000: larger is refused */

static int bad(struct err *e, const char *why)
{
	return err_setc(e, ERR_UNAUTHORIZED, "invalid_token", NULL, "invalid token: %s", why);
}

/* Decode one base64url part and parse it with our limits (depth, UTF-8,
 * no escaped NUL). */
static cJSON *b64_json(const char *p, size_t n, int max_depth)
{
	size_t cap = n * 3 / 4 + 4, len = 0;
	unsigned char *raw = xmalloc(cap);
	cJSON *j = NULL;
	struct err e;
	if (!sodium_base642bin(raw, cap - 1, p, n, NULL, &len, NULL,
			       sodium_base64_VARIANT_URLSAFE_NO_PADDING))
		j = json_parse((const char *)raw, len, max_depth, &e);
	free(raw);
	return j;
}

/* Shape and header checks, before any cryptography. */
static int jwt_precheck(const char *token, const char *const *algs, int *which, int allow_kid,
			char *kid, size_t kidsz, struct err *e)
{
	static const char *const refused[] = { "jku", "x5u", "x5c", "jwk", "crit", NULL };
	size_t n = strlen(token);
	const char *d1, *d2;
	int ret = 0;
	if (n == 0 || n > JWT_MAX_LEN)
		return bad(e, "size");
	for (size_t i = 0; i < n; i++) {
		char c = token[i];
		if (!(c == '-' || c == '_' || c == '.' || (c >= '0' && c <= '9') ||
		      (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return bad(e, "characters");
	}
	d1 = strchr(token, '.');
	d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	if (!d1 || !d2 || strchr(d2 + 1, '.') || d2[1] == '\0' || d1 == token)
		return bad(e, "structure");
	/* libjwt parses the payload with jansson (recursive, 2048 levels deep)
	 * before it checks the signature: a deeply nested payload would
	 * overflow a worker's stack. So the payload passes our parser first. */
	cJSON *payload = b64_json(d1 + 1, (size_t)(d2 - d1 - 1), 16);
	if (!cJSON_IsObject(payload)) {
		cJSON_Delete(payload);
		return bad(e, "payload");
	}
	cJSON_Delete(payload);
	cJSON *h = b64_json(token, (size_t)(d1 - token), 8);
	const cJSON *a = h ? cJSON_GetObjectItemCaseSensitive(h, "alg") : NULL;
	int pick = 0; /* the pinned algorithm the header names, if any */
	while (algs[pick] && cJSON_IsString(a) && strcmp(a->valuestring, algs[pick]))
		pick++;
	if (!cJSON_IsObject(h) || !cJSON_IsString(a) || !algs[pick]) {
		ret = bad(e, "algorithm");
		goto out;
	}
	if (which)
		*which = pick;
	for (int i = 0; refused[i]; i++)
		if (cJSON_HasObjectItem(h, refused[i])) {
			ret = bad(e, "header");
			goto out;
		}
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(h, "kid");
	/* kidsz bounds the copy; jwt_verify_pinned asks for none. */
	if (k && (!allow_kid || !cJSON_IsString(k) || (kid && strlen(k->valuestring) >= kidsz))) {
		ret = bad(e, "kid");
		goto out;
	}
	if (kid)
		str_copy(kid, kidsz, k ? k->valuestring : "");
out:
	cJSON_Delete(h);
	return ret;
}

int jwt_verify_pinned(const char *token, const char *alg, const unsigned char *key,
		      size_t keylen, int allow_kid, cJSON **claims, struct err *e)
{
	jwt_t *jwt = NULL;
	char *json = NULL;
	int ret;
	*claims = NULL;
	if (!key || !keylen)
		return bad(e, "no key"); /* never hand libjwt a NULL key */
	const char *const pin[] = { alg, NULL };
	if ((ret = jwt_precheck(token, pin, NULL, allow_kid, NULL, 0, e)))
		return ret;
	if (jwt_decode(&jwt, token, key, (int)keylen) || !jwt) {
		ret = bad(e, "signature");
		goto out;
	}
	if (jwt_get_alg(jwt) != jwt_str_alg(alg)) {
		ret = bad(e, "algorithm");
		goto out;
	}
	json = jwt_get_grants_json(jwt, NULL);
	*claims = json ? json_parse(json, strlen(json), 16, e) : NULL;
	if (!cJSON_IsObject(*claims)) {
		cJSON_Delete(*claims);
		*claims = NULL;
		ret = bad(e, "claims");
	}
out:
	free(json);
	jwt_free(jwt);
	return ret;
}

int jwt_header_kid(const char *token, const char *alg, char *kid, size_t kidsz, struct err *e)
{
	const char *const pin[] = { alg, NULL };
	return jwt_precheck(token, pin, NULL, 1, kid, kidsz, e);
}

int jwt_header_pick(const char *token, const char *const *algs, int *which, char *kid,
		    size_t kidsz, struct err *e)
{
	return jwt_precheck(token, algs, which, 1, kid, kidsz, e);
}

/* A NumericDate claim: a finite integer in a sane range. 1 absent, 0 ok, <0 bad. */
static int time_claim(const cJSON *c, const char *name, int64_t *out, struct err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, name);
	if (!v)
		return 1;
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0 ||
	    v->valuedouble > (double)JWT_MAX_TIME || v->valuedouble != floor(v->valuedouble))
		return bad(e, name);
	*out = (int64_t)v->valuedouble;
	return 0;
}

static int aud_matches(const cJSON *aud, const char *want)
{
	const cJSON *it;
	if (cJSON_IsString(aud))
		return !strcmp(aud->valuestring, want);
	if (!cJSON_IsArray(aud))
		return 0;
	cJSON_ArrayForEach(it, aud) if (cJSON_IsString(it) && !strcmp(it->valuestring, want)) return 1;
	return 0;
}

int jwt_check_claims(const cJSON *c, const char *iss, const char *aud, int64_t now,
		     int leeway_s, struct err *e)
{
	int64_t exp = 0, nbf = 0, iat = 0;
	int rc;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "iss");
	if (!cJSON_IsString(v) || strcmp(v->valuestring, iss))
		return bad(e, "issuer");
	if (!aud_matches(cJSON_GetObjectItemCaseSensitive(c, "aud"), aud))
		return bad(e, "audience");
	if ((rc = time_claim(c, "exp", &exp, e)) < 0)
		return rc;
	if (rc == 1)
		return bad(e, "no expiry");
	if (now > exp + leeway_s)
		return err_setc(e, ERR_UNAUTHORIZED, "token_expired", NULL, "token expired");
	if ((rc = time_claim(c, "nbf", &nbf, e)) < 0)
		return rc;
	if (rc == 0 && nbf > now + leeway_s)
		return bad(e, "not yet valid");
	if ((rc = time_claim(c, "iat", &iat, e)) < 0)
		return rc;
	if (rc == 0 && iat > now + leeway_s)
		return bad(e, "issued in the future");
	return 0;
}

char *jwt_sign(const char *alg, const unsigned char *key, size_t keylen, const cJSON *claims)
{
	jwt_t *jwt = NULL;
	char *json = NULL, *out = NULL;
	if (!key || !keylen || jwt_new(&jwt))
		goto out;
	json = json_print(claims);
	if (jwt_add_grants_json(jwt, json) || jwt_set_alg(jwt, jwt_str_alg(alg), key, (int)keylen))
		goto out;
	out = jwt_encode_str(jwt);
out:
	cJSON_free(json);
	jwt_free(jwt);
	return out;
}
