/*
 * The generic half of the storage interface: scheme selection, URL helpers,
 * and the db_* wrappers that dispatch through the driver table while keeping
 * the rules both backends share (transaction poisoning, error accounting,
 * bind-by-format).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"
#include "core/core.h"

static const struct db_driver *db_driver_for(const char *url)
{
	if (!url)
		return NULL;
	if (str_has_prefix(url, "sqlite://"))
		return &db_sqlite_driver;
	if (str_has_prefix(url, "postgres://") || str_has_prefix(url, "postgresql://"))
		return &db_pg_driver;
	return NULL;
}

int db_url_check(const char *url, struct err *e)
{
	const struct db_driver *drv = db_driver_for(url);
	if (!drv)
		return err_set(e, ERR_INVALID, NULL,
			       "unsupported database URL (use sqlite://PATH or postgres://...)");
	if (drv == &db_sqlite_driver)
		return db_sqlite_url_check(url, e);
	return db_pg_url_check(url, e);
}

int db_open(const char *url, struct db **out, struct err *e)
{
	int ret = db_url_check(url, e);
	if (ret < 0)
		return ret;
	return db_driver_for(url)->open(url, out, e);
}

void db_close(struct db *db)
{
	if (db)
		db->drv->close(db);
}

const char *db_error_text(int code)
{
	switch (code) {
	case ERR_CONFLICT:
		return "a conflicting row already exists";
	case ERR_CONSTRAINT:
		return "a database constraint was violated";
	case ERR_BUSY:
		return "the database is busy, try again";
	case ERR_UNAVAILABLE:
		return "the database is unavailable";
	case ERR_TIMEOUT:
		return "the database statement timed out";
	default:
		return "database error";
	}
}

uint64_t db_hash_sql(const char *sql)
{
	uint64_t h = 1469598103934665603ULL;
	for (const unsigned char *p = (const unsigned char *)sql; *p; p++) {
		h ^= *p;
		h *= 1099511628211ULL;
	}
	return h;
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int db_url_decode(const char *s, size_t n, char *out, size_t outsz, struct err *e)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			int hi = i + 2 < n ? hex_val(s[i + 1]) : -1;
			int lo = i + 2 < n ? hex_val(s[i + 2]) : -1;
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return err_set(e, ERR_INVALID, NULL, "malformed %%-escape in URL");
			c = hi * 16 + lo;
			i += 2;
		}
		if (o + 1 >= outsz)
			return err_set(e, ERR_INVALID, NULL, "URL part too long");
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

int db_url_param_next(const char **cursor, struct db_url_param *p, struct err *e)
{
	const char *s = *cursor;
	while (*s == '&')
		s++;
	if (!*s)
		return 0;
	const char *end = strchr(s, '&');
	if (!end)
		end = s + strlen(s);
	const char *eq = memchr(s, '=', (size_t)(end - s));
	if (!eq || eq == s)
		return err_set(e, ERR_INVALID, NULL,
			       "malformed URL parameter (expected key=value)");
	int ret = db_url_decode(s, (size_t)(eq - s), p->key, sizeof(p->key), e);
	if (ret == 0)
		ret = db_url_decode(eq + 1, (size_t)(end - eq - 1), p->value, sizeof(p->value), e);
	if (ret < 0)
		return ret;
	p->raw = s;
	p->raw_len = (size_t)(end - s);
	*cursor = end;
	return 1;
}

/* --- statements ------------------------------------------------------------- */

enum db_dialect db_dialect(const struct db *db)
{
	return db->drv->dialect;
}

/* Record a failure: pool counter, and the first error of an open transaction. */
static int db_note(struct db *db, int ret)
{
	if (ret < 0) {
		if (db->pool)
			db_pool_note_error(db->pool);
		if (db->in_tx && !db->tx_err)
			db->tx_err = ret;
	}
	return ret;
}

static int db_check_tx(struct db *db, struct err *e)
{
	if (db->in_tx && db->tx_err)
		return err_set(e, ERR_INTERNAL, NULL, "transaction already failed; roll it back");
	return 0;
}

int db_exec(struct db *db, const char *sql, struct err *e)
{
	int ret = db_check_tx(db, e);
	if (ret < 0)
		return ret;
	if (db->pool)
		db_pool_note_query(db->pool);
	return db_note(db, db->drv->exec(db, sql, e));
}

