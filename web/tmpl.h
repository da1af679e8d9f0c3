/*
 * Templates: the dashboard's HTML, compiled once and rendered from cJSON.
 *
 * SYNTAX (Mustache-like)
 *   {{name}} {{a.b}} {{.}}   a value, escaped for where it stands (below)
 *   {{#name}}...{{/name}}    a section: once per item of an array, once with an
 *                            object as the innermost scope, once for another
 *                            truthy value; never for a falsy one (missing, null,
 *                            false, 0, "", []); {{#rows.0}} (a name ending in an
 *                            index) only tests that the item exists: it is not a
 *                            scope, so a row never lends its names to the others
 *   {{^name}}...{{/name}}    an inverted section: once, when name is falsy
 *   {{>partial}}             another template, rendered here with the same scopes
 *   {{<layout}}              (first in a template) this page extends layout: its
 *   {{$block}}...{{/block}}  blocks replace the layout's blocks of the same name,
 *                            whose bodies are the defaults
 *   {{&name}}                trusted HTML as is (server-rendered SVG), text only
 *   {{! comment }}
 *
 * ESCAPING BY CONTEXT
 * The compiler follows the HTML around each tag and picks the escaping:
 *   - text and quoted attribute values: & < > " ' as entities;
 *   - URL attributes (href, src, action, formaction, poster, cite, ...):
 *     only http:, https:, mailto: and relative URLs (anything else renders
 *     "about:invalid"), then entity-escaped;
 *   - inside <script type="application/json">: the value as JSON, with < > &
 *     and U+2028/9 as \u escapes.
 * A value in any other place (an unquoted attribute, an event handler or style
 * attribute, any other script or style, a comment, a tag or attribute name)
 * is a compile error, as is a section that ends in another context than it
 * began. Errors name the file and line.
 */
#ifndef WEB_TMPL_H
#define WEB_TMPL_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "core/err.h"

struct buf;
struct tmpl_set;

/* One source file: name is how {{>name}}, {{<name}} and tmpl_render refer to it. */
struct tmpl_source {
	const char *name;
	const char *text;
	size_t len;
};

/* Compile every source (partials and layouts resolved across the set); on
 * error NULL with e->msg "file:line: what". */
struct tmpl_set *tmpl_compile(const struct tmpl_source *src, size_t n, struct err *e);
void tmpl_free(struct tmpl_set *set);
/* Append template name rendered with ctx (an object) to out. */
int tmpl_render(const struct tmpl_set *set, const char *name, const cJSON *ctx, struct buf *out,
		struct err *e);

#endif
