// The agents pages (issue 6): register agents through the dashboard's form (no API), see
// them listed with health, circuit, latency and success rate, make a test call and read its
// answer; refused forms keep their values and name the field; an http agent that dies goes
// down with an open circuit; secrets never reach a page; hostile text stays text; a viewer
// gets no controls; axe finds nothing serious in light and dark; 375 px never scrolls
// sideways. Servers run with the test agents' loopback allowed, a 2-failure breaker and a
// 300 ms health prober, so every state is reached in bounded time.
import { test, expect } from './fixtures.mjs';
import { noHorizontalScroll, seriousViolations, signIn } from './helpers.mjs';
import { request, setupOwner } from '../api/helpers/server.mjs';
import { startHttpAgent } from '../agents/agents.mjs';
import { inviteMember, login } from '../api/helpers/roles.mjs';

test.use({
	serverArgs: ['--agent-allow', '127.0.0.1/32', '--breaker-failures', '2', '--breaker-open-ms', '600000', '--health-interval-ms', '300'],
});

const HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>';

async function ownerApi(server, owner) {
	const l = await login(server, owner.email, owner.password);
	return (method, p, json) => request(server, method, p, { headers: { Authorization: `Bearer ${l.access_token}` }, json });
}

// Dialogs and script errors on the page, for asserting that there were none (a refused
// form's page comes with its 4xx status, which the console reports: not a problem).
function watch(page) {
	const seen = [];
	page.on('dialog', (d) => {
		seen.push(`dialog: ${d.message()}`);
		d.dismiss();
	});
	page.on('pageerror', (e) => seen.push(`pageerror: ${e.message}`));
	page.on('console', (m) => {
		if (m.type() === 'error' && !/status of 4(00|09)/.test(m.text())) seen.push(`console: ${m.text()}`);
	});
	return seen;
}

// Fills and submits the registration form for a builtin constant agent.
async function registerConstant(page, { name, caps = '', value, confidence }) {
	await page.goto('/agents/new');
	await page.locator('#f-name').fill(name);
	await page.locator('#f-capabilities').fill(caps);
	await page.locator('#f-kind').selectOption('builtin');
	await page.locator('#f-config_type').selectOption('constant');
	await page.locator('#f-config_value').fill(value);
	await page.locator('#f-config_confidence').fill(String(confidence));
	await page.getByRole('button', { name: 'Register agent' }).click();
}

