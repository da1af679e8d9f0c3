/*
 * JSON-lines logger. Each line is formatted into a stack buffer (spilling to
 * the heap when long) and written with one write(2).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core.h"

int log_min_level = LOG_INFO;
static int log_fd = 2;
static _Thread_local char log_reqid[48];

static const char *const level_names[] = { "debug", "info", "warn", "error", "off" };

int log_level_parse(const char *s)
{
	for (int i = 0; i < (int)ARRAY_SIZE(level_names); i++)
		if (!strcmp(s, level_names[i]))
			return i;
	return -1;
}

void log_set_fd(int fd)
{
	log_fd = fd;
}

void log_set_request_id(const char *id)
{
	str_copy(log_reqid, sizeof(log_reqid), id ? id : "");
}

const char *log_request_id(void)
{
	return log_reqid;
}

static void log_begin(struct buf *b, int level, const char *module)
{
	struct timespec ts;
	struct tm tm;
	char tbuf[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm);
	buf_addf(b, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"module\":\"", tbuf,
		 ts.tv_nsec / 1000000, level_names[level]);
	buf_add_json_str(b, module, strlen(module));
	buf_addch(b, '"');
	if (log_reqid[0]) {
		buf_adds(b, ",\"request_id\":\"");
		buf_add_json_str(b, log_reqid, strlen(log_reqid));
		buf_addch(b, '"');
	}
}

static void log_end(struct buf *b)
{
	buf_adds(b, "}\n");
	const char *p = b->p;
	size_t left = b->len;
	while (left) {
		ssize_t n = write(log_fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		p += n;
		left -= (size_t)n;
	}
	buf_release(b);
}

void log_kv(int level, const char *module, const char *msg, ...)
{
	if (!LOG_ENABLED(level))
		return;
	struct buf b = BUF_INIT;
	va_list ap;
	log_begin(&b, level, module);
	buf_adds(&b, ",\"msg\":\"");
	buf_add_json_str(&b, msg, strlen(msg));
	buf_addch(&b, '"');
	va_start(ap, msg);
	for (;;) {
		const char *k = va_arg(ap, const char *);
		if (!k)
			break;
		const char *v = va_arg(ap, const char *);
		buf_adds(&b, ",\"");
		buf_add_json_str(&b, k, strlen(k));
		buf_adds(&b, "\":\"");
		if (v)
			buf_add_json_str(&b, v, strlen(v));
		buf_addch(&b, '"');
	}
	va_end(ap);
	log_end(&b);
}

void log_fmt(int level, const char *module, const char *fmt, ...)
{
	if (!LOG_ENABLED(level))
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct buf b = BUF_INIT;
	log_begin(&b, level, module);
	buf_adds(&b, ",\"msg\":\"");
	buf_add_json_str(&b, msg, strlen(msg));
	buf_addch(&b, '"');
	log_end(&b);
}
