/*
 * One agent call: the circuit breaker, the concurrency cap, retries with
 * backoff, and the plumbing the http and openai drivers share (a checked,
 * hardened curl POST with the Idempotency-Key and traceparent headers, and
 * the reading of a reply). Every call ends exactly once in c->done(), on the
 * run's loop, unless it is cancelled first.
 */
#include <stdlib.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "engine/exec_internal.h"
#include "core/core.h"

#define REPLY_MAX (1u << 20)

static void call_attempt(struct agent_call *c);

void call_set_error(struct agent_call *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	c->failed = 1;
}

struct agent_call *call_new(struct node_exec *x, const struct agent_spec *a, const char *task,
			    cJSON *data, void (*done)(struct agent_call *c))
{
	struct agent_call *c = xcalloc(1, sizeof(*c));
	c->x = x;
	c->agent = a;
	str_copy(c->agent_id, sizeof(c->agent_id), a->id);
	c->loop = x->run->loop;
	c->task = xstrdup(task ? task : "");
	c->data = data ? data : cJSON_CreateNull();
	c->timeout_ms = a->timeout_ms > 0 ? a->timeout_ms : 30000;
	c->backoff_ms = 500;
	c->confidence = CONF_NONE;
	c->done = done;
	return c;
}

static void transport_release(struct agent_call *c)
{
	if (c->tr.easy) {
		curl_easy_cleanup(c->tr.easy);
		c->tr.easy = NULL;
	}
	curl_slist_free_all(c->headers);
	c->headers = NULL;
	outbound_target_release(&c->target);
	outbound_body_release(&c->body);
	free(c->req_body);
	c->req_body = NULL;
}

static void outcome_reset(struct agent_call *c)
{
	cJSON_Delete(c->value);
	c->value = NULL;
	free(c->reasoning);
	c->reasoning = NULL;
	c->error[0] = '\0';
	c->failed = 0;
	c->confidence = CONF_NONE;
}

void call_free(struct agent_call *c)
{
	if (!c || c->orphan)
		return;
	transport_release(c);
	outcome_reset(c);
	cJSON_Delete(c->data);
	free(c->task);
	free(c);
}

/* ---- slots and the breaker (engine.agents_mu) ------------------------------------------- */

static void launch_posted(void *arg);

/* Give up c's slot; the next waiting call (of any loop) gets it. */
static void slot_release(struct engine *en, struct agent_call *c)
{
	struct agent_call *w = NULL;
	if (!c->holds_slot)
		return;
	c->holds_slot = 0;
	pthread_mutex_lock(&en->agents_mu);
	struct agent_rt *rt = agent_rt_get(en, c->agent_id);
	rt->inflight--;
	if (rt->wait_head) {
		w = rt->wait_head;
		rt->wait_head = w->wait_next;
		if (!rt->wait_head)
			rt->wait_tail = NULL;
		w->wait_next = NULL;
		w->holds_slot = 1;
		rt->inflight++;
	}
	pthread_mutex_unlock(&en->agents_mu);
	if (w)
		loop_post(w->loop, launch_posted, w);
}

static void breaker_record(struct engine *en, struct agent_call *c)
{
	int64_t now = now_ms();
	pthread_mutex_lock(&en->agents_mu);
	struct agent_rt *rt = agent_rt_get(en, c->agent_id);
	agent_stats_call(rt, c, c->failed ? OUTCOME_FAILED : OUTCOME_SUCCEEDED);
	if (c->trial) {
		rt->trial = 0;
		c->trial = 0;
	}
	if (c->failed) {
		rt->failures++;
		rt->successes = 0;
		rt->last_fail_at = now;
		str_copy(rt->last_error, sizeof(rt->last_error), c->error);
		if (rt->circuit == CIRCUIT_HALF_OPEN ||
		    (rt->circuit == CIRCUIT_CLOSED && rt->failures >= en->cfg.breaker_failures)) {
			rt->circuit = CIRCUIT_OPEN;
			rt->opened_at = now;
			log_warn("engine", "circuit of agent %s opened after %d failures", c->agent->name,
				 rt->failures);
		}
	} else {
		rt->last_ok_at = now;
		if (rt->circuit == CIRCUIT_HALF_OPEN) {
			if (++rt->successes >= en->cfg.breaker_successes) {
				rt->circuit = CIRCUIT_CLOSED;
				rt->failures = 0;
				rt->opened_at = 0;
			}
		} else {
			rt->failures = 0;
		}
		if (c->confidence != CONF_NONE) {
			rt->conf_sum += c->confidence;
			rt->conf_n++;
		}
	}
	pthread_mutex_unlock(&en->agents_mu);
}

/* ---- the attempt ------------------------------------------------------------------------ */

