/*
 * parallax: the one binary. Subcommands: serve, migrate, config check,
 * version, help. Startup errors print one line naming the key and the
 * problem, and exit non-zero.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>
#include <curl/curl.h>
#include <sodium.h>

#include "server/server.h"
#include "web/web.h"
#include "api/api.h"
#include "auth/auth.h"
#include "db/db.h"
#include "engine/engine.h"
#include "core/core.h"

static int fail(const struct err *e)
{
	fprintf(stderr, "parallax: %s\n", e->msg[0] ? e->msg : err_default_slug(e->code));
	return 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: parallax <command> [options]\n\n"
		   "commands:\n"
		   "  serve          run the HTTP API, dashboard and workers\n"
		   "  worker         run executions from the queue only (no HTTP)\n"
		   "  migrate        apply database migrations and exit\n"
		   "  config check   validate the configuration (and reach the database)\n"
		   "  admin tenant create NAME OWNER_EMAIL OWNER_NAME < password\n"
		   "                 add a tenant and its owner (multi-tenant installations)\n"
		   "  version        print the version\n"
		   "  help           this text and every option\n");
}

/* Load config from argv[argi..]; every remaining argument is an error. */
static int load_config(struct config *cfg, int argc, char **argv, int argi, struct err *e)
{
	int rc = config_load(cfg, argc, argv, &argi, e);
	if (rc)
		return rc;
	if (argi < argc)
		return err_set(e, ERR_INVALID, argv[argi], "%.64s: unexpected argument", argv[argi]);
	log_min_level = log_level_parse(cfg->log_level);
	return config_check_paths(cfg, e);
}

static int open_pool(const struct config *cfg, struct db_pool **pool, struct err *e)
{
	char *url = config_db_url(cfg);
	int rc = 0;
	*pool = db_pool_open(url, cfg->db_pool_size, e);
	if (!*pool) {
		if (!e->code)
			e->code = ERR_UNAVAILABLE;
		rc = err_prefix(e, "db", "db");
	}
	free(url);
	return rc;
}

/* Migrate, then issue the set-up token when nobody owns the installation. */
static int prepare_database(struct app *app, char token[SETUP_TOKEN_LEN], int *created,
			    struct err *e)
{
	struct db *db = NULL;
	int rc, applied = 0;
	if ((rc = db_acquire(app->pool, 10000, &db, e)))
		return err_prefix(e, "db", "db");
	if ((rc = db_migrate(db, &applied, e))) {
		err_prefix(e, "db", "db: migration failed");
		goto out;
	}
	if (applied)
		log_fmt(LOG_INFO, "db", "applied %d migration(s)", applied);
	rc = setup_token_issue(db, app->cfg->setup_token_ttl_s, token, created, e);
out:
	db_release(db);
	return rc;
}

/* Agent calls and jq workers each hold a descriptor: use the hard limit. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* `parallax worker`: the queue's consumer alone, next to serve instances on one database. */
static int cmd_worker(int argc, char **argv, int argi)
{
	struct config cfg;
	struct db_pool *pool = NULL;
	struct engine *en = NULL;
	struct worker *w = NULL;
	struct err e;
	struct db *db = NULL;
	int sig = 0, ret = 1, applied = 0;
	sigset_t set;
	err_clear(&e);
	if (load_config(&cfg, argc, argv, argi, &e) || secrets_init(cfg.data_dir, cfg.secret_key, &e) ||
	    open_pool(&cfg, &pool, &e) || db_acquire(pool, 10000, &db, &e) ||
	    db_migrate(db, &applied, &e)) {
		db_release(db);
		ret = fail(&e);
		goto out;
	}
	db_release(db);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	log_start_async();
	raise_fd_limit();
	struct engine_config ec = { .loops = cfg.engine_threads, .jq_workers = cfg.engine_threads,
				    .agent_allow = cfg.agent_allow,
				    .breaker_failures = cfg.breaker_failures,
				    .breaker_open_ms = cfg.breaker_open_ms,
				    .breaker_successes = cfg.breaker_successes };
	struct worker_config wc = { .name = "worker", .max_inflight = cfg.max_inflight,
				    .lease_ms = cfg.lease_ms,
				    .lanes = cfg.workers > 0 ? cfg.workers : 1 };
	en = engine_new(&ec, &e);
	if (en)
		w = worker_start(en, pool, &wc, &e);
	if (!w) {
		ret = fail(&e);
		goto out;
	}
	printf("Parallax %s worker running\n", PARALLAX_VERSION);
	fflush(stdout);
	log_kv(LOG_INFO, "worker", "started", NULL);
	sigwait(&set, &sig);
	log_kv(LOG_INFO, "worker", "stopping", NULL);
	worker_stop(w, cfg.shutdown_grace_ms);
	w = NULL;
	ret = 0;
out:
	worker_stop(w, 0);
	engine_free(en);
	db_pool_close(pool);
	config_release(&cfg);
	log_stop_async();
	return ret;
}

