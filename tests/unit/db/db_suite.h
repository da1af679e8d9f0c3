/*
 * The driver-level storage tests every backend must pass (migrations,
 * statements, errors, transactions, pool), included by test_sqlite.c and
 * test_postgres.c together with db_suite_store.h. The including file defines
 * suite_fresh_url() (a new empty database) and sets suite_main_url in main().
 */
#ifndef TESTS_UNIT_DB_DB_SUITE_H
#define TESTS_UNIT_DB_DB_SUITE_H

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "core/core.h"
#include "tests/unit/test.h"

static char *suite_fresh_url(void);
static char *suite_main_url;

static const char *const suite_tables[] = {
	"tenants", "tenant_quotas", "tenant_usage", "users", "user_identities", "memberships",
	"workspaces", "workspace_members", "invitations", "sessions", "api_keys", "auth_throttle",
	"sso_configs", "oidc_states", "agents", "patterns", "pattern_versions", "experiments",
	"executions", "experiment_runs", "steps", "events", "jobs", "triggers", "schedules",
	"audit_log", "settings", "schema_migrations",
};

/* --- helpers --------------------------------------------------------------- */

static struct db_pool *suite_pool(const char *url, int size)
{
	struct err e;
	struct db_pool *pool = db_pool_open(url, size, &e);
	if (!pool)
		fprintf(stderr, "db_pool_open: %s\n", e.msg);
	return pool;
}

static struct db *suite_acquire(struct db_pool *pool)
{
	struct err e;
	struct db *db = NULL;
	if (pool && db_acquire(pool, 2000, &db, &e) < 0)
		fprintf(stderr, "db_acquire: %s\n", e.msg);
	return db;
}

/* A pool on the main database, migrated; NULL (and a failed check) on error. */
static struct db_pool *suite_main_pool(struct db **db)
{
	struct err e;
	struct db_pool *pool = suite_pool(suite_main_url, 4);
	*db = suite_acquire(pool);
	CHECK(*db != NULL);
	if (*db && db_migrate(*db, NULL, &e) < 0) {
		fprintf(stderr, "db_migrate: %s\n", e.msg);
		CHECK(0);
	}
	return pool;
}

static void suite_close(struct db_pool *pool, struct db *db)
{
	db_release(db);
	db_pool_close(pool);
}

static int64_t count_rows(struct db *db, const char *sql)
{
	struct err e;
	int64_t n = -1;
	if (db_query_int64(db, &e, &n, sql, "") < 0)
		fprintf(stderr, "count_rows(%s): %s\n", sql, e.msg);
	return n;
}

static int exec_ok(struct db *db, const char *sql)
{
	struct err e;
	int ret = db_exec(db, sql, &e);
	if (ret < 0)
		fprintf(stderr, "db_exec(%s): %s\n", sql, e.msg);
	return ret == 0;
}

struct fixture {
	char tenant[UUID_STR_LEN], workspace[UUID_STR_LEN], pattern[UUID_STR_LEN];
};

/* A tenant with a workspace and a pattern at version 1. */
static int fixture_make(struct db *db, struct fixture *f)
{
	struct err e;
	char slug[48], vid[UUID_STR_LEN];
	uuid_v7(f->tenant);
	uuid_v7(f->workspace);
	uuid_v7(f->pattern);
	uuid_v7(vid);
	snprintf(slug, sizeof(slug), "t-%s", f->tenant + 24);
	int ret = db_execf(db, &e, NULL,
			   "INSERT INTO tenants (id, slug, name, created_at, updated_at) "
			   "VALUES (?, ?, 'T', 1, 1)", "ss", f->tenant, slug);
	if (ret == 0)
		ret = db_execf(db, &e, NULL,
			       "INSERT INTO workspaces (id, tenant_id, slug, name, created_at, "
			       "updated_at) VALUES (?, ?, 'w', 'W', 1, 1)", "ss", f->workspace,
			       f->tenant);
	if (ret == 0)
		ret = db_execf(db, &e, NULL,
			       "INSERT INTO patterns (id, tenant_id, workspace_id, name, "
			       "latest_version, created_at, updated_at) "
			       "VALUES (?, ?, ?, 'p', 1, 1, 1)",
			       "sss", f->pattern, f->tenant, f->workspace);
	if (ret == 0)
		ret = db_execf(db, &e, NULL,
			       "INSERT INTO pattern_versions (id, tenant_id, pattern_id, version, "
			       "definition, created_at) VALUES (?, ?, ?, 1, '{}', 1)",
			       "sss", vid, f->tenant, f->pattern);
	if (ret < 0)
		fprintf(stderr, "fixture_make: %s\n", e.msg);
	return ret;
}

