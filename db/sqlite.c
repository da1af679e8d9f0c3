/*
 * SQLite driver: sqlite://PATH[?synchronous=full|normal|off&busy_timeout=MS].
 *
 * One handle per struct db, opened NOMUTEX (a connection serves one thread
 * at a time), in WAL mode with foreign keys on. Prepared statements are cached
 * per connection by SQL text (LRU); db_finalize() resets a cached statement
 * and hands it back instead of destroying it.
 *
 * WRITES AND GROUP COMMIT
 * SQLite has one writer per database, and with synchronous=FULL every commit
 * waits for the disk. So the connections of one process to one file share
 * one writer connection: a write transaction (db_begin(DB_TX_WRITE), or a
 * writing statement outside a transaction) runs on it as a SAVEPOINT inside
 * the writer's open transaction, one at a time, waiting in process instead of
 * SQLite's sleeping busy handler. Its commit RELEASEs the savepoint; when other
 * writers are waiting, it hands the open transaction on and waits, and the last
 * writer of the batch COMMITs for all (at most SQLITE_BATCH_MAX). db_commit()
 * returns only once the batch is durable, with the batch's error if its
 * COMMIT failed; a rollback undoes only its own savepoint. Reads outside a
 * write transaction stay on the connection's own handle and see committed
 * data only. Other processes on the same file still meet SQLite's locks and
 * busy_timeout.
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "db/db_internal.h"
#include "core/core.h"

#define SQLITE_CACHE_SIZE 64
#define SQLITE_PATH_MAX   1024
#define SQLITE_BATCH_MAX  256 /* logical transactions per physical commit */

struct sqlite_opts {
	char path[SQLITE_PATH_MAX];
	const char *synchronous;
	int busy_timeout;
};

struct sqlite_cached {
	char *sql; /* NULL: free entry */
	uint64_t hash;
	sqlite3_stmt *stmt;
	uint64_t last_used;
	int in_use;
};

/* A handle and its statement cache. */
struct sqlite_conn {
	sqlite3 *h;
	uint64_t tick;
	pthread_mutex_t *cache_mu; /* the shared writer's: its statements finish on any thread */
	struct sqlite_cached cache[SQLITE_CACHE_SIZE];
};

/* A writer waiting for the commit of the batch its savepoint went into. */
struct sqlite_waiter {
	struct sqlite_waiter *next;
	int rc; /* 0: durable; else the batch's error */
	int done;
};

/* One per database file in this process: the shared writer and its group commit. */
struct sqlite_shared {
	struct sqlite_shared *next;
	char path[SQLITE_PATH_MAX];
	int refs;
	pthread_mutex_t mu;
	pthread_cond_t free_cv;    /* busy cleared */
	pthread_cond_t done_cv;    /* a batch ended */
	pthread_mutex_t cache_mu;  /* w's statement cache */
	int busy;                  /* a logical transaction runs on w (mu) */
	int waiting;               /* threads waiting for busy to clear (mu) */
	struct sqlite_waiter *followers; /* released into the open batch (mu) */
	/* owned by whoever holds busy */
	struct sqlite_conn *w;     /* NULL until the first write */
	int open;                  /* a physical transaction is open on w */
	int released;              /* savepoints released into it */
};

struct sqlite_db {
	struct db base;
	struct sqlite_conn own;
	struct sqlite_conn *cur; /* own, or the shared writer inside a write transaction */
	struct sqlite_shared *sh;
	struct sqlite_opts opts;
	int writing; /* holds the shared writer (a logical write transaction) */
	int read_tx; /* a BEGIN (read) transaction on own */
};

struct sqlite_stmt {
	struct db_stmt base;
	sqlite3_stmt *stmt;
	struct sqlite_conn *conn;
	struct sqlite_cached *cached; /* NULL: owned, finalized by db_finalize */
	int64_t changes;
	int auto_tx; /* a writing statement outside a transaction: its own logical one */
};

static struct sqlite_db *sqlite_db_of(struct db *db)
{
	assert(db && db->drv == &db_sqlite_driver);
	return (struct sqlite_db *)db;
}

static struct sqlite_stmt *sqlite_stmt_of(struct db_stmt *st)
{
	assert(st && st->db->drv == &db_sqlite_driver);
	return (struct sqlite_stmt *)st;
}

