#!/usr/bin/env node
// The queue benchmark's driver (tests/bench/queue runs it; issue 5). Node's stdlib, plus
// graphile-worker for the comparison.
//
//   node tests/bench/queue.mjs parallax --url URL --setup-token T --db DBURL [--pid PID]
//        [--n 20000] [--clients 32] [--agent-url URL] [--idempotency-keys 1] [--label L]
//     Creates the owner, lifts the tenant's quotas (plan 'enterprise' by SQL, then PATCH
//     /quotas), an agent (builtin constant, or http at --agent-url) and a one-node pattern,
//     then submits --n executions through POST /api/v1/executions from --clients concurrent
//     keep-alive clients and counts the active executions in the database every 500 ms
//     until none is left; the outcome comes from GET /api/v1/executions/stats.
//     Prints: submit-only req/s (first request to last answer), end to end executions/s
//     (first request to the last finished_at in the database), queue wait and run time
//     percentiles from the rows. With --pid: VmRSS and Threads of that process before,
//     during (sampled every 50 ms; the peak) and after.
//   node tests/bench/queue.mjs parallax ... --no-wait 1
//     Only submits (to a `serve --workers 0`): the executions stay queued.
//   node tests/bench/queue.mjs watch --db DBURL --pid PID
//     Samples VmRSS and Threads of PID (a `parallax worker` started on that queue) every
//     50 ms and the executions' statuses from the database until all have ended: the most
//     running at once, wall time from the start to the last finished_at, and the figures.
//   node tests/bench/queue.mjs graphile --pg URL [--jobs 20000] [--concurrency 10]
//     graphile-worker on its own database of that server: adds --jobs no-op jobs (timed
//     apart), then runs a worker at --concurrency until all have succeeded: jobs/s.
// Each prints `result <key> <value>` lines that tests/bench/queue collects.
import http from 'node:http';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';

function args() {
	const out = { _: process.argv[2] };
	for (let i = 3; i < process.argv.length; i += 2) out[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
	return out;
}
const A = args();
const num = (k, d) => (A[k] === undefined ? d : Number(A[k]));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const result = (k, v) => process.stdout.write(`result ${k} ${v}\n`);
const log = (s) => process.stdout.write(`${s}\n`);

// ---- HTTP ----------------------------------------------------------------------------------

const agent = new http.Agent({ keepAlive: true, maxSockets: 256, timeout: 400 });
// Idle sockets are dropped after 400 ms, before the server's keep-alive timeout (500 ms), so
// a request is not sent on a socket the server is closing. Should one fail with ECONNRESET
// anyway, it is sent again once if that is safe: a GET, or a submission with an
// Idempotency-Key (--idempotency-keys 1; off by default, as the lookup is a cost of its own).
async function call(method, path, body, token, headers = {}) {
	try {
		return await call1(method, path, body, token, headers);
	} catch (e) {
		if ((e.code !== 'ECONNRESET' && e.code !== 'EPIPE') || (method !== 'GET' && !headers['Idempotency-Key'])) throw e;
		return call1(method, path, body, token, headers);
	}
}
function call1(method, path, body, token, extra) {
	const u = new URL(A.url + path);
	const data = body === undefined ? null : Buffer.from(JSON.stringify(body));
	const headers = { ...extra, ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {}) };
	return new Promise((resolve, reject) => {
		const req = http.request({ host: u.hostname, port: u.port, method, path, headers, agent }, (res) => {
			let text = '';
			res.setEncoding('utf8').on('data', (d) => (text += d)).on('end', () => {
				let json = null;
				try { json = JSON.parse(text); } catch { /* not JSON */ }
				resolve({ status: res.statusCode, json, text });
			});
		});
		req.setTimeout(60000, () => req.destroy(new Error(`${method} ${path}: no answer in 60 s`)));
		req.on('error', reject);
		if (data) req.write(data);
		req.end();
	});
}
async function must(status, p, what) {
	const res = await p;
	if (res.status !== status) throw new Error(`${what}: ${res.status} ${res.text.slice(0, 400)}`);
	return res.json;
}

// ---- the database, for what the API does not say ----------------------------------------------

const sqlArgs = (text) => (A.db.startsWith('sqlite://')
	? ['sqlite3', ['-cmd', '.timeout 10000', A.db.slice('sqlite://'.length), text]]
	: ['psql', [A.db, '-v', 'ON_ERROR_STOP=1', '-qAtX', '-c', text]]);