static void launch(struct agent_call *c)
{
	c->state = CALL_RUNNING;
	c->started_us = mono_us();
	switch (c->agent->kind) {
	case AGENT_HTTP:
		agent_http_start(c);
		break;
	case AGENT_OPENAI:
		agent_openai_start(c);
		break;
	case AGENT_BUILTIN:
		agent_builtin_start(c);
		break;
	case AGENT_WS:
		agent_ws_start(c);
		break;
	}
}

static void launch_posted(void *arg)
{
	struct agent_call *c = arg;
	if (c->state == CALL_CANCELLED) { /* cancelled while its slot was on the way */
		slot_release(loop_engine(c->loop), c);
		c->orphan = 0;
		call_free(c);
		return;
	}
	launch(c);
}

static void call_finish(struct agent_call *c)
{
	struct run *r = c->x->run;
	c->state = CALL_DONE;
	r->tokens_in += c->tokens_in;
	r->tokens_out += c->tokens_out;
	c->done(c);
}

static void fastfail_fire(struct timer *t)
{
	struct agent_call *c = (struct agent_call *)((char *)t - offsetof(struct agent_call, timer));
	call_finish(c);
}

static void retry_fire(struct timer *t)
{
	struct agent_call *c = (struct agent_call *)((char *)t - offsetof(struct agent_call, timer));
	call_attempt(c);
}

static void call_log(struct agent_call *c, const char *status)
{
	cJSON *l = cJSON_CreateObject();
	cJSON_AddStringToObject(l, "agent", c->agent->name);
	cJSON_AddNumberToObject(l, "attempt", c->attempt);
	cJSON_AddStringToObject(l, "status", status);
	cJSON_AddNumberToObject(l, "latency_ms", (double)c->latency_ms);
	if (c->failed)
		cJSON_AddStringToObject(l, "error", c->error);
	else
		cJSON_AddNullToObject(l, "error");
	cJSON_AddItemToArray(c->x->call_log, l);
}

static void call_attempt(struct agent_call *c)
{
	struct engine *en = loop_engine(c->loop);
	int open = 0, queued = 0;
	c->attempt++;
	outcome_reset(c);
	pthread_mutex_lock(&en->agents_mu);
	struct agent_rt *rt = agent_rt_get(en, c->agent->id);
	if (rt->circuit == CIRCUIT_OPEN && now_ms() - rt->opened_at >= en->cfg.breaker_open_ms) {
		rt->circuit = CIRCUIT_HALF_OPEN;
		rt->successes = 0;
		rt->trial = 0;
	}
	if (rt->circuit == CIRCUIT_OPEN || (rt->circuit == CIRCUIT_HALF_OPEN && rt->trial)) {
		open = 1;
	} else if (rt->circuit == CIRCUIT_HALF_OPEN) {
		rt->trial = 1; /* one call at a time tries the agent */
		c->trial = 1;
	}
	if (!open && c->agent->max_concurrency > 0 && rt->inflight >= c->agent->max_concurrency) {
		queued = 1;
		c->state = CALL_QUEUED;
		if (rt->wait_tail)
			rt->wait_tail->wait_next = c;
		else
			rt->wait_head = c;
		rt->wait_tail = c;
	} else if (!open) {
		rt->inflight++;
		c->holds_slot = 1;
	}
	pthread_mutex_unlock(&en->agents_mu);
	if (open && rt->circuit == CIRCUIT_HALF_OPEN) {
		call_set_error(c, "circuit open: agent '%s' is being retried by one trial call",
			       c->agent->name);
	} else if (open) {
		call_set_error(c, "circuit open: agent '%s' failed %d times in a row; calls resume "
				  "after %lld s", c->agent->name, en->cfg.breaker_failures,
			       (long long)(en->cfg.breaker_open_ms / 1000));
	}
	if (open) {
		pthread_mutex_lock(&en->agents_mu);
		agent_stats_call(rt, c, OUTCOME_CIRCUIT_OPEN);
		pthread_mutex_unlock(&en->agents_mu);
		call_log(c, "circuit_open");
		c->timer.fn = fastfail_fire;
		c->state = CALL_DONE;
		loop_timer_arm(c->loop, &c->timer, 0);
		return;
	}
	if (!queued)
		launch(c);
}

void call_start(struct agent_call *c)
{
	c->attempt = 0;
	call_attempt(c);
}

