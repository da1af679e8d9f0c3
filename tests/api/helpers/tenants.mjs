// A second tenant on a running server, for cross-tenant tests.
//
// createSecondTenant(server, {name}) -> {tenant, user, workspace, email, password, login}
// creates a tenant and its owner with `parallax admin tenant create` against the server's
// own database (the way an operator adds tenants), then signs the owner in through the API
// (`login` is the /api/v1/auth/login response body).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { binPath, childEnv, strongPassword, post } from './server.mjs';

function dbUrlOf(server) {
	const db = server.db;
	return typeof db === 'string' ? db : db?.url;
}

export async function createSecondTenant(server, opts = {}) {
	const name = opts.name ?? `Other Tenant ${randomBytes(3).toString('hex')}`;
	const email = `owner-${randomBytes(4).toString('hex')}@other.example`;
	const password = strongPassword();
	const args = ['admin', 'tenant', 'create', name, email, 'Otto Other', '--data', server.dataDir,
		'--db', dbUrlOf(server)];
	const out = await new Promise((resolve, reject) => {
		const proc = spawn(binPath, args, { env: childEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
		let stdout = '';
		let stderr = '';
		proc.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
		proc.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
		proc.on('error', reject);
		proc.on('close', (code) => {
			if (code !== 0) reject(new Error(`parallax admin tenant create exited ${code}: ${stderr}`));
			else resolve(stdout);
		});
		proc.stdin.end(`${password}\n`);
	});
	const created = JSON.parse(out.trim().split('\n').pop());
	const res = await post(server, '/api/v1/auth/login', { json: { email, password } });
	if (res.status !== 200) throw new Error(`login of the second tenant's owner: ${res.status} ${res.text}`);
	return { ...created, email, password, login: res.json, token: res.json.access_token };
}
