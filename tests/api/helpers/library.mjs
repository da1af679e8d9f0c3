// Helpers for the built-in library suites (tests/api/library*.test.mjs): a server with an
// owner, one workspace per pattern (so one case's agents never join another pattern's
// selection), the pattern cloned into it, builtin constant agents replaced per case, and
// synchronous runs (POST /api/v1/patterns/{id}/run) checked against numbers worked out
// by hand from SPEC §3.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request, setupOwner, startServer } from './server.mjs';
import { login } from './roles.mjs';

export const TOLERANCE = 1e-6;

export async function libraryServer() {
	const server = await startServer();
	const owner = await setupOwner(server);
	const token = (await login(server, owner.email, owner.password)).access_token;
	return { server, owner, token };
}

export function api(ctx, method, path, json, headers = {}) {
	return request(ctx.server, method, path, {
		headers: { Authorization: `Bearer ${ctx.token}`, ...headers },
		json,
		timeoutMs: 30000,
	});
}

export function expectStatus(res, status, what) {
	assert.equal(res.status, status, `${what}: ${res.status} ${res.text.slice(0, 600)}`);
	return res.json;
}

// A workspace of its own with the built-in `name` cloned into it: {ws, headers, pattern}.
export async function patternWorkspace(ctx, name) {
	const ws = expectStatus(await api(ctx, 'POST', '/api/v1/workspaces',
		{ name: `${name}-${randomBytes(3).toString('hex')}` }), 201, `workspace for ${name}`);
	const headers = { 'X-Parallax-Workspace': ws.id };
	const pattern = expectStatus(await api(ctx, 'POST', `/api/v1/patterns/library/${name}/clone`, {}, headers),
		201, `clone ${name}`);
	return { ws, headers, pattern };
}

// Replaces every agent of the workspace with builtin agents. A spec is
// {name, capabilities, expertise?, value?, confidence?, fail?, delay_ms?, type?, program?}:
// type defaults to constant.
export async function setAgents(ctx, w, specs) {
	const list = expectStatus(await api(ctx, 'GET', '/api/v1/agents?limit=100', undefined, w.headers), 200, 'list agents');
	for (const a of list.items) {
		expectStatus(await api(ctx, 'DELETE', `/api/v1/agents/${a.id}`, undefined, w.headers), 204, `delete ${a.name}`);
	}
	const made = [];
	for (const s of specs) {
		const type = s.type ?? 'constant';
		const config = { type };
		if (type === 'constant') config.value = s.value;
		for (const k of ['confidence', 'fail', 'delay_ms', 'program']) if (s[k] !== undefined) config[k] = s[k];
		if (type === 'constant' && s.fail && config.confidence === undefined) config.confidence = 0.5; // never returned
		const body = { name: s.name, kind: 'builtin', capabilities: s.capabilities, config };
		if (s.expertise !== undefined) body.expertise = s.expertise;
		made.push(expectStatus(await api(ctx, 'POST', '/api/v1/agents', body, w.headers), 201, `agent ${s.name}`));
	}
	return made;
}

// POST /api/v1/patterns/{id}/run; returns the run body (any status code but 5xx is the caller's).
export async function runPattern(ctx, w, input, extra = {}) {
	return api(ctx, 'POST', `/api/v1/patterns/${w.pattern.id}/run`, { input, timeout_ms: 20000, ...extra }, w.headers);
}

// A run that must succeed: the run body.
export async function runOk(ctx, w, input, what) {
	const run = expectStatus(await runPattern(ctx, w, input), 200, what);
	assert.equal(run.status, 'succeeded', `${what}: ${JSON.stringify({ status: run.status, error: run.error })}`);
	assert.ok(run.result, `${what}: a result`);
	return run;
}

export function near(actual, expected, what) {
	assert.equal(typeof actual, 'number', `${what}: ${JSON.stringify(actual)} is not a number`);
	assert.ok(Math.abs(actual - expected) <= TOLERANCE, `${what}: ${actual}, expected ${expected}`);
}

// Every key of `expected` matches in `actual`: numbers within TOLERANCE, objects and
// arrays member by member, everything else strictly.
export function like(actual, expected, what) {
	if (typeof expected === 'number') return near(actual, expected, what);
	if (expected === null || typeof expected !== 'object') return assert.deepEqual(actual, expected, what);
	assert.ok(actual !== null && typeof actual === 'object', `${what}: ${JSON.stringify(actual)} is not an object`);
	if (Array.isArray(expected)) {
		assert.ok(Array.isArray(actual), `${what}: not an array`);
		assert.equal(actual.length, expected.length, `${what}: length of ${JSON.stringify(actual)}`);
	}
	for (const [k, v] of Object.entries(expected)) like(actual[k], v, `${what}.${k}`);
}

// Runs one case: agents replaced, the run checked against {confidence, value}.
export async function runCase(ctx, w, { agents, input, confidence, value }, what) {
	await setAgents(ctx, w, agents);
	const run = await runOk(ctx, w, input, what);
	near(run.result.confidence, confidence, `${what}: confidence`);
	if (value !== undefined) like(run.result.value, value, `${what}: value`);
	return run;
}

export const stepOf = (run, id) => run.steps.find((s) => s.node_id === id);

// A failing agent in constants(): FAIL, or [FAIL, null, expertise].
export const FAIL = Symbol('fail');

// Builtin constant agents a1, a2, ... with capability cap, one per row:
// [value, confidence, expertise?], FAIL or [FAIL, null, expertise].
export function constants(cap, rows) {
	return rows.map((r, i) => {
		const name = `a${i + 1}`;
		const [value, confidence, expertise] = r === FAIL ? [FAIL] : r;
		const spec = { name, capabilities: [cap], value: value === FAIL ? 'never returned' : value };
		if (value === FAIL) spec.fail = true;
		else spec.confidence = confidence;
		if (expertise !== undefined) spec.expertise = expertise;
		return spec;
	});
}