void call_attempt_done(struct agent_call *c)
{
	struct engine *en = loop_engine(c->loop);
	c->latency_ms = (mono_us() - c->started_us) / 1000;
	transport_release(c);
	slot_release(en, c);
	breaker_record(en, c);
	call_log(c, c->failed ? "failed" : "succeeded");
	if (c->failed && c->attempt <= c->max_retries) {
		double jitter = 0.8 + 0.4 * ((double)(mono_us() % 1000) / 1000.0);
		double delay = (double)c->backoff_ms * pow(2, c->attempt - 1) * jitter;
		if (delay > 600000)
			delay = 600000;
		c->state = CALL_BACKOFF;
		c->timer.fn = retry_fire;
		loop_timer_arm(c->loop, &c->timer, (int64_t)delay);
		return;
	}
	call_finish(c);
}

/* A cancelled half-open trial lets the next call try. */
static void trial_release(struct engine *en, struct agent_call *c)
{
	if (!c->trial)
		return;
	pthread_mutex_lock(&en->agents_mu);
	agent_rt_get(en, c->agent_id)->trial = 0;
	pthread_mutex_unlock(&en->agents_mu);
	c->trial = 0;
}

void call_cancel(struct agent_call *c)
{
	struct engine *en = loop_engine(c->loop);
	if (c->state == CALL_QUEUED || c->state == CALL_RUNNING)
		trial_release(en, c);
	switch (c->state) {
	case CALL_QUEUED:
		pthread_mutex_lock(&en->agents_mu);
		struct agent_rt *rt = agent_rt_get(en, c->agent->id);
		struct agent_call **pp = &rt->wait_head, *prev = NULL;
		int found = 0;
		while (*pp) {
			if (*pp == c) {
				*pp = c->wait_next;
				if (rt->wait_tail == c)
					rt->wait_tail = prev;
				found = 1;
				break;
			}
			prev = *pp;
			pp = &(*pp)->wait_next;
		}
		pthread_mutex_unlock(&en->agents_mu);
		if (!found) { /* its slot is being posted to us: launch_posted frees it */
			c->state = CALL_CANCELLED;
			c->orphan = 1;
			return;
		}
		break;
	case CALL_RUNNING:
		if (c->tr.easy)
			loop_transfer_remove(c->loop, &c->tr);
		if (c->agent->kind == AGENT_WS)
			agent_ws_cancel(c);
		loop_timer_cancel(c->loop, &c->timer);
		transport_release(c);
		slot_release(en, c);
		break;
	case CALL_BACKOFF:
	case CALL_DONE:
		loop_timer_cancel(c->loop, &c->timer);
		break;
	default:
		break;
	}
	c->state = CALL_CANCELLED;
}

/* ---- results ---------------------------------------------------------------------------- */

cJSON *call_result(const struct agent_call *c)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "agent", c->agent->name);
	cJSON_AddStringToObject(r, "agent_id", c->agent->id);
	cJSON_AddItemToObject(r, "value", c->value && !c->failed ? cJSON_Duplicate(c->value, 1)
								  : cJSON_CreateNull());
	if (c->failed)
		cJSON_AddNumberToObject(r, "confidence", 0);
	else if (c->confidence == CONF_NONE)
		cJSON_AddNullToObject(r, "confidence");
	else
		cJSON_AddNumberToObject(r, "confidence", c->confidence);
	cJSON_AddNumberToObject(r, "expertise", c->agent->expertise);
	if (c->reasoning && !c->failed)
		cJSON_AddStringToObject(r, "reasoning", c->reasoning);
	else
		cJSON_AddNullToObject(r, "reasoning");
	if (c->failed)
		cJSON_AddStringToObject(r, "error", c->error);
	else
		cJSON_AddNullToObject(r, "error");
	if (c->tokens_in || c->tokens_out) {
		cJSON *u = cJSON_AddObjectToObject(r, "usage");
		cJSON_AddNumberToObject(u, "input_tokens", (double)c->tokens_in);
		cJSON_AddNumberToObject(u, "output_tokens", (double)c->tokens_out);
	}
	return r;
}

void call_take_reply(struct agent_call *c, cJSON *reply)
{
	cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(reply, "value");
	if (!v)
		v = cJSON_DetachItemFromObjectCaseSensitive(reply, "result");
	if (!v) {
		call_set_error(c, "agent '%s' replied without a value", c->agent->name);
		return;
	}
	c->value = v;
	const cJSON *conf = cJSON_GetObjectItemCaseSensitive(reply, "confidence");
	c->confidence = cJSON_IsNumber(conf) ? conf_from_value(conf->valuedouble) : CONF_NONE;
	const cJSON *why = cJSON_GetObjectItemCaseSensitive(reply, "reasoning");
	if (cJSON_IsString(why))
		c->reasoning = xstrndup(why->valuestring, strnlen(why->valuestring, 16384));
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(reply, "usage");
	const cJSON *ti = cJSON_GetObjectItemCaseSensitive(u, "input_tokens");
	const cJSON *to = cJSON_GetObjectItemCaseSensitive(u, "output_tokens");
	if (cJSON_IsNumber(ti) && ti->valuedouble >= 0 && ti->valuedouble < 1e12)
		c->tokens_in = (int64_t)ti->valuedouble;
	if (cJSON_IsNumber(to) && to->valuedouble >= 0 && to->valuedouble < 1e12)
		c->tokens_out = (int64_t)to->valuedouble;
}

