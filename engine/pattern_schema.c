/*
 * The JSON Schema subset of SPEC.md §3: checks a value against a schema
 * (node options, execution input) and checks that a pattern's input schema
 * only uses the subset. Every mismatch becomes a problem with its path; the
 * walk never stops at the first.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/pattern_internal.h"
#include "core/core.h"

struct sctx {
	struct problems *pr;
	const char *node_id;
	const char *unknown_code; /* "unknown_option" or "unknown_field" */
	struct buf path;
};

static void sctx_problem(struct sctx *c, const char *code, const char *msg, const char *arg)
{
	problems_add(c->pr, c->node_id, c->path.p, code, "%s: %s%s", c->path.p, msg, arg ? arg : "");
}

static int type_matches(const cJSON *v, const char *type)
{
	if (!strcmp(type, "object"))
		return cJSON_IsObject(v);
	if (!strcmp(type, "array"))
		return cJSON_IsArray(v);
	if (!strcmp(type, "string"))
		return cJSON_IsString(v);
	if (!strcmp(type, "number"))
		return cJSON_IsNumber(v);
	if (!strcmp(type, "integer"))
		return cJSON_IsNumber(v) && isfinite(v->valuedouble) &&
		       floor(v->valuedouble) == v->valuedouble;
	if (!strcmp(type, "boolean"))
		return cJSON_IsBool(v);
	if (!strcmp(type, "null"))
		return cJSON_IsNull(v);
	return 0;
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static int check_type_enum(struct sctx *c, const cJSON *v, const cJSON *schema)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(schema, "type");
	const cJSON *en = cJSON_GetObjectItemCaseSensitive(schema, "enum");
	if (cJSON_IsString(type) && !type_matches(v, type->valuestring)) {
		sctx_problem(c, "invalid_type", "expected ", type->valuestring);
		return -1;
	}
	if (cJSON_IsArray(en)) {
		const cJSON *it;
		cJSON_ArrayForEach(it, en)
		{
			if (cJSON_Compare(it, v, 1))
				return 0;
		}
		char *allowed = json_print(en);
		sctx_problem(c, "invalid_enum", "must be one of ", allowed);
		free(allowed);
		return -1;
	}
	return 0;
}

static void check_scalar(struct sctx *c, const cJSON *v, const cJSON *schema)
{
	const cJSON *min = cJSON_GetObjectItemCaseSensitive(schema, "minimum");
	const cJSON *max = cJSON_GetObjectItemCaseSensitive(schema, "maximum");
	const cJSON *maxlen = cJSON_GetObjectItemCaseSensitive(schema, "maxLength");
	const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(schema, "format");
	if (cJSON_IsNumber(v)) {
		if ((cJSON_IsNumber(min) && v->valuedouble < min->valuedouble) ||
		    (cJSON_IsNumber(max) && v->valuedouble > max->valuedouble)) {
			problems_add(c->pr, c->node_id, c->path.p, "out_of_range",
				     "%s: must be between %g and %g", c->path.p,
				     cJSON_IsNumber(min) ? min->valuedouble : -INFINITY,
				     cJSON_IsNumber(max) ? max->valuedouble : INFINITY);
		}
		return;
	}
	if (!cJSON_IsString(v))
		return;
	if (cJSON_IsNumber(maxlen) && (double)utf8_chars(v->valuestring) > maxlen->valuedouble)
		problems_add(c->pr, c->node_id, c->path.p, "too_long", "%s: longer than %g characters",
			     c->path.p, maxlen->valuedouble);
	else if (cJSON_IsString(fmt) && !strcmp(fmt->valuestring, "jq")) {
		struct err e;
		err_clear(&e);
		if (pattern_expr_check(v->valuestring, strlen(v->valuestring), &e))
			problems_add(c->pr, c->node_id, c->path.p, err_slug(&e), "%s: %s", c->path.p,
				     e.msg);
	}
}

static void check_value(struct sctx *c, const cJSON *v, const cJSON *schema);

static void check_object(struct sctx *c, const cJSON *v, const cJSON *schema)
{
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
	const cJSON *req = cJSON_GetObjectItemCaseSensitive(schema, "required");
	const cJSON *extra = cJSON_GetObjectItemCaseSensitive(schema, "additionalProperties");
	size_t mark = c->path.len;
	const cJSON *it;

	cJSON_ArrayForEach(it, v)
	{
		const cJSON *sub = cJSON_GetObjectItemCaseSensitive(props, it->string);
		buf_addf(&c->path, "%s%s", c->path.len ? "." : "", it->string);
		if (sub)
			check_value(c, it, sub);
		else if (cJSON_IsFalse(extra))
			sctx_problem(c, c->unknown_code,
				     strcmp(c->unknown_code, "unknown_option") ? "unknown field"
									       : "unknown option",
				     NULL);
		buf_truncate(&c->path, mark);
	}
	cJSON_ArrayForEach(it, req)
	{
		if (!cJSON_IsString(it) || cJSON_GetObjectItemCaseSensitive(v, it->valuestring))
			continue;
		buf_addf(&c->path, "%s%s", c->path.len ? "." : "", it->valuestring);
		sctx_problem(c, strcmp(c->unknown_code, "unknown_option") ? "missing_field"
									  : "missing_option",
			     "required", NULL);
		buf_truncate(&c->path, mark);
	}
}

