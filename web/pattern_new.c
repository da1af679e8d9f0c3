/*
 * New patterns: GET /patterns/library lists the built-in library, each entry
 * with a clone form (POST /patterns/library/{name}/clone), and an import
 * form for a YAML or JSON document (POST /patterns/import). Both posts are
 * answered by the API's own handlers; a refused import comes back as this
 * page with the text kept and every problem listed with its node and path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/web.h"
#include "web/patterns_internal.h"
#include "db/db.h"
#include "server/server.h"
#include "core/core.h"

/* The first sentence of a library entry's description (they open with one). */
static void add_summary(cJSON *o, const char *desc)
{
	const char *end = strstr(desc, ". ");
	size_t n = end ? (size_t)(end - desc) + 1 : strlen(desc);
	char *s = xstrndup(desc, n);
	cJSON_AddStringToObject(o, "summary", s);
	free(s);
}

/* What a definition needs to run: the capabilities its nodes select agents by, each
 * once, with the largest minimum asked ("code-analysis (at least 3), general"). */
static void add_needs(cJSON *o, const cJSON *definition)
{
	cJSON *min = cJSON_CreateObject(); /* capability -> largest min */
	const cJSON *n, *cap;
	struct buf b = BUF_INIT;
	cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(definition, "nodes"))
	{
		const cJSON *sel = cJSON_GetObjectItemCaseSensitive(n, "select");
		double m = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(sel, "min"));
		cJSON_ArrayForEach(cap, cJSON_GetObjectItemCaseSensitive(sel, "capabilities"))
		{
			if (!cJSON_IsString(cap))
				continue;
			cJSON *had = cJSON_GetObjectItemCaseSensitive(min, cap->valuestring);
			if (!had)
				cJSON_AddNumberToObject(min, cap->valuestring, m > 1 ? m : 1);
			else if (m > had->valuedouble)
				cJSON_SetNumberValue(had, m);
		}
	}
	cJSON_ArrayForEach(cap, min)
	{
		buf_addf(&b, "%s%s", b.len ? ", " : "", cap->string);
		if (cap->valuedouble > 1)
			buf_addf(&b, " (at least %d)", (int)cap->valuedouble);
	}
	cJSON_AddStringToObject(o, "needs", b.p);
	buf_release(&b);
	cJSON_Delete(min);
}

/* Render the new-pattern page (library and import form) with ctx (deleted here). */
static int new_page(struct req *r, cJSON *ctx, int status)
{
	cJSON *answer = NULL;
	const cJSON *it;
	int rc = pattern_page_get(r, "/api/v1/patterns/library", NULL, &answer);
	cJSON *list = cJSON_AddArrayToObject(ctx, "library");
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(answer, "items"))
	{
		cJSON *o = cJSON_CreateObject();
		const char *desc = pattern_page_str(it, "description");
		cJSON_AddStringToObject(o, "name", pattern_page_str(it, "name"));
		cJSON_AddStringToObject(o, "description", desc);
		add_summary(o, desc);
		add_needs(o, cJSON_GetObjectItemCaseSensitive(it, "definition"));
		cJSON_AddItemToArray(list, o);
	}
	cJSON_Delete(answer);
	if (!rc)
		rc = web_render(r, status, "pattern_new", ctx);
	cJSON_Delete(ctx);
	return rc;
}

int web_patterns_library_page(struct req *r)
{
	struct db *db;
	cJSON *ctx;
	int rc;
	if ((rc = web_app_begin(r, &db, "patterns", &ctx)) || !ctx)
		return rc;
	return new_page(r, ctx, 200);
}

