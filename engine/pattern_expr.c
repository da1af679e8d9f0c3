/*
 * jq expressions are untrusted code (SPEC.md §3). Before jq sees one, a
 * small lexer refuses builtins that reach the environment, files, inputs or
 * the server's stderr, bounds the size and nesting, and only then compiles
 * it with a private jq state whose errors are captured, never printed.
 */
#include <stdlib.h>
#include <string.h>

#include <jq.h>
#include <jv.h>

#include "engine/engine.h"
#include "core/core.h"

#define EXPR_MAX_NEST   128  /* parentheses, brackets, braces and interpolations */
#define EXPR_MAX_TOKENS 4096 /* keeps jq's recursive compiler passes shallow */

/* Refused as identifiers anywhere outside string literals (`$` included). */
static const char *const forbidden[] = {
	"$ENV", "env", "input", "inputs", "$__loc__", "halt", "halt_error", "import", "include",
	"input_filename", "input_line_number", "debug", "stderr", "get_search_list", "modulemeta",
	"get_prog_origin", "get_jq_origin", "$__prog_args", NULL,
};

struct lex {
	const char *s;
	size_t n, i;
	int nest[EXPR_MAX_NEST + 1]; /* open brackets per interpolation level */
	int level;                   /* open string interpolations */
	int depth, tokens;
};

static int is_ident(char c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (!first && c >= '0' && c <= '9');
}

/* Skip a string body from after its opening quote; stop after the closing
 * quote, or after "\(" (entering an interpolation). Returns 1 on "\(". */
static int lex_string(struct lex *l)
{
	while (l->i < l->n) {
		char c = l->s[l->i++];
		if (c == '"')
			return 0;
		if (c == '\\' && l->i < l->n) {
			if (l->s[l->i++] == '(')
				return 1;
		}
	}
	return 0;
}

static int lex_ident(struct lex *l, int dollar, struct err *e)
{
	char word[64];
	size_t w = 0;
	if (dollar) {
		word[w++] = '$';
		while (l->i < l->n && (l->s[l->i] == ' ' || l->s[l->i] == '\t' || l->s[l->i] == '\n'))
			l->i++;
	}
	while (l->i < l->n && (is_ident(l->s[l->i], 0) || l->s[l->i] == ':')) {
		if (w < sizeof(word) - 1)
			word[w++] = l->s[l->i];
		l->i++;
	}
	word[w] = '\0';
	for (const char *const *f = forbidden; *f; f++)
		if (!strcmp(word, *f))
			return err_setc(e, ERR_UNPROCESSABLE, "forbidden_expression", NULL,
					"'%s' is not allowed in expressions", word);
	if (strstr(word, "::"))
		return err_setc(e, ERR_UNPROCESSABLE, "forbidden_expression", NULL,
				"modules are not allowed in expressions");
	return 0;
}

static int lex_open(struct lex *l, struct err *e)
{
	if (++l->depth > EXPR_MAX_NEST)
		return err_setc(e, ERR_UNPROCESSABLE, "invalid_expression", NULL,
				"expression nested deeper than %d", EXPR_MAX_NEST);
	return 0;
}

/* One code character (or token) at l->i. */
static int lex_code(struct lex *l, struct err *e)
{
	char c = l->s[l->i];
	if (c == '"') {
		l->i++;
		if (lex_string(l)) {
			l->nest[++l->level] = 0;
			return lex_open(l, e);
		}
		return 0;
	}
	if (c == '#') {
		while (l->i < l->n && l->s[l->i] != '\n')
			l->i++;
		return 0;
	}
	if (c == '.' && l->i + 1 < l->n && is_ident(l->s[l->i + 1], 1)) {
		l->i++; /* a field name such as .env is data, not a call */
		while (l->i < l->n && is_ident(l->s[l->i], 0))
			l->i++;
		return 0;
	}
	if (c == '$' || is_ident(c, 1)) {
		l->i += c == '$';
		return lex_ident(l, c == '$', e);
	}
	l->i++;
	if (c == '(' || c == '[' || c == '{') {
		l->nest[l->level]++;
		return lex_open(l, e);
	}
	if ((c == ')' || c == ']' || c == '}') && l->depth > 0) {
		l->depth--;
		if (c == ')' && l->level > 0 && l->nest[l->level] == 0) {
			l->level--; /* end of "\( ... )": back inside the string */
			if (lex_string(l)) {
				l->nest[++l->level] = 0;
				return lex_open(l, e);
			}
		} else if (l->nest[l->level] > 0) {
			l->nest[l->level]--;
		}
	}
	return 0;
}

static int expr_scan(const char *src, size_t len, struct err *e)
{
	struct lex l = { .s = src, .n = len };
	while (l.i < l.n) {
		char c = src[l.i];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			l.i++;
			continue;
		}
		if (++l.tokens > EXPR_MAX_TOKENS)
			return err_setc(e, ERR_UNPROCESSABLE, "invalid_expression", NULL,
					"expression longer than %d tokens", EXPR_MAX_TOKENS);
		int rc = lex_code(&l, e);
		if (rc)
			return rc;
	}
	return 0;
}

static void expr_error_cb(void *data, jv msg)
{
	struct buf *b = data;
	msg = jq_format_error(msg);
	if (b->len == 0 && jv_get_kind(msg) == JV_KIND_STRING)
		buf_adds(b, jv_string_value(msg));
	jv_free(msg);
}

int pattern_expr_check(const char *src, size_t len, struct err *e)
{
	struct buf msg = BUF_INIT;
	jq_state *jq = NULL;
	char *text = NULL;
	int ret;

	if (len > PATTERN_EXPR_MAX)
		return err_setc(e, ERR_UNPROCESSABLE, "expression_too_large", NULL,
				"expression is %zu bytes; the limit is %u", len, PATTERN_EXPR_MAX);
	if (memchr(src, '\0', len) || !utf8_valid(src, len))
		return err_setc(e, ERR_UNPROCESSABLE, "invalid_expression", NULL,
				"expression is not valid UTF-8 text");
	ret = expr_scan(src, len, e);
	if (ret)
		return ret;
	ret = ERR_INTERNAL;
	text = xstrndup(src, len);
	jq = jq_init();
	if (!jq) {
		err_set(e, ERR_INTERNAL, NULL, "jq_init failed");
		goto out;
	}
	jq_set_error_cb(jq, expr_error_cb, &msg);
	if (!jq_compile(jq, text)) {
		ret = err_setc(e, ERR_UNPROCESSABLE, "invalid_expression", NULL,
			       "expression does not compile: %s",
			       msg.len ? msg.p : "syntax error");
		goto out;
	}
	ret = 0;
out:
	if (jq)
		jq_teardown(&jq);
	free(text);
	buf_release(&msg);
	return ret;
}
