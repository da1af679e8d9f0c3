// API keys and the audit log: keys shown once and stored hashed, their role and scope,
// revocation and expiry, hostile keys; audit entries for sign-in and key changes, no secret
// in any entry or export, filters, cursor pagination, CSV/JSON export and append-only routes.
// Runs against the real binary once per backend (PARALLAX_TEST_DB=sqlite|postgres).
import test, { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { backend, request, setupOwner, sql, startServer } from './helpers/server.mjs';
import { createSecondTenant } from './helpers/tenants.mjs';

const KEY_RE = /^plx_[A-Za-z0-9_-]{43}$/;
const TIME_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

let server, owner, session, T;
const secrets = []; // everything that must never reach the audit log

function api(method, path, token, json) {
	const headers = token === undefined ? {} : { Authorization: `Bearer ${token}` };
	return request(server, method, path, { headers, json });
}

function expectStatus(res, status, what) {
	assert.equal(res.status, status, `${what}: ${res.status} ${res.text.slice(0, 300)}`);
	return res.json;
}

function expectError(res, status, code, what) {
	expectStatus(res, status, what);
	assert.equal(res.json?.error?.code, code, `${what}: error code in ${res.text.slice(0, 300)}`);
}

async function login(email, password) {
	const res = await request(server, 'POST', '/api/v1/auth/login', { json: { email, password } });
	return expectStatus(res, 200, 'login');
}

async function createKey(token, body, tenant = T) {
	const res = await api('POST', `/api/v1/tenants/${tenant}/api-keys`, token, body);
	const k = expectStatus(res, 201, `create key ${JSON.stringify(body)}`);
	secrets.push(k.key, sha256(k.key));
	return k;
}

async function listKeys(token, query = '') {
	return expectStatus(await api('GET', `/api/v1/tenants/${T}/api-keys${query}`, token), 200, 'list keys');
}

async function audit(query = '', token = session.access_token, tenant = T) {
	const res = await api('GET', `/api/v1/tenants/${tenant}/audit${query}`, token);
	return expectStatus(res, 200, `audit ${query}`);
}

function sha256(s) {
	return createHash('sha256').update(s).digest('hex');
}

const q = (s) => `'${String(s).replaceAll("'", "''")}'`;

// RFC 4180: quoted cells, doubled quotes, CRLF line ends.
function parseCsv(text) {
	const rows = [];
	let row = [], cell = '', i = 0, quoted = false;
	while (i < text.length) {
		const c = text[i];
		if (quoted) {
			if (c === '"' && text[i + 1] === '"') (cell += '"'), (i += 2);
			else if (c === '"') (quoted = false), i++;
			else (cell += c), i++;
		} else if (c === '"') (quoted = true), i++;
		else if (c === ',') row.push(cell), (cell = ''), i++;
		else if (c === '\r' && text[i + 1] === '\n') row.push(cell), rows.push(row), (row = []), (cell = ''), (i += 2);
		else (cell += c), i++;
	}
	assert.equal(cell + row.join(''), '', 'CSV ends with CRLF');
	return rows;
}

before(async () => {
	server = await startServer();
	owner = await setupOwner(server);
	T = owner.tenant.id;
	session = await login(owner.email, owner.password);
	secrets.push(owner.password, session.refresh_token, session.access_token);
});

after(async () => {
	await server?.stop();
});

describe('API keys', () => {
	let adminKey, viewerKey;

	test('a created key is shown once, stored hashed, and listed without it', async () => {
		adminKey = await createKey(session.access_token, { name: 'ci admin', role: 'admin' });
		assert.match(adminKey.key, KEY_RE);
		assert.equal(adminKey.prefix, adminKey.key.slice(0, 12));
		assert.equal(adminKey.role, 'admin');
		assert.equal(adminKey.name, 'ci admin');
		assert.equal(adminKey.workspace_id, owner.workspace.id);
		assert.equal(adminKey.expires_at, null);
		assert.match(adminKey.created_at, TIME_RE);
		const list = await listKeys(session.access_token);
		const item = list.items.find((k) => k.id === adminKey.id);
		assert.ok(item, 'the new key is listed');
		assert.equal(item.prefix, adminKey.prefix);
		assert.equal(item.key, undefined);
		assert.equal(item.revoked_at, null);
		assert.equal(item.expired, false);
		assert.ok(!JSON.stringify(list).includes(adminKey.key), 'the listing never holds the key');
		assert.ok(!JSON.stringify(list).includes(sha256(adminKey.key)), 'nor its hash');
		const rows = await sql(server, `SELECT key_hash, prefix FROM api_keys WHERE id = ${q(adminKey.id)}`);
		assert.deepEqual(rows, [[sha256(adminKey.key), adminKey.prefix]], 'only the SHA-256 is stored');
	});

	test('the key authenticates as Bearer; last use is recorded', async () => {
		const me = expectStatus(await api('GET', '/api/v1/auth/me', adminKey.key), 200, 'me by key');
		assert.equal(me.credential, 'api_key');
		assert.equal(me.tenant.id, T);
		const list = await listKeys(adminKey.key);
		assert.match(list.items.find((k) => k.id === adminKey.id).last_used_at, TIME_RE);
	});

	test('{t} is the caller tenant by id or slug; anything else is 404', async () => {
		await listKeys(session.access_token); // by id
		const bySlug = await api('GET', `/api/v1/tenants/${owner.tenant.slug}/api-keys`, session.access_token);
		expectStatus(bySlug, 200, 'by slug');
		for (const t of ['01900000-0000-7000-8000-000000000000', 'nope']) {
			expectError(await api('GET', `/api/v1/tenants/${t}/api-keys`, session.access_token), 404, 'not_found', t);
		}
	});

	test('a viewer key reads but cannot manage keys or read the audit log', async () => {
		viewerKey = await createKey(session.access_token, { name: 'viewer', role: 'viewer' });
		expectStatus(await api('GET', '/api/v1/auth/me', viewerKey.key), 200, 'viewer me');
		const create = await api('POST', `/api/v1/tenants/${T}/api-keys`, viewerKey.key, { name: 'x', role: 'viewer' });
		expectError(create, 403, 'forbidden', 'viewer creates a key');
		expectError(await api('GET', `/api/v1/tenants/${T}/api-keys`, viewerKey.key), 403, 'forbidden', 'viewer lists');
		expectError(await api('DELETE', `/api/v1/tenants/${T}/api-keys/${adminKey.id}`, viewerKey.key), 403, 'forbidden', 'viewer revokes');
		expectError(await api('GET', `/api/v1/tenants/${T}/audit`, viewerKey.key), 403, 'forbidden', 'viewer audit');
		expectError(await api('GET', `/api/v1/tenants/${T}/audit/export`, viewerKey.key), 403, 'forbidden', 'viewer export');
		expectStatus(await api('GET', `/api/v1/tenants/${T}/api-keys`, adminKey.key), 200, 'the admin key still lists');
	});

	test("a key's role is never above its creator's", async () => {
		const res = await api('POST', `/api/v1/tenants/${T}/api-keys`, adminKey.key, { name: 'up', role: 'owner' });
		expectError(res, 403, 'role_too_high', 'admin key makes an owner key');
		const same = await createKey(adminKey.key, { name: 'made by a key', role: 'admin' });
		assert.equal(same.role, 'admin');
		const entries = await audit(`?action=api_key.created&resource_id=${same.id}`);
		assert.equal(entries.items.length, 1);
		assert.deepEqual(entries.items[0].actor.type, 'api_key');
		assert.equal(entries.items[0].actor.id, adminKey.id);
	});

	test("demoting the creator shrinks the key; removing the creator kills it", async () => {
		const uid = owner.user.id;
		await sql(server, `UPDATE memberships SET role = 'viewer' WHERE user_id = ${q(uid)}`);
		try {
			const res = await api('GET', `/api/v1/tenants/${T}/api-keys`, adminKey.key);
			expectError(res, 403, 'forbidden', 'admin key of a demoted creator');
			expectStatus(await api('GET', '/api/v1/auth/me', adminKey.key), 200, 'still reads');
		} finally {
			await sql(server, `UPDATE memberships SET role = 'owner' WHERE user_id = ${q(uid)}`);
		}
		expectStatus(await api('GET', `/api/v1/tenants/${T}/api-keys`, adminKey.key), 200, 'restored');
	});

	test('a revoked key is refused with 401; revoking is idempotent', async () => {
		const k = await createKey(session.access_token, { name: 'to revoke', role: 'developer' });
		expectStatus(await api('GET', '/api/v1/auth/me', k.key), 200, 'before revoke');
		const del = await api('DELETE', `/api/v1/tenants/${T}/api-keys/${k.id}`, session.access_token);
		expectStatus(del, 204, 'revoke');
		expectError(await api('GET', '/api/v1/auth/me', k.key), 401, 'invalid_api_key', 'after revoke');
		expectStatus(await api('DELETE', `/api/v1/tenants/${T}/api-keys/${k.id}`, session.access_token), 204, 'again');
		const item = (await listKeys(session.access_token)).items.find((x) => x.id === k.id);
		assert.match(item.revoked_at, TIME_RE);
		const entries = await audit(`?resource_type=api_key&resource_id=${k.id}`);
		assert.deepEqual(entries.items.map((e) => e.action), ['api_key.revoked', 'api_key.created'], 'one revoke entry');
		const missing = await api('DELETE', `/api/v1/tenants/${T}/api-keys/01900000-0000-7000-8000-000000000000`, session.access_token);
		expectError(missing, 404, 'not_found', 'unknown key');
	});

	test('an expired key is refused with 401', async () => {
		const k = await createKey(session.access_token, { name: 'short', role: 'viewer', expires_in_days: 1 });
		const left = Date.parse(k.expires_at) - Date.now();
		assert.ok(left > 86_300_000 && left <= 86_400_000, `expires in a day, not ${left} ms`);
		expectStatus(await api('GET', '/api/v1/auth/me', k.key), 200, 'before expiry');
		await sql(server, `UPDATE api_keys SET expires_at = ${Date.now() - 1000} WHERE id = ${q(k.id)}`);
		expectError(await api('GET', '/api/v1/auth/me', k.key), 401, 'invalid_api_key', 'after expiry');
		assert.equal((await listKeys(session.access_token)).items.find((x) => x.id === k.id).expired, true);
	});

	test('garbage keys are 401, never 500', async () => {
		const bad = [
			'plx_',
			`plx_${'!'.repeat(43)}`,
			`plx_${'A'.repeat(42)}`,
			`plx_${'A'.repeat(44)}`,
			`plx_${'A'.repeat(10 * 1024)}`,
			`plx_${'A'.repeat(42)}\u00e9`,
			`plx_${'A'.repeat(43)}`, // well-formed, unknown
			'',
		];
		for (const k of bad) {
			const res = await request(server, 'GET', '/api/v1/auth/me', { headers: { Authorization: Buffer.from(`Bearer ${k}`, 'utf8').toString('latin1') } });
			assert.equal(res.status, 401, `key ${JSON.stringify(k.slice(0, 60))} (${k.length}): ${res.status} ${res.text.slice(0, 200)}`);
		}
	});

	test('bodies are checked: unknown fields, roles, ranges, workspaces', async () => {
		const post = (body) => api('POST', `/api/v1/tenants/${T}/api-keys`, session.access_token, body);
		for (const field of ['tenant_id', 'key_hash', 'last_used_at', 'key', 'created_by', 'prefix']) {
			expectError(await post({ name: 'x', role: 'viewer', [field]: 'x' }), 400, 'unknown_field', field);
		}
		expectError(await post({ name: 'x', role: 'root' }), 400, 'invalid_field', 'role root');
		expectError(await post({ role: 'viewer' }), 400, 'missing_field', 'no name');
		expectError(await post({ name: '', role: 'viewer' }), 400, 'invalid_field', 'empty name');
		expectError(await post({ name: 'x'.repeat(101), role: 'viewer' }), 400, 'invalid_field', 'long name');
		for (const days of [0, 3651, 1.5, '7']) {
			const res = await post({ name: 'x', role: 'viewer', expires_in_days: days });
			assert.equal(res.status, 400, `expires_in_days ${days}: ${res.text}`);
		}
		const ws = await post({ name: 'x', role: 'viewer', workspace_id: '01900000-0000-7000-8000-000000000000' });
		expectStatus(ws, 404, 'a workspace outside the tenant');
		const rows = await sql(server, `SELECT count(*) FROM api_keys WHERE name = 'x'`);
		assert.deepEqual(rows, [['0']], 'nothing refused was stored');
	});
});

describe('audit log', () => {
	let keys = [];

	before(async () => {
		for (let i = 0; i < 7; i++) keys.push(await createKey(session.access_token, { name: `page ${i}`, role: 'viewer' }));
		const del = await api('DELETE', `/api/v1/tenants/${T}/api-keys/${keys[0].id}`, session.access_token);
		expectStatus(del, 204, 'revoke');
		const failed = await request(server, 'POST', '/api/v1/auth/login', { json: { email: owner.email, password: 'Wrong-password-123456' } });
		expectStatus(failed, 401, 'failed login');
		secrets.push('Wrong-password-123456');
	});

	test('sign-in, key creation and revocation are recorded with actor, ip and outcome', async () => {
		const logins = await audit('?action=auth.login');
		assert.ok(logins.items.length >= 1, 'a login entry');
		const l = logins.items.at(-1);
		assert.equal(l.actor.type, 'user');
		assert.equal(l.actor.id, owner.user.id);
		assert.equal(l.outcome, 'success');
		assert.equal(l.ip, '127.0.0.1');
		assert.match(l.created_at, TIME_RE);
		const created = await audit(`?action=api_key.created&resource_id=${keys[1].id}`);
		assert.equal(created.items.length, 1);
		const c = created.items[0];
		assert.deepEqual(c.actor, { type: 'user', id: owner.user.id, label: c.actor.label });
		assert.deepEqual(c.resource, { type: 'api_key', id: keys[1].id });
		assert.deepEqual(c.details, { name: 'page 1', role: 'viewer', prefix: keys[1].prefix, workspace_id: owner.workspace.id });
		assert.equal(c.outcome, 'success');
		assert.equal(c.ip, '127.0.0.1');
		assert.ok(c.request_id, 'request id');
		const revoked = await audit(`?action=api_key.revoked&resource_id=${keys[0].id}`);
		assert.equal(revoked.items.length, 1);
		assert.equal(revoked.items[0].actor.id, owner.user.id);
	});

	test('no secret reaches any entry, list or export', async () => {
		const dumps = [
			(await sql(server, 'SELECT * FROM audit_log')).map((r) => r.join('|')).join('\n'),
			JSON.stringify(await audit('?limit=500')),
			(await api('GET', `/api/v1/tenants/${T}/audit/export?format=csv`, session.access_token)).text,
			(await api('GET', `/api/v1/tenants/${T}/audit/export?format=json`, session.access_token)).text,
		];
		assert.ok(dumps[0].includes('api_key.created') && dumps[2].includes('api_key.created'), 'dumps are not empty');
		for (const s of secrets) {
			for (const d of dumps) assert.ok(!d.includes(s), `a secret (${s.slice(0, 6)}...) is in the audit log`);
		}
	});

	test('filters: action (exact and prefix), actor, resource, outcome, time', async () => {
		const pre = await audit('?action=api_key.*&limit=500');
		assert.ok(pre.items.length >= 9);
		assert.ok(pre.items.every((e) => e.action.startsWith('api_key.')));
		assert.ok(pre.items.some((e) => e.action === 'api_key.revoked'));
		const exact = await audit('?action=api_key.created&limit=500');
		assert.ok(exact.items.every((e) => e.action === 'api_key.created'));
		assert.equal(exact.items.length, pre.items.filter((e) => e.action === 'api_key.created').length);
		const byRes = await audit(`?resource_type=api_key&resource_id=${keys[0].id}`);
		assert.deepEqual(byRes.items.map((e) => e.action), ['api_key.revoked', 'api_key.created']);
		const byActor = await audit(`?actor_id=${owner.user.id}&limit=500`);
		assert.ok(byActor.items.length > 0 && byActor.items.every((e) => e.actor.id === owner.user.id));
		assert.deepEqual((await audit('?outcome=denied&action=api_key.*')).items, []);
		const e = byRes.items[1];
		const t = Date.parse(e.created_at);
		const plusOne = new Date(t + 3600_000).toISOString().replace('Z', '+01:00');
		for (const [since, until] of [[t, t], [e.created_at, e.created_at], [plusOne, plusOne]]) {
			const got = await audit(`?resource_id=${keys[0].id}&since=${encodeURIComponent(since)}&until=${encodeURIComponent(until)}`);
			assert.deepEqual(got.items.map((x) => x.id), [e.id], `since=until=${since}`);
		}
		assert.deepEqual((await audit(`?since=${Date.now() + 60_000}`)).items, []);
		assert.deepEqual((await audit('?until=0')).items, []);
	});

	test('bad filters are 400', async () => {
		for (const query of ['?since=yesterday', '?until=2025-13-01T00:00:00Z', '?limit=0', '?limit=501', '?limit=abc',
			'?outcome=maybe', '?cursor=!!!', `?cursor=${Buffer.from('nope').toString('base64url')}`, `?action=${'a'.repeat(201)}`]) {
			const res = await api('GET', `/api/v1/tenants/${T}/audit${query}`, session.access_token);
			assert.equal(res.status, 400, `${query}: ${res.status} ${res.text.slice(0, 200)}`);
		}
		expectStatus(await api('GET', `/api/v1/tenants/${T}/audit/export?format=xml`, session.access_token), 400, 'format');
	});

	test('cursor pagination walks every entry once, newest first', async () => {
		const all = (await audit('?action=api_key.created&limit=500')).items;
		assert.ok(all.length > 3 * 2, `enough entries (${all.length})`);
		const seen = [];
		let cursor = null, pages = 0;
		do {
			const page = await audit(`?action=api_key.created&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
			assert.ok(page.items.length <= 3);
			seen.push(...page.items);
			cursor = page.next_cursor;
			pages++;
			assert.ok(pages < 50, 'the walk ends');
		} while (cursor);
		assert.deepEqual(seen.map((e) => e.id), all.map((e) => e.id));
		assert.equal(new Set(seen.map((e) => e.id)).size, seen.length);
		for (let i = 1; i < seen.length; i++) assert.ok(seen[i - 1].created_at >= seen[i].created_at, 'newest first');
		const keysPage = await listKeys(session.access_token, '?limit=2');
		assert.equal(keysPage.items.length, 2);
		const next = await listKeys(session.access_token, `?limit=2&cursor=${keysPage.next_cursor}`);
		assert.ok(!next.items.some((k) => keysPage.items.some((p) => p.id === k.id)), 'key pages do not overlap');
	});

	test('CSV export: header, RFC 4180 quoting, neutralized formulas, attachment', async () => {
		const evil = ['=HYPERLINK("http://x")', '+1+1', '-2+3', '@SUM(A1)', '\tTAB', '\rCR', 'a,"b"\r\nc'];
		for (const [i, label] of evil.entries()) {
			await sql(server, `INSERT INTO audit_log (id, tenant_id, created_at, actor_type, actor_label, action, outcome, details) ` +
				`VALUES (${q(`01900000-0000-7000-8000-00000000000${i}`)}, ${q(T)}, ${Date.now()}, 'system', ${q(label)}, 'test.evil', 'success', '{}')`);
		}
		const res = await api('GET', `/api/v1/tenants/${T}/audit/export?format=csv`, session.access_token);
		expectStatus(res, 200, 'csv export');
		assert.match(res.headers['content-type'], /^text\/csv/);
		const today = new Date().toISOString().slice(0, 10);
		assert.equal(res.headers['content-disposition'], `attachment; filename="audit-${owner.tenant.slug}-${today}.csv"`);
		const rows = parseCsv(res.text);
		assert.deepEqual(rows[0], ['id', 'created_at', 'actor_type', 'actor_id', 'actor_label', 'action', 'resource_type',
			'resource_id', 'ip', 'outcome', 'request_id', 'details']);
		assert.ok(rows.slice(1).every((r) => r.length === 12), 'every row has 12 cells');
		const json = expectStatus(await api('GET', `/api/v1/tenants/${T}/audit/export?format=json`, session.access_token), 200, 'json');
		assert.ok(Array.isArray(json));
		assert.deepEqual(rows.slice(1).map((r) => r[0]), json.map((e) => e.id), 'CSV and JSON hold the same entries');
		const labels = rows.filter((r) => r[5] === 'test.evil').map((r) => r[4]).sort();
		const expected = evil.map((l) => (/^[=+\-@\t\r]/.test(l) ? `'${l}` : l)).sort();
		assert.deepEqual(labels, expected, 'formula cells start with a quote; others are intact');
		const filtered = parseCsv((await api('GET', `/api/v1/tenants/${T}/audit/export?action=test.*`, session.access_token)).text);
		assert.equal(filtered.length, 1 + evil.length, 'export takes the filters');
	});

	test('the log is append-only: no route changes it', async () => {
		const before = await sql(server, 'SELECT id, action, outcome, details FROM audit_log ORDER BY id');
		for (const path of [`/api/v1/tenants/${T}/audit`, `/api/v1/tenants/${T}/audit/export`, `/api/v1/tenants/${T}/audit/${keys[1].id}`]) {
			for (const method of ['PUT', 'PATCH', 'DELETE', 'POST']) {
				const res = await api(method, path, session.access_token, method === 'DELETE' ? undefined : {});
				assert.ok([404, 405].includes(res.status), `${method} ${path}: ${res.status}`);
				if (!path.endsWith(keys[1].id)) assert.equal(res.status, 405, `${method} ${path}`);
			}
		}
		await assert.rejects(sql(server, `UPDATE audit_log SET outcome = 'failure'`), /append-only/);
		await assert.rejects(sql(server, 'DELETE FROM audit_log'), /append-only/);
		assert.deepEqual(await sql(server, 'SELECT id, action, outcome, details FROM audit_log ORDER BY id'), before);
	});
});

describe('across tenants', () => {
	let other, otherToken, key;

	before(async () => {
		other = await createSecondTenant(server);
		otherToken = other.token;
		key = await createKey(session.access_token, { name: 'home key', role: 'admin' });
	});

	test("another tenant's keys and log answer 404", async () => {
		for (const [m, p] of [['GET', 'api-keys'], ['DELETE', `api-keys/${key.id}`], ['GET', 'audit'], ['GET', 'audit/export']]) {
			for (const t of [T, owner.tenant.slug]) {
				expectError(await api(m, `/api/v1/tenants/${t}/${p}`, otherToken), 404, 'not_found', `${m} ${p} of tenant 1`);
			}
		}
		const own = other.tenant.id;
		expectError(await api('DELETE', `/api/v1/tenants/${own}/api-keys/${key.id}`, otherToken), 404, 'not_found', 'revoke via own tenant');
		expectStatus(await api('GET', '/api/v1/auth/me', key.key), 200, 'the key still works');
	});

	test("each tenant's audit log and export hold only its own entries", async () => {
		const own = other.tenant.id;
		const mine = await createKey(otherToken, { name: 'other key', role: 'admin' }, own);
		const list = expectStatus(await api('GET', `/api/v1/tenants/${own}/audit?limit=500`, otherToken), 200, 'other audit');
		assert.ok(list.items.some((e) => e.resource.id === mine.id));
		assert.ok(!list.items.some((e) => e.resource.id === key.id), 'no entry of tenant 1');
		const csv = (await api('GET', `/api/v1/tenants/${own}/audit/export?format=csv`, otherToken)).text;
		assert.ok(csv.includes(mine.id) && !csv.includes(key.id));
		const home = await audit('?limit=500');
		assert.ok(!home.items.some((e) => e.resource.id === mine.id), 'and none of tenant 2 at home');
		const asKey = await api('GET', `/api/v1/tenants/${T}/audit`, mine.key);
		expectError(asKey, 404, 'not_found', "tenant 2's key on tenant 1");
	});
});

test(`backend: ${backend}`, () => assert.ok(['sqlite', 'postgres'].includes(backend)));
