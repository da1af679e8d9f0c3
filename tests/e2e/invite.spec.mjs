// Issue 3's "done means", in a browser: a new owner follows the set-up link, signs in,
// invites a colleague; the colleague accepts in a second browser context, signs in, and
// lands with the invited role. The owner's invitation is made through the API (the
// dashboard's members page comes with the dashboard).
import { test, expect } from './fixtures.mjs';
import { post, strongPassword } from '../api/helpers/server.mjs';
import { setUpInBrowser, signIn } from './helpers.mjs';

test('owner sets up, signs in and invites a colleague who accepts', async ({ page, browser, server }, testInfo) => {
	const owner = { email: 'olga@example.com', password: strongPassword() };
	await setUpInBrowser(page, server, { tenant: 'Invite Flow Inc', name: 'Olga Owner', ...owner });
	await signIn(page, owner);
	await expect(page.locator('#role')).toHaveText('owner');
	await page.screenshot({ path: testInfo.outputPath('home-owner.png'), fullPage: true });

	// The invitation (API, as the owner).
	const login = await post(server, '/api/v1/auth/login', { json: owner });
	expect(login.status).toBe(200);
	const tenantId = login.json.tenant.id;
	const invited = { email: 'dev@example.com', password: strongPassword() };
	const inv = await post(server, `/api/v1/tenants/${tenantId}/invitations`, {
		json: { email: invited.email, role: 'developer' },
		headers: { Authorization: `Bearer ${login.json.access_token}` },
	});
	expect(inv.status).toBe(201);
	const link = new URL(inv.json.link);
	expect(link.origin).toBe(server.url);

	// The colleague, in a separate browser context (no shared cookies).
	const ctx = await browser.newContext({ baseURL: server.url });
	const colleague = await ctx.newPage();
	await colleague.goto(link.pathname + link.search);
	await colleague.screenshot({ path: testInfo.outputPath('invite-page.png'), fullPage: true });
	await colleague.locator('input[name="name"]').fill('Dev Eloper');
	await colleague.locator('input[name="password"]').fill(invited.password);
	await colleague.getByRole('button').first().click();
	await expect(colleague).toHaveURL(/\/login/);
	await colleague.locator('#email').fill(invited.email);
	await colleague.locator('input[name="password"]').fill(invited.password);
	await colleague.getByRole('button', { name: /sign in/i }).click();
	await expect(colleague).toHaveURL(/\/$/);
	await expect(colleague.locator('#role')).toHaveText('developer');

	// The link is single-use.
	const again = await colleague.goto(link.pathname + link.search);
	expect(again.status()).toBe(404);
	await ctx.close();
});

test('a wrong password on the login page is refused with a message and no session', async ({ page, server }) => {
	await post(server, '/api/v1/setup', {
		json: { token: server.setupToken, tenant_name: 'T', name: 'N', email: 'n@example.com', password: strongPassword() },
	});
	await page.goto('/login');
	await page.locator('#email').fill('n@example.com');
	await page.locator('input[name="password"]').fill('definitely not the password');
	await page.getByRole('button', { name: /sign in/i }).click();
	await expect(page.locator('#form-error')).toContainText(/not right/);
	const cookies = await page.context().cookies();
	expect(cookies.find((c) => c.name === 'parallax_session')).toBeUndefined();
	const home = await page.goto('/');
	expect(new URL(home.url()).pathname).toBe('/login');
});
