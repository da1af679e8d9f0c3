/*
 * Grouping results by a key expression, for consensus and vote: each
 * result's key is the canonical JSON of the expression over that result, so
 * {"a":1,"b":2} and {"b":2,"a":1} agree. Failed results have no key.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/exec_internal.h"
#include "core/core.h"

int node_groups_init(struct node_exec *x, struct node_groups *g, struct err *e)
{
	const char *key = node_opt_str(x, "key", ".value");
	const cJSON *it;
	size_t i = 0;
	memset(g, 0, sizeof(*g));
	g->list = node_results(x);
	g->n = (size_t)cJSON_GetArraySize(g->list);
	g->r = xcalloc(g->n + 1, sizeof(*g->r));
	g->vals = xcalloc(g->n + 1, sizeof(*g->vals));
	cJSON_ArrayForEach(it, g->list) {
		const cJSON *ex = cJSON_GetObjectItemCaseSensitive(it, "expertise");
		struct conf_result *r = &g->r[i];
		r->confidence = result_confidence(it);
		r->expertise = cJSON_IsNumber(ex) ? ex->valuedouble : 1.0;
		r->failed = result_failed(it);
		g->vals[i] = cJSON_GetObjectItemCaseSensitive(it, "value");
		if (!r->failed) {
			cJSON *k = NULL;
			if (expr_eval(x->run->en, key, it, &k, e) < 0) {
				err_prefix(e, "key", "key");
				node_groups_release(g);
				return e->code;
			}
			r->key = json_canonical(k);
			cJSON_Delete(k);
		}
		i++;
	}
	return 0;
}

cJSON *node_groups_votes(const struct node_groups *g, int with_weight, enum conf_weight w)
{
	cJSON *votes = cJSON_CreateArray();
	size_t *first = xcalloc(g->n + 1, sizeof(*first)), ng = 0;
	size_t *count = xcalloc(g->n + 1, sizeof(*count));
	double *weight = xcalloc(g->n + 1, sizeof(*weight));
	for (size_t i = 0; i < g->n; i++) {
		const struct conf_result *r = &g->r[i];
		if (r->failed || !r->key)
			continue;
		size_t k = 0;
		while (k < ng && strcmp(g->r[first[k]].key, r->key))
			k++;
		if (k == ng)
			first[ng++] = i;
		double c = r->confidence == CONF_NONE ? 0 : conf_clamp(r->confidence);
		if (w == CONF_WEIGHT_EXPERTISE)
			c *= r->expertise > 0 ? r->expertise : 0;
		count[k]++;
		weight[k] += c;
	}
	for (size_t k = 0; k < ng; k++) {
		cJSON *v = cJSON_CreateObject();
		const cJSON *val = g->vals[first[k]];
		cJSON_AddRawToObject(v, "key", g->r[first[k]].key);
		cJSON_AddItemToObject(v, "value", val ? cJSON_Duplicate(val, 1) : cJSON_CreateNull());
		cJSON_AddNumberToObject(v, "count", (double)count[k]);
		if (with_weight)
			cJSON_AddNumberToObject(v, "weight", weight[k]);
		cJSON_AddItemToArray(votes, v);
	}
	free(first);
	free(count);
	free(weight);
	return votes;
}

void node_groups_release(struct node_groups *g)
{
	for (size_t i = 0; g->r && i < g->n; i++)
		free((char *)g->r[i].key);
	free(g->r);
	free(g->vals);
	cJSON_Delete(g->list);
	memset(g, 0, sizeof(*g));
}