/* The SSO transport's connect hook: the agents' outbound address policy. */
static int sso_addr_allowed(void *ctx, const struct sockaddr *sa)
{
	return outbound_addr_allowed(ctx, sa);
}

static int cmd_serve(int argc, char **argv, int argi)
{
	static struct outbound_policy sso_policy;
	static struct oidc oidc;
	struct config cfg;
	struct app app;
	struct err e;
	char token[SETUP_TOKEN_LEN];
	int created = 0, sig = 0, ret = 1;
	sigset_t set;
	err_clear(&e);
	memset(&app, 0, sizeof(app));
	app.cfg = &cfg;
	app.started_ms = now_ms();
	if (load_config(&cfg, argc, argv, argi, &e) || web_templates_load(&cfg, &e) ||
	    auth_keys_init(cfg.data_dir, cfg.jwt_secret, &e) ||
	    secrets_init(cfg.data_dir, cfg.secret_key, &e) || open_pool(&cfg, &app.pool, &e) ||
	    prepare_database(&app, token, &created, &e)) {
		ret = fail(&e);
		goto out;
	}
	/* Block the stop signals before any thread starts; main waits for them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	metrics_init();
	log_start_async();
	raise_fd_limit();
	struct engine_config ec = { .loops = cfg.engine_threads, .jq_workers = cfg.engine_threads,
				    .agent_allow = cfg.agent_allow,
				    .breaker_failures = cfg.breaker_failures,
				    .breaker_open_ms = cfg.breaker_open_ms,
				    .breaker_successes = cfg.breaker_successes };
	app.engine = engine_new(&ec, &e);
	/* single sign-on's providers: reached with the agents' address policy (a tenant admin
	 * names the issuer), plain http only on loopback and only when configured (tests) */
	struct oidc_opts oo = { .net = OIDC_NET_DEFAULT, .jwks_refetch_s = cfg.sso_jwks_refetch_s };
	oo.net.timeout_ms = cfg.sso_http_timeout_ms;
	oo.net.allow_http_loopback = cfg.sso_allow_http_loopback;
	if (app.engine && !outbound_policy_init(&sso_policy, cfg.agent_allow, &e)) {
		oo.net.addr_allowed = sso_addr_allowed;
		oo.net.addr_ctx = &sso_policy;
	}
	oidc_init(&oidc, &oo);
	app.oidc = &oidc;
	struct worker_config wc = { .name = "serve", .max_inflight = cfg.max_inflight,
				    .lease_ms = cfg.lease_ms, .lanes = cfg.workers };
	if (app.engine && cfg.workers)
		app.worker = worker_start(app.engine, app.pool, &wc, &e);
	if (!app.engine || (cfg.workers && !app.worker) || http_start(&app, &e)) {
		ret = fail(&e);
		goto out;
	}
	agents_prober_start(&app);
	printf("Parallax %s listening on %s\n", PARALLAX_VERSION, app.base_url);
	if (created)
		printf("No owner yet. Open this one-time link to create the owner account:\n"
		       "  %s/setup?token=%s\n", app.base_url, token);
	fflush(stdout);
	sodium_memzero(token, sizeof(token));
	log_kv(LOG_INFO, "server", "started", "url", app.base_url, NULL);
	sigwait(&set, &sig);
	log_kv(LOG_INFO, "server", "stopping", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM", NULL);
	app.draining = 1;
	worker_stop(app.worker, cfg.shutdown_grace_ms); /* runs finish or are left to resume */
	app.worker = NULL;
	http_stop(&app); /* stops accepting and waits for in-flight requests */
	ret = 0;
out:
	agents_prober_stop();
	worker_stop(app.worker, 0);
	http_stop(&app);
	engine_free(app.engine);
	if (app.oidc)
		oidc_release(app.oidc);
	web_templates_free();
	db_pool_close(app.pool);
	config_release(&cfg);
	if (!ret)
		log_kv(LOG_INFO, "server", "stopped", NULL);
	log_stop_async();
	return ret;
}

/* `migrate` applies the migrations; `config check` only reaches the database.
 * Both load and validate the whole configuration first. */
static int cmd_db(int argc, char **argv, int argi, int migrate)
{
	struct config cfg;
	struct err e;
	struct db_pool *pool = NULL;
	struct db *db = NULL;
	int applied = 0, ret = 1;
	err_clear(&e);
	if (load_config(&cfg, argc, argv, argi, &e) || open_pool(&cfg, &pool, &e)) {
		ret = fail(&e);
		goto out;
	}
	if (db_acquire(pool, 10000, &db, &e) ||
	    (migrate ? db_migrate(db, &applied, &e) : db_ping(db, &e))) {
		err_prefix(&e, "db", "db");
		ret = fail(&e);
		goto out;
	}
	if (migrate)
		printf("migrations: %d applied, schema at version %d\n", applied,
		       db_migrations_latest(db_dialect(db)));
	else
		printf("configuration OK\n");
	ret = 0;
out:
	if (db)
		db_release(db);
	db_pool_close(pool);
	config_release(&cfg);
	return ret;
}

/*
 * parallax admin tenant create NAME OWNER_EMAIL OWNER_NAME [config flags]
 * The owner's password is read from the first line of standard input, so
 * it never appears in the process list or shell history.
 */
static int cmd_admin_tenant_create(int argc, char **argv, int argi)
{
	struct config cfg;
	struct err e;
	struct db_pool *pool = NULL;
	struct db *db = NULL;
	char password[PASSWORD_MAX_LEN + 2];
	struct setup_result res;
	struct setup_created made;
	int ret = 1;
	err_clear(&e);
	memset(&cfg, 0, sizeof(cfg));
	if (argc - argi < 3) {
		fprintf(stderr, "usage: parallax admin tenant create NAME OWNER_EMAIL OWNER_NAME "
				"[options] < password\n");
		return 2;
	}
	if (!fgets(password, sizeof(password), stdin)) {
		fprintf(stderr, "parallax: password: expected on standard input\n");
		return 2;
	}
	password[strcspn(password, "\r\n")] = '\0';
	struct setup_request in = { NULL, argv[argi], argv[argi + 2], argv[argi + 1], password };
	if (load_config(&cfg, argc, argv, argi + 3, &e) || open_pool(&cfg, &pool, &e) ||
	    db_acquire(pool, 10000, &db, &e) ||
	    tenant_create_with_owner(db, &in, &res, &made, &e)) {
		ret = fail(&e);
		goto out;
	}
	printf("{\"tenant\":{\"id\":\"%s\",\"slug\":\"%s\"},\"user\":{\"id\":\"%s\","
	       "\"email\":\"%s\"},\"workspace\":{\"id\":\"%s\"}}\n",
	       res.tenant_id, made.slug, res.user_id, made.email, res.workspace_id);
	ret = 0;
out:
	sodium_memzero(password, sizeof(password));
	if (db)
		db_release(db);
	db_pool_close(pool);
	config_release(&cfg);
	return ret;
}

int main(int argc, char **argv)
{
	int ret;
	jq_worker_maybe_run(argc, argv); /* a jq sandbox worker never returns */
	if (sodium_init() < 0) {
		fprintf(stderr, "parallax: libsodium failed to initialize\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("parallax %s\n", PARALLAX_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		printf("\n");
		config_print_help();
		return 0;
	}
	mg_init_library(MG_FEATURES_TLS | MG_FEATURES_WEBSOCKET);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!strcmp(cmd, "serve"))
		ret = cmd_serve(argc, argv, 2);
	else if (!strcmp(cmd, "worker"))
		ret = cmd_worker(argc, argv, 2);
	else if (!strcmp(cmd, "migrate"))
		ret = cmd_db(argc, argv, 2, 1);
	else if (!strcmp(cmd, "admin") && argc > 3 && !strcmp(argv[2], "tenant") &&
		 !strcmp(argv[3], "create"))
		ret = cmd_admin_tenant_create(argc, argv, 4);
	else if (!strcmp(cmd, "config") && argc > 2 && !strcmp(argv[2], "check"))
		ret = cmd_db(argc, argv, 3, 0);
	else {
		fprintf(stderr, "parallax: unknown command '%s'\n", cmd);
		usage(stderr);
		ret = 2;
	}
	curl_global_cleanup();
	mg_exit_library();
	return ret;
}
