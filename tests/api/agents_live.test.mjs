// Live http agents: patterns run (POST /api/v1/patterns/{id}/run) against a real agent
// process (tests/agents/http-agent.mjs) and the tests check both sides: what the run
// reports and what the agent received. The protocol (task, data, execution_id, node_id,
// deadline_ms, Idempotency-Key, traceparent), compat mode, timeouts, error statuses,
// malformed, non-object and oversized replies, NaN and out-of-range confidences, redirects
// and retries with backoff (docs/engine.md "Agent calls" and "Agent protocols").
import test, { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHttpAgent, HTTP_USAGE } from '../agents/agents.mjs';
import { get } from './helpers/server.mjs';
import {
	TRACEPARENT_RE,
	agentWithPattern,
	assertFailedAt,
	assertSucceeded,
	httpAgentBody,
	liveServer,
	runPattern,
	uniq,
} from './helpers/live.mjs';

let ctx, agent;
const PAYLOAD = { code: 'int main(void) { return 0; }', lines: 1 };

before(async () => {
	agent = await startHttpAgent();
	ctx = await liveServer();
});

after(async () => {
	await agent?.stop();
	await ctx?.stop();
});

// A fresh agent + pattern for `path` on the test agent; node options in `node`.
const setup = (path, config = {}, node = {}) => agentWithPattern(ctx, httpAgentBody(`${agent.url}${path}`, config), node);

// The server is still healthy and a good call still works.
async function stillFine() {
	assert.equal((await get(ctx.server, '/health/live')).status, 200, 'the server is live');
	const { pattern } = await setup('/ok/0.5');
	const { run } = await runPattern(ctx, pattern, { payload: 1 });
	assertSucceeded(run);
}

