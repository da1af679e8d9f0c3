/*
 * /api/v1/patterns/{id}/versions: add an immutable version (numbered one
 * past the latest inside the write transaction), list and get versions;
 * /{id}/export as JSON or YAML; /import of a YAML or JSON document, which
 * creates the pattern or, when its name exists, adds a version to it.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/patterns_internal.h"
#include "db/db.h"
#include "engine/engine.h"
#include "server/server.h"
#include "core/core.h"

#define VERSIONS_PAGE_DEFAULT 50
#define VERSIONS_PAGE_MAX 100

/* Add a version to p in a write transaction (once more on a numbering clash). */
static int version_insert(struct req *r, const struct pattern_row *p, const char *definition,
			  const char *message, struct pattern_version_row *v)
{
	struct db *db;
	int rc = req_db(r, &db);
	for (int attempt = 0; !rc && attempt < 2; attempt++) {
		if ((rc = db_begin(db, DB_TX_WRITE, &r->err)))
			return rc;
		store_pattern_version_release(v);
		if (!(rc = store_pattern_add_version(db, r->auth.tenant_id, p, definition, message,
						     pattern_actor(r), v, &r->err)))
			rc = req_audit(r, "pattern.version_added", "pattern", p->id, "success",
				       pattern_details(p, v->version));
		rc = pattern_tx_finish(r, db, rc);
		if (rc != ERR_CONFLICT || attempt)
			break;
		err_clear(&r->err);
		rc = 0;
	}
	return rc;
}

int api_pattern_versions_create(struct req *r)
{
	static const char *const fields[] = { "definition", "message", NULL };
	struct pattern_version_row *v = pattern_version_new(r);
	const char *message = NULL;
	const cJSON *def = NULL;
	struct pattern_row p;
	struct pattern_doc doc;
	struct db *db;
	char *text;
	int rc;
	if ((rc = json_only_fields(r->json, fields, &r->err)) ||
	    (rc = json_get_obj(r->json, "definition", JSON_REQUIRED, &def, &r->err)) < 0 ||
	    (rc = json_get_str(r->json, "message", JSON_NULLABLE, PATTERN_MSG_MAX, &message,
			       &r->err)) < 0 ||
	    (rc = req_db(r, &db)) || (rc = pattern_load(r, db, &p)))
		return rc;
	text = json_print(def);
	rc = pattern_doc_check(r, text, strlen(text), p.name, &doc);
	free(text);
	if (rc)
		return rc > 0 ? 0 : rc;
	if ((rc = version_insert(r, &p, doc.json, message, v)))
		return rc;
	return req_json(r, 201, pattern_version_json(v, 1));
}

/* Path parameter 1 as a version number; anything else is no such version. */
static int version_param(struct req *r, int64_t *out)
{
	const char *s = req_param(r, 1);
	if (!s || strlen(s) > 18 || strspn(s, "0123456789") != strlen(s) || str_to_i64(s, out) ||
	    *out < 1)
		return req_fail(r, ERR_NOT_FOUND, "not_found", NULL, "no such version");
	return 0;
}

int api_pattern_versions_get(struct req *r)
{
	struct pattern_version_row *v = pattern_version_new(r);
	struct pattern_row p;
	struct db *db;
	int64_t version = 0;
	int rc;
	if ((rc = req_db(r, &db)) || (rc = pattern_load(r, db, &p)) ||
	    (rc = version_param(r, &version)))
		return rc;
	rc = store_pattern_version_get(db, r->auth.tenant_id, &p, version, v, &r->err);
	if (rc == ERR_NOT_FOUND)
		return req_fail(r, ERR_NOT_FOUND, "not_found", NULL, "no such version");
	return rc ? rc : req_json(r, 200, pattern_version_json(v, 1));
}

/* GET /api/v1/patterns/{id}/versions/diff?from=N&to=M (to defaults to the latest). */
int api_pattern_versions_diff(struct req *r)
{
	struct pattern_version_row *a = pattern_version_new(r), *b = pattern_version_new(r);
	struct pattern_row p;
	struct db *db;
	const char *qf = req_query(r, "from"), *qt = req_query(r, "to");
	int64_t from = 0, to = 0;
	int rc;
	if (!qf || str_to_i64(qf, &from) || from < 1)
		return req_fail(r, ERR_INVALID, "invalid_query", "from",
				"'from' must be a version number");
	if (qt && (str_to_i64(qt, &to) || to < 1))
		return req_fail(r, ERR_INVALID, "invalid_query", "to", "'to' must be a version number");
	if ((rc = req_db(r, &db)) || (rc = pattern_load(r, db, &p)))
		return rc;
	if (!to)
		to = p.latest_version;
	rc = store_pattern_version_get(db, r->auth.tenant_id, &p, from, a, &r->err);
	if (!rc)
		rc = store_pattern_version_get(db, r->auth.tenant_id, &p, to, b, &r->err);
	if (rc == ERR_NOT_FOUND)
		return req_fail(r, ERR_NOT_FOUND, "not_found", NULL, "no such version");
	if (rc)
		return rc;
	cJSON *da = cJSON_Parse(a->definition), *db_ = cJSON_Parse(b->definition);
	cJSON *j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "from", (double)from);
	cJSON_AddNumberToObject(j, "to", (double)to);
	cJSON_AddItemToObject(j, "changes", pattern_diff(da, db_));
	cJSON_Delete(da);
	cJSON_Delete(db_);
	return req_json(r, 200, j);
}

