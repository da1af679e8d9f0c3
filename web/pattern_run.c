/*
 * The run form of a pattern, generated from its input schema (SPEC §3's
 * subset): one control per property (string: a text input, or a textarea
 * when long; enum: a select; number and integer: a number input with its
 * bounds; boolean: a checkbox; anything else: a JSON textarea), required
 * ones marked and enforced, descriptions as hints, defaults prefilled. A
 * schema without properties gets one "Input (JSON)" textarea.
 *
 * POST /patterns/{id}/run turns the form back into JSON by the same schema
 * (the version the form was made from, so a newer version cannot reinterpret
 * it) and submits an execution through the queue (POST /api/v1/executions),
 * then shows the execution, which follows the run live. Anything refused,
 * here or by the API's schema check, comes back as the form with the values
 * kept and each error next to its field.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/web.h"
#include "web/patterns_internal.h"
#include "server/server.h"
#include "core/core.h"

#define TEXTAREA_FROM 200     /* a string longer than this may be gets a textarea */
#define WHOLE	      "input" /* the form field of a schema without properties */

enum kind { K_TEXT, K_TEXTAREA, K_SELECT, K_NUMBER, K_CHECKBOX, K_JSON };
static const char *const kind_names[] = {"text",   "textarea", "select",
					 "number", "checkbox", "json"};

/* One pass over the schema builds the fields and, for a post, the input. */
struct form {
	struct req *r;
	cJSON *fields;
	cJSON *input; /* NULL when only the form is shown */
	int errors;
};

static enum kind kind_of(const cJSON *s)
{
	const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "type"));
	const char *fmt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "format"));
	const cJSON *max = cJSON_GetObjectItemCaseSensitive(s, "maxLength");
	if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s, "enum")) > 0)
		return K_SELECT;
	if (!type)
		return K_JSON;
	if (!strcmp(type, "string"))
		return (cJSON_IsNumber(max) && max->valuedouble > TEXTAREA_FROM) ||
			       (fmt && (!strcmp(fmt, "textarea") || !strcmp(fmt, "multiline") ||
					!strcmp(fmt, "markdown") || !strcmp(fmt, "jq")))
			   ? K_TEXTAREA
			   : K_TEXT;
	if (!strcmp(type, "number") || !strcmp(type, "integer"))
		return K_NUMBER;
	return !strcmp(type, "boolean") ? K_CHECKBOX : K_JSON;
}

/* A schema number as an attribute's text ("" when absent). */
static void add_num(cJSON *o, const char *key, const cJSON *v)
{
	char s[40] = "";
	if (cJSON_IsNumber(v))
		snprintf(s, sizeof(s), "%.15g", v->valuedouble);
	cJSON_AddStringToObject(o, key, s);
}

/* The control's text before anything is posted: the default, as the control shows it. */
static char *default_text(enum kind k, const cJSON *def, int whole)
{
	if (!def)
		return xstrdup(whole ? "{}" : "");
	if (k == K_TEXT || k == K_TEXTAREA)
		return xstrdup(cJSON_IsString(def) ? def->valuestring : "");
	if (k == K_NUMBER) {
		char s[40] = "";
		if (cJSON_IsNumber(def))
			snprintf(s, sizeof(s), "%.15g", def->valuedouble);
		return xstrdup(s);
	}
	return k == K_JSON ? cJSON_Print(def) : xstrdup("");
}

/* options[] {index, label, selected} of an enum; the selected one is the posted index,
 * or before a post the default. */
static void add_options(cJSON *f, const cJSON *s, const char *posted, int is_post)
{
	const cJSON *def = cJSON_GetObjectItemCaseSensitive(s, "default"), *it;
	cJSON *list = cJSON_AddArrayToObject(f, "options");
	int i = 0;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(s, "enum"))
	{
		cJSON *o = cJSON_CreateObject();
		char idx[16], *label = cJSON_IsString(it) ? xstrdup(it->valuestring)
							  : cJSON_PrintUnformatted(it);
		snprintf(idx, sizeof(idx), "%d", i++);
		cJSON_AddStringToObject(o, "index", idx);
		cJSON_AddStringToObject(o, "label", label);
		cJSON_AddBoolToObject(o, "selected",
				      is_post ? posted && !strcmp(posted, idx)
					      : def && cJSON_Compare(def, it, 1));
		cJSON_AddItemToArray(list, o);
		free(label);
	}
}