describe('a good call', () => {
	test('value and confidence flow to the result; usage is recorded', async () => {
		const { agent: a, pattern } = await setup('/ok/0.85', { timeout_ms: 4000 });
		const { run } = await runPattern(ctx, pattern, { payload: PAYLOAD });
		const r = assertSucceeded(run);
		const expected = { task: 'Summarise the payload', data: PAYLOAD };
		assert.deepEqual(r.value, expected);
		assert.equal(r.confidence, 0.85);
		assert.equal(r.agent, a.name);
		assert.equal(r.agent_id, a.id);
		assert.equal(r.error, null);
		assert.equal(r.reasoning, 'echoed the task and data');
		assert.equal(run.result.confidence, 0.85);
		assert.deepEqual(run.usage, HTTP_USAGE, 'the agent-reported usage is the run usage');
		for (const s of run.steps) assert.equal(s.status, 'succeeded', `step ${s.node_id}`);
		assert.deepEqual(run.input, { payload: PAYLOAD });
	});

	test('the output of one agent result is that result\'s value, not a list', async () => {
		// docs/engine.md, output: "default: the input's value, or the list of values for
		// several results"; a list input contributes each of its results, here one.
		const { pattern } = await setup('/ok/0.85');
		const { run } = await runPattern(ctx, pattern, { payload: PAYLOAD });
		assertSucceeded(run);
		assert.deepEqual(run.result, { value: { task: 'Summarise the payload', data: PAYLOAD }, confidence: 0.85 });
	});

	test('the agent receives the protocol body and headers', async () => {
		const path = `/ok/0.6/${uniq('proto')}`;
		const { pattern } = await setup(path, {}, { timeout_ms: 4000 });
		const before = Date.now();
		const { run } = await runPattern(ctx, pattern, { payload: PAYLOAD });
		assertSucceeded(run);
		const reqs = await agent.requests({ path });
		assert.equal(reqs.length, 1, 'exactly one call');
		const [rq] = reqs;
		assert.equal(rq.method, 'POST');
		assert.match(rq.headers['content-type'] || '', /^application\/json/);
		const b = rq.json;
		assert.ok(b && typeof b === 'object', `a JSON object body: ${rq.body.slice(0, 200)}`);
		assert.equal(b.task, 'Summarise the payload');
		assert.deepEqual(b.data, PAYLOAD);
		assert.equal(b.execution_id, run.id);
		assert.equal(b.node_id, 'ask');
		assert.ok(typeof b.task_id === 'string' && b.task_id.length > 0, `task_id: ${JSON.stringify(b.task_id)}`);
		assert.ok('context' in b, 'the body has context');
		assert.ok(Number.isInteger(b.deadline_ms) && b.deadline_ms > 0, `deadline_ms: ${b.deadline_ms}`);
		// Either the time left (≤ the node timeout) or an absolute deadline (epoch ms).
		if (b.deadline_ms > 1e11) {
			assert.ok(b.deadline_ms > before && b.deadline_ms <= rq.at + 4000 + 1000, `absolute deadline_ms ${b.deadline_ms} vs received ${rq.at}`);
		} else {
			assert.ok(b.deadline_ms <= 4000, `deadline_ms ${b.deadline_ms} within the 4000 ms timeout`);
		}
		assert.equal(rq.headers['idempotency-key'], `${run.id}/ask`);
		const tp = TRACEPARENT_RE.exec(rq.headers.traceparent || '');
		assert.ok(tp, `a W3C traceparent: ${JSON.stringify(rq.headers.traceparent)}`);
		assert.notEqual(tp[1], '0'.repeat(32), 'trace-id is not all zeros');
		assert.notEqual(tp[2], '0'.repeat(16), 'parent-id is not all zeros');
	});

	test('configured headers are sent, the secret one included, and never shown', async () => {
		const secret = `Bearer hdr-${uniq('secret')}`;
		const path = `/ok/0.6/${uniq('hdr')}`;
		const { pattern } = await setup(path, { headers: { Authorization: secret, 'X-Team': 'blue' } });
		const { run, res } = await runPattern(ctx, pattern, { payload: 1 });
		assertSucceeded(run);
		const [rq] = await agent.requests({ path });
		assert.equal(rq.headers.authorization, secret, 'the sealed Authorization header is sent');
		assert.equal(rq.headers['x-team'], 'blue');
		assert.ok(!res.text.includes(secret), 'the run never shows it');
	});

	test('compat mode posts {task, data} to <url>/analyze', async () => {
		const path = `/ok/0.7/${uniq('compat')}`;
		const { pattern } = await setup(path, { compat: 'parallax' });
		const { run } = await runPattern(ctx, pattern, { payload: PAYLOAD });
		const r = assertSucceeded(run);
		assert.deepEqual(r.value, { task: 'Summarise the payload', data: PAYLOAD });
		assert.equal(r.confidence, 0.7);
		assert.equal((await agent.requests({ path })).length, 0, 'nothing posted to the bare url');
		const reqs = await agent.requests({ path: `${path}/analyze` });
		assert.equal(reqs.length, 1);
		assert.equal(reqs[0].method, 'POST');
		assert.equal(reqs[0].json.task, 'Summarise the payload');
		assert.deepEqual(reqs[0].json.data, PAYLOAD);
		assert.equal(reqs[0].headers['idempotency-key'], `${run.id}/ask`);
	});

	test('compat mode reads an original agent\'s {result, confidence}', async () => {
		const { pattern } = await setup('/legacy/0.65', { compat: 'parallax' });
		const { run } = await runPattern(ctx, pattern, { payload: 'x' });
		const r = assertSucceeded(run);
		assert.deepEqual(r.value, { task: 'Summarise the payload', data: 'x' });
		assert.equal(r.confidence, 0.65);
	});
});

