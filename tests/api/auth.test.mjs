// Accounts and access, part 1: sign-in, access tokens (and attacks on them), refresh-token
// rotation and reuse, logout, password changes and policy, sessions, lock-out, the login
// rate limit, mass assignment, and the browser session with CSRF.
// Runs against the real binary once per backend (PARALLAX_TEST_DB=sqlite|postgres).
//
// Forged tokens signed with the server's own key (read from <dataDir>/jwt.key) have a
// VALID signature: their refusal proves the claim/header/session checks themselves. A
// control test shows that a token forged that way with correct claims is accepted, so
// none of the refusals can pass merely because the forging helper is broken.
import test, { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import {
	backend,
	get,
	post,
	rawRequest,
	request,
	setupOwner,
	startServer,
	strongPassword,
} from './helpers/server.mjs';
import {
	accessClaims,
	algNone,
	decodeJwt,
	flipBit,
	forgeHs256,
	nowS,
	readJwtKey,
	rsaPublicPem,
	segment,
	signAsymmetric,
	signHmac,
	swapPayload,
} from './helpers/jwt.mjs';

const SESSION_COOKIE = 'parallax_session';
const CSRF_COOKIE = 'parallax_csrf';
const EVIL = 'https://evil.example';

// ---- shared assertions and helpers ---------------------------------------------------------

const INTERNALS_RE = /sqlite|postgres|libpq|\bselect\b|\binsert\b|\bupdate\s+\w+\s+set\b|stack|backtrace|\.c:\d+|libjwt|jansson|segfault|assert/i;

function ctxOf(res, what) {
	return `${what} -> ${res.status} ${res.headers['content-type']} ${String(res.text).slice(0, 300)}`;
}

function assertNoInternals(res, what = '') {
	assert.ok(!INTERNALS_RE.test(res.text), `internals leaked; ${ctxOf(res, what)}`);
}

// {error:{code,message,field?}} with the given status (and code, when given).
function assertJsonError(res, status, code, what = '') {
	const ctx = ctxOf(res, what);
	assert.equal(res.status, status, `status; ${ctx}`);
	assert.match(res.headers['content-type'] || '', /^application\/json\b/i, `content-type; ${ctx}`);
	assert.ok(res.json && typeof res.json.error === 'object' && res.json.error, `body is {error:{...}}; ${ctx}`);
	assert.equal(typeof res.json.error.message, 'string', `error.message; ${ctx}`);
	assert.ok(res.json.error.message.length > 0, `error.message not empty; ${ctx}`);
	if (code) assert.equal(res.json.error.code, code, `error.code; ${ctx}`);
	else assert.match(String(res.json.error.code), /^[a-z][a-z0-9_]*$/, `error.code is a slug; ${ctx}`);
	assertNoInternals(res, what);
	return res.json.error;
}

// A refused credential: 401, the JSON error shape, nothing internal.
function assertRefused(res, what) {
	return assertJsonError(res, 401, null, what);
}

function retryAfterOf(res, what) {
	const ra = res.headers['retry-after'];
	assert.ok(ra !== undefined, `Retry-After missing; ${ctxOf(res, what)}`);
	assert.match(ra, /^\d+$/, `Retry-After is not a number of seconds: ${JSON.stringify(ra)}; ${what}`);
	const n = Number(ra);
	assert.ok(n >= 1, `Retry-After ${n} < 1; ${what}`);
	return n;
}

const bearer = (token) => ({ headers: { Authorization: `Bearer ${token}` } });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function login(server, email, password, extra = {}, opts = {}) {
	return post(server, '/api/v1/auth/login', { json: { email, password, ...extra }, ...opts });
}

// Signs in and checks the documented answer; returns {access, refresh, claims, json}.
async function loginOk(server, email, password, what = 'login') {
	const r = await login(server, email, password);
	assert.equal(r.status, 200, ctxOf(r, what));
	const b = r.json;
	assert.equal(typeof b.access_token, 'string', what);
	assert.match(b.refresh_token, /^prt_[A-Za-z0-9_-]{20,}$/, `${what}: refresh_token`);
	assert.equal(b.token_type, 'Bearer', what);
	assert.equal(typeof b.expires_in, 'number', what);
	assert.ok(b.expires_in > 0 && b.expires_in <= 900, `${what}: expires_in ${b.expires_in} (15 min at most)`);
	assert.equal(b.user?.email, email.toLowerCase(), `${what}: user`);
	assert.equal(typeof b.tenant?.id, 'string', `${what}: tenant`);
	return { access: b.access_token, refresh: b.refresh_token, claims: decodeJwt(b.access_token).payload, json: b };
}

const me = (server, token) => get(server, '/api/v1/auth/me', bearer(token));
const refresh = (server, refreshToken, extra = {}) =>
	post(server, '/api/v1/auth/refresh', { json: { refresh_token: refreshToken, ...extra } });

async function assertMeOk(server, token, what) {
	const r = await me(server, token);
	assert.equal(r.status, 200, ctxOf(r, what));
	return r.json;
}

async function assertMeRefused(server, token, what) {
	return assertRefused(await me(server, token), what);
}

// The same JSON error, ignoring a request id if one is carried in the body.
function normalizedError(res) {
	const e = { ...(res.json?.error || {}) };
	delete e.request_id;
	return e;
}

// A minimal cookie jar: name -> value, updated from Set-Cookie (an empty value or
// Max-Age<=0 / past Expires removes the cookie).
function parseSetCookies(res) {
	const raw = res.headers['set-cookie'];
	const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
	return list.map((line) => {
		const [pair, ...attrs] = line.split(';');
		const i = pair.indexOf('=');
		const a = {};
		for (const at of attrs) {
			const j = at.indexOf('=');
			const k = (j < 0 ? at : at.slice(0, j)).trim().toLowerCase();
			a[k] = j < 0 ? true : at.slice(j + 1).trim();
		}
		return { name: pair.slice(0, i).trim(), value: pair.slice(i + 1).trim(), attrs: a, line };
	});
}

function cleared(c) {
	return (
		c.value === '' ||
		(c.attrs['max-age'] !== undefined && Number(c.attrs['max-age']) <= 0) ||
		(c.attrs.expires !== undefined && Date.parse(c.attrs.expires) < Date.now())
	);
}

class Jar {
	constructor() {
		this.c = new Map();
	}
	update(res) {
		for (const c of parseSetCookies(res)) {
			if (cleared(c)) this.c.delete(c.name);
			else this.c.set(c.name, c.value);
		}
		return res;
	}
	get(name) {
		return this.c.get(name);
	}
	header() {
		return [...this.c].map(([k, v]) => `${k}=${v}`).join('; ');
	}
}

function hiddenCsrf(html) {
	const tag = /<input\b[^>]*\bname="csrf"[^>]*>/i.exec(html)?.[0];
	return tag ? /\bvalue="([^"]*)"/i.exec(tag)?.[1] : undefined;
}

const form = (fields) => new URLSearchParams(fields).toString();
const FORM = 'application/x-www-form-urlencoded';

// ---- access tokens: attacks ----------------------------------------------------------------

