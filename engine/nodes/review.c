/*
 * Node type "review": its description for the builder's palette, the schema of
 * its options, its output ports and the options that hold jq expressions
 * (SPEC.md §3).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

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
	"\"criteria\":{\"type\":\"string\",\"maxLength\":10000,\"description\":\"What the reviewer checks.\"},"
	"\"timeout_ms\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":3600000,\"description\":\"Time limit for one call,"
	" in milliseconds.\",\"default\":30000}},\"required\":[\"select\"],\"additionalProperties\":false}";

static const char *const ports[] = { "out", NULL };
static const char *const expr_keys[] = { "data", NULL };

static void review_done(struct agent_call *c)
{
	struct node_exec *x = c->x;
	const char *verdict = NULL, *feedback = NULL;
	double stated = CONF_NONE;
	static const char *const names[] = { "approve", "revise", "reject" };
	if (c->failed) {
		node_fail(x, "%s", c->error);
		return;
	}
	if (cJSON_IsObject(c->value)) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->value, "verdict");
		const cJSON *cf = cJSON_GetObjectItemCaseSensitive(c->value, "confidence");
		const cJSON *fb = cJSON_GetObjectItemCaseSensitive(c->value, "feedback");
		verdict = cJSON_IsString(v) ? v->valuestring : NULL;
		if (cJSON_IsNumber(cf))
			stated = conf_from_value(cf->valuedouble);
		feedback = cJSON_IsString(fb) ? fb->valuestring : NULL;
	} else if (cJSON_IsString(c->value)) {
		const char *t = c->value->valuestring, *best = NULL;
		for (size_t i = 0; i < 3; i++) {
			const char *hit = strcasestr(t, names[i]);
			if (hit && (!best || hit < best)) {
				best = hit;
				verdict = names[i];
			}
		}
		feedback = t;
	}
	if (stated == CONF_NONE)
		stated = c->confidence;
	int vi = -1;
	for (int i = 0; verdict && i < 3; i++)
		if (str_eq_nocase(verdict, names[i]))
			vi = i;
	if (vi < 0) {
		node_fail(x, "reviewer '%s' gave no verdict (approve, revise or reject)",
			  c->agent->name);
		return;
	}
	const cJSON *in = node_input_result(x);
	const cJSON *val = in ? cJSON_GetObjectItemCaseSensitive(in, "value") : NULL;
	cJSON *out = result_new(val ? cJSON_Duplicate(val, 1) : NULL,
				conf_review((enum review_verdict)vi, stated));
	cJSON_AddStringToObject(out, "verdict", names[vi]);
	if (feedback)
		cJSON_AddStringToObject(out, "feedback", feedback);
	else
		cJSON_AddNullToObject(out, "feedback");
	cJSON_AddStringToObject(out, "reviewer", c->agent->name);
	node_done(x, out, NULL);
}

static void execute(struct node_exec *x)
{
	const struct agent_spec **agents = NULL;
	size_t n = 0;
	struct err e;
	cJSON *data = NULL;
	if (node_call_setup(x, &agents, &n, NULL) < 0)
		return;
	if (node_opt(x, "data")) {
		if (node_call_data(x, &data, &e) < 0) {
			free(agents);
			node_fail(x, "%s", e.msg);
			return;
		}
	} else {
		const cJSON *in = node_input_result(x);
		data = cJSON_CreateObject();
		const cJSON *v = in ? cJSON_GetObjectItemCaseSensitive(in, "value") : NULL;
		cJSON_AddItemToObject(data, "result", v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
		double ic = in ? result_confidence(in) : CONF_NONE;
		if (ic == CONF_NONE)
			cJSON_AddNullToObject(data, "confidence");
		else
			cJSON_AddNumberToObject(data, "confidence", ic);
	}
	const char *criteria = node_opt_str(x, "criteria", NULL);
	if (criteria && cJSON_IsObject(data))
		cJSON_AddStringToObject(data, "criteria", criteria);
	struct buf task;
	buf_init(&task);
	buf_adds(&task, node_opt_str(x, "task", "Review this result."));
	buf_adds(&task, " Answer with {\"verdict\": \"approve\" | \"revise\" | \"reject\", "
			"\"confidence\": 0..1, \"feedback\": \"...\"}.");
	call_start(node_call_add(x, agents[0], task.p, data, 0, review_done));
	buf_release(&task);
	free(agents);
}

const struct node_type node_review = {
	.name = "review",
	.description = "A reviewer agent judges an upstream result: approve, revise or reject, which caps its confidence.",
	.options_schema = schema,
	.ports = ports,
	.expr_keys = expr_keys,
	.execute = execute,
	.takes_input = 1,
};
