/*
 * The forms that register and change an agent: GET /agents/new and POST
 * /agents, GET and POST /agents/{id}/edit. One table describes every field
 * (which kind and builtin type it belongs to, how it reads and where it goes
 * in the API's body), so the page, the body sent to POST or PATCH
 * /api/v1/agents and the error shown next to a field cannot drift apart.
 *
 * Without JavaScript the form shows the chosen kind's fields and a Continue
 * button re-renders it for another kind; static/src/agents.js switches them
 * in place. A refused form comes back with its values, the error next to its
 * field, and never a secret: tokens, API keys and credential headers are
 * write-only, here as in the API.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/web.h"
#include "api/api.h"
#include "auth/auth.h"
#include "server/server.h"
#include "core/core.h"

enum ui { UI_TEXT, UI_URL, UI_NUMBER, UI_SECRET, UI_AREA, UI_CHECK };
/* How a value reads: text, a whole number, a number, JSON, a checkbox (true/false,
 * or the string on when checked), a comma-separated list, "Name: value" lines. */
enum val { V_STR, V_INT, V_NUM, V_JSON, V_BOOL, V_CAPS, V_HEADERS };

struct field {
	const char *key;  /* the form name; "config_x" is the API's config.x */
	const char *kind; /* the agent kind it belongs to; NULL: every kind */
	const char *type; /* builtin: the type it belongs to; NULL: every type */
	const char *label, *hint, *placeholder;
	enum ui ui;
	enum val val;
	int required;
	const char *min, *max, *step;
	const char *on; /* V_BOOL: the string a checked box sends (NULL: true) */
};