describe(`access tokens: attacks [${backend}]`, () => {
	let server;
	let owner;
	let key;
	let session; // {access, refresh, claims}
	before(async () => {
		server = await startServer({ args: ['--login-rpm', '100000'] });
		owner = await setupOwner(server);
		key = await readJwtKey(server.dataDir);
		session = await loginOk(server, owner.email, owner.password);
	});
	after(async () => {
		await server?.stop().catch(() => {});
	});

	const forged = (over = {}, header = {}) => forgeHs256(key, accessClaims(session.claims, over), header);

	test('control: the issued token works, has the documented claims, and one forged with the real key and claims works too', async () => {
		const body = await assertMeOk(server, session.access, 'issued token');
		assert.equal(body.user?.email, owner.email);
		const { header, payload } = decodeJwt(session.access);
		assert.equal(header.alg, 'HS256');
		assert.equal(payload.iss, 'parallax');
		assert.equal(payload.aud, 'parallax-api');
		assert.equal(payload.typ, 'access');
		for (const c of ['sub', 'tid', 'sid', 'jti']) assert.equal(typeof payload[c], 'string', `claim ${c}`);
		for (const c of ['iat', 'exp']) assert.equal(typeof payload[c], 'number', `claim ${c}`);
		assert.equal(payload.sub, owner.user.id);
		assert.equal(payload.tid, owner.tenant.id);
		assert.ok(payload.exp - payload.iat <= 900, `lifetime ${payload.exp - payload.iat} s > 15 min`);
		// The forging helper reproduces a token the server accepts: every refusal below is
		// about the one thing each case changes.
		await assertMeOk(server, forged(), 'forged with the real key and correct claims');
		await assertMeOk(server, forgeHs256(key, accessClaims(session.claims)), 'forged, header without typ');
	});

	test('alg none with an empty signature (none, None, NONE, nOnE) is refused', async () => {
		for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
			const claims = accessClaims(session.claims);
			await assertMeRefused(server, algNone(claims, alg), `alg ${alg}, empty signature`);
			// ...and with the real token's signature left in place.
			const withSig = `${algNone(claims, alg)}${session.access.split('.')[2]}`;
			await assertMeRefused(server, withSig, `alg ${alg}, a real signature`);
		}
		// The real token with its header rewritten to none.
		const [, p] = session.access.split('.');
		await assertMeRefused(server, `${segment({ alg: 'none', typ: 'JWT' })}.${p}.`, 'real payload, alg none');
	});

	test('HS256 signed with a wrong secret, an empty secret, or a PEM public key string is refused', async () => {
		const claims = accessClaims(session.claims);
		await assertMeRefused(server, forgeHs256(randomBytes(32), claims), 'random 32-byte secret');
		await assertMeRefused(server, forgeHs256('secret', claims), '"secret"');
		await assertMeRefused(server, forgeHs256('', claims), 'empty secret');
		await assertMeRefused(server, forgeHs256(rsaPublicPem(), claims), 'PEM public key as the HMAC secret');
		await assertMeRefused(server, forgeHs256(key.toString('hex'), claims), 'the real key, hex-encoded');
		await assertMeRefused(server, forgeHs256(key.toString('base64'), claims), 'the real key, base64-encoded');
	});

	test('algorithms other than HS256 are refused: RS256, ES256, and HS384/HS512 even with the real key', async () => {
		const claims = accessClaims(session.claims);
		await assertMeRefused(server, signAsymmetric('RS256', claims), 'RS256');
		await assertMeRefused(server, signAsymmetric('ES256', claims), 'ES256');
		await assertMeRefused(server, signHmac({ alg: 'HS512', typ: 'JWT' }, claims, key), 'HS512 with the real key');
		await assertMeRefused(server, signHmac({ alg: 'HS384', typ: 'JWT' }, claims, key), 'HS384 with the real key');
		await assertMeRefused(server, signHmac({ alg: 'hs256', typ: 'JWT' }, claims, key, 'HS256'), 'alg "hs256"');
		await assertMeRefused(server, forgeHs256(key, claims, { alg: ['HS256'] }), 'alg as an array');
		await assertMeRefused(server, signHmac({ typ: 'JWT' }, claims, key, 'HS256'), 'no alg at all');
	});

	test('duplicate alg keys in the header (checker and library may read different ones) are refused', async () => {
		const claims = accessClaims(session.claims);
		const sign = (headerText, alg) => signHmac(headerText, claims, key, alg);
		// A pre-check reading the first key sees HS256; a parser keeping the last sees HS512.
		await assertMeRefused(server, sign('{"alg":"HS256","alg":"HS512","typ":"JWT"}', 'HS512'), 'HS256 then HS512');
		await assertMeRefused(server, sign('{"alg":"HS512","alg":"HS256","typ":"JWT"}', 'HS512'), 'HS512 then HS256');
		const p = segment(claims);
		await assertMeRefused(server, `${segment('{"alg":"HS256","alg":"none"}')}.${p}.x`, 'HS256 then none');
		await assertMeRefused(server, `${segment('{"alg":"none","alg":"HS256"}')}.${p}.`, 'none then HS256');
	});

	test('expired tokens, nbf in the future and iat in the future are refused', async () => {
		const now = nowS();
		await assertMeRefused(server, forged({ iat: now - 3600, nbf: now - 3600, exp: now - 75 }), 'expired 75 s ago');
		await assertMeRefused(server, forged({ iat: now - 86400, nbf: now - 86400, exp: now - 86400 + 900 }), 'expired a day ago');
		await assertMeRefused(server, forged({ nbf: now + 75 }), 'nbf 75 s ahead (leeway is at most 60 s)');
		await assertMeRefused(server, forged({ nbf: now + 86400, exp: now + 86400 + 900 }), 'nbf a day ahead');
		await assertMeRefused(server, forged({ iat: now + 75 }), 'iat 75 s ahead');
		await assertMeRefused(server, forged({ iat: now + 86400, nbf: undefined }), 'iat a day ahead');
	});

	test('a missing exp, or an exp that is a string, huge, negative, fractional-overflowing or not a number, is refused', async () => {
		const now = nowS();
		const cases = [
			['missing', undefined],
			['string', String(now + 900)],
			['1e300', 1e300],
			['-1e300', -1e300],
			['1e20 (beyond int64 seconds)', 1e20],
			['MAX_SAFE_INTEGER', Number.MAX_SAFE_INTEGER],
			['negative', -1],
			['zero', 0],
			['null', null],
			['true', true],
			['array', [now + 900]],
			['object', { value: now + 900 }],
		];
		for (const [what, exp] of cases) {
			// JSON.stringify drops undefined: "missing" really has no exp.
			await assertMeRefused(server, forged({ exp }), `exp ${what}`);
		}
		// A number written in a form a lax parser might wrap: 2^64 + 900 as a literal.
		const raw = JSON.stringify(accessClaims(session.claims, { exp: 0 })).replace('"exp":0', '"exp":18446744073709552516');
		await assertMeRefused(server, forgeHs256(key, raw), 'exp 2^64+900');
	});

	test('nbf or iat of the wrong type is refused', async () => {
		await assertMeRefused(server, forged({ nbf: String(nowS()) }), 'nbf string');
		await assertMeRefused(server, forged({ iat: 'now' }), 'iat string');
		await assertMeRefused(server, forged({ iat: -5 }), 'iat negative');
	});

	test('wrong aud or iss is refused', async () => {
		for (const aud of ['parallax', 'parallax-api-x', 'PARALLAX-API', '', ['other'], null, 1]) {
			await assertMeRefused(server, forged({ aud }), `aud ${JSON.stringify(aud)}`);
		}
		await assertMeRefused(server, forged({ aud: undefined }), 'no aud');
		for (const iss of ['Parallax', 'parallax ', 'https://evil.example', '', ['parallax'], null]) {
			await assertMeRefused(server, forged({ iss }), `iss ${JSON.stringify(iss)}`);
		}
		await assertMeRefused(server, forged({ iss: undefined }), 'no iss');
	});

	test('typ "refresh", another typ, or no typ is refused', async () => {
		for (const typ of ['refresh', 'Access', 'id', '', ['access'], null]) {
			await assertMeRefused(server, forged({ typ }), `typ ${JSON.stringify(typ)}`);
		}
		await assertMeRefused(server, forged({ typ: undefined }), 'no typ');
	});

	test('a refresh token (prt_...) presented as a Bearer access token is refused', async () => {
		const other = await loginOk(server, owner.email, owner.password);
		await assertMeRefused(server, other.refresh, 'refresh token as Bearer');
		// ...and it was not consumed or broken by that: it still refreshes.
		const r = await refresh(server, other.refresh);
		assert.equal(r.status, 200, ctxOf(r, 'refresh after the misuse'));
	});

	test('an access token presented as a refresh token is refused', async () => {
		const r = await refresh(server, session.access);
		assert.ok([400, 401].includes(r.status), ctxOf(r, 'access token as refresh'));
		assertJsonError(r, r.status, null, 'access token as refresh');
		assert.equal(r.json.access_token, undefined);
	});

	test('one flipped bit in the signature, the payload or the header is refused', async () => {
		const t = session.access;
		const sigLen = decodeJwt(t).signature.length;
		for (const [byte, bit] of [[0, 0], [-1, 0], [-1, 7], [Math.floor(sigLen / 2), 3]]) {
			await assertMeRefused(server, flipBit(t, 2, byte, bit), `signature byte ${byte} bit ${bit}`);
		}
		// Raw bit flips in the payload bytes (may leave it invalid JSON: still a 401).
		for (const [byte, bit] of [[0, 0], [-1, 0], [10, 1], [40, 2]]) {
			await assertMeRefused(server, flipBit(t, 1, byte, bit), `payload byte ${byte} bit ${bit}`);
		}
		await assertMeRefused(server, flipBit(t, 0, 3, 0), 'header bit flip');
		// A flip that keeps the payload valid and meaningful: exp pushed a day later.
		const { payload } = decodeJwt(t);
		await assertMeRefused(server, swapPayload(t, { ...payload, exp: payload.exp + 86400 }), 'exp extended, old signature');
		await assertMeRefused(server, swapPayload(t, { ...payload, sub: randomUUID() }), 'sub changed, old signature');
		// Appended or truncated signature.
		await assertMeRefused(server, `${t}A`, 'signature with a character appended');
		await assertMeRefused(server, t.slice(0, -2), 'signature truncated');
		await assertMeRefused(server, `${t}.`, 'a fourth, empty part');
	});

	test('kid, jku, x5u, x5c, jwk and crit headers are refused, and no URL is ever fetched', async () => {
		let hits = 0;
		const seen = [];
		const listener = http.createServer((req, res) => {
			hits++;
			seen.push(`${req.method} ${req.url}`);
			res.writeHead(200, { 'Content-Type': 'application/json' });
			res.end(JSON.stringify({ keys: [{ kty: 'oct', kid: 'k', k: randomBytes(32).toString('base64url') }] }));
		});
		await new Promise((r) => listener.listen(0, '127.0.0.1', r));
		const base = `http://127.0.0.1:${listener.address().port}`;
		try {
			// Signed with the REAL key: only the header is wrong.
			const cases = [
				['kid', { kid: 'default' }],
				['kid path', { kid: '../../../../dev/null' }],
				['kid URL', { kid: `${base}/kid` }],
				['jku', { jku: `${base}/jwks.json` }],
				['x5u', { x5u: `${base}/cert.pem` }],
				['jku + kid', { jku: `${base}/jwks2.json`, kid: 'k' }],
				['x5c', { x5c: ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'] }],
				['jwk', { jwk: { kty: 'oct', k: key.toString('base64url') } }],
				['crit b64', { crit: ['b64'], b64: false }],
			];
			for (const [what, h] of cases) await assertMeRefused(server, forged({}, h), `${what} header, real key`);
			// The same headers on attacker-signed tokens (RS256 with a jku to their own JWKS).
			const claims = accessClaims(session.claims);
			await assertMeRefused(server, signAsymmetric('RS256', claims, { jku: `${base}/rs.json`, kid: 'k' }), 'RS256 + jku');
			await assertMeRefused(server, signAsymmetric('RS256', claims, { x5u: `${base}/rs.pem` }), 'RS256 + x5u');
			const attackerKey = randomBytes(32);
			await assertMeRefused(
				server,
				forgeHs256(attackerKey, claims, { jwk: { kty: 'oct', k: attackerKey.toString('base64url') } }),
				'HS256 with the attacker key embedded as jwk',
			);
			await sleep(500); // a fetch started in the background would have arrived by now
			assert.equal(hits, 0, `the server fetched a URL from a token header: ${seen.join(', ')}`);
			// The listener does count requests (so the 0 above means something).
			await new Promise((resolve, reject) => http.get(`${base}/self-check`, (res) => res.resume().on('end', resolve)).on('error', reject));
			assert.equal(hits, 1, 'the loopback listener did not see a request made to it');
		} finally {
			await new Promise((r) => listener.close(r));
		}
	});

	test('a token for a session after logout is refused, even a freshly forged one', async () => {
		const s = await loginOk(server, owner.email, owner.password);
		await assertMeOk(server, s.access, 'before logout');
		const out = await post(server, '/api/v1/auth/logout', bearer(s.access));
		assert.equal(out.status, 204, ctxOf(out, 'logout'));
		await assertMeRefused(server, s.access, 'the logged-out token');
		await assertMeRefused(server, forgeHs256(key, accessClaims(s.claims)), 'a fresh token (real key) for the ended session');
		assertRefused(await refresh(server, s.refresh), 'refresh of the ended session');
	});

	test('valid signature but sub/tid/sid not UUID-shaped, or naming another tenant, user or session: refused by the session check', async () => {
		const weird = [
			'admin',
			'',
			'00000000-0000-0000-0000-000000000000',
			"' OR '1'='1' --                     ", // 36 characters: passes a length check
			"x' UNION SELECT role FROM members --", // 36 characters
			'*',
			'%',
			'a'.repeat(300),
			12345,
			null,
			['x'],
			{ id: 'x' },
		];
		for (const claim of ['sub', 'tid', 'sid']) {
			for (const v of weird) {
				await assertMeRefused(server, forged({ [claim]: v }), `${claim} = ${JSON.stringify(v).slice(0, 40)}`);
			}
			await assertMeRefused(server, forged({ [claim]: undefined }), `no ${claim}`);
			await assertMeRefused(server, forged({ [claim]: randomUUID() }), `${claim} = a random UUID`);
			// Upper-case spelling of the real id: another string, not the same identity.
			const upper = String(session.claims[claim]).toUpperCase();
			if (upper !== session.claims[claim]) {
				await assertMeRefused(server, forged({ [claim]: upper }), `${claim} upper-cased`);
			}
		}
		// Ids swapped between claims.
		await assertMeRefused(server, forged({ sub: session.claims.tid, tid: session.claims.sub }), 'sub and tid swapped');
		await assertMeRefused(server, forged({ sid: session.claims.sub }), 'sid = the user id');
		// The session is still fine afterwards (nothing above ended it).
		await assertMeOk(server, session.access, 'the real token after the forgeries');
	});

	test('garbage credentials answer 401 (never 500): empty, "Bearer", 10 KB, non-ASCII, other schemes', async () => {
		const big = 'A'.repeat(10 * 1024);
		const values = [
			'',
			'Bearer',
			'Bearer ',
			'Bearer  ',
			'bearer',
			'Basic dXNlcjpwYXNzd29yZA==',
			'Token abc',
			'Bearer x',
			'Bearer a.b.c',
			'Bearer ...',
			'Bearer ..',
			'Bearer e30.e30.',
			'Bearer e30.e30.e30',
			`Bearer ${segment('[]')}.${segment('[]')}.AAAA`,
			`Bearer ${segment('{"alg":1}')}.${segment('{}')}.AAAA`,
			`Bearer ${segment('null')}.${segment('null')}.AAAA`,
			`Bearer ${segment({ alg: 'HS256' })}.!!!!.AAAA`,
			`Bearer ${segment({ alg: 'HS256' })}.${b64('not json')}.AAAA`,
			`Bearer ${b64('['.repeat(5000))}.${segment({})}.AAAA`,
			`Bearer ${b64('{"alg":'.repeat(500) + '1' + '}'.repeat(500))}.${segment({})}.AAAA`,
			`Bearer ${segment({ alg: 'HS256' })}.${b64('['.repeat(200) + ']'.repeat(200))}.AAAA`,
			`Bearer ${big}`,
			`Bearer ${'a.'.repeat(4000)}a`,
			`Bearer ${'A'.repeat(3000)}.${'A'.repeat(3000)}.${'A'.repeat(3000)}`,
			`Bearer plx_${randomBytes(32).toString('base64url')}`,
			'Bearer plx_',
			`Bearer prt_${randomBytes(32).toString('base64url')}`,
			`Bearer ${session.access} ${session.access}`,
			`Bearer ${session.access},Bearer ${session.access}`,
		];
		for (const v of values) {
			const r = await get(server, '/api/v1/auth/me', { headers: { Authorization: v } });
			assertRefused(r, `Authorization: ${JSON.stringify(v.slice(0, 60))} (${v.length} chars)`);
		}
		// Non-ASCII bytes (UTF-8 and raw high bytes), over a raw socket.
		for (const bytes of [
			Buffer.from('Bearer ééé.€€€.😀😀', 'utf8'),
			Buffer.concat([Buffer.from('Bearer '), Buffer.from([0xff, 0xfe, 0x80, 0x2e, 0xc3, 0x28, 0x2e, 0xa0])]),
			Buffer.from(`Bearer ${session.access.slice(0, 20)}é${session.access.slice(21)}`, 'utf8'),
		]) {
			const head = Buffer.concat([
				Buffer.from('GET /api/v1/auth/me HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: '),
				bytes,
				Buffer.from('\r\n\r\n'),
			]);
			const r = await rawRequest(server, head);
			assert.ok(r.status === 401 || r.status === 400, `non-ASCII credential: ${r.status} ${r.text.slice(0, 200)}`);
			assertJsonError(r, r.status, null, 'non-ASCII credential');
		}
		// Cookie credentials: garbage, and an access token in the session cookie.
		for (const c of [`${SESSION_COOKIE}=garbage`, `${SESSION_COOKIE}=${session.access}`, `${SESSION_COOKIE}=${session.refresh}`, `${SESSION_COOKIE}=${'x'.repeat(5000)}`]) {
			const r = await get(server, '/api/v1/auth/me', { headers: { Cookie: c } });
			assertRefused(r, `Cookie ${c.slice(0, 40)}`);
		}
		// No credential at all.
		assertRefused(await get(server, '/api/v1/auth/me'), 'no credential');
		// The server is fine.
		assert.equal((await get(server, '/health/live')).status, 200);
		await assertMeOk(server, session.access, 'after the garbage');
	});

	test('server shuts down cleanly (exit 0, no sanitizer report)', async () => {
		await server.stop();
	});
});

// Its own server: if the parser recursion kills the process, the other cases still run.
describe(`access tokens: deeply nested payload [${backend}]`, () => {
	let server;
	before(async () => {
		server = await startServer();
	});
	after(async () => {
		await server?.stop().catch(() => {});
	});

	test('an unauthenticated token whose payload nests 5000 arrays or 900 objects is refused with 401, and the server lives', async () => {
		// Under the 8 KB token limit, signed with nothing: anyone can send it.
		const h = segment({ alg: 'HS256', typ: 'JWT' });
		for (const [what, json] of [
			['5000 nested arrays', '['.repeat(5000)],
			['900 nested objects', '{"a":'.repeat(900) + '1' + '}'.repeat(900)],
		]) {
			const token = `${h}.${b64(json)}.AAAA`;
			assert.ok(token.length < 8192, `${what}: ${token.length} chars`);
			let r;
			try {
				r = await get(server, '/api/v1/auth/me', bearer(token));
			} catch (e) {
				assert.fail(`${what}: no answer (${e.message}); the server died: ${JSON.stringify(server.exited())}`);
			}
			assertRefused(r, what);
		}
		assert.equal((await get(server, '/health/live')).status, 200, 'the server is not healthy afterwards');
	});

	test('server shuts down cleanly (exit 0, no sanitizer report)', async () => {
		await server.stop();
	});
});

function b64(s) {
	return Buffer.from(s).toString('base64url');
}

// ---- refresh tokens, logout, sessions, mass assignment -------------------------------------

// True when GET/POST on `path` is not a route at all (the router's 404), judged by the
// OpenAPI document the route table generates.
async function routeMissing(server, pathRe) {
	const doc = (await get(server, '/api/v1/openapi.json')).json;
	return !Object.keys(doc?.paths || {}).some((p) => pathRe.test(p));
}

describe(`refresh, logout and sessions [${backend}]`, () => {
	let server;
	let owner;
	before(async () => {
		server = await startServer({ args: ['--login-rpm', '100000'] });
		owner = await setupOwner(server);
	});
	after(async () => {
		await server?.stop().catch(() => {});
	});

	test('refresh rotates: a new refresh token and a working access token for the same session', async () => {
		const s = await loginOk(server, owner.email, owner.password);
		const r = await refresh(server, s.refresh);
		assert.equal(r.status, 200, ctxOf(r, 'refresh'));
		const b = r.json;
		assert.match(b.refresh_token, /^prt_/);
		assert.notEqual(b.refresh_token, s.refresh, 'the refresh token was not rotated');
		assert.notEqual(b.access_token, s.access);
		assert.equal(b.token_type, 'Bearer');
		assert.equal(typeof b.expires_in, 'number');
		const c = decodeJwt(b.access_token).payload;
		assert.equal(c.sid, s.claims.sid, 'the session (family) id changed on refresh');
		assert.notEqual(c.jti, s.claims.jti, 'jti reused');
		await assertMeOk(server, b.access_token, 'rotated access token');
		// The new one rotates again.
		const r2 = await refresh(server, b.refresh_token);
		assert.equal(r2.status, 200, ctxOf(r2, 'second refresh'));
		assert.notEqual(r2.json.refresh_token, b.refresh_token);
	});

	test('reuse of a rotated refresh token: 401 refresh_reused, the whole family dies, and it is audited', async (t) => {
		const s = await loginOk(server, owner.email, owner.password);
		const r1 = await refresh(server, s.refresh);
		assert.equal(r1.status, 200, ctxOf(r1, 'first refresh'));
		const fresh = r1.json;
		await assertMeOk(server, fresh.access_token, 'new access token before the reuse');

		const reuse = await refresh(server, s.refresh);
		assertJsonError(reuse, 401, 'refresh_reused', 'reuse of the rotated token');
		assert.ok(!reuse.text.includes(s.refresh), 'the token is echoed in the error');

		assertRefused(await refresh(server, fresh.refresh_token), 'the NEW refresh token after the reuse');
		await assertMeRefused(server, fresh.access_token, 'the new access token after the reuse');
		await assertMeRefused(server, s.access, 'the original access token after the reuse');
		// Presenting the stolen token again keeps answering 401.
		assertRefused(await refresh(server, s.refresh), 'third use');

		// Other sessions of the same user are untouched.
		const other = await loginOk(server, owner.email, owner.password);
		await assertMeOk(server, other.access, 'another session');

		const audit = await get(server, `/api/v1/tenants/${owner.tenant.id}/audit?action=auth.refresh_reused`, bearer(other.access));
		if (audit.status === 404 && audit.json?.error?.code === 'not_found' && (await routeMissing(server, /\/tenants\/\{[^}]+\}\/audit$/))) {
			t.skip('audit route not yet available');
			return;
		}
		assert.equal(audit.status, 200, ctxOf(audit, 'audit query'));
		const items = audit.json.items;
		assert.ok(Array.isArray(items), 'audit answer has items');
		const hit = items.filter((e) => e.action === 'auth.refresh_reused');
		assert.ok(hit.length >= 1, `no auth.refresh_reused entry: ${audit.text.slice(0, 500)}`);
		assert.ok(
			hit.some((e) => JSON.stringify(e).includes(s.claims.sid)),
			`no auth.refresh_reused entry names the session ${s.claims.sid}: ${JSON.stringify(hit).slice(0, 500)}`,
		);
		for (const e of items) assert.equal(e.action, 'auth.refresh_reused', 'the action filter let other actions through');
		for (const secret of [s.refresh, fresh.refresh_token, s.access, fresh.access_token, owner.password]) {
			assert.ok(!audit.text.includes(secret), 'a secret reached the audit log');
		}
	});

	test('two concurrent refreshes of one token never both succeed', async () => {
		const s = await loginOk(server, owner.email, owner.password);
		const rs = await Promise.all(Array.from({ length: 6 }, () => refresh(server, s.refresh)));
		const ok = rs.filter((r) => r.status === 200);
		assert.ok(ok.length <= 1, `${ok.length} concurrent refreshes of one token succeeded: ${rs.map((r) => r.status)}`);
		for (const r of rs) {
			if (r.status !== 200) {
				assert.ok(r.status === 401 || r.status === 409, ctxOf(r, 'concurrent refresh'));
				assertJsonError(r, r.status, null, 'concurrent refresh');
			}
		}
		// Whatever happened, the server answers and no refresh token of that family has forked
		// into two live ones: at most one of the new tokens still refreshes.
		const alive = [];
		for (const r of ok) alive.push(await refresh(server, r.json.refresh_token));
		assert.ok(alive.filter((r) => r.status === 200).length <= 1);
	});

	test('unknown, malformed or empty refresh tokens are refused', async () => {
		assertRefused(await refresh(server, `prt_${randomBytes(32).toString('base64url')}`), 'unknown prt_');
		assertRefused(await refresh(server, 'prt_'), 'bare prt_');
		for (const v of ['', 'garbage', `plx_${randomBytes(32).toString('base64url')}`]) {
			const r = await refresh(server, v);
			assert.ok([400, 401].includes(r.status), ctxOf(r, `refresh_token ${JSON.stringify(v)}`));
			assertJsonError(r, r.status, null, `refresh_token ${JSON.stringify(v)}`);
		}
		for (const v of [null, 42, ['prt_x'], { t: 1 }]) {
			assertJsonError(await post(server, '/api/v1/auth/refresh', { json: { refresh_token: v } }), 400, null, `refresh_token ${JSON.stringify(v)}`);
		}
		assertJsonError(await post(server, '/api/v1/auth/refresh', { json: {} }), 400, null, 'no refresh_token');
	});

	test('logout (Bearer) answers 204 and ends the access token and the refresh token', async () => {
		const s = await loginOk(server, owner.email, owner.password);
		const keep = await loginOk(server, owner.email, owner.password);
		const out = await post(server, '/api/v1/auth/logout', bearer(s.access));
		assert.equal(out.status, 204, ctxOf(out, 'logout'));
		assert.equal(out.text, '');
		await assertMeRefused(server, s.access, 'access token after logout');
		assertRefused(await refresh(server, s.refresh), 'refresh token after logout');
		assertRefused(await post(server, '/api/v1/auth/logout', bearer(s.access)), 'second logout');
		assertRefused(await post(server, '/api/v1/auth/logout'), 'logout without a credential');
		await assertMeOk(server, keep.access, 'another session survives the logout');
	});

	test('logout after a refresh ends the rotated tokens too', async () => {
		const s = await loginOk(server, owner.email, owner.password);
		const r = await refresh(server, s.refresh);
		assert.equal(r.status, 200, ctxOf(r, 'refresh'));
		const out = await post(server, '/api/v1/auth/logout', bearer(r.json.access_token));
		assert.equal(out.status, 204, ctxOf(out, 'logout'));
		assertRefused(await refresh(server, r.json.refresh_token), 'rotated refresh token after logout');
		await assertMeRefused(server, s.access, 'first access token after logout');
		await assertMeRefused(server, r.json.access_token, 'rotated access token after logout');
	});

	test('GET /api/v1/auth/sessions lists the sessions, the caller\'s marked current, and no secret', async () => {
		const a = await loginOk(server, owner.email, owner.password);
		const b = await loginOk(server, owner.email, owner.password);
		assert.notEqual(a.claims.sid, b.claims.sid, 'two logins share a session id');
		const r = await get(server, '/api/v1/auth/sessions', bearer(a.access));
		assert.equal(r.status, 200, ctxOf(r, 'sessions'));
		const items = r.json.items;
		assert.ok(Array.isArray(items));
		const mine = items.find((x) => x.id === a.claims.sid);
		const other = items.find((x) => x.id === b.claims.sid);
		assert.ok(mine, `the current session ${a.claims.sid} is not listed`);
		assert.ok(other, `the other session ${b.claims.sid} is not listed`);
		assert.equal(mine.current, true);
		assert.equal(other.current, false);
		assert.equal(items.filter((x) => x.current === true).length, 1, 'exactly one session is current');
		for (const secret of [a.refresh, b.refresh, a.access, b.access, owner.password]) {
			assert.ok(!r.text.includes(secret), 'a token reached the session list');
		}
		assert.ok(!/hash/i.test(r.text), `a hash field in the session list: ${r.text.slice(0, 300)}`);
		// The other session sees itself as current.
		const rb = await get(server, '/api/v1/auth/sessions', bearer(b.access));
		assert.equal(rb.json.items.find((x) => x.current === true)?.id, b.claims.sid);
	});

	test('DELETE /api/v1/auth/sessions/{id} ends that session\'s tokens; an unknown id is 404', async () => {
		const a = await loginOk(server, owner.email, owner.password);
		const b = await loginOk(server, owner.email, owner.password);
		const del = await request(server, 'DELETE', `/api/v1/auth/sessions/${b.claims.sid}`, bearer(a.access));
		assert.equal(del.status, 204, ctxOf(del, 'delete other session'));
		await assertMeRefused(server, b.access, 'access token of the deleted session');
		assertRefused(await refresh(server, b.refresh), 'refresh token of the deleted session');
		await assertMeOk(server, a.access, 'the deleting session survives');
		const list = await get(server, '/api/v1/auth/sessions', bearer(a.access));
		assert.ok(!list.json.items.some((x) => x.id === b.claims.sid), 'the deleted session is still listed');

		for (const id of [randomUUID(), b.claims.sid, 'not-a-uuid', "x'%20OR%20'1'='1", '%25', '0']) {
			const r = await request(server, 'DELETE', `/api/v1/auth/sessions/${id}`, bearer(a.access));
			assertJsonError(r, 404, 'not_found', `DELETE sessions/${id}`);
		}
		await assertMeOk(server, a.access, 'still alive after the 404s');
		assertRefused(await request(server, 'DELETE', `/api/v1/auth/sessions/${a.claims.sid}`), 'DELETE without a credential');
		// Deleting one's own current session works and ends it.
		const self = await request(server, 'DELETE', `/api/v1/auth/sessions/${a.claims.sid}`, bearer(a.access));
		assert.equal(self.status, 204, ctxOf(self, 'delete own session'));
		await assertMeRefused(server, a.access, 'own deleted session');
	});

	test('mass assignment: unknown fields on login, refresh and password bodies answer 400 unknown_field', async () => {
		for (const extra of [{ role: 'owner' }, { tenant_id: randomUUID() }, { is_admin: true }, { user_id: owner.user.id }]) {
			const name = Object.keys(extra)[0];
			const r = await login(server, owner.email, owner.password, extra);
			const e = assertJsonError(r, 400, 'unknown_field', `login + ${name}`);
			assert.equal(e.field, name, `login + ${name}: error.field`);
			assert.equal(r.json.access_token, undefined);
		}
		const s = await loginOk(server, owner.email, owner.password);
		for (const extra of [{ tenant_id: randomUUID() }, { user_id: randomUUID() }, { role: 'owner' }]) {
			const name = Object.keys(extra)[0];
			const e = assertJsonError(await refresh(server, s.refresh, extra), 400, 'unknown_field', `refresh + ${name}`);
			assert.equal(e.field, name);
		}
		// The refused refresh did not consume the token.
		const ok = await refresh(server, s.refresh);
		assert.equal(ok.status, 200, ctxOf(ok, 'refresh after the refused ones'));
		const at = ok.json.access_token;
		const newPw = strongPassword();
		for (const extra of [{ role: 'owner' }, { email: 'eve@example.com' }, { user_id: randomUUID() }]) {
			const name = Object.keys(extra)[0];
			const r = await post(server, '/api/v1/auth/password', {
				json: { current_password: owner.password, new_password: newPw, ...extra },
				...bearer(at),
			});
			const e = assertJsonError(r, 400, 'unknown_field', `password + ${name}`);
			assert.equal(e.field, name);
		}
		// Nothing changed: the old password still signs in, the new one does not, and the
		// session was not ended.
		await assertMeOk(server, at, 'after the refused password changes');
		await loginOk(server, owner.email, owner.password, 'old password after refused changes');
		assertJsonError(await login(server, owner.email, newPw), 401, 'invalid_credentials', 'new password after refused changes');
		// Bodies that are not objects.
		for (const body of ['[]', '"x"', 'null', '42', 'true', '[{"email":"a","password":"b"}]']) {
			for (const p of ['/api/v1/auth/login', '/api/v1/auth/refresh']) {
				const r = await post(server, p, { body, headers: { 'Content-Type': 'application/json' } });
				assertJsonError(r, 400, null, `${p} body ${body}`);
			}
		}
	});

	test('login: email is case-insensitive; a wrong tenant is refused like a wrong password', async () => {
		await loginOk(server, owner.email.toUpperCase(), owner.password, 'upper-case email');
		const wrongPw = await login(server, owner.email, `${owner.password}x`);
		assertJsonError(wrongPw, 401, 'invalid_credentials', 'wrong password');
		const r = await login(server, owner.email, owner.password, { tenant: randomUUID() });
		assert.ok([400, 401, 404].includes(r.status), ctxOf(r, 'unknown tenant'));
		assert.equal(r.json?.access_token, undefined, 'signed in to a tenant that is not the user\'s');
		if (r.status === 401) assert.deepEqual(normalizedError(r), normalizedError(wrongPw), 'unknown tenant vs wrong password');
	});

	test('server shuts down cleanly (exit 0, no sanitizer report)', async () => {
		await server.stop();
	});
});

