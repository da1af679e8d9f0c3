/*
 * The agents pages (issue 6). GET /agents: the workspace's agents with what
 * an operator looks at first (health, circuit breaker, latency, success
 * rate), refreshed in place every 10 s with htmx. GET /agents/{id}: one
 * agent, its configuration, health checks, figures and recent calls, and a
 * test call form; POST /agents/{id}/test answers with the same page and the
 * agent's reply on it; POST /agents/{id}/delete removes the agent. The create
 * and edit forms are web/agent_form.c.
 *
 * Every read and write goes through the API's own handler (web_api_call):
 * the same permission check, tenant filter and redaction of secrets as over
 * HTTP. The figures are the engine's, as GET /api/v1/agents/{id}/health
 * reports them: this process's last calls and probes of each agent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "web/web.h"
#include "api/api.h"
#include "auth/auth.h"
#include "engine/engine.h"
#include "server/server.h"
#include "core/core.h"

#define WINDOW_MAX 200 /* AGENT_SAMPLES: the attempts behind the figures */
#define DEFAULT_TASK "Connection test: reply with any value."

static const cJSON *get(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static const char *jstr(const cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(get(o, key));
	return s ? s : "";
}

/* The number at key, or def when absent. */
static double jnum(const cJSON *o, const char *key, double def)
{
	const cJSON *v = get(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : def;
}

const char *web_agent_kind_label(const char *kind)
{
	if (!strcmp(kind, "builtin"))
		return "Built-in";
	if (!strcmp(kind, "http"))
		return "HTTP";
	if (!strcmp(kind, "openai"))
		return "LLM (OpenAI-compatible)";
	if (!strcmp(kind, "ws"))
		return "Connected (WebSocket)";
	return kind;
}

static void add_ms(cJSON *o, const char *key, double ms)
{
	char s[32];
	if (ms < 1000)
		snprintf(s, sizeof(s), "%.0f ms", ms);
	else if (ms < 60000)
		snprintf(s, sizeof(s), "%.1f s", ms / 1000);
	else
		snprintf(s, sizeof(s), "%.1f min", ms / 60000);
	cJSON_AddStringToObject(o, key, s);
}

/* o.key = {iso, ago ("3 min ago"), abs ("2026-11-22 10:41:07 UTC")} for an RFC 3339
 * time; nothing when iso is not one. */
static void add_time(cJSON *o, const char *key, const char *iso, int64_t now)
{
	char ago[32], abs[40];
	int64_t ms;
	if (!iso || api_parse_time(iso, &ms))
		return;
	long long d = (long long)((now - ms) / 1000);
	if (d < 5)
		str_copy(ago, sizeof(ago), "just now");
	else if (d < 60)
		snprintf(ago, sizeof(ago), "%lld s ago", d);
	else if (d < 3600)
		snprintf(ago, sizeof(ago), "%lld min ago", d / 60);
	else if (d < 86400)
		snprintf(ago, sizeof(ago), "%lld h ago", d / 3600);
	else
		snprintf(ago, sizeof(ago), "%lld days ago", d / 86400);
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(abs, sizeof(abs), "%Y-%m-%d %H:%M:%S UTC", &tm);
	cJSON *j = cJSON_AddObjectToObject(o, key);
	cJSON_AddStringToObject(j, "iso", iso);
	cJSON_AddStringToObject(j, "ago", ago);
	cJSON_AddStringToObject(j, "abs", abs);
}

/* The engine's health report of agent a (the API's JSON) without a probe: its
 * circuit and this process's calls and probes. NULL without an engine. */
static cJSON *runtime(struct req *r, const cJSON *a)
{
	struct agent_spec s;
	struct err e;
	cJSON *h = NULL;
	int kind = agent_kind_parse(jstr(a, "kind"));
	if (!r->app->engine || kind < 0)
		return NULL;
	memset(&s, 0, sizeof(s)); /* no config: nothing is probed */
	str_copy(s.id, sizeof(s.id), jstr(a, "id"));
	s.kind = (enum agent_kind)kind;
	s.disabled = !strcmp(jstr(a, "status"), "disabled");
	if (engine_agent_health(r->app->engine, &s, 0, &h, &e))
		return NULL;
	return h;
}

static void set_health(cJSON *o, const char *state, const char *why)
{
	cJSON *v = cJSON_AddObjectToObject(o, "health");
	cJSON_AddStringToObject(v, "state", state);
	cJSON_AddStringToObject(v, "label", state);
	cJSON_AddStringToObject(v, "why", why);
}

/*
 * One word for an agent's state, and why:
 *   down      its circuit is open, it fails its health check and its calls, or a
 *             connected agent is not connected;
 *   degraded  it answers but not always: a failing health check while calls
 *             succeed, a half-open circuit, over a tenth of recent calls failed
 *             or the last one failed;
 *   healthy   it answered its last health check or its calls (a built-in agent
 *             runs in the server and is always reachable);
 *   unknown   nothing says yet: no health check or call so far.
 */
static void add_health(cJSON *o, const cJSON *a, const cJSON *h)
{
	const char *kind = jstr(a, "kind"), *stored = jstr(a, "status");
	const char *circuit = jstr(get(a, "circuit"), "state");
	const cJSON *calls = get(h, "calls");
	const cJSON *probe = cJSON_GetArrayItem(get(h, "probes"), 0);
	const cJSON *last = cJSON_GetArrayItem(get(h, "recent_calls"), 0);
	double window = jnum(calls, "window", 0), failed = jnum(calls, "failed", 0);
	int last_ok = last && !strcmp(jstr(last, "status"), "succeeded");
	int probe_bad = probe ? !cJSON_IsTrue(get(probe, "ok")) : !strcmp(stored, "unhealthy");
	const char *probe_err = probe ? jstr(probe, "error") : "";
	char why[320];
	if (!strcmp(stored, "disabled")) {
		set_health(o, "disabled", "Disabled: patterns do not select it.");
	} else if (!strcmp(circuit, "open")) {
		snprintf(why, sizeof(why), "Its circuit is open after %.0f failures in a row: calls "
			 "fail fast until it half-opens.", jnum(get(h, "circuit"), "failures", 0));
		set_health(o, "down", why);
	} else if (!strcmp(kind, "ws")) {
		int on = cJSON_IsTrue(get(h, "connected"));
		set_health(o, on ? "healthy" : "down",
			   on ? "Connected, with a recent heartbeat." : "Not connected.");
	} else if (probe_bad) {
		snprintf(why, sizeof(why), "Its health check fails%s%s%s", *probe_err ? ": " : "",
			 probe_err, last_ok ? " (its last call succeeded)." : ".");
		set_health(o, last_ok ? "degraded" : "down", why);
	} else if (!strcmp(circuit, "half_open")) {
		set_health(o, "degraded", "Its circuit is half-open: trial calls decide whether it "
					  "closes.");
	} else if (window > 0 && failed * 10 > window) {
		snprintf(why, sizeof(why), "%.0f of its last %.0f calls failed.", failed, window);
		set_health(o, "degraded", why);
	} else if (last && !last_ok) {
		snprintf(why, sizeof(why), "Its last call failed: %s", jstr(last, "error"));
		set_health(o, "degraded", why);
	} else if (probe || !strcmp(stored, "healthy")) {
		set_health(o, "healthy", "It answers its health check.");
	} else if (window > 0) {
		set_health(o, "healthy", "Its recent calls succeed.");
	} else if (!strcmp(kind, "builtin")) {
		set_health(o, "healthy", "Built in: it runs in the server and is always reachable.");
	} else {
		set_health(o, "unknown", "Not checked yet: no health check or call so far.");
	}
}

const char *web_agent_state(struct req *r, const cJSON *a)
{
	static const char *const states[] = { "healthy", "degraded", "down", "unknown",
					      "disabled" };
	cJSON *o = cJSON_CreateObject(), *h = runtime(r, a);
	const char *state = "unknown";
	add_health(o, a, h);
	for (size_t i = 0; i < ARRAY_SIZE(states); i++)
		if (!strcmp(jstr(get(o, "health"), "state"), states[i]))
			state = states[i];
	cJSON_Delete(h);
	cJSON_Delete(o);
	return state;
}

static cJSON *add_circuit(cJSON *o, const cJSON *a)
{
	const char *state = jstr(get(a, "circuit"), "state");
	cJSON *c = cJSON_AddObjectToObject(o, "circuit");
	cJSON_AddStringToObject(c, "state", state);
	cJSON_AddStringToObject(c, "label", !strcmp(state, "half_open") ? "half-open" : state);
	return c;
}

/* success ("99.5 %"), window, latency ("12 ms / 40 ms"), p50, p95, mean. */
static void add_figures(cJSON *o, const cJSON *h)
{
	const cJSON *calls = get(h, "calls"), *lat = get(calls, "latency_ms");
	double window = jnum(calls, "window", 0);
	char s[64];
	if (window > 0) {
		snprintf(s, sizeof(s), "%.1f %%", 100 * jnum(calls, "success_rate", 0));
		cJSON_AddStringToObject(o, "success", s);
		cJSON_AddNumberToObject(o, "window", window);
		if (window > 1)
			snprintf(s, sizeof(s), "its last %.0f calls", window);
		else
			str_copy(s, sizeof(s), "its one call");
		cJSON_AddStringToObject(o, "window_text", s);
	}
	if (!cJSON_IsObject(lat))
		return;
	add_ms(o, "p50", jnum(lat, "p50", 0));
	add_ms(o, "p95", jnum(lat, "p95", 0));
	add_ms(o, "mean", jnum(lat, "mean", 0));
	snprintf(s, sizeof(s), "%s / %s", jstr(o, "p50"), jstr(o, "p95"));
	cJSON_AddStringToObject(o, "latency", s);
}

/* o.seen: the latest sign of life (a probe, a call, a ws heartbeat). */
static void add_seen(cJSON *o, const cJSON *h, int64_t now)
{
	const char *cand[2] = { jstr(cJSON_GetArrayItem(get(h, "probes"), 0), "at"),
				jstr(cJSON_GetArrayItem(get(h, "recent_calls"), 0), "at") };
	char beat[40] = "";
	const char *best = NULL;
	int64_t best_ms = 0, ms;
	const cJSON *ago = get(h, "last_heartbeat_ms_ago");
	if (cJSON_IsNumber(ago)) {
		time_iso(now - (int64_t)ago->valuedouble, beat, sizeof(beat));
		best = beat;
		api_parse_time(beat, &best_ms);
	}
	for (size_t i = 0; i < ARRAY_SIZE(cand); i++)
		if (!api_parse_time(cand[i], &ms) && ms > best_ms) {
			best = cand[i];
			best_ms = ms;
		}
	add_time(o, "seen", best, now);
}

/* What the kind column says under the kind: the builtin type, the URL, the model. */
static const char *summary(const cJSON *a)
{
	const char *kind = jstr(a, "kind");
	const cJSON *c = get(a, "config");
	if (!strcmp(kind, "builtin"))
		return jstr(c, "type");
	if (!strcmp(kind, "http"))
		return jstr(c, "url");
	if (!strcmp(kind, "openai"))
		return jstr(c, "model");
	return "";
}

static cJSON *row_json(struct req *r, const cJSON *a, int64_t now)
{
	cJSON *o = cJSON_CreateObject(), *h = runtime(r, a);
	cJSON_AddStringToObject(o, "id", jstr(a, "id"));
	cJSON_AddStringToObject(o, "name", jstr(a, "name"));
	cJSON_AddStringToObject(o, "kind", jstr(a, "kind"));
	cJSON_AddStringToObject(o, "kind_label", web_agent_kind_label(jstr(a, "kind")));
	cJSON_AddStringToObject(o, "detail", summary(a));
	const cJSON *caps = get(a, "capabilities");
	cJSON_AddItemToObject(o, "caps",
			      cJSON_IsArray(caps) ? cJSON_Duplicate(caps, 1) : cJSON_CreateArray());
	add_health(o, a, h);
	add_circuit(o, a);
	add_figures(o, h);
	add_seen(o, h, now);
	cJSON_Delete(h);
	return o;
}

/* ctx.tally: how many agents of the page are in each state, in a fixed order. */
static void add_tally(cJSON *ctx, const cJSON *rows)
{
	static const char *const states[] = { "healthy", "degraded", "down", "unknown",
					      "disabled" };
	cJSON *t = cJSON_AddArrayToObject(ctx, "tally");
	for (size_t i = 0; i < ARRAY_SIZE(states); i++) {
		int n = 0;
		const cJSON *row;
		cJSON_ArrayForEach(row, rows)
			n += !strcmp(jstr(get(row, "health"), "state"), states[i]);
		if (!n)
			continue;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "state", states[i]);
		cJSON_AddStringToObject(o, "label", states[i]);
		cJSON_AddNumberToObject(o, "count", n);
		cJSON_AddItemToArray(t, o);
	}
}

/* The filter form: kind options and the capability, as the API read them. */
static void add_filters(struct req *r, cJSON *ctx)
{
	static const char *const kinds[] = { "builtin", "http", "openai", "ws" };
	const char *kind = req_query(r, "kind"), *cap = req_query(r, "capability");
	cJSON *opts = cJSON_AddArrayToObject(ctx, "kinds");
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "value", kinds[i]);
		cJSON_AddStringToObject(o, "label", web_agent_kind_label(kinds[i]));
		if (kind && !strcmp(kind, kinds[i]))
			cJSON_AddTrueToObject(o, "selected");
		cJSON_AddItemToArray(opts, o);
	}
	cJSON_AddStringToObject(ctx, "kind", kind ? kind : "");
	cJSON_AddStringToObject(ctx, "capability", cap ? cap : "");
	if ((kind && *kind) || (cap && *cap))
		cJSON_AddTrueToObject(ctx, "filtered");
	if (req_query(r, "cursor"))
		cJSON_AddTrueToObject(ctx, "paged");
	cJSON_AddStringToObject(ctx, "self",
				r->query ? arena_printf(r->arena, "/agents?%s", r->query) : "/agents");
}

