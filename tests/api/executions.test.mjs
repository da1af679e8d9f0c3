// Executions through the durable queue (SPEC §5): submit (202, ?wait), list and get, the
// three idempotency cases, cancel mid-flight, timeouts, approval both ways (and timed approvals,
// parked with a durable deadline, across a restart), retry, events
// (JSON and SSE with Last-Event-ID replay), quota release on every terminal path, and the
// crash loop: the server is killed with SIGKILL again and again while executions run
// against a real agent process that counts its calls. Runs once per backend.
import test, { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { api, createAgent, createPattern, expectStatus, liveServer, sleep, uniq } from './helpers/live.mjs';
import { startServer } from './helpers/server.mjs';
import { login } from './helpers/roles.mjs';
import { startHttpAgent } from '../agents/agents.mjs';

const TERMINAL = ['succeeded', 'failed', 'cancelled', 'timed_out'];
const constant = (value, confidence, extra = {}) => ({ kind: 'builtin', config: { type: 'constant', value, confidence, ...extra } });

function onePattern(name, cap, extraNodes = null) {
	return {
		name,
		input: { type: 'object' },
		nodes: extraNodes || [
			{ id: 'in', type: 'input' },
			{ id: 'ask', type: 'agent', from: 'in', select: { capabilities: [cap] }, task: 'Answer', data: '.input' },
			{ id: 'out', type: 'output', from: 'ask' },
		],
	};
}

async function waitFor(ctx, id, statuses = TERMINAL, ms = 15000) {
	const t0 = Date.now();
	for (;;) {
		const x = expectStatus(await api(ctx, 'GET', `/api/v1/executions/${id}`, ctx.dev.token), 200, 'get');
		if (statuses.includes(x.status)) return x;
		if (Date.now() - t0 > ms) assert.fail(`execution ${id} stayed ${x.status}`);
		await sleep(30);
	}
}

async function submit(ctx, body, headers = {}, query = '') {
	return request_(ctx, 'POST', `/api/v1/executions${query}`, body, headers);
}

function request_(ctx, method, path, json, headers = {}) {
	return new Promise((resolve, reject) => {
		const u = new URL(ctx.server.url + path);
		const data = json === undefined ? null : Buffer.from(JSON.stringify(json));
		const req = http.request(
			{ host: u.hostname, port: u.port, method, path: u.pathname + u.search, agent: false,
			  headers: { Authorization: `Bearer ${ctx.dev.token}`, ...(data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {}), ...headers } },
			(res) => {
				let text = '';
				res.setEncoding('utf8').on('data', (d) => (text += d)).on('end', () => {
					let j = null;
					try { j = JSON.parse(text); } catch { /* not JSON */ }
					resolve({ status: res.statusCode, headers: res.headers, text, json: j });
				});
			},
		);
		req.on('error', reject);
		if (data) req.write(data);
		req.end();
	});
}

async function usage(ctx) {
	const q = expectStatus(await api(ctx, 'GET', `/api/v1/tenants/${ctx.owner.tenant.id}/quotas`, ctx.ownerTok), 200, 'quotas');
	return q.usage ?? q;
}

describe('executions', () => {
	let ctx, cap, quick, slow;
	before(async () => {
		ctx = await liveServer({ args: ['--agent-allow', '127.0.0.1/32', '--health-interval-ms', '0'] });
		cap = uniq('cap');
		await createAgent(ctx, { ...constant({ ok: 1 }, 0.8), capabilities: [cap] });
		quick = await createPattern(ctx, onePattern(uniq('quick'), cap));
		const slowCap = uniq('slowcap');
		await createAgent(ctx, { ...constant('late', 0.9, { delay_ms: 4000 }), capabilities: [slowCap] });
		slow = await createPattern(ctx, onePattern(uniq('slow'), slowCap));
	});
	after(async () => ctx?.stop());

	test('submit answers 202 queued; the worker runs it; get shows the steps; ?wait returns the result', async () => {
		const res = await submit(ctx, { pattern: quick.name, input: { n: 1 } });
		assert.equal(res.status, 202, res.text);
		assert.match(res.json.id, /^[0-9a-f-]{36}$/);
		assert.ok(['queued', 'running', 'succeeded'].includes(res.json.status));
		const x = await waitFor(ctx, res.json.id);
		assert.equal(x.status, 'succeeded');
		assert.deepEqual(x.result, { value: { ok: 1 }, confidence: 0.8 });
		assert.deepEqual(x.steps.map((s) => s.node_id), ['in', 'ask', 'out']);
		assert.equal(x.pattern.name, quick.name);
		assert.equal(x.attempts, 1);
		const w = await submit(ctx, { pattern: quick.name, input: { n: 2 } }, {}, '?wait=10');
		assert.equal(w.status, 200, w.text);
		assert.equal(w.json.status, 'succeeded');
		assert.equal(w.json.result.confidence, 0.8);
	});

	test('bad submissions: 400 naming the field, 422 for an unknown pattern or bad input', async () => {
		for (const [body, status, field] of [
			[{}, 400, 'pattern'],
			[{ pattern: quick.name, priority: 1000 }, 400, 'priority'],
			[{ pattern: quick.name, extra: 1 }, 400, 'extra'],
			[{ pattern: 'no-such-pattern' }, 422, 'pattern'],
			[{ pattern: quick.name, version: 99 }, 422, 'version'],
		]) {
			const res = await submit(ctx, body);
			assert.equal(res.status, status, `${JSON.stringify(body)}: ${res.text}`);
			assert.equal(res.json.error.field, field);
		}
		const bad = await submit(ctx, { pattern: quick.name }, {}, '?wait=999');
		assert.equal(bad.status, 400);
	});

	test('idempotency: same key and body → same execution; another body → 422; in flight → 409', async () => {
		const key = uniq('key');
		const a = await submit(ctx, { pattern: quick.name, input: { k: 1 } }, { 'Idempotency-Key': key });
		const b = await submit(ctx, { pattern: quick.name, input: { k: 1 } }, { 'Idempotency-Key': key });
		assert.equal(a.status, 202);
		assert.equal(b.status, 202);
		assert.equal(b.json.id, a.json.id, 'the replay names the first execution');
		assert.equal(b.headers['idempotent-replayed'], 'true');
		const c = await submit(ctx, { pattern: quick.name, input: { k: 2 } }, { 'Idempotency-Key': key });
		assert.equal(c.status, 422, c.text);
		assert.equal(c.json.error.code, 'idempotency_mismatch');
		// in flight: the first request waits on a slow run while the second arrives
		const key2 = uniq('key');
		const first = submit(ctx, { pattern: slow.name, input: {} }, { 'Idempotency-Key': key2 }, '?wait=2');
		await sleep(300);
		const second = await submit(ctx, { pattern: slow.name, input: {} }, { 'Idempotency-Key': key2 });
		assert.equal(second.status, 409, second.text);
		assert.equal(second.json.error.code, 'idempotency_in_flight');
		const f = await first;
		assert.equal(f.status, 202, 'still running after 2 s');
		await api(ctx, 'POST', `/api/v1/executions/${f.json.id}/cancel`, ctx.dev.token);
	});

	test('cancel mid-flight stops the run within a second and no result is written', async () => {
		const res = await submit(ctx, { pattern: slow.name, input: {} });
		await waitFor(ctx, res.json.id, ['running']);
		await sleep(200);
		const t0 = Date.now();
		const c = await api(ctx, 'POST', `/api/v1/executions/${res.json.id}/cancel`, ctx.dev.token);
		assert.equal(c.status, 202, c.text);
		const x = await waitFor(ctx, res.json.id);
		assert.equal(x.status, 'cancelled');
		assert.ok(Date.now() - t0 < 1500, `cancelled in ${Date.now() - t0} ms`);
		assert.equal(x.result, null);
		await sleep(4500); // past the moment the agent would have answered
		const later = expectStatus(await api(ctx, 'GET', `/api/v1/executions/${res.json.id}`, ctx.dev.token), 200, 'get');
		assert.equal(later.status, 'cancelled');
		assert.equal(later.result, null);
		const again = await api(ctx, 'POST', `/api/v1/executions/${res.json.id}/cancel`, ctx.dev.token);
		assert.equal(again.status, 409);
		// a queued one is cancelled at once; viewers may not cancel
		assert.equal((await api(ctx, 'POST', `/api/v1/executions/${res.json.id}/cancel`, ctx.viewer.token)).status, 403);
	});

	test('an execution past its timeout_ms ends timed_out; retry runs it again as a new execution', async () => {
		const res = await submit(ctx, { pattern: slow.name, input: {}, timeout_ms: 500 });
		const x = await waitFor(ctx, res.json.id);
		assert.equal(x.status, 'timed_out');
		assert.match(x.error.message, /out of time/);
		const r = await api(ctx, 'POST', `/api/v1/executions/${res.json.id}/retry`, ctx.dev.token);
		assert.equal(r.status, 202, r.text);
		assert.notEqual(r.json.id, res.json.id);
		assert.equal(r.json.retry_of, res.json.id);
		const ok = await submit(ctx, { pattern: quick.name, input: {} }, {}, '?wait=10');
		assert.equal((await api(ctx, 'POST', `/api/v1/executions/${ok.json.id}/retry`, ctx.dev.token)).status, 409);
		await api(ctx, 'POST', `/api/v1/executions/${r.json.id}/cancel`, ctx.dev.token);
	});

	test('approval parks the execution; approve resumes it, reject fails it', async () => {
		const def = onePattern(uniq('appr'), cap, [
			{ id: 'in', type: 'input' },
			{ id: 'ask', type: 'agent', from: 'in', select: { capabilities: [cap] }, task: 'Answer', data: '.input' },
			{ id: 'gate', type: 'approval', from: 'ask', message: 'Ship it?' },
			{ id: 'out', type: 'output', from: 'gate' },
		]);
		const p = await createPattern(ctx, def);
		for (const decision of ['approve', 'reject']) {
			const res = await submit(ctx, { pattern: p.name, input: {} });
			const parked = await waitFor(ctx, res.json.id, ['waiting_approval']);
			assert.equal(parked.result, null);
			assert.ok(parked.steps.some((s) => s.node_id === 'ask' && s.status === 'succeeded'));
			const bad = await api(ctx, 'POST', `/api/v1/executions/${res.json.id}/approve`, ctx.dev.token, { decision: 'maybe' });
			assert.equal(bad.status, 400);
			const d = await api(ctx, 'POST', `/api/v1/executions/${res.json.id}/approve`, ctx.dev.token, { decision });
			assert.equal(d.status, 202, d.text);
			const x = await waitFor(ctx, res.json.id);
			if (decision === 'approve') {
				assert.equal(x.status, 'succeeded');
				assert.deepEqual(x.result.value, { ok: 1 });
			} else {
				assert.equal(x.status, 'failed');
				assert.match(x.error.message, /rejected/);
			}
			// the agent node ran once, before the approval: not again on resume
			assert.equal(x.steps.filter((s) => s.node_id === 'ask').length, 1);
			assert.equal((await api(ctx, 'POST', `/api/v1/executions/${res.json.id}/approve`, ctx.dev.token, { decision })).status, 409);
		}
	});

	test('events: JSON list, then SSE replays after Last-Event-ID and closes at the end', async () => {
		const res = await submit(ctx, { pattern: quick.name, input: {} }, {}, '?wait=10');
		const id = res.json.id;
		const list = expectStatus(await api(ctx, 'GET', `/api/v1/executions/${id}/events`, ctx.dev.token), 200, 'events');
		const types = list.items.map((e) => e.type);
		assert.equal(types[0], 'execution_started');
		assert.equal(types.at(-1), 'execution_finished');
		assert.deepEqual(list.items.map((e) => e.seq), list.items.map((_, i) => i + 1));
		const sse = await request_(ctx, 'GET', `/api/v1/executions/${id}/events?follow=1`, undefined, { 'Last-Event-ID': '2' });
		assert.equal(sse.status, 200);
		assert.match(sse.headers['content-type'], /text\/event-stream/);
		const ids = [...sse.text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
		assert.deepEqual(ids, list.items.slice(2).map((e) => e.seq), 'replay starts after Last-Event-ID');
		assert.match(sse.text, /event: execution_finished/);
		// live: a slow run streams while it runs and closes when it ends
		const live = await submit(ctx, { pattern: slow.name, input: {}, timeout_ms: 1500 });
		const t0 = Date.now();
		const stream = await request_(ctx, 'GET', `/api/v1/executions/${live.json.id}/events?follow=1`);
		assert.ok(Date.now() - t0 >= 1000, 'the stream stayed open while the execution ran');
		assert.match(stream.text, /event: node_started/);
		assert.match(stream.text, /event: execution_finished\ndata: [^\n]*timed_out/);
	});

	test('node events say what a live view shows: duration, confidence, the port, and skipped nodes', async () => {
		const p = await createPattern(ctx, onePattern(uniq('branches'), cap, [
			{ id: 'in', type: 'input' },
			{ id: 'gate', type: 'condition', from: 'in', expr: '.input.go == true' },
			{ id: 'ask', type: 'agent', from: 'gate.true', select: { capabilities: [cap] }, task: 'Answer' },
			{ id: 'never', type: 'agent', from: 'gate.false', select: { capabilities: [cap] }, task: 'Answer' },
			{ id: 'shape', type: 'transform', from: ['ask', 'never'], value: '.input', confidence: '0.6' },
			{ id: 'out', type: 'output', from: 'shape' },
		]));
		const res = await submit(ctx, { pattern: p.name, input: { go: true } }, {}, '?wait=10');
		assert.equal(res.json.status, 'succeeded', res.text);
		const list = expectStatus(await api(ctx, 'GET', `/api/v1/executions/${res.json.id}/events`, ctx.dev.token), 200, 'events');
		const finished = Object.fromEntries(list.items.filter((e) => e.type === 'node_finished').map((e) => [e.node, e.data]));
		assert.deepEqual(Object.keys(finished).sort(), ['ask', 'gate', 'in', 'out', 'shape']);
		for (const d of Object.values(finished)) assert.ok(Number.isInteger(d.duration_ms) && d.duration_ms >= 0, JSON.stringify(d));
		assert.equal(finished.gate.port, 'true');
		assert.equal(finished.ask.port, undefined, 'the default port is not named');
		assert.deepEqual(finished.ask.confidences, [0.8], 'an agent node: each answer\'s confidence');
		assert.equal(finished.shape.confidence, 0.6);
		assert.deepEqual(list.items.filter((e) => e.type === 'node_skipped').map((e) => e.node), ['never']);
		// a failed node says how long it ran and why
		const bad = await createPattern(ctx, onePattern(uniq('fails'), cap, [
			{ id: 'in', type: 'input' },
			{ id: 'ask', type: 'agent', from: 'in', select: { capabilities: [uniq('nobody')] }, task: 'Answer' },
			{ id: 'out', type: 'output', from: 'ask' },
		]));
		const f = await submit(ctx, { pattern: bad.name, input: {} }, {}, '?wait=10');
		assert.equal(f.json.status, 'failed', f.text);
		const fl = expectStatus(await api(ctx, 'GET', `/api/v1/executions/${f.json.id}/events`, ctx.dev.token), 200, 'events');
		const failed = fl.items.find((e) => e.type === 'node_failed');
		assert.equal(failed.node, 'ask');
		assert.ok(Number.isInteger(failed.data.duration_ms));
		assert.match(failed.data.error, /\S/);
	});

	test('feed: a version that moves with the newest executions, and a stream of changes', async () => {
		const p = await createPattern(ctx, onePattern(uniq('fed'), cap));
		const v1 = expectStatus(await api(ctx, 'GET', '/api/v1/executions/feed', ctx.viewer.token), 200, 'feed').version;
		assert.match(v1, /^[0-9a-f]{16}$/);
		assert.equal(expectStatus(await api(ctx, 'GET', '/api/v1/executions/feed', ctx.viewer.token), 200, 'again').version, v1, 'stable while nothing changes');
		// the stream: open it, submit, and a 'changed' event arrives
		const u = new URL(`${ctx.server.url}/api/v1/executions/feed?follow=1`);
		const got = await new Promise((resolve, reject) => {
			let text = '';
			const req = http.get({ host: u.hostname, port: u.port, path: u.pathname + u.search, agent: false,
				headers: { Authorization: `Bearer ${ctx.viewer.token}` } }, (res) => {
				assert.equal(res.statusCode, 200);
				assert.match(res.headers['content-type'], /text\/event-stream/);
				res.setEncoding('utf8');
				res.on('data', (d) => {
					text += d;
					if (/event: changed\n/.test(text)) {
						req.destroy();
						resolve(text);
					}
				});
			});
			req.on('error', (e) => (e.code === 'ECONNRESET' ? null : reject(e)));
			setTimeout(() => submit(ctx, { pattern: p.name, input: {} }).catch(reject), 700);
			setTimeout(() => {
				req.destroy();
				reject(new Error(`no 'changed' event in 10 s: ${JSON.stringify(text)}`));
			}, 10000);
		});
		assert.match(got, /event: changed\ndata: \{\}/);
		const v2 = expectStatus(await api(ctx, 'GET', '/api/v1/executions/feed', ctx.viewer.token), 200, 'after').version;
		assert.notEqual(v2, v1, 'a submission moves the version');
	});

	test('list: filters and cursor', async () => {
		const p = await createPattern(ctx, onePattern(uniq('listed'), cap));
		const ids = [];
		for (let i = 0; i < 5; i++) ids.push((await submit(ctx, { pattern: p.name, input: { i } }, {}, '?wait=10')).json.id);
		const page1 = expectStatus(await api(ctx, 'GET', `/api/v1/executions?pattern=${p.name}&limit=3`, ctx.viewer.token), 200, 'list');
		assert.deepEqual(page1.items.map((x) => x.id), ids.slice().reverse().slice(0, 3));
		assert.ok(page1.next_cursor);
		const page2 = expectStatus(await api(ctx, 'GET', `/api/v1/executions?pattern=${p.name}&limit=3&cursor=${encodeURIComponent(page1.next_cursor)}`, ctx.viewer.token), 200, 'page 2');
		assert.deepEqual(page2.items.map((x) => x.id), ids.slice().reverse().slice(3));
		assert.equal(page2.next_cursor, null);
		const ok = expectStatus(await api(ctx, 'GET', `/api/v1/executions?pattern=${p.name}&status=succeeded`, ctx.viewer.token), 200, 'status');
		assert.equal(ok.items.length, 5);
		const none = expectStatus(await api(ctx, 'GET', `/api/v1/executions?pattern=${p.name}&status=failed`, ctx.viewer.token), 200, 'status');
		assert.equal(none.items.length, 0);
		assert.equal((await api(ctx, 'GET', '/api/v1/executions?status=bogus', ctx.viewer.token)).status, 400);
		assert.equal((await api(ctx, 'GET', '/api/v1/executions?cursor=zzz', ctx.viewer.token)).status, 400);
	});

	test('the concurrent-executions quota is taken at submit and released on every terminal path', async () => {
		const before = await usage(ctx);
		const running = before.concurrent_executions;
		const a = await submit(ctx, { pattern: slow.name, input: {} });
		const b = await submit(ctx, { pattern: slow.name, input: {}, timeout_ms: 300 });
		await waitFor(ctx, a.json.id, ['running']);
		assert.equal((await usage(ctx)).concurrent_executions, running + 2);
		await api(ctx, 'POST', `/api/v1/executions/${a.json.id}/cancel`, ctx.dev.token);
		await waitFor(ctx, a.json.id);
		await waitFor(ctx, b.json.id);
		const fail = await createPattern(ctx, onePattern(uniq('fails'), uniq('nobody')));
		const f = await submit(ctx, { pattern: fail.name, input: {} }, {}, '?wait=10');
		assert.equal(f.json.status, 'failed');
		const ok = await submit(ctx, { pattern: quick.name, input: {} }, {}, '?wait=10');
		assert.equal(ok.json.status, 'succeeded');
		assert.equal((await usage(ctx)).concurrent_executions, running, 'every path released its unit');
	});
});

describe('timed approvals', () => {
	const args = ['--agent-allow', '127.0.0.1/32', '--health-interval-ms', '0'];
	let ctx, cap;
	const gated = (timeout_ms, on_timeout) => onePattern(uniq('timed'), cap, [
		{ id: 'in', type: 'input' },
		{ id: 'ask', type: 'agent', from: 'in', select: { capabilities: [cap] }, task: 'Answer', data: '.input' },
		{ id: 'gate', type: 'approval', from: 'ask', message: 'Ship it?', timeout_ms, on_timeout },
		{ id: 'out', type: 'output', from: 'gate' },
	]);
	const dueOf = (x) => x.steps.find((s) => s.node_id === 'gate' && s.status === 'waiting')?.output?.due_at;
	const events = async (id) => expectStatus(await api(ctx, 'GET', `/api/v1/executions/${id}/events`, ctx.dev.token), 200, 'events').items;
	// the queue's jobs by status, database-wide (this describe has its own server and database)
	async function jobs() {
		const t = (await api(ctx, 'GET', '/metrics', ctx.dev.token)).text;
		const n = (status) => Number(t.match(new RegExp(`^parallax_queue_jobs\\{status="${status}"\\} (\\d+)$`, 'm'))?.[1]);
		return { queued: n('queued'), running: n('running') };
	}

	before(async () => {
		ctx = await liveServer({ args });
		cap = uniq('timedcap');
		await createAgent(ctx, { ...constant({ ok: 1 }, 0.8), capabilities: [cap] });
	});
	after(async () => ctx?.server.stop());

	test('parks at once without holding a worker, then ends by itself at the deadline, both ways', async () => {
		const rej = await createPattern(ctx, gated(1500, 'reject'));
		const app = await createPattern(ctx, gated(1500, 'approve'));
		const t0 = Date.now();
		const ids = [];
		for (const p of [rej, app]) ids.push((await submit(ctx, { pattern: p.name, input: {} })).json.id);
		const parked = [];
		for (const id of ids) parked.push(await waitFor(ctx, id, ['waiting_approval']));
		const seen = Date.now();
		assert.ok(seen - t0 < 1500, `both parked before the deadline (${seen - t0} ms)`);
		for (const x of parked) {
			assert.ok(dueOf(x) >= t0 + 1500 - 50 && dueOf(x) <= seen + 1500, `due_at ${dueOf(x)} is 1500 ms after the wait began`);
		}
		// nothing claimed: no lease held for them, only their deadlines' jobs waiting
		assert.deepEqual(await jobs(), { queued: 2, running: 0 });
		const [r, a] = [await waitFor(ctx, ids[0]), await waitFor(ctx, ids[1])];
		assert.equal(r.status, 'failed');
		assert.match(r.error.message, /approval timed out after 1500 ms: rejected/);
		assert.equal(a.status, 'succeeded');
		assert.deepEqual(a.result.value, { ok: 1 });
		for (const [x, p] of [[r, parked[0]], [a, parked[1]]]) {
			assert.ok(Date.parse(x.finished_at) >= dueOf(p), 'not before the deadline');
			assert.equal(x.steps.filter((s) => s.node_id === 'ask').length, 1);
			// the timeout was applied: the API answers as for any execution that is not waiting
			const late = await api(ctx, 'POST', `/api/v1/executions/${x.id}/approve`, ctx.dev.token, { decision: 'approve' });
			assert.equal(late.status, 409);
			assert.equal(late.json.error.code, 'not_waiting');
		}
		assert.equal((await events(ids[1])).filter((e) => e.type === 'approval_timed_out').length, 1);
		assert.deepEqual(await jobs(), { queued: 0, running: 0 });
	});

	test('a decision before the deadline wins; the deadline then changes nothing', async () => {
		for (const [onTimeout, decision, status] of [['approve', 'reject', 'failed'], ['reject', 'approve', 'succeeded']]) {
			const p = await createPattern(ctx, gated(1500, onTimeout));
			const id = (await submit(ctx, { pattern: p.name, input: {} })).json.id;
			const parked = await waitFor(ctx, id, ['waiting_approval']);
			const d = await api(ctx, 'POST', `/api/v1/executions/${id}/approve`, ctx.dev.token, { decision });
			assert.equal(d.status, 202, d.text);
			const x = await waitFor(ctx, id);
			assert.equal(x.status, status);
			if (status === 'failed') assert.match(x.error.message, /^rejected by /);
			// past the deadline (and its job's claim): still the one end
			while (Date.now() < dueOf(parked) + 1500) await sleep(100);
			const y = await waitFor(ctx, id);
			assert.equal(y.status, status);
			assert.equal(y.finished_at, x.finished_at);
			const evs = await events(id);
			const ends = evs.filter((e) => e.type === 'execution_finished').map((e) => e.data.status);
			assert.deepEqual(ends, ['waiting_approval', status], 'parked once, ended once');
			assert.equal(evs.filter((e) => e.type === 'execution_resumed').length, 1);
			assert.equal(evs.filter((e) => e.type === 'approval_timed_out').length, 0);
			assert.deepEqual(await jobs(), { queued: 0, running: 0 });
		}
	});

	test('a restart while parked does not extend the deadline', { timeout: 60000 }, async () => {
		const p = await createPattern(ctx, gated(5000, 'reject'));
		const id = (await submit(ctx, { pattern: p.name, input: {} })).json.id;
		const due = dueOf(await waitFor(ctx, id, ['waiting_approval']));
		const { dataDir, db } = ctx.server;
		ctx.server.proc.kill('SIGKILL');
		await new Promise((r) => (ctx.server.exited() ? r() : ctx.server.proc.once('close', r)));
		await sleep(3000); // a timer armed again from zero would end it >= 3 s after the deadline
		ctx = { ...ctx, server: await startServer({ dataDir, db, args, expectSetup: false }) };
		const x = await waitFor(ctx, id, TERMINAL, 20000);
		assert.equal(x.status, 'failed');
		assert.match(x.error.message, /timed out/);
		const late = Date.parse(x.finished_at) - due;
		assert.ok(late >= 0 && late < 2500, `ended ${late} ms after the original deadline`);
	});
});

describe('crash loop', () => {
	test('SIGKILL at random moments: every execution ends once, no node called more than max_attempts times', { timeout: 600000 }, async () => {
		const agent = await startHttpAgent();
		const args = ['--agent-allow', '127.0.0.1/32', '--health-interval-ms', '0', '--lease-ms', '1000'];
		const first = await liveServer({ args });
		let ctx = first;
		const cycles = Number(process.env.PARALLAX_CRASH_CYCLES || 20);
		const count = Number(process.env.PARALLAX_CRASH_EXECUTIONS || 200);
		try {
			const cap = uniq('crash');
			await createAgent(ctx, { kind: 'http', capabilities: [cap], config: { url: `${agent.url}/slow/150/0.9` } });
			const p = await createPattern(ctx, onePattern(uniq('crash'), cap));
			const ids = [];
			for (let i = 0; i < count; i++) {
				const r = await submit(ctx, { pattern: p.name, input: { i } });
				assert.equal(r.status, 202, r.text);
				ids.push(r.json.id);
			}
			const { dataDir, db } = first.server;
			for (let c = 0; c < cycles; c++) {
				await sleep(100 + Math.floor(Math.random() * 500));
				ctx.server.proc.kill('SIGKILL');
				await new Promise((r) => (ctx.server.exited() ? r() : ctx.server.proc.once('close', r)));
				const server = await startServer({ dataDir, db, args, expectSetup: false });
				ctx = { ...ctx, server };
			}
			// let everything finish
			const t0 = Date.now();
			let rows;
			for (;;) {
				rows = await Promise.all(ids.map((id) => api(ctx, 'GET', `/api/v1/executions/${id}`, ctx.dev.token).then((r) => r.json)));
				if (rows.every((x) => TERMINAL.includes(x.status))) break;
				if (Date.now() - t0 > 120000) assert.fail(`not all terminal: ${JSON.stringify(rows.filter((x) => !TERMINAL.includes(x.status)).map((x) => x.status))}`);
				await sleep(500);
			}
			const byKey = new Map();
			for (const r of await agent.requests()) {
				const k = r.headers['idempotency-key'];
				byKey.set(k, (byKey.get(k) || 0) + 1);
			}
			let succeeded = 0;
			for (const x of rows) {
				assert.ok(TERMINAL.includes(x.status));
				const asks = x.steps.filter((s) => s.node_id === 'ask');
				assert.ok(asks.length <= 1, `${x.id}: the agent node was checkpointed ${asks.length} times`);
				if (x.status === 'succeeded') {
					succeeded++;
					assert.deepEqual(x.result.confidence, 0.9);
				} else {
					assert.equal(x.result, null);
					assert.match(x.error.message, /gave up|attempts|time/);
				}
				const calls = byKey.get(`${x.id}/ask`) || 0;
				assert.ok(calls <= 3, `${x.id}: the agent saw ${calls} calls for one node (max_attempts 3)`);
				if (x.status === 'succeeded') assert.ok(calls >= 1);
			}
			const stuck = rows.filter((x) => x.status === 'running' || x.status === 'queued');
			assert.equal(stuck.length, 0);
			console.log(`crash loop: ${cycles} SIGKILLs, ${count} executions: ${succeeded} succeeded, ${count - succeeded} ended otherwise; agent calls ${[...byKey.values()].reduce((a, b) => a + b, 0)}`);
			// how many succeed depends on how fast this machine finishes them between kills: each
			// kill costs every unfinished execution one of its 3 attempts; the rest must have given up
			assert.ok(succeeded >= 1, `some executions succeed (${succeeded}/${count})`);
		} finally {
			await ctx.server.stop().catch(() => {});
			await agent.stop();
		}
	});
});

describe('completion webhooks', () => {
	test('signed with HMAC-SHA256 of the body; retried with backoff while the receiver fails', { timeout: 60000 }, async () => {
		const { createHmac } = await import('node:crypto');
		const got = [];
		let failures = 2;
		const receiver = http.createServer((req, res) => {
			let body = '';
			req.setEncoding('utf8').on('data', (d) => (body += d)).on('end', () => {
				got.push({ at: Date.now(), headers: req.headers, body });
				if (failures-- > 0) {
					res.writeHead(500).end('not yet');
					return;
				}
				res.writeHead(204).end();
			});
		});
		await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
		const port = receiver.address().port;
		const ctx = await liveServer({ args: ['--agent-allow', '127.0.0.1/32', '--health-interval-ms', '0'] });
		try {
			const cap = uniq('hook');
			await createAgent(ctx, { ...constant({ done: true }, 0.7), capabilities: [cap] });
			const p = await createPattern(ctx, onePattern(uniq('hooked'), cap));
			const secret = 'whsec-' + uniq('s') + '-0123456789';
			const bad = await submit(ctx, { pattern: p.name, webhook: { url: `http://127.0.0.1:${port}/hook`, secret: 'short' } });
			assert.equal(bad.status, 400);
			assert.equal(bad.json.error.field, 'webhook.secret');
			const res = await submit(ctx, { pattern: p.name, input: {}, webhook: { url: `http://127.0.0.1:${port}/hook`, secret } }, {}, '?wait=10');
			assert.equal(res.json.status, 'succeeded');
			assert.ok(!JSON.stringify(res.json).includes(secret), 'the secret is never returned');
			const t0 = Date.now();
			while (got.length < 3 && Date.now() - t0 < 30000) await sleep(100);
			assert.equal(got.length, 3, 'two failures, then the delivery that succeeds');
			for (const g of got) {
				const want = 'sha256=' + createHmac('sha256', secret).update(g.body).digest('hex');
				assert.equal(g.headers['x-parallax-signature'], want, 'the signature checks out');
				assert.equal(g.headers['x-parallax-event'], 'execution.finished');
				const b = JSON.parse(g.body);
				assert.equal(b.execution.id, res.json.id);
				assert.equal(b.execution.status, 'succeeded');
				assert.deepEqual(b.execution.result, { value: { done: true }, confidence: 0.7 });
			}
			assert.equal(new Set(got.map((g) => g.headers['x-parallax-delivery'])).size, 1, 'one delivery, retried');
			assert.ok(got[1].at - got[0].at >= 1500, 'the first retry waited (~2 s)');
			assert.ok(got[2].at - got[1].at >= got[1].at - got[0].at, 'and the next one longer');
			await sleep(3000);
			assert.equal(got.length, 3, 'no delivery after a success');
		} finally {
			receiver.close();
			await ctx.stop();
		}
	});
});

describe('event stream over WebSocket', () => {
	test('replays after ?after, follows live events, closes after the last; no token, no stream', { timeout: 60000 }, async () => {
		const { default: WebSocket } = await import('ws');
		const ctx = await liveServer({ args: ['--health-interval-ms', '0'] });
		try {
			const cap = uniq('ws');
			await createAgent(ctx, { ...constant('slowly', 0.6, { delay_ms: 800 }), capabilities: [cap] });
			const p = await createPattern(ctx, onePattern(uniq('streamed'), cap));
			const open = (id, query = '', headers = { Authorization: `Bearer ${ctx.dev.token}` }) =>
				new Promise((resolve) => {
					const ws = new WebSocket(`${ctx.server.url.replace(/^http/, 'ws')}/api/v1/executions/${id}/stream${query}`, { headers });
					const msgs = [];
					ws.on('message', (b) => msgs.push(JSON.parse(b.toString())));
					ws.on('unexpected-response', (_q, res) => resolve({ refused: res.statusCode, msgs }));
					ws.on('error', () => {});
					ws.on('close', (code) => resolve({ code, msgs }));
				});
			const res = await submit(ctx, { pattern: p.name, input: {} });
			const t0 = Date.now();
			const live = await open(res.json.id);
			assert.ok(Date.now() - t0 >= 500, 'open while the run lasted');
			assert.equal(live.code, 1000);
			const types = live.msgs.map((m) => m.type);
			assert.equal(types[0], 'execution_started');
			assert.equal(types.at(-1), 'execution_finished');
			assert.deepEqual(live.msgs.map((m) => m.seq), live.msgs.map((_, i) => i + 1));
			const replay = await open(res.json.id, '?after=3');
			assert.deepEqual(replay.msgs.map((m) => m.seq), live.msgs.slice(3).map((m) => m.seq));
			const anon = await open(res.json.id, '', {});
			assert.ok(anon.refused >= 400, 'no credential: refused');
			const other = await open('01a20000-0000-7000-8000-000000000000');
			assert.ok(other.refused >= 400, 'unknown execution: refused');
		} finally {
			await ctx.stop();
		}
	});
});
