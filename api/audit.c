/*
 * The audit log through the API: a filtered, cursor-paginated list and a
 * CSV or JSON export, newest first, of the caller's tenant only. There is
 * no route that changes an entry: the log is append-only (and the database
 * refuses UPDATE and DELETE on it).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "db/db.h"
#include "server/server.h"
#include "core/core.h"

#define AUDIT_LIMIT_DEFAULT 100
#define AUDIT_LIMIT_MAX 500
#define AUDIT_EXPORT_MAX 100000
#define FILTER_MAX 200

struct audit_query {
	struct audit_filter f;
	char before_id[UUID_STR_LEN + 64];
	char prefix[FILTER_MAX + 1];
	char slug[64];
};

static int text_filter(struct req *r, const char *name, const char **out)
{
	const char *s = req_query(r, name);
	if (s && !*s) /* an empty form field is no filter */
		s = NULL;
	*out = s;
	if (s && strlen(s) > FILTER_MAX)
		return req_fail(r, ERR_INVALID, "invalid_field", name,
				"'%s' is longer than %d bytes", name, FILTER_MAX);
	return 0;
}

/* action: exact, or a prefix when it ends in ".*" ("auth.*"); "*" is all. */
static int action_filter(struct req *r, struct audit_query *q)
{
	const char *a;
	int rc = text_filter(r, "action", &a);
	size_t n = a ? strlen(a) : 0;
	if (rc || !a)
		return rc;
	if (!strcmp(a, "*"))
		return 0;
	if (n >= 2 && !strcmp(a + n - 2, ".*")) {
		str_copy(q->prefix, n, a); /* keeps the '.', drops the '*' */
		q->f.action_prefix = q->prefix;
	} else {
		q->f.action = a;
	}
	return 0;
}

static int audit_query_parse(struct req *r, struct audit_query *q)
{
	static const char *const outcomes[] = { "success", "failure", "denied" };
	const char *cursor = req_query(r, "cursor");
	int rc;
	memset(q, 0, sizeof(*q));
	q->f.until = INT64_MAX;
	if ((rc = api_tenant_param(r, 0, q->slug, sizeof(q->slug))) ||
	    (rc = action_filter(r, q)) || (rc = text_filter(r, "actor_id", &q->f.actor_id)) ||
	    (rc = text_filter(r, "resource_type", &q->f.resource_type)) ||
	    (rc = text_filter(r, "resource_id", &q->f.resource_id)) ||
	    (rc = text_filter(r, "outcome", &q->f.outcome)) ||
	    (rc = api_query_time(r, "since", &q->f.since)) < 0 ||
	    (rc = api_query_time(r, "until", &q->f.until)) < 0)
		return rc;
	if (q->f.outcome && strcmp(q->f.outcome, outcomes[0]) && strcmp(q->f.outcome, outcomes[1]) &&
	    strcmp(q->f.outcome, outcomes[2]))
		return req_fail(r, ERR_INVALID, "invalid_field", "outcome",
				"'outcome' must be success, failure or denied");
	if (cursor && (rc = api_cursor_decode(r, cursor, &q->f.before_ms, q->before_id,
					      sizeof(q->before_id))))
		return rc;
	q->f.before_id = cursor ? q->before_id : NULL;
	return 0;
}

