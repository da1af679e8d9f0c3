// The pattern builder (issue 7): a pattern built on the canvas from the palette
// and saved is exactly the document expected; the server's problems are pinned on their
// nodes and the list focuses them; the YAML panel and the canvas edit each other; a
// viewer's canvas is read-only; no console errors or CSP violations; light and dark
// screenshots, axe, and no sideways scroll at 375 px.
import { test, expect } from './fixtures.mjs';
import { signIn, noHorizontalScroll, seriousViolations } from './helpers.mjs';
import { request, setupOwner } from '../api/helpers/server.mjs';
import { inviteMember } from '../api/helpers/roles.mjs';
import { HOSTILE, watchConsole, ownerToken, constantAgent, createPattern, node, ready, setProp, connect } from './builder_helpers.mjs';

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

	// drag every node from the palette (the keyboard's way in is in the undo test)
	const canvas = page.locator('.bl-flow');
	await page.locator('.palette-item[data-type="input"]').dragTo(canvas, { targetPosition: { x: 350, y: 60 } });
	await expect(node(page, 'input')).toBeVisible();
	await page.locator('.palette-item[data-type="agent"]').dragTo(canvas, { targetPosition: { x: 160, y: 200 } });
	await expect(node(page, 'agent')).toBeVisible();
	await setProp(page, 'select', '{"capabilities": ["alpha"]}');
	await setProp(page, 'task', 'Answer');
	await page.locator('#prop-node-id').fill('ask_alpha');
	await expect(node(page, 'ask_alpha')).toBeVisible();

	await page.locator('.palette-item[data-type="agent"]').dragTo(canvas, { targetPosition: { x: 540, y: 200 } });
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
	await page.locator('#auto-layout').click(); // a row (no edges yet): every handle in the clear
	await connect(page, 'input', 'out', 'ask_alpha');
	await connect(page, 'input', 'out', 'ask_beta');
	await connect(page, 'ask_alpha', 'out', 'consensus');
	await connect(page, 'ask_beta', 'out', 'consensus');
	await connect(page, 'consensus', 'out', 'output');
	await expect(page.locator('.react-flow__edge')).toHaveCount(5);
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
	// what the save will change, line by line, before it is saved
	await expect(page.locator('#changes summary')).toHaveText('Changes since v1: +1 −0 lines');
	await page.locator('#changes summary').click();
	await expect(page.locator('#changes .dl-add')).toHaveCount(1);
	await expect(page.locator('#changes .dl-add')).toContainText('weight: expertise');
	await expect(page.locator('#changes .dl-del')).toHaveCount(0);
	await page.locator('#builder-message').fill('weigh by expertise');
	await page.locator('#builder-save').click();
	await expect(page.locator('#save-status')).toHaveText('Saved v2. See the diff from v1');
	await expect(page.locator('#builder-version')).toHaveText('v2');
	await expect(page.locator('#changes')).toHaveCount(0);
	const versions = await request(server, 'GET', '/api/v1/patterns/built-here/versions', auth);
	expect(versions.json.items[0].message).toBe('weigh by expertise');
	// and the diff from the last version, on the versions page
	await page.locator('#saved-diff').click();
	await expect(page).toHaveURL(/\/patterns\/[^/]+\/versions\/diff\?from=1&to=2$/);
	await expect(page.locator('main')).toContainText('weight: expertise');
	expect(errors).toEqual([]);
});

// The owner, signed in, with an API token and a three-node pattern "ask-once" (no positions:
// the builder lays it out) whose description tries to end the page's JSON block.
async function askOnce(page, server) {
	const owner = await setupOwner(server);
	const { auth, login } = await ownerToken(server, owner);
	await constantAgent(server, auth, 'alpha-agent', 'alpha');
	const p = await createPattern(server, auth, {
		name: 'ask-once',
		description: HOSTILE,
		nodes: [
			{ id: 'in', type: 'input' },
			{ id: 'ask', type: 'agent', from: 'in', select: { capabilities: ['alpha'] }, task: 'Answer' },
			{ id: 'out', type: 'output', from: 'ask' },
		],
	});
	await signIn(page, owner);
	return { owner, auth, login, pattern: p };
}

