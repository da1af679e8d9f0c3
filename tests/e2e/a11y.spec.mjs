// Accessibility (issue 6): axe-core on the main pages, in light and dark themes; no serious or
// critical violation.
import AxeBuilder from '@axe-core/playwright';
import { test, expect } from './fixtures.mjs';
import { post, request, setupOwner } from '../api/helpers/server.mjs';

async function violations(page) {
	const r = await new AxeBuilder({ page }).analyze();
	return r.violations
		.filter((v) => v.impact === 'serious' || v.impact === 'critical')
		.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
}

for (const scheme of ['light', 'dark']) {
	test(`axe: the main pages have no serious or critical violations (${scheme})`, async ({ page, server }) => {
		await page.emulateMedia({ colorScheme: scheme });
		await page.goto(`/setup?token=${encodeURIComponent(server.setupToken)}`);
		expect(await violations(page), 'set-up page').toEqual([]);
		const owner = await setupOwner(server);
		const login = await post(server, '/api/v1/auth/login', { json: { email: owner.email, password: owner.password } });
		const auth = { headers: { Authorization: `Bearer ${login.json.access_token}` } };
		await request(server, 'POST', '/api/v1/agents', {
			...auth,
			json: { name: 'c', kind: 'builtin', capabilities: ['c'], config: { type: 'constant', value: { ok: 1 }, confidence: 0.7 } },
		});
		const definition = { name: 'p', input: { type: 'object' }, nodes: [{ id: 'in', type: 'input' }, { id: 'ask', type: 'agent', from: 'in', select: { capabilities: ['c'] }, task: 't', data: '.input' }, { id: 'out', type: 'output', from: 'ask' }] };
		await request(server, 'POST', '/api/v1/patterns', { ...auth, json: { name: 'p', definition } });
		const run = await request(server, 'POST', '/api/v1/executions?wait=10', { ...auth, json: { pattern: 'p', input: {} } });
		expect(run.json.status).toBe('succeeded');
		await page.goto('/login');
		expect(await violations(page), 'sign-in page').toEqual([]);
		await page.locator('input[name="email"]').fill(owner.email);
		await page.locator('input[name="password"]').fill(owner.password);
		await page.getByRole('button', { name: /sign in/i }).click();
		await expect(page).toHaveURL(/\/$/);
		expect(await violations(page), 'overview').toEqual([]);
		await page.goto('/executions');
		expect(await violations(page), 'executions').toEqual([]);
		await page.goto(`/executions/${run.json.id}`);
		expect(await violations(page), 'execution').toEqual([]);
		for (const path of ['/audit', '/profile']) {
			await page.goto(path);
			expect(await violations(page), path).toEqual([]);
		}
	});
}
