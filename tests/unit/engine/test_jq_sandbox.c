/*
 * The jq sandbox: results and errors of ordinary expressions, and hostile
 * ones (endless, recursive, memory-hungry, environment-reading) that must end
 * in an error within the deadline while the pool keeps answering. This binary
 * is also the worker: main() hands over to jq_worker_maybe_run() first.
 */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "core/core.h"
#include "tests/unit/test.h"

static struct jq_pool *pool;

/* The outputs as unformatted JSON text (caller frees), or NULL with e set. */
static char *eval(const char *program, const char *input, int timeout_ms, int max_outputs,
		  struct err *e)
{
	cJSON *out = NULL;
	char *text = NULL;
	*e = (struct err){0};
	if (!jq_pool_eval(pool, program, input, timeout_ms, max_outputs, &out, e))
		text = cJSON_PrintUnformatted(out);
	cJSON_Delete(out);
	return text;
}

/* Check that program on input gives exactly want (outputs as a JSON array). */
static void check_eval(const char *program, const char *input, const char *want)
{
	struct err e;
	char *got = eval(program, input, 0, 0, &e);
	CHECK_STR(got, want);
	if (!got)
		fprintf(stderr, "  %s: %s (%s)\n", program, e.msg, e.slug);
	free(got);
}

TEST(test_results)
{
	check_eval(".a + 1", "{\"a\":1}", "[2]");
	check_eval(".[]", "[1,\"x\",null,{\"b\":[]}]", "[1,\"x\",null,{\"b\":[]}]");
	check_eval("empty", "null", "[]");
	check_eval("[.[] | select(. > 1)] | add", "[1,2,3]", "[5]");
}

TEST(test_errors)
{
	struct err e;
	char *got = eval(".a +", "{}", 0, 0, &e);
	CHECK(got == NULL);
	CHECK_INT(e.code, ERR_UNPROCESSABLE);
	CHECK_STR(e.slug, "expression_error");
	CHECK(strstr(e.msg, "syntax error") != NULL);
	got = eval(".a + 1", "{\"a\":\"x\"}", 0, 0, &e);
	CHECK(got == NULL);
	CHECK_STR(e.slug, "expression_error");
	CHECK(strstr(e.msg, "cannot be added") != NULL);
	got = eval("error(\"boom\")", "null", 0, 0, &e);
	CHECK_STR(e.msg, "boom");
	got = eval(".", "{not json", 0, 0, &e);
	CHECK_STR(e.slug, "expression_error");
	check_eval(".a + 1", "{\"a\":1}", "[2]");
}

/* Validation refuses these; the sandbox is the second line. */
TEST(test_empty_environment)
{
	check_eval("$ENV", "null", "[{}]");
	check_eval("env", "null", "[{}]");
	check_eval("$ENV.PARALLAX_TEST_SECRET", "null", "[null]");
	check_eval("\"x\" | debug | stderr", "null", "[\"x\"]"); /* to /dev/null, not our stderr */
}

/* Ends in a timeout (or a crash) within the deadline plus 500 ms. */
static void check_hostile(const char *program, int timeout_ms, int timeout_only)
{
	struct err e;
	int64_t t0 = mono_ms();
	char *got = eval(program, "null", timeout_ms, 0, &e);
	int64_t took = mono_ms() - t0;
	CHECK(got == NULL);
	free(got);
	if (timeout_only) {
		CHECK_INT(e.code, ERR_TIMEOUT);
		CHECK_STR(e.slug, "expression_timeout");
	} else {
		CHECK(e.code == ERR_TIMEOUT || e.code == ERR_UNPROCESSABLE);
	}
	CHECK(took < timeout_ms + 500);
	if (took >= timeout_ms + 500 || (e.code != ERR_TIMEOUT && e.code != ERR_UNPROCESSABLE))
		fprintf(stderr, "  %s: %d %s in %lld ms\n", program, e.code, e.msg,
			(long long)took);
	check_eval(".a + 1", "{\"a\":1}", "[2]");
	check_eval(".[]", "[1,2]", "[1,2]");
}

TEST(test_hostile)
{
	check_hostile("[range(1e12)]", 500, 1);
	check_hostile("[repeat(1)] | length", 300, 0);
	check_hostile("def f: f; f", 300, 0);
	check_hostile("def f: [f]; f", 500, 0);
	check_hostile("[range(1e9)] | length", 1000, 0);
	check_hostile("[range(1e8)] | tostring", 1000, 0);
#if !defined(__SANITIZE_ADDRESS__) /* without RLIMIT_AS this would really take 1 GB */
	check_hostile("\"x\" * 1e9 | length", 1000, 0);
#endif
}

