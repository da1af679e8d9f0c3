/*
 * The executor on race and cascade nodes (docs/engine.md): who wins a race
 * and that the losers are cancelled rather than waited for; where a cascade
 * stops, its target (fixed, default or from the input), the best result
 * seen and the attempts.
 */
#include "tests/unit/engine/test_exec.h"

#define DOC(nodes) "{'name':'t','nodes':[{'id':'in','type':'input'}," nodes "]}"
/* in -> r (race, options as given) -> out */
#define RACE_DOC(opts)                                                                     \
	DOC("{'id':'r','type':'race','from':'in','task':'go','select':{'capabilities':['x']}" \
	    opts "},{'id':'out','type':'output','from':'r'}")
/* in -> c (cascade, options as given) -> out */
#define CASCADE_DOC(opts)                                                         \
	DOC("{'id':'c','type':'cascade','from':'in','task':'go'" opts "},"       \
	    "{'id':'out','type':'output','from':'c'}")

/* fast 0.5 after 10 ms, mid 0.9 after 60 ms, slow 0.95 after 3 s; threshold 0.8:
 * mid wins, slow is cancelled (the run ends long before 3 s). */
TEST(race_first_at_threshold_wins_and_the_rest_are_cancelled)
{
	struct fx_agents g = { 0 };
	fx_agent(&g, "fast", "{'type':'constant','value':'f','confidence':0.5,'delay_ms':10}",
		 "['x']", 1);
	fx_agent(&g, "mid", "{'type':'constant','value':'m','confidence':0.9,'delay_ms':60}",
		 "['x']", 1);
	fx_agent(&g, "slow", "{'type':'constant','value':'s','confidence':0.95,'delay_ms':3000}",
		 "['x']", 1);
	int64_t t0 = mono_ms();
	cJSON *out = fx_run(RACE_DOC(",'threshold':0.8"), NULL, &g);
	int64_t took = mono_ms() - t0;
	CHECK_STATUS(out, "succeeded");
	const cJSON *r = fx_out(out, "r");
	CHECK_STR(fx_str(r, "agent"), "mid");
	CHECK_JSON(fx_get(r, "value"), "'m'");
	CHECK_NEAR(fx_num(r, "confidence"), 0.9, FX_EPS);
	CHECK_NEAR(fx_num(r, "cancelled"), 1, 0);
	CHECK(took < 2000);
	CHECK_JSON(fx_get(out, "result.value"), "'m'");
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* Exactly at the threshold wins. */
TEST(race_threshold_is_inclusive)
{
	struct fx_agents g = { 0 };
	fx_agent(&g, "a", "{'type':'constant','value':'a','confidence':0.8,'delay_ms':10}",
		 "['x']", 1);
	fx_agent(&g, "b", "{'type':'constant','value':'b','confidence':1,'delay_ms':1500}",
		 "['x']", 1);
	cJSON *out = fx_run(RACE_DOC(",'threshold':0.8"), NULL, &g);
	CHECK_STATUS(out, "succeeded");
	CHECK_STR(fx_str(fx_out(out, "r"), "agent"), "a");
	CHECK_NEAR(fx_num(fx_out(out, "r"), "cancelled"), 1, 0);
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* Nobody reaches 0.9: the first success in time (b, after 10 ms) wins over a,
 * which comes first by name; both had finished, so nothing was cancelled. */
TEST(race_without_a_winner_takes_the_first_success)
{
	struct fx_agents g = { 0 };
	fx_agent(&g, "a", "{'type':'constant','value':'a','confidence':0.4,'delay_ms':80}",
		 "['x']", 1);
	fx_agent(&g, "b", "{'type':'constant','value':'b','confidence':0.3,'delay_ms':10}",
		 "['x']", 1);
	cJSON *out = fx_run(RACE_DOC(",'threshold':0.9"), NULL, &g);
	CHECK_STATUS(out, "succeeded");
	CHECK_STR(fx_str(fx_out(out, "r"), "agent"), "b");
	CHECK_NEAR(fx_num(fx_out(out, "r"), "confidence"), 0.3, FX_EPS);
	CHECK_NEAR(fx_num(fx_out(out, "r"), "cancelled"), 0, 0);
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* Without a threshold the first success wins; a failure never does. */
TEST(race_without_threshold_first_success_wins)
{
	struct fx_agents g = { 0 };
	fx_agent(&g, "a", "{'type':'constant','value':'a','fail':true,'delay_ms':5}", "['x']", 1);
	fx_agent(&g, "b", "{'type':'constant','value':'b','confidence':0.2,'delay_ms':50}",
		 "['x']", 1);
	fx_agent(&g, "c", "{'type':'constant','value':'c','confidence':1,'delay_ms':3000}",
		 "['x']", 1);
	int64_t t0 = mono_ms();
	cJSON *out = fx_run(RACE_DOC(""), NULL, &g);
	CHECK(mono_ms() - t0 < 2000);
	CHECK_STATUS(out, "succeeded");
	CHECK_STR(fx_str(fx_out(out, "r"), "agent"), "b");
	CHECK_NEAR(fx_num(fx_out(out, "r"), "cancelled"), 1, 0);
	cJSON_Delete(out);
	fx_agents_release(&g);
}

TEST(race_all_failing_fails_the_node)
{
	struct fx_agents g = { 0 };
	fx_agent(&g, "a", "{'type':'constant','value':'a','fail':true,'delay_ms':20}", "['x']", 1);
	fx_agent(&g, "b", "{'type':'constant','value':'b','fail':true}", "['x']", 1);
	cJSON *out = fx_run(RACE_DOC(",'threshold':0.5"), NULL, &g);
	CHECK_STATUS(out, "failed");
	CHECK_STR(fx_str(out, "error.node"), "r");
	CHECK_HAS(fx_str(out, "error.message"), "every agent in the race failed");
	CHECK_HAS(fx_str(out, "error.message"), "agent 'b' failed");
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* ---- cascade ----------------------------------------------------------------------------- */

/* One by one in select.ids order: cheap 0.5 < 0.8, mid 0.85 >= 0.8 stops; top is
 * never called. */
TEST(cascade_one_by_one_stops_at_the_target)
{
	struct fx_agents g = { 0 };
	fx_agent(&g, "top", "{'type':'constant','value':'t','confidence':0.95}", NULL, 1);
	fx_agent(&g, "cheap", "{'type':'constant','value':'c','confidence':0.5}", NULL, 1);
	fx_agent(&g, "mid", "{'type':'constant','value':'m','confidence':0.85}", NULL, 1);
	cJSON *out = fx_run(CASCADE_DOC(",'select':{'ids':['cheap','mid','top']},'target':0.8"),
			    NULL, &g);
	CHECK_STATUS(out, "succeeded");
	const cJSON *c = fx_out(out, "c");
	CHECK_STR(fx_str(c, "agent"), "mid");
	CHECK_JSON(fx_get(c, "value"), "'m'");
	CHECK_NEAR(fx_num(c, "confidence"), 0.85, FX_EPS);
	CHECK(cJSON_IsTrue(fx_get(c, "reached")));
	CHECK_NEAR(fx_num(c, "target"), 0.8, FX_EPS);
	CHECK_INT(cJSON_GetArraySize(fx_get(c, "attempts")), 2);
	CHECK_STR(fx_str(c, "attempts.0.agent"), "cheap");
	CHECK_STR(fx_str(c, "attempts.1.agent"), "mid");
	CHECK_INT(cJSON_GetArraySize(fx_get(fx_step(out, "c"), "calls")), 2);
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* Tiers: tier 0 (a 0.4, b 0.6) misses 0.7, tier 1 (c 0.75) reaches it; tier 2
 * (d) never runs. */
TEST(cascade_tiers_stop_at_the_first_tier_reaching_the_target)
{
	struct fx_agents g = { 0 };
	fx_agent(&g, "a", "{'type':'constant','value':'a','confidence':0.4}", NULL, 1);
	fx_agent(&g, "b", "{'type':'constant','value':'b','confidence':0.6}", NULL, 1);
	fx_agent(&g, "c", "{'type':'constant','value':'c','confidence':0.75}", NULL, 1);
	fx_agent(&g, "d", "{'type':'constant','value':'d','confidence':0.99}", NULL, 1);
	cJSON *out = fx_run(CASCADE_DOC(",'tiers':[{'ids':['a','b']},{'ids':['c']},{'ids':['d']}],"
					"'target':0.7"),
			    NULL, &g);
	CHECK_STATUS(out, "succeeded");
	const cJSON *c = fx_out(out, "c");
	CHECK_STR(fx_str(c, "agent"), "c");
	CHECK(cJSON_IsTrue(fx_get(c, "reached")));
	CHECK_INT(cJSON_GetArraySize(fx_get(c, "attempts")), 3);
	CHECK_NEAR(fx_num(c, "attempts.0.tier"), 0, 0);
	CHECK_NEAR(fx_num(c, "attempts.1.tier"), 0, 0);
	CHECK_NEAR(fx_num(c, "attempts.2.tier"), 1, 0);
	CHECK_STR(fx_str(c, "attempts.2.agent"), "c");
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* target_expr over the context: 0.9 from the input lets 0.85 pass by and stops
 * at 0.95; 0.8 stops at 0.85; a jq default (// 0.8) when the input has none. */
TEST(cascade_target_expr_reads_the_input)
{
	struct fx_agents g = { 0 };
	fx_agent(&g, "a", "{'type':'constant','value':'a','confidence':0.85}", NULL, 1);
	fx_agent(&g, "b", "{'type':'constant','value':'b','confidence':0.95}", NULL, 1);
	fx_agent(&g, "c", "{'type':'constant','value':'c','confidence':0.99}", NULL, 1);
	const char *doc = CASCADE_DOC(",'select':{'ids':['a','b','c']},'target_expr':'.input.min'");
	cJSON *out = fx_run(doc, "{'min':0.9}", &g);
	CHECK_STATUS(out, "succeeded");
	CHECK_STR(fx_str(fx_out(out, "c"), "agent"), "b");
	CHECK_NEAR(fx_num(fx_out(out, "c"), "target"), 0.9, FX_EPS);
	CHECK_INT(cJSON_GetArraySize(fx_get(fx_out(out, "c"), "attempts")), 2);
	cJSON_Delete(out);

	out = fx_run(doc, "{'min':0.8}", &g);
	CHECK_STR(fx_str(fx_out(out, "c"), "agent"), "a");
	CHECK_INT(cJSON_GetArraySize(fx_get(fx_out(out, "c"), "attempts")), 1);
	cJSON_Delete(out);

	out = fx_run(CASCADE_DOC(",'select':{'ids':['a','b','c']},"
				 "'target_expr':'.input.min // 0.97'"),
		     "{}", &g);
	CHECK_STR(fx_str(fx_out(out, "c"), "agent"), "c");
	CHECK_NEAR(fx_num(fx_out(out, "c"), "target"), 0.97, FX_EPS);
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* Nobody reaches 0.9: the best seen (0.7, the second) with reached false and
 * every attempt; equal bests go to the earliest. */
TEST(cascade_not_reached_outputs_the_best_seen)
{
	struct fx_agents g = { 0 };
	fx_agent(&g, "a", "{'type':'constant','value':'a','confidence':0.6}", NULL, 1);
	fx_agent(&g, "b", "{'type':'constant','value':'b','confidence':0.7}", NULL, 1);
	fx_agent(&g, "c", "{'type':'constant','value':'c','confidence':0.65}", NULL, 1);
	fx_agent(&g, "d", "{'type':'constant','value':'d','confidence':0.7}", NULL, 1);
	cJSON *out = fx_run(CASCADE_DOC(",'select':{'ids':['a','b','c','d']},'target':0.9"), NULL,
			    &g);
	CHECK_STATUS(out, "succeeded");
	const cJSON *c = fx_out(out, "c");
	CHECK_STR(fx_str(c, "agent"), "b");
	CHECK_NEAR(fx_num(c, "confidence"), 0.7, FX_EPS);
	CHECK(cJSON_IsFalse(fx_get(c, "reached")));
	CHECK_NEAR(fx_num(c, "target"), 0.9, FX_EPS);
	CHECK_INT(cJSON_GetArraySize(fx_get(c, "attempts")), 4);
	CHECK_NEAR(fx_num(out, "result.confidence"), 0.7, FX_EPS);
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* No target given: 0.8, inclusive; a failing agent is passed over. */
TEST(cascade_default_target_and_failures)
{
	struct fx_agents g = { 0 };
	fx_agent(&g, "a", "{'type':'constant','value':'a','fail':true}", NULL, 1);
	fx_agent(&g, "b", "{'type':'constant','value':'b','confidence':0.8}", NULL, 1);
	fx_agent(&g, "c", "{'type':'constant','value':'c','confidence':0.9}", NULL, 1);
	cJSON *out = fx_run(CASCADE_DOC(",'select':{'ids':['a','b','c']}"), NULL, &g);
	CHECK_STATUS(out, "succeeded");
	const cJSON *c = fx_out(out, "c");
	CHECK_STR(fx_str(c, "agent"), "b");
	CHECK(cJSON_IsTrue(fx_get(c, "reached")));
	CHECK_NEAR(fx_num(c, "target"), 0.8, FX_EPS);
	CHECK_INT(cJSON_GetArraySize(fx_get(c, "attempts")), 2);
	CHECK_HAS(fx_str(c, "attempts.0.error"), "agent 'a' failed");
	cJSON_Delete(out);

	out = fx_run(CASCADE_DOC(",'select':{'ids':['a']}"), NULL, &g);
	CHECK_STATUS(out, "failed");
	CHECK_STR(fx_str(out, "error.node"), "c");
	CHECK_HAS(fx_str(out, "error.message"), "failed");
	cJSON_Delete(out);
	fx_agents_release(&g);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		TEST_ENTRY(race_first_at_threshold_wins_and_the_rest_are_cancelled),
		TEST_ENTRY(race_threshold_is_inclusive),
		TEST_ENTRY(race_without_a_winner_takes_the_first_success),
		TEST_ENTRY(race_without_threshold_first_success_wins),
		TEST_ENTRY(race_all_failing_fails_the_node),
		TEST_ENTRY(cascade_one_by_one_stops_at_the_target),
		TEST_ENTRY(cascade_tiers_stop_at_the_first_tier_reaching_the_target),
		TEST_ENTRY(cascade_target_expr_reads_the_input),
		TEST_ENTRY(cascade_not_reached_outputs_the_best_seen),
		TEST_ENTRY(cascade_default_target_and_failures),
	};
	return fx_main(argc, argv, cases, ARRAY_SIZE(cases));
}
