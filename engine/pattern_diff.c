/*
 * The difference between two pattern versions, for review: a list of
 * {op: add | remove | replace, path, from?, to?}. Objects compare by key;
 * arrays of objects that carry an "id" (nodes) compare by id, so moving a
 * node is no change and editing one names it ("nodes[reviewers].task");
 * other arrays compare as whole values.
 */
#include <stdio.h>
#include <string.h>

#include "engine/engine.h"
#include "core/core.h"

#define DIFF_MAX_CHANGES 1000

static void change(cJSON *out, const char *op, const char *path, const cJSON *from,
		   const cJSON *to)
{
	if (cJSON_GetArraySize(out) >= DIFF_MAX_CHANGES)
		return;
	cJSON *c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "op", op);
	cJSON_AddStringToObject(c, "path", path[0] ? path : ".");
	if (from)
		cJSON_AddItemToObject(c, "from", cJSON_Duplicate(from, 1));
	if (to)
		cJSON_AddItemToObject(c, "to", cJSON_Duplicate(to, 1));
	cJSON_AddItemToArray(out, c);
}

static const char *id_of(const cJSON *o)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
	return cJSON_IsString(id) ? id->valuestring : NULL;
}

/* Every element is an object with a distinct string id. */
static int keyed(const cJSON *arr)
{
	const cJSON *a, *b;
	if (!cJSON_IsArray(arr))
		return 0;
	cJSON_ArrayForEach(a, arr) {
		if (!id_of(a))
			return 0;
		for (b = a->next; b; b = b->next)
			if (id_of(b) && !strcmp(id_of(a), id_of(b)))
				return 0;
	}
	return 1;
}

static const cJSON *find_id(const cJSON *arr, const char *id)
{
	const cJSON *a;
	cJSON_ArrayForEach(a, arr) if (!strcmp(id_of(a), id)) return a;
	return NULL;
}

static void diff(cJSON *out, const char *path, const cJSON *a, const cJSON *b, int depth)
{
	char sub[512];
	const cJSON *x;
	if (cJSON_Compare(a, b, 1))
		return;
	if (depth < 32 && cJSON_IsObject(a) && cJSON_IsObject(b)) {
		cJSON_ArrayForEach(x, a) {
			snprintf(sub, sizeof(sub), "%s.%s", path, x->string);
			const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
			if (!y)
				change(out, "remove", sub, x, NULL);
			else
				diff(out, sub, x, y, depth + 1);
		}
		cJSON_ArrayForEach(x, b) {
			snprintf(sub, sizeof(sub), "%s.%s", path, x->string);
			if (!cJSON_GetObjectItemCaseSensitive(a, x->string))
				change(out, "add", sub, NULL, x);
		}
		return;
	}
	if (depth < 32 && keyed(a) && keyed(b)) {
		cJSON_ArrayForEach(x, a) {
			snprintf(sub, sizeof(sub), "%s[%s]", path, id_of(x));
			const cJSON *y = find_id(b, id_of(x));
			if (!y)
				change(out, "remove", sub, x, NULL);
			else
				diff(out, sub, x, y, depth + 1);
		}
		cJSON_ArrayForEach(x, b) {
			snprintf(sub, sizeof(sub), "%s[%s]", path, id_of(x));
			if (!find_id(a, id_of(x)))
				change(out, "add", sub, NULL, x);
		}
		return;
	}
	change(out, "replace", path, a, b);
}

cJSON *pattern_diff(const cJSON *from, const cJSON *to)
{
	cJSON *out = cJSON_CreateArray();
	diff(out, "", from, to, 0);
	return out;
}
