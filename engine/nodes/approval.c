/*
 * Node type "approval": its description for the builder's palette, the schema of
 * its options, its output ports and the options that hold jq expressions
 * (SPEC.md §3). Execution is added by the executor.
 */
#include <stddef.h>

#include "engine/engine.h"
#include "engine/nodes/nodes_internal.h"

static const char schema[] =
	"{\"type\":\"object\",\"properties\":{\"message\":{\"type\":\"string\",\"maxLength\":10000,\"description\":\"Shown to the operator.\"},"
	"\"timeout_ms\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":2592000000,\"description\":\"How long to wait; absent: no limit.\"},"
	"\"on_timeout\":{\"type\":\"string\",\"enum\":[\"reject\",\"approve\"],\"default\":\"reject\",\"description\":\"The decision when the wait times out.\"}},"
	"\"additionalProperties\":false}";

static const char *const ports[] = { "out", NULL };
static const char *const expr_keys[] = { NULL };

const struct node_type node_approval = {
	.name = "approval",
	.description = "A human gate: the execution waits until an operator approves or rejects it, with an optional timeout.",
	.options_schema = schema,
	.ports = ports,
	.expr_keys = expr_keys,
	.takes_input = 1,
};
