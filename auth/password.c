/*
 * Passwords: argon2id through libsodium at OWASP's floor (19 MiB, t=2, p=1),
 * a length and UTF-8 policy, and a cap on concurrent hashes so a login flood
 * cannot exhaust memory (each hash holds 19 MiB while it runs).
 */
#include <ctype.h>
#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "auth/auth.h"
#include "core/embed.h"
#include "core/core.h"

extern const struct embedded_file auth_common_password_files[];

/* The common-password list as an open-addressing set of line offsets. */
#define COMMON_SLOTS 65536
static uint32_t common_off[COMMON_SLOTS]; /* offset + 1; 0 = empty */
static uint16_t common_len[COMMON_SLOTS];
static pthread_once_t common_once = PTHREAD_ONCE_INIT;

static uint32_t common_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static void common_load(void)
{
	const char *d = auth_common_password_files[0].data;
	size_t len = auth_common_password_files[0].len, i = 0;
	while (i < len) {
		size_t n = strcspn(d + i, "\n");
		if (n && d[i] != '#' && n < 65536) {
			uint32_t h = common_hash(d + i, n) % COMMON_SLOTS;
			while (common_off[h])
				h = (h + 1) % COMMON_SLOTS;
			common_off[h] = (uint32_t)i + 1;
			common_len[h] = (uint16_t)n;
		}
		i += n + 1;
	}
}

static int common_has(const char *s, size_t n)
{
	const char *d = auth_common_password_files[0].data;
	pthread_once(&common_once, common_load);
	for (uint32_t h = common_hash(s, n) % COMMON_SLOTS; common_off[h];
	     h = (h + 1) % COMMON_SLOTS)
		if (common_len[h] == n && !memcmp(d + common_off[h] - 1, s, n))
			return 1;
	return 0;
}

/* A run of consecutive digits, up or down ("123456789012", "987654321098"). */
static int digit_run(const char *s, size_t n)
{
	int up = 1, down = 1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		if (i) {
			up &= s[i] == '0' + (s[i - 1] - '0' + 1) % 10;
			down &= s[i] == '0' + (s[i - 1] - '0' + 9) % 10;
		}
	}
	return n && (up || down);
}

/* Common, ignoring case and any run of trailing digits or symbols
 * ("Password1234!" is "password"), one character repeated, or a digit run. */
static int password_is_common(const char *pw)
{
	char low[PASSWORD_MAX_LEN + 1];
	size_t n = str_copy(low, sizeof(low), pw), same = 1;
	if (n >= sizeof(low))
		return 0;
	for (size_t i = 0; i < n; i++) {
		low[i] = (char)tolower((unsigned char)low[i]);
		same += i && low[i] == low[0];
	}
	if (same == n || digit_run(low, n))
		return 1;
	if (common_has(low, n))
		return 1;
	while (n && !isalpha((unsigned char)low[n - 1]) && !((unsigned char)low[n - 1] & 0x80))
		n--;
	return n && common_has(low, n);
}

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
	if (password_is_common(password))
		return err_setc(e, ERR_INVALID, "weak_password", "password",
				"this password is too common; choose a long, unusual passphrase");
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
