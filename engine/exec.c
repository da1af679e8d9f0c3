/*
 * Runs: the state of one execution and the walk that advances it. A node
 * starts when every source has finished; it is skipped when none of its
 * sources sent output to the port its edge reads. Each finished node becomes
 * a step (hooks.checkpoint) and the run ends when nothing can move.
 */
#include <stdlib.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "engine/exec_internal.h"
#include "core/core.h"

#define RUN_TIMEOUT_DEFAULT_MS 300000

static void run_advance(struct run *r);
static void run_finish(struct run *r, const char *status, const char *node, const char *msg);
static void registry_remove(struct run *r);

static void add_time(cJSON *o, const char *key, int64_t ms)
{
	char s[40];
	if (!ms) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	time_iso(ms, s, sizeof(s));
	cJSON_AddStringToObject(o, key, s);
}

void run_event(struct run *r, const char *type, const char *node, cJSON *data)
{
	cJSON *ev = cJSON_CreateObject();
	cJSON_AddNumberToObject(ev, "seq", (double)++r->seq);
	cJSON_AddStringToObject(ev, "type", type);
	if (node)
		cJSON_AddStringToObject(ev, "node", node);
	cJSON_AddItemToObject(ev, "data", data ? data : cJSON_CreateObject());
	add_time(ev, "at", now_ms());
	cJSON_AddItemToArray(r->events, ev);
	if (r->hooks.event)
		r->hooks.event(r->hooks.ud, ev);
}

/* ---- node lifecycle --------------------------------------------------------------- */

static void node_exec_free(struct node_exec *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->call_count; i++)
		if (x->calls[i]) {
			call_cancel(x->calls[i]);
			call_free(x->calls[i]);
		}
	free(x->calls);
	if (x->child)
		run_child_cancel(x->child);
	loop_timer_cancel(x->run->loop, &x->timer);
	if (x->priv_free)
		x->priv_free(x->priv);
	cJSON_Delete(x->inputs);
	cJSON_Delete(x->call_log);
	free(x);
}

static void step_record(struct run *r, size_t i, const char *status, const cJSON *output,
			const char *error, struct node_exec *x)
{
	const struct pattern_node *pn = &r->p->nodes[i];
	cJSON *st = cJSON_CreateObject();
	cJSON_AddStringToObject(st, "node_id", pn->id);
	cJSON_AddStringToObject(st, "type", pn->type->name);
	cJSON_AddStringToObject(st, "status", status);
	if (r->port[i] && strcmp(r->port[i], "out"))
		cJSON_AddStringToObject(st, "port", r->port[i]);
	cJSON_AddItemToObject(st, "output", output ? cJSON_Duplicate(output, 1) : cJSON_CreateNull());
	double c = output && cJSON_IsObject(output) ? result_confidence(output) : CONF_NONE;
	if (c != CONF_NONE)
		cJSON_AddNumberToObject(st, "confidence", c);
	else
		cJSON_AddNullToObject(st, "confidence");
	if (error)
		cJSON_AddStringToObject(st, "error", error);
	else
		cJSON_AddNullToObject(st, "error");
	if (x && x->call_log && cJSON_GetArraySize(x->call_log) > 0) {
		cJSON_AddItemToObject(st, "calls", x->call_log);
		x->call_log = NULL;
	}
	add_time(st, "started_at", x ? x->started_at : 0);
	add_time(st, "finished_at", now_ms());
	cJSON_AddItemToArray(r->steps, st);
	if (r->hooks.checkpoint)
		r->hooks.checkpoint(r->hooks.ud, st);
}

/* What a live view shows of a node that ended (the builder's canvas): how long it ran, its
 * confidence when its output is a result that carries one (an agent node's list of results:
 * each one's), and the port it took. */
