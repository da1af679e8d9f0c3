/*
 * Running patterns synchronously (POST /api/v1/patterns/{id}/run, until the
 * queue lands) and the agent test call and health report. A run is a real
 * execution row: each finished node is checkpointed as a step from the
 * engine's loop, on a connection of its own.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/agents_internal.h"
#include "api/api.h"
#include "api/patterns_internal.h"
#include "auth/auth.h"
#include "engine/engine.h"
#include "server/server.h"
#include "core/core.h"

#define RUN_TIMEOUT_DEFAULT_MS 30000
#define RUN_TIMEOUT_MAX_MS     300000
#define TEST_TASK_MAX          100000

/* ---- agents as the engine sees them -------------------------------------------------- */

struct specs_hold {
	struct agent_spec *specs;
	size_t n;
};

static void specs_free(void *p)
{
	struct specs_hold *h = p;
	agent_specs_free(h->specs, h->n);
}

/* Every agent of the caller's workspace, released with the request. */
static int workspace_agents(struct req *r, struct db *db, struct agent_spec **out, size_t *n)
{
	struct specs_hold *h = arena_alloc(r->arena, sizeof(*h));
	int rc = agent_specs_load(db, r->auth.tenant_id, r->auth.workspace_id, &h->specs, &h->n,
				  &r->err);
	if (rc)
		return rc;
	arena_defer(r->arena, specs_free, h);
	*out = h->specs;
	*n = h->n;
	return 0;
}

/* ---- the run's hooks -------------------------------------------------------------------- */

struct run_ctx {
	struct app *app;
	char tenant_id[UUID_STR_LEN], workspace_id[UUID_STR_LEN], execution_id[UUID_STR_LEN];
};

/* The string member key of o, "" if absent (the engine always sets these). */
static const char *json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static int64_t json_count(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e15 ? (int64_t)v->valuedouble
										  : 0;
}

static void run_checkpoint(void *ud, const cJSON *step)
{
	struct run_ctx *c = ud;
	struct db *db = NULL;
	struct err e;
	if (db_acquire(c->app->pool, 5000, &db, &e) == 0) {
		if (store_step_put_json(db, c->tenant_id, c->execution_id, step, &e) < 0)
			log_kv(LOG_WARN, "runs", "cannot checkpoint a step", "execution",
			       c->execution_id, "error", e.msg, NULL);
		db_release(db);
	}
}

static int run_load_pattern(void *ud, const char *name, int64_t version, char **definition,
			    char pattern_id[UUID_STR_LEN], int64_t *version_out, struct err *e)
{
	struct run_ctx *c = ud;
	struct db *db = NULL;
	struct pattern_row p;
	struct pattern_version_row v;
	int rc;
	memset(&v, 0, sizeof(v));
	if ((rc = db_acquire(c->app->pool, 5000, &db, e)))
		return rc;
	rc = store_pattern_get(db, c->tenant_id, c->workspace_id, name, &p, e);
	if (!rc)
		rc = store_pattern_version_get(db, c->tenant_id, &p, version ? version : p.latest_version,
					       &v, e);
	db_release(db);
	if (rc == ERR_NOT_FOUND)
		return err_set(e, ERR_NOT_FOUND, NULL, "no such pattern (or version) in the workspace");
	if (rc)
		return rc;
	*definition = v.definition;
	v.definition = NULL;
	str_copy(pattern_id, UUID_STR_LEN, p.id);
	*version_out = v.version;
	store_pattern_version_release(&v);
	return 0;
}

/* ---- POST /api/v1/patterns/{id}/run ------------------------------------------------------ */

static void pattern_free_deferred(void *p)
{
	pattern_free(p);
}

static int input_refuse(struct req *r, const struct problems *pr)
{
	cJSON *j = cJSON_CreateObject(), *err = cJSON_AddObjectToObject(j, "error");
	cJSON_AddStringToObject(err, "code", "invalid_input");
	cJSON_AddStringToObject(err, "message", r->err.msg);
	cJSON_AddStringToObject(err, "field", r->err.field);
	cJSON_AddItemToObject(j, "problems", problems_json(pr));
	return req_json(r, 422, j);
}

