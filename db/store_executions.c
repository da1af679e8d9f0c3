/*
 * Executions and their steps: the row a run writes when it starts, one step
 * row per finished node (the checkpoint), and the final status. Every
 * statement names the tenant.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/store.h"
#include "core/core.h"

int store_execution_start(struct db *db, const struct execution_row *x, struct err *e)
{
	int64_t now = now_ms();
	return db_execf(db, e, NULL,
			"INSERT INTO executions (id, tenant_id, workspace_id, pattern_id, "
			"pattern_version, status, input, actor_type, actor_id, timeout_ms, "
			"created_at, queued_at, started_at) VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)",
			"ssssisssiiii", x->id, x->tenant_id, x->workspace_id, x->pattern_id,
			x->version, x->input, x->actor_type, x->actor_id, x->timeout_ms, now, now,
			now);
}

int store_step_put(struct db *db, const char *tenant_id, const char *execution_id,
		   const struct step_row *s, struct err *e)
{
	char id[UUID_STR_LEN];
	uuid_v7(id);
	return db_execf(db, e, NULL,
			"INSERT INTO steps (id, tenant_id, execution_id, node_id, status, output, "
			"confidence, error, port, started_at, finished_at, node_type, calls) "
			"VALUES (?, ?, ?, ?, ?, ?, CASE WHEN CAST(? AS INTEGER) = 1 THEN "
			"CAST(? AS DOUBLE PRECISION) ELSE NULL END, ?, ?, ?, ?, ?, ?) "
			"ON CONFLICT (execution_id, node_id, attempt, agent_id) DO UPDATE SET "
			"status = excluded.status, output = excluded.output, "
			"confidence = excluded.confidence, error = excluded.error, "
			"port = excluded.port, finished_at = excluded.finished_at, "
			"calls = excluded.calls WHERE steps.status = 'waiting'",
			"ssssssidssiiss", id, tenant_id, execution_id, s->node_id, s->status, s->output,
			(int64_t)s->confidence_set, s->confidence, s->error, s->port, s->started_at,
			s->finished_at, s->node_type, s->calls);
}

/* "2026-01-05T10:00:00.123Z" (time_iso's form) as epoch ms; 0 if absent or malformed. */
static int64_t iso_ms(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	struct tm tm;
	int ms = 0;
	if (!cJSON_IsString(v))
		return 0;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(v->valuestring, "%4d-%2d-%2dT%2d:%2d:%2d.%3d", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

int store_step_put_json(struct db *db, const char *tenant_id, const char *execution_id,
			const cJSON *step, struct err *e)
{
	const cJSON *conf = cJSON_GetObjectItemCaseSensitive(step, "confidence");
	char *output = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(step, "output"));
	const cJSON *calls = cJSON_GetObjectItemCaseSensitive(step, "calls");
	char *calls_text = cJSON_IsArray(calls) ? cJSON_PrintUnformatted(calls) : NULL;
	struct step_row s = {
		.node_id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(step, "node_id")),
		.status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(step, "status")),
		.output = output,
		.error = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(step, "error")),
		.port = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(step, "port")),
		.confidence = cJSON_IsNumber(conf) ? conf->valuedouble : 0,
		.confidence_set = cJSON_IsNumber(conf),
		.started_at = iso_ms(step, "started_at"),
		.finished_at = iso_ms(step, "finished_at"),
		.node_type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(step, "type")),
		.calls = calls_text,
	};
	int rc = store_step_put(db, tenant_id, execution_id, &s, e);
	free(output);
	free(calls_text);
	return rc;
}

static void add_ms_time(cJSON *o, const char *key, int64_t ms)
{
	char t[40];
	if (!ms) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	time_iso(ms, t, sizeof(t));
	cJSON_AddStringToObject(o, key, t);
}

