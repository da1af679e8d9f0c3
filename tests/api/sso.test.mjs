// Single sign-on (issue 8) against a real OpenID Connect provider (oidc-provider, on
// loopback, tests/idp/idp.mjs): the whole authorization code flow with PKCE, state and
// nonce; each attack of the issue refused with no session created (state missing,
// mismatched or reused; a wrong nonce; an ID token with the wrong iss or aud, expired,
// alg none or HS256 signed with the client secret; a mix-up iss; open redirects through
// next=; session fixation; an unverified email matching a local account); JWKS rotation;
// groups mapped to roles at every sign-in; SSO required with a break-glass owner; and the
// configuration API's permissions and refusals. Runs once per backend.
import test, { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, setupOwner, request, sql } from './helpers/server.mjs';
import { inviteMember, login } from './helpers/roles.mjs';
import { createSecondTenant } from './helpers/tenants.mjs';
import { startIdp } from '../idp/idp.mjs';

const CLIENT = { client_id: 'parallax-test', client_secret: 'a-client-secret-that-is-long-enough-0123456789' };
const DOMAIN = 'corp.example';

function cookieFrom(res, name) {
	const all = [].concat(res.headers['set-cookie'] || []);
	for (const c of all) {
		const m = new RegExp(`^${name}=([^;]*)`).exec(c);
		if (m) return m[1];
	}
	return null;
}

async function sessionCount(server) {
	const rows = await sql(server, 'SELECT COUNT(*) FROM sessions');
	return Number(rows[0][0]);
}

