/*
 * The store-level storage tests every backend must pass: the append-only
 * audit log, settings, and the first-run set-up (all-or-nothing, one owner
 * however many racers). Uses the helpers of db_suite.h.
 */
#ifndef TESTS_UNIT_DB_DB_SUITE_STORE_H
#define TESTS_UNIT_DB_DB_SUITE_STORE_H

#include "tests/unit/db/db_suite.h"

TEST(test_audit_log_append_only)
{
	struct err e;
	struct db *db = NULL;
	struct db_pool *pool = suite_main_pool(&db);
	if (!db)
		goto out;
	static const char ins[] =
		"INSERT INTO audit_log (id, tenant_id, created_at, actor_type, action, outcome) "
		"VALUES ('unit-audit', NULL, 1, 'system', 'unit.test', 'success')";
	CHECK_INT(db_execf(db, &e, NULL, ins, ""), 0);
	CHECK_INT(db_execf(db, &e, NULL, "UPDATE audit_log SET outcome = 'failure' WHERE id = ?",
			   "s", "unit-audit"), ERR_CONSTRAINT);
	CHECK_INT(db_execf(db, &e, NULL, "DELETE FROM audit_log WHERE id = ?", "s", "unit-audit"),
		  ERR_CONSTRAINT);
	CHECK_INT(count_rows(db, "SELECT count(*) FROM audit_log WHERE id = 'unit-audit' "
				 "AND outcome = 'success'"), 1);
out:
	suite_close(pool, db);
}

TEST(test_settings_roundtrip)
{
	struct err e;
	char *v = (char *)"sentinel";
	int deleted = -1;
	struct db *db = NULL;
	struct db_pool *pool = suite_main_pool(&db);
	if (!db)
		goto out;
	CHECK_INT(store_setting_get(db, "unit.k", &v, &e), 0);
	CHECK(v == NULL);
	CHECK_INT(store_setting_set(db, "unit.k", "one", &e), 0);
	CHECK_INT(store_setting_set(db, "unit.k", utf8_text, &e), 0);
	CHECK_INT(store_setting_get(db, "unit.k", &v, &e), 0);
	CHECK_STR(v, utf8_text);
	free(v);
	CHECK_INT(store_setting_delete(db, "unit.k", &deleted, &e), 0);
	CHECK_INT(deleted, 1);
	CHECK_INT(store_setting_delete(db, "unit.k", &deleted, &e), 0);
	CHECK_INT(deleted, 0);
	CHECK_INT(store_setting_get(db, "unit.k", &v, &e), 0);
	CHECK(v == NULL);
out:
	suite_close(pool, db);
}

static const char *const setup_counts[] = {
	"SELECT count(*) FROM tenants", "SELECT count(*) FROM workspaces",
	"SELECT count(*) FROM memberships", "SELECT count(*) FROM workspace_members",
	"SELECT count(*) FROM tenant_quotas", "SELECT count(*) FROM audit_log",
};

static void check_counts(struct db *db, int64_t want)
{
	for (size_t i = 0; i < ARRAY_SIZE(setup_counts); i++) {
		int64_t n = count_rows(db, setup_counts[i]);
		if (n != want)
			fprintf(stderr, "%s = %lld, want %lld\n", setup_counts[i], (long long)n,
				(long long)want);
		CHECK_INT(n, want);
	}
}

static void check_setup_rows(struct db *db, const struct setup_result *r)
{
	struct err e;
	int64_t n = 0;
	CHECK_INT(db_query_int64(db, &e, &n, "SELECT count(*) FROM users WHERE id = ? AND "
				 "email = 'owner@example.com' AND password_hash = 'h'", "s",
				 r->user_id), 0);
	CHECK_INT(n, 1);
	CHECK_INT(db_query_int64(db, &e, &n, "SELECT count(*) FROM memberships WHERE tenant_id = ? "
				 "AND user_id = ? AND role = 'owner'", "ss", r->tenant_id,
				 r->user_id), 0);
	CHECK_INT(n, 1);
	CHECK_INT(db_query_int64(db, &e, &n, "SELECT count(*) FROM workspaces WHERE id = ? AND "
				 "tenant_id = ? AND slug = 'default' AND is_default = 1", "ss",
				 r->workspace_id, r->tenant_id), 0);
	CHECK_INT(n, 1);
	CHECK_INT(db_query_int64(db, &e, &n,
				 "SELECT members FROM tenant_quotas WHERE tenant_id = ?", "s",
				 r->tenant_id),
		  0);
	CHECK_INT(n, store_default_quotas.members);
	CHECK_INT(db_query_int64(db, &e, &n,
				 "SELECT count(*) FROM audit_log WHERE tenant_id = ? AND "
				 "actor_id = ? AND action = 'setup.owner_created' AND outcome = "
				 "'success'",
				 "ss", r->tenant_id, r->user_id),
		  0);
	CHECK_INT(n, 1);
}

