// The patterns pages (issue 6): the list, the library (clone) and import, a pattern's page
// (nodes, YAML, versions, recent executions), the run form generated from the input schema
// and submitted through the queue, the side-by-side versions diff; what a viewer may not
// do is neither shown nor accepted; user-supplied text stays text; no horizontal scroll at
// 375 px; axe finds no serious or critical violation in either theme.
import { test, expect } from './fixtures.mjs';
import { noHorizontalScroll, seriousViolations, signIn } from './helpers.mjs';
import { post, request, setupOwner } from '../api/helpers/server.mjs';
import { inviteMember } from '../api/helpers/roles.mjs';

const XSS1 = '<script>alert(1)</script>';
const XSS2 = '"><img src=x onerror=alert(2)>';

// A signed-in owner with an API token: {owner, auth (Bearer headers), token}.
async function ownerWithToken(server, fields) {
	const owner = await setupOwner(server, fields);
	const login = await post(server, '/api/v1/auth/login', { json: { email: owner.email, password: owner.password } });
	expect(login.status).toBe(200);
	const token = login.json.access_token;
	return { owner, token, auth: { headers: { Authorization: `Bearer ${token}` } } };
}

async function api(server, auth, method, path, json) {
	return request(server, method, path, { ...auth, ...(json === undefined ? {} : { json }) });
}

// A builtin constant agent with capability cap (answering after delay_ms).
async function constantAgent(server, auth, cap, config = {}) {
	const r = await api(server, auth, 'POST', '/api/v1/agents', {
		name: `${cap}-agent`, kind: 'builtin', capabilities: [cap], config: { type: 'constant', value: { ok: true }, confidence: 0.9, ...config },
	});
	expect(r.status).toBe(201);
}

// One agent node over capability cap, with this input schema.
function onePattern(name, cap, input, extra = {}) {
	return {
		name,
		input,
		nodes: [
			{ id: 'in', type: 'input' },
			{ id: 'ask', type: 'agent', from: 'in', select: { capabilities: [cap] }, task: 'Answer the question', data: '.input' },
			{ id: 'out', type: 'output', from: 'ask' },
		],
		...extra,
	};
}

const RICH_INPUT = {
	type: 'object',
	required: ['topic', 'level'],
	properties: {
		topic: { type: 'string', maxLength: 80, description: 'What the agents discuss' },
		notes: { type: 'string', maxLength: 5000, description: 'Longer context' },
		level: { enum: ['low', 'medium', 'high'], default: 'medium', description: 'How hard to think' },
		count: { type: 'integer', minimum: 1, maximum: 10, default: 3 },
		ratio: { type: 'number', minimum: 0, maximum: 1 },
		urgent: { type: 'boolean', description: 'Skip the queue' },
		extra: { type: 'object', description: 'Anything else' },
	},
};

async function createPattern(server, auth, definition, description) {
	const r = await api(server, auth, 'POST', '/api/v1/patterns', { name: definition.name, definition, ...(description ? { description } : {}) });
	expect(r.status, r.text).toBe(201);
	return r.json;
}

async function executions(server, auth) {
	const r = await api(server, auth, 'GET', '/api/v1/executions');
	expect(r.status).toBe(200);
	return r.json.items;
}

// Submit the run form without the browser's own checks (required, min/max), as a script
// or an old browser could: what the server answers is under test.
async function submitUnchecked(page) {
	await page.locator('#run-form').evaluate((f) => { f.noValidate = true; });
	await page.getByRole('button', { name: /^Run version/ }).click();
}

function collectDialogs(page) {
	const dialogs = [];
	page.on('dialog', (d) => {
		dialogs.push(d.message());
		d.dismiss();
	});
	return dialogs;
}

