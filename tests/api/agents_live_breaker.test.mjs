// The circuit breaker per agent, against a real agent process (tests/agents/http-agent.mjs):
// 5 consecutive failures open it; while open a call fails at once with "circuit open" and
// never reaches the agent; after --breaker-open-ms (1 s here) one call is let through
// (half-open); 3 successes close it, a failure re-opens it (docs/engine.md "Agent calls").
import test, { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHttpAgent } from '../agents/agents.mjs';
import {
	agentWithPattern,
	api,
	assertFailedAt,
	assertSucceeded,
	expectStatus,
	httpAgentBody,
	liveServer,
	runPattern,
	sleep,
	uniq,
} from './helpers/live.mjs';

const OPEN_MS = 1000; // --breaker-open-ms in LIVE_ARGS
const HALF_OPEN_RE = /^half[-_ ]?open$/;

let ctx, agent;

before(async () => {
	agent = await startHttpAgent();
	ctx = await liveServer();
});

after(async () => {
	await agent?.stop();
	await ctx?.stop();
});

// The breaker state as GET /api/v1/agents/{id}/health shows it.
async function circuitOf(a) {
	const h = expectStatus(await api(ctx, 'GET', `/api/v1/agents/${a.id}/health`, ctx.viewer.token), 200, 'health');
	return h.circuit?.state;
}

// A flaky agent on its own switch, failing, with its pattern: {name, path, agent, pattern}.
async function failingAgent() {
	const name = uniq('brk');
	const path = `/flaky/${name}/0.9`;
	await agent.control(name, { fail: true });
	const { agent: a, pattern } = await agentWithPattern(ctx, httpAgentBody(`${agent.url}${path}`));
	return { name, path, agent: a, pattern };
}

// Runs the pattern `n` times, each failing at the agent with its 500.
async function failNTimes(f, n) {
	for (let i = 0; i < n; i++) {
		const { run } = await runPattern(ctx, f.pattern, { payload: i });
		assertFailedAt(run, /\b500\b/);
	}
}

