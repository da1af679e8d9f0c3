// The role walk: every operation of /api/v1/openapi.json against every role, compared
// with the permission the operation declares (x-parallax-permission.min_role, which comes
// from the one matrix in auth/rbac.c). Members of each role are created the way a tenant
// does it (invitation → accept → sign in); API keys of each role must get the same
// answers; authenticated operations need a credential but no role; public ones never
// answer 401; X-Parallax-Workspace cannot reach a workspace the caller is not in.
//
// Data-driven: routes added later (agents, patterns, executions, …) are walked without
// editing this file. The permission check runs before the body is read, so an allowed
// role gets past it with `{}` (400/404/409/422 mean "past RBAC"); a refused one gets
// 403 {error:{code:"forbidden"}}. Path parameters are random ids (404 is past RBAC) and
// {t} is the caller's tenant, except on DELETE /tenants/{t}, which gets a random tenant.
// Runs against the real binary once per backend (PARALLAX_TEST_DB=sqlite|postgres).
import test, { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backend, setupOwner, sql, startServer } from './helpers/server.mjs';
import {
	ROLES,
	brief,
	call,
	emptyBody,
	errCode,
	fillPath,
	inviteMember,
	loadOperations,
	login,
	randomId,
	rankOf,
	table,
} from './helpers/roles.mjs';

let server, owner, ownerToken, T, ops;
const members = {}; // role -> {email, password, user, token}
const userWalk = new Map(); // op.key -> {role: res}
const keyWalk = new Map(); // op.key -> {role: res}

const permOps = () => ops.filter((o) => o.access === 'permission');

// A workspace the members below admin were not added to (created once, by the owner).
let privateWs;
async function privateWorkspace() {
	if (!privateWs) {
		privateWs = await call(server, 'POST', '/api/v1/workspaces', ownerToken, { json: { name: 'Walk Private' } });
		assert.equal(privateWs.status, 201, privateWs.text);
	}
	return privateWs;
}

// Deleting the real tenant is never risked: its DELETE gets a tenant id that is not the
// caller's (the role check comes first, so 404 still means "allowed past RBAC").
const destroysTenant = (op) => op.method === 'DELETE' && /\/tenants\/\{t\}$/.test(op.path);

function walkPath(op) {
	const random = destroysTenant(op);
	return fillPath(op.path, (name) => (name === 't' && !random ? T : randomId()));
}

function walkCall(op, token, headers) {
	return call(server, op.method, walkPath(op), token, { ...emptyBody(op), headers });
}

const ok2xx = (res) => res.status >= 200 && res.status < 300;
const isForbidden = (res) => res.status === 403 && errCode(res) === 'forbidden';

// Checks one answer of the walk against the declared minimum role; '' when it agrees.
function verdict(op, role, res) {
	const allowed = rankOf(role) >= rankOf(op.perm.min_role);
	if (res.status >= 500) return `${op.key} as ${role}: server error ${brief(res)} ${res.text.slice(0, 200)}`;
	if (allowed) {
		if (res.status === 401 || isForbidden(res)) {
			return `${op.key} as ${role} (min ${op.perm.min_role}): expected past RBAC, got ${brief(res)}`;
		}
	} else if (!isForbidden(res)) {
		return `${op.key} as ${role} (min ${op.perm.min_role}): expected 403 forbidden, got ${brief(res)} ${res.text.slice(0, 160)}`;
	}
	return '';
}

before(async () => {
	server = await startServer();
	owner = await setupOwner(server);
	T = owner.tenant.id;
	ownerToken = (await login(server, owner.email, owner.password)).access_token;
	for (const role of ROLES) members[role] = await inviteMember(server, ownerToken, T, role);
	ops = await loadOperations(server);
});

after(async () => {
	await server?.stop();
});

