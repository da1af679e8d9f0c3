/*
 * The OIDC relying party without a network: keys made here with mbedTLS,
 * published as a JWKS by an injected transport, ID tokens signed with libjwt
 * (as a provider would), and a clock the tests move.
 */
#include <stdarg.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jwt.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>

#include "auth/auth.h"
#include "core/core.h"
#include "tests/unit/test.h"

#define ISSUER    "https://idp.example"
#define JWKS_URI  "https://idp.example/jwks"
#define CLIENT    "parallax-client"
#define SECRET    "client-secret-0123456789abcdef-0123456789"
#define NONCE     "n-0S6_WzA2Mj"
#define NOW       1700000000LL

/* A test key: the private half as PEM (for signing) and the public as a JWK. */
struct test_key {
	char priv[8192];
	cJSON *jwk;
};

static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;
static struct test_key rsa_key, ec_key;

static void b64_member(cJSON *o, const char *name, const unsigned char *p, size_t n)
{
	char out[1400];
	b64url_encode(p, n, out);
	cJSON_AddStringToObject(o, name, out);
}

static void key_finish(mbedtls_pk_context *pk, struct test_key *k, cJSON *jwk, const char *kid)
{
	CHECK_INT(mbedtls_pk_write_key_pem(pk, (unsigned char *)k->priv, sizeof(k->priv)), 0);
	cJSON_AddStringToObject(jwk, "kid", kid);
	k->jwk = jwk;
}

static void make_rsa(struct test_key *k, const char *kid, unsigned bits)
{
	mbedtls_pk_context pk;
	unsigned char n[512], e[3];
	cJSON *jwk = cJSON_CreateObject();
	mbedtls_pk_init(&pk);
	mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA));
	CHECK_INT(mbedtls_rsa_gen_key(mbedtls_pk_rsa(pk), mbedtls_ctr_drbg_random, &drbg, bits,
				      65537),
		  0);
	CHECK_INT(mbedtls_rsa_export_raw(mbedtls_pk_rsa(pk), n, bits / 8, NULL, 0, NULL, 0, NULL,
					 0, e, sizeof(e)),
		  0);
	cJSON_AddStringToObject(jwk, "kty", "RSA");
	b64_member(jwk, "n", n, bits / 8);
	b64_member(jwk, "e", e, sizeof(e));
	key_finish(&pk, k, jwk, kid);
	mbedtls_pk_free(&pk);
}

static void make_ec(struct test_key *k, const char *kid)
{
	mbedtls_pk_context pk;
	unsigned char x[32], y[32];
	cJSON *jwk = cJSON_CreateObject();
	mbedtls_pk_init(&pk);
	mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
	CHECK_INT(mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(pk),
				      mbedtls_ctr_drbg_random, &drbg),
		  0);
	mbedtls_mpi_write_binary(&mbedtls_pk_ec(pk)->Q.X, x, sizeof(x));
	mbedtls_mpi_write_binary(&mbedtls_pk_ec(pk)->Q.Y, y, sizeof(y));
	cJSON_AddStringToObject(jwk, "kty", "EC");
	cJSON_AddStringToObject(jwk, "crv", "P-256");
	b64_member(jwk, "x", x, sizeof(x));
	b64_member(jwk, "y", y, sizeof(y));
	cJSON_AddStringToObject(jwk, "use", "sig");
	key_finish(&pk, k, jwk, kid);
	mbedtls_pk_free(&pk);
}

/* A token as a provider signs it: alg, kid and claims chosen by the test. */
static char *sign(const char *alg, const char *kid, const void *key, size_t keylen,
		  const char *claims)
{
	jwt_t *jwt = NULL;
	char *out = NULL;
	if (jwt_new(&jwt) || jwt_add_grants_json(jwt, claims) ||
	    (kid && jwt_add_header(jwt, "kid", kid)) ||
	    jwt_set_alg(jwt, jwt_str_alg(alg), key, (int)keylen))
		goto out;
	out = jwt_encode_str(jwt);
out:
	jwt_free(jwt);
	CHECK(out != NULL);
	return out;
}

static char *sign_rsa(const char *kid, const char *claims)
{
	return sign("RS256", kid, rsa_key.priv, strlen(rsa_key.priv), claims);
}

/* Claims with one member replaced (or added): member "" keeps them as they are. */
static char *claims_with(const char *member, const char *json_value)
{
	cJSON *c = cJSON_CreateObject();
	char *out;
	cJSON_AddStringToObject(c, "iss", ISSUER);
	cJSON_AddStringToObject(c, "aud", CLIENT);
	cJSON_AddStringToObject(c, "sub", "user-42");
	cJSON_AddStringToObject(c, "nonce", NONCE);
	cJSON_AddNumberToObject(c, "iat", (double)NOW - 10);
	cJSON_AddNumberToObject(c, "exp", (double)NOW + 300);
	if (*member) {
		cJSON_DeleteItemFromObjectCaseSensitive(c, member);
		cJSON_AddItemToObject(c, member, cJSON_Parse(json_value));
	}
	out = json_print(c);
	cJSON_Delete(c);
	return out;
}