static const struct field fields[] = {
	{ "name", NULL, NULL, "Name",
	  "Letters, digits, '.', '_' and '-', unique in this workspace. Nodes can select an "
	  "agent by name.", "reviewer-1", UI_TEXT, V_STR, 1, NULL, NULL, NULL, NULL },
	{ "capabilities", NULL, NULL, "Capabilities",
	  "Comma-separated. An agent node calls the agents that have every capability it asks "
	  "for.", "review, summarize", UI_TEXT, V_CAPS, 0, NULL, NULL, NULL, NULL },
	{ "config_value", "builtin", "constant", "Value (JSON)",
	  "What it answers, as JSON: {\"verdict\": \"approve\"}, \"text\" or 42.",
	  "{\"verdict\": \"approve\"}", UI_AREA, V_JSON, 1, NULL, NULL, NULL, NULL },
	{ "config_confidence", "builtin", "constant", "Confidence",
	  "0 to 1: how sure its answer says it is.", "0.9", UI_NUMBER, V_NUM, 1, "0", "1",
	  "0.01", NULL },
	{ "config_program", "builtin", "jq", "jq program",
	  "Runs over {task, data}; its result is the answer.", ".data.text | length", UI_AREA,
	  V_STR, 1, NULL, NULL, NULL, NULL },
	{ "config_delay_ms", "builtin", NULL, "Delay (ms)",
	  "It waits this long before it answers: for demos and timeouts.", "0", UI_NUMBER, V_INT,
	  0, "0", "600000", "1", NULL },
	{ "config_fail", "builtin", NULL, "Fail every call",
	  "For trying retries, fallbacks and the circuit breaker.", NULL, UI_CHECK, V_BOOL, 0,
	  NULL, NULL, NULL, NULL },
	{ "config_url", "http", NULL, "Endpoint URL",
	  "Parallax POSTs each task here and checks its health at <URL>/health.",
	  "https://agent.internal:8080/analyze", UI_URL, V_STR, 1, NULL, NULL, NULL, NULL },
	{ "config_compat", "http", NULL, "An original Parallax agent",
	  "Compatibility mode: tasks go to <URL>/analyze as {task, data}.", NULL, UI_CHECK,
	  V_BOOL, 0, NULL, NULL, NULL, "parallax" },
	{ "config_timeout_ms", "http", NULL, "Request timeout (ms)",
	  "For each request; blank: the agent's timeout below.", "10000", UI_NUMBER, V_INT, 0,
	  "100", "600000", "1", NULL },
	{ "config_token", "http", NULL, "Bearer token",
	  "Sent as Authorization: Bearer. Stored encrypted; never shown again.", NULL, UI_SECRET,
	  V_STR, 0, NULL, NULL, NULL, NULL },
	{ "config_headers", "http", NULL, "Extra headers",
	  "One per line, as Name: value. Credential headers (Authorization, cookies, names "
	  "with token, key or secret) are stored encrypted and never shown again.",
	  "X-Team: search", UI_AREA, V_HEADERS, 0, NULL, NULL, NULL, NULL },
	{ "config_base_url", "openai", NULL, "Base URL",
	  "An OpenAI-compatible API: OpenAI, Ollama, vLLM or a llama.cpp server.",
	  "https://api.openai.com/v1", UI_URL, V_STR, 1, NULL, NULL, NULL, NULL },
	{ "config_model", "openai", NULL, "Model", NULL, "gpt-4o-mini", UI_TEXT, V_STR, 1, NULL,
	  NULL, NULL, NULL },
	{ "config_api_key", "openai", NULL, "API key",
	  "Stored encrypted; never shown again. Blank for a local server without one.", NULL,
	  UI_SECRET, V_STR, 0, NULL, NULL, NULL, NULL },
	{ "config_system", "openai", NULL, "System prompt", NULL,
	  "You review code changes and answer with a verdict.", UI_AREA, V_STR, 0, NULL, NULL,
	  NULL, NULL },
	{ "config_temperature", "openai", NULL, "Temperature", "0 to 2.", "0.2", UI_NUMBER,
	  V_NUM, 0, "0", "2", "0.1", NULL },
	{ "config_json_mode", "openai", NULL, "JSON mode", "Ask the model for a JSON object.",
	  NULL, UI_CHECK, V_BOOL, 0, NULL, NULL, NULL, NULL },
	{ "expertise", NULL, NULL, "Expertise",
	  "0 to 1: the weight of its answers in expertise-weighted consensus.", "0.5",
	  UI_NUMBER, V_NUM, 0, "0", "1", "0.05", NULL },
	{ "timeout_ms", NULL, NULL, "Timeout (ms)", "How long one call may take.", "30000",
	  UI_NUMBER, V_INT, 0, "100", "600000", "1", NULL },
	{ "max_concurrency", NULL, NULL, "Concurrent calls",
	  "At most this many calls at once; more wait their turn.", "10", UI_NUMBER, V_INT, 0,
	  "1", "1000", "1", NULL },
};

static const char *const kinds[] = { "builtin", "http", "openai", "ws" };
static const char *const types[] = { "constant", "echo", "jq" };

/* What the form is for, and where its values come from. */
struct form {
	const char *kind, *type; /* the chosen kind and builtin type */
	const cJSON *agent;      /* editing: the stored agent (the API's JSON) */
	int posted;              /* values from the posted form, else from agent or empty */
	cJSON *errors;           /* {key: message} */
};

static const cJSON *get(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* s if it is one of the n names, else def. */
static const char *one_of(const char *s, const char *const *names, size_t n, const char *def)
{
	for (size_t i = 0; s && i < n; i++)
		if (!strcmp(s, names[i]))
			return names[i];
	return def;
}

static int applies(const struct field *f, const struct form *fm)
{
	return (!f->kind || !strcmp(f->kind, fm->kind)) &&
	       (!f->type || !strcmp(f->type, fm->type));
}

/* Where a field's value is in the API's agent: config.x or the top level. */
static const cJSON *stored(const struct field *f, const cJSON *agent)
{
	if (!strncmp(f->key, "config_", 7))
		return get(get(agent, "config"), f->key + 7);
	return get(agent, f->key);
}

static int is_secret(const cJSON *v)
{
	return cJSON_IsTrue(get(v, "set"));
}

/* ---- form -> the API's body ----------------------------------------------------------- */

static char *trimmed(struct req *r, const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	size_t n = strlen(s);
	while (n && strchr(" \t\r\n", s[n - 1]))
		n--;
	return arena_printf(r->arena, "%.*s", (int)n, s);
}

static cJSON *parse_caps(struct req *r, const char *s)
{
	cJSON *arr = cJSON_CreateArray();
	char *copy = arena_printf(r->arena, "%s", s), *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *c = trimmed(r, t);
		if (*c)
			cJSON_AddItemToArray(arr, cJSON_CreateString(c));
	}
	return arr;
}

