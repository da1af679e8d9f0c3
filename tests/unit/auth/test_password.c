/* Password policy and argon2id hashing. */
#include <string.h>

#include <sodium.h>

#include "auth/auth.h"
#include "core/core.h"
#include "tests/unit/test.h"

static int policy(const char *pw)
{
	struct err e;
	return password_check_policy(pw, &e);
}

TEST(length_counts_characters_not_bytes)
{
	CHECK(policy("short") < 0);
	CHECK(policy("elevenchars") < 0);
	CHECK_INT(policy("twelve chars"), 0);
	/* 11 characters of 2 bytes each: 22 bytes, still too short */
	CHECK(policy("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		     "\xc3\xa9\xc3\xa9") < 0);
	CHECK_INT(policy("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe5\x90\x88\xe8\xa8"
			 "\x80\xe8\x91\x89\xe3\x81\xa7\xe3\x81\x99\xe3\x80\x82\xe9\x95\xb7\xe3\x81"
			 "\x84"), 0);
	CHECK(policy("\xff\xfe invalid utf8 bytes") < 0);
	char max[PASSWORD_MAX_LEN + 2];
	for (size_t i = 0; i < sizeof(max); i++)
		max[i] = (char)('a' + (i * 7) % 26);
	max[PASSWORD_MAX_LEN] = '\0';
	CHECK_INT(policy(max), 0);
	max[PASSWORD_MAX_LEN] = 'q'; /* one byte over: refused, never truncated */
	max[PASSWORD_MAX_LEN + 1] = '\0';
	CHECK(policy(max) < 0);
}

TEST(common_passwords_are_refused)
{
	static const char *const common[] = { "password1234", "Password1234!", "PASSWORD12345",
					      "qwertyuiop123", "aaaaaaaaaaaaaaaa", "123456789012",
					      "iloveyou12345" };
	for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++) {
		if (policy(common[i]) == 0)
			fprintf(stderr, "accepted common password %s\n", common[i]);
		CHECK(policy(common[i]) < 0);
	}
	CHECK_INT(policy("violet lantern orbit 42"), 0);
}

TEST(hash_is_argon2id_at_owasp_floor_and_verifies)
{
	char hash[PASSWORD_HASH_MAX];
	struct err e;
	CHECK_INT(password_hash("correct horse battery", hash, &e), 0);
	CHECK(strncmp(hash, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0);
	CHECK(password_verify(hash, "correct horse battery"));
	CHECK(!password_verify(hash, "correct horse batterY"));
	CHECK(!password_verify(hash, ""));
	CHECK(!password_verify("", "x"));
	CHECK(!password_verify(NULL, "x"));
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	static const struct test_case cases[] = {
		TEST_ENTRY(length_counts_characters_not_bytes),
		TEST_ENTRY(common_passwords_are_refused),
		TEST_ENTRY(hash_is_argon2id_at_owasp_floor_and_verifies),
	};
	return test_run_all(cases, sizeof(cases) / sizeof(cases[0]));
}