/* POST /patterns/library/{name}/clone (name?): the copy's page, or back here. */
int web_pattern_clone(struct req *r)
{
	const char *name = req_form(r, "name");
	cJSON *body = cJSON_CreateObject(), *answer = NULL;
	char to[120] = "/patterns/library", ok[200] = "";
	if (r->auth.kind != AUTH_COOKIE) {
		cJSON_Delete(body);
		return req_redirect(r, 303, "/login");
	}
	if (name && *name)
		cJSON_AddStringToObject(body, "name", name);
	int rc = web_api_call(r, "POST", "/api/v1/patterns/library/{name}/clone", body, &answer);
	const cJSON *refused = pattern_page_refusal(answer);
	const char *id = pattern_page_str(answer, "id");
	if (!rc && refused) /* a 422 the handler answered itself */
		rc = req_fail(r, ERR_UNPROCESSABLE, NULL, NULL, "%s",
			      pattern_page_str(refused, "message"));
	if (!rc && pattern_page_safe_id(id)) {
		snprintf(to, sizeof(to), "/patterns/%s", id);
		snprintf(ok, sizeof(ok), "Cloned %.64s into this workspace as %.64s.",
			 req_param(r, 0), pattern_page_str(answer, "name"));
	}
	cJSON_Delete(body);
	cJSON_Delete(answer);
	return web_form_done(r, rc, to, ok[0] ? ok : NULL, "/patterns/library");
}

/* The text is JSON when it opens with '{', else YAML (the import converts it). */
static int call_import(struct req *r, const char *text, cJSON **answer)
{
	const char *type =
		text[strspn(text, " \t\r\n")] == '{' ? "application/json" : "application/yaml";
	return web_api_call_raw(r, "POST", "/api/v1/patterns/import", text, type, answer);
}

/* ctx.import_error {message, problems: [{node, path, message}]} from a refusal. */
static void add_import_error(cJSON *ctx, const char *message, const cJSON *problems)
{
	cJSON *e = cJSON_AddObjectToObject(ctx, "import_error");
	cJSON *list = cJSON_AddArrayToObject(e, "problems");
	int n = cJSON_GetArraySize(problems);
	const cJSON *p;
	char head[64];
	snprintf(head, sizeof(head), "%d problem%s in the document", n, n == 1 ? "" : "s");
	cJSON_AddStringToObject(e, "message", n ? head : message);
	cJSON_ArrayForEach(p, problems)
	{
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "node", pattern_page_str(p, "node_id"));
		cJSON_AddStringToObject(o, "path", pattern_page_str(p, "path"));
		cJSON_AddStringToObject(o, "message", pattern_page_problem(p));
		cJSON_AddItemToArray(list, o);
	}
}

/* POST /patterns/import (document): the pattern's page, or this form again with the
 * document kept and what is wrong with it. */
int web_pattern_import(struct req *r)
{
	const char *doc = req_form(r, "document");
	struct db *db;
	cJSON *ctx, *answer = NULL;
	int rc, status = 422;
	if ((rc = web_app_begin(r, &db, "patterns", &ctx)) || !ctx)
		return rc;
	if (!doc || !doc[strspn(doc, " \t\r\n")]) {
		rc = req_fail(r, ERR_INVALID, NULL, "document", "paste a YAML or JSON document");
		doc = "";
	} else {
		rc = call_import(r, doc, &answer);
	}
	const cJSON *refused = pattern_page_refusal(answer);
	const char *id = pattern_page_str(answer, "id");
	if (!rc && !refused && pattern_page_safe_id(id)) {
		char to[120], ok[200];
		snprintf(to, sizeof(to), "/patterns/%s", id);
		snprintf(
		    ok, sizeof(ok), "Imported %.64s as version %d.",
		    pattern_page_str(answer, "name"),
		    (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(answer, "version")));
		cJSON_Delete(answer);
		cJSON_Delete(ctx);
		return web_form_done(r, 0, to, ok, NULL);
	}
	if (refused) {
		add_import_error(ctx, pattern_page_str(refused, "message"),
				 cJSON_GetObjectItemCaseSensitive(answer, "problems"));
	} else {
		status = err_http_status(r->err.code ? r->err.code : ERR_INTERNAL);
		add_import_error(ctx,
				 r->err.code == ERR_INTERNAL || !r->err.msg[0]
				     ? "the document could not be imported; try again"
				     : r->err.msg,
				 NULL);
	}
	err_clear(&r->err);
	cJSON_AddStringToObject(ctx, "document", doc);
	cJSON_Delete(answer);
	return new_page(r, ctx, status);
}
