// Login load generator for tests/bench/login (not a test).
//
//   node tests/bench/login.mjs --url http://127.0.0.1:PORT --setup-token TOKEN
//        [--rate 15] [--duration 30] [--solo 20]
//
// 1. Creates the owner through POST /api/v1/setup.
// 2. Hash time alone: --solo sequential logins with nothing else running; prints the median
//    (a login is one argon2id verify plus a few small queries).
// 3. Open loop: starts one POST /api/v1/auth/login (right password) every 1/rate s for
//    --duration s, whether or not earlier ones have finished (so a slow server faces a
//    growing queue instead of a slowed-down client), records every latency from the
//    scheduled start, and prints count, errors, p50, p95, p99 and max.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
	options: {
		url: { type: 'string' },
		'setup-token': { type: 'string' },
		rate: { type: 'string', default: '15' },
		duration: { type: 'string', default: '30' },
		solo: { type: 'string', default: '20' },
	},
});
if (!opt.url || !opt['setup-token']) {
	console.error('usage: login.mjs --url URL --setup-token TOKEN [--rate 15] [--duration 30] [--solo 20]');
	process.exit(2);
}
const base = new URL(opt.url);
const rate = Number(opt.rate);
const duration = Number(opt.duration);
const solo = Number(opt.solo);

function postJson(path, body) {
	const data = Buffer.from(JSON.stringify(body));
	return new Promise((resolve, reject) => {
		const req = http.request(
			{
				host: base.hostname,
				port: base.port,
				method: 'POST',
				path,
				agent: false, // a new connection per login, as separate clients would
				headers: { 'Content-Type': 'application/json', 'Content-Length': data.length },
			},
			(res) => {
				const chunks = [];
				res.on('data', (c) => chunks.push(c));
				res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
				res.on('error', reject);
			},
		);
		req.setTimeout(30000, () => req.destroy(new Error('timeout after 30 s')));
		req.on('error', reject);
		req.end(data);
	});
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
const ms = (x) => `${x.toFixed(1)} ms`;

const email = `bench-${randomBytes(4).toString('hex')}@example.com`;
const password = `Bench-${randomBytes(12).toString('base64url')}-pass`;
const setup = await postJson('/api/v1/setup', {
	token: opt['setup-token'],
	tenant_name: 'Bench Org',
	name: 'Bench Owner',
	email,
	password,
});
if (setup.status !== 201) {
	console.error(`setup failed: ${setup.status} ${setup.text}`);
	process.exit(1);
}

async function loginOnce() {
	const t0 = performance.now();
	const r = await postJson('/api/v1/auth/login', { email, password });
	const dt = performance.now() - t0;
	return { dt, ok: r.status === 200, status: r.status };
}

// Warm-up (first connection, first statement preparation), not counted.
for (let i = 0; i < 3; i++) await loginOnce();

// Hash time alone.
const soloTimes = [];
for (let i = 0; i < solo; i++) {
	const r = await loginOnce();
	if (!r.ok) {
		console.error(`solo login failed with ${r.status}`);
		process.exit(1);
	}
	soloTimes.push(r.dt);
}
soloTimes.sort((a, b) => a - b);
console.log(`single login, no load (${solo} sequential): median ${ms(soloTimes[Math.floor((solo - 1) / 2)])}, min ${ms(soloTimes[0])}, max ${ms(soloTimes[solo - 1])}`);

// Open loop.
const total = Math.round(rate * duration);
const interval = 1000 / rate;
const latencies = [];
const statuses = new Map();
let errors = 0;
let maxInFlight = 0;
let inFlight = 0;
let lateStarts = 0;
const start = performance.now() + 50;
const pending = [];
for (let i = 0; i < total; i++) {
	const due = start + i * interval;
	const wait = due - performance.now();
	if (wait > 0) await new Promise((r) => setTimeout(r, wait));
	if (performance.now() - due > interval) lateStarts++;
	inFlight++;
	maxInFlight = Math.max(maxInFlight, inFlight);
	pending.push(
		postJson('/api/v1/auth/login', { email, password })
			.then((r) => {
				// Latency from the scheduled start: a late start counts against the server.
				latencies.push(performance.now() - due);
				statuses.set(r.status, (statuses.get(r.status) || 0) + 1);
				if (r.status !== 200) errors++;
			})
			.catch((e) => {
				errors++;
				statuses.set(e.code || e.message, (statuses.get(e.code || e.message) || 0) + 1);
			})
			.finally(() => inFlight--),
	);
}
await Promise.all(pending);
const wall = (performance.now() - start) / 1000;
latencies.sort((a, b) => a - b);
console.log(`open loop: ${rate} logins/s for ${duration} s (${total} scheduled, finished in ${wall.toFixed(1)} s)`);
console.log(`  count    ${latencies.length}`);
console.log(`  errors   ${errors}${errors ? ` (${[...statuses].filter(([s]) => s !== 200).map(([s, n]) => `${s}: ${n}`).join(', ')})` : ''}`);
if (latencies.length) {
	console.log(`  p50      ${ms(pct(latencies, 50))}`);
	console.log(`  p95      ${ms(pct(latencies, 95))}`);
	console.log(`  p99      ${ms(pct(latencies, 99))}`);
	console.log(`  max      ${ms(latencies[latencies.length - 1])}`);
}
console.log(`  max in flight ${maxInFlight}; client started ${lateStarts} request(s) more than one interval late`);
const p99 = latencies.length ? pct(latencies, 99) : Infinity;
console.log(`  target p99 < 500 ms: ${p99 < 500 && errors === 0 ? 'met' : 'NOT met'}`);