/* ---- the injected provider ------------------------------------------------------ */

static struct {
	const char *discovery;     /* body of the discovery document */
	char *jwks;                /* body of the JWKS */
	long token_status;
	const char *token_body;
	int discovery_calls, jwks_calls, token_calls;
	int jwks_delay_ms;
	char last_form[1024], last_auth[256];
	int64_t clock;             /* monotonic ms */
} idp;

static int64_t fake_clock(void)
{
	return idp.clock;
}

static int fake_fetch(void *ctx, const struct oidc_http_req *req, long *status,
		      struct buf *body, struct err *e)
{
	(void)ctx;
	(void)e;
	*status = 200;
	if (!strcmp(req->url, ISSUER "/.well-known/openid-configuration")) {
		idp.discovery_calls++;
		buf_adds(body, idp.discovery);
	} else if (!strcmp(req->url, JWKS_URI)) {
		__atomic_add_fetch(&idp.jwks_calls, 1, __ATOMIC_SEQ_CST);
		if (idp.jwks_delay_ms) /* a slow provider: let the other threads pile up */
			usleep((useconds_t)idp.jwks_delay_ms * 1000);
		buf_adds(body, idp.jwks);
	} else if (!strcmp(req->url, ISSUER "/token") && req->form) {
		idp.token_calls++;
		str_copy(idp.last_form, sizeof(idp.last_form), req->form);
		str_copy(idp.last_auth, sizeof(idp.last_auth),
			 req->authorization ? req->authorization : "");
		*status = idp.token_status;
		buf_adds(body, idp.token_body);
	} else {
		*status = 404;
	}
	return 0;
}

#define DISCOVERY                                                                          \
	"{\"issuer\":\"" ISSUER "\",\"authorization_endpoint\":\"" ISSUER "/auth\","      \
	"\"token_endpoint\":\"" ISSUER "/token\",\"jwks_uri\":\"" JWKS_URI "\","           \
	"\"id_token_signing_alg_values_supported\":[\"RS256\",\"ES256\"],"                 \
	"\"authorization_response_iss_parameter_supported\":true}"

/* Publish these keys (NULL-terminated) as the provider's JWKS. */
static void publish(const struct test_key *k, ...)
{
	cJSON *set = cJSON_CreateObject(), *keys = cJSON_AddArrayToObject(set, "keys");
	va_list ap;
	/* An encryption key and a symmetric one, which must never verify. */
	cJSON_AddItemToArray(keys, cJSON_Parse("{\"kty\":\"oct\",\"kid\":\"hs\",\"k\":\"c2VjcmV0\"}"));
	va_start(ap, k);
	for (; k; k = va_arg(ap, const struct test_key *))
		cJSON_AddItemToArray(keys, cJSON_Duplicate(k->jwk, 1));
	va_end(ap);
	free(idp.jwks);
	idp.jwks = json_print(set);
	cJSON_Delete(set);
}

static void rp_init(struct oidc *o)
{
	struct oidc_opts opts = { .fetch = fake_fetch, .clock_ms = fake_clock };
	memset(&idp, 0, sizeof(idp));
	idp.discovery = DISCOVERY;
	idp.clock = 1000000;
	publish(&rsa_key, NULL);
	oidc_init(o, &opts);
}

static void rp_release(struct oidc *o)
{
	oidc_release(o);
	free(idp.jwks);
	idp.jwks = NULL;
}

static char last_refusal[ERR_MSG_MAX];

/* Refused, and for the reason expected. */
#define REFUSED(call, why)                                  \
	do {                                                \
		CHECK_INT(call, ERR_UNAUTHORIZED);          \
		CHECK(strstr(last_refusal, why) != NULL);   \
	} while (0)

/* Verify token as the callback would; 0 or the error code (last_refusal says why). */
static int verify(struct oidc *o, const char *token, const char *nonce)
{
	struct oidc_provider p;
	struct err e;
	cJSON *claims = NULL;
	int rc = oidc_discover(o, ISSUER, &p, &e);
	if (!rc) {
		struct oidc_expect x = { &p, CLIENT, nonce, NOW, 60 };
		rc = oidc_verify_id_token(o, &x, token, &claims, &e);
	}
	if (!rc)
		CHECK_STR(cJSON_GetObjectItem(claims, "sub")->valuestring, "user-42");
	str_copy(last_refusal, sizeof(last_refusal), rc ? e.msg : "");
	cJSON_Delete(claims);
	return rc;
}

