/*
 * Shared between the pattern document's files (pattern.c, pattern_schema.c,
 * pattern_graph.c) only.
 */
#ifndef ENGINE_PATTERN_INTERNAL_H
#define ENGINE_PATTERN_INTERNAL_H

#include "engine/engine.h"

/* Validate the pattern's `input` member as a schema in the supported subset
 * (unknown keywords, bad types): problems at "input...". */
void schema_meta_check(const cJSON *schema, struct problems *pr);

/* Exactly one input, at least one output, cycles, reachability; edges are
 * already resolved. */
void pattern_graph_check(struct pattern *p, struct problems *pr);

#endif
