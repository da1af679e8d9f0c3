/*
 * Node type "route": its description for the builder's palette, the schema of
 * its options, its output ports and the options that hold jq expressions
 * (SPEC.md §3).
 */
#include <stddef.h>

#include "engine/engine.h"
#include "engine/exec_internal.h"
#include "engine/nodes/nodes_internal.h"

static const char schema[] =
	"{\"type\":\"object\",\"properties\":{\"high\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1,\"description\":\"Lower bound of the high band.\","
	"\"default\":0.8},\"medium\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1,\"description\":\"Lower bound of the medium band.\","
	"\"default\":0.5},\"confidence\":{\"type\":\"string\",\"format\":\"jq\",\"maxLength\":65536,\"description\":\"jq over the context giving the confidence to route on; default: the input's.\"}},"
	"\"additionalProperties\":false}";

static const char *const ports[] = { "high", "medium", "low", NULL };
static const char *const expr_keys[] = { "confidence", NULL };

static void execute(struct node_exec *x)
{
	static const char *const names[] = { "low", "medium", "high" };
	struct err e;
	cJSON *v = NULL;
	double c;
	if (node_expr(x, "confidence", &v, &e) < 0) {
		node_fail(x, "%s", e.msg);
		return;
	}
	if (v && !cJSON_IsNumber(v)) {
		cJSON_Delete(v);
		node_fail(x, "confidence: the expression must give a number");
		return;
	}
	c = v ? conf_from_value(v->valuedouble) : node_input_confidence(x);
	cJSON_Delete(v);
	if (c == CONF_NONE)
		c = 0;
	enum band b = conf_band(c, node_opt_num(x, "high", CONF_HIGH_DEFAULT),
				node_opt_num(x, "medium", CONF_MEDIUM_DEFAULT));
	cJSON *out = node_passthrough(x, CONF_NONE);
	cJSON_AddStringToObject(out, "band", names[b]);
	node_done(x, out, names[b]);
}

const struct node_type node_route = {
	.name = "route",
	.description = "Routes on confidence bands: high (at least 0.8), medium (at least 0.5), else low; one branch each.",
	.options_schema = schema,
	.ports = ports,
	.expr_keys = expr_keys,
	.execute = execute,
	.takes_input = 1,
};
