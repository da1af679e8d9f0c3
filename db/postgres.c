/*
 * PostgreSQL driver (libpq) for postgres:// and postgresql:// URLs. Our own
 * URL parameter statement_timeout=MS is stripped before libpq sees the URL.
 * '?' placeholders are rewritten to $n (pg_sql.c); each statement is
 * PQprepare'd once per connection, cached by SQL text under the names s1, s2,
 * ..., and run with PQexecPrepared in text format. A result is fetched whole
 * on the first db_step().
 */
#include <assert.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db/db_internal.h"
#include "core/core.h"

#define PG_CACHE_SIZE 128
#define PG_URL_MAX    2048

struct pg_opts {
	char conninfo[PG_URL_MAX]; /* the URL without our own parameters */
	int64_t statement_timeout; /* ms; -1 keeps the server's default */
};

struct pg_cached {
	char *sql; /* original SQL text; NULL: free entry */
	uint64_t hash;
	char name[16];
	int nparams;
	int users; /* live statements using this prepared statement */
	uint64_t last_used;
};

struct pg_db {
	struct db base;
	PGconn *conn;
	uint64_t tick;
	unsigned next_name;
	struct pg_cached cache[PG_CACHE_SIZE];
};

struct pg_stmt {
	struct db_stmt base;
	struct pg_cached *cached; /* NULL: run sql with PQexecParams */
	char *sql;                /* rewritten SQL, only when not cached */
	int nparams;
	char **values; /* text parameters; NULL binds SQL NULL */
	PGresult *res;
	int row;
	int64_t changes;
};

static struct pg_db *pg_db_of(struct db *db)
{
	assert(db && db->drv == &db_pg_driver);
	return (struct pg_db *)db;
}

static struct pg_stmt *pg_stmt_of(struct db_stmt *st)
{
	assert(st && st->db->drv == &db_pg_driver);
	return (struct pg_stmt *)st;
}

/* --- URL ------------------------------------------------------------------ */

static int pg_conninfo_check(const char *conninfo, struct err *e)
{
	char *msg = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &msg);
	/* libpq's message may quote a URL part (even the password): never show it. */
	if (msg)
		PQfreemem(msg);
	if (!opts)
		return err_set(e, ERR_INVALID, NULL, "invalid PostgreSQL URL (rejected by libpq)");
	PQconninfoFree(opts);
	return 0;
}

static int pg_url_parse(const char *url, struct pg_opts *o, struct err *e)
{
	struct buf clean = BUF_INIT;
	struct db_url_param p;
	char sep = '?';
	int ret;
	o->statement_timeout = -1;
	if (!str_has_prefix(url, "postgres://") && !str_has_prefix(url, "postgresql://"))
		return err_set(e, ERR_INVALID, NULL, "not a postgres:// URL");
	const char *q = strchr(url, '?');
	buf_add(&clean, url, q ? (size_t)(q - url) : strlen(url));
	const char *cursor = q ? q + 1 : "";
	while ((ret = db_url_param_next(&cursor, &p, e)) == 1) {
		if (strcmp(p.key, "statement_timeout") != 0) {
			buf_addch(&clean, sep);
			buf_add(&clean, p.raw, p.raw_len);
			sep = '&';
		} else if (str_to_i64(p.value, &o->statement_timeout) < 0 ||
			   o->statement_timeout < 0 || o->statement_timeout > 86400000) {
			ret = err_set(e, ERR_INVALID, NULL,
				      "postgres URL: statement_timeout must be 0..86400000 (ms)");
			break;
		}
	}
	if (ret == 0 && clean.len >= sizeof(o->conninfo))
		ret = err_set(e, ERR_INVALID, NULL, "postgres URL too long");
	if (ret == 0) {
		str_copy(o->conninfo, sizeof(o->conninfo), clean.p);
		ret = pg_conninfo_check(o->conninfo, e);
	}
	buf_release(&clean);
	return ret;
}

int db_pg_url_check(const char *url, struct err *e)
{
	struct pg_opts o;
	return pg_url_parse(url, &o, e);
}

