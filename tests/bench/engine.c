/*
 * Executor benchmark for tests/bench/engine (issue 4); a benchmark, not a
 * test: it prints figures and fails only when a run does not succeed.
 *
 *   bench_engine consensus [--runs 20000] [--window 64] [--solo 1000] [--variant both]
 *     5 builtin constant agents -> consensus -> output, in process: runs/s,
 *     latency and CPU per run with --window runs in flight (after a warm-up),
 *     then --solo runs one at a time.
 *     Variant "plain": the consensus key is a plain path (no jq sandbox);
 *     "transform": a transform node with a jq object expression is added.
 *   bench_engine slow --url URL [--runs 1000] [--limit-s 20]
 *     --runs runs of input -> one http agent (URL answers after ~1 s) ->
 *     output, all submitted at once: wall time, threads, open fds and RSS.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "core/core.h"

#define RUN_TIMEOUT_MS 30000
#define ERRORS_SHOWN   5

/* ---- a batch of runs with a bounded window ----------------------------------------- */

struct batch;

struct slot {
	struct batch *b;
	int64_t start_us, end_us;
	int ok;
};

struct batch {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t window; /* most runs in flight; 0: no bound */
	size_t inflight, done, failed;
	cJSON *first_result;
	struct slot *slots;
};

static void batch_init(struct batch *b, size_t n, size_t window)
{
	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	b->window = window;
	b->slots = xcalloc(n ? n : 1, sizeof(*b->slots));
	for (size_t i = 0; i < n; i++)
		b->slots[i].b = b;
}

static void batch_release(struct batch *b)
{
	cJSON_Delete(b->first_result);
	free(b->slots);
	pthread_cond_destroy(&b->cv);
	pthread_mutex_destroy(&b->mu);
}

/* hooks.done, on a loop thread. */
static void on_done(void *ud, const cJSON *outcome)
{
	struct slot *s = ud;
	struct batch *b = s->b;
	const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(outcome, "status"));
	int ok = st && !strcmp(st, "succeeded");

	s->end_us = mono_us();
	pthread_mutex_lock(&b->mu);
	s->ok = ok;
	if (!ok && ++b->failed <= ERRORS_SHOWN) {
		char *err =
		    cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(outcome, "error"));
		fprintf(stderr, "run failed: status %s, error %s\n", st ? st : "?",
			err ? err : "?");
		free(err);
	}
	if (ok && !b->first_result)
		b->first_result =
		    cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(outcome, "result"), 1);
	b->inflight--;
	b->done++;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
}

/* Called at most every 20 ms while a batch is waited for (NULL: none). */
typedef void (*sample_fn)(void *ud);

/* Start n runs of rq (window at a time) and wait for all of them, at most
 * limit_ms. Returns 0, or -1 if the batch did not finish in time. */
static int batch_run(struct engine *en, struct batch *b, struct run_request rq, size_t n,
		     int64_t limit_ms, sample_fn sample, void *sample_ud)
{
	int64_t deadline = mono_ms() + limit_ms;
	for (size_t i = 0; i < n; i++) {
		char exec_id[UUID_STR_LEN];
		struct err e;
		pthread_mutex_lock(&b->mu);
		while (b->window && b->inflight >= b->window)
			pthread_cond_wait(&b->cv, &b->mu);
		b->inflight++;
		pthread_mutex_unlock(&b->mu);
		uuid_v7(exec_id);
		rq.execution_id = exec_id;
		rq.hooks.ud = &b->slots[i];
		b->slots[i].start_us = mono_us();
		if (engine_run_start(en, &rq, &e) < 0) {
			fprintf(stderr, "engine_run_start: %s\n", e.msg);
			on_done(&b->slots[i], NULL);
		}
	}
	int64_t next_sample = 0;
	pthread_mutex_lock(&b->mu);
	while (b->done < n && mono_ms() < deadline) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 20 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&b->cv, &b->mu, &ts);
		if (sample && mono_ms() >= next_sample) {
			next_sample = mono_ms() + 20;
			pthread_mutex_unlock(&b->mu);
			sample(sample_ud);
			pthread_mutex_lock(&b->mu);
		}
	}
	int finished = b->done >= n;
	pthread_mutex_unlock(&b->mu);
	return finished ? 0 : -1;
}

