/*
 * /api/v1/patterns: validation of a document (every problem at once, each
 * with node id and field path), the node-type palette, and the patterns of
 * the caller's workspace: create (with version 1, taking a "patterns"
 * quota unit), list, get (with the latest definition) and delete.
 * Versions, export and import are in pattern_versions.c.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/patterns_internal.h"
#include "db/db.h"
#include "engine/engine.h"
#include "server/server.h"
#include "core/core.h"

#define PATTERNS_PAGE_DEFAULT 50
#define PATTERNS_PAGE_MAX 100

int api_patterns_validate(struct req *r)
{
	struct pattern *p = NULL;
	struct problems pr;
	struct err e;
	err_clear(&e);
	problems_init(&pr);
	int rc = pattern_parse(r->body, r->body_len, &p, &pr, &e);
	pattern_free(p);
	if (rc && rc != ERR_UNPROCESSABLE) {
		problems_release(&pr);
		r->err = e;
		return rc;
	}
	cJSON *j = cJSON_CreateObject();
	cJSON_AddBoolToObject(j, "valid", rc == 0 && pr.count == 0);
	cJSON_AddItemToObject(j, "problems", problems_json(&pr));
	problems_release(&pr);
	return req_json(r, 200, j);
}

int api_node_types(struct req *r)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddItemToObject(j, "items", node_types_json());
	return req_json(r, 200, j);
}

static void version_release(void *p)
{
	store_pattern_version_release(p);
}

struct pattern_version_row *pattern_version_new(struct req *r)
{
	struct pattern_version_row *v = arena_alloc(r->arena, sizeof(*v));
	arena_defer(r->arena, version_release, v);
	return v;
}

const char *pattern_workspace(struct req *r)
{
	return r->auth.workspace_id[0] ? r->auth.workspace_id : NULL;
}

const char *pattern_actor(struct req *r)
{
	return r->auth.user_id[0] ? r->auth.user_id : NULL;
}

static int not_found(struct req *r)
{
	return req_fail(r, ERR_NOT_FOUND, "not_found", NULL, "no such pattern");
}

/* Names that /api/v1/patterns/<name> routes own: a pattern so named could not be read by name. */
static int name_reserved(const char *s)
{
	static const char *const words[] = { "library", "validate", "import" };
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (!strcmp(s, words[i]))
			return 1;
	return 0;
}

