/*
 * ws agents: processes behind NAT that connect to /api/v1/agents/connect
 * and pull work. The server hands each connection over (engine_ws_attach);
 * a call sends {type:"task", task_id, execution_id, node_id, task, data,
 * deadline_ms} on it and waits, on its loop, for the matching
 * {type:"result"} — or a timeout, which sends {type:"cancel", task_id}.
 * Tasks are looked up by id under ws_mu, never through a stale pointer:
 * a result is posted to the call's loop, which finds the task again there.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/exec_internal.h"
#include "core/core.h"

static struct ws_link *link_find(struct engine *en, const char *agent_id)
{
	for (struct ws_link *l = en->ws_links; l; l = l->next)
		if (!strcmp(l->agent_id, agent_id))
			return l;
	return NULL;
}

/* Unlink the task with this id (ws_mu held); NULL if gone. */
static struct ws_task *task_take(struct engine *en, const char *task_id)
{
	for (struct ws_task **pp = &en->ws_tasks; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->task_id, task_id)) {
			struct ws_task *t = *pp;
			*pp = t->next;
			return t;
		}
	return NULL;
}

static void send_cancel(struct engine *en, const char *agent_id, const char *task_id)
{
	struct ws_link *l = link_find(en, agent_id);
	char frame[128];
	if (!l)
		return;
	snprintf(frame, sizeof(frame), "{\"type\":\"cancel\",\"task_id\":\"%s\"}", task_id);
	l->send(l->conn, frame, strlen(frame));
}

static void ws_timeout(struct timer *t)
{
	struct agent_call *c = (struct agent_call *)((char *)t - offsetof(struct agent_call, timer));
	struct engine *en = loop_engine(c->loop);
	pthread_mutex_lock(&en->ws_mu);
	free(task_take(en, c->ws_task));
	send_cancel(en, c->agent_id, c->ws_task);
	pthread_mutex_unlock(&en->ws_mu);
	c->ws_task[0] = '\0';
	call_set_error(c, "agent '%s' timed out after %lld ms", c->agent->name,
		       (long long)c->timeout_ms);
	call_attempt_done(c);
}

static char *task_frame(struct agent_call *c)
{
	cJSON *f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "type", "task");
	cJSON_AddStringToObject(f, "task_id", c->ws_task);
	cJSON_AddStringToObject(f, "execution_id", c->x->run->execution_id);
	cJSON_AddStringToObject(f, "node_id", c->x->id);
	cJSON_AddStringToObject(f, "task", c->task);
	cJSON_AddItemToObject(f, "data", cJSON_Duplicate(c->data, 1));
	cJSON_AddNumberToObject(f, "deadline_ms", (double)c->timeout_ms);
	cJSON_AddNumberToObject(f, "attempt", c->attempt);
	char *s = cJSON_PrintUnformatted(f);
	cJSON_Delete(f);
	return s;
}

void agent_ws_start(struct agent_call *c)
{
	struct engine *en = loop_engine(c->loop);
	uuid_v7(c->ws_task);
	char *frame = task_frame(c);
	int sent = -1;
	pthread_mutex_lock(&en->ws_mu);
	struct ws_link *l = link_find(en, c->agent_id);
	if (l) {
		struct ws_task *t = xcalloc(1, sizeof(*t));
		str_copy(t->task_id, sizeof(t->task_id), c->ws_task);
		str_copy(t->agent_id, sizeof(t->agent_id), c->agent_id);
		t->call = c;
		t->loop = c->loop;
		t->next = en->ws_tasks;
		en->ws_tasks = t;
		sent = l->send(l->conn, frame, strlen(frame));
		if (sent < 0)
			free(task_take(en, c->ws_task));
	}
	pthread_mutex_unlock(&en->ws_mu);
	free(frame);
	if (sent < 0) {
		c->ws_task[0] = '\0';
		call_set_error(c, l ? "agent '%s': the connection was lost"
				    : "agent '%s' is not connected (ws agents connect to "
				      "/api/v1/agents/connect)",
			       c->agent->name);
		call_fail_soon(c);
		return;
	}
	c->timer.fn = ws_timeout;
	loop_timer_arm(c->loop, &c->timer, c->timeout_ms);
}

void agent_ws_cancel(struct agent_call *c)
{
	struct engine *en = loop_engine(c->loop);
	if (!c->ws_task[0])
		return;
	pthread_mutex_lock(&en->ws_mu);
	free(task_take(en, c->ws_task));
	send_cancel(en, c->agent_id, c->ws_task);
	pthread_mutex_unlock(&en->ws_mu);
	c->ws_task[0] = '\0';
}

