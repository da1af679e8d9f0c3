/*
 * The pattern builder's pages: GET /patterns/{id}/builder (a pattern's latest
 * definition on the canvas) and GET /patterns/builder/new (an empty one). The
 * server renders only the shell: the mount point, what the script needs to
 * start (the definition as a JSON block, the CSRF token for its fetches, and
 * whether the viewer may save), and a no-script notice. The canvas itself is
 * static/src/builder/, bundled to /static/dist/builder.js. Every write the
 * builder makes goes through the API (validate, create, add a version), so
 * the permission checks are the API's own.
 */
#include <string.h>

#include "web/web.h"
#include "web/patterns_internal.h"
#include "db/db.h"
#include "server/server.h"
#include "core/core.h"

/* What the script reads at start-up: ctx.boot, rendered into <script type="application/json">
 * (the engine escapes JSON there, so a hostile name cannot close the block). */
static void boot_add(cJSON *ctx, const cJSON *pattern, const char *template)
{
	const cJSON *can = cJSON_GetObjectItemCaseSensitive(ctx, "can");
	const cJSON *pat = cJSON_GetObjectItemCaseSensitive(can, "pattern");
	const cJSON *exe = cJSON_GetObjectItemCaseSensitive(can, "execution");
	cJSON *b = cJSON_AddObjectToObject(ctx, "boot");
	/* saving a new pattern needs create, a new version of one needs update */
	int may = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pat, pattern ? "update" : "create"));
	cJSON_AddBoolToObject(b, "can_save", may);
	cJSON_AddBoolToObject(b, "can_run", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(exe, "create")));
	cJSON_AddStringToObject(b, "node_types_url", "/api/v1/node-types");
	cJSON_AddStringToObject(b, "library_url", "/api/v1/patterns/library");
	/* a library pattern to start from (?template=NAME): the script fetches it, and a name
	 * the library does not have is told there */
	if (template && *template)
		cJSON_AddStringToObject(b, "template", template);
	if (pattern) {
		cJSON *p = cJSON_AddObjectToObject(b, "pattern");
		cJSON_AddStringToObject(p, "id", pattern_page_str(pattern, "id"));
		cJSON_AddStringToObject(p, "name", pattern_page_str(pattern, "name"));
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(pattern, "latest_version");
		cJSON_AddNumberToObject(p, "version", cJSON_IsNumber(v) ? v->valuedouble : 0);
		const cJSON *def = cJSON_GetObjectItemCaseSensitive(pattern, "definition");
		cJSON_AddItemToObject(b, "definition",
				      def ? cJSON_Duplicate(def, 1) : cJSON_CreateNull());
	} else {
		cJSON_AddNullToObject(b, "pattern");
		cJSON_AddNullToObject(b, "definition");
	}
	if (!may)
		cJSON_AddTrueToObject(ctx, "read_only");
}

/* GET /patterns/{id}/builder */
int web_builder_page(struct req *r)
{
	cJSON *ctx;
	int rc;
	if ((rc = pattern_page_begin(r, &ctx)) || !ctx)
		return rc;
	cJSON_AddStringToObject(ctx, "crumb", "Builder");
	boot_add(ctx, cJSON_GetObjectItemCaseSensitive(ctx, "pattern"), NULL);
	rc = web_render(r, 200, "builder", ctx);
	cJSON_Delete(ctx);
	return rc;
}

/* GET /patterns/builder/new: an empty canvas; saving creates the pattern. */
int web_builder_new_page(struct req *r)
{
	struct db *db;
	cJSON *ctx;
	int rc;
	if ((rc = web_app_begin(r, &db, "patterns", &ctx)) || !ctx)
		return rc;
	cJSON_AddTrueToObject(ctx, "is_new");
	boot_add(ctx, NULL, req_query(r, "template"));
	rc = web_render(r, 200, "builder", ctx);
	cJSON_Delete(ctx);
	return rc;
}
