/*
 * First-run set-up page: GET /setup?token=... shows the form (tenant name,
 * your name, email, password); POST /setup creates the first tenant and
 * owner and redirects to the login page. Once an owner exists, or with a
 * wrong token, both answer 404.
 */
#include <string.h>

#include "web/web.h"
#include "auth/auth.h"
#include "db/db.h"
#include "server/server.h"
#include "core/core.h"

static void field(cJSON *fields, const char *name, const char *label, const char *type,
		  const char *value, const char *autocomplete, const char *hint)
{
	cJSON *f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "name", name);
	cJSON_AddStringToObject(f, "label", label);
	cJSON_AddStringToObject(f, "type", type);
	cJSON_AddStringToObject(f, "autocomplete", autocomplete);
	if (value)
		cJSON_AddStringToObject(f, "value", value);
	if (hint)
		cJSON_AddStringToObject(f, "hint", hint);
	if (!strcmp(type, "password")) {
		cJSON_AddNumberToObject(f, "minlength", PASSWORD_MIN_LEN);
		cJSON_AddNumberToObject(f, "maxlength", PASSWORD_MAX_LEN);
	}
	cJSON_AddItemToArray(fields, f);
}

static int render_form(struct req *r, int status, const char *token, const struct err *error)
{
	cJSON *ctx = cJSON_CreateObject();
	cJSON_AddStringToObject(ctx, "body_class", "auth");
	cJSON_AddStringToObject(ctx, "token", token ? token : "");
	cJSON_AddStringToObject(ctx, "csrf", web_csrf_token(r));
	if (error)
		cJSON_AddStringToObject(ctx, "error", error->msg);
	cJSON *fields = cJSON_AddArrayToObject(ctx, "fields");
	field(fields, "tenant_name", "Organization name", "text", req_form(r, "tenant_name"),
	      "organization", NULL);
	field(fields, "name", "Your name", "text", req_form(r, "name"), "name", NULL);
	field(fields, "email", "Email", "email", req_form(r, "email"), "email", NULL);
	field(fields, "password", "Password", "password", NULL, "new-password",
	      "At least 12 characters. Long passphrases are best.");
	int rc = web_render(r, status, "setup", ctx);
	cJSON_Delete(ctx);
	return rc;
}

int web_setup_page(struct req *r)
{
	struct db *db;
	const char *token = req_query(r, "token");
	int rc;
	if ((rc = req_db(r, &db)) || (rc = setup_token_check(db, token, &r->err)))
		return rc;
	return render_form(r, 200, token, NULL);
}

int web_setup_submit(struct req *r)
{
	struct setup_request in = {
		req_form(r, "token"), req_form(r, "tenant_name"), req_form(r, "name"),
		req_form(r, "email"), req_form(r, "password"),
	};
	struct setup_result res;
	struct setup_created made;
	struct db *db;
	int rc;
	if ((rc = web_csrf_check(r)) || (rc = req_db(r, &db)))
		return rc;
	rc = setup_owner_create(db, &in, &res, &made, &r->err);
	if (rc == ERR_INVALID)
		return render_form(r, 400, in.token, &r->err);
	if (rc)
		return rc;
	log_kv(LOG_INFO, "setup", "owner account created", "tenant", res.tenant_id, "user",
	       res.user_id, NULL);
	return req_redirect(r, 303, "/login?setup=done");
}
