// Members, invitations and organization settings (issue 6): inviting someone from the members
// page and their acceptance in a second browser; an API key that is shown once and never
// again; what a viewer sees and what a forced POST of theirs achieves (nothing); quota bars
// that follow real usage; hostile names rendered as text; screenshots, axe and a 375 px
// layout for each page.
import { randomBytes } from 'node:crypto';
import { test, expect } from './fixtures.mjs';
import { noHorizontalScroll, seriousViolations, signIn, watchDialogs } from './helpers.mjs';
import { post, request, setupOwner, strongPassword } from '../api/helpers/server.mjs';

const SCRIPT_NAME = '<script>alert(1)</script>';
const IMG_NAME = '"><img src=x onerror=alert(2)>';

async function apiToken(server, who) {
	const res = await post(server, '/api/v1/auth/login', { json: { email: who.email, password: who.password } });
	expect(res.status).toBe(200);
	return res.json.access_token;
}

const bearer = (token) => ({ headers: { Authorization: `Bearer ${token}` } });

// A member of role `role` through the API (invitation + acceptance), named `name`.
async function addMember(server, owner, role, name) {
	const token = await apiToken(server, owner);
	const email = `${role}-${randomBytes(4).toString('hex')}@example.com`;
	const password = strongPassword();
	const inv = await request(server, 'POST', `/api/v1/tenants/${owner.tenant.id}/invitations`, {
		...bearer(token),
		json: { email, role },
	});
	expect(inv.status).toBe(201);
	const acc = await post(server, '/api/v1/invitations/accept', {
		json: { token: new URL(inv.json.link).searchParams.get('token'), name, password },
	});
	expect(acc.status).toBe(201);
	return { email, password, name, id: acc.json.user.id };
}

// A constant agent and a one-node pattern `name` over it; returns the owner's API auth.
async function agentAndPattern(server, owner, name, config) {
	const auth = bearer(await apiToken(server, owner));
	const agent = await request(server, 'POST', '/api/v1/agents', {
		...auth,
		json: { name: `${name}-agent`, kind: 'builtin', capabilities: [name], config: { type: 'constant', confidence: 0.9, ...config } },
	});
	expect(agent.status).toBe(201);
	const definition = {
		name,
		input: { type: 'object' },
		nodes: [
			{ id: 'in', type: 'input' },
			{ id: 'ask', type: 'agent', from: 'in', select: { capabilities: [name] }, task: 'Answer', data: '.input' },
			{ id: 'out', type: 'output', from: 'ask' },
		],
	};
	expect((await request(server, 'POST', '/api/v1/patterns', { ...auth, json: { name, definition } })).status).toBe(201);
	return auth;
}