/* --- errors --------------------------------------------------------------- */

static const struct {
	const char *prefix;
	int code;
} pg_states[] = {
	{ "23505", ERR_CONFLICT },    /* unique_violation */
	{ "23", ERR_CONSTRAINT },     /* other integrity violations (FK, check, not null) */
	{ "22", ERR_CONSTRAINT },     /* data exceptions: a value the column refuses */
	{ "40001", ERR_BUSY },        /* serialization_failure */
	{ "40P01", ERR_BUSY },        /* deadlock_detected */
	{ "55P03", ERR_BUSY },        /* lock_not_available */
	{ "57014", ERR_TIMEOUT },     /* query_canceled (statement_timeout) */
	{ "57P", ERR_UNAVAILABLE },   /* admin/crash shutdown, cannot connect now */
	{ "08", ERR_UNAVAILABLE },    /* connection exceptions */
	{ "53", ERR_UNAVAILABLE },    /* insufficient resources */
};

static int pg_map_sqlstate(const char *state)
{
	if (!state)
		return ERR_INTERNAL;
	for (size_t i = 0; i < ARRAY_SIZE(pg_states); i++)
		if (str_has_prefix(state, pg_states[i].prefix))
			return pg_states[i].code;
	return ERR_INTERNAL;
}

/* Map a failed result (res may be NULL); a lost connection marks db broken. */
static int pg_fail(struct pg_db *p, const PGresult *res, struct err *e)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	int code = pg_map_sqlstate(state);
	if (PQstatus(p->conn) == CONNECTION_BAD || (state && (str_has_prefix(state, "08") ||
							      str_has_prefix(state, "57P")))) {
		code = ERR_UNAVAILABLE;
		p->base.broken = 1;
	}
	log_debug("db.pg", "postgres error %s: %s", state ? state : "-",
		  res ? PQresultErrorMessage(res) : PQerrorMessage(p->conn));
	return err_set(e, code, NULL, "%s", db_error_text(code));
}

/* Run SQL without parameters; rows, if any, are discarded. */
static int pg_exec(struct db *db, const char *sql, struct err *e)
{
	struct pg_db *p = pg_db_of(db);
	PGresult *res = PQexec(p->conn, sql);
	ExecStatusType st = PQresultStatus(res);
	int ret = 0;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY)
		ret = pg_fail(p, res, e);
	PQclear(res);
	return ret;
}

/* --- open / close ----------------------------------------------------------- */

static void pg_notice(void *arg, const char *message)
{
	(void)arg;
	log_debug("db.pg", "notice: %s", message);
}

static int pg_configure(struct pg_db *p, const struct pg_opts *o, struct err *e)
{
	char sql[96];
	PQsetNoticeProcessor(p->conn, pg_notice, NULL);
	int ret = pg_exec(&p->base, "SET client_min_messages = warning", e);
	if (ret == 0 && o->statement_timeout >= 0) {
		snprintf(sql, sizeof(sql), "SET statement_timeout = %lld",
			 (long long)o->statement_timeout);
		ret = pg_exec(&p->base, sql, e);
	}
	return ret;
}

static void pg_close(struct db *db)
{
	if (!db)
		return;
	struct pg_db *p = pg_db_of(db);
	for (int i = 0; i < PG_CACHE_SIZE; i++)
		free(p->cache[i].sql);
	PQfinish(p->conn);
	free(p);
}