test('empty list, clone from the library, land on the pattern page', async ({ page, server }, testInfo) => {
	const { owner } = await ownerWithToken(server);
	await signIn(page, owner);
	await page.getByRole('link', { name: 'Patterns', exact: true }).click();
	await expect(page).toHaveURL(/\/patterns$/);
	await expect(page.getByRole('heading', { name: 'No patterns yet' })).toBeVisible();
	await page.screenshot({ path: testInfo.outputPath('patterns-empty.png'), fullPage: true });

	await page.getByRole('link', { name: 'Start from the library' }).click();
	await expect(page).toHaveURL(/\/patterns\/library$/);
	const item = page.locator('#lib-confidence-cascade');
	await expect(item.getByRole('heading', { name: 'confidence-cascade' })).toBeVisible();
	await expect(item.locator('.needs')).toContainText('cascade');
	await page.screenshot({ path: testInfo.outputPath('patterns-library.png'), fullPage: true });
	await item.getByLabel('Name in this workspace').fill('my-cascade');
	await item.getByRole('button', { name: 'Clone' }).click();

	await expect(page).toHaveURL(/\/patterns\/[0-9a-f-]{36}$/);
	await expect(page.locator('#flash')).toContainText('Cloned confidence-cascade into this workspace as my-cascade');
	await expect(page.locator('#pattern-name')).toHaveText('my-cascade');
	await expect(page.locator('#nodes tbody tr')).toHaveCount(3);
	await expect(page.locator('#nodes tbody tr').nth(1)).toContainText('cascade');
	await expect(page.locator('#yaml')).toContainText('name: my-cascade');
	await expect(page.locator('#versions tbody tr')).toHaveCount(1);
	await expect(page.locator('#versions tbody tr')).toContainText(owner.name ?? 'Olive Owner');
	// the schema's fields: task (required, long: a textarea), data (JSON), minConfidence (number 0..1)
	await expect(page.locator('#run-form .field[data-field="task"] textarea')).toHaveAttribute('required', '');
	await expect(page.locator('#run-form .field[data-field="data"] textarea')).toHaveClass(/code/);
	await expect(page.locator('#run-form .field[data-field="minConfidence"] input')).toHaveAttribute('max', '1');
	await page.screenshot({ path: testInfo.outputPath('pattern-detail.png'), fullPage: true });

	// the same name again is refused, with a notice, and nothing is added
	await page.goto('/patterns/library');
	await page.locator('#lib-confidence-cascade').getByLabel('Name in this workspace').fill('my-cascade');
	await page.locator('#lib-confidence-cascade').getByRole('button', { name: 'Clone' }).click();
	await expect(page).toHaveURL(/\/patterns\/library$/);
	await expect(page.locator('#flash')).toContainText('exists');

	await page.goto('/patterns');
	await expect(page.locator('#patterns tbody tr')).toHaveCount(1);
	await expect(page.locator('#patterns tbody tr')).toContainText('never run');
	await page.screenshot({ path: testInfo.outputPath('patterns-list.png'), fullPage: true });
});