/* --- URL ------------------------------------------------------------------ */

static int sqlite_apply_param(struct sqlite_opts *o, const struct db_url_param *p, struct err *e)
{
	static const char *const sync_modes[] = { "off", "normal", "full", "extra" };
	if (!strcmp(p->key, "synchronous")) {
		for (size_t i = 0; i < ARRAY_SIZE(sync_modes); i++)
			if (str_eq_nocase(p->value, sync_modes[i])) {
				o->synchronous = sync_modes[i];
				return 0;
			}
		return err_set(e, ERR_INVALID, NULL,
			       "sqlite URL: synchronous must be off, normal, full or extra");
	}
	if (!strcmp(p->key, "busy_timeout")) {
		int64_t v;
		if (str_to_i64(p->value, &v) < 0 || v < 0 || v > 600000)
			return err_set(e, ERR_INVALID, NULL,
				       "sqlite URL: busy_timeout must be 0..600000 (ms)");
		o->busy_timeout = (int)v;
		return 0;
	}
	return err_set(e, ERR_INVALID, NULL, "sqlite URL: unknown parameter '%.32s'", p->key);
}

static int sqlite_url_parse(const char *url, struct sqlite_opts *o, struct err *e)
{
	struct db_url_param p;
	int ret;
	o->synchronous = "full";
	o->busy_timeout = 5000;
	if (!str_has_prefix(url, "sqlite://"))
		return err_set(e, ERR_INVALID, NULL, "not a sqlite:// URL");
	const char *path = url + strlen("sqlite://");
	const char *q = strchr(path, '?');
	size_t n = q ? (size_t)(q - path) : strlen(path);
	if (n == 0)
		return err_set(e, ERR_INVALID, NULL, "sqlite URL has no path (sqlite://PATH)");
	ret = db_url_decode(path, n, o->path, sizeof(o->path), e);
	if (ret < 0)
		return ret;
	const char *cursor = q ? q + 1 : "";
	while ((ret = db_url_param_next(&cursor, &p, e)) == 1)
		if ((ret = sqlite_apply_param(o, &p, e)) < 0)
			return ret;
	return ret;
}

int db_sqlite_url_check(const char *url, struct err *e)
{
	struct sqlite_opts o;
	return sqlite_url_parse(url, &o, e);
}

/* --- errors --------------------------------------------------------------- */

static int sqlite_map(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY ||
		    rc == SQLITE_CONSTRAINT_ROWID)
			return ERR_CONFLICT;
		return ERR_CONSTRAINT;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return ERR_BUSY;
	case SQLITE_INTERRUPT:
		return ERR_TIMEOUT;
	default:
		return ERR_INTERNAL;
	}
}

/* Log the driver's text (it may quote data) at debug level; give a safe message. */
static int sqlite_fail(struct sqlite_conn *c, int rc, const char *detail, struct err *e)
{
	int code = sqlite_map(rc);
	log_debug("db.sqlite", "sqlite error %d: %s", rc, detail ? detail : sqlite3_errmsg(c->h));
	return err_set(e, code, NULL, "%s", db_error_text(code));
}

static int conn_exec(struct sqlite_conn *c, const char *sql, struct err *e)
{
	char *msg = NULL;
	int rc = sqlite3_exec(c->h, sql, NULL, NULL, &msg);
	int ret = 0;
	if (rc != SQLITE_OK)
		ret = sqlite_fail(c, sqlite3_extended_errcode(c->h), msg, e);
	sqlite3_free(msg);
	return ret;
}

static int sqlite_exec(struct db *db, const char *sql, struct err *e)
{
	return conn_exec(sqlite_db_of(db)->cur, sql, e);
}

/* --- connections ------------------------------------------------------------- */

