#!/usr/bin/env node
// A test agent speaking Parallax's http agent protocol (docs/engine.md, "Agent protocols"),
// run as a separate process by the API tests: `node http-agent.mjs [--port N]` listens on
// 127.0.0.1 (port 0: any free port) and prints `listening <port>` on stdout. Node's stdlib
// only. It exits on SIGTERM/SIGINT and, with --exit-with-stdin, when its stdin closes (the
// test runner went away).
//
// One process serves many agents: the behaviour is chosen by the URL path. An agent's url
// is used verbatim for the call, `<url>/analyze` in compat mode and `<url>/health` for the
// probe, so behaviours are path segments (a trailing /analyze or /health is split off):
//
//   POST /ok[/<c>]          200 {value: {task, data}, confidence: c (absent if not given),
//                           reasoning, usage: {input_tokens: 11, output_tokens: 7}}
//   POST /legacy[/<c>]      200 {result: {task, data}, confidence: c} (original Parallax reply)
//   POST /slow/<ms>[/<c>]   as /ok, after <ms> milliseconds
//   POST /fail[/<status>]   <status> (default 500) with a JSON error body
//   POST /malformed         200, Content-Type application/json, a body that is not JSON
//   POST /notobject         200 with a JSON array
//   POST /big[/<bytes>]     200 with a valid JSON object of <bytes> (default 5 MiB)
//   POST /nan               200 with confidence "NaN" (a string)
//   POST /range/<number>    200 with confidence <number> (e.g. 7.5 or -2: out of range)
//   POST /redirect          302 to /ok/0.9 on this server
//   POST /flaky/<name>[/<c>] 500 while switch <name> says fail, else as /ok (after the
//                           switch's delay_ms, if it has one)
//   GET  <any path>/health  200 {status: "ok"}; 503 for /flaky/<name>/health while <name>
//                           says fail
//
// Control (never recorded):
//   POST   /control/<name>  {"fail": true|false, "times"?: n, "delay_ms"?: ms} sets switch
//                           <name>; with times, it fails the next n calls only, then
//                           succeeds; delay_ms delays its successful replies
//   GET    /control/<name>  the switch
//   GET    /requests        every recorded request, oldest first:
//                           [{seq, at (ms since epoch), method, path, headers, body, json}]
//   DELETE /requests        clears the record
import http from 'node:http';

// Kept in step with HTTP_USAGE in agents.mjs.
const USAGE = { input_tokens: 11, output_tokens: 7 };
const BODY_MAX = 2 * 1024 * 1024;

function parsePort(argv) {
	const i = argv.indexOf('--port');
	return i >= 0 ? Number(argv[i + 1]) : 0;
}

const switches = new Map(); // name -> {fail, times}
const requests = [];
let seq = 0;

function send(res, status, body, headers = {}) {
	const text = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
	res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
	res.end(text);
}

// A number segment, or undefined (absent or not a number).
function num(seg) {
	if (seg === undefined || seg === '') return undefined;
	const n = Number(seg);
	return Number.isFinite(n) ? n : undefined;
}

function okReply(req, c, extra = {}) {
	const j = req.json && typeof req.json === 'object' ? req.json : {};
	const reply = { value: { task: j.task ?? null, data: j.data ?? null } };
	if (c !== undefined) reply.confidence = c;
	reply.reasoning = 'echoed the task and data';
	reply.usage = USAGE;
	return { ...reply, ...extra };
}

// The switch <name> for one call: true if this call fails (consuming one of `times`).
function flakyFails(name, consume) {
	const s = switches.get(name);
	if (!s || !s.fail) return false;
	if (consume && s.times !== undefined) {
		s.times -= 1;
		if (s.times <= 0) switches.set(name, { fail: false, ...(s.delay_ms ? { delay_ms: s.delay_ms } : {}) });
	}
	return true;
}

function handleHealth(res, segs) {
	if (segs[0] === 'flaky' && flakyFails(segs[1], false)) {
		return send(res, 503, { status: 'unavailable', error: `switch ${segs[1]} says fail` });
	}
	return send(res, 200, { status: 'ok' });
}