static cJSON *node_outcome(const struct node_exec *x, const cJSON *output, const char *port)
{
	cJSON *d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "duration_ms", (double)(now_ms() - x->started_at));
	double c = output && cJSON_IsObject(output) ? result_confidence(output) : CONF_NONE;
	if (c != CONF_NONE)
		cJSON_AddNumberToObject(d, "confidence", c);
	if (cJSON_IsArray(output)) {
		cJSON *all = cJSON_AddArrayToObject(d, "confidences");
		const cJSON *it;
		cJSON_ArrayForEach(it, output) {
			double ic = cJSON_IsObject(it) ? result_confidence(it) : CONF_NONE;
			if (ic != CONF_NONE)
				cJSON_AddItemToArray(all, cJSON_CreateNumber(ic));
		}
	}
	if (port && strcmp(port, "out"))
		cJSON_AddStringToObject(d, "port", port);
	return d;
}

static struct node_exec *node_take(struct node_exec *x)
{
	struct run *r = x->run;
	r->exec[x->index] = NULL;
	return x;
}

void node_done(struct node_exec *x, cJSON *output, const char *port)
{
	struct run *r = x->run;
	size_t i = x->index;
	if (r->finished || r->exec[i] != x) {
		cJSON_Delete(output);
		return;
	}
	if (!output)
		output = cJSON_CreateNull();
	if (r->status[i] == NODE_WAITING)
		r->waiting--;
	r->status[i] = NODE_DONE;
	/* edges hold the type's own port strings: keep the same pointers */
	r->port[i] = r->p->nodes[i].type->ports[0];
	for (const char *const *p = r->p->nodes[i].type->ports; *p; p++)
		if (port && !strcmp(*p, port))
			r->port[i] = *p;
	cJSON_AddItemToObject(r->nodes, x->id, output);
	step_record(r, i, "succeeded", output, NULL, x);
	run_event(r, "node_finished", x->id, node_outcome(x, output, r->port[i]));
	node_exec_free(node_take(x));
	run_advance(r);
}

void node_fail(struct node_exec *x, const char *fmt, ...)
{
	struct run *r = x->run;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r->finished || r->exec[x->index] != x)
		return;
	if (r->status[x->index] == NODE_WAITING)
		r->waiting--;
	r->status[x->index] = NODE_FAILED;
	step_record(r, x->index, "failed", NULL, msg, x);
	cJSON *d = node_outcome(x, NULL, NULL);
	cJSON_AddStringToObject(d, "error", msg);
	run_event(r, "node_failed", x->id, d);
	char id[PATTERN_ID_MAX + 1];
	str_copy(id, sizeof(id), x->id);
	node_exec_free(node_take(x));
	run_finish(r, "failed", id, msg);
}

void node_wait(struct node_exec *x, int64_t due_at)
{
	struct run *r = x->run;
	if (r->status[x->index] != NODE_RUNNING)
		return;
	r->status[x->index] = NODE_WAITING;
	r->waiting++;
	run_event(r, "waiting_approval", x->id, NULL);
	if (due_at <= 0)
		return;
	if (!r->approval_due || due_at < r->approval_due)
		r->approval_due = due_at;
	/* checkpointed, so a resumed run keeps the deadline (run_request.resume) */
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "due_at", (double)due_at);
	step_record(r, x->index, "waiting", o, NULL, x);
	cJSON_Delete(o);
}

static void node_start(struct run *r, size_t i)
{
	const struct pattern_node *pn = &r->p->nodes[i];
	struct node_exec *x = xcalloc(1, sizeof(*x));
	x->run = r;
	x->index = i;
	x->pn = pn;
	x->id = pn->id;
	x->started_at = now_ms();
	x->inputs = cJSON_CreateArray();
	x->call_log = cJSON_CreateArray();
	for (size_t k = 0; k < pn->from_count; k++) {
		size_t s = pn->from[k].node;
		if (r->status[s] != NODE_DONE || r->port[s] != pn->from[k].port)
			continue;
		const cJSON *out = cJSON_GetObjectItemCaseSensitive(r->nodes, r->p->nodes[s].id);
		if (out)
			cJSON_AddItemReferenceToArray(x->inputs, (cJSON *)out);
	}
	r->status[i] = NODE_RUNNING;
	r->exec[i] = x;
	run_event(r, "node_started", x->id, NULL);
	if (!pn->type->execute) {
		node_fail(x, "node type '%s' cannot run", pn->type->name);
		return;
	}
	pn->type->execute(x);
}