static int conn_configure(struct sqlite_conn *c, const struct sqlite_opts *o, struct err *e)
{
	char sql[160];
	sqlite3_extended_result_codes(c->h, 1);
	sqlite3_busy_timeout(c->h, o->busy_timeout);
	/*
	 * Switching a new database to WAL while another connection does the same
	 * can return SQLITE_BUSY at once, without calling the busy handler (SQLite
	 * refuses to wait there to avoid a deadlock), so retry it here within the
	 * same busy_timeout budget.
	 */
	for (int waited = 0;; waited += 10) {
		int rc = sqlite3_exec(c->h, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			break;
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			return sqlite_fail(c, rc, NULL, e);
		if (waited >= o->busy_timeout)
			return sqlite_fail(c, rc, NULL, e);
		sqlite3_sleep(10);
	}
	/* reads map the file instead of a pread per page (other connections' commits
	 * invalidate a connection's page cache) */
	snprintf(sql, sizeof(sql), "PRAGMA foreign_keys=ON; PRAGMA synchronous=%s; "
		 "PRAGMA mmap_size=268435456;",
		 o->synchronous);
	return conn_exec(c, sql, e);
}

static void conn_close(struct sqlite_conn *c)
{
	for (int i = 0; i < SQLITE_CACHE_SIZE; i++) {
		struct sqlite_cached *k = &c->cache[i];
		if (!k->sql)
			continue;
		if (k->in_use)
			log_warn("db.sqlite", "closing a connection with a statement in use");
		sqlite3_finalize(k->stmt);
		free(k->sql);
	}
	sqlite3_close_v2(c->h);
	c->h = NULL;
}

/* flags: NOMUTEX for a connection of one thread at a time, FULLMUTEX for the writer. */
static int conn_open(struct sqlite_conn *c, const struct sqlite_opts *o, int flags,
		     struct err *e)
{
	int rc = sqlite3_open_v2(o->path, &c->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | flags,
				 NULL);
	if (rc != SQLITE_OK) {
		log_debug("db.sqlite", "open failed: %s",
			  c->h ? sqlite3_errmsg(c->h) : "no memory");
		sqlite3_close_v2(c->h);
		c->h = NULL;
		return err_set(e, ERR_UNAVAILABLE, NULL, "cannot open SQLite database '%.200s'",
			       o->path);
	}
	int ret = conn_configure(c, o, e);
	if (ret < 0)
		conn_close(c);
	return ret;
}

/* --- the shared writer ----------------------------------------------------------- */

static pthread_mutex_t shared_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sqlite_shared *shared_list;

static struct sqlite_shared *shared_get(const char *path)
{
	pthread_mutex_lock(&shared_mu);
	struct sqlite_shared *sh = shared_list;
	while (sh && strcmp(sh->path, path))
		sh = sh->next;
	if (!sh) {
		sh = xcalloc(1, sizeof(*sh));
		str_copy(sh->path, sizeof(sh->path), path);
		pthread_mutex_init(&sh->mu, NULL);
		pthread_mutex_init(&sh->cache_mu, NULL);
		pthread_cond_init(&sh->free_cv, NULL);
		pthread_cond_init(&sh->done_cv, NULL);
		sh->next = shared_list;
		shared_list = sh;
	}
	sh->refs++;
	pthread_mutex_unlock(&shared_mu);
	return sh;
}

static void shared_put(struct sqlite_shared *sh)
{
	pthread_mutex_lock(&shared_mu);
	if (--sh->refs > 0) {
		pthread_mutex_unlock(&shared_mu);
		return;
	}
	struct sqlite_shared **p = &shared_list;
	while (*p != sh)
		p = &(*p)->next;
	*p = sh->next;
	pthread_mutex_unlock(&shared_mu);
	if (sh->w) {
		if (sh->open)
			sqlite3_exec(sh->w->h, "ROLLBACK", NULL, NULL, NULL);
		conn_close(sh->w);
		free(sh->w);
	}
	pthread_mutex_destroy(&sh->mu);
	pthread_mutex_destroy(&sh->cache_mu);
	pthread_cond_destroy(&sh->free_cv);
	pthread_cond_destroy(&sh->done_cv);
	free(sh);
}

static void deadline_after(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static int lt_end(struct sqlite_db *s, int keep, struct err *e);

/*
 * Start a logical write transaction: wait (up to busy_timeout) for the shared
 * writer, open its physical transaction if none is open, and take a savepoint.
 */
static int lt_begin(struct sqlite_db *s, struct err *e)
{
	struct sqlite_shared *sh = s->sh;
	struct timespec until;
	int timed_out = 0, ret = 0;
	deadline_after(&until, s->opts.busy_timeout);
	pthread_mutex_lock(&sh->mu);
	sh->waiting++;
	while (sh->busy && !timed_out)
		timed_out = pthread_cond_timedwait(&sh->free_cv, &sh->mu, &until) == ETIMEDOUT;
	sh->waiting--;
	if (sh->busy) {
		pthread_mutex_unlock(&sh->mu);
		return err_set(e, ERR_BUSY, NULL, "%s", db_error_text(ERR_BUSY));
	}
	sh->busy = 1;
	pthread_mutex_unlock(&sh->mu);

	if (!sh->w) {
		struct sqlite_conn *w = xcalloc(1, sizeof(*w));
		w->cache_mu = &sh->cache_mu;
		ret = conn_open(w, &s->opts, SQLITE_OPEN_FULLMUTEX, e);
		if (ret < 0)
			free(w);
		else
			sh->w = w;
	}
	if (ret == 0 && !sh->open) {
		ret = conn_exec(sh->w, "BEGIN IMMEDIATE", e);
		if (ret == 0) {
			sh->open = 1;
			sh->released = 0;
		}
	}
	if (ret == 0)
		ret = conn_exec(sh->w, "SAVEPOINT parallax_tx", e);
	s->writing = 1;
	s->cur = sh->w ? sh->w : &s->own;
	if (ret < 0) {
		struct err ignored;
		lt_end(s, 0, &ignored);
	}
	return ret;
}

/* The batch is over (committed, rolled back or lost): tell its followers, free the writer. */
static void lt_hand_back(struct sqlite_shared *sh, int rc)
{
	pthread_mutex_lock(&sh->mu);
	for (struct sqlite_waiter *f = sh->followers; f; f = f->next) {
		f->rc = rc;
		f->done = 1;
	}
	sh->followers = NULL;
	sh->busy = 0;
	pthread_cond_broadcast(&sh->done_cv);
	pthread_cond_broadcast(&sh->free_cv);
	pthread_mutex_unlock(&sh->mu);
}

/*
 * End a logical write transaction: keep (RELEASE) or undo (ROLLBACK TO) its
 * savepoint, then either hand the open physical transaction to a waiting
 * writer and wait for its commit, or commit it now. The result is 0 only once
 * the kept work is durable.
 */
static int lt_end(struct sqlite_db *s, int keep, struct err *e)
{
	struct sqlite_shared *sh = s->sh;
	struct sqlite_conn *w = sh->w;
	int ret = 0, rc = 0;
	s->writing = 0;
	s->cur = &s->own;
	if (sh->open && !sqlite3_get_autocommit(w->h)) {
		if (keep && (ret = conn_exec(w, "RELEASE parallax_tx", e)) < 0)
			keep = 0;
		if (!keep) {
			sqlite3_exec(w->h, "ROLLBACK TO parallax_tx", NULL, NULL, NULL);
			sqlite3_exec(w->h, "RELEASE parallax_tx", NULL, NULL, NULL);
		}
	} else if (sh->open) {
		/* SQLite rolled the whole transaction back (I/O error, disk full): the batch is lost */
		sh->open = 0;
		log_error("db.sqlite", "the shared write transaction was rolled back by SQLite");
		lt_hand_back(sh, ERR_UNAVAILABLE);
		return keep ? err_set(e, ERR_UNAVAILABLE, NULL, "%s", db_error_text(ERR_UNAVAILABLE))
			    : ret;
	}
	if (keep)
		sh->released++;

	pthread_mutex_lock(&sh->mu);
	if (sh->open && sh->waiting > 0 && sh->released < SQLITE_BATCH_MAX) {
		/* pass the open transaction on; the batch's last member commits for all */
		struct sqlite_waiter me = { 0 };
		int wait = sh->released > 0; /* this work, or work it read, must be durable */
		if (wait) {
			me.next = sh->followers;
			sh->followers = &me;
		}
		sh->busy = 0;
		pthread_cond_signal(&sh->free_cv);
		while (wait && !me.done)
			pthread_cond_wait(&sh->done_cv, &sh->mu);
		pthread_mutex_unlock(&sh->mu);
		if (keep && me.rc < 0)
			ret = err_set(e, me.rc, NULL, "%s", db_error_text(me.rc));
		return ret;
	}
	pthread_mutex_unlock(&sh->mu);

	if (sh->open) {
		if (sh->released > 0) {
			struct err ce;
			rc = conn_exec(w, "COMMIT", &ce);
			if (rc < 0 && !sqlite3_get_autocommit(w->h))
				sqlite3_exec(w->h, "ROLLBACK", NULL, NULL, NULL);
		} else {
			sqlite3_exec(w->h, "ROLLBACK", NULL, NULL, NULL);
		}
		sh->open = 0;
	}
	lt_hand_back(sh, rc);
	if (keep && rc < 0)
		ret = err_set(e, rc, NULL, "%s", db_error_text(rc));
	return ret;
}

/* --- open / close ----------------------------------------------------------- */

static void sqlite_close(struct db *db)
{
	if (!db)
		return;
	struct sqlite_db *s = sqlite_db_of(db);
	struct err ignored;
	if (s->writing)
		lt_end(s, 0, &ignored);
	if (s->own.h)
		conn_close(&s->own);
	if (s->sh)
		shared_put(s->sh);
	free(s);
}

/*
 * Before SQLite's first use: no memory statistics. With them on (the default)
 * every allocation of every connection takes one process-wide mutex, which the
 * threads of a busy server then queue on.
 */
static void sqlite_init_once(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	sqlite3_initialize();
}

static int sqlite_open(const char *url, struct db **out, struct err *e)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, sqlite_init_once);
	struct sqlite_db *s = xcalloc(1, sizeof(*s));
	s->base.drv = &db_sqlite_driver;
	s->cur = &s->own;
	int ret = sqlite_url_parse(url, &s->opts, e);
	if (ret == 0)
		ret = conn_open(&s->own, &s->opts, SQLITE_OPEN_NOMUTEX, e);
	if (ret == 0)
		s->sh = shared_get(s->opts.path);
	if (ret < 0) {
		sqlite_close(&s->base);
		s = NULL;
	}
	*out = s ? &s->base : NULL;
	return ret;
}

