/* The node-type registry: every SPEC §3 type is present and findable, every
 * options schema is JSON in the supported subset, ports are as specified and
 * every jq option is marked "format": "jq" in its schema. */
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "core/core.h"
#include "tests/unit/test.h"

static const char *const spec_types[] = {
	"input", "agent", "race", "cascade", "consensus", "vote", "merge", "best", "gate",
	"condition", "route", "map", "reduce", "review", "approval", "transform", "pattern",
	"output",
};

TEST(every_spec_type_is_registered)
{
	size_t n = sizeof(spec_types) / sizeof(spec_types[0]);
	CHECK_INT(node_types_count, n);
	for (size_t i = 0; i < n; i++) {
		const struct node_type *t = node_type_find(spec_types[i]);
		CHECK(t != NULL);
		if (t)
			CHECK_STR(t->name, spec_types[i]);
	}
	CHECK(node_type_find("nope") == NULL);
	CHECK(node_type_find(NULL) == NULL);
	CHECK(node_type_find("Agent") == NULL);
}

static int keyword_known(const char *k)
{
	static const char *const ok[] = { "type", "properties", "required", "enum", "minimum",
		"maximum", "maxLength", "maxItems", "items", "default", "description", "format",
		"additionalProperties", NULL };
	for (const char *const *p = ok; *p; p++)
		if (!strcmp(*p, k))
			return 1;
	return 0;
}

static int schema_subset_ok(const cJSON *s)
{
	const cJSON *k;
	if (!cJSON_IsObject(s))
		return 0;
	cJSON_ArrayForEach(k, s)
	{
		if (!keyword_known(k->string))
			return 0;
	}
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(s, "properties");
	cJSON_ArrayForEach(k, props)
	{
		if (!schema_subset_ok(k) || !cJSON_IsString(cJSON_GetObjectItem(k, "description")))
			return 0;
	}
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(s, "items");
	return !items || schema_subset_ok(items);
}

TEST(schemas_parse_and_use_the_subset)
{
	for (size_t i = 0; i < node_types_count; i++) {
		const struct node_type *t = node_types[i];
		struct err e;
		cJSON *s = json_parse(t->options_schema, strlen(t->options_schema), 64, &e);
		CHECK(s != NULL);
		if (!s) {
			fprintf(stderr, "type %s: %s\n", t->name, e.msg);
			continue;
		}
		CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(s, "type")), "object");
		CHECK(schema_subset_ok(s));
		CHECK(t->description && strlen(t->description) > 20);
		const cJSON *props = cJSON_GetObjectItem(s, "properties");
		for (const char *const *k = t->expr_keys; *k; k++) {
			const cJSON *p = cJSON_GetObjectItem(props, *k);
			CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(p, "format")), "jq");
		}
		cJSON_Delete(s);
	}
}

static int ports_are(const char *type, const char *const *want)
{
	const struct node_type *t = node_type_find(type);
	size_t i = 0;
	for (; want[i]; i++)
		if (!t || !t->ports[i] || strcmp(t->ports[i], want[i]))
			return 0;
	return t->ports[i] == NULL;
}

TEST(ports_as_specified)
{
	static const char *const out[] = { "out", NULL };
	static const char *const gate[] = { "pass", "fail", NULL };
	static const char *const cond[] = { "true", "false", NULL };
	static const char *const route[] = { "high", "medium", "low", NULL };
	CHECK(ports_are("gate", gate));
	CHECK(ports_are("condition", cond));
	CHECK(ports_are("route", route));
	CHECK(!ports_are("gate", out));
	for (size_t i = 0; i < node_types_count; i++) {
		const char *n = node_types[i]->name;
		if (strcmp(n, "gate") && strcmp(n, "condition") && strcmp(n, "route"))
			CHECK(ports_are(n, out));
	}
	CHECK(node_type_has_port(node_type_find("route"), "low"));
	CHECK(!node_type_has_port(node_type_find("route"), "out"));
	CHECK(!node_type_find("input")->takes_input);
	CHECK(node_type_find("output")->takes_input);
}

TEST(palette_document)
{
	cJSON *p = node_types_json();
	CHECK_INT(cJSON_GetArraySize(p), node_types_count);
	const cJSON *agent = NULL, *it;
	cJSON_ArrayForEach(it, p)
	{
		CHECK(cJSON_IsObject(cJSON_GetObjectItem(it, "options_schema")));
		if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(it, "name")), "agent"))
			agent = it;
	}
	CHECK(agent != NULL);
	const cJSON *sel = cJSON_GetObjectItem(
		cJSON_GetObjectItem(cJSON_GetObjectItem(agent, "options_schema"), "properties"),
		"select");
	const cJSON *strat = cJSON_GetObjectItem(cJSON_GetObjectItem(sel, "properties"), "strategy");
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(strat, "enum")), 4);
	cJSON_Delete(p);
}

TEST_MAIN(TEST_ENTRY(every_spec_type_is_registered), TEST_ENTRY(schemas_parse_and_use_the_subset),
	  TEST_ENTRY(ports_as_specified), TEST_ENTRY(palette_document))
