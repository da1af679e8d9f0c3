/*
 * Shared by api/patterns.c, api/pattern_versions.c and api/library.c only:
 * checking a definition (pattern_parse, every problem in a 422 body),
 * creating a pattern, loading the pattern a path names, and the JSON shapes
 * of patterns and versions.
 */
#ifndef API_PATTERNS_INTERNAL_H
#define API_PATTERNS_INTERNAL_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "db/db.h"

struct req;

/* A checked definition: its canonical JSON text and its name (arena). */
struct pattern_doc {
	const char *json, *name, *description;
};

/* Validate text as a pattern document whose name must be expect_name
 * (NULL: any valid name). Returns 0, a negative code with r->err set, or 1
 * when the 422 {error, problems} answer has been sent already. */
int pattern_doc_check(struct req *r, const char *text, size_t len, const char *expect_name,
		      struct pattern_doc *out);
/* Path parameter 0 as a pattern (id or name) of the caller's workspace, else 404. */
int pattern_load(struct req *r, struct db *db, struct pattern_row *p);
/* A version row owned by the request (its definition is freed with it). */
struct pattern_version_row *pattern_version_new(struct req *r);
/* The caller's workspace id, or NULL. */
const char *pattern_workspace(struct req *r);
const char *pattern_actor(struct req *r);
/* {id, name, description, latest_version, times} and, with v, version and definition. */
cJSON *pattern_json(const struct pattern_row *p, const struct pattern_version_row *v);
cJSON *pattern_version_json(const struct pattern_version_row *v, int with_definition);
cJSON *pattern_details(const struct pattern_row *p, int64_t version);
/* Create in (pattern and version 1) in a write transaction, with audit. */
int pattern_insert(struct req *r, const struct pattern_row *in, const char *definition,
		   struct pattern_row *out, struct pattern_version_row *v);
/* Create the pattern name (version 1, taking a "patterns" quota unit, with
 * audit) in the caller's workspace from a definition's JSON text, whose name
 * must be name; desc NULL takes the document's. Answers 201 with the pattern
 * (POST /api/v1/patterns, library clones); on a refusal returns the error
 * (400 name, 404 workspace, 409 name taken, 429 quota) or 0 once the 422
 * {error, problems} answer is sent. */
int pattern_create(struct req *r, const char *name, const char *desc, const char *text,
		   size_t len);
/* Commit when rc is 0, else roll back; r->err always says why. */
int pattern_tx_finish(struct req *r, struct db *db, int rc);

#endif
