/*
 * Node type "vote": its description for the builder's palette, the schema of
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
	"{\"type\":\"object\",\"properties\":{\"key\":{\"type\":\"string\",\"format\":\"jq\",\"maxLength\":65536,"
	"\"description\":\"jq over each result: the value voted for.\"},\"method\":{\"type\":\"string\","
	"\"enum\":[\"majority\",\"unanimous\",\"weighted\",\"plurality\"],\"default\":\"plurality\",\"description\":\"How the winner is decided.\"}},"
	"\"additionalProperties\":false}";

static const char *const ports[] = { "out", NULL };
static const char *const expr_keys[] = { "key", NULL };

static const char *status_of(const struct conf_vote *v, const char *method)
{
	if (!v->counted)
		return "no_votes";
	if (!strcmp(method, "majority") && !v->majority)
		return "no_majority";
	if (!strcmp(method, "unanimous") && !v->unanimous)
		return "not_unanimous";
	if (v->unanimous)
		return "unanimous";
	if (v->majority)
		return "majority";
	return v->tied ? "tie" : "plurality";
}

static void execute(struct node_exec *x)
{
	struct node_groups g;
	struct conf_vote v;
	struct err e;
	const char *method = node_opt_str(x, "method", "plurality");
	if (node_groups_init(x, &g, &e) < 0) {
		node_fail(x, "%s", e.msg);
		return;
	}
	conf_vote(g.r, g.n, &v);
	if (!strcmp(method, "weighted")) {
		struct conf_consensus cs;
		conf_consensus(g.r, g.n, CONF_WEIGHT_CONFIDENCE, &cs);
		v.winner = cs.winner;
		v.winner_count = cs.winner_count;
		v.tied = cs.tied;
		v.agreement = cs.agreement;
		v.mean = cs.mean;
		v.confidence = cs.mean == CONF_NONE ? CONF_NONE : cs.agreement * cs.mean;
		/* of the winner chosen by weight: more than half the votes */
		v.majority = cs.winner_count * 2 > cs.counted;
		v.unanimous = cs.counted > 0 && cs.groups == 1;
	}
	const char *status = status_of(&v, method);
	int refused = !strcmp(status, "no_majority") || !strcmp(status, "not_unanimous") ||
		      !strcmp(status, "no_votes");
	const cJSON *win = refused || v.winner == CONF_NO_INDEX ? NULL : g.vals[v.winner];
	cJSON *out = result_new(win ? cJSON_Duplicate(win, 1) : NULL, refused ? 0 : v.confidence);
	cJSON_AddNumberToObject(out, "agreement", v.agreement);
	if (v.mean == CONF_NONE)
		cJSON_AddNullToObject(out, "mean");
	else
		cJSON_AddNumberToObject(out, "mean", v.mean);
	if (v.mean_counted == CONF_NONE)
		cJSON_AddNullToObject(out, "mean_all");
	else
		cJSON_AddNumberToObject(out, "mean_all", v.mean_counted);
	cJSON_AddNumberToObject(out, "counted", (double)v.counted);
	cJSON_AddNumberToObject(out, "groups", (double)v.groups);
	cJSON_AddBoolToObject(out, "tied", v.tied);
	cJSON_AddBoolToObject(out, "unanimous", v.unanimous);
	cJSON_AddBoolToObject(out, "majority", v.majority);
	cJSON_AddStringToObject(out, "status", status);
	cJSON_AddItemToObject(out, "votes", node_groups_votes(&g, !strcmp(method, "weighted"), CONF_WEIGHT_CONFIDENCE));
	cJSON_AddItemToObject(out, "results", cJSON_Duplicate(g.list, 1));
	node_groups_release(&g);
	node_done(x, out, NULL);
}

const struct node_type node_vote = {
	.name = "vote",
	.description = "Majority, unanimous, weighted or plurality vote over a key expression; a true plurality, with ties reported.",
	.options_schema = schema,
	.ports = ports,
	.expr_keys = expr_keys,
	.execute = execute,
	.takes_input = 1,
};
