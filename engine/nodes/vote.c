/*
 * Node type "vote": its description for the builder's palette, the schema of
 * its options, its output ports and the options that hold jq expressions
 * (SPEC.md §3). Execution is added by the executor.
 */
#include <stddef.h>

#include "engine/engine.h"
#include "engine/nodes/nodes_internal.h"

static const char schema[] =
	"{\"type\":\"object\",\"properties\":{\"key\":{\"type\":\"string\",\"format\":\"jq\",\"maxLength\":65536,"
	"\"description\":\"jq over each result: the value voted for.\"},\"method\":{\"type\":\"string\","
	"\"enum\":[\"majority\",\"unanimous\",\"weighted\",\"plurality\"],\"default\":\"plurality\",\"description\":\"How the winner is decided.\"}},"
	"\"additionalProperties\":false}";

static const char *const ports[] = { "out", NULL };
static const char *const expr_keys[] = { "key", NULL };

const struct node_type node_vote = {
	.name = "vote",
	.description = "Majority, unanimous, weighted or plurality vote over a key expression; a true plurality, with ties reported.",
	.options_schema = schema,
	.ports = ports,
	.expr_keys = expr_keys,
	.takes_input = 1,
};