/* CPU time of this process (every thread; not the jq workers), microseconds. */
static int64_t cpu_us(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
	       ru.ru_stime.tv_usec;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

struct latency {
	double p50, p95, p99, max, min; /* ms */
};

/* Nearest-rank percentiles of the runs' start-to-done times. */
static void batch_latency(const struct batch *b, size_t n, struct latency *l)
{
	int64_t *v = xcalloc(n ? n : 1, sizeof(*v));
	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < n; i++)
		v[i] = b->slots[i].end_us - b->slots[i].start_us;
	qsort(v, n, sizeof(*v), cmp_i64);
	if (n) {
		size_t i50 = (n * 50 + 99) / 100, i95 = (n * 95 + 99) / 100,
		       i99 = (n * 99 + 99) / 100;
		l->min = (double)v[0] / 1000.0;
		l->p50 = (double)v[i50 - 1] / 1000.0;
		l->p95 = (double)v[i95 - 1] / 1000.0;
		l->p99 = (double)v[i99 - 1] / 1000.0;
		l->max = (double)v[n - 1] / 1000.0;
	}
	free(v);
}

/* ---- patterns and agents built in memory ----------------------------------------------- */

static cJSON *node_add(cJSON *nodes, const char *id, const char *type, const char *from)
{
	cJSON *n = cJSON_CreateObject();
	cJSON_AddStringToObject(n, "id", id);
	cJSON_AddStringToObject(n, "type", type);
	if (from)
		cJSON_AddStringToObject(n, "from", from);
	cJSON_AddItemToArray(nodes, n);
	return n;
}

/* Parse doc into a pattern (caller frees), printing every problem on failure. */
static struct pattern *pattern_build(const cJSON *doc)
{
	struct pattern *p = NULL;
	struct problems pr;
	struct err e;
	char *text = cJSON_PrintUnformatted(doc);

	problems_init(&pr);
	if (pattern_parse(text, strlen(text), &p, &pr, &e) < 0) {
		fprintf(stderr, "pattern does not parse: %s\n", e.msg);
		for (size_t i = 0; i < pr.count; i++)
			fprintf(stderr, "  %s %s: %s\n", pr.items[i].path, pr.items[i].code,
				pr.items[i].message);
		p = NULL;
	}
	problems_release(&pr);
	free(text);
	return p;
}

/* input -> agents (5 by capability) -> verdict (consensus) [-> summary (transform)] -> output */
static struct pattern *consensus_pattern(int with_transform)
{
	cJSON *doc = cJSON_CreateObject(), *nodes, *n;
	cJSON_AddStringToObject(doc, "name",
				with_transform ? "bench-consensus-jq" : "bench-consensus");
	nodes = cJSON_AddArrayToObject(doc, "nodes");
	node_add(nodes, "input", "input", NULL);
	n = node_add(nodes, "agents", "agent", "input");
	cJSON *sel = cJSON_AddObjectToObject(n, "select");
	cJSON_AddItemToObject(sel, "capabilities",
			      cJSON_CreateStringArray((const char *[]){"review"}, 1));
	cJSON_AddNumberToObject(sel, "min", 5);
	cJSON_AddStringToObject(n, "task", "Review this change and recommend approve or reject.");
	n = node_add(nodes, "verdict", "consensus", "agents");
	cJSON_AddStringToObject(n, "key", ".value.recommendation");
	cJSON_AddStringToObject(n, "weight", "expertise");
	if (with_transform) {
		n = node_add(nodes, "summary", "transform", "verdict");
		cJSON_AddStringToObject(n, "value",
					"{rec: .nodes.verdict.value, n: (.nodes.agents | length)}");
	}
	node_add(nodes, "output", "output", with_transform ? "summary" : "verdict");
	struct pattern *p = pattern_build(doc);
	cJSON_Delete(doc);
	return p;
}