/* --- statement cache -------------------------------------------------------- */

static struct sqlite_cached *sqlite_cache_find(struct sqlite_conn *c, const char *sql, uint64_t h)
{
	for (int i = 0; i < SQLITE_CACHE_SIZE; i++) {
		struct sqlite_cached *k = &c->cache[i];
		if (k->sql && !k->in_use && k->hash == h && !strcmp(k->sql, sql))
			return k;
	}
	return NULL;
}

/* A free entry, else the least recently used idle one (evicted); NULL if all busy. */
static struct sqlite_cached *sqlite_cache_slot(struct sqlite_conn *c)
{
	struct sqlite_cached *victim = NULL;
	for (int i = 0; i < SQLITE_CACHE_SIZE; i++) {
		struct sqlite_cached *k = &c->cache[i];
		if (!k->sql)
			return k;
		if (!k->in_use && (!victim || k->last_used < victim->last_used))
			victim = k;
	}
	if (victim) {
		sqlite3_finalize(victim->stmt);
		free(victim->sql);
		memset(victim, 0, sizeof(*victim));
	}
	return victim;
}

/* Exactly one statement, as PostgreSQL's prepare insists. */
static int sqlite_prepare_one(struct sqlite_conn *c, const char *sql, sqlite3_stmt **out,
			      struct err *e)
{
	const char *tail = NULL;
	int rc = sqlite3_prepare_v3(c->h, sql, -1, SQLITE_PREPARE_PERSISTENT, out, &tail);
	if (rc != SQLITE_OK)
		return sqlite_fail(c, rc, NULL, e);
	while (tail && (*tail == ' ' || *tail == '\t' || *tail == '\n' || *tail == '\r' ||
			*tail == ';'))
		tail++;
	if (*out && tail && !*tail)
		return 0;
	sqlite3_finalize(*out);
	*out = NULL;
	log_error("db.sqlite", "db_prepare needs exactly one SQL statement");
	return err_set(e, ERR_INTERNAL, NULL, "%s", db_error_text(ERR_INTERNAL));
}

