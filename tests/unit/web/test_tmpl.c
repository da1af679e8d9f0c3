/*
 * Templates (web/tmpl.h): the syntax, escaping for each HTML context with
 * hostile values, compile errors with file and line, layouts and partials.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/test.h"
#include "web/tmpl.h"
#include "core/core.h"

/* Compile the one template "t" (plus extra sources) and render it with ctx (JSON text). */
static char *render_with(const char *text, const char *ctx_json, const struct tmpl_source *extra,
			 size_t nextra, struct err *e)
{
	struct tmpl_source src[8];
	src[0] = (struct tmpl_source){ "t", text, strlen(text) };
	for (size_t i = 0; i < nextra; i++)
		src[1 + i] = extra[i];
	struct tmpl_set *set = tmpl_compile(src, 1 + nextra, e);
	if (!set)
		return NULL;
	cJSON *ctx = cJSON_Parse(ctx_json);
	struct buf b = BUF_INIT;
	char *out = NULL;
	if (tmpl_render(set, "t", ctx, &b, e) == 0)
		out = buf_detach(&b, NULL);
	buf_release(&b);
	cJSON_Delete(ctx);
	tmpl_free(set);
	return out ? out : NULL;
}

static char *render(const char *text, const char *ctx_json)
{
	struct err e;
	char *s = render_with(text, ctx_json, NULL, 0, &e);
	if (!s)
		fprintf(stderr, "render failed: %s\n", e.msg);
	return s;
}

#define CHECK_RENDER(text, ctx, want)                 \
	do {                                          \
		char *_s = render(text, ctx);         \
		CHECK_STR(_s ? _s : "(failed)", want); \
		free(_s);                             \
	} while (0)

/* The compile error's message, "" when it compiled. */
static char *compile_error(const char *text)
{
	struct err e;
	struct tmpl_source src = { "page.html", text, strlen(text) };
	struct tmpl_set *set = tmpl_compile(&src, 1, &e);
	if (set) {
		tmpl_free(set);
		return xstrdup("");
	}
	return xstrdup(e.msg);
}

TEST(tmpl_values_and_sections)
{
	CHECK_RENDER("<p>{{name}}</p>", "{\"name\":\"Ada\"}", "<p>Ada</p>");
	CHECK_RENDER("{{a.b.c}}|{{missing}}|{{n}}|{{f}}|{{t}}", "{\"a\":{\"b\":{\"c\":7}},\"n\":2.5,\"f\":false,\"t\":true}",
		     "7||2.5|false|true");
	CHECK_RENDER("<ul>{{#items}}<li>{{name}}:{{x}}</li>{{/items}}</ul>",
		     "{\"x\":\"outer\",\"items\":[{\"name\":\"a\"},{\"name\":\"b\",\"x\":\"inner\"}]}",
		     "<ul><li>a:outer</li><li>b:inner</li></ul>");
	CHECK_RENDER("{{#tags}}[{{.}}]{{/tags}}", "{\"tags\":[\"x\",\"y\"]}", "[x][y]");
	/* a boolean attribute in a section */
	CHECK_RENDER("<option value=\"{{v}}\"{{#on}} selected{{/on}}>", "{\"v\":\"a\",\"on\":true}",
		     "<option value=\"a\" selected>");
	CHECK_RENDER("{{#user}}{{name}}{{/user}}", "{\"user\":{\"name\":\"u\"}}", "u");
	CHECK_RENDER("{{#on}}yes{{/on}}{{^on}}no{{/on}}", "{\"on\":true}", "yes");
	/* falsy: missing, null, false, 0, "", [] */
	CHECK_RENDER("{{^a}}1{{/a}}{{^b}}2{{/b}}{{^c}}3{{/c}}{{^d}}4{{/d}}{{^e}}5{{/e}}{{^f}}6{{/f}}",
		     "{\"b\":null,\"c\":false,\"d\":0,\"e\":\"\",\"f\":[]}", "123456");
	CHECK_RENDER("a{{! a comment }}b", "{}", "ab");
	CHECK_RENDER("{{#xs.0}}some{{/xs.0}}{{^ys.0}}none{{/ys.0}}{{xs.1.n}}", "{\"xs\":[1,{\"n\":\"b\"}],\"ys\":[]}",
		     "somenoneb");
	/* an index section is a test, not a scope: inside it, the rows' own names only */
	CHECK_RENDER("{{#rows.0}}[{{#rows}}{{n}}{{#d}}+{{d}}{{/d}};{{/rows}}]{{/rows.0}}",
		     "{\"rows\":[{\"n\":\"a\",\"d\":\"x\"},{\"n\":\"b\"}]}", "[a+x;b;]");
	CHECK_RENDER("{{#rows.0}}{{n}}{{/rows.0}}", "{\"n\":\"top\",\"rows\":[{\"n\":\"a\"}]}",
		     "top");
	CHECK_RENDER("{{big}} {{neg}}", "{\"big\":1234567890123,\"neg\":-3}", "1234567890123 -3");
}

