/*
 * Executions and their steps: the row a run writes when it starts, one step
 * row per finished node (the checkpoint), and the final status. Every
 * statement names the tenant.
 */
#include <string.h>

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
	if (s->confidence_set)
		return db_execf(db, e, NULL,
				"INSERT INTO steps (id, tenant_id, execution_id, node_id, status, "
				"output, confidence, error, started_at, finished_at) "
				"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
				"ssssssdsii", id, tenant_id, execution_id, s->node_id, s->status,
				s->output, s->confidence, s->error, s->started_at, s->finished_at);
	return db_execf(db, e, NULL,
			"INSERT INTO steps (id, tenant_id, execution_id, node_id, status, output, "
			"error, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
			"ON CONFLICT DO NOTHING",
			"sssssssii", id, tenant_id, execution_id, s->node_id, s->status, s->output,
			s->error, s->started_at, s->finished_at);
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