static void agent_init(struct agent_spec *a, const char *name, enum agent_kind kind, cJSON *config,
		       const char *capability, double expertise, int64_t timeout_ms)
{
	memset(a, 0, sizeof(*a));
	uuid_v7(a->id);
	str_copy(a->name, sizeof(a->name), name);
	a->kind = kind;
	a->config = config;
	a->capabilities = cJSON_CreateArray();
	if (capability)
		cJSON_AddItemToArray(a->capabilities, cJSON_CreateString(capability));
	a->expertise = expertise;
	a->timeout_ms = timeout_ms;
}

/* Three approve, two reject; builtin constants answering at once. */
static void consensus_agents(struct agent_spec a[5])
{
	static const struct {
		const char *rec;
		double conf, expertise;
	} def[5] = {{"approve", 0.9, 0.8},
		    {"approve", 0.85, 0.7},
		    {"reject", 0.7, 0.9},
		    {"approve", 0.8, 0.6},
		    {"reject", 0.6, 0.5}};
	for (int i = 0; i < 5; i++) {
		char name[32];
		cJSON *cfg = cJSON_CreateObject();
		cJSON_AddStringToObject(cfg, "type", "constant");
		cJSON_AddItemToObject(cfg, "value", cJSON_CreateObject());
		cJSON_AddStringToObject(cJSON_GetObjectItem(cfg, "value"), "recommendation",
					def[i].rec);
		cJSON_AddNumberToObject(cfg, "confidence", def[i].conf);
		cJSON_AddNumberToObject(cfg, "delay_ms", 0);
		snprintf(name, sizeof(name), "reviewer-%d", i + 1);
		agent_init(&a[i], name, AGENT_BUILTIN, cfg, "review", def[i].expertise, 5000);
	}
}

/* ---- part 1: consensus in process ------------------------------------------------------ */

struct opts {
	size_t runs, window, solo;
	const char *variant, *url;
	int64_t limit_s;
};

static void print_result(const cJSON *result)
{
	char *s = cJSON_PrintUnformatted(result);
	printf("  result of a run: %s\n", s ? s : "null");
	free(s);
}

struct phase_result {
	double per_s, cpu_us; /* cpu_us: per run */
	struct latency l;
	size_t failed;
};

/* One phase: n runs, window in flight (1: one at a time); prints its line. */
static void phase(struct engine *en, const struct run_request *rq, size_t n, size_t window,
		  const char *label, int show_result, struct phase_result *r)
{
	struct batch b;
	batch_init(&b, n, window);
	int64_t t0 = mono_us(), c0 = cpu_us();
	if (batch_run(en, &b, *rq, n, 120000, NULL, NULL) < 0) {
		fprintf(stderr, "%s: runs still in flight after 120 s\n", label);
		exit(1); /* the loops still hold the batch: do not free it */
	}
	r->per_s = (double)n / ((double)(mono_us() - t0) / 1e6);
	r->cpu_us = (double)(cpu_us() - c0) / (double)n;
	r->failed = b.failed;
	batch_latency(&b, n, &r->l);
	printf("  %-14s %6zu runs %7.0f runs/s  p50 %7.3f  p95 %7.3f  p99 %7.3f  max %8.3f ms"
	       "  cpu %4.0f us/run  failed %zu\n",
	       label, n, r->per_s, r->l.p50, r->l.p95, r->l.p99, r->l.max, r->cpu_us, b.failed);
	if (show_result)
		print_result(b.first_result);
	batch_release(&b);
}

