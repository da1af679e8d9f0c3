// ws agents over the real WebSocket: a real agent process dials /api/v1/agents/connect with
// its connect token, announces capabilities, and answers the tasks of pattern runs; timeouts
// send a cancel, a dropped connection fails the task at once, bad tokens never connect, and
// health follows the connection. Runs once per backend.
import test, { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { api, createPattern, expectStatus, liveServer, onePattern, runPattern, sleep, step, uniq } from './helpers/live.mjs';

const agentScript = path.join(path.dirname(fileURLToPath(import.meta.url)), '../agents/ws-agent.mjs');
const procs = new Set();

// Starts ws-agent.mjs; resolves {proc, events, waitFor(pred), stop()}.
function startWsAgent(ctx, token, opts = {}) {
	const proc = spawn(process.execPath, [agentScript, ctx.server.url, token, JSON.stringify(opts)], { stdio: ['pipe', 'pipe', 'inherit'] });
	procs.add(proc);
	const events = [];
	const waiters = [];
	let buf = '';
	proc.stdout.setEncoding('utf8').on('data', (d) => {
		buf += d;
		let i;
		while ((i = buf.indexOf('\n')) >= 0) {
			const ev = JSON.parse(buf.slice(0, i));
			buf = buf.slice(i + 1);
			events.push(ev);
			for (const w of [...waiters]) if (w.pred(ev)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(ev); }
		}
	});
	const waitFor = (pred, ms = 10000) => {
		const hit = events.find(pred);
		if (hit) return Promise.resolve(hit);
		return new Promise((resolve, reject) => {
			const w = { pred, resolve };
			waiters.push(w);
			setTimeout(() => reject(new Error(`ws agent: no matching event in ${ms} ms: ${JSON.stringify(events)}`)), ms);
		});
	};
	const stop = () => new Promise((resolve) => {
		if (proc.exitCode !== null) return resolve();
		proc.on('exit', resolve);
		proc.kill('SIGTERM');
		procs.delete(proc);
	});
	return { proc, events, waitFor, stop };
}

async function createWsAgent(ctx, extra = {}) {
	const body = { name: uniq('ws'), kind: 'ws', capabilities: ['live'], config: {}, ...extra };
	const a = expectStatus(await api(ctx, 'POST', '/api/v1/agents', ctx.dev.token, body), 201, 'create ws agent');
	assert.match(a.connect_token, /\S{20,}/, 'a ws agent gets a connect token once');
	return a;
}

async function health(ctx, agent) {
	return expectStatus(await api(ctx, 'GET', `/api/v1/agents/${agent.id}/health`, ctx.viewer.token), 200, 'health');
}

async function waitHealth(ctx, agent, status) {
	const t0 = Date.now();
	for (;;) {
		const h = await health(ctx, agent);
		if (h.status === status) return h;
		if (Date.now() - t0 > 5000) assert.fail(`health never became ${status}: ${JSON.stringify(h)}`);
		await sleep(50);
	}
}

describe('ws agents', () => {
	let ctx;
	before(async () => {
		ctx = await liveServer();
	});
	after(async () => {
		for (const p of procs) p.kill('SIGKILL');
		await ctx?.stop();
	});

	test('a connected agent answers a run, and its hello capabilities are used for selection', async () => {
		const agent = await createWsAgent(ctx, { capabilities: ['before'] });
		assert.equal((await health(ctx, agent)).connected, false, 'not connected before the process dials');
		const w = startWsAgent(ctx, agent.connect_token, { capabilities: ['ws-cap', 'summarise'], confidence: 0.73 });
		const welcome = await w.waitFor((e) => e.event === 'welcome');
		assert.equal(welcome.agent_id, agent.id);
		assert.equal(welcome.heartbeat_ms, 10000);
		const h = await waitHealth(ctx, agent, 'healthy');
		assert.equal(h.connected, true);
		// hello replaced the stored capabilities
		const got = expectStatus(await api(ctx, 'GET', `/api/v1/agents/${agent.id}`, ctx.dev.token), 200, 'get agent');
		assert.deepEqual(got.capabilities, ['ws-cap', 'summarise']);

		const def = onePattern(uniq('wsp'), agent.name);
		def.nodes[1].select = { capabilities: ['ws-cap'] };
		const pattern = await createPattern(ctx, def);
		const { run } = await runPattern(ctx, pattern, { payload: { n: 42 } });
		assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
		const res = step(run, 'ask').output[0];
		assert.equal(res.agent, agent.name);
		assert.deepEqual(res.value, { echo: { n: 42 }, task: 'Summarise the payload' });
		assert.equal(res.confidence, 0.73);
		assert.equal(run.result.confidence, 0.73);
		assert.deepEqual(run.usage, { input_tokens: 5, output_tokens: 3 });
		const task = await w.waitFor((e) => e.event === 'task');
		assert.equal(task.execution_id, run.id);
		assert.equal(task.node_id, 'ask');
		assert.equal(task.deadline_ms, 30000);
		await w.stop();
		await waitHealth(ctx, agent, 'unhealthy');
	});

	test('a silent agent times out, and the server sends it a cancel for that task', async () => {
		const agent = await createWsAgent(ctx);
		const w = startWsAgent(ctx, agent.connect_token, { silent: true });
		await w.waitFor((e) => e.event === 'welcome');
		await waitHealth(ctx, agent, 'healthy');
		const pattern = await createPattern(ctx, onePattern(uniq('wst'), agent.name, { timeout_ms: 400 }));
		const { run, ms } = await runPattern(ctx, pattern, { payload: 1 });
		assert.equal(run.status, 'failed');
		assert.match(step(run, 'ask').error, /timed out after 400 ms/);
		assert.ok(ms < 5000, `the run ends soon after the node timeout (${ms} ms)`);
		const task = await w.waitFor((e) => e.event === 'task');
		const cancel = await w.waitFor((e) => e.event === 'cancel');
		assert.equal(cancel.task_id, task.task_id, 'the cancel names the task that timed out');
		await w.stop();
	});

	test('an agent that drops the connection fails its task at once, not at the timeout', async () => {
		const agent = await createWsAgent(ctx);
		const w = startWsAgent(ctx, agent.connect_token, { silent: true });
		await w.waitFor((e) => e.event === 'welcome');
		await waitHealth(ctx, agent, 'healthy');
		const pattern = await createPattern(ctx, onePattern(uniq('wsd'), agent.name, { timeout_ms: 20000 }));
		const pending = runPattern(ctx, pattern, { payload: 1 });
		await w.waitFor((e) => e.event === 'task');
		const t0 = Date.now();
		await w.stop();
		const { run } = await pending;
		assert.equal(run.status, 'failed');
		assert.match(step(run, 'ask').error, /connection was lost/);
		assert.ok(Date.now() - t0 < 5000, 'failed when the connection closed');
	});

	test('a disconnected agent fails fast with a clear reason; a reported error is the step error', async () => {
		const agent = await createWsAgent(ctx);
		const pattern = await createPattern(ctx, onePattern(uniq('wsn'), agent.name));
		const { run, ms } = await runPattern(ctx, pattern, { payload: 1 });
		assert.equal(run.status, 'failed');
		assert.match(step(run, 'ask').error, /is not connected/);
		assert.ok(ms < 3000);

		const w = startWsAgent(ctx, agent.connect_token, { fail: true });
		await w.waitFor((e) => e.event === 'welcome');
		await waitHealth(ctx, agent, 'healthy');
		const second = (await runPattern(ctx, pattern, { payload: 1 })).run;
		assert.equal(second.status, 'failed');
		assert.match(step(second, 'ask').error, /reported: the model is overloaded/);
		await w.stop();
	});

	test('wrong, missing or another kind of token never connects', async () => {
		const agent = await createWsAgent(ctx);
		for (const token of ['plx_connect_nope', agent.connect_token.slice(0, -2) + 'xx', ctx.dev.token]) {
			const w = startWsAgent(ctx, token);
			const ev = await w.waitFor((e) => e.event === 'refused' || e.event === 'closed' || e.event === 'welcome');
			assert.notEqual(ev.event, 'welcome', `token ${token.slice(0, 12)}… must not connect`);
			await w.stop();
		}
		assert.equal((await health(ctx, agent)).connected, false);
		// the server still serves
		expectStatus(await api(ctx, 'GET', '/health/live', ctx.dev.token), 200, 'live');
	});

	test('a malformed frame closes the connection with an error; results for unknown tasks are refused', async () => {
		const agent = await createWsAgent(ctx);
		const { default: WebSocket } = await import('ws');
		const url = `${ctx.server.url.replace(/^http/, 'ws')}/api/v1/agents/connect`;
		const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${agent.connect_token}` } });
		const msgs = [];
		const closed = new Promise((resolve) => ws.on('close', resolve));
		ws.on('message', (b) => msgs.push(JSON.parse(b.toString())));
		await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
		ws.send(JSON.stringify({ type: 'result', task_id: 'no-such-task', value: 1 }));
		await sleep(200);
		assert.ok(msgs.some((m) => m.type === 'error' && /no such task/.test(m.message)), JSON.stringify(msgs));
		ws.send('{not json');
		await closed;
		assert.ok(msgs.some((m) => m.type === 'error' && /JSON object/.test(m.message)), JSON.stringify(msgs));
	});
});
