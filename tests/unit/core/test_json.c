/* JSON limits (depth, UTF-8, NUL) and typed getters, with hostile input. */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "tests/unit/test.h"

static cJSON *parse(const char *s, struct err *e)
{
	err_clear(e);
	return json_parse(s, strlen(s), JSON_MAX_DEPTH, e);
}

static char *nested(int depth)
{
	char *s = malloc((size_t)depth * 2 + 1);
	for (int i = 0; i < depth; i++) {
		s[i] = '[';
		s[depth * 2 - 1 - i] = ']';
	}
	s[depth * 2] = '\0';
	return s;
}

TEST(json_depth_limit)
{
	struct err e;
	char *ok = nested(64), *bad = nested(65), *huge = nested(100000);
	cJSON *j = parse(ok, &e);
	CHECK(j != NULL);
	cJSON_Delete(j);
	CHECK(parse(bad, &e) == NULL);
	CHECK_STR(err_slug(&e), "too_deep");
	CHECK_INT(err_http_status(e.code), 400);
	CHECK(parse(huge, &e) == NULL);
	CHECK_STR(err_slug(&e), "too_deep");
	/* brackets inside strings do not count */
	j = parse("{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}", &e);
	CHECK(j != NULL);
	cJSON_Delete(j);
	free(ok);
	free(bad);
	free(huge);
}

TEST(json_utf8)
{
	struct err e;
	static const char *const bad[] = {
		"\"\xff\"", "\"\xc0\xaf\"", "\"\xe0\x80\xaf\"", "\"\xed\xa0\x80\"",
		"\"\xf4\x90\x80\x80\"", "\"\xe2\x82\"", "\"\x80\"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(parse(bad[i], &e) == NULL);
		CHECK_STR(err_slug(&e), "invalid_utf8");
	}
	cJSON *j = parse("\"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80\"", &e);
	CHECK(j != NULL && cJSON_IsString(j));
	cJSON_Delete(j);
}

TEST(json_malformed)
{
	struct err e;
	static const char *const bad[] = { "", "{", "{\"a\":}", "[1,]", "{\"a\":1} x", "nul",
					   "{'a':1}", "]" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(parse(bad[i], &e) == NULL);
		CHECK_STR(err_slug(&e), "invalid_json");
	}
	/* An escaped NUL would cut the C string: "pw\u0000x" must not become "pw". */
	CHECK(parse("{\"password\":\"abc\\u0000def\"}", &e) == NULL);
	CHECK(parse("[\"\\u0000\"]", &e) == NULL);
	cJSON *ok = parse("{\"a\":\"\\\\u0000\"}", &e); /* an escaped backslash, then text */
	CHECK(ok != NULL);
	cJSON_Delete(ok);
	ok = parse("{\"a\":\"\\u0041\"}", &e);
	CHECK(ok != NULL && !strcmp(cJSON_GetObjectItem(ok, "a")->valuestring, "A"));
	cJSON_Delete(ok);
	const char withnul[] = "{\"a\":1}\0";
	err_clear(&e);
	CHECK(json_parse(withnul, sizeof(withnul) - 1, 64, &e) == NULL);
}

TEST(json_getters)
{
	struct err e;
	cJSON *j = parse("{\"s\":\"abc\",\"n\":2.5,\"i\":7,\"b\":true,\"z\":null,\"e\":\"red\","
			 "\"o\":{},\"a\":[1,2,3]}", &e);
	const char *s;
	double d;
	int64_t i;
	int b, en;
	const cJSON *o;
	static const char *const colors[] = { "green", "red", NULL };
	CHECK(j != NULL);
	CHECK_INT(json_get_str(j, "s", JSON_REQUIRED, 10, &s, &e), 0);
	CHECK_STR(s, "abc");
	CHECK(json_get_str(j, "s", 0, 2, &s, &e) < 0);
	CHECK_STR(e.field, "s");
	CHECK(json_get_str(j, "n", 0, 0, &s, &e) < 0);
	CHECK_INT(json_get_str(j, "missing", 0, 0, &s, &e), 1);
	CHECK(json_get_str(j, "missing", JSON_REQUIRED, 0, &s, &e) < 0);
	CHECK_STR(err_slug(&e), "missing_field");
	CHECK_INT(json_get_num(j, "n", 0, 0, 3, &d, &e), 0);
	CHECK_NEAR(d, 2.5, 1e-12);
	CHECK(json_get_num(j, "n", 0, 0, 1, &d, &e) < 0);
	CHECK_STR(err_slug(&e), "out_of_range");
	CHECK(json_get_int(j, "n", 0, 0, 10, &i, &e) < 0);
	CHECK_INT(json_get_int(j, "i", 0, 0, 10, &i, &e), 0);
	CHECK_INT(i, 7);
	CHECK_INT(json_get_bool(j, "b", 0, &b, &e), 0);
	CHECK_INT(b, 1);
	CHECK(json_get_bool(j, "i", 0, &b, &e) < 0);
	CHECK_INT(json_get_str(j, "z", JSON_NULLABLE, 0, &s, &e), 1);
	CHECK(json_get_str(j, "z", 0, 0, &s, &e) < 0);
	CHECK_INT(json_get_enum(j, "e", 0, colors, &en, &e), 0);
	CHECK_INT(en, 1);
	CHECK(json_get_enum(j, "s", 0, colors, &en, &e) < 0);
	CHECK_INT(json_get_obj(j, "o", 0, &o, &e), 0);
	CHECK(json_get_arr(j, "a", 0, 2, &o, &e) < 0);
	CHECK_INT(json_get_arr(j, "a", 0, 3, &o, &e), 0);
	cJSON_Delete(j);
}

TEST(json_only_fields_refuses_mass_assignment)
{
	struct err e;
	static const char *const allowed[] = { "name", "email", NULL };
	cJSON *j = parse("{\"name\":\"x\",\"role\":\"owner\"}", &e);
	CHECK(json_only_fields(j, allowed, &e) < 0);
	CHECK_STR(err_slug(&e), "unknown_field");
	CHECK_STR(e.field, "role");
	cJSON_Delete(j);
	j = parse("{\"name\":\"x\"}", &e);
	CHECK_INT(json_only_fields(j, allowed, &e), 0);
	cJSON_Delete(j);
}

TEST_MAIN(TEST_ENTRY(json_depth_limit), TEST_ENTRY(json_utf8), TEST_ENTRY(json_malformed),
	  TEST_ENTRY(json_getters), TEST_ENTRY(json_only_fields_refuses_mass_assignment))
