// The execution page's actions (issue 6): approve, reject, cancel and retry are plain forms,
// so they work with JavaScript off; the API's own handlers answer them (a viewer sees none of
// them, and a forced post is refused and changes nothing).
import { test, expect } from './fixtures.mjs';
import { signIn } from './helpers.mjs';
import { post, request, setupOwner } from '../api/helpers/server.mjs';
import { inviteMember } from '../api/helpers/roles.mjs';

// An owner's token, a constant agent and a pattern "gated": in -> ask -> approval -> out, and
// "slow": one agent call of 20 s.
async function world(server) {
	const owner = await setupOwner(server);
	const login = await post(server, '/api/v1/auth/login', { json: { email: owner.email, password: owner.password } });
	const auth = { headers: { Authorization: `Bearer ${login.json.access_token}` } };
	for (const [name, cfg] of [['fast', { value: { ok: 1 }, confidence: 0.9 }], ['slow', { value: { ok: 2 }, confidence: 0.9, delay_ms: 20000 }]]) {
		const a = await request(server, 'POST', '/api/v1/agents', { ...auth, json: { name, kind: 'builtin', capabilities: [name], config: { type: 'constant', ...cfg } } });
		expect(a.status).toBe(201);
	}
	const ask = (cap) => ({ id: 'ask', type: 'agent', from: 'in', select: { capabilities: [cap] }, task: 'Answer', data: '.input' });
	const patterns = {
		gated: [{ id: 'in', type: 'input' }, ask('fast'), { id: 'gate', type: 'approval', from: 'ask', message: 'Ship it?' }, { id: 'out', type: 'output', from: 'gate' }],
		slow: [{ id: 'in', type: 'input' }, ask('slow'), { id: 'out', type: 'output', from: 'ask' }],
	};
	for (const [name, nodes] of Object.entries(patterns)) {
		const p = await request(server, 'POST', '/api/v1/patterns', { ...auth, json: { name, definition: { name, input: { type: 'object' }, nodes } } });
		expect(p.status).toBe(201);
	}
	const submit = async (pattern) => (await request(server, 'POST', '/api/v1/executions', { ...auth, json: { pattern, input: {} } })).json.id;
	const status = async (id) => (await request(server, 'GET', `/api/v1/executions/${id}`, auth)).json.status;
	return { owner, login, auth, submit, status };
}

async function until(fn, want, ms = 15000) {
	const t0 = Date.now();
	for (;;) {
		const v = await fn();
		if (v === want) return v;
		if (Date.now() - t0 > ms) throw new Error(`still ${v}, wanted ${want}`);
		await new Promise((r) => setTimeout(r, 50));
	}
}

test.describe('with JavaScript off', () => {
	test.use({ javaScriptEnabled: false });

	test('approve, reject, cancel and retry from the execution page', async ({ page, server }, testInfo) => {
		const w = await world(server);
		await signIn(page, w.owner);

		// approve: the page says it is waiting, the form resumes it
		const a = await w.submit('gated');
		await until(() => w.status(a), 'waiting_approval');
		await page.goto(`/executions/${a}`);
		await expect(page.getByRole('heading', { name: 'Waiting for approval' })).toBeVisible();
		await page.screenshot({ path: testInfo.outputPath('execution-approval.png'), fullPage: true });
		await page.locator('#approve-comment').fill('looks right');
		await page.getByRole('button', { name: 'Approve' }).click();
		await expect(page).toHaveURL(new RegExp(`/executions/${a}$`));
		await expect(page.locator('#flash')).toHaveText('Approved.');
		await until(() => w.status(a), 'succeeded');

		// reject
		const b = await w.submit('gated');
		await until(() => w.status(b), 'waiting_approval');
		await page.goto(`/executions/${b}`);
		await page.getByRole('button', { name: 'Reject' }).click();
		await expect(page.locator('#flash')).toHaveText('Rejected.');
		await until(() => w.status(b), 'failed');
		await page.reload();
		await expect(page.locator('#status')).toHaveText('failed');
		await expect(page.locator('#error')).toContainText('rejected');

		// cancel a long call, then retry it
		const c = await w.submit('slow');
		await until(() => w.status(c), 'running');
		await page.goto(`/executions/${c}`);
		await expect(page.getByRole('button', { name: 'Retry' })).toHaveCount(0);
		await page.getByRole('button', { name: 'Cancel' }).click(); // no script: no confirm dialog
		await expect(page.locator('#flash')).toContainText('Cancelled');
		await until(() => w.status(c), 'cancelled');
		await page.reload();
		await expect(page.locator('#status')).toHaveText('cancelled');
		await expect(page.getByRole('button', { name: 'Cancel' })).toHaveCount(0);
		await page.getByRole('button', { name: 'Retry' }).click();
		// a retry is a new execution, with the same input; the page goes to it
		await expect(page.locator('#flash')).toContainText('Retried as this new execution');
		const retried = page.url().split('/').pop();
		expect(retried).not.toBe(c);
		await until(() => w.status(retried), 'running');
		expect(await w.status(c)).toBe('cancelled');
		// deciding an execution that no longer waits: the API's refusal, shown on the page
		await page.goto(`/executions/${a}`);
		const csrf = await page.locator('input[name="csrf"]').first().inputValue();
		const res = await page.request.post(`/executions/${a}/approve`, { form: { csrf, decision: 'approve' }, headers: { Origin: server.url }, maxRedirects: 0 });
		expect(res.status()).toBe(303);
		await page.goto(`/executions/${a}`);
		await expect(page.locator('#flash.flash-error')).toBeVisible();
		await request(server, 'POST', `/api/v1/executions/${retried}/cancel`, w.auth);
	});
});

