/*
 * The jq sandbox worker: our own binary re-executed with argv[1] ==
 * "__jq-worker" (see jq_worker_maybe_run). It drops everything an expression
 * could reach (environment, inherited fds), caps its memory and CPU, then
 * answers framed requests on stdin/stdout until EOF. It trusts nothing it
 * runs: the parent enforces the wall-clock deadline by killing it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <jq.h>
#include <jv.h>

#include "engine/engine.h"
#include "engine/jq_internal.h"
#include "core/core.h"

/* Under ASan, RLIMIT_AS breaks the sanitizer's huge shadow-memory mappings,
 * so sanitized builds skip it and rely on the parent's deadline (and
 * RLIMIT_CPU) to stop a memory bomb. */
#if defined(__SANITIZE_ADDRESS__)
#define WORKER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WORKER_ASAN 1
#endif
#endif
#ifndef WORKER_ASAN
#define WORKER_ASAN 0
#endif

#define CACHE_SIZE 16 /* compiled programs kept, least recently used evicted */

struct cached {
	char *program;
	jq_state *jq;
	unsigned long used;
};

static struct cached cache[CACHE_SIZE];
static unsigned long cache_clock;
static struct buf jq_msg = BUF_INIT; /* the first message jq reports per request */
static char *empty_environ[] = {NULL};

