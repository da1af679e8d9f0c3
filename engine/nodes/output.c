/*
 * Node type "output": its description for the builder's palette, the schema of
 * its options, its output ports and the options that hold jq expressions
 * (SPEC.md §3).
 */
#include <stddef.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/exec_internal.h"
#include "engine/nodes/nodes_internal.h"

static const char schema[] =
	"{\"type\":\"object\",\"properties\":{\"value\":{\"type\":\"string\",\"format\":\"jq\",\"maxLength\":65536,"
	"\"description\":\"jq over the context: the final value; default: the inputs' values.\"},"
	"\"confidence\":{\"type\":\"string\",\"enum\":[\"mean\",\"min\",\"max\",\"weighted\",\"product\",\"expr\"],"
	"\"default\":\"mean\",\"description\":\"How the final confidence is computed.\"},\"expr\":{"
	"\"type\":\"string\",\"format\":\"jq\",\"maxLength\":65536,\"description\":\"jq over the context for confidence expr.\"}},"
	"\"additionalProperties\":false}";

static const char *const ports[] = { "out", NULL };
static const char *const expr_keys[] = { "value", "expr", NULL };

/* The confidence of the output by mode over the input results (failed: 0, no signal: skipped). */
static int output_confidence(struct node_exec *x, double *out, struct err *e)
{
	const char *mode = node_opt_str(x, "confidence", "mean");
	cJSON *list = node_results(x), *it;
	double sum = 0, wsum = 0, prod = 1, mn = 2, mx = -1;
	int n = 0;
	if (!strcmp(mode, "expr")) {
		cJSON *v = NULL;
		cJSON_Delete(list);
		if (node_expr(x, "expr", &v, e) < 0)
			return e->code;
		if (v && !cJSON_IsNumber(v) && !cJSON_IsNull(v)) {
			cJSON_Delete(v);
			return err_set(e, ERR_UNPROCESSABLE, "expr",
				       "expr: the confidence expression must give a number");
		}
		*out = cJSON_IsNumber(v) ? conf_from_value(v->valuedouble) : CONF_NONE;
		cJSON_Delete(v);
		return 0;
	}
	cJSON_ArrayForEach(it, list) {
		double c = result_failed(it) ? 0 : result_confidence(it);
		if (c == CONF_NONE)
			continue;
		const cJSON *ex = cJSON_GetObjectItemCaseSensitive(it, "expertise");
		double w = cJSON_IsNumber(ex) && ex->valuedouble >= 0 ? ex->valuedouble : 1.0;
		sum += c;
		wsum += w;
		prod *= c;
		mn = c < mn ? c : mn;
		mx = c > mx ? c : mx;
		n++;
	}
	if (!strcmp(mode, "weighted")) {
		double num = 0;
		cJSON_ArrayForEach(it, list) {
			double c = result_failed(it) ? 0 : result_confidence(it);
			const cJSON *ex = cJSON_GetObjectItemCaseSensitive(it, "expertise");
			if (c != CONF_NONE)
				num += c * (cJSON_IsNumber(ex) && ex->valuedouble >= 0 ? ex->valuedouble
										     : 1.0);
		}
		sum = num;
	}
	cJSON_Delete(list);
	if (!n)
		*out = CONF_NONE;
	else if (!strcmp(mode, "min"))
		*out = mn;
	else if (!strcmp(mode, "max"))
		*out = mx;
	else if (!strcmp(mode, "product"))
		*out = prod;
	else if (!strcmp(mode, "weighted"))
		*out = wsum > 0 ? sum / wsum : CONF_NONE;
	else
		*out = sum / n;
	return 0;
}

static void execute(struct node_exec *x)
{
	struct err e;
	cJSON *v = NULL;
	double c = CONF_NONE;
	if (node_expr(x, "value", &v, &e) < 0 || output_confidence(x, &c, &e) < 0) {
		cJSON_Delete(v);
		node_fail(x, "%s", e.msg);
		return;
	}
	if (!node_opt(x, "value"))
		v = node_input_value(x);
	node_done(x, result_new(v, c), NULL);
}

const struct node_type node_output = {
	.name = "output",
	.description = "The pattern's final value and confidence; confidence is the mean, min, max, weighted mean or product of its inputs', or a jq expression.",
	.options_schema = schema,
	.ports = ports,
	.expr_keys = expr_keys,
	.execute = execute,
	.takes_input = 1,
};
