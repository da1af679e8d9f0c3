/*
 * Configuration: one typed table (name, type, default, bounds, env name,
 * help) drives the file, the PARALLAX_* environment and the flags, in that
 * order of precedence, and `parallax config check`.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/server.h"
#include "db/db.h"
#include "core/core.h"

enum cfg_type { CFG_INT, CFG_I64, CFG_STR, CFG_BOOL, CFG_LEVEL };

struct config_opt {
	const char *name; /* file key; flag is --name with '_' -> '-' */
	enum cfg_type type;
	size_t offset;
	const char *def;
	int64_t min, max;
	const char *env;
	const char *help;
};

#define OFF(f) offsetof(struct config, f)

static const struct config_opt opts[] = {
	{ "config", CFG_STR, OFF(config_file), "", 0, 0, "PARALLAX_CONFIG",
	  "configuration file (key = value lines)" },
	{ "port", CFG_INT, OFF(port), "8080", 0, 65535, "PARALLAX_PORT",
	  "TCP port to listen on (0 picks a free one)" },
	{ "bind", CFG_STR, OFF(bind), "127.0.0.1", 0, 0, "PARALLAX_BIND", "address to bind" },
	{ "data", CFG_STR, OFF(data_dir), "./data", 0, 0, "PARALLAX_DATA",
	  "data directory (SQLite database, keys)" },
	{ "db", CFG_STR, OFF(db_url), "", 0, 0, "PARALLAX_DB",
	  "database URL: sqlite://PATH or postgres://... (default: the SQLite file in --data)" },
	{ "log_level", CFG_LEVEL, OFF(log_level), "info", 0, 0, "PARALLAX_LOG_LEVEL",
	  "debug, info, warn or error" },
	{ "threads", CFG_INT, OFF(threads), "2048", 8, 16384, "PARALLAX_THREADS",
	  "HTTP threads: the number of slow clients absorbed (CivetWeb is thread-per-connection)" },
	{ "request_timeout_ms", CFG_INT, OFF(request_timeout_ms), "5000", 100, 600000,
	  "PARALLAX_REQUEST_TIMEOUT_MS", "time allowed to send a request" },
	{ "keep_alive_timeout_ms", CFG_INT, OFF(keep_alive_timeout_ms), "500", 0, 600000,
	  "PARALLAX_KEEP_ALIVE_TIMEOUT_MS", "idle time before a keep-alive connection closes" },
	{ "max_body", CFG_I64, OFF(max_body), "1048576", 1024, 268435456, "PARALLAX_MAX_BODY",
	  "largest request body in bytes" },
	{ "db_pool_size", CFG_INT, OFF(db_pool_size), "8", 1, 512, "PARALLAX_DB_POOL_SIZE",
	  "database connections per process" },
	{ "agent_allow", CFG_STR, OFF(agent_allow), "", 0, 0, "PARALLAX_AGENT_ALLOW",
	  "CIDRs admitted for agent endpoints in otherwise refused ranges" },
	{ "public_url", CFG_STR, OFF(public_url), "", 0, 0, "PARALLAX_PUBLIC_URL",
	  "external base URL used in links (default: http://BIND:PORT)" },
	{ "tls_cert", CFG_STR, OFF(tls_cert), "", 0, 0, "PARALLAX_TLS_CERT",
	  "PEM certificate (with --tls-key) to serve HTTPS" },
	{ "tls_key", CFG_STR, OFF(tls_key), "", 0, 0, "PARALLAX_TLS_KEY", "PEM private key" },
	{ "dev", CFG_BOOL, OFF(dev), "false", 0, 0, "PARALLAX_DEV",
	  "serve templates and static files from disk (--dev-dir), re-read on every request" },
	{ "dev_dir", CFG_STR, OFF(dev_dir), ".", 0, 0, "PARALLAX_DEV_DIR",
	  "with --dev: the source tree whose templates/ and static/ are served" },
	{ "setup_token_ttl_s", CFG_INT, OFF(setup_token_ttl_s), "86400", 60, 604800,
	  "PARALLAX_SETUP_TOKEN_TTL_S", "lifetime of the owner set-up link" },
	{ "jwt_secret", CFG_STR, OFF(jwt_secret), "", 0, 0, "PARALLAX_JWT_SECRET",
	  "token signing secret (>= 32 bytes; the same on every instance), else <data>/jwt.key" },
	{ "secret_key", CFG_STR, OFF(secret_key), "", 0, 0, "PARALLAX_SECRET_KEY",
	  "key sealing secrets at rest (32 bytes, hex or base64; the same on every instance), "
	  "else <data>/secret.key" },
	{ "rate_limit_rpm", CFG_INT, OFF(rate_limit_rpm), "6000", 0, 10000000,
	  "PARALLAX_RATE_LIMIT_RPM", "requests a minute per user or API key (0: off)" },
	{ "rate_limit_ip_rpm", CFG_INT, OFF(rate_limit_ip_rpm), "1200", 0, 10000000,
	  "PARALLAX_RATE_LIMIT_IP_RPM", "unauthenticated requests a minute per IP (0: off)" },
	{ "login_rpm", CFG_INT, OFF(login_rpm), "60", 1, 100000, "PARALLAX_LOGIN_RPM",
	  "login attempts a minute per IP" },
	{ "engine_threads", CFG_INT, OFF(engine_threads), "2", 1, 64, "PARALLAX_ENGINE_THREADS",
	  "executor loop threads (each drives thousands of agent calls)" },
	{ "breaker_failures", CFG_INT, OFF(breaker_failures), "5", 1, 1000,
	  "PARALLAX_BREAKER_FAILURES", "consecutive failures that open an agent's circuit" },
	{ "breaker_open_ms", CFG_I64, OFF(breaker_open_ms), "30000", 100, 86400000,
	  "PARALLAX_BREAKER_OPEN_MS", "how long an open circuit fails fast before half-opening" },
	{ "health_interval_ms", CFG_I64, OFF(health_interval_ms), "30000", 0, 86400000,
	  "PARALLAX_HEALTH_INTERVAL_MS",
	  "how often http and openai agents are probed (0: never); 2x without an answer is unhealthy" },
	{ "workers", CFG_INT, OFF(workers), "2", 0, 32, "PARALLAX_WORKERS",
	  "worker threads claiming executions from the queue (they share max_inflight); "
	  "0: this process only serves" },
	{ "max_inflight", CFG_INT, OFF(max_inflight), "1000", 1, 100000, "PARALLAX_MAX_INFLIGHT",
	  "executions one worker runs at once" },
	{ "lease_ms", CFG_I64, OFF(lease_ms), "30000", 1000, 3600000, "PARALLAX_LEASE_MS",
	  "a claimed job's lease (renewed every third); a dead worker's jobs return after it" },
	{ "shutdown_grace_ms", CFG_I64, OFF(shutdown_grace_ms), "10000", 0, 600000,
	  "PARALLAX_SHUTDOWN_GRACE_MS",
	  "on SIGTERM, how long running executions get to finish before they are left to resume" },
	{ "breaker_successes", CFG_INT, OFF(breaker_successes), "3", 1, 1000,
	  "PARALLAX_BREAKER_SUCCESSES", "half-open successes that close the circuit" },
	{ "sso_allow_http_loopback", CFG_BOOL, OFF(sso_allow_http_loopback), "false", 0, 0,
	  "PARALLAX_SSO_ALLOW_HTTP_LOOPBACK",
	  "let an SSO issuer use plain http on 127.0.0.1, [::1] or localhost (tests and a local "
	  "provider only; every other issuer must be https)" },
	{ "sso_jwks_refetch_s", CFG_INT, OFF(sso_jwks_refetch_s), "60", 1, 86400,
	  "PARALLAX_SSO_JWKS_REFETCH_S",
	  "at most one JWKS refetch per identity provider in this many seconds (on an unknown kid)" },
	{ "sso_http_timeout_ms", CFG_INT, OFF(sso_http_timeout_ms), "10000", 100, 60000,
	  "PARALLAX_SSO_HTTP_TIMEOUT_MS", "time allowed for one request to an identity provider" },
};

