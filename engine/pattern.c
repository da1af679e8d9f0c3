/*
 * The pattern document (SPEC.md §3): parse a JSON definition into a struct
 * pattern and validate it, collecting every problem with its node id and
 * path. Top-level members and nodes are checked here, option schemas in
 * pattern_schema.c, expressions in pattern_expr.c, the graph in pattern_graph.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/pattern_internal.h"
#include "core/core.h"

static const char *const top_fields[] = { "name", "description", "input", "nodes", "ui", "tags",
					  NULL };

static int slug_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > PATTERN_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return 0;
	return 1;
}

static int id_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > PATTERN_ID_MAX)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return 0;
	return 1;
}

static void top_check(struct pattern *p, struct problems *pr)
{
	const cJSON *doc = p->doc, *it;
	cJSON_ArrayForEach(it, doc)
	{
		int known = 0;
		for (const char *const *f = top_fields; *f; f++)
			known |= !strcmp(*f, it->string);
		if (!known)
			problems_add(pr, "", it->string, "unknown_field", "unknown field '%.64s'",
				     it->string);
	}
	it = cJSON_GetObjectItemCaseSensitive(doc, "name");
	if (!cJSON_IsString(it) || !slug_ok(it->valuestring))
		problems_add(pr, "", "name", "invalid_name",
			     "name is required: 1-64 characters of a-z, 0-9 and -");
	else
		p->name = it->valuestring;
	it = cJSON_GetObjectItemCaseSensitive(doc, "description");
	p->description = "";
	if (it && (!cJSON_IsString(it) || strlen(it->valuestring) > 10000))
		problems_add(pr, "", "description", "invalid_type",
			     "description is a string of at most 10000 bytes");
	else if (it)
		p->description = it->valuestring;
	p->input_schema = cJSON_GetObjectItemCaseSensitive(doc, "input");
	if (p->input_schema)
		schema_meta_check(p->input_schema, pr);
	p->ui = cJSON_GetObjectItemCaseSensitive(doc, "ui");
	p->tags = cJSON_GetObjectItemCaseSensitive(doc, "tags");
	cJSON_ArrayForEach(it, (cJSON_IsArray(p->tags) ? p->tags : NULL))
	{
		if (!cJSON_IsString(it) || strlen(it->valuestring) > 64)
			problems_add(pr, "", "tags", "invalid_type", "tags are strings of at most 64 bytes");
	}
	if (p->tags && (!cJSON_IsArray(p->tags) || cJSON_GetArraySize(p->tags) > 50))
		problems_add(pr, "", "tags", "invalid_type", "tags is an array of at most 50 strings");
}

size_t pattern_find(const struct pattern *p, const char *id)
{
	for (size_t i = 0; i < p->count; i++)
		if (p->nodes[i].id && !strcmp(p->nodes[i].id, id))
			return i;
	return SIZE_MAX;
}

/* Options: the node's members other than id, type and from. */
static void node_options_check(const struct pattern_node *n, size_t i, cJSON **schemas,
			       struct problems *pr)
{
	size_t t = 0;
	while (node_types[t] != n->type)
		t++;
	if (!schemas[t])
		schemas[t] = cJSON_Parse(n->type->options_schema);
	cJSON *opts = cJSON_Duplicate(n->def, 1);
	cJSON_DeleteItemFromObjectCaseSensitive(opts, "id");
	cJSON_DeleteItemFromObjectCaseSensitive(opts, "type");
	cJSON_DeleteItemFromObjectCaseSensitive(opts, "from");
	char path[32];
	snprintf(path, sizeof(path), "nodes[%zu]", i);
	pattern_schema_check(schemas[t], opts, n->id ? n->id : "", path, pr);
	cJSON_Delete(opts);
}

static void node_read(struct pattern *p, size_t i, const cJSON *def, struct problems *pr)
{
	struct pattern_node *n = &p->nodes[i];
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(def, "id");
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(def, "type");
	char path[40];
	n->def = def;
	snprintf(path, sizeof(path), "nodes[%zu]", i);
	if (!cJSON_IsObject(def)) {
		problems_add(pr, "", path, "invalid_node", "nodes[%zu] is not an object", i);
		return;
	}
	if (!cJSON_IsString(id) || !id_ok(id->valuestring)) {
		snprintf(path, sizeof(path), "nodes[%zu].id", i);
		problems_add(pr, "", path, "invalid_id",
			     "nodes[%zu].id: 1-64 characters of A-Z, a-z, 0-9, _ and -", i);
	} else if (pattern_find(p, id->valuestring) != SIZE_MAX) {
		snprintf(path, sizeof(path), "nodes[%zu].id", i);
		problems_add(pr, id->valuestring, path, "duplicate_id", "nodes[%zu].id '%s' is taken",
			     i, id->valuestring);
	} else {
		n->id = id->valuestring;
	}
	n->type = node_type_find(cJSON_GetStringValue(type));
	snprintf(path, sizeof(path), "nodes[%zu].type", i);
	if (!n->type)
		problems_add(pr, n->id ? n->id : "", path, "unknown_type",
			     "nodes[%zu].type: unknown node type '%.40s'", i,
			     cJSON_IsString(type) ? type->valuestring : "");
}

