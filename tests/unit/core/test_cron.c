/* Cron expressions: parsing (and refusing) and the next run time, in UTC. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "tests/unit/test.h"

/* "YYYY-MM-DDTHH:MM" (UTC) -> ms */
static int64_t at(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	sscanf(s, "%d-%d-%dT%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000;
}

static int64_t next(const char *expr, const char *from)
{
	struct cron c;
	struct err e;
	if (cron_parse(expr, &c, &e))
		return -2;
	return cron_next(&c, at(from));
}

TEST(cron_next_times)
{
	CHECK_INT(next("* * * * *", "2026-11-22T10:15"), at("2026-11-22T10:16"));
	CHECK_INT(next("*/15 * * * *", "2026-11-22T10:15"), at("2026-11-22T10:30"));
	CHECK_INT(next("0 * * * *", "2026-11-22T10:15"), at("2026-11-22T11:00"));
	CHECK_INT(next("@daily", "2026-11-22T10:15"), at("2026-11-23T00:00"));
	CHECK_INT(next("30 9 * * MON-FRI", "2026-11-21T12:00"), at("2026-11-23T09:30")); /* Sat -> Mon */
	CHECK_INT(next("0 0 1 * *", "2026-12-15T00:00"), at("2027-01-01T00:00"));
	CHECK_INT(next("0 12 29 2 *", "2026-03-01T00:00"), at("2028-02-29T12:00")); /* leap day */
	CHECK_INT(next("0 0 * * 7", "2026-11-22T00:00"), at("2026-11-29T00:00")); /* 7 = Sunday */
	CHECK_INT(next("5,10-12 3 * JAN,dec *", "2026-11-30T00:00"), at("2026-12-01T03:05"));
	/* both day fields restricted: either matches (the 13th, or any Friday) */
	CHECK_INT(next("0 0 13 * 5", "2026-11-22T00:00"), at("2026-11-27T00:00"));
	CHECK_INT(next("0 0 31 2 *", "2026-01-01T00:00"), -1); /* never */
}

TEST(cron_refuses_malformed)
{
	static const char *const bad[] = { "", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *",
					   "* * 0 * *", "* * 32 * *", "* * * 13 *", "* * * * 8",
					   "*/0 * * * *", "5-1 * * * *", "a * * * *", "* * * FOO *",
					   "1,,2 * * * *", "-1 * * * *", "@every_minute", "1234 * * * *" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct cron c;
		struct err e;
		CHECK_INT(cron_parse(bad[i], &c, &e), ERR_INVALID);
		CHECK_STR(e.field, "cron");
	}
}

TEST_MAIN(TEST_ENTRY(cron_next_times), TEST_ENTRY(cron_refuses_malformed))