static int insert_execution(struct db *db, const struct fixture *f, const char *tenant,
			    const char *idem, struct err *e)
{
	char id[UUID_STR_LEN];
	uuid_v7(id);
	return db_execf(db, e, NULL,
			"INSERT INTO executions (id, tenant_id, workspace_id, pattern_id, "
			"pattern_version, actor_type, idempotency_key, created_at) "
			"VALUES (?, ?, ?, ?, 1, 'user', ?, ?)",
			"sssssi", id, tenant, f->workspace, f->pattern, idem, now_ms());
}

/* --- migrations -------------------------------------------------------------- */

TEST(test_migrate_fresh_and_again)
{
	struct err e;
	int applied = -1, version = -1, latest = 0;
	struct db_pool *pool = suite_pool(suite_main_url, 1);
	struct db *db = suite_acquire(pool);
	CHECK(db != NULL);
	if (!db)
		goto out;
	latest = db_migrations_latest(db_dialect(db));
	CHECK(latest >= 1);
	CHECK_INT(db_schema_version(db, &version, &e), 0);
	CHECK_INT(version, 0);
	CHECK_INT(db_migrate(db, &applied, &e), 0);
	CHECK_INT(applied, latest);
	CHECK_INT(db_schema_version(db, &version, &e), 0);
	CHECK_INT(version, latest);
	for (size_t i = 0; i < ARRAY_SIZE(suite_tables); i++) {
		int exists = 0;
		CHECK_INT(db_table_exists(db, suite_tables[i], &exists, &e), 0);
		if (!exists)
			fprintf(stderr, "missing table %s\n", suite_tables[i]);
		CHECK(exists);
	}
	CHECK_INT(db_migrate(db, &applied, &e), 0);
	CHECK_INT(applied, 0);
out:
	suite_close(pool, db);
}

TEST(test_migrate_refuses_newer_schema)
{
	struct err e;
	char want[64];
	struct db *db = NULL;
	struct db_pool *pool = suite_main_pool(&db);
	if (!db)
		goto out;
	int latest = db_migrations_latest(db_dialect(db));
	CHECK_INT(db_execf(db, &e, NULL,
			   "INSERT INTO schema_migrations (version, name, applied_at) "
			   "VALUES (?, 'future', 1)",
			   "i", (int64_t)latest + 1),
		  0);
	CHECK_INT(db_migrate(db, NULL, &e), ERR_CONFLICT);
	snprintf(want, sizeof(want), "version %d is newer", latest + 1);
	CHECK(strstr(e.msg, want) != NULL);
	snprintf(want, sizeof(want), "(%d)", latest);
	CHECK(strstr(e.msg, want) != NULL);
	CHECK_INT(db_execf(db, &e, NULL, "DELETE FROM schema_migrations WHERE version = ?", "i",
			   (int64_t)latest + 1), 0);
	CHECK_INT(db_migrate(db, NULL, &e), 0);
out:
	suite_close(pool, db);
}

struct migrator {
	const char *url;
	int ret, applied;
};

static void *migrator_main(void *arg)
{
	struct migrator *m = arg;
	struct err e;
	struct db_pool *pool = suite_pool(m->url, 1);
	struct db *db = suite_acquire(pool);
	m->ret = db ? db_migrate(db, &m->applied, &e) : -1;
	if (m->ret < 0)
		fprintf(stderr, "concurrent db_migrate: %s\n", db ? e.msg : "no connection");
	suite_close(pool, db);
	return NULL;
}

