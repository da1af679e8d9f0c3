#!/usr/bin/env node
// A slow http agent for tests/bench/engine: every POST is answered after --delay ms (default
// 1000) with {"value": "ok", "confidence": 0.9}; GET <any>/health answers at once. Listens on
// 127.0.0.1 (port 0: any free port) with a listen backlog of 4096, so a burst of 1,000+
// connects is not dropped by a full accept queue (Node's default backlog, 511, loses SYNs and
// the kernel retries them a second later, which would be charged to the engine). Prints
// `listening <port>`; on SIGTERM/SIGINT prints `requests <n> peak_concurrent <m>
// arrival_spread_ms <ms>` (first to last POST received) and exits.
// Node's stdlib only.
//
//   node tests/bench/slow-agent.mjs [--port 0] [--delay 1000]
import http from 'node:http';

function arg(name, def) {
	const i = process.argv.indexOf(name);
	return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const DELAY = arg('--delay', 1000);
const REPLY = JSON.stringify({ value: 'ok', confidence: 0.9 });
let total = 0;
let open = 0;
let peak = 0;
let first = 0; // ms of the first and last POST's arrival (headers read)
let last = 0;

const server = http.createServer((req, res) => {
	if (req.method === 'GET' && req.url.endsWith('/health')) {
		res.writeHead(200, { 'Content-Type': 'application/json' });
		res.end('{"status":"ok"}');
		return;
	}
	const now = performance.now();
	if (!total) first = now;
	last = now;
	total += 1;
	open += 1;
	peak = Math.max(peak, open);
	let finished = false;
	const finish = () => {
		if (!finished) {
			finished = true;
			open -= 1;
		}
	};
	req.resume(); // the body is not needed
	const timer = setTimeout(() => {
		finish();
		if (res.destroyed) return;
		res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(REPLY) });
		res.end(REPLY);
	}, DELAY);
	res.on('close', () => {
		clearTimeout(timer);
		finish();
	});
});
server.keepAliveTimeout = 5000;
server.headersTimeout = 10000;
server.requestTimeout = 0;

server.listen({ port: arg('--port', 0), host: '127.0.0.1', backlog: 4096 }, () => {
	process.stdout.write(`listening ${server.address().port}\n`);
});

const quit = () => {
	const spread = Math.round(last - first);
	process.stdout.write(`requests ${total} peak_concurrent ${peak} arrival_spread_ms ${spread}\n`);
	server.closeAllConnections();
	server.close(() => process.exit(0));
	setTimeout(() => process.exit(0), 500).unref();
};
process.on('SIGTERM', quit);
process.on('SIGINT', quit);
