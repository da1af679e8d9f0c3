/*
 * Executions (SPEC §5, §6): submit through the durable queue (202, or the
 * result with ?wait=N), list with filters and a cursor, get with steps,
 * cancel, retry, approve, and the event stream as SSE with Last-Event-ID
 * replay. Idempotency follows the IETF draft: the same key and body give the
 * same execution, another body is 422, the same key still in flight is 409.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <civetweb.h>
#include <sodium.h>

#include "api/api.h"
#include "api/patterns_internal.h"
#include "auth/auth.h"
#include "engine/engine.h"
#include "server/server.h"
#include "core/core.h"

#define WAIT_MAX_S      60
#define KEY_MAX         255
#define LIST_MAX        100
#define TIMEOUT_MAX_MS  86400000
#define SSE_MAX_MS      (30 * 60 * 1000)

static int not_found(struct req *r)
{
	return req_fail(r, ERR_NOT_FOUND, "not_found", NULL, "no such execution");
}

static int terminal(const char *status)
{
	return !strcmp(status, "succeeded") || !strcmp(status, "failed") ||
	       !strcmp(status, "cancelled") || !strcmp(status, "timed_out");
}

/* ---- keys in flight (409) ---------------------------------------------------------------- */

static struct {
	pthread_mutex_t mu;
	char keys[256][UUID_STR_LEN + KEY_MAX + 4];
} inflight = { .mu = PTHREAD_MUTEX_INITIALIZER };

static int key_hold(const char *ws, const char *key, int *slot)
{
	char k[sizeof(inflight.keys[0])];
	snprintf(k, sizeof(k), "%s/%s", ws, key);
	int free_slot = -1, busy = 0;
	pthread_mutex_lock(&inflight.mu);
	for (int i = 0; i < 256; i++) {
		if (!inflight.keys[i][0])
			free_slot = free_slot < 0 ? i : free_slot;
		else if (!strcmp(inflight.keys[i], k))
			busy = 1;
	}
	if (!busy && free_slot >= 0)
		str_copy(inflight.keys[free_slot], sizeof(k), k);
	pthread_mutex_unlock(&inflight.mu);
	*slot = busy ? -1 : free_slot;
	return busy;
}

static void key_drop(int slot)
{
	if (slot < 0)
		return;
	pthread_mutex_lock(&inflight.mu);
	inflight.keys[slot][0] = '\0';
	pthread_mutex_unlock(&inflight.mu);
}

/* ---- JSON shapes --------------------------------------------------------------------------- */

static cJSON *parsed_or_null(const char *text)
{
	cJSON *v = text ? cJSON_Parse(text) : NULL;
	return v ? v : cJSON_CreateNull();
}

static cJSON *execution_json(const struct execution_full *x, cJSON *steps)
{
	cJSON *j = cJSON_CreateObject(), *p;
	cJSON_AddStringToObject(j, "id", x->id);
	cJSON_AddStringToObject(j, "status", x->status);
	p = cJSON_AddObjectToObject(j, "pattern");
	cJSON_AddStringToObject(p, "id", x->pattern_id);
	cJSON_AddStringToObject(p, "name", x->pattern_name);
	cJSON_AddNumberToObject(p, "version", (double)x->version);
	cJSON_AddItemToObject(j, "input", parsed_or_null(x->input));
	cJSON_AddItemToObject(j, "result", parsed_or_null(x->result));
	cJSON_AddItemToObject(j, "error", parsed_or_null(x->error));
	if (steps)
		cJSON_AddItemToObject(j, "steps", steps);
	cJSON *u = cJSON_AddObjectToObject(j, "usage");
	cJSON_AddNumberToObject(u, "input_tokens", (double)x->tokens_in);
	cJSON_AddNumberToObject(u, "output_tokens", (double)x->tokens_out);
	cJSON_AddNumberToObject(j, "priority", (double)x->priority);
	cJSON_AddNumberToObject(j, "attempts", (double)x->attempts);
	cJSON_AddBoolToObject(j, "cancel_requested", x->cancel_requested);
	api_add_time(j, "created_at", x->created_at);
	api_add_time(j, "started_at", x->started_at);
	api_add_time(j, "finished_at", x->finished_at);
	return j;
}