static cJSON *str_or_null(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *audit_row_json(const struct audit_row *row)
{
	cJSON *j = cJSON_CreateObject(), *actor, *res, *details;
	cJSON_AddStringToObject(j, "id", row->id);
	api_add_time(j, "created_at", row->created_at);
	actor = cJSON_AddObjectToObject(j, "actor");
	cJSON_AddItemToObject(actor, "type", str_or_null(row->actor_type));
	cJSON_AddItemToObject(actor, "id", str_or_null(row->actor_id));
	cJSON_AddItemToObject(actor, "label", str_or_null(row->actor_label));
	cJSON_AddItemToObject(j, "action", str_or_null(row->action));
	res = cJSON_AddObjectToObject(j, "resource");
	cJSON_AddItemToObject(res, "type", str_or_null(row->resource_type));
	cJSON_AddItemToObject(res, "id", str_or_null(row->resource_id));
	cJSON_AddItemToObject(j, "ip", str_or_null(row->ip));
	cJSON_AddItemToObject(j, "outcome", str_or_null(row->outcome));
	cJSON_AddItemToObject(j, "request_id", str_or_null(row->request_id));
	details = row->details ? cJSON_Parse(row->details) : NULL;
	cJSON_AddItemToObject(j, "details", details ? details : cJSON_CreateObject());
	return j;
}

/* ---- list ----------------------------------------------------------------- */

struct list_ctx {
	cJSON *items;
	int64_t limit, count;
	int64_t last_ms;
	char last_id[UUID_STR_LEN + 64];
	int more;
};

static int list_row(void *ctx, const struct audit_row *row)
{
	struct list_ctx *c = ctx;
	if (c->count == c->limit) {
		c->more = 1;
		return 1;
	}
	cJSON_AddItemToArray(c->items, audit_row_json(row));
	c->count++;
	c->last_ms = row->created_at;
	str_copy(c->last_id, sizeof(c->last_id), row->id);
	return 0;
}

int api_audit_list(struct req *r)
{
	struct audit_query q;
	struct list_ctx c = { 0 };
	struct db *db;
	int rc;
	if ((rc = audit_query_parse(r, &q)) ||
	    (rc = api_query_limit(r, AUDIT_LIMIT_DEFAULT, AUDIT_LIMIT_MAX, &c.limit)) ||
	    (rc = req_db(r, &db)))
		return rc;
	q.f.limit = c.limit + 1;
	cJSON *j = cJSON_CreateObject();
	c.items = cJSON_AddArrayToObject(j, "items");
	rc = store_audit_list(db, r->auth.tenant_id, &q.f, list_row, &c, &r->err);
	if (rc < 0) {
		cJSON_Delete(j);
		return rc;
	}
	if (c.more)
		cJSON_AddStringToObject(j, "next_cursor", api_cursor_encode(r, c.last_ms, c.last_id));
	else
		cJSON_AddNullToObject(j, "next_cursor");
	return req_json(r, 200, j);
}

/* ---- export ----------------------------------------------------------------- */

struct export_ctx {
	struct buf *out;
	int64_t count;
	int json, truncated;
};

/* One RFC 4180 cell. A cell that a spreadsheet would read as a formula
 * (= + - @ tab CR first) is prefixed with a quote character. */
static void csv_cell(struct buf *b, const char *s, int last)
{
	int formula = s && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' ||
			    s[0] == '\t' || s[0] == '\r');
	int quote = formula || (s && strpbrk(s, ",\"\r\n") != NULL);
	if (quote)
		buf_addch(b, '"');
	if (formula)
		buf_addch(b, '\'');
	for (const char *p = s; p && *p; p++) {
		if (*p == '"')
			buf_addch(b, '"');
		buf_addch(b, *p);
	}
	if (quote)
		buf_addch(b, '"');
	buf_adds(b, last ? "\r\n" : ",");
}

static void csv_row(struct buf *b, const struct audit_row *row)
{
	char when[40];
	api_format_time(row->created_at, when, sizeof(when));
	const char *cells[] = { row->id,	    when,	     row->actor_type, row->actor_id,
				row->actor_label,   row->action,     row->resource_type,
				row->resource_id,   row->ip,	     row->outcome,
				row->request_id,    row->details };
	for (size_t i = 0; i < ARRAY_SIZE(cells); i++)
		csv_cell(b, cells[i], i + 1 == ARRAY_SIZE(cells));
}

static int export_row(void *ctx, const struct audit_row *row)
{
	struct export_ctx *c = ctx;
	if (c->count == AUDIT_EXPORT_MAX) {
		c->truncated = 1;
		return 1;
	}
	if (c->json) {
		cJSON *j = audit_row_json(row);
		char *s = json_print(j);
		buf_adds(c->out, c->count ? "," : "");
		buf_adds(c->out, s);
		cJSON_free(s);
		cJSON_Delete(j);
	} else {
		csv_row(c->out, row);
	}
	c->count++;
	return 0;
}

static void export_headers(struct req *r, const char *slug, const char *ext, int truncated)
{
	char when[40], disp[160];
	api_format_time(now_ms(), when, sizeof(when));
	when[10] = '\0'; /* the date */
	snprintf(disp, sizeof(disp), "attachment; filename=\"audit-%s-%s.%s\"", slug, when, ext);
	req_add_header(r, "Content-Disposition", disp);
	if (truncated)
		req_add_header(r, "X-Parallax-Truncated", "true");
}

int api_audit_export(struct req *r)
{
	struct audit_query q;
	const char *format = req_query(r, "format");
	struct export_ctx c = { .out = &r->out };
	struct db *db;
	int rc;
	if (format && strcmp(format, "csv") && strcmp(format, "json"))
		return req_fail(r, ERR_INVALID, "invalid_field", "format",
				"'format' must be csv or json");
	if ((rc = audit_query_parse(r, &q)) || (rc = req_db(r, &db)))
		return rc;
	c.json = format && !strcmp(format, "json");
	q.f.limit = AUDIT_EXPORT_MAX + 1;
	buf_reset(&r->out);
	buf_adds(&r->out, c.json ? "[" : "id,created_at,actor_type,actor_id,actor_label,action,"
					"resource_type,resource_id,ip,outcome,request_id,details\r\n");
	if ((rc = store_audit_list(db, r->auth.tenant_id, &q.f, export_row, &c, &r->err)) < 0) {
		buf_reset(&r->out);
		return rc;
	}
	if (c.json)
		buf_addch(&r->out, ']');
	export_headers(r, q.slug, c.json ? "json" : "csv", c.truncated);
	r->status = 200;
	r->content_type = c.json ? "application/json" : "text/csv; charset=utf-8";
	return 0;
}
