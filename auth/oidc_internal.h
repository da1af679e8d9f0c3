/*
 * Shared by auth/oidc.c (discovery, keys, ID tokens) and auth/oidc_code.c
 * (PKCE and the code exchange); nothing outside auth/ includes it.
 */
#ifndef AUTH_OIDC_INTERNAL_H
#define AUTH_OIDC_INTERNAL_H

#include "auth/auth.h"

#define OIDC_JSON_DEPTH 16

/* One exchange through o's transport, the body parsed as JSON (*json, owned
 * by the caller; NULL when the body is not JSON). A transport failure is
 * returned; the status is the caller's to judge. The body is wiped: a token
 * response carries tokens. */
int oidc_call(struct oidc *o, const struct oidc_http_req *req, long *status, cJSON **json,
	      struct err *e);

#endif
