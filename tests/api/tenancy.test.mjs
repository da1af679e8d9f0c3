// Tenancy: the tenant, its members and their roles (last owner kept, no role above your
// own), invitations (link shown once, accepted by a new or an existing account, dead tokens
// 404), workspaces and their members with role overrides, quotas (plan ceilings, the atomic
// check-and-increment race), mass assignment, and isolation between two tenants.
// Runs against the real binary once per backend (PARALLAX_TEST_DB=sqlite|postgres).
import test, { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { backend, request, setupOwner, sql, startServer, strongPassword } from './helpers/server.mjs';
import { createSecondTenant } from './helpers/tenants.mjs';

const TIME_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const QUOTA_KEYS = ['members', 'workspaces', 'agents', 'patterns', 'executions_per_day',
	'concurrent_executions', 'tokens_per_month', 'requests_per_minute'];

let server, owner, ownerTok, T;

function api(method, path, token, json, headers = {}) {
	const h = { ...headers };
	if (token) h.Authorization = `Bearer ${token}`;
	return request(server, method, path, { headers: h, json });
}

function expectStatus(res, status, what) {
	assert.equal(res.status, status, `${what}: ${res.status} ${res.text.slice(0, 400)}`);
	return res.json;
}

function expectError(res, status, code, what) {
	expectStatus(res, status, what);
	assert.equal(res.json?.error?.code, code, `${what}: error code in ${res.text.slice(0, 400)}`);
	return res.json.error;
}

async function login(email, password) {
	return expectStatus(await api('POST', '/api/v1/auth/login', null, { email, password }), 200,
		`login ${email}`);
}

const q = (s) => `'${String(s).replaceAll("'", "''")}'`;
const sha256 = (s) => createHash('sha256').update(s).digest('hex');
const tokenOf = (link) => new URL(link).searchParams.get('token');
const newEmail = (tag = 'm') => `${tag}-${randomBytes(4).toString('hex')}@example.com`;

async function invite(body, token = ownerTok, tenant = T) {
	const res = await api('POST', `/api/v1/tenants/${tenant}/invitations`, token, body);
	return expectStatus(res, 201, `invite ${JSON.stringify(body)}`);
}

function accept(body, token) {
	return api('POST', '/api/v1/invitations/accept', token, body);
}

// A new member with this role, signed in: {user_id, email, password, token}.
async function addMember(role, opts = {}) {
	const email = newEmail(role);
	const password = strongPassword();
	const inv = await invite({ email, role, ...opts });
	const res = await accept({ token: tokenOf(inv.link), name: `${role} person`, password });
	const body = expectStatus(res, 201, `accept as ${role}`);
	const s = await login(email, password);
	return { user_id: body.user.id, email, password, token: s.access_token };
}

async function quotas(token = ownerTok) {
	return expectStatus(await api('GET', `/api/v1/tenants/${T}/quotas`, token), 200, 'quotas');
}

async function members(token = ownerTok, query = '') {
	return expectStatus(await api('GET', `/api/v1/tenants/${T}/members${query}`, token), 200,
		'members').items;
}

async function count(text) {
	return Number((await sql(server, text))[0][0]);
}

async function auditActions(action) {
	const res = await api('GET', `/api/v1/tenants/${T}/audit?action=${action}&limit=100`, ownerTok);
	return expectStatus(res, 200, `audit ${action}`).items;
}

before(async () => {
	server = await startServer({ args: ['--login-rpm', '100000'] });
	owner = await setupOwner(server);
	T = owner.tenant.id;
	ownerTok = (await login(owner.email, owner.password)).access_token;
});

after(async () => {
	await server?.stop();
});

describe(`tenant [${backend}]`, () => {
	test('the caller\'s tenant reads by id and by slug; any other id is 404', async () => {
		const byId = expectStatus(await api('GET', `/api/v1/tenants/${T}`, ownerTok), 200, 'get');
		assert.equal(byId.id, T);
		assert.equal(byId.slug, owner.tenant.slug);
		assert.equal(byId.plan, 'free');
		assert.match(byId.created_at, TIME_RE);
		const bySlug = expectStatus(await api('GET', `/api/v1/tenants/${owner.tenant.slug}`, ownerTok),
			200, 'get by slug');
		assert.equal(bySlug.id, T);
		expectError(await api('GET', '/api/v1/tenants/00000000-0000-7000-8000-000000000000', ownerTok),
			404, 'not_found', 'unknown tenant');
		expectError(await api('GET', `/api/v1/tenants/${T}`), 401, 'unauthenticated', 'no credential');
	});

	test('an admin renames it (audited); unknown fields are refused and never stored', async () => {
		const res = await api('PATCH', `/api/v1/tenants/${T}`, ownerTok, { name: 'Acme Renamed' });
		assert.equal(expectStatus(res, 200, 'rename').name, 'Acme Renamed');
		for (const extra of [{ plan: 'enterprise' }, { tenant_id: 'x' }, { slug: 'evil' }, { is_admin: true }]) {
			const r = await api('PATCH', `/api/v1/tenants/${T}`, ownerTok, { name: 'Hacked', ...extra });
			expectError(r, 400, 'unknown_field', `PATCH with ${JSON.stringify(extra)}`);
		}
		const rows = await sql(server, `SELECT name, plan, slug FROM tenants WHERE id = ${q(T)}`);
		assert.deepEqual(rows[0], ['Acme Renamed', 'free', owner.tenant.slug]);
		const audit = await auditActions('tenant.updated');
		assert.equal(audit[0]?.resource?.id, T);
	});
});

describe(`members [${backend}]`, () => {
	let admin, dev, viewer;

	before(async () => {
		admin = await addMember('admin');
		dev = await addMember('developer');
		viewer = await addMember('viewer');
	});

	test('a viewer lists members with email, name, role; pages follow the cursor', async () => {
		const all = await members(viewer.token);
		const byId = Object.fromEntries(all.map((m) => [m.user_id, m]));
		assert.equal(byId[owner.user.id]?.role, 'owner');
		assert.equal(byId[admin.user_id]?.role, 'admin');
		assert.equal(byId[dev.user_id]?.email, dev.email);
		assert.equal(byId[viewer.user_id]?.name, 'viewer person');
		assert.match(byId[viewer.user_id].created_at, TIME_RE);
		const seen = [];
		let cursor = '';
		for (let i = 0; i < 10; i++) {
			const page = expectStatus(await api('GET',
				`/api/v1/tenants/${T}/members?limit=2${cursor ? `&cursor=${cursor}` : ''}`, viewer.token), 200, 'page');
			assert.ok(page.items.length <= 2);
			seen.push(...page.items.map((m) => m.user_id));
			if (!page.next_cursor) break;
			cursor = page.next_cursor;
		}
		assert.deepEqual(seen, all.map((m) => m.user_id), 'pages cover the list once, in order');
		expectError(await api('GET', `/api/v1/tenants/${T}/members?cursor=%%%`, viewer.token), 400,
			'invalid_cursor', 'bad cursor');
	});

	test('a role change ends the member\'s sessions and shows in the list', async () => {
		const m = await addMember('operator');
		const res = await api('PATCH', `/api/v1/tenants/${T}/members/${m.user_id}`, admin.token, { role: 'developer' });
		assert.equal(expectStatus(res, 200, 'change role').role, 'developer');
		expectStatus(await api('GET', `/api/v1/tenants/${T}/members`, m.token), 401, 'old token after role change');
		const again = await login(m.email, m.password);
		assert.equal((await members(again.access_token)).find((x) => x.user_id === m.user_id).role, 'developer');
		const audit = await auditActions('member.role_changed');
		assert.ok(audit.some((a) => a.resource?.id === m.user_id), 'audited');
	});

	test('an admin cannot grant owner nor change an owner; a developer cannot change roles', async () => {
		expectError(await api('PATCH', `/api/v1/tenants/${T}/members/${dev.user_id}`, admin.token, { role: 'owner' }),
			403, 'role_too_high', 'admin grants owner');
		expectError(await api('PATCH', `/api/v1/tenants/${T}/members/${owner.user.id}`, admin.token, { role: 'viewer' }),
			403, 'role_too_high', 'admin demotes the owner');
		expectError(await api('DELETE', `/api/v1/tenants/${T}/members/${owner.user.id}`, admin.token),
			403, 'role_too_high', 'admin removes the owner');
		expectError(await api('PATCH', `/api/v1/tenants/${T}/members/${viewer.user_id}`, dev.token, { role: 'admin' }),
			403, 'forbidden', 'developer changes a role');
		const rows = await sql(server, `SELECT role FROM memberships WHERE tenant_id = ${q(T)} AND user_id IN (${q(dev.user_id)}, ${q(owner.user.id)}) ORDER BY role`);
		assert.deepEqual(rows.map((r) => r[0]), ['developer', 'owner']);
	});

	test('the last owner can be neither demoted nor removed (409 last_owner)', async () => {
		expectError(await api('PATCH', `/api/v1/tenants/${T}/members/${owner.user.id}`, ownerTok, { role: 'admin' }),
			409, 'last_owner', 'demote the last owner');
		expectError(await api('DELETE', `/api/v1/tenants/${T}/members/${owner.user.id}`, ownerTok),
			409, 'last_owner', 'remove the last owner');
		// With a second owner, one of them may step down.
		const second = await addMember('admin');
		expectStatus(await api('PATCH', `/api/v1/tenants/${T}/members/${second.user_id}`, ownerTok, { role: 'owner' }), 200, 'promote');
		expectStatus(await api('PATCH', `/api/v1/tenants/${T}/members/${second.user_id}`, ownerTok, { role: 'viewer' }), 200, 'demote again');
		expectError(await api('PATCH', `/api/v1/tenants/${T}/members/${owner.user.id}`, ownerTok, { role: 'admin' }),
			409, 'last_owner', 'last owner again');
		assert.equal(await count(`SELECT count(*) FROM memberships WHERE tenant_id = ${q(T)} AND role = 'owner'`), 1);
	});

	test('two owners demoting each other at once: exactly one wins, one owner remains', async () => {
		const B = await createSecondTenant(server);
		const tb = B.tenant.id;
		const email = newEmail('co');
		const password = strongPassword();
		const inv = await invite({ email, role: 'admin' }, B.token, tb);
		const co = expectStatus(await accept({ token: tokenOf(inv.link), name: 'Co Owner', password }), 201, 'accept');
		expectStatus(await api('PATCH', `/api/v1/tenants/${tb}/members/${co.user.id}`, B.token, { role: 'owner' }),
			200, 'promote');
		for (let round = 0; round < 3; round++) {
			const coTok = (await login(email, password)).access_token; // a role change ended the last one
			const [x, y] = await Promise.all([
				api('PATCH', `/api/v1/tenants/${tb}/members/${co.user.id}`, B.token, { role: 'admin' }),
				api('PATCH', `/api/v1/tenants/${tb}/members/${B.user.id}`, coTok, { role: 'admin' }),
			]);
			const ok = [x, y].filter((res) => res.status === 200).length;
			assert.equal(ok, 1, `round ${round}: ${x.status} ${x.text} / ${y.status} ${y.text}`);
			for (const res of [x, y].filter((res) => res.status !== 200)) {
				assert.ok([401, 403, 409].includes(res.status), `loser: ${res.status} ${res.text}`);
			}
			assert.equal(await count(`SELECT count(*) FROM memberships WHERE tenant_id = ${q(tb)} AND role = 'owner'`), 1);
			if (y.status === 200) break; // B's owner lost the role; the round cannot be repeated
			expectStatus(await api('PATCH', `/api/v1/tenants/${tb}/members/${co.user.id}`, B.token, { role: 'owner' }),
				200, 'promote again');
		}
	});

	test('removal drops workspace memberships, ends sessions and frees a member unit', async () => {
		const m = await addMember('developer');
		const before = (await quotas()).usage.members;
		assert.equal(await count(`SELECT count(*) FROM workspace_members WHERE user_id = ${q(m.user_id)}`), 1);
		expectStatus(await api('DELETE', `/api/v1/tenants/${T}/members/${m.user_id}`, admin.token), 204, 'remove');
		assert.ok(!(await members()).some((x) => x.user_id === m.user_id), 'gone from the list');
		assert.equal(await count(`SELECT count(*) FROM workspace_members WHERE user_id = ${q(m.user_id)}`), 0);
		expectStatus(await api('GET', '/api/v1/workspaces', m.token), 401, 'token after removal');
		assert.equal((await quotas()).usage.members, before - 1);
		expectError(await api('DELETE', `/api/v1/tenants/${T}/members/${m.user_id}`, admin.token), 404, 'not_found', 'again');
		assert.ok((await auditActions('member.removed')).some((a) => a.resource?.id === m.user_id));
	});

	test('mass assignment: only role is accepted', async () => {
		for (const extra of [{ tenant_id: 'x' }, { is_admin: true }, { email: 'x@example.com' }]) {
			const r = await api('PATCH', `/api/v1/tenants/${T}/members/${dev.user_id}`, ownerTok, { role: 'viewer', ...extra });
			expectError(r, 400, 'unknown_field', JSON.stringify(extra));
		}
		expectError(await api('PATCH', `/api/v1/tenants/${T}/members/${dev.user_id}`, ownerTok, { role: 'superuser' }),
			400, 'invalid_field', 'unknown role');
		assert.equal((await members()).find((x) => x.user_id === dev.user_id).role, 'developer');
	});
});

describe(`invitations [${backend}]`, () => {
	let admin;

	before(async () => {
		admin = await addMember('admin');
	});

	test('create returns the link once; only the token\'s hash is stored; the list never shows it', async () => {
		const email = newEmail('Inv').replace('inv', 'INV');
		const inv = await invite({ email, role: 'developer', expires_in_hours: 2 });
		assert.equal(inv.email, email.toLowerCase());
		assert.equal(inv.role, 'developer');
		assert.match(inv.expires_at, TIME_RE);
		const left = Date.parse(inv.expires_at) - Date.now();
		assert.ok(left > 1.9 * 3600e3 && left <= 2 * 3600e3, `expires in 2 h (${left} ms)`);
		assert.ok(inv.link.startsWith(`${server.url}/invite?token=`), inv.link);
		const token = tokenOf(inv.link);
		assert.match(token, /^[A-Za-z0-9_-]{43}$/);
		const rows = await sql(server, `SELECT token_hash FROM invitations WHERE id = ${q(inv.id)}`);
		assert.equal(rows[0][0], sha256(token));
		const list = expectStatus(await api('GET', `/api/v1/tenants/${T}/invitations`, admin.token), 200, 'list');
		const item = list.items.find((i) => i.id === inv.id);
		assert.ok(item, 'listed');
		assert.ok(!JSON.stringify(list).includes(token), 'no token in the list');
		assert.equal(item.link, undefined);
		const audit = await auditActions('invitation.created');
		assert.ok(audit.some((a) => a.resource?.id === inv.id));
		assert.ok(!JSON.stringify(audit).includes(token), 'no token in the audit log');
	});

	test('a new person accepts, then signs in as a member of the default workspace', async () => {
		const email = newEmail('new');
		const password = strongPassword();
		const inv = await invite({ email, role: 'operator' });
		const membersBefore = (await quotas()).usage.members;
		const res = await accept({ token: tokenOf(inv.link), name: 'Nia New', password });
		const body = expectStatus(res, 201, 'accept');
		assert.equal(body.user.email, email);
		assert.equal(body.user.name, 'Nia New');
		assert.equal(body.tenant.id, T);
		const s = await login(email, password);
		assert.equal(s.tenant.id, T);
		const ws = expectStatus(await api('GET', '/api/v1/workspaces', s.access_token), 200, 'workspaces');
		assert.deepEqual(ws.items.map((w) => w.id), [owner.workspace.id]);
		assert.equal((await members()).find((m) => m.user_id === body.user.id).role, 'operator');
		assert.equal((await quotas()).usage.members, membersBefore + 1);
		const audit = await auditActions('invitation.accepted');
		assert.ok(audit.some((a) => a.resource?.id === inv.id && a.actor?.id === body.user.id));
		assert.ok(!JSON.stringify(audit).includes(password), 'no password in the audit log');
		// The same token again: used.
		expectError(await accept({ token: tokenOf(inv.link), name: 'X', password: strongPassword() }),
			404, 'not_found', 'reused token');
	});

	test('an invitation into a workspace puts the new member there', async () => {
		const ws = expectStatus(await api('POST', '/api/v1/workspaces', ownerTok, { name: 'Invited Space' }), 201, 'ws');
		const email = newEmail('ws');
		const password = strongPassword();
		const inv = await invite({ email, role: 'viewer', workspace_id: ws.id });
		assert.equal(inv.workspace_id, ws.id);
		expectStatus(await accept({ token: tokenOf(inv.link), name: 'W', password }), 201, 'accept');
		const s = await login(email, password);
		const list = expectStatus(await api('GET', '/api/v1/workspaces', s.access_token), 200, 'list');
		assert.deepEqual(list.items.map((w) => w.id), [ws.id]);
		expectError(await api('POST', `/api/v1/tenants/${T}/invitations`, ownerTok,
			{ email: newEmail(), role: 'viewer', workspace_id: 'no-such-workspace' }), 404, 'not_found', 'unknown workspace');
	});

	test('revoked, expired and unknown tokens are 404; nothing is created', async () => {
		const revoked = await invite({ email: newEmail('rev'), role: 'viewer' });
		expectStatus(await api('DELETE', `/api/v1/tenants/${T}/invitations/${revoked.id}`, admin.token), 204, 'revoke');
		expectError(await api('DELETE', `/api/v1/tenants/${T}/invitations/${revoked.id}`, admin.token), 404, 'not_found', 'revoke again');
		assert.ok((await auditActions('invitation.revoked')).some((a) => a.resource?.id === revoked.id));
		const expired = await invite({ email: newEmail('exp'), role: 'viewer' });
		await sql(server, `UPDATE invitations SET expires_at = 1000 WHERE id = ${q(expired.id)}`);
		const users = await count('SELECT count(*) FROM users');
		for (const [what, token] of [['revoked', tokenOf(revoked.link)], ['expired', tokenOf(expired.link)],
			['unknown', randomBytes(32).toString('base64url')], ['short', 'abc']]) {
			expectError(await accept({ token, name: 'Nobody', password: strongPassword() }), 404, 'not_found', what);
			const page = await request(server, 'GET', `/invite?token=${encodeURIComponent(token)}`);
			assert.equal(page.status, 404, `page for a ${what} token`);
		}
		assert.equal(await count('SELECT count(*) FROM users'), users, 'no user was created');
		const list = expectStatus(await api('GET', `/api/v1/tenants/${T}/invitations`, admin.token), 200, 'list');
		assert.ok(!list.items.some((i) => i.id === revoked.id || i.id === expired.id), 'only pending ones are listed');
	});

	test('an existing account: 409 account_exists without a sign-in; joins when signed in', async () => {
		const other = await createSecondTenant(server);
		const inv = await invite({ email: other.email, role: 'developer' });
		const token = tokenOf(inv.link);
		expectError(await accept({ token, name: 'Otto', password: strongPassword() }), 409, 'account_exists', 'anonymous');
		const stranger = await addMember('viewer');
		expectError(await accept({ token }, stranger.token), 403, 'invitation_email_mismatch', 'another user');
		const body = expectStatus(await accept({ token }, other.token), 201, 'signed-in accept');
		assert.equal(body.user.id, other.user.id);
		assert.equal(body.tenant.id, T);
		assert.equal((await members()).find((m) => m.user_id === other.user.id)?.role, 'developer');
		// Still the owner of their own tenant.
		assert.equal(await count(`SELECT count(*) FROM memberships WHERE user_id = ${q(other.user.id)}`), 2);
		expectError(await accept({ token }, other.token), 404, 'not_found', 'used');
	});

	test('roles: never above the inviter\'s; viewers cannot invite; bad input is refused', async () => {
		expectError(await api('POST', `/api/v1/tenants/${T}/invitations`, admin.token, { email: newEmail(), role: 'owner' }),
			403, 'role_too_high', 'admin invites an owner');
		const viewer = await addMember('viewer');
		expectError(await api('POST', `/api/v1/tenants/${T}/invitations`, viewer.token, { email: newEmail(), role: 'viewer' }),
			403, 'forbidden', 'viewer invites');
		expectError(await api('GET', `/api/v1/tenants/${T}/invitations`, viewer.token), 403, 'forbidden', 'viewer lists');
		for (const [body, code] of [
			[{ email: newEmail(), role: 'viewer', tenant_id: 'x' }, 'unknown_field'],
			[{ email: newEmail(), role: 'viewer', is_admin: true }, 'unknown_field'],
			[{ email: newEmail(), role: 'viewer', token: 'chosen' }, 'unknown_field'],
			[{ email: 'not-an-email', role: 'viewer' }, 'invalid_field'],
			[{ email: newEmail(), role: 'root' }, 'invalid_field'],
			[{ email: newEmail(), role: 'viewer', expires_in_hours: 0 }, 'out_of_range'],
			[{ email: newEmail(), role: 'viewer', expires_in_hours: 721 }, 'out_of_range'],
			[{ email: owner.email, role: 'viewer' }, 'already_member'],
		]) {
			const res = await api('POST', `/api/v1/tenants/${T}/invitations`, admin.token, body);
			expectError(res, code === 'already_member' ? 409 : 400, code, JSON.stringify(body));
		}
		const inv = await invite({ email: newEmail('ma'), role: 'viewer' });
		expectError(await accept({ token: tokenOf(inv.link), name: 'M', password: strongPassword(), role: 'owner' }),
			400, 'unknown_field', 'accept with a role');
		expectError(await accept({ token: tokenOf(inv.link), name: 'M', password: 'short' }), 400, 'weak_password',
			'weak password');
		expectError(await accept({ token: tokenOf(inv.link), password: strongPassword() }), 400, 'missing_field', 'no name');
		assert.equal(await count(`SELECT count(*) FROM users WHERE email = ${q(inv.email)}`), 0);
	});

	test('the invitation page escapes what it shows and creates the account (CSRF)', async () => {
		expectStatus(await api('PATCH', `/api/v1/tenants/${T}`, ownerTok, { name: 'Acme <script>x</script>' }), 200, 'rename');
		const email = newEmail('page');
		const inv = await invite({ email, role: 'viewer' });
		const page = await request(server, 'GET', `/invite?token=${tokenOf(inv.link)}`);
		assert.equal(page.status, 200);
		assert.match(page.headers['content-type'], /^text\/html/);
		assert.ok(page.text.includes('Acme &lt;script&gt;x&lt;/script&gt;'), 'escaped tenant name');
		assert.ok(!page.text.includes('<script>x'), 'no raw markup');
		assert.ok(page.text.includes(email));
		const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)[1];
		const cookie = page.headers['set-cookie'].map((c) => c.split(';')[0]).join('; ');
		const form = (fields) => new URLSearchParams(fields).toString();
		const headers = { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie };
		const password = strongPassword();
		const noCsrf = await request(server, 'POST', '/invite', { headers,
			body: form({ token: tokenOf(inv.link), name: 'Page', password }) });
		assert.equal(noCsrf.status, 403, 'without the CSRF token');
		const ok = await request(server, 'POST', '/invite', { headers,
			body: form({ csrf, token: tokenOf(inv.link), name: 'Page Person', password }) });
		assert.equal(ok.status, 303, ok.text.slice(0, 300));
		assert.match(ok.headers.location, /^\/login/);
		assert.equal((await login(email, password)).tenant.id, T);
		expectStatus(await api('PATCH', `/api/v1/tenants/${T}`, ownerTok, { name: 'Acme Test' }), 200, 'rename back');
	});

	test('the page: someone with an account signs in, comes back and joins with one click', async () => {
		const other = await createSecondTenant(server);
		const inv = await invite({ email: other.email, role: 'operator' });
		const path = `/invite?token=${tokenOf(inv.link)}`;
		const jar = new Map();
		const keep = (res) => {
			for (const c of res.headers['set-cookie'] || []) {
				const [pair] = c.split(';');
				const i = pair.indexOf('=');
				jar.set(pair.slice(0, i), pair.slice(i + 1));
			}
			return res;
		};
		const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
		const get = async (p) => keep(await request(server, 'GET', p, { headers: { Cookie: cookie() } }));
		const postForm = async (p, fields) => keep(await request(server, 'POST', p, {
			headers: { Cookie: cookie(), 'Content-Type': 'application/x-www-form-urlencoded' },
			body: new URLSearchParams(fields).toString(),
		}));
		const csrfOf = (page) => /name="csrf" value="([^"]+)"/.exec(page.text)?.[1];

		const anon = await get(path);
		assert.equal(anon.status, 200);
		const signIn = /id="sign-in" href="([^"]+)"/.exec(anon.text);
		assert.ok(signIn, 'a sign-in link instead of a new-account form');
		assert.ok(!anon.text.includes('name="password"'), 'no password field');
		const next = new URL(signIn[1], server.url).searchParams.get('next');
		assert.equal(next, path);
		const loginPage = await get(signIn[1]);
		const signedIn = await postForm('/login', { csrf: csrfOf(loginPage), email: other.email,
			password: other.password, next });
		assert.equal(signedIn.status, 303, signedIn.text.slice(0, 200));
		assert.equal(signedIn.headers.location, path, 'back to the invitation');
		const page = await get(path);
		assert.equal(page.status, 200);
		assert.match(page.text, /<button type="submit">Join<\/button>/);
		const joined = await postForm('/invite', { csrf: csrfOf(page), token: tokenOf(inv.link) });
		assert.equal(joined.status, 303, joined.text.slice(0, 300));
		assert.equal((await members()).find((m) => m.user_id === other.user.id)?.role, 'operator');
		assert.equal((await get(path)).status, 404, 'used');
	});
});