int db_prepare(struct db *db, const char *sql, struct db_stmt **out, struct err *e)
{
	*out = NULL;
	int ret = db_check_tx(db, e);
	if (ret < 0)
		return ret;
	ret = db_note(db, db->drv->prepare(db, sql, out, e));
	if (ret == 0)
		(*out)->started = 0;
	return ret;
}

static int db_bind_one(struct db_stmt *st, int idx, char f, va_list *ap)
{
	const struct db_driver *drv = st->db->drv;
	switch (f) {
	case 's': {
		const char *s = va_arg(*ap, const char *);
		return s ? drv->bind_text(st, idx, s, strlen(s)) : drv->bind_null(st, idx);
	}
	case 'i':
		return drv->bind_int64(st, idx, va_arg(*ap, int64_t));
	case 'd':
		return drv->bind_double(st, idx, va_arg(*ap, double));
	case 'b':
		return drv->bind_int64(st, idx, va_arg(*ap, int) ? 1 : 0);
	case 'n':
		return drv->bind_null(st, idx);
	default:
		log_error("db", "db_bindf: unknown format character '%c'", f);
		return ERR_INTERNAL;
	}
}

int db_vbindf(struct db_stmt *st, const char *fmt, va_list ap)
{
	int ret = 0, idx = 1;
	va_list cp;
	va_copy(cp, ap);
	for (const char *f = fmt; *f && ret == 0; f++, idx++)
		ret = db_bind_one(st, idx, *f, &cp);
	va_end(cp);
	return ret;
}

int db_bindf(struct db_stmt *st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int ret = db_vbindf(st, fmt, ap);
	va_end(ap);
	return ret;
}

int db_bind_text(struct db_stmt *st, int idx, const char *s, size_t n)
{
	return s ? st->db->drv->bind_text(st, idx, s, n) : st->db->drv->bind_null(st, idx);
}

int db_bind_int64(struct db_stmt *st, int idx, int64_t v)
{
	return st->db->drv->bind_int64(st, idx, v);
}

int db_bind_double(struct db_stmt *st, int idx, double v)
{
	return st->db->drv->bind_double(st, idx, v);
}

int db_bind_null(struct db_stmt *st, int idx)
{
	return st->db->drv->bind_null(st, idx);
}

int db_step(struct db_stmt *st, struct err *e)
{
	struct db *db = st->db;
	if (!st->started) {
		int ret = db_check_tx(db, e);
		if (ret < 0)
			return ret;
		st->started = 1;
		if (db->pool)
			db_pool_note_query(db->pool);
	}
	return db_note(db, db->drv->step(st, e));
}

int db_column_count(struct db_stmt *st)
{
	return st->db->drv->column_count(st);
}

int db_column_is_null(struct db_stmt *st, int col)
{
	return st->db->drv->column_is_null(st, col);
}

const char *db_column_text(struct db_stmt *st, int col)
{
	return st->db->drv->column_text(st, col, NULL);
}

const char *db_column_textn(struct db_stmt *st, int col, size_t *len)
{
	return st->db->drv->column_text(st, col, len);
}

int64_t db_column_int64(struct db_stmt *st, int col)
{
	return st->db->drv->column_int64(st, col);
}

double db_column_double(struct db_stmt *st, int col)
{
	return st->db->drv->column_double(st, col);
}

int64_t db_changes(struct db_stmt *st)
{
	return st->db->drv->changes(st);
}

int db_reset(struct db_stmt *st)
{
	st->started = 0;
	return st->db->drv->reset(st);
}

void db_finalize(struct db_stmt *st)
{
	if (st)
		st->db->drv->finalize(st);
}

/* prepare + bind; on success the caller owns *st. */
static int db_vprepare_bind(struct db *db, struct err *e, struct db_stmt **st, const char *sql,
			    const char *fmt, va_list ap)
{
	int ret = db_prepare(db, sql, st, e);
	if (ret < 0)
		return ret;
	ret = db_vbindf(*st, fmt, ap);
	if (ret < 0) {
		db_finalize(*st);
		*st = NULL;
		return err_set(e, ret, NULL, "cannot bind statement parameters");
	}
	return 0;
}

int db_execf(struct db *db, struct err *e, int64_t *changes, const char *sql, const char *fmt,
	     ...)
{
	va_list ap;
	va_start(ap, fmt);
	int ret = db_vexecf(db, e, changes, sql, fmt, ap);
	va_end(ap);
	return ret;
}

