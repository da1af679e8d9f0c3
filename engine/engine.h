/*
 * The engine: the pattern document, node types, the confidence algebra,
 * agents and the executor (SPEC.md §3, §4).
 *
 * DESIGN
 * - A pattern version's definition is canonical JSON, kept byte-exact in
 *   the database. pattern_parse() turns it into a struct pattern (nodes,
 *   edges, compiled expressions) once per version; the executor only reads
 *   that struct, so it can be shared by every execution of the version.
 * - Validation returns every problem at once, each with the node id and
 *   the field path ("nodes[2].select.min"), so the builder can pin it.
 * - Node types are modules (engine/nodes/<type>.c) registered in one table:
 *   each has a description, a JSON-Schema-subset for its options (served to
 *   the builder), its output ports, a validate hook and (later) execute.
 * - Confidence values are doubles clamped to [0, 1]; NaN and infinities from
 *   agents count as "no signal" (confidence.c).
 * - engine/ never includes api/ or web/ (data flows one way).
 */
#ifndef ENGINE_ENGINE_H
#define ENGINE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/err.h"

/* ---- validation problems ----------------------------------------------------- */

struct problem {
	char node_id[64]; /* "" for document-level problems */
	char path[128];   /* "nodes[2].select.min", "input.properties.code" */
	char code[40];    /* "unknown_type", "cycle", "dangling_edge", ... */
	char message[256];
};

struct problems {
	struct problem *items;
	size_t count, cap;
};

void problems_init(struct problems *p);
void problems_release(struct problems *p);
void problems_add(struct problems *p, const char *node_id, const char *path, const char *code,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* [{node_id, path, code, message}, ...] */
cJSON *problems_json(const struct problems *p);

/* ---- confidence algebra (confidence.c) ------------------------------------------ */

/* NaN, infinities and absent values are "no signal": CONF_NONE. */
#define CONF_NONE (-1.0)

enum band { BAND_LOW = 0, BAND_MEDIUM, BAND_HIGH };

double conf_clamp(double c);                 /* to [0, 1]; non-finite -> CONF_NONE */
double conf_of_plain(void);                  /* a plain value counts as 1.0 */
double conf_and(const double *c, size_t n);  /* min; empty -> CONF_NONE */
double conf_or(const double *c, size_t n);   /* max */
size_t conf_best(const double *c, size_t n); /* index of the max, ties to the first */
/* first index with c >= t (default 0.5), else the last; n must be > 0 */
size_t conf_coalesce(const double *c, size_t n, double t);
double conf_gate(double c, double threshold); /* below threshold -> 0 */
enum band conf_band(double c, double high, double medium); /* inclusive: >= high, >= medium */
/* The last "CONFIDENCE: x" marker in text (ANSI escapes stripped); CONF_NONE if none. */
double conf_from_text(const char *text, size_t len);

#endif