static void execution_end(struct run_ctx *c, const cJSON *o)
{
	struct db *db = NULL;
	struct err e;
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(o, "result");
	const cJSON *conf = cJSON_GetObjectItemCaseSensitive(res, "confidence");
	const cJSON *er = cJSON_GetObjectItemCaseSensitive(o, "error");
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(o, "usage");
	char *rs = cJSON_IsNull(res) ? NULL : cJSON_PrintUnformatted(res);
	char *es = cJSON_IsNull(er) ? NULL : cJSON_PrintUnformatted(er);
	struct execution_end x = {
		.status = json_str(o, "status"),
		.result = rs,
		.error = es,
		.confidence = cJSON_IsNumber(conf) ? conf->valuedouble : 0,
		.confidence_set = cJSON_IsNumber(conf),
		.tokens_in = json_count(u, "input_tokens"),
		.tokens_out = json_count(u, "output_tokens"),
	};
	if (db_acquire(c->app->pool, 5000, &db, &e) == 0) {
		const cJSON *due = cJSON_GetObjectItemCaseSensitive(o, "approval_due_at");
		if (store_execution_finish(db, c->tenant_id, c->execution_id, &x, &e) < 0 ||
		    (cJSON_IsNumber(due) && /* parked on a timed approval: woken at its deadline */
		     store_execution_wake_at(db, c->tenant_id, c->execution_id,
					     (int64_t)due->valuedouble, &e) < 0))
			log_kv(LOG_WARN, "runs", "cannot record the end of an execution",
			       "execution", c->execution_id, "error", e.msg, NULL);
		db_release(db);
	}
	free(rs);
	free(es);
}

