/*
 * The template compiler and renderer (web/tmpl.h).
 *
 * DESIGN
 * - Compiling parses each source into a tree of nodes and, along the way,
 *   runs a small HTML tokenizer over the literal text, so every {{value}}
 *   knows the context it stands in and gets its escaping fixed at compile
 *   time; a value where no escaping is safe is a compile error.
 * - Partials and layouts are resolved by name after every source is parsed,
 *   so a missing one is a compile error too, not a render-time surprise.
 * - Rendering walks the tree with a stack of cJSON scopes; nothing is parsed
 *   or allocated per value beyond the output buffer (and JSON values printed
 *   into a script block).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/tmpl.h"
#include "web/web.h"
#include "core/core.h"

#define TMPL_DEPTH 32  /* nested sections and partials while rendering */
#define TMPL_NAME  128

enum node_kind { N_TEXT, N_VAR, N_RAW, N_SECTION, N_INVERTED, N_PARTIAL, N_BLOCK };
enum esc { ESC_HTML, ESC_URL, ESC_URL_PART, ESC_JSON };

struct tmpl;

struct node {
	enum node_kind kind;
	enum esc esc;
	char *text; /* literal text; the value's path; the partial's or block's name */
	size_t len;
	int line;
	struct node *child; /* sections and blocks */
	struct node *next;
	const struct tmpl *partial; /* resolved */
};

struct tmpl {
	char *name;
	struct node *body;
	char *layout; /* {{<layout}}: the name, then resolved below */
	int layout_line;
	const struct tmpl *base;
	struct tmpl *next;
};

struct tmpl_set {
	struct tmpl *list;
};

/* ---- the HTML context of literal text -------------------------------------------------- */

enum hstate {
	H_TEXT, H_TAG_NAME, H_END_TAG, H_IN_TAG, H_ATTR_NAME, H_AFTER_ATTR, H_BEFORE_VALUE,
	H_VALUE_DQ, H_VALUE_SQ, H_VALUE_UNQ, H_RAWTEXT, H_COMMENT
};

struct hctx {
	enum hstate st;
	char tag[16];
	char attr[32];
	char value[40]; /* the attribute value so far (its start) */
	size_t value_len;
	int json;       /* the open <script> is type="application/json" */
	int raw_script; /* H_RAWTEXT: 1 script, 0 style */
};

static void add_ch(char *s, size_t size, char c)
{
	size_t n = strlen(s);
	if (n + 1 < size) {
		s[n] = (char)tolower((unsigned char)c);
		s[n + 1] = '\0';
	}
}

static void tag_open_end(struct hctx *h)
{
	if (!strcmp(h->tag, "script") || !strcmp(h->tag, "style")) {
		h->raw_script = !strcmp(h->tag, "script");
		h->st = H_RAWTEXT;
	} else {
		h->st = H_TEXT;
	}
}

static void attr_done(struct hctx *h)
{
	if (!strcmp(h->tag, "script") && !strcmp(h->attr, "type"))
		h->json = h->value_len == 16 && !strncasecmp(h->value, "application/json", 16);
	h->st = H_IN_TAG;
}

static void value_ch(struct hctx *h, char c)
{
	if (h->value_len + 1 < sizeof(h->value))
		h->value[h->value_len] = c;
	h->value_len++;
}

