// The audit log and the profile pages (issue 6): the log filters and exports what the API
// holds, a viewer neither sees nor opens it, sessions can be ended from another browser, and
// a password change ends every session.
import { test, expect } from './fixtures.mjs';
import { noHorizontalScroll, signIn } from './helpers.mjs';
import { post, setupOwner, strongPassword } from '../api/helpers/server.mjs';
import { inviteMember } from '../api/helpers/roles.mjs';

test('audit log: entries, filters, pages and exports', async ({ page, server }, testInfo) => {
	const dialogs = [];
	page.on('dialog', (d) => {
		dialogs.push(d.message());
		d.dismiss();
	});
	const owner = await setupOwner(server, { name: '<script>alert(1)</script>' });
	// two refused sign-ins and one that works
	for (let i = 0; i < 2; i++) {
		const bad = await post(server, '/api/v1/auth/login', { json: { email: owner.email, password: 'not-the-password-1' } });
		expect(bad.status).toBe(401);
	}
	await signIn(page, owner);
	await page.getByRole('link', { name: 'Audit log' }).click();
	await expect(page).toHaveURL(/\/audit$/);
	await expect(page.getByRole('heading', { level: 1, name: 'Audit log' })).toBeVisible();
	const rows = page.locator('#audit tbody tr');
	expect(await rows.count()).toBeGreaterThanOrEqual(4); // set-up, 2 refused, 1 sign-in
	await expect(page.locator('#audit')).toContainText('auth.login');
	await page.screenshot({ path: testInfo.outputPath('audit.png'), fullPage: true });

	// outcome filter: only the refusals
	await page.locator('#f-outcome').selectOption('failure');
	await page.getByRole('button', { name: 'Filter' }).click();
	await expect(page).toHaveURL(/outcome=failure/);
	await expect(rows).toHaveCount(2);
	for (const o of await page.locator('#audit tbody .badge').allTextContents()) expect(o).toBe('failure');

	// the exports carry the same filter
	const csvHref = await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
	expect(csvHref).toContain('outcome=failure');
	const csv = await page.request.get(csvHref);
	expect(csv.status()).toBe(200);
	expect(csv.headers()['content-type']).toContain('text/csv');
	const lines = (await csv.text()).trim().split('\r\n');
	expect(lines[0]).toMatch(/^id,created_at,/);
	expect(lines).toHaveLength(3);
	const json = await page.request.get(await page.getByRole('link', { name: 'Export JSON' }).getAttribute('href'));
	const items = await json.json();
	expect(items).toHaveLength(2);
	expect(items.map((x) => [x.outcome, x.action.split('.')[0]])).toEqual([['failure', 'auth'], ['failure', 'auth']]);

	// an action prefix and an empty result explain themselves
	await page.goto('/audit?action=nothing.*');
	await expect(page.getByRole('heading', { name: 'No entries match' })).toBeVisible();
	// a bad date names the field instead of failing the page
	await page.goto('/audit?since=yesterday');
	await expect(page.locator('#filter-error')).toContainText('since');

	// the older-page link follows the cursor
	const token = (await post(server, '/api/v1/auth/login', { json: { email: owner.email, password: owner.password } })).json.access_token;
	for (let i = 0; i < 50; i++) {
		const a = await post(server, '/api/v1/agents', {
			headers: { Authorization: `Bearer ${token}` },
			json: { name: `a${i}`, kind: 'builtin', capabilities: ['c'], config: { type: 'constant', value: { i }, confidence: 0.5 } },
		});
		expect(a.status, a.text).toBe(201);
	}
	await page.goto('/audit');
	await expect(rows).toHaveCount(50);
	const first = await rows.first().textContent();
	await page.getByRole('link', { name: 'Older' }).click();
	await expect(page).toHaveURL(/cursor=/);
	await expect(rows.first()).toBeVisible();
	await expect(rows.first()).not.toHaveText(first);
	expect(await rows.count()).toBeLessThan(50);

	await page.setViewportSize({ width: 375, height: 800 });
	await page.goto('/audit');
	expect(await noHorizontalScroll(page)).toBe(true);
	expect(dialogs).toEqual([]);
});

