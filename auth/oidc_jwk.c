/*
 * JWK to PEM: a provider's signing keys, as published in its JWKS, turned
 * into the SubjectPublicKeyInfo PEM that libjwt's OpenSSL backend reads.
 * mbedTLS (2.28) builds and checks the key: an RSA modulus of 2048 to 8192
 * bits with a sane exponent, or a point that lies on P-256. Anything else
 * (symmetric "oct" keys above all) never becomes a verification key.
 */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <sodium.h>

#include "auth/auth.h"
#include "core/core.h"

#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 8192
#define P256_COORD   32
#define PEM_MAX      4096 /* an 8192-bit RSA public key is about 1.5 KB of PEM */

const char *oidc_alg_name(int alg)
{
	switch (alg) {
	case OIDC_RS256:
		return "RS256";
	case OIDC_ES256:
		return "ES256";
	default:
		return NULL;
	}
}

static int unusable(struct err *e, const char *why)
{
	return err_setc(e, ERR_UNPROCESSABLE, "unusable_jwk", NULL, "unusable JWK: %s", why);
}

/* A base64url member of at most max decoded bytes into out; *len gets the size. */
static int b64_member(const cJSON *jwk, const char *name, unsigned char *out, size_t max,
		      size_t *len, struct err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(jwk, name);
	const char *end = NULL;
	if (!cJSON_IsString(v) || !*v->valuestring)
		return err_setc(e, ERR_UNPROCESSABLE, "unusable_jwk", NULL,
				"unusable JWK: \"%s\" is missing", name);
	if (sodium_base642bin(out, max, v->valuestring, strlen(v->valuestring), NULL, len, &end,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) ||
	    *end)
		return err_setc(e, ERR_UNPROCESSABLE, "unusable_jwk", NULL,
				"unusable JWK: \"%s\" is not base64url or too long", name);
	return 0;
}

/* "use" must be "sig" and "alg" the one the key type implies, when present. */
static int check_use(const cJSON *jwk, const char *alg, struct err *e)
{
	const cJSON *use = cJSON_GetObjectItemCaseSensitive(jwk, "use");
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(jwk, "alg");
	if (use && (!cJSON_IsString(use) || strcmp(use->valuestring, "sig")))
		return unusable(e, "not a signing key");
	if (a && (!cJSON_IsString(a) || strcmp(a->valuestring, alg)))
		return unusable(e, "an algorithm other than RS256 or ES256");
	return 0;
}

static int rsa_key(const cJSON *jwk, mbedtls_pk_context *pk, struct err *e)
{
	unsigned char n[RSA_MAX_BITS / 8 + 1], ex[8];
	size_t nlen = 0, elen = 0, bits;
	mbedtls_rsa_context *rsa;
	int rc;
	if ((rc = b64_member(jwk, "n", n, sizeof(n), &nlen, e)) ||
	    (rc = b64_member(jwk, "e", ex, sizeof(ex), &elen, e)))
		return rc;
	if (mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA)))
		return err_set(e, ERR_INTERNAL, NULL, "RSA context");
	rsa = mbedtls_pk_rsa(*pk);
	if (mbedtls_rsa_import_raw(rsa, n, nlen, NULL, 0, NULL, 0, NULL, 0, ex, elen) ||
	    mbedtls_rsa_complete(rsa) || mbedtls_rsa_check_pubkey(rsa))
		return unusable(e, "not a valid RSA public key");
	bits = mbedtls_pk_get_bitlen(pk);
	if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS)
		return err_setc(e, ERR_UNPROCESSABLE, "unusable_jwk", NULL,
				"unusable JWK: a %zu-bit RSA key (2048 to 8192 bits are accepted)",
				bits);
	return 0;
}

static int ec_key(const cJSON *jwk, mbedtls_pk_context *pk, struct err *e)
{
	const cJSON *crv = cJSON_GetObjectItemCaseSensitive(jwk, "crv");
	unsigned char pt[1 + 2 * P256_COORD], x[P256_COORD + 1], y[P256_COORD + 1];
	size_t xlen = 0, ylen = 0;
	mbedtls_ecp_keypair *ec;
	int rc;
	if (!cJSON_IsString(crv) || strcmp(crv->valuestring, "P-256"))
		return unusable(e, "an EC curve other than P-256");
	/* x and y have room for one byte more than a coordinate, so a longer
	 * value is refused rather than cut. */
	if ((rc = b64_member(jwk, "x", x, sizeof(x), &xlen, e)) ||
	    (rc = b64_member(jwk, "y", y, sizeof(y), &ylen, e)))
		return rc;
	if (xlen != P256_COORD || ylen != P256_COORD)
		return unusable(e, "P-256 coordinates must be 32 bytes each");
	pt[0] = 0x04; /* uncompressed point */
	memcpy(pt + 1, x, P256_COORD);
	memcpy(pt + 1 + P256_COORD, y, P256_COORD);
	if (mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)))
		return err_set(e, ERR_INTERNAL, NULL, "EC context");
	ec = mbedtls_pk_ec(*pk);
	if (mbedtls_ecp_group_load(&ec->grp, MBEDTLS_ECP_DP_SECP256R1))
		return err_set(e, ERR_INTERNAL, NULL, "P-256 group");
	if (mbedtls_ecp_point_read_binary(&ec->grp, &ec->Q, pt, sizeof(pt)) ||
	    mbedtls_ecp_check_pubkey(&ec->grp, &ec->Q))
		return unusable(e, "the point is not on P-256");
	return 0;
}

int oidc_jwk_to_pem(const cJSON *jwk, char **pem, int *alg, struct err *e)
{
	const cJSON *kty = cJSON_GetObjectItemCaseSensitive(jwk, "kty");
	unsigned char *out = NULL;
	mbedtls_pk_context pk;
	int ret;

	*pem = NULL;
	*alg = OIDC_ALG_NONE;
	mbedtls_pk_init(&pk);
	if (!cJSON_IsObject(jwk) || !cJSON_IsString(kty)) {
		ret = unusable(e, "no key type");
		goto out;
	}
	if (!strcmp(kty->valuestring, "RSA")) {
		*alg = OIDC_RS256;
	} else if (!strcmp(kty->valuestring, "EC")) {
		*alg = OIDC_ES256;
	} else {
		ret = unusable(e, "a key type other than RSA or EC");
		goto out;
	}
	if ((ret = check_use(jwk, oidc_alg_name(*alg), e)))
		goto out;
	ret = *alg == OIDC_RS256 ? rsa_key(jwk, &pk, e) : ec_key(jwk, &pk, e);
	if (ret)
		goto out;
	out = xmalloc(PEM_MAX);
	if (mbedtls_pk_write_pubkey_pem(&pk, out, PEM_MAX)) {
		ret = err_set(e, ERR_INTERNAL, NULL, "PEM encoding failed");
		goto out;
	}
	*pem = (char *)out;
	out = NULL;
	ret = 0;
out:
	if (ret)
		*alg = OIDC_ALG_NONE;
	free(out);
	mbedtls_pk_free(&pk);
	return ret;
}
