/* The built-in pattern library: twelve documents, each named after its file,
 * each converting from YAML and passing pattern_parse with no problem, with
 * a description; lookups by name and index agree. */
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "core/core.h"
#include "tests/unit/test.h"

static const char *const expected[] = {
	"cascading-refinement", "confidence-cascade", "consensus-builder",
	"epistemic-orchestrator", "load-balancer", "multi-model-voting",
	"multi-validator", "parallel-exploration", "robust-analysis",
	"simple-consensus", "uncertainty-mapreduce", "uncertainty-router",
};

TEST(twelve_in_name_order)
{
	CHECK_INT(library_count(), sizeof(expected) / sizeof(expected[0]));
	for (size_t i = 0; i < library_count() && i < sizeof(expected) / sizeof(expected[0]); i++)
		CHECK_STR(library_get(i)->name, expected[i]);
	CHECK(library_get(library_count()) == NULL);
}

static void problems_print(const char *name, const struct problems *pr)
{
	for (size_t i = 0; i < pr->count; i++)
		fprintf(stderr, "%s: %s [%s] %s: %s\n", name, pr->items[i].node_id,
			pr->items[i].path, pr->items[i].code, pr->items[i].message);
}

static void entry_check(const struct library_entry *le)
{
	struct pattern *p = NULL;
	struct problems pr;
	struct err e;
	err_clear(&e);
	problems_init(&pr);
	CHECK(le->json != NULL);
	CHECK(le->error == NULL);
	if (!le->json) {
		fprintf(stderr, "%s: %s\n", le->name, le->error ? le->error : "no JSON");
		goto out;
	}
	CHECK_INT(pattern_parse(le->json, strlen(le->json), &p, &pr, &e), 0);
	CHECK_INT(pr.count, 0);
	problems_print(le->name, &pr);
	if (!p)
		goto out;
	CHECK_STR(p->name, le->name);
	CHECK_STR(p->description, le->description);
	CHECK(strlen(le->description) > 100);
	CHECK(strlen(le->description) <= 1000); /* a pattern row's description (PATTERN_DESC_MAX) */
	CHECK(p->input_schema != NULL);
	CHECK(cJSON_IsArray(p->tags));
	CHECK(strlen(le->yaml) == le->yaml_len);
out:
	pattern_free(p);
	problems_release(&pr);
}

TEST(every_entry_converts_and_validates)
{
	for (size_t i = 0; i < library_count(); i++)
		entry_check(library_get(i));
}

TEST(find_by_name)
{
	for (size_t i = 0; i < library_count(); i++)
		CHECK(library_find(library_get(i)->name) == library_get(i));
	CHECK(library_find("consensus-builder") != NULL);
	CHECK(library_find("consensus") == NULL);
	CHECK(library_find("consensus-builder.yaml") == NULL);
	CHECK(library_find("") == NULL);
	CHECK(library_find(NULL) == NULL);
}

/* The JSON is canonical: printing it again gives the same bytes. */
TEST(json_is_canonical)
{
	for (size_t i = 0; i < library_count(); i++) {
		const struct library_entry *le = library_get(i);
		cJSON *doc = le->json ? cJSON_Parse(le->json) : NULL;
		char *again = doc ? json_print(doc) : NULL;
		CHECK_STR(again, le->json);
		free(again);
		cJSON_Delete(doc);
	}
}

TEST_MAIN(TEST_ENTRY(twelve_in_name_order), TEST_ENTRY(every_entry_converts_and_validates),
	  TEST_ENTRY(find_by_name), TEST_ENTRY(json_is_canonical))
