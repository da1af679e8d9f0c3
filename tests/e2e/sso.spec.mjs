// Single sign-on in the browser (issue 8), against the real OpenID Connect provider of
// tests/idp/idp.mjs: the settings page configures a provider end to end (the secret never
// comes back, a bad issuer is refused with the API's words and changes nothing); a person
// signs in through the provider's own login form from the "Sign in with" button and from
// the work-email form, and lands where they were going with the role their groups map to;
// refused sign-ins leave the reason and no session; SSO required refuses a member's
// password but not the break-glass owner's; axe, 375 px and screenshots in both themes.
//
// The provider must know ${server.url}/sso/callback, so it starts inside each test, after
// the server fixture, and stops in a finally.
import { test, expect } from './fixtures.mjs';
import { noHorizontalScroll, seriousViolations, signIn } from './helpers.mjs';
import { request, setupOwner, sql } from '../api/helpers/server.mjs';
import { inviteMember, login } from '../api/helpers/roles.mjs';
import { startIdp } from '../idp/idp.mjs';

const CLIENT = { client_id: 'parallax-e2e', client_secret: 'an-e2e-client-secret-that-is-long-enough-42' };
const DOMAIN = 'corp.example';
const LABEL = 'Corp SSO';
const HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>';
const USERS = {
	alice: { sub: 'alice-sub', email: `alice@${DOMAIN}`, email_verified: true, name: 'Alice Idp', groups: ['eng'], password: 'alice-pw' },
	bob: { sub: 'bob-sub', email: `bob@${DOMAIN}`, email_verified: false, name: 'Bob Unverified', groups: [], password: 'bob-pw' },
	carol: { sub: 'carol-sub', email: 'carol@elsewhere.example', email_verified: true, name: 'Carol', groups: ['eng'], password: 'carol-pw' },
	dave: { sub: 'dave-sub', email: `dave@${DOMAIN}`, email_verified: true, name: 'Dave Local', groups: ['admins'], password: 'dave-pw' },
};

test.use({ serverArgs: ['--sso-allow-http-loopback', '--agent-allow', '127.0.0.1/32'] });

// The owner (set up through the API), an API token for them, and a provider that knows this
// server's callback. Runs fn and always stops the provider.
async function withIdp(server, fn) {
	const idp = await startIdp({ clients: [{ ...CLIENT, redirect_uris: [`${server.url}/sso/callback`] }], users: Object.values(USERS) });
	try {
		const owner = await setupOwner(server);
		const admin = await login(server, owner.email, owner.password);
		const auth = { headers: { Authorization: `Bearer ${admin.access_token}` } };
		return await fn({ idp, owner, admin, auth, tenant: admin.tenant });
	} finally {
		await idp.stop();
	}
}

// The configuration the browser flows use, PUT through the API (the settings form is tested
// on its own).
async function configure(server, ctx, extra = {}) {
	const res = await request(server, 'PUT', `/api/v1/tenants/${ctx.tenant.id}/sso`, {
		...ctx.auth,
		json: {
			issuer: ctx.idp.issuer,
			client_id: CLIENT.client_id,
			client_secret: CLIENT.client_secret,
			display_name: LABEL,
			allowed_domains: [DOMAIN],
			default_role: 'viewer',
			group_claim: 'groups',
			group_map: { eng: 'developer', admins: 'admin' },
			jit_provisioning: true,
			...extra,
		},
	});
	expect([200, 201], res.text).toContain(res.status);
	return res;
}

const getSso = (server, ctx) => request(server, 'GET', `/api/v1/tenants/${ctx.tenant.id}/sso`, ctx.auth);
const sessionCount = async (server) => Number((await sql(server, 'SELECT COUNT(*) FROM sessions'))[0][0]);

// On the provider's own login form: signs in as user and follows it back to Parallax.
async function providerSignIn(page, idp, user) {
	await expect(page).toHaveURL(new RegExp(`^${idp.issuer}/interaction/`));
	await expect(page.getByRole('heading', { level: 1 })).toHaveText('Sign in to the test identity provider');
	await page.getByLabel('Email').fill(user.email);
	await page.getByLabel('Password').fill(user.password);
	await page.getByRole('button', { name: 'Sign in' }).click();
}