int web_agents_page(struct req *r)
{
	struct db *db;
	cJSON *ctx, *answer = NULL;
	int rc;
	if ((rc = web_app_begin(r, &db, "agents", &ctx)) || !ctx)
		return rc;
	/* the page's query is the API's: kind, capability, cursor */
	rc = web_api_call(r, "GET", "/api/v1/agents", NULL, &answer);
	if (rc == ERR_INVALID || (rc == ERR_NOT_FOUND && !r->auth.workspace_id[0])) {
		cJSON_AddStringToObject(ctx, "filter_error", r->err.msg);
		err_clear(&r->err);
		rc = 0;
	}
	if (rc) {
		cJSON_Delete(ctx);
		return rc;
	}
	int64_t now = now_ms();
	cJSON *rows = cJSON_AddArrayToObject(ctx, "rows");
	const cJSON *a;
	cJSON_ArrayForEach(a, get(answer, "items"))
		cJSON_AddItemToArray(rows, row_json(r, a, now));
	const char *next = jstr(answer, "next_cursor");
	if (*next)
		cJSON_AddStringToObject(ctx, "next_cursor", next);
	cJSON_Delete(answer);
	add_tally(ctx, rows);
	add_filters(r, ctx);
	cJSON_AddNumberToObject(ctx, "window_max", WINDOW_MAX);
	if (cJSON_GetArraySize(rows) || cJSON_IsTrue(get(ctx, "filtered")))
		cJSON_AddTrueToObject(ctx, "any");
	else
		web_agent_form_new(r, ctx);
	rc = web_render(r, 200, "agents", ctx);
	cJSON_Delete(ctx);
	return rc;
}