TEST(test_migrate_concurrent)
{
	char *url = suite_fresh_url();
	struct migrator m[3];
	pthread_t th[3];
	int total = 0;
	CHECK(url != NULL);
	if (!url)
		return;
	for (int i = 0; i < 3; i++) {
		m[i] = (struct migrator){ url, -1, 0 };
		pthread_create(&th[i], NULL, migrator_main, &m[i]);
	}
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		CHECK_INT(m[i].ret, 0);
		total += m[i].applied;
	}
	CHECK_INT(total, db_migrations_latest(str_has_prefix(url, "sqlite") ? DB_SQLITE
									      : DB_POSTGRES));
	free(url);
}

/* --- statements -------------------------------------------------------------- */

static const char utf8_text[] = "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac "
				"\xf0\x9f\x9a\x80";

static void check_types_row(struct db_stmt *st)
{
	size_t n = 99;
	CHECK_INT(db_column_count(st), 7);
	CHECK_STR(db_column_textn(st, 0, &n), utf8_text);
	CHECK_INT(n, strlen(utf8_text));
	CHECK_INT(db_column_int64(st, 1), INT64_MAX);
	CHECK_INT(db_column_int64(st, 2), INT64_MIN);
	CHECK_NEAR(db_column_double(st, 3), 0.1, 0.0);
	CHECK_INT(db_column_int64(st, 4), 1);
	CHECK(db_column_is_null(st, 5));
	CHECK(db_column_text(st, 5) == NULL);
	CHECK(!db_column_is_null(st, 6));
	CHECK_STR(db_column_textn(st, 6, &n), "");
	CHECK_INT(n, 0);
}

TEST(test_bind_and_columns)
{
	struct err e;
	struct db_stmt *st = NULL;
	int64_t changes = -1;
	struct db *db = NULL;
	struct db_pool *pool = suite_main_pool(&db);
	if (!db)
		goto out;
	CHECK(exec_ok(db, "CREATE TABLE unit_types (s TEXT, big BIGINT, small BIGINT, "
			  "d DOUBLE PRECISION, b INTEGER, n TEXT, empty TEXT)"));
	CHECK_INT(db_execf(db, &e, &changes, "INSERT INTO unit_types VALUES (?, ?, ?, ?, ?, ?, ?)",
			   "siidbns", utf8_text, INT64_MAX, INT64_MIN, 0.1, 7, ""), 0);
	CHECK_INT(changes, 1);
	CHECK_INT(db_prepare(db, "SELECT s, big, small, d, b, n, empty FROM unit_types", &st, &e),
		  0);
	if (st) {
		CHECK_INT(db_step(st, &e), DB_ROW);
		check_types_row(st);
		CHECK_INT(db_step(st, &e), DB_DONE);
		CHECK_INT(db_changes(st), 0);
		db_finalize(st);
	}
	/* Explicit length binds a prefix; NULL text binds SQL NULL. */
	CHECK_INT(db_prepare(db, "UPDATE unit_types SET s = ?, n = ?", &st, &e), 0);
	if (st) {
		CHECK_INT(db_bind_text(st, 1, "abcdef", 3), 0);
		CHECK_INT(db_bind_text(st, 2, NULL, 0), 0);
		CHECK_INT(db_step(st, &e), DB_DONE);
		CHECK_INT(db_changes(st), 1);
		db_finalize(st);
	}
	CHECK_INT(count_rows(db, "SELECT count(*) FROM unit_types WHERE s = 'abc' AND n IS NULL"),
		  1);
	CHECK(exec_ok(db, "DROP TABLE unit_types"));
out:
	suite_close(pool, db);
}

