/*
 * The dashboard's templates: compiled once at start-up from the copies
 * embedded in the binary (a broken one stops the server, naming its file and
 * line), or, with --dev, read from <dev_dir>/templates on every render so
 * they can be edited live. A template's name is its path under templates/
 * without ".html" ("setup", "partials/field").
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "web/web.h"
#include "web/tmpl.h"
#include "server/server.h"
#include "core/embed.h"
#include "core/core.h"

extern const struct embedded_file web_template_files[];

#define MAX_TEMPLATES 256

static struct tmpl_set *compiled; /* set once at start-up, read-only after */

struct sources {
	struct tmpl_source src[MAX_TEMPLATES];
	char *owned[2 * MAX_TEMPLATES];
	size_t n, nowned;
};

static void sources_release(struct sources *s)
{
	for (size_t i = 0; i < s->nowned; i++)
		free(s->owned[i]);
	s->n = s->nowned = 0;
}

/* "dir/x.html" -> "dir/x"; NULL for a file that is not a template. */
static char *template_name(const char *path)
{
	size_t n = strlen(path);
	if (n <= 5 || strcmp(path + n - 5, ".html"))
		return NULL;
	return xstrndup(path, n - 5);
}

static int add_source(struct sources *s, const char *path, const char *text, size_t len,
		      int own_text, struct err *e)
{
	char *name = template_name(path);
	if (!name) {
		if (own_text)
			free((char *)text);
		return 0;
	}
	if (s->n == MAX_TEMPLATES) {
		free(name);
		if (own_text)
			free((char *)text);
		return err_set(e, ERR_INVALID, NULL, "more than %d templates", MAX_TEMPLATES);
	}
	s->owned[s->nowned++] = name;
	if (own_text)
		s->owned[s->nowned++] = (char *)text;
	s->src[s->n++] = (struct tmpl_source){ name, text, len };
	return 0;
}

/* Every *.html under dir (rel is the path so far), depth-first. */
static int read_dir(struct sources *s, const char *root, const char *rel, int depth,
		    struct err *e)
{
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s%s%s", root, rel[0] ? "/" : "", rel);
	DIR *d = opendir(dir);
	if (!d)
		return err_set(e, ERR_INVALID, NULL, "cannot read the templates in %.200s", dir);
	struct dirent *de;
	int rc = 0;
	while (!rc && (de = readdir(d))) {
		char sub[512], full[1536];
		struct stat st;
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
		snprintf(full, sizeof(full), "%s/%s", root, sub);
		if (stat(full, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (depth < 4)
				rc = read_dir(s, root, sub, depth + 1, e);
			continue;
		}
		size_t len = 0;
		char *text = NULL;
		char *name = template_name(sub);
		free(name);
		if (!name)
			continue;
		if (file_read_all(full, 1 << 20, &text, &len))
			rc = err_set(e, ERR_INVALID, NULL, "cannot read %.200s", full);
		else
			rc = add_source(s, sub, text, len, 1, e);
	}
	closedir(d);
	return rc;
}

static struct tmpl_set *compile_from(const struct config *cfg, struct err *e)
{
	struct sources s = { .n = 0 };
	int rc = 0;
	if (cfg->dev) {
		char root[1024];
		snprintf(root, sizeof(root), "%s/templates", cfg->dev_dir);
		rc = read_dir(&s, root, "", 0, e);
	} else {
		for (const struct embedded_file *f = web_template_files; !rc && f->path; f++)
			rc = add_source(&s, f->path, f->data, f->len, 0, e);
	}
	struct tmpl_set *set = rc ? NULL : tmpl_compile(s.src, s.n, e);
	if (!set && !rc) { /* "name:line: ..." as "templates/name.html:line: ..." */
		char msg[sizeof(e->msg)];
		const char *colon = strchr(e->msg, ':');
		int n = colon ? (int)(colon - e->msg) : 0;
		snprintf(msg, sizeof(msg), "templates/%.*s.html%s", n, e->msg, colon ? colon : "");
		err_set(e, ERR_INVALID, NULL, "%s", msg);
	}
	sources_release(&s);
	return set;
}

int web_templates_load(const struct config *cfg, struct err *e)
{
	struct tmpl_set *set = compile_from(cfg, e);
	if (!set)
		return e->code ? e->code : ERR_INVALID;
	tmpl_free(compiled);
	compiled = set;
	return 0;
}

void web_templates_free(void)
{
	tmpl_free(compiled);
	compiled = NULL;
}

int web_render(struct req *r, int status, const char *name, const cJSON *ctx)
{
	struct buf b = BUF_INIT;
	struct err e;
	struct tmpl_set *dev = NULL;
	const struct tmpl_set *set = compiled;
	if (r->app->cfg->dev && !(set = dev = compile_from(r->app->cfg, &e))) {
		/* --dev only: the editor's mistake, named on the page */
		log_kv(LOG_ERROR, "web", "template error", "error", e.msg, NULL);
		return req_send(r, 500, "text/plain; charset=utf-8", e.msg, strlen(e.msg));
	}
	int rc = set ? tmpl_render(set, name, ctx, &b, &e) : err_set(&e, ERR_INTERNAL, NULL,
								     "templates not loaded");
	tmpl_free(dev);
	if (rc) {
		buf_release(&b);
		log_kv(LOG_ERROR, "web", "cannot render", "template", name, "error", e.msg, NULL);
		return req_fail(r, ERR_INTERNAL, NULL, NULL, "the page cannot be shown");
	}
	req_send(r, status, "text/html; charset=utf-8", b.p, b.len);
	buf_release(&b);
	return 0;
}

void web_error_page(struct req *r, int status, const char *message)
{
	static const struct { int status; const char *heading; } headings[] = {
		{ 400, "That request was not right" }, { 401, "Sign in first" },
		{ 403, "Not allowed" },		       { 404, "Not found" },
		{ 409, "That conflicts with something" }, { 413, "That is too large" },
		{ 429, "Too many requests" },	       { 503, "Try again in a moment" },
	};
	const char *heading = status >= 500 ? "Something went wrong" : "That did not work";
	for (size_t i = 0; i < ARRAY_SIZE(headings); i++)
		if (headings[i].status == status)
			heading = headings[i].heading;
	cJSON *ctx = cJSON_CreateObject();
	cJSON_AddStringToObject(ctx, "body_class", "auth");
	cJSON_AddStringToObject(ctx, "heading", heading);
	cJSON_AddStringToObject(ctx, "message", message);
	cJSON_AddNumberToObject(ctx, "status", status);
	cJSON_AddStringToObject(ctx, "request_id", r->request_id);
	if (web_render(r, status, "error", ctx)) /* the page itself failed: plain text */
		req_send(r, status, "text/plain; charset=utf-8", message, strlen(message));
	cJSON_Delete(ctx);
}
