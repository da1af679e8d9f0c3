/*
 * /api/v1/patterns/library: the built-in patterns (engine/library.c), read
 * by anyone who may read patterns, and cloned into the caller's workspace as
 * an ordinary pattern, through the same create path as POST /api/v1/patterns
 * (quota, audit, 409 when the name is taken).
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/patterns_internal.h"
#include "engine/engine.h"
#include "server/server.h"
#include "core/core.h"

/* Path parameter 0 as a built-in pattern, else 404. */
static int entry_load(struct req *r, const struct library_entry **out)
{
	*out = library_find(req_param(r, 0));
	if (!*out || !(*out)->json)
		return req_fail(r, ERR_NOT_FOUND, "not_found", NULL, "no such built-in pattern");
	return 0;
}

static cJSON *entry_json(const struct library_entry *le)
{
	cJSON *j = cJSON_CreateObject();
	cJSON *def = cJSON_Parse(le->json);
	cJSON_AddStringToObject(j, "name", le->name);
	cJSON_AddStringToObject(j, "description", le->description);
	cJSON_AddItemToObject(j, "definition", def ? def : cJSON_CreateNull());
	return j;
}

int api_library_list(struct req *r)
{
	cJSON *j = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(j, "items");
	for (size_t i = 0; i < library_count(); i++)
		if (library_get(i)->json)
			cJSON_AddItemToArray(items, entry_json(library_get(i)));
	return req_json(r, 200, j);
}

int api_library_get(struct req *r)
{
	const struct library_entry *le;
	int rc = entry_load(r, &le);
	return rc ? rc : req_json(r, 200, entry_json(le));
}

/* A pattern's name is also its document's name: a-z, 0-9 and '-'. */
static int clone_name_ok(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= PATTERN_NAME_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* {name?}: a copy named name (default: the built-in's) in the caller's workspace. */
int api_library_clone(struct req *r)
{
	static const char *const fields[] = { "name", NULL };
	const struct library_entry *le;
	const char *name = NULL;
	cJSON *doc = NULL;
	char *text = NULL;
	int rc;
	if ((rc = entry_load(r, &le)) || (rc = json_only_fields(r->json, fields, &r->err)) ||
	    (rc = json_get_str(r->json, "name", JSON_NULLABLE, PATTERN_NAME_MAX, &name,
			       &r->err)) < 0)
		return rc;
	name = name ? name : le->name;
	if (!clone_name_ok(name))
		return req_fail(r, ERR_INVALID, "invalid_field", "name",
				"'name' takes 1 to %d lowercase letters, digits and '-'",
				PATTERN_NAME_MAX);
	doc = cJSON_Parse(le->json);
	cJSON_ReplaceItemInObjectCaseSensitive(doc, "name", cJSON_CreateString(name));
	text = json_print(doc);
	rc = pattern_create(r, name, NULL, text, strlen(text));
	free(text);
	cJSON_Delete(doc);
	return rc;
}
