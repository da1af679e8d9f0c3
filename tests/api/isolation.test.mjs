// Tenant isolation: tenant A (the set-up owner) and tenant B (added with the admin CLI)
// each create one of every resource they can through the API; then every operation of
// /api/v1/openapi.json that takes path parameters is called with one tenant's credential
// and the other tenant's identifiers, for every method, in both directions. Each answer
// must be the one a random, non-existent id gets (404, same error code: never 2xx, never
// a 403 that reveals existence), and no tenant-owned row of either tenant may change.
// A tenant id in the query, a header or the body never changes the tenant a request acts
// on: the tenant comes from the credential alone.
//
// Data-driven: resources are created through every POST operation that takes no id (a
// minimal body is tried and whatever succeeds is kept), identifiers are found through the
// list operations, and the tables come from the schema, so later routes (agents,
// patterns, executions, …) are covered without editing this file.
// Runs against the real binary once per backend (PARALLAX_TEST_DB=sqlite|postgres).
import test, { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { backend, setupOwner, sql, startServer } from './helpers/server.mjs';
import { createSecondTenant } from './helpers/tenants.mjs';
import { brief, call, errCode, fillPath, inviteMember, loadOperations, login, randomId, table } from './helpers/roles.mjs';

let server, ops, A, B;
const q = (s) => `'${String(s).replaceAll("'", "''")}'`;
const rand = () => randomBytes(3).toString('hex');
const ok2xx = (res) => res.status >= 200 && res.status < 300;

// ---- resources ---------------------------------------------------------------------------

// Bodies to try for a creating POST, by path (SPEC §4–§6); generic ones follow.
function createBodies(path, ctx) {
	const n = `iso-${rand()}`;
	const pattern = ctx.createdBodies.get('/api/v1/patterns');
	const patternId = ctx.created.get('/api/v1/patterns')?.[0];
	const definition = {
		name: n,
		input: { type: 'object' },
		nodes: [
			{ id: 'in', type: 'input' },
			{ id: 'out', type: 'output', from: 'in' },
		],
	};
	const known = {
		'/api/v1/agents': [
			{ name: n, kind: 'builtin', capabilities: ['iso'], expertise: 0.5, config: { type: 'constant', value: 'ok', confidence: 0.9 } },
		],
		'/api/v1/patterns': [{ name: n, description: 'isolation', definition }, { name: n, definition: { ...definition, name: undefined } }],
		'/api/v1/executions': pattern
			? [{ pattern: pattern.name, input: {} }, { pattern: patternId, input: {} }, { pattern_id: patternId, input: {} }]
			: [],
		'/api/v1/experiments': patternId
			? [{ name: n, pattern_id: patternId, variants: [{ version: 1 }, { version: 1 }], dataset: [{}] }]
			: [],
	};
	return [...(known[path] || []), { name: n }, { name: n, description: 'isolation' }, {}];
}

// Creates one of everything `ctx` (a tenant: {tenant, token, ...}) can create.
// ctx.created: collection path template -> [ids]; ctx.createdBodies: template -> body.
async function populate(ctx, t) {
	ctx.created = new Map();
	ctx.createdBodies = new Map();
	const add = (path, id, body) => {
		if (!ctx.created.has(path)) ctx.created.set(path, []);
		ctx.created.get(path).push(id);
		if (body) ctx.createdBodies.set(path, body);
	};
	const T = ctx.tenant.id;
	const must = async (what, res, status = 201) => {
		assert.equal(res.status, status, `${what}: ${res.text.slice(0, 300)}`);
		return res.json;
	};
	const ws = await must('workspace', await call(server, 'POST', '/api/v1/workspaces', ctx.token, { json: { name: `Iso ${rand()}` } }));
	add('/api/v1/workspaces', ws.id);
	ctx.ws = ws;
	ctx.slugs = new Map([[ws.id, ws.slug]]); // objects reachable by slug as well as id
	// A member of that workspace (an accepted invitation), with a per-workspace role.
	const m = await inviteMember(server, ctx.token, T, 'developer', { workspace_id: ws.id, login: false });
	add('/api/v1/tenants/{t}/members', m.user.id);
	ctx.member = m;
	await must('workspace member', await call(server, 'PUT', `/api/v1/workspaces/${ws.id}/members/${m.user.id}`, ctx.token, { json: { role: 'viewer' } }), 200);
	add('/api/v1/workspaces/{id}/members', m.user.id);
	// A pending invitation.
	const inv = await must('invitation', await call(server, 'POST', `/api/v1/tenants/${T}/invitations`, ctx.token, {
		json: { email: `pending-${rand()}@example.com`, role: 'viewer', workspace_id: ws.id },
	}));
	add('/api/v1/tenants/{t}/invitations', inv.id);
	// An API key (admin, bound to the new workspace).
	const key = await must('API key', await call(server, 'POST', `/api/v1/tenants/${T}/api-keys`, ctx.token, {
		json: { name: `iso ${rand()}`, role: 'admin', workspace_id: ws.id },
	}));
	add('/api/v1/tenants/{t}/api-keys', key.id);
	ctx.key = key;

	// Every other creating POST (no parameter but {t}), twice over: later ones may need
	// what earlier ones made (an execution needs a pattern).
	const creates = ops.filter((o) => o.method === 'POST' && o.access === 'permission' && o.params.every((p) => p === 't') &&
		!ctx.created.has(o.path) && o.body !== 'form');
	for (let pass = 0; pass < 2; pass++) {
		for (const op of creates) {
			if (ctx.created.has(op.path)) continue;
			for (const body of createBodies(op.path, ctx)) {
				const res = await call(server, 'POST', fillPath(op.path, () => T), ctx.token, { json: body });
				if (ok2xx(res) && res.json && typeof res.json.id === 'string') {
					add(op.path, res.json.id, body);
					break;
				}
			}
		}
	}
	const made = [...ctx.created.entries()].map(([p, ids]) => `${p} ×${ids.length}`);
	t.diagnostic(`tenant ${ctx.label} created: ${made.join(', ')}`);
	const none = creates.filter((o) => !ctx.created.has(o.path)).map((o) => o.key);
	if (none.length) t.diagnostic(`tenant ${ctx.label}: nothing created through ${none.join(', ')}`);
}

// ---- filling parameters with a tenant's identifiers ---------------------------------------

// The identifier a victim has for parameter `name` whose collection is `prefixTemplate`
// (filled as `prefix`): one it created, else the first of the list at `prefix`.
async function victimId(victim, prefixTemplate, prefix) {
	const created = victim.created.get(prefixTemplate);
	if (created?.length) return created[0];
	victim.listCache ??= new Map();
	if (!victim.listCache.has(prefix)) {
		const isList = ops.some((o) => o.method === 'GET' && o.path === prefixTemplate);
		let ids = [];
		if (isList) {
			const res = await call(server, 'GET', prefix, victim.token);
			const items = Array.isArray(res.json?.items) ? res.json.items : Array.isArray(res.json) ? res.json : [];
			ids = items.map((i) => i.id ?? i.user_id ?? i.name).filter((x) => typeof x === 'string');
		}
		victim.listCache.set(prefix, ids);
	}
	return victim.listCache.get(prefix)[0];
}

// {values, victim: Set of parameter names filled from the victim}. {t} is the victim's
// tenant (tMode 'id' or 'slug') or, with tMode 'own', the attacker's.
async function resolveParams(op, attacker, victim, tMode) {
	const values = {};
	const fromVictim = new Set();
	let template = '';
	let lookup = ''; // the victim's own path so far (its lists name its identifiers)
	let last = 0;
	for (const m of op.path.matchAll(/\{([^}]+)\}/g)) {
		template += op.path.slice(last, m.index);
		lookup += op.path.slice(last, m.index);
		last = m.index + m[0].length;
		const name = m[1];
		let v;
		if (name === 't') {
			v = tMode === 'own' ? attacker.tenant.id : tMode === 'slug' ? victim.tenant.slug : victim.tenant.id;
			if (tMode !== 'own') fromVictim.add(name);
			lookup += victim.tenant.id;
		} else {
			v = await victimId(victim, template.replace(/\/$/, ''), lookup.replace(/\/$/, ''));
			if (v) fromVictim.add(name);
			else v = randomId();
			lookup += encodeURIComponent(v);
		}
		values[name] = v;
		template += m[0];
	}
	return { values, fromVictim };
}

