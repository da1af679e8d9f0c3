/*
 * /api/v1/agents/connect: the WebSocket ws agents dial (SPEC §4). The
 * connect token (Authorization: Bearer plx_connect_..., or ?token=) names
 * one ws agent; then frames are JSON text:
 *   agent -> server  {type:"hello", name?, capabilities?}   (first)
 *                    {type:"heartbeat"}                     (every 10 s)
 *                    {type:"result", task_id, value, confidence?, reasoning?, usage?, error?}
 *   server -> agent  {type:"welcome", agent_id, name, heartbeat_ms}
 *                    {type:"task", task_id, execution_id, node_id, task, data, deadline_ms}
 *                    {type:"cancel", task_id}
 *                    {type:"error", message}                 (then close, on a bad frame)
 * A bad token is refused before the handshake. Frames over 1 MiB, binary
 * frames and malformed JSON close the connection. Each connection holds one
 * CivetWeb worker thread while open.
 */
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>

#include "auth/auth.h"
#include "db/db.h"
#include "engine/engine.h"
#include "server/server.h"
#include "core/core.h"

#define WS_FRAME_MAX (1u << 20)
#define WS_CAPS_MAX  100

struct ws_conn {
	struct app *app;
	char agent_id[UUID_STR_LEN], tenant_id[UUID_STR_LEN], name[AGENT_NAME_LEN + 1];
	int hello;
};

static int conn_send(void *conn, const char *text, size_t len)
{
	struct mg_connection *c = conn;
	mg_lock_connection(c);
	int n = mg_websocket_write(c, MG_WEBSOCKET_OPCODE_TEXT, text, len);
	mg_unlock_connection(c);
	return n > 0 ? 0 : -1;
}

static void send_json(struct mg_connection *c, cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);
	if (s)
		conn_send(c, s, strlen(s));
	free(s);
	cJSON_Delete(j);
}

static void send_error(struct mg_connection *c, const char *msg)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "type", "error");
	cJSON_AddStringToObject(j, "message", msg);
	send_json(c, j);
}

static const char *token_of(const struct mg_connection *c)
{
	const char *h = mg_get_header(c, "Authorization");
	if (h && !strncasecmp(h, "Bearer ", 7))
		return h + 7;
	return NULL;
}

static int on_connect(const struct mg_connection *conn, void *cbdata)
{
	struct app *app = cbdata;
	char hash[65], qtoken[256];
	const char *token = token_of(conn);
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct agent_row a;
	struct db *db = NULL;
	struct err e;
	if (!token && ri->query_string &&
	    mg_get_var(ri->query_string, strlen(ri->query_string), "token", qtoken,
		       sizeof(qtoken)) > 0)
		token = qtoken;
	if (!token || strlen(token) > 200 || app->draining)
		return 1;
	token_hash(token, hash);
	struct ws_conn *w = xcalloc(1, sizeof(*w));
	w->app = app;
	int rc = db_acquire(app->pool, 2000, &db, &e);
	if (!rc)
		rc = store_agent_by_connect_token(db, hash, w->tenant_id, &a, &e);
	db_release(db);
	if (rc) {
		log_kv(LOG_INFO, "ws", "agent connection refused", "reason",
		       rc == ERR_NOT_FOUND ? "unknown token" : e.msg, NULL);
		free(w);
		return 1;
	}
	str_copy(w->agent_id, sizeof(w->agent_id), a.id);
	str_copy(w->name, sizeof(w->name), a.name);
	int disabled = !strcmp(a.status, "disabled");
	store_agent_release(&a);
	if (disabled) {
		free(w);
		return 1;
	}
	mg_set_user_connection_data((struct mg_connection *)conn, w);
	return 0;
}

