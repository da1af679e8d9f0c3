/*
 * The one-time owner set-up token. Each start of an unclaimed installation
 * issues a fresh random token, stores only its BLAKE2b hash and expiry in
 * the settings table, and prints the link. The token dies when the owner is
 * created or when it expires.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/auth.h"
#include "db/db.h"
#include "core/core.h"

#define SETTING_KEY "setup_token"

static void token_digest(const char *token, char hex[65])
{
	unsigned char h[32];
	crypto_generichash(h, sizeof(h), (const unsigned char *)token, strlen(token), NULL, 0);
	hex_encode(h, sizeof(h), hex);
}

int setup_token_issue(struct db *db, int ttl_s, char out[SETUP_TOKEN_LEN], int *created,
		      struct err *e)
{
	int exists = 0, rc;
	char hex[65], value[128];
	*created = 0;
	if ((rc = store_owner_exists(db, &exists, e)) || exists)
		return rc;
	random_token(out, SETUP_TOKEN_LEN, 32);
	token_digest(out, hex);
	snprintf(value, sizeof(value), "%s:%lld", hex, (long long)(now_ms() + ttl_s * 1000LL));
	if ((rc = store_setting_set(db, SETTING_KEY, value, e)))
		return rc;
	*created = 1;
	return 0;
}

int setup_token_check(struct db *db, const char *token, struct err *e)
{
	char *value = NULL, hex[65];
	int rc, exists = 0;
	if (!token || strlen(token) != SETUP_TOKEN_LEN - 1)
		return err_set(e, ERR_NOT_FOUND, NULL, "no such page");
	if ((rc = store_owner_exists(db, &exists, e)))
		return rc;
	if (exists)
		return err_set(e, ERR_NOT_FOUND, NULL, "no such page");
	if ((rc = store_setting_get(db, SETTING_KEY, &value, e)))
		return rc;
	rc = err_set(e, ERR_NOT_FOUND, NULL, "no such page");
	token_digest(token, hex);
	if (value && strlen(value) > 65 && value[64] == ':' && ct_equal(value, hex, 64)) {
		int64_t expires = 0;
		if (!str_to_i64(value + 65, &expires) && expires > now_ms()) {
			err_clear(e);
			rc = 0;
		}
	}
	free(value);
	return rc;
}

int setup_token_consume(struct db *db, struct err *e)
{
	return store_setting_delete(db, SETTING_KEY, NULL, e);
}

static int check_text(const char *s, const char *field, size_t max, struct err *e)
{
	size_t n = s ? strlen(s) : 0;
	if (!n)
		return err_setc(e, ERR_INVALID, "missing_field", field, "'%s' is required", field);
	if (n > max)
		return err_setc(e, ERR_INVALID, "invalid_field", field,
				"'%s' is longer than %zu bytes", field, max);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20)
			return err_setc(e, ERR_INVALID, "invalid_field", field,
					"'%s' contains control characters", field);
	return utf8_valid(s, n) ? 0 :
				  err_setc(e, ERR_INVALID, "invalid_field", field,
					   "'%s' is not valid UTF-8", field);
}

static int check_email(const char *s, struct err *e)
{
	int rc = check_text(s, "email", 254, e);
	if (rc)
		return rc;
	const char *at = strchr(s, '@');
	if (!at || at == s || strchr(at + 1, '@') || !strchr(at + 1, '.') || strchr(s, ' ') ||
	    at[1] == '.' || s[strlen(s) - 1] == '.')
		return err_setc(e, ERR_INVALID, "invalid_field", "email",
				"'email' is not an email address");
	return 0;
}

/* "Acme Corp." -> "acme-corp"; empty results become "team". */
static void make_slug(const char *name, char *out, size_t size)
{
	size_t o = 0;
	int dash = 0;
	for (const char *p = name; *p && o + 1 < size; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (dash && o)
				out[o++] = '-';
			if (o + 1 < size)
				out[o++] = (char)c;
			dash = 0;
		} else if (c >= 'A' && c <= 'Z') {
			if (dash && o)
				out[o++] = '-';
			if (o + 1 < size)
				out[o++] = (char)(c | 0x20);
			dash = 0;
		} else {
			dash = 1;
		}
	}
	out[o] = '\0';
	if (!o)
		str_copy(out, size, "team");
}

/* Validate, hash and create a tenant with its owner; no token involved. */
static int owner_create(struct db *db, const struct setup_request *in, int another,
			struct setup_result *out, struct setup_created *created, struct err *e)
{
	char hash[PASSWORD_HASH_MAX];
	char *slug = created->slug, *email = created->email;
	int rc;
	if ((rc = check_text(in->tenant_name, "tenant_name", 100, e)) ||
	    (rc = check_text(in->user_name, "name", 100, e)) || (rc = check_email(in->email, e)) ||
	    (rc = password_check_policy(in->password ? in->password : "", e)))
		return rc;
	size_t k;
	for (k = 0; in->email[k] && k < sizeof(created->email) - 1; k++)
		email[k] = (char)((in->email[k] >= 'A' && in->email[k] <= 'Z') ?
					  in->email[k] | 0x20 :
					  in->email[k]);
	email[k] = '\0';
	make_slug(in->tenant_name, slug, sizeof(created->slug));
	if ((rc = password_hash(in->password, hash, e)))
		return rc;
	struct setup_owner so = { in->tenant_name, slug, in->user_name, email, hash, another };
	rc = store_setup_owner(db, &so, out, e);
	sodium_memzero(hash, sizeof(hash));
	return rc;
}

int setup_owner_create(struct db *db, const struct setup_request *in, struct setup_result *out,
		       struct setup_created *created, struct err *e)
{
	int rc;
	if ((rc = setup_token_check(db, in->token, e)))
		return rc;
	rc = owner_create(db, in, 0, out, created, e);
	if (rc == ERR_CONFLICT && !strcmp(e->field, ""))
		return err_set(e, ERR_NOT_FOUND, NULL, "no such page");
	if (rc)
		return rc;
	return setup_token_consume(db, e);
}

int tenant_create_with_owner(struct db *db, const struct setup_request *in,
			     struct setup_result *out, struct setup_created *created,
			     struct err *e)
{
	return owner_create(db, in, 1, out, created, e);
}
