/*
 * Schedules (a cron expression that starts a pattern) and inbound triggers
 * (a URL that starts a pattern when called with a body signed by the
 * trigger's secret), per workspace; and the public hook itself:
 * POST /api/v1/hooks/{id} with X-Parallax-Signature: sha256=<HMAC of the body>.
 */
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>

#include "api/api.h"
#include "api/patterns_internal.h"
#include "auth/auth.h"
#include "engine/engine.h"
#include "server/server.h"
#include "core/core.h"

#define LIST_MAX 200

static int ws_or_404(struct req *r)
{
	return r->auth.workspace_id[0] ? 0
				       : req_fail(r, ERR_NOT_FOUND, "workspace_not_found", NULL,
						  "no workspace");
}

static int pattern_of(struct req *r, struct db *db, const char *name, struct pattern_row *p)
{
	int rc = store_pattern_get(db, r->auth.tenant_id, r->auth.workspace_id, name, p, &r->err);
	if (rc == ERR_NOT_FOUND)
		return req_fail(r, ERR_UNPROCESSABLE, "unknown_pattern", "pattern",
				"no pattern '%s' in this workspace", name);
	return rc;
}

static int name_ok(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= 64 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* ---- schedules ------------------------------------------------------------------------------- */

static cJSON *schedule_json(const struct schedule_row *s)
{
	cJSON *j = cJSON_CreateObject(), *in = s->input ? cJSON_Parse(s->input) : NULL;
	cJSON_AddStringToObject(j, "id", s->id);
	cJSON_AddStringToObject(j, "name", s->name);
	cJSON_AddStringToObject(j, "pattern_id", s->pattern_id);
	cJSON_AddStringToObject(j, "cron", s->cron);
	cJSON_AddStringToObject(j, "timezone", "UTC");
	cJSON_AddItemToObject(j, "input", in ? in : cJSON_CreateObject());
	cJSON_AddBoolToObject(j, "enabled", s->enabled);
	api_add_time(j, "next_run_at", s->next_run_at);
	api_add_time(j, "last_run_at", s->last_run_at);
	api_add_time(j, "created_at", s->created_at);
	return j;
}

int api_schedules_create(struct req *r)
{
	static const char *const fields[] = { "name", "pattern", "cron", "input", "enabled", NULL };
	const char *name, *pattern, *cron_text;
	const cJSON *input = NULL; /* json_get_obj leaves it as is when "input" is absent */
	int enabled = 1, rc;
	struct cron c;
	struct pattern_row p;
	struct db *db;
	char id[UUID_STR_LEN];
	if ((rc = json_only_fields(r->json, fields, &r->err)) < 0 ||
	    (rc = json_get_str(r->json, "name", JSON_REQUIRED, 64, &name, &r->err)) < 0 ||
	    (rc = json_get_str(r->json, "pattern", JSON_REQUIRED, 128, &pattern, &r->err)) < 0 ||
	    (rc = json_get_str(r->json, "cron", JSON_REQUIRED, 127, &cron_text, &r->err)) < 0 ||
	    (rc = json_get_obj(r->json, "input", JSON_OPTIONAL, &input, &r->err)) < 0 ||
	    (rc = json_get_bool(r->json, "enabled", JSON_OPTIONAL, &enabled, &r->err)) < 0)
		return rc;
	if (!name_ok(name))
		return req_fail(r, ERR_INVALID, "invalid_field", "name",
				"'name' takes 1 to 64 letters, digits, '.', '_' and '-'");
	if ((rc = cron_parse(cron_text, &c, &r->err)))
		return rc;
	if ((rc = ws_or_404(r)) || (rc = req_db(r, &db)) || (rc = pattern_of(r, db, pattern, &p)))
		return rc;
	char *in_text = input ? cJSON_PrintUnformatted(input) : xstrdup("{}");
	struct schedule_row s;
	memset(&s, 0, sizeof(s));
	str_copy(s.tenant_id, sizeof(s.tenant_id), r->auth.tenant_id);
	str_copy(s.workspace_id, sizeof(s.workspace_id), r->auth.workspace_id);
	str_copy(s.pattern_id, sizeof(s.pattern_id), p.id);
	str_copy(s.name, sizeof(s.name), name);
	str_copy(s.cron, sizeof(s.cron), cron_text);
	s.input = in_text;
	s.enabled = enabled;
	s.next_run_at = cron_next(&c, now_ms());
	if (s.next_run_at < 0) {
		free(in_text);
		return req_fail(r, ERR_INVALID, "invalid_field", "cron",
				"'cron' never fires in the next five years");
	}
	rc = db_begin(db, DB_TX_WRITE, &r->err);
	if (!rc)
		rc = store_schedule_create(db, &s, r->auth.user_id, id, &r->err);
	if (!rc)
		rc = db_commit(db, &r->err);
	db_rollback(db);
	if (rc) {
		free(in_text);
		return rc;
	}
	str_copy(s.id, sizeof(s.id), id);
	s.created_at = now_ms();
	cJSON *j = schedule_json(&s);
	free(in_text);
	return req_json(r, 201, j);
}

int api_schedules_list(struct req *r)
{
	struct schedule_row *items;
	struct db *db;
	int n = 0, rc;
	if ((rc = ws_or_404(r)) || (rc = req_db(r, &db)))
		return rc;
	items = arena_alloc(r->arena, sizeof(*items) * LIST_MAX);
	if ((rc = store_schedules_list(db, r->auth.tenant_id, r->auth.workspace_id, items, LIST_MAX,
				       &n, &r->err)))
		return rc;
	cJSON *j = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(j, "items");
	for (int i = 0; i < n; i++) {
		cJSON_AddItemToArray(arr, schedule_json(&items[i]));
		schedule_row_release(&items[i]);
	}
	cJSON_AddNullToObject(j, "next_cursor");
	return req_json(r, 200, j);
}

int api_schedules_delete(struct req *r)
{
	struct db *db;
	const char *id = req_param(r, 0);
	int rc;
	if ((rc = ws_or_404(r)) || (rc = req_db(r, &db)))
		return rc;
	rc = store_schedule_delete(db, r->auth.tenant_id, r->auth.workspace_id, id, &r->err);
	if (rc == ERR_NOT_FOUND)
		return req_fail(r, ERR_NOT_FOUND, "not_found", NULL, "no such schedule");
	return rc ? rc : req_send(r, 204, "application/json", "", 0);
}

/* ---- triggers ----------------------------------------------------------------------------------- */

static cJSON *trigger_json(struct req *r, const struct trigger_row *t)
{
	cJSON *j = cJSON_CreateObject();
	char url[512];
	cJSON_AddStringToObject(j, "id", t->id);
	cJSON_AddStringToObject(j, "name", t->name);
	cJSON_AddStringToObject(j, "pattern_id", t->pattern_id);
	cJSON_AddBoolToObject(j, "enabled", t->enabled);
	snprintf(url, sizeof(url), "%s/api/v1/hooks/%s", r->app->base_url, t->id);
	cJSON_AddStringToObject(j, "url", url);
	cJSON *sec = cJSON_AddObjectToObject(j, "secret");
	cJSON_AddBoolToObject(sec, "set", 1);
	api_add_time(j, "created_at", t->created_at);
	return j;
}

int api_triggers_create(struct req *r)
{
	static const char *const fields[] = { "name", "pattern", "secret", NULL };
	const char *name, *pattern, *secret;
	struct pattern_row p;
	struct trigger_row t;
	struct db *db;
	char id[UUID_STR_LEN], *sealed = NULL;
	int rc;
	if ((rc = json_only_fields(r->json, fields, &r->err)) < 0 ||
	    (rc = json_get_str(r->json, "name", JSON_REQUIRED, 64, &name, &r->err)) < 0 ||
	    (rc = json_get_str(r->json, "pattern", JSON_REQUIRED, 128, &pattern, &r->err)) < 0 ||
	    (rc = json_get_str(r->json, "secret", JSON_REQUIRED, 256, &secret, &r->err)) < 0)
		return rc;
	if (!name_ok(name))
		return req_fail(r, ERR_INVALID, "invalid_field", "name",
				"'name' takes 1 to 64 letters, digits, '.', '_' and '-'");
	if (strlen(secret) < 16)
		return req_fail(r, ERR_INVALID, "invalid_field", "secret",
				"'secret' takes at least 16 characters");
	if ((rc = ws_or_404(r)) || (rc = req_db(r, &db)) || (rc = pattern_of(r, db, pattern, &p)) ||
	    (rc = secret_seal(secret, &sealed, &r->err)))
		return rc;
	memset(&t, 0, sizeof(t));
	str_copy(t.tenant_id, sizeof(t.tenant_id), r->auth.tenant_id);
	str_copy(t.workspace_id, sizeof(t.workspace_id), r->auth.workspace_id);
	str_copy(t.pattern_id, sizeof(t.pattern_id), p.id);
	str_copy(t.name, sizeof(t.name), name);
	t.secret_enc = sealed;
	t.enabled = 1;
	rc = db_begin(db, DB_TX_WRITE, &r->err);
	if (!rc)
		rc = store_trigger_create(db, &t, r->auth.user_id, id, &r->err);
	if (!rc)
		rc = db_commit(db, &r->err);
	db_rollback(db);
	free(sealed);
	t.secret_enc = NULL;
	if (rc)
		return rc;
	str_copy(t.id, sizeof(t.id), id);
	t.created_at = now_ms();
	return req_json(r, 201, trigger_json(r, &t));
}

int api_triggers_list(struct req *r)
{
	struct trigger_row *items;
	struct db *db;
	int n = 0, rc;
	if ((rc = ws_or_404(r)) || (rc = req_db(r, &db)))
		return rc;
	items = arena_alloc(r->arena, sizeof(*items) * LIST_MAX);
	if ((rc = store_triggers_list(db, r->auth.tenant_id, r->auth.workspace_id, items, LIST_MAX,
				      &n, &r->err)))
		return rc;
	cJSON *j = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(j, "items");
	for (int i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, trigger_json(r, &items[i]));
	cJSON_AddNullToObject(j, "next_cursor");
	return req_json(r, 200, j);
}

int api_triggers_delete(struct req *r)
{
	struct db *db;
	int rc;
	if ((rc = ws_or_404(r)) || (rc = req_db(r, &db)))
		return rc;
	rc = store_trigger_delete(db, r->auth.tenant_id, r->auth.workspace_id, req_param(r, 0),
				  &r->err);
	if (rc == ERR_NOT_FOUND)
		return req_fail(r, ERR_NOT_FOUND, "not_found", NULL, "no such trigger");
	return rc ? rc : req_send(r, 204, "application/json", "", 0);
}

/* POST /api/v1/hooks/{id}: public; the signature over the raw body is the credential. */
int api_hooks_fire(struct req *r)
{
	struct trigger_row t;
	struct db *db;
	char *secret = NULL, want[72], id[UUID_STR_LEN];
	const char *sig = mg_get_header(r->conn, "X-Parallax-Signature");
	const char *tid = req_param(r, 0);
	int rc;
	if (!tid || strlen(tid) >= UUID_STR_LEN || !sig)
		return req_fail(r, ERR_FORBIDDEN, "bad_signature", "X-Parallax-Signature",
				"a valid X-Parallax-Signature is required");
	if ((rc = req_db(r, &db)))
		return rc;
	rc = store_trigger_get(db, tid, &t, &r->err);
	if (rc == ERR_NOT_FOUND || (!rc && (!t.enabled || !t.secret_enc))) {
		trigger_row_release(&t);
		return req_fail(r, ERR_FORBIDDEN, "bad_signature", "X-Parallax-Signature",
				"a valid X-Parallax-Signature is required");
	}
	if (rc || (rc = secret_open(t.secret_enc, &secret, &r->err))) {
		trigger_row_release(&t);
		return rc;
	}
	char *body = xstrndup(r->body ? r->body : "", r->body_len);
	webhook_signature(secret, body, want);
	secret_free(secret);
	int ok = strlen(sig) == strlen(want) && ct_equal(sig, want, strlen(want)) &&
		 strlen(body) == r->body_len;
	cJSON *input = ok ? json_parse(body, r->body_len, 64, &r->err) : NULL;
	free(body);
	if (!ok) {
		trigger_row_release(&t);
		return req_fail(r, ERR_FORBIDDEN, "bad_signature", "X-Parallax-Signature",
				"a valid X-Parallax-Signature is required");
	}
	if (!input) {
		trigger_row_release(&t);
		return r->err.code ? r->err.code
				   : req_fail(r, ERR_INVALID, "invalid_json", NULL, "the body is not JSON");
	}
	int64_t version = 0;
	char *in_text = cJSON_PrintUnformatted(input);
	cJSON_Delete(input);
	struct execution_full existing;
	memset(&existing, 0, sizeof(existing));
	rc = db_query_int64(db, &r->err, &version, "SELECT latest_version FROM patterns WHERE id = ?",
			    "s", t.pattern_id);
	struct execution_submit sub = {
		.tenant_id = t.tenant_id, .workspace_id = t.workspace_id, .pattern_id = t.pattern_id,
		.version = version, .input = in_text, .actor_type = "trigger", .actor_id = t.id,
		.max_attempts = 3,
	};
	if (!rc)
		rc = db_begin(db, DB_TX_WRITE, &r->err);
	if (!rc)
		rc = store_execution_submit(db, &sub, &existing, id, &r->err);
	if (!rc)
		rc = db_commit(db, &r->err);
	db_rollback(db);
	execution_full_release(&existing);
	free(in_text);
	trigger_row_release(&t);
	if (rc)
		return rc;
	worker_wake(r->app->worker);
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "id", id);
	cJSON_AddStringToObject(j, "status", "queued");
	return req_json(r, 202, j);
}
