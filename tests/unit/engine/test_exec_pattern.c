/*
 * The executor on pattern nodes (a sub-pattern's result becomes the node's
 * output; recursion is refused), on hostile expressions (an endless jq
 * program fails its node with a timeout and the engine keeps working;
 * $ENV and friends are refused at parse time) and on the run's own
 * deadline (timed_out).
 */
#include "tests/unit/engine/test_exec.h"

#define DOC(nodes) "{'name':'t','nodes':[{'id':'in','type':'input'}," nodes "]}"
#define NAMED(name, nodes) "{'name':'" name "','nodes':[{'id':'in','type':'input'}," nodes "]}"

static const struct fx_pattern lib[] = {
	/* child: {x} -> x + 1, confidence 0.7 */
	{ "child", NAMED("child", "{'id':'t','type':'transform','from':'in','value':'.input.x + 1',"
				  "'confidence':'0.7'},{'id':'out','type':'output','from':'t'}") },
	/* ping -> pong -> ping */
	{ "ping", NAMED("ping", "{'id':'p','type':'pattern','from':'in','name':'pong'},"
				"{'id':'out','type':'output','from':'p'}") },
	{ "pong", NAMED("pong", "{'id':'p','type':'pattern','from':'in','name':'ping'},"
				"{'id':'out','type':'output','from':'p'}") },
	/* self -> self */
	{ "self", NAMED("self", "{'id':'p','type':'pattern','from':'in','name':'self'},"
				"{'id':'out','type':'output','from':'p'}") },
	/* a pattern whose only node fails */
	{ "broken", NAMED("broken", "{'id':'t','type':'transform','from':'in',"
				    "'value':'error(`boom`)'},{'id':'out','type':'output','from':'t'}") },
	/* a pattern that wants {x: number} */
	{ "strict", "{'name':'strict','input':{'type':'object','required':['x'],"
		    "'properties':{'x':{'type':'number'}}},"
		    "'nodes':[{'id':'in','type':'input'},{'id':'out','type':'output','from':'in'}]}" },
	/* a timed approval that approves after 50 ms */
	{ "gated", NAMED("gated", "{'id':'ap','type':'approval','from':'in','timeout_ms':50,"
				  "'on_timeout':'approve'},{'id':'out','type':'output','from':'ap'}") },
};

static cJSON *run_named(const char *name, const char *doc, const char *input)
{
	struct fx_opts o = { .name = name, .loader = 1 };
	fx_library = lib;
	fx_library_n = ARRAY_SIZE(lib);
	return fx_run_opts(doc, input, NULL, &o);
}

/* A sub-run is not checkpointed, so it cannot park: its timed approval waits on the loop. */
TEST(pattern_node_sub_run_approval_times_out_in_memory)
{
	int64_t t0 = mono_ms();
	cJSON *out = run_named("parent",
			       NAMED("parent", "{'id':'p','type':'pattern','from':'in','name':'gated'},"
					       "{'id':'out','type':'output','from':'p'}"),
			       "{'x':5}");
	CHECK(mono_ms() - t0 >= 50);
	CHECK_STATUS(out, "succeeded");
	CHECK_JSON(fx_get(out, "result"), "{'value':{'x':5},'confidence':1}");
	cJSON_Delete(out);
}

/* {n: 41} -> child gets {x: 41} -> 42 with confidence 0.7. */
TEST(pattern_node_outputs_the_sub_pattern_result)
{
	cJSON *out = run_named("parent",
			       NAMED("parent", "{'id':'p','type':'pattern','from':'in','name':'child',"
					       "'input':'{x: .input.n}'},"
					       "{'id':'out','type':'output','from':'p'}"),
			       "{'n':41}");
	CHECK_STATUS(out, "succeeded");
	CHECK_JSON(fx_out(out, "p"), "{'value':42,'confidence':0.7}");
	CHECK_JSON(fx_get(out, "result"), "{'value':42,'confidence':0.7}");
	cJSON_Delete(out);

	/* without input: the input's value as it is */
	out = run_named("parent",
			NAMED("parent", "{'id':'p','type':'pattern','from':'in','name':'child'},"
					"{'id':'out','type':'output','from':'p'}"),
			"{'x':5}");
	CHECK_STATUS(out, "succeeded");
	CHECK_JSON(fx_get(out, "result.value"), "6");
	cJSON_Delete(out);
}

