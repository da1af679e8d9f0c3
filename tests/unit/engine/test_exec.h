/*
 * The fixture of the executor tests (test_exec_*.c): one real engine (one
 * loop, one jq worker) per test binary, builtin agents, pattern documents
 * written inline and runs waited for with engine_run_wait().
 *
 * Documents are written in a quote notation so they stay readable in C:
 * ' stands for " and ` for \" (a quote inside a JSON string, e.g. a jq
 * string literal). "{'a':'x == `y`'}" is {"a":"x == \"y\""}.
 *
 * Every agent gets a fresh id, so the engine-wide runtime state of agents
 * (breaker, load, mean confidence, round-robin cursor) never leaks from one
 * test into another.
 */
#ifndef TESTS_UNIT_ENGINE_TEST_EXEC_H
#define TESTS_UNIT_ENGINE_TEST_EXEC_H

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "core/core.h"
#include "tests/unit/test.h"

#define FX_UNUSED    __attribute__((unused))
#define FX_AGENTS    16
#define FX_EPS       1e-9

static struct engine *fx_engine;

/* ---- quote notation --------------------------------------------------------------- */

/* s in quote notation -> JSON text (caller frees). */
static FX_UNUSED char *fx_json(const char *s)
{
	struct buf b;
	buf_init(&b);
	for (; *s; s++) {
		if (*s == '\'')
			buf_addch(&b, '"');
		else if (*s == '`')
			buf_adds(&b, "\\\"");
		else
			buf_addch(&b, *s);
	}
	return buf_detach(&b, NULL);
}

/* Parse s (quote notation); NULL and a message if it is not JSON (a broken test). */
static FX_UNUSED cJSON *fx_parse(const char *s)
{
	char *t = fx_json(s);
	cJSON *v = cJSON_Parse(t);
	if (!v)
		fprintf(stderr, "fixture: not JSON: %s\n", t);
	free(t);
	return v;
}

/* ---- agents ------------------------------------------------------------------------ */

struct fx_agents {
	struct agent_spec a[FX_AGENTS];
	size_t n;
};

/* A builtin agent: config and caps (NULL: none) in quote notation. Returns it,
 * so a test can set disabled, max_concurrency or timeout_ms. */
static FX_UNUSED struct agent_spec *fx_agent(struct fx_agents *g, const char *name,
					     const char *config, const char *caps,
					     double expertise)
{
	struct agent_spec *a = &g->a[g->n++];
	memset(a, 0, sizeof(*a));
	uuid_v7(a->id);
	str_copy(a->name, sizeof(a->name), name);
	a->kind = AGENT_BUILTIN;
	a->config = fx_parse(config);
	a->capabilities = caps ? fx_parse(caps) : cJSON_CreateArray();
	a->expertise = expertise;
	return a;
}

static FX_UNUSED void fx_agents_release(struct fx_agents *g)
{
	for (size_t i = 0; i < g->n; i++)
		agent_spec_release(&g->a[i]);
	g->n = 0;
}

/* ---- patterns the pattern and map nodes can load (hooks.load_pattern) --------------- */

struct fx_pattern {
	const char *name;
	const char *doc; /* quote notation */
};

static const struct fx_pattern *fx_library;
static size_t fx_library_n;

static FX_UNUSED int fx_load_pattern(void *ud, const char *name, int64_t version,
				     char **definition, char pattern_id[UUID_STR_LEN],
				     int64_t *version_out, struct err *e)
{
	(void)ud;
	for (size_t i = 0; i < fx_library_n; i++)
		if (!strcmp(fx_library[i].name, name)) {
			*definition = fx_json(fx_library[i].doc);
			snprintf(pattern_id, UUID_STR_LEN, "00000000-0000-7000-8000-%012u", (unsigned)(i % 1000));
			*version_out = version > 0 ? version : 1;
			return 0;
		}
	return err_setc(e, ERR_NOT_FOUND, "not_found", NULL, "no pattern named '%s'", name);
}

/* ---- runs ---------------------------------------------------------------------------- */

struct fx_opts {
	const char *name;   /* the run's pattern name (chain[0]); NULL: the document's */
	int64_t timeout_ms; /* 0: the engine's default */
	int loader;         /* give the run hooks.load_pattern */
};

/* Parse doc (quote notation); NULL after a failed check if it is invalid. */
static FX_UNUSED struct pattern *fx_pattern_parse(const char *doc)
{
	struct problems pr;
	struct pattern *p = NULL;
	struct err e;
	char *json = fx_json(doc);
	err_clear(&e);
	problems_init(&pr);
	int rc = pattern_parse(json, strlen(json), &p, &pr, &e);
	if (rc < 0) {
		fprintf(stderr, "fixture: pattern refused: %s\n", e.msg);
		for (size_t i = 0; i < pr.count; i++)
			fprintf(stderr, "  [%s] %s @ %s: %s\n", pr.items[i].code,
				pr.items[i].node_id, pr.items[i].path, pr.items[i].message);
	}
	CHECK_INT(rc, 0);
	problems_release(&pr);
	free(json);
	return rc < 0 ? NULL : p;
}

