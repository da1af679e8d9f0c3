/*
 * Storage tests on the PostgreSQL backend: the shared suite (db_suite.h) plus
 * what only PostgreSQL has: reconnecting after the server drops us, statement
 * timeouts, row locks and safe connection errors. The server comes from
 * PARALLAX_TEST_PG_URL (skipped with 77 when unset); every database the run
 * creates (unit_<random>_<n>) is dropped at the end.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/db/db_suite.h"
#include "tests/unit/db/db_suite_store.h"

#define MAX_DBS 16

static const char *admin_url;
static struct db *admin;
static char run_id[16];
static char *created[MAX_DBS];
static int ncreated;

/* admin_url with its database name replaced by name. */
static char *url_with_db(const char *name)
{
	struct buf b = BUF_INIT;
	const char *host = strstr(admin_url, "://") + 3;
	const char *path = strchr(host, '/'), *query = strchr(host, '?');
	if (!path || (query && path > query))
		path = query ? query : host + strlen(host);
	buf_add(&b, admin_url, (size_t)(path - admin_url));
	buf_addf(&b, "/%s%s", name, query ? query : "");
	return buf_detach(&b, NULL);
}

static char *suite_fresh_url(void)
{
	struct err e;
	char name[64], sql[128];
	if (ncreated == MAX_DBS)
		return NULL;
	snprintf(name, sizeof(name), "unit_%s_%d", run_id, ncreated + 1);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	if (db_exec(admin, sql, &e) < 0) {
		fprintf(stderr, "%s: %s\n", sql, e.msg);
		return NULL;
	}
	created[ncreated++] = xstrdup(name);
	return url_with_db(name);
}

static void drop_databases(void)
{
	struct err e;
	char sql[128];
	for (int i = 0; i < ncreated; i++) {
		snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", created[i]);
		if (db_exec(admin, sql, &e) < 0)
			fprintf(stderr, "%s: %s\n", sql, e.msg);
		free(created[i]);
	}
}

/* The server ends our session: the error says so and the pool reconnects. */
TEST(test_pg_reconnect_after_lost_connection)
{
	struct err e;
	struct db_pool *pool = suite_pool(suite_main_url, 1);
	struct db *db = suite_acquire(pool);
	if (!db) {
		CHECK(0);
		goto out;
	}
	CHECK_INT(db_exec(db, "SELECT pg_terminate_backend(pg_backend_pid())", &e),
		  ERR_UNAVAILABLE);
	CHECK(db->broken);
	db_release(db);
	db = suite_acquire(pool);
	CHECK(db != NULL);
	if (db) {
		CHECK(!db->broken);
		CHECK_INT(db_ping(db, &e), 0);
	}
out:
	suite_close(pool, db);
}

TEST(test_pg_statement_timeout)
{
	struct err e;
	struct buf url = BUF_INIT;
	buf_addf(&url, "%s?statement_timeout=100", suite_main_url);
	struct db_pool *pool = suite_pool(url.p, 1);
	struct db *db = suite_acquire(pool);
	if (db) {
		int64_t t0 = mono_ms();
		CHECK_INT(db_exec(db, "SELECT pg_sleep(2)", &e), ERR_TIMEOUT);
		CHECK(mono_ms() - t0 < 1500);
		CHECK(!db->broken);
		CHECK_INT(db_ping(db, &e), 0);
	}
	CHECK(db != NULL);
	suite_close(pool, db);
	buf_release(&url);
}

struct updater {
	struct db *db;
	int ret;
	int64_t elapsed_ms;
};

static void *updater_main(void *arg)
{
	struct updater *u = arg;
	struct err e;
	int64_t t0 = mono_ms();
	u->ret = db_execf(u->db, &e, NULL,
			  "UPDATE settings SET value = 'b' WHERE key = 'unit.lock'", "");
	u->elapsed_ms = mono_ms() - t0;
	return NULL;
}