int db_vexecf(struct db *db, struct err *e, int64_t *changes, const char *sql, const char *fmt,
	      va_list ap)
{
	struct db_stmt *st = NULL;
	int ret = db_vprepare_bind(db, e, &st, sql, fmt, ap);
	if (ret < 0)
		goto out;
	while ((ret = db_step(st, e)) == DB_ROW)
		;
	if (ret == DB_DONE && changes)
		*changes = db_changes(st);
out:
	db_finalize(st);
	return ret < 0 ? ret : 0;
}

int db_wait_notify(struct db *db, int timeout_ms, struct err *e)
{
	if (!db->drv->wait_notify)
		return err_set(e, ERR_INVALID, NULL, "%s has no notifications", db->drv->name);
	return db->drv->wait_notify(db, timeout_ms, e);
}

int db_prepare_bindf(struct db *db, struct err *e, struct db_stmt **out, const char *sql,
		     const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int ret = db_vprepare_bind(db, e, out, sql, fmt, ap);
	va_end(ap);
	return ret < 0 ? ret : 0;
}

int db_query_int64(struct db *db, struct err *e, int64_t *out, const char *sql, const char *fmt,
		   ...)
{
	struct db_stmt *st = NULL;
	va_list ap;
	va_start(ap, fmt);
	int ret = db_vprepare_bind(db, e, &st, sql, fmt, ap);
	va_end(ap);
	if (ret < 0)
		goto out;
	ret = db_step(st, e);
	if (ret == DB_ROW) {
		*out = db_column_int64(st, 0);
		ret = 0;
	} else if (ret == DB_DONE) {
		ret = err_set(e, ERR_NOT_FOUND, NULL, "no row");
	}
out:
	db_finalize(st);
	return ret;
}

void db_column_copy(struct db_stmt *st, int col, char *dst, size_t size)
{
	const char *v = db_column_text(st, col);
	str_copy(dst, size, v ? v : "");
}

int db_query_text(struct db *db, struct err *e, char *out, size_t size, const char *sql,
		  const char *fmt, ...)
{
	struct db_stmt *st = NULL;
	va_list ap;
	va_start(ap, fmt);
	int ret = db_vprepare_bind(db, e, &st, sql, fmt, ap);
	va_end(ap);
	if (ret < 0)
		goto out;
	ret = db_step(st, e);
	if (ret == DB_ROW) {
		const char *v = db_column_text(st, 0);
		str_copy(out, size, v ? v : "");
		ret = 0;
	} else if (ret == DB_DONE) {
		ret = err_set(e, ERR_NOT_FOUND, NULL, "no row");
	}
out:
	db_finalize(st);
	return ret;
}

int db_table_exists(struct db *db, const char *table, int *exists, struct err *e)
{
	static const char sql_sqlite[] =
		"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?";
	static const char sql_pg[] = "SELECT count(*) FROM information_schema.tables "
				     "WHERE table_schema = current_schema() AND table_name = ?";
	int64_t n = 0;
	int ret = db_query_int64(db, e, &n, db_dialect(db) == DB_POSTGRES ? sql_pg : sql_sqlite,
				 "s", table);
	if (ret == 0)
		*exists = n > 0;
	return ret;
}

/* --- transactions ----------------------------------------------------------- */

int db_begin(struct db *db, enum db_tx kind, struct err *e)
{
	if (db->in_tx)
		return err_set(e, ERR_INTERNAL, NULL, "a transaction is already open");
	int ret = db->drv->begin(db, kind, e);
	if (ret == 0) {
		db->in_tx = 1;
		db->tx_err = 0;
	}
	return db_note(db, ret);
}

int db_commit(struct db *db, struct err *e)
{
	int ret;
	if (!db->in_tx)
		return err_set(e, ERR_INTERNAL, NULL, "no transaction is open");
	if (db->tx_err) {
		ret = err_set(e, db->tx_err, NULL, "rolled back after an earlier error");
		db->drv->rollback(db);
	} else {
		ret = db->drv->commit(db, e);
		if (ret < 0)
			db->drv->rollback(db);
	}
	db->in_tx = 0;
	db->tx_err = 0;
	if (ret < 0 && db->pool)
		db_pool_note_error(db->pool);
	return ret;
}

void db_rollback(struct db *db)
{
	if (!db->in_tx)
		return;
	db->drv->rollback(db);
	db->in_tx = 0;
	db->tx_err = 0;
}

int db_ping(struct db *db, struct err *e)
{
	return db->drv->ping(db, e);
}
