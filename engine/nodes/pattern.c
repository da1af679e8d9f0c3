/*
 * Node type "pattern": its description for the builder's palette, the schema of
 * its options, its output ports and the options that hold jq expressions
 * (SPEC.md §3).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/exec_internal.h"
#include "engine/nodes/nodes_internal.h"
#include "core/core.h"

static const char schema[] =
	"{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":64,\"description\":\"The pattern to call.\"},"
	"\"version\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":2147483647,\"description\":\"A version; absent: the latest.\"},"
	"\"input\":{\"type\":\"string\",\"format\":\"jq\",\"maxLength\":65536,\"description\":\"jq over the context: the called pattern's input.\"},"
	"\"timeout_ms\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":3600000,\"description\":\"Time limit for one call,"
	" in milliseconds.\",\"default\":30000}},\"required\":[\"name\"],\"additionalProperties\":false}";

static const char *const ports[] = { "out", NULL };
static const char *const expr_keys[] = { "input", NULL };

static void child_done(struct node_exec *x, struct run *child)
{
	char msg[400];
	const char *name = node_opt_str(x, "name", "");
	if (!strcmp(child->final_status, "succeeded") && child->result) {
		cJSON *out = cJSON_Duplicate(child->result, 1);
		run_free(child);
		node_done(x, out, NULL);
		return;
	}
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(child->error, "message");
	snprintf(msg, sizeof(msg), "pattern '%s' %s: %s", name, child->final_status,
		 cJSON_IsString(m) ? m->valuestring : "no result");
	run_free(child);
	node_fail(x, "%s", msg);
}

static void child_timeout(struct timer *t)
{
	struct node_exec *x = (struct node_exec *)((char *)t - offsetof(struct node_exec, timer));
	if (x->child) {
		run_child_cancel(x->child);
		x->child = NULL;
	}
	node_fail(x, "pattern '%s' ran out of time after %lld ms", node_opt_str(x, "name", ""),
		  (long long)node_opt_int(x, "timeout_ms", 30000));
}

/* Load, parse and check pattern `name` for x; 0 with *p (owned), else x failed. */
int node_pattern_load(struct node_exec *x, const char *name, int64_t version,
		      struct pattern **p, char id[UUID_STR_LEN], int64_t *ver)
{
	struct run *r = x->run;
	struct problems pr;
	struct err e;
	char *def = NULL;
	*p = NULL;
	if (!r->hooks.load_pattern) {
		node_fail(x, "pattern '%s': patterns can only be called from a workspace", name);
		return -1;
	}
	if (r->hooks.load_pattern(r->hooks.ud, name, version, &def, id, ver, &e) < 0) {
		node_fail(x, "pattern '%s': %s", name, e.msg);
		return -1;
	}
	problems_init(&pr);
	int ret = pattern_parse(def, strlen(def), p, &pr, &e);
	free(def);
	if (ret < 0)
		node_fail(x, "pattern '%s' is not valid: %s", name,
			  pr.count ? pr.items[0].message : e.msg);
	problems_release(&pr);
	return ret < 0 ? -1 : 0;
}

static void execute(struct node_exec *x)
{
	const char *name = node_opt_str(x, "name", "");
	struct pattern *p = NULL;
	char id[UUID_STR_LEN] = "";
	int64_t ver = 0;
	struct err e;
	cJSON *input = NULL;
	struct problems pr;

	for (int d = 0; d <= x->run->depth; d++)
		if (!strcmp(x->run->chain[d], name)) {
			node_fail(x, "pattern '%s' calls itself (through %s): recursion is refused",
				  name, x->run->chain[0]);
			return;
		}
	if (node_pattern_load(x, name, node_opt_int(x, "version", 0), &p, id, &ver) < 0)
		return;
	if (node_opt(x, "input")) {
		if (node_expr(x, "input", &input, &e) < 0) {
			pattern_free(p);
			node_fail(x, "%s", e.msg);
			return;
		}
	} else {
		input = node_input_value(x);
	}
	problems_init(&pr);
	if (engine_input_check(p, input, &pr, &e) < 0) {
		node_fail(x, "pattern '%s': %s (%s)", name, e.msg, e.field);
		problems_release(&pr);
		pattern_free(p);
		cJSON_Delete(input);
		return;
	}
	problems_release(&pr);
	if (!run_child_start(x, p, 1, name, ver, id, input, child_done, NULL, &e)) {
		node_fail(x, "%s", e.msg);
	} else {
		x->timer.fn = child_timeout;
		loop_timer_arm(x->run->loop, &x->timer, node_opt_int(x, "timeout_ms", 30000));
	}
	cJSON_Delete(input);
}

const struct node_type node_pattern = {
	.name = "pattern",
	.description = "Calls another pattern by name and optional version; recursion is refused.",
	.options_schema = schema,
	.ports = ports,
	.expr_keys = expr_keys,
	.execute = execute,
	.takes_input = 1,
};
