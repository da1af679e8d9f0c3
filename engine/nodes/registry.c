/*
 * The node-type registry: one table of every type in SPEC.md §3, lookup by
 * name, and the palette document the builder generates its forms from.
 * Adding a type is one file in engine/nodes/ and one line here.
 */
#include <string.h>

#include "engine/engine.h"
#include "engine/nodes/nodes_internal.h"
#include "core/core.h"

const struct node_type *const node_types[] = {
	&node_input,
	&node_agent,
	&node_race,
	&node_cascade,
	&node_consensus,
	&node_vote,
	&node_merge,
	&node_best,
	&node_gate,
	&node_condition,
	&node_route,
	&node_map,
	&node_reduce,
	&node_review,
	&node_approval,
	&node_transform,
	&node_pattern,
	&node_output,
};
const size_t node_types_count = sizeof(node_types) / sizeof(node_types[0]);

const struct node_type *node_type_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < node_types_count; i++)
		if (!strcmp(node_types[i]->name, name))
			return node_types[i];
	return NULL;
}

int node_type_has_port(const struct node_type *t, const char *port)
{
	for (const char *const *p = t->ports; *p; p++)
		if (!strcmp(*p, port))
			return 1;
	return 0;
}

static cJSON *strings_json(const char *const *list)
{
	cJSON *arr = cJSON_CreateArray();
	for (const char *const *p = list; *p; p++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(*p));
	return arr;
}

cJSON *node_types_json(void)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < node_types_count; i++) {
		const struct node_type *t = node_types[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", t->name);
		cJSON_AddStringToObject(o, "description", t->description);
		cJSON *schema = cJSON_Parse(t->options_schema);
		cJSON_AddItemToObject(o, "options_schema", schema ? schema : cJSON_CreateNull());
		cJSON_AddItemToObject(o, "ports", strings_json(t->ports));
		cJSON_AddItemToObject(o, "expressions", strings_json(t->expr_keys));
		cJSON_AddBoolToObject(o, "takes_input", t->takes_input);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}
