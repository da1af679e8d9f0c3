// A real OpenID Connect provider for the SSO tests: oidc-provider (v9) on a random loopback
// port, with test users, groups and clients, run in-process by the API (node:test) and the
// browser (Playwright) suites. Nothing here is faked: discovery, the JWKS, the authorization
// and token endpoints, PKCE and the login interaction are the library's own; the harness only
// supplies accounts, a plain login form, key rotation and a hook to tamper with one response.
//
//   const idp = await startIdp({ clients, users, alg })
//     clients: [{ client_id, client_secret, redirect_uris, ...any oidc-provider client metadata }]
//              (defaults: response_types ['code'], grant_types ['authorization_code'],
//              token_endpoint_auth_method 'client_secret_basic', id_token_signed_response_alg alg)
//     users:   [{ sub, email, email_verified, name, groups, password }]
//     alg:     'RS256' (default) | 'ES256', the ID token signing algorithm
//   idp.issuer                  'http://127.0.0.1:PORT', no trailing slash
//   idp.port, idp.kid           the port; the kid of the current signing key
//   idp.jwks()                  the published JWKS ({keys: [public JWK]})
//   idp.setUser(sub, fields)    merges fields (groups, email, email_verified, name, password)
//                               into a user, creating it if new; the next token carries them
//   await idp.rotateKeys()      a new signing key with a new kid; the old one is unpublished
//   idp.tamperNextIdToken(fn)   the next token response carrying an id_token gets
//                               `await fn(t)` as its id_token instead (see tamperKit below)
//   await idp.login(authorizeUrl, { login, password })
//                               drives the login form (and the auto-granted consent) over HTTP
//                               with a fresh cookie jar; resolves to the redirect to the client
//                               (code, state, iss), not requested; rejects if refused
//   await idp.stop()            closes the server and destroys open sockets
//
// The login form (GET /interaction/:uid) has inputs named `login` (email or sub) and
// `password`, both labelled, and a "Sign in" button; a wrong password renders the form again
// with an alert. Consent is granted without a page for whatever the client asked.
import { createHmac, generateKeyPairSync, randomBytes, sign as cryptoSign } from 'node:crypto';
import http from 'node:http';
import Provider from 'oidc-provider';

const SCOPE_CLAIMS = {
	openid: ['sub'],
	email: ['email', 'email_verified'],
	profile: ['name'],
	groups: ['groups'],
};
const USER_CLAIMS = ['email', 'email_verified', 'name', 'groups'];
const MAX_FORM = 16 * 1024;
const MAX_HOPS = 20;

const b64url = (value) => Buffer.from(value).toString('base64url');
const escapeHtml = (s) =>
	String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function page(title, body) {
	return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body><main>
<h1>${escapeHtml(title)}</h1>
${body}
</main></body>
</html>
`;
}

// A signing key of `alg`: the KeyObject and its private JWK with a fresh kid.
function newSigningKey(alg) {
	const { privateKey } =
		alg === 'ES256'
			? generateKeyPairSync('ec', { namedCurve: 'P-256' })
			: generateKeyPairSync('rsa', { modulusLength: 2048 });
	const jwk = { ...privateKey.export({ format: 'jwk' }), kid: `k-${randomBytes(6).toString('base64url')}`, alg, use: 'sig' };
	return { alg, kid: jwk.kid, privateKey, jwk };
}

function publicJwk({ jwk }) {
	const { d, p, q, dp, dq, qi, ...pub } = jwk;
	return pub;
}

function compactJws(header, payload, signature) {
	return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}.${signature}`;
}

function signingInput(header, payload) {
	return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
}

// What a tamper function receives: the genuine token decoded, and ways to make another one.
//   token                         the genuine compact JWS
//   header, payload               its decoded parts (copies; change them freely)
//   sign(header, payload)         signs with the current private key, header as given
//   signHs256(header, payload, secret)   HMAC-SHA256 with `secret`, header.alg set to HS256
//   unsigned(header, payload)     header.alg set to none, empty signature
// Each argument defaults to the genuine part.
function tamperKit(token, key) {
	const [h, p] = token.split('.');
	const genuine = {
		header: JSON.parse(Buffer.from(h, 'base64url').toString()),
		payload: JSON.parse(Buffer.from(p, 'base64url').toString()),
	};
	const copy = (v) => structuredClone(v);
	return {
		token,
		header: copy(genuine.header),
		payload: copy(genuine.payload),
		sign(header = genuine.header, payload = genuine.payload) {
			const input = Buffer.from(signingInput(header, payload));
			const keyArg = key.alg === 'ES256' ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' } : key.privateKey;
			return `${input}.${cryptoSign('sha256', input, keyArg).toString('base64url')}`;
		},
		signHs256(header = genuine.header, payload = genuine.payload, secret) {
			const input = signingInput({ ...header, alg: 'HS256' }, payload);
			return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
		},
		unsigned(header = genuine.header, payload = genuine.payload) {
			return compactJws({ ...header, alg: 'none' }, payload, '');
		},
	};
}

