/*
 * Node type "consensus": its description for the builder's palette, the schema of
 * its options, its output ports and the options that hold jq expressions
 * (SPEC.md §3). Execution is added by the executor.
 */
#include <stddef.h>

#include "engine/engine.h"
#include "engine/nodes/nodes_internal.h"

static const char schema[] =
	"{\"type\":\"object\",\"properties\":{\"key\":{\"type\":\"string\",\"format\":\"jq\",\"maxLength\":65536,"
	"\"description\":\"jq over each result: the value results agree on.\"},\"weight\":{\"type\":\"string\","
	"\"enum\":[\"confidence\",\"expertise\"],\"default\":\"confidence\",\"description\":\"confidence,"
	" or confidence × expertise.\"},\"min_confidence\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1,"
	"\"description\":\"Mean confidence needed for consensus.\",\"default\":0.7},\"min_agreement\":{"
	"\"type\":\"number\",\"minimum\":0,\"maximum\":1,\"description\":\"Agreement needed for consensus.\","
	"\"default\":0.5}},\"additionalProperties\":false}";

static const char *const ports[] = { "out", NULL };
static const char *const expr_keys[] = { "key", NULL };

const struct node_type node_consensus = {
	.name = "consensus",
	.description = "Groups results by a key expression and weighs them by confidence, or by confidence times expertise; reports agreement, status and votes.",
	.options_schema = schema,
	.ports = ports,
	.expr_keys = expr_keys,
	.takes_input = 1,
};