/* ---- one agent ------------------------------------------------------------------------- */

/* The public config as rows {key, value}: secrets (shown by the API as {set: true})
 * say only that they are set; headers one per line. */
static void add_config(cJSON *o, const cJSON *config)
{
	cJSON *rows = cJSON_AddArrayToObject(o, "config");
	const cJSON *it, *h;
	cJSON_ArrayForEach(it, config) {
		struct buf v = BUF_INIT;
		if (cJSON_IsString(it)) {
			buf_adds(&v, it->valuestring);
		} else if (cJSON_IsTrue(get(it, "set"))) {
			buf_adds(&v, "set (write-only, never shown)");
		} else if (!strcmp(it->string, "headers") && cJSON_IsObject(it)) {
			cJSON_ArrayForEach(h, it)
				buf_addf(&v, "%s%s: %s", v.len ? "\n" : "", h->string,
					 cJSON_IsString(h) ? h->valuestring : "(set, write-only)");
		} else {
			char *s = cJSON_PrintUnformatted(it);
			buf_adds(&v, s ? s : "");
			free(s);
		}
		cJSON *row = cJSON_CreateObject();
		cJSON_AddStringToObject(row, "key", it->string);
		cJSON_AddStringToObject(row, "value", v.p);
		cJSON_AddItemToArray(rows, row);
		buf_release(&v);
	}
}

