/*
 * Outbound request safety: every refused range (first, middle, last
 * address), public addresses, IPv4 hidden in IPv6, the admin allow list,
 * URL checks on curl's normalized form, and the hardened transfer against
 * a loopback listener the allow list admits. No DNS or outside network.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/engine.h"
#include "core/core.h"
#include "tests/unit/test.h"

/* 1 if the policy allows the textual IPv4 or IPv6 address. */
static int allowed(const struct outbound_policy *p, const char *text)
{
	struct sockaddr_in v4 = { 0 };
	struct sockaddr_in6 v6 = { 0 };
	if (inet_pton(AF_INET, text, &v4.sin_addr) == 1) {
		v4.sin_family = AF_INET;
		return outbound_addr_allowed(p, (struct sockaddr *)&v4);
	}
	if (inet_pton(AF_INET6, text, &v6.sin6_addr) == 1) {
		v6.sin6_family = AF_INET6;
		return outbound_addr_allowed(p, (struct sockaddr *)&v6);
	}
	fprintf(stderr, "bad test address %s\n", text);
	return -1;
}

static const char *const refused[] = {
	"0.0.0.0", "0.1.2.3", "0.255.255.255",
	"10.0.0.0", "10.20.30.40", "10.255.255.255",
	"100.64.0.0", "100.100.1.1", "100.127.255.255",
	"127.0.0.0", "127.0.0.1", "127.255.255.255",
	"169.254.0.0", "169.254.169.254", "169.254.255.255",
	"172.16.0.0", "172.20.1.1", "172.31.255.255",
	"192.0.0.0", "192.0.0.170", "192.0.0.255",
	"192.168.0.0", "192.168.1.1", "192.168.255.255",
	"198.18.0.0", "198.19.0.1", "198.19.255.255",
	"224.0.0.0", "230.1.2.3", "239.255.255.255",
	"240.0.0.0", "250.1.2.3", "255.255.255.254",
	"255.255.255.255",
	"::", "::1",
	"fe80::", "fe80::1234", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	"fc00::", "fd12:3456::1", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	"ff00::", "ff02::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	"fd00:ec2::254",
	/* IPv4 hidden in IPv6 */
	"::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.0.0.1", "::ffff:0.0.0.0",
	"64:ff9b::127.0.0.1", "64:ff9b::a9fe:a9fe", "64:ff9b::192.168.0.1",
	"2002:7f00:0001::", "2002:a9fe:a9fe::1", "2002:0a00:0001:1234::5",
	"::127.0.0.1", "64:ff9b:1::1",
};

static const char *const public_addrs[] = {
	"8.8.8.8", "1.1.1.1", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0",
	"126.255.255.255", "128.0.0.0", "169.253.255.255", "169.255.0.0", "172.15.255.255",
	"172.32.0.0", "192.0.1.0", "192.167.255.255", "192.169.0.0", "198.17.255.255",
	"198.20.0.0", "223.255.255.255",
	"2606:4700:4700::1111", "2001:4860:4860::8888", "fec0::1", "fe7f::1",
	"::ffff:8.8.8.8", "64:ff9b::8.8.8.8", "2002:0808:0808::1",
};

TEST(refused_ranges)
{
	struct outbound_policy p;
	struct err e;
	CHECK_INT(outbound_policy_init(&p, "", &e), 0);
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
		if (allowed(&p, refused[i]) != 0)
			fprintf(stderr, "  %s should be refused\n", refused[i]);
		CHECK_INT(allowed(&p, refused[i]), 0);
	}
}

TEST(public_allowed)
{
	struct outbound_policy p;
	struct err e;
	CHECK_INT(outbound_policy_init(&p, NULL, &e), 0);
	for (size_t i = 0; i < ARRAY_SIZE(public_addrs); i++) {
		if (allowed(&p, public_addrs[i]) != 1)
			fprintf(stderr, "  %s should be allowed\n", public_addrs[i]);
		CHECK_INT(allowed(&p, public_addrs[i]), 1);
	}
}

TEST(non_ip_refused)
{
	struct outbound_policy p;
	struct err e;
	struct sockaddr sa = { .sa_family = AF_UNIX };
	CHECK_INT(outbound_policy_init(&p, "", &e), 0);
	CHECK_INT(outbound_addr_allowed(&p, &sa), 0);
	CHECK_INT(outbound_addr_allowed(&p, NULL), 0);
}