test('invite from the members page; the invitee accepts in another browser and is listed', async ({ page, browser, server }, testInfo) => {
	const alerts = watchDialogs(page);
	const owner = await setupOwner(server, { name: 'Olga Owner' });
	await signIn(page, owner);
	await page.getByRole('link', { name: 'Members' }).click();
	await expect(page).toHaveURL(/\/members$/);
	await expect(page.locator('#member-list tbody tr')).toHaveCount(1);
	await expect(page.locator('#no-invitations')).toBeVisible();

	const email = `dev-${randomBytes(3).toString('hex')}@example.com`;
	await page.getByLabel('Email').fill(email);
	await page.getByLabel('Role', { exact: true }).selectOption('developer');
	await page.getByRole('button', { name: 'Create invitation link' }).click();
	await expect(page).toHaveURL(/\/members\/invited$/);
	await expect(page.locator('#reveal-email')).toHaveText(email);
	await expect(page.locator('#reveal-role')).toHaveText('developer');
	await expect(page.getByText('Copy it now: it will not be shown again.')).toBeVisible();
	const link = await page.locator('#secret').inputValue();
	expect(link).toMatch(/\/invite\?token=[A-Za-z0-9_-]{43}$/);
	const token = new URL(link).searchParams.get('token');
	await page.screenshot({ path: testInfo.outputPath('invitation-shown-once.png'), fullPage: true });

	// Shown once: a reload, and the members page, hold no trace of the token.
	await page.reload();
	await expect(page.locator('#nothing')).toBeVisible();
	expect(await page.content()).not.toContain(token);
	await page.goto('/members');
	expect(await page.content()).not.toContain(token);
	const pending = page.locator('#invitation-list tbody tr');
	await expect(pending).toHaveCount(1);
	await expect(pending.locator('.invite-email')).toHaveText(email);
	await expect(pending).toContainText('by Olga Owner');

	// The invitee, in a browser context of their own, names themself with markup.
	const ctx = await browser.newContext({ baseURL: server.url });
	const invitee = await ctx.newPage();
	const inviteeAlerts = watchDialogs(invitee);
	const password = strongPassword();
	await invitee.goto(link);
	await expect(invitee.locator('#invite-role')).toHaveText('developer');
	await invitee.locator('input[name="name"]').fill(SCRIPT_NAME);
	await invitee.locator('input[name="password"]').fill(password);
	await invitee.getByRole('button', { name: /join/i }).click();
	if (/\/login/.test(invitee.url())) await signIn(invitee, { email, password });
	await expect(invitee.locator('#role')).toHaveText('developer');
	await expect(invitee.getByRole('link', { name: SCRIPT_NAME })).toBeVisible();
	await ctx.close();
	expect(inviteeAlerts).toEqual([]);

	// The inviter's page lists them (their name as text), and the invitation is no longer pending.
	await page.reload();
	const row = page.locator('#member-list tbody tr', { hasText: email });
	await expect(row.locator('.member-name')).toHaveText(SCRIPT_NAME);
	await expect(row.locator('select')).toHaveValue('developer');
	await expect(row.locator('td[data-label="Last sign-in"]')).toHaveText('just now');
	await expect(page.locator('#invitation-list')).toHaveCount(0);
	await expect(page.locator('#workspace-members tbody tr', { hasText: email })).toHaveCount(1);
	await page.screenshot({ path: testInfo.outputPath('members.png'), fullPage: true });
	expect(alerts).toEqual([]);
});

test('members page: change a role, refuse the last owner, revoke an invitation, remove a member', async ({ page, server }) => {
	const alerts = watchDialogs(page);
	const owner = await setupOwner(server, { name: 'Olga Owner' });
	const dev = await addMember(server, owner, 'developer', 'Dana Dev');
	const token = await apiToken(server, owner);
	const inv = await request(server, 'POST', `/api/v1/tenants/${owner.tenant.id}/invitations`, {
		...bearer(token),
		json: { email: 'later@example.com', role: 'viewer' },
	});
	expect(inv.status).toBe(201);
	await signIn(page, owner);
	await page.goto('/members');

	// A role change goes through the API and says what it did.
	const devRow = page.locator(`#member-list tr[data-user="${dev.id}"]`);
	await expect(devRow.locator('td[data-label="Last sign-in"]')).toHaveText('never');
	await devRow.getByLabel('Role of Dana Dev').selectOption('operator');
	await devRow.getByRole('button', { name: /save/i }).click();
	await expect(page.locator('#flash')).toHaveText('Dana Dev is now operator.');
	await expect(devRow.locator('select')).toHaveValue('operator');

	// The API's owner protection, shown as it says it.
	const ownerRow = page.locator(`#member-list tr[data-user="${owner.user.id}"]`);
	await expect(ownerRow.locator('.badge', { hasText: 'you' })).toBeVisible();
	await ownerRow.locator('select').selectOption('viewer');
	await ownerRow.getByRole('button', { name: /save/i }).click();
	await expect(page.locator('#flash.flash-error')).toContainText('last owner cannot be demoted');
	await expect(page.locator('#role')).toHaveText('owner');

	// Revoking the invitation kills its link.
	await page.locator('#invitation-list tr', { hasText: 'later@example.com' }).getByRole('button', { name: /revoke/i }).click();
	await expect(page.locator('#flash')).toContainText('Invitation revoked');
	await expect(page.locator('#invitation-list')).toHaveCount(0);
	const dead = await request(server, 'GET', new URL(inv.json.link).pathname + new URL(inv.json.link).search);
	expect(dead.status).toBe(404);

	// Removing a member (confirmed) ends their membership.
	await devRow.getByRole('button', { name: /remove/i }).click();
	await expect(page.locator('#flash')).toContainText('Member removed');
	await expect(page.locator(`#member-list tr[data-user="${dev.id}"]`)).toHaveCount(0);
	const members = await request(server, 'GET', `/api/v1/tenants/${owner.tenant.id}/members`, bearer(token));
	expect(members.json.items.map((m) => m.user_id)).toEqual([owner.user.id]);
	expect(alerts).toEqual([]);
});