test('audit log: a viewer has no link and is refused', async ({ page, server }) => {
	const owner = await setupOwner(server);
	const login = await post(server, '/api/v1/auth/login', { json: { email: owner.email, password: owner.password } });
	const viewer = await inviteMember(server, login.json.access_token, login.json.tenant.id, 'viewer');
	await signIn(page, viewer);
	await expect(page.locator('#role')).toHaveText('viewer');
	await expect(page.getByRole('link', { name: 'Audit log' })).toHaveCount(0);
	const res = await page.goto('/audit');
	expect(res.status()).toBe(403);
	await expect(page.getByRole('heading', { level: 1, name: 'Not allowed' })).toBeVisible();
	await expect(page.locator('#audit')).toHaveCount(0);
});

test('profile: sessions end from another browser; a password change ends them all', async ({ page, browser, server }, testInfo) => {
	const owner = await setupOwner(server);
	await signIn(page, owner);
	// a second browser signs in too
	const other = await browser.newContext({ baseURL: server.url });
	const otherPage = await other.newPage();
	await signIn(otherPage, owner);

	await page.getByRole('link', { name: 'Olive Owner' }).click();
	await expect(page).toHaveURL(/\/profile$/);
	await expect(page.locator('#me-email')).toHaveText(owner.email);
	const sessions = page.locator('#session-list tbody tr');
	await expect(sessions).toHaveCount(2);
	await expect(page.locator('#session-list tr.current')).toHaveCount(1);
	await expect(page.locator('#session-list tr.current')).toContainText('this session');
	await page.screenshot({ path: testInfo.outputPath('profile.png'), fullPage: true });

	// end the other browser's session (the page asks first)
	page.once('dialog', (d) => d.accept());
	await page.locator('#session-list tr:not(.current)').getByRole('button', { name: 'End' }).click();
	await expect(page.locator('#flash')).toHaveText('The session was ended.');
	await expect(sessions).toHaveCount(1);
	await otherPage.goto('/executions');
	await expect(otherPage).toHaveURL(/\/login\?next=%2Fexecutions|\/login\?next=\/executions/);
	await other.close();

	// a wrong confirmation and a wrong current password are refused, named, and change nothing
	const fresh = strongPassword();
	await page.locator('#current_password').fill(owner.password);
	await page.locator('#new_password').fill(fresh);
	await page.locator('#confirm_password').fill(`${fresh}x`);
	await page.getByRole('button', { name: 'Change password' }).click();
	await expect(page.locator('#flash')).toContainText('confirm_password');
	await page.locator('#current_password').fill('not-the-password-1');
	await page.locator('#new_password').fill(fresh);
	await page.locator('#confirm_password').fill(fresh);
	await page.getByRole('button', { name: 'Change password' }).click();
	await expect(page.locator('#flash')).toContainText('current password is not right');

	// the change: signed out everywhere, the old password no longer works
	await page.locator('#current_password').fill(owner.password);
	await page.locator('#new_password').fill(fresh);
	await page.locator('#confirm_password').fill(fresh);
	await page.getByRole('button', { name: 'Change password' }).click();
	await expect(page).toHaveURL(/\/login\?password=changed$/);
	await expect(page.locator('.notice')).toContainText('password was changed');
	expect((await post(server, '/api/v1/auth/login', { json: { email: owner.email, password: owner.password } })).status).toBe(401);
	await signIn(page, { email: owner.email, password: fresh });

	await page.setViewportSize({ width: 375, height: 800 });
	await page.goto('/profile');
	expect(await noHorizontalScroll(page)).toBe(true);
});

test('a form posted without its CSRF token is refused and changes nothing', async ({ page, server }) => {
	const owner = await setupOwner(server);
	await signIn(page, owner);
	const res = await page.request.post('/profile/password', {
		form: { current_password: owner.password, new_password: 'a-new-password-123', confirm_password: 'a-new-password-123' },
		headers: { Origin: server.url },
	});
	expect(res.status()).toBe(403);
	expect((await post(server, '/api/v1/auth/login', { json: { email: owner.email, password: owner.password } })).status).toBe(200);
});