// values with the parameters in `randomize` replaced by random ones of the same shape.
function pathWith(op, values, randomize) {
	return fillPath(op.path, (name) => {
		if (!randomize.has(name)) return values[name];
		return /^[0-9a-f]{8}-/.test(values[name]) ? randomId() : `nope-${rand()}`;
	});
}

// A body that passes validation, so the request reaches the lookup: the first candidate
// that a random id answers 404 to. null when none does.
async function reachingBody(op, attacker, victim, refPath) {
	if (op.body === 'form') return { form: {} };
	if (op.body !== 'json') return {};
	const n = `iso-${rand()}`;
	const candidates = [
		{},
		{ name: n },
		{ role: 'viewer' },
		{ name: n, role: 'viewer' },
		{ email: `iso-${rand()}@example.com`, role: 'viewer' },
		{ confirm: victim.tenant.slug },
		{ definition: { nodes: [] } },
		{ input: {} },
	];
	for (const json of candidates) {
		const res = await call(server, op.method, refPath, attacker.token, { json });
		if (res.status === 404) return { json };
	}
	return null;
}

// Calls every parametrised operation as `attacker` with `victim`'s identifiers.
async function crossWalk(t, attacker, victim, { verbose = false } = {}) {
	const problems = [];
	const rows = [['operation', 'variant', 'victim ids', 'random ids']];
	const unreached = [];
	const unresolved = [];
	let calls = 0;
	for (const op of ops.filter((o) => o.params.length > 0 && o.access !== 'public')) {
		const variants = op.params.includes('t')
			? ['id', 'slug', ...(op.params.length > 1 ? ['own'] : [])]
			: ['id'];
		const cases = [];
		for (const tMode of variants) {
			const { values, fromVictim } = await resolveParams(op, attacker, victim, tMode);
			if (fromVictim.size === 0) {
				if (tMode === 'id') unresolved.push(op.key);
				continue;
			}
			cases.push({ tMode, values, fromVictim });
			// The same objects named by slug (workspaces).
			const bySlug = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, k !== 't' && victim.slugs.get(v) || v]));
			if (tMode === 'id' && Object.keys(values).some((k) => bySlug[k] !== values[k])) {
				cases.push({ tMode: 'object slug', values: bySlug, fromVictim });
			}
		}
		for (const { tMode, values, fromVictim } of cases) {
			const victimPath = pathWith(op, values, new Set());
			const refPath = pathWith(op, values, fromVictim);
			const body = await reachingBody(op, attacker, victim, refPath);
			const opts = body || (op.body === 'json' ? { json: {} } : {});
			const got = await call(server, op.method, victimPath, attacker.token, opts);
			const ref = await call(server, op.method, refPath, attacker.token, opts);
			calls += 2;
			// A random id answering something else than 404 (RBAC, a key that may not use the
			// route, a body no candidate satisfies) is compared as is.
			if (ref.status !== 404) unreached.push(`${op.key} (${tMode}: ${brief(ref)})`);
			const what = `${attacker.label}→${victim.label} ${op.method} ${victimPath} (${tMode}, body ${JSON.stringify(opts.json ?? null)})`;
			if (ok2xx(got)) problems.push(`${what}: ${brief(got)} — another tenant's object was reached: ${got.text.slice(0, 200)}`);
			else if (got.status !== ref.status || errCode(got) !== errCode(ref)) {
				problems.push(`${what}: ${brief(got)}, but a random id answers ${brief(ref)}`);
			}
			rows.push([op.key, tMode, brief(got), brief(ref)]);
		}
	}
	t.diagnostic(`${attacker.label}→${victim.label}: ${calls} calls`);
	if (verbose) for (const line of table(rows)) t.diagnostic(line);
	if (unreached.length) t.diagnostic(`a random id did not reach a lookup (404) for: ${unreached.join(', ')}`);
	if (unresolved.length) t.diagnostic(`no identifier of ${victim.label} for: ${unresolved.join(', ')}`);
	return problems;
}

