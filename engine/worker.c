/*
 * Workers: the queue's consumer inside `parallax serve` and `parallax worker`.
 *
 * DESIGN
 * - One thread per worker claims execution jobs (db/queue.c) while fewer
 *   than max_inflight runs are in flight, loads each execution (pattern
 *   version, agents, the steps earlier attempts checkpointed) and starts it
 *   on the engine's loops. No thread waits on an agent. A claimed batch is
 *   loaded and marked running in one transaction.
 * - Every checkpoint (a finished node and the events before it) goes back to
 *   the worker thread, which writes the checkpoints and ends of all runs
 *   waiting, in order, in one transaction (one commit for many runs); each
 *   write first checks its job's fence: once another worker has claimed the
 *   job, this one writes nothing more for it, and its run is cancelled. Should
 *   the batch fail, each is written on its own.
 * - Leases are renewed every lease/3 in one transaction; executions whose
 *   cancel was requested (by any instance) are cancelled here within a poll.
 * - A run's end comes back from its loop the same way; the worker thread
 *   settles it: events, the execution's final state and the job, fenced. A run parked on an approval ends its job; approving
 *   enqueues a new one, which resumes from the checkpoints. A timed approval also
 *   enqueues a job for its deadline (JOB_APPROVAL_WAKE): it resumes the execution
 *   only if it is still parked, taking it out of waiting_approval as a decision
 *   does, so the two never both run it.
 * - A job claimed more than max_attempts times (its workers died with it:
 *   a poison job) fails the execution without running it again.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/db.h"
#include "engine/exec_internal.h"
#include "core/core.h"

#define CLAIM_BATCH 64
#define CACHE_SIZE  64

struct job_run;

/* A write the worker thread owes a run: a checkpoint, or the run's end. */
struct pending {
	struct job_run *jr;
	cJSON *step;    /* a checkpoint's step; NULL: the end */
	cJSON *events;  /* the events before it */
	cJSON *outcome; /* the end's outcome */
	struct pending *next;
};

struct job_run {
	struct worker *w;
	struct job job;
	char workspace_id[UUID_STR_LEN], pattern_id[UUID_STR_LEN], pattern_name[PATTERN_NAME_MAX + 1];
	int64_t version;
	struct pattern *pattern; /* from the cache (a reference) */
	struct agent_spec *agents;
	size_t agent_count;
	cJSON *events; /* not yet handed to the worker thread (the run's loop only) */
	int lost;      /* the fence moved: write nothing more */
	/* worker thread: events up to seq_written are committed, up to seq_tx written in
	 * the open transaction */
	int64_t seq_written, seq_tx;
	/* between job_prepare and job_launch */
	cJSON *input, *resume;
	int64_t seq_base, deadline;
	struct job_run *next;
};

struct delivery {
	struct job job;
	struct delivery *next;
};

struct cached {
	char key[UUID_STR_LEN + 24];
	struct pattern *p;
	int refs;
	int64_t used;
};

struct worker {
	struct engine *en;
	struct db_pool *pool;
	struct worker_config cfg;
	char name[96];
	pthread_t thread;
	pthread_mutex_t mu; /* stop, wake, pending writes, cache */
	pthread_cond_t cv;
	int stop, draining, woken, abandon;
	struct pending *pending_head, *pending_tail;
	struct job_run *runs; /* worker thread only */
	int inflight;         /* worker thread only */
	struct cached cache[CACHE_SIZE];
	int64_t claimed, settled;
	int64_t next_analyze; /* the claim count at which to refresh statistics (PostgreSQL) */
	/* webhook deliveries: their own thread, so a slow receiver never holds claims */
	pthread_t deliver_thread;
	pthread_cond_t deliver_cv;
	struct delivery *deliver_head, *deliver_tail;
	int delivering; /* queued or in progress (under mu) */
	/* PostgreSQL: a connection LISTENing on parallax_jobs wakes us on any instance's enqueue */
	pthread_t listen_thread;
	int listening;
	struct worker *next_lane; /* the worker's other claiming threads (worker_start) */
};

/* ---- parsed patterns, shared by the runs of one version -------------------------------- */

/* The cached pattern of a version (a reference), or NULL. */
static struct pattern *cache_find(struct worker *w, const char *pattern_id, int64_t version)
{
	char key[sizeof(w->cache[0].key)];
	struct pattern *p = NULL;
	snprintf(key, sizeof(key), "%s/%lld", pattern_id, (long long)version);
	pthread_mutex_lock(&w->mu);
	for (int i = 0; i < CACHE_SIZE; i++)
		if (w->cache[i].p && !strcmp(w->cache[i].key, key)) {
			w->cache[i].refs++;
			w->cache[i].used = mono_ms();
			p = w->cache[i].p;
			break;
		}
	pthread_mutex_unlock(&w->mu);
	return p;
}

