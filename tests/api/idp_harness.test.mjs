// The test identity provider (tests/idp/idp.mjs) on its own, with no Parallax server: the
// SSO suites trust it to be a real, standard OpenID Connect provider, so this checks what
// they rely on: discovery, the login form and consent, PKCE, the code exchange with
// client_secret_basic, ID token claims and signatures against the published JWKS, claim
// changes at the IdP, key rotation, the one-shot tampering hook and a clean stop.
import test, { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, createPublicKey, randomBytes, verify } from 'node:crypto';
import net from 'node:net';
import { get, post } from './helpers/http.mjs';
import { startIdp } from '../idp/idp.mjs';

const CLIENT = {
	client_id: 'parallax-test',
	client_secret: randomBytes(24).toString('base64url'),
	redirect_uris: ['http://127.0.0.1:1/sso/callback'],
};
const ANN = {
	sub: 'ann-0001',
	email: 'ann@acme.test',
	email_verified: true,
	name: 'Ann Admin',
	groups: ['eng', 'admins'],
	password: 'correct horse battery staple',
};

const decode = (part) => JSON.parse(Buffer.from(part, 'base64url').toString());
const parts = (jwt) => {
	const [h, p, s] = jwt.split('.');
	return { header: decode(h), payload: decode(p), signature: s };
};

// A relying party's side of one authorization request: {url, state, nonce, verifier}.
function authorizeRequest(discovery, extra = {}) {
	const state = randomBytes(16).toString('base64url');
	const nonce = randomBytes(16).toString('base64url');
	const verifier = randomBytes(32).toString('base64url');
	const url = new URL(discovery.authorization_endpoint);
	const params = {
		client_id: CLIENT.client_id,
		response_type: 'code',
		redirect_uri: CLIENT.redirect_uris[0],
		scope: 'openid email profile groups',
		state,
		nonce,
		code_challenge: createHash('sha256').update(verifier).digest('base64url'),
		code_challenge_method: 'S256',
		...extra,
	};
	for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
	return { url: url.href, state, nonce, verifier };
}

function tokenRequest(discovery, code, verifier, client = CLIENT) {
	const basic = Buffer.from(
		`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`,
	).toString('base64');
	const form = { grant_type: 'authorization_code', code, redirect_uri: client.redirect_uris[0] };
	if (verifier !== undefined) form.code_verifier = verifier;
	return post(discovery.token_endpoint, new URL(discovery.token_endpoint).pathname, {
		headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded' },
		body: new URLSearchParams(form).toString(),
	});
}

async function fetchJwks(discovery) {
	const res = await get(discovery.jwks_uri, new URL(discovery.jwks_uri).pathname);
	assert.equal(res.status, 200);
	return res.json;
}

// Verifies a compact JWS against a JWKS the way a relying party does: the key by kid, the
// algorithm pinned by the key.
function verifiesWith(jwks, jwt) {
	const { header } = parts(jwt);
	const jwk = jwks.keys.find((k) => k.kid === header.kid);
	if (!jwk || jwk.alg !== header.alg) return false;
	const [h, p, s] = jwt.split('.');
	const key = createPublicKey({ key: jwk, format: 'jwk' });
	const opts = jwk.kty === 'EC' ? { key, dsaEncoding: 'ieee-p1363' } : key;
	return verify('sha256', Buffer.from(`${h}.${p}`), opts, Buffer.from(s, 'base64url'));
}

// Login, then the code exchange: {callback (URL), tokens, req}.
async function signIn(idp, discovery, credentials = { login: ANN.email, password: ANN.password }) {
	const req = authorizeRequest(discovery);
	const callback = new URL(await idp.login(req.url, credentials));
	const res = await tokenRequest(discovery, callback.searchParams.get('code'), req.verifier);
	assert.equal(res.status, 200, res.text);
	return { callback, tokens: res.json, req };
}

