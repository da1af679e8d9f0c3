/*
 * Node type "route": its description for the builder's palette, the schema of
 * its options, its output ports and the options that hold jq expressions
 * (SPEC.md §3). Execution is added by the executor.
 */
#include <stddef.h>

#include "engine/engine.h"
#include "engine/nodes/nodes_internal.h"

static const char schema[] =
	"{\"type\":\"object\",\"properties\":{\"high\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1,\"description\":\"Lower bound of the high band.\","
	"\"default\":0.8},\"medium\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1,\"description\":\"Lower bound of the medium band.\","
	"\"default\":0.5},\"confidence\":{\"type\":\"string\",\"format\":\"jq\",\"maxLength\":65536,\"description\":\"jq over the context giving the confidence to route on; default: the input's.\"}},"
	"\"additionalProperties\":false}";

static const char *const ports[] = { "high", "medium", "low", NULL };
static const char *const expr_keys[] = { "confidence", NULL };

const struct node_type node_route = {
	.name = "route",
	.description = "Routes on confidence bands: high (at least 0.8), medium (at least 0.5), else low; one branch each.",
	.options_schema = schema,
	.ports = ports,
	.expr_keys = expr_keys,
	.takes_input = 1,
};