/* The cached pattern, else definition parsed and cached (a reference either way). */
static struct pattern *cache_get(struct worker *w, const char *pattern_id, int64_t version,
				 const char *definition, struct err *e)
{
	char key[sizeof(w->cache[0].key)];
	struct problems pr;
	struct pattern *p = cache_find(w, pattern_id, version);
	if (p)
		return p;
	snprintf(key, sizeof(key), "%s/%lld", pattern_id, (long long)version);
	problems_init(&pr);
	int rc = pattern_parse(definition, strlen(definition), &p, &pr, e);
	if (rc && pr.count)
		err_set(e, ERR_UNPROCESSABLE, NULL, "the pattern version is not valid: %s",
			pr.items[0].message);
	problems_release(&pr);
	if (rc)
		return NULL;
	pthread_mutex_lock(&w->mu);
	int slot = -1;
	for (int i = 0; i < CACHE_SIZE; i++)
		if (!w->cache[i].p || (!w->cache[i].refs &&
				       (slot < 0 || w->cache[i].used < w->cache[slot].used)))
			if (slot < 0 || w->cache[slot].p)
				slot = i;
	if (slot >= 0) {
		pattern_free(w->cache[slot].p);
		str_copy(w->cache[slot].key, sizeof(key), key);
		w->cache[slot].p = p;
		w->cache[slot].refs = 1;
		w->cache[slot].used = mono_ms();
	}
	pthread_mutex_unlock(&w->mu);
	return p; /* with no free slot the run owns it: freed in cache_put */
}

static void cache_put(struct worker *w, struct pattern *p)
{
	int found = 0;
	pthread_mutex_lock(&w->mu);
	for (int i = 0; i < CACHE_SIZE; i++)
		if (w->cache[i].p == p) {
			w->cache[i].refs--;
			found = 1;
		}
	pthread_mutex_unlock(&w->mu);
	if (!found)
		pattern_free(p);
}

/* ---- from the loops -------------------------------------------------------------------- */

static void run_event_hook(void *ud, const cJSON *ev)
{
	struct job_run *jr = ud;
	cJSON_AddItemToArray(jr->events, cJSON_Duplicate(ev, 1));
}