describe('failed calls', () => {
	test('a reply slower than the node timeout fails the step quickly', async () => {
		const path = `/slow/5000/0.9/${uniq('slow')}`;
		const { pattern } = await setup(path, {}, { timeout_ms: 300 });
		const { run, ms } = await runPattern(ctx, pattern, { payload: 1 });
		assertFailedAt(run, /time|within 300 ms/i);
		assert.ok(ms < 2500, `the run ended after ${ms} ms, well before the agent's 5000 ms`);
		assert.equal((await agent.requests({ path })).length, 1, 'the agent was called once');
	});

	test('the node timeout wins over the agent timeout', async () => {
		const { pattern } = await setup('/slow/1500/0.9', { timeout_ms: 200 }, { timeout_ms: 5000 });
		const { run, ms } = await runPattern(ctx, pattern, { payload: 1 });
		const r = assertSucceeded(run);
		assert.equal(r.confidence, 0.9);
		assert.ok(ms >= 1400, `waited for the slow reply (${ms} ms)`);
	});

	test('the agent timeout applies without a node timeout: config.timeout_ms', async () => {
		const { pattern } = await setup('/slow/5000/0.9', { timeout_ms: 300 });
		const { run, ms } = await runPattern(ctx, pattern, { payload: 1 });
		assertFailedAt(run, /time|within 300 ms/i);
		assert.ok(ms < 2500, `the run ended after ${ms} ms`);
	});

	test('the agent timeout applies without a node timeout: the agent\'s timeout_ms', async () => {
		const { pattern } = await agentWithPattern(ctx, httpAgentBody(`${agent.url}/slow/5000/0.9`, {}, { timeout_ms: 300 }));
		const { run, ms } = await runPattern(ctx, pattern, { payload: 1 });
		assertFailedAt(run, /time|within 300 ms/i);
		assert.ok(ms < 2500, `the run ended after ${ms} ms`);
	});

	test('the run timeout_ms ends the run as timed_out, stopping the call', async () => {
		const path = `/slow/5000/0.9/${uniq('runto')}`;
		const { pattern } = await setup(path, {}, { timeout_ms: 10000 });
		const { run, ms } = await runPattern(ctx, pattern, { payload: 1 }, { timeout_ms: 400 });
		assert.equal(run.status, 'timed_out', JSON.stringify({ status: run.status, error: run.error }));
		assert.equal(run.result, null);
		assert.ok(ms < 3000, `the run ended after ${ms} ms`);
		assert.equal((await agent.requests({ path })).length, 1);
	});

	test('HTTP 500 fails the step naming the status', async () => {
		const { pattern } = await setup('/fail');
		const { run } = await runPattern(ctx, pattern, { payload: 1 });
		assertFailedAt(run, /\b500\b/);
	});

	test('HTTP 503 fails the step naming the status', async () => {
		const { pattern } = await setup('/fail/503');
		const { run } = await runPattern(ctx, pattern, { payload: 1 });
		assertFailedAt(run, /\b503\b/);
	});

	test('a reply that is not JSON fails the step with a clear reason', async () => {
		const { pattern } = await setup('/malformed');
		const { run } = await runPattern(ctx, pattern, { payload: 1 });
		assertFailedAt(run, /json/i);
		await stillFine();
	});

	test('a JSON reply that is not an object fails the step with a clear reason', async () => {
		const { pattern } = await setup('/notobject');
		const { run } = await runPattern(ctx, pattern, { payload: 1 });
		assertFailedAt(run, /object/i);
		await stillFine();
	});

	test('a 5 MiB reply fails the step as too large', async () => {
		const { pattern } = await setup('/big');
		const { run } = await runPattern(ctx, pattern, { payload: 1 });
		assertFailedAt(run, /too large/i);
		await stillFine();
	});

	test('a redirect is not followed', async () => {
		const path = `/redirect/${uniq('r')}`;
		const { pattern } = await setup(path);
		const before = (await agent.requests({ path: '/ok/0.9' })).length;
		const { run } = await runPattern(ctx, pattern, { payload: 1 });
		assertFailedAt(run, /302|redirect/i);
		assert.equal((await agent.requests({ path: '/ok/0.9' })).length, before, 'the redirect target was never requested');
	});
});

describe('confidence', () => {
	test('"NaN" is no signal: confidence null', async () => {
		const { pattern } = await setup('/nan');
		const { run } = await runPattern(ctx, pattern, { payload: 1 });
		const r = assertSucceeded(run);
		assert.equal(r.confidence, null);
		assert.deepEqual(r.value, { task: 'Summarise the payload', data: 1 });
	});

	test('no confidence at all is no signal', async () => {
		const { pattern } = await setup('/ok');
		const { run } = await runPattern(ctx, pattern, { payload: 1 });
		assert.equal(assertSucceeded(run).confidence, null);
	});

	test('7.5 is clamped to 1, -2 to 0', async () => {
		for (const [raw, want] of [['7.5', 1], ['-2', 0]]) {
			const { pattern } = await setup(`/range/${raw}`);
			const { run } = await runPattern(ctx, pattern, { payload: 1 });
			const r = assertSucceeded(run);
			assert.equal(r.confidence, want, `confidence ${raw}`);
			assert.equal(r.error, null);
		}
	});
});

