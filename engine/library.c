/*
 * The built-in pattern library (SPEC.md §3): the YAML documents of
 * engine/library/, embedded at build time (tools/embed), each converted once
 * to canonical JSON on first use. Entries are read-only and live as long as
 * the process, so callers borrow them freely from any thread.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "core/core.h"
#include "core/embed.h"

extern const struct embedded_file engine_library_files[];

static struct library_entry *entries;
static size_t entries_count;
static pthread_once_t entries_once = PTHREAD_ONCE_INIT;

/* "consensus-builder.yaml" -> "consensus-builder" */
static char *name_of(const char *path)
{
	size_t n = strlen(path);
	if (n > 5 && !strcmp(path + n - 5, ".yaml"))
		n -= 5;
	return xstrndup(path, n);
}

static void entry_fill(struct library_entry *le, const struct embedded_file *f)
{
	struct err e;
	char *json = NULL;
	cJSON *doc;

	err_clear(&e);
	le->name = name_of(f->path);
	le->yaml = f->data;
	le->yaml_len = f->len;
	le->description = "";
	if (pattern_yaml_to_json(f->data, f->len, &json, &e)) {
		le->error = xstrdup(e.msg);
		log_error("library", "built-in pattern %s: %s", le->name, e.msg);
		return;
	}
	le->json = json;
	doc = cJSON_Parse(json);
	const cJSON *desc = cJSON_GetObjectItemCaseSensitive(doc, "description");
	if (cJSON_IsString(desc))
		le->description = xstrdup(desc->valuestring);
	cJSON_Delete(doc);
}

static void entries_load(void)
{
	size_t n = 0;
	while (engine_library_files[n].path)
		n++;
	entries = xcalloc(n ? n : 1, sizeof(*entries));
	for (size_t i = 0; i < n; i++)
		entry_fill(&entries[i], &engine_library_files[i]);
	entries_count = n;
}

size_t library_count(void)
{
	pthread_once(&entries_once, entries_load);
	return entries_count;
}

const struct library_entry *library_get(size_t i)
{
	return i < library_count() ? &entries[i] : NULL;
}

const struct library_entry *library_find(const char *name)
{
	for (size_t i = 0; name && i < library_count(); i++)
		if (!strcmp(entries[i].name, name))
			return &entries[i];
	return NULL;
}
