/*
 * Agent configs per kind: the schema of each kind's config (types, ranges,
 * enums, URL shape), the merge a PATCH applies, and the split between the
 * public config (stored as JSON) and the secrets (api_key, token and
 * credential headers), which are sealed at rest and never rendered.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "api/api.h"
#include "api/agents_internal.h"
#include "server/server.h"
#include "core/core.h"

#define URL_MAX 2048
#define SECRET_MAX 4096
#define MODEL_MAX 256
#define SYSTEM_MAX (32 * 1024)
#define PROGRAM_MAX (64 * 1024)
#define HEADERS_MAX 32
#define HEADER_NAME_MAX 128
#define HEADER_VALUE_MAX 8192
#define DELAY_MAX 600000

/* A getter's refusal names "config.<key>". */
static int cf(struct req *r, int rc)
{
	char field[ERR_FIELD_MAX + 8];
	if (rc >= 0)
		return rc;
	snprintf(field, sizeof(field), "config.%s", r->err.field);
	str_copy(r->err.field, sizeof(r->err.field), field);
	return rc;
}

static int cfg_fail(struct req *r, const char *key, const char *msg)
{
	return req_fail(r, ERR_INVALID, "invalid_field", key, "'%s' %s", key, msg);
}

/* http(s)://host[...]: absolute, no credentials, no blanks or controls. */
static int url_check(struct req *r, const cJSON *c, const char *key)
{
	const char *u, *host;
	int rc = cf(r, json_get_str(c, key, JSON_REQUIRED, URL_MAX, &u, &r->err));
	if (rc)
		return rc;
	if (!strncasecmp(u, "https://", 8))
		host = u + 8;
	else if (!strncasecmp(u, "http://", 7))
		host = u + 7;
	else
		return cf(r, cfg_fail(r, key, "must be an absolute http:// or https:// URL"));
	size_t n = strcspn(host, "/?#");
	if (n == 0 || host[0] == ':')
		return cf(r, cfg_fail(r, key, "needs a host"));
	if (memchr(host, '@', n))
		return cf(r, cfg_fail(r, key, "must not carry credentials; use headers or api_key"));
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return cf(r, cfg_fail(r, key, "must not contain spaces or control characters"));
	return 0;
}

static int header_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > HEADER_NAME_MAX)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			 "!#$%&'*+-.^_`|~") == n;
}

static int headers_check(struct req *r, const cJSON *c)
{
	const cJSON *h, *it;
	int rc = cf(r, json_get_obj(c, "headers", JSON_OPTIONAL, &h, &r->err));
	if (rc)
		return rc < 0 ? rc : 0;
	if (cJSON_GetArraySize(h) > HEADERS_MAX)
		return cf(r, cfg_fail(r, "headers", "holds at most 32 headers"));
	cJSON_ArrayForEach(it, h) {
		if (!header_name_ok(it->string))
			return cf(r, cfg_fail(r, "headers", "has a name that is not an HTTP token"));
		if (!cJSON_IsString(it) || strlen(it->valuestring) > HEADER_VALUE_MAX ||
		    strpbrk(it->valuestring, "\r\n"))
			return cf(r, cfg_fail(r, "headers",
					      "values must be strings of one line, at most 8192 bytes"));
	}
	return 0;
}