test('the run form follows the input schema and submits through the queue; the execution turns succeeded live', async ({ page, server }, testInfo) => {
	const problems = [];
	page.on('pageerror', (e) => problems.push(e.message));
	page.on('console', (m) => {
		if (m.type() === 'error') problems.push(m.text());
	});
	const { owner, auth } = await ownerWithToken(server);
	await constantAgent(server, auth, 'rich', { delay_ms: 1500 });
	await createPattern(server, auth, onePattern('rich', 'rich', RICH_INPUT));
	await signIn(page, owner);
	await page.goto('/patterns/rich/run');

	const form = page.locator('#run-form');
	const topic = form.getByLabel('topic');
	await expect(topic).toHaveAttribute('type', 'text');
	await expect(topic).toHaveAttribute('required', '');
	await expect(topic).toHaveAttribute('maxlength', '80');
	await expect(form.locator('label[for="in-0"]')).toContainText('(required)');
	await expect(form.locator('#in-0-hint')).toHaveText('What the agents discuss');
	await expect(form.locator('.field[data-field="notes"] textarea')).toBeVisible();
	const level = form.getByLabel('level');
	await expect(level).toHaveJSProperty('tagName', 'SELECT');
	await expect(level.locator('option:checked')).toHaveText('medium');
	await expect(level.locator('option')).toHaveText(['low', 'medium', 'high']); // required: no empty choice
	const count = form.getByLabel('count');
	await expect(count).toHaveAttribute('type', 'number');
	await expect(count).toHaveAttribute('min', '1');
	await expect(count).toHaveAttribute('max', '10');
	await expect(count).toHaveAttribute('step', '1');
	await expect(count).toHaveValue('3');
	await expect(form.locator('#in-3-hint')).toHaveText('A whole number from 1 to 10');
	await expect(form.getByLabel('ratio')).toHaveAttribute('step', 'any');
	await expect(form.getByLabel('urgent')).toHaveAttribute('type', 'checkbox');
	await expect(form.locator('.field[data-field="extra"] textarea')).toHaveClass(/code/);
	await page.screenshot({ path: testInfo.outputPath('pattern-run.png'), fullPage: true });

	await topic.fill('Ship it?');
	await level.selectOption({ label: 'high' });
	await count.fill('7');
	await form.getByLabel('ratio').fill('0.25');
	await form.getByLabel('urgent').check();
	await form.locator('.field[data-field="extra"] textarea').fill('{"k": [1, 2]}');
	await form.getByRole('button', { name: /^Run version 1$/ }).click();

	await expect(page).toHaveURL(/\/executions\/[0-9a-f-]{36}$/);
	await expect(page.locator('#flash')).toContainText('Queued');
	await expect(page.locator('#status')).not.toHaveText('succeeded');
	await page.evaluate(() => { window.__notReloaded = true; });
	await expect(page.locator('#status')).toHaveText('succeeded', { timeout: 15000 });
	expect(await page.evaluate(() => window.__notReloaded)).toBe(true);
	const [x] = await executions(server, auth);
	expect(x.status).toBe('succeeded');
	expect(x.input).toEqual({ topic: 'Ship it?', level: 'high', count: 7, ratio: 0.25, urgent: true, extra: { k: [1, 2] } });
	expect(x.pattern.version).toBe(1);
	expect(problems).toEqual([]);

	// the pattern's page lists it, the list shows its status
	await page.goto('/patterns/rich');
	await expect(page.locator('#runs tbody tr')).toHaveCount(1);
	await expect(page.locator('#runs .badge')).toHaveText('succeeded');
	await page.goto('/patterns');
	await expect(page.locator('#patterns tbody tr .badge')).toHaveText('succeeded');
});

test('a bad field comes back next to the field with every value kept, and nothing is queued', async ({ page, server }) => {
	const { owner, auth } = await ownerWithToken(server);
	await constantAgent(server, auth, 'rich');
	await createPattern(server, auth, onePattern('rich', 'rich', RICH_INPUT));
	await signIn(page, owner);
	await page.goto('/patterns/rich');
	const form = page.locator('#run-form');
	await form.getByLabel('topic').fill('Keep <me>');
	await form.getByLabel('level').selectOption({ label: 'low' });
	await form.getByLabel('count').fill('4');
	await form.getByLabel('urgent').check();
	await form.locator('.field[data-field="notes"] textarea').fill('line one\nline two');
	await form.locator('.field[data-field="extra"] textarea').fill('{"k": [1, 2}');
	await form.getByRole('button', { name: /^Run version/ }).click();

	await expect(page).toHaveURL(/\/patterns\/[^/]+\/run$/);
	const extra = page.locator('.field[data-field="extra"]');
	await expect(extra.locator('.field-error')).toContainText('"extra" is not valid JSON (line 1, column 12)');
	await expect(extra.locator('textarea')).toHaveAttribute('aria-invalid', 'true');
	await expect(extra.locator('textarea')).toHaveAttribute('aria-describedby', /in-6-error/);
	await expect(extra.locator('textarea')).toHaveValue('{"k": [1, 2}');
	await expect(page.getByLabel('topic')).toHaveValue('Keep <me>');
	await expect(page.getByLabel('level').locator('option:checked')).toHaveText('low');
	await expect(page.getByLabel('count')).toHaveValue('4');
	await expect(page.getByLabel('urgent')).toBeChecked();
	await expect(page.locator('.field[data-field="notes"] textarea')).toHaveValue('line one\nline two');
	await expect(page.locator('.field-error')).toHaveCount(1);
	expect(await executions(server, auth)).toEqual([]);

	// past the browser's own checks, the API's schema check answers: its problem goes to
	// the field it names
	await page.locator('.field[data-field="extra"] textarea').fill('');
	await page.getByLabel('count').fill('11');
	await submitUnchecked(page);
	await expect(page.locator('.field[data-field="count"] .field-error')).toHaveText(/"count": must be between 1 and 10/);
	await expect(page.locator('.field-error')).toHaveCount(1);
	expect(await executions(server, auth)).toEqual([]);

	// a required field left empty (no browser check) is named too
	await page.getByLabel('count').fill('2');
	await page.getByLabel('topic').fill('');
	await submitUnchecked(page);
	await expect(page.locator('.field[data-field="topic"] .field-error')).toHaveText(/"topic" is required/);
	expect(await executions(server, auth)).toEqual([]);
});