/* The execution with its steps, 200. */
static int answer_execution(struct req *r, struct db *db, const char *id, int status)
{
	struct execution_full x;
	cJSON *steps = NULL;
	int rc = store_execution_get_full(db, r->auth.tenant_id, r->auth.workspace_id, id, &x,
					  &r->err);
	if (rc == ERR_NOT_FOUND)
		return not_found(r);
	if (!rc)
		rc = store_steps_json(db, r->auth.tenant_id, id, &steps, &r->err);
	if (!rc)
		rc = req_json(r, status, execution_json(&x, steps));
	execution_full_release(&x);
	return rc;
}

/* ---- POST /api/v1/executions --------------------------------------------------------------- */

struct submit_in {
	const char *pattern, *key, *webhook;
	char *webhook_secret_enc; /* sealed (arena) */
	int64_t version, priority, timeout_ms;
	const cJSON *input;
	char hash[65];
};

static void secret_free_deferred(void *p)
{
	free(p);
}

/* webhook: {url, secret}: the completion is POSTed to url, signed with secret (sealed at rest). */
static int webhook_parse(struct req *r, struct submit_in *in)
{
	static const char *const fields[] = { "url", "secret", NULL };
	const cJSON *w;
	const char *secret;
	int rc = json_get_obj(r->json, "webhook", JSON_OPTIONAL, &w, &r->err);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	if ((rc = json_only_fields(w, fields, &r->err)) < 0 ||
	    (rc = json_get_str(w, "url", JSON_REQUIRED, 2048, &in->webhook, &r->err)) < 0 ||
	    (rc = json_get_str(w, "secret", JSON_REQUIRED, 256, &secret, &r->err)) < 0) {
		char f[ERR_FIELD_MAX + 16];
		snprintf(f, sizeof(f), "webhook.%s", r->err.field);
		str_copy(r->err.field, sizeof(r->err.field), f);
		return rc;
	}
	if (!str_has_prefix(in->webhook, "https://") && !str_has_prefix(in->webhook, "http://"))
		return req_fail(r, ERR_INVALID, "invalid_field", "webhook.url",
				"'webhook.url' must be an http(s) URL");
	if (strlen(secret) < 16)
		return req_fail(r, ERR_INVALID, "invalid_field", "webhook.secret",
				"'webhook.secret' takes at least 16 characters");
	if ((rc = secret_seal(secret, &in->webhook_secret_enc, &r->err)))
		return rc;
	arena_defer(r->arena, secret_free_deferred, in->webhook_secret_enc);
	return 0;
}

static int submit_parse(struct req *r, struct submit_in *in)
{
	static const char *const fields[] = { "pattern", "version", "input", "idempotency_key",
					      "priority", "timeout_ms", "webhook", NULL };
	int rc;
	memset(in, 0, sizeof(*in));
	if ((rc = json_only_fields(r->json, fields, &r->err)) < 0 ||
	    (rc = json_get_str(r->json, "pattern", JSON_REQUIRED, 128, &in->pattern, &r->err)) < 0 ||
	    (rc = json_get_int(r->json, "version", JSON_OPTIONAL, 1, INT32_MAX, &in->version,
			       &r->err)) < 0 ||
	    (rc = json_get_int(r->json, "priority", JSON_OPTIONAL, -100, 100, &in->priority,
			       &r->err)) < 0 ||
	    (rc = json_get_int(r->json, "timeout_ms", JSON_OPTIONAL, 100, TIMEOUT_MAX_MS,
			       &in->timeout_ms, &r->err)) < 0 ||
	    (rc = json_get_str(r->json, "idempotency_key", JSON_OPTIONAL, KEY_MAX, &in->key,
			       &r->err)) < 0 ||
	    (rc = webhook_parse(r, in)) < 0)
		return rc;
	const char *hk = mg_get_header(r->conn, "Idempotency-Key");
	if (hk) {
		if (!*hk || strlen(hk) > KEY_MAX)
			return req_fail(r, ERR_INVALID, "invalid_header", "Idempotency-Key",
					"'Idempotency-Key' takes 1 to %d characters", KEY_MAX);
		in->key = hk;
	}
	in->input = cJSON_GetObjectItemCaseSensitive(r->json, "input");
	/* the request's fingerprint: its canonical body */
	cJSON *canon = cJSON_Duplicate(r->json, 1);
	cJSON_DeleteItemFromObjectCaseSensitive(canon, "idempotency_key");
	/* never keep even a hash of a webhook secret */
	cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(canon, "webhook"),
						"secret");
	char *text = cJSON_PrintUnformatted(canon);
	unsigned char d[32];
	crypto_hash_sha256(d, (const unsigned char *)text, strlen(text));
	hex_encode(d, sizeof(d), in->hash);
	free(text);
	cJSON_Delete(canon);
	return 0;
}

