/*
 * Node type "condition": its description for the builder's palette, the schema of
 * its options, its output ports and the options that hold jq expressions
 * (SPEC.md §3).
 */
#include <stddef.h>

#include "engine/engine.h"
#include "engine/exec_internal.h"
#include "engine/nodes/nodes_internal.h"

static const char schema[] =
	"{\"type\":\"object\",\"properties\":{\"expr\":{\"type\":\"string\",\"format\":\"jq\",\"maxLength\":65536,"
	"\"description\":\"jq over the context; truthy takes the true branch.\"}},\"required\":[\"expr\"],"
	"\"additionalProperties\":false}";

static const char *const ports[] = { "true", "false", NULL };
static const char *const expr_keys[] = { "expr", NULL };

static void execute(struct node_exec *x)
{
	struct err e;
	cJSON *v = NULL;
	if (node_expr(x, "expr", &v, &e) < 0) {
		node_fail(x, "%s", e.msg);
		return;
	}
	int t = expr_truthy(v);
	cJSON_Delete(v);
	node_done(x, node_passthrough(x, CONF_NONE), t ? "true" : "false");
}

const struct node_type node_condition = {
	.name = "condition",
	.description = "Evaluates a jq boolean over the context and takes the true or false branch.",
	.options_schema = schema,
	.ports = ports,
	.expr_keys = expr_keys,
	.execute = execute,
	.takes_input = 1,
};