static const char *str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void pending_push(struct worker *w, struct pending *p)
{
	pthread_mutex_lock(&w->mu);
	if (w->pending_tail)
		w->pending_tail->next = p;
	else
		w->pending_head = p;
	w->pending_tail = p;
	w->woken = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* A finished node: the step and the events so far go to the worker thread, in order. */
static void run_checkpoint_hook(void *ud, const cJSON *step)
{
	struct job_run *jr = ud;
	if (__atomic_load_n(&jr->lost, __ATOMIC_ACQUIRE))
		return;
	struct pending *p = xcalloc(1, sizeof(*p));
	p->jr = jr;
	p->step = cJSON_Duplicate(step, 1);
	p->events = jr->events;
	jr->events = cJSON_CreateArray();
	pending_push(jr->w, p);
}

static void run_done_hook(void *ud, const cJSON *outcome)
{
	struct job_run *jr = ud;
	struct pending *p = xcalloc(1, sizeof(*p));
	p->jr = jr;
	p->outcome = cJSON_Duplicate(outcome, 1);
	pending_push(jr->w, p);
}

static int run_load_pattern_hook(void *ud, const char *name, int64_t version, char **definition,
				 char pattern_id[UUID_STR_LEN], int64_t *version_out,
				 struct err *e)
{
	struct job_run *jr = ud;
	struct db *db = NULL;
	struct pattern_row p;
	struct pattern_version_row v;
	int rc;
	memset(&v, 0, sizeof(v));
	if ((rc = db_acquire(jr->w->pool, 5000, &db, e)))
		return rc;
	rc = store_pattern_get(db, jr->job.tenant_id, jr->workspace_id, name, &p, e);
	if (!rc)
		rc = store_pattern_version_get(db, jr->job.tenant_id, &p,
					       version ? version : p.latest_version, &v, e);
	db_release(db);
	if (rc)
		return rc == ERR_NOT_FOUND ? err_set(e, ERR_NOT_FOUND, NULL, "no such pattern") : rc;
	*definition = v.definition;
	v.definition = NULL;
	str_copy(pattern_id, UUID_STR_LEN, p.id);
	*version_out = v.version;
	store_pattern_version_release(&v);
	return 0;
}

/* ---- the worker thread ------------------------------------------------------------------- */

static void job_run_free(struct job_run *jr)
{
	if (jr->pattern)
		cache_put(jr->w, jr->pattern);
	agent_specs_free(jr->agents, jr->agent_count);
	cJSON_Delete(jr->events);
	cJSON_Delete(jr->input);
	cJSON_Delete(jr->resume);
	job_release(&jr->job);
	free(jr);
}

/* Settle an execution without running it (cancelled, gave up, gone), and its job. */
static int settle_in(struct db *db, const struct job *j, const char *status, const char *msg,
		     struct err *e)
{
	cJSON *er = cJSON_CreateObject();
	cJSON_AddNullToObject(er, "node");
	cJSON_AddStringToObject(er, "message", msg);
	char *es = cJSON_PrintUnformatted(er);
	struct execution_end x = { .status = status, .error = es };
	int rc = queue_finish(db, j, strcmp(status, "failed") != 0, msg, e);
	if (!rc) /* last: it gives the concurrency unit back (a locked counter) */
		rc = store_execution_settle(db, j->tenant_id, j->ref, &x, e);
	free(es);
	cJSON_Delete(er);
	return rc;
}

/* The resume map of docs/engine.md from the stored steps. */
static cJSON *resume_map(const cJSON *steps)
{
	cJSON *m = cJSON_CreateObject();
	const cJSON *s;
	cJSON_ArrayForEach(s, steps) {
		const char *id = str_of(s, "node_id"), *st = str_of(s, "status");
		if (!id || !st)
			continue;
		cJSON *o = cJSON_CreateObject();
		if (!strcmp(st, "waiting")) { /* an approval decision (executions API) */
			const cJSON *out = cJSON_GetObjectItemCaseSensitive(s, "output");
			cJSON_Delete(o);
			o = cJSON_Duplicate(out, 1);
		} else if (!strcmp(st, "succeeded") || !strcmp(st, "skipped")) {
			cJSON_AddStringToObject(o, "status", st);
			const cJSON *out = cJSON_GetObjectItemCaseSensitive(s, "output");
			cJSON_AddItemToObject(o, "output", out ? cJSON_Duplicate(out, 1)
							       : cJSON_CreateNull());
			if (str_of(s, "port"))
				cJSON_AddStringToObject(o, "port", str_of(s, "port"));
		} else {
			cJSON_Delete(o);
			continue;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(m, id);
		cJSON_AddItemToObject(m, id, o);
	}
	return m;
}

/*
 * Load what a claimed execution needs and mark it running, in the caller's
 * write transaction: 0 with *out set (launch it after the commit), 0 with
 * *out NULL (settled or finished here instead), or an error.
 */
static int job_prepare(struct worker *w, struct db *db, struct job *j, struct job_run **out,
		       struct err *e)
{
	struct execution_full x;
	struct pattern_row p;
	struct pattern_version_row v;
	struct job_run *jr = NULL;
	struct pattern *pat = NULL; /* a reference to the cached pattern */
	cJSON *steps = NULL;
	char msg[200];
	int64_t seq = 0;
	int rc;

	*out = NULL;
	memset(&v, 0, sizeof(v));
	memset(&x, 0, sizeof(x));
	rc = store_execution_get_full(db, j->tenant_id, NULL, j->ref, &x, e);
	if (rc == ERR_NOT_FOUND) {
		rc = queue_finish(db, j, 0, "the execution is gone", e);
		goto out;
	}
	if (rc)
		goto out;
	if (!strcmp(x.status, "succeeded") || !strcmp(x.status, "failed") ||
	    !strcmp(x.status, "cancelled") || !strcmp(x.status, "timed_out")) {
		rc = queue_finish(db, j, 1, NULL, e);
		goto out;
	}
	/* an approval's deadline: resume the execution only if it is still parked (a decision
	 * takes it out of waiting_approval the same way, so only one of them runs it) */
	if (j->payload && !strcmp(j->payload, JOB_APPROVAL_WAKE)) {
		int won = 0;
		if (!strcmp(x.status, "waiting_approval"))
			rc = store_execution_unpark(db, j->tenant_id, j->ref, &won, e);
		if (!rc && !won)
			rc = queue_finish(db, j, 1, NULL, e);
		if (rc || !won)
			goto out;
	}
	if (x.cancel_requested) {
		rc = settle_in(db, j, "cancelled", "cancelled before it ran", e);
		goto out;
	}
	if (j->attempts > j->max_attempts) {
		snprintf(msg, sizeof(msg), "gave up after %lld attempts: each time, the worker "
			 "running it stopped before it finished", (long long)j->max_attempts);
		rc = settle_in(db, j, "failed", msg, e);
		goto out;
	}
	if (x.deadline_at && now_ms() >= x.deadline_at) {
		rc = settle_in(db, j, "timed_out", "the execution ran out of time", e);
		goto out;
	}
	/* the version's text only when its parsed pattern is not cached; the checkpoints only
	 * when the execution ran before (a retry, or resumed after an approval) */
	if (!(pat = cache_find(w, x.pattern_id, x.version))) {
		rc = store_pattern_get(db, j->tenant_id, x.workspace_id, x.pattern_id, &p, e);
		if (!rc)
			rc = store_pattern_version_get(db, j->tenant_id, &p, x.version, &v, e);
	}
	if (!rc && x.started_at)
		rc = store_steps_json(db, j->tenant_id, j->ref, &steps, e);
	if (!rc && x.started_at)
		rc = store_events_last_seq(db, j->tenant_id, j->ref, &seq, e);
	int64_t timeout = x.timeout_ms > 0 ? x.timeout_ms : 300000;
	int64_t deadline = x.deadline_at ? x.deadline_at : now_ms() + timeout;
	if (!rc)
		rc = store_execution_running(db, j->tenant_id, j->ref, j->attempts, deadline, e);
	if (rc)
		goto out;

	jr = xcalloc(1, sizeof(*jr));
	jr->w = w;
	jr->job = *j;
	j->payload = NULL; /* moved */
	str_copy(jr->workspace_id, sizeof(jr->workspace_id), x.workspace_id);
	str_copy(jr->pattern_id, sizeof(jr->pattern_id), x.pattern_id);
	str_copy(jr->pattern_name, sizeof(jr->pattern_name), x.pattern_name);
	jr->version = x.version;
	jr->events = cJSON_CreateArray();
	jr->seq_base = seq;
	jr->seq_written = seq;
	jr->deadline = deadline;
	jr->input = x.input ? cJSON_Parse(x.input) : NULL;
	jr->resume = cJSON_GetArraySize(steps) ? resume_map(steps) : NULL;
	rc = agent_specs_load(db, j->tenant_id, x.workspace_id, &jr->agents, &jr->agent_count, e);
	jr->pattern = pat;
	pat = NULL; /* moved */
	if (!rc && !jr->pattern &&
	    !(jr->pattern = cache_get(w, x.pattern_id, x.version, v.definition, e)))
		rc = ERR_UNPROCESSABLE;
	if (rc == ERR_UNPROCESSABLE) { /* a broken version cannot run: fail it, not the batch */
		str_copy(msg, sizeof(msg), e->msg);
		rc = settle_in(db, &jr->job, "failed", msg, e);
		job_run_free(jr);
		jr = NULL;
	} else if (rc) {
		*j = jr->job; /* the caller still owns the job */
		jr->job.payload = NULL;
		job_run_free(jr);
		jr = NULL;
	}
	*out = jr;
out:
	if (pat)
		cache_put(w, pat);
	cJSON_Delete(steps);
	store_pattern_version_release(&v);
	execution_full_release(&x);
	return rc;
}

/* Start a prepared run on the engine's loops. */
static void job_launch(struct worker *w, struct job_run *jr)
{
	struct err e;
	int64_t left = jr->deadline - now_ms();
	struct run_request rq = {
		.execution_id = jr->job.ref, .pattern_id = jr->pattern_id,
		.pattern_name = jr->pattern_name, .version = jr->version, .pattern = jr->pattern,
		.input = jr->input, .agents = jr->agents, .agent_count = jr->agent_count,
		.timeout_ms = left > 0 ? left : 1, .resume = jr->resume, .seq_base = jr->seq_base,
		.runner = w->name,
		.hooks = { .ud = jr, .checkpoint = run_checkpoint_hook, .event = run_event_hook,
			   .done = run_done_hook, .load_pattern = run_load_pattern_hook },
	};
	jr->next = w->runs;
	w->runs = jr;
	pthread_mutex_lock(&w->mu);
	w->inflight++;
	pthread_mutex_unlock(&w->mu);
	w->claimed++;
	engine_run_start(w->en, &rq, &e);
	cJSON_Delete(jr->input);
	cJSON_Delete(jr->resume);
	jr->input = jr->resume = NULL;
}

/* Prepare claimed execution jobs in one transaction, else one at a time; launch them. */
static void jobs_start(struct worker *w, struct job *jobs, int n)
{
	struct job_run *ready[CLAIM_BATCH] = { 0 };
	struct db *db = NULL;
	struct err e;
	int rc = db_acquire(w->pool, 10000, &db, &e);
	int batch = n > 1 && !rc;
	if (batch && !(rc = db_begin(db, DB_TX_WRITE, &e))) {
		for (int i = 0; i < n && !rc; i++)
			rc = job_prepare(w, db, &jobs[i], &ready[i], &e);
		for (int i = 0; i < n && rc; i++) /* undone with the transaction */
			if (ready[i]) {
				jobs[i] = ready[i]->job;
				ready[i]->job.payload = NULL;
				job_run_free(ready[i]);
				ready[i] = NULL;
			}
		if (!rc && (rc = db_commit(db, &e)))
			for (int i = 0; i < n; i++)
				if (ready[i]) {
					jobs[i] = ready[i]->job;
					ready[i]->job.payload = NULL;
					job_run_free(ready[i]);
					ready[i] = NULL;
				}
		db_rollback(db);
	}
	if (!batch || rc) {
		for (int i = 0; i < n; i++) {
			ready[i] = NULL;
			if (!db && db_acquire(w->pool, 10000, &db, &e))
				continue;
			if (!(rc = db_begin(db, DB_TX_WRITE, &e)) &&
			    !(rc = job_prepare(w, db, &jobs[i], &ready[i], &e)))
				rc = db_commit(db, &e);
			db_rollback(db);
			if (rc) {
				log_kv(LOG_WARN, "worker", "cannot start", "execution", jobs[i].ref,
				       "error", e.msg, NULL);
				if (ready[i]) {
					job_run_free(ready[i]);
					ready[i] = NULL;
				}
			}
		}
	}
	for (int i = 0; i < n; i++)
		if (ready[i])
			job_launch(w, ready[i]);
	if (w->next_analyze && w->claimed >= w->next_analyze) { /* see queue_analyze */
		w->next_analyze = w->claimed < 65536 ? w->next_analyze * 16 : 0;
		if (db || !db_acquire(w->pool, 10000, &db, &e))
			if (queue_analyze(db, &e))
				log_kv(LOG_WARN, "worker", "cannot analyze the queue's tables",
				       "error", e.msg, NULL);
	}
	db_release(db);
}

/* One pending write under its job's fence: 0, ERR_CONFLICT (lost: nothing written), or an error. */
static int pending_write(struct db *db, struct pending *p, struct err *e)
{
	struct job_run *jr = p->jr;
	int rc = queue_check(db, &jr->job, e);
	if (rc)
		return rc;
	if (p->step) {
		rc = store_step_put_json(db, jr->job.tenant_id, jr->job.ref, p->step, e);
		if (!rc)
			rc = store_events_put(db, jr->job.tenant_id, jr->job.ref, p->events,
					      jr->seq_tx, e);
		const cJSON *last = cJSON_GetArrayItem(p->events, cJSON_GetArraySize(p->events) - 1);
		double seq = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(last, "seq"));
		if (!rc && last && seq > (double)jr->seq_tx)
			jr->seq_tx = (int64_t)seq;
		return rc;
	}
	const cJSON *o = p->outcome;
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(o, "result");
	const cJSON *conf = cJSON_GetObjectItemCaseSensitive(res, "confidence");
	const cJSON *er = cJSON_GetObjectItemCaseSensitive(o, "error");
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(o, "usage");
	const char *status = str_of(o, "status");
	char *rs = cJSON_IsNull(res) || !res ? NULL : cJSON_PrintUnformatted(res);
	char *es = cJSON_IsNull(er) || !er ? NULL : cJSON_PrintUnformatted(er);
	struct execution_end x = {
		.status = status ? status : "failed", .result = rs, .error = es,
		.confidence = cJSON_IsNumber(conf) ? conf->valuedouble : 0,
		.confidence_set = cJSON_IsNumber(conf),
		.tokens_in = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(u, "input_tokens")),
		.tokens_out = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(u, "output_tokens")),
	};
	/* the events the loop reported after the last checkpoint */
	rc = store_events_put(db, jr->job.tenant_id, jr->job.ref,
			      cJSON_GetObjectItemCaseSensitive(o, "events"), jr->seq_tx, e);
	if (!rc)
		rc = queue_finish(db, &jr->job, 1, NULL, e);
	/* parked on a timed approval: wake it at the deadline (or the execution's, if sooner) */
	const cJSON *due = cJSON_GetObjectItemCaseSensitive(o, "approval_due_at");
	if (!rc && cJSON_IsNumber(due) && !strcmp(x.status, "waiting_approval"))
		rc = store_execution_wake_at(db, jr->job.tenant_id, jr->job.ref,
					     (int64_t)due->valuedouble < jr->deadline
						     ? (int64_t)due->valuedouble : jr->deadline, e);
	if (!rc) /* last: it gives the concurrency unit back (a locked counter) */
		rc = store_execution_settle(db, jr->job.tenant_id, jr->job.ref, &x, e);
	free(rs);
	free(es);
	return rc;
}

