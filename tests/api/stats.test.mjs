// GET /api/v1/executions/stats and the queue lines of /metrics (issue 5), once per backend.
// Executions run through POST /api/v1/executions?wait=10 against builtin constant agents
// whose confidences are dyadic fractions (exact sums), one per status; the summary and the
// confidence histogram are asserted on what the runs wrote. Then each execution's
// created_at / started_at / finished_at is set by SQL to a chosen moment, so the hour and
// day buckets, the latency percentiles and the duration histogram are all hand-computed.
// The other workspace and another tenant each run one execution that must not show here.
import test, { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, expectStatus, liveServer, sleep, uniq } from './helpers/live.mjs';
import { get, request, sql } from './helpers/server.mjs';
import { createSecondTenant } from './helpers/tenants.mjs';

const TERMINAL = ['succeeded', 'failed', 'cancelled', 'timed_out'];
const H = 3600000;
const DAY = 24 * H;
const M = 60000;
const iso = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z');
const STATUSES = ['queued', 'running', 'waiting_approval', 'succeeded', 'failed', 'cancelled', 'timed_out'];

// As api(), with extra headers (X-Parallax-Workspace).
const call = (ctx, method, path, token, json, headers = {}) =>
	request(ctx.server, method, path, { headers: { Authorization: `Bearer ${token}`, ...headers }, json, timeoutMs: 30000 });

function onePattern(name, agent, gate = false) {
	const nodes = [
		{ id: 'in', type: 'input' },
		{ id: 'ask', type: 'agent', from: 'in', select: { ids: [agent] }, task: 'Answer', data: '.input' },
	];
	if (gate) nodes.push({ id: 'gate', type: 'approval', from: 'ask', message: 'Ship it?' });
	nodes.push({ id: 'out', type: 'output', from: gate ? 'gate' : 'ask' });
	return { name, input: { type: 'object' }, nodes };
}

// An agent (constant value, confidence, extra config) and a one-node pattern over it.
async function constantPattern(ctx, confidence, extra = {}, token = ctx.dev.token, headers = {}, gate = false) {
	const name = uniq('const');
	const body = { name, kind: 'builtin', capabilities: ['stats'], config: { type: 'constant', value: { c: confidence }, confidence, ...extra } };
	expectStatus(await call(ctx, 'POST', '/api/v1/agents', token, body, headers), 201, `agent ${name}`);
	const def = onePattern(uniq('p'), name, gate);
	return expectStatus(await call(ctx, 'POST', '/api/v1/patterns', token, { name: def.name, definition: def }, headers), 201, `pattern ${def.name}`);
}

async function waitFor(ctx, id, statuses, ms = 15000) {
	const t0 = Date.now();
	for (;;) {
		const x = expectStatus(await api(ctx, 'GET', `/api/v1/executions/${id}`, ctx.dev.token), 200, 'get');
		if (statuses.includes(x.status)) return x;
		if (Date.now() - t0 > ms) assert.fail(`execution ${id} stayed ${x.status}`);
		await sleep(30);
	}
}

async function stats(ctx, query = '', token = ctx.viewer.token, headers = {}) {
	return expectStatus(await call(ctx, 'GET', `/api/v1/executions/stats${query}`, token, undefined, headers), 200, `stats${query}`);
}

const zeroHistogram = () => Array.from({ length: 10 }, (_, i) => ({ from: i / 10, to: (i + 1) / 10, count: 0 }));
const histogram = (counts) => zeroHistogram().map((b, i) => ({ ...b, count: counts[i] }));
const byStatus = (o) => Object.fromEntries(STATUSES.map((s) => [s, o[s] ?? 0]));

