// The queue's workers (SPEC §5, issue 5): competing `parallax worker` processes next to a
// `serve` on one PostgreSQL (each execution claimed exactly once, the work spread over the
// processes), SIGTERM draining within the grace period (runs that fit finish before the
// exit; runs that do not are left to resume from their checkpoints after a restart), and
// priorities (higher priority runs first). Runs once per backend; the competing-workers
// test is PostgreSQL only.
import test, { describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { api, createAgent, createPattern, expectStatus, liveServer, sleep, uniq } from './helpers/live.mjs';
import { SANITIZER_RE, backend, binPath, childEnv, sql, startServer } from './helpers/server.mjs';

const TERMINAL = ['succeeded', 'failed', 'cancelled', 'timed_out'];
const WORKER_NAME_RE = /^(serve|worker)\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BASE_ARGS = ['--agent-allow', '127.0.0.1/32', '--health-interval-ms', '0'];

const constant = (value, confidence, extra = {}) => ({ kind: 'builtin', config: { type: 'constant', value, confidence, ...extra } });

function onePattern(name, cap) {
	return {
		name,
		input: { type: 'object' },
		nodes: [
			{ id: 'in', type: 'input' },
			{ id: 'ask', type: 'agent', from: 'in', select: { capabilities: [cap] }, task: 'Answer', data: '.input' },
			{ id: 'out', type: 'output', from: 'ask' },
		],
	};
}

// An agent (builtin constant answering `value` after delayMs) and a one-node pattern on it.
async function constantPattern(ctx, prefix, value, delayMs) {
	const cap = uniq(`${prefix}cap`);
	await createAgent(ctx, { ...constant(value, 0.9, { delay_ms: delayMs }), capabilities: [cap] });
	return createPattern(ctx, onePattern(uniq(prefix), cap));
}

async function submit(ctx, body) {
	const res = await api(ctx, 'POST', '/api/v1/executions', ctx.dev.token, body);
	return expectStatus(res, 202, `submit ${JSON.stringify(body)}`);
}

async function getExecution(ctx, id) {
	return expectStatus(await api(ctx, 'GET', `/api/v1/executions/${id}`, ctx.dev.token), 200, `get ${id}`);
}

async function events(ctx, id) {
	return expectStatus(await api(ctx, 'GET', `/api/v1/executions/${id}/events`, ctx.dev.token), 200, `events ${id}`).items;
}

async function waitFor(ctx, id, statuses = TERMINAL, ms = 30000) {
	const t0 = Date.now();
	for (;;) {
		const x = await getExecution(ctx, id);
		if (statuses.includes(x.status)) return x;
		if (Date.now() - t0 > ms) assert.fail(`execution ${id} stayed ${x.status} for ${ms} ms`);
		await sleep(50);
	}
}

// Runs fn(item, i) over items with `concurrency` workers; results in order.
async function pool(items, concurrency, fn) {
	const out = new Array(items.length);
	let next = 0;
	await Promise.all(
		Array.from({ length: Math.min(concurrency, items.length) }, async () => {
			while (next < items.length) {
				const i = next++;
				out[i] = await fn(items[i], i);
			}
		}),
	);
	return out;
}

// Every row of the executions list for one pattern (cursor pagination).
async function listAll(ctx, patternName, status = null) {
	const rows = [];
	let cursor = null;
	for (;;) {
		const q = new URLSearchParams({ pattern: patternName, limit: '100' });
		if (status) q.set('status', status);
		if (cursor) q.set('cursor', cursor);
		const page = expectStatus(await api(ctx, 'GET', `/api/v1/executions?${q}`, ctx.dev.token), 200, 'list');
		rows.push(...page.items);
		if (!page.next_cursor) return rows;
		cursor = page.next_cursor;
	}
}

// Does the list hold any execution of the pattern that has not ended?
async function anyUnfinished(ctx, patternName) {
	for (const status of ['queued', 'running', 'waiting_approval']) {
		const q = new URLSearchParams({ pattern: patternName, status, limit: '1' });
		const page = expectStatus(await api(ctx, 'GET', `/api/v1/executions?${q}`, ctx.dev.token), 200, 'list');
		if (page.items.length) return `${status}: ${page.items[0].id}`;
	}
	return null;
}

const liveWorkers = new Set();
process.on('exit', () => {
	for (const p of liveWorkers) p.kill('SIGKILL');
});

// `parallax worker --data DIR --db URL ...args`, ready when it prints "worker running".
// Returns {proc, stdout(), stderr(), exited(), stop({timeoutMs}) -> {code, signal, ms, killed}}.
async function startWorker({ dataDir, db, args = [], timeoutMs = 20000 }) {
	const argv = ['worker', '--data', dataDir, '--db', db.url, ...args];
	const proc = spawn(binPath, argv, { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
	liveWorkers.add(proc);
	let stdout = '';
	let stderr = '';
	let exited = null;
	const closed = new Promise((resolve) => {
		proc.on('close', (code, signal) => {
			exited = { code, signal };
			liveWorkers.delete(proc);
			resolve(exited);
		});
	});
	proc.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
	proc.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
	await new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`parallax worker printed no "worker running" within ${timeoutMs} ms\nargs: ${argv.join(' ')}\nstdout:\n${stdout}\nstderr:\n${stderr.slice(-4000)}`)), timeoutMs);
		const check = () => {
			if (/worker running/.test(stdout)) {
				clearTimeout(timer);
				resolve();
			}
		};
		proc.stdout.on('data', check);
		proc.on('error', (e) => {
			clearTimeout(timer);
			reject(new Error(`cannot start ${binPath}: ${e.message}`));
		});
		closed.then(({ code, signal }) => {
			clearTimeout(timer);
			reject(new Error(`parallax worker exited (code ${code}, signal ${signal}) before it was ready\nstderr:\n${stderr.slice(-4000)}`));
		});
		check();
	}).catch(async (e) => {
		if (!exited) proc.kill('SIGKILL');
		await closed;
		throw e;
	});
	let stopping = null;
	return {
		proc,
		stdout: () => stdout,
		stderr: () => stderr,
		exited: () => exited,
		stop({ timeoutMs: limit = 15000 } = {}) {
			stopping ??= (async () => {
				const t0 = Date.now();
				let killed = false;
				if (!exited) {
					proc.kill('SIGTERM');
					const timer = setTimeout(() => {
						killed = true;
						proc.kill('SIGKILL');
					}, limit);
					await closed;
					clearTimeout(timer);
				}
				return { ...exited, ms: Date.now() - t0, killed };
			})();
			return stopping;
		},
	};
}