const rowsOf = (out) => out.split('\n').filter(Boolean).map((l) => l.split('|'));
function sql(text) {
	const [cmd, argv] = sqlArgs(text);
	return rowsOf(execFileSync(cmd, argv, { encoding: 'utf8' }));
}
// The same without blocking the event loop (the submitting clients run on it).
async function sqlAsync(text) {
	const [cmd, argv] = sqlArgs(text);
	return rowsOf((await promisify(execFile)(cmd, argv, { encoding: 'utf8' })).stdout);
}

function proc(pid) {
	if (!pid) return null;
	const s = readFileSync(`/proc/${pid}/status`, 'utf8');
	const kb = Number(/VmRSS:\s+(\d+)/.exec(s)[1]);
	const threads = Number(/Threads:\s+(\d+)/.exec(s)[1]);
	return { rssMb: kb / 1024, threads };
}
const fmtProc = (p) => (p ? `RSS ${p.rssMb.toFixed(1)} MB, ${p.threads} threads` : 'n/a');

function pct(sorted, p) {
	if (!sorted.length) return NaN;
	return sorted[Math.min(sorted.length, Math.ceil((p / 100) * sorted.length)) - 1];
}

// ---- parallax ---------------------------------------------------------------------------------

async function setup() {
	const email = `bench-${process.pid}@example.com`;
	const password = `Px-bench-${Date.now()}-pass-9`;
	const s = await must(201, call('POST', '/api/v1/setup', { token: A['setup-token'], tenant_name: 'Bench', name: 'Bench Owner', email, password }), 'setup');
	const l = await must(200, call('POST', '/api/v1/auth/login', { email, password }), 'login');
	const token = l.access_token;
	sql(`UPDATE tenants SET plan = 'enterprise' WHERE id = '${s.tenant.id}'`);
	await must(200, call('PATCH', `/api/v1/tenants/${s.tenant.id}/quotas`, { concurrent_executions: 100000, executions_per_day: 100000000, requests_per_minute: 1000000 }, token), 'quotas');
	const name = A['agent-url'] ? 'slow-http' : 'constant';
	const config = A['agent-url'] ? { url: A['agent-url'], timeout_ms: 30000 } : { type: 'constant', value: { ok: true }, confidence: 0.9 };
	await must(201, call('POST', '/api/v1/agents', { name, kind: A['agent-url'] ? 'http' : 'builtin', capabilities: ['bench'], max_concurrency: 1000, timeout_ms: 30000, config }, token), 'agent');
	const definition = {
		name: 'one-node',
		input: { type: 'object' },
		nodes: [
			{ id: 'in', type: 'input' },
			{ id: 'ask', type: 'agent', from: 'in', select: { ids: [name] }, task: 'Answer', data: '.input' },
			{ id: 'out', type: 'output', from: 'ask' },
		],
	};
	await must(201, call('POST', '/api/v1/patterns', { name: definition.name, definition }, token), 'pattern');
	return token;
}

async function submitAll(token, n, clients) {
	let next = 0;
	const codes = new Map();
	const t0 = Date.now();
	await Promise.all(Array.from({ length: clients }, async () => {
		while (next < n) {
			const i = next++;
			const key = A['idempotency-keys'] === '1' ? { 'Idempotency-Key': `bench-${i}` } : {};
			const res = await call('POST', '/api/v1/executions', { pattern: 'one-node', input: { i } }, token, key)
				.catch((e) => ({ status: e.code || 'error', text: e.message }));
			codes.set(res.status, (codes.get(res.status) || 0) + 1);
			if (res.status !== 202 && (codes.get(res.status) || 0) <= 3) log(`  submit ${i}: ${res.status} ${res.text.slice(0, 200)}`);
		}
	}));
	return { t0, t1: Date.now(), codes };
}

