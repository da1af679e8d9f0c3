/*
 * Prometheus metrics. Counters and histograms are fixed arrays indexed by
 * route and status slot and updated with relaxed atomics, so observing a
 * request costs a few increments and no lock.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"
#include "db/db.h"
#include "core/core.h"

static const int status_slots[] = { 200, 201, 202, 204, 301, 302, 303, 304, 400, 401, 403,
				    404, 405, 408, 409, 413, 415, 422, 429, 500, 503, 504 };
#define NSTATUS (ARRAY_SIZE(status_slots) + 1) /* last slot: any other */

static const double buckets[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
				  0.1,    0.25,  0.5,    1,     2.5,  5,     10 };
#define NBUCKETS (ARRAY_SIZE(buckets) + 1) /* last: +Inf */

struct route_metrics {
	uint64_t count[NSTATUS];
	uint64_t bucket[NBUCKETS]; /* non-cumulative; summed at render time */
	uint64_t sum_us;
};

static struct route_metrics *rm; /* routes_count + 1 (unmatched) */

void metrics_init(void)
{
	if (!rm)
		rm = xcalloc(routes_count + 1, sizeof(*rm));
}

static size_t status_slot(int status)
{
	for (size_t i = 0; i < ARRAY_SIZE(status_slots); i++)
		if (status_slots[i] == status)
			return i;
	return NSTATUS - 1;
}

void metrics_observe(int route_index, int status, int64_t duration_us)
{
	if (!rm)
		return;
	struct route_metrics *m = &rm[route_index < 0 ? routes_count : (size_t)route_index];
	double secs = (double)duration_us / 1e6;
	size_t b = 0;
	while (b < ARRAY_SIZE(buckets) && secs > buckets[b])
		b++;
	__atomic_fetch_add(&m->count[status_slot(status)], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&m->bucket[b], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&m->sum_us, (uint64_t)(duration_us > 0 ? duration_us : 0),
			   __ATOMIC_RELAXED);
}

static uint64_t load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void render_route(struct buf *out, size_t i, int hist)
{
	const char *route = i < routes_count ? routes[i].pattern : "unmatched";
	const char *method = i < routes_count ? routes[i].method : "";
	const struct route_metrics *m = &rm[i];
	if (!hist) {
		for (size_t s = 0; s < NSTATUS; s++) {
			uint64_t c = load(&m->count[s]);
			if (!c)
				continue;
			if (s < NSTATUS - 1)
				buf_addf(out, "parallax_http_requests_total{route=\"%s\",method=\"%s\","
					 "status=\"%d\"} %llu\n", route, method, status_slots[s],
					 (unsigned long long)c);
			else
				buf_addf(out, "parallax_http_requests_total{route=\"%s\",method=\"%s\","
					 "status=\"other\"} %llu\n", route, method,
					 (unsigned long long)c);
		}
		return;
	}
	uint64_t cum = 0;
	for (size_t b = 0; b < NBUCKETS; b++)
		cum += load(&m->bucket[b]);
	if (!cum)
		return;
	cum = 0;
	for (size_t b = 0; b < NBUCKETS; b++) {
		cum += load(&m->bucket[b]);
		if (b < ARRAY_SIZE(buckets))
			buf_addf(out, "parallax_http_request_duration_seconds_bucket{route=\"%s\","
				 "method=\"%s\",le=\"%g\"} %llu\n", route, method, buckets[b],
				 (unsigned long long)cum);
		else
			buf_addf(out, "parallax_http_request_duration_seconds_bucket{route=\"%s\","
				 "method=\"%s\",le=\"+Inf\"} %llu\n", route, method,
				 (unsigned long long)cum);
	}
	buf_addf(out, "parallax_http_request_duration_seconds_sum{route=\"%s\",method=\"%s\"} %.6f\n",
		 route, method, (double)load(&m->sum_us) / 1e6);
	buf_addf(out, "parallax_http_request_duration_seconds_count{route=\"%s\",method=\"%s\"} %llu\n",
		 route, method, (unsigned long long)cum);
}