function sanitizerExcerpt(stderr) {
	const m = SANITIZER_RE.exec(stderr);
	return m ? stderr.slice(Math.max(0, m.index - 200), m.index + 6000) : null;
}

// SIGTERM the server; resolves {code, signal, ms}. The data and database are kept.
async function sigterm(server, killAfterMs = 20000) {
	const t0 = Date.now();
	if (server.exited()) assert.fail(`the server had already exited: ${JSON.stringify(server.exited())}\n${server.stderr().slice(-3000)}`);
	const closed = new Promise((r) => server.proc.once('close', (code, signal) => r({ code, signal })));
	server.proc.kill('SIGTERM');
	const timer = setTimeout(() => server.proc.kill('SIGKILL'), killAfterMs);
	const r = await closed;
	clearTimeout(timer);
	// the helper's own stop() is then a no-op that only checks stderr; do that here
	const report = sanitizerExcerpt(server.stderr());
	assert.equal(report, null, `sanitizer report from parallax serve:\n${report}`);
	return { ...r, ms: Date.now() - t0 };
}

// Stops what is running and removes the first server's data directory and database.
async function cleanupRestarted(first, current) {
	if (current && current !== first.server) await current.stop().catch(() => {});
	if (!first.server.exited()) await first.server.stop().catch(() => {});
	await first.server.db.drop().catch(() => {});
	await rm(first.server.dataDir, { recursive: true, force: true });
}