static int pg_open(const char *url, struct db **out, struct err *e)
{
	/* Ours first, so the URL (expanded from dbname) may override them. */
	static const char *const keys[] = { "application_name", "connect_timeout", "dbname", NULL };
	struct pg_opts o;
	struct pg_db *p = NULL;
	int ret = pg_url_parse(url, &o, e);
	if (ret < 0)
		goto out;
	const char *values[] = { "parallax", "10", o.conninfo, NULL };
	p = xcalloc(1, sizeof(*p));
	p->base.drv = &db_pg_driver;
	p->conn = PQconnectdbParams(keys, values, 1);
	if (!p->conn || PQstatus(p->conn) != CONNECTION_OK) {
		const char *host = p->conn ? PQhost(p->conn) : NULL;
		const char *port = p->conn ? PQport(p->conn) : NULL;
		const char *dbname = p->conn ? PQdb(p->conn) : NULL;
		log_debug("db.pg", "connect failed: %s", p->conn ? PQerrorMessage(p->conn) : "");
		ret = err_set(e, ERR_UNAVAILABLE, NULL,
			      "cannot connect to PostgreSQL at %.100s:%.10s/%.63s",
			      host ? host : "?", port ? port : "?", dbname ? dbname : "?");
		goto out;
	}
	ret = pg_configure(p, &o, e);
out:
	if (ret < 0 && p) {
		pg_close(&p->base);
		p = NULL;
	}
	*out = p ? &p->base : NULL;
	return ret;
}

/* --- statement cache -------------------------------------------------------- */

static struct pg_cached *pg_cache_find(struct pg_db *p, const char *sql, uint64_t h)
{
	for (int i = 0; i < PG_CACHE_SIZE; i++) {
		struct pg_cached *c = &p->cache[i];
		if (c->sql && c->hash == h && !strcmp(c->sql, sql))
			return c;
	}
	return NULL;
}

/* A free entry, else the least recently used unused one (deallocated); NULL if none. */
static struct pg_cached *pg_cache_slot(struct pg_db *p)
{
	struct pg_cached *victim = NULL;
	char sql[32];
	for (int i = 0; i < PG_CACHE_SIZE; i++) {
		struct pg_cached *c = &p->cache[i];
		if (!c->sql)
			return c;
		if (!c->users && (!victim || c->last_used < victim->last_used))
			victim = c;
	}
	if (victim) {
		snprintf(sql, sizeof(sql), "DEALLOCATE %s", victim->name);
		PQclear(PQexec(p->conn, sql));
		free(victim->sql);
		memset(victim, 0, sizeof(*victim));
	}
	return victim;
}

/* Prepare on the server under a fresh name; on success c describes it. */
static int pg_cache_add(struct pg_db *p, struct pg_cached *c, const char *sql, const char *rw,
			int nparams, struct err *e)
{
	char name[16];
	snprintf(name, sizeof(name), "s%u", ++p->next_name);
	PGresult *res = PQprepare(p->conn, name, rw, 0, NULL);
	int ret = 0;
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		ret = pg_fail(p, res, e);
	} else {
		c->sql = xstrdup(sql);
		c->hash = db_hash_sql(sql);
		str_copy(c->name, sizeof(c->name), name);
		c->nparams = nparams;
	}
	PQclear(res);
	return ret;
}

static void pg_finalize(struct db_stmt *st);

static int pg_prepare(struct db *db, const char *sql, struct db_stmt **out, struct err *e)
{
	struct pg_db *p = pg_db_of(db);
	struct buf rw = BUF_INIT;
	int nparams = 0, ret = 0;
	struct pg_cached *c = pg_cache_find(p, sql, db_hash_sql(sql));
	struct pg_stmt *ps = xcalloc(1, sizeof(*ps));
	ps->base.db = db;
	if (c) {
		nparams = c->nparams;
	} else {
		db_pg_rewrite_placeholders(sql, &rw, &nparams);
		c = pg_cache_slot(p);
		if (c)
			ret = pg_cache_add(p, c, sql, rw.p, nparams, e);
		else
			ps->sql = buf_detach(&rw, NULL);
	}
	if (ret == 0 && c) {
		c->users++;
		c->last_used = ++p->tick;
	}
	ps->cached = c;
	ps->nparams = nparams;
	ps->values = xcalloc(nparams ? (size_t)nparams : 1, sizeof(char *));
	buf_release(&rw);
	if (ret < 0) {
		ps->cached = NULL;
		pg_finalize(&ps->base);
		ps = NULL;
	}
	*out = ps ? &ps->base : NULL;
	return ret;
}