static void render_db(struct app *app, struct buf *out)
{
	struct db_pool_stats st;
	db_pool_stats(app->pool, &st);
	buf_addf(out, "# HELP parallax_db_pool_connections Database pool connections by state.\n"
		      "# TYPE parallax_db_pool_connections gauge\n"
		      "parallax_db_pool_connections{state=\"size\"} %d\n"
		      "parallax_db_pool_connections{state=\"in_use\"} %d\n"
		      "parallax_db_pool_connections{state=\"waiting\"} %d\n",
		 st.size, st.in_use, st.waiting);
	buf_addf(out, "# HELP parallax_db_pool_acquires_total Connections handed out.\n"
		      "# TYPE parallax_db_pool_acquires_total counter\n"
		      "parallax_db_pool_acquires_total %llu\n"
		      "# HELP parallax_db_pool_waits_total Acquires that had to wait.\n"
		      "# TYPE parallax_db_pool_waits_total counter\n"
		      "parallax_db_pool_waits_total %llu\n"
		      "# HELP parallax_db_pool_timeouts_total Acquires that timed out.\n"
		      "# TYPE parallax_db_pool_timeouts_total counter\n"
		      "parallax_db_pool_timeouts_total %llu\n"
		      "# HELP parallax_db_queries_total Statements executed.\n"
		      "# TYPE parallax_db_queries_total counter\n"
		      "parallax_db_queries_total %llu\n"
		      "# HELP parallax_db_errors_total Statements that failed.\n"
		      "# TYPE parallax_db_errors_total counter\n"
		      "parallax_db_errors_total %llu\n",
		 (unsigned long long)st.acquires, (unsigned long long)st.waits,
		 (unsigned long long)st.timeouts, (unsigned long long)st.queries,
		 (unsigned long long)st.errors);
}

/*
 * The queue and the executions, read from the database at scrape time. The
 * figures are database-wide (every tenant), so every instance on one database
 * shows the same ones: aggregate them with max(), not sum(). Each query is
 * bounded:
 * - parallax_queue_jobs{status="queued"|"running"} (gauge): jobs of every kind
 *   in the queue and claimed (queue_depth), counted on the claim index, so the
 *   work is the queue's depth.
 * - parallax_executions{status} (gauge, all seven statuses): queued, running
 *   and waiting_approval count every such execution (the active-executions
 *   partial index: as many as are in flight); the terminal statuses count
 *   among the newest WINDOW executions (by id: UUIDv7, so creation order),
 *   read backwards on the primary key and never more.
 * - parallax_execution_duration_seconds (histogram): finished_at - started_at
 *   of the terminal executions in that same window, buckets in seconds. A
 *   sliding window, not a counter since start: read it with histogram_quantile()
 *   as it is, not through rate().
 */
