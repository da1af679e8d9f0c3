/*
 * Expressions at run time. A plain path (".", ".a.b", ".a[0].b", ".[\"k\"]")
 * is read straight from the cJSON tree, with jq's meaning (a missing key or
 * indexing null gives null); anything else, or a path that would be a jq
 * error, goes to the sandbox pool. Also: jq truthiness and the canonical text
 * used to group equal values (object keys sorted).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "engine/exec_internal.h"
#include "core/core.h"

#define PATH_MAX_STEPS 32

/* 1 and *out (borrowed, may be NULL = null) if src is a plain path that
 * applies cleanly to root; 0 to defer to jq. */
static int path_eval(const char *src, const cJSON *root, const cJSON **out)
{
	const char *p = src;
	const cJSON *cur = root;
	int steps = 0;
	while (isspace((unsigned char)*p))
		p++;
	if (*p != '.')
		return 0;
	if (p[1] == '\0' || isspace((unsigned char)p[1])) {
		p++;
		goto end;
	}
	while (*p) {
		char key[128];
		size_t n = 0;
		long idx = -1;
		if (++steps > PATH_MAX_STEPS)
			return 0;
		if (p[0] == '.' && (isalpha((unsigned char)p[1]) || p[1] == '_')) {
			p++;
			while (isalnum((unsigned char)*p) || *p == '_') {
				if (n + 1 >= sizeof(key))
					return 0;
				key[n++] = *p++;
			}
		} else if ((p[0] == '[' || (p[0] == '.' && p[1] == '[')) &&
			   isdigit((unsigned char)p[p[0] == '.' ? 2 : 1])) {
			p += p[0] == '.' ? 2 : 1;
			char *end;
			idx = strtol(p, &end, 10);
			if (*end != ']' || idx > 1000000)
				return 0;
			p = end + 1;
		} else {
			break;
		}
		key[n] = '\0';
		if (!cur || cJSON_IsNull(cur)) {
			cur = NULL;
			continue;
		}
		if (idx >= 0) {
			if (!cJSON_IsArray(cur))
				return 0;
			cur = cJSON_GetArrayItem(cur, (int)idx);
		} else {
			if (!cJSON_IsObject(cur))
				return 0;
			cur = cJSON_GetObjectItemCaseSensitive(cur, key);
		}
	}
end:
	while (isspace((unsigned char)*p))
		p++;
	if (*p)
		return 0;
	*out = cur;
	return 1;
}

int expr_eval(struct engine *en, const char *src, const cJSON *root, cJSON **out,
	      struct err *e)
{
	const cJSON *v = NULL;
	cJSON *outputs = NULL;
	*out = NULL;
	if (path_eval(src, root, &v)) {
		*out = v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
		return 0;
	}
	char *input = cJSON_PrintUnformatted(root);
	int ret = jq_pool_eval(en->jq, src, input ? input : "null", 0, JQ_FIRST_OUTPUT, &outputs,
			       e);
	free(input);
	if (ret < 0)
		return ret;
	cJSON *first = cJSON_DetachItemFromArray(outputs, 0);
	cJSON_Delete(outputs);
	*out = first ? first : cJSON_CreateNull();
	return 0;
}

int expr_truthy(const cJSON *v)
{
	return v && !cJSON_IsNull(v) && !cJSON_IsFalse(v);
}

static int key_cmp(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	return strcmp(x->string, y->string);
}

static void canon(struct buf *b, const cJSON *v)
{
	if (cJSON_IsObject(v)) {
		size_t n = 0, i = 0;
		const cJSON *c;
		cJSON_ArrayForEach(c, v) n++;
		const cJSON **kids = xcalloc(n + 1, sizeof(*kids));
		cJSON_ArrayForEach(c, v) kids[i++] = c;
		qsort(kids, n, sizeof(*kids), key_cmp);
		buf_addch(b, '{');
		for (i = 0; i < n; i++) {
			if (i)
				buf_addch(b, ',');
			buf_addch(b, '"');
			buf_add_json_str(b, kids[i]->string, strlen(kids[i]->string));
			buf_adds(b, "\":");
			canon(b, kids[i]);
		}
		buf_addch(b, '}');
		free(kids);
	} else if (cJSON_IsArray(v)) {
		const cJSON *c;
		int first = 1;
		buf_addch(b, '[');
		cJSON_ArrayForEach(c, v) {
			if (!first)
				buf_addch(b, ',');
			first = 0;
			canon(b, c);
		}
		buf_addch(b, ']');
	} else {
		char *s = cJSON_PrintUnformatted(v);
		buf_adds(b, s ? s : "null");
		free(s);
	}
}

char *json_canonical(const cJSON *v)
{
	struct buf b;
	buf_init(&b);
	canon(&b, v);
	return buf_detach(&b, NULL);
}
