/*
 * YAML import and export of pattern documents (SPEC.md §3) with libyaml's
 * event API. Lossless against canonical JSON: key order kept, strings that
 * would read back as numbers, booleans or null are quoted, multi-line
 * strings become literal blocks. Hostile YAML (aliases, anchors, foreign
 * tags, deep nesting, oversized input) is refused, never expanded.
 */
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "engine/engine.h"
#include "core/core.h"

#define YAML_MAX_BYTES (1u << 20)
#define YAML_MAX_DEPTH 64

struct ystack {
	cJSON *node[YAML_MAX_DEPTH + 2];
	char *key[YAML_MAX_DEPTH + 2]; /* pending key of a mapping; NULL when expecting one */
	int depth;
	cJSON *root;
};

static int json_number_text(const char *s)
{
	const char *p = s;
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return 0;
	if (*p == '.') {
		if (!(*++p >= '0' && *p <= '9'))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

static int in_words(const char *s, const char *const *w)
{
	for (; *w; w++)
		if (!strcmp(s, *w))
			return 1;
	return 0;
}

static const char *const nulls[] = { "null", "Null", "NULL", "~", "", NULL };
static const char *const trues[] = { "true", "True", "TRUE", NULL };
static const char *const falses[] = { "false", "False", "FALSE", NULL };

static int tag_ok(const unsigned char *tag)
{
	static const char *const core[] = { "str", "int", "float", "bool", "null", "map", "seq", NULL };
	const char *pre = "tag:yaml.org,2002:";
	if (!tag || !strcmp((const char *)tag, "!"))
		return 1;
	return !strncmp((const char *)tag, pre, strlen(pre)) &&
	       in_words((const char *)tag + strlen(pre), core);
}

static cJSON *scalar_json(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || (tag && strstr(tag, ":str")))
		return cJSON_CreateString(v);
	if (in_words(v, nulls))
		return cJSON_CreateNull();
	if (in_words(v, trues))
		return cJSON_CreateTrue();
	if (in_words(v, falses))
		return cJSON_CreateFalse();
	if (json_number_text(v))
		return cJSON_CreateRaw(v);
	return cJSON_CreateString(v);
}

/* Attach item to the container on top (or make it the root). */
static int ystack_put(struct ystack *s, cJSON *item, struct err *e)
{
	if (s->depth == 0) {
		s->root = item;
		return 0;
	}
	cJSON *top = s->node[s->depth - 1];
	if (cJSON_IsArray(top)) {
		cJSON_AddItemToArray(top, item);
		return 0;
	}
	char *key = s->key[s->depth - 1];
	if (!key) {
		if (!cJSON_IsString(item) && !cJSON_IsRaw(item) && !cJSON_IsBool(item) &&
		    !cJSON_IsNull(item)) {
			cJSON_Delete(item);
			return err_setc(e, ERR_INVALID, "invalid_yaml", NULL, "keys must be scalars");
		}
		char *text = cJSON_IsString(item) || cJSON_IsRaw(item) ? item->valuestring : NULL;
		s->key[s->depth - 1] = xstrdup(text ? text : cJSON_IsNull(item) ? "null"
						       : cJSON_IsTrue(item) ? "true" : "false");
		cJSON_Delete(item);
		if (cJSON_GetObjectItemCaseSensitive(top, s->key[s->depth - 1]))
			return err_setc(e, ERR_INVALID, "invalid_yaml", NULL, "duplicate key '%.64s'",
					s->key[s->depth - 1]);
		return 0;
	}
	cJSON_AddItemToObject(top, key, item);
	free(key);
	s->key[s->depth - 1] = NULL;
	return 0;
}

static int yaml_event_apply(struct ystack *s, const yaml_event_t *ev, struct err *e)
{
	const unsigned char *anchor = NULL, *tag = NULL;
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return err_setc(e, ERR_INVALID, "invalid_yaml", NULL, "aliases are not allowed");
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT: {
		cJSON *done = s->node[--s->depth];
		return ystack_put(s, done, e);
	}
	default:
		return 0;
	}
	if (anchor)
		return err_setc(e, ERR_INVALID, "invalid_yaml", NULL, "anchors are not allowed");
	if (!tag_ok(tag))
		return err_setc(e, ERR_INVALID, "invalid_yaml", NULL, "tag '%.64s' is not allowed",
				(const char *)tag);
	if (ev->type == YAML_SCALAR_EVENT)
		return ystack_put(s, scalar_json(ev), e);
	if (s->depth >= YAML_MAX_DEPTH)
		return err_setc(e, ERR_INVALID, "too_deep", NULL, "nested deeper than %d",
				YAML_MAX_DEPTH);
	s->key[s->depth] = NULL;
	s->node[s->depth++] =
		ev->type == YAML_MAPPING_START_EVENT ? cJSON_CreateObject() : cJSON_CreateArray();
	return 0;
}

