/*
 * Node type "race": its description for the builder's palette, the schema of
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
	"\"threshold\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1,\"description\":\"Confidence a result needs to win; absent: the first success wins.\"},"
	"\"timeout_ms\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":3600000,\"description\":\"Time limit for one call,"
	" in milliseconds.\",\"default\":30000}},\"required\":[\"select\",\"task\"],\"additionalProperties\":false}";

static const char *const ports[] = { "out", NULL };
static const char *const expr_keys[] = { "data", NULL };

struct race_state {
	size_t open;
	int decided;
	cJSON *first_ok; /* the first success below the threshold */
	const char *first_err;
	char err[300];
};

static void race_free(void *p)
{
	struct race_state *s = p;
	cJSON_Delete(s->first_ok);
	free(s);
}

static void race_win(struct node_exec *x, cJSON *winner)
{
	struct race_state *s = x->priv;
	s->decided = 1;
	int stopped = node_calls_cancel(x);
	cJSON_AddNumberToObject(winner, "cancelled", stopped);
	node_done(x, winner, NULL);
}

static void race_done(struct agent_call *c)
{
	struct node_exec *x = c->x;
	struct race_state *s = x->priv;
	const cJSON *th = node_opt(x, "threshold");
	s->open--;
	if (s->decided)
		return;
	if (!c->failed) {
		double conf = c->confidence == CONF_NONE ? conf_of_plain() : c->confidence;
		if (!cJSON_IsNumber(th) || conf >= th->valuedouble) {
			race_win(x, call_result(c));
			return;
		}
		if (!s->first_ok)
			s->first_ok = call_result(c);
	} else if (!s->err[0]) {
		str_copy(s->err, sizeof(s->err), c->error);
	}
	if (s->open)
		return;
	if (s->first_ok) {
		cJSON *w = s->first_ok;
		s->first_ok = NULL;
		race_win(x, w);
		return;
	}
	node_fail(x, "every agent in the race failed; the first: %s", s->err);
}

static void execute(struct node_exec *x)
{
	const struct agent_spec **agents = NULL;
	size_t n = 0;
	cJSON *data = NULL;
	if (node_call_setup(x, &agents, &n, &data) < 0)
		return;
	struct race_state *s = xcalloc(1, sizeof(*s));
	s->open = n;
	x->priv = s;
	x->priv_free = race_free;
	for (size_t i = 0; i < n; i++) {
		struct agent_call *c = node_call_add(x, agents[i], node_opt_str(x, "task", ""),
						     cJSON_Duplicate(data, 1), i, race_done);
		call_start(c);
	}
	cJSON_Delete(data);
	free(agents);
}

const struct node_type node_race = {
	.name = "race",
	.description = "Calls several agents at once; the first result at or above the threshold (or the first success) wins and the others are cancelled.",
	.options_schema = schema,
	.ports = ports,
	.expr_keys = expr_keys,
	.execute = execute,
	.takes_input = 1,
};
