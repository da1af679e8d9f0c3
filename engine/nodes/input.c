/*
 * Node type "input": its description for the builder's palette, the schema of
 * its options, its output ports and the options that hold jq expressions
 * (SPEC.md §3).
 */
#include <stddef.h>

#include "engine/engine.h"
#include "engine/exec_internal.h"
#include "engine/nodes/nodes_internal.h"

static const char schema[] =
	"{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}";

static const char *const ports[] = { "out", NULL };
static const char *const expr_keys[] = { NULL };

static void execute(struct node_exec *x)
{
	const cJSON *in = cJSON_GetObjectItemCaseSensitive(x->run->ctx, "input");
	node_done(x, result_new(in ? cJSON_Duplicate(in, 1) : NULL, 1.0), NULL);
}

const struct node_type node_input = {
	.name = "input",
	.description = "The execution's input, validated against the pattern's input schema. Every pattern has exactly one.",
	.options_schema = schema,
	.ports = ports,
	.expr_keys = expr_keys,
	.execute = execute,
	.takes_input = 0,
};
