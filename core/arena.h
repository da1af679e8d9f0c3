/*
 * A bump allocator per request (h2o's pool idea). Everything allocated from
 * an arena is freed at once by arena_free(); foreign objects (cJSON trees,
 * statements, pooled connections) are registered with arena_defer() and
 * released there, in reverse order of registration.
 */
#ifndef CORE_ARENA_H
#define CORE_ARENA_H

#include <stddef.h>

struct arena;

struct arena *arena_new(void);
void arena_free(struct arena *a);
/* An arena whose first chunk is caller memory (e.g. a stack buffer of a
 * few KiB): no allocation at all for small requests. Pair with
 * arena_release(), which frees later chunks and runs the deferred calls. */
struct arena *arena_init_buf(void *mem, size_t size);
void arena_release(struct arena *a);
void *arena_alloc(struct arena *a, size_t n);  /* zeroed, 16-byte aligned */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void arena_defer(struct arena *a, void (*fn)(void *), void *p);

#endif
