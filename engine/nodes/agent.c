/*
 * Node type "agent": its description for the builder's palette, the schema of
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
	"\"default\":\"all\",\"description\":\"How to pick among the matching agents.\"}}},\"task\":{"
	"\"type\":\"string\",\"maxLength\":100000,\"description\":\"The task sent to each agent.\"},"
	"\"data\":{\"type\":\"string\",\"format\":\"jq\",\"maxLength\":65536,\"description\":\"jq over the context: the data sent with the task.\"},"
	"\"timeout_ms\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":3600000,\"description\":\"Time limit for one call,"
	" in milliseconds.\",\"default\":30000},\"retries\":{\"type\":\"object\",\"description\":\"Retries after a failed call.\","
	"\"properties\":{\"max\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":10,\"description\":\"Retries after the first attempt.\","
	"\"default\":0},\"backoff_ms\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":600000,\"description\":\"Wait before each retry,"
	" doubled each time.\",\"default\":500}}},\"policy\":{\"type\":\"object\",\"description\":\"Confidence policy (SPEC §3).\","
	"\"properties\":{\"accept\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1,\"description\":\"At or above: accept.\","
	"\"default\":0.8},\"retry_below\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1,\"description\":\"Below: retry once with a critique.\","
	"\"default\":0.5},\"escalate_below\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1,\"description\":\"Below after the retry: escalate.\","
	"\"default\":0.3},\"escalate_to\":{\"type\":\"string\",\"maxLength\":128,\"description\":\"Node id or agent that handles escalations.\"}}}},"
	"\"required\":[\"select\",\"task\"],\"additionalProperties\":false}";

static const char *const ports[] = { "out", NULL };
static const char *const expr_keys[] = { "data", NULL };

const struct node_type node_agent = {
	.name = "agent",
	.description = "Calls the selected agents with a task and data. Results keep a stable order; a confidence policy can retry or escalate weak answers.",
	.options_schema = schema,
	.ports = ports,
	.expr_keys = expr_keys,
	.takes_input = 1,
};
