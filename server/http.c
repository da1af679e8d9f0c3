/*
 * The HTTP front: CivetWeb setup and the one dispatcher. Every request,
 * matched or not, goes through dispatch(): request id, path hygiene, route
 * lookup (404/405), body limits (413 before the body is read), content type
 * (415), JSON with limits (400), the handler, then one mg_write of status,
 * headers and body, plus metrics and an access log line.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <civetweb.h>

#include "server/server.h"
#include "web/web.h"
#include "db/db.h"
#include "core/core.h"

/* Documents (HTML) get the full policy: scripts and styles from our origin
 * only, never inline. */
static const char security_headers_html[] =
	"X-Content-Type-Options: nosniff\r\n"
	"X-Frame-Options: DENY\r\n"
	"Referrer-Policy: same-origin\r\n"
	"Cross-Origin-Opener-Policy: same-origin\r\n"
	"Cross-Origin-Resource-Policy: same-origin\r\n"
	"Permissions-Policy: camera=(), microphone=(), geolocation=()\r\n"
	"Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; "
	"img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'\r\n";

/* Everything else (JSON, assets, metrics) is never a document: it gets the
 * strictest policy, which is also shorter on the wire. */
static const char security_headers[] =
	"X-Content-Type-Options: nosniff\r\n"
	"X-Frame-Options: DENY\r\n"
	"Referrer-Policy: same-origin\r\n"
	"Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n";

static const char *status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Status";
	}
}

/* ---- request helpers ------------------------------------------------------ */

static void req_release_db(void *p)
{
	struct req *r = p;
	if (r->db) {
		db_release(r->db);
		r->db = NULL;
	}
}

int req_db(struct req *r, struct db **out)
{
	if (!r->db) {
		int rc = db_acquire(r->app->pool, 5000, &r->db, &r->err);
		if (rc)
			return rc;
		arena_defer(r->arena, req_release_db, r);
	}
	*out = r->db;
	return 0;
}

const char *req_header(const struct req *r, const char *name)
{
	return mg_get_header(r->conn, name);
}

const char *req_body_type(const struct req *r)
{
	const char *ct = r->body_type ? r->body_type : req_header(r, "Content-Type");
	return ct ? ct : "";
}

static const char *lookup_var(struct req *r, const char *data, size_t len, const char *name)
{
	if (!data)
		return NULL;
	char *dst = arena_alloc(r->arena, len + 1);
	int n = mg_get_var(data, len, name, dst, len + 1);
	if (n < 0 || !utf8_valid(dst, (size_t)n) || memchr(dst, '\0', (size_t)n) != NULL)
		return NULL;
	return dst;
}

const char *req_query(struct req *r, const char *name)
{
	return r->query ? lookup_var(r, r->query, strlen(r->query), name) : NULL;
}

const char *req_form(struct req *r, const char *name)
{
	if (!r->route || r->route->body != BODY_FORM)
		return NULL;
	return lookup_var(r, r->body, r->body_len, name);
}

const char *req_param(const struct req *r, int i)
{
	return i >= 0 && i < r->nparams ? r->params[i] : NULL;
}

void req_add_header(struct req *r, const char *name, const char *value)
{
	/* Header injection is impossible: CR and LF are dropped from values. */
	buf_adds(&r->headers, name);
	buf_adds(&r->headers, ": ");
	for (const char *p = value; *p; p++)
		if (*p != '\r' && *p != '\n')
			buf_addch(&r->headers, *p);
	buf_adds(&r->headers, "\r\n");
}

int req_send(struct req *r, int status, const char *content_type, const char *body, size_t len)
{
	r->status = status;
	r->content_type = content_type;
	r->out_ref = NULL;
	buf_reset(&r->out);
	buf_add(&r->out, body, len);
	return 0;
}

int req_send_ref(struct req *r, int status, const char *content_type, const char *body,
		 size_t len)
{
	r->status = status;
	r->content_type = content_type;
	buf_reset(&r->out);
	r->out_ref = body;
	r->out_ref_len = len;
	return 0;
}

int req_json(struct req *r, int status, cJSON *j)
{
	char *s = json_print(j);
	cJSON_Delete(j);
	req_send(r, status, "application/json", s, strlen(s));
	cJSON_free(s);
	return 0;
}

int req_redirect(struct req *r, int status, const char *location)
{
	req_add_header(r, "Location", location);
	return req_send(r, status, "text/plain; charset=utf-8", "", 0);
}

