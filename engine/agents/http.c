/*
 * http agents: our protocol (POST url {task_id, execution_id, node_id, task,
 * data, context, deadline_ms} -> {value, confidence?, reasoning?, usage?})
 * and the compatibility mode of original Parallax agents (POST url/analyze
 * {task, data} -> {value | result, confidence?, reasoning?}).
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "engine/exec_internal.h"
#include "core/core.h"


static void fail_fire(struct timer *t)
{
	struct agent_call *c = (struct agent_call *)((char *)t - offsetof(struct agent_call, timer));
	call_attempt_done(c);
}

/* Finish a failed attempt from the loop, never from inside the caller. */
void call_fail_soon(struct agent_call *c)
{
	c->timer.fn = fail_fire;
	loop_timer_arm(c->loop, &c->timer, 0);
}

static char *request_body(struct agent_call *c, int compat)
{
	struct run *r = c->x->run;
	cJSON *b = cJSON_CreateObject();
	if (!compat) {
		char task_id[UUID_STR_LEN];
		uuid_v7(task_id);
		cJSON_AddStringToObject(b, "task_id", task_id);
		cJSON_AddStringToObject(b, "execution_id", r->execution_id);
		cJSON_AddStringToObject(b, "node_id", c->x->id);
	}
	cJSON_AddStringToObject(b, "task", c->task);
	cJSON_AddItemToObject(b, "data", cJSON_Duplicate(c->data, 1));
	if (!compat) {
		cJSON *ctx = cJSON_AddObjectToObject(b, "context");
		cJSON_AddStringToObject(ctx, "pattern", r->chain[r->depth]);
		cJSON_AddNumberToObject(ctx, "version", (double)r->version);
		cJSON_AddNumberToObject(ctx, "attempt", c->attempt);
		cJSON_AddNumberToObject(b, "deadline_ms", (double)c->timeout_ms);
	}
	char *s = cJSON_PrintUnformatted(b);
	cJSON_Delete(b);
	return s;
}

void agent_http_start(struct agent_call *c)
{
	const cJSON *cfg = c->agent->config;
	const cJSON *url = cJSON_GetObjectItemCaseSensitive(cfg, "url");
	const cJSON *compat = cJSON_GetObjectItemCaseSensitive(cfg, "compat");
	const cJSON *token = cJSON_GetObjectItemCaseSensitive(cfg, "token");
	int is_compat = cJSON_IsString(compat);
	struct curl_slist *h = NULL;
	struct buf u;

	buf_init(&u);
	if (!cJSON_IsString(url)) {
		call_set_error(c, "agent '%s' has no url", c->agent->name);
		buf_release(&u);
		call_fail_soon(c);
		return;
	}
	buf_adds(&u, url->valuestring);
	if (is_compat) {
		while (u.len && u.p[u.len - 1] == '/')
			buf_truncate(&u, u.len - 1);
		buf_adds(&u, "/analyze");
	}
	h = curl_bearer(h, token);
	int ret = call_http_prepare(c, u.p, request_body(c, is_compat), h);
	buf_release(&u);
	if (ret < 0) {
		call_fail_soon(c);
		return;
	}
	loop_transfer_add(c->loop, &c->tr);
}

void agent_http_reply(struct agent_call *c, CURLcode rc)
{
	cJSON *reply = call_http_reply(c, rc);
	if (!reply)
		return;
	call_take_reply(c, reply);
	cJSON_Delete(reply);
}