static void *opt_ptr(struct config *cfg, const struct config_opt *o)
{
	return (char *)cfg + o->offset;
}

static const struct config_opt *opt_find(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(opts); i++)
		if (strlen(opts[i].name) == len && !strncmp(opts[i].name, name, len))
			return &opts[i];
	return NULL;
}

/* Set one option from text; src says where it came from, for the message. */
static int opt_set(struct config *cfg, const struct config_opt *o, const char *val,
		   const char *src, struct err *e)
{
	void *p = opt_ptr(cfg, o);
	int64_t v;
	switch (o->type) {
	case CFG_INT:
	case CFG_I64:
		if (str_to_i64(val, &v))
			return err_set(e, ERR_INVALID, o->name, "%s: '%.64s' is not an integer (%s)",
				       o->name, val, src);
		if (v < o->min || v > o->max)
			return err_set(e, ERR_INVALID, o->name,
				       "%s: %lld is out of range (%lld..%lld) (%s)", o->name,
				       (long long)v, (long long)o->min, (long long)o->max, src);
		if (o->type == CFG_INT)
			*(int *)p = (int)v;
		else
			*(int64_t *)p = v;
		return 0;
	case CFG_BOOL:
		if (!strcmp(val, "true") || !strcmp(val, "1") || !strcmp(val, "yes"))
			*(int *)p = 1;
		else if (!strcmp(val, "false") || !strcmp(val, "0") || !strcmp(val, "no"))
			*(int *)p = 0;
		else
			return err_set(e, ERR_INVALID, o->name, "%s: '%.64s' is not a boolean (%s)",
				       o->name, val, src);
		return 0;
	case CFG_LEVEL:
		if (log_level_parse(val) < 0 || !strcmp(val, "off"))
			return err_set(e, ERR_INVALID, o->name,
				       "%s: '%.64s' is not one of debug, info, warn, error (%s)",
				       o->name, val, src);
		__attribute__((fallthrough)); /* stored as a string */
	case CFG_STR:
		free(*(char **)p);
		*(char **)p = xstrdup(val);
		return 0;
	}
	return err_set(e, ERR_INTERNAL, o->name, "bad option type");
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int config_parse_line(struct config *cfg, char *line, const char *path, int lineno,
			     struct err *e)
{
	char src[300];
	char *s = trim(line);
	if (!*s || *s == '#')
		return 0;
	char *eq = strchr(s, '=');
	snprintf(src, sizeof(src), "%s line %d", path, lineno);
	if (!eq)
		return err_set(e, ERR_INVALID, "", "config: expected 'key = value' (%s)", src);
	*eq = '\0';
	char *key = trim(s), *val = trim(eq + 1);
	size_t vlen = strlen(val);
	if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {
		val[vlen - 1] = '\0';
		val++;
	}
	const struct config_opt *o = opt_find(key, strlen(key));
	if (!o || !strcmp(o->name, "config"))
		return err_set(e, ERR_INVALID, key, "%.64s: unknown key (%s)", key, src);
	return opt_set(cfg, o, val, src, e);
}

static int config_read_file(struct config *cfg, const char *path, struct err *e)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int lineno = 0, ret = 0;
	if (!f)
		return err_set(e, ERR_INVALID, "config", "config: cannot read '%.200s': %s", path,
			       strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		ret = config_parse_line(cfg, line, path, lineno, e);
		if (ret)
			break;
	}
	fclose(f);
	return ret;
}

