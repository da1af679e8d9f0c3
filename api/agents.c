/*
 * /api/v1/agents: CRUD of the agents of the caller's workspace. Configs are
 * checked per kind (agent_config.c); secrets are write-only: sealed at rest
 * (auth/secrets.c), shown as {"set": true}, never logged or audited. A ws
 * agent gets a one-time connect_token, stored hashed. Creating takes an
 * "agents" quota unit in the same transaction; deleting gives it back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api/api.h"
#include "api/agents_internal.h"
#include "auth/auth.h"
#include "db/db.h"
#include "engine/engine.h"
#include "server/server.h"
#include "core/core.h"

#define AGENTS_PAGE_DEFAULT 50
#define AGENTS_PAGE_MAX 100
#define CAPS_MAX 32
#define CAP_LEN_MAX 64
#define TIMEOUT_DEFAULT 30000
#define CONCURRENCY_DEFAULT 10
#define CONNECT_PREFIX "plxa_"

static const char *const kinds[] = { "builtin", "http", "openai", "ws", NULL };

/* The request's fields; kind and config are NULL when absent. */
struct agent_in {
	const char *name, *kind;
	const cJSON *caps, *config;
	double expertise;
	int64_t timeout_ms, max_concurrency;
	int has_expertise, has_timeout, has_concurrency;
};

static void row_release(void *p)
{
	store_agent_release(p);
}

static void json_wipe(void *p)
{
	agent_json_wipe(p);
}

/* A row owned by the request: its strings are freed with it. */
static struct agent_row *row_new(struct req *r)
{
	struct agent_row *a = arena_alloc(r->arena, sizeof(*a));
	arena_defer(r->arena, row_release, a);
	return a;
}

static int not_found(struct req *r)
{
	return req_fail(r, ERR_NOT_FOUND, "not_found", NULL, "no such agent");
}

/* Letters, digits, '.', '_' and '-', starting with a letter or digit. */
static int name_ok(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= AGENT_NAME_MAX && strchr("._-", s[0]) == NULL &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

static int caps_check(struct req *r, const cJSON *caps)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, caps) {
		size_t n = cJSON_IsString(it) ? strlen(it->valuestring) : 0;
		if (n == 0 || n > CAP_LEN_MAX ||
		    strspn(it->valuestring, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					    "0123456789._:/-") != n)
			return req_fail(r, ERR_INVALID, "invalid_field", "capabilities",
					"'capabilities' holds strings of 1 to %d characters "
					"(letters, digits, . _ : / -)", CAP_LEN_MAX);
	}
	return 0;
}

static int present(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return v && !cJSON_IsNull(v);
}

static int agent_parse(struct req *r, int creating, struct agent_in *in)
{
	static const char *const fields[] = { "name", "kind", "capabilities", "expertise",
					      "timeout_ms", "max_concurrency", "config", NULL };
	int req = creating ? JSON_REQUIRED : JSON_NULLABLE, k = 0, rc;
	memset(in, 0, sizeof(*in));
	if ((rc = json_only_fields(r->json, fields, &r->err)) ||
	    (rc = json_get_str(r->json, "name", req, AGENT_NAME_MAX, &in->name, &r->err)) < 0 ||
	    (rc = json_get_enum(r->json, "kind", req, kinds, &k, &r->err)) < 0 ||
	    (rc = json_get_arr(r->json, "capabilities", JSON_NULLABLE, CAPS_MAX, &in->caps,
			       &r->err)) < 0 ||
	    (rc = caps_check(r, in->caps)) ||
	    (rc = json_get_num(r->json, "expertise", JSON_NULLABLE, 0, 1, &in->expertise,
			       &r->err)) < 0 ||
	    (rc = json_get_int(r->json, "timeout_ms", JSON_NULLABLE, 100, 600000,
			       &in->timeout_ms, &r->err)) < 0 ||
	    (rc = json_get_int(r->json, "max_concurrency", JSON_NULLABLE, 1, 1000,
			       &in->max_concurrency, &r->err)) < 0 ||
	    (rc = json_get_obj(r->json, "config", req, &in->config, &r->err)) < 0)
		return rc;
	in->kind = present(r->json, "kind") ? kinds[k] : NULL;
	in->has_expertise = present(r->json, "expertise");
	in->has_timeout = present(r->json, "timeout_ms");
	in->has_concurrency = present(r->json, "max_concurrency");
	if (in->name && !name_ok(in->name))
		return req_fail(r, ERR_INVALID, "invalid_field", "name",
				"'name' takes 1 to %d letters, digits, '.', '_' and '-'",
				AGENT_NAME_MAX);
	return 0;
}

