// The built-in library over HTTP: list (the twelve, in name order, each valid), get one,
// 404 for an unknown one, clone into the caller's workspace (201 with the same shape as
// POST /api/v1/patterns, the definition renamed; 409 when the name is taken; a viewer is
// refused; the "patterns" quota and audit apply), and an input that fails a built-in's
// schema answers 422 invalid_input. The runs of each pattern are in library_*.test.mjs.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backend, request } from './helpers/server.mjs';
import { inviteMember } from './helpers/roles.mjs';
import { api, expectStatus, libraryServer, patternWorkspace } from './helpers/library.mjs';

const NAMES = [
	'cascading-refinement', 'confidence-cascade', 'consensus-builder', 'epistemic-orchestrator',
	'load-balancer', 'multi-model-voting', 'multi-validator', 'parallel-exploration',
	'robust-analysis', 'simple-consensus', 'uncertainty-mapreduce', 'uncertainty-router',
];

let ctx, viewer, dev;

const as = (token) => ({ ...ctx, token });

before(async () => {
	ctx = await libraryServer();
	viewer = await inviteMember(ctx.server, ctx.token, ctx.owner.tenant.id, 'viewer');
	dev = await inviteMember(ctx.server, ctx.token, ctx.owner.tenant.id, 'developer');
});

after(async () => {
	await ctx?.server?.stop();
});

