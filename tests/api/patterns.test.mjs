// Patterns: create with version 1, get (by id or name, with the latest definition), list,
// immutable versions, export as JSON and YAML, import of YAML as a new version, 422 with
// every problem for an invalid definition, roles (viewer reads, cannot create), the
// "patterns" quota, workspace isolation, audit. Runs once per backend.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { backend, request, setupOwner, startServer } from './helpers/server.mjs';
import { inviteMember, login } from './helpers/roles.mjs';

let server, owner, T, ownerTok, dev, viewer, ws2;

const uniq = (p) => `${p}-${randomBytes(3).toString('hex')}`;

function api(method, path, token, json, headers = {}) {
	return request(server, method, path, { headers: { Authorization: `Bearer ${token}`, ...headers }, json });
}

function expectStatus(res, status, what) {
	assert.equal(res.status, status, `${what}: ${res.status} ${res.text.slice(0, 400)}`);
	return res.json;
}

function expectError(res, status, code, field, what) {
	expectStatus(res, status, what);
	assert.equal(res.json?.error?.code, code, `${what}: code in ${res.text.slice(0, 400)}`);
	if (field !== undefined) assert.equal(res.json.error.field, field, `${what}: field`);
}

function definition(name, task = 'Review this code') {
	return {
		name,
		description: 'Three reviewers, expertise-weighted consensus',
		input: { type: 'object', required: ['code'], properties: { code: { type: 'string', maxLength: 200000 } } },
		nodes: [
			{ id: 'in', type: 'input' },
			{ id: 'reviewers', type: 'agent', from: 'in', select: { capabilities: ['code-analysis'], min: 3, max: 5 }, task, data: '.input.code' },
			{ id: 'verdict', type: 'consensus', from: 'reviewers', key: '.value.recommendation', weight: 'expertise' },
			{ id: 'out', type: 'output', from: 'verdict' },
		],
	};
}

