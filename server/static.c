/*
 * GET /static/...: assets embedded at build time (core/embed.h tables), with
 * a content type by extension, an ETag and revalidation. The dispatcher has
 * already refused dot segments, NUL and encoded slashes, and lookup is an
 * exact match in the embedded table, so nothing outside static/ is reachable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"
#include "core/embed.h"
#include "core/core.h"

extern const struct embedded_file web_static_files[];
extern const struct embedded_file web_front_files[]; /* dist/: the esbuild bundle */

static const char *mime_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".css", "text/css; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".ico", "image/x-icon" },
		{ ".woff2", "font/woff2" },
		{ ".json", "application/json" },
		{ ".map", "application/json" },
	};
	const char *dot = strrchr(path, '.');
	for (size_t i = 0; dot && i < ARRAY_SIZE(types); i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

static uint32_t fnv1a(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

/* --dev: the file from <dev_dir>/static, read on every request; 1 if there is none. */
static int static_from_disk(struct req *r, const char *want)
{
	char path[1024], *data = NULL;
	size_t len = 0;
	snprintf(path, sizeof(path), "%s/static/%s", r->app->cfg->dev_dir, want);
	if (file_read_all(path, 16 << 20, &data, &len))
		return 1;
	req_add_header(r, "Cache-Control", "no-store");
	int rc = req_send(r, 200, mime_type(path), data, len);
	free(data);
	return rc;
}

int handle_static(struct req *r)
{
	const char *want = req_param(r, 0);
	const struct embedded_file *f = NULL;
	char etag[24];
	/* the dispatcher refused dot segments, NUL and encoded slashes in the path */
	int rc;
	if (want && r->app->cfg->dev && (rc = static_from_disk(r, want)) != 1)
		return rc;
	for (const struct embedded_file *it = web_static_files; want && !f && it->path; it++)
		if (!strcmp(it->path, want))
			f = it;
	for (const struct embedded_file *it = web_front_files; want && !f && it->path; it++)
		if (!strcmp(it->path, want))
			f = it;
	if (!f)
		return req_fail(r, ERR_NOT_FOUND, NULL, NULL, "no such file");
	snprintf(etag, sizeof(etag), "\"%08x-%zx\"", fnv1a(f->data, f->len), f->len);
	req_add_header(r, "ETag", etag);
	req_add_header(r, "Cache-Control", "public, max-age=300, must-revalidate");
	const char *inm = req_header(r, "If-None-Match");
	if (inm && !strcmp(inm, etag))
		return req_send(r, 304, mime_type(f->path), "", 0);
	return req_send_ref(r, 200, mime_type(f->path), f->data, f->len);
}