TEST(allow_list)
{
	struct outbound_policy p;
	struct err e;
	CHECK_INT(outbound_policy_init(&p, "127.0.0.1/32", &e), 0);
	CHECK_INT(allowed(&p, "127.0.0.1"), 1);
	CHECK_INT(allowed(&p, "127.0.0.2"), 0);
	CHECK_INT(allowed(&p, "::ffff:127.0.0.1"), 1); /* the same IPv4 address */
	CHECK_INT(allowed(&p, "::ffff:127.0.0.2"), 0);
	CHECK_INT(allowed(&p, "64:ff9b::127.0.0.1"), 0); /* via a gateway: not the same */
	CHECK_INT(allowed(&p, "::1"), 0);
	CHECK_INT(allowed(&p, "169.254.169.254"), 0);

	CHECK_INT(outbound_policy_init(&p, "10.1.0.0/16, fd00::/8", &e), 0);
	CHECK_INT(p.n_allow, 2);
	CHECK_INT(allowed(&p, "10.1.200.3"), 1);
	CHECK_INT(allowed(&p, "10.2.0.1"), 0);
	CHECK_INT(allowed(&p, "fd00:ec2::254"), 1);
	CHECK_INT(allowed(&p, "fc00::1"), 0);
}

TEST(allow_list_invalid)
{
	struct outbound_policy p;
	struct err e;
	struct buf many = BUF_INIT;
	CHECK_INT(outbound_policy_init(&p, "127.0.0.1/33", &e), ERR_INVALID);
	CHECK_STR(e.field, "agent_allow");
	CHECK_INT(outbound_policy_init(&p, "not-a-range", &e), ERR_INVALID);
	for (int i = 0; i <= OUTBOUND_ALLOW_MAX; i++)
		buf_addf(&many, "%s10.0.%d.0/24", i ? "," : "", i);
	CHECK_INT(outbound_policy_init(&p, many.p, &e), ERR_INVALID);
	CHECK(strstr(e.msg, "at most") != NULL);
	CHECK_INT(p.n_allow, 0);
	buf_release(&many);
}

/* outbound_url_check's return code; its error slug and target into *e and *t. */
static int url(const struct outbound_policy *p, const char *u, struct outbound_target *t,
	       struct err *e)
{
	err_clear(e);
	int rc = outbound_url_check(p, u, t, e);
	outbound_target_release(t);
	return rc;
}

TEST(url_refused_parts)
{
	static const struct {
		const char *url, *part;
	} bad[] = {
		{ "ftp://8.8.8.8/", "scheme" },
		{ "file:///etc/passwd", "scheme" },
		{ "gopher://8.8.8.8/", "scheme" },
		{ "nosuch://8.8.8.8/", "scheme" },
		{ "8.8.8.8/path", "scheme" },
		{ "http://user:pw@8.8.8.8/", "userinfo" },
		{ "http://user@8.8.8.8/", "userinfo" },
		{ "http://@8.8.8.8/", "userinfo" },
		{ "http://", "host" },
		{ "http://8.8.8.8:0/", "port" },
		{ "http://8.8.8.8:70000/", "port" },
		{ "", "syntax" },
	};
	struct outbound_policy p;
	struct outbound_target t;
	struct err e;
	outbound_policy_init(&p, "", &e);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char want[64];
		snprintf(want, sizeof(want), "invalid URL %s", bad[i].part);
		CHECK_INT(url(&p, bad[i].url, &t, &e), ERR_INVALID);
		CHECK_STR(err_slug(&e), "invalid_url");
		if (strncmp(e.msg, want, strlen(want)))
			fprintf(stderr, "  %s: %s\n", bad[i].url, e.msg);
		CHECK(strncmp(e.msg, want, strlen(want)) == 0);
	}
}

TEST(url_too_long)
{
	struct outbound_policy p;
	struct outbound_target t;
	struct err e;
	struct buf u = BUF_INIT;
	outbound_policy_init(&p, "", &e);
	buf_adds(&u, "http://8.8.8.8/");
	while (u.len < OUTBOUND_URL_MAX)
		buf_addch(&u, 'a');
	CHECK_INT(url(&p, u.p, &t, &e), 0); /* exactly 2048 bytes */
	buf_addch(&u, 'a');
	CHECK_INT(url(&p, u.p, &t, &e), ERR_INVALID);
	CHECK(strstr(e.msg, "length") != NULL);
	/* curl refuses raw spaces rather than encoding them (the URL would grow) */
	CHECK_INT(url(&p, "http://8.8.8.8/a b", &t, &e), ERR_INVALID);
	CHECK_STR(err_slug(&e), "invalid_url");
	buf_release(&u);
}

