/*
 * Schema migrations: the SQL files embedded from db/migrations/<dialect>/,
 * named NNNN_name.sql, applied in order. Each runs in its own write
 * transaction together with its schema_migrations row, so a failure leaves
 * the previous version intact. Concurrent migrators (several `serve`
 * processes) are serialized by a PostgreSQL advisory lock, or by SQLite's
 * BEGIN IMMEDIATE; whoever comes second finds the work done.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "db/db_internal.h"
#include "core/core.h"

/* Arbitrary, fixed: the advisory lock key every Parallax migrator takes. */
#define MIGRATE_LOCK_KEY "7208841330110219"

struct migration {
	int version;
	char name[64];
	const char *sql;
};

static const struct embedded_file *migration_files(enum db_dialect d)
{
	return d == DB_POSTGRES ? db_migrations_postgres_files : db_migrations_sqlite_files;
}

/* "0001_init.sql" -> {1, "init"}; -1 if the name does not fit the pattern. */
static int migration_parse(const struct embedded_file *f, struct migration *m)
{
	const char *p = f->path, *slash = strrchr(p, '/');
	int v = 0, digits = 0;
	if (slash)
		p = slash + 1;
	for (; *p >= '0' && *p <= '9' && digits < 6; p++, digits++)
		v = v * 10 + (*p - '0');
	size_t len = strlen(p);
	if (digits == 0 || v == 0 || *p != '_' || len < 6 || strcmp(p + len - 4, ".sql") != 0 ||
	    len - 5 >= sizeof(m->name))
		return -1;
	m->version = v;
	memcpy(m->name, p + 1, len - 5);
	m->name[len - 5] = '\0';
	m->sql = f->data;
	return 0;
}

/* Highest version, after checking that names parse and versions strictly rise. */
static int migrations_scan(enum db_dialect d, struct err *e)
{
	const struct embedded_file *files = migration_files(d);
	struct migration m;
	int last = 0;
	for (const struct embedded_file *f = files; f->path; f++) {
		if (migration_parse(f, &m) < 0 || m.version <= last)
			return err_set(e, ERR_INTERNAL, NULL,
				       "embedded migration '%.100s' is misnamed or out of order",
				       f->path);
		last = m.version;
	}
	return last;
}

int db_migrations_latest(enum db_dialect d)
{
	int v = migrations_scan(d, NULL);
	return v < 0 ? -1 : v;
}

int db_schema_version(struct db *db, int *version, struct err *e)
{
	int exists = 0;
	int64_t v = 0;
	*version = 0;
	int ret = db_table_exists(db, "schema_migrations", &exists, e);
	if (ret == 0 && exists)
		ret = db_query_int64(db, e, &v,
				     "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", "");
	if (ret == 0)
		*version = (int)v;
	return ret;
}

/*
 * Inside a transaction: lift a statement_timeout from the URL on PostgreSQL,
 * so neither a long migration nor the wait for another migrator is cut off.
 */
static int migrate_no_timeout(struct db *db, struct err *e)
{
	if (db_dialect(db) != DB_POSTGRES)
		return 0;
	return db_exec(db, "SET LOCAL statement_timeout = 0", e);
}

static int migrate_bootstrap(struct db *db, struct err *e)
{
	static const char sql_sqlite[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
					 "version INTEGER NOT NULL PRIMARY KEY, "
					 "name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT";
	static const char sql_pg[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
				     "version INTEGER NOT NULL PRIMARY KEY, "
				     "name TEXT NOT NULL, applied_at BIGINT NOT NULL)";
	int ret = db_begin(db, DB_TX_WRITE, e);
	if (ret == 0)
		ret = migrate_no_timeout(db, e);
	if (ret == 0)
		ret = db_exec(db, db_dialect(db) == DB_POSTGRES ? sql_pg : sql_sqlite, e);
	if (ret == 0)
		ret = db_commit(db, e);
	db_rollback(db);
	return ret;
}

/* Session-level advisory lock (PostgreSQL): it outlives the transaction taking it. */
static int migrate_lock(struct db *db, struct err *e)
{
	int ret = db_begin(db, DB_TX_WRITE, e);
	if (ret == 0)
		ret = migrate_no_timeout(db, e);
	if (ret == 0)
		ret = db_exec(db, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", e);
	if (ret == 0)
		ret = db_commit(db, e);
	db_rollback(db);
	return ret;
}

/* *done = 1 if this call applied m; 0 if someone already had. */
static int migrate_one(struct db *db, const struct migration *m, int *done, struct err *e)
{
	int64_t have = 0;
	*done = 0;
	int ret = db_begin(db, DB_TX_WRITE, e);
	if (ret < 0)
		return ret;
	if ((ret = migrate_no_timeout(db, e)) < 0)
		goto out;
	ret = db_query_int64(db, e, &have, "SELECT count(*) FROM schema_migrations WHERE version=?",
			     "i", (int64_t)m->version);
	if (ret < 0 || have)
		goto out;
	ret = db_exec(db, m->sql, e);
	if (ret < 0) {
		err_set(e, ret, NULL, "migration %04d_%s failed: %s", m->version, m->name,
			db_error_text(ret));
		goto out;
	}
	ret = db_execf(db, e, NULL,
		       "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		       "isi", (int64_t)m->version, m->name, now_ms());
	if (ret == 0)
		ret = db_commit(db, e);
	if (ret == 0) {
		*done = 1;
		log_info("db", "applied migration %04d_%s", m->version, m->name);
	}
out:
	db_rollback(db);
	return ret;
}

static int migrate_all(struct db *db, int latest, int *applied, struct err *e)
{
	struct migration m;
	int have = 0, done;
	int ret = migrate_bootstrap(db, e);
	if (ret == 0)
		ret = db_schema_version(db, &have, e);
	if (ret < 0)
		return ret;
	if (have > latest)
		return err_set(e, ERR_CONFLICT, NULL,
			       "database schema version %d is newer than this binary supports "
			       "(%d); upgrade parallax",
			       have, latest);
	for (const struct embedded_file *f = migration_files(db_dialect(db)); f->path; f++) {
		migration_parse(f, &m); /* names were checked by migrations_scan */
		if ((ret = migrate_one(db, &m, &done, e)) < 0)
			return ret;
		*applied += done;
	}
	return 0;
}

int db_migrate(struct db *db, int *applied, struct err *e)
{
	int n = 0, locked = 0;
	int latest = migrations_scan(db_dialect(db), e);
	int ret = latest < 0 ? latest : 0;
	if (ret == 0 && db->in_tx)
		ret = err_set(e, ERR_INTERNAL, NULL,
			      "db_migrate needs a connection outside a transaction");
	if (ret == 0 && db_dialect(db) == DB_POSTGRES) {
		ret = migrate_lock(db, e);
		locked = ret == 0;
	}
	if (ret == 0)
		ret = migrate_all(db, latest, &n, e);
	if (locked) {
		struct err ignored;
		if (db_exec(db, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", &ignored) < 0)
			log_warn("db", "cannot release the migration lock (connection lost?)");
	}
	if (applied)
		*applied = n;
	return ret;
}