async function create(name, token = dev.token, headers = {}) {
	return expectStatus(await api('POST', '/api/v1/patterns', token, { name, description: 'test', definition: definition(name) }, headers),
		201, `create ${name}`);
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

describe(`patterns [${backend}]`, () => {
	test('create, get, versions (immutable), export YAML, import it back', async () => {
		const name = uniq('review');
		const def1 = definition(name);
		const p = await create(name);
		assert.equal(p.name, name);
		assert.equal(p.latest_version, 1);
		assert.deepEqual(p.definition, def1);
		const got = expectStatus(await api('GET', `/api/v1/patterns/${p.id}`, viewer.token), 200, 'get');
		assert.equal(got.id, p.id);
		assert.deepEqual(got.definition, def1);
		const byName = expectStatus(await api('GET', `/api/v1/patterns/${name}`, viewer.token), 200, 'get by name');
		assert.equal(byName.id, p.id);
		const list = expectStatus(await api('GET', '/api/v1/patterns?limit=100', viewer.token), 200, 'list');
		assert.ok(list.items.some((x) => x.id === p.id));
		assert.ok('next_cursor' in list);

		const def2 = definition(name, 'Review this code twice');
		const v2 = expectStatus(await api('POST', `/api/v1/patterns/${p.id}/versions`, dev.token, { definition: def2, message: 'second' }), 201, 'add version');
		assert.equal(v2.version, 2);
		assert.equal(v2.message, 'second');
		const vs = expectStatus(await api('GET', `/api/v1/patterns/${p.id}/versions`, viewer.token), 200, 'versions');
		assert.deepEqual(vs.items.map((v) => v.version), [2, 1]);
		assert.equal(vs.next_cursor, null);
		const page = expectStatus(await api('GET', `/api/v1/patterns/${p.id}/versions?limit=1`, viewer.token), 200, 'page 1');
		assert.equal(page.items.length, 1);
		const page2 = expectStatus(await api('GET', `/api/v1/patterns/${p.id}/versions?limit=1&cursor=${page.next_cursor}`, viewer.token), 200, 'page 2');
		assert.deepEqual(page2.items.map((v) => v.version), [1]);
		const one = expectStatus(await api('GET', `/api/v1/patterns/${p.id}/versions/1`, viewer.token), 200, 'version 1');
		assert.deepEqual(one.definition, def1);
		expectError(await api('GET', `/api/v1/patterns/${p.id}/versions/9`, viewer.token), 404, 'not_found', undefined, 'no version 9');
		expectError(await api('GET', `/api/v1/patterns/${p.id}/versions/x`, viewer.token), 404, 'not_found', undefined, 'version x');
		const latest = expectStatus(await api('GET', `/api/v1/patterns/${p.id}`, viewer.token), 200, 'get latest');
		assert.equal(latest.latest_version, 2);
		assert.deepEqual(latest.definition, def2);

		const yaml = await api('GET', `/api/v1/patterns/${p.id}/export?format=yaml`, viewer.token);
		assert.equal(yaml.status, 200, yaml.text);
		assert.match(yaml.headers['content-type'], /^application\/yaml/);
		assert.match(yaml.text, new RegExp(`name: ['"]?${name}`));
		const imp = await request(server, 'POST', '/api/v1/patterns/import', {
			headers: { Authorization: `Bearer ${dev.token}`, 'Content-Type': 'application/yaml' }, body: yaml.text,
		});
		assert.equal(imp.status, 201, imp.text);
		assert.equal(imp.json.id, p.id);
		assert.equal(imp.json.version, 3);
		const json = expectStatus(await api('GET', `/api/v1/patterns/${p.id}/export?format=json`, viewer.token), 200, 'export json');
		assert.deepEqual(json, def2);
		const v3 = expectStatus(await api('GET', `/api/v1/patterns/${p.id}/versions/3`, viewer.token), 200, 'version 3');
		assert.deepEqual(v3.definition, def2);
		expectError(await api('GET', `/api/v1/patterns/${p.id}/export?format=xml`, viewer.token), 400, 'invalid_field', 'format', 'format');
	});

	test('import creates a pattern from JSON; unknown media type is 415', async () => {
		const name = uniq('imported');
		const res = await request(server, 'POST', '/api/v1/patterns/import', {
			headers: { Authorization: `Bearer ${dev.token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(definition(name)),
		});
		assert.equal(res.status, 201, res.text);
		assert.equal(res.json.name, name);
		assert.equal(res.json.latest_version, 1);
		const bad = await request(server, 'POST', '/api/v1/patterns/import', {
			headers: { Authorization: `Bearer ${dev.token}`, 'Content-Type': 'text/plain' }, body: 'x',
		});
		assert.equal(bad.status, 415, bad.text);
	});

	test('an invalid definition is 422 with every problem naming its node', async () => {
		const name = uniq('broken');
		const def = definition(name);
		def.nodes[2].from = 'nowhere';
		def.nodes.push({ id: 'ghost', type: 'frobnicate' });
		const res = await api('POST', '/api/v1/patterns', dev.token, { name, definition: def });
		expectError(res, 422, 'invalid_pattern', undefined, 'invalid');
		assert.ok(res.json.problems.some((p) => p.node_id === 'verdict' && p.code === 'dangling_edge'), res.text);
		assert.ok(res.json.problems.some((p) => p.node_id === 'ghost' && p.code === 'unknown_type'), res.text);
		expectError(await api('GET', `/api/v1/patterns/${name}`, dev.token), 404, 'not_found', undefined, 'not created');
		expectError(await api('POST', '/api/v1/patterns', dev.token, { name, definition: definition('other-name') }),
			422, 'invalid_pattern', 'definition.name', 'name mismatch');
		const p = await create(uniq('good'));
		const v = await api('POST', `/api/v1/patterns/${p.id}/versions`, dev.token, { definition: def });
		assert.equal(v.status, 422, v.text);
		assert.ok(v.json.problems.length >= 2);
		expectError(await api('POST', '/api/v1/patterns', dev.token, { name: p.name, definition: definition(p.name) }),
			409, 'name_taken', 'name', 'name conflict');
	});

	test('names the API routes own (library, validate, import) are refused, so every pattern stays readable by name', async () => {
		for (const name of ['library', 'validate', 'import']) {
			expectError(await api('POST', '/api/v1/patterns', dev.token, { name, definition: definition(name) }), 400, 'reserved_name', 'name', name);
			const imp = await request(server, 'POST', '/api/v1/patterns/import', {
				headers: { Authorization: `Bearer ${dev.token}`, 'Content-Type': 'application/json' },
				body: JSON.stringify(definition(name)),
			});
			expectError(imp, 400, 'reserved_name', 'name', `import ${name}`);
		}
	});

	test('a viewer reads but cannot create, version or delete', async () => {
		const p = await create(uniq('roles'));
		expectStatus(await api('GET', `/api/v1/patterns/${p.id}`, viewer.token), 200, 'viewer get');
		expectStatus(await api('POST', '/api/v1/patterns', viewer.token, { name: uniq('v'), definition: definition('v') }), 403, 'viewer create');
		expectStatus(await api('POST', `/api/v1/patterns/${p.id}/versions`, viewer.token, { definition: definition(p.name) }), 403, 'viewer version');
		expectStatus(await api('DELETE', `/api/v1/patterns/${p.id}`, viewer.token), 403, 'viewer delete');
		expectStatus(await api('DELETE', `/api/v1/patterns/${p.id}`, dev.token), 204, 'dev delete');
		expectStatus(await api('GET', `/api/v1/patterns/${p.id}`, viewer.token), 404, 'gone');
	});

	test('the patterns quota refuses with 429; a delete gives the unit back', async () => {
		const qs = expectStatus(await api('GET', `/api/v1/tenants/${T}/quotas`, ownerTok), 200, 'quotas');
		const used = qs.usage.patterns;
		expectStatus(await api('PATCH', `/api/v1/tenants/${T}/quotas`, ownerTok, { patterns: used + 1 }), 200, 'set quota');
		const p = await create(uniq('q1'));
		const n2 = uniq('q2');
		expectError(await api('POST', '/api/v1/patterns', dev.token, { name: n2, definition: definition(n2) }),
			429, 'quota_exceeded', 'patterns', 'over quota');
		expectStatus(await api('DELETE', `/api/v1/patterns/${p.id}`, dev.token), 204, 'delete');
		await create(n2);
		const after = expectStatus(await api('GET', `/api/v1/tenants/${T}/quotas`, ownerTok), 200, 'quotas after');
		assert.equal(after.usage.patterns, used + 1);
		expectStatus(await api('PATCH', `/api/v1/tenants/${T}/quotas`, ownerTok, { patterns: qs.quotas.patterns }), 200, 'restore');
	});

	test("another workspace's pattern is not found", async () => {
		const hdr = { 'X-Parallax-Workspace': ws2.id };
		const p = await create(uniq('ws2'), ownerTok, hdr);
		expectStatus(await api('GET', `/api/v1/patterns/${p.id}`, ownerTok, undefined, hdr), 200, 'in ws2');
		expectError(await api('GET', `/api/v1/patterns/${p.id}`, ownerTok), 404, 'not_found', undefined, 'from default ws');
		expectError(await api('GET', `/api/v1/patterns/${p.id}/versions`, ownerTok), 404, 'not_found', undefined, 'versions');
		expectError(await api('GET', `/api/v1/patterns/${p.id}/export`, ownerTok), 404, 'not_found', undefined, 'export');
		expectError(await api('POST', `/api/v1/patterns/${p.id}/versions`, ownerTok, { definition: definition(p.name) }), 404, 'not_found', undefined, 'add');
		expectError(await api('DELETE', `/api/v1/patterns/${p.id}`, ownerTok), 404, 'not_found', undefined, 'delete');
		const list = expectStatus(await api('GET', '/api/v1/patterns?limit=100', ownerTok), 200, 'list');
		assert.ok(!list.items.some((x) => x.id === p.id));
	});

	test('concurrent version adds get distinct numbers; audit records them', async () => {
		const p = await create(uniq('race'));
		const adds = await Promise.all([1, 2, 3, 4].map((i) =>
			api('POST', `/api/v1/patterns/${p.id}/versions`, dev.token, { definition: definition(p.name, `task ${i}`) })));
		for (const r of adds) assert.equal(r.status, 201, r.text);
		assert.deepEqual(adds.map((r) => r.json.version).sort(), [2, 3, 4, 5]);
		const audit = expectStatus(await api('GET', `/api/v1/tenants/${T}/audit?limit=100`, ownerTok), 200, 'audit');
		const mine = audit.items.filter((a) => a.resource_id === p.id || a.resource?.id === p.id).map((a) => a.action);
		assert.ok(mine.includes('pattern.created'), JSON.stringify(audit.items[0]));
		assert.equal(mine.filter((a) => a === 'pattern.version_added').length, 4);
	});
});