/* A cached (or, when the cache is full of statements in use, owned) statement on c. */
static int conn_prepare(struct sqlite_conn *c, const char *sql, sqlite3_stmt **stmt,
			struct sqlite_cached **cached, struct err *e)
{
	uint64_t h = db_hash_sql(sql);
	int ret = 0;
	if (c->cache_mu)
		pthread_mutex_lock(c->cache_mu);
	struct sqlite_cached *k = sqlite_cache_find(c, sql, h);
	*stmt = k ? k->stmt : NULL;
	if (!k) {
		ret = sqlite_prepare_one(c, sql, stmt, e);
		if (ret == 0 && (k = sqlite_cache_slot(c))) {
			k->sql = xstrdup(sql);
			k->hash = h;
			k->stmt = *stmt;
		}
	}
	if (k && ret == 0) {
		k->in_use = 1;
		k->last_used = ++c->tick;
	}
	if (c->cache_mu)
		pthread_mutex_unlock(c->cache_mu);
	*cached = k;
	return ret;
}

static void conn_unprepare(struct sqlite_conn *c, sqlite3_stmt *stmt, struct sqlite_cached *k)
{
	if (c->cache_mu)
		pthread_mutex_lock(c->cache_mu);
	if (k) {
		sqlite3_reset(stmt);
		sqlite3_clear_bindings(stmt);
		k->in_use = 0;
	} else {
		sqlite3_finalize(stmt);
	}
	if (c->cache_mu)
		pthread_mutex_unlock(c->cache_mu);
}

