/*
 * Files embedded into the binary at build time by tools/embed. Each table
 * ends with an entry whose path is NULL. Data is NUL-terminated.
 */
#ifndef CORE_EMBED_H
#define CORE_EMBED_H

#include <stddef.h>

struct embedded_file {
	const char *path;
	const char *data;
	size_t len;
};

#endif
