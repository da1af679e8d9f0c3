/*
 * Node type "consensus": its description for the builder's palette, the schema of
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
	"\"description\":\"jq over each result: the value results agree on.\"},\"weight\":{\"type\":\"string\","
	"\"enum\":[\"confidence\",\"expertise\"],\"default\":\"confidence\",\"description\":\"confidence,"
	" or confidence × expertise.\"},\"min_confidence\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1,"
	"\"description\":\"Mean confidence needed for consensus.\",\"default\":0.7},\"min_agreement\":{"
	"\"type\":\"number\",\"minimum\":0,\"maximum\":1,\"description\":\"Agreement needed for consensus.\","
	"\"default\":0.5}},\"additionalProperties\":false}";

static const char *const ports[] = { "out", NULL };
static const char *const expr_keys[] = { "key", NULL };

static void execute(struct node_exec *x)
{
	struct node_groups g;
	struct conf_consensus cs;
	struct err e;
	enum conf_weight w = strcmp(node_opt_str(x, "weight", "confidence"), "expertise")
				     ? CONF_WEIGHT_CONFIDENCE
				     : CONF_WEIGHT_EXPERTISE;
	if (node_groups_init(x, &g, &e) < 0) {
		node_fail(x, "%s", e.msg);
		return;
	}
	conf_consensus(g.r, g.n, w, &cs);
	double min_c = node_opt_num(x, "min_confidence", CONF_CONSENSUS_MEAN);
	double min_a = node_opt_num(x, "min_agreement", CONF_CONSENSUS_AGREEMENT);
	int reached = cs.mean != CONF_NONE && cs.mean >= min_c && cs.agreement >= min_a;
	const cJSON *win = cs.winner == CONF_NO_INDEX ? NULL : g.vals[cs.winner];
	double conf = cs.mean == CONF_NONE ? (cs.counted ? CONF_NONE : 0) : cs.agreement * cs.mean;
	cJSON *out = result_new(win ? cJSON_Duplicate(win, 1) : NULL, conf);
	cJSON_AddNumberToObject(out, "agreement", cs.agreement);
	if (cs.mean == CONF_NONE)
		cJSON_AddNullToObject(out, "mean");
	else
		cJSON_AddNumberToObject(out, "mean", cs.mean);
	cJSON_AddBoolToObject(out, "reached", reached);
	cJSON_AddStringToObject(out, "status", reached ? "consensus" : "no_consensus");
	cJSON_AddBoolToObject(out, "tied", cs.tied);
	cJSON_AddItemToObject(out, "votes", node_groups_votes(&g, 1, w));
	cJSON_AddNumberToObject(out, "counted", (double)cs.counted);
	cJSON_AddItemToObject(out, "results", cJSON_Duplicate(g.list, 1));
	node_groups_release(&g);
	node_done(x, out, NULL);
}

const struct node_type node_consensus = {
	.name = "consensus",
	.description = "Groups results by a key expression and weighs them by confidence, or by confidence times expertise; reports agreement, status and votes.",
	.options_schema = schema,
	.ports = ports,
	.expr_keys = expr_keys,
	.execute = execute,
	.takes_input = 1,
};
