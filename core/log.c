/*
 * JSON-lines logger. Each line is formatted by the calling thread. Once
 * log_start_async() has run (in `serve`), lines are appended to a shared
 * buffer that a flusher thread writes every few milliseconds, so a busy
 * server pays one write(2) per batch, not per line; error lines wake the
 * flusher at once. Past LOG_ASYNC_MAX pending bytes, callers write
 * synchronously (back-pressure, never unbounded memory).
 */
#include <errno.h>
#include <pthread.h>
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

#define LOG_ASYNC_MAX (8u << 20)

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	struct buf pending;
	int running, stop;
} la = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .pending = BUF_INIT };

static void write_all(const char *p, size_t left)
{
	while (left) {
		ssize_t n = write(log_fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		p += n;
		left -= (size_t)n;
	}
}

static void *log_flusher(void *arg)
{
	struct buf out = BUF_INIT;
	(void)arg;
	pthread_mutex_lock(&la.mu);
	for (;;) {
		if (!la.pending.len && !la.stop) {
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += 20 * 1000000;
			if (until.tv_nsec >= 1000000000) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&la.cv, &la.mu, &until);
		}
		struct buf tmp = la.pending; /* swap: write outside the lock */
		la.pending = out;
		out = tmp;
		int stop = la.stop;
		pthread_mutex_unlock(&la.mu);
		write_all(out.p, out.len);
		buf_reset(&out);
		pthread_mutex_lock(&la.mu);
		if (stop && !la.pending.len)
			break;
	}
	pthread_mutex_unlock(&la.mu);
	buf_release(&out);
	return NULL;
}

void log_start_async(void)
{
	pthread_mutex_lock(&la.mu);
	if (!la.running && !pthread_create(&la.thread, NULL, log_flusher, NULL))
		la.running = 1;
	pthread_mutex_unlock(&la.mu);
}

void log_stop_async(void)
{
	pthread_mutex_lock(&la.mu);
	if (!la.running) {
		pthread_mutex_unlock(&la.mu);
		return;
	}
	la.stop = 1;
	pthread_cond_signal(&la.cv);
	pthread_mutex_unlock(&la.mu);
	pthread_join(la.thread, NULL);
	pthread_mutex_lock(&la.mu);
	la.running = la.stop = 0;
	buf_release(&la.pending);
	pthread_mutex_unlock(&la.mu);
}

/* "2026-11-22T03:17:08" for the current second, cached per thread. */
static const char *log_timestamp(time_t sec)
{
	static _Thread_local time_t cached = -1;
	static _Thread_local char text[40];
	if (sec != cached) {
		struct tm tm;
		gmtime_r(&sec, &tm);
		snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d",
			 (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100, tm.tm_mday % 100,
			 tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100);
		cached = sec;
	}
	return text;
}

static void log_begin(struct buf *b, int level, const char *module)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	buf_grow(b, 256);
	buf_addf(b, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"module\":\"",
		 log_timestamp(ts.tv_sec), ts.tv_nsec / 1000000, level_names[level]);
	buf_add_json_str(b, module, strlen(module));
	buf_addch(b, '"');
	if (log_reqid[0]) {
		buf_adds(b, ",\"request_id\":\"");
		buf_add_json_str(b, log_reqid, strlen(log_reqid));
		buf_addch(b, '"');
	}
}

static void log_end(struct buf *b, int level)
{
	buf_adds(b, "}\n");
	pthread_mutex_lock(&la.mu);
	if (la.running && la.pending.len + b->len <= LOG_ASYNC_MAX) {
		buf_add(&la.pending, b->p, b->len);
		if (level >= LOG_ERROR || la.pending.len > 65536) {
			pthread_cond_signal(&la.cv);
		}
		pthread_mutex_unlock(&la.mu);
	} else {
		pthread_mutex_unlock(&la.mu);
		write_all(b->p, b->len);
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
	log_end(&b, level);
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
	log_end(&b, level);
}