test('register a constant agent through the form, see it healthy, test-call it', async ({ page, server }, testInfo) => {
	const problems = watch(page);
	const owner = await setupOwner(server);
	await signIn(page, owner);

	await page.getByRole('link', { name: 'Agents' }).click();
	await expect(page).toHaveURL(/\/agents$/);
	await expect(page.getByRole('heading', { name: 'No agents yet' })).toBeVisible();
	await expect(page.locator('.agents-empty')).toContainText('capabilities');
	await expect(page.locator('#agent-form')).toBeVisible(); // the empty state offers the form

	await page.goto('/agents/new');
	await expect(page.getByRole('heading', { level: 1, name: 'Register an agent' })).toBeVisible();
	// with the script: the kind's fields switch at once and the no-script Continue is hidden
	await expect(page.locator('button[name="step"]').first()).toBeHidden();
	await page.locator('#f-kind').selectOption('http');
	await expect(page.locator('#f-config_url')).toBeVisible();
	await expect(page.locator('#f-config_value')).toBeHidden();
	await page.locator('#f-kind').selectOption('builtin');
	await page.locator('#f-config_type').selectOption('jq');
	await expect(page.locator('#f-config_program')).toBeVisible();
	await expect(page.locator('#f-config_value')).toBeHidden();
	await page.screenshot({ path: testInfo.outputPath('agent-new.png'), fullPage: true });

	await registerConstant(page, { name: 'constant-1', caps: 'answer, review', value: '{"verdict": "approve"}', confidence: 0.85 });
	await expect(page).toHaveURL(/\/agents\/[0-9a-f-]{36}$/);
	await expect(page.locator('#flash')).toHaveText('Agent constant-1 registered.');
	await expect(page.locator('h1')).toContainText('constant-1');
	await expect(page.locator('#health')).toHaveText('healthy');
	await expect(page.locator('#circuit')).toHaveText('closed');
	await expect(page.locator('#config')).toContainText('"verdict":"approve"');

	// the test call: its answer, confidence and latency on the page it returns
	await page.locator('#t-task').fill('Review pull request 7');
	await page.locator('#t-data').fill('{"pr": 7}');
	await page.getByRole('button', { name: 'Call constant-1' }).click();
	await expect(page.locator('#test-result')).toContainText('answered');
	await expect(page.locator('#test-confidence')).toHaveText('0.85');
	await expect(page.locator('#test-value')).toContainText('"verdict": "approve"');
	await expect(page.locator('#test-latency')).toHaveText(/^\d+ ms$/);
	await expect(page.locator('#t-data')).toHaveValue('{"pr": 7}');
	// the call counts in the figures, and shows as a test call
	await expect(page.locator('#success')).toHaveText('100.0 %');
	await expect(page.locator('#p50')).toHaveText(/\d+ ms/);
	await expect(page.locator('#recent tbody tr')).toHaveCount(1);
	await expect(page.locator('#recent tbody tr').first()).toContainText('test call');
	await page.screenshot({ path: testInfo.outputPath('agent-detail.png'), fullPage: true });

	// a run through a pattern shows up with its execution
	const api = await ownerApi(server, owner);
	const definition = { name: 'ask', input: { type: 'object' }, nodes: [{ id: 'in', type: 'input' }, { id: 'ask', type: 'agent', from: 'in', select: { capabilities: ['review'] }, task: 'Review', data: '.input' }, { id: 'out', type: 'output', from: 'ask' }] };
	expect((await api('POST', '/api/v1/patterns', { name: 'ask', definition })).status).toBe(201);
	const run = await api('POST', '/api/v1/executions?wait=10', { pattern: 'ask', input: {} });
	expect(run.json.status).toBe('succeeded');
	const detail = await page.locator('form[action$="/delete"]').getAttribute('action');
	await page.goto(detail.replace(/\/delete$/, '')); // not a reload: that would post the test again
	await expect(page.locator('#recent tbody tr')).toHaveCount(2);
	await expect(page.locator(`#recent a[href="/executions/${run.json.id}"]`)).toBeVisible();

	await page.getByRole('link', { name: '← Agents' }).click();
	const row = page.locator('#agents tbody tr', { hasText: 'constant-1' });
	await expect(row).toHaveCount(1);
	await expect(row.locator('.badge.h-healthy')).toHaveText('healthy');
	await expect(row.locator('.badge.c-closed')).toHaveText('closed');
	await expect(row).toContainText('Built-in');
	await expect(row).toContainText('review');
	await expect(row.locator('td.num').first()).toHaveText(/\d+ ms \/ \d+ ms/);
	await expect(row.locator('td.num').nth(1)).toHaveText('100.0 % of 2');
	await expect(page.locator('#tally')).toContainText('1 healthy');
	await page.screenshot({ path: testInfo.outputPath('agents.png'), fullPage: true });

	// the list refreshes in place (htmx, every 10 s): a call made elsewhere shows, no reload
	await page.evaluate(() => { window.__notReloaded = true; });
	const id = await row.getAttribute('data-id');
	expect((await api('POST', `/api/v1/agents/${id}/test`, { task: 'again' })).status).toBe(200);
	await expect(row.locator('td.num').nth(1)).toHaveText('100.0 % of 3', { timeout: 15000 });
	expect(await page.evaluate(() => window.__notReloaded)).toBe(true);

	await page.setViewportSize({ width: 375, height: 800 });
	for (const p of ['/agents', await row.locator('a').getAttribute('href'), '/agents/new']) {
		await page.goto(p);
		await noHorizontalScroll(page, p);
	}
	await page.screenshot({ path: testInfo.outputPath('agent-new-375.png'), fullPage: true });
	expect(problems).toEqual([]);
});