test('a broken edge pins the error on its node, and the list focuses the node', async ({ page, server }) => {
	const errors = watchConsole(page);
	const { pattern } = await askOnce(page, server);
	// from the pattern's page
	await page.goto(`/patterns/${pattern.id}`);
	await page.locator('#open-builder').click();
	await expect(page).toHaveURL(`/patterns/${pattern.id}/builder`);
	await ready(page);
	await expect(page.locator('#validation-state')).toHaveText('valid');
	await expect(page.locator('#save-status')).toHaveText('v1, saved');
	// the hostile description stayed data: it is in the YAML, and no script ran
	await expect(page.locator('#builder-yaml')).toHaveValue(/<\/script><script>alert\(1\)<\/script>/);

	// keyboard: focus the edge in -> ask, select it, delete it
	await page.locator('.react-flow__edge[data-id="in.out->ask"]').focus();
	await page.keyboard.press('Enter');
	await page.keyboard.press('Delete');
	await expect(page.locator('.react-flow__edge')).toHaveCount(1);
	await expect(page.locator('#validation-state')).toHaveText(/problem/);
	await expect(node(page, 'ask').locator('.pnode')).toHaveClass(/pnode-bad/);
	await expect(node(page, 'ask').locator('.pnode-problem')).toBeVisible();
	await expect(node(page, 'in').locator('.pnode')).not.toHaveClass(/pnode-bad/);
	await expect(page.locator('#save-status')).toHaveText('Unsaved changes');

	// the list names the node; clicking it selects and focuses the node
	const item = page.locator('#problems li[data-node="ask"] button').first();
	await expect(item).toBeVisible();
	await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } }); // nothing selected
	await expect(page.locator('#prop-node-id')).toHaveCount(0);
	await item.click();
	await expect(node(page, 'ask')).toBeFocused();
	await expect(node(page, 'ask')).toHaveClass(/selected/);
	await expect(page.locator('#prop-node-id')).toHaveValue('ask');

	// mend it from the keyboard: the node's From checkboxes (out has none for a cycle)
	await page.locator('#src-ask-out-out').focus();
	await expect(page.locator('#src-ask-out-out')).toBeDisabled();
	await page.locator('#src-ask-in-out').focus();
	await page.keyboard.press('Space');
	await expect(page.locator('.react-flow__edge[data-id="in.out->ask"]')).toHaveCount(1);
	await expect(page.locator('#validation-state')).toHaveText('valid');
	await expect(page.locator('.pnode-bad')).toHaveCount(0);
	// a cycle (out -> ask -> out), which the server refuses, is not drawn
	await node(page, 'out').locator('.react-flow__handle.source').click();
	await node(page, 'ask').locator('.react-flow__handle.target').click();
	await expect(page.locator('.react-flow__edge')).toHaveCount(2);
	await expect(page.locator('.react-flow__edge[data-id="out.out->ask"]')).toHaveCount(0);
	expect(errors).toEqual([]);
});

test('the page: signed out goes to sign-in, an unknown pattern is 404, boot data stays data', async ({ page, server }) => {
	await page.goto('/patterns/ask-once/builder');
	await expect(page).toHaveURL(/\/login\?next=\/patterns\/ask-once\/builder$/);
	const { pattern } = await askOnce(page, server);
	const missing = await page.goto('/patterns/no-such-pattern/builder');
	expect(missing.status()).toBe(404);
	await expect(page.locator('#builder')).toHaveCount(0);
	const res = await page.request.get(`/patterns/${pattern.id}/builder`);
	expect(res.status()).toBe(200);
	expect(res.headers()['content-security-policy']).toContain("script-src 'self'");
	const html = await res.text();
	expect(html).not.toContain(HOSTILE); // the description cannot end the JSON block
	const block = /<script type="application\/json" id="builder-data">([^<]*)<\/script>/.exec(html);
	expect(block).not.toBeNull();
	const boot = JSON.parse(block[1]);
	expect(boot.definition.description).toBe(HOSTILE);
	expect(boot).toMatchObject({ can_save: true, node_types_url: '/api/v1/node-types', pattern: { id: pattern.id, name: 'ask-once', version: 1 } });
});

