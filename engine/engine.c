/*
 * The engine object: its loops, the jq pool, the outbound policy and the
 * runtime state of every agent it has called (breaker, load); plus the
 * one-off agent test call and the health report.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "engine/exec_internal.h"
#include "core/core.h"

/* ---- agent specs ------------------------------------------------------------------- */

int agent_kind_parse(const char *s)
{
	static const char *const names[] = { "http", "openai", "ws", "builtin" };
	for (size_t i = 0; s && i < ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i]))
			return (int)i;
	return -1;
}

void agent_spec_release(struct agent_spec *a)
{
	cJSON_Delete(a->config);
	cJSON_Delete(a->capabilities);
	a->config = a->capabilities = NULL;
}

void agent_spec_copy(struct agent_spec *dst, const struct agent_spec *src)
{
	*dst = *src;
	dst->config = src->config ? cJSON_Duplicate(src->config, 1) : cJSON_CreateObject();
	dst->capabilities = src->capabilities ? cJSON_Duplicate(src->capabilities, 1)
					      : cJSON_CreateArray();
}

/* ---- runtime state --------------------------------------------------------------------- */

struct agent_rt *agent_rt_get(struct engine *en, const char *id)
{
	unsigned h = 5381;
	for (const char *p = id; *p; p++)
		h = h * 33 + (unsigned char)*p;
	struct agent_rt **slot = &en->agents[h % AGENT_RT_BUCKETS];
	for (struct agent_rt *a = *slot; a; a = a->next)
		if (!strcmp(a->id, id))
			return a;
	struct agent_rt *a = xcalloc(1, sizeof(*a));
	str_copy(a->id, sizeof(a->id), id);
	a->next = *slot;
	*slot = a;
	return a;
}

/* ---- lifecycle ----------------------------------------------------------------------- */

struct engine *engine_new(const struct engine_config *c, struct err *e)
{
	struct engine *en = xcalloc(1, sizeof(*en));
	en->cfg = *c;
	if (en->cfg.loops <= 0)
		en->cfg.loops = 2;
	if (en->cfg.breaker_failures <= 0)
		en->cfg.breaker_failures = 5;
	if (en->cfg.breaker_open_ms <= 0)
		en->cfg.breaker_open_ms = 30000;
	if (en->cfg.breaker_successes <= 0)
		en->cfg.breaker_successes = 3;
	en->cfg.agent_allow = NULL; /* not kept: parsed into policy */
	pthread_mutex_init(&en->agents_mu, NULL);
	pthread_mutex_init(&en->ws_mu, NULL);
	pthread_mutex_init(&en->runs_mu, NULL);
	if (outbound_policy_init(&en->policy, c->agent_allow, e) < 0)
		goto fail;
	en->jq = jq_pool_new(c->jq_workers, e);
	if (!en->jq)
		goto fail;
	en->loops = xcalloc((size_t)en->cfg.loops, sizeof(*en->loops));
	for (int i = 0; i < en->cfg.loops; i++) {
		en->loops[i] = loop_new(en, e);
		if (!en->loops[i])
			goto fail;
		en->loop_count++;
	}
	return en;
fail:
	engine_free(en);
	return NULL;
}

void engine_free(struct engine *en)
{
	if (!en)
		return;
	for (int i = 0; i < en->loop_count; i++)
		loop_free(en->loops[i]);
	free(en->loops);
	jq_pool_free(en->jq);
	for (size_t b = 0; b < AGENT_RT_BUCKETS; b++)
		while (en->agents[b]) {
			struct agent_rt *a = en->agents[b];
			en->agents[b] = a->next;
			free(a->stats);
			free(a);
		}
	ws_links_free(en);
	pthread_mutex_destroy(&en->ws_mu);
	pthread_mutex_destroy(&en->runs_mu);
	pthread_mutex_destroy(&en->agents_mu);
	free(en);
}

/* ---- the test call: a one-node pattern ------------------------------------------------- */

