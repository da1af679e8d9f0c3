/*
 * The executor on the aggregating nodes (docs/engine.md): consensus (weights,
 * ties, the reached thresholds exactly, empty input), vote (a true plurality
 * whatever the order of the answers, ties, the refusing methods, weighted),
 * merge and best. Every expected number is worked out in a comment.
 */
#include "tests/unit/engine/test_exec.h"

#define DOC(nodes) "{'name':'t','nodes':[{'id':'in','type':'input'}," nodes "]}"
/* in -> a (every agent with capability x) -> n (type and options given) -> out */
#define AGG_DOC(type, opts)                                                              \
	DOC("{'id':'a','type':'agent','from':'in','task':'go','select':{'capabilities':['x']}}," \
	    "{'id':'n','type':'" type "','from':'a'" opts "},"                                  \
	    "{'id':'out','type':'output','from':'n'}")

/* A constant agent answering value with confidence (< 0: none). */
static void answer(struct fx_agents *g, const char *name, const char *value, double conf,
		   double expertise)
{
	char cfg[512];
	if (conf < 0)
		snprintf(cfg, sizeof(cfg), "{'type':'constant','value':%s}", value);
	else
		snprintf(cfg, sizeof(cfg), "{'type':'constant','value':%s,'confidence':%g}", value,
			 conf);
	fx_agent(g, name, cfg, "['x']", expertise);
}

/* ---- consensus ----------------------------------------------------------------------------- */

/* p: yes 0.9 (expertise 1), q and r: no 0.5 (expertise 0.2).
 * weight confidence: yes 0.9, no 0.5 + 0.5 = 1.0 -> no wins; total 1.9,
 *   agreement 1.0 / 1.9 = 0.526315789..., mean(no) 0.5, confidence 0.5 / 1.9 =
 *   0.263157894...; mean 0.5 < 0.7: no_consensus.
 * weight expertise: yes 0.9 x 1 = 0.9, no 2 x 0.5 x 0.2 = 0.2 -> yes wins;
 *   agreement 0.9 / 1.1 = 0.818181818..., mean 0.9, confidence 0.81 / 1.1 =
 *   0.736363636...; 0.9 >= 0.7 and 0.818 >= 0.5: consensus. */
