// The patterns pages over plain HTTP (no browser): signed-out redirects, tenant isolation
// (another tenant's pattern is "no such pattern" on every page and post), the list's cursor
// pages, CSRF and origin checks on the forms, the run form pinned to the version it was
// made from, and the "Download YAML" link under a cookie session. The browser-side
// behaviour is in tests/e2e/patterns.spec.mjs.
import test, { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backend, get, post, request, setupOwner, startServer } from './helpers/server.mjs';
import { createSecondTenant } from './helpers/tenants.mjs';

const FORM = 'application/x-www-form-urlencoded';

// A cookie session signed in through the sign-in form: {cookie, csrf, get(path), post(path, fields)}.
async function browserSession(server, email, password) {
	const jar = new Map();
	const keep = (res) => {
		for (const c of [res.headers['set-cookie'] ?? []].flat()) {
			const [pair] = c.split(';');
			const i = pair.indexOf('=');
			jar.set(pair.slice(0, i), pair.slice(i + 1));
		}
		return res;
	};
	const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
	const csrfOf = (html) => /name="csrf" value="([^"]+)"/.exec(html)?.[1];
	const page = keep(await get(server, '/login'));
	const login = keep(await post(server, '/login', {
		body: new URLSearchParams({ csrf: csrfOf(page.text), email, password }).toString(),
		headers: { 'Content-Type': FORM, Cookie: cookie() },
	}));
	assert.equal(login.status, 303, `sign-in: ${login.status} ${login.text.slice(0, 200)}`);
	const s = {
		get: async (path) => keep(await get(server, path, { headers: { Cookie: cookie() } })),
		post: async (path, fields, headers = {}) => keep(await post(server, path, {
			body: new URLSearchParams(fields).toString(),
			headers: { 'Content-Type': FORM, Cookie: cookie(), ...headers },
		})),
	};
	s.csrf = csrfOf((await s.get('/patterns')).text);
	assert.ok(s.csrf, 'a CSRF token on the page');
	return s;
}

function definition(name, input = { type: 'object' }) {
	return {
		name,
		input,
		nodes: [
			{ id: 'in', type: 'input' },
			{ id: 'ask', type: 'agent', from: 'in', select: { capabilities: ['c'] }, task: 'Answer', data: '.input' },
			{ id: 'out', type: 'output', from: 'ask' },
		],
	};
}

