/*
 * Validation problems: a growable list of {node_id, path, code, message}
 * that pattern validation fills so that every problem is reported at once.
 * Fields are fixed-size; longer text is truncated on a UTF-8 boundary, so a
 * problem always renders as valid JSON.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "core/core.h"

void problems_init(struct problems *p)
{
	p->items = NULL;
	p->count = 0;
	p->cap = 0;
}

void problems_release(struct problems *p)
{
	free(p->items);
	problems_init(p);
}

/* Drop a multi-byte sequence that truncation cut short at the end of s. */
static void utf8_trim_tail(char *s)
{
	size_t len = strlen(s), i = len, need;
	unsigned char lead;

	while (i > 0 && len - i < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0)
		return;
	lead = (unsigned char)s[i - 1];
	if (lead < 0x80)
		return;
	need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
	if (len - (i - 1) < need)
		s[i - 1] = '\0';
}

static void copy_field(char *dst, size_t size, const char *src)
{
	if (str_copy(dst, size, src ? src : "") >= size)
		utf8_trim_tail(dst);
}

static struct problem *problems_push(struct problems *p)
{
	if (p->count == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		if (cap < p->cap || cap > SIZE_MAX / sizeof(*p->items))
			abort();
		p->items = xrealloc(p->items, cap * sizeof(*p->items));
		p->cap = cap;
	}
	return &p->items[p->count++];
}

void problems_add(struct problems *p, const char *node_id, const char *path, const char *code,
		  const char *fmt, ...)
{
	struct problem *pr = problems_push(p);
	va_list ap;
	int n;

	copy_field(pr->node_id, sizeof(pr->node_id), node_id);
	copy_field(pr->path, sizeof(pr->path), path);
	copy_field(pr->code, sizeof(pr->code), code);
	va_start(ap, fmt);
	n = vsnprintf(pr->message, sizeof(pr->message), fmt, ap);
	va_end(ap);
	if (n < 0)
		pr->message[0] = '\0';
	else if ((size_t)n >= sizeof(pr->message))
		utf8_trim_tail(pr->message);
}

static cJSON *problem_json(const struct problem *pr)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	if ((pr->node_id[0] && !cJSON_AddStringToObject(o, "node_id", pr->node_id)) ||
	    (pr->path[0] && !cJSON_AddStringToObject(o, "path", pr->path)) ||
	    !cJSON_AddStringToObject(o, "code", pr->code) ||
	    !cJSON_AddStringToObject(o, "message", pr->message)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *problems_json(const struct problems *p)
{
	cJSON *arr = cJSON_CreateArray(), *o;

	if (!arr)
		return NULL;
	for (size_t i = 0; i < p->count; i++) {
		o = problem_json(&p->items[i]);
		if (!o || !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			cJSON_Delete(arr);
			return NULL;
		}
	}
	return arr;
}
