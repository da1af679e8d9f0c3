/*
 * The durable job queue (SPEC §5): executions, webhook deliveries and
 * schedule ticks are rows of `jobs`. A claim takes queued jobs whose time
 * has come, and running jobs whose lease expired (their worker died), in
 * priority order; each claim adds one to the job's fence, and every later
 * write of the claimant names the fence it holds, so a worker whose lease
 * was taken over can no longer write. PostgreSQL claims with FOR UPDATE SKIP
 * LOCKED so competing workers never wait on each other; SQLite serialises
 * writers anyway (the caller's BEGIN IMMEDIATE).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "core/core.h"

#define CLAIM_WHERE                                                                        \
	"(status = 'queued' AND run_at <= ?) OR (status = 'running' AND lease_expires_at < ?)"
#define CLAIM_COLS "id, tenant_id, kind, ref, payload, fence, attempts, max_attempts, priority"

static const char sql_claim_pg[] =
	"UPDATE jobs SET status = 'running', lease_owner = ?, lease_expires_at = ?, "
	"fence = fence + 1, attempts = attempts + 1, updated_at = ? WHERE id IN ("
	"SELECT id FROM jobs WHERE " CLAIM_WHERE " ORDER BY priority DESC, run_at, id LIMIT ? "
	"FOR UPDATE SKIP LOCKED) RETURNING " CLAIM_COLS;
static const char sql_claim_sqlite[] =
	"UPDATE jobs SET status = 'running', lease_owner = ?, lease_expires_at = ?, "
	"fence = fence + 1, attempts = attempts + 1, updated_at = ? WHERE id IN ("
	"SELECT id FROM jobs WHERE " CLAIM_WHERE " ORDER BY priority DESC, run_at, id LIMIT ?) "
	"RETURNING " CLAIM_COLS;

void job_release(struct job *j)
{
	free(j->payload);
	j->payload = NULL;
}

int queue_enqueue(struct db *db, const struct job_new *j, char id_out[UUID_STR_LEN],
		  struct err *e)
{
	char id[UUID_STR_LEN];
	int64_t now = now_ms();
	uuid_v7(id);
	int rc = db_execf(db, e, NULL,
			  "INSERT INTO jobs (id, tenant_id, kind, ref, payload, dedupe_key, run_at, "
			  "priority, max_attempts, status, created_at, updated_at) "
			  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)",
			  "ssssssiiiii", id, j->tenant_id, j->kind, j->ref,
			  j->payload, j->dedupe_key, j->run_at ? j->run_at : now, (int64_t)j->priority,
			  (int64_t)(j->max_attempts > 0 ? j->max_attempts : 3), now, now);
	if (!rc && id_out)
		str_copy(id_out, UUID_STR_LEN, id);
	/* wakes the listening workers of every instance when the transaction commits */
	if (!rc && db_dialect(db) == DB_POSTGRES)
		rc = db_exec(db, "NOTIFY parallax_jobs", e);
	return rc;
}

int queue_claim(struct db *db, const char *worker, int64_t lease_ms, int max, struct job *out,
		int *count, struct err *e)
{
	struct db_stmt *st = NULL;
	int64_t now = now_ms();
	const char *sql = db_dialect(db) == DB_POSTGRES ? sql_claim_pg : sql_claim_sqlite;
	int rc = db_prepare(db, sql, &st, e);
	*count = 0;
	if (!rc && db_bindf(st, "siiiii", worker, now + lease_ms, now, now, now, (int64_t)max) < 0)
		rc = err_set(e, ERR_INTERNAL, NULL, "cannot bind the claim");
	while (!rc && *count < max && (rc = db_step(st, e)) == DB_ROW) {
		struct job *j = &out[(*count)++];
		memset(j, 0, sizeof(*j));
		db_column_copy(st, 0, j->id, sizeof(j->id));
		db_column_copy(st, 1, j->tenant_id, sizeof(j->tenant_id));
		db_column_copy(st, 2, j->kind, sizeof(j->kind));
		db_column_copy(st, 3, j->ref, sizeof(j->ref));
		j->payload = db_column_text(st, 4) ? xstrdup(db_column_text(st, 4)) : NULL;
		j->fence = db_column_int64(st, 5);
		j->attempts = db_column_int64(st, 6);
		j->max_attempts = db_column_int64(st, 7);
		j->priority = db_column_int64(st, 8);
		rc = 0;
	}
	if (rc == DB_DONE)
		rc = 0;
	db_finalize(st);
	if (rc < 0)
		for (int i = 0; i < *count; i++)
			job_release(&out[i]);
	return rc;
}

/* Run a fenced update; ERR_CONFLICT ("lease_lost") when the fence moved on. */
static int fenced(struct db *db, struct err *e, const char *sql, const char *fmt, ...)
{
	int64_t changes = 0;
	va_list ap;
	va_start(ap, fmt);
	int rc = db_vexecf(db, e, &changes, sql, fmt, ap);
	va_end(ap);
	if (!rc && changes == 0)
		rc = err_setc(e, ERR_CONFLICT, "lease_lost", NULL,
			      "the job's lease was taken over by another worker");
	return rc;
}

int queue_renew(struct db *db, const struct job *j, int64_t lease_ms, struct err *e)
{
	int64_t now = now_ms();
	return fenced(db, e,
		      "UPDATE jobs SET lease_expires_at = ?, updated_at = ? "
		      "WHERE id = ? AND fence = ? AND status = 'running'",
		      "iisi", now + lease_ms, now, j->id, j->fence);
}

int queue_check(struct db *db, const struct job *j, struct err *e)
{
	return fenced(db, e,
		      "UPDATE jobs SET updated_at = updated_at "
		      "WHERE id = ? AND fence = ? AND status = 'running'",
		      "si", j->id, j->fence);
}

int queue_finish(struct db *db, const struct job *j, int ok, const char *error, struct err *e)
{
	return fenced(db, e,
		      "UPDATE jobs SET status = ?, last_error = ?, lease_owner = NULL, "
		      "lease_expires_at = NULL, updated_at = ? "
		      "WHERE id = ? AND fence = ? AND status = 'running'",
		      "ssisi", ok ? "done" : "dead", error, now_ms(), j->id, j->fence);
}

int queue_retry(struct db *db, const struct job *j, int64_t run_at, const char *error,
		struct err *e)
{
	return fenced(db, e,
		      "UPDATE jobs SET status = 'queued', run_at = ?, last_error = ?, "
		      "lease_owner = NULL, lease_expires_at = NULL, updated_at = ? "
		      "WHERE id = ? AND fence = ? AND status = 'running'",
		      "isisi", run_at, error, now_ms(), j->id, j->fence);
}

int queue_depth(struct db *db, int64_t *queued, int64_t *running, struct err *e)
{
	int rc = db_query_int64(db, e, queued,
				"SELECT COUNT(*) FROM jobs WHERE status = 'queued'", "");
	if (!rc)
		rc = db_query_int64(db, e, running,
				    "SELECT COUNT(*) FROM jobs WHERE status = 'running'", "");
	return rc;
}

/*
 * A plan is made for the table's size at the time: made while the tables were nearly
 * empty (a new database, before autovacuum's first ANALYZE, which can take minutes), a
 * lookup by (tenant_id, id), and the foreign-key checks of every step and event, use
 * an index on tenant_id alone and read all of the tenant's rows. An ANALYZE gives the
 * planner the real sizes and makes every session plan its statements again.
 */
int queue_analyze(struct db *db, struct err *e)
{
	if (db_dialect(db) != DB_POSTGRES)
		return 0;
	return db_exec(db, "ANALYZE executions, jobs, steps, events", e);
}
