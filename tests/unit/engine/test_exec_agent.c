/*
 * The executor, in process, on input and agent nodes (docs/engine.md): the
 * stable order of agent results, selection (min, max, the strategies),
 * failing agents, clamped and missing confidences, and every action of the
 * confidence policy with its event, at the exact thresholds.
 */
#include "tests/unit/engine/test_exec.h"

#define DOC(nodes) "{'name':'t','nodes':[{'id':'in','type':'input'}," nodes "]}"
/* in -> a (agent, select as given) -> out */
#define AGENT_DOC(select, extra)                                                         \
	DOC("{'id':'a','type':'agent','from':'in','task':'do it','select':" select extra "}," \
	    "{'id':'out','type':'output','from':'a'}")

TEST(input_node_outputs_the_input_with_confidence_1)
{
	cJSON *out = fx_run(DOC("{'id':'out','type':'output','from':'in'}"),
			    "{'a':[1,2],'b':'x'}", NULL);
	CHECK_STATUS(out, "succeeded");
	CHECK_JSON(fx_out(out, "in"), "{'value':{'a':[1,2],'b':'x'},'confidence':1}");
	CHECK_JSON(fx_get(out, "result"), "{'value':{'a':[1,2],'b':'x'},'confidence':1}");
	CHECK_STR(fx_str(fx_step(out, "in"), "status"), "succeeded");
	CHECK(fx_is_null(out, "error"));
	CHECK_INT(fx_events(out, "execution_started", NULL), 1);
	CHECK_INT(fx_events(out, "node_finished", NULL), 2);
	CHECK_INT(fx_events(out, "execution_finished", NULL), 1);
	cJSON_Delete(out);
}

/* Results come by name whatever the order the agents answer in (zed first,
 * alpha last), or in the order of select.ids (names or ids). */