// ---- password change and policy -----------------------------------------------------------

describe(`password change and policy [${backend}]`, () => {
	let server;
	let owner;
	let current; // the owner's password now
	let key;
	before(async () => {
		server = await startServer({ args: ['--login-rpm', '100000'] });
		owner = await setupOwner(server);
		current = owner.password;
		key = await readJwtKey(server.dataDir);
	});
	after(async () => {
		await server?.stop().catch(() => {});
	});

	const change = (token, current_password, new_password) =>
		post(server, '/api/v1/auth/password', { json: { current_password, new_password }, ...bearer(token) });

	// Changes the password to `next` and checks that it took.
	async function changeOk(next, what) {
		const s = await loginOk(server, owner.email, current, `${what}: login`);
		const r = await change(s.access, current, next);
		assert.equal(r.status, 204, ctxOf(r, what));
		current = next;
		return s;
	}

	test('policy: shorter than 12 characters answers 400 naming new_password', async () => {
		const s = await loginOk(server, owner.email, current);
		for (const pw of ['', 'a', 'Xq7!pL2#vN9', '短い密码测试用十一字']) {
			const r = await change(s.access, current, pw);
			const e = assertJsonError(r, 400, null, `new_password ${JSON.stringify(pw)} (${[...pw].length} chars)`);
			assert.equal(e.field, 'new_password', `field for ${JSON.stringify(pw)}`);
		}
		await assertMeOk(server, s.access, 'a refused change ends nothing');
	});

	test('policy: common passwords answer 400 weak_password', async () => {
		const s = await loginOk(server, owner.email, current);
		for (const pw of ['password1234', 'Password123!', 'PASSWORD1234', 'qwertyuiop123', '123456789012', 'aaaaaaaaaaaaaaaa', 'iloveyou1234']) {
			const r = await change(s.access, current, pw);
			const e = assertJsonError(r, 400, 'weak_password', `new_password ${pw}`);
			assert.equal(e.field, 'new_password');
		}
		await assertMeOk(server, s.access, 'a refused change ends nothing');
	});

	test('a wrong current password is refused and changes nothing', async () => {
		const s = await loginOk(server, owner.email, current);
		const next = strongPassword();
		const r = await change(s.access, `${current}x`, next);
		assert.ok([400, 401, 403].includes(r.status), ctxOf(r, 'wrong current password'));
		assertJsonError(r, r.status, null, 'wrong current password');
		await loginOk(server, owner.email, current, 'old password still works');
		assertJsonError(await login(server, owner.email, next), 401, 'invalid_credentials', 'the refused new password');
		assertRefused(await post(server, '/api/v1/auth/password', { json: { current_password: current, new_password: next } }), 'no credential');
	});

	test('a password change ends every session of the user; the old password stops working', async () => {
		const a = await loginOk(server, owner.email, current);
		const b = await loginOk(server, owner.email, current);
		const rb = await refresh(server, b.refresh); // a rotated family too
		assert.equal(rb.status, 200);
		const old = current;
		const next = strongPassword();
		const r = await change(a.access, old, next);
		assert.equal(r.status, 204, ctxOf(r, 'change'));
		current = next;
		await assertMeRefused(server, a.access, 'the changing session\'s access token');
		await assertMeRefused(server, b.access, 'another session\'s access token');
		await assertMeRefused(server, rb.json.access_token, 'a refreshed access token');
		assertRefused(await refresh(server, a.refresh), 'the changing session\'s refresh token');
		assertRefused(await refresh(server, rb.json.refresh_token), 'another session\'s refresh token');
		await assertMeRefused(server, forgeHs256(key, accessClaims(a.claims)), 'a fresh token (real key) for an ended session');
		assertJsonError(await login(server, owner.email, old), 401, 'invalid_credentials', 'old password');
		const n = await loginOk(server, owner.email, next, 'new password');
		await assertMeOk(server, n.access, 'session opened with the new password');
	});

	test('a 12-character Unicode passphrase is accepted (length counts characters, not bytes)', async () => {
		for (const pw of ['Grüße-aus-Köln-über-Straße', '日本語のとても長い合言葉です', 'ταχύτατηαλεπού', 'पासवर्ड-कठिन-है-यह']) {
			assert.ok([...pw].length >= 12);
			await changeOk(pw, `unicode ${pw}`);
			await loginOk(server, owner.email, pw, `login with ${pw}`);
		}
		// Exactly 12 characters of 3 bytes each.
		const twelve = '鳥獣戯画絵巻物語春夏秋冬';
		assert.equal([...twelve].length, 12);
		await changeOk(twelve, '12 CJK characters');
		await loginOk(server, owner.email, twelve, 'login with 12 CJK characters');
	});

	test('a 1024-byte password is accepted and not truncated: one different last byte does not sign in', async () => {
		const pw = `${randomBytes(800).toString('base64url')}`.slice(0, 1023) + 'Q';
		assert.equal(Buffer.byteLength(pw), 1024);
		await changeOk(pw, '1024-byte password');
		await loginOk(server, owner.email, pw, 'login with 1024 bytes');
		const lastDiffers = `${pw.slice(0, -1)}R`;
		assertJsonError(await login(server, owner.email, lastDiffers), 401, 'invalid_credentials', '1024 bytes, last byte differs');
		assertJsonError(await login(server, owner.email, pw.slice(0, -1)), 401, 'invalid_credentials', 'the first 1023 bytes');
		assertJsonError(await login(server, owner.email, pw.slice(0, 72)), 401, 'invalid_credentials', 'the first 72 bytes');
		// 128-byte passwords, differing only at byte 100 (bcrypt-style truncation at 72).
		const p128 = randomBytes(128).toString('hex').slice(0, 128);
		await changeOk(p128, '128-byte password');
		const at100 = p128.slice(0, 100) + (p128[100] === 'a' ? 'b' : 'a') + p128.slice(101);
		assertJsonError(await login(server, owner.email, at100), 401, 'invalid_credentials', '128 bytes, byte 100 differs');
		await loginOk(server, owner.email, p128, 'login with 128 bytes');
	});

	test('a password with an escaped NUL (\\u0000) is refused or kept whole, never cut at the NUL', async () => {
		const prefix = strongPassword();
		const withNul = `${prefix}\u0000${strongPassword()}`;
		const s = await loginOk(server, owner.email, current);
		const r = await change(s.access, current, withNul);
		if (r.status === 400) {
			assertJsonError(r, 400, null, 'new_password with NUL');
			await assertMeOk(server, s.access, 'a refused change ends nothing');
			return;
		}
		assert.equal(r.status, 204, ctxOf(r, 'new_password with NUL'));
		const cut = await login(server, owner.email, prefix);
		current = withNul;
		assert.equal(
			cut.status,
			401,
			`the password was stored cut at the NUL: the part before it (${prefix.length} chars) signs in. ${ctxOf(cut, 'prefix login')}`,
		);
		await loginOk(server, owner.email, withNul, 'the whole password with the NUL');
	});

	test('server shuts down cleanly (exit 0, no sanitizer report)', async () => {
		await server.stop();
	});
});