/* Advance h over literal text s[0..n). */
static void html_feed(struct hctx *h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int sp = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
		switch (h->st) {
		case H_TEXT:
			if (c != '<')
				break;
			if (i + 3 < n && !strncmp(s + i + 1, "!--", 3)) {
				h->st = H_COMMENT;
				i += 3;
			} else if (i + 1 < n && s[i + 1] == '/') {
				h->st = H_END_TAG;
				i++;
			} else if (i + 1 == n || isalpha((unsigned char)s[i + 1])) {
				/* a name, or a value right after '<': a tag either way */
				h->st = H_TAG_NAME;
				h->tag[0] = '\0';
				h->json = 0;
			}
			break;
		case H_COMMENT:
			if (c == '-' && i + 2 < n && s[i + 1] == '-' && s[i + 2] == '>') {
				h->st = H_TEXT;
				i += 2;
			}
			break;
		case H_END_TAG:
			if (c == '>')
				h->st = H_TEXT;
			break;
		case H_TAG_NAME:
			if (isalnum((unsigned char)c) || c == '-')
				add_ch(h->tag, sizeof(h->tag), c);
			else if (c == '>')
				tag_open_end(h);
			else
				h->st = H_IN_TAG;
			break;
		case H_IN_TAG:
			if (c == '>') {
				tag_open_end(h);
			} else if (!sp && c != '/') {
				h->st = H_ATTR_NAME;
				h->attr[0] = '\0';
				add_ch(h->attr, sizeof(h->attr), c);
			}
			break;
		case H_ATTR_NAME:
			if (c == '=') {
				h->st = H_BEFORE_VALUE;
			} else if (sp) {
				h->st = H_AFTER_ATTR;
			} else if (c == '>') {
				tag_open_end(h);
			} else if (c == '/') {
				h->st = H_IN_TAG;
			} else {
				add_ch(h->attr, sizeof(h->attr), c);
			}
			break;
		case H_AFTER_ATTR:
			if (c == '=') {
				h->st = H_BEFORE_VALUE;
			} else if (c == '>') {
				tag_open_end(h);
			} else if (!sp) {
				h->st = H_ATTR_NAME;
				h->attr[0] = '\0';
				add_ch(h->attr, sizeof(h->attr), c);
			}
			break;
		case H_BEFORE_VALUE:
			h->value_len = 0;
			if (c == '"') {
				h->st = H_VALUE_DQ;
			} else if (c == '\'') {
				h->st = H_VALUE_SQ;
			} else if (c == '>') {
				tag_open_end(h);
			} else if (!sp) {
				h->st = H_VALUE_UNQ;
				value_ch(h, c);
			}
			break;
		case H_VALUE_DQ:
		case H_VALUE_SQ:
			if (c == (h->st == H_VALUE_DQ ? '"' : '\''))
				attr_done(h);
			else
				value_ch(h, c);
			break;
		case H_VALUE_UNQ:
			if (sp) {
				attr_done(h);
			} else if (c == '>') {
				attr_done(h);
				tag_open_end(h);
			} else {
				value_ch(h, c);
			}
			break;
		case H_RAWTEXT: {
			const char *end = h->raw_script ? "</script" : "</style";
			size_t k = strlen(end);
			if (c == '<' && i + k <= n && !strncasecmp(s + i, end, k)) {
				h->st = H_END_TAG;
				i += k - 1;
			}
			break;
		}
		}
	}
}

static int url_attr(const char *a)
{
	static const char *const names[] = { "href", "src", "action", "formaction", "poster",
					      "cite", "background", "xlink:href", "data",
					      "manifest", "codebase", "longdesc", "ping" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(a, names[i]))
			return 1;
	return 0;
}

/* The escaping for a value at h; < 0 with *why when none is safe there. */
static int html_escaping(const struct hctx *h, int raw, const char **why)
{
	switch (h->st) {
	case H_TEXT:
		return ESC_HTML;
	case H_VALUE_DQ:
	case H_VALUE_SQ:
		if (raw)
			break;
		if (!strncmp(h->attr, "on", 2) || !strcmp(h->attr, "style") ||
		    !strcmp(h->attr, "srcset")) {
			*why = "a value in an event handler, style or srcset attribute";
			return -1;
		}
		if (url_attr(h->attr))
			return h->value_len ? ESC_URL_PART : ESC_URL;
		return ESC_HTML;
	case H_VALUE_UNQ:
	case H_BEFORE_VALUE:
		*why = "a value in an unquoted attribute (quote it)";
		return -1;
	case H_RAWTEXT:
		if (!raw && h->raw_script && h->json)
			return ESC_JSON;
		*why = "a value inside a script or style (only <script type=\"application/json\"> takes one)";
		return -1;
	case H_COMMENT:
		*why = "a value inside an HTML comment";
		return -1;
	default:
		*why = "a value inside a tag, outside a quoted attribute value";
		return -1;
	}
	*why = "trusted HTML ({{&...}}) outside text";
	return -1;
}