static void node_skip(struct run *r, size_t i)
{
	r->status[i] = NODE_SKIPPED;
	step_record(r, i, "skipped", NULL, NULL, NULL);
	run_event(r, "node_skipped", r->p->nodes[i].id, NULL);
}

/* ---- the walk -------------------------------------------------------------------------- */

/* 1: every source finished; *live: some source sent output to the port read. */
static int sources_finished(const struct run *r, size_t i, int *live)
{
	const struct pattern_node *pn = &r->p->nodes[i];
	*live = 0;
	for (size_t k = 0; k < pn->from_count; k++) {
		size_t s = pn->from[k].node;
		if (r->status[s] == NODE_DONE) {
			if (r->port[s] == pn->from[k].port)
				*live = 1;
		} else if (r->status[s] != NODE_SKIPPED && r->status[s] != NODE_FAILED) {
			return 0;
		}
	}
	return 1;
}

static void run_settle(struct run *r)
{
	int active = 0, timed_wait = 0; /* timed waits in memory: sub-runs only (approval.c) */
	for (size_t i = 0; i < r->p->count; i++) {
		if (r->status[i] == NODE_RUNNING)
			active = 1;
		if (r->status[i] == NODE_WAITING && r->exec[i] && r->exec[i]->timer.slot)
			timed_wait = 1;
	}
	if (active || timed_wait)
		return;
	if (r->waiting) {
		run_finish(r, "waiting_approval", NULL, NULL);
		return;
	}
	for (size_t i = 0; i < r->p->count; i++) {
		const struct pattern_node *pn = &r->p->nodes[i];
		if (strcmp(pn->type->name, "output"))
			continue;
		const cJSON *out = cJSON_GetObjectItemCaseSensitive(r->nodes, pn->id);
		if (r->status[i] == NODE_DONE && out) {
			r->result = cJSON_Duplicate(out, 1);
			run_finish(r, "succeeded", NULL, NULL);
			return;
		}
	}
	run_finish(r, "failed", NULL, "no output node ran: every branch leading to it was skipped");
}

static void run_advance(struct run *r)
{
	int progress;
	if (r->advancing || r->finished)
		return;
	r->advancing = 1;
	do {
		progress = 0;
		for (size_t i = 0; i < r->p->count && !r->finished; i++) {
			int live;
			if (r->status[i] != NODE_PENDING || !sources_finished(r, i, &live))
				continue;
			progress = 1;
			if (r->p->nodes[i].from_count && !live)
				node_skip(r, i);
			else
				node_start(r, i);
		}
	} while (progress && !r->finished);
	r->advancing = 0;
	if (!r->finished)
		run_settle(r);
}

/* ---- the end -------------------------------------------------------------------------- */

/* The outcome takes the run's result, error, steps and events (r is freed next). */
static cJSON *run_outcome(struct run *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "status", r->final_status);
	cJSON_AddItemToObject(o, "result", r->result ? r->result : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "error", r->error ? r->error : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "steps", r->steps);
	cJSON_AddItemToObject(o, "events", r->events);
	r->result = r->error = r->steps = r->events = NULL;
	cJSON *u = cJSON_AddObjectToObject(o, "usage");
	cJSON_AddNumberToObject(u, "input_tokens", (double)r->tokens_in);
	cJSON_AddNumberToObject(u, "output_tokens", (double)r->tokens_out);
	add_time(o, "started_at", r->started_at);
	add_time(o, "finished_at", r->finished_at);
	if (r->approval_due && !strcmp(r->final_status, "waiting_approval"))
		cJSON_AddNumberToObject(o, "approval_due_at", (double)r->approval_due);
	return o;
}

static void run_finalize(void *arg)
{
	struct run *r = arg;
	if (r->parent) {
		struct node_exec *px = r->parent_node;
		if (!px) { /* the parent node was cancelled meanwhile */
			run_free(r);
			return;
		}
		px->child = NULL;
		r->child_done(px, r); /* frees r */
		return;
	}
	registry_remove(r);
	if (r->done_fn) {
		cJSON *o = run_outcome(r);
		r->done_fn(r->done_ud, o);
		cJSON_Delete(o);
	}
	run_free(r);
}

