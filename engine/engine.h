/*
 * The engine: the pattern document, node types, the confidence algebra,
 * agents and the executor (SPEC.md §3, §4).
 *
 * DESIGN
 * - A pattern version's definition is canonical JSON, kept byte-exact in
 *   the database. pattern_parse() turns it into a struct pattern (nodes,
 *   edges, compiled expressions) once per version; the executor only reads
 *   that struct, so it can be shared by every execution of the version.
 * - Validation returns every problem at once, each with the node id and
 *   the field path ("nodes[2].select.min"), so the builder can pin it.
 * - Node types are modules (engine/nodes/<type>.c) registered in one table:
 *   each has a description, a JSON-Schema-subset for its options (served to
 *   the builder), its output ports, a validate hook and (later) execute.
 * - Confidence values are doubles clamped to [0, 1]; NaN and infinities from
 *   agents count as "no signal" (confidence.c).
 * - engine/ never includes api/ or web/ (data flows one way).
 */
#ifndef ENGINE_ENGINE_H
#define ENGINE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/util.h"

/* ---- validation problems ----------------------------------------------------- */

struct problem {
	char node_id[64]; /* "" for document-level problems */
	char path[128];   /* "nodes[2].select.min", "input.properties.code" */
	char code[40];    /* "unknown_type", "cycle", "dangling_edge", ... */
	char message[256];
};

struct problems {
	struct problem *items;
	size_t count, cap;
};

