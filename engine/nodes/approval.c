/*
 * Node type "approval": its description for the builder's palette, the schema of
 * its options, its output ports and the options that hold jq expressions
 * (SPEC.md §3).
 *
 * A waiting approval parks the run (waiting_approval) and holds no worker. With
 * timeout_ms its deadline is fixed when the wait begins and checkpointed (a
 * "waiting" step {due_at}); the worker wakes the execution then, and the resumed
 * node applies on_timeout unless a person decided first. A sub-run is not
 * checkpointed: there the wait is a timer on the loop.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/exec_internal.h"
#include "engine/nodes/nodes_internal.h"
#include "core/core.h"

static const char schema[] =
	"{\"type\":\"object\",\"properties\":{\"message\":{\"type\":\"string\",\"maxLength\":10000,\"description\":\"Shown to the operator.\"},"
	"\"timeout_ms\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":2592000000,\"description\":\"How long to wait; absent: no limit.\"},"
	"\"on_timeout\":{\"type\":\"string\",\"enum\":[\"reject\",\"approve\"],\"default\":\"reject\",\"description\":\"The decision when the wait times out.\"}},"
	"\"additionalProperties\":false}";

static const char *const ports[] = { "out", NULL };
static const char *const expr_keys[] = { NULL };

static void timed_out(struct node_exec *x)
{
	if (!strcmp(node_opt_str(x, "on_timeout", "reject"), "approve")) {
		run_event(x->run, "approval_timed_out", x->id, NULL);
		node_done(x, node_passthrough(x, CONF_NONE), NULL);
	} else {
		node_fail(x, "approval timed out after %lld ms: rejected",
			  (long long)node_opt_int(x, "timeout_ms", 0));
	}
}

static void approval_timeout(struct timer *t)
{
	timed_out((struct node_exec *)((char *)t - offsetof(struct node_exec, timer)));
}

static void execute(struct node_exec *x)
{
	/* resumed after a person decided (POST /executions/{id}/approve) */
	const cJSON *mine = cJSON_GetObjectItemCaseSensitive(x->run->resume, x->id);
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(mine, "decision");
	const cJSON *by = cJSON_GetObjectItemCaseSensitive(mine, "by");
	if (cJSON_IsString(d)) {
		cJSON *ev = cJSON_CreateObject();
		cJSON_AddStringToObject(ev, "decision", d->valuestring);
		if (cJSON_IsString(by))
			cJSON_AddStringToObject(ev, "by", by->valuestring);
		run_event(x->run, "approval_decided", x->id, ev);
		if (!strcmp(d->valuestring, "approve"))
			node_done(x, node_passthrough(x, CONF_NONE), NULL);
		else
			node_fail(x, "rejected%s%s", cJSON_IsString(by) ? " by " : "",
				  cJSON_IsString(by) ? by->valuestring : "");
		return;
	}
	int64_t timeout = node_opt(x, "timeout_ms") ? node_opt_int(x, "timeout_ms", 0) : 0;
	if (timeout && x->run->parent) {
		node_wait(x, 0);
		x->timer.fn = approval_timeout;
		loop_timer_arm(x->run->loop, &x->timer, timeout);
		return;
	}
	/* the deadline set when the wait began, if this is a resumed run */
	const cJSON *due = cJSON_GetObjectItemCaseSensitive(mine, "due_at");
	int64_t due_at = cJSON_IsNumber(due) ? (int64_t)due->valuedouble : now_ms() + timeout;
	if (!timeout)
		due_at = 0;
	if (due_at && now_ms() >= due_at) {
		timed_out(x);
		return;
	}
	node_wait(x, due_at);
}

const struct node_type node_approval = {
	.name = "approval",
	.description = "A human gate: the execution waits until an operator approves or rejects it, with an optional timeout.",
	.options_schema = schema,
	.ports = ports,
	.expr_keys = expr_keys,
	.execute = execute,
	.takes_input = 1,
};
