/*
 * Shared by api/agents.c and api/agent_config.c only: the per-kind config
 * schema and the split of a config into its public part and its secrets
 * (write-only fields, sealed at rest, shown as {"set": true}).
 */
#ifndef API_AGENTS_INTERNAL_H
#define API_AGENTS_INTERNAL_H

#include <cjson/cJSON.h>

struct req;

/* Validate a complete config for kind ("builtin", "http", "openai", "ws");
 * a refusal is 400 with the field as "config.<key>". */
int agent_config_check(struct req *r, const char *kind, const cJSON *cfg);
/* Apply patch to base in place: a null member removes the key, others
 * replace it. A builtin whose type changes starts from an empty config. */
void agent_config_merge(cJSON *base, const cJSON *patch);
/* Move the secret members of cfg into a new object (possibly empty). */
cJSON *agent_secrets_split(cJSON *cfg);
/* (The inverse, agent_secrets_join, is the engine's: engine/engine.h.) */
/* A copy of pub with every secret in secrets shown as {"set": true}. */
cJSON *agent_config_public(const cJSON *pub, const cJSON *secrets);
/* Overwrite every string of j, then delete it (NULL is fine). */
void agent_json_wipe(cJSON *j);

#endif
