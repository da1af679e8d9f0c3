/*
 * Loading a workspace's agents as the engine sees them: each row's public
 * config with its sealed secrets opened and joined back in (secrets stay in
 * memory only for the run). Used by synchronous runs and by workers.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "db/db.h"
#include "engine/exec_internal.h"
#include "core/core.h"

void agent_secrets_join(cJSON *cfg, const cJSON *sec)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, sec) {
		if (strcmp(it->string, "headers")) {
			cJSON_DeleteItemFromObjectCaseSensitive(cfg, it->string);
			cJSON_AddItemToObject(cfg, it->string, cJSON_Duplicate(it, 1));
			continue;
		}
		cJSON *h = cJSON_GetObjectItemCaseSensitive(cfg, "headers");
		if (!h)
			h = cJSON_AddObjectToObject(cfg, "headers");
		const cJSON *kv;
		cJSON_ArrayForEach(kv, it) {
			cJSON_DeleteItemFromObjectCaseSensitive(h, kv->string);
			cJSON_AddItemToObject(h, kv->string, cJSON_Duplicate(kv, 1));
		}
	}
}

int agent_spec_from_row(const struct agent_row *a, struct agent_spec *s, struct err *e)
{
	memset(s, 0, sizeof(*s));
	str_copy(s->id, sizeof(s->id), a->id);
	str_copy(s->name, sizeof(s->name), a->name);
	s->kind = (enum agent_kind)agent_kind_parse(a->kind);
	s->config = cJSON_Parse(a->config);
	if (!s->config)
		s->config = cJSON_CreateObject();
	s->capabilities = cJSON_Parse(a->capabilities);
	if (!cJSON_IsArray(s->capabilities)) {
		cJSON_Delete(s->capabilities);
		s->capabilities = cJSON_CreateArray();
	}
	s->expertise = a->expertise;
	s->timeout_ms = a->timeout_ms;
	s->max_concurrency = (int)a->max_concurrency;
	s->disabled = !strcmp(a->status, "disabled");
	if (a->secrets_enc) {
		char *plain = NULL;
		int rc = secret_open(a->secrets_enc, &plain, e);
		if (rc)
			return rc;
		cJSON *sec = cJSON_Parse(plain);
		secret_free(plain);
		if (sec)
			agent_secrets_join(s->config, sec);
		cJSON_Delete(sec);
	}
	return 0;
}

void agent_specs_free(struct agent_spec *specs, size_t n)
{
	for (size_t i = 0; specs && i < n; i++)
		agent_spec_release(&specs[i]);
	free(specs);
}

int agent_specs_load(struct db *db, const char *tenant_id, const char *workspace_id,
		     struct agent_spec **out, size_t *n, struct err *e)
{
	struct agent_row rows[100];
	struct agent_filter f = { NULL, NULL, NULL };
	char after_id[UUID_STR_LEN] = "";
	int64_t after_ms = 0;
	int count = 0, rc = 0;
	struct agent_spec *specs = xcalloc(AGENT_SPECS_MAX + 1, sizeof(*specs));
	*n = 0;
	do {
		rc = store_agents_list(db, tenant_id, workspace_id, &f, after_ms,
				       after_id[0] ? after_id : NULL, rows, 100, &count, e);
		for (int i = 0; i < count; i++) {
			if (!rc && *n < AGENT_SPECS_MAX) {
				rc = agent_spec_from_row(&rows[i], &specs[*n], e);
				(*n)++;
			}
			after_ms = rows[i].created_at;
			str_copy(after_id, sizeof(after_id), rows[i].id);
			store_agent_release(&rows[i]);
		}
	} while (!rc && count == 100 && *n < AGENT_SPECS_MAX);
	if (rc) {
		agent_specs_free(specs, *n);
		*n = 0;
		specs = NULL;
	}
	*out = specs;
	return rc;
}
