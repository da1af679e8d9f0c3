/*
 * /api/v1/executions/{id}/stream: an execution's events over WebSocket.
 * The upgrade request is authenticated like any API request (Bearer token,
 * API key or session cookie; the RBAC check of executions:read and the
 * workspace), then the stored events are replayed (after ?after=<seq>)
 * and new ones follow as they are written, one JSON text frame each; the
 * server closes the socket after the execution's last event. Events are
 * read from the database, so a subscriber on any instance sees them.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <civetweb.h>

#include "auth/auth.h"
#include "db/db.h"
#include "server/server.h"
#include "core/core.h"

#define STREAM_MAX_MS (30 * 60 * 1000)

struct stream {
	char tenant_id[UUID_STR_LEN], id[UUID_STR_LEN];
	int64_t after;
};

static const struct route stream_route = {
	"GET", "/api/v1/executions/{id}/stream", ACCESS_PERM, RES_EXECUTION, ACT_READ, BODY_NONE,
	NULL, "Stream an execution's events over WebSocket", "executions", 0
};

static int terminal(const char *s)
{
	return !strcmp(s, "succeeded") || !strcmp(s, "failed") || !strcmp(s, "cancelled") ||
	       !strcmp(s, "timed_out");
}

static int on_connect(const struct mg_connection *conn, void *cbdata)
{
	struct app *app = cbdata;
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *uri = ri->local_uri ? ri->local_uri : "";
	const char *start = uri + strlen("/api/v1/executions/");
	const char *end = strstr(start, "/stream");
	char id[UUID_STR_LEN], q[32];
	struct req r;
	_Alignas(16) unsigned char mem[2048];
	struct execution_full x;
	int ok = 0;

	if (!str_has_prefix(uri, "/api/v1/executions/") || !end || end - start <= 0 ||
	    (size_t)(end - start) >= sizeof(id) || strcmp(end, "/stream") || app->draining)
		return 1;
	memcpy(id, start, (size_t)(end - start));
	id[end - start] = '\0';
	memset(&r, 0, sizeof(r));
	r.app = app;
	r.conn = (struct mg_connection *)conn;
	r.arena = arena_init_buf(mem, sizeof(mem));
	r.method = "GET";
	r.path = uri;
	r.route = &stream_route;
	r.remote_ip = ri->remote_addr;
	buf_init(&r.headers);
	buf_init(&r.out);
	if (authenticate_request(&r) == 0 && r.auth.workspace_id[0]) {
		struct db *db;
		if (req_db(&r, &db) == 0 &&
		    store_execution_get_full(db, r.auth.tenant_id, r.auth.workspace_id, id, &x,
					     &r.err) == 0) {
			execution_full_release(&x);
			ok = 1;
		}
	}
	if (ok) {
		struct stream *s = xcalloc(1, sizeof(*s));
		str_copy(s->tenant_id, sizeof(s->tenant_id), r.auth.tenant_id);
		str_copy(s->id, sizeof(s->id), id);
		if (ri->query_string &&
		    mg_get_var(ri->query_string, strlen(ri->query_string), "after", q, sizeof(q)) > 0)
			str_to_i64(q, &s->after);
		mg_set_user_connection_data(r.conn, s);
	}
	if (!ok) { /* answer like the API would, then refuse the upgrade */
		int st = r.err.code ? err_http_status(r.err.code) : 404;
		const char *code = r.err.code ? (r.err.slug[0] ? r.err.slug : "unauthenticated")
					      : "not_found";
		if (st == 401 || st == 403)
			;
		else
			st = 404, code = "not_found";
		mg_printf(r.conn,
			  "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nConnection: close\r\n"
			  "Content-Length: %zu\r\n\r\n{\"error\":{\"code\":\"%s\"}}",
			  st, st == 401 ? "Unauthorized" : st == 403 ? "Forbidden" : "Not Found",
			  strlen(code) + 21, code);
	}
	if (r.db)
		db_release(r.db);
	arena_release(r.arena);
	buf_release(&r.headers);
	buf_release(&r.out);
	return ok ? 0 : 1;
}

/* Replay, then follow until the execution has ended and its last event is sent. */
static void on_ready(struct mg_connection *conn, void *cbdata)
{
	struct app *app = cbdata;
	struct stream *s = mg_get_user_connection_data(conn);
	int64_t until = mono_ms() + STREAM_MAX_MS;
	while (s && mono_ms() < until && !app->draining) {
		struct db *db = NULL;
		struct err e;
		char st[24] = "";
		cJSON *events = NULL;
		int done = 0, broken = 0;
		if (db_acquire(app->pool, 5000, &db, &e) == 0) {
			db_query_text(db, &e, st, sizeof(st), "SELECT status FROM executions WHERE id = ?",
				      "s", s->id);
			if (store_events_json(db, s->tenant_id, s->id, s->after, 1000, &events, &e) == 0) {
				const cJSON *ev;
				cJSON_ArrayForEach(ev, events) {
					char *text = cJSON_PrintUnformatted(ev);
					mg_lock_connection(conn);
					int n = mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_TEXT, text,
								   strlen(text));
					mg_unlock_connection(conn);
					free(text);
					if (n <= 0) {
						broken = 1;
						break;
					}
					s->after = (int64_t)cJSON_GetNumberValue(
						cJSON_GetObjectItemCaseSensitive(ev, "seq"));
				}
				done = terminal(st) && cJSON_GetArraySize(events) == 0;
			}
			cJSON_Delete(events);
			db_release(db);
		}
		if (broken)
			return;
		if (done) {
			static const char bye[] = "\x03\xe8" "finished";
			mg_lock_connection(conn);
			mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, bye,
					   sizeof(bye) - 1);
			mg_unlock_connection(conn);
			return;
		}
		struct timespec ts = { 0, 100 * 1000000 };
		nanosleep(&ts, NULL);
	}
}

static int on_data(struct mg_connection *conn, int bits, char *data, size_t len, void *cbdata)
{
	(void)conn;
	(void)data;
	(void)len;
	(void)cbdata;
	/* the stream is one-way; a close ends it */
	return (bits & 0x0f) != MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE;
}

static void on_close(const struct mg_connection *conn, void *cbdata)
{
	(void)cbdata;
	free(mg_get_user_connection_data(conn));
	mg_set_user_connection_data((struct mg_connection *)conn, NULL);
}

void ws_stream_start(struct app *app)
{
	mg_set_websocket_handler(app->mg, "/api/v1/executions/*/stream", on_connect, on_ready,
				 on_data, on_close, app);
}