static void run_lost(struct worker *w, struct job_run *jr)
{
	__atomic_store_n(&jr->lost, 1, __ATOMIC_RELEASE);
	engine_run_cancel(w->en, jr->job.ref, "the job was taken over by another worker");
}

/*
 * Write the pending checkpoints and ends, in order: all in one transaction,
 * or, should that fail, each in its own. Then retire the runs that ended.
 */
static void pendings_flush(struct worker *w, struct pending *list)
{
	struct db *db = NULL;
	struct err e;
	int rc = db_acquire(w->pool, 10000, &db, &e);
	int batch = !rc && list && list->next;
	for (struct pending *p = list; p; p = p->next)
		p->jr->seq_tx = p->jr->seq_written;
	if (batch && !(rc = db_begin(db, DB_TX_WRITE, &e))) {
		for (struct pending *p = list; p && !rc; p = p->next) {
			if (__atomic_load_n(&p->jr->lost, __ATOMIC_ACQUIRE))
				continue;
			rc = pending_write(db, p, &e);
			if (rc == ERR_CONFLICT) {
				run_lost(w, p->jr);
				rc = 0;
			}
		}
		if (!rc)
			rc = db_commit(db, &e);
		db_rollback(db);
	}
	for (struct pending *p = list; p; p = p->next) /* committed, or to write again */
		p->jr->seq_tx = p->jr->seq_written = batch && !rc ? p->jr->seq_tx : p->jr->seq_written;
	for (struct pending *p = list; p && (!batch || rc); p = p->next) {
		if (__atomic_load_n(&p->jr->lost, __ATOMIC_ACQUIRE) ||
		    (!db && db_acquire(w->pool, 10000, &db, &e)))
			continue;
		int one = db_begin(db, DB_TX_WRITE, &e);
		if (!one)
			one = pending_write(db, p, &e);
		if (!one)
			one = db_commit(db, &e);
		db_rollback(db);
		p->jr->seq_tx = p->jr->seq_written = one ? p->jr->seq_written : p->jr->seq_tx;
		if (one == ERR_CONFLICT)
			run_lost(w, p->jr);
		else if (one)
			log_kv(LOG_WARN, "worker", p->step ? "cannot checkpoint" : "cannot settle",
			       "execution", p->jr->job.ref, "error", e.msg, NULL);
	}
	db_release(db);
	while (list) {
		struct pending *next = list->next;
		if (!list->step) {
			struct job_run *jr = list->jr;
			for (struct job_run **pp = &w->runs; *pp; pp = &(*pp)->next)
				if (*pp == jr) {
					*pp = jr->next;
					break;
				}
			pthread_mutex_lock(&w->mu);
			w->inflight--;
			pthread_mutex_unlock(&w->mu);
			w->settled++;
			job_run_free(jr);
		}
		cJSON_Delete(list->step);
		cJSON_Delete(list->events);
		cJSON_Delete(list->outcome);
		free(list);
		list = next;
	}
}