static size_t consensus_variant(struct engine *en, const struct opts *o, int with_transform)
{
	struct agent_spec agents[5];
	struct phase_result warm, many, one;
	struct pattern *p = consensus_pattern(with_transform);
	char label[64];
	if (!p)
		return 1;
	consensus_agents(agents);
	cJSON *input = cJSON_CreateObject();
	cJSON_AddStringToObject(input, "change", "diff --git a/x.c b/x.c\n+int x = 1;\n");
	struct run_request rq = {.pattern_name = p->name,
				 .version = 1,
				 .pattern = p,
				 .input = input,
				 .agents = agents,
				 .agent_count = 5,
				 .timeout_ms = RUN_TIMEOUT_MS,
				 .hooks = {.done = on_done}};
	printf("%s: input -> agent (5 builtin constants by capability) -> consensus (key "
	       "\".value.recommendation\", weight expertise)%s -> output\n",
	       p->name, with_transform ? " -> transform (jq object: sandbox)" : " (plain path)");
	phase(en, &rq, o->window * 4, o->window, "warm-up", 1, &warm);
	snprintf(label, sizeof(label), "%zu in flight", o->window);
	phase(en, &rq, o->runs, o->window, label, 0, &many);
	phase(en, &rq, o->solo, 1, "one at a time", 0, &one);
	printf("summary: %s: %.0f runs/s (%zu in flight, p50 %.3f p99 %.3f ms, %.0f us cpu/run);"
	       " one at a time p50 %.3f p99 %.3f ms; failed %zu\n",
	       p->name, many.per_s, o->window, many.l.p50, many.l.p99, many.cpu_us, one.l.p50,
	       one.l.p99, warm.failed + many.failed + one.failed);
	cJSON_Delete(input);
	for (int i = 0; i < 5; i++)
		agent_spec_release(&agents[i]);
	pattern_free(p);
	return warm.failed + many.failed + one.failed;
}

static int cmd_consensus(const struct opts *o)
{
	struct engine_config c = {.jq_workers = 2};
	struct err e;
	size_t failed = 0;
	struct engine *en = engine_new(&c, &e);
	if (!en) {
		fprintf(stderr, "engine_new: %s\n", e.msg);
		return 1;
	}
	printf("engine: 2 loop threads, 2 jq workers; %ld CPU(s)\n",
	       (long)sysconf(_SC_NPROCESSORS_ONLN));
	if (!strcmp(o->variant, "plain") || !strcmp(o->variant, "both"))
		failed += consensus_variant(en, o, 0);
	if (!strcmp(o->variant, "transform") || !strcmp(o->variant, "both"))
		failed += consensus_variant(en, o, 1);
	engine_free(en);
	if (failed)
		printf("FAILED: %zu runs did not succeed\n", failed);
	return failed ? 1 : 0;
}

/* ---- part 2: many runs waiting on a slow http agent ------------------------------------ */

struct proc_sample {
	long threads, rss_kb, hwm_kb, fds;
};

/* Threads, VmRSS and VmHWM from /proc/self/status, and the open fds. */
static void proc_read(struct proc_sample *s)
{
	char line[256];
	memset(s, 0, sizeof(*s));
	FILE *f = fopen("/proc/self/status", "r");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			if (!strncmp(line, "Threads:", 8))
				s->threads = strtol(line + 8, NULL, 10);
			else if (!strncmp(line, "VmRSS:", 6))
				s->rss_kb = strtol(line + 6, NULL, 10);
			else if (!strncmp(line, "VmHWM:", 6))
				s->hwm_kb = strtol(line + 6, NULL, 10);
		}
		fclose(f);
	}
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		while (readdir(d))
			s->fds++;
		closedir(d);
		s->fds -= 3; /* ".", ".." and the directory's own fd */
	}
}

/* sample_fn: keeps the largest of each figure. */
static void proc_peak(void *ud)
{
	struct proc_sample *peak = ud, now;
	proc_read(&now);
	if (now.threads > peak->threads)
		peak->threads = now.threads;
	if (now.rss_kb > peak->rss_kb)
		peak->rss_kb = now.rss_kb;
	if (now.fds > peak->fds)
		peak->fds = now.fds;
	peak->hwm_kb = now.hwm_kb;
}

