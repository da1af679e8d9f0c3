/*
 * Node type "approval": its description for the builder's palette, the schema of
 * its options, its output ports and the options that hold jq expressions
 * (SPEC.md §3).
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

static void approval_timeout(struct timer *t)
{
	struct node_exec *x = (struct node_exec *)((char *)t - offsetof(struct node_exec, timer));
	if (!strcmp(node_opt_str(x, "on_timeout", "reject"), "approve")) {
		run_event(x->run, "approval_timed_out", x->id, NULL);
		node_done(x, node_passthrough(x, CONF_NONE), NULL);
	} else {
		node_fail(x, "approval timed out after %lld ms: rejected",
			  (long long)node_opt_int(x, "timeout_ms", 0));
	}
}

static void execute(struct node_exec *x)
{
	node_wait(x);
	if (node_opt(x, "timeout_ms")) {
		x->timer.fn = approval_timeout;
		loop_timer_arm(x->run->loop, &x->timer, node_opt_int(x, "timeout_ms", 0));
	}
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
