/*
 * Operational routes: liveness, readiness (database reachable and migrated
 * to the version this binary expects), and the OpenAPI document generated
 * from the route table.
 */
#include <stdio.h>
#include <string.h>

#include "server/server.h"
#include "db/db.h"
#include "core/core.h"

int handle_health_live(struct req *r)
{
	static const char body[] = "{\"status\":\"ok\"}";
	return req_send_ref(r, 200, "application/json", body, sizeof(body) - 1);
}

int handle_health_ready(struct req *r)
{
	struct db *db;
	struct err e;
	int version = 0, latest = 0;
	err_clear(&e);
	if (r->app->draining)
		return req_fail(r, ERR_UNAVAILABLE, "not_ready", NULL, "shutting down");
	if (req_db(r, &db) || db_ping(db, &e) || db_schema_version(db, &version, &e))
		return req_fail(r, ERR_UNAVAILABLE, "not_ready", NULL, "database unavailable");
	latest = db_migrations_latest(db_dialect(db));
	if (version != latest)
		return req_fail(r, ERR_UNAVAILABLE, "not_ready", NULL,
				"database schema is at version %d, this binary needs %d", version,
				latest);
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "status", "ready");
	cJSON_AddStringToObject(j, "database", db_dialect(db) == DB_POSTGRES ? "postgres" : "sqlite");
	cJSON_AddNumberToObject(j, "schema_version", version);
	return req_json(r, 200, j);
}

/* Route patterns end in "*" for "the rest of the path"; OpenAPI says {path}. */
static void openapi_path(const char *pattern, char *out, size_t size)
{
	size_t n = strlen(pattern);
	if (n && pattern[n - 1] == '*')
		snprintf(out, size, "%.*s{path}", (int)(n - 1), pattern);
	else
		str_copy(out, size, pattern);
}

static cJSON *openapi_operation(const struct route *rt)
{
	cJSON *op = cJSON_CreateObject(), *params = NULL;
	cJSON_AddStringToObject(op, "summary", rt->summary ? rt->summary : "");
	cJSON *tags = cJSON_AddArrayToObject(op, "tags");
	cJSON_AddItemToArray(tags, cJSON_CreateString(rt->tag ? rt->tag : "default"));
	char tmpl[256];
	openapi_path(rt->pattern, tmpl, sizeof(tmpl));
	for (const char *p = strchr(tmpl, '{'); p; p = strchr(p + 1, '{')) {
		const char *end = strchr(p, '}');
		if (!end)
			break;
		if (!params)
			params = cJSON_AddArrayToObject(op, "parameters");
		cJSON *pa = cJSON_CreateObject();
		char name[64];
		size_t n = (size_t)(end - p - 1) < sizeof(name) - 1 ? (size_t)(end - p - 1) :
								       sizeof(name) - 1;
		memcpy(name, p + 1, n);
		name[n] = '\0';
		cJSON_AddStringToObject(pa, "name", name);
		cJSON_AddStringToObject(pa, "in", "path");
		cJSON_AddTrueToObject(pa, "required");
		cJSON_AddItemToObject(pa, "schema", cJSON_Parse("{\"type\":\"string\"}"));
		cJSON_AddItemToArray(params, pa);
	}
	if (rt->body == BODY_JSON || rt->body == BODY_FORM) {
		cJSON *rb = cJSON_AddObjectToObject(op, "requestBody");
		cJSON_AddTrueToObject(rb, "required");
		cJSON *content = cJSON_AddObjectToObject(rb, "content");
		cJSON_AddObjectToObject(content, rt->body == BODY_JSON ?
							 "application/json" :
							 "application/x-www-form-urlencoded");
	}
	cJSON *resp = cJSON_AddObjectToObject(op, "responses");
	cJSON *def = cJSON_AddObjectToObject(resp, "default");
	cJSON_AddStringToObject(def, "description", "See the error model: {error:{code,message,field}}");
	if (rt->flags & ROUTE_SHARED)
		cJSON_AddBoolToObject(op, "x-parallax-shared", 1);
	cJSON *perm = cJSON_AddObjectToObject(op, "x-parallax-permission");
	cJSON_AddStringToObject(perm, "access", rt->access == ACCESS_PUBLIC ? "public" :
						rt->access == ACCESS_AUTH   ? "authenticated" :
									      "permission");
	if (rt->access == ACCESS_PERM) {
		cJSON_AddStringToObject(perm, "resource", resource_name(rt->resource));
		cJSON_AddStringToObject(perm, "action", action_name(rt->action));
		cJSON_AddStringToObject(perm, "min_role",
					role_name(rbac_min_role(rt->resource, rt->action)));
		cJSON_AddBoolToObject(perm, "workspace_scoped", rbac_workspace_scoped(rt->resource));
	}
	if (rt->access != ACCESS_PUBLIC) {
		cJSON *sec = cJSON_AddArrayToObject(op, "security");
		cJSON *req = cJSON_CreateObject();
		cJSON_AddArrayToObject(req, "bearer");
		cJSON_AddItemToArray(sec, req);
	}
	return op;
}

int handle_openapi(struct req *r)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "openapi", "3.1.0");
	cJSON *info = cJSON_AddObjectToObject(doc, "info");
	cJSON_AddStringToObject(info, "title", "Parallax API");
	cJSON_AddStringToObject(info, "version", PARALLAX_VERSION);
	cJSON *comp = cJSON_AddObjectToObject(doc, "components");
	cJSON *schemes = cJSON_AddObjectToObject(comp, "securitySchemes");
	cJSON *bearer = cJSON_AddObjectToObject(schemes, "bearer");
	cJSON_AddStringToObject(bearer, "type", "http");
	cJSON_AddStringToObject(bearer, "scheme", "bearer");
	cJSON *paths = cJSON_AddObjectToObject(doc, "paths");
	for (size_t i = 0; i < routes_count; i++) {
		const struct route *rt = &routes[i];
		char tmpl[256];
		openapi_path(rt->pattern, tmpl, sizeof(tmpl));
		cJSON *item = cJSON_GetObjectItemCaseSensitive(paths, tmpl);
		if (!item)
			item = cJSON_AddObjectToObject(paths, tmpl);
		char method[8];
		size_t k;
		for (k = 0; rt->method[k] && k < sizeof(method) - 1; k++)
			method[k] = (char)(rt->method[k] | 0x20);
		method[k] = '\0';
		cJSON_AddItemToObject(item, method, openapi_operation(rt));
	}
	return req_json(r, 200, doc);
}