test('an API key is shown once: on its creation page only, and it works', async ({ page, server }, testInfo) => {
	const alerts = watchDialogs(page);
	const owner = await setupOwner(server);
	await signIn(page, owner);
	await page.goto('/settings');
	await expect(page.locator('#no-keys')).toBeVisible();
	await page.locator('#key-name').fill(IMG_NAME);
	await page.locator('#key-role').selectOption('operator');
	await page.locator('#key-expiry').selectOption('90');
	await page.getByRole('button', { name: 'Create key' }).click();
	await expect(page).toHaveURL(/\/settings\/api-keys\/created$/);
	await expect(page.locator('#reveal-name')).toHaveText(IMG_NAME);
	await expect(page.locator('#reveal-role')).toHaveText('operator');
	await expect(page.getByText('Copy it now: it will not be shown again.')).toBeVisible();
	const key = await page.locator('#secret').inputValue();
	expect(key).toMatch(/^plx_[A-Za-z0-9_-]{43}$/);
	await page.screenshot({ path: testInfo.outputPath('api-key-shown-once.png'), fullPage: true });

	// It works against the API, with the role it was given.
	const me = await request(server, 'GET', '/api/v1/auth/me', bearer(key));
	expect(me.status).toBe(200);
	const denied = await request(server, 'POST', '/api/v1/agents', { ...bearer(key), json: { name: 'x', kind: 'builtin', capabilities: ['x'], config: { type: 'constant', value: 1 } } });
	expect(denied.status).toBe(403);

	// Never again: not on a reload, not in the settings list.
	await page.reload();
	await expect(page.locator('#nothing')).toBeVisible();
	expect(await page.content()).not.toContain(key);
	await page.goto('/settings');
	const html = await page.content();
	expect(html).not.toContain(key);
	expect(html).not.toContain(key.slice(12));
	const row = page.locator('#key-list tbody tr');
	await expect(row).toHaveCount(1);
	await expect(row.locator('.key-label')).toHaveText(IMG_NAME);
	await expect(row).toContainText(`${key.slice(0, 12)}`);
	await expect(row).toContainText('operator');
	await expect(row.locator('.key-status')).toHaveText('active');
	await expect(row).toContainText(/in (3 months|90 days|89 days)/);
	await expect(row).not.toContainText('never'); // it was used above
	await page.screenshot({ path: testInfo.outputPath('settings.png'), fullPage: true });

	// Revoked (after the confirmation), it stops working at once.
	await row.getByRole('button', { name: /revoke/i }).click();
	await expect(page.locator('#flash')).toContainText('API key revoked');
	await expect(page.locator('#key-list .key-status')).toHaveText('revoked');
	await expect(page.locator('#key-list button')).toHaveCount(0);
	expect((await request(server, 'GET', '/api/v1/auth/me', bearer(key))).status).toBe(401);
	expect(alerts).toEqual([]);
});

