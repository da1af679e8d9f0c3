// POST /api/v1/agents/{id}/test and GET /api/v1/agents/{id}/health against real agent
// processes (http and openai), and outbound safety: a server started without
// --agent-allow refuses to call an agent on 127.0.0.1, naming the address.
import test, { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startHttpAgent, startOpenAIAgent, HTTP_USAGE, OPENAI_USAGE } from '../agents/agents.mjs';
import {
	agentWithPattern,
	api,
	assertFailedAt,
	createAgent,
	expectStatus,
	httpAgentBody,
	liveServer,
	runPattern,
	uniq,
} from './helpers/live.mjs';

const API_KEY = `sk-routes-${randomBytes(16).toString('hex')}`;

let ctx, agent, oa;

before(async () => {
	agent = await startHttpAgent();
	oa = await startOpenAIAgent();
	ctx = await liveServer();
});

after(async () => {
	await agent?.stop();
	await oa?.stop();
	await ctx?.stop();
});

const testAgent = (a, body, token = ctx.dev.token) => api(ctx, 'POST', `/api/v1/agents/${a.id}/test`, token, body);
const health = (a, token = ctx.viewer.token) => api(ctx, 'GET', `/api/v1/agents/${a.id}/health`, token);

function assertTestShape(t) {
	for (const k of ['ok', 'value', 'confidence', 'reasoning', 'error', 'latency_ms', 'usage']) assert.ok(k in t, `/test has ${k}: ${JSON.stringify(t)}`);
	assert.equal(typeof t.ok, 'boolean');
	assert.ok(Number.isInteger(t.latency_ms) && t.latency_ms >= 0, `latency_ms ${t.latency_ms}`);
}

function assertHealthShape(h) {
	for (const k of ['status', 'circuit', 'inflight', 'last_error', 'probe']) assert.ok(k in h, `/health has ${k}: ${JSON.stringify(h)}`);
	assert.ok(['healthy', 'unhealthy', 'unknown'].includes(h.status), `status ${h.status}`);
	for (const k of ['state', 'failures', 'successes']) assert.ok(k in h.circuit, `circuit has ${k}`);
	assert.ok(Number.isInteger(h.inflight) && h.inflight >= 0, `inflight ${h.inflight}`);
}

describe('POST /agents/{id}/test', () => {
	test('http: calls the agent once and reports value, confidence, reasoning, usage', async () => {
		const path = `/ok/0.85/${uniq('t')}`;
		const a = await createAgent(ctx, httpAgentBody(`${agent.url}${path}`));
		const t = expectStatus(await testAgent(a, { task: 'ping', data: { x: 1 } }), 200, 'test');
		assertTestShape(t);
		assert.equal(t.ok, true);
		assert.deepEqual(t.value, { task: 'ping', data: { x: 1 } });
		assert.equal(t.confidence, 0.85);
		assert.equal(t.reasoning, 'echoed the task and data');
		assert.equal(t.error, null);
		assert.deepEqual(t.usage, HTTP_USAGE);
		const reqs = await agent.requests({ path });
		assert.equal(reqs.length, 1);
		assert.equal(reqs[0].json.task, 'ping');
		assert.deepEqual(reqs[0].json.data, { x: 1 });
	});

	test('http: an empty body still makes a call', async () => {
		const path = `/ok/0.5/${uniq('t')}`;
		const a = await createAgent(ctx, httpAgentBody(`${agent.url}${path}`));
		const t = expectStatus(await testAgent(a, {}), 200, 'test {}');
		assert.equal(t.ok, true, JSON.stringify(t));
		assert.equal((await agent.requests({ path })).length, 1);
	});

	test('http: a failing agent answers 200 with ok false and the reason', async () => {
		const a = await createAgent(ctx, httpAgentBody(`${agent.url}/fail`));
		const t = expectStatus(await testAgent(a, { task: 'ping' }), 200, 'test fail');
		assertTestShape(t);
		assert.equal(t.ok, false);
		assert.equal(t.value, null);
		assert.match(String(t.error), /\b500\b/);
	});

	test('http compat: the test goes to <url>/analyze', async () => {
		const path = `/ok/0.4/${uniq('t')}`;
		const a = await createAgent(ctx, httpAgentBody(`${agent.url}${path}`, { compat: 'parallax' }));
		const t = expectStatus(await testAgent(a, { task: 'ping', data: 'd' }), 200, 'test compat');
		assert.equal(t.ok, true, JSON.stringify(t));
		assert.equal(t.confidence, 0.4);
		assert.equal((await agent.requests({ path: `${path}/analyze` })).length, 1);
	});

	test('openai: value, confidence and usage, without the key', async () => {
		const a = await createAgent(ctx, { kind: 'openai', config: { base_url: `${oa.url}/json/0.72/v1`, model: 'm', api_key: API_KEY, json_mode: true } });
		const res = await testAgent(a, { task: 'ping', data: { x: 1 } });
		const t = expectStatus(res, 200, 'test openai');
		assertTestShape(t);
		assert.equal(t.ok, true, JSON.stringify(t));
		assert.deepEqual(t.value, { answer: 'forty-two' });
		assert.equal(t.confidence, 0.72);
		assert.deepEqual(t.usage, { input_tokens: OPENAI_USAGE.prompt_tokens, output_tokens: OPENAI_USAGE.completion_tokens });
		assert.ok(!res.text.includes(API_KEY));
	});

	test('openai: a failing endpoint is ok false naming the status', async () => {
		const a = await createAgent(ctx, { kind: 'openai', config: { base_url: `${oa.url}/fail/v1`, model: 'm' } });
		const t = expectStatus(await testAgent(a, { task: 'ping' }), 200, 'test openai fail');
		assert.equal(t.ok, false);
		assert.match(String(t.error), /\b500\b/);
	});

	test('a viewer may not test an agent (403) and the agent is not called', async () => {
		const path = `/ok/0.5/${uniq('t')}`;
		const a = await createAgent(ctx, httpAgentBody(`${agent.url}${path}`));
		const res = await testAgent(a, { task: 'ping' }, ctx.viewer.token);
		assert.equal(res.status, 403, res.text);
		assert.equal(res.json?.error?.code, 'forbidden');
		assert.equal((await agent.requests({ path })).length, 0);
	});

	test('an unknown agent is 404', async () => {
		const res = await api(ctx, 'POST', '/api/v1/agents/00000000-0000-7000-a000-000000000000/test', ctx.dev.token, {});
		assert.equal(res.status, 404, res.text);
	});
});

