/*
 * openai agents: OpenAI-compatible chat completions (OpenAI, Ollama, vLLM,
 * llama.cpp's server). The user message is the task, then the data as JSON.
 * With json_mode the reply's content is parsed and its "confidence" member
 * is the confidence; otherwise the last "CONFIDENCE: x" marker is.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "engine/exec_internal.h"
#include "core/core.h"


static char *request_body(struct agent_call *c)
{
	const cJSON *cfg = c->agent->config;
	const cJSON *model = cJSON_GetObjectItemCaseSensitive(cfg, "model");
	const cJSON *sys = cJSON_GetObjectItemCaseSensitive(cfg, "system");
	const cJSON *temp = cJSON_GetObjectItemCaseSensitive(cfg, "temperature");
	cJSON *b = cJSON_CreateObject(), *msgs, *m;
	struct buf user;

	cJSON_AddStringToObject(b, "model", cJSON_IsString(model) ? model->valuestring : "");
	msgs = cJSON_AddArrayToObject(b, "messages");
	if (cJSON_IsString(sys) && sys->valuestring[0]) {
		m = cJSON_CreateObject();
		cJSON_AddStringToObject(m, "role", "system");
		cJSON_AddStringToObject(m, "content", sys->valuestring);
		cJSON_AddItemToArray(msgs, m);
	}
	buf_init(&user);
	buf_adds(&user, c->task);
	if (!cJSON_IsNull(c->data)) {
		char *d = cJSON_PrintUnformatted(c->data);
		buf_adds(&user, "\n\nData (JSON):\n");
		buf_adds(&user, d ? d : "null");
		free(d);
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cfg, "json_mode")))
		buf_adds(&user, "\n\nAnswer with one JSON object, including a \"confidence\" "
				"member between 0 and 1.");
	else
		buf_adds(&user, "\n\nEnd your answer with a line \"CONFIDENCE: x\", x between 0 "
				"and 1.");
	m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "role", "user");
	cJSON_AddStringToObject(m, "content", user.p);
	cJSON_AddItemToArray(msgs, m);
	buf_release(&user);
	if (cJSON_IsNumber(temp))
		cJSON_AddNumberToObject(b, "temperature", temp->valuedouble);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cfg, "json_mode"))) {
		cJSON *rf = cJSON_AddObjectToObject(b, "response_format");
		cJSON_AddStringToObject(rf, "type", "json_object");
	}
	char *s = cJSON_PrintUnformatted(b);
	cJSON_Delete(b);
	return s;
}

void agent_openai_start(struct agent_call *c)
{
	const cJSON *cfg = c->agent->config;
	const cJSON *base = cJSON_GetObjectItemCaseSensitive(cfg, "base_url");
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(cfg, "api_key");
	struct curl_slist *h = NULL;
	struct buf u;

	if (!cJSON_IsString(base)) {
		call_set_error(c, "agent '%s' has no base_url", c->agent->name);
		call_fail_soon(c);
		return;
	}
	buf_init(&u);
	buf_adds(&u, base->valuestring);
	while (u.len && u.p[u.len - 1] == '/')
		buf_truncate(&u, u.len - 1);
	buf_adds(&u, "/chat/completions");
	h = curl_bearer(h, key);
	int ret = call_http_prepare(c, u.p, request_body(c), h);
	buf_release(&u);
	if (ret < 0) {
		call_fail_soon(c);
		return;
	}
	loop_transfer_add(c->loop, &c->tr);
}

static void take_usage(struct agent_call *c, const cJSON *reply)
{
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(reply, "usage");
	const cJSON *pi = cJSON_GetObjectItemCaseSensitive(u, "prompt_tokens");
	const cJSON *co = cJSON_GetObjectItemCaseSensitive(u, "completion_tokens");
	if (cJSON_IsNumber(pi) && pi->valuedouble >= 0 && pi->valuedouble < 1e12)
		c->tokens_in = (int64_t)pi->valuedouble;
	if (cJSON_IsNumber(co) && co->valuedouble >= 0 && co->valuedouble < 1e12)
		c->tokens_out = (int64_t)co->valuedouble;
}

void agent_openai_reply(struct agent_call *c, CURLcode rc)
{
	cJSON *reply = call_http_reply(c, rc);
	struct err e;
	if (!reply)
		return;
	take_usage(c, reply);
	const cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(reply, "choices"), 0);
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(choice, "message");
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(msg, "content");
	if (!cJSON_IsString(content)) {
		call_set_error(c, "agent '%s' sent a completion without choices[0].message.content",
			       c->agent->name);
		goto out;
	}
	const char *text = content->valuestring;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c->agent->config, "json_mode"))) {
		cJSON *v = json_parse(text, strlen(text), 64, &e);
		if (v && cJSON_IsObject(v)) {
			cJSON *conf = cJSON_DetachItemFromObjectCaseSensitive(v, "confidence");
			c->confidence = cJSON_IsNumber(conf) ? conf_from_value(conf->valuedouble) : CONF_NONE;
			cJSON_Delete(conf);
			c->value = v;
			goto out;
		}
		cJSON_Delete(v);
	}
	c->value = cJSON_CreateString(text);
	c->confidence = conf_from_text(text, strlen(text));
out:
	cJSON_Delete(reply);
}