TEST(test_placeholders_skip_literals)
{
	struct err e;
	struct db_stmt *st = NULL;
	struct db *db = NULL;
	struct db_pool *pool = suite_main_pool(&db);
	if (!db)
		goto out;
	CHECK_INT(db_prepare(db,
			     "SELECT ? AS \"q?\", '?' AS lit, 'it''s ?' AS lit2, /* ? */ ? AS two "
			     "-- a ? comment\n, 'x?' || ? AS three",
			     &st, &e), 0);
	if (!st)
		goto out;
	CHECK_INT(db_bindf(st, "sss", "one", "2", "3"), 0);
	CHECK_INT(db_step(st, &e), DB_ROW);
	CHECK_STR(db_column_text(st, 0), "one");
	CHECK_STR(db_column_text(st, 1), "?");
	CHECK_STR(db_column_text(st, 2), "it's ?");
	CHECK_STR(db_column_text(st, 3), "2");
	CHECK_STR(db_column_text(st, 4), "x?3");
	CHECK_INT(db_step(st, &e), DB_DONE);
	/* Reset keeps the statement; a new binding gives a new row. */
	CHECK_INT(db_reset(st), 0);
	CHECK_INT(db_bindf(st, "sss", "uno", "dos", "tres"), 0);
	CHECK_INT(db_step(st, &e), DB_ROW);
	CHECK_STR(db_column_text(st, 0), "uno");
	CHECK_STR(db_column_text(st, 4), "x?tres");
	db_finalize(st);
out:
	suite_close(pool, db);
}

/* More distinct statements than any cache holds, and one SQL text open twice. */
TEST(test_statement_cache)
{
	struct err e;
	char sql[64];
	int64_t v = -1;
	struct db_stmt *a = NULL, *b = NULL;
	struct db *db = NULL;
	struct db_pool *pool = suite_main_pool(&db);
	if (!db)
		goto out;
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 300; i++) {
			snprintf(sql, sizeof(sql), "SELECT %d + ?", i);
			CHECK_INT(db_query_int64(db, &e, &v, sql, "i", (int64_t)round), 0);
			CHECK_INT(v, i + round);
		}
	static const char same[] = "SELECT 10 + ?";
	CHECK_INT(db_prepare(db, same, &a, &e), 0);
	CHECK_INT(db_prepare(db, same, &b, &e), 0);
	if (a && b) {
		CHECK_INT(db_bindf(a, "i", (int64_t)1), 0);
		CHECK_INT(db_bindf(b, "i", (int64_t)2), 0);
		CHECK_INT(db_step(a, &e), DB_ROW);
		CHECK_INT(db_step(b, &e), DB_ROW);
		CHECK_INT(db_column_int64(a, 0), 11);
		CHECK_INT(db_column_int64(b, 0), 12);
	}
	db_finalize(a);
	db_finalize(b);
out:
	suite_close(pool, db);
}

/* --- errors -------------------------------------------------------------------- */

TEST(test_error_mapping)
{
	struct err e;
	struct db *db = NULL;
	struct db_pool *pool = suite_main_pool(&db);
	if (!db)
		goto out;
	static const char ins[] = "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, 1)";
	CHECK_INT(db_execf(db, &e, NULL, ins, "ss", "unit.dup", "s3cr3t-value"), 0);
	CHECK_INT(db_execf(db, &e, NULL, ins, "ss", "unit.dup", "s3cr3t-value"), ERR_CONFLICT);
	CHECK(strstr(e.msg, "s3cr3t") == NULL && strstr(e.msg, "unit.dup") == NULL);
	static const char orphan[] =
		"INSERT INTO memberships (tenant_id, user_id, role, created_at, updated_at) "
		"VALUES ('no-such-tenant', 'no-such-user', 'viewer', 1, 1)";
	CHECK_INT(db_execf(db, &e, NULL, orphan, ""), ERR_CONSTRAINT);
	CHECK_INT(db_execf(db, &e, NULL, ins, "sn", "unit.null"), ERR_CONSTRAINT);
	CHECK_INT(db_execf(db, &e, NULL,
			   "INSERT INTO tenants (id, slug, name, status, created_at, updated_at) "
			   "VALUES ('t-bad', 't-bad', 'x', 'bogus', 1, 1)", ""),
		  ERR_CONSTRAINT);
	CHECK_INT(db_exec(db, "SELEC 'leaky-literal' FROM nowhere", &e), ERR_INTERNAL);
	CHECK_STR(e.msg, "database error");
	CHECK_INT(db_execf(db, &e, NULL, "DELETE FROM settings WHERE key = 'unit.dup'", ""), 0);
out:
	suite_close(pool, db);
}