TEST(agent_results_keep_a_stable_order)
{
	struct fx_agents g = { 0 };
	char doc[2048];
	fx_agent(&g, "zed", "{'type':'constant','value':'z','confidence':0.9}", "['c']", 0.5);
	fx_agent(&g, "alpha", "{'type':'constant','value':'a','confidence':0.8,'delay_ms':80}",
		 "['c']", 0.7);
	struct agent_spec *mid = fx_agent(
		&g, "mid", "{'type':'constant','value':'m','confidence':0.7,'delay_ms':40}", "['c']",
		1.0);
	cJSON *out = fx_run(AGENT_DOC("{'capabilities':['c']}", ""), NULL, &g);
	CHECK_STATUS(out, "succeeded");
	const cJSON *a = fx_out(out, "a");
	CHECK_INT(cJSON_GetArraySize(a), 3);
	CHECK_STR(fx_str(a, "0.agent"), "alpha");
	CHECK_STR(fx_str(a, "1.agent"), "mid");
	CHECK_STR(fx_str(a, "2.agent"), "zed");
	CHECK_STR(fx_str(a, "1.agent_id"), mid->id);
	CHECK_JSON(fx_get(a, "0.value"), "'a'");
	CHECK_NEAR(fx_num(a, "0.confidence"), 0.8, FX_EPS);
	CHECK_NEAR(fx_num(a, "0.expertise"), 0.7, FX_EPS);
	CHECK(fx_is_null(a, "0.error"));
	CHECK(fx_is_null(a, "0.reasoning"));
	cJSON_Delete(out);

	out = fx_run(AGENT_DOC("{'ids':['zed','alpha']}", ""), NULL, &g);
	CHECK_STATUS(out, "succeeded");
	a = fx_out(out, "a");
	CHECK_INT(cJSON_GetArraySize(a), 2);
	CHECK_STR(fx_str(a, "0.agent"), "zed");
	CHECK_STR(fx_str(a, "1.agent"), "alpha");
	cJSON_Delete(out);

	snprintf(doc, sizeof(doc), AGENT_DOC("{'ids':['%s','zed','alpha']}", ""), mid->id);
	out = fx_run(doc, NULL, &g);
	CHECK_STATUS(out, "succeeded");
	a = fx_out(out, "a");
	CHECK_STR(fx_str(a, "0.agent"), "mid");
	CHECK_STR(fx_str(a, "1.agent"), "zed");
	CHECK_STR(fx_str(a, "2.agent"), "alpha");
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* Two agents have capability c (a disabled third does not count): min 3 fails
 * the run at node a, naming 3 required and 2 available. */
TEST(agent_min_not_met_fails_naming_required_and_available)
{
	struct fx_agents g = { 0 };
	fx_agent(&g, "a1", "{'type':'constant','value':1}", "['c']", 1);
	fx_agent(&g, "a2", "{'type':'constant','value':2}", "['c','d']", 1);
	fx_agent(&g, "a3", "{'type':'constant','value':3}", "['c']", 1)->disabled = 1;
	cJSON *out = fx_run(AGENT_DOC("{'capabilities':['c'],'min':3}", ""), NULL, &g);
	CHECK_STATUS(out, "failed");
	CHECK_STR(fx_str(out, "error.node"), "a");
	CHECK_HAS(fx_str(out, "error.message"), "at least 3 agents");
	CHECK_HAS(fx_str(out, "error.message"), "2 available");
	CHECK_STR(fx_str(fx_step(out, "a"), "status"), "failed");
	CHECK(fx_is_null(out, "result"));
	cJSON_Delete(out);

	/* capabilities c and d: only a2 */
	out = fx_run(AGENT_DOC("{'capabilities':['c','d'],'min':2}", ""), NULL, &g);
	CHECK_STATUS(out, "failed");
	CHECK_HAS(fx_str(out, "error.message"), "at least 2 agents");
	CHECK_HAS(fx_str(out, "error.message"), "1 available");
	cJSON_Delete(out);
	fx_agents_release(&g);
}

TEST(agent_max_keeps_the_first_by_name)
{
	struct fx_agents g = { 0 };
	fx_agent(&g, "c", "{'type':'constant','value':'c','confidence':1}", "['x']", 1);
	fx_agent(&g, "a", "{'type':'constant','value':'a','confidence':1}", "['x']", 1);
	fx_agent(&g, "b", "{'type':'constant','value':'b','confidence':1}", "['x']", 1);
	cJSON *out = fx_run(AGENT_DOC("{'capabilities':['x'],'max':2}", ""), NULL, &g);
	CHECK_STATUS(out, "succeeded");
	const cJSON *a = fx_out(out, "a");
	CHECK_INT(cJSON_GetArraySize(a), 2);
	CHECK_STR(fx_str(a, "0.agent"), "a");
	CHECK_STR(fx_str(a, "1.agent"), "b");
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* The agent names of node a's results, joined by commas. */
static char *agents_of(const cJSON *out)
{
	struct buf b;
	const cJSON *r;
	buf_init(&b);
	buf_adds(&b, "");
	cJSON_ArrayForEach(r, fx_out(out, "a")) {
		const char *n = fx_str(r, "agent");
		buf_addf(&b, "%s%s", b.len ? "," : "", n ? n : "?");
	}
	return buf_detach(&b, NULL);
}

/* round_robin picks max (default 1) and rotates by one each run. */
TEST(round_robin_rotates_across_runs)
{
	static const char *const want[] = { "a", "b", "c", "a" };
	struct fx_agents g = { 0 };
	fx_agent(&g, "b", "{'type':'constant','value':'b'}", "['x']", 1);
	fx_agent(&g, "c", "{'type':'constant','value':'c'}", "['x']", 1);
	fx_agent(&g, "a", "{'type':'constant','value':'a'}", "['x']", 1);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		cJSON *out = fx_run(AGENT_DOC("{'capabilities':['x'],'strategy':'round_robin'}", ""),
				    NULL, &g);
		CHECK_STATUS(out, "succeeded");
		char *got = agents_of(out);
		CHECK_STR(got, want[i]);
		free(got);
		cJSON_Delete(out);
	}
	fx_agents_release(&g);
}

/* With max 2 the rotation picks {a,b}, {b,c}, {c,a}; the results still come in
 * the stable order of docs/engine.md (agent name ascending): a,b / b,c / a,c. */
TEST(round_robin_with_max_keeps_results_in_name_order)
{
	static const char *const want[] = { "a,b", "b,c", "a,c" };
	struct fx_agents g = { 0 };
	fx_agent(&g, "a", "{'type':'constant','value':'a'}", "['x']", 1);
	fx_agent(&g, "b", "{'type':'constant','value':'b'}", "['x']", 1);
	fx_agent(&g, "c", "{'type':'constant','value':'c'}", "['x']", 1);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		cJSON *out = fx_run(
			AGENT_DOC("{'capabilities':['x'],'strategy':'round_robin','max':2}", ""),
			NULL, &g);
		CHECK_STATUS(out, "succeeded");
		char *got = agents_of(out);
		CHECK_STR(got, want[i]);
		free(got);
		cJSON_Delete(out);
	}
	fx_agents_release(&g);
}

