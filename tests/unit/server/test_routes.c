/* Walk the route table: every route declares its access, and matching works. */
#include <string.h>

#include "server/server.h"
#include "core/core.h"
#include "tests/unit/test.h"

TEST(every_route_declares_access_and_handler)
{
	static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE", NULL };
	CHECK(routes_count > 0);
	for (size_t i = 0; i < routes_count; i++) {
		const struct route *rt = &routes[i];
		int known = 0;
		for (int m = 0; methods[m]; m++)
			known |= !strcmp(methods[m], rt->method);
		if (!known || rt->access == ACCESS_UNSET || !rt->fn || rt->pattern[0] != '/' ||
		    !rt->summary || !rt->tag)
			fprintf(stderr, "route %s %s is incomplete\n", rt->method, rt->pattern);
		CHECK(known);
		CHECK(rt->access != ACCESS_UNSET);
		CHECK(rt->fn != NULL);
		CHECK(rt->pattern[0] == '/');
		CHECK(rt->summary && rt->tag);
		if (rt->access == ACCESS_PERM)
			CHECK(rt->resource != 0 && rt->action != 0);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(routes[j].method, rt->method) ||
			      strcmp(routes[j].pattern, rt->pattern));
	}
}

TEST(route_match_params_and_wildcards)
{
	struct req r;
	memset(&r, 0, sizeof(r));
	r.arena = arena_new();
	CHECK(route_match("/api/v1/patterns/{id}/versions", "/api/v1/patterns/abc/versions", &r));
	CHECK_INT(r.nparams, 1);
	CHECK_STR(r.params[0], "abc");
	r.nparams = 0;
	CHECK(!route_match("/api/v1/patterns/{id}/versions", "/api/v1/patterns//versions", &r));
	r.nparams = 0;
	CHECK(!route_match("/api/v1/patterns/{id}", "/api/v1/patterns/a/b", &r));
	r.nparams = 0;
	CHECK(!route_match("/health/live", "/health/live/", &r));
	CHECK(!route_match("/health/live", "/health/liv", &r));
	r.nparams = 0;
	CHECK(route_match("/static/*", "/static/css/app.css", &r));
	CHECK_STR(r.params[0], "css/app.css");
	arena_free(r.arena);
}

TEST_MAIN(TEST_ENTRY(every_route_declares_access_and_handler),
	  TEST_ENTRY(route_match_params_and_wildcards))
