/*
 * Node type "condition": its description for the builder's palette, the schema of
 * its options, its output ports and the options that hold jq expressions
 * (SPEC.md §3). Execution is added by the executor.
 */
#include <stddef.h>

#include "engine/engine.h"
#include "engine/nodes/nodes_internal.h"

static const char schema[] =
	"{\"type\":\"object\",\"properties\":{\"expr\":{\"type\":\"string\",\"format\":\"jq\",\"maxLength\":65536,"
	"\"description\":\"jq over the context; truthy takes the true branch.\"}},\"required\":[\"expr\"],"
	"\"additionalProperties\":false}";

static const char *const ports[] = { "true", "false", NULL };
static const char *const expr_keys[] = { "expr", NULL };

const struct node_type node_condition = {
	.name = "condition",
	.description = "Evaluates a jq boolean over the context and takes the true or false branch.",
	.options_schema = schema,
	.ports = ports,
	.expr_keys = expr_keys,
	.takes_input = 1,
};