static void check_value(struct sctx *c, const cJSON *v, const cJSON *schema)
{
	if (check_type_enum(c, v, schema))
		return;
	if (cJSON_IsObject(v)) {
		check_object(c, v, schema);
	} else if (cJSON_IsArray(v)) {
		const cJSON *items = cJSON_GetObjectItemCaseSensitive(schema, "items");
		const cJSON *max = cJSON_GetObjectItemCaseSensitive(schema, "maxItems");
		size_t mark = c->path.len, i = 0;
		const cJSON *it;
		if (cJSON_IsNumber(max) && cJSON_GetArraySize(v) > max->valuedouble) {
			sctx_problem(c, "too_many_items", "too many items", NULL);
			return;
		}
		cJSON_ArrayForEach(it, v)
		{
			buf_addf(&c->path, "[%zu]", i++);
			if (cJSON_IsObject(items))
				check_value(c, it, items);
			buf_truncate(&c->path, mark);
		}
	} else {
		check_scalar(c, v, schema);
	}
}

void pattern_schema_check(const cJSON *schema, const cJSON *value, const char *node_id,
			  const char *path, struct problems *pr)
{
	struct sctx c = { .pr = pr, .node_id = node_id ? node_id : "",
			  .unknown_code = path && !strncmp(path, "nodes[", 6) ? "unknown_option"
								       : "unknown_field" };
	buf_init(&c.path);
	buf_adds(&c.path, path ? path : "");
	check_value(&c, value, schema);
	buf_release(&c.path);
}

/* ---- the input schema itself ---------------------------------------------------- */

static const char *const keywords[] = {
	"type", "properties", "required", "enum", "minimum", "maximum", "minLength", "maxLength",
	"minItems", "maxItems", "items", "default", "description", "title",
	"additionalProperties", "format", NULL,
};
static const char *const types[] = {
	"object", "array", "string", "number", "integer", "boolean", "null", NULL,
};

static int in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return 1;
	return 0;
}

static void meta_keyword(struct sctx *c, const cJSON *k);

static void meta_schema(struct sctx *c, const cJSON *s)
{
	size_t mark = c->path.len;
	const cJSON *k;
	if (!cJSON_IsObject(s)) {
		sctx_problem(c, "invalid_schema", "a schema is an object", NULL);
		return;
	}
	cJSON_ArrayForEach(k, s)
	{
		buf_addf(&c->path, ".%s", k->string);
		meta_keyword(c, k);
		buf_truncate(&c->path, mark);
	}
}

static void meta_keyword(struct sctx *c, const cJSON *k)
{
	const char *n = k->string;
	size_t mark = c->path.len;
	const cJSON *it;
	if (!in_list(keywords, n)) {
		sctx_problem(c, "unknown_field", "unsupported schema keyword", NULL);
	} else if (!strcmp(n, "type")) {
		if (!cJSON_IsString(k) || !in_list(types, k->valuestring))
			sctx_problem(c, "invalid_schema", "unknown type", NULL);
	} else if (!strcmp(n, "properties")) {
		if (!cJSON_IsObject(k))
			sctx_problem(c, "invalid_schema", "properties is an object", NULL);
		cJSON_ArrayForEach(it, (cJSON_IsObject(k) ? k : NULL))
		{
			buf_addf(&c->path, ".%s", it->string);
			meta_schema(c, it);
			buf_truncate(&c->path, mark);
		}
	} else if (!strcmp(n, "items")) {
		meta_schema(c, k);
	} else if (!strcmp(n, "required") || !strcmp(n, "enum")) {
		if (!cJSON_IsArray(k))
			sctx_problem(c, "invalid_schema", "expected an array", NULL);
		cJSON_ArrayForEach(it, (!strcmp(n, "required") && cJSON_IsArray(k) ? k : NULL))
		{
			if (!cJSON_IsString(it))
				sctx_problem(c, "invalid_schema", "required lists names", NULL);
		}
	} else if (strstr(n, "min") == n || strstr(n, "max") == n) {
		if (!cJSON_IsNumber(k))
			sctx_problem(c, "invalid_schema", "expected a number", NULL);
	} else if (!strcmp(n, "additionalProperties") && !cJSON_IsBool(k)) {
		sctx_problem(c, "invalid_schema", "expected a boolean", NULL);
	}
}

void schema_meta_check(const cJSON *schema, struct problems *pr)
{
	struct sctx c = { .pr = pr, .node_id = "", .unknown_code = "unknown_field" };
	buf_init(&c.path);
	buf_adds(&c.path, "input");
	meta_schema(&c, schema);
	buf_release(&c.path);
}