/* "Name: value" lines as an object; NULL with *bad at a line without a colon. */
static cJSON *parse_headers(struct req *r, const char *s, int *bad)
{
	cJSON *h = cJSON_CreateObject();
	char *copy = arena_printf(r->arena, "%s", s), *save = NULL;
	int line = 0;
	for (char *t = strtok_r(copy, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
		char *l = trimmed(r, t), *colon = strchr(l, ':');
		line++;
		if (!*l)
			continue;
		if (!colon || colon == l) {
			*bad = line;
			cJSON_Delete(h);
			return NULL;
		}
		*colon = '\0';
		cJSON_AddItemToObject(h, trimmed(r, l), cJSON_CreateString(trimmed(r, colon + 1)));
	}
	return h;
}

/* The value of one filled-in field, or NULL with its error set. */
static cJSON *field_value(struct req *r, const struct field *f, const char *v, cJSON *errors)
{
	const char *t = trimmed(r, v);
	cJSON *out = NULL;
	char *end = NULL;
	int64_t i;
	int bad = 0;
	switch (f->val) {
	case V_INT:
		if (!str_to_i64(t, &i))
			out = cJSON_CreateNumber((double)i);
		else
			cJSON_AddStringToObject(errors, f->key, "Enter a whole number.");
		break;
	case V_NUM: {
		double d = strtod(t, &end);
		if (end != t && !*end && isfinite(d))
			out = cJSON_CreateNumber(d);
		else
			cJSON_AddStringToObject(errors, f->key, "Enter a number, such as 0.8.");
		break;
	}
	case V_JSON:
		if (!(out = cJSON_Parse(t)))
			cJSON_AddStringToObject(errors, f->key,
						"Not valid JSON: write an object such as {\"a\": 1}, "
						"a string in quotes or a number.");
		break;
	case V_CAPS:
		out = parse_caps(r, t);
		break;
	case V_HEADERS:
		if (!(out = parse_headers(r, v, &bad)))
			cJSON_AddStringToObject(errors, f->key,
						arena_printf(r->arena, "Line %d is not Name: value.",
							     bad));
		break;
	default:
		out = cJSON_CreateString(f->ui == UI_AREA ? v : t);
	}
	return out;
}

/* Set key (config.x for "config_x") of body to v (taken; NULL: JSON null). */
static void put(cJSON *body, const struct field *f, cJSON *v)
{
	cJSON *to = body;
	const char *key = f->key;
	if (!strncmp(key, "config_", 7)) {
		to = cJSON_GetObjectItemCaseSensitive(body, "config");
		key += 7;
	}
	cJSON_AddItemToObject(to, key, v ? v : cJSON_CreateNull());
}

/*
 * The body for POST (creating) or PATCH (editing) /api/v1/agents. A blank field
 * is left out when creating; when editing, a blank config field removes its
 * key (null), a blank secret keeps the stored one unless its Remove box is
 * ticked, and unchanged headers are left alone (sending them would replace the
 * stored credential headers too). Errors of reading go to fm->errors.
 */
static cJSON *form_body(struct req *r, const struct form *fm)
{
	cJSON *body = cJSON_CreateObject();
	int editing = fm->agent != NULL;
	if (!editing)
		cJSON_AddStringToObject(body, "kind", fm->kind);
	cJSON *config = cJSON_AddObjectToObject(body, "config");
	if (!strcmp(fm->kind, "builtin"))
		cJSON_AddStringToObject(config, "type", fm->type);
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		const struct field *f = &fields[i];
		const char *v = req_form(r, f->key);
		int in_config = !strncmp(f->key, "config_", 7);
		if (!applies(f, fm))
			continue;
		if (f->val == V_BOOL) {
			int on = v && *v;
			if (on || editing)
				put(body, f, f->on ? (on ? cJSON_CreateString(f->on) : NULL)
						   : cJSON_CreateBool(on));
			continue;
		}
		if (f->val == V_HEADERS && editing && v &&
		    !strcmp(v, req_form(r, "config_headers_was") ? req_form(r, "config_headers_was")
								   : ""))
			continue;
		if (v && (*trimmed(r, v) || !strcmp(f->key, "name"))) {
			cJSON *val = field_value(r, f, v, fm->errors);
			if (val)
				put(body, f, val);
		} else if (editing && in_config &&
			   (f->ui != UI_SECRET ||
			    req_form(r, arena_printf(r->arena, "%s_clear", f->key)))) {
			put(body, f, NULL);
		} else if (editing && f->val == V_CAPS) {
			put(body, f, cJSON_CreateArray()); /* all removed */
		}
	}
	if (editing && !config->child)
		cJSON_DeleteItemFromObjectCaseSensitive(body, "config");
	return body;
}

