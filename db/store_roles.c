/*
 * Membership roles, the one mapping between their stored names and the
 * ordered enum (db/store.h). The permission matrix over them is auth/'s.
 */
#include <string.h>

#include "db/db.h"
#include "core/core.h"

static const char *const role_names[] = { "", "viewer", "operator", "developer", "admin",
					  "owner" };

const char *role_name(int role)
{
	return role > ROLE_NONE && role <= ROLE_OWNER ? role_names[role] : "";
}

int role_parse(const char *s)
{
	for (int i = ROLE_VIEWER; s && i <= ROLE_OWNER; i++)
		if (!strcmp(s, role_names[i]))
			return i;
	return ROLE_NONE;
}
