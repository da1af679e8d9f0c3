/*
 * The connection pool: a fixed number of slots, each lazily opened on first
 * acquire and reopened after the driver marks its connection broken. A mutex
 * and a condition variable (on the monotonic clock) hand out free slots;
 * counters are atomics so db_pool_stats() never blocks a query.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/db_internal.h"
#include "core/core.h"

#define DB_POOL_MAX 1024

struct db_pool {
	char *url;
	const struct db_driver *drv;
	int size;
	struct db **conns;   /* NULL until opened; owned by the slot's holder while busy */
	unsigned char *busy; /* guarded by mu */
	int in_use, waiting; /* guarded by mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	_Atomic uint64_t acquires, waits, timeouts, queries, errors;
};

struct db_pool *db_pool_open(const char *url, int size, struct err *e)
{
	if (db_url_check(url, e) < 0)
		return NULL;
	if (size < 1 || size > DB_POOL_MAX) {
		err_set(e, ERR_INVALID, NULL, "database pool size must be 1..%d", DB_POOL_MAX);
		return NULL;
	}
	struct db_pool *pool = xcalloc(1, sizeof(*pool));
	pool->url = xstrdup(url);
	pool->drv = str_has_prefix(url, "sqlite://") ? &db_sqlite_driver : &db_pg_driver;
	pool->size = size;
	pool->conns = xcalloc((size_t)size, sizeof(*pool->conns));
	pool->busy = xcalloc((size_t)size, 1);
	pthread_mutex_init(&pool->mu, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&pool->cv, &attr);
	pthread_condattr_destroy(&attr);
	return pool;
}

void db_pool_close(struct db_pool *pool)
{
	if (!pool)
		return;
	pthread_mutex_lock(&pool->mu);
	if (pool->in_use)
		log_warn("db", "closing the database pool with %d connection(s) still in use",
			 pool->in_use);
	pthread_mutex_unlock(&pool->mu);
	for (int i = 0; i < pool->size; i++)
		if (pool->conns[i])
			pool->drv->close(pool->conns[i]);
	pthread_cond_destroy(&pool->cv);
	pthread_mutex_destroy(&pool->mu);
	free(pool->conns);
	free(pool->busy);
	free(pool->url);
	free(pool);
}

enum db_dialect db_pool_dialect(const struct db_pool *pool)
{
	return pool->drv->dialect;
}

/* Prefer an already-open connection; called with mu held. */
static int pool_take_slot(struct db_pool *pool)
{
	int empty = -1;
	for (int i = 0; i < pool->size; i++) {
		if (pool->busy[i])
			continue;
		if (pool->conns[i] && !pool->conns[i]->broken) {
			empty = i;
			break;
		}
		if (empty < 0)
			empty = i;
	}
	if (empty >= 0) {
		pool->busy[empty] = 1;
		pool->in_use++;
	}
	return empty;
}

static void pool_put_slot(struct db_pool *pool, int slot)
{
	pthread_mutex_lock(&pool->mu);
	pool->busy[slot] = 0;
	pool->in_use--;
	pthread_cond_signal(&pool->cv);
	pthread_mutex_unlock(&pool->mu);
}

static void deadline_after(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static int pool_wait_slot(struct db_pool *pool, int timeout_ms)
{
	struct timespec deadline;
	int slot, counted = 0;
	deadline_after(&deadline, timeout_ms > 0 ? timeout_ms : 0);
	pthread_mutex_lock(&pool->mu);
	while ((slot = pool_take_slot(pool)) < 0 && timeout_ms > 0) {
		if (!counted) {
			atomic_fetch_add(&pool->waits, 1);
			counted = 1;
		}
		pool->waiting++;
		int rc = pthread_cond_timedwait(&pool->cv, &pool->mu, &deadline);
		pool->waiting--;
		if (rc == ETIMEDOUT) {
			slot = pool_take_slot(pool);
			break;
		}
	}
	pthread_mutex_unlock(&pool->mu);
	return slot;
}

/* The slot is ours: drop a broken connection, open one if needed. */
static int pool_ensure_open(struct db_pool *pool, int slot, struct err *e)
{
	struct db *db = pool->conns[slot];
	if (db && db->broken) {
		log_info("db", "reconnecting a broken %s connection", pool->drv->name);
		pool->drv->close(db);
		pool->conns[slot] = db = NULL;
	}
	if (db)
		return 0;
	int ret = pool->drv->open(pool->url, &db, e);
	if (ret < 0)
		return ret;
	db->pool = pool;
	pool->conns[slot] = db;
	return 0;
}

int db_acquire(struct db_pool *pool, int timeout_ms, struct db **out, struct err *e)
{
	*out = NULL;
	int slot = pool_wait_slot(pool, timeout_ms);
	if (slot < 0) {
		atomic_fetch_add(&pool->timeouts, 1);
		return err_setc(e, ERR_BUSY, "db_pool_exhausted", NULL,
				"no database connection free within %d ms", timeout_ms);
	}
	int ret = pool_ensure_open(pool, slot, e);
	if (ret < 0) {
		atomic_fetch_add(&pool->errors, 1);
		pool_put_slot(pool, slot);
		return ret;
	}
	atomic_fetch_add(&pool->acquires, 1);
	*out = pool->conns[slot];
	return 0;
}

void db_release(struct db *db)
{
	if (!db)
		return;
	struct db_pool *pool = db->pool;
	if (db->in_tx)
		db_rollback(db);
	if (!pool) {
		db_close(db);
		return;
	}
	int slot = -1;
	for (int i = 0; i < pool->size && slot < 0; i++)
		if (pool->conns[i] == db)
			slot = i;
	if (slot < 0) {
		log_error("db", "db_release: connection does not belong to its pool");
		return;
	}
	if (db->broken) {
		pool->drv->close(db);
		pool->conns[slot] = NULL;
	}
	pool_put_slot(pool, slot);
}

void db_pool_stats(struct db_pool *pool, struct db_pool_stats *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&pool->mu);
	out->size = pool->size;
	out->in_use = pool->in_use;
	out->waiting = pool->waiting;
	pthread_mutex_unlock(&pool->mu);
	out->acquires = atomic_load(&pool->acquires);
	out->waits = atomic_load(&pool->waits);
	out->timeouts = atomic_load(&pool->timeouts);
	out->queries = atomic_load(&pool->queries);
	out->errors = atomic_load(&pool->errors);
}

void db_pool_note_query(struct db_pool *pool)
{
	atomic_fetch_add(&pool->queries, 1);
}

void db_pool_note_error(struct db_pool *pool)
{
	atomic_fetch_add(&pool->errors, 1);
}