// ---- lock-out ------------------------------------------------------------------------------

describe(`lock-out [${backend}]`, () => {
	let server;
	let owner;
	before(async () => {
		// The login rate limit is raised so only the lock-out is under test.
		server = await startServer({ args: ['--login-rpm', '100000'] });
		owner = await setupOwner(server);
	});
	after(async () => {
		await server?.stop().catch(() => {});
	});

	test('an unknown email answers exactly like a wrong password, and takes about as long', async () => {
		const wrong = [];
		const unknown = [];
		const times = { wrong: [], unknown: [] };
		for (let i = 0; i < 3; i++) {
			let t0 = performance.now();
			wrong.push(await login(server, owner.email, `${owner.password}-wrong`));
			times.wrong.push(performance.now() - t0);
			t0 = performance.now();
			unknown.push(await login(server, `nobody-${randomBytes(4).toString('hex')}@example.com`, owner.password));
			times.unknown.push(performance.now() - t0);
		}
		for (const r of [...wrong, ...unknown]) assertJsonError(r, 401, 'invalid_credentials', 'failed login');
		const a = wrong[0];
		const b = unknown[0];
		assert.deepEqual(normalizedError(b), normalizedError(a), 'error bodies differ');
		assert.equal(b.headers['content-type'], a.headers['content-type']);
		const names = (r) =>
			Object.keys(r.headers)
				.filter((h) => !['date', 'x-request-id', 'content-length', 'connection', 'keep-alive'].includes(h))
				.sort();
		assert.deepEqual(names(b), names(a), 'header sets differ');
		assert.equal(a.headers['retry-after'], undefined);
		assert.equal(b.headers['retry-after'], undefined);
		// Timing: the unknown user costs a hash too (the median of 3 each).
		const med = (xs) => [...xs].sort((x, y) => x - y)[1];
		const ratio = med(times.unknown) / med(times.wrong);
		assert.ok(
			ratio > 0.33 && ratio < 3,
			`unknown email ${med(times.unknown).toFixed(1)} ms vs wrong password ${med(times.wrong).toFixed(1)} ms (ratio ${ratio.toFixed(2)})`,
		);
		// A success resets the account's failure count.
		await loginOk(server, owner.email, owner.password, 'reset');
	});

	test('5 wrong passwords lock the account: the next attempt, even right, gets 429 locked_out with Retry-After; it unlocks after it', async () => {
		for (let i = 1; i <= 4; i++) {
			assertJsonError(await login(server, owner.email, `bad-${i}-${owner.password}`), 401, 'invalid_credentials', `failure ${i}`);
		}
		const fifth = await login(server, owner.email, `bad-5-${owner.password}`);
		if (fifth.status === 429) assertJsonError(fifth, 429, 'locked_out', 'failure 5');
		else assertJsonError(fifth, 401, 'invalid_credentials', 'failure 5');

		const sixth = await login(server, owner.email, owner.password);
		const e = assertJsonError(sixth, 429, 'locked_out', 'right password while locked');
		assert.equal(sixth.json.access_token, undefined);
		const ra = retryAfterOf(sixth, 'locked_out');
		assert.ok(ra <= 30, `Retry-After ${ra} s for a first lock (30 s expected)`);
		assert.ok(!e.message.includes(owner.email), 'the lock answer names the account');
		// Upper-case spelling of the email is the same account: still locked.
		assertJsonError(await login(server, owner.email.toUpperCase(), owner.password), 429, 'locked_out', 'upper-case email while locked');
		// The sign-in form shares the lock.
		const page = await get(server, '/login');
		if (page.status === 200) {
			const csrf = hiddenCsrf(page.text);
			const jar = new Jar();
			jar.update(page);
			const f = await post(server, '/login', {
				body: form({ email: owner.email, password: owner.password, csrf }),
				headers: { 'Content-Type': FORM, Cookie: jar.header() },
			});
			assert.equal(f.status, 429, ctxOf(f, 'POST /login while the account is locked'));
			assert.ok(!parseSetCookies(f).some((c) => c.name === SESSION_COOKIE && !cleared(c)), 'a session cookie while locked');
		}
		// Wait it out: after Retry-After the right password signs in again.
		await sleep((ra + 1) * 1000);
		await loginOk(server, owner.email, owner.password, `after waiting Retry-After (${ra} s)`);
	});

	test('an unknown email also locks after 5 failures, with the same 429 answer', async () => {
		const ghost = `ghost-${randomBytes(4).toString('hex')}@example.com`;
		for (let i = 1; i <= 4; i++) {
			assertJsonError(await login(server, ghost, `pw-${i}-${strongPassword()}`), 401, 'invalid_credentials', `unknown failure ${i}`);
		}
		const fifth = await login(server, ghost, strongPassword());
		assert.ok([401, 429].includes(fifth.status), ctxOf(fifth, 'unknown failure 5'));
		const sixth = await login(server, ghost, strongPassword());
		assertJsonError(sixth, 429, 'locked_out', 'unknown email, sixth attempt');
		const ra = retryAfterOf(sixth, 'unknown locked_out');
		assert.ok(ra <= 30, `Retry-After ${ra}`);

		// The same shape as a locked real account (the seconds in the message may differ).
		for (let i = 1; i <= 5; i++) await login(server, owner.email, `again-${i}-${owner.password}`);
		const real = await login(server, owner.email, owner.password);
		assertJsonError(real, 429, 'locked_out', 'real account locked again');
		const strip = (r) => ({ ...normalizedError(r), message: normalizedError(r).message.replace(/\d+/g, 'N') });
		assert.deepEqual(strip(sixth), strip(real), 'locked answers differ between unknown and known accounts');
		retryAfterOf(real, 'real locked again');
	});

	test('server shuts down cleanly (exit 0, no sanitizer report)', async () => {
		await server.stop();
	});
});