/* The hint under a control: the description and, for a number, what it takes. */
static const char *hint_of(struct req *r, enum kind k, const cJSON *s)
{
	const char *d = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "description"));
	const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "type"));
	const cJSON *min = cJSON_GetObjectItemCaseSensitive(s, "minimum");
	const cJSON *max = cJSON_GetObjectItemCaseSensitive(s, "maximum");
	const char *what = type && !strcmp(type, "integer") ? "whole number" : "number";
	char range[96] = "";
	if (k != K_NUMBER)
		return d ? d : "";
	if (cJSON_IsNumber(min) && cJSON_IsNumber(max))
		snprintf(range, sizeof(range), "%s from %.15g to %.15g", what, min->valuedouble,
			 max->valuedouble);
	else if (cJSON_IsNumber(min) || cJSON_IsNumber(max))
		snprintf(range, sizeof(range), "%s, at %s %.15g", what,
			 cJSON_IsNumber(min) ? "least" : "most",
			 cJSON_IsNumber(min) ? min->valuedouble : max->valuedouble);
	else if (strcmp(what, "number"))
		snprintf(range, sizeof(range), "%s", what);
	if (!range[0])
		return d ? d : "";
	return d && *d ? arena_printf(r->arena, "%s · A %s", d, range)
		       : arena_printf(r->arena, "A %s", range);
}

/* The field of one property (or of the whole input when name is NULL). */
static cJSON *field_new(struct form *f, int i, const char *name, const cJSON *s, int required)
{
	cJSON *o = cJSON_CreateObject();
	enum kind k = name ? kind_of(s) : K_JSON;
	const char *title = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "title"));
	const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "type"));
	const char *fmt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "format"));
	const char *hint = hint_of(f->r, k, s);
	char id[24];
	/* controls are named by position, not by property: form field names are matched
	 * undecoded and without case (mg_get_var), and the form is pinned to its version */
	snprintf(id, sizeof(id), "in-%d", i);
	const char *field = name ? id : WHOLE;
	const char *posted = f->input ? req_form(f->r, field) : NULL;
	cJSON_AddStringToObject(o, "i", id);
	cJSON_AddStringToObject(o, "field", field);
	cJSON_AddStringToObject(o, "prop", name ? name : "");
	cJSON_AddStringToObject(o, "label", title ? title : name ? name : "Input (JSON)");
	cJSON_AddStringToObject(o, "hint", hint);
	cJSON_AddStringToObject(o, "describedby",
				*hint ? arena_printf(f->r->arena, "%s-hint", id) : "");
	cJSON_AddStringToObject(o, "error", "");
	cJSON_AddBoolToObject(o, "required", required && k != K_CHECKBOX);
	for (size_t j = 0; j < ARRAY_SIZE(kind_names); j++)
		cJSON_AddBoolToObject(o, kind_names[j], (enum kind)j == k);
	cJSON_AddStringToObject(o, "input_type",
				fmt && !strcmp(fmt, "email") ? "email"
				: fmt && !strcmp(fmt, "uri") ? "url"
							     : "text");
	add_num(o, "min", cJSON_GetObjectItemCaseSensitive(s, "minimum"));
	add_num(o, "max", cJSON_GetObjectItemCaseSensitive(s, "maximum"));
	add_num(o, "minlength", cJSON_GetObjectItemCaseSensitive(s, "minLength"));
	add_num(o, "maxlength", cJSON_GetObjectItemCaseSensitive(s, "maxLength"));
	cJSON_AddStringToObject(o, "step", type && !strcmp(type, "integer") ? "1" : "any");
	if (k == K_SELECT)
		add_options(o, s, posted, f->input != NULL);
	cJSON_AddBoolToObject(o, "checked",
			      f->input
				  ? posted != NULL
				  : cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "default")));
	char *text = f->input
			 ? xstrdup(posted ? posted : "")
			 : default_text(k, cJSON_GetObjectItemCaseSensitive(s, "default"), !name);
	cJSON_AddStringToObject(o, "value", text);
	free(text);
	cJSON_AddItemToArray(f->fields, o);
	return o;
}

static void field_error(struct form *f, cJSON *o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void field_error(struct form *f, cJSON *o, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	const char *id = pattern_page_str(o, "i");
	cJSON_ReplaceItemInObjectCaseSensitive(o, "error", cJSON_CreateString(msg));
	cJSON_ReplaceItemInObjectCaseSensitive(
	    o, "describedby",
	    cJSON_CreateString(arena_printf(f->r->arena, "%s%s%s-error",
					    pattern_page_str(o, "hint")[0] ? id : "",
					    pattern_page_str(o, "hint")[0] ? "-hint " : "", id)));
	f->errors++;
}

/* "line 2, column 5" of the byte at `at` in text. */
static void position(const char *text, const char *at, char *out, size_t size)
{
	int line = 1, col = 1;
	for (const char *p = text; p < at && *p; p++) {
		if (*p == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)*p & 0xC0) != 0x80) {
			col++;
		}
	}
	snprintf(out, size, "line %d, column %d", line, col);
}