static void pg_values_free(struct pg_stmt *ps)
{
	for (int i = 0; i < ps->nparams; i++) {
		free(ps->values[i]);
		ps->values[i] = NULL;
	}
}

static void pg_finalize(struct db_stmt *st)
{
	struct pg_stmt *ps = pg_stmt_of(st);
	if (ps->cached)
		ps->cached->users--;
	PQclear(ps->res);
	pg_values_free(ps);
	free(ps->values);
	free(ps->sql);
	free(ps);
}

/* --- bind / step / columns ---------------------------------------------------- */

static int pg_bind_set(struct db_stmt *st, int idx, char *value)
{
	struct pg_stmt *ps = pg_stmt_of(st);
	if (idx < 1 || idx > ps->nparams) {
		free(value);
		log_error("db.pg", "bind index %d out of range 1..%d", idx, ps->nparams);
		return ERR_INTERNAL;
	}
	free(ps->values[idx - 1]);
	ps->values[idx - 1] = value;
	return 0;
}

static int pg_bind_text(struct db_stmt *st, int idx, const char *s, size_t n)
{
	return pg_bind_set(st, idx, xstrndup(s, n));
}

static int pg_bind_int64(struct db_stmt *st, int idx, int64_t v)
{
	char tmp[24];
	snprintf(tmp, sizeof(tmp), "%lld", (long long)v);
	return pg_bind_set(st, idx, xstrdup(tmp));
}

static int pg_bind_double(struct db_stmt *st, int idx, double v)
{
	char tmp[40];
	snprintf(tmp, sizeof(tmp), "%.17g", v);
	return pg_bind_set(st, idx, xstrdup(tmp));
}

static int pg_bind_null(struct db_stmt *st, int idx)
{
	return pg_bind_set(st, idx, NULL);
}

static int pg_execute(struct pg_stmt *ps, struct err *e)
{
	struct pg_db *p = pg_db_of(ps->base.db);
	const char *const *vals = (const char *const *)ps->values;
	PGresult *res;
	if (ps->cached)
		res = PQexecPrepared(p->conn, ps->cached->name, ps->nparams, vals, NULL, NULL, 0);
	else
		res = PQexecParams(p->conn, ps->sql, ps->nparams, NULL, vals, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		int ret = pg_fail(p, res, e);
		PQclear(res);
		return ret;
	}
	int64_t n = 0;
	if (str_has_prefix(PQcmdStatus(res), "SELECT") || str_to_i64(PQcmdTuples(res), &n) < 0)
		n = 0;
	ps->res = res;
	ps->row = -1;
	ps->changes = n;
	return 0;
}

static int pg_step(struct db_stmt *st, struct err *e)
{
	struct pg_stmt *ps = pg_stmt_of(st);
	if (!ps->res) {
		int ret = pg_execute(ps, e);
		if (ret < 0)
			return ret;
	}
	if (PQresultStatus(ps->res) != PGRES_TUPLES_OK)
		return DB_DONE;
	int n = PQntuples(ps->res);
	if (ps->row < n)
		ps->row++;
	return ps->row < n ? DB_ROW : DB_DONE;
}

/* Valid only on a row (PQgetvalue's precondition). */
static int pg_on_row(struct pg_stmt *ps, int col)
{
	return ps->res && ps->row >= 0 && ps->row < PQntuples(ps->res) && col >= 0 &&
	       col < PQnfields(ps->res);
}

static int pg_column_count(struct db_stmt *st)
{
	struct pg_stmt *ps = pg_stmt_of(st);
	return ps->res ? PQnfields(ps->res) : 0;
}

static int pg_column_is_null(struct db_stmt *st, int col)
{
	struct pg_stmt *ps = pg_stmt_of(st);
	return !pg_on_row(ps, col) || PQgetisnull(ps->res, ps->row, col);
}

static const char *pg_column_text(struct db_stmt *st, int col, size_t *len)
{
	struct pg_stmt *ps = pg_stmt_of(st);
	const char *v = NULL;
	if (!pg_column_is_null(st, col))
		v = PQgetvalue(ps->res, ps->row, col);
	if (len)
		*len = v ? (size_t)PQgetlength(ps->res, ps->row, col) : 0;
	return v;
}

