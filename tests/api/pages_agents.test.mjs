// The agents pages' forms over plain HTTP (issue 6), as a browser without JavaScript sends
// them: each is answered by the API's own handler, so a role that may not is refused and
// nothing changes, a post without the CSRF pair is refused, a signed-out one goes to the
// sign-in; an edit keeps a secret left blank, removes it when asked and leaves credential
// headers alone unless they are changed; a ws agent's connect token is shown once; another
// tenant's agent is a 404 that names nothing. Runs once per backend.
import test, { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { get, request, setupOwner, startServer } from './helpers/server.mjs';
import { inviteMember, login } from './helpers/roles.mjs';
import { createSecondTenant } from './helpers/tenants.mjs';

const FORM = 'application/x-www-form-urlencoded';

// A signed-in browser session through the sign-in form: cookies kept, and the CSRF token
// every form carries.
async function browser(server, email, password) {
	const jar = new Map();
	const keep = (res) => {
		const raw = res.headers['set-cookie'];
		for (const line of Array.isArray(raw) ? raw : raw ? [raw] : []) {
			const [pair] = line.split(';');
			const i = pair.indexOf('=');
			const name = pair.slice(0, i).trim();
			if (/max-age=0/i.test(line) || i === pair.length - 1) jar.delete(name);
			else jar.set(name, pair.slice(i + 1));
		}
		return res;
	};
	const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
	const s = {
		get: async (path) => keep(await get(server, path, { headers: { Cookie: cookie() } })),
		post: async (path, fields, headers = {}) =>
			keep(await request(server, 'POST', path, { body: new URLSearchParams(fields).toString(), headers: { 'Content-Type': FORM, Cookie: cookie(), ...headers } })),
		csrf: null,
	};
	const page = await s.get('/login');
	s.csrf = /name="csrf" value="([^"]+)"/.exec(page.text)[1];
	const res = await s.post('/login', { email, password, csrf: s.csrf });
	assert.equal(res.status, 303, `sign-in: ${res.status} ${res.text.slice(0, 200)}`);
	return s;
}

