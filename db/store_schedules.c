/*
 * Schedules (cron) and inbound triggers of a workspace, and the schedule
 * tick: due schedules are advanced with a compare-and-set on next_run_at,
 * so of several instances ticking at once exactly one starts each run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "core/core.h"

void schedule_row_release(struct schedule_row *s)
{
	free(s->input);
	s->input = NULL;
}

static void schedule_read(struct db_stmt *st, struct schedule_row *s)
{
	memset(s, 0, sizeof(*s));
	db_column_copy(st, 0, s->id, sizeof(s->id));
	db_column_copy(st, 1, s->tenant_id, sizeof(s->tenant_id));
	db_column_copy(st, 2, s->workspace_id, sizeof(s->workspace_id));
	db_column_copy(st, 3, s->pattern_id, sizeof(s->pattern_id));
	db_column_copy(st, 4, s->name, sizeof(s->name));
	db_column_copy(st, 5, s->cron, sizeof(s->cron));
	s->input = db_column_text(st, 6) ? xstrdup(db_column_text(st, 6)) : xstrdup("{}");
	s->enabled = (int)db_column_int64(st, 7);
	s->next_run_at = db_column_int64(st, 8);
	s->last_run_at = db_column_int64(st, 9);
	s->created_at = db_column_int64(st, 10);
}

#define SCHED_COLS                                                                            \
	"id, tenant_id, workspace_id, pattern_id, name, cron, input, enabled, next_run_at, "    \
	"last_run_at, created_at "

int store_schedule_create(struct db *db, const struct schedule_row *in, const char *created_by,
			  char id_out[UUID_STR_LEN], struct err *e)
{
	uuid_v7(id_out);
	int rc = db_execf(db, e, NULL,
			  "INSERT INTO schedules (id, tenant_id, workspace_id, pattern_id, name, cron, "
			  "input, enabled, next_run_at, created_by, created_at) "
			  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
			  "sssssssiisi", id_out, in->tenant_id, in->workspace_id, in->pattern_id,
			  in->name, in->cron, in->input, (int64_t)in->enabled, in->next_run_at,
			  created_by, now_ms());
	int64_t n = 0;
	if (!rc)
		rc = db_query_int64(db, e, &n, "SELECT COUNT(*) FROM schedules WHERE id = ?", "s",
				    id_out);
	if (!rc && !n)
		rc = err_setc(e, ERR_CONFLICT, "name_taken", "name",
			      "a schedule of that name exists in this workspace");
	return rc;
}

int store_schedules_list(struct db *db, const char *tenant_id, const char *workspace_id,
			 struct schedule_row *items, int max, int *count, struct err *e)
{
	struct db_stmt *st = NULL;
	int rc = db_prepare_bindf(db, e, &st,
				  "SELECT " SCHED_COLS "FROM schedules WHERE tenant_id = ? AND "
				  "workspace_id = ? ORDER BY name LIMIT ?",
				  "ssi", tenant_id, workspace_id, (int64_t)max);
	*count = 0;
	while (!rc && *count < max && (rc = db_step(st, e)) == DB_ROW) {
		schedule_read(st, &items[(*count)++]);
		rc = 0;
	}
	if (rc == DB_DONE)
		rc = 0;
	db_finalize(st);
	return rc;
}

int store_schedule_delete(struct db *db, const char *tenant_id, const char *workspace_id,
			  const char *id, struct err *e)
{
	int64_t n = 0;
	int rc = db_execf(db, e, &n,
			  "DELETE FROM schedules WHERE tenant_id = ? AND workspace_id = ? AND id = ?",
			  "sss", tenant_id, workspace_id, id);
	return !rc && !n ? err_set(e, ERR_NOT_FOUND, NULL, "no such schedule") : rc;
}

int store_schedules_due(struct db *db, int64_t now, struct schedule_row *items, int max,
			int *count, struct err *e)
{
	struct db_stmt *st = NULL;
	int rc = db_prepare_bindf(db, e, &st,
				  "SELECT " SCHED_COLS "FROM schedules WHERE enabled = 1 AND "
				  "next_run_at IS NOT NULL AND next_run_at <= ? ORDER BY next_run_at "
				  "LIMIT ?",
				  "ii", now, (int64_t)max);
	*count = 0;
	while (!rc && *count < max && (rc = db_step(st, e)) == DB_ROW) {
		schedule_read(st, &items[(*count)++]);
		rc = 0;
	}
	if (rc == DB_DONE)
		rc = 0;
	db_finalize(st);
	return rc;
}

int store_schedule_advance(struct db *db, const struct schedule_row *s, int64_t next,
			   int *won, struct err *e)
{
	int64_t n = 0;
	int rc = db_execf(db, e, &n,
			  "UPDATE schedules SET next_run_at = ?, last_run_at = ? WHERE id = ? AND "
			  "next_run_at = ?",
			  "iisi", next, now_ms(), s->id, s->next_run_at);
	*won = !rc && n == 1;
	return rc;
}

/* --- triggers ---------------------------------------------------------------------------- */

