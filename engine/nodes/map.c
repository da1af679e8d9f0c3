/*
 * Node type "map": its description for the builder's palette, the schema of
 * its options, its output ports and the options that hold jq expressions
 * (SPEC.md §3).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/exec_internal.h"
#include "engine/nodes/nodes_internal.h"
#include "core/core.h"

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

struct map_state {
	cJSON *items;    /* owned array */
	cJSON **results; /* per item */
	size_t n, next, open, done;
	int64_t max_parallel;
	struct pattern *sub; /* the pattern run per item, if any */
	char sub_id[UUID_STR_LEN];
	int64_t sub_version;
	size_t *call_open; /* per item: calls still out */
};

static void map_free(void *p)
{
	struct map_state *s = p;
	for (size_t i = 0; i < s->n; i++)
		cJSON_Delete(s->results[i]);
	free(s->results);
	free(s->call_open);
	cJSON_Delete(s->items);
	pattern_free(s->sub);
	free(s);
}

static void map_pump(struct node_exec *x);

static cJSON *item_result(const cJSON *item, size_t i, cJSON *res)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "item", cJSON_Duplicate(item, 1));
	cJSON_AddNumberToObject(o, "index", (double)i);
	static const char *const keys[] = { "agent", "value", "confidence", "error" };
	for (size_t k = 0; k < 4; k++) {
		const cJSON *v = res ? cJSON_GetObjectItemCaseSensitive(res, keys[k]) : NULL;
		cJSON_AddItemToObject(o, keys[k], v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
	}
	cJSON_Delete(res);
	return o;
}

static void item_finished(struct node_exec *x, size_t i, cJSON *res)
{
	struct map_state *s = x->priv;
	s->results[i] = item_result(cJSON_GetArrayItem(s->items, (int)i), i, res);
	s->open--;
	s->done++;
	if (s->done == s->n) {
		cJSON *out = cJSON_CreateArray();
		for (size_t k = 0; k < s->n; k++) {
			cJSON_AddItemToArray(out, s->results[k]);
			s->results[k] = NULL;
		}
		node_done(x, out, NULL);
		return;
	}
	map_pump(x);
}

static void map_call_done(struct agent_call *c)
{
	struct node_exec *x = c->x;
	struct map_state *s = x->priv;
	size_t i = c->slot;
	cJSON *r = call_result(c);
	/* keep the best answer for the item (ties: the first) */
	if (!s->results[i] || (!result_failed(r) && (result_failed(s->results[i]) ||
		result_confidence(r) > result_confidence(s->results[i])))) {
		cJSON_Delete(s->results[i]);
		s->results[i] = r;
	} else {
		cJSON_Delete(r);
	}
	if (--s->call_open[i])
		return;
	cJSON *best = s->results[i];
	s->results[i] = NULL;
	item_finished(x, i, best);
}

static void map_child_done(struct node_exec *x, struct run *child)
{
	size_t i = (size_t)(uintptr_t)child->child_tag;
	cJSON *res;
	if (!strcmp(child->final_status, "succeeded") && child->result) {
		res = cJSON_Duplicate(child->result, 1);
		cJSON_AddNullToObject(res, "error");
	} else {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(child->error, "message");
		res = result_new(NULL, 0);
		cJSON_AddStringToObject(res, "error", cJSON_IsString(m) ? m->valuestring : "failed");
	}
	run_free(child);
	item_finished(x, i, res);
}

/* Start item i: its data (option data over the context plus item and index). */
static int item_start(struct node_exec *x, size_t i)
{
	struct map_state *s = x->priv;
	struct run *r = x->run;
	struct err e;
	cJSON *data = NULL;
	const cJSON *item = cJSON_GetArrayItem(s->items, (int)i);
	if (node_opt(x, "data")) {
		cJSON_AddItemReferenceToObject(r->ctx, "item", (cJSON *)item);
		cJSON_AddNumberToObject(r->ctx, "index", (double)i);
		int ret = node_expr(x, "data", &data, &e);
		cJSON_DeleteItemFromObjectCaseSensitive(r->ctx, "item");
		cJSON_DeleteItemFromObjectCaseSensitive(r->ctx, "index");
		if (ret < 0) {
			node_fail(x, "items[%zu]: %s", i, e.msg);
			return -1;
		}
	} else {
		data = cJSON_Duplicate(item, 1);
	}
	s->open++;
	if (s->sub) {
		/* a sub-run per item, one at a time (x->child holds one) */
		if (!run_child_start(x, s->sub, 0, node_opt_str(x, "pattern", ""), s->sub_version,
				     s->sub_id, data, map_child_done, (void *)(uintptr_t)i, &e)) {
			cJSON_Delete(data);
			node_fail(x, "%s", e.msg);
			return -1;
		}
		cJSON_Delete(data);
		return 0;
	}
	const struct agent_spec **agents = NULL;
	size_t n = 0;
	if (select_agents(r, node_opt(x, "select"), &agents, &n, &e) < 0) {
		cJSON_Delete(data);
		node_fail(x, "select: %s", e.msg);
		return -1;
	}
	s->call_open[i] = n;
	for (size_t k = 0; k < n; k++)
		call_start(node_call_add(x, agents[k], node_opt_str(x, "task", ""),
					 cJSON_Duplicate(data, 1), i, map_call_done));
	cJSON_Delete(data);
	free(agents);
	return 0;
}

static void map_pump(struct node_exec *x)
{
	struct map_state *s = x->priv;
	int64_t limit = s->sub ? 1 : s->max_parallel;
	while (s->next < s->n && (int64_t)s->open < limit) {
		if (item_start(x, s->next++) < 0)
			return;
	}
}

static void execute(struct node_exec *x)
{
	struct err e;
	cJSON *items = NULL;
	if (node_expr(x, "items", &items, &e) < 0) {
		node_fail(x, "%s", e.msg);
		return;
	}
	if (!cJSON_IsArray(items)) {
		cJSON_Delete(items);
		node_fail(x, "items: the expression must give a list");
		return;
	}
	int64_t max_items = node_opt_int(x, "max_items", 1000);
	if (cJSON_GetArraySize(items) > max_items) {
		node_fail(x, "items: %d items, more than max_items (%lld)", cJSON_GetArraySize(items),
			  (long long)max_items);
		cJSON_Delete(items);
		return;
	}
	struct map_state *s = xcalloc(1, sizeof(*s));
	s->items = items;
	s->n = (size_t)cJSON_GetArraySize(items);
	s->results = xcalloc(s->n + 1, sizeof(*s->results));
	s->call_open = xcalloc(s->n + 1, sizeof(*s->call_open));
	s->max_parallel = node_opt_int(x, "max_parallel", 10);
	x->priv = s;
	x->priv_free = map_free;
	const char *sub = node_opt_str(x, "pattern", NULL);
	if (sub && node_pattern_load(x, sub, 0, &s->sub, s->sub_id, &s->sub_version) < 0)
		return;
	if (!sub && !node_opt(x, "select")) {
		node_fail(x, "map needs select (agents) or pattern");
		return;
	}
	if (!s->n) {
		node_done(x, cJSON_CreateArray(), NULL);
		return;
	}
	map_pump(x);
}

const struct node_type node_map = {
	.name = "map",
	.description = "Runs an agent call or a pattern once per item of a list expression.",
	.options_schema = schema,
	.ports = ports,
	.expr_keys = expr_keys,
	.execute = execute,
	.takes_input = 1,
};
