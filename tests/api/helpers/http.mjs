// HTTP helpers for the API suite: a request wrapper over node:http (raw paths are sent
// as written, one connection per request) and a raw sender over net.Socket for hostile
// requests (bogus Content-Length, partial bodies, traversal paths, invalid bytes).
import http from 'node:http';
import net from 'node:net';

function baseOf(target) {
	return new URL(typeof target === 'string' ? target : target.url);
}

function tryJson(text, contentType) {
	if (!text) return undefined;
	if (contentType && !/json/i.test(contentType)) return undefined;
	try {
		return JSON.parse(text);
	} catch {
		return undefined;
	}
}

// request(serverOrUrl, method, path, {headers, body, json, timeoutMs})
// -> {status, headers (lower-case names), json, text, body (Buffer)}.
// `json` sets the body and Content-Type: application/json; `body` is sent as given.
export function request(target, method, path, opts = {}) {
	const base = baseOf(target);
	const headers = { ...(opts.headers || {}) };
	let body = opts.body;
	if (opts.json !== undefined) {
		body = JSON.stringify(opts.json);
		if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
			headers['Content-Type'] = 'application/json';
		}
	}
	if (body !== undefined && !Buffer.isBuffer(body)) body = Buffer.from(String(body));
	if (body !== undefined) headers['Content-Length'] = String(body.length);
	const timeoutMs = opts.timeoutMs ?? 15000;
	return new Promise((resolve, reject) => {
		const req = http.request(
			{ host: base.hostname, port: base.port, method, path, headers, agent: false },
			(res) => {
				const chunks = [];
				res.on('data', (c) => chunks.push(c));
				res.on('error', reject);
				res.on('end', () => {
					const buf = Buffer.concat(chunks);
					const text = buf.toString('utf8');
					resolve({
						status: res.statusCode,
						headers: res.headers,
						text,
						body: buf,
						json: tryJson(text, res.headers['content-type']),
					});
				});
			},
		);
		req.setTimeout(timeoutMs, () => {
			req.destroy(new Error(`${method} ${path}: no response within ${timeoutMs} ms`));
		});
		req.on('error', reject);
		if (body !== undefined) req.write(body);
		req.end();
	});
}

export const get = (t, path, opts) => request(t, 'GET', path, opts);
export const post = (t, path, opts) => request(t, 'POST', path, opts);

// Parses one HTTP/1.x response from a buffer; returns null until it is complete.
// `closed` means the peer closed, so a body without a length ends here.
export function parseResponse(buf, closed = false) {
	const end = buf.indexOf('\r\n\r\n');
	if (end < 0) return null;
	const head = buf.subarray(0, end).toString('latin1').split('\r\n');
	const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(head[0]);
	if (!m) throw new Error(`not an HTTP response: ${JSON.stringify(head[0])}`);
	const headers = {};
	for (const line of head.slice(1)) {
		const i = line.indexOf(':');
		if (i < 0) continue;
		const name = line.slice(0, i).trim().toLowerCase();
		const value = line.slice(i + 1).trim();
		headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
	}
	const rest = buf.subarray(end + 4);
	let body;
	if (/chunked/i.test(headers['transfer-encoding'] || '')) {
		const parts = [];
		let pos = 0;
		for (;;) {
			const le = rest.indexOf('\r\n', pos);
			if (le < 0) return closed ? finish(rest) : null;
			const size = parseInt(rest.subarray(pos, le).toString('latin1'), 16);
			if (Number.isNaN(size)) throw new Error('bad chunk size in response');
			if (size === 0) break;
			if (rest.length < le + 2 + size + 2) return closed ? finish(rest) : null;
			parts.push(rest.subarray(le + 2, le + 2 + size));
			pos = le + 2 + size + 2;
		}
		body = Buffer.concat(parts);
	} else if (headers['content-length'] !== undefined) {
		const len = Number(headers['content-length']);
		if (rest.length < len) return closed ? finish(rest) : null;
		body = rest.subarray(0, len);
	} else if (m[1][0] === '1' || m[1] === '204' || m[1] === '304') {
		body = Buffer.alloc(0);
	} else {
		if (!closed) return null;
		body = rest;
	}
	return finish(body);

	function finish(b) {
		const text = b.toString('utf8');
		return {
			status: Number(m[1]),
			reason: m[2] || '',
			headers,
			body: b,
			text,
			json: tryJson(text, headers['content-type']),
		};
	}
}

// rawRequest(serverOrUrl, data, {timeoutMs, end}) writes `data` (string, Buffer or an
// array of them) to a fresh TCP connection and resolves with the parsed response as soon
// as it is complete, without waiting for the connection to close. With end:false the
// socket is not half-closed after writing (a client still "sending" its body). Write
// errors after the server answered (EPIPE/ECONNRESET on an early 413) are tolerated;
// resolves {status, headers, text, json, body, elapsedMs, writeError}.
export function rawRequest(target, data, opts = {}) {
	const base = baseOf(target);
	const timeoutMs = opts.timeoutMs ?? 10000;
	const parts = (Array.isArray(data) ? data : [data]).map((d) =>
		Buffer.isBuffer(d) ? d : Buffer.from(d, 'latin1'),
	);
	return new Promise((resolve, reject) => {
		const started = Date.now();
		const chunks = [];
		let done = false;
		let writeError;
		const sock = net.connect({ host: base.hostname, port: Number(base.port) });
		const timer = setTimeout(() => {
			fail(
				new Error(
					`no complete response within ${timeoutMs} ms; got ${Buffer.concat(chunks).length} bytes: ` +
						JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 300)),
				),
			);
		}, timeoutMs);
		function settle(closed) {
			if (done) return;
			let res;
			try {
				res = parseResponse(Buffer.concat(chunks), closed);
			} catch (e) {
				fail(e);
				return;
			}
			if (!res) {
				if (closed) {
					fail(
						new Error(
							`connection closed before a complete response (${writeError ? writeError.code : 'no write error'}); got: ` +
								JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 300)),
						),
					);
				}
				return;
			}
			done = true;
			clearTimeout(timer);
			sock.destroy();
			resolve({ ...res, elapsedMs: Date.now() - started, writeError });
		}
		function fail(err) {
			if (done) return;
			done = true;
			clearTimeout(timer);
			sock.destroy();
			reject(err);
		}
		sock.on('data', (c) => {
			chunks.push(c);
			settle(false);
		});
		sock.on('end', () => settle(true));
		sock.on('close', () => settle(true));
		sock.on('error', (err) => {
			writeError = err;
			// A reset after (part of) the answer arrived still lets us read what came.
			settle(true);
		});
		// Writes in pieces of at most 64 KiB and stops as soon as the server has started to
		// answer, as a browser or curl does: a server that refuses a body early (413) and
		// closes would otherwise reset the connection under the unread answer.
		sock.on('connect', () => {
			(async () => {
				for (const p of parts) {
					for (let off = 0; off < p.length; off += 65536) {
						if (done || sock.destroyed || chunks.length > 0) return;
						if (!sock.write(p.subarray(off, off + 65536))) {
							await new Promise((r) => sock.once('drain', r).once('close', r));
						}
						await new Promise((r) => setImmediate(r));
					}
				}
				if (opts.end !== false && !done && !sock.destroyed) sock.end();
			})().catch((e) => {
				writeError = e;
			});
		});
	});
}

// Builds a request head for rawRequest.
export function rawHead(method, path, headers = {}, host = '127.0.0.1') {
	const lines = [`${method} ${path} HTTP/1.1`, `Host: ${host}`];
	for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
	return `${lines.join('\r\n')}\r\n\r\n`;
}
