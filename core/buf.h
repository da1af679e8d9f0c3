/*
 * A growable byte buffer whose pointer is never NULL, and a pointer+length
 * slice. The buffer owns its memory until buf_detach() hands it to the caller.
 * Allocation failure aborts (like git's xmalloc): callers never check.
 */
#ifndef CORE_BUF_H
#define CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

extern char buf_empty[1];

struct buf {
	char *p;    /* always NUL-terminated, never NULL */
	size_t len;
	size_t cap; /* 0 while p == buf_empty */
};

#define BUF_INIT { buf_empty, 0, 0 }

struct slice {
	const char *p;
	size_t len;
};

void buf_init(struct buf *b);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);
void buf_grow(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *data, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addch(struct buf *b, char c);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vaddf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Append s as the inside of a JSON string (no quotes), escaping as needed. */
void buf_add_json_str(struct buf *b, const char *s, size_t n);
void buf_truncate(struct buf *b, size_t len);
/* Hand the bytes to the caller (free() them); the buffer is left empty. */
char *buf_detach(struct buf *b, size_t *len);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