static FX_UNUSED void fx_request(struct run_request *rq, char exec_id[UUID_STR_LEN],
				 const struct pattern *p, const cJSON *input,
				 const struct fx_agents *g, const struct fx_opts *o)
{
	memset(rq, 0, sizeof(*rq));
	uuid_v7(exec_id);
	rq->execution_id = exec_id;
	rq->pattern_id = "00000000-0000-7000-8000-00000000beef";
	rq->pattern_name = o && o->name ? o->name : NULL;
	rq->version = 1;
	rq->pattern = p;
	rq->input = input;
	rq->agents = g ? g->a : NULL;
	rq->agent_count = g ? g->n : 0;
	rq->timeout_ms = o ? o->timeout_ms : 0;
	if (o && o->loader)
		rq->hooks.load_pattern = fx_load_pattern;
}

/* Run doc on input (quote notation; NULL: null) with agents g and wait: the
 * outcome (caller frees), or NULL after a failed check. */
static FX_UNUSED cJSON *fx_run_opts(const char *doc, const char *input,
				    const struct fx_agents *g, const struct fx_opts *o)
{
	struct pattern *p = fx_pattern_parse(doc);
	cJSON *in = input ? fx_parse(input) : cJSON_CreateNull();
	cJSON *out = NULL;
	struct run_request rq;
	char exec_id[UUID_STR_LEN];
	struct err e;
	if (p && in) {
		fx_request(&rq, exec_id, p, in, g, o);
		int rc = engine_run_wait(fx_engine, &rq, &out, &e);
		CHECK_INT(rc, 0);
		if (rc < 0)
			fprintf(stderr, "fixture: engine_run_wait: %s\n", e.msg);
	}
	cJSON_Delete(in);
	pattern_free(p);
	return out;
}

static FX_UNUSED cJSON *fx_run(const char *doc, const char *input, const struct fx_agents *g)
{
	return fx_run_opts(doc, input, g, NULL);
}

/* A run started with engine_run_start, for tests that need two at once. */
struct fx_async {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	cJSON *outcome;
	int done;
	struct pattern *p;
	cJSON *input;
	char exec_id[UUID_STR_LEN];
};

static FX_UNUSED void fx_async_done(void *ud, const cJSON *outcome)
{
	struct fx_async *a = ud;
	pthread_mutex_lock(&a->mu);
	a->outcome = cJSON_Duplicate(outcome, 1);
	a->done = 1;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
}

static FX_UNUSED int fx_async_start(struct fx_async *a, const char *doc, const char *input,
				    const struct fx_agents *g)
{
	struct run_request rq;
	struct err e;
	memset(a, 0, sizeof(*a));
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	a->p = fx_pattern_parse(doc);
	a->input = input ? fx_parse(input) : cJSON_CreateNull();
	if (!a->p)
		return -1;
	fx_request(&rq, a->exec_id, a->p, a->input, g, NULL);
	rq.hooks.done = fx_async_done;
	rq.hooks.ud = a;
	int rc = engine_run_start(fx_engine, &rq, &e);
	CHECK_INT(rc, 0);
	return rc;
}

/* Wait for the run; its outcome (caller frees). */
static FX_UNUSED cJSON *fx_async_wait(struct fx_async *a)
{
	cJSON *out;
	pthread_mutex_lock(&a->mu);
	while (a->p && !a->done)
		pthread_cond_wait(&a->cv, &a->mu);
	out = a->outcome;
	pthread_mutex_unlock(&a->mu);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	pattern_free(a->p);
	cJSON_Delete(a->input);
	return out;
}

/* ---- reading an outcome ---------------------------------------------------------------- */

/* The member at a dotted path ("result.value.a", "steps.0.status"); numbers index arrays. */
static FX_UNUSED const cJSON *fx_get(const cJSON *root, const char *path)
{
	char seg[128];
	const cJSON *cur = root;
	while (cur && *path) {
		size_t n = strcspn(path, ".");
		if (n >= sizeof(seg))
			return NULL;
		memcpy(seg, path, n);
		seg[n] = '\0';
		path += n + (path[n] == '.');
		if (cJSON_IsArray(cur) && seg[0] >= '0' && seg[0] <= '9')
			cur = cJSON_GetArrayItem(cur, atoi(seg));
		else
			cur = cJSON_GetObjectItemCaseSensitive(cur, seg);
	}
	return cur;
}