int req_fail(struct req *r, int code, const char *slug, const char *field, const char *fmt, ...)
{
	va_list ap;
	char msg[ERR_MSG_MAX];
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_setc(&r->err, code, slug, field, "%s", msg);
}

/* ---- response writing ----------------------------------------------------- */

static void render_error(struct req *r)
{
	struct buf b = BUF_INIT;
	int status = err_http_status(r->err.code);
	const char *msg = r->err.msg[0] ? r->err.msg : status_text(status), *accept;
	if (status >= 500 && r->err.code != ERR_BUSY && r->err.code != ERR_UNAVAILABLE &&
	    r->err.code != ERR_TIMEOUT) {
		log_kv(LOG_ERROR, "http", "internal error", "detail", r->err.msg, NULL);
		msg = "internal error";
	}
	if (r->route && r->route->tag && !strcmp(r->route->tag, "pages") &&
	    (accept = req_header(r, "Accept")) && strstr(accept, "text/html")) {
		web_error_page(r, status, msg); /* a person in a browser, not a program */
		return;
	}
	buf_adds(&b, "{\"error\":{\"code\":\"");
	buf_add_json_str(&b, err_slug(&r->err), strlen(err_slug(&r->err)));
	buf_adds(&b, "\",\"message\":\"");
	buf_add_json_str(&b, msg, strlen(msg));
	buf_addch(&b, '"');
	if (r->err.field[0]) {
		buf_adds(&b, ",\"field\":\"");
		buf_add_json_str(&b, r->err.field, strlen(r->err.field));
		buf_addch(&b, '"');
	}
	buf_adds(&b, "}}");
	req_send(r, status, "application/json", b.p, b.len);
	buf_release(&b);
	if ((status == 503 || status == 429) && !strstr(r->headers.p, "Retry-After:"))
		req_add_header(r, "Retry-After", "1");
}

/* Status line, headers and body go out in one mg_write (one packet for
 * small responses, with TCP_NODELAY), built with a single allocation. */
static void write_response(struct req *r, int head_only)
{
	struct buf h = BUF_INIT;
	const char *body = r->out_ref ? r->out_ref : r->out.p;
	size_t body_len = r->out_ref ? r->out_ref_len : r->out.len;
	buf_grow(&h, 1024 + r->headers.len + (head_only ? 0 : body_len));
	buf_addf(&h, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		     "X-Request-Id: %s\r\n",
		 r->status, status_text(r->status),
		 r->content_type ? r->content_type : "application/json", body_len, r->request_id);
	if (r->content_type && str_has_prefix(r->content_type, "text/html"))
		buf_add(&h, security_headers_html, sizeof(security_headers_html) - 1);
	else
		buf_add(&h, security_headers, sizeof(security_headers) - 1);
	if (!strstr(r->headers.p, "Cache-Control:"))
		buf_adds(&h, "Cache-Control: no-store\r\n");
	if (r->close_conn) {
		buf_adds(&h, "Connection: close\r\n");
		mg_disable_connection_keep_alive(r->conn);
	}
	buf_add(&h, r->headers.p, r->headers.len);
	buf_adds(&h, "\r\n");
	if (!head_only)
		buf_add(&h, body, body_len);
	mg_write(r->conn, h.p, h.len);
	buf_release(&h);
}

/* ---- request preparation -------------------------------------------------- */

static int valid_request_id(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!isalnum((unsigned char)s[n]) && s[n] != '-' && s[n] != '_' && s[n] != '.')
			return 0;
	return n >= 1 && n <= 64;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * Decode the raw path segment by segment. Refuses (400) NUL bytes, bad
 * escapes, control characters, invalid UTF-8, encoded slashes and
 * backslashes, and any "." or ".." segment, so no later layer ever sees a
 * path that could climb out of a directory.
 */