int store_steps_json(struct db *db, const char *tenant_id, const char *execution_id,
		     cJSON **out, struct err *e)
{
	struct db_stmt *st = NULL;
	int rc = db_prepare_bindf(db, e, &st,
				  "SELECT node_id, status, output, confidence, error, port, "
				  "started_at, finished_at, node_type, calls FROM steps WHERE tenant_id = ? AND "
				  "execution_id = ? ORDER BY finished_at, id",
				  "ss", tenant_id, execution_id);
	*out = cJSON_CreateArray();
	while (!rc && (rc = db_step(st, e)) == DB_ROW) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "node_id", db_column_text(st, 0));
		cJSON_AddStringToObject(o, "status", db_column_text(st, 1));
		cJSON *v = db_column_text(st, 2) ? cJSON_Parse(db_column_text(st, 2)) : NULL;
		cJSON_AddItemToObject(o, "output", v ? v : cJSON_CreateNull());
		if (db_column_is_null(st, 3))
			cJSON_AddNullToObject(o, "confidence");
		else
			cJSON_AddNumberToObject(o, "confidence", db_column_double(st, 3));
		if (db_column_text(st, 4))
			cJSON_AddStringToObject(o, "error", db_column_text(st, 4));
		else
			cJSON_AddNullToObject(o, "error");
		if (db_column_text(st, 5))
			cJSON_AddStringToObject(o, "port", db_column_text(st, 5));
		add_ms_time(o, "started_at", db_column_int64(st, 6));
		add_ms_time(o, "finished_at", db_column_int64(st, 7));
		if (db_column_int64(st, 6) && db_column_int64(st, 7) >= db_column_int64(st, 6))
			cJSON_AddNumberToObject(o, "duration_ms",
						(double)(db_column_int64(st, 7) - db_column_int64(st, 6)));
		if (db_column_text(st, 8))
			cJSON_AddStringToObject(o, "type", db_column_text(st, 8));
		cJSON *calls = db_column_text(st, 9) ? cJSON_Parse(db_column_text(st, 9)) : NULL;
		if (cJSON_IsArray(calls))
			cJSON_AddItemToObject(o, "calls", calls);
		else
			cJSON_Delete(calls);
		cJSON_AddItemToArray(*out, o);
		rc = 0;
	}
	if (rc == DB_DONE)
		rc = 0;
	db_finalize(st);
	if (rc) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rc;
}

#define EVENTS_PER_INSERT 8

/* One INSERT of rows events (1..EVENTS_PER_INSERT). */
static int events_insert(struct db *db, const char *tenant_id, const char *execution_id,
			 const cJSON *const *evs, int rows, struct err *e)
{
	struct buf sql = BUF_INIT;
	struct db_stmt *st = NULL;
	int rc;
	buf_adds(&sql, "INSERT INTO events (tenant_id, execution_id, seq, type, data, created_at) "
		       "VALUES (?, ?, ?, ?, ?, ?)");
	for (int i = 1; i < rows; i++)
		buf_adds(&sql, ", (?, ?, ?, ?, ?, ?)");
	buf_adds(&sql, " ON CONFLICT DO NOTHING");
	rc = db_prepare(db, sql.p, &st, e);
	for (int i = 0; !rc && i < rows; i++) {
		const cJSON *ev = evs[i];
		const cJSON *seq = cJSON_GetObjectItemCaseSensitive(ev, "seq");
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");
		const char *t = cJSON_IsString(type) ? type->valuestring : "event";
		char *text = cJSON_PrintUnformatted(ev);
		int k = i * 6;
		if (db_bind_text(st, k + 1, tenant_id, strlen(tenant_id)) < 0 ||
		    db_bind_text(st, k + 2, execution_id, strlen(execution_id)) < 0 ||
		    db_bind_int64(st, k + 3, (int64_t)cJSON_GetNumberValue(seq)) < 0 ||
		    db_bind_text(st, k + 4, t, strlen(t)) < 0 ||
		    db_bind_text(st, k + 5, text, strlen(text)) < 0 ||
		    db_bind_int64(st, k + 6, now_ms()) < 0)
			rc = err_set(e, ERR_INTERNAL, NULL, "cannot bind an event");
		free(text);
	}
	if (!rc)
		rc = db_step(st, e);
	db_finalize(st);
	buf_release(&sql);
	return rc < 0 ? rc : 0;
}