static int sqlite_prepare(struct db *db, const char *sql, struct db_stmt **out, struct err *e)
{
	struct sqlite_db *s = sqlite_db_of(db);
	struct sqlite_conn *c = s->cur;
	struct sqlite_cached *k = NULL;
	sqlite3_stmt *stmt = NULL;
	int auto_tx = 0;
	int ret = conn_prepare(c, sql, &stmt, &k, e);
	if (ret < 0)
		return ret;
	/* a writing statement outside any transaction runs as its own write transaction */
	if (c == &s->own && !s->read_tx && !sqlite3_stmt_readonly(stmt)) {
		conn_unprepare(c, stmt, k);
		if ((ret = lt_begin(s, e)) < 0)
			return ret;
		c = s->cur;
		if ((ret = conn_prepare(c, sql, &stmt, &k, e)) < 0) {
			struct err ignored;
			lt_end(s, 0, &ignored);
			return ret;
		}
		auto_tx = 1;
	}
	struct sqlite_stmt *ss = xcalloc(1, sizeof(*ss));
	ss->base.db = db;
	ss->stmt = stmt;
	ss->conn = c;
	ss->cached = k;
	ss->auto_tx = auto_tx;
	*out = &ss->base;
	return 0;
}

static void sqlite_finalize(struct db_stmt *st)
{
	struct sqlite_stmt *ss = sqlite_stmt_of(st);
	conn_unprepare(ss->conn, ss->stmt, ss->cached);
	if (ss->auto_tx) {
		/* stepped but not to the end (a RETURNING row was enough): keep what it did */
		struct err e;
		if (lt_end(sqlite_db_of(st->db), 1, &e) < 0)
			log_warn("db.sqlite", "a write outside a transaction failed at commit: %s",
				 e.msg);
	}
	free(ss);
}

/* --- bind / step / columns ---------------------------------------------------- */

static int sqlite_bind_rc(int rc)
{
	return rc == SQLITE_OK ? 0 : ERR_INTERNAL;
}

static int sqlite_bind_text(struct db_stmt *st, int idx, const char *s, size_t n)
{
	if (n > INT_MAX)
		return ERR_TOO_LARGE;
	return sqlite_bind_rc(
		sqlite3_bind_text(sqlite_stmt_of(st)->stmt, idx, s, (int)n, SQLITE_TRANSIENT));
}

static int sqlite_bind_int64(struct db_stmt *st, int idx, int64_t v)
{
	return sqlite_bind_rc(sqlite3_bind_int64(sqlite_stmt_of(st)->stmt, idx, v));
}

static int sqlite_bind_double(struct db_stmt *st, int idx, double v)
{
	return sqlite_bind_rc(sqlite3_bind_double(sqlite_stmt_of(st)->stmt, idx, v));
}

static int sqlite_bind_null(struct db_stmt *st, int idx)
{
	return sqlite_bind_rc(sqlite3_bind_null(sqlite_stmt_of(st)->stmt, idx));
}

