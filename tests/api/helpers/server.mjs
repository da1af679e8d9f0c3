// Starts and stops the real parallax binary for the API and browser suites.
//
// startServer() runs `parallax serve --port 0 --bind 127.0.0.1 --data <tmp> --db <url>`,
// waits for the "listening on" line (and, on an empty database, the set-up link) and
// returns {url, setupToken, setupUrl, dataDir, db, proc, stdout(), stderr(), stop()}.
// stop() sends SIGTERM and fails if the exit is not a clean 0 or if stderr carries a
// sanitizer report. The backend comes from PARALLAX_TEST_DB (sqlite | postgres); for
// postgres every server gets a database of its own on PARALLAX_TEST_PG_URL, dropped in stop().
import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { get, post } from './http.mjs';

export * from './http.mjs';

const execFileP = promisify(execFile);

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const binPath = process.env.PARALLAX_BIN
	? path.resolve(repoRoot, process.env.PARALLAX_BIN)
	: path.join(repoRoot, 'build/asan/parallax');
export const backend = process.env.PARALLAX_TEST_DB || 'sqlite';
if (!['sqlite', 'postgres'].includes(backend)) {
	throw new Error(`PARALLAX_TEST_DB must be sqlite or postgres, not ${JSON.stringify(backend)}`);
}

// What a sanitizer (or glibc) prints when it catches something.
export const SANITIZER_RE =
	/ERROR: (?:Address|Leak|Memory|Thread)Sanitizer|UndefinedBehaviorSanitizer|runtime error:|AddressSanitizer:DEADLYSIGNAL|\*\*\* stack smashing detected|double free or corruption|malloc\(\): /;

const DEFAULT_ASAN = 'detect_leaks=1:abort_on_error=0:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1';
const DEFAULT_UBSAN = 'halt_on_error=1:print_stacktrace=1';

// The environment for a child: ours without PARALLAX_* (so a developer's settings never
// leak into a test), sanitizer options, and `extra`.
export function childEnv(extra = {}) {
	const env = {};
	for (const [k, v] of Object.entries(process.env)) {
		if (!k.startsWith('PARALLAX_')) env[k] = v;
	}
	env.ASAN_OPTIONS ??= DEFAULT_ASAN;
	env.UBSAN_OPTIONS ??= DEFAULT_UBSAN;
	return { ...env, ...extra };
}

export function tmpDir(prefix = 'parallax-test-') {
	return mkdtemp(path.join(os.tmpdir(), prefix));
}

function pgAdminUrl() {
	const url = process.env.PARALLAX_TEST_PG_URL;
	if (!url) throw new Error('PARALLAX_TEST_DB=postgres needs PARALLAX_TEST_PG_URL (scripts/test starts one with scripts/pg-temp)');
	return url;
}

async function psql(sql) {
	try {
		await execFileP('psql', [pgAdminUrl(), '-v', 'ON_ERROR_STOP=1', '-qAtX', '-c', sql], { timeout: 30000 });
	} catch (e) {
		throw new Error(`psql ${JSON.stringify(sql)} failed: ${e.stderr || e.message}`);
	}
}