test('a refused form keeps its values and names the field; hostile text stays text', async ({ page, server }) => {
	const problems = watch(page);
	const owner = await setupOwner(server);
	const api = await ownerApi(server, owner);
	expect((await api('POST', '/api/v1/agents', { name: 'dup', kind: 'builtin', config: { type: 'echo' } })).status).toBe(201);
	await signIn(page, owner);

	// a taken name: the API's refusal, next to the name, every value kept
	await registerConstant(page, { name: 'dup', caps: 'x, y', value: '{"a": 1}', confidence: 0.5 });
	await expect(page.locator('#error-summary')).toContainText('Name: an agent with this name exists');
	await expect(page.locator('#error-summary')).toBeFocused(); // a keyboard user starts there
	await expect(page.locator('#f-name-error')).toContainText('exists');
	await expect(page.locator('#f-name')).toHaveAttribute('aria-invalid', 'true');
	await expect(page.locator('#f-name')).toHaveValue('dup');
	await expect(page.locator('#f-capabilities')).toHaveValue('x, y');
	await expect(page.locator('#f-config_value')).toHaveValue('{"a": 1}');
	await expect(page.locator('#f-config_confidence')).toHaveValue('0.5');
	// the summary's link takes the focus to the field
	await page.locator('#error-summary a').click();
	await expect(page.locator('#f-name')).toBeFocused();

	// JSON that does not parse: refused before the API, at the value
	await page.locator('#f-name').fill('dup-2');
	await page.locator('#f-config_value').fill('{bad json');
	await page.getByRole('button', { name: 'Register agent' }).click();
	await expect(page.locator('#f-config_value-error')).toContainText('Not valid JSON');
	await expect(page.locator('#f-config_value')).toHaveValue('{bad json');
	await expect(page.locator('#f-name')).toHaveValue('dup-2');

	// a hostile name is refused, and comes back as the input's value, not as markup
	await page.locator('#f-name').fill(HOSTILE);
	await page.locator('#f-config_value').fill('"<b>x</b>"');
	await page.getByRole('button', { name: 'Register agent' }).click();
	await expect(page.locator('#f-name-error')).toContainText("'name' takes");
	await expect(page.locator('#f-name')).toHaveValue(HOSTILE);
	await expect(page.locator('img[src="x"]')).toHaveCount(0);
	const list = await api('GET', '/api/v1/agents');
	expect(list.json.items.map((a) => a.name)).toEqual(['dup']);

	// text an agent keeps (an LLM's model, a constant's value) renders as text everywhere
	const llm = await api('POST', '/api/v1/agents', { name: 'llm', kind: 'openai', config: { base_url: 'http://127.0.0.1:9/v1', model: HOSTILE } });
	expect(llm.status).toBe(201);
	const evil = await api('POST', '/api/v1/agents', { name: 'evil', kind: 'builtin', config: { type: 'constant', value: HOSTILE, confidence: 0.5 } });
	await page.goto('/agents');
	await expect(page.locator('#agents tbody tr', { hasText: 'llm' })).toContainText(HOSTILE);
	await page.goto(`/agents/${llm.json.id}`);
	await expect(page.locator('#config')).toContainText(HOSTILE);
	await page.goto(`/agents/${evil.json.id}`);
	await page.getByRole('button', { name: 'Call evil' }).click();
	await expect(page.locator('#test-value')).toContainText('<script>alert(1)</script>');
	await expect(page.locator('img[src="x"]')).toHaveCount(0);
	expect(problems).toEqual([]);
});