/* ---- the form's context -------------------------------------------------------------------- */

/* Headers as "Name: value" lines, credentials left out (*secrets names them). */
static char *headers_text(struct req *r, const cJSON *h, struct buf *secrets)
{
	struct buf b = BUF_INIT;
	const cJSON *it;
	cJSON_ArrayForEach(it, h) {
		if (!cJSON_IsString(it) || agent_header_secret(it->string)) {
			buf_addf(secrets, "%s%s", secrets->len ? ", " : "", it->string);
			continue;
		}
		buf_addf(&b, "%s%s: %s", b.len ? "\n" : "", it->string, it->valuestring);
	}
	char *s = arena_printf(r->arena, "%s", b.p);
	buf_release(&b);
	return s;
}

/* The value a field shows: posted, stored or empty; never a secret. */
static const char *shown(struct req *r, const struct field *f, const struct form *fm,
			 struct buf *secrets, int *checked)
{
	const cJSON *v = fm->agent ? stored(f, fm->agent) : NULL;
	const char *p = req_form(r, f->key);
	*checked = 0;
	if (f->ui == UI_SECRET)
		return "";
	if (fm->posted && f->val == V_HEADERS) {
		int bad = 0;
		cJSON *h = p ? parse_headers(r, p, &bad) : NULL;
		const char *s = h ? headers_text(r, h, secrets) : bad ? "" : p;
		cJSON_Delete(h);
		return s ? s : "";
	}
	if (fm->posted) {
		*checked = p && *p;
		return p ? p : "";
	}
	if (f->val == V_BOOL)
		*checked = f->on ? !strcmp(cJSON_GetStringValue(v) ? v->valuestring : "", f->on)
				 : cJSON_IsTrue(v);
	if (!v || cJSON_IsNull(v) || f->val == V_BOOL)
		return "";
	if (f->val == V_HEADERS)
		return headers_text(r, v, secrets);
	if (f->val == V_CAPS) {
		struct buf b = BUF_INIT;
		const cJSON *it;
		cJSON_ArrayForEach(it, v)
			buf_addf(&b, "%s%s", b.len ? ", " : "", cJSON_GetStringValue(it) ? it->valuestring
											  : "");
		char *s = arena_printf(r->arena, "%s", b.p);
		buf_release(&b);
		return s;
	}
	if (cJSON_IsString(v))
		return v->valuestring;
	char *s = f->val == V_JSON ? cJSON_Print(v) : cJSON_PrintUnformatted(v);
	const char *out = arena_printf(r->arena, "%s", s ? s : "");
	free(s);
	return out;
}

static void add_str(cJSON *o, const char *key, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, key, v);
	else
		cJSON_AddFalseToObject(o, key);
}