test('a viewer sees no controls, and their forced posts change nothing', async ({ page, server }) => {
	const alerts = watchDialogs(page);
	const owner = await setupOwner(server);
	const auth = await agentAndPattern(server, owner, 'breaks', { value: 0, fail: true });
	const run = await request(server, 'POST', '/api/v1/executions?wait=10', { ...auth, json: { pattern: 'breaks', input: {} } });
	expect(run.json.status).toBe('failed');
	const viewer = await addMember(server, owner, 'viewer', IMG_NAME);
	await addMember(server, owner, 'developer', SCRIPT_NAME);
	await signIn(page, viewer);
	await expect(page.locator('#role')).toHaveText('viewer');

	// Members: the list (names as text), no invite, role or remove controls, no invitations.
	await page.getByRole('link', { name: 'Members' }).click();
	await expect(page.locator('#member-list tbody tr')).toHaveCount(3);
	await expect(page.locator('#member-list .member-name', { hasText: SCRIPT_NAME })).toHaveText(SCRIPT_NAME);
	await expect(page.locator('#member-list .member-name', { hasText: 'img' })).toHaveText(IMG_NAME);
	await expect(page.locator('main form')).toHaveCount(0);
	await expect(page.locator('main select, main button')).toHaveCount(0);
	await expect(page.locator('#invite, #invitations')).toHaveCount(0);
	await expect(page.getByRole('link', { name: 'Invite someone' })).toHaveCount(0);

	// Settings: quotas read-only; no API keys, SSO or rename.
	await page.getByRole('link', { name: 'Settings' }).click();
	await expect(page.locator('#quotas meter')).toHaveCount(8);
	await expect(page.locator('main form, main input')).toHaveCount(0);
	await expect(page.locator('#api-keys, #key-form, #sso')).toHaveCount(0);
	await expect(page.getByRole('link', { name: 'Audit log' })).toHaveCount(0);

	// A failed execution offers its retry to the owner's role, not to a viewer.
	await page.goto(`/executions/${run.json.id}`);
	await expect(page.locator('#status')).toHaveText('failed');
	await expect(page.locator('form[action$="/retry"], form[action$="/cancel"]')).toHaveCount(0);

	// Forced posts with the viewer's own valid CSRF token: refused with a notice, nothing made.
	const csrf = await page.locator('form[action="/logout"] input[name="csrf"]').inputValue();
	const forced = await page.evaluate(async ({ csrf, me }) => {
		const send = async (path, fields) => {
			const res = await fetch(path, { method: 'POST', body: new URLSearchParams({ csrf, ...fields }) });
			const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
			return { status: res.status, url: new URL(res.url).pathname, flash: doc.querySelector('#flash.flash-error')?.textContent ?? null };
		};
		return [
			await send('/members/invite', { email: 'intruder@example.com', role: 'viewer' }),
			await send('/settings/api-keys', { name: 'forced', role: 'viewer' }),
			await send(`/members/${me}/role`, { role: 'owner' }),
			await send('/settings/quotas', { members: '1' }),
			await send('/settings/tenant', { name: 'Taken over' }),
		];
	}, { csrf, me: viewer.id });
	for (const r of forced) {
		expect(r.status).toBe(200);
		expect(r.url).not.toMatch(/invited|created/);
		expect(r.flash).toMatch(/your role may not|cannot/);
	}
	const ownerAuth = bearer(await apiToken(server, owner));
	const T = owner.tenant.id;
	expect((await request(server, 'GET', `/api/v1/tenants/${T}/invitations`, ownerAuth)).json.items).toEqual([]);
	expect((await request(server, 'GET', `/api/v1/tenants/${T}/api-keys`, ownerAuth)).json.items).toEqual([]);
	const members = (await request(server, 'GET', `/api/v1/tenants/${T}/members`, ownerAuth)).json.items;
	expect(members.find((m) => m.user_id === viewer.id).role).toBe('viewer');
	const tenant = await request(server, 'GET', `/api/v1/tenants/${T}`, ownerAuth);
	expect(tenant.json.name).toBe('Acme Test');
	const quotas = await request(server, 'GET', `/api/v1/tenants/${T}/quotas`, ownerAuth);
	expect(quotas.json.quotas.members).toBeGreaterThan(1);
	expect(alerts).toEqual([]);
});

