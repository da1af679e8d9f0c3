/*
 * Node type "reduce": its description for the builder's palette, the schema of
 * its options, its output ports and the options that hold jq expressions
 * (SPEC.md §3). Execution is added by the executor.
 */
#include <stddef.h>

#include "engine/engine.h"
#include "engine/nodes/nodes_internal.h"

static const char schema[] =
	"{\"type\":\"object\",\"properties\":{\"mode\":{\"type\":\"string\",\"enum\":[\"concat\",\"merge\","
	"\"mean\",\"expr\"],\"default\":\"concat\",\"description\":\"How results are combined.\"},\"expr\":{"
	"\"type\":\"string\",\"format\":\"jq\",\"maxLength\":65536,\"description\":\"jq over the list of results,"
	" for mode expr.\"},\"min_confidence\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1,\"description\":\"Results below this count as unsuccessful.\","
	"\"default\":0.7}},\"additionalProperties\":false}";

static const char *const ports[] = { "out", NULL };
static const char *const expr_keys[] = { "expr", NULL };

const struct node_type node_reduce = {
	.name = "reduce",
	.description = "Combines the results of a map: concatenation, object merge, mean confidence or a jq expression.",
	.options_schema = schema,
	.ports = ports,
	.expr_keys = expr_keys,
	.takes_input = 1,
};