/* A second writer of the same row waits for the first transaction. */
TEST(test_pg_row_lock_waits)
{
	struct err e;
	pthread_t th;
	struct db_pool *pool = suite_pool(suite_main_url, 2);
	struct db *a = suite_acquire(pool), *b = suite_acquire(pool);
	if (!a || !b) {
		CHECK(0);
		goto out;
	}
	CHECK_INT(store_setting_set(a, "unit.lock", "0", &e), 0);
	CHECK_INT(db_begin(a, DB_TX_WRITE, &e), 0);
	CHECK_INT(store_setting_set(a, "unit.lock", "a", &e), 0);
	struct updater u = { b, -1, 0 };
	pthread_create(&th, NULL, updater_main, &u);
	usleep(300 * 1000);
	CHECK_INT(db_commit(a, &e), 0);
	pthread_join(th, NULL);
	CHECK_INT(u.ret, 0);
	CHECK(u.elapsed_ms >= 250);
out:
	db_release(b);
	suite_close(pool, a);
}

struct slow_migrator {
	char *url;
	int ret;
	int64_t elapsed_ms;
};

static void *slow_migrator_main(void *arg)
{
	struct slow_migrator *m = arg;
	struct err e;
	struct db *db = NULL;
	int64_t t0 = mono_ms();
	m->ret = db_open(m->url, &db, &e);
	if (m->ret == 0)
		m->ret = db_migrate(db, NULL, &e);
	m->elapsed_ms = mono_ms() - t0;
	db_close(db);
	return NULL;
}

/* A migrator waits for another one longer than the URL's statement_timeout. */
TEST(test_pg_migrate_waits_past_statement_timeout)
{
	struct err e;
	struct db *holder = NULL;
	pthread_t th;
	char *url = suite_fresh_url();
	if (!url || db_open(url, &holder, &e) < 0) {
		CHECK(0);
		free(url);
		return;
	}
	CHECK(exec_ok(holder, "SELECT pg_advisory_lock(7208841330110219)"));
	struct buf b = BUF_INIT;
	buf_addf(&b, "%s?statement_timeout=100", url);
	struct slow_migrator m = { b.p, -1, 0 };
	pthread_create(&th, NULL, slow_migrator_main, &m);
	usleep(400 * 1000);
	CHECK(exec_ok(holder, "SELECT pg_advisory_unlock(7208841330110219)"));
	pthread_join(th, NULL);
	CHECK_INT(m.ret, 0);
	CHECK(m.elapsed_ms >= 350);
	int version = 0;
	CHECK_INT(db_schema_version(holder, &version, &e), 0);
	CHECK_INT(version, db_migrations_latest(DB_POSTGRES));
	db_close(holder);
	buf_release(&b);
	free(url);
}

TEST(test_pg_connect_error_is_safe)
{
	struct err e;
	struct db *db = NULL;
	CHECK_INT(db_open("postgres://alice:hunter2@127.0.0.1:1/nodb?connect_timeout=2", &db, &e),
		  ERR_UNAVAILABLE);
	CHECK(db == NULL);
	CHECK(strstr(e.msg, "127.0.0.1:1/nodb") != NULL);
	CHECK(strstr(e.msg, "hunter2") == NULL);
}

int main(void)
{
	static const struct test_case cases[] = {
		DB_SUITE_TESTS,
		TEST_ENTRY(test_pg_reconnect_after_lost_connection),
		TEST_ENTRY(test_pg_statement_timeout),
		TEST_ENTRY(test_pg_row_lock_waits),
		TEST_ENTRY(test_pg_migrate_waits_past_statement_timeout),
		TEST_ENTRY(test_pg_connect_error_is_safe),
	};
	struct err e;
	unsigned char rnd[4];
	admin_url = getenv("PARALLAX_TEST_PG_URL");
	if (!admin_url || !*admin_url) {
		printf("PARALLAX_TEST_PG_URL is not set: skipping the PostgreSQL tests\n");
		return 77;
	}
	log_min_level = LOG_WARN;
	if (db_open(admin_url, &admin, &e) < 0) {
		fprintf(stderr, "cannot open PARALLAX_TEST_PG_URL: %s\n", e.msg);
		return 1;
	}
	random_bytes(rnd, sizeof(rnd));
	hex_encode(rnd, sizeof(rnd), run_id);
	suite_main_url = suite_fresh_url();
	int rc = suite_main_url ? test_run_all(cases, ARRAY_SIZE(cases)) : 1;
	free(suite_main_url);
	drop_databases();
	db_close(admin);
	return rc;
}
