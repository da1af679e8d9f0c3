/*
 * GET /: the overview of the signed-in user's workspace (SPEC §8): KPIs
 * (executions today, success rate, p50/p95 duration, mean confidence, the
 * queue, agent health) and three server-drawn charts over the last 7 days
 * (executions by hour over the last 24 hours by status, the confidence
 * histogram, latency percentiles). Signed out, it redirects to /login.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "web/web.h"
#include "db/db.h"
#include "server/server.h"
#include "core/core.h"

#define WINDOW_MS (7 * EXEC_STATS_DAY_MS)
#define AGENTS_MAX 500

static const char *const status_parts[] = { "ok", "bad", "other" };

static void kpi(cJSON *list, const char *id, const char *label, const char *value,
		const char *hint)
{
	cJSON *k = cJSON_CreateObject();
	cJSON_AddStringToObject(k, "id", id);
	cJSON_AddStringToObject(k, "label", label);
	cJSON_AddStringToObject(k, "value", value);
	if (hint)
		cJSON_AddStringToObject(k, "hint", hint);
	cJSON_AddItemToArray(list, k);
}

static void duration(char *out, size_t n, int64_t ms)
{
	if (ms < 1000)
		snprintf(out, n, "%lld ms", (long long)ms);
	else if (ms < 120000)
		snprintf(out, n, "%.1f s", (double)ms / 1000);
	else
		snprintf(out, n, "%.1f min", (double)ms / 60000);
}

static char *svg_of(const char *label, const struct chart_bar *bars, size_t n, int parts,
		    const char *const *classes)
{
	struct buf b = BUF_INIT;
	chart_bars(&b, label, bars, n, parts, classes);
	return buf_detach(&b, NULL);
}

/* The last 24 hours, one bar an hour, stacked succeeded / failed / the rest. */
static char *hours_chart(const struct exec_stats *s, int64_t now)
{
	struct chart_bar bars[24];
	char labels[24][8];
	int64_t first = (now / EXEC_STATS_HOUR_MS - 23) * EXEC_STATS_HOUR_MS;
	memset(bars, 0, sizeof(bars));
	for (int i = 0; i < 24; i++) {
		int64_t start = first + i * EXEC_STATS_HOUR_MS;
		const struct exec_stats_bucket *k = NULL;
		for (size_t j = 0; j < s->by_hour.count && !k; j++)
			if (s->by_hour.items[j].start_ms == start)
				k = &s->by_hour.items[j];
		int64_t total = k ? k->total : 0, ok = k ? k->succeeded : 0, bad = k ? k->failed : 0;
		time_t t = (time_t)(start / 1000);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(labels[i], sizeof(labels[i]), "%H:00", &tm);
		bars[i].label = labels[i];
		bars[i].v[0] = (double)ok;
		bars[i].v[1] = (double)bad;
		bars[i].v[2] = (double)(total - ok - bad);
		snprintf(bars[i].title, sizeof(bars[i].title),
			 "%s UTC: %lld executions, %lld succeeded, %lld failed, %lld other", labels[i],
			 (long long)total, (long long)ok, (long long)bad,
			 (long long)(total - ok - bad));
	}
	return svg_of("Executions per hour over the last 24 hours, by status", bars, 24, 3,
		      status_parts);
}

static char *confidence_chart(const struct exec_stats *s)
{
	static const char *const one[] = { "conf" };
	struct chart_bar bars[EXEC_STATS_CONF_BUCKETS];
	char labels[EXEC_STATS_CONF_BUCKETS][8];
	memset(bars, 0, sizeof(bars));
	for (int i = 0; i < EXEC_STATS_CONF_BUCKETS; i++) {
		snprintf(labels[i], sizeof(labels[i]), "%.1f", i / 10.0);
		bars[i].label = labels[i];
		bars[i].v[0] = (double)s->confidence_hist[i];
		snprintf(bars[i].title, sizeof(bars[i].title), "confidence %.1f to %.1f: %lld executions",
			 i / 10.0, (i + 1) / 10.0, (long long)s->confidence_hist[i]);
	}
	return svg_of("Confidence of the results, in tenths", bars, EXEC_STATS_CONF_BUCKETS, 1, one);
}

static char *latency_chart(const struct exec_stats *s)
{
	static const char *const one[] = { "lat" };
	static const char *const names[] = { "p50", "p90", "p95", "p99", "max" };
	const int64_t v[] = { s->latency.p50, s->latency.p90, s->latency.p95, s->latency.p99,
			      s->latency.max };
	struct chart_bar bars[5];
	memset(bars, 0, sizeof(bars));
	for (int i = 0; i < 5; i++) {
		char d[32];
		duration(d, sizeof(d), v[i]);
		bars[i].label = names[i];
		bars[i].v[0] = (double)v[i];
		snprintf(bars[i].title, sizeof(bars[i].title), "%s: %s (%lld ms)", names[i], d,
			 (long long)v[i]);
	}
	return svg_of("Duration percentiles of finished executions, in milliseconds", bars, 5, 1,
		      one);
}