test.describe('without JavaScript', () => {
	test.use({ javaScriptEnabled: false });

	test('Continue re-renders the form for another kind, which then registers', async ({ page, server }) => {
		const owner = await setupOwner(server);
		await signIn(page, owner);
		await page.goto('/agents/new');
		await expect(page.locator('#f-config_url')).toBeHidden();
		await page.locator('#f-name').fill('remote');
		await page.locator('#f-capabilities').fill('remote');
		await page.locator('#f-kind').selectOption('http');
		await page.locator('button[name="step"][value="kind"]').click();
		await expect(page.locator('#f-kind')).toHaveValue('http');
		await expect(page.locator('#f-config_url')).toBeVisible();
		await expect(page.locator('#f-config_value')).toBeHidden();
		await expect(page.locator('#f-name')).toHaveValue('remote');
		await page.locator('#f-config_url').fill('http://127.0.0.1:9/analyze');
		await page.getByRole('button', { name: 'Register agent' }).click();
		await expect(page).toHaveURL(/\/agents\/[0-9a-f-]{36}$/);
		await expect(page.locator('#config')).toContainText('http://127.0.0.1:9/analyze');
	});
});

test('an http agent that dies goes down, with an open circuit after failed calls', async ({ page, server }, testInfo) => {
	const agent = await startHttpAgent();
	try {
		const owner = await setupOwner(server);
		await signIn(page, owner);
		await page.goto('/agents/new');
		await page.locator('#f-name').fill('remote');
		await page.locator('#f-kind').selectOption('http');
		await page.locator('#f-config_url').fill(`http://127.0.0.1:${agent.port}/ok/0.9`);
		await page.getByRole('button', { name: 'Register agent' }).click();
		await expect(page).toHaveURL(/\/agents\/[0-9a-f-]{36}$/);
		const detail = page.url();

		// the prober checks it: healthy, with the check on the page
		await expect(async () => {
			await page.goto(detail);
			await expect(page.locator('#health')).toHaveText('healthy', { timeout: 500 });
		}).toPass({ timeout: 10000 });
		await expect(page.locator('.probe-strip li.ok').first()).toBeAttached();
		await page.locator('#t-task').fill('ping');
		await page.getByRole('button', { name: 'Call remote' }).click();
		await expect(page.locator('#test-confidence')).toHaveText('0.90');

		await agent.stop();
		// two failed calls open the breaker (--breaker-failures 2); the third fails fast
		for (let i = 0; i < 3; i++) {
			await page.getByRole('button', { name: 'Call remote' }).click();
			await expect(page.locator('#test-result')).toContainText('failed');
		}
		await expect(page.locator('#test-error')).toContainText('circuit open');
		await page.goto(detail);
		await expect(page.locator('#health')).toHaveText('down');
		await expect(page.locator('#circuit')).toHaveText('open');
		await expect(page.locator('#health-why')).toContainText('circuit is open');
		await expect(page.locator('#success')).toHaveText('25.0 %');
		await expect(page.locator('#recent tbody tr').first()).toContainText('circuit open');
		await page.locator('button', { hasText: 'Check now' }).click();
		await expect(page).toHaveURL(/probe=1/);
		await expect(page.locator('.probe-strip li.bad').last()).toBeAttached();
		await page.screenshot({ path: testInfo.outputPath('agent-down.png'), fullPage: true });
		// long URLs and errors wrap: nothing scrolls sideways at 375 px
		await page.setViewportSize({ width: 375, height: 800 });
		await noHorizontalScroll(page, 'a down http agent');
		await page.screenshot({ path: testInfo.outputPath('agent-down-375.png'), fullPage: true });
		await page.setViewportSize({ width: 1280, height: 720 });

		await page.goto('/agents');
		const row = page.locator('#agents tbody tr', { hasText: 'remote' });
		await expect(row.locator('.badge.h-down')).toHaveText('down');
		await expect(row.locator('.badge.c-open')).toHaveText('open');
		await expect(row.locator('td.num').nth(1)).toHaveText('25.0 % of 4');
	} finally {
		await agent.stop();
	}
});