/* Between a tag's attributes, after an attribute name (a boolean one) is the same place. */
static enum hstate same_context(enum hstate st)
{
	return st == H_ATTR_NAME || st == H_AFTER_ATTR ? H_IN_TAG : st;
}

/* ---- parsing ------------------------------------------------------------------------------ */

struct parser {
	const char *name, *src, *p, *end;
	struct hctx h;
	struct err *e;
};

static int line_of(const struct parser *ps, const char *at)
{
	int line = 1;
	for (const char *q = ps->src; q < at; q++)
		line += *q == '\n';
	return line;
}

static int fail_at(struct parser *ps, const char *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_at(struct parser *ps, const char *at, const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(ps->e, ERR_INVALID, NULL, "%s:%d: %s", ps->name, line_of(ps, at), msg);
}

static struct node *node_new(enum node_kind k, const char *text, size_t len, int line)
{
	struct node *n = xcalloc(1, sizeof(*n));
	n->kind = k;
	n->text = xstrndup(text, len);
	n->len = len;
	n->line = line;
	return n;
}

static void nodes_free(struct node *n)
{
	while (n) {
		struct node *next = n->next;
		nodes_free(n->child);
		free(n->text);
		free(n);
		n = next;
	}
}

static int valid_name(const char *s, size_t n)
{
	if (n == 1 && s[0] == '.')
		return 1;
	if (n == 0 || n > TMPL_NAME || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.' &&
		    s[i] != '/')
			return 0;
	return 1;
}

/*
 * Parse until {{/close}} (or the end when close is NULL) into *out. tmpl gets
 * {{<layout}} when top is set.
 */
static int parse_seq(struct parser *ps, const char *close, struct node **out, struct tmpl *top)
{
	struct node **tail = out;
	for (;;) {
		const char *open = ps->p;
		while (open < ps->end && !(open[0] == '{' && open + 1 < ps->end && open[1] == '{'))
			open++;
		if (open > ps->p) {
			struct node *t = node_new(N_TEXT, ps->p, (size_t)(open - ps->p), line_of(ps, ps->p));
			html_feed(&ps->h, ps->p, (size_t)(open - ps->p));
			*tail = t;
			tail = &t->next;
		}
		if (open >= ps->end) {
			ps->p = ps->end;
			if (close)
				return fail_at(ps, ps->end, "the section '%s' is not closed", close);
			return 0;
		}
		const char *shut = strstr(open + 2, "}}");
		if (!shut || shut >= ps->end)
			return fail_at(ps, open, "%s", "'{{' without '}}'");
		const char *s = open + 2;
		char sigil = 0;
		if (*s && strchr("#^/><$&!", *s))
			sigil = *s++;
		while (s < shut && isspace((unsigned char)*s))
			s++;
		const char *ne = shut;
		while (ne > s && isspace((unsigned char)ne[-1]))
			ne--;
		size_t len = (size_t)(ne - s);
		int line = line_of(ps, open);
		ps->p = shut + 2;
		if (sigil == '!')
			continue;
		char name[TMPL_NAME + 1];
		if (!valid_name(s, len))
			return fail_at(ps, open, "%s", "not a valid name inside '{{ }}' (letters, digits, "
				       "'_', '-', '/', dotted paths, or '.')");
		memcpy(name, s, len);
		name[len] = '\0';
		struct node *n = NULL;
		const char *why = NULL;
		switch (sigil) {
		case '/':
			if (!close || strcmp(close, name))
				return fail_at(ps, open, "'{{/%s}}' closes no open section", name);
			return 0;
		case '#':
		case '^':
		case '$': {
			struct hctx at = ps->h;
			if (sigil == '$' && ps->h.st != H_TEXT)
				return fail_at(ps, open, "the block '%s' is not in HTML text", name);
			n = node_new(sigil == '#' ? N_SECTION : sigil == '^' ? N_INVERTED : N_BLOCK, s,
				     len, line);
			*tail = n;
			tail = &n->next;
			int rc = parse_seq(ps, name, &n->child, NULL);
			if (rc)
				return rc;
			if (same_context(ps->h.st) != same_context(at.st))
				return fail_at(ps, ps->p, "the section '%s' ends in another HTML context than it begins", name);
			continue;
		}
		case '>':
			if (ps->h.st != H_TEXT)
				return fail_at(ps, open, "the partial '%s' is not in HTML text", name);
			n = node_new(N_PARTIAL, s, len, line);
			break;
		case '<':
			if (!top || top->layout || *out)
				return fail_at(ps, open, "'{{<%s}}' must come first in a template", name);
			top->layout = xstrdup(name);
			top->layout_line = line;
			continue;
		default: {
			int esc = html_escaping(&ps->h, sigil == '&', &why);
			if (esc < 0)
				return fail_at(ps, open, "%s", why);
			n = node_new(sigil == '&' ? N_RAW : N_VAR, s, len, line);
			n->esc = (enum esc)esc;
			if (ps->h.st == H_VALUE_DQ || ps->h.st == H_VALUE_SQ)
				value_ch(&ps->h, 'x'); /* the value has a start now */
			break;
		}
		}
		*tail = n;
		tail = &n->next;
	}
}

static const struct tmpl *find(const struct tmpl_set *set, const char *name)
{
	for (const struct tmpl *t = set->list; t; t = t->next)
		if (!strcmp(t->name, name))
			return t;
	return NULL;
}

static int resolve(const struct tmpl_set *set, const struct tmpl *t, struct node *n, struct err *e)
{
	for (; n; n = n->next) {
		if (n->kind == N_PARTIAL && !(n->partial = find(set, n->text)))
			return err_set(e, ERR_INVALID, NULL, "%s:%d: no template '%s' for the partial",
				       t->name, n->line, n->text);
		int rc = resolve(set, t, n->child, e);
		if (rc)
			return rc;
	}
	return 0;
}

void tmpl_free(struct tmpl_set *set)
{
	if (!set)
		return;
	while (set->list) {
		struct tmpl *next = set->list->next;
		nodes_free(set->list->body);
		free(set->list->name);
		free(set->list->layout);
		free(set->list);
		set->list = next;
	}
	free(set);
}

struct tmpl_set *tmpl_compile(const struct tmpl_source *src, size_t n, struct err *e)
{
	struct tmpl_set *set = xcalloc(1, sizeof(*set));
	struct tmpl **tail = &set->list;
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		struct tmpl *t = xcalloc(1, sizeof(*t));
		t->name = xstrdup(src[i].name);
		*tail = t;
		tail = &t->next;
		struct parser ps = { .name = src[i].name, .src = src[i].text, .p = src[i].text,
				     .end = src[i].text + src[i].len, .e = e };
		if (memchr(src[i].text, '\0', src[i].len))
			rc = err_set(e, ERR_INVALID, NULL, "%s: a NUL byte in the template", t->name);
		if (!rc)
			rc = parse_seq(&ps, NULL, &t->body, t);
		if (!rc && ps.h.st != H_TEXT)
			rc = err_set(e, ERR_INVALID, NULL, "%s:%d: the template ends inside a tag, "
				     "comment or script", t->name, line_of(&ps, ps.end));
		for (struct node *k = t->body; !rc && t->layout && k; k = k->next) {
			int blank = k->kind == N_TEXT;
			for (size_t j = 0; blank && j < k->len; j++)
				blank = isspace((unsigned char)k->text[j]);
			if (!blank && k->kind != N_BLOCK)
				rc = err_set(e, ERR_INVALID, NULL, "%s:%d: a template that extends a "
					     "layout holds only {{$blocks}}", t->name, k->line);
		}
	}
	for (struct tmpl *t = set->list; t && !rc; t = t->next) {
		rc = resolve(set, t, t->body, e);
		if (!rc && t->layout) {
			t->base = find(set, t->layout);
			if (!t->base)
				rc = err_set(e, ERR_INVALID, NULL, "%s:%d: no layout '%s'", t->name,
					     t->layout_line, t->layout);
			else if (t->base->layout)
				rc = err_set(e, ERR_INVALID, NULL, "%s:%d: the layout '%s' extends "
					     "another layout (one level only)", t->name,
					     t->layout_line, t->layout);
		}
	}
	if (rc) {
		tmpl_free(set);
		return NULL;
	}
	return set;
}

