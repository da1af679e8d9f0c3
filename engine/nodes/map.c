/*
 * Node type "map": its description for the builder's palette, the schema of
 * its options, its output ports and the options that hold jq expressions
 * (SPEC.md §3). Execution is added by the executor.
 */
#include <stddef.h>

#include "engine/engine.h"
#include "engine/nodes/nodes_internal.h"

static const char schema[] =
	"{\"type\":\"object\",\"properties\":{\"items\":{\"type\":\"string\",\"format\":\"jq\",\"maxLength\":65536,"
	"\"description\":\"jq over the context giving the list to map over.\"},\"select\":{\"type\":\"object\","
	"\"description\":\"Which agents to call.\",\"properties\":{\"capabilities\":{\"type\":\"array\","
	"\"maxItems\":100,\"items\":{\"type\":\"string\",\"maxLength\":64},\"description\":\"Capabilities every selected agent must have.\"},"
	"\"ids\":{\"type\":\"array\",\"maxItems\":100,\"items\":{\"type\":\"string\",\"maxLength\":128},\"description\":\"Agent ids or names,"
	" in result order.\"},\"min\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"description\":\"Fewest agents; fewer available is an error.\","
	"\"default\":1},\"max\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"description\":\"Most agents to call.\"},"
	"\"strategy\":{\"type\":\"string\",\"enum\":[\"all\",\"round_robin\",\"least_loaded\",\"best_confidence\"],"
	"\"default\":\"all\",\"description\":\"How to pick among the matching agents.\"}}},\"task\":{"
	"\"type\":\"string\",\"maxLength\":100000,\"description\":\"The task sent to each agent.\"},"
	"\"data\":{\"type\":\"string\",\"format\":\"jq\",\"maxLength\":65536,\"description\":\"jq over {"
	"item, index, context}: the data for one item.\"},\"pattern\":{\"type\":\"string\",\"maxLength\":64,"
	"\"description\":\"A pattern to run per item instead of an agent call.\"},\"max_parallel\":{"
	"\"type\":\"integer\",\"minimum\":1,\"maximum\":1000,\"description\":\"Items in flight at once.\","
	"\"default\":10},\"max_items\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10000,\"description\":\"Most items accepted.\","
	"\"default\":1000},\"timeout_ms\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":3600000,\"description\":\"Time limit for one call,"
	" in milliseconds.\",\"default\":30000}},\"required\":[\"items\"],\"additionalProperties\":false}";

static const char *const ports[] = { "out", NULL };
static const char *const expr_keys[] = { "items", "data", NULL };

const struct node_type node_map = {
	.name = "map",
	.description = "Runs an agent call or a pattern once per item of a list expression.",
	.options_schema = schema,
	.ports = ports,
	.expr_keys = expr_keys,
	.takes_input = 1,
};