int store_events_put(struct db *db, const char *tenant_id, const char *execution_id,
		     const cJSON *events, int64_t after_seq, struct err *e)
{
	const cJSON *ev, *batch[EVENTS_PER_INSERT];
	int rc = 0, rows = 0;
	cJSON_ArrayForEach(ev, events) {
		const cJSON *seq = cJSON_GetObjectItemCaseSensitive(ev, "seq");
		if (cJSON_IsNumber(seq) && seq->valuedouble <= (double)after_seq)
			continue; /* written by an earlier checkpoint */
		batch[rows++] = ev;
		if (rows == EVENTS_PER_INSERT) {
			if ((rc = events_insert(db, tenant_id, execution_id, batch, rows, e)))
				return rc;
			rows = 0;
		}
	}
	return rows ? events_insert(db, tenant_id, execution_id, batch, rows, e) : 0;
}

int store_events_json(struct db *db, const char *tenant_id, const char *execution_id,
		      int64_t after_seq, int max, cJSON **out, struct err *e)
{
	struct db_stmt *st = NULL;
	int rc = db_prepare_bindf(db, e, &st,
				  "SELECT data FROM events WHERE tenant_id = ? AND execution_id = ? "
				  "AND seq > ? ORDER BY seq LIMIT ?",
				  "ssii", tenant_id, execution_id, after_seq, (int64_t)max);
	*out = cJSON_CreateArray();
	while (!rc && (rc = db_step(st, e)) == DB_ROW) {
		cJSON *v = db_column_text(st, 0) ? cJSON_Parse(db_column_text(st, 0)) : NULL;
		if (v)
			cJSON_AddItemToArray(*out, v);
		rc = 0;
	}
	if (rc == DB_DONE)
		rc = 0;
	db_finalize(st);
	return rc;
}

int store_events_last_seq(struct db *db, const char *tenant_id, const char *execution_id,
			  int64_t *seq, struct err *e)
{
	return db_query_int64(db, e, seq,
			      "SELECT COALESCE(MAX(seq), 0) FROM events WHERE tenant_id = ? AND "
			      "execution_id = ?",
			      "ss", tenant_id, execution_id);
}

int store_execution_finish(struct db *db, const char *tenant_id, const char *id,
			   const struct execution_end *x, struct err *e)
{
	if (x->confidence_set)
		return db_execf(db, e, NULL,
				"UPDATE executions SET status = ?, result = ?, confidence = ?, "
				"error = ?, tokens_in = ?, tokens_out = ?, finished_at = ? "
				"WHERE tenant_id = ? AND id = ?",
				"ssdsiiiss", x->status, x->result, x->confidence, x->error,
				x->tokens_in, x->tokens_out, now_ms(), tenant_id, id);
	return db_execf(db, e, NULL,
			"UPDATE executions SET status = ?, result = ?, error = ?, tokens_in = ?, "
			"tokens_out = ?, finished_at = ? WHERE tenant_id = ? AND id = ?",
			"sssiiiss", x->status, x->result, x->error, x->tokens_in, x->tokens_out,
			now_ms(), tenant_id, id);
}

/* --- submitted executions (the queue's path) --------------------------------------------- */

#define EXEC_COLS                                                                             \
	"e.id, e.workspace_id, e.pattern_id, p.name, e.pattern_version, e.status, e.input, "   \
	"e.result, e.confidence, e.error, e.created_at, e.started_at, e.finished_at, "          \
	"e.tokens_in, e.tokens_out, e.priority, e.attempts, e.max_attempts, e.timeout_ms, "    \
	"e.deadline_at, e.cancel_requested, e.idempotency_key, e.request_hash, e.webhook_url, " \
	"e.tenant_id, e.webhook_secret_enc "

