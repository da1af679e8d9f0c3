// Team workspaces in the dashboard (issue 8): a second workspace created on /workspaces, a
// developer added to it as a viewer; the switcher in the top bar (a plain form post, with and
// without JavaScript) changes what every page and the API's cookie-authenticated calls act
// on; that developer is read-only there and may still create in the default one; a pick the
// user may not use falls back to the default workspace; a hostile `next` lands on "/";
// axe in light and dark, 375 px without sideways scroll, and screenshots.
import { test, expect } from './fixtures.mjs';
import { noHorizontalScroll, seriousViolations, signIn, watchDialogs } from './helpers.mjs';
import { request, setupOwner } from '../api/helpers/server.mjs';
import { call, inviteMember, login } from '../api/helpers/roles.mjs';
import { createSecondTenant } from '../api/helpers/tenants.mjs';

const HOSTILE = 'Research <img src=x onerror=alert(1)> "lab"';

// The owner, signed in over the API too (token), and a developer of the tenant (invited
// into the default workspace).
async function team(server) {
	const owner = await setupOwner(server, { name: 'Olga Owner' });
	owner.token = (await login(server, owner.email, owner.password)).access_token;
	const dev = await inviteMember(server, owner.token, owner.tenant.id, 'developer');
	return { owner, dev };
}

const DEFINITION = (name) => ({
	name,
	input: { type: 'object' },
	nodes: [{ id: 'in', type: 'input' }, { id: 'out', type: 'output', from: 'in' }],
});

// A pattern in workspace ws (id or slug; undefined: the default one) through the API.
async function patternIn(server, token, name, ws) {
	const headers = ws ? { 'X-Parallax-Workspace': ws } : {};
	const res = await call(server, 'POST', '/api/v1/patterns', token, { headers, json: { name, definition: DEFINITION(name) } });
	expect(res.status, res.text).toBe(201);
}

async function createWorkspace(server, token, name, slug) {
	const res = await call(server, 'POST', '/api/v1/workspaces', token, { json: { name, slug } });
	expect(res.status, res.text).toBe(201);
	return res.json;
}

// Opens the switcher and picks the workspace called name.
async function switchTo(page, name) {
	await page.locator('#ws-switch summary').click();
	await page.locator('#ws-switch').getByRole('button', { name }).click();
}

// The page's patterns, by name.
async function patternNames(page) {
	return page.locator('#patterns .pat-name a').allInnerTexts();
}