describe('test identity provider (RS256)', () => {
	let idp;
	let discovery;

	before(async () => {
		idp = await startIdp({ clients: [CLIENT], users: [ANN, { ...ANN, sub: 'bob-0002', email: 'bob@acme.test', groups: ['eng'] }] });
		const res = await get(idp.issuer, '/.well-known/openid-configuration');
		assert.equal(res.status, 200);
		discovery = res.json;
	});
	after(() => idp?.stop());

	test('discovery names the loopback issuer, its endpoints, S256 PKCE, the iss parameter and the groups claim', () => {
		assert.match(idp.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
		assert.equal(discovery.issuer, idp.issuer);
		for (const ep of ['authorization_endpoint', 'token_endpoint', 'jwks_uri']) {
			assert.ok(discovery[ep].startsWith(`${idp.issuer}/`), `${ep}: ${discovery[ep]}`);
		}
		assert.deepEqual(discovery.code_challenge_methods_supported, ['S256']);
		assert.equal(discovery.authorization_response_iss_parameter_supported, true);
		assert.deepEqual(discovery.id_token_signing_alg_values_supported, ['RS256']);
		for (const scope of ['openid', 'email', 'profile', 'groups']) assert.ok(discovery.scopes_supported.includes(scope), scope);
		for (const claim of ['email', 'email_verified', 'name', 'groups']) assert.ok(discovery.claims_supported.includes(claim), claim);
	});

	test('the login form is plain HTML with labelled login and password inputs and a Sign in button', async () => {
		const req = authorizeRequest(discovery);
		const auth = await get(req.url, new URL(req.url).pathname + new URL(req.url).search);
		assert.equal(auth.status, 303);
		const location = new URL(auth.headers.location, idp.issuer);
		assert.match(location.pathname, /^\/interaction\/[\w-]+$/);
		const cookies = auth.headers['set-cookie'].map((c) => c.split(';')[0]).join('; ');
		const form = await get(idp.issuer, location.pathname, { headers: { Cookie: cookies } });
		assert.equal(form.status, 200);
		assert.match(form.headers['content-type'], /^text\/html/);
		assert.match(form.text, /<label for="login">[^<]+<\/label> <input id="login" name="login"/);
		assert.match(form.text, /<label for="password">[^<]+<\/label> <input id="password" name="password" type="password"/);
		assert.match(form.text, /<button type="submit">Sign in<\/button>/);
		assert.doesNotMatch(form.text, /https?:\/\//, 'no external resources on the page');
		// Without the interaction cookie the page is refused.
		const bare = await get(idp.issuer, location.pathname);
		assert.equal(bare.status, 400);
		assert.doesNotMatch(bare.text, /name="password"/);
	});

	test('a full login returns code, state and iss to the client; the code buys a signed ID token with the claims', async () => {
		const { callback, tokens, req } = await signIn(idp, discovery);
		assert.equal(`${callback.origin}${callback.pathname}`, CLIENT.redirect_uris[0]);
		assert.equal(callback.searchParams.get('state'), req.state);
		assert.equal(callback.searchParams.get('iss'), idp.issuer);
		assert.ok(callback.searchParams.get('code'));

		const { header, payload } = parts(tokens.id_token);
		assert.deepEqual(header, { alg: 'RS256', kid: idp.kid });
		assert.equal(payload.iss, idp.issuer);
		assert.equal(payload.aud, CLIENT.client_id);
		assert.equal(payload.sub, ANN.sub);
		assert.equal(payload.nonce, req.nonce);
		assert.equal(payload.email, ANN.email);
		assert.equal(payload.email_verified, true);
		assert.equal(payload.name, ANN.name);
		assert.deepEqual(payload.groups, ANN.groups);
		const now = Math.floor(Date.now() / 1000);
		assert.ok(payload.iat <= now + 1 && payload.exp > now, `iat ${payload.iat} exp ${payload.exp}`);

		const jwks = await fetchJwks(discovery);
		assert.deepEqual(jwks, idp.jwks());
		assert.equal(jwks.keys.length, 1);
		assert.equal(jwks.keys[0].d, undefined, 'no private part published');
		assert.ok(verifiesWith(jwks, tokens.id_token));
		// The check above can fail: a payload with one more group breaks the signature.
		const [h, , s] = tokens.id_token.split('.');
		const widened = Buffer.from(JSON.stringify({ ...payload, groups: [...payload.groups, 'owners'] })).toString('base64url');
		assert.equal(verifiesWith(jwks, `${h}.${widened}.${s}`), false);
	});

	test('the login accepts the sub as well as the email, and the second user gets their own claims', async () => {
		const { tokens } = await signIn(idp, discovery, { login: 'bob-0002', password: ANN.password });
		const { payload } = parts(tokens.id_token);
		assert.equal(payload.sub, 'bob-0002');
		assert.equal(payload.email, 'bob@acme.test');
		assert.deepEqual(payload.groups, ['eng']);
	});

	test('a wrong password or an unknown user is refused at the login form', async () => {
		const req = authorizeRequest(discovery);
		await assert.rejects(idp.login(req.url, { login: ANN.email, password: 'wrong' }), /login refused: .*Invalid email or password/);
		await assert.rejects(idp.login(req.url, { login: 'nobody@acme.test', password: ANN.password }), /login refused/);

		// As a browser sees it: the form again with an alert and no session, then a retry works.
		const auth = await get(req.url, new URL(req.url).pathname + new URL(req.url).search);
		const action = `${new URL(auth.headers.location, idp.issuer).pathname}/login`;
		const cookies = auth.headers['set-cookie'].map((c) => c.split(';')[0]).join('; ');
		const submit = (password) =>
			post(idp.issuer, action, {
				headers: { Cookie: cookies, 'Content-Type': 'application/x-www-form-urlencoded' },
				body: new URLSearchParams({ login: ANN.email, password }).toString(),
			});
		const wrong = await submit('wrong');
		assert.equal(wrong.status, 200);
		assert.match(wrong.text, /<p role="alert">Invalid email or password\.<\/p>/);
		assert.match(wrong.text, /name="password"/);
		assert.equal(wrong.headers.location, undefined);
		assert.equal(wrong.headers['set-cookie'], undefined, 'no session cookie');
		const right = await submit(ANN.password);
		assert.equal(right.status, 303);
		assert.ok(right.headers.location.startsWith(`${idp.issuer}/auth/`), right.headers.location);
	});

	test('PKCE is required: no code_challenge is an error redirect, and a code needs its verifier', async () => {
		const plain = authorizeRequest(discovery, { code_challenge: undefined, code_challenge_method: undefined });
		const refused = new URL(await idp.login(plain.url, { login: ANN.email, password: ANN.password }));
		assert.equal(refused.searchParams.get('error'), 'invalid_request');
		assert.equal(refused.searchParams.get('code'), null);

		const req = authorizeRequest(discovery);
		const callback = new URL(await idp.login(req.url, { login: ANN.email, password: ANN.password }));
		const code = callback.searchParams.get('code');
		const noVerifier = await tokenRequest(discovery, code, undefined);
		assert.equal(noVerifier.status, 400);
		assert.equal(noVerifier.json.error, 'invalid_grant');
		const wrongVerifier = await tokenRequest(discovery, code, randomBytes(32).toString('base64url'));
		assert.equal(wrongVerifier.status, 400);
	});

	test('the token endpoint wants the client secret', async () => {
		const req = authorizeRequest(discovery);
		const callback = new URL(await idp.login(req.url, { login: ANN.email, password: ANN.password }));
		const res = await tokenRequest(discovery, callback.searchParams.get('code'), req.verifier, { ...CLIENT, client_secret: 'not-the-secret' });
		assert.equal(res.status, 401);
		assert.equal(res.json.error, 'invalid_client');
	});

	test('setUser changes the claims of the next login (a group change at the IdP)', async () => {
		idp.setUser(ANN.sub, { groups: ['eng'], email_verified: false });
		try {
			const { payload } = parts((await signIn(idp, discovery)).tokens.id_token);
			assert.deepEqual(payload.groups, ['eng']);
			assert.equal(payload.email_verified, false);
			assert.equal(payload.email, ANN.email);
		} finally {
			idp.setUser(ANN.sub, { groups: ANN.groups, email_verified: true });
		}
	});

	test('tamperNextIdToken replaces exactly one token response, with re-signing helpers', async () => {
		let seen;
		idp.tamperNextIdToken((t) => {
			seen = t;
			return t.sign(t.header, { ...t.payload, iss: 'http://evil.test' });
		});
		const first = (await signIn(idp, discovery)).tokens.id_token;
		assert.ok(seen, 'the tamper function ran');
		assert.equal(parts(seen.token).payload.iss, idp.issuer, 'it saw the genuine token');
		assert.equal(parts(first).payload.iss, 'http://evil.test');
		assert.ok(verifiesWith(await fetchJwks(discovery), first), 'signed with the real key');

		const second = (await signIn(idp, discovery)).tokens.id_token;
		assert.equal(parts(second).payload.iss, idp.issuer, 'the next response is genuine again');

		idp.tamperNextIdToken((t) => t.unsigned());
		const none = (await signIn(idp, discovery)).tokens.id_token;
		assert.equal(parts(none).header.alg, 'none');
		assert.equal(parts(none).signature, '');

		idp.tamperNextIdToken((t) => t.signHs256(t.header, t.payload, CLIENT.client_secret));
		const hs = (await signIn(idp, discovery)).tokens.id_token;
		const [h, p, s] = hs.split('.');
		assert.equal(parts(hs).header.alg, 'HS256');
		assert.equal(s, createHmac('sha256', CLIENT.client_secret).update(`${h}.${p}`).digest('base64url'));
	});

	test('rotateKeys signs with a new kid and publishes only the new key; a code issued before still works', async () => {
		const before = await fetchJwks(discovery);
		const oldKid = idp.kid;
		const pending = authorizeRequest(discovery);
		const callback = new URL(await idp.login(pending.url, { login: ANN.email, password: ANN.password }));

		const newKid = await idp.rotateKeys();
		assert.equal(newKid, idp.kid);
		assert.notEqual(newKid, oldKid);
		const after = await fetchJwks(discovery);
		assert.deepEqual(after.keys.map((k) => k.kid), [newKid]);
		assert.notDeepEqual(after, before);

		const res = await tokenRequest(discovery, callback.searchParams.get('code'), pending.verifier);
		assert.equal(res.status, 200, res.text);
		assert.equal(parts(res.json.id_token).header.kid, newKid);
		assert.ok(verifiesWith(after, res.json.id_token));
		assert.equal(verifiesWith(before, res.json.id_token), false, 'the old JWKS cannot verify it');

		const fresh = (await signIn(idp, discovery)).tokens.id_token;
		assert.equal(parts(fresh).header.kid, newKid);
		assert.ok(verifiesWith(after, fresh));
	});
});

describe('test identity provider (ES256)', () => {
	test('signs ID tokens with ES256 and publishes an EC P-256 key', async () => {
		const idp = await startIdp({ clients: [CLIENT], users: [ANN], alg: 'ES256' });
		try {
			const discovery = (await get(idp.issuer, '/.well-known/openid-configuration')).json;
			assert.deepEqual(discovery.id_token_signing_alg_values_supported, ['ES256']);
			const { tokens } = await signIn(idp, discovery);
			assert.equal(parts(tokens.id_token).header.alg, 'ES256');
			const jwks = await fetchJwks(discovery);
			assert.equal(jwks.keys[0].kty, 'EC');
			assert.equal(jwks.keys[0].crv, 'P-256');
			assert.ok(verifiesWith(jwks, tokens.id_token));
		} finally {
			await idp.stop();
		}
	});
});

test('stop() closes the port even with a keep-alive connection open', async () => {
	const idp = await startIdp({ clients: [CLIENT], users: [ANN] });
	const socket = net.connect(idp.port, '127.0.0.1');
	await new Promise((resolve) => socket.once('connect', resolve));
	socket.write('GET /jwks HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
	await new Promise((resolve) => socket.once('data', resolve));
	const closed = new Promise((resolve) => socket.once('close', resolve));
	await idp.stop();
	await closed;
	await assert.rejects(get(idp.issuer, '/jwks'), /ECONNREFUSED/);
});
