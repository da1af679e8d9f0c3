#!/usr/bin/env node
// A test server speaking the OpenAI chat-completions API, run as a separate process by the
// API tests: `node openai-agent.mjs [--port N]` listens on 127.0.0.1 (port 0: any free port)
// and prints `listening <port>` on stdout. Node's stdlib only. It exits on SIGTERM/SIGINT and,
// with --exit-with-stdin, when its stdin closes.
//
// An agent's base_url picks the behaviour with the path before `/v1`:
//   /json/<c>/v1      content is JSON {"answer": "forty-two", "confidence": c}
//   /marker/<c>/v1    text with an early decoy "CONFIDENCE: 0.10", ANSI codes, and a last
//                     marker "CONFIDENCE: <c>" with an ANSI code between label and number
//   /none/v1          text without any marker
//   /text/v1          the marker text, for agents in JSON mode (content that is not JSON)
//   /slow/<ms>/v1     the /none reply after <ms> milliseconds
//   /fail/v1          500 with an OpenAI-style error (also for /models)
//   /malformed/v1     200 with a body that is not JSON
//   /nochoices/v1     200 with "choices": []
// Endpoints under every base: POST <base>/chat/completions, GET <base>/models. Every
// completion carries usage {prompt_tokens: 21, completion_tokens: 13, total_tokens: 34}.
//
// Control (never recorded): GET /requests (every recorded request, oldest first:
// [{seq, at, method, path, headers, body, json}]), DELETE /requests (clears them).
import http from 'node:http';

// Kept in step with OPENAI_USAGE in agents.mjs.
const USAGE = { prompt_tokens: 21, completion_tokens: 13, total_tokens: 34 };
const BODY_MAX = 2 * 1024 * 1024;
const ESC = '\u001b';

const requests = [];
let seq = 0;

function send(res, status, body, headers = {}) {
	const text = typeof body === 'string' ? body : JSON.stringify(body);
	res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
	res.end(text);
}

function markerText(c) {
	return (
		`${ESC}[1mAnalysis${ESC}[0m: the answer is forty-two.\n` +
		'A first draft said CONFIDENCE: 0.10 but that was before checking.\n' +
		`${ESC}[32mCONFIDENCE:${ESC}[0m ${c}\n`
	);
}

function completion(model, content) {
	return {
		id: `chatcmpl-test-${seq}`,
		object: 'chat.completion',
		created: Math.floor(Date.now() / 1000),
		model,
		choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
		usage: USAGE,
	};
}

const NONE_TEXT = 'The answer is forty-two. I did not say how sure I am.';

function chat(req, res, behaviour, args, json) {
	const model = json?.model ?? 'unknown';
	switch (behaviour) {
		case 'json':
			return send(res, 200, completion(model, JSON.stringify({ answer: 'forty-two', confidence: Number(args[0] ?? 0.5) })));
		case 'marker':
			return send(res, 200, completion(model, markerText(args[0] ?? '0.5')));
		case 'none':
			return send(res, 200, completion(model, NONE_TEXT));
		case 'text':
			return send(res, 200, completion(model, markerText('0.5')));
		case 'slow': {
			const timer = setTimeout(() => {
				if (!res.destroyed) send(res, 200, completion(model, NONE_TEXT));
			}, Number(args[0] ?? 1000));
			res.on('close', () => clearTimeout(timer));
			return undefined;
		}
		case 'fail':
			return send(res, 500, { error: { message: 'The server had an error processing your request.', type: 'server_error' } });
		case 'malformed':
			return send(res, 200, '{"id": "chatcmpl-x", "choices": [ this is not JSON');
		case 'nochoices':
			return send(res, 200, { ...completion(model, ''), choices: [] });
		default:
			return send(res, 404, { error: { message: `no behaviour ${behaviour}`, type: 'invalid_request_error' } });
	}
}

function route(req, res, body) {
	const url = new URL(req.url, 'http://agent.local');
	const segs = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
	if (segs.length === 1 && segs[0] === 'requests') {
		if (req.method === 'GET') return send(res, 200, requests);
		if (req.method === 'DELETE') {
			requests.length = 0;
			return send(res, 200, { cleared: true });
		}
		return send(res, 405, { error: { message: 'GET or DELETE' } });
	}

	const text = body.toString('utf8');
	let json = null;
	try {
		json = text ? JSON.parse(text) : null;
	} catch {
		json = null;
	}
	requests.push({ seq: ++seq, at: Date.now(), method: req.method, path: url.pathname, query: url.search, headers: req.headers, body: text, json });

	const v1 = segs.indexOf('v1');
	if (v1 < 1) return send(res, 404, { error: { message: 'expected /<behaviour>/.../v1/...' } });
	const [behaviour, ...args] = segs.slice(0, v1);
	const endpoint = segs.slice(v1 + 1).join('/');
	if (endpoint === 'models') {
		if (req.method !== 'GET') return send(res, 405, { error: { message: 'models is GET' } });
		if (behaviour === 'fail') return send(res, 500, { error: { message: 'models unavailable', type: 'server_error' } });
		return send(res, 200, { object: 'list', data: [{ id: 'test-model', object: 'model', owned_by: 'parallax-tests' }] });
	}
	if (endpoint === 'chat/completions') {
		if (req.method !== 'POST') return send(res, 405, { error: { message: 'chat/completions is POST' } });
		if (!json || !Array.isArray(json.messages)) {
			return send(res, 400, { error: { message: 'messages is required', type: 'invalid_request_error' } });
		}
		return chat(req, res, behaviour, args, json);
	}
	return send(res, 404, { error: { message: `unknown endpoint ${endpoint}` } });
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

const i = process.argv.indexOf('--port');
server.listen(i >= 0 ? Number(process.argv[i + 1]) : 0, '127.0.0.1', () => {
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