TEST(url_refused_addresses)
{
	static const char *const bad[] = {
		"http://[::1]/",
		"http://0x7f.1/",
		"http://2130706433/",
		"http://127.1/",
		"http://0177.0.0.1:8080/x",
		"http://%31%32%37.0.0.1/",
		"http://169.254.169.254/latest/meta-data/",
		"https://[::ffff:127.0.0.1]/",
		"http://[::ffff:a9fe:a9fe]/",
		"http://[64:ff9b::7f00:1]/",
		"http://[2002:7f00:1::]/",
		"http://[fe80::1%25lo]/",
		"http://[fd00:ec2::254]/",
		"http://0/",
		"http://localhost/",
		"http://localhost:9000/",
	};
	struct outbound_policy p;
	struct outbound_target t;
	struct err e;
	outbound_policy_init(&p, "", &e);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int rc = url(&p, bad[i], &t, &e);
		if (rc != ERR_FORBIDDEN)
			fprintf(stderr, "  %s: %d %s\n", bad[i], rc, e.msg);
		CHECK_INT(rc, ERR_FORBIDDEN);
		CHECK_STR(err_slug(&e), "address_not_allowed");
		CHECK(strstr(e.msg, "--agent-allow") != NULL);
	}
	CHECK_INT(url(&p, "http://0x7f.1/", &t, &e), ERR_FORBIDDEN);
	CHECK(strstr(e.msg, "127.0.0.1 (loopback)") != NULL);
}

TEST(url_public_literals)
{
	struct outbound_policy p;
	struct outbound_target t;
	struct err e;
	outbound_policy_init(&p, "", &e);
	CHECK_INT(outbound_url_check(&p, "HTTPS://8.8.8.8/a?b=c", &t, &e), 0);
	CHECK_STR(t.url, "https://8.8.8.8/a?b=c");
	CHECK_STR(t.host, "8.8.8.8");
	CHECK_INT(t.port, 443);
	CHECK_STR(t.resolve, "8.8.8.8:443:8.8.8.8");
	CHECK(t.resolve_list == NULL); /* literal: nothing to pin */
	outbound_target_release(&t);
	CHECK_INT(outbound_url_check(&p, "http://[2606:4700:4700::1111]:8080/", &t, &e), 0);
	CHECK_STR(t.host, "2606:4700:4700::1111");
	CHECK_INT(t.port, 8080);
	outbound_target_release(&t);
	CHECK_INT(outbound_url_check(&p, "http://16843009/", &t, &e), 0); /* 1.1.1.1 */
	CHECK_STR(t.host, "1.1.1.1");
	outbound_target_release(&t);
}

TEST(url_allowed_localhost)
{
	struct outbound_policy p;
	struct outbound_target t;
	struct err e;
	CHECK_INT(outbound_policy_init(&p, "127.0.0.1/32", &e), 0);
	CHECK_INT(url(&p, "http://127.0.0.1:8080/", &t, &e), 0);
	CHECK_INT(url(&p, "http://127.0.0.2:8080/", &t, &e), ERR_FORBIDDEN);
	CHECK(strstr(e.msg, "127.0.0.2") != NULL);
	/* localhost also resolves to ::1 on most hosts; then it must be refused */
	CHECK_INT(outbound_policy_init(&p, "127.0.0.1/32,::1/128", &e), 0);
	CHECK_INT(outbound_url_check(&p, "http://localhost:8080/v1", &t, &e), 0);
	CHECK_STR(t.host, "localhost");
	CHECK(str_has_prefix(t.resolve, "localhost:8080:"));
	CHECK(strstr(t.resolve, "127.0.0.1") != NULL);
	CHECK(t.resolve_list != NULL);
	outbound_target_release(&t);
	CHECK(t.resolve_list == NULL);
}

/* A one-shot loopback HTTP server: answers one connection with reply. */
struct one_shot {
	int fd, port;
	const char *reply; /* NULL: read the request and stay silent until closed */
	pthread_t thread;
};