// oidc-provider's adapter interface over one Map shared by every Provider instance of this
// IdP, so sessions, interactions, grants and codes survive a key rotation (which needs a new
// instance: the keystore is fixed at construction).
function sharedMemoryAdapter() {
	const store = new Map(); // key -> {payload, exp (ms) | undefined}
	const get = (key) => {
		const entry = store.get(key);
		if (!entry) return undefined;
		if (entry.exp !== undefined && entry.exp <= Date.now()) {
			store.delete(key);
			return undefined;
		}
		return entry.payload;
	};
	const put = (key, payload, expiresIn) =>
		store.set(key, { payload, exp: typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : undefined });
	return class SharedMemoryAdapter {
		constructor(model) {
			this.model = model;
		}

		key(id) {
			return `${this.model}:${id}`;
		}

		async upsert(id, payload, expiresIn) {
			put(this.key(id), payload, expiresIn);
			if (this.model === 'Session') put(`sessionUid:${payload.uid}`, id, expiresIn);
			if (payload.userCode) put(`userCode:${payload.userCode}`, id, expiresIn);
			if (payload.grantId) {
				const members = get(`grant:${payload.grantId}`) ?? new Set();
				members.add(this.key(id));
				put(`grant:${payload.grantId}`, members);
			}
		}

		async find(id) {
			return get(this.key(id));
		}

		async findByUid(uid) {
			const id = get(`sessionUid:${uid}`);
			return id === undefined ? undefined : this.find(id);
		}

		async findByUserCode(userCode) {
			const id = get(`userCode:${userCode}`);
			return id === undefined ? undefined : this.find(id);
		}

		async consume(id) {
			const payload = get(this.key(id));
			if (payload) payload.consumed = Math.floor(Date.now() / 1000);
		}

		async destroy(id) {
			store.delete(this.key(id));
		}

		async revokeByGrantId(grantId) {
			for (const key of get(`grant:${grantId}`) ?? []) store.delete(key);
			store.delete(`grant:${grantId}`);
		}
	};
}

function readForm(req) {
	return new Promise((resolve, reject) => {
		let size = 0;
		const chunks = [];
		req.on('data', (chunk) => {
			size += chunk.length;
			if (size > MAX_FORM) {
				reject(new Error('form too large'));
				req.destroy();
				return;
			}
			chunks.push(chunk);
		});
		req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString())));
		req.on('error', reject);
	});
}

function loginForm(uid, { login = '', error } = {}) {
	const alert = error ? `<p role="alert">${escapeHtml(error)}</p>\n` : '';
	return page(
		'Sign in to the test identity provider',
		`${alert}<form method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="off">
<p><label for="login">Email</label> <input id="login" name="login" type="text" value="${escapeHtml(login)}" required autofocus></p>
<p><label for="password">Password</label> <input id="password" name="password" type="password" required></p>
<p><button type="submit">Sign in</button></p>
</form>`,
	);
}

function send(res, status, html) {
	res.writeHead(status, {
		'Content-Type': 'text/html; charset=utf-8',
		'Cache-Control': 'no-store',
		'Content-Length': Buffer.byteLength(html),
	});
	res.end(html);
}

// Grants what the client asked for (the consent prompt's missing scopes and claims).
async function grantConsent(provider, interaction) {
	const { prompt, params, session, grantId } = interaction;
	const grant = grantId
		? await provider.Grant.find(grantId)
		: new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
	const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = prompt.details;
	if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
	if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
	for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {})) {
		grant.addResourceScope(indicator, scopes.join(' '));
	}
	return grant.save();
}

function findUser(users, login) {
	const wanted = String(login ?? '').trim().toLowerCase();
	for (const user of users.values()) {
		if (user.sub === login || (user.email && user.email.toLowerCase() === wanted)) return user;
	}
	return undefined;
}

