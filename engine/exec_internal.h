/*
 * The executor's internals, shared by the files of engine/, engine/nodes and
 * engine/agents only. Ownership: a run owns its node_execs, a node_exec
 * owns its calls; everything of a run is touched on its loop thread only,
 * except struct agent_rt (engine-wide, under engine.agents_mu).
 */
#ifndef ENGINE_EXEC_INTERNAL_H
#define ENGINE_EXEC_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "engine/engine.h"

/* ---- loops (loop.c) --------------------------------------------------------- */

struct loop;

struct timer {
	int64_t due; /* mono_ms */
	void (*fn)(struct timer *t);
	size_t slot; /* heap index + 1; 0 when not armed */
};

/* One curl transfer on a loop; done() is called once, on the loop. */
struct transfer {
	CURL *easy;
	void (*done)(struct transfer *t, CURLcode rc);
};

struct loop *loop_new(struct engine *en, struct err *e);
void loop_free(struct loop *l);
/* Any thread: run fn(arg) on the loop soon. */
void loop_post(struct loop *l, void (*fn)(void *arg), void *arg);
/* Loop thread only. */
void loop_timer_arm(struct loop *l, struct timer *t, int64_t delay_ms);
void loop_timer_cancel(struct loop *l, struct timer *t);
void loop_transfer_add(struct loop *l, struct transfer *t);
/* Removes an unfinished transfer; done() will not be called. */
void loop_transfer_remove(struct loop *l, struct transfer *t);
struct engine *loop_engine(struct loop *l);

/* ---- completion webhooks (webhooks.c) ------------------------------------------------ */

struct job;
/* Deliver webhook job j now (blocking, at most 10 s): 0, or why it must be retried. */
int webhook_deliver(struct engine *en, struct db_pool *pool, const struct job *j, struct err *e);

/* ---- the engine ----------------------------------------------------------------- */

/* Runtime state of one agent (breaker, load), engine-wide. */
enum circuit { CIRCUIT_CLOSED = 0, CIRCUIT_OPEN, CIRCUIT_HALF_OPEN };

struct agent_call;

struct agent_rt {
	char id[UUID_STR_LEN];
	enum circuit circuit;
	int failures, successes;
	int trial;         /* half-open: a trial call is out */
	int64_t opened_at; /* wall ms */
	int inflight;
	double conf_sum;
	int64_t conf_n;
	uint64_t rr; /* round-robin cursor when this agent leads a selection */
	char last_error[200];
	int64_t last_ok_at, last_fail_at;
	struct agent_call *wait_head, *wait_tail; /* calls waiting for a slot */
	struct agent_stats *stats; /* recent calls and probes; NULL until the first (free()) */
	struct agent_rt *next;
};

/* ---- recent calls and probes of an agent (agent_stats.c), under engine.agents_mu ---- */

#define AGENT_SAMPLES 200 /* attempts behind the success rate and latency figures */
#define AGENT_RECENT 10   /* attempts kept in detail */
#define AGENT_PROBES 20

enum call_outcome { OUTCOME_SUCCEEDED = 0, OUTCOME_FAILED, OUTCOME_CIRCUIT_OPEN };

struct agent_sample {
	int64_t at; /* wall ms */
	int32_t latency_ms;
	uint8_t outcome; /* enum call_outcome */
};

struct agent_recent {
	struct agent_sample s;
	uint8_t test; /* a /test call, not an execution */
	char execution_id[UUID_STR_LEN];
	char node_id[65];
	char error[160];
};

struct agent_probe {
	int64_t at;
	int32_t latency_ms;
	uint8_t ok;
	char error[120];
};

/* Rings, newest at [head - 1]; flat, so a snapshot is a struct copy. */
struct agent_stats {
	struct agent_sample samples[AGENT_SAMPLES];
	struct agent_recent recent[AGENT_RECENT];
	struct agent_probe probes[AGENT_PROBES];
	unsigned samples_n, samples_head, recent_n, recent_head, probes_n, probes_head;
};

/* Record one finished attempt of c (or its fast failure on an open circuit). */
void agent_stats_call(struct agent_rt *rt, const struct agent_call *c, enum call_outcome o);
/* Record one health probe's answer ({ok, latency_ms, error}). */
void agent_stats_probe(struct agent_rt *rt, const cJSON *probe);
/* Outside the lock: o.calls {window, succeeded, failed, success_rate, latency_ms {p50, p95,
 * mean}, since}, o.recent_calls [newest first] and o.probes [newest first], from a snapshot
 * (NULL: nothing seen yet). */
