// The overview (issue 6): after sign-in, the workspace's KPIs and server-drawn SVG charts,
// with every user-supplied text rendered as text (a hostile tenant name opens no dialog),
// and a layout with no horizontal scroll at 375 px.
import { test, expect } from './fixtures.mjs';
import { signIn } from './helpers.mjs';
import { post, request, setupOwner } from '../api/helpers/server.mjs';

const HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>';

// An API token for the owner, a builtin constant agent with capability cap, and a one-agent
// pattern called name over it.
async function agentAndPattern(server, owner, name, cap, config) {
	const login = await post(server, '/api/v1/auth/login', { json: { email: owner.email, password: owner.password } });
	expect(login.status).toBe(200);
	const auth = { headers: { Authorization: `Bearer ${login.json.access_token}` } };
	const agent = await request(server, 'POST', '/api/v1/agents', {
		...auth,
		json: { name: `${name}-agent`, kind: 'builtin', capabilities: [cap], config: { type: 'constant', ...config } },
	});
	expect(agent.status).toBe(201);
	const definition = {
		name,
		input: { type: 'object' },
		nodes: [
			{ id: 'in', type: 'input' },
			{ id: 'ask', type: 'agent', from: 'in', select: { capabilities: [cap] }, task: 'Answer', data: '.input' },
			{ id: 'out', type: 'output', from: 'ask' },
		],
	};
	expect((await request(server, 'POST', '/api/v1/patterns', { ...auth, json: { name, definition } })).status).toBe(201);
	return auth;
}

// A finished run's timeline: no progress bar, and the agent node "ask" shows its type, its
// answer's confidence and the agent call with its latency.
async function expectAgentStep(page, agent, confidence) {
	await expect(page.locator('#progress')).toHaveCount(0);
	const ask = page.locator('#timeline .step').filter({ has: page.locator('.step-head strong', { hasText: /^ask$/ }) });
	await expect(ask.locator('.step-head')).toContainText('agent');
	await expect(ask.locator('.step-conf')).toHaveText(`confidence ${confidence}`);
	await expect(ask.locator('.calls li')).toHaveCount(1);
	await expect(ask.locator('.calls li')).toContainText(agent);
	await expect(ask.locator('.calls li')).toContainText(/succeeded \d+(\.\d)? (ms|s)/);
}

