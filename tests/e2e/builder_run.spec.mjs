// A test run from the builder (issue 7): the form is made from the saved version's input
// schema and checks as you type; the run goes through the queue, and the canvas follows the
// execution's event stream: a slow agent is seen running, then every node that ran turns
// green with its confidence and duration, and the branch the condition did not take is
// skipped. The 10-node pattern it runs is the subject of the light and dark screenshots.
import { test, expect } from './fixtures.mjs';
import { signIn, seriousViolations } from './helpers.mjs';
import { request, setupOwner } from '../api/helpers/server.mjs';
import { inviteMember } from '../api/helpers/roles.mjs';
import { watchConsole, ownerToken, constantAgent, createPattern, node, ready, setProp } from './builder_helpers.mjs';

const TEN = {
	name: 'ten-nodes',
	description: 'Two branches and a panel, the best of them reshaped',
	input: {
		type: 'object',
		properties: {
			question: { type: 'string', maxLength: 100, description: 'What to ask' },
			rounds: { type: 'integer', minimum: 1, maximum: 3 },
			strict: { type: 'boolean', description: 'Ask the careful agent' },
		},
		required: ['question'],
	},
	nodes: [
		{ id: 'in', type: 'input' },
		{ id: 'gate', type: 'condition', from: 'in', expr: '.input.strict == true' },
		{ id: 'careful', type: 'agent', from: 'gate.true', select: { capabilities: ['slow'] }, task: 'Answer carefully' },
		{ id: 'quick', type: 'agent', from: 'gate.false', select: { capabilities: ['fast'] }, task: 'Answer quickly' },
		{ id: 'second', type: 'agent', from: 'in', select: { capabilities: ['fast'] }, task: 'A second opinion' },
		{ id: 'third', type: 'agent', from: 'in', select: { capabilities: ['steady'] }, task: 'A third opinion' },
		{ id: 'agree', type: 'consensus', from: ['second', 'third'] },
		{ id: 'pick', type: 'best', from: ['careful', 'quick', 'agree'] },
		{ id: 'shape', type: 'transform', from: 'pick', value: '{question: .input.question}', confidence: '0.75' },
		{ id: 'out', type: 'output', from: 'shape' },
	],
};

async function tenNodes(server) {
	const owner = await setupOwner(server);
	const { auth, login } = await ownerToken(server, owner);
	// the careful agent takes long enough for "running" to be seen on the canvas
	await constantAgent(server, auth, 'careful-agent', 'slow', { delay_ms: 1500, confidence: 0.95 });
	await constantAgent(server, auth, 'quick-agent', 'fast', { confidence: 0.7 });
	await constantAgent(server, auth, 'steady-agent', 'steady', { confidence: 0.8 });
	const p = await createPattern(server, auth, TEN);
	return { owner, auth, login, pattern: p };
}