/* ping calls pong, pong calls ping: refused with a clear error naming ping,
 * not a hang or a crash. */
TEST(pattern_recursion_is_refused)
{
	cJSON *out = run_named("ping", lib[1].doc, "{}");
	CHECK_STATUS(out, "failed");
	CHECK_STR(fx_str(out, "error.node"), "p");
	CHECK_HAS(fx_str(out, "error.message"), "recursion is refused");
	CHECK_HAS(fx_str(out, "error.message"), "'ping'");
	cJSON_Delete(out);

	out = run_named("self", lib[3].doc, "{}");
	CHECK_STATUS(out, "failed");
	CHECK_HAS(fx_str(out, "error.message"), "recursion is refused");
	CHECK_HAS(fx_str(out, "error.message"), "'self'");
	cJSON_Delete(out);
}

TEST(pattern_node_failures)
{
	/* no loader: not in a workspace */
	cJSON *out = fx_run(DOC("{'id':'p','type':'pattern','from':'in','name':'child'},"
				"{'id':'out','type':'output','from':'p'}"),
			    "{'x':1}", NULL);
	CHECK_STATUS(out, "failed");
	CHECK_STR(fx_str(out, "error.node"), "p");
	CHECK_HAS(fx_str(out, "error.message"), "child");
	cJSON_Delete(out);

	out = run_named("t", DOC("{'id':'p','type':'pattern','from':'in','name':'ghost'},"
				 "{'id':'out','type':'output','from':'p'}"),
			"{}");
	CHECK_STATUS(out, "failed");
	CHECK_HAS(fx_str(out, "error.message"), "ghost");
	cJSON_Delete(out);

	/* the sub-pattern fails: so does the node, with the sub-pattern's reason */
	out = run_named("t", DOC("{'id':'p','type':'pattern','from':'in','name':'broken'},"
				 "{'id':'out','type':'output','from':'p'}"),
			"{}");
	CHECK_STATUS(out, "failed");
	CHECK_STR(fx_str(out, "error.node"), "p");
	CHECK_HAS(fx_str(out, "error.message"), "broken");
	CHECK_HAS(fx_str(out, "error.message"), "boom");
	cJSON_Delete(out);

	/* the sub-pattern's input schema is enforced */
	out = run_named("t", DOC("{'id':'p','type':'pattern','from':'in','name':'strict'},"
				 "{'id':'out','type':'output','from':'p'}"),
			"{'y':1}");
	CHECK_STATUS(out, "failed");
	CHECK_HAS(fx_str(out, "error.message"), "strict");
	cJSON_Delete(out);
	out = run_named("t", DOC("{'id':'p','type':'pattern','from':'in','name':'strict'},"
				 "{'id':'out','type':'output','from':'p'}"),
			"{'x':1}");
	CHECK_STATUS(out, "succeeded");
	CHECK_JSON(fx_get(out, "result.value"), "{'x':1}");
	cJSON_Delete(out);
}

/* ---- hostile expressions ---------------------------------------------------------------- */

static void check_endless(const char *program)
{
	char doc[512];
	snprintf(doc, sizeof(doc),
		 DOC("{'id':'t','type':'transform','from':'in','value':'%s'},"
		     "{'id':'out','type':'output','from':'t'}"),
		 program);
	int64_t t0 = mono_ms();
	cJSON *out = fx_run(doc, "{}", NULL);
	int64_t took = mono_ms() - t0;
	CHECK_STATUS(out, "failed");
	CHECK_STR(fx_str(out, "error.node"), "t");
	CHECK_HAS(fx_str(out, "error.message"), "longer than");
	CHECK_STR(fx_str(fx_step(out, "t"), "status"), "failed");
	CHECK(took < 5000);
	if (took >= 5000)
		fprintf(stderr, "  %s took %lld ms\n", program, (long long)took);
	cJSON_Delete(out);
}

/* Each endless program ends in a timeout within a few seconds, and the engine
 * (its one jq worker replaced) still runs expressions afterwards. */
