// The pattern builder (issue 7, first slice): a pattern built on the canvas from the palette
// and saved is exactly the document expected; the server's problems are pinned on their
// nodes and the list focuses them; the YAML panel and the canvas edit each other; a
// viewer's canvas is read-only; no console errors or CSP violations; light and dark
// screenshots, axe, and no sideways scroll at 375 px.
import { test, expect } from './fixtures.mjs';
import { signIn, noHorizontalScroll, seriousViolations } from './helpers.mjs';
import { post, request, setupOwner } from '../api/helpers/server.mjs';
import { inviteMember } from '../api/helpers/roles.mjs';

const HOSTILE = '</script><script>alert(1)</script>';

// Console errors and CSP reports of the page, collected from the start.
function watchConsole(page) {
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

async function ownerToken(server, owner) {
	const login = await post(server, '/api/v1/auth/login', { json: { email: owner.email, password: owner.password } });
	expect(login.status).toBe(200);
	return { login: login.json, auth: { headers: { Authorization: `Bearer ${login.json.access_token}` } } };
}

async function constantAgent(server, auth, name, cap) {
	const r = await request(server, 'POST', '/api/v1/agents', {
		...auth,
		json: { name, kind: 'builtin', capabilities: [cap], config: { type: 'constant', value: { answer: 42 }, confidence: 0.9 } },
	});
	expect(r.status).toBe(201);
}

async function createPattern(server, auth, definition) {
	const r = await request(server, 'POST', '/api/v1/patterns', { ...auth, json: { name: definition.name, definition } });
	expect(r.status).toBe(201);
	return r.json;
}

const node = (page, id) => page.locator(`.react-flow__node[data-id="${id}"]`);
const ready = (page) => expect(page.locator('#palette .palette-item').first()).toBeVisible();

// Sets a property field of the selected node.
async function setProp(page, name, value) {
	const f = page.locator(`.props [data-prop="${name}"]`).locator('input, textarea, select');
	if ((await f.evaluate((el) => el.tagName)) === 'SELECT') await f.selectOption(value);
	else await f.fill(value);
}

// Connects one node's source handle (port) to another's input: click one, then the other
// (React Flow's connect-on-click, which needs no drag).
async function connect(page, from, port, to) {
	await node(page, from).locator(`.react-flow__handle.source[data-handleid="${port}"]`).click();
	await node(page, to).locator('.react-flow__handle.target').click();
	await expect(page.locator(`.react-flow__edge[data-id="${from}.${port}->${to}"]`)).toHaveCount(1);
}

test('build a pattern from scratch, validate it clean and save it', async ({ page, server }, testInfo) => {
	const errors = watchConsole(page);
	const owner = await setupOwner(server);
	const { auth } = await ownerToken(server, owner);
	await constantAgent(server, auth, 'alpha-agent', 'alpha');
	await constantAgent(server, auth, 'beta-agent', 'beta');
	await signIn(page, owner);
	await page.setViewportSize({ width: 1440, height: 1000 });
	await page.goto('/patterns/builder/new');
	await ready(page);
	await expect(page.locator('.bl-empty')).toContainText('Empty canvas');

	// drag an input and an agent; add the rest from the keyboard (focus, Enter)
	const canvas = page.locator('.bl-flow');
	await page.locator('.palette-item[data-type="input"]').dragTo(canvas, { targetPosition: { x: 350, y: 60 } });
	await expect(node(page, 'input')).toBeVisible();
	await page.locator('.palette-item[data-type="agent"]').dragTo(canvas, { targetPosition: { x: 160, y: 200 } });
	await expect(node(page, 'agent')).toBeVisible();
	await setProp(page, 'select', '{"capabilities": ["alpha"]}');
	await setProp(page, 'task', 'Answer');
	await page.locator('#prop-node-id').fill('ask_alpha');
	await expect(node(page, 'ask_alpha')).toBeVisible();

	await page.locator('.palette-item[data-type="agent"]').focus();
	await page.keyboard.press('Enter');
	await expect(node(page, 'agent')).toBeVisible();
	// required fields are flagged as you type
	await expect(page.locator('.props [data-prop="task"] .prop-error')).toHaveText('Required.');
	await setProp(page, 'select', '{"capabilities": ["beta"]');
	await expect(page.locator('.props [data-prop="select"] .prop-error')).toContainText('Not JSON');
	await setProp(page, 'select', '{"capabilities": ["beta"]}');
	await expect(page.locator('.props [data-prop="select"] .prop-error')).toHaveCount(0);
	await setProp(page, 'task', 'Answer');
	await page.locator('#prop-node-id').fill('ask_beta');
	await page.locator('.palette-item[data-type="consensus"]').dragTo(canvas, { targetPosition: { x: 350, y: 470 } });
	// ranges are checked as you type; a good value reaches the document
	await setProp(page, 'min_confidence', '1.5');
	await expect(page.locator('.props [data-prop="min_confidence"] .prop-error')).toHaveText('At most 1.');
	await setProp(page, 'min_confidence', '0.6');
	await page.locator('.palette-item[data-type="output"]').dragTo(canvas, { targetPosition: { x: 350, y: 600 } });

	// unconnected: the server says so, on the nodes
	await expect(page.locator('#validation-state')).toHaveText(/problem/);
	await connect(page, 'input', 'out', 'ask_alpha');
	await connect(page, 'input', 'out', 'ask_beta');
	await connect(page, 'ask_alpha', 'out', 'consensus');
	await connect(page, 'ask_beta', 'out', 'consensus');
	await connect(page, 'consensus', 'out', 'output');
	await expect(page.locator('.react-flow__edge')).toHaveCount(5);
	await page.locator('#auto-layout').click();
	await page.locator('#builder-name').fill('built-here');
	await expect(page.locator('#validation-state')).toHaveText('valid');
	await expect(page.locator('.pnode-bad')).toHaveCount(0);
	await page.screenshot({ path: testInfo.outputPath('builder-new-light.png'), fullPage: true });

	await page.locator('#builder-save').click();
	await expect(page.locator('#save-status')).toHaveText('Saved v1.');
	await expect(page).toHaveURL(/\/patterns\/[^/]+\/builder$/);

	const got = await request(server, 'GET', '/api/v1/patterns/built-here', auth);
	expect(got.status).toBe(200);
	const { ui, ...stored } = got.json.definition;
	expect(stored).toEqual({
		name: 'built-here',
		nodes: [
			{ id: 'input', type: 'input' },
			{ id: 'ask_alpha', type: 'agent', from: 'input', select: { capabilities: ['alpha'] }, task: 'Answer' },
			{ id: 'ask_beta', type: 'agent', from: 'input', select: { capabilities: ['beta'] }, task: 'Answer' },
			{ id: 'consensus', type: 'consensus', from: ['ask_alpha', 'ask_beta'], min_confidence: 0.6 },
			{ id: 'output', type: 'output', from: 'consensus' },
		],
	});
	expect(Object.keys(ui.positions).sort()).toEqual(['ask_alpha', 'ask_beta', 'consensus', 'input', 'output']);

	// it runs: both constant agents agree
	const run = await request(server, 'POST', '/api/v1/executions?wait=10', { ...auth, json: { pattern: 'built-here', input: {} } });
	expect(run.status).toBe(200);
	expect(run.json.status).toBe('succeeded');

	// a second version with a message, from the reopened builder
	await page.reload();
	await ready(page);
	await expect(page.locator('#save-status')).toHaveText('v1, saved');
	await expect(page.locator('#builder-save')).toBeDisabled();
	await node(page, 'consensus').click();
	await setProp(page, 'weight', 'expertise');
	await expect(page.locator('#save-status')).toHaveText('Unsaved changes');
	await page.locator('#builder-message').fill('weigh by expertise');
	await page.locator('#builder-save').click();
	await expect(page.locator('#save-status')).toHaveText('Saved v2.');
	await expect(page.locator('#builder-version')).toHaveText('v2');
	const versions = await request(server, 'GET', '/api/v1/patterns/built-here/versions', auth);
	expect(versions.json.items[0].message).toBe('weigh by expertise');
	expect(errors).toEqual([]);
});
