// Hostile pattern documents over the API (POST /api/v1/patterns, .../validate and
// .../{id}/run): 10,000-deep JSON, 10,000 nodes, a body over the limit, a cycle, a jq
// program over 64 KiB, $ENV / env / input, and a jq program that never ends. Each gets a
// clear answer quickly and the server keeps answering afterwards. Runs once per backend.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backend, get, request } from './helpers/server.mjs';
import { api, createPattern, expectStatus, liveServer, step, uniq } from './helpers/live.mjs';

let ctx;

// POST path with a raw body (text), as the developer.
function postRaw(path, text) {
	return request(ctx.server, 'POST', path, {
		headers: { Authorization: `Bearer ${ctx.dev.token}`, 'Content-Type': 'application/json' },
		body: text,
		timeoutMs: 30000,
	});
}

const create = (definition, name = definition.name) => api(ctx, 'POST', '/api/v1/patterns', ctx.dev.token, { name, definition });
const validate = (definition) => api(ctx, 'POST', '/api/v1/patterns/validate', ctx.dev.token, definition);

// in -> t (a transform with these options) -> out
const transformDoc = (name, t) => ({
	name,
	nodes: [{ id: 'in', type: 'input' }, { id: 't', type: 'transform', from: 'in', ...t }, { id: 'out', type: 'output', from: 't' }],
});

async function assertAlive(what) {
	const res = await get(ctx.server, '/health/live');
	assert.equal(res.status, 200, `${what}: /health/live answered ${res.status}`);
}

// The 422 of POST /api/v1/patterns: {error: {code: invalid_pattern, field}, problems}.
function refused(res, what) {
	assert.equal(res.status, 422, `${what}: ${res.status} ${res.text.slice(0, 400)}`);
	assert.equal(res.json.error.code, 'invalid_pattern', `${what}: ${res.text.slice(0, 400)}`);
	assert.ok(Array.isArray(res.json.problems) && res.json.problems.length > 0, `${what}: problems`);
	return res.json;
}

const problem = (problems, pred) => problems.find(pred);

before(async () => {
	ctx = await liveServer({ args: [] });
});

after(async () => {
	await ctx?.stop();
});