test('a viewer sees no actions, and a forced post is refused', async ({ page, server }) => {
	const w = await world(server);
	const viewer = await inviteMember(server, w.login.json.access_token, w.login.json.tenant.id, 'viewer');
	const a = await w.submit('gated');
	await until(() => w.status(a), 'waiting_approval');
	await signIn(page, viewer);
	await page.goto(`/executions/${a}`);
	await expect(page.locator('#status')).toHaveText('waiting_approval');
	await expect(page.getByRole('button', { name: /approve|reject|cancel|retry/i })).toHaveCount(0);
	const csrf = await page.locator('input[name="csrf"]').first().inputValue(); // the sign-out form's
	for (const action of ['approve', 'cancel']) {
		const res = await page.request.post(`/executions/${a}/${action}`, { form: { csrf, decision: 'approve' }, headers: { Origin: server.url }, maxRedirects: 0 });
		expect(res.status()).toBe(303);
	}
	await page.goto(`/executions/${a}`);
	await expect(page.locator('#flash')).toContainText('may not');
	expect(await w.status(a)).toBe('waiting_approval');
	await request(server, 'POST', `/api/v1/executions/${a}/cancel`, w.auth);
});

test('a form that takes a while shows its button busy, and cannot be posted twice', async ({ page, server }) => {
	const w = await world(server);
	// a test call of the 20 s agent would be too long: a 1.5 s one
	const quick = await request(server, 'POST', '/api/v1/agents', {
		...w.auth,
		json: { name: 'takes-a-while', kind: 'builtin', capabilities: ['tw'], config: { type: 'constant', value: { ok: 3 }, confidence: 0.7, delay_ms: 1500 } },
	});
	expect(quick.status).toBe(201);
	await signIn(page, w.owner);
	await page.goto(`/agents/${quick.json.id}`);
	await page.locator('#t-task').fill('Wait a little');
	const posts = [];
	page.on('request', (r) => {
		if (r.method() === 'POST' && r.url().includes('/test')) posts.push(r.url());
	});
	// the button goes busy and disabled as the post leaves (read in the page, as it happens)
	await page.evaluate(() => {
		const b = [...document.querySelectorAll('button')].find((x) => x.textContent === 'Call takes-a-while');
		b.form.addEventListener('submit', () => setTimeout(() => {
			sessionStorage.setItem('busy', `${b.classList.contains('busy')} ${b.disabled}`);
		}, 10));
	});
	// a double click posts once
	await page.getByRole('button', { name: 'Call takes-a-while' }).dblclick();
	await expect(page.locator('#test-result')).toContainText('answered', { timeout: 10000 });
	expect(await page.evaluate(() => sessionStorage.getItem('busy'))).toBe('true true');
	expect(posts).toHaveLength(1);
	await expect(page.getByRole('button', { name: 'Call takes-a-while' })).toBeEnabled();
	const health = (await request(server, 'GET', `/api/v1/agents/${quick.json.id}/health`, w.auth)).json;
	expect(health.calls.window).toBe(1); // one call, not two
});