// compat (a call to <url>/analyze) answers with the same shapes: the behaviours apply alike.
function handleCall(req, res, segs) {
	const [kind, a, b] = segs;
	switch (kind) {
		case 'ok':
			return send(res, 200, okReply(req, num(a)));
		case 'legacy': {
			const r = okReply(req, num(a));
			const out = { result: r.value, reasoning: r.reasoning };
			if (r.confidence !== undefined) out.confidence = r.confidence;
			return send(res, 200, out);
		}
		case 'slow': {
			const ms = num(a) ?? 1000;
			const timer = setTimeout(() => {
				if (!res.destroyed) send(res, 200, okReply(req, num(b)));
			}, ms);
			res.on('close', () => clearTimeout(timer));
			return undefined;
		}
		case 'fail': {
			const status = num(a) ?? 500;
			return send(res, status, { error: { message: `agent failure ${status} on purpose` } });
		}
		case 'malformed':
			return send(res, 200, '{"value": {"answer": 42}, "confidence": 0.9, oops this is not JSON');
		case 'notobject':
			return send(res, 200, [1, 2, 3]);
		case 'big': {
			const size = num(a) ?? 5 * 1024 * 1024;
			const head = '{"value":"';
			const tail = '","confidence":0.9}';
			const fill = Math.max(0, size - head.length - tail.length);
			return send(res, 200, Buffer.concat([Buffer.from(head), Buffer.alloc(fill, 'x'), Buffer.from(tail)]));
		}
		case 'nan':
			return send(res, 200, okReply(req, 'NaN'));
		case 'range':
			return send(res, 200, okReply(req, num(a) ?? 7.5));
		case 'redirect': {
			const host = req.headers.host || '127.0.0.1';
			return send(res, 302, { moved: true }, { Location: `http://${host}/ok/0.9` });
		}
		case 'flaky': {
			if (flakyFails(a, true)) return send(res, 500, { error: { message: `switch ${a} says fail` } });
			const delay = switches.get(a)?.delay_ms;
			if (!delay) return send(res, 200, okReply(req, num(b)));
			const timer = setTimeout(() => {
				if (!res.destroyed) send(res, 200, okReply(req, num(b)));
			}, delay);
			res.on('close', () => clearTimeout(timer));
			return undefined;
		}
		default:
			return send(res, 404, { error: { message: `no behaviour ${kind}` } });
	}
}

function route(req, res, body) {
	const url = new URL(req.url, 'http://agent.local');
	const segs = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);

	if (segs[0] === 'requests' && segs.length === 1) {
		if (req.method === 'GET') return send(res, 200, requests);
		if (req.method === 'DELETE') {
			requests.length = 0;
			return send(res, 200, { cleared: true });
		}
		return send(res, 405, { error: { message: 'GET or DELETE' } });
	}
	if (segs[0] === 'control' && segs.length === 2) {
		if (req.method === 'GET') return send(res, 200, switches.get(segs[1]) || { fail: false });
		let j;
		try {
			j = JSON.parse(body.toString('utf8'));
		} catch {
			return send(res, 400, { error: { message: 'control body must be JSON' } });
		}
		const s = { fail: !!j.fail };
		if (j.times !== undefined) s.times = Number(j.times);
		if (j.delay_ms !== undefined) s.delay_ms = Number(j.delay_ms);
		switches.set(segs[1], s);
		return send(res, 200, s);
	}

	const text = body.toString('utf8');
	let json = null;
	try {
		json = text ? JSON.parse(text) : null;
	} catch {
		json = null;
	}
	const rec = { seq: ++seq, at: Date.now(), method: req.method, path: url.pathname, query: url.search, headers: req.headers, body: text, json };
	requests.push(rec);

	const last = segs[segs.length - 1];
	if (last === 'health' && segs.length >= 1) {
		if (req.method !== 'GET') return send(res, 405, { error: { message: 'health is GET' } });
		return handleHealth(res, segs.slice(0, -1));
	}
	if (req.method !== 'POST') return send(res, 405, { error: { message: 'agent calls are POST' } });
	return handleCall({ headers: req.headers, json }, res, last === 'analyze' ? segs.slice(0, -1) : segs);
}

const server = http.createServer((req, res) => {
	const chunks = [];
	let size = 0;
	req.on('data', (c) => {
		size += c.length;
		if (size > BODY_MAX) {
			send(res, 413, { error: { message: 'request too large' } });
			req.destroy();
			return;
		}
		chunks.push(c);
	});
	req.on('end', () => {
		try {
			route(req, res, Buffer.concat(chunks));
		} catch (e) {
			if (!res.headersSent) send(res, 500, { error: { message: `agent bug: ${e.message}` } });
		}
	});
});
server.keepAliveTimeout = 1000;

server.listen(parsePort(process.argv), '127.0.0.1', () => {
	process.stdout.write(`listening ${server.address().port}\n`);
});

const quit = () => {
	server.closeAllConnections?.();
	server.close(() => process.exit(0));
	setTimeout(() => process.exit(0), 500).unref();
};
process.on('SIGTERM', quit);
process.on('SIGINT', quit);
if (process.argv.includes('--exit-with-stdin')) {
	process.stdin.on('end', quit).on('close', quit).resume();
}
