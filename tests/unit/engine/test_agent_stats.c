/*
 * An agent's recent figures in the health report (engine/agent_stats.c): the
 * success rate and latency percentiles over its last attempts, the window's
 * bound, the attempts kept in detail (execution, node, test call or not) and
 * the fast failures of an open circuit, which count as failures but carry no
 * latency.
 */
#include "tests/unit/engine/test_exec.h"

#define DOC                                                                            \
	"{'name':'t','nodes':[{'id':'in','type':'input'},"                               \
	"{'id':'ask','type':'agent','from':'in','task':'do it','select':{'ids':['%s']}}," \
	"{'id':'out','type':'output','from':'ask'}]}"

/* engine_agent_health without a probe (caller frees). */
static cJSON *health(const struct agent_spec *a)
{
	cJSON *h = NULL;
	struct err e;
	CHECK_INT(engine_agent_health(fx_engine, a, 0, &h, &e), 0);
	return h;
}

/* Run the one-node pattern over agent a n times; the last run's execution id. */
static void run_n(const struct fx_agents *g, const struct agent_spec *a, int n,
		  char last[UUID_STR_LEN])
{
	char doc[512];
	snprintf(doc, sizeof(doc), DOC, a->name);
	for (int i = 0; i < n; i++) {
		struct pattern *p = fx_pattern_parse(doc);
		struct run_request rq;
		cJSON *out = NULL, *in = cJSON_CreateNull();
		struct err e;
		fx_request(&rq, last, p, in, g, NULL);
		CHECK_INT(engine_run_wait(fx_engine, &rq, &out, &e), 0);
		cJSON_Delete(out);
		cJSON_Delete(in);
		pattern_free(p);
	}
}

TEST(nothing_seen_yet_reports_an_empty_window)
{
	struct fx_agents g = { 0 };
	struct agent_spec *a = fx_agent(&g, "idle", "{'type':'echo'}", NULL, 1);
	cJSON *h = health(a);
	CHECK_INT((int)fx_num(h, "calls.window"), 0);
	CHECK(fx_is_null(h, "calls.success_rate"));
	CHECK(fx_is_null(h, "calls.latency_ms"));
	CHECK(fx_is_null(h, "calls.since"));
	CHECK_INT(cJSON_GetArraySize(fx_get(h, "recent_calls")), 0);
	CHECK_INT(cJSON_GetArraySize(fx_get(h, "probes")), 0);
	cJSON_Delete(h);
	fx_agents_release(&g);
}

/* Three calls of 30 ms: all succeeded, p50 and p95 at least the delay; the newest
 * detail names the last execution and the node. */
TEST(successes_give_rate_latency_and_details)
{
	struct fx_agents g = { 0 };
	char last[UUID_STR_LEN];
	struct agent_spec *a = fx_agent(
		&g, "steady", "{'type':'constant','value':1,'confidence':0.9,'delay_ms':30}", NULL, 1);
	run_n(&g, a, 3, last);
	cJSON *h = health(a);
	CHECK_INT((int)fx_num(h, "calls.window"), 3);
	CHECK_INT((int)fx_num(h, "calls.succeeded"), 3);
	CHECK_INT((int)fx_num(h, "calls.failed"), 0);
	CHECK_NEAR(fx_num(h, "calls.success_rate"), 1.0, FX_EPS);
	CHECK(fx_num(h, "calls.latency_ms.p50") >= 30);
	CHECK(fx_num(h, "calls.latency_ms.p95") >= fx_num(h, "calls.latency_ms.p50"));
	CHECK(fx_num(h, "calls.latency_ms.mean") >= 30);
	CHECK(fx_str(h, "calls.since") != NULL);
	CHECK_INT(cJSON_GetArraySize(fx_get(h, "recent_calls")), 3);
	CHECK_STR(fx_str(h, "recent_calls.0.execution_id"), last);
	CHECK_STR(fx_str(h, "recent_calls.0.node_id"), "ask");
	CHECK_STR(fx_str(h, "recent_calls.0.status"), "succeeded");
	CHECK(cJSON_IsFalse(fx_get(h, "recent_calls.0.test")));
	CHECK(fx_is_null(h, "recent_calls.0.error"));
	cJSON_Delete(h);
	fx_agents_release(&g);
}

