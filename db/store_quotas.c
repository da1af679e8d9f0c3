/*
 * Per-tenant quotas: the limits (tenant_quotas, editable by an admin up to
 * the plan's ceilings below) and the usage counters (tenant_usage).
 *
 * DESIGN
 * - A check and its increment are one conditional UPDATE
 *   (value + n <= limit) on the counter row, inside the caller's write
 *   transaction: on SQLite BEGIN IMMEDIATE serializes writers; on
 *   PostgreSQL the row lock makes a racing UPDATE wait and re-check the
 *   condition against the committed value. So N racers at limit - 1 let
 *   exactly one through on both backends.
 * - Counters of counts (period "") start from the real row count the first
 *   time they are touched, so tenants created before a counter existed (or
 *   by set-up) are consistent. Periodic counters start at 0 each period.
 * - SQL names each metric's column literally (one statement per metric);
 *   no SQL is built from values.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "db/db.h"
#include "db/tenancy_internal.h"
#include "core/core.h"

const char *const store_quota_names[QUOTA__COUNT] = {
	"members",	      "workspaces",	       "agents",
	"patterns",	      "executions_per_day",    "concurrent_executions",
	"tokens_per_month",   "requests_per_minute",
};

enum period_kind { PERIOD_NONE, PERIOD_DAY, PERIOD_MONTH, PERIOD_MINUTE };

#define Q_TAKE(c)                                                                          \
	"UPDATE tenant_usage SET value = value + ?, updated_at = ? WHERE tenant_id = ? "   \
	"AND metric = '" c "' AND period = ? "                                             \
	"AND value + ? <= (SELECT " c " FROM tenant_quotas WHERE tenant_id = ?)"
#define Q_LIMIT(c) "SELECT " c " FROM tenant_quotas WHERE tenant_id = ?"
#define Q_COUNT(table) "SELECT count(*) FROM " table " WHERE tenant_id = ?"
#define Q_ACTIVE                                                                           \
	"SELECT count(*) FROM executions WHERE tenant_id = ? "                             \
	"AND status IN ('queued', 'running', 'waiting_approval')"

static const struct metric {
	int period;
	const char *take, *limit;
	const char *count; /* counts: the real count (one tenant parameter); else NULL */
} metrics[QUOTA__COUNT] = {
	{ PERIOD_NONE, Q_TAKE("members"), Q_LIMIT("members"), Q_COUNT("memberships") },
	{ PERIOD_NONE, Q_TAKE("workspaces"), Q_LIMIT("workspaces"), Q_COUNT("workspaces") },
	{ PERIOD_NONE, Q_TAKE("agents"), Q_LIMIT("agents"), Q_COUNT("agents") },
	{ PERIOD_NONE, Q_TAKE("patterns"), Q_LIMIT("patterns"), Q_COUNT("patterns") },
	{ PERIOD_DAY, Q_TAKE("executions_per_day"), Q_LIMIT("executions_per_day"), NULL },
	{ PERIOD_NONE, Q_TAKE("concurrent_executions"), Q_LIMIT("concurrent_executions"),
	  Q_ACTIVE },
	{ PERIOD_MONTH, Q_TAKE("tokens_per_month"), Q_LIMIT("tokens_per_month"), NULL },
	{ PERIOD_MINUTE, Q_TAKE("requests_per_minute"), Q_LIMIT("requests_per_minute"), NULL },
};

/* Plan ceilings; "free" (the migration's default plan) is store_default_quotas. */
static const struct plan {
	const char *name;
	int64_t max[QUOTA__COUNT];
} plans[] = {
	{ "team", { 500, 200, 2000, 5000, 1000000, 1000, 500000000, 60000 } },
	{ "enterprise",
	  { 100000, 10000, 100000, 1000000, 100000000, 100000, 100000000000, 1000000 } },
};

