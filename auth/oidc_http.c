/*
 * Talking to identity providers: which URLs may be used, and one bounded
 * libcurl exchange (no redirects, https only unless loopback http is allowed
 * explicitly, a time and a size limit, an optional connect-time address
 * check). Nothing here logs a URL's query, a form body or a header value.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <sodium.h>

#include "auth/auth.h"
#include "core/core.h"

static int url_bad(struct err *e, const char *field, const char *why)
{
	return err_setc(e, ERR_INVALID, "invalid_url", field, "%s: %s", field, why);
}

static int loopback_host(const char *host)
{
	return !strcmp(host, "127.0.0.1") || !strcmp(host, "[::1]") ||
	       !strcmp(host, "localhost");
}

int oidc_url_check(const char *url, int allow_http_loopback, const char *field, struct err *e)
{
	char *scheme = NULL, *host = NULL, *v = NULL;
	CURLU *u = NULL;
	int ret = ERR_INVALID;

	if (!url || !*url || strlen(url) > OIDC_URL_MAX) {
		ret = url_bad(e, field, "empty or longer than 2048 bytes");
		goto out;
	}
	u = curl_url();
	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) || !*host) {
		ret = url_bad(e, field, "not an absolute URL");
		goto out;
	}
	if (!curl_url_get(u, CURLUPART_USER, &v, 0) || !curl_url_get(u, CURLUPART_FRAGMENT, &v, 0)) {
		ret = url_bad(e, field, "user information and fragments are not allowed");
		goto out;
	}
	if (!strcmp(scheme, "https")) {
		ret = 0;
	} else if (strcmp(scheme, "http")) {
		ret = url_bad(e, field, "the scheme must be https");
	} else if (!allow_http_loopback || !loopback_host(host)) {
		ret = url_bad(e, field,
			      allow_http_loopback
				      ? "must be https (plain http only to 127.0.0.1, [::1] or localhost)"
				      : "must be https");
	} else {
		ret = 0;
	}
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(v);
	curl_url_cleanup(u);
	return ret;
}

struct sink {
	struct buf *body;
	size_t max;
	int too_large;
};

static size_t sink_write(char *p, size_t size, size_t nmemb, void *userdata)
{
	struct sink *s = userdata;
	size_t n = size * nmemb;
	if (n > s->max - s->body->len) {
		s->too_large = 1;
		return 0;
	}
	buf_add(s->body, p, n);
	return n;
}

/* The policy's verdict on the peer before the socket exists. */
static curl_socket_t open_checked(void *clientp, curlsocktype purpose,
				  struct curl_sockaddr *address)
{
	const struct oidc_net *net = clientp;
	if (purpose != CURLSOCKTYPE_IPCXN || !net->addr_allowed(net->addr_ctx, &address->addr))
		return CURL_SOCKET_BAD;
	return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

static void set_limits(CURL *h, const struct oidc_net *net)
{
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, net->allow_http_loopback ? "http,https" : "https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, net->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 net->timeout_ms < 5000 ? net->timeout_ms : 5000L);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)net->max_bytes);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "parallax/" PARALLAX_VERSION);
	if (net->addr_allowed) {
		curl_easy_setopt(h, CURLOPT_PROXY, "");
		curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_checked);
		curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, (void *)net);
	}
}

static int fetch_result(CURLcode rc, const struct sink *s, const struct oidc_net *net,
			const char *url, struct err *e)
{
	/* The URL is the provider's, never a secret; its query is cut anyway. */
	int n = (int)strcspn(url, "?");
	if (rc == CURLE_FILESIZE_EXCEEDED || (rc == CURLE_WRITE_ERROR && s->too_large))
		return err_setc(e, ERR_UNAVAILABLE, "idp_response_too_large", NULL,
				"%.*s: response larger than %zu bytes", n > 120 ? 120 : n, url,
				net->max_bytes);
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return err_setc(e, ERR_TIMEOUT, "idp_timeout", NULL, "%.*s: no answer within %ld ms",
				n > 120 ? 120 : n, url, net->timeout_ms);
	return err_setc(e, ERR_UNAVAILABLE, "idp_unreachable", NULL, "%.*s: %s",
			n > 120 ? 120 : n, url, curl_easy_strerror(rc));
}

int oidc_http_fetch(void *ctx, const struct oidc_http_req *req, long *status, struct buf *body,
		    struct err *e)
{
	const struct oidc_net *net = ctx;
	struct sink s = { body, net->max_bytes, 0 };
	struct curl_slist *hdrs = NULL;
	struct buf auth = BUF_INIT;
	CURL *h = NULL;
	CURLcode rc;
	int ret;

	*status = 0;
	/* Checked again here: a URL from a discovery document reaches us too. */
	if ((ret = oidc_url_check(req->url, net->allow_http_loopback, "url", e)))
		goto out;
	h = curl_easy_init();
	if (!h) {
		ret = err_set(e, ERR_INTERNAL, NULL, "curl_easy_init failed");
		goto out;
	}
	set_limits(h, net);
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (req->form) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/x-www-form-urlencoded");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->form);
	}
	if (req->authorization) {
		buf_addf(&auth, "Authorization: %s", req->authorization);
		hdrs = curl_slist_append(hdrs, auth.p);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		ret = fetch_result(rc, &s, net, req->url, e);
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	ret = 0;
out:
	curl_easy_cleanup(h);
	/* The Authorization header may carry the client secret. */
	for (struct curl_slist *l = hdrs; l; l = l->next)
		sodium_memzero(l->data, strlen(l->data));
	curl_slist_free_all(hdrs);
	sodium_memzero(auth.p, auth.len);
	buf_release(&auth);
	return ret;
}
