// Foundation: health, metrics, OpenAPI, the error contract and request limits, security
// headers, request ids, first-run set-up, configuration errors, migrations and shutdown.
// Runs against the real binary once per backend (PARALLAX_TEST_DB=sqlite|postgres).
import test, { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import {
	backend,
	createDatabase,
	get,
	post,
	rawHead,
	rawRequest,
	request,
	runParallax,
	setupOwner,
	startServer,
	strongPassword,
	tmpDir,
	waitLive,
	assertNoSanitizerReport,
} from './helpers/server.mjs';

const MiB = 1024 * 1024;

// ---- shared assertions ------------------------------------------------------------------

function assertJsonError(res, status, code, what = '') {
	const ctx = `${what} -> ${res.status} ${res.headers['content-type']} ${res.text.slice(0, 300)}`;
	assert.equal(res.status, status, `status; ${ctx}`);
	assert.match(res.headers['content-type'] || '', /^application\/json\b/i, `content-type; ${ctx}`);
	assert.ok(res.json && typeof res.json.error === 'object', `body is {error:{...}}; ${ctx}`);
	assert.equal(typeof res.json.error.message, 'string', `error.message; ${ctx}`);
	assert.ok(res.json.error.message.length > 0, `error.message not empty; ${ctx}`);
	if (code) assert.equal(res.json.error.code, code, `error.code; ${ctx}`);
	else assert.match(String(res.json.error.code), /^[a-z][a-z0-9_]*$/, `error.code is a slug; ${ctx}`);
	return res.json.error;
}

// The CSP source list that governs scripts: script-src, else default-src.
function cspDirectives(csp) {
	const d = {};
	for (const part of csp.split(';')) {
		const [name, ...values] = part.trim().split(/\s+/);
		if (name) d[name.toLowerCase()] = values;
	}
	return d;
}

function assertSecurityHeaders(res, what = '') {
	const h = res.headers;
	const ctx = `${what} (status ${res.status})`;
	const csp = h['content-security-policy'];
	assert.ok(csp, `Content-Security-Policy missing on ${ctx}`);
	const d = cspDirectives(csp);
	const scripts = d['script-src'] || d['default-src'];
	assert.ok(scripts, `CSP has neither script-src nor default-src on ${ctx}: ${csp}`);
	assert.ok(!scripts.includes("'unsafe-inline'"), `CSP allows inline script on ${ctx}: ${csp}`);
	assert.equal((h['x-content-type-options'] || '').toLowerCase(), 'nosniff', `nosniff on ${ctx}`);
	assert.ok(h['referrer-policy'], `Referrer-Policy missing on ${ctx}`);
	assert.notEqual(h['referrer-policy'].toLowerCase(), 'unsafe-url', `Referrer-Policy unsafe-url on ${ctx}`);
	const xfo = (h['x-frame-options'] || '').toUpperCase() === 'DENY';
	const fa = (d['frame-ancestors'] || []).join(' ') === "'none'";
	assert.ok(xfo || fa, `neither X-Frame-Options: DENY nor frame-ancestors 'none' on ${ctx}`);
	assert.ok(h['x-request-id'], `X-Request-Id missing on ${ctx}`);
}

function nested(open, close, depth, leaf = '') {
	return open.repeat(depth) + leaf + close.repeat(depth);
}

// Sum of the samples of `name` whose labels include every pair in `labels`.
function metricSum(text, name, labels) {
	let sum = 0;
	let found = false;
	for (const line of text.split('\n')) {
		if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
		const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
		if (!m || m[1] !== name) continue;
		const have = {};
		for (const l of (m[2] || '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) have[l[1]] = l[2];
		if (Object.entries(labels).every(([k, v]) => (v instanceof RegExp ? v.test(have[k] ?? '') : have[k] === v))) {
			sum += Number(m[3]);
			found = true;
		}
	}
	return found ? sum : null;
}

async function freePort() {
	return new Promise((resolve, reject) => {
		const s = net.createServer();
		s.on('error', reject);
		s.listen(0, '127.0.0.1', () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
	});
}

// Bad configuration: non-zero exit, exactly one line on stderr that names the key.
function assertOneLineError(r, keyRe, what) {
	const ctx = `${what}: code ${r.code}, stderr:\n${r.stderr}`;
	assertNoSanitizerReport(r.stderr, what);
	assert.notEqual(r.code, 0, `expected a non-zero exit; ${ctx}`);
	assert.equal(r.signal, null, `killed by a signal; ${ctx}`);
	const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
	assert.equal(lines.length, 1, `expected exactly one line on stderr; ${ctx}`);
	assert.match(lines[0], keyRe, `the line should name the key; ${ctx}`);
}

// ---- HTTP basics ------------------------------------------------------------------------

describe(`HTTP basics [${backend}]`, () => {
	let server;
	before(async () => {
		server = await startServer();
	});
	after(async () => {
		await server?.stop().catch(() => {});
	});

	test('GET /health/live answers 200 {"status":"ok"}', async () => {
		const r = await get(server, '/health/live');
		assert.equal(r.status, 200);
		assert.match(r.headers['content-type'], /^application\/json\b/);
		assert.equal(r.json.status, 'ok');
		assertSecurityHeaders(r, '/health/live');
	});

	test('GET /health/ready answers 200 {"status":"ready"} with a working database', async () => {
		const r = await get(server, '/health/ready');
		assert.equal(r.status, 200, r.text);
		assert.match(r.headers['content-type'], /^application\/json\b/);
		assert.equal(r.json.status, 'ready');
	});

	test('GET /metrics is Prometheus text with request counters, a latency histogram and pool stats', async () => {
		await get(server, '/health/live');
		const r = await get(server, '/metrics');
		assert.equal(r.status, 200);
		assert.match(r.headers['content-type'], /^text\/plain\b/);
		assert.match(r.headers['content-type'], /version=0\.0\.4/);
		const t = r.text;
		assert.match(t, /^# TYPE parallax_http_requests_total counter$/m);
		assert.match(t, /^# TYPE parallax_http_request_duration_seconds histogram$/m);
		assert.match(t, /^parallax_http_requests_total\{[^}]*route="[^"]+"[^}]*\} \d/m);
		for (const label of ['route', 'method', 'status']) {
			assert.match(t, new RegExp(`^parallax_http_requests_total\\{[^}]*\\b${label}="`, 'm'), `label ${label}`);
		}
		assert.match(t, /^parallax_http_request_duration_seconds_bucket\{[^}]*le="[0-9.e+-]+"[^}]*\} \d/m);
		assert.match(t, /^parallax_http_request_duration_seconds_bucket\{[^}]*le="\+Inf"[^}]*\} \d/m);
		assert.match(t, /^parallax_http_request_duration_seconds_sum(\{[^}]*\})? [0-9.e+-]+$/m);
		assert.match(t, /^parallax_http_request_duration_seconds_count(\{[^}]*\})? \d+$/m);
		assert.match(t, /^parallax_db_\w*(pool|conn)\w*(\{[^}]*\})? [0-9.e+-]+$/m, 'db pool stats');
		// Every line is a comment or a well-formed sample.
		for (const line of t.split('\n')) {
			if (line === '' || line.startsWith('#')) continue;
			assert.match(
				line,
				/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (?:[-+]?[0-9.]+(?:e[-+]?\d+)?|NaN|[-+]Inf)( \d+)?$/,
				`malformed sample line: ${line}`,
			);
		}
	});

	test('metrics counters increase after requests', async () => {
		const labels = { route: /health\/live/, method: 'GET', status: '200' };
		const before0 = metricSum((await get(server, '/metrics')).text, 'parallax_http_requests_total', labels) ?? 0;
		const hist0 =
			metricSum((await get(server, '/metrics')).text, 'parallax_http_request_duration_seconds_count', {
				route: /health\/live/,
			}) ?? 0;
		for (let i = 0; i < 3; i++) assert.equal((await get(server, '/health/live')).status, 200);
		const t = (await get(server, '/metrics')).text;
		const after0 = metricSum(t, 'parallax_http_requests_total', labels);
		assert.ok(after0 !== null, 'no parallax_http_requests_total sample for GET /health/live 200');
		assert.ok(after0 >= before0 + 3, `counter went from ${before0} to ${after0}, expected +3`);
		const hist1 = metricSum(t, 'parallax_http_request_duration_seconds_count', { route: /health\/live/ });
		if (hist1 !== null) assert.ok(hist1 >= hist0 + 3, `histogram count went from ${hist0} to ${hist1}`);
		// 404s are counted too.
		await get(server, '/api/v1/definitely-not-a-route');
		const t2 = (await get(server, '/metrics')).text;
		assert.ok((metricSum(t2, 'parallax_http_requests_total', { status: '404' }) ?? 0) >= 1, '404s are counted');
	});

	test('metrics do not take raw unknown paths as route labels (bounded cardinality)', async () => {
		const marker = `zz-nope-${Date.now()}`;
		assert.equal((await get(server, `/${marker}/x`)).status, 404);
		const t = (await get(server, '/metrics')).text;
		assert.ok(!t.includes(marker), 'an unknown path became a metrics label');
	});

	test('GET /api/v1/openapi.json is an OpenAPI 3.1 document whose paths match the routes', async () => {
		const r = await get(server, '/api/v1/openapi.json');
		assert.equal(r.status, 200);
		assert.match(r.headers['content-type'], /^application\/json\b/);
		const doc = r.json;
		assert.match(String(doc.openapi), /^3\.1\.\d+$/);
		assert.equal(typeof doc.info?.title, 'string');
		assert.equal(typeof doc.info?.version, 'string');
		assert.equal(typeof doc.paths, 'object');
		assert.ok(doc.paths['/health/live']?.get, 'paths lists GET /health/live');
		assert.ok(doc.paths['/api/v1/setup']?.post, 'paths lists POST /api/v1/setup');
		const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
		for (const [p, item] of Object.entries(doc.paths)) {
			assert.match(p, /^\//, `path ${p} starts with /`);
			const ops = methods.filter((m) => item[m]);
			assert.ok(ops.length > 0, `path ${p} has at least one operation`);
			for (const m of ops) {
				assert.equal(typeof item[m].responses, 'object', `${m.toUpperCase()} ${p} has responses`);
			}
			// Each listed path is really routed: a method it does not list answers 405 (not
			// 404) and Allow names the listed ones.
			const concrete = p.replace(/\{[^}]+\}/g, 'test').replace(/\*/g, 'test');
			const other = ['patch', 'put', 'delete', 'post', 'get'].find((m) => !item[m]);
			const r2 = await request(server, other.toUpperCase(), concrete);
			assert.equal(r2.status, 405, `${other.toUpperCase()} ${concrete} (${p} is in openapi.json): ${r2.status} ${r2.text}`);
			const allow = (r2.headers.allow || '').split(/\s*,\s*/);
			for (const m of ops.filter((x) => x !== 'head' && x !== 'options')) {
				assert.ok(allow.includes(m.toUpperCase()), `Allow for ${concrete} lacks ${m.toUpperCase()}: ${r2.headers.allow}`);
			}
		}
	});

	test('unknown route answers 404 not_found as JSON', async () => {
		const r = await get(server, '/api/v1/no-such-thing');
		assertJsonError(r, 404, 'not_found', 'GET /api/v1/no-such-thing');
		assertSecurityHeaders(r, '404');
		assertJsonError(await get(server, '/no/such/page'), 404, 'not_found', 'GET /no/such/page');
		assertJsonError(await post(server, '/api/v1/no-such-thing', { json: {} }), 404, 'not_found', 'POST unknown');
	});

	test('wrong method on a known path answers 405 method_not_allowed with Allow', async () => {
		const r = await request(server, 'DELETE', '/health/live');
		assertJsonError(r, 405, 'method_not_allowed', 'DELETE /health/live');
		assert.ok(r.headers.allow, 'Allow header');
		assert.ok(r.headers.allow.split(/\s*,\s*/).includes('GET'), `Allow: ${r.headers.allow}`);
		assertSecurityHeaders(r, '405');
		const r2 = await get(server, '/api/v1/setup');
		assertJsonError(r2, 405, 'method_not_allowed', 'GET /api/v1/setup');
		assert.ok((r2.headers.allow || '').split(/\s*,\s*/).includes('POST'), `Allow: ${r2.headers.allow}`);
		assert.ok(!(r2.headers.allow || '').split(/\s*,\s*/).includes('GET'), `Allow: ${r2.headers.allow}`);
	});

	test('X-Request-Id: a sane client id is echoed, each response gets one, an insane one is replaced', async () => {
		const sane = 'test-req_0123.abcDEF';
		const r = await get(server, '/health/live', { headers: { 'X-Request-Id': sane } });
		assert.equal(r.headers['x-request-id'], sane);

		const a = (await get(server, '/health/live')).headers['x-request-id'];
		const b = (await get(server, '/health/live')).headers['x-request-id'];
		assert.ok(a && b && a !== b, `generated ids should differ: ${a} ${b}`);

		for (const insane of ['x'.repeat(1000), '<script>alert(1)</script>', 'a b c', 'id"; drop']) {
			const r2 = await get(server, '/health/live', { headers: { 'X-Request-Id': insane } });
			const got = r2.headers['x-request-id'];
			assert.ok(got, `an X-Request-Id is returned for ${insane.slice(0, 20)}`);
			assert.notEqual(got, insane, `insane id echoed: ${insane.slice(0, 40)}`);
			assert.ok(got.length <= 128 && /^[\x21-\x7e]+$/.test(got) && !/[<>"]/.test(got), `replacement is sane: ${got}`);
		}
	});

	test('logs are JSON lines on stderr, carry the request id and never the password', async () => {
		const id = `log-check-${Date.now()}`;
		assert.equal((await get(server, '/api/v1/openapi.json', { headers: { 'X-Request-Id': id } })).status, 200);
		// Liveness probes are logged at debug only, so they do not flood the logs.
		const probeId = `probe-${Date.now()}`;
		assert.equal((await get(server, '/health/live', { headers: { 'X-Request-Id': probeId } })).status, 200);
		const secret = `Hunter2-${Date.now()}-secret`;
		await post(server, '/api/v1/setup', { json: { token: 'wrong', tenant_name: 't', name: 'n', email: 'a@b.c', password: secret } });
		await new Promise((r) => setTimeout(r, 300));
		const lines = server.stderr().split('\n').filter((l) => l.trim());
		assert.ok(lines.length > 0, 'something is logged');
		for (const l of lines) {
			assert.doesNotThrow(() => JSON.parse(l), `log line is not JSON: ${l.slice(0, 200)}`);
		}
		assert.ok(lines.some((l) => l.includes(id)), 'a log line carries the request id');
		assert.ok(!lines.some((l) => l.includes(probeId)), 'a liveness probe was logged at info');
		assert.ok(!server.stderr().includes(secret), 'a password reached the log');
	});

	test('server shuts down cleanly on SIGTERM (exit 0, no sanitizer report)', async () => {
		const t0 = Date.now();
		await server.stop();
		assert.ok(Date.now() - t0 < 10000, `stop took ${Date.now() - t0} ms`);
	});
});

// ---- request limits and hostile input ----------------------------------------------------

describe(`limits and hostile input [${backend}]`, () => {
	let server;
	before(async () => {
		server = await startServer();
	});
	after(async () => {
		await server?.stop().catch(() => {});
	});

	const setupHead = (len, extra = {}) =>
		rawHead('POST', '/api/v1/setup', { 'Content-Type': 'application/json', 'Content-Length': String(len), ...extra });

	test('Content-Length of 2 MiB is refused with 413 before the body is sent', async () => {
		const r = await rawRequest(server, [setupHead(2 * MiB), '{"token":"'], { end: false, timeoutMs: 5000 });
		assertJsonError(r, 413, 'payload_too_large', 'Content-Length 2 MiB');
		assertSecurityHeaders(r, '413');
		assert.ok(r.elapsedMs < 5000, `took ${r.elapsedMs} ms`);
	});

	test('a real body of 1 MiB + 1 byte is refused with 413', async () => {
		const body = Buffer.alloc(MiB + 1, 0x20);
		body.write('{"token":"x"}', 0);
		const r = await rawRequest(server, [setupHead(body.length), body], { timeoutMs: 10000 });
		assertJsonError(r, 413, 'payload_too_large', '1 MiB + 1');
	});

	test('a chunked body over 1 MiB is refused with 413', async () => {
		const chunk = Buffer.alloc(64 * 1024, 0x20);
		const parts = [rawHead('POST', '/api/v1/setup', { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' })];
		for (let i = 0; i < 17; i++) parts.push(`${chunk.length.toString(16)}\r\n`, chunk, '\r\n');
		parts.push('0\r\n\r\n');
		const r = await rawRequest(server, parts, { timeoutMs: 10000 });
		assertJsonError(r, 413, 'payload_too_large', 'chunked 1.06 MiB');
	});

	test('a body of exactly 1 MiB is not refused for its size', async () => {
		const body = Buffer.alloc(MiB, 0x20);
		body.write('{"token":"x"}', 0);
		const r = await rawRequest(server, [setupHead(body.length), body], { timeoutMs: 15000 });
		assert.notEqual(r.status, 413, r.text);
		assert.ok(r.status >= 400 && r.status < 500, `status ${r.status}`);
	});

	test('malformed JSON answers 400 invalid_json', async () => {
		for (const bad of ['{"token": ', '{token: 1}', "{'a':1}", '{"a":1} trailing', '{"a":1,}', '[1,2', 'nul']) {
			const r = await post(server, '/api/v1/setup', { body: bad, headers: { 'Content-Type': 'application/json' } });
			assertJsonError(r, 400, 'invalid_json', `body ${bad}`);
		}
	});

	test('nesting deeper than 64 answers 400 too_deep; 64 levels pass the parser', async () => {
		const hdr = { 'Content-Type': 'application/json' };
		for (const [open, close, leaf] of [
			['[', ']', ''],
			['{"a":', '}', '1'],
		]) {
			const deep = await post(server, '/api/v1/setup', { body: nested(open, close, 65, leaf), headers: hdr });
			assertJsonError(deep, 400, 'too_deep', `depth 65 ${open}`);
			const ok = await post(server, '/api/v1/setup', { body: nested(open, close, 64, leaf), headers: hdr });
			assert.ok(ok.status >= 400 && ok.status < 500, `depth 64 ${open}: ${ok.status} ${ok.text}`);
			assert.notEqual(ok.json?.error?.code, 'too_deep', `depth 64 ${open} is allowed`);
			assert.notEqual(ok.json?.error?.code, 'invalid_json', `depth 64 ${open} is valid JSON`);
		}
		const huge = await post(server, '/api/v1/setup', { body: nested('[', ']', 100000), headers: hdr });
		assertJsonError(huge, 400, 'too_deep', 'depth 100000');
	});

	test('invalid UTF-8 answers 400 invalid_utf8', async () => {
		const cases = {
			'lone 0xff': [0xff],
			'overlong /': [0xc0, 0xaf],
			'UTF-16 surrogate': [0xed, 0xa0, 0x80],
			'truncated euro sign': [0xe2, 0x82],
			'beyond U+10FFFF': [0xf4, 0x90, 0x80, 0x80],
		};
		for (const [name, bytes] of Object.entries(cases)) {
			const body = Buffer.concat([Buffer.from('{"token":"'), Buffer.from(bytes), Buffer.from('"}')]);
			const r = await post(server, '/api/v1/setup', { body, headers: { 'Content-Type': 'application/json' } });
			assertJsonError(r, 400, 'invalid_utf8', name);
		}
		// Valid multi-byte UTF-8 is not refused as invalid.
		const fine = await post(server, '/api/v1/setup', { json: { token: 'wrong-\u00e9\u20ac\u{1f600}' } });
		assert.notEqual(fine.json?.error?.code, 'invalid_utf8', fine.text);
	});

	test('a non-JSON content type on a JSON route answers 415 unsupported_media_type', async () => {
		const body = JSON.stringify({ token: 'x' });
		for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx']) {
			const r = await post(server, '/api/v1/setup', { body, headers: { 'Content-Type': ct } });
			assertJsonError(r, 415, 'unsupported_media_type', ct);
			assertSecurityHeaders(r, '415');
		}
		const none = await post(server, '/api/v1/setup', { body });
		assertJsonError(none, 415, 'unsupported_media_type', 'no content type');
		const withCharset = await post(server, '/api/v1/setup', {
			body,
			headers: { 'Content-Type': 'application/json; charset=utf-8' },
		});
		assert.notEqual(withCharset.status, 415, 'application/json; charset=utf-8 is JSON');
	});

	const traversal = [
		'/static/../../etc/passwd',
		'/static/%2e%2e/%2e%2e/etc/passwd',
		'/static/..%2f..%2fetc%2fpasswd',
		'/static/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
		'/index.html%00.txt',
		'/%2e%2e/%2e%2e/etc/passwd',
		'/../../../../etc/passwd',
		'/static/%00',
		'/api/v1/..%2f..%2f..%2fetc/passwd',
	];
	for (const p of traversal) {
		test(`traversal path ${p} answers 400 or 404 and never a file`, async () => {
			const r = await rawRequest(server, rawHead('GET', p, { Connection: 'close' }), { timeoutMs: 5000 });
			assert.ok([400, 404].includes(r.status), `status ${r.status}: ${r.text.slice(0, 200)}`);
			assert.ok(!r.text.includes('root:'), 'served /etc/passwd');
			assert.ok(!/<html/i.test(r.text), 'served an HTML file');
			assertJsonError(r, r.status, null, p);
			assertSecurityHeaders(r, p);
		});
	}

	test('error responses are JSON with security headers: 400, 404, 405, 413, 415', async () => {
		const seen = [
			await post(server, '/api/v1/setup', { body: '{', headers: { 'Content-Type': 'application/json' } }),
			await get(server, '/nope'),
			await request(server, 'PUT', '/health/live'),
			await rawRequest(server, [setupHead(2 * MiB), '{'], { end: false }),
			await post(server, '/api/v1/setup', { body: '{}', headers: { 'Content-Type': 'text/plain' } }),
		];
		assert.deepEqual(
			seen.map((r) => r.status),
			[400, 404, 405, 413, 415],
		);
		for (const r of seen) {
			assertJsonError(r, r.status, null, `status ${r.status}`);
			assertSecurityHeaders(r, `status ${r.status}`);
			assert.ok(!/sqlite|postgres|select |insert |stack|\.c:\d+/i.test(r.text), `internals leaked: ${r.text}`);
		}
	});

	test('the server is still healthy after the hostile requests', async () => {
		assert.equal((await get(server, '/health/live')).status, 200);
	});

	test('server shuts down cleanly on SIGTERM (exit 0, no sanitizer report)', async () => {
		await server.stop();
	});
});

describe(`--max-body [${backend}]`, () => {
	test('--max-body lowers the body limit', async () => {
		const server = await startServer({ args: ['--max-body', '4096'] });
		try {
			const big = JSON.stringify({ token: 'x'.repeat(5000) });
			const r = await post(server, '/api/v1/setup', { body: big, headers: { 'Content-Type': 'application/json' } });
			assertJsonError(r, 413, 'payload_too_large', '5 KB body with --max-body 4096');
			const small = await post(server, '/api/v1/setup', { json: { token: 'x'.repeat(1000) } });
			assert.notEqual(small.status, 413, small.text);
		} finally {
			await server.stop();
		}
	});
});

// ---- first-run set-up --------------------------------------------------------------------

describe(`first-run set-up [${backend}]`, () => {
	let server;
	let owner;
	const password = strongPassword();
	before(async () => {
		server = await startServer();
	});
	after(async () => {
		await server?.stop().catch(() => {});
	});

	const valid = () => ({
		token: server.setupToken,
		tenant_name: 'Acme Corp',
		name: 'Ada Owner',
		email: 'ada@example.com',
		password,
	});

	test('the server prints a set-up link with a token on first run', () => {
		assert.ok(server.setupToken, 'no set-up token printed');
		assert.ok(server.setupToken.length >= 16, `token too short: ${server.setupToken}`);
		assert.equal(new URL(server.setupUrl).origin, server.url);
		assert.ok(!server.stderr().includes(server.setupToken), 'the set-up token reached the log (stderr)');
	});

	test('GET /setup with a wrong or missing token answers 404; with the token, a form', async () => {
		assert.equal((await get(server, '/setup?token=wrong')).status, 404);
		assert.equal((await get(server, '/setup')).status, 404);
		const r = await get(server, `/setup?token=${encodeURIComponent(server.setupToken)}`);
		assert.equal(r.status, 200);
		assert.match(r.headers['content-type'], /^text\/html\b/);
		for (const name of ['tenant_name', 'name', 'email', 'password', 'token', 'csrf']) {
			assert.match(r.text, new RegExp(`name="${name}"`), `form field ${name}`);
		}
		assert.match(r.text, /<form[^>]*method="post"/i);
		assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>\s*\S/i.test(r.text), 'inline script on the set-up page');
		assertSecurityHeaders(r, 'GET /setup');
	});

	test('POST /api/v1/setup with a wrong or missing token answers 404', async () => {
		assertJsonError(await post(server, '/api/v1/setup', { json: { ...valid(), token: 'wrong-token' } }), 404, 'not_found', 'wrong token');
		const { token, ...noToken } = valid();
		assert.ok(token);
		assertJsonError(await post(server, '/api/v1/setup', { json: noToken }), 404, 'not_found', 'no token');
	});

	test('a password shorter than 12 characters answers 400 naming the password field', async () => {
		const r = await post(server, '/api/v1/setup', { json: { ...valid(), password: 'Short-pw-11' } });
		const err = assertJsonError(r, 400, null, 'short password');
		assert.equal(err.field, 'password');
	});

	test('unknown fields answer 400 unknown_field', async () => {
		const r = await post(server, '/api/v1/setup', { json: { ...valid(), is_admin: true } });
		assertJsonError(r, 400, 'unknown_field', 'unknown field');
	});

	test('POST /api/v1/setup with the token creates tenant, workspace and owner (201)', async () => {
		const r = await post(server, '/api/v1/setup', { json: valid() });
		assert.equal(r.status, 201, r.text);
		assert.match(r.headers['content-type'], /^application\/json\b/);
		const b = r.json;
		assert.equal(typeof b.tenant?.id, 'string');
		assert.ok(b.tenant.id.length > 0);
		assert.equal(b.tenant.name, 'Acme Corp');
		assert.match(b.tenant.slug, /^[a-z0-9][a-z0-9-]*$/);
		assert.equal(typeof b.user?.id, 'string');
		assert.equal(b.user.email, 'ada@example.com');
		assert.equal(b.user.name, 'Ada Owner');
		assert.equal(typeof b.workspace?.id, 'string');
		assert.ok(!r.text.includes(password), 'the password is echoed');
		assert.ok(!/password|hash/i.test(JSON.stringify(Object.keys(b.user))), 'user carries a password field');
		owner = b;
	});

	test('after the owner exists, set-up is gone for everyone (API and form answer 404)', async () => {
		assert.ok(owner, 'set-up did not succeed');
		assertJsonError(await post(server, '/api/v1/setup', { json: valid() }), 404, 'not_found', 'second setup');
		assertJsonError(
			await post(server, '/api/v1/setup', { json: { ...valid(), email: 'eve@example.com' } }),
			404,
			'not_found',
			'second setup, other email',
		);
		assert.equal((await get(server, `/setup?token=${encodeURIComponent(server.setupToken)}`)).status, 404);
		assert.equal((await get(server, '/setup')).status, 404);
	});

	test('no secret (password, set-up token) reached the log', () => {
		assert.ok(!server.stderr().includes(password), 'password in the log');
		assert.ok(!server.stderr().includes(server.setupToken), 'set-up token in the log');
	});

	test('after a restart on the same database no set-up link is printed', async () => {
		assert.ok(owner, 'set-up did not succeed');
		await server.stop({ keepData: true });
		const again = await startServer({ dataDir: server.dataDir, db: server.db, expectSetup: false });
		try {
			await waitLive(again);
			await new Promise((r) => setTimeout(r, 300));
			assert.equal(again.setupToken, null, `set-up link printed again: ${again.stdout()}`);
			assertJsonError(await post(again, '/api/v1/setup', { json: valid() }), 404, 'not_found', 'setup after restart');
		} finally {
			await again.stop({ keepData: true });
			await server.db.drop();
			await rm(server.dataDir, { recursive: true, force: true });
		}
	});
});

describe(`set-up form CSRF [${backend}]`, () => {
	// A server of its own: if the forged form went through, it would create the owner and
	// spoil the other set-up tests.
	let server;
	before(async () => {
		server = await startServer();
	});
	after(async () => {
		await server?.stop().catch(() => {});
	});

	test('POST /setup (form) without a valid CSRF token is refused and creates nothing', async () => {
		const fields = {
			token: server.setupToken,
			tenant_name: 'Forged Inc',
			name: 'Mallory',
			email: 'mallory@example.com',
			password: strongPassword(),
		};
		for (const extra of [{}, { csrf: 'forged' }, { csrf: '' }]) {
			const form = new URLSearchParams({ ...fields, ...extra }).toString();
			const r = await post(server, '/setup', {
				body: form,
				headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
			});
			assert.ok([400, 403].includes(r.status), `csrf ${JSON.stringify(extra.csrf)}: status ${r.status}`);
		}
		// Still no owner: the form is still offered.
		assert.equal((await get(server, `/setup?token=${encodeURIComponent(server.setupToken)}`)).status, 200);
	});

	test('server shuts down cleanly on SIGTERM (exit 0, no sanitizer report)', async () => {
		await server.stop();
	});
});

// ---- command line: config, migrate, version, signals --------------------------------------

describe(`command line [${backend}]`, () => {
	let dir;
	before(async () => {
		dir = await tmpDir('parallax-cli-');
	});
	after(async () => {
		if (dir) await rm(dir, { recursive: true, force: true });
	});

	test('parallax version prints the version and exits 0', async () => {
		const r = await runParallax(['version']);
		assertNoSanitizerReport(r.stderr);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /\d+\.\d+\.\d+/);
	});

	test('config check accepts a valid file with comments', async () => {
		const file = path.join(dir, 'good.conf');
		await writeFile(file, `# a comment\nport = 8081\n\n   # indented comment\nbind = 127.0.0.1\n`);
		const data = path.join(dir, 'good-data');
		const r = await runParallax(['config', 'check', '--config', file, '--data', data]);
		assertNoSanitizerReport(r.stderr);
		assert.equal(r.code, 0, `stderr: ${r.stderr}`);
	});

	test('config check: unknown key in the file', async () => {
		const file = path.join(dir, 'unknown.conf');
		await writeFile(file, '# test\nport = 8081\nbogus_key = 1\n');
		assertOneLineError(await runParallax(['config', 'check', '--config', file]), /bogus_key/, 'unknown key');
	});

	test('serve: unknown key in the file', async () => {
		const file = path.join(dir, 'unknown2.conf');
		await writeFile(file, 'no_such_setting = yes\n');
		assertOneLineError(
			await runParallax(['serve', '--config', file, '--port', '0', '--data', path.join(dir, 'd1')]),
			/no_such_setting/,
			'serve unknown key',
		);
	});

	test('config check and serve: port out of range (flag, env and file)', async () => {
		assertOneLineError(await runParallax(['config', 'check', '--port', '70000']), /port/i, 'check --port 70000');
		assertOneLineError(
			await runParallax(['serve', '--port', '70000', '--data', path.join(dir, 'd2')]),
			/port/i,
			'serve --port 70000',
		);
		assertOneLineError(
			await runParallax(['config', 'check'], { env: { PARALLAX_PORT: '70000' } }),
			/port/i,
			'PARALLAX_PORT=70000',
		);
		const file = path.join(dir, 'port.conf');
		await writeFile(file, 'port = -1\n');
		assertOneLineError(await runParallax(['config', 'check', '--config', file]), /port/i, 'port = -1 in file');
		assertOneLineError(await runParallax(['config', 'check', '--port', 'abc']), /port/i, 'check --port abc');
	});

	test('config check and serve: unreachable database', async () => {
		const url = 'postgres://postgres@127.0.0.1:1/x';
		assertOneLineError(
			await runParallax(['config', 'check', '--db', url, '--data', path.join(dir, 'd3')]),
			/\bdb\b|database/i,
			'check unreachable db',
		);
		assertOneLineError(
			await runParallax(['serve', '--port', '0', '--db', url, '--data', path.join(dir, 'd3')]),
			/\bdb\b|database/i,
			'serve unreachable db',
		);
	});

	test('config check and serve: a data directory that cannot be written', async () => {
		const file = path.join(dir, 'a-regular-file');
		await writeFile(file, 'x');
		const data = path.join(file, 'data');
		assertOneLineError(await runParallax(['config', 'check', '--data', data]), /data/i, 'check bad data dir');
		assertOneLineError(await runParallax(['serve', '--port', '0', '--data', data]), /data/i, 'serve bad data dir');
	});

	test('config check: --agent-allow and --log-level are validated', async () => {
		const data = path.join(dir, 'd4');
		const ok = await runParallax(['config', 'check', '--data', data, '--agent-allow', '127.0.0.1/32', '--log-level', 'info']);
		assertNoSanitizerReport(ok.stderr);
		assert.equal(ok.code, 0, `valid flags refused: ${ok.stderr}`);
		assertOneLineError(
			await runParallax(['config', 'check', '--data', data, '--agent-allow', 'not-a-cidr']),
			/agent[-_]allow/i,
			'bad --agent-allow',
		);
		assertOneLineError(
			await runParallax(['config', 'check', '--data', data, '--log-level', 'loud']),
			/log[-_]level/i,
			'bad --log-level',
		);
	});

	test('an unknown flag is refused with one line naming it', async () => {
		assertOneLineError(await runParallax(['config', 'check', '--no-such-flag', '1']), /no[-_]such[-_]flag/, 'unknown flag');
	});

	test('precedence: flags over environment over file', async () => {
		const [p1, p2, p3] = [await freePort(), await freePort(), await freePort()];
		const file = path.join(dir, 'prec.conf');
		await writeFile(file, `# precedence\nport = ${p1}\n`);
		const cases = [
			{ what: 'file', args: ['--config', file], env: {}, want: p1 },
			{ what: 'env over file', args: ['--config', file], env: { PARALLAX_PORT: String(p2) }, want: p2 },
			{ what: 'flag over env', args: ['--config', file, '--port', String(p3)], env: { PARALLAX_PORT: String(p2) }, want: p3 },
		];
		for (const c of cases) {
			const server = await startServer({ port: null, args: c.args, env: c.env });
			try {
				assert.equal(server.port, c.want, `${c.what}: listening on ${server.url}`);
				assert.equal((await get(server, '/health/live')).status, 200);
			} finally {
				await server.stop();
			}
		}
	});

	test('migrate twice succeeds, and serve starts on the migrated database and takes writes', async () => {
		const dataDir = await tmpDir();
		const db = await createDatabase(dataDir);
		try {
			for (let i = 1; i <= 2; i++) {
				const r = await runParallax(['migrate', '--db', db.url], { timeoutMs: 60000 });
				assertNoSanitizerReport(r.stderr);
				assert.equal(r.code, 0, `migrate #${i}: ${r.stderr}`);
			}
			const server = await startServer({ dataDir, db, expectSetup: true });
			try {
				assert.equal((await get(server, '/health/ready')).status, 200);
				// The migrated schema takes writes: the owner can be created.
				const owner = await setupOwner(server);
				assert.equal(typeof owner.user?.id, 'string');
				assert.equal(owner.user.email, owner.email);
			} finally {
				await server.stop({ keepData: true });
			}
		} finally {
			await db.drop();
			await rm(dataDir, { recursive: true, force: true });
		}
	});

	test('SIGTERM and SIGINT stop the server quickly with exit 0', async () => {
		for (const signal of ['SIGTERM', 'SIGINT']) {
			const server = await startServer();
			assert.equal((await get(server, '/health/live')).status, 200);
			const t0 = Date.now();
			const { code } = await server.stop({ signal, timeoutMs: 10000 });
			assert.equal(code, 0);
			assert.ok(Date.now() - t0 < 5000, `${signal}: took ${Date.now() - t0} ms`);
		}
	});

	test('SIGTERM stops the server even with an idle client connection open', async () => {
		const server = await startServer();
		const sock = net.connect({ host: '127.0.0.1', port: server.port });
		await new Promise((r, j) => sock.once('connect', r).once('error', j));
		sock.on('error', () => {});
		sock.write('GET /health/live HTTP/1.1\r\nHost: x\r\n'); // never finished
		await new Promise((r) => setTimeout(r, 200));
		const t0 = Date.now();
		try {
			await server.stop({ timeoutMs: 10000 });
		} finally {
			sock.destroy();
		}
		assert.ok(Date.now() - t0 < 10000, `took ${Date.now() - t0} ms`);
	});
});