TEST(test_fk_keeps_tenants_apart)
{
	struct err e;
	struct fixture a, b;
	struct db *db = NULL;
	struct db_pool *pool = suite_main_pool(&db);
	if (!db || fixture_make(db, &a) < 0 || fixture_make(db, &b) < 0) {
		CHECK(0);
		goto out;
	}
	/* Tenant b cannot own an execution in tenant a's workspace. */
	CHECK_INT(insert_execution(db, &a, b.tenant, NULL, &e), ERR_CONSTRAINT);
	CHECK_INT(insert_execution(db, &a, a.tenant, NULL, &e), 0);
	/* Idempotency keys are unique per workspace; NULL keys never collide. */
	CHECK_INT(insert_execution(db, &a, a.tenant, NULL, &e), 0);
	CHECK_INT(insert_execution(db, &a, a.tenant, "k1", &e), 0);
	CHECK_INT(insert_execution(db, &a, a.tenant, "k1", &e), ERR_CONFLICT);
	CHECK_INT(insert_execution(db, &b, b.tenant, "k1", &e), 0);
	/* Deleting a tenant takes everything it owns with it. */
	CHECK_INT(db_execf(db, &e, NULL, "DELETE FROM tenants WHERE id = ?", "s", a.tenant), 0);
	CHECK_INT(count_rows(db, "SELECT count(*) FROM executions"), 1);
	CHECK_INT(db_execf(db, &e, NULL, "DELETE FROM tenants WHERE id = ?", "s", b.tenant), 0);
	CHECK_INT(count_rows(db, "SELECT count(*) FROM patterns"), 0);
out:
	suite_close(pool, db);
}

/* --- transactions ------------------------------------------------------------- */

TEST(test_tx_commit_and_rollback)
{
	struct err e;
	static const char ins[] =
	    "INSERT INTO settings (key, value, updated_at) VALUES (?, 'v', 1)";
	struct db *db = NULL;
	struct db_pool *pool = suite_main_pool(&db);
	struct db *other = suite_acquire(pool);
	if (!db || !other)
		goto out;
	CHECK_INT(db_begin(db, DB_TX_WRITE, &e), 0);
	CHECK_INT(db_begin(db, DB_TX_WRITE, &e), ERR_INTERNAL);
	CHECK_INT(db_execf(db, &e, NULL, ins, "s", "unit.rb"), 0);
	db_rollback(db);
	CHECK_INT(count_rows(db, "SELECT count(*) FROM settings WHERE key = 'unit.rb'"), 0);
	CHECK_INT(db_begin(db, DB_TX_WRITE, &e), 0);
	CHECK_INT(db_execf(db, &e, NULL, ins, "s", "unit.ok"), 0);
	CHECK_INT(db_commit(db, &e), 0);
	CHECK_INT(count_rows(other, "SELECT count(*) FROM settings WHERE key = 'unit.ok'"), 1);
	CHECK_INT(db_commit(db, &e), ERR_INTERNAL);
	CHECK_INT(db_execf(db, &e, NULL, "DELETE FROM settings WHERE key = 'unit.ok'", ""), 0);
out:
	db_release(other);
	suite_close(pool, db);
}

/* A failed statement poisons the transaction the same way on both backends. */
TEST(test_tx_poisoned_by_error)
{
	struct err e;
	static const char ins[] =
	    "INSERT INTO settings (key, value, updated_at) VALUES (?, 'v', 1)";
	struct db *db = NULL;
	struct db_pool *pool = suite_main_pool(&db);
	if (!db)
		goto out;
	CHECK_INT(db_execf(db, &e, NULL, ins, "s", "unit.p1"), 0);
	CHECK_INT(db_begin(db, DB_TX_WRITE, &e), 0);
	CHECK_INT(db_execf(db, &e, NULL, ins, "s", "unit.p2"), 0);
	CHECK_INT(db_execf(db, &e, NULL, ins, "s", "unit.p1"), ERR_CONFLICT);
	CHECK_INT(db_execf(db, &e, NULL, ins, "s", "unit.p3"), ERR_INTERNAL);
	CHECK_INT(db_commit(db, &e), ERR_CONFLICT);
	CHECK_INT(db->in_tx, 0);
	CHECK_INT(count_rows(db, "SELECT count(*) FROM settings WHERE key LIKE 'unit.p_'"), 1);
	CHECK_INT(db_execf(db, &e, NULL, "DELETE FROM settings WHERE key = 'unit.p1'", ""), 0);
out:
	suite_close(pool, db);
}

