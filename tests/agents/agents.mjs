// Starts the test agents (http-agent.mjs, openai-agent.mjs) as separate processes and talks
// to their control endpoints. Node's stdlib only.
//
//   const a = await startHttpAgent();     // or startOpenAIAgent()
//   a.url                                 // http://127.0.0.1:<port>
//   await a.requests({path})              // what the agent received (optionally one path)
//   await a.clearRequests()
//   await a.control('name', {fail: true, times: 2})   // http agent: a flaky switch
//   await a.stop()
//
// A process left running when the test process exits is killed; each agent also exits when
// its stdin closes, so a crashed runner leaves nothing behind.
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

// What the agents report as token usage (see the agent scripts).
export const HTTP_USAGE = { input_tokens: 11, output_tokens: 7 };
export const OPENAI_USAGE = { prompt_tokens: 21, completion_tokens: 13, total_tokens: 34 };

const live = new Set();
process.on('exit', () => {
	for (const p of live) p.kill('SIGKILL');
});

function jsonRequest(port, method, p, body) {
	return new Promise((resolve, reject) => {
		const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
		const req = http.request(
			{
				host: '127.0.0.1',
				port,
				method,
				path: p,
				agent: false,
				headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {},
			},
			(res) => {
				const chunks = [];
				res.on('data', (c) => chunks.push(c));
				res.on('end', () => {
					const text = Buffer.concat(chunks).toString('utf8');
					try {
						resolve({ status: res.statusCode, headers: res.headers, text, json: JSON.parse(text) });
					} catch {
						resolve({ status: res.statusCode, headers: res.headers, text, json: undefined });
					}
				});
				res.on('error', reject);
			},
		);
		req.setTimeout(10000, () => req.destroy(new Error(`${method} ${p}: agent did not answer within 10 s`)));
		req.on('error', reject);
		if (data) req.write(data);
		req.end();
	});
}

async function startAgent(script, { timeoutMs = 10000 } = {}) {
	const proc = spawn(process.execPath, [path.join(here, script), '--exit-with-stdin'], { stdio: ['pipe', 'pipe', 'pipe'] });
	live.add(proc);
	let stdout = '';
	let stderr = '';
	const closed = new Promise((resolve) => {
		proc.on('close', (code, signal) => {
			live.delete(proc);
			resolve({ code, signal });
		});
	});
	proc.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
	const port = await new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`${script} printed no "listening" line within ${timeoutMs} ms\n${stderr}`)), timeoutMs);
		proc.stdout.setEncoding('utf8').on('data', (d) => {
			stdout += d;
			const m = /listening (\d+)/.exec(stdout);
			if (m) {
				clearTimeout(timer);
				resolve(Number(m[1]));
			}
		});
		proc.on('error', (e) => {
			clearTimeout(timer);
			reject(e);
		});
		closed.then(({ code, signal }) => {
			clearTimeout(timer);
			reject(new Error(`${script} exited (code ${code}, signal ${signal}) before listening\n${stderr}`));
		});
	});

	let stopped = false;
	const agent = {
		port,
		url: `http://127.0.0.1:${port}`,
		proc,
		stderr: () => stderr,
		// Every request received (oldest first), or those whose path is `path`.
		async requests(filter = {}) {
			const r = await jsonRequest(port, 'GET', '/requests');
			if (r.status !== 200) throw new Error(`GET /requests: ${r.status} ${r.text}`);
			return filter.path === undefined ? r.json : r.json.filter((x) => x.path === filter.path);
		},
		async clearRequests() {
			const r = await jsonRequest(port, 'DELETE', '/requests');
			if (r.status !== 200) throw new Error(`DELETE /requests: ${r.status} ${r.text}`);
		},
		async control(name, body) {
			const r = await jsonRequest(port, 'POST', `/control/${encodeURIComponent(name)}`, body);
			if (r.status !== 200) throw new Error(`POST /control/${name}: ${r.status} ${r.text}`);
			return r.json;
		},
		request: (method, p, body) => jsonRequest(port, method, p, body),
		async stop() {
			if (stopped) return closed;
			stopped = true;
			proc.kill('SIGTERM');
			const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
			const r = await closed;
			clearTimeout(timer);
			return r;
		},
	};
	return agent;
}

export const startHttpAgent = (opts) => startAgent('http-agent.mjs', opts);
export const startOpenAIAgent = (opts) => startAgent('openai-agent.mjs', opts);