TEST(tmpl_escapes_text_and_attributes)
{
	CHECK_RENDER("<p title=\"{{v}}\">{{v}}</p>", "{\"v\":\"<script>alert(1)</script>\\\"'&\"}",
		     "<p title=\"&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;\">"
		     "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;</p>");
	CHECK_RENDER("<input value='{{v}}'>", "{\"v\":\"'><img src=x onerror=alert(1)>\"}",
		     "<input value='&#39;&gt;&lt;img src=x onerror=alert(1)&gt;'>");
	/* a whole URL: only http(s), mailto and relative ones */
	CHECK_RENDER("<a href=\"{{u}}\">x</a>", "{\"u\":\"javascript:alert(1)\"}",
		     "<a href=\"about:invalid\">x</a>");
	CHECK_RENDER("<a href=\"{{u}}\">x</a>", "{\"u\":\" JaVaScRiPt:alert(1)\"}",
		     "<a href=\"about:invalid\">x</a>");
	CHECK_RENDER("<img src=\"{{u}}\">", "{\"u\":\"data:text/html,<b>\"}", "<img src=\"about:invalid\">");
	CHECK_RENDER("<a href=\"{{u}}\">x</a>", "{\"u\":\"https://example.com/?a=1&b=\\\"2\"}",
		     "<a href=\"https://example.com/?a=1&amp;b=&quot;2\">x</a>");
	CHECK_RENDER("<a href=\"{{u}}\">x</a>", "{\"u\":\"/executions/1?x=y\"}",
		     "<a href=\"/executions/1?x=y\">x</a>");
	/* a part of a URL: percent-encoded */
	CHECK_RENDER("<a href=\"/patterns/{{n}}?v={{v}}\">x</a>", "{\"n\":\"a b/../\\\"<x>\",\"v\":\"javascript:1\"}",
		     "<a href=\"/patterns/a%20b%2F..%2F%22%3Cx%3E?v=javascript%3A1\">x</a>");
	/* JSON in a data block cannot close it */
	CHECK_RENDER("<script type=\"application/json\" id=\"d\">{{d}}</script>",
		     "{\"d\":{\"s\":\"</script><script>alert(1)</script>\",\"l\":\"\\u2028\"}}",
		     "<script type=\"application/json\" id=\"d\">{\"s\":\"\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e\",\"l\":\"\\u2028\"}</script>");
	CHECK_RENDER("<script type=\"application/json\">{{missing}}</script>", "{}",
		     "<script type=\"application/json\">null</script>");
	/* trusted markup as is, in text */
	CHECK_RENDER("<div>{{&svg}}</div>", "{\"svg\":\"<svg><rect/></svg>\"}", "<div><svg><rect/></svg></div>");
	/* after a comment and a closed script, text again */
	CHECK_RENDER("<!-- c --><script src=\"/a.js\"></script><b>{{v}}</b>", "{\"v\":\"<i>\"}",
		     "<!-- c --><script src=\"/a.js\"></script><b>&lt;i&gt;</b>");
}