describe('retries', () => {
	test('a flaky agent that recovers: the same Idempotency-Key on every attempt, with backoff', async () => {
		const name = uniq('flaky');
		const path = `/flaky/${name}/0.8`;
		await agent.control(name, { fail: true, times: 2 });
		const { pattern } = await setup(path, {}, { retries: { max: 2, backoff_ms: 50 } });
		const { run } = await runPattern(ctx, pattern, { payload: 'retry me' });
		const r = assertSucceeded(run);
		assert.equal(r.confidence, 0.8);
		const reqs = await agent.requests({ path });
		assert.equal(reqs.length, 3, 'two failures, then the success');
		for (const rq of reqs) {
			assert.equal(rq.headers['idempotency-key'], `${run.id}/ask`, `attempt ${rq.seq}`);
			assert.match(rq.headers.traceparent || '', TRACEPARENT_RE);
			assert.equal(rq.json.execution_id, run.id);
			assert.equal(rq.json.data, 'retry me');
		}
		// backoff_ms × 2^k with ±20 % jitter: ≥ 40 ms, then ≥ 80 ms (a little slack for clocks).
		const gaps = [reqs[1].at - reqs[0].at, reqs[2].at - reqs[1].at];
		assert.ok(gaps[0] >= 35, `first backoff ${gaps[0]} ms`);
		assert.ok(gaps[1] >= 75, `second backoff ${gaps[1]} ms`);
	});

	test('retries exhausted: 1 + max attempts, then the step fails', async () => {
		const name = uniq('down');
		const path = `/flaky/${name}`;
		await agent.control(name, { fail: true });
		const { pattern } = await setup(path, {}, { retries: { max: 2, backoff_ms: 10 } });
		const { run } = await runPattern(ctx, pattern, { payload: 1 });
		assertFailedAt(run, /\b500\b/);
		const reqs = await agent.requests({ path });
		assert.equal(reqs.length, 3);
		assert.equal(new Set(reqs.map((r) => r.headers['idempotency-key'])).size, 1, 'one key for every attempt');
	});

	test('without retries a failing call is made once', async () => {
		const path = `/fail/500/${uniq('once')}`;
		const { pattern } = await setup(path);
		const { run } = await runPattern(ctx, pattern, { payload: 1 });
		assertFailedAt(run, /\b500\b/);
		assert.equal((await agent.requests({ path })).length, 1);
	});

	test('each run has its own Idempotency-Key', async () => {
		const path = `/ok/0.9/${uniq('keys')}`;
		const { pattern } = await setup(path);
		const a = (await runPattern(ctx, pattern, { payload: 1 })).run;
		const b = (await runPattern(ctx, pattern, { payload: 1 })).run;
		assert.notEqual(a.id, b.id);
		const keys = (await agent.requests({ path })).map((r) => r.headers['idempotency-key']);
		assert.deepEqual(keys, [`${a.id}/ask`, `${b.id}/ask`]);
	});
});

test('the step of a failed agent node carries its failed result', async () => {
	const { agent: a, pattern } = await setup('/fail');
	const { run } = await runPattern(ctx, pattern, { payload: 1 });
	const s = assertFailedAt(run, /\b500\b/);
	// The output, if the step keeps one, is the list of agent results with the failure in it.
	if (s.output !== null) {
		assert.ok(Array.isArray(s.output), `output: ${JSON.stringify(s.output)}`);
		assert.equal(s.output[0].agent, a.name);
		assert.equal(s.output[0].value, null);
		assert.equal(s.output[0].confidence, 0);
		assert.match(String(s.output[0].error), /\b500\b/);
	}
	const out = run.steps.find((x) => x.node_id === 'out');
	assert.ok(!out || out.status !== 'succeeded', `the output node did not succeed: ${JSON.stringify(out)}`);
});
