/*
 * One error type for the whole program.
 *
 * Functions return 0 or a negative enum err_code and fill a caller-provided
 * struct err. err_http_status() is the single table from codes to HTTP
 * statuses; ERR_INTERNAL never carries internals to a client (the renderer
 * replaces its message).
 */
#ifndef CORE_ERR_H
#define CORE_ERR_H

enum err_code {
	ERR_OK = 0,
	ERR_INTERNAL = -1,      /* 500: a bug or an unexpected library failure */
	ERR_INVALID = -2,       /* 400: malformed request or value */
	ERR_UNAUTHORIZED = -3,  /* 401 */
	ERR_FORBIDDEN = -4,     /* 403 */
	ERR_NOT_FOUND = -5,     /* 404: missing, or in another tenant */
	ERR_METHOD = -6,        /* 405 */
	ERR_CONFLICT = -7,      /* 409: unique constraint, state conflict */
	ERR_TOO_LARGE = -8,     /* 413 */
	ERR_MEDIA_TYPE = -9,    /* 415 */
	ERR_UNPROCESSABLE = -10, /* 422: well-formed but semantically refused */
	ERR_RATE_LIMITED = -11, /* 429 */
	ERR_BUSY = -12,         /* 503: transient (locked database, serialization) */
	ERR_UNAVAILABLE = -13,  /* 503: dependency down, not ready */
	ERR_TIMEOUT = -14,      /* 504 */
	ERR_IO = -15,           /* 500: file system or network I/O */
	ERR_CONSTRAINT = -16,   /* 422: foreign key / check constraint */
};

#define ERR_SLUG_MAX  40
#define ERR_FIELD_MAX 128
#define ERR_MSG_MAX   256

struct err {
	int code;                   /* enum err_code */
	char slug[ERR_SLUG_MAX];    /* machine code for clients; "" = derived from code */
	char field[ERR_FIELD_MAX];  /* offending field path, "" if none */
	char msg[ERR_MSG_MAX];      /* human message, safe to show unless code is internal */
};

void err_clear(struct err *e);

/* Set code, field (may be NULL) and a printf-style message; returns code. */
int err_set(struct err *e, int code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Same, with an explicit machine slug such as "quota_exceeded". */
int err_setc(struct err *e, int code, const char *slug, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Name the offending key: field := field, msg := "prefix: msg" (no aliasing). */
int err_prefix(struct err *e, const char *field, const char *prefix);

int err_http_status(int code);
const char *err_default_slug(int code);
/* The slug a client sees: e->slug if set, else the default for e->code. */
const char *err_slug(const struct err *e);

#endif