int engine_agent_test(struct engine *en, const struct agent_spec *a, const char *task,
		      const cJSON *data, cJSON **out, struct err *e)
{
	cJSON *doc = cJSON_CreateObject(), *nodes, *n, *outcome = NULL;
	struct pattern *p = NULL;
	struct problems pr;
	char exec_id[UUID_STR_LEN];
	int ret;

	problems_init(&pr);
	cJSON_AddStringToObject(doc, "name", "agent-test");
	nodes = cJSON_AddArrayToObject(doc, "nodes");
	n = cJSON_CreateObject();
	cJSON_AddStringToObject(n, "id", "input");
	cJSON_AddStringToObject(n, "type", "input");
	cJSON_AddItemToArray(nodes, n);
	n = cJSON_CreateObject();
	cJSON_AddStringToObject(n, "id", "test");
	cJSON_AddStringToObject(n, "type", "agent");
	cJSON_AddStringToObject(n, "from", "input");
	cJSON *sel = cJSON_AddObjectToObject(n, "select");
	cJSON *ids = cJSON_AddArrayToObject(sel, "ids");
	cJSON_AddItemToArray(ids, cJSON_CreateString(a->id));
	cJSON_AddStringToObject(n, "task", task ? task : "Connection test: reply with any value.");
	cJSON_AddStringToObject(n, "data", ".input");
	cJSON_AddItemToArray(nodes, n);
	n = cJSON_CreateObject();
	cJSON_AddStringToObject(n, "id", "output");
	cJSON_AddStringToObject(n, "type", "output");
	cJSON_AddStringToObject(n, "from", "test");
	cJSON_AddItemToArray(nodes, n);
	char *text = cJSON_PrintUnformatted(doc);
	ret = pattern_parse(text, strlen(text), &p, &pr, e);
	free(text);
	if (ret < 0)
		goto out;
	struct agent_spec one = *a;
	one.disabled = 0;
	uuid_v7(exec_id);
	struct run_request rq = { .execution_id = exec_id, .pattern_name = "agent-test",
				  .version = 1, .pattern = p, .input = data,
				  .agents = &one, .agent_count = 1,
				  .timeout_ms = a->timeout_ms + 5000, .test = 1 };
	ret = engine_run_wait(en, &rq, &outcome, e);
	if (ret < 0)
		goto out;
	*out = cJSON_CreateObject();
	const cJSON *steps = cJSON_GetObjectItemCaseSensitive(outcome, "steps"), *st;
	const cJSON *res = NULL, *call = NULL, *step_err = NULL;
	cJSON_ArrayForEach(st, steps) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(st, "node_id");
		if (!cJSON_IsString(id) || strcmp(id->valuestring, "test"))
			continue;
		res = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(st, "output"), 0);
		call = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(st, "calls"), 0);
		step_err = cJSON_GetObjectItemCaseSensitive(st, "error");
	}
	const cJSON *err_v = res ? cJSON_GetObjectItemCaseSensitive(res, "error") : step_err;
	int ok = res && !cJSON_IsString(err_v);
	cJSON_AddBoolToObject(*out, "ok", ok);
	static const char *const keys[] = { "value", "confidence", "reasoning" };
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const cJSON *v = res ? cJSON_GetObjectItemCaseSensitive(res, keys[i]) : NULL;
		cJSON_AddItemToObject(*out, keys[i], v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
	}
	cJSON_AddItemToObject(*out, "error", cJSON_IsString(err_v) ? cJSON_Duplicate(err_v, 1)
								   : cJSON_CreateNull());
	const cJSON *lat = call ? cJSON_GetObjectItemCaseSensitive(call, "latency_ms") : NULL;
	cJSON_AddNumberToObject(*out, "latency_ms", cJSON_IsNumber(lat) ? lat->valuedouble : 0);
	const cJSON *usage = res ? cJSON_GetObjectItemCaseSensitive(res, "usage") : NULL;
	cJSON_AddItemToObject(*out, "usage", usage ? cJSON_Duplicate(usage, 1) : cJSON_CreateNull());
	ret = 0;
out:
	cJSON_Delete(outcome);
	cJSON_Delete(doc);
	pattern_free(p);
	problems_release(&pr);
	return ret;
}

/* ---- health ------------------------------------------------------------------------------ */

static const char *circuit_name(enum circuit c)
{
	return c == CIRCUIT_OPEN ? "open" : c == CIRCUIT_HALF_OPEN ? "half_open" : "closed";
}

const char *engine_agent_circuit(struct engine *en, const char *agent_id)
{
	enum circuit c = CIRCUIT_CLOSED;
	pthread_mutex_lock(&en->agents_mu);
	struct agent_rt *rt = agent_rt_get(en, agent_id);
	if (rt->circuit == CIRCUIT_OPEN && now_ms() - rt->opened_at >= en->cfg.breaker_open_ms)
		c = CIRCUIT_HALF_OPEN; /* the next call will try */
	else
		c = rt->circuit;
	pthread_mutex_unlock(&en->agents_mu);
	return circuit_name(c);
}