static int read_full(int fd, void *p, size_t n)
{
	char *c = p;
	while (n > 0) {
		ssize_t r = read(fd, c, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

static int write_full(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Limits first, then the environment and every fd but 0, 1 and 2 (which the
 * parent set to our socket and /dev/null). Any failure: refuse to run. */
static int worker_limits(void)
{
	struct rlimit cpu = {JQ_CPU_LIMIT_S, JQ_CPU_LIMIT_S + 1};
	if (setrlimit(RLIMIT_CPU, &cpu))
		return -1;
	if (!WORKER_ASAN) {
		struct rlimit as = {JQ_AS_LIMIT, JQ_AS_LIMIT};
		if (setrlimit(RLIMIT_AS, &as))
			return -1;
	}
	/* jq 1.6's env builtin walks environ: leave it empty, never NULL. */
	if (clearenv())
		return -1;
	environ = empty_environ;
	return close_range(3, ~0U, 0);
}

/* libjq 1.6 calls the debug callback without checking it is set. */
static void worker_debug_cb(void *data, jv msg)
{
	(void)data;
	jv_free(msg);
}

static void worker_error_cb(void *data, jv msg)
{
	struct buf *b = data;
	msg = jq_format_error(msg);
	if (b->len == 0 && jv_get_kind(msg) == JV_KIND_STRING)
		buf_adds(b, jv_string_value(msg));
	jv_free(msg);
}

/* The compiled program, from the cache or compiled now (NULL: jq_msg says why). */
static jq_state *cache_get(const char *program)
{
	size_t victim = 0;
	jq_state *jq;
	for (size_t i = 0; i < CACHE_SIZE; i++) {
		if (cache[i].program && !strcmp(cache[i].program, program)) {
			cache[i].used = ++cache_clock;
			return cache[i].jq;
		}
		if (!cache[i].program || cache[i].used < cache[victim].used)
			victim = i;
		if (!cache[victim].program)
			break;
	}
	jq = jq_init();
	if (!jq) {
		buf_adds(&jq_msg, "jq_init failed");
		return NULL;
	}
	jq_set_error_cb(jq, worker_error_cb, &jq_msg);
	jq_set_debug_cb(jq, worker_debug_cb, NULL);
	if (!jq_compile(jq, program)) {
		if (!jq_msg.len)
			buf_adds(&jq_msg, "syntax error");
		jq_teardown(&jq);
		return NULL;
	}
	if (cache[victim].jq)
		jq_teardown(&cache[victim].jq);
	free(cache[victim].program);
	cache[victim] = (struct cached){xstrdup(program), jq, ++cache_clock};
	return jq;
}

/* How an evaluation ended on an invalid value: jq's message, or the end. */
static unsigned char run_end(jq_state *jq, jv v, struct buf *out, size_t start)
{
	if (jq_halted(jq)) {
		jv_free(v);
		buf_truncate(out, start);
		buf_adds(out, "halt is not allowed in expressions");
		return JQ_REPLY_ERROR;
	}
	if (!jv_invalid_has_msg(jv_copy(v))) {
		jv_free(v);
		buf_addch(out, ']');
		return JQ_REPLY_OK;
	}
	jv msg = jv_invalid_get_msg(v);
	buf_truncate(out, start);
	if (jv_get_kind(msg) == JV_KIND_STRING) {
		buf_adds(out, jv_string_value(msg));
		jv_free(msg);
	} else {
		jv s = jv_dump_string(msg, 0);
		buf_addf(out, "%.200s (not a string)", jv_string_value(s));
		jv_free(s);
	}
	return JQ_REPLY_ERROR;
}

/* Run jq on input (consumed), appending the outputs to out as a JSON array. */
static unsigned char run(jq_state *jq, jv input, unsigned max_outputs, struct buf *out)
{
	size_t start = out->len;
	unsigned n = 0, first_only = max_outputs & JQ_REQ_FIRST_ONLY;
	max_outputs &= ~JQ_REQ_FIRST_ONLY;
	jq_start(jq, input, 0);
	buf_addch(out, '[');
	for (;;) {
		jv v = jq_next(jq);
		if (!jv_is_valid(v))
			return run_end(jq, v, out, start);
		if (++n > max_outputs) {
			jv_free(v);
			buf_truncate(out, start);
			buf_addf(out, "expression produced more than %u outputs", max_outputs);
			return JQ_REPLY_LARGE;
		}
		jv s = jv_dump_string(v, 0);
		size_t len = (size_t)jv_string_length_bytes(jv_copy(s));
		if (out->len - start + len + 2 > JQ_OUTPUT_MAX) {
			jv_free(s);
			buf_truncate(out, start);
			buf_addf(out, "expression output is larger than %u bytes", JQ_OUTPUT_MAX);
			return JQ_REPLY_LARGE;
		}
		if (n > 1)
			buf_addch(out, ',');
		buf_add(out, jv_string_value(s), len);
		jv_free(s);
		if (first_only) {
			buf_addch(out, ']');
			return JQ_REPLY_OK;
		}
	}
}

/* One request into reply (a whole frame). -1: the request is malformed. */
static int handle(const unsigned char *req, size_t len, struct buf *reply)
{
	unsigned char status = JQ_REPLY_ERROR, hdr[4];
	struct rusage ru;
	if (len < JQ_REQ_HEADER || jq_be32_get(req + 4) > len - JQ_REQ_HEADER)
		return -1;
	unsigned max_outputs = jq_be32_get(req), plen = jq_be32_get(req + 4);
	char *program = xstrndup((const char *)req + JQ_REQ_HEADER, plen);
	const char *in = (const char *)req + JQ_REQ_HEADER + plen;
	jv input = jv_parse_sized(in, (int)(len - JQ_REQ_HEADER - plen));
	jq_state *jq = NULL;

	buf_reset(reply);
	buf_add(reply, "\0\0\0\0", 5); /* length, then the status byte */
	buf_reset(&jq_msg);
	if (!jv_is_valid(input)) {
		jv_free(input);
		buf_adds(reply, "input is not valid JSON");
	} else if (!(jq = cache_get(program))) {
		jv_free(input);
		buf_add(reply, jq_msg.p, jq_msg.len);
	} else {
		status = run(jq, input, max_outputs, reply);
	}
	free(program);
	if (!getrusage(RUSAGE_SELF, &ru) &&
	    ru.ru_utime.tv_sec + ru.ru_stime.tv_sec >= JQ_CPU_LIMIT_S / 2)
		status |= JQ_REPLY_RETIRE;
	reply->p[4] = (char)status;
	jq_be32_put(hdr, (unsigned)(reply->len - 4));
	memcpy(reply->p, hdr, 4);
	return 0;
}

/* Read frames until EOF or a malformed frame; the parent replaces us then. */
static int worker_loop(void)
{
	struct buf req = BUF_INIT, reply = BUF_INIT;
	unsigned char hdr[4];
	for (;;) {
		if (read_full(0, hdr, sizeof(hdr)))
			break;
		unsigned len = jq_be32_get(hdr);
		if (len > JQ_FRAME_MAX)
			break;
		buf_reset(&req);
		buf_grow(&req, len);
		if (read_full(0, req.p, len))
			break;
		if (handle((const unsigned char *)req.p, len, &reply))
			break;
		if (write_full(1, reply.p, reply.len))
			break;
	}
	buf_release(&req);
	buf_release(&reply);
	return 0;
}

int jq_worker_maybe_run(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], JQ_WORKER_ARG))
		return 0;
	if (worker_limits())
		_exit(3);
	exit(worker_loop());
}
