/*
 * Parameters shared by the tenant-level list handlers: the {t} path segment
 * (the caller's tenant, by id or slug, else 404), list limits, opaque
 * cursors ("created_at:id" as base64url) and times (epoch ms in, RFC 3339
 * with milliseconds out).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "api/api.h"
#include "db/db.h"
#include "server/server.h"
#include "core/core.h"

#define CURSOR_MAX 128

int api_tenant_param(struct req *r, int idx, char *slug, size_t size)
{
	const char *t = req_param(r, idx);
	struct db *db;
	int rc;
	if ((rc = req_db(r, &db)))
		return rc;
	rc = store_tenant_slug(db, r->auth.tenant_id, slug, size, &r->err);
	if (rc && rc != ERR_NOT_FOUND)
		return rc;
	/* Another tenant answers exactly like a missing one. */
	if (rc || !t || (strcmp(t, r->auth.tenant_id) != 0 && strcmp(t, slug) != 0))
		return req_fail(r, ERR_NOT_FOUND, "not_found", NULL, "no such tenant");
	return 0;
}

int api_query_limit(struct req *r, int64_t def, int64_t max, int64_t *out)
{
	const char *s = req_query(r, "limit");
	*out = def;
	if (!s)
		return 0;
	if (str_to_i64(s, out) || *out < 1 || *out > max)
		return req_fail(r, ERR_INVALID, "out_of_range", "limit",
				"'limit' must be an integer between 1 and %lld", (long long)max);
	return 0;
}

char *api_cursor_encode(struct req *r, int64_t ms, const char *id)
{
	char raw[CURSOR_MAX];
	char *out = arena_alloc(r->arena, ((CURSOR_MAX + 2) / 3) * 4 + 1);
	int n = snprintf(raw, sizeof(raw), "%lld:%s", (long long)ms, id);
	b64url_encode((const unsigned char *)raw, (size_t)(n < CURSOR_MAX ? n : CURSOR_MAX - 1), out);
	return out;
}

int api_cursor_decode(struct req *r, const char *s, int64_t *ms, char *id, size_t size)
{
	char raw[CURSOR_MAX], *colon;
	size_t len = 0;
	if (strlen(s) > ((CURSOR_MAX - 1) / 3) * 4 ||
	    sodium_base642bin((unsigned char *)raw, sizeof(raw) - 1, s, strlen(s), NULL, &len,
			      NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		goto bad;
	raw[len] = '\0';
	colon = strchr(raw, ':');
	if (!colon || memchr(raw, '\0', len) || strlen(colon + 1) >= size)
		goto bad;
	*colon = '\0';
	if (str_to_i64(raw, ms) || *ms < 0)
		goto bad;
	str_copy(id, size, colon + 1);
	return 0;
bad:
	return req_fail(r, ERR_INVALID, "invalid_cursor", "cursor", "'cursor' is not valid");
}

void api_add_time(cJSON *obj, const char *key, int64_t ms)
{
	char s[40];
	if (!ms) {
		cJSON_AddNullToObject(obj, key);
		return;
	}
	api_format_time(ms, s, sizeof(s));
	cJSON_AddStringToObject(obj, key, s);
}

void api_format_time(int64_t ms, char *out, size_t size)
{
	time_iso(ms, out, size);
}

/* n decimal digits at *p (advanced); -1 if any is not a digit. */
static int digits(const char **p, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

int api_parse_time(const char *s, int64_t *ms)
{
	struct tm tm = { 0 };
	int frac = 0, scale = 1000, off = 0;
	const char *p = s;
	tm.tm_year = digits(&p, 4) - 1900;
	if (*p++ != '-' || (tm.tm_mon = digits(&p, 2) - 1) < 0 || *p++ != '-' ||
	    (tm.tm_mday = digits(&p, 2)) < 1 || (*p != 'T' && *p != 't' && *p != ' '))
		return -1;
	p++;
	if ((tm.tm_hour = digits(&p, 2)) < 0 || *p++ != ':' || (tm.tm_min = digits(&p, 2)) < 0 ||
	    *p++ != ':' || (tm.tm_sec = digits(&p, 2)) < 0 || tm.tm_year < 0)
		return -1;
	if (tm.tm_mon > 11 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60)
		return -1;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (scale > 1)
				frac += (*p - '0') * (scale /= 10);
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, h = digits(&p, 2), m;
		if (h < 0 || h > 23 || *p++ != ':' || (m = digits(&p, 2)) < 0 || m > 59)
			return -1;
		off = sign * (h * 60 + m) * 60;
	} else {
		return -1;
	}
	if (*p)
		return -1;
	*ms = ((int64_t)timegm(&tm) - off) * 1000 + frac;
	return 0;
}

int api_query_time(struct req *r, const char *name, int64_t *out)
{
	const char *s = req_query(r, name);
	if (!s || !*s) /* "?since=" (an empty form field) is no bound */
		return 1;
	if ((!str_to_i64(s, out) && *out >= 0) || !api_parse_time(s, out))
		return 0;
	return req_fail(r, ERR_INVALID, "invalid_field", name,
			"'%s' must be epoch milliseconds or an RFC 3339 time", name);
}
