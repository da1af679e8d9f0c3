/*
 * Cron expressions (five fields: minute hour day-of-month month day-of-week,
 * in UTC) for schedules: lists, ranges, steps, month and day names, 7 as
 * Sunday, and @hourly/@daily/@weekly/@monthly/@yearly. As in Vixie cron,
 * when both day fields are restricted a day matching either runs.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core.h"

static const char *const months[] = { "jan", "feb", "mar", "apr", "may", "jun",
				       "jul", "aug", "sep", "oct", "nov", "dec" };
static const char *const days[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

/* A number or (for months/days) a name; -1 if neither. */
static int value(const char **p, const char *const *names, int nnames, int base)
{
	if (isdigit((unsigned char)**p)) {
		int v = 0, n = 0;
		while (isdigit((unsigned char)**p) && n++ < 3)
			v = v * 10 + (*(*p)++ - '0');
		return isdigit((unsigned char)**p) ? -1 : v;
	}
	for (int i = 0; names && i < nnames; i++)
		if (!strncasecmp(*p, names[i], 3) && !isalpha((unsigned char)(*p)[3])) {
			*p += 3;
			return i + base;
		}
	return -1;
}

/* One field into bits [lo, hi]; *star when it is "*" (or "*" with a step). */
static int field(const char *s, int lo, int hi, const char *const *names, int nnames, int base,
		 uint64_t *bits, int *star)
{
	const char *p = s;
	*bits = 0;
	*star = *s == '*';
	for (;;) {
		int a, b, step = 1;
		if (*p == '*') {
			a = lo;
			b = hi;
			p++;
		} else {
			if ((a = value(&p, names, nnames, base)) < 0)
				return -1;
			b = a;
			if (*p == '-') {
				p++;
				if ((b = value(&p, names, nnames, base)) < 0)
					return -1;
			}
		}
		if (*p == '/') {
			p++;
			if ((step = value(&p, NULL, 0, 0)) < 1)
				return -1;
			if (a == b && *(p - 1) && s[0] != '*')
				b = hi; /* "5/15": from 5 on */
		}
		if (a < lo || b > hi || a > b)
			return -1;
		for (int v = a; v <= b; v += step)
			*bits |= 1ull << v;
		if (*p == ',') {
			p++;
			continue;
		}
		return *p ? -1 : 0;
	}
}

int cron_parse(const char *expr, struct cron *out, struct err *e)
{
	static const struct {
		const char *name, *expr;
	} macros[] = { { "@hourly", "0 * * * *" },  { "@daily", "0 0 * * *" },
		       { "@midnight", "0 0 * * *" }, { "@weekly", "0 0 * * 0" },
		       { "@monthly", "0 0 1 * *" },  { "@yearly", "0 0 1 1 *" },
		       { "@annually", "0 0 1 1 *" } };
	char buf[128], *f[5], *save = NULL;
	int n = 0, star;
	uint64_t bits;
	memset(out, 0, sizeof(*out));
	if (!expr || strlen(expr) >= sizeof(buf))
		return err_set(e, ERR_INVALID, "cron", "'cron' is five fields or a @macro");
	for (size_t i = 0; i < ARRAY_SIZE(macros); i++)
		if (!strcasecmp(expr, macros[i].name))
			expr = macros[i].expr;
	str_copy(buf, sizeof(buf), expr);
	for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == 5)
			return err_set(e, ERR_INVALID, "cron", "'cron' has more than five fields");
		f[n++] = t;
	}
	if (n != 5)
		return err_set(e, ERR_INVALID, "cron",
			       "'cron' needs five fields: minute hour day-of-month month day-of-week");
	static const char *const what[] = { "minute (0-59)", "hour (0-23)", "day of month (1-31)",
					    "month (1-12 or JAN-DEC)", "day of week (0-7 or SUN-SAT)" };
	static const int lo[] = { 0, 0, 1, 1, 0 }, hi[] = { 59, 23, 31, 12, 7 };
	for (int i = 0; i < 5; i++) {
		const char *const *names = i == 3 ? months : i == 4 ? days : NULL;
		int nn = i == 3 ? 12 : i == 4 ? 7 : 0, base = i == 3 ? 1 : 0;
		if (field(f[i], lo[i], hi[i], names, nn, base, &bits, &star) < 0)
			return err_set(e, ERR_INVALID, "cron", "'cron': field %d is not a valid %s",
				       i + 1, what[i]);
		switch (i) {
		case 0: out->minutes = bits; break;
		case 1: out->hours = (uint32_t)bits; break;
		case 2: out->mdays = (uint32_t)bits; out->mday_star = star; break;
		case 3: out->months = (uint16_t)bits; break;
		case 4:
			if (bits & (1u << 7))
				bits = (bits | 1u) & 0x7f; /* 7 is Sunday */
			out->wdays = (uint8_t)bits;
			out->wday_star = star;
			break;
		}
	}
	return 0;
}

static int day_ok(const struct cron *c, const struct tm *t)
{
	int md = (c->mdays >> t->tm_mday) & 1, wd = (c->wdays >> t->tm_wday) & 1;
	if (c->mday_star && c->wday_star)
		return 1;
	if (c->mday_star)
		return wd;
	if (c->wday_star)
		return md;
	return md || wd;
}

int64_t cron_next(const struct cron *c, int64_t after_ms)
{
	time_t t = (time_t)(after_ms / 1000);
	t = t - t % 60 + 60; /* the next whole minute after */
	time_t limit = t + (time_t)5 * 366 * 86400;
	struct tm tm;
	while (t < limit) {
		gmtime_r(&t, &tm);
		if (!((c->months >> (tm.tm_mon + 1)) & 1)) { /* to the 1st of next month */
			tm.tm_mon++;
			tm.tm_mday = 1;
			tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
			t = timegm(&tm);
			continue;
		}
		if (!day_ok(c, &tm)) {
			t += 86400 - (tm.tm_hour * 3600 + tm.tm_min * 60);
			continue;
		}
		if (!((c->hours >> tm.tm_hour) & 1)) {
			t += 3600 - tm.tm_min * 60;
			continue;
		}
		if (!((c->minutes >> tm.tm_min) & 1)) {
			t += 60;
			continue;
		}
		return (int64_t)t * 1000;
	}
	return -1;
}
