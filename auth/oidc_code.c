/*
 * The front and back of an authorization-code login: the per-login random
 * values (state, nonce, PKCE code_verifier), the S256 challenge (RFC 7636),
 * and the code exchange at the token endpoint with client_secret_basic or
 * client_secret_post (RFC 6749 §2.3.1). The code, the verifier, the secret
 * and the tokens that come back are wiped from our buffers after use.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/oidc_internal.h"
#include "core/core.h"

#define CODE_MAX     2048
#define ID_TOKEN_MAX 16384
#define OAUTH_ERR_MAX 64

void oidc_random(char out[OIDC_RANDOM_SIZE])
{
	random_token(out, OIDC_RANDOM_SIZE, 32); /* 256 bits: 43 characters */
}

static int unreserved(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

int oidc_pkce_s256(const char *verifier, char out[OIDC_RANDOM_SIZE], struct err *e)
{
	unsigned char hash[crypto_hash_sha256_BYTES];
	size_t n = verifier ? strlen(verifier) : 0;
	out[0] = '\0';
	if (n < 43 || n > 128)
		return err_set(e, ERR_INVALID, "code_verifier",
			       "a code_verifier has 43 to 128 characters");
	for (size_t i = 0; i < n; i++)
		if (!unreserved(verifier[i]))
			return err_set(e, ERR_INVALID, "code_verifier",
				       "a code_verifier has only A-Z a-z 0-9 - . _ ~");
	crypto_hash_sha256(hash, (const unsigned char *)verifier, n);
	b64url_encode(hash, sizeof(hash), out);
	return 0;
}

/* application/x-www-form-urlencoded, every byte but the unreserved escaped. */
static void form_escape(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (unreserved((char)c)) {
			buf_addch(b, (char)c);
		} else {
			buf_addch(b, '%');
			buf_addch(b, hex[c >> 4]);
			buf_addch(b, hex[c & 15]);
		}
	}
}

static void form_add(struct buf *b, const char *name, const char *value)
{
	if (b->len)
		buf_addch(b, '&');
	buf_adds(b, name);
	buf_addch(b, '=');
	form_escape(b, value);
}

/* "Basic " + base64(escape(id) ":" escape(secret)), as §2.3.1 asks. */
static void basic_auth(struct buf *out, const char *id, const char *secret)
{
	struct buf pair = BUF_INIT;
	size_t cap;
	form_escape(&pair, id);
	buf_addch(&pair, ':');
	form_escape(&pair, secret);
	cap = sodium_base64_encoded_len(pair.len, sodium_base64_VARIANT_ORIGINAL);
	buf_adds(out, "Basic ");
	buf_grow(out, cap);
	sodium_bin2base64(out->p + out->len, cap, (const unsigned char *)pair.p, pair.len,
			  sodium_base64_VARIANT_ORIGINAL);
	out->len += strlen(out->p + out->len);
	sodium_memzero(pair.p, pair.len);
	buf_release(&pair);
}

static int exchange_check(const struct oidc *o, const struct oidc_code_exchange *x,
			  struct err *e)
{
	char challenge[OIDC_RANDOM_SIZE];
	int rc;
	if ((rc = oidc_url_check(x->provider->token_endpoint, o->opts.net.allow_http_loopback,
				 "token_endpoint", e)))
		return rc;
	if (!x->code || !*x->code || strlen(x->code) > CODE_MAX)
		return err_set(e, ERR_INVALID, "code", "the authorization code is missing or too long");
	if (!x->client_id || !*x->client_id || !x->client_secret || !x->redirect_uri)
		return err_set(e, ERR_INVALID, NULL, "client id, secret and redirect URI are required");
	return oidc_pkce_s256(x->code_verifier, challenge, e);
}

/* The provider's OAuth error code, if it is a plain token (RFC 6749 §5.2). */
static const char *oauth_error(const cJSON *doc)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, "error");
	size_t n;
	if (!cJSON_IsString(v) || !(n = strlen(v->valuestring)) || n > OAUTH_ERR_MAX)
		return "unknown";
	for (size_t i = 0; i < n; i++)
		if (!((v->valuestring[i] >= 'a' && v->valuestring[i] <= 'z') ||
		      v->valuestring[i] == '_'))
			return "unknown";
	return v->valuestring;
}

/* The id_token of a token response (RFC 6749 §5.1, OIDC Core §3.1.3.3). */
static int token_response(const cJSON *doc, long status, char **id_token, struct err *e)
{
	const cJSON *tt = cJSON_GetObjectItemCaseSensitive(doc, "token_type");
	const cJSON *idt = cJSON_GetObjectItemCaseSensitive(doc, "id_token");
	if (status == 400 || status == 401)
		return err_setc(e, ERR_UNAUTHORIZED, "sso_code_refused", NULL,
				"the identity provider refused the code: %s", oauth_error(doc));
	if (status != 200 || !cJSON_IsObject(doc))
		return err_setc(e, ERR_UNAVAILABLE, "idp_bad_response", NULL,
				"the token endpoint answered HTTP %ld%s", status,
				cJSON_IsObject(doc) ? "" : " without JSON");
	if (!cJSON_IsString(tt) || !str_eq_nocase(tt->valuestring, "Bearer"))
		return err_setc(e, ERR_UNAVAILABLE, "idp_bad_response", NULL,
				"the token response's token_type is not Bearer");
	if (!cJSON_IsString(idt) || !*idt->valuestring || strlen(idt->valuestring) > ID_TOKEN_MAX)
		return err_setc(e, ERR_UNAVAILABLE, "idp_bad_response", NULL,
				"the token response has no id_token");
	*id_token = xstrdup(idt->valuestring);
	return 0;
}

static void wipe_strings(cJSON *doc)
{
	cJSON *v;
	cJSON_ArrayForEach(v, doc) if (cJSON_IsString(v))
		sodium_memzero(v->valuestring, strlen(v->valuestring));
}

int oidc_exchange_code(struct oidc *o, const struct oidc_code_exchange *x, char **id_token,
		       struct err *e)
{
	struct buf form = BUF_INIT, auth = BUF_INIT;
	struct oidc_http_req req = { x->provider->token_endpoint, NULL, NULL };
	cJSON *doc = NULL;
	long status = 0;
	int ret;

	*id_token = NULL;
	if ((ret = exchange_check(o, x, e)))
		goto out;
	form_add(&form, "grant_type", "authorization_code");
	form_add(&form, "code", x->code);
	form_add(&form, "redirect_uri", x->redirect_uri);
	form_add(&form, "code_verifier", x->code_verifier);
	if (x->client_auth == OIDC_AUTH_POST) {
		form_add(&form, "client_id", x->client_id);
		form_add(&form, "client_secret", x->client_secret);
	} else {
		basic_auth(&auth, x->client_id, x->client_secret);
		req.authorization = auth.p;
	}
	req.form = form.p;
	if ((ret = oidc_call(o, &req, &status, &doc, e)))
		goto out;
	ret = token_response(doc, status, id_token, e);
out:
	wipe_strings(doc); /* access and refresh tokens, which we do not keep */
	cJSON_Delete(doc);
	sodium_memzero(form.p, form.len);
	sodium_memzero(auth.p, auth.len);
	buf_release(&form);
	buf_release(&auth);
	return ret;
}
