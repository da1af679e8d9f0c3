// Agents: CRUD for every kind, per-kind validation naming the field, roles (viewer reads,
// developer writes), workspace isolation, write-only secrets (never in an answer, the audit
// log or the server log; sealed "v1:" in the database; kept by a PATCH unless replaced or
// nulled), the "agents" quota, and hostile bodies. Runs once per backend.
import test, { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { request, setupOwner, sql, startServer } from './helpers/server.mjs';
import { inviteMember, login, randomId } from './helpers/roles.mjs';

const TIME_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const API_KEY = `sk-test-${randomBytes(16).toString('hex')}`;
const API_KEY2 = `sk-other-${randomBytes(16).toString('hex')}`;
const HDR_TOKEN = `Bearer hdr-${randomBytes(12).toString('hex')}`;

let server, owner, T, ownerTok, dev, viewer, ws2;

function api(method, path, token, json, headers = {}) {
	return request(server, method, path, { headers: { Authorization: `Bearer ${token}`, ...headers }, json });
}

function expectStatus(res, status, what) {
	assert.equal(res.status, status, `${what}: ${res.status} ${res.text.slice(0, 300)}`);
	return res.json;
}

function expectError(res, status, code, field, what) {
	expectStatus(res, status, what);
	assert.equal(res.json?.error?.code, code, `${what}: code in ${res.text.slice(0, 300)}`);
	if (field !== undefined) assert.equal(res.json.error.field, field, `${what}: field`);
}

const q = (s) => `'${String(s).replaceAll("'", "''")}'`;
const uniq = (p) => `${p}-${randomBytes(3).toString('hex')}`;

async function create(body, token = dev.token, headers = {}) {
	return expectStatus(await api('POST', '/api/v1/agents', token, body, headers), 201, `create ${body.name}`);
}

function assertShape(a) {
	for (const k of ['id', 'name', 'kind', 'capabilities', 'expertise', 'timeout_ms', 'max_concurrency', 'status', 'config']) {
		assert.ok(k in a, `agent has ${k}`);
	}
	assert.deepEqual(a.circuit, { state: 'closed' });
	assert.match(a.created_at, TIME_RE);
	assert.match(a.updated_at, TIME_RE);
}

before(async () => {
	server = await startServer();
	owner = await setupOwner(server);
	T = owner.tenant.id;
	ownerTok = (await login(server, owner.email, owner.password)).access_token;
	dev = await inviteMember(server, ownerTok, T, 'developer');
	viewer = await inviteMember(server, ownerTok, T, 'viewer');
	ws2 = expectStatus(await api('POST', '/api/v1/workspaces', ownerTok, { name: uniq('other') }), 201, 'workspace 2');
});

after(async () => {
	await server?.stop();
});

describe('CRUD per kind', () => {
	test('builtin constant: create, get, list, patch, delete', async () => {
		const a = await create({ name: 'const-1', kind: 'builtin', capabilities: ['math', 'demo'], expertise: 0.8,
			config: { type: 'constant', value: { answer: 42 }, confidence: 0.9, delay_ms: 5 } });
		assertShape(a);
		assert.equal(a.kind, 'builtin');
		assert.deepEqual(a.capabilities, ['math', 'demo']);
		assert.equal(a.expertise, 0.8);
		assert.equal(a.timeout_ms, 30000);
		assert.equal(a.status, 'unknown');
		assert.deepEqual(a.config, { type: 'constant', value: { answer: 42 }, confidence: 0.9, delay_ms: 5 });
		const got = expectStatus(await api('GET', `/api/v1/agents/${a.id}`, viewer.token), 200, 'get');
		assert.deepEqual(got, a);
		const list = expectStatus(await api('GET', '/api/v1/agents?kind=builtin&capability=math', viewer.token), 200, 'list');
		assert.ok(list.items.some((x) => x.id === a.id));
		assert.ok('next_cursor' in list);
		const none = expectStatus(await api('GET', '/api/v1/agents?capability=nope', viewer.token), 200, 'list none');
		assert.ok(!none.items.some((x) => x.id === a.id), 'capability filter excludes');
		const p = expectStatus(await api('PATCH', `/api/v1/agents/${a.id}`, dev.token,
			{ expertise: 0.3, max_concurrency: 4, config: { confidence: 0.5, delay_ms: null } }), 200, 'patch');
		assert.equal(p.expertise, 0.3);
		assert.equal(p.max_concurrency, 4);
		assert.deepEqual(p.config, { type: 'constant', value: { answer: 42 }, confidence: 0.5 });
		const e = expectStatus(await api('PATCH', `/api/v1/agents/${a.id}`, dev.token, { config: { type: 'echo' } }), 200, 'type change');
		assert.deepEqual(e.config, { type: 'echo' });
		expectStatus(await api('DELETE', `/api/v1/agents/${a.id}`, dev.token), 204, 'delete');
		expectError(await api('GET', `/api/v1/agents/${a.id}`, dev.token), 404, 'not_found', undefined, 'gone');
	});

	test('builtin jq and http (with compat and a credential header)', async () => {
		const jq = await create({ name: 'jq-1', kind: 'builtin', config: { type: 'jq', program: '.a + 1' } });
		assert.deepEqual(jq.config, { type: 'jq', program: '.a + 1' });
		const h = await create({ name: 'http-1', kind: 'http', capabilities: ['x'],
			config: { url: 'https://agents.example.com/run', compat: 'parallax', timeout_ms: 5000,
				headers: { Authorization: HDR_TOKEN, 'X-Team': 'blue' } } });
		assert.deepEqual(h.config, { url: 'https://agents.example.com/run', compat: 'parallax', timeout_ms: 5000,
			headers: { 'X-Team': 'blue', Authorization: { set: true } } });
		assert.ok(!JSON.stringify(h).includes(HDR_TOKEN));
		const p = expectStatus(await api('PATCH', `/api/v1/agents/${h.id}`, dev.token, { config: { url: 'http://127.0.0.1:9/x' } }), 200, 'patch url');
		assert.equal(p.config.url, 'http://127.0.0.1:9/x');
		assert.deepEqual(p.config.headers.Authorization, { set: true }, 'the header secret is kept');
		const [[enc]] = await sql(server, `SELECT secrets_enc FROM agents WHERE id = ${q(h.id)}`);
		assert.match(enc, /^v1:/);
		assert.ok(!enc.includes(HDR_TOKEN.slice(7)));
	});

	test('ws: a one-time connect_token, stored hashed', async () => {
		const w = await create({ name: 'ws-1', kind: 'ws', capabilities: ['nat'], config: {} });
		assert.match(w.connect_token, /^plxa_[A-Za-z0-9_-]{43}$/);
		const got = expectStatus(await api('GET', `/api/v1/agents/${w.id}`, dev.token), 200, 'get ws');
		assert.equal(got.connect_token, undefined);
		const [[hash]] = await sql(server, `SELECT connect_token_hash FROM agents WHERE id = ${q(w.id)}`);
		assert.match(hash, /^[0-9a-f]{64}$/);
		assert.notEqual(hash, w.connect_token);
		expectError(await api('POST', '/api/v1/agents', dev.token, { name: 'ws-2', kind: 'ws', config: { url: 'http://x' } }),
			400, 'unknown_field', 'config.url', 'ws with url');
	});
});

describe('secrets are write-only', () => {
	let a;

	test('openai api_key: shown as set, sealed in the database', async () => {
		a = await create({ name: 'gpt', kind: 'openai', capabilities: ['llm'],
			config: { base_url: 'https://api.example.com/v1', model: 'gpt-x', api_key: API_KEY, system: 'be brief', temperature: 0.2, json_mode: true } });
		assert.deepEqual(a.config, { base_url: 'https://api.example.com/v1', model: 'gpt-x', system: 'be brief',
			temperature: 0.2, json_mode: true, api_key: { set: true } });
		assert.ok(!JSON.stringify(a).includes(API_KEY));
		const [[cfg, enc]] = await sql(server, `SELECT config, secrets_enc FROM agents WHERE id = ${q(a.id)}`);
		assert.ok(!cfg.includes(API_KEY) && !cfg.includes('api_key'), 'the config column holds no secret');
		assert.match(enc, /^v1:[A-Za-z0-9+/=]+$/);
		assert.ok(!enc.includes(API_KEY));
		for (const p of [`/api/v1/agents/${a.id}`, '/api/v1/agents']) {
			const res = await api('GET', p, ownerTok);
			expectStatus(res, 200, p);
			assert.ok(!res.text.includes(API_KEY), `${p} never shows the key`);
		}
		const key = await stat(path.join(server.dataDir, 'secret.key'));
		assert.equal(key.size, 32);
		assert.equal(key.mode & 0o777, 0o600, 'the sealing key file is 0600');
	});

	test('PATCH keeps the secret unless replaced; null clears it', async () => {
		const [[enc0]] = await sql(server, `SELECT secrets_enc FROM agents WHERE id = ${q(a.id)}`);
		const p1 = expectStatus(await api('PATCH', `/api/v1/agents/${a.id}`, dev.token, { capabilities: ['llm', 'fast'] }), 200, 'patch caps');
		assert.deepEqual(p1.config.api_key, { set: true });
		const [[enc1]] = await sql(server, `SELECT secrets_enc FROM agents WHERE id = ${q(a.id)}`);
		assert.equal(enc1, enc0, 'a patch without config leaves the sealed secret as is');
		const p2 = expectStatus(await api('PATCH', `/api/v1/agents/${a.id}`, dev.token, { config: { temperature: 1.5 } }), 200, 'patch temp');
		assert.equal(p2.config.temperature, 1.5);
		assert.deepEqual(p2.config.api_key, { set: true }, 'kept across a config merge');
		const p3 = expectStatus(await api('PATCH', `/api/v1/agents/${a.id}`, dev.token, { config: { api_key: API_KEY2 } }), 200, 'replace');
		assert.deepEqual(p3.config.api_key, { set: true });
		const [[enc3]] = await sql(server, `SELECT secrets_enc FROM agents WHERE id = ${q(a.id)}`);
		assert.match(enc3, /^v1:/);
		assert.ok(!enc3.includes(API_KEY2) && enc3 !== enc1);
		const p4 = expectStatus(await api('PATCH', `/api/v1/agents/${a.id}`, dev.token, { config: { api_key: null } }), 200, 'clear');
		assert.equal(p4.config.api_key, undefined);
		const rows = await sql(server, `SELECT COUNT(*) FROM agents WHERE id = ${q(a.id)} AND secrets_enc IS NULL`);
		assert.deepEqual(rows, [['1']]);
	});

	test('no secret in the audit log, its export or the server log', async () => {
		for (const fmt of ['json', 'csv']) {
			const res = await api('GET', `/api/v1/tenants/${T}/audit/export?format=${fmt}`, ownerTok);
			expectStatus(res, 200, `export ${fmt}`);
			for (const s of [API_KEY, API_KEY2, HDR_TOKEN]) assert.ok(!res.text.includes(s), `${fmt} export holds no secret`);
			assert.ok(res.text.includes('agent.created') && res.text.includes('agent.updated'), `${fmt}: agent actions audited`);
		}
		const log = server.stderr() + server.stdout();
		for (const s of [API_KEY, API_KEY2, HDR_TOKEN]) assert.ok(!log.includes(s), 'the server log holds no secret');
	});
});

describe('access', () => {
	test('409 on a taken name; a viewer lists but cannot create', async () => {
		await create({ name: 'dup', kind: 'builtin', config: { type: 'echo' } });
		expectError(await api('POST', '/api/v1/agents', dev.token, { name: 'dup', kind: 'builtin', config: { type: 'echo' } }),
			409, 'name_taken', 'name', 'duplicate');
		expectStatus(await api('GET', '/api/v1/agents', viewer.token), 200, 'viewer lists');
		expectError(await api('POST', '/api/v1/agents', viewer.token, { name: 'v', kind: 'builtin', config: { type: 'echo' } }),
			403, 'forbidden', undefined, 'viewer creates');
		const a = await create({ name: 'dup2', kind: 'builtin', config: { type: 'echo' } });
		expectError(await api('PATCH', `/api/v1/agents/${a.id}`, viewer.token, { expertise: 1 }), 403, 'forbidden', undefined, 'viewer patches');
		expectError(await api('DELETE', `/api/v1/agents/${a.id}`, viewer.token), 403, 'forbidden', undefined, 'viewer deletes');
		expectError(await api('PATCH', `/api/v1/agents/${a.id}`, dev.token, { name: 'dup' }), 409, 'name_taken', 'name', 'rename onto');
	});

	test("another workspace's agent answers 404", async () => {
		const hdr = { 'X-Parallax-Workspace': ws2.id };
		const other = await create({ name: 'dup', kind: 'builtin', config: { type: 'echo' } }, ownerTok, hdr);
		assert.equal(other.name, 'dup', 'names are per workspace');
		expectStatus(await api('GET', `/api/v1/agents/${other.id}`, ownerTok, undefined, hdr), 200, 'in its workspace');
		for (const [m, body] of [['GET'], ['PATCH', { expertise: 0.1 }], ['DELETE']]) {
			expectError(await api(m, `/api/v1/agents/${other.id}`, ownerTok, body), 404, 'not_found', undefined, `${m} elsewhere`);
		}
		const list = expectStatus(await api('GET', '/api/v1/agents?limit=100', ownerTok), 200, 'list default ws');
		assert.ok(!list.items.some((x) => x.id === other.id));
		expectError(await api('GET', `/api/v1/agents/${randomId()}`, ownerTok), 404, 'not_found', undefined, 'random id');
	});

	test('cursor pagination walks every agent once', async () => {
		const all = [];
		let cursor = null;
		do {
			const page = expectStatus(await api('GET', `/api/v1/agents?limit=2${cursor ? `&cursor=${cursor}` : ''}`, ownerTok), 200, 'page');
			assert.ok(page.items.length <= 2);
			all.push(...page.items.map((x) => x.id));
			cursor = page.next_cursor;
		} while (cursor);
		const [[count]] = await sql(server, `SELECT COUNT(*) FROM agents WHERE workspace_id = ${q(owner.workspace.id)}`);
		assert.equal(all.length, Number(count));
		assert.equal(new Set(all).size, all.length);
		expectError(await api('GET', '/api/v1/agents?cursor=%%%', ownerTok), 400, 'invalid_cursor', 'cursor', 'bad cursor');
	});
});

describe('quota', () => {
	test('the agents quota refuses with 429; a delete gives the unit back', async () => {
		const qs = expectStatus(await api('GET', `/api/v1/tenants/${T}/quotas`, ownerTok), 200, 'quotas');
		const used = qs.usage.agents;
		expectStatus(await api('PATCH', `/api/v1/tenants/${T}/quotas`, ownerTok, { agents: used + 1 }), 200, 'set quota');
		const a = await create({ name: 'q1', kind: 'builtin', config: { type: 'echo' } });
		expectError(await api('POST', '/api/v1/agents', dev.token, { name: 'q2', kind: 'builtin', config: { type: 'echo' } }),
			429, 'quota_exceeded', 'agents', 'over quota');
		expectStatus(await api('DELETE', `/api/v1/agents/${a.id}`, dev.token), 204, 'delete');
		await create({ name: 'q2', kind: 'builtin', config: { type: 'echo' } });
		const after = expectStatus(await api('GET', `/api/v1/tenants/${T}/quotas`, ownerTok), 200, 'quotas after');
		assert.equal(after.usage.agents, used + 1);
		expectStatus(await api('PATCH', `/api/v1/tenants/${T}/quotas`, ownerTok, { agents: qs.quotas.agents }), 200, 'restore');
	});
});

describe('validation', () => {
	const base = { name: 'val', kind: 'builtin', config: { type: 'constant', value: 1, confidence: 0.5 } };
	const cases = [
		['unknown kind', { kind: 'magic' }, 'kind'],
		['expertise 1.5', { expertise: 1.5 }, 'expertise'],
		['1000 capabilities', { capabilities: Array.from({ length: 1000 }, (_, i) => `c${i}`) }, 'capabilities'],
		['capability too long', { capabilities: ['x'.repeat(65)] }, 'capabilities'],
		['bad name', { name: 'has space' }, 'name'],
		['long name', { name: 'n'.repeat(65) }, 'name'],
		['timeout_ms 50', { timeout_ms: 50 }, 'timeout_ms'],
		['max_concurrency 0', { max_concurrency: 0 }, 'max_concurrency'],
		['unknown top field', { colour: 'red' }, 'colour'],
		['builtin type', { config: { type: 'magic' } }, 'config.type'],
		['constant without confidence', { config: { type: 'constant', value: 1 } }, 'config.confidence'],
		['constant without value', { config: { type: 'constant', confidence: 1 } }, 'config.value'],
		['confidence 2', { config: { type: 'constant', value: 1, confidence: 2 } }, 'config.confidence'],
		['delay_ms too big', { config: { type: 'echo', delay_ms: 600001 } }, 'config.delay_ms'],
		['fail not bool', { config: { type: 'echo', fail: 'yes' } }, 'config.fail'],
		['jq without program', { config: { type: 'jq' } }, 'config.program'],
		['jq program too big', { config: { type: 'jq', program: '.'.repeat(65537) } }, 'config.program'],
		['unknown config field', { config: { type: 'echo', extra: 1 } }, 'config.extra'],
		['http ftp url', { kind: 'http', config: { url: 'ftp://x/y' } }, 'config.url'],
		['http relative url', { kind: 'http', config: { url: '/run' } }, 'config.url'],
		['http credentials in url', { kind: 'http', config: { url: 'https://u:p@x.example/' } }, 'config.url'],
		['http long url', { kind: 'http', config: { url: `https://x.example/${'a'.repeat(2048)}` } }, 'config.url'],
		['http compat', { kind: 'http', config: { url: 'https://x.example', compat: 'v0' } }, 'config.compat'],
		['http timeout', { kind: 'http', config: { url: 'https://x.example', timeout_ms: 10 } }, 'config.timeout_ms'],
		['openai no model', { kind: 'openai', config: { base_url: 'https://x.example/v1' } }, 'config.model'],
		['openai temperature', { kind: 'openai', config: { base_url: 'https://x.example/v1', model: 'm', temperature: 3 } }, 'config.temperature'],
		['openai system too big', { kind: 'openai', config: { base_url: 'https://x.example/v1', model: 'm', system: 's'.repeat(32769) } }, 'config.system'],
		['openai json_mode', { kind: 'openai', config: { base_url: 'https://x.example/v1', model: 'm', json_mode: 1 } }, 'config.json_mode'],
	];
	for (const [what, over, field] of cases) {
		test(`400 ${what} names ${field}`, async () => {
			const res = await api('POST', '/api/v1/agents', dev.token, { ...base, ...over });
			expectStatus(res, 400, what);
			assert.equal(res.json.error.field, field, `${what}: ${res.text.slice(0, 300)}`);
			assert.ok(res.json.error.message);
		});
	}

	test('hostile bodies: 2 MB → 413, depth 65 → 400, kind change → 400', async () => {
		const big = await api('POST', '/api/v1/agents', dev.token, { ...base, config: { type: 'jq', program: 'x'.repeat(2 * 1024 * 1024) } });
		assert.equal(big.status, 413, big.text.slice(0, 200));
		let deep = 1;
		for (let i = 0; i < 64; i++) deep = [deep];
		const res = await api('POST', '/api/v1/agents', dev.token, { ...base, config: { type: 'constant', confidence: 1, value: deep } });
		expectStatus(res, 400, 'depth 65');
		const a = await create({ name: 'kinded', kind: 'builtin', config: { type: 'echo' } });
		expectError(await api('PATCH', `/api/v1/agents/${a.id}`, dev.token, { kind: 'http' }), 400, 'immutable_field', 'kind', 'kind change');
		expectError(await api('PATCH', `/api/v1/agents/${a.id}`, dev.token, { bogus: 1 }), 400, 'unknown_field', 'bogus', 'patch unknown');
		expectError(await api('GET', '/api/v1/agents?kind=magic', dev.token), 400, 'invalid_field', 'kind', 'list kind');
	});
});
