/*
 * The error type and the one table from error codes to HTTP statuses and
 * default machine slugs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core.h"

static const struct {
	int code;
	int status;
	const char *slug;
} err_table[] = {
	{ ERR_OK, 200, "ok" },
	{ ERR_INTERNAL, 500, "internal" },
	{ ERR_INVALID, 400, "invalid_request" },
	{ ERR_UNAUTHORIZED, 401, "unauthorized" },
	{ ERR_FORBIDDEN, 403, "forbidden" },
	{ ERR_NOT_FOUND, 404, "not_found" },
	{ ERR_METHOD, 405, "method_not_allowed" },
	{ ERR_CONFLICT, 409, "conflict" },
	{ ERR_TOO_LARGE, 413, "payload_too_large" },
	{ ERR_MEDIA_TYPE, 415, "unsupported_media_type" },
	{ ERR_UNPROCESSABLE, 422, "unprocessable" },
	{ ERR_RATE_LIMITED, 429, "rate_limited" },
	{ ERR_BUSY, 503, "busy" },
	{ ERR_UNAVAILABLE, 503, "unavailable" },
	{ ERR_TIMEOUT, 504, "timeout" },
	{ ERR_IO, 500, "internal" },
	{ ERR_CONSTRAINT, 422, "constraint_violation" },
};

void err_clear(struct err *e)
{
	if (!e)
		return;
	e->code = 0;
	e->slug[0] = e->field[0] = e->msg[0] = '\0';
}

static int err_vset(struct err *e, int code, const char *slug, const char *field, const char *fmt,
		    va_list ap) __attribute__((format(printf, 5, 0)));

static int err_vset(struct err *e, int code, const char *slug, const char *field, const char *fmt,
		    va_list ap)
{
	if (!e)
		return code;
	e->code = code;
	str_copy(e->slug, sizeof(e->slug), slug ? slug : "");
	str_copy(e->field, sizeof(e->field), field ? field : "");
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	return code;
}

int err_set(struct err *e, int code, const char *field, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vset(e, code, NULL, field, fmt, ap);
	va_end(ap);
	return code;
}

int err_setc(struct err *e, int code, const char *slug, const char *field, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vset(e, code, slug, field, fmt, ap);
	va_end(ap);
	return code;
}

int err_prefix(struct err *e, const char *field, const char *prefix)
{
	char msg[ERR_MSG_MAX];
	if (!e)
		return ERR_INTERNAL;
	if (!e->code)
		e->code = ERR_INTERNAL;
	str_copy(msg, sizeof(msg), e->msg[0] ? e->msg : err_default_slug(e->code));
	if (field)
		str_copy(e->field, sizeof(e->field), field);
	if (strncmp(msg, prefix, strlen(prefix))) {
		struct buf b = BUF_INIT;
		buf_addf(&b, "%s: %s", prefix, msg);
		str_copy(e->msg, sizeof(e->msg), b.p);
		buf_release(&b);
	}
	return e->code;
}

int err_http_status(int code)
{
	for (size_t i = 0; i < ARRAY_SIZE(err_table); i++)
		if (err_table[i].code == code)
			return err_table[i].status;
	return 500;
}

const char *err_default_slug(int code)
{
	for (size_t i = 0; i < ARRAY_SIZE(err_table); i++)
		if (err_table[i].code == code)
			return err_table[i].slug;
	return "internal";
}

const char *err_slug(const struct err *e)
{
	return e->slug[0] ? e->slug : err_default_slug(e->code);
}