test('secrets never reach a page: not after registering, editing or a refused form', async ({ page, server }) => {
	const KEY = 'sk-test-SECRET-4242';
	const TOKEN = 'tok-SECRET-777';
	const HEADER = 'hdr-SECRET-999';
	const owner = await setupOwner(server);
	const api = await ownerApi(server, owner);
	await signIn(page, owner);
	const pages = [];
	const check = async (what) => {
		const html = await page.content();
		pages.push(what);
		for (const s of [KEY, TOKEN, HEADER]) expect(html, `${what} shows a secret`).not.toContain(s);
	};

	// an LLM agent: a refused form first (temperature is no number), then registered
	await page.goto('/agents/new');
	await page.locator('#f-name').fill('llm');
	await page.locator('#f-kind').selectOption('openai');
	await page.locator('#f-config_base_url').fill('http://127.0.0.1:9/v1');
	await page.locator('#f-config_model').fill('llama3');
	await page.locator('#f-config_api_key').fill(KEY);
	await page.locator('#f-config_temperature').evaluate((el) => { el.type = 'text'; });
	await page.locator('#f-config_temperature').fill('warm');
	await page.getByRole('button', { name: 'Register agent' }).click();
	await expect(page.locator('#f-config_temperature-error')).toContainText('Enter a number');
	await expect(page.locator('#f-config_api_key')).toHaveValue('');
	await expect(page.locator('#f-config_model')).toHaveValue('llama3');
	await check('refused LLM form');
	await page.locator('#f-config_api_key').fill(KEY);
	await page.locator('#f-config_temperature').fill('0.2');
	await page.getByRole('button', { name: 'Register agent' }).click();
	await expect(page).toHaveURL(/\/agents\/[0-9a-f-]{36}$/);
	await expect(page.locator('#config')).toContainText('set (write-only');
	await check('LLM agent page');
	const id = page.url().split('/').pop();

	// editing with the key left blank keeps it; the edit form never shows it
	await page.getByRole('link', { name: 'Edit' }).click();
	await expect(page.locator('#f-config_api_key')).toHaveAttribute('placeholder', /leave blank to keep/);
	await check('LLM edit form');
	await page.locator('#f-config_model').fill('llama3.1');
	await page.getByRole('button', { name: 'Save changes' }).click();
	await expect(page.locator('#flash')).toHaveText('Saved.');
	await expect(page.locator('#config')).toContainText('llama3.1');
	const got = await api('GET', `/api/v1/agents/${id}`);
	expect(got.json.config.api_key).toEqual({ set: true });
	expect(got.json.config.model).toBe('llama3.1');

	// an http agent with a token and a credential header beside a plain one
	await page.goto('/agents/new');
	await page.locator('#f-name').fill('svc');
	await page.locator('#f-kind').selectOption('http');
	await page.locator('#f-config_url').fill('ftp://127.0.0.1/x');
	await page.locator('#f-config_token').fill(TOKEN);
	await page.locator('#f-config_headers').fill(`X-Team: search\nAuthorization: Bearer ${HEADER}`);
	await page.getByRole('button', { name: 'Register agent' }).click();
	// the API refuses the URL; the plain header comes back, the credential one does not
	await expect(page.locator('#f-config_url-error')).toContainText('http://');
	await expect(page.locator('#f-config_url')).toHaveValue('ftp://127.0.0.1/x');
	await expect(page.locator('#f-config_headers')).toHaveValue('X-Team: search');
	await expect(page.locator('#f-config_headers-note')).toContainText('Authorization');
	await check('refused http form');
	await page.locator('#f-config_token').fill(TOKEN);
	await page.locator('#f-config_headers').fill(`X-Team: search\nAuthorization: Bearer ${HEADER}`);
	await page.locator('#f-config_url').fill('http://127.0.0.1:9/x');
	await page.getByRole('button', { name: 'Register agent' }).click();
	await expect(page).toHaveURL(/\/agents\/[0-9a-f-]{36}$/);
	await expect(page.locator('#config')).toContainText('X-Team: search');
	await check('http agent page');
	await page.getByRole('link', { name: 'Edit' }).click();
	await expect(page.locator('#f-config_headers')).toHaveValue('X-Team: search');
	await check('http edit form');
	await page.goto('/agents');
	await check('agents list');
	expect(pages).toHaveLength(7);
});

