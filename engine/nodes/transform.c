/*
 * Node type "transform": its description for the builder's palette, the schema of
 * its options, its output ports and the options that hold jq expressions
 * (SPEC.md §3). Execution is added by the executor.
 */
#include <stddef.h>

#include "engine/engine.h"
#include "engine/nodes/nodes_internal.h"

static const char schema[] =
	"{\"type\":\"object\",\"properties\":{\"value\":{\"type\":\"string\",\"format\":\"jq\",\"maxLength\":65536,"
	"\"description\":\"jq over the context: the new value.\"},\"confidence\":{\"type\":\"string\","
	"\"format\":\"jq\",\"maxLength\":65536,\"description\":\"jq over the context: the new confidence,"
	" a number in [0, 1].\"}},\"additionalProperties\":false}";

static const char *const ports[] = { "out", NULL };
static const char *const expr_keys[] = { "value", "confidence", NULL };

const struct node_type node_transform = {
	.name = "transform",
	.description = "Computes a new value and/or confidence with jq.",
	.options_schema = schema,
	.ports = ports,
	.expr_keys = expr_keys,
	.takes_input = 1,
};
