/*
 * /api/v1/tenants/{t}/quotas: the tenant's quotas, current usage and the
 * plan's ceilings; an admin may set each quota within 0..the ceiling
 * (422 naming the field otherwise).
 */
#include <string.h>

#include "api/api.h"
#include "api/tenancy_internal.h"
#include "auth/auth.h"
#include "db/db.h"
#include "server/server.h"
#include "core/core.h"

#define QUOTA_INPUT_MAX 1000000000000000LL /* beyond any plan; 422 decides */

static cJSON *quota_obj(const int64_t v[QUOTA__COUNT])
{
	cJSON *j = cJSON_CreateObject();
	for (int i = 0; i < QUOTA__COUNT; i++)
		cJSON_AddNumberToObject(j, store_quota_names[i], (double)v[i]);
	return j;
}

static int quotas_render(struct req *r, struct db *db)
{
	struct quota_report q;
	int rc = store_quotas_get(db, r->auth.tenant_id, &q, &r->err);
	if (rc)
		return rc;
	cJSON *j = cJSON_CreateObject();
	cJSON_AddItemToObject(j, "quotas", quota_obj(q.limit));
	cJSON_AddItemToObject(j, "usage", quota_obj(q.usage));
	cJSON_AddItemToObject(j, "plan", quota_obj(q.plan));
	cJSON_AddStringToObject(j, "plan_name", q.plan_name);
	return req_json(r, 200, j);
}

int api_quotas_get(struct req *r)
{
	char slug[TENANCY_SLUG_MAX + 1];
	struct db *db;
	int rc;
	if ((rc = api_tenant_param(r, 0, slug, sizeof(slug))) || (rc = req_db(r, &db)))
		return rc;
	return quotas_render(r, db);
}

/* Each present field as a value (>= 0, else 422); absent ones stay -1. */
static int quotas_parse(struct req *r, int64_t v[QUOTA__COUNT], cJSON *details)
{
	const char *fields[QUOTA__COUNT + 1];
	int rc;
	for (int i = 0; i < QUOTA__COUNT; i++)
		fields[i] = store_quota_names[i];
	fields[QUOTA__COUNT] = NULL;
	if ((rc = json_only_fields(r->json, fields, &r->err)))
		return rc;
	for (int i = 0; i < QUOTA__COUNT; i++) {
		const char *k = store_quota_names[i];
		v[i] = -1;
		rc = json_get_int(r->json, k, JSON_NULLABLE, -QUOTA_INPUT_MAX, QUOTA_INPUT_MAX, &v[i],
				  &r->err);
		if (rc < 0)
			return rc;
		if (rc == 0 && v[i] < 0)
			return req_fail(r, ERR_UNPROCESSABLE, "out_of_range", k,
					"'%s' must be 0 or more", k);
		if (rc == 0)
			cJSON_AddNumberToObject(details, k, (double)v[i]);
	}
	return 0;
}

int api_quotas_update(struct req *r)
{
	char slug[TENANCY_SLUG_MAX + 1];
	int64_t v[QUOTA__COUNT];
	cJSON *d = cJSON_CreateObject();
	struct db *db = NULL;
	int rc;
	if ((rc = quotas_parse(r, v, d)) || (rc = api_tenant_param(r, 0, slug, sizeof(slug))) ||
	    (rc = tenancy_begin(r, &db)))
		goto out;
	rc = store_quotas_set(db, r->auth.tenant_id, v, &r->err);
	if (!rc) {
		rc = req_audit(r, "quota.updated", "tenant", r->auth.tenant_id, "success", d);
		d = NULL; /* freed by req_audit */
	}
	if (!(rc = tenancy_finish(r, db, rc)))
		rc = quotas_render(r, db);
out:
	cJSON_Delete(d);
	return rc;
}