/* ---- JWK to PEM ---------------------------------------------------------------- */

/* The PEM made from the JWK verifies what the private key signed. */
static void jwk_round_trip(const struct test_key *k, const char *alg, int want_alg)
{
	char *claims = claims_with("", NULL), *pem = NULL;
	char *tok = sign(alg, NULL, k->priv, strlen(k->priv), claims);
	cJSON *got = NULL;
	struct err e;
	int a = 0;
	CHECK_INT(oidc_jwk_to_pem(k->jwk, &pem, &a, &e), 0);
	CHECK_INT(a, want_alg);
	CHECK(pem && str_has_prefix(pem, "-----BEGIN PUBLIC KEY-----"));
	CHECK_INT(jwt_verify_pinned(tok, alg, (unsigned char *)pem, strlen(pem), 1, &got, &e), 0);
	CHECK_STR(cJSON_GetObjectItem(got, "nonce")->valuestring, NONCE);
	/* Nor does it verify a changed signature. */
	tok[strlen(tok) - 5] ^= 1;
	cJSON_Delete(got);
	CHECK_INT(jwt_verify_pinned(tok, alg, (unsigned char *)pem, strlen(pem), 1, &got, &e),
		  ERR_UNAUTHORIZED);
	free(pem);
	free(tok);
	free(claims);
}

TEST(rsa_jwk_becomes_a_pem_that_verifies)
{
	jwk_round_trip(&rsa_key, "RS256", OIDC_RS256);
}

TEST(ec_jwk_becomes_a_pem_that_verifies)
{
	jwk_round_trip(&ec_key, "ES256", OIDC_ES256);
}

TEST(unusable_jwks_are_refused)
{
	static const char *const cases[] = {
		"{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}",
		"{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"AA\",\"y\":\"AA\"}",
		"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAA\",\"y\":\"AAAA\"}",
		"{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}", /* 17 bits */
		"{\"kty\":\"RSA\",\"e\":\"AQAB\"}",
		"{\"kty\":\"RSA\",\"n\":\"!!\",\"e\":\"AQAB\"}",
		"[]",
	};
	struct err e;
	char *pem;
	int alg;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cJSON *j = cJSON_Parse(cases[i]);
		CHECK_INT(oidc_jwk_to_pem(j, &pem, &alg, &e), ERR_UNPROCESSABLE);
		CHECK(pem == NULL);
		cJSON_Delete(j);
	}
	/* A real key marked for encryption, or for another algorithm. */
	cJSON *j = cJSON_Duplicate(ec_key.jwk, 1);
	cJSON_ReplaceItemInObject(j, "use", cJSON_CreateString("enc"));
	CHECK_INT(oidc_jwk_to_pem(j, &pem, &alg, &e), ERR_UNPROCESSABLE);
	cJSON_ReplaceItemInObject(j, "use", cJSON_CreateString("sig"));
	cJSON_AddStringToObject(j, "alg", "ES384");
	CHECK_INT(oidc_jwk_to_pem(j, &pem, &alg, &e), ERR_UNPROCESSABLE);
	cJSON_Delete(j);
	/* A point off the curve. */
	j = cJSON_Duplicate(ec_key.jwk, 1);
	cJSON_ReplaceItemInObject(j, "y", cJSON_CreateString(cJSON_GetObjectItem(j, "x")->valuestring));
	CHECK_INT(oidc_jwk_to_pem(j, &pem, &alg, &e), ERR_UNPROCESSABLE);
	cJSON_Delete(j);
}

TEST(small_rsa_keys_are_refused)
{
	struct test_key small;
	struct err e;
	char *pem;
	int alg;
	make_rsa(&small, "small", 1024);
	CHECK_INT(oidc_jwk_to_pem(small.jwk, &pem, &alg, &e), ERR_UNPROCESSABLE);
	CHECK(strstr(e.msg, "1024-bit") != NULL);
	cJSON_Delete(small.jwk);
}

/* ---- discovery ------------------------------------------------------------------- */

TEST(discovery_is_checked_and_cached)
{
	struct oidc o;
	struct oidc_provider p;
	struct err e;
	rp_init(&o);
	CHECK_INT(oidc_discover(&o, ISSUER, &p, &e), 0);
	CHECK_STR(p.token_endpoint, ISSUER "/token");
	CHECK_STR(p.jwks_uri, JWKS_URI);
	CHECK_INT(p.iss_parameter_supported, 1);
	CHECK_INT(oidc_discover(&o, ISSUER, &p, &e), 0);
	CHECK_INT(idp.discovery_calls, 1);
	idp.clock += 3601 * 1000LL; /* past the TTL */
	CHECK_INT(oidc_discover(&o, ISSUER, &p, &e), 0);
	CHECK_INT(idp.discovery_calls, 2);
	rp_release(&o);
}

