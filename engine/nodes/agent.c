/*
 * Node type "agent": its description for the builder's palette, the schema of
 * its options, its output ports and the options that hold jq expressions
 * (SPEC.md §3).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/engine.h"
#include "engine/exec_internal.h"
#include "engine/nodes/nodes_internal.h"
#include "core/core.h"

static const char schema[] =
	"{\"type\":\"object\",\"properties\":{\"select\":{\"type\":\"object\",\"description\":\"Which agents to call.\","
	"\"properties\":{\"capabilities\":{\"type\":\"array\",\"maxItems\":100,\"items\":{\"type\":\"string\","
	"\"maxLength\":64},\"description\":\"Capabilities every selected agent must have.\"},\"ids\":{"
	"\"type\":\"array\",\"maxItems\":100,\"items\":{\"type\":\"string\",\"maxLength\":128},\"description\":\"Agent ids or names,"
	" in result order.\"},\"min\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"description\":\"Fewest agents; fewer available is an error.\","
	"\"default\":1},\"max\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"description\":\"Most agents to call.\"},"
	"\"strategy\":{\"type\":\"string\",\"enum\":[\"all\",\"round_robin\",\"least_loaded\",\"best_confidence\"],"
	"\"default\":\"all\",\"description\":\"How to pick among the matching agents.\"}}},\"task\":{"
	"\"type\":\"string\",\"maxLength\":100000,\"description\":\"The task sent to each agent.\"},"
	"\"data\":{\"type\":\"string\",\"format\":\"jq\",\"maxLength\":65536,\"description\":\"jq over the context: the data sent with the task.\"},"
	"\"timeout_ms\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":3600000,\"description\":\"Time limit for one call,"
	" in milliseconds.\",\"default\":30000},\"retries\":{\"type\":\"object\",\"description\":\"Retries after a failed call.\","
	"\"properties\":{\"max\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":10,\"description\":\"Retries after the first attempt.\","
	"\"default\":0},\"backoff_ms\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":600000,\"description\":\"Wait before each retry,"
	" doubled each time.\",\"default\":500}}},\"policy\":{\"type\":\"object\",\"description\":\"Confidence policy (SPEC §3).\","
	"\"properties\":{\"accept\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1,\"description\":\"At or above: accept.\","
	"\"default\":0.8},\"retry_below\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1,\"description\":\"Below: retry once with a critique.\","
	"\"default\":0.5},\"escalate_below\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1,\"description\":\"Below after the retry: escalate.\","
	"\"default\":0.3},\"escalate_to\":{\"type\":\"string\",\"maxLength\":128,\"description\":\"Node id or agent that handles escalations.\"}}}},"
	"\"required\":[\"select\",\"task\"],\"additionalProperties\":false}";

static const char *const ports[] = { "out", NULL };
static const char *const expr_keys[] = { "data", NULL };

/* Per selected agent: the result so far and where its policy stands. */
enum phase { PHASE_FIRST = 0, PHASE_RETRY, PHASE_ESCALATE, PHASE_FINAL };

struct slot {
	enum phase phase;
	cJSON *kept; /* the result kept so far */
	double kept_conf;
};

struct agent_state {
	struct slot *slots;
	size_t n, open;
	cJSON *data;
};

static void state_free(void *p)
{
	struct agent_state *s = p;
	for (size_t i = 0; i < s->n; i++)
		cJSON_Delete(s->slots[i].kept);
	free(s->slots);
	cJSON_Delete(s->data);
	free(s);
}

static void policy_event(struct node_exec *x, struct agent_call *c, const char *action, double conf)
{
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "agent", c->agent->name);
	cJSON_AddStringToObject(d, "action", action);
	if (conf == CONF_NONE)
		cJSON_AddNullToObject(d, "confidence");
	else
		cJSON_AddNumberToObject(d, "confidence", conf);
	run_event(x->run, "policy", x->id, d);
}

static void finish_if_done(struct node_exec *x)
{
	struct agent_state *s = x->priv;
	if (s->open)
		return;
	cJSON *out = cJSON_CreateArray();
	size_t failed = 0;
	const char *first_err = NULL;
	for (size_t i = 0; i < s->n; i++) {
		cJSON *r = s->slots[i].kept;
		s->slots[i].kept = NULL;
		if (result_failed(r)) {
			failed++;
			if (!first_err)
				first_err = cJSON_GetObjectItemCaseSensitive(r, "error")->valuestring;
		}
		cJSON_AddItemToArray(out, r);
	}
	if (failed == s->n) {
		char msg[400];
		snprintf(msg, sizeof(msg), "%s", first_err ? first_err : "no agent answered");
		cJSON_Delete(out);
		if (s->n > 1)
			node_fail(x, "all %zu agents failed; the first: %s", s->n, msg);
		else
			node_fail(x, "%s", msg);
		return;
	}
	node_done(x, out, NULL);
}

static void call_done(struct agent_call *c);

