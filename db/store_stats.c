/*
 * Execution statistics for the dashboard (GET /api/v1/executions/stats):
 * counts by status, buckets by hour and by day, latency percentiles and a
 * confidence histogram over the executions of one workspace created in a
 * window. Every statement names the tenant and the workspace; the SQL is the
 * same on both backends (buckets are integer division of the ms timestamps).
 */
#include <stdlib.h>
#include <string.h>

#include "db/store.h"
#include "core/core.h"

const char *const store_execution_status_names[EXEC_STATUS__COUNT] = {
	"queued", "running", "waiting_approval", "succeeded", "failed", "cancelled", "timed_out",
};

/* The scope of every query: tenant, workspace, the optional pattern, the window. */
#define SCOPE                                                                                  \
	"tenant_id = ? AND workspace_id = ? AND pattern_id = COALESCE(CAST(? AS TEXT), "       \
	"pattern_id) AND created_at >= ? AND created_at < ?"
#define SCOPE_FMT "sssii"
#define SCOPE_ARGS(t, w, f) (t), (w), (f)->pattern_id, (f)->since, (f)->until

/* Durations of terminal executions that started (a queued one cancelled never did). */
#define LATENCY_WHERE                                                                          \
	SCOPE " AND status IN ('succeeded', 'failed', 'cancelled', 'timed_out') "              \
	      "AND started_at IS NOT NULL AND finished_at IS NOT NULL"

void exec_stats_release(struct exec_stats *s)
{
	free(s->by_hour.items);
	free(s->by_day.items);
	s->by_hour.items = s->by_day.items = NULL;
	s->by_hour.count = s->by_day.count = 0;
}

static int status_index(const char *status)
{
	for (int i = 0; status && i < EXEC_STATUS__COUNT; i++)
		if (!strcmp(status, store_execution_status_names[i]))
			return i;
	return -1;
}

static int stats_summary(struct db *db, const char *tenant_id, const char *workspace_id,
			 const struct exec_stats_filter *f, struct exec_stats *s, struct err *e)
{
	struct db_stmt *st = NULL;
	int rc = db_prepare_bindf(db, e, &st,
				  "SELECT status, COUNT(*), COUNT(confidence), "
				  "COALESCE(SUM(confidence), 0) FROM executions WHERE " SCOPE
				  " GROUP BY status",
				  SCOPE_FMT, SCOPE_ARGS(tenant_id, workspace_id, f));
	while (!rc && (rc = db_step(st, e)) == DB_ROW) {
		int i = status_index(db_column_text(st, 0));
		int64_t n = db_column_int64(st, 1);
		if (i >= 0)
			s->by_status[i] += n;
		s->total += n;
		s->confidence_count += db_column_int64(st, 2);
		s->confidence_sum += db_column_double(st, 3);
		rc = 0;
	}
	db_finalize(st);
	return rc == DB_DONE ? 0 : rc;
}

/* Buckets of width ms (an hour or a day), oldest first, only those with executions. */
static int stats_buckets(struct db *db, const char *tenant_id, const char *workspace_id,
			 const struct exec_stats_filter *f, int64_t width,
			 struct exec_stats_series *out, struct err *e)
{
	struct db_stmt *st = NULL;
	size_t cap = 0;
	int rc = db_prepare_bindf(
		db, e, &st,
		"SELECT created_at / ?, COUNT(*), "
		"SUM(CASE WHEN status = 'succeeded' THEN 1 ELSE 0 END), "
		"SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) "
		"FROM executions WHERE " SCOPE " GROUP BY 1 ORDER BY 1",
		"i" SCOPE_FMT, width, SCOPE_ARGS(tenant_id, workspace_id, f));
	while (!rc && (rc = db_step(st, e)) == DB_ROW) {
		if (out->count == cap) {
			cap = cap ? cap * 2 : 32;
			out->items = xrealloc(out->items, cap * sizeof(*out->items));
		}
		struct exec_stats_bucket *b = &out->items[out->count++];
		b->start_ms = db_column_int64(st, 0) * width;
		b->total = db_column_int64(st, 1);
		b->succeeded = db_column_int64(st, 2);
		b->failed = db_column_int64(st, 3);
		rc = 0;
	}
	db_finalize(st);
	return rc == DB_DONE ? 0 : rc;
}