/* ---- webhook deliveries -------------------------------------------------------------------- */

static void delivery_settle(struct worker *w, struct job *j, int rc, const char *error)
{
	struct db *db = NULL;
	struct err e;
	if (db_acquire(w->pool, 10000, &db, &e))
		return;
	if (!rc) {
		queue_finish(db, j, 1, NULL, &e);
	} else if (j->attempts >= j->max_attempts) {
		queue_finish(db, j, 0, error, &e);
	} else {
		/* 2^attempts s (capped at 10 min), +/- 20 % */
		int64_t back = (int64_t)1000 << (j->attempts < 10 ? j->attempts : 10);
		if (back > 600000)
			back = 600000;
		back = back * (80 + (int64_t)(mono_us() % 41)) / 100;
		queue_retry(db, j, now_ms() + back, error, &e);
	}
	db_release(db);
}

static void *deliver_main(void *arg)
{
	struct worker *w = arg;
	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (!w->deliver_head && !w->stop)
			pthread_cond_wait(&w->deliver_cv, &w->mu);
		struct delivery *d = w->deliver_head;
		if (d) {
			w->deliver_head = d->next;
			if (!w->deliver_head)
				w->deliver_tail = NULL;
		}
		int stop = w->stop;
		pthread_mutex_unlock(&w->mu);
		if (!d && stop)
			break;
		if (!d)
			continue;
		struct err e;
		err_clear(&e);
		int rc = stop ? ERR_UNAVAILABLE : webhook_deliver(w->en, w->pool, &d->job, &e);
		if (!stop) {
			if (rc)
				log_kv(LOG_INFO, "webhooks", "delivery failed", "execution", d->job.ref,
				       "error", e.msg, NULL);
			delivery_settle(w, &d->job, rc, e.msg);
		}
		job_release(&d->job);
		free(d);
		pthread_mutex_lock(&w->mu);
		w->delivering--;
		pthread_mutex_unlock(&w->mu);
	}
	return NULL;
}