TEST(discovery_refuses_a_mixed_up_or_insecure_document)
{
	static const char *const docs[] = {
		/* another issuer (mix-up), a trailing slash, http endpoints */
		"{\"issuer\":\"https://evil.example\",\"authorization_endpoint\":\"https://a/\","
		"\"token_endpoint\":\"https://a/t\",\"jwks_uri\":\"https://a/k\"}",
		"{\"issuer\":\"" ISSUER "/\",\"authorization_endpoint\":\"https://a/\","
		"\"token_endpoint\":\"https://a/t\",\"jwks_uri\":\"https://a/k\"}",
		"{\"issuer\":\"" ISSUER "\",\"authorization_endpoint\":\"https://a/\","
		"\"token_endpoint\":\"http://a/t\",\"jwks_uri\":\"https://a/k\"}",
		"{\"issuer\":\"" ISSUER "\",\"authorization_endpoint\":\"https://a/\","
		"\"token_endpoint\":\"https://a/t\"}",
		"{\"issuer\":\"" ISSUER "\",\"authorization_endpoint\":\"https://a/\","
		"\"token_endpoint\":\"https://a/t\",\"jwks_uri\":\"https://a/k\","
		"\"id_token_signing_alg_values_supported\":[\"HS256\",\"none\"]}",
		"[1]",
	};
	struct oidc o;
	struct oidc_provider p;
	struct err e;
	for (size_t i = 0; i < ARRAY_SIZE(docs); i++) {
		rp_init(&o);
		idp.discovery = docs[i];
		CHECK_INT(oidc_discover(&o, ISSUER, &p, &e), ERR_UNAVAILABLE);
		rp_release(&o);
	}
	rp_init(&o);
	CHECK_INT(oidc_discover(&o, "http://idp.example", &p, &e), ERR_INVALID);
	CHECK_INT(idp.discovery_calls, 0);
	rp_release(&o);
}

TEST(iss_parameter_catches_a_mix_up)
{
	struct oidc_provider p = { .issuer = ISSUER, .iss_parameter_supported = 1 };
	struct err e;
	CHECK_INT(oidc_check_iss_param(&p, ISSUER, &e), 0);
	CHECK_INT(oidc_check_iss_param(&p, "https://attacker.example", &e), ERR_UNAUTHORIZED);
	CHECK_INT(oidc_check_iss_param(&p, ISSUER "/", &e), ERR_UNAUTHORIZED);
	CHECK_INT(oidc_check_iss_param(&p, NULL, &e), ERR_UNAUTHORIZED);
	p.iss_parameter_supported = 0; /* older providers send none; one sent must match */
	CHECK_INT(oidc_check_iss_param(&p, NULL, &e), 0);
	CHECK_INT(oidc_check_iss_param(&p, "https://attacker.example", &e), ERR_UNAUTHORIZED);
}

TEST(url_policy_allows_loopback_http_only_when_asked)
{
	struct err e;
	CHECK_INT(oidc_url_check("https://idp.example/x?y=1", 0, "issuer", &e), 0);
	CHECK_INT(oidc_url_check("http://127.0.0.1:9000", 0, "issuer", &e), ERR_INVALID);
	CHECK_INT(oidc_url_check("http://127.0.0.1:9000", 1, "issuer", &e), 0);
	CHECK_INT(oidc_url_check("http://localhost:9000/oidc", 1, "issuer", &e), 0);
	CHECK_INT(oidc_url_check("http://[::1]:9000/", 1, "issuer", &e), 0);
	CHECK_INT(oidc_url_check("http://idp.example", 1, "issuer", &e), ERR_INVALID);
	CHECK_INT(oidc_url_check("http://127.0.0.1.evil.example", 1, "issuer", &e), ERR_INVALID);
	CHECK_INT(oidc_url_check("https://user:pw@idp.example", 0, "issuer", &e), ERR_INVALID);
	CHECK_INT(oidc_url_check("https://idp.example/#frag", 0, "issuer", &e), ERR_INVALID);
	CHECK_INT(oidc_url_check("file:///etc/passwd", 1, "issuer", &e), ERR_INVALID);
	CHECK_INT(oidc_url_check("", 0, "issuer", &e), ERR_INVALID);
	CHECK_STR(e.field, "issuer");
}

/* ---- ID tokens ------------------------------------------------------------------ */

TEST(a_good_id_token_passes)
{
	struct oidc o;
	char *c = claims_with("", NULL), *t = sign_rsa("k1", c);
	rp_init(&o);
	CHECK_INT(verify(&o, t, NONCE), 0);
	CHECK_INT(idp.jwks_calls, 1);
	CHECK_INT(verify(&o, t, NONCE), 0); /* keys are cached */
	CHECK_INT(idp.jwks_calls, 1);
	rp_release(&o);
	free(t);
	free(c);
}