test('a schema without properties gets one JSON field', async ({ page, server }) => {
	const { owner, auth } = await ownerWithToken(server);
	await constantAgent(server, auth, 'free');
	await createPattern(server, auth, onePattern('free', 'free', { type: 'object' }));
	await signIn(page, owner);
	await page.goto('/patterns/free/run');
	const input = page.getByLabel('Input (JSON)');
	await expect(input).toHaveValue('{}');
	await input.fill('[1');
	await page.getByRole('button', { name: /^Run version/ }).click();
	await expect(page.locator('.field-error')).toContainText('"Input (JSON)" is not valid JSON');
	await page.getByLabel('Input (JSON)').fill('{"question": "why?"}');
	await page.getByRole('button', { name: /^Run version/ }).click();
	await expect(page).toHaveURL(/\/executions\/[0-9a-f-]{36}$/);
	await expect(page.locator('#status')).toHaveText('succeeded', { timeout: 15000 });
	const [x] = await executions(server, auth);
	expect(x.input).toEqual({ question: 'why?' });
});

test('versions side by side: added, removed and changed lines marked, stacked at 375 px', async ({ page, server }, testInfo) => {
	const { owner, auth } = await ownerWithToken(server);
	const v1 = onePattern('evolving', 'c', { type: 'object' });
	v1.nodes[1].timeout_ms = 5000;
	const p = await createPattern(server, auth, v1, 'Grows over time');
	const v2 = structuredClone(v1);
	delete v2.nodes[1].timeout_ms; // removed
	v2.nodes[1].task = 'Answer the question twice'; // changed
	v2.nodes[2].confidence = 'min'; // added
	const add = await api(server, auth, 'POST', `/api/v1/patterns/${p.id}/versions`, { definition: v2, message: 'Simpler, stricter' });
	expect(add.status).toBe(201);

	await signIn(page, owner);
	await page.goto(`/patterns/${p.id}`);
	await expect(page.locator('#versions tbody tr')).toHaveCount(2);
	await expect(page.locator('#versions tbody tr').first()).toContainText('Simpler, stricter');
	await page.getByRole('link', { name: 'Compare with v1' }).click();
	await expect(page).toHaveURL(/\/versions\/diff\?from=1&to=2$/);
	await expect(page.locator('#d-from option:checked')).toHaveText('v1');
	await expect(page.locator('#d-to option:checked')).toHaveText('v2 · Simpler, stricter');

	const removed = page.locator('#diff tr.d-del');
	await expect(removed).toHaveCount(1);
	await expect(removed.locator('td.code.l del')).toHaveText('  timeout_ms: 5000');
	await expect(removed.locator('td.mk.l')).toContainText('removed');
	const added = page.locator('#diff tr.d-ins');
	await expect(added).toHaveCount(1);
	await expect(added.locator('td.code.r ins')).toHaveText('  confidence: min');
	await expect(added.locator('td.mk.r')).toContainText('added');
	const changed = page.locator('#diff tr.d-chg');
	await expect(changed).toHaveCount(1);
	await expect(changed.locator('td.code.l')).toHaveText('  task: Answer the question');
	await expect(changed.locator('td.code.r')).toHaveText('  task: Answer the question twice');
	await expect(changed.locator('td.code.r ins')).toHaveText(' twice');
	await expect(page.locator('#diff-stat')).toContainText('+2 added');
	await expect(page.locator('#diff-stat')).toContainText('−2 removed');
	await expect(page.locator('#diff tr.d-skip').first()).toContainText('unchanged line');
	await expect(page.locator('details.changes li')).toHaveCount(3);
	await page.screenshot({ path: testInfo.outputPath('pattern-diff.png'), fullPage: true });
	await page.emulateMedia({ colorScheme: 'dark' });
	await page.screenshot({ path: testInfo.outputPath('pattern-diff-dark.png'), fullPage: true });
	await page.emulateMedia({ colorScheme: 'light' });

	// every line on request; the selects pick other versions (the same on both sides)
	await page.getByRole('link', { name: 'Show every line' }).click();
	await expect(page.locator('#diff tr.d-skip')).toHaveCount(0);
	await page.locator('#d-from').selectOption('2');
	await page.getByRole('button', { name: 'Compare' }).click();
	await expect(page.locator('#diff-stat')).toHaveText('The same version on both sides.');
	await expect(page.locator('#diff tr.d-same').first()).toBeVisible();

	await page.setViewportSize({ width: 375, height: 800 });
	await page.goto(`/patterns/${p.id}/versions/diff?from=1&to=2`);
	await noHorizontalScroll(page);
	// stacked: the old side of a changed line above its new side
	const l = await changed.locator('td.code.l').boundingBox();
	const r = await changed.locator('td.code.r').boundingBox();
	expect(r.y).toBeGreaterThan(l.y);
	await page.screenshot({ path: testInfo.outputPath('pattern-diff-375.png'), fullPage: true });

	await page.goto(`/patterns/${p.id}/versions/diff?from=1&to=9`);
	await expect(page.getByRole('heading', { name: 'No version 9' })).toBeVisible();
});