describe(`workspaces [${backend}]`, () => {
	let admin, dev, viewer;

	before(async () => {
		admin = await addMember('admin');
		dev = await addMember('developer');
		viewer = await addMember('viewer');
	});

	test('CRUD: create (slug derived or given), read, update, delete; the default stays', async () => {
		const used = (await quotas()).usage.workspaces;
		const a = expectStatus(await api('POST', '/api/v1/workspaces', admin.token, { name: 'Data Science!' }), 201, 'create');
		assert.equal(a.slug, 'data-science');
		assert.equal(a.is_default, false);
		const b = expectStatus(await api('POST', '/api/v1/workspaces', admin.token,
			{ name: 'Ops', slug: 'ops-team', description: 'on call' }), 201, 'create with slug');
		assert.equal(b.slug, 'ops-team');
		assert.equal(b.description, 'on call');
		expectError(await api('POST', '/api/v1/workspaces', admin.token, { name: 'Ops 2', slug: 'ops-team' }),
			409, 'slug_taken', 'duplicate slug');
		expectError(await api('POST', '/api/v1/workspaces', admin.token, { name: 'Bad', slug: 'Not A Slug' }),
			400, 'invalid_field', 'bad slug');
		assert.equal((await quotas()).usage.workspaces, used + 2);
		assert.equal(expectStatus(await api('GET', `/api/v1/workspaces/${a.id}`, admin.token), 200, 'get').name, 'Data Science!');
		assert.equal(expectStatus(await api('GET', '/api/v1/workspaces/ops-team', admin.token), 200, 'get by slug').id, b.id);
		const up = expectStatus(await api('PATCH', `/api/v1/workspaces/${a.id}`, admin.token,
			{ name: 'DS', description: 'models' }), 200, 'update');
		assert.deepEqual([up.name, up.description, up.slug], ['DS', 'models', 'data-science']);
		expectStatus(await api('DELETE', `/api/v1/workspaces/${a.id}`, admin.token), 204, 'delete');
		expectError(await api('GET', `/api/v1/workspaces/${a.id}`, admin.token), 404, 'not_found', 'deleted');
		expectError(await api('DELETE', `/api/v1/workspaces/${owner.workspace.id}`, ownerTok), 409, 'default_workspace', 'default');
		assert.equal((await quotas()).usage.workspaces, used + 1);
		for (const action of ['workspace.created', 'workspace.updated', 'workspace.deleted']) {
			assert.ok((await auditActions(action)).some((e) => e.resource?.id === a.id), action);
		}
	});

	test('roles and mass assignment: developers and viewers cannot create; unknown fields 400', async () => {
		expectError(await api('POST', '/api/v1/workspaces', dev.token, { name: 'Mine' }), 403, 'forbidden', 'developer');
		expectError(await api('POST', '/api/v1/workspaces', viewer.token, { name: 'Mine' }), 403, 'forbidden', 'viewer');
		for (const extra of [{ tenant_id: 'x' }, { is_default: true }, { id: 'chosen' }, { role: 'owner' }]) {
			expectError(await api('POST', '/api/v1/workspaces', ownerTok, { name: 'MA', ...extra }), 400, 'unknown_field',
				JSON.stringify(extra));
		}
		assert.equal(await count(`SELECT count(*) FROM workspaces WHERE name = 'MA' OR name = 'Mine'`), 0);
	});

	test('members and role overrides; non-members see only their workspaces', async () => {
		const ws = expectStatus(await api('POST', '/api/v1/workspaces', ownerTok, { name: 'Private' }), 201, 'create');
		expectError(await api('GET', `/api/v1/workspaces/${ws.id}`, dev.token), 404, 'not_found', 'not a member');
		assert.ok(!expectStatus(await api('GET', '/api/v1/workspaces', dev.token), 200, 'list').items.some((w) => w.id === ws.id));
		assert.ok(expectStatus(await api('GET', '/api/v1/workspaces', admin.token), 200, 'admin list').items.some((w) => w.id === ws.id));
		const put = await api('PUT', `/api/v1/workspaces/${ws.id}/members/${dev.user_id}`, admin.token, { role: null });
		assert.deepEqual(expectStatus(put, 201, 'add'), { workspace_id: ws.id, user_id: dev.user_id, role: null });
		expectStatus(await api('GET', `/api/v1/workspaces/${ws.id}`, dev.token), 200, 'now visible');
		expectStatus(await api('PUT', `/api/v1/workspaces/${ws.id}/members/${dev.user_id}`, admin.token, { role: 'viewer' }),
			200, 'override');
		const list = expectStatus(await api('GET', `/api/v1/workspaces/${ws.id}/members`, dev.token), 200, 'members');
		const me = list.items.find((m) => m.user_id === dev.user_id);
		assert.deepEqual([me.tenant_role, me.role, me.effective_role], ['developer', 'viewer', 'viewer']);
		expectError(await api('PUT', `/api/v1/workspaces/${ws.id}/members/${dev.user_id}`, admin.token, { role: 'owner' }),
			403, 'role_too_high', 'override above the admin');
		expectError(await api('PUT', `/api/v1/workspaces/${ws.id}/members/${dev.user_id}`, admin.token, { role: 'viewer', tenant_id: 'x' }),
			400, 'unknown_field', 'mass assignment');
		expectError(await api('PUT', `/api/v1/workspaces/${ws.id}/members/00000000-0000-7000-8000-000000000000`, admin.token, {}),
			404, 'not_found', 'not a tenant member');
		expectError(await api('PUT', `/api/v1/workspaces/${ws.id}/members/${viewer.user_id}`, dev.token, {}),
			403, 'forbidden', 'developer adds');
		expectStatus(await api('DELETE', `/api/v1/workspaces/${ws.id}/members/${dev.user_id}`, admin.token), 204, 'remove');
		expectError(await api('DELETE', `/api/v1/workspaces/${ws.id}/members/${dev.user_id}`, admin.token), 404, 'not_found', 'again');
		expectError(await api('GET', `/api/v1/workspaces/${ws.id}`, dev.token), 404, 'not_found', 'hidden again');
		assert.ok((await auditActions('workspace.member_set')).some((e) => e.resource?.id === ws.id));
	});
});