static void start_call(struct node_exec *x, const struct agent_spec *a, const char *task,
		       size_t slot)
{
	struct agent_state *s = x->priv;
	struct agent_call *c = node_call_add(x, a, task, cJSON_Duplicate(s->data, 1), slot,
					     call_done);
	call_start(c);
}

/* The confidence policy of SPEC §3 for slot c->slot after an answer. */
static void apply_policy(struct node_exec *x, struct agent_call *c, const cJSON *policy)
{
	struct agent_state *s = x->priv;
	struct slot *sl = &s->slots[c->slot];
	double accept = 0.8, retry_below = 0.5, escalate_below = 0.3;
	const cJSON *v;
	if ((v = cJSON_GetObjectItemCaseSensitive(policy, "accept")) && cJSON_IsNumber(v))
		accept = v->valuedouble;
	if ((v = cJSON_GetObjectItemCaseSensitive(policy, "retry_below")) && cJSON_IsNumber(v))
		retry_below = v->valuedouble;
	if ((v = cJSON_GetObjectItemCaseSensitive(policy, "escalate_below")) && cJSON_IsNumber(v))
		escalate_below = v->valuedouble;
	const cJSON *to = cJSON_GetObjectItemCaseSensitive(policy, "escalate_to");
	double conf = sl->kept_conf;

	if (conf == CONF_NONE) {
		policy_event(x, c, "no_signal", conf);
	} else if (sl->phase == PHASE_FIRST && conf >= escalate_below && conf < retry_below) {
		char task[1024];
		policy_event(x, c, "retry", conf);
		snprintf(task, sizeof(task),
			 "%.700s\n\nA previous answer to this task had confidence %.2f, below the "
			 "%.2f required. Re-examine the task and answer again, more carefully.",
			 c->task, conf, retry_below);
		sl->phase = PHASE_RETRY;
		start_call(x, c->agent, task, c->slot);
		return;
	} else if (conf < escalate_below) {
		const struct agent_spec *target =
			cJSON_IsString(to) ? node_agent_find(x->run, to->valuestring) : NULL;
		if (target) {
			policy_event(x, c, "escalate", conf);
			sl->phase = PHASE_ESCALATE;
			start_call(x, target, c->task, c->slot);
			return;
		}
		policy_event(x, c, "escalation_unrouted", conf);
	} else {
		policy_event(x, c, conf >= accept ? "accept" : "accept_with_warning", conf);
	}
	sl->phase = PHASE_FINAL;
	s->open--;
}

static void call_done(struct agent_call *c)
{
	struct node_exec *x = c->x;
	struct agent_state *s = x->priv;
	struct slot *sl = &s->slots[c->slot];
	const cJSON *policy = node_opt(x, "policy");
	cJSON *res = call_result(c);
	double conf = c->failed ? 0 : c->confidence;

	if (sl->phase == PHASE_RETRY) {
		/* keep the more confident attempt; ties keep the first */
		if (!c->failed && conf != CONF_NONE && conf > sl->kept_conf) {
			cJSON_Delete(sl->kept);
			sl->kept = res;
			sl->kept_conf = conf;
		} else {
			cJSON_Delete(res);
		}
	} else {
		cJSON_Delete(sl->kept);
		sl->kept = res;
		sl->kept_conf = conf;
	}
	if (sl->phase == PHASE_ESCALATE) {
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "agent", c->agent->name);
		cJSON_AddStringToObject(d, "action", "escalated");
		if (conf == CONF_NONE)
			cJSON_AddNullToObject(d, "confidence");
		else
			cJSON_AddNumberToObject(d, "confidence", conf);
		run_event(x->run, "policy", x->id, d);
		sl->phase = PHASE_FINAL;
		s->open--;
	} else if (!policy || (c->failed && sl->phase == PHASE_FIRST)) {
		sl->phase = PHASE_FINAL;
		s->open--;
	} else {
		apply_policy(x, c, policy);
	}
	finish_if_done(x);
}

static void execute(struct node_exec *x)
{
	const struct agent_spec **agents = NULL;
	size_t n = 0;
	cJSON *data = NULL;
	if (node_call_setup(x, &agents, &n, &data) < 0)
		return;
	struct agent_state *s = xcalloc(1, sizeof(*s));
	s->slots = xcalloc(n, sizeof(*s->slots));
	s->n = s->open = n;
	s->data = data;
	x->priv = s;
	x->priv_free = state_free;
	for (size_t i = 0; i < n; i++)
		start_call(x, agents[i], node_opt_str(x, "task", ""), i);
	free(agents);
}

const struct node_type node_agent = {
	.name = "agent",
	.description = "Calls the selected agents with a task and data. Results keep a stable order; a confidence policy can retry or escalate weak answers.",
	.options_schema = schema,
	.ports = ports,
	.expr_keys = expr_keys,
	.execute = execute,
	.takes_input = 1,
};