/* GET the agent's health URL now (blocking, 5 s at most). */
static cJSON *probe(struct engine *en, const struct agent_spec *a)
{
	cJSON *o = cJSON_CreateObject();
	const char *base = NULL;
	char url[OUTBOUND_URL_MAX + 16], err_text[256] = "";
	struct outbound_target t;
	struct outbound_body body;
	struct err e;
	long status = 0;
	int64_t t0 = mono_us();

	memset(&t, 0, sizeof(t));
	outbound_body_init(&body, 64 << 10);
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(
		a->config, a->kind == AGENT_OPENAI ? "base_url" : "url");
	if (cJSON_IsString(u))
		base = u->valuestring;
	size_t n = base ? strlen(base) : 0;
	while (n && base[n - 1] == '/')
		n--;
	snprintf(url, sizeof(url), "%.*s%s", (int)n, base ? base : "",
		 a->kind == AGENT_OPENAI ? "/models" : "/health");
	if (outbound_url_check(&en->policy, url, &t, &e) < 0) {
		str_copy(err_text, sizeof(err_text), e.msg);
	} else {
		CURL *h = curl_easy_init();
		struct curl_slist *hdrs = NULL;
		const cJSON *key = cJSON_GetObjectItemCaseSensitive(
			a->config, a->kind == AGENT_OPENAI ? "api_key" : "token");
		outbound_curl_harden(h, &t, 5000, body.max);
		outbound_body_attach(h, &body);
		const cJSON *extra = cJSON_GetObjectItemCaseSensitive(a->config, "headers"), *it;
		struct buf line;
		buf_init(&line);
		hdrs = curl_bearer(hdrs, key);
		cJSON_ArrayForEach(it, extra) {
			if (!cJSON_IsString(it))
				continue;
			buf_reset(&line);
			buf_addf(&line, "%s: %s", it->string, it->valuestring);
			hdrs = curl_slist_append(hdrs, line.p);
		}
		buf_release(&line);
		if (hdrs)
			curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		CURLcode rc = curl_easy_perform(h);
		curl_slist_free_all(hdrs);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_cleanup(h);
		if (outbound_curl_result(rc, &body, 5000, &e) < 0)
			str_copy(err_text, sizeof(err_text), e.msg);
		else if (status < 200 || status > 299)
			snprintf(err_text, sizeof(err_text), "health check answered HTTP %ld", status);
	}
	outbound_target_release(&t);
	outbound_body_release(&body);
	cJSON_AddBoolToObject(o, "ok", !err_text[0]);
	cJSON_AddNumberToObject(o, "latency_ms", (double)((mono_us() - t0) / 1000));
	if (err_text[0])
		cJSON_AddStringToObject(o, "error", err_text);
	else
		cJSON_AddNullToObject(o, "error");
	return o;
}

int engine_agent_health(struct engine *en, const struct agent_spec *a, int do_probe, cJSON **out,
			struct err *e)
{
	(void)e;
	cJSON *o = cJSON_CreateObject(), *pr = NULL;
	struct agent_stats *snap = NULL;
	if (do_probe && (a->kind == AGENT_HTTP || a->kind == AGENT_OPENAI))
		pr = probe(en, a);
	pthread_mutex_lock(&en->agents_mu);
	struct agent_rt *rt = agent_rt_get(en, a->id);
	if (pr)
		agent_stats_probe(rt, pr);
	if (rt->stats) { /* the figures are computed outside the lock */
		snap = xmalloc(sizeof(*snap));
		*snap = *rt->stats;
	}
	const char *status = "unknown";
	int64_t since = -1;
	int ws_connected = a->kind == AGENT_WS && ws_link_state(en, a->id, &since);
	if (a->disabled)
		status = "disabled";
	else if (a->kind == AGENT_WS)
		status = ws_connected && since <= 2 * WS_HEARTBEAT_MS ? "healthy" : "unhealthy";
	else if (pr)
		status = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pr, "ok")) ? "healthy"
										   : "unhealthy";
	else if (rt->circuit == CIRCUIT_OPEN)
		status = "unhealthy";
	else if (rt->last_ok_at || rt->last_fail_at)
		status = rt->last_ok_at >= rt->last_fail_at ? "healthy" : "unhealthy";
	cJSON_AddStringToObject(o, "status", status);
	cJSON *c = cJSON_AddObjectToObject(o, "circuit");
	cJSON_AddStringToObject(c, "state", circuit_name(rt->circuit));
	cJSON_AddNumberToObject(c, "failures", rt->failures);
	cJSON_AddNumberToObject(c, "successes", rt->successes);
	if (rt->opened_at) {
		char s[40];
		time_iso(rt->opened_at, s, sizeof(s));
		cJSON_AddStringToObject(c, "opened_at", s);
	} else {
		cJSON_AddNullToObject(c, "opened_at");
	}
	cJSON_AddNumberToObject(o, "inflight", rt->inflight);
	if (rt->last_error[0])
		cJSON_AddStringToObject(o, "last_error", rt->last_error);
	else
		cJSON_AddNullToObject(o, "last_error");
	if (rt->conf_n)
		cJSON_AddNumberToObject(o, "mean_confidence", rt->conf_sum / (double)rt->conf_n);
	else
		cJSON_AddNullToObject(o, "mean_confidence");
	pthread_mutex_unlock(&en->agents_mu);
	cJSON_AddItemToObject(o, "probe", pr ? pr : cJSON_CreateNull());
	agent_stats_json(snap, o);
	free(snap);
	if (a->kind == AGENT_WS) {
		cJSON_AddBoolToObject(o, "connected", ws_connected);
		if (since >= 0)
			cJSON_AddNumberToObject(o, "last_heartbeat_ms_ago", (double)since);
		else
			cJSON_AddNullToObject(o, "last_heartbeat_ms_ago");
	}
	*out = o;
	return 0;
}