// GET /interaction/:uid and POST /interaction/:uid/login, for the provider of the moment.
async function handleInteraction(provider, users, req, res, url) {
	const m = /^\/interaction\/([\w-]+)(\/login)?$/.exec(url.pathname);
	if (!m) return send(res, 404, page('Not found', '<p>No such interaction route.</p>'));
	const interaction = await provider.interactionDetails(req, res);
	if (interaction.uid !== m[1]) return send(res, 400, page('Bad request', '<p>Interaction mismatch.</p>'));
	const isPost = req.method === 'POST';
	if (interaction.prompt.name === 'consent' && !isPost) {
		const grantId = await grantConsent(provider, interaction);
		return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
	}
	if (interaction.prompt.name !== 'login') {
		return send(res, 400, page('Bad request', `<p>Unsupported prompt ${escapeHtml(interaction.prompt.name)}.</p>`));
	}
	if (!isPost) return send(res, 200, loginForm(interaction.uid));
	if (!m[2]) return send(res, 405, page('Method not allowed', '<p>Post the form to /login.</p>'));
	const form = await readForm(req);
	const user = findUser(users, form.get('login'));
	if (!user || user.password === undefined || user.password !== form.get('password')) {
		return send(res, 200, loginForm(interaction.uid, { login: form.get('login') ?? '', error: 'Invalid email or password.' }));
	}
	return provider.interactionFinished(req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
}

function plainPage(title) {
	return async (ctx, form) => {
		ctx.type = 'html';
		ctx.body = page(title, form ? `${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>` : '');
	};
}

function providerConfig({ users, clients, key, adapter, cookieKeys, alg }) {
	return {
		adapter,
		jwks: { keys: [key.jwk] },
		clients: clients.map((c) => ({
			response_types: ['code'],
			grant_types: ['authorization_code'],
			token_endpoint_auth_method: 'client_secret_basic',
			id_token_signed_response_alg: alg,
			...c,
		})),
		clientDefaults: { id_token_signed_response_alg: alg },
		claims: SCOPE_CLAIMS,
		// The relying party reads email, email_verified, name and groups from the ID token.
		conformIdTokenClaims: false,
		pkce: { required: () => true },
		cookies: { keys: cookieKeys },
		features: {
			devInteractions: { enabled: false },
			rpInitiatedLogout: {
				enabled: true,
				logoutSource: plainPage('Sign out of the test identity provider?'),
				postLogoutSuccessSource: plainPage('Signed out'),
			},
		},
		ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
		clientBasedCORS: () => false,
		async findAccount(ctx, sub) {
			const user = users.get(sub);
			if (!user) return undefined;
			return {
				accountId: sub,
				async claims() {
					const out = { sub };
					for (const name of USER_CLAIMS) if (user[name] !== undefined) out[name] = structuredClone(user[name]);
					return out;
				},
			};
		},
		async renderError(ctx, out) {
			ctx.type = 'html';
			const rows = Object.entries(out).map(([k, v]) => `<p><strong>${escapeHtml(k)}</strong>: ${escapeHtml(v)}</p>`);
			ctx.body = page('Identity provider error', rows.join('\n'));
		},
	};
}

// A Provider instance and its request handler; `tamper.take()` hands out the pending tamper
// function at most once, `tamper.key()` is the signing key of the moment.
function newProvider(issuer, config, tamper) {
	const provider = new Provider(issuer, config);
	// Post-middleware: swap the id_token of one token response when a test asked for it.
	provider.use(async (ctx, next) => {
		await next();
		if (ctx.oidc?.route !== 'token' || ctx.status !== 200 || typeof ctx.body?.id_token !== 'string') return;
		const fn = tamper.take();
		if (fn) ctx.body = { ...ctx.body, id_token: await fn(tamperKit(ctx.body.id_token, tamper.key())) };
	});
	return { provider, handle: provider.callback() };
}

// One HTTP exchange with no agent (one connection per request): {status, headers, text}.
function exchange(url, { method = 'GET', headers = {}, body } = {}) {
	return new Promise((resolve, reject) => {
		const req = http.request(url, { method, headers, agent: false }, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString() }));
			res.on('error', reject);
		});
		req.on('error', reject);
		req.end(body);
	});
}

// A minimal cookie jar: name/path/value, honouring Path and deletion; enough for one host.
class CookieJar {
	#cookies = new Map(); // `${path}\n${name}` -> {name, value, path}

