/*
 * Completion webhooks: a "webhook" job per finished execution that asked
 * for one. The body is {event: "execution.finished", execution: {...}};
 * X-Parallax-Signature is "sha256=" + hex HMAC-SHA256 of the exact body
 * with the secret given at submission (kept sealed until here). The target
 * goes through the same outbound policy as agents (no private or metadata
 * addresses unless allowed), redirects are not followed, 10 s at most. Any
 * non-2xx answer is retried by the queue with exponential backoff.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/auth.h"
#include "db/db.h"
#include "engine/exec_internal.h"
#include "core/core.h"

#define WEBHOOK_TIMEOUT_MS 10000

static cJSON *parsed(const char *t)
{
	cJSON *v = t ? cJSON_Parse(t) : NULL;
	return v ? v : cJSON_CreateNull();
}

static void add_time(cJSON *o, const char *k, int64_t ms)
{
	char s[40];
	if (!ms) {
		cJSON_AddNullToObject(o, k);
		return;
	}
	time_iso(ms, s, sizeof(s));
	cJSON_AddStringToObject(o, k, s);
}

static char *webhook_body(const struct execution_full *x)
{
	cJSON *b = cJSON_CreateObject(), *e, *p;
	cJSON_AddStringToObject(b, "event", "execution.finished");
	e = cJSON_AddObjectToObject(b, "execution");
	cJSON_AddStringToObject(e, "id", x->id);
	cJSON_AddStringToObject(e, "status", x->status);
	p = cJSON_AddObjectToObject(e, "pattern");
	cJSON_AddStringToObject(p, "id", x->pattern_id);
	cJSON_AddStringToObject(p, "name", x->pattern_name);
	cJSON_AddNumberToObject(p, "version", (double)x->version);
	cJSON_AddItemToObject(e, "result", parsed(x->result));
	cJSON_AddItemToObject(e, "error", parsed(x->error));
	add_time(e, "created_at", x->created_at);
	add_time(e, "finished_at", x->finished_at);
	char *s = cJSON_PrintUnformatted(b);
	cJSON_Delete(b);
	return s;
}

void webhook_signature(const char *secret, const char *body, char out[72])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, strlen(body));
	crypto_auth_hmacsha256_final(&st, mac);
	memcpy(out, "sha256=", 7);
	hex_encode(mac, sizeof(mac), out + 7);
}

int webhook_deliver(struct engine *en, struct db_pool *pool, const struct job *j,
		    struct err *e)
{
	struct execution_full x;
	struct db *db = NULL;
	struct outbound_target t;
	struct outbound_body resp;
	char *secret = NULL, *body = NULL, sig[72], line[160];
	struct curl_slist *h = NULL;
	long status = 0;
	int rc;

	memset(&t, 0, sizeof(t));
	outbound_body_init(&resp, 64 << 10);
	if ((rc = db_acquire(pool, 10000, &db, e)))
		goto out;
	rc = store_execution_get_full(db, j->tenant_id, NULL, j->ref, &x, e);
	db_release(db);
	if (rc)
		goto out;
	if (!x.webhook_url || !x.webhook_secret_enc ||
	    (rc = secret_open(x.webhook_secret_enc, &secret, e)))
		goto done;
	body = webhook_body(&x);
	webhook_signature(secret, body, sig);
	if ((rc = outbound_url_check(&en->policy, x.webhook_url, &t, e)))
		goto done;
	CURL *c = curl_easy_init();
	outbound_curl_harden(c, &t, WEBHOOK_TIMEOUT_MS, resp.max);
	outbound_body_attach(c, &resp);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:");
	h = curl_slist_append(h, "X-Parallax-Event: execution.finished");
	snprintf(line, sizeof(line), "X-Parallax-Delivery: %s", j->id);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof(line), "X-Parallax-Signature: %s", sig);
	h = curl_slist_append(h, line);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	CURLcode cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if ((rc = outbound_curl_result(cc, &resp, WEBHOOK_TIMEOUT_MS, e)) == 0 &&
	    (status < 200 || status > 299))
		rc = err_set(e, ERR_UNAVAILABLE, NULL, "the webhook answered HTTP %ld", status);
done:
	execution_full_release(&x);
out:
	curl_slist_free_all(h);
	outbound_target_release(&t);
	outbound_body_release(&resp);
	secret_free(secret);
	free(body);
	return rc;
}