// The work-email form: the sign-in page finds the organization by the email's domain and
// offers its provider (a link: the page's CSP lets no form redirect to another origin).
async function continueWithEmail(page, email, label = LABEL) {
	await page.getByLabel('Work email for single sign-on').fill(email);
	await page.getByRole('button', { name: 'Continue with single sign-on' }).click();
	await expect(page).toHaveURL(/\/login\?(.*&)?sso_email=/);
	await expect(page.locator('.sso-login .hint')).toContainText(`Single sign-on for ${email}`);
	const link = page.getByRole('link', { name: `Sign in with ${label}` });
	await expect(link).toBeFocused();
	await link.click();
}

// No session in this browser: the dashboard sends it to the sign-in page.
async function expectSignedOut(page) {
	await page.goto('/');
	await expect(page).toHaveURL(/\/login(\?|$)/);
	await expect(page.getByRole('button', { name: 'Sign out' })).toHaveCount(0);
}

async function signOut(page) {
	await page.getByRole('button', { name: 'Sign out' }).click();
	await expect(page).toHaveURL(/\/login$/);
}

// The settings page's SSO form, as the owner fills it.
function ssoForm(page) {
	const f = page.locator('#sso-form');
	return {
		form: f,
		issuer: f.getByLabel('Issuer URL'),
		label: f.getByLabel('Button label'),
		client: f.getByLabel('Client id'),
		secret: f.getByLabel('Client secret'),
		domains: f.getByLabel('Allowed email domains'),
		role: f.getByLabel('Default role'),
		claim: f.getByLabel('Group claim'),
		map: f.getByLabel('Groups to roles'),
		glass: f.getByLabel('Break-glass owner', { exact: true }),
		enabled: f.getByLabel('Single sign-on is on'),
		jit: f.getByLabel(/Add people on their first sign-in/),
		required: f.getByLabel(/Require single sign-on/),
		save: f.getByRole('button', { name: 'Save single sign-on' }),
	};
}

