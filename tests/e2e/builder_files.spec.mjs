// The builder's files and templates (issue 7): every built-in library pattern, imported from
// its YAML file and exported again as YAML and as JSON, is the same document apart from the
// layout; positions survive import → export under ui; a broken or hostile file is refused
// with its reason and the canvas unchanged; a library pattern opens in the builder as the
// start of a new one, which saves as that document.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { test, expect } from './fixtures.mjs';
import { signIn } from './helpers.mjs';
import { request, setupOwner } from '../api/helpers/server.mjs';
import { watchConsole, ownerToken, node, ready } from './builder_helpers.mjs';

const LIBRARY = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../engine/library');
const libraryFiles = fs.readdirSync(LIBRARY).filter((f) => f.endsWith('.yaml')).sort();

// Imports a file (name, text) through the Import button's file input.
async function importFile(page, name, text) {
	await page.locator('#import-input').setInputFiles({ name, mimeType: name.endsWith('.json') ? 'application/json' : 'application/yaml', buffer: Buffer.from(text) });
}

// Clicks an export button and returns the downloaded file's name and text.
async function exportFile(page, button) {
	const [download] = await Promise.all([page.waitForEvent('download'), page.locator(button).click()]);
	const file = await download.path();
	return { name: download.suggestedFilename(), text: fs.readFileSync(file, 'utf8') };
}

function withoutUi(doc) {
	const { ui, ...rest } = doc;
	return rest;
}

test('every library pattern: import its YAML file, export YAML and JSON, the same document', async ({ page, server }) => {
	const errors = watchConsole(page);
	const owner = await setupOwner(server);
	await signIn(page, owner);
	await page.setViewportSize({ width: 1440, height: 1000 });
	await page.goto('/patterns/builder/new');
	await ready(page);
	expect(libraryFiles.length).toBeGreaterThanOrEqual(12);
	for (const f of libraryFiles) {
		const text = fs.readFileSync(path.join(LIBRARY, f), 'utf8');
		const original = YAML.parse(text);
		await importFile(page, f, text);
		await expect(page.locator('#save-status')).toHaveText(`Imported ${f}.`);
		await expect(page.locator('.react-flow__node')).toHaveCount(original.nodes.length);
		await expect(page.locator('#validation-state'), f).toHaveText('valid');

		const y = await exportFile(page, '#export-yaml');
		expect(y.name).toBe(`${original.name}.yaml`);
		const fromYaml = YAML.parse(y.text);
		expect(withoutUi(fromYaml), f).toEqual(original);
		// the layout the builder made rides along: a position for every node
		expect(Object.keys(fromYaml.ui.positions).sort()).toEqual(original.nodes.map((n) => n.id).sort());
		const j = await exportFile(page, '#export-json');
		expect(j.name).toBe(`${original.name}.json`);
		expect(withoutUi(JSON.parse(j.text)), f).toEqual(original);

		// the JSON export imported again comes back exactly, positions included
		await importFile(page, j.name, j.text);
		await expect(page.locator('#save-status')).toHaveText(`Imported ${j.name}.`);
		const again = await exportFile(page, '#export-json');
		expect(JSON.parse(again.text), f).toEqual(JSON.parse(j.text));
	}
	expect(errors).toEqual([]);
});