int api_patterns_run(struct req *r)
{
	static const char *const fields[] = { "input", "version", "timeout_ms", NULL };
	struct pattern_row p;
	struct pattern_version_row *v = pattern_version_new(r);
	struct pattern *pat = NULL;
	struct problems pr;
	struct agent_spec *agents = NULL;
	size_t agent_count = 0;
	struct db *db;
	int64_t version = 0, timeout = RUN_TIMEOUT_DEFAULT_MS;
	const cJSON *input;
	cJSON *outcome = NULL, *empty = NULL;
	int rc;

	if ((rc = json_only_fields(r->json, fields, &r->err)) < 0 ||
	    (rc = json_get_int(r->json, "version", JSON_OPTIONAL, 1, INT32_MAX, &version,
			       &r->err)) < 0 ||
	    (rc = json_get_int(r->json, "timeout_ms", JSON_OPTIONAL, 1, RUN_TIMEOUT_MAX_MS,
			       &timeout, &r->err)) < 0)
		return rc;
	input = cJSON_GetObjectItemCaseSensitive(r->json, "input");
	if (!input) {
		empty = cJSON_CreateObject();
		arena_defer(r->arena, (void (*)(void *))cJSON_Delete, empty);
		input = empty;
	}
	if ((rc = req_db(r, &db)) || (rc = pattern_load(r, db, &p)))
		return rc;
	rc = store_pattern_version_get(db, r->auth.tenant_id, &p, version ? version : p.latest_version,
				       v, &r->err);
	if (rc == ERR_NOT_FOUND)
		return req_fail(r, ERR_NOT_FOUND, "not_found", "version", "no such version");
	if (rc)
		return rc;
	problems_init(&pr);
	rc = pattern_parse(v->definition, strlen(v->definition), &pat, &pr, &r->err);
	if (!rc) {
		arena_defer(r->arena, pattern_free_deferred, pat);
		rc = engine_input_check(pat, input, &pr, &r->err);
		if (rc == ERR_UNPROCESSABLE) {
			rc = input_refuse(r, &pr);
			problems_release(&pr);
			return rc;
		}
	}
	problems_release(&pr);
	if (rc || (rc = workspace_agents(r, db, &agents, &agent_count)))
		return rc;

	struct run_ctx *c = arena_alloc(r->arena, sizeof(*c));
	memset(c, 0, sizeof(*c));
	c->app = r->app;
	str_copy(c->tenant_id, sizeof(c->tenant_id), r->auth.tenant_id);
	str_copy(c->workspace_id, sizeof(c->workspace_id), r->auth.workspace_id);
	uuid_v7(c->execution_id);
	char *input_text = cJSON_PrintUnformatted(input);
	struct execution_row row = { c->execution_id, r->auth.tenant_id, r->auth.workspace_id, p.id,
				     v->version, input_text, auth_actor_type(&r->auth),
				     r->auth.api_key_id[0] ? r->auth.api_key_id : pattern_actor(r),
				     timeout };
	rc = store_execution_start(db, &row, &r->err);
	free(input_text);
	if (rc)
		return rc;
	db_release(r->db); /* not held while the run waits on agents */
	r->db = NULL;

	struct run_request rq = { .execution_id = c->execution_id, .pattern_id = p.id,
				  .pattern_name = p.name, .version = v->version, .pattern = pat,
				  .input = input, .agents = agents, .agent_count = agent_count,
				  .timeout_ms = timeout,
				  .hooks = { .ud = c, .checkpoint = run_checkpoint,
					     .load_pattern = run_load_pattern } };
	if ((rc = engine_run_wait(r->app->engine, &rq, &outcome, &r->err)))
		return rc;
	execution_end(c, outcome);

	cJSON *j = cJSON_CreateObject(), *pj;
	cJSON_AddStringToObject(j, "id", c->execution_id);
	cJSON_AddItemToObject(j, "status", cJSON_DetachItemFromObject(outcome, "status"));
	pj = cJSON_AddObjectToObject(j, "pattern");
	cJSON_AddStringToObject(pj, "id", p.id);
	cJSON_AddStringToObject(pj, "name", p.name);
	cJSON_AddNumberToObject(pj, "version", (double)v->version);
	cJSON_AddItemToObject(j, "input", cJSON_Duplicate(input, 1));
	static const char *const keys[] = { "result", "error", "steps", "events", "usage",
					    "started_at", "finished_at" };
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		cJSON_AddItemToObject(j, keys[i], cJSON_DetachItemFromObject(outcome, keys[i]));
	cJSON_Delete(outcome);
	return req_json(r, 200, j);
}

/* ---- agents: /test and /health ----------------------------------------------------------- */

static int agent_spec_load(struct req *r, struct agent_spec *s)
{
	struct agent_row a;
	struct db *db;
	const char *id = req_param(r, 0);
	int rc;
	if (!r->auth.workspace_id[0] || !id || strlen(id) >= UUID_STR_LEN)
		return req_fail(r, ERR_NOT_FOUND, "not_found", NULL, "no such agent");
	if ((rc = req_db(r, &db)))
		return rc;
	rc = store_agent_get(db, r->auth.tenant_id, r->auth.workspace_id, id, &a, &r->err);
	if (rc == ERR_NOT_FOUND)
		return req_fail(r, ERR_NOT_FOUND, "not_found", NULL, "no such agent");
	if (rc)
		return rc;
	rc = agent_spec_from_row(&a, s, &r->err);
	store_agent_release(&a);
	db_release(r->db);
	r->db = NULL;
	return rc;
}

int api_agents_test(struct req *r)
{
	static const char *const fields[] = { "task", "data", NULL };
	struct agent_spec s;
	memset(&s, 0, sizeof(s));
	const char *task = NULL;
	cJSON *out = NULL;
	int rc;
	if ((rc = json_only_fields(r->json, fields, &r->err)) < 0 ||
	    (rc = json_get_str(r->json, "task", JSON_OPTIONAL, TEST_TASK_MAX, &task, &r->err)) < 0)
		return rc;
	if ((rc = agent_spec_load(r, &s))) {
		agent_spec_release(&s);
		return rc;
	}
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(r->json, "data");
	rc = engine_agent_test(r->app->engine, &s, task, data, &out, &r->err);
	agent_spec_release(&s);
	return rc ? rc : req_json(r, 200, out);
}