static int nodes_read(struct pattern *p, struct problems *pr)
{
	const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(p->doc, "nodes");
	cJSON **schemas = NULL;
	size_t i = 0;
	const cJSON *it;
	if (!cJSON_IsArray(nodes)) {
		problems_add(pr, "", "nodes", "missing_nodes", "nodes is a required array");
		return -1;
	}
	p->count = (size_t)cJSON_GetArraySize(nodes);
	if (p->count > PATTERN_MAX_NODES) {
		problems_add(pr, "", "nodes", "too_many_nodes", "%zu nodes; the limit is %d",
			     p->count, PATTERN_MAX_NODES);
		p->count = 0;
		return -1;
	}
	p->nodes = xcalloc(p->count ? p->count : 1, sizeof(*p->nodes));
	cJSON_ArrayForEach(it, nodes)
		node_read(p, i++, it, pr);
	schemas = xcalloc(node_types_count, sizeof(*schemas));
	for (i = 0; i < p->count; i++)
		if (p->nodes[i].type)
			node_options_check(&p->nodes[i], i, schemas, pr);
	for (i = 0; i < node_types_count; i++)
		cJSON_Delete(schemas[i]);
	free(schemas);
	return 0;
}

/* "id" or "id.port": append the edge, or report why not. */
static void edge_add(struct pattern *p, size_t i, const char *src, const char *path,
		     struct problems *pr)
{
	struct pattern_node *n = &p->nodes[i];
	const char *dot = strchr(src, '.');
	char id[PATTERN_ID_MAX + 1];
	size_t len = dot ? (size_t)(dot - src) : strlen(src), from;
	const struct node_type *t;
	const char *port = NULL;

	from = SIZE_MAX;
	if (len <= PATTERN_ID_MAX) {
		memcpy(id, src, len);
		id[len] = '\0';
		from = pattern_find(p, id);
	}
	if (from == SIZE_MAX) {
		problems_add(pr, n->id, path, "dangling_edge", "%s: no node '%.64s'", path, src);
		return;
	}
	t = p->nodes[from].type;
	/* "id" alone reads the first port: "out", or pass/true/high of a branching node */
	for (const char *const *q = t ? t->ports : NULL; q && *q; q++)
		if (!strcmp(*q, dot ? dot + 1 : t->ports[0]))
			port = *q;
	if (t && !port) {
		problems_add(pr, n->id, path, "unknown_port", "%s: '%.64s' (%s) has no port '%.32s'",
			     path, id, t->name, dot ? dot + 1 : t->ports[0]);
		return;
	}
	n->from = xrealloc(n->from, (n->from_count + 1) * sizeof(*n->from));
	n->from[n->from_count++] = (struct pattern_edge){ .node = from, .port = port };
}

static void edges_read(struct pattern *p, size_t i, struct problems *pr)
{
	struct pattern_node *n = &p->nodes[i];
	const cJSON *from = cJSON_GetObjectItemCaseSensitive(n->def, "from"), *it;
	char path[64];
	size_t j = 0;

	snprintf(path, sizeof(path), "nodes[%zu].from", i);
	if (!from || !n->id)
		return;
	if (n->type && !n->type->takes_input) {
		problems_add(pr, n->id, path, "unexpected_from", "%s: an %s node has no sources",
			     path, n->type->name);
		return;
	}
	if (cJSON_IsString(from)) {
		edge_add(p, i, from->valuestring, path, pr);
		return;
	}
	if (!cJSON_IsArray(from) || cJSON_GetArraySize(from) > PATTERN_MAX_FROM) {
		problems_add(pr, n->id, path, "invalid_type",
			     "%s: a node id, or an array of at most %d", path, PATTERN_MAX_FROM);
		return;
	}
	cJSON_ArrayForEach(it, from)
	{
		snprintf(path, sizeof(path), "nodes[%zu].from[%zu]", i, j++);
		if (cJSON_IsString(it))
			edge_add(p, i, it->valuestring, path, pr);
		else
			problems_add(pr, n->id, path, "invalid_type", "%s: expected a node id", path);
	}
}

void pattern_free(struct pattern *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->count; i++)
		free(p->nodes[i].from);
	free(p->nodes);
	cJSON_Delete(p->doc);
	free(p);
}

int pattern_parse(const char *json, size_t len, struct pattern **out, struct problems *pr,
		  struct err *e)
{
	struct pattern *p = NULL;
	size_t before = pr->count;
	int ret = ERR_INVALID;

	*out = NULL;
	if (len > PATTERN_MAX_BYTES) {
		ret = err_setc(e, ERR_TOO_LARGE, "too_large", NULL,
			       "a pattern is at most %u bytes", PATTERN_MAX_BYTES);
		goto out;
	}
	p = xcalloc(1, sizeof(*p));
	p->doc = json_parse(json, len, JSON_MAX_DEPTH, e);
	if (!p->doc) {
		ret = e->code;
		goto out;
	}
	if (!cJSON_IsObject(p->doc)) {
		ret = err_setc(e, ERR_INVALID, "invalid_pattern", NULL, "a pattern is a JSON object");
		goto out;
	}
	top_check(p, pr);
	if (nodes_read(p, pr) == 0) {
		for (size_t i = 0; i < p->count; i++)
			edges_read(p, i, pr);
		pattern_graph_check(p, pr);
	}
	if (pr->count > before) {
		ret = err_setc(e, ERR_UNPROCESSABLE, "invalid_pattern", NULL,
			       "the pattern has %zu problems", pr->count - before);
		goto out;
	}
	*out = p;
	p = NULL;
	ret = 0;
out:
	pattern_free(p);
	return ret;
}
