/*
 * The executor on the branching and shaping nodes (docs/engine.md): gate,
 * condition and route send their output to one port and the branches not
 * taken are skipped (with their dependants); approval parks the run, with
 * its deadline, and a resumed run times out to approve or reject; transform and output compute values and
 * confidences (every output mode, worked out by hand).
 */
#include "tests/unit/engine/test_exec.h"

#define DOC(nodes) "{'name':'t','nodes':[{'id':'in','type':'input'}," nodes "]}"

static const char *status_of(const cJSON *out, const char *id)
{
	return fx_str(fx_step(out, id), "status");
}

/* ---- gate ----------------------------------------------------------------------------------- */

/* t sets the confidence from the input; g (min 0.5) -> p -> p2 on pass, f on fail. */
static const char gate_doc[] =
	DOC("{'id':'t','type':'transform','from':'in','confidence':'.input.c'},"
	    "{'id':'g','type':'gate','from':'t','min':0.5},"
	    "{'id':'p','type':'transform','from':'g.pass','value':'`passed`'},"
	    "{'id':'p2','type':'transform','from':'p'},"
	    "{'id':'f','type':'transform','from':'g.fail','value':'`failed`'},"
	    "{'id':'out','type':'output','from':['p2','f']}");

TEST(gate_passes_at_min_and_skips_the_fail_branch)
{
	cJSON *out = fx_run(gate_doc, "{'c':0.5}", NULL);
	CHECK_STATUS(out, "succeeded");
	CHECK_STR(fx_str(fx_step(out, "g"), "port"), "pass");
	CHECK_JSON(fx_out(out, "g"), "{'value':{'c':0.5},'confidence':0.5}");
	CHECK_STR(status_of(out, "p"), "succeeded");
	CHECK_STR(status_of(out, "p2"), "succeeded");
	CHECK_STR(status_of(out, "f"), "skipped");
	CHECK(fx_is_null(fx_step(out, "f"), "output"));
	CHECK_JSON(fx_get(out, "result"), "{'value':'passed','confidence':0.5}");
	cJSON_Delete(out);
}

/* 0.49 < 0.5: port fail with confidence 0; p and its dependant p2 are skipped. */
TEST(gate_fails_below_min_and_skips_the_pass_branch)
{
	cJSON *out = fx_run(gate_doc, "{'c':0.49}", NULL);
	CHECK_STATUS(out, "succeeded");
	CHECK_STR(fx_str(fx_step(out, "g"), "port"), "fail");
	CHECK_JSON(fx_out(out, "g"), "{'value':{'c':0.49},'confidence':0}");
	CHECK_STR(status_of(out, "p"), "skipped");
	CHECK_STR(status_of(out, "p2"), "skipped");
	CHECK_STR(status_of(out, "f"), "succeeded");
	CHECK_JSON(fx_get(out, "result"), "{'value':'failed','confidence':0}");
	cJSON_Delete(out);
}

/* Over a list the input confidence is the best successful result's: 0.6 of
 * [0.3, 0.6, failed 1.0] passes min 0.55, and that result is the output. */