test('quota bars follow real usage; an admin sets a quota within the plan', async ({ page, server }) => {
	const owner = await setupOwner(server);
	const auth = await agentAndPattern(server, owner, 'count', { value: { ok: 1 } });
	await signIn(page, owner);
	await page.goto('/settings#quotas');
	const day = page.locator('#quota-executions_per_day');
	await expect(day.locator('.quota-use')).toHaveText(/^0 of [\d,]+$/);
	await expect(page.locator('#quota-agents .quota-use')).toHaveText(/^1 of [\d,]+$/);
	await expect(page.locator('#quota-members .quota-use')).toHaveText(/^1 of [\d,]+$/);

	const run = await request(server, 'POST', '/api/v1/executions?wait=10', { ...auth, json: { pattern: 'count', input: {} } });
	expect(run.json.status).toBe('succeeded');
	await page.reload();
	await expect(day.locator('.quota-use')).toHaveText(/^1 of [\d,]+$/);
	await expect(day.locator('meter')).toHaveAttribute('value', '1');

	// The admin's form: a quota within the plan is saved and shown; one above it is refused.
	await page.getByLabel('Quota for Executions per day').fill('4');
	await page.getByRole('button', { name: 'Save quotas' }).click();
	await expect(page.locator('#flash')).toHaveText('Quotas saved.');
	await expect(day.locator('.quota-use')).toHaveText('1 of 4');
	await expect(day.locator('meter')).toHaveAttribute('max', '4');
	const plan = Number(await page.getByLabel('Quota for Members').getAttribute('max'));
	await page.getByLabel('Quota for Members').evaluate((el, v) => { el.max = ''; el.value = v; }, String(plan + 1));
	await page.getByRole('button', { name: 'Save quotas' }).click();
	await expect(page.locator('#flash.flash-error')).toContainText('members');
	const q = await request(server, 'GET', `/api/v1/tenants/${owner.tenant.id}/quotas`, auth);
	expect(q.json.quotas.executions_per_day).toBe(4);
	expect(q.json.quotas.members).toBeLessThanOrEqual(plan);

	// Renaming the organization shows in the shell at once.
	await page.locator('#org-rename').fill('Acme Renamed');
	await page.getByRole('button', { name: 'Rename' }).click();
	await expect(page.locator('#flash')).toHaveText('Organization renamed.');
	await expect(page.locator('.topbar .tenant')).toHaveText('Acme Renamed');
});

for (const scheme of ['light', 'dark']) {
	test(`axe and 375 px: members, settings and the shown-once pages (${scheme})`, async ({ page, server }, testInfo) => {
		await page.emulateMedia({ colorScheme: scheme });
		const owner = await setupOwner(server);
		await addMember(server, owner, 'developer', 'Dana Dev');
		const token = await apiToken(server, owner);
		await request(server, 'POST', `/api/v1/tenants/${owner.tenant.id}/invitations`, { ...bearer(token), json: { email: 'p@example.com', role: 'operator' } });
		await request(server, 'POST', `/api/v1/tenants/${owner.tenant.id}/api-keys`, { ...bearer(token), json: { name: 'ci', role: 'viewer' } });
		await signIn(page, owner);
		const pages = [];
		await page.goto('/members');
		pages.push(['members', await seriousViolations(page)]);
		await page.locator('#invite-email').fill('q@example.com');
		await page.getByRole('button', { name: 'Create invitation link' }).click();
		await expect(page.locator('#secret')).toBeVisible();
		pages.push(['invitation link', await seriousViolations(page)]);
		await page.goto('/settings');
		pages.push(['settings', await seriousViolations(page)]);
		await page.locator('#key-name').fill('deploy');
		await page.getByRole('button', { name: 'Create key' }).click();
		await expect(page.locator('#secret')).toBeVisible();
		pages.push(['new key', await seriousViolations(page)]);
		expect(pages.filter(([, v]) => v.length)).toEqual([]);

		await page.setViewportSize({ width: 375, height: 800 });
		const narrow = async (name) => {
			expect(await noHorizontalScroll(page), `${name} at 375 px`).toBe(true);
			await page.screenshot({ path: testInfo.outputPath(`${name}-375-${scheme}.png`), fullPage: true });
		};
		await page.goto('/members');
		await narrow('members');
		await page.goto('/settings');
		await narrow('settings');
		await page.locator('#key-name').fill('a-rather-long-key-name-for-a-narrow-screen');
		await page.getByRole('button', { name: 'Create key' }).click();
		await expect(page.locator('#secret')).toHaveValue(/^plx_/);
		await narrow('api-key-shown-once');
	});
}
