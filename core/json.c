/*
 * JSON with limits. One pre-scan validates UTF-8 and measures nesting outside
 * strings, so cJSON only ever sees well-formed text of bounded depth. Typed
 * getters name the offending field in the error they set.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

int utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t len;
		unsigned int cp;
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (i + len > n)
			return 0;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

/* The deepest nesting of brackets outside strings (stopping past max_depth),
 * or -2 when a string holds an escaped NUL. */
static int json_scan_depth(const char *s, size_t n, int max_depth)
{
	int depth = 0, in_str = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (in_str) {
			if (c == '\\') {
				/* \u0000 would cut every C string built from the value. */
				if (i + 5 < n && s[i + 1] == 'u' && !strncmp(s + i + 2, "0000", 4))
					return -2;
				i++;
			} else if (c == '"') {
				in_str = 0;
			}
			continue;
		}
		if (c == '"') {
			in_str = 1;
		} else if (c == '[' || c == '{') {
			if (++depth > max_depth)
				return depth;
		} else if (c == ']' || c == '}') {
			depth--;
		}
	}
	return 0;
}

cJSON *json_parse(const char *s, size_t n, int max_depth, struct err *e)
{
	if (!utf8_valid(s, n)) {
		err_setc(e, ERR_INVALID, "invalid_utf8", NULL, "request body is not valid UTF-8");
		return NULL;
	}
	if (memchr(s, '\0', n)) {
		err_setc(e, ERR_INVALID, "invalid_json", NULL, "request body contains a NUL byte");
		return NULL;
	}
	int depth = json_scan_depth(s, n, max_depth);
	if (depth == -2) {
		err_setc(e, ERR_INVALID, "invalid_json", NULL,
			 "strings may not contain \\u0000");
		return NULL;
	}
	if (depth > max_depth) {
		err_setc(e, ERR_INVALID, "too_deep", NULL, "JSON nesting is deeper than %d",
			 max_depth);
		return NULL;
	}
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(s, n, &end, 0);
	if (root && end) {
		/* Only whitespace may follow the value. */
		while (end < s + n && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
			end++;
		if (end != s + n) {
			cJSON_Delete(root);
			root = NULL;
		}
	}
	if (!root) {
		const char *at = cJSON_GetErrorPtr();
		size_t off = end && end >= s && end <= s + n ? (size_t)(end - s) :
			     at && at >= s && at <= s + n   ? (size_t)(at - s) :
							      0;
		err_setc(e, ERR_INVALID, "invalid_json", NULL, "malformed JSON near byte %zu", off);
		return NULL;
	}
	return root;
}

int json_only_fields(const cJSON *obj, const char *const *allowed, struct err *e)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, obj)
	{
		int ok = 0;
		for (const char *const *a = allowed; *a; a++)
			if (it->string && !strcmp(it->string, *a)) {
				ok = 1;
				break;
			}
		if (!ok)
			return err_setc(e, ERR_INVALID, "unknown_field", it->string ? it->string : "",
					"unknown field '%.100s'", it->string ? it->string : "");
	}
	return 0;
}

/* Common lookup: 0 found, 1 absent-and-optional, <0 error. */
static int json_lookup(const cJSON *obj, const char *key, int flags, const cJSON **out,
		       struct err *e)
{
	const cJSON *it = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
	if (it && cJSON_IsNull(it) && (flags & JSON_NULLABLE))
		it = NULL;
	if (!it) {
		if (flags & JSON_REQUIRED)
			return err_setc(e, ERR_INVALID, "missing_field", key, "'%s' is required",
					key);
		return 1;
	}
	*out = it;
	return 0;
}

int json_get_str(const cJSON *obj, const char *key, int flags, size_t max_len, const char **out,
		 struct err *e)
{
	const cJSON *it = NULL;
	int rc = json_lookup(obj, key, flags, &it, e);
	if (rc)
		return rc;
	if (!cJSON_IsString(it))
		return err_setc(e, ERR_INVALID, "invalid_field", key, "'%s' must be a string", key);
	if (max_len && strlen(it->valuestring) > max_len)
		return err_setc(e, ERR_INVALID, "invalid_field", key,
				"'%s' is longer than %zu bytes", key, max_len);
	*out = it->valuestring;
	return 0;
}

int json_get_num(const cJSON *obj, const char *key, int flags, double min, double max, double *out,
		 struct err *e)
{
	const cJSON *it = NULL;
	int rc = json_lookup(obj, key, flags, &it, e);
	if (rc)
		return rc;
	if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
		return err_setc(e, ERR_INVALID, "invalid_field", key, "'%s' must be a number", key);
	if (it->valuedouble < min || it->valuedouble > max)
		return err_setc(e, ERR_INVALID, "out_of_range", key,
				"'%s' must be between %g and %g", key, min, max);
	*out = it->valuedouble;
	return 0;
}

int json_get_int(const cJSON *obj, const char *key, int flags, int64_t min, int64_t max,
		 int64_t *out, struct err *e)
{
	double d;
	int rc = json_get_num(obj, key, flags, (double)min, (double)max, &d, e);
	if (rc)
		return rc;
	if (d != floor(d))
		return err_setc(e, ERR_INVALID, "invalid_field", key, "'%s' must be an integer",
				key);
	*out = (int64_t)d;
	return 0;
}

int json_get_bool(const cJSON *obj, const char *key, int flags, int *out, struct err *e)
{
	const cJSON *it = NULL;
	int rc = json_lookup(obj, key, flags, &it, e);
	if (rc)
		return rc;
	if (!cJSON_IsBool(it))
		return err_setc(e, ERR_INVALID, "invalid_field", key, "'%s' must be a boolean",
				key);
	*out = cJSON_IsTrue(it);
	return 0;
}

int json_get_enum(const cJSON *obj, const char *key, int flags, const char *const *values, int *out,
		  struct err *e)
{
	const char *s;
	int rc = json_get_str(obj, key, flags, 0, &s, e);
	if (rc)
		return rc;
	for (int i = 0; values[i]; i++)
		if (!strcmp(values[i], s)) {
			*out = i;
			return 0;
		}
	return err_setc(e, ERR_INVALID, "invalid_field", key, "'%s' has an unsupported value",
			key);
}

int json_get_obj(const cJSON *obj, const char *key, int flags, const cJSON **out, struct err *e)
{
	const cJSON *it = NULL;
	int rc = json_lookup(obj, key, flags, &it, e);
	if (rc)
		return rc;
	if (!cJSON_IsObject(it))
		return err_setc(e, ERR_INVALID, "invalid_field", key, "'%s' must be an object",
				key);
	*out = it;
	return 0;
}

int json_get_arr(const cJSON *obj, const char *key, int flags, size_t max_items, const cJSON **out,
		 struct err *e)
{
	const cJSON *it = NULL;
	int rc = json_lookup(obj, key, flags, &it, e);
	if (rc)
		return rc;
	if (!cJSON_IsArray(it))
		return err_setc(e, ERR_INVALID, "invalid_field", key, "'%s' must be an array", key);
	if (max_items && (size_t)cJSON_GetArraySize(it) > max_items)
		return err_setc(e, ERR_INVALID, "invalid_field", key,
				"'%s' has more than %zu items", key, max_items);
	*out = it;
	return 0;
}

char *json_print(const cJSON *item)
{
	char *s = cJSON_PrintUnformatted(item);
	if (!s) {
		/* cJSON only fails on allocation: treat like xmalloc. */
		abort();
	}
	return s;
}