/* One field for partials/agent_field: every key set, so that none is looked up in an
 * outer scope. */
static cJSON *field_json(struct req *r, const struct field *f, const struct form *fm)
{
	static const char *const html[] = { "text", "url", "number", "password", "", "checkbox" };
	struct buf secrets = BUF_INIT;
	int checked;
	cJSON *o = cJSON_CreateObject();
	const char *err = cJSON_GetStringValue(get(fm->errors, f->key));
	cJSON_AddStringToObject(o, "key", f->key);
	cJSON_AddStringToObject(o, "label", f->label);
	cJSON_AddStringToObject(o, "value", shown(r, f, fm, &secrets, &checked));
	cJSON_AddStringToObject(o, "type", html[f->ui]);
	cJSON_AddBoolToObject(o, "required", f->required);
	cJSON_AddBoolToObject(o, "checkbox", f->ui == UI_CHECK);
	cJSON_AddBoolToObject(o, "checked", checked);
	cJSON_AddBoolToObject(o, "textarea", f->ui == UI_AREA);
	cJSON_AddBoolToObject(o, "code", f->val == V_JSON || f->val == V_HEADERS ||
					  !strcmp(f->key, "config_program"));
	cJSON_AddBoolToObject(o, "secret", f->ui == UI_SECRET);
	cJSON_AddBoolToObject(o, "secret_set", f->ui == UI_SECRET && fm->agent &&
						       is_secret(stored(f, fm->agent)));
	cJSON_AddBoolToObject(o, "url", f->ui == UI_URL);
	add_str(o, "hint", f->hint);
	add_str(o, "placeholder", f->placeholder);
	add_str(o, "min", f->min);
	add_str(o, "max", f->max);
	add_str(o, "step", f->step);
	add_str(o, "error", err);
	add_str(o, "note", secrets.len ? arena_printf(r->arena, "Credential headers kept "
								"encrypted and not shown: %s. "
								"Changing these lines "
								"replaces them too.",
						       secrets.p)
				       : NULL);
	buf_release(&secrets);
	return o;
}

static void add_options(cJSON *ctx, const char *key, const char *const *names, size_t n,
			const char *chosen, int labels)
{
	cJSON *arr = cJSON_AddArrayToObject(ctx, key);
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "value", names[i]);
		cJSON_AddStringToObject(o, "label", labels ? web_agent_kind_label(names[i])
							    : names[i]);
		if (!strcmp(names[i], chosen))
			cJSON_AddTrueToObject(o, "selected");
		cJSON_AddItemToArray(arr, o);
	}
}

/* The summary above the form: each error, linking to its field when it has one. */
static void add_summary(cJSON *form, const struct form *fm)
{
	cJSON *list = cJSON_AddArrayToObject(form, "errors_list");
	const cJSON *e;
	cJSON_ArrayForEach(e, fm->errors) {
		cJSON *o = cJSON_CreateObject();
		const struct field *f = NULL;
		for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
			if (!strcmp(fields[i].key, e->string) && applies(&fields[i], fm))
				f = &fields[i];
		if (f) {
			char text[600];
			snprintf(text, sizeof(text), "%s: %s", f->label, e->valuestring);
			cJSON_AddStringToObject(o, "text", text);
			cJSON_AddStringToObject(o, "target", e->string);
			if (!f->kind && (!strcmp(f->key, "expertise") || !strcmp(f->key, "timeout_ms") ||
					 !strcmp(f->key, "max_concurrency")))
				cJSON_AddTrueToObject(form, "open_advanced");
		} else {
			cJSON_AddStringToObject(o, "text", e->valuestring);
		}
		cJSON_AddItemToArray(list, o);
	}
}

