/*
 * An event loop thread: one curl multi handle for every transfer of its runs,
 * a binary heap of timers, and an inbox other threads post closures to
 * (woken with curl_multi_wakeup). Nothing here blocks but curl_multi_poll.
 */
#include <stdlib.h>
#include <pthread.h>
#include <string.h>

#include "engine/exec_internal.h"
#include "core/core.h"

struct task {
	struct task *next;
	void (*fn)(void *arg);
	void *arg;
};

struct loop {
	struct engine *en;
	pthread_t thread;
	CURLM *multi;
	pthread_mutex_t mu;
	struct task *head, *tail;
	int stop;
	struct timer **heap;
	size_t heap_len, heap_cap;
};

struct engine *loop_engine(struct loop *l)
{
	return l->en;
}

/* ---- timers: a min-heap on due; slot = index + 1 -------------------------------- */

static void heap_set(struct loop *l, size_t i, struct timer *t)
{
	l->heap[i] = t;
	t->slot = i + 1;
}

static void heap_up(struct loop *l, size_t i)
{
	struct timer *t = l->heap[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (l->heap[parent]->due <= t->due)
			break;
		heap_set(l, i, l->heap[parent]);
		i = parent;
	}
	heap_set(l, i, t);
}

static void heap_down(struct loop *l, size_t i)
{
	struct timer *t = l->heap[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= l->heap_len)
			break;
		if (c + 1 < l->heap_len && l->heap[c + 1]->due < l->heap[c]->due)
			c++;
		if (t->due <= l->heap[c]->due)
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, t);
}

void loop_timer_cancel(struct loop *l, struct timer *t)
{
	if (!t->slot)
		return;
	size_t i = t->slot - 1;
	struct timer *last = l->heap[--l->heap_len];
	t->slot = 0;
	if (i == l->heap_len)
		return;
	heap_set(l, i, last);
	heap_up(l, i);
	heap_down(l, last->slot - 1);
}

void loop_timer_arm(struct loop *l, struct timer *t, int64_t delay_ms)
{
	loop_timer_cancel(l, t);
	if (l->heap_len == l->heap_cap) {
		l->heap_cap = l->heap_cap ? 2 * l->heap_cap : 64;
		l->heap = xrealloc(l->heap, l->heap_cap * sizeof(*l->heap));
	}
	t->due = mono_ms() + (delay_ms > 0 ? delay_ms : 0);
	l->heap[l->heap_len] = t;
	t->slot = ++l->heap_len;
	heap_up(l, l->heap_len - 1);
}

static void timers_fire(struct loop *l)
{
	int64_t now = mono_ms();
	while (l->heap_len && l->heap[0]->due <= now) {
		struct timer *t = l->heap[0];
		loop_timer_cancel(l, t);
		t->fn(t);
	}
}

/* ---- transfers ---------------------------------------------------------------------- */

void loop_transfer_add(struct loop *l, struct transfer *t)
{
	curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
	CURLMcode mc = curl_multi_add_handle(l->multi, t->easy);
	if (mc != CURLM_OK) {
		log_error("engine.loop", "curl_multi_add_handle: %s", curl_multi_strerror(mc));
		t->done(t, CURLE_FAILED_INIT);
	}
}

void loop_transfer_remove(struct loop *l, struct transfer *t)
{
	if (t->easy)
		curl_multi_remove_handle(l->multi, t->easy);
}

static void transfers_reap(struct loop *l)
{
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(l->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct transfer *t = NULL;
		CURL *easy = m->easy_handle;
		CURLcode rc = m->data.result;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
		curl_multi_remove_handle(l->multi, easy);
		if (t)
			t->done(t, rc);
	}
}

/* ---- the inbox and the thread ------------------------------------------------------ */

void loop_post(struct loop *l, void (*fn)(void *arg), void *arg)
{
	struct task *t = xmalloc(sizeof(*t));
	*t = (struct task){ NULL, fn, arg };
	pthread_mutex_lock(&l->mu);
	if (l->tail)
		l->tail->next = t;
	else
		l->head = t;
	l->tail = t;
	pthread_mutex_unlock(&l->mu);
	curl_multi_wakeup(l->multi);
}

static int inbox_run(struct loop *l)
{
	pthread_mutex_lock(&l->mu);
	struct task *t = l->head;
	int stop = l->stop;
	l->head = l->tail = NULL;
	pthread_mutex_unlock(&l->mu);
	while (t) {
		struct task *next = t->next;
		t->fn(t->arg);
		free(t);
		t = next;
	}
	return stop;
}

static void *loop_main(void *arg)
{
	struct loop *l = arg;
	for (;;) {
		int running = 0, timeout = 1000;
		if (inbox_run(l))
			break;
		curl_multi_perform(l->multi, &running);
		transfers_reap(l);
		timers_fire(l);
		if (l->heap_len) {
			int64_t d = l->heap[0]->due - mono_ms();
			timeout = d < 0 ? 0 : d < timeout ? (int)d : timeout;
		}
		long curl_t = -1;
		curl_multi_timeout(l->multi, &curl_t);
		if (curl_t >= 0 && curl_t < timeout)
			timeout = (int)curl_t;
		curl_multi_poll(l->multi, NULL, 0, timeout, NULL);
	}
	return NULL;
}

struct loop *loop_new(struct engine *en, struct err *e)
{
	struct loop *l = xcalloc(1, sizeof(*l));
	l->en = en;
	pthread_mutex_init(&l->mu, NULL);
	l->multi = curl_multi_init();
	if (!l->multi)
		goto fail;
	curl_multi_setopt(l->multi, CURLMOPT_MAXCONNECTS, 256L);
	if (pthread_create(&l->thread, NULL, loop_main, l))
		goto fail;
	return l;
fail:
	if (l->multi)
		curl_multi_cleanup(l->multi);
	pthread_mutex_destroy(&l->mu);
	free(l);
	err_set(e, ERR_INTERNAL, NULL, "cannot start an engine loop");
	return NULL;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->mu);
	l->stop = 1;
	pthread_mutex_unlock(&l->mu);
	curl_multi_wakeup(l->multi);
	pthread_join(l->thread, NULL);
	inbox_run(l);
	curl_multi_cleanup(l->multi);
	pthread_mutex_destroy(&l->mu);
	free(l->heap);
	free(l);
}