async function runParallax() {
	const n = num('n', 20000);
	const clients = num('clients', 32);
	const label = A.label || 'parallax';
	const pid = num('pid', 0);
	const token = await setup();
	const before = proc(pid);
	let peak = before;
	let ticking = true;
	const sampler = (async () => {
		while (ticking) {
			const p = proc(pid);
			if (p && (p.rssMb > peak.rssMb || p.threads > peak.threads)) peak = { rssMb: Math.max(p.rssMb, peak.rssMb), threads: Math.max(p.threads, peak.threads) };
			await sleep(50);
		}
	})();
	log(`${label}: ${n} executions, ${clients} concurrent clients`);
	// From the first submission, every 500 ms: the active executions, counted on their partial
	// index (cheap, unlike GET /stats, whose percentiles sort the whole window), for progress
	// and the most running at once. Nothing but this run is in the database.
	let sub = null;
	let during = null;
	let peakRunning = 0;
	const limit = Date.now() + num('limit-s', 1800) * 1000;
	const t0 = Date.now();
	const poller = (async () => {
		for (let last = Date.now(); Date.now() < limit && ticking; await sleep(500)) {
			const c = Object.fromEntries((await sqlAsync("SELECT status, COUNT(*) FROM executions WHERE status IN ('queued', 'running', 'waiting_approval') GROUP BY status")).map(([k, v]) => [k, Number(v)]));
			const running = c.running || 0;
			if (running > peakRunning) {
				peakRunning = running;
				during = { ...proc(pid), running };
			}
			if (Date.now() - last > 10000) {
				log(`  ${((Date.now() - t0) / 1000).toFixed(1)} s: ${c.queued || 0} queued, ${running} running`);
				last = Date.now();
			}
			if (sub && !c.queued && !running && !c.waiting_approval) break;
		}
	})();
	sub = await submitAll(token, n, clients);
	const accepted = sub.codes.get(202) || 0;
	log(`  submitted in ${((sub.t1 - sub.t0) / 1000).toFixed(2)} s: ${[...sub.codes].map(([c, k]) => `${k} x ${c}`).join(', ')}`);
	if (A['no-wait']) { /* queued for a worker started later (watch) */
		ticking = false;
		await Promise.all([sampler, poller]);
		log(`  submit only: ${(accepted / ((sub.t1 - sub.t0) / 1000)).toFixed(0)} req/s`);
		result(`${label}_submit_rps`, (accepted / ((sub.t1 - sub.t0) / 1000)).toFixed(0));
		if (accepted !== n) process.exitCode = 1;
		return;
	}
	await poller;
	ticking = false;
	await sampler;
	const summary = (await must(200, call('GET', `/api/v1/executions/stats?since=${new Date(t0 - 60000).toISOString()}`, undefined, token), 'stats')).summary;
	const [[lastFinished, firstCreated]] = sql('SELECT MAX(finished_at), MIN(created_at) FROM executions');
	const rows = sql('SELECT started_at - created_at, finished_at - started_at, finished_at - created_at FROM executions WHERE finished_at IS NOT NULL');
	const col = (i) => rows.map((r) => Number(r[i])).sort((a, b) => a - b);
	const [wait, run, total] = [col(0), col(1), col(2)];
	const e2eS = (Number(lastFinished) - sub.t0) / 1000;
	const ok = summary ? summary.by_status.succeeded : 0;
	log(`  ${ok} of ${n} succeeded; first created ${Number(firstCreated) - sub.t0} ms after the first request`);
	log(`  submit only: ${(accepted / ((sub.t1 - sub.t0) / 1000)).toFixed(0)} req/s`);
	log(`  end to end: ${(ok / e2eS).toFixed(0)} executions/s (${e2eS.toFixed(2)} s from the first request to the last finished_at)`);
	for (const [name, v] of [['queue wait (started - created)', wait], ['run (finished - started)', run], ['submit to finish', total]]) {
		log(`  ${name}: p50 ${pct(v, 50)} ms, p95 ${pct(v, 95)} ms, p99 ${pct(v, 99)} ms, max ${v.at(-1)} ms`);
	}
	if (pid) {
		const after1 = proc(pid);
		await sleep(2000);
		const after = proc(pid);
		log(`  server process before: ${fmtProc(before)}`);
		if (during) log(`  at the most running at once (${during.running}): ${fmtProc(during)}`);
		log(`  peak (50 ms samples): ${fmtProc(peak)}`);
		log(`  after: ${fmtProc(after1)}; 2 s later ${fmtProc(after)}`);
		result(`${label}_rss_mb_before`, before.rssMb.toFixed(1));
		result(`${label}_rss_mb_peak`, peak.rssMb.toFixed(1));
		result(`${label}_rss_mb_after`, after.rssMb.toFixed(1));
		result(`${label}_threads_before`, before.threads);
		result(`${label}_threads_peak`, peak.threads);
		result(`${label}_threads_after`, after.threads);
	}
	result(`${label}_succeeded`, ok);
	result(`${label}_peak_running`, peakRunning);
	result(`${label}_submit_rps`, (accepted / ((sub.t1 - sub.t0) / 1000)).toFixed(0));
	result(`${label}_e2e_per_s`, (ok / e2eS).toFixed(0));
	result(`${label}_e2e_s`, e2eS.toFixed(2));
	if (ok !== n) process.exitCode = 1;
}

// ---- watch: a worker process draining what was queued --------------------------------------