test('import: validation problems listed with node and path, the text kept; then a fixed document lands', async ({ page, server }, testInfo) => {
	const { owner } = await ownerWithToken(server);
	await signIn(page, owner);
	await page.goto('/patterns/library#import');
	const bad = [
		'name: imported',
		'description: From a file',
		'nodes:',
		'  - id: in',
		'    type: input',
		'  - id: ask',
		'    type: agent',
		'    from: nowhere',
		'    select: {capabilities: [c], min: -1}',
		'    task: Answer',
		'  - id: out',
		'    type: output',
		'    from: ask',
	].join('\n');
	await page.getByLabel('Document', { exact: true }).fill(bad);
	await page.getByRole('button', { name: 'Import' }).click();
	await expect(page).toHaveURL(/\/patterns\/import$/);
	const errors = page.locator('#import-errors');
	await expect(errors).toBeVisible();
	await expect(errors).toContainText('Not imported: 4 problems in the document');
	// the form comes first on the page, so the problems are in view
	const box = await errors.boundingBox();
	expect(box.y).toBeLessThan(await page.locator('#library').evaluate((l) => l.getBoundingClientRect().y));
	await expect(errors.locator('li').filter({ hasText: 'nowhere' }).first()).toContainText('ask');
	await expect(errors.locator('li code', { hasText: /^nodes\[1\]\.from$/ })).toHaveCount(1);
	await expect(errors.locator('li code', { hasText: /^nodes\[1\]\.select\.min$/ })).toHaveCount(1);
	await expect(page.getByLabel('Document', { exact: true })).toHaveValue(bad);
	await expect(page.getByLabel('Document', { exact: true })).toHaveAttribute('aria-invalid', 'true');
	await page.screenshot({ path: testInfo.outputPath('pattern-import-errors.png'), fullPage: true });

	// not YAML at all: the line is named
	await page.getByLabel('Document', { exact: true }).fill('name: [unclosed\nnodes: {');
	await page.getByRole('button', { name: 'Import' }).click();
	await expect(page.locator('#import-errors')).toContainText(/line \d+/);

	await page.getByLabel('Document', { exact: true }).fill(bad.replace('from: nowhere', 'from: in').replace('min: -1', 'min: 1'));
	await page.getByRole('button', { name: 'Import' }).click();
	await expect(page).toHaveURL(/\/patterns\/[0-9a-f-]{36}$/);
	await expect(page.locator('#flash')).toHaveText('Imported imported as version 1.');
	await expect(page.locator('#pattern-description')).toHaveText('From a file');

	// the same name again adds a version; JSON works as well as YAML
	await page.goto('/patterns/library');
	await page.getByLabel('Document', { exact: true }).fill(JSON.stringify({ name: 'imported', description: 'From a file', nodes: [{ id: 'in', type: 'input' }, { id: 'out', type: 'output', from: 'in' }] }));
	await page.getByRole('button', { name: 'Import' }).click();
	await expect(page.locator('#flash')).toHaveText('Imported imported as version 2.');
	await expect(page.locator('#versions tbody tr')).toHaveCount(2);
});