test('a broken or hostile file is refused with its reason, and the canvas stays', async ({ page, server }) => {
	const errors = watchConsole(page);
	const owner = await setupOwner(server);
	await signIn(page, owner);
	await page.goto('/patterns/builder/new');
	await ready(page);
	await importFile(page, 'two.yaml', 'name: two\nnodes:\n  - id: in\n    type: input\n  - id: out\n    type: output\n    from: in\n');
	await expect(page.locator('.react-flow__node')).toHaveCount(2);
	const before = await page.locator('#builder-yaml').inputValue();

	const refused = [
		['broken.yaml', 'name: x\nnodes:\n  - id: [oops\n', /^Not imported: broken\.yaml, line \d+: /],
		['list.json', '[1, 2, 3]', /^Not imported: list\.json: the document must be an object/],
		['truncated.json', '{"name": "x", "nodes": [', /^Not imported: truncated\.json is not JSON: /],
		['scalar.yaml', 'just a line of text\n', /^Not imported: scalar\.yaml, line 1: The document must be a mapping/],
		['huge.yaml', `name: huge\ndescription: "${'x'.repeat(1100000)}"\nnodes: []\n`, /^Not imported: huge\.yaml is larger than 1 MiB\./],
	];
	for (const [name, text, message] of refused) {
		await importFile(page, name, text);
		await expect(page.locator('#save-status'), name).toHaveText(message);
		await expect(page.locator('#save-status')).toHaveClass(/prop-error/);
		await expect(page.locator('#builder-yaml')).toHaveValue(before);
		await expect(page.locator('.react-flow__node')).toHaveCount(2);
	}
	// a hostile name and description stay text on the canvas and in the export's file name
	const hostile = { name: '../<img src=x onerror=alert(1)>', description: '</textarea><script>alert(1)</script>', nodes: [{ id: 'in', type: 'input' }] };
	await importFile(page, 'hostile.json', JSON.stringify(hostile));
	await expect(page.locator('.react-flow__node')).toHaveCount(1);
	await expect(page.locator('#builder-yaml')).toHaveValue(/<\/textarea><script>alert\(1\)<\/script>/);
	await expect(page.locator('img[src="x"]')).toHaveCount(0);
	const out = await exportFile(page, '#export-json');
	expect(out.name).toBe('____img_src_x_onerror_alert_1__.json');
	expect(JSON.parse(out.text).description).toBe(hostile.description);
	// the server refuses the name when it is time to save, and says where
	await expect(page.locator('#validation-state')).toHaveText(/problem/);
	// an import is one undo step
	await page.locator('#undo').click();
	await expect(page.locator('#builder-yaml')).toHaveValue(before);
	expect(errors).toEqual([]);
});

test('a library pattern opens in the builder as the start of a new one', async ({ page, server }) => {
	const errors = watchConsole(page);
	const owner = await setupOwner(server);
	const { auth } = await ownerToken(server, owner);
	await signIn(page, owner);
	await page.setViewportSize({ width: 1440, height: 1000 });
	await page.goto('/patterns/library');
	await page.locator('#open-multi-validator').click();
	await expect(page).toHaveURL(/\/patterns\/builder\/new\?template=multi-validator$/);
	await ready(page);
	const original = YAML.parse(fs.readFileSync(path.join(LIBRARY, 'multi-validator.yaml'), 'utf8'));
	await expect(page.locator('.react-flow__node')).toHaveCount(original.nodes.length);
	await expect(page.locator('#save-status')).toContainText('Started from the library pattern multi-validator');
	await expect(page.locator('#validation-state')).toHaveText('valid');
	// laid out: no two nodes on the same spot
	const boxes = await page.locator('.react-flow__node').evaluateAll((els) => els.map((e) => e.getBoundingClientRect()).map((r) => `${Math.round(r.x)},${Math.round(r.y)}`));
	expect(new Set(boxes).size).toBe(boxes.length);

	// change it a little, save it under a name of its own
	await page.locator('#builder-name').fill('my-validator');
	await page.locator('#builder-save').click();
	await expect(page.locator('#save-status')).toHaveText('Saved v1.');
	const got = await request(server, 'GET', '/api/v1/patterns/my-validator', auth);
	expect(got.status).toBe(200);
	expect(withoutUi(got.json.definition)).toEqual({ ...original, name: 'my-validator' });
	expect(Object.keys(got.json.definition.ui.positions)).toHaveLength(original.nodes.length);

	// the template picker of a new canvas; replacing a canvas asks first
	await page.goto('/patterns/builder/new');
	await ready(page);
	await page.locator('#template-pick').focus();
	await expect(page.locator('#template-pick option')).toHaveCount(libraryFiles.length + 1);
	await page.locator('#template-pick').selectOption('simple-consensus');
	await expect(node(page, 'agree')).toBeVisible();
	const count = await page.locator('.react-flow__node').count();
	page.removeAllListeners('dialog');
	let asked = '';
	page.once('dialog', (d) => {
		asked = d.message();
		d.dismiss();
	});
	await page.locator('#template-pick').selectOption('load-balancer');
	await expect.poll(() => asked).toContain('Replace the canvas with the library pattern load-balancer');
	await expect(page.locator('.react-flow__node')).toHaveCount(count);

	// an unknown template is said, and the canvas is empty
	await page.goto('/patterns/builder/new?template=no-such%3Cb%3E');
	await ready(page);
	await expect(page.locator('#save-status')).toContainText('No library pattern could be opened as "no-such<b>"');
	await expect(page.locator('.react-flow__node')).toHaveCount(0);
	// the library's 404 for it is the page's one console error
	expect(errors).toEqual(['Failed to load resource: the server responded with a status of 404 (Not Found)']);
});
