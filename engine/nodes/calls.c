/*
 * What the agent-calling node types (agent, race, cascade, review, map)
 * share: the data sent with the task, and adding a call with the node's
 * timeout and retry options.
 */
#include <stdlib.h>
#include <stdlib.h>
#include <string.h>

#include "engine/exec_internal.h"
#include "core/core.h"

int node_call_data(struct node_exec *x, cJSON **data, struct err *e)
{
	*data = NULL;
	if (!node_opt(x, "data")) {
		*data = node_input_value(x);
		return 0;
	}
	return node_expr(x, "data", data, e);
}

int node_call_setup(struct node_exec *x, const struct agent_spec ***agents, size_t *n,
		    cJSON **data)
{
	struct err e;
	*agents = NULL;
	if (data)
		*data = NULL;
	if (select_agents(x->run, node_opt(x, "select"), agents, n, &e) < 0) {
		node_fail(x, "select: %s", e.msg);
		return -1;
	}
	if (data && node_call_data(x, data, &e) < 0) {
		free(*agents);
		*agents = NULL;
		node_fail(x, "%s", e.msg);
		return -1;
	}
	return 0;
}

struct agent_call *node_call_add(struct node_exec *x, const struct agent_spec *a,
				 const char *task, cJSON *data, size_t slot,
				 void (*done)(struct agent_call *c))
{
	struct agent_call *c = call_new(x, a, task, data, done);
	const cJSON *retries = node_opt(x, "retries");
	const cJSON *max = cJSON_GetObjectItemCaseSensitive(retries, "max");
	const cJSON *backoff = cJSON_GetObjectItemCaseSensitive(retries, "backoff_ms");
	c->slot = slot;
	/* the node's timeout, else the agent config's (http), else the agent's */
	const cJSON *ct = cJSON_GetObjectItemCaseSensitive(a->config, "timeout_ms");
	int64_t agent_t = cJSON_IsNumber(ct) && ct->valuedouble >= 1 ? (int64_t)ct->valuedouble
		: a->timeout_ms > 0 ? a->timeout_ms : 30000;
	c->timeout_ms = node_opt_int(x, "timeout_ms", agent_t);
	if (cJSON_IsNumber(max))
		c->max_retries = (int)max->valuedouble;
	if (cJSON_IsNumber(backoff))
		c->backoff_ms = (int64_t)backoff->valuedouble;
	if (x->call_count == x->call_cap) {
		x->call_cap = x->call_cap ? 2 * x->call_cap : 8;
		x->calls = xrealloc(x->calls, x->call_cap * sizeof(*x->calls));
	}
	x->calls[x->call_count++] = c;
	return c;
}

/* Cancel every unfinished call of x; returns how many were stopped. */
int node_calls_cancel(struct node_exec *x)
{
	int n = 0;
	for (size_t i = 0; i < x->call_count; i++) {
		struct agent_call *c = x->calls[i];
		if (c->state == CALL_DONE || c->state == CALL_CANCELLED)
			continue;
		call_cancel(c);
		n++;
	}
	return n;
}

const struct agent_spec *node_agent_find(const struct run *r, const char *id_or_name)
{
	for (size_t i = 0; id_or_name && i < r->agent_count; i++)
		if (!strcmp(r->agents[i].id, id_or_name) || !strcmp(r->agents[i].name, id_or_name))
			return &r->agents[i];
	return NULL;
}