// ---- database snapshots ------------------------------------------------------------------

const LISTED = ['tenants', 'tenant_quotas', 'tenant_usage', 'memberships', 'workspaces', 'workspace_members', 'invitations',
	'sessions', 'api_keys', 'audit_log', 'agents', 'patterns', 'pattern_versions', 'executions', 'steps', 'events', 'jobs',
	'triggers', 'schedules', 'experiments'];
const VOLATILE = new Set(['last_used_at', 'last_login_at']);

async function columnsOf(table) {
	const rows =
		backend === 'sqlite'
			? await sql(server, `SELECT name FROM pragma_table_info(${q(table)}) ORDER BY cid`)
			: await sql(server, `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ${q(table)} ORDER BY ordinal_position`);
	return rows.map((r) => r[0]);
}

let schema; // [{table, cols}]
async function loadSchema(t) {
	const withTenant =
		backend === 'sqlite'
			? await sql(server, "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND p.name = 'tenant_id' ORDER BY m.name")
			: await sql(server, "SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema() AND column_name = 'tenant_id' ORDER BY table_name");
	const names = new Set(['tenants', ...withTenant.map((r) => r[0])]);
	const missing = LISTED.filter((n) => !names.has(n));
	assert.deepEqual(missing, [], 'tables the isolation check expects');
	schema = [];
	for (const table of [...names].sort()) schema.push({ table, cols: (await columnsOf(table)).filter((c) => !VOLATILE.has(c)) });
	const userCols = (await columnsOf('users')).filter((c) => !VOLATILE.has(c));
	schema.push({ table: 'users', cols: userCols });
	t.diagnostic(`snapshot tables: ${schema.map((s) => s.table).join(', ')}`);
}