test('the YAML panel and the canvas edit each other', async ({ page, server }) => {
	const errors = watchConsole(page);
	const { pattern, auth } = await askOnce(page, server);
	await page.goto(`/patterns/${pattern.id}/builder`);
	await ready(page);
	const yaml = page.locator('#builder-yaml');
	await expect(yaml).toHaveValue(/- id: ask\n/);

	// YAML -> canvas: a consensus node between ask and out
	const text = await yaml.inputValue();
	const edited = text.replace('  - id: out\n    type: output\n    from: ask\n', '  - id: agree\n    type: consensus\n    from: ask\n  - id: out\n    type: output\n    from: agree\n');
	expect(edited).not.toBe(text);
	await yaml.fill(edited);
	await expect(node(page, 'agree')).toBeVisible();
	await expect(page.locator('.react-flow__edge[data-id="ask.out->agree"]')).toHaveCount(1);
	await expect(page.locator('.react-flow__edge[data-id="agree.out->out"]')).toHaveCount(1);
	await expect(page.locator('.react-flow__edge[data-id="ask.out->out"]')).toHaveCount(0);
	await expect(page.locator('#validation-state')).toHaveText('valid');

	// a parse error shows its line and leaves the canvas as it was
	await yaml.fill(`${edited}\n  - id: [broken\n`);
	await expect(page.locator('#yaml-status')).toHaveText(/^Line \d+: /);
	await expect(yaml).toHaveAttribute('aria-invalid', 'true');
	await expect(page.locator('.react-flow__node')).toHaveCount(4);
	await yaml.fill(edited);
	await expect(page.locator('#yaml-status')).not.toHaveText(/^Line/);

	// canvas -> YAML: rename a node (its edges follow), delete another
	await node(page, 'agree').click();
	await page.locator('#prop-node-id').fill('bad id');
	await expect(page.locator('#prop-node-id-hint')).toContainText('letters, digits');
	await page.locator('#prop-node-id').fill('ask');
	await expect(page.locator('#prop-node-id-hint')).toHaveText('Another node has this id.');
	await page.locator('#prop-node-id').fill('vote_of_one');
	await expect(yaml).toHaveValue(/- id: vote_of_one\n    type: consensus\n    from: ask\n/);
	await expect(yaml).toHaveValue(/- id: out\n    type: output\n    from: vote_of_one\n/);
	await setProp(page, 'min_agreement', '0.9');
	await expect(yaml).toHaveValue(/min_agreement: 0\.9/);
	// select it (the click lands once the canvas has settled from the last edit), then Delete
	// on the node itself, where the keyboard is
	await node(page, 'vote_of_one').click();
	await expect(node(page, 'vote_of_one')).toHaveClass(/selected/);
	await node(page, 'vote_of_one').press('Delete');
	await expect(node(page, 'vote_of_one')).toHaveCount(0);
	await expect(yaml).not.toHaveValue(/vote_of_one/);
	await expect(page.locator('#validation-state')).toHaveText(/problem/);
	await expect(node(page, 'out').locator('.pnode')).toHaveClass(/pnode-bad/);

	// positions are kept under ui, and the server stores them with the version
	await connect(page, 'ask', 'out', 'out');
	await expect(page.locator('#builder-save')).toBeDisabled(); // the document is the saved one again
	await node(page, 'ask').click();
	await setProp(page, 'task', 'Answer twice');
	await page.locator('#builder-message').fill('back to three');
	await page.locator('#builder-save').click();
	await expect(page.locator('#save-status')).toHaveText('Saved v2. See the diff from v1');
	const got = await request(server, 'GET', `/api/v1/patterns/${pattern.id}`, auth);
	expect(got.json.version).toBe(2);
	expect(Object.keys(got.json.definition.ui.positions).sort()).toEqual(['ask', 'in', 'out']);
	expect(got.json.definition.description).toBe(HOSTILE);
	expect(got.json.definition.nodes[1].task).toBe('Answer twice');
	expect(errors).toEqual([]);
});