/* Letters, digits, '.', '_' and '-', starting with a letter or digit. */
static int name_ok(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= PATTERN_ROW_NAME_MAX && strchr("._-", s[0]) == NULL &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* The 422 answer: the first problem as the error, all of them in problems. */
static int doc_refuse(struct req *r, const struct problems *pr)
{
	cJSON *j = cJSON_CreateObject(), *err = cJSON_AddObjectToObject(j, "error");
	const struct problem *first = pr->count ? &pr->items[0] : NULL;
	char field[sizeof(first->path) + 16] = "definition";
	if (first && first->path[0]) {
		str_copy(field, sizeof(field), "definition.");
		str_copy(field + strlen(field), sizeof(field) - strlen(field), first->path);
	}
	cJSON_AddStringToObject(err, "code", "invalid_pattern");
	cJSON_AddStringToObject(err, "message",
				first ? first->message : "the pattern document is not valid");
	cJSON_AddStringToObject(err, "field", field);
	cJSON_AddItemToObject(j, "problems", problems_json(pr));
	req_json(r, 422, j);
	return 1;
}

/* Canonical text of the valid document p was parsed from. */
static int doc_fill(struct req *r, const char *text, size_t len, const struct pattern *p,
		    const char *expect_name, struct pattern_doc *out)
{
	cJSON *doc = cJSON_ParseWithLength(text, len);
	char *canon = doc ? json_print(doc) : NULL;
	cJSON_Delete(doc);
	if (!canon)
		return req_fail(r, ERR_INVALID, "invalid_json", "definition", "not JSON");
	out->json = arena_strdup(r->arena, canon);
	free(canon);
	out->name = arena_strdup(r->arena, p->name ? p->name : "");
	out->description = arena_strdup(r->arena, p->description ? p->description : "");
	if (expect_name && strcmp(out->name, expect_name))
		return req_fail(r, ERR_UNPROCESSABLE, "invalid_pattern", "definition.name",
				"the document's name must be the pattern's name '%s'", expect_name);
	if (!name_ok(out->name))
		return req_fail(r, ERR_UNPROCESSABLE, "invalid_pattern", "definition.name",
				"'name' takes 1 to %d letters, digits, '.', '_' and '-'",
				PATTERN_ROW_NAME_MAX);
	if (name_reserved(out->name))
		return req_fail(r, ERR_INVALID, "reserved_name", "name",
				"'%s' is reserved by the API (/api/v1/patterns/%s)", out->name,
				out->name);
	return 0;
}

int pattern_doc_check(struct req *r, const char *text, size_t len, const char *expect_name,
		      struct pattern_doc *out)
{
	struct pattern *p = NULL;
	struct problems pr;
	struct err e;
	int rc;
	err_clear(&e);
	problems_init(&pr);
	memset(out, 0, sizeof(*out));
	rc = pattern_parse(text, len, &p, &pr, &e);
	if (rc == ERR_UNPROCESSABLE || (!rc && pr.count))
		rc = doc_refuse(r, &pr);
	else if (rc)
		r->err = e;
	else
		rc = doc_fill(r, text, len, p, expect_name, out);
	pattern_free(p);
	problems_release(&pr);
	return rc;
}

int pattern_load(struct req *r, struct db *db, struct pattern_row *p)
{
	const char *id = req_param(r, 0);
	int rc;
	if (!pattern_workspace(r) || !id || strlen(id) > PATTERN_ROW_NAME_MAX)
		return not_found(r);
	rc = store_pattern_get(db, r->auth.tenant_id, pattern_workspace(r), id, p, &r->err);
	return rc == ERR_NOT_FOUND ? not_found(r) : rc;
}

cJSON *pattern_version_json(const struct pattern_version_row *v, int with_definition)
{
	cJSON *j = cJSON_CreateObject(), *def;
	cJSON_AddStringToObject(j, "id", v->id);
	cJSON_AddStringToObject(j, "pattern_id", v->pattern_id);
	cJSON_AddNumberToObject(j, "version", (double)v->version);
	cJSON_AddStringToObject(j, "message", v->message);
	if (v->created_by[0]) { /* who saved it; the name goes with the account */
		cJSON *by = cJSON_AddObjectToObject(j, "created_by");
		cJSON_AddStringToObject(by, "id", v->created_by);
		if (v->author[0])
			cJSON_AddStringToObject(by, "name", v->author);
		else
			cJSON_AddNullToObject(by, "name");
	} else {
		cJSON_AddNullToObject(j, "created_by");
	}
	if (with_definition) {
		def = v->definition ? cJSON_Parse(v->definition) : NULL;
		cJSON_AddItemToObject(j, "definition", def ? def : cJSON_CreateNull());
	}
	api_add_time(j, "created_at", v->created_at);
	return j;
}

cJSON *pattern_json(const struct pattern_row *p, const struct pattern_version_row *v)
{
	cJSON *j = cJSON_CreateObject(), *def;
	cJSON_AddStringToObject(j, "id", p->id);
	cJSON_AddStringToObject(j, "name", p->name);
	cJSON_AddStringToObject(j, "description", p->description);
	cJSON_AddNumberToObject(j, "latest_version", (double)p->latest_version);
	if (v) {
		cJSON_AddNumberToObject(j, "version", (double)v->version);
		def = v->definition ? cJSON_Parse(v->definition) : NULL;
		cJSON_AddItemToObject(j, "definition", def ? def : cJSON_CreateNull());
	}
	api_add_time(j, "created_at", p->created_at);
	api_add_time(j, "updated_at", p->updated_at);
	return j;
}

cJSON *pattern_details(const struct pattern_row *p, int64_t version)
{
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "name", p->name);
	if (version > 0)
		cJSON_AddNumberToObject(d, "version", (double)version);
	return d;
}

int pattern_tx_finish(struct req *r, struct db *db, int rc)
{
	if (!rc)
		rc = db_commit(db, &r->err);
	else if (!r->err.code)
		err_set(&r->err, rc, NULL, "the pattern was not changed");
	db_rollback(db); /* no-op after a commit */
	return rc;
}

int pattern_insert(struct req *r, const struct pattern_row *in, const char *definition,
		   struct pattern_row *out, struct pattern_version_row *v)
{
	struct db *db;
	int rc;
	if ((rc = req_db(r, &db)) || (rc = db_begin(db, DB_TX_WRITE, &r->err)))
		return rc;
	if (!(rc = store_pattern_create(db, r->auth.tenant_id, in, definition, pattern_actor(r),
					out, &r->err)) &&
	    !(rc = store_pattern_version_get(db, r->auth.tenant_id, out, 1, v, &r->err)))
		rc = req_audit(r, "pattern.created", "pattern", out->id, "success",
			       pattern_details(out, 1));
	return pattern_tx_finish(r, db, rc);
}