/* ---- from the server's threads ------------------------------------------------------- */

struct ws_post {
	struct engine *en;
	char task_id[UUID_STR_LEN];
	cJSON *msg; /* NULL: the connection was lost */
};

static void result_posted(void *arg)
{
	struct ws_post *p = arg;
	struct engine *en = p->en;
	pthread_mutex_lock(&en->ws_mu);
	struct ws_task *t = task_take(en, p->task_id);
	pthread_mutex_unlock(&en->ws_mu);
	if (t) {
		struct agent_call *c = t->call;
		loop_timer_cancel(c->loop, &c->timer);
		c->ws_task[0] = '\0';
		const cJSON *er = cJSON_GetObjectItemCaseSensitive(p->msg, "error");
		if (!p->msg)
			call_set_error(c, "agent '%s': the connection was lost", c->agent->name);
		else if (cJSON_IsString(er))
			call_set_error(c, "agent '%s' reported: %.200s", c->agent->name, er->valuestring);
		else
			call_take_reply(c, p->msg);
		free(t);
		call_attempt_done(c);
	}
	cJSON_Delete(p->msg);
	free(p);
}

static void post_for(struct engine *en, struct ws_task *t, cJSON *msg)
{
	struct ws_post *p = xcalloc(1, sizeof(*p));
	p->en = en;
	str_copy(p->task_id, sizeof(p->task_id), t->task_id);
	p->msg = msg;
	loop_post(t->loop, result_posted, p);
}

int engine_ws_result(struct engine *en, const char *agent_id, const cJSON *msg)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "task_id");
	int found = 0;
	if (!cJSON_IsString(id))
		return ERR_NOT_FOUND;
	pthread_mutex_lock(&en->ws_mu);
	for (struct ws_task *t = en->ws_tasks; t; t = t->next)
		if (!strcmp(t->task_id, id->valuestring) && !strcmp(t->agent_id, agent_id)) {
			post_for(en, t, cJSON_Duplicate(msg, 1));
			found = 1;
			break;
		}
	pthread_mutex_unlock(&en->ws_mu);
	return found ? 0 : ERR_NOT_FOUND;
}

void engine_ws_attach(struct engine *en, const char *agent_id, void *conn, ws_send_fn send)
{
	pthread_mutex_lock(&en->ws_mu);
	struct ws_link *l = link_find(en, agent_id);
	if (!l) {
		l = xcalloc(1, sizeof(*l));
		str_copy(l->agent_id, sizeof(l->agent_id), agent_id);
		l->next = en->ws_links;
		en->ws_links = l;
	}
	l->conn = conn;
	l->send = send;
	l->last_seen = mono_ms();
	pthread_mutex_unlock(&en->ws_mu);
}

void engine_ws_detach(struct engine *en, const char *agent_id, void *conn)
{
	pthread_mutex_lock(&en->ws_mu);
	for (struct ws_link **pp = &en->ws_links; *pp; pp = &(*pp)->next) {
		struct ws_link *l = *pp;
		if (strcmp(l->agent_id, agent_id) || l->conn != conn)
			continue;
		*pp = l->next;
		free(l);
		for (struct ws_task *t = en->ws_tasks; t; t = t->next)
			if (!strcmp(t->agent_id, agent_id))
				post_for(en, t, NULL);
		break;
	}
	pthread_mutex_unlock(&en->ws_mu);
}

void engine_ws_heartbeat(struct engine *en, const char *agent_id)
{
	pthread_mutex_lock(&en->ws_mu);
	struct ws_link *l = link_find(en, agent_id);
	if (l)
		l->last_seen = mono_ms();
	pthread_mutex_unlock(&en->ws_mu);
}

int ws_link_state(struct engine *en, const char *agent_id, int64_t *since_ms)
{
	pthread_mutex_lock(&en->ws_mu);
	struct ws_link *l = link_find(en, agent_id);
	*since_ms = l ? mono_ms() - l->last_seen : -1;
	pthread_mutex_unlock(&en->ws_mu);
	return l != NULL;
}

void ws_links_free(struct engine *en)
{
	while (en->ws_links) {
		struct ws_link *l = en->ws_links;
		en->ws_links = l->next;
		free(l);
	}
	while (en->ws_tasks) {
		struct ws_task *t = en->ws_tasks;
		en->ws_tasks = t->next;
		free(t);
	}
}