describe('agents pages: forms', () => {
	let server, owner, api, dev, viewer, agent;
	before(async () => {
		server = await startServer();
		owner = await setupOwner(server);
		const tok = (await login(server, owner.email, owner.password)).access_token;
		api = (method, path, json) => request(server, method, path, { headers: { Authorization: `Bearer ${tok}` }, json });
		const d = await inviteMember(server, tok, owner.tenant.id, 'developer');
		const v = await inviteMember(server, tok, owner.tenant.id, 'viewer');
		dev = await browser(server, d.email, d.password);
		viewer = await browser(server, v.email, v.password);
		const a = await api('POST', '/api/v1/agents', { name: 'kept', kind: 'builtin', capabilities: ['c'], config: { type: 'constant', value: 1, confidence: 0.5 } });
		assert.equal(a.status, 201);
		agent = a.json;
	});
	after(async () => {
		await server?.stop();
	});

	const names = async () => (await api('GET', '/api/v1/agents')).json.items.map((a) => a.name).sort();

	test('signed out: the pages go to the sign-in, the forms too, and nothing changes', async () => {
		const page = await get(server, '/agents');
		assert.equal(page.status, 303);
		assert.equal(page.headers.location, '/login?next=/agents');
		for (const path of ['/agents', `/agents/${agent.id}/edit`, `/agents/${agent.id}/test`, `/agents/${agent.id}/delete`]) {
			const res = await request(server, 'POST', path, { body: 'name=x&kind=builtin', headers: { 'Content-Type': FORM } });
			assert.equal(res.status, 303, `POST ${path}`);
			assert.match(res.headers.location, /^\/login/);
		}
		assert.deepEqual(await names(), ['kept']);
	});

	test('a viewer forcing each form is refused by the API, with a notice; nothing changes', async () => {
		const forms = [
			['/agents', { name: 'forced', kind: 'builtin', config_type: 'echo' }, '/agents'],
			[`/agents/${agent.id}/edit`, { name: 'renamed', kind: 'builtin', config_type: 'echo' }, `/agents/${agent.id}`],
			[`/agents/${agent.id}/test`, { task: 'x' }, `/agents/${agent.id}`],
			[`/agents/${agent.id}/delete`, {}, `/agents/${agent.id}`],
		];
		for (const [path, fields, back] of forms) {
			const res = await viewer.post(path, { ...fields, csrf: viewer.csrf });
			assert.equal(res.status, 303, `viewer POST ${path}: ${res.status}`);
			assert.equal(res.headers.location, back, `viewer POST ${path}`);
			const next = await viewer.get(back);
			assert.match(next.text, /id="flash"[^>]*>your role may not/, `the notice after POST ${path}`);
		}
		assert.deepEqual(await names(), ['kept']);
		const a = await api('GET', `/api/v1/agents/${agent.id}`);
		assert.equal(a.json.config.type, 'constant');
	});

	test('without the CSRF pair, or from another origin, a form is refused (403) and nothing is made', async () => {
		const fields = { name: 'no-csrf', kind: 'builtin', config_type: 'echo' };
		assert.equal((await dev.post('/agents', fields)).status, 403);
		assert.equal((await dev.post('/agents', { ...fields, csrf: 'x'.repeat(dev.csrf.length) })).status, 403);
		assert.equal((await dev.post('/agents', { ...fields, csrf: dev.csrf }, { Origin: 'https://evil.example' })).status, 403);
		assert.equal((await dev.post(`/agents/${agent.id}/delete`, {})).status, 403);
		assert.deepEqual(await names(), ['kept']);
	});

	test('a developer registers through the form: a 303 to the new agent, as the API stored it', async () => {
		const res = await dev.post('/agents', {
			csrf: dev.csrf, name: 'form-made', kind: 'builtin', capabilities: 'a, b ,, c', config_type: 'constant',
			config_value: '{"x": [1, 2]}', config_confidence: '0.75', config_delay_ms: '', expertise: '0.9',
		});
		assert.equal(res.status, 303, res.text.slice(0, 300));
		const id = /^\/agents\/([0-9a-f-]{36})$/.exec(res.headers.location)?.[1];
		assert.ok(id, res.headers.location);
		const a = (await api('GET', `/api/v1/agents/${id}`)).json;
		assert.equal(a.name, 'form-made');
		assert.deepEqual(a.capabilities, ['a', 'b', 'c']);
		assert.equal(a.expertise, 0.9);
		assert.deepEqual(a.config, { type: 'constant', value: { x: [1, 2] }, confidence: 0.75 });
		// a refused one comes back 400/409 with the field named, nothing made
		const dup = await dev.post('/agents', { csrf: dev.csrf, name: 'form-made', kind: 'builtin', config_type: 'echo' });
		assert.equal(dup.status, 409);
		assert.match(dup.text, /id="f-name-error"[^>]*>an agent with this name exists/);
		const bad = await dev.post('/agents', { csrf: dev.csrf, name: 'x1', kind: 'builtin', config_type: 'constant', config_value: '{', config_confidence: '0.5' });
		assert.equal(bad.status, 400);
		assert.match(bad.text, /id="f-config_value-error"/);
		assert.deepEqual(await names(), ['form-made', 'kept']);
	});

	test('editing: a blank secret is kept, Remove deletes it, unchanged credential headers stay', async () => {
		const created = await api('POST', '/api/v1/agents', {
			name: 'svc', kind: 'http',
			config: { url: 'http://127.0.0.1:9/x', token: 'tok-SECRET', headers: { 'X-Team': 'a', Authorization: 'Bearer hdr-SECRET' } },
		});
		assert.equal(created.status, 201);
		const id = created.json.id;
		const form = await dev.get(`/agents/${id}/edit`);
		assert.equal(form.status, 200);
		assert.doesNotMatch(form.text, /SECRET/);
		const was = /name="config_headers_was" value="([^"]*)"/.exec(form.text)[1];
		assert.equal(was, 'X-Team: a');
		const base = { csrf: dev.csrf, name: 'svc', kind: 'http', config_url: 'http://127.0.0.1:9/y', config_headers_was: was, config_headers: was };
		let res = await dev.post(`/agents/${id}/edit`, base);
		assert.equal(res.status, 303, res.text.slice(0, 300));
		let a = (await api('GET', `/api/v1/agents/${id}`)).json;
		assert.equal(a.config.url, 'http://127.0.0.1:9/y');
		assert.deepEqual(a.config.token, { set: true });
		assert.deepEqual(a.config.headers, { 'X-Team': 'a', Authorization: { set: true } });
		// changed headers replace them all; Remove drops the token
		res = await dev.post(`/agents/${id}/edit`, { ...base, config_headers: 'X-Team: b', config_token_clear: '1' });
		assert.equal(res.status, 303, res.text.slice(0, 300));
		a = (await api('GET', `/api/v1/agents/${id}`)).json;
		assert.deepEqual(a.config.headers, { 'X-Team': 'b' });
		assert.equal(a.config.token, undefined);
		// clearing the capabilities empties them
		res = await dev.post(`/agents/${id}/edit`, { ...base, config_headers: 'X-Team: b', config_headers_was: 'X-Team: b', capabilities: '' });
		assert.equal(res.status, 303, res.text.slice(0, 300));
		assert.equal((await api('GET', `/api/v1/agents/${id}`)).json.capabilities.length, 0);
	});

	test('a ws agent: the connect token once, on the answer to the form, never again', async () => {
		const res = await dev.post('/agents', { csrf: dev.csrf, name: 'dialer', kind: 'ws' });
		assert.equal(res.status, 201, res.text.slice(0, 300));
		const token = /id="connect-token">(plxa_[^<]+)</.exec(res.text)?.[1];
		assert.ok(token, 'no connect token on the page');
		const id = (await api('GET', '/api/v1/agents')).json.items.find((a) => a.name === 'dialer').id;
		const again = await dev.get(`/agents/${id}`);
		assert.equal(again.status, 200);
		assert.ok(!again.text.includes(token), 'the token is shown again');
	});

	test("another tenant's agent is a 404 page that names nothing", async () => {
		const t2 = await createSecondTenant(server);
		const a = await request(server, 'POST', '/api/v1/agents', {
			headers: { Authorization: `Bearer ${t2.login.access_token}` },
			json: { name: 'theirs', kind: 'builtin', config: { type: 'echo' } },
		});
		assert.equal(a.status, 201);
		for (const path of [`/agents/${a.json.id}`, `/agents/${a.json.id}/edit`, '/agents/not-an-id']) {
			const res = await dev.get(path);
			assert.equal(res.status, 404, `GET ${path}`);
			assert.match(res.text, /No such agent/);
			assert.doesNotMatch(res.text, /theirs/);
		}
		// and its forms are refused as the API refuses them: not found, nothing changed
		const del = await dev.post(`/agents/${a.json.id}/delete`, { csrf: dev.csrf });
		assert.equal(del.status, 303);
		assert.equal((await request(server, 'GET', `/api/v1/agents/${a.json.id}`, { headers: { Authorization: `Bearer ${t2.login.access_token}` } })).status, 200);
	});
});
