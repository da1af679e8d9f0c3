/*
 * jq evaluation of untrusted expressions (SPEC.md §3). Every evaluation runs
 * in one of a small pool of sandbox worker processes (jq_worker.c), never in
 * a server thread: a runaway or hostile expression costs one worker, which is
 * killed at the deadline (or when it dies or misbehaves) and replaced.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/jq_internal.h"
#include "core/core.h"

#define POOL_WAIT_S	 10 /* longest wait for an idle worker */
#define POOL_MAX_WORKERS 64

/* One worker. busy is guarded by the pool's mutex; pid and fd belong to
 * whoever set busy (or to the pool while nobody did). pid -1: none running. */
struct jq_slot {
	pid_t pid;
	int fd;
	int busy;
};

struct jq_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* signalled when a slot stops being busy */
	int n;
	struct jq_slot *slots;
};

/* Kill and reap the worker (if any); the slot is then empty. */
static void slot_kill(struct jq_slot *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (s->fd >= 0)
		close(s->fd);
	s->pid = -1;
	s->fd = -1;
}

/* Re-execute our own binary as a worker: a socket on its stdin and stdout
 * (ours is close-on-exec, so no other worker inherits it), stderr to
 * /dev/null, an empty environment, default signal dispositions and mask. */
static int slot_spawn(struct jq_slot *s, struct err *e)
{
	static char arg0[] = "parallax-jq", arg1[] = JQ_WORKER_ARG;
	char *argv[] = {arg0, arg1, NULL}, *envp[] = {NULL};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	int sv[2], rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return err_set(e, ERR_INTERNAL, NULL, "jq worker socketpair: %s", strerror(errno));
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGXCPU);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = posix_spawn(&s->pid, "/proc/self/exe", &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(sv[1]);
	if (rc) {
		close(sv[0]);
		s->pid = -1;
		return err_set(e, ERR_INTERNAL, NULL, "spawning a jq worker: %s", strerror(rc));
	}
	s->fd = sv[0];
	return 0;
}

/* Wait until fd is ready for ev or the deadline (mono_ms) passes. */
static int io_wait(int fd, short ev, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - mono_ms();
		struct pollfd pfd = {.fd = fd, .events = ev};
		if (left <= 0)
			return ERR_TIMEOUT;
		int r = poll(&pfd, 1, (int)left);
		if (r > 0)
			return 0; /* ready, or hung up: the next call says which */
		if (r < 0 && errno != EINTR)
			return ERR_IO;
	}
}