describe('GET /agents/{id}/health', () => {
	test('http: a viewer reads it; the probe is GET <url>/health', async () => {
		const path = `/ok/0.85/${uniq('h')}`;
		const a = await createAgent(ctx, httpAgentBody(`${agent.url}${path}`));
		const h = expectStatus(await health(a), 200, 'health');
		assertHealthShape(h);
		assert.equal(h.status, 'healthy');
		assert.equal(h.circuit.state, 'closed');
		assert.equal(h.circuit.failures, 0);
		assert.equal(h.inflight, 0);
		assert.equal(h.last_error, null);
		assert.equal(h.probe.ok, true);
		assert.equal(h.probe.error, null);
		assert.ok(Number.isInteger(h.probe.latency_ms) && h.probe.latency_ms >= 0);
		const reqs = await agent.requests({ path: `${path}/health` });
		assert.equal(reqs.length, 1);
		assert.equal(reqs[0].method, 'GET');
		assert.equal((await agent.requests({ path })).length, 0, 'a probe is not a call');
	});

	test('http: a 503 probe is unhealthy with the reason', async () => {
		const name = uniq('sick');
		await agent.control(name, { fail: true });
		const a = await createAgent(ctx, httpAgentBody(`${agent.url}/flaky/${name}`));
		const h = expectStatus(await health(a), 200, 'health sick');
		assertHealthShape(h);
		assert.equal(h.status, 'unhealthy');
		assert.equal(h.probe.ok, false);
		assert.match(String(h.probe.error), /\b503\b/);
		await agent.control(name, { fail: false });
		const h2 = expectStatus(await health(a), 200, 'health recovered');
		assert.equal(h2.status, 'healthy');
		assert.equal(h2.probe.ok, true);
	});

	test('http compat: the probe is GET <url>/health too', async () => {
		const path = `/ok/0.6/${uniq('h')}`;
		const a = await createAgent(ctx, httpAgentBody(`${agent.url}${path}`, { compat: 'parallax' }));
		expectStatus(await health(a), 200, 'health compat');
		assert.equal((await agent.requests({ path: `${path}/health` })).length, 1);
	});

	test('http: the probe carries the configured headers, the secret one included', async () => {
		const secret = `Bearer probe-${uniq('s')}`;
		const path = `/ok/0.6/${uniq('h')}`;
		const a = await createAgent(ctx, httpAgentBody(`${agent.url}${path}`, { headers: { Authorization: secret, 'X-Team': 'blue' } }));
		const res = await health(a);
		expectStatus(res, 200, 'health with headers');
		assert.ok(!res.text.includes(secret));
		const [rq] = await agent.requests({ path: `${path}/health` });
		assert.ok(rq, 'probed');
		assert.equal(rq.headers['x-team'], 'blue');
		assert.equal(rq.headers.authorization, secret, 'an agent behind auth can be probed');
	});

	test('the last call error shows in last_error', async () => {
		const { agent: a, pattern } = await agentWithPattern(ctx, httpAgentBody(`${agent.url}/fail/502`));
		await runPattern(ctx, pattern, { payload: 1 });
		const h = expectStatus(await health(a), 200, 'health after a failure');
		assert.match(String(errorish(h.last_error)), /\b502\b/);
	});

	test('openai: the probe is GET <base_url>/models with the key', async () => {
		const base = `/json/0.5/${uniq('h')}/v1`;
		const a = await createAgent(ctx, { kind: 'openai', config: { base_url: `${oa.url}${base}`, model: 'm', api_key: API_KEY } });
		const res = await health(a);
		const h = expectStatus(res, 200, 'health openai');
		assertHealthShape(h);
		assert.equal(h.status, 'healthy');
		assert.equal(h.probe.ok, true);
		assert.ok(!res.text.includes(API_KEY));
		const reqs = await oa.requests({ path: `${base}/models` });
		assert.equal(reqs.length, 1);
		assert.equal(reqs[0].method, 'GET');
		assert.equal(reqs[0].headers.authorization, `Bearer ${API_KEY}`);
	});

	test('openai: a failing /models is unhealthy', async () => {
		const a = await createAgent(ctx, { kind: 'openai', config: { base_url: `${oa.url}/fail/v1`, model: 'm' } });
		const h = expectStatus(await health(a), 200, 'health openai fail');
		assert.equal(h.status, 'unhealthy');
		assert.equal(h.probe.ok, false);
		assert.match(String(h.probe.error), /\b500\b/);
	});

	test('an unknown agent is 404', async () => {
		const res = await api(ctx, 'GET', '/api/v1/agents/00000000-0000-7000-a000-000000000000/health', ctx.viewer.token);
		assert.equal(res.status, 404, res.text);
	});
});

