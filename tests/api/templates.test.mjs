// Dashboard templates (issue 6): compiled at start-up, so a broken one stops `serve` with one
// line naming its file and line; with --dev they are read from disk on every request.
import test, { describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { assertNoSanitizerReport, repoRoot, request, runParallax, startServer, tmpDir } from './helpers/server.mjs';

async function devTree() {
	const dir = await tmpDir('parallax-templates-');
	await mkdir(path.join(dir, 'static'), { recursive: true });
	await cp(path.join(repoRoot, 'templates'), path.join(dir, 'templates'), { recursive: true });
	return dir;
}

describe('templates', () => {
	const dirs = [];
	after(async () => {
		for (const d of dirs) await rm(d, { recursive: true, force: true });
	});

	test('a broken template stops serve with one line naming the file and line', async () => {
		const dir = await devTree();
		dirs.push(dir);
		await writeFile(path.join(dir, 'templates', 'broken.html'), '<p>\nfine {{x}}\n<a onclick="go({{x}})">no</a>\n');
		const r = await runParallax(['serve', '--port', '0', '--data', path.join(dir, 'data'), '--dev', '--dev-dir', dir]);
		assertNoSanitizerReport(r.stderr);
		assert.notEqual(r.code, 0, `serve started with a broken template: ${r.stderr}`);
		const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
		assert.equal(lines.length, 1, r.stderr);
		assert.match(lines[0], /templates\/broken\.html:3: .*event handler/);
		// an unclosed section, a missing partial: each named with its line
		await writeFile(path.join(dir, 'templates', 'broken.html'), 'a\nb\n{{#items}}\n');
		const r2 = await runParallax(['serve', '--port', '0', '--data', path.join(dir, 'data'), '--dev', '--dev-dir', dir]);
		assert.notEqual(r2.code, 0);
		assert.match(r2.stderr, /templates\/broken\.html:\d+: the section 'items' is not closed/);
		await writeFile(path.join(dir, 'templates', 'broken.html'), '\n{{>partials/none}}\n');
		const r3 = await runParallax(['serve', '--port', '0', '--data', path.join(dir, 'data'), '--dev', '--dev-dir', dir]);
		assert.notEqual(r3.code, 0);
		assert.match(r3.stderr, /templates\/broken\.html:2: no template 'partials\/none'/);
	});

	test('--dev reads the templates from disk on every request (live editing)', async () => {
		const dir = await devTree();
		dirs.push(dir);
		const server = await startServer({ args: ['--dev', '--dev-dir', dir] });
		try {
			const first = await request(server, 'GET', server.setupUrl.replace(/^https?:\/\/[^/]+/, ''));
			assert.equal(first.status, 200);
			assert.match(first.text, /Welcome to Parallax/);
			const file = path.join(dir, 'templates', 'setup.html');
			await writeFile(file, (await readFile(file, 'utf8')).replace('Welcome to Parallax', 'Edited live'));
			const second = await request(server, 'GET', server.setupUrl.replace(/^https?:\/\/[^/]+/, ''));
			assert.equal(second.status, 200);
			assert.match(second.text, /Edited live/);
			// static files too
			await mkdir(path.join(dir, 'static', 'css'), { recursive: true });
			await writeFile(path.join(dir, 'static', 'css', 'dev.css'), 'body { color: red }');
			const css = await request(server, 'GET', '/static/css/dev.css');
			assert.equal(css.status, 200);
			assert.equal(css.text, 'body { color: red }');
			assert.match(css.headers['content-type'], /^text\/css/);
			await writeFile(path.join(dir, 'static', 'css', 'dev.css'), 'body { color: blue }');
			assert.equal((await request(server, 'GET', '/static/css/dev.css')).text, 'body { color: blue }');
			assert.equal((await request(server, 'GET', '/static/css/none.css')).status, 404);
			assert.equal((await request(server, 'GET', '/static/../templates/setup.html')).status >= 400, true);
			// broken while running: a 500 naming the file, the server keeps going
			await writeFile(file, '{{#x}}');
			const third = await request(server, 'GET', server.setupUrl.replace(/^https?:\/\/[^/]+/, ''));
			assert.equal(third.status, 500);
			assert.match(third.headers['content-type'], /^text\/plain/);
			assert.match(third.text, /^templates\/setup\.html:1: /);
		} finally {
			await server.stop();
		}
	});

	test('the embedded templates serve without --dev', async () => {
		const server = await startServer();
		try {
			const page = await request(server, 'GET', server.setupUrl.replace(/^https?:\/\/[^/]+/, ''));
			assert.equal(page.status, 200);
			assert.match(page.headers['content-type'], /^text\/html/);
			assert.match(page.text, /<form method="post" action="\/setup">/);
			assert.match(page.text, /name="csrf" value="[A-Za-z0-9_-]{20,}"/);
		} finally {
			await server.stop();
		}
	});
});