/* Check the complete config, then store its public part in a->config and
 * its secrets, sealed, in a->secrets_enc (NULL when there are none). */
static int agent_seal(struct req *r, struct agent_row *a, cJSON *full)
{
	char *plain = NULL, *sealed = NULL;
	cJSON *sec;
	int rc = agent_config_check(r, a->kind, full);
	if (rc)
		return rc;
	sec = agent_secrets_split(full);
	arena_defer(r->arena, json_wipe, sec);
	if (sec->child) {
		plain = json_print(sec);
		rc = secret_seal(plain, &sealed, &r->err);
		secret_free(plain);
		if (rc)
			return rc;
	}
	free(a->config);
	free(a->secrets_enc);
	a->config = json_print(full);
	a->secrets_enc = sealed;
	return 0;
}

/* The stored secrets as JSON (a request-owned tree), or NULL when none. */
static int secrets_load(struct req *r, const struct agent_row *a, cJSON **out)
{
	char *plain = NULL;
	int rc;
	*out = NULL;
	if (!a->secrets_enc)
		return 0;
	if ((rc = secret_open(a->secrets_enc, &plain, &r->err)))
		return rc;
	*out = cJSON_Parse(plain);
	secret_free(plain);
	if (!*out)
		return req_fail(r, ERR_INTERNAL, NULL, NULL, "stored secrets are not JSON");
	arena_defer(r->arena, json_wipe, *out);
	return 0;
}

static cJSON *agent_json(struct req *r, const struct agent_row *a)
{
	cJSON *j = cJSON_CreateObject(), *pub = cJSON_Parse(a->config), *sec = NULL;
	if (!pub)
		pub = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "id", a->id);
	cJSON_AddStringToObject(j, "name", a->name);
	cJSON_AddStringToObject(j, "kind", a->kind);
	cJSON_AddItemToObject(j, "capabilities", cJSON_Parse(a->capabilities));
	cJSON_AddNumberToObject(j, "expertise", a->expertise);
	cJSON_AddNumberToObject(j, "timeout_ms", (double)a->timeout_ms);
	cJSON_AddNumberToObject(j, "max_concurrency", (double)a->max_concurrency);
	cJSON_AddStringToObject(j, "status", a->status);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(j, "circuit"), "state",
				r->app->engine ? engine_agent_circuit(r->app->engine, a->id)
					       : a->circuit_state);
	if (secrets_load(r, a, &sec)) {
		log_kv(LOG_WARN, "agents", "stored secrets cannot be opened", "agent", a->id, NULL);
		err_clear(&r->err);
	}
	cJSON_AddItemToObject(j, "config", agent_config_public(pub, sec));
	cJSON_Delete(pub);
	api_add_time(j, "created_at", a->created_at);
	api_add_time(j, "updated_at", a->updated_at);
	return j;
}

/* Audit details: names only, never a config value. */
static cJSON *agent_details(const struct agent_row *a, const cJSON *body)
{
	cJSON *d = cJSON_CreateObject(), *f, *c;
	const cJSON *it;
	cJSON_AddStringToObject(d, "name", a->name);
	cJSON_AddStringToObject(d, "kind", a->kind);
	if (!body)
		return d;
	f = cJSON_AddArrayToObject(d, "fields");
	cJSON_ArrayForEach(it, body)
		cJSON_AddItemToArray(f, cJSON_CreateString(it->string));
	c = cJSON_AddArrayToObject(d, "config_fields");
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(body, "config"))
		cJSON_AddItemToArray(c, cJSON_CreateString(it->string));
	return d;
}

static const char *workspace(struct req *r)
{
	return r->auth.workspace_id[0] ? r->auth.workspace_id : NULL;
}

/* Apply the request's top-level fields to a. */
static void agent_apply(struct agent_row *a, const struct agent_in *in)
{
	if (in->name)
		str_copy(a->name, sizeof(a->name), in->name);
	if (in->caps) {
		free(a->capabilities);
		a->capabilities = json_print(in->caps);
	}
	if (in->has_expertise)
		a->expertise = in->expertise;
	if (in->has_timeout)
		a->timeout_ms = in->timeout_ms;
	if (in->has_concurrency)
		a->max_concurrency = in->max_concurrency;
}