TEST(tmpl_refuses_unsafe_places)
{
	static const char *const bad[] = {
		"<a href={{u}}>x</a>",                     /* unquoted attribute */
		"<a onclick=\"go('{{u}}')\">x</a>",        /* event handler */
		"<p style=\"color: {{c}}\">x</p>",         /* style attribute */
		"<script>var x = '{{v}}';</script>",       /* script */
		"<style>p { color: {{c}} }</style>",       /* style */
		"<!-- {{v}} -->",                          /* comment */
		"<p {{attr}}>x</p>",                       /* attribute name */
		"<{{tag}}>x",                              /* tag name */
		"<p title=\"{{&v}}\">x</p>",               /* trusted HTML in an attribute */
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *m = compile_error(bad[i]);
		CHECK(strncmp(m, "page.html:1: ", 13) == 0);
		if (strncmp(m, "page.html:1: ", 13))
			fprintf(stderr, "  %s -> '%s'\n", bad[i], m);
		free(m);
	}
}

TEST(tmpl_compile_errors_name_file_and_line)
{
	char *m = compile_error("<p>\n\n{{#open}}\nno close\n");
	CHECK(strstr(m, "page.html:") && strstr(m, "'open' is not closed"));
	free(m);
	m = compile_error("line 1\n{{/nothing}}");
	CHECK_STR(m, "page.html:2: '{{/nothing}}' closes no open section");
	free(m);
	m = compile_error("a\nb\n{{ bad name! }}");
	CHECK(strncmp(m, "page.html:3: not a valid name", 29) == 0);
	free(m);
	m = compile_error("{{unterminated");
	CHECK(strncmp(m, "page.html:1: '{{' without '}}'", 30) == 0);
	free(m);
	m = compile_error("x\n{{>nowhere}}");
	CHECK_STR(m, "page.html:2: no template 'nowhere' for the partial");
	free(m);
	m = compile_error("<p class=\"{{#a}}x\">{{/a}}");
	CHECK(strstr(m, "ends in another HTML context") != NULL);
	free(m);
	m = compile_error("<div\n class=\"x");
	CHECK(strstr(m, "ends inside a tag") != NULL);
	free(m);
	m = compile_error("x{{<base}}");
	CHECK(strstr(m, "must come first") != NULL);
	free(m);
}

TEST(tmpl_layouts_and_partials)
{
	struct err e;
	static const char base[] = "<html><title>{{$title}}Parallax{{/title}}</title>"
				   "<main>{{$main}}empty{{/main}}</main>{{>foot}}</html>";
	static const char foot[] = "<footer>{{user.name}}</footer>";
	struct tmpl_source extra[] = { { "base", base, sizeof(base) - 1 },
				       { "foot", foot, sizeof(foot) - 1 } };
	char *s = render_with("{{<base}}\n{{$main}}<h1>{{title}}</h1>{{/main}}\n",
			      "{\"title\":\"<Runs>\",\"user\":{\"name\":\"ada\"}}", extra, 2, &e);
	CHECK_STR(s ? s : e.msg, "<html><title>Parallax</title><main><h1>&lt;Runs&gt;</h1></main>"
				"<footer>ada</footer></html>");
	free(s);
	s = render_with("{{<base}}{{$title}}T{{/title}}{{$main}}M{{/main}}", "{}", extra, 2, &e);
	CHECK_STR(s ? s : e.msg, "<html><title>T</title><main>M</main><footer></footer></html>");
	free(s);
	/* text outside blocks in an extending page, and a missing layout */
	s = render_with("{{<base}}stray", "{}", extra, 2, &e);
	CHECK(s == NULL && strstr(e.msg, "holds only {{$blocks}}"));
	free(s);
	s = render_with("{{<nope}}", "{}", extra, 2, &e);
	CHECK(s == NULL && strstr(e.msg, "no layout 'nope'"));
	free(s);
	/* a partial that includes itself stops at the depth limit */
	static const char loop[] = "{{>loop}}";
	struct tmpl_source self[] = { { "loop", loop, sizeof(loop) - 1 } };
	s = render_with("{{>loop}}", "{}", self, 1, &e);
	CHECK(s == NULL && strstr(e.msg, "nested more than"));
	free(s);
}

TEST_MAIN(TEST_ENTRY(tmpl_values_and_sections), TEST_ENTRY(tmpl_escapes_text_and_attributes),
	  TEST_ENTRY(tmpl_refuses_unsafe_places), TEST_ENTRY(tmpl_compile_errors_name_file_and_line),
	  TEST_ENTRY(tmpl_layouts_and_partials))
