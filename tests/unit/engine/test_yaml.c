/* YAML import/export: JSON -> YAML -> JSON is byte-identical for SPEC §3's
 * example and tricky strings and numbers; hostile YAML (aliases, anchors,
 * foreign tags, deep nesting, 2 MB) is refused with a clear error. */
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "core/core.h"
#include "tests/unit/test.h"

static void round_trip(const char *json)
{
	struct err e;
	char *yaml = NULL, *back = NULL;
	cJSON *doc = cJSON_Parse(json);
	char *canon = json_print(doc);
	CHECK_INT(pattern_json_to_yaml(canon, strlen(canon), &yaml, &e), 0);
	if (yaml)
		CHECK_INT(pattern_yaml_to_json(yaml, strlen(yaml), &back, &e), 0);
	CHECK_STR(back, canon);
	if (!back || strcmp(back, canon))
		fprintf(stderr, "YAML was:\n%s\n", yaml ? yaml : e.msg);
	free(yaml);
	free(back);
	free(canon);
	cJSON_Delete(doc);
}

TEST(round_trips)
{
	round_trip("{\"name\":\"code-review\",\"description\":\"Three reviewers, expertise-weighted consensus\","
		   "\"input\":{\"type\":\"object\",\"required\":[\"code\"],\"properties\":{\"code\":"
		   "{\"type\":\"string\",\"maxLength\":200000}}},"
		   "\"nodes\":[{\"id\":\"in\",\"type\":\"input\"},"
		   "{\"id\":\"reviewers\",\"type\":\"agent\",\"from\":\"in\",\"select\":{\"capabilities\":"
		   "[\"code-analysis\"],\"min\":3,\"max\":5},\"task\":\"Review this code\","
		   "\"data\":\".input.code\"},{\"id\":\"verdict\",\"type\":\"consensus\",\"from\":"
		   "\"reviewers\",\"key\":\".value.recommendation\",\"weight\":\"expertise\"},"
		   "{\"id\":\"out\",\"type\":\"output\",\"from\":\"verdict\"}],"
		   "\"ui\":{\"positions\":{\"in\":{\"x\":12.5,\"y\":-3}}}}");
	round_trip("[\"yes\",\"no\",\"on\",\"0.10\",\"null\",\"\",\"a: b\",\"- x\",\"true\",\"~\","
		   "\"1e3\",\"0x1f\",\"#c\",\"&a\",\"*a\",\"!t\",\"%x\",\"@x\",\"`x\",\"x #y\","
		   "\"caf\\u00e9 \\u2603 \\ud83d\\ude00\",\"line1\\nline2\\n\",\"trail \\n\","
		   "\" lead\",\"tab\\tx\",\"q\\\"uote'\",\"\\\\back\",\"{x}\",\"[1]\",\"1:20\",\".5\","
		   "\"+1\",\"-\",\"?\",\":\",\"ctl\\u0001\"]");
	round_trip("{\"n\":[0,-1,1.5,1e+300,123456789012,-0.25],\"b\":[true,false,null],"
		   "\"deep\":[[[[{\"a\":[{}]}]]]],\"empty\":{},\"list\":[],\"yes\":\"y\",\"1\":2,"
		   "\"multi\\nkey\":\"v\"}");
	round_trip("\"just a string\"");
	round_trip("42");
}

static void refused(const char *yaml, const char *want)
{
	struct err e;
	char *json = NULL;
	err_clear(&e);
	CHECK(pattern_yaml_to_json(yaml, strlen(yaml), &json, &e) < 0);
	CHECK(json == NULL);
	CHECK(strstr(e.msg, want) != NULL);
	if (!strstr(e.msg, want))
		fprintf(stderr, "message: %s\n", e.msg);
	free(json);
}

TEST(hostile_yaml_refused)
{
	refused("a: &x [1, 2]\nb: *x\n", "anchors");
	refused("a: [1]\nb: *x\n", "aliases");
	refused("a: &a [\"lol\",\"lol\"]\nb: &b [*a,*a]\nc: [*b,*b]\n", "anchors");
	refused("a: !!python/object:os.system x\n", "tag");
	refused("a: !custom x\n", "tag");
	refused("a: b\na: c\n", "duplicate key");
	refused("a: [1, 2\n", "line");
	refused("", "empty");
	struct buf b = BUF_INIT;
	for (int i = 0; i < 100; i++)
		buf_adds(&b, "[");
	for (int i = 0; i < 100; i++)
		buf_adds(&b, "]");
	refused(b.p, "deeper");
	buf_reset(&b);
	for (int i = 0; i < 100; i++)
		buf_addf(&b, "%*sk:\n", i, "");
	refused(b.p, "deeper");
	buf_reset(&b);
	while (b.len < 2u << 20)
		buf_adds(&b, "- aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n");
	refused(b.p, "at most");
	buf_release(&b);
}

TEST(yaml_types)
{
	struct err e;
	char *json = NULL;
	const char *y = "a: 0.10\nb: yes\nc: ~\nd: !!str 12\ne: \"12\"\nf: TRUE\ng: |\n  x\n  y\n";
	CHECK_INT(pattern_yaml_to_json(y, strlen(y), &json, &e), 0);
	CHECK_STR(json, "{\"a\":0.10,\"b\":\"yes\",\"c\":null,\"d\":\"12\",\"e\":\"12\",\"f\":true,"
			"\"g\":\"x\\ny\\n\"}");
	free(json);
	CHECK(pattern_json_to_yaml("{\"a\":", 5, &json, &e) < 0);
}

TEST_MAIN(TEST_ENTRY(round_trips), TEST_ENTRY(hostile_yaml_refused), TEST_ENTRY(yaml_types))