/* A ws agent's one-time token: *token for the answer, hash for the row. */
static void connect_token(struct req *r, char **token, char hash[65])
{
	size_t n = sizeof(CONNECT_PREFIX) - 1 + 44;
	*token = arena_alloc(r->arena, n);
	memcpy(*token, CONNECT_PREFIX, sizeof(CONNECT_PREFIX) - 1);
	random_token(*token + sizeof(CONNECT_PREFIX) - 1, n - (sizeof(CONNECT_PREFIX) - 1), 32);
	token_hash(*token, hash);
}

static int agent_insert(struct req *r, struct agent_row *in, const char *hash,
			struct agent_row *out)
{
	struct db *db;
	int rc;
	if ((rc = req_db(r, &db)) || (rc = db_begin(db, DB_TX_WRITE, &r->err)))
		return rc;
	if (!(rc = store_agent_create(db, r->auth.tenant_id, in, hash,
				      r->auth.user_id[0] ? r->auth.user_id : NULL, out, &r->err)) &&
	    !(rc = req_audit(r, "agent.created", "agent", out->id, "success",
			     agent_details(out, NULL))))
		rc = db_commit(db, &r->err);
	db_rollback(db); /* no-op after a commit */
	if (rc && !r->err.code)
		req_fail(r, rc, NULL, NULL, "the agent was not created");
	return rc;
}

int api_agents_create(struct req *r)
{
	struct agent_in in;
	struct agent_row *a = row_new(r), *out = row_new(r);
	char *token = NULL, hash[65];
	cJSON *full;
	int rc;
	if ((rc = agent_parse(r, 1, &in)))
		return rc;
	if (!workspace(r))
		return req_fail(r, ERR_NOT_FOUND, "workspace_not_found", NULL, "no workspace");
	str_copy(a->workspace_id, sizeof(a->workspace_id), workspace(r));
	str_copy(a->kind, sizeof(a->kind), in.kind);
	a->capabilities = xstrdup("[]");
	a->expertise = 0.5;
	a->timeout_ms = TIMEOUT_DEFAULT;
	a->max_concurrency = CONCURRENCY_DEFAULT;
	agent_apply(a, &in);
	full = cJSON_CreateObject();
	arena_defer(r->arena, json_wipe, full);
	agent_config_merge(full, in.config);
	if ((rc = agent_seal(r, a, full)))
		return rc;
	if (!strcmp(a->kind, "ws"))
		connect_token(r, &token, hash);
	if ((rc = agent_insert(r, a, token ? hash : NULL, out)))
		return rc;
	cJSON *j = agent_json(r, out);
	if (token)
		cJSON_AddStringToObject(j, "connect_token", token);
	return req_json(r, 201, j);
}

int api_agents_get(struct req *r)
{
	struct agent_row *a = row_new(r);
	struct db *db;
	int rc;
	if ((rc = req_db(r, &db)))
		return rc;
	if (!workspace(r) || strlen(req_param(r, 0)) >= UUID_STR_LEN)
		return not_found(r);
	rc = store_agent_get(db, r->auth.tenant_id, workspace(r), req_param(r, 0), a, &r->err);
	if (rc == ERR_NOT_FOUND)
		return not_found(r);
	return rc ? rc : req_json(r, 200, agent_json(r, a));
}

/* Commit when rc is 0, else roll back; r->err always says why. */
static int tx_finish(struct req *r, struct db *db, int rc)
{
	if (!rc)
		rc = db_commit(db, &r->err);
	else if (!r->err.code)
		err_set(&r->err, rc, NULL, "the agent was not changed");
	db_rollback(db); /* no-op after a commit */
	return rc;
}

/* Param 0 as an agent of the caller's workspace, inside db's transaction. */
static int agent_load(struct req *r, struct db *db, struct agent_row *a)
{
	const char *id = req_param(r, 0);
	if (!workspace(r) || !id || strlen(id) >= UUID_STR_LEN)
		return not_found(r);
	int rc = store_agent_get(db, r->auth.tenant_id, workspace(r), id, a, &r->err);
	return rc == ERR_NOT_FOUND ? not_found(r) : rc;
}

/* Merge the patch into the stored config, secrets included, and reseal. */
static int agent_patch_config(struct req *r, struct agent_row *a, const cJSON *patch)
{
	cJSON *full, *sec;
	int rc;
	if (!patch)
		return 0;
	full = cJSON_Parse(a->config);
	if (!full)
		full = cJSON_CreateObject();
	arena_defer(r->arena, json_wipe, full);
	if ((rc = secrets_load(r, a, &sec)))
		return rc;
	agent_secrets_join(full, sec);
	agent_config_merge(full, patch);
	return agent_seal(r, a, full);
}