// Every tenant-owned row of `tenantId`, as text, table by table.
async function snapshot(tenantId) {
	const snap = {};
	for (const { table: tb, cols } of schema) {
		const order = cols.map((_, i) => i + 1).join(', ');
		const list = (prefix) => cols.map((c) => `${prefix}${c}`).join(', ');
		let text;
		if (tb === 'audit_log') text = `SELECT id FROM audit_log WHERE tenant_id = ${q(tenantId)} ORDER BY 1`;
		else if (tb === 'tenants') text = `SELECT ${list('')} FROM tenants WHERE id = ${q(tenantId)} ORDER BY ${order}`;
		else if (tb === 'users') text = `SELECT ${list('u.')} FROM users u JOIN memberships m ON m.user_id = u.id WHERE m.tenant_id = ${q(tenantId)} ORDER BY ${order}`;
		else if (tb === 'tenant_usage') text = `SELECT ${list('')} FROM tenant_usage WHERE tenant_id = ${q(tenantId)} AND metric <> 'requests_per_minute' ORDER BY ${order}`;
		else text = `SELECT ${list('')} FROM ${tb} WHERE tenant_id = ${q(tenantId)} ORDER BY ${order}`;
		snap[tb] = (await sql(server, text)).map((r) => r.join('|'));
	}
	return snap;
}

// Waits until two snapshots in a row agree (background work, e.g. executions, has settled).
async function settledSnapshot(tenantId) {
	let prev = await snapshot(tenantId);
	for (let i = 0; i < 50; i++) {
		await new Promise((r) => setTimeout(r, 200));
		const cur = await snapshot(tenantId);
		if (JSON.stringify(cur) === JSON.stringify(prev)) return cur;
		prev = cur;
	}
	throw new Error(`tenant ${tenantId}: the database never settled`);
}