/* The posted value of field o as JSON by its kind: the value, or NULL when left empty
 * (or refused: an error is set on the field). */
static cJSON *field_value(struct form *f, cJSON *o, const cJSON *s)
{
	const char *text = pattern_page_str(o, "value"), *label = pattern_page_str(o, "label");
	int required = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "required"));
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "checkbox")))
		return cJSON_CreateBool(
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "checked")));
	if (!*text) {
		if (required)
			field_error(f, o, "\"%s\" is required", label);
		return NULL;
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "select"))) {
		int64_t i = -1;
		const cJSON *v =
		    str_to_i64(text, &i) || i < 0 || i > INT32_MAX
			? NULL
			: cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(s, "enum"), (int)i);
		if (!v)
			field_error(f, o, "\"%s\": choose one of the options", label);
		return v ? cJSON_Duplicate(v, 1) : NULL;
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "number"))) {
		/* as JSON reads numbers: no hex, "inf" or surrounding text */
		cJSON *v = cJSON_ParseWithOpts(text, NULL, 1);
		int integer = !strcmp(pattern_page_str(o, "step"), "1");
		if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
			field_error(f, o, "\"%s\" must be a number", label);
		else if (integer && floor(v->valuedouble) != v->valuedouble)
			field_error(f, o, "\"%s\" must be a whole number", label);
		else
			return v;
		cJSON_Delete(v);
		return NULL;
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "json"))) {
		const char *at = NULL;
		char where[48];
		cJSON *v = cJSON_ParseWithOpts(text, &at, 1);
		if (!v) {
			position(text, at ? at : text, where, sizeof(where));
			field_error(f, o, "\"%s\" is not valid JSON (%s)", label, where);
		}
		return v;
	}
	return cJSON_CreateString(text);
}

/* Fields (and, for a post, the input) for schema s. */
static void form_build(struct form *f, const cJSON *s)
{
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(s, "properties");
	const cJSON *req = cJSON_GetObjectItemCaseSensitive(s, "required"), *p, *q;
	int i = 0;
	if (!cJSON_IsObject(props) || !props->child) { /* no schema, or no properties */
		cJSON *o = field_new(f, 0, NULL, s, 0);
		cJSON *v = f->input ? field_value(f, o, NULL) : NULL;
		if (v) { /* the whole input */
			cJSON_Delete(f->input);
			f->input = v;
		}
		return;
	}
	cJSON_ArrayForEach(p, props)
	{
		int required = 0;
		cJSON_ArrayForEach(q, req)
		{
			required |= cJSON_IsString(q) && !strcmp(q->valuestring, p->string);
		}
		cJSON *o = field_new(f, i++, p->string, p, required);
		cJSON *v = f->input ? field_value(f, o, p) : NULL;
		if (v)
			cJSON_AddItemToObject(f->input, p->string, v);
	}
}

/* ctx.run {version, fields} for the definition (of version). */
static struct form run_ctx(struct req *r, cJSON *ctx, const cJSON *definition, double version,
			   int post)
{
	cJSON *run = cJSON_AddObjectToObject(ctx, "run");
	struct form f = {r, cJSON_AddArrayToObject(run, "fields"),
			 post ? cJSON_CreateObject() : NULL, 0};
	cJSON_AddNumberToObject(run, "version", version);
	form_build(&f, cJSON_GetObjectItemCaseSensitive(definition, "input"));
	return f;
}

static int may_run(const cJSON *ctx)
{
	const cJSON *can = cJSON_GetObjectItemCaseSensitive(ctx, "can");
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(can, "execution"), "create"));
}

void pattern_run_form(struct req *r, cJSON *ctx)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(ctx, "pattern");
	if (may_run(ctx))
		run_ctx(r, ctx, cJSON_GetObjectItemCaseSensitive(p, "definition"),
			cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(p, "latest_version")),
			0);
}

/* GET /patterns/{id}/run */
int web_pattern_run_page(struct req *r)
{
	cJSON *ctx;
	int rc;
	if ((rc = pattern_page_begin(r, &ctx)) || !ctx)
		return rc;
	pattern_run_form(r, ctx);
	rc = web_render(r, 200, "pattern_run", ctx);
	cJSON_Delete(ctx);
	return rc;
}

/* 1 when an API problem's path ("input.a", "input.a.b", "input.a[0]") is about the field
 * of prop; the whole input's field ("") takes every path. */