/* ---- rendering ---------------------------------------------------------------------------- */

struct render {
	const cJSON *scope[TMPL_DEPTH * 2];
	int depth;  /* scopes */
	int nest;   /* partials and sections */
	const struct tmpl *page; /* the extending page, for blocks */
	struct buf *out;
	struct err *e;
};

static const cJSON *lookup(const struct render *r, const char *path)
{
	if (!strcmp(path, "."))
		return r->depth ? r->scope[r->depth - 1] : NULL;
	const char *dot = strchr(path, '.');
	char first[TMPL_NAME + 1];
	size_t n = dot ? (size_t)(dot - path) : strlen(path);
	memcpy(first, path, n);
	first[n] = '\0';
	const cJSON *v = NULL;
	for (int i = r->depth - 1; i >= 0 && !v; i--)
		if (cJSON_IsObject(r->scope[i]))
			v = cJSON_GetObjectItemCaseSensitive(r->scope[i], first);
	while (v && dot) {
		const char *seg = dot + 1;
		dot = strchr(seg, '.');
		n = dot ? (size_t)(dot - seg) : strlen(seg);
		memcpy(first, seg, n);
		first[n] = '\0';
		if (cJSON_IsArray(v)) { /* "items.0": an index */
			int64_t i;
			v = str_to_i64(first, &i) == 0 && i >= 0 && i < INT32_MAX
				    ? cJSON_GetArrayItem(v, (int)i)
				    : NULL;
		} else {
			v = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, first) : NULL;
		}
	}
	return v;
}

