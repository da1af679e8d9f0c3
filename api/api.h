/*
 * REST handlers, one file per resource. Each handler parses, authorizes,
 * acts through auth/, db/ or engine/, and renders JSON; it never writes SQL.
 */
#ifndef API_API_H
#define API_API_H

struct req;

/* setup.c */
int api_setup_create(struct req *r);

/* ---- auth.c ---- */

/* ---- tenancy: tenants.c, members.c, invitations.c, workspaces.c, quotas.c ---- */

/* ---- api_keys.c, audit.c ---- */

#endif