static char *col_dup(struct db_stmt *st, int i)
{
	const char *s = db_column_text(st, i);
	return s ? xstrdup(s) : NULL;
}

void execution_full_release(struct execution_full *x)
{
	free(x->input);
	free(x->result);
	free(x->error);
	free(x->webhook_url);
	free(x->webhook_secret_enc);
	x->input = x->result = x->error = x->webhook_url = x->webhook_secret_enc = NULL;
}

static void exec_row(struct db_stmt *st, struct execution_full *x)
{
	memset(x, 0, sizeof(*x));
	db_column_copy(st, 0, x->id, sizeof(x->id));
	db_column_copy(st, 1, x->workspace_id, sizeof(x->workspace_id));
	db_column_copy(st, 2, x->pattern_id, sizeof(x->pattern_id));
	db_column_copy(st, 3, x->pattern_name, sizeof(x->pattern_name));
	x->version = db_column_int64(st, 4);
	db_column_copy(st, 5, x->status, sizeof(x->status));
	x->input = col_dup(st, 6);
	x->result = col_dup(st, 7);
	x->has_confidence = !db_column_is_null(st, 8);
	x->confidence = db_column_double(st, 8);
	x->error = col_dup(st, 9);
	x->created_at = db_column_int64(st, 10);
	x->started_at = db_column_int64(st, 11);
	x->finished_at = db_column_int64(st, 12);
	x->tokens_in = db_column_int64(st, 13);
	x->tokens_out = db_column_int64(st, 14);
	x->priority = db_column_int64(st, 15);
	x->attempts = db_column_int64(st, 16);
	x->max_attempts = db_column_int64(st, 17);
	x->timeout_ms = db_column_int64(st, 18);
	x->deadline_at = db_column_int64(st, 19);
	x->cancel_requested = (int)db_column_int64(st, 20);
	db_column_copy(st, 21, x->idempotency_key, sizeof(x->idempotency_key));
	db_column_copy(st, 22, x->request_hash, sizeof(x->request_hash));
	x->webhook_url = col_dup(st, 23);
	db_column_copy(st, 24, x->tenant_id, sizeof(x->tenant_id));
	x->webhook_secret_enc = col_dup(st, 25);
}

int store_execution_get_full(struct db *db, const char *tenant_id, const char *workspace_id,
			     const char *id, struct execution_full *out, struct err *e)
{
	struct db_stmt *st = NULL;
	int rc;
	memset(out, 0, sizeof(*out));
	if (workspace_id)
		rc = db_prepare_bindf(db, e, &st,
				      "SELECT " EXEC_COLS "FROM executions e JOIN patterns p ON "
				      "p.id = e.pattern_id WHERE e.tenant_id = ? AND "
				      "e.workspace_id = ? AND e.id = ?",
				      "sss", tenant_id, workspace_id, id);
	else
		rc = db_prepare_bindf(db, e, &st,
				      "SELECT " EXEC_COLS "FROM executions e JOIN patterns p ON "
				      "p.id = e.pattern_id WHERE e.tenant_id = ? AND e.id = ?",
				      "ss", tenant_id, id);
	if (!rc && (rc = db_step(st, e)) == DB_DONE)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "no such execution");
	if (rc == DB_ROW) {
		exec_row(st, out);
		rc = 0;
	}
	db_finalize(st);
	return rc;
}