static void delivery_push(struct worker *w, struct job *j)
{
	struct delivery *d = xcalloc(1, sizeof(*d));
	d->job = *j;
	j->payload = NULL; /* moved */
	pthread_mutex_lock(&w->mu);
	if (w->deliver_tail)
		w->deliver_tail->next = d;
	else
		w->deliver_head = d;
	w->deliver_tail = d;
	w->delivering++;
	pthread_cond_signal(&w->deliver_cv);
	pthread_mutex_unlock(&w->mu);
}

/* ---- schedules ------------------------------------------------------------------------------- */

/* Start the runs of due schedules; a compare-and-set on next_run_at and the idempotency key
 * "schedule:<id>:<tick>" make each tick run once, whichever instances tick. */
static void schedules_tick(struct worker *w)
{
	struct schedule_row due[32];
	struct db *db = NULL;
	struct err e;
	int n = 0, started = 0;
	int64_t now = now_ms();
	if (db_acquire(w->pool, 5000, &db, &e))
		return;
	if (db_begin(db, DB_TX_WRITE, &e) || store_schedules_due(db, now, due, 32, &n, &e)) {
		db_release(db);
		return;
	}
	for (int i = 0; i < n; i++) {
		struct schedule_row *s = &due[i];
		struct cron c;
		int won = 0;
		int64_t next = cron_parse(s->cron, &c, &e) ? 0 : cron_next(&c, now);
		if (store_schedule_advance(db, s, next > 0 ? next : 0, &won, &e) || !won)
			continue;
		char key[UUID_STR_LEN + 40], id[UUID_STR_LEN];
		int64_t version = 0;
		struct execution_full existing;
		snprintf(key, sizeof(key), "schedule:%s:%lld", s->id, (long long)s->next_run_at);
		if (db_query_int64(db, &e, &version, "SELECT latest_version FROM patterns WHERE id = ?",
				   "s", s->pattern_id))
			continue;
		struct execution_submit sub = {
			.tenant_id = s->tenant_id, .workspace_id = s->workspace_id,
			.pattern_id = s->pattern_id, .version = version, .input = s->input,
			.actor_type = "schedule", .actor_id = s->id, .idempotency_key = key,
			.request_hash = key, .max_attempts = 3,
		};
		memset(&existing, 0, sizeof(existing));
		int rc = store_execution_submit(db, &sub, &existing, id, &e);
		execution_full_release(&existing);
		if (rc && rc != ERR_CONFLICT)
			log_kv(LOG_WARN, "schedules", "a scheduled run was not started", "schedule",
			       s->id, "error", e.msg, NULL);
		else if (!rc)
			started++;
	}
	for (int i = 0; i < n; i++)
		schedule_row_release(&due[i]);
	if (db_commit(db, &e))
		started = 0;
	db_release(db);
	if (started)
		worker_wake(w);
}

/* Renew the leases of every run in flight; cancel the runs whose cancel was asked. */
static void leases_renew(struct worker *w)
{
	struct db *db = NULL;
	struct err e;
	if (!w->runs || db_acquire(w->pool, 10000, &db, &e))
		return;
	if (db_begin(db, DB_TX_WRITE, &e) == 0) {
		for (struct job_run *jr = w->runs; jr; jr = jr->next) {
			if (jr->lost)
				continue;
			int rc = queue_renew(db, &jr->job, w->cfg.lease_ms, &e);
			if (rc == ERR_CONFLICT) {
				jr->lost = 1;
				engine_run_cancel(w->en, jr->job.ref,
						  "the job was taken over by another worker");
			} else if (rc) {
				break;
			}
		}
		db_commit(db, &e);
	}
	db_release(db);
}

