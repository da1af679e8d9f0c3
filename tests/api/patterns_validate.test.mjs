// POST /api/v1/patterns/validate and GET /api/v1/node-types: the builder's two
// server-side helpers. Every problem comes back at once with its node id and path.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, setupOwner, post, get, backend } from './helpers/server.mjs';

const SPEC_EXAMPLE = {
	name: 'code-review',
	description: 'Three reviewers, expertise-weighted consensus',
	input: { type: 'object', required: ['code'], properties: { code: { type: 'string', maxLength: 200000 } } },
	nodes: [
		{ id: 'in', type: 'input' },
		{ id: 'reviewers', type: 'agent', from: 'in', select: { capabilities: ['code-analysis'], min: 3, max: 5 }, task: 'Review this code', data: '.input.code' },
		{ id: 'verdict', type: 'consensus', from: 'reviewers', key: '.value.recommendation', weight: 'expertise' },
		{ id: 'out', type: 'output', from: 'verdict' },
	],
};

describe(`pattern validation [${backend}]`, () => {
	let server;
	let auth;
	before(async () => {
		server = await startServer();
		const owner = await setupOwner(server);
		const login = await post(server, '/api/v1/auth/login', { json: { email: owner.email, password: owner.password } });
		auth = { headers: { Authorization: `Bearer ${login.json.access_token}` } };
	});
	after(async () => {
		await server?.stop();
	});

	test('a valid document has no problems', async () => {
		const r = await post(server, '/api/v1/patterns/validate', { json: SPEC_EXAMPLE, ...auth });
		assert.equal(r.status, 200, r.text);
		assert.deepEqual(r.json, { valid: true, problems: [] });
	});

	test('every problem comes back at once with node id and path', async () => {
		const doc = structuredClone(SPEC_EXAMPLE);
		doc.nodes[2].from = 'nowhere';             // dangling edge
		doc.nodes[1].select.min = -1;              // out of range
		doc.nodes.push({ id: 'ghost', type: 'frobnicate' }); // unknown type
		doc.nodes[3].data = '$ENV.SECRET';         // unknown option on output, and forbidden jq
		const r = await post(server, '/api/v1/patterns/validate', { json: doc, ...auth });
		assert.equal(r.status, 200, r.text);
		assert.equal(r.json.valid, false);
		const byNode = (id, code) => r.json.problems.find((p) => p.node_id === id && p.code === code);
		assert.ok(byNode('verdict', 'dangling_edge'), JSON.stringify(r.json.problems));
		assert.ok(byNode('ghost', 'unknown_type'), JSON.stringify(r.json.problems));
		const range = byNode('reviewers', 'out_of_range');
		assert.ok(range, JSON.stringify(r.json.problems));
		assert.match(range.path, /select\.min$/);
		assert.ok(r.json.problems.length >= 4);
	});

	test('malformed or hostile bodies get a clear 4xx', async () => {
		const deep = '['.repeat(100) + ']'.repeat(100);
		const r1 = await post(server, '/api/v1/patterns/validate', { body: deep, headers: { ...auth.headers, 'Content-Type': 'application/json' } });
		assert.equal(r1.status, 400);
		assert.equal(r1.json.error.code, 'too_deep');
		const many = { ...SPEC_EXAMPLE, nodes: Array.from({ length: 10000 }, (_, i) => ({ id: `n${i}`, type: 'transform', from: i ? `n${i - 1}` : undefined })) };
		const r2 = await post(server, '/api/v1/patterns/validate', { json: many, ...auth });
		assert.ok([200, 413].includes(r2.status), `status ${r2.status}`);
		if (r2.status === 200) assert.ok(r2.json.problems.some((p) => p.code === 'too_many_nodes'));
		const r3 = await post(server, '/api/v1/patterns/validate', { json: SPEC_EXAMPLE });
		assert.equal(r3.status, 401);
	});

	test('the node-type palette lists every type with schema and ports', async () => {
		const r = await get(server, '/api/v1/node-types', auth);
		assert.equal(r.status, 200);
		const names = r.json.items.map((t) => t.name).sort();
		for (const t of ['input', 'agent', 'race', 'cascade', 'consensus', 'vote', 'merge', 'best', 'gate', 'condition', 'route', 'map', 'reduce', 'review', 'approval', 'transform', 'pattern', 'output']) {
			assert.ok(names.includes(t), `missing ${t}`);
		}
		const gate = r.json.items.find((t) => t.name === 'gate');
		assert.deepEqual(gate.ports, ['pass', 'fail']);
		assert.equal(typeof gate.description, 'string');
		assert.equal(gate.options_schema.type, 'object');
	});
});
