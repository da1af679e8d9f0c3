/*
 * What node types share: reading their options with defaults, seeing their
 * inputs as results (docs/engine.md "Outputs"), and building results.
 */
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "engine/exec_internal.h"
#include "core/core.h"

const cJSON *node_opt(const struct node_exec *x, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(x->pn->def, key);
}

const char *node_opt_str(const struct node_exec *x, const char *key, const char *def)
{
	const cJSON *v = node_opt(x, key);
	return cJSON_IsString(v) ? v->valuestring : def;
}

double node_opt_num(const struct node_exec *x, const char *key, double def)
{
	const cJSON *v = node_opt(x, key);
	return cJSON_IsNumber(v) ? v->valuedouble : def;
}

int64_t node_opt_int(const struct node_exec *x, const char *key, int64_t def)
{
	const cJSON *v = node_opt(x, key);
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : def;
}

double result_confidence(const cJSON *r)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(r, "confidence");
	if (!cJSON_IsNumber(c))
		return CONF_NONE;
	return conf_from_value(c->valuedouble);
}

int result_failed(const cJSON *r)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "error");
	return e && !cJSON_IsNull(e) && !cJSON_IsFalse(e);
}

cJSON *result_new(cJSON *value, double confidence)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddItemToObject(r, "value", value ? value : cJSON_CreateNull());
	if (confidence == CONF_NONE || !isfinite(confidence))
		cJSON_AddNullToObject(r, "confidence");
	else
		cJSON_AddNumberToObject(r, "confidence", conf_clamp(confidence));
	return r;
}

cJSON *node_results(const struct node_exec *x)
{
	cJSON *list = cJSON_CreateArray(), *in, *it;
	cJSON_ArrayForEach(in, x->inputs) {
		if (cJSON_IsArray(in)) {
			cJSON_ArrayForEach(it, in) cJSON_AddItemReferenceToArray(list, it);
		} else {
			cJSON_AddItemReferenceToArray(list, in);
		}
	}
	return list;
}

const cJSON *results_best(const cJSON *list)
{
	const cJSON *best = NULL, *it;
	double bc = -1;
	cJSON_ArrayForEach(it, list) {
		if (result_failed(it))
			continue;
		double c = result_confidence(it);
		if (c == CONF_NONE)
			c = conf_of_plain();
		if (c > bc) {
			bc = c;
			best = it;
		}
	}
	return best;
}

const cJSON *node_input_result(const struct node_exec *x)
{
	const cJSON *in = cJSON_GetArrayItem(x->inputs, 0);
	if (!cJSON_IsArray(in))
		return in;
	const cJSON *best = results_best(in);
	return best ? best : cJSON_GetArrayItem(in, 0);
}

double node_input_confidence(const struct node_exec *x)
{
	const cJSON *r = node_input_result(x);
	if (!r)
		return conf_of_plain();
	double c = result_confidence(r);
	if (result_failed(r))
		return 0;
	return c == CONF_NONE ? conf_of_plain() : c;
}

cJSON *node_input_value(const struct node_exec *x)
{
	cJSON *results = node_results(x), *it;
	int n = cJSON_GetArraySize(results);
	cJSON *out;
	if (n == 1) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(results, 0),
								  "value");
		out = v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
	} else {
		out = cJSON_CreateArray();
		cJSON_ArrayForEach(it, results) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, "value");
			cJSON_AddItemToArray(out, v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
		}
	}
	cJSON_Delete(results);
	return out;
}

/* The input as a result (copy), with its confidence replaced when c is not CONF_NONE. */
cJSON *node_passthrough(const struct node_exec *x, double c)
{
	const cJSON *in = node_input_result(x);
	cJSON *out = in && cJSON_IsObject(in) ? cJSON_Duplicate(in, 1) : result_new(NULL, 1.0);
	if (c != CONF_NONE) {
		cJSON_DeleteItemFromObjectCaseSensitive(out, "confidence");
		cJSON_AddNumberToObject(out, "confidence", c);
	}
	return out;
}

/* Evaluate option key over the run's context; *out owned. */
int node_expr(struct node_exec *x, const char *key, cJSON **out, struct err *e)
{
	const char *src = node_opt_str(x, key, NULL);
	*out = NULL;
	if (!src)
		return 0;
	int ret = expr_eval(x->run->en, src, x->run->ctx, out, e);
	if (ret < 0)
		err_prefix(e, key, key);
	return ret;
}