/* Release the rows a list filled (they live in the arena without a defer). */
static void versions_release(struct pattern_version_row *items, int n)
{
	for (int i = 0; i < n; i++)
		store_pattern_version_release(&items[i]);
}

int api_pattern_versions_list(struct req *r)
{
	const char *cursor = req_query(r, "cursor");
	char after_id[UUID_STR_LEN + 64];
	int64_t limit, before = 0;
	struct pattern_row p;
	struct db *db;
	int n = 0, rc;
	if ((rc = api_query_limit(r, VERSIONS_PAGE_DEFAULT, VERSIONS_PAGE_MAX, &limit)) ||
	    (cursor && (rc = api_cursor_decode(r, cursor, &before, after_id, sizeof(after_id)))) ||
	    (rc = req_db(r, &db)) || (rc = pattern_load(r, db, &p)))
		return rc;
	struct pattern_version_row *items =
		arena_alloc(r->arena, sizeof(*items) * (size_t)(limit + 1));
	rc = store_pattern_versions_list(db, r->auth.tenant_id, &p, cursor ? before : 0, items,
					 (int)limit + 1, &n, &r->err);
	if (rc) {
		versions_release(items, n);
		return rc;
	}
	cJSON *j = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(j, "items");
	for (int i = 0; i < n && i < limit; i++)
		cJSON_AddItemToArray(arr, pattern_version_json(&items[i], 0));
	if (n > limit)
		cJSON_AddStringToObject(j, "next_cursor",
					api_cursor_encode(r, items[limit - 1].version,
							  items[limit - 1].id));
	else
		cJSON_AddNullToObject(j, "next_cursor");
	versions_release(items, n);
	return req_json(r, 200, j);
}

int api_patterns_export(struct req *r)
{
	struct pattern_version_row *v = pattern_version_new(r);
	const char *format = req_query(r, "format");
	struct pattern_row p;
	struct db *db;
	char *yaml = NULL;
	int rc;
	if (format && strcmp(format, "json") && strcmp(format, "yaml"))
		return req_fail(r, ERR_INVALID, "invalid_field", "format",
				"'format' is json or yaml");
	if ((rc = req_db(r, &db)) || (rc = pattern_load(r, db, &p)) ||
	    (rc = store_pattern_version_get(db, r->auth.tenant_id, &p, p.latest_version, v,
					    &r->err)))
		return rc;
	if (!format || !strcmp(format, "json"))
		return req_send(r, 200, "application/json", v->definition, strlen(v->definition));
	if ((rc = pattern_json_to_yaml(v->definition, strlen(v->definition), &yaml, &r->err)))
		return rc;
	rc = req_send(r, 200, "application/yaml", yaml, strlen(yaml));
	free(yaml);
	return rc;
}

/* The import body as JSON text (arena): YAML is converted, JSON kept. */
static int import_text(struct req *r, const char **text)
{
	const char *ct = req_body_type(r);
	size_t n = strcspn(ct, "; ");
	char *json = NULL;
	int rc;
	if (n == 16 && !strncasecmp(ct, "application/json", n)) {
		*text = arena_strndup(r->arena, r->body ? r->body : "", r->body_len);
		return 0;
	}
	if (!((n == 16 && !strncasecmp(ct, "application/yaml", n)) ||
	      (n == 18 && !strncasecmp(ct, "application/x-yaml", n)) ||
	      (n == 9 && !strncasecmp(ct, "text/yaml", n))))
		return req_fail(r, ERR_MEDIA_TYPE, "unsupported_media_type", NULL,
				"import takes application/yaml or application/json");
	if ((rc = pattern_yaml_to_json(r->body ? r->body : "", r->body_len, &json, &r->err)))
		return rc;
	*text = arena_strdup(r->arena, json);
	free(json);
	return 0;
}

int api_patterns_import(struct req *r)
{
	struct pattern_version_row *v = pattern_version_new(r);
	struct pattern_row p, in;
	struct pattern_doc doc;
	const char *text = NULL;
	struct db *db;
	int rc;
	if ((rc = import_text(r, &text)))
		return rc;
	if (!pattern_workspace(r))
		return req_fail(r, ERR_NOT_FOUND, "workspace_not_found", NULL, "no workspace");
	if ((rc = pattern_doc_check(r, text, strlen(text), NULL, &doc)))
		return rc > 0 ? 0 : rc;
	if ((rc = req_db(r, &db)))
		return rc;
	rc = store_pattern_get(db, r->auth.tenant_id, pattern_workspace(r), doc.name, &p, &r->err);
	if (rc == ERR_NOT_FOUND) {
		err_clear(&r->err);
		memset(&in, 0, sizeof(in));
		str_copy(in.workspace_id, sizeof(in.workspace_id), pattern_workspace(r));
		str_copy(in.name, sizeof(in.name), doc.name);
		str_copy(in.description, sizeof(in.description), doc.description);
		if ((rc = pattern_insert(r, &in, doc.json, &p, v)))
			return rc;
		return req_json(r, 201, pattern_json(&p, v));
	}
	if (rc || (rc = version_insert(r, &p, doc.json, "imported", v)))
		return rc;
	p.latest_version = v->version;
	return req_json(r, 201, pattern_json(&p, v));
}