/* ---- HTTP plumbing ----------------------------------------------------------------------- */

struct curl_slist *curl_bearer(struct curl_slist *h, const cJSON *token)
{
	if (!cJSON_IsString(token) || !token->valuestring[0])
		return h;
	struct buf line;
	buf_init(&line);
	buf_addf(&line, "Authorization: Bearer %s", token->valuestring);
	h = curl_slist_append(h, line.p);
	buf_release(&line);
	return h;
}

static struct curl_slist *common_headers(struct agent_call *c, struct curl_slist *h)
{
	char line[512], trace[33], span_hex[17];
	unsigned char span[8];
	size_t n = 0;
	const char *id = c->x->run->execution_id;
	for (const char *p = id; *p && n < 32; p++)
		if (*p != '-')
			trace[n++] = *p;
	while (n < 32)
		trace[n++] = '0';
	trace[32] = '\0';
	random_bytes(span, sizeof(span));
	hex_encode(span, sizeof(span), span_hex);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Accept: application/json");
	h = curl_slist_append(h, "Expect:");
	snprintf(line, sizeof(line), "Idempotency-Key: %s/%s", id, c->x->id);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof(line), "traceparent: 00-%s-%s-01", trace, span_hex);
	h = curl_slist_append(h, line);
	const cJSON *hdrs = cJSON_GetObjectItemCaseSensitive(c->agent->config, "headers"), *it;
	cJSON_ArrayForEach(it, hdrs) {
		if (!cJSON_IsString(it))
			continue;
		struct buf b;
		buf_init(&b);
		buf_addf(&b, "%s: %s", it->string, it->valuestring);
		h = curl_slist_append(h, b.p);
		buf_release(&b);
	}
	return h;
}

static void http_transfer_done(struct transfer *t, CURLcode rc);

int call_http_prepare(struct agent_call *c, const char *url, char *body,
		      struct curl_slist *extra_headers)
{
	struct err e;
	c->req_body = body;
	c->headers = extra_headers;
	if (outbound_url_check(&loop_engine(c->loop)->policy, url, &c->target, &e) < 0) {
		call_set_error(c, "agent '%s': %s", c->agent->name, e.msg);
		return -1;
	}
	outbound_body_init(&c->body, REPLY_MAX);
	c->tr.easy = curl_easy_init();
	if (!c->tr.easy) {
		call_set_error(c, "agent '%s': out of memory", c->agent->name);
		return -1;
	}
	outbound_curl_harden(c->tr.easy, &c->target, (long)c->timeout_ms, REPLY_MAX);
	outbound_body_attach(c->tr.easy, &c->body);
	c->headers = common_headers(c, c->headers);
	curl_easy_setopt(c->tr.easy, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(c->tr.easy, CURLOPT_POSTFIELDS, c->req_body);
	curl_easy_setopt(c->tr.easy, CURLOPT_POSTFIELDSIZE, (long)strlen(c->req_body));
	c->tr.done = http_transfer_done;
	return 0;
}

cJSON *call_http_reply(struct agent_call *c, CURLcode rc)
{
	struct err e;
	long status = 0;
	if (outbound_curl_result(rc, &c->body, (long)c->timeout_ms, &e) < 0) {
		call_set_error(c, "agent '%s': %s", c->agent->name, e.msg);
		return NULL;
	}
	curl_easy_getinfo(c->tr.easy, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		call_set_error(c, "agent '%s' answered HTTP %ld", c->agent->name, status);
		return NULL;
	}
	cJSON *reply = json_parse(c->body.data.p, c->body.data.len, 64, &e);
	if (!reply) {
		call_set_error(c, "agent '%s' sent a reply that is not valid JSON", c->agent->name);
		return NULL;
	}
	if (!cJSON_IsObject(reply)) {
		cJSON_Delete(reply);
		call_set_error(c, "agent '%s' sent a reply that is not a JSON object", c->agent->name);
		return NULL;
	}
	return reply;
}

/* The kind's own reply reader, chosen at prepare time by the driver. */

static void http_transfer_done(struct transfer *t, CURLcode rc)
{
	struct agent_call *c = (struct agent_call *)((char *)t - offsetof(struct agent_call, tr));
	if (c->agent->kind == AGENT_OPENAI)
		agent_openai_reply(c, rc);
	else
		agent_http_reply(c, rc);
	call_attempt_done(c);
}
