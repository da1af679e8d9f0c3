// Accessibility (issue 6): axe-core on the main pages, in light and dark themes; no serious or
// critical violation.
import { test, expect } from './fixtures.mjs';
import { seriousViolations } from './helpers.mjs';
import { post, request, setupOwner } from '../api/helpers/server.mjs';

for (const scheme of ['light', 'dark']) {
	test(`axe: the main pages have no serious or critical violations (${scheme})`, async ({ page, server }) => {
		await page.emulateMedia({ colorScheme: scheme });
		await page.goto(`/setup?token=${encodeURIComponent(server.setupToken)}`);
		expect(await seriousViolations(page), 'set-up page').toEqual([]);
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
		expect(await seriousViolations(page), 'sign-in page').toEqual([]);
		await page.locator('#email').fill(owner.email);
		await page.locator('input[name="password"]').fill(owner.password);
		await page.getByRole('button', { name: /sign in/i }).click();
		await expect(page).toHaveURL(/\/$/);
		expect(await seriousViolations(page), 'overview').toEqual([]);
		await page.goto('/executions');
		expect(await seriousViolations(page), 'executions').toEqual([]);
		await page.goto(`/executions/${run.json.id}`);
		expect(await seriousViolations(page), 'execution').toEqual([]);
		for (const path of ['/audit', '/profile']) {
			await page.goto(path);
			expect(await seriousViolations(page), path).toEqual([]);
		}
	});
}