static void cancels_poll(struct worker *w)
{
	struct db *db = NULL;
	struct db_stmt *st = NULL;
	struct err e;
	if (!w->runs || db_acquire(w->pool, 10000, &db, &e))
		return;
	if (db_prepare_bindf(db, &e, &st,
			     "SELECT id FROM executions WHERE status = 'running' AND "
			     "cancel_requested = 1", "") == 0) {
		while (db_step(st, &e) == DB_ROW) {
			const char *id = db_column_text(st, 0);
			for (struct job_run *jr = w->runs; id && jr; jr = jr->next)
				if (!strcmp(jr->job.ref, id))
					engine_run_cancel(w->en, id, "cancelled on request");
		}
	}
	db_finalize(st);
	db_release(db);
}

static void claim_some(struct worker *w)
{
	struct job jobs[CLAIM_BATCH];
	struct db *db = NULL;
	struct err e;
	pthread_mutex_lock(&w->mu);
	int n = 0, room = w->cfg.max_inflight - w->inflight - w->delivering;
	pthread_mutex_unlock(&w->mu);
	if (room <= 0 || db_acquire(w->pool, 10000, &db, &e))
		return;
	if (room > CLAIM_BATCH)
		room = CLAIM_BATCH;
	int rc = db_begin(db, DB_TX_WRITE, &e);
	if (!rc)
		rc = queue_claim(db, w->name, w->cfg.lease_ms, room, jobs, &n, &e);
	if (!rc)
		rc = db_commit(db, &e);
	db_release(db);
	if (rc) {
		for (int i = 0; i < n; i++)
			job_release(&jobs[i]);
		return;
	}
	struct job execs[CLAIM_BATCH];
	int nexec = 0;
	for (int i = 0; i < n; i++) {
		if (!strcmp(jobs[i].kind, "execution")) {
			execs[nexec++] = jobs[i];
			continue;
		}
		if (!strcmp(jobs[i].kind, "webhook")) {
			delivery_push(w, &jobs[i]);
		} else {
			struct db *d2 = NULL;
			if (!db_acquire(w->pool, 10000, &d2, &e)) {
				queue_finish(d2, &jobs[i], 0, "no worker handles this kind of job", &e);
				db_release(d2);
			}
		}
		job_release(&jobs[i]);
	}
	if (nexec)
		jobs_start(w, execs, nexec);
	for (int i = 0; i < nexec; i++)
		job_release(&execs[i]);
	if (n == room) { /* more may be waiting */
		pthread_mutex_lock(&w->mu);
		w->woken = 1;
		pthread_mutex_unlock(&w->mu);
	}
}

static void *listen_main(void *arg)
{
	struct worker *w = arg;
	for (;;) {
		struct db *db = NULL;
		struct err e;
		pthread_mutex_lock(&w->mu);
		int stop = w->stop;
		pthread_mutex_unlock(&w->mu);
		if (stop)
			break;
		if (db_acquire(w->pool, 5000, &db, &e) || db_exec(db, "LISTEN parallax_jobs", &e)) {
			db_release(db);
			struct timespec ts = { 1, 0 };
			nanosleep(&ts, NULL);
			continue;
		}
		for (;;) {
			pthread_mutex_lock(&w->mu);
			stop = w->stop;
			pthread_mutex_unlock(&w->mu);
			if (stop)
				break;
			int got = db_wait_notify(db, 500, &e);
			if (got < 0)
				break;
			if (got)
				worker_wake(w);
		}
		db_exec(db, "UNLISTEN *", &e);
		db_release(db);
	}
	return NULL;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int64_t next_renew = mono_ms() + w->cfg.lease_ms / 3, next_cancel = mono_ms() + 500;
	int64_t next_tick = mono_ms() + 1000;
	for (;;) {
		pthread_mutex_lock(&w->mu);
		if (!w->pending_head && !w->woken && !w->stop) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			int64_t ns = ts.tv_nsec + w->cfg.poll_ms * 1000000;
			ts.tv_sec += ns / 1000000000;
			ts.tv_nsec = ns % 1000000000;
			pthread_cond_timedwait(&w->cv, &w->mu, &ts);
		}
		struct pending *done = w->pending_head;
		w->pending_head = w->pending_tail = NULL;
		w->woken = 0;
		int stop = w->stop, draining = w->draining, abandon = w->abandon, inflight = w->inflight;
		w->abandon = 0;
		pthread_mutex_unlock(&w->mu);
		if (abandon) /* out of grace: stop the runs, write nothing; leases expire */
			for (struct job_run *jr = w->runs; jr; jr = jr->next) {
				__atomic_store_n(&jr->lost, 1, __ATOMIC_RELEASE);
				engine_run_cancel(w->en, jr->job.ref, "the worker is stopping");
			}
		if (done)
			pendings_flush(w, done);
		if (stop && !inflight)
			break;
		if (stop)
			continue;
		int64_t now = mono_ms();
		if (now >= next_renew) {
			leases_renew(w);
			next_renew = now + w->cfg.lease_ms / 3;
		}
		if (now >= next_cancel) {
			cancels_poll(w);
			next_cancel = now + 500;
		}
		if (now >= next_tick && !draining) {
			schedules_tick(w);
			next_tick = now + 1000;
		}
		if (!draining)
			claim_some(w);
	}
	return NULL;
}

