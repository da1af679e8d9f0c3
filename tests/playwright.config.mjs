// Browser tests: Debian's chromium, headless, two workers (PARALLAX_E2E_WORKERS to change).
// Each test gets a fresh server from the fixtures in e2e/fixtures.mjs (the real binary, as
// in the API suite), so tests are independent of each other.
import { defineConfig } from '@playwright/test';

export default defineConfig({
	testDir: './e2e',
	testMatch: '**/*.spec.mjs',
	outputDir: './e2e/test-results',
	reporter: 'list',
	workers: process.env.PARALLAX_E2E_WORKERS ? Number(process.env.PARALLAX_E2E_WORKERS) : 2,
	fullyParallel: false,
	forbidOnly: !!process.env.CI,
	retries: 0,
	timeout: 60_000,
	expect: { timeout: 5_000 },
	use: {
		headless: true,
		screenshot: 'only-on-failure',
		trace: 'retain-on-failure',
		launchOptions: {
			executablePath: process.env.PARALLAX_CHROMIUM || '/usr/bin/chromium',
			args: [
				'--no-sandbox',
				'--disable-gpu',
				'--disable-quic',
				'--no-first-run',
				'--disable-background-networking',
				'--disable-component-update',
				'--disable-sync',
			],
		},
	},
});