TEST(test_output_caps)
{
	struct err e;
	char *got = eval("range(10)", "null", 0, 5, &e);
	CHECK(got == NULL);
	CHECK_INT(e.code, ERR_TOO_LARGE);
	CHECK_STR(e.slug, "expression_output_too_large");
	got = eval("repeat(1)", "null", 0, 0, &e);
	CHECK(got == NULL);
	CHECK_INT(e.code, ERR_TOO_LARGE);
	free(eval("range(5)", "null", 0, 5, &e));
	CHECK_INT(e.code, 0);
	got = eval("[range(1e6)]", "null", JQ_TIMEOUT_MAX_MS, 0, &e);
	CHECK(got == NULL);
	CHECK_INT(e.code, ERR_TOO_LARGE);
	check_eval(".a + 1", "{\"a\":1}", "[2]");
}

static void *hammer(void *arg)
{
	long id = (long)arg, *bad = xcalloc(1, sizeof(long));
	char in[64], want[64];
	struct err e;
	for (long i = 0; i < 50; i++) {
		long n = id * 1000 + i;
		snprintf(in, sizeof(in), "{\"n\":%ld,\"p\":\"%ld\"}", n, id);
		snprintf(want, sizeof(want), "[%ld,\"%ld\"]", n * 2, id);
		char *got = eval("(.n * 2), .p", in, 2000, 0, &e);
		*bad += !got || strcmp(got, want);
		free(got);
	}
	return bad;
}

TEST(test_concurrent)
{
	pthread_t t[4];
	for (long i = 0; i < 4; i++)
		CHECK_INT(pthread_create(&t[i], NULL, hammer, (void *)i), 0);
	for (int i = 0; i < 4; i++) {
		void *bad = NULL;
		pthread_join(t[i], &bad);
		CHECK(bad != NULL && *(long *)bad == 0);
		free(bad);
	}
}

/* A worker killed from outside between requests is replaced, unnoticed. */
TEST(test_killed_worker_replaced)
{
	int pid0 = jq_pool_worker_pid(pool, 0), pid1 = jq_pool_worker_pid(pool, 1);
	struct timespec pause = {0, 100 * 1000 * 1000};
	CHECK(pid0 > 0 && pid1 > 0);
	if (pid0 <= 0 || pid1 <= 0)
		return;
	kill(pid0, SIGKILL);
	kill(pid1, SIGKILL);
	nanosleep(&pause, NULL);
	check_eval(".a + 1", "{\"a\":1}", "[2]");
	check_eval(".a + 1", "{\"a\":2}", "[3]");
	CHECK(jq_pool_worker_pid(pool, 0) != pid0);
}

static int count_fds(int pid)
{
	char path[64];
	int n = 0;
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	DIR *d = opendir(path);
	for (struct dirent *de; d && (de = readdir(d));)
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

/* The worker's limits, environment and fds, as the kernel reports them. */
TEST(test_worker_confinement)
{
	char path[64], limits[4096] = "";
	int pid;
	check_eval(".", "1", "[1]"); /* worker 0 (the first idle one) has finished starting */
	pid = jq_pool_worker_pid(pool, 0);
	snprintf(path, sizeof(path), "/proc/%d/limits", pid);
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	if (f) {
		limits[fread(limits, 1, sizeof(limits) - 1, f)] = '\0';
		fclose(f);
	}
	CHECK(strstr(limits, "Max cpu time              10                   11") != NULL);
#if !defined(__SANITIZE_ADDRESS__)
	CHECK(strstr(limits, "Max address space         268435456            268435456") != NULL);
#endif
	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	f = fopen(path, "r");
	CHECK(f != NULL && fgetc(f) == EOF);
	if (f)
		fclose(f);
	CHECK_INT(count_fds(pid), 3);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
	    TEST_ENTRY(test_worker_confinement),
	    TEST_ENTRY(test_results),
	    TEST_ENTRY(test_errors),
	    TEST_ENTRY(test_empty_environment),
	    TEST_ENTRY(test_hostile),
	    TEST_ENTRY(test_output_caps),
	    TEST_ENTRY(test_concurrent),
	    TEST_ENTRY(test_killed_worker_replaced),
	};
	struct err e = {0};
	int rc;
	jq_worker_maybe_run(argc, argv);
	setenv("PARALLAX_TEST_SECRET", "hunter2", 1);
	pool = jq_pool_new(2, &e);
	if (!pool) {
		fprintf(stderr, "jq_pool_new: %s\n", e.msg);
		return 1;
	}
	rc = test_run_all(cases, ARRAY_SIZE(cases));
	jq_pool_free(pool);
	return rc;
}