async function runWatch() {
	const n = Number(sql('SELECT COUNT(*) FROM executions')[0][0]); /* all queued before the start */
	const label = A.label || 'watch';
	const pid = num('pid', 0);
	const t0 = Date.now();
	const before = proc(pid);
	let peak = before;
	let at = null;
	let peakRunning = 0;
	for (;;) {
		const p = proc(pid);
		if (p) peak = { rssMb: Math.max(p.rssMb, peak.rssMb), threads: Math.max(p.threads, peak.threads) };
		const counts = Object.fromEntries(sql("SELECT status, COUNT(*) FROM executions GROUP BY status").map(([k, v]) => [k, Number(v)]));
		if ((counts.running || 0) > peakRunning) {
			peakRunning = counts.running;
			at = { ...p, running: counts.running };
		}
		const ended = ['succeeded', 'failed', 'cancelled', 'timed_out'].reduce((k, s) => k + (counts[s] || 0), 0);
		if (ended >= n || Date.now() - t0 > num('limit-s', 300) * 1000) break;
		await sleep(50);
	}
	const after1 = proc(pid);
	await sleep(2000);
	const after = proc(pid);
	const [[ok, lastFinished]] = sql("SELECT COUNT(*), MAX(finished_at) FROM executions WHERE status = 'succeeded'");
	const run = sql('SELECT finished_at - started_at FROM executions WHERE finished_at IS NOT NULL').map((r) => Number(r[0])).sort((a, b) => a - b);
	const wall = (Number(lastFinished) - t0) / 1000;
	log(`  ${ok} of ${n} succeeded, ${wall.toFixed(2)} s from the worker's start to the last finished_at; at most ${peakRunning} running at once`);
	log(`  run (finished - started): p50 ${pct(run, 50)} ms, p95 ${pct(run, 95)} ms, p99 ${pct(run, 99)} ms, max ${run.at(-1)} ms`);
	log(`  worker process at its start: ${fmtProc(before)}`);
	if (at) log(`  at the most running at once (${at.running}): ${fmtProc(at)}`);
	log(`  peak (50 ms samples): ${fmtProc(peak)}`);
	log(`  after: ${fmtProc(after1)}; 2 s later ${fmtProc(after)}`);
	for (const [k, v] of [['succeeded', ok], ['peak_running', peakRunning], ['wall_s', wall.toFixed(2)],
		['rss_mb_before', before.rssMb.toFixed(1)], ['rss_mb_peak', peak.rssMb.toFixed(1)], ['rss_mb_after', after.rssMb.toFixed(1)],
		['threads_before', before.threads], ['threads_peak', peak.threads], ['threads_after', after.threads]]) result(`${label}_${k}`, v);
	if (Number(ok) !== n) process.exitCode = 1;
}

// ---- graphile-worker ---------------------------------------------------------------------------

async function runGraphile() {
	const { makeWorkerUtils, run, Logger } = await import('graphile-worker');
	const jobs = num('jobs', 20000);
	const concurrency = num('concurrency', 10);
	const quiet = new Logger(() => () => {});
	const connectionString = A.pg;
	const utils = await makeWorkerUtils({ connectionString, logger: quiet });
	await utils.migrate();
	const a0 = Date.now();
	for (let i = 0; i < jobs; i += 1000) {
		const batch = Array.from({ length: Math.min(1000, jobs - i) }, (_, k) => ({ identifier: 'noop', payload: { i: i + k } }));
		await utils.addJobs(batch);
	}
	const a1 = Date.now();
	log(`graphile-worker ${(await import('graphile-worker/package.json', { with: { type: 'json' } }).catch(() => ({ default: {} }))).default.version || ''}: ${jobs} no-op jobs added in ${((a1 - a0) / 1000).toFixed(2)} s (batches of 1000, not timed below)`);
	let done = 0;
	let failed = 0;
	let finish;
	const all = new Promise((r) => (finish = r));
	const t0 = Date.now();
	const runner = await run({ connectionString, concurrency, noHandleSignals: true, pollInterval: 1000, logger: quiet, taskList: { noop: async () => {} } });
	runner.events.on('job:success', () => { if (++done + failed === jobs) finish(); });
	runner.events.on('job:error', () => { if (done + ++failed === jobs) finish(); });
	await Promise.race([all, sleep(num('limit-s', 600) * 1000)]);
	const t1 = Date.now();
	await runner.stop();
	await utils.release();
	log(`  processed ${done} (${failed} failed) at concurrency ${concurrency} in ${((t1 - t0) / 1000).toFixed(2)} s: ${(done / ((t1 - t0) / 1000)).toFixed(0)} jobs/s`);
	result('graphile_jobs_per_s', (done / ((t1 - t0) / 1000)).toFixed(0));
	if (done !== jobs) process.exitCode = 1;
}

const main = { parallax: runParallax, watch: runWatch, graphile: runGraphile }[A._];
if (!main) {
	console.error('usage: queue.mjs parallax|graphile [options] (see the header)');
	process.exit(2);
}
main().then(() => process.exit(), (e) => {
	console.error(e.stack || String(e));
	process.exit(1);
});