TEST(test_setup_owner)
{
	struct err e;
	struct setup_result r, r2;
	int exists = -1;
	char *url = suite_fresh_url();
	struct db_pool *pool = url ? suite_pool(url, 1) : NULL;
	struct db *db = suite_acquire(pool);
	if (!db || db_migrate(db, NULL, &e) < 0) {
		CHECK(0);
		goto out;
	}
	struct setup_owner in = { "Acme", "acme", "Olga Owner", "Owner@Example.COM", "h", 0 };
	/* A taken email fails after the tenant row went in: nothing may remain. */
	CHECK_INT(db_execf(db, &e, NULL, "INSERT INTO users (id, email, name, created_at, "
			   "updated_at) VALUES ('u-0', 'owner@example.com', 'x', 1, 1)", ""), 0);
	CHECK_INT(store_setup_owner(db, &in, &r, &e), ERR_CONFLICT);
	CHECK_STR(e.field, "email");
	check_counts(db, 0);
	CHECK_INT(db_execf(db, &e, NULL, "DELETE FROM users WHERE id = 'u-0'", ""), 0);
	in.password_hash = "";
	CHECK_INT(store_setup_owner(db, &in, &r, &e), ERR_INVALID);
	CHECK_STR(e.field, "password_hash");
	in.password_hash = "h";
	CHECK_INT(store_owner_exists(db, &exists, &e), 0);
	CHECK_INT(exists, 0);
	CHECK_INT(store_setup_owner(db, &in, &r, &e), 0);
	CHECK(r.tenant_id[0] && r.user_id[0] && r.workspace_id[0]);
	CHECK(strcmp(r.tenant_id, r.user_id) != 0);
	check_setup_rows(db, &r);
	CHECK_INT(store_owner_exists(db, &exists, &e), 0);
	CHECK_INT(exists, 1);
	struct setup_owner again = { "Evil", "evil", "Eve", "eve@example.com", "h", 0 };
	CHECK_INT(store_setup_owner(db, &again, &r2, &e), ERR_CONFLICT);
	check_counts(db, 1);
	CHECK_INT(count_rows(db, "SELECT count(*) FROM users"), 1);
	CHECK_INT(db->in_tx, 0);
out:
	suite_close(pool, db);
	free(url);
}

struct setup_racer {
	const char *url;
	int idx, ret;
};

static void *setup_racer_main(void *arg)
{
	struct setup_racer *r = arg;
	struct err e;
	char slug[16], email[32];
	struct setup_result res;
	snprintf(slug, sizeof(slug), "race%d", r->idx);
	snprintf(email, sizeof(email), "racer%d@example.com", r->idx);
	struct setup_owner in = { "Race", slug, "Racer", email, "h", 0 };
	struct db_pool *pool = suite_pool(r->url, 1);
	struct db *db = suite_acquire(pool);
	r->ret = db ? store_setup_owner(db, &in, &res, &e) : -100;
	suite_close(pool, db);
	return NULL;
}

/* However many set-ups race on an empty installation, exactly one wins. */
TEST(test_setup_owner_concurrent)
{
	struct err e;
	struct setup_racer r[4];
	pthread_t th[4];
	int won = 0, lost = 0;
	char *url = suite_fresh_url();
	struct db_pool *pool = url ? suite_pool(url, 1) : NULL;
	struct db *db = suite_acquire(pool);
	if (!db || db_migrate(db, NULL, &e) < 0) {
		CHECK(0);
		goto out;
	}
	for (int i = 0; i < 4; i++) {
		r[i] = (struct setup_racer){ url, i, -100 };
		pthread_create(&th[i], NULL, setup_racer_main, &r[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		won += r[i].ret == 0;
		lost += r[i].ret == ERR_CONFLICT;
	}
	CHECK_INT(won, 1);
	CHECK_INT(lost, 3);
	CHECK_INT(count_rows(db, "SELECT count(*) FROM memberships WHERE role = 'owner'"), 1);
	CHECK_INT(count_rows(db, "SELECT count(*) FROM tenants"), 1);
out:
	suite_close(pool, db);
	free(url);
}

#define DB_SUITE_TESTS                                                                          \
	DB_SUITE_CORE_TESTS, TEST_ENTRY(test_audit_log_append_only),                              \
		TEST_ENTRY(test_settings_roundtrip), TEST_ENTRY(test_setup_owner),                 \
		TEST_ENTRY(test_setup_owner_concurrent)

#endif