/* Wait for a terminal state up to secs (polling); 1 if reached. */
static int wait_terminal(struct req *r, const char *id, int64_t secs)
{
	int64_t until = mono_ms() + secs * 1000;
	while (mono_ms() < until && !r->app->draining) { /* a stopping server answers now */
		struct db *db = NULL;
		struct err e;
		char status[24] = "";
		if (db_acquire(r->app->pool, 5000, &db, &e) == 0) {
			db_query_text(db, &e, status, sizeof(status),
				      "SELECT status FROM executions WHERE tenant_id = ? AND id = ?",
				      "ss", r->auth.tenant_id, id);
			db_release(db);
		}
		if (terminal(status))
			return 1;
		struct timespec ts = { 0, 25 * 1000000 };
		nanosleep(&ts, NULL);
	}
	return 0;
}

int api_executions_create(struct req *r)
{
	struct submit_in in;
	struct pattern_row p;
	struct pattern_version_row *v = pattern_version_new(r);
	struct execution_full existing;
	cJSON *doc = NULL;
	struct problems pr;
	struct db *db;
	char id[UUID_STR_LEN];
	const char *qwait = req_query(r, "wait");
	int64_t wait = 0;
	int rc, slot = -1, replayed = 0;

	if ((rc = submit_parse(r, &in)))
		return rc;
	if (qwait && (str_to_i64(qwait, &wait) || wait < 0 || wait > WAIT_MAX_S))
		return req_fail(r, ERR_INVALID, "invalid_query", "wait",
				"'wait' is a number of seconds, 0 to %d", WAIT_MAX_S);
	if (!r->auth.workspace_id[0])
		return req_fail(r, ERR_NOT_FOUND, "workspace_not_found", NULL, "no workspace");
	if ((rc = req_db(r, &db)))
		return rc;
	rc = store_pattern_get(db, r->auth.tenant_id, r->auth.workspace_id, in.pattern, &p, &r->err);
	if (rc == ERR_NOT_FOUND)
		return req_fail(r, ERR_UNPROCESSABLE, "unknown_pattern", "pattern",
				"no pattern '%s' in this workspace", in.pattern);
	if (!rc)
		rc = store_pattern_version_get(db, r->auth.tenant_id, &p,
					       in.version ? in.version : p.latest_version, v, &r->err);
	if (rc == ERR_NOT_FOUND)
		return req_fail(r, ERR_UNPROCESSABLE, "unknown_version", "version", "no such version");
	if (rc)
		return rc;
	problems_init(&pr);
	/* only the input schema is needed here: the stored version was validated when saved,
	 * and compiling its jq on every submission would cost more than the rest together */
	doc = json_parse(v->definition, strlen(v->definition), 64, &r->err);
	rc = doc ? 0 : r->err.code;
	cJSON *empty = in.input ? NULL : cJSON_CreateObject();
	const cJSON *input = in.input ? in.input : empty;
	if (!rc && engine_input_check_schema(cJSON_GetObjectItemCaseSensitive(doc, "input"), input,
					     &pr, &r->err) == ERR_UNPROCESSABLE) {
		cJSON *j = cJSON_CreateObject(), *err = cJSON_AddObjectToObject(j, "error");
		cJSON_AddStringToObject(err, "code", "invalid_input");
		cJSON_AddStringToObject(err, "message", r->err.msg);
		cJSON_AddStringToObject(err, "field", r->err.field);
		cJSON_AddItemToObject(j, "problems", problems_json(&pr));
		rc = req_json(r, 422, j);
		goto out;
	}
	if (rc)
		goto out;
	if (in.key && key_hold(r->auth.workspace_id, in.key, &slot)) {
		rc = req_fail(r, ERR_CONFLICT, "idempotency_in_flight", "Idempotency-Key",
			      "a request with this Idempotency-Key is still being processed");
		goto out;
	}
	char *input_text = cJSON_PrintUnformatted(input);
	struct execution_submit sub = {
		.tenant_id = r->auth.tenant_id, .workspace_id = r->auth.workspace_id,
		.pattern_id = p.id, .version = v->version, .input = input_text,
		.actor_type = auth_actor_type(&r->auth),
		.actor_id = r->auth.api_key_id[0] ? r->auth.api_key_id : r->auth.user_id,
		.idempotency_key = in.key, .request_hash = in.key ? in.hash : NULL,
		.webhook_url = in.webhook, .webhook_secret_enc = in.webhook_secret_enc,
		.priority = (int)in.priority, .max_attempts = 3,
		.timeout_ms = in.timeout_ms,
	};
	memset(&existing, 0, sizeof(existing));
	rc = db_begin(db, DB_TX_WRITE, &r->err);
	if (!rc)
		rc = store_execution_submit(db, &sub, &existing, id, &r->err);
	free(input_text);
	if (rc == ERR_CONFLICT && !strcmp(r->err.slug, "idempotency_replay")) {
		db_rollback(db);
		str_copy(id, sizeof(id), existing.id);
		execution_full_release(&existing);
		rc = 0;
		replayed = 1;
		req_add_header(r, "Idempotent-Replayed", "true");
	} else {
		execution_full_release(&existing);
		if (!rc)
			rc = db_commit(db, &r->err);
		db_rollback(db);
		if (rc)
			goto out;
		worker_wake(r->app->worker);
	}
	if (wait > 0) {
		db_release(r->db); /* not held while waiting */
		r->db = NULL;
		int done = wait_terminal(r, id, wait);
		if ((rc = req_db(r, &db)) == 0)
			rc = answer_execution(r, db, id, done ? 200 : 202);
		goto out;
	}
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "id", id);
	/* as committed; a replay reads what the key's execution is now */
	char status[24] = "queued";
	if (replayed)
		db_query_text(db, &r->err, status, sizeof(status),
			      "SELECT status FROM executions WHERE tenant_id = ? AND id = ?", "ss",
			      r->auth.tenant_id, id);
	cJSON_AddStringToObject(j, "status", status);
	rc = req_json(r, 202, j);
