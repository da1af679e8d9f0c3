/*
 * Passwords: argon2id through libsodium at OWASP's floor (19 MiB, t=2, p=1),
 * a length and UTF-8 policy, and a cap on concurrent hashes so a login flood
 * cannot exhaust memory (each hash holds 19 MiB while it runs).
 */
#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "auth/auth.h"
#include "core/core.h"

#define HASH_OPSLIMIT 2ULL
#define HASH_MEMLIMIT (19ULL * 1024 * 1024)
#define HASH_MAX_CONCURRENT 4

static pthread_mutex_t hash_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hash_cv = PTHREAD_COND_INITIALIZER;
static int hash_running;

static void hash_slot_take(void)
{
	pthread_mutex_lock(&hash_mu);
	while (hash_running >= HASH_MAX_CONCURRENT)
		pthread_cond_wait(&hash_cv, &hash_mu);
	hash_running++;
	pthread_mutex_unlock(&hash_mu);
}

static void hash_slot_give(void)
{
	pthread_mutex_lock(&hash_mu);
	hash_running--;
	pthread_cond_signal(&hash_cv);
	pthread_mutex_unlock(&hash_mu);
}

int password_check_policy(const char *password, struct err *e)
{
	size_t n = strlen(password), chars = 0;
	if (!utf8_valid(password, n))
		return err_setc(e, ERR_INVALID, "weak_password", "password",
				"password is not valid UTF-8");
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)password[i] & 0xc0) != 0x80)
			chars++;
	if (chars < PASSWORD_MIN_LEN)
		return err_setc(e, ERR_INVALID, "weak_password", "password",
				"password must be at least %d characters", PASSWORD_MIN_LEN);
	if (n > PASSWORD_MAX_LEN)
		return err_setc(e, ERR_INVALID, "weak_password", "password",
				"password must be at most %d bytes", PASSWORD_MAX_LEN);
	return 0;
}

int password_hash(const char *password, char out[PASSWORD_HASH_MAX], struct err *e)
{
	int rc;
	hash_slot_take();
	rc = crypto_pwhash_str(out, password, strlen(password), HASH_OPSLIMIT,
			       (size_t)HASH_MEMLIMIT);
	hash_slot_give();
	if (rc)
		return err_set(e, ERR_INTERNAL, NULL, "password hashing failed (out of memory)");
	return 0;
}

int password_verify(const char *hash, const char *password)
{
	int rc;
	if (!hash || !*hash)
		return 0;
	hash_slot_take();
	rc = crypto_pwhash_str_verify(hash, password, strlen(password));
	hash_slot_give();
	return rc == 0;
}