test('the settings page configures single sign-on end to end; a bad issuer changes nothing', async ({ page, server }, testInfo) => {
	await withIdp(server, async (ctx) => {
		expect((await getSso(server, ctx)).status).toBe(404);
		await signIn(page, ctx.owner);
		await page.goto('/settings#sso');
		const sso = page.locator('#sso');
		await expect(sso.locator('#sso-status')).toHaveText(/Not configured/);
		await expect(sso.locator('#sso-redirect')).toHaveText(`${server.url}/sso/callback`);
		await expect(sso.getByRole('button', { name: 'Remove single sign-on' })).toHaveCount(0);

		const f = ssoForm(page);
		await expect(f.enabled).toBeChecked(); // a new configuration is on unless unticked
		await f.issuer.fill(ctx.idp.issuer);
		await f.client.fill(CLIENT.client_id);
		await f.secret.fill(CLIENT.client_secret);
		await f.label.fill(LABEL);
		await f.domains.fill(DOMAIN);
		await f.role.selectOption('viewer');
		await f.claim.fill('groups');
		await f.map.fill('eng = developer');
		await f.jit.check();
		await f.save.click();

		await expect(page).toHaveURL(/\/settings#sso$/);
		await expect(page.locator('#flash')).toHaveText('Single sign-on saved.');
		await expect(sso.locator('#sso-status .badge')).toHaveText('on');
		await expect(sso.locator('#sso-status')).toContainText(`Members sign in with ${ctx.idp.issuer}`);
		// write-only: the secret is nowhere in the page, its field is empty and says it is set
		expect(await page.content()).not.toContain(CLIENT.client_secret);
		await expect(f.secret).toHaveValue('');
		await expect(page.locator('#sso-secret-hint')).toHaveText(/^Set \(never shown\)/);
		// the form shows what was stored
		await expect(f.issuer).toHaveValue(ctx.idp.issuer);
		await expect(f.client).toHaveValue(CLIENT.client_id);
		await expect(f.label).toHaveValue(LABEL);
		await expect(f.domains).toHaveValue(DOMAIN);
		await expect(f.role).toHaveValue('viewer');
		await expect(f.claim).toHaveValue('groups');
		await expect(f.map).toHaveValue('eng = developer\n');
		await expect(f.jit).toBeChecked();
		await expect(f.required).not.toBeChecked();
		await sso.screenshot({ path: testInfo.outputPath('settings-sso.png') });

		const saved = await getSso(server, ctx);
		expect(saved.status).toBe(200);
		expect(saved.json).toMatchObject({
			enabled: true,
			issuer: ctx.idp.issuer,
			client_id: CLIENT.client_id,
			client_secret_set: true,
			display_name: LABEL,
			allowed_domains: [DOMAIN],
			default_role: 'viewer',
			group_claim: 'groups',
			group_map: { eng: 'developer' },
			jit_provisioning: true,
			sso_required: false,
		});
		expect(saved.text).not.toContain(CLIENT.client_secret);

		// a provider that is not there: the API's own refusal, word for word, and no change
		const BAD = 'http://127.0.0.1:9';
		const api = await request(server, 'PUT', `/api/v1/tenants/${ctx.tenant.id}/sso`, {
			...ctx.auth,
			json: { issuer: BAD, client_id: CLIENT.client_id, client_secret: CLIENT.client_secret },
		});
		expect(api.status, api.text).toBe(422);
		expect(api.json.error.field).toBe('issuer');
		await f.issuer.fill(BAD);
		await f.secret.fill(CLIENT.client_secret);
		await f.save.click();
		await expect(page.locator('#flash')).toHaveAttribute('role', 'alert');
		await expect(page.locator('#flash')).toHaveText(`issuer: ${api.json.error.message}`);
		await expect(f.issuer).toHaveValue(ctx.idp.issuer);
		await expect(sso.locator('#sso-status .badge')).toHaveText('on');
		expect((await getSso(server, ctx)).json).toEqual(saved.json);
	});
});

test('browser sign-in through the provider: from the button and from the work-email form', async ({ page, server }, testInfo) => {
	await withIdp(server, async (ctx) => {
		await configure(server, ctx);
		// dave already has a password account (an invited viewer); the provider vouches for his email
		await inviteMember(server, ctx.admin.access_token, ctx.tenant.id, 'viewer', { email: USERS.dave.email, login: false });
		const workspaces = await request(server, 'GET', '/api/v1/workspaces', ctx.auth);
		const home = workspaces.json.items.find((w) => w.is_default);
		expect(home, workspaces.text).toBeTruthy();

		// the owner was signed in, and signs out
		await signIn(page, ctx.owner);
		await signOut(page);

		// a protected page while signed out -> the sign-in page keeps next= for SSO too
		await page.goto('/patterns');
		await expect(page).toHaveURL(/\/login\?next=(%2F|\/)patterns$/);
		await expect(page.locator('#sso-email-form input[name="next"]')).toHaveValue('/patterns');
		await continueWithEmail(page, USERS.alice.email);
		await providerSignIn(page, ctx.idp, USERS.alice);
		await expect(page).toHaveURL(`${server.url}/patterns`);
		await expect(page.getByRole('heading', { level: 1 })).toHaveText('Patterns');
		await expect(page.locator('#role')).toHaveText('developer'); // eng = developer
		await expect(page.locator('.who')).toContainText(USERS.alice.name);
		await expect(page.locator('.tenant')).toHaveText(ctx.tenant.name);
		// provisioned into the default workspace, which the shell's switcher names
		await expect(page.locator('#ws-current')).toHaveText(home.name);
		const me = await page.request.get('/api/v1/auth/me');
		expect(me.status()).toBe(200);
		expect((await me.json()).user.email).toBe(USERS.alice.email);
		const mine = await (await page.request.get('/api/v1/workspaces')).json();
		expect(mine.items.map((w) => w.name)).toEqual([home.name]);
		await page.screenshot({ path: testInfo.outputPath('sso-landed.png'), fullPage: true });
		await signOut(page);
		await expectSignedOut(page);

		// the organization's link: "Sign in with Corp SSO", as dave (an existing account, linked)
		await page.context().clearCookies(); // the provider's own session too: its form again
		await page.goto(`/login?tenant=${encodeURIComponent(ctx.tenant.slug)}&next=%2Fexecutions`);
		await expect(page.locator('#sso-email-form')).toHaveCount(0);
		const button = page.getByRole('link', { name: `Sign in with ${LABEL}` });
		await expect(button).toHaveAttribute('href', `/sso/start?tenant=${ctx.tenant.slug}&next=%2Fexecutions`);
		await button.click();
		await providerSignIn(page, ctx.idp, USERS.dave);
		await expect(page).toHaveURL(`${server.url}/executions`);
		await expect(page.locator('#role')).toHaveText('admin'); // admins = admin, over his viewer invitation
		await expect(page.locator('.who')).toContainText('Member viewer'); // his own account, not a new one
		const linked = await sql(server, `SELECT COUNT(*) FROM users WHERE email = '${USERS.dave.email}'`);
		expect(linked).toEqual([['1']]);
		// an admin now: the settings link is in the shell
		await expect(page.getByRole('link', { name: 'Settings' })).toBeVisible();
	});
});

test('a refused sign-in lands on the sign-in page with the reason and no session', async ({ page, server }) => {
	await withIdp(server, async (ctx) => {
		await configure(server, ctx);
		// bob has a password account; the provider does not vouch for his email
		await inviteMember(server, ctx.admin.access_token, ctx.tenant.id, 'developer', { email: USERS.bob.email, login: false });
		const before = await sessionCount(server);

		// carol's domain is not one the organization allows
		await page.goto(`/login?tenant=${encodeURIComponent(ctx.tenant.slug)}`);
		await page.getByRole('link', { name: `Sign in with ${LABEL}` }).click();
		await providerSignIn(page, ctx.idp, USERS.carol);
		await expect(page).toHaveURL(/\/sso\/callback\?/);
		await expect(page.getByRole('heading', { level: 1 })).toHaveText('Sign in to Parallax');
		await expect(page.getByRole('alert')).toHaveText("Your email's domain is not one this organization signs in with.");
		await expect(page.getByLabel('Password')).toBeVisible(); // the password form is still there
		await expectSignedOut(page);

		// bob, through the email form: an unverified email never takes over an account
		await page.context().clearCookies();
		await page.goto('/login');
		await continueWithEmail(page, USERS.bob.email);
		await providerSignIn(page, ctx.idp, USERS.bob);
		await expect(page.getByRole('alert')).toContainText('has not verified that the email is yours');
		await expectSignedOut(page);

		// an email domain no organization uses says so, and keeps what was typed
		await page.getByLabel('Work email for single sign-on').fill('someone@nowhere.example');
		await page.getByRole('button', { name: 'Continue with single sign-on' }).click();
		await expect(page.getByRole('alert')).toHaveText("Single sign-on is not set up for this email's domain. Sign in with your password.");
		await expect(page.getByLabel('Work email for single sign-on')).toHaveValue('someone@nowhere.example');
		await expect(page.getByRole('link', { name: /^Sign in with/ })).toHaveCount(0);
		// and so does a direct link to the provider's start
		await page.goto('/sso/start?email=someone%40nowhere.example');
		await expect(page.getByRole('alert')).toHaveText(/not set up for this organization or email domain/);

		expect(await sessionCount(server)).toBe(before);
		expect(await sql(server, `SELECT COUNT(*) FROM users WHERE email = '${USERS.carol.email}'`)).toEqual([['0']]);
		expect(await sql(server, `SELECT COUNT(*) FROM user_identities`)).toEqual([['0']]);
	});
});

test("SSO required: a member's password is refused, the break-glass owner's still works", async ({ page, server }) => {
	await withIdp(server, async (ctx) => {
		await configure(server, ctx);
		const member = await inviteMember(server, ctx.admin.access_token, ctx.tenant.id, 'developer', { login: false });
		await signIn(page, ctx.owner);
		await page.goto('/settings#sso');
		const f = ssoForm(page);

		// required without a break-glass owner: the API refuses, nothing changes
		await f.required.check();
		await f.save.click();
		await expect(page.locator('#flash')).toHaveAttribute('role', 'alert');
		await expect(page.locator('#flash')).toHaveText(/^break_glass_user_id: /);
		expect((await getSso(server, ctx)).json.sso_required).toBe(false);

		// only owners are offered; the owner picks themselves
		await expect(f.glass.locator('option')).toHaveText(['none', ctx.owner.email]);
		await f.required.check();
		await f.glass.selectOption({ label: ctx.owner.email });
		await f.save.click(); // the secret field left empty: the stored secret is kept
		await expect(page.locator('#flash')).toHaveText('Single sign-on saved.');
		await expect(page.locator('#sso-status')).toContainText('passwords are refused, except for the break-glass owner');
		await expect(f.required).toBeChecked();
		await expect(f.glass).toHaveValue(ctx.owner.user.id);
		const saved = (await getSso(server, ctx)).json;
		expect(saved).toMatchObject({ sso_required: true, break_glass_user_id: ctx.owner.user.id, client_secret_set: true });
		await signOut(page);

		// the member's password: refused on the sign-in page, with the way in
		await page.goto('/login');
		await page.locator('input[name="email"]').fill(member.email);
		await page.locator('input[name="password"]').fill(member.password);
		await page.getByRole('button', { name: 'Sign in', exact: true }).click();
		await expect(page.getByRole('alert')).toHaveText(`${ctx.tenant.name} signs in through its identity provider: use single sign-on`);
		await expect(page.getByLabel('Work email for single sign-on')).toBeVisible();
		await expect(page.locator('input[name="email"]')).toHaveValue(member.email);
		await expectSignedOut(page);

		// the break-glass owner's password still opens the dashboard
		await signIn(page, ctx.owner);
		await expect(page.locator('#role')).toHaveText('owner');
	});
});

for (const scheme of ['light', 'dark']) {
	test(`axe, 375 px and screenshots: the sign-in page with SSO and the settings section (${scheme})`, async ({ page, server }, testInfo) => {
		const dialogs = [];
		page.on('dialog', (d) => {
			dialogs.push(d.message());
			d.dismiss();
		});
		await page.emulateMedia({ colorScheme: scheme });
		await withIdp(server, async (ctx) => {
			// hostile text where an admin types: the button label and a group name
			await configure(server, ctx, { display_name: HOSTILE, group_map: { [HOSTILE]: 'developer', eng: 'developer' } });
			const check = async (what, shot) => {
				expect(await seriousViolations(page), `${what} (${scheme})`).toEqual([]);
				await page.screenshot({ path: testInfo.outputPath(`${shot}-${scheme}.png`), fullPage: true });
				await page.setViewportSize({ width: 375, height: 812 });
				await noHorizontalScroll(page, `${what} at 375 px (${scheme})`);
				await page.screenshot({ path: testInfo.outputPath(`${shot}-375-${scheme}.png`), fullPage: true });
				await page.setViewportSize({ width: 1280, height: 800 });
			};

			await page.goto(`/login?tenant=${encodeURIComponent(ctx.tenant.slug)}`);
			await expect(page.getByRole('link', { name: `Sign in with ${HOSTILE}` })).toBeVisible();
			await check('sign-in page with the SSO button', 'login-sso');

			await page.goto('/login');
			await expect(page.getByLabel('Work email for single sign-on')).toBeVisible();
			await check('sign-in page with the work-email form', 'login-sso-email');

			// the organization found by a hostile-looking email: text, in the page and the link
			const odd = `"><img src=x onerror=alert(3)>@${DOMAIN}`;
			await page.goto(`/login?sso_email=${encodeURIComponent(odd)}&next=%2Fpatterns`);
			await expect(page.locator('.sso-login .hint strong')).toHaveText(odd);
			await expect(page.locator('#sso-tenant')).toHaveAttribute('href', `/sso/start?email=${encodeURIComponent(odd).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}&next=%2Fpatterns`);
			await check('sign-in page with the provider found by email', 'login-sso-found');

			// a refusal: the reason on the sign-in page
			await page.goto('/sso/start?email=someone%40nowhere.example');
			await expect(page.getByRole('alert')).toBeVisible();
			await check('sign-in page with an SSO refusal', 'login-sso-refused');

			await signIn(page, ctx.owner);
			await page.goto('/settings#sso');
			const f = ssoForm(page);
			await expect(f.label).toHaveValue(HOSTILE);
			await expect(f.map).toHaveValue(`${HOSTILE} = developer\neng = developer\n`);
			await check('settings with single sign-on', 'settings-sso');
		});
		expect(dialogs).toEqual([]);
	});
}