function compareSnapshots(label, before0, after0) {
	const problems = [];
	for (const tb of Object.keys(before0)) {
		if (tb === 'audit_log') {
			const kept = new Set(after0[tb]);
			const lost = before0[tb].filter((id) => !kept.has(id));
			if (lost.length) problems.push(`${label}: audit_log lost ${lost.length} entries`);
			continue;
		}
		const b = before0[tb];
		const a = after0[tb];
		const gone = b.filter((r) => !a.includes(r));
		const added = a.filter((r) => !b.includes(r));
		if (gone.length || added.length) {
			problems.push(`${label}.${tb}: ${gone.length} rows changed or removed ${JSON.stringify(gone.slice(0, 3))}, ${added.length} new ${JSON.stringify(added.slice(0, 3))}`);
		}
	}
	return problems;
}

// ---- the suite -------------------------------------------------------------------------

before(async () => {
	server = await startServer();
	// Routes marked x-parallax-shared name what every tenant shares (the built-in
	// library): their path parameters are never a tenant's identifiers.
	ops = (await loadOperations(server)).filter((o) => !o.shared);
	assert.ok(ops.length > 0);
});

after(async () => {
	await server?.stop();
});

describe(`tenant isolation [${backend}]`, () => {
	let snapA, snapB, both;

	before(async () => {
		const owner = await setupOwner(server);
		const l = await login(server, owner.email, owner.password);
		A = { label: 'A', tenant: { ...owner.tenant, slug: owner.tenant.slug }, user: owner.user, defaultWs: owner.workspace, token: l.access_token };
		const other = await createSecondTenant(server);
		B = { label: 'B', tenant: other.tenant, user: other.user, defaultWs: other.workspace, token: other.token };
		if (!B.tenant.slug) B.tenant.slug = (await call(server, 'GET', `/api/v1/tenants/${B.tenant.id}`, B.token)).json.slug;
		if (!A.tenant.slug) A.tenant.slug = (await call(server, 'GET', `/api/v1/tenants/${A.tenant.id}`, A.token)).json.slug;
	});

	test('each tenant creates one of every resource it can', async (t) => {
		await populate(A, t);
		await populate(B, t);
		// A person in both tenants: a member of A (not one whose id is tried as A's) joins B
		// as an admin, accepting B's invitation while signed in to A, then holds one token
		// for each tenant.
		const m = await inviteMember(server, A.token, A.tenant.id, 'admin', { login: false });
		const inv = await call(server, 'POST', `/api/v1/tenants/${B.tenant.id}/invitations`, B.token, { json: { email: m.email, role: 'admin' } });
		assert.equal(inv.status, 201, inv.text);
		const signIn = async (tenant) => {
			const res = await call(server, 'POST', '/api/v1/auth/login', undefined, { json: { email: m.email, password: m.password, tenant } });
			assert.equal(res.status, 200, `member of both signs in to ${tenant}: ${res.text}`);
			return res.json.access_token;
		};
		const inA = await signIn(A.tenant.id);
		const acc = await call(server, 'POST', '/api/v1/invitations/accept', inA, { json: { token: new URL(inv.json.link).searchParams.get('token') } });
		assert.equal(acc.status, 201, `accept while signed in: ${acc.text}`);
		const inB = await signIn(B.tenant.id);
		const meA = await call(server, 'GET', '/api/v1/auth/me', inA);
		const meB = await call(server, 'GET', '/api/v1/auth/me', inB);
		assert.equal(meA.json?.tenant?.id, A.tenant.id, meA.text);
		assert.equal(meB.json?.tenant?.id, B.tenant.id, meB.text);
		assert.equal(meB.json?.role, 'admin', meB.text);
		both = { inA, inB };
		await loadSchema(t);
		snapA = await settledSnapshot(A.tenant.id);
		snapB = await settledSnapshot(B.tenant.id);
		// The snapshots hold what was made (the check below is not vacuous).
		for (const [label, s] of [['A', snapA], ['B', snapB]]) {
			assert.equal(s.tenants.length, 1, `${label} tenants row`);
			assert.ok(s.workspaces.length >= 2, `${label} workspaces`);
			assert.ok(s.memberships.length >= 2, `${label} memberships`);
			assert.ok(s.workspace_members.length >= 2, `${label} workspace_members`);
			assert.ok(s.invitations.length >= 2, `${label} invitations`);
			assert.ok(s.api_keys.length >= 1, `${label} api_keys`);
			assert.ok(s.sessions.length >= 1, `${label} sessions`);
			assert.ok(s.audit_log.length >= 1, `${label} audit_log`);
		}
		t.diagnostic(`rows A: ${Object.entries(snapA).map(([k, v]) => `${k}=${v.length}`).join(' ')}`);
		t.diagnostic(`rows B: ${Object.entries(snapB).map(([k, v]) => `${k}=${v.length}`).join(' ')}`);
	});

	test("B's token with A's identifiers: every parametrised operation answers like a missing object", async (t) => {
		assert.deepEqual(await crossWalk(t, B, A, { verbose: true }), []);
	});

	test("A's token with B's identifiers: every parametrised operation answers like a missing object", async (t) => {
		assert.deepEqual(await crossWalk(t, A, B, { verbose: true }), []);
	});

	test("A's API key with B's identifiers: the same", async (t) => {
		const keyA = { ...A, label: 'A(key)', token: A.key.key };
		assert.deepEqual(await crossWalk(t, keyA, B), []);
	});

	test("a member of both tenants: A's token never reaches B's objects, B's token never A's", async (t) => {
		// Lists are read with the member's own token in the victim tenant, so their own
		// sessions there are among the identifiers tried.
		const viaA = { ...A, label: 'A∩B(A token)', token: both.inA };
		const viaB = { ...B, label: 'A∩B(B token)', token: both.inB };
		const problems = [...(await crossWalk(t, viaA, { ...B, listCache: undefined, token: both.inB })),
			...(await crossWalk(t, viaB, { ...A, listCache: undefined, token: both.inA }))];
		assert.deepEqual(problems, []);
	});

	test("X-Parallax-Workspace naming the other tenant's workspace answers like a missing one", async () => {
		const problems = [];
		const reads = ops.filter((o) => o.access === 'permission' && o.method === 'GET' && o.params.every((p) => p === 't'));
		const pairs = [[A, B], [B, A], [{ ...A, label: 'A(key)', token: A.key.key }, B],
			[{ ...A, label: 'A∩B(A token)', token: both.inA }, B], [{ ...B, label: 'A∩B(B token)', token: both.inB }, A]];
		for (const [att, vic] of pairs) {
			for (const op of reads) {
				const path = fillPath(op.path, () => att.tenant.id);
				for (const ws of [vic.defaultWs.id, vic.ws.id, vic.ws.slug]) {
					const got = await call(server, 'GET', path, att.token, { headers: { 'X-Parallax-Workspace': ws } });
					const ref = await call(server, 'GET', path, att.token, { headers: { 'X-Parallax-Workspace': randomId() } });
					if (ok2xx(got) || got.status !== ref.status || errCode(got) !== errCode(ref)) {
						problems.push(`${att.label} ${op.key} in ${vic.label}'s workspace ${ws}: ${brief(got)}, a random one ${brief(ref)}`);
					}
				}
			}
		}
		assert.deepEqual(problems, []);
	});

	test("a body or path naming the other tenant's object answers like a missing one", async () => {
		const problems = [];
		const same = (what, got, ref) => {
			if (ok2xx(got) || got.status !== ref.status || errCode(got) !== errCode(ref)) {
				problems.push(`${what}: ${brief(got)} ${got.text.slice(0, 160)}; with a random id ${brief(ref)}`);
			}
		};
		for (const [att, vic] of [[A, B], [B, A]]) {
			const T = att.tenant.id;
			for (const ws of [vic.defaultWs.id, vic.ws.id]) {
				const key = (w) => ({ json: { name: `x ${rand()}`, role: 'viewer', workspace_id: w } });
				same(`${att.label} key in ${vic.label}'s workspace`, await call(server, 'POST', `/api/v1/tenants/${T}/api-keys`, att.token, key(ws)),
					await call(server, 'POST', `/api/v1/tenants/${T}/api-keys`, att.token, key(randomId())));
				const inv = (w) => ({ json: { email: `x-${rand()}@example.com`, role: 'viewer', workspace_id: w } });
				same(`${att.label} invitation into ${vic.label}'s workspace`, await call(server, 'POST', `/api/v1/tenants/${T}/invitations`, att.token, inv(ws)),
					await call(server, 'POST', `/api/v1/tenants/${T}/invitations`, att.token, inv(randomId())));
			}
			for (const user of [vic.user.id, vic.member.user.id]) {
				for (const method of ['PUT', 'DELETE']) {
					const opts = method === 'PUT' ? { json: { role: 'viewer' } } : {};
					same(`${att.label} ${method} ${vic.label}'s user in its own workspace`,
						await call(server, method, `/api/v1/workspaces/${att.ws.id}/members/${user}`, att.token, opts),
						await call(server, method, `/api/v1/workspaces/${att.ws.id}/members/${randomId()}`, att.token, opts));
				}
			}
			// Discovered creates (agents, patterns, …) with the other tenant's workspace.
			for (const [path, body] of att.createdBodies) {
				const p = fillPath(path, () => T);
				const b = (w) => ({ json: { ...body, name: body.name ? `iso-${rand()}` : undefined, workspace_id: w } });
				const got = await call(server, 'POST', p, att.token, b(vic.ws.id));
				const ref = await call(server, 'POST', p, att.token, b(randomId()));
				same(`${att.label} POST ${path} with ${vic.label}'s workspace_id`, got, ref);
			}
		}
		assert.deepEqual(problems, []);
	});

	test('no row of either tenant changed (audit entries may only be added)', async (t) => {
		const afterA = await settledSnapshot(A.tenant.id);
		const afterB = await settledSnapshot(B.tenant.id);
		t.diagnostic(`audit entries during the walks: A ${snapA.audit_log.length} → ${afterA.audit_log.length}, B ${snapB.audit_log.length} → ${afterB.audit_log.length}`);
		assert.deepEqual([...compareSnapshots('A', snapA, afterA), ...compareSnapshots('B', snapB, afterB)], []);
	});

	describe('the tenant comes from the credential alone', () => {
		const tricks = () => [
			{ query: `?tenant_id=${B.tenant.id}` },
			{ query: `?tid=${B.tenant.id}&tenant=${B.tenant.slug}` },
			{ headers: { 'X-Tenant-Id': B.tenant.id } },
			{ headers: { 'X-Parallax-Tenant': B.tenant.id } },
			{ headers: { 'X-Tenant': B.tenant.slug, 'X-Tenant-Id': B.tenant.slug } },
		];
		const ids = (res) => (res.json?.items || []).map((i) => i.id ?? i.user_id).sort();
		// The answer without what changes on its own between two reads (usage counters, last use).
		const stable = (res) => (res.json === undefined ? res.text : JSON.stringify(res.json, (k, v) =>
			(['last_used_at', 'requests_per_minute'].includes(k) ? undefined : v)));

		test("GET /api/v1/workspaces with B named in the query or a header lists only A's workspaces", async () => {
			const plain = await call(server, 'GET', '/api/v1/workspaces', A.token);
			assert.equal(plain.status, 200);
			const mine = ids(plain);
			assert.ok(mine.includes(A.ws.id) && mine.includes(A.defaultWs.id));
			for (const trick of tricks()) {
				const res = await call(server, 'GET', '/api/v1/workspaces', A.token, trick);
				assert.equal(res.status, 200, `${JSON.stringify(trick)}: ${brief(res)}`);
				assert.deepEqual(ids(res), mine, JSON.stringify(trick));
				assert.ok(!ids(res).includes(B.ws.id) && !ids(res).includes(B.defaultWs.id));
			}
		});

		test('every tenant read answers the same with another tenant named in the query or a header', async () => {
			const problems = [];
			const reads = ops.filter((o) => o.method === 'GET' && o.access !== 'public' && o.params.every((p) => p === 't'));
			for (const op of reads) {
				const path = fillPath(op.path, () => A.tenant.id);
				const plain = await call(server, 'GET', path, A.token);
				for (const trick of tricks()) {
					const res = await call(server, 'GET', path, A.token, trick);
					if (res.status !== plain.status || stable(res) !== stable(plain)) {
						problems.push(`${op.key} ${JSON.stringify(trick)}: ${brief(res)} ${res.text.slice(0, 120)} vs ${brief(plain)} ${plain.text.slice(0, 120)}`);
					}
				}
				// B's tenant in the path with B named in a header too: still 404 for A.
				if (op.params.includes('t')) {
					const res = await call(server, 'GET', fillPath(op.path, () => B.tenant.id), A.token, {
						headers: { 'X-Tenant-Id': B.tenant.id, 'X-Parallax-Tenant': B.tenant.id },
					});
					if (res.status !== 404) problems.push(`${op.key} for B with B's tenant in headers: ${brief(res)}`);
				}
			}
			const me = await call(server, 'GET', `/api/v1/auth/me?tenant_id=${B.tenant.id}`, A.token, { headers: { 'X-Tenant-Id': B.tenant.id } });
			assert.equal(me.json?.tenant?.id, A.tenant.id, `me: ${me.text.slice(0, 200)}`);
			assert.deepEqual(problems, []);
		});

		test('a tenant_id or tid field in a JSON body is refused with 400 unknown_field and stores nothing', async () => {
			const name = `Sneaky ${rand()}`;
			for (const field of ['tenant_id', 'tid']) {
				const res = await call(server, 'POST', '/api/v1/workspaces', A.token, { json: { name, [field]: B.tenant.id } });
				assert.equal(res.status, 400, `${field}: ${res.text}`);
				assert.equal(errCode(res), 'unknown_field', `${field}: ${res.text}`);
			}
			assert.deepEqual(await sql(server, `SELECT id FROM workspaces WHERE name = ${q(name)}`), []);
			// Every other JSON operation too (ids random, so nothing is reached even if the field were ignored;
			// the tenant's own DELETE gets a random tenant).
			const problems = [];
			for (const op of ops.filter((o) => o.body === 'json' && o.access === 'permission')) {
				const destroys = op.method === 'DELETE' && /\/tenants\/\{t\}$/.test(op.path);
				const path = fillPath(op.path, (n) => (n === 't' && !destroys ? A.tenant.id : randomId()));
				const refPath = fillPath(op.path, () => randomId());
				const body = op.params.length ? (await reachingBody(op, A, A, refPath))?.json ?? {} : A.createdBodies.get(op.path) ?? { name };
				for (const field of ['tenant_id', 'tid']) {
					const res = await call(server, op.method, path, A.token, { json: { ...body, [field]: B.tenant.id } });
					// The validator's body is the document under validation: an unknown member is
					// reported as a problem (and acted on by nothing), not refused as a request.
					if (op.key === 'POST /api/v1/patterns/validate') {
						const found = res.status === 200 && res.json?.problems?.some((p) => p.code === 'unknown_field' && p.path === field);
						if (!found) problems.push(`${op.key} should report ${field} as an unknown_field problem: ${brief(res)}`);
						continue;
					}
					if (res.status !== 400 || errCode(res) !== 'unknown_field') problems.push(`${op.key} ${JSON.stringify({ ...body, [field]: 'B' })}: ${brief(res)}`);
				}
			}
			assert.deepEqual(problems, []);
		});

		test('a create with B named in the query and headers lands in A', async () => {
			const name = `Header ${rand()}`;
			const res = await call(server, 'POST', '/api/v1/workspaces', A.token, {
				json: { name },
				query: `?tenant_id=${B.tenant.id}`,
				headers: { 'X-Tenant-Id': B.tenant.id, 'X-Parallax-Tenant': B.tenant.id },
			});
			assert.equal(res.status, 201, res.text);
			assert.deepEqual(await sql(server, `SELECT tenant_id FROM workspaces WHERE id = ${q(res.json.id)}`), [[A.tenant.id]]);
			const viaB = await call(server, 'GET', `/api/v1/workspaces/${res.json.id}`, B.token);
			assert.equal(viaB.status, 404);
		});
	});
});
