// First run in a browser: the one-time set-up link shows a form; filling it creates the
// owner and lands on /login; the set-up page is gone afterwards.
import { test, expect } from './fixtures.mjs';
import { strongPassword } from '../api/helpers/server.mjs';

async function fillSetupForm(page, password) {
	await page.locator('input[name="tenant_name"]').fill('Acme Browser Co');
	await page.locator('input[name="name"]').fill('Bea Browser');
	await page.locator('#email').fill('bea@example.com');
	await page.locator('input[name="password"]').fill(password);
}

for (const javaScriptEnabled of [true, false]) {
	test.describe(`set-up (JavaScript ${javaScriptEnabled ? 'on' : 'off'})`, () => {
		test.use({ javaScriptEnabled });

		test('the set-up link creates the owner and lands on /login', async ({ page, server }, testInfo) => {
			const consoleErrors = [];
			page.on('console', (m) => {
				// A missing favicon is not the page's fault.
				if (m.type() === 'error' && !/\/favicon\.ico$/.test(m.location().url || '')) {
					consoleErrors.push(`${m.text()} (${m.location().url || 'page'})`);
				}
			});
			page.on('pageerror', (e) => consoleErrors.push(String(e)));

			const setupPath = `/setup?token=${encodeURIComponent(server.setupToken)}`;
			const res = await page.goto(setupPath);
			expect(res.status()).toBe(200);
			await expect(page.locator('form')).toBeVisible();
			await fillSetupForm(page, strongPassword());
			// The artifact: the filled-in set-up page (e2e/test-results/<test>/setup-page.png).
			const shot = testInfo.outputPath('setup-page.png');
			await page.screenshot({ path: shot, fullPage: true });
			await testInfo.attach('setup-page', { path: shot, contentType: 'image/png' });

			await expect(page.locator('input[name="csrf"]')).toHaveCount(1);
			await expect(page.locator('input[name="token"]')).toHaveValue(server.setupToken);
			await expect(page.locator('input[name="password"]')).toHaveAttribute('type', 'password');
			expect(consoleErrors, 'console errors (CSP violations, scripts) on the set-up page').toEqual([]);

			const [post] = await Promise.all([
				page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/setup'),
				page.locator('form [type="submit"]').first().click(),
			]);
			expect(post.status()).toBe(303);
			expect(new URL(post.headers()['location'], server.url).pathname).toBe('/login');
			await page.waitForURL((u) => u.pathname === '/login');

			// The owner exists now: the set-up page is gone, with or without the token.
			expect((await page.request.get(setupPath)).status()).toBe(404);
			expect((await page.request.get('/setup')).status()).toBe(404);
			const api = await page.request.post('/api/v1/setup', {
				data: { token: server.setupToken, tenant_name: 'x', name: 'x', email: 'x@example.com', password: strongPassword() },
			});
			expect(api.status()).toBe(404);
		});
	});
}

test('a set-up form with a too-short password is shown again with an error', async ({ page, server }) => {
	await page.goto(`/setup?token=${encodeURIComponent(server.setupToken)}`);
	await fillSetupForm(page, 'short');
	// Bypass the browser's own minlength check (if any) to see the server's answer.
	await page.locator('form').evaluate((f) => f.setAttribute('novalidate', ''));
	const [post] = await Promise.all([
		page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/setup'),
		page.locator('form [type="submit"]').first().click(),
	]);
	expect(post.status(), 'a refused form is shown again, not redirected').not.toBe(303);
	expect([200, 400, 422]).toContain(post.status());
	await expect(page.locator('input[name="password"]')).toBeVisible();
	expect(new URL(page.url()).pathname).toBe('/setup');
	// Nothing was created: the link still works.
	expect((await page.request.get(`/setup?token=${encodeURIComponent(server.setupToken)}`)).status()).toBe(200);
});
