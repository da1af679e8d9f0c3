// The members and settings pages over plain HTTP (issue 6): their forms are answered by the
// API's own handlers, so a forced post by a role that may not, a post without the CSRF pair,
// one without a session, or one aimed at another tenant changes nothing; the one-time reveal
// of an invitation link or an API key is bound to its page, its user and a single read.
// Runs against the real binary once per backend (PARALLAX_TEST_DB=sqlite|postgres).
import test, { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backend, request, setupOwner, startServer } from './helpers/server.mjs';
import { createSecondTenant } from './helpers/tenants.mjs';
import { call, inviteMember } from './helpers/roles.mjs';
import { Browser } from './helpers/browser.mjs';

describe(`members and settings pages [${backend}]`, () => {
	let server;
	let owner;
	let ownerToken;
	let T;
	let viewer;
	let admin;
	const list = async (what) => (await call(server, 'GET', `/api/v1/tenants/${T}/${what}`, ownerToken)).json.items;

	before(async () => {
		server = await startServer();
		owner = await setupOwner(server);
		T = owner.tenant.id;
		ownerToken = (await request(server, 'POST', '/api/v1/auth/login', { json: { email: owner.email, password: owner.password } })).json.access_token;
		viewer = await inviteMember(server, ownerToken, T, 'viewer');
		admin = await inviteMember(server, ownerToken, T, 'admin');
	});
	after(async () => {
		await server?.stop();
	});

	test('signed out: the pages send to the sign-in, and their forms to it without acting', async () => {
		for (const path of ['/members', '/settings', '/members/invited', '/settings/api-keys/created']) {
			const res = await request(server, 'GET', path);
			assert.equal(res.status, 303, path);
			assert.equal(res.headers.location, `/login?next=${path}`);
		}
		// a bearer token is no browser session either: the page asks for a sign-in
		const bearer = await call(server, 'GET', '/members', ownerToken);
		assert.equal(bearer.status, 303);
		const forms = [['/members/invite', { email: 'x@example.com', role: 'viewer' }], ['/settings/api-keys', { name: 'k', role: 'viewer' }]];
		for (const [path, fields] of forms) {
			const res = await call(server, 'POST', path, ownerToken, { form: fields });
			assert.equal(res.status, 303, path);
			assert.equal(res.headers.location, '/login');
		}
		assert.deepEqual(await list('invitations'), []);
		assert.deepEqual(await list('api-keys'), []);
	});

	test('a post without the CSRF pair, or from another origin, is refused and changes nothing', async () => {
		const b = await new Browser(server).signIn(owner.email, owner.password);
		await b.get('/members');
		const none = await b.post('/members/invite', { csrf: null, email: 'nocsrf@example.com', role: 'viewer' });
		assert.equal(none.status, 403);
		const wrong = await b.post('/settings/api-keys', { csrf: 'x'.repeat(43), name: 'forged', role: 'viewer' });
		assert.equal(wrong.status, 403);
		const cross = await request(server, 'POST', '/settings/tenant', {
			headers: b.header({ 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'https://evil.example' }),
			body: new URLSearchParams({ csrf: b.csrf, name: 'Taken' }).toString(),
		});
		assert.equal(cross.status, 403);
		assert.deepEqual(await list('invitations'), []);
		assert.deepEqual(await list('api-keys'), []);
		assert.equal((await call(server, 'GET', `/api/v1/tenants/${T}`, ownerToken)).json.name, 'Acme Test');
	});

	test("a viewer's forced posts are the API's refusals: a notice, and nothing changes", async () => {
		const b = await new Browser(server).signIn(viewer.email, viewer.password);
		const page = await b.get('/members');
		assert.equal(page.status, 200);
		assert.doesNotMatch(page.text, /action="\/members\/invite"|name="role"|\/remove"/);
		const settings = await b.get('/settings');
		assert.doesNotMatch(settings.text, /id="api-keys"|action="\/settings\//);
		const forced = [
			['/members/invite', { email: 'in@example.com', role: 'viewer' }, '/members', /your role may not create invitation/],
			['/settings/api-keys', { name: 'forced', role: 'viewer' }, '/settings', /your role may not create api_key/],
			[`/members/${admin.user.id}/remove`, {}, '/members', /your role may not delete member/],
			[`/members/${viewer.user.id}/role`, { role: 'owner' }, '/members', /your role may not update member/],
			['/settings/quotas', { members: '2' }, '/settings', /your role may not update quota/],
			['/settings/tenant', { name: 'Mine now' }, '/settings', /your role may not update tenant/],
		];
		for (const [path, fields, back, message] of forced) {
			const res = await b.post(path, fields);
			assert.equal(res.status, 303, path);
			assert.equal(res.headers.location.replace(/#.*/, ''), back, path);
			assert.match(await b.flash(back), message, path);
		}
		assert.deepEqual(await list('invitations'), []);
		assert.deepEqual(await list('api-keys'), []);
		const members = await list('members');
		assert.equal(members.length, 3);
		assert.equal(members.find((m) => m.user_id === viewer.user.id).role, 'viewer');
		assert.equal((await call(server, 'GET', `/api/v1/tenants/${T}`, ownerToken)).json.name, 'Acme Test');
	});

	test("an admin cannot touch the owner: the API's refusal is the notice", async () => {
		const b = await new Browser(server).signIn(admin.email, admin.password);
		const page = await b.get('/members');
		assert.doesNotMatch(page.text, new RegExp(`/members/${owner.user.id}/`), 'no controls on the owner row');
		assert.match(page.text, new RegExp(`/members/${viewer.user.id}/role`), 'controls on rows below');
		for (const [path, fields] of [[`/members/${owner.user.id}/role`, { role: 'viewer' }], [`/members/${owner.user.id}/remove`, {}]]) {
			const res = await b.post(path, fields);
			assert.equal(res.status, 303);
			assert.match(await b.flash('/members'), /cannot change a member above your role/);
		}
		const grant = await b.post(`/members/${viewer.user.id}/role`, { role: 'owner' });
		assert.equal(grant.status, 303);
		assert.match(await b.flash('/members'), /role: you cannot grant a role above your own \(admin\)/);
		const members = await list('members');
		assert.equal(members.find((m) => m.user_id === owner.user.id).role, 'owner');
		assert.equal(members.find((m) => m.user_id === viewer.user.id).role, 'viewer');
	});

	test('another tenant is out of reach: its members and invitations are "no such"', async () => {
		const other = await createSecondTenant(server);
		const b = await new Browser(server).signIn(other.email, other.password);
		await b.get('/members');
		const res = await b.post(`/members/${viewer.user.id}/remove`, {});
		assert.equal(res.status, 303);
		assert.match(await b.flash('/members'), /no such member/);
		const inv = await call(server, 'POST', `/api/v1/tenants/${T}/invitations`, ownerToken, { json: { email: 'keep@example.com', role: 'viewer' } });
		assert.equal(inv.status, 201);
		await b.post(`/members/invitations/${inv.json.id}/revoke`, {});
		assert.match(await b.flash('/members'), /no such pending invitation/);
		const page = await b.get('/members');
		assert.doesNotMatch(page.text, new RegExp(`${viewer.email}|keep@example\\.com`));
		assert.ok((await list('members')).some((m) => m.user_id === viewer.user.id));
		assert.ok((await list('invitations')).some((i) => i.id === inv.json.id));
		await call(server, 'DELETE', `/api/v1/tenants/${T}/invitations/${inv.json.id}`, ownerToken);
	});

	test('a new key is revealed once: a scoped, short-lived HttpOnly cookie, read by its user only', async () => {
		const b = await new Browser(server).signIn(owner.email, owner.password);
		await b.get('/settings');
		const made = await b.post('/settings/api-keys', { name: 'reveal', role: 'viewer', expires_days: '7' });
		assert.equal(made.status, 303);
		assert.equal(made.headers.location, '/settings/api-keys/created');
		const set = [].concat(made.headers['set-cookie'] || []).find((c) => c.startsWith('parallax_reveal='));
		assert.ok(set, 'a reveal cookie');
		assert.match(set, /; Path=\/settings\/api-keys\/created;/);
		assert.match(set, /; Max-Age=120;/);
		assert.match(set, /; HttpOnly/);
		assert.match(set, /; SameSite=Strict/);
		const stolen = set.split(';')[0];

		// Another user on the same browser (same cookie, their session) sees nothing.
		const a = await new Browser(server).signIn(admin.email, admin.password);
		const theirs = await request(server, 'GET', '/settings/api-keys/created', { headers: { Cookie: `${a.header().Cookie}; ${stolen}` } });
		assert.equal(theirs.status, 200);
		assert.match(theirs.text, /id="nothing"/);
		assert.doesNotMatch(theirs.text, /plx_[A-Za-z0-9_-]{43}/);

		const shown = await b.get('/settings/api-keys/created');
		const key = /id="secret"[^>]*value="(plx_[A-Za-z0-9_-]{43})"/.exec(shown.text)?.[1];
		assert.ok(key, 'the key on its page');
		assert.ok(!b.cookies.has('parallax_reveal'), 'the page cleared the cookie');
		assert.equal((await call(server, 'GET', '/api/v1/auth/me', key)).status, 200);
		const again = await b.get('/settings/api-keys/created');
		assert.match(again.text, /id="nothing"/);
		const later = await b.get('/settings');
		assert.ok(!again.text.includes(key) && !later.text.includes(key) && !later.text.includes(key.slice(12)));
		const made2 = (await list('api-keys')).find((k) => k.name === 'reveal');
		await call(server, 'DELETE', `/api/v1/tenants/${T}/api-keys/${made2.id}`, ownerToken);
	});

	test('hostile input: a forged cursor starts from the top, bad form values get the API\'s words', async () => {
		const b = await new Browser(server).signIn(owner.email, owner.password);
		for (const path of ['/members?cursor=%00%ff', '/members?cursor=AAAA&icursor=zz&wcursor=%3Cscript%3E', '/settings?cursor=not-a-cursor']) {
			const res = await b.get(path);
			assert.equal(res.status, 200, path);
			assert.doesNotMatch(res.text, /<script>/, path);
		}
		const cases = [
			['/members/invite', { email: 'not-an-email', role: 'viewer' }, '/members', /email: 'email' is not an email address/],
			['/members/invite', { email: 'a@example.com', role: 'emperor' }, '/members', /role: 'role' must be one of/],
			['/settings/api-keys', { name: '', role: 'viewer' }, '/settings', /name/],
			['/settings/api-keys', { name: 'k', role: 'viewer', expires_days: '99999' }, '/settings', /expires_in_days/],
			['/settings/quotas', { members: '-1' }, '/settings', /members/],
			['/settings/quotas', { agents: '1e3' }, '/settings', /agents/],
			['/settings/tenant', { name: 'a\u0001b' }, '/settings', /control characters/],
			['/members/workspaces/nope/nobody/role', { role: 'viewer' }, '/members', /no such workspace|not found/i],
		];
		for (const [path, fields, back, message] of cases) {
			const res = await b.post(path, fields);
			assert.equal(res.status, 303, path);
			assert.match((await b.flash(back)) ?? '', message, `${path} ${JSON.stringify(fields)}`);
		}
		assert.deepEqual(await list('invitations'), []);
		assert.deepEqual(await list('api-keys').then((k) => k.filter((x) => !x.revoked_at)), []);
	});
});
