/*
 * Node type "cascade": its description for the builder's palette, the schema of
 * its options, its output ports and the options that hold jq expressions
 * (SPEC.md §3). Execution is added by the executor.
 */
#include <stddef.h>

#include "engine/engine.h"
#include "engine/nodes/nodes_internal.h"

static const char schema[] =
	"{\"type\":\"object\",\"properties\":{\"select\":{\"type\":\"object\",\"description\":\"Which agents to call.\","
	"\"properties\":{\"capabilities\":{\"type\":\"array\",\"maxItems\":100,\"items\":{\"type\":\"string\","
	"\"maxLength\":64},\"description\":\"Capabilities every selected agent must have.\"},\"ids\":{"
	"\"type\":\"array\",\"maxItems\":100,\"items\":{\"type\":\"string\",\"maxLength\":128},\"description\":\"Agent ids or names,"
	" in result order.\"},\"min\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"description\":\"Fewest agents; fewer available is an error.\","
	"\"default\":1},\"max\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"description\":\"Most agents to call.\"},"
	"\"strategy\":{\"type\":\"string\",\"enum\":[\"all\",\"round_robin\",\"least_loaded\",\"best_confidence\"],"
	"\"default\":\"all\",\"description\":\"How to pick among the matching agents.\"}}},\"tiers\":{"
	"\"type\":\"array\",\"maxItems\":20,\"description\":\"Tiers tried in order; each selects agents.\","
	"\"items\":{\"type\":\"object\",\"description\":\"Which agents to call.\",\"properties\":{\"capabilities\":{"
	"\"type\":\"array\",\"maxItems\":100,\"items\":{\"type\":\"string\",\"maxLength\":64},\"description\":\"Capabilities every selected agent must have.\"},"
	"\"ids\":{\"type\":\"array\",\"maxItems\":100,\"items\":{\"type\":\"string\",\"maxLength\":128},\"description\":\"Agent ids or names,"
	" in result order.\"},\"min\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"description\":\"Fewest agents; fewer available is an error.\","
	"\"default\":1},\"max\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"description\":\"Most agents to call.\"},"
	"\"strategy\":{\"type\":\"string\",\"enum\":[\"all\",\"round_robin\",\"least_loaded\",\"best_confidence\"],"
	"\"default\":\"all\",\"description\":\"How to pick among the matching agents.\"}}}},\"task\":{"
	"\"type\":\"string\",\"maxLength\":100000,\"description\":\"The task sent to each agent.\"},"
	"\"data\":{\"type\":\"string\",\"format\":\"jq\",\"maxLength\":65536,\"description\":\"jq over the context: the data sent with the task.\"},"
	"\"target\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1,\"description\":\"Stop at the first result with confidence at or above this.\","
	"\"default\":0.8},\"timeout_ms\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":3600000,\"description\":\"Time limit for one call,"
	" in milliseconds.\",\"default\":30000}},\"required\":[\"task\"],\"additionalProperties\":false}";

static const char *const ports[] = { "out", NULL };
static const char *const expr_keys[] = { "data", NULL };

const struct node_type node_cascade = {
	.name = "cascade",
	.description = "Calls agents or tiers in order until a result reaches the target confidence; outputs the best result seen.",
	.options_schema = schema,
	.ports = ports,
	.expr_keys = expr_keys,
	.takes_input = 1,
};