/* A number at path (NAN if absent or not a number). */
static FX_UNUSED double fx_num(const cJSON *root, const char *path)
{
	const cJSON *v = fx_get(root, path);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* A string at path (NULL if absent or not a string). */
static FX_UNUSED const char *fx_str(const cJSON *root, const char *path)
{
	return cJSON_GetStringValue(fx_get(root, path));
}

/* 1 if the member at path is JSON null. */
static FX_UNUSED int fx_is_null(const cJSON *root, const char *path)
{
	return cJSON_IsNull(fx_get(root, path));
}

/* The step of node id. */
static FX_UNUSED const cJSON *fx_step(const cJSON *out, const char *id)
{
	const cJSON *s;
	cJSON_ArrayForEach(s, fx_get(out, "steps")) {
		const char *n = fx_str(s, "node_id");
		if (n && !strcmp(n, id))
			return s;
	}
	return NULL;
}

/* The output of node id's step. */
static FX_UNUSED const cJSON *fx_out(const cJSON *out, const char *id)
{
	return fx_get(fx_step(out, id), "output");
}

/* Events of this type (and, if given, data.action); in order. */
static FX_UNUSED int fx_events(const cJSON *out, const char *type, const char *action)
{
	const cJSON *ev;
	int n = 0;
	cJSON_ArrayForEach(ev, fx_get(out, "events")) {
		const char *t = fx_str(ev, "type"), *a = fx_str(ev, "data.action");
		if (t && !strcmp(t, type) && (!action || (a && !strcmp(a, action))))
			n++;
	}
	return n;
}

/* The data.action of policy events, in order, joined by commas ("retry,accept"). */
static FX_UNUSED char *fx_actions(const cJSON *out)
{
	struct buf b;
	const cJSON *ev;
	buf_init(&b);
	buf_adds(&b, "");
	cJSON_ArrayForEach(ev, fx_get(out, "events")) {
		const char *t = fx_str(ev, "type"), *a = fx_str(ev, "data.action");
		if (t && !strcmp(t, "policy"))
			buf_addf(&b, "%s%s", b.len ? "," : "", a ? a : "?");
	}
	return buf_detach(&b, NULL);
}

/* 1 if v, as JSON text, equals want (quote notation); *got is that text (caller
 * frees). Compared as text reparsed, as a client sees it (raw members such as
 * votes[].key are JSON once printed). */
static FX_UNUSED int fx_json_eq(const cJSON *v, const char *want, char **got)
{
	cJSON *w = fx_parse(want);
	*got = v ? cJSON_PrintUnformatted(v) : NULL;
	cJSON *g = *got ? cJSON_Parse(*got) : NULL;
	int eq = g && w && cJSON_Compare(g, w, 1);
	cJSON_Delete(g);
	cJSON_Delete(w);
	return eq;
}

#define CHECK_JSON(v, want)                                                             \
	do {                                                                            \
		char *_got = NULL;                                                      \
		int _eq = fx_json_eq((v), (want), &_got);                               \
		CHECK(_eq);                                                             \
		if (!_eq)                                                               \
			fprintf(stderr, "  got  %s\n  want %s\n", _got ? _got : "(none)", \
				(want));                                                \
		free(_got);                                                             \
	} while (0)

/* The outcome's status; on a mismatch the outcome's error is printed. */
#define CHECK_STATUS(out, want)                                                         \
	do {                                                                            \
		const char *_st = fx_str((out), "status");                              \
		CHECK_STR(_st, (want));                                                 \
		if (!_st || strcmp(_st, (want))) {                                      \
			char *_e = cJSON_PrintUnformatted(fx_get((out), "error"));      \
			fprintf(stderr, "  error: %s\n", _e ? _e : "(none)");           \
			free(_e);                                                       \
		}                                                                       \
	} while (0)

/* s contains sub (both non-NULL). */
#define CHECK_HAS(s, sub)                                                               \
	do {                                                                            \
		const char *_s = (s), *_sub = (sub);                                    \
		test_checks++;                                                          \
		if (!_s || !strstr(_s, _sub)) {                                         \
			test_failures++;                                                \
			fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n",      \
				__FILE__, __LINE__, _s ? _s : "(null)", _sub);          \
		}                                                                       \
	} while (0)

/* ---- main ---------------------------------------------------------------------------- */

static FX_UNUSED int fx_main(int argc, char **argv, const struct test_case *cases, size_t n)
{
	struct engine_config cfg = { .loops = 1, .jq_workers = 1 };
	struct err e;
	jq_worker_maybe_run(argc, argv);
	err_clear(&e);
	fx_engine = engine_new(&cfg, &e);
	if (!fx_engine) {
		fprintf(stderr, "engine_new: %s\n", e.msg);
		return 1;
	}
	/* test_run_all's loop, timing each test: a slow one is named on stderr */
	int passed = 0, failed = 0;
	for (size_t i = 0; i < n; i++) {
		int before = test_failures;
		int64_t t0 = mono_ms();
		cases[i].fn();
		int64_t took = mono_ms() - t0;
		if (took > (getenv("FX_SLOW_MS") ? atoll(getenv("FX_SLOW_MS")) : 3000))
			fprintf(stderr, "slow: %s took %lld ms\n", cases[i].name, (long long)took);
		if (test_failures == before) {
			passed++;
		} else {
			failed++;
			fprintf(stderr, "FAIL %s\n", cases[i].name);
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	engine_free(fx_engine);
	return failed ? 1 : 0;
}

#endif
