/*
 * JSON in with limits, through typed getters; JSON out through cJSON.
 *
 * json_parse() validates UTF-8 and the nesting depth in one linear scan
 * before cJSON sees the bytes, so hostile input never reaches the parser's
 * recursion. Getters set a struct err naming the field (400 by default) and
 * return a negative code; JSON_REQUIRED makes absence an error.
 */
#ifndef CORE_JSON_H
#define CORE_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "err.h"

#define JSON_MAX_DEPTH 64

enum json_flags {
	JSON_OPTIONAL = 0,
	JSON_REQUIRED = 1,
	JSON_NULLABLE = 2, /* an explicit null counts as absent */
};

/* 1 if s[0..n) is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
int utf8_valid(const char *s, size_t n);

/* Parse a complete document. Errors: ERR_INVALID with slug invalid_json,
 * invalid_utf8 or too_deep. The caller owns the tree (cJSON_Delete). */
cJSON *json_parse(const char *s, size_t n, int max_depth, struct err *e);

/* Refuse members not in the NULL-terminated allowed list (400 unknown_field). */
int json_only_fields(const cJSON *obj, const char *const *allowed, struct err *e);

/* Each returns 0 when found and valid, 1 when absent and optional, <0 on error. */
int json_get_str(const cJSON *obj, const char *key, int flags, size_t max_len, const char **out,
		 struct err *e);
int json_get_int(const cJSON *obj, const char *key, int flags, int64_t min, int64_t max,
		 int64_t *out, struct err *e);
int json_get_num(const cJSON *obj, const char *key, int flags, double min, double max, double *out,
		 struct err *e);
int json_get_bool(const cJSON *obj, const char *key, int flags, int *out, struct err *e);
/* values is NULL-terminated; *out is the index. */
int json_get_enum(const cJSON *obj, const char *key, int flags, const char *const *values, int *out,
		  struct err *e);
int json_get_obj(const cJSON *obj, const char *key, int flags, const cJSON **out, struct err *e);
int json_get_arr(const cJSON *obj, const char *key, int flags, size_t max_items, const cJSON **out,
		 struct err *e);

/* Unformatted print; caller frees. Aborts on allocation failure. */
char *json_print(const cJSON *item);

#endif