static void render_queue(struct app *app, struct buf *out)
{
#define LE(ms) "SUM(CASE WHEN d <= " #ms " THEN 1 ELSE 0 END), "
	static const double le[] = { 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
				     2.5,  5,     10,   30,  60,   300, 3600 };
	static const char *const sql[2] = {
		"SELECT status, COUNT(*) FROM executions WHERE status IN "
		"('queued', 'running', 'waiting_approval') GROUP BY status",
		"SELECT status, COUNT(*), COUNT(d), CAST(COALESCE(SUM(d), 0) AS BIGINT), "
		LE(10) LE(25) LE(50) LE(100) LE(250) LE(500) LE(1000) LE(2500) LE(5000) LE(10000)
		LE(30000) LE(60000) LE(300000) "SUM(CASE WHEN d <= 3600000 THEN 1 ELSE 0 END) "
		"FROM (SELECT status, finished_at - started_at AS d FROM executions "
		"ORDER BY id DESC LIMIT ?) w "
		"WHERE status IN ('succeeded', 'failed', 'cancelled', 'timed_out') GROUP BY status",
	};
#undef LE
	enum { WINDOW = 10000 };
	int64_t queued = 0, running = 0, n[EXEC_STATUS__COUNT] = { 0 }, count = 0, sum_ms = 0;
	int64_t bucket[ARRAY_SIZE(le)] = { 0 };
	struct db *db = NULL;
	struct db_stmt *st = NULL;
	struct err e;
	if (db_acquire(app->pool, 2000, &db, &e) || queue_depth(db, &queued, &running, &e))
		goto out;
	for (int pass = 0; pass < 2; pass++) { /* the active statuses, then the window */
		int rc = db_prepare_bindf(db, &e, &st, sql[pass], pass ? "i" : "", (int64_t)WINDOW);
		while (!rc && db_step(st, &e) == DB_ROW) {
			for (int i = 0; i < EXEC_STATUS__COUNT; i++)
				if (!strcmp(store_execution_status_names[i], db_column_text(st, 0)))
					n[i] = db_column_int64(st, 1);
			if (!pass)
				continue;
			count += db_column_int64(st, 2);
			sum_ms += db_column_int64(st, 3);
			for (size_t b = 0; b < ARRAY_SIZE(le); b++)
				bucket[b] += db_column_int64(st, 4 + (int)b);
		}
		db_finalize(st);
		st = NULL;
	}
	buf_addf(out, "# HELP parallax_queue_jobs Jobs in the queue by status (database-wide).\n"
		      "# TYPE parallax_queue_jobs gauge\n"
		      "parallax_queue_jobs{status=\"queued\"} %lld\n"
		      "parallax_queue_jobs{status=\"running\"} %lld\n"
		      "# HELP parallax_executions Executions by status (database-wide): every "
		      "active one, and the terminal ones among the newest %d.\n"
		      "# TYPE parallax_executions gauge\n",
		 (long long)queued, (long long)running, WINDOW);
	for (int i = 0; i < EXEC_STATUS__COUNT; i++)
		buf_addf(out, "parallax_executions{status=\"%s\"} %lld\n",
			 store_execution_status_names[i], (long long)n[i]);
	buf_addf(out, "# HELP parallax_execution_duration_seconds Run time of the terminal "
		      "executions among the newest %d (a sliding window; database-wide).\n"
		      "# TYPE parallax_execution_duration_seconds histogram\n", WINDOW);
	for (size_t b = 0; b < ARRAY_SIZE(le); b++)
		buf_addf(out, "parallax_execution_duration_seconds_bucket{le=\"%g\"} %lld\n", le[b],
			 (long long)bucket[b]);
	buf_addf(out, "parallax_execution_duration_seconds_bucket{le=\"+Inf\"} %lld\n"
		      "parallax_execution_duration_seconds_sum %.3f\n"
		      "parallax_execution_duration_seconds_count %lld\n",
		 (long long)count, (double)sum_ms / 1000.0, (long long)count);
out:
	db_release(db);
}

void metrics_render(struct app *app, struct buf *out)
{
	buf_adds(out, "# HELP parallax_http_requests_total HTTP requests by route, method and status.\n"
		      "# TYPE parallax_http_requests_total counter\n");
	for (size_t i = 0; i <= routes_count; i++)
		render_route(out, i, 0);
	buf_adds(out, "# HELP parallax_http_request_duration_seconds HTTP request latency.\n"
		      "# TYPE parallax_http_request_duration_seconds histogram\n");
	for (size_t i = 0; i <= routes_count; i++)
		render_route(out, i, 1);
	render_db(app, out);
	render_queue(app, out);
	buf_addf(out, "# HELP parallax_uptime_seconds Seconds since start.\n"
		      "# TYPE parallax_uptime_seconds gauge\nparallax_uptime_seconds %.3f\n",
		 (double)(now_ms() - app->started_ms) / 1000.0);
}

int handle_metrics(struct req *r)
{
	struct buf b = BUF_INIT;
	metrics_render(r->app, &b);
	req_send(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.p, b.len);
	buf_release(&b);
	return 0;
}