static void add_recent(cJSON *o, const cJSON *h, int64_t now)
{
	cJSON *list = cJSON_AddArrayToObject(o, "recent");
	const cJSON *c;
	cJSON_ArrayForEach(c, get(h, "recent_calls")) {
		cJSON *j = cJSON_CreateObject();
		const char *st = jstr(c, "status"), *x = jstr(c, "execution_id");
		add_time(j, "at", jstr(c, "at"), now);
		/* every key set: a missing one would be looked up in the page's scopes */
		cJSON_AddBoolToObject(j, "test", cJSON_IsTrue(get(c, "test")));
		cJSON_AddStringToObject(j, "execution_id", x);
		cJSON_AddStringToObject(j, "short", strlen(x) > 24 ? x + 24 : x);
		cJSON_AddStringToObject(j, "node", jstr(c, "node_id"));
		cJSON_AddStringToObject(j, "status", st);
		cJSON_AddStringToObject(j, "label", !strcmp(st, "circuit_open") ? "circuit open" : st);
		if (strcmp(st, "circuit_open"))
			add_ms(j, "latency", jnum(c, "latency_ms", 0));
		else
			cJSON_AddStringToObject(j, "latency", "");
		cJSON_AddStringToObject(j, "error", jstr(c, "error"));
		cJSON_AddItemToArray(list, j);
	}
}

