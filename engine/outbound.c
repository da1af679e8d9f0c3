/*
 * Outbound request safety for agent calls (SPEC §4, issue 4): which
 * addresses may be reached, URL checks on curl's normalized form with every
 * DNS answer judged, and curl handles hardened so the transfer goes only to
 * the checked addresses (pinned, re-checked at connect, no redirects, no
 * proxy, bounded in time and size).
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "engine/engine.h"
#include "core/core.h"

#define V4(a, b, c, d, len) { AF_INET, { a, b, c, d }, len }

struct refused_range {
	struct cidr net;
	const char *what;
};

static const struct refused_range refused_v4[] = {
	{ V4(0, 0, 0, 0, 8), "\"this network\"" },
	{ V4(10, 0, 0, 0, 8), "private" },
	{ V4(100, 64, 0, 0, 10), "carrier-grade NAT" },
	{ V4(127, 0, 0, 0, 8), "loopback" },
	{ V4(169, 254, 0, 0, 16), "link-local / cloud metadata" },
	{ V4(172, 16, 0, 0, 12), "private" },
	{ V4(192, 0, 0, 0, 24), "IETF protocol assignments" },
	{ V4(192, 168, 0, 0, 16), "private" },
	{ V4(198, 18, 0, 0, 15), "benchmarking" },
	{ V4(224, 0, 0, 0, 4), "multicast" },
	{ V4(240, 0, 0, 0, 4), "reserved" },
	{ V4(255, 255, 255, 255, 32), "broadcast" },
};

static const struct refused_range refused_v6[] = {
	{ { AF_INET6, { 0 }, 128 }, "unspecified" },
	{ { AF_INET6, { [15] = 1 }, 128 }, "loopback" },
	{ { AF_INET6, { 0 }, 96 }, "IPv4-compatible (deprecated)" },
	{ { AF_INET6, { 0xfe, 0x80 }, 10 }, "link-local" },
	{ { AF_INET6, { 0xfd, 0x00, 0x0e, 0xc2, [14] = 0x02, [15] = 0x54 }, 128 },
	  "AWS metadata" },
	{ { AF_INET6, { 0xfc }, 7 }, "unique local (private)" },
	{ { AF_INET6, { 0xff }, 8 }, "multicast" },
	{ { AF_INET6, { 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01 }, 48 }, "local-use NAT64" },
};

/* IPv6 prefixes that carry an IPv4 address at byte offset v4_at. */
static const struct {
	struct cidr net;
	int v4_at;
	const char *what;
} embeds_v4[] = {
	{ { AF_INET6, { [10] = 0xff, [11] = 0xff }, 96 }, 12, "IPv4-mapped" },
	{ { AF_INET6, { 0x00, 0x64, 0xff, 0x9b }, 96 }, 12, "NAT64" },
	{ { AF_INET6, { 0x20, 0x02 }, 16 }, 2, "6to4" },
};

static int in_allow_list(const struct outbound_policy *p, int family, const unsigned char *a)
{
	for (int i = 0; i < p->n_allow; i++)
		if (cidr_contains(&p->allow[i], family, a))
			return 1;
	return 0;
}

/*
 * Why the address is refused, or NULL if it may be reached. The allow list
 * wins over every refused range. An IPv4-mapped address is the IPv4 address
 * itself, so the IPv4 allow list applies to it; NAT64 and 6to4 reach their
 * IPv4 address through a gateway and are refused when it would be.
 */