static void run_finish(struct run *r, const char *status, const char *node, const char *msg)
{
	if (r->finished)
		return;
	r->finished = 1;
	r->final_status = status;
	r->finished_at = now_ms();
	loop_timer_cancel(r->loop, &r->deadline);
	if (msg) {
		r->error = cJSON_CreateObject();
		if (node)
			cJSON_AddStringToObject(r->error, "node", node);
		else
			cJSON_AddNullToObject(r->error, "node");
		cJSON_AddStringToObject(r->error, "message", msg);
	}
	for (size_t i = 0; i < r->p->count; i++)
		if (r->exec[i]) {
			struct node_exec *x = node_take(r->exec[i]);
			if (strcmp(status, "waiting_approval"))
				step_record(r, i, strcmp(status, "timed_out") ? "cancelled" : "timed_out",
					    NULL, msg, x);
			node_exec_free(x);
		}
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "status", status);
	run_event(r, "execution_finished", NULL, d);
	/* The caller's stack may still hold r: hand it over from the loop. */
	loop_post(r->loop, run_finalize, r);
}

static void run_deadline(struct timer *t)
{
	struct run *r = (struct run *)((char *)t - offsetof(struct run, deadline));
	run_finish(r, "timed_out", NULL, "the execution ran out of time");
}

void run_free(struct run *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->count; i++)
		node_exec_free(r->exec ? r->exec[i] : NULL);
	loop_timer_cancel(r->loop, &r->deadline);
	if (!r->parent) {
		for (size_t i = 0; i < r->agent_count; i++)
			agent_spec_release(&r->agents[i]);
		free(r->agents);
	}
	if (r->owns_pattern)
		pattern_free((struct pattern *)r->p);
	cJSON_Delete(r->ctx);
	cJSON_Delete(r->resume);
	cJSON_Delete(r->steps);
	cJSON_Delete(r->events);
	cJSON_Delete(r->result);
	cJSON_Delete(r->error);
	free(r->status);
	free(r->port);
	free(r->exec);
	free(r);
}

/* ---- creation ------------------------------------------------------------------------- */

static struct run *run_alloc(struct engine *en, struct loop *l, const struct pattern *p,
			     const char *execution_id, const char *pattern_id, const char *name,
			     int64_t version, const cJSON *input)
{
	struct run *r = xcalloc(1, sizeof(*r));
	r->en = en;
	r->loop = l;
	r->p = p;
	r->count = p->count;
	str_copy(r->execution_id, sizeof(r->execution_id), execution_id);
	str_copy(r->pattern_id, sizeof(r->pattern_id), pattern_id ? pattern_id : "");
	r->version = version;
	r->status = xcalloc(p->count, sizeof(*r->status));
	r->port = xcalloc(p->count, sizeof(*r->port));
	r->exec = xcalloc(p->count, sizeof(*r->exec));
	r->steps = cJSON_CreateArray();
	r->events = cJSON_CreateArray();
	r->ctx = cJSON_CreateObject();
	cJSON_AddItemToObject(r->ctx, "input", input ? cJSON_Duplicate(input, 1) : cJSON_CreateNull());
	r->nodes = cJSON_AddObjectToObject(r->ctx, "nodes");
	cJSON *ex = cJSON_AddObjectToObject(r->ctx, "execution");
	cJSON_AddStringToObject(ex, "id", execution_id);
	cJSON_AddStringToObject(ex, "pattern", name ? name : p->name);
	cJSON_AddNumberToObject(ex, "version", (double)version);
	r->deadline.fn = run_deadline;
	r->started_at = now_ms();
	return r;
}

/* Nodes a previous attempt finished come back as they were, without running. */
static void run_restore(struct run *r)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, r->resume) {
		size_t i = pattern_find(r->p, it->string);
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(it, "status");
		if (i == SIZE_MAX || !cJSON_IsString(st))
			continue;
		if (!strcmp(st->valuestring, "skipped")) {
			r->status[i] = NODE_SKIPPED;
			continue;
		}
		if (strcmp(st->valuestring, "succeeded"))
			continue;
		const cJSON *out = cJSON_GetObjectItemCaseSensitive(it, "output");
		const cJSON *port = cJSON_GetObjectItemCaseSensitive(it, "port");
		const struct node_type *t = r->p->nodes[i].type;
		r->status[i] = NODE_DONE;
		r->port[i] = t->ports[0];
		for (const char *const *q = t->ports; *q; q++)
			if (cJSON_IsString(port) && !strcmp(*q, port->valuestring))
				r->port[i] = *q;
		cJSON_AddItemToObject(r->nodes, r->p->nodes[i].id,
				      out ? cJSON_Duplicate(out, 1) : cJSON_CreateNull());
	}
}