out:
	key_drop(slot);
	cJSON_Delete(empty);
	cJSON_Delete(doc);
	problems_release(&pr);
	return rc;
}

/* ---- list and get ---------------------------------------------------------------------------- */

int api_executions_list(struct req *r)
{
	struct execution_filter f = { NULL, NULL, 0, 0 };
	struct execution_full *items;
	const char *cursor = req_query(r, "cursor"), *q;
	char before_id[UUID_STR_LEN] = "";
	int64_t before_ms = 0, limit = 50;
	struct db *db;
	int n = 0, rc;
	static const char *const statuses[] = { "queued", "running", "waiting_approval",
						"succeeded", "failed", "cancelled", "timed_out" };
	if ((q = req_query(r, "status"))) {
		int ok = 0;
		for (size_t i = 0; i < ARRAY_SIZE(statuses); i++)
			ok |= !strcmp(q, statuses[i]);
		if (!ok)
			return req_fail(r, ERR_INVALID, "invalid_query", "status",
					"'status' is one of queued, running, waiting_approval, "
					"succeeded, failed, cancelled, timed_out");
		f.status = q;
	}
	if ((q = req_query(r, "limit")) && (str_to_i64(q, &limit) || limit < 1 || limit > LIST_MAX))
		return req_fail(r, ERR_INVALID, "invalid_query", "limit", "'limit' is 1 to %d",
				LIST_MAX);
	if ((rc = api_query_time(r, "since", &f.since)) < 0 ||
	    (rc = api_query_time(r, "until", &f.until)) < 0)
		return rc;
	if (cursor) {
		const char *dot = strchr(cursor, '.');
		char ms[24];
		if (!dot || (size_t)(dot - cursor) >= sizeof(ms) || strlen(dot + 1) >= UUID_STR_LEN)
			return req_fail(r, ERR_INVALID, "invalid_cursor", "cursor", "bad cursor");
		memcpy(ms, cursor, (size_t)(dot - cursor));
		ms[dot - cursor] = '\0';
		if (str_to_i64(ms, &before_ms))
			return req_fail(r, ERR_INVALID, "invalid_cursor", "cursor", "bad cursor");
		str_copy(before_id, sizeof(before_id), dot + 1);
	}
	if ((rc = req_db(r, &db)))
		return rc;
	struct pattern_row p;
	if ((q = req_query(r, "pattern"))) {
		rc = store_pattern_get(db, r->auth.tenant_id, r->auth.workspace_id, q, &p, &r->err);
		if (rc == ERR_NOT_FOUND) /* no such pattern: nothing matches */
			return req_json(r, 200, cJSON_Parse("{\"items\":[],\"next_cursor\":null}"));
		if (rc)
			return rc;
		f.pattern_id = p.id;
	}
	items = arena_alloc(r->arena, sizeof(*items) * (size_t)limit);
	rc = store_executions_list(db, r->auth.tenant_id, r->auth.workspace_id, &f, before_ms,
				   before_id[0] ? before_id : NULL, items, (int)limit, &n, &r->err);
	if (rc)
		return rc;
	cJSON *j = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(j, "items");
	for (int i = 0; i < n; i++) {
		cJSON_AddItemToArray(arr, execution_json(&items[i], NULL));
		if (i == n - 1 && n == limit) {
			char c[64];
			snprintf(c, sizeof(c), "%lld.%s", (long long)items[i].created_at, items[i].id);
			cJSON_AddStringToObject(j, "next_cursor", c);
		}
	}
	if (!cJSON_GetObjectItemCaseSensitive(j, "next_cursor"))
		cJSON_AddNullToObject(j, "next_cursor");
	for (int i = 0; i < n; i++)
		execution_full_release(&items[i]);
	return req_json(r, 200, j);
}

