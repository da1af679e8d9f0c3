// Issue 7's "done means": a library pattern rebuilt on the canvas without touching the text
// panel (its description, tags and input schema from the pattern panel, its nodes from the
// palette and the property panel, its edges from the keyboard), saved, equal to the library's
// document, and run from the builder.
import { test, expect } from './fixtures.mjs';
import { signIn, seriousViolations } from './helpers.mjs';
import { request, setupOwner } from '../api/helpers/server.mjs';
import { watchConsole, ownerToken, constantAgent, node, ready, setProp } from './builder_helpers.mjs';

// Adds a node from the palette with the keyboard (focus, Enter) and gives it its id.
async function add(page, type, id) {
	await page.locator(`.palette-item[data-type="${type}"]`).focus();
	await page.keyboard.press('Enter');
	await page.locator('#prop-node-id').fill(id);
	await expect(node(page, id)).toBeVisible();
}

// Nothing selected: the pattern panel.
async function deselect(page) {
	await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
	await expect(page.locator('#props-h')).toHaveText('Pattern');
}

test('rebuild simple-consensus on the canvas with no YAML, save it, run it', async ({ page, server }) => {
	const errors = watchConsole(page);
	const owner = await setupOwner(server);
	const { auth } = await ownerToken(server, owner);
	await constantAgent(server, auth, 'general-a', 'general', { confidence: 0.9 });
	await constantAgent(server, auth, 'general-b', 'general', { confidence: 0.8 });
	const lib = await request(server, 'GET', '/api/v1/patterns/library/simple-consensus', auth);
	expect(lib.status).toBe(200);
	const want = lib.json.definition;
	await signIn(page, owner);
	await page.setViewportSize({ width: 1440, height: 1000 });
	await page.goto('/patterns/builder/new');
	await ready(page);

	// the pattern's own members
	await deselect(page);
	await page.locator('#pattern-description').fill(want.description);
	await page.locator('#pattern-tags').fill(want.tags.join(', '));
	await page.locator('#input-add').click();
	await page.locator('#in-field-name').fill('9task');
	await expect(page.locator('#in-field-name-hint')).toHaveText('Letters, digits and _, not starting with a digit.');
	await page.locator('#in-field-name').fill('task'); // typed on: the field keeps the focus
	await expect(page.locator('#in-task-name')).toBeFocused();
	await page.locator('#in-task-required').check();
	await page.locator('#in-task-maxLength').fill('-3');
	await expect(page.locator('#in-task-maxLength-hint')).toHaveText('Enter a whole number, 0 or more.');
	await page.locator('#in-task-maxLength').fill('100000');
	await page.locator('#in-task-description').fill('What to answer');
	await page.locator('#input-add').click();
	await page.locator('#in-field-name').fill('data');
	await page.locator('#in-data-type').selectOption('any');
	await page.locator('#in-data-description').fill('Anything the agents need');
	await page.locator('#input-add').click();
	await page.locator('#in-field-remove').click(); // one too many
	await expect(page.locator('.in-field')).toHaveCount(2);
	expect(await seriousViolations(page)).toEqual([]);

	// the nodes, from the palette and the property panel
	await add(page, 'input', 'in');
	await add(page, 'agent', 'voters');
	await setProp(page, 'select', JSON.stringify(want.nodes[1].select));
	await setProp(page, 'task', want.nodes[1].task);
	await setProp(page, 'data', want.nodes[1].data);
	await page.locator('#src-voters-in-out').check();
	await add(page, 'consensus', 'agree');
	await setProp(page, 'weight', 'confidence');
	await page.locator('#src-agree-voters-out').check();
	await add(page, 'output', 'out');
	await setProp(page, 'value', want.nodes[3].value);
	await page.locator('#src-out-agree-out').check();
	await page.locator('#auto-layout').click();
	await page.locator('#builder-name').fill('my-consensus');
	await expect(page.locator('#validation-state')).toHaveText('valid');
	await page.locator('#builder-save').click();
	await expect(page.locator('#save-status')).toHaveText('Saved v1.');
	const got = await request(server, 'GET', '/api/v1/patterns/my-consensus', auth);
	const { ui, ...stored } = got.json.definition;
	expect(stored).toEqual({ ...want, name: 'my-consensus' });
	expect(Object.keys(ui.positions).sort()).toEqual(['agree', 'in', 'out', 'voters']);

	// and it runs, from the form its input schema makes
	await expect(page.locator('#run-in-task')).toBeVisible();
	await expect(page.locator('#run-in-data')).toBeVisible();
	await page.locator('#run-in-task').fill('What is six times seven?');
	await page.locator('#run-submit').click();
	await expect(node(page, 'out').locator('.pnode')).toHaveAttribute('data-run', 'succeeded', { timeout: 15000 });
	await expect(node(page, 'voters').locator('.pnode-run')).toHaveText(/^succeeded · confidence 0\.80–0\.90 \(2 answers\) · \d+ ms$/);
	await expect(page.locator('#run-status .badge')).toHaveText('succeeded');
	const href = await page.locator('#run-status a').getAttribute('href');
	const exec = await request(server, 'GET', `/api/v1${href}`, auth);
	expect(exec.json.result.value).toMatchObject({ answer: { answer: 42 }, status: 'consensus', agreement: 1 });
	expect(errors).toEqual([]);
});
