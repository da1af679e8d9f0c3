// Shared pieces of the live-agent suites (agents_live*.test.mjs): a server with a tenant,
// a developer and a viewer; agents and one-agent patterns; the synchronous run endpoint
// (POST /api/v1/patterns/{id}/run) and assertions over its steps.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request, setupOwner, startServer } from './server.mjs';
import { inviteMember, login } from './roles.mjs';

// The flags every live suite starts its server with: the test agents listen on loopback,
// and the breaker half-opens after 1 s instead of 30 s.
export const LIVE_ARGS = ['--agent-allow', '127.0.0.1/32', '--breaker-open-ms', '1000'];

export const TRACEPARENT_RE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export const uniq = (p) => `${p}-${randomBytes(3).toString('hex')}`;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// {server, owner, ownerTok, dev, viewer, stop()}; args default to LIVE_ARGS.
export async function liveServer({ args = LIVE_ARGS } = {}) {
	const server = await startServer({ args });
	try {
		const owner = await setupOwner(server);
		const ownerTok = (await login(server, owner.email, owner.password)).access_token;
		const dev = await inviteMember(server, ownerTok, owner.tenant.id, 'developer');
		const viewer = await inviteMember(server, ownerTok, owner.tenant.id, 'viewer');
		return { server, owner, ownerTok, dev, viewer, stop: () => server.stop() };
	} catch (e) {
		await server.stop().catch(() => {});
		throw e;
	}
}

export function api(ctx, method, path, token, json, opts = {}) {
	return request(ctx.server, method, path, { headers: { Authorization: `Bearer ${token}` }, json, timeoutMs: opts.timeoutMs ?? 30000 });
}

export function expectStatus(res, status, what) {
	assert.equal(res.status, status, `${what}: ${res.status} ${res.text.slice(0, 600)}`);
	return res.json;
}

// Creates an agent as the developer: body {name?, kind, config, ...}.
export async function createAgent(ctx, body) {
	const b = { name: uniq(body.kind || 'agent'), capabilities: ['live'], ...body };
	return expectStatus(await api(ctx, 'POST', '/api/v1/agents', ctx.dev.token, b), 201, `create agent ${b.name}`);
}

export const httpAgentBody = (url, config = {}, extra = {}) => ({ kind: 'http', config: { url, ...config }, ...extra });

// A pattern input → ask (one agent node selecting `agentName`) → out. `node` adds or
// replaces options of the agent node (timeout_ms, retries, task, data...).
export function onePattern(name, agentName, node = {}) {
	return {
		name,
		input: { type: 'object' },
		nodes: [
			{ id: 'in', type: 'input' },
			{ id: 'ask', type: 'agent', from: 'in', select: { ids: [agentName] }, task: 'Summarise the payload', data: '.input.payload', ...node },
			{ id: 'out', type: 'output', from: 'ask' },
		],
	};
}

export async function createPattern(ctx, definition) {
	return expectStatus(
		await api(ctx, 'POST', '/api/v1/patterns', ctx.dev.token, { name: definition.name, definition }),
		201,
		`create pattern ${definition.name}`,
	);
}

// An agent and a one-agent pattern over it: {agent, pattern}.
export async function agentWithPattern(ctx, agentBody, node = {}) {
	const agent = await createAgent(ctx, agentBody);
	const pattern = await createPattern(ctx, onePattern(uniq('p'), agent.name, node));
	return { agent, pattern };
}

// POST /api/v1/patterns/{id}/run; resolves {run (the JSON), res, ms (wall time)}; 200 expected.
export async function runPattern(ctx, pattern, input, extra = {}, token = ctx.dev.token) {
	const t0 = Date.now();
	const res = await api(ctx, 'POST', `/api/v1/patterns/${pattern.id}/run`, token, { input, ...extra });
	const ms = Date.now() - t0;
	const run = expectStatus(res, 200, `run ${pattern.name}`);
	assertRunShape(run, pattern);
	return { run, res, ms };
}

export function assertRunShape(run, pattern) {
	for (const k of ['id', 'status', 'pattern', 'input', 'result', 'error', 'steps', 'events', 'usage']) {
		assert.ok(k in run, `the run has ${k}: ${JSON.stringify(run).slice(0, 400)}`);
	}
	assert.equal(typeof run.id, 'string');
	assert.equal(run.pattern.id, pattern.id);
	assert.equal(run.pattern.name, pattern.name);
	assert.ok(Number.isInteger(run.pattern.version), 'pattern.version');
	assert.ok(Array.isArray(run.steps), 'steps is a list');
	assert.ok(Array.isArray(run.events), 'events is a list');
	for (const s of run.steps) {
		for (const k of ['node_id', 'type', 'status', 'output', 'error', 'started_at', 'finished_at']) assert.ok(k in s, `step ${s.node_id} has ${k}`);
	}
}

export function step(run, id) {
	const s = run.steps.find((x) => x.node_id === id);
	assert.ok(s, `a step for node ${id} in ${JSON.stringify(run.steps.map((x) => x.node_id))}`);
	return s;
}

// An error as text: a string, or an object's message.
export function errorText(e) {
	if (e === null || e === undefined) return '';
	if (typeof e === 'string') return e;
	return typeof e.message === 'string' ? e.message : JSON.stringify(e);
}

// The run succeeded; returns the agent node's first result.
export function assertSucceeded(run, node = 'ask') {
	assert.equal(run.status, 'succeeded', `run status (error: ${JSON.stringify(run.error)}; steps: ${JSON.stringify(run.steps).slice(0, 800)})`);
	assert.equal(run.error, null);
	const s = step(run, node);
	assert.equal(s.status, 'succeeded', `step ${node}: ${JSON.stringify(s).slice(0, 400)}`);
	assert.ok(Array.isArray(s.output) && s.output.length >= 1, `step ${node} outputs a list of agent results: ${JSON.stringify(s.output)}`);
	return s.output[0];
}

// The run failed at `node` with a reason matching `re`, in the step's error and in the run's.
export function assertFailedAt(run, re, node = 'ask') {
	assert.equal(run.status, 'failed', `run status: ${JSON.stringify({ status: run.status, error: run.error, result: run.result })}`);
	const s = step(run, node);
	assert.equal(s.status, 'failed', `step ${node}: ${JSON.stringify(s).slice(0, 600)}`);
	assert.match(errorText(s.error), re, `the step error states the reason: ${JSON.stringify(s.error)}`);
	assert.ok(run.error && typeof run.error === 'object', `run.error is an object: ${JSON.stringify(run.error)}`);
	assert.equal(run.error.node, node, 'run.error.node');
	assert.match(errorText(run.error), re, `run.error.message states the reason: ${JSON.stringify(run.error)}`);
	assert.equal(run.result, null, 'a failed run has no result');
	return s;
}
