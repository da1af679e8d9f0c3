/*
 * What this process saw of each agent lately, for the health report and the
 * dashboard: the outcome and latency of its last AGENT_SAMPLES call attempts
 * (success rate, p50/p95), its last few attempts in detail (which execution
 * and node, what went wrong) and its last probes. It lives beside the circuit
 * breaker, in memory and per engine: the figures start over with the process
 * and cover the calls this process made. Nothing here is a secret: errors are
 * the engine's own step errors, already shown to the same readers.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/exec_internal.h"
#include "core/core.h"

static struct agent_stats *stats_of(struct agent_rt *rt)
{
	if (!rt->stats)
		rt->stats = xcalloc(1, sizeof(*rt->stats));
	return rt->stats;
}

/* The slot for the next entry of a ring of size n. */
static unsigned ring_next(unsigned *head, unsigned *count, unsigned n)
{
	unsigned i = *head;
	*head = (i + 1) % n;
	if (*count < n)
		(*count)++;
	return i;
}

void agent_stats_call(struct agent_rt *rt, const struct agent_call *c, enum call_outcome o)
{
	struct agent_stats *s = stats_of(rt);
	const struct run *top = c->x->run;
	struct agent_sample smp = { now_ms(), (int32_t)c->latency_ms, (uint8_t)o };
	if (o == OUTCOME_CIRCUIT_OPEN)
		smp.latency_ms = 0; /* never sent: no latency to count */
	s->samples[ring_next(&s->samples_head, &s->samples_n, AGENT_SAMPLES)] = smp;
	while (top->parent) /* a sub-run's calls belong to the execution at the top */
		top = top->parent;
	struct agent_recent *r = &s->recent[ring_next(&s->recent_head, &s->recent_n, AGENT_RECENT)];
	r->s = smp;
	r->test = (uint8_t)(top->test != 0);
	str_copy(r->execution_id, sizeof(r->execution_id), top->execution_id);
	str_copy(r->node_id, sizeof(r->node_id), c->x->id ? c->x->id : "");
	str_copy(r->error, sizeof(r->error), o == OUTCOME_SUCCEEDED ? "" : c->error);
}

void agent_stats_probe(struct agent_rt *rt, const cJSON *probe)
{
	struct agent_stats *s = stats_of(rt);
	struct agent_probe *p = &s->probes[ring_next(&s->probes_head, &s->probes_n, AGENT_PROBES)];
	const cJSON *lat = cJSON_GetObjectItemCaseSensitive(probe, "latency_ms");
	const char *err = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(probe, "error"));
	p->at = now_ms();
	p->ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(probe, "ok"));
	p->latency_ms = cJSON_IsNumber(lat) ? (int32_t)lat->valuedouble : 0;
	str_copy(p->error, sizeof(p->error), err ? err : "");
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

/* Nearest rank (in integers: 0.95 * 20 is not 19 in floating point): the smallest value
 * with at least pct % of the values at or below it. */
static int32_t rank(const int32_t *sorted, unsigned n, unsigned pct)
{
	unsigned k = (n * pct + 99) / 100;
	return sorted[k ? k - 1 : 0];
}

static void add_at(cJSON *o, const char *key, int64_t ms)
{
	char t[40];
	time_iso(ms, t, sizeof(t));
	cJSON_AddStringToObject(o, key, t);
}

static void add_error(cJSON *o, const char *error)
{
	if (error[0])
		cJSON_AddStringToObject(o, "error", error);
	else
		cJSON_AddNullToObject(o, "error");
}

static const char *outcome_name(uint8_t o)
{
	return o == OUTCOME_SUCCEEDED ? "succeeded" : o == OUTCOME_FAILED ? "failed" : "circuit_open";
}

static void calls_json(const struct agent_stats *s, cJSON *o)
{
	int32_t lat[AGENT_SAMPLES];
	unsigned ok = 0, sent = 0;
	int64_t since = 0, sum = 0;
	cJSON *c = cJSON_AddObjectToObject(o, "calls");
	for (unsigned i = 0; s && i < s->samples_n; i++) {
		const struct agent_sample *x = &s->samples[i];
		ok += x->outcome == OUTCOME_SUCCEEDED;
		if (x->outcome != OUTCOME_CIRCUIT_OPEN) {
			lat[sent++] = x->latency_ms;
			sum += x->latency_ms;
		}
		if (!since || x->at < since)
			since = x->at;
	}
	unsigned n = s ? s->samples_n : 0;
	cJSON_AddNumberToObject(c, "window", n);
	cJSON_AddNumberToObject(c, "succeeded", ok);
	cJSON_AddNumberToObject(c, "failed", n - ok);
	if (n)
		cJSON_AddNumberToObject(c, "success_rate", (double)ok / n);
	else
		cJSON_AddNullToObject(c, "success_rate");
	if (sent) {
		qsort(lat, sent, sizeof(lat[0]), cmp_i32);
		cJSON *l = cJSON_AddObjectToObject(c, "latency_ms");
		cJSON_AddNumberToObject(l, "p50", rank(lat, sent, 50));
		cJSON_AddNumberToObject(l, "p95", rank(lat, sent, 95));
		cJSON_AddNumberToObject(l, "mean", (double)(sum / sent));
	} else {
		cJSON_AddNullToObject(c, "latency_ms");
	}
	if (since)
		add_at(c, "since", since);
	else
		cJSON_AddNullToObject(c, "since");
}

void agent_stats_json(const struct agent_stats *s, cJSON *o)
{
	calls_json(s, o);
	cJSON *recent = cJSON_AddArrayToObject(o, "recent_calls");
	for (unsigned k = 0; s && k < s->recent_n; k++) {
		const struct agent_recent *r =
			&s->recent[(s->recent_head + AGENT_RECENT - 1 - k) % AGENT_RECENT];
		cJSON *j = cJSON_CreateObject();
		add_at(j, "at", r->s.at);
		cJSON_AddStringToObject(j, "execution_id", r->execution_id);
		cJSON_AddStringToObject(j, "node_id", r->node_id);
		cJSON_AddBoolToObject(j, "test", r->test);
		cJSON_AddStringToObject(j, "status", outcome_name(r->s.outcome));
		cJSON_AddNumberToObject(j, "latency_ms", r->s.latency_ms);
		add_error(j, r->error);
		cJSON_AddItemToArray(recent, j);
	}
	cJSON *probes = cJSON_AddArrayToObject(o, "probes");
	for (unsigned k = 0; s && k < s->probes_n; k++) {
		const struct agent_probe *p =
			&s->probes[(s->probes_head + AGENT_PROBES - 1 - k) % AGENT_PROBES];
		cJSON *j = cJSON_CreateObject();
		add_at(j, "at", p->at);
		cJSON_AddBoolToObject(j, "ok", p->ok);
		cJSON_AddNumberToObject(j, "latency_ms", p->latency_ms);
		add_error(j, p->error);
		cJSON_AddItemToArray(probes, j);
	}
}
