/*
 * Node type "gate": its description for the builder's palette, the schema of
 * its options, its output ports and the options that hold jq expressions
 * (SPEC.md §3).
 */
#include <stddef.h>

#include "engine/engine.h"
#include "engine/exec_internal.h"
#include "engine/nodes/nodes_internal.h"

static const char schema[] =
	"{\"type\":\"object\",\"properties\":{\"min\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1,\"description\":\"Confidence needed to pass.\"}},"
	"\"required\":[\"min\"],\"additionalProperties\":false}";

static const char *const ports[] = { "pass", "fail", NULL };
static const char *const expr_keys[] = { NULL };

static void execute(struct node_exec *x)
{
	double c = node_input_confidence(x);
	double min = node_opt_num(x, "min", CONF_MEDIUM_DEFAULT);
	if (c >= min)
		node_done(x, node_passthrough(x, CONF_NONE), "pass");
	else
		node_done(x, node_passthrough(x, 0), "fail");
}

const struct node_type node_gate = {
	.name = "gate",
	.description = "A quality gate: the pass branch runs when confidence is at least min, the fail branch otherwise.",
	.options_schema = schema,
	.ports = ports,
	.expr_keys = expr_keys,
	.execute = execute,
	.takes_input = 1,
};