/* Ten buckets of width 0.1; the last one holds 1.0. Literal bounds compare as
 * doubles on both backends, so 0.3 lands in [0.3, 0.4). */
static int stats_confidence(struct db *db, const char *tenant_id, const char *workspace_id,
			    const struct exec_stats_filter *f, struct exec_stats *s, struct err *e)
{
	struct db_stmt *st = NULL;
	int rc = db_prepare_bindf(
		db, e, &st,
		"SELECT CASE WHEN confidence < 0.1 THEN 0 WHEN confidence < 0.2 THEN 1 "
		"WHEN confidence < 0.3 THEN 2 WHEN confidence < 0.4 THEN 3 "
		"WHEN confidence < 0.5 THEN 4 WHEN confidence < 0.6 THEN 5 "
		"WHEN confidence < 0.7 THEN 6 WHEN confidence < 0.8 THEN 7 "
		"WHEN confidence < 0.9 THEN 8 ELSE 9 END, COUNT(*) "
		"FROM executions WHERE " SCOPE " AND confidence IS NOT NULL GROUP BY 1",
		SCOPE_FMT, SCOPE_ARGS(tenant_id, workspace_id, f));
	while (!rc && (rc = db_step(st, e)) == DB_ROW) {
		int64_t b = db_column_int64(st, 0);
		if (b >= 0 && b < EXEC_STATS_CONF_BUCKETS)
			s->confidence_hist[b] = db_column_int64(st, 1);
		rc = 0;
	}
	db_finalize(st);
	return rc == DB_DONE ? 0 : rc;
}

/* Nearest-rank percentiles: the ceil(p% * n)-th smallest duration, read with
 * LIMIT 1 OFFSET k, so nothing but the count and five values leave the database. */
static int stats_latency(struct db *db, const char *tenant_id, const char *workspace_id,
			 const struct exec_stats_filter *f, struct exec_stats *s, struct err *e)
{
	static const int64_t pct[4] = { 50, 90, 95, 99 };
	int64_t *out[4] = { &s->latency.p50, &s->latency.p90, &s->latency.p95, &s->latency.p99 };
	struct db_stmt *st = NULL;
	int rc = db_prepare_bindf(db, e, &st,
				  "SELECT COUNT(*), COALESCE(MAX(finished_at - started_at), 0) "
				  "FROM executions WHERE " LATENCY_WHERE,
				  SCOPE_FMT, SCOPE_ARGS(tenant_id, workspace_id, f));
	if (!rc && (rc = db_step(st, e)) == DB_ROW) {
		s->latency.count = db_column_int64(st, 0);
		s->latency.max = db_column_int64(st, 1);
		rc = 0;
	}
	db_finalize(st);
	for (int i = 0; !rc && s->latency.count > 0 && i < 4; i++) {
		int64_t rank = (pct[i] * s->latency.count + 99) / 100; /* 1-based */
		rc = db_query_int64(db, e, out[i],
				    "SELECT finished_at - started_at FROM executions WHERE "
				    LATENCY_WHERE " ORDER BY 1 LIMIT 1 OFFSET ?",
				    SCOPE_FMT "i", SCOPE_ARGS(tenant_id, workspace_id, f),
				    rank - 1);
	}
	return rc == DB_DONE ? 0 : rc;
}

int store_execution_stats(struct db *db, const char *tenant_id, const char *workspace_id,
			  const struct exec_stats_filter *f, struct exec_stats *out,
			  struct err *e)
{
	memset(out, 0, sizeof(*out));
	/* one read transaction: on SQLite every section sees the same snapshot */
	int rc = db_begin(db, DB_TX_READ, e);
	if (!rc)
		rc = stats_summary(db, tenant_id, workspace_id, f, out, e);
	if (!rc)
		rc = stats_buckets(db, tenant_id, workspace_id, f, EXEC_STATS_HOUR_MS,
				   &out->by_hour, e);
	if (!rc)
		rc = stats_buckets(db, tenant_id, workspace_id, f, EXEC_STATS_DAY_MS,
				   &out->by_day, e);
	if (!rc)
		rc = stats_confidence(db, tenant_id, workspace_id, f, out, e);
	if (!rc)
		rc = stats_latency(db, tenant_id, workspace_id, f, out, e);
	db_rollback(db); /* read only: nothing to keep */
	if (rc)
		exec_stats_release(out);
	return rc;
}