static void form_ctx(struct req *r, cJSON *ctx, const struct form *fm)
{
	cJSON *form = cJSON_AddObjectToObject(ctx, "form"), *f = cJSON_AddObjectToObject(form, "f");
	cJSON *show = cJSON_AddObjectToObject(form, "show");
	const char *id = cJSON_GetStringValue(get(fm->agent, "id"));
	cJSON_AddStringToObject(form, "action", id ? arena_printf(r->arena, "/agents/%s/edit", id)
						 : "/agents");
	cJSON_AddStringToObject(form, "cancel", id ? arena_printf(r->arena, "/agents/%s", id)
						 : "/agents");
	cJSON_AddBoolToObject(form, "editing", fm->agent != NULL);
	cJSON_AddStringToObject(form, "agent_name", fm->agent ? cJSON_GetStringValue(get(fm->agent, "name")) : "");
	cJSON_AddStringToObject(form, "kind", fm->kind);
	cJSON_AddStringToObject(form, "kind_label", web_agent_kind_label(fm->kind));
	add_options(form, "kinds", kinds, ARRAY_SIZE(kinds), fm->kind, 1);
	add_options(form, "types", types, ARRAY_SIZE(types), fm->type, 0);
	cJSON_AddTrueToObject(show, fm->kind);
	cJSON_AddTrueToObject(show, fm->type);
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		cJSON_AddItemToObject(f, fields[i].key, field_json(r, &fields[i], fm));
	if (fm->agent) { /* what the headers were, so that unchanged ones are left alone */
		const cJSON *h = get(f, "config_headers");
		cJSON_AddStringToObject(form, "headers_was",
					fm->posted ? (req_form(r, "config_headers_was")
							      ? req_form(r, "config_headers_was")
							      : "")
						   : cJSON_GetStringValue(get(h, "value")));
	}
	add_summary(form, fm);
}

static int form_page(struct req *r, cJSON *ctx, const struct form *fm, int status)
{
	form_ctx(r, ctx, fm);
	int rc = web_render(r, status, "agent_form", ctx);
	cJSON_Delete(ctx);
	return rc;
}

void web_agent_form_new(struct req *r, cJSON *ctx)
{
	struct form fm = { "builtin", "constant", NULL, 0, cJSON_CreateObject() };
	form_ctx(r, ctx, &fm);
	cJSON_Delete(fm.errors);
}

/* ---- handlers ---------------------------------------------------------------------------- */

/* The API's refusal as the field error (or a form-level one). */
static void api_error(struct req *r, cJSON *errors)
{
	char key[ERR_FIELD_MAX + 8] = "";
	if (!strncmp(r->err.field, "config.", 7))
		snprintf(key, sizeof(key), "config_%s", r->err.field + 7);
	else
		str_copy(key, sizeof(key), r->err.field[0] ? r->err.field : "form");
	cJSON_AddStringToObject(errors, key, r->err.msg);
	err_clear(&r->err);
}

int web_agent_new_page(struct req *r)
{
	struct db *db;
	cJSON *ctx;
	int rc;
	if ((rc = web_app_begin(r, &db, "agents", &ctx)) || !ctx)
		return rc;
	struct form fm = { one_of(req_query(r, "kind"), kinds, ARRAY_SIZE(kinds), "builtin"),
			   one_of(req_query(r, "type"), types, ARRAY_SIZE(types), "constant"), NULL,
			   0, cJSON_CreateObject() };
	rc = form_page(r, ctx, &fm, 200);
	cJSON_Delete(fm.errors);
	return rc;
}

/* Send the form to the API (POST or PATCH); 0 with the answer, or the page made: the
 * form again with its errors, or a redirect with the refusal (a role that may not, a
 * gone agent). */
static int submit(struct req *r, cJSON *ctx, struct form *fm, const char *method,
		  const char *api, cJSON **answer, int *done)
{
	int rc;
	*done = 1;
	*answer = NULL;
	if (req_form(r, "step")) /* Continue: the form again for the kind chosen */
		return form_page(r, ctx, fm, 200);
	cJSON *body = form_body(r, fm);
	if (fm->errors->child) {
		cJSON_Delete(body);
		return form_page(r, ctx, fm, 400);
	}
	rc = web_api_call(r, method, api, body, answer);
	cJSON_Delete(body);
	if (rc == ERR_INVALID || rc == ERR_CONFLICT || rc == ERR_RATE_LIMITED ||
	    rc == ERR_UNPROCESSABLE) {
		int status = err_http_status(rc);
		api_error(r, fm->errors);
		return form_page(r, ctx, fm, status);
	}
	if (rc) {
		cJSON_Delete(ctx);
		return web_form_done(r, rc, fm->agent ? web_agent_url(r) : "/agents", NULL, NULL);
	}
	*done = 0;
	return 0;
}

