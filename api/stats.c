/*
 * GET /api/v1/executions/stats (SPEC §6): for the workspace's executions
 * created in [since, until) (default: the last 7 days), optionally of one
 * pattern (id or name): counts by status, success rate (succeeded among the
 * terminal ones), mean confidence, counts by UTC hour and day, latency
 * percentiles of terminal executions and a ten-bucket confidence histogram.
 */
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "db/db.h"
#include "server/server.h"
#include "core/core.h"

#define STATS_DEFAULT_MS   (7 * EXEC_STATS_DAY_MS)
#define STATS_RANGE_MAX_MS (366 * EXEC_STATS_DAY_MS)

/* "2026-01-05T10:00:00Z": a bucket's start, to the second. */
static void add_bucket_time(cJSON *o, const char *key, int64_t ms)
{
	char s[32];
	struct tm tm;
	time_t t = (time_t)(ms / 1000);
	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_AddStringToObject(o, key, s);
}

static cJSON *series_json(const struct exec_stats_series *s, const char *key)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < s->count; i++) {
		cJSON *o = cJSON_CreateObject();
		add_bucket_time(o, key, s->items[i].start_ms);
		cJSON_AddNumberToObject(o, "total", (double)s->items[i].total);
		cJSON_AddNumberToObject(o, "succeeded", (double)s->items[i].succeeded);
		cJSON_AddNumberToObject(o, "failed", (double)s->items[i].failed);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

/* n / d, or null when d is 0. */
static void add_ratio(cJSON *o, const char *key, double n, double d)
{
	if (d > 0)
		cJSON_AddNumberToObject(o, key, n / d);
	else
		cJSON_AddNullToObject(o, key);
}

static cJSON *summary_json(const struct exec_stats *s)
{
	cJSON *j = cJSON_CreateObject(), *by = cJSON_CreateObject();
	int64_t ended = s->by_status[EXEC_SUCCEEDED] + s->by_status[EXEC_FAILED] +
			s->by_status[EXEC_CANCELLED] + s->by_status[EXEC_TIMED_OUT];
	cJSON_AddNumberToObject(j, "total", (double)s->total);
	for (int i = 0; i < EXEC_STATUS__COUNT; i++)
		cJSON_AddNumberToObject(by, store_execution_status_names[i],
					(double)s->by_status[i]);
	cJSON_AddItemToObject(j, "by_status", by);
	add_ratio(j, "success_rate", (double)s->by_status[EXEC_SUCCEEDED], (double)ended);
	add_ratio(j, "mean_confidence", s->confidence_sum, (double)s->confidence_count);
	return j;
}

static cJSON *latency_json(const struct exec_stats *s)
{
	const char *names[] = { "p50", "p90", "p95", "p99", "max" };
	const int64_t v[] = { s->latency.p50, s->latency.p90, s->latency.p95, s->latency.p99,
			      s->latency.max };
	cJSON *j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "count", (double)s->latency.count);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (s->latency.count)
			cJSON_AddNumberToObject(j, names[i], (double)v[i]);
		else
			cJSON_AddNullToObject(j, names[i]);
	return j;
}

static cJSON *histogram_json(const struct exec_stats *s)
{
	cJSON *arr = cJSON_CreateArray();
	for (int i = 0; i < EXEC_STATS_CONF_BUCKETS; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "from", i / 10.0);
		cJSON_AddNumberToObject(o, "to", (i + 1) / 10.0);
		cJSON_AddNumberToObject(o, "count", (double)s->confidence_hist[i]);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static cJSON *stats_json(const struct exec_stats *s)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddItemToObject(j, "summary", summary_json(s));
	cJSON_AddItemToObject(j, "by_hour", series_json(&s->by_hour, "hour"));
	cJSON_AddItemToObject(j, "by_day", series_json(&s->by_day, "day"));
	cJSON_AddItemToObject(j, "latency_ms", latency_json(s));
	cJSON_AddItemToObject(j, "confidence_histogram", histogram_json(s));
	return j;
}

/* The window (400 naming the field) and the pattern; *none = 1 when no pattern matches. */
static int stats_parse(struct req *r, struct db *db, struct exec_stats_filter *f,
		       struct pattern_row *p, int *none)
{
	const char *q = req_query(r, "pattern");
	int rc;
	f->until = now_ms() + 1; /* exclusive: now is in */
	if ((rc = api_query_time(r, "until", &f->until)) < 0)
		return rc;
	if ((rc = api_query_time(r, "since", &f->since)) < 0)
		return rc;
	if (rc == 1)
		f->since = f->until > STATS_DEFAULT_MS ? f->until - STATS_DEFAULT_MS : 0;
	if (f->since >= f->until)
		return req_fail(r, ERR_INVALID, "invalid_query", "since",
				"'since' must be before 'until'");
	if (f->until - f->since > STATS_RANGE_MAX_MS)
		return req_fail(r, ERR_INVALID, "invalid_query", "since",
				"the window from 'since' to 'until' spans at most 366 days");
	if (!q)
		return 0;
	rc = store_pattern_get(db, r->auth.tenant_id, r->auth.workspace_id, q, p, &r->err);
	*none = rc == ERR_NOT_FOUND; /* as the list: an unknown pattern matches nothing */
	f->pattern_id = rc ? NULL : p->id;
	return rc == ERR_NOT_FOUND ? 0 : rc;
}

int api_executions_stats(struct req *r)
{
	struct exec_stats_filter f = { NULL, 0, 0 };
	struct exec_stats s;
	struct pattern_row p;
	struct db *db;
	int none = 0, rc;
	if (!r->auth.workspace_id[0])
		return req_fail(r, ERR_NOT_FOUND, "workspace_not_found", NULL, "no workspace");
	if ((rc = req_db(r, &db)) || (rc = stats_parse(r, db, &f, &p, &none)))
		return rc;
	memset(&s, 0, sizeof(s));
	if (!none &&
	    (rc = store_execution_stats(db, r->auth.tenant_id, r->auth.workspace_id, &f, &s,
					&r->err)))
		return rc;
	rc = req_json(r, 200, stats_json(&s));
	exec_stats_release(&s);
	return rc;
}
