/*
 * Access and refresh tokens.
 *
 * Access tokens are HS256 JWTs (15 minutes) with sub, tid, sid (the session
 * family), jti, iat, exp, iss, aud and typ="access", verified through the
 * guarded wrapper in jwt.c. The HMAC key is 256 bits: from config
 * (jwt_secret, for several instances) or generated once into
 * <data>/jwt.key with mode 0600. Refresh and session tokens are opaque
 * random strings; only their SHA-256 is stored.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "auth/auth.h"
#include "core/core.h"

#define KEY_BYTES 32
#define ISSUER "parallax"
#define AUDIENCE "parallax-api"
#define LEEWAY_S 60

static unsigned char hmac_key[KEY_BYTES];
static int have_key;

static int read_key_file(const char *path, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, hmac_key, sizeof(hmac_key));
	int bad = n != (ssize_t)sizeof(hmac_key) || fstat(fd, &st) || (st.st_mode & 077);
	close(fd);
	if (bad)
		return err_set(e, ERR_INVALID, "data",
			       "data: %s must be %d bytes with mode 0600", path, KEY_BYTES);
	return 0;
}

int auth_keys_init(const char *data_dir, const char *secret, struct err *e)
{
	char path[4096];
	if (secret && *secret) {
		if (strlen(secret) < KEY_BYTES)
			return err_set(e, ERR_INVALID, "jwt_secret",
				       "jwt_secret: must be at least %d bytes", KEY_BYTES);
		crypto_generichash(hmac_key, sizeof(hmac_key), (const unsigned char *)secret,
				   strlen(secret), NULL, 0);
		have_key = 1;
		return 0;
	}
	snprintf(path, sizeof(path), "%s/jwt.key", data_dir);
	int rc = read_key_file(path, e);
	if (rc == 0) {
		have_key = 1;
		return 0;
	}
	if (rc != -1)
		return rc;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	randombytes_buf(hmac_key, sizeof(hmac_key));
	if (fd < 0 || write(fd, hmac_key, sizeof(hmac_key)) != (ssize_t)sizeof(hmac_key) ||
	    fsync(fd)) {
		if (fd >= 0)
			close(fd);
		/* Another process may have won the race: use its key. */
		if (errno == EEXIST && read_key_file(path, e) == 0) {
			have_key = 1;
			return 0;
		}
		return err_set(e, ERR_IO, "data", "data: cannot write %s", path);
	}
	close(fd);
	have_key = 1;
	return 0;
}

int token_issue_access(const char *tenant_id, const char *user_id, const char *session_id,
		       char **out, int *expires_in)
{
	char jti[UUID_STR_LEN];
	int64_t now = now_ms() / 1000;
	if (!have_key)
		return ERR_INTERNAL;
	uuid_v7(jti);
	cJSON *c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "iss", ISSUER);
	cJSON_AddStringToObject(c, "aud", AUDIENCE);
	cJSON_AddStringToObject(c, "sub", user_id);
	cJSON_AddStringToObject(c, "tid", tenant_id);
	cJSON_AddStringToObject(c, "sid", session_id);
	cJSON_AddStringToObject(c, "jti", jti);
	cJSON_AddStringToObject(c, "typ", "access");
	cJSON_AddNumberToObject(c, "iat", (double)now);
	cJSON_AddNumberToObject(c, "nbf", (double)now);
	cJSON_AddNumberToObject(c, "exp", (double)(now + ACCESS_TOKEN_TTL_S));
	*out = jwt_sign("HS256", hmac_key, sizeof(hmac_key), c);
	cJSON_Delete(c);
	*expires_in = ACCESS_TOKEN_TTL_S;
	return *out ? 0 : ERR_INTERNAL;
}

static int claim_id(const cJSON *c, const char *name, char *out, struct err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, name);
	if (!cJSON_IsString(v) || strlen(v->valuestring) != UUID_STR_LEN - 1)
		return err_setc(e, ERR_UNAUTHORIZED, "invalid_token", NULL, "invalid token: %s",
				name);
	str_copy(out, UUID_STR_LEN, v->valuestring);
	return 0;
}

int token_verify_access(const char *token, struct access_claims *out, struct err *e)
{
	cJSON *c = NULL;
	int rc;
	if (!have_key)
		return err_set(e, ERR_INTERNAL, NULL, "no token key");
	if ((rc = jwt_verify_pinned(token, "HS256", hmac_key, sizeof(hmac_key), 0, &c, e)))
		return rc;
	rc = jwt_check_claims(c, ISSUER, AUDIENCE, now_ms() / 1000, LEEWAY_S, e);
	const cJSON *typ = cJSON_GetObjectItemCaseSensitive(c, "typ");
	if (!rc && (!cJSON_IsString(typ) || strcmp(typ->valuestring, "access")))
		rc = err_setc(e, ERR_UNAUTHORIZED, "invalid_token", NULL, "invalid token: typ");
	if (!rc && !(rc = claim_id(c, "sub", out->user_id, e)) &&
	    !(rc = claim_id(c, "tid", out->tenant_id, e)))
		rc = claim_id(c, "sid", out->session_id, e);
	cJSON_Delete(c);
	return rc;
}

void token_new_opaque(const char *prefix, char *out, size_t size)
{
	char raw[64];
	random_token(raw, sizeof(raw), 32);
	snprintf(out, size, "%s%s", prefix, raw);
	sodium_memzero(raw, sizeof(raw));
}

void token_hash(const char *token, char hex[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
	hex_encode(h, sizeof(h), hex);
}