static void kpis(cJSON *ctx, const struct exec_stats *s, int64_t now, int healthy, int agents,
		 int unhealthy)
{
	cJSON *list = cJSON_AddArrayToObject(ctx, "kpis");
	char v[96], h[96];
	int64_t today = now / EXEC_STATS_DAY_MS * EXEC_STATS_DAY_MS, n = 0;
	for (size_t i = 0; i < s->by_hour.count; i++)
		if (s->by_hour.items[i].start_ms >= today)
			n += s->by_hour.items[i].total;
	snprintf(v, sizeof(v), "%lld", (long long)n);
	kpi(list, "kpi-today", "Executions today", v, "since 00:00 UTC");
	int64_t ended = s->by_status[EXEC_SUCCEEDED] + s->by_status[EXEC_FAILED] +
			s->by_status[EXEC_CANCELLED] + s->by_status[EXEC_TIMED_OUT];
	if (ended)
		snprintf(v, sizeof(v), "%.1f %%", 100.0 * (double)s->by_status[EXEC_SUCCEEDED] /
							  (double)ended);
	snprintf(h, sizeof(h), "%lld of %lld finished, 7 days", (long long)s->by_status[EXEC_SUCCEEDED],
		 (long long)ended);
	kpi(list, "kpi-success", "Success rate", ended ? v : "—", h);
	if (s->latency.count) {
		char a[24], b[24];
		duration(a, sizeof(a), s->latency.p50);
		duration(b, sizeof(b), s->latency.p95);
		snprintf(v, sizeof(v), "%s / %s", a, b);
	}
	kpi(list, "kpi-duration", "Duration p50 / p95", s->latency.count ? v : "—", "7 days");
	if (s->confidence_count)
		snprintf(v, sizeof(v), "%.2f", s->confidence_sum / (double)s->confidence_count);
	kpi(list, "kpi-confidence", "Mean confidence", s->confidence_count ? v : "—", "7 days");
	snprintf(v, sizeof(v), "%lld / %lld", (long long)s->by_status[EXEC_QUEUED],
		 (long long)s->by_status[EXEC_RUNNING]);
	snprintf(h, sizeof(h), "queued / running; %lld awaiting approval",
		 (long long)s->by_status[EXEC_WAITING_APPROVAL]);
	kpi(list, "kpi-queue", "Queue", v, h);
	snprintf(v, sizeof(v), "%d / %d", healthy, agents);
	snprintf(h, sizeof(h), "%d degraded or down, %d not checked yet", unhealthy,
		 agents - healthy - unhealthy);
	kpi(list, "kpi-agents", "Agents healthy", v, agents ? h : "no agents yet");
}

/* The workspace's agents (the first AGENTS_MAX) by the agents page's states: healthy, and
 * degraded or down ("unhealthy"); the rest are unknown or disabled. */
static int agent_health(struct req *r, int *healthy, int *total, int *unhealthy)
{
	const char *page_query = r->query, *cursor = NULL;
	int rc = 0;
	*healthy = *total = *unhealthy = 0;
	do {
		cJSON *answer = NULL;
		const cJSON *a;
		r->query = cursor ? arena_printf(r->arena, "limit=100&cursor=%s", cursor) :
				    "limit=100";
		rc = web_api_call(r, "GET", "/api/v1/agents", NULL, &answer);
		cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(answer, "items")) {
			const char *state = web_agent_state(r, a);
			(*total)++;
			*healthy += !strcmp(state, "healthy");
			*unhealthy += !strcmp(state, "degraded") || !strcmp(state, "down");
		}
		const char *next = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(answer, "next_cursor"));
		cursor = next ? arena_strdup(r->arena, next) : NULL;
		cJSON_Delete(answer);
	} while (!rc && cursor && *total < AGENTS_MAX);
	r->query = page_query;
	return rc;
}

int web_home(struct req *r)
{
	struct exec_stats s;
	struct db *db;
	cJSON *ctx;
	int healthy = 0, agents = 0, unhealthy = 0, rc;
	int64_t now = now_ms();
	if ((rc = web_app_begin(r, &db, "overview", &ctx)) || !ctx)
		return rc;
	memset(&s, 0, sizeof(s));
	struct exec_stats_filter f = { NULL, now - WINDOW_MS, now + 1 };
	if (r->auth.workspace_id[0] &&
	    ((rc = store_execution_stats(db, r->auth.tenant_id, r->auth.workspace_id, &f, &s,
					 &r->err)) ||
	     (rc = agent_health(r, &healthy, &agents, &unhealthy)))) {
		exec_stats_release(&s);
		cJSON_Delete(ctx);
		return rc;
	}
	kpis(ctx, &s, now, healthy, agents, unhealthy);
	if (s.total) {
		cJSON *c = cJSON_AddObjectToObject(ctx, "charts");
		char *svg;
		cJSON_AddStringToObject(c, "hours", svg = hours_chart(&s, now));
		free(svg);
		cJSON_AddStringToObject(c, "confidence", svg = confidence_chart(&s));
		free(svg);
		if (s.latency.count) {
			cJSON_AddStringToObject(c, "latency", svg = latency_chart(&s));
			free(svg);
		}
	}
	exec_stats_release(&s);
	rc = web_render(r, 200, "overview", ctx);
	cJSON_Delete(ctx);
	return rc;
}