describe('execution stats', () => {
	let ctx, other, ws2, hdr2;
	const runs = {}; // key -> execution id
	const P = {};    // key -> pattern
	// D: midnight UTC three days ago, so every moment below is inside the default 7 days.
	const D = Math.floor(Date.now() / DAY) * DAY - 3 * DAY;

	// key, pattern, status, created_at, latency (ms; terminal ones only)
	const plan = [
		['s1', 'c0', 'succeeded', D + 10 * H + 5 * M, 5],
		['s2', 'c1', 'succeeded', D + 10 * H + 20 * M, 12],
		['s3', 'c2', 'succeeded', D + 10 * H + 40 * M, 30],
		['f1', 'fail', 'failed', D + 10 * H + 50 * M, 8],
		['s4', 'c2', 'succeeded', D + 11 * H, 45],
		['w1', 'appr', 'waiting_approval', D + 11 * H + 10 * M, null],
		['s5', 'c5', 'succeeded', D + 11 * H + 30 * M, 80],
		['s6', 'c5', 'succeeded', D + 12 * H - 1, 120],
		['s7', 'c5', 'succeeded', D + DAY + 3 * H, 200],
		['s8', 'c7', 'succeeded', D + DAY + 3 * H + 15 * M, 260],
		['s9', 'c7', 'succeeded', D + DAY + 3 * H + 30 * M, 400],
		['f2', 'fail', 'failed', D + DAY + 3 * H + 45 * M, 90],
		['s10', 'c7', 'succeeded', D + DAY + 4 * H, 700],
		['t1', 'slow', 'timed_out', D + DAY + 4 * H + 10 * M, 350],
		['s11', 'c7', 'succeeded', D + DAY + 4 * H + 45 * M, 1500],
		['s12', 'c8', 'succeeded', D + 2 * DAY, 2000],
		['s13', 'c9', 'succeeded', D + 2 * DAY + 10 * M, 3000],
		['s14', 'c9', 'succeeded', D + 2 * DAY + 20 * M, 6000],
		['c1', 'slow', 'cancelled', D + 2 * DAY + 30 * M, 1000],
		['r1', 'slow', 'running', D + 2 * DAY + 40 * M, null],
		['s15', 'c9', 'succeeded', D + 2 * DAY + 23 * H + 59 * M, 20000],
		['s16', 'c9', 'succeeded', D + 2 * DAY + 23 * H + 59 * M + 30000, 45000],
		// eight days ago: outside the default window
		['o1', 'c5', 'succeeded', D - 5 * DAY + 12 * H, 50000],
	];

	before(async () => {
		ctx = await liveServer({ args: ['--agent-allow', '127.0.0.1/32', '--health-interval-ms', '0'] });
		for (const [k, c] of [['c0', 0], ['c1', 0.0625], ['c2', 0.25], ['c5', 0.5], ['c7', 0.75], ['c8', 0.875], ['c9', 1]]) {
			P[k] = await constantPattern(ctx, c);
		}
		P.fail = await constantPattern(ctx, 0.5, { fail: true });
		P.slow = await constantPattern(ctx, 0.5, { delay_ms: 60000 });
		P.appr = await constantPattern(ctx, 0.5, {}, ctx.dev.token, {}, true);
		ws2 = expectStatus(await api(ctx, 'POST', '/api/v1/workspaces', ctx.ownerTok, { name: uniq('ws') }), 201, 'workspace');
		hdr2 = { 'X-Parallax-Workspace': ws2.id };
		other = await createSecondTenant(ctx.server);
	});
	after(async () => {
		if (runs.r1) await api(ctx, 'POST', `/api/v1/executions/${runs.r1}/cancel`, ctx.dev.token);
		await ctx?.stop();
	});

	const submit = (pattern, extra = {}, query = '?wait=10', token = ctx.dev.token, headers = {}) =>
		call(ctx, 'POST', `/api/v1/executions${query}`, token, { pattern, input: {}, ...extra }, headers);

	test('runs one execution per planned row; each ends in its planned status', async () => {
		for (const [key, pat, status] of plan) {
			if (status === 'succeeded' || status === 'failed') {
				const res = await submit(P[pat].name);
				assert.equal(res.status, 200, `${key}: ${res.text}`);
				assert.equal(res.json.status, status, `${key}: ${res.text}`);
				runs[key] = res.json.id;
			} else if (status === 'timed_out') {
				const res = await submit(P[pat].name, { timeout_ms: 300 });
				assert.equal(res.status, 200, `${key}: ${res.text}`);
				assert.equal(res.json.status, 'timed_out');
				runs[key] = res.json.id;
			} else {
				const res = await submit(P[pat].name, {}, '');
				assert.equal(res.status, 202, `${key}: ${res.text}`);
				runs[key] = res.json.id;
				const want = status === 'cancelled' ? 'running' : status;
				await waitFor(ctx, runs[key], [want]);
				if (status === 'cancelled') {
					expectStatus(await api(ctx, 'POST', `/api/v1/executions/${runs[key]}/cancel`, ctx.dev.token), 202, 'cancel');
					await waitFor(ctx, runs[key], ['cancelled']);
				}
			}
		}
		// elsewhere: one in the other workspace (0.3: the lower edge of [0.3, 0.4)), one in the other tenant (0.9)
		const p2 = await constantPattern(ctx, 0.3, {}, ctx.ownerTok, hdr2);
		const r2 = await submit(p2.name, {}, '?wait=10', ctx.ownerTok, hdr2);
		assert.equal(r2.json?.status, 'succeeded', r2.text);
		runs.ws2 = r2.json.id;
		const octx = { server: ctx.server };
		const agent = { name: uniq('oa'), kind: 'builtin', capabilities: ['stats'], config: { type: 'constant', value: 1, confidence: 0.9 } };
		expectStatus(await api(octx, 'POST', '/api/v1/agents', other.token, agent), 201, 'other agent');
		const odef = onePattern(uniq('op'), agent.name);
		expectStatus(await api(octx, 'POST', '/api/v1/patterns', other.token, { name: odef.name, definition: odef }), 201, 'other pattern');
		const r3 = await api(octx, 'POST', '/api/v1/executions?wait=10', other.token, { pattern: odef.name, input: {} });
		assert.equal(r3.json?.status, 'succeeded', r3.text);
		runs.other = r3.json.id;
	});

	test('summary and confidence histogram from the runs as they were written', async () => {
		const s = await stats(ctx);
		// the 23 planned executions, all created just now (o1 is not moved yet). JSON numbers
		// are printed to 15 significant digits, so a ratio that does not end is compared so.
		const { success_rate: rate, mean_confidence: mean, ...rest } = s.summary;
		assert.deepEqual(rest, {
			total: 23,
			by_status: byStatus({ running: 1, waiting_approval: 1, succeeded: 17, failed: 2, cancelled: 1, timed_out: 1 }),
		});
		assert.equal(rate.toPrecision(15), (17 / 21).toPrecision(15), '17 of 21 ended');
		// 0 + 0.0625 + 0.25*2 + 0.5*4 + 0.75*4 + 0.875 + 1*4 = 10.4375 over 17
		assert.equal(mean.toPrecision(15), (10.4375 / 17).toPrecision(15));
		assert.deepEqual(s.confidence_histogram, histogram([2, 0, 2, 0, 0, 4, 0, 4, 1, 4]));
		assert.equal(s.latency_ms.count, 21, 'every terminal execution started and finished');
		assert.equal(s.by_day.reduce((n, b) => n + b.total, 0), 23);
		assert.equal(s.by_hour.reduce((n, b) => n + b.total, 0), 23);
	});

	test('hour and day buckets, latency percentiles and windows over chosen moments', async () => {
		for (const [key, , status, created, latency] of plan) {
			const id = runs[key];
			const set = latency === null
				? `created_at = ${created}`
				: `created_at = ${created}, started_at = ${created + 1000}, finished_at = ${created + 1000 + latency}`;
			await sql(ctx.server, `UPDATE executions SET ${set} WHERE id = '${id}'`);
			assert.ok(status, key);
		}
		const s = await stats(ctx);
		assert.deepEqual(s.summary, {
			total: 22,
			by_status: byStatus({ running: 1, waiting_approval: 1, succeeded: 16, failed: 2, cancelled: 1, timed_out: 1 }),
			success_rate: 0.8, // 16 of 20 ended
			mean_confidence: 0.62109375, // 9.9375 / 16
		});
		assert.deepEqual(s.confidence_histogram, histogram([2, 0, 2, 0, 0, 3, 0, 4, 1, 4]));
		assert.deepEqual(s.by_hour, [
			{ hour: iso(D + 10 * H), total: 4, succeeded: 3, failed: 1 },
			{ hour: iso(D + 11 * H), total: 4, succeeded: 3, failed: 0 },
			{ hour: iso(D + DAY + 3 * H), total: 4, succeeded: 3, failed: 1 },
			{ hour: iso(D + DAY + 4 * H), total: 3, succeeded: 2, failed: 0 },
			{ hour: iso(D + 2 * DAY), total: 5, succeeded: 3, failed: 0 },
			{ hour: iso(D + 2 * DAY + 23 * H), total: 2, succeeded: 2, failed: 0 },
		]);
		assert.deepEqual(s.by_day, [
			{ day: iso(D), total: 8, succeeded: 6, failed: 1 },
			{ day: iso(D + DAY), total: 7, succeeded: 5, failed: 1 },
			{ day: iso(D + 2 * DAY), total: 7, succeeded: 5, failed: 0 },
		]);
		// 20 ended: 5 8 12 30 45 80 90 120 200 260 | 350 400 700 1000 1500 2000 3000 6000 20000 45000
		assert.deepEqual(s.latency_ms, { count: 20, p50: 260, p90: 6000, p95: 20000, p99: 45000, max: 45000 });

		// [D+11:00, D+12:00): s4 at exactly 11:00 is in, s6 at 11:59:59.999 too
		const hour = await stats(ctx, `?since=${iso(D + 11 * H)}&until=${iso(D + 12 * H)}`);
		assert.deepEqual(hour.summary.by_status, byStatus({ waiting_approval: 1, succeeded: 3 }));
		assert.deepEqual(hour.by_hour, [{ hour: iso(D + 11 * H), total: 4, succeeded: 3, failed: 0 }]);
		assert.deepEqual(hour.latency_ms, { count: 3, p50: 80, p90: 120, p95: 120, p99: 120, max: 120 });
		// until is exclusive: the same window ending at 11:00 holds only the 10:00 hour
		const ten = await stats(ctx, `?since=${D}&until=${D + 11 * H}`);
		assert.equal(ten.summary.total, 4);
		assert.equal(ten.summary.success_rate, 0.75);
		assert.deepEqual(ten.latency_ms, { count: 4, p50: 8, p90: 30, p95: 30, p99: 30, max: 30 });
		// eight days back takes o1 in (created 12:00, 50 s)
		const wide = await stats(ctx, `?since=${iso(D - 6 * DAY)}`);
		assert.equal(wide.summary.total, 23);
		assert.deepEqual(wide.by_day[0], { day: iso(D - 5 * DAY), total: 1, succeeded: 1, failed: 0 });
		assert.deepEqual(wide.latency_ms, { count: 21, p50: 350, p90: 20000, p95: 45000, p99: 50000, max: 50000 });
	});

	test('pattern filter by name or id; an unknown pattern matches nothing', async () => {
		for (const q of [P.c7.name, P.c7.id]) {
			const s = await stats(ctx, `?pattern=${encodeURIComponent(q)}`);
			assert.deepEqual(s.summary, { total: 4, by_status: byStatus({ succeeded: 4 }), success_rate: 1, mean_confidence: 0.75 });
			assert.deepEqual(s.latency_ms, { count: 4, p50: 400, p90: 1500, p95: 1500, p99: 1500, max: 1500 });
			assert.deepEqual(s.confidence_histogram, histogram([0, 0, 0, 0, 0, 0, 0, 4, 0, 0]));
			assert.deepEqual(s.by_day, [{ day: iso(D + DAY), total: 4, succeeded: 4, failed: 0 }]);
		}
		const none = await stats(ctx, '?pattern=no-such-pattern');
		assert.deepEqual(none.summary, { total: 0, by_status: byStatus({}), success_rate: null, mean_confidence: null });
		assert.deepEqual(none.by_hour, []);
		assert.deepEqual(none.by_day, []);
		assert.deepEqual(none.latency_ms, { count: 0, p50: null, p90: null, p95: null, p99: null, max: null });
		assert.deepEqual(none.confidence_histogram, zeroHistogram());
	});

	test('scoped to the workspace and the tenant', async () => {
		const w = await stats(ctx, '', ctx.ownerTok, hdr2);
		assert.deepEqual(w.summary, { total: 1, by_status: byStatus({ succeeded: 1 }), success_rate: 1, mean_confidence: 0.3 });
		assert.deepEqual(w.confidence_histogram, histogram([0, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
		const o = expectStatus(await api({ server: ctx.server }, 'GET', '/api/v1/executions/stats', other.token), 200, 'other tenant');
		assert.deepEqual(o.summary, { total: 1, by_status: byStatus({ succeeded: 1 }), success_rate: 1, mean_confidence: 0.9 });
		assert.deepEqual(o.confidence_histogram, histogram([0, 0, 0, 0, 0, 0, 0, 0, 0, 1]));
		// the other tenant naming our pattern finds nothing
		const p = expectStatus(await api({ server: ctx.server }, 'GET', `/api/v1/executions/stats?pattern=${P.c7.id}`, other.token), 200, 'cross pattern');
		assert.equal(p.summary.total, 0);
		// another tenant's workspace in the header answers like a missing one
		const x = await call(ctx, 'GET', '/api/v1/executions/stats', other.token, undefined, hdr2);
		assert.equal(x.status, 404, x.text);
		assert.equal(x.json.error.code, 'workspace_not_found');
	});

	test('400 naming the parameter; 401 without a credential', async () => {
		for (const [q, field] of [
			['?since=yesterday', 'since'],
			['?until=2026-13-01T00:00:00Z', 'until'],
			[`?since=${iso(D + H)}&until=${iso(D)}`, 'since'],
			[`?since=${iso(D)}&until=${iso(D)}`, 'since'],
			[`?since=${iso(D - 400 * DAY)}&until=${iso(D)}`, 'since'],
		]) {
			const res = await api(ctx, 'GET', `/api/v1/executions/stats${q}`, ctx.viewer.token);
			assert.equal(res.status, 400, `${q}: ${res.text}`);
			assert.equal(res.json.error.field, field, q);
		}
		assert.equal((await get(ctx.server, '/api/v1/executions/stats')).status, 401);
	});

	test('/metrics: queue depth, executions by status and the duration histogram', async () => {
		// the two executions elsewhere get chosen durations too: 15 ms and 100 s
		await sql(ctx.server, `UPDATE executions SET started_at = 1000, finished_at = 1015 WHERE id = '${runs.ws2}'`);
		await sql(ctx.server, `UPDATE executions SET started_at = 1000, finished_at = 101000 WHERE id = '${runs.other}'`);
		const res = await get(ctx.server, '/metrics');
		assert.equal(res.status, 200);
		const m = new Map();
		for (const line of res.text.split('\n')) {
			const hit = /^(parallax_(?:queue_jobs|executions|execution_duration_seconds)\S*) (\S+)$/.exec(line);
			if (hit) m.set(hit[1], Number(hit[2]));
		}
		assert.match(res.text, /# TYPE parallax_execution_duration_seconds histogram/);
		// r1 holds the one claimed job; the parked approval ended its job
		assert.equal(m.get('parallax_queue_jobs{status="queued"}'), 0);
		assert.equal(m.get('parallax_queue_jobs{status="running"}'), 1);
		const want = { queued: 0, running: 1, waiting_approval: 1, succeeded: 19, failed: 2, cancelled: 1, timed_out: 1 };
		for (const [s, n] of Object.entries(want)) assert.equal(m.get(`parallax_executions{status="${s}"}`), n, s);
		// 23 durations (ms): 5 8 12 15 30 45 80 90 120 200 260 350 400 700 1000 1500 2000 3000
		// 6000 20000 45000 50000 100000
		const buckets = [
			['0.01', 2], ['0.025', 4], ['0.05', 6], ['0.1', 8], ['0.25', 10], ['0.5', 13], ['1', 15],
			['2.5', 17], ['5', 18], ['10', 19], ['30', 20], ['60', 22], ['300', 23], ['3600', 23], ['+Inf', 23],
		];
		for (const [le, n] of buckets) assert.equal(m.get(`parallax_execution_duration_seconds_bucket{le="${le}"}`), n, `le ${le}`);
		assert.equal(m.get('parallax_execution_duration_seconds_count'), 23);
		assert.equal(m.get('parallax_execution_duration_seconds_sum'), 230.815);
		// cancelling r1 frees its job and makes it terminal
		expectStatus(await api(ctx, 'POST', `/api/v1/executions/${runs.r1}/cancel`, ctx.dev.token), 202, 'cancel r1');
		await waitFor(ctx, runs.r1, TERMINAL);
		runs.r1 = null;
		const after = (await get(ctx.server, '/metrics')).text;
		assert.match(after, /^parallax_queue_jobs\{status="running"\} 0$/m);
		assert.match(after, /^parallax_executions\{status="running"\} 0$/m);
		assert.match(after, /^parallax_executions\{status="cancelled"\} 2$/m);
	});
});