static int decode_path(struct req *r, const char *raw)
{
	size_t n = strlen(raw);
	char *out = arena_alloc(r->arena, n + 1), *seg = out;
	size_t o = 0;
	if (raw[0] != '/')
		return req_fail(r, ERR_INVALID, "invalid_path", NULL, "path must start with '/'");
	for (size_t i = 0; i <= n; i++) {
		int c = (unsigned char)raw[i];
		if (c == '/' || c == '\0') {
			out[o] = '\0';
			if (!strcmp(seg, ".") || !strcmp(seg, ".."))
				return req_fail(r, ERR_INVALID, "invalid_path", NULL,
						"dot segments are not allowed in paths");
			if (c == '\0')
				break;
			out[o++] = '/';
			seg = out + o;
			continue;
		}
		if (c == '%') {
			int hi = i + 2 < n + 1 ? hexval(raw[i + 1]) : -1;
			int lo = hi >= 0 ? hexval(raw[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return req_fail(r, ERR_INVALID, "invalid_path", NULL,
						"malformed percent-encoding in path");
			c = hi * 16 + lo;
			i += 2;
			if (c == '/' || c == '\\' || c == 0)
				return req_fail(r, ERR_INVALID, "invalid_path", NULL,
						"encoded '/', '\\' or NUL in path");
		}
		if (c < 0x20 || c == 0x7f || c == '\\')
			return req_fail(r, ERR_INVALID, "invalid_path", NULL,
					"control characters or '\\' in path");
		out[o++] = (char)c;
	}
	if (!utf8_valid(out, o))
		return req_fail(r, ERR_INVALID, "invalid_path", NULL, "path is not valid UTF-8");
	r->path = out;
	return 0;
}

static int find_route(struct req *r)
{
	struct buf allow = BUF_INIT;
	int is_head = !strcmp(r->method, "HEAD");
	for (size_t i = 0; i < routes_count; i++) {
		r->nparams = 0;
		if (!route_match(routes[i].pattern, r->path, r))
			continue;
		if (!strcmp(routes[i].method, r->method) ||
		    (is_head && !strcmp(routes[i].method, "GET"))) {
			r->route = &routes[i];
			buf_release(&allow);
			return 0;
		}
		if (!strstr(allow.p, routes[i].method)) {
			if (allow.len)
				buf_adds(&allow, ", ");
			buf_adds(&allow, routes[i].method);
		}
	}
	r->nparams = 0;
	if (allow.len) {
		req_add_header(r, "Allow", allow.p);
		req_fail(r, ERR_METHOD, NULL, NULL, "%s is not allowed here; use %s", r->method,
			 allow.p);
	} else {
		req_fail(r, ERR_NOT_FOUND, NULL, NULL, "no such route");
	}
	buf_release(&allow);
	return r->err.code;
}

static int content_type_is(const char *ct, const char *want)
{
	size_t n = strlen(want);
	if (!ct || strncasecmp(ct, want, n))
		return 0;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

static int read_body(struct req *r, const struct mg_request_info *ri)
{
	int64_t max = r->app->cfg->max_body;
	const char *ct = mg_get_header(r->conn, "Content-Type");
	if (ri->content_length > max) {
		r->close_conn = 1;
		return req_fail(r, ERR_TOO_LARGE, NULL, NULL, "request body exceeds %lld bytes",
				(long long)max);
	}
	if (r->route->body == BODY_JSON && !content_type_is(ct, "application/json"))
		return req_fail(r, ERR_MEDIA_TYPE, NULL, NULL,
				"this route takes application/json");
	if (r->route->body == BODY_FORM &&
	    !content_type_is(ct, "application/x-www-form-urlencoded"))
		return req_fail(r, ERR_MEDIA_TYPE, NULL, NULL,
				"this route takes application/x-www-form-urlencoded");
	struct buf b = BUF_INIT;
	char chunk[16384];
	for (;;) {
		int n = mg_read(r->conn, chunk, sizeof(chunk));
		if (n <= 0)
			break;
		buf_add(&b, chunk, (size_t)n);
		if ((int64_t)b.len > max)
			break;
	}
	if ((int64_t)b.len > max) {
		buf_release(&b);
		r->close_conn = 1;
		return req_fail(r, ERR_TOO_LARGE, NULL, NULL, "request body exceeds %lld bytes",
				(long long)max);
	}
	r->body_len = b.len;
	r->body = buf_detach(&b, NULL);
	arena_defer(r->arena, free, (void *)r->body);
	return 0;
}

static int parse_body(struct req *r, const struct mg_request_info *ri)
{
	int rc;
	if (r->route->body == BODY_NONE) {
		/* An unread body would be parsed as the next request: close instead. */
		if (ri->content_length > 0 || mg_get_header(r->conn, "Transfer-Encoding"))
			r->close_conn = 1;
		return 0;
	}
	if ((rc = read_body(r, ri)))
		return rc;
	if (r->route->body != BODY_JSON)
		return 0;
	if (!r->body_len)
		return req_fail(r, ERR_INVALID, "invalid_json", NULL, "a JSON body is required");
	r->json = json_parse(r->body, r->body_len, JSON_MAX_DEPTH, &r->err);
	if (!r->json)
		return r->err.code;
	arena_defer(r->arena, (void (*)(void *))cJSON_Delete, r->json);
	return 0;
}

static void access_log(struct req *r)
{
	int level = r->route && (r->route->flags & ROUTE_QUIET) && r->status < 400 ? LOG_DEBUG :
										       LOG_INFO;
	if (!LOG_ENABLED(level))
		return;
	char status[8], dur[32];
	long long us = (long long)(mono_us() - r->start_us);
	snprintf(status, sizeof(status), "%d", r->status);
	snprintf(dur, sizeof(dur), "%lld.%03lld", us / 1000, us % 1000);
	log_kv(level, "http", "request", "method", r->method, "path",
	       r->path ? r->path : "-", "status", status, "duration_ms", dur, "ip", r->remote_ip,
	       NULL);
}

static int dispatch(struct mg_connection *conn, void *cbdata)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct req r;
	_Alignas(16) unsigned char arena_mem[4096]; /* most requests never touch the heap arena */
	int rc;
	memset(&r, 0, sizeof(r));
	r.app = cbdata;
	r.conn = conn;
	r.arena = arena_init_buf(arena_mem, sizeof(arena_mem));
	r.start_us = mono_us();
	r.method = ri->request_method;
	r.query = ri->query_string;
	r.remote_ip = ri->remote_addr;
	buf_init(&r.headers);
	buf_init(&r.out);
	const char *rid = mg_get_header(conn, "X-Request-Id");
	if (rid && valid_request_id(rid))
		str_copy(r.request_id, sizeof(r.request_id), rid);
	else
		uuid_v7(r.request_id);
	log_set_request_id(r.request_id);

	if (!(rc = decode_path(&r, ri->request_uri ? ri->request_uri : "")) &&
	    !(rc = find_route(&r)) && !(rc = authenticate_request(&r)) &&
	    !(rc = parse_body(&r, ri)) && !(rc = csrf_request(&r)))
		rc = r.route->fn(&r);
	if (rc < 0 && !r.streamed)
		render_error(&r);
	else if (!r.status)
		r.status = r.streamed ? 200 : 204;
	/* Release the database connection before the (possibly slow) write. */
	req_release_db(&r);
	if (!r.streamed)
		write_response(&r, !strcmp(r.method, "HEAD"));
	metrics_observe(r.route ? (int)(r.route - routes) : -1, r.status, mono_us() - r.start_us);
	access_log(&r);
	log_set_request_id(NULL);
	int status = r.status;
	arena_release(r.arena);
	buf_release(&r.headers);
	buf_release(&r.out);
	return status;
}

/* CivetWeb's own errors (malformed request line, header too large, ...). */
static int on_http_error(struct mg_connection *conn, int status, const char *msg)
{
	struct buf b = BUF_INIT;
	const char *slug = status == 413 || status == 431 ? "payload_too_large" :
			   status == 408			? "timeout" :
			   status == 404			? "not_found" :
			   status == 405			? "method_not_allowed" :
			   status >= 500			? "internal" :
								  "invalid_request";
	(void)msg;
	char body[160];
	int n = snprintf(body, sizeof(body), "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}",
			 slug, status_text(status));
	buf_addf(&b, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n",
		 status, status_text(status), n);
	buf_add(&b, security_headers, sizeof(security_headers) - 1);
	buf_adds(&b, "Cache-Control: no-store\r\nConnection: close\r\n\r\n");
	buf_add(&b, body, (size_t)n);
	mg_write(conn, b.p, b.len);
	buf_release(&b);
	return 0;
}

static int on_log_message(const struct mg_connection *conn, const char *message)
{
	(void)conn;
	log_kv(LOG_WARN, "civetweb", message, NULL);
	return 1;
}

int http_start(struct app *app, struct err *e)
{
	const struct config *cfg = app->cfg;
	char ports[300], threads[16], req_to[16], ka_to[16];
	int v6 = strchr(cfg->bind, ':') != NULL;
	snprintf(ports, sizeof(ports), v6 ? "[%s]:%d" : "%s:%d", cfg->bind, cfg->port);
	snprintf(threads, sizeof(threads), "%d", cfg->threads);
	snprintf(req_to, sizeof(req_to), "%d", cfg->request_timeout_ms);
	snprintf(ka_to, sizeof(ka_to), "%d", cfg->keep_alive_timeout_ms);
	const char *opts[] = { "listening_ports", ports,
			       "num_threads", threads,
			       "request_timeout_ms", req_to,
			       "keep_alive_timeout_ms", ka_to,
			       "enable_keep_alive", "yes",
			       "tcp_nodelay", "1",
			       "enable_directory_listing", "no",
			       "decode_url", "no",
			       "websocket_timeout_ms", "35000",
			       NULL };
	struct mg_callbacks cb;
	memset(&cb, 0, sizeof(cb));
	cb.http_error = on_http_error;
	cb.log_message = on_log_message;
	app->mg = mg_start(&cb, app, opts);
	if (!app->mg)
		return err_set(e, ERR_UNAVAILABLE, "port", "port: cannot listen on %s", ports);
	mg_set_request_handler(app->mg, "/", dispatch, app);
	ws_agents_start(app);
	ws_stream_start(app);
	struct mg_server_port sp[4];
	int n = mg_get_server_ports(app->mg, (int)ARRAY_SIZE(sp), sp);
	app->port = n > 0 ? sp[0].port : cfg->port;
	if (cfg->public_url[0])
		str_copy(app->base_url, sizeof(app->base_url), cfg->public_url);
	else
		snprintf(app->base_url, sizeof(app->base_url), v6 ? "http://[%s]:%d" : "http://%s:%d",
			 cfg->bind, app->port);
	return 0;
}

struct http_stopper {
	struct mg_context *mg;
	int done; /* atomic */
};

static void *http_stop_main(void *arg)
{
	struct http_stopper *s = arg;
	mg_stop(s->mg);
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* A connection to our own listening socket, closed at once. */
static void http_poke(const struct app *app)
{
	const char *bind = app->cfg->bind;
	int v6 = strchr(bind, ':') != NULL;
	struct sockaddr_storage ss;
	socklen_t len;
	memset(&ss, 0, sizeof(ss));
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)app->port);
		if (!strcmp(bind, "::") || inet_pton(AF_INET6, bind, &a->sin6_addr) != 1)
			a->sin6_addr = in6addr_loopback;
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)app->port);
		if (!strcmp(bind, "0.0.0.0") || inet_pton(AF_INET, bind, &a->sin_addr) != 1)
			a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*a);
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return;
	(void)connect(fd, (struct sockaddr *)&ss, len);
	close(fd);
}

