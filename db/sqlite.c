/*
 * SQLite driver: sqlite://PATH[?synchronous=full|normal|off&busy_timeout=MS].
 *
 * One handle per struct db, opened NOMUTEX (a connection serves one thread
 * at a time), in WAL mode with foreign keys on. Prepared statements are cached
 * per connection by SQL text (LRU); db_finalize() resets a cached statement
 * and hands it back instead of destroying it.
 */
#include <assert.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db/db_internal.h"
#include "core/core.h"

#define SQLITE_CACHE_SIZE 64
#define SQLITE_PATH_MAX   1024

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

struct sqlite_db {
	struct db base;
	sqlite3 *h;
	uint64_t tick;
	struct sqlite_cached cache[SQLITE_CACHE_SIZE];
};

struct sqlite_stmt {
	struct db_stmt base;
	sqlite3_stmt *stmt;
	struct sqlite_cached *cached; /* NULL: owned, finalized by db_finalize */
	int64_t changes;
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
static int sqlite_fail(struct sqlite_db *s, int rc, const char *detail, struct err *e)
{
	int code = sqlite_map(rc);
	log_debug("db.sqlite", "sqlite error %d: %s", rc, detail ? detail : sqlite3_errmsg(s->h));
	return err_set(e, code, NULL, "%s", db_error_text(code));
}

static int sqlite_exec(struct db *db, const char *sql, struct err *e)
{
	struct sqlite_db *s = sqlite_db_of(db);
	char *msg = NULL;
	int rc = sqlite3_exec(s->h, sql, NULL, NULL, &msg);
	int ret = 0;
	if (rc != SQLITE_OK)
		ret = sqlite_fail(s, sqlite3_extended_errcode(s->h), msg, e);
	sqlite3_free(msg);
	return ret;
}

/* --- open / close ----------------------------------------------------------- */

static int sqlite_configure(struct sqlite_db *s, const struct sqlite_opts *o, struct err *e)
{
	char sql[160];
	sqlite3_extended_result_codes(s->h, 1);
	sqlite3_busy_timeout(s->h, o->busy_timeout);
	/*
	 * Switching a new database to WAL while another connection does the same
	 * can return SQLITE_BUSY at once, without calling the busy handler (SQLite
	 * refuses to wait there to avoid a deadlock), so retry it here within the
	 * same busy_timeout budget.
	 */
	for (int waited = 0;; waited += 10) {
		int rc = sqlite3_exec(s->h, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			break;
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			return sqlite_fail(s, rc, NULL, e);
		if (waited >= o->busy_timeout)
			return sqlite_fail(s, rc, NULL, e);
		sqlite3_sleep(10);
	}
	snprintf(sql, sizeof(sql), "PRAGMA foreign_keys=ON; PRAGMA synchronous=%s;",
		 o->synchronous);
	return sqlite_exec(&s->base, sql, e);
}

static void sqlite_close(struct db *db)
{
	if (!db)
		return;
	struct sqlite_db *s = sqlite_db_of(db);
	for (int i = 0; i < SQLITE_CACHE_SIZE; i++) {
		struct sqlite_cached *c = &s->cache[i];
		if (!c->sql)
			continue;
		if (c->in_use)
			log_warn("db.sqlite", "closing a connection with a statement in use");
		sqlite3_finalize(c->stmt);
		free(c->sql);
	}
	sqlite3_close_v2(s->h);
	free(s);
}

static int sqlite_open(const char *url, struct db **out, struct err *e)
{
	struct sqlite_opts o;
	struct sqlite_db *s = NULL;
	int ret = sqlite_url_parse(url, &o, e);
	if (ret < 0)
		goto out;
	s = xcalloc(1, sizeof(*s));
	s->base.drv = &db_sqlite_driver;
	int rc = sqlite3_open_v2(o.path, &s->h,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				 NULL);
	if (rc != SQLITE_OK) {
		log_debug("db.sqlite", "open failed: %s",
			  s->h ? sqlite3_errmsg(s->h) : "no memory");
		ret = err_set(e, ERR_UNAVAILABLE, NULL, "cannot open SQLite database '%.200s'",
			      o.path);
		goto out;
	}
	ret = sqlite_configure(s, &o, e);
out:
	if (ret < 0 && s) {
		sqlite_close(&s->base);
		s = NULL;
	}
	*out = s ? &s->base : NULL;
	return ret;
}

/* --- statement cache -------------------------------------------------------- */

static struct sqlite_cached *sqlite_cache_find(struct sqlite_db *s, const char *sql, uint64_t h)
{
	for (int i = 0; i < SQLITE_CACHE_SIZE; i++) {
		struct sqlite_cached *c = &s->cache[i];
		if (c->sql && !c->in_use && c->hash == h && !strcmp(c->sql, sql))
			return c;
	}
	return NULL;
}

/* A free entry, else the least recently used idle one (evicted); NULL if all busy. */
static struct sqlite_cached *sqlite_cache_slot(struct sqlite_db *s)
{
	struct sqlite_cached *victim = NULL;
	for (int i = 0; i < SQLITE_CACHE_SIZE; i++) {
		struct sqlite_cached *c = &s->cache[i];
		if (!c->sql)
			return c;
		if (!c->in_use && (!victim || c->last_used < victim->last_used))
			victim = c;
	}
	if (victim) {
		sqlite3_finalize(victim->stmt);
		free(victim->sql);
		memset(victim, 0, sizeof(*victim));
	}
	return victim;
}

/* Exactly one statement, as PostgreSQL's prepare insists. */
static int sqlite_prepare_one(struct sqlite_db *s, const char *sql, sqlite3_stmt **out,
			      struct err *e)
{
	const char *tail = NULL;
	int rc = sqlite3_prepare_v3(s->h, sql, -1, SQLITE_PREPARE_PERSISTENT, out, &tail);
	if (rc != SQLITE_OK)
		return sqlite_fail(s, rc, NULL, e);
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

static int sqlite_prepare(struct db *db, const char *sql, struct db_stmt **out, struct err *e)
{
	struct sqlite_db *s = sqlite_db_of(db);
	uint64_t h = db_hash_sql(sql);
	struct sqlite_cached *c = sqlite_cache_find(s, sql, h);
	sqlite3_stmt *stmt = c ? c->stmt : NULL;
	if (!c) {
		int ret = sqlite_prepare_one(s, sql, &stmt, e);
		if (ret < 0)
			return ret;
		if ((c = sqlite_cache_slot(s))) {
			c->sql = xstrdup(sql);
			c->hash = h;
			c->stmt = stmt;
		}
	}
	if (c) {
		c->in_use = 1;
		c->last_used = ++s->tick;
	}
	struct sqlite_stmt *ss = xcalloc(1, sizeof(*ss));
	ss->base.db = db;
	ss->stmt = stmt;
	ss->cached = c;
	*out = &ss->base;
	return 0;
}

static void sqlite_finalize(struct db_stmt *st)
{
	struct sqlite_stmt *ss = sqlite_stmt_of(st);
	if (ss->cached) {
		sqlite3_reset(ss->stmt);
		sqlite3_clear_bindings(ss->stmt);
		ss->cached->in_use = 0;
	} else {
		sqlite3_finalize(ss->stmt);
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
	if (rc == SQLITE_ROW)
		return DB_ROW;
	if (rc == SQLITE_DONE) {
		ss->changes = sqlite3_stmt_readonly(ss->stmt) ? 0 : sqlite3_changes64(s->h);
		return DB_DONE;
	}
	int ret = sqlite_fail(s, rc, NULL, e);
	sqlite3_reset(ss->stmt);
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
	return sqlite_exec(db, kind == DB_TX_WRITE ? "BEGIN IMMEDIATE" : "BEGIN", e);
}

static int sqlite_commit(struct db *db, struct err *e)
{
	return sqlite_exec(db, "COMMIT", e);
}

static void sqlite_rollback(struct db *db)
{
	struct sqlite_db *s = sqlite_db_of(db);
	if (!sqlite3_get_autocommit(s->h))
		sqlite3_exec(s->h, "ROLLBACK", NULL, NULL, NULL);
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
