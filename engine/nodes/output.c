/*
 * Node type "output": its description for the builder's palette, the schema of
 * its options, its output ports and the options that hold jq expressions
 * (SPEC.md §3). Execution is added by the executor.
 */
#include <stddef.h>

#include "engine/engine.h"
#include "engine/nodes/nodes_internal.h"

static const char schema[] =
	"{\"type\":\"object\",\"properties\":{\"value\":{\"type\":\"string\",\"format\":\"jq\",\"maxLength\":65536,"
	"\"description\":\"jq over the context: the final value; default: the inputs' values.\"},"
	"\"confidence\":{\"type\":\"string\",\"enum\":[\"mean\",\"min\",\"max\",\"weighted\",\"product\",\"expr\"],"
	"\"default\":\"mean\",\"description\":\"How the final confidence is computed.\"},\"expr\":{"
	"\"type\":\"string\",\"format\":\"jq\",\"maxLength\":65536,\"description\":\"jq over the context for confidence expr.\"}},"
	"\"additionalProperties\":false}";

static const char *const ports[] = { "out", NULL };
static const char *const expr_keys[] = { "value", "expr", NULL };

const struct node_type node_output = {
	.name = "output",
	.description = "The pattern's final value and confidence; confidence is the mean, min, max, weighted mean or product of its inputs', or a jq expression.",
	.options_schema = schema,
	.ports = ports,
	.expr_keys = expr_keys,
	.takes_input = 1,
};