static int check_builtin(struct req *r, const cJSON *c)
{
	static const char *const types[] = { "constant", "echo", "jq", NULL };
	static const char *const f_const[] = { "type", "value", "confidence", "delay_ms", "fail",
					       NULL };
	static const char *const f_echo[] = { "type", "delay_ms", "fail", NULL };
	static const char *const f_jq[] = { "type", "program", "delay_ms", "fail", NULL };
	static const char *const *const fields[] = { f_const, f_echo, f_jq };
	const char *s;
	int64_t i;
	double d;
	int type = 0, b, rc;
	if ((rc = cf(r, json_get_enum(c, "type", JSON_REQUIRED, types, &type, &r->err))) < 0 ||
	    (rc = cf(r, json_only_fields(c, fields[type], &r->err))) < 0 ||
	    (rc = cf(r, json_get_int(c, "delay_ms", JSON_OPTIONAL, 0, DELAY_MAX, &i,
				     &r->err))) < 0 ||
	    (rc = cf(r, json_get_bool(c, "fail", JSON_OPTIONAL, &b, &r->err))) < 0)
		return rc;
	if (type == 0 && !cJSON_GetObjectItemCaseSensitive(c, "value"))
		return cf(r, req_fail(r, ERR_INVALID, "missing_field", "value",
				      "'value' is required for a constant agent"));
	if (type == 0 && (rc = cf(r, json_get_num(c, "confidence", JSON_REQUIRED, 0, 1, &d,
						  &r->err))) < 0)
		return rc;
	if (type == 2 && (rc = cf(r, json_get_str(c, "program", JSON_REQUIRED, PROGRAM_MAX, &s,
						  &r->err))) < 0)
		return rc;
	return 0;
}

static int check_http(struct req *r, const cJSON *c)
{
	static const char *const fields[] = { "url", "compat", "timeout_ms", "headers", "token",
					      NULL };
	static const char *const compat[] = { "parallax", NULL };
	const char *s;
	int64_t i;
	int e, rc;
	if ((rc = cf(r, json_only_fields(c, fields, &r->err))) < 0 ||
	    (rc = url_check(r, c, "url")) < 0 ||
	    (rc = cf(r, json_get_enum(c, "compat", JSON_OPTIONAL, compat, &e, &r->err))) < 0 ||
	    (rc = cf(r, json_get_int(c, "timeout_ms", JSON_OPTIONAL, 100, DELAY_MAX, &i,
				     &r->err))) < 0 ||
	    (rc = cf(r, json_get_str(c, "token", JSON_OPTIONAL, SECRET_MAX, &s, &r->err))) < 0)
		return rc;
	return headers_check(r, c);
}

static int check_openai(struct req *r, const cJSON *c)
{
	static const char *const fields[] = { "base_url", "model", "api_key", "system",
					      "temperature", "json_mode", "headers", NULL };
	const char *s;
	double d;
	int b, rc;
	if ((rc = cf(r, json_only_fields(c, fields, &r->err))) < 0 ||
	    (rc = url_check(r, c, "base_url")) < 0 ||
	    (rc = cf(r, json_get_str(c, "model", JSON_REQUIRED, MODEL_MAX, &s, &r->err))) < 0 ||
	    (rc = cf(r, json_get_str(c, "api_key", JSON_OPTIONAL, SECRET_MAX, &s, &r->err))) < 0 ||
	    (rc = cf(r, json_get_str(c, "system", JSON_OPTIONAL, SYSTEM_MAX, &s, &r->err))) < 0 ||
	    (rc = cf(r, json_get_num(c, "temperature", JSON_OPTIONAL, 0, 2, &d, &r->err))) < 0 ||
	    (rc = cf(r, json_get_bool(c, "json_mode", JSON_OPTIONAL, &b, &r->err))) < 0)
		return rc;
	if (!*cJSON_GetObjectItemCaseSensitive(c, "model")->valuestring)
		return cf(r, cfg_fail(r, "model", "must not be empty"));
	return headers_check(r, c);
}

int agent_config_check(struct req *r, const char *kind, const cJSON *cfg)
{
	static const char *const none[] = { NULL };
	if (!strcmp(kind, "builtin"))
		return check_builtin(r, cfg);
	if (!strcmp(kind, "http"))
		return check_http(r, cfg);
	if (!strcmp(kind, "openai"))
		return check_openai(r, cfg);
	/* ws: the agent connects to us with its token; nothing to configure. */
	return cf(r, json_only_fields(cfg, none, &r->err));
}