static void *one_shot_run(void *arg)
{
	struct one_shot *s = arg;
	char req[4096];
	int c = accept(s->fd, NULL, NULL);
	if (c < 0)
		return NULL;
	ssize_t n = read(c, req, sizeof(req));
	(void)n;
	if (s->reply) {
		n = write(c, s->reply, strlen(s->reply));
		(void)n;
	} else {
		while (read(c, req, sizeof(req)) > 0)
			;
	}
	close(c);
	return NULL;
}

static int one_shot_start(struct one_shot *s, const char *reply)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->reply = reply;
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof(a)) || listen(s->fd, 1) ||
	    getsockname(s->fd, (struct sockaddr *)&a, &len))
		return -1;
	s->port = ntohs(a.sin_port);
	return pthread_create(&s->thread, NULL, one_shot_run, s);
}

static void one_shot_stop(struct one_shot *s)
{
	shutdown(s->fd, SHUT_RDWR);
	pthread_join(s->thread, NULL);
	close(s->fd);
}

/* Fetch from a one-shot server through check -> harden -> perform -> result. */
static int fetch(const struct outbound_policy *check, const struct outbound_policy *connect,
		 const char *reply, size_t max, long timeout_ms, struct outbound_body *body,
		 struct err *e)
{
	struct one_shot s;
	struct outbound_target t;
	char u[64];
	int rc;
	CURL *h;
	if (one_shot_start(&s, reply))
		return 1;
	h = curl_easy_init();
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/x", s.port);
	rc = outbound_url_check(check, u, &t, e);
	if (!rc) {
		t.policy = connect; /* as if the address changed between check and connect */
		outbound_curl_harden(h, &t, timeout_ms, max);
		outbound_body_init(body, max);
		outbound_body_attach(h, body);
		rc = outbound_curl_result(curl_easy_perform(h), body, timeout_ms, e);
	}
	outbound_target_release(&t);
	curl_easy_cleanup(h);
	one_shot_stop(&s); /* shutdown() also wakes an accept() nobody reached */
	return rc;
}

TEST(transfer_hardened)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
	static const char redirect[] = "HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/\r\n"
				       "Content-Length: 0\r\n\r\n";
	static const char big[] = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
				  "0123456789012345678901234567890123456789";
	static const char big_cl[] = "HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n"
				     "0123456789012345678901234567890123456789";
	struct outbound_policy p, none;
	struct outbound_body b;
	struct err e;
	CHECK_INT(outbound_policy_init(&p, "127.0.0.1/32", &e), 0);
	CHECK_INT(outbound_policy_init(&none, "", &e), 0);

	CHECK_INT(fetch(&p, &p, ok, 1024, 5000, &b, &e), 0);
	CHECK_STR(b.data.p, "hello");
	outbound_body_release(&b);
	CHECK_INT(fetch(&p, &p, redirect, 1024, 5000, &b, &e), 0); /* returned, not followed */
	CHECK_INT(b.data.len, 0);
	outbound_body_release(&b);
	CHECK_INT(fetch(&p, &p, big, 16, 5000, &b, &e), ERR_TOO_LARGE);
	CHECK(strstr(e.msg, "response too large") != NULL);
	CHECK(b.data.len <= 16);
	outbound_body_release(&b);
	CHECK_INT(fetch(&p, &p, big_cl, 16, 5000, &b, &e), ERR_TOO_LARGE);
	outbound_body_release(&b);
	CHECK_INT(fetch(&p, &p, NULL, 1024, 300, &b, &e), ERR_TIMEOUT);
	outbound_body_release(&b);
	CHECK_INT(fetch(&p, &none, ok, 1024, 5000, &b, &e), ERR_UNAVAILABLE); /* connect re-check */
	outbound_body_release(&b);
}

TEST_MAIN(TEST_ENTRY(refused_ranges), TEST_ENTRY(public_allowed), TEST_ENTRY(non_ip_refused),
	  TEST_ENTRY(allow_list), TEST_ENTRY(allow_list_invalid), TEST_ENTRY(url_refused_parts),
	  TEST_ENTRY(url_too_long), TEST_ENTRY(url_refused_addresses),
	  TEST_ENTRY(url_public_literals), TEST_ENTRY(url_allowed_localhost),
	  TEST_ENTRY(transfer_hardened))