TEST(bad_claims_are_refused)
{
	static const char *const cases[][3] = {
		{ "iss", "\"https://evil.example\"", "issuer" },
		{ "aud", "\"another-client\"", "audience" },
		{ "aud", "[\"another-client\",\"" CLIENT "\"]", "azp" }, /* several, no azp */
		{ "azp", "\"another-client\"", "azp" },
		{ "exp", "1699999000", "expired" },
		{ "nbf", "1700000600", "not yet valid" },
		{ "iat", "1700000600", "issued in the future" },
		{ "iat", "\"1699999990\"", "iat" },
		{ "iat", "null", "iat" },
		{ "nonce", "\"another-nonce\"", "nonce" },
		{ "nonce", "null", "nonce" },
		{ "sub", "\"\"", "sub" },
	};
	struct oidc o;
	rp_init(&o);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *c = claims_with(cases[i][0], cases[i][1]), *t = sign_rsa("k1", c);
		CHECK_INT(verify(&o, t, NONCE), ERR_UNAUTHORIZED);
		if (!strstr(last_refusal, cases[i][2]))
			fprintf(stderr, "case %zu: refused for \"%s\", expected \"%s\"\n", i,
				last_refusal, cases[i][2]);
		CHECK(strstr(last_refusal, cases[i][2]) != NULL);
		free(t);
		free(c);
	}
	/* Several audiences pass when azp names us. */
	char *c = claims_with("aud", "[\"another-client\",\"" CLIENT "\"]");
	cJSON *j = cJSON_Parse(c);
	cJSON_AddStringToObject(j, "azp", CLIENT);
	char *c2 = json_print(j), *t = sign_rsa("k1", c2);
	CHECK_INT(verify(&o, t, NONCE), 0);
	REFUSED(verify(&o, t, "another-nonce-of-this-length"), "nonce");
	REFUSED(verify(&o, t, ""), "nonce");
	free(t);
	free(c2);
	free(c);
	cJSON_Delete(j);
	rp_release(&o);
}

TEST(foreign_algorithms_are_refused)
{
	struct oidc o;
	char *c = claims_with("", NULL), *t;
	char hdr[64], body[1024];
	struct buf none = BUF_INIT;
	rp_init(&o);
	/* HS256 keyed with the client secret: a classic when a library picks
	 * the algorithm from the token. */
	t = sign("HS256", "k1", SECRET, strlen(SECRET), c);
	REFUSED(verify(&o, t, NONCE), "algorithm");
	free(t);
	/* ... and keyed with the RSA public key's PEM (algorithm confusion). */
	char *pem;
	int alg;
	struct err e;
	CHECK_INT(oidc_jwk_to_pem(rsa_key.jwk, &pem, &alg, &e), 0);
	t = sign("HS256", "k1", pem, strlen(pem), c);
	REFUSED(verify(&o, t, NONCE), "algorithm");
	free(t);
	free(pem);
	/* alg none, with an empty and with a made-up signature. */
	b64url_encode((const unsigned char *)"{\"alg\":\"none\",\"kid\":\"k1\"}", 25, hdr);
	b64url_encode((const unsigned char *)c, strlen(c), body);
	buf_addf(&none, "%s.%s.", hdr, body);
	REFUSED(verify(&o, none.p, NONCE), "structure");
	buf_adds(&none, "c2ln");
	REFUSED(verify(&o, none.p, NONCE), "algorithm");
	/* RS384 with the right key is still not RS256. */
	t = sign("RS384", "k1", rsa_key.priv, strlen(rsa_key.priv), c);
	REFUSED(verify(&o, t, NONCE), "algorithm");
	free(t);
	/* The EC key's token claiming the RSA key's kid. */
	t = sign("ES256", "k1", ec_key.priv, strlen(ec_key.priv), c);
	REFUSED(verify(&o, t, NONCE), "no ES256 signing key \"k1\"");
	free(t);
	buf_release(&none);
	free(c);
	rp_release(&o);
}

