/* The config table: defaults, file < environment < flags, and one-line errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/server.h"
#include "core/core.h"
#include "tests/unit/test.h"

static int load(struct config *cfg, struct err *e, int argc, char **argv)
{
	int argi = 0;
	err_clear(e);
	return config_load(cfg, argc, argv, &argi, e);
}

static char *write_file(const char *text)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/parallax-cfg-%d.conf", (int)getpid());
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

TEST(config_defaults)
{
	struct config cfg;
	struct err e;
	CHECK_INT(load(&cfg, &e, 0, NULL), 0);
	CHECK_INT(cfg.port, 8080);
	CHECK_STR(cfg.bind, "127.0.0.1");
	CHECK_STR(cfg.data_dir, "./data");
	CHECK_INT(cfg.threads, 2048);
	CHECK_INT(cfg.request_timeout_ms, 5000);
	CHECK_INT(cfg.max_body, 1048576);
	CHECK_INT(cfg.sso_allow_http_loopback, 0); /* https-only identity providers */
	CHECK_INT(cfg.sso_jwks_refetch_s, 60);
	char *url = config_db_url(&cfg);
	CHECK_STR(url, "sqlite://./data/parallax.db");
	free(url);
	config_release(&cfg);
}

TEST(config_precedence_file_env_flag)
{
	struct config cfg;
	struct err e;
	char *path = write_file("# comment\nport = 9001\nbind = \"0.0.0.0\"\nlog_level = warn\n"
				"max_body = 2048\n");
	char *argv[] = { "--config", path, "--max-body=4096", NULL };
	setenv("PARALLAX_PORT", "9002", 1);
	CHECK_INT(load(&cfg, &e, 3, argv), 0);
	CHECK_INT(cfg.port, 9002);        /* env beats file */
	CHECK_STR(cfg.bind, "0.0.0.0");   /* file beats default */
	CHECK_STR(cfg.log_level, "warn");
	CHECK_INT(cfg.max_body, 4096);    /* flag beats file */
	config_release(&cfg);
	char *argv2[] = { "--config", path, "--port", "9003", NULL };
	CHECK_INT(load(&cfg, &e, 4, argv2), 0);
	CHECK_INT(cfg.port, 9003);        /* flag beats env */
	config_release(&cfg);
	unsetenv("PARALLAX_PORT");
	unlink(path);
}

TEST(config_errors_name_the_key)
{
	struct config cfg;
	struct err e;
	char *path = write_file("port = 8080\nfrobnicate = 1\n");
	char *a1[] = { "--config", path, NULL };
	CHECK(load(&cfg, &e, 2, a1) < 0);
	CHECK_STR(e.field, "frobnicate");
	CHECK(strstr(e.msg, "unknown key") != NULL);
	CHECK(strstr(e.msg, "line 2") != NULL);
	config_release(&cfg);
	unlink(path);

	char *a2[] = { "--port", "70000", NULL };
	CHECK(load(&cfg, &e, 2, a2) < 0);
	CHECK_STR(e.field, "port");
	CHECK(strstr(e.msg, "out of range") != NULL);
	config_release(&cfg);

	char *a3[] = { "--no-such-flag", "1", NULL };
	CHECK(load(&cfg, &e, 2, a3) < 0);
	CHECK(strstr(e.msg, "unknown flag") != NULL);
	config_release(&cfg);

	char *a4[] = { "--port", "80x", NULL };
	CHECK(load(&cfg, &e, 2, a4) < 0);
	CHECK(strstr(e.msg, "not an integer") != NULL);
	config_release(&cfg);

	char *a5[] = { "--log-level", "loud", NULL };
	CHECK(load(&cfg, &e, 2, a5) < 0);
	CHECK_STR(e.field, "log_level");
	config_release(&cfg);

	char *a6[] = { "--db", "mysql://x", NULL };
	CHECK(load(&cfg, &e, 2, a6) < 0);
	CHECK_STR(e.field, "db");
	config_release(&cfg);

	setenv("PARALLAX_THREADS", "1", 1);
	CHECK(load(&cfg, &e, 0, NULL) < 0);
	CHECK_STR(e.field, "threads");
	CHECK(strstr(e.msg, "PARALLAX_THREADS") != NULL);
	unsetenv("PARALLAX_THREADS");
	config_release(&cfg);
}

TEST(config_bool_flag_and_stop_at_positional)
{
	struct config cfg;
	struct err e;
	char *argv[] = { "--dev", "--port=0", "extra", NULL };
	int argi = 0;
	err_clear(&e);
	CHECK_INT(config_load(&cfg, 3, argv, &argi, &e), 0);
	CHECK_INT(cfg.dev, 1);
	CHECK_INT(cfg.port, 0);
	CHECK_INT(argi, 2);
	config_release(&cfg);
}

TEST(config_data_dir_must_be_writable)
{
	struct config cfg;
	struct err e;
	char file[64], sub[80];
	snprintf(file, sizeof(file), "/tmp/parallax-cfg-file-%d", (int)getpid());
	FILE *f = fopen(file, "w");
	fclose(f);
	snprintf(sub, sizeof(sub), "%s/data", file);
	char *argv[] = { "--data", sub, NULL };
	CHECK_INT(load(&cfg, &e, 2, argv), 0);
	CHECK(config_check_paths(&cfg, &e) < 0);
	CHECK_STR(e.field, "data");
	config_release(&cfg);
	unlink(file);
}

TEST_MAIN(TEST_ENTRY(config_defaults), TEST_ENTRY(config_precedence_file_env_flag),
	  TEST_ENTRY(config_errors_name_the_key), TEST_ENTRY(config_bool_flag_and_stop_at_positional),
	  TEST_ENTRY(config_data_dir_must_be_writable))