static const char *addr_refusal(const struct outbound_policy *p, int family,
				const unsigned char *a)
{
	if (in_allow_list(p, family, a))
		return NULL;
	if (family == AF_INET) {
		for (size_t i = 0; i < ARRAY_SIZE(refused_v4); i++)
			if (cidr_contains(&refused_v4[i].net, AF_INET, a))
				return refused_v4[i].what;
		return NULL;
	}
	if (family != AF_INET6)
		return "not an IP address";
	for (size_t i = 0; i < ARRAY_SIZE(embeds_v4); i++) {
		if (!cidr_contains(&embeds_v4[i].net, AF_INET6, a))
			continue;
		const unsigned char *v4 = a + embeds_v4[i].v4_at;
		if (i == 0)
			return addr_refusal(p, AF_INET, v4) ? embeds_v4[i].what : NULL;
		for (size_t j = 0; j < ARRAY_SIZE(refused_v4); j++)
			if (cidr_contains(&refused_v4[j].net, AF_INET, v4))
				return embeds_v4[i].what;
		return NULL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(refused_v6); i++)
		if (cidr_contains(&refused_v6[i].net, AF_INET6, a))
			return refused_v6[i].what;
	return NULL;
}

/* Family and address bytes of sa; NULL for anything but IPv4/IPv6. */
static const unsigned char *sockaddr_bytes(const struct sockaddr *sa, int *family)
{
	*family = sa ? sa->sa_family : AF_UNSPEC;
	if (*family == AF_INET)
		return (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
	if (*family == AF_INET6)
		return (const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
	return NULL;
}

int outbound_policy_init(struct outbound_policy *p, const char *allow_cidrs, struct err *e)
{
	int n = 0, rc;
	memset(p, 0, sizeof(*p));
	if (!allow_cidrs || !*allow_cidrs)
		return 0;
	rc = cidr_list_parse(allow_cidrs, p->allow, OUTBOUND_ALLOW_MAX, &n, e);
	if (rc)
		return err_prefix(e, "agent_allow", "agent_allow");
	if (n > OUTBOUND_ALLOW_MAX) {
		memset(p, 0, sizeof(*p));
		return err_set(e, ERR_INVALID, "agent_allow",
			       "agent_allow has %d ranges; at most %d are allowed", n,
			       OUTBOUND_ALLOW_MAX);
	}
	p->n_allow = n;
	return 0;
}

int outbound_addr_allowed(const struct outbound_policy *p, const struct sockaddr *sa)
{
	int family;
	const unsigned char *a = sockaddr_bytes(sa, &family);
	return a && !addr_refusal(p, family, a);
}

void outbound_target_release(struct outbound_target *t)
{
	curl_slist_free_all(t->resolve_list);
	t->resolve_list = NULL;
}

static int url_invalid(struct err *e, const char *part, const char *why)
{
	return err_setc(e, ERR_INVALID, "invalid_url", "url", "invalid URL %s: %s", part, why);
}

/* The part a curl_url_set() failure is about, for the error message. */
static const char *curlu_part(CURLUcode rc)
{
	switch (rc) {
	case CURLUE_BAD_PORT_NUMBER:
		return "port";
	case CURLUE_BAD_SCHEME:
	case CURLUE_UNSUPPORTED_SCHEME:
		return "scheme";
	case CURLUE_BAD_HOSTNAME:
	case CURLUE_BAD_IPV6:
	case CURLUE_NO_HOST:
		return "host";
	case CURLUE_BAD_LOGIN:
	case CURLUE_BAD_USER:
	case CURLUE_BAD_PASSWORD:
		return "userinfo";
	default:
		return "syntax";
	}
}

/* 1 if part is present in u (even empty, as in "http://@host/"). */
static int curlu_has(CURLU *u, CURLUPart part)
{
	char *v = NULL;
	CURLUcode rc = curl_url_get(u, part, &v, 0);
	curl_free(v);
	return rc == CURLUE_OK;
}

/* Check the parts of a parsed URL and copy url, host and port into out. */
static int url_parts(CURLU *u, struct outbound_target *out, struct err *e)
{
	char *scheme = NULL, *host = NULL, *port = NULL, *norm = NULL;
	int64_t portnum = 0;
	size_t hl;
	int ret = ERR_INVALID;

	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
	    (strcmp(scheme, "http") && strcmp(scheme, "https"))) {
		ret = url_invalid(e, "scheme", "only http and https are allowed");
		goto out;
	}
	if (curlu_has(u, CURLUPART_USER) || curlu_has(u, CURLUPART_PASSWORD) ||
	    curlu_has(u, CURLUPART_OPTIONS)) {
		ret = url_invalid(e, "userinfo", "user:password@ is not allowed; use a secret");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) || !*host) {
		ret = url_invalid(e, "host", "the host is missing");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ||
	    str_to_i64(port, &portnum) || portnum < 1 || portnum > 65535) {
		ret = url_invalid(e, "port", "the port must be between 1 and 65535");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_URL, &norm, 0) || strlen(norm) > OUTBOUND_URL_MAX) {
		ret = url_invalid(e, "length", "longer than 2048 bytes once normalized");
		goto out;
	}
	hl = strlen(host);
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	if (strlen(host) >= sizeof(out->host)) {
		ret = url_invalid(e, "host", "longer than 255 bytes");
		goto out;
	}
	str_copy(out->url, sizeof(out->url), norm);
	str_copy(out->host, sizeof(out->host), host);
	out->port = (int)portnum;
	ret = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(norm);
	return ret;
}

