/*
 * Node type "best": its description for the builder's palette, the schema of
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
	cJSON *list = node_results(x);
	const cJSON *best = results_best(list);
	cJSON *out = best ? cJSON_Duplicate(best, 1) : NULL;
	cJSON_Delete(list);
	if (!out) {
		node_fail(x, "no successful result to choose from");
		return;
	}
	node_done(x, out, NULL);
}

const struct node_type node_best = {
	.name = "best",
	.description = "Passes on the input with the highest confidence; ties go to the first.",
	.options_schema = schema,
	.ports = ports,
	.expr_keys = expr_keys,
	.execute = execute,
	.takes_input = 1,
};