/* Send or receive exactly n bytes before the deadline; never raises SIGPIPE. */
static int io_full(int fd, int sending, void *p, size_t n, int64_t deadline)
{
	char *c = p;
	while (n > 0) {
		int rc = io_wait(fd, sending ? POLLOUT : POLLIN, deadline);
		if (rc)
			return rc;
		ssize_t r = sending ? send(fd, c, n, MSG_NOSIGNAL | MSG_DONTWAIT)
				    : recv(fd, c, n, MSG_DONTWAIT);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return ERR_IO;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Wait (bounded) for an idle slot and mark it busy. Returns its index. */
static int pool_acquire(struct jq_pool *p, struct err *e)
{
	struct timespec dl;
	int idx = -1, rc = 0;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += POOL_WAIT_S;
	pthread_mutex_lock(&p->mu);
	while (idx < 0 && rc == 0) {
		for (int i = 0; i < p->n && idx < 0; i++)
			if (!p->slots[i].busy)
				idx = i;
		if (idx < 0)
			rc = pthread_cond_timedwait(&p->cv, &p->mu, &dl);
	}
	if (idx >= 0)
		p->slots[idx].busy = 1;
	pthread_mutex_unlock(&p->mu);
	if (idx < 0)
		return err_setc(e, ERR_BUSY, "expression_busy", NULL,
				"no expression worker was free for %d s", POOL_WAIT_S);
	return idx;
}

static void pool_release(struct jq_pool *p, int idx)
{
	pthread_mutex_lock(&p->mu);
	p->slots[idx].busy = 0;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* 1 if an idle worker hung up or spoke out of turn: it died, or was killed,
 * between requests, through no fault of the next expression. */
static int slot_gone(const struct jq_slot *s)
{
	struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
	return poll(&pfd, 1, 0) != 0;
}

/* Frame the request: length, max_outputs, program length, program, input. */
static int request_build(struct buf *req, const char *program, const char *input, unsigned max_outputs,
			 struct err *e)
{
	size_t plen = strlen(program), ilen = strlen(input);
	unsigned char hdr[4 + JQ_REQ_HEADER];
	if (plen > PATTERN_EXPR_MAX || ilen > JQ_FRAME_MAX - JQ_REQ_HEADER - plen)
		return err_setc(e, ERR_TOO_LARGE, "expression_input_too_large", NULL,
				"expression input is larger than %u bytes", JQ_FRAME_MAX);
	jq_be32_put(hdr, (unsigned)(JQ_REQ_HEADER + plen + ilen));
	jq_be32_put(hdr + 4, max_outputs);
	jq_be32_put(hdr + 8, (unsigned)plen);
	buf_add(req, hdr, sizeof(hdr));
	buf_add(req, program, plen);
	buf_add(req, input, ilen);
	return 0;
}

/* One request and its reply (status byte + body) before the deadline. On any
 * failure the worker is killed (the next caller spawns a fresh one). */
static int slot_roundtrip(struct jq_slot *s, struct buf *req, struct buf *reply, int timeout_ms,
			  struct err *e)
{
	unsigned char hdr[4];
	unsigned len;
	int rc;
	if (s->pid > 0 && slot_gone(s))
		slot_kill(s);
	if (s->pid < 0 && (rc = slot_spawn(s, e)))
		return rc;
	int64_t deadline = mono_ms() + timeout_ms;
	rc = io_full(s->fd, 1, req->p, req->len, deadline);
	if (!rc)
		rc = io_full(s->fd, 0, hdr, sizeof(hdr), deadline);
	if (!rc && ((len = jq_be32_get(hdr)) == 0 || len > JQ_FRAME_MAX))
		rc = ERR_INTERNAL; /* malformed frame */
	if (!rc) {
		buf_grow(reply, len);
		rc = io_full(s->fd, 0, reply->p, len, deadline);
		reply->len = rc ? 0 : len;
	}
	if (!rc)
		return 0;
	slot_kill(s);
	if (rc == ERR_TIMEOUT)
		return err_setc(e, ERR_TIMEOUT, "expression_timeout", NULL,
				"expression ran longer than %d ms", timeout_ms);
	if (rc == ERR_INTERNAL)
		return err_set(e, ERR_INTERNAL, NULL, "jq worker sent a malformed reply");
	return err_setc(e, ERR_UNPROCESSABLE, "expression_crashed", NULL,
			"expression crashed its worker (out of memory or CPU?)");
}

/* The reply's body as outputs, or as the error it reports. */
static int reply_decode(const struct buf *reply, cJSON **outputs, struct err *e)
{
	unsigned char status = (unsigned char)reply->p[0] & ~JQ_REPLY_RETIRE;
	const char *body = reply->p + 1;
	int blen = (int)(reply->len - 1);
	if (status == JQ_REPLY_ERROR)
		return err_setc(e, ERR_UNPROCESSABLE, "expression_error", NULL, "%.*s", blen, body);
	if (status == JQ_REPLY_LARGE)
		return err_setc(e, ERR_TOO_LARGE, "expression_output_too_large", NULL, "%.*s", blen,
				body);
	if (status != JQ_REPLY_OK)
		return err_set(e, ERR_INTERNAL, NULL, "jq worker sent an unknown reply");
	*outputs = cJSON_ParseWithLength(body, (size_t)blen);
	if (!cJSON_IsArray(*outputs)) {
		cJSON_Delete(*outputs);
		*outputs = NULL;
		return err_setc(e, ERR_UNPROCESSABLE, "expression_error", NULL,
				"expression output nests too deeply");
	}
	return 0;
}

int jq_pool_eval(struct jq_pool *p, const char *program, const char *input_json, int timeout_ms,
		 int max_outputs, cJSON **outputs, struct err *e)
{
	struct buf req = BUF_INIT, reply = BUF_INIT;
	int idx = -1, ret;

	*outputs = NULL;
	if (timeout_ms <= 0)
		timeout_ms = JQ_TIMEOUT_DEFAULT_MS;
	if (timeout_ms > JQ_TIMEOUT_MAX_MS)
		timeout_ms = JQ_TIMEOUT_MAX_MS;
	unsigned wire = max_outputs == JQ_FIRST_OUTPUT ? JQ_REQ_FIRST_ONLY | 1u
			: max_outputs <= 0 ? (unsigned)JQ_MAX_OUTPUTS_DEFAULT : (unsigned)max_outputs;
	ret = request_build(&req, program, input_json, wire, e);
	if (ret)
		goto out;
	ret = idx = pool_acquire(p, e);
	if (idx < 0)
		goto out;
	ret = slot_roundtrip(&p->slots[idx], &req, &reply, timeout_ms, e);
	if (ret)
		goto out;
	ret = reply_decode(&reply, outputs, e);
	if ((unsigned char)reply.p[0] & JQ_REPLY_RETIRE)
		slot_kill(&p->slots[idx]); /* spent half its CPU budget: a fresh one next */
out:
	if (idx >= 0)
		pool_release(p, idx);
	buf_release(&req);
	buf_release(&reply);
	return ret;
}

struct jq_pool *jq_pool_new(int workers, struct err *e)
{
	pthread_condattr_t ca;
	struct jq_pool *p = xcalloc(1, sizeof(*p));
	p->n = workers <= 0 ? JQ_WORKERS_DEFAULT : workers;
	if (p->n > POOL_MAX_WORKERS)
		p->n = POOL_MAX_WORKERS;
	p->slots = xcalloc((size_t)p->n, sizeof(*p->slots));
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cv, &ca);
	pthread_condattr_destroy(&ca);
	for (int i = 0; i < p->n; i++)
		p->slots[i] = (struct jq_slot){.pid = -1, .fd = -1};
	for (int i = 0; i < p->n; i++) {
		if (slot_spawn(&p->slots[i], e)) {
			jq_pool_free(p);
			return NULL;
		}
	}
	return p;
}

void jq_pool_free(struct jq_pool *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->n; i++)
		slot_kill(&p->slots[i]);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p->slots);
	free(p);
}

int jq_pool_worker_pid(struct jq_pool *p, int i)
{
	int pid = -1;
	pthread_mutex_lock(&p->mu);
	if (i >= 0 && i < p->n)
		pid = p->slots[i].pid;
	pthread_mutex_unlock(&p->mu);
	return pid;
}