/* The health checks, oldest first (a strip reads left to right), and the last one. */
static void add_probes(cJSON *o, const cJSON *h, int64_t now)
{
	cJSON *list = cJSON_AddArrayToObject(o, "probes");
	const cJSON *probes = get(h, "probes");
	int n = cJSON_GetArraySize(probes), ok = 0;
	for (int i = n - 1; i >= 0; i--) {
		const cJSON *p = cJSON_GetArrayItem(probes, i);
		cJSON *j = cJSON_CreateObject();
		int good = cJSON_IsTrue(get(p, "ok"));
		ok += good;
		add_time(j, "at", jstr(p, "at"), now);
		cJSON_AddBoolToObject(j, "ok", good);
		cJSON_AddStringToObject(j, "label", good ? "answered" : "failed");
		add_ms(j, "latency", jnum(p, "latency_ms", 0));
		cJSON_AddStringToObject(j, "error", jstr(p, "error"));
		cJSON_AddItemToArray(list, j);
	}
	if (n) {
		char s[64];
		snprintf(s, sizeof(s), "%d of the last %d answered", ok, n);
		cJSON_AddStringToObject(o, "probes_summary", s);
		cJSON_AddItemReferenceToObject(o, "last_probe", cJSON_GetArrayItem(list, n - 1));
	}
}

static void add_facts(cJSON *o, const cJSON *a, int64_t now)
{
	char s[64];
	const char *kind = jstr(a, "kind");
	const cJSON *caps = get(a, "capabilities");
	cJSON_AddStringToObject(o, "id", jstr(a, "id"));
	cJSON_AddStringToObject(o, "name", jstr(a, "name"));
	cJSON_AddStringToObject(o, "kind", kind);
	cJSON_AddStringToObject(o, "kind_label", web_agent_kind_label(kind));
	const cJSON *c = get(a, "config");
	cJSON_AddStringToObject(o, "type", jstr(c, "type"));
	cJSON_AddStringToObject(o, "endpoint", jstr(c, !strcmp(kind, "openai") ? "base_url" : "url"));
	cJSON_AddStringToObject(o, "model", jstr(c, "model"));
	cJSON_AddItemToObject(o, "caps",
			      cJSON_IsArray(caps) ? cJSON_Duplicate(caps, 1) : cJSON_CreateArray());
	snprintf(s, sizeof(s), "%.2f", jnum(a, "expertise", 0));
	cJSON_AddStringToObject(o, "expertise", s);
	add_ms(o, "timeout", jnum(a, "timeout_ms", 0));
	double cap = jnum(a, "max_concurrency", 0);
	snprintf(s, sizeof(s), "%.0f at a time", cap);
	cJSON_AddStringToObject(o, "concurrency", cap > 0 ? s : "no cap");
	add_time(o, "created", jstr(a, "created_at"), now);
	add_time(o, "updated", jstr(a, "updated_at"), now);
	if (!strcmp(kind, "http") || !strcmp(kind, "openai"))
		cJSON_AddTrueToObject(o, "probed_kind");
	if (!strcmp(kind, "ws"))
		cJSON_AddTrueToObject(o, "ws");
	add_config(o, get(a, "config"));
}

