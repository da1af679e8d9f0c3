/* CIDR parsing and membership, with malformed input. */
#include <arpa/inet.h>
#include <string.h>

#include "core/core.h"
#include "tests/unit/test.h"

static int in(const char *range, const char *ip)
{
	struct cidr c;
	unsigned char a[16];
	int fam = strchr(ip, ':') ? AF_INET6 : AF_INET;
	if (cidr_parse(range, &c) || inet_pton(fam, ip, a) != 1)
		return -1;
	return cidr_contains(&c, fam, a);
}

TEST(cidr_membership)
{
	CHECK_INT(in("127.0.0.1/32", "127.0.0.1"), 1);
	CHECK_INT(in("127.0.0.1/32", "127.0.0.2"), 0);
	CHECK_INT(in("10.0.0.0/8", "10.255.1.2"), 1);
	CHECK_INT(in("10.0.0.0/8", "11.0.0.1"), 0);
	CHECK_INT(in("169.254.0.0/16", "169.254.169.254"), 1);
	CHECK_INT(in("172.16.0.0/12", "172.31.255.255"), 1);
	CHECK_INT(in("172.16.0.0/12", "172.32.0.0"), 0);
	CHECK_INT(in("0.0.0.0/0", "8.8.8.8"), 1);
	CHECK_INT(in("::1", "::1"), 1);
	CHECK_INT(in("fe80::/10", "fe80::1"), 1);
	CHECK_INT(in("fe80::/10", "fec0::1"), 0);
	CHECK_INT(in("127.0.0.1/32", "::1"), 0);
}

TEST(cidr_rejects_garbage)
{
	struct cidr c;
	static const char *const bad[] = { "", "/", "1.2.3.4/33", "1.2.3.4/-1", "1.2.3/8",
					   "::1/129", "not-a-cidr", "1.2.3.4/8x", "1.2.3.4/" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(cidr_parse(bad[i], &c) != 0);
}

TEST(cidr_lists)
{
	struct err e;
	struct cidr out[4];
	int n = 0;
	CHECK_INT(cidr_list_parse("127.0.0.1/32, 10.0.0.0/8,::1", out, 4, &n, &e), 0);
	CHECK_INT(n, 3);
	CHECK_INT(out[1].prefix, 8);
	CHECK(cidr_list_check("127.0.0.1/32,bogus", &e) < 0);
	CHECK(strstr(e.msg, "bogus") != NULL);
	CHECK_INT(cidr_list_check("", &e), 0);
}

TEST_MAIN(TEST_ENTRY(cidr_membership), TEST_ENTRY(cidr_rejects_garbage), TEST_ENTRY(cidr_lists))
