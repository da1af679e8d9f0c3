/* The one table from error codes to HTTP statuses and slugs. */
#include <string.h>

#include "core/core.h"
#include "tests/unit/test.h"

TEST(err_maps_every_code)
{
	static const struct {
		int code, status;
		const char *slug;
	} want[] = {
		{ ERR_INVALID, 400, "invalid_request" },  { ERR_UNAUTHORIZED, 401, "unauthorized" },
		{ ERR_FORBIDDEN, 403, "forbidden" },       { ERR_NOT_FOUND, 404, "not_found" },
		{ ERR_METHOD, 405, "method_not_allowed" }, { ERR_CONFLICT, 409, "conflict" },
		{ ERR_TOO_LARGE, 413, "payload_too_large" },
		{ ERR_MEDIA_TYPE, 415, "unsupported_media_type" },
		{ ERR_UNPROCESSABLE, 422, "unprocessable" }, { ERR_RATE_LIMITED, 429, "rate_limited" },
		{ ERR_BUSY, 503, "busy" },                 { ERR_UNAVAILABLE, 503, "unavailable" },
		{ ERR_INTERNAL, 500, "internal" },         { ERR_CONSTRAINT, 422, "constraint_violation" },
		{ -999, 500, "internal" },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CHECK_INT(err_http_status(want[i].code), want[i].status);
		CHECK_STR(err_default_slug(want[i].code), want[i].slug);
	}
}

TEST(err_set_fills_and_truncates)
{
	struct err e;
	char longf[400];
	memset(longf, 'f', sizeof(longf) - 1);
	longf[sizeof(longf) - 1] = '\0';
	CHECK_INT(err_set(&e, ERR_NOT_FOUND, "id", "no %s", "thing"), ERR_NOT_FOUND);
	CHECK_STR(e.msg, "no thing");
	CHECK_STR(e.field, "id");
	CHECK_STR(err_slug(&e), "not_found");
	err_setc(&e, ERR_RATE_LIMITED, "quota_exceeded", longf, "%s", longf);
	CHECK_STR(err_slug(&e), "quota_exceeded");
	CHECK_INT(strlen(e.field), ERR_FIELD_MAX - 1);
	CHECK_INT(strlen(e.msg), ERR_MSG_MAX - 1);
	err_clear(&e);
	CHECK_INT(e.code, 0);
	CHECK_STR(e.msg, "");
}

TEST_MAIN(TEST_ENTRY(err_maps_every_code), TEST_ENTRY(err_set_fills_and_truncates))