describe(`quotas [${backend}]`, () => {
	test('report: quotas, usage and plan ceilings for every metric', async () => {
		const r = await quotas();
		for (const part of ['quotas', 'usage', 'plan']) {
			assert.deepEqual(Object.keys(r[part]).sort(), [...QUOTA_KEYS].sort(), part);
		}
		for (const k of QUOTA_KEYS) assert.ok(r.quotas[k] <= r.plan[k], `${k} within the plan`);
		assert.equal(r.usage.members, await count(`SELECT count(*) FROM memberships WHERE tenant_id = ${q(T)}`));
		assert.equal(r.usage.workspaces, await count(`SELECT count(*) FROM workspaces WHERE tenant_id = ${q(T)}`));
	});

	test('an admin sets quotas within the plan: above is 422 naming the field', async () => {
		const r = await quotas();
		const res = await api('PATCH', `/api/v1/tenants/${T}/quotas`, ownerTok, { members: r.plan.members + 1 });
		assert.equal(expectError(res, 422, 'above_plan_limit', 'above').field, 'members');
		assert.equal(expectError(await api('PATCH', `/api/v1/tenants/${T}/quotas`, ownerTok, { agents: -1 }),
			422, 'out_of_range', 'negative').field, 'agents');
		expectError(await api('PATCH', `/api/v1/tenants/${T}/quotas`, ownerTok, { plan: 'enterprise' }), 400, 'unknown_field', 'plan');
		expectError(await api('PATCH', `/api/v1/tenants/${T}/quotas`, ownerTok, { tenant_id: T, agents: 1 }), 400, 'unknown_field', 'tenant');
		const ok = expectStatus(await api('PATCH', `/api/v1/tenants/${T}/quotas`, ownerTok,
			{ agents: 150, patterns: r.plan.patterns }), 200, 'set');
		assert.equal(ok.quotas.agents, 150);
		assert.equal(ok.quotas.patterns, r.plan.patterns);
		assert.equal(ok.quotas.members, r.quotas.members, 'others unchanged');
		const viewer = await addMember('viewer');
		assert.equal((await quotas(viewer.token)).quotas.agents, 150, 'a viewer reads');
		expectError(await api('PATCH', `/api/v1/tenants/${T}/quotas`, viewer.token, { agents: 1 }), 403, 'forbidden', 'viewer');
		assert.ok((await auditActions('quota.updated')).length >= 1);
	});

	test('THE RACE: 50 parallel creates at quota - 1 let exactly one through', async () => {
		const used = (await quotas()).usage.workspaces;
		const rows = () => count(`SELECT count(*) FROM workspaces WHERE tenant_id = ${q(T)}`);
		assert.equal(await rows(), used);
		expectStatus(await api('PATCH', `/api/v1/tenants/${T}/quotas`, ownerTok, { workspaces: used + 1 }), 200, 'set quota');
		const tag = randomBytes(3).toString('hex');
		const all = await Promise.all(Array.from({ length: 50 }, (_, i) =>
			api('POST', '/api/v1/workspaces', ownerTok, { name: `race ${tag} ${i}` })));
		const by = {};
		for (const r of all) by[r.status] = (by[r.status] || 0) + 1;
		assert.deepEqual(by, { 201: 1, 429: 49 }, `statuses ${JSON.stringify(by)}`);
		for (const r of all.filter((x) => x.status === 429)) {
			assert.equal(r.json.error.code, 'quota_exceeded');
			assert.equal(r.json.error.field, 'workspaces');
			assert.match(r.json.error.message, /workspaces/);
			assert.ok(Number(r.headers['retry-after']) >= 1, 'Retry-After');
		}
		assert.equal(await rows(), used + 1, 'exactly one more workspace');
		assert.equal((await quotas()).usage.workspaces, used + 1);
		expectStatus(await api('PATCH', `/api/v1/tenants/${T}/quotas`, ownerTok, { workspaces: 20 }), 200, 'reset');
	});

	test('the members quota holds at acceptance', async () => {
		const used = (await quotas()).usage.members;
		expectStatus(await api('PATCH', `/api/v1/tenants/${T}/quotas`, ownerTok, { members: used }), 200, 'set');
		const inv = await invite({ email: newEmail('full'), role: 'viewer' });
		const res = await accept({ token: tokenOf(inv.link), name: 'Full', password: strongPassword() });
		expectError(res, 429, 'quota_exceeded', 'full');
		assert.equal(await count(`SELECT count(*) FROM users WHERE email = ${q(inv.email)}`), 0, 'no user created');
		expectStatus(await api('PATCH', `/api/v1/tenants/${T}/quotas`, ownerTok, { members: 50 }), 200, 'reset');
		expectStatus(await accept({ token: tokenOf(inv.link), name: 'Full', password: strongPassword() }), 201, 'now');
	});
});