describe(`hostile pattern documents [${backend}]`, () => {
	test('JSON nested 10,000 deep: 400 too_deep on both routes, the server stays up', async () => {
		const deepDef = '{"a":'.repeat(10000) + '1' + '}'.repeat(10000);
		const t0 = Date.now();
		const r1 = await postRaw('/api/v1/patterns', `{"name":"deep","definition":${deepDef}}`);
		assert.equal(r1.status, 400, r1.text.slice(0, 300));
		assert.equal(r1.json.error.code, 'too_deep');
		assert.match(r1.json.error.message, /deeper than 64/);
		const r2 = await postRaw('/api/v1/patterns/validate', '['.repeat(10000) + ']'.repeat(10000));
		assert.equal(r2.status, 400, r2.text.slice(0, 300));
		assert.equal(r2.json.error.code, 'too_deep');
		assert.ok(Date.now() - t0 < 5000, 'answered quickly');
		await assertAlive('after deep JSON');
	});

	test('10,000 nodes: 422 invalid_pattern naming the limit of 1000 (validate: 200, not valid)', async () => {
		const name = uniq('many');
		const nodes = [{ id: 'in', type: 'input' }];
		for (let i = 1; i < 10000; i++) nodes.push({ id: `n${i}`, type: 'transform', from: i === 1 ? 'in' : `n${i - 1}` });
		nodes.push({ id: 'out', type: 'output', from: 'n9999' });
		const def = { name, nodes };
		const size = JSON.stringify({ name, definition: def }).length;
		assert.ok(size < 1 << 20, `the body (${size} bytes) stays under the 1 MiB body limit`);

		const t0 = Date.now();
		const res = refused(await create(def), '10,000 nodes');
		assert.equal(res.error.field, 'definition.nodes');
		assert.match(res.error.message, /10001 nodes; the limit is 1000/);
		assert.ok(problem(res.problems, (p) => p.code === 'too_many_nodes'), JSON.stringify(res.problems).slice(0, 400));

		const v = await validate(def);
		assert.equal(v.status, 200, v.text.slice(0, 300));
		assert.equal(v.json.valid, false);
		assert.deepEqual(v.json.problems.map((p) => p.code), ['too_many_nodes']);
		assert.ok(Date.now() - t0 < 5000, 'answered quickly');
		const list = expectStatus(await api(ctx, 'GET', '/api/v1/patterns?limit=100', ctx.dev.token), 200, 'list');
		assert.ok(!list.items.some((p) => p.name === name), 'nothing was stored');
	});

	test('a body over the 1 MiB limit: 413 payload_too_large', async () => {
		const nodes = [{ id: 'in', type: 'input' }];
		for (let i = 1; i < 20000; i++) nodes.push({ id: `node-with-a-long-name-${i}`, type: 'transform', from: 'in' });
		const body = JSON.stringify({ name: 'huge', definition: { name: 'huge', nodes } });
		assert.ok(body.length > 1 << 20, `${body.length} bytes`);
		const res = await postRaw('/api/v1/patterns', body);
		assert.equal(res.status, 413, res.text.slice(0, 300));
		assert.equal(res.json.error.code, 'payload_too_large');
		await assertAlive('after a body over the limit');
	});

	test('a cycle: 422 with a cycle problem naming its nodes', async () => {
		const name = uniq('cycle');
		const def = {
			name,
			nodes: [
				{ id: 'in', type: 'input' },
				{ id: 'a', type: 'transform', from: ['in', 'c'] },
				{ id: 'b', type: 'transform', from: 'a' },
				{ id: 'c', type: 'transform', from: 'b' },
				{ id: 'out', type: 'output', from: 'c' },
			],
		};
		const res = refused(await create(def), 'cycle');
		const cyc = problem(res.problems, (p) => p.code === 'cycle');
		assert.ok(cyc, JSON.stringify(res.problems));
		for (const id of ['a', 'b', 'c']) assert.match(cyc.message, new RegExp(`\\b${id}\\b`), cyc.message);
		assert.doesNotMatch(cyc.message, /\bin\b|\bout\b/, 'only the nodes on the cycle');
		assert.ok(['a', 'b', 'c'].includes(cyc.node_id), cyc.node_id);
		assert.match(cyc.path, /^nodes\[[123]\]\.from$/);
		assert.equal(res.error.message, cyc.message);
		const v = await validate(def);
		assert.equal(v.json.valid, false);
		assert.ok(problem(v.json.problems, (p) => p.code === 'cycle'));
	});

	test('a jq program over 64 KiB: 422 naming the node and the field', async () => {
		const program = `"${'x'.repeat(70000)}"`;
		const res = refused(await create(transformDoc(uniq('bigjq'), { value: program })), 'big jq');
		const p = problem(res.problems, (q) => q.node_id === 't' && q.path === 'nodes[1].value');
		assert.ok(p, JSON.stringify(res.problems).slice(0, 600));
		assert.equal(p.code, 'too_long');
		assert.match(p.message, /longer than 65536/);
		assert.equal(res.error.field, 'definition.nodes[1].value');
		// exactly at the limit is fine: 65,536 bytes of program
		const atLimit = `"${'x'.repeat(65534)}"`;
		assert.equal(atLimit.length, 65536);
		const ok = await create(transformDoc(uniq('edgejq'), { value: atLimit }));
		assert.equal(ok.status, 201, ok.text.slice(0, 300));
	});

	test('$ENV, env and input in expressions: 422 forbidden_expression', async () => {
		const cases = [
			['value', '$ENV.HOME'],
			['value', '$ENV'],
			['value', 'env.PATH'],
			['confidence', 'env | length'],
			['value', 'input'],
			['value', '[inputs]'],
		];
		for (const [field, expr] of cases) {
			const res = refused(await create(transformDoc(uniq('env'), { [field]: expr })), expr);
			const p = problem(res.problems, (q) => q.code === 'forbidden_expression');
			assert.ok(p, `${expr}: ${JSON.stringify(res.problems)}`);
			assert.equal(p.node_id, 't');
			assert.equal(p.path, `nodes[1].${field}`);
			const v = await validate(transformDoc('env', { [field]: expr }));
			assert.equal(v.status, 200);
			assert.equal(v.json.valid, false, expr);
			assert.ok(problem(v.json.problems, (q) => q.code === 'forbidden_expression'), expr);
		}
		// as text inside a string literal it is harmless
		const ok = await create(transformDoc(uniq('envtext'), { value: '"$ENV and env"' }));
		assert.equal(ok.status, 201, ok.text.slice(0, 300));
	});

	test('a jq program that never ends: valid, and its run fails with a timeout in seconds', async () => {
		const def = transformDoc(uniq('endless'), { value: 'def f: f; f' });
		const v = await validate(def);
		assert.equal(v.status, 200);
		assert.deepEqual(v.json, { valid: true, problems: [] });
		const pattern = await createPattern(ctx, def);

		const t0 = Date.now();
		const res = await api(ctx, 'POST', `/api/v1/patterns/${pattern.id}/run`, ctx.dev.token, { input: { a: 1 } });
		const ms = Date.now() - t0;
		assert.equal(res.status, 200, res.text.slice(0, 400));
		const run = res.json;
		assert.equal(run.status, 'failed');
		assert.ok(ms < 10000, `answered in ${ms} ms`);
		const t = step(run, 't');
		assert.equal(t.status, 'failed');
		assert.match(t.error, /^value: expression ran longer than \d+ ms$/);
		assert.equal(run.error.node, 't');

		await assertAlive('after an endless expression');
		// and expressions still run
		const fine = await createPattern(ctx, transformDoc(uniq('fine'), { value: '.input.a * 6', confidence: '0.5' }));
		const again = expectStatus(
			await api(ctx, 'POST', `/api/v1/patterns/${fine.id}/run`, ctx.dev.token, { input: { a: 7 } }),
			200,
			'run after the endless one',
		);
		assert.equal(again.status, 'succeeded', JSON.stringify(again.error));
		assert.deepEqual(again.result, { value: 42, confidence: 0.5 });
	});
});