// A fresh database for one server: {url, name, drop()}; for sqlite, a file in dataDir.
export async function createDatabase(dataDir) {
	if (backend === 'sqlite') {
		return { url: `sqlite://${path.join(dataDir, 'parallax.db')}`, name: null, drop: async () => {} };
	}
	const name = `t_${randomBytes(6).toString('hex')}`;
	await psql(`CREATE DATABASE ${name}`);
	const u = new URL(pgAdminUrl());
	u.pathname = `/${name}`;
	return { url: u.toString(), name, drop: () => psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

// Runs a parallax command to completion: {code, signal, stdout, stderr}.
export function runParallax(args, opts = {}) {
	const timeoutMs = opts.timeoutMs ?? 30000;
	return new Promise((resolve, reject) => {
		const proc = spawn(binPath, args, { env: childEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'], cwd: opts.cwd });
		let stdout = '';
		let stderr = '';
		proc.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
		proc.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
		const timer = setTimeout(() => {
			proc.kill('SIGKILL');
			reject(new Error(`parallax ${args.join(' ')}: still running after ${timeoutMs} ms\nstderr:\n${stderr}`));
		}, timeoutMs);
		proc.on('error', (e) => {
			clearTimeout(timer);
			reject(new Error(`cannot run ${binPath}: ${e.message} (build it, or set PARALLAX_BIN)`));
		});
		proc.on('close', (code, signal) => {
			clearTimeout(timer);
			resolve({ code, signal, stdout, stderr });
		});
	});
}

// Throws if a sanitizer report is in `stderr`.
export function assertNoSanitizerReport(stderr, what = 'parallax') {
	const m = SANITIZER_RE.exec(stderr);
	if (m) {
		const from = Math.max(0, m.index - 200);
		throw new Error(`${what}: sanitizer report on stderr:\n${stderr.slice(from, from + 6000)}`);
	}
}

const live = new Set();
process.on('exit', () => {
	for (const p of live) p.kill('SIGKILL');
});

function tail(s, n = 4000) {
	return s.length > n ? `...${s.slice(-n)}` : s;
}

// startServer({args, env, port, dataDir, db, expectSetup, timeoutMs})
//  - port: passed as --port (default 0: any free port); null passes no --port at all.
//  - dataDir/db: reuse an existing data directory / database (e.g. for a restart); by
//    default both are new and removed by stop().
//  - expectSetup: wait for the set-up link too (default: true when the database is new).
export async function startServer(opts = {}) {
	const ownsDir = !opts.dataDir;
	const dataDir = opts.dataDir || (await tmpDir());
	const ownsDb = !opts.db;
	const db = opts.db || (await createDatabase(dataDir));
	const expectSetup = opts.expectSetup ?? ownsDb;
	const timeoutMs = opts.timeoutMs ?? 20000;
	const port = opts.port === undefined ? 0 : opts.port;
	const args = ['serve', ...(port === null ? [] : ['--port', String(port)]), '--bind', '127.0.0.1', '--data', dataDir, '--db', db.url, ...(opts.args || [])];

	const proc = spawn(binPath, args, { env: childEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
	live.add(proc);
	let stdout = '';
	let stderr = '';
	let exited = null;
	const exitPromise = new Promise((resolve) => {
		// 'close' (not 'exit'): stdio is drained, so a report printed at exit is in stderr.
		proc.on('close', (code, signal) => {
			exited = { code, signal };
			live.delete(proc);
			resolve(exited);
		});
	});
	proc.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));

	const server = {
		url: null,
		port: null,
		setupToken: null,
		setupUrl: null,
		dataDir,
		db,
		proc,
		args,
		stdout: () => stdout,
		stderr: () => stderr,
		exited: () => exited,
		stop,
	};

	let stopped = false;
	async function stop({ signal = 'SIGTERM', timeoutMs: stopTimeout = 15000, keepData = false } = {}) {
		if (stopped) return exited;
		stopped = true;
		const problems = [];
		if (!exited) {
			proc.kill(signal);
			const timer = setTimeout(() => proc.kill('SIGKILL'), stopTimeout);
			await exitPromise;
			clearTimeout(timer);
			if (exited.signal === 'SIGKILL') problems.push(`did not exit within ${stopTimeout} ms of ${signal}`);
		} else {
			problems.push('had already exited before stop()');
		}
		if (!problems.length && (exited.code !== 0 || exited.signal)) {
			problems.push(`exited with code ${exited.code}${exited.signal ? ` signal ${exited.signal}` : ''}`);
		}
		if (SANITIZER_RE.test(stderr)) problems.push('printed a sanitizer report');
		if (!keepData) {
			if (ownsDb) await db.drop().catch((e) => problems.push(String(e.message)));
			if (ownsDir) await rm(dataDir, { recursive: true, force: true });
		}
		if (problems.length) {
			const m = SANITIZER_RE.exec(stderr);
			const report = m ? stderr.slice(Math.max(0, m.index - 200), m.index + 8000) : tail(stderr);
			throw new Error(`parallax serve ${problems.join('; ')}\nstderr:\n${report}`);
		}
		return exited;
	}

	try {
		await new Promise((resolve, reject) => {
			const timers = [];
			const finish = (err) => {
				for (const t of timers) clearTimeout(t);
				if (err) reject(err);
				else resolve();
			};
			const timeout = (ms) =>
				setTimeout(
					() =>
						finish(
							new Error(
								`parallax serve did not print ${server.url ? 'the set-up link (/setup?token=...)' : '"listening on http://..."'} within ${ms} ms` +
									`\nargs: ${args.join(' ')}\nstdout:\n${tail(stdout)}\nstderr:\n${tail(stderr)}`,
							),
						),
					ms,
				);
			timers.push(timeout(timeoutMs));
			const check = () => {
				const l = /listening on (http:\/\/[^\s/]+)/.exec(stdout);
				if (l && !server.url) {
					server.url = l[1];
					server.port = Number(new URL(l[1]).port);
					// The set-up link follows the listening line closely: don't wait long for it.
					if (expectSetup) timers.push(timeout(5000));
				}
				const s = /(https?:\/\/\S+\/setup\?token=([A-Za-z0-9._~%-]+))/.exec(stdout);
				if (s && !server.setupToken) {
					server.setupUrl = s[1];
					server.setupToken = decodeURIComponent(s[2]);
				}
				if (server.url && (!expectSetup || server.setupToken)) finish();
			};
			proc.stdout.setEncoding('utf8').on('data', (d) => {
				stdout += d;
				check();
			});
			proc.on('error', (e) => finish(new Error(`cannot start ${binPath}: ${e.message} (build it, or set PARALLAX_BIN)`)));
			exitPromise.then(({ code, signal }) =>
				finish(
					new Error(
						`parallax serve exited (code ${code}, signal ${signal}) before it was ready` +
							`\nargs: ${args.join(' ')}\nstdout:\n${tail(stdout)}\nstderr:\n${tail(stderr)}`,
					),
				),
			);
		});
	} catch (e) {
		if (!exited) proc.kill('SIGKILL');
		await exitPromise;
		if (ownsDb) await db.drop().catch(() => {});
		if (ownsDir) await rm(dataDir, { recursive: true, force: true });
		throw e;
	}
	return server;
}

// A strong password that no common-password list holds.
export function strongPassword() {
	return `Px-${randomBytes(12).toString('base64url')}-9`;
}

// Creates the first tenant, workspace and owner through POST /api/v1/setup.
// Returns {tenant, user, workspace, email, password, response}; throws unless 201.
export async function setupOwner(server, fields = {}) {
	if (!server.setupToken) throw new Error('setupOwner: this server printed no set-up token');
	const body = {
		token: server.setupToken,
		tenant_name: 'Acme Test',
		name: 'Olive Owner',
		email: `owner-${randomBytes(4).toString('hex')}@example.com`,
		password: strongPassword(),
		...fields,
	};
	const res = await post(server, '/api/v1/setup', { json: body });
	if (res.status !== 201) {
		throw new Error(`setupOwner: POST /api/v1/setup answered ${res.status}: ${res.text}`);
	}
	return { ...res.json, email: body.email, password: body.password, response: res };
}

// Resolves when GET /health/live answers 200 (or throws after timeoutMs).
export async function waitLive(server, timeoutMs = 10000) {
	const until = Date.now() + timeoutMs;
	let last;
	while (Date.now() < until) {
		try {
			const r = await get(server, '/health/live', { timeoutMs: 2000 });
			if (r.status === 200) return r;
			last = `status ${r.status}`;
		} catch (e) {
			last = e.message;
		}
		await new Promise((r) => setTimeout(r, 100));
	}
	throw new Error(`/health/live not 200 within ${timeoutMs} ms (${last})`);
}

// Runs SQL directly on a server's database (sqlite3 CLI or psql) and returns the output
// rows as arrays of strings (|-separated). For tests that must reach past the API: an
// expiry in the past, or proof that a row is unchanged.
export async function sql(server, text) {
	const args =
		backend === 'sqlite'
			? ['-bail', '-cmd', '.timeout 5000', server.db.url.slice('sqlite://'.length), text]
			: [server.db.url, '-v', 'ON_ERROR_STOP=1', '-qAtX', '-c', text];
	try {
		const { stdout } = await execFileP(backend === 'sqlite' ? 'sqlite3' : 'psql', args, { timeout: 30000 });
		return stdout.split('\n').filter((l) => l !== '').map((l) => l.split('|'));
	} catch (e) {
		throw new Error(`sql ${JSON.stringify(text)} failed: ${e.stderr || e.message}`);
	}
}