void agent_stats_json(const struct agent_stats *s, cJSON *o);

#define AGENT_RT_BUCKETS 256

struct engine {
	struct engine_config cfg;
	struct jq_pool *jq;
	struct outbound_policy policy;
	struct loop **loops;
	int loop_count;
	unsigned next_loop;
	pthread_mutex_t agents_mu;
	struct agent_rt *agents[AGENT_RT_BUCKETS];
	uint64_t rr_counter;
	pthread_mutex_t runs_mu; /* top-level runs, for engine_run_cancel */
	struct run *runs;
	pthread_mutex_t ws_mu; /* the two lists below */
	struct ws_link *ws_links;
	struct ws_task *ws_tasks;
};

/* A connected ws agent and a task sent to one (agents/ws.c). */
struct ws_link {
	char agent_id[UUID_STR_LEN];
	void *conn;
	ws_send_fn send;
	int64_t last_seen; /* mono_ms */
	struct ws_link *next;
};

struct ws_task {
	char task_id[UUID_STR_LEN];
	char agent_id[UUID_STR_LEN];
	struct agent_call *call; /* valid while the task is listed (loop thread only) */
	struct loop *loop;
	struct ws_task *next;
};
/* ws state of agent id for health: connected, and ms since its last heartbeat (-1). */
int ws_link_state(struct engine *en, const char *agent_id, int64_t *since_ms);
void ws_links_free(struct engine *en);

/* The runtime state of agent id (created on first use); engine.agents_mu held. */
struct agent_rt *agent_rt_get(struct engine *en, const char *id);

/* ---- runs and nodes (exec.c) ------------------------------------------------------- */

enum node_status {
	NODE_PENDING = 0,
	NODE_RUNNING,
	NODE_WAITING, /* approval */
	NODE_DONE,
	NODE_SKIPPED,
	NODE_FAILED,
};

struct run;

struct node_exec {
	struct run *run;
	size_t index;
	const struct pattern_node *pn;
	const char *id;
	cJSON *inputs;   /* owned: the outputs of the live sources, in from order */
	struct agent_call **calls;
	size_t call_count, call_cap;
	void *priv;                  /* the node type's state */
	void (*priv_free)(void *p);
	struct timer timer;          /* the node type's own timer (approval in a sub-run) */
	cJSON *call_log;             /* owned: [{agent, attempt, status, latency_ms, error}] */
	struct run *child;           /* pattern/map: a running sub-run */
	int64_t started_at;
};

struct run {
	struct engine *en;
	struct loop *loop;
	const struct pattern *p;
	size_t count; /* p->count, kept: a sub-run may outlive a borrowed p */
	char execution_id[UUID_STR_LEN + 16];
	char pattern_id[UUID_STR_LEN];
	int64_t version;
	cJSON *ctx;   /* {input, nodes: {}, execution: {id, pattern, version}} */
	cJSON *nodes; /* borrowed: ctx.nodes */
	struct agent_spec *agents;
	size_t agent_count;
	enum node_status *status;
	const char **port;      /* the port each finished node sent its output to */
	struct node_exec **exec; /* running nodes */
	cJSON *steps, *events;
	int64_t seq;
	cJSON *resume;  /* owned copy of run_request.resume, or NULL */
	char runner[128];
	struct run *reg_next; /* the engine's list of top-level runs */
	int running, waiting, finished;
	const char *final_status;
	cJSON *result, *error;
	int64_t tokens_in, tokens_out;
	int64_t started_at, finished_at;
	int64_t timeout_ms;
	int64_t approval_due; /* the earliest deadline of a waiting approval (epoch ms), 0: none */
	struct timer deadline;
	struct run_hooks hooks;
	void (*done_fn)(void *ud, const cJSON *outcome);
	void *done_ud;
	/* sub-runs */
	struct run *parent;
	struct node_exec *parent_node;
	void (*child_done)(struct node_exec *x, struct run *child);
	void *child_tag;
	char chain[8][PATTERN_NAME_MAX + 1]; /* pattern names from the top run down */
	int depth;
	int owns_pattern;
	int advancing;
	int test; /* run_request.test (top-level runs) */
};