describe('competing workers', () => {
	test(
		'serve and two `parallax worker` processes on one PostgreSQL share 2,000 executions: each claimed once, the work spread',
		{
			skip: backend !== 'postgres' ? 'PostgreSQL only: competing worker processes need a shared server database (SQLite is one file owned by one process)' : false,
			timeout: 480000,
		},
		async () => {
			const COUNT = Number(process.env.PARALLAX_QUEUE_WORKERS_EXECUTIONS || 2000);
			const CLIENTS = 16;
			const args = [...BASE_ARGS, '--rate-limit-rpm', '0'];
			const ctx = await liveServer({ args });
			const workers = [];
			try {
				// 2,000 executions may all be queued at once: lift the tenant's concurrency
				// quota (the free plan caps it at 200) the way an operator would.
				const T = ctx.owner.tenant.id;
				await sql(ctx.server, `UPDATE tenants SET plan = 'enterprise' WHERE id = '${T}'`);
				expectStatus(
					await api(ctx, 'PATCH', `/api/v1/tenants/${T}/quotas`, ctx.ownerTok, { concurrent_executions: COUNT + 100, executions_per_day: 1000000 }),
					200,
					'raise quotas',
				);
				const p = await constantPattern(ctx, 'compete', { ok: true }, 20);
				for (let i = 0; i < 2; i++) {
					workers.push(await startWorker({ dataDir: ctx.server.dataDir, db: ctx.server.db, args: BASE_ARGS }));
				}

				const t0 = Date.now();
				const ids = await pool(Array.from({ length: COUNT }, (_, i) => i), CLIENTS, async (i) => {
					const r = await submit(ctx, { pattern: p.name, input: { i } });
					return r.id;
				});
				const submitMs = Date.now() - t0;
				assert.equal(new Set(ids).size, COUNT, 'every submission is a new execution');

				// all terminal, within a bound (submitting included: this box may be busy)
				const deadline = t0 + 300000;
				for (;;) {
					const open = await anyUnfinished(ctx, p.name);
					if (!open) break;
					for (const w of workers) {
						assert.equal(w.exited(), null, `a worker process died: ${JSON.stringify(w.exited())}\n${w.stderr().slice(-3000)}`);
					}
					if (Date.now() > deadline) assert.fail(`not all executions ended within 300 s of the first submission (still ${open})`);
					await sleep(250);
				}
				const doneMs = Date.now() - t0;

				const rows = await listAll(ctx, p.name);
				assert.equal(rows.length, COUNT, 'the list holds every execution');
				const notOk = rows.filter((x) => x.status !== 'succeeded');
				assert.equal(notOk.length, 0, `every execution succeeded; not: ${JSON.stringify(notOk.slice(0, 5).map((x) => ({ id: x.id, status: x.status, error: x.error })))}`);

				// each claimed once: attempts 1, one execution_started (and no resume), named worker
				const byWorker = new Map();
				const problems = [];
				await pool(ids, CLIENTS, async (id) => {
					const [x, evs] = await Promise.all([getExecution(ctx, id), events(ctx, id)]);
					if (x.status !== 'succeeded') problems.push(`${id}: ${x.status}`);
					if (x.attempts !== 1) problems.push(`${id}: attempts ${x.attempts}`);
					if (x.steps.filter((s) => s.node_id === 'ask').length !== 1) problems.push(`${id}: ${x.steps.filter((s) => s.node_id === 'ask').length} ask steps`);
					const started = evs.filter((e) => e.type === 'execution_started');
					const resumed = evs.filter((e) => e.type === 'execution_resumed');
					if (started.length !== 1 || resumed.length !== 0) {
						problems.push(`${id}: ${started.length} execution_started, ${resumed.length} execution_resumed (${started.concat(resumed).map((e) => e.data?.worker).join(', ')})`);
					}
					const name = started[0]?.data?.worker;
					if (typeof name !== 'string' || !WORKER_NAME_RE.test(name)) problems.push(`${id}: execution_started names worker ${JSON.stringify(name)}`);
					else byWorker.set(name, (byWorker.get(name) || 0) + 1);
					const finished = evs.filter((e) => e.type === 'execution_finished');
					if (finished.length !== 1) problems.push(`${id}: ${finished.length} execution_finished events`);
				});
				assert.deepEqual(problems.slice(0, 20), [], `${problems.length} executions were not claimed exactly once`);

				// the queue's own record: every job claimed once (fence and attempts 1) and done
				const jobs = await sql(
					ctx.server,
					`SELECT status, attempts, fence, count(*) FROM jobs WHERE kind = 'execution' GROUP BY status, attempts, fence ORDER BY 4 DESC`,
				);
				assert.deepEqual(jobs, [['done', '1', '1', String(COUNT)]], `jobs by (status, attempts, fence, count): ${JSON.stringify(jobs)}`);

				const spread = [...byWorker.entries()].sort((a, b) => b[1] - a[1]);
				const summary = spread.map(([n, c]) => `${n.split('/')[0]}/${n.split('/')[1].slice(-6)} ${c} (${((100 * c) / COUNT).toFixed(1)} %)`).join(', ');
				console.log(`competing workers: ${COUNT} executions submitted in ${submitMs} ms by ${CLIENTS} clients, all ended after ${doneMs} ms; by worker: ${summary}`);
				assert.ok(spread.length <= 3, `at most three worker names (one per process): ${summary}`);
				const standalone = spread.filter(([n]) => n.startsWith('worker/'));
				const meaningful = standalone.filter(([, c]) => c >= COUNT * 0.1);
				assert.ok(meaningful.length >= 2, `both parallax worker processes ran at least 10 % of the executions: ${summary}`);

				// SIGTERM: each worker exits 0 promptly, with no sanitizer report
				for (const w of workers) {
					const r = await w.stop({ timeoutMs: 10000 });
					console.log(`competing workers: a parallax worker exited (code ${r.code}, signal ${r.signal}) ${r.ms} ms after SIGTERM`);
					assert.equal(r.killed, false, `a worker did not exit within 10 s of SIGTERM\n${w.stderr().slice(-3000)}`);
					assert.equal(sanitizerExcerpt(w.stderr()), null, `sanitizer report from parallax worker:\n${sanitizerExcerpt(w.stderr())}`);
					assert.deepEqual({ code: r.code, signal: r.signal }, { code: 0, signal: null }, `parallax worker exit after SIGTERM\n${w.stderr().slice(-3000)}`);
					assert.ok(r.ms < 3000, `parallax worker exited ${r.ms} ms after SIGTERM (nothing was in flight)`);
				}
			} finally {
				for (const w of workers) await w.stop({ timeoutMs: 5000 }).catch(() => {});
				await ctx.stop();
			}
		},
	);
});

