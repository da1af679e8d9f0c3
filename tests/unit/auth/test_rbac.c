/* The permission matrix against SPEC.md's role ladder. */
#include <string.h>

#include "auth/auth.h"
#include "core/core.h"
#include "tests/unit/test.h"

TEST(roles_are_a_ladder)
{
	/* Whatever a role may do, every higher role may do too. */
	for (int res = 1; res < RES__COUNT; res++)
		for (int act = 1; act < ACT__COUNT; act++)
			for (int role = ROLE_VIEWER; role < ROLE_OWNER; role++)
				if (rbac_allows(role, res, act))
					CHECK(rbac_allows(role + 1, res, act));
}

TEST(spec_statements_hold)
{
	static const int ws[] = { RES_AGENT, RES_PATTERN, RES_EXECUTION, RES_EXPERIMENT };
	for (size_t i = 0; i < sizeof(ws) / sizeof(ws[0]); i++) {
		CHECK(rbac_allows(ROLE_VIEWER, ws[i], ACT_READ));     /* viewers read everything */
		CHECK(!rbac_allows(ROLE_VIEWER, ws[i], ACT_CREATE));
		CHECK(!rbac_allows(ROLE_VIEWER, ws[i], ACT_RUN));
		CHECK(rbac_workspace_scoped(ws[i]));
	}
	CHECK(rbac_allows(ROLE_OPERATOR, RES_EXECUTION, ACT_CREATE)); /* operators run */
	CHECK(rbac_allows(ROLE_OPERATOR, RES_EXECUTION, ACT_RUN));
	CHECK(rbac_allows(ROLE_OPERATOR, RES_EXECUTION, ACT_APPROVE));
	CHECK(!rbac_allows(ROLE_OPERATOR, RES_PATTERN, ACT_CREATE));
	CHECK(rbac_allows(ROLE_DEVELOPER, RES_PATTERN, ACT_UPDATE)); /* developers edit */
	CHECK(rbac_allows(ROLE_DEVELOPER, RES_AGENT, ACT_CREATE));
	CHECK(rbac_allows(ROLE_DEVELOPER, RES_EXPERIMENT, ACT_DELETE));
	CHECK(!rbac_allows(ROLE_DEVELOPER, RES_MEMBER, ACT_UPDATE));
	CHECK(!rbac_allows(ROLE_DEVELOPER, RES_API_KEY, ACT_CREATE));
	CHECK(rbac_allows(ROLE_ADMIN, RES_MEMBER, ACT_UPDATE)); /* admins manage */
	CHECK(rbac_allows(ROLE_ADMIN, RES_API_KEY, ACT_CREATE));
	CHECK(rbac_allows(ROLE_ADMIN, RES_AUDIT, ACT_READ));
	CHECK(rbac_allows(ROLE_ADMIN, RES_SSO, ACT_UPDATE));
	CHECK(rbac_allows(ROLE_ADMIN, RES_QUOTA, ACT_UPDATE));
	CHECK(!rbac_allows(ROLE_ADMIN, RES_TENANT, ACT_DELETE));
	CHECK(rbac_allows(ROLE_OWNER, RES_TENANT, ACT_DELETE)); /* only owners delete */
	CHECK(!rbac_allows(ROLE_VIEWER, RES_AUDIT, ACT_READ));
}

TEST(nobody_without_a_role_or_out_of_range)
{
	for (int res = 1; res < RES__COUNT; res++)
		for (int act = 1; act < ACT__COUNT; act++)
			CHECK(!rbac_allows(ROLE_NONE, res, act));
	CHECK(!rbac_allows(ROLE_OWNER, RES_NONE, ACT_READ));
	CHECK(!rbac_allows(ROLE_OWNER, RES__COUNT, ACT_READ));
	CHECK(!rbac_allows(ROLE_OWNER, RES_PATTERN, ACT__COUNT));
	CHECK(!rbac_allows(ROLE_OWNER, -1, -1));
}

TEST(role_names_round_trip)
{
	for (int r = ROLE_VIEWER; r <= ROLE_OWNER; r++)
		CHECK_INT(role_parse(role_name(r)), r);
	CHECK_INT(role_parse("superuser"), ROLE_NONE);
	CHECK_INT(role_parse(NULL), ROLE_NONE);
	CHECK_INT(role_parse("Owner"), ROLE_NONE);
	CHECK_STR(role_name(99), "");
}

TEST_MAIN(TEST_ENTRY(roles_are_a_ladder), TEST_ENTRY(spec_statements_hold),
	  TEST_ENTRY(nobody_without_a_role_or_out_of_range), TEST_ENTRY(role_names_round_trip))
