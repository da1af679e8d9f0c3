/*
 * Per-request arena: chunks of at least 8 KiB, bump allocation, and a list of
 * deferred destructors run in reverse order at arena_free().
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define ARENA_CHUNK 8192

struct chunk {
	struct chunk *next;
	size_t used, size;
	_Alignas(16) unsigned char data[];
};

struct deferred {
	struct deferred *next;
	void (*fn)(void *);
	void *p;
};

struct arena {
	struct chunk *head;
	struct deferred *defers;
	struct chunk *borrowed; /* caller-owned first chunk, never freed here */
};

struct arena *arena_new(void)
{
	return xcalloc(1, sizeof(struct arena));
}

struct arena *arena_init_buf(void *mem, size_t size)
{
	uintptr_t p = ((uintptr_t)mem + 15) & ~(uintptr_t)15;
	size_t lost = p - (uintptr_t)mem;
	struct arena *a = (struct arena *)p;
	struct chunk *c = (struct chunk *)(p + ((sizeof(*a) + 15) & ~(size_t)15));
	size_t used = (size_t)((unsigned char *)c->data - (unsigned char *)mem);
	if (size < used + 256 + lost)
		abort(); /* a programming error: the buffer is far too small */
	memset(a, 0, sizeof(*a));
	c->next = NULL;
	c->used = 0;
	c->size = size - used;
	a->head = a->borrowed = c;
	return a;
}

void arena_release(struct arena *a)
{
	while (a->defers) {
		struct deferred *d = a->defers;
		a->defers = d->next;
		d->fn(d->p);
	}
	while (a->head) {
		struct chunk *c = a->head;
		a->head = c->next;
		if (c != a->borrowed)
			free(c);
	}
}

void arena_free(struct arena *a)
{
	if (!a)
		return;
	arena_release(a);
	free(a);
}

void *arena_alloc(struct arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (!n)
		n = 16;
	struct chunk *c = a->head;
	if (!c || c->size - c->used < n) {
		size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		c = xmalloc(sizeof(*c) + size);
		c->used = 0;
		c->size = size;
		c->next = a->head;
		a->head = c;
	}
	void *p = c->data + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap, cp;
	va_start(ap, fmt);
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	char *p = arena_alloc(a, n > 0 ? (size_t)n + 1 : 1);
	if (n > 0)
		vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void arena_defer(struct arena *a, void (*fn)(void *), void *p)
{
	struct deferred *d = arena_alloc(a, sizeof(*d));
	d->fn = fn;
	d->p = p;
	d->next = a->defers;
	a->defers = d;
}
