/*
 * Clocks, UUIDv7, random tokens (libsodium's CSPRNG), encodings and bounded
 * string helpers.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "core.h"

int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t mono_ms(void)
{
	return mono_us() / 1000;
}

int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void time_iso(int64_t ms, char *out, size_t size)
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&sec, &tm);
	snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/*
 * A per-thread pool refilled from libsodium's CSPRNG 256 bytes at a time, so
 * ids and tokens cost no system call each. Bytes are wiped as they are
 * handed out; large requests bypass the pool.
 */
#define RANDOM_POOL 256
static _Thread_local unsigned char rpool[RANDOM_POOL];
static _Thread_local size_t rpool_left;

void random_bytes(void *p, size_t n)
{
	unsigned char *out = p;
	if (n > RANDOM_POOL / 2) {
		randombytes_buf(p, n);
		return;
	}
	while (n) {
		if (!rpool_left) {
			randombytes_buf(rpool, sizeof(rpool));
			rpool_left = sizeof(rpool);
		}
		size_t take = n < rpool_left ? n : rpool_left;
		unsigned char *src = rpool + (RANDOM_POOL - rpool_left);
		memcpy(out, src, take);
		sodium_memzero(src, take);
		rpool_left -= take;
		out += take;
		n -= take;
	}
}

/*
 * UUIDv7 with a 12-bit counter in rand_a (RFC 9562 6.2, method 1): the ids one
 * process makes sort in the order it made them, also within a millisecond
 * (rows ordered by time then id, such as steps, keep their order).
 */
void uuid_v7(char out[UUID_STR_LEN])
{
	static uint64_t last; /* ms << 12 | counter */
	unsigned char u[16];
	uint64_t prev = __atomic_load_n(&last, __ATOMIC_RELAXED), next;
	do {
		next = (uint64_t)now_ms() << 12;
		if (next <= prev)
			next = prev + 1; /* the same ms, or the clock went back: count on */
	} while (!__atomic_compare_exchange_n(&last, &prev, next, 0, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	uint64_t ms = next >> 12;
	random_bytes(u + 8, 8);
	for (int i = 0; i < 6; i++)
		u[i] = (unsigned char)(ms >> (8 * (5 - i)));
	u[6] = (unsigned char)(0x70 | ((next >> 8) & 0x0f));
	u[7] = (unsigned char)(next & 0xff);
	u[8] = (unsigned char)(0x80 | (u[8] & 0x3f));
	static const char hex[] = "0123456789abcdef";
	int o = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[u[i] >> 4];
		out[o++] = hex[u[i] & 15];
	}
	out[o] = '\0';
}

void hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * n] = '\0';
}

size_t b64url_encode(const unsigned char *in, size_t n, char *out)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0, i = 0;
	for (; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = tbl[v >> 18];
		out[o++] = tbl[(v >> 12) & 63];
		out[o++] = tbl[(v >> 6) & 63];
		out[o++] = tbl[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = tbl[v >> 18];
		out[o++] = tbl[(v >> 12) & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = tbl[v >> 18];
		out[o++] = tbl[(v >> 12) & 63];
		out[o++] = tbl[(v >> 6) & 63];
	}
	out[o] = '\0';
	return o;
}

void random_token(char *out, size_t outsz, size_t n)
{
	unsigned char raw[128];
	if (n > sizeof(raw))
		n = sizeof(raw);
	if (outsz < (4 * n + 2) / 3 + 1) { /* unpadded base64url length + NUL */
		if (outsz)
			out[0] = '\0';
		return;
	}
	random_bytes(raw, n);
	b64url_encode(raw, n, out);
	sodium_memzero(raw, sizeof(raw));
}

int ct_equal(const void *a, const void *b, size_t n)
{
	return sodium_memcmp(a, b, n) == 0;
}

size_t str_copy(char *dst, size_t size, const char *src)
{
	size_t len = strlen(src);
	if (size) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

int str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int str_eq_nocase(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return 0;
	return *a == *b;
}

int str_to_i64(const char *s, int64_t *out)
{
	char *end;
	if (!s || !*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

/* The whole file (at most max bytes), NUL-terminated. */
int file_read_all(const char *path, size_t max, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	if (!f)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len <= max)
		buf_add(&b, chunk, n);
	int bad = ferror(f) || b.len > max;
	fclose(f);
	if (bad) {
		buf_release(&b);
		return -1;
	}
	*out = buf_detach(&b, len);
	return 0;
}
