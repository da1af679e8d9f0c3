/*
 * Storage tests on the SQLite backend: the shared suite (db_suite.h) plus
 * what only SQLite has: pragmas from the URL, BEGIN IMMEDIATE waiting for
 * busy_timeout instead of failing at once, and group commit (many threads'
 * transactions committed together, a failed one undone alone). Databases live in a temporary
 * directory removed at the end.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/db/db_suite.h"
#include "tests/unit/db/db_suite_store.h"

static char suite_dir[64];
static int suite_seq;

static char *suite_fresh_url(void)
{
	struct buf b = BUF_INIT;
	buf_addf(&b, "sqlite://%s/db%d.sqlite", suite_dir, ++suite_seq);
	return buf_detach(&b, NULL);
}

static void remove_dir(const char *dir)
{
	char path[512];
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static int64_t pragma(struct db *db, const char *sql)
{
	struct err e;
	int64_t v = -1;
	if (db_query_int64(db, &e, &v, sql, "") < 0)
		fprintf(stderr, "%s: %s\n", sql, e.msg);
	return v;
}

TEST(test_sqlite_pragmas)
{
	struct err e;
	struct db *db = NULL;
	char *url = suite_fresh_url();
	CHECK_INT(db_open(url, &db, &e), 0);
	if (db) {
		struct db_stmt *st = NULL;
		CHECK_INT(db_prepare(db, "PRAGMA journal_mode", &st, &e), 0);
		CHECK_INT(db_step(st, &e), DB_ROW);
		CHECK_STR(db_column_text(st, 0), "wal");
		db_finalize(st);
		CHECK_INT(pragma(db, "PRAGMA foreign_keys"), 1);
		CHECK_INT(pragma(db, "PRAGMA synchronous"), 2);
		CHECK_INT(pragma(db, "PRAGMA busy_timeout"), 5000);
		db_close(db);
	}
	struct buf b = BUF_INIT;
	buf_addf(&b, "%s?synchronous=normal&busy_timeout=250", url);
	CHECK_INT(db_open(b.p, &db, &e), 0);
	if (db) {
		CHECK_INT(pragma(db, "PRAGMA synchronous"), 1);
		CHECK_INT(pragma(db, "PRAGMA busy_timeout"), 250);
		db_close(db);
	}
	buf_release(&b);
	free(url);
}

struct writer {
	struct db *db;
	int ret;
	int64_t elapsed_ms;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct err e;
	int64_t t0 = mono_ms();
	w->ret = db_begin(w->db, DB_TX_WRITE, &e);
	w->elapsed_ms = mono_ms() - t0;
	if (w->ret == 0)
		w->ret = db_commit(w->db, &e);
	return NULL;
}

/* A second writer waits for the first (up to busy_timeout) instead of failing. */
TEST(test_sqlite_begin_immediate_waits)
{
	struct err e;
	struct db_pool *pool = suite_pool(suite_main_url, 2);
	struct db *a = suite_acquire(pool), *b = suite_acquire(pool);
	pthread_t th;
	if (!a || !b) {
		CHECK(0);
		goto out;
	}
	CHECK_INT(db_begin(a, DB_TX_WRITE, &e), 0);
	struct writer w = { b, -1, 0 };
	pthread_create(&th, NULL, writer_main, &w);
	usleep(300 * 1000);
	CHECK_INT(db_commit(a, &e), 0);
	pthread_join(th, NULL);
	CHECK_INT(w.ret, 0);
	CHECK(w.elapsed_ms >= 250);
out:
	db_release(b);
	suite_close(pool, a);
}

/* Past busy_timeout the second writer gets ERR_BUSY, after waiting, not at once. */
TEST(test_sqlite_busy_timeout_expires)
{
	struct err e;
	struct buf url = BUF_INIT;
	buf_addf(&url, "%s?busy_timeout=150", suite_main_url);
	struct db_pool *pool = suite_pool(url.p, 2);
	struct db *a = suite_acquire(pool), *b = suite_acquire(pool);
	if (!a || !b) {
		CHECK(0);
		goto out;
	}
	CHECK_INT(db_begin(a, DB_TX_WRITE, &e), 0);
	int64_t t0 = mono_ms();
	CHECK_INT(db_begin(b, DB_TX_WRITE, &e), ERR_BUSY);
	int64_t waited = mono_ms() - t0;
	CHECK(waited >= 120 && waited < 2000);
	CHECK_INT(b->in_tx, 0);
	db_rollback(a);
	CHECK_INT(db_begin(b, DB_TX_WRITE, &e), 0);
	CHECK_INT(db_commit(b, &e), 0);
out:
	db_release(b);
	suite_close(pool, a);
	buf_release(&url);
}