int web_agent_create(struct req *r)
{
	struct db *db;
	cJSON *ctx, *answer;
	int rc, done;
	if (r->auth.kind != AUTH_COOKIE)
		return req_redirect(r, 303, "/login");
	if ((rc = web_app_begin(r, &db, "agents", &ctx)) || !ctx)
		return rc;
	struct form fm = { one_of(req_form(r, "kind"), kinds, ARRAY_SIZE(kinds), "builtin"),
			   one_of(req_form(r, "config_type"), types, ARRAY_SIZE(types), "constant"),
			   NULL, 1, cJSON_CreateObject() };
	rc = submit(r, ctx, &fm, "POST", "/api/v1/agents", &answer, &done);
	cJSON_Delete(fm.errors);
	if (done)
		return rc;
	const char *id = cJSON_GetStringValue(get(answer, "id"));
	const char *token = cJSON_GetStringValue(get(answer, "connect_token"));
	if (token) { /* shown once, on the answer itself: never in a URL or a cookie */
		cJSON_AddStringToObject(ctx, "connect_token", token);
		rc = web_agent_render(r, ctx, answer, 201);
	} else {
		cJSON_Delete(ctx);
		web_flash(r, "ok", arena_printf(r->arena, "Agent %s registered.",
						cJSON_GetStringValue(get(answer, "name"))));
		rc = req_redirect(r, 303, arena_printf(r->arena, "/agents/%s", id ? id : ""));
	}
	cJSON_Delete(answer);
	return rc;
}

/* The edit form's agent and its form, or the page made (sign-in, a 404). */
static int edit_begin(struct req *r, cJSON **ctx, cJSON **a, struct form *fm, int posted)
{
	struct db *db;
	int rc;
	*a = NULL;
	if ((rc = web_app_begin(r, &db, "agents", ctx)) || !*ctx ||
	    (rc = web_agent_load(r, *ctx, a)) || !*a)
		return rc ? rc : -1;
	const char *kind = cJSON_GetStringValue(get(*a, "kind"));
	const char *type = posted ? req_form(r, "config_type")
				  : cJSON_GetStringValue(get(get(*a, "config"), "type"));
	*fm = (struct form){ one_of(kind, kinds, ARRAY_SIZE(kinds), "ws"),
			     one_of(type, types, ARRAY_SIZE(types), "constant"), *a, posted,
			     cJSON_CreateObject() };
	return 0;
}

int web_agent_edit_page(struct req *r)
{
	struct form fm;
	cJSON *ctx, *a;
	int rc = edit_begin(r, &ctx, &a, &fm, 0);
	if (rc)
		return rc < 0 ? 0 : rc;
	rc = form_page(r, ctx, &fm, 200);
	cJSON_Delete(fm.errors);
	cJSON_Delete(a);
	return rc;
}

int web_agent_update(struct req *r)
{
	struct form fm;
	cJSON *ctx, *a, *answer;
	int done, rc;
	if (r->auth.kind != AUTH_COOKIE)
		return req_redirect(r, 303, "/login");
	if ((rc = edit_begin(r, &ctx, &a, &fm, 1)))
		return rc < 0 ? 0 : rc;
	rc = submit(r, ctx, &fm, "PATCH", "/api/v1/agents/{id}", &answer, &done);
	cJSON_Delete(fm.errors);
	cJSON_Delete(a);
	cJSON_Delete(answer);
	if (done)
		return rc;
	cJSON_Delete(ctx);
	return web_form_done(r, 0, web_agent_url(r), "Saved.", NULL);
}