describe(`lock-out per IP [${backend}]`, () => {
	let server;
	let owner;
	before(async () => {
		server = await startServer({ args: ['--login-rpm', '100000'] });
		owner = await setupOwner(server);
	});
	after(async () => {
		await server?.stop().catch(() => {});
	});

	test('50 failures from one IP over many accounts lock that IP, even for a right password', async () => {
		const statuses = [];
		for (let i = 0; i < 50; i++) {
			const r = await login(server, `spray-${i}-${randomBytes(3).toString('hex')}@example.com`, 'Spray-Password-2024!');
			statuses.push(r.status);
			if (r.status === 429) {
				assertJsonError(r, 429, 'locked_out', `spray ${i}`);
				break;
			}
			assertJsonError(r, 401, 'invalid_credentials', `spray ${i}`);
		}
		assert.ok(statuses.length >= 45, `locked after only ${statuses.length} failures spread over accounts`);
		const r = await login(server, owner.email, owner.password);
		assertJsonError(r, 429, 'locked_out', 'right password from a locked IP');
		retryAfterOf(r, 'IP lock');
	});

	test('server shuts down cleanly (exit 0, no sanitizer report)', async () => {
		await server.stop();
	});
});

// ---- login rate limit ----------------------------------------------------------------------

describe(`login rate limit --login-rpm 5 [${backend}]`, () => {
	let server;
	let owner;
	before(async () => {
		server = await startServer({ args: ['--login-rpm', '5'] });
		owner = await setupOwner(server);
	});
	after(async () => {
		await server?.stop().catch(() => {});
	});

	test('a burst beyond the bucket gets 429 rate_limited with Retry-After, and Retry-After is honest', async () => {
		const rs = await Promise.all(Array.from({ length: 12 }, () => login(server, owner.email, owner.password)));
		const ok = rs.filter((r) => r.status === 200);
		const limited = rs.filter((r) => r.status === 429);
		assert.ok(ok.length >= 1, `no login got through: ${rs.map((r) => r.status)}`);
		assert.ok(ok.length <= 6, `${ok.length} of 12 logins got through at 5/min: ${rs.map((r) => r.status)}`);
		assert.equal(ok.length + limited.length, 12, `other statuses: ${rs.map((r) => r.status)}`);
		let wait = 0;
		for (const r of limited) {
			assertJsonError(r, 429, 'rate_limited', 'burst');
			assert.equal(r.json.access_token, undefined);
			wait = Math.max(wait, retryAfterOf(r, 'rate_limited'));
		}
		assert.ok(wait <= 60, `Retry-After ${wait} s at 5/min`);
		// Still limited right away, whatever the password.
		const again = await login(server, owner.email, 'wrong-wrong-wrong');
		assertJsonError(again, 429, 'rate_limited', 'right after the burst');
		// The sign-in form draws from the same per-IP bucket.
		const page = await get(server, '/login');
		if (page.status === 200) {
			const jar = new Jar();
			jar.update(page);
			const f = await post(server, '/login', {
				body: form({ email: owner.email, password: owner.password, csrf: hiddenCsrf(page.text) }),
				headers: { 'Content-Type': FORM, Cookie: jar.header() },
			});
			assert.equal(f.status, 429, ctxOf(f, 'POST /login right after the burst'));
			assert.ok(!parseSetCookies(f).some((c) => c.name === SESSION_COOKIE && !cleared(c)), 'a session cookie while rate limited');
		}
		const ra = retryAfterOf(again, 'right after the burst');
		await sleep((ra + 1) * 1000);
		await loginOk(server, owner.email, owner.password, `after Retry-After (${ra} s)`);
	});

	test('server shuts down cleanly (exit 0, no sanitizer report)', async () => {
		await server.stop();
	});
});

