// The overview (issue 6): after sign-in, the workspace's KPIs and server-drawn SVG charts,
// with every user-supplied text rendered as text (a hostile tenant name opens no dialog),
// and a layout with no horizontal scroll at 375 px.
import { test, expect } from './fixtures.mjs';
import { post, request, setupOwner } from '../api/helpers/server.mjs';

const HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>';

test('overview: KPIs and charts from real executions; hostile names stay text', async ({ page, server }, testInfo) => {
	const dialogs = [];
	page.on('dialog', (d) => {
		dialogs.push(d.message());
		d.dismiss();
	});
	const owner = await setupOwner(server, { tenant_name: HOSTILE });
	const login = await post(server, '/api/v1/auth/login', { json: { email: owner.email, password: owner.password } });
	expect(login.status).toBe(200);
	const auth = { headers: { Authorization: `Bearer ${login.json.access_token}` } };
	const agent = await request(server, 'POST', '/api/v1/agents', {
		...auth,
		json: { name: 'constant-one', kind: 'builtin', capabilities: ['answer'], config: { type: 'constant', value: { ok: true }, confidence: 0.8 } },
	});
	expect(agent.status).toBe(201);
	const definition = {
		name: 'one-step',
		input: { type: 'object' },
		nodes: [
			{ id: 'in', type: 'input' },
			{ id: 'ask', type: 'agent', from: 'in', select: { capabilities: ['answer'] }, task: 'Answer', data: '.input' },
			{ id: 'out', type: 'output', from: 'ask' },
		],
	};
	expect((await request(server, 'POST', '/api/v1/patterns', { ...auth, json: { name: 'one-step', definition } })).status).toBe(201);
	for (let i = 0; i < 5; i++) {
		const r = await request(server, 'POST', '/api/v1/executions?wait=10', { ...auth, json: { pattern: 'one-step', input: { i } } });
		expect(r.status).toBe(200);
		expect(r.json.status).toBe('succeeded');
	}

	await page.goto('/login');
	await page.locator('input[name="email"]').fill(owner.email);
	await page.locator('input[name="password"]').fill(owner.password);
	await page.getByRole('button', { name: /sign in/i }).click();
	await expect(page).toHaveURL(/\/$/);
	await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
	await expect(page.locator('.tenant')).toHaveText(HOSTILE);
	await expect(page.locator('#kpi-today .kpi-value')).toHaveText('5');
	await expect(page.locator('#kpi-success .kpi-value')).toHaveText('100.0 %');
	await expect(page.locator('#kpi-confidence .kpi-value')).toHaveText('0.80');
	await expect(page.locator('#kpi-agents .kpi-value')).toHaveText(/\/ 1$/);
	// three charts; the current hour's bar says what it holds in its tooltip title
	await expect(page.locator('svg.chart')).toHaveCount(3);
	const titles = await page.locator('svg.chart').first().locator('title').allTextContents();
	expect(titles).toHaveLength(24);
	expect(titles.some((t) => /: 5 executions, 5 succeeded, 0 failed, 0 other$/.test(t))).toBe(true);
	const conf = await page.locator('svg.chart').nth(1).locator('title').allTextContents();
	expect(conf).toContain('confidence 0.8 to 0.9: 5 executions');
	await page.screenshot({ path: testInfo.outputPath('overview.png'), fullPage: true });

	// the executions list, its filter, and one execution's page
	await page.getByRole('link', { name: 'Executions' }).click();
	await expect(page).toHaveURL(/\/executions$/);
	await expect(page.locator('#executions tbody tr')).toHaveCount(5);
	await expect(page.locator('#executions .badge').first()).toHaveText('succeeded');
	await page.screenshot({ path: testInfo.outputPath('executions.png'), fullPage: true });
	await page.locator('#f-status').selectOption('failed');
	await page.getByRole('button', { name: 'Filter' }).click();
	await expect(page).toHaveURL(/status=failed/);
	await expect(page.getByRole('heading', { name: 'No executions match' })).toBeVisible();
	await page.getByRole('link', { name: 'Show all executions' }).click();
	await page.locator('#executions tbody tr a').first().click();
	await expect(page).toHaveURL(/\/executions\/[0-9a-f-]{36}$/);
	await expect(page.locator('#status')).toHaveText('succeeded');
	await expect(page.locator('#confidence')).toHaveText('0.80');
	await expect(page.locator('#timeline .step')).toHaveCount(3);
	await expect(page.locator('#result')).toContainText('"ok": true');
	await page.screenshot({ path: testInfo.outputPath('execution.png'), fullPage: true });
	await page.goto('/');

	await page.setViewportSize({ width: 375, height: 800 });
	await page.reload();
	const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
	expect(overflow).toBeLessThanOrEqual(0);
	await page.screenshot({ path: testInfo.outputPath('overview-375.png'), fullPage: true });
	expect(dialogs).toEqual([]);
});

test('signed out, a page sends to the sign-in and back', async ({ page, server }) => {
	const owner = await setupOwner(server);
	await page.goto('/executions');
	await expect(page).toHaveURL(/\/login\?next=\/executions$/);
	await page.locator('input[name="email"]').fill(owner.email);
	await page.locator('input[name="password"]').fill(owner.password);
	await page.getByRole('button', { name: /sign in/i }).click();
	await expect(page).toHaveURL(/\/executions$/);
	await expect(page.getByRole('heading', { name: 'No executions yet' })).toBeVisible();
	const other = await page.goto('/executions/00000000-0000-7000-8000-000000000000');
	expect(other.status()).toBe(404);
});

test('overview: a new workspace explains what to do next', async ({ page, server }) => {
	const owner = await setupOwner(server);
	await page.goto('/login');
	await page.locator('input[name="email"]').fill(owner.email);
	await page.locator('input[name="password"]').fill(owner.password);
	await page.getByRole('button', { name: /sign in/i }).click();
	await expect(page).toHaveURL(/\/$/);
	await expect(page.getByRole('heading', { name: 'No executions yet' })).toBeVisible();
	await expect(page.locator('svg.chart')).toHaveCount(0);
	await expect(page.locator('#kpi-success .kpi-value')).toHaveText('—');
});