static void plan_ceilings(const char *name, int64_t out[QUOTA__COUNT])
{
	const struct tenant_quota_defaults *d = &store_default_quotas;
	for (size_t i = 0; i < ARRAY_SIZE(plans); i++)
		if (!strcmp(name, plans[i].name)) {
			memcpy(out, plans[i].max, sizeof(plans[i].max));
			return;
		}
	int64_t free_plan[QUOTA__COUNT] = { d->members, d->workspaces, d->agents, d->patterns,
					    d->executions_per_day, d->concurrent_executions,
					    d->tokens_per_month, d->requests_per_minute };
	memcpy(out, free_plan, sizeof(free_plan));
}

static int metric_index(const char *name, struct err *e)
{
	for (int i = 0; name && i < QUOTA__COUNT; i++)
		if (!strcmp(name, store_quota_names[i]))
			return i;
	return err_set(e, ERR_INTERNAL, NULL, "unknown quota metric");
}

/* The current period key of a metric: "", "YYYY-MM-DD", "YYYY-MM" or "YYYY-MM-DDTHH:MM". */
static void period_key(int kind, char out[24])
{
	time_t t = (time_t)(now_ms() / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	out[0] = '\0';
	if (kind == PERIOD_DAY)
		strftime(out, 24, "%Y-%m-%d", &tm);
	else if (kind == PERIOD_MONTH)
		strftime(out, 24, "%Y-%m", &tm);
	else if (kind == PERIOD_MINUTE)
		strftime(out, 24, "%Y-%m-%dT%H:%M", &tm);
}

static const char sql_ensure_zero[] =
	"INSERT INTO tenant_usage (tenant_id, metric, period, value, updated_at) "
	"VALUES (?, ?, ?, 0, ?) ON CONFLICT (tenant_id, metric, period) DO NOTHING";
static const char *const sql_ensure_count[QUOTA__COUNT] = {
#define Q_ENSURE(expr)                                                                     \
	"INSERT INTO tenant_usage (tenant_id, metric, period, value, updated_at) "         \
	"VALUES (?, ?, '', (" expr "), ?) ON CONFLICT (tenant_id, metric, period) DO NOTHING"
	Q_ENSURE(Q_COUNT("memberships")), Q_ENSURE(Q_COUNT("workspaces")),
	Q_ENSURE(Q_COUNT("agents")),	  Q_ENSURE(Q_COUNT("patterns")),
	NULL,				  Q_ENSURE(Q_ACTIVE),
	NULL,				  NULL,
#undef Q_ENSURE
};

/* Make sure the counter row of this period exists. */
static int usage_ensure(struct db *db, const char *tenant_id, int m, const char *period,
			struct err *e)
{
	int64_t now = now_ms(), exists = 0;
	/* the common case: the row is there; only a first use pays for the count below */
	int rc = db_query_int64(db, e, &exists,
				"SELECT COUNT(*) FROM tenant_usage WHERE tenant_id = ? AND metric = ? "
				"AND period = ?",
				"sss", tenant_id, store_quota_names[m], sql_ensure_count[m] ? "" : period);
	if (rc || exists)
		return rc;
	if (sql_ensure_count[m])
		return db_execf(db, e, NULL, sql_ensure_count[m], "sssi", tenant_id,
				store_quota_names[m], tenant_id, now);
	return db_execf(db, e, NULL, sql_ensure_zero, "sssi", tenant_id, store_quota_names[m],
			period, now);
}

/* The conditional increment; *n is 1 if it was within the quota (and the row exists). */
static int take_once(struct db *db, const char *tenant_id, int m, const char *period,
		     int64_t amount, int64_t *n, struct err *e)
{
	return db_execf(db, e, n, metrics[m].take, "iissis", amount, now_ms(), tenant_id, period,
			amount, tenant_id);
}

/* The counter row is looked for only when the update changed nothing: first use, or full. */
int store_quota_take(struct db *db, const char *tenant_id, const char *metric, int64_t amount,
		     struct err *e)
{
	char period[24];
	int64_t n = 0, limit = 0;
	int m = metric_index(metric, e), rc;
	if (m < 0)
		return m;
	period_key(metrics[m].period, period);
	if ((rc = take_once(db, tenant_id, m, period, amount, &n, e)) || n == 1)
		return rc;
	if ((rc = usage_ensure(db, tenant_id, m, period, e)) ||
	    (rc = take_once(db, tenant_id, m, period, amount, &n, e)) || n == 1)
		return rc;
	if ((rc = db_query_int64(db, e, &limit, metrics[m].limit, "s", tenant_id)))
		return rc;
	return err_setc(e, ERR_RATE_LIMITED, "quota_exceeded", metric,
			"the %s quota of this tenant (%lld) is reached", metric, (long long)limit);
}

static const char sql_release[] =
	"UPDATE tenant_usage SET value = CASE WHEN value > ? THEN value - ? ELSE 0 END, "
	"updated_at = ? WHERE tenant_id = ? AND metric = ? AND period = ?";

int store_quota_release(struct db *db, const char *tenant_id, const char *metric,
			int64_t amount, struct err *e)
{
	char period[24];
	int64_t n = 0;
	int m = metric_index(metric, e), rc;
	if (m < 0)
		return m;
	period_key(metrics[m].period, period);
	rc = db_execf(db, e, &n, sql_release, "iiisss", amount, amount, now_ms(), tenant_id,
		      metric, period);
	if (rc || n == 1)
		return rc;
	if ((rc = usage_ensure(db, tenant_id, m, period, e)))
		return rc;
	return db_execf(db, e, NULL, sql_release, "iiisss", amount, amount, now_ms(), tenant_id,
			metric, period);
}

/*
 * A submission's two units, concurrent_executions then executions_per_day: always in
 * this order, as the counter rows stay locked to the commit (PostgreSQL) and another
 * order could deadlock with a concurrent submission (one statement for both locks them
 * in the order of the plan's scan, which is not fixed). All or nothing.
 */
int store_quota_take_execution(struct db *db, const char *tenant_id, struct err *e)
{
	static const int both[] = { QUOTA_CONCURRENT_EXECUTIONS, QUOTA_EXECUTIONS_PER_DAY };
	size_t n = 0;
	int rc = 0;
	while (n < ARRAY_SIZE(both) &&
	       !(rc = store_quota_take(db, tenant_id, store_quota_names[both[n]], 1, e)))
		n++;
	/* for a caller that goes on in the same transaction */
	for (size_t i = 0; rc == ERR_RATE_LIMITED && i < n; i++) {
		struct err ignored;
		store_quota_release(db, tenant_id, store_quota_names[both[i]], 1, &ignored);
	}
	return rc;
}

static const char *const sql_recount[QUOTA__COUNT] = {
#define Q_RECOUNT(expr)                                                                    \
	"UPDATE tenant_usage SET value = (" expr "), updated_at = ? "                      \
	"WHERE tenant_id = ? AND metric = ? AND period = ''"
	Q_RECOUNT(Q_COUNT("memberships")), Q_RECOUNT(Q_COUNT("workspaces")),
	Q_RECOUNT(Q_COUNT("agents")),	   Q_RECOUNT(Q_COUNT("patterns")),
	NULL,				   Q_RECOUNT(Q_ACTIVE),
	NULL,				   NULL,
#undef Q_RECOUNT
};

int tn_quota_recount(struct db *db, const char *tenant_id, const char *metric, struct err *e)
{
	int m = metric_index(metric, e);
	if (m < 0 || !sql_recount[m])
		return m < 0 ? m : 0;
	return db_execf(db, e, NULL, sql_recount[m], "siss", tenant_id, now_ms(), tenant_id,
			metric);
}

/* --- the report and the admin's edits ------------------------------------------------ */

static const char sql_quotas_get[] =
	"SELECT q.members, q.workspaces, q.agents, q.patterns, q.executions_per_day, "
	"q.concurrent_executions, q.tokens_per_month, q.requests_per_minute, t.plan "
	"FROM tenant_quotas q JOIN tenants t ON t.id = q.tenant_id WHERE q.tenant_id = ?";

static int quotas_limits(struct db *db, const char *tenant_id, struct quota_report *out,
			 struct err *e)
{
	struct db_stmt *st = NULL;
	int rc = db_prepare(db, sql_quotas_get, &st, e);
	if (!rc)
		rc = tn_bound(db_bindf(st, "s", tenant_id), e);
	if (!rc)
		rc = tn_one_row(db_step(st, e), e, "tenant");
	for (int i = 0; !rc && i < QUOTA__COUNT; i++)
		out->limit[i] = db_column_int64(st, i);
	if (!rc)
		tn_col(st, QUOTA__COUNT, out->plan_name, sizeof(out->plan_name));
	db_finalize(st);
	return rc;
}

/* Current usage of metric m: its counter, else (never counted) the real count or 0. */
static int quota_usage(struct db *db, const char *tenant_id, int m, int64_t *out,
		       struct err *e)
{
	char period[24];
	period_key(metrics[m].period, period);
	*out = 0;
	int rc = db_query_int64(db, e, out,
				"SELECT value FROM tenant_usage WHERE tenant_id = ? AND metric = ? "
				"AND period = ?",
				"sss", tenant_id, store_quota_names[m], period);
	if (rc == ERR_NOT_FOUND && metrics[m].count)
		return db_query_int64(db, e, out, metrics[m].count, "s", tenant_id);
	if (rc == ERR_NOT_FOUND)
		err_clear(e);
	return rc == ERR_NOT_FOUND ? 0 : rc;
}

int store_quotas_get(struct db *db, const char *tenant_id, struct quota_report *out,
		     struct err *e)
{
	int rc;
	memset(out, 0, sizeof(*out));
	if ((rc = quotas_limits(db, tenant_id, out, e)))
		return rc;
	plan_ceilings(out->plan_name, out->plan);
	for (int i = 0; !rc && i < QUOTA__COUNT; i++)
		rc = quota_usage(db, tenant_id, i, &out->usage[i], e);
	return rc;
}

static const char sql_quotas_set[] =
	"UPDATE tenant_quotas SET members = COALESCE(?, members), "
	"workspaces = COALESCE(?, workspaces), agents = COALESCE(?, agents), "
	"patterns = COALESCE(?, patterns), "
	"executions_per_day = COALESCE(?, executions_per_day), "
	"concurrent_executions = COALESCE(?, concurrent_executions), "
	"tokens_per_month = COALESCE(?, tokens_per_month), "
	"requests_per_minute = COALESCE(?, requests_per_minute), updated_at = ? "
	"WHERE tenant_id = ?";

int store_quotas_set(struct db *db, const char *tenant_id, const int64_t values[QUOTA__COUNT],
		     struct err *e)
{
	struct quota_report cur;
	struct db_stmt *st = NULL;
	int rc = quotas_limits(db, tenant_id, &cur, e);
	plan_ceilings(cur.plan_name, cur.plan);
	for (int i = 0; !rc && i < QUOTA__COUNT; i++)
		if (values[i] > cur.plan[i])
			rc = err_setc(e, ERR_UNPROCESSABLE, "above_plan_limit", store_quota_names[i],
				      "%s may be at most %lld on the %s plan", store_quota_names[i],
				      (long long)cur.plan[i], cur.plan_name);
	if (!rc)
		rc = db_prepare(db, sql_quotas_set, &st, e);
	for (int i = 0; !rc && i < QUOTA__COUNT; i++)
		rc = tn_bound(values[i] < 0 ? db_bind_null(st, i + 1) :
					      db_bind_int64(st, i + 1, values[i]),
			      e);
	if (!rc)
		rc = tn_bound(db_bind_int64(st, QUOTA__COUNT + 1, now_ms()), e);
	if (!rc)
		rc = tn_bound(db_bind_text(st, QUOTA__COUNT + 2, tenant_id, strlen(tenant_id)), e);
	if (!rc)
		rc = db_step(st, e);
	db_finalize(st);
	return rc < 0 ? rc : 0;
}