test('hostile text renders as text on the list, detail, run and import pages', async ({ page, server }) => {
	const dialogs = collectDialogs(page);
	const { owner, auth } = await ownerWithToken(server, { tenant_name: XSS2 });
	await constantAgent(server, auth, 'c');
	const input = {
		type: 'object',
		properties: {
			[XSS2]: { type: 'string', title: XSS1, description: XSS2 },
			pick: { enum: [XSS1, XSS2], description: XSS1 },
		},
	};
	const def = onePattern('hostile', 'c', input, { description: `${XSS1} ${XSS2}` });
	def.nodes[1].task = XSS2;
	const p = await createPattern(server, auth, def, `${XSS1} ${XSS2}`);
	const v2 = await api(server, auth, 'POST', `/api/v1/patterns/${p.id}/versions`, { definition: def, message: XSS1 });
	expect(v2.status).toBe(201);
	// names that could carry markup are refused by the API itself
	for (const name of [XSS1, XSS2]) {
		const r = await api(server, auth, 'POST', '/api/v1/patterns', { name, definition: { ...def, name } });
		expect(r.status).toBe(400);
	}

	await signIn(page, owner);
	await page.goto('/patterns');
	await expect(page.locator('#patterns .pat-desc')).toHaveText(`${XSS1} ${XSS2}`);
	await page.goto(`/patterns/${p.id}`);
	await expect(page.locator('#pattern-description')).toHaveText(`${XSS1} ${XSS2}`);
	await expect(page.locator('#nodes')).toContainText(XSS2);
	await expect(page.locator('#yaml')).toContainText(XSS1);
	await expect(page.locator('#versions tbody tr').first()).toContainText(XSS1);
	const field = page.locator(`.field[data-field="${XSS2.replace(/"/g, '\\"')}"]`);
	await expect(field.locator('label')).toHaveText(XSS1);
	await expect(field.locator('input')).toHaveAttribute('name', 'in-0');
	await expect(field.locator('.hint')).toHaveText(XSS2);
	await expect(page.locator('.field[data-field="pick"] select option')).toHaveText(['(not set)', XSS1, XSS2]);
	expect(await page.locator('img[src="x"]').count()).toBe(0);

	// a hostile property name and enum value go through the form to the execution as is
	await field.locator('input').fill(XSS1);
	await page.locator('.field[data-field="pick"] select').selectOption({ label: XSS2 });
	await page.getByRole('button', { name: /^Run version/ }).click();
	await expect(page).toHaveURL(/\/executions\/[0-9a-f-]{36}$/);
	await expect(page.locator('#status')).toHaveText('succeeded', { timeout: 15000 });
	const [x] = await executions(server, auth);
	expect(x.input).toEqual({ [XSS2]: XSS1, pick: XSS2 });

	// importing a document named with markup: refused, the text kept as text
	await page.goto('/patterns/library');
	const doc = JSON.stringify({ ...def, name: XSS1 });
	await page.getByLabel('Document', { exact: true }).fill(doc);
	await page.getByRole('button', { name: 'Import' }).click();
	await expect(page.locator('#import-errors')).toContainText('name');
	await expect(page.getByLabel('Document', { exact: true })).toHaveValue(doc);
	// cloning under a name with markup: refused with a notice, rendered as text
	await page.locator('#lib-simple-consensus').getByLabel('Name in this workspace').evaluate((i, v) => {
		i.removeAttribute('pattern');
		i.value = v;
	}, XSS2);
	await page.locator('#lib-simple-consensus').getByRole('button', { name: 'Clone' }).click();
	await expect(page.locator('#flash')).toContainText('name');
	expect(await page.locator('img[src="x"]').count()).toBe(0);
	expect(dialogs).toEqual([]);
});