static int config_apply_env(struct config *cfg, struct err *e)
{
	for (size_t i = 0; i < ARRAY_SIZE(opts); i++) {
		const char *v = getenv(opts[i].env);
		if (v && strcmp(opts[i].name, "config")) {
			int rc = opt_set(cfg, &opts[i], v, opts[i].env, e);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* Flags: --name VALUE, --name=VALUE, or --name for booleans. Applies the
 * flag when only is NULL or names it; always validates the name. */
static int config_parse_flag(struct config *cfg, int argc, char **argv, int *i, const char *only,
			     struct err *e)
{
	char name[64];
	const char *arg = argv[*i] + 2, *val = NULL, *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	if (len >= sizeof(name))
		len = sizeof(name) - 1;
	for (size_t k = 0; k < len; k++)
		name[k] = arg[k] == '-' ? '_' : arg[k];
	name[len] = '\0';
	const struct config_opt *o = opt_find(name, len);
	if (!o)
		return err_set(e, ERR_INVALID, name, "--%.64s: unknown flag (see parallax help)",
			       name);
	if (eq)
		val = eq + 1;
	else if (o->type == CFG_BOOL)
		val = "true";
	else if (*i + 1 < argc)
		val = argv[++*i];
	else
		return err_set(e, ERR_INVALID, o->name, "--%s: missing value", o->name);
	if (only && strcmp(only, o->name))
		return 0;
	return opt_set(cfg, o, val, "flag", e);
}

static int config_defaults(struct config *cfg, struct err *e)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < ARRAY_SIZE(opts); i++) {
		int rc = opt_set(cfg, &opts[i], opts[i].def, "default", e);
		if (rc)
			return rc;
	}
	return 0;
}

int config_load(struct config *cfg, int argc, char **argv, int *argi, struct err *e)
{
	int rc = config_defaults(cfg, e), i;
	const char *file = getenv("PARALLAX_CONFIG");
	if (rc)
		return rc;
	/* First pass: validate flag names and pick up --config. */
	for (i = *argi; i < argc && !strncmp(argv[i], "--", 2); i++)
		if ((rc = config_parse_flag(cfg, argc, argv, &i, "config", e)))
			return rc;
	if (cfg->config_file[0])
		file = cfg->config_file;
	if (file && *file && (rc = config_read_file(cfg, file, e)))
		return rc;
	if ((rc = config_apply_env(cfg, e)))
		return rc;
	for (i = *argi; i < argc && !strncmp(argv[i], "--", 2); i++)
		if ((rc = config_parse_flag(cfg, argc, argv, &i, NULL, e)))
			return rc;
	*argi = i;
	if (cfg->db_url[0] && (rc = db_url_check(cfg->db_url, e)))
		return err_prefix(e, "db", "db");
	if (cfg->agent_allow[0] && (rc = cidr_list_check(cfg->agent_allow, e)))
		return err_prefix(e, "agent_allow", "agent_allow");
	if ((cfg->tls_cert[0] != 0) != (cfg->tls_key[0] != 0))
		return err_set(e, ERR_INVALID, "tls_key", "tls_cert and tls_key go together");
	return 0;
}

void config_release(struct config *cfg)
{
	for (size_t i = 0; i < ARRAY_SIZE(opts); i++)
		if (opts[i].type == CFG_STR || opts[i].type == CFG_LEVEL) {
			char **p = opt_ptr(cfg, &opts[i]);
			free(*p);
			*p = NULL;
		}
}

char *config_db_url(const struct config *cfg)
{
	struct buf b = BUF_INIT;
	if (cfg->db_url[0])
		buf_adds(&b, cfg->db_url);
	else
		buf_addf(&b, "sqlite://%s/parallax.db", cfg->data_dir);
	return buf_detach(&b, NULL);
}

static int mkdir_p(const char *path)
{
	char tmp[4096];
	if (str_copy(tmp, sizeof(tmp), path) >= sizeof(tmp))
		return -1;
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0700) && errno != EEXIST)
				return -1;
			*p = '/';
		}
	if (mkdir(tmp, 0700) && errno != EEXIST)
		return -1;
	return 0;
}