int pattern_create(struct req *r, const char *name, const char *desc, const char *text,
		   size_t len)
{
	struct pattern_version_row *v = pattern_version_new(r);
	struct pattern_row in, out;
	struct pattern_doc doc;
	int rc;
	if (!name_ok(name))
		return req_fail(r, ERR_INVALID, "invalid_field", "name",
				"'name' takes 1 to %d letters, digits, '.', '_' and '-'",
				PATTERN_ROW_NAME_MAX);
	if (name_reserved(name))
		return req_fail(r, ERR_INVALID, "reserved_name", "name",
				"'%s' is reserved by the API (/api/v1/patterns/%s)", name, name);
	if (!pattern_workspace(r))
		return req_fail(r, ERR_NOT_FOUND, "workspace_not_found", NULL, "no workspace");
	if ((rc = pattern_doc_check(r, text, len, name, &doc)))
		return rc > 0 ? 0 : rc;
	memset(&in, 0, sizeof(in));
	str_copy(in.workspace_id, sizeof(in.workspace_id), pattern_workspace(r));
	str_copy(in.name, sizeof(in.name), name);
	str_copy(in.description, sizeof(in.description), desc ? desc : doc.description);
	if ((rc = pattern_insert(r, &in, doc.json, &out, v)))
		return rc;
	return req_json(r, 201, pattern_json(&out, v));
}

/* {name, description?, definition} */
int api_patterns_create(struct req *r)
{
	static const char *const fields[] = { "name", "description", "definition", NULL };
	const char *name = NULL, *desc = NULL;
	const cJSON *def = NULL;
	char *text;
	int rc;
	if ((rc = json_only_fields(r->json, fields, &r->err)) ||
	    (rc = json_get_str(r->json, "name", JSON_REQUIRED, PATTERN_ROW_NAME_MAX, &name,
			       &r->err)) < 0 ||
	    (rc = json_get_str(r->json, "description", JSON_NULLABLE, PATTERN_DESC_MAX, &desc,
			       &r->err)) < 0 ||
	    (rc = json_get_obj(r->json, "definition", JSON_REQUIRED, &def, &r->err)) < 0)
		return rc;
	text = json_print(def);
	rc = pattern_create(r, name, desc, text, strlen(text));
	free(text);
	return rc;
}

int api_patterns_get(struct req *r)
{
	struct pattern_row p;
	struct pattern_version_row *v = pattern_version_new(r);
	struct db *db;
	int rc;
	if ((rc = req_db(r, &db)) || (rc = pattern_load(r, db, &p)) ||
	    (rc = store_pattern_version_get(db, r->auth.tenant_id, &p, p.latest_version, v,
					    &r->err)))
		return rc;
	return req_json(r, 200, pattern_json(&p, v));
}

int api_patterns_delete(struct req *r)
{
	struct pattern_row p;
	struct db *db;
	int rc;
	if ((rc = req_db(r, &db)) || (rc = db_begin(db, DB_TX_WRITE, &r->err)))
		return rc;
	if (!(rc = pattern_load(r, db, &p)) &&
	    !(rc = store_pattern_delete(db, r->auth.tenant_id, &p, &r->err)))
		rc = req_audit(r, "pattern.deleted", "pattern", p.id, "success",
			       pattern_details(&p, 0));
	if ((rc = pattern_tx_finish(r, db, rc)))
		return rc;
	r->status = 204;
	return 0;
}

int api_patterns_list(struct req *r)
{
	const char *cursor = req_query(r, "cursor");
	char before_id[UUID_STR_LEN + 64];
	int64_t limit, before_ms = 0;
	int n = 0, rc;
	struct db *db;
	if ((rc = api_query_limit(r, PATTERNS_PAGE_DEFAULT, PATTERNS_PAGE_MAX, &limit)) ||
	    (cursor &&
	     (rc = api_cursor_decode(r, cursor, &before_ms, before_id, sizeof(before_id)))) ||
	    (rc = req_db(r, &db)))
		return rc;
	if (!pattern_workspace(r))
		return req_fail(r, ERR_NOT_FOUND, "workspace_not_found", NULL, "no workspace");
	/* One more than asked: its presence means there is a next page. */
	struct pattern_row *items = arena_alloc(r->arena, sizeof(*items) * (size_t)(limit + 1));
	if ((rc = store_patterns_list(db, r->auth.tenant_id, pattern_workspace(r), before_ms,
				      cursor ? before_id : NULL, items, (int)limit + 1, &n,
				      &r->err)))
		return rc;
	cJSON *j = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(j, "items");
	for (int i = 0; i < n && i < limit; i++)
		cJSON_AddItemToArray(arr, pattern_json(&items[i], NULL));
	if (n > limit)
		cJSON_AddStringToObject(j, "next_cursor",
					api_cursor_encode(r, items[limit - 1].updated_at,
							  items[limit - 1].id));
	else
		cJSON_AddNullToObject(j, "next_cursor");
	return req_json(r, 200, j);
}