/* ctx.agent from the API's agent and the engine's health report h. */
static void add_agent(cJSON *ctx, const cJSON *a, const cJSON *h)
{
	int64_t now = now_ms();
	cJSON *o = cJSON_AddObjectToObject(ctx, "agent");
	const cJSON *c = get(h, "circuit");
	char s[32];
	add_facts(o, a, now);
	add_health(o, a, h);
	cJSON *circuit = add_circuit(o, a);
	cJSON_AddNumberToObject(circuit, "failures", jnum(c, "failures", 0));
	add_time(circuit, "opened", jstr(c, "opened_at"), now);
	cJSON_AddStringToObject(o, "last_error", jstr(h, "last_error"));
	cJSON_AddNumberToObject(o, "inflight", jnum(h, "inflight", 0));
	if (cJSON_IsNumber(get(h, "mean_confidence"))) {
		snprintf(s, sizeof(s), "%.2f", jnum(h, "mean_confidence", 0));
		cJSON_AddStringToObject(o, "mean_confidence", s);
	}
	if (cJSON_IsTrue(get(h, "connected")))
		cJSON_AddTrueToObject(o, "connected");
	add_figures(o, h);
	add_time(o, "since", jstr(get(h, "calls"), "since"), now);
	add_seen(o, h, now);
	add_recent(o, h, now);
	add_probes(o, h, now);
	if (cJSON_IsObject(get(h, "probe")))
		cJSON_AddTrueToObject(o, "probed_now");
}

int web_agent_render(struct req *r, cJSON *ctx, const cJSON *a, int status)
{
	cJSON *h = NULL;
	const char *probe = req_query(r, "probe");
	int rc = 0;
	/* ?probe=1 (the Check now button): the API's health route probes, as it does for ?probe=1 */
	if (probe && !strcmp(probe, "1") && r->method[0] == 'G' &&
	    (!strcmp(jstr(a, "kind"), "http") || !strcmp(jstr(a, "kind"), "openai")))
		rc = web_api_call(r, "GET", "/api/v1/agents/{id}/health", NULL, &h);
	else
		h = runtime(r, a);
	if (rc) {
		cJSON_Delete(ctx);
		return rc;
	}
	add_agent(ctx, a, h);
	cJSON_Delete(h);
	if (!get(ctx, "test")) {
		cJSON *t = cJSON_AddObjectToObject(ctx, "test");
		cJSON_AddStringToObject(t, "task", DEFAULT_TASK);
		cJSON_AddStringToObject(t, "data", "");
	}
	rc = web_render(r, status, "agent", ctx);
	cJSON_Delete(ctx);
	return rc;
}

const char *web_agent_url(struct req *r)
{
	const char *id = req_param(r, 0);
	size_t n = id ? strlen(id) : 0;
	if (!n || n >= UUID_STR_LEN || strspn(id, "0123456789abcdef-") != n)
		return "/agents";
	return arena_printf(r->arena, "/agents/%s", id);
}

int web_agent_load(struct req *r, cJSON *ctx, cJSON **a)
{
	int rc = web_api_call(r, "GET", "/api/v1/agents/{id}", NULL, a);
	if (rc == ERR_NOT_FOUND) {
		err_clear(&r->err);
		cJSON_AddTrueToObject(ctx, "missing");
		rc = web_render(r, 404, "agent", ctx);
	}
	if (rc || !*a)
		cJSON_Delete(ctx);
	return rc;
}

int web_agent_page(struct req *r)
{
	struct db *db;
	cJSON *ctx, *a = NULL;
	int rc;
	if ((rc = web_app_begin(r, &db, "agents", &ctx)) || !ctx)
		return rc;
	if ((rc = web_agent_load(r, ctx, &a)) || !a)
		return rc;
	rc = web_agent_render(r, ctx, a, 200);
	cJSON_Delete(a);
	return rc;
}

/* A reply value, pretty-printed for a <pre>. */
static void add_pretty(cJSON *o, const char *key, const cJSON *v)
{
	char *s = v ? cJSON_Print(v) : NULL;
	cJSON_AddStringToObject(o, key, s ? s : "null");
	free(s);
}