int store_executions_list(struct db *db, const char *tenant_id, const char *workspace_id,
			  const struct execution_filter *f, int64_t before_ms, const char *before_id,
			  struct execution_full *items, int max, int *count, struct err *e)
{
	struct db_stmt *st = NULL;
	/* the cursor also bounds the created_at range, so a deep page starts with an index seek
	 * instead of walking every newer row */
	int64_t upper = f->until ? f->until : INT64_MAX;
	if (before_id && before_ms < upper)
		upper = before_ms + 1;
	int rc = db_prepare_bindf(
		db, e, &st,
		"SELECT " EXEC_COLS "FROM executions e JOIN patterns p ON p.id = e.pattern_id "
		"WHERE e.tenant_id = ? AND e.workspace_id = ? "
		"AND e.status = COALESCE(CAST(? AS TEXT), e.status) "
		"AND e.pattern_id = COALESCE(CAST(? AS TEXT), e.pattern_id) "
		"AND e.created_at >= ? AND e.created_at < ? "
		"AND (CAST(? AS TEXT) IS NULL OR e.created_at < ? OR (e.created_at = ? AND e.id < ?)) "
		"ORDER BY e.created_at DESC, e.id DESC LIMIT ?",
		"ssssiisiisi", tenant_id, workspace_id, f->status, f->pattern_id, f->since, upper,
		before_id, before_ms, before_ms, before_id,
		(int64_t)max);
	*count = 0;
	while (!rc && *count < max && (rc = db_step(st, e)) == DB_ROW) {
		exec_row(st, &items[(*count)++]);
		rc = 0;
	}
	if (rc == DB_DONE)
		rc = 0;
	db_finalize(st);
	return rc;
}

int store_execution_submit(struct db *db, const struct execution_submit *in,
			   struct execution_full *existing, char id_out[UUID_STR_LEN],
			   struct err *e)
{
	int rc;
	int64_t now = now_ms();
	if (in->idempotency_key) {
		struct db_stmt *st = NULL;
		rc = db_prepare_bindf(db, e, &st,
				      "SELECT " EXEC_COLS "FROM executions e JOIN patterns p ON "
				      "p.id = e.pattern_id WHERE e.tenant_id = ? AND "
				      "e.workspace_id = ? AND e.idempotency_key = ?",
				      "sss", in->tenant_id, in->workspace_id, in->idempotency_key);
		if (!rc && (rc = db_step(st, e)) == DB_ROW) {
			exec_row(st, existing);
			db_finalize(st);
			if (strcmp(existing->request_hash, in->request_hash ? in->request_hash : ""))
				return err_setc(e, ERR_UNPROCESSABLE, "idempotency_mismatch",
						"Idempotency-Key",
						"this Idempotency-Key was used with a different request");
			return err_setc(e, ERR_CONFLICT, "idempotency_replay", NULL,
					"the execution for this key already exists");
		}
		db_finalize(st);
		if (rc < 0)
			return rc;
	}
	uuid_v7(id_out);
	rc = db_execf(db, e, NULL,
		      "INSERT INTO executions (id, tenant_id, workspace_id, pattern_id, "
		      "pattern_version, status, input, actor_type, actor_id, idempotency_key, "
		      "request_hash, priority, max_attempts, timeout_ms, deadline_at, webhook_url, "
		      "webhook_secret_enc, created_at, queued_at) VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, "
		      "?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?)",
		      "ssssisssssiiissii", id_out, in->tenant_id, in->workspace_id, in->pattern_id,
		      in->version, in->input, in->actor_type, in->actor_id, in->idempotency_key,
		      in->request_hash, (int64_t)in->priority, (int64_t)in->max_attempts,
		      in->timeout_ms, in->webhook_url, in->webhook_secret_enc, now, now);
	char job_id[UUID_STR_LEN];
	if (!rc) {
		struct job_new j = { .tenant_id = in->tenant_id, .kind = "execution", .ref = id_out,
				     .priority = in->priority, .max_attempts = in->max_attempts };
		rc = queue_enqueue(db, &j, job_id, e);
	}
	/* last: from here to the commit the tenant's counters are locked (PostgreSQL) */
	if (!rc && (rc = store_quota_take_execution(db, in->tenant_id, e)) == ERR_RATE_LIMITED) {
		struct err ignored; /* refused: leave nothing for a caller that goes on */
		db_execf(db, &ignored, NULL, "DELETE FROM jobs WHERE tenant_id = ? AND id = ?", "ss",
			 in->tenant_id, job_id);
		db_execf(db, &ignored, NULL, "DELETE FROM executions WHERE tenant_id = ? AND id = ?",
			 "ss", in->tenant_id, id_out);
	}
	return rc;
}