static const char *param_id(struct req *r)
{
	const char *id = req_param(r, 0);
	return id && strlen(id) < UUID_STR_LEN && r->auth.workspace_id[0] ? id : NULL;
}

int api_executions_get(struct req *r)
{
	struct db *db;
	int rc;
	if (!param_id(r))
		return not_found(r);
	if ((rc = req_db(r, &db)))
		return rc;
	return answer_execution(r, db, param_id(r), 200);
}

/* ---- cancel, retry, approve -------------------------------------------------------------------- */

int api_executions_cancel(struct req *r)
{
	struct execution_full x;
	struct db *db;
	int rc;
	if (!param_id(r))
		return not_found(r);
	if ((rc = req_db(r, &db)) || (rc = db_begin(db, DB_TX_WRITE, &r->err)))
		return rc;
	rc = store_execution_get_full(db, r->auth.tenant_id, r->auth.workspace_id, param_id(r), &x,
				      &r->err);
	if (rc == ERR_NOT_FOUND)
		return not_found(r);
	if (rc)
		return rc;
	if (terminal(x.status)) {
		execution_full_release(&x);
		return req_fail(r, ERR_CONFLICT, "already_finished", NULL,
				"the execution already ended (%s)", x.status);
	}
	if (!strcmp(x.status, "running")) {
		rc = db_execf(db, &r->err, NULL,
			      "UPDATE executions SET cancel_requested = 1 WHERE tenant_id = ? AND id = ?",
			      "ss", r->auth.tenant_id, x.id);
	} else { /* queued or parked: nothing runs it, end it here */
		struct execution_end end = { .status = "cancelled",
					     .error = "{\"node\":null,\"message\":\"cancelled on request\"}" };
		rc = db_execf(db, &r->err, NULL,
			      "UPDATE executions SET cancel_requested = 1 WHERE tenant_id = ? AND id = ?",
			      "ss", r->auth.tenant_id, x.id);
		if (!rc)
			rc = store_execution_settle(db, r->auth.tenant_id, x.id, &end, &r->err);
		if (!rc)
			rc = db_execf(db, &r->err, NULL,
				      "UPDATE jobs SET status = 'done', updated_at = ? WHERE kind = "
				      "'execution' AND ref = ? AND status = 'queued'",
				      "is", now_ms(), x.id);
	}
	if (!rc)
		rc = db_commit(db, &r->err);
	db_rollback(db);
	if (!rc)
		engine_run_cancel(r->app->engine, x.id, "cancelled on request");
	execution_full_release(&x);
	return rc ? rc : answer_execution(r, db, param_id(r), 202);
}