/* RLIMIT_NOFILE to its hard limit: one socket per call in flight. */
static long nofile_raise(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -1;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		perror("setrlimit(RLIMIT_NOFILE)");
	getrlimit(RLIMIT_NOFILE, &rl);
	return (long)rl.rlim_cur;
}

/* input -> call (one http agent by id) -> output */
static struct pattern *slow_pattern(const char *agent_id)
{
	cJSON *doc = cJSON_CreateObject(), *nodes, *n;
	cJSON_AddStringToObject(doc, "name", "bench-slow-http");
	nodes = cJSON_AddArrayToObject(doc, "nodes");
	node_add(nodes, "input", "input", NULL);
	n = node_add(nodes, "call", "agent", "input");
	cJSON *sel = cJSON_AddObjectToObject(n, "select");
	cJSON_AddItemToObject(sel, "ids", cJSON_CreateStringArray((const char *[]){agent_id}, 1));
	cJSON_AddStringToObject(n, "task", "Answer slowly.");
	node_add(nodes, "output", "output", "call");
	struct pattern *p = pattern_build(doc);
	cJSON_Delete(doc);
	return p;
}

static void slow_report(const struct batch *b, size_t n, double wall_s, double submit_ms,
			double cpu_ms, const struct proc_sample *before,
			const struct proc_sample *peak, const struct proc_sample *after)
{
	struct latency l;
	batch_latency(b, n, &l);
	printf("  submitted in %.1f ms; all done in %.3f s wall (target < 3 s); succeeded %zu/%zu;"
	       " cpu %.0f ms\n",
	       submit_ms, wall_s, n - b->failed, n, cpu_ms);
	printf("  run latency: min %.3f  p50 %.3f  p95 %.3f  p99 %.3f  max %.3f s\n", l.min / 1000,
	       l.p50 / 1000, l.p95 / 1000, l.p99 / 1000, l.max / 1000);
	printf("  threads: before %ld, peak while in flight %ld, after %ld\n", before->threads,
	       peak->threads, after->threads);
	printf("  open fds: before %ld, peak while in flight %ld, after %ld\n", before->fds,
	       peak->fds, after->fds);
	printf("  RSS: before %.1f MB, peak sampled %.1f MB, after %.1f MB; VmHWM %.1f MB "
	       "(%.1f kB per run in flight above the start)\n",
	       before->rss_kb / 1024.0, peak->rss_kb / 1024.0, after->rss_kb / 1024.0,
	       after->hwm_kb / 1024.0, (double)(peak->rss_kb - before->rss_kb) / (double)n);
	print_result(b->first_result);
	printf(
	    "summary: slow http: %zu runs at once on a 1 s agent: %.3f s wall (target < 3 s), "
	    "%zu succeeded; threads %ld in flight, %ld after; VmHWM %.1f MB, RSS after %.1f MB\n",
	    n, wall_s, n - b->failed, peak->threads, after->threads, after->hwm_kb / 1024.0,
	    after->rss_kb / 1024.0);
}