/* One claiming thread; the first lane also LISTENs (PostgreSQL) and wakes them all. */
static struct worker *lane_start(struct engine *en, struct db_pool *pool,
				 const struct worker_config *c, const char *name, int first,
				 struct err *e)
{
	struct worker *w = xcalloc(1, sizeof(*w));
	w->en = en;
	w->pool = pool;
	w->cfg = *c;
	w->next_analyze = 256;
	str_copy(w->name, sizeof(w->name), name);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	pthread_cond_init(&w->deliver_cv, NULL);
	if (pthread_create(&w->deliver_thread, NULL, deliver_main, w)) {
		pthread_cond_destroy(&w->deliver_cv);
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		free(w);
		err_set(e, ERR_INTERNAL, NULL, "cannot start the delivery thread");
		return NULL;
	}
	struct db *probe = NULL;
	struct err pe;
	if (first && db_acquire(pool, 5000, &probe, &pe) == 0) {
		w->listening = db_dialect(probe) == DB_POSTGRES;
		db_release(probe);
	}
	if (w->listening && pthread_create(&w->listen_thread, NULL, listen_main, w))
		w->listening = 0;
	if (pthread_create(&w->thread, NULL, worker_main, w)) {
		pthread_mutex_lock(&w->mu);
		w->stop = 1;
		pthread_cond_signal(&w->deliver_cv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->deliver_thread, NULL);
		if (w->listening)
			pthread_join(w->listen_thread, NULL);
		pthread_cond_destroy(&w->deliver_cv);
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		free(w);
		err_set(e, ERR_INTERNAL, NULL, "cannot start the worker thread");
		return NULL;
	}
	return w;
}

static void lane_stop(struct worker *w);

struct worker *worker_start(struct engine *en, struct db_pool *pool,
			    const struct worker_config *c, struct err *e)
{
	struct worker_config lc = *c;
	struct worker *first = NULL, **tail = &first;
	char name[96], id[UUID_STR_LEN];
	int lanes = c->lanes > 0 ? c->lanes : 1;
	if (lc.max_inflight <= 0)
		lc.max_inflight = 1000;
	lc.max_inflight = lc.max_inflight / lanes > 0 ? lc.max_inflight / lanes : 1;
	if (lc.lease_ms <= 0)
		lc.lease_ms = 30000;
	if (lc.poll_ms <= 0)
		lc.poll_ms = 250;
	uuid_v7(id);
	snprintf(name, sizeof(name), "%s/%s", c->name ? c->name : "worker", id);
	for (int i = 0; i < lanes; i++) {
		struct worker *w = lane_start(en, pool, &lc, name, i == 0, e);
		if (!w) {
			while (first) {
				struct worker *next = first->next_lane;
				lane_stop(first);
				first = next;
			}
			return NULL;
		}
		*tail = w;
		tail = &w->next_lane;
	}
	return first;
}

void worker_wake(struct worker *w)
{
	for (; w; w = w->next_lane) {
		pthread_mutex_lock(&w->mu);
		w->woken = 1;
		pthread_cond_signal(&w->cv);
		pthread_mutex_unlock(&w->mu);
	}
}

int worker_inflight(struct worker *w)
{
	int n = 0;
	for (; w; w = w->next_lane) {
		pthread_mutex_lock(&w->mu);
		n += w->inflight;
		pthread_mutex_unlock(&w->mu);
	}
	return n;
}

static int lane_busy(struct worker *w)
{
	pthread_mutex_lock(&w->mu);
	int busy = w->inflight > 0 || w->pending_head || w->delivering > 0;
	pthread_mutex_unlock(&w->mu);
	return busy;
}

void worker_stop(struct worker *w, int64_t grace_ms)
{
	/* stop claiming; let the runs in flight finish within the grace period */
	for (struct worker *l = w; l; l = l->next_lane) {
		pthread_mutex_lock(&l->mu);
		l->draining = 1;
		pthread_mutex_unlock(&l->mu);
	}
	int64_t until = mono_ms() + grace_ms;
	while (mono_ms() < until) {
		int busy = 0;
		for (struct worker *l = w; l && !busy; l = l->next_lane)
			busy = lane_busy(l);
		if (!busy)
			break;
		struct timespec ts = { 0, 20 * 1000000 };
		nanosleep(&ts, NULL);
	}
	while (w) {
		struct worker *next = w->next_lane;
		lane_stop(w);
		w = next;
	}
}

/* Runs still in flight are stopped without a write: their leases expire and
 * another worker resumes them from their checkpoints. */
static void lane_stop(struct worker *w)
{
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	w->abandon = w->inflight > 0;
	pthread_cond_signal(&w->cv);
	pthread_cond_signal(&w->deliver_cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_join(w->deliver_thread, NULL);
	if (w->listening)
		pthread_join(w->listen_thread, NULL);
	for (int i = 0; i < CACHE_SIZE; i++)
		if (!w->cache[i].refs)
			pattern_free(w->cache[i].p);
	pthread_cond_destroy(&w->deliver_cv);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