test("a viewer's canvas is read-only, and a forced save is refused", async ({ page, server }) => {
	const errors = watchConsole(page);
	const owner = await setupOwner(server);
	const { auth, login } = await ownerToken(server, owner);
	const p = await createPattern(server, auth, {
		name: 'look-only',
		nodes: [
			{ id: 'in', type: 'input' },
			{ id: 'out', type: 'output', from: 'in' },
		],
	});
	const viewer = await inviteMember(server, login.access_token, login.tenant.id, 'viewer');
	await signIn(page, viewer);
	await page.goto(`/patterns/${p.id}/builder`);
	await expect(page.locator('#palette .palette-item').first()).toBeDisabled();
	await expect(page.locator('#builder-readonly')).toBeVisible();
	await expect(page.locator('#builder-save')).toHaveCount(0);
	await expect(page.locator('#delete-selected')).toHaveCount(0);
	await expect(page.locator('#auto-layout')).toBeDisabled();
	await expect(page.locator('#builder-yaml')).toHaveJSProperty('readOnly', true);
	await expect(node(page, 'in')).not.toHaveClass(/draggable/);
	// the properties can be read, not changed; Delete deletes nothing
	await node(page, 'out').click();
	await expect(page.locator('#prop-node-id')).toBeDisabled();
	await page.keyboard.press('Delete');
	await expect(page.locator('.react-flow__node')).toHaveCount(2);
	// a new pattern from the builder: the viewer may not create one either
	const csrf = await page.locator('#builder').getAttribute('data-csrf');
	const forced = await page.request.post(`/api/v1/patterns/${p.id}/versions`, {
		headers: { 'X-CSRF-Token': csrf, Origin: server.url },
		data: { definition: { name: 'look-only', nodes: [{ id: 'in', type: 'input' }] } },
	});
	expect(forced.status()).toBe(403);
	const versions = await request(server, 'GET', `/api/v1/patterns/${p.id}/versions`, auth);
	expect(versions.json.items).toHaveLength(1);
	await page.goto('/patterns/builder/new');
	await expect(page.locator('#builder-readonly')).toBeVisible();
	await expect(page.locator('#builder-save')).toHaveCount(0);
	expect(errors).toEqual([]);
});

test('screenshots in light and dark, axe, and 375 px', async ({ page, server }, testInfo) => {
	const errors = watchConsole(page);
	const owner = await setupOwner(server);
	const { auth } = await ownerToken(server, owner);
	const ids = {};
	for (const name of ['cascading-refinement', 'uncertainty-router']) {
		const r = await request(server, 'POST', `/api/v1/patterns/library/${name}/clone`, { ...auth, json: {} });
		expect(r.status).toBe(201);
		ids[name] = r.json.id;
	}
	await signIn(page, owner);
	await page.setViewportSize({ width: 1440, height: 1000 });
	for (const [scheme, name] of [['light', 'cascading-refinement'], ['dark', 'uncertainty-router']]) {
		await page.emulateMedia({ colorScheme: scheme });
		await page.goto(`/patterns/${ids[name]}/builder`);
		await ready(page);
		await expect(page.locator('#validation-state')).toHaveText('valid');
		// typed handles: a condition's true and false, a route's bands
		const ports = name === 'uncertainty-router' ? ['high', 'medium', 'low'] : ['true', 'false'];
		for (const port of ports) await expect(page.locator(`.react-flow__handle.source[data-handleid="${port}"]`).first()).toBeVisible();
		await node(page, 'out').click(); // its properties and From checkboxes are in the shot and in axe's check
		await expect(page.locator('.props .sources')).toBeVisible();
		await page.screenshot({ path: testInfo.outputPath(`builder-${scheme}.png`), fullPage: true });
		expect(await seriousViolations(page), `${scheme}`).toEqual([]);
	}
	await page.setViewportSize({ width: 375, height: 800 });
	await page.goto(`/patterns/${ids['cascading-refinement']}/builder`);
	await ready(page);
	await noHorizontalScroll(page);
	await page.screenshot({ path: testInfo.outputPath('builder-375.png'), fullPage: true });
	expect(errors).toEqual([]);
});

