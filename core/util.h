/*
 * Small helpers: clocks, random ids, encodings, constant-time comparison and
 * bounded string copies.
 */
#ifndef CORE_UTIL_H
#define CORE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define UUID_STR_LEN 37 /* 36 chars + NUL */

int64_t now_ms(void);  /* wall clock, Unix epoch milliseconds */
int64_t mono_ms(void); /* monotonic milliseconds */
int64_t mono_us(void);
/* RFC 3339 UTC with milliseconds ("2026-01-31T10:42:00.123Z"); size >= 25. */
void time_iso(int64_t ms, char *out, size_t size);

/* Time-ordered UUIDv7 (RFC 9562), lower-case, out has UUID_STR_LEN bytes. */
void uuid_v7(char out[UUID_STR_LEN]);
/* A whole file of at most max bytes, NUL-terminated, into *out (freed by the caller);
 * -1 if it cannot be read or is larger. */
int file_read_all(const char *path, size_t max, char **out, size_t *len);
void random_bytes(void *p, size_t n);
/* n random bytes as base64url without padding; out needs (4n+2)/3+1 bytes. */
void random_token(char *out, size_t outsz, size_t n);

void hex_encode(const unsigned char *in, size_t n, char *out); /* out: 2n+1 */
/* base64url without padding; out needs ((n+2)/3)*4+1 bytes. Returns length. */
size_t b64url_encode(const unsigned char *in, size_t n, char *out);

int ct_equal(const void *a, const void *b, size_t n);

/* Copy with truncation, always NUL-terminates; returns strlen(src). */
size_t str_copy(char *dst, size_t size, const char *src);
int str_has_prefix(const char *s, const char *prefix);
int str_eq_nocase(const char *a, const char *b);
/* Strict integer parse of the whole string; 0 on success. */
int str_to_i64(const char *s, int64_t *out);

/* CIDR ranges (core/cidr.c). family is AF_INET or AF_INET6. */
struct cidr {
	int family;
	unsigned char addr[16];
	int prefix;
};
int cidr_parse(const char *s, struct cidr *out);
int cidr_contains(const struct cidr *c, int family, const unsigned char *addr);
/* Comma-separated list; fills up to max entries of out (may be NULL). */
int cidr_list_parse(const char *list, struct cidr *out, int max, int *count, struct err *e);
int cidr_list_check(const char *list, struct err *e);

/* Cron expressions, UTC (core/cron.c). */
struct cron {
	uint64_t minutes;
	uint32_t hours, mdays;
	uint16_t months;
	uint8_t wdays;
	int mday_star, wday_star;
};
/* Five fields or @hourly/@daily/@weekly/@monthly/@yearly; ERR_INVALID naming the field. */
int cron_parse(const char *expr, struct cron *out, struct err *e);
/* The first run strictly after after_ms (whole minutes), or -1 if none within 5 years. */
int64_t cron_next(const struct cron *c, int64_t after_ms);

#endif
