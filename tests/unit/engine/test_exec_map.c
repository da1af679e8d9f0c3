/*
 * The executor on map, reduce and review nodes (docs/engine.md): a map sends
 * each item to the agents (or through a pattern) at most max_parallel at
 * once and lists one result per item; reduce combines results in each mode
 * over the successful ones; review caps the confidence by the verdict.
 */
#include "tests/unit/engine/test_exec.h"

#define DOC(nodes) "{'name':'t','nodes':[{'id':'in','type':'input'}," nodes "]}"
/* in -> m (map over .input.list, options as given) -> out */
#define MAP_DOC(opts)                                                                      \
	DOC("{'id':'m','type':'map','from':'in','items':'.input.list','task':'go'" opts "}," \
	    "{'id':'out','type':'output','from':'m'}")

/* ---- map ------------------------------------------------------------------------------------ */

TEST(map_sends_each_item_to_the_agents)
{
	struct fx_agents g = { 0 };
	fx_agent(&g, "echo", "{'type':'echo'}", NULL, 1);
	cJSON *out = fx_run(MAP_DOC(",'select':{'ids':['echo']}"), "{'list':[1,'two',{'x':3}]}",
			    &g);
	CHECK_STATUS(out, "succeeded");
	CHECK_JSON(fx_out(out, "m"),
		   "[{'item':1,'index':0,'agent':'echo','value':1,'confidence':1,'error':null},"
		   "{'item':'two','index':1,'agent':'echo','value':'two','confidence':1,'error':null},"
		   "{'item':{'x':3},'index':2,'agent':'echo','value':{'x':3},'confidence':1,"
		   "'error':null}]");
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* data is evaluated per item over the context plus item and index. */
TEST(map_data_expression_sees_item_and_index)
{
	struct fx_agents g = { 0 };
	fx_agent(&g, "echo", "{'type':'echo'}", NULL, 1);
	cJSON *out = fx_run(MAP_DOC(",'select':{'ids':['echo']},"
				    "'data':'{i: .item, n: .index, k: .input.k}'"),
			    "{'list':['a','b'],'k':7}", &g);
	CHECK_STATUS(out, "succeeded");
	CHECK_JSON(fx_get(fx_out(out, "m"), "0.value"), "{'i':'a','n':0,'k':7}");
	CHECK_JSON(fx_get(fx_out(out, "m"), "1.value"), "{'i':'b','n':1,'k':7}");
	cJSON_Delete(out);
	out = fx_run(MAP_DOC(",'select':{'ids':['echo']},'data':'.item.v'"),
		     "{'list':[{'v':5},{'v':6}]}", &g);
	CHECK_JSON(fx_get(out, "result.value"), "[5,6]");
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* Several agents per item: the best answer stands for the item (hi 0.9 over lo
 * 0.4; a failing agent never wins); all failing: the item carries the error. */
TEST(map_keeps_the_best_answer_per_item)
{
	struct fx_agents g = { 0 };
	fx_agent(&g, "bad", "{'type':'constant','value':'bad','confidence':1,'fail':true}", "['x']",
		 1);
	fx_agent(&g, "hi", "{'type':'constant','value':'hi','confidence':0.9,'delay_ms':20}",
		 "['x']", 1);
	fx_agent(&g, "lo", "{'type':'constant','value':'lo','confidence':0.4}", "['x']", 1);
	cJSON *out = fx_run(MAP_DOC(",'select':{'capabilities':['x']}"), "{'list':[1,2]}", &g);
	CHECK_STATUS(out, "succeeded");
	const cJSON *m = fx_out(out, "m");
	CHECK_INT(cJSON_GetArraySize(m), 2);
	CHECK_STR(fx_str(m, "0.agent"), "hi");
	CHECK_STR(fx_str(m, "1.agent"), "hi");
	CHECK_NEAR(fx_num(m, "1.confidence"), 0.9, FX_EPS);
	CHECK(fx_is_null(m, "1.error"));
	cJSON_Delete(out);

	out = fx_run(MAP_DOC(",'select':{'ids':['bad']}"), "{'list':[1]}", &g);
	CHECK_STATUS(out, "succeeded");
	m = fx_out(out, "m");
	CHECK(fx_is_null(m, "0.value"));
	CHECK_NEAR(fx_num(m, "0.confidence"), 0, 0);
	CHECK_HAS(fx_str(m, "0.error"), "agent 'bad' failed");
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* 4 items, each answered after 150 ms: one at a time takes >= 600 ms; four at
 * once about 150 ms, well under half of that. */
TEST(map_max_parallel_bounds_the_calls_in_flight)
{
	struct fx_agents g = { 0 };
	fx_agent(&g, "slow", "{'type':'constant','value':1,'confidence':1,'delay_ms':150}", NULL, 1);
	int64_t t0 = mono_ms();
	cJSON *out = fx_run(MAP_DOC(",'select':{'ids':['slow']},'max_parallel':1"),
			    "{'list':[1,2,3,4]}", &g);
	int64_t serial = mono_ms() - t0;
	CHECK_STATUS(out, "succeeded");
	CHECK_INT(cJSON_GetArraySize(fx_out(out, "m")), 4);
	CHECK(serial >= 600);
	cJSON_Delete(out);

	t0 = mono_ms();
	out = fx_run(MAP_DOC(",'select':{'ids':['slow']},'max_parallel':4"), "{'list':[1,2,3,4]}",
		     &g);
	int64_t parallel = mono_ms() - t0;
	CHECK_STATUS(out, "succeeded");
	CHECK(parallel >= 150);
	/* relative to the serial run on the same machine, not a wall-clock bound: a loaded
	 * CI machine slows both (four at once take about a quarter of one at a time) */
	CHECK(parallel * 2 < serial);
	CHECK_NEAR(fx_num(fx_out(out, "m"), "3.index"), 3, 0);
	cJSON_Delete(out);
	fx_agents_release(&g);
}

TEST(map_empty_list_too_many_items_and_not_a_list)
{
	struct fx_agents g = { 0 };
	fx_agent(&g, "echo", "{'type':'echo'}", NULL, 1);
	cJSON *out = fx_run(MAP_DOC(",'select':{'ids':['echo']}"), "{'list':[]}", &g);
	CHECK_STATUS(out, "succeeded");
	CHECK_JSON(fx_out(out, "m"), "[]");
	CHECK(fx_get(fx_step(out, "m"), "calls") == NULL);
	cJSON_Delete(out);

	out = fx_run(MAP_DOC(",'select':{'ids':['echo']},'max_items':2"), "{'list':[1,2,3]}", &g);
	CHECK_STATUS(out, "failed");
	CHECK_STR(fx_str(out, "error.node"), "m");
	CHECK_HAS(fx_str(out, "error.message"), "3 items");
	CHECK_HAS(fx_str(out, "error.message"), "max_items (2)");
	cJSON_Delete(out);

	out = fx_run(MAP_DOC(",'select':{'ids':['echo']},'max_items':2"), "{'list':[1,2]}", &g);
	CHECK_STATUS(out, "succeeded");
	cJSON_Delete(out);

	out = fx_run(MAP_DOC(",'select':{'ids':['echo']}"), "{'list':{'a':1}}", &g);
	CHECK_STATUS(out, "failed");
	CHECK_HAS(fx_str(out, "error.message"), "list");
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* Each item through the pattern "double" (its input times 2, confidence 0.6). */
TEST(map_through_a_pattern)
{
	static const struct fx_pattern lib[] = {
		{ "double", DOC("{'id':'t','type':'transform','from':'in','value':'.input * 2',"
				"'confidence':'0.6'},{'id':'out','type':'output','from':'t'}") },
	};
	struct fx_opts o = { .loader = 1 };
	fx_library = lib;
	fx_library_n = ARRAY_SIZE(lib);
	cJSON *out = fx_run_opts(MAP_DOC(",'pattern':'double'"), "{'list':[1,2,3]}", NULL, &o);
	CHECK_STATUS(out, "succeeded");
	const cJSON *m = fx_out(out, "m");
	CHECK_INT(cJSON_GetArraySize(m), 3);
	CHECK_JSON(fx_get(out, "result.value"), "[2,4,6]");
	CHECK_NEAR(fx_num(m, "2.confidence"), 0.6, FX_EPS);
	CHECK_NEAR(fx_num(m, "2.item"), 3, 0);
	CHECK(fx_is_null(m, "2.error"));
	cJSON_Delete(out);
	fx_library = NULL;
	fx_library_n = 0;
}

/* ---- reduce --------------------------------------------------------------------------------- */

/* r reads, in order: t1 {a:1} 0.9, t2 {b:2} 0.7, t3 {a:3} 0.5, then the
 * agent node f's list: bad (failed: value null, confidence 0) and good
 * {y:8} 0.1. Five results. */
static cJSON *reduce_run(const char *opts)
{
	struct fx_agents g = { 0 };
	char doc[2048];
	fx_agent(&g, "bad", "{'type':'constant','value':{'z':9},'fail':true}", "['r']", 1);
	fx_agent(&g, "good", "{'type':'constant','value':{'y':8},'confidence':0.1}", "['r']", 1);
	snprintf(doc, sizeof(doc),
		 DOC("{'id':'t1','type':'transform','from':'in','value':'.input.a',"
		     "'confidence':'.input.ca'},"
		     "{'id':'t2','type':'transform','from':'in','value':'.input.b',"
		     "'confidence':'.input.cb'},"
		     "{'id':'t3','type':'transform','from':'in','value':'.input.c',"
		     "'confidence':'.input.cc'},"
		     "{'id':'f','type':'agent','from':'in','task':'go',"
		     "'select':{'capabilities':['r']}},"
		     "{'id':'r','type':'reduce','from':['t1','t2','t3','f']%s},"
		     "{'id':'out','type':'output','from':'r'}"),
		 opts);
	cJSON *out = fx_run(doc,
			    "{'a':{'a':1},'ca':0.9,'b':{'b':2},'cb':0.7,'c':{'a':3},'cc':0.5}", &g);
	fx_agents_release(&g);
	return out;
}

/* min_confidence 0.7 (default, inclusive): t1 and t2 are successful.
 * mean (0.9 + 0.7) / 2 = 0.8; mean_all (0.9 + 0.7 + 0.5 + 0 + 0.1) / 5 = 0.44. */
TEST(reduce_modes_over_the_successful_results)
{
	cJSON *out = reduce_run("");
	CHECK_STATUS(out, "succeeded");
	const cJSON *r = fx_out(out, "r");
	CHECK_JSON(fx_get(r, "value"), "[{'a':1},{'b':2}]");
	CHECK_NEAR(fx_num(r, "confidence"), 0.8, FX_EPS);
	CHECK_NEAR(fx_num(r, "successful"), 2, 0);
	CHECK_NEAR(fx_num(r, "total"), 5, 0);
	CHECK_NEAR(fx_num(r, "mean"), 0.8, FX_EPS);
	CHECK_NEAR(fx_num(r, "mean_all"), 0.44, FX_EPS);
	cJSON_Delete(out);

	out = reduce_run(",'mode':'merge'");
	CHECK_JSON(fx_get(fx_out(out, "r"), "value"), "{'a':1,'b':2}");
	CHECK_NEAR(fx_num(fx_out(out, "r"), "confidence"), 0.8, FX_EPS);
	cJSON_Delete(out);

	out = reduce_run(",'mode':'mean'");
	CHECK_NEAR(fx_num(fx_out(out, "r"), "value"), 0.8, FX_EPS);
	CHECK_NEAR(fx_num(fx_out(out, "r"), "confidence"), 0.8, FX_EPS);
	cJSON_Delete(out);

	/* expr over {results, context}: every result is there, failed ones too */
	out = reduce_run(",'mode':'expr','expr':'{n: (.results | length), a: .context.input.a.a}'");
	CHECK_STATUS(out, "succeeded");
	CHECK_JSON(fx_get(fx_out(out, "r"), "value"), "{'n':5,'a':1}");
	CHECK_NEAR(fx_num(fx_out(out, "r"), "confidence"), 0.8, FX_EPS);
	cJSON_Delete(out);
}

/* min_confidence 0.5: t1, t2, t3 -> mean 2.1 / 3 = 0.7, merge: later a wins.
 * 0: every non-failed result -> (0.9 + 0.7 + 0.5 + 0.1) / 4 = 0.55.
 * 0.95: none -> value [], confidence 0. */
TEST(reduce_min_confidence)
{
	cJSON *out = reduce_run(",'mode':'merge','min_confidence':0.5");
	const cJSON *r = fx_out(out, "r");
	CHECK_JSON(fx_get(r, "value"), "{'a':3,'b':2}");
	CHECK_NEAR(fx_num(r, "successful"), 3, 0);
	CHECK_NEAR(fx_num(r, "confidence"), 0.7, FX_EPS);
	cJSON_Delete(out);

	out = reduce_run(",'min_confidence':0");
	r = fx_out(out, "r");
	CHECK_NEAR(fx_num(r, "successful"), 4, 0);
	CHECK_JSON(fx_get(r, "value"), "[{'a':1},{'b':2},{'a':3},{'y':8}]");
	CHECK_NEAR(fx_num(r, "confidence"), 0.55, FX_EPS);
	cJSON_Delete(out);

	out = reduce_run(",'min_confidence':0.95");
	r = fx_out(out, "r");
	CHECK_STATUS(out, "succeeded");
	CHECK_NEAR(fx_num(r, "successful"), 0, 0);
	CHECK_JSON(fx_get(r, "value"), "[]");
	CHECK_NEAR(fx_num(r, "confidence"), 0, 0);
	CHECK_NEAR(fx_num(r, "mean_all"), 0.44, FX_EPS);
	cJSON_Delete(out);
}

/* ---- review --------------------------------------------------------------------------------- */

/* t: the answer 42 with confidence 0.65 -> rv (reviewer "rev": config) -> out. */
static cJSON *review_run(const char *config)
{
	struct fx_agents g = { 0 };
	fx_agent(&g, "rev", config, NULL, 1);
	cJSON *out = fx_run(DOC("{'id':'t','type':'transform','from':'in','value':'.input.answer',"
				"'confidence':'.input.c'},"
				"{'id':'rv','type':'review','from':'t','select':{'ids':['rev']},"
				"'criteria':'be strict'},"
				"{'id':'out','type':'output','from':'rv'}"),
			    "{'answer':42,'c':0.65}", &g);
	fx_agents_release(&g);
	return out;
}

/* The confidence after a verdict (NAN if the run did not succeed). */
static double reviewed(const char *verdict_value)
{
	char cfg[512];
	snprintf(cfg, sizeof(cfg), "{'type':'constant','value':%s}", verdict_value);
	cJSON *out = review_run(cfg);
	CHECK_STATUS(out, "succeeded");
	CHECK_JSON(fx_get(out, "result.value"), "42");
	double c = fx_num(out, "result.confidence");
	cJSON_Delete(out);
	return c;
}

/* approve: 0.9, or the stated one; revise: min(stated, 0.6); reject:
 * min(stated, 0.3); with nothing stated, the cap itself. */
TEST(review_verdicts_cap_the_confidence)
{
	CHECK_NEAR(reviewed("{'verdict':'approve'}"), 0.9, FX_EPS);
	CHECK_NEAR(reviewed("{'verdict':'approve','confidence':0.75}"), 0.75, FX_EPS);
	CHECK_NEAR(reviewed("{'verdict':'revise','confidence':0.8}"), 0.6, FX_EPS);
	CHECK_NEAR(reviewed("{'verdict':'revise','confidence':0.4}"), 0.4, FX_EPS);
	CHECK_NEAR(reviewed("{'verdict':'revise'}"), 0.6, FX_EPS);
	CHECK_NEAR(reviewed("{'verdict':'reject','confidence':0.9}"), 0.3, FX_EPS);
	CHECK_NEAR(reviewed("{'verdict':'reject','confidence':0.1}"), 0.1, FX_EPS);
	CHECK_NEAR(reviewed("{'verdict':'reject'}"), 0.3, FX_EPS);
}

TEST(review_output_names_verdict_feedback_and_reviewer)
{
	cJSON *out = review_run("{'type':'constant','value':{'verdict':'revise','confidence':0.8,"
				"'feedback':'tighten it'}}");
	CHECK_STATUS(out, "succeeded");
	CHECK_JSON(fx_out(out, "rv"), "{'value':42,'confidence':0.6,'verdict':'revise',"
				      "'feedback':'tighten it','reviewer':'rev'}");
	cJSON_Delete(out);

	/* the reviewer gets the result, its confidence and the criteria */
	out = review_run("{'type':'jq','program':'{value: {verdict: `approve`, confidence: "
			 ".data.confidence, feedback: (.data.criteria + `|` + "
			 "(.data.result | tostring))}}'}");
	CHECK_STATUS(out, "succeeded");
	CHECK_STR(fx_str(fx_out(out, "rv"), "feedback"), "be strict|42");
	CHECK_NEAR(fx_num(out, "result.confidence"), 0.65, FX_EPS);
	cJSON_Delete(out);
}

/* A text reply naming the verdict: REJECT, the text is the feedback, 0.3. */
TEST(review_text_verdict)
{
	cJSON *out = review_run("{'type':'constant','value':'REJECT: the answer is wrong'}");
	CHECK_STATUS(out, "succeeded");
	CHECK_STR(fx_str(fx_out(out, "rv"), "verdict"), "reject");
	CHECK_STR(fx_str(fx_out(out, "rv"), "feedback"), "REJECT: the answer is wrong");
	CHECK_NEAR(fx_num(out, "result.confidence"), 0.3, FX_EPS);
	cJSON_Delete(out);
}

TEST(review_without_a_verdict_fails)
{
	static const char *const configs[] = {
		"{'type':'constant','value':{'verdict':'maybe'}}",
		"{'type':'constant','value':{'feedback':'hmm'}}",
		"{'type':'constant','value':'looks fine to me'}",
		"{'type':'constant','value':{'verdict':'approve'},'fail':true}",
	};
	for (size_t i = 0; i < ARRAY_SIZE(configs); i++) {
		cJSON *out = review_run(configs[i]);
		CHECK_STATUS(out, "failed");
		CHECK_STR(fx_str(out, "error.node"), "rv");
		if (i < 3)
			CHECK_HAS(fx_str(out, "error.message"), "no verdict");
		else
			CHECK_HAS(fx_str(out, "error.message"), "agent 'rev' failed");
		cJSON_Delete(out);
	}
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		TEST_ENTRY(map_sends_each_item_to_the_agents),
		TEST_ENTRY(map_data_expression_sees_item_and_index),
		TEST_ENTRY(map_keeps_the_best_answer_per_item),
		TEST_ENTRY(map_max_parallel_bounds_the_calls_in_flight),
		TEST_ENTRY(map_empty_list_too_many_items_and_not_a_list),
		TEST_ENTRY(map_through_a_pattern),
		TEST_ENTRY(reduce_modes_over_the_successful_results),
		TEST_ENTRY(reduce_min_confidence),
		TEST_ENTRY(review_verdicts_cap_the_confidence),
		TEST_ENTRY(review_output_names_verdict_feedback_and_reviewer),
		TEST_ENTRY(review_text_verdict),
		TEST_ENTRY(review_without_a_verdict_fails),
	};
	return fx_main(argc, argv, cases, ARRAY_SIZE(cases));
}