/* While run 1 holds a call of "a" in flight, least_loaded picks "b" though "a"
 * comes first by name; once it is done both are idle and "a" wins again. The
 * engine has one loop and its inbox is FIFO, so run 1's call is launched
 * before run 2's node selects. */
TEST(least_loaded_avoids_the_busy_agent)
{
	struct fx_agents g = { 0 };
	struct fx_async slow;
	fx_agent(&g, "a", "{'type':'constant','value':'a','confidence':0.5,'delay_ms':1000}",
		 "['x']", 1);
	fx_agent(&g, "b", "{'type':'constant','value':'b','confidence':0.5}", "['x']", 1);
	fx_async_start(&slow, AGENT_DOC("{'ids':['a']}", ""), NULL, &g);
	cJSON *out = fx_run(AGENT_DOC("{'capabilities':['x'],'strategy':'least_loaded'}", ""),
			    NULL, &g);
	CHECK_STATUS(out, "succeeded");
	char *got = agents_of(out);
	CHECK_STR(got, "b");
	free(got);
	cJSON_Delete(out);
	cJSON *first = fx_async_wait(&slow);
	CHECK_STATUS(first, "succeeded");
	cJSON_Delete(first);

	out = fx_run(AGENT_DOC("{'capabilities':['x'],'strategy':'least_loaded'}", ""), NULL, &g);
	got = agents_of(out);
	CHECK_STR(got, "a");
	free(got);
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* best_confidence ranks by the mean confidence seen so far: after one call each
 * (a 0.6, b 0.9), it picks b although a comes first. */
TEST(best_confidence_picks_the_most_confident_so_far)
{
	struct fx_agents g = { 0 };
	fx_agent(&g, "a", "{'type':'constant','value':'a','confidence':0.6}", "['x']", 1);
	fx_agent(&g, "b", "{'type':'constant','value':'b','confidence':0.9}", "['x']", 1);
	cJSON *out = fx_run(AGENT_DOC("{'capabilities':['x']}", ""), NULL, &g);
	CHECK_STATUS(out, "succeeded");
	char *got = agents_of(out);
	CHECK_STR(got, "a,b");
	free(got);
	cJSON_Delete(out);
	out = fx_run(AGENT_DOC("{'capabilities':['x'],'strategy':'best_confidence'}", ""), NULL,
		     &g);
	CHECK_STATUS(out, "succeeded");
	got = agents_of(out);
	CHECK_STR(got, "b");
	free(got);
	cJSON_Delete(out);
	fx_agents_release(&g);
}

TEST(every_agent_failing_fails_the_node)
{
	struct fx_agents g = { 0 };
	fx_agent(&g, "a", "{'type':'constant','value':1,'fail':true}", "['x']", 1);
	fx_agent(&g, "b", "{'type':'constant','value':2,'fail':true}", "['x']", 1);
	cJSON *out = fx_run(AGENT_DOC("{'capabilities':['x']}", ""), NULL, &g);
	CHECK_STATUS(out, "failed");
	CHECK_STR(fx_str(out, "error.node"), "a");
	CHECK_HAS(fx_str(out, "error.message"), "all 2 agents failed");
	CHECK_HAS(fx_str(out, "error.message"), "agent 'a' failed");
	CHECK_STR(fx_str(fx_step(out, "a"), "status"), "failed");
	CHECK_HAS(fx_str(fx_step(out, "a"), "error"), "all 2 agents failed");
	/* out never ran: no step, or a step that is not succeeded */
	const cJSON *st = fx_step(out, "out");
	CHECK(!st || strcmp(fx_str(st, "status"), "succeeded"));
	CHECK_INT(fx_events(out, "node_failed", NULL), 1);
	cJSON_Delete(out);

	out = fx_run(AGENT_DOC("{'ids':['b']}", ""), NULL, &g);
	CHECK_STATUS(out, "failed");
	CHECK_HAS(fx_str(out, "error.message"), "agent 'b' failed");
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* One failing agent among successes: its result has value null, confidence 0
 * and the error; the run succeeds. The output's mean counts the failed result
 * as 0: (0.9 + 0) / 2 = 0.45. */
TEST(a_failing_agent_among_successes_gives_an_error_result)
{
	struct fx_agents g = { 0 };
	fx_agent(&g, "a", "{'type':'constant','value':'ok','confidence':0.9}", "['x']", 1);
	fx_agent(&g, "b", "{'type':'constant','value':'no','confidence':0.8,'fail':true}", "['x']",
		 1);
	cJSON *out = fx_run(AGENT_DOC("{'capabilities':['x']}", ""), NULL, &g);
	CHECK_STATUS(out, "succeeded");
	const cJSON *a = fx_out(out, "a");
	CHECK_JSON(fx_get(a, "0.value"), "'ok'");
	CHECK(fx_is_null(a, "0.error"));
	CHECK_STR(fx_str(a, "1.agent"), "b");
	CHECK(fx_is_null(a, "1.value"));
	CHECK_NEAR(fx_num(a, "1.confidence"), 0, 0);
	CHECK_HAS(fx_str(a, "1.error"), "agent 'b' failed");
	CHECK_NEAR(fx_num(out, "result.confidence"), 0.45, FX_EPS);
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* A call's time limit is the node's timeout_ms, else the agent's; retries.max
 * more attempts after a failure, each logged in the step's calls. */
TEST(agent_call_timeout_and_retries)
{
	struct fx_agents g = { 0 };
	fx_agent(&g, "slow", "{'type':'constant','value':1,'confidence':1,'delay_ms':2000}", NULL,
		 1);
	fx_agent(&g, "lazy", "{'type':'constant','value':1,'confidence':1,'delay_ms':2000}", NULL,
		 1)->timeout_ms = 100;
	fx_agent(&g, "bad", "{'type':'constant','value':1,'fail':true}", NULL, 1);
	int64_t t0 = mono_ms();
	cJSON *out = fx_run(AGENT_DOC("{'ids':['slow']}", ",'timeout_ms':100"), NULL, &g);
	CHECK_STATUS(out, "failed");
	CHECK_HAS(fx_str(out, "error.message"), "timed out after 100 ms");
	cJSON_Delete(out);
	out = fx_run(AGENT_DOC("{'ids':['lazy']}", ""), NULL, &g);
	CHECK_STATUS(out, "failed");
	CHECK_HAS(fx_str(out, "error.message"), "timed out after 100 ms");
	CHECK(mono_ms() - t0 < 1500);
	cJSON_Delete(out);

	out = fx_run(AGENT_DOC("{'ids':['bad']}", ",'retries':{'max':2,'backoff_ms':10}"), NULL, &g);
	CHECK_STATUS(out, "failed");
	const cJSON *calls = fx_get(fx_step(out, "a"), "calls");
	CHECK_INT(cJSON_GetArraySize(calls), 3);
	CHECK_NEAR(fx_num(calls, "2.attempt"), 3, 0);
	CHECK_STR(fx_str(calls, "2.status"), "failed");
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* Constant 1.7 -> 1, -0.2 -> 0 and -1 -> 0 (the engine gets specs unchecked;
 * -1 is out of range like any other); a reply's 2 -> 1; nan (jq sends null), a
 * string or no confidence at all -> null. */
TEST(out_of_range_and_missing_confidences)
{
	struct fx_agents g = { 0 };
	fx_agent(&g, "a", "{'type':'constant','value':1,'confidence':1.7}", "['x']", 1);
	fx_agent(&g, "b", "{'type':'constant','value':2,'confidence':-0.2}", "['x']", 1);
	fx_agent(&g, "c", "{'type':'jq','program':'{value: 3, confidence: 2}'}", "['x']", 1);
	fx_agent(&g, "d", "{'type':'jq','program':'{value: 4, confidence: nan}'}", "['x']", 1);
	fx_agent(&g, "e", "{'type':'jq','program':'{value: 5, confidence: `high`}'}", "['x']", 1);
	fx_agent(&g, "f", "{'type':'constant','value':6}", "['x']", 1);
	fx_agent(&g, "g", "{'type':'constant','value':7,'confidence':-1}", "['x']", 1);
	cJSON *out = fx_run(AGENT_DOC("{'capabilities':['x']}", ""), NULL, &g);
	CHECK_STATUS(out, "succeeded");
	const cJSON *a = fx_out(out, "a");
	CHECK_INT(cJSON_GetArraySize(a), 7);
	CHECK_JSON(fx_get(a, "0.confidence"), "1");
	CHECK_JSON(fx_get(a, "1.confidence"), "0");
	CHECK_JSON(fx_get(a, "2.confidence"), "1");
	CHECK(fx_is_null(a, "3.confidence"));
	CHECK(fx_is_null(a, "4.confidence"));
	CHECK(fx_is_null(a, "5.confidence"));
	CHECK_JSON(fx_get(a, "6.confidence"), "0");
	for (int i = 0; i < 7; i++) {
		char path[32];
		snprintf(path, sizeof(path), "%d.value", i);
		CHECK_NEAR(fx_num(a, path), i + 1, 0);
	}
	/* the output's mean skips no-signal results: (1 + 0 + 1 + 0) / 4 */
	CHECK_NEAR(fx_num(out, "result.confidence"), 0.5, FX_EPS);
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* ---- the confidence policy --------------------------------------------------------------- */

/* One agent "x" (config) under policy; the outcome. */
static cJSON *policy_run(struct fx_agents *g, const char *config, const char *policy)
{
	char doc[2048];
	fx_agent(g, "x", config, "['p']", 1);
	snprintf(doc, sizeof(doc),
		 AGENT_DOC("{'ids':['x']}", ",'policy':%s"), policy);
	return fx_run(doc, NULL, g);
}

/* The policy actions of a run with agent config under policy, joined. */
static void check_actions(const char *config, const char *policy, const char *want)
{
	struct fx_agents g = { 0 };
	cJSON *out = policy_run(&g, config, policy);
	CHECK_STATUS(out, "succeeded");
	char *got = fx_actions(out);
	CHECK_STR(got, want);
	if (strcmp(got, want))
		fprintf(stderr, "  config %s, policy %s\n", config, policy);
	free(got);
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* Defaults accept 0.8, retry_below 0.5, escalate_below 0.3; each bound inclusive
 * from below: 0.8 accepts, 0.5 is not retried, 0.3 is retried, not escalated. */
TEST(policy_accept_and_warning_at_the_thresholds)
{
	check_actions("{'type':'constant','value':1,'confidence':0.9}", "{}", "accept");
	check_actions("{'type':'constant','value':1,'confidence':0.8}", "{}", "accept");
	check_actions("{'type':'constant','value':1,'confidence':0.79}", "{}",
		      "accept_with_warning");
	check_actions("{'type':'constant','value':1,'confidence':0.5}", "{}",
		      "accept_with_warning");
	check_actions("{'type':'constant','value':1,'confidence':0.49}", "{}",
		      "retry,accept_with_warning");
	check_actions("{'type':'constant','value':1,'confidence':0.3}", "{}",
		      "retry,accept_with_warning");
	check_actions("{'type':'constant','value':1,'confidence':0.29}", "{}",
		      "escalation_unrouted");
	/* custom thresholds */
	check_actions("{'type':'constant','value':1,'confidence':0.9}",
		      "{'accept':0.95,'retry_below':0.7,'escalate_below':0.6}",
		      "accept_with_warning");
	check_actions("{'type':'constant','value':1,'confidence':0.95}",
		      "{'accept':0.95,'retry_below':0.7,'escalate_below':0.6}", "accept");
	check_actions("{'type':'constant','value':1,'confidence':0.65}",
		      "{'accept':0.95,'retry_below':0.7,'escalate_below':0.6}",
		      "retry,accept_with_warning");
}

TEST(policy_event_carries_node_agent_action_confidence)
{
	struct fx_agents g = { 0 };
	cJSON *out = policy_run(&g, "{'type':'constant','value':1,'confidence':0.9}", "{}");
	const cJSON *ev, *found = NULL;
	cJSON_ArrayForEach(ev, fx_get(out, "events")) {
		if (!strcmp(fx_str(ev, "type"), "policy"))
			found = ev;
	}
	CHECK(found != NULL);
	CHECK_STR(fx_str(found, "node"), "a");
	CHECK_STR(fx_str(found, "data.agent"), "x");
	CHECK_STR(fx_str(found, "data.action"), "accept");
	CHECK_NEAR(fx_num(found, "data.confidence"), 0.9, FX_EPS);
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* A constant agent answers the retry with the same 0.4: a tie keeps the first.
 * A jq agent tells its attempts apart by the critique in the task. */
TEST(policy_retry_keeps_the_more_confident_attempt)
{
	struct fx_agents g = { 0 };
	cJSON *out = policy_run(&g, "{'type':'constant','value':'v','confidence':0.4}", "{}");
	CHECK_STATUS(out, "succeeded");
	CHECK_INT(cJSON_GetArraySize(fx_get(fx_step(out, "a"), "calls")), 2);
	CHECK_JSON(fx_get(fx_out(out, "a"), "0.value"), "'v'");
	CHECK_NEAR(fx_num(fx_out(out, "a"), "0.confidence"), 0.4, FX_EPS);
	cJSON_Delete(out);
	fx_agents_release(&g);

	/* tie, told apart: the first stays */
	out = policy_run(&g,
			 "{'type':'jq','program':'{value: (if (.task | contains(`previous answer`))"
			 " then `second` else `first` end), confidence: 0.4}'}",
			 "{}");
	CHECK_JSON(fx_get(fx_out(out, "a"), "0.value"), "'first'");
	cJSON_Delete(out);
	fx_agents_release(&g);

	/* the retry is more confident (0.45 > 0.4): it stays, and its task names
	 * the first confidence and the bound */
	out = policy_run(&g,
			 "{'type':'jq','program':'if (.task | contains(`previous answer`)) then "
			 "{value: .task, confidence: 0.45} else {value: `first`, confidence: 0.4} "
			 "end'}",
			 "{}");
	CHECK_HAS(fx_str(fx_out(out, "a"), "0.value"), "do it");
	CHECK_HAS(fx_str(fx_out(out, "a"), "0.value"), "0.40");
	CHECK_HAS(fx_str(fx_out(out, "a"), "0.value"), "0.50");
	CHECK_NEAR(fx_num(fx_out(out, "a"), "0.confidence"), 0.45, FX_EPS);
	char *acts = fx_actions(out);
	CHECK_STR(acts, "retry,accept_with_warning");
	free(acts);
	cJSON_Delete(out);
	fx_agents_release(&g);

	/* the retry is less confident (0.35 < 0.4): the first stays */
	out = policy_run(&g,
			 "{'type':'jq','program':'if (.task | contains(`previous answer`)) then "
			 "{value: `second`, confidence: 0.35} else {value: `first`, confidence: 0.4} "
			 "end'}",
			 "{}");
	CHECK_JSON(fx_get(fx_out(out, "a"), "0.value"), "'first'");
	CHECK_NEAR(fx_num(fx_out(out, "a"), "0.confidence"), 0.4, FX_EPS);
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* Below escalate_below the escalate_to agent (by name or by id) answers instead. */
TEST(policy_escalates_to_the_named_agent)
{
	struct fx_agents g = { 0 };
	char policy[256];
	struct agent_spec *boss =
		fx_agent(&g, "boss", "{'type':'constant','value':'sure','confidence':0.95}", NULL, 1);
	cJSON *out = policy_run(&g, "{'type':'constant','value':'meh','confidence':0.2}",
				"{'escalate_to':'boss'}");
	CHECK_STATUS(out, "succeeded");
	char *acts = fx_actions(out);
	CHECK_STR(acts, "escalate,escalated");
	free(acts);
	const cJSON *a = fx_out(out, "a");
	CHECK_INT(cJSON_GetArraySize(a), 1);
	CHECK_STR(fx_str(a, "0.agent"), "boss");
	CHECK_JSON(fx_get(a, "0.value"), "'sure'");
	CHECK_NEAR(fx_num(a, "0.confidence"), 0.95, FX_EPS);
	CHECK_NEAR(fx_num(out, "result.confidence"), 0.95, FX_EPS);
	cJSON_Delete(out);
	fx_agents_release(&g);

	boss = fx_agent(&g, "boss", "{'type':'constant','value':'sure','confidence':0.95}", NULL, 1);
	snprintf(policy, sizeof(policy), "{'escalate_to':'%s'}", boss->id);
	out = policy_run(&g, "{'type':'constant','value':'meh','confidence':0.1}", policy);
	CHECK_STR(fx_str(fx_out(out, "a"), "0.agent"), "boss");
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* Without escalate_to (or with one that names no agent) the weak result passes. */
TEST(policy_escalation_unrouted_passes_the_result)
{
	struct fx_agents g = { 0 };
	cJSON *out = policy_run(&g, "{'type':'constant','value':'meh','confidence':0.1}", "{}");
	CHECK_STATUS(out, "succeeded");
	char *acts = fx_actions(out);
	CHECK_STR(acts, "escalation_unrouted");
	free(acts);
	CHECK_JSON(fx_get(fx_out(out, "a"), "0.value"), "'meh'");
	CHECK_NEAR(fx_num(fx_out(out, "a"), "0.confidence"), 0.1, FX_EPS);
	CHECK_INT(cJSON_GetArraySize(fx_get(fx_step(out, "a"), "calls")), 1);
	cJSON_Delete(out);
	fx_agents_release(&g);

	check_actions("{'type':'constant','value':'meh','confidence':0.1}",
		      "{'escalate_to':'nobody'}", "escalation_unrouted");
}

TEST(policy_no_signal_passes_the_result)
{
	struct fx_agents g = { 0 };
	cJSON *out = policy_run(&g, "{'type':'constant','value':'plain'}", "{}");
	CHECK_STATUS(out, "succeeded");
	char *acts = fx_actions(out);
	CHECK_STR(acts, "no_signal");
	free(acts);
	CHECK_INT(fx_events(out, "policy", "no_signal"), 1);
	const cJSON *ev;
	cJSON_ArrayForEach(ev, fx_get(out, "events")) {
		if (!strcmp(fx_str(ev, "type"), "policy"))
			CHECK(fx_is_null(ev, "data.confidence"));
	}
	CHECK(fx_is_null(fx_out(out, "a"), "0.confidence"));
	CHECK_JSON(fx_get(fx_out(out, "a"), "0.value"), "'plain'");
	cJSON_Delete(out);
	fx_agents_release(&g);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		TEST_ENTRY(input_node_outputs_the_input_with_confidence_1),
		TEST_ENTRY(agent_results_keep_a_stable_order),
		TEST_ENTRY(agent_min_not_met_fails_naming_required_and_available),
		TEST_ENTRY(agent_max_keeps_the_first_by_name),
		TEST_ENTRY(round_robin_rotates_across_runs),
		TEST_ENTRY(round_robin_with_max_keeps_results_in_name_order),
		TEST_ENTRY(least_loaded_avoids_the_busy_agent),
		TEST_ENTRY(best_confidence_picks_the_most_confident_so_far),
		TEST_ENTRY(every_agent_failing_fails_the_node),
		TEST_ENTRY(a_failing_agent_among_successes_gives_an_error_result),
		TEST_ENTRY(agent_call_timeout_and_retries),
		TEST_ENTRY(out_of_range_and_missing_confidences),
		TEST_ENTRY(policy_accept_and_warning_at_the_thresholds),
		TEST_ENTRY(policy_event_carries_node_agent_action_confidence),
		TEST_ENTRY(policy_retry_keeps_the_more_confident_attempt),
		TEST_ENTRY(policy_escalates_to_the_named_agent),
		TEST_ENTRY(policy_escalation_unrouted_passes_the_result),
		TEST_ENTRY(policy_no_signal_passes_the_result),
	};
	return fx_main(argc, argv, cases, ARRAY_SIZE(cases));
}