int api_agents_update(struct req *r)
{
	struct agent_in in;
	struct agent_row *a = row_new(r);
	struct db *db;
	int rc;
	if ((rc = agent_parse(r, 0, &in)) || (rc = req_db(r, &db)) ||
	    (rc = db_begin(db, DB_TX_WRITE, &r->err)))
		return rc;
	rc = agent_load(r, db, a);
	if (!rc && in.kind && strcmp(in.kind, a->kind))
		rc = req_fail(r, ERR_INVALID, "immutable_field", "kind",
			      "an agent's kind cannot change; create another agent");
	if (!rc) {
		agent_apply(a, &in);
		rc = agent_patch_config(r, a, in.config);
	}
	if (!rc && !(rc = store_agent_update(db, r->auth.tenant_id, a, &r->err)))
		rc = req_audit(r, "agent.updated", "agent", a->id, "success",
			       agent_details(a, r->json));
	if ((rc = tx_finish(r, db, rc)))
		return rc;
	return req_json(r, 200, agent_json(r, a));
}

int api_agents_delete(struct req *r)
{
	struct agent_row *a = row_new(r);
	struct db *db;
	int rc;
	if ((rc = req_db(r, &db)) || (rc = db_begin(db, DB_TX_WRITE, &r->err)))
		return rc;
	if (!(rc = agent_load(r, db, a)) &&
	    !(rc = store_agent_delete(db, r->auth.tenant_id, a->workspace_id, a->id, &r->err)))
		rc = req_audit(r, "agent.deleted", "agent", a->id, "success",
			       agent_details(a, NULL));
	if ((rc = tx_finish(r, db, rc)))
		return rc;
	r->status = 204;
	return 0;
}

static int list_filter(struct req *r, struct agent_filter *f)
{
	static const char *const statuses[] = { "unknown", "healthy", "unhealthy", "disabled",
						NULL };
	int i;
	f->kind = req_query(r, "kind");
	f->status = req_query(r, "status");
	f->capability = req_query(r, "capability");
	for (i = 0; f->kind && kinds[i] && strcmp(kinds[i], f->kind); i++)
		;
	if (f->kind && !kinds[i])
		return req_fail(r, ERR_INVALID, "invalid_field", "kind",
				"'kind' is one of builtin, http, openai, ws");
	for (i = 0; f->status && statuses[i] && strcmp(statuses[i], f->status); i++)
		;
	if (f->status && !statuses[i])
		return req_fail(r, ERR_INVALID, "invalid_field", "status",
				"'status' is one of unknown, healthy, unhealthy, disabled");
	if (f->capability && (!*f->capability || strlen(f->capability) > CAP_LEN_MAX))
		return req_fail(r, ERR_INVALID, "invalid_field", "capability",
				"'capability' is 1 to %d characters", CAP_LEN_MAX);
	return 0;
}

int api_agents_list(struct req *r)
{
	const char *cursor = req_query(r, "cursor");
	char after_id[UUID_STR_LEN + 64];
	struct agent_filter f;
	int64_t limit, after_ms = 0;
	int n = 0, rc;
	struct db *db;
	if ((rc = list_filter(r, &f)) ||
	    (rc = api_query_limit(r, AGENTS_PAGE_DEFAULT, AGENTS_PAGE_MAX, &limit)) ||
	    (cursor && (rc = api_cursor_decode(r, cursor, &after_ms, after_id, sizeof(after_id)))) ||
	    (rc = req_db(r, &db)))
		return rc;
	if (!workspace(r))
		return req_fail(r, ERR_NOT_FOUND, "workspace_not_found", NULL, "no workspace");
	/* One more than asked: its presence means there is a next page. */
	struct agent_row *items = arena_alloc(r->arena, sizeof(*items) * (size_t)(limit + 1));
	rc = store_agents_list(db, r->auth.tenant_id, workspace(r), &f, after_ms,
			       cursor ? after_id : NULL, items, (int)limit + 1, &n, &r->err);
	cJSON *j = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(j, "items");
	for (int i = 0; !rc && i < n && i < limit; i++)
		cJSON_AddItemToArray(arr, agent_json(r, &items[i]));
	if (!rc && n > limit)
		cJSON_AddStringToObject(j, "next_cursor",
					api_cursor_encode(r, items[limit - 1].created_at,
							  items[limit - 1].id));
	else
		cJSON_AddNullToObject(j, "next_cursor");
	for (int i = 0; i < n; i++)
		store_agent_release(&items[i]);
	if (rc) {
		cJSON_Delete(j);
		return rc;
	}
	return req_json(r, 200, j);
}