describe(`built-in library [${backend}]`, () => {
	test('list: the twelve in name order, each a valid document named after itself', async () => {
		const list = expectStatus(await api(as(viewer.token), 'GET', '/api/v1/patterns/library'), 200, 'list');
		assert.deepEqual(list.items.map((p) => p.name), NAMES);
		for (const p of list.items) {
			assert.equal(p.definition.name, p.name);
			assert.equal(p.description, p.definition.description);
			assert.ok(p.description.length > 100, `${p.name} documents itself`);
			assert.ok(p.definition.tags.includes('built-in'), `${p.name} is tagged built-in`);
			const v = expectStatus(await api(ctx, 'POST', '/api/v1/patterns/validate', p.definition), 200, `validate ${p.name}`);
			assert.deepEqual(v, { valid: true, problems: [] }, p.name);
		}
	});

	test('get one; an unknown name is 404 not_found; a credential is needed', async () => {
		const one = expectStatus(await api(as(viewer.token), 'GET', '/api/v1/patterns/library/consensus-builder'), 200, 'get');
		assert.equal(one.name, 'consensus-builder');
		const agents = one.definition.nodes.find((n) => n.type === 'agent');
		assert.deepEqual(agents.select, { capabilities: ['code-analysis'], min: 3 });
		for (const name of ['nope', 'consensus', 'CONSENSUS-BUILDER', 'consensus-builder.yaml']) {
			const res = await api(ctx, 'GET', `/api/v1/patterns/library/${name}`);
			assert.equal(res.status, 404, `${name}: ${res.text}`);
			assert.equal(res.json.error.code, 'not_found');
		}
		assert.equal((await request(ctx.server, 'GET', '/api/v1/patterns/library')).status, 401);
	});

	test('clone: 201 like POST /api/v1/patterns, then GET shows the definition; twice is 409', async () => {
		const made = expectStatus(await api(as(dev.token), 'POST', '/api/v1/patterns/library/simple-consensus/clone', {}), 201, 'clone');
		const lib = expectStatus(await api(ctx, 'GET', '/api/v1/patterns/library/simple-consensus'), 200, 'library');
		assert.equal(made.name, 'simple-consensus');
		assert.equal(made.latest_version, 1);
		assert.equal(made.version, 1);
		assert.equal(made.description, lib.description);
		assert.deepEqual(made.definition, lib.definition);
		for (const k of ['id', 'created_at', 'updated_at']) assert.ok(made[k], k);
		const got = expectStatus(await api(as(viewer.token), 'GET', `/api/v1/patterns/${made.id}`), 200, 'get clone');
		assert.deepEqual(got.definition, lib.definition);
		const again = await api(as(dev.token), 'POST', '/api/v1/patterns/library/simple-consensus/clone', {});
		assert.equal(again.status, 409, again.text);
		// Another name is another pattern, its document renamed to match.
		const named = expectStatus(await api(as(dev.token), 'POST', '/api/v1/patterns/library/simple-consensus/clone',
			{ name: 'my-consensus' }), 201, 'clone as my-consensus');
		assert.notEqual(named.id, made.id);
		assert.equal(named.definition.name, 'my-consensus');
		assert.deepEqual({ ...named.definition, name: lib.name }, lib.definition);
		assert.equal((await api(as(dev.token), 'POST', '/api/v1/patterns/library/simple-consensus/clone',
			{ name: 'my-consensus' })).status, 409);
		// The audit log records the creations like any other.
		const audit = expectStatus(await api(ctx, 'GET', `/api/v1/tenants/${ctx.owner.tenant.id}/audit?limit=100`), 200, 'audit');
		const created = audit.items.filter((a) => a.action === 'pattern.created').map((a) => a.resource_id ?? a.resource?.id);
		assert.ok(created.includes(made.id) && created.includes(named.id), JSON.stringify(audit.items.slice(0, 3)));
	});

	test('clone refusals: viewer 403, unknown 404, bad name 400, unknown field 400', async () => {
		const v = await api(as(viewer.token), 'POST', '/api/v1/patterns/library/load-balancer/clone', {});
		assert.equal(v.status, 403, v.text);
		assert.equal(v.json.error.code, 'forbidden');
		const missing = await api(as(dev.token), 'POST', '/api/v1/patterns/library/nope/clone', {});
		assert.equal(missing.status, 404, missing.text);
		for (const name of ['Has Caps', 'under_score', '', 'x'.repeat(65), 'dot.ted']) {
			const res = await api(as(dev.token), 'POST', '/api/v1/patterns/library/load-balancer/clone', { name });
			assert.equal(res.status, 400, `${JSON.stringify(name)}: ${res.text}`);
			assert.equal(res.json.error.field, 'name');
		}
		const extra = await api(as(dev.token), 'POST', '/api/v1/patterns/library/load-balancer/clone', { definition: {} });
		assert.equal(extra.status, 400, extra.text);
		const list = expectStatus(await api(ctx, 'GET', '/api/v1/patterns?limit=100'), 200, 'patterns');
		assert.ok(!list.items.some((p) => p.name === 'load-balancer'), 'nothing was created');
	});

	test('clone goes into the caller\'s workspace, and each workspace may hold its own copy', async () => {
		const w = await patternWorkspace(ctx, 'robust-analysis');
		const here = expectStatus(await api(ctx, 'GET', '/api/v1/patterns/robust-analysis', undefined, w.headers), 200, 'in ws');
		assert.equal(here.id, w.pattern.id);
		assert.equal((await api(ctx, 'GET', `/api/v1/patterns/${w.pattern.id}`)).status, 404, 'not in the default workspace');
		expectStatus(await api(ctx, 'POST', '/api/v1/patterns/library/robust-analysis/clone', {}), 201, 'default workspace');
	});

	test('the "patterns" quota applies to clones', async () => {
		const T = ctx.owner.tenant.id;
		const q = expectStatus(await api(ctx, 'GET', `/api/v1/tenants/${T}/quotas`), 200, 'quotas');
		expectStatus(await api(ctx, 'PATCH', `/api/v1/tenants/${T}/quotas`, { patterns: q.usage.patterns }), 200, 'quota = usage');
		try {
			const res = await api(ctx, 'POST', '/api/v1/patterns/library/uncertainty-router/clone', {});
			assert.equal(res.status, 429, res.text);
			assert.equal(res.json.error.code, 'quota_exceeded');
		} finally {
			expectStatus(await api(ctx, 'PATCH', `/api/v1/tenants/${T}/quotas`, { patterns: q.quotas.patterns }), 200, 'restore');
		}
		const after = expectStatus(await api(ctx, 'GET', `/api/v1/tenants/${T}/quotas`), 200, 'quotas after');
		assert.equal(after.usage.patterns, q.usage.patterns, 'the refused clone took no unit');
	});
});