TEST(consensus_weighs_by_confidence_or_by_expertise)
{
	struct fx_agents g = { 0 };
	answer(&g, "p", "'yes'", 0.9, 1.0);
	answer(&g, "q", "'no'", 0.5, 0.2);
	answer(&g, "r", "'no'", 0.5, 0.2);
	cJSON *out = fx_run(AGG_DOC("consensus", ""), NULL, &g);
	CHECK_STATUS(out, "succeeded");
	const cJSON *n = fx_out(out, "n");
	CHECK_JSON(fx_get(n, "value"), "'no'");
	CHECK_NEAR(fx_num(n, "agreement"), 1.0 / 1.9, FX_EPS);
	CHECK_NEAR(fx_num(n, "mean"), 0.5, FX_EPS);
	CHECK_NEAR(fx_num(n, "confidence"), 0.5 / 1.9, FX_EPS);
	CHECK(cJSON_IsFalse(fx_get(n, "reached")));
	CHECK_STR(fx_str(n, "status"), "no_consensus");
	CHECK(cJSON_IsFalse(fx_get(n, "tied")));
	CHECK_NEAR(fx_num(n, "counted"), 3, 0);
	CHECK_INT(cJSON_GetArraySize(fx_get(n, "results")), 3);
	CHECK_JSON(fx_get(n, "votes"), "[{'key':'yes','value':'yes','count':1,'weight':0.9},"
				       "{'key':'no','value':'no','count':2,'weight':1}]");
	cJSON_Delete(out);

	out = fx_run(AGG_DOC("consensus", ",'weight':'expertise'"), NULL, &g);
	CHECK_STATUS(out, "succeeded");
	n = fx_out(out, "n");
	CHECK_JSON(fx_get(n, "value"), "'yes'");
	CHECK_NEAR(fx_num(n, "agreement"), 0.9 / 1.1, FX_EPS);
	CHECK_NEAR(fx_num(n, "mean"), 0.9, FX_EPS);
	CHECK_NEAR(fx_num(n, "confidence"), 0.81 / 1.1, FX_EPS);
	CHECK(cJSON_IsTrue(fx_get(n, "reached")));
	CHECK_STR(fx_str(n, "status"), "consensus");
	CHECK_NEAR(fx_num(n, "votes.0.weight"), 0.9, FX_EPS);
	CHECK_NEAR(fx_num(n, "votes.1.weight"), 0.2, FX_EPS);
	CHECK_NEAR(fx_num(out, "result.confidence"), 0.81 / 1.1, FX_EPS);
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* a: x 0.7, b: y 0.7 -> equal weights: tied, the first group (x) wins;
 * agreement 0.7 / 1.4 = 0.5 and mean 0.7: exactly at both bounds -> consensus;
 * confidence 0.5 x 0.7 = 0.35. Names swapped: y appears first and wins. */
TEST(consensus_tie_goes_to_the_first_group_and_bounds_are_inclusive)
{
	struct fx_agents g = { 0 };
	answer(&g, "a", "'x'", 0.7, 1);
	answer(&g, "b", "'y'", 0.7, 1);
	cJSON *out = fx_run(AGG_DOC("consensus", ""), NULL, &g);
	const cJSON *n = fx_out(out, "n");
	CHECK_JSON(fx_get(n, "value"), "'x'");
	CHECK(cJSON_IsTrue(fx_get(n, "tied")));
	CHECK_NEAR(fx_num(n, "agreement"), 0.5, 0);
	CHECK_NEAR(fx_num(n, "mean"), 0.7, 0);
	CHECK(cJSON_IsTrue(fx_get(n, "reached")));
	CHECK_STR(fx_str(n, "status"), "consensus");
	CHECK_NEAR(fx_num(n, "confidence"), 0.35, FX_EPS);
	cJSON_Delete(out);
	fx_agents_release(&g);

	answer(&g, "b", "'x'", 0.7, 1);
	answer(&g, "a", "'y'", 0.7, 1);
	out = fx_run(AGG_DOC("consensus", ""), NULL, &g);
	CHECK_JSON(fx_get(fx_out(out, "n"), "value"), "'y'");
	CHECK(cJSON_IsTrue(fx_get(fx_out(out, "n"), "tied")));
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* Just below either bound: no_consensus.
 * mean: a x 0.69, b y 0.3 -> agreement 0.69 / 0.99 = 0.697 >= 0.5, mean 0.69 < 0.7;
 *   with min_confidence 0.6 it is reached.
 * agreement: x 0.7, y 0.7, z 0.01 -> agreement 0.7 / 1.41 = 0.4964... < 0.5, mean 0.7;
 *   with min_agreement 0.4 it is reached. */
TEST(consensus_just_below_the_bounds)
{
	struct fx_agents g = { 0 };
	answer(&g, "a", "'x'", 0.69, 1);
	answer(&g, "b", "'y'", 0.3, 1);
	cJSON *out = fx_run(AGG_DOC("consensus", ""), NULL, &g);
	CHECK_NEAR(fx_num(fx_out(out, "n"), "agreement"), 0.69 / 0.99, FX_EPS);
	CHECK_STR(fx_str(fx_out(out, "n"), "status"), "no_consensus");
	cJSON_Delete(out);
	out = fx_run(AGG_DOC("consensus", ",'min_confidence':0.6"), NULL, &g);
	CHECK_STR(fx_str(fx_out(out, "n"), "status"), "consensus");
	cJSON_Delete(out);
	fx_agents_release(&g);

	answer(&g, "a", "'x'", 0.7, 1);
	answer(&g, "b", "'y'", 0.7, 1);
	answer(&g, "c", "'z'", 0.01, 1);
	out = fx_run(AGG_DOC("consensus", ""), NULL, &g);
	const cJSON *n = fx_out(out, "n");
	CHECK_NEAR(fx_num(n, "agreement"), 0.7 / 1.41, FX_EPS);
	CHECK_NEAR(fx_num(n, "mean"), 0.7, 0);
	CHECK(cJSON_IsFalse(fx_get(n, "reached")));
	CHECK_STR(fx_str(n, "status"), "no_consensus");
	cJSON_Delete(out);
	out = fx_run(AGG_DOC("consensus", ",'min_agreement':0.4"), NULL, &g);
	CHECK_STR(fx_str(fx_out(out, "n"), "status"), "consensus");
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* a: x 0.8, b fails, c: y without a signal. Counted 2 (not b); y weighs 0;
 * agreement 0.8 / 0.8 = 1, mean 0.8, confidence 0.8. Grouping by a key
 * expression over objects keeps the first value of the group. */
TEST(consensus_skips_failures_and_weighs_no_signal_0)
{
	struct fx_agents g = { 0 };
	answer(&g, "a", "{'rec':'x','n':1}", 0.8, 1);
	fx_agent(&g, "b", "{'type':'constant','value':{'rec':'x'},'fail':true}", "['x']", 1);
	answer(&g, "c", "{'rec':'y','n':3}", -1, 1);
	answer(&g, "d", "{'rec':'x','n':4}", 0.8, 1);
	/* d joins x: weights x 1.6, y 0 -> agreement 1, mean 0.8 */
	cJSON *out = fx_run(AGG_DOC("consensus", ",'key':'.value.rec'"), NULL, &g);
	CHECK_STATUS(out, "succeeded");
	const cJSON *n = fx_out(out, "n");
	CHECK_JSON(fx_get(n, "value"), "{'rec':'x','n':1}");
	CHECK_NEAR(fx_num(n, "counted"), 3, 0);
	CHECK_NEAR(fx_num(n, "agreement"), 1, FX_EPS);
	CHECK_NEAR(fx_num(n, "mean"), 0.8, FX_EPS);
	CHECK_NEAR(fx_num(n, "confidence"), 0.8, FX_EPS);
	CHECK_JSON(fx_get(n, "votes"), "[{'key':'x','value':{'rec':'x','n':1},'count':2,'weight':1.6},"
				       "{'key':'y','value':{'rec':'y','n':3},'count':1,'weight':0}]");
	CHECK_INT(cJSON_GetArraySize(fx_get(n, "results")), 4);
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* A map over no items gives []: nothing counted, no winner, confidence 0. */
TEST(consensus_over_no_results)
{
	struct fx_agents g = { 0 };
	answer(&g, "a", "'x'", 0.9, 1);
	cJSON *out = fx_run(DOC("{'id':'m','type':'map','from':'in','items':'.input.list',"
				"'select':{'ids':['a']},'task':'go'},"
				"{'id':'n','type':'consensus','from':'m'},"
				"{'id':'out','type':'output','from':'n'}"),
			    "{'list':[]}", &g);
	CHECK_STATUS(out, "succeeded");
	const cJSON *n = fx_out(out, "n");
	CHECK(fx_is_null(n, "value"));
	CHECK_NEAR(fx_num(n, "confidence"), 0, 0);
	CHECK_NEAR(fx_num(n, "counted"), 0, 0);
	CHECK_NEAR(fx_num(n, "agreement"), 0, 0);
	CHECK(cJSON_IsFalse(fx_get(n, "reached")));
	CHECK_STR(fx_str(n, "status"), "no_consensus");
	CHECK_JSON(fx_get(n, "votes"), "[]");
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* ---- vote ------------------------------------------------------------------------------------ */

/* Values x x y z handed to agents a..d in every distinct order (y or z often
 * first): the winner is always x. Confidences x 0.8, y 0.6, z 0.4:
 * agreement 2/4 = 0.5, mean(x) 0.8, confidence 0.4; mean_all (0.8 + 0.8 +
 * 0.6 + 0.4) / 4 = 0.65; 2 is not more than half of 4: status plurality. */
TEST(vote_plurality_is_order_independent)
{
	static const char *const orders[] = { "xxyz", "xyxz", "xyzx", "yxxz", "yxzx", "yzxx",
					      "zyxx", "zxyx", "zxxy", "xzyx", "xzxy", "xxzy" };
	static const char *const names[] = { "a", "b", "c", "d" };
	for (size_t o = 0; o < ARRAY_SIZE(orders); o++) {
		struct fx_agents g = { 0 };
		for (size_t i = 0; i < 4; i++) {
			char v = orders[o][i], val[8];
			snprintf(val, sizeof(val), "'%c'", v);
			answer(&g, names[i], val, v == 'x' ? 0.8 : v == 'y' ? 0.6 : 0.4, 1);
		}
		cJSON *out = fx_run(AGG_DOC("vote", ""), NULL, &g);
		const cJSON *n = fx_out(out, "n");
		CHECK_JSON(fx_get(n, "value"), "'x'");
		CHECK_STR(fx_str(n, "status"), "plurality");
		CHECK(cJSON_IsFalse(fx_get(n, "tied")));
		CHECK(cJSON_IsFalse(fx_get(n, "majority")));
		CHECK(cJSON_IsFalse(fx_get(n, "unanimous")));
		CHECK_NEAR(fx_num(n, "agreement"), 0.5, FX_EPS);
		CHECK_NEAR(fx_num(n, "mean"), 0.8, FX_EPS);
		CHECK_NEAR(fx_num(n, "confidence"), 0.4, FX_EPS);
		CHECK_NEAR(fx_num(n, "mean_all"), 0.65, FX_EPS);
		CHECK_NEAR(fx_num(n, "counted"), 4, 0);
		CHECK_NEAR(fx_num(n, "groups"), 3, 0);
		if (strcmp(fx_str(n, "value") ? fx_str(n, "value") : "", "x"))
			fprintf(stderr, "  order %s\n", orders[o]);
		cJSON_Delete(out);
		fx_agents_release(&g);
	}
}

/* x x x y y (names shuffled): 3 of 5 is more than half -> majority;
 * agreement 0.6, mean 0.8, confidence 0.48. x x: unanimous, confidence 0.8. */
TEST(vote_majority_and_unanimous_statuses)
{
	struct fx_agents g = { 0 };
	answer(&g, "e", "'x'", 0.8, 1);
	answer(&g, "a", "'y'", 0.5, 1);
	answer(&g, "c", "'x'", 0.8, 1);
	answer(&g, "b", "'y'", 0.5, 1);
	answer(&g, "d", "'x'", 0.8, 1);
	cJSON *out = fx_run(AGG_DOC("vote", ""), NULL, &g);
	const cJSON *n = fx_out(out, "n");
	CHECK_JSON(fx_get(n, "value"), "'x'");
	CHECK_STR(fx_str(n, "status"), "majority");
	CHECK(cJSON_IsTrue(fx_get(n, "majority")));
	CHECK_NEAR(fx_num(n, "agreement"), 0.6, FX_EPS);
	CHECK_NEAR(fx_num(n, "confidence"), 0.48, FX_EPS);
	/* votes in order of first appearance: a (y) comes first by name */
	CHECK_JSON(fx_get(n, "votes"), "[{'key':'y','value':'y','count':2},"
				       "{'key':'x','value':'x','count':3}]");
	cJSON_Delete(out);
	fx_agents_release(&g);

	answer(&g, "a", "'x'", 0.8, 1);
	answer(&g, "b", "'x'", 0.8, 1);
	out = fx_run(AGG_DOC("vote", ",'method':'unanimous'"), NULL, &g);
	n = fx_out(out, "n");
	CHECK_STR(fx_str(n, "status"), "unanimous");
	CHECK(cJSON_IsTrue(fx_get(n, "unanimous")));
	CHECK_JSON(fx_get(n, "value"), "'x'");
	CHECK_NEAR(fx_num(n, "confidence"), 0.8, FX_EPS);
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* x 0.8 and y 0.6: a tie, reported; the first group to appear wins:
 * agreement 0.5 x mean 0.8 = 0.4. With the names swapped y wins (0.5 x 0.6). */
TEST(vote_tie_is_reported)
{
	struct fx_agents g = { 0 };
	answer(&g, "a", "'x'", 0.8, 1);
	answer(&g, "b", "'y'", 0.6, 1);
	cJSON *out = fx_run(AGG_DOC("vote", ""), NULL, &g);
	const cJSON *n = fx_out(out, "n");
	CHECK_JSON(fx_get(n, "value"), "'x'");
	CHECK(cJSON_IsTrue(fx_get(n, "tied")));
	CHECK_STR(fx_str(n, "status"), "tie");
	CHECK_NEAR(fx_num(n, "confidence"), 0.4, FX_EPS);
	cJSON_Delete(out);
	fx_agents_release(&g);

	answer(&g, "b", "'x'", 0.8, 1);
	answer(&g, "a", "'y'", 0.6, 1);
	out = fx_run(AGG_DOC("vote", ""), NULL, &g);
	CHECK_JSON(fx_get(fx_out(out, "n"), "value"), "'y'");
	CHECK_NEAR(fx_num(fx_out(out, "n"), "confidence"), 0.3, FX_EPS);
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* x x y z: majority refuses (2 is not > 4/2): no_majority, value null,
 * confidence 0; unanimous refuses x x y: not_unanimous. A failed agent is not
 * a vote: x x y + failure is 2 of 3 counted -> majority. */
TEST(vote_majority_and_unanimous_methods_refuse)
{
	struct fx_agents g = { 0 };
	answer(&g, "a", "'x'", 0.8, 1);
	answer(&g, "b", "'x'", 0.8, 1);
	answer(&g, "c", "'y'", 0.8, 1);
	answer(&g, "d", "'z'", 0.8, 1);
	cJSON *out = fx_run(AGG_DOC("vote", ",'method':'majority'"), NULL, &g);
	const cJSON *n = fx_out(out, "n");
	CHECK_STATUS(out, "succeeded");
	CHECK_STR(fx_str(n, "status"), "no_majority");
	CHECK(fx_is_null(n, "value"));
	CHECK_NEAR(fx_num(n, "confidence"), 0, 0);
	cJSON_Delete(out);
	fx_agents_release(&g);

	answer(&g, "a", "'x'", 0.8, 1);
	answer(&g, "b", "'x'", 0.8, 1);
	answer(&g, "c", "'y'", 0.8, 1);
	out = fx_run(AGG_DOC("vote", ",'method':'unanimous'"), NULL, &g);
	n = fx_out(out, "n");
	CHECK_STR(fx_str(n, "status"), "not_unanimous");
	CHECK(fx_is_null(n, "value"));
	CHECK_NEAR(fx_num(n, "confidence"), 0, 0);
	cJSON_Delete(out);
	fx_agent(&g, "d", "{'type':'constant','value':'y','fail':true}", "['x']", 1);
	out = fx_run(AGG_DOC("vote", ",'method':'majority'"), NULL, &g);
	n = fx_out(out, "n");
	CHECK_STR(fx_str(n, "status"), "majority");
	CHECK_NEAR(fx_num(n, "counted"), 3, 0);
	/* agreement 2/3, mean 0.8: confidence 0.5333... */
	CHECK_NEAR(fx_num(n, "confidence"), 2.0 / 3.0 * 0.8, FX_EPS);
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* weighted: a x 0.9; b, c y 0.4 each. Weights x 0.9, y 0.8: x wins on weight
 * though y has more votes; agreement 0.9 / 1.7 = 0.529411..., mean 0.9,
 * confidence 0.81 / 1.7 = 0.476470...; x has 1 vote of 3, not a majority. */
TEST(vote_weighted_by_confidence)
{
	struct fx_agents g = { 0 };
	answer(&g, "a", "'x'", 0.9, 1);
	answer(&g, "b", "'y'", 0.4, 1);
	answer(&g, "c", "'y'", 0.4, 1);
	cJSON *out = fx_run(AGG_DOC("vote", ",'method':'weighted'"), NULL, &g);
	const cJSON *n = fx_out(out, "n");
	CHECK_JSON(fx_get(n, "value"), "'x'");
	CHECK_NEAR(fx_num(n, "agreement"), 0.9 / 1.7, FX_EPS);
	CHECK_NEAR(fx_num(n, "mean"), 0.9, FX_EPS);
	CHECK_NEAR(fx_num(n, "confidence"), 0.81 / 1.7, FX_EPS);
	CHECK_NEAR(fx_num(n, "votes.0.weight"), 0.9, FX_EPS);
	CHECK_NEAR(fx_num(n, "votes.1.weight"), 0.8, FX_EPS);
	CHECK(cJSON_IsFalse(fx_get(n, "tied")));
	CHECK(cJSON_IsFalse(fx_get(n, "majority")));
	CHECK(strcmp(fx_str(n, "status") ? fx_str(n, "status") : "", "majority"));
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* ---- merge and best ---------------------------------------------------------------------------- */

/* t1, t2: transforms from in with the given value and confidence expressions. */
#define TWO_DOC(v1, c1, v2, c2, node)                                                      \
	DOC("{'id':'t1','type':'transform','from':'in','value':'" v1 "','confidence':'" c1 "'}," \
	    "{'id':'t2','type':'transform','from':'in','value':'" v2 "','confidence':'" c2 "'}," \
	    node ",{'id':'out','type':'output','from':'n'}")

TEST(merge_concat_lists_every_input_result)
{
	struct fx_agents g = { 0 };
	answer(&g, "a", "1", 0.9, 1);
	answer(&g, "b", "2", 0.8, 1);
	cJSON *out = fx_run(
		DOC("{'id':'a','type':'agent','from':'in','task':'go','select':{'capabilities':['x']}},"
		    "{'id':'t','type':'transform','from':'in','value':'.input.s','confidence':'0.5'},"
		    "{'id':'n','type':'merge','from':['a','t']},"
		    "{'id':'out','type':'output','from':'n'}"),
		"{'s':'solo'}", &g);
	CHECK_STATUS(out, "succeeded");
	const cJSON *n = fx_out(out, "n");
	CHECK_INT(cJSON_GetArraySize(n), 3);
	CHECK_STR(fx_str(n, "0.agent"), "a");
	CHECK_STR(fx_str(n, "1.agent"), "b");
	CHECK_JSON(fx_get(n, "2"), "{'value':'solo','confidence':0.5}");
	/* the output's default value is the list of values; mean (0.9+0.8+0.5)/3 */
	CHECK_JSON(fx_get(out, "result.value"), "[1,2,'solo']");
	CHECK_NEAR(fx_num(out, "result.confidence"), 2.2 / 3, FX_EPS);
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* {a:1,b:1} (0.9) then {b:2,c:3} (0.6): later wins b; confidence min 0.6. */
TEST(merge_object_later_wins_and_confidence_is_the_min)
{
	cJSON *out = fx_run(TWO_DOC("{a:1,b:1}", "0.9", "{b:2,c:3}", "0.6",
				    "{'id':'n','type':'merge','from':['t1','t2'],'mode':'object'}"),
			    NULL, NULL);
	CHECK_STATUS(out, "succeeded");
	CHECK_JSON(fx_out(out, "n"), "{'value':{'a':1,'b':2,'c':3},'confidence':0.6}");
	cJSON_Delete(out);
	out = fx_run(TWO_DOC("{a:1,b:1}", "0.9", "{b:2,c:3}", "0.6",
			     "{'id':'n','type':'merge','from':['t2','t1'],'mode':'object'}"),
		     NULL, NULL);
	CHECK_JSON(fx_get(fx_out(out, "n"), "value"), "{'b':1,'c':3,'a':1}");
	cJSON_Delete(out);
}

TEST(merge_object_refuses_a_non_object)
{
	cJSON *out = fx_run(TWO_DOC("{a:1}", "0.9", "[1,2]", "0.6",
				    "{'id':'n','type':'merge','from':['t1','t2'],'mode':'object'}"),
			    NULL, NULL);
	CHECK_STATUS(out, "failed");
	CHECK_STR(fx_str(out, "error.node"), "n");
	CHECK_HAS(fx_str(out, "error.message"), "not an object");
	cJSON_Delete(out);
}

/* a 0.7, b 0.7, c 0.5: a (ties to the first); a 0.9 vs b without a signal
 * (counts 1.0): b; a failing, b 0.3: b. */
TEST(best_takes_the_highest_ties_to_the_first)
{
	struct fx_agents g = { 0 };
	answer(&g, "a", "'a'", 0.7, 1);
	answer(&g, "b", "'b'", 0.7, 1);
	answer(&g, "c", "'c'", 0.5, 1);
	cJSON *out = fx_run(AGG_DOC("best", ""), NULL, &g);
	CHECK_STR(fx_str(fx_out(out, "n"), "agent"), "a");
	CHECK_NEAR(fx_num(out, "result.confidence"), 0.7, FX_EPS);
	cJSON_Delete(out);
	fx_agents_release(&g);

	answer(&g, "a", "'a'", 0.9, 1);
	answer(&g, "b", "'b'", -1, 1);
	out = fx_run(AGG_DOC("best", ""), NULL, &g);
	CHECK_STR(fx_str(fx_out(out, "n"), "agent"), "b");
	cJSON_Delete(out);
	fx_agents_release(&g);

	fx_agent(&g, "a", "{'type':'constant','value':'a','confidence':1,'fail':true}", "['x']", 1);
	answer(&g, "b", "'b'", 0.3, 1);
	out = fx_run(AGG_DOC("best", ""), NULL, &g);
	CHECK_STR(fx_str(fx_out(out, "n"), "agent"), "b");
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* A map whose only item failed gives one failed result: best has none. */
TEST(best_without_a_success_fails)
{
	struct fx_agents g = { 0 };
	fx_agent(&g, "a", "{'type':'constant','value':'a','fail':true}", "['x']", 1);
	cJSON *out = fx_run(DOC("{'id':'m','type':'map','from':'in','items':'.input.list',"
				"'select':{'ids':['a']},'task':'go'},"
				"{'id':'n','type':'best','from':'m'},"
				"{'id':'out','type':'output','from':'n'}"),
			    "{'list':[1]}", &g);
	CHECK_STATUS(out, "failed");
	CHECK_STR(fx_str(out, "error.node"), "n");
	CHECK_HAS(fx_str(out, "error.message"), "no successful result");
	cJSON_Delete(out);
	fx_agents_release(&g);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		TEST_ENTRY(consensus_weighs_by_confidence_or_by_expertise),
		TEST_ENTRY(consensus_tie_goes_to_the_first_group_and_bounds_are_inclusive),
		TEST_ENTRY(consensus_just_below_the_bounds),
		TEST_ENTRY(consensus_skips_failures_and_weighs_no_signal_0),
		TEST_ENTRY(consensus_over_no_results),
		TEST_ENTRY(vote_plurality_is_order_independent),
		TEST_ENTRY(vote_majority_and_unanimous_statuses),
		TEST_ENTRY(vote_tie_is_reported),
		TEST_ENTRY(vote_majority_and_unanimous_methods_refuse),
		TEST_ENTRY(vote_weighted_by_confidence),
		TEST_ENTRY(merge_concat_lists_every_input_result),
		TEST_ENTRY(merge_object_later_wins_and_confidence_is_the_min),
		TEST_ENTRY(merge_object_refuses_a_non_object),
		TEST_ENTRY(best_takes_the_highest_ties_to_the_first),
		TEST_ENTRY(best_without_a_success_fails),
	};
	return fx_main(argc, argv, cases, ARRAY_SIZE(cases));
}