/* --- pool ------------------------------------------------------------------------ */

struct waiter {
	struct db_pool *pool;
	int timeout_ms, ret;
	int64_t elapsed_ms;
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;
	struct err e;
	struct db *db = NULL;
	int64_t t0 = mono_ms();
	w->ret = db_acquire(w->pool, w->timeout_ms, &db, &e);
	w->elapsed_ms = mono_ms() - t0;
	db_release(db);
	return NULL;
}

TEST(test_pool_acquire_timeout_and_wake)
{
	struct err e;
	struct db *a = NULL, *b = NULL, *c = NULL;
	struct db_pool_stats s;
	struct db_pool *pool = suite_pool(suite_main_url, 2);
	a = suite_acquire(pool);
	b = suite_acquire(pool);
	CHECK(a && b && a != b);
	int64_t t0 = mono_ms();
	CHECK_INT(db_acquire(pool, 100, &c, &e), ERR_BUSY);
	int64_t waited = mono_ms() - t0;
	CHECK(waited >= 90 && waited < 1500);
	CHECK(c == NULL);
	CHECK_INT(db_acquire(pool, 0, &c, &e), ERR_BUSY);
	db_pool_stats(pool, &s);
	CHECK_INT(s.size, 2);
	CHECK_INT(s.in_use, 2);
	CHECK_INT(s.timeouts, 2);
	struct waiter w = { pool, 5000, -1, 0 };
	pthread_t th;
	pthread_create(&th, NULL, waiter_main, &w);
	usleep(150 * 1000);
	db_release(a);
	pthread_join(th, NULL);
	CHECK_INT(w.ret, 0);
	CHECK(w.elapsed_ms >= 100 && w.elapsed_ms < 3000);
	db_release(b);
	db_pool_stats(pool, &s);
	CHECK_INT(s.in_use, 0);
	CHECK_INT(s.acquires, 3);
	CHECK(s.waits >= 2);
	db_pool_close(pool);
}

TEST(test_pool_release_rolls_back_and_reopens)
{
	struct err e;
	struct db_pool_stats s;
	struct db_pool *pool = suite_pool(suite_main_url, 1);
	struct db *db = suite_acquire(pool);
	if (!db)
		goto out;
	CHECK_INT(db_begin(db, DB_TX_WRITE, &e), 0);
	CHECK_INT(db_execf(db, &e, NULL, "INSERT INTO settings (key, value, updated_at) "
			   "VALUES ('unit.release', 'v', 1)", ""), 0);
	db_release(db);
	db = suite_acquire(pool);
	if (!db)
		goto out;
	CHECK_INT(db->in_tx, 0);
	CHECK_INT(count_rows(db, "SELECT count(*) FROM settings WHERE key = 'unit.release'"), 0);
	db->broken = 1; /* as a driver does when the connection is lost */
	db_release(db);
	db = suite_acquire(pool);
	CHECK(db != NULL && !db->broken);
	if (db)
		CHECK_INT(db_ping(db, &e), 0);
	db_pool_stats(pool, &s);
	CHECK(s.queries >= 2);
	CHECK(s.errors == 0);
out:
	suite_close(pool, db);
}

#define DB_SUITE_CORE_TESTS                                                                     \
	TEST_ENTRY(test_migrate_fresh_and_again), TEST_ENTRY(test_migrate_refuses_newer_schema),  \
		TEST_ENTRY(test_migrate_concurrent), TEST_ENTRY(test_bind_and_columns),            \
		TEST_ENTRY(test_placeholders_skip_literals), TEST_ENTRY(test_statement_cache),     \
		TEST_ENTRY(test_error_mapping), TEST_ENTRY(test_fk_keeps_tenants_apart),           \
		TEST_ENTRY(test_tx_commit_and_rollback), TEST_ENTRY(test_tx_poisoned_by_error),    \
		TEST_ENTRY(test_pool_acquire_timeout_and_wake),                                    \
		TEST_ENTRY(test_pool_release_rolls_back_and_reopens)

#endif