static int truthy(const cJSON *v)
{
	if (!v || cJSON_IsNull(v) || cJSON_IsFalse(v))
		return 0;
	if (cJSON_IsString(v))
		return v->valuestring && v->valuestring[0];
	if (cJSON_IsNumber(v))
		return v->valuedouble != 0;
	if (cJSON_IsArray(v))
		return cJSON_GetArraySize(v) > 0;
	return 1;
}

/* The value as text: strings as they are, numbers plainly, containers as JSON. */
static const char *text_of(const cJSON *v, char num[40], char **owned)
{
	*owned = NULL;
	if (!v || cJSON_IsNull(v))
		return "";
	if (cJSON_IsString(v))
		return v->valuestring ? v->valuestring : "";
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v) ? "true" : "false";
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		if (d == (double)(long long)d && d > -1e15 && d < 1e15)
			snprintf(num, 40, "%lld", (long long)d);
		else
			snprintf(num, 40, "%.15g", d);
		return num;
	}
	return *owned = cJSON_PrintUnformatted(v);
}

/* http:, https:, mailto: or no scheme; anything else becomes about:invalid. */
static void esc_url(struct buf *b, const char *s)
{
	const char *p = s;
	while (*p && (unsigned char)*p <= ' ')
		p++;
	const char *colon = NULL;
	for (const char *q = p; *q && !strchr("/?#", *q); q++)
		if (*q == ':') {
			colon = q;
			break;
		}
	if (colon) {
		size_t n = (size_t)(colon - p);
		int ok = (n == 4 && !strncasecmp(p, "http", 4)) ||
			 (n == 5 && !strncasecmp(p, "https", 5)) ||
			 (n == 6 && !strncasecmp(p, "mailto", 6));
		if (!ok) {
			buf_adds(b, "about:invalid");
			return;
		}
	}
	html_escape(b, p);
}

static void esc_url_part(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			buf_addch(b, (char)*p);
		} else {
			buf_addch(b, '%');
			buf_addch(b, hex[*p >> 4]);
			buf_addch(b, hex[*p & 15]);
		}
	}
}

/* JSON for a script block: nothing in it can end the block or start markup. */
static void esc_json(struct buf *b, const cJSON *v)
{
	char *j = v ? cJSON_PrintUnformatted(v) : NULL;
	for (const char *s = j ? j : "null"; *s; s++) {
		if (*s == '<')
			buf_adds(b, "\\u003c");
		else if (*s == '>')
			buf_adds(b, "\\u003e");
		else if (*s == '&')
			buf_adds(b, "\\u0026");
		else if ((unsigned char)s[0] == 0xe2 && (unsigned char)s[1] == 0x80 &&
			 ((unsigned char)s[2] == 0xa8 || (unsigned char)s[2] == 0xa9)) {
			buf_adds(b, (unsigned char)s[2] == 0xa8 ? "\\u2028" : "\\u2029");
			s += 2;
		} else
			buf_addch(b, *s);
	}
	free(j);
}