describe(`RBAC role walk [${backend}]`, () => {
	test('every operation declares its access; permission ones name a resource, action and role', () => {
		assert.ok(ops.length > 10, `only ${ops.length} operations in openapi.json`);
		const bad = [];
		for (const op of ops) {
			const p = op.perm;
			if (!['public', 'authenticated', 'permission'].includes(p.access)) bad.push(`${op.key}: access ${JSON.stringify(p.access)}`);
			if (p.access !== 'permission') continue;
			if (!ROLES.includes(p.min_role)) bad.push(`${op.key}: min_role ${JSON.stringify(p.min_role)} (no role may call it)`);
			if (!p.resource || !p.action) bad.push(`${op.key}: resource/action ${JSON.stringify(p)}`);
			if (typeof p.workspace_scoped !== 'boolean') bad.push(`${op.key}: workspace_scoped ${JSON.stringify(p.workspace_scoped)}`);
		}
		assert.deepEqual(bad, []);
		assert.ok(permOps().length > 0, 'no permission operations');
		// Everything under /api/v1 needs a credential but sign-in, set-up, the OpenAPI document,
		// accepting an invitation, SSO, the agents' own socket (its agent token) and trigger
		// hooks (the body's HMAC signature is the credential). A route made public on purpose
		// is added here.
		const open = ops.filter((o) => o.access === 'public' && o.path.startsWith('/api/v1/') &&
			!/^\/api\/v1\/(auth\/(login|refresh)|setup|openapi\.json|invitations\/accept|agents\/connect|hooks\/\{id\})$/.test(o.path) &&
			!o.path.startsWith('/api/v1/sso/'));
		assert.deepEqual(open.map((o) => o.key), [], 'API operations open to anyone');
	});

	// The walk below checks that the dispatcher enforces what each route declares; this
	// checks that what routes declare is what SPEC §2 says of the roles, so a route that
	// names the wrong (resource, action) cannot slip through a self-consistent walk.
	test('declared permissions agree with SPEC §2 (viewers only read; who runs, edits, manages, deletes)', (t) => {
		const spec = {
			'execution create': 'operator', 'execution run': 'operator', 'execution approve': 'operator',
			'agent create': 'developer', 'agent update': 'developer', 'agent delete': 'developer',
			'pattern create': 'developer', 'pattern update': 'developer', 'pattern delete': 'developer',
			'experiment create': 'developer', 'experiment update': 'developer', 'experiment delete': 'developer',
			'member create': 'admin', 'member update': 'admin', 'member delete': 'admin',
			'invitation create': 'admin', 'invitation delete': 'admin',
			'api_key create': 'admin', 'api_key read': 'admin', 'api_key delete': 'admin',
			'sso create': 'admin', 'sso read': 'admin', 'sso update': 'admin', 'sso delete': 'admin',
			'quota update': 'admin', 'audit read': 'admin', 'tenant update': 'admin', 'tenant delete': 'owner',
			'agent read': 'viewer', 'pattern read': 'viewer', 'execution read': 'viewer', 'experiment read': 'viewer',
			'workspace read': 'viewer', 'tenant read': 'viewer',
		};
		const bad = [];
		const unknown = new Set();
		for (const op of permOps()) {
			const { resource, action, min_role: min } = op.perm;
			const want = spec[`${resource} ${action}`];
			if (want && want !== min) bad.push(`${op.key}: ${resource} ${action} needs ${min}, SPEC §2 says ${want}`);
			if (!want) unknown.add(`${resource} ${action} (${min})`);
			// Reads are GETs and GETs are reads; nothing but a read is open to a viewer.
			if (op.method === 'GET' && action !== 'read') bad.push(`${op.key}: a GET declared as ${action}`);
			if (op.method !== 'GET' && (action === 'read' || min === 'viewer') && !/\/(validate|diff)$/.test(op.path)) {
				bad.push(`${op.key}: a ${op.method} declared as ${resource} ${action} (min ${min}); viewers only read`);
			}
		}
		if (unknown.size) t.diagnostic(`not pinned by SPEC §2 (walked as declared): ${[...unknown].join(', ')}`);
		assert.deepEqual(bad, []);
	});

	test('each role against each permission operation agrees with min_role', async (t) => {
		const problems = [];
		for (const op of permOps()) {
			const row = {};
			for (const role of ROLES) {
				const res = await walkCall(op, members[role].token);
				row[role] = res;
				const v = verdict(op, role, res);
				if (v) problems.push(v);
			}
			userWalk.set(op.key, row);
		}
		t.diagnostic(`walked ${permOps().length} permission operations × ${ROLES.length} roles`);
		assert.deepEqual(problems, []);
		// The walk never deleted or renamed anything that matters.
		const tenant = await call(server, 'GET', `/api/v1/tenants/${T}`, ownerToken);
		assert.equal(tenant.status, 200, `the tenant survived the walk: ${brief(tenant)}`);
	});

	test('API keys of each role get the same answers as members of that role', async (t) => {
		const problems = [];
		const keys = {};
		for (const role of ROLES) {
			const res = await call(server, 'POST', `/api/v1/tenants/${T}/api-keys`, ownerToken, {
				json: { name: `walk ${role}`, role },
			});
			assert.equal(res.status, 201, `create a ${role} key: ${res.text.slice(0, 300)}`);
			assert.equal(res.json.role, role);
			keys[role] = res.json.key;
		}
		for (const op of permOps()) {
			const row = {};
			for (const role of ROLES) {
				const res = await walkCall(op, keys[role]);
				row[role] = res;
				const v = verdict(op, role, res);
				if (v) problems.push(`API key: ${v}`);
				const user = userWalk.get(op.key)?.[role];
				// Deliberate difference: a key is bound to one workspace and may not create
				// others, whatever its role; it must say so with workspace_forbidden.
				const boundKeyRule = op.key === 'POST /api/v1/workspaces' && user?.status !== 403;
				if (boundKeyRule) {
					if (res.status !== 403 || res.json?.error?.code !== 'workspace_forbidden') {
						problems.push(`${op.key}: a ${role} key should get 403 workspace_forbidden, got ${brief(res)}`);
					}
				} else if (user && brief(user) !== brief(res)) {
					problems.push(`${op.key}: a ${role} key answers ${brief(res)}, a ${role} member ${brief(user)}`);
				}
			}
			keyWalk.set(op.key, row);
		}
		t.diagnostic(`walked ${permOps().length} permission operations × ${ROLES.length} API key roles`);
		assert.deepEqual(problems, []);
	});

	test('the walk matrix (route × role → status)', (t) => {
		const head = ['operation', 'min', ...ROLES, 'keys v/o/d/a/w'];
		const rows = [head];
		for (const op of permOps()) {
			const u = userWalk.get(op.key) || {};
			const k = keyWalk.get(op.key) || {};
			const cell = (res, role) => {
				if (!res) return '-';
				const mark = verdict(op, role, res) ? '!' : '';
				return `${isForbidden(res) ? '403' : res.status}${mark}`;
			};
			const keysCell = ROLES.map((r) => (k[r] ? (brief(k[r]) === brief(u[r] || {}) ? '=' : `${k[r].status}≠`) : '-')).join('');
			rows.push([op.key, op.perm.min_role, ...ROLES.map((r) => cell(u[r], r)), keysCell]);
		}
		for (const line of table(rows)) t.diagnostic(line);
		t.diagnostic("403 = refused by RBAC (code forbidden); '!' = disagrees with min_role; keys '=' = same answer as the member");
	});

	test('authenticated operations: 401 without a credential, and no role is refused', async () => {
		const auth = ops.filter((o) => o.access === 'authenticated');
		assert.ok(auth.length > 0, 'no authenticated operations');
		const problems = [];
		for (const op of auth) {
			const res = await call(server, op.method, fillPath(op.path, () => randomId()), undefined, emptyBody(op));
			if (res.status !== 401) problems.push(`${op.key} without a credential: ${brief(res)}`);
		}
		// Reads first; a write that ends the session (logout) is noticed and the member signs in again.
		const ordered = [...auth].sort((a, b) => (a.method === 'GET' ? 0 : 1) - (b.method === 'GET' ? 0 : 1));
		for (const role of ROLES) {
			for (const op of ordered) {
				const res = await call(server, op.method, fillPath(op.path, () => randomId()), members[role].token, emptyBody(op));
				if (res.status === 401 || res.status === 403 || res.status >= 500) problems.push(`${op.key} as ${role}: ${brief(res)}`);
				if (op.method !== 'GET') {
					const me = await call(server, 'GET', '/api/v1/auth/me', members[role].token);
					if (me.status === 401) {
						const l = await login(server, members[role].email, members[role].password);
						members[role].token = l.access_token;
					}
				}
			}
		}
		assert.deepEqual(problems, []);
	});

	test('public operations never answer 401, with no credential or a bad one', async () => {
		const pub = ops.filter((o) => o.access === 'public');
		assert.ok(pub.length > 0);
		const problems = [];
		for (const op of pub) {
			const path = fillPath(op.path, (name) => (name === 'path' ? `walk-${randomId()}.css` : randomId()));
			for (const token of [undefined, 'not-a-jwt', 'plx_notakey', members.viewer.token.slice(0, -2) + 'xx']) {
				const res = await call(server, op.method, path, token, emptyBody(op));
				if (res.status === 401 || res.status >= 500) problems.push(`${op.key} with ${token ? 'a bad credential' : 'no credential'}: ${brief(res)}`);
			}
		}
		assert.deepEqual(problems, []);
	});

	test('a revoked API key answers 401 everywhere', async () => {
		const created = await call(server, 'POST', `/api/v1/tenants/${T}/api-keys`, ownerToken, {
			json: { name: 'soon revoked', role: 'viewer' },
		});
		assert.equal(created.status, 201, created.text);
		const key = created.json.key;
		assert.equal((await call(server, 'GET', '/api/v1/auth/me', key)).status, 200);
		assert.equal((await call(server, 'GET', `/api/v1/tenants/${T}`, key)).status, 200);
		const rev = await call(server, 'DELETE', `/api/v1/tenants/${T}/api-keys/${created.json.id}`, ownerToken);
		assert.ok(rev.status === 204 || rev.status === 200, `revoke: ${brief(rev)}`);
		const problems = [];
		for (const op of ops.filter((o) => o.access !== 'public')) {
			const res = await walkCall(op, key);
			if (res.status !== 401) problems.push(`${op.key} with a revoked key: ${brief(res)}`);
		}
		assert.deepEqual(problems, []);
	});

	test('X-Parallax-Workspace naming a workspace the caller is not in answers 404 workspace_not_found', async () => {
		const ws = await privateWorkspace();
		const problems = [];
		const defaultWs = owner.workspace.id;
		for (const role of ['viewer', 'developer']) {
			const mine = permOps().filter((o) => rankOf(role) >= rankOf(o.perm.min_role));
			assert.ok(mine.length > 0);
			for (const op of mine) {
				for (const header of [ws.json.id, ws.json.slug, randomId()]) {
					const res = await walkCall(op, members[role].token, { 'X-Parallax-Workspace': header });
					if (res.status !== 404 || errCode(res) !== 'workspace_not_found') {
						problems.push(`${op.key} as ${role} with X-Parallax-Workspace ${header}: ${brief(res)}`);
					}
				}
				// Their own workspace is fine.
				const own = await walkCall(op, members[role].token, { 'X-Parallax-Workspace': defaultWs });
				if (errCode(own) === 'workspace_not_found' || own.status === 403 || own.status === 401) {
					problems.push(`${op.key} as ${role} in their own workspace: ${brief(own)}`);
				}
			}
		}
		// Admins and owners reach every workspace of the tenant.
		for (const role of ['admin', 'owner']) {
			const res = await call(server, 'GET', '/api/v1/workspaces', members[role].token, {
				headers: { 'X-Parallax-Workspace': ws.json.id },
			});
			if (res.status !== 200) problems.push(`GET /api/v1/workspaces as ${role} in a workspace they were not added to: ${brief(res)}`);
		}
		// The workspace exists and is unchanged by all of this.
		const rows = await sql(server, `SELECT name FROM workspaces WHERE id = '${ws.json.id}' AND tenant_id = '${T}'`);
		assert.deepEqual(rows, [['Walk Private']]);
		assert.deepEqual(problems, []);
	});

	test('below admin, a member sees only the workspaces they belong to', async () => {
		const ws = (await privateWorkspace()).json;
		const problems = [];
		for (const role of ROLES) {
			const token = members[role].token;
			const list = await call(server, 'GET', '/api/v1/workspaces', token);
			const listed = (list.json?.items || []).map((w) => w.id);
			const seesAll = rankOf(role) >= rankOf('admin');
			if (list.status !== 200) problems.push(`GET /api/v1/workspaces as ${role}: ${brief(list)}`);
			if (!listed.includes(owner.workspace.id)) problems.push(`${role} does not list the default workspace`);
			if (listed.includes(ws.id) !== seesAll) problems.push(`${role} ${seesAll ? 'does not list' : 'lists'} a workspace they are not in`);
			for (const path of [`/api/v1/workspaces/${ws.id}`, `/api/v1/workspaces/${ws.slug}`, `/api/v1/workspaces/${ws.id}/members`]) {
				const res = await call(server, 'GET', path, token);
				const ref = await call(server, 'GET', path.replace(ws.id, randomId()).replace(ws.slug, `nope-${randomId().slice(0, 8)}`), token);
				if (seesAll ? res.status !== 200 : brief(res) !== brief(ref) || res.status !== 404) {
					problems.push(`GET ${path} as ${role}: ${brief(res)} (a missing one: ${brief(ref)})`);
				}
			}
		}
		assert.deepEqual(problems, []);
	});

	test("an API key never acts above its creator's current role", async (t) => {
		const admin2 = await inviteMember(server, ownerToken, T, 'admin');
		const tooHigh = await call(server, 'POST', `/api/v1/tenants/${T}/api-keys`, admin2.token, { json: { name: 'too high', role: 'owner' } });
		assert.equal(tooHigh.status, 403, `an admin creates an owner key: ${brief(tooHigh)}`);
		const created = await call(server, 'POST', `/api/v1/tenants/${T}/api-keys`, admin2.token, { json: { name: 'admin key', role: 'admin' } });
		assert.equal(created.status, 201, created.text);
		const key = created.json.key;
		const walkAs = async (role, label) => {
			const problems = [];
			for (const op of permOps()) {
				const v = verdict(op, role, await walkCall(op, key));
				if (v) problems.push(`${label}: ${v}`);
			}
			return problems;
		};
		assert.deepEqual(await walkAs('admin', 'key of an admin'), []);
		// The creator is demoted: the key now answers like a viewer's, and their sessions end.
		const demote = await call(server, 'PATCH', `/api/v1/tenants/${T}/members/${admin2.user.id}`, ownerToken, { json: { role: 'viewer' } });
		assert.equal(demote.status, 200, demote.text);
		assert.equal((await call(server, 'GET', '/api/v1/auth/me', admin2.token)).status, 401, 'a role change ends the sessions');
		assert.deepEqual(await walkAs('viewer', 'key of an admin demoted to viewer'), []);
		// The creator leaves the tenant: the key is allowed nothing.
		const removed = await call(server, 'DELETE', `/api/v1/tenants/${T}/members/${admin2.user.id}`, ownerToken);
		assert.equal(removed.status, 204, removed.text);
		const problems = [];
		for (const op of permOps()) {
			const res = await walkCall(op, key);
			if (res.status !== 401 && !isForbidden(res)) problems.push(`${op.key} with the key of a removed member: ${brief(res)}`);
		}
		t.diagnostic(`the key of a removed member answers ${brief(await call(server, 'GET', '/api/v1/auth/me', key))} on GET /api/v1/auth/me`);
		assert.deepEqual(problems, []);
	});

	// API keys are scoped to a workspace (SPEC §7): naming another one in
	// X-Parallax-Workspace, or creating a key for it, is refused (workspace_forbidden), so
	// no other route may reach it either. Even an owner key bound to the default workspace
	// must find the tenant's other workspaces missing.
	test("an API key bound to a workspace reaches no other workspace of its tenant", async (t) => {
		const other = (await privateWorkspace()).json;
		const created = await call(server, 'POST', `/api/v1/tenants/${T}/api-keys`, ownerToken, {
			json: { name: 'bound to default', role: 'owner', workspace_id: owner.workspace.id },
		});
		assert.equal(created.status, 201, created.text);
		const key = created.json.key;
		const problems = [];
		// Every operation on /workspaces/{id}…: the other workspace answers like a missing one.
		const wsOps = permOps().filter((o) => o.path.startsWith('/api/v1/workspaces/{id}'));
		assert.ok(wsOps.length > 0);
		for (const op of wsOps) {
			// Writes are sent to a throw-away workspace, so a failure here harms nothing else.
			let target = other;
			if (op.method !== 'GET') {
				target = (await call(server, 'POST', '/api/v1/workspaces', ownerToken, { json: { name: `Victim ${randomId().slice(0, 6)}` } })).json;
				const put = await call(server, 'PUT', `/api/v1/workspaces/${target.id}/members/${owner.user.id}`, ownerToken, { json: {} });
				assert.ok(ok2xx(put), `the owner joins ${target.slug}: ${brief(put)}`);
			}
			const path = (id) => fillPath(op.path, (name, i) => (i === 0 ? id : name === 'user_id' ? owner.user.id : randomId()));
			const body = op.body === 'json' ? { json: op.method === 'PUT' ? { role: 'viewer' } : { name: 'renamed by a key of another workspace' } } : {};
			const got = await call(server, op.method, path(target.id), key, body);
			const ref = await call(server, op.method, path(randomId()), key, body);
			if (brief(got) !== brief(ref)) problems.push(`${op.method} ${op.path} on another workspace with a key bound to the default one: ${brief(got)}, a missing one: ${brief(ref)}`);
		}
		// Nor can it invite someone into another workspace (it may not make a key for one).
		const keyThere = await call(server, 'POST', `/api/v1/tenants/${T}/api-keys`, key, { json: { name: 'elsewhere', role: 'viewer', workspace_id: other.id } });
		if (keyThere.status !== 403) problems.push(`a key for another workspace, made with a bound key: ${brief(keyThere)}`);
		const inv = await call(server, 'POST', `/api/v1/tenants/${T}/invitations`, key, {
			json: { email: `scoped-${randomId().slice(0, 6)}@example.com`, role: 'viewer', workspace_id: other.id },
		});
		if (inv.status !== keyThere.status || errCode(inv) !== errCode(keyThere)) {
			problems.push(`an invitation into another workspace, made with a bound key: ${brief(inv)} (a key for it: ${brief(keyThere)})`);
		}
		const list = await call(server, 'GET', '/api/v1/workspaces', key);
		t.diagnostic(`GET /api/v1/workspaces with a key bound to the default workspace lists: ${(list.json?.items || []).map((w) => w.slug).join(', ')}`);
		assert.deepEqual(problems, []);
	});

	test('a workspace role override applies to workspace-scoped operations in that workspace', async (t) => {
		const scoped = permOps().filter((o) => o.perm.workspace_scoped);
		if (!scoped.length) {
			t.skip('no workspace-scoped operations yet');
			return;
		}
		const ws = (await privateWorkspace()).json;
		const dev = members.developer;
		const put = await call(server, 'PUT', `/api/v1/workspaces/${ws.id}/members/${dev.user.id}`, ownerToken, { json: { role: 'viewer' } });
		assert.ok(put.status === 200 || put.status === 201, put.text);
		try {
			const list = await call(server, 'GET', `/api/v1/workspaces/${ws.id}/members`, ownerToken);
			const entry = (list.json?.items || []).find((m) => m.user_id === dev.user.id);
			assert.equal(entry?.effective_role, 'viewer', list.text.slice(0, 300));
			const problems = [];
			for (const op of scoped) {
				const inWs = await walkCall(op, dev.token, { 'X-Parallax-Workspace': ws.id });
				const v1 = verdict(op, 'viewer', inWs);
				if (v1) problems.push(`in the workspace where the override is viewer: ${v1}`);
				const v2 = verdict(op, 'developer', await walkCall(op, dev.token));
				if (v2) problems.push(`in the default workspace: ${v2}`);
			}
			assert.deepEqual(problems, []);
		} finally {
			await call(server, 'DELETE', `/api/v1/workspaces/${ws.id}/members/${dev.user.id}`, ownerToken);
		}
	});
});