/* Append one address to out->resolve unless it is already there. */
static void resolve_add(struct buf *list, int *n, int family, const unsigned char *a)
{
	char text[INET6_ADDRSTRLEN], item[INET6_ADDRSTRLEN + 4];
	if (!inet_ntop(family, a, text, sizeof(text)))
		return;
	snprintf(item, sizeof(item), family == AF_INET6 ? "[%s]" : "%s", text);
	for (const char *p = list->p; (p = strstr(p, item)); p++)
		if ((p == list->p || p[-1] == ',') && (p[strlen(item)] == ',' || !p[strlen(item)]))
			return;
	if (*n >= OUTBOUND_ADDRS_MAX)
		return;
	buf_addf(list, "%s%s", *n ? "," : "", item);
	(*n)++;
}

static int addr_refused_err(struct err *e, const char *host, int family, const unsigned char *a,
			    const char *why)
{
	char text[INET6_ADDRSTRLEN] = "?";
	inet_ntop(family, a, text, sizeof(text));
	return err_setc(e, ERR_FORBIDDEN, "address_not_allowed", "url",
			"host '%.64s' resolves to %s (%s), which agents may not reach; an admin "
			"can allow it with --agent-allow %s",
			host, text, why, text);
}

/* Resolve out->host; every answer must be allowed. Fills out->resolve. */
static int resolve_check(const struct outbound_policy *p, struct outbound_target *out,
			 struct err *e)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	struct buf list = BUF_INIT;
	int n = 0, ret = ERR_UNAVAILABLE, rc;
	char port[8];

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", out->port);
	rc = getaddrinfo(out->host, port, &hints, &res);
	if (rc) {
		ret = err_setc(e, ERR_UNAVAILABLE, "host_not_resolved", "url",
			       "host '%.64s' could not be resolved: %s", out->host,
			       gai_strerror(rc));
		goto out;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int family;
		const unsigned char *a = sockaddr_bytes(ai->ai_addr, &family);
		const char *why = a ? addr_refusal(p, family, a) : "not an IP address";
		if (why) {
			ret = a ? addr_refused_err(e, out->host, family, a, why)
				: err_setc(e, ERR_FORBIDDEN, "address_not_allowed", "url",
					   "host '%.64s' resolves to a non-IP address", out->host);
			goto out;
		}
		resolve_add(&list, &n, family, a);
	}
	if (!n) {
		ret = err_setc(e, ERR_UNAVAILABLE, "host_not_resolved", "url",
			       "host '%.64s' has no addresses", out->host);
		goto out;
	}
	snprintf(out->resolve, sizeof(out->resolve), "%s:%d:%s", out->host, out->port, list.p);
	ret = 0;
out:
	if (res)
		freeaddrinfo(res);
	buf_release(&list);
	return ret;
}