describe(`cross-tenant isolation [${backend}]`, () => {
	let B, ws, inv, member;

	// Every tenancy row that a cross-tenant call could touch: equal before and after.
	const snapshot = async () => JSON.stringify(await Promise.all([
		'SELECT id, slug, name, plan, updated_at FROM tenants ORDER BY id',
		'SELECT id, tenant_id, slug, name, description, updated_at FROM workspaces ORDER BY id',
		'SELECT tenant_id, user_id, role, updated_at FROM memberships ORDER BY tenant_id, user_id',
		'SELECT workspace_id, user_id, role FROM workspace_members ORDER BY workspace_id, user_id',
		'SELECT id, tenant_id, revoked_at, accepted_at FROM invitations ORDER BY id',
		'SELECT tenant_id, members, workspaces, agents, patterns, updated_at FROM tenant_quotas ORDER BY tenant_id',
		'SELECT tenant_id, metric, period, value FROM tenant_usage WHERE period = \'\' ORDER BY tenant_id, metric',
		'SELECT count(*) FROM users',
	].map((text) => sql(server, text))));

	before(async () => {
		B = await createSecondTenant(server);
		ws = expectStatus(await api('POST', '/api/v1/workspaces', ownerTok, { name: 'Isolated' }), 201, 'ws');
		inv = await invite({ email: newEmail('x'), role: 'viewer' });
		member = await addMember('viewer');
	});

	test('tenant B\'s owner gets 404 for every tenancy route of tenant A, and nothing changes', async () => {
		const before = await snapshot();
		const calls = [
			['GET', `/api/v1/tenants/${T}`], ['PATCH', `/api/v1/tenants/${T}`, { name: 'pwned' }],
			['DELETE', `/api/v1/tenants/${T}`, { confirm: owner.tenant.slug }],
			['GET', `/api/v1/tenants/${owner.tenant.slug}`],
			['GET', `/api/v1/tenants/${T}/members`],
			['PATCH', `/api/v1/tenants/${T}/members/${member.user_id}`, { role: 'admin' }],
			['DELETE', `/api/v1/tenants/${T}/members/${member.user_id}`],
			['POST', `/api/v1/tenants/${T}/invitations`, { email: newEmail(), role: 'viewer' }],
			['GET', `/api/v1/tenants/${T}/invitations`],
			['DELETE', `/api/v1/tenants/${T}/invitations/${inv.id}`],
			['GET', `/api/v1/tenants/${T}/quotas`], ['PATCH', `/api/v1/tenants/${T}/quotas`, { agents: 1 }],
			['GET', `/api/v1/workspaces/${ws.id}`], ['PATCH', `/api/v1/workspaces/${ws.id}`, { name: 'pwned' }],
			['DELETE', `/api/v1/workspaces/${ws.id}`], ['GET', `/api/v1/workspaces/${ws.id}/members`],
			['PUT', `/api/v1/workspaces/${ws.id}/members/${B.user.id}`, {}],
			['DELETE', `/api/v1/workspaces/${ws.id}/members/${owner.user.id}`],
			['PUT', `/api/v1/workspaces/${B.workspace.id}/members/${member.user_id}`, {}],
			['DELETE', `/api/v1/tenants/${B.tenant.id}/members/${member.user_id}`],
			['PATCH', `/api/v1/tenants/${B.tenant.id}/members/${owner.user.id}`, { role: 'viewer' }],
		];
		for (const [method, path, body] of calls) {
			expectError(await api(method, path, B.token, body), 404, 'not_found', `${method} ${path}`);
		}
		const list = expectStatus(await api('GET', '/api/v1/workspaces', B.token), 200, 'B lists');
		assert.deepEqual(list.items.map((w) => w.id), [B.workspace.id]);
		assert.deepEqual(await snapshot(), before, 'database unchanged');
	});

	test('and the other way round: tenant A\'s owner gets 404 for tenant B', async () => {
		const before = await snapshot();
		for (const [method, path, body] of [
			['GET', `/api/v1/tenants/${B.tenant.id}`], ['PATCH', `/api/v1/tenants/${B.tenant.id}`, { name: 'x' }],
			['GET', `/api/v1/tenants/${B.tenant.id}/members`], ['GET', `/api/v1/tenants/${B.tenant.id}/quotas`],
			['POST', `/api/v1/tenants/${B.tenant.id}/invitations`, { email: newEmail(), role: 'viewer' }],
			['GET', `/api/v1/workspaces/${B.workspace.id}`], ['DELETE', `/api/v1/workspaces/${B.workspace.id}`],
			['PATCH', `/api/v1/workspaces/${B.workspace.id}`, { name: 'x' }],
			['GET', `/api/v1/workspaces/${B.workspace.id}/members`],
		]) {
			expectError(await api(method, path, ownerTok, body), 404, 'not_found', `${method} ${path}`);
		}
		assert.deepEqual(await snapshot(), before, 'database unchanged');
	});

	test('a tenant id in the query, a header or the body is ignored or refused', async () => {
		const res = await api('POST', `/api/v1/workspaces?tenant_id=${B.tenant.id}`, B.token, { name: 'Mine B' },
			{ 'X-Tenant-Id': T, 'X-Parallax-Tenant': T });
		const w = expectStatus(res, 201, 'create');
		const rows = await sql(server, `SELECT tenant_id FROM workspaces WHERE id = ${q(w.id)}`);
		assert.equal(rows[0][0], B.tenant.id);
		expectError(await api('POST', '/api/v1/workspaces', B.token, { name: 'Sneaky', tenant_id: T }), 400, 'unknown_field', 'body');
	});

	test('tenant deletion: owner only, confirmed by slug; everything it owns goes, the audit stays', async () => {
		const C = await createSecondTenant(server);
		const slug = (await sql(server, `SELECT slug FROM tenants WHERE id = ${q(C.tenant.id)}`))[0][0];
		expectError(await api('DELETE', `/api/v1/tenants/${C.tenant.id}`, C.token, { confirm: 'wrong' }), 422,
			'confirmation_mismatch', 'wrong confirm');
		expectError(await api('DELETE', `/api/v1/tenants/${C.tenant.id}`, C.token, { confirm: slug, force: true }), 400,
			'unknown_field', 'extra field');
		expectError(await api('DELETE', `/api/v1/tenants/${T}`, C.token, { confirm: owner.tenant.slug }), 404,
			'not_found', 'another tenant');
		expectStatus(await api('DELETE', `/api/v1/tenants/${C.tenant.id}`, C.token, { confirm: slug }), 204, 'delete');
		for (const table of ['tenants WHERE id', 'workspaces WHERE tenant_id', 'memberships WHERE tenant_id',
			'tenant_quotas WHERE tenant_id', 'sessions WHERE tenant_id']) {
			assert.equal(await count(`SELECT count(*) FROM ${table} = ${q(C.tenant.id)}`), 0, table);
		}
		assert.equal(await count(`SELECT count(*) FROM audit_log WHERE tenant_id = ${q(C.tenant.id)} AND action = 'tenant.deleted'`), 1);
		expectStatus(await api('GET', '/api/v1/workspaces', C.token), 401, 'token of the deleted tenant');
		expectStatus(await api('GET', `/api/v1/tenants/${T}`, ownerTok), 200, 'tenant A untouched');
		const admin = await addMember('admin');
		expectError(await api('DELETE', `/api/v1/tenants/${T}`, admin.token, { confirm: owner.tenant.slug }), 403,
			'forbidden', 'an admin');
	});
});