// ---- browser session and CSRF ---------------------------------------------------------------


describe(`browser session and CSRF [${backend}]`, () => {
	let server;
	let owner;
	let hasLoginPage = false;
	before(async () => {
		server = await startServer({ args: ['--login-rpm', '100000'] });
		owner = await setupOwner(server);
		hasLoginPage = (await get(server, '/login')).status !== 404;
	});
	after(async () => {
		await server?.stop().catch(() => {});
	});

	// GET /login into a fresh (or given) jar: {jar, csrf, page}.
	async function loginPage(jar = new Jar()) {
		const page = jar.update(await get(server, '/login', { headers: { Cookie: jar.header() } }));
		assert.equal(page.status, 200, ctxOf(page, 'GET /login'));
		const csrf = hiddenCsrf(page.text);
		assert.ok(csrf, 'no csrf field on the login form');
		return { jar, csrf, page };
	}

	function postLogin(jar, fields, headers = {}) {
		return post(server, '/login', { body: form(fields), headers: { 'Content-Type': FORM, Cookie: jar.header(), ...headers } });
	}

	// Signs in through the form: {jar, session (cookie value), res}.
	async function browserLogin(jar) {
		const p = await loginPage(jar);
		const res = p.jar.update(await postLogin(p.jar, { email: owner.email, password: owner.password, csrf: p.csrf }));
		assert.equal(res.status, 303, ctxOf(res, 'POST /login'));
		const session = p.jar.get(SESSION_COOKIE);
		assert.ok(session, `no ${SESSION_COOKIE} cookie after login: ${res.headers['set-cookie']}`);
		return { jar: p.jar, session, res };
	}

	const cookieMe = (jar) => get(server, '/api/v1/auth/me', { headers: { Cookie: jar.header() } });

	test('GET /login: a form with a csrf field, and the parallax_csrf cookie', async (t) => {
		if (!hasLoginPage) return t.todo('login page');
		const { jar, csrf, page } = await loginPage();
		assert.match(page.headers['content-type'], /^text\/html\b/);
		assert.match(page.text, /<form[^>]*method="post"/i);
		for (const name of ['email', 'password', 'csrf']) assert.match(page.text, new RegExp(`name="${name}"`), `field ${name}`);
		const c = parseSetCookies(page).find((x) => x.name === CSRF_COOKIE);
		assert.ok(c, `no ${CSRF_COOKIE} Set-Cookie: ${page.headers['set-cookie']}`);
		assert.ok(c.attrs.httponly, `${CSRF_COOKIE} is not HttpOnly: ${c.line}`);
		assert.ok(c.attrs.samesite, `${CSRF_COOKIE} has no SameSite: ${c.line}`);
		assert.ok(csrf.length >= 20, `csrf token too short: ${csrf}`);
		assert.ok(jar.get(CSRF_COOKIE));
		assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>\s*\S/i.test(page.text), 'inline script on the login page');
	});

	test('POST /login with the CSRF pair: 303 and a parallax_session cookie (HttpOnly, SameSite=Lax, Path=/) that authenticates', async (t) => {
		if (!hasLoginPage) return t.todo('login page');
		const { jar, session, res } = await browserLogin();
		const c = parseSetCookies(res).find((x) => x.name === SESSION_COOKIE);
		assert.ok(c.attrs.httponly, `not HttpOnly: ${c.line}`);
		assert.equal(String(c.attrs.samesite).toLowerCase(), 'lax', `SameSite: ${c.line}`);
		assert.equal(c.attrs.path, '/', `Path: ${c.line}`);
		assert.equal(c.attrs.domain, undefined, `a Domain attribute widens the cookie: ${c.line}`);
		assert.ok(session.length >= 32, `session id too short: ${session}`);
		assert.ok(!session.includes(owner.email) && !session.includes(owner.password));
		const loc = res.headers.location;
		assert.ok(loc, '303 without Location');
		assert.equal(new URL(loc, server.url).origin, server.url, `redirect leaves the site: ${loc}`);
		const m = await cookieMe(jar);
		assert.equal(m.status, 200, ctxOf(m, 'GET /me with the cookie'));
		assert.equal(m.json.user.email, owner.email);
		// The cookie is not a Bearer token, nor a refresh token.
		assertRefused(await me(server, session), 'the session cookie value as a Bearer token');
		const rf = await refresh(server, session);
		assert.ok([400, 401].includes(rf.status), ctxOf(rf, 'the session cookie value as a refresh token'));
		assert.equal(rf.json?.access_token, undefined);
		assert.equal((await cookieMe(jar)).status, 200, 'the session survives the misuse');
	});

	test('after login, next= only redirects within the site and cannot inject headers', async (t) => {
		if (!hasLoginPage) return t.todo('login page');
		const cases = [
			['/agents?x=1', '/agents?x=1'],
			['//evil.example/x', null],
			['https://evil.example/', null],
			['/\\evil.example', null],
			['\\\\evil.example', null],
			['/\t/evil.example', null],
			['javascript:alert(1)', null],
			['/x\r\nSet-Cookie: injected=1', null],
		];
		for (const [next, want] of cases) {
			const p = await loginPage();
			const r = await postLogin(p.jar, { email: owner.email, password: owner.password, csrf: p.csrf, next });
			assert.equal(r.status, 303, ctxOf(r, `next=${JSON.stringify(next)}`));
			const loc = r.headers.location;
			const u = new URL(loc, server.url);
			assert.equal(u.origin, server.url, `next=${JSON.stringify(next)} redirected off-site: ${loc}`);
			assert.ok(!/^\/\/|^\/\\|^[a-z]+:/i.test(loc) || loc.startsWith(server.url), `Location ${loc} is protocol-relative or absolute elsewhere`);
			if (want) assert.equal(loc, want, `next=${JSON.stringify(next)}`);
			assert.ok(!parseSetCookies(r).some((c) => c.name === 'injected'), `next=${JSON.stringify(next)} injected a header`);
		}
	});

	test('session fixation: a pre-set parallax_session is never reused, and every login gets a new id', async (t) => {
		if (!hasLoginPage) return t.todo('login page');
		const fixed = randomBytes(32).toString('base64url');
		const jar = new Jar();
		jar.c.set(SESSION_COOKIE, fixed);
		const first = await browserLogin(jar);
		assert.notEqual(first.session, fixed, 'the attacker-chosen session id was kept');
		const probe = new Jar();
		probe.c.set(SESSION_COOKIE, fixed);
		assertRefused(await cookieMe(probe), 'the fixed id does not authenticate');
		// Signing in again with the old session cookie still sent (a form opened before):
		// a new id.
		const before = first.session;
		const p = await loginPage(new Jar());
		p.jar.c.set(SESSION_COOKIE, before);
		const res = p.jar.update(await postLogin(p.jar, { email: owner.email, password: owner.password, csrf: p.csrf }));
		assert.equal(res.status, 303, ctxOf(res, 'POST /login while signed in'));
		const second = { session: p.jar.get(SESSION_COOKIE) };
		assert.ok(second.session, 'no session cookie on the second login');
		assert.notEqual(second.session, before, 'the session id did not change at login');
		const third = await browserLogin(new Jar());
		assert.notEqual(third.session, second.session);
		assert.notEqual(third.session, before);
	});

	test('POST /login without a valid CSRF token or from a foreign Origin: 403 and no session', async (t) => {
		if (!hasLoginPage) return t.todo('login page');
		const p = await loginPage();
		const good = { email: owner.email, password: owner.password, csrf: p.csrf };
		const cases = [
			['no csrf field', p.jar, { email: owner.email, password: owner.password }, {}],
			['wrong csrf', p.jar, { ...good, csrf: randomBytes(32).toString('base64url') }, {}],
			['empty csrf', p.jar, { ...good, csrf: '' }, {}],
			['no csrf cookie', new Jar(), good, {}],
			['foreign Origin', p.jar, good, { Origin: EVIL }],
			['Origin null', p.jar, good, { Origin: 'null' }],
		];
		for (const [what, jar, fields, headers] of cases) {
			const r = await postLogin(jar, fields, headers);
			assert.equal(r.status, 403, ctxOf(r, `POST /login, ${what}`));
			const s = parseSetCookies(r).find((c) => c.name === SESSION_COOKIE && !cleared(c));
			assert.equal(s, undefined, `${what}: a session cookie was set`);
		}
		// The same Origin is fine.
		const ok = await postLogin(p.jar, good, { Origin: server.url });
		assert.equal(ok.status, 303, ctxOf(ok, 'POST /login with our own Origin'));
	});

	test('a cookie-authenticated write without the CSRF token, or from a foreign Origin: 403', async (t) => {
		if (!hasLoginPage) return t.todo('login page');
		const { jar } = await browserLogin();
		const csrf = jar.get(CSRF_COOKIE);
		assert.ok(csrf, 'no CSRF cookie after login');
		const del = (headers) => request(server, 'DELETE', `/api/v1/auth/sessions/${randomUUID()}`, { headers: { Cookie: jar.header(), ...headers } });
		assertJsonError(await del({}), 403, null, 'cookie DELETE without a CSRF token');
		assertJsonError(await del({ 'X-CSRF-Token': randomBytes(32).toString('base64url') }), 403, null, 'cookie DELETE, wrong token');
		assertJsonError(await del({ 'X-CSRF-Token': csrf, Origin: EVIL }), 403, null, 'cookie DELETE, foreign Origin');
		// Control: the right token from our own origin passes the CSRF check (then 404).
		assertJsonError(await del({ 'X-CSRF-Token': csrf, Origin: server.url }), 404, 'not_found', 'cookie DELETE with the token');
		// Logout through the API without the token does not log out.
		const out = await post(server, '/api/v1/auth/logout', { headers: { Cookie: jar.header() } });
		assertJsonError(out, 403, null, 'cookie logout without a token');
		const m = await cookieMe(jar);
		assert.equal(m.status, 200, ctxOf(m, 'still signed in after the refused writes'));
		// A Bearer-authenticated write needs no CSRF token (no ambient credential).
		const s = await loginOk(server, owner.email, owner.password);
		const r = await request(server, 'DELETE', `/api/v1/auth/sessions/${randomUUID()}`, { headers: { Authorization: `Bearer ${s.access}`, Origin: EVIL } });
		assertJsonError(r, 404, 'not_found', 'Bearer DELETE from any Origin');
	});

	test('POST /logout with the token clears the cookie and ends the session; without it, nothing happens', async (t) => {
		if (!hasLoginPage) return t.todo('login page');
		const { jar, session } = await browserLogin();
		const csrf = jar.get(CSRF_COOKIE);
		const noTok = await post(server, '/logout', { body: form({}), headers: { 'Content-Type': FORM, Cookie: jar.header() } });
		assert.equal(noTok.status, 403, ctxOf(noTok, 'POST /logout without the token'));
		const evil = await post(server, '/logout', { body: form({ csrf }), headers: { 'Content-Type': FORM, Cookie: jar.header(), Origin: EVIL } });
		assert.equal(evil.status, 403, ctxOf(evil, 'POST /logout from a foreign Origin'));
		assert.equal((await cookieMe(jar)).status, 200, 'the refused logouts ended the session');

		const out = await post(server, '/logout', { body: form({ csrf }), headers: { 'Content-Type': FORM, Cookie: jar.header() } });
		assert.ok([200, 204, 302, 303].includes(out.status), ctxOf(out, 'POST /logout'));
		const c = parseSetCookies(out).find((x) => x.name === SESSION_COOKIE);
		assert.ok(c && cleared(c), `the session cookie is not cleared: ${out.headers['set-cookie']}`);
		const stale = new Jar();
		stale.c.set(SESSION_COOKIE, session);
		assertRefused(await cookieMe(stale), 'the old session cookie after logout');
	});

	test('server shuts down cleanly (exit 0, no sanitizer report)', async () => {
		await server.stop();
	});
});