static int render_nodes(struct render *r, const struct node *n);

static const struct node *block_override(const struct render *r, const char *name)
{
	if (!r->page)
		return NULL;
	for (const struct node *k = r->page->body; k; k = k->next)
		if (k->kind == N_BLOCK && !strcmp(k->text, name))
			return k;
	return NULL;
}

/* "rows.0": a name ending in an item index. */
static int names_an_index(const char *name)
{
	const char *dot = strrchr(name, '.');
	if (!dot || !dot[1])
		return 0;
	for (const char *p = dot + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

static int render_section(struct render *r, const struct node *n)
{
	const cJSON *v = lookup(r, n->text);
	if (n->kind == N_INVERTED)
		return truthy(v) ? 0 : render_nodes(r, n->child);
	if (!truthy(v))
		return 0;
	/* {{#rows.0}} asks "is there a first row?": the row is not a scope, or every name the
	 * rows below lack would silently resolve to the first row's */
	if (names_an_index(n->text))
		return render_nodes(r, n->child);
	if (r->depth + 1 >= (int)ARRAY_SIZE(r->scope))
		return err_set(r->e, ERR_INVALID, NULL, "line %d: sections nested too deep", n->line);
	if (cJSON_IsArray(v)) {
		const cJSON *item;
		cJSON_ArrayForEach(item, v) {
			r->scope[r->depth++] = item;
			int rc = render_nodes(r, n->child);
			r->depth--;
			if (rc)
				return rc;
		}
		return 0;
	}
	if (cJSON_IsObject(v)) {
		r->scope[r->depth++] = v;
		int rc = render_nodes(r, n->child);
		r->depth--;
		return rc;
	}
	return render_nodes(r, n->child);
}

static int render_nodes(struct render *r, const struct node *n)
{
	if (++r->nest > TMPL_DEPTH) {
		r->nest--;
		return err_set(r->e, ERR_INVALID, NULL, "line %d: partials or sections nested more "
			       "than %d deep", n ? n->line : 0, TMPL_DEPTH);
	}
	int rc = 0;
	for (; n && !rc; n = n->next) {
		char num[40], *owned = NULL;
		switch (n->kind) {
		case N_TEXT:
			buf_add(r->out, n->text, n->len);
			break;
		case N_VAR:
			if (n->esc == ESC_JSON) {
				esc_json(r->out, lookup(r, n->text));
				break;
			}
			{
				const char *s = text_of(lookup(r, n->text), num, &owned);
				if (n->esc == ESC_URL)
					esc_url(r->out, s);
				else if (n->esc == ESC_URL_PART)
					esc_url_part(r->out, s);
				else
					html_escape(r->out, s);
				free(owned);
			}
			break;
		case N_RAW:
			buf_adds(r->out, text_of(lookup(r, n->text), num, &owned));
			free(owned);
			break;
		case N_SECTION:
		case N_INVERTED:
			rc = render_section(r, n);
			break;
		case N_PARTIAL:
			rc = render_nodes(r, n->partial->body);
			break;
		case N_BLOCK: {
			const struct node *o = block_override(r, n->text);
			rc = render_nodes(r, o ? o->child : n->child);
			break;
		}
		}
	}
	r->nest--;
	return rc;
}

int tmpl_render(const struct tmpl_set *set, const char *name, const cJSON *ctx, struct buf *out,
		struct err *e)
{
	const struct tmpl *t = find(set, name);
	if (!t)
		return err_set(e, ERR_NOT_FOUND, NULL, "no template '%.100s'", name);
	struct render r = { .depth = 1, .out = out, .e = e };
	r.scope[0] = ctx;
	if (t->base) {
		r.page = t;
		return render_nodes(&r, t->base->body);
	}
	return render_nodes(&r, t->body);
}