describe(`patterns pages [${backend}]`, () => {
	let server, owner, auth, ownerPage, other, otherPage, pattern;

	before(async () => {
		server = await startServer();
		owner = await setupOwner(server);
		const login = await post(server, '/api/v1/auth/login', { json: { email: owner.email, password: owner.password } });
		auth = { headers: { Authorization: `Bearer ${login.json.access_token}` } };
		const agent = await request(server, 'POST', '/api/v1/agents', {
			...auth,
			json: { name: 'const', kind: 'builtin', capabilities: ['c'], config: { type: 'constant', value: 1, confidence: 0.9 } },
		});
		assert.equal(agent.status, 201);
		const created = await request(server, 'POST', '/api/v1/patterns', {
			...auth,
			json: { name: 'pinned', definition: definition('pinned', { type: 'object', properties: { n: { type: 'integer' } } }) },
		});
		assert.equal(created.status, 201, created.text);
		pattern = created.json;
		ownerPage = await browserSession(server, owner.email, owner.password);
		other = await createSecondTenant(server);
		otherPage = await browserSession(server, other.email, other.password);
	});

	after(async () => {
		await server?.stop();
	});

	const executions = async () => (await request(server, 'GET', '/api/v1/executions', auth)).json.items;

	test('signed out, every page redirects to the sign-in and back', async () => {
		for (const path of ['/patterns', '/patterns/library', `/patterns/${pattern.id}`, `/patterns/${pattern.id}/run`]) {
			const r = await get(server, path);
			assert.equal(r.status, 303, path);
			assert.equal(r.headers.location, `/login?next=${path}`, path);
		}
		const diff = await get(server, `/patterns/${pattern.id}/versions/diff?from=1&to=1`);
		assert.equal(diff.status, 303);
		assert.equal(diff.headers.location, `/login?next=/patterns/${pattern.id}/versions/diff`);
	});

	test("another tenant's pattern is no such pattern on every page and post", async () => {
		for (const path of [`/patterns/${pattern.id}`, `/patterns/${pattern.id}/run`, `/patterns/${pattern.id}/versions/diff?from=1&to=1`, '/patterns/pinned']) {
			const r = await otherPage.get(path);
			assert.equal(r.status, 404, path);
			assert.match(r.text, /No such pattern/, path);
			assert.doesNotMatch(r.text, /pinned/, path);
		}
		const list = await otherPage.get('/patterns');
		assert.equal(list.status, 200);
		assert.doesNotMatch(list.text, /pinned/);
		const run = await otherPage.post(`/patterns/${pattern.id}/run`, { csrf: otherPage.csrf, version: '1', 'in-0': '1' });
		assert.equal(run.status, 404);
		const del = await otherPage.post(`/patterns/${pattern.id}/delete`, { csrf: otherPage.csrf });
		assert.equal(del.status, 303);
		assert.equal(del.headers.location, `/patterns/${pattern.id}`);
		assert.equal((await request(server, 'GET', `/api/v1/patterns/${pattern.id}`, auth)).status, 200, 'still there');
		assert.deepEqual(await executions(), []);
	});

	test('the list pages with the cursor; a forged cursor starts over', async () => {
		for (let i = 0; i < 52; i++) {
			const r = await request(server, 'POST', '/api/v1/patterns', { ...auth, json: { name: `bulk-${i}`, definition: definition(`bulk-${i}`) } });
			assert.equal(r.status, 201);
		}
		const first = await ownerPage.get('/patterns');
		assert.equal((first.text.match(/<tr data-id=/g) ?? []).length, 50);
		const next = /<a rel="next" href="\/patterns\?cursor=([^"]+)">Older<\/a>/.exec(first.text);
		assert.ok(next, 'an Older link');
		const second = await ownerPage.get(`/patterns?cursor=${next[1]}`);
		assert.equal(second.status, 200);
		assert.equal((second.text.match(/<tr data-id=/g) ?? []).length, 3); // 52 + pinned - 50
		assert.match(second.text, /href="\/patterns">Newest</);
		assert.doesNotMatch(second.text, /rel="next"/);
		const forged = await ownerPage.get('/patterns?cursor=%3Cscript%3E');
		assert.equal(forged.status, 303);
		assert.equal(forged.headers.location, '/patterns');
	});

	test('forms refuse a post without the CSRF token or from another origin', async () => {
		const before = await executions();
		const bare = await ownerPage.post(`/patterns/${pattern.id}/run`, { version: '1', 'in-0': '2' });
		assert.equal(bare.status, 403);
		const wrong = await ownerPage.post(`/patterns/${pattern.id}/run`, { csrf: 'x'.repeat(43), version: '1', 'in-0': '2' });
		assert.equal(wrong.status, 403);
		const evil = await ownerPage.post(`/patterns/${pattern.id}/run`, { csrf: ownerPage.csrf, version: '1', 'in-0': '2' }, { Origin: 'https://evil.example' });
		assert.equal(evil.status, 403);
		const imp = await ownerPage.post('/patterns/import', { document: 'name: sneaky\nnodes: []' });
		assert.equal(imp.status, 403);
		assert.deepEqual(await executions(), before);
		assert.equal((await request(server, 'GET', '/api/v1/patterns/sneaky', auth)).status, 404);
	});

	test('the run form is pinned to the version it was made from', async () => {
		const v2 = await request(server, 'POST', `/api/v1/patterns/${pattern.id}/versions`, {
			...auth,
			json: { definition: definition('pinned', { type: 'object', properties: { n: { type: 'string' } } }) },
		});
		assert.equal(v2.status, 201);
		// a form made from version 1 (n: integer) is read as version 1 and runs it
		const run = await ownerPage.post(`/patterns/${pattern.id}/run`, { csrf: ownerPage.csrf, version: '1', 'in-0': '5' });
		assert.equal(run.status, 303, run.text.slice(0, 300));
		const id = /^\/executions\/([0-9a-f-]{36})$/.exec(run.headers.location)?.[1];
		assert.ok(id, run.headers.location);
		const x = await request(server, 'GET', `/api/v1/executions/${id}`, auth);
		assert.equal(x.json.pattern.version, 1);
		assert.deepEqual(x.json.input, { n: 5 });
		// a version that does not exist is never guessed at: the form comes back, for the latest
		const before = (await executions()).length;
		const gone = await ownerPage.post(`/patterns/${pattern.id}/run`, { csrf: ownerPage.csrf, version: '99', 'in-0': 'x' });
		assert.equal(gone.status, 422);
		assert.match(gone.text, /That version of the pattern is gone/);
		assert.match(gone.text, /Run version 2/);
		assert.equal((await executions()).length, before);
	});

	test('the Download YAML link works in the cookie session', async () => {
		const page = await ownerPage.get(`/patterns/${pattern.id}`);
		const href = /href="(\/api\/v1\/patterns\/[^"]+\/export\?format=yaml)"/.exec(page.text)?.[1];
		assert.ok(href, 'a download link');
		const yaml = await ownerPage.get(href.replace(/&amp;/g, '&'));
		assert.equal(yaml.status, 200);
		assert.match(yaml.headers['content-type'], /yaml/);
		assert.match(yaml.text, /^name: pinned$/m);
	});
});
