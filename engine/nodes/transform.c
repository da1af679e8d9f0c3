/*
 * Node type "transform": its description for the builder's palette, the schema of
 * its options, its output ports and the options that hold jq expressions
 * (SPEC.md §3).
 */
#include <stddef.h>

#include "engine/engine.h"
#include "engine/exec_internal.h"
#include "engine/nodes/nodes_internal.h"

static const char schema[] =
	"{\"type\":\"object\",\"properties\":{\"value\":{\"type\":\"string\",\"format\":\"jq\",\"maxLength\":65536,"
	"\"description\":\"jq over the context: the new value.\"},\"confidence\":{\"type\":\"string\","
	"\"format\":\"jq\",\"maxLength\":65536,\"description\":\"jq over the context: the new confidence,"
	" a number in [0, 1].\"}},\"additionalProperties\":false}";

static const char *const ports[] = { "out", NULL };
static const char *const expr_keys[] = { "value", "confidence", NULL };

static void execute(struct node_exec *x)
{
	struct err e;
	cJSON *v = NULL, *c = NULL;
	double conf;
	if (node_expr(x, "value", &v, &e) < 0 || node_expr(x, "confidence", &c, &e) < 0) {
		cJSON_Delete(v);
		node_fail(x, "%s", e.msg);
		return;
	}
	if (c && !cJSON_IsNumber(c) && !cJSON_IsNull(c)) {
		cJSON_Delete(v);
		cJSON_Delete(c);
		node_fail(x, "confidence: the expression must give a number or null");
		return;
	}
	if (!node_opt(x, "confidence"))
		conf = node_input_confidence(x);
	else
		conf = cJSON_IsNumber(c) ? conf_from_value(c->valuedouble) : CONF_NONE;
	cJSON_Delete(c);
	if (!node_opt(x, "value"))
		v = node_input_value(x);
	node_done(x, result_new(v, conf), NULL);
}

const struct node_type node_transform = {
	.name = "transform",
	.description = "Computes a new value and/or confidence with jq.",
	.options_schema = schema,
	.ports = ports,
	.expr_keys = expr_keys,
	.execute = execute,
	.takes_input = 1,
};