void agent_config_merge(cJSON *base, const cJSON *patch)
{
	const cJSON *it, *nt = cJSON_GetObjectItemCaseSensitive(patch, "type");
	const cJSON *ot = cJSON_GetObjectItemCaseSensitive(base, "type");
	if (cJSON_IsString(nt) && cJSON_IsString(ot) && strcmp(nt->valuestring, ot->valuestring))
		while (base->child)
			agent_json_wipe(cJSON_DetachItemViaPointer(base, base->child));
	cJSON_ArrayForEach(it, patch) {
		agent_json_wipe(cJSON_DetachItemFromObjectCaseSensitive(base, it->string));
		if (!cJSON_IsNull(it))
			cJSON_AddItemToObject(base, it->string, cJSON_Duplicate(it, 1));
	}
}

static int secret_key_name(const char *k)
{
	return !strcmp(k, "api_key") || !strcmp(k, "token");
}

/* Credentials by name: Authorization, cookies, API keys, tokens, secrets. */
int agent_header_secret(const char *name)
{
	static const char *const exact[] = { "authorization", "proxy-authorization", "cookie",
					     "x-api-key", "api-key", NULL };
	char low[HEADER_NAME_MAX + 1];
	size_t i;
	for (i = 0; name[i] && i < HEADER_NAME_MAX; i++)
		low[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] | 0x20 : name[i]);
	low[i] = '\0';
	for (i = 0; exact[i]; i++)
		if (!strcmp(low, exact[i]))
			return 1;
	return strstr(low, "token") || strstr(low, "secret") || strstr(low, "key");
}

cJSON *agent_secrets_split(cJSON *cfg)
{
	cJSON *sec = cJSON_CreateObject(), *h = cJSON_GetObjectItemCaseSensitive(cfg, "headers");
	cJSON *it = cfg->child, *next;
	for (; it; it = next) {
		next = it->next;
		if (secret_key_name(it->string))
			cJSON_AddItemToObject(sec, it->string, cJSON_DetachItemViaPointer(cfg, it));
	}
	if (!cJSON_IsObject(h))
		return sec;
	for (it = h->child; it; it = next) {
		next = it->next;
		if (!agent_header_secret(it->string))
			continue;
		cJSON *sh = cJSON_GetObjectItemCaseSensitive(sec, "headers");
		if (!sh)
			sh = cJSON_AddObjectToObject(sec, "headers");
		cJSON_AddItemToObject(sh, it->string, cJSON_DetachItemViaPointer(h, it));
	}
	if (!h->child)
		cJSON_DeleteItemFromObjectCaseSensitive(cfg, "headers");
	return sec;
}

static cJSON *set_marker(void)
{
	cJSON *m = cJSON_CreateObject();
	cJSON_AddBoolToObject(m, "set", 1);
	return m;
}

cJSON *agent_config_public(const cJSON *pub, const cJSON *secrets)
{
	cJSON *out = cJSON_Duplicate(pub, 1);
	const cJSON *it, *hv;
	cJSON_ArrayForEach(it, secrets) {
		if (strcmp(it->string, "headers")) {
			cJSON_AddItemToObject(out, it->string, set_marker());
			continue;
		}
		cJSON *h = cJSON_GetObjectItemCaseSensitive(out, "headers");
		if (!h)
			h = cJSON_AddObjectToObject(out, "headers");
		cJSON_ArrayForEach(hv, it)
			cJSON_AddItemToObject(h, hv->string, set_marker());
	}
	return out;
}

static void wipe_strings(cJSON *j)
{
	for (; j; j = j->next) {
		if (j->valuestring)
			sodium_memzero(j->valuestring, strlen(j->valuestring));
		wipe_strings(j->child);
	}
}

void agent_json_wipe(cJSON *j)
{
	if (!j)
		return;
	if (j->valuestring)
		sodium_memzero(j->valuestring, strlen(j->valuestring));
	wipe_strings(j->child);
	cJSON_Delete(j);
}