/* ctx.test.result from the API's answer {ok, value, confidence, reasoning, error,
 * latency_ms, usage}. */
static void add_result(cJSON *t, const cJSON *ans)
{
	cJSON *o = cJSON_AddObjectToObject(t, "result");
	const cJSON *u = get(ans, "usage");
	char s[64];
	cJSON_AddBoolToObject(o, "ok", cJSON_IsTrue(get(ans, "ok")));
	add_pretty(o, "value", get(ans, "value"));
	s[0] = '\0';
	if (cJSON_IsNumber(get(ans, "confidence")))
		snprintf(s, sizeof(s), "%.2f", jnum(ans, "confidence", 0));
	cJSON_AddStringToObject(o, "confidence", s);
	add_ms(o, "latency", jnum(ans, "latency_ms", 0));
	cJSON_AddStringToObject(o, "reasoning", jstr(ans, "reasoning"));
	cJSON_AddStringToObject(o, "error", jstr(ans, "error"));
	s[0] = '\0';
	if (cJSON_IsObject(u))
		snprintf(s, sizeof(s), "%.0f in, %.0f out", jnum(u, "input_tokens", 0),
			 jnum(u, "output_tokens", 0));
	cJSON_AddStringToObject(o, "tokens", s);
}

/* The test form's body {task, data?}; the data field's JSON error in t.errors. */
static cJSON *test_body(struct req *r, cJSON *t)
{
	const char *task = req_form(r, "task"), *data = req_form(r, "data");
	cJSON *body = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "task", task ? task : "");
	cJSON_AddStringToObject(t, "data", data ? data : "");
	if (task && *task)
		cJSON_AddStringToObject(body, "task", task);
	if (data && data[strspn(data, " \t\r\n")]) {
		cJSON *v = cJSON_Parse(data);
		if (!v) {
			cJSON_AddStringToObject(cJSON_AddObjectToObject(t, "errors"), "data",
						"Not valid JSON: write an object such as "
						"{\"text\": \"hello\"}, a string in quotes or a number.");
			cJSON_Delete(body);
			return NULL;
		}
		cJSON_AddItemToObject(body, "data", v);
	}
	return body;
}

/* POST /agents/{id}/test: the API's test call, its answer on the agent's page (200,
 * no redirect: the answer is not kept anywhere to come back to). */
int web_agent_test(struct req *r)
{
	struct db *db;
	cJSON *ctx, *a = NULL, *answer = NULL, *t = cJSON_CreateObject(), *body;
	int rc;
	if (r->auth.kind != AUTH_COOKIE) {
		cJSON_Delete(t);
		return req_redirect(r, 303, "/login");
	}
	body = test_body(r, t);
	rc = body ? web_api_call(r, "POST", "/api/v1/agents/{id}/test", body, &answer) : 0;
	cJSON_Delete(body);
	if (rc == ERR_INVALID) {
		cJSON *errs = cJSON_AddObjectToObject(t, "errors");
		cJSON_AddStringToObject(errs, strcmp(r->err.field, "task") ? "data" : "task",
					r->err.msg);
		err_clear(&r->err);
		rc = 0;
	} else if (rc) { /* refused (a role without agent.run) or gone */
		cJSON_Delete(t);
		return web_form_done(r, rc, web_agent_url(r), NULL, NULL);
	}
	if (answer)
		add_result(t, answer);
	cJSON_Delete(answer);
	if ((rc = web_app_begin(r, &db, "agents", &ctx)) || !ctx ||
	    (rc = web_agent_load(r, ctx, &a)) || !a) {
		cJSON_Delete(t);
		return rc;
	}
	cJSON_AddItemToObject(ctx, "test", t);
	rc = web_agent_render(r, ctx, a, 200);
	cJSON_Delete(a);
	return rc;
}

/* POST /agents/{id}/delete: the API's delete, then the list. */
int web_agent_delete(struct req *r)
{
	cJSON *answer = NULL;
	if (r->auth.kind != AUTH_COOKIE)
		return req_redirect(r, 303, "/login");
	int rc = web_api_call(r, "DELETE", "/api/v1/agents/{id}", NULL, &answer);
	cJSON_Delete(answer);
	return web_form_done(r, rc, "/agents", "Agent deleted.", web_agent_url(r));
}
