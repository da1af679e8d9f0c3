// The workspace switcher and the workspaces pages over plain HTTP (issue 8): POST /workspace
// makes the same check as X-Parallax-Workspace before it keeps a pick (px_ws); a post without
// the CSRF pair, or naming a workspace of another tenant or one the user is not in, changes
// no cookie; `next` only ever leads to a path of this server; a px_ws cookie the user may not
// use (junk, a slug, another tenant's id) falls back to the default workspace for pages and
// the API alike; the workspaces forms are answered by the API, so a developer's forced post
// changes nothing. Runs against the real binary once per backend.
import test, { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backend, request, setupOwner, startServer } from './helpers/server.mjs';
import { createSecondTenant } from './helpers/tenants.mjs';
import { call, inviteMember, login } from './helpers/roles.mjs';
import { Browser } from './helpers/browser.mjs';

const setCookies = (res) => [].concat(res.headers['set-cookie'] ?? []);
const pxWs = (res) => setCookies(res).find((c) => c.startsWith('px_ws='));

describe(`workspace switcher and pages [${backend}]`, () => {
	let server;
	let owner;
	let dev;
	let other;
	let research;
	let ops;
	let T;

	const definition = (name) => ({ name, input: { type: 'object' }, nodes: [{ id: 'in', type: 'input' }, { id: 'out', type: 'output', from: 'in' }] });
	const names = async (ws) => (await call(server, 'GET', '/api/v1/patterns', owner.token, { headers: ws ? { 'X-Parallax-Workspace': ws } : {} })).json.items.map((p) => p.name);
	const workspaces = async () => (await call(server, 'GET', '/api/v1/workspaces', owner.token)).json.items.map((w) => w.slug).sort();

	before(async () => {
		server = await startServer();
		owner = await setupOwner(server);
		owner.token = (await login(server, owner.email, owner.password)).access_token;
		T = owner.tenant.id;
		dev = await inviteMember(server, owner.token, T, 'developer');
		research = (await call(server, 'POST', '/api/v1/workspaces', owner.token, { json: { name: 'Research', slug: 'research' } })).json;
		ops = (await call(server, 'POST', '/api/v1/workspaces', owner.token, { json: { name: 'Ops', slug: 'ops' } })).json;
		const put = await call(server, 'PUT', `/api/v1/workspaces/${research.id}/members/${dev.user.id}`, owner.token, { json: { role: 'viewer' } });
		assert.equal(put.status, 201, put.text);
		for (const [name, ws] of [['default-only'], ['research-only', 'research']]) {
			const res = await call(server, 'POST', '/api/v1/patterns', owner.token, { headers: ws ? { 'X-Parallax-Workspace': ws } : {}, json: { name, definition: definition(name) } });
			assert.equal(res.status, 201, res.text);
		}
		other = await createSecondTenant(server);
	});

	after(async () => {
		await server?.stop();
	});

	test('a pick is kept in an HttpOnly, SameSite=Lax cookie and applies to pages and the API; the header still wins', async () => {
		const b = await new Browser(server).signIn(owner.email, owner.password);
		await b.get('/patterns');
		const res = await b.post('/workspace', { workspace: research.id, next: '/patterns' });
		assert.equal(res.status, 303);
		assert.equal(res.headers.location, '/patterns');
		const cookie = pxWs(res);
		assert.match(cookie, new RegExp(`^px_ws=${research.id}; Path=/; Max-Age=\\d+; HttpOnly; SameSite=Lax$`));
		const page = await b.get('/patterns');
		assert.match(page.text, /<strong id="ws-current">Research<\/strong>/);
		assert.match(page.text, /research-only/);
		assert.doesNotMatch(page.text, /default-only/);
		const api = await request(server, 'GET', '/api/v1/patterns', { headers: b.header() });
		assert.deepEqual(api.json.items.map((p) => p.name), ['research-only']);
		const pinned = await request(server, 'GET', '/api/v1/patterns', { headers: b.header({ 'X-Parallax-Workspace': 'default' }) });
		assert.deepEqual(pinned.json.items.map((p) => p.name), ['default-only']);
		// by slug too, as the header takes; the cookie holds the id
		const bySlug = await b.post('/workspace', { workspace: 'ops', next: '/' });
		assert.match(pxWs(bySlug), new RegExp(`^px_ws=${ops.id};`));
	});

	test('without the CSRF pair, or without a session, nothing is switched', async () => {
		const b = await new Browser(server).signIn(owner.email, owner.password);
		await b.get('/');
		const res = await b.post('/workspace', { workspace: research.id, next: '/', csrf: null });
		assert.equal(res.status, 403);
		assert.equal(pxWs(res), undefined);
		const forged = await b.post('/workspace', { workspace: research.id, next: '/', csrf: 'x'.repeat(43) });
		assert.equal(forged.status, 403);
		assert.equal(pxWs(forged), undefined);
		const anon = await new Browser(server).post('/workspace', { workspace: research.id, next: '/' });
		assert.equal(anon.status, 303);
		assert.equal(anon.headers.location, '/login');
		assert.equal(pxWs(anon), undefined);
	});

	test('another tenant\'s workspace, one the user is not in, or junk: refused with a notice, the cookie unchanged', async () => {
		const b = await new Browser(server).signIn(dev.email, dev.password);
		await b.get('/');
		assert.equal(pxWs(await b.post('/workspace', { workspace: research.id, next: '/' })) !== undefined, true);
		for (const workspace of [other.workspace.id, other.workspace.slug ?? 'default-x', ops.id, 'ops', '', 'x'.repeat(500), '../default']) {
			const res = await b.post('/workspace', { workspace, next: '/patterns' });
			assert.equal(res.status, 303, workspace);
			assert.equal(res.headers.location, '/patterns', workspace);
			assert.equal(pxWs(res), undefined, workspace);
			assert.equal(await b.flash('/patterns'), 'no such workspace, or you are not a member of it', workspace);
		}
		assert.equal(b.cookies.get('px_ws'), research.id);
		assert.match((await b.get('/patterns')).text, /<strong id="ws-current">Research<\/strong>/);
	});

	test('next leads only to a path of this server', async () => {
		const b = await new Browser(server).signIn(owner.email, owner.password);
		await b.get('/');
		const cases = [
			['https://evil.example/', '/'], ['//evil.example/x', '/'], ['/\\evil.example', '/'], ['\\/evil.example', '/'],
			['javascript:alert(1)', '/'], ['/\r\nSet-Cookie: a=b', '/'], ['', '/'], ['agents', '/'], ['/agents?kind=http', '/agents?kind=http'],
		];
		for (const [next, to] of cases) {
			const res = await b.post('/workspace', { workspace: 'default', next });
			assert.equal(res.status, 303, JSON.stringify(next));
			assert.equal(res.headers.location, to, JSON.stringify(next));
		}
		const none = await b.post('/workspace', { workspace: 'default' });
		assert.equal(none.headers.location, '/');
	});

	test('a cookie the user may not use falls back to the default workspace, for pages and the API', async () => {
		const b = await new Browser(server).signIn(dev.email, dev.password);
		for (const value of [other.workspace.id, ops.id, 'research', 'garbage', '01234567-89ab-cdef-0123-456789abcdef', '"><script>']) {
			b.cookies.set('px_ws', encodeURIComponent(value));
			const page = await b.get('/patterns');
			assert.equal(page.status, 200, value);
			assert.match(page.text, /<strong id="ws-current">Default<\/strong>/, value);
			assert.match(page.text, /default-only/, value);
			const api = await request(server, 'GET', '/api/v1/patterns', { headers: b.header() });
			assert.equal(api.status, 200, value);
			assert.deepEqual(api.json.items.map((p) => p.name), ['default-only'], value);
		}
		// a workspace since deleted: the same, and no 404 on every page
		const gone = (await call(server, 'POST', '/api/v1/workspaces', owner.token, { json: { name: 'Gone', slug: 'gone' } })).json;
		const o = await new Browser(server).signIn(owner.email, owner.password);
		await o.get('/');
		await o.post('/workspace', { workspace: gone.id, next: '/' });
		assert.equal(o.cookies.get('px_ws'), gone.id);
		assert.equal((await call(server, 'DELETE', `/api/v1/workspaces/${gone.id}`, owner.token)).status, 204);
		for (const path of ['/', '/patterns', '/executions', '/agents', '/workspaces']) {
			const page = await o.get(path);
			assert.equal(page.status, 200, path);
			assert.match(page.text, /<strong id="ws-current">Default<\/strong>/, path);
		}
	});

	test('the workspace role applies on pages: a viewer there sees no create control and a forced create is refused', async () => {
		const b = await new Browser(server).signIn(dev.email, dev.password);
		await b.get('/');
		await b.post('/workspace', { workspace: research.id, next: '/patterns' });
		const page = await b.get('/patterns');
		assert.match(page.text, /<strong id="role">viewer<\/strong>/);
		assert.doesNotMatch(page.text, /New in the builder/);
		const forced = await request(server, 'POST', '/api/v1/patterns', {
			headers: b.header({ 'X-CSRF-Token': b.csrf, Origin: server.url }),
			json: { name: 'sneaky', definition: definition('sneaky') },
		});
		assert.equal(forced.status, 403);
		assert.deepEqual(await names('research'), ['research-only']);
		await b.post('/workspace', { workspace: 'default', next: '/patterns' });
		const home = await b.get('/patterns');
		assert.match(home.text, /<strong id="role">developer<\/strong>/);
		assert.match(home.text, /New in the builder/);
	});

	test('forced posts to the workspaces forms by a developer change nothing; another tenant\'s workspace is not found', async () => {
		const b = await new Browser(server).signIn(dev.email, dev.password);
		await b.get('/workspaces');
		const before = await workspaces();
		const cases = [
			['/workspaces', { name: 'Mine', slug: 'mine' }, '/workspaces', /your role may not create workspace/],
			[`/workspaces/${research.id}/members/${dev.user.id}/role`, { role: '' }, `/workspaces/${research.id}`, /your role may not update workspace/],
			[`/workspaces/${research.id}/members/${dev.user.id}/remove`, {}, `/workspaces/${research.id}`, /your role may not update workspace/],
			[`/workspaces/${ops.id}/members`, { user_id: dev.user.id, role: 'developer' }, `/workspaces/${ops.id}`, /your role may not update workspace/],
			[`/workspaces/${research.id}/edit`, { name: 'Pwned', slug: 'pwned' }, `/workspaces/${research.id}`, /your role may not update workspace/],
			[`/workspaces/${research.id}/delete`, {}, `/workspaces/${research.id}`, /your role may not delete workspace/],
		];
		for (const [path, fields, back, message] of cases) {
			const res = await b.post(path, fields);
			assert.equal(res.status, 303, path);
			assert.match((await b.flash(back)) ?? '', message, path);
		}
		assert.deepEqual(await workspaces(), before);
		const members = await call(server, 'GET', `/api/v1/workspaces/${research.id}/members`, owner.token);
		assert.equal(members.json.items.find((m) => m.user_id === dev.user.id)?.role, 'viewer');
		// the developer cannot see Ops at all: its page is a 404 in the shell
		const hidden = await b.get(`/workspaces/${ops.id}`);
		assert.equal(hidden.status, 404);
		assert.match(hidden.text, /Workspace not found/);

		const o = await new Browser(server).signIn(owner.email, owner.password);
		await o.get('/workspaces');
		const foreign = await o.get(`/workspaces/${other.workspace.id}`);
		assert.equal(foreign.status, 404);
		const del = await o.post(`/workspaces/${other.workspace.id}/delete`, {});
		assert.equal(del.status, 303);
		assert.match((await o.flash('/workspaces')) ?? '', /no such workspace/);
		const still = await call(server, 'GET', `/api/v1/workspaces/${other.workspace.id}`, other.token);
		assert.equal(still.status, 200);
	});

	test('admin forms: add, override, clear and remove a member; rename; the default workspace is not deleted', async () => {
		const o = await new Browser(server).signIn(owner.email, owner.password);
		await o.get(`/workspaces/${ops.id}`);
		const page = `/workspaces/${ops.id}`;
		const member = async () => (await call(server, 'GET', `/api/v1/workspaces/${ops.id}/members`, owner.token)).json.items.find((m) => m.user_id === dev.user.id);
		assert.equal((await o.post(`${page}/members`, { user_id: '', role: '' })).headers.location, `${page}#add`);
		assert.equal(await o.flash(page), 'choose who to add');
		let res = await o.post(`${page}/members`, { user_id: dev.user.id, role: 'operator' });
		assert.equal(res.headers.location, `${page}#members`);
		assert.equal((await member()).role, 'operator');
		res = await o.post(`${page}/members/${dev.user.id}/role`, { role: '' });
		assert.equal((await member()).role, null);
		assert.equal((await member()).effective_role, 'developer');
		res = await o.post(`${page}/members/${dev.user.id}/role`, { role: 'emperor' });
		assert.match((await o.flash(page)) ?? '', /^role: 'role' must be one of/);
		assert.equal((await member()).role, null);
		res = await o.post(`${page}/members/${dev.user.id}/remove`, {});
		assert.equal(await member(), undefined);
		res = await o.post(`${page}/edit`, { name: 'Operations <b>', slug: 'operations', description: 'on call' });
		assert.equal(res.headers.location, `${page}#settings`);
		const renamed = await call(server, 'GET', `/api/v1/workspaces/${ops.id}`, owner.token);
		assert.equal(renamed.json.name, 'Operations <b>');
		assert.equal(renamed.json.slug, 'operations');
		const shown = await o.get(page);
		assert.match(shown.text, /Operations &lt;b&gt;/);
		assert.doesNotMatch(shown.text, /Operations <b>/);
		const def = (await call(server, 'GET', '/api/v1/workspaces/default', owner.token)).json;
		res = await o.post(`/workspaces/${def.id}/delete`, {});
		assert.equal(res.headers.location, `/workspaces/${def.id}#delete`);
		assert.match((await o.flash(`/workspaces/${def.id}`)) ?? '', /default/);
		assert.ok((await workspaces()).includes('default'));
	});
});