int api_executions_retry(struct req *r)
{
	struct execution_full x, existing;
	struct db *db;
	char id[UUID_STR_LEN];
	int rc;
	if (!param_id(r))
		return not_found(r);
	if ((rc = req_db(r, &db)) || (rc = db_begin(db, DB_TX_WRITE, &r->err)))
		return rc;
	rc = store_execution_get_full(db, r->auth.tenant_id, r->auth.workspace_id, param_id(r), &x,
				      &r->err);
	if (rc == ERR_NOT_FOUND)
		return not_found(r);
	if (rc)
		return rc;
	if (!terminal(x.status) || !strcmp(x.status, "succeeded")) {
		execution_full_release(&x);
		return req_fail(r, ERR_CONFLICT, "not_retryable", NULL,
				"only a failed, cancelled or timed-out execution can be retried");
	}
	struct execution_submit sub = {
		.tenant_id = r->auth.tenant_id, .workspace_id = r->auth.workspace_id,
		.pattern_id = x.pattern_id, .version = x.version, .input = x.input,
		.actor_type = auth_actor_type(&r->auth),
		.actor_id = r->auth.api_key_id[0] ? r->auth.api_key_id : r->auth.user_id,
		.priority = (int)x.priority, .max_attempts = (int)x.max_attempts,
		.timeout_ms = x.timeout_ms, .webhook_url = x.webhook_url,
		.webhook_secret_enc = x.webhook_secret_enc,
	};
	memset(&existing, 0, sizeof(existing));
	rc = store_execution_submit(db, &sub, &existing, id, &r->err);
	execution_full_release(&existing);
	execution_full_release(&x);
	if (!rc)
		rc = db_commit(db, &r->err);
	db_rollback(db);
	if (rc)
		return rc;
	worker_wake(r->app->worker);
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "id", id);
	cJSON_AddStringToObject(j, "status", "queued");
	cJSON_AddStringToObject(j, "retry_of", param_id(r));
	return req_json(r, 202, j);
}

int api_executions_approve(struct req *r)
{
	static const char *const fields[] = { "decision", "comment", NULL };
	static const char *const decisions[] = { "approve", "reject", NULL };
	struct db *db;
	char node[4096] = "";
	int d = 0, rc;
	int64_t changes = 0;
	if ((rc = json_only_fields(r->json, fields, &r->err)) < 0 ||
	    (rc = json_get_enum(r->json, "decision", JSON_REQUIRED, decisions, &d, &r->err)) < 0)
		return rc;
	if (!param_id(r))
		return not_found(r);
	if ((rc = req_db(r, &db)) || (rc = db_begin(db, DB_TX_WRITE, &r->err)))
		return rc;
	rc = db_execf(db, &r->err, &changes,
		      "UPDATE executions SET status = 'queued' WHERE tenant_id = ? AND "
		      "workspace_id = ? AND id = ? AND status = 'waiting_approval'",
		      "sss", r->auth.tenant_id, r->auth.workspace_id, param_id(r));
	if (!rc && !changes) {
		db_rollback(db);
		char st[24] = "";
		db_query_text(db, &r->err, st, sizeof(st),
			      "SELECT status FROM executions WHERE tenant_id = ? AND workspace_id = ? "
			      "AND id = ?", "sss", r->auth.tenant_id, r->auth.workspace_id, param_id(r));
		if (!st[0])
			return not_found(r);
		return req_fail(r, ERR_CONFLICT, "not_waiting", NULL,
				"the execution is not waiting for an approval");
	}
	if (!rc)
		rc = db_query_text(db, &r->err, node, sizeof(node),
				   "SELECT data FROM events WHERE tenant_id = ? AND execution_id = ? "
				   "AND type = 'waiting_approval' ORDER BY seq DESC LIMIT 1",
				   "ss", r->auth.tenant_id, param_id(r));
	cJSON *ev = node[0] ? cJSON_Parse(node) : NULL;
	const cJSON *nid = cJSON_GetObjectItemCaseSensitive(ev, "node");
	if (!rc && !cJSON_IsString(nid))
		rc = req_fail(r, ERR_CONFLICT, "not_waiting", NULL, "no approval is pending");
	if (!rc) {
		cJSON *out = cJSON_CreateObject();
		cJSON_AddStringToObject(out, "decision", decisions[d]);
		cJSON_AddStringToObject(out, "by", r->auth.user_id);
		char *text = cJSON_PrintUnformatted(out);
		struct step_row s = { .node_id = nid->valuestring, .status = "waiting",
				      .output = text, .started_at = now_ms(), .finished_at = now_ms() };
		rc = store_step_put(db, r->auth.tenant_id, param_id(r), &s, &r->err);
		free(text);
		cJSON_Delete(out);
	}
	if (!rc) {
		struct job_new j = { .tenant_id = r->auth.tenant_id, .kind = "execution",
				     .ref = param_id(r), .max_attempts = 3 };
		rc = queue_enqueue(db, &j, NULL, &r->err);
	}
	cJSON_Delete(ev);
	if (!rc)
		rc = db_commit(db, &r->err);
	db_rollback(db);
	if (rc)
		return rc;
	worker_wake(r->app->worker);
	return answer_execution(r, db, param_id(r), 202);
}