test('undo and redo over ten operations', async ({ page, server }) => {
	const errors = watchConsole(page);
	const owner = await setupOwner(server);
	await signIn(page, owner);
	await page.goto('/patterns/builder/new');
	await ready(page);
	const yaml = page.locator('#builder-yaml');
	await expect(page.locator('#undo')).toBeDisabled();
	const seen = [await yaml.inputValue()];
	const step = async (what) => {
		await what();
		await expect(yaml).not.toHaveValue(seen[seen.length - 1]);
		seen.push(await yaml.inputValue());
	};
	const add = (type) => async () => {
		await page.locator(`.palette-item[data-type="${type}"]`).focus();
		await page.keyboard.press('Enter');
	};
	await step(add('input')); // 1
	await step(add('agent')); // 2
	await step(async () => setProp(page, 'task', 'Answer')); // 3 (typing into one field is one step)
	await step(async () => setProp(page, 'select', '{"capabilities": ["x"]}')); // 4
	await step(add('output')); // 5
	// connected from the From checkboxes (nodes added from the keyboard stack under each other)
	const from = (to, src) => async () => {
		await node(page, to).click();
		await page.locator(`#src-${to}-${src}-out`).check();
	};
	await step(from('agent', 'input')); // 6
	await step(from('output', 'agent')); // 7
	await step(async () => page.locator('#prop-node-id').fill('final')); // 8 (output is selected)
	await step(async () => page.locator('#auto-layout').click()); // 9
	await step(async () => page.locator('#builder-name').fill('undo-me')); // 10
	expect(seen).toHaveLength(11);

	// back to the empty canvas one step at a time (keyboard and button), then forward again
	await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
	for (let i = 9; i >= 0; i--) {
		if (i % 2) await page.keyboard.press('Control+z');
		else await page.locator('#undo').click();
		await expect(yaml).toHaveValue(seen[i]);
	}
	await expect(page.locator('#undo')).toBeDisabled();
	await expect(page.locator('.react-flow__node')).toHaveCount(0);
	for (let i = 1; i <= 10; i++) {
		if (i % 2) await page.keyboard.press('Control+Shift+z');
		else await page.locator('#redo').click();
		await expect(yaml).toHaveValue(seen[i]);
	}
	await expect(page.locator('#redo')).toBeDisabled();
	await expect(page.locator('.react-flow__edge')).toHaveCount(2);
	await expect(node(page, 'final')).toBeVisible();
	// a new change after an undo drops the redo branch
	await page.locator('#undo').click();
	await expect(yaml).toHaveValue(seen[9]);
	await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
	await add('consensus')();
	await expect(page.locator('#redo')).toBeDisabled();
	// duplicate: Ctrl+D on the focused node, then the button on the copy; undo takes one back
	await setProp(page, 'min_agreement', '0.75');
	await node(page, 'consensus').focus();
	await page.keyboard.press('Control+d');
	await expect(node(page, 'consensus2')).toBeVisible();
	await page.locator('#duplicate-selected').click();
	await expect(node(page, 'consensus3')).toBeVisible();
	await expect(yaml).toHaveValue(/- id: consensus3\n    type: consensus\n    min_agreement: 0\.75\n/);
	await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
	await page.keyboard.press('Control+z');
	await expect(node(page, 'consensus3')).toHaveCount(0);
	await expect(node(page, 'consensus2')).toBeVisible();
	expect(errors).toEqual([]);
});