int store_execution_running(struct db *db, const char *tenant_id, const char *id,
			    int64_t attempts, int64_t deadline_at, struct err *e)
{
	return db_execf(db, e, NULL,
			"UPDATE executions SET status = 'running', attempts = ?, "
			"started_at = COALESCE(started_at, ?), deadline_at = COALESCE(deadline_at, ?) "
			"WHERE tenant_id = ? AND id = ? AND status IN ('queued', 'running')",
			"iiiss", attempts, now_ms(), deadline_at, tenant_id, id);
}

int store_execution_wake_at(struct db *db, const char *tenant_id, const char *id,
			    int64_t run_at, struct err *e)
{
	int64_t n = 0;
	int rc = db_query_int64(db, e, &n,
				"SELECT COUNT(*) FROM jobs WHERE tenant_id = ? AND kind = 'execution' AND "
				"ref = ? AND status = 'queued' AND run_at <= ?",
				"ssi", tenant_id, id, run_at);
	if (rc || n) /* a job that comes first resumes it; parked again, it asks again */
		return rc;
	struct job_new j = { .tenant_id = tenant_id, .kind = "execution", .ref = id,
			     .payload = JOB_APPROVAL_WAKE, .run_at = run_at, .max_attempts = 3 };
	return queue_enqueue(db, &j, NULL, e);
}

int store_execution_unpark(struct db *db, const char *tenant_id, const char *id, int *won,
			   struct err *e)
{
	int64_t changes = 0;
	int rc = db_execf(db, e, &changes,
			  "UPDATE executions SET status = 'queued' WHERE tenant_id = ? AND id = ? "
			  "AND status = 'waiting_approval'",
			  "ss", tenant_id, id);
	*won = !rc && changes > 0;
	return rc;
}

/* Terminal statuses free the concurrent-executions unit; waiting_approval keeps it. The
 * unit goes back last, as the counter row stays locked until the commit (PostgreSQL). */
int store_execution_settle(struct db *db, const char *tenant_id, const char *id,
			   const struct execution_end *x, struct err *e)
{
	struct db_stmt *st = NULL;
	int terminal = strcmp(x->status, "waiting_approval") != 0, changed = 0, webhook = 0;
	int rc = db_prepare_bindf(
		db, e, &st,
		"UPDATE executions SET status = ?, result = ?, "
		"confidence = CASE WHEN CAST(? AS INTEGER) = 1 THEN "
		"CAST(? AS DOUBLE PRECISION) ELSE NULL END, "
		"error = ?, "
		"tokens_in = tokens_in + ?, tokens_out = tokens_out + ?, "
		"finished_at = CASE WHEN CAST(? AS INTEGER) = 1 THEN CAST(? AS BIGINT) ELSE NULL END "
		"WHERE tenant_id = ? AND id = ? AND status NOT IN "
		"('succeeded', 'failed', 'cancelled', 'timed_out') RETURNING webhook_url",
		"ssidsiiiiss", x->status, x->result, (int64_t)x->confidence_set, x->confidence,
		x->error, x->tokens_in, x->tokens_out, (int64_t)terminal, now_ms(), tenant_id, id);
	if (!rc && (rc = db_step(st, e)) == DB_ROW) {
		changed = 1;
		webhook = !db_column_is_null(st, 0);
	}
	db_finalize(st);
	rc = rc == DB_ROW || rc == DB_DONE ? 0 : rc;
	if (!rc && changed && terminal && webhook) { /* the completion webhook, as a job */
		char key[UUID_STR_LEN + 16];
		snprintf(key, sizeof(key), "webhook:%s", id);
		struct job_new j = { .tenant_id = tenant_id, .kind = "webhook", .ref = id,
				     .dedupe_key = key, .max_attempts = 8 };
		rc = queue_enqueue(db, &j, NULL, e);
	}
	return rc || !changed || !terminal ? rc : store_quota_release(db, tenant_id,
								       "concurrent_executions", 1, e);
}
