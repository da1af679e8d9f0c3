/*
 * POST /api/v1/setup: the JSON form of first-run set-up, for automation.
 * Answers 404 unless the one-time token is valid and no owner exists.
 */
#include <string.h>

#include "api/api.h"
#include "auth/auth.h"
#include "db/db.h"
#include "server/server.h"
#include "core/core.h"

int api_setup_create(struct req *r)
{
	static const char *const fields[] = { "token", "tenant_name", "name", "email",
					      "password", NULL };
	struct setup_request in;
	struct setup_result res;
	struct setup_created made;
	struct db *db;
	int rc;
	memset(&in, 0, sizeof(in));
	if ((rc = json_only_fields(r->json, fields, &r->err)) ||
	    (rc = json_get_str(r->json, "token", 0, 128, &in.token, &r->err)) < 0 ||
	    (rc = json_get_str(r->json, "tenant_name", 0, 0, &in.tenant_name, &r->err)) < 0 ||
	    (rc = json_get_str(r->json, "name", 0, 0, &in.user_name, &r->err)) < 0 ||
	    (rc = json_get_str(r->json, "email", 0, 0, &in.email, &r->err)) < 0 ||
	    (rc = json_get_str(r->json, "password", 0, 0, &in.password, &r->err)) < 0)
		return rc;
	if ((rc = req_db(r, &db)) || (rc = setup_owner_create(db, &in, &res, &made, &r->err)))
		return rc;
	cJSON *j = cJSON_CreateObject();
	cJSON *t = cJSON_AddObjectToObject(j, "tenant");
	cJSON_AddStringToObject(t, "id", res.tenant_id);
	cJSON_AddStringToObject(t, "slug", made.slug);
	cJSON_AddStringToObject(t, "name", in.tenant_name);
	cJSON *u = cJSON_AddObjectToObject(j, "user");
	cJSON_AddStringToObject(u, "id", res.user_id);
	cJSON_AddStringToObject(u, "email", made.email);
	cJSON_AddStringToObject(u, "name", in.user_name);
	cJSON *w = cJSON_AddObjectToObject(j, "workspace");
	cJSON_AddStringToObject(w, "id", res.workspace_id);
	cJSON_AddStringToObject(w, "slug", "default");
	cJSON_AddStringToObject(w, "name", "Default");
	log_kv(LOG_INFO, "setup", "owner account created", "tenant", res.tenant_id, "user",
	       res.user_id, NULL);
	return req_json(r, 201, j);
}
