/*
 * HTML helpers shared by the page handlers: escaping and the same-origin
 * check for cookie- or form-authenticated writes.
 */
#include <string.h>

#include "web/web.h"
#include "server/server.h"
#include "core/core.h"

void html_escape(struct buf *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': buf_adds(out, "&amp;"); break;
		case '<': buf_adds(out, "&lt;"); break;
		case '>': buf_adds(out, "&gt;"); break;
		case '"': buf_adds(out, "&quot;"); break;
		case '\'': buf_adds(out, "&#39;"); break;
		default: buf_addch(out, *s);
		}
	}
}

int web_same_origin(struct req *r)
{
	const char *origin = req_header(r, "Origin"), *host = req_header(r, "Host");
	if (!origin)
		return 1; /* not a cross-site browser request (SameSite covers cookies) */
	if (!host)
		return 0;
	const char *rest = NULL;
	if (str_has_prefix(origin, "http://"))
		rest = origin + 7;
	else if (str_has_prefix(origin, "https://"))
		rest = origin + 8;
	return rest && !strcmp(rest, host);
}