static int cmd_slow(const struct opts *o)
{
	struct engine_config c = {.jq_workers = 2, .agent_allow = "127.0.0.1/32"};
	struct proc_sample before, peak, after;
	struct agent_spec agent;
	struct pattern *p = NULL;
	struct batch b;
	struct err e;
	int ret = 1;

	long nofile = nofile_raise();
	cJSON *cfg = cJSON_CreateObject();
	cJSON_AddStringToObject(cfg, "url", o->url);
	agent_init(&agent, "slow-agent", AGENT_HTTP, cfg, NULL, 1.0, 10000);
	batch_init(&b, o->runs, 0);
	struct engine *en = engine_new(&c, &e);
	if (!en) {
		fprintf(stderr, "engine_new: %s\n", e.msg);
		goto out;
	}
	p = slow_pattern(agent.id);
	if (!p)
		goto out;
	struct run_request rq = {.pattern_name = p->name,
				 .version = 1,
				 .pattern = p,
				 .agents = &agent,
				 .agent_count = 1,
				 .timeout_ms = RUN_TIMEOUT_MS,
				 .hooks = {.done = on_done}};
	printf("%s: input -> agent (http %s, timeout 10 s, no concurrency cap) -> output; "
	       "%zu runs submitted at once; RLIMIT_NOFILE %ld; engine: 2 loop threads\n",
	       p->name, o->url, o->runs, nofile);
	proc_read(&before);
	peak = before;
	int64_t t0 = mono_us(), c0 = cpu_us();
	if (batch_run(en, &b, rq, o->runs, o->limit_s * 1000, proc_peak, &peak) < 0) {
		fprintf(stderr, "only %zu of %zu runs finished within %lld s\n", b.done, o->runs,
			(long long)o->limit_s);
		exit(1); /* the loops still hold the batch: do not free it */
	}
	double wall = (double)(mono_us() - t0) / 1e6;
	double submit_ms = (double)(b.slots[o->runs - 1].start_us - t0) / 1000.0;
	double cpu_ms = (double)(cpu_us() - c0) / 1000.0;
	proc_read(&after);
	slow_report(&b, o->runs, wall, submit_ms, cpu_ms, &before, &peak, &after);
	ret = b.failed ? 1 : 0;
	if (b.failed)
		printf("FAILED: %zu runs did not succeed\n", b.failed);
out:
	engine_free(en);
	pattern_free(p);
	batch_release(&b);
	agent_spec_release(&agent);
	return ret;
}

/* ---- main ------------------------------------------------------------------------------ */

static int usage(void)
{
	fprintf(stderr, "usage: bench_engine consensus [--runs 20000] [--window 64] [--solo 1000]"
			" [--variant plain|transform|both]\n"
			"       bench_engine slow --url URL [--runs 1000] [--limit-s 20]\n");
	return 2;
}

/* A count in [lo, hi], or -1. */
static int64_t arg_count(const char *s, int64_t lo, int64_t hi)
{
	int64_t v;
	if (!s || str_to_i64(s, &v) || v < lo || v > hi)
		return -1;
	return v;
}

static int opts_parse(int argc, char **argv, struct opts *o)
{
	for (int i = 2; i < argc; i += 2) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int64_t n = arg_count(v, 1, 1000000);
		if (!v)
			return -1;
		if (!strcmp(k, "--variant") || !strcmp(k, "--url")) {
			*(!strcmp(k, "--url") ? &o->url : &o->variant) = v;
			continue;
		}
		if (n < 0)
			return -1;
		if (!strcmp(k, "--runs"))
			o->runs = (size_t)n;
		else if (!strcmp(k, "--window"))
			o->window = (size_t)n;
		else if (!strcmp(k, "--solo"))
			o->solo = (size_t)n;
		else if (!strcmp(k, "--limit-s"))
			o->limit_s = n;
		else
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	jq_worker_maybe_run(argc, argv); /* a jq sandbox worker never returns */
	setvbuf(stdout, NULL, _IOLBF, 0);
	log_min_level = LOG_WARN;
	if (argc < 2)
		return usage();
	int slow = !strcmp(argv[1], "slow");
	struct opts o = {.runs = slow ? 1000 : 20000,
			 .window = 64,
			 .solo = 1000,
			 .variant = "both",
			 .limit_s = 20};
	if ((!slow && strcmp(argv[1], "consensus")) || opts_parse(argc, argv, &o) < 0)
		return usage();
	if (slow)
		return o.url ? cmd_slow(&o) : usage();
	if (strcmp(o.variant, "plain") && strcmp(o.variant, "transform") &&
	    strcmp(o.variant, "both"))
		return usage();
	return cmd_consensus(&o);
}