static int sqlite_step(struct db_stmt *st, struct err *e)
{
	struct sqlite_stmt *ss = sqlite_stmt_of(st);
	struct sqlite_db *s = sqlite_db_of(st->db);
	int rc = sqlite3_step(ss->stmt);
	int ret;
	if (rc == SQLITE_ROW)
		return DB_ROW;
	if (rc == SQLITE_DONE) {
		ss->changes = sqlite3_stmt_readonly(ss->stmt) ? 0 : sqlite3_changes64(ss->conn->h);
		ret = DB_DONE;
	} else {
		ret = sqlite_fail(ss->conn, rc, NULL, e);
		sqlite3_reset(ss->stmt);
	}
	if (ss->auto_tx) {
		ss->auto_tx = 0;
		sqlite3_reset(ss->stmt);
		int end = lt_end(s, ret == DB_DONE, e);
		if (ret == DB_DONE && end < 0)
			ret = end;
	}
	return ret;
}

static int sqlite_column_count(struct db_stmt *st)
{
	return sqlite3_column_count(sqlite_stmt_of(st)->stmt);
}

static int sqlite_column_is_null(struct db_stmt *st, int col)
{
	return sqlite3_column_type(sqlite_stmt_of(st)->stmt, col) == SQLITE_NULL;
}

static const char *sqlite_column_text(struct db_stmt *st, int col, size_t *len)
{
	sqlite3_stmt *stmt = sqlite_stmt_of(st)->stmt;
	const char *p = (const char *)sqlite3_column_text(stmt, col);
	if (len)
		*len = p ? (size_t)sqlite3_column_bytes(stmt, col) : 0;
	return p;
}

static int64_t sqlite_column_int64(struct db_stmt *st, int col)
{
	return sqlite3_column_int64(sqlite_stmt_of(st)->stmt, col);
}

static double sqlite_column_double(struct db_stmt *st, int col)
{
	return sqlite3_column_double(sqlite_stmt_of(st)->stmt, col);
}

static int64_t sqlite_changes(struct db_stmt *st)
{
	return sqlite_stmt_of(st)->changes;
}

static int sqlite_reset(struct db_stmt *st)
{
	struct sqlite_stmt *ss = sqlite_stmt_of(st);
	ss->changes = 0;
	sqlite3_reset(ss->stmt);
	return 0;
}

/* --- transactions ------------------------------------------------------------- */

static int sqlite_begin(struct db *db, enum db_tx kind, struct err *e)
{
	struct sqlite_db *s = sqlite_db_of(db);
	if (kind == DB_TX_WRITE)
		return lt_begin(s, e);
	int ret = conn_exec(&s->own, "BEGIN", e);
	s->read_tx = ret == 0;
	return ret;
}

static int sqlite_commit(struct db *db, struct err *e)
{
	struct sqlite_db *s = sqlite_db_of(db);
	if (s->writing)
		return lt_end(s, 1, e);
	s->read_tx = 0;
	return conn_exec(&s->own, "COMMIT", e);
}

static void sqlite_rollback(struct db *db)
{
	struct sqlite_db *s = sqlite_db_of(db);
	struct err ignored;
	if (s->writing)
		lt_end(s, 0, &ignored);
	s->read_tx = 0;
	if (!sqlite3_get_autocommit(s->own.h))
		sqlite3_exec(s->own.h, "ROLLBACK", NULL, NULL, NULL);
}

static int sqlite_ping(struct db *db, struct err *e)
{
	return sqlite_exec(db, "SELECT 1", e);
}

const struct db_driver db_sqlite_driver = {
	.name = "sqlite",
	.dialect = DB_SQLITE,
	.open = sqlite_open,
	.close = sqlite_close,
	.exec = sqlite_exec,
	.prepare = sqlite_prepare,
	.bind_text = sqlite_bind_text,
	.bind_int64 = sqlite_bind_int64,
	.bind_double = sqlite_bind_double,
	.bind_null = sqlite_bind_null,
	.step = sqlite_step,
	.column_count = sqlite_column_count,
	.column_is_null = sqlite_column_is_null,
	.column_text = sqlite_column_text,
	.column_int64 = sqlite_column_int64,
	.column_double = sqlite_column_double,
	.changes = sqlite_changes,
	.reset = sqlite_reset,
	.finalize = sqlite_finalize,
	.begin = sqlite_begin,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.ping = sqlite_ping,
};