test('run from the builder: the form from the input schema, then the nodes turn green live', async ({ page, server }, testInfo) => {
	const errors = watchConsole(page);
	const { owner, auth, pattern } = await tenNodes(server);
	await signIn(page, owner);
	await page.setViewportSize({ width: 1440, height: 1100 });
	await page.goto(`/patterns/${pattern.id}/builder`);
	await ready(page);
	await expect(page.locator('.react-flow__node')).toHaveCount(10);
	await expect(page.locator('#validation-state')).toHaveText('valid');

	// the form: one field per input property, checked as you type
	const form = page.locator('#run-form');
	await expect(form.locator('#run-in-question')).toBeVisible();
	await expect(form.locator('#run-in-rounds')).toHaveAttribute('type', 'number');
	await expect(form.locator('#run-in-strict')).toHaveAttribute('type', 'checkbox');
	await page.locator('#run-submit').click();
	await expect(page.locator('#run-in-question-hint')).toHaveText('Required.');
	await page.locator('#run-in-question').fill('What is six times seven?');
	await page.locator('#run-in-rounds').fill('7');
	await page.locator('#run-submit').click();
	await expect(page.locator('#run-in-rounds-hint')).toHaveText('At most 3.');
	await expect(page.locator('#run-status')).toHaveCount(0); // nothing was submitted
	await page.locator('#run-in-rounds').fill('2');
	await page.locator('#run-in-strict').check();

	// an unsaved change stops a run: it would not run what the canvas shows
	await node(page, 'shape').click();
	await setProp(page, 'confidence', '0.5');
	await expect(page.locator('#run-submit')).toBeDisabled();
	await expect(page.locator('#run-hint')).toHaveText('Save first: a run uses the saved version.');
	await page.locator('#undo').click();
	await expect(page.locator('#run-submit')).toBeEnabled();

	await page.locator('#run-submit').click();
	// live: the careful agent is seen running before it succeeds
	await expect(node(page, 'careful').locator('.pnode')).toHaveAttribute('data-run', 'running');
	await expect(node(page, 'careful').locator('.pnode-run')).toHaveText('running');
	await expect(node(page, 'out').locator('.pnode')).toHaveAttribute('data-run', /queued|running/);
	await expect(page.locator('#run-status .badge')).toHaveText('running');
	await expect(node(page, 'out').locator('.pnode')).toHaveAttribute('data-run', 'succeeded', { timeout: 15000 });
	await expect(page.locator('#run-status .badge')).toHaveText('succeeded');
	for (const id of ['in', 'gate', 'careful', 'second', 'third', 'agree', 'pick', 'shape', 'out']) {
		await expect(node(page, id).locator('.pnode'), id).toHaveAttribute('data-run', 'succeeded');
		await expect(node(page, id).locator('.pnode'), id).toHaveClass(/pnode-succeeded/);
	}
	// the branch the condition did not take
	await expect(node(page, 'quick').locator('.pnode')).toHaveAttribute('data-run', 'skipped');
	// confidence and duration, as the execution recorded them
	await expect(node(page, 'careful').locator('.pnode-run')).toHaveText(/^succeeded · confidence 0\.95 · 1\.\d s$/);
	await expect(node(page, 'shape').locator('.pnode-run')).toHaveText(/^succeeded · confidence 0\.75 · \d+ ms$/);
	const id = await page.locator('#run-status a').getAttribute('href');
	const exec = await request(server, 'GET', `/api/v1${id}`, auth);
	expect(exec.status).toBe(200);
	expect(exec.json.status).toBe('succeeded');
	expect(exec.json.input).toEqual({ question: 'What is six times seven?', rounds: 2, strict: true });
	expect(exec.json.pattern.version).toBe(1);
	expect(exec.json.result.value).toEqual({ question: 'What is six times seven?' });

	// the 10-node pattern after its run, in both themes
	for (const scheme of ['light', 'dark']) {
		await page.emulateMedia({ colorScheme: scheme });
		await page.locator('#fit-view').click();
		await page.screenshot({ path: testInfo.outputPath(`builder-ten-nodes-${scheme}.png`), fullPage: true });
		expect(await seriousViolations(page), scheme).toEqual([]);
	}

	// an edit makes the states stale: they go
	await node(page, 'shape').click();
	await setProp(page, 'confidence', '0.5');
	await expect(page.locator('.pnode-run')).toHaveCount(0);
	expect(errors).toEqual([]);
});

test('a run the server refuses says why; a viewer gets no run form', async ({ page, server }) => {
	const errors = watchConsole(page);
	const { owner, auth, login, pattern } = await tenNodes(server);
	// a quota of no executions at all: the queue refuses the run
	const q = await request(server, 'PATCH', `/api/v1/tenants/${login.tenant.id}/quotas`, { ...auth, json: { executions_per_day: 0 } });
	expect([200, 204]).toContain(q.status);
	await signIn(page, owner);
	await page.goto(`/patterns/${pattern.id}/builder`);
	await ready(page);
	await page.locator('#run-in-question').fill('x');
	await page.locator('#run-submit').click();
	await expect(page.locator('#run-form [role="alert"]')).toHaveText(/^Not run: /);
	await expect(page.locator('#run-status')).toHaveCount(0);
	await expect(page.locator('[data-run]')).toHaveCount(0);
	const list = await request(server, 'GET', '/api/v1/executions', auth);
	expect(list.json.items).toHaveLength(0);

	const viewer = await inviteMember(server, login.access_token, login.tenant.id, 'viewer');
	await page.context().clearCookies();
	await signIn(page, viewer);
	await page.goto(`/patterns/${pattern.id}/builder`);
	await expect(page.locator('#builder-readonly')).toBeVisible();
	await expect(page.locator('#run-form')).toHaveCount(0);
	expect(errors.filter((e) => !/status of 429/.test(e))).toEqual([]);
});
