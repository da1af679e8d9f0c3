// The synchronous run endpoint and what surrounds it: input checked against the pattern's
// schema (422 listing the fields), versions (run an older one, diff two), roles (viewer and
// operator may not run), the run deadline, each run persisted as an execution with a step per
// node, and an agent's concurrency cap holding parallel runs back. Runs once per backend.
import test, { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, createAgent, createPattern, expectStatus, liveServer, runPattern, step, uniq } from './helpers/live.mjs';
import { inviteMember } from './helpers/roles.mjs';
import { sql } from './helpers/server.mjs';

const constant = (value, confidence, extra = {}) => ({ kind: 'builtin', config: { type: 'constant', value, confidence, ...extra } });

describe('POST /api/v1/patterns/{id}/run', () => {
	let ctx, agent, pattern, operator;
	const def = (name, task = 'Answer') => ({
		name,
		input: { type: 'object', required: ['code'], properties: { code: { type: 'string', maxLength: 20 }, level: { type: 'integer', minimum: 1, maximum: 3 } } },
		nodes: [
			{ id: 'in', type: 'input' },
			{ id: 'ask', type: 'agent', from: 'in', select: { capabilities: [name] }, task, data: '.input.code' },
			{ id: 'out', type: 'output', from: 'ask' },
		],
	});
	before(async () => {
		ctx = await liveServer();
		operator = await inviteMember(ctx.server, ctx.ownerTok, ctx.owner.tenant.id, 'operator');
		const name = uniq('run');
		agent = await createAgent(ctx, { ...constant({ ok: true }, 0.75), capabilities: [name] });
		pattern = await createPattern(ctx, def(name));
	});
	after(async () => ctx?.stop());

	test('input failing the schema is a 422 listing every field; nothing is run or stored', async () => {
		const before = await sql(ctx.server, 'SELECT COUNT(*) FROM executions');
		const res = await api(ctx, 'POST', `/api/v1/patterns/${pattern.id}/run`, ctx.dev.token, { input: { code: 'x'.repeat(21), level: 9 } });
		assert.equal(res.status, 422, res.text);
		assert.equal(res.json.error.code, 'invalid_input');
		assert.equal(res.json.error.field, 'input.code');
		const paths = res.json.problems.map((p) => p.path).sort();
		assert.deepEqual(paths, ['input.code', 'input.level']);
		const missing = await api(ctx, 'POST', `/api/v1/patterns/${pattern.id}/run`, ctx.dev.token, { input: {} });
		assert.equal(missing.status, 422);
		assert.equal(missing.json.error.field, 'input.code');
		assert.equal(missing.json.problems[0].code, 'missing_field');
		const after = await sql(ctx.server, 'SELECT COUNT(*) FROM executions');
		assert.equal(Number(after[0][0]), Number(before[0][0]));
	});

	test('bad bodies are 400 naming the field; unknown pattern or version is 404', async () => {
		const cases = [
			[{ input: {}, extra: 1 }, 'extra'],
			[{ input: { code: 'a' }, version: 0 }, 'version'],
			[{ input: { code: 'a' }, timeout_ms: 10 ** 9 }, 'timeout_ms'],
		];
		for (const [body, field] of cases) {
			const res = await api(ctx, 'POST', `/api/v1/patterns/${pattern.id}/run`, ctx.dev.token, body);
			assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
			assert.equal(res.json.error.field, field);
		}
		assert.equal((await api(ctx, 'POST', '/api/v1/patterns/nope/run', ctx.dev.token, { input: { code: 'a' } })).status, 404);
		assert.equal((await api(ctx, 'POST', `/api/v1/patterns/${pattern.id}/run`, ctx.dev.token, { input: { code: 'a' }, version: 99 })).status, 404);
	});

	test('viewers and operators may not run a pattern now; developers may', async () => {
		assert.equal((await api(ctx, 'POST', `/api/v1/patterns/${pattern.id}/run`, ctx.viewer.token, { input: { code: 'a' } })).status, 403);
		assert.equal((await api(ctx, 'POST', `/api/v1/patterns/${pattern.id}/run`, operator.token, { input: { code: 'a' } })).status, 403);
		const { run } = await runPattern(ctx, pattern, { code: 'a' });
		assert.equal(run.status, 'succeeded');
	});

	test('a run is an execution with one step per node, stored as it goes', async () => {
		const { run } = await runPattern(ctx, pattern, { code: 'abc' });
		assert.equal(run.status, 'succeeded');
		assert.deepEqual(run.result, { value: { ok: true }, confidence: 0.75 }, 'one result: its value, not a list');
		assert.deepEqual(run.steps.map((s) => [s.node_id, s.status]), [['in', 'succeeded'], ['ask', 'succeeded'], ['out', 'succeeded']]);
		const ex = await sql(ctx.server, `SELECT status, confidence, pattern_version, input FROM executions WHERE id = '${run.id}'`);
		assert.equal(ex.length, 1);
		const [status, confidence, version, input] = ex[0];
		assert.equal(status, 'succeeded');
		assert.equal(Number(confidence), 0.75);
		assert.equal(Number(version), 1);
		assert.deepEqual(JSON.parse(input), { code: 'abc' });
		const steps = await sql(ctx.server, `SELECT node_id, status FROM steps WHERE execution_id = '${run.id}'`);
		assert.deepEqual(steps.map((s) => s[0]).sort(), ['ask', 'in', 'out']);
		assert.ok(steps.every((s) => s[1] === 'succeeded'), JSON.stringify(steps));
	});

	test('an older version runs on request, and the diff names what changed', async () => {
		const name = pattern.name;
		const v2 = def(name, 'Answer carefully');
		v2.nodes.splice(2, 0, { id: 'pick', type: 'best', from: 'ask' });
		v2.nodes[3].from = 'pick';
		expectStatus(await api(ctx, 'POST', `/api/v1/patterns/${pattern.id}/versions`, ctx.dev.token, { definition: v2 }), 201, 'v2');
		const latest = (await runPattern(ctx, pattern, { code: 'a' })).run;
		assert.equal(latest.pattern.version, 2);
		assert.deepEqual(latest.steps.map((s) => s.node_id), ['in', 'ask', 'pick', 'out']);
		const old = (await runPattern(ctx, pattern, { code: 'a' }, { version: 1 })).run;
		assert.equal(old.pattern.version, 1);
		assert.deepEqual(old.steps.map((s) => s.node_id), ['in', 'ask', 'out']);

		const diff = expectStatus(await api(ctx, 'GET', `/api/v1/patterns/${pattern.id}/versions/diff?from=1&to=2`, ctx.viewer.token), 200, 'diff');
		assert.equal(diff.from, 1);
		assert.equal(diff.to, 2);
		assert.deepEqual(diff.changes, [
			{ op: 'replace', path: '.nodes[ask].task', from: 'Answer', to: 'Answer carefully' },
			{ op: 'replace', path: '.nodes[out].from', from: 'ask', to: 'pick' },
			{ op: 'add', path: '.nodes[pick]', to: { id: 'pick', type: 'best', from: 'ask' } },
		]);
		const same = expectStatus(await api(ctx, 'GET', `/api/v1/patterns/${pattern.id}/versions/diff?from=2`, ctx.viewer.token), 200, 'diff to latest');
		assert.deepEqual(same.changes, []);
		const bad = await api(ctx, 'GET', `/api/v1/patterns/${pattern.id}/versions/diff?from=abc`, ctx.viewer.token);
		assert.equal(bad.status, 400);
		assert.equal(bad.json.error.field, 'from');
		assert.equal((await api(ctx, 'GET', `/api/v1/patterns/${pattern.id}/versions/diff?from=7`, ctx.viewer.token)).status, 404);
	});

	test('a run past its timeout_ms ends timed_out, on time', async () => {
		const name = uniq('slow');
		await createAgent(ctx, { ...constant('late', 0.9, { delay_ms: 5000 }), capabilities: [name] });
		const p = await createPattern(ctx, def(name));
		const t0 = Date.now();
		const { run } = await runPattern(ctx, p, { code: 'a' }, { timeout_ms: 300 });
		assert.equal(run.status, 'timed_out');
		assert.equal(run.result, null);
		assert.match(run.error.message, /ran out of time/);
		assert.equal(step(run, 'ask').status, 'timed_out');
		assert.ok(Date.now() - t0 < 3000, 'returned soon after the deadline');
	});

	test('an agent concurrency cap of 1 makes parallel runs take turns', async () => {
		const name = uniq('cap');
		await createAgent(ctx, { ...constant('done', 0.9, { delay_ms: 400 }), capabilities: [name], max_concurrency: 1 });
		const p = await createPattern(ctx, def(name));
		const t0 = Date.now();
		const runs = await Promise.all([0, 1, 2].map(() => runPattern(ctx, p, { code: 'a' })));
		const wall = Date.now() - t0;
		for (const { run } of runs) assert.equal(run.status, 'succeeded');
		// three 400 ms calls one at a time take >= 1200 ms; uncapped they would overlap (~400 ms)
		assert.ok(wall >= 1150, `the cap serialised the calls (${wall} ms)`);
		// whatever order the requests arrived in, the three 400 ms calls did not overlap
		const first = Math.min(...runs.map(({ run }) => Date.parse(run.started_at)));
		const last = Math.max(...runs.map(({ run }) => Date.parse(run.finished_at)));
		assert.ok(last - first >= 1150, `the calls took turns: ${last - first} ms from first start to last end`);
	});
});
