/*
 * Storage tests that need no server: the '?' to $n rewrite of the PostgreSQL
 * driver (quoted text, identifiers, comments and dollar quotes left alone)
 * and the shape checks of database URLs, including that errors never echo a
 * password.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db_internal.h"
#include "core/core.h"
#include "tests/unit/test.h"

static void check_rewrite(const char *in, const char *want, int want_n)
{
	struct buf out = BUF_INIT;
	int n = -1;
	db_pg_rewrite_placeholders(in, &out, &n);
	CHECK_STR(out.p, want);
	CHECK_INT(n, want_n);
	buf_release(&out);
}

TEST(test_rewrite_plain)
{
	check_rewrite("SELECT 1", "SELECT 1", 0);
	check_rewrite("", "", 0);
	check_rewrite("INSERT INTO t VALUES (?, ?, ?)", "INSERT INTO t VALUES ($1, $2, $3)", 3);
	check_rewrite("?", "$1", 1);
}

TEST(test_rewrite_skips_quoted)
{
	check_rewrite("SELECT '?', ?", "SELECT '?', $1", 1);
	check_rewrite("SELECT 'it''s ?' || ?", "SELECT 'it''s ?' || $1", 1);
	check_rewrite("SELECT \"a?\"\"b\" FROM t WHERE x = ?",
		      "SELECT \"a?\"\"b\" FROM t WHERE x = $1", 1);
	check_rewrite("SELECT E'\\'?' , ?", "SELECT E'\\'?' , $1", 1);
	/* Outside E'' a backslash is an ordinary character. */
	check_rewrite("SELECT '\\', ?", "SELECT '\\', $1", 1);
	check_rewrite("SELECT 'unterminated ?", "SELECT 'unterminated ?", 0);
}

TEST(test_rewrite_skips_comments_and_dollar_quotes)
{
	check_rewrite("SELECT ? -- why?\n, ?", "SELECT $1 -- why?\n, $2", 2);
	check_rewrite("SELECT /* a /* nested ? */ ? */ ?", "SELECT /* a /* nested ? */ ? */ $1", 1);
	check_rewrite("SELECT $$ ? $$, ?", "SELECT $$ ? $$, $1", 1);
	check_rewrite("SELECT $fn$ a?$b $fn$, ?", "SELECT $fn$ a?$b $fn$, $1", 1);
	/* $1 is already a parameter, not a dollar quote. */
	check_rewrite("SELECT $1, ?", "SELECT $1, $1", 1);
	check_rewrite("SELECT a$b, ?", "SELECT a$b, $1", 1);
}

static int url_code(const char *url, struct err *e)
{
	err_clear(e);
	return db_url_check(url, e);
}

TEST(test_url_check_sqlite)
{
	struct err e;
	CHECK_INT(url_code("sqlite://data/parallax.db", &e), 0);
	CHECK_INT(url_code("sqlite:///var/lib/parallax/p.db?synchronous=normal", &e), 0);
	CHECK_INT(url_code("sqlite://p.db?busy_timeout=100&synchronous=FULL", &e), 0);
	CHECK_INT(url_code("sqlite://my%20dir/p.db", &e), 0);
	CHECK_INT(url_code("sqlite://", &e), ERR_INVALID);
	CHECK_INT(url_code("sqlite://p.db?synchronous=sometimes", &e), ERR_INVALID);
	CHECK_INT(url_code("sqlite://p.db?busy_timeout=-1", &e), ERR_INVALID);
	CHECK_INT(url_code("sqlite://p.db?cache=shared", &e), ERR_INVALID);
	CHECK(strstr(e.msg, "cache") != NULL);
	CHECK_INT(url_code("sqlite://p%zz.db", &e), ERR_INVALID);
	CHECK_INT(url_code("sqlite://p.db?novalue", &e), ERR_INVALID);
}

TEST(test_url_check_scheme_and_postgres)
{
	struct err e;
	CHECK_INT(url_code(NULL, &e), ERR_INVALID);
	CHECK_INT(url_code("mysql://root@localhost/db", &e), ERR_INVALID);
	CHECK_INT(url_code("data/parallax.db", &e), ERR_INVALID);
	CHECK_INT(url_code("postgres://u:pw@db.example:5432/parallax", &e), 0);
	CHECK_INT(url_code("postgresql://u@h/db?sslmode=require&statement_timeout=5000", &e), 0);
	CHECK_INT(url_code("postgres://u@h/db?statement_timeout=soon", &e), ERR_INVALID);
	CHECK_INT(url_code("postgres://u:hunter2@h/db?no_such_param=1", &e), ERR_INVALID);
	CHECK(strstr(e.msg, "hunter2") == NULL);
	CHECK_INT(url_code("postgres://u:hunter%zz@h/db", &e), ERR_INVALID);
	CHECK(strstr(e.msg, "hunter") == NULL);
}

TEST(test_pool_open_validates)
{
	struct err e;
	CHECK(db_pool_open("mysql://x", 4, &e) == NULL);
	CHECK_INT(e.code, ERR_INVALID);
	CHECK(db_pool_open("sqlite://x.db", 0, &e) == NULL);
	CHECK_INT(e.code, ERR_INVALID);
	struct db_pool *pool = db_pool_open("sqlite://x.db", 3, &e);
	CHECK(pool != NULL);
	if (pool) {
		struct db_pool_stats s;
		db_pool_stats(pool, &s);
		CHECK_INT(s.size, 3);
		CHECK_INT(s.in_use, 0);
		CHECK_INT(db_pool_dialect(pool), DB_SQLITE);
		db_pool_close(pool); /* lazily opened: no file was created */
	}
	CHECK(access("x.db", F_OK) != 0);
}

TEST(test_migrations_embedded)
{
	CHECK(db_migrations_latest(DB_SQLITE) >= 1);
	CHECK_INT(db_migrations_latest(DB_SQLITE), db_migrations_latest(DB_POSTGRES));
	for (int i = 0; db_migrations_sqlite_files[i].path; i++) {
		CHECK(db_migrations_postgres_files[i].path != NULL);
		if (db_migrations_postgres_files[i].path)
			CHECK_STR(db_migrations_postgres_files[i].path,
				  db_migrations_sqlite_files[i].path);
	}
}

TEST_MAIN(TEST_ENTRY(test_rewrite_plain), TEST_ENTRY(test_rewrite_skips_quoted),
	  TEST_ENTRY(test_rewrite_skips_comments_and_dollar_quotes),
	  TEST_ENTRY(test_url_check_sqlite), TEST_ENTRY(test_url_check_scheme_and_postgres),
	  TEST_ENTRY(test_pool_open_validates), TEST_ENTRY(test_migrations_embedded))