// A cookie-authenticated API call from the page, as the builder makes them (CSRF header from
// the page's form field).
function pageFetch(page, method, path, body, headers = {}) {
	return page.evaluate(async ({ method, path, body, headers }) => {
		const csrf = document.querySelector('input[name="csrf"]').value;
		const res = await fetch(path, {
			method,
			credentials: 'same-origin',
			headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf, ...headers },
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		return { status: res.status, json: await res.json().catch(() => null) };
	}, { method, path, body, headers });
}

test('workspaces: create one, add a developer as its viewer, and switch between their patterns', async ({ page, server }, testInfo) => {
	const alerts = watchDialogs(page);
	const { owner, dev } = await team(server);
	await patternIn(server, owner.token, 'default-only');
	await signIn(page, owner);
	await expect(page.locator('#ws-current')).toHaveText('Default');

	// the list: the default workspace, current, with its members
	await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Workspaces' }).click();
	await expect(page).toHaveURL(/\/workspaces$/);
	const first = page.locator('#workspace-list tbody tr');
	await expect(first).toHaveCount(1);
	await expect(first).toContainText('default');
	await expect(first.locator('.ws-here')).toHaveText('current');
	await expect(first.locator('.ws-members')).toHaveText('2 members');

	// create a second one with a hostile name: it stays text
	await page.getByLabel('Name', { exact: true }).fill(HOSTILE);
	await page.getByLabel(/^Slug/).fill('research');
	await page.getByLabel(/^Description/).fill('Experiments <b>not</b> yet in production');
	await page.getByRole('button', { name: 'Create workspace' }).click();
	await expect(page).toHaveURL(/\/workspaces\/[0-9a-f-]{36}#?$/);
	await expect(page.locator('#flash')).toHaveText(`Workspace ${HOSTILE} created. Add the people who work in it.`);
	await expect(page.locator('#ws-title')).toContainText(HOSTILE);
	await expect(page.locator('#ws-slug-value')).toHaveText('research');
	await expect(page.locator('#no-members')).toBeVisible();

	// add the developer with a viewer override
	await page.getByLabel(/^Member of/).selectOption({ label: `Member developer · ${dev.email} (developer)` });
	await page.getByLabel('Role here').selectOption('viewer');
	await page.getByRole('button', { name: 'Add to workspace' }).click();
	await expect(page.locator('#flash')).toHaveText('Added to the workspace.');
	const row = page.locator('#ws-members tbody tr', { hasText: dev.email });
	await expect(row.locator('select')).toHaveValue('viewer');
	await expect(row.locator('.ws-override')).toHaveText('overrides developer');
	await expect(row.locator('select option').first()).toHaveText('Organization role (developer)');
	await expect(page.locator('#no-candidates')).toBeVisible();
	await noHorizontalScroll(page, 'workspace page');
	await page.screenshot({ path: testInfo.outputPath('workspace.png'), fullPage: true });

	// a pattern in each workspace; the list and the switcher follow the pick
	await patternIn(server, owner.token, 'research-only', 'research');
	await page.goto('/patterns');
	expect(await patternNames(page)).toEqual(['default-only']);
	await switchTo(page, HOSTILE);
	await expect(page).toHaveURL(/\/patterns$/);
	await expect(page.locator('#flash')).toHaveText(`Now in the workspace ${HOSTILE}.`);
	await expect(page.locator('#ws-current')).toHaveText(HOSTILE);
	expect(await patternNames(page)).toEqual(['research-only']);
	// the API's cookie-authenticated calls (the builder's) act in the pick as well
	const listed = await pageFetch(page, 'GET', '/api/v1/patterns');
	expect(listed.json.items.map((p) => p.name)).toEqual(['research-only']);

	await page.goto('/workspaces');
	await expect(page.locator('#workspace-list tbody tr')).toHaveCount(2);
	await expect(page.locator('#workspace-list tbody tr').first()).toContainText('Default');
	await expect(page.locator('#workspace-list tr', { hasText: 'research' }).locator('.ws-members')).toHaveText('1 member');
	await noHorizontalScroll(page, 'workspaces page');
	await page.locator('#ws-switch summary').click();
	await expect(page.locator('#ws-switch .ws-choice[aria-current="true"]')).toHaveText(HOSTILE);
	await page.screenshot({ path: testInfo.outputPath('workspaces-switcher.png'), fullPage: true });
	await page.keyboard.press('Escape');
	await expect(page.locator('#ws-switch')).not.toHaveAttribute('open', '');
	await expect(page.locator('#ws-switch summary')).toBeFocused();

	// back to the default one from the list's own button
	await page.getByRole('button', { name: 'Switch to Default' }).click();
	await expect(page).toHaveURL(/\/workspaces$/);
	await expect(page.locator('#ws-current')).toHaveText('Default');
	await page.goto('/patterns');
	expect(await patternNames(page)).toEqual(['default-only']);
	await page.screenshot({ path: testInfo.outputPath('workspaces.png'), fullPage: true });
	expect(alerts).toEqual([]);
});

test('workspaces: a workspace role override is read-only there; the default one still allows creating', async ({ page, server }) => {
	const { owner, dev } = await team(server);
	const ws = await createWorkspace(server, owner.token, 'Research', 'research');
	const put = await call(server, 'PUT', `/api/v1/workspaces/${ws.id}/members/${dev.user.id}`, owner.token, { json: { role: 'viewer' } });
	expect(put.status, put.text).toBe(201);
	await patternIn(server, owner.token, 'research-only', 'research');

	await signIn(page, dev);
	await expect(page.locator('#role')).toHaveText('developer');
	await page.goto('/patterns');
	await expect(page.getByRole('link', { name: 'New in the builder' })).toBeVisible();
	// a viewer of the workspaces list: no create form, no member controls
	await page.goto('/workspaces');
	await expect(page.locator('#new')).toHaveCount(0);
	await expect(page.locator('#workspace-list tbody tr')).toHaveCount(2);

	await switchTo(page, 'Research');
	await expect(page.locator('#ws-current')).toHaveText('Research');
	await expect(page.locator('#role')).toHaveText('viewer');
	await expect(page.locator('#role-note')).toHaveText('in this workspace');
	await page.goto('/patterns');
	expect(await patternNames(page)).toEqual(['research-only']);
	await expect(page.getByRole('link', { name: 'New in the builder' })).toHaveCount(0);
	await page.goto(`/workspaces/${ws.id}`);
	await expect(page.locator('#ws-members form')).toHaveCount(0);
	await expect(page.locator('#add')).toHaveCount(0);

	// a forced write is refused by the API, through a page's form and through fetch alike
	const forced = await pageFetch(page, 'POST', '/api/v1/patterns', { name: 'sneaky', definition: DEFINITION('sneaky') });
	expect(forced.status).toBe(403);
	const imported = await page.evaluate(async (doc) => {
		const body = new URLSearchParams({ csrf: document.querySelector('input[name="csrf"]').value, document: doc });
		const res = await fetch('/patterns/import', { method: 'POST', body, redirect: 'manual' });
		return { status: res.type === 'opaqueredirect' ? 303 : res.status, text: await res.text() };
	}, JSON.stringify(DEFINITION('sneaky')));
	expect(imported.status).toBe(403);
	expect(imported.text).toMatch(/Your role may not add patterns/);
	const names = await call(server, 'GET', '/api/v1/patterns', owner.token, { headers: { 'X-Parallax-Workspace': 'research' } });
	expect(names.json.items.map((p) => p.name)).toEqual(['research-only']);

	// in the default workspace they are a developer again, and may create
	await switchTo(page, 'Default');
	await expect(page.locator('#role')).toHaveText('developer');
	await expect(page.locator('#role-note')).toHaveCount(0);
	const created = await pageFetch(page, 'POST', '/api/v1/patterns', { name: 'mine', definition: DEFINITION('mine') });
	expect(created.status).toBe(201);
	const defaults = await call(server, 'GET', '/api/v1/patterns', owner.token);
	expect(defaults.json.items.map((p) => p.name)).toContain('mine');
});

test('workspaces: a pick the user may not use falls back to the default one; hostile next values land on /', async ({ page, server, browser }) => {
	const { owner } = await team(server);
	const other = await createSecondTenant(server);
	await patternIn(server, owner.token, 'default-only');
	await signIn(page, owner);
	const origin = new URL(server.url);

	// another tenant's workspace in the cookie: this tenant's default, no error
	await page.context().addCookies([{ name: 'px_ws', value: other.workspace.id, domain: origin.hostname, path: '/' }]);
	const res = await page.goto('/patterns');
	expect(res.status()).toBe(200);
	await expect(page.locator('#ws-current')).toHaveText('Default');
	expect(await patternNames(page)).toEqual(['default-only']);
	expect((await pageFetch(page, 'GET', '/api/v1/patterns')).status).toBe(200);

	// a pick since deleted: the same
	const gone = await createWorkspace(server, owner.token, 'Short-lived', 'short-lived');
	await page.reload();
	await switchTo(page, 'Short-lived');
	await expect(page.locator('#ws-current')).toHaveText('Short-lived');
	expect(await patternNames(page)).toEqual([]);
	expect((await call(server, 'DELETE', `/api/v1/workspaces/${gone.id}`, owner.token)).status).toBe(204);
	expect((await page.goto('/patterns')).status()).toBe(200);
	await expect(page.locator('#ws-current')).toHaveText('Default');
	expect(await patternNames(page)).toEqual(['default-only']);

	// the switcher's form with a hostile next: home, never elsewhere
	for (const next of ['https://evil.example/', '//evil.example/', '/\\evil.example/', 'javascript:alert(1)', '/\r\nSet-Cookie: x=1']) {
		await page.goto('/executions');
		await page.locator('#ws-switch input[name="next"]').evaluate((el, v) => { el.value = v; }, next);
		await switchTo(page, 'Default');
		const url = new URL(page.url());
		expect(url.origin, next).toBe(server.url);
		expect(url.pathname, next).toBe('/');
		await expect(page.locator('#ws-current')).toHaveText('Default');
	}

	// without JavaScript: the menu is a disclosure and its choices are plain submit buttons
	await createWorkspace(server, owner.token, 'Ops', 'ops');
	const ctx = await browser.newContext({ baseURL: server.url, javaScriptEnabled: false });
	const nojs = await ctx.newPage();
	await signIn(nojs, owner);
	await nojs.goto('/agents');
	await switchTo(nojs, 'Ops');
	await expect(nojs).toHaveURL(/\/agents$/);
	await expect(nojs.locator('#ws-current')).toHaveText('Ops');
	await ctx.close();
});

for (const scheme of ['light', 'dark']) {
	test(`axe: the workspaces pages and the open switcher (${scheme})`, async ({ page, server }) => {
		await page.emulateMedia({ colorScheme: scheme });
		const { owner, dev } = await team(server);
		const ws = await createWorkspace(server, owner.token, 'Research', 'research');
		await call(server, 'PUT', `/api/v1/workspaces/${ws.id}/members/${dev.user.id}`, owner.token, { json: { role: 'viewer' } });
		await signIn(page, owner);
		await page.goto('/workspaces');
		expect(await seriousViolations(page), 'workspaces').toEqual([]);
		await page.locator('#ws-switch summary').click();
		expect(await seriousViolations(page), 'open switcher').toEqual([]);
		await page.goto(`/workspaces/${ws.id}`);
		expect(await seriousViolations(page), 'workspace').toEqual([]);
		await page.goto('/workspaces/00000000-0000-0000-0000-000000000000');
		await expect(page.locator('#missing')).toBeVisible();
		expect(await seriousViolations(page), 'missing workspace').toEqual([]);
	});
}

test('workspaces: 375 px wide, the pages and the open switcher do not scroll sideways', async ({ page, server }, testInfo) => {
	await page.setViewportSize({ width: 375, height: 800 });
	const { owner, dev } = await team(server);
	const long = 'A workspace with a rather long name that has to fit somewhere';
	const ws = await createWorkspace(server, owner.token, long, 'long');
	await call(server, 'PUT', `/api/v1/workspaces/${ws.id}/members/${dev.user.id}`, owner.token, { json: { role: 'operator' } });
	await signIn(page, owner);
	await switchTo(page, long);
	await expect(page.locator('#ws-current')).toHaveText(long);
	for (const path of ['/workspaces', `/workspaces/${ws.id}`, '/patterns']) {
		await page.goto(path);
		await noHorizontalScroll(page, path);
	}
	await page.locator('#ws-switch summary').click();
	await expect(page.locator('#ws-switch .ws-menu')).toBeVisible();
	await noHorizontalScroll(page, 'open switcher');
	const box = await page.locator('#ws-switch .ws-menu').boundingBox();
	expect(box.x).toBeGreaterThanOrEqual(0);
	expect(box.x + box.width).toBeLessThanOrEqual(375);
	await page.screenshot({ path: testInfo.outputPath('workspaces-375.png'), fullPage: true });
	await page.goto(`/workspaces/${ws.id}`);
	// a stacked member row's role form wraps inside the card instead of being clipped
	const save = await page.locator('#ws-members .inline-form button').boundingBox();
	const card = await page.locator('#members .table-wrap').boundingBox();
	expect(save.x + save.width).toBeLessThanOrEqual(card.x + card.width);
	await page.screenshot({ path: testInfo.outputPath('workspace-375.png'), fullPage: true });
});
