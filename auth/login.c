/*
 * Password sign-in, shared by the API and the login page.
 *
 * Unknown user, wrong password and disabled account give the same answer
 * and take the same time (a dummy hash is verified when there is no user).
 * Failures are counted per account and per IP; past a threshold the key is
 * locked for a period that doubles with each further failure. A success
 * opens a new session family (a new session id at every login).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/auth.h"
#include "db/db.h"
#include "core/core.h"

#define ACCT_THRESHOLD 5
#define IP_THRESHOLD 50
#define WINDOW_MS (15 * 60 * 1000LL)

static char dummy_hash[PASSWORD_HASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void dummy_make(void)
{
	char pw[48];
	struct err e;
	random_token(pw, sizeof(pw), 24);
	if (password_hash(pw, dummy_hash, &e))
		dummy_hash[0] = '\0';
}

static int locked_answer(int64_t until, int64_t *retry_after_s, struct err *e)
{
	int64_t wait = (until - now_ms() + 999) / 1000;
	*retry_after_s = wait > 0 ? wait : 1;
	return err_setc(e, ERR_RATE_LIMITED, "locked_out", NULL,
			"too many failed sign-ins; try again in %lld s", (long long)*retry_after_s);
}

static int login_check_locks(struct db *db, const char *acct, const char *ipkey,
			     int64_t *retry, struct err *e)
{
	int64_t a = 0, b = 0, now = now_ms();
	int rc;
	if ((rc = store_throttle_locked(db, acct, &a, e)) ||
	    (rc = store_throttle_locked(db, ipkey, &b, e)))
		return rc;
	if (a > now || b > now)
		return locked_answer(a > b ? a : b, retry, e);
	return 0;
}

static int login_failed(struct db *db, const char *acct, const char *ipkey, int64_t *retry,
			struct err *e)
{
	int64_t a = 0, b = 0;
	struct err ignore;
	store_throttle_fail(db, acct, ACCT_THRESHOLD, WINDOW_MS, 30000, WINDOW_MS, &a, &ignore);
	store_throttle_fail(db, ipkey, IP_THRESHOLD, WINDOW_MS, 60000, 4 * WINDOW_MS, &b, &ignore);
	if (a || b)
		return locked_answer(a > b ? a : b, retry, e);
	return err_setc(e, ERR_UNAUTHORIZED, "invalid_credentials", NULL,
			"the email or password is not right");
}

static void lower_copy(char *dst, size_t size, const char *src)
{
	size_t i;
	for (i = 0; src[i] && i + 1 < size; i++)
		dst[i] = (char)(src[i] >= 'A' && src[i] <= 'Z' ? src[i] | 0x20 : src[i]);
	dst[i] = '\0';
}

/* A tenant that requires SSO takes no password, but from its break-glass owner. */
static int password_allowed(struct db *db, const struct login_result *out, struct err *e)
{
	struct sso_config *c = xcalloc(1, sizeof(*c));
	int rc = store_sso_get(db, out->membership.tenant_id, c, e);
	if (rc == ERR_NOT_FOUND)
		rc = 0;
	else if (!rc && c->enabled && c->sso_required && strcmp(c->break_glass_user_id, out->user.id))
		rc = err_setc(e, ERR_FORBIDDEN, "sso_required", NULL,
			      "%s signs in through its identity provider: use single sign-on",
			      out->membership.tenant_name);
	free(c);
	return rc;
}

/* After the password (or the identity provider) checked out: membership, session, access
 * token. */
static int login_open_session(struct db *db, const struct login_request *in,
			      struct login_result *out, int by_password, struct err *e)
{
	char hash[65];
	int rc = store_membership_get(db, out->user.id, in->tenant_id, &out->membership, e);
	if (rc == ERR_NOT_FOUND)
		return err_setc(e, ERR_UNAUTHORIZED, "invalid_credentials", NULL,
				"the email or password is not right");
	if (rc)
		return rc;
	if (by_password && (rc = password_allowed(db, out, e)))
		return rc;
	int browser = !strcmp(in->kind, "browser");
	token_new_opaque(browser ? "pss_" : "prt_", out->refresh_token, sizeof(out->refresh_token));
	token_hash(out->refresh_token, hash);
	struct session_new sn = { out->membership.tenant_id, out->user.id, hash, in->kind, in->ip,
				  in->user_agent,
				  now_ms() + (browser ? BROWSER_SESSION_TTL_MS : REFRESH_TOKEN_TTL_MS) };
	if ((rc = store_session_create(db, &sn, &out->session, e)))
		return rc;
	store_user_touch_login(db, out->user.id, e);
	if (token_issue_access(out->membership.tenant_id, out->user.id, out->session.family_id,
			       &out->access_token, &out->expires_in))
		return err_set(e, ERR_INTERNAL, NULL, "cannot sign the access token");
	return 0;
}

int auth_login(struct db *db, const struct login_request *in, struct login_result *out,
	       struct err *e)
{
	char email[256], acct[300], ipkey[96];
	int rc;
	memset(out, 0, sizeof(*out));
	if (!in->email || !in->password || strlen(in->email) > 254 ||
	    strlen(in->password) > PASSWORD_MAX_LEN)
		return err_setc(e, ERR_UNAUTHORIZED, "invalid_credentials", NULL,
				"the email or password is not right");
	lower_copy(email, sizeof(email), in->email);
	snprintf(acct, sizeof(acct), "acct:%s", email);
	snprintf(ipkey, sizeof(ipkey), "ip:%s", in->ip ? in->ip : "");
	if ((rc = login_check_locks(db, acct, ipkey, &out->retry_after_s, e)))
		return rc;
	rc = store_user_by_email(db, email, &out->user, e);
	if (rc && rc != ERR_NOT_FOUND)
		return rc;
	if (rc || out->user.disabled || !out->user.password_hash[0]) {
		pthread_once(&dummy_once, dummy_make);
		password_verify(dummy_hash, in->password); /* same time as a real check */
		out->user_known = !rc;
		return login_failed(db, acct, ipkey, &out->retry_after_s, e);
	}
	out->user_known = 1;
	if (!password_verify(out->user.password_hash, in->password)) {
		struct err ignore;
		/* So the failure shows in the user's tenant's audit log. */
		store_membership_get(db, out->user.id, in->tenant_id, &out->membership, &ignore);
		return login_failed(db, acct, ipkey, &out->retry_after_s, e);
	}
	store_throttle_reset(db, acct, e);
	return login_open_session(db, in, out, 1, e);
}

int auth_open_session(struct db *db, const struct login_request *in, const char *user_id,
		      struct login_result *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	int rc = store_user_by_id(db, user_id, &out->user, e);
	if (rc == ERR_NOT_FOUND || (!rc && out->user.disabled))
		return err_setc(e, ERR_UNAUTHORIZED, "account_disabled", NULL,
				"this account cannot sign in");
	if (rc)
		return rc;
	out->user_known = 1;
	return login_open_session(db, in, out, 0, e);
}

void login_result_release(struct login_result *r)
{
	free(r->access_token);
	r->access_token = NULL;
	sodium_memzero(r->refresh_token, sizeof(r->refresh_token));
}
