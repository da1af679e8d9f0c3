/*
 * Storage: one driver-level interface, two backends (SQLite, PostgreSQL).
 *
 * DESIGN
 * - A struct db is one connection. Connections come from a struct db_pool
 *   (db_acquire/db_release); a connection is used by one thread at a time.
 * - SQL is written once, in store_*.c, with '?' placeholders; the PostgreSQL
 *   driver rewrites them to $1..$n at prepare time (outside quoted text).
 *   Code branches on db_dialect() only where the SQL truly differs.
 * - Portable types: ids are TEXT (UUIDv7), times are BIGINT epoch ms,
 *   booleans are INTEGER 0/1, JSON documents are TEXT (kept byte-exact so
 *   pattern documents round-trip losslessly), money-like counters BIGINT.
 * - Every function returns 0 (or DB_ROW/DB_DONE from db_step) or a negative
 *   enum err_code and fills struct err. Both backends map their errors onto
 *   the same codes: unique violation -> ERR_CONFLICT, foreign key/check ->
 *   ERR_CONSTRAINT, locked/serialization/deadlock -> ERR_BUSY, connection
 *   lost -> ERR_UNAVAILABLE. Driver messages (which may quote SQL or data) go
 *   to the log at debug level, never into err->msg.
 * - Write transactions use db_begin(db, DB_TX_WRITE): BEGIN IMMEDIATE on
 *   SQLite (a deferred read-then-write fails at once with SQLITE_BUSY,
 *   ignoring busy_timeout), plain BEGIN on PostgreSQL.
 * - A failed statement poisons the open transaction on both backends (as
 *   PostgreSQL does natively): later statements fail with ERR_INTERNAL and
 *   db_commit() rolls back and returns the first error's code. Use ON
 *   CONFLICT clauses, not caught errors, for "insert or keep".
 * - Statements are cached per connection by SQL text, so pass constant SQL
 *   strings; building SQL from values is never needed (bind them).
 */
#ifndef DB_DB_H
#define DB_DB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum db_dialect { DB_SQLITE = 1, DB_POSTGRES = 2 };

enum { DB_DONE = 0, DB_ROW = 1 };

enum db_tx { DB_TX_READ = 0, DB_TX_WRITE = 1 };

struct db_pool;
struct db_stmt;
struct db;

struct db_driver {
	const char *name;
	enum db_dialect dialect;
	int (*open)(const char *url, struct db **out, struct err *e);
	void (*close)(struct db *db);
	int (*exec)(struct db *db, const char *sql, struct err *e); /* no params, may be multi */
	int (*prepare)(struct db *db, const char *sql, struct db_stmt **out, struct err *e);
	int (*bind_text)(struct db_stmt *st, int idx, const char *s, size_t n);
	int (*bind_int64)(struct db_stmt *st, int idx, int64_t v);
	int (*bind_double)(struct db_stmt *st, int idx, double v);
	int (*bind_null)(struct db_stmt *st, int idx);
	int (*step)(struct db_stmt *st, struct err *e);
	int (*column_count)(struct db_stmt *st);
	int (*column_is_null)(struct db_stmt *st, int col);
	const char *(*column_text)(struct db_stmt *st, int col, size_t *len);
	int64_t (*column_int64)(struct db_stmt *st, int col);
	double (*column_double)(struct db_stmt *st, int col);
	int64_t (*changes)(struct db_stmt *st);
	int (*reset)(struct db_stmt *st);
	void (*finalize)(struct db_stmt *st);
	int (*begin)(struct db *db, enum db_tx kind, struct err *e);
	int (*commit)(struct db *db, struct err *e);
	void (*rollback)(struct db *db);
	int (*ping)(struct db *db, struct err *e);
	/* Optional (PostgreSQL): wait up to timeout_ms for a NOTIFY on a channel this
	 * connection LISTENs to; 1 if one came, 0 on timeout, < 0 on error. */
	int (*wait_notify)(struct db *db, int timeout_ms, struct err *e);
};

/* Base structs; each backend embeds them first and casts back with a check. */
struct db {
	const struct db_driver *drv;
	struct db_pool *pool;
	int in_tx;
	int broken; /* set by a driver when the connection must not be reused */
	int tx_err; /* first error code inside the open transaction, 0 if none */
};

struct db_stmt {
	struct db *db;
	int started; /* stepped since prepare/reset (query accounting) */
};

/* --- pool ---------------------------------------------------------------- */

/* url: sqlite://PATH (relative or absolute) or postgres://... / postgresql://... */
struct db_pool *db_pool_open(const char *url, int size, struct err *e);
void db_pool_close(struct db_pool *pool);
enum db_dialect db_pool_dialect(const struct db_pool *pool);
/* Blocks up to timeout_ms for a free connection (ERR_BUSY after). */
int db_acquire(struct db_pool *pool, int timeout_ms, struct db **out, struct err *e);
void db_release(struct db *db); /* rolls back an open transaction */

