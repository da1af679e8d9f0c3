// Editing several nodes at once in the builder (issue 7): multi-select (Ctrl+click, Ctrl+A),
// copy and paste keeping the edges between the copies, duplicate and delete on a selection,
// each one undo step; and a jq expression compiled by the server as you type, its error
// shown under the field that holds it.
import { test, expect } from './fixtures.mjs';
import { signIn } from './helpers.mjs';
import { setupOwner } from '../api/helpers/server.mjs';
import { watchConsole, ownerToken, createPattern, node, ready, setProp } from './builder_helpers.mjs';

async function chain(page, server) {
	const owner = await setupOwner(server);
	const { auth } = await ownerToken(server, owner);
	const p = await createPattern(server, auth, {
		name: 'chain',
		nodes: [
			{ id: 'in', type: 'input' },
			{ id: 'ask', type: 'agent', from: 'in', select: { capabilities: ['x'] }, task: 'Answer' },
			{ id: 'check', type: 'condition', from: 'ask', expr: '.nodes.ask | length > 0' },
			{ id: 'out', type: 'output', from: 'check.true' },
		],
	});
	await signIn(page, owner);
	await page.setViewportSize({ width: 1440, height: 1000 });
	await page.goto(`/patterns/${p.id}/builder`);
	await ready(page);
	await expect(page.locator('#validation-state')).toHaveText('valid');
	return p;
}

const edge = (page, id) => page.locator(`.react-flow__edge[data-id="${id}"]`);

test('multi-select, copy and paste with the edges between the copies, delete a selection', async ({ page, server }) => {
	const errors = watchConsole(page);
	await chain(page, server);
	const yaml = page.locator('#builder-yaml');
	const start = await yaml.inputValue();

	// Ctrl+click adds to the selection
	await node(page, 'ask').click();
	await node(page, 'check').click({ modifiers: ['Control'] });
	await expect(page.locator('.react-flow__node.selected')).toHaveCount(2);
	await expect(page.locator('.bl-props')).toContainText('2 nodes selected:');

	// copy; paste twice: fresh ids, the edge between the copies kept, none to the rest
	await node(page, 'check').press('Control+c');
	await expect(page.locator('#save-status')).toHaveText('Copied 2 nodes: Ctrl+V pastes them.');
	await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
	await page.keyboard.press('Control+v');
	await expect(node(page, 'ask2')).toBeVisible();
	await expect(node(page, 'check2')).toBeVisible();
	await expect(edge(page, 'ask2.out->check2')).toHaveCount(1);
	await expect(page.locator('.react-flow__edge')).toHaveCount(4);
	await expect(page.locator('.react-flow__node.selected')).toHaveCount(2); // the copies
	await expect(yaml).toHaveValue(/- id: check2\n    type: condition\n    from: ask2\n    expr: \.nodes\.ask \| length > 0\n/);
	await page.locator('#paste').click();
	await expect(node(page, 'ask3')).toBeVisible();
	await expect(edge(page, 'ask3.out->check3')).toHaveCount(1);
	// each paste lands further along, not on the last one
	const box2 = await node(page, 'ask2').boundingBox();
	const box3 = await node(page, 'ask3').boundingBox();
	expect(box3.x).toBeGreaterThan(box2.x);
	expect(box3.y).toBeGreaterThan(box2.y);
	// the copies have no source: the server says so, on them
	await expect(node(page, 'ask3').locator('.pnode')).toHaveClass(/pnode-bad/);

	// a selection is deleted in one step, with its edges, and one undo brings it back
	await expect(page.locator('.react-flow__node.selected')).toHaveCount(2);
	await page.locator('#delete-selected').click();
	await expect(node(page, 'ask3')).toHaveCount(0);
	await expect(node(page, 'check3')).toHaveCount(0);
	await expect(page.locator('.react-flow__edge')).toHaveCount(4);
	await page.locator('#undo').click();
	await expect(node(page, 'ask3')).toBeVisible();
	await expect(edge(page, 'ask3.out->check3')).toHaveCount(1);

	// Ctrl+A selects every node; duplicate copies them all, edges included
	await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
	await page.keyboard.press('Control+a');
	await expect(page.locator('.react-flow__node.selected')).toHaveCount(8);
	await expect(page.locator('.bl-props')).toContainText('8 nodes selected:');
	await page.locator('#duplicate-selected').click();
	await expect(page.locator('.react-flow__node')).toHaveCount(16);
	await expect(edge(page, 'in2.out->ask4')).toHaveCount(1);
	await expect(edge(page, 'check4.true->out2')).toHaveCount(1);
	await expect(page.locator('.react-flow__edge')).toHaveCount(10);
	// back to where it started, one undo per operation: duplicate, paste, paste
	for (let i = 0; i < 3; i++) await page.locator('#undo').click();
	await expect(yaml).toHaveValue(start);
	await expect(page.locator('#builder-save')).toBeDisabled();

	// a read-only viewer gets no clipboard buttons (checked in builder.spec); here, copying
	// text inside a field is the field's own business
	await node(page, 'ask').click();
	await page.locator('#prop-node-id').selectText();
	await page.locator('#prop-node-id').press('Control+c');
	await expect(page.locator('#save-status')).not.toHaveText(/^Copied/);
	expect(errors).toEqual([]);
});

test('a jq expression is compiled by the server as you type, its error under its field', async ({ page, server }) => {
	const errors = watchConsole(page);
	await chain(page, server);
	await node(page, 'check').click();
	const field = page.locator('.props [data-prop="expr"]');
	await setProp(page, 'expr', '.nodes.ask | length >');
	await expect(field.locator('.prop-error')).toContainText('expr');
	await expect(field).toHaveClass(/prop-bad/);
	await expect(page.locator('#validation-state')).toHaveText('1 problem');
	await expect(node(page, 'check').locator('.pnode')).toHaveClass(/pnode-bad/);
	// a builtin that reaches outside the sandbox is refused the same way
	await setProp(page, 'expr', '$ENV.HOME');
	await expect(field.locator('.prop-error')).toContainText('$ENV');
	// mended: the field's hint comes back, and the pattern is valid
	await setProp(page, 'expr', '(.nodes.ask | length) > 1');
	await expect(page.locator('#validation-state')).toHaveText('valid');
	await expect(field.locator('.prop-error')).toHaveCount(0);
	await expect(field.locator('.prop-hint')).toContainText('truthy takes the true branch');
	expect(errors).toEqual([]);
});

test('leaving with unsaved changes asks first; a saved canvas leaves without asking', async ({ page, server }) => {
	await chain(page, server);
	const asked = [];
	page.on('dialog', (d) => {
		asked.push(d.type());
		d.dismiss(); // stay
	});
	// saved: closing the page asks nothing
	await node(page, 'ask').click();
	await page.close({ runBeforeUnload: true }).catch(() => {});
	expect(asked).toEqual([]);
});

test('an unsaved change holds the page: the browser asks before leaving', async ({ page, server }) => {
	await chain(page, server);
	await node(page, 'ask').click();
	await setProp(page, 'task', 'Answer again');
	await expect(page.locator('#save-status')).toHaveText('Unsaved changes');
	const dialog = page.waitForEvent('dialog');
	await page.close({ runBeforeUnload: true });
	const d = await dialog;
	expect(d.type()).toBe('beforeunload');
	await d.dismiss(); // stay on the page
	await expect(page.locator('#builder-yaml')).toHaveValue(/task: Answer again/);
});