int config_check_paths(const struct config *cfg, struct err *e)
{
	struct buf probe = BUF_INIT;
	int ret = 0;
	struct stat st;
	if (mkdir_p(cfg->data_dir) || stat(cfg->data_dir, &st) || !S_ISDIR(st.st_mode)) {
		ret = err_set(e, ERR_INVALID, "data", "data: cannot create directory '%.200s': %s",
			      cfg->data_dir, strerror(errno ? errno : ENOTDIR));
		goto out;
	}
	buf_addf(&probe, "%s/.write-test-%d", cfg->data_dir, (int)getpid());
	int fd = open(probe.p, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		ret = err_set(e, ERR_INVALID, "data", "data: directory '%.200s' is not writable: %s",
			      cfg->data_dir, strerror(errno));
		goto out;
	}
	close(fd);
	unlink(probe.p);
out:
	buf_release(&probe);
	return ret;
}

void config_print_help(void)
{
	printf("Options (flag, environment variable, config file key; flags win):\n");
	for (size_t i = 0; i < ARRAY_SIZE(opts); i++) {
		char flag[64];
		size_t k;
		for (k = 0; opts[i].name[k] && k < sizeof(flag) - 1; k++)
			flag[k] = opts[i].name[k] == '_' ? '-' : opts[i].name[k];
		flag[k] = '\0';
		printf("  --%-24s %-30s %s (default: %s)\n", flag, opts[i].env, opts[i].help,
		       opts[i].def[0] ? opts[i].def : "none");
	}
}
