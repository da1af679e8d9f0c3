// Cron schedules and inbound triggers: a due schedule starts exactly one execution per tick
// even with two instances ticking on one database; bad cron expressions are refused naming
// the field; a trigger's hook starts its pattern only with a valid HMAC signature of the
// body. Runs once per backend.
import test, { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { api, createAgent, createPattern, expectStatus, liveServer, sleep, uniq } from './helpers/live.mjs';
import { request, sql, startServer } from './helpers/server.mjs';

const ARGS = ['--agent-allow', '127.0.0.1/32', '--health-interval-ms', '0'];

describe('schedules and triggers', () => {
	let ctx, second, p;
	before(async () => {
		ctx = await liveServer({ args: ARGS });
		// a second instance on the same database ticks too
		second = await startServer({ dataDir: ctx.server.dataDir, db: ctx.server.db, expectSetup: false, args: ARGS });
		const cap = uniq('sched');
		await createAgent(ctx, { kind: 'builtin', capabilities: [cap], config: { type: 'echo' } });
		p = await createPattern(ctx, {
			name: uniq('scheduled'),
			input: { type: 'object' },
			nodes: [
				{ id: 'in', type: 'input' },
				{ id: 'ask', type: 'agent', from: 'in', select: { capabilities: [cap] }, task: 'Echo', data: '.input' },
				{ id: 'out', type: 'output', from: 'ask' },
			],
		});
	});
	after(async () => {
		await second?.stop({ keepData: true }).catch(() => {});
		await ctx?.stop();
	});

	test('a schedule is created with its next run; bad cron is 400 naming the field', async () => {
		const s = expectStatus(await api(ctx, 'POST', '/api/v1/schedules', ctx.dev.token, { name: uniq('every'), pattern: p.name, cron: '*/5 * * * *', input: { a: 1 } }), 201, 'create');
		const next = Date.parse(s.next_run_at);
		assert.ok(next > Date.now() && next <= Date.now() + 5 * 60000);
		assert.equal(new Date(next).getUTCMinutes() % 5, 0);
		for (const cron of ['* * * *', '61 * * * *', 'every minute', '0 0 31 2 *']) {
			const res = await api(ctx, 'POST', '/api/v1/schedules', ctx.dev.token, { name: uniq('bad'), pattern: p.name, cron });
			assert.equal(res.status, 400, `${cron}: ${res.text}`);
			assert.equal(res.json.error.field, 'cron');
		}
		// without "input" the schedule's input is {} (it was read uninitialised and crashed a Release build)
		const bare = expectStatus(await api(ctx, 'POST', '/api/v1/schedules', ctx.dev.token, { name: uniq('bare'), pattern: p.name, cron: '@hourly' }), 201, 'create without input');
		assert.deepEqual(bare.input, {});
		assert.equal((await api(ctx, 'DELETE', `/api/v1/schedules/${bare.id}`, ctx.dev.token)).status, 204);
		const dup = await api(ctx, 'POST', '/api/v1/schedules', ctx.dev.token, { name: s.name, pattern: p.name, cron: '@daily' });
		assert.equal(dup.status, 409);
		assert.equal((await api(ctx, 'POST', '/api/v1/schedules', ctx.viewer.token, { name: uniq('v'), pattern: p.name, cron: '@daily' })).status, 403);
		const list = expectStatus(await api(ctx, 'GET', '/api/v1/schedules', ctx.viewer.token), 200, 'list');
		assert.ok(list.items.some((x) => x.id === s.id));
		assert.equal((await api(ctx, 'DELETE', `/api/v1/schedules/${s.id}`, ctx.dev.token)).status, 204);
		assert.equal((await api(ctx, 'DELETE', `/api/v1/schedules/${s.id}`, ctx.dev.token)).status, 404);
	});

	test('a due tick starts exactly one execution with two instances ticking', async () => {
		const s = expectStatus(await api(ctx, 'POST', '/api/v1/schedules', ctx.dev.token, { name: uniq('tick'), pattern: p.name, cron: '0 0 * * *', input: { from: 'cron' } }), 201, 'create');
		const before = await sql(ctx.server, `SELECT COUNT(*) FROM executions WHERE actor_id = '${s.id}'`);
		assert.equal(Number(before[0][0]), 0);
		// make the tick due now, on both instances' shared database
		await sql(ctx.server, `UPDATE schedules SET next_run_at = ${Date.now() - 1000} WHERE id = '${s.id}'`);
		await sleep(3500);
		const rows = await sql(ctx.server, `SELECT id, status FROM executions WHERE actor_id = '${s.id}'`);
		assert.equal(rows.length, 1, `exactly one run for the tick: ${JSON.stringify(rows)}`);
		const x = expectStatus(await api(ctx, 'GET', `/api/v1/executions/${rows[0][0]}`, ctx.dev.token), 200, 'get');
		assert.equal(x.status, 'succeeded');
		assert.deepEqual(x.input, { from: 'cron' });
		const after = expectStatus(await api(ctx, 'GET', '/api/v1/schedules', ctx.dev.token), 200, 'list').items.find((y) => y.id === s.id);
		assert.ok(Date.parse(after.next_run_at) > Date.now(), 'the next tick moved to the future');
		assert.ok(after.last_run_at);
	});

	test('a trigger starts its pattern with a signed body; a bad signature is 403', async () => {
		const secret = `trig-${uniq('s')}-0123456789`;
		const t = expectStatus(await api(ctx, 'POST', '/api/v1/triggers', ctx.dev.token, { name: uniq('hook'), pattern: p.name, secret }), 201, 'create');
		assert.deepEqual(t.secret, { set: true });
		assert.ok(!JSON.stringify(t).includes(secret));
		const path = new URL(t.url).pathname;
		const fire = (body, sig, headers = {}) => request(ctx.server, 'POST', path, { headers: { 'Content-Type': 'application/json', ...(sig ? { 'X-Parallax-Signature': sig } : {}), ...headers }, body });
		const body = JSON.stringify({ order: 42 });
		const good = 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
		const res = await fire(body, good);
		assert.equal(res.status, 202, res.text);
		const t0 = Date.now();
		let x;
		do {
			x = expectStatus(await api(ctx, 'GET', `/api/v1/executions/${res.json.id}`, ctx.dev.token), 200, 'get');
			await sleep(50);
		} while (!['succeeded', 'failed'].includes(x.status) && Date.now() - t0 < 10000);
		assert.equal(x.status, 'succeeded');
		assert.deepEqual(x.result.value, { order: 42 });
		for (const [b, s] of [[body, 'sha256=' + '0'.repeat(64)], [body, null], [JSON.stringify({ order: 43 }), good], [body, good.toUpperCase()]]) {
			const bad = await fire(b, s);
			assert.equal(bad.status, 403, `${s}: ${bad.text}`);
			assert.equal(bad.json.error.code, 'bad_signature');
		}
		assert.equal((await request(ctx.server, 'POST', '/api/v1/hooks/nope', { headers: { 'X-Parallax-Signature': good }, body })).status, 403);
		const notJson = 'not json';
		const sigNj = 'sha256=' + createHmac('sha256', secret).update(notJson).digest('hex');
		assert.equal((await fire(notJson, sigNj)).status, 400);
		assert.equal((await api(ctx, 'DELETE', `/api/v1/triggers/${t.id}`, ctx.dev.token)).status, 204);
		assert.equal((await fire(body, good)).status, 403, 'a deleted trigger no longer fires');
	});
});
