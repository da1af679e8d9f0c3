// Shared pieces of the RBAC walk and the tenant-isolation walk: the operations of
// /api/v1/openapi.json (with their x-parallax-permission), filling path templates,
// members of each role created through invitations, and small request wrappers.
//
// Both suites are driven by the OpenAPI document, so a route added later is walked
// without editing a list here.
import { randomBytes } from 'node:crypto';
import { get, request, strongPassword } from './server.mjs';

// Least to most (SPEC §2).
export const ROLES = ['viewer', 'operator', 'developer', 'admin', 'owner'];
export const rankOf = (role) => ROLES.indexOf(role);

// A random id shaped like the server's (UUIDv7): answers 404 wherever an id is expected.
export function randomId() {
	const h = randomBytes(16).toString('hex');
	return `${h.slice(0, 8)}-${h.slice(8, 12)}-7${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

// Every operation of the OpenAPI document:
// [{method, path, key, access, perm, body: 'json'|'form'|null, params: [names]}].
export async function loadOperations(server) {
	const res = await get(server, '/api/v1/openapi.json');
	if (res.status !== 200 || !res.json?.paths) throw new Error(`openapi.json: ${res.status} ${res.text.slice(0, 200)}`);
	const ops = [];
	for (const [path, item] of Object.entries(res.json.paths)) {
		for (const [m, op] of Object.entries(item)) {
			if (!['get', 'post', 'put', 'patch', 'delete'].includes(m)) continue;
			const perm = op['x-parallax-permission'] || {};
			const content = Object.keys(op.requestBody?.content || {});
			ops.push({
				method: m.toUpperCase(),
				path,
				key: `${m.toUpperCase()} ${path}`,
				access: perm.access,
				perm,
				shared: op['x-parallax-shared'] === true,
				body: content.includes('application/json') ? 'json' : content.length ? 'form' : null,
				params: [...path.matchAll(/\{([^}]+)\}/g)].map((x) => x[1]),
			});
		}
	}
	return ops;
}

// Replaces each {name} of a template, left to right, with fill(name, index, prefix) where
// prefix is the path before that segment with the earlier parameters already filled.
export function fillPath(template, fill) {
	let out = '';
	let i = 0;
	let last = 0;
	for (const m of template.matchAll(/\{([^}]+)\}/g)) {
		out += template.slice(last, m.index);
		out += encodeURIComponent(String(fill(m[1], i++, out.replace(/\/$/, ''))));
		last = m.index + m[0].length;
	}
	return out + template.slice(last);
}

// A request with a credential: token is a JWT or plx_ key (undefined: none).
// opts: {json, form, headers, query}.
export function call(server, method, path, token, opts = {}) {
	const headers = { ...(opts.headers || {}) };
	if (token !== undefined && token !== null) headers.Authorization = `Bearer ${token}`;
	let body;
	if (opts.form !== undefined) {
		headers['Content-Type'] = 'application/x-www-form-urlencoded';
		body = new URLSearchParams(opts.form).toString();
	}
	return request(server, method, path + (opts.query || ''), { headers, json: opts.json, body });
}

// The minimal body that passes body parsing for an operation ({} or an empty form).
export function emptyBody(op) {
	return op.body === 'json' ? { json: {} } : op.body === 'form' ? { form: {} } : {};
}

// "201 invalid_field": a compact answer for messages and matrices.
export const brief = (res) => `${res.status}${res.json?.error?.code ? ` ${res.json.error.code}` : ''}`;
export const errCode = (res) => res.json?.error?.code ?? null;

export async function login(server, email, password) {
	const res = await request(server, 'POST', '/api/v1/auth/login', { json: { email, password } });
	if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${res.text.slice(0, 300)}`);
	return res.json;
}

// Invites `email` with `role` as `token` (an admin or owner of tenantId), accepts the
// invitation as a new account and signs in. Returns {role, email, password, user, token,
// login, invitation}.
export async function inviteMember(server, token, tenantId, role, extra = {}) {
	const email = extra.email ?? `${role}-${randomBytes(4).toString('hex')}@example.com`;
	const password = strongPassword();
	const inv = await call(server, 'POST', `/api/v1/tenants/${tenantId}/invitations`, token, {
		json: { email, role, ...(extra.workspace_id ? { workspace_id: extra.workspace_id } : {}) },
	});
	if (inv.status !== 201 || !inv.json?.link) {
		throw new Error(`invite ${role}: ${inv.status} ${inv.text.slice(0, 300)}`);
	}
	const inviteToken = new URL(inv.json.link).searchParams.get('token');
	const acc = await request(server, 'POST', '/api/v1/invitations/accept', {
		json: { token: inviteToken, name: `Member ${role}`, password },
	});
	if (acc.status !== 201) throw new Error(`accept ${role}: ${acc.status} ${acc.text.slice(0, 300)}`);
	if (extra.login === false) return { role, email, password, user: acc.json.user, invitation: inv.json };
	const l = await login(server, email, password);
	return { role, email, password, user: acc.json.user, token: l.access_token, login: l, invitation: inv.json };
}

// Left-aligned text table (rows of cells, first row the header) for t.diagnostic.
export function table(rows) {
	const widths = [];
	for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] || 0, String(c).length)));
	return rows.map((r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd());
}