struct db_pool_stats {
	int size, in_use, waiting;
	uint64_t acquires, waits, timeouts;
	uint64_t queries, errors;
};
void db_pool_stats(struct db_pool *pool, struct db_pool_stats *out);

/* Validate a URL's shape without connecting (config check). */
int db_url_check(const char *url, struct err *e);

/* One connection outside any pool (tools, tests); db_close() closes it. */
int db_open(const char *url, struct db **out, struct err *e);
void db_close(struct db *db);

/* --- statements ------------------------------------------------------------ */

enum db_dialect db_dialect(const struct db *db);
int db_exec(struct db *db, const char *sql, struct err *e);
int db_prepare(struct db *db, const char *sql, struct db_stmt **out, struct err *e);
/*
 * Bind by a format string, one character per parameter, starting at 1:
 *   's' const char * (NULL binds NULL)   'i' int64_t   'd' double
 *   'b' int (boolean 0/1)                'n' NULL (no argument consumed)
 * 'i' reads an int64_t from the varargs: cast int expressions, (int64_t)n.
 */
int db_bindf(struct db_stmt *st, const char *fmt, ...);
int db_vbindf(struct db_stmt *st, const char *fmt, va_list ap);
int db_bind_text(struct db_stmt *st, int idx, const char *s, size_t n);
int db_bind_int64(struct db_stmt *st, int idx, int64_t v);
int db_bind_double(struct db_stmt *st, int idx, double v);
int db_bind_null(struct db_stmt *st, int idx);
int db_step(struct db_stmt *st, struct err *e);
int db_column_count(struct db_stmt *st);
int db_column_is_null(struct db_stmt *st, int col);
const char *db_column_text(struct db_stmt *st, int col); /* NULL for SQL NULL */
const char *db_column_textn(struct db_stmt *st, int col, size_t *len);
/* Column text into dst (truncated, NUL-terminated); SQL NULL gives "". */
void db_column_copy(struct db_stmt *st, int col, char *dst, size_t size);
int64_t db_column_int64(struct db_stmt *st, int col);
double db_column_double(struct db_stmt *st, int col);
int64_t db_changes(struct db_stmt *st);
int db_reset(struct db_stmt *st);
void db_finalize(struct db_stmt *st);

/* prepare + bindf + step to completion; *changes gets rows affected (may be NULL). */
int db_execf(struct db *db, struct err *e, int64_t *changes, const char *sql, const char *fmt,
	     ...);

/* prepare + bindf + first row's column 0 as int64: 0 with *out set, or
 * ERR_NOT_FOUND (no row, *out untouched), or another error. */
/* Prepare sql and bind fmt's arguments (as db_bindf); finalize *out even on error. */
int db_prepare_bindf(struct db *db, struct err *e, struct db_stmt **out, const char *sql,
		     const char *fmt, ...);
/* Wait for a NOTIFY (after "LISTEN <channel>" on db); ERR_INVALID where the backend
 * has none (SQLite: wake-ups are in process). 1 notified, 0 timed out. */
int db_wait_notify(struct db *db, int timeout_ms, struct err *e);
int db_vexecf(struct db *db, struct err *e, int64_t *changes, const char *sql, const char *fmt,
	      va_list ap);
int db_query_int64(struct db *db, struct err *e, int64_t *out, const char *sql, const char *fmt,
		   ...);
/* The first column of the first row as text into out (NULL reads as "");
 * ERR_NOT_FOUND when there is no row. */
int db_query_text(struct db *db, struct err *e, char *out, size_t size, const char *sql,
		  const char *fmt, ...);
/* *exists = 1 if a table of that name exists (in the current schema on PostgreSQL). */
int db_table_exists(struct db *db, const char *table, int *exists, struct err *e);

int db_begin(struct db *db, enum db_tx kind, struct err *e);
int db_commit(struct db *db, struct err *e);
void db_rollback(struct db *db);
int db_ping(struct db *db, struct err *e);

/* --- migrations -------------------------------------------------------------- */

/* Apply pending migrations for the connection's dialect (idempotent, locked
 * against concurrent migrators). *applied gets how many ran (may be NULL). */
int db_migrate(struct db *db, int *applied, struct err *e);
/* Latest embedded version, and the version recorded in the database. */
int db_migrations_latest(enum db_dialect d);
int db_schema_version(struct db *db, int *version, struct err *e);

/* Entity stores (SQL written once per entity) live behind the same header. */
#include "db/store.h"

#endif
