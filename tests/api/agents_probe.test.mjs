// The background health prober: http agents are probed every --health-interval-ms and their
// status follows the answers (healthy, unhealthy, healthy again), for an agent that dies and
// comes back on the same port. Runs once per backend.
import test, { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { api, createAgent, liveServer, sleep } from './helpers/live.mjs';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '../agents/http-agent.mjs');

function startAgent(port = 0) {
	return new Promise((resolve, reject) => {
		const proc = spawn(process.execPath, [script, '--port', String(port), '--exit-with-stdin'], { stdio: ['pipe', 'pipe', 'inherit'] });
		proc.stdout.setEncoding('utf8').once('data', (d) => {
			const m = /listening (\d+)/.exec(d);
			if (m) resolve({ proc, port: Number(m[1]) });
			else reject(new Error(`http agent said ${d}`));
		});
		proc.on('error', reject);
	});
}

async function statusOf(ctx, agent) {
	const res = await api(ctx, 'GET', `/api/v1/agents/${agent.id}`, ctx.dev.token);
	assert.equal(res.status, 200);
	return res.json.status;
}

async function waitStatus(ctx, agent, want) {
	const t0 = Date.now();
	let last;
	while (Date.now() - t0 < 8000) {
		last = await statusOf(ctx, agent);
		if (last === want) return;
		await sleep(100);
	}
	assert.fail(`agent status stayed ${last}, expected ${want}`);
}

describe('health prober', () => {
	let ctx, agentProc;
	before(async () => {
		ctx = await liveServer({ args: ['--agent-allow', '127.0.0.1/32', '--health-interval-ms', '300'] });
	});
	after(async () => {
		agentProc?.kill('SIGKILL');
		await ctx?.stop();
	});

	test('status follows the probes: unknown, healthy, unhealthy when it dies, healthy when back', async () => {
		let a = await startAgent();
		agentProc = a.proc;
		const port = a.port;
		const agent = await createAgent(ctx, { kind: 'http', config: { url: `http://127.0.0.1:${port}/ok/0.9` } });
		assert.equal(agent.status, 'unknown', 'a new agent has not been probed');
		await waitStatus(ctx, agent, 'healthy');
		agentProc.kill('SIGKILL');
		await waitStatus(ctx, agent, 'unhealthy');
		a = await startAgent(port);
		agentProc = a.proc;
		await waitStatus(ctx, agent, 'healthy');
	});

	test('an agent on a refused address is unhealthy, and probes never reach it', async () => {
		const agent = await createAgent(ctx, { kind: 'http', config: { url: 'http://127.0.0.2:9/x' } });
		await waitStatus(ctx, agent, 'unhealthy');
		const h = await api(ctx, 'GET', `/api/v1/agents/${agent.id}/health`, ctx.viewer.token);
		assert.equal(h.status, 200);
		assert.equal(h.json.probe.ok, false);
		assert.match(h.json.probe.error, /127\.0\.0\.2|not allowed|agent-allow/);
	});
});