static int path_of(const char *path, const char *prop)
{
	size_t k = strlen(prop);
	if (!k)
		return !strncmp(path, "input", 5);
	return !strncmp(path, "input.", 6) && !strncmp(path + 6, prop, k) &&
	       (!path[6 + k] || path[6 + k] == '.' || path[6 + k] == '[');
}

/* The API's 422 problems, each next to its field (the longest property name that the
 * path starts with: names may hold dots); the rest as the form's error. */
static void api_problems(struct form *f, cJSON *run, const cJSON *refused, const cJSON *problems)
{
	const cJSON *pr;
	cJSON_ArrayForEach(pr, problems)
	{
		const char *path = pattern_page_str(pr, "path"), *msg = pattern_page_problem(pr);
		size_t best_n = 0;
		cJSON *best = NULL, *o;
		cJSON_ArrayForEach(o, f->fields)
		{
			size_t k = strlen(pattern_page_str(o, "prop"));
			if (path_of(path, pattern_page_str(o, "prop")) && (!best || k > best_n)) {
				best = o;
				best_n = k;
			}
		}
		if (!best && !cJSON_GetObjectItemCaseSensitive(run, "error"))
			cJSON_AddStringToObject(run, "error", msg);
		else if (best && !pattern_page_str(best, "error")[0]) /* a field's first problem */
			field_error(f, best, "\"%s\": %s", pattern_page_str(best, "label"), msg);
	}
	if (!f->errors && !cJSON_GetObjectItemCaseSensitive(run, "error"))
		cJSON_AddStringToObject(run, "error", pattern_page_str(refused, "message"));
}

/* Submit the input through the queue: 0 with the 303 to the execution made, or 1 when
 * refused (the errors are on the form, *status the page's). */
static int submit(struct req *r, struct form *f, cJSON *run, const cJSON *pattern, int64_t version,
		  int *status)
{
	cJSON *body = cJSON_CreateObject(), *answer = NULL;
	cJSON_AddStringToObject(body, "pattern", pattern_page_str(pattern, "id"));
	cJSON_AddNumberToObject(body, "version", (double)version);
	cJSON_AddItemToObject(body, "input", f->input);
	f->input = NULL;
	int rc = web_api_call(r, "POST", "/api/v1/executions", body, &answer);
	const cJSON *refused = pattern_page_refusal(answer);
	const char *id = pattern_page_str(answer, "id");
	cJSON_Delete(body);
	if (!rc && !refused && pattern_page_safe_id(id)) {
		char to[96];
		snprintf(to, sizeof(to), "/executions/%s", id);
		cJSON_Delete(answer);
		web_form_done(r, 0, to, "Queued. This page follows the execution as it runs.",
			      NULL);
		return 0;
	}
	if (refused) {
		api_problems(f, run, refused, cJSON_GetObjectItemCaseSensitive(answer, "problems"));
	} else if (rc) { /* refused outright: the role, a quota, ... */
		*status = err_http_status(r->err.code);
		cJSON_AddStringToObject(run, "error",
					r->err.code == ERR_INTERNAL || !r->err.msg[0]
					    ? "something went wrong; try again"
					    : r->err.msg);
		err_clear(&r->err);
	}
	cJSON_Delete(answer);
	return 1;
}

/* POST /patterns/{id}/run (version, in-<n> for the n-th property, or input): the execution's page,
 * or the form again with what to fix. */
int web_pattern_run(struct req *r)
{
	cJSON *ctx, *older = NULL;
	const char *posted = req_form(r, "version");
	int64_t version = 0;
	int rc, status = 422;
	if ((rc = pattern_page_begin(r, &ctx)) || !ctx)
		return rc;
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(ctx, "pattern");
	const cJSON *def = cJSON_GetObjectItemCaseSensitive(p, "definition");
	int64_t latest =
	    (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(p, "latest_version"));
	/* the version the form was made from reads it; one deleted since cannot */
	int gone = posted && (str_to_i64(posted, &version) || version < 1 ||
			      (version != latest && pattern_page_version(r, posted, &older)));
	if (gone || !posted)
		version = latest;
	if (older)
		def = cJSON_GetObjectItemCaseSensitive(older, "definition");
	err_clear(&r->err);
	struct form f = run_ctx(r, ctx, def, (double)version, 1);
	cJSON *run = cJSON_GetObjectItemCaseSensitive(ctx, "run");
	if (gone)
		cJSON_AddStringToObject(run, "error",
					"That version of the pattern is gone: this "
					"form is for the latest one.");
	else if (!f.errors && !submit(r, &f, run, p, version, &status))
		goto out; /* rc is 0: the 303 is made */
	rc = web_render(r, status, "pattern_run", ctx);
out:
	cJSON_Delete(f.input);
	cJSON_Delete(older);
	cJSON_Delete(ctx);
	return rc;
}