describe('circuit breaker', () => {
	test('5 consecutive failures open it; the 6th call fails fast without reaching the agent', async () => {
		const f = await failingAgent();
		await failNTimes(f, 4);
		assert.equal(await circuitOf(f.agent), 'closed', 'still closed after 4 failures');
		await failNTimes(f, 1);
		assert.equal((await agent.requests({ path: f.path })).length, 5);
		assert.equal(await circuitOf(f.agent), 'open', 'open after 5 failures');

		const { run, ms } = await runPattern(ctx, f.pattern, { payload: 6 });
		assertFailedAt(run, /circuit open/i);
		assert.ok(ms < 1000, `failed fast (${ms} ms)`);
		assert.equal((await agent.requests({ path: f.path })).length, 5, 'the 6th call never reached the agent');

		const h = expectStatus(await api(ctx, 'GET', `/api/v1/agents/${f.agent.id}/health`, ctx.viewer.token), 200, 'health');
		assert.equal(h.circuit.state, 'open');
		assert.ok(h.circuit.failures >= 5, `failures counted: ${JSON.stringify(h.circuit)}`);
		assert.equal(h.status, 'unhealthy', 'an agent with an open breaker is not healthy');
	});

	test('the agent resource shows the same breaker state as its health', async () => {
		const f = await failingAgent();
		await failNTimes(f, 5);
		assert.equal(await circuitOf(f.agent), 'open');
		const got = expectStatus(await api(ctx, 'GET', `/api/v1/agents/${f.agent.id}`, ctx.viewer.token), 200, 'get agent');
		assert.equal(got.circuit?.state, 'open', `GET /agents/{id} circuit: ${JSON.stringify(got.circuit)}`);
		const list = expectStatus(await api(ctx, 'GET', '/api/v1/agents', ctx.viewer.token), 200, 'list agents');
		assert.equal(list.items.find((x) => x.id === f.agent.id)?.circuit?.state, 'open', 'the list too');
	});

	test('a success in between resets the count of consecutive failures', async () => {
		const f = await failingAgent();
		await failNTimes(f, 4);
		await agent.control(f.name, { fail: false });
		assertSucceeded((await runPattern(ctx, f.pattern, { payload: 'ok' })).run);
		await agent.control(f.name, { fail: true });
		await failNTimes(f, 4);
		assert.equal(await circuitOf(f.agent), 'closed', '4 + 4 failures split by a success do not open it');
		assert.equal((await agent.requests({ path: f.path })).length, 9);
	});

	test('after breaker_open_ms a successful call half-opens it and 3 successes close it', async () => {
		const f = await failingAgent();
		await failNTimes(f, 5);
		const openedAt = Date.now();
		assert.equal(await circuitOf(f.agent), 'open');
		await agent.control(f.name, { fail: false });

		// Still open before the interval, even though the agent is fine again.
		const early = await runPattern(ctx, f.pattern, { payload: 'early' });
		assertFailedAt(early.run, /circuit open/i);
		assert.equal((await agent.requests({ path: f.path })).length, 5);

		await sleep(Math.max(0, openedAt + OPEN_MS + 200 - Date.now()));
		const first = await runPattern(ctx, f.pattern, { payload: 'trial' });
		assert.equal(assertSucceeded(first.run).confidence, 0.9);
		assert.equal((await agent.requests({ path: f.path })).length, 6, 'the trial call reached the agent');
		assert.match(String(await circuitOf(f.agent)), HALF_OPEN_RE, 'half-open after one success');

		assertSucceeded((await runPattern(ctx, f.pattern, { payload: 2 })).run);
		assert.match(String(await circuitOf(f.agent)), HALF_OPEN_RE, 'half-open after two successes');
		assertSucceeded((await runPattern(ctx, f.pattern, { payload: 3 })).run);
		assert.equal(await circuitOf(f.agent), 'closed', 'closed after three successes');

		const h = expectStatus(await api(ctx, 'GET', `/api/v1/agents/${f.agent.id}/health`, ctx.viewer.token), 200, 'health');
		assert.equal(h.circuit.state, 'closed');
		assert.equal(h.circuit.failures, 0, `failures reset: ${JSON.stringify(h.circuit)}`);
	});

	test('half-open lets one call through: concurrent calls fail fast until it answers', async () => {
		const f = await failingAgent();
		await failNTimes(f, 5);
		await sleep(OPEN_MS + 200);
		await agent.control(f.name, { fail: false, delay_ms: 600 });
		const runs = await Promise.all([0, 1, 2].map((i) => runPattern(ctx, f.pattern, { payload: i })));
		const ok = runs.filter((r) => r.run.status === 'succeeded');
		const open = runs.filter((r) => r.run.status === 'failed');
		assert.equal((await agent.requests({ path: f.path })).length, 6, 'only the trial call reached the agent');
		assert.equal(ok.length, 1, `one trial succeeded: ${JSON.stringify(runs.map((r) => r.run.status))}`);
		for (const r of open) assertFailedAt(r.run, /circuit open/i);
	});

	test('a failure while half-open re-opens it', async () => {
		const f = await failingAgent();
		await failNTimes(f, 5);
		await sleep(OPEN_MS + 200);
		const trial = await runPattern(ctx, f.pattern, { payload: 'trial' });
		assertFailedAt(trial.run, /\b500\b/);
		assert.equal((await agent.requests({ path: f.path })).length, 6, 'the trial call reached the agent');
		assert.equal(await circuitOf(f.agent), 'open', 're-opened');
		const { run, ms } = await runPattern(ctx, f.pattern, { payload: 'again' });
		assertFailedAt(run, /circuit open/i);
		assert.ok(ms < 1000, `failed fast (${ms} ms)`);
		assert.equal((await agent.requests({ path: f.path })).length, 6, 'no call while re-opened');
	});

	test('the breaker is per agent', async () => {
		const f = await failingAgent();
		await failNTimes(f, 5);
		assert.equal(await circuitOf(f.agent), 'open');
		const { pattern } = await agentWithPattern(ctx, httpAgentBody(`${agent.url}/ok/0.75`));
		assert.equal(assertSucceeded((await runPattern(ctx, pattern, { payload: 1 })).run).confidence, 0.75);
	});

	test('one run with retries counts each failed attempt', async () => {
		const name = uniq('brk-retry');
		const path = `/flaky/${name}`;
		await agent.control(name, { fail: true });
		const { agent: a, pattern } = await agentWithPattern(ctx, httpAgentBody(`${agent.url}${path}`), { retries: { max: 4, backoff_ms: 10 } });
		const { run } = await runPattern(ctx, pattern, { payload: 1 });
		assertFailedAt(run, /\b500\b/);
		assert.equal((await agent.requests({ path })).length, 5);
		assert.equal(await circuitOf(a), 'open', '5 failed attempts open the breaker');
	});
});
