// What the builder's browser tests share: console watching, API set-up (owner token,
// builtin constant agents, patterns) and canvas operations (nodes, properties, edges).
import { expect } from './fixtures.mjs';
import { post, request } from '../api/helpers/server.mjs';

export const HOSTILE = '</script><script>alert(1)</script>';

// Console errors and CSP reports of the page, collected from the start.
export function watchConsole(page) {
	const errors = [];
	page.on('console', (m) => {
		if (m.type() === 'error') errors.push(m.text());
	});
	page.on('pageerror', (e) => errors.push(String(e)));
	page.on('dialog', (d) => {
		errors.push(`dialog: ${d.message()}`);
		d.dismiss();
	});
	return errors;
}

export async function ownerToken(server, owner) {
	const login = await post(server, '/api/v1/auth/login', { json: { email: owner.email, password: owner.password } });
	expect(login.status).toBe(200);
	return { login: login.json, auth: { headers: { Authorization: `Bearer ${login.json.access_token}` } } };
}

// A builtin constant agent with capability cap: {answer: 42} at confidence 0.9, unless
// more (delay_ms, confidence, value) says otherwise.
export async function constantAgent(server, auth, name, cap, more = {}) {
	const r = await request(server, 'POST', '/api/v1/agents', {
		...auth,
		json: { name, kind: 'builtin', capabilities: [cap], config: { type: 'constant', value: { answer: 42 }, confidence: 0.9, ...more } },
	});
	expect(r.status).toBe(201);
}

export async function createPattern(server, auth, definition) {
	const r = await request(server, 'POST', '/api/v1/patterns', { ...auth, json: { name: definition.name, definition } });
	expect(r.status).toBe(201);
	return r.json;
}

export const node = (page, id) => page.locator(`.react-flow__node[data-id="${id}"]`);
export const ready = (page) => expect(page.locator('#palette .palette-item').first()).toBeVisible();

// Sets a property field of the selected node.
export async function setProp(page, name, value) {
	const f = page.locator(`.props [data-prop="${name}"]`).locator('input, textarea, select');
	if ((await f.evaluate((el) => el.tagName)) === 'SELECT') await f.selectOption(value);
	else await f.fill(value);
}

// Connects one node's source handle (port) to another's input: click one, then the other
// (React Flow's connect-on-click, which needs no drag).
export async function connect(page, from, port, to) {
	await node(page, from).locator(`.react-flow__handle.source[data-handleid="${port}"]`).click();
	await node(page, to).locator('.react-flow__handle.target').click();
	await expect(page.locator(`.react-flow__edge[data-id="${from}.${port}->${to}"]`)).toHaveCount(1);
}
