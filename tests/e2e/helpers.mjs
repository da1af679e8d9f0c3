// What the browser tests share: signing in through the form, the first-run set-up form, the
// 375 px side-scroll check, axe's serious and critical violations and the dialogs a page raised.
import AxeBuilder from '@axe-core/playwright';
import { expect } from './fixtures.mjs';

// Signs in through /login and lands on the overview.
export async function signIn(page, who) {
	await page.goto('/login');
	await page.locator('#email').fill(who.email);
	await page.locator('input[name="password"]').fill(who.password);
	await page.getByRole('button', { name: /sign in/i }).click();
	await expect(page).toHaveURL(/\/$/);
}

// Follows the server's one-time set-up link and creates the organization and its owner;
// lands on the sign-in page.
export async function setUpInBrowser(page, server, { tenant, name, email, password }) {
	await page.goto(`/setup?token=${encodeURIComponent(server.setupToken)}`);
	await page.locator('input[name="tenant_name"]').fill(tenant);
	await page.locator('input[name="name"]').fill(name);
	await page.locator('#email').fill(email);
	await page.locator('input[name="password"]').fill(password);
	await page.getByRole('button', { name: /create owner/i }).click();
	await expect(page).toHaveURL(/\/login\?setup=done$/);
}

// Asserts the page does not scroll sideways (at the viewport's width); true when it holds.
export async function noHorizontalScroll(page, what = page.url()) {
	const { sw, iw } = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, iw: window.innerWidth }));
	expect(sw, `${what} scrolls sideways at ${iw} px`).toBeLessThanOrEqual(iw);
	return true;
}

// axe-core's serious and critical violations on the page, one line each.
export async function seriousViolations(page) {
	const r = await new AxeBuilder({ page }).analyze();
	return r.violations
		.filter((v) => v.impact === 'serious' || v.impact === 'critical')
		.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
}

// Every alert/confirm/prompt the page raised; confirms from data-confirm are accepted.
export function watchDialogs(page) {
	const alerts = [];
	page.on('dialog', (d) => {
		if (d.type() === 'confirm') return d.accept();
		alerts.push(`${d.type()}: ${d.message()}`);
		return d.dismiss();
	});
	return alerts;
}