/*
 * Stop accepting and wait for the requests in flight. CivetWeb's accept loop
 * polls its sockets two seconds at a time and sees the stop only then, so
 * while mg_stop waits we connect to ourselves to wake it at once.
 */
void http_stop(struct app *app)
{
	if (!app->mg)
		return;
	struct http_stopper s = { .mg = app->mg };
	pthread_t th;
	if (pthread_create(&th, NULL, http_stop_main, &s)) {
		mg_stop(app->mg);
	} else {
		for (int i = 0; i < 200 && !__atomic_load_n(&s.done, __ATOMIC_ACQUIRE); i++) {
			http_poke(app);
			struct timespec ts = { 0, 20 * 1000000 };
			nanosleep(&ts, NULL);
		}
		pthread_join(th, NULL);
	}
	app->mg = NULL;
}

int req_audit(struct req *r, const char *action, const char *resource_type,
	      const char *resource_id, const char *outcome, cJSON *details)
{
	struct db *db;
	struct err e;
	char *json = details ? json_print(details) : NULL;
	int rc = req_db(r, &db);
	err_clear(&e);
	if (!rc) {
		struct audit_entry a = {
			.tenant_id = r->auth.tenant_id[0] ? r->auth.tenant_id : NULL,
			.actor_type = auth_actor_type(&r->auth),
			.actor_id = r->auth.kind == AUTH_API_KEY ? r->auth.api_key_id :
				    r->auth.user_id[0]		 ? r->auth.user_id :
								   NULL,
			.action = action,
			.resource_type = resource_type,
			.resource_id = resource_id,
			.ip = r->remote_ip,
			.outcome = outcome,
			.request_id = r->request_id,
			.details_json = json,
		};
		rc = store_audit_append(db, &a, &e);
		if (rc)
			log_kv(LOG_ERROR, "audit", "audit append failed", "action", action, NULL);
	}
	cJSON_free(json);
	cJSON_Delete(details);
	return rc;
}