int store_trigger_create(struct db *db, const struct trigger_row *in, const char *created_by,
			 char id_out[UUID_STR_LEN], struct err *e)
{
	uuid_v7(id_out);
	int rc = db_execf(db, e, NULL,
			  "INSERT INTO triggers (id, tenant_id, workspace_id, pattern_id, name, "
			  "secret_enc, enabled, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, 1, "
			  "?, ?) ON CONFLICT DO NOTHING",
			  "sssssssi", id_out, in->tenant_id, in->workspace_id, in->pattern_id,
			  in->name, in->secret_enc, created_by, now_ms());
	int64_t n = 0;
	if (!rc)
		rc = db_query_int64(db, e, &n, "SELECT COUNT(*) FROM triggers WHERE id = ?", "s",
				    id_out);
	if (!rc && !n)
		rc = err_setc(e, ERR_CONFLICT, "name_taken", "name",
			      "a trigger of that name exists in this workspace");
	return rc;
}

int store_trigger_get(struct db *db, const char *id, struct trigger_row *out, struct err *e)
{
	struct db_stmt *st = NULL;
	int rc = db_prepare_bindf(db, e, &st,
				  "SELECT id, tenant_id, workspace_id, pattern_id, name, secret_enc, "
				  "enabled, created_at FROM triggers WHERE id = ?",
				  "s", id);
	memset(out, 0, sizeof(*out));
	if (!rc && (rc = db_step(st, e)) == DB_DONE)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "no such trigger");
	if (rc == DB_ROW) {
		db_column_copy(st, 0, out->id, sizeof(out->id));
		db_column_copy(st, 1, out->tenant_id, sizeof(out->tenant_id));
		db_column_copy(st, 2, out->workspace_id, sizeof(out->workspace_id));
		db_column_copy(st, 3, out->pattern_id, sizeof(out->pattern_id));
		db_column_copy(st, 4, out->name, sizeof(out->name));
		out->secret_enc = db_column_text(st, 5) ? xstrdup(db_column_text(st, 5)) : NULL;
		out->enabled = (int)db_column_int64(st, 6);
		out->created_at = db_column_int64(st, 7);
		rc = 0;
	}
	db_finalize(st);
	return rc;
}

int store_triggers_list(struct db *db, const char *tenant_id, const char *workspace_id,
			struct trigger_row *items, int max, int *count, struct err *e)
{
	struct db_stmt *st = NULL;
	int rc = db_prepare_bindf(db, e, &st,
				  "SELECT id, tenant_id, workspace_id, pattern_id, name, enabled, "
				  "created_at FROM triggers WHERE tenant_id = ? AND workspace_id = ? "
				  "ORDER BY name LIMIT ?",
				  "ssi", tenant_id, workspace_id, (int64_t)max);
	*count = 0;
	while (!rc && *count < max && (rc = db_step(st, e)) == DB_ROW) {
		struct trigger_row *t = &items[(*count)++];
		memset(t, 0, sizeof(*t));
		db_column_copy(st, 0, t->id, sizeof(t->id));
		db_column_copy(st, 1, t->tenant_id, sizeof(t->tenant_id));
		db_column_copy(st, 2, t->workspace_id, sizeof(t->workspace_id));
		db_column_copy(st, 3, t->pattern_id, sizeof(t->pattern_id));
		db_column_copy(st, 4, t->name, sizeof(t->name));
		t->enabled = (int)db_column_int64(st, 5);
		t->created_at = db_column_int64(st, 6);
		rc = 0;
	}
	if (rc == DB_DONE)
		rc = 0;
	db_finalize(st);
	return rc;
}

int store_trigger_delete(struct db *db, const char *tenant_id, const char *workspace_id,
			 const char *id, struct err *e)
{
	int64_t n = 0;
	int rc = db_execf(db, e, &n,
			  "DELETE FROM triggers WHERE tenant_id = ? AND workspace_id = ? AND id = ?",
			  "sss", tenant_id, workspace_id, id);
	return !rc && !n ? err_set(e, ERR_NOT_FOUND, NULL, "no such trigger") : rc;
}

void trigger_row_release(struct trigger_row *t)
{
	free(t->secret_enc);
	t->secret_enc = NULL;
}
