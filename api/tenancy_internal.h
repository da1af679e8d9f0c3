/*
 * Helpers shared by the tenancy handlers (tenants.c, members.c,
 * invitations.c, workspaces.c, quotas.c) and nothing else: body fields,
 * roles, pages, write transactions and audit entries in another tenant.
 */
#ifndef API_TENANCY_INTERNAL_H
#define API_TENANCY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/util.h"

struct req;
struct db;

#define TENANCY_PAGE_DEFAULT 50

/* A text field of r->json: no control characters, 1..max bytes. Returns 0
 * (set), 1 (absent, optional) or <0 with r->err filled. */
int tenancy_json_text(struct req *r, const char *key, int flags, size_t max, const char **out);
/* An email field, validated and lower-cased into the arena. */
int tenancy_json_email(struct req *r, const char *key, const char **out);
/* A role field ("viewer" .. "owner") as auth/'s enum role; 1 when absent. */
int tenancy_json_role(struct req *r, const char *key, int flags, int *role);
/* 403 role_too_high unless role <= the caller's tenant role. */
int tenancy_role_cap(struct req *r, int role, const char *field);

/* ?limit= and ?cursor=: *limit in 1..TENANCY_LIST_MAX; *after is the id to
 * continue after (an arena string) or NULL. */
int tenancy_page_params(struct req *r, int *limit, const char **after);
/* {items, next_cursor}: next_cursor names last_id when more is set, else null. */
int tenancy_page_render(struct req *r, cJSON *items, int more, int64_t last_ms,
			const char *last_id);

/* A write transaction on the request's connection. */
int tenancy_begin(struct req *r, struct db **db);
/* Commit when rc is 0, else roll back; returns the final code with r->err set. */
int tenancy_finish(struct req *r, struct db *db, int rc);

/* An audit entry in tenant_id by user_id (label: their email), for requests
 * whose credential is not in that tenant (accepting an invitation). details
 * is freed here. */
int tenancy_audit_in(struct req *r, const char *tenant_id, const char *user_id,
		     const char *label, const char *action, const char *resource_type,
		     const char *resource_id, cJSON *details);

/* The shapes shared by several handlers. */
struct tenant_info;
cJSON *tenancy_tenant_json(const struct tenant_info *t);

#endif
