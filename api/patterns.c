/*
 * Pattern endpoints that need no stored pattern: validation of a document
 * (every problem at once, each with node id and field path, for the
 * builder to pin) and the node-type palette the builder generates its
 * palette and property forms from.
 */
#include <string.h>

#include "api/api.h"
#include "engine/engine.h"
#include "server/server.h"
#include "core/core.h"

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