describe('SIGTERM drain', () => {
	test('runs that fit in the grace period finish before the exit; after a restart nothing is left running', { timeout: 120000 }, async () => {
		const args = [...BASE_ARGS, '--shutdown-grace-ms', '3000', '--lease-ms', '2000'];
		const first = await liveServer({ args });
		let current = first.server;
		try {
			const p = await constantPattern(first, 'drain', 'drained', 1000);
			const ids = [];
			for (let i = 0; i < 4; i++) ids.push((await submit(first, { pattern: p.name, input: { i } })).id);
			// wait until they have all been claimed and run (each takes 1 s)
			const t0 = Date.now();
			let states;
			for (;;) {
				states = await Promise.all(ids.map((id) => getExecution(first, id).then((x) => x.status)));
				if (states.every((s) => s !== 'queued') && states.some((s) => s === 'running')) break;
				if (Date.now() - t0 > 10000) assert.fail(`not claimed and running after 10 s: ${states.join(', ')}`);
				await sleep(20);
			}
			assert.ok(states.every((s) => s === 'running' || s === 'succeeded'), `before SIGTERM: ${states.join(', ')}`);
			const r = await sigterm(first.server);
			assert.deepEqual({ code: r.code, signal: r.signal }, { code: 0, signal: null }, `exit after SIGTERM\n${first.server.stderr().slice(-3000)}`);
			console.log(`drain: exited ${r.ms} ms after SIGTERM (grace 3000 ms, runs of 1 s)`);
			assert.ok(r.ms < 3500, `exited ${r.ms} ms after SIGTERM (grace 3000 ms)`);
			// the runs in flight finished inside the grace period, before the exit
			const rows = await sql(first.server, `SELECT id, status FROM executions WHERE id IN (${ids.map((id) => `'${id}'`).join(', ')}) ORDER BY id`);
			assert.equal(rows.length, ids.length);
			for (const [id, status] of rows) assert.equal(status, 'succeeded', `${id} after the drain`);
			const jobs = await sql(first.server, `SELECT status, count(*) FROM jobs WHERE kind = 'execution' GROUP BY status`);
			assert.deepEqual(jobs, [['done', String(ids.length)]], `jobs after the drain: ${JSON.stringify(jobs)}`);

			current = await startServer({ dataDir: first.server.dataDir, db: first.server.db, expectSetup: false, args });
			const ctx = { ...first, server: current };
			for (const id of ids) {
				const x = await waitFor(ctx, id);
				assert.equal(x.status, 'succeeded');
				assert.deepEqual(x.result, { value: 'drained', confidence: 0.9 });
				assert.equal(x.attempts, 1, 'run once: the drain let it finish');
			}
			assert.equal(await anyUnfinished(ctx, p.name), null, 'nothing is left running or queued');
			await current.stop();
		} finally {
			await cleanupRestarted(first, current);
		}
	});

	test('runs longer than the grace period: the exit is prompt, and after a restart they resume and complete', { timeout: 120000 }, async () => {
		const GRACE = 500;
		const args = [...BASE_ARGS, '--shutdown-grace-ms', String(GRACE), '--lease-ms', '2000'];
		const first = await liveServer({ args });
		let current = first.server;
		try {
			const p = await constantPattern(first, 'cutoff', 'late', 8000);
			const ids = [];
			for (let i = 0; i < 3; i++) ids.push((await submit(first, { pattern: p.name, input: { i } })).id);
			// each is running with its input node checkpointed; the agent call is in flight
			for (const id of ids) {
				const t0 = Date.now();
				for (;;) {
					const x = await getExecution(first, id);
					if (x.status === 'running' && x.steps.some((st) => st.node_id === 'in')) break;
					if (Date.now() - t0 > 10000) assert.fail(`${id}: not running with a checkpoint after 10 s: ${x.status}, steps ${JSON.stringify(x.steps.map((st) => st.node_id))}`);
					await sleep(30);
				}
			}
			const r = await sigterm(first.server);
			assert.deepEqual({ code: r.code, signal: r.signal }, { code: 0, signal: null }, `exit after SIGTERM\n${first.server.stderr().slice(-3000)}`);
			// the grace, then the HTTP listener's stop (mg_stop waits up to civetweb's 2 s poll
			// quantum) and the teardown: far less than the 8 s the runs would take
			console.log(`cut off: exited ${r.ms} ms after SIGTERM (grace ${GRACE} ms, runs of 8 s)`);
			assert.ok(r.ms < GRACE + 2000, `exited ${r.ms} ms after SIGTERM (grace ${GRACE} ms, runs of 8 s): the grace period and a prompt stop, not a runs length`);
			// nothing was written for the runs cut off: still running, no result
			const rows = await sql(first.server, `SELECT id, status FROM executions WHERE id IN (${ids.map((id) => `'${id}'`).join(', ')})`);
			for (const [id, status] of rows) assert.equal(status, 'running', `${id} was cut off, not settled`);

			current = await startServer({ dataDir: first.server.dataDir, db: first.server.db, expectSetup: false, args });
			const ctx = { ...first, server: current };
			for (const id of ids) {
				const x = await waitFor(ctx, id, TERMINAL, 40000);
				assert.equal(x.status, 'succeeded', `${id}: ${JSON.stringify(x.error)}`);
				assert.deepEqual(x.result, { value: 'late', confidence: 0.9 });
				assert.equal(x.attempts, 2, 'claimed again once after the restart');
				assert.equal(x.steps.filter((s) => s.node_id === 'ask').length, 1, 'one result for the agent node');
				const evs = await events(ctx, id);
				assert.equal(evs.filter((e) => e.type === 'execution_started').length, 1, 'started once');
				assert.equal(evs.filter((e) => e.type === 'execution_resumed').length, 1, 'resumed from its checkpoint once');
				assert.equal(evs.filter((e) => e.type === 'execution_finished').length, 1, 'finished once');
			}
			assert.equal(await anyUnfinished(ctx, p.name), null, 'nothing is left running or queued');
			await current.stop();
		} finally {
			await cleanupRestarted(first, current);
		}
	});
});