/* Five failures open the breaker (the default); the sixth call fails fast: six
 * failures, a rate of 0, latency over the five sent, the newest "circuit_open". */
TEST(failures_and_fast_failures_count_against_the_rate)
{
	struct fx_agents g = { 0 };
	char last[UUID_STR_LEN];
	struct agent_spec *a = fx_agent(&g, "broken", "{'type':'constant','value':1,'fail':true}",
					NULL, 1);
	run_n(&g, a, 6, last);
	cJSON *h = health(a);
	CHECK_STR(fx_str(h, "circuit.state"), "open");
	CHECK_INT((int)fx_num(h, "calls.window"), 6);
	CHECK_INT((int)fx_num(h, "calls.failed"), 6);
	CHECK_NEAR(fx_num(h, "calls.success_rate"), 0, FX_EPS);
	CHECK(cJSON_IsObject(fx_get(h, "calls.latency_ms")));
	CHECK_STR(fx_str(h, "recent_calls.0.status"), "circuit_open");
	CHECK_HAS(fx_str(h, "recent_calls.0.error"), "circuit open");
	CHECK_INT((int)fx_num(h, "recent_calls.0.latency_ms"), 0);
	CHECK_STR(fx_str(h, "recent_calls.1.status"), "failed");
	CHECK(fx_str(h, "recent_calls.1.error") != NULL);
	cJSON_Delete(h);
	fx_agents_release(&g);
}

/* The window keeps the last AGENT_SAMPLES attempts and the details the last
 * AGENT_RECENT, newest first. */
TEST(the_window_is_bounded)
{
	struct fx_agents g = { 0 };
	char last[UUID_STR_LEN];
	struct agent_spec *a = fx_agent(&g, "busy", "{'type':'echo'}", NULL, 1);
	run_n(&g, a, 230, last);
	cJSON *h = health(a);
	CHECK_INT((int)fx_num(h, "calls.window"), 200);
	CHECK_INT((int)fx_num(h, "calls.succeeded"), 200);
	CHECK_INT(cJSON_GetArraySize(fx_get(h, "recent_calls")), 10);
	CHECK_STR(fx_str(h, "recent_calls.0.execution_id"), last);
	cJSON_Delete(h);
	fx_agents_release(&g);
}

/* A /test call is marked as one: it is no execution to link to. */
TEST(a_test_call_is_marked)
{
	struct fx_agents g = { 0 };
	cJSON *out = NULL;
	struct err e;
	struct agent_spec *a = fx_agent(
		&g, "probe-me", "{'type':'constant','value':'v','confidence':0.6}", NULL, 1);
	CHECK_INT(engine_agent_test(fx_engine, a, NULL, NULL, &out, &e), 0);
	CHECK(cJSON_IsTrue(fx_get(out, "ok")));
	cJSON_Delete(out);
	cJSON *h = health(a);
	CHECK_INT((int)fx_num(h, "calls.window"), 1);
	CHECK(cJSON_IsTrue(fx_get(h, "recent_calls.0.test")));
	CHECK_STR(fx_str(h, "recent_calls.0.node_id"), "test");
	cJSON_Delete(h);
	fx_agents_release(&g);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		TEST_ENTRY(nothing_seen_yet_reports_an_empty_window),
		TEST_ENTRY(successes_give_rate_latency_and_details),
		TEST_ENTRY(failures_and_fast_failures_count_against_the_rate),
		TEST_ENTRY(the_window_is_bounded),
		TEST_ENTRY(a_test_call_is_marked),
	};
	return fx_main(argc, argv, cases, ARRAY_SIZE(cases));
}