static void run_begin(void *arg)
{
	struct run *r = arg;
	cJSON *d = NULL;
	if (r->runner[0]) {
		d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "worker", r->runner);
	}
	if (r->resume) {
		run_restore(r);
		run_event(r, "execution_resumed", NULL, d);
	} else {
		run_event(r, "execution_started", NULL, d);
	}
	if (!r->parent)
		loop_timer_arm(r->loop, &r->deadline, r->timeout_ms);
	run_advance(r);
}

/* ---- the registry of top-level runs (engine_run_cancel) ------------------------------- */

static void registry_add(struct run *r)
{
	pthread_mutex_lock(&r->en->runs_mu);
	r->reg_next = r->en->runs;
	r->en->runs = r;
	pthread_mutex_unlock(&r->en->runs_mu);
}

static void registry_remove(struct run *r)
{
	pthread_mutex_lock(&r->en->runs_mu);
	for (struct run **pp = &r->en->runs; *pp; pp = &(*pp)->reg_next)
		if (*pp == r) {
			*pp = r->reg_next;
			break;
		}
	pthread_mutex_unlock(&r->en->runs_mu);
}

struct cancel_req {
	struct engine *en;
	char execution_id[UUID_STR_LEN + 16];
	char reason[200];
};

static void cancel_posted(void *arg)
{
	struct cancel_req *c = arg;
	struct run *r = NULL;
	pthread_mutex_lock(&c->en->runs_mu);
	for (struct run *x = c->en->runs; x; x = x->reg_next)
		if (!strcmp(x->execution_id, c->execution_id) && !x->finished)
			r = x;
	pthread_mutex_unlock(&c->en->runs_mu);
	if (r) /* on r's loop: nothing else touches it now */
		run_finish(r, "cancelled", NULL, c->reason);
	free(c);
}

int engine_run_cancel(struct engine *en, const char *execution_id, const char *reason)
{
	struct loop *l = NULL;
	pthread_mutex_lock(&en->runs_mu);
	for (struct run *x = en->runs; x; x = x->reg_next)
		if (!strcmp(x->execution_id, execution_id))
			l = x->loop;
	pthread_mutex_unlock(&en->runs_mu);
	if (!l)
		return 0;
	struct cancel_req *c = xcalloc(1, sizeof(*c));
	c->en = en;
	str_copy(c->execution_id, sizeof(c->execution_id), execution_id);
	str_copy(c->reason, sizeof(c->reason), reason ? reason : "cancelled");
	loop_post(l, cancel_posted, c);
	return 1;
}

struct run *run_child_start(struct node_exec *x, struct pattern *p, int owns, const char *name,
			    int64_t version, const char *pattern_id, const cJSON *input,
			    void (*done)(struct node_exec *x, struct run *child), void *tag,
			    struct err *e)
{
	struct run *pr = x->run;
	for (int d = 0; d <= pr->depth; d++)
		if (!strcmp(pr->chain[d], name)) {
			if (owns)
				pattern_free(p);
			err_setc(e, ERR_UNPROCESSABLE, "recursion", NULL,
				"pattern '%s' calls itself (through %s): recursion is refused", name,
				pr->chain[0]);
			return NULL;
		}
	if (pr->depth + 1 >= (int)ARRAY_SIZE(pr->chain)) {
		if (owns)
			pattern_free(p);
		err_setc(e, ERR_UNPROCESSABLE, "too_deep", NULL, "patterns nest more than %d deep",
			(int)ARRAY_SIZE(pr->chain));
		return NULL;
	}
	struct run *r = run_alloc(pr->en, pr->loop, p, pr->execution_id, pattern_id, name, version,
				  input);
	r->owns_pattern = owns;
	r->parent = pr;
	r->parent_node = x;
	r->child_done = done;
	r->child_tag = tag;
	r->agents = pr->agents;
	r->agent_count = pr->agent_count;
	r->hooks.load_pattern = pr->hooks.load_pattern;
	r->hooks.ud = pr->hooks.ud;
	r->depth = pr->depth + 1;
	memcpy(r->chain, pr->chain, sizeof(r->chain));
	str_copy(r->chain[r->depth], sizeof(r->chain[0]), name);
	x->child = r;
	run_begin(r);
	return r;
}