void problems_init(struct problems *p);
void problems_release(struct problems *p);
void problems_add(struct problems *p, const char *node_id, const char *path, const char *code,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* [{node_id, path, code, message}, ...] */
cJSON *problems_json(const struct problems *p);

/* ---- confidence algebra (confidence.c) ------------------------------------------ */

/* NaN, infinities and absent values are "no signal": CONF_NONE. */
#define CONF_NONE (-1.0)

enum band { BAND_LOW = 0, BAND_MEDIUM, BAND_HIGH };

double conf_clamp(double c);                 /* to [0, 1]; non-finite -> CONF_NONE */
/* A number stated in JSON (by an agent or an expression) as a confidence: non-finite ->
 * CONF_NONE, anything else clamped (so -1 is 0, never the CONF_NONE marker). */
double conf_from_value(double v);
double conf_of_plain(void);                  /* a plain value counts as 1.0 */
double conf_and(const double *c, size_t n);  /* min; empty -> CONF_NONE */
double conf_or(const double *c, size_t n);   /* max */
size_t conf_best(const double *c, size_t n); /* index of the max, ties to the first */
/* first index with c >= t (default 0.5), else the last; n must be > 0 */
size_t conf_coalesce(const double *c, size_t n, double t);
double conf_gate(double c, double threshold); /* below threshold -> 0 */
enum band conf_band(double c, double high, double medium); /* inclusive: >= high, >= medium */
/* The last "CONFIDENCE: x" marker in text (ANSI escapes stripped); CONF_NONE if none. */
double conf_from_text(const char *text, size_t len);

/* Defaults for the thresholds above (SPEC §3). */
#define CONF_HIGH_DEFAULT     0.8
#define CONF_MEDIUM_DEFAULT   0.5
#define CONF_COALESCE_DEFAULT 0.5
/* "No index": conf_best/conf_coalesce with n == 0, an aggregate with no winner. */
#define CONF_NO_INDEX ((size_t)-1)

/*
 * Aggregates over agent results. Every function is pure: it reads the
 * caller's array (borrowed, never kept) and fills a caller-owned struct.
 * Each confidence goes through conf_clamp() first: NaN/Inf is "no signal"
 * (skipped in means and mins, weight 0), -0.1 becomes 0 and 1.7 becomes 1.
 * A caller maps a plain value (no stated confidence) to conf_of_plain().
 * A failed result has no answer: it never joins a group, and counts as
 * confidence 0 only where SPEC says "over all results".
 * Grouping compares keys (e.g. the canonical JSON of a key expression) with
 * exact byte equality; it is O(n * groups) and allocates nothing.
 */
struct conf_result {
	double confidence; /* as reported; CONF_NONE = no signal */
	double expertise;  /* weight >= 0; negative or non-finite counts as 0 */
	int failed;        /* nonzero: the agent failed (no value, no key) */
	const char *key;   /* grouping key; NULL = no answer (not counted) */
};

/* True plurality (the "vote" node and multi-model-voting). */
struct conf_vote {
	size_t winner;       /* index of the winning group's first result; CONF_NO_INDEX if none */
	size_t winner_count; /* results in the winning group */
	size_t counted;      /* results with an answer (not failed, key != NULL) */
	size_t groups;       /* distinct keys among them */
	int tied;            /* another group is as large; the first to appear won */
	int unanimous;       /* counted > 0 and one group */
	int majority;        /* winner_count > counted / 2 (strictly more than half) */
	double agreement;    /* winner_count / counted; 0 when nothing was counted */
	double mean;         /* mean confidence of the winning group (signals only), or CONF_NONE */
	double mean_counted; /* mean confidence over every counted result, or CONF_NONE */
	double confidence;   /* agreement * mean, or CONF_NONE when mean is */
};
void conf_vote(const struct conf_result *r, size_t n, struct conf_vote *out);

enum conf_weight {
	CONF_WEIGHT_CONFIDENCE = 0, /* weight = confidence */
	CONF_WEIGHT_EXPERTISE,      /* weight = confidence * expertise */
};

#define CONF_CONSENSUS_MEAN      0.7
#define CONF_CONSENSUS_AGREEMENT 0.5

/* Weighted consensus (the "consensus" node). The winner is the heaviest group
 * (equal within 1e-9 relative counts as a tie, won by the first to appear). */
struct conf_consensus {
	size_t winner;        /* index of the winning group's first result; CONF_NO_INDEX if none */
	size_t winner_count;  /* results in the winning group */
	size_t counted;       /* results with an answer */
	size_t groups;        /* distinct keys */
	int tied;             /* another group weighs as much */
	double winner_weight; /* sum of the winning group's weights */
	double total_weight;  /* sum over every counted result */
	double agreement;     /* winner_weight / total_weight; 0 when total_weight is 0 */
	double mean;          /* mean confidence of the winning group (signals only), or CONF_NONE */
	int reached;          /* mean >= 0.7 and agreement >= 0.5 */
};
void conf_consensus(const struct conf_result *r, size_t n, enum conf_weight w,
		    struct conf_consensus *out);

/* Sum(conf * expertise) / Sum(expertise) over all results: failed ones count
 * as confidence 0, no-signal ones are skipped. CONF_NONE when the weights sum to 0. */
double conf_weighted_mean(const struct conf_result *r, size_t n);
/* Mean over all results, failed ones as 0, no-signal ones skipped; CONF_NONE if none. */
double conf_mean_all(const struct conf_result *r, size_t n);
/* Mean over successful results (failed and no-signal excluded); CONF_NONE if none. */
double conf_mean_success(const struct conf_result *r, size_t n);

enum review_verdict { REVIEW_APPROVE = 0, REVIEW_REVISE, REVIEW_REJECT };
/* approve -> stated, or 0.9 when absent; revise -> min(stated, 0.6);
 * reject -> min(stated, 0.3). An absent stated value (CONF_NONE) is treated
 * as no cap from the reviewer: revise -> 0.6, reject -> 0.3. */
double conf_review(enum review_verdict v, double stated);

/* ---- node types (engine/nodes/<type>.c, registry in engine/nodes/registry.c) ---- */

/*
 * One node type: static data only, shared by every pattern. options_schema is
 * JSON text in the JSON Schema subset (type, properties, required, enum,
 * minimum, maximum, maxLength, items, default, description; "format": "jq"
 * marks an expression). Object schemas refuse unknown keys. A node's options
 * are its members other than id, type and from.
 */
struct node_exec; /* one node of one run, while it runs (exec_internal.h) */

struct node_type {
	const char *name;
	const char *description;      /* one or two sentences for the builder's palette */
	const char *options_schema;   /* static JSON text */
	const char *const *ports;     /* output ports, NULL-terminated */
	const char *const *expr_keys; /* option keys holding jq, NULL-terminated */
	int takes_input;              /* 0: the node may not have `from` (input) */
	/* Run the node: finish it now (node_done/node_fail) or start calls that
	 * finish it later. Runs on the run's loop thread. */
	void (*execute)(struct node_exec *x);
};

extern const struct node_type *const node_types[];
extern const size_t node_types_count;
/* NULL if unknown. */
const struct node_type *node_type_find(const char *name);
/* 1 if port is one of type's output ports. */
int node_type_has_port(const struct node_type *t, const char *port);
/* The palette: [{name, description, options_schema (parsed), ports}]; caller owns it. */
cJSON *node_types_json(void);

/* ---- the pattern document (pattern.c, pattern_schema.c, pattern_expr.c, pattern_graph.c) ---- */

#define PATTERN_MAX_NODES   1000
#define PATTERN_MAX_FROM    100         /* sources per node */
#define PATTERN_MAX_BYTES   (4u << 20)  /* a definition's JSON text */
#define PATTERN_EXPR_MAX    (64u << 10) /* one jq expression */
#define PATTERN_ID_MAX      64
#define PATTERN_NAME_MAX    64

/* One incoming edge: the source node's index and the port it leaves from
 * (a static string from that node type's ports). */
struct pattern_edge {
	size_t node;
	const char *port;
};

struct pattern_node {
	const char *id;               /* borrowed from pattern.doc */
	const struct node_type *type;
	const cJSON *def;             /* the node's object: options are its members but id/type/from */
	struct pattern_edge *from;    /* owned */
	size_t from_count;
};

/*
 * A validated pattern. Owns doc (the parsed definition); every const char *
 * and const cJSON * inside points into it. Nodes keep document order; input
 * is the index of the one input node. Read-only once parsed, so executions
 * of one version may share it.
 */
struct pattern {
	cJSON *doc;
	const char *name;
	const char *description;  /* "" if absent */
	const cJSON *input_schema; /* NULL if absent */
	const cJSON *ui;           /* opaque, kept verbatim; NULL if absent */
	const cJSON *tags;         /* NULL if absent */
	struct pattern_node *nodes;
	size_t count;
	size_t input;
};

/*
 * Parse and validate a definition. Returns 0 and sets *out (free with
 * pattern_free) when there are no problems. Returns ERR_UNPROCESSABLE with
 * every problem in pr when the document is well-formed JSON but invalid;
 * ERR_INVALID / ERR_TOO_LARGE (and e set) when it is not JSON within limits.
 */
int pattern_parse(const char *json, size_t len, struct pattern **out, struct problems *pr,
		  struct err *e);
void pattern_free(struct pattern *p);
/* Index of the node with this id, or SIZE_MAX. */
size_t pattern_find(const struct pattern *p, const char *id);

/*
 * Check one jq expression without running it: at most PATTERN_EXPR_MAX
 * bytes, no forbidden builtin outside string literals ($ENV, env, input,
 * inputs, $__loc__, halt, halt_error, import, include, input_filename, debug,
 * stderr, ...: slug forbidden_expression), and it compiles (invalid_expression).
 */
int pattern_expr_check(const char *src, size_t len, struct err *e);

/* Check value against a schema in the subset (options, execution input); every
 * mismatch is a problem at path ("nodes[2]" + ".select.min"). With a node id,
 * unknown members are unknown_option, else unknown_field. */
void pattern_schema_check(const cJSON *schema, const cJSON *value, const char *node_id,
			  const char *path, struct problems *pr);

/* The changes from one definition to another (pattern_diff.c):
 * [{op: add|remove|replace, path, from?, to?}], nodes matched by id; at most 1000. */
cJSON *pattern_diff(const cJSON *from, const cJSON *to);

/* ---- YAML import/export (yaml.c) ---------------------------------------------------- */

/* YAML -> canonical unformatted JSON (caller frees). At most 1 MiB, depth 64;
 * aliases, anchors and non-core tags are refused (ERR_INVALID, invalid_yaml). */
int pattern_yaml_to_json(const char *yaml, size_t len, char **json_out, struct err *e);
/* JSON -> block YAML (caller frees) that reads back to the same JSON. */
int pattern_json_to_yaml(const char *json, size_t len, char **yaml_out, struct err *e);

/* ---- built-in library (library.c) ---------------------------------------------------- */

/*
 * The patterns shipped read-only with the binary (engine/library/<name>.yaml,
 * embedded at build time), in name order. Each is converted to canonical JSON
 * once, at first use (thread-safe); entries live as long as the process.
 */
struct library_entry {
	const char *name;        /* the file name without .yaml */
	const char *description; /* the document's description; "" if none */
	const char *yaml;        /* the embedded document, NUL-terminated */
	size_t yaml_len;
	const char *json;        /* canonical JSON; NULL if the document did not convert */
	const char *error;       /* why it did not; NULL otherwise */
};

size_t library_count(void);
/* NULL when i >= library_count(). */
const struct library_entry *library_get(size_t i);
/* NULL when no built-in pattern has this name. */
const struct library_entry *library_find(const char *name);

/* ---- outbound requests (outbound.c) ------------------------------------------------ */

/*
 * Every agent call to the network goes through here (SPEC §4, issue 4).
 * Loopback, private, link-local (cloud metadata), CGNAT, multicast and
 * reserved addresses are refused unless the admin's --agent-allow list
 * (config agent_allow) names them; IPv4 hidden in IPv6 (mapped, NAT64,
 * 6to4) is judged by its IPv4 address. A URL is checked once, on curl's
 * normalized form, with every DNS answer checked; the transfer is then
 * pinned to those addresses (CURLOPT_RESOLVE) and re-checked at connect.
 * Errors: ERR_INVALID "invalid_url" (naming the part), ERR_FORBIDDEN
 * "address_not_allowed" (naming the address and --agent-allow).
 */
#define OUTBOUND_ALLOW_MAX 64   /* ranges in the admin allow list */
#define OUTBOUND_URL_MAX   2048 /* bytes, before and after normalization */
#define OUTBOUND_ADDRS_MAX 16   /* resolved addresses pinned per host */

struct sockaddr;

/* Built once from config; read-only afterwards, shared by all workers. */
struct outbound_policy {
	struct cidr allow[OUTBOUND_ALLOW_MAX];
	int n_allow;
};

/* A checked URL. Owns resolve_list: outbound_target_release() frees it. */
struct outbound_target {
	const struct outbound_policy *policy; /* borrowed; must outlive the transfer */
	char url[OUTBOUND_URL_MAX + 1];       /* normalized by curl: fetch this one */
	char host[256];                       /* without IPv6 brackets */
	int port;
	char resolve[OUTBOUND_ADDRS_MAX * 48 + 320]; /* "host:port:addr1,[v6addr2]" */
	struct curl_slist *resolve_list;      /* one entry: resolve */
};

/* A response body bounded to max bytes, with or without Content-Length. */
struct outbound_body {
	struct buf data;
	size_t max;
	int too_large;
};

/* allow_cidrs may be NULL or "" (nothing allowed beyond public addresses). */
int outbound_policy_init(struct outbound_policy *p, const char *allow_cidrs, struct err *e);
/* 1 if a connection to sa may be made, 0 if refused (also for non-IP families). */
int outbound_addr_allowed(const struct outbound_policy *p, const struct sockaddr *sa);
/* Parse, normalize, resolve and check url; fills out (release it even on error). */
int outbound_url_check(const struct outbound_policy *p, const char *url,
		       struct outbound_target *out, struct err *e);
void outbound_target_release(struct outbound_target *t);
/*
 * Set the URL, http/https only, no redirects, no proxy, pinned addresses,
 * connect re-check, timeouts and size limit on h. t must outlive the transfer.
 */
void outbound_curl_harden(CURL *h, const struct outbound_target *t, long timeout_ms,
			  size_t max_response);
void outbound_body_init(struct outbound_body *b, size_t max);
void outbound_body_release(struct outbound_body *b);
/* Set CURLOPT_WRITEFUNCTION/WRITEDATA so the body collects into b. */
void outbound_body_attach(CURL *h, struct outbound_body *b);
/* The curl write callback behind outbound_body_attach (userdata: the body). */
size_t outbound_body_write(char *ptr, size_t size, size_t nmemb, void *userdata);
/* A finished transfer's result as a clean step error ("response too large", ...). */
int outbound_curl_result(CURLcode rc, const struct outbound_body *b, long timeout_ms,
			 struct err *e);

/* ---- jq sandbox (jq_sandbox.c, jq_worker.c) ------------------------------------------ */

/*
 * jq expressions are untrusted code (SPEC §3) and libjq 1.6 cannot be
 * interrupted, so they never run in a server thread. A jq_pool keeps a few
 * worker processes: our own binary re-executed (/proc/self/exe __jq-worker)
 * with an empty environment, no fds but its socket, RLIMIT_CPU and (except
 * under ASan) RLIMIT_AS. A worker that passes the deadline, dies or sends a
 * malformed frame is SIGKILLed and replaced; the pool keeps answering.
 * The pool is thread-safe; a caller waits at most 10 s for an idle worker.
 */
#define JQ_WORKERS_DEFAULT     2
#define JQ_TIMEOUT_DEFAULT_MS  1000
#define JQ_TIMEOUT_MAX_MS      4000 /* stays under half a worker's CPU budget */
#define JQ_MAX_OUTPUTS_DEFAULT 1000
#define JQ_FIRST_OUTPUT        (-1) /* max_outputs: the first output only, then stop */

struct jq_pool;

/* First thing in main(): runs the worker loop and exits if argv[1] is
 * "__jq-worker", otherwise returns 0. */
int jq_worker_maybe_run(int argc, char **argv);
/* workers <= 0: JQ_WORKERS_DEFAULT. NULL (and e set) if none could start. */
struct jq_pool *jq_pool_new(int workers, struct err *e);
void jq_pool_free(struct jq_pool *p);
/*
 * Run program on input_json (JSON text). On 0, *outputs is a cJSON array the
 * caller owns. timeout_ms <= 0: the default (capped at JQ_TIMEOUT_MAX_MS);
 * max_outputs JQ_FIRST_OUTPUT: stop at the first; other values <= 0: the default; at most 4 MiB of output in all. Errors:
 * ERR_UNPROCESSABLE "expression_error" (jq's message) or "expression_crashed"
 * (out of memory or CPU), ERR_TIMEOUT "expression_timeout", ERR_TOO_LARGE
 * "expression_output_too_large" / "expression_input_too_large", ERR_BUSY.
 */
int jq_pool_eval(struct jq_pool *p, const char *program, const char *input_json, int timeout_ms,
		 int max_outputs, cJSON **outputs, struct err *e);
/* For tests: worker i's pid, or -1 when none is running. */
int jq_pool_worker_pid(struct jq_pool *p, int i);

/* ---- agents and the executor (exec.c, loop.c, call.c, engine/agents) ------------------ */

/*
 * DESIGN
 * - An engine owns a few loop threads. Each loop is event-driven: one curl
 *   multi handle for every HTTP agent call of its runs, a timer heap (delays,
 *   backoff, deadlines) and an inbox other threads post to. A run lives on
 *   one loop and is only touched there, so it needs no lock; waiting on a
 *   slow agent costs a socket and a few hundred bytes, never a thread.
 * - A run's state is one struct (exec_internal.h): the context
 *   {input, nodes, execution}, each node's status and output, steps and
 *   events. After each node the run calls hooks.checkpoint, so a caller can
 *   persist it; hooks.done receives the outcome.
 * - Per-agent runtime state (circuit breaker, calls in flight, the wait
 *   queue of the concurrency cap, mean confidence) lives in the engine,
 *   keyed by agent id, behind one mutex.
 * - jq runs in the sandbox pool (jq_sandbox.c); plain paths (".a.b[0]")
 *   are read directly without it.
 */

enum agent_kind { AGENT_HTTP = 0, AGENT_OPENAI, AGENT_WS, AGENT_BUILTIN };

#define AGENT_NAME_LEN 64

/* One agent as a run sees it, loaded by the caller (config has its secrets joined). */
struct agent_spec {
	char id[UUID_STR_LEN];
	char name[AGENT_NAME_LEN + 1];
	enum agent_kind kind;
	cJSON *config;       /* owned */
	cJSON *capabilities; /* owned: array of strings */
	double expertise;
	int64_t timeout_ms;
	int max_concurrency; /* 0: no cap */
	int disabled;
};
void agent_spec_release(struct agent_spec *a);
void agent_spec_copy(struct agent_spec *dst, const struct agent_spec *src);
/* "http" ... "builtin" -> enum agent_kind, -1 if unknown. */
int agent_kind_parse(const char *s);

/* Loading agents from storage (agents/directory.c): secrets opened and joined. */
#define AGENT_SPECS_MAX 1000
struct agent_row;
struct db;
int agent_spec_from_row(const struct agent_row *a, struct agent_spec *s, struct err *e);
/* Put a config's secrets (api_key, token, credential headers) back into it. */
void agent_secrets_join(cJSON *cfg, const cJSON *secrets);
/* Every agent of the workspace (at most AGENT_SPECS_MAX); free with agent_specs_free. */
int agent_specs_load(struct db *db, const char *tenant_id, const char *workspace_id,
		     struct agent_spec **out, size_t *n, struct err *e);
void agent_specs_free(struct agent_spec *specs, size_t n);

struct engine_config {
	int loops;              /* loop threads; <= 0: 2 */
	int jq_workers;         /* <= 0: JQ_WORKERS_DEFAULT */
	const char *agent_allow; /* CIDR list for outbound_policy_init */
	int breaker_failures;   /* consecutive failures that open it; <= 0: 5 */
	int64_t breaker_open_ms; /* open -> half-open; <= 0: 30000 */
	int breaker_successes;  /* half-open successes that close it; <= 0: 3 */
};

struct engine;
struct engine *engine_new(const struct engine_config *c, struct err *e);
void engine_free(struct engine *en);

/* Callbacks of one run; all optional, all called on the run's loop thread. */
struct run_hooks {
	void *ud;
	/* The definition of pattern name (version 0: the latest) of the run's
	 * workspace, for pattern and map nodes: *definition (malloc) and its id/version. */
	int (*load_pattern)(void *ud, const char *name, int64_t version, char **definition,
			    char pattern_id[UUID_STR_LEN], int64_t *version_out, struct err *e);
	/* After each node: its step {node_id, type, status, output, ...}. */
	void (*checkpoint)(void *ud, const cJSON *step);
	/* Each event {seq, type, node?, data, at}. */
	void (*event)(void *ud, const cJSON *event);
	/* Once, at the end: the outcome (see engine_run_wait); borrowed. */
	void (*done)(void *ud, const cJSON *outcome);
};

struct run_request {
	const char *execution_id; /* required: Idempotency-Key, traceparent, context */
	const char *pattern_id, *pattern_name;
	int64_t version;
	const struct pattern *pattern;  /* borrowed until done() */
	const cJSON *input;             /* copied */
	const struct agent_spec *agents; /* copied */
	size_t agent_count;
	int64_t timeout_ms;             /* the whole run; <= 0: 300000 */
	struct run_hooks hooks;
	/* Resuming: {"<node id>": {status: "succeeded"|"skipped", output, port?}} for the
	 * nodes a previous attempt checkpointed (they are not run again), and
	 * {decision: "approve"|"reject", by?} for a decided approval node. Borrowed. */
	const cJSON *resume;
	int64_t seq_base; /* events continue after this sequence number */
	const char *runner; /* who runs it (a worker's name), in the start event; may be NULL */
	int test; /* an agent test call, not an execution: its calls are marked so */
};

/* Cancel the run of execution_id if this engine runs it (any thread): it ends
 * "cancelled" with reason, its calls stopped. 1 if found. */
int engine_run_cancel(struct engine *en, const char *execution_id, const char *reason);

/* Starts the run on a loop and returns; the outcome comes to hooks.done. */
int engine_run_start(struct engine *en, const struct run_request *rq, struct err *e);
/*
 * Runs and waits. *out (caller frees): {status, result, error, steps, events,
 * usage: {input_tokens, output_tokens}, started_at, finished_at} where status
 * is succeeded, failed, timed_out or waiting_approval (an approval node with
 * no timeout: the run is stopped there), result {value, confidence} or null
 * and error {node, message} or null. rq->hooks.done must be NULL.
 */
int engine_run_wait(struct engine *en, const struct run_request *rq, cJSON **out,
		    struct err *e);

/* One call to one agent outside a pattern (the /test route): *out is
 * {ok, value, confidence, reasoning, error, latency_ms, usage}. */
int engine_agent_test(struct engine *en, const struct agent_spec *a, const char *task,
		      const cJSON *data, cJSON **out, struct err *e);
/* {status, circuit: {state, failures, successes, opened_at}, inflight, last_error,
 *  probe: {ok, latency_ms, error} | null, calls: {window, succeeded, failed, success_rate,
 *  latency_ms: {p50, p95, mean}, since}, recent_calls: [{at, execution_id, node_id, test,
 *  status, latency_ms, error}], probes: [{at, ok, latency_ms, error}]}; probe: 1 to probe
 *  http/openai now. The figures are this process's: its last attempts and probes. */
int engine_agent_health(struct engine *en, const struct agent_spec *a, int probe, cJSON **out,
			struct err *e);
/* ---- connected ws agents (agents/ws.c): the server's WebSocket side calls these ---- */

#define WS_HEARTBEAT_MS 10000 /* agents heartbeat this often; 2x without one: unhealthy */

/* Send one text frame on conn; 0 or -1. Called with the engine's ws lock held,
 * so conn stays valid until engine_ws_detach returns. */
typedef int (*ws_send_fn)(void *conn, const char *text, size_t len);
/* agent_id is now reachable on conn (an older connection of it is replaced). */
void engine_ws_attach(struct engine *en, const char *agent_id, void *conn, ws_send_fn send);
/* conn closed: its tasks fail at once ("connection lost"). */
void engine_ws_detach(struct engine *en, const char *agent_id, void *conn);
void engine_ws_heartbeat(struct engine *en, const char *agent_id);
/* A {type:"result", task_id, value, confidence?, reasoning?, usage?, error?} frame from
 * agent_id: 0, or ERR_NOT_FOUND if no such task is waiting (late, cancelled, another agent's). */
int engine_ws_result(struct engine *en, const char *agent_id, const cJSON *msg);

/* "closed", "open" or "half_open": agent_id's circuit in this process. */
const char *engine_agent_circuit(struct engine *en, const char *agent_id);

/* ---- workers: the queue's consumer (worker.c) --------------------------------------------- */

struct db_pool;
struct worker;
struct worker_config {
	const char *name;   /* in lease_owner: "<name>/<uuid>" */
	int max_inflight;   /* runs at once; <= 0: 1000 */
	int64_t lease_ms;   /* <= 0: 30000; renewed every third of it */
	int64_t poll_ms;    /* idle poll for new jobs; <= 0: 250 */
	int lanes;          /* claiming threads, sharing max_inflight; <= 0: 1 */
};
/* A worker: lanes that each claim, start and settle their own runs (several overlap
 * their database round trips), under one name. */
struct worker *worker_start(struct engine *en, struct db_pool *pool,
			    const struct worker_config *c, struct err *e);
/* A job was enqueued: claim now instead of at the next poll. */
void worker_wake(struct worker *w);
int worker_inflight(struct worker *w);
/* Stop claiming, give runs grace_ms to finish, then stop the rest without writing
 * (another worker resumes them when their leases expire). */
void worker_stop(struct worker *w, int64_t grace_ms);

/* "sha256=" + hex HMAC-SHA256(secret, body): X-Parallax-Signature of a webhook. */
void webhook_signature(const char *secret, const char *body, char out[72]);

/* The execution input checked against the pattern's input schema: 0, or
 * ERR_UNPROCESSABLE "invalid_input" with field "input.<path>" and every problem in pr. */
int engine_input_check(const struct pattern *p, const cJSON *input, struct problems *pr,
		       struct err *e);
/* The same against a schema alone (a stored definition's "input"; NULL: anything goes). */
int engine_input_check_schema(const cJSON *schema, const cJSON *input, struct problems *pr,
			      struct err *e);

#endif