static void on_ready(struct mg_connection *conn, void *cbdata)
{
	(void)cbdata;
	struct ws_conn *w = mg_get_user_connection_data(conn);
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "type", "welcome");
	cJSON_AddStringToObject(j, "agent_id", w->agent_id);
	cJSON_AddStringToObject(j, "name", w->name);
	cJSON_AddNumberToObject(j, "heartbeat_ms", WS_HEARTBEAT_MS);
	send_json(conn, j);
	engine_ws_attach(w->app->engine, w->agent_id, conn, conn_send);
	log_kv(LOG_INFO, "ws", "agent connected", "agent", w->agent_id, NULL);
}

/* hello: the capabilities the agent announces replace the stored ones. */
static int on_hello(struct mg_connection *conn, struct ws_conn *w, const cJSON *msg)
{
	const cJSON *caps = cJSON_GetObjectItemCaseSensitive(msg, "capabilities"), *c;
	struct db *db = NULL;
	struct err e;
	w->hello = 1;
	if (!caps)
		return 1;
	if (!cJSON_IsArray(caps) || cJSON_GetArraySize(caps) > WS_CAPS_MAX) {
		send_error(conn, "hello: capabilities must be a list of at most 100 names");
		return 0;
	}
	cJSON_ArrayForEach(c, caps) {
		if (!cJSON_IsString(c) || !c->valuestring[0] || strlen(c->valuestring) > 64) {
			send_error(conn, "hello: each capability is a name of 1 to 64 characters");
			return 0;
		}
	}
	char *text = cJSON_PrintUnformatted(caps);
	if (db_acquire(w->app->pool, 2000, &db, &e) == 0)
		store_agent_set_capabilities(db, w->tenant_id, w->agent_id, text, &e);
	db_release(db);
	free(text);
	return 1;
}

static int on_data(struct mg_connection *conn, int bits, char *data, size_t len, void *cbdata)
{
	(void)cbdata;
	struct ws_conn *w = mg_get_user_connection_data(conn);
	int opcode = bits & 0x0f;
	struct err e;
	if (opcode == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE)
		return 0;
	if (opcode == MG_WEBSOCKET_OPCODE_PING || opcode == MG_WEBSOCKET_OPCODE_PONG)
		return 1;
	if (opcode != MG_WEBSOCKET_OPCODE_TEXT || len > WS_FRAME_MAX) {
		send_error(conn, "frames are JSON text of at most 1 MiB");
		return 0;
	}
	cJSON *msg = json_parse(data, len, 64, &e);
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(msg, "type");
	int keep = 1;
	if (!cJSON_IsObject(msg) || !cJSON_IsString(type)) {
		send_error(conn, "a frame is a JSON object with a \"type\"");
		keep = 0;
	} else if (!strcmp(type->valuestring, "hello")) {
		keep = on_hello(conn, w, msg);
		engine_ws_heartbeat(w->app->engine, w->agent_id);
	} else if (!strcmp(type->valuestring, "heartbeat")) {
		engine_ws_heartbeat(w->app->engine, w->agent_id);
	} else if (!strcmp(type->valuestring, "result")) {
		engine_ws_heartbeat(w->app->engine, w->agent_id);
		if (engine_ws_result(w->app->engine, w->agent_id, msg) < 0)
			send_error(conn, "result: no such task is waiting (late, cancelled or unknown)");
	} else {
		send_error(conn, "unknown frame type (hello, heartbeat or result)");
	}
	cJSON_Delete(msg);
	return keep;
}

static void on_close(const struct mg_connection *conn, void *cbdata)
{
	(void)cbdata;
	struct ws_conn *w = mg_get_user_connection_data(conn);
	if (!w)
		return;
	engine_ws_detach(w->app->engine, w->agent_id, (void *)conn);
	log_kv(LOG_INFO, "ws", "agent disconnected", "agent", w->agent_id, NULL);
	mg_set_user_connection_data((struct mg_connection *)conn, NULL);
	free(w);
}

void ws_agents_start(struct app *app)
{
	mg_set_websocket_handler(app->mg, "/api/v1/agents/connect", on_connect, on_ready, on_data,
				 on_close, app);
}
