/*
 * Secrets at rest: values such as an agent's API key are sealed with a
 * libsodium secretbox (XSalsa20-Poly1305) under one 32-byte server key,
 * from config (secret_key, hex or base64, for several instances) or
 * generated once into <data>/secret.key with mode 0600, like jwt.key.
 * Sealed text is "v1:" + base64(nonce || box); plaintext copies are wiped.
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

#define SEAL_PREFIX "v1:"
#define SEAL_PREFIX_LEN (sizeof(SEAL_PREFIX) - 1)
#define SEAL_B64 sodium_base64_VARIANT_ORIGINAL

static unsigned char seal_key[crypto_secretbox_KEYBYTES];
static int have_seal_key;

static int read_key_file(const char *path, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, seal_key, sizeof(seal_key));
	int bad = n != (ssize_t)sizeof(seal_key) || fstat(fd, &st) || (st.st_mode & 077);
	close(fd);
	if (bad)
		return err_set(e, ERR_INVALID, "data", "data: %s must be %zu bytes with mode 0600",
			       path, sizeof(seal_key));
	return 0;
}

/* 64 hex digits or base64 (standard or URL-safe) of exactly 32 bytes. */
static int key_from_config(const char *s, struct err *e)
{
	size_t n = 0, len = strlen(s);
	static const int variants[] = { sodium_base64_VARIANT_ORIGINAL,
					sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
					sodium_base64_VARIANT_URLSAFE,
					sodium_base64_VARIANT_URLSAFE_NO_PADDING };
	if (len == 2 * sizeof(seal_key) &&
	    !sodium_hex2bin(seal_key, sizeof(seal_key), s, len, NULL, &n, NULL) &&
	    n == sizeof(seal_key))
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(variants); i++)
		if (!sodium_base642bin(seal_key, sizeof(seal_key), s, len, NULL, &n, NULL,
				       variants[i]) &&
		    n == sizeof(seal_key))
			return 0;
	sodium_memzero(seal_key, sizeof(seal_key));
	return err_set(e, ERR_INVALID, "secret_key",
		       "secret_key: must be 32 bytes as 64 hex digits or base64");
}

int secrets_init(const char *data_dir, const char *secret_key, struct err *e)
{
	char path[4096];
	if (secret_key && *secret_key) {
		int rc = key_from_config(secret_key, e);
		have_seal_key = rc == 0;
		return rc;
	}
	snprintf(path, sizeof(path), "%s/secret.key", data_dir);
	int rc = read_key_file(path, e);
	if (rc != -1) {
		have_seal_key = rc == 0;
		return rc;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	randombytes_buf(seal_key, sizeof(seal_key));
	if (fd < 0 || write(fd, seal_key, sizeof(seal_key)) != (ssize_t)sizeof(seal_key) ||
	    fsync(fd)) {
		if (fd >= 0)
			close(fd);
		/* Another process may have won the race: use its key. */
		if (errno == EEXIST && read_key_file(path, e) == 0) {
			have_seal_key = 1;
			return 0;
		}
		return err_set(e, ERR_IO, "data", "data: cannot write %s", path);
	}
	close(fd);
	have_seal_key = 1;
	return 0;
}

int secret_seal(const char *plain, char **sealed_out, struct err *e)
{
	size_t n = strlen(plain), raw_len = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n;
	size_t b64_len = sodium_base64_ENCODED_LEN(raw_len, SEAL_B64);
	unsigned char *raw = NULL;
	char *out = NULL;
	int ret = err_set(e, ERR_INTERNAL, NULL, "cannot seal a secret");
	*sealed_out = NULL;
	if (!have_seal_key || !(raw = malloc(raw_len)) ||
	    !(out = malloc(SEAL_PREFIX_LEN + b64_len)))
		goto out;
	randombytes_buf(raw, crypto_secretbox_NONCEBYTES);
	if (crypto_secretbox_easy(raw + crypto_secretbox_NONCEBYTES, (const unsigned char *)plain,
				  n, raw, seal_key))
		goto out;
	memcpy(out, SEAL_PREFIX, SEAL_PREFIX_LEN);
	sodium_bin2base64(out + SEAL_PREFIX_LEN, b64_len, raw, raw_len, SEAL_B64);
	*sealed_out = out;
	out = NULL;
	err_clear(e);
	ret = 0;
out:
	free(raw);
	free(out);
	return ret;
}

int secret_open(const char *sealed, char **plain_out, struct err *e)
{
	size_t len = strlen(sealed), raw_len = 0;
	unsigned char *raw = NULL;
	char *plain = NULL;
	int ret = err_set(e, ERR_INTERNAL, NULL,
			  "a stored secret cannot be opened (was secret_key changed?)");
	*plain_out = NULL;
	if (!have_seal_key || strncmp(sealed, SEAL_PREFIX, SEAL_PREFIX_LEN) ||
	    !(raw = malloc(len)))
		goto out;
	if (sodium_base642bin(raw, len, sealed + SEAL_PREFIX_LEN, len - SEAL_PREFIX_LEN, NULL,
			      &raw_len, NULL, SEAL_B64) ||
	    raw_len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
		goto out;
	size_t n = raw_len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
	if (!(plain = malloc(n + 1)) ||
	    crypto_secretbox_open_easy((unsigned char *)plain, raw + crypto_secretbox_NONCEBYTES,
				       raw_len - crypto_secretbox_NONCEBYTES, raw, seal_key))
		goto out;
	plain[n] = '\0';
	*plain_out = plain;
	plain = NULL;
	err_clear(e);
	ret = 0;
out:
	free(raw);
	free(plain); /* only on failure, when it holds no plaintext */
	return ret;
}

void secret_free(char *s)
{
	if (!s)
		return;
	sodium_memzero(s, strlen(s));
	free(s);
}