TEST(unknown_kid_refetches_at_most_once_a_minute)
{
	struct oidc o;
	char *c = claims_with("", NULL);
	char *old = sign_rsa("k1", c);
	char *rotated = sign("ES256", "ec1", ec_key.priv, strlen(ec_key.priv), c);
	char *forged = sign("ES256", "nope", ec_key.priv, strlen(ec_key.priv), c);
	rp_init(&o);
	CHECK_INT(verify(&o, old, NONCE), 0);
	CHECK_INT(idp.jwks_calls, 1);
	/* The provider rotates 10 s later: its new kid is not ours yet, and
	 * the last fetch is too recent to fetch again. */
	publish(&rsa_key, &ec_key, NULL);
	idp.clock += 10 * 1000;
	REFUSED(verify(&o, rotated, NONCE), "no ES256 signing key \"ec1\"");
	CHECK_INT(idp.jwks_calls, 1);
	/* A minute after the fetch the unknown kid fetches again and passes. */
	idp.clock += 51 * 1000;
	CHECK_INT(verify(&o, rotated, NONCE), 0);
	CHECK_INT(idp.jwks_calls, 2);
	CHECK_INT(verify(&o, old, NONCE), 0);
	/* A stream of made-up kids costs one fetch a minute, no more. */
	for (int i = 0; i < 20; i++) {
		idp.clock += 1000;
		REFUSED(verify(&o, forged, NONCE), "no ES256 signing key \"nope\"");
	}
	CHECK_INT(idp.jwks_calls, 2);
	idp.clock += 60 * 1000;
	REFUSED(verify(&o, forged, NONCE), "no ES256 signing key");
	CHECK_INT(idp.jwks_calls, 3);
	CHECK_INT((long long)o.jwks_fetches, 3);
	free(old);
	free(rotated);
	free(forged);
	free(c);
	rp_release(&o);
}

struct racer {
	struct oidc *o;
	const char *token;
	struct oidc_provider p;
	int rc;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	struct oidc_expect x = { &r->p, CLIENT, NONCE, NOW, 60 };
	struct err e;
	cJSON *claims = NULL;
	r->rc = oidc_verify_id_token(r->o, &x, r->token, &claims, &e);
	cJSON_Delete(claims);
	return NULL;
}

TEST(concurrent_unknown_kids_share_one_fetch)
{
	struct oidc o;
	struct err e;
	struct racer r[8];
	pthread_t th[8];
	char *c = claims_with("", NULL);
	char *old = sign_rsa("k1", c);
	char *rotated = sign("ES256", "ec1", ec_key.priv, strlen(ec_key.priv), c);
	rp_init(&o);
	CHECK_INT(verify(&o, old, NONCE), 0);
	publish(&rsa_key, &ec_key, NULL);
	idp.clock += 61 * 1000;
	idp.jwks_delay_ms = 100;
	for (int i = 0; i < 8; i++) {
		r[i].o = &o;
		r[i].token = rotated;
		CHECK_INT(oidc_discover(&o, ISSUER, &r[i].p, &e), 0);
		pthread_create(&th[i], NULL, race, &r[i]);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		CHECK_INT(r[i].rc, 0);
	}
	CHECK_INT(idp.jwks_calls, 2);
	free(old);
	free(rotated);
	free(c);
	rp_release(&o);
}

TEST(a_token_without_kid_uses_the_one_key_of_its_kind)
{
	struct oidc o;
	char *c = claims_with("", NULL), *t = sign_rsa(NULL, c);
	struct test_key second;
	rp_init(&o);
	CHECK_INT(verify(&o, t, NONCE), 0);
	rp_release(&o);
	/* With two RSA keys there is no telling which one is meant. */
	second = rsa_key;
	second.jwk = cJSON_Duplicate(rsa_key.jwk, 1);
	cJSON_ReplaceItemInObject(second.jwk, "kid", cJSON_CreateString("k2"));
	rp_init(&o);
	publish(&rsa_key, &second, NULL);
	REFUSED(verify(&o, t, NONCE), "no RS256 signing key");
	rp_release(&o);
	cJSON_Delete(second.jwk);
	free(t);
	free(c);
}

/* ---- PKCE and the code exchange --------------------------------------------------- */