int pattern_yaml_to_json(const char *yaml, size_t len, char **json_out, struct err *e)
{
	struct ystack s = { .depth = 0 };
	yaml_parser_t parser;
	yaml_event_t ev;
	int ret = ERR_INVALID, done = 0;

	*json_out = NULL;
	if (len > YAML_MAX_BYTES)
		return err_setc(e, ERR_TOO_LARGE, "too_large", NULL, "YAML is at most %u bytes",
				YAML_MAX_BYTES);
	if (!yaml_parser_initialize(&parser))
		return err_set(e, ERR_INTERNAL, NULL, "yaml_parser_initialize failed");
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			ret = err_setc(e, ERR_INVALID, "invalid_yaml", NULL, "line %zu: %.120s",
				       parser.problem_mark.line + 1,
				       parser.problem ? parser.problem : "syntax error");
			goto out;
		}
		done = ev.type == YAML_STREAM_END_EVENT || ev.type == YAML_DOCUMENT_END_EVENT;
		ret = yaml_event_apply(&s, &ev, e);
		yaml_event_delete(&ev);
		if (ret)
			goto out;
	}
	if (!s.root) {
		ret = err_setc(e, ERR_INVALID, "invalid_yaml", NULL, "the document is empty");
		goto out;
	}
	*json_out = json_print(s.root);
	ret = 0;
out:
	for (int i = 0; i < s.depth; i++) {
		cJSON_Delete(s.node[i]);
		free(s.key[i]);
	}
	cJSON_Delete(s.root);
	yaml_parser_delete(&parser);
	return ret;
}

/* ---- JSON -> YAML ---------------------------------------------------------------- */

/* Would a plain scalar with this text read back as something other than the
 * string (in YAML 1.1 or 1.2)? Then it must be quoted. */
static int looks_special(const char *s)
{
	static const char *const words[] = { "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No",
		"NO", "on", "On", "ON", "off", "Off", "OFF", ".inf", ".Inf", ".INF", "-.inf",
		".nan", ".NaN", ".NAN", "<<", "=", NULL };
	if (in_words(s, nulls) || in_words(s, trues) || in_words(s, falses) || in_words(s, words))
		return 1;
	/* anything starting like a number (0.10, 1_000, 0x1f, +1, .5, 1:20) */
	return strchr("0123456789+-.", s[0]) && strpbrk(s, "0123456789") != NULL;
}

static int emit(yaml_emitter_t *em, yaml_event_t *ev, struct err *e)
{
	if (!yaml_emitter_emit(em, ev))
		return err_setc(e, ERR_INVALID, "invalid_yaml", NULL, "cannot emit: %.120s",
				em->problem ? em->problem : "error");
	return 0;
}

static int emit_scalar(yaml_emitter_t *em, const char *text, int is_string, struct err *e)
{
	yaml_event_t ev;
	yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;
	if (is_string && looks_special(text))
		style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	else if (is_string && strchr(text, '\n'))
		style = YAML_LITERAL_SCALAR_STYLE;
	else if (!is_string)
		style = YAML_PLAIN_SCALAR_STYLE;
	yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, (int)strlen(text), 1, 1,
				     style);
	return emit(em, &ev, e);
}

static int emit_item(yaml_emitter_t *em, const cJSON *it, struct err *e)
{
	yaml_event_t ev;
	const cJSON *c;
	int rc;
	if (cJSON_IsObject(it) || cJSON_IsArray(it)) {
		int obj = cJSON_IsObject(it);
		if (obj)
			yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_ANY_MAPPING_STYLE);
		else
			yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
							     YAML_ANY_SEQUENCE_STYLE);
		if ((rc = emit(em, &ev, e)))
			return rc;
		cJSON_ArrayForEach(c, it)
		{
			if (obj && (rc = emit_scalar(em, c->string, 1, e)))
				return rc;
			if ((rc = emit_item(em, c, e)))
				return rc;
		}
		if (obj)
			yaml_mapping_end_event_initialize(&ev);
		else
			yaml_sequence_end_event_initialize(&ev);
		return emit(em, &ev, e);
	}
	if (cJSON_IsString(it))
		return emit_scalar(em, it->valuestring, 1, e);
	char *text = json_print(it);
	rc = emit_scalar(em, text, 0, e);
	free(text);
	return rc;
}

static int yaml_write(void *data, unsigned char *buffer, size_t size)
{
	buf_add(data, buffer, size);
	return 1;
}

int pattern_json_to_yaml(const char *json, size_t len, char **yaml_out, struct err *e)
{
	struct buf out = BUF_INIT;
	yaml_emitter_t em;
	yaml_event_t ev;
	cJSON *doc = NULL;
	int ret = ERR_INVALID, em_ok = 0;

	*yaml_out = NULL;
	if (len > YAML_MAX_BYTES) {
		ret = err_setc(e, ERR_TOO_LARGE, "too_large", NULL, "at most %u bytes", YAML_MAX_BYTES);
		goto out;
	}
	doc = json_parse(json, len, YAML_MAX_DEPTH, e);
	if (!doc) {
		ret = e->code;
		goto out;
	}
	em_ok = yaml_emitter_initialize(&em);
	if (!em_ok) {
		ret = err_set(e, ERR_INTERNAL, NULL, "yaml_emitter_initialize failed");
		goto out;
	}
	yaml_emitter_set_output(&em, yaml_write, &out);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	if ((ret = emit(&em, &ev, e)))
		goto out;
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	if ((ret = emit(&em, &ev, e)) || (ret = emit_item(&em, doc, e)))
		goto out;
	yaml_document_end_event_initialize(&ev, 1);
	if ((ret = emit(&em, &ev, e)))
		goto out;
	yaml_stream_end_event_initialize(&ev);
	if ((ret = emit(&em, &ev, e)))
		goto out;
	*yaml_out = buf_detach(&out, NULL);
	ret = 0;
out:
	if (em_ok)
		yaml_emitter_delete(&em);
	cJSON_Delete(doc);
	buf_release(&out);
	return ret;
}
