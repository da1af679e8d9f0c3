/* Validation problems: growth, formatting, safe truncation and the JSON shape. */
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "core/core.h"
#include "tests/unit/test.h"

TEST(problems_grow_and_format)
{
	struct problems p;
	char id[16];

	problems_init(&p);
	CHECK_INT(p.count, 0);
	for (int i = 0; i < 100; i++) {
		snprintf(id, sizeof(id), "n%d", i);
		problems_add(&p, id, "nodes[0].type", "unknown_type", "type %d of %s", i, "x");
	}
	CHECK_INT(p.count, 100);
	CHECK(p.cap >= 100);
	CHECK_STR(p.items[0].node_id, "n0");
	CHECK_STR(p.items[99].node_id, "n99");
	CHECK_STR(p.items[99].message, "type 99 of x");
	CHECK_STR(p.items[42].code, "unknown_type");
	problems_release(&p);
	CHECK(p.items == NULL);
	CHECK_INT(p.count, 0);
	problems_release(&p); /* twice is harmless */
}

TEST(problems_null_fields_are_empty)
{
	struct problems p;

	problems_init(&p);
	problems_add(&p, NULL, NULL, "missing_output", "no output node");
	CHECK_STR(p.items[0].node_id, "");
	CHECK_STR(p.items[0].path, "");
	CHECK_STR(p.items[0].message, "no output node");
	problems_release(&p);
}

TEST(problems_truncate_on_utf8_boundary)
{
	struct problems p;
	char big[1000], id[200];
	size_t len;

	/* 'é' is 2 bytes (C3 A9); 255 usable bytes = 127 whole 'é' + half of one:
	 * the half must go, leaving 254 bytes. */
	for (size_t i = 0; i + 2 < sizeof(big); i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	big[998] = '\0';
	/* node_id holds 63 bytes: "a" + 31 'é' = 63 bytes exactly, no cut. */
	id[0] = 'a';
	for (size_t i = 1; i + 2 < sizeof(id); i += 2)
		memcpy(id + i, "\xc3\xa9", 2);
	id[199] = '\0';
	problems_init(&p);
	problems_add(&p, id, big, "c", "%s", big);
	len = strlen(p.items[0].message);
	CHECK_INT(len, 254);
	CHECK(utf8_valid(p.items[0].message, len));
	CHECK_INT(strlen(p.items[0].node_id), 63);
	CHECK(utf8_valid(p.items[0].node_id, 63));
	CHECK_INT(strlen(p.items[0].path), 126); /* 127 usable: 63 'é' + a cut half */
	CHECK(utf8_valid(p.items[0].path, strlen(p.items[0].path)));
	problems_release(&p);
}

TEST(problems_json_omits_empty_fields)
{
	struct problems p;
	cJSON *arr;
	char *s;

	problems_init(&p);
	arr = problems_json(&p);
	s = json_print(arr);
	CHECK_STR(s, "[]");
	free(s);
	cJSON_Delete(arr);
	problems_add(&p, "", "", "missing_input", "no input node");
	problems_add(&p, "a", "nodes[1].from", "dangling_edge", "\"%s\" is not a node", "zz");
	arr = problems_json(&p);
	s = json_print(arr);
	CHECK_STR(s, "[{\"code\":\"missing_input\",\"message\":\"no input node\"},"
		     "{\"node_id\":\"a\",\"path\":\"nodes[1].from\",\"code\":\"dangling_edge\","
		     "\"message\":\"\\\"zz\\\" is not a node\"}]");
	free(s);
	cJSON_Delete(arr);
	problems_release(&p);
}

TEST_MAIN(TEST_ENTRY(problems_grow_and_format), TEST_ENTRY(problems_null_fields_are_empty),
	  TEST_ENTRY(problems_truncate_on_utf8_boundary), TEST_ENTRY(problems_json_omits_empty_fields))
