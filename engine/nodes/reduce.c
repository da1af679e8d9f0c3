/*
 * Node type "reduce": its description for the builder's palette, the schema of
 * its options, its output ports and the options that hold jq expressions
 * (SPEC.md §3).
 */
#include <stddef.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/exec_internal.h"
#include "engine/nodes/nodes_internal.h"

static const char schema[] =
	"{\"type\":\"object\",\"properties\":{\"mode\":{\"type\":\"string\",\"enum\":[\"concat\",\"merge\","
	"\"mean\",\"expr\"],\"default\":\"concat\",\"description\":\"How results are combined.\"},\"expr\":{"
	"\"type\":\"string\",\"format\":\"jq\",\"maxLength\":65536,\"description\":\"jq over the list of results,"
	" for mode expr.\"},\"min_confidence\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1,\"description\":\"Results below this count as unsuccessful.\","
	"\"default\":0.7}},\"additionalProperties\":false}";

static const char *const ports[] = { "out", NULL };
static const char *const expr_keys[] = { "expr", NULL };

static void execute(struct node_exec *x)
{
	const char *mode = node_opt_str(x, "mode", "concat");
	double min = node_opt_num(x, "min_confidence", 0.7), sum = 0, sum_all = 0;
	cJSON *list = node_results(x), *it, *values = cJSON_CreateArray(), *value = NULL;
	int ok = 0, total = 0, signals = 0;
	cJSON_ArrayForEach(it, list) {
		double c = result_failed(it) ? 0 : result_confidence(it);
		total++;
		if (c == CONF_NONE)
			continue;
		signals++;
		sum_all += c;
		if (c >= min && !result_failed(it)) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, "value");
			cJSON_AddItemToArray(values, v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
			sum += c;
			ok++;
		}
	}
	double mean = ok ? sum / ok : 0;
	if (!strcmp(mode, "mean")) {
		value = cJSON_CreateNumber(mean);
	} else if (!strcmp(mode, "merge")) {
		value = cJSON_CreateObject();
		cJSON_ArrayForEach(it, values) {
			cJSON *kv;
			cJSON_ArrayForEach(kv, it) {
				cJSON_DeleteItemFromObjectCaseSensitive(value, kv->string);
				cJSON_AddItemToObject(value, kv->string, cJSON_Duplicate(kv, 1));
			}
		}
	} else if (!strcmp(mode, "expr")) {
		struct err e;
		cJSON *in = cJSON_CreateObject();
		cJSON_AddItemReferenceToObject(in, "results", list);
		cJSON_AddItemReferenceToObject(in, "context", x->run->ctx);
		int ret = expr_eval(x->run->en, node_opt_str(x, "expr", "."), in, &value, &e);
		cJSON_Delete(in);
		if (ret < 0) {
			cJSON_Delete(values);
			cJSON_Delete(list);
			node_fail(x, "expr: %s", e.msg);
			return;
		}
	} else {
		value = cJSON_Duplicate(values, 1);
	}
	cJSON *out = result_new(value, mean);
	cJSON_AddNumberToObject(out, "successful", ok);
	cJSON_AddNumberToObject(out, "total", total);
	cJSON_AddNumberToObject(out, "mean", mean);
	cJSON_AddNumberToObject(out, "mean_all", signals ? sum_all / signals : 0);
	cJSON_Delete(values);
	cJSON_Delete(list);
	node_done(x, out, NULL);
}

const struct node_type node_reduce = {
	.name = "reduce",
	.description = "Combines the results of a map: concatenation, object merge, mean confidence or a jq expression.",
	.options_schema = schema,
	.ports = ports,
	.expr_keys = expr_keys,
	.execute = execute,
	.takes_input = 1,
};