static int64_t pg_column_int64(struct db_stmt *st, int col)
{
	const char *v = pg_column_text(st, col, NULL);
	char *end;
	if (!v)
		return 0;
	if (!strcmp(v, "t") || !strcmp(v, "f"))
		return v[0] == 't';
	long long n = strtoll(v, &end, 10);
	if (*end == '.' || *end == 'e' || *end == 'E')
		return (int64_t)strtod(v, NULL);
	return n;
}

static double pg_column_double(struct db_stmt *st, int col)
{
	const char *v = pg_column_text(st, col, NULL);
	return v ? strtod(v, NULL) : 0.0;
}

static int64_t pg_changes(struct db_stmt *st)
{
	return pg_stmt_of(st)->changes;
}

static int pg_reset(struct db_stmt *st)
{
	struct pg_stmt *ps = pg_stmt_of(st);
	PQclear(ps->res);
	ps->res = NULL;
	ps->row = -1;
	ps->changes = 0;
	return 0;
}

/* --- transactions ------------------------------------------------------------- */

static int pg_begin(struct db *db, enum db_tx kind, struct err *e)
{
	(void)kind; /* row locks and SSI do the work; BEGIN is enough for both kinds */
	return pg_exec(db, "BEGIN", e);
}

static int pg_commit(struct db *db, struct err *e)
{
	struct pg_db *p = pg_db_of(db);
	if (PQtransactionStatus(p->conn) == PQTRANS_INERROR)
		return err_set(e, ERR_INTERNAL, NULL, "transaction failed earlier; rolled back");
	PGresult *res = PQexec(p->conn, "COMMIT");
	int ret = 0;
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		ret = pg_fail(p, res, e);
	else if (!strcmp(PQcmdStatus(res), "ROLLBACK"))
		ret = err_set(e, ERR_INTERNAL, NULL, "transaction was rolled back");
	PQclear(res);
	return ret;
}

static void pg_rollback(struct db *db)
{
	struct pg_db *p = pg_db_of(db);
	PGTransactionStatusType ts = PQtransactionStatus(p->conn);
	if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR)
		PQclear(PQexec(p->conn, "ROLLBACK"));
}

static int pg_ping(struct db *db, struct err *e)
{
	return pg_exec(db, "SELECT 1", e);
}

static int pg_wait_notify(struct db *db, int timeout_ms, struct err *e)
{
	struct pg_db *p = pg_db_of(db);
	struct pollfd pfd = { .fd = PQsocket(p->conn), .events = POLLIN };
	int got = 0;
	if (pfd.fd < 0)
		return err_set(e, ERR_UNAVAILABLE, NULL, "the database connection was lost");
	PGnotify *n;
	if (PQconsumeInput(p->conn) && (n = PQnotifies(p->conn))) {
		PQfreemem(n);
		got = 1;
	}
	if (!got && poll(&pfd, 1, timeout_ms) > 0) {
		if (!PQconsumeInput(p->conn))
			return err_set(e, ERR_UNAVAILABLE, NULL, "the database connection was lost");
	}
	while ((n = PQnotifies(p->conn))) {
		PQfreemem(n);
		got = 1;
	}
	return got;
}

const struct db_driver db_pg_driver = {
	.name = "postgres",
	.dialect = DB_POSTGRES,
	.open = pg_open,
	.close = pg_close,
	.exec = pg_exec,
	.prepare = pg_prepare,
	.bind_text = pg_bind_text,
	.bind_int64 = pg_bind_int64,
	.bind_double = pg_bind_double,
	.bind_null = pg_bind_null,
	.step = pg_step,
	.column_count = pg_column_count,
	.column_is_null = pg_column_is_null,
	.column_text = pg_column_text,
	.column_int64 = pg_column_int64,
	.column_double = pg_column_double,
	.changes = pg_changes,
	.reset = pg_reset,
	.finalize = pg_finalize,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.ping = pg_ping,
	.wait_notify = pg_wait_notify,
};