TEST(endless_expressions_time_out_and_the_engine_keeps_working)
{
	check_endless("def f: f; f");
	check_endless("reduce range(1e15) as $i (0; . + 1)");
	check_endless("last(range(1e15))");
	cJSON *out = fx_run(DOC("{'id':'t','type':'transform','from':'in','value':'.input.a * 6',"
				"'confidence':'.input.a / 10'},{'id':'out','type':'output','from':'t'}"),
			    "{'a':7}", NULL);
	CHECK_STATUS(out, "succeeded");
	CHECK_JSON(fx_get(out, "result"), "{'value':42,'confidence':0.7}");
	cJSON_Delete(out);
}

/* expr as a transform value is refused at parse time: a problem code at t, nodes[1].value. */
static void check_refused(const char *expr, const char *code)
{
	char doc[512], *json;
	struct problems pr;
	struct pattern *p = NULL;
	struct err e;
	snprintf(doc, sizeof(doc),
		 DOC("{'id':'t','type':'transform','from':'in','value':'%s'},"
		     "{'id':'out','type':'output','from':'t'}"),
		 expr);
	json = fx_json(doc);
	err_clear(&e);
	problems_init(&pr);
	CHECK_INT(pattern_parse(json, strlen(json), &p, &pr, &e), ERR_UNPROCESSABLE);
	CHECK(p == NULL);
	int found = 0;
	for (size_t i = 0; i < pr.count; i++)
		if (!strcmp(pr.items[i].code, code) && !strcmp(pr.items[i].node_id, "t") &&
		    !strcmp(pr.items[i].path, "nodes[1].value"))
			found = 1;
	CHECK(found);
	if (!found)
		fprintf(stderr, "  %s: no %s problem at t / nodes[1].value\n", expr, code);
	pattern_free(p);
	problems_release(&pr);
	free(json);
}

TEST(environment_and_input_builtins_are_refused_at_parse_time)
{
	check_refused("$ENV", "forbidden_expression");
	check_refused("$ENV.HOME", "forbidden_expression");
	check_refused("env.PATH", "forbidden_expression");
	check_refused("{a: env}", "forbidden_expression");
	check_refused("input", "forbidden_expression");
	check_refused("[inputs]", "forbidden_expression");
	check_refused("$__loc__", "forbidden_expression");
	check_refused(".a +", "invalid_expression");
	/* inside a string literal it is only text */
	cJSON *out = fx_run(DOC("{'id':'t','type':'transform','from':'in','value':'`$ENV env`'},"
				"{'id':'out','type':'output','from':'t'}"),
			    NULL, NULL);
	CHECK_STATUS(out, "succeeded");
	CHECK_JSON(fx_get(out, "result.value"), "'$ENV env'");
	cJSON_Delete(out);
}

/* ---- the run's deadline -------------------------------------------------------------------- */

/* A 200 ms run with an agent answering after 5 s: timed_out, well before 5 s. */
TEST(run_timeout_stops_the_run)
{
	struct fx_agents g = { 0 };
	struct fx_opts o = { .timeout_ms = 200 };
	fx_agent(&g, "slow", "{'type':'constant','value':1,'confidence':1,'delay_ms':5000}", NULL,
		 1);
	int64_t t0 = mono_ms();
	cJSON *out = fx_run_opts(DOC("{'id':'a','type':'agent','from':'in','task':'go',"
				     "'select':{'ids':['slow']}},"
				     "{'id':'out','type':'output','from':'a'}"),
				 NULL, &g, &o);
	int64_t took = mono_ms() - t0;
	CHECK_STATUS(out, "timed_out");
	CHECK(took >= 200);
	CHECK(took < 3000);
	CHECK(fx_is_null(out, "result"));
	CHECK_HAS(fx_str(out, "error.message"), "time");
	CHECK_STR(fx_str(fx_step(out, "a"), "status"), "timed_out");
	cJSON_Delete(out);
	fx_agents_release(&g);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		TEST_ENTRY(pattern_node_outputs_the_sub_pattern_result),
		TEST_ENTRY(pattern_recursion_is_refused),
		TEST_ENTRY(pattern_node_sub_run_approval_times_out_in_memory),
		TEST_ENTRY(pattern_node_failures),
		TEST_ENTRY(endless_expressions_time_out_and_the_engine_keeps_working),
		TEST_ENTRY(environment_and_input_builtins_are_refused_at_parse_time),
		TEST_ENTRY(run_timeout_stops_the_run),
	};
	return fx_main(argc, argv, cases, ARRAY_SIZE(cases));
}