TEST(gate_over_a_list_reads_the_best_success)
{
	struct fx_agents g = { 0 };
	fx_agent(&g, "a", "{'type':'constant','value':'a','confidence':0.3}", "['x']", 1);
	fx_agent(&g, "b", "{'type':'constant','value':'b','confidence':0.6}", "['x']", 1);
	fx_agent(&g, "c", "{'type':'constant','value':'c','confidence':1,'fail':true}", "['x']", 1);
	cJSON *out = fx_run(
		DOC("{'id':'a','type':'agent','from':'in','task':'go','select':{'capabilities':['x']}},"
		    "{'id':'g','type':'gate','from':'a','min':0.55},"
		    "{'id':'out','type':'output','from':'g.pass'}"),
		NULL, &g);
	CHECK_STATUS(out, "succeeded");
	CHECK_STR(fx_str(fx_step(out, "g"), "port"), "pass");
	CHECK_STR(fx_str(fx_out(out, "g"), "agent"), "b");
	CHECK_JSON(fx_get(out, "result"), "{'value':'b','confidence':0.6}");
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* A plain "g" reads the first port of a branching node: pass for a gate. */
TEST(gate_plain_source_reads_the_first_port)
{
	static const char doc[] = DOC("{'id':'t','type':'transform','from':'in','confidence':'.input.c'},"
				      "{'id':'g','type':'gate','from':'t','min':0.5},"
				      "{'id':'p','type':'transform','from':'g'},"
				      "{'id':'f','type':'transform','from':'g.fail'},"
				      "{'id':'out','type':'output','from':['p','f']}");
	cJSON *out = fx_run(doc, "{'c':0.9}", NULL);
	CHECK_STR(status_of(out, "p"), "succeeded");
	CHECK_STR(status_of(out, "f"), "skipped");
	cJSON_Delete(out);
	out = fx_run(doc, "{'c':0.1}", NULL);
	CHECK_STR(status_of(out, "p"), "skipped");
	CHECK_STR(status_of(out, "f"), "succeeded");
	cJSON_Delete(out);
}

/* No signal counts as 1.0 for a gate: a result without a confidence passes
 * min 0.9, and keeps its null confidence. */
TEST(gate_counts_no_signal_as_1)
{
	cJSON *out = fx_run(DOC("{'id':'t','type':'transform','from':'in','confidence':'null'},"
				"{'id':'g','type':'gate','from':'t','min':0.9},"
				"{'id':'out','type':'output','from':'g.pass'}"),
			    "{'q':1}", NULL);
	CHECK_STATUS(out, "succeeded");
	CHECK_STR(fx_str(fx_step(out, "g"), "port"), "pass");
	CHECK_JSON(fx_out(out, "g"), "{'value':{'q':1},'confidence':null}");
	cJSON_Delete(out);
}

/* When the only path to the output is skipped, the run fails saying so. */
TEST(gate_skipping_the_only_output_fails_the_run)
{
	cJSON *out = fx_run(DOC("{'id':'g','type':'gate','from':'in','min':0.5},"
				"{'id':'out','type':'output','from':'g.fail'}"),
			    NULL, NULL);
	CHECK_STATUS(out, "failed");
	CHECK_STR(status_of(out, "out"), "skipped");
	CHECK_HAS(fx_str(out, "error.message"), "skipped");
	cJSON_Delete(out);
}

/* ---- condition ------------------------------------------------------------------------------ */

static void check_condition(const char *expr, const char *input, const char *want)
{
	char doc[1024];
	snprintf(doc, sizeof(doc),
		 DOC("{'id':'c','type':'condition','from':'in','expr':'%s'},"
		     "{'id':'yes','type':'transform','from':'c.true'},"
		     "{'id':'no','type':'transform','from':'c.false'},"
		     "{'id':'out','type':'output','from':['yes','no']}"),
		 expr);
	cJSON *out = fx_run(doc, input, NULL);
	CHECK_STATUS(out, "succeeded");
	int yes = !strcmp(want, "yes");
	CHECK_STR(fx_str(fx_step(out, "c"), "port"), yes ? "true" : "false");
	CHECK_STR(status_of(out, want), "succeeded");
	CHECK_STR(status_of(out, yes ? "no" : "yes"), "skipped");
	CHECK_NEAR(fx_num(fx_out(out, "c"), "confidence"), 1, 0);
	CHECK_JSON(fx_get(out, "result.value"), input);
	if (!status_of(out, want) || strcmp(status_of(out, want), "succeeded"))
		fprintf(stderr, "  expr %s on %s\n", expr, input);
	cJSON_Delete(out);
}

/* jq truthiness: only false and null are false (0 and "" are true). */
TEST(condition_takes_the_true_or_false_branch)
{
	check_condition(".input.flag", "{'flag':true}", "yes");
	check_condition(".input.flag", "{'flag':false}", "no");
	check_condition(".input.flag", "{}", "no");
	check_condition(".input.flag", "{'flag':0}", "yes");
	check_condition(".input.flag", "{'flag':''}", "yes");
	check_condition(".input.n > 3", "{'n':5}", "yes");
	check_condition(".input.n > 3", "{'n':3}", "no");
}

/* ---- route ---------------------------------------------------------------------------------- */

static void check_route(const char *opts, const char *input, const char *want)
{
	static const char *const ids[] = { "high", "medium", "low" };
	char doc[1536];
	snprintf(doc, sizeof(doc),
		 DOC("{'id':'t','type':'transform','from':'in','confidence':'.input.c'},"
		     "{'id':'r','type':'route','from':'t'%s},"
		     "{'id':'high','type':'transform','from':'r.high'},"
		     "{'id':'medium','type':'transform','from':'r.medium'},"
		     "{'id':'low','type':'transform','from':'r.low'},"
		     "{'id':'out','type':'output','from':['high','medium','low']}"),
		 opts);
	cJSON *out = fx_run(doc, input, NULL);
	CHECK_STATUS(out, "succeeded");
	CHECK_STR(fx_str(fx_step(out, "r"), "port"), want);
	CHECK_STR(fx_str(fx_out(out, "r"), "band"), want);
	for (size_t i = 0; i < 3; i++)
		CHECK_STR(status_of(out, ids[i]), strcmp(ids[i], want) ? "skipped" : "succeeded");
	if (!fx_str(fx_out(out, "r"), "band") || strcmp(fx_str(fx_out(out, "r"), "band"), want))
		fprintf(stderr, "  route%s on %s\n", opts, input);
	cJSON_Delete(out);
}

/* Bands are inclusive from below: >= 0.8 high, >= 0.5 medium, else low. */
TEST(route_three_bands_at_the_default_thresholds)
{
	check_route("", "{'c':1}", "high");
	check_route("", "{'c':0.8}", "high");
	check_route("", "{'c':0.79}", "medium");
	check_route("", "{'c':0.5}", "medium");
	check_route("", "{'c':0.49}", "low");
	check_route("", "{'c':0}", "low");
}

TEST(route_custom_thresholds_and_confidence_expression)
{
	check_route(",'high':0.9,'medium':0.6", "{'c':0.9}", "high");
	check_route(",'high':0.9,'medium':0.6", "{'c':0.85}", "medium");
	check_route(",'high':0.9,'medium':0.6", "{'c':0.6}", "medium");
	check_route(",'high':0.9,'medium':0.6", "{'c':0.59}", "low");
	/* the expression wins over the input confidence (0.1) */
	check_route(",'confidence':'.input.k'", "{'c':0.1,'k':0.95}", "high");
	check_route(",'confidence':'.input.k * 0.5'", "{'c':1,'k':0.9}", "low");
}

/* ---- approval ------------------------------------------------------------------------------- */

#define APPROVAL_DOC(opts)                                            \
	DOC("{'id':'ap','type':'approval','from':'in'" opts "},"     \
	    "{'id':'out','type':'output','from':'ap'}")

/* The approval document run on {q: 1}, resumed with resume (quote notation; NULL: a first run). */
static cJSON *approval_run(const char *doc, const char *resume)
{
	struct pattern *p = fx_pattern_parse(doc);
	cJSON *in = fx_parse("{'q':1}"), *res = resume ? fx_parse(resume) : NULL, *out = NULL;
	struct run_request rq;
	char id[UUID_STR_LEN];
	struct err e;
	if (p) {
		fx_request(&rq, id, p, in, NULL, NULL);
		rq.resume = res;
		CHECK_INT(engine_run_wait(fx_engine, &rq, &out, &e), 0);
	}
	cJSON_Delete(res);
	cJSON_Delete(in);
	pattern_free(p);
	return out;
}

/* A resume map with ap's deadline at now + delta ms. */
static char *due_resume(int64_t delta)
{
	char *s = xmalloc(64);
	snprintf(s, 64, "{'ap':{'due_at':%lld}}", (long long)(now_ms() + delta));
	return s;
}

/* A timed approval parks at once, like an untimed one; its deadline is in the outcome and
 * checkpointed as a "waiting" step. */
TEST(approval_timeout_parks_with_its_deadline)
{
	int64_t t0 = now_ms(), m0 = mono_ms();
	cJSON *out = approval_run(APPROVAL_DOC(",'timeout_ms':60000"), NULL);
	CHECK(mono_ms() - m0 < 5000);
	CHECK_STATUS(out, "waiting_approval");
	double due = fx_num(out, "approval_due_at");
	CHECK(due >= (double)(t0 + 60000) && due <= (double)(now_ms() + 60000));
	CHECK_STR(status_of(out, "ap"), "waiting");
	CHECK(fx_num(fx_step(out, "ap"), "output.due_at") == due);
	CHECK_INT(fx_events(out, "waiting_approval", NULL), 1);
	CHECK_INT(fx_events(out, "approval_timed_out", NULL), 0);
	cJSON_Delete(out);
}

/* Resumed before its deadline, it parks again with the same deadline (not extended). */
TEST(approval_timeout_resumed_keeps_its_deadline)
{
	char *res = due_resume(60000);
	cJSON *r = fx_parse(res);
	double due = fx_num(r, "ap.due_at");
	cJSON *out = approval_run(APPROVAL_DOC(",'timeout_ms':1000000"), res);
	CHECK_STATUS(out, "waiting_approval");
	CHECK(fx_num(out, "approval_due_at") == due);
	CHECK(fx_num(fx_step(out, "ap"), "output.due_at") == due);
	cJSON_Delete(out);
	cJSON_Delete(r);
	free(res);
}

/* Resumed at its deadline: on_timeout "approve" passes the input through. */
TEST(approval_timeout_approves)
{
	char *res = due_resume(-1);
	cJSON *out = approval_run(APPROVAL_DOC(",'timeout_ms':50,'on_timeout':'approve'"), res);
	CHECK_STATUS(out, "succeeded");
	CHECK_JSON(fx_get(out, "result"), "{'value':{'q':1},'confidence':1}");
	CHECK_STR(status_of(out, "ap"), "succeeded");
	CHECK_INT(fx_events(out, "waiting_approval", NULL), 0);
	CHECK_INT(fx_events(out, "approval_timed_out", NULL), 1);
	CHECK(!fx_get(out, "approval_due_at"));
	cJSON_Delete(out);
	free(res);
}

TEST(approval_timeout_rejects)
{
	static const char *const opts[] = { APPROVAL_DOC(",'timeout_ms':50,'on_timeout':'reject'"),
					    APPROVAL_DOC(",'timeout_ms':50") };
	char *res = due_resume(-1);
	for (size_t i = 0; i < 2; i++) {
		cJSON *out = approval_run(opts[i], res);
		CHECK_STATUS(out, "failed");
		CHECK_STR(fx_str(out, "error.node"), "ap");
		CHECK_HAS(fx_str(out, "error.message"), "timed out");
		CHECK_HAS(fx_str(out, "error.message"), "rejected");
		CHECK(fx_is_null(out, "result"));
		cJSON_Delete(out);
	}
	free(res);
}

/* A person's decision wins, even when the deadline has passed since. */
TEST(approval_decision_wins_over_the_deadline)
{
	cJSON *out = approval_run(APPROVAL_DOC(",'timeout_ms':50,'on_timeout':'approve'"),
				  "{'ap':{'decision':'reject','by':'u1'}}");
	CHECK_STATUS(out, "failed");
	CHECK_STR(fx_str(out, "error.message"), "rejected by u1");
	CHECK_INT(fx_events(out, "approval_decided", NULL), 1);
	CHECK_INT(fx_events(out, "approval_timed_out", NULL), 0);
	cJSON_Delete(out);
}

/* No timeout: the run stops in waiting_approval (it does not hang). */
TEST(approval_without_timeout_waits)
{
	cJSON *out = fx_run(APPROVAL_DOC(""), "{'q':1}", NULL);
	CHECK_STATUS(out, "waiting_approval");
	CHECK(fx_is_null(out, "result"));
	CHECK_INT(fx_events(out, "waiting_approval", NULL), 1);
	CHECK_STR(status_of(out, "in"), "succeeded");
	const cJSON *st = fx_step(out, "out");
	CHECK(!st);
	cJSON_Delete(out);
}

/* ---- transform ------------------------------------------------------------------------------ */

/* {x: 3 * 2} and 0.9 * 0.5 = 0.45 */
TEST(transform_value_and_confidence_expressions)
{
	cJSON *out = fx_run(DOC("{'id':'t','type':'transform','from':'in','value':'{x: (.input.a * 2)}',"
				"'confidence':'.input.c * 0.5'},"
				"{'id':'out','type':'output','from':'t'}"),
			    "{'a':3,'c':0.9}", NULL);
	CHECK_STATUS(out, "succeeded");
	CHECK_JSON(fx_out(out, "t"), "{'value':{'x':6},'confidence':0.45}");
	CHECK_JSON(fx_get(out, "result"), "{'value':{'x':6},'confidence':0.45}");
	cJSON_Delete(out);
}

/* Without options: the input's value and confidence; out-of-range clamps. */
TEST(transform_defaults_and_clamping)
{
	cJSON *out = fx_run(DOC("{'id':'t1','type':'transform','from':'in','value':'.input.a',"
				"'confidence':'0.7'},"
				"{'id':'t2','type':'transform','from':'t1'},"
				"{'id':'hi','type':'transform','from':'t1','confidence':'2'},"
				"{'id':'lo','type':'transform','from':'t1','confidence':'-1'},"
				"{'id':'out','type':'output','from':'t2'}"),
			    "{'a':3}", NULL);
	CHECK_STATUS(out, "succeeded");
	CHECK_JSON(fx_out(out, "t2"), "{'value':3,'confidence':0.7}");
	CHECK_JSON(fx_out(out, "hi"), "{'value':3,'confidence':1}");
	CHECK_JSON(fx_out(out, "lo"), "{'value':3,'confidence':0}");
	cJSON_Delete(out);
}

/* The context: {input, nodes (finished ones), execution: {id, pattern, version}}. */
TEST(expressions_see_the_context)
{
	cJSON *out = fx_run(DOC("{'id':'t1','type':'transform','from':'in','value':'.input.a'},"
				"{'id':'t2','type':'transform','from':'t1',"
				"'value':'[.nodes.t1.value, .execution.pattern, .execution.version,"
				" (.execution.id | length), (.nodes | keys)]'},"
				"{'id':'out','type':'output','from':'t2'}"),
			    "{'a':7}", NULL);
	CHECK_STATUS(out, "succeeded");
	/* the run's version is 1 (fx_request); a UUID is 36 characters */
	CHECK_JSON(fx_get(out, "result.value"), "[7,'t',1,36,['in','t1']]");
	cJSON_Delete(out);
}

/* An expression's first output is its value; no output is null. */
TEST(expressions_first_output_or_null)
{
	cJSON *out = fx_run(DOC("{'id':'t','type':'transform','from':'in','value':'empty'},"
				"{'id':'out','type':'output','from':'t'}"),
			    "{}", NULL);
	CHECK_STATUS(out, "succeeded");
	CHECK(fx_is_null(fx_out(out, "t"), "value"));
	cJSON_Delete(out);

	out = fx_run(DOC("{'id':'t','type':'transform','from':'in','value':'.input.list[]'},"
			 "{'id':'out','type':'output','from':'t'}"),
		     "{'list':[7,8,9]}", NULL);
	CHECK_STATUS(out, "succeeded");
	CHECK_JSON(fx_get(fx_out(out, "t"), "value"), "7");
	cJSON_Delete(out);
}

TEST(transform_failures)
{
	cJSON *out = fx_run(DOC("{'id':'t','type':'transform','from':'in','confidence':'`high`'},"
				"{'id':'out','type':'output','from':'t'}"),
			    NULL, NULL);
	CHECK_STATUS(out, "failed");
	CHECK_STR(fx_str(out, "error.node"), "t");
	CHECK_HAS(fx_str(out, "error.message"), "confidence");
	cJSON_Delete(out);

	out = fx_run(DOC("{'id':'t','type':'transform','from':'in','value':'error(`boom`)'},"
			 "{'id':'out','type':'output','from':'t'}"),
		     NULL, NULL);
	CHECK_STATUS(out, "failed");
	CHECK_STR(fx_str(out, "error.node"), "t");
	CHECK_HAS(fx_str(out, "error.message"), "boom");
	cJSON_Delete(out);
}

/* ---- output --------------------------------------------------------------------------------- */

/* p 0.8 (expertise 1), q 0.5 (0.5), r failing (2), s without a signal (1). */
static void output_agents(struct fx_agents *g, int with_failure)
{
	fx_agent(g, "p", "{'type':'constant','value':'p','confidence':0.8}", "['x']", 1);
	fx_agent(g, "q", "{'type':'constant','value':'q','confidence':0.5}", "['x']", 0.5);
	if (with_failure)
		fx_agent(g, "r", "{'type':'constant','value':'r','confidence':1,'fail':true}",
			 "['x']", 2);
	fx_agent(g, "s", "{'type':'constant','value':'s'}", "['x']", 1);
}

/* The output's confidence in mode over fresh agents (a breaker never opens). */
static double output_confidence(const char *mode, int with_failure)
{
	struct fx_agents g = { 0 };
	char doc[1024];
	output_agents(&g, with_failure);
	snprintf(doc, sizeof(doc),
		 DOC("{'id':'a','type':'agent','from':'in','task':'go',"
		     "'select':{'capabilities':['x']}},"
		     "{'id':'out','type':'output','from':'a','confidence':'%s'}"),
		 mode);
	cJSON *out = fx_run(doc, NULL, &g);
	CHECK_STATUS(out, "succeeded");
	double c = fx_num(out, "result.confidence");
	cJSON_Delete(out);
	fx_agents_release(&g);
	return c;
}

/* With the failure (counts 0; s is skipped everywhere):
 *   mean (0.8 + 0.5 + 0) / 3 = 0.4333...; min 0; max 0.8; product 0;
 *   weighted (0.8 x 1 + 0.5 x 0.5 + 0 x 2) / (1 + 0.5 + 2) = 1.05 / 3.5 = 0.3.
 * Without it: mean 0.65; min 0.5; max 0.8; product 0.4;
 *   weighted (0.8 + 0.25) / 1.5 = 0.7. */
TEST(output_confidence_modes)
{
	CHECK_NEAR(output_confidence("mean", 1), 1.3 / 3, FX_EPS);
	CHECK_NEAR(output_confidence("min", 1), 0, FX_EPS);
	CHECK_NEAR(output_confidence("max", 1), 0.8, FX_EPS);
	CHECK_NEAR(output_confidence("product", 1), 0, FX_EPS);
	CHECK_NEAR(output_confidence("weighted", 1), 0.3, FX_EPS);

	CHECK_NEAR(output_confidence("mean", 0), 0.65, FX_EPS);
	CHECK_NEAR(output_confidence("min", 0), 0.5, FX_EPS);
	CHECK_NEAR(output_confidence("max", 0), 0.8, FX_EPS);
	CHECK_NEAR(output_confidence("product", 0), 0.4, FX_EPS);
	CHECK_NEAR(output_confidence("weighted", 0), 0.7, FX_EPS);
}

/* The default value is the list of values (null for the failure); an expr
 * mode reads the context; a value expression replaces the value. */
TEST(output_value_and_expr_mode)
{
	struct fx_agents g = { 0 };
	output_agents(&g, 1);
	cJSON *out = fx_run(DOC("{'id':'a','type':'agent','from':'in','task':'go',"
				"'select':{'capabilities':['x']}},"
				"{'id':'out','type':'output','from':'a'}"),
			    NULL, &g);
	CHECK_JSON(fx_get(out, "result.value"), "['p','q',null,'s']");
	cJSON_Delete(out);

	out = fx_run(DOC("{'id':'a','type':'agent','from':'in','task':'go',"
			 "'select':{'capabilities':['x']}},"
			 "{'id':'out','type':'output','from':'a','value':'.input.v',"
			 "'confidence':'expr','expr':'.input.c'}"),
		     "{'v':'final','c':0.42}", &g);
	CHECK_STATUS(out, "succeeded");
	CHECK_JSON(fx_get(out, "result"), "{'value':'final','confidence':0.42}");
	cJSON_Delete(out);

	out = fx_run(DOC("{'id':'out','type':'output','from':'in','confidence':'expr',"
			 "'expr':'`high`'}"),
		     NULL, NULL);
	CHECK_STATUS(out, "failed");
	CHECK_STR(fx_str(out, "error.node"), "out");
	cJSON_Delete(out);
	fx_agents_release(&g);
}

/* Only results without a signal: no confidence at all (null). */
TEST(output_with_no_signal_has_null_confidence)
{
	struct fx_agents g = { 0 };
	fx_agent(&g, "s", "{'type':'constant','value':'s'}", "['x']", 1);
	fx_agent(&g, "t", "{'type':'constant','value':'t'}", "['x']", 1);
	static const char *const modes[] = { "mean", "min", "max", "weighted", "product" };
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		char doc[1024];
		snprintf(doc, sizeof(doc),
			 DOC("{'id':'a','type':'agent','from':'in','task':'go',"
			     "'select':{'capabilities':['x']}},"
			     "{'id':'out','type':'output','from':'a','confidence':'%s'}"),
			 modes[i]);
		cJSON *out = fx_run(doc, NULL, &g);
		CHECK_STATUS(out, "succeeded");
		CHECK(fx_is_null(out, "result.confidence"));
		cJSON_Delete(out);
	}
	fx_agents_release(&g);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		TEST_ENTRY(gate_passes_at_min_and_skips_the_fail_branch),
		TEST_ENTRY(gate_fails_below_min_and_skips_the_pass_branch),
		TEST_ENTRY(gate_over_a_list_reads_the_best_success),
		TEST_ENTRY(gate_plain_source_reads_the_first_port),
		TEST_ENTRY(gate_counts_no_signal_as_1),
		TEST_ENTRY(gate_skipping_the_only_output_fails_the_run),
		TEST_ENTRY(condition_takes_the_true_or_false_branch),
		TEST_ENTRY(route_three_bands_at_the_default_thresholds),
		TEST_ENTRY(route_custom_thresholds_and_confidence_expression),
		TEST_ENTRY(approval_timeout_parks_with_its_deadline),
		TEST_ENTRY(approval_timeout_resumed_keeps_its_deadline),
		TEST_ENTRY(approval_timeout_approves),
		TEST_ENTRY(approval_timeout_rejects),
		TEST_ENTRY(approval_decision_wins_over_the_deadline),
		TEST_ENTRY(approval_without_timeout_waits),
		TEST_ENTRY(transform_value_and_confidence_expressions),
		TEST_ENTRY(transform_defaults_and_clamping),
		TEST_ENTRY(expressions_see_the_context),
		TEST_ENTRY(expressions_first_output_or_null),
		TEST_ENTRY(transform_failures),
		TEST_ENTRY(output_confidence_modes),
		TEST_ENTRY(output_value_and_expr_mode),
		TEST_ENTRY(output_with_no_signal_has_null_confidence),
	};
	return fx_main(argc, argv, cases, ARRAY_SIZE(cases));
}