test('overview: KPIs and charts from real executions; hostile names stay text', async ({ page, server }, testInfo) => {
	const dialogs = [];
	page.on('dialog', (d) => {
		dialogs.push(d.message());
		d.dismiss();
	});
	const owner = await setupOwner(server, { tenant_name: HOSTILE });
	const auth = await agentAndPattern(server, owner, 'one-step', 'answer', { value: { ok: true }, confidence: 0.8 });
	for (let i = 0; i < 5; i++) {
		const r = await request(server, 'POST', '/api/v1/executions?wait=10', { ...auth, json: { pattern: 'one-step', input: { i } } });
		expect(r.status).toBe(200);
		expect(r.json.status).toBe('succeeded');
	}

	await signIn(page, owner);
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
	await expectAgentStep(page, 'one-step-agent', '0.80');
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

test('an execution page follows the run live, without a reload', async ({ page, server }, testInfo) => {
	const problems = [];
	page.on('console', (m) => {
		if (m.type() === 'error') problems.push(m.text());
	});
	page.on('pageerror', (e) => problems.push(e.message));
	page.on('response', (r) => {
		if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
	});
	const owner = await setupOwner(server);
	const auth = await agentAndPattern(server, owner, 'slow-step', 'slow', { value: { done: 1 }, confidence: 0.65, delay_ms: 2500 });
	await signIn(page, owner);
	await expect(page).toHaveURL(/\/$/);
	const sub = await request(server, 'POST', '/api/v1/executions', { ...auth, json: { pattern: 'slow-step', input: {} } });
	expect(sub.status).toBe(202);
	await page.goto(`/executions/${sub.json.id}`);
	await expect(page.locator('#status')).not.toHaveText('succeeded');
	// while it runs: how far it got (the 3-node pattern)
	await expect(page.locator('#progress')).toHaveAttribute('max', '3');
	await page.evaluate(() => { window.__notReloaded = true; });
	await expect(page.locator('#status')).toHaveText('succeeded', { timeout: 15000 });
	await expect(page.locator('#confidence')).toHaveText('0.65');
	await expect(page.locator('#timeline .step')).toHaveCount(3);
	await expectAgentStep(page, 'slow-step-agent', '0.65');
	expect(await page.evaluate(() => window.__notReloaded)).toBe(true);
	await page.screenshot({ path: testInfo.outputPath('execution-live.png'), fullPage: true });
	// no script error and no CSP violation (the policy allows no inline script or style)
	expect(problems).toEqual([]);
});

test('the executions list follows the workspace live; filters and pages swap in place', async ({ page, server }) => {
	const owner = await setupOwner(server);
	const auth = await agentAndPattern(server, owner, 'slowish', 'slowish', { value: { ok: 1 }, confidence: 0.9, delay_ms: 1500 });
	await signIn(page, owner);
	await page.goto('/executions');
	await expect(page.getByRole('heading', { name: 'No executions yet' })).toBeVisible();
	await page.evaluate(() => { window.__notReloaded = true; });
	// a run submitted elsewhere appears, then turns succeeded, without a reload
	const sub = await request(server, 'POST', '/api/v1/executions', { ...auth, json: { pattern: 'slowish', input: {} } });
	expect(sub.status).toBe(202);
	const row = page.locator(`#executions tr[data-id="${sub.json.id}"]`);
	await expect(row).toBeVisible({ timeout: 10000 });
	await expect(row.locator('.badge')).toHaveText('succeeded', { timeout: 15000 });
	// the filter goes through htmx: the URL follows, the page is not reloaded
	await page.locator('#f-status').selectOption('failed');
	await page.getByRole('button', { name: 'Filter' }).click();
	await expect(page).toHaveURL(/status=failed/);
	await expect(page.getByRole('heading', { name: 'No executions match' })).toBeVisible();
	await page.getByRole('link', { name: 'Clear' }).click();
	await expect(row).toBeVisible();
	expect(await page.evaluate(() => window.__notReloaded)).toBe(true);
});

test('the theme toggle persists', async ({ page, server }) => {
	const owner = await setupOwner(server);
	await page.emulateMedia({ colorScheme: 'light' });
	await signIn(page, owner);
	await expect(page).toHaveURL(/\/$/);
	const toggle = page.locator('[data-theme-toggle]');
	await expect(toggle).toBeVisible();
	await expect(toggle).toHaveAttribute('aria-pressed', 'false');
	await toggle.click();
	await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
	await page.reload();
	await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
	await expect(page.locator('[data-theme-toggle]')).toHaveAttribute('aria-pressed', 'true');
	const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
	expect(bg).toBe('rgb(15, 17, 21)');
});

test('signed out, a page sends to the sign-in and back', async ({ page, server }) => {
	const owner = await setupOwner(server);
	await page.goto('/executions');
	await expect(page).toHaveURL(/\/login\?next=\/executions$/);
	await page.locator('#email').fill(owner.email);
	await page.locator('input[name="password"]').fill(owner.password);
	await page.getByRole('button', { name: /sign in/i }).click();
	await expect(page).toHaveURL(/\/executions$/);
	await expect(page.getByRole('heading', { name: 'No executions yet' })).toBeVisible();
	const other = await page.goto('/executions/00000000-0000-7000-8000-000000000000');
	expect(other.status()).toBe(404);
});

test('overview: a new workspace explains what to do next', async ({ page, server }) => {
	const owner = await setupOwner(server);
	await signIn(page, owner);
	await expect(page).toHaveURL(/\/$/);
	await expect(page.getByRole('heading', { name: 'No executions yet' })).toBeVisible();
	await expect(page.locator('svg.chart')).toHaveCount(0);
	await expect(page.locator('#kpi-success .kpi-value')).toHaveText('—');
});