void run_child_cancel(struct run *child)
{
	if (child->finished) { /* run_finalize is on its way: it frees */
		child->parent_node = NULL;
		return;
	}
	child->finished = 1;
	run_free(child);
}

static int run_start(struct engine *en, const struct run_request *rq,
		     void (*done)(void *ud, const cJSON *outcome), void *done_ud, struct err *e)
{
	if (!rq->pattern || !rq->execution_id)
		return err_set(e, ERR_INVALID, NULL, "a run needs a pattern and an execution id");
	struct loop *l = en->loops[__atomic_fetch_add(&en->next_loop, 1, __ATOMIC_RELAXED) %
				   (unsigned)en->loop_count];
	struct run *r = run_alloc(en, l, rq->pattern, rq->execution_id, rq->pattern_id,
				  rq->pattern_name, rq->version, rq->input);
	r->timeout_ms = rq->timeout_ms > 0 ? rq->timeout_ms : RUN_TIMEOUT_DEFAULT_MS;
	r->hooks = rq->hooks;
	r->done_fn = done;
	r->done_ud = done_ud;
	r->agents = xcalloc(rq->agent_count + 1, sizeof(*r->agents));
	r->agent_count = rq->agent_count;
	for (size_t i = 0; i < rq->agent_count; i++)
		agent_spec_copy(&r->agents[i], &rq->agents[i]);
	str_copy(r->chain[0], sizeof(r->chain[0]), rq->pattern_name ? rq->pattern_name
								     : rq->pattern->name);
	r->resume = rq->resume ? cJSON_Duplicate(rq->resume, 1) : NULL;
	str_copy(r->runner, sizeof(r->runner), rq->runner ? rq->runner : "");
	r->seq = rq->seq_base > 0 ? rq->seq_base : 0;
	r->test = rq->test;
	registry_add(r);
	loop_post(l, run_begin, r);
	return 0;
}

int engine_run_start(struct engine *en, const struct run_request *rq, struct err *e)
{
	return run_start(en, rq, rq->hooks.done, rq->hooks.ud, e);
}

/* ---- waiting for a run ----------------------------------------------------------------- */

struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	cJSON *outcome;
	int done;
};

static void waiter_done(void *ud, const cJSON *outcome)
{
	struct waiter *w = ud;
	pthread_mutex_lock(&w->mu);
	w->outcome = cJSON_Duplicate(outcome, 1);
	w->done = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

int engine_run_wait(struct engine *en, const struct run_request *rq, cJSON **out,
		    struct err *e)
{
	struct waiter w = { .outcome = NULL, .done = 0 };
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	*out = NULL;
	int ret = run_start(en, rq, waiter_done, &w, e);
	if (ret == 0) {
		pthread_mutex_lock(&w.mu);
		while (!w.done)
			pthread_cond_wait(&w.cv, &w.mu);
		pthread_mutex_unlock(&w.mu);
		*out = w.outcome;
	}
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.mu);
	return ret;
}

int engine_input_check(const struct pattern *p, const cJSON *input, struct problems *pr,
		       struct err *e)
{
	return engine_input_check_schema(p->input_schema, input, pr, e);
}

int engine_input_check_schema(const cJSON *schema, const cJSON *input, struct problems *pr,
			      struct err *e)
{
	if (!schema)
		return 0;
	pattern_schema_check(schema, input, NULL, "input", pr);
	if (!pr->count)
		return 0;
	return err_setc(e, ERR_UNPROCESSABLE, "invalid_input", pr->items[0].path,
			"the input does not match the pattern's input schema: %s",
			pr->items[0].message);
}