function errorish(e) {
	return e && typeof e === 'object' ? e.message ?? JSON.stringify(e) : e;
}

describe('outbound safety without --agent-allow', () => {
	let strict;

	before(async () => {
		strict = await liveServer({ args: [] });
	});

	after(async () => {
		await strict?.stop();
	});

	test('a run refuses the loopback agent, naming the address; nothing reaches it', async () => {
		const path = `/ok/0.9/${uniq('blocked')}`;
		const { pattern } = await agentWithPattern(strict, httpAgentBody(`${agent.url}${path}`));
		const { run } = await runPattern(strict, pattern, { payload: 1 });
		assertFailedAt(run, /127\.0\.0\.1/);
		assert.match(String(run.error.message), /not|allow|refus/i);
		assert.equal((await agent.requests({ path })).length, 0, 'the agent was never called');
	});

	test('/test and /health refuse it too', async () => {
		const path = `/ok/0.9/${uniq('blocked')}`;
		const a = await createAgent(strict, httpAgentBody(`${agent.url}${path}`));
		const t = expectStatus(await api(strict, 'POST', `/api/v1/agents/${a.id}/test`, strict.dev.token, { task: 'ping' }), 200, 'test');
		assert.equal(t.ok, false);
		assert.match(String(t.error), /127\.0\.0\.1/);
		const h = expectStatus(await api(strict, 'GET', `/api/v1/agents/${a.id}/health`, strict.viewer.token), 200, 'health');
		assert.equal(h.probe.ok, false);
		assert.match(String(h.probe.error), /127\.0\.0\.1/);
		assert.equal((await agent.requests({ path })).length + (await agent.requests({ path: `${path}/health` })).length, 0);
	});

	test('openai base_url on loopback is refused as well', async () => {
		const base = `/json/0.5/${uniq('blocked')}/v1`;
		const { pattern } = await agentWithPattern(strict, { kind: 'openai', config: { base_url: `${oa.url}${base}`, model: 'm' } });
		const { run } = await runPattern(strict, pattern, { payload: 1 });
		assertFailedAt(run, /127\.0\.0\.1/);
		assert.equal((await oa.requests({ path: `${base}/chat/completions` })).length, 0);
	});
});
