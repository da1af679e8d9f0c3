/*
 * Node type "gate": its description for the builder's palette, the schema of
 * its options, its output ports and the options that hold jq expressions
 * (SPEC.md §3). Execution is added by the executor.
 */
#include <stddef.h>

#include "engine/engine.h"
#include "engine/nodes/nodes_internal.h"

static const char schema[] =
	"{\"type\":\"object\",\"properties\":{\"min\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1,\"description\":\"Confidence needed to pass.\"}},"
	"\"required\":[\"min\"],\"additionalProperties\":false}";

static const char *const ports[] = { "pass", "fail", NULL };
static const char *const expr_keys[] = { NULL };

const struct node_type node_gate = {
	.name = "gate",
	.description = "A quality gate: the pass branch runs when confidence is at least min, the fail branch otherwise.",
	.options_schema = schema,
	.ports = ports,
	.expr_keys = expr_keys,
	.takes_input = 1,
};