static int host_is_literal(const char *host)
{
	unsigned char a[16];
	return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

int outbound_url_check(const struct outbound_policy *p, const char *url,
		       struct outbound_target *out, struct err *e)
{
	CURLU *u = NULL;
	CURLUcode uc;
	int ret = ERR_INVALID;

	memset(out, 0, sizeof(*out));
	out->policy = p;
	if (!url || !*url) {
		ret = url_invalid(e, "syntax", "the URL is empty");
		goto out;
	}
	if (strlen(url) > OUTBOUND_URL_MAX) {
		ret = url_invalid(e, "length", "longer than 2048 bytes");
		goto out;
	}
	u = curl_url();
	if (!u) {
		ret = err_set(e, ERR_INTERNAL, NULL, "out of memory");
		goto out;
	}
	uc = curl_url_set(u, CURLUPART_URL, url, 0);
	if (uc) {
		ret = url_invalid(e, curlu_part(uc), curl_url_strerror(uc));
		goto out;
	}
	if ((ret = url_parts(u, out, e)) || (ret = resolve_check(p, out, e)))
		goto out;
	/* A literal needs no DNS to pin, and RESOLVE's syntax has no room for "::1". */
	if (!host_is_literal(out->host)) {
		out->resolve_list = curl_slist_append(NULL, out->resolve);
		if (!out->resolve_list)
			ret = err_set(e, ERR_INTERNAL, NULL, "out of memory");
	}
out:
	curl_url_cleanup(u);
	return ret;
}

/*
 * Second line of defence: curl hands over the address before connecting;
 * one the policy refuses gets no socket (CURLE_COULDNT_CONNECT).
 */
static curl_socket_t open_checked(void *clientp, curlsocktype purpose,
				  struct curl_sockaddr *address)
{
	const struct outbound_target *t = clientp;
	if (purpose != CURLSOCKTYPE_IPCXN || !outbound_addr_allowed(t->policy, &address->addr))
		return CURL_SOCKET_BAD;
	return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

void outbound_curl_harden(CURL *h, const struct outbound_target *t, long timeout_ms,
			  size_t max_response)
{
	curl_easy_setopt(h, CURLOPT_URL, t->url);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85.0 */
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_RESOLVE, t->resolve_list);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_checked);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, (void *)t);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 10000 ? timeout_ms : 10000L);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_response);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
}

void outbound_body_init(struct outbound_body *b, size_t max)
{
	buf_init(&b->data);
	b->max = max;
	b->too_large = 0;
}

void outbound_body_release(struct outbound_body *b)
{
	buf_release(&b->data);
}

size_t outbound_body_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct outbound_body *b = userdata;
	size_t n = size * nmemb;
	if (n > b->max - b->data.len) {
		b->too_large = 1;
		return 0; /* CURLE_WRITE_ERROR */
	}
	buf_add(&b->data, ptr, n);
	return n;
}

void outbound_body_attach(CURL *h, struct outbound_body *b)
{
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, outbound_body_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
}

int outbound_curl_result(CURLcode rc, const struct outbound_body *b, long timeout_ms,
			 struct err *e)
{
	if (rc == CURLE_OK)
		return 0;
	if (rc == CURLE_FILESIZE_EXCEEDED || (rc == CURLE_WRITE_ERROR && b && b->too_large))
		return err_setc(e, ERR_TOO_LARGE, "response_too_large", NULL,
				"response too large (limit %zu bytes)", b ? b->max : (size_t)0);
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return err_set(e, ERR_TIMEOUT, NULL, "no complete response within %ld ms",
			       timeout_ms);
	if (rc == CURLE_COULDNT_CONNECT)
		return err_set(e, ERR_UNAVAILABLE, NULL,
			       "could not connect (refused, unreachable or not allowed)");
	return err_set(e, ERR_UNAVAILABLE, NULL, "request failed: %s", curl_easy_strerror(rc));
}
