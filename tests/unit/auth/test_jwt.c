/* The guarded JWT wrapper against forged and malformed tokens. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/auth.h"
#include "core/core.h"
#include "tests/unit/test.h"

static const unsigned char key[32] = "0123456789abcdef0123456789abcdef";

static char *b64(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(n * 2 + 4);
	b64url_encode((const unsigned char *)s, n, out);
	return out;
}

/* header.payload.signature with an HMAC-SHA256 over the first two parts. */
static char *forge(const char *header, const char *payload, const unsigned char *k, size_t klen)
{
	char *h = b64(header), *p = b64(payload);
	struct buf b = BUF_INIT;
	unsigned char mac[32];
	char sig[64];
	buf_addf(&b, "%s.%s", h, p);
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, k, klen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)b.p, b.len);
	crypto_auth_hmacsha256_final(&st, mac);
	b64url_encode(mac, sizeof(mac), sig);
	buf_addf(&b, ".%s", sig);
	free(h);
	free(p);
	return buf_detach(&b, NULL);
}

static int verify(const char *tok)
{
	cJSON *c = NULL;
	struct err e;
	int rc = jwt_verify_pinned(tok, "HS256", key, sizeof(key), 0, &c, &e);
	if (!rc)
		rc = jwt_check_claims(c, "iss", "aud", 1000000, 60, &e);
	cJSON_Delete(c);
	return rc;
}

#define HDR "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define OK_CLAIMS "{\"iss\":\"iss\",\"aud\":\"aud\",\"exp\":1000100,\"iat\":999000}"

TEST(valid_token_passes)
{
	char *t = forge(HDR, OK_CLAIMS, key, sizeof(key));
	CHECK_INT(verify(t), 0);
	free(t);
}

TEST(forgeries_are_refused)
{
	static const char *const cases[][2] = {
		{ "{\"alg\":\"none\"}", OK_CLAIMS },
		{ "{\"alg\":\"HS512\"}", OK_CLAIMS },
		{ "{\"alg\":\"RS256\"}", OK_CLAIMS },
		{ "{\"alg\":\"HS256\",\"kid\":\"1\"}", OK_CLAIMS },
		{ "{\"alg\":\"HS256\",\"jku\":\"http://127.0.0.1:1/\"}", OK_CLAIMS },
		{ "{\"alg\":\"HS256\",\"x5u\":\"http://127.0.0.1:1/\"}", OK_CLAIMS },
		{ HDR, "{\"iss\":\"iss\",\"aud\":\"aud\"}" },                              /* no exp */
		{ HDR, "{\"iss\":\"iss\",\"aud\":\"aud\",\"exp\":\"1000100\"}" },          /* string */
		{ HDR, "{\"iss\":\"iss\",\"aud\":\"aud\",\"exp\":1e300}" },                /* huge */
		{ HDR, "{\"iss\":\"iss\",\"aud\":\"aud\",\"exp\":-1}" },
		{ HDR, "{\"iss\":\"iss\",\"aud\":\"aud\",\"exp\":999000}" },               /* expired */
		{ HDR, "{\"iss\":\"iss\",\"aud\":\"aud\",\"exp\":1000100,\"nbf\":1000061}" },
		{ HDR, "{\"iss\":\"iss\",\"aud\":\"aud\",\"exp\":1000100,\"iat\":1000061}" },
		{ HDR, "{\"iss\":\"evil\",\"aud\":\"aud\",\"exp\":1000100}" },
		{ HDR, "{\"iss\":\"iss\",\"aud\":\"other\",\"exp\":1000100}" },
		{ HDR, "[1,2,3]" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *t = forge(cases[i][0], cases[i][1], key, sizeof(key));
		int rc = verify(t);
		if (rc != ERR_UNAUTHORIZED)
			fprintf(stderr, "case %zu accepted: %s %s\n", i, cases[i][0], cases[i][1]);
		CHECK_INT(rc, ERR_UNAUTHORIZED);
		free(t);
	}
}

TEST(wrong_key_and_tampering_are_refused)
{
	static const unsigned char other[32] = "another key, 32 bytes long......";
	char *t = forge(HDR, OK_CLAIMS, other, sizeof(other));
	CHECK_INT(verify(t), ERR_UNAUTHORIZED);
	free(t);
	t = forge(HDR, OK_CLAIMS, key, sizeof(key));
	size_t n = strlen(t);
	t[n - 2] = t[n - 2] == 'A' ? 'B' : 'A'; /* flip the signature */
	CHECK_INT(verify(t), ERR_UNAUTHORIZED);
	char *dot = strchr(t, '.');
	dot[3] = dot[3] == 'A' ? 'B' : 'A'; /* and the payload */
	CHECK_INT(verify(t), ERR_UNAUTHORIZED);
	free(t);
}

TEST(garbage_is_refused)
{
	char big[9000];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	static const char *const bad[] = { "", ".", "..", "a.b", "a.b.c.d", "a..c", "!!.??.##",
					   "eyJhbGciOiJIUzI1NiJ9..", "\xc3\xa9.a.b" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_INT(verify(bad[i]), ERR_UNAUTHORIZED);
	CHECK_INT(verify(big), ERR_UNAUTHORIZED);
	cJSON *c = NULL;
	struct err e;
	char *t = forge(HDR, OK_CLAIMS, key, sizeof(key));
	CHECK_INT(jwt_verify_pinned(t, "HS256", NULL, 0, 0, &c, &e), ERR_UNAUTHORIZED);
	free(t);
}

TEST(deep_payload_is_refused_before_libjwt)
{
	/* 5,000 levels would overflow a worker's stack inside libjwt's jansson. */
	char *deep = malloc(5001);
	memset(deep, '[', 5000);
	deep[5000] = '\0';
	char *t = forge(HDR, deep, key, sizeof(key));
	CHECK_INT(verify(t), ERR_UNAUTHORIZED);
	free(t);
	free(deep);
}

TEST(signed_by_us_round_trips)
{
	cJSON *c = cJSON_Parse(OK_CLAIMS), *out = NULL;
	struct err e;
	char *t = jwt_sign("HS256", key, sizeof(key), c);
	CHECK(t != NULL);
	CHECK_INT(jwt_verify_pinned(t, "HS256", key, sizeof(key), 0, &out, &e), 0);
	CHECK(out && cJSON_GetObjectItem(out, "exp") != NULL);
	cJSON_Delete(c);
	cJSON_Delete(out);
	free(t);
}

TEST_MAIN(TEST_ENTRY(valid_token_passes), TEST_ENTRY(forgeries_are_refused),
	  TEST_ENTRY(wrong_key_and_tampering_are_refused), TEST_ENTRY(garbage_is_refused),
	  TEST_ENTRY(deep_payload_is_refused_before_libjwt),
	  TEST_ENTRY(signed_by_us_round_trips))