/* Group commit: many threads' write transactions share the writer's commits. */
#define GC_THREADS 12
#define GC_TXS     150

struct gc_writer {
	struct db_pool *pool;
	int t;
	int kept, failed; /* transactions committed; refused as expected */
	int errors;       /* anything unexpected */
};

static void *gc_main(void *arg)
{
	struct gc_writer *g = arg;
	struct err e;
	for (int i = 0; i < GC_TXS; i++) {
		struct db *db = NULL;
		if (db_acquire(g->pool, 10000, &db, &e)) {
			g->errors++;
			continue;
		}
		int64_t k = (int64_t)g->t * 100000 + i;
		int rc = db_begin(db, DB_TX_WRITE, &e);
		if (!rc)
			rc = db_execf(db, &e, NULL, "INSERT INTO gc (k, v) VALUES (?, ?)", "ii", k,
				      (int64_t)1);
		if (!rc)
			rc = db_execf(db, &e, NULL, "INSERT INTO gc (k, v) VALUES (?, ?)", "ii",
				      k + 50000, (int64_t)2);
		if (!rc && i % 7 == 3) /* a duplicate key: this one fails, not its batch */
			rc = db_execf(db, &e, NULL, "INSERT INTO gc (k, v) VALUES (?, ?)", "ii", k,
				      (int64_t)3);
		if (!rc && i % 11 == 5) { /* rolled back on purpose */
			db_rollback(db);
			db_release(db);
			g->failed++;
			continue;
		}
		if (!rc)
			rc = db_commit(db, &e);
		db_rollback(db);
		if (!rc) {
			/* committed means visible to a reader on another connection */
			struct db *r = NULL;
			int64_t n = 0;
			if (db_acquire(g->pool, 10000, &r, &e) ||
			    db_query_int64(r, &e, &n, "SELECT COUNT(*) FROM gc WHERE k = ? OR k = ?",
					   "ii", k, k + 50000) || n != 2)
				g->errors++;
			db_release(r);
			g->kept++;
		} else if (rc == ERR_CONFLICT || i % 7 == 3) {
			g->failed++;
		} else {
			g->errors++;
		}
		db_release(db);
	}
	return NULL;
}

TEST(test_sqlite_group_commit)
{
	struct err e;
	char *url = suite_fresh_url();
	struct db_pool *pool = suite_pool(url, GC_THREADS * 2);
	struct gc_writer g[GC_THREADS];
	pthread_t th[GC_THREADS];
	struct db *db = suite_acquire(pool);
	if (!db) {
		CHECK(0);
		goto out;
	}
	CHECK_INT(db_execf(db, &e, NULL, "CREATE TABLE gc (k INTEGER PRIMARY KEY, v INTEGER)", ""),
		  0);
	db_release(db);
	for (int t = 0; t < GC_THREADS; t++) {
		g[t] = (struct gc_writer){ .pool = pool, .t = t };
		pthread_create(&th[t], NULL, gc_main, &g[t]);
	}
	int kept = 0, failed = 0, errors = 0;
	for (int t = 0; t < GC_THREADS; t++) {
		pthread_join(th[t], NULL);
		kept += g[t].kept;
		failed += g[t].failed;
		errors += g[t].errors;
	}
	CHECK_INT(errors, 0);
	CHECK_INT(kept + failed, GC_THREADS * GC_TXS);
	db = suite_acquire(pool);
	if (db) {
		int64_t rows = -1, bad = -1;
		/* exactly the committed transactions' rows: none of a failed or rolled-back one */
		CHECK_INT(db_query_int64(db, &e, &rows, "SELECT COUNT(*) FROM gc", ""), 0);
		CHECK_INT(rows, (int64_t)kept * 2);
		CHECK_INT(db_query_int64(db, &e, &bad, "SELECT COUNT(*) FROM gc WHERE v = 3", ""),
			  0);
		CHECK_INT(bad, 0);
		db_release(db);
	}
out:
	db_pool_close(pool);
	free(url);
}

int main(void)
{
	static const struct test_case cases[] = {
		DB_SUITE_TESTS,
		TEST_ENTRY(test_sqlite_pragmas),
		TEST_ENTRY(test_sqlite_begin_immediate_waits),
		TEST_ENTRY(test_sqlite_busy_timeout_expires),
		TEST_ENTRY(test_sqlite_group_commit),
	};
	log_min_level = LOG_WARN;
	str_copy(suite_dir, sizeof(suite_dir), "/tmp/parallax-unit-XXXXXX");
	if (!mkdtemp(suite_dir)) {
		perror("mkdtemp");
		return 1;
	}
	suite_main_url = suite_fresh_url();
	int rc = test_run_all(cases, ARRAY_SIZE(cases));
	free(suite_main_url);
	remove_dir(suite_dir);
	return rc;
}
