/*
 * SQL text helpers for the PostgreSQL driver: rewriting the portable '?'
 * placeholders to $1..$n while leaving quoted text and comments untouched.
 * Kept apart from postgres.c so the rewrite is testable without a server.
 */
#include <stddef.h>
#include <string.h>

#include "db/db_internal.h"
#include "core/core.h"

static int is_ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '$' || (unsigned char)c >= 0x80;
}

/* 'text' (doubled quotes escape; backslashes too in E'...') or "ident". */
static size_t quoted_len(const char *p, int backslashes)
{
	char q = p[0];
	size_t i = 1;
	while (p[i]) {
		if (backslashes && p[i] == '\\' && p[i + 1]) {
			i += 2;
		} else if (p[i] == q) {
			if (p[i + 1] != q)
				return i + 1;
			i += 2;
		} else {
			i++;
		}
	}
	return i; /* unterminated: the rest is quoted */
}

/* Block comments nest in PostgreSQL. */
static size_t block_comment_len(const char *p)
{
	size_t i = 2;
	int depth = 1;
	while (p[i] && depth > 0) {
		if (p[i] == '/' && p[i + 1] == '*') {
			depth++;
			i += 2;
		} else if (p[i] == '*' && p[i + 1] == '/') {
			depth--;
			i += 2;
		} else {
			i++;
		}
	}
	return i;
}

/* $tag$ ... $tag$ (tag empty or an identifier not starting with a digit). */
static size_t dollar_quote_len(const char *p)
{
	size_t t = 1;
	if (p[t] >= '0' && p[t] <= '9')
		return 0; /* $1: a positional parameter, not a quote */
	while (p[t] && p[t] != '$' && is_ident_char(p[t]))
		t++;
	if (p[t] != '$')
		return 0;
	t++; /* the opening tag is p[0..t) */
	for (const char *q = strchr(p + t, '$'); q; q = strchr(q + 1, '$'))
		if (!strncmp(q, p, t))
			return (size_t)(q - p) + t;
	return strlen(p);
}

/* Length of the literal or comment starting at p (0 if none); start bounds look-back. */
static size_t skip_len(const char *p, const char *start)
{
	int after_ident = p > start && is_ident_char(p[-1]);
	if (p[0] == '-' && p[1] == '-')
		return strcspn(p, "\n");
	if (p[0] == '/' && p[1] == '*')
		return block_comment_len(p);
	if (p[0] == '"')
		return quoted_len(p, 0);
	if (p[0] == '\'') {
		int e = p > start && (p[-1] == 'E' || p[-1] == 'e') &&
			!(p - 1 > start && is_ident_char(p[-2]));
		return quoted_len(p, e);
	}
	if (p[0] == '$' && !after_ident)
		return dollar_quote_len(p);
	return 0;
}

void db_pg_rewrite_placeholders(const char *sql, struct buf *out, int *nparams)
{
	int n = 0;
	const char *p = sql;
	while (*p) {
		size_t skip = skip_len(p, sql);
		if (skip) {
			buf_add(out, p, skip);
			p += skip;
		} else if (*p == '?') {
			buf_addf(out, "$%d", ++n);
			p++;
		} else {
			buf_addch(out, *p++);
		}
	}
	*nparams = n;
}
