/*
 * CSRF for forms: a double-submit token. The browser gets a random token in
 * an HttpOnly, SameSite=Strict cookie (`__Host-` prefixed and Secure under
 * TLS) and the same token in a hidden form field; a POST is accepted only
 * when both are present and equal (constant-time). A cross-site attacker can
 * neither read the cookie nor set it for our origin, so cannot forge the pair.
 */
#include <string.h>

#include <civetweb.h>

#include "web/web.h"
#include "server/server.h"
#include "core/core.h"

#define CSRF_BYTES 32
#define CSRF_LEN 44 /* 43 base64url chars + NUL */

static int is_tls(struct req *r)
{
	return mg_get_request_info(r->conn)->is_ssl;
}

static const char *cookie_name(struct req *r)
{
	return is_tls(r) ? "__Host-parallax_csrf" : "parallax_csrf";
}

/* The cookie's token, or NULL when absent or malformed. */
static const char *csrf_cookie(struct req *r)
{
	const char *header = req_header(r, "Cookie");
	char *val = arena_alloc(r->arena, CSRF_LEN + 1);
	if (!header || mg_get_cookie(header, cookie_name(r), val, CSRF_LEN + 1) != CSRF_LEN - 1)
		return NULL;
	return val;
}

const char *web_csrf_token(struct req *r)
{
	const char *tok = csrf_cookie(r);
	if (tok)
		return tok;
	char *fresh = arena_alloc(r->arena, CSRF_LEN);
	random_token(fresh, CSRF_LEN, CSRF_BYTES);
	char *cookie = arena_printf(r->arena, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s",
				    cookie_name(r), fresh, is_tls(r) ? "; Secure" : "");
	req_add_header(r, "Set-Cookie", cookie);
	return fresh;
}

int web_csrf_check(struct req *r)
{
	const char *cookie = csrf_cookie(r), *field = req_form(r, "csrf");
	if (!field)
		field = req_header(r, "X-CSRF-Token");
	if (!web_same_origin(r))
		return req_fail(r, ERR_FORBIDDEN, "bad_origin", NULL,
				"cross-origin form post refused");
	if (!cookie || !field || strlen(field) != CSRF_LEN - 1 ||
	    !ct_equal(cookie, field, CSRF_LEN - 1))
		return req_fail(r, ERR_FORBIDDEN, "csrf_failed", "csrf",
				"the form expired or was not sent from this site; reload and retry");
	return 0;
}