int api_agents_health(struct req *r)
{
	struct agent_spec s;
	memset(&s, 0, sizeof(s));
	cJSON *out = NULL;
	int rc = agent_spec_load(r, &s);
	if (rc) {
		agent_spec_release(&s);
		return rc;
	}
	const char *probe = req_query(r, "probe");
	rc = engine_agent_health(r->app->engine, &s, !probe || strcmp(probe, "0"), &out, &r->err);
	agent_spec_release(&s);
	return rc ? rc : req_json(r, 200, out);
}

/* ---- the health prober ---------------------------------------------------------------------- */

/*
 * Every health_interval_ms, each http and openai agent (all tenants) is
 * probed and its status written when it changes: a failed probe, or none
 * answered for twice the interval, is "unhealthy". ws agents report through
 * their heartbeats instead.
 */
static struct {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int running, stop;
} prober = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void probe_one(struct app *app, struct db *db, const struct agent_row *a,
		      const char *tenant_id)
{
	struct agent_spec s;
	struct err e;
	cJSON *h = NULL;
	if (agent_spec_from_row(a, &s, &e) == 0 && engine_agent_health(app->engine, &s, 1, &h, &e) == 0) {
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(h, "status");
		const cJSON *pe = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(h, "probe"), "error");
		const char *status = cJSON_IsString(st) ? st->valuestring : "unknown";
		if (!strcmp(status, "healthy") || !strcmp(status, "unhealthy"))
			store_agent_set_health(db, tenant_id, a->id, status,
					       cJSON_IsString(pe) ? pe->valuestring : NULL, &e);
	}
	cJSON_Delete(h);
	agent_spec_release(&s);
}

static void probe_all(struct app *app)
{
	struct agent_row rows[50];
	char tenants[50][UUID_STR_LEN], after[UUID_STR_LEN] = "";
	int count = 0;
	do {
		struct db *db = NULL;
		struct err e;
		if (db_acquire(app->pool, 5000, &db, &e))
			return;
		if (store_agents_probe_list(db, after, rows, tenants, 50, &count, &e)) {
			db_release(db);
			return;
		}
		for (int i = 0; i < count; i++) {
			pthread_mutex_lock(&prober.mu);
			int stop = prober.stop;
			pthread_mutex_unlock(&prober.mu);
			if (!stop)
				probe_one(app, db, &rows[i], tenants[i]);
			str_copy(after, sizeof(after), rows[i].id);
			store_agent_release(&rows[i]);
		}
		db_release(db);
	} while (count == 50);
}

static void *prober_main(void *arg)
{
	struct app *app = arg;
	int64_t interval = app->cfg->health_interval_ms;
	pthread_mutex_lock(&prober.mu);
	while (!prober.stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += interval / 1000;
		ts.tv_nsec += (interval % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&prober.cv, &prober.mu, &ts);
		if (prober.stop)
			break;
		pthread_mutex_unlock(&prober.mu);
		probe_all(app);
		pthread_mutex_lock(&prober.mu);
	}
	pthread_mutex_unlock(&prober.mu);
	return NULL;
}

void agents_prober_start(struct app *app)
{
	if (app->cfg->health_interval_ms <= 0 || prober.running)
		return;
	prober.stop = 0;
	prober.running = pthread_create(&prober.thread, NULL, prober_main, app) == 0;
}

void agents_prober_stop(void)
{
	if (!prober.running)
		return;
	pthread_mutex_lock(&prober.mu);
	prober.stop = 1;
	pthread_cond_signal(&prober.cv);
	pthread_mutex_unlock(&prober.mu);
	pthread_join(prober.thread, NULL);
	prober.running = 0;
}