/* Node types call these exactly once per node (node_wait may precede one). */
void node_done(struct node_exec *x, cJSON *output, const char *port);
void node_fail(struct node_exec *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The node waits for a person (approval); due_at (epoch ms, 0: no limit) is checkpointed
 * as a "waiting" step {due_at} and the earliest becomes the outcome's approval_due_at. */
void node_wait(struct node_exec *x, int64_t due_at);
void run_event(struct run *r, const char *type, const char *node, cJSON *data);

/* A sub-run of pattern p (owned when owns is set) on x's loop; done(x, child) at its end,
 * then the child is freed by the caller with run_free(). */
struct run *run_child_start(struct node_exec *x, struct pattern *p, int owns, const char *name,
			    int64_t version, const char *pattern_id, const cJSON *input,
			    void (*done)(struct node_exec *x, struct run *child), void *tag,
			    struct err *e);
void run_free(struct run *r);
/* Cancel a sub-run (no done callback) and free it. */
void run_child_cancel(struct run *child);

/* ---- node helpers (node_util.c) ------------------------------------------------------- */

/* An option of the node (member of its definition), NULL if absent. */
const cJSON *node_opt(const struct node_exec *x, const char *key);
const char *node_opt_str(const struct node_exec *x, const char *key, const char *def);
double node_opt_num(const struct node_exec *x, const char *key, double def);
int64_t node_opt_int(const struct node_exec *x, const char *key, int64_t def);
/* The inputs as one flat list of results (borrowed items, owned array reference). */
cJSON *node_results(const struct node_exec *x);
/* The successful result of list with the highest confidence (no signal counts as 1.0),
 * ties to the first; NULL if none succeeded. */
const cJSON *results_best(const cJSON *list);
/* The single input result: the first input, or for a list its best successful result. */
const cJSON *node_input_result(const struct node_exec *x);
/* A result's confidence: CONF_NONE for no signal. */
double result_confidence(const cJSON *r);
int result_failed(const cJSON *r);
/* {value, confidence, ...}: a new result object (value is taken). */
cJSON *result_new(cJSON *value, double confidence);
/* The input confidence of docs/engine.md (no signal -> 1.0). */
double node_input_confidence(const struct node_exec *x);
/* Copy of the input value(s): one value, or the list of values. */
cJSON *node_input_value(const struct node_exec *x);
/* The input as a result (copy); its confidence replaced unless c is CONF_NONE. */
cJSON *node_passthrough(const struct node_exec *x, double c);
/* Option key (a jq expression) over the run's context; *out owned, NULL if the option is absent. */
int node_expr(struct node_exec *x, const char *key, cJSON **out, struct err *e);

/* ---- expressions (expr.c) ------------------------------------------------------------ */

/* The first output of src over root (owned; null when none). */
int expr_eval(struct engine *en, const char *src, const cJSON *root, cJSON **out,
	      struct err *e);
/* jq truthiness: not false and not null. */
int expr_truthy(const cJSON *v);
/* Canonical text of v for grouping (caller frees). */
char *json_canonical(const cJSON *v);

/* ---- agent calls (call.c, select.c, engine/agents) -------------------------------------- */

enum call_state {
	CALL_NEW = 0,
	CALL_QUEUED,  /* waiting for a concurrency slot */
	CALL_RUNNING,
	CALL_BACKOFF,
	CALL_DONE,
	CALL_CANCELLED,
};

struct agent_call {
	struct node_exec *x;
	size_t slot;                   /* the caller's index for it */
	const struct agent_spec *agent; /* borrowed from the run */
	char agent_id[UUID_STR_LEN];
	struct loop *loop;
	char *task;                    /* owned */
	cJSON *data;                   /* owned */
	int64_t timeout_ms;
	int attempt, max_retries;
	int64_t backoff_ms;
	enum call_state state;
	int holds_slot;
	int orphan;                    /* cancelled with its slot in the post: freed there */
	int trial;                     /* this attempt is the half-open trial */
	char ws_task[UUID_STR_LEN];    /* ws: the task id in flight, "" if none */
	struct timer timer;            /* delay (builtin), backoff */
	struct agent_call *wait_next;
	/* transport (http, openai) */
	struct transfer tr;
	struct outbound_target target;
	struct outbound_body body;
	struct curl_slist *headers;
	char *req_body;
	/* outcome of the last attempt */
	cJSON *value;
	double confidence;
	char *reasoning;
	char error[256];
	int failed;
	int64_t tokens_in, tokens_out;
	int64_t started_us, latency_ms;
	void (*done)(struct agent_call *c); /* the node's callback, once */
	void *tag;
};

/* A new call of agent a for node x (task copied, data taken). */
struct agent_call *call_new(struct node_exec *x, const struct agent_spec *a, const char *task,
			    cJSON *data, void (*done)(struct agent_call *c));
/* Start (breaker, concurrency cap, retries); done() comes later on the loop. */
void call_start(struct agent_call *c);
void call_cancel(struct agent_call *c);
void call_free(struct agent_call *c);
/* {agent, agent_id, value, confidence, expertise, reasoning, error, usage} (copies). */
cJSON *call_result(const struct agent_call *c);
/* Kind drivers: start the attempt; on its end call call_attempt_done(). */
void call_attempt_done(struct agent_call *c);
void agent_http_start(struct agent_call *c);
void agent_openai_start(struct agent_call *c);
void agent_builtin_start(struct agent_call *c);
void agent_ws_start(struct agent_call *c);
void agent_ws_cancel(struct agent_call *c);
/* End a failed attempt from the loop soon (never inside the caller). */
void call_fail_soon(struct agent_call *c);
/* Readers of a finished transfer's reply, per kind. */
void agent_http_reply(struct agent_call *c, CURLcode rc);
void agent_openai_reply(struct agent_call *c, CURLcode rc);
/* Set c's failure: error text, failed = 1. */
void call_set_error(struct agent_call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parse a reply object's value/confidence/reasoning/usage into c. */
void call_take_reply(struct agent_call *c, cJSON *reply);
/* h plus "Authorization: Bearer <token>" when token is a non-empty string. */
struct curl_slist *curl_bearer(struct curl_slist *h, const cJSON *token);
/* Common curl set-up of an agent POST (url checked, headers, body taken); 0 or failure set. */
int call_http_prepare(struct agent_call *c, const char *url, char *body,
		      struct curl_slist *extra_headers);
/* After the transfer: HTTP status and body checks; the parsed JSON object or NULL (error set). */
cJSON *call_http_reply(struct agent_call *c, CURLcode rc);

/*
 * Select the agents of a node's `select` option (or a cascade tier) from the
 * run's agents: *out (malloc) holds borrowed pointers in result order.
 */
int select_agents(struct run *r, const cJSON *select, const struct agent_spec ***out,
		  size_t *count, struct err *e);

/* ---- grouping results by a key (nodes/groups.c): consensus and vote ----------------- */

struct node_groups {
	cJSON *list;           /* owned: the input results, flattened */
	size_t n;
	struct conf_result *r; /* key: canonical text (owned), NULL for failed results */
	const cJSON **vals;    /* each result's value, borrowed from list */
};
/* Evaluate option "key" (default .value) over each result. */
int node_groups_init(struct node_exec *x, struct node_groups *g, struct err *e);
/* [{key, value, count, weight?}] in order of first appearance. */
cJSON *node_groups_votes(const struct node_groups *g, int with_weight, enum conf_weight w);
void node_groups_release(struct node_groups *g);

/* ---- shared parts of the agent-calling node types (nodes/calls.c) -------------------- */

/* The task (option "task", plus a critique) and the data (option "data" over the context,
 * default the input value) for calls of x. */
int node_call_data(struct node_exec *x, cJSON **data, struct err *e);
/* The agents of option "select" (*agents malloc'd) and, unless data is NULL, the data
 * for the calls; -1 after failing x. */
int node_call_setup(struct node_exec *x, const struct agent_spec ***agents, size_t *n,
		    cJSON **data);
/* A call of agent a for x (data taken), with the node's timeout_ms and retries;
 * kept in x->calls until the node ends. Not started. */
struct agent_call *node_call_add(struct node_exec *x, const struct agent_spec *a,
				 const char *task, cJSON *data, size_t slot,
				 void (*done)(struct agent_call *c));
/* Cancel every unfinished call of x; how many were stopped. */
int node_calls_cancel(struct node_exec *x);
/* Load, parse and validate pattern name for x (nodes/pattern.c): 0 with *p owned,
 * or -1 after failing x. */
int node_pattern_load(struct node_exec *x, const char *name, int64_t version,
		      struct pattern **p, char id[UUID_STR_LEN], int64_t *ver);
/* The run's agent with this id or name, NULL if none. */
const struct agent_spec *node_agent_find(const struct run *r, const char *id_or_name);

#endif
