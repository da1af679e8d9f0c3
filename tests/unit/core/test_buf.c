/* Buffers and arenas: growth, formatting, JSON escaping, detach, defer order. */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "tests/unit/test.h"

TEST(buf_starts_empty_never_null)
{
	struct buf b = BUF_INIT;
	CHECK(b.p != NULL);
	CHECK_STR(b.p, "");
	buf_release(&b);
	CHECK(b.p != NULL);
	CHECK_INT(b.len, 0);
}

TEST(buf_grows_and_formats)
{
	struct buf b = BUF_INIT;
	for (int i = 0; i < 1000; i++)
		buf_addf(&b, "%d,", i % 10);
	CHECK_INT(b.len, 2000);
	CHECK(b.p[b.len] == '\0');
	CHECK(!strncmp(b.p, "0,1,2,", 6));
	buf_truncate(&b, 3);
	CHECK_STR(b.p, "0,1");
	buf_reset(&b);
	CHECK_STR(b.p, "");
	buf_addf(&b, "%s-%05d", "x", 42);
	CHECK_STR(b.p, "x-00042");
	buf_release(&b);
}

TEST(buf_long_format_spills)
{
	struct buf b = BUF_INIT;
	char big[5000];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_adds(&b, "x");
	buf_addf(&b, "[%s]", big);
	CHECK_INT(b.len, 1 + 2 + 4999);
	CHECK(b.p[1] == '[' && b.p[b.len - 1] == ']');
	buf_release(&b);
}

TEST(buf_json_escape)
{
	struct buf b = BUF_INIT;
	const char in[] = "a\"b\\c\nd\x01\x7f<";
	buf_add_json_str(&b, in, sizeof(in) - 1);
	CHECK_STR(b.p, "a\\\"b\\\\c\\nd\\u0001\\u007f<");
	buf_release(&b);
}

TEST(buf_detach_hands_over)
{
	struct buf b = BUF_INIT;
	size_t len = 99;
	char *s = buf_detach(&b, &len);
	CHECK_STR(s, "");
	CHECK_INT(len, 0);
	free(s);
	buf_adds(&b, "hello");
	s = buf_detach(&b, &len);
	CHECK_STR(s, "hello");
	CHECK_INT(len, 5);
	CHECK_STR(b.p, "");
	free(s);
}

static int order[4], norder;
static void rec(void *p)
{
	order[norder++] = *(int *)p;
}

TEST(arena_allocates_and_defers_in_reverse)
{
	struct arena *a = arena_new();
	static int one = 1, two = 2;
	norder = 0;
	char *s = arena_strdup(a, "abc");
	CHECK_STR(s, "abc");
	char *big = arena_alloc(a, 100000);
	CHECK(big != NULL && big[99999] == 0);
	CHECK(((uintptr_t)arena_alloc(a, 3) & 15) == 0);
	CHECK_STR(arena_printf(a, "%d-%s", 7, "x"), "7-x");
	arena_defer(a, rec, &one);
	arena_defer(a, rec, &two);
	arena_free(a);
	CHECK_INT(norder, 2);
	CHECK_INT(order[0], 2);
	CHECK_INT(order[1], 1);
}

TEST(arena_on_caller_buffer_spills_to_heap)
{
	_Alignas(16) unsigned char mem[1024];
	static int three = 3;
	norder = 0;
	struct arena *a = arena_init_buf(mem + 1, sizeof(mem) - 1); /* misaligned on purpose */
	char *small = arena_strdup(a, "inline");
	CHECK((unsigned char *)small > mem && (unsigned char *)small < mem + sizeof(mem));
	char *big = arena_alloc(a, 4000); /* does not fit: goes to the heap */
	CHECK((unsigned char *)big < mem || (unsigned char *)big >= mem + sizeof(mem));
	memset(big, 'x', 4000);
	arena_defer(a, rec, &three);
	arena_release(a);
	CHECK_INT(norder, 1);
	CHECK_INT(order[0], 3);
}

TEST(util_random_pool_never_repeats)
{
	unsigned char a[32], b[32], big[300];
	random_bytes(a, sizeof(a));
	random_bytes(b, sizeof(b));
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	for (int i = 0; i < 20; i++) /* crosses several pool refills */
		random_bytes(big, (size_t)(7 + i * 13) % sizeof(big));
	random_bytes(big, sizeof(big));
	int zeros = 0;
	for (size_t i = 0; i < sizeof(big); i++)
		zeros += big[i] == 0;
	CHECK(zeros < 20);
}

TEST(util_uuid_v7_shape_and_order)
{
	char a[UUID_STR_LEN], b[UUID_STR_LEN];
	uuid_v7(a);
	uuid_v7(b);
	CHECK_INT(strlen(a), 36);
	CHECK(a[14] == '7');
	CHECK(strchr("89ab", a[19]) != NULL);
	CHECK(strcmp(a, b) != 0);
	CHECK(strncmp(a, b, 8) <= 0);
	/* strictly increasing, also many within one millisecond */
	for (int i = 0; i < 10000; i++) {
		uuid_v7(b);
		if (strcmp(a, b) >= 0) {
			CHECK(strcmp(a, b) < 0);
			break;
		}
		memcpy(a, b, sizeof(a));
		CHECK(b[14] == '7' && strchr("89ab", b[19]) != NULL);
	}
}

TEST(util_strings)
{
	char d[4];
	int64_t v;
	CHECK_INT(str_copy(d, sizeof(d), "abcdef"), 6);
	CHECK_STR(d, "abc");
	CHECK(str_to_i64("123", &v) == 0 && v == 123);
	CHECK(str_to_i64("-5", &v) == 0 && v == -5);
	CHECK(str_to_i64("12x", &v) != 0);
	CHECK(str_to_i64("", &v) != 0);
	CHECK(str_to_i64(" 1", &v) != 0);
	CHECK(str_to_i64("99999999999999999999", &v) != 0);
	CHECK(str_eq_nocase("HeLLo", "hello"));
	CHECK(!str_eq_nocase("hell", "hello"));
	char b64[16];
	CHECK_INT(b64url_encode((const unsigned char *)"\xfb\xff", 2, b64), 3);
	CHECK_STR(b64, "-_8");
}

TEST_MAIN(TEST_ENTRY(buf_starts_empty_never_null), TEST_ENTRY(buf_grows_and_formats),
	  TEST_ENTRY(buf_long_format_spills), TEST_ENTRY(buf_json_escape),
	  TEST_ENTRY(buf_detach_hands_over), TEST_ENTRY(arena_allocates_and_defers_in_reverse),
	  TEST_ENTRY(arena_on_caller_buffer_spills_to_heap),
	  TEST_ENTRY(util_random_pool_never_repeats), TEST_ENTRY(util_uuid_v7_shape_and_order), TEST_ENTRY(util_strings))