TEST(pkce_s256_matches_rfc7636_appendix_b)
{
	char ch[OIDC_RANDOM_SIZE], a[OIDC_RANDOM_SIZE], b[OIDC_RANDOM_SIZE];
	struct err e;
	CHECK_INT(oidc_pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", ch, &e), 0);
	CHECK_STR(ch, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	CHECK_INT(oidc_pkce_s256("too-short", ch, &e), ERR_INVALID);
	CHECK_INT(oidc_pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX+", ch, &e),
		  ERR_INVALID);
	oidc_random(a);
	oidc_random(b);
	CHECK_INT(strlen(a), 43);
	CHECK(strcmp(a, b) != 0);
	CHECK_INT(oidc_pkce_s256(a, ch, &e), 0);
}

static int exchange(struct oidc *o, int client_auth, char **id_token, struct err *e)
{
	struct oidc_provider p;
	int rc = oidc_discover(o, ISSUER, &p, e);
	struct oidc_code_exchange x = {
		&p, "code/with+odd&chars", "https://px.example/sso/callback",
		"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", CLIENT, "s3cr:t", client_auth
	};
	return rc ? rc : oidc_exchange_code(o, &x, id_token, e);
}

TEST(code_exchange_sends_the_verifier_and_authenticates_the_client)
{
	struct oidc o;
	struct err e;
	char *idt = NULL;
	rp_init(&o);
	idp.token_status = 200;
	idp.token_body = "{\"access_token\":\"at\",\"token_type\":\"bearer\",\"id_token\":\"a.b.c\"}";
	CHECK_INT(exchange(&o, OIDC_AUTH_BASIC, &idt, &e), 0);
	CHECK_STR(idt, "a.b.c");
	CHECK_STR(idp.last_form, "grant_type=authorization_code&code=code%2Fwith%2Bodd%26chars"
				 "&redirect_uri=https%3A%2F%2Fpx.example%2Fsso%2Fcallback"
				 "&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
	/* base64("parallax-client:s3cr%3At"): the secret is form-encoded first. */
	CHECK_STR(idp.last_auth, "Basic cGFyYWxsYXgtY2xpZW50OnMzY3IlM0F0");
	free(idt);
	CHECK_INT(exchange(&o, OIDC_AUTH_POST, &idt, &e), 0);
	CHECK(strstr(idp.last_form, "&client_id=parallax-client&client_secret=s3cr%3At") != NULL);
	CHECK_STR(idp.last_auth, "");
	free(idt);

	idp.token_status = 400;
	idp.token_body = "{\"error\":\"invalid_grant\",\"error_description\":\"<script>\"}";
	CHECK_INT(exchange(&o, OIDC_AUTH_BASIC, &idt, &e), ERR_UNAUTHORIZED);
	CHECK(strstr(e.msg, "invalid_grant") && !strstr(e.msg, "script"));
	CHECK(idt == NULL);
	idp.token_status = 200;
	idp.token_body = "{\"access_token\":\"at\",\"token_type\":\"Bearer\"}";
	CHECK_INT(exchange(&o, OIDC_AUTH_BASIC, &idt, &e), ERR_UNAVAILABLE);
	idp.token_status = 502;
	idp.token_body = "<html>";
	CHECK_INT(exchange(&o, OIDC_AUTH_BASIC, &idt, &e), ERR_UNAVAILABLE);
	CHECK_INT(idp.token_calls, 5);
	rp_release(&o);
}

/* ---- the libcurl transport, against a one-shot loopback server ----------------------- */

struct one_shot {
	int fd, port;
	const char *reply; /* the whole HTTP response */
	char request[4096];
};

static void *serve_one(void *arg)
{
	struct one_shot *s = arg;
	size_t got = 0;
	ssize_t n;
	int c = accept(s->fd, NULL, NULL);
	if (c < 0)
		return NULL;
	/* Headers, then whatever body arrived with them: enough for a short form. */
	while (got < sizeof(s->request) - 1 &&
	       (n = recv(c, s->request + got, sizeof(s->request) - 1 - got, 0)) > 0) {
		got += (size_t)n;
		s->request[got] = '\0';
		char *end = strstr(s->request, "\r\n\r\n");
		char *cl = strstr(s->request, "Content-Length: ");
		if (end && (!cl || strlen(end + 4) >= (size_t)atoi(cl + 16)))
			break;
	}
	send(c, s->reply, strlen(s->reply), MSG_NOSIGNAL);
	close(c);
	return NULL;
}

static void one_shot_start(struct one_shot *s, pthread_t *th, const char *reply)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	memset(s, 0, sizeof(*s));
	s->reply = reply;
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK_INT(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	CHECK_INT(listen(s->fd, 1), 0);
	getsockname(s->fd, (struct sockaddr *)&a, &len);
	s->port = ntohs(a.sin_port);
	pthread_create(th, NULL, serve_one, s);
}

static void one_shot_stop(struct one_shot *s, pthread_t th)
{
	shutdown(s->fd, SHUT_RDWR); /* wakes accept() when no request came */
	pthread_join(th, NULL);
	close(s->fd);
}

static int refuse_all(void *ctx, const struct sockaddr *sa)
{
	(void)ctx;
	(void)sa;
	return 0;
}

static int http_get(struct one_shot *s, struct oidc_net *net, const char *reply, long *status,
		    struct buf *body, struct err *e)
{
	pthread_t th;
	char url[64];
	int rc;
	one_shot_start(s, &th, reply);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/.well-known/x", s->port);
	const struct oidc_http_req req = { url, NULL, NULL };
	rc = oidc_http_fetch(net, &req, status, body, e);
	one_shot_stop(s, th);
	return rc;
}

#define HTTP_OK(body) "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n" \
		      "Content-Length: " #body "\r\n\r\n"

TEST(curl_transport_is_bounded_and_loopback_http_is_opt_in)
{
	struct oidc_net net = OIDC_NET_DEFAULT;
	struct one_shot s;
	struct buf body = BUF_INIT;
	struct err e;
	long status = 0;
	char big[600];

	net.allow_http_loopback = 1;
	net.timeout_ms = 5000;
	CHECK_INT(http_get(&s, &net, HTTP_OK(11) "{\"ok\":true}", &status, &body, &e), 0);
	CHECK_INT(status, 200);
	CHECK_STR(body.p, "{\"ok\":true}");
	CHECK(strstr(s.request, "GET /.well-known/x HTTP/1.1") == s.request);
	/* Larger than max_bytes: refused, whether or not the length is announced. */
	net.max_bytes = 100;
	buf_reset(&body);
	snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n%0400d", 0);
	CHECK_INT(http_get(&s, &net, big, &status, &body, &e), ERR_UNAVAILABLE);
	CHECK_STR(e.slug, "idp_response_too_large");
	/* The SSRF hook refuses the socket: no request reaches the server. */
	net.max_bytes = 4096;
	net.addr_allowed = refuse_all;
	CHECK_INT(http_get(&s, &net, HTTP_OK(2) "{}", &status, &body, &e), ERR_UNAVAILABLE);
	CHECK_STR(s.request, "");
	/* Without the switch, plain http is refused before any connection. */
	net.addr_allowed = NULL;
	net.allow_http_loopback = 0;
	CHECK_INT(http_get(&s, &net, HTTP_OK(2) "{}", &status, &body, &e), ERR_INVALID);
	CHECK_STR(s.request, "");
	buf_release(&body);
}

TEST(curl_transport_posts_the_form_with_its_authorization)
{
	struct oidc_net net = OIDC_NET_DEFAULT;
	struct one_shot s;
	struct buf body = BUF_INIT;
	struct err e;
	pthread_t th;
	long status = 0;
	char url[64];
	net.allow_http_loopback = 1;
	one_shot_start(&s, &th, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n"
				 "Content-Length: 2\r\n\r\n{}");
	snprintf(url, sizeof(url), "http://localhost:%d/token", s.port);
	const struct oidc_http_req req = { url, "grant_type=authorization_code&code=c",
					   "Basic Zm9vOmJhcg==" };
	CHECK_INT(oidc_http_fetch(&net, &req, &status, &body, &e), 0);
	one_shot_stop(&s, th);
	CHECK_INT(status, 400);
	CHECK(strstr(s.request, "POST /token HTTP/1.1") == s.request);
	CHECK(strstr(s.request, "\r\nAuthorization: Basic Zm9vOmJhcg==\r\n") != NULL);
	CHECK(strstr(s.request, "application/x-www-form-urlencoded") != NULL);
	CHECK(strstr(s.request, "\r\n\r\ngrant_type=authorization_code&code=c") != NULL);
	buf_release(&body);
}

static void keys_init(void)
{
	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
			      (const unsigned char *)"oidc-test", 9);
	make_rsa(&rsa_key, "k1", 2048);
	make_ec(&ec_key, "ec1");
}

static const struct test_case cases[] = {
	TEST_ENTRY(rsa_jwk_becomes_a_pem_that_verifies),
	TEST_ENTRY(ec_jwk_becomes_a_pem_that_verifies),
	TEST_ENTRY(unusable_jwks_are_refused),
	TEST_ENTRY(small_rsa_keys_are_refused),
	TEST_ENTRY(discovery_is_checked_and_cached),
	TEST_ENTRY(discovery_refuses_a_mixed_up_or_insecure_document),
	TEST_ENTRY(iss_parameter_catches_a_mix_up),
	TEST_ENTRY(url_policy_allows_loopback_http_only_when_asked),
	TEST_ENTRY(a_good_id_token_passes),
	TEST_ENTRY(bad_claims_are_refused),
	TEST_ENTRY(foreign_algorithms_are_refused),
	TEST_ENTRY(unknown_kid_refetches_at_most_once_a_minute),
	TEST_ENTRY(concurrent_unknown_kids_share_one_fetch),
	TEST_ENTRY(a_token_without_kid_uses_the_one_key_of_its_kind),
	TEST_ENTRY(pkce_s256_matches_rfc7636_appendix_b),
	TEST_ENTRY(curl_transport_is_bounded_and_loopback_http_is_opt_in),
	TEST_ENTRY(curl_transport_posts_the_form_with_its_authorization),
	TEST_ENTRY(code_exchange_sends_the_verifier_and_authenticates_the_client),
};

int main(void)
{
	int rc;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	keys_init();
	rc = test_run_all(cases, ARRAY_SIZE(cases));
	cJSON_Delete(rsa_key.jwk);
	cJSON_Delete(ec_key.jwk);
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&entropy);
	curl_global_cleanup();
	return rc;
}
