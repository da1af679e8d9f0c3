// The settings page's single sign-on forms over plain HTTP: an admin's form is answered by
// the API's own handler (the secret sealed, never echoed into the page); a developer's forced
// post and a post without its CSRF token change nothing; the login page's SSO link for an
// email's domain. Runs once per backend.
import test, { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, setupOwner, request } from './helpers/server.mjs';
import { inviteMember, login } from './helpers/roles.mjs';
import { Browser } from './helpers/browser.mjs';
import { startIdp } from '../idp/idp.mjs';

const SECRET = 'pages-sso-client-secret-0123456789abcdef';

describe('settings: single sign-on forms', () => {
	let server, idp, owner, admin;
	before(async () => {
		server = await startServer({ args: ['--sso-allow-http-loopback', '--agent-allow', '127.0.0.1/32'] });
		idp = await startIdp({ clients: [{ client_id: 'web', client_secret: SECRET, redirect_uris: [`${server.url}/sso/callback`] }], users: [] });
		owner = await setupOwner(server);
		admin = await login(server, owner.email, owner.password);
	});
	after(async () => {
		await idp?.stop();
		await server?.stop();
	});
	const ssoNow = () => request(server, 'GET', `/api/v1/tenants/${admin.tenant.id}/sso`, { headers: { Authorization: `Bearer ${admin.access_token}` } });
	const form = (extra = {}) => ({
		issuer: idp.issuer, client_id: 'web', client_secret: SECRET, display_name: 'Web SSO',
		allowed_domains: 'corp.example, Other.Example', default_role: 'viewer', group_claim: 'groups',
		group_map: 'eng = developer\nops: operator\n', enabled: '1', jit_provisioning: '1', ...extra,
	});

	test("an admin's form is the API's PUT; the page shows it, never the secret", async () => {
		const b = await new Browser(server).signIn(owner.email, owner.password);
		const page = await b.get('/settings');
		assert.match(page.text, /id="sso-form"/);
		assert.match(page.text, new RegExp(`${server.url.replace(/[.:/]/g, '\\$&')}/sso/callback`));
		const res = await b.post('/settings/sso', form());
		assert.equal(res.status, 303, res.text);
		assert.equal(res.headers.location, '/settings#sso');
		const got = await ssoNow();
		assert.equal(got.status, 200);
		assert.deepEqual(got.json.allowed_domains, ['corp.example', 'other.example']);
		assert.deepEqual(got.json.group_map, { eng: 'developer', ops: 'operator' });
		assert.equal(got.json.jit_provisioning, true);
		const after = await b.get('/settings');
		assert.match(after.text, /Single sign-on saved\./);
		assert.ok(!after.text.includes(SECRET), 'the secret never reaches the page');
		assert.match(after.text, /Set \(never shown\)/);
		// a refused form names why, and the stored configuration stays
		const bad = await b.post('/settings/sso', form({ group_map: 'eng = owner' }));
		assert.equal(bad.status, 303);
		const shown = await b.get('/settings');
		assert.match(shown.text, /admin, developer, operator or viewer/);
		assert.deepEqual((await ssoNow()).json.group_map, { eng: 'developer', ops: 'operator' });
	});

	test("a developer's forced post and a post without CSRF change nothing", async () => {
		const before = (await ssoNow()).json;
		const dev = await inviteMember(server, admin.access_token, admin.tenant.id, 'developer');
		const d = await new Browser(server).signIn(dev.email, dev.password);
		const page = await d.get('/settings');
		assert.ok(!/id="sso-form"/.test(page.text), 'no SSO form for a developer');
		await d.post('/settings/sso', form({ issuer: 'https://evil.example', display_name: 'Evil' }));
		await d.post('/settings/sso/delete', {});
		assert.deepEqual((await ssoNow()).json, before);
		const b = await new Browser(server).signIn(owner.email, owner.password);
		await b.get('/settings');
		const noCsrf = await b.post('/settings/sso', { ...form({ display_name: 'No token' }), csrf: null });
		assert.equal(noCsrf.status, 403);
		const delNoCsrf = await b.post('/settings/sso/delete', { csrf: null });
		assert.equal(delNoCsrf.status, 403);
		assert.deepEqual((await ssoNow()).json, before);
	});

	test("the login page: an email's domain offers its organization's link", async () => {
		const res = await request(server, 'GET', '/login?sso_email=someone%40Corp.Example&next=%2Fpatterns');
		assert.equal(res.status, 200);
		assert.match(res.text, /Sign in with Web SSO/);
		const href = /id="sso-tenant" href="([^"]+)"/.exec(res.text)[1].replace(/&amp;/g, '&');
		const start = await request(server, 'GET', href);
		assert.equal(start.status, 303, start.text);
		assert.ok(start.headers.location.startsWith(`${idp.issuer}/`), start.headers.location);
		const none = await request(server, 'GET', '/login?sso_email=x%40nowhere.example');
		assert.match(none.text, /not set up for this email/);
		// removing it: the page's form, then passwords only
		const b = await new Browser(server).signIn(owner.email, owner.password);
		await b.get('/settings');
		assert.equal((await b.post('/settings/sso/delete', {})).status, 303);
		assert.equal((await ssoNow()).status, 404);
		assert.match((await request(server, 'GET', '/login?sso_email=someone%40corp.example')).text, /not set up/);
	});
});
