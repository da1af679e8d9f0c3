/*
 * Node type "cascade": its description for the builder's palette, the schema of
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
	"\"default\":\"all\",\"description\":\"How to pick among the matching agents.\"}}},\"tiers\":{"
	"\"type\":\"array\",\"maxItems\":20,\"description\":\"Tiers tried in order; each selects agents.\","
	"\"items\":{\"type\":\"object\",\"description\":\"Which agents to call.\",\"properties\":{\"capabilities\":{"
	"\"type\":\"array\",\"maxItems\":100,\"items\":{\"type\":\"string\",\"maxLength\":64},\"description\":\"Capabilities every selected agent must have.\"},"
	"\"ids\":{\"type\":\"array\",\"maxItems\":100,\"items\":{\"type\":\"string\",\"maxLength\":128},\"description\":\"Agent ids or names,"
	" in result order.\"},\"min\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"description\":\"Fewest agents; fewer available is an error.\","
	"\"default\":1},\"max\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"description\":\"Most agents to call.\"},"
	"\"strategy\":{\"type\":\"string\",\"enum\":[\"all\",\"round_robin\",\"least_loaded\",\"best_confidence\"],"
	"\"default\":\"all\",\"description\":\"How to pick among the matching agents.\"}}}},\"task\":{"
	"\"type\":\"string\",\"maxLength\":100000,\"description\":\"The task sent to each agent.\"},"
	"\"data\":{\"type\":\"string\",\"format\":\"jq\",\"maxLength\":65536,\"description\":\"jq over the context: the data sent with the task.\"},"
	"\"target\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1,\"description\":\"Stop at the first result with confidence at or above this.\","
	"\"default\":0.8},\"target_expr\":{\"type\":\"string\",\"format\":\"jq\",\"maxLength\":65536,"
	"\"description\":\"jq over the context giving the target; overrides target.\"},\"timeout_ms\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":3600000,\"description\":\"Time limit for one call,"
	" in milliseconds.\",\"default\":30000}},\"required\":[\"task\"],\"additionalProperties\":false}";

static const char *const ports[] = { "out", NULL };
static const char *const expr_keys[] = { "data", "target_expr", NULL };

struct cascade_state {
	cJSON *attempts; /* every result, in order */
	cJSON *best;     /* borrowed from attempts */
	double best_conf, target;
	size_t tier, tiers, open;
	cJSON *data;
	const struct agent_spec **one_by_one; /* select's agents when there are no tiers */
};

static void cascade_free(void *p)
{
	struct cascade_state *s = p;
	cJSON_Delete(s->attempts);
	cJSON_Delete(s->data);
	free(s->one_by_one);
	free(s);
}

static void cascade_done(struct agent_call *c);

static void cascade_end(struct node_exec *x, int reached)
{
	struct cascade_state *s = x->priv;
	if (!s->best) {
		node_fail(x, "every agent of the cascade failed");
		return;
	}
	cJSON *out = cJSON_Duplicate(s->best, 1);
	cJSON_AddBoolToObject(out, "reached", reached);
	cJSON_AddNumberToObject(out, "target", s->target);
	cJSON_AddItemToObject(out, "attempts", cJSON_Duplicate(s->attempts, 1));
	node_done(x, out, NULL);
}

/* Start tier s->tier; 0, or the run failed. */
static void cascade_next(struct node_exec *x)
{
	struct cascade_state *s = x->priv;
	const struct agent_spec **agents = NULL;
	size_t n = 0;
	struct err e;
	if (s->tier >= s->tiers) {
		cascade_end(x, 0);
		return;
	}
	const cJSON *tiers = node_opt(x, "tiers");
	if (tiers) {
		if (select_agents(x->run, cJSON_GetArrayItem(tiers, (int)s->tier), &agents, &n,
				  &e) < 0) {
			node_fail(x, "tiers[%zu]: %s", s->tier, e.msg);
			return;
		}
	} else {
		agents = xcalloc(1, sizeof(*agents));
		agents[0] = s->one_by_one[s->tier];
		n = 1;
	}
	s->open = n;
	for (size_t i = 0; i < n; i++)
		call_start(node_call_add(x, agents[i], node_opt_str(x, "task", ""),
					 cJSON_Duplicate(s->data, 1), i, cascade_done));
	free(agents);
}

static void cascade_done(struct agent_call *c)
{
	struct node_exec *x = c->x;
	struct cascade_state *s = x->priv;
	cJSON *r = call_result(c);
	cJSON_AddNumberToObject(r, "tier", (double)s->tier);
	cJSON_AddItemToArray(s->attempts, r);
	if (!c->failed) {
		double conf = c->confidence == CONF_NONE ? 0 : c->confidence;
		if (!s->best || conf > s->best_conf) {
			s->best = r;
			s->best_conf = conf;
		}
	}
	if (--s->open)
		return;
	if (s->best && s->best_conf >= s->target) {
		cascade_end(x, 1);
		return;
	}
	s->tier++;
	cascade_next(x);
}

static void execute(struct node_exec *x)
{
	struct err e;
	cJSON *t = NULL;
	struct cascade_state *s = xcalloc(1, sizeof(*s));
	x->priv = s;
	x->priv_free = cascade_free;
	s->attempts = cJSON_CreateArray();
	s->target = node_opt_num(x, "target", CONF_HIGH_DEFAULT);
	if (node_expr(x, "target_expr", &t, &e) < 0) {
		node_fail(x, "%s", e.msg);
		return;
	}
	if (t && !cJSON_IsNull(t)) {
		if (!cJSON_IsNumber(t)) {
			cJSON_Delete(t);
			node_fail(x, "target_expr: the expression must give a number");
			return;
		}
		s->target = conf_from_value(t->valuedouble);
	}
	cJSON_Delete(t);
	if (node_call_data(x, &s->data, &e) < 0) {
		node_fail(x, "%s", e.msg);
		return;
	}
	const cJSON *tiers = node_opt(x, "tiers");
	if (tiers) {
		s->tiers = (size_t)cJSON_GetArraySize(tiers);
	} else if (select_agents(x->run, node_opt(x, "select"), &s->one_by_one, &s->tiers,
				 &e) < 0) {
		node_fail(x, "select: %s", e.msg);
		return;
	}
	cascade_next(x);
}

const struct node_type node_cascade = {
	.name = "cascade",
	.description = "Calls agents or tiers in order until a result reaches the target confidence; outputs the best result seen.",
	.options_schema = schema,
	.ports = ports,
	.expr_keys = expr_keys,
	.execute = execute,
	.takes_input = 1,
};