describe('priorities', () => {
	test('with one run at a time, high-priority executions start before the low ones still queued', { timeout: 120000 }, async () => {
		const ctx = await liveServer({ args: [...BASE_ARGS, '--max-inflight', '1'] });
		try {
			const p = await constantPattern(ctx, 'prio', 'x', 1000);
			const low = [];
			for (let i = 0; i < 10; i++) low.push((await submit(ctx, { pattern: p.name, input: { low: i }, priority: -10 })).id);
			const high = [];
			for (let i = 0; i < 3; i++) high.push((await submit(ctx, { pattern: p.name, input: { high: i }, priority: 50 })).id);
			const all = [];
			for (const id of [...low, ...high]) all.push(await waitFor(ctx, id, TERMINAL, 60000));
			for (const x of all) assert.equal(x.status, 'succeeded', `${x.id}: ${JSON.stringify(x.error)}`);
			const lows = all.slice(0, 10);
			const highs = all.slice(10);
			assert.deepEqual(lows.map((x) => x.priority), Array(10).fill(-10));
			assert.deepEqual(highs.map((x) => x.priority), Array(3).fill(50));
			const ms = (t) => Date.parse(t);
			const highsQueuedAt = Math.max(...highs.map((x) => ms(x.created_at)));
			const lastHighStart = Math.max(...highs.map((x) => ms(x.started_at)));
			// the low ones that had not started when every high one was queued
			const waiting = lows.filter((x) => ms(x.started_at) > highsQueuedAt);
			assert.ok(waiting.length >= 5, `most low ones were still queued when the high ones arrived (${waiting.length})`);
			const order = all
				.slice()
				.sort((a, b) => ms(a.started_at) - ms(b.started_at))
				.map((x) => `${x.priority > 0 ? 'H' : 'L'}@${ms(x.started_at) - ms(all[0].created_at)}`);
			// one low may have been claimed in the instant the high ones were being queued (its
			// start is written just after the claim); every other one waits for the high ones
			const late = waiting.slice().sort((a, b) => ms(a.started_at) - ms(b.started_at)).slice(1);
			for (const x of late) {
				assert.ok(ms(x.started_at) > lastHighStart, `low ${x.id} started before a high one: ${order.join(' ')}`);
			}
		} finally {
			await ctx.stop();
		}
	});
});