test('a viewer sees no Run, Clone, Import or Delete, and forced posts change nothing', async ({ page, server }) => {
	const { owner, token, auth } = await ownerWithToken(server);
	await constantAgent(server, auth, 'c');
	const p = await createPattern(server, auth, onePattern('guarded', 'c', { type: 'object', properties: { q: { type: 'string' } } }));
	const viewer = await inviteMember(server, token, owner.tenant.id, 'viewer');
	await signIn(page, viewer);
	await expect(page.locator('#role')).toHaveText('viewer');

	await page.goto('/patterns');
	await expect(page.locator('#patterns tbody tr')).toHaveCount(1);
	await expect(page.getByRole('link', { name: /New in the builder|From the library|Draw one/ })).toHaveCount(0);
	await page.goto(`/patterns/${p.id}`);
	await expect(page.locator('#pattern-name')).toHaveText('guarded');
	await expect(page.locator('#run-form')).toHaveCount(0);
	await expect(page.getByRole('link', { name: 'Run' })).toHaveCount(0);
	await expect(page.getByRole('button', { name: 'Delete' })).toHaveCount(0);
	await expect(page.locator('#nodes tbody tr')).toHaveCount(3);
	await page.goto(`/patterns/${p.id}/run`);
	await expect(page.getByRole('heading', { name: 'Your role may not run patterns' })).toBeVisible();
	await expect(page.locator('#run-form')).toHaveCount(0);
	await page.goto('/patterns/library');
	await expect(page.getByRole('heading', { name: 'Your role may not add patterns' })).toBeVisible();
	await expect(page.getByRole('button', { name: 'Clone' })).toHaveCount(0);
	await expect(page.getByRole('button', { name: 'Import' })).toHaveCount(0);

	// forced posts with a valid CSRF token (the one the page's own forms carry)
	const csrf = await page.locator('input[name="csrf"]').first().inputValue();
	const form = (fields) => ({ form: { csrf, ...fields }, maxRedirects: 0 });
	const run = await page.request.post(`/patterns/${p.id}/run`, form({ version: '1', 'in-0': 'forced' }));
	expect(run.status()).toBe(403);
	expect(await run.text()).toContain('your role may not');
	const clone = await page.request.post('/patterns/library/simple-consensus/clone', form({ name: 'forced' }));
	expect(clone.status()).toBe(303);
	const imp = await page.request.post('/patterns/import', form({ document: 'name: forced\nnodes: [{id: in, type: input}, {id: out, type: output, from: in}]' }));
	expect(imp.status()).toBe(403);
	const del = await page.request.post(`/patterns/${p.id}/delete`, form({}));
	expect(del.status()).toBe(303);
	expect(del.headers().location).toBe(`/patterns/${p.id}`);
	// and without the token, the dispatcher refuses before any page runs
	const noCsrf = await page.request.post(`/patterns/${p.id}/run`, { form: { version: '1' }, maxRedirects: 0 });
	expect(noCsrf.status()).toBe(403);

	expect(await executions(server, auth)).toEqual([]);
	const list = await api(server, auth, 'GET', '/api/v1/patterns');
	expect(list.json.items.map((x) => x.name)).toEqual(['guarded']);
	await page.goto(`/patterns/${p.id}`);
	await expect(page.locator('#pattern-name')).toHaveText('guarded');
});