	store(setCookies, url) {
		for (const line of setCookies ?? []) {
			const [pair, ...attrs] = line.split(';').map((s) => s.trim());
			const eq = pair.indexOf('=');
			const name = pair.slice(0, eq);
			const value = pair.slice(eq + 1);
			let path = url.pathname.replace(/\/[^/]*$/, '') || '/';
			let expired = value === '';
			for (const attr of attrs) {
				const [k, v = ''] = attr.split('=');
				if (k.toLowerCase() === 'path') path = v;
				if (k.toLowerCase() === 'expires' && Date.parse(v) <= Date.now()) expired = true;
				if (k.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
			}
			const id = `${path}\n${name}`;
			if (expired) this.#cookies.delete(id);
			else this.#cookies.set(id, { name, value, path });
		}
	}

	header(url) {
		const p = url.pathname;
		return [...this.#cookies.values()]
			.filter((c) => p === c.path || p.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
			.map((c) => `${c.name}=${c.value}`)
			.join('; ');
	}
}

async function driveLogin(issuer, authorizeUrl, { login, password }) {
	const origin = new URL(issuer).origin;
	const jar = new CookieJar();
	let url = new URL(authorizeUrl);
	let method = 'GET';
	let body;
	let submitted = false;
	for (let hop = 0; hop < MAX_HOPS; hop++) {
		if (url.origin !== origin) return url.href;
		const headers = { Cookie: jar.header(url) };
		if (body !== undefined) {
			headers['Content-Type'] = 'application/x-www-form-urlencoded';
			headers['Content-Length'] = Buffer.byteLength(body);
		}
		const res = await exchange(url, { method, headers, body });
		jar.store(res.headers['set-cookie'], url);
		if (res.status >= 300 && res.status < 400 && res.headers.location) {
			url = new URL(res.headers.location, url);
			method = 'GET';
			body = undefined;
			continue;
		}
		const action = /<form method="post" action="([^"]+\/login)"/.exec(res.text);
		if (res.status === 200 && action && !submitted) {
			submitted = true;
			url = new URL(action[1].replace(/&amp;/g, '&'), url);
			method = 'POST';
			body = new URLSearchParams({ login, password }).toString();
			continue;
		}
		const why = submitted && action ? 'login refused' : `unexpected ${res.status} at ${url.pathname}`;
		throw new Error(`idp: ${why}: ${res.text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300)}`);
	}
	throw new Error('idp: too many redirects');
}

export async function startIdp({ clients = [], users = [], alg = 'RS256' } = {}) {
	if (alg !== 'RS256' && alg !== 'ES256') throw new Error(`idp: alg must be RS256 or ES256, not ${alg}`);
	const userMap = new Map(users.map((u) => [u.sub, structuredClone(u)]));
	const adapter = sharedMemoryAdapter();
	const cookieKeys = [randomBytes(32).toString('base64url')];
	let key = newSigningKey(alg);
	let pendingTamper = null;
	const tamper = {
		take() {
			const fn = pendingTamper;
			pendingTamper = null;
			return fn;
		},
		key: () => key,
	};

	const sockets = new Set();
	let current = null;
	let issuer = null;
	const server = http.createServer((req, res) => {
		const { provider, handle } = current;
		const url = new URL(req.url, issuer);
		if (!url.pathname.startsWith('/interaction/')) return handle(req, res);
		handleInteraction(provider, userMap, req, res, url).catch((err) => {
			if (res.headersSent) return res.destroy();
			send(res, err.statusCode ?? 400, page('Interaction failed', `<p>${escapeHtml(err.message)}</p>`));
		});
	});
	server.on('connection', (socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});
	await new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', resolve);
	});
	const { port } = server.address();
	issuer = `http://127.0.0.1:${port}`;
	const build = () => newProvider(issuer, providerConfig({ users: userMap, clients, key, adapter, cookieKeys, alg }), tamper);
	current = build();

	return {
		issuer,
		port,
		get kid() {
			return key.kid;
		},
		jwks: () => ({ keys: [publicJwk(key)] }),
		setUser(sub, fields) {
			const user = userMap.get(sub) ?? { sub };
			userMap.set(sub, { ...user, ...structuredClone(fields), sub });
		},
		async rotateKeys() {
			key = newSigningKey(alg);
			current = build();
			return key.kid;
		},
		tamperNextIdToken(fn) {
			if (typeof fn !== 'function') throw new TypeError('idp: tamperNextIdToken needs a function');
			pendingTamper = fn;
		},
		login: (authorizeUrl, credentials) => driveLogin(issuer, authorizeUrl, credentials),
		stop() {
			return new Promise((resolve) => {
				server.close(() => resolve());
				for (const socket of sockets) socket.destroy();
			});
		},
	};
}