test('a viewer sees agents but no create, edit, test or delete control', async ({ page, server }) => {
	const owner = await setupOwner(server);
	const api = await ownerApi(server, owner);
	const a = await api('POST', '/api/v1/agents', { name: 'c', kind: 'builtin', capabilities: ['c'], config: { type: 'constant', value: 1, confidence: 0.5 } });
	const ownerLogin = await login(server, owner.email, owner.password);
	const viewer = await inviteMember(server, ownerLogin.access_token, owner.tenant.id, 'viewer');
	await signIn(page, viewer);
	await page.goto('/agents');
	await expect(page.locator('#agents tbody tr')).toHaveCount(1);
	await expect(page.getByRole('link', { name: 'Register an agent' })).toHaveCount(0);
	await page.goto(`/agents/${a.json.id}`);
	await expect(page.locator('h1')).toContainText('c');
	await expect(page.locator('#test')).toHaveCount(0);
	await expect(page.getByRole('link', { name: 'Edit' })).toHaveCount(0);
	await expect(page.getByRole('button', { name: 'Delete' })).toHaveCount(0);
	await expect(page.getByRole('link', { name: 'Test call' })).toHaveCount(0);
	await page.goto('/agents/new');
	await expect(page.locator('#agent-form')).toHaveCount(0);
	await expect(page.locator('main')).toContainText('not register them');
	await page.goto(`/agents/${a.json.id}/edit`);
	await expect(page.locator('#agent-form')).toHaveCount(0);

	// a forced post from the viewer's own session, with its CSRF token: refused, nothing made
	const csrf = await page.locator('input[name="csrf"]').first().inputValue();
	const forced = await page.request.post('/agents', {
		form: { csrf, name: 'forced', kind: 'builtin', config_type: 'constant', config_value: '1', config_confidence: '0.5' },
		maxRedirects: 0,
	});
	expect(forced.status()).toBe(303);
	expect(forced.headers().location).toBe('/agents');
	const del = await page.request.post(`/agents/${a.json.id}/delete`, { form: { csrf }, maxRedirects: 0 });
	expect(del.status()).toBe(303);
	await page.goto('/agents');
	await expect(page.locator('#flash')).toContainText('may not');
	const list = await api('GET', '/api/v1/agents');
	expect(list.json.items.map((x) => x.name)).toEqual(['c']);
});

for (const scheme of ['light', 'dark']) {
	test(`axe: the agents pages have no serious or critical violations (${scheme})`, async ({ page, server }, testInfo) => {
		await page.emulateMedia({ colorScheme: scheme });
		const owner = await setupOwner(server);
		await signIn(page, owner);
		await page.goto('/agents');
		expect(await seriousViolations(page), 'empty agents page').toEqual([]);
		await registerConstant(page, { name: 'c', caps: 'c', value: '1', confidence: 0.7 });
		await page.locator('#t-task').fill('t');
		await page.getByRole('button', { name: 'Call c' }).click();
		await expect(page.locator('#test-result')).toBeVisible();
		expect(await seriousViolations(page), 'agent page with a test result').toEqual([]);
		await page.screenshot({ path: testInfo.outputPath(`agent-${scheme}.png`), fullPage: true });
		await page.goto('/agents');
		expect(await seriousViolations(page), 'agents page').toEqual([]);
		await registerConstant(page, { name: 'c', caps: 'c', value: '{oops', confidence: 0.7 });
		await expect(page.locator('#error-summary')).toBeVisible();
		expect(await seriousViolations(page), 'refused form').toEqual([]);
		await page.screenshot({ path: testInfo.outputPath(`agent-refused-${scheme}.png`), fullPage: true });
		await page.locator('#f-kind').selectOption('openai');
		expect(await seriousViolations(page), 'LLM form').toEqual([]);
	});
}
