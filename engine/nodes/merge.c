/*
 * Node type "merge": its description for the builder's palette, the schema of
 * its options, its output ports and the options that hold jq expressions
 * (SPEC.md §3).
 */
#include <stddef.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/exec_internal.h"
#include "engine/nodes/nodes_internal.h"

static const char schema[] =
	"{\"type\":\"object\",\"properties\":{\"mode\":{\"type\":\"string\",\"enum\":[\"object\",\"concat\"],"
	"\"default\":\"concat\",\"description\":\"object: merge objects; concat: join lists.\"}},"
	"\"additionalProperties\":false}";

static const char *const ports[] = { "out", NULL };
static const char *const expr_keys[] = { NULL };

static void execute(struct node_exec *x)
{
	cJSON *list = node_results(x), *it;
	if (strcmp(node_opt_str(x, "mode", "concat"), "object")) {
		cJSON *out = cJSON_CreateArray();
		cJSON_ArrayForEach(it, list) cJSON_AddItemToArray(out, cJSON_Duplicate(it, 1));
		cJSON_Delete(list);
		node_done(x, out, NULL);
		return;
	}
	cJSON *merged = cJSON_CreateObject(), *kv;
	double min = CONF_NONE;
	int i = 0;
	cJSON_ArrayForEach(it, list) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, "value");
		if (result_failed(it))
			continue;
		if (!cJSON_IsObject(v)) {
			cJSON_Delete(merged);
			cJSON_Delete(list);
			node_fail(x, "mode object: input result %d's value is not an object", i);
			return;
		}
		cJSON_ArrayForEach(kv, v) {
			cJSON_DeleteItemFromObjectCaseSensitive(merged, kv->string);
			cJSON_AddItemToObject(merged, kv->string, cJSON_Duplicate(kv, 1));
		}
		double c = result_confidence(it);
		if (c != CONF_NONE && (min == CONF_NONE || c < min))
			min = c;
		i++;
	}
	cJSON_Delete(list);
	node_done(x, result_new(merged, min == CONF_NONE ? conf_of_plain() : min), NULL);
}

const struct node_type node_merge = {
	.name = "merge",
	.description = "Combines its inputs: an object merge or a list concatenation.",
	.options_schema = schema,
	.ports = ports,
	.expr_keys = expr_keys,
	.execute = execute,
	.takes_input = 1,
};
