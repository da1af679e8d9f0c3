// Issue 6's "done means", end to end in one browser and from the dashboard alone: the set-up
// link, the owner account, sign-in, the overview; an agent registered through its form (a
// builtin constant), a library pattern cloned, run from the form its input schema generates,
// and the execution page following the run live to `succeeded`, with its confidence and the
// agent's answer, without a reload. Nothing here goes through the API directly.
import { test, expect } from './fixtures.mjs';
import { strongPassword } from '../api/helpers/server.mjs';
import { setUpInBrowser, signIn } from './helpers.mjs';

test('first run to a finished execution, from the dashboard alone', async ({ page, server }, testInfo) => {
	const problems = [];
	page.on('pageerror', (e) => problems.push(e.message));
	page.on('dialog', (d) => {
		problems.push(`dialog: ${d.message()}`);
		d.dismiss();
	});
	const owner = { email: 'nina@example.com', password: strongPassword() };

	// first run: the set-up link printed by `parallax serve`
	await setUpInBrowser(page, server, { tenant: 'Nina Labs', name: 'Nina Newcomer', ...owner });
	await signIn(page, owner);

	// the overview, empty, says what to do next
	await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
	await expect(page.locator('.tenant')).toHaveText('Nina Labs');
	await expect(page.locator('#role')).toHaveText('owner');
	await page.screenshot({ path: testInfo.outputPath('1-overview-empty.png'), fullPage: true });

	// an agent, through its form
	await page.getByRole('link', { name: 'Agents' }).click();
	await expect(page.getByRole('heading', { name: 'No agents yet' })).toBeVisible();
	await page.goto('/agents/new');
	await page.locator('#f-name').fill('1-steady');
	await page.locator('#f-capabilities').fill('cascade');
	await page.locator('#f-kind').selectOption('builtin');
	await page.locator('#f-config_type').selectOption('constant');
	await page.locator('#f-config_value').fill('{"answer": "ship it"}');
	await page.locator('#f-config_confidence').fill('0.92');
	await page.getByRole('button', { name: 'Register agent' }).click();
	await expect(page.locator('#flash')).toHaveText('Agent 1-steady registered.');
	await expect(page.locator('#health')).toHaveText('healthy');
	await page.screenshot({ path: testInfo.outputPath('2-agent.png'), fullPage: true });

	// a built-in pattern, cloned from the library
	await page.getByRole('link', { name: 'Patterns', exact: true }).click();
	await page.getByRole('link', { name: 'Start from the library' }).click();
	const item = page.locator('#lib-confidence-cascade');
	await item.getByLabel('Name in this workspace').fill('release-check');
	await item.getByRole('button', { name: 'Clone' }).click();
	await expect(page.locator('#pattern-name')).toHaveText('release-check');
	await page.screenshot({ path: testInfo.outputPath('3-pattern.png'), fullPage: true });

	// run it from the form its input schema generates
	const form = page.locator('#run-form');
	await form.locator('.field[data-field="task"] textarea').fill('Is release 2.4 ready to ship?');
	await form.locator('.field[data-field="minConfidence"] input').fill('0.9');
	await form.getByRole('button', { name: /^Run version 1$/ }).click();

	// the execution page follows it live, to the end, without a reload
	await expect(page).toHaveURL(/\/executions\/[0-9a-f-]{36}$/);
	await page.evaluate(() => { window.__notReloaded = true; });
	await expect(page.locator('#status')).toHaveText('succeeded', { timeout: 20000 });
	expect(await page.evaluate(() => window.__notReloaded)).toBe(true);
	await expect(page.locator('#confidence')).toHaveText('0.92');
	await expect(page.locator('#result')).toContainText('"status": "target_achieved"');
	await expect(page.locator('#result')).toContainText('"answered_by": "1-steady"');
	await expect(page.locator('#result')).toContainText('ship it');
	const cascade = page.locator('#timeline .step').filter({ has: page.locator('.step-head strong', { hasText: /^cascade$/ }) });
	await expect(cascade.locator('.calls li')).toContainText('1-steady');
	await page.screenshot({ path: testInfo.outputPath('4-execution.png'), fullPage: true });

	// and the overview counts it
	await page.getByRole('link', { name: 'Overview' }).click();
	await expect(page.locator('#kpi-today .kpi-value')).toHaveText('1');
	await expect(page.locator('#kpi-success .kpi-value')).toHaveText('100.0 %');
	await expect(page.locator('#kpi-confidence .kpi-value')).toHaveText('0.92');
	await expect(page.locator('#kpi-agents .kpi-value')).toHaveText('1 / 1'); // as the agents page says
	await page.screenshot({ path: testInfo.outputPath('5-overview.png'), fullPage: true });
	expect(problems).toEqual([]);
});