/* ---- GET /api/v1/executions/{id}/events (JSON, or SSE with ?follow=1) --------------------- */

static int sse_write(struct mg_connection *c, const cJSON *ev)
{
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(ev, "seq");
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");
	char *data = cJSON_PrintUnformatted(ev);
	struct buf b;
	buf_init(&b);
	buf_addf(&b, "id: %lld\nevent: %s\ndata: %s\n\n", (long long)cJSON_GetNumberValue(seq),
		 cJSON_IsString(type) ? type->valuestring : "event", data ? data : "{}");
	int n = mg_write(c, b.p, b.len);
	buf_release(&b);
	free(data);
	return n > 0 ? 0 : -1;
}

int api_executions_events(struct req *r)
{
	const char *after_q = req_query(r, "after"), *follow = req_query(r, "follow");
	const char *last = mg_get_header(r->conn, "Last-Event-ID");
	int64_t after = 0;
	struct db *db;
	cJSON *events = NULL;
	int rc;
	if (!param_id(r))
		return not_found(r);
	if ((after_q && (str_to_i64(after_q, &after) || after < 0)) ||
	    (last && (str_to_i64(last, &after) || after < 0)))
		return req_fail(r, ERR_INVALID, "invalid_query", after_q ? "after" : "Last-Event-ID",
				"an event sequence number");
	if ((rc = req_db(r, &db)))
		return rc;
	struct execution_full x;
	rc = store_execution_get_full(db, r->auth.tenant_id, r->auth.workspace_id, param_id(r), &x,
				      &r->err);
	if (rc == ERR_NOT_FOUND)
		return not_found(r);
	if (rc)
		return rc;
	execution_full_release(&x);
	if (!follow || strcmp(follow, "1")) {
		rc = store_events_json(db, r->auth.tenant_id, param_id(r), after, 10000, &events,
				       &r->err);
		if (rc)
			return rc;
		cJSON *j = cJSON_CreateObject();
		cJSON_AddItemToObject(j, "items", events);
		return req_json(r, 200, j);
	}
	/* SSE: replay after Last-Event-ID, then poll for more until the execution ends */
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
				   "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
				   "Connection: close\r\n\r\n";
	mg_write(r->conn, head, sizeof(head) - 1);
	db_release(r->db);
	r->db = NULL;
	r->streamed = 1;
	int64_t until = mono_ms() + SSE_MAX_MS;
	char tenant[UUID_STR_LEN], id[UUID_STR_LEN];
	str_copy(tenant, sizeof(tenant), r->auth.tenant_id);
	str_copy(id, sizeof(id), param_id(r));
	while (mono_ms() < until && !r->app->draining) {
		struct err e;
		char st[24] = "";
		int end = 0, broken = 0;
		db = NULL;
		if (db_acquire(r->app->pool, 5000, &db, &e) == 0) {
			db_query_text(db, &e, st, sizeof(st),
				      "SELECT status FROM executions WHERE id = ?", "s", id);
			end = terminal(st);
			if (store_events_json(db, tenant, id, after, 1000, &events, &e) == 0) {
				const cJSON *ev;
				cJSON_ArrayForEach(ev, events) {
					if (sse_write(r->conn, ev) < 0) {
						broken = 1;
						break;
					}
					after = (int64_t)cJSON_GetNumberValue(
						cJSON_GetObjectItemCaseSensitive(ev, "seq"));
				}
				end = end && cJSON_GetArraySize(events) == 0 ? 2 : end;
			}
			cJSON_Delete(events);
			events = NULL;
			db_release(db);
		}
		if (broken || end == 2)
			break;
		struct timespec ts = { 0, 100 * 1000000 };
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* ---- GET /api/v1/executions/feed (SSE): the workspace's newest executions changed ------- */

/* A fingerprint of the workspace's newest executions and their statuses (one index seek):
 * it changes when one is submitted or changes status. 0 when it cannot be read. */
static uint64_t feed_fingerprint(struct db *db, const char *tenant, const char *ws)
{
	struct db_stmt *st = NULL;
	struct err e;
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	int rc = db_prepare_bindf(db, &e, &st,
				  "SELECT id, status FROM executions WHERE tenant_id = ? AND "
				  "workspace_id = ? ORDER BY created_at DESC, id DESC LIMIT 100",
				  "ss", tenant, ws);
	while (!rc && (rc = db_step(st, &e)) == DB_ROW) {
		for (int col = 0; col < 2; col++)
			for (const char *p = db_column_text(st, col); p && *p; p++)
				h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		h = (h ^ '|') * 1099511628211ULL;
		rc = 0;
	}
	db_finalize(st);
	return rc == DB_DONE ? h : 0;
}

int api_executions_feed(struct req *r)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
				   "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
				   "Connection: close\r\n\r\nretry: 2000\n\n";
	char tenant[UUID_STR_LEN], ws[UUID_STR_LEN];
	uint64_t last = 0;
	int64_t until = mono_ms() + SSE_MAX_MS, ping = mono_ms();
	const char *follow = req_query(r, "follow");
	str_copy(tenant, sizeof(tenant), r->auth.tenant_id);
	str_copy(ws, sizeof(ws), r->auth.workspace_id);
	if (!follow || strcmp(follow, "1")) { /* a change token to compare, without a stream */
		struct db *db;
		char tok[24];
		int rc = req_db(r, &db);
		if (rc)
			return rc;
		snprintf(tok, sizeof(tok), "%016llx",
			 (unsigned long long)feed_fingerprint(db, tenant, ws));
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "version", tok);
		return req_json(r, 200, j);
	}
	if (mg_write(r->conn, head, sizeof(head) - 1) <= 0)
		return 0;
	if (r->db) { /* a connection is held only while reading, below */
		db_release(r->db);
		r->db = NULL;
	}
	r->streamed = 1;
	while (mono_ms() < until && !r->app->draining) {
		struct db *db = NULL;
		struct err e;
		uint64_t h = 0;
		if (db_acquire(r->app->pool, 5000, &db, &e) == 0) {
			h = feed_fingerprint(db, tenant, ws);
			db_release(db);
		}
		if (h && last && h != last) {
			static const char ev[] = "event: changed\ndata: {}\n\n";
			if (mg_write(r->conn, ev, sizeof(ev) - 1) <= 0)
				break;
			ping = mono_ms();
		} else if (mono_ms() - ping > 15000) { /* finds a closed connection */
			if (mg_write(r->conn, ": ping\n\n", 8) <= 0)
				break;
			ping = mono_ms();
		}
		if (h)
			last = h;
		struct timespec ts = { 0, 500 * 1000000 };
		nanosleep(&ts, NULL);
	}
	return 0;
}