test('delete from the pattern page after a confirmation', async ({ page, server }) => {
	const { owner, auth } = await ownerWithToken(server);
	const p = await createPattern(server, auth, onePattern('doomed', 'c', { type: 'object' }));
	await signIn(page, owner);
	await page.goto(`/patterns/${p.id}`);
	const asked = [];
	page.once('dialog', (d) => {
		asked.push(d.message());
		d.dismiss();
	});
	await page.getByRole('button', { name: 'Delete' }).click();
	await expect(page).toHaveURL(new RegExp(`/patterns/${p.id}$`));
	expect(asked[0]).toContain('Delete doomed?');
	page.once('dialog', (d) => d.accept());
	await page.getByRole('button', { name: 'Delete' }).click();
	await expect(page).toHaveURL(/\/patterns$/);
	await expect(page.locator('#flash')).toContainText('Deleted');
	await expect(page.getByRole('heading', { name: 'No patterns yet' })).toBeVisible();
	await page.goto(`/patterns/${p.id}`);
	await expect(page.getByRole('heading', { name: 'No such pattern' })).toBeVisible();
});

test('narrow screens and accessibility: 375 px without horizontal scroll; axe in light and dark', async ({ page, server }) => {
	const { owner, auth } = await ownerWithToken(server);
	await constantAgent(server, auth, 'rich');
	const def = onePattern('a-pattern-with-a-rather-long-name-for-a-narrow-screen', 'rich', RICH_INPUT, {
		description: 'A description long enough to wrap several times on a narrow phone screen, which must never make the page scroll sideways.',
	});
	const p = await createPattern(server, auth, def);
	const v2 = structuredClone(def);
	v2.nodes[1].task = `${'A very long task line that the diff must wrap inside its cell '.repeat(3)}end`;
	expect((await api(server, auth, 'POST', `/api/v1/patterns/${p.id}/versions`, { definition: v2 })).status).toBe(201);
	const run = await api(server, auth, 'POST', '/api/v1/executions?wait=10', { pattern: p.id, input: { topic: 't', level: 'low' } });
	expect(run.json.status).toBe('succeeded');
	await signIn(page, owner);
	const pages = ['/patterns', `/patterns/${p.id}`, `/patterns/${p.id}/run`, `/patterns/${p.id}/versions/diff?from=1&to=2`, '/patterns/library'];
	await page.setViewportSize({ width: 375, height: 800 });
	for (const path of pages) {
		await page.goto(path);
		await noHorizontalScroll(page);
	}
	await page.setViewportSize({ width: 1280, height: 900 });
	for (const scheme of ['light', 'dark']) {
		await page.emulateMedia({ colorScheme: scheme });
		for (const path of pages) {
			await page.goto(path);
			expect(await seriousViolations(page), `${path} (${scheme})`).toEqual([]);
		}
	}
	// a run form with errors is checked too
	await page.goto(`/patterns/${p.id}/run`);
	await page.getByLabel('topic').fill('t');
	await page.locator('.field[data-field="extra"] textarea').fill('{');
	await page.getByRole('button', { name: /^Run version/ }).click();
	await expect(page.locator('.field-error')).toHaveCount(1);
	expect(await seriousViolations(page), 'run form with an error (dark)').toEqual([]);
});