describe('single sign-on', () => {
	let server, idp, owner, admin, tenant, sessionCookieName;
	const users = {
		alice: { sub: 'alice-sub', email: `alice@${DOMAIN}`, email_verified: true, name: 'Alice Idp', groups: ['eng'], password: 'alice-pw' },
		bob: { sub: 'bob-sub', email: `bob@${DOMAIN}`, email_verified: false, name: 'Bob Unverified', groups: [], password: 'bob-pw' },
		carol: { sub: 'carol-sub', email: 'carol@elsewhere.example', email_verified: true, name: 'Carol', groups: ['eng'], password: 'carol-pw' },
		dave: { sub: 'dave-sub', email: `dave@${DOMAIN}`, email_verified: true, name: 'Dave Local', groups: ['admins'], password: 'dave-pw' },
	};

	before(async () => {
		// sign-in starts are rate-limited per address like password sign-ins (--login-rpm): this
		// suite starts many from one address
		server = await startServer({ args: ['--sso-allow-http-loopback', '--agent-allow', '127.0.0.1/32', '--sso-jwks-refetch-s', '1', '--login-rpm', '1000'] });
		idp = await startIdp({ clients: [{ ...CLIENT, redirect_uris: [`${server.url}/sso/callback`] }], users: Object.values(users) });
		owner = await setupOwner(server);
		admin = await login(server, owner.email, owner.password);
		tenant = admin.tenant;
		// a local account with bob's email (invited, with a password) and one with dave's
		await inviteMember(server, admin.access_token, tenant.id, 'developer', { email: users.bob.email, login: false });
		await inviteMember(server, admin.access_token, tenant.id, 'viewer', { email: users.dave.email, login: false });
		const res = await configure({});
		assert.equal(res.status, 201, res.text);
	});
	after(async () => {
		await idp?.stop();
		await server?.stop();
	});

	const auth = () => ({ headers: { Authorization: `Bearer ${admin.access_token}` } });
	function configure(extra) {
		return request(server, 'PUT', `/api/v1/tenants/${tenant.id}/sso`, {
			...auth(),
			json: {
				issuer: idp.issuer,
				client_id: CLIENT.client_id,
				client_secret: CLIENT.client_secret,
				display_name: 'Corp SSO',
				allowed_domains: [DOMAIN],
				default_role: 'viewer',
				group_claim: 'groups',
				group_map: { eng: 'developer', ops: 'operator', admins: 'admin' },
				jit_provisioning: true,
				...extra,
			},
		});
	}

	// GET /sso/start: the provider's authorization URL and this browser's binding cookie.
	async function start(query) {
		const res = await request(server, 'GET', `/sso/start?${query}`);
		assert.equal(res.status, 303, res.text);
		const binding = cookieFrom(res, 'px_sso');
		assert.ok(binding, 'a binding cookie');
		return { location: res.headers.location, binding };
	}
	// Back from the provider with the callback URL it gave: {res, session}.
	async function callback(url, cookie) {
		const u = new URL(url);
		const res = await request(server, 'GET', u.pathname + u.search, { headers: cookie ? { Cookie: cookie } : {} });
		return { res, session: cookieFrom(res, sessionCookieName || 'parallax_session') };
	}
	async function fullLogin(user, query = `tenant=${tenant.slug}`, tamper = null) {
		const s = await start(query);
		if (tamper) idp.tamperNextIdToken(tamper);
		const back = await idp.login(s.location, { login: user.email, password: user.password });
		return { ...(await callback(back, `px_sso=${s.binding}`)), back, binding: s.binding };
	}
	async function me(session) {
		return request(server, 'GET', '/api/v1/auth/me', { headers: { Cookie: `${sessionCookieName}=${session}` } });
	}
	// A refusal: the sign-in page again with why, and not a single new session.
	async function refused(p, status, message) {
		const before = await sessionCount(server);
		const { res, session } = await p();
		assert.equal(res.status, status, res.text.slice(0, 400));
		assert.match(res.text, message);
		assert.ok(!session, 'no session cookie');
		assert.equal(await sessionCount(server), before, 'no session row');
		return res;
	}

	test('the flow: PKCE, state and nonce to the provider; back signed in with the mapped role', async () => {
		const s = await start(`tenant=${tenant.slug}&next=/patterns`);
		const u = new URL(s.location);
		assert.equal(u.origin, idp.issuer);
		const q = u.searchParams;
		assert.equal(q.get('response_type'), 'code');
		assert.equal(q.get('client_id'), CLIENT.client_id);
		assert.equal(q.get('redirect_uri'), `${server.url}/sso/callback`);
		assert.equal(q.get('code_challenge_method'), 'S256');
		assert.match(q.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
		assert.match(q.get('state'), /^[A-Za-z0-9_-]{43}$/);
		assert.match(q.get('nonce'), /^[A-Za-z0-9_-]{43}$/);
		assert.notEqual(q.get('state'), q.get('nonce'));
		assert.match(q.get('scope'), /openid/);
		const back = await idp.login(s.location, { login: users.alice.email, password: users.alice.password });
		assert.match(back, /[?&]iss=/, 'the provider sends RFC 9207 iss');
		const { res } = await callback(back, `px_sso=${s.binding}`);
		assert.equal(res.status, 303, res.text.slice(0, 400));
		assert.equal(res.headers.location, '/patterns');
		const set = [].concat(res.headers['set-cookie'] || []);
		const sess = set.find((c) => /^(__Host-)?parallax_session=pss_/.test(c));
		assert.ok(sess, `a session cookie among ${set.join(' | ')}`);
		sessionCookieName = sess.split('=')[0];
		assert.match(sess, /HttpOnly/);
		const who = await me(cookieFrom(res, sessionCookieName));
		assert.equal(who.status, 200, who.text);
		assert.equal(who.json.user.email, users.alice.email);
		assert.equal(who.json.role, 'developer', 'eng maps to developer');
		// provisioned in the default workspace, linked by (issuer, subject)
		const ids = await sql(server, `SELECT issuer, subject FROM user_identities WHERE subject = 'alice-sub'`);
		assert.deepEqual(ids, [[idp.issuer, 'alice-sub']]);
		const ws = await sql(server, `SELECT COUNT(*) FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id AND w.is_default = 1 JOIN users u ON u.id = m.user_id WHERE u.email = '${users.alice.email}'`);
		assert.deepEqual(ws, [['1']]);
		const audit = await request(server, 'GET', `/api/v1/tenants/${tenant.id}/audit?action=auth.login`, auth());
		assert.equal(audit.status, 200, audit.text);
		assert.ok(audit.json.items.some((a) => a.action === 'auth.login' && a.outcome === 'success' && a.details?.method === 'sso'), audit.text.slice(0, 500));
	});

	test('group changes at the provider take effect at the next sign-in', async () => {
		idp.setUser('alice-sub', { groups: ['ops'] });
		const a = await fullLogin(users.alice);
		assert.equal(a.res.status, 303);
		assert.equal((await me(a.session)).json.role, 'operator');
		idp.setUser('alice-sub', { groups: ['nothing-mapped'] });
		const b = await fullLogin(users.alice);
		assert.equal((await me(b.session)).json.role, 'viewer', 'no mapped group: the default role');
		idp.setUser('alice-sub', { groups: ['eng', 'admins'] });
		const c = await fullLogin(users.alice);
		assert.equal((await me(c.session)).json.role, 'admin', 'the highest of the groups');
		idp.setUser('alice-sub', { groups: ['eng'] });
	});

	test('state: missing, mismatched or reused is refused with no session', async () => {
		const s = await start(`tenant=${tenant.slug}`);
		const back = await idp.login(s.location, { login: users.alice.email, password: users.alice.password });
		const noState = back.replace(/([?&])state=[^&]*&?/, '$1');
		await refused(() => callback(noState, `px_sso=${s.binding}`), 400, /no state/);
		// another browser's binding (a second start) cannot finish this one
		const other = await start(`tenant=${tenant.slug}`);
		await refused(() => callback(back, `px_sso=${other.binding}`), 400, /did not start in this browser|expired/);
		// no binding cookie at all
		await refused(() => callback(back, ''), 400, /did not start in this browser/);
		// a state is good for one try: the refusal above used it up, the right binding too late
		await refused(() => callback(back, `px_sso=${s.binding}`), 400, /expired, was already used/);
		// a reused state after a success
		const ok = await fullLogin(users.alice);
		assert.equal(ok.res.status, 303);
		await refused(() => callback(ok.back, `px_sso=${ok.binding}`), 400, /already used/);
	});

	test('ID tokens: wrong nonce, iss or aud, expired, alg none, HS256 with the client secret', async () => {
		const now = Math.floor(Date.now() / 1000);
		const cases = [
			['wrong nonce', (t) => t.sign(t.header, { ...t.payload, nonce: 'not-the-nonce' })],
			['wrong iss', (t) => t.sign(t.header, { ...t.payload, iss: 'http://127.0.0.1:1' })],
			['wrong aud', (t) => t.sign(t.header, { ...t.payload, aud: 'another-client' })],
			['expired', (t) => t.sign(t.header, { ...t.payload, iat: now - 7200, exp: now - 3600 })],
			['alg none', (t) => t.unsigned()],
			['HS256 with the client secret', (t) => t.signHs256(undefined, undefined, CLIENT.client_secret)],
		];
		for (const [what, tamper] of cases) {
			const before = await sessionCount(server);
			const r = await fullLogin(users.alice, `tenant=${tenant.slug}`, tamper);
			assert.equal(r.res.status, 401, `${what}: ${r.res.status}`);
			assert.match(r.res.text, /could not be verified/, what);
			assert.ok(!r.session, `${what}: no session cookie`);
			assert.equal(await sessionCount(server), before, `${what}: no session row`);
		}
		// and the genuine token still works afterwards
		assert.equal((await fullLogin(users.alice)).res.status, 303);
	});

	test('a mix-up iss on the callback is refused', async () => {
		const s = await start(`tenant=${tenant.slug}`);
		const back = new URL(await idp.login(s.location, { login: users.alice.email, password: users.alice.password }));
		back.searchParams.set('iss', 'https://evil.example');
		await refused(() => callback(back.toString(), `px_sso=${s.binding}`), 401, /another identity provider/);
		const s2 = await start(`tenant=${tenant.slug}`);
		const back2 = new URL(await idp.login(s2.location, { login: users.alice.email, password: users.alice.password }));
		back2.searchParams.delete('iss'); // the provider says it always sends it
		await refused(() => callback(back2.toString(), `px_sso=${s2.binding}`), 401, /another identity provider/);
	});

	test('next= takes only same-origin relative paths', async () => {
		for (const next of ['https://evil.example/', '//evil.example', '/\\evil.example', 'javascript:alert(1)', '/ok/../..//evil']) {
			const r = await fullLogin(users.alice, `tenant=${tenant.slug}&next=${encodeURIComponent(next)}`);
			assert.equal(r.res.status, 303, next);
			const loc = r.res.headers.location;
			assert.ok(loc === '/' || (loc.startsWith('/') && !loc.startsWith('//') && !loc.includes('\\')), `${next} -> ${loc}`);
			if (next !== '/ok/../..//evil') assert.equal(loc, '/', next);
		}
	});

	test('session fixation: the session id changes at sign-in', async () => {
		const first = await fullLogin(users.alice);
		assert.ok(first.session);
		for (const planted of [first.session, 'pss_planted-by-an-attacker']) {
			const s = await start(`tenant=${tenant.slug}`);
			const back = await idp.login(s.location, { login: users.alice.email, password: users.alice.password });
			const { res, session } = await callback(back, `px_sso=${s.binding}; ${sessionCookieName}=${planted}`);
			assert.equal(res.status, 303);
			assert.ok(session && session !== planted, 'a new session id');
		}
	});

	test('an unverified email never links to an existing local account', async () => {
		const r = await refused(() => fullLogin(users.bob), 401, /not verified that the email is yours/);
		assert.ok(r);
		assert.deepEqual(await sql(server, `SELECT COUNT(*) FROM user_identities WHERE subject = 'bob-sub'`), [['0']]);
		// verified, the same account links, and keeps its role when no group maps
		const d = await fullLogin(users.dave);
		assert.equal(d.res.status, 303);
		const who = await me(d.session);
		assert.equal(who.json.user.email, users.dave.email);
		assert.equal(who.json.role, 'admin', 'admins maps to admin');
	});

	test("a verified email of another organization's account never links, even with provisioning on", async () => {
		const other = await createSecondTenant(server);
		idp.setUser('mallory-sub', { email: other.email, email_verified: true, name: 'Not Otto', groups: ['admins'], password: 'mallory-pw' });
		assert.equal((await configure({ allowed_domains: [] })).status, 200);
		await refused(() => fullLogin({ email: other.email, password: 'mallory-pw' }), 401, /exists outside this organization/);
		assert.deepEqual(await sql(server, `SELECT COUNT(*) FROM user_identities WHERE subject = 'mallory-sub'`), [['0']]);
		assert.deepEqual(await sql(server, `SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = '${other.email}'`), [['1']]);
		assert.equal((await configure({})).status, 200);
	});

	test('a domain the tenant does not allow, and no provisioning for strangers', async () => {
		await refused(() => fullLogin(users.carol, `tenant=${tenant.slug}`), 401, /domain is not one/);
		// provisioning off: a new person is not let in, and no user is created
		assert.equal((await configure({ jit_provisioning: false })).status, 200);
		idp.setUser('erin-sub', { email: `erin@${DOMAIN}`, email_verified: true, name: 'Erin', groups: [], password: 'erin-pw' });
		await refused(() => fullLogin({ email: `erin@${DOMAIN}`, password: 'erin-pw' }), 401, /no account in this organization/);
		assert.deepEqual(await sql(server, `SELECT COUNT(*) FROM users WHERE email = 'erin@${DOMAIN}'`), [['0']]);
		assert.equal((await configure({ jit_provisioning: true })).status, 200);
	});

	test('email-domain discovery finds the tenant; an unknown domain says so', async () => {
		const r = await fullLogin(users.alice, `email=${encodeURIComponent(users.alice.email)}`);
		assert.equal(r.res.status, 303);
		const none = await request(server, 'GET', '/sso/start?email=someone%40nowhere.example');
		assert.equal(none.status, 404);
		assert.match(none.text, /not set up/);
		const bare = await request(server, 'GET', '/sso/start');
		assert.equal(bare.status, 400);
		// the login page offers the tenant's button by slug
		const page = await request(server, 'GET', `/login?tenant=${tenant.slug}`);
		assert.match(page.text, /Sign in with Corp SSO/);
	});

	test('JWKS rotation: the provider rotates its key and sign-in still works', async () => {
		assert.equal((await fullLogin(users.alice)).res.status, 303);
		const old = idp.kid;
		const kid = await idp.rotateKeys();
		assert.notEqual(kid, old);
		await sleep(1100); // the refetch limit of this server (--sso-jwks-refetch-s 1)
		const r = await fullLogin(users.alice);
		assert.equal(r.res.status, 303, r.res.text.slice(0, 300));
		assert.equal((await me(r.session)).status, 200);
	});

	test('SSO required: passwords refused for members, the break-glass owner still signs in', async () => {
		const member = await inviteMember(server, admin.access_token, tenant.id, 'developer');
		const noGlass = await configure({ sso_required: true });
		assert.equal(noGlass.status, 422);
		assert.equal(noGlass.json.error.field, 'break_glass_user_id');
		const notOwner = await configure({ sso_required: true, break_glass_user_id: member.user.id });
		assert.equal(notOwner.status, 422);
		assert.equal(notOwner.json.error.code, 'not_owner');
		const ok = await configure({ sso_required: true, break_glass_user_id: owner.user.id });
		assert.equal(ok.status, 200, ok.text);
		const refusedLogin = await request(server, 'POST', '/api/v1/auth/login', { json: { email: member.email, password: member.password } });
		assert.equal(refusedLogin.status, 403);
		assert.equal(refusedLogin.json.error.code, 'sso_required');
		const glass = await request(server, 'POST', '/api/v1/auth/login', { json: { email: owner.email, password: owner.password } });
		assert.equal(glass.status, 200, glass.text);
		// SSO itself still signs members in
		assert.equal((await fullLogin(users.alice)).res.status, 303);
		assert.equal((await configure({ sso_required: false })).status, 200);
		const back = await request(server, 'POST', '/api/v1/auth/login', { json: { email: member.email, password: member.password } });
		assert.equal(back.status, 200);
	});

	test('the configuration API: admins only, the secret write-only, hostile input refused', async () => {
		const got = await request(server, 'GET', `/api/v1/tenants/${tenant.id}/sso`, auth());
		assert.equal(got.status, 200);
		assert.equal(got.json.client_secret_set, true);
		assert.ok(!got.text.includes(CLIENT.client_secret), 'the secret is never returned');
		assert.equal(got.json.redirect_uri, `${server.url}/sso/callback`);
		const sealed = await sql(server, `SELECT client_secret_enc FROM sso_configs`);
		assert.ok(!sealed[0][0].includes(CLIENT.client_secret), 'sealed at rest');
		// a PUT without the secret keeps it
		const body = { issuer: idp.issuer, client_id: CLIENT.client_id, allowed_domains: [DOMAIN], group_claim: 'groups', group_map: { eng: 'developer' }, jit_provisioning: true };
		assert.equal((await request(server, 'PUT', `/api/v1/tenants/${tenant.id}/sso`, { ...auth(), json: body })).status, 200);
		assert.equal((await fullLogin(users.alice)).res.status, 303);
		const dev = await inviteMember(server, admin.access_token, tenant.id, 'developer');
		const devAuth = { headers: { Authorization: `Bearer ${dev.token}` } };
		assert.equal((await request(server, 'GET', `/api/v1/tenants/${tenant.id}/sso`, devAuth)).status, 403);
		assert.equal((await request(server, 'PUT', `/api/v1/tenants/${tenant.id}/sso`, { ...devAuth, json: body })).status, 403);
		const bad = [
			[{ ...body, issuer: 'http://10.0.0.1/' }, 422, 'issuer'],
			[{ ...body, issuer: 'ftp://x' }, 422, 'issuer'],
			[{ ...body, client_id: '' }, 422, 'client_id'],
			[{ ...body, default_role: 'owner' }, 422, 'default_role'],
			[{ ...body, group_map: { eng: 'owner' } }, 422, 'group_map'],
			[{ ...body, group_map: { eng: 7 } }, 422, 'group_map'],
			[{ ...body, allowed_domains: ['not a domain'] }, 422, 'allowed_domains'],
			[{ ...body, allowed_domains: 'corp.example' }, 400, 'allowed_domains'],
			[{ ...body, surprise: 1 }, 400, 'surprise'],
			[{ ...body, issuer: 'http://127.0.0.1:9/nothing-here', client_secret: 'x' }, 422, 'issuer'],
			[{ ...body, issuer: 'http://127.0.0.1:9/other' }, 422, 'client_secret'], // another client: its secret is not kept
		];
		for (const [json, status, field] of bad) {
			const r = await request(server, 'PUT', `/api/v1/tenants/${tenant.id}/sso`, { ...auth(), json });
			assert.equal(r.status, status, `${JSON.stringify(json).slice(0, 120)}: ${r.text}`);
			assert.equal(r.json.error.field, field, r.text);
		}
		// nothing half-written: the stored configuration is the last good one
		const still = await request(server, 'GET', `/api/v1/tenants/${tenant.id}/sso`, auth());
		assert.equal(still.json.issuer, idp.issuer);
		assert.deepEqual(still.json.group_map, { eng: 'developer' });
		// another tenant's path answers like a missing one
		assert.equal((await request(server, 'GET', '/api/v1/tenants/00000000-0000-7000-8000-000000000000/sso', auth())).status, 404);
		// the logs never hold the secret
		assert.ok(!server.stderr().includes(CLIENT.client_secret), 'not logged');
	});
});

test('a flood of sign-in starts from one address is cut short (429), storing no more states', async () => {
	const server = await startServer({ args: ['--sso-allow-http-loopback', '--agent-allow', '127.0.0.1/32', '--login-rpm', '8'] });
	const idp = await startIdp({ clients: [{ ...CLIENT, redirect_uris: [`${server.url}/sso/callback`] }], users: [] });
	try {
		const owner = await setupOwner(server);
		const admin = await login(server, owner.email, owner.password);
		const put = await request(server, 'PUT', `/api/v1/tenants/${admin.tenant.id}/sso`, {
			headers: { Authorization: `Bearer ${admin.access_token}` },
			json: { issuer: idp.issuer, client_id: CLIENT.client_id, client_secret: CLIENT.client_secret },
		});
		assert.equal(put.status, 201, put.text);
		const codes = [];
		for (let i = 0; i < 20; i++) codes.push((await request(server, 'GET', `/sso/start?tenant=${admin.tenant.slug}`)).status);
		const ok = codes.filter((c) => c === 303).length;
		assert.ok(ok >= 1 && ok < 20, codes.join(' '));
		assert.ok(codes.includes(429), codes.join(' '));
		const limited = await request(server, 'GET', `/sso/start?tenant=${admin.tenant.slug}`);
		assert.equal(limited.status, 429);
		assert.match(limited.headers['retry-after'], /^\d+$/);
		assert.deepEqual(await sql(server, 'SELECT COUNT(*) FROM oidc_states'), [[String(ok)]]);
	} finally {
		await idp.stop();
		await server.stop();
	}
});
