/*
 * builtin agents, for demos, tests and benchmarks: constant {value,
 * confidence, delay_ms, fail}, echo (the data back, confidence 1) and jq
 * (a program over {task, data}). Delays are loop timers, never sleeps.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/exec_internal.h"
#include "core/core.h"

static void builtin_fire(struct timer *t)
{
	struct agent_call *c = (struct agent_call *)((char *)t - offsetof(struct agent_call, timer));
	call_attempt_done(c);
}

static void run_jq(struct agent_call *c, const char *program)
{
	struct err e;
	cJSON *in = cJSON_CreateObject(), *out = NULL;
	cJSON_AddStringToObject(in, "task", c->task);
	cJSON_AddItemToObject(in, "data", cJSON_Duplicate(c->data, 1));
	if (expr_eval(loop_engine(c->loop), program, in, &out, &e) < 0) {
		call_set_error(c, "agent '%s': %s", c->agent->name, e.msg);
	} else if (cJSON_IsObject(out) && cJSON_GetObjectItemCaseSensitive(out, "value")) {
		call_take_reply(c, out);
	} else {
		c->value = out;
		out = NULL;
	}
	cJSON_Delete(out);
	cJSON_Delete(in);
}

void agent_builtin_start(struct agent_call *c)
{
	const cJSON *cfg = c->agent->config;
	const char *type = "";
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(cfg, "type");
	const cJSON *delay = cJSON_GetObjectItemCaseSensitive(cfg, "delay_ms");
	int64_t d = cJSON_IsNumber(delay) ? (int64_t)delay->valuedouble : 0;
	if (cJSON_IsString(t))
		type = t->valuestring;

	c->timer.fn = builtin_fire;
	if (d > c->timeout_ms) {
		call_set_error(c, "agent '%s' timed out after %lld ms", c->agent->name,
			       (long long)c->timeout_ms);
		loop_timer_arm(c->loop, &c->timer, c->timeout_ms);
		return;
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cfg, "fail"))) {
		call_set_error(c, "agent '%s' failed (builtin agent set to fail)", c->agent->name);
	} else if (!strcmp(type, "constant")) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, "value");
		const cJSON *conf = cJSON_GetObjectItemCaseSensitive(cfg, "confidence");
		c->value = v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
		c->confidence = cJSON_IsNumber(conf) ? conf_from_value(conf->valuedouble) : CONF_NONE;
	} else if (!strcmp(type, "echo")) {
		c->value = cJSON_Duplicate(c->data, 1);
		c->confidence = 1.0;
	} else if (!strcmp(type, "jq")) {
		const cJSON *prog = cJSON_GetObjectItemCaseSensitive(cfg, "program");
		run_jq(c, cJSON_IsString(prog) ? prog->valuestring : ".");
	} else {
		call_set_error(c, "agent '%s' has an unknown builtin type '%.32s'", c->agent->name,
			       type);
	}
	loop_timer_arm(c->loop, &c->timer, d);
}
