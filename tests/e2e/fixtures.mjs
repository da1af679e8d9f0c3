// Playwright fixtures: `server` is a fresh parallax (its own data directory and database,
// so its set-up link is unused, and the spec's `serverArgs`) started with the API suite's
// helper; `baseURL` points at it.
// Teardown stops it and fails the test on a non-zero exit or a sanitizer report.
import { test as base, expect } from '@playwright/test';
import { startServer } from '../api/helpers/server.mjs';

export const test = base.extend({
	// extra `parallax serve` flags for a spec: test.use({ serverArgs: ['--agent-allow', ...] })
	serverArgs: [[], { option: true }],
	server: async ({ serverArgs }, use, testInfo) => {
		const server = await startServer({ args: serverArgs });
		try {
			await use(server);
		} finally {
			try {
				await server.stop();
			} finally {
				await testInfo.attach('server-stderr.log', { body: server.stderr(), contentType: 'text/plain' });
			}
		}
	},
	baseURL: async ({ server }, use) => {
		await use(server.url);
	},
});

export { expect };
